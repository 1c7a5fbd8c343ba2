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
    /// A P-384 public key.
    type P384: Send + Sync;
    /// A P-521 public key.
    type P521: Send + Sync;
    /// An Ed25519 public key.
    type Ed25519: Send + Sync;

    fn hmac_key(secret: &[u8]) -> Result<Self::Hmac, KeyError>;
    /// `n` and `e` big-endian; enforces 2048 <= bits(n) <= 8192.
    fn rsa_key(n: &[u8], e: &[u8]) -> Result<Self::Rsa, KeyError>;
    fn rsa_bits(key: &Self::Rsa) -> usize;
    /// An uncompressed SEC1 point (`04 || x || y`), checked to be on the curve.
    fn p256_key(sec1: &[u8]) -> Result<Self::P256, KeyError>;
    /// As [`Provider::p256_key`], on P-384 (97 bytes).
    fn p384_key(sec1: &[u8]) -> Result<Self::P384, KeyError>;
    /// As [`Provider::p256_key`], on P-521 (133 bytes).
    fn p521_key(sec1: &[u8]) -> Result<Self::P521, KeyError>;
    /// An Ed25519 public key. Taking an [`Ed25519Point`] means the shared
    /// check (length, canonical encoding, not of small order) has run
    /// before any backend code sees the key.
    fn ed25519_key(point: &Ed25519Point) -> Result<Self::Ed25519, KeyError>;

    /// Constant-time HMAC comparison.
    fn verify_hmac(key: &Self::Hmac, hash: Hash, message: &[u8], signature: &[u8]) -> bool;
    fn verify_rsa(key: &Self::Rsa, padding: RsaPadding, hash: Hash, message: &[u8], signature: &[u8]) -> bool;
    /// Raw `r || s` signatures only (64 bytes); DER is not accepted.
    fn verify_p256(key: &Self::P256, message: &[u8], signature: &[u8]) -> bool;
    /// ECDSA with SHA-384, raw `r || s` only (96 bytes).
    fn verify_p384(key: &Self::P384, message: &[u8], signature: &[u8]) -> bool;
    /// ECDSA with SHA-512, raw `r || s` only (132 bytes: two 66-byte scalars).
    fn verify_p521(key: &Self::P521, message: &[u8], signature: &[u8]) -> bool;
    /// Strict verification: canonical `S`, no small-order `R`.
    fn verify_ed25519(key: &Self::Ed25519, message: &[u8], signature: &[u8]) -> bool;
}

/// 32 bytes from 64 lowercase hex digits, for constants.
#[allow(
    clippy::indexing_slicing,
    reason = "called for constants and test data only: a bad index fails the build or a test, never a request"
)]
const fn hex32(s: &[u8; 64]) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            _ => c - b'a' + 10,
        }
    }
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(s[2 * i]) << 4) | nibble(s[2 * i + 1]);
        i += 1;
    }
    out
}

/// The y coordinates of the eight Ed25519 points of small order (the
/// eight-torsion subgroup), encoded as RFC 8032 5.1.2 does (little-endian,
/// sign bit clear). The first two are the points with x = 0: the identity
/// (y = 1) and the point of order 2 (y = p - 1). Then y = 0, shared by the
/// two points of order 4 (x = +-sqrt(-1)), and the two y values shared by
/// the four points of order 8 (each the other's negation mod p). Computed
/// as the multiples of a point of order 8, and checked against
/// ed25519-dalek's `is_weak` in a test below.
const ED25519_SMALL_ORDER_Y: [[u8; 32]; 5] = [
    hex32(b"0100000000000000000000000000000000000000000000000000000000000000"),
    hex32(b"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    hex32(b"0000000000000000000000000000000000000000000000000000000000000000"),
    hex32(b"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
    hex32(b"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
];

/// An Ed25519 point encoding that is canonical and not of small order:
/// the only form in which a backend receives an Ed25519 public key.
///
/// The check runs here, before any backend code, because the backends
/// differ: ed25519-dalek takes a non-canonical y (y >= p) as y - p and
/// refuses only the keys that then turn out to be of small order; AWS-LC
/// refuses no small-order key, and loads the identity spelled y = p + 1
/// (issue 17). Refusing by the encoding alone makes both accept exactly
/// the same keys, so `KeySet::skipped()` and `algorithms()` (and which keys
/// take a kid-less token's candidate slots) never depend on the backend.
/// A canonical encoding of a point not on the curve passes this check and
/// is refused by either backend when it decompresses the point.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ed25519Point([u8; 32]);

impl Ed25519Point {
    /// Checks an encoded point: a public key, or a signature's `R`.
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidKey`] if it is not 32 bytes; if it is not the
    /// canonical encoding of its point (y >= p = 2^255 - 19, or the sign
    /// bit set on a point whose x is 0); or if the point is of small order.
    pub(crate) fn new(encoding: &[u8]) -> Result<Self, KeyError> {
        let bytes: [u8; 32] = encoding.try_into().map_err(|_| KeyError::InvalidKey("Ed25519 key must be 32 bytes"))?;
        // Bit 255 is the sign of x; the 255 bits below it are y.
        let [low, middle @ .., high] = bytes;
        let sign = (high & 0x80) != 0;
        // p = 0x7fff...ffed: y >= p exactly when every byte above the
        // lowest is at its maximum (0x7f for the top one) and the lowest
        // is at least 0xed. This is y + p for y in 0..=18 (every integer
        // from p up to 2^255 - 1). Keys are public: no need for constant time.
        if (high & 0x7f) == 0x7f && middle.iter().all(|&b| b == 0xff) && low >= 0xed {
            return Err(KeyError::InvalidKey("Ed25519 point not canonically encoded (y >= p)"));
        }
        let mut y = bytes;
        if let Some(top) = y.last_mut() {
            *top &= 0x7f;
        }
        // x = 0 only for y = 1 and y = p - 1; "-0" is a second spelling of
        // each, refused by RFC 8032 5.1.3 step 4 (as y >= p is by step 1).
        // Both points are of small order too: this only names the reason.
        if sign && ED25519_SMALL_ORDER_Y.iter().take(2).any(|x_is_zero| *x_is_zero == y) {
            return Err(KeyError::InvalidKey("Ed25519 point not canonically encoded (sign bit set on x = 0)"));
        }
        if ED25519_SMALL_ORDER_Y.contains(&y) {
            return Err(KeyError::InvalidKey("Ed25519 key of small order"));
        }
        Ok(Self(bytes))
    }

    /// The encoding, as it was given.
    pub(crate) const fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

#[cfg(all(test, feature = "aws-lc-rs", feature = "rustcrypto"))]
mod differential;
#[cfg(test)]
mod rfc_signatures;
#[cfg(test)]
mod wycheproof;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

    use super::{ED25519_SMALL_ORDER_Y, Ed25519Point, hex32};

    /// Both signs of `y`.
    fn signed(y: [u8; 32]) -> [[u8; 32]; 2] {
        let mut negative = y;
        negative[31] |= 0x80;
        [y, negative]
    }

    /// Every y in [p, 2^255): y + p for y in 0..=18, little-endian.
    fn non_canonical_y() -> impl Iterator<Item = [u8; 32]> {
        (0u8..19).map(|y| {
            let mut e = [0xffu8; 32];
            e[0] = 0xed + y;
            e[31] = 0x7f;
            e
        })
    }

    // With the backend that is built on ed25519-dalek.
    #[cfg(feature = "rustcrypto")]
    #[test]
    fn small_order_list_agrees_with_ed25519_dalek() {
        for (i, y) in ED25519_SMALL_ORDER_Y.iter().enumerate() {
            // The sign-clear encoding of each y is a canonical point.
            let key = ed25519_dalek::VerifyingKey::from_bytes(y).expect("each y decodes");
            assert!(key.is_weak(), "entry {i} is not of small order");
            for encoding in signed(*y) {
                // If ed25519-dalek takes "-0" for x = 0, the point is weak too.
                if let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&encoding) {
                    assert!(key.is_weak(), "entry {i}, {encoding:02x?}");
                }
                assert!(Ed25519Point::new(&encoding).is_err(), "entry {i}, {encoding:02x?}");
            }
        }
    }

    #[test]
    fn every_small_order_and_non_canonical_encoding_is_refused() {
        for y in ED25519_SMALL_ORDER_Y.into_iter().chain(non_canonical_y()) {
            for encoding in signed(y) {
                assert!(Ed25519Point::new(&encoding).is_err(), "{encoding:02x?}");
            }
        }
        // The identity as y = p + 1 with the sign bit (issue 17): the one
        // spelling the aws-lc-rs backend's old list lacked.
        let identity = hex32(b"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
        assert!(Ed25519Point::new(&identity).is_err());
        // The boundary: y = p - 2 is canonical (whether it is on the curve
        // is the backend's question), and RFC 8032's first test key passes.
        let below_p = hex32(b"ebffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
        assert!(Ed25519Point::new(&below_p).is_ok());
        let rfc8032 = hex32(b"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        assert_eq!(Ed25519Point::new(&rfc8032).unwrap().bytes(), &rfc8032);
        assert!(Ed25519Point::new(&rfc8032[..31]).is_err());
    }
}
