//! The closed set of signature algorithms jwtgate verifies.

use core::fmt;

/// A JWS signature algorithm (RFC 7518 section 3, RFC 8037 for EdDSA).
///
/// There is no `none`: an unsecured token cannot be expressed, so it cannot
/// be allowed by mistake. Parsing is exact and case-sensitive (`"hs256"`,
/// `"None"` and `"ES256 "` are all unsupported).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(clippy::upper_case_acronyms, reason = "variants are spelled as the registered alg names")]
pub enum Algorithm {
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
    /// EdDSA with Ed25519 (the only curve supported under this name).
    EdDSA,
}

/// The hash function of an algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    /// Output size in bytes: also the minimum HMAC key size (RFC 7518 3.2)
    /// and the PSS salt length (RFC 7518 3.5).
    pub(crate) const fn output_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }
}

/// Which kind of key an algorithm needs. A key verifies exactly one family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyFamily {
    /// A shared secret (`kty: oct`): HS256, HS384, HS512.
    Hmac,
    /// An RSA public key: RS256..RS512 and PS256..PS512.
    Rsa,
    /// A P-256 public key (`kty: EC`, `crv: P-256`): ES256.
    P256,
    /// A P-384 public key (`kty: EC`, `crv: P-384`): ES384.
    P384,
    /// A P-521 public key (`kty: EC`, `crv: P-521`): ES512.
    P521,
    /// An Ed25519 public key (`kty: OKP`, `crv: Ed25519`): EdDSA.
    Ed25519,
}

impl Algorithm {
    /// Every supported algorithm.
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

    /// The algorithm with this exact registered name, if supported.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The key family that can verify this algorithm.
    #[must_use]
    pub const fn family(self) -> KeyFamily {
        match self {
            Self::HS256 | Self::HS384 | Self::HS512 => KeyFamily::Hmac,
            Self::RS256 | Self::RS384 | Self::RS512 | Self::PS256 | Self::PS384 | Self::PS512 => KeyFamily::Rsa,
            // Each ECDSA algorithm is bound to one curve (RFC 7518 3.4), so
            // each curve is a family of its own: a P-384 key never verifies
            // ES256 or ES512.
            Self::ES256 => KeyFamily::P256,
            Self::ES384 => KeyFamily::P384,
            Self::ES512 => KeyFamily::P521,
            Self::EdDSA => KeyFamily::Ed25519,
        }
    }

    pub(crate) const fn hash(self) -> Hash {
        match self {
            Self::HS256 | Self::RS256 | Self::PS256 | Self::ES256 => Hash::Sha256,
            Self::HS384 | Self::RS384 | Self::PS384 | Self::ES384 => Hash::Sha384,
            // Ed25519 hashes internally with SHA-512.
            Self::HS512 | Self::RS512 | Self::PS512 | Self::ES512 | Self::EdDSA => Hash::Sha512,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl core::str::FromStr for Algorithm {
    type Err = UnknownAlgorithm;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or(UnknownAlgorithm)
    }
}

/// The error of parsing an `alg` name that is not supported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unsupported algorithm")]
pub struct UnknownAlgorithm;
