//! Finding the JWKS URL from an issuer: OpenID Connect Discovery 1.0
//! section 4, falling back to RFC 8414 (OAuth 2.0 Authorization Server
//! Metadata) section 3.

use jwtgate_verify::Algorithm;
use reqwest::Url;
use serde_json::Value;

use crate::error::{ConfigError, FetchError};
use crate::fetch::Fetcher;

/// What the issuer's metadata said.
#[derive(Debug)]
pub(crate) struct Metadata {
    pub(crate) jwks_uri: Url,
    /// `id_token_signing_alg_values_supported`, the algorithms the issuer
    /// signs with, restricted to names jwtgate knows (`none` never is).
    pub(crate) signing_algorithms: Option<Vec<Algorithm>>,
}

/// The issuer and the metadata URLs to try, in order.
#[derive(Debug)]
pub(crate) struct Discovery {
    issuer: String,
    metadata: Vec<Url>,
}

impl Discovery {
    pub(crate) fn new(issuer: &str, fetcher: &Fetcher) -> Result<Self, ConfigError> {
        let url = fetcher.check_url(issuer, "issuer URL")?;
        // OIDC: the issuer with "/.well-known/openid-configuration" appended.
        let oidc = fetcher
            .check_url(&format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/')), "issuer URL")?;
        // RFC 8414 3.1: the well-known segment goes between host and path.
        let path = url.path().trim_end_matches('/');
        let mut rfc8414 = url.clone();
        rfc8414.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
        rfc8414.set_query(None);
        Ok(Self { issuer: issuer.to_owned(), metadata: vec![oidc, rfc8414] })
    }

    /// The issuer's host, for log lines about its metadata.
    pub(crate) fn host(&self) -> &str {
        self.metadata.first().and_then(Url::host_str).unwrap_or("-")
    }

    /// The `jwks_uri` of the issuer's metadata.
    ///
    /// # Errors
    ///
    /// [`FetchError::Discovery`] if no metadata document is found, its
    /// `issuer` is not exactly the configured one (OIDC Discovery 4.3,
    /// RFC 8414 3.3: otherwise a metadata endpoint could speak for another
    /// issuer), or `jwks_uri` is missing or not https.
    pub(crate) async fn metadata(&self, fetcher: &Fetcher) -> Result<Metadata, FetchError> {
        let mut last = None;
        for url in &self.metadata {
            match fetcher.get_text(url).await {
                Ok(text) => return self.read(&text, fetcher),
                // Not there: try the next well-known location.
                Err(FetchError::Status(404)) => last = Some(FetchError::Status(404)),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| FetchError::Discovery("no metadata document".into())))
    }

    fn read(&self, text: &str, fetcher: &Fetcher) -> Result<Metadata, FetchError> {
        let doc: Value =
            serde_json::from_str(text).map_err(|_| FetchError::Discovery("metadata is not JSON".into()))?;
        if doc.get("issuer").and_then(Value::as_str) != Some(self.issuer.as_str()) {
            return Err(FetchError::Discovery("metadata issuer does not equal the configured issuer".into()));
        }
        let jwks =
            doc.get("jwks_uri").and_then(Value::as_str).ok_or_else(|| FetchError::Discovery("no jwks_uri".into()))?;
        let jwks_uri = fetcher
            .check_url(jwks, "JWKS URL")
            .map_err(|_| FetchError::Discovery("jwks_uri is not an allowed (https) URL".into()))?;
        // An https issuer's metadata may not send us to plain http, not even
        // on loopback (which a test-only allowance would otherwise permit):
        // the same rule as for redirects.
        if self.issuer.starts_with("https://") && jwks_uri.scheme() != "https" {
            return Err(FetchError::Discovery("an https issuer's jwks_uri must be https".into()));
        }
        let signing_algorithms = doc
            .get("id_token_signing_alg_values_supported")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).filter_map(Algorithm::from_name).collect());
        Ok(Metadata { jwks_uri, signing_algorithms })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;
    use crate::config::JwksConfig;

    fn read(issuer: &str, jwks_uri: &str) -> Result<Metadata, FetchError> {
        // Loopback http allowed, as the CLI and the tests configure it.
        let fetcher = Fetcher::new(&JwksConfig::new("https://unused.example/").allow_insecure_loopback()).unwrap();
        let discovery = Discovery::new(issuer, &fetcher).unwrap();
        let doc = serde_json::json!({ "issuer": issuer, "jwks_uri": jwks_uri }).to_string();
        discovery.read(&doc, &fetcher)
    }

    #[test]
    fn an_https_issuer_cannot_send_us_to_plain_http() {
        assert!(read("https://issuer.example", "https://issuer.example/jwks").is_ok());
        // The loopback allowance is for loopback issuers, not for remote
        // metadata pointing at local services.
        assert!(read("https://issuer.example", "http://127.0.0.1:8080/jwks").is_err());
        assert!(read("https://issuer.example", "http://localhost/jwks").is_err());
        assert!(read("http://127.0.0.1:9000", "http://127.0.0.1:9000/jwks").is_ok());
        assert!(read("http://127.0.0.1:9000", "http://10.0.0.1/jwks").is_err());
    }

    #[test]
    fn advertised_algorithms_keep_only_known_names() {
        let fetcher = Fetcher::new(&JwksConfig::new("https://unused.example/")).unwrap();
        let discovery = Discovery::new("https://issuer.example", &fetcher).unwrap();
        let doc = serde_json::json!({
            "issuer": "https://issuer.example",
            "jwks_uri": "https://issuer.example/jwks",
            "id_token_signing_alg_values_supported": ["none", "ES256", "es256", "RS256", 7],
        })
        .to_string();
        let metadata = discovery.read(&doc, &fetcher).unwrap();
        assert_eq!(metadata.signing_algorithms.unwrap(), [Algorithm::ES256, Algorithm::RS256]);
    }
}
