//! Everything a JWKS source can be told, with the defaults and their reasons.

use core::fmt;
use std::time::Duration;

use crate::error::ConfigError;
use crate::freshness::Bounds;
use crate::source::JwksSource;
use crate::tls::{ClientIdentityPem, PemText};

/// Configuration of a [`JwksSource`]. Start from [`JwksConfig::new`]; every
/// setter documents its default.
///
/// `Debug` never shows key material: PEM settings print as their length,
/// a proxy URL without its credentials, a caller's client as a name.
#[derive(Clone, Debug)]
#[must_use]
pub struct JwksConfig {
    pub(crate) source: Source,
    pub(crate) freshness: Bounds,
    pub(crate) cooldown: Duration,
    pub(crate) max_staleness: Duration,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) max_body_bytes: usize,
    pub(crate) negative_cache_capacity: u64,
    pub(crate) plain_http: PlainHttp,
    pub(crate) background_refresh: bool,
    pub(crate) root_certificates: Vec<PemText>,
    pub(crate) client_identity: Option<ClientIdentityPem>,
    pub(crate) proxy: Option<ProxyUrl>,
    pub(crate) proxy_from_env: bool,
    pub(crate) http_client: Option<CallerClient>,
}

/// A proxy URL as given. `Debug` shows its scheme, host and port only: the
/// user and password it may carry stay out of logs.
#[derive(Clone)]
pub(crate) struct ProxyUrl(pub(crate) String);

impl ProxyUrl {
    /// The URL (`http://` assumed when it names no scheme), or why it
    /// cannot be a proxy. The reason never quotes the URL.
    pub(crate) fn parse(&self) -> Result<url::Url, &'static str> {
        let text = self.0.trim();
        let with_scheme = if text.contains("://") { text.to_owned() } else { format!("http://{text}") };
        let url = url::Url::parse(&with_scheme).map_err(|_| "not a valid URL")?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("the scheme must be http:// or https://");
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("the URL has no host");
        }
        Ok(url)
    }
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.parse() {
            Ok(url) => {
                write!(f, "{}://{}", url.scheme(), url.host_str().unwrap_or_default())?;
                match url.port() {
                    Some(port) => write!(f, ":{port}"),
                    None => Ok(()),
                }
            }
            Err(_) => f.write_str("<invalid proxy URL>"),
        }
    }
}

/// A `reqwest::Client` handed in by the caller, shown by `Debug` as a name
/// only (its own `Debug` lists default headers, which may hold a credential).
#[derive(Clone)]
pub(crate) struct CallerClient(pub(crate) reqwest::Client);

impl fmt::Debug for CallerClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<caller's reqwest::Client>")
    }
}

/// Where plain `http://` may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PlainHttp {
    /// https only (the default).
    Never,
    /// http to 127.0.0.0/8, `::1` and `localhost`, for tests.
    Loopback,
    /// http anywhere: an operator's explicit, named choice.
    Anywhere,
}

/// Where the key set comes from.
#[derive(Clone)]
pub(crate) enum Source {
    /// A JWKS URL.
    Jwks(String),
    /// An issuer whose metadata names the JWKS URL.
    Issuer(String),
}

/// Written by hand so that `Debug` of a config or a source never shows a
/// URL's query (which may carry a credential, `?key=...`), fragment or
/// user and password: only scheme, host, port and path.
impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, text) = match self {
            Self::Jwks(text) => ("Jwks", text),
            Self::Issuer(text) => ("Issuer", text),
        };
        let shown = match url::Url::parse(text) {
            Ok(url) => {
                let port = url.port().map(|port| format!(":{port}")).unwrap_or_default();
                format!("{}://{}{port}{}", url.scheme(), url.host_str().unwrap_or_default(), url.path())
            }
            Err(_) => "<invalid URL>".to_owned(),
        };
        f.debug_tuple(name).field(&shown).finish()
    }
}

impl JwksConfig {
    /// A source for the JWKS at `url` (https).
    pub fn new(url: impl Into<String>) -> Self {
        Self::with_source(Source::Jwks(url.into()))
    }

    /// A source for the keys of `issuer`, found by OpenID Connect Discovery
    /// (`{issuer}/.well-known/openid-configuration`), falling back to RFC
    /// 8414 metadata. The metadata's `issuer` must equal `issuer` exactly.
    pub fn discover(issuer: impl Into<String>) -> Self {
        Self::with_source(Source::Issuer(issuer.into()))
    }

    fn with_source(source: Source) -> Self {
        Self {
            source,
            freshness: Bounds {
                min: Duration::from_secs(60),
                max: Duration::from_secs(24 * 3600),
                default: Duration::from_secs(600),
            },
            cooldown: Duration::from_secs(30),
            max_staleness: Duration::from_secs(24 * 3600),
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            max_body_bytes: 1024 * 1024,
            negative_cache_capacity: 10_000,
            plain_http: PlainHttp::Never,
            background_refresh: true,
            root_certificates: Vec::new(),
            client_identity: None,
            proxy: None,
            proxy_from_env: false,
            http_client: None,
        }
    }

    /// Freshness when the response says less (default 60 s): `max-age=0`
    /// or `no-store` must not turn every request into a fetch.
    pub fn min_ttl(mut self, ttl: Duration) -> Self {
        self.freshness.min = ttl;
        self
    }

    /// Freshness when the response says more (default 24 h), so a removed
    /// key cannot linger for longer.
    pub fn max_ttl(mut self, ttl: Duration) -> Self {
        self.freshness.max = ttl;
        self
    }

    /// Freshness when the response has no caching headers (default 10 min).
    pub fn default_ttl(mut self, ttl: Duration) -> Self {
        self.freshness.default = ttl;
        self
    }

    /// At most one fetch for an unknown `kid` per window (default 30 s, at
    /// most 24 h): a flood of tokens with random kids costs the identity
    /// provider one request per window, and requests inside it fail fast.
    /// It is also the first retry delay after a failed fetch (doubling up
    /// to 8 windows while failures go on).
    pub fn cooldown(mut self, cooldown: Duration) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// How long past its freshness the last good key set is still served
    /// while fetches fail (default 24 h, at least the cooldown, at most 30
    /// days): an identity-provider outage does not take every service
    /// down, but keys do not live forever either.
    pub fn max_staleness(mut self, staleness: Duration) -> Self {
        self.max_staleness = staleness;
        self
    }

    /// Whole-request time limit (default 5 s, at most 5 min) and connect
    /// limit (default 2 s). A request waiting for keys waits for at most
    /// two fetches (one under way, then its own), each bounded by these (a
    /// discovery source's first fetch makes two or three requests).
    pub fn timeouts(mut self, total: Duration, connect: Duration) -> Self {
        self.timeout = total;
        self.connect_timeout = connect;
        self
    }

    /// Largest accepted response body (default 1 MiB; real key sets are a
    /// few KiB, the largest providers' with certificate chains tens of KiB).
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.max_body_bytes = max;
        self
    }

    /// How many kids confirmed absent are remembered (default 10 000),
    /// each for one cooldown window.
    pub fn negative_cache_capacity(mut self, capacity: u64) -> Self {
        self.negative_cache_capacity = capacity;
        self
    }

    /// Allows plain `http://` to loopback hosts (127.0.0.0/8, `::1`,
    /// `localhost`), for tests and a local development issuer (such as
    /// `cargo xtask issuer`). Never allows http anywhere else. Without it,
    /// `build` refuses an http issuer or JWKS URL with
    /// [`ConfigError::InsecureUrl`], naming this method.
    pub fn allow_insecure_loopback(mut self) -> Self {
        if self.plain_http == PlainHttp::Never {
            self.plain_http = PlainHttp::Loopback;
        }
        self
    }

    /// Allows plain `http://` to any host. Anyone on the network path can
    /// then replace the keys and mint tokens this source accepts: only for
    /// diagnosis (the CLI's `--allow-insecure-http`) or a network you
    /// control end to end.
    pub fn danger_allow_insecure_http(mut self) -> Self {
        self.plain_http = PlainHttp::Anywhere;
        self
    }

    /// Whether a background task loads the set at once, refreshes it
    /// shortly before it expires and retries failures with backoff
    /// (default on; needs a Tokio runtime when the source is built).
    pub fn background_refresh(mut self, on: bool) -> Self {
        self.background_refresh = on;
        self
    }

    /// Trusts the CA certificates in `pem` (one or more `CERTIFICATE`
    /// blocks; other blocks are ignored) for the issuer's https endpoints,
    /// **in addition to** the roots trusted by default. Call it again to add
    /// more. For an issuer behind a private CA (an internal Keycloak or
    /// SPIRE, say).
    ///
    /// The default roots are the platform's: reqwest 0.13 with its `rustls`
    /// feature verifies certificates with `rustls-platform-verifier`, which
    /// on Linux and the BSDs checks them with webpki against the system CA
    /// store (found by `rustls-native-certs`: `/etc/ssl/certs` and the other
    /// usual places, or `SSL_CERT_FILE` / `SSL_CERT_DIR`), and on macOS, iOS
    /// and Windows asks the operating system's own verifier. No CA list is
    /// compiled in. On Linux without a system CA store (a distroless or
    /// scratch image), `build` fails with [`ConfigError::Client`] unless a
    /// root is added here; the roots added here are then the only ones.
    /// Adding roots is not supported on Android (reqwest cannot extend the
    /// platform verifier there; `build` fails).
    ///
    /// The PEM is checked by [`build`](Self::build): [`ConfigError::Pem`]
    /// names this setting and the problem, never the content.
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Self {
        self.root_certificates.push(PemText::new(pem));
        self
    }

    /// Presents a client certificate to the issuer (mutual TLS), for
    /// issuers that require one. `cert_chain_pem` holds the certificate
    /// first, then any intermediates (`CERTIFICATE` blocks); `key_pem` holds
    /// its private key, unencrypted: PKCS#8 (`PRIVATE KEY`), PKCS#1 (`RSA
    /// PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`). Blocks of the other kind
    /// are ignored in each, so one combined file may be given for both.
    /// Replaces an earlier identity; no client certificate by default.
    ///
    /// Checked by [`build`](Self::build), including that the key is the
    /// first certificate's: [`ConfigError::Pem`] names which half is at
    /// fault ([`PemSetting`](crate::PemSetting)), never the content. The
    /// key stays in memory as long as this configuration and the source.
    pub fn client_identity_pem(mut self, cert_chain_pem: &[u8], key_pem: &[u8]) -> Self {
        self.client_identity =
            Some(ClientIdentityPem { cert_chain: PemText::new(cert_chain_pem), key: PemText::new(key_pem) });
        self
    }

    /// Sends every request (https and http) through the proxy at `url`:
    /// `http://host:port`, or `https://` for a proxy spoken to over TLS; a
    /// URL without a scheme means `http://`; `user:password@` in it is sent
    /// as proxy basic authentication. https requests go through a `CONNECT`
    /// tunnel, so TLS and the certificate check stay end to end with the
    /// issuer (the proxy sees the host name, never the keys in clear), and
    /// the https-only rule applies to the URLs requested, not to the proxy.
    /// An explicit proxy wins over [`proxy_from_env`](Self::proxy_from_env)
    /// (`NO_PROXY` included). No proxy by default.
    ///
    /// Checked by [`build`](Self::build): [`ConfigError::Proxy`], which does
    /// not repeat the URL (it may hold a password).
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(ProxyUrl(url.into()));
        self
    }

    /// Whether the standard proxy variables are honoured (default **off**):
    /// `HTTPS_PROXY` for https URLs, `HTTP_PROXY` for http ones, `ALL_PROXY`
    /// for both, `NO_PROXY` for the exceptions (each also in lower case),
    /// read once when the source is built; none of them in a CGI
    /// environment (`REQUEST_METHOD` set), where a client could set them
    /// ("httpoxy"). Off by default so that key fetches go where the
    /// configuration says, and a variable meant for a service's other
    /// traffic does not silently route them; reqwest itself reads these
    /// variables unless told not to, and this crate tells it not to. No
    /// operating-system proxy settings are read either way.
    pub fn proxy_from_env(mut self, on: bool) -> Self {
        self.proxy_from_env = on;
        self
    }

    /// Fetches with `client`, a `reqwest::Client` you built, for anything
    /// the settings here do not cover (other TLS options, DNS overrides,
    /// a proxy per host, ...). The reqwest this crate uses is re-exported
    /// as [`jwtgate_jwks::reqwest`](crate::reqwest).
    ///
    /// jwtgate still checks the https-only rule (and
    /// [`allow_insecure_loopback`](Self::allow_insecure_loopback)) on every
    /// URL it requests (the configured one, discovery's `jwks_uri`) and on
    /// the final URL of every response, sets its total
    /// [`timeouts`](Self::timeouts) limit (default 5 s) on every request
    /// (overriding the client's own), and bounds the body. Everything else
    /// is the client's: connect timeout, TLS roots and client certificate,
    /// proxies, user agent, and **redirects**. reqwest's default policy
    /// follows up to 10 redirects and does not refuse https to http:
    /// jwtgate refuses a response whose final URL breaks the rule, but
    /// cannot see the hops in between, so give the client
    /// `reqwest::redirect::Policy::none()` or a policy of your own.
    ///
    /// [`add_root_certificate_pem`](Self::add_root_certificate_pem),
    /// [`client_identity_pem`](Self::client_identity_pem),
    /// [`proxy`](Self::proxy) and [`proxy_from_env`](Self::proxy_from_env)
    /// cannot be applied to a client already built: combined with this,
    /// `build` fails with [`ConfigError::HttpClient`] naming the setting.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(CallerClient(client));
        self
    }

    /// Builds the source. With [`background_refresh`](Self::background_refresh)
    /// on (the default) and a Tokio runtime, its task fetches the keys at
    /// once; lookups, [`JwksSource::is_ready`] and
    /// [`JwksSource::fetch_now`] start fetches too (lookups' rationed).
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for a bad URL, plain http to a non-loopback host,
    /// inconsistent bounds, a PEM setting that cannot be used
    /// ([`ConfigError::Pem`]), a bad proxy URL, a setting combined with
    /// [`http_client`](Self::http_client) that cannot apply to it, or an
    /// HTTP client reqwest cannot build.
    pub fn build(self) -> Result<JwksSource, ConfigError> {
        let b = self.freshness;
        if b.min > b.max || b.default < b.min || b.default > b.max {
            return Err(ConfigError::Bounds("need min_ttl <= default_ttl <= max_ttl"));
        }
        // Bounded so that instants computed from them cannot overflow, and
        // because keys older than a month are not "stale", they are wrong.
        if b.max > Duration::from_secs(7 * 24 * 3600) {
            return Err(ConfigError::Bounds("max_ttl must be at most 7 days"));
        }
        if self.max_staleness > Duration::from_secs(30 * 24 * 3600) {
            return Err(ConfigError::Bounds("max_staleness must be at most 30 days"));
        }
        if b.min < Duration::from_secs(1) {
            return Err(ConfigError::Bounds("min_ttl must be at least one second"));
        }
        if self.cooldown.is_zero() {
            return Err(ConfigError::Bounds("cooldown must be positive"));
        }
        // A longer cooldown would leave a rotated key refused for more than
        // a day (and the negative cache cannot hold entries for ~1000 years).
        if self.cooldown > Duration::from_secs(24 * 3600) {
            return Err(ConfigError::Bounds("cooldown must be at most 24 hours"));
        }
        // A stale set is served for max_staleness while it is revalidated,
        // and revalidations (like the background task's fetches) come at
        // most one per cooldown: a shorter max_staleness would leave even
        // a replica of a healthy issuer without usable keys between two
        // fetches it is allowed to make.
        if self.max_staleness < self.cooldown {
            return Err(ConfigError::Bounds("max_staleness must be at least the cooldown"));
        }
        if self.timeout.is_zero() || self.timeout > Duration::from_secs(300) || self.connect_timeout.is_zero() {
            return Err(ConfigError::Bounds("timeouts must be positive, the total at most 5 minutes"));
        }
        JwksSource::new(self)
    }
}
