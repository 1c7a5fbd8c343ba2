//! How the rules sit in Redis: three keys under one hash tag, and the
//! encoding of rules, identities and stream entries.
//!
//! - `{ns}:rules`, a hash: field = the rule's identity (JSON of
//!   [`RuleId`]), value = the rule (JSON of [`Rule`]). The state: what a
//!   replica loads on a full sync.
//! - `{ns}:expiry`, a sorted set: member = the same field, score = the
//!   Unix second until which the rule is in force. Writers drop what has
//!   passed; key rules, which never expire, are not in it.
//! - `{ns}:log`, a stream: one entry per change (`op` `revoke` with the
//!   merged `rule`, or `remove` with the `id`), capped in length. What a
//!   replica follows between full syncs.
//! - `{ns}:config`, a hash: the rule lifetimes (`leeway`,
//!   `max_token_lifetime`, seconds) the store expires rules by, set by the
//!   first writer; a writer with other settings is refused, since it would
//!   expire rules that replicas still enforce.
//!
//! The braces make all three one Redis Cluster hash slot, so the write
//! script may touch them together.

use std::fmt;

use crate::rule::{Rule, RuleId};

/// The names of the three keys.
#[derive(Clone, Debug)]
pub(crate) struct Keys {
    pub(crate) rules: String,
    pub(crate) expiry: String,
    pub(crate) log: String,
    pub(crate) config: String,
}

impl Keys {
    pub(crate) fn new(namespace: &str) -> Self {
        Self {
            rules: format!("{{{namespace}}}:rules"),
            expiry: format!("{{{namespace}}}:expiry"),
            log: format!("{{{namespace}}}:log"),
            config: format!("{{{namespace}}}:config"),
        }
    }
}

/// The hash field (and sorted-set member) of a rule: its identity as JSON,
/// which serde writes in one field order, so equal identities are equal
/// strings.
pub(crate) fn field(id: &RuleId) -> String {
    // Serializing a struct of strings and a unit enum cannot fail.
    serde_json::to_string(id).unwrap_or_default()
}

pub(crate) fn encode(rule: &Rule) -> String {
    serde_json::to_string(rule).unwrap_or_default()
}

/// A stream entry id, `ms-seq`, ordered as Redis orders them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct EntryId {
    ms: u64,
    seq: u64,
}

impl EntryId {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let (ms, seq) = text.split_once('-')?;
        Some(Self { ms: ms.parse().ok()?, seq: seq.parse().ok()? })
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// Where a follower is in the log: the last entry it applied, and how
/// many entries the log had ever received up to it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Position {
    pub(crate) id: EntryId,
    pub(crate) count: u64,
}

/// What `XINFO STREAM` says about the log that matters to a follower.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct LogInfo {
    /// The id of the last entry ever added (entries deleted since
    /// included); `0-0` for a log that does not exist.
    pub(crate) last_generated: EntryId,
    /// How many entries the log ever received (Redis 7.0 or later).
    pub(crate) entries_added: Option<u64>,
    /// How many it holds.
    pub(crate) length: u64,
    /// The first entry still held, if any.
    pub(crate) first: Option<EntryId>,
}

/// Whether a follower that has applied every entry up to a position can
/// go on reading after it, or has missed entries and must load the whole
/// state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Continuity {
    /// Nothing after the position was deleted: reading on sees every
    /// change.
    Intact,
    /// Entries after the position were trimmed away before they were read.
    Trimmed,
    /// The log is older than the position: the store lost its data (a
    /// restart without persistence, a flush) or is another store.
    Reset,
}

impl LogInfo {
    /// The position of a follower that has read everything up to now.
    pub(crate) const fn tip(&self) -> Position {
        Position {
            id: self.last_generated,
            count: match self.entries_added {
                Some(added) => added,
                None => 0,
            },
        }
    }

    /// Whether a follower at `at` that has just read `read` more entries
    /// (as the same reply) can go on. Trimming (`MAXLEN`) removes the
    /// oldest entries first, and Redis does not mark trimmed ids as
    /// deleted, so the test is by count: the log has dropped
    /// `entries_added - length` entries; if that is more than the follower
    /// had read before this reply, some it had not read are gone. A log
    /// that has received fewer entries than the follower has read is not
    /// the log it was reading.
    pub(crate) fn continuity(&self, at: Position, read: u64) -> Continuity {
        if self.last_generated < at.id {
            return Continuity::Reset;
        }
        let lost = match self.entries_added {
            Some(added) if added < at.count.saturating_add(read) => return Continuity::Reset,
            Some(added) => added.saturating_sub(self.length) > at.count,
            // Without the count (before Redis 7.0): a first entry after
            // the position means some may be gone. That can load the whole
            // set once too often, never once too rarely.
            None => self.first.is_some_and(|first| first > at.id),
        };
        if lost { Continuity::Trimmed } else { Continuity::Intact }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> EntryId {
        EntryId::parse(text).unwrap_or_default()
    }

    #[test]
    fn entry_ids_order_as_redis_orders_them() {
        assert!(id("10-0") > id("9-99"));
        assert!(id("10-2") > id("10-1"));
        assert_eq!(id("10-2").to_string(), "10-2");
        assert_eq!(EntryId::parse("10"), None);
        assert_eq!(EntryId::parse("a-1"), None);
    }

    #[test]
    fn continuity_is_judged_by_what_was_dropped_after_the_position() {
        // 20 entries ever, 15 held: the first 5 were trimmed.
        let info = LogInfo { last_generated: id("20-0"), entries_added: Some(20), length: 15, first: Some(id("6-0")) };
        assert_eq!(info.continuity(Position { id: id("10-0"), count: 10 }, 0), Continuity::Intact);
        assert_eq!(info.continuity(Position { id: id("10-0"), count: 10 }, 10), Continuity::Intact);
        assert_eq!(info.continuity(Position { id: id("5-0"), count: 5 }, 15), Continuity::Intact);
        assert_eq!(info.continuity(Position { id: id("4-0"), count: 4 }, 16), Continuity::Trimmed);
        assert_eq!(info.continuity(Position { id: id("21-0"), count: 21 }, 0), Continuity::Reset);
        assert_eq!(info.continuity(Position { id: id("19-0"), count: 25 }, 0), Continuity::Reset);
        // The store restarted empty and took a few writes before the
        // follower looked: fewer entries than it has read.
        let restarted =
            LogInfo { last_generated: id("30-0"), entries_added: Some(3), length: 3, first: Some(id("28-0")) };
        assert_eq!(restarted.continuity(Position { id: id("20-0"), count: 20 }, 3), Continuity::Reset);
        let old = LogInfo { entries_added: None, ..info };
        assert_eq!(old.continuity(Position { id: id("10-0"), count: 0 }, 0), Continuity::Intact);
        assert_eq!(old.continuity(Position { id: id("4-0"), count: 0 }, 0), Continuity::Trimmed);
        assert_eq!(info.tip(), Position { id: id("20-0"), count: 20 });
    }

    #[test]
    fn keys_share_one_hash_tag() {
        let keys = Keys::new("jwtgate");
        assert_eq!(keys.rules, "{jwtgate}:rules");
        assert_eq!(keys.expiry, "{jwtgate}:expiry");
        assert_eq!(keys.log, "{jwtgate}:log");
    }
}
