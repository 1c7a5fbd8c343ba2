//! Everything a JWKS source can be told, with the defaults and their reasons.

use std::time::Duration;

use crate::error::ConfigError;
use crate::freshness::Bounds;
use crate::source::JwksSource;

/// Configuration of a [`JwksSource`]. Start from [`JwksConfig::new`]; every
/// setter documents its default.
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
#[derive(Clone, Debug)]
pub(crate) enum Source {
    /// A JWKS URL.
    Jwks(String),
    /// An issuer whose metadata names the JWKS URL.
    Issuer(String),
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
    /// while fetches fail (default 24 h): an identity-provider outage does
    /// not take every service down, but keys do not live forever either.
    pub fn max_staleness(mut self, staleness: Duration) -> Self {
        self.max_staleness = staleness;
        self
    }

    /// Whole-request time limit (default 5 s, at most 5 min) and connect
    /// limit (default 2 s). A request waiting for a fetch waits at most as
    /// long as that fetch (a discovery source's first fetch makes two or
    /// three requests).
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

    /// Builds the source. No request is made until the first
    /// [`JwksSource::fetch_now`] or refresh.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for a bad URL, plain http to a non-loopback host, or
    /// inconsistent bounds.
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
        if self.timeout.is_zero() || self.timeout > Duration::from_secs(300) || self.connect_timeout.is_zero() {
            return Err(ConfigError::Bounds("timeouts must be positive, the total at most 5 minutes"));
        }
        JwksSource::new(self)
    }
}
