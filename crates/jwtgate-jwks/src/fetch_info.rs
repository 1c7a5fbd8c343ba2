//! What the last successful fetch saw, for operators and the CLI.

use std::time::Duration;

/// The URL and caching headers of the last successful key-set fetch, and
/// the freshness lifetime derived from them (after clamping to the
/// configured bounds). Header values are copied as received; they never
/// carry key material.
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FetchInfo {
    /// The JWKS URL that answered (after discovery, before redirects).
    pub url: String,
    /// `200` for a new document, `304` for a renewed one.
    pub status: u16,
    /// `Cache-Control`, if sent.
    pub cache_control: Option<String>,
    /// `Expires`, if sent.
    pub expires: Option<String>,
    /// `Age`, if sent.
    pub age: Option<String>,
    /// `ETag`, if sent.
    pub etag: Option<String>,
    /// How long the key set counts as fresh.
    pub ttl: Duration,
}
