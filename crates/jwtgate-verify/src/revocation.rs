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
    /// `true` if the rules this source holds refuse the token
    /// ([`Error::Revoked`](crate::Error::Revoked)). `header` and `claims`
    /// are the verified token's JOSE header (for its `kid`) and claims.
    fn is_revoked(&self, header: &Header<'_>, claims: &Claims<'_>) -> bool;

    /// The whole answer, which the verifier asks for: the rules' verdict,
    /// and whether the source can vouch for them. A source kept in sync
    /// with a shared store answers [`RevocationStatus::Unavailable`] when
    /// it has lost touch with the store for longer than it may (a rule
    /// written meanwhile could be missing), unless it was told to fail
    /// open. The default is [`is_revoked`](Self::is_revoked)'s verdict, for
    /// sources that are always complete (an in-memory list).
    fn status(&self, header: &Header<'_>, claims: &Claims<'_>) -> RevocationStatus {
        if self.is_revoked(header, claims) { RevocationStatus::Revoked } else { RevocationStatus::NotRevoked }
    }
}

/// What a [`Revocation`] source says of a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RevocationStatus {
    /// No rule refuses the token, and the source is complete.
    NotRevoked,
    /// A rule refuses the token: [`Error::Revoked`](crate::Error::Revoked)
    /// (401).
    Revoked,
    /// No rule held refuses the token, but the source cannot vouch that it
    /// holds every rule (out of sync with its store past its limit, or
    /// never synced): [`Error::RevocationUnavailable`](crate::Error::RevocationUnavailable)
    /// (503, the same token may pass later).
    Unavailable,
}
