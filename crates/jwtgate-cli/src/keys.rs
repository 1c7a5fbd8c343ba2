//! Loading verification keys: a file (JWKS, JWK or PEM), a JWKS URL, or an
//! issuer found by OIDC discovery. URLs go through jwtgate-jwks, with its
//! limits; nothing is cached on disk.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jwtgate_jwks::{ConfigError, FetchInfo, JwksConfig, JwksSource, PemSetting};
use jwtgate_verify::{KeyResolver as _, KeySet};

use crate::failure::Failure;

/// One HTTP request may take this long (connect: `CONNECT_TIMEOUT`)...
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// ...and all of them together (discovery is two) this long.
const OVERALL_DEADLINE: Duration = Duration::from_secs(12);

/// Where keys come from, as the user said it.
#[derive(Clone, Debug)]
pub(crate) enum Location {
    /// A file holding a JWKS, a single JWK or a PEM public key.
    File(String),
    /// An http(s) URL of a JWKS document.
    Url(String),
    /// An issuer URL, resolved by OIDC / RFC 8414 discovery.
    Issuer(String),
}

impl Location {
    /// `--jwks` takes a path or a URL; which one is decided by the scheme.
    pub(crate) fn from_jwks_arg(arg: &str) -> Self {
        let lower = arg.get(..8).unwrap_or(arg).to_ascii_lowercase();
        if lower.starts_with("https://") || lower.starts_with("http://") {
            Self::Url(arg.to_owned())
        } else {
            Self::File(arg.to_owned())
        }
    }
}

/// How URLs are fetched: the command line's TLS and proxy flags. Files
/// are read only when a URL is fetched (key files ignore these flags).
#[derive(Clone, Debug, Default)]
pub(crate) struct FetchOptions {
    /// Plain http to hosts other than loopback.
    pub(crate) allow_insecure_http: bool,
    /// `--ca-cert`: extra CA certificates (PEM).
    pub(crate) ca_cert: Option<PathBuf>,
    /// `--client-cert`: the client certificate chain (PEM).
    pub(crate) client_cert: Option<PathBuf>,
    /// `--client-key`: its private key (PEM).
    pub(crate) client_key: Option<PathBuf>,
    /// `--proxy`: every request through this proxy.
    pub(crate) proxy: Option<String>,
    /// `--proxy-from-env`: honour the `*_PROXY` variables.
    pub(crate) proxy_from_env: bool,
}

impl FetchOptions {
    /// `config` with these options.
    fn apply(&self, mut config: JwksConfig) -> Result<JwksConfig, Failure> {
        if self.allow_insecure_http {
            config = config.danger_allow_insecure_http();
        }
        if let Some(path) = &self.ca_cert {
            config = config.add_root_certificate_pem(&read_pem("--ca-cert", path)?);
        }
        match (&self.client_cert, &self.client_key) {
            (Some(cert), Some(key)) => {
                config = config.client_identity_pem(&read_pem("--client-cert", cert)?, &read_pem("--client-key", key)?);
            }
            (None, None) => {}
            _ => return Err(Failure::Config("--client-cert and --client-key go together".into())),
        }
        if let Some(proxy) = &self.proxy {
            config = config.proxy(proxy.clone());
        }
        Ok(config.proxy_from_env(self.proxy_from_env))
    }

    /// The flag (and file) a PEM error is about.
    fn flag(&self, setting: PemSetting) -> String {
        let (flag, path) = match setting {
            PemSetting::RootCertificates => ("--ca-cert", &self.ca_cert),
            PemSetting::ClientCertificates => ("--client-cert", &self.client_cert),
            PemSetting::ClientKey => ("--client-key", &self.client_key),
            _ => return setting.to_string(),
        };
        match path {
            Some(path) => format!("{flag} {}", path.display()),
            None => flag.to_owned(),
        }
    }
}

/// The bytes of a PEM file named by `flag`.
fn read_pem(flag: &str, path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::config(format!("cannot read {flag} {}", path.display()), &e))
}

/// Keys ready for a verifier, and how they were obtained.
pub(crate) enum Loaded {
    /// From a file: a fixed set.
    Static { keys: KeySet, document: String },
    /// From the network: the source (so an unknown `kid` can still trigger
    /// its one refetch) and what its fetch saw.
    Remote { source: JwksSource, keys: KeySet, document: String, fetch: Option<FetchInfo> },
}

impl Loaded {
    pub(crate) const fn keys(&self) -> &KeySet {
        match self {
            Self::Static { keys, .. } | Self::Remote { keys, .. } => keys,
        }
    }

    /// The document as read or fetched (for listing its members).
    pub(crate) fn document(&self) -> &str {
        match self {
            Self::Static { document, .. } | Self::Remote { document, .. } => document,
        }
    }
}

/// Loads the keys at `location`, fetching a URL as `options` say.
pub(crate) async fn load(location: &Location, options: &FetchOptions) -> Result<Loaded, Failure> {
    match location {
        Location::File(path) => load_file(Path::new(path)),
        Location::Url(url) => fetch(JwksConfig::new(url.clone()), url, options).await,
        Location::Issuer(issuer) => fetch(JwksConfig::discover(issuer.clone()), issuer, options).await,
    }
}

fn load_file(path: &Path) -> Result<Loaded, Failure> {
    let context = || format!("cannot load keys from {}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| Failure::config(context(), &e))?;
    let keys = KeySet::from_key_document(&text).map_err(|e| Failure::config(context(), &e))?;
    Ok(Loaded::Static { keys, document: text })
}

/// ` (skipped: kid "a": reason; ...)` or nothing.
pub(crate) fn skipped_summary(keys: &KeySet) -> String {
    if keys.skipped().is_empty() {
        return String::new();
    }
    let reasons: Vec<String> = keys
        .skipped()
        .iter()
        .map(|s| match &s.kid {
            Some(kid) => format!("kid {kid:?}: {}", s.reason),
            None => format!("key #{}: {}", s.index, s.reason),
        })
        .collect();
    format!(" (skipped: {})", reasons.join("; "))
}

async fn fetch(config: JwksConfig, what: &str, options: &FetchOptions) -> Result<Loaded, Failure> {
    // Loopback http is always fine for a diagnosis tool (a local issuer);
    // anything else on plain http only when the flag says so.
    let config = config
        .allow_insecure_loopback()
        .background_refresh(false)
        .timeouts(REQUEST_TIMEOUT, CONNECT_TIMEOUT)
        .max_body_bytes(1024 * 1024);
    let source = options.apply(config)?.build().map_err(|e| match e {
        ConfigError::InsecureUrl(_) => Failure::Config(format!(
            "{what}: plain http is accepted for loopback hosts only (use https, or --allow-insecure-http if you \
             must)"
        )),
        // Named by flag and file; the library never quotes the PEM.
        ConfigError::Pem { setting, problem } => Failure::Config(format!("{}: {problem}", options.flag(setting))),
        ConfigError::Proxy(why) => Failure::Config(format!("--proxy: {why}")),
        other => Failure::config(what, &other),
    })?;
    match tokio::time::timeout(OVERALL_DEADLINE, source.fetch_now()).await {
        Err(_) => {
            return Err(Failure::Unavailable(format!(
                "{what}: no key set within {} seconds",
                OVERALL_DEADLINE.as_secs()
            )));
        }
        Ok(Err(e)) => return Err(Failure::unavailable(format!("cannot fetch keys from {what}"), &e)),
        Ok(Ok(_)) => {}
    }
    let keys = source.current().map(|k| (*k).clone()).map_err(|e| Failure::unavailable(what, &e))?;
    let document = source.document().unwrap_or_default();
    let fetch = source.last_fetch();
    Ok(Loaded::Remote { source, keys, document, fetch })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwks_argument_is_a_url_only_with_an_http_scheme() {
        assert!(matches!(Location::from_jwks_arg("https://a/jwks"), Location::Url(_)));
        assert!(matches!(Location::from_jwks_arg("HTTP://127.0.0.1/jwks"), Location::Url(_)));
        assert!(matches!(Location::from_jwks_arg("jwks.json"), Location::File(_)));
        assert!(matches!(Location::from_jwks_arg("./https:/x"), Location::File(_)));
        assert!(matches!(Location::from_jwks_arg(""), Location::File(_)));
    }
}
