//! The JWS signature algorithms (RFC 7518 section 3, RFC 8037) and what
//! signing with each needs: hash, padding, JWK `kty`.
//!
//! The test kit has its own [`Alg`] rather than jwtgate-verify's
//! `Algorithm`: it depends on no jwtgate crate (DESIGN.md), so that a
//! library's tests link one copy of that library. Both enums spell the
//! registered `alg` names; a test that also needs the verifier's type maps
//! between them in one helper of its own.

use core::fmt;

use crate::error::Error;

/// A JWS signature algorithm the test kit signs with: the thirteen that
/// jwtgate verifies. There is no `none`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
    /// RSASSA-PSS with SHA-256, MGF1 with SHA-256, salt length 32.
    PS256,
    /// RSASSA-PSS with SHA-384, MGF1 with SHA-384, salt length 48.
    PS384,
    /// RSASSA-PSS with SHA-512, MGF1 with SHA-512, salt length 64.
    PS512,
    /// ECDSA on P-256 with SHA-256; signatures are raw `r || s` (64 bytes).
    ES256,
    /// ECDSA on P-384 with SHA-384; signatures are raw `r || s` (96 bytes).
    ES384,
    /// ECDSA on P-521 with SHA-512; signatures are raw `r || s` (132 bytes).
    ES512,
    /// EdDSA with Ed25519.
    EdDSA,
}

impl Alg {
    /// Every algorithm, in the order of RFC 7518's table (EdDSA last).
    pub const ALL: [Self; 13] = [
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
        Self::ES384,
        Self::ES512,
        Self::EdDSA,
    ];

    /// The registered `alg` name.
    #[must_use]
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
            Self::ES384 => "ES384",
            Self::ES512 => "ES512",
            Self::EdDSA => "EdDSA",
        }
    }

    /// The algorithm with this exact, case-sensitive registered name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
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
    #[must_use]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_exactly() {
        for alg in Alg::ALL {
            assert_eq!(Alg::from_name(alg.name()), Some(alg));
            assert_eq!(alg.to_string(), alg.name());
        }
        for bad in ["none", "hs256", "ES256 ", "RSA-OAEP", ""] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn families_and_key_types() {
        assert_eq!(Alg::PS384.signing(), Family::RsaPss(Hash::Sha384));
        assert_eq!(Alg::ES512.kty(), "EC");
        assert_eq!(Alg::EdDSA.kty(), "OKP");
        assert!(Alg::RS256.is_rsa() && !Alg::HS256.is_rsa());
    }
}
