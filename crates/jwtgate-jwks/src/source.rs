//! A key source backed by a JWKS URL: the verifier's [`KeyResolver`].

use std::borrow::Cow;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use arc_swap::{ArcSwapOption, Guard};
use jwtgate_verify::{Error, KeyOrigin, KeyQuery, KeyResolver, KeySet};
use tokio::time::Instant;

use reqwest::Url;

use crate::config::{JwksConfig, Source};
use crate::discovery::Discovery;
use crate::error::{ConfigError, FetchError};
use crate::fetch::{Fetched, Fetcher};
use crate::fetch_info::FetchInfo;
use crate::stats::{Counters, JwksStats};

/// One successfully fetched key set and when it stops being fresh.
#[derive(Debug)]
pub(crate) struct Snapshot {
    keys: KeySet,
    fetched_at: Instant,
    fresh_until: Instant,
    etag: Option<String>,
    /// The document as fetched, and the wall-clock second it was fetched,
    /// for [`JwksSource::export_snapshot`].
    document: Arc<str>,
    fetched_unix: i64,
    /// What the fetch saw (`None` for a loaded snapshot).
    info: Option<FetchInfo>,
}

/// Keys from a JWKS URL, kept fresh.
///
/// Cheap to clone (an `Arc`). Implements [`KeyResolver`]:
/// - [`current`](KeyResolver::current) never waits: it hands out the last
///   good key set (lock-free) while it is fresh, or stale but within
///   `max_staleness` (the identity provider may be down), else
///   `key_source_unavailable`.
/// - [`refresh`](KeyResolver::refresh), called for an unknown `kid` or when
///   no keys are cached, fetches at most once per `cooldown` and only one
///   fetch runs at a time; inside the cooldown, and for kids a fetch has
///   already confirmed absent, it returns at once. Scheduled fetches
///   (`fetch_now`, refresh ahead, revalidation) do not start the cooldown:
///   a key published just after one is fetched when its first token comes.
/// - A background task refetches shortly before expiry (with jitter, so
///   replicas do not fetch in lockstep) and stops when the last clone is
///   dropped.
#[derive(Clone, Debug)]
pub struct JwksSource {
    inner: Arc<Inner>,
}

struct Inner {
    fetcher: Fetcher,
    /// Set for discovery sources: how to find the JWKS URL.
    discovery: Option<Discovery>,
    /// The JWKS URL: configured, or found by discovery on first fetch.
    jwks_url: Mutex<Option<Url>>,
    snapshot: ArcSwapOption<Snapshot>,
    /// Start of the last fetch attempt of any kind: a stale lookup starts
    /// a revalidation only if none began within a cooldown.
    last_attempt: Mutex<Option<Instant>>,
    /// Start of the last fetch a lookup asked for (unknown kid, no keys):
    /// the cooldown that bounds what forged kids can make us fetch.
    /// Scheduled refreshes do not start it, so a key the issuer publishes
    /// right after one is still fetched when its first token arrives.
    last_demand: Mutex<Option<Instant>>,
    /// Held while a fetch runs: one fetch at a time, however many wait.
    fetching: tokio::sync::Mutex<()>,
    /// Completed fetch attempts, so that callers who waited for `fetching`
    /// take the result of the fetch they waited for instead of repeating it.
    generation: AtomicU64,
    /// Kids a successful fetch did not contain, for one cooldown window.
    absent_kids: moka::sync::Cache<String, ()>,
    /// Set while a revalidation started by a stale lookup is in flight, so a
    /// burst of lookups spawns one task, not one each.
    revalidating: std::sync::atomic::AtomicBool,
    /// The signing algorithms discovery metadata advertised, if any.
    advertised: Mutex<Option<Vec<jwtgate_verify::Algorithm>>>,
    /// Wakes the refresh-ahead task when the last handle goes, so it ends
    /// then rather than at its next planned fetch (hours away, maybe).
    dropped: Arc<tokio::sync::Notify>,
    counters: Counters,
    config: JwksConfig,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksSource").field("source", &self.config.source).finish_non_exhaustive()
    }
}

/// The current key set, borrowed from the source without locking.
pub struct Keys(Guard<Option<Arc<Snapshot>>>);

impl Deref for Keys {
    type Target = KeySet;

    fn deref(&self) -> &KeySet {
        // `current` only builds a `Keys` for a present snapshot; an empty
        // set is the (unreachable) fallback rather than a panic.
        static EMPTY: std::sync::OnceLock<KeySet> = std::sync::OnceLock::new();
        self.0.as_ref().map_or_else(|| EMPTY.get_or_init(KeySet::default), |s| &s.keys)
    }
}

impl JwksSource {
    pub(crate) fn new(config: JwksConfig) -> Result<Self, ConfigError> {
        let fetcher = Fetcher::new(&config)?;
        let (discovery, jwks_url) = match &config.source {
            Source::Jwks(url) => (None, Some(fetcher.check_url(url)?)),
            Source::Issuer(issuer) => (Some(Discovery::new(issuer, &fetcher)?), None),
        };
        let absent_kids = moka::sync::Cache::builder()
            .max_capacity(config.negative_cache_capacity)
            .time_to_live(config.cooldown)
            .build();
        let inner = Arc::new(Inner {
            fetcher,
            discovery,
            jwks_url: Mutex::new(jwks_url),
            snapshot: ArcSwapOption::empty(),
            last_attempt: Mutex::new(None),
            last_demand: Mutex::new(None),
            fetching: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
            absent_kids,
            revalidating: std::sync::atomic::AtomicBool::new(false),
            advertised: Mutex::new(None),
            dropped: Arc::new(tokio::sync::Notify::new()),
            counters: Counters::default(),
            config,
        });
        if inner.config.background_refresh && tokio::runtime::Handle::try_current().is_ok() {
            tokio::spawn(refresh_loop(Arc::downgrade(&inner), Arc::clone(&inner.dropped)));
        }
        Ok(Self { inner })
    }

    /// Fetches now (ignoring the cooldown) and waits for the result; for
    /// loading keys at start-up.
    ///
    /// # Errors
    ///
    /// The [`FetchError`] if the fetch failed (the previous keys, if any,
    /// stay in use).
    pub async fn fetch_now(&self) -> Result<usize, FetchError> {
        let _one_at_a_time = self.inner.fetching.lock().await;
        self.inner.fetch(Trigger::Schedule).await
    }

    /// The current key set as a JSON document, `{"fetched_at": <Unix
    /// seconds>, "jwks": {...}}`, to save and load at the next start with
    /// [`JwksSource::load_snapshot`] (warm start when the identity provider
    /// is unreachable at boot). Public keys only: remote sets never hold
    /// secrets.
    #[must_use]
    pub fn export_snapshot(&self) -> Option<String> {
        let snapshot = self.inner.snapshot.load_full()?;
        Some(format!("{{\"fetched_at\":{},\"jwks\":{}}}", snapshot.fetched_unix, snapshot.document))
    }

    /// Loads a snapshot from [`JwksSource::export_snapshot`] if this source
    /// has no newer keys. It counts as fetched at its recorded time, so
    /// `max_staleness` still applies, and as already expired, so the next
    /// refresh (or the background task) fetches at once.
    ///
    /// # Errors
    ///
    /// [`FetchError::Snapshot`] for a malformed snapshot or one older than
    /// `max_staleness`; [`FetchError::Invalid`] for a bad key set in it.
    pub fn load_snapshot(&self, text: &str) -> Result<usize, FetchError> {
        let bad = |why: &str| FetchError::Snapshot(why.to_owned());
        let doc: serde_json::Value = serde_json::from_str(text).map_err(|_| bad("not JSON"))?;
        let fetched_unix =
            doc.get("fetched_at").and_then(serde_json::Value::as_i64).ok_or_else(|| bad("no fetched_at"))?;
        let jwks = doc.get("jwks").ok_or_else(|| bad("no jwks"))?.to_string();
        let age = Duration::from_secs(u64::try_from(unix_now().saturating_sub(fetched_unix)).unwrap_or(0));
        if age > self.inner.config.max_staleness {
            return Err(bad("older than max_staleness"));
        }
        let fetched_at = Instant::now().checked_sub(age).ok_or_else(|| bad("older than this process can represent"))?;
        let keys = KeySet::from_jwks_str(&jwks, KeyOrigin::Remote)?;
        if self.inner.snapshot.load().as_ref().is_some_and(|s| s.fetched_at >= fetched_at) {
            return Ok(self.inner.snapshot.load().as_ref().map_or(0, |s| s.keys.len()));
        }
        let count = keys.len();
        let snapshot = Snapshot {
            keys,
            fetched_at,
            fresh_until: fetched_at,
            etag: None,
            document: jwks.into(),
            fetched_unix,
            info: None,
        };
        self.inner.snapshot.store(Some(Arc::new(snapshot)));
        tracing::info!(keys = count, age_secs = age.as_secs(), "JWKS snapshot loaded");
        Ok(count)
    }

    /// The key-set document in use, as fetched (or loaded from a snapshot).
    #[must_use]
    pub fn document(&self) -> Option<String> {
        self.inner.snapshot.load().as_ref().map(|s| s.document.to_string())
    }

    /// The URL and caching headers of the fetch that produced the key set
    /// in use (`None` before the first fetch and for a loaded snapshot).
    #[must_use]
    pub fn last_fetch(&self) -> Option<FetchInfo> {
        self.inner.snapshot.load().as_ref().and_then(|s| s.info.clone())
    }

    /// The algorithms the issuer's discovery metadata says it signs with
    /// (`id_token_signing_alg_values_supported`, names jwtgate does not
    /// verify left out); `None` before discovery, for plain JWKS URLs, and
    /// when the metadata has no such list.
    #[must_use]
    pub fn advertised_algorithms(&self) -> Option<Vec<jwtgate_verify::Algorithm>> {
        self.inner.advertised.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// `configured` narrowed to what the issuer advertises, never widened:
    /// the configured algorithms, in their order, that the metadata lists;
    /// all of `configured` when the metadata lists nothing. An empty result
    /// means the issuer signs with nothing you accept, which the verifier
    /// builder refuses (`NoAlgorithms`) rather than accepting anything.
    ///
    /// Call it after [`JwksSource::fetch_now`] (discovery runs on the first
    /// fetch), when building the verifier.
    #[must_use]
    pub fn narrow_algorithms(&self, configured: &[jwtgate_verify::Algorithm]) -> Vec<jwtgate_verify::Algorithm> {
        match self.advertised_algorithms() {
            None => configured.to_vec(),
            Some(advertised) => configured.iter().copied().filter(|a| advertised.contains(a)).collect(),
        }
    }

    /// Counters since the source was built: fetches, failures, 304s,
    /// unknown-kid refetches, cooldown skips, negative-cache hits, stale
    /// serves.
    #[must_use]
    pub fn stats(&self) -> JwksStats {
        self.inner.counters.snapshot()
    }

    /// When the current key set was fetched, and until when it is fresh.
    #[must_use]
    pub fn freshness(&self) -> Option<(Instant, Instant)> {
        self.inner.snapshot.load().as_ref().map(|s| (s.fetched_at, s.fresh_until))
    }
}

/// Why a fetch runs: only fetches that lookups ask for start the cooldown.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// A lookup found no key for its kid, or no keys at all.
    Demand,
    /// Start-up, the refresh-ahead task, or revalidating a stale set.
    Schedule,
}

impl Inner {
    /// One fetch; the caller holds `fetching`. Returns the number of keys.
    async fn fetch(&self, trigger: Trigger) -> Result<usize, FetchError> {
        let now = Some(Instant::now());
        *self.last_attempt.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = now;
        if trigger == Trigger::Demand {
            *self.last_demand.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = now;
        }
        Counters::bump(&self.counters.fetches);
        let outcome = self.fetch_once().await;
        if outcome.is_err() {
            Counters::bump(&self.counters.fetch_failures);
        }
        outcome
    }

    async fn fetch_once(&self) -> Result<usize, FetchError> {
        let previous = self.snapshot.load_full();
        let etag = previous.as_ref().and_then(|s| s.etag.as_deref());
        let started = Instant::now();
        let (outcome, url) = match self.jwks_url().await {
            Ok(url) => (self.fetcher.fetch(&url, etag).await, Some(url)),
            Err(e) => (Err(e), None),
        };
        self.generation.fetch_add(1, Ordering::SeqCst);
        if self.discovery.is_some() && matches!(outcome, Err(FetchError::Status(404 | 410))) {
            // The JWKS is gone from the discovered address: the issuer may
            // have moved it, so the next attempt asks the metadata again.
            // (Only then: an issuer that is down keeps its address.)
            *self.jwks_url.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        }
        let host = url.as_ref().and_then(Url::host_str).unwrap_or("-");
        match outcome {
            Ok(Fetched::Body { text, info }) => {
                let ttl = info.ttl;
                let keys = KeySet::from_jwks_str(&text, KeyOrigin::Remote).inspect_err(|e| {
                    tracing::warn!(host, error = %e, "JWKS fetched but not a key set; keeping the last good one");
                })?;
                let count = keys.len();
                // `{"keys":[]}` is far more likely a broken deployment than an
                // issuer revoking every key at once: keep serving the last
                // good set (within max staleness) and say so. A set that
                // lists keys, none usable here (say, the issuer rotated to an
                // algorithm jwtgate does not verify), is an authoritative
                // answer: the old keys are gone, so they stop verifying.
                if count == 0 && keys.skipped().is_empty() {
                    tracing::warn!(host, "JWKS is empty; keeping the last good key set");
                    return Err(FetchError::NoUsableKeys { skipped: 0 });
                }
                if count == 0 {
                    tracing::warn!(
                        host,
                        skipped = keys.skipped().len(),
                        "JWKS lists no key usable here; previous keys withdrawn"
                    );
                }
                tracing::info!(
                    host,
                    elapsed_ms = started.elapsed().as_millis(),
                    bytes = text.len(),
                    keys = count,
                    skipped = keys.skipped().len(),
                    ttl_secs = ttl.as_secs(),
                    "JWKS fetched"
                );
                self.snapshot.store(Some(Arc::new(Snapshot {
                    keys,
                    fetched_at: started,
                    fresh_until: started + ttl,
                    etag: info.etag.clone(),
                    document: text.into(),
                    fetched_unix: unix_now(),
                    info: Some(info),
                })));
                Ok(count)
            }
            Ok(Fetched::NotModified { info }) => {
                let ttl = info.ttl;
                Counters::bump(&self.counters.not_modified);
                let Some(previous) = previous else { return Ok(0) };
                tracing::debug!(host, ttl_secs = ttl.as_secs(), "JWKS not modified");
                let renewed = Snapshot {
                    keys: previous.keys.clone(),
                    fetched_at: started,
                    fresh_until: started + ttl,
                    etag: previous.etag.clone(),
                    document: previous.document.clone(),
                    fetched_unix: unix_now(),
                    info: Some(info),
                };
                self.snapshot.store(Some(Arc::new(renewed)));
                Ok(previous.keys.len())
            }
            Err(e) => {
                tracing::warn!(
                    host,
                    elapsed_ms = started.elapsed().as_millis(),
                    error = %e,
                    "JWKS fetch failed; serving the last good key set if any"
                );
                Err(e)
            }
        }
    }

    /// The configured JWKS URL, or the one discovery found (again after the
    /// JWKS answered 404 or 410).
    async fn jwks_url(&self) -> Result<Url, FetchError> {
        let known = self.jwks_url.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        if let Some(url) = known {
            return Ok(url);
        }
        let Some(discovery) = &self.discovery else {
            return Err(FetchError::Discovery("no JWKS URL".into()));
        };
        let metadata = discovery.metadata(&self.fetcher).await?;
        let url = metadata.jwks_uri;
        *self.advertised.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = metadata.signing_algorithms;
        tracing::info!(jwks_uri = url.as_str(), "issuer metadata discovered");
        *self.jwks_url.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(url.clone());
        Ok(url)
    }

    /// Inside the cooldown of the last fetch a lookup asked for.
    fn in_cooldown(&self) -> bool {
        self.within_cooldown(&self.last_demand)
    }

    /// Any fetch began within the last cooldown.
    fn attempted_recently(&self) -> bool {
        self.within_cooldown(&self.last_attempt)
    }

    fn within_cooldown(&self, since: &Mutex<Option<Instant>>) -> bool {
        let last = *since.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        last.is_some_and(|t| t.elapsed() < self.config.cooldown)
    }

    fn has_kid(&self, kid: &str) -> bool {
        self.snapshot.load().as_ref().is_some_and(|s| s.keys.keys().iter().any(|k| k.kid() == Some(kid)))
    }
}

impl KeyResolver for JwksSource {
    type Keys<'a> = Keys;

    const REFRESHES: bool = true;

    fn current(&self) -> Result<Keys, Error> {
        let guard = self.inner.snapshot.load();
        let Some(snapshot) = guard.as_ref() else {
            return Err(Error::KeySourceUnavailable(Cow::Borrowed("no key set fetched yet")));
        };
        let now = Instant::now();
        if now > snapshot.fresh_until {
            if now > snapshot.fresh_until + self.inner.config.max_staleness {
                return Err(Error::KeySourceUnavailable(Cow::Borrowed("key set too stale and refresh failing")));
            }
            // Stale while revalidate: serve the set, and make sure a fetch
            // is under way even without the background task (switched off,
            // or the source was built outside a runtime), so a removed key
            // cannot outlive its freshness by more than a cooldown.
            Counters::bump(&self.inner.counters.stale_serves);
            revalidate(&self.inner);
        }
        Ok(Keys(guard))
    }

    async fn refresh(&self, query: KeyQuery<'_>) -> Result<(), Error> {
        let inner = &self.inner;
        let have_keys = inner.snapshot.load().is_some();
        if let Some(kid) = query.kid {
            if inner.has_kid(kid) {
                return Ok(());
            }
            if inner.absent_kids.contains_key(kid) {
                Counters::bump(&inner.counters.negative_cache_hits);
                return Ok(());
            }
        }
        // Fail fast inside the cooldown: never queue requests behind it.
        if have_keys && inner.in_cooldown() {
            Counters::bump(&inner.counters.cooldown_skips);
            return Ok(());
        }
        let generation = inner.generation.load(Ordering::SeqCst);
        let waiting_since = Instant::now();
        // With keys in hand, never queue behind a fetch either (a scheduled
        // one does not start the cooldown, and a hanging issuer would hold
        // every such request for the whole timeout): fail fast. Only a
        // cold start waits, and then for the one fetch everyone needs.
        let _one_at_a_time = if have_keys {
            let Ok(guard) = inner.fetching.try_lock() else {
                Counters::bump(&inner.counters.cooldown_skips);
                return Ok(());
            };
            guard
        } else {
            inner.fetching.lock().await
        };
        // Re-check under the lock: a fetch may have completed while we
        // waited (single flight: take its result), or before we got here.
        let fetched_meanwhile = inner.generation.load(Ordering::SeqCst) != generation;
        let served_now = match query.kid {
            Some(kid) => inner.has_kid(kid),
            None => inner.snapshot.load().is_some(),
        };
        let cooling = inner.snapshot.load().is_some() && inner.in_cooldown();
        let mut fetched_here = false;
        if cooling && !fetched_meanwhile && !served_now {
            Counters::bump(&inner.counters.cooldown_skips);
        }
        if !fetched_meanwhile && !served_now && !cooling {
            if query.kid.is_some() && have_keys {
                Counters::bump(&inner.counters.unknown_kid_refetches);
            }
            if let Err(e) = inner.fetch(Trigger::Demand).await {
                return Err(Error::KeySourceUnavailable(Cow::Owned(format!("JWKS fetch failed: {e}"))));
            }
            fetched_here = true;
        }
        // Only a successful fetch can confirm a kid absent; a skipped or
        // failed one proves nothing.
        let confirmed = fetched_here
            || (fetched_meanwhile && inner.snapshot.load().as_ref().is_some_and(|s| s.fetched_at >= waiting_since));
        if let Some(kid) = query.kid
            && confirmed
            && !inner.has_kid(kid)
        {
            inner.absent_kids.insert(kid.to_owned(), ());
        }
        Ok(())
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // A stored permit if the task is not waiting right now: it then
        // returns at its next wait instead of sleeping first.
        self.dropped.notify_one();
    }
}

/// Refetches before expiry. Holds only a `Weak`, and ends as soon as the
/// last `JwksSource` handle is dropped (`dropped` fires).
async fn refresh_loop(inner: Weak<Inner>, dropped: Arc<tokio::sync::Notify>) {
    let mut failures = 0u32;
    loop {
        let (wait, then_fetch) = match inner.upgrade() {
            None => return,
            Some(inner) => match inner.snapshot.load().as_ref() {
                // Nothing fetched yet: the first verify_async or fetch_now
                // will; look again after a cooldown (and then plan from
                // that set's freshness, not fetch it a second time).
                None => (inner.config.cooldown, false),
                Some(_) if failures > 0 => (backoff(inner.config.cooldown, failures), true),
                Some(s) => (refresh_delay(s.fresh_until.saturating_duration_since(Instant::now())), true),
            },
        };
        if tokio::time::timeout(wait, dropped.notified()).await.is_ok() {
            return;
        }
        let Some(inner) = inner.upgrade() else { return };
        if !then_fetch || inner.snapshot.load().is_none() {
            continue;
        }
        let _one_at_a_time = inner.fetching.lock().await;
        failures = match inner.fetch(Trigger::Schedule).await {
            Ok(_) => 0,
            Err(_) => failures.saturating_add(1),
        };
    }
}

/// Wake up when 80-90% of the remaining freshness has passed: early
/// enough that requests never see an expired set, jittered so that many
/// replicas started together spread their fetches.
fn refresh_delay(remaining: Duration) -> Duration {
    let mut byte = [0u8; 1];
    let jitter = if getrandom::fill(&mut byte).is_ok() { u32::from(byte[0]) } else { 128 };
    // 80% plus up to 10% more, in 1/2560 steps.
    remaining.mul_f64(0.8) + remaining.mul_f64(0.1 * f64::from(jitter) / 255.0)
}

/// Starts one fetch in the background for a stale set, unless one is under
/// way, the cooldown is running, or there is no Tokio runtime to run it.
fn revalidate(inner: &Arc<Inner>) {
    if inner.attempted_recently() {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
    if inner.revalidating.swap(true, Ordering::AcqRel) {
        return;
    }
    // Cleared when the task ends or is dropped unpolled (runtime shut
    // down), so a lost task cannot block revalidation for good.
    struct Clear(Arc<Inner>);
    impl Drop for Clear {
        fn drop(&mut self) {
            self.0.revalidating.store(false, Ordering::Release);
        }
    }
    let guard = Clear(Arc::clone(inner));
    runtime.spawn(async move {
        let inner = &guard.0;
        if let Ok(_one_at_a_time) = inner.fetching.try_lock()
            && !inner.attempted_recently()
        {
            let _ = inner.fetch(Trigger::Schedule).await;
        }
        drop(guard);
    });
}

/// Retry after failures: cooldown x 2^n, at most 32 cooldowns, each wait
/// shortened by up to a quarter at random so failing replicas spread out.
fn backoff(cooldown: Duration, failures: u32) -> Duration {
    let full = cooldown.saturating_mul(1u32 << failures.min(5));
    let mut byte = [0u8; 1];
    let jitter = if getrandom::fill(&mut byte).is_ok() { f64::from(byte[0]) / 255.0 } else { 0.5 };
    full.mul_f64(1.0 - 0.25 * jitter)
}

/// Wall-clock Unix seconds (0 for a clock before 1970).
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
