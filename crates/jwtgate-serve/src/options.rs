//! What `jwtgate serve` is told: where the keys are, what tokens to
//! accept, what to hand on.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use http::HeaderName;

/// Where the verifier's keys come from.
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

/// Fleet-wide revocation: the shared Redis store this server follows
/// (jwtgate-revoke's `RedisSync`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocation {
    /// The store's URL (never printed).
    pub redis_url: String,
    /// Out of sync for longer than this: tokens get 503
    /// `revocation_unavailable`, or pass if `fail_open`.
    pub max_lag: Duration,
    /// Accept tokens no rule refuses while out of sync (counted, warned).
    pub fail_open: bool,
}

/// Everything the auth endpoint needs. The CLI fills it from flags; a
/// program can fill it itself and call [`Server::bind`](crate::Server::bind).
#[derive(Clone, Debug)]
pub struct Options {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The keys.
    pub keys: Keys,
    /// Accepted issuers (at least one).
    pub issuers: Vec<String>,
    /// Accepted audiences (at least one).
    pub audiences: Vec<String>,
    /// Accepted algorithms; empty: every algorithm the keys can verify.
    pub algorithms: Vec<jwtgate_verify::Algorithm>,
    /// Clock skew tolerated for `exp`, `nbf`, `iat`.
    pub leeway: Duration,
    /// Required header `typ`, if any.
    pub typ: Option<String>,
    /// Scopes every request needs.
    pub require_scopes: Vec<String>,
    /// Also read the token from this cookie.
    pub cookie: Option<String>,
    /// Claims to answer as response headers (for the ingress to pass on).
    pub claim_headers: Vec<(String, HeaderName)>,
    /// Original paths (from the ingress's `X-Forwarded-Uri` /
    /// `X-Original-URI`) that need no token.
    pub skip_paths: Vec<String>,
    /// Verified tokens kept (0: no cache).
    pub token_cache: usize,
    /// Allow plain http for a remote key source that is not on loopback.
    pub allow_insecure_http: bool,
    /// The JWKS client's timing.
    pub key_timing: KeyTiming,
    /// The realm of the `WWW-Authenticate` challenge.
    pub realm: String,
    /// Follow a revocation store, if set.
    pub revocation: Option<Revocation>,
}

impl Options {
    /// Options with the required parts and every default.
    #[must_use]
    pub fn new(listen: SocketAddr, keys: Keys, issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            listen,
            keys,
            issuers: vec![issuer.into()],
            audiences: vec![audience.into()],
            algorithms: Vec::new(),
            leeway: jwtgate_verify::DEFAULT_LEEWAY,
            typ: None,
            require_scopes: Vec::new(),
            cookie: None,
            claim_headers: Vec::new(),
            skip_paths: Vec::new(),
            token_cache: 0,
            allow_insecure_http: false,
            key_timing: KeyTiming::default(),
            realm: "api".to_owned(),
            revocation: None,
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
}
