//! jwtgate's developer tasks as a library: the command-line layers over the
//! test kit (`keygen`, `mint`) and, with the `tasks` feature, the demo, the
//! development issuer and the HTTP server they share.
//!
//! Keys and signing live in `jwtgate-testkit`, which the library crates and
//! the tests use directly: no library crate depends on xtask, not even for
//! its tests (DESIGN.md; `tests/hygiene.rs` checks it).

pub mod alg;
#[cfg(feature = "tasks")]
pub mod demo;
#[cfg(feature = "tasks")]
pub mod fleet;
#[cfg(feature = "tasks")]
pub mod issuer;
pub mod keygen;
pub mod mint;
#[cfg(feature = "tasks")]
pub mod serve;

pub use jwtgate_testkit::{error, jwk};
