//! Signature primitives behind one small interface, in the manner of
//! rustls's `CryptoProvider`: the rest of the crate never names a crypto
//! crate, so a second backend (aws-lc-rs) plugs in without touching key
//! selection or policy, and both are held to the same tests.
//!
//! Every `verify_*` returns a plain `bool`: callers turn `false` into the
//! one opaque `bad_signature`, so no backend detail can become an oracle.

#[cfg(feature = "aws-lc-rs")]
mod aws_lc;
#[cfg(feature = "rustcrypto")]
#[cfg_attr(feature = "aws-lc-rs", allow(dead_code, reason = "kept for the differential tests"))]
mod rustcrypto;

// With both features on, the native backend serves requests; the pure-Rust
// one stays compiled so the differential tests can hold them to the same
// verdicts.
#[cfg(feature = "aws-lc-rs")]
pub(crate) use aws_lc::AwsLc as Active;
#[cfg(all(feature = "rustcrypto", not(feature = "aws-lc-rs")))]
pub(crate) use rustcrypto::RustCrypto as Active;

/// The crypto backend that verifies signatures in this build: `"aws-lc-rs"`
/// or `"rustcrypto"` (cargo features; with both on, aws-lc-rs serves).
#[cfg(feature = "aws-lc-rs")]
pub const CRYPTO_BACKEND: &str = "aws-lc-rs";
/// The crypto backend that verifies signatures in this build: `"aws-lc-rs"`
/// or `"rustcrypto"` (cargo features; with both on, aws-lc-rs serves).
#[cfg(all(feature = "rustcrypto", not(feature = "aws-lc-rs")))]
pub const CRYPTO_BACKEND: &str = "rustcrypto";

#[cfg(not(any(feature = "rustcrypto", feature = "aws-lc-rs")))]
compile_error!("jwtgate-verify needs a crypto backend: enable the `rustcrypto` or the `aws-lc-rs` feature");

use crate::algorithm::Hash;
use crate::error::KeyError;

/// RSA moduli accepted, in bits (RFC 7518 3.3 sets the floor; the
/// ceiling bounds the cost of one verification).
pub(crate) const RSA_BITS: core::ops::RangeInclusive<usize> = 2048..=8192;

/// The modulus without leading zero bytes, and its size in bits.
///
/// # Errors
///
/// [`KeyError::BadKeySize`] outside [`RSA_BITS`].
pub(crate) fn rsa_modulus(n: &[u8]) -> Result<(&[u8], usize), KeyError> {
    let n = strip_zeros(n);
    let bits = (n.len() * 8).saturating_sub(n.first().map_or(0, |b| b.leading_zeros() as usize));
    if !RSA_BITS.contains(&bits) {
        return Err(KeyError::BadKeySize(format!("RSA modulus of {bits} bits (2048 to 8192 accepted)")));
    }
    Ok((n, bits))
}

/// Big-endian integer bytes without leading zeros.
pub(crate) fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

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
    fn verify_rsa(key: &Self::Rsa, padding: RsaPadding, hash: Hash, message: &[u8], signature: &[u8]) -> bool;
    /// Raw `r || s` signatures only (64 bytes); DER is not accepted.
    fn verify_p256(key: &Self::P256, message: &[u8], signature: &[u8]) -> bool;
    /// Strict verification: canonical `S`, no small-order `R`.
    fn verify_ed25519(key: &Self::Ed25519, message: &[u8], signature: &[u8]) -> bool;
}

/// Encodings of the Ed25519 points of small order (the eight-torsion
/// subgroup), canonical ones first, then the non-canonical spellings of the
/// same points (y >= p, or a sign bit on x = 0). A public key or a signature
/// `R` equal to one of these is what ed25519-dalek's `verify_strict`
/// refuses; AWS-LC does not check, so the aws-lc-rs backend checks here.
/// The canonical eight are cross-checked against ed25519-dalek in a test.
#[cfg(feature = "aws-lc-rs")]
#[allow(clippy::indexing_slicing, reason = "evaluated at compile time: a bad index fails the build, never a request")]
const ED25519_SMALL_ORDER: [[u8; 32]; 13] = {
    const fn hex(s: &[u8; 64]) -> [u8; 32] {
        let mut out = [0u8; 32];
        let mut i = 0;
        while i < 32 {
            out[i] = nibble(s[2 * i]) << 4 | nibble(s[2 * i + 1]);
            i += 1;
        }
        out
    }
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            _ => c - b'a' + 10,
        }
    }
    [
        hex(b"0000000000000000000000000000000000000000000000000000000000000000"),
        hex(b"0000000000000000000000000000000000000000000000000000000000000080"),
        hex(b"0100000000000000000000000000000000000000000000000000000000000000"),
        hex(b"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
        hex(b"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"),
        hex(b"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
        hex(b"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),
        hex(b"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        // Non-canonical: y = p - 1 with the sign bit, y = p (0), y = p + 1 (1),
        // with and without the sign bit, and y = 1 with the sign bit.
        hex(b"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
        hex(b"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        hex(b"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
        hex(b"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        hex(b"0100000000000000000000000000000000000000000000000000000000000080"),
    ]
};

/// `true` if `point` encodes an Ed25519 point of small order.
#[cfg(feature = "aws-lc-rs")]
pub(crate) fn ed25519_small_order(point: &[u8; 32]) -> bool {
    ED25519_SMALL_ORDER.contains(point)
}

#[cfg(all(test, feature = "aws-lc-rs", feature = "rustcrypto"))]
mod differential;
#[cfg(test)]
mod rfc_signatures;
#[cfg(test)]
mod wycheproof;

#[cfg(all(test, feature = "aws-lc-rs", feature = "rustcrypto"))]
mod tests {
    #[test]
    fn small_order_list_agrees_with_ed25519_dalek() {
        for (i, point) in super::ED25519_SMALL_ORDER.iter().enumerate().take(8) {
            let key = ed25519_dalek::VerifyingKey::from_bytes(point).expect("the canonical eight decode");
            assert!(key.is_weak(), "entry {i} is not of small order");
        }
    }
}
