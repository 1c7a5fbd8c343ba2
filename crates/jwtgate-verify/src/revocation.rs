//! The optional revocation hook: short lifetimes are the revocation
//! strategy for access tokens, this covers incidents (a leaked token, a
//! compromised account) until the tokens expire.

use jwtgate_parse::Claims;

/// Decides whether an otherwise valid token has been revoked, typically
/// by its `jti` (a denylist) or by `sub` and `iat` (a "not before" per
/// subject). Called only for tokens that passed every other check, on the
/// request path, so it must be fast and must not block: keep the list in
/// memory and update it out of band.
pub trait Revocation: Send + Sync + std::fmt::Debug {
    /// `true` if the token must be refused with [`Error::Revoked`](crate::Error::Revoked).
    fn is_revoked(&self, claims: &Claims<'_>) -> bool;
}
