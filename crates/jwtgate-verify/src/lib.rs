#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod algorithm;
mod backend;
mod clock;
mod error;
mod jwk;
mod key;
mod key_set;
pub mod manual;
mod observe;
mod pem;
mod policy;
mod resolver;
mod revocation;
mod router;
mod scratch;
mod token_cache;
mod token_verifier;
mod verified;
mod verifier;

pub use algorithm::{Algorithm, KeyFamily, UnknownAlgorithm};
pub use backend::CRYPTO_BACKEND;
pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{ConfigError, Error, KeyError};
pub use jwtgate_parse::{Claims, Header, JsonStr, NumericDate, RawValue, StrList};
pub use key::VerifyingKey;
pub use key_set::{KeyOrigin, KeySet, MAX_CANDIDATE_KEYS, MAX_KID_BYTES, SkippedKey};
pub use policy::{DEFAULT_LEEWAY, MAX_LEEWAY, MAX_TOKEN_BYTES_CEILING, VerifierBuilder};
pub use resolver::{KeyQuery, KeyResolver};
pub use revocation::{Revocation, RevocationStatus};
pub use router::IssuerRouter;
pub use scratch::{SCRATCH_LEN, Scratch};
pub use token_cache::{TokenCache, TokenCacheStats};
pub use token_verifier::TokenVerifier;
pub use verified::Verified;
pub use verifier::Verifier;
