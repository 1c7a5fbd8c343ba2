//! The list's settings: how long rules outlive the tokens they name, and
//! the clock that says when that is.

use std::sync::Arc;
use std::time::Duration;

use jwtgate_verify::{Clock, MAX_LEEWAY, SystemClock};

use crate::list::RevocationList;
use crate::rule::Target;

/// Default [`RevocationConfig::leeway`]: the most leeway any verifier
/// accepts ([`jwtgate_verify::MAX_LEEWAY`]), so a rule outlives its token
/// whatever leeway the verifier was given.
pub const DEFAULT_LEEWAY: Duration = MAX_LEEWAY;

/// Default [`RevocationConfig::max_token_lifetime`]: 24 hours, the longest
/// access-token lifetime common identity providers issue by default
/// (Auth0's API default is 86,400 s; most issue 5 to 60 minutes).
pub const DEFAULT_MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// The largest [`RevocationConfig::max_token_lifetime`]: a year. Tokens
/// living longer are not access tokens, and cut-off rules would be kept
/// about as long.
pub const MAX_TOKEN_LIFETIME_CEILING: Duration = Duration::from_secs(366 * 24 * 60 * 60);

/// Default [`RevocationConfig::purge_every`]: a minute.
pub const DEFAULT_PURGE_EVERY: Duration = Duration::from_secs(60);

/// The largest [`RevocationConfig::purge_every`]: a day.
pub const MAX_PURGE_EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// Settings of a [`RevocationList`]; [`RevocationConfig::build`] makes
/// the list. The README's "Defaults and why" explains each default.
#[derive(Clone, Debug)]
#[must_use]
pub struct RevocationConfig {
    leeway: Duration,
    max_token_lifetime: Duration,
    purge_every: Duration,
    clock: Arc<dyn Clock>,
}

impl Default for RevocationConfig {
    fn default() -> Self {
        Self {
            leeway: DEFAULT_LEEWAY,
            max_token_lifetime: DEFAULT_MAX_TOKEN_LIFETIME,
            purge_every: DEFAULT_PURGE_EVERY,
            clock: Arc::new(SystemClock),
        }
    }
}

impl RevocationConfig {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// How long after a token's `exp` its `jti` rule is kept, and after
    /// `before + max_token_lifetime` a cut-off rule. Must be at least the
    /// verifier's leeway (a verifier accepts a token until `exp + leeway`)
    /// and at most [`jwtgate_verify::MAX_LEEWAY`]. Default
    /// [`DEFAULT_LEEWAY`]. Fractions of a second round up.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The longest lifetime (`exp - iat`) of any token the verifier
    /// accepts: a subject or client rule with cut-off `before` can match
    /// no token still valid after `before + max_token_lifetime + leeway`,
    /// and is dropped then. Set it to the verifier's `max_age` if it has
    /// one. Too short, and a long-lived token revoked by a cut-off rule is
    /// accepted again before it expires; too long costs only memory.
    /// Default [`DEFAULT_MAX_TOKEN_LIFETIME`], at most
    /// [`MAX_TOKEN_LIFETIME_CEILING`]. Fractions of a second round up.
    pub fn max_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.max_token_lifetime = lifetime;
        self
    }

    /// How often a write also drops expired rules: every write checks,
    /// and purges when the last purge is at least this old. A purge
    /// copies the parts of the list that lose rules, so this bounds the
    /// copying a steady stream of writes causes; expired rules no longer
    /// refuse anything in the meantime (they are checked against the
    /// clock), they only hold memory. Zero purges on every write.
    /// [`RevocationList::purge_expired`] purges at once. Default
    /// [`DEFAULT_PURGE_EVERY`], at most [`MAX_PURGE_EVERY`].
    pub fn purge_every(mut self, every: Duration) -> Self {
        self.purge_every = every;
        self
    }

    /// The time source for rule expiry (default: the system clock). Give
    /// the list the verifier's clock when the verifier has a custom one.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Makes the list.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for a setting out of its range.
    pub fn build(self) -> Result<RevocationList, ConfigError> {
        let limits = self.limits()?;
        Ok(RevocationList::from_parts(limits, self.clock))
    }

    /// The settings in whole seconds, checked.
    pub(crate) fn limits(&self) -> Result<Limits, ConfigError> {
        if self.leeway > MAX_LEEWAY {
            return Err(ConfigError::LeewayTooLarge);
        }
        if self.max_token_lifetime.is_zero() || self.max_token_lifetime > MAX_TOKEN_LIFETIME_CEILING {
            return Err(ConfigError::TokenLifetimeOutOfRange);
        }
        if self.purge_every > MAX_PURGE_EVERY {
            return Err(ConfigError::PurgeEveryTooLarge);
        }
        Ok(Limits {
            leeway: whole_seconds(self.leeway),
            lifetime: whole_seconds(self.max_token_lifetime),
            purge_every: whole_seconds(self.purge_every),
        })
    }

    /// The clock rules expire by.
    #[cfg(feature = "redis")]
    pub(crate) fn clock_handle(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.clock)
    }
}

/// A setting out of its range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `leeway` is larger than any verifier accepts.
    #[error("leeway must be at most {} s (jwtgate_verify::MAX_LEEWAY)", MAX_LEEWAY.as_secs())]
    LeewayTooLarge,
    /// `max_token_lifetime` is zero or more than a year.
    #[error("max_token_lifetime must be more than 0 s and at most {} days", MAX_TOKEN_LIFETIME_CEILING.as_secs() / 86_400)]
    TokenLifetimeOutOfRange,
    /// `purge_every` is more than a day.
    #[error("purge_every must be at most {} h", MAX_PURGE_EVERY.as_secs() / 3600)]
    PurgeEveryTooLarge,
}

/// The settings in whole seconds, as the rules' times are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Seconds a rule outlives the last token it can match.
    pub(crate) leeway: i64,
    /// The longest token lifetime, in seconds.
    pub(crate) lifetime: i64,
    /// Seconds between purges by writers.
    pub(crate) purge_every: i64,
}

impl Limits {
    /// Until when (exclusive) a `jti` rule for a token expiring at `exp`
    /// is in force.
    pub(crate) const fn jti_until(self, exp: i64) -> i64 {
        exp.saturating_add(self.leeway)
    }

    /// Until when (exclusive) a cut-off rule at `before` is in force.
    pub(crate) const fn cutoff_until(self, before: i64) -> i64 {
        before.saturating_add(self.lifetime).saturating_add(self.leeway)
    }

    /// Until when (exclusive) a rule for `target` is in force; `i64::MAX`
    /// for key rules, which never expire by themselves.
    pub(crate) const fn until(self, target: &Target) -> i64 {
        match target {
            Target::Jti { exp, .. } => self.jti_until(*exp),
            Target::Subject { before, .. } | Target::Client { before, .. } => self.cutoff_until(*before),
            Target::Key { .. } => i64::MAX,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            leeway: whole_seconds(DEFAULT_LEEWAY),
            lifetime: whole_seconds(DEFAULT_MAX_TOKEN_LIFETIME),
            purge_every: whole_seconds(DEFAULT_PURGE_EVERY),
        }
    }
}

/// Seconds, rounded up (rules live longer, not shorter), saturating.
fn whole_seconds(d: Duration) -> i64 {
    let secs = d.as_secs().saturating_add(u64::from(d.subsec_nanos() > 0));
    i64::try_from(secs).unwrap_or(i64::MAX)
}
