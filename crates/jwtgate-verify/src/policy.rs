//! The validation policy and its builder.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use crate::algorithm::Algorithm;
use crate::clock::{Clock, SystemClock};
use crate::error::ConfigError;
use crate::resolver::KeyResolver;
use crate::revocation::Revocation;
use crate::token_cache::TokenCache;
use crate::verifier::Verifier;

/// Default clock-skew allowance for `exp`, `nbf` and `iat`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// The most leeway a verifier accepts: more would quietly extend every
/// token's lifetime, and access tokens are short-lived by design.
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);

/// The largest `max_token_bytes` a verifier accepts (and the size of
/// [`Scratch`](crate::Scratch) is derived from it).
pub const MAX_TOKEN_BYTES_CEILING: usize = 16 * 1024;

/// A check that can be on, or off by an explicit, insecure-named call.
#[derive(Clone, Debug)]
pub(crate) enum Expect {
    /// Not configured yet: `build` refuses this.
    Unset,
    /// Switched off by `insecure_skip_*`.
    Skip,
    /// Any of these values.
    AnyOf(Vec<Box<str>>),
}

/// Everything a verifier checks, fixed at build time.
#[derive(Clone, Debug)]
pub(crate) struct Policy {
    pub(crate) issuers: Option<Box<[Box<str>]>>,
    pub(crate) audiences: Option<Box<[Box<str>]>>,
    pub(crate) algorithms: Box<[Algorithm]>,
    pub(crate) leeway: i64,
    pub(crate) typ: Option<Box<str>>,
    pub(crate) required: Box<[Cow<'static, str>]>,
    pub(crate) max_token_bytes: usize,
    pub(crate) max_age: Option<i64>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) revocation: Option<Arc<dyn Revocation>>,
}

/// Builds a [`Verifier`]. Secure by default: an issuer and an audience
/// must be set (or switched off by a method that says `insecure`), at least
/// one algorithm must be allowed, `exp` is always required, and leeway is
/// 30 s, at most 5 minutes.
#[derive(Clone, Debug)]
#[must_use]
pub struct VerifierBuilder {
    issuers: Expect,
    audiences: Expect,
    algorithms: Vec<Algorithm>,
    leeway: Duration,
    typ: Option<String>,
    required: Vec<Cow<'static, str>>,
    max_token_bytes: usize,
    max_age: Option<Duration>,
    clock: Arc<dyn Clock>,
    revocation: Option<Arc<dyn Revocation>>,
    token_cache: Option<usize>,
}

impl Default for VerifierBuilder {
    fn default() -> Self {
        Self {
            issuers: Expect::Unset,
            audiences: Expect::Unset,
            algorithms: Vec::new(),
            leeway: DEFAULT_LEEWAY,
            typ: None,
            required: Vec::new(),
            max_token_bytes: jwtgate_parse::DEFAULT_MAX_TOKEN_BYTES,
            max_age: None,
            clock: Arc::new(SystemClock),
            revocation: None,
            token_cache: None,
        }
    }
}

fn add(expect: &mut Expect, values: impl IntoIterator<Item = impl Into<String>>) {
    let values = values.into_iter().map(|v| v.into().into_boxed_str());
    match expect {
        Expect::AnyOf(list) => list.extend(values),
        _ => *expect = Expect::AnyOf(values.collect()),
    }
}

impl VerifierBuilder {
    /// Accepts tokens whose `iss` equals `issuer` exactly. Repeatable.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        add(&mut self.issuers, [issuer]);
        self
    }

    /// Accepts tokens whose `iss` is any of `issuers`.
    pub fn issuers(mut self, issuers: impl IntoIterator<Item = impl Into<String>>) -> Self {
        add(&mut self.issuers, issuers);
        self
    }

    /// Does not check `iss` at all. Only for a key source that a single
    /// issuer controls *and* that issues for nobody else; otherwise a token
    /// from any issuer sharing the keys is accepted.
    pub fn insecure_skip_issuer_check(mut self) -> Self {
        self.issuers = Expect::Skip;
        self
    }

    /// Accepts tokens one of whose `aud` values equals `audience`. Repeatable.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        add(&mut self.audiences, [audience]);
        self
    }

    /// Accepts tokens whose `aud` contains any of `audiences`.
    pub fn audiences(mut self, audiences: impl IntoIterator<Item = impl Into<String>>) -> Self {
        add(&mut self.audiences, audiences);
        self
    }

    /// Does not check `aud`. A token meant for another service of the same
    /// issuer is then accepted here: the confused-deputy risk the audience
    /// claim exists to prevent.
    pub fn insecure_skip_audience_check(mut self) -> Self {
        self.audiences = Expect::Skip;
        self
    }

    /// The algorithms tokens may use. They may span families (RS256 and
    /// ES256 together is safe): each key still verifies only its own.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms.extend(algorithms);
        self
    }

    /// Clock-skew allowance for `exp`, `nbf`, `iat` (default 30 s, max 300 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Requires the header `typ` to be this media type, compared
    /// case-insensitively with an optional `application/` prefix ignored
    /// (RFC 7515 section 4.1.9), e.g. `at+jwt` (RFC 9068).
    pub fn require_typ(mut self, typ: impl Into<String>) -> Self {
        self.typ = Some(typ.into());
        self
    }

    /// Claims that must be present (in addition to `exp`, always required).
    pub fn require_claims(mut self, claims: impl IntoIterator<Item = impl Into<Cow<'static, str>>>) -> Self {
        self.required.extend(claims.into_iter().map(Into::into));
        self
    }

    /// Refuses tokens issued (`iat`) longer ago than this, whatever their
    /// `exp`; `iat` becomes required.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// Maximum token size in bytes (default 8 KiB, at most 16 KiB).
    pub fn max_token_bytes(mut self, max: usize) -> Self {
        self.max_token_bytes = max;
        self
    }

    /// The clock used for time claims (default: the system clock).
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Consults `revocation` for every token that passed all other checks;
    /// a revoked token is refused with `revoked`.
    pub fn revocation(mut self, revocation: impl Revocation + 'static) -> Self {
        self.revocation = Some(Arc::new(revocation));
        self
    }

    /// RFC 9068 ("JWT Profile for OAuth 2.0 Access Tokens") section 4:
    /// `typ` must be `at+jwt` (which also refuses OpenID Connect ID tokens
    /// presented as access tokens, RFC 9068 section 4 step 1), and `iss`,
    /// `exp`, `aud`, `sub`, `client_id`, `iat`, `jti` are required (section 2.2).
    /// Issuer, audience and algorithms are still yours to set.
    pub fn rfc9068_access_token(self) -> Self {
        self.require_typ("at+jwt").require_claims(["iss", "exp", "aud", "sub", "client_id", "iat", "jti"])
    }

    /// The parts of RFC 8725 ("JSON Web Token Best Current Practices") that
    /// are policy rather than mechanism: explicit typing (section 3.11, so
    /// tokens of different kinds cannot be confused; pass your token
    /// kind's media type, e.g. `at+jwt`), and `iss` and `sub` required so
    /// they can be validated (section 3.8). The rest of the BCP is not
    /// optional here: algorithms are always verified and pinned (3.1, 3.2),
    /// every cryptographic operation is checked (3.3), EC points and key
    /// sizes are validated (3.4, 3.5), input must be UTF-8 (3.7), the
    /// audience is checked unless switched off by name (3.9), and header
    /// keys and URLs are never trusted (3.10).
    pub fn rfc8725_bcp(self, typ: impl Into<String>) -> Self {
        self.require_typ(typ).require_claims(["iss", "sub"])
    }

    /// Keeps up to `max_entries` verified tokens (default: off), so a token
    /// seen again is answered without its signature check: a hit re-runs
    /// the claim checks (time, issuer, audience, required claims, `typ`)
    /// and revocation, and requires the key that verified it to still be in
    /// the key set under the token's `kid` and `alg`. See
    /// [`TokenCache`](crate::TokenCache) for the details and the bounds
    /// (4 KiB per entry on average by default). Used by this verifier's own
    /// `verify*` methods; an [`IssuerRouter`](crate::IssuerRouter) verifies
    /// every token in full.
    pub fn token_cache(mut self, max_entries: usize) -> Self {
        self.token_cache = Some(max_entries);
        self
    }

    /// Builds the verifier with its key source (a [`KeySet`](crate::KeySet) or any
    /// [`KeyResolver`]).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] if the policy is incomplete or out of bounds.
    pub fn build<R: KeyResolver>(self, keys: R) -> Result<Verifier<R>, ConfigError> {
        let list = |expect: Expect, unset: ConfigError| -> Result<Option<Box<[Box<str>]>>, ConfigError> {
            match expect {
                Expect::Unset => Err(unset),
                Expect::Skip => Ok(None),
                Expect::AnyOf(values) if values.iter().any(|v| v.is_empty()) => Err(ConfigError::EmptyValue),
                Expect::AnyOf(values) => Ok(Some(values.into_boxed_slice())),
            }
        };
        // An empty `typ` or claim name is a configuration slip that would
        // otherwise silently refuse every token (or, for a claim, check nothing).
        if self.typ.as_deref().is_some_and(str::is_empty) || self.required.iter().any(|c| c.is_empty()) {
            return Err(ConfigError::EmptyValue);
        }
        let issuers = list(self.issuers, ConfigError::IssuerNotSet)?;
        let audiences = list(self.audiences, ConfigError::AudienceNotSet)?;
        let mut algorithms = self.algorithms;
        algorithms.sort_unstable();
        algorithms.dedup();
        if algorithms.is_empty() {
            return Err(ConfigError::NoAlgorithms);
        }
        if self.leeway > MAX_LEEWAY {
            return Err(ConfigError::LeewayTooLarge);
        }
        if self.max_token_bytes > MAX_TOKEN_BYTES_CEILING {
            return Err(ConfigError::MaxTokenBytesTooLarge(MAX_TOKEN_BYTES_CEILING));
        }
        let secs = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        let policy = Policy {
            issuers,
            audiences,
            algorithms: algorithms.into_boxed_slice(),
            leeway: secs(self.leeway),
            typ: self.typ.map(String::into_boxed_str),
            required: self.required.into_boxed_slice(),
            max_token_bytes: self.max_token_bytes,
            max_age: self.max_age.map(secs),
            clock: self.clock,
            revocation: self.revocation,
        };
        Ok(Verifier::new(policy, keys, self.token_cache.map(TokenCache::new)))
    }
}
