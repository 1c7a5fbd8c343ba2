#![doc = include_str!("../README.md")]

mod config;
mod discovery;
mod error;
mod fetch;
mod fetch_info;
mod freshness;
mod source;
mod stats;

pub use config::JwksConfig;
pub use error::{ConfigError, FetchError};
pub use fetch_info::FetchInfo;
pub use source::{JwksSource, Keys};
pub use stats::JwksStats;
