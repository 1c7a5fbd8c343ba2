//! One bounded HTTP GET of a key set.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use reqwest::header::{AGE, CACHE_CONTROL, DATE, ETAG, EXPIRES, IF_NONE_MATCH};
use reqwest::{StatusCode, Url};

use crate::config::{JwksConfig, PlainHttp};
use crate::error::{ConfigError, FetchError, PemSetting};
use crate::fetch_info::FetchInfo;
use crate::freshness::{self, Bounds};
use crate::tls;

/// Redirects followed at most; never from https to anything else.
/// (reqwest's `previous()` holds every URL requested so far, the original
/// included, so `n` redirects have been followed when it holds `n` URLs.)
const MAX_REDIRECTS: usize = 3;

pub(crate) struct Fetcher {
    client: reqwest::Client,
    plain_http: PlainHttp,
    max_body_bytes: usize,
    freshness: Bounds,
    /// Set on every request as well as on jwtgate's own client, so that a
    /// caller's client (which may have no total timeout) is bounded too.
    timeout: Duration,
}

/// What one fetch produced.
pub(crate) enum Fetched {
    /// A new document.
    Body { text: String, info: FetchInfo },
    /// 304: the document we have is still current.
    NotModified { info: FetchInfo },
}

/// Whether a body served as `content_type` is read at all. The rule is
/// there to refuse HTML error and login pages (and other documents that
/// are plainly something else) with a message that says so, instead of a
/// JSON syntax error. JSON types (`application/json`,
/// `application/jwk-set+json`, any `+json`) are read; so are the generic
/// types static file servers send for a file they cannot classify
/// (`application/octet-stream`, `text/plain`; `python3 -m http.server`
/// serves `.well-known/openid-configuration` so), because the body must
/// then still parse as a strict JSON key set or metadata document, which
/// is the real check. A missing `Content-Type` is read for the same reason.
fn reads_as_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence.ends_with("/json")
        || essence.ends_with("+json")
        || essence == "application/octet-stream"
        || essence == "text/plain"
}

/// `true` for hosts that never leave the machine.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

pub(crate) fn allowed(url: &Url, plain_http: PlainHttp) -> bool {
    match (url.scheme(), plain_http) {
        ("https", _) | ("http", PlainHttp::Anywhere) => true,
        ("http", PlainHttp::Loopback) => is_loopback(url),
        _ => false,
    }
}

/// jwtgate's own HTTP client: the timeouts, the redirect rule, the TLS
/// roots and client certificate, and the proxy of `config`.
fn own_client(config: &JwksConfig) -> Result<reqwest::Client, ConfigError> {
    let plain_http = config.plain_http;
    let redirects = reqwest::redirect::Policy::custom(move |attempt| {
        let from_https = attempt.previous().last().is_some_and(|u| u.scheme() == "https");
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else if from_https && attempt.url().scheme() != "https" {
            attempt.error("redirect from https to plain http")
        } else if !allowed(attempt.url(), plain_http) {
            attempt.error("redirect away from https")
        } else {
            attempt.follow()
        }
    });
    let roots = tls::root_certificates(&config.root_certificates)?;
    let identity = config.client_identity.as_ref().map(tls::client_identity).transpose()?;
    let mut builder = reqwest::Client::builder()
        .timeout(config.timeout)
        .connect_timeout(config.connect_timeout)
        .redirect(redirects)
        .user_agent(concat!("jwtgate-jwks/", env!("CARGO_PKG_VERSION")));
    builder = match (&config.proxy, config.proxy_from_env) {
        (Some(proxy), _) => {
            let url = proxy.parse().map_err(ConfigError::Proxy)?;
            builder.proxy(reqwest::Proxy::all(url).map_err(|_| ConfigError::Proxy("not a valid proxy URL"))?)
        }
        // reqwest reads ALL_PROXY, HTTPS_PROXY, HTTP_PROXY and NO_PROXY
        // when it builds the client, unless a proxy is set or this says no.
        (None, true) => builder,
        (None, false) => builder.no_proxy(),
    };
    if !roots.is_empty() {
        builder = builder.tls_certs_merge(roots.clone());
    }
    if let Some(identity) = &identity {
        builder = builder.identity(identity.clone());
    }
    builder.build().map_err(|error| which_setting(error, &roots, identity.as_ref()))
}

/// Names the setting that made reqwest refuse to build the client, when
/// it is a PEM setting: reqwest parses the DER of roots and the client key
/// only then, and says "builder error" for all of them. Each is tried
/// alone on a client with no other roots (no system store read, so this is
/// cheap); this runs only on the error path.
fn which_setting(
    error: reqwest::Error,
    roots: &[reqwest::Certificate],
    identity: Option<&reqwest::Identity>,
) -> ConfigError {
    let alone = || reqwest::Client::builder().no_proxy();
    if !roots.is_empty() && alone().tls_certs_only(roots.to_vec()).build().is_err() {
        return ConfigError::Pem {
            setting: PemSetting::RootCertificates,
            problem: "a CERTIFICATE block is not a valid X.509 certificate",
        };
    }
    if let Some(identity) = identity
        && alone().tls_certs_only(Vec::<reqwest::Certificate>::new()).identity(identity.clone()).build().is_err()
    {
        return ConfigError::Pem {
            setting: PemSetting::ClientKey,
            problem: "is not the key of the chain's first certificate, or that certificate or key cannot be used \
                      for TLS",
        };
    }
    ConfigError::Client(error)
}

/// The first setting of jwtgate's own client that `config` sets, if any:
/// none of them can be applied to a caller's client.
fn own_client_setting(config: &JwksConfig) -> Option<&'static str> {
    if !config.root_certificates.is_empty() {
        Some("add_root_certificate_pem")
    } else if config.client_identity.is_some() {
        Some("client_identity_pem")
    } else if config.proxy.is_some() {
        Some("proxy")
    } else if config.proxy_from_env {
        Some("proxy_from_env")
    } else {
        None
    }
}

impl Fetcher {
    pub(crate) fn new(config: &JwksConfig) -> Result<Self, ConfigError> {
        let client = match &config.http_client {
            Some(caller) => match own_client_setting(config) {
                Some(setting) => return Err(ConfigError::HttpClient(setting)),
                None => caller.0.clone(),
            },
            None => own_client(config)?,
        };
        Ok(Self {
            client,
            plain_http: config.plain_http,
            max_body_bytes: config.max_body_bytes,
            freshness: config.freshness,
            timeout: config.timeout,
        })
    }

    /// Sends `request` (a GET of `url`) and refuses a response whose final
    /// URL breaks the rules of the redirect policy above: not allowed, or
    /// plain http after https. jwtgate's own client never follows such a
    /// redirect; a caller's client may have.
    async fn send(&self, url: &Url, request: reqwest::RequestBuilder) -> Result<reqwest::Response, FetchError> {
        let response = request.timeout(self.timeout).send().await?;
        let last = response.url();
        if !allowed(last, self.plain_http) || (url.scheme() == "https" && last.scheme() != "https") {
            return Err(FetchError::Http("redirected to a URL that is not https".into()));
        }
        Ok(response)
    }

    /// Parses `text` as a URL this fetcher may request; `kind` names it in
    /// the error ("JWKS URL", "issuer URL").
    pub(crate) fn check_url(&self, text: &str, kind: &'static str) -> Result<Url, ConfigError> {
        let url = Url::parse(text).map_err(|_| ConfigError::InvalidUrl(kind))?;
        if allowed(&url, self.plain_http) { Ok(url) } else { Err(ConfigError::InsecureUrl(kind)) }
    }

    /// GETs a JSON document (discovery metadata) with the same limits.
    pub(crate) async fn get_text(&self, url: &Url) -> Result<String, FetchError> {
        let response = self.send(url, self.client.get(url.clone())).await?;
        if response.status() != StatusCode::OK {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        self.body(response).await
    }

    /// GETs the key set at `url`, conditionally when an ETag is known.
    pub(crate) async fn fetch(&self, url: &Url, etag: Option<&str>) -> Result<Fetched, FetchError> {
        let mut request = self.client.get(url.clone());
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        let response = self.send(url, request).await?;
        let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok());
        // Several Cache-Control lines are one comma-separated list (RFC
        // 9110 5.3): a max-age on the second line counts as on the first.
        let cache_control = {
            let lines: Vec<&str> =
                response.headers().get_all(CACHE_CONTROL).iter().filter_map(|v| v.to_str().ok()).collect();
            (!lines.is_empty()).then(|| lines.join(", "))
        };
        let ttl = freshness::lifetime(
            freshness::Headers {
                cache_control: cache_control.as_deref(),
                expires: header(EXPIRES),
                date: header(DATE),
                age: header(AGE),
            },
            SystemTime::now(),
            self.freshness,
        );
        // Credentials in the URL are not part of what is reported, nor is
        // its query (an API key, `?key=...`) or fragment.
        let mut shown = url.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        shown.set_query(None);
        shown.set_fragment(None);
        let info = FetchInfo {
            url: shown.to_string(),
            status: response.status().as_u16(),
            cache_control,
            expires: header(EXPIRES).map(str::to_owned),
            age: header(AGE).map(str::to_owned),
            etag: header(ETAG).map(str::to_owned),
            ttl,
        };
        match response.status() {
            StatusCode::OK => {}
            StatusCode::NOT_MODIFIED if etag.is_some() => return Ok(Fetched::NotModified { info }),
            other => return Err(FetchError::Status(other.as_u16())),
        }
        let text = self.body(response).await?;
        Ok(Fetched::Body { text, info })
    }

    /// The body as UTF-8 text, never buffering more than the limit: read
    /// in chunks, so a lying or absent Content-Length does not matter.
    async fn body(&self, mut response: reqwest::Response) -> Result<String, FetchError> {
        let content_type = response.headers().get(reqwest::header::CONTENT_TYPE).map(|v| v.to_str().unwrap_or("?"));
        if let Some(ct) = content_type
            && !reads_as_json(ct)
        {
            return Err(FetchError::NotJson(ct.chars().take(64).collect()));
        }
        if response.content_length().is_some_and(|len| len > self.max_body_bytes as u64) {
            return Err(FetchError::TooLarge(self.max_body_bytes));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > self.max_body_bytes {
                return Err(FetchError::TooLarge(self.max_body_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        String::from_utf8(body)
            .map_err(|_| FetchError::Invalid(jwtgate_verify::KeyError::InvalidJwk("not UTF-8".into())))
    }
}
