//! Settings shared by the writer ([`RedisStore`]) and the follower
//! ([`RedisSync`]), and their errors.

use std::fmt;
use std::time::Duration;

use crate::config::RevocationConfig;
use crate::redis::store::RedisStore;
use crate::redis::sync::RedisSync;

/// Default [`RedisConfig::namespace`].
pub const DEFAULT_NAMESPACE: &str = "jwtgate:revocation";

/// Default [`RedisConfig::max_lag`]: a minute.
pub const DEFAULT_MAX_LAG: Duration = Duration::from_secs(60);

/// Default [`RedisConfig::heartbeat`]: a second.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(1);

/// Default [`RedisConfig::log_max_len`].
pub const DEFAULT_LOG_MAX_LEN: usize = 100_000;

/// Default [`RedisConfig::timeout`]: five seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the shared store is and how to follow it: one configuration for
/// the processes that write rules ([`RedisConfig::store`]) and the ones
/// that enforce them ([`RedisConfig::sync`]). They must agree on the URL's
/// database and on the namespace.
///
/// The URL is `redis://[user:password@]host[:port][/db]` (or
/// `redis+unix:///path` for a socket; `rediss://`, TLS, is not supported
/// yet). It is never printed: `Debug` and every error show the host at
/// most.
#[derive(Clone)]
#[must_use]
pub struct RedisConfig {
    pub(crate) url: String,
    pub(crate) namespace: String,
    pub(crate) log_max_len: usize,
    pub(crate) max_lag: Duration,
    pub(crate) heartbeat: Duration,
    pub(crate) timeout: Duration,
    pub(crate) fail_open: bool,
    pub(crate) list: RevocationConfig,
}

impl RedisConfig {
    /// The store at `url`, with the defaults.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            namespace: DEFAULT_NAMESPACE.to_owned(),
            log_max_len: DEFAULT_LOG_MAX_LEN,
            max_lag: DEFAULT_MAX_LAG,
            heartbeat: DEFAULT_HEARTBEAT,
            timeout: DEFAULT_TIMEOUT,
            fail_open: false,
            list: RevocationConfig::default(),
        }
    }

    /// The prefix of the three keys (in a Redis Cluster hash tag, so they
    /// share a slot): `{NAMESPACE}:rules`, `{NAMESPACE}:expiry`,
    /// `{NAMESPACE}:log`. Default [`DEFAULT_NAMESPACE`]. Different
    /// namespaces are different rule sets in one database.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// How many changes the log keeps (Redis trims it to about this many,
    /// `MAXLEN ~`). A follower that falls further behind, or is away while
    /// more changes are written, loads the whole rule set again instead
    /// (never misses one). Default [`DEFAULT_LOG_MAX_LEN`].
    pub fn log_max_len(mut self, entries: usize) -> Self {
        self.log_max_len = entries;
        self
    }

    /// How long a follower may go without confirming that it holds every
    /// rule before its answers stop counting: past it, tokens get
    /// `revocation_unavailable` (503), or are accepted and counted if
    /// [`fail_open_when_out_of_sync`](Self::fail_open_when_out_of_sync)
    /// was chosen. Default [`DEFAULT_MAX_LAG`]; at least twice the
    /// heartbeat.
    pub fn max_lag(mut self, lag: Duration) -> Self {
        self.max_lag = lag;
        self
    }

    /// How often a follower confirms it is in sync while no change
    /// arrives (the `BLOCK` of its `XREAD`). Changes arrive at once
    /// whatever this is. Default [`DEFAULT_HEARTBEAT`].
    pub fn heartbeat(mut self, every: Duration) -> Self {
        self.heartbeat = every;
        self
    }

    /// The time limit of one command and of connecting. Default
    /// [`DEFAULT_TIMEOUT`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Insecure: when out of sync past [`max_lag`](Self::max_lag), accept
    /// tokens that no rule held refuses (counted, with a warning per
    /// episode) instead of refusing them with `revocation_unavailable`.
    /// For services that prefer availability to enforcing a revocation
    /// written during a store outage. A follower that has never synced
    /// refuses either way.
    pub fn fail_open_when_out_of_sync(mut self) -> Self {
        self.fail_open = true;
        self
    }

    /// The local list's settings: how long rules outlive their tokens and
    /// the clock (writers use the same to expire rules in the store).
    pub fn list_config(mut self, config: RevocationConfig) -> Self {
        self.list = config;
        self
    }

    /// Connects a writer.
    ///
    /// # Errors
    ///
    /// [`StoreError`]: a bad URL or setting, or the store unreachable.
    pub async fn store(&self) -> Result<RedisStore, StoreError> {
        RedisStore::connect(self).await
    }

    /// Starts following the store in a task on the current tokio runtime
    /// and returns at once, before the first sync (until then, every
    /// token is `revocation_unavailable`; see [`RedisSync::is_ready`] and
    /// [`RedisSync::wait_ready`]). The task stops when the last clone of
    /// the returned handle is dropped.
    ///
    /// # Errors
    ///
    /// [`StoreError`]: a bad URL or setting, or no tokio runtime.
    pub fn sync(&self) -> Result<RedisSync, StoreError> {
        RedisSync::start(self)
    }

    pub(crate) fn validate(&self) -> Result<(), StoreError> {
        if self.namespace.is_empty() || self.namespace.contains(['{', '}']) {
            return Err(StoreError::Config("the namespace must be non-empty and contain no braces"));
        }
        if self.log_max_len == 0 {
            return Err(StoreError::Config("log_max_len must be at least 1"));
        }
        if self.heartbeat < Duration::from_millis(10) || self.heartbeat > Duration::from_secs(60) {
            return Err(StoreError::Config("heartbeat must be between 10 ms and 60 s"));
        }
        if self.max_lag < self.heartbeat.saturating_mul(2) {
            return Err(StoreError::Config("max_lag must be at least twice the heartbeat"));
        }
        if self.timeout.is_zero() || self.timeout > Duration::from_secs(300) {
            return Err(StoreError::Config("timeout must be more than 0 s and at most 5 min"));
        }
        Ok(())
    }

    pub(crate) fn client(&self) -> Result<redis::Client, StoreError> {
        if self.url.starts_with("rediss://") {
            return Err(StoreError::Config(
                "rediss:// (TLS) is not supported by this build yet; reach Redis over a private network or a TLS tunnel",
            ));
        }
        redis::Client::open(self.url.as_str()).map_err(|_| StoreError::InvalidUrl)
    }

    /// The host of the URL, for messages: never the password or the path.
    pub(crate) fn host(&self) -> String {
        host_of(&self.url)
    }
}

/// `host[:port]` of a Redis URL, without credentials; `unix socket` for a
/// socket URL (whose password, if any, is in the query).
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    // The authority ends at the first '/', '?' or '#'; only it may hold
    // `user:password@`.
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if host.is_empty() { "unix socket".to_owned() } else { host.to_owned() }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("host", &self.host())
            .field("namespace", &self.namespace)
            .field("log_max_len", &self.log_max_len)
            .field("max_lag", &self.max_lag)
            .field("heartbeat", &self.heartbeat)
            .field("timeout", &self.timeout)
            .field("fail_open", &self.fail_open)
            .finish_non_exhaustive()
    }
}

/// Why the store could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL is not a Redis URL (it is not repeated: it may hold a
    /// password).
    #[error("the Redis URL is not valid (expected redis://[user:password@]host[:port][/db])")]
    InvalidUrl,
    /// A setting out of its range.
    #[error("invalid revocation store setting: {0}")]
    Config(&'static str),
    /// The list's settings are out of range.
    #[error(transparent)]
    List(#[from] crate::config::ConfigError),
    /// A rule that cannot be written.
    #[error(transparent)]
    Rule(#[from] crate::rule::RuleError),
    /// The store did not answer, or answered with an error.
    #[error("revocation store at {host} unavailable: {source}")]
    Unavailable {
        /// The store's host (and port).
        host: String,
        /// What the client said.
        #[source]
        source: redis::RedisError,
    },
    /// The store holds data this version cannot read (another program's
    /// keys under the namespace, or a newer format).
    #[error("revocation store holds data that is not jwtgate's: {0}")]
    Corrupt(String),
    /// The store expires rules by other lifetimes than this writer's
    /// `RevocationConfig` (`leeway`, `max_token_lifetime`): writing would
    /// expire rules that replicas still enforce, or keep them too briefly.
    #[error(
        "the revocation store expires rules with leeway {store_leeway} s and max_token_lifetime \
         {store_lifetime} s, this writer with {leeway} s and {lifetime} s: use the store's settings"
    )]
    LimitsMismatch {
        /// The store's leeway, seconds.
        store_leeway: i64,
        /// The store's longest token lifetime, seconds.
        store_lifetime: i64,
        /// This writer's leeway, seconds.
        leeway: i64,
        /// This writer's longest token lifetime, seconds.
        lifetime: i64,
    },
    /// Another writer kept changing the same rule; nothing was written.
    #[error("the rule kept changing under concurrent writers; try again")]
    Contended,
    /// [`RedisConfig::sync`] outside a tokio runtime.
    #[error("the revocation sync needs a tokio runtime (call RedisConfig::sync inside one)")]
    NoRuntime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_never_carries_the_password() {
        assert_eq!(host_of("redis://user:s3cret@cache.internal:6380/2"), "cache.internal:6380");
        assert_eq!(host_of("redis://127.0.0.1/"), "127.0.0.1");
        assert_eq!(host_of("rediss://:p@h"), "h");
        assert_eq!(host_of("redis+unix:///run/r.sock?pass=ab@cd"), "unix socket");
        let debug = format!("{:?}", RedisConfig::new("redis://:s3cret@h:1/0"));
        assert!(!debug.contains("s3cret"), "{debug}");
    }

    #[test]
    fn settings_out_of_range_are_errors() {
        let base = RedisConfig::new("redis://127.0.0.1/");
        assert!(base.validate().is_ok());
        assert!(base.clone().namespace("a{b}").validate().is_err());
        assert!(base.clone().log_max_len(0).validate().is_err());
        assert!(base.clone().max_lag(Duration::from_millis(1500)).validate().is_err());
        assert!(base.clone().heartbeat(Duration::ZERO).validate().is_err());
        assert!(base.timeout(Duration::ZERO).validate().is_err());
    }
}
