#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod config;
mod list;
#[cfg(feature = "redis")]
mod redis;
mod rule;
mod snapshot;
mod stats;

pub use config::{
    ConfigError, DEFAULT_LEEWAY, DEFAULT_MAX_TOKEN_LIFETIME, DEFAULT_PURGE_EVERY, MAX_PURGE_EVERY,
    MAX_TOKEN_LIFETIME_CEILING, RevocationConfig,
};
pub use list::RevocationList;
#[cfg(feature = "redis")]
pub use redis::{
    DEFAULT_HEARTBEAT, DEFAULT_LOG_MAX_LEN, DEFAULT_MAX_LAG, DEFAULT_NAMESPACE, DEFAULT_TIMEOUT, RedisConfig,
    RedisStore, RedisSync, StoreError, SyncState, SyncStatus, Written,
};
pub use rule::{MAX_REASON_BYTES, MAX_VALUE_BYTES, Rule, RuleError, RuleId, RuleKind, Target};
pub use stats::RevocationStats;
