//! The algorithms xtask signs with are jwtgate-verify's [`Algorithm`]; this
//! module adds what only signing needs (hash, padding, JWK `kty`), which the
//! library, verifying only, does not expose.

use crate::error::Error;

pub use jwtgate_verify::Algorithm as Alg;

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

/// How an algorithm signs.
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
    /// `EC` on P-384: ES384.
    P384,
    /// `EC` on P-521: ES512.
    P521,
    /// `OKP` with Ed25519: EdDSA.
    Ed25519,
}

/// Signing details of an [`Alg`].
pub trait Signing {
    /// How the algorithm signs.
    fn signing(self) -> Family;
    /// The JWK `kty` of its keys.
    fn kty(self) -> &'static str;
    /// `true` for RS* and PS*.
    fn is_rsa(&self) -> bool;
}

impl Signing for Alg {
    fn signing(self) -> Family {
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
            Self::ES384 => Family::P384,
            Self::ES512 => Family::P521,
            Self::EdDSA => Family::Ed25519,
        }
    }

    fn kty(self) -> &'static str {
        match self.signing() {
            Family::Hmac(_) => "oct",
            Family::RsaPkcs1(_) | Family::RsaPss(_) => "RSA",
            Family::P256 | Family::P384 | Family::P521 => "EC",
            Family::Ed25519 => "OKP",
        }
    }

    fn is_rsa(&self) -> bool {
        matches!(self.signing(), Family::RsaPkcs1(_) | Family::RsaPss(_))
    }
}

/// The algorithm with this exact, case-sensitive name.
///
/// # Errors
///
/// For any other name, with the list of valid ones.
pub fn parse(name: &str) -> Result<Alg, Error> {
    Alg::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Alg::ALL.iter().map(|a| a.name()).collect();
        Error::msg(format!("unknown algorithm {name:?}; expected one of {}", names.join(", ")))
    })
}
