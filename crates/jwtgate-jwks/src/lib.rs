#![doc = include_str!("../README.md")]

mod config;
mod discovery;
mod error;
mod fetch;
mod freshness;
mod source;

pub use config::JwksConfig;
pub use error::{ConfigError, FetchError};
pub use source::{JwksSource, Keys};
