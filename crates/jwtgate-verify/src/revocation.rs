//! The optional revocation hook: short lifetimes are the revocation
//! strategy for access tokens, this covers incidents (a leaked token, a
//! compromised account or client, a leaked signing key) until the tokens
//! expire.

use jwtgate_parse::{Claims, Header};

/// Decides whether an otherwise valid token has been revoked: by its `jti`
/// (a denylist), by `sub` or `client_id` and `iat` (a cut-off per subject
/// or client), or by the `kid` its header names (a leaked signing key).
/// `jwtgate-revoke`'s `RevocationList` is an implementation of all four.
///
/// Called last, on the request path, and only for tokens that passed every
/// other check (signature, time, issuer, audience, required claims,
/// `typ`); with a [token cache](crate::VerifierBuilder::token_cache), on
/// every cache hit too, so a token revoked after it was cached is refused
/// at its next use. So it must be fast and must not block: no I/O, no lock
/// that a writer can hold for long; keep the rules in memory and update
/// them out of band.
pub trait Revocation: Send + Sync + std::fmt::Debug {
    /// `true` if the token must be refused with
    /// [`Error::Revoked`](crate::Error::Revoked). `header` and `claims` are
    /// the verified token's JOSE header (for its `kid`) and claims.
    fn is_revoked(&self, header: &Header<'_>, claims: &Claims<'_>) -> bool;
}
