//! Why a key set could not be fetched or a source configured.

/// A failed fetch. Messages name the URL's host at most, never key material.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Connection, TLS, timeout or redirect failure.
    #[error("request failed: {0}")]
    Http(#[from] reqwest::Error),
    /// A status other than 200 (or 304 to a conditional request).
    #[error("unexpected HTTP status {0}")]
    Status(u16),
    /// The body exceeded the configured limit.
    #[error("response larger than {0} bytes")]
    TooLarge(usize),
    /// The body is not a JWKS.
    #[error("invalid key set: {0}")]
    Invalid(#[from] jwtgate_verify::KeyError),
    /// The response is not JSON (`Content-Type` names something else, such
    /// as the HTML of an error or login page).
    #[error("response is not JSON (content type {0:?})")]
    NotJson(String),
    /// The document parsed but holds no key this verifier can use; the
    /// previous key set, if any, stays in use.
    #[error("key set has no usable key ({skipped} skipped)")]
    NoUsableKeys {
        /// Members skipped as unusable.
        skipped: usize,
    },
    /// Issuer discovery failed (no metadata, issuer mismatch, no jwks_uri).
    #[error("discovery: {0}")]
    Discovery(String),
    /// A snapshot could not be loaded.
    #[error("snapshot: {0}")]
    Snapshot(String),
}

/// A configuration that cannot be used.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The URL does not parse.
    #[error("invalid URL")]
    InvalidUrl,
    /// Only https is allowed (plain http for loopback hosts only, and only
    /// after `allow_insecure_loopback`).
    #[error("the JWKS URL must be https (http is allowed for loopback hosts in tests only)")]
    InsecureUrl,
    /// The bounds contradict each other (min above max, zero cooldown, ...).
    #[error("inconsistent bounds: {0}")]
    Bounds(&'static str),
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Client(reqwest::Error),
}
