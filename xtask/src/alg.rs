//! The JWS algorithms xtask can make keys for and sign with.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// A JWS `alg` value (RFC 7518 section 3.1, RFC 8037 for EdDSA).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(clippy::upper_case_acronyms, reason = "variants are spelled as the registered alg names")]
pub enum Alg {
    /// HMAC with SHA-256.
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256 and MGF1, salt = 32 bytes.
    PS256,
    /// RSASSA-PSS with SHA-384 and MGF1, salt = 48 bytes.
    PS384,
    /// RSASSA-PSS with SHA-512 and MGF1, salt = 64 bytes.
    PS512,
    /// ECDSA on P-256 with SHA-256, signature as raw r||s.
    ES256,
    /// Ed25519.
    EdDSA,
}

/// The three SHA-2 sizes JWS uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl Hash {
    /// Output length in bytes, which is also the minimum HMAC secret size.
    pub const fn output_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }
}

/// The key family an algorithm belongs to (and so the JWK `kty`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `oct`: HS*.
    Hmac(Hash),
    /// `RSA` with PKCS#1 v1.5 padding: RS*.
    RsaPkcs1(Hash),
    /// `RSA` with PSS padding: PS*.
    RsaPss(Hash),
    /// `EC` on P-256: ES256.
    P256,
    /// `OKP` with Ed25519: EdDSA.
    Ed25519,
}

impl Alg {
    /// Every algorithm, in the order the README lists them.
    pub const ALL: [Self; 11] = [
        Self::HS256,
        Self::HS384,
        Self::HS512,
        Self::RS256,
        Self::RS384,
        Self::RS512,
        Self::PS256,
        Self::PS384,
        Self::PS512,
        Self::ES256,
        Self::EdDSA,
    ];

    /// The registered name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
        }
    }

    /// The key family.
    pub const fn family(self) -> Family {
        use Hash::{Sha256, Sha384, Sha512};
        match self {
            Self::HS256 => Family::Hmac(Sha256),
            Self::HS384 => Family::Hmac(Sha384),
            Self::HS512 => Family::Hmac(Sha512),
            Self::RS256 => Family::RsaPkcs1(Sha256),
            Self::RS384 => Family::RsaPkcs1(Sha384),
            Self::RS512 => Family::RsaPkcs1(Sha512),
            Self::PS256 => Family::RsaPss(Sha256),
            Self::PS384 => Family::RsaPss(Sha384),
            Self::PS512 => Family::RsaPss(Sha512),
            Self::ES256 => Family::P256,
            Self::EdDSA => Family::Ed25519,
        }
    }

    /// The JWK `kty` for this algorithm's keys.
    pub const fn kty(self) -> &'static str {
        match self.family() {
            Family::Hmac(_) => "oct",
            Family::RsaPkcs1(_) | Family::RsaPss(_) => "RSA",
            Family::P256 => "EC",
            Family::Ed25519 => "OKP",
        }
    }

    /// `true` for RS* and PS*.
    pub const fn is_rsa(self) -> bool {
        matches!(self.family(), Family::RsaPkcs1(_) | Family::RsaPss(_))
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Alg {
    type Err = Error;

    /// Exact, case-sensitive match on the registered name.
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::ALL.into_iter().find(|a| a.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|a| a.name()).collect();
            Error::msg(format!("unknown algorithm {s:?}; expected one of {}", names.join(", ")))
        })
    }
}
