//! JWKS fetching for jwtgate: a [`JwksSource`] keeps an issuer's public keys
//! current and is the verifier's [`KeyResolver`](jwtgate_verify::KeyResolver).
//!
//! Sources: a JWKS URL ([`JwksConfig::new`]) or an issuer resolved by
//! OpenID Connect Discovery with an RFC 8414 fallback
//! ([`JwksConfig::discover`]; the metadata's `issuer` must equal the
//! configured one exactly, and `jwks_uri` must be https).
//!
//! Behaviour: freshness from `Cache-Control`/`Expires`/`Age`, clamped to
//! bounds; conditional requests (ETag, 304); background refresh ahead of
//! expiry with jitter; an unknown `kid` triggers at most one fetch per
//! cooldown window (and kids confirmed absent are remembered for a window),
//! requests inside it fail fast; one fetch in flight at a time; a failed
//! fetch keeps serving the last good set up to `max_staleness`; a key that a
//! successful fetch no longer lists stops verifying at once; https only;
//! bounded response size and time; symmetric keys are never taken from a
//! remote set.
//!
//! ```no_run
//! use jwtgate_jwks::JwksConfig;
//! use jwtgate_verify::{Algorithm, Scratch, Verifier};
//!
//! # async fn example(token: &str) -> Result<(), Box<dyn std::error::Error>> {
//! let keys = JwksConfig::new("https://auth.example.com/.well-known/jwks.json").build()?;
//! keys.fetch_now().await?; // optional: load at start-up instead of on first use
//! let verifier = Verifier::builder()
//!     .issuer("https://auth.example.com")
//!     .audience("orders-api")
//!     .algorithms([Algorithm::RS256, Algorithm::ES256])
//!     .build(keys)?;
//! let mut scratch = Scratch::new();
//! let verified = verifier.verify_async(token, &mut scratch).await?;
//! # let _ = verified;
//! # Ok(())
//! # }
//! ```

mod config;
mod discovery;
mod error;
mod fetch;
mod freshness;
mod source;

pub use config::JwksConfig;
pub use error::{ConfigError, FetchError};
pub use source::{JwksSource, Keys};
