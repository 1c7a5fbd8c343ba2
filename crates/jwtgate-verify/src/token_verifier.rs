//! One interface over a single-issuer [`Verifier`] and an [`IssuerRouter`],
//! so integrations (the tower middleware, the CLI) take either.

use std::future::Future;

use crate::error::Error;
use crate::resolver::KeyResolver;
use crate::router::IssuerRouter;
use crate::scratch::Scratch;
use crate::token_cache::TokenCache;
use crate::verified::Verified;
use crate::verifier::Verifier;

/// Something that verifies tokens: a [`Verifier`] or an [`IssuerRouter`],
/// over any [`KeyResolver`].
///
/// Integrations call [`TokenVerifier::verify_before_refresh`] first: with
/// the keys in hand it needs no `.await` and no allocation. Only when that
/// reports [`Error::KeyNotFound`] or [`Error::KeySourceUnavailable`] and the
/// source [`REFRESHES`](TokenVerifier::REFRESHES) is
/// [`TokenVerifier::verify_async`] worth its cost, because only then can a
/// refresh of the key source change the answer.
pub trait TokenVerifier: Send + Sync {
    /// Whether the key source can refresh ([`KeyResolver::REFRESHES`]).
    const REFRESHES: bool;

    /// Verifies with the keys the source has now.
    ///
    /// # Errors
    ///
    /// As [`Verifier::verify`].
    fn verify<'a>(&self, token: &'a str, scratch: &'a mut Scratch) -> Result<Verified<'a>, Error>;

    /// [`TokenVerifier::verify`] as a first attempt before
    /// [`TokenVerifier::verify_async`]; see [`Verifier::verify_before_refresh`].
    ///
    /// # Errors
    ///
    /// As [`Verifier::verify`].
    fn verify_before_refresh<'a>(&self, token: &'a str, scratch: &'a mut Scratch) -> Result<Verified<'a>, Error>;

    /// Verifies, refreshing the key source once if its keys cannot serve
    /// the token.
    ///
    /// # Errors
    ///
    /// As [`Verifier::verify_async`].
    fn verify_async<'a>(
        &'a self,
        token: &'a str,
        scratch: &'a mut Scratch,
    ) -> impl Future<Output = Result<Verified<'a>, Error>> + Send + 'a;

    /// [`TokenVerifier::verify_before_refresh`] answering from `cache` (a
    /// [`TokenCache`] the caller holds) when it can; see
    /// [`Verifier::verify_before_refresh_with`]. The default ignores the
    /// cache. An [`IssuerRouter`] picks the verifier by the token's `iss`
    /// first, then uses `cache` or that verifier's own.
    ///
    /// # Errors
    ///
    /// As [`Verifier::verify`].
    fn verify_before_refresh_with<'a>(
        &self,
        cache: Option<&TokenCache>,
        token: &'a str,
        scratch: &'a mut Scratch,
    ) -> Result<Verified<'a>, Error> {
        let _ = cache;
        self.verify_before_refresh(token, scratch)
    }

    /// [`TokenVerifier::verify_async`] answering from `cache` when it can
    /// (the default ignores it).
    ///
    /// # Errors
    ///
    /// As [`Verifier::verify_async`].
    fn verify_async_with<'a>(
        &'a self,
        cache: Option<&'a TokenCache>,
        token: &'a str,
        scratch: &'a mut Scratch,
    ) -> impl Future<Output = Result<Verified<'a>, Error>> + Send + 'a {
        let _ = cache;
        self.verify_async(token, scratch)
    }
}

impl<R: KeyResolver> TokenVerifier for Verifier<R> {
    const REFRESHES: bool = R::REFRESHES;

    fn verify<'a>(&self, token: &'a str, scratch: &'a mut Scratch) -> Result<Verified<'a>, Error> {
        Verifier::verify(self, token, scratch)
    }

    fn verify_before_refresh<'a>(&self, token: &'a str, scratch: &'a mut Scratch) -> Result<Verified<'a>, Error> {
        Verifier::verify_before_refresh(self, token, scratch)
    }

    fn verify_async<'a>(
        &'a self,
        token: &'a str,
        scratch: &'a mut Scratch,
    ) -> impl Future<Output = Result<Verified<'a>, Error>> + Send + 'a {
        Verifier::verify_async(self, token, scratch)
    }

    fn verify_before_refresh_with<'a>(
        &self,
        cache: Option<&TokenCache>,
        token: &'a str,
        scratch: &'a mut Scratch,
    ) -> Result<Verified<'a>, Error> {
        Verifier::verify_before_refresh_with(self, cache, token, scratch)
    }

    fn verify_async_with<'a>(
        &'a self,
        cache: Option<&'a TokenCache>,
        token: &'a str,
        scratch: &'a mut Scratch,
    ) -> impl Future<Output = Result<Verified<'a>, Error>> + Send + 'a {
        Verifier::verify_async_with(self, cache, token, scratch)
    }
}

impl<R: KeyResolver> TokenVerifier for IssuerRouter<R> {
    const REFRESHES: bool = R::REFRESHES;

    fn verify<'a>(&self, token: &'a str, scratch: &'a mut Scratch) -> Result<Verified<'a>, Error> {
        IssuerRouter::verify(self, token, scratch)
    }

    fn verify_before_refresh<'a>(&self, token: &'a str, scratch: &'a mut Scratch) -> Result<Verified<'a>, Error> {
        IssuerRouter::verify_before_refresh(self, token, scratch)
    }

    fn verify_async<'a>(
        &'a self,
        token: &'a str,
        scratch: &'a mut Scratch,
    ) -> impl Future<Output = Result<Verified<'a>, Error>> + Send + 'a {
        IssuerRouter::verify_async(self, token, scratch)
    }

    fn verify_before_refresh_with<'a>(
        &self,
        cache: Option<&TokenCache>,
        token: &'a str,
        scratch: &'a mut Scratch,
    ) -> Result<Verified<'a>, Error> {
        IssuerRouter::verify_before_refresh_with(self, cache, token, scratch)
    }

    fn verify_async_with<'a>(
        &'a self,
        cache: Option<&'a TokenCache>,
        token: &'a str,
        scratch: &'a mut Scratch,
    ) -> impl Future<Output = Result<Verified<'a>, Error>> + Send + 'a {
        IssuerRouter::verify_async_with(self, cache, token, scratch)
    }
}
