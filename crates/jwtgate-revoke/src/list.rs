//! The in-memory revocation list: lock-free, allocation-free reads of an
//! immutable snapshot; writes that build the next snapshot and swap it in.

use std::convert::Infallible;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;
use foldhash::fast::RandomState;
use jwtgate_verify::{Claims, Clock, Header, Revocation, SystemClock};

use crate::config::Limits;
use crate::rule::{Rule, RuleError, RuleId};
use crate::snapshot::{Ctx, Snapshot};
use crate::stats::RevocationStats;

/// Revocation rules held in memory, checked by a verifier on every token
/// (it implements [`Revocation`]).
///
/// A cheap handle: clones share one list, so the verifier holds one
/// (`Verifier::builder().revocation(list.clone())`) while an admin
/// endpoint, or a sync task, holds another and writes. See the crate
/// documentation for what each rule refuses and for how long.
///
/// Reads (`is_revoked`) load the current snapshot of the rules without a
/// lock and allocate nothing. Writes (`revoke`, `revoke_all`, `remove`,
/// `replace_all`, `purge_expired`) take a writer lock (readers never do),
/// build the next snapshot from the current one, copying only the parts
/// they change, and swap it in: a rule refuses tokens in every thread as
/// soon as `revoke` returns, and a reader sees each write whole or not
/// at all.
#[derive(Clone)]
pub struct RevocationList {
    inner: Arc<Inner>,
}

struct Inner {
    snapshot: ArcSwap<Snapshot>,
    /// Serialises writers; holds when writers last purged.
    writer: Mutex<Writer>,
    /// The hash of `jti` values, seeded once per list.
    hasher: RandomState,
    limits: Limits,
    clock: Arc<dyn Clock>,
    lookups: AtomicU64,
    hits: AtomicU64,
}

struct Writer {
    last_purge: i64,
}

impl Default for RevocationList {
    fn default() -> Self {
        Self::from_parts(Limits::default(), Arc::new(SystemClock))
    }
}

impl RevocationList {
    /// An empty list with the default settings (see
    /// [`RevocationConfig`](crate::RevocationConfig) for the others).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn from_parts(limits: Limits, clock: Arc<dyn Clock>) -> Self {
        Self {
            inner: Arc::new(Inner {
                snapshot: ArcSwap::from_pointee(Snapshot::default()),
                writer: Mutex::new(Writer { last_purge: i64::MIN }),
                hasher: RandomState::default(),
                limits,
                clock,
                lookups: AtomicU64::new(0),
                hits: AtomicU64::new(0),
            }),
        }
    }

    /// Adds a rule. Idempotent: a rule whose identity ([`Rule::id`]) is
    /// already held is merged into it instead, and a revocation never
    /// shrinks: the later `exp` or cut-off wins, and a given reason
    /// replaces the old one. A rule already past its lifetime (a `jti`
    /// rule after `exp` plus the leeway) is accepted and dropped at once.
    /// Once this returns, every verifier using the list refuses the
    /// tokens the rule names.
    ///
    /// # Errors
    ///
    /// [`RuleError`] for an empty or oversized value; nothing is written.
    pub fn revoke(&self, rule: Rule) -> Result<(), RuleError> {
        self.revoke_all([rule])
    }

    /// Adds many rules as one write: one new snapshot, each part of the
    /// list copied at most once (a sync of 10,000 rules does not copy the
    /// list 10,000 times). Readers see all of them or none. The rules may
    /// come from an iterator that makes them on the fly, so a large batch
    /// need not be held in memory twice.
    ///
    /// # Errors
    ///
    /// [`RuleError`] for the first invalid rule; then nothing of the batch
    /// is written.
    pub fn revoke_all(&self, rules: impl IntoIterator<Item = Rule>) -> Result<(), RuleError> {
        self.inner.try_write(|draft, ctx| {
            let mut changed = false;
            for rule in rules {
                changed |= draft.insert(rule, ctx)?;
            }
            Ok::<_, RuleError>(((), changed))
        })
    }

    /// Replaces every rule with `rules`, as one write (a store's full
    /// resynchronisation: rules the store no longer has are gone after it).
    ///
    /// # Errors
    ///
    /// [`RuleError`] for the first invalid rule; then the list is left as
    /// it was.
    pub fn replace_all(&self, rules: impl IntoIterator<Item = Rule>) -> Result<(), RuleError> {
        self.inner.try_write(|draft, ctx| {
            let mut fresh = Snapshot::default();
            for rule in rules {
                fresh.insert(rule, ctx)?;
            }
            *draft = fresh;
            Ok::<_, RuleError>(((), true))
        })
    }

    /// Removes the rule with this identity (an "unrevoke": an operator's
    /// mistake undone, a key rule no longer needed); `true` if it was held.
    #[doc(alias = "unrevoke")]
    pub fn remove(&self, id: &RuleId) -> bool {
        self.inner.write(|draft, ctx| {
            let removed = draft.remove(id, ctx.hasher);
            (removed, removed)
        })
    }

    /// Removes every rule with one of these identities, as one write; how
    /// many were held.
    pub fn remove_all<'a>(&self, ids: impl IntoIterator<Item = &'a RuleId>) -> usize {
        self.inner.write(|draft, ctx| {
            let mut removed = 0_usize;
            for id in ids {
                if draft.remove(id, ctx.hasher) {
                    removed = removed.saturating_add(1);
                }
            }
            (removed, removed > 0)
        })
    }

    /// Drops every rule past its lifetime now (by the list's clock); how
    /// many. Writes do this too, at most once per
    /// [`purge_every`](crate::RevocationConfig::purge_every); a list that
    /// receives no writes keeps what it holds (it does not grow) until
    /// this is called. Expired rules refuse nothing either way: a match is
    /// checked against the clock.
    pub fn purge_expired(&self) -> usize {
        self.inner.write(|draft, ctx| {
            let dropped = draft.purge(ctx);
            (dropped, dropped > 0)
        })
    }

    /// The rule with this identity, if held.
    #[must_use]
    pub fn get(&self, id: &RuleId) -> Option<Rule> {
        self.inner.snapshot.load().get(id, &self.inner.hasher)
    }

    /// Every rule held, in no particular order (expired rules not yet
    /// purged included).
    #[must_use]
    pub fn rules(&self) -> Vec<Rule> {
        self.inner.snapshot.load().rules()
    }

    /// The number of rules held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.inner.snapshot.load().counts.total()
    }

    /// `true` if no rule is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rules held by kind, lookups, hits and the time of the last change.
    #[must_use]
    pub fn stats(&self) -> RevocationStats {
        let snapshot = self.inner.snapshot.load();
        let counts = snapshot.counts;
        RevocationStats {
            jti_rules: counts.jti,
            subject_rules: counts.subject,
            client_rules: counts.client,
            key_rules: counts.key,
            issuers: snapshot.issuer_count(),
            lookups: self.inner.lookups.load(Ordering::Relaxed),
            hits: self.inner.hits.load(Ordering::Relaxed),
            updated_at: snapshot.updated_at,
        }
    }
}

impl Inner {
    /// One write: a draft of the current snapshot, edited, purged if a
    /// purge is due, then swapped in if anything changed. `edit` returns
    /// its result and whether it changed the draft; on an error nothing is
    /// stored.
    fn try_write<T, E>(&self, edit: impl FnOnce(&mut Snapshot, &Ctx<'_>) -> Result<(T, bool), E>) -> Result<T, E> {
        // A writer that panicked left no half-made snapshot behind (the
        // draft is its own), so a poisoned lock is safe to take over.
        let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let ctx = Ctx { hasher: &self.hasher, limits: self.limits, now: self.clock.now() };
        // Cloning a snapshot copies one `Arc` per issuer; `edit` copies
        // only the parts it changes.
        let mut draft = Snapshot::clone(&self.snapshot.load_full());
        let (out, edited) = edit(&mut draft, &ctx)?;
        // After the edit, so `purge_expired` counts what it dropped itself.
        let mut purged = false;
        if ctx.now >= writer.last_purge.saturating_add(self.limits.purge_every) {
            writer.last_purge = ctx.now;
            purged = draft.purge(&ctx) > 0;
        }
        if purged || edited {
            draft.updated_at = Some(ctx.now);
            self.snapshot.store(Arc::new(draft));
        }
        Ok(out)
    }

    fn write<T>(&self, edit: impl FnOnce(&mut Snapshot, &Ctx<'_>) -> (T, bool)) -> T {
        match self.try_write(|draft, ctx| Ok::<_, Infallible>(edit(draft, ctx))) {
            Ok(out) => out,
            Err(never) => match never {},
        }
    }
}

impl Revocation for RevocationList {
    /// Allocates nothing and takes no lock: one atomic load of the current
    /// snapshot, then a hash lookup per kind of rule the token's issuer
    /// has (none for an issuer without rules). The clock is read only
    /// when a rule matches, to skip one past its lifetime that no purge
    /// has dropped yet.
    #[inline]
    fn is_revoked(&self, header: &Header<'_>, claims: &Claims<'_>) -> bool {
        let inner = &*self.inner;
        inner.lookups.fetch_add(1, Ordering::Relaxed);
        let Some(until) = inner.snapshot.load().matching(header, claims, &inner.hasher, inner.limits) else {
            return false;
        };
        let revoked = until == i64::MAX || inner.clock.now() < until;
        if revoked {
            inner.hits.fetch_add(1, Ordering::Relaxed);
        }
        revoked
    }
}

impl fmt::Debug for RevocationList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stats = self.stats();
        f.debug_struct("RevocationList")
            .field("rules", &stats.rules())
            .field("issuers", &stats.issuers)
            .field("limits", &self.inner.limits)
            .finish_non_exhaustive()
    }
}
