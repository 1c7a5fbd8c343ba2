//! The one error type of the parser.

use core::fmt;

/// Why a token was refused by the parser.
///
/// Each variant is one distinct failure, so callers (the verifier, the CLI)
/// can map it to a stable rejection code without string matching. The enum
/// is `Copy` and carries no data: nothing from the token ever leaks into an
/// error value or its message.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// The token is longer than the configured maximum.
    TokenTooLarge,
    /// Fewer than three dot-separated parts.
    TooFewParts,
    /// Four, or six or more, dot-separated parts.
    TooManyParts,
    /// Five parts: a JWE (encrypted token), which is not supported.
    Encrypted,
    /// The header part is empty.
    EmptyHeader,
    /// The payload part is empty.
    EmptyPayload,
    /// The signature part is empty (an unsecured JWS is never accepted).
    EmptySignature,
    /// A byte outside the base64url alphabet (padding and whitespace included).
    Base64Alphabet,
    /// A base64url part whose length no canonical encoding can have.
    Base64Length,
    /// The last base64url character carries non-zero unused bits.
    Base64TrailingBits,
    /// The caller's scratch buffer cannot hold the decoded parts.
    BufferTooSmall,
    /// Decoded header or payload is not valid UTF-8.
    InvalidUtf8,
    /// JSON text ended in the middle of a value.
    UnexpectedEnd,
    /// A byte that the JSON grammar does not allow at this position.
    UnexpectedByte,
    /// An unescaped control character (U+0000 to U+001F) inside a JSON string.
    ControlCharInString,
    /// A backslash escape that JSON does not define, or a bad `\u` sequence.
    InvalidEscape,
    /// A `\u` escape that is an unpaired UTF-16 surrogate.
    LoneSurrogate,
    /// A JSON number that does not follow the RFC 8259 grammar.
    InvalidNumber,
    /// Bytes after the end of the top-level JSON value.
    TrailingBytes,
    /// JSON nesting deeper than the configured limit.
    DepthLimit,
    /// The header or the payload is valid JSON but not an object.
    NotAnObject,
    /// A member name appears twice at the top level of the header or claims.
    DuplicateMember,
    /// More top-level members than the parser tracks for duplicate detection.
    TooManyMembers,
    /// The header has no `alg` member.
    MissingAlg,
    /// A registered header parameter has the wrong JSON type.
    HeaderParamType,
    /// The header's `crit` is an empty array (RFC 7515 section 4.1.11).
    EmptyCrit,
    /// A registered claim (`iss`, `sub`, `aud`, `jti`, ...) has the wrong JSON type.
    ClaimType,
    /// `exp`, `nbf` or `iat` is not a JSON number.
    NumericDateType,
    /// `exp`, `nbf` or `iat` does not fit in a signed 64-bit count of seconds.
    NumericDateRange,
    /// A string did not fit the buffer given to [`JsonStr::unescape_into`](crate::JsonStr::unescape_into).
    UnescapeBufferTooSmall,
}

impl Error {
    /// A short, fixed, human-readable description of the failure.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::TokenTooLarge => "token is larger than the configured limit",
            Self::TooFewParts => "token has fewer than three parts",
            Self::TooManyParts => "token has more than three parts",
            Self::Encrypted => "token has five parts: encrypted tokens (JWE) are not supported",
            Self::EmptyHeader => "token header is empty",
            Self::EmptyPayload => "token payload is empty",
            Self::EmptySignature => "token signature is empty",
            Self::Base64Alphabet => "invalid base64url character",
            Self::Base64Length => "invalid base64url length",
            Self::Base64TrailingBits => "non-canonical base64url: unused bits are not zero",
            Self::BufferTooSmall => "scratch buffer is too small for the decoded token",
            Self::InvalidUtf8 => "JSON is not valid UTF-8",
            Self::UnexpectedEnd => "JSON ends unexpectedly",
            Self::UnexpectedByte => "unexpected byte in JSON",
            Self::ControlCharInString => "unescaped control character in JSON string",
            Self::InvalidEscape => "invalid escape sequence in JSON string",
            Self::LoneSurrogate => "unpaired UTF-16 surrogate escape in JSON string",
            Self::InvalidNumber => "invalid JSON number",
            Self::TrailingBytes => "trailing bytes after JSON value",
            Self::DepthLimit => "JSON nesting exceeds the depth limit",
            Self::NotAnObject => "JSON value is not an object",
            Self::DuplicateMember => "duplicate member name",
            Self::TooManyMembers => "too many top-level members",
            Self::MissingAlg => "header has no alg",
            Self::HeaderParamType => "header parameter has the wrong type",
            Self::EmptyCrit => "header crit is an empty list",
            Self::ClaimType => "claim has the wrong type",
            Self::NumericDateType => "time claim is not a number",
            Self::NumericDateRange => "time claim is out of range",
            Self::UnescapeBufferTooSmall => "buffer is too small for the unescaped string",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::error::Error for Error {}
