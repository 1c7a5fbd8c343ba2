//! Keys from PEM and DER: SPKI (`PUBLIC KEY`) and PKCS#1 (`RSA PUBLIC KEY`).

use spki::der::Decode as _;
use spki::{ObjectIdentifier, SubjectPublicKeyInfoRef};

use crate::error::KeyError;
use crate::key::VerifyingKey;

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const PRIME256V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const SECP521R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

impl VerifyingKey {
    /// A public key from PEM: `-----BEGIN PUBLIC KEY-----` (SPKI: RSA,
    /// P-256, P-384, P-521 or Ed25519) or `-----BEGIN RSA PUBLIC KEY-----` (PKCS#1).
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidPem`] for anything else, private keys and
    /// certificates included (give the public key; a certificate's key is
    /// not trusted just for being in a certificate).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let (label, der) =
            pem_rfc7468::decode_vec(pem.trim().as_bytes()).map_err(|e| KeyError::InvalidPem(e.to_string()))?;
        match label {
            "PUBLIC KEY" => Self::from_spki_der(&der),
            "RSA PUBLIC KEY" => rsa_pkcs1(&der),
            other => Err(KeyError::InvalidPem(format!("expected PUBLIC KEY or RSA PUBLIC KEY, found {other}"))),
        }
    }

    /// A public key from DER-encoded SubjectPublicKeyInfo (RFC 5280 4.1.2.7).
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidPem`] for malformed DER or an algorithm other than
    /// RSA, EC P-256, P-384 and P-521, and Ed25519 ([`KeyError::UnsupportedCurve`]
    /// for another named curve).
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(|e| KeyError::InvalidPem(e.to_string()))?;
        let key =
            spki.subject_public_key.as_bytes().ok_or_else(|| KeyError::InvalidPem("unused bits in key".into()))?;
        match spki.algorithm.oid {
            RSA_ENCRYPTION => rsa_pkcs1(key),
            EC_PUBLIC_KEY => {
                // The named curve decides the key's family (RFC 5480 2.1.1);
                // each constructor checks the point's length for its curve.
                match spki.algorithm.parameters_oid().map_err(|e| KeyError::InvalidPem(e.to_string()))? {
                    PRIME256V1 => Self::p256(key),
                    SECP384R1 => Self::p384(key),
                    SECP521R1 => Self::p521(key),
                    _ => Err(KeyError::UnsupportedCurve),
                }
            }
            ED25519 => Self::ed25519(key),
            other => Err(KeyError::InvalidPem(format!("unsupported key algorithm {other}"))),
        }
    }
}

fn rsa_pkcs1(der: &[u8]) -> Result<VerifyingKey, KeyError> {
    let key =
        pkcs1::RsaPublicKey::<pkcs1::UintRef<'_>>::from_der(der).map_err(|e| KeyError::InvalidPem(e.to_string()))?;
    VerifyingKey::rsa(key.modulus.as_bytes(), key.public_exponent.as_bytes())
}
