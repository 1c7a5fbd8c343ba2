#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod config;
mod endpoint;
mod issuer_keys;
mod metrics;
mod options;
mod proxy;
mod router;
mod rules;
mod server;
mod verifiers;

pub use config::ConfigFileError;
/// Where tokens are read from (for [`Options::websocket_token`]).
pub use jwtgate_hyper::TokenSource;
pub use options::{
    Access, DEFAULT_MAX_CONNECTIONS, DEFAULT_SHUTDOWN_GRACE, DEFAULT_UPSTREAM_TIMEOUT, Issuer, KeyTiming, Keys,
    Options, Revocation, Rule, Upstream, parse_duration, parse_upstream,
};
pub use server::{Body, BoxError, ServeError, Server};
