//! What `jwtgate serve` is told: which issuers to trust and where their
//! keys are, which rules decide what each path needs, what to hand on,
//! and where to send what passes (reverse-proxy mode).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use http::{HeaderName, Method, Uri};

/// Where an issuer's keys come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Keys {
    /// A JWKS (or single JWK, or PEM public key) file, loaded once.
    File(PathBuf),
    /// A JWKS URL, fetched and cached by jwtgate-jwks.
    Url(String),
    /// OIDC discovery of this issuer (its `jwks_uri`).
    Discover(String),
}

/// The JWKS client's timing, for a remote key source (`None`: the
/// jwtgate-jwks default).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyTiming {
    /// Shortest time a fetched set counts as fresh.
    pub min_ttl: Option<Duration>,
    /// Longest time a fetched set counts as fresh.
    pub max_ttl: Option<Duration>,
    /// Least time between fetches triggered by an unknown `kid`.
    pub kid_cooldown: Option<Duration>,
    /// How long a set is used after its issuer stops answering.
    pub max_stale: Option<Duration>,
}

/// One trusted issuer: its keys and what its tokens must say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issuer {
    /// The name route rules use for it (default: its first `iss`).
    pub name: String,
    /// The `iss` values its tokens carry (at least one).
    pub iss: Vec<String>,
    /// Its keys.
    pub keys: Keys,
    /// Accepted audiences (at least one).
    pub audiences: Vec<String>,
    /// Accepted algorithms; empty: every algorithm its key file verifies
    /// (required for a remote key source).
    pub algorithms: Vec<jwtgate_verify::Algorithm>,
}

impl Issuer {
    /// An issuer named after its `iss`, with one audience and the
    /// algorithms of its keys.
    #[must_use]
    pub fn new(iss: impl Into<String>, keys: Keys, audience: impl Into<String>) -> Self {
        let iss = iss.into();
        Self { name: iss.clone(), iss: vec![iss], keys, audiences: vec![audience.into()], algorithms: Vec::new() }
    }
}

/// What a route rule asks of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A valid token is required (no token: 401).
    Required,
    /// A valid token is used if sent; none is fine; a bad one is refused.
    Optional,
    /// No token is looked at (health checks, public assets). Headers that
    /// could pass for forwarded claims are still removed.
    Open,
}

/// A route rule: requests whose path starts with `prefix` (and whose
/// method is one of `methods`, if any are named) get `access`. Rules are
/// tried in order; the first match wins; a request matching none is
/// refused (403, `no_route`).
///
/// A prefix matches whole path segments: `/public` (or `/public/`) matches
/// `/public` and `/public/logo.png`, not `/publicity`. A rule listing
/// `GET` also takes `HEAD`. When letter case would change which rule
/// matches (`/ADMIN` against a rule for `/admin`), the request is refused
/// as ambiguous: a case-insensitive upstream would serve the other one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The path prefix.
    pub prefix: String,
    /// The methods it applies to; empty: all.
    pub methods: Vec<Method>,
    /// What it asks.
    pub access: Access,
    /// The issuers (by [`Issuer::name`]) accepted here; empty: all.
    pub issuers: Vec<String>,
    /// Scopes a token needs here (403 without them).
    pub scopes: Vec<String>,
}

impl Rule {
    /// A rule for every method under `prefix`, any issuer, no scopes.
    #[must_use]
    pub fn new(prefix: impl Into<String>, access: Access) -> Self {
        Self { prefix: prefix.into(), methods: Vec::new(), access, issuers: Vec::new(), scopes: Vec::new() }
    }
}

/// Reverse-proxy mode: where requests that pass go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upstream {
    /// `http://host:port`, optionally with a base path that request paths
    /// are appended to.
    pub url: Uri,
    /// Longest wait for the upstream to connect and send its response
    /// head (504 after); bodies then stream without a limit.
    pub timeout: Duration,
    /// Remove the token (`Authorization: Bearer`, the token cookie, the
    /// WebSocket subprotocol entry) before forwarding.
    pub strip_token: bool,
    /// Keep what earlier proxies wrote in `Forwarded` and
    /// `X-Forwarded-For` (appending the client's address) and their
    /// `X-Forwarded-Proto` and `-Host`; without it, a client's values are
    /// dropped and only this hop's account goes on.
    pub trust_forwarded: bool,
}

/// Fleet-wide revocation: the shared Redis store this server follows
/// (jwtgate-revoke's `RedisSync`).
#[derive(Clone, PartialEq, Eq)]
pub struct Revocation {
    /// The store's URL (never printed).
    pub redis_url: String,
    /// Out of sync for longer than this: tokens get 503
    /// `revocation_unavailable`, or pass if `fail_open`.
    pub max_lag: Duration,
    /// Accept tokens no rule refuses while out of sync (counted, warned).
    pub fail_open: bool,
}

/// The store's URL may hold a password: never printed.
impl std::fmt::Debug for Revocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Revocation")
            .field("redis_url", &"<redacted>")
            .field("max_lag", &self.max_lag)
            .field("fail_open", &self.fail_open)
            .finish()
    }
}

/// Everything the server needs. The CLI fills it from flags or a
/// configuration file ([`Options::from_toml`]); a program can fill it
/// itself and call [`Server::bind`](crate::Server::bind).
#[derive(Clone, Debug)]
pub struct Options {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The trusted issuers (at least one).
    pub issuers: Vec<Issuer>,
    /// The route rules, first match wins (see [`Rule`]).
    pub rules: Vec<Rule>,
    /// Clock skew tolerated for `exp`, `nbf`, `iat`.
    pub leeway: Duration,
    /// Required header `typ`, if any.
    pub typ: Option<String>,
    /// Also read the token from this cookie.
    pub cookie: Option<String>,
    /// Also read the token from a `Sec-WebSocket-Protocol` entry
    /// ([`TokenSource::websocket_protocol`](jwtgate_hyper::TokenSource::websocket_protocol)
    /// or [`TokenSource::kubernetes_websocket_protocol`](jwtgate_hyper::TokenSource::kubernetes_websocket_protocol));
    /// the entry never reaches the upstream.
    pub websocket_token: Option<jwtgate_hyper::TokenSource>,
    /// Claims handed on as headers: on the answer (auth endpoint) or on
    /// the forwarded request (reverse proxy).
    pub claim_headers: Vec<(String, HeaderName)>,
    /// Verified tokens kept per issuer (0: no cache).
    pub token_cache: usize,
    /// Allow plain http for a remote key source that is not on loopback.
    pub allow_insecure_http: bool,
    /// The JWKS client's timing.
    pub key_timing: KeyTiming,
    /// Extra root certificates (PEM) for fetching keys from issuers with
    /// a private CA.
    pub ca_certs: Vec<PathBuf>,
    /// A client certificate and key (PEM) for issuers that require mTLS.
    pub client_identity: Option<(PathBuf, PathBuf)>,
    /// The realm of the `WWW-Authenticate` challenge.
    pub realm: String,
    /// Follow a revocation store, if set.
    pub revocation: Option<Revocation>,
    /// Reverse-proxy mode, if set; else an auth endpoint.
    pub upstream: Option<Upstream>,
    /// After a stop signal, how long requests in flight may take.
    pub shutdown_grace: Duration,
    /// Client connections served at once; more wait in the listen queue.
    pub max_connections: usize,
}

/// Default of [`Options::shutdown_grace`].
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Default of [`Options::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;

/// Default of [`Upstream::timeout`].
pub const DEFAULT_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);

impl Options {
    /// Options with one issuer, one rule (a token from it for every path)
    /// and every default.
    #[must_use]
    pub fn new(listen: SocketAddr, issuer: Issuer) -> Self {
        Self {
            listen,
            issuers: vec![issuer],
            rules: vec![Rule::new("/", Access::Required)],
            leeway: jwtgate_verify::DEFAULT_LEEWAY,
            typ: None,
            cookie: None,
            websocket_token: None,
            claim_headers: Vec::new(),
            token_cache: 0,
            allow_insecure_http: false,
            key_timing: KeyTiming::default(),
            ca_certs: Vec::new(),
            client_identity: None,
            realm: "api".to_owned(),
            revocation: None,
            upstream: None,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// `500ms`, `1s`, `5m`, `2h`, `1d`, or plain seconds.
///
/// # Errors
///
/// A message naming what was expected.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| format!("{text:?} is not a duration (like 500ms, 30s, 5m, 2h)"))?;
    let secs = |factor: u64| n.checked_mul(factor).map(Duration::from_secs);
    let duration = match unit {
        "ms" => Some(Duration::from_millis(n)),
        "" | "s" => secs(1),
        "m" => secs(60),
        "h" => secs(3600),
        "d" => secs(86_400),
        _ => None,
    };
    duration.ok_or_else(|| format!("{text:?} is not a duration (like 500ms, 30s, 5m, 2h)"))
}

/// An upstream URL as the proxy needs it: `http`, a host, no query.
///
/// # Errors
///
/// A message naming what is wrong.
pub fn parse_upstream(text: &str) -> Result<Uri, String> {
    let uri: Uri = text.parse().map_err(|_| format!("{text:?} is not a URL"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(format!(
                "{text:?}: https upstreams are not supported; a sidecar talks to its service over loopback (http://127.0.0.1:PORT)"
            ));
        }
        _ => return Err(format!("{text:?}: expected http://host:port")),
    }
    if uri.authority().is_none() {
        return Err(format!("{text:?}: no host"));
    }
    if uri.query().is_some() {
        return Err(format!("{text:?}: an upstream URL has no query"));
    }
    Ok(uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_operators_write_them() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert!(parse_duration("5 minutes").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }

    #[test]
    fn upstreams_are_plain_http_with_a_host() {
        assert!(parse_upstream("http://127.0.0.1:3000").is_ok());
        assert!(parse_upstream("http://app:3000/base").is_ok());
        assert!(parse_upstream("https://app").is_err());
        assert!(parse_upstream("127.0.0.1:3000").is_err());
        assert!(parse_upstream("http://app/?x=1").is_err());
    }
}
