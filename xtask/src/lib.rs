//! jwtgate's developer tasks as a library, so the tests in `tests/` make
//! keys and tokens with exactly the code `cargo xtask` runs.
//!
//! Signing code lives here and in test helpers only: the library crates
//! verify, they never sign.

pub mod alg;
#[cfg(feature = "tasks")]
pub mod demo;
pub mod error;
#[cfg(feature = "tasks")]
pub mod issuer;
pub mod jwk;
pub mod key;
pub mod keygen;
pub mod mint;
#[cfg(feature = "tasks")]
pub mod serve;
