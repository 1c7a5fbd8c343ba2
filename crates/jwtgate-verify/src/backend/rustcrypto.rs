//! The pure-Rust backend: p256, p384, p521, ed25519-dalek, hmac + sha2, rsa.

use hmac::{KeyInit as _, Mac as _};
// One `signature` crate for the three curves (ecdsa 0.17), so one import.
use p256::ecdsa::signature::Verifier as _;
use rsa::traits::PublicKeyParts as _;
use sha2::{Digest as _, Sha256, Sha384, Sha512};

use super::{Ed25519Point, Provider, RSA_BITS, RsaPadding, rsa_modulus, strip_zeros};
use crate::algorithm::Hash;
use crate::error::KeyError;

pub(crate) struct RustCrypto;

/// HMAC state after absorbing the key: cloning it per request skips the
/// two key-block compressions that `new_from_slice` would repeat.
pub(crate) struct HmacKeys {
    sha256: hmac::Hmac<Sha256>,
    sha384: hmac::Hmac<Sha384>,
    sha512: hmac::Hmac<Sha512>,
}

impl Provider for RustCrypto {
    type Hmac = HmacKeys;
    type Rsa = rsa::RsaPublicKey;
    type P256 = p256::ecdsa::VerifyingKey;
    type P384 = p384::ecdsa::VerifyingKey;
    type P521 = p521::ecdsa::VerifyingKey;
    type Ed25519 = ed25519_dalek::VerifyingKey;

    fn hmac_key(secret: &[u8]) -> Result<HmacKeys, KeyError> {
        let bad = |_| KeyError::InvalidKey("HMAC key");
        Ok(HmacKeys {
            sha256: hmac::Hmac::new_from_slice(secret).map_err(bad)?,
            sha384: hmac::Hmac::new_from_slice(secret).map_err(bad)?,
            sha512: hmac::Hmac::new_from_slice(secret).map_err(bad)?,
        })
    }

    fn rsa_key(n: &[u8], e: &[u8]) -> Result<rsa::RsaPublicKey, KeyError> {
        let (n, _) = rsa_modulus(n)?;
        let precision = u32::try_from(n.len() * 8).map_err(|_| KeyError::InvalidKey("RSA modulus"))?;
        let n = rsa::BoxedUint::from_be_slice(n, precision).map_err(|_| KeyError::InvalidKey("RSA modulus"))?;
        let e = strip_zeros(e);
        let e_precision = u32::try_from(e.len().max(1) * 8).map_err(|_| KeyError::InvalidKey("RSA exponent"))?;
        let e = rsa::BoxedUint::from_be_slice(e, e_precision).map_err(|_| KeyError::InvalidKey("RSA exponent"))?;
        rsa::RsaPublicKey::new_with_size_limits(n, e, RSA_BITS).map_err(|_| KeyError::InvalidKey("RSA public key"))
    }

    fn rsa_bits(key: &rsa::RsaPublicKey) -> usize {
        key.size() * 8
    }

    fn p256_key(sec1: &[u8]) -> Result<p256::ecdsa::VerifyingKey, KeyError> {
        // from_sec1_bytes checks the point is on the curve and not identity.
        p256::ecdsa::VerifyingKey::from_sec1_bytes(sec1)
            .map_err(|_| KeyError::InvalidKey("P-256 point not on the curve"))
    }

    fn p384_key(sec1: &[u8]) -> Result<p384::ecdsa::VerifyingKey, KeyError> {
        p384::ecdsa::VerifyingKey::from_sec1_bytes(sec1)
            .map_err(|_| KeyError::InvalidKey("P-384 point not on the curve"))
    }

    fn p521_key(sec1: &[u8]) -> Result<p521::ecdsa::VerifyingKey, KeyError> {
        p521::ecdsa::VerifyingKey::from_sec1_bytes(sec1)
            .map_err(|_| KeyError::InvalidKey("P-521 point not on the curve"))
    }

    fn ed25519_key(point: &Ed25519Point) -> Result<ed25519_dalek::VerifyingKey, KeyError> {
        let key = ed25519_dalek::VerifyingKey::from_bytes(point.bytes())
            .map_err(|_| KeyError::InvalidKey("Ed25519 point"))?;
        // Ed25519Point has refused every small-order encoding already;
        // ed25519-dalek's own check stays as a second line (once per key).
        if key.is_weak() {
            return Err(KeyError::InvalidKey("Ed25519 key of small order"));
        }
        Ok(key)
    }

    fn verify_hmac(key: &HmacKeys, hash: Hash, message: &[u8], signature: &[u8]) -> bool {
        // verify_slice compares in constant time and checks the length.
        match hash {
            Hash::Sha256 => mac(key.sha256.clone(), message).verify_slice(signature).is_ok(),
            Hash::Sha384 => mac(key.sha384.clone(), message).verify_slice(signature).is_ok(),
            Hash::Sha512 => mac(key.sha512.clone(), message).verify_slice(signature).is_ok(),
        }
    }

    fn verify_rsa(key: &rsa::RsaPublicKey, padding: RsaPadding, hash: Hash, message: &[u8], signature: &[u8]) -> bool {
        // A signature must be exactly the modulus length (RFC 8017 8.2.2).
        if signature.len() != key.size() {
            return false;
        }
        let salt = hash.output_len();
        let outcome = match (padding, hash) {
            (RsaPadding::Pkcs1v15, Hash::Sha256) => {
                key.verify(rsa::Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message), signature)
            }
            (RsaPadding::Pkcs1v15, Hash::Sha384) => {
                key.verify(rsa::Pkcs1v15Sign::new::<Sha384>(), &Sha384::digest(message), signature)
            }
            (RsaPadding::Pkcs1v15, Hash::Sha512) => {
                key.verify(rsa::Pkcs1v15Sign::new::<Sha512>(), &Sha512::digest(message), signature)
            }
            (RsaPadding::Pss, Hash::Sha256) => {
                key.verify(rsa::Pss::<Sha256>::new_with_salt(salt), &Sha256::digest(message), signature)
            }
            (RsaPadding::Pss, Hash::Sha384) => {
                key.verify(rsa::Pss::<Sha384>::new_with_salt(salt), &Sha384::digest(message), signature)
            }
            (RsaPadding::Pss, Hash::Sha512) => {
                key.verify(rsa::Pss::<Sha512>::new_with_salt(salt), &Sha512::digest(message), signature)
            }
        };
        outcome.is_ok()
    }

    fn verify_p256(key: &p256::ecdsa::VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
        // from_slice takes exactly 64 bytes of r || s and refuses r or s
        // of zero or >= n; a 70-odd byte DER signature never fits.
        let Ok(signature) = p256::ecdsa::Signature::from_slice(signature) else {
            return false;
        };
        key.verify(message, &signature).is_ok()
    }

    fn verify_p384(key: &p384::ecdsa::VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
        // Exactly 96 bytes of r || s, each in [1, n); the digest is SHA-384.
        let Ok(signature) = p384::ecdsa::Signature::from_slice(signature) else {
            return false;
        };
        key.verify(message, &signature).is_ok()
    }

    fn verify_p521(key: &p521::ecdsa::VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
        // Exactly 132 bytes of r || s (66 each), each in [1, n); the digest
        // is SHA-512, shorter than n and so used whole.
        let Ok(signature) = p521::ecdsa::Signature::from_slice(signature) else {
            return false;
        };
        key.verify(message, &signature).is_ok()
    }

    fn verify_ed25519(key: &ed25519_dalek::VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
        let Ok(bytes) = <&[u8; 64]>::try_from(signature) else {
            return false;
        };
        let signature = ed25519_dalek::Signature::from_bytes(bytes);
        key.verify_strict(message, &signature).is_ok()
    }
}

fn mac<M: hmac::Mac>(mut mac: M, message: &[u8]) -> M {
    mac.update(message);
    mac
}
