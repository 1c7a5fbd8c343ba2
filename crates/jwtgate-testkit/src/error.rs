//! One error type for the whole kit (and for xtask's tasks, which re-export
//! it): a message for a human, nothing more. A test that meets one has a
//! broken fixture, not a case to match on.

use std::fmt;

/// Something failed; the message says what and, where it helps, what to do.
#[derive(Debug)]
pub struct Error(String);

impl Error {
    /// An error with the given message.
    pub fn msg(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// Adds "while doing X" context to any displayable error.
pub trait Context<T> {
    /// Wraps the error with `what` in front of it.
    ///
    /// # Errors
    ///
    /// The original error, with context, if `self` is an error.
    fn context(self, what: impl FnOnce() -> String) -> Result<T, Error>;
}

impl<T, E: fmt::Display> Context<T> for Result<T, E> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, Error> {
        self.map_err(|e| Error(format!("{}: {e}", what())))
    }
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
