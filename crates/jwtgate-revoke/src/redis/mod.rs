//! Fleet-wide revocation: rules in a shared Redis (or Valkey) store,
//! written by [`RedisStore`] and followed by a [`RedisSync`] in every
//! process that verifies tokens. The crate README explains the data
//! layout and the guarantees.

mod config;
mod layout;
mod store;
mod sync;

pub use config::{
    DEFAULT_HEARTBEAT, DEFAULT_LOG_MAX_LEN, DEFAULT_MAX_LAG, DEFAULT_NAMESPACE, DEFAULT_TIMEOUT, RedisConfig,
    StoreError,
};
pub use store::{RedisStore, Written};
pub use sync::{RedisSync, SyncState, SyncStatus};
