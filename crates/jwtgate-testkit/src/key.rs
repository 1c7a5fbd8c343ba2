//! Private keys: generation, JWK and PEM encodings, and signing.
//!
//! Signing lives here (and so in xtask and the tests that use this kit),
//! never in the library crates, which only verify.

use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use ed25519_dalek::pkcs8::EncodePublicKey as _;
use hmac::{KeyInit as _, Mac as _};
use rand_core::UnwrapErr;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use rsa::traits::{PrivateKeyParts as _, PublicKeyParts as _};
use rsa::{BoxedUint, RsaPrivateKey};
use serde_json::{Map, Value, json};
use sha2::{Sha256, Sha384, Sha512};

use crate::alg::{self, Alg, Family, Hash, Signing as _};
use crate::error::{Context as _, Error, Result};
use crate::jwk::{b64, member_bytes, member_str, minimal};

/// RSA sizes keygen offers; below 2048 bits is refused (RFC 7518 section 3.3).
pub const RSA_BITS: [usize; 3] = [2048, 3072, 4096];

/// A private signing key bound to one algorithm.
pub struct PrivateKey {
    alg: Alg,
    material: Material,
}

enum Material {
    Hmac(Vec<u8>),
    Rsa(Box<RsaPrivateKey>),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
}

/// The operating system's CSPRNG, as an infallible `CryptoRng` (a failing
/// OS RNG aborts key generation with a panic in the RNG adapter, which for
/// a developer tool is the right outcome: never a weak key).
fn os_rng() -> UnwrapErr<getrandom::SysRng> {
    UnwrapErr(getrandom::SysRng)
}

impl PrivateKey {
    /// Generates a fresh key for `alg`. `rsa_bits` applies to RS*/PS* only.
    ///
    /// # Errors
    ///
    /// For an RSA size other than 2048, 3072 or 4096, for `rsa_bits` given
    /// with a non-RSA algorithm, or if the OS RNG fails.
    pub fn generate(alg: Alg, rsa_bits: Option<usize>) -> Result<Self> {
        if !alg.is_rsa() && rsa_bits.is_some() {
            return Err(Error::msg(format!("--bits applies to RSA algorithms only, not {alg}")));
        }
        let material = match alg.signing() {
            Family::Hmac(hash) => {
                // RFC 7518 section 3.2: a key of at least the hash size.
                let mut secret = vec![0u8; hash.output_len()];
                getrandom::fill(&mut secret).context(|| "OS random number generator failed".to_owned())?;
                Material::Hmac(secret)
            }
            Family::RsaPkcs1(_) | Family::RsaPss(_) => {
                let bits = rsa_bits.unwrap_or(2048);
                if !RSA_BITS.contains(&bits) {
                    return Err(Error::msg(format!(
                        "RSA keys must be 2048, 3072 or 4096 bits, not {bits} (smaller keys are unsafe and refused)"
                    )));
                }
                let key = RsaPrivateKey::new(&mut os_rng(), bits).context(|| "RSA key generation failed".to_owned())?;
                Material::Rsa(Box::new(key))
            }
            Family::P256 => {
                use p256::elliptic_curve::Generate as _;
                let key = p256::ecdsa::SigningKey::try_generate_from_rng(&mut getrandom::SysRng)
                    .context(|| "OS random number generator failed".to_owned())?;
                Material::P256(key)
            }
            Family::P384 => {
                use p384::elliptic_curve::Generate as _;
                let key = p384::ecdsa::SigningKey::try_generate_from_rng(&mut getrandom::SysRng)
                    .context(|| "OS random number generator failed".to_owned())?;
                Material::P384(key)
            }
            Family::P521 => {
                use p521::elliptic_curve::Generate as _;
                let key = p521::ecdsa::SigningKey::try_generate_from_rng(&mut getrandom::SysRng)
                    .context(|| "OS random number generator failed".to_owned())?;
                Material::P521(key)
            }
            Family::Ed25519 => Material::Ed25519(ed25519_dalek::SigningKey::generate(&mut os_rng())),
        };
        Ok(Self { alg, material })
    }

    /// The algorithm this key signs with.
    pub const fn alg(&self) -> Alg {
        self.alg
    }

    /// Loads a private JWK. The algorithm is the JWK's `alg`, or `alg` when
    /// the JWK has none; if both are given they must agree.
    ///
    /// # Errors
    ///
    /// For a public-only or malformed JWK, an algorithm that does not fit
    /// the key type, or a key whose public part does not match its private part.
    pub fn from_jwk(jwk: &Map<String, Value>, alg: Option<Alg>) -> Result<Self> {
        let jwk_alg = match jwk.get("alg") {
            Some(Value::String(name)) => Some(alg::parse(name)?),
            Some(_) => return Err(Error::msg("JWK member \"alg\" must be a string")),
            None => None,
        };
        let alg = match (jwk_alg, alg) {
            (Some(a), Some(b)) if a != b => {
                return Err(Error::msg(format!("the JWK is for {a}, not {b}")));
            }
            (Some(a), _) | (None, Some(a)) => a,
            (None, None) => return Err(Error::msg("the JWK has no \"alg\"; pass --alg")),
        };
        let kty = member_str(jwk, "kty")?;
        if kty != alg.kty() {
            return Err(Error::msg(format!("{alg} needs a {} key, but the JWK has kty {kty:?}", alg.kty())));
        }
        let material = match alg.signing() {
            Family::Hmac(hash) => {
                let secret = member_bytes(jwk, "k")?;
                if secret.len() < hash.output_len() {
                    return Err(Error::msg(format!(
                        "{alg} needs a secret of at least {} bytes, the JWK has {}",
                        hash.output_len(),
                        secret.len()
                    )));
                }
                Material::Hmac(secret)
            }
            Family::RsaPkcs1(_) | Family::RsaPss(_) => Material::Rsa(Box::new(rsa_from_jwk(jwk)?)),
            Family::P256 => {
                if member_str(jwk, "crv")? != "P-256" {
                    return Err(Error::msg("ES256 needs crv \"P-256\""));
                }
                let d = member_bytes(jwk, "d").context(|| "not a private key".to_owned())?;
                let key = p256::ecdsa::SigningKey::from_slice(&d).context(|| "invalid P-256 private key".to_owned())?;
                Material::P256(key)
            }
            Family::P384 => {
                if member_str(jwk, "crv")? != "P-384" {
                    return Err(Error::msg("ES384 needs crv \"P-384\""));
                }
                let d = member_bytes(jwk, "d").context(|| "not a private key".to_owned())?;
                let key = p384::ecdsa::SigningKey::from_slice(&d).context(|| "invalid P-384 private key".to_owned())?;
                Material::P384(key)
            }
            Family::P521 => {
                if member_str(jwk, "crv")? != "P-521" {
                    return Err(Error::msg("ES512 needs crv \"P-521\""));
                }
                let d = member_bytes(jwk, "d").context(|| "not a private key".to_owned())?;
                let key = p521::ecdsa::SigningKey::from_slice(&d).context(|| "invalid P-521 private key".to_owned())?;
                Material::P521(key)
            }
            Family::Ed25519 => {
                if member_str(jwk, "crv")? != "Ed25519" {
                    return Err(Error::msg("EdDSA keys here are crv \"Ed25519\""));
                }
                let d = member_bytes(jwk, "d").context(|| "not a private key".to_owned())?;
                let d: [u8; 32] = d.try_into().map_err(|_| Error::msg("Ed25519 \"d\" must be 32 bytes"))?;
                Material::Ed25519(ed25519_dalek::SigningKey::from_bytes(&d))
            }
        };
        let key = Self { alg, material };
        // The public members must describe the same key as the private ones,
        // or tokens would verify against a different key than expected.
        for (name, value) in key.public_members() {
            if jwk.get(&name).is_some_and(|v| *v != value) {
                return Err(Error::msg(format!("JWK member {name:?} does not match the private key")));
            }
        }
        Ok(key)
    }

    /// The key-type members of the public JWK (no kid/alg/use).
    fn public_members(&self) -> Map<String, Value> {
        let value = match &self.material {
            Material::Hmac(secret) => json!({ "kty": "oct", "k": b64(secret) }),
            Material::Rsa(key) => json!({
                "kty": "RSA",
                "n": b64(minimal(&key.n_bytes())),
                "e": b64(minimal(&key.e_bytes())),
            }),
            Material::P256(key) => {
                let point = key.verifying_key().to_sec1_point(false);
                let (x, y) = (point.x().map(b64), point.y().map(b64));
                json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y })
            }
            Material::P384(key) => {
                let point = key.verifying_key().to_sec1_point(false);
                let (x, y) = (point.x().map(b64), point.y().map(b64));
                json!({ "kty": "EC", "crv": "P-384", "x": x, "y": y })
            }
            Material::P521(key) => {
                let point = key.verifying_key().to_sec1_point(false);
                let (x, y) = (point.x().map(b64), point.y().map(b64));
                json!({ "kty": "EC", "crv": "P-521", "x": x, "y": y })
            }
            Material::Ed25519(key) => {
                json!({ "kty": "OKP", "crv": "Ed25519", "x": b64(key.verifying_key().as_bytes()) })
            }
        };
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    /// The public JWK with `kid`, `alg` and `use`; `None` for HMAC keys,
    /// which have no public half.
    pub fn public_jwk(&self, kid: &str) -> Option<Map<String, Value>> {
        if matches!(self.material, Material::Hmac(_)) {
            return None;
        }
        Some(with_metadata(self.public_members(), kid, self.alg))
    }

    /// The private JWK with `kid`, `alg` and `use`.
    ///
    /// # Errors
    ///
    /// If an RSA key lacks its CRT parameters (never for generated keys).
    pub fn private_jwk(&self, kid: &str) -> Result<Map<String, Value>> {
        let mut map = self.public_members();
        match &self.material {
            Material::Hmac(_) => {}
            Material::Rsa(key) => {
                let missing = || Error::msg("RSA key lacks CRT parameters");
                let [p, q] = key.primes() else {
                    return Err(Error::msg("RSA key must have exactly two primes"));
                };
                let qi = key.crt_coefficient().ok_or_else(missing)?;
                let members = [
                    ("d", key.d().to_be_bytes()),
                    ("p", p.to_be_bytes()),
                    ("q", q.to_be_bytes()),
                    ("dp", key.dp().ok_or_else(missing)?.to_be_bytes()),
                    ("dq", key.dq().ok_or_else(missing)?.to_be_bytes()),
                    ("qi", qi.to_be_bytes()),
                ];
                for (name, bytes) in members {
                    map.insert(name.to_owned(), Value::String(b64(minimal(&bytes))));
                }
            }
            Material::P256(key) => {
                map.insert("d".to_owned(), Value::String(b64(key.to_bytes())));
            }
            Material::P384(key) => {
                map.insert("d".to_owned(), Value::String(b64(key.to_bytes())));
            }
            Material::P521(key) => {
                map.insert("d".to_owned(), Value::String(b64(key.to_bytes())));
            }
            Material::Ed25519(key) => {
                map.insert("d".to_owned(), Value::String(b64(key.to_bytes())));
            }
        }
        Ok(with_metadata(map, kid, self.alg))
    }

    /// The key's RFC 7638 thumbprint, computed over the public members (the
    /// secret itself for HMAC keys, which RFC 7638 defines for `oct`).
    ///
    /// # Errors
    ///
    /// Never for keys built by this type.
    pub fn thumbprint(&self) -> Result<String> {
        crate::jwk::thumbprint(&self.public_members())
    }

    /// PKCS#8 private key and SPKI public key in PEM; `None` for HMAC keys.
    ///
    /// # Errors
    ///
    /// If encoding fails (never for keys built by this type).
    pub fn pems(&self) -> Result<Option<(String, String)>> {
        use rsa::pkcs8::LineEnding::LF;
        let failed = || "PEM encoding failed".to_owned();
        Ok(Some(match &self.material {
            Material::Hmac(_) => return Ok(None),
            Material::Rsa(key) => {
                use rsa::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
                let private = key.to_pkcs8_pem(LF).context(failed)?.to_string();
                (private, key.to_public_key().to_public_key_pem(LF).context(failed)?)
            }
            Material::P256(key) => {
                use p256::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
                let private = key.to_pkcs8_pem(LF).context(failed)?.to_string();
                (private, key.verifying_key().to_public_key_pem(LF).context(failed)?)
            }
            Material::P384(key) => {
                use p384::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
                let private = key.to_pkcs8_pem(LF).context(failed)?.to_string();
                (private, key.verifying_key().to_public_key_pem(LF).context(failed)?)
            }
            Material::P521(key) => {
                use p521::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
                let private = key.to_pkcs8_pem(LF).context(failed)?.to_string();
                (private, key.verifying_key().to_public_key_pem(LF).context(failed)?)
            }
            Material::Ed25519(key) => {
                let private = key.to_pkcs8_pem(LF).context(failed)?.to_string();
                (private, key.verifying_key().to_public_key_pem(LF).context(failed)?)
            }
        }))
    }

    /// The compact JWS `header.payload.signature` of exactly this header
    /// and payload text, each base64url-encoded byte for byte as given: a
    /// well-formed token, or a deliberately broken one (duplicate members,
    /// odd spacing, a header naming another algorithm, non-objects).
    ///
    /// # Errors
    ///
    /// If the underlying signer fails.
    pub fn sign_compact(&self, header: &str, payload: &str) -> Result<String> {
        let signing_input = format!("{}.{}", b64(header), b64(payload));
        let signature = self.sign(signing_input.as_bytes())?;
        Ok(format!("{signing_input}.{}", b64(signature)))
    }

    /// Signs `message` (the JWS signing input) and returns the raw signature
    /// in its JWS form.
    ///
    /// # Errors
    ///
    /// If the underlying signer fails.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let failed = |_| Error::msg(format!("{} signing failed", self.alg));
        Ok(match (&self.material, self.alg.signing()) {
            (Material::Hmac(secret), Family::Hmac(hash)) => hmac(hash, secret, message)?,
            (Material::Rsa(key), Family::RsaPkcs1(hash)) => {
                let key = (**key).clone();
                match hash {
                    Hash::Sha256 => {
                        rsa::pkcs1v15::SigningKey::<Sha256>::new(key).try_sign(message).map_err(failed)?.to_vec()
                    }
                    Hash::Sha384 => {
                        rsa::pkcs1v15::SigningKey::<Sha384>::new(key).try_sign(message).map_err(failed)?.to_vec()
                    }
                    Hash::Sha512 => {
                        rsa::pkcs1v15::SigningKey::<Sha512>::new(key).try_sign(message).map_err(failed)?.to_vec()
                    }
                }
            }
            (Material::Rsa(key), Family::RsaPss(hash)) => {
                // Salt length = hash length, as RFC 7518 section 3.5 requires.
                let key = (**key).clone();
                match hash {
                    Hash::Sha256 => {
                        rsa::pss::SigningKey::<Sha256>::new(key).try_sign(message).map_err(failed)?.to_vec()
                    }
                    Hash::Sha384 => {
                        rsa::pss::SigningKey::<Sha384>::new(key).try_sign(message).map_err(failed)?.to_vec()
                    }
                    Hash::Sha512 => {
                        rsa::pss::SigningKey::<Sha512>::new(key).try_sign(message).map_err(failed)?.to_vec()
                    }
                }
            }
            (Material::P256(key), Family::P256) => {
                let sig: p256::ecdsa::Signature = key.try_sign(message).map_err(failed)?;
                sig.to_bytes().to_vec()
            }
            // r || s at the curve's full width (RFC 7518 3.4): 96 and 132 bytes.
            (Material::P384(key), Family::P384) => {
                let sig: p384::ecdsa::Signature = key.try_sign(message).map_err(failed)?;
                sig.to_bytes().to_vec()
            }
            (Material::P521(key), Family::P521) => {
                let sig: p521::ecdsa::Signature = key.try_sign(message).map_err(failed)?;
                sig.to_bytes().to_vec()
            }
            (Material::Ed25519(key), Family::Ed25519) => key.try_sign(message).map_err(failed)?.to_bytes().to_vec(),
            _ => {
                return Err(Error::msg(format!("key material does not fit {}", self.alg)));
            }
        })
    }
}

fn hmac(hash: Hash, secret: &[u8], message: &[u8]) -> Result<Vec<u8>> {
    let bad = |_| Error::msg("invalid HMAC key");
    Ok(match hash {
        Hash::Sha256 => {
            let mut mac = hmac::Hmac::<Sha256>::new_from_slice(secret).map_err(bad)?;
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        }
        Hash::Sha384 => {
            let mut mac = hmac::Hmac::<Sha384>::new_from_slice(secret).map_err(bad)?;
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        }
        Hash::Sha512 => {
            let mut mac = hmac::Hmac::<Sha512>::new_from_slice(secret).map_err(bad)?;
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        }
    })
}

fn with_metadata(mut map: Map<String, Value>, kid: &str, alg: Alg) -> Map<String, Value> {
    map.insert("kid".to_owned(), Value::String(kid.to_owned()));
    map.insert("alg".to_owned(), Value::String(alg.name().to_owned()));
    map.insert("use".to_owned(), Value::String("sig".to_owned()));
    map
}

/// Rebuilds an RSA private key from its JWK members, the way the `rsa`
/// crate's own PKCS#1 decoder does (all integers at the modulus' width).
fn rsa_from_jwk(jwk: &Map<String, Value>) -> Result<RsaPrivateKey> {
    if jwk.contains_key("oth") {
        return Err(Error::msg("multi-prime RSA keys (\"oth\") are not supported"));
    }
    let n = member_bytes(jwk, "n")?;
    let bits = u32::try_from(n.len() * 8).map_err(|_| Error::msg("RSA modulus too large"))?;
    let uint = |name: &str, bits: u32| -> Result<BoxedUint> {
        let bytes = member_bytes(jwk, name)?;
        BoxedUint::from_be_slice(&bytes, bits).map_err(|_| Error::msg(format!("RSA member {name:?} is too large")))
    };
    let e_len = member_bytes(jwk, "e")?.len();
    let e_bits = u32::try_from(e_len * 8).map_err(|_| Error::msg("RSA exponent too large"))?;
    let d = uint("d", bits).context(|| "not a private key".to_owned())?;
    let key = RsaPrivateKey::from_components(
        uint("n", bits)?,
        uint("e", e_bits)?,
        d,
        vec![uint("p", bits)?, uint("q", bits)?],
    )
    .context(|| "invalid RSA private key".to_owned())?;
    if key.size() * 8 < 2048 {
        return Err(Error::msg(format!("RSA key is {} bits; at least 2048 are required", key.size() * 8)));
    }
    Ok(key)
}
