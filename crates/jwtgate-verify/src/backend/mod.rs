//! Signature primitives behind one small interface, in the manner of
//! rustls's `CryptoProvider`: the rest of the crate never names a crypto
//! crate, so a second backend (aws-lc-rs) plugs in without touching key
//! selection or policy, and both are held to the same tests.
//!
//! Every `verify_*` returns a plain `bool`: callers turn `false` into the
//! one opaque `bad_signature`, so no backend detail can become an oracle.

#[cfg(feature = "rustcrypto")]
mod rustcrypto;

#[cfg(feature = "rustcrypto")]
pub(crate) use rustcrypto::RustCrypto as Active;

#[cfg(not(feature = "rustcrypto"))]
compile_error!("jwtgate-verify needs a crypto backend: enable the `rustcrypto` feature");

use crate::algorithm::Hash;
use crate::error::KeyError;

/// RSA signature padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RsaPadding {
    /// RSASSA-PKCS1-v1_5 (RS*).
    Pkcs1v15,
    /// RSASSA-PSS with MGF1 of the same hash and salt length = hash length (PS*).
    Pss,
}

/// What a crypto backend provides. Keys are parsed once into the backend's
/// ready-to-verify form (decompressed points, parsed moduli, keyed HMAC
/// state); `verify_*` is the per-request hot path.
pub(crate) trait Provider {
    /// A keyed HMAC, ready for SHA-256, -384 and -512.
    type Hmac: Send + Sync;
    /// An RSA public key.
    type Rsa: Send + Sync;
    /// A P-256 public key.
    type P256: Send + Sync;
    /// An Ed25519 public key.
    type Ed25519: Send + Sync;

    fn hmac_key(secret: &[u8]) -> Result<Self::Hmac, KeyError>;
    /// `n` and `e` big-endian; enforces 2048 <= bits(n) <= 8192.
    fn rsa_key(n: &[u8], e: &[u8]) -> Result<Self::Rsa, KeyError>;
    fn rsa_bits(key: &Self::Rsa) -> usize;
    /// An uncompressed SEC1 point (`04 || x || y`), checked to be on the curve.
    fn p256_key(sec1: &[u8]) -> Result<Self::P256, KeyError>;
    /// A 32-byte Ed25519 public key; small-order (weak) keys are refused.
    fn ed25519_key(x: &[u8]) -> Result<Self::Ed25519, KeyError>;

    /// Constant-time HMAC comparison.
    fn verify_hmac(key: &Self::Hmac, hash: Hash, message: &[u8], signature: &[u8]) -> bool;
    fn verify_rsa(
        key: &Self::Rsa,
        padding: RsaPadding,
        hash: Hash,
        message: &[u8],
        signature: &[u8],
    ) -> bool;
    /// Raw `r || s` signatures only (64 bytes); DER is not accepted.
    fn verify_p256(key: &Self::P256, message: &[u8], signature: &[u8]) -> bool;
    /// Strict verification: canonical `S`, no small-order `R`.
    fn verify_ed25519(key: &Self::Ed25519, message: &[u8], signature: &[u8]) -> bool;
}
