//! Counters of a key source, readable in-process (for metrics exporters
//! and for tests that prove how often the identity provider was asked).

use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters, shared by every clone of a source.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) fetches: AtomicU64,
    pub(crate) fetch_failures: AtomicU64,
    pub(crate) not_modified: AtomicU64,
    pub(crate) unknown_kid_refetches: AtomicU64,
    pub(crate) cooldown_skips: AtomicU64,
    pub(crate) negative_cache_hits: AtomicU64,
    pub(crate) stale_serves: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> JwksStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        JwksStats {
            fetches: get(&self.fetches),
            fetch_failures: get(&self.fetch_failures),
            not_modified: get(&self.not_modified),
            unknown_kid_refetches: get(&self.unknown_kid_refetches),
            cooldown_skips: get(&self.cooldown_skips),
            negative_cache_hits: get(&self.negative_cache_hits),
            stale_serves: get(&self.stale_serves),
        }
    }
}

/// A snapshot of a source's counters since it was built.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JwksStats {
    /// Key-set fetches started (a first fetch that runs discovery counts
    /// once, discovery included).
    pub fetches: u64,
    /// Fetches that failed (network, status, body, no usable key).
    pub fetch_failures: u64,
    /// Fetches answered 304 Not Modified.
    pub not_modified: u64,
    /// Fetches made because a token named a `kid` the set lacked.
    pub unknown_kid_refetches: u64,
    /// Refresh requests answered at once because of the cooldown.
    pub cooldown_skips: u64,
    /// Unknown kids answered from the negative cache without a fetch.
    pub negative_cache_hits: u64,
    /// Lookups served from a set past its freshness (while it is revalidated
    /// or the identity provider is failing).
    pub stale_serves: u64,
}
