//! Why a key set could not be fetched or a source configured.

/// A failed fetch. Messages name the URL's host at most, never the rest of
/// the URL (a query string may carry a credential) and never key material.
///
/// `Clone`, because one fetch answers everyone who waited for it.
#[non_exhaustive]
#[derive(Clone, Debug, thiserror::Error)]
pub enum FetchError {
    /// Connection, TLS, timeout or redirect failure, with its underlying
    /// cause ("connection refused", "operation timed out", ...) and
    /// without the URL.
    #[error("request failed: {0}")]
    Http(String),
    /// A status other than 200 (or 304 to a conditional request).
    #[error("unexpected HTTP status {0}")]
    Status(u16),
    /// The body exceeded the configured limit.
    #[error("response larger than {0} bytes")]
    TooLarge(usize),
    /// The body is not a JWKS.
    #[error("invalid key set: {0}")]
    Invalid(#[from] jwtgate_verify::KeyError),
    /// The response's `Content-Type` says it is not JSON (the HTML of an
    /// error or login page, say). JSON types, a missing type and the
    /// generic `application/octet-stream` and `text/plain` are read.
    #[error("response is {0:?}, not JSON (an error or login page?); serve the document as application/json")]
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
    /// There is no Tokio runtime to run the fetch on (the HTTP client needs
    /// one): call from inside a Tokio runtime.
    #[error("no Tokio runtime to run the fetch on")]
    NoRuntime,
}

impl From<reqwest::Error> for FetchError {
    /// Keeps the cause chain ("error sending request: client error
    /// (Connect): tcp connect error: Connection refused"), drops the URL.
    fn from(error: reqwest::Error) -> Self {
        let error = error.without_url();
        let mut text = error.to_string();
        let mut cause = std::error::Error::source(&error);
        while let Some(c) = cause {
            let next = c.to_string();
            // hyper and reqwest often repeat their source's text in their own.
            if !text.contains(&next) {
                text.push_str(": ");
                text.push_str(&next);
            }
            cause = c.source();
        }
        Self::Http(text)
    }
}

/// A configuration that cannot be used.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The URL does not parse (the text names which URL: `"JWKS URL"` or
    /// `"issuer URL"`).
    #[error("the {0} is not a valid URL")]
    InvalidUrl(&'static str),
    /// Only https is allowed; plain http only to loopback hosts, and only
    /// after [`JwksConfig::allow_insecure_loopback`](crate::JwksConfig::allow_insecure_loopback).
    /// The text names which URL (`"JWKS URL"` or `"issuer URL"`).
    #[error(
        "the {0} must be https; plain http is allowed only to loopback hosts (127.0.0.1, ::1, localhost), \
         after JwksConfig::allow_insecure_loopback(), for tests and local development"
    )]
    InsecureUrl(&'static str),
    /// The bounds contradict each other (min above max, zero cooldown, ...).
    #[error("inconsistent bounds: {0}")]
    Bounds(&'static str),
    /// The HTTP client could not be built (on Linux, for example, when
    /// the system has no CA certificates and no root was added with
    /// [`JwksConfig::add_root_certificate_pem`](crate::JwksConfig::add_root_certificate_pem)).
    #[error("HTTP client: {0}")]
    Client(reqwest::Error),
    /// A PEM setting cannot be used: which one, and what is wrong with it.
    /// Never the PEM's content.
    #[error("{setting}: {problem}")]
    Pem {
        /// The setting at fault.
        setting: PemSetting,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The proxy URL cannot be used; the text says why. The URL itself is
    /// not repeated: it may hold a password.
    #[error("proxy URL: {0}")]
    Proxy(&'static str),
    /// A setting of jwtgate's own HTTP client (the text names it) was
    /// combined with [`JwksConfig::http_client`](crate::JwksConfig::http_client),
    /// which cannot apply it to a client already built.
    #[error("{0} cannot be combined with http_client(): configure it on the reqwest::Client you hand in")]
    HttpClient(&'static str),
}

/// Which PEM setting a [`ConfigError::Pem`] is about.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PemSetting {
    /// The roots of [`JwksConfig::add_root_certificate_pem`](crate::JwksConfig::add_root_certificate_pem).
    RootCertificates,
    /// The certificate chain of [`JwksConfig::client_identity_pem`](crate::JwksConfig::client_identity_pem).
    ClientCertificates,
    /// The private key of [`JwksConfig::client_identity_pem`](crate::JwksConfig::client_identity_pem).
    ClientKey,
}

impl core::fmt::Display for PemSetting {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::RootCertificates => "add_root_certificate_pem",
            Self::ClientCertificates => "client_identity_pem (certificate chain)",
            Self::ClientKey => "client_identity_pem (private key)",
        })
    }
}
