//! Why the command could not give a verdict, and the exit code that says so.

use std::fmt;

/// A failure that is not a verdict on the token.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad flags, an unreadable or invalid key file, an impossible policy:
    /// exit 2.
    Config(String),
    /// The key source (a JWKS URL or an issuer) could not be reached or
    /// served nothing usable: exit 3, the same token may verify later.
    Unavailable(String),
    /// The revocation store could not be reached (`revoke`,
    /// `revocations`): exit 3. A write may or may not have landed (an
    /// answer lost after the store applied it); writes are idempotent, so
    /// running the command again is safe.
    StoreUnavailable(String),
}

impl Failure {
    /// A configuration failure with the cause chain of `error`.
    pub(crate) fn config(context: impl fmt::Display, error: &dyn std::error::Error) -> Self {
        Self::Config(format!("{context}: {}", chain(error)))
    }

    /// An unavailable key source with the cause chain of `error`.
    pub(crate) fn unavailable(context: impl fmt::Display, error: &dyn std::error::Error) -> Self {
        Self::Unavailable(format!("{context}: {}", chain(error)))
    }

    /// An unreachable revocation store with the cause chain of `error`.
    pub(crate) fn store_unavailable(context: impl fmt::Display, error: &dyn std::error::Error) -> Self {
        Self::StoreUnavailable(format!("{context}: {}", chain(error)))
    }

    pub(crate) const fn exit_code(&self) -> u8 {
        match self {
            Self::Config(_) => 2,
            Self::Unavailable(_) | Self::StoreUnavailable(_) => 3,
        }
    }

    /// The code in `--json` output: the library's own code for an
    /// unavailable key source, `store_unavailable` for the revocation
    /// store, `configuration` otherwise.
    pub(crate) const fn code(&self) -> &'static str {
        match self {
            Self::Config(_) => "configuration",
            Self::Unavailable(_) => "key_source_unavailable",
            Self::StoreUnavailable(_) => "store_unavailable",
        }
    }

    pub(crate) fn message(&self) -> &str {
        match self {
            Self::Config(m) | Self::Unavailable(m) | Self::StoreUnavailable(m) => m,
        }
    }
}

/// `error: cause: cause ...`, the way operators read a chain on one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        // reqwest repeats its inner message in its own; skip repeats.
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}
