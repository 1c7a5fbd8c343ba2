//! The verifier: parse, pin the algorithm, pick the key, check the
//! signature, then the claims, in that order.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};

use jwtgate_parse::{Claims, Header, JsonStr, Limits, Token};

use crate::algorithm::Algorithm;
use crate::error::Error;
use crate::key_set::{KeySet, MAX_KID_BYTES};
use crate::observe;
use crate::policy::{Policy, VerifierBuilder};
use crate::resolver::{KeyQuery, KeyResolver};
use crate::revocation::RevocationStatus;
use crate::scratch::Scratch;
use crate::token_cache::{Hit, Probe, TokenCache};
use crate::verified::Verified;

/// Verifies tokens against one issuer's keys and one policy.
///
/// Build it once ([`Verifier::builder`]) and share it (`Arc`) across
/// requests. See the crate docs for an example and the
/// [`manual`](crate::manual) for why each check is there.
#[derive(Debug)]
pub struct Verifier<R = KeySet> {
    policy: Policy,
    keys: R,
    /// Unique in the process: a token cache keeps each verifier's (each
    /// policy's) entries apart.
    id: u64,
    /// The verifier's own cache, if the builder asked for one.
    cache: Option<TokenCache>,
}

impl Verifier<KeySet> {
    /// Starts a verifier configuration.
    pub fn builder() -> VerifierBuilder {
        VerifierBuilder::default()
    }
}

impl<R: KeyResolver> Verifier<R> {
    pub(crate) fn new(policy: Policy, keys: R, cache: Option<TokenCache>) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Self { policy, keys, id: NEXT_ID.fetch_add(1, Ordering::Relaxed), cache }
    }

    /// The verifier's own token cache, if
    /// [`VerifierBuilder::token_cache`] turned it on (for its
    /// [`stats`](TokenCache::stats)).
    pub const fn token_cache(&self) -> Option<&TokenCache> {
        self.cache.as_ref()
    }

    /// The key source.
    pub const fn keys(&self) -> &R {
        &self.keys
    }

    /// The issuers this verifier accepts (`None`: issuer check switched off).
    pub fn issuers(&self) -> Option<impl Iterator<Item = &str>> {
        self.policy.issuers.as_ref().map(|list| list.iter().map(|s| &**s))
    }

    /// Verifies `token` with the keys the source has now.
    ///
    /// # Errors
    ///
    /// The first check the token fails, as an [`Error`] whose
    /// [`code`](Error::code) is stable. Checks run in this order: size,
    /// syntax, algorithm allow-list, `crit`/`b64`, key selection (`kid`,
    /// family), signature, claim types, `exp`/`nbf`/`iat`/max age, `iss`,
    /// `aud`, required claims, `typ`, revocation. Nothing about the claims is reported
    /// for a token whose signature did not verify.
    ///
    /// # Panics
    ///
    /// Never.
    pub fn verify<'a>(&self, token: &'a str, scratch: &'a mut Scratch) -> Result<Verified<'a>, Error> {
        self.verify_logged(token, scratch, false)
    }

    /// [`Verifier::verify`] as the first attempt of a caller that will call
    /// [`Verifier::verify_async`] when this reports a key miss
    /// ([`Error::KeyNotFound`], [`Error::KeySourceUnavailable`]): if the
    /// source [refreshes](KeyResolver::REFRESHES), such a miss is logged at
    /// debug instead of as a rejection, since the second call decides (and
    /// logs the decision). Everything else is exactly `verify`.
    ///
    /// # Errors
    ///
    /// As [`Verifier::verify`].
    pub fn verify_before_refresh<'a>(&self, token: &'a str, scratch: &'a mut Scratch) -> Result<Verified<'a>, Error> {
        self.verify_logged(token, scratch, R::REFRESHES)
    }

    /// [`Verifier::verify_before_refresh`] with `cache` (held by the caller,
    /// such as the middleware) instead of the verifier's own: a token that
    /// this verifier verified before is answered from it, with the claim
    /// checks and revocation run again; a token verified now is stored.
    ///
    /// # Errors
    ///
    /// As [`Verifier::verify`].
    pub fn verify_before_refresh_with<'a>(
        &self,
        cache: Option<&TokenCache>,
        token: &'a str,
        scratch: &'a mut Scratch,
    ) -> Result<Verified<'a>, Error> {
        self.verify_cached(cache.or(self.cache.as_ref()), token, scratch, R::REFRESHES)
    }

    fn verify_logged<'a>(
        &self,
        token: &'a str,
        scratch: &'a mut Scratch,
        refreshable: bool,
    ) -> Result<Verified<'a>, Error> {
        self.verify_cached(self.cache.as_ref(), token, scratch, refreshable)
    }

    fn verify_cached<'a>(
        &self,
        cache: Option<&TokenCache>,
        token: &'a str,
        scratch: &'a mut Scratch,
        refreshable: bool,
    ) -> Result<Verified<'a>, Error> {
        if let Some(hit) = self.probe(cache, token, scratch) {
            let outcome = self.serve(hit, scratch);
            observe::decision(&outcome, outcome.as_ref().ok().map(Verified::header), token.len(), refreshable);
            return outcome;
        }
        let parsed = self.parse(token, scratch);
        let outcome = match &parsed {
            Ok(t) => self.verify_parsed(token.len(), t),
            Err(e) => Err(e.clone()),
        };
        observe::decision(&outcome, parsed.as_ref().ok().map(Token::header), token.len(), refreshable);
        if let (Some(cache), Ok(verified)) = (cache, &outcome) {
            self.remember(cache, token, verified);
        }
        outcome
    }

    /// Like [`Verifier::verify`], but when the keys in hand cannot serve
    /// the token (unknown `kid`, or no keys yet) it asks the source to
    /// refresh once and tries again. With a fixed [`KeySet`] this is the
    /// same as `verify`. A `kid` longer than [`MAX_KID_BYTES`] (unescaped)
    /// can name no key, so it never asks for a refresh.
    ///
    /// # Errors
    ///
    /// As [`Verifier::verify`], plus [`Error::KeySourceUnavailable`] if the
    /// refresh failed. A `kid` longer than [`MAX_KID_BYTES`] is
    /// [`Error::KeyNotFound`], whether or not the source has keys.
    pub async fn verify_async<'a>(&self, token: &'a str, scratch: &'a mut Scratch) -> Result<Verified<'a>, Error> {
        self.verify_async_with(None, token, scratch).await
    }

    /// [`Verifier::verify_async`] with `cache` (held by the caller) instead
    /// of the verifier's own; see [`Verifier::verify_before_refresh_with`].
    ///
    /// # Errors
    ///
    /// As [`Verifier::verify_async`].
    pub async fn verify_async_with<'a>(
        &self,
        cache: Option<&TokenCache>,
        token: &'a str,
        scratch: &'a mut Scratch,
    ) -> Result<Verified<'a>, Error> {
        let cache = cache.or(self.cache.as_ref());
        if let Some(hit) = self.probe(cache, token, scratch) {
            let outcome = self.serve(hit, scratch);
            observe::decision(&outcome, outcome.as_ref().ok().map(Verified::header), token.len(), false);
            return outcome;
        }
        let parsed = self.parse(token, scratch);
        let outcome = match &parsed {
            Ok(t) => self.verify_parsed_async(token.len(), t).await,
            Err(e) => Err(e.clone()),
        };
        observe::decision(&outcome, parsed.as_ref().ok().map(Token::header), token.len(), false);
        if let (Some(cache), Ok(verified)) = (cache, &outcome) {
            self.remember(cache, token, verified);
        }
        outcome
    }

    /// Looks `token` up in `cache`; on a hit its decoded JSON is now in
    /// `scratch`. Only with keys in hand: without them the full path
    /// decides (and refreshes), exactly as for an uncached token.
    fn probe(&self, cache: Option<&TokenCache>, token: &str, scratch: &mut Scratch) -> Option<(Hit, i64)> {
        let cache = cache?;
        if token.len() > self.policy.max_token_bytes {
            return None;
        }
        let keys = self.keys.current().ok()?;
        let now = self.policy.clock.now();
        // The key must still be one the token's kid and alg select, as in a
        // fresh check: present, under that kid, fitting that alg (a JWK
        // `alg` added since narrows it), among the first candidates.
        let selected = |key: u64, kid: Option<&str>, alg: Algorithm| {
            keys.candidates(kid, alg).is_ok_and(|mut candidates| candidates.any(|k| k.id() == key))
        };
        match cache.probe(self.id, token, now, scratch.bytes(), selected) {
            Probe::Hit(hit) => Some((hit, now)),
            Probe::Miss | Probe::KeyGone => None,
        }
    }

    /// A [`Verified`] from a cache hit: the views put back onto the JSON
    /// the probe copied into `scratch`, and every claim check run again
    /// (time, issuer, audience, required claims, `typ`, revocation).
    fn serve<'a>(&self, (hit, now): (Hit, i64), scratch: &'a Scratch) -> Result<Verified<'a>, Error> {
        // Unreachable unless the cache is broken; refuse rather than guess.
        let broken = || Error::Malformed(jwtgate_parse::Error::InvalidUtf8);
        let copied = scratch.filled().get(..hit.header.len() + hit.claims.len()).ok_or_else(broken)?;
        // One UTF-8 check over both documents (they were `str`s when stored).
        let copied = std::str::from_utf8(copied).map_err(|_| broken())?;
        let (header_json, claims_json) = copied.split_at_checked(hit.header.len()).ok_or_else(broken)?;
        let header = hit.header.attach(header_json).ok_or_else(broken)?;
        let claims = hit.claims.attach(claims_json).ok_or_else(broken)?;
        self.check_claims_at(now, &claims, &header)?;
        Ok(Verified::new(hit.alg, header, claims, hit.key))
    }

    /// Stores a token just verified, until its `exp` plus leeway (or the
    /// end of its maximum age, if sooner).
    fn remember(&self, cache: &TokenCache, token: &str, verified: &Verified<'_>) {
        let p = &self.policy;
        let claims = verified.claims();
        let Some(exp) = claims.exp() else { return };
        let mut expires = exp.floor().saturating_add(p.leeway);
        if let (Some(max_age), Some(iat)) = (p.max_age, claims.iat()) {
            expires = expires.min(iat.floor().saturating_add(max_age).saturating_add(p.leeway).saturating_add(1));
        }
        let mut buf = [0u8; MAX_KID_BYTES];
        let kid = match verified.kid() {
            // Verified tokens' kids fit: longer ones name no key.
            Some(kid) => match kid.unescaped(&mut buf).ok() {
                Some(kid) => Some(kid),
                None => return,
            },
            None => None,
        };
        cache.insert(self.id, token, kid, verified, expires);
    }

    /// Size check and syntax: nothing about this verifier's policy yet.
    fn parse<'a>(&self, token: &'a str, scratch: &'a mut Scratch) -> Result<Token<'a>, Error> {
        if token.len() > self.policy.max_token_bytes {
            return Err(Error::TokenTooLarge);
        }
        let limits = Limits::new().with_max_token_bytes(self.policy.max_token_bytes);
        jwtgate_parse::parse_with(token.as_bytes(), scratch.bytes(), &limits).map_err(Error::from_parse)
    }

    /// Everything after parsing, with the keys in hand.
    pub(crate) fn verify_parsed<'a>(&self, len: usize, token: &Token<'a>) -> Result<Verified<'a>, Error> {
        let alg = self.admit(len, token)?;
        let keys = self.keys.current()?;
        self.finish(token, alg, &keys)
    }

    /// Everything after parsing; refreshes the keys once if they cannot
    /// serve the token.
    pub(crate) async fn verify_parsed_async<'a>(&self, len: usize, token: &Token<'a>) -> Result<Verified<'a>, Error> {
        let alg = self.admit(len, token)?;
        // The key guard is dropped before the await below.
        let first = self.keys.current().and_then(|keys| self.finish(token, alg, &keys));
        match first {
            Err(Error::KeyNotFound | Error::KeySourceUnavailable(_)) => {
                let mut buf = [0u8; MAX_KID_BYTES];
                // A kid too long for any key names no key in this set or in
                // a newer one, so a fetch cannot help, and passed on as a
                // kid-less query it would let any token with such a kid ask
                // the source for one. The answer is what `finish` gives such
                // a kid, even when the first attempt found no keys at all.
                let kid = match token.header().kid() {
                    Some(k) => Some(k.unescaped(&mut buf).ok().ok_or(Error::KeyNotFound)?),
                    None => None,
                };
                self.keys.refresh(KeyQuery { kid, alg }).await?;
                let keys = self.keys.current()?;
                self.finish(token, alg, &keys)
            }
            other => other,
        }
    }

    /// The size limit, the algorithm allow-list and `crit`/`b64`: the
    /// header checks that come before any key is touched.
    fn admit(&self, len: usize, token: &Token<'_>) -> Result<Algorithm, Error> {
        if len > self.policy.max_token_bytes {
            return Err(Error::TokenTooLarge);
        }
        let header = token.header();
        let alg = algorithm(header.alg()).ok_or(Error::UnsupportedAlg)?;
        if !self.policy.algorithms.contains(&alg) {
            return Err(Error::UnsupportedAlg);
        }
        // Nothing in `crit` is understood (RFC 7515 4.1.11), and `b64`
        // changes what the signature covers (RFC 7797): both refuse.
        if header.crit().is_some() || header.b64().is_some() {
            return Err(Error::UnsupportedCrit);
        }
        Ok(alg)
    }

    /// Key selection, signature, then claims.
    fn finish<'a>(&self, token: &Token<'a>, alg: Algorithm, keys: &KeySet) -> Result<Verified<'a>, Error> {
        let header = *token.header();
        let mut kid_buf = [0u8; MAX_KID_BYTES];
        let kid = match header.kid() {
            Some(kid) => Some(kid.unescaped(&mut kid_buf).ok().ok_or(Error::KeyNotFound)?),
            None => None,
        };
        let mut candidates = keys.candidates(kid, alg)?;
        let key = candidates
            .find(|key| key.verify_signature(alg, token.signing_input(), token.signature()))
            .ok_or(Error::BadSignature)?;
        // Only now may anything about the claims be reported.
        let claims = token.claims().map_err(Error::from_parse)?;
        self.check_claims(&claims, &header)?;
        Ok(Verified::new(alg, header, claims, key.id()))
    }

    fn check_claims(&self, claims: &Claims<'_>, header: &Header<'_>) -> Result<(), Error> {
        self.check_claims_at(self.policy.clock.now(), claims, header)
    }

    /// [`Verifier::check_claims`] at `now` (a cache hit has read the clock
    /// already, to skip an entry past its `exp`).
    fn check_claims_at(&self, now: i64, claims: &Claims<'_>, header: &Header<'_>) -> Result<(), Error> {
        let p = &self.policy;
        let exp = claims.exp().ok_or(Error::MissingClaim(Cow::Borrowed("exp")))?;
        // RFC 7519 4.1.4: the current time must be before exp. Fractions
        // round toward rejection: exp down, nbf and iat up.
        if now >= exp.floor().saturating_add(p.leeway) {
            return Err(Error::Expired);
        }
        if let Some(nbf) = claims.nbf()
            && now < nbf.ceil().saturating_sub(p.leeway)
        {
            return Err(Error::NotYetValid);
        }
        if let Some(iat) = claims.iat()
            && iat.ceil() > now.saturating_add(p.leeway)
        {
            return Err(Error::IssuedInFuture);
        }
        if let Some(max_age) = p.max_age {
            let iat = claims.iat().ok_or(Error::MissingClaim(Cow::Borrowed("iat")))?;
            if now.saturating_sub(iat.floor()) > max_age.saturating_add(p.leeway) {
                return Err(Error::Expired);
            }
        }
        if let Some(issuers) = &p.issuers {
            let iss = claims.iss().ok_or(Error::MissingClaim(Cow::Borrowed("iss")))?;
            if !issuers.iter().any(|i| iss.eq_str(i)) {
                return Err(Error::InvalidIssuer);
            }
        }
        if let Some(audiences) = &p.audiences {
            let aud = claims.aud().ok_or(Error::MissingClaim(Cow::Borrowed("aud")))?;
            if !aud.iter().any(|a| audiences.iter().any(|want| a.eq_str(want))) {
                return Err(Error::InvalidAudience);
            }
        }
        for name in &p.required {
            if claims.get(name).is_none_or(|v| v.is_null()) {
                return Err(Error::MissingClaim(name.clone()));
            }
        }
        if let Some(want) = &p.typ {
            let typ = header.typ().ok_or(Error::InvalidTyp)?;
            if !typ_matches(typ, want) {
                return Err(Error::InvalidTyp);
            }
        }
        // Last: the hook sees only tokens that passed everything else.
        match p.revocation.as_ref().map(|r| r.status(header, claims)) {
            None | Some(RevocationStatus::NotRevoked) => Ok(()),
            Some(RevocationStatus::Revoked) => Err(Error::Revoked),
            Some(RevocationStatus::Unavailable) => Err(Error::RevocationUnavailable),
        }
    }
}

/// The header `alg` as an [`Algorithm`], comparing the unescaped value.
fn algorithm(alg: JsonStr<'_>) -> Option<Algorithm> {
    let mut buf = [0u8; 8];
    Algorithm::from_name(alg.unescaped(&mut buf).ok()?)
}

/// RFC 7515 4.1.9: media types compare case-insensitively, and the
/// `application/` prefix is recommended to be omitted, so `JWT`,
/// `jwt` and `application/jwt` are the same type.
fn typ_matches(typ: JsonStr<'_>, want: &str) -> bool {
    const PREFIX: &str = "application/";
    fn bare(s: &str) -> &str {
        match s.get(..PREFIX.len()) {
            Some(p) if p.eq_ignore_ascii_case(PREFIX) => s.get(PREFIX.len()..).unwrap_or_default(),
            _ => s,
        }
    }
    // A media type name is at most 127 bytes (RFC 6838 4.2); the buffer
    // bounds the value however the token spelled it.
    let mut buf = [0u8; 128];
    let Some(typ) = typ.unescaped(&mut buf).ok() else {
        return false;
    };
    bare(typ).eq_ignore_ascii_case(bare(want))
}
