//! Building test tokens from JSON text.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a failed test"
)]
#![allow(dead_code, reason = "each test crate uses its own subset of these helpers")]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// base64url without padding, as JWS uses it.
pub(crate) fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token with the given header and payload JSON and a dummy signature.
pub(crate) fn token(header: &str, payload: &str) -> String {
    format!("{}.{}.{}", b64(header), b64(payload), b64(b"signature"))
}

/// A token with a fixed valid header and the given payload JSON.
pub(crate) fn with_claims(payload: &str) -> String {
    token(r#"{"alg":"HS256","typ":"JWT"}"#, payload)
}

/// A token with the given header JSON and a fixed valid payload.
pub(crate) fn with_header(header: &str) -> String {
    token(header, r#"{"iss":"joe"}"#)
}

/// Parses `token` with a default-sized buffer and returns only the outcome.
pub(crate) fn outcome(token: &str) -> Result<(), jwtgate_parse::Error> {
    let mut buf = [0u8; jwtgate_parse::DEFAULT_BUFFER_LEN];
    jwtgate_parse::parse(token.as_bytes(), &mut buf).map(|_| ())
}
