//! Keys from JWK documents (RFC 7517), parsed with `jose-jwk`.

use jose_jwk::jose_jwa::{Algorithm as JwaAlgorithm, Signing};
use jose_jwk::{Class, EcCurves, Jwk, Key, OkpCurves, Operations};
use serde::Deserialize as _;

use crate::algorithm::Algorithm;
use crate::error::KeyError;
use crate::key::VerifyingKey;

impl VerifyingKey {
    /// Builds a key from one JWK (JSON text).
    ///
    /// Public members are used; private members (`d`, `p`, ...) of an
    /// asymmetric key are ignored: verification never needs them.
    ///
    /// # Errors
    ///
    /// Any [`KeyError`]: not a JWK, an unsupported `kty`/`crv`/`alg`, `use`
    /// other than `sig`, `key_ops` without `verify`, invalid material.
    pub fn from_jwk_str(json: &str) -> Result<Self, KeyError> {
        let value: serde_json::Value = serde_json::from_str(json).map_err(|e| KeyError::InvalidJwk(e.to_string()))?;
        Self::from_jwk_value(value)
    }

    /// Builds a key from one JWK as a JSON value.
    ///
    /// # Errors
    ///
    /// As [`VerifyingKey::from_jwk_str`].
    pub fn from_jwk_value(value: serde_json::Value) -> Result<Self, KeyError> {
        supported_alg_name(&value)?;
        let jwk = Jwk::deserialize(&value).map_err(|e| invalid_jwk(&value, &e))?;
        Self::from_jose(&jwk)
    }

    fn from_jose(jwk: &Jwk) -> Result<Self, KeyError> {
        if matches!(jwk.prm.cls, Some(Class::Encryption)) {
            return Err(KeyError::NotForSignatures);
        }
        if let Some(ops) = &jwk.prm.ops
            && !ops.contains(&Operations::Verify)
        {
            return Err(KeyError::VerifyNotAllowed);
        }
        let alg = match &jwk.prm.alg {
            None => None,
            Some(JwaAlgorithm::Signing(signing)) => Some(algorithm(*signing)?),
            Some(_) => return Err(KeyError::NotForSignatures),
        };
        let key = match &jwk.key {
            Key::Oct(oct) => Self::hmac_any(&oct.k)?,
            Key::Rsa(rsa) => Self::rsa(&rsa.n, &rsa.e)?,
            Key::Ec(ec) => {
                // RFC 7518 6.2.1.2/6.2.1.3: each coordinate is exactly the
                // full-length octet string of its curve (leading zeros kept).
                type Build = fn(&[u8]) -> Result<VerifyingKey, KeyError>;
                let (len, build, wrong_length): (usize, Build, &'static str) = match ec.crv {
                    EcCurves::P256 => (32, Self::p256, "P-256 coordinates must be 32 bytes each"),
                    EcCurves::P384 => (48, Self::p384, "P-384 coordinates must be 48 bytes each"),
                    EcCurves::P521 => (66, Self::p521, "P-521 coordinates must be 66 bytes each"),
                    _ => return Err(KeyError::UnsupportedCurve),
                };
                let (x, y): (&[u8], &[u8]) = (&ec.x, &ec.y);
                if x.len() != len || y.len() != len {
                    return Err(KeyError::InvalidKey(wrong_length));
                }
                // Uncompressed SEC1: 0x04 || x || y.
                build(&[&[0x04][..], x, y].concat())?
            }
            Key::Okp(okp) => match okp.crv {
                OkpCurves::Ed25519 => Self::ed25519(&okp.x)?,
                _ => return Err(KeyError::UnsupportedCurve),
            },
            _ => return Err(KeyError::UnsupportedKeyType),
        };
        let key = match &jwk.prm.kid {
            Some(kid) => key.with_kid(kid.clone())?,
            None => key,
        };
        match alg {
            Some(alg) => key.with_alg(alg),
            None => Ok(key),
        }
    }
}

/// An `alg` naming no algorithm jwtgate verifies is refused by that name
/// (`RSA-OAEP`, `ES256K`), before jose-jwk, which reports a name it does not
/// know only as a failed match of its enum.
fn supported_alg_name(jwk: &serde_json::Value) -> Result<(), KeyError> {
    match jwk.get("alg").and_then(serde_json::Value::as_str) {
        Some(name) if Algorithm::from_name(name).is_none() => {
            Err(KeyError::UnsupportedAlg(name.chars().take(32).collect()))
        }
        _ => Ok(()),
    }
}

/// jose-jwk reports bad base64 as "invalid base64" without naming the
/// member; name it, so whoever maintains the key set knows which field to
/// fix (the usual culprit is an `x5t` written in the standard alphabet).
fn invalid_jwk(jwk: &serde_json::Value, error: &serde_json::Error) -> KeyError {
    const BASE64URL_MEMBERS: [&str; 7] = ["k", "n", "e", "x", "y", "x5t", "x5t#S256"];
    let not_base64url = |text: &str| {
        let mut out = vec![0u8; jwtgate_parse::base64url::decoded_len(text.len()).unwrap_or(0)];
        jwtgate_parse::base64url::decode(text.as_bytes(), &mut out).is_err()
    };
    let bad = BASE64URL_MEMBERS
        .into_iter()
        .find(|name| jwk.get(name).and_then(serde_json::Value::as_str).is_some_and(not_base64url));
    match bad {
        Some(name) => KeyError::InvalidJwk(format!("{error} (member \"{name}\" is not canonical base64url)")),
        None => KeyError::InvalidJwk(error.to_string()),
    }
}

fn algorithm(signing: Signing) -> Result<Algorithm, KeyError> {
    Ok(match signing {
        Signing::Hs256 => Algorithm::HS256,
        Signing::Hs384 => Algorithm::HS384,
        Signing::Hs512 => Algorithm::HS512,
        Signing::Rs256 => Algorithm::RS256,
        Signing::Rs384 => Algorithm::RS384,
        Signing::Rs512 => Algorithm::RS512,
        Signing::Ps256 => Algorithm::PS256,
        Signing::Ps384 => Algorithm::PS384,
        Signing::Ps512 => Algorithm::PS512,
        Signing::Es256 => Algorithm::ES256,
        Signing::Es384 => Algorithm::ES384,
        Signing::Es512 => Algorithm::ES512,
        Signing::EdDsa => Algorithm::EdDSA,
        _ => return Err(KeyError::AlgMismatch),
    })
}
