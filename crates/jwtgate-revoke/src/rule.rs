//! Rules: what can be revoked, as plain data that a store can hold, send
//! and write again without changing the outcome.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest issuer, `jti`, `sub`, `client_id` or `kid` a rule may name,
/// in bytes. A token value spelled with JSON escapes is unescaped into a
/// stack buffer of this size to be compared; one longer than this cannot
/// equal any rule's value, so it matches none.
pub const MAX_VALUE_BYTES: usize = 1024;

/// The longest `reason` a rule may carry, in bytes.
pub const MAX_REASON_BYTES: usize = 1024;

/// One revocation rule: which tokens of one issuer to refuse.
///
/// Rules are plain data (serde, for the store and the CLI) with an
/// identity, [`RuleId`]: the issuer, the kind of target and its value.
/// Writing a rule whose identity is already in the list updates that rule
/// instead of adding another, and never shortens it (see
/// [`RevocationList::revoke`](crate::RevocationList::revoke)), so a rule
/// written twice, or replayed by a store, is one rule.
///
/// ```
/// use jwtgate_revoke::{Rule, Target};
///
/// let rule = Rule::jti("https://auth.example.com", "4f1d2c", 1_700_000_300).with_reason("INC-1234");
/// assert_eq!(rule.target, Target::Jti { jti: "4f1d2c".into(), exp: 1_700_000_300 });
/// let json = r#"{"issuer":"https://auth.example.com","target":{"kind":"jti","jti":"4f1d2c","exp":1700000300},"reason":"INC-1234"}"#;
/// assert_eq!(serde_json::to_string(&rule)?, json);
/// assert_eq!(serde_json::from_str::<Rule>(json)?, rule);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The `iss` of the tokens the rule applies to, compared exactly
    /// (after JSON unescaping). The empty string stands for tokens without
    /// `iss`, which only a verifier with the issuer check switched off
    /// accepts; such tokens match no other issuer's rules.
    pub issuer: String,
    /// Which tokens of that issuer.
    pub target: Target,
    /// Why, for people (an incident number, "password reset"): kept with
    /// the rule and returned by [`RevocationList::rules`](crate::RevocationList::rules),
    /// never matched on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What a [`Rule`] refuses. Times are Unix seconds.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Target {
    /// One token, by its `jti`: a leaked or replayed token. The rule lives
    /// until `exp` plus the list's leeway, then goes by itself.
    Jti {
        /// The token's `jti`.
        jti: String,
        /// The token's `exp`: the rule is useless after it.
        exp: i64,
    },
    /// Every token of a subject issued at or before a cut-off: "log out
    /// everywhere", a compromised account or service account.
    Subject {
        /// The tokens' `sub`.
        sub: String,
        /// The cut-off: tokens with `iat <= before` are refused, as are
        /// tokens without `iat`. Usually the time of the revocation.
        before: i64,
    },
    /// Every token issued to a client at or before a cut-off: a compromised
    /// calling service. Matches the token's `client_id`, or else its `azp`.
    Client {
        /// The tokens' `client_id` (or `azp`).
        client_id: String,
        /// The cut-off, as for [`Target::Subject`].
        before: i64,
    },
    /// Every token whose header names a signing key: a leaked issuer key,
    /// before the issuer has rotated it out of its key set.
    Key {
        /// The `kid` in the tokens' header.
        kid: String,
    },
}

/// The kinds of [`Target`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RuleKind {
    /// [`Target::Jti`].
    Jti,
    /// [`Target::Subject`].
    Subject,
    /// [`Target::Client`].
    Client,
    /// [`Target::Key`].
    Key,
}

impl RuleKind {
    /// The name of the value this kind matches: `jti`, `sub`, `client_id`
    /// or `kid`.
    #[must_use]
    pub const fn field(self) -> &'static str {
        match self {
            Self::Jti => "jti",
            Self::Subject => "sub",
            Self::Client => "client_id",
            Self::Key => "kid",
        }
    }

    /// `jti`, `subject`, `client` or `key`, as serialized.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Jti => "jti",
            Self::Subject => "subject",
            Self::Client => "client",
            Self::Key => "key",
        }
    }
}

impl fmt::Display for RuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The identity of a [`Rule`]: its issuer, the kind of its target and the
/// target's value (the `jti`, `sub`, `client_id` or `kid`), without times
/// or reason. Two rules with the same identity are one rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleId {
    /// The rule's issuer.
    pub issuer: String,
    /// The kind of its target.
    pub kind: RuleKind,
    /// The `jti`, `sub`, `client_id` or `kid`.
    pub value: String,
}

impl RuleId {
    /// The identity of the rule of `kind` for `value` of `issuer`.
    #[must_use]
    pub fn new(issuer: impl Into<String>, kind: RuleKind, value: impl Into<String>) -> Self {
        Self { issuer: issuer.into(), kind, value: value.into() }
    }
}

/// `jti "4f1d2c" of issuer "https://auth.example.com"`: values quoted and
/// escaped, so a log line cannot be forged by a value.
impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?} of issuer {:?}", self.kind, self.value, self.issuer)
    }
}

impl Rule {
    /// Refuses the token of `issuer` whose `jti` is `jti`, until its `exp`
    /// (plus the list's leeway).
    #[must_use]
    pub fn jti(issuer: impl Into<String>, jti: impl Into<String>, exp: i64) -> Self {
        Self::new(issuer, Target::Jti { jti: jti.into(), exp })
    }

    /// Refuses every token of `issuer` for subject `sub` issued at or
    /// before `before` (and every one of its tokens without `iat`).
    #[must_use]
    pub fn subject(issuer: impl Into<String>, sub: impl Into<String>, before: i64) -> Self {
        Self::new(issuer, Target::Subject { sub: sub.into(), before })
    }

    /// Refuses every token of `issuer` issued to `client_id` (its
    /// `client_id` or `azp` claim) at or before `before` (and every one of
    /// its tokens without `iat`).
    #[must_use]
    pub fn client(issuer: impl Into<String>, client_id: impl Into<String>, before: i64) -> Self {
        Self::new(issuer, Target::Client { client_id: client_id.into(), before })
    }

    /// Refuses every token of `issuer` whose header names `kid`.
    #[must_use]
    pub fn key(issuer: impl Into<String>, kid: impl Into<String>) -> Self {
        Self::new(issuer, Target::Key { kid: kid.into() })
    }

    fn new(issuer: impl Into<String>, target: Target) -> Self {
        Self { issuer: issuer.into(), target, reason: None }
    }

    /// The same rule with a reason, for people.
    #[must_use]
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// The kind of the rule's target.
    #[must_use]
    pub const fn kind(&self) -> RuleKind {
        self.target.kind()
    }

    /// The rule's identity.
    #[must_use]
    pub fn id(&self) -> RuleId {
        RuleId { issuer: self.issuer.clone(), kind: self.kind(), value: self.target.value().to_owned() }
    }

    /// Checks the rule's sizes: every value non-empty (the issuer may be
    /// empty, see [`Rule::issuer`]) and at most [`MAX_VALUE_BYTES`], the
    /// reason at most [`MAX_REASON_BYTES`].
    ///
    /// # Errors
    ///
    /// [`RuleError`], naming the field.
    pub fn validate(&self) -> Result<(), RuleError> {
        let value = self.target.value();
        let field = self.kind().field();
        if value.is_empty() {
            return Err(RuleError::Empty { field });
        }
        if value.len() > MAX_VALUE_BYTES {
            return Err(RuleError::TooLong { field, max: MAX_VALUE_BYTES });
        }
        if self.issuer.len() > MAX_VALUE_BYTES {
            return Err(RuleError::TooLong { field: "issuer", max: MAX_VALUE_BYTES });
        }
        if self.reason.as_ref().is_some_and(|r| r.len() > MAX_REASON_BYTES) {
            return Err(RuleError::TooLong { field: "reason", max: MAX_REASON_BYTES });
        }
        Ok(())
    }
}

#[cfg(feature = "redis")]
impl Rule {
    /// This rule after `newer`, a later write of the same rule (the same
    /// [`RuleId`]), as the list merges them: the later `exp` or cut-off
    /// wins, a given reason replaces the old one. A store merges with this
    /// before it writes, so that store and list agree.
    pub(crate) fn merged(self, newer: Self) -> Self {
        let target = match (self.target, newer.target) {
            (Target::Jti { jti, exp: a }, Target::Jti { exp: b, .. }) => Target::Jti { jti, exp: a.max(b) },
            (Target::Subject { sub, before: a }, Target::Subject { before: b, .. }) => {
                Target::Subject { sub, before: a.max(b) }
            }
            (Target::Client { client_id, before: a }, Target::Client { before: b, .. }) => {
                Target::Client { client_id, before: a.max(b) }
            }
            // Same identity, so same kind; a key rule has nothing to merge.
            (_, other) => other,
        };
        let reason = newer.reason.filter(|r| !r.is_empty()).or(self.reason.filter(|r| !r.is_empty()));
        Self { issuer: self.issuer, target, reason }
    }
}

impl Target {
    /// The kind of this target.
    #[must_use]
    pub const fn kind(&self) -> RuleKind {
        match self {
            Self::Jti { .. } => RuleKind::Jti,
            Self::Subject { .. } => RuleKind::Subject,
            Self::Client { .. } => RuleKind::Client,
            Self::Key { .. } => RuleKind::Key,
        }
    }

    /// The `jti`, `sub`, `client_id` or `kid`.
    #[must_use]
    pub fn value(&self) -> &str {
        match self {
            Self::Jti { jti: value, .. }
            | Self::Subject { sub: value, .. }
            | Self::Client { client_id: value, .. }
            | Self::Key { kid: value } => value,
        }
    }
}

/// A rule that cannot be written. Nothing of a batch with such a rule is
/// written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    /// The `jti`, `sub`, `client_id` or `kid` is empty: it identifies no token.
    #[error("the {field} of a revocation rule must not be empty")]
    Empty {
        /// `jti`, `sub`, `client_id` or `kid`.
        field: &'static str,
    },
    /// A value or the reason is longer than its limit.
    #[error("the {field} of a revocation rule is longer than {max} bytes")]
    TooLong {
        /// `issuer`, `jti`, `sub`, `client_id`, `kid` or `reason`.
        field: &'static str,
        /// The limit in bytes.
        max: usize,
    },
}
