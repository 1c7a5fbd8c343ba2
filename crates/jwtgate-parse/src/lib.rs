#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![warn(clippy::std_instead_of_core, clippy::alloc_instead_of_core)]

pub mod base64url;
mod claims;
mod error;
mod header;
mod json;
mod json_str;
mod name;
mod numeric_date;
mod object;
mod rebase;
mod str_list;
mod swar;
mod token;

pub use claims::Claims;
pub use error::Error;
pub use header::Header;
pub use json::{Elements, Members, RawValue, ValueKind};
pub use json_str::{Chars, JsonStr};
pub use numeric_date::NumericDate;
pub use object::MAX_TOP_LEVEL_MEMBERS;
pub use rebase::{DetachedClaims, DetachedHeader, MAX_DETACHED_LEN};
pub use str_list::{StrList, StrListIter};
pub use token::Token;

/// Default maximum token size in bytes: 8 KiB, the common limit for a whole
/// HTTP header line, and well above any real access token (2-3 KiB with an
/// RSA-4096 signature and generous claims).
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Default JSON nesting limit. Standard claims are flat; 32 leaves ample room
/// for structured custom claims while bounding recursion.
pub const DEFAULT_MAX_DEPTH: usize = 32;

/// The hard ceiling on [`Limits::with_max_depth`]: the scanner recurses once
/// per level, so this bounds its stack use whatever the configuration.
pub const MAX_DEPTH_CEILING: usize = 128;

/// Scratch space needed to parse any token of up to `max_token_bytes`.
///
/// Decoded base64url is at most three quarters of its input, so a buffer of
/// this size never yields [`Error::BufferTooSmall`] for a token within the
/// limit.
#[must_use]
pub const fn buffer_len_for(max_token_bytes: usize) -> usize {
    max_token_bytes / 4 * 3 + 2
}

/// Scratch space that fits any token within [`DEFAULT_MAX_TOKEN_BYTES`].
pub const DEFAULT_BUFFER_LEN: usize = buffer_len_for(DEFAULT_MAX_TOKEN_BYTES);

/// Bounds on the work the parser does for one token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    max_token_bytes: usize,
    max_depth: usize,
}

impl Limits {
    /// The defaults: [`DEFAULT_MAX_TOKEN_BYTES`] and [`DEFAULT_MAX_DEPTH`].
    #[must_use]
    pub const fn new() -> Self {
        Self { max_token_bytes: DEFAULT_MAX_TOKEN_BYTES, max_depth: DEFAULT_MAX_DEPTH }
    }

    /// Sets the maximum token length in bytes, checked before anything else.
    #[must_use]
    pub const fn with_max_token_bytes(mut self, max: usize) -> Self {
        self.max_token_bytes = max;
        self
    }

    /// Sets the JSON nesting limit (the top-level object is depth 1),
    /// clamped to [`MAX_DEPTH_CEILING`].
    #[must_use]
    pub const fn with_max_depth(mut self, max: usize) -> Self {
        self.max_depth = if max > MAX_DEPTH_CEILING { MAX_DEPTH_CEILING } else { max };
        self
    }

    /// The maximum token length in bytes.
    #[must_use]
    pub const fn max_token_bytes(&self) -> usize {
        self.max_token_bytes
    }

    /// The JSON nesting limit.
    #[must_use]
    pub const fn max_depth(&self) -> usize {
        self.max_depth
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::new()
    }
}

/// Parses a compact JWS with the default [`Limits`].
///
/// `buf` receives the decoded header, payload and signature; a buffer of
/// [`DEFAULT_BUFFER_LEN`] bytes fits every token the default limits accept.
///
/// # Errors
///
/// Any [`Error`] describing the first rule the token breaks.
///
/// # Panics
///
/// Never.
pub fn parse<'a>(token: &'a [u8], buf: &'a mut [u8]) -> Result<Token<'a>, Error> {
    parse_with(token, buf, &Limits::new())
}

/// [`parse`] for a token held as `&str` (an HTTP header value, say).
///
/// # Errors
///
/// As [`parse`].
///
/// # Panics
///
/// Never.
pub fn parse_str<'a>(token: &'a str, buf: &'a mut [u8]) -> Result<Token<'a>, Error> {
    parse(token.as_bytes(), buf)
}

/// Parses a compact JWS with the given [`Limits`].
///
/// # Errors
///
/// Any [`Error`] describing the first rule the token breaks.
///
/// # Panics
///
/// Never.
pub fn parse_with<'a>(token: &'a [u8], buf: &'a mut [u8], limits: &Limits) -> Result<Token<'a>, Error> {
    Token::parse(token, buf, limits)
}
