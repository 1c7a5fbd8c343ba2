#![doc = include_str!("../README.md")]

mod config;
mod discovery;
mod error;
mod fetch;
mod fetch_info;
mod freshness;
mod source;

pub use config::JwksConfig;
pub use error::{ConfigError, FetchError};
pub use fetch_info::FetchInfo;
pub use source::{JwksSource, Keys};
