//! The rule tables: an immutable snapshot that readers load, and the
//! copy-on-write edits writers make to a draft of it.
//!
//! A snapshot maps each issuer to its rules behind an `Arc`; an issuer's
//! `jti` rules are split into [`SHARDS`] tables, each behind an `Arc` of
//! its own. A draft starts as a clone of the current snapshot (one `Arc`
//! per issuer), and an edit copies only what it touches (`Arc::make_mut`):
//! the issuer's small tables and the one `jti` shard. Revoking one token
//! in a list of 1,000,000 copies about 4,000 entries, not 1,000,000, and
//! the list never holds two full copies of itself. A batch copies each
//! shard at most once, however many rules land in it.

use std::hash::BuildHasher as _;
use std::sync::Arc;

use foldhash::fast::RandomState;
use hashbrown::{HashMap, HashTable};
use jwtgate_verify::{Claims, Header, JsonStr};

use crate::config::Limits;
use crate::rule::{MAX_VALUE_BYTES, Rule, RuleError, RuleId, RuleKind, Target};

/// How many tables an issuer's `jti` rules are spread over: a write
/// copies one of them.
pub(crate) const SHARDS: usize = 256;

/// Tables keyed by a value, looked up by `&str` without allocating.
type Map<V> = HashMap<Box<str>, V, RandomState>;

/// What a write needs besides the draft.
pub(crate) struct Ctx<'a> {
    /// The hash of `jti` values (the same for every snapshot of a list,
    /// so shards shared between snapshots stay valid).
    pub(crate) hasher: &'a RandomState,
    pub(crate) limits: Limits,
    /// The time of the write.
    pub(crate) now: i64,
}

/// Live rules by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) jti: usize,
    pub(crate) subject: usize,
    pub(crate) client: usize,
    pub(crate) key: usize,
}

impl Counts {
    pub(crate) const fn total(&self) -> usize {
        self.jti.saturating_add(self.subject).saturating_add(self.client).saturating_add(self.key)
    }

    fn slot(&mut self, kind: RuleKind) -> &mut usize {
        match kind {
            RuleKind::Jti => &mut self.jti,
            RuleKind::Subject => &mut self.subject,
            RuleKind::Client => &mut self.client,
            RuleKind::Key => &mut self.key,
        }
    }

    fn added(&mut self, kind: RuleKind) {
        let slot = self.slot(kind);
        *slot = slot.saturating_add(1);
    }

    fn removed(&mut self, kind: RuleKind) {
        let slot = self.slot(kind);
        *slot = slot.saturating_sub(1);
    }

    fn subtract(&mut self, other: Self) {
        self.jti = self.jti.saturating_sub(other.jti);
        self.subject = self.subject.saturating_sub(other.subject);
        self.client = self.client.saturating_sub(other.client);
        self.key = self.key.saturating_sub(other.key);
    }

    fn add(&mut self, other: Self) {
        self.jti = self.jti.saturating_add(other.jti);
        self.subject = self.subject.saturating_add(other.subject);
        self.client = self.client.saturating_add(other.client);
        self.key = self.key.saturating_add(other.key);
    }
}

/// Every rule of a list at one moment.
#[derive(Clone, Default)]
pub(crate) struct Snapshot {
    issuers: Map<Arc<IssuerRules>>,
    pub(crate) counts: Counts,
    /// The clock time of the last write that changed the rules.
    pub(crate) updated_at: Option<i64>,
}

/// The rules of one issuer.
#[derive(Clone)]
struct IssuerRules {
    /// Empty, or [`SHARDS`] shards; a `jti`'s hash picks one.
    jti: Vec<Arc<JtiShard>>,
    subjects: Map<Cutoff>,
    clients: Map<Cutoff>,
    keys: Map<KeyRule>,
    counts: Counts,
    /// The earliest cut-off among `subjects` and `clients` (`i64::MAX`
    /// without any), so a purge looks at them only when one may be due.
    min_before: i64,
}

/// Part of an issuer's `jti` rules.
#[derive(Clone)]
struct JtiShard {
    table: HashTable<JtiEntry>,
    /// The earliest `exp` in `table` (`i64::MAX` when empty), so a purge
    /// copies only shards that hold an expired rule.
    min_exp: i64,
}

/// A `jti` rule in 32 bytes plus its text: the `jti` and the reason share
/// one allocation (a rule without a reason costs only its `jti`), and the
/// issuer is the table the entry is in.
#[derive(Clone)]
struct JtiEntry {
    /// The `jti`, then the reason if there is one.
    text: Box<str>,
    exp: i64,
    /// The length of the `jti` in `text` (at most [`MAX_VALUE_BYTES`]).
    jti_len: u32,
}

/// A subject or client cut-off.
#[derive(Clone)]
struct Cutoff {
    before: i64,
    reason: Option<Box<str>>,
}

/// A signing-key rule.
#[derive(Clone)]
struct KeyRule {
    reason: Option<Box<str>>,
}

/// What writing one rule did.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Change {
    Added,
    Updated,
    Unchanged,
}

impl Change {
    fn changed(self) -> bool {
        self != Self::Unchanged
    }
}

impl JtiEntry {
    fn new(jti: String, reason: Option<String>, exp: i64) -> Self {
        // INVARIANT: jti.len() <= MAX_VALUE_BYTES (checked by Rule::validate).
        let jti_len = u32::try_from(jti.len()).unwrap_or(u32::MAX);
        let text = match reason {
            None => jti.into_boxed_str(),
            Some(reason) => {
                let mut text = jti;
                text.push_str(&reason);
                text.into_boxed_str()
            }
        };
        Self { text, exp, jti_len }
    }

    fn split(&self) -> (&str, &str) {
        usize::try_from(self.jti_len).ok().and_then(|n| self.text.split_at_checked(n)).unwrap_or((&*self.text, ""))
    }

    fn jti(&self) -> &str {
        self.split().0
    }

    fn reason(&self) -> Option<&str> {
        Some(self.split().1).filter(|r| !r.is_empty())
    }

    /// `true` if this is the rule for `jti`: lengths first, then bytes.
    #[inline]
    fn is(&self, jti: &str) -> bool {
        u32::try_from(jti.len()).is_ok_and(|n| n == self.jti_len) && self.text.as_bytes().starts_with(jti.as_bytes())
    }
}

impl Default for JtiShard {
    fn default() -> Self {
        Self { table: HashTable::new(), min_exp: i64::MAX }
    }
}

/// The shard of a `jti` hash: bits 48-55, which hashbrown uses for
/// neither the slot (low bits) nor the tag (top 7 bits), so the entries of
/// one shard still spread over its table and keep distinct tags.
#[inline]
fn shard_of(hash: u64) -> usize {
    let [_, byte, ..] = hash.to_be_bytes();
    usize::from(byte)
}

/// `value` unescaped, handed to `f`: borrowed from the token when it has
/// no escapes (the common case), otherwise unescaped into a stack buffer.
/// `None` if it is longer than any rule's value can be.
#[inline]
fn with_str<R>(value: JsonStr<'_>, f: impl FnOnce(&str) -> R) -> Option<R> {
    match value.as_str() {
        Some(text) => Some(f(text)),
        None => with_unescaped(value, f),
    }
}

#[cold]
#[inline(never)]
fn with_unescaped<R>(value: JsonStr<'_>, f: impl FnOnce(&str) -> R) -> Option<R> {
    let mut buf = [0u8; MAX_VALUE_BYTES];
    value.unescape_into(&mut buf).ok().map(f)
}

/// The later of two in-force times.
fn later(until: Option<i64>, other: i64) -> Option<i64> {
    Some(until.map_or(other, |until| until.max(other)))
}

/// A cut-off at `before` covers the token if it was issued at or before
/// it, or does not say when it was issued (fail closed).
fn cut_off(claims: &Claims<'_>, before: i64) -> bool {
    claims.iat().is_none_or(|iat| iat.floor() <= before)
}

impl Snapshot {
    /// The number of issuers with rules.
    pub(crate) fn issuer_count(&self) -> usize {
        self.issuers.len()
    }

    /// If a rule matches the token: until when (exclusive) the latest of
    /// the matching rules is in force; `i64::MAX` for a key rule. The
    /// caller compares with the clock. Allocates nothing.
    #[inline]
    pub(crate) fn matching(
        &self,
        header: &Header<'_>,
        claims: &Claims<'_>,
        hasher: &RandomState,
        limits: Limits,
    ) -> Option<i64> {
        if self.issuers.is_empty() {
            return None;
        }
        // A token without `iss` is the issuer "".
        let rules = match claims.iss() {
            Some(iss) => with_str(iss, |iss| self.issuers.get(iss)).flatten()?,
            None => self.issuers.get("")?,
        };
        rules.matching(header, claims, hasher, limits)
    }

    /// Writes `rule`: adds it, or merges it into the rule with its
    /// identity (the later time wins, a given reason replaces the old
    /// one). A rule already past its lifetime at `ctx.now` is dropped.
    /// `Ok(true)` if the rules changed.
    pub(crate) fn insert(&mut self, rule: Rule, ctx: &Ctx<'_>) -> Result<bool, RuleError> {
        rule.validate()?;
        let Rule { issuer, target, reason } = rule;
        // An empty reason is no reason (so writing it again changes nothing).
        let reason = reason.filter(|r| !r.is_empty());
        let until = ctx.limits.until(&target);
        if until <= ctx.now {
            return Ok(false);
        }
        let kind = target.kind();
        if !self.issuers.contains_key(issuer.as_str()) {
            self.issuers.insert(issuer.clone().into_boxed_str(), Arc::new(IssuerRules::new()));
        }
        let Some(rules) = self.issuers.get_mut(issuer.as_str()) else {
            return Ok(false);
        };
        let change = Arc::make_mut(rules).insert(target, reason, ctx);
        if change == Change::Added {
            self.counts.added(kind);
        }
        Ok(change.changed())
    }

    /// Removes the rule `id`; `true` if there was one.
    pub(crate) fn remove(&mut self, id: &RuleId, hasher: &RandomState) -> bool {
        let issuer = id.issuer.as_str();
        // Look before copying: removing an absent rule copies nothing.
        if !self.issuers.get(issuer).is_some_and(|rules| rules.contains(id.kind, &id.value, hasher)) {
            return false;
        }
        let Some(rules) = self.issuers.get_mut(issuer) else {
            return false;
        };
        let rules = Arc::make_mut(rules);
        if !rules.remove(id.kind, &id.value, hasher) {
            return false;
        }
        let now_empty = rules.counts.total() == 0;
        self.counts.removed(id.kind);
        if now_empty {
            self.issuers.remove(issuer);
        }
        true
    }

    /// Drops every rule past its lifetime at `ctx.now`; how many.
    pub(crate) fn purge(&mut self, ctx: &Ctx<'_>) -> usize {
        let mut dropped = Counts::default();
        for rules in self.issuers.values_mut() {
            if rules.is_due(ctx) {
                dropped.add(Arc::make_mut(rules).purge(ctx));
            }
        }
        let total = dropped.total();
        if total > 0 {
            self.issuers.retain(|_, rules| rules.counts.total() > 0);
            self.counts.subtract(dropped);
        }
        total
    }

    /// The rule `id`, if the list holds it.
    pub(crate) fn get(&self, id: &RuleId, hasher: &RandomState) -> Option<Rule> {
        let rules = self.issuers.get(id.issuer.as_str())?;
        let (target, reason) = rules.get(id.kind, &id.value, hasher)?;
        Some(Rule { issuer: id.issuer.clone(), target, reason: reason.map(str::to_owned) })
    }

    /// Every rule held, in no particular order.
    pub(crate) fn rules(&self) -> Vec<Rule> {
        let mut out = Vec::with_capacity(self.counts.total());
        for (issuer, rules) in &self.issuers {
            rules.push_rules(issuer, &mut out);
        }
        out
    }
}

impl IssuerRules {
    fn new() -> Self {
        Self {
            jti: Vec::new(),
            subjects: Map::default(),
            clients: Map::default(),
            keys: Map::default(),
            counts: Counts::default(),
            min_before: i64::MAX,
        }
    }

    #[inline]
    fn matching(&self, header: &Header<'_>, claims: &Claims<'_>, hasher: &RandomState, limits: Limits) -> Option<i64> {
        if !self.keys.is_empty()
            && let Some(kid) = header.kid()
            && with_str(kid, |kid| self.keys.contains_key(kid)) == Some(true)
        {
            return Some(i64::MAX);
        }
        let mut until = None;
        if !self.jti.is_empty()
            && let Some(jti) = claims.jti()
            && let Some(exp) = with_str(jti, |jti| self.jti_entry(jti, hasher).map(|e| e.exp)).flatten()
        {
            until = later(until, limits.jti_until(exp));
        }
        if !self.subjects.is_empty()
            && let Some(sub) = claims.sub()
            && let Some(before) = with_str(sub, |sub| self.subjects.get(sub).map(|c| c.before)).flatten()
            && cut_off(claims, before)
        {
            until = later(until, limits.cutoff_until(before));
        }
        if !self.clients.is_empty() {
            let client = |value: JsonStr<'_>| with_str(value, |id| self.clients.get(id).map(|c| c.before)).flatten();
            // `client_id` (RFC 9068), else `azp` (OpenID Connect), which
            // is looked for only when the issuer has client rules.
            let before = claims
                .client_id()
                .and_then(client)
                .or_else(|| claims.get("azp").and_then(|v| v.as_str()).and_then(client));
            if let Some(before) = before
                && cut_off(claims, before)
            {
                until = later(until, limits.cutoff_until(before));
            }
        }
        until
    }

    #[inline]
    fn jti_entry(&self, jti: &str, hasher: &RandomState) -> Option<&JtiEntry> {
        let hash = hasher.hash_one(jti);
        self.jti.get(shard_of(hash))?.table.find(hash, |e| e.is(jti))
    }

    fn contains(&self, kind: RuleKind, value: &str, hasher: &RandomState) -> bool {
        match kind {
            RuleKind::Jti => self.jti_entry(value, hasher).is_some(),
            RuleKind::Subject => self.subjects.contains_key(value),
            RuleKind::Client => self.clients.contains_key(value),
            RuleKind::Key => self.keys.contains_key(value),
        }
    }

    fn get(&self, kind: RuleKind, value: &str, hasher: &RandomState) -> Option<(Target, Option<&str>)> {
        Some(match kind {
            RuleKind::Jti => {
                let e = self.jti_entry(value, hasher)?;
                (Target::Jti { jti: value.to_owned(), exp: e.exp }, e.reason())
            }
            RuleKind::Subject => {
                let c = self.subjects.get(value)?;
                (Target::Subject { sub: value.to_owned(), before: c.before }, c.reason.as_deref())
            }
            RuleKind::Client => {
                let c = self.clients.get(value)?;
                (Target::Client { client_id: value.to_owned(), before: c.before }, c.reason.as_deref())
            }
            RuleKind::Key => {
                let k = self.keys.get(value)?;
                (Target::Key { kid: value.to_owned() }, k.reason.as_deref())
            }
        })
    }

    fn push_rules(&self, issuer: &str, out: &mut Vec<Rule>) {
        let rule = |target, reason: Option<&str>| Rule {
            issuer: issuer.to_owned(),
            target,
            reason: reason.map(str::to_owned),
        };
        for entry in self.jti.iter().flat_map(|shard| shard.table.iter()) {
            out.push(rule(Target::Jti { jti: entry.jti().to_owned(), exp: entry.exp }, entry.reason()));
        }
        for (sub, c) in &self.subjects {
            out.push(rule(Target::Subject { sub: String::from(&**sub), before: c.before }, c.reason.as_deref()));
        }
        for (client_id, c) in &self.clients {
            out.push(rule(
                Target::Client { client_id: String::from(&**client_id), before: c.before },
                c.reason.as_deref(),
            ));
        }
        for (kid, k) in &self.keys {
            out.push(rule(Target::Key { kid: String::from(&**kid) }, k.reason.as_deref()));
        }
    }

    fn insert(&mut self, target: Target, reason: Option<String>, ctx: &Ctx<'_>) -> Change {
        let kind = target.kind();
        let change = match target {
            Target::Jti { jti, exp } => self.insert_jti(jti, exp, reason, ctx.hasher),
            Target::Subject { sub, before } => {
                self.min_before = self.min_before.min(before);
                merge_cutoff(&mut self.subjects, sub, before, reason)
            }
            Target::Client { client_id, before } => {
                self.min_before = self.min_before.min(before);
                merge_cutoff(&mut self.clients, client_id, before, reason)
            }
            Target::Key { kid } => match self.keys.get_mut(kid.as_str()) {
                Some(rule) => merge_reason(&mut rule.reason, reason),
                None => {
                    self.keys.insert(kid.into_boxed_str(), KeyRule { reason: reason.map(String::into_boxed_str) });
                    Change::Added
                }
            },
        };
        if change == Change::Added {
            self.counts.added(kind);
        }
        change
    }

    fn insert_jti(&mut self, jti: String, exp: i64, reason: Option<String>, hasher: &RandomState) -> Change {
        if self.jti.is_empty() {
            // One shared empty shard: writes copy a shard (make_mut) before changing it.
            self.jti = std::iter::repeat_n(Arc::new(JtiShard::default()), SHARDS).collect();
        }
        let hash = hasher.hash_one(jti.as_str());
        let Some(shard) = self.jti.get_mut(shard_of(hash)) else {
            return Change::Unchanged;
        };
        let shard = Arc::make_mut(shard);
        shard.min_exp = shard.min_exp.min(exp);
        match shard.table.find_mut(hash, |e| e.is(&jti)) {
            Some(entry) => {
                let mut change = Change::Unchanged;
                if exp > entry.exp {
                    entry.exp = exp;
                    change = Change::Updated;
                }
                if let Some(reason) = reason
                    && entry.reason() != Some(reason.as_str())
                {
                    *entry = JtiEntry::new(jti, Some(reason), entry.exp);
                    change = Change::Updated;
                }
                change
            }
            None => {
                shard.table.insert_unique(hash, JtiEntry::new(jti, reason, exp), |e| hasher.hash_one(e.jti()));
                Change::Added
            }
        }
    }

    fn remove(&mut self, kind: RuleKind, value: &str, hasher: &RandomState) -> bool {
        let removed = match kind {
            RuleKind::Jti => {
                let hash = hasher.hash_one(value);
                match self.jti.get_mut(shard_of(hash)) {
                    Some(shard) => match Arc::make_mut(shard).table.find_entry(hash, |e| e.is(value)) {
                        Ok(entry) => {
                            let (_rule, _) = entry.remove();
                            true
                        }
                        Err(_) => false,
                    },
                    None => false,
                }
            }
            RuleKind::Subject => self.subjects.remove(value).is_some(),
            RuleKind::Client => self.clients.remove(value).is_some(),
            RuleKind::Key => self.keys.remove(value).is_some(),
        };
        if removed {
            self.counts.removed(kind);
            if self.counts.jti == 0 {
                self.jti = Vec::new();
            }
        }
        removed
    }

    /// `true` if a purge at `ctx.now` would drop something here.
    fn is_due(&self, ctx: &Ctx<'_>) -> bool {
        ctx.limits.cutoff_until(self.min_before) <= ctx.now
            || self.jti.iter().any(|shard| ctx.limits.jti_until(shard.min_exp) <= ctx.now)
    }

    /// Drops the rules past their lifetime at `ctx.now`, copying only the
    /// shards that lose some; what was dropped.
    fn purge(&mut self, ctx: &Ctx<'_>) -> Counts {
        let (limits, now, hasher) = (ctx.limits, ctx.now, ctx.hasher);
        let mut dropped = Counts::default();
        for shard in &mut self.jti {
            if limits.jti_until(shard.min_exp) > now {
                continue;
            }
            let shard = Arc::make_mut(shard);
            let held = shard.table.len();
            shard.table.retain(|e| limits.jti_until(e.exp) > now);
            shard.min_exp = shard.table.iter().map(|e| e.exp).min().unwrap_or(i64::MAX);
            dropped.jti = dropped.jti.saturating_add(held.saturating_sub(shard.table.len()));
            // Give memory back once a shard is mostly empty.
            if shard.table.len().saturating_mul(4) < shard.table.capacity() {
                shard.table.shrink_to_fit(|e| hasher.hash_one(e.jti()));
            }
        }
        if limits.cutoff_until(self.min_before) <= now {
            let live = |c: &mut Cutoff| limits.cutoff_until(c.before) > now;
            let held = (self.subjects.len(), self.clients.len());
            self.subjects.retain(|_, c| live(c));
            self.clients.retain(|_, c| live(c));
            dropped.subject = held.0.saturating_sub(self.subjects.len());
            dropped.client = held.1.saturating_sub(self.clients.len());
            self.min_before =
                self.subjects.values().chain(self.clients.values()).map(|c| c.before).min().unwrap_or(i64::MAX);
            for map in [&mut self.subjects, &mut self.clients] {
                if map.len().saturating_mul(4) < map.capacity() {
                    map.shrink_to_fit();
                }
            }
        }
        self.counts.subtract(dropped);
        if self.counts.jti == 0 {
            self.jti = Vec::new();
        }
        dropped
    }
}

fn merge_cutoff(map: &mut Map<Cutoff>, value: String, before: i64, reason: Option<String>) -> Change {
    match map.get_mut(value.as_str()) {
        Some(cutoff) => {
            let mut change = merge_reason(&mut cutoff.reason, reason);
            if before > cutoff.before {
                cutoff.before = before;
                change = Change::Updated;
            }
            change
        }
        None => {
            map.insert(value.into_boxed_str(), Cutoff { before, reason: reason.map(String::into_boxed_str) });
            Change::Added
        }
    }
}

/// A given reason replaces the old one; none keeps it.
fn merge_reason(old: &mut Option<Box<str>>, new: Option<String>) -> Change {
    match new {
        Some(new) if old.as_deref() != Some(new.as_str()) => {
            *old = Some(new.into_boxed_str());
            Change::Updated
        }
        _ => Change::Unchanged,
    }
}
