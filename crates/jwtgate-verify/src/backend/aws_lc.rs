//! The native backend: AWS-LC through aws-lc-rs.

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self, ParsedPublicKey};
use spki::der::Encode as _;

use super::{Ed25519Point, Provider, RsaPadding, rsa_modulus, strip_zeros};
use crate::algorithm::Hash;
use crate::error::KeyError;

pub(crate) struct AwsLc;

pub(crate) struct HmacKeys {
    sha256: hmac::Key,
    sha384: hmac::Key,
    sha512: hmac::Key,
}

/// One parsed key per RSA algorithm: AWS-LC binds a parsed key to its
/// padding and hash, and parsing per request would cost more than the
/// verification of a 2048-bit signature.
pub(crate) struct RsaKeys {
    bits: usize,
    pkcs1: [ParsedPublicKey; 3],
    pss: [ParsedPublicKey; 3],
}

const fn index(hash: Hash) -> usize {
    match hash {
        Hash::Sha256 => 0,
        Hash::Sha384 => 1,
        Hash::Sha512 => 2,
    }
}

impl Provider for AwsLc {
    type Hmac = HmacKeys;
    type Rsa = RsaKeys;
    type P256 = ParsedPublicKey;
    type P384 = ParsedPublicKey;
    type P521 = ParsedPublicKey;
    type Ed25519 = ParsedPublicKey;

    fn hmac_key(secret: &[u8]) -> Result<HmacKeys, KeyError> {
        Ok(HmacKeys {
            sha256: hmac::Key::new(hmac::HMAC_SHA256, secret),
            sha384: hmac::Key::new(hmac::HMAC_SHA384, secret),
            sha512: hmac::Key::new(hmac::HMAC_SHA512, secret),
        })
    }

    fn rsa_key(n: &[u8], e: &[u8]) -> Result<RsaKeys, KeyError> {
        let (n, bits) = rsa_modulus(n)?;
        let der = pkcs1::RsaPublicKey {
            modulus: pkcs1::UintRef::new(n).map_err(|_| KeyError::InvalidKey("RSA modulus"))?,
            public_exponent: pkcs1::UintRef::new(strip_zeros(e)).map_err(|_| KeyError::InvalidKey("RSA exponent"))?,
        }
        .to_der()
        .map_err(|_| KeyError::InvalidKey("RSA public key"))?;
        let parse = |alg: &'static signature::RsaParameters| {
            ParsedPublicKey::new(alg, &der).map_err(|_| KeyError::InvalidKey("RSA public key"))
        };
        Ok(RsaKeys {
            bits,
            pkcs1: [
                parse(&signature::RSA_PKCS1_2048_8192_SHA256)?,
                parse(&signature::RSA_PKCS1_2048_8192_SHA384)?,
                parse(&signature::RSA_PKCS1_2048_8192_SHA512)?,
            ],
            pss: [
                parse(&signature::RSA_PSS_2048_8192_SHA256)?,
                parse(&signature::RSA_PSS_2048_8192_SHA384)?,
                parse(&signature::RSA_PSS_2048_8192_SHA512)?,
            ],
        })
    }

    fn rsa_bits(key: &RsaKeys) -> usize {
        key.bits
    }

    fn p256_key(sec1: &[u8]) -> Result<ParsedPublicKey, KeyError> {
        // Only the uncompressed form, as the other backend; AWS-LC checks
        // that the point is on the curve.
        if sec1.len() != 65 || sec1.first() != Some(&0x04) {
            return Err(KeyError::InvalidKey("P-256 point not on the curve"));
        }
        ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, sec1)
            .map_err(|_| KeyError::InvalidKey("P-256 point not on the curve"))
    }

    fn p384_key(sec1: &[u8]) -> Result<ParsedPublicKey, KeyError> {
        // 04 || x (48) || y (48); AWS-LC checks the point is on the curve.
        if sec1.len() != 97 || sec1.first() != Some(&0x04) {
            return Err(KeyError::InvalidKey("P-384 point not on the curve"));
        }
        ParsedPublicKey::new(&signature::ECDSA_P384_SHA384_FIXED, sec1)
            .map_err(|_| KeyError::InvalidKey("P-384 point not on the curve"))
    }

    fn p521_key(sec1: &[u8]) -> Result<ParsedPublicKey, KeyError> {
        // 04 || x (66) || y (66); AWS-LC checks the point is on the curve.
        if sec1.len() != 133 || sec1.first() != Some(&0x04) {
            return Err(KeyError::InvalidKey("P-521 point not on the curve"));
        }
        ParsedPublicKey::new(&signature::ECDSA_P521_SHA512_FIXED, sec1)
            .map_err(|_| KeyError::InvalidKey("P-521 point not on the curve"))
    }

    fn ed25519_key(point: &Ed25519Point) -> Result<ParsedPublicKey, KeyError> {
        // Ed25519Point has refused small-order and non-canonical encodings,
        // which AWS-LC would load.
        ParsedPublicKey::new(&signature::ED25519, point.bytes()).map_err(|_| KeyError::InvalidKey("Ed25519 point"))
    }

    fn verify_hmac(key: &HmacKeys, hash: Hash, message: &[u8], signature: &[u8]) -> bool {
        let key = match hash {
            Hash::Sha256 => &key.sha256,
            Hash::Sha384 => &key.sha384,
            Hash::Sha512 => &key.sha512,
        };
        // hmac::verify compares in constant time.
        hmac::verify(key, message, signature).is_ok()
    }

    fn verify_rsa(key: &RsaKeys, padding: RsaPadding, hash: Hash, message: &[u8], signature: &[u8]) -> bool {
        if signature.len() != key.bits.div_ceil(8) {
            return false;
        }
        let set = match padding {
            RsaPadding::Pkcs1v15 => &key.pkcs1,
            RsaPadding::Pss => &key.pss,
        };
        set.get(index(hash)).is_some_and(|k| k.verify_sig(message, signature).is_ok())
    }

    fn verify_p256(key: &ParsedPublicKey, message: &[u8], signature: &[u8]) -> bool {
        signature.len() == 64 && key.verify_sig(message, signature).is_ok()
    }

    fn verify_p384(key: &ParsedPublicKey, message: &[u8], signature: &[u8]) -> bool {
        // The parsed key is bound to ECDSA_P384_SHA384_FIXED (r || s).
        signature.len() == 96 && key.verify_sig(message, signature).is_ok()
    }

    fn verify_p521(key: &ParsedPublicKey, message: &[u8], signature: &[u8]) -> bool {
        // The parsed key is bound to ECDSA_P521_SHA512_FIXED (r || s).
        signature.len() == 132 && key.verify_sig(message, signature).is_ok()
    }

    fn verify_ed25519(key: &ParsedPublicKey, message: &[u8], signature: &[u8]) -> bool {
        // Match the strict rules of the other backend: S < L (AWS-LC checks
        // it too) and R not of small order (AWS-LC does not). The same
        // check as for keys also refuses a non-canonical R, which changes
        // no verdict: both backends compare R byte for byte with the
        // canonical encoding they compute, so such an R never verifies.
        let Some(r) = signature.get(..32) else {
            return false;
        };
        signature.len() == 64 && Ed25519Point::new(r).is_ok() && key.verify_sig(message, signature).is_ok()
    }
}
