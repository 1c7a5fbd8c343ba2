//! Several issuers, each with its own keys and policy.

use jwtgate_parse::{Limits, Token};

use crate::error::Error;
use crate::key_set::KeySet;
use crate::observe;
use crate::policy::MAX_TOKEN_BYTES_CEILING;
use crate::resolver::KeyResolver;
use crate::scratch::Scratch;
use crate::token_cache::TokenCache;
use crate::verified::Verified;
use crate::verifier::Verifier;

/// Routes each token to the verifier of the issuer it claims.
///
/// The unverified `iss` only *chooses* a verifier; that verifier then
/// checks everything, `iss` included, with its own keys. A key of issuer B
/// can therefore never verify a token that claims issuer A: the token is
/// sent to A's verifier, which has none of B's keys.
#[derive(Debug)]
pub struct IssuerRouter<R = KeySet> {
    routes: Vec<(Box<str>, Verifier<R>)>,
}

impl<R: KeyResolver> Default for IssuerRouter<R> {
    fn default() -> Self {
        Self { routes: Vec::new() }
    }
}

impl<R: KeyResolver> IssuerRouter<R> {
    /// An empty router.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends tokens claiming `issuer` to `verifier` (which must itself
    /// accept that issuer, or every such token fails `invalid_issuer`).
    #[must_use]
    pub fn route(mut self, issuer: impl Into<String>, verifier: Verifier<R>) -> Self {
        self.routes.push((issuer.into().into_boxed_str(), verifier));
        self
    }

    /// Verifies `token` with the verifier of its claimed issuer.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidIssuer`] if the token names no routed issuer (or its
    /// `iss` cannot be read), otherwise whatever that verifier reports.
    pub fn verify<'a>(&self, token: &'a str, scratch: &'a mut Scratch) -> Result<Verified<'a>, Error> {
        self.verify_logged(token, scratch, false)
    }

    /// As [`Verifier::verify_before_refresh`]: a key miss a refresh may fix
    /// is logged at debug, for callers that call
    /// [`IssuerRouter::verify_async`] next.
    ///
    /// # Errors
    ///
    /// As [`IssuerRouter::verify`].
    pub fn verify_before_refresh<'a>(&self, token: &'a str, scratch: &'a mut Scratch) -> Result<Verified<'a>, Error> {
        self.verify_logged(token, scratch, R::REFRESHES)
    }

    fn verify_logged<'a>(
        &self,
        token: &'a str,
        scratch: &'a mut Scratch,
        refreshable: bool,
    ) -> Result<Verified<'a>, Error> {
        let picked = self.pick(token, scratch);
        let outcome = match &picked {
            Ok((verifier, t)) => verifier.verify_parsed(token.len(), t),
            Err(e) => Err(e.clone()),
        };
        observe::decision(&outcome, picked.as_ref().ok().map(|(_, t)| t.header()), token.len(), refreshable);
        outcome
    }

    /// As [`IssuerRouter::verify`], with [`Verifier::verify_async`].
    ///
    /// # Errors
    ///
    /// As [`IssuerRouter::verify`].
    pub async fn verify_async<'a>(&self, token: &'a str, scratch: &'a mut Scratch) -> Result<Verified<'a>, Error> {
        let picked = self.pick(token, scratch);
        let outcome = match &picked {
            Ok((verifier, t)) => verifier.verify_parsed_async(token.len(), t).await,
            Err(e) => Err(e.clone()),
        };
        observe::decision(&outcome, picked.as_ref().ok().map(|(_, t)| t.header()), token.len(), false);
        outcome
    }

    /// The routed issuers and their verifiers, in routing order (to read
    /// each verifier's token-cache counters, say).
    pub fn verifiers(&self) -> impl Iterator<Item = (&str, &Verifier<R>)> {
        self.routes.iter().map(|(issuer, verifier)| (&**issuer, verifier))
    }

    /// Parses once (at the largest size any verifier may allow; the chosen
    /// verifier then applies its own limit) and picks by unverified `iss`.
    fn pick<'a>(&self, token: &'a str, scratch: &'a mut Scratch) -> Result<(&Verifier<R>, Token<'a>), Error> {
        let limits = Limits::new().with_max_token_bytes(MAX_TOKEN_BYTES_CEILING);
        let parsed =
            jwtgate_parse::parse_with(token.as_bytes(), scratch.bytes(), &limits).map_err(Error::from_parse)?;
        let iss = parsed.claims().ok().and_then(|c| c.iss()).ok_or(Error::InvalidIssuer)?;
        let verifier =
            self.routes.iter().find(|(issuer, _)| iss.eq_str(issuer)).map(|(_, v)| v).ok_or(Error::InvalidIssuer)?;
        Ok((verifier, parsed))
    }

    /// The verifier of `token`'s claimed issuer, for the cached paths: the
    /// chosen verifier then looks the whole token up in its cache (keyed by
    /// its own id, so a token can only hit what this issuer's verifier
    /// stored) and parses again on a miss, a small price next to the
    /// signature check a hit saves. A token naming no routed issuer is
    /// logged as any refusal is.
    fn route_for(&self, token: &str, scratch: &mut Scratch, refreshable: bool) -> Result<&Verifier<R>, Error> {
        self.pick(token, scratch).map(|(verifier, _)| verifier).inspect_err(|e| {
            observe::decision(&Err(e.clone()), None, token.len(), refreshable);
        })
    }

    /// As [`IssuerRouter::verify_before_refresh`], answering from `cache`
    /// (else the chosen verifier's own) when that verifier verified the
    /// token before; see [`Verifier::verify_before_refresh_with`].
    ///
    /// # Errors
    ///
    /// As [`IssuerRouter::verify`].
    pub fn verify_before_refresh_with<'a>(
        &self,
        cache: Option<&TokenCache>,
        token: &'a str,
        scratch: &'a mut Scratch,
    ) -> Result<Verified<'a>, Error> {
        self.route_for(token, scratch, R::REFRESHES)?.verify_before_refresh_with(cache, token, scratch)
    }

    /// As [`IssuerRouter::verify_async`], answering from `cache` (else the
    /// chosen verifier's own) when it can.
    ///
    /// # Errors
    ///
    /// As [`IssuerRouter::verify`].
    pub async fn verify_async_with<'a>(
        &self,
        cache: Option<&TokenCache>,
        token: &'a str,
        scratch: &'a mut Scratch,
    ) -> Result<Verified<'a>, Error> {
        self.route_for(token, scratch, false)?.verify_async_with(cache, token, scratch).await
    }
}
