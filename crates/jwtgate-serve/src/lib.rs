#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod endpoint;
mod options;
mod server;

pub use options::{KeyTiming, Keys, Options, Revocation, parse_duration};
pub use server::{Body, ServeError, Server};
