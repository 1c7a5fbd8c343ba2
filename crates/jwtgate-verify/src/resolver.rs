//! Where a verifier gets its keys: a fixed [`KeySet`], or a source that
//! refreshes (jwtgate-jwks).

use std::future::Future;
use std::ops::Deref;

use crate::algorithm::Algorithm;
use crate::error::Error;
use crate::key_set::KeySet;

/// What a token asks of the key source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyQuery<'a> {
    /// The token's `kid`, if it names one (unverified).
    pub kid: Option<&'a str>,
    /// The token's algorithm (already checked against the allow-list).
    pub alg: Algorithm,
}

/// A source of verification keys.
///
/// The design splits the hot path from the slow one. [`KeyResolver::current`]
/// returns the keys in hand, synchronously and without waiting: every
/// request uses it, and [`Verifier::verify`](crate::Verifier::verify) needs
/// nothing else. [`KeyResolver::refresh`] is async and called only by
/// [`Verifier::verify_async`](crate::Verifier::verify_async) when the keys in
/// hand cannot verify a token (unknown `kid`, nothing cached yet); a source
/// decides there whether to fetch (once per cooldown) or to fail fast. So a
/// fixed key set costs nothing per request, and a remote one never makes a
/// request wait behind a fetch in steady state.
///
/// `current` returns a guard (`Deref<Target = KeySet>`) rather than a clone
/// so that a source can hand out its snapshot without touching a shared
/// reference count on every request.
pub trait KeyResolver: Send + Sync {
    /// A borrowed view of the current key set.
    type Keys<'a>: Deref<Target = KeySet>
    where
        Self: 'a;

    /// Whether [`KeyResolver::refresh`] can find keys that `current` lacks.
    /// For such a source a key miss of the synchronous first attempt is not
    /// the final word (`verify_async` may still accept the token): callers
    /// such as the middleware go on to `verify_async` only then, and
    /// [`Verifier::verify_before_refresh`](crate::Verifier::verify_before_refresh)
    /// logs that miss at debug. Default: `false`.
    const REFRESHES: bool = false;

    /// The keys in hand now.
    ///
    /// # Errors
    ///
    /// [`Error::KeySourceUnavailable`] if the source has never had keys (or
    /// its last good set is too stale to use).
    fn current(&self) -> Result<Self::Keys<'_>, Error>;

    /// Asks the source to look for newer keys because `query` could not be
    /// served from [`KeyResolver::current`]. The default does nothing.
    ///
    /// # Errors
    ///
    /// [`Error::KeySourceUnavailable`] if a fetch was attempted and failed.
    fn refresh(&self, query: KeyQuery<'_>) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = query;
        std::future::ready(Ok(()))
    }
}

impl KeyResolver for KeySet {
    type Keys<'a> = &'a KeySet;

    fn current(&self) -> Result<&KeySet, Error> {
        Ok(self)
    }
}
