//! The verified-token cache: a token seen again costs a hash, a compare
//! and the claim checks, not a signature check.
//!
//! # Why it is safe
//!
//! - Only tokens that passed every check go in; a failure is never cached,
//!   so no input can fill the cache or make a refused token pass later.
//! - The key is the whole token, compared byte for byte on a hit; the
//!   keyed hash (per-process random seed) only picks the slot, so a
//!   collision cannot make one token pass as another. (An ECDSA token's
//!   high-S twin is a different key: it is verified on its own.)
//! - An entry belongs to the verifier that made it (its policy): another
//!   verifier never sees it.
//! - On every hit the time checks (`exp`, `nbf`, `iat`, max age), the
//!   issuer/audience/claim/`typ` checks and revocation run again against
//!   the current clock and list, and the key that verified the token must
//!   still be in the current key set: a rotation or a JWKS refresh that
//!   drops a key ends every entry it verified at once. An entry never
//!   outlives its token's `exp` plus leeway.
//!
//! # Structure
//!
//! A fixed number of shards, each a `hashbrown::HashTable` of slot indices
//! over a vector of entries behind its own `RwLock`: a lookup takes one
//! shard's read lock, so readers of different shards never meet and
//! readers of one shard never wait for each other, only for an insert into
//! that shard (a few hundred nanoseconds, on a miss, which has just paid
//! for a signature check). Eviction is CLOCK (second chance): a hit sets
//! the entry's reference bit, with a plain store only when it was clear,
//! so hot entries cost no shared writes; an insert into a full shard
//! sweeps past referenced entries (clearing them) to the first that was
//! not used since the last sweep. moka was the alternative: its reads
//! record every access in a queue (a write per hit), and it hands out
//! owned values, where a hit here copies the decoded JSON straight into
//! the caller's scratch buffer under the read lock.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};

use foldhash::SharedSeed;
use foldhash::fast::SeedableRandomState;
use hashbrown::HashTable;
use jwtgate_parse::{DetachedClaims, DetachedHeader};

use crate::algorithm::Algorithm;
use crate::verified::Verified;

/// Bytes an entry costs beyond its token and decoded JSON (the entry
/// itself, its table slot, two allocations' headers), for the byte bound.
const ENTRY_OVERHEAD: usize = size_of::<Entry>() + 32;

/// A bounded cache of verified tokens, for [`Verifier`](crate::Verifier)s:
/// turn it on with
/// [`VerifierBuilder::token_cache`](crate::VerifierBuilder::token_cache), or
/// hold one yourself and pass it to
/// [`Verifier::verify_with_cache`](crate::Verifier::verify_with_cache).
///
/// Bounded by entries and by bytes: a flood of distinct valid tokens
/// evicts, it never grows the cache past its bounds. See the module source
/// for why it is safe and how it is built.
pub struct TokenCache {
    shards: Box<[RwLock<Shard>]>,
    hasher: SeedableRandomState,
    max_entries: usize,
    entries_per_shard: usize,
    bytes_per_shard: usize,
    counters: Counters,
}

#[derive(Default)]
struct Shard {
    /// Indices into `slots`, found by the token's hash.
    table: HashTable<usize>,
    slots: Vec<Entry>,
    /// The CLOCK hand: the next slot an insert into a full shard considers.
    hand: usize,
    /// What `slots` holds, by [`Entry::cost`].
    bytes: usize,
}

struct Entry {
    hash: u64,
    token: Box<str>,
    /// The decoded header JSON followed by the decoded claims JSON.
    json: Box<str>,
    header: DetachedHeader,
    claims: DetachedClaims,
    alg: Algorithm,
    /// Which key verified the signature ([`VerifyingKey`](crate::VerifyingKey)'s id).
    key: u64,
    /// The token's `kid`, unescaped: on a hit, the key must still be one
    /// the token's `kid` and `alg` select, as for a fresh check.
    kid: Option<Box<str>>,
    /// Which verifier (policy) the entry belongs to.
    verifier: u64,
    /// Unix second from which the entry is useless: `exp` plus leeway.
    expires: i64,
    /// Set by hits, cleared by the CLOCK hand.
    referenced: AtomicBool,
}

impl Entry {
    fn cost(&self) -> usize {
        self.token.len() + self.json.len() + self.kid.as_deref().map_or(0, str::len) + ENTRY_OVERHEAD
    }

    /// The entry of `verifier` for `token` (the hash first: it is cheap and
    /// nearly always decides).
    fn is(&self, hash: u64, verifier: u64, token: &str) -> bool {
        self.hash == hash && self.verifier == verifier && *self.token == *token
    }
}

/// What a hit needs to hand out a [`Verified`]: where the JSON was copied,
/// and the views to put back onto it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Hit {
    pub(crate) header: DetachedHeader,
    pub(crate) claims: DetachedClaims,
    pub(crate) alg: Algorithm,
    pub(crate) key: u64,
}

/// The outcome of a lookup.
#[allow(clippy::large_enum_variant, reason = "returned once per lookup, never stored; a Box would allocate per hit")]
pub(crate) enum Probe {
    /// Not cached (or cached for another verifier, or past its `exp`).
    Miss,
    /// Cached: the JSON is in the caller's buffer.
    Hit(Hit),
    /// Cached, but the key that verified it has left the key set; the entry
    /// is gone now.
    KeyGone,
}

/// Counters since the cache was made; see [`TokenCache::stats`].
#[derive(Debug, Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    insertions: AtomicU64,
    evictions: AtomicU64,
    rotations: AtomicU64,
    expirations: AtomicU64,
}

/// A snapshot of a [`TokenCache`]'s counters.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenCacheStats {
    /// Lookups answered from the cache (the claim checks and revocation
    /// still ran; a hit can still be refused, say for `exp`).
    pub hits: u64,
    /// Lookups that went on to a full verification.
    pub misses: u64,
    /// Verified tokens stored.
    pub insertions: u64,
    /// Entries dropped to stay within the bounds.
    pub evictions: u64,
    /// Entries dropped because the key that verified them left the key set
    /// (a rotation, or a JWKS refresh without it), or is no longer one the
    /// token's `kid` and `alg` select. Dropped when next looked up: until
    /// then such an entry still counts towards the bounds.
    pub invalidated_by_rotation: u64,
    /// Entries dropped because their token expired (also when next looked
    /// up, or evicted before).
    pub expired: u64,
    /// Entries held now.
    pub entries: u64,
}

/// Counters and bounds only: the entries are live bearer tokens.
impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("max_entries", &self.max_entries)
            .field("shards", &self.shards.len())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    /// A cache of at most `max_entries` tokens, and at most 4 KiB per entry
    /// on average in bytes (token, decoded JSON, bookkeeping; change it with
    /// [`TokenCache::max_bytes`]). `max_entries` of 0 makes a cache that
    /// holds nothing.
    #[must_use]
    pub fn new(max_entries: usize) -> Self {
        Self::with_bounds(max_entries, max_entries.saturating_mul(4096))
    }

    /// The same cache with a byte bound of `max_bytes` instead.
    #[must_use]
    pub fn max_bytes(self, max_bytes: usize) -> Self {
        Self::with_bounds(self.max_entries, max_bytes)
    }

    fn with_bounds(max_entries: usize, max_bytes: usize) -> Self {
        // Enough shards that two cores rarely meet, few enough that a small
        // cache still holds whole tokens per shard.
        let shards = (max_entries / 64).clamp(1, 64).next_power_of_two();
        // A random per-process seed from the OS (std's `RandomState` keys
        // come from it), so nobody can aim tokens at one slot.
        let seed = std::hash::RandomState::new().hash_one(0x6a77_7467_6174_6521_u64);
        Self {
            shards: (0..shards).map(|_| RwLock::new(Shard::default())).collect(),
            hasher: SeedableRandomState::with_seed(seed, SharedSeed::global_random()),
            max_entries,
            // Rounded down: the bound holds for the whole cache however
            // the hashes spread (at most `shards - 1` entries of room lost).
            entries_per_shard: max_entries / shards,
            bytes_per_shard: max_bytes / shards,
            counters: Counters::default(),
        }
    }

    /// The counters since the cache was made, and its size now.
    #[must_use]
    pub fn stats(&self) -> TokenCacheStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        TokenCacheStats {
            hits: get(&self.counters.hits),
            misses: get(&self.counters.misses),
            insertions: get(&self.counters.insertions),
            evictions: get(&self.counters.evictions),
            invalidated_by_rotation: get(&self.counters.rotations),
            expired: get(&self.counters.expirations),
            entries: self.len() as u64,
        }
    }

    /// Entries held now.
    #[must_use]
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| read(s).slots.len()).sum()
    }

    /// `true` if the cache holds nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held now, as the byte bound counts them.
    #[must_use]
    pub fn bytes(&self) -> usize {
        self.shards.iter().map(|s| read(s).bytes).sum()
    }

    #[allow(clippy::indexing_slicing, reason = "the index is masked to the length, a power of two, never 0")]
    fn shard(&self, hash: u64) -> &RwLock<Shard> {
        // hashbrown takes the slot from the low bits and its one-byte tag
        // from the top seven: the shard comes from bits neither uses.
        let index = usize::try_from((hash >> 32) & 0xffff).unwrap_or(0) & (self.shards.len() - 1);
        &self.shards[index]
    }

    /// Looks `token` up for `verifier` at Unix time `now`. On a hit the
    /// decoded JSON is copied to the front of `buf` (header, then claims)
    /// and `key_selected(key, kid, alg)` decides whether the key that
    /// verified it is still one the token's `kid` and `alg` select.
    pub(crate) fn probe(
        &self,
        verifier: u64,
        token: &str,
        now: i64,
        buf: &mut [u8],
        key_selected: impl FnOnce(u64, Option<&str>, Algorithm) -> bool,
    ) -> Probe {
        let hash = self.hasher.hash_one((verifier, token));
        let shard = self.shard(hash);
        let outcome = {
            let guard = read(shard);
            match guard.find(hash, verifier, token) {
                None => Lookup::Absent,
                Some(entry) if now >= entry.expires => Lookup::Expired(entry.key),
                Some(entry) if !key_selected(entry.key, entry.kid.as_deref(), entry.alg) => Lookup::KeyGone(entry.key),
                Some(entry) => match buf.get_mut(..entry.json.len()) {
                    Some(front) => {
                        front.copy_from_slice(entry.json.as_bytes());
                        // A plain load first: hot entries cost no shared write.
                        if !entry.referenced.load(Ordering::Relaxed) {
                            entry.referenced.store(true, Ordering::Relaxed);
                        }
                        Lookup::Found(Hit {
                            header: entry.header,
                            claims: entry.claims,
                            alg: entry.alg,
                            key: entry.key,
                        })
                    }
                    None => Lookup::Absent,
                },
            }
        };
        match outcome {
            Lookup::Found(hit) => {
                bump(&self.counters.hits);
                Probe::Hit(hit)
            }
            Lookup::Absent => {
                bump(&self.counters.misses);
                Probe::Miss
            }
            // Removed only if still the entry seen (an insert may have
            // replaced it since the read lock was let go).
            Lookup::Expired(key) => {
                bump(&self.counters.misses);
                if write(shard).remove(hash, verifier, token, Some(key)) {
                    bump(&self.counters.expirations);
                }
                Probe::Miss
            }
            Lookup::KeyGone(key) => {
                bump(&self.counters.misses);
                if write(shard).remove(hash, verifier, token, Some(key)) {
                    bump(&self.counters.rotations);
                }
                Probe::KeyGone
            }
        }
    }

    /// Stores a token `verifier` has just verified; `expires` is the Unix
    /// second from which it is useless (`exp` plus leeway). Tokens whose
    /// decoded JSON cannot be detached, or that would not fit the byte
    /// bound of a shard on their own, are not stored.
    pub(crate) fn insert(&self, verifier: u64, token: &str, kid: Option<&str>, verified: &Verified<'_>, expires: i64) {
        let (header, claims) = (verified.header(), verified.claims());
        let json_len = header.json().len() + claims.json().len();
        let cost = token.len() + json_len + kid.map_or(0, str::len) + ENTRY_OVERHEAD;
        if self.entries_per_shard == 0 || cost > self.bytes_per_shard {
            return;
        }
        let (Some(detached_header), Some(detached_claims)) = (header.detach(), claims.detach()) else {
            return;
        };
        let hash = self.hasher.hash_one((verifier, token));
        let shard = self.shard(hash);
        // Two requests with one new token may both verify it: one entry.
        if read(shard).find(hash, verifier, token).is_some() {
            return;
        }
        let mut json = String::with_capacity(json_len);
        json.push_str(header.json());
        json.push_str(claims.json());
        let entry = Entry {
            hash,
            token: token.into(),
            json: json.into_boxed_str(),
            header: detached_header,
            claims: detached_claims,
            alg: verified.alg(),
            key: verified.key_id(),
            kid: kid.map(Into::into),
            verifier,
            expires,
            referenced: AtomicBool::new(false),
        };
        let evicted = {
            let mut shard = write(shard);
            if shard.find(hash, verifier, token).is_some() {
                return;
            }
            let evicted = shard.make_room(entry.cost(), self.entries_per_shard, self.bytes_per_shard);
            shard.push(entry);
            evicted
        };
        // Dropped after the lock is let go: freeing is not the readers' wait.
        self.counters.evictions.fetch_add(evicted.len() as u64, Ordering::Relaxed);
        drop(evicted);
        bump(&self.counters.insertions);
    }
}

#[allow(clippy::large_enum_variant, reason = "returned once per lookup, never stored; a Box would allocate per hit")]
enum Lookup {
    Absent,
    /// Past its `exp`; the key id tells the entry seen from a newer one.
    Expired(u64),
    KeyGone(u64),
    Found(Hit),
}

impl Shard {
    fn find(&self, hash: u64, verifier: u64, token: &str) -> Option<&Entry> {
        let slots = &self.slots;
        let index = self.table.find(hash, |&i| slots.get(i).is_some_and(|e| e.is(hash, verifier, token)))?;
        slots.get(*index)
    }

    /// Removes `verifier`'s entry for `token` (only if verified by `key`,
    /// when given); `true` if there was one.
    fn remove(&mut self, hash: u64, verifier: u64, token: &str, key: Option<u64>) -> bool {
        let slots = &self.slots;
        let Ok(found) = self.table.find_entry(hash, |&i| {
            slots.get(i).is_some_and(|e| e.is(hash, verifier, token) && key.is_none_or(|k| k == e.key))
        }) else {
            return false;
        };
        let (index, _) = found.remove();
        drop(self.take(index));
        true
    }

    /// Takes the entry at `index` out of `slots` (its table slot is gone
    /// already), moving the last entry into its place.
    fn take(&mut self, index: usize) -> Option<Entry> {
        let last = self.slots.len().saturating_sub(1);
        if index != last
            && let Some(moved) = self.slots.get(last)
        {
            // The moved entry's table slot must follow it.
            let moved_hash = moved.hash;
            if let Some(slot) = self.table.find_mut(moved_hash, |&i| i == last) {
                *slot = index;
            }
        }
        let taken = (index < self.slots.len()).then(|| self.slots.swap_remove(index));
        if let Some(entry) = &taken {
            self.bytes = self.bytes.saturating_sub(entry.cost());
        }
        if self.hand >= self.slots.len() {
            self.hand = 0;
        }
        taken
    }

    /// Evicts (CLOCK) until one more entry of `cost` bytes fits both
    /// bounds; returns the entries that went, for the caller to drop after
    /// unlocking.
    fn make_room(&mut self, cost: usize, max_entries: usize, max_bytes: usize) -> Vec<Entry> {
        let mut evicted = Vec::new();
        // Two sweeps clear every reference bit, so this ends; the bound on
        // steps is belt and braces.
        let mut steps = 2 * self.slots.len() + 1;
        while !self.slots.is_empty() && (self.slots.len() >= max_entries || self.bytes + cost > max_bytes) && steps > 0
        {
            steps -= 1;
            if self.hand >= self.slots.len() {
                self.hand = 0;
            }
            let Some(entry) = self.slots.get(self.hand) else { break };
            if entry.referenced.swap(false, Ordering::Relaxed) {
                self.hand += 1;
                continue;
            }
            let (hash, index) = (entry.hash, self.hand);
            if let Ok(found) = self.table.find_entry(hash, |&i| i == index) {
                found.remove();
            }
            evicted.extend(self.take(index));
        }
        evicted
    }

    fn push(&mut self, entry: Entry) {
        let (index, hash) = (self.slots.len(), entry.hash);
        self.bytes += entry.cost();
        self.slots.push(entry);
        let slots = &self.slots;
        self.table.insert_unique(hash, index, |&i| slots.get(i).map_or(0, |e| e.hash));
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// A poisoned lock only means a panic elsewhere while it was held; the
/// shard's data is still consistent (every update completes before unlock
/// or is abandoned before it starts), so carry on.
fn read(shard: &RwLock<Shard>) -> std::sync::RwLockReadGuard<'_, Shard> {
    shard.read().unwrap_or_else(PoisonError::into_inner)
}

fn write(shard: &RwLock<Shard>) -> std::sync::RwLockWriteGuard<'_, Shard> {
    shard.write().unwrap_or_else(PoisonError::into_inner)
}
