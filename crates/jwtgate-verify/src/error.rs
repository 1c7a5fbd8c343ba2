//! Rejections (one variant per stable code) and configuration errors.

use std::borrow::Cow;

/// Why a token was rejected. Each variant has a stable machine code
/// ([`Error::code`]) shared by the library, the middleware and the CLI.
///
/// Messages are fixed text plus, at most, a claim *name* from the
/// verifier's own configuration: never the token, a claim value or a
/// secret. Every cryptographic failure is the one opaque
/// [`Error::BadSignature`], so nothing about a failed check can serve as an
/// oracle.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The token is not a well-formed compact JWS with JSON header and claims.
    #[error("malformed token: {0}")]
    Malformed(jwtgate_parse::Error),
    /// The token is longer than the configured maximum.
    #[error("token is too large")]
    TokenTooLarge,
    /// The token's `alg` is not one this verifier accepts (or not one at all).
    #[error("token algorithm is not accepted")]
    UnsupportedAlg,
    /// No key matches the token's `kid` (or, without `kid`, its algorithm).
    #[error("no key found for the token")]
    KeyNotFound,
    /// The selected key cannot verify the token's algorithm.
    #[error("the key cannot be used with the token's algorithm")]
    KeyAlgMismatch,
    /// The signature does not verify.
    #[error("signature verification failed")]
    BadSignature,
    /// `exp` has passed (with leeway), or the token is older than the maximum age.
    #[error("token has expired")]
    Expired,
    /// `nbf` is in the future (with leeway).
    #[error("token is not valid yet")]
    NotYetValid,
    /// `iat` is in the future (with leeway).
    #[error("token was issued in the future")]
    IssuedInFuture,
    /// `iss` is not an accepted issuer.
    #[error("token issuer is not accepted")]
    InvalidIssuer,
    /// No `aud` value is an accepted audience.
    #[error("token audience is not accepted")]
    InvalidAudience,
    /// A required claim is absent.
    #[error("required claim {0:?} is missing")]
    MissingClaim(Cow<'static, str>),
    /// A claim has the wrong type or value (including custom claims that do
    /// not deserialize into the requested type).
    #[error("claim {0:?} is invalid")]
    InvalidClaim(Cow<'static, str>),
    /// The header `typ` is not the required one.
    #[error("token type is not accepted")]
    InvalidTyp,
    /// The header names critical extensions (`crit`) this verifier does not
    /// understand, or uses `b64` (RFC 7797), which is not supported.
    #[error("token uses a critical extension that is not supported")]
    UnsupportedCrit,
    /// A revocation check refused the token.
    #[error("token has been revoked")]
    Revoked,
    /// The key source could not provide keys (and had none cached).
    #[error("key source unavailable: {0}")]
    KeySourceUnavailable(Cow<'static, str>),
    /// The revocation source cannot vouch that it holds every rule (out of
    /// sync with its store past its limit, or never synced), so the token
    /// can be neither accepted nor refused; the same token may pass later.
    #[error("revocation list unavailable: out of sync with its store")]
    RevocationUnavailable,
}

impl Error {
    /// The stable rejection code (see DESIGN.md): `malformed`,
    /// `token_too_large`, `unsupported_alg`, `key_not_found`,
    /// `key_alg_mismatch`, `bad_signature`, `expired`, `not_yet_valid`,
    /// `issued_in_future`, `invalid_issuer`, `invalid_audience`,
    /// `missing_claim`, `invalid_claim`, `invalid_typ`, `unsupported_crit`,
    /// `revoked`, `key_source_unavailable`, `revocation_unavailable`.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed",
            Self::TokenTooLarge => "token_too_large",
            Self::UnsupportedAlg => "unsupported_alg",
            Self::KeyNotFound => "key_not_found",
            Self::KeyAlgMismatch => "key_alg_mismatch",
            Self::BadSignature => "bad_signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::IssuedInFuture => "issued_in_future",
            Self::InvalidIssuer => "invalid_issuer",
            Self::InvalidAudience => "invalid_audience",
            Self::MissingClaim(_) => "missing_claim",
            Self::InvalidClaim(_) => "invalid_claim",
            Self::InvalidTyp => "invalid_typ",
            Self::UnsupportedCrit => "unsupported_crit",
            Self::Revoked => "revoked",
            Self::KeySourceUnavailable(_) => "key_source_unavailable",
            Self::RevocationUnavailable => "revocation_unavailable",
        }
    }

    /// `true` when the fault is the key source's or the revocation
    /// source's, not the token's: the same token may verify later (HTTP 503
    /// rather than 401).
    #[must_use]
    pub const fn is_retryable(&self) -> bool {
        matches!(self, Self::KeySourceUnavailable(_) | Self::RevocationUnavailable)
    }

    /// Maps a parser error: size and claim-type errors have their own codes.
    pub(crate) fn from_parse(e: jwtgate_parse::Error) -> Self {
        use jwtgate_parse::Error as P;
        match e {
            P::TokenTooLarge | P::BufferTooSmall => Self::TokenTooLarge,
            P::NumericDateType | P::NumericDateRange => Self::InvalidClaim(Cow::Borrowed("exp, nbf or iat")),
            P::ClaimType => Self::InvalidClaim(Cow::Borrowed("iss, sub, aud, jti, client_id, scope or scp")),
            other => Self::Malformed(other),
        }
    }
}

/// Why a key could not be loaded. Key loading happens once, at start-up or
/// on a JWKS refresh, never per request.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The document is not valid JSON, or not a JWK / JWKS.
    #[error("invalid JWK: {0}")]
    InvalidJwk(String),
    /// `kty` is not one jwtgate verifies with (e.g. a future key type).
    #[error("unsupported key type")]
    UnsupportedKeyType,
    /// The curve is not P-256, P-384 or P-521 (EC), or Ed25519 (OKP).
    #[error("unsupported curve")]
    UnsupportedCurve,
    /// `use` is not `sig`: the key is meant for encryption.
    #[error("key is not for signatures (use is not \"sig\")")]
    NotForSignatures,
    /// `key_ops` is present and does not include `verify`.
    #[error("key_ops does not allow verify")]
    VerifyNotAllowed,
    /// The JWK's `alg` is not supported, or does not fit its key type.
    #[error("key alg is unsupported or does not fit the key type")]
    AlgMismatch,
    /// The JWK's `alg` names no algorithm jwtgate verifies: an encryption
    /// algorithm (`RSA-OAEP`, `ECDH-ES`, ...) or a signature algorithm not
    /// supported here (`ES256K`, ...). Holds the name, cut at 32 characters.
    #[error("key alg {0:?} is not a signature algorithm jwtgate verifies")]
    UnsupportedAlg(String),
    /// An RSA modulus below 2048 bits (or above 8192), or an HMAC secret
    /// shorter than its hash.
    #[error("key too small or too large: {0}")]
    BadKeySize(String),
    /// The key material itself is invalid: a point not on the curve, a weak
    /// (small-order) Ed25519 key, a bad RSA exponent.
    #[error("invalid key material: {0}")]
    InvalidKey(&'static str),
    /// A symmetric (`oct`) key in a key set from a remote source.
    #[error("symmetric keys are never accepted from a remote key set")]
    SymmetricFromRemote,
    /// The key ID is longer than [`MAX_KID_BYTES`](crate::MAX_KID_BYTES):
    /// no token could name it (tokens with a longer `kid` are refused
    /// before lookup).
    #[error("kid longer than {max} bytes: no token could name it")]
    KidTooLong {
        /// [`MAX_KID_BYTES`](crate::MAX_KID_BYTES).
        max: usize,
    },
    /// PEM or DER that is not a supported public key.
    #[error("invalid PEM/SPKI: {0}")]
    InvalidPem(String),
}

/// Why a verifier configuration was refused by [`VerifierBuilder::build`](crate::VerifierBuilder::build).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// No algorithm was allowed.
    #[error("no algorithms allowed: call .algorithms([...])")]
    NoAlgorithms,
    /// Neither an issuer nor the explicit opt-out was configured.
    #[error("no issuer configured: call .issuer(...) or .insecure_skip_issuer_check()")]
    IssuerNotSet,
    /// Neither an audience nor the explicit opt-out was configured.
    #[error("no audience configured: call .audience(...) or .insecure_skip_audience_check()")]
    AudienceNotSet,
    /// An empty issuer, audience, `typ` or required-claim name.
    #[error("empty issuer, audience, typ or required claim name")]
    EmptyValue,
    /// Leeway above the 5-minute cap.
    #[error("leeway above 300 seconds")]
    LeewayTooLarge,
    /// A maximum token size above the supported ceiling.
    #[error("max_token_bytes above {0}")]
    MaxTokenBytesTooLarge(usize),
}
