#![doc = include_str!("../README.md")]

mod config;
mod discovery;
mod error;
mod fetch;
mod fetch_info;
mod freshness;
mod source;
mod stats;
mod tls;

pub use config::JwksConfig;
pub use error::{ConfigError, FetchError, PemSetting};
pub use fetch_info::FetchInfo;
/// The reqwest this crate fetches with, for
/// [`JwksConfig::http_client`]: a client built from it is the right type
/// whatever reqwest version the application itself depends on.
pub use reqwest;
pub use source::{JwksSource, Keys};
pub use stats::JwksStats;
