//! One verification key, bound to one key family (and maybe one algorithm).

use std::fmt;

use crate::algorithm::{Algorithm, KeyFamily};
use crate::backend::{Active, Ed25519Point, Provider, RsaPadding};
use crate::error::KeyError;

type Hmac = <Active as Provider>::Hmac;
type Rsa = <Active as Provider>::Rsa;
type P256 = <Active as Provider>::P256;
type P384 = <Active as Provider>::P384;
type P521 = <Active as Provider>::P521;
type Ed25519 = <Active as Provider>::Ed25519;

/// A public key (or HMAC secret) parsed once into the crypto backend's
/// ready-to-verify form.
///
/// A key verifies exactly one [`KeyFamily`], decided by its type: an RSA
/// key can never be used as an HMAC secret, which is what makes the HS/RS
/// key-confusion attack impossible to express. If the key was loaded with an
/// `alg` (a JWK member, or [`VerifyingKey::with_alg`]) it verifies only that
/// algorithm.
///
/// Construction validates everything that can be validated once: point on
/// the curve, weak Ed25519 keys, RSA sizes (2048 to 8192 bits), HMAC secret
/// length (at least the hash size), `use` and `key_ops`.
pub struct VerifyingKey {
    kid: Option<Box<str>>,
    alg: Option<Algorithm>,
    material: Material,
    /// The same for two keys made from the same material (a JWKS fetched
    /// again gives new keys with the same ids): what the verified-token
    /// cache remembers, to drop what a key verified once it leaves the set.
    id: u64,
}

enum Material {
    /// The length is kept to refuse an algorithm whose hash is longer than
    /// the secret (RFC 7518 section 3.2).
    /// Boxed: the three keyed HMAC states are several times larger than
    /// any other variant.
    Hmac(Box<Hmac>, usize),
    /// Boxed for the same reason (the native backend keeps six parsed keys).
    Rsa(Box<Rsa>),
    P256(P256),
    P384(P384),
    P521(P521),
    Ed25519(Ed25519),
}

impl VerifyingKey {
    /// An HMAC secret for one HS* algorithm.
    ///
    /// # Errors
    ///
    /// [`KeyError::AlgMismatch`] if `alg` is not HS256/384/512, and
    /// [`KeyError::BadKeySize`] if the secret is shorter than the hash
    /// (32, 48 or 64 bytes): short secrets can be brute-forced offline from
    /// a single token.
    pub fn hmac(secret: &[u8], alg: Algorithm) -> Result<Self, KeyError> {
        if alg.family() != KeyFamily::Hmac {
            return Err(KeyError::AlgMismatch);
        }
        let key = Self::hmac_any(secret)?;
        key.with_alg(alg)
    }

    /// An HMAC secret usable for every HS* algorithm its length allows.
    pub(crate) fn hmac_any(secret: &[u8]) -> Result<Self, KeyError> {
        let min = crate::algorithm::Hash::Sha256.output_len();
        if secret.len() < min {
            return Err(KeyError::BadKeySize(format!(
                "HMAC secret of {} bytes (at least {min} required)",
                secret.len()
            )));
        }
        Ok(Self::new(Material::Hmac(Box::new(Active::hmac_key(secret)?), secret.len()), &[secret]))
    }

    pub(crate) fn rsa(n: &[u8], e: &[u8]) -> Result<Self, KeyError> {
        Ok(Self::new(Material::Rsa(Box::new(Active::rsa_key(n, e)?)), &[n, e]))
    }

    pub(crate) fn p256(sec1: &[u8]) -> Result<Self, KeyError> {
        // Uncompressed only, checked here rather than in each backend: the
        // RustCrypto backend would also take a compressed point (from PEM
        // or DER), AWS-LC would not, and the backends must accept the same
        // keys. JWKs always carry both coordinates.
        if sec1.len() != 65 || sec1.first() != Some(&0x04) {
            return Err(KeyError::InvalidKey("P-256 key must be an uncompressed point"));
        }
        Ok(Self::new(Material::P256(Active::p256_key(sec1)?), &[sec1]))
    }

    pub(crate) fn p384(sec1: &[u8]) -> Result<Self, KeyError> {
        // As for P-256: uncompressed only, 0x04 || x (48) || y (48).
        if sec1.len() != 97 || sec1.first() != Some(&0x04) {
            return Err(KeyError::InvalidKey("P-384 key must be an uncompressed point"));
        }
        Ok(Self::new(Material::P384(Active::p384_key(sec1)?), &[sec1]))
    }

    pub(crate) fn p521(sec1: &[u8]) -> Result<Self, KeyError> {
        // As for P-256: uncompressed only, 0x04 || x (66) || y (66).
        if sec1.len() != 133 || sec1.first() != Some(&0x04) {
            return Err(KeyError::InvalidKey("P-521 key must be an uncompressed point"));
        }
        Ok(Self::new(Material::P521(Active::p521_key(sec1)?), &[sec1]))
    }

    pub(crate) fn ed25519(x: &[u8]) -> Result<Self, KeyError> {
        // Length, canonical encoding and small order are checked on the
        // bytes, before the backend: both backends then refuse the same keys.
        let point = Ed25519Point::new(x)?;
        Ok(Self::new(Material::Ed25519(Active::ed25519_key(&point)?), &[x]))
    }

    /// A key of `material`, made from the bytes `parts` (the public key, or
    /// the HMAC secret), which give it its id.
    fn new(material: Material, parts: &[&[u8]]) -> Self {
        use std::hash::{BuildHasher, Hasher};
        // A fixed seed: equal material gives an equal id in this process.
        // Not a security boundary: keys come from the configuration or the
        // issuer, never from a token.
        let mut hasher = foldhash::fast::FixedState::default().build_hasher();
        hasher.write_u8(material.tag());
        for part in parts {
            hasher.write_usize(part.len());
            hasher.write(part);
        }
        Self { kid: None, alg: None, material, id: hasher.finish() }
    }

    /// The key's id for the token cache (see the field).
    pub(crate) const fn id(&self) -> u64 {
        self.id
    }

    /// Sets the key ID that tokens name in their `kid` header.
    ///
    /// # Errors
    ///
    /// [`KeyError::KidTooLong`] for a kid longer than
    /// [`MAX_KID_BYTES`](crate::MAX_KID_BYTES), which no token could name
    /// (tokens with a longer `kid` are refused before lookup).
    pub fn with_kid(mut self, kid: impl Into<String>) -> Result<Self, KeyError> {
        let kid = kid.into();
        if kid.len() > crate::key_set::MAX_KID_BYTES {
            return Err(KeyError::KidTooLong { max: crate::key_set::MAX_KID_BYTES });
        }
        self.kid = Some(kid.into_boxed_str());
        Ok(self)
    }

    /// Restricts the key to one algorithm.
    ///
    /// # Errors
    ///
    /// [`KeyError::AlgMismatch`] if the algorithm is of another family, or
    /// the key is already bound to a different algorithm;
    /// [`KeyError::BadKeySize`] for an HMAC secret shorter than its hash.
    pub fn with_alg(mut self, alg: Algorithm) -> Result<Self, KeyError> {
        if alg.family() != self.family() || self.alg.is_some_and(|a| a != alg) {
            return Err(KeyError::AlgMismatch);
        }
        if let Material::Hmac(_, len) = self.material {
            let min = alg.hash().output_len();
            if len < min {
                return Err(KeyError::BadKeySize(format!("{alg} needs a secret of at least {min} bytes, not {len}")));
            }
        }
        self.alg = Some(alg);
        Ok(self)
    }

    /// The key ID, if any.
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The one algorithm this key is bound to, if it is bound.
    #[must_use]
    pub const fn alg(&self) -> Option<Algorithm> {
        self.alg
    }

    /// The family of algorithms the key can verify.
    #[must_use]
    pub const fn family(&self) -> KeyFamily {
        match self.material {
            Material::Hmac(..) => KeyFamily::Hmac,
            Material::Rsa(_) => KeyFamily::Rsa,
            Material::P256(_) => KeyFamily::P256,
            Material::P384(_) => KeyFamily::P384,
            Material::P521(_) => KeyFamily::P521,
            Material::Ed25519(_) => KeyFamily::Ed25519,
        }
    }

    /// `true` if this key may verify a token signed with `alg`: same family,
    /// the bound algorithm if there is one, and for HMAC a secret at least
    /// as long as the hash.
    #[must_use]
    pub fn fits(&self, alg: Algorithm) -> bool {
        let family = alg.family() == self.family() && self.alg.is_none_or(|a| a == alg);
        match self.material {
            Material::Hmac(_, len) => family && len >= alg.hash().output_len(),
            _ => family,
        }
    }

    /// Checks `signature` over `message`. Callers have already checked
    /// [`VerifyingKey::fits`]; a key of the wrong family returns `false`.
    pub(crate) fn verify_signature(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        if !self.fits(alg) {
            return false;
        }
        let hash = alg.hash();
        match (&self.material, alg) {
            (Material::Hmac(key, _), _) => Active::verify_hmac(key, hash, message, signature),
            (Material::Rsa(key), Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512) => {
                Active::verify_rsa(key, RsaPadding::Pkcs1v15, hash, message, signature)
            }
            (Material::Rsa(key), _) => Active::verify_rsa(key, RsaPadding::Pss, hash, message, signature),
            (Material::P256(key), _) => Active::verify_p256(key, message, signature),
            (Material::P384(key), _) => Active::verify_p384(key, message, signature),
            (Material::P521(key), _) => Active::verify_p521(key, message, signature),
            (Material::Ed25519(key), _) => Active::verify_ed25519(key, message, signature),
        }
    }

    /// A short description for logs: family, size, kid, alg. Never key bytes.
    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.material {
            Material::Hmac(_, len) => write!(f, "HMAC secret of {len} bytes")?,
            Material::Rsa(key) => write!(f, "RSA-{}", Active::rsa_bits(key))?,
            Material::P256(_) => f.write_str("P-256")?,
            Material::P384(_) => f.write_str("P-384")?,
            Material::P521(_) => f.write_str("P-521")?,
            Material::Ed25519(_) => f.write_str("Ed25519")?,
        }
        if let Some(kid) = &self.kid {
            write!(f, " kid={kid:?}")?;
        }
        if let Some(alg) = self.alg {
            write!(f, " alg={alg}")?;
        }
        Ok(())
    }
}

impl Material {
    /// Which kind of material, so equal bytes of two kinds differ in id.
    const fn tag(&self) -> u8 {
        match self {
            Self::Hmac(..) => 0,
            Self::Rsa(_) => 1,
            Self::P256(_) => 2,
            Self::Ed25519(_) => 3,
            Self::P384(_) => 4,
            Self::P521(_) => 5,
        }
    }
}

/// Shows the key's type, size, kid and alg; never key material.
impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerifyingKey(")?;
        self.describe(f)?;
        f.write_str(")")
    }
}
