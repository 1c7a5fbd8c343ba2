//! A key source backed by a JWKS URL: the verifier's [`KeyResolver`].

use std::borrow::Cow;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use arc_swap::{ArcSwapOption, Guard};
use jwtgate_verify::{Error, KeyOrigin, KeyQuery, KeyResolver, KeySet};
use tokio::sync::{Notify, watch};
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
///   `key_source_unavailable`. When the set is stale, too stale or absent
///   it also starts a fetch in the background (at most one per cooldown,
///   none while a failure backs off), so a service recovers without the
///   background task and without special tokens.
/// - [`refresh`](KeyResolver::refresh) is called when the keys in hand
///   cannot serve a token (unknown `kid`, or no usable set). A request
///   whose kid is in hand never waits. Otherwise it awaits the fetch under
///   way if there is one, or starts one: at most one per `cooldown` for
///   lookups, none before a failure's backoff has passed; inside those
///   windows it fails fast (an unknown kid: `key_not_found` inside the
///   cooldown, `key_source_unavailable` inside a failure's backoff, when
///   whether it exists cannot be told). Kids a fetch confirmed absent are
///   answered from memory for a window.
/// - Every fetch runs as a task of its own that all waiters await (single
///   flight), so a request that is cancelled (a client gone, a deadline, a
///   stream reset) never cancels the fetch others are waiting for. It runs
///   on the runtime the source was built on, and one that outlives three
///   timeouts is abandoned (its waiters released, a new one may start).
/// - A background task loads the keys at once when it starts, refetches
///   shortly before expiry (with jitter, so replicas do not fetch in
///   lockstep), retries failures with exponential backoff and jitter
///   (reset by any success), and stops when the last clone is dropped.
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
    /// When fetches may start, and the one under way.
    gate: Mutex<Gate>,
    /// Kids a successful fetch did not contain, for one cooldown window.
    absent_kids: moka::sync::Cache<String, ()>,
    /// The signing algorithms discovery metadata advertised, if any.
    advertised: Mutex<Option<Vec<jwtgate_verify::Algorithm>>>,
    /// Wakes the background task: when a fetch lands (a success ends any
    /// backoff at once), and when the last handle goes (so it ends then
    /// rather than at its next planned fetch, hours away maybe).
    wake: Arc<Notify>,
    /// The runtime the source was built on, if any. Fetches are spawned
    /// there rather than on whichever runtime the asking request runs on:
    /// a fetch spawned on a short-lived runtime (a `block_on` in a test or
    /// a CLI helper) would be abandoned when that runtime shuts down, with
    /// every other waiter awaiting it.
    runtime: Option<tokio::runtime::Handle>,
    /// `revalidate_after` counts nanoseconds from this instant.
    base: Instant,
    /// No revalidation can start before this many nanoseconds after `base`
    /// (the later of the last attempt plus a cooldown and a failure's
    /// `retry_at`; 0 when nothing rations it). Read without the gate lock,
    /// so that during an outage stale lookups, every request then, do not
    /// all queue on the gate mutex just to learn "not yet". Written under
    /// the gate lock whenever a fetch starts or lands.
    revalidate_after: AtomicU64,
    counters: Counters,
    config: JwksConfig,
}

/// Fetch bookkeeping, under one lock held only for a few field updates.
#[derive(Default)]
struct Gate {
    /// The fetch under way, which everyone who needs keys awaits.
    flight: Option<Flight>,
    /// Start of the last fetch of any kind: a stale lookup revalidates only
    /// if none began within a cooldown.
    last_attempt: Option<Instant>,
    /// Start of the last fetch a lookup asked for (unknown kid, no usable
    /// keys): the cooldown that bounds what forged kids can make us fetch.
    /// Scheduled fetches do not start it, so a key the issuer publishes
    /// right after one is still fetched when its first token arrives.
    last_demand: Option<Instant>,
    /// Failed fetches in a row; any success resets it.
    failures: u32,
    /// After a failure, no fetch but a scheduled one before this instant.
    retry_at: Option<Instant>,
    /// Flights started so far: the id of the latest. A landing clears only
    /// its own flight, not a successor that replaced it as abandoned.
    flights: u64,
}

/// Why a fetch runs. Scheduled ones always start (or join the one under
/// way); the others are rationed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trigger {
    /// A lookup found no key for its kid, or no usable keys at all: at
    /// most one per cooldown, none during a failure's backoff.
    Demand,
    /// A lookup found the set stale: at most one attempt of any kind per
    /// cooldown, none during a failure's backoff.
    Revalidate,
    /// `fetch_now` and the background task.
    Schedule,
}

/// Why no fetch was started.
enum NotStarted {
    /// Rationed by the cooldown: the next may start after this long.
    Later(Duration),
    /// A failure's backoff: the next may start after this long. Kept apart
    /// from `Later` because an unknown kid then cannot be told absent (the
    /// fetch that would tell is failing), so it is "retry later", not "no
    /// such key".
    BackingOff(Duration),
    /// No Tokio runtime to run it on.
    NoRuntime,
}

/// What a landing logs, decided under the gate lock and logged after it is
/// released (a slow log writer must not hold up every lookup that needs
/// the gate).
enum Report {
    /// A success with no failures before it, or nothing to say.
    Quiet,
    /// A success after this many failures in a row.
    Recovered(u32),
    /// The `failures`-th failure in a row; the next retry in `wait`.
    Failed { failures: u32, wait: Duration },
    /// The fetch never ended (see [`Failure::abandoned`]).
    Abandoned,
}

/// What one fetch ended with, shared by everyone who awaited it.
type Landed = Result<usize, Failure>;

/// A failed fetch, with the document that failed and its host (a
/// discovery source fetches two documents, and "JWKS fetch failed" for a
/// broken metadata document sends people to the wrong server).
#[derive(Clone, Debug)]
struct Failure {
    error: FetchError,
    document: &'static str,
    host: String,
    /// The fetch ended without an outcome (its runtime shut down, or it
    /// outlived every timeout): not an outage, so no failure is counted
    /// and no backoff starts.
    abandoned: bool,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} from {}: {}", self.document, self.host, self.error)
    }
}

/// A fetch under way, as its waiters see it.
#[derive(Clone)]
struct Flight {
    /// Which flight this is (see [`Gate::flights`]).
    id: u64,
    /// When it started: one older than [`Inner::flight_bound`] is taken for
    /// abandoned.
    started: Instant,
    trigger: Trigger,
    landed: watch::Receiver<Option<Landed>>,
}

impl Failure {
    /// The fetch ended without an outcome; `why` says how.
    fn abandoned(why: &'static str) -> Self {
        Self {
            error: FetchError::Http(format!("the fetch was abandoned ({why})")),
            document: "key set",
            host: "-".into(),
            abandoned: true,
        }
    }
}

impl Flight {
    /// Waits for the fetch to end, but never past `bound` after it started
    /// (the instant `start` takes it for abandoned): the fetch is bounded by
    /// the source's timeouts, yet a task that hangs anyway (or whose
    /// runtime stalls) must not hold its waiters forever.
    async fn landed(mut self, bound: Duration) -> Landed {
        let wait = self.landed.wait_for(Option::is_some);
        let landed = match self.started.checked_add(bound) {
            Some(deadline) => tokio::time::timeout_at(deadline, wait).await,
            None => tokio::time::timeout(bound, wait).await,
        };
        match landed {
            Ok(Ok(landed)) => landed.clone().unwrap_or_else(|| Err(Failure::abandoned("no outcome"))),
            Ok(Err(_)) => Err(Failure::abandoned("runtime shutting down")),
            Err(_) => Err(Failure::abandoned("it outlived the timeouts")),
        }
    }
}

/// Lands a flight exactly once: when its fetch returns, or, if the task is
/// dropped first (its runtime shut down), from `Drop`, so the gate never
/// keeps a flight that nobody will finish.
struct Landing {
    inner: Arc<Inner>,
    /// The id of the flight this lands.
    id: u64,
    tx: Option<watch::Sender<Option<Landed>>>,
}

impl Landing {
    fn land(&mut self, outcome: Landed) {
        let Some(tx) = self.tx.take() else { return };
        let inner = &self.inner;
        let report = {
            let mut gate = inner.gate();
            // Only its own flight: one replaced as abandoned may land long
            // after its successor started, which must stay in the gate.
            if gate.flight.as_ref().is_some_and(|flight| flight.id == self.id) {
                gate.flight = None;
            }
            let report = match &outcome {
                Ok(_) => {
                    let failed = gate.failures;
                    gate.failures = 0;
                    gate.retry_at = None;
                    if failed > 0 { Report::Recovered(failed) } else { Report::Quiet }
                }
                // Not an outage: the issuer may be fine. Counting it would
                // start a backoff (and warn) for a runtime shutting down.
                Err(failure) if failure.abandoned => Report::Abandoned,
                Err(_) => {
                    Counters::bump(&inner.counters.fetch_failures);
                    gate.failures = gate.failures.saturating_add(1);
                    let wait = backoff(inner.config.cooldown, gate.failures);
                    gate.retry_at = Instant::now().checked_add(wait);
                    Report::Failed { failures: gate.failures, wait }
                }
            };
            inner.ration_revalidation(&gate);
            report
        };
        // Logged with the gate released (see `Report`).
        match (report, &outcome) {
            (Report::Recovered(failed), _) => {
                tracing::info!(failed_attempts = failed, "key set fetched again after failures");
            }
            // One warning per outage, with the cause; the retries of the
            // same outage at debug.
            (Report::Failed { failures: 1, wait }, Err(failure)) => {
                tracing::warn!(
                    document = failure.document,
                    host = %failure.host,
                    error = %failure.error,
                    retry_in_secs = wait.as_secs(),
                    "key fetch failed; serving the last good key set if any (further failures of this outage at debug)"
                );
            }
            (Report::Failed { failures, wait }, Err(failure)) => {
                tracing::debug!(
                    document = failure.document,
                    host = %failure.host,
                    error = %failure.error,
                    failed_attempts = failures,
                    retry_in_secs = wait.as_secs(),
                    "key fetch failed again"
                );
            }
            (Report::Abandoned, Err(failure)) => {
                tracing::debug!(error = %failure.error, "key fetch abandoned; not counted as a failure");
            }
            _ => {}
        }
        inner.wake.notify_one();
        let _ = tx.send(Some(outcome));
    }
}

impl Drop for Landing {
    fn drop(&mut self) {
        // The task was dropped before its fetch returned: its runtime is
        // shutting down (or the fetch panicked).
        self.land(Err(Failure::abandoned("runtime shutting down")));
    }
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

/// How far in the future a snapshot's `fetched_at` may lie (clock skew
/// between the machine that saved it and this one) before it is refused:
/// a snapshot stamped in the future would otherwise never age.
const MAX_SNAPSHOT_SKEW: Duration = Duration::from_secs(60);

impl JwksSource {
    pub(crate) fn new(config: JwksConfig) -> Result<Self, ConfigError> {
        let fetcher = Fetcher::new(&config)?;
        let (discovery, jwks_url) = match &config.source {
            Source::Jwks(url) => (None, Some(fetcher.check_url(url, "JWKS URL")?)),
            Source::Issuer(issuer) => (Some(Discovery::new(issuer, &fetcher)?), None),
        };
        let absent_kids = moka::sync::Cache::builder()
            .max_capacity(config.negative_cache_capacity)
            .time_to_live(config.cooldown)
            .build();
        let runtime = tokio::runtime::Handle::try_current().ok();
        let inner = Arc::new(Inner {
            fetcher,
            discovery,
            jwks_url: Mutex::new(jwks_url),
            snapshot: ArcSwapOption::empty(),
            gate: Mutex::new(Gate::default()),
            absent_kids,
            advertised: Mutex::new(None),
            wake: Arc::new(Notify::new()),
            runtime,
            base: Instant::now(),
            revalidate_after: AtomicU64::new(0),
            counters: Counters::default(),
            config,
        });
        if inner.config.background_refresh
            && let Some(runtime) = &inner.runtime
        {
            runtime.spawn(refresh_loop(Arc::downgrade(&inner), Arc::clone(&inner.wake)));
        }
        Ok(Self { inner })
    }

    /// Fetches now (ignoring the cooldown and any backoff), or joins the
    /// fetch already under way, and waits for the result; for loading keys
    /// at start-up when the service should not start without them (see the
    /// crate README for the alternatives).
    ///
    /// # Errors
    ///
    /// The [`FetchError`] if the fetch failed (the previous keys, if any,
    /// stay in use); [`FetchError::NoRuntime`] outside a Tokio runtime.
    pub async fn fetch_now(&self) -> Result<usize, FetchError> {
        match self.inner.start(Trigger::Schedule) {
            Ok(flight) => flight.landed(self.inner.flight_bound()).await.map_err(|failure| failure.error),
            Err(NotStarted::NoRuntime) => Err(FetchError::NoRuntime),
            // Scheduled fetches are never rationed.
            Err(NotStarted::Later(_) | NotStarted::BackingOff(_)) => Err(FetchError::Http("fetch not started".into())),
        }
    }

    /// Whether the source can verify tokens now: it holds a key set within
    /// `max_staleness` (fresh, or stale while the identity provider is
    /// failing). Use it for a readiness probe (Kubernetes `readinessProbe`):
    /// a replica without usable keys answers every request with 503, so it
    /// should not get traffic. When it is not ready it starts a fetch in the
    /// background (rationed like any other), so a replica that gets no
    /// traffic because it is not ready still loads its keys.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        if self.inner.usable().is_some() {
            return true;
        }
        revalidate(&self.inner);
        false
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

    /// Loads a snapshot from [`JwksSource::export_snapshot`] unless this
    /// source already has a newer set (checked and stored in one atomic
    /// step, so a fetch that lands meanwhile is never overwritten). It
    /// counts as fetched at its recorded time, so `max_staleness` still
    /// applies, and as already expired, so the next refresh (or the
    /// background task) fetches at once. Returns the number of keys in use.
    ///
    /// # Errors
    ///
    /// [`FetchError::Snapshot`] for a malformed snapshot, one older than
    /// `max_staleness`, or one stamped more than a minute in the future (it
    /// would never age); [`FetchError::Invalid`] for a bad key set in it.
    pub fn load_snapshot(&self, text: &str) -> Result<usize, FetchError> {
        let bad = |why: &str| FetchError::Snapshot(why.to_owned());
        let doc: serde_json::Value = serde_json::from_str(text).map_err(|_| bad("not JSON"))?;
        let fetched_unix =
            doc.get("fetched_at").and_then(serde_json::Value::as_i64).ok_or_else(|| bad("no fetched_at"))?;
        let jwks = doc.get("jwks").ok_or_else(|| bad("no jwks"))?.to_string();
        let now_unix = unix_now();
        let ahead = u64::try_from(fetched_unix.saturating_sub(now_unix)).unwrap_or(0);
        if Duration::from_secs(ahead) > MAX_SNAPSHOT_SKEW {
            return Err(bad("fetched_at is in the future (a clock ahead of this one?)"));
        }
        let age = Duration::from_secs(u64::try_from(now_unix.saturating_sub(fetched_unix)).unwrap_or(0));
        if age > self.inner.config.max_staleness {
            return Err(bad("older than max_staleness"));
        }
        let fetched_at = Instant::now().checked_sub(age).ok_or_else(|| bad("older than this process can represent"))?;
        let keys = KeySet::from_jwks_str(&jwks, KeyOrigin::Remote)?;
        let count = keys.len();
        let loaded = Arc::new(Snapshot {
            keys,
            fetched_at,
            fresh_until: fetched_at,
            etag: None,
            document: jwks.into(),
            fetched_unix,
            info: None,
        });
        // The set in hand stays if it was fetched by this process (a fetch
        // is never older than a file, whatever the wall clock that stamped
        // the file said) or is no older than the snapshot.
        let keep = |current: &Arc<Snapshot>| current.info.is_some() || current.fetched_at >= fetched_at;
        let previous = self.inner.snapshot.rcu(|current| match current {
            Some(current) if keep(current) => Some(Arc::clone(current)),
            _ => Some(Arc::clone(&loaded)),
        });
        if let Some(kept) = previous.filter(keep) {
            return Ok(kept.keys.len());
        }
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
        self.inner.advertised.lock().unwrap_or_else(PoisonError::into_inner).clone()
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

impl Snapshot {
    fn has_kid(&self, kid: &str) -> bool {
        self.keys.keys().iter().any(|k| k.kid() == Some(kid))
    }

    /// Whether this set answers a lookup for `kid`: it holds the kid, or
    /// the token names none.
    fn serves(&self, kid: Option<&str>) -> bool {
        kid.is_none_or(|kid| self.has_kid(kid))
    }
}

impl Inner {
    fn gate(&self) -> MutexGuard<'_, Gate> {
        self.gate.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Past its freshness by more than `max_staleness`: no longer served.
    fn too_stale(&self, snapshot: &Snapshot, now: Instant) -> bool {
        now.saturating_duration_since(snapshot.fresh_until) > self.config.max_staleness
    }

    /// The key set, if it may still be used (within `max_staleness`): only
    /// such a set counts as keys in hand.
    fn usable(&self) -> Option<Arc<Snapshot>> {
        self.snapshot.load_full().filter(|s| !self.too_stale(s, Instant::now()))
    }

    /// How long a fetch may take before it is taken for abandoned: three
    /// requests (a discovery source's first fetch: two metadata documents,
    /// then the JWKS), each bounded by the total timeout, and a second of
    /// slack. Past it, waiters stop waiting and `start` replaces the flight.
    fn flight_bound(&self) -> Duration {
        self.config.timeout.saturating_mul(3).saturating_add(Duration::from_secs(1))
    }

    /// `t` as nanoseconds after `base` (0 before it), for `revalidate_after`.
    fn nanos_after_base(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.base).as_nanos()).unwrap_or(u64::MAX)
    }

    /// Publishes when a revalidation may next start, from the gate (held by
    /// the caller, so that writes follow the lock's order): the later of
    /// the last attempt plus a cooldown and a failure's `retry_at`. Never
    /// later than what `start` enforces, so it only spares lookups the lock.
    fn ration_revalidation(&self, gate: &Gate) {
        let cooled = gate.last_attempt.and_then(|t| t.checked_add(self.config.cooldown));
        let after = match (cooled, gate.retry_at) {
            (Some(cooled), Some(retry_at)) => Some(cooled.max(retry_at)),
            (cooled, retry_at) => cooled.or(retry_at),
        };
        let nanos = after.map_or(0, |t| self.nanos_after_base(t));
        self.revalidate_after.store(nanos, Ordering::Relaxed);
    }

    /// Starts a fetch as a task of its own, or joins the one under way.
    /// Lookups' fetches are rationed (see [`Trigger`]); the timestamps that
    /// ration them are set here, under the gate, for a fetch that will run
    /// to its end whatever happens to the request that asked for it.
    fn start(self: &Arc<Self>, trigger: Trigger) -> Result<Flight, NotStarted> {
        // The runtime the source was built on; the caller's only for a
        // source built outside any runtime.
        let runtime = match &self.runtime {
            Some(runtime) => runtime.clone(),
            None => tokio::runtime::Handle::try_current().map_err(|_| NotStarted::NoRuntime)?,
        };
        let now = Instant::now();
        let bound = self.flight_bound();
        let mut gate = self.gate();
        if let Some(flight) = gate.flight.as_ref().filter(|f| now.saturating_duration_since(f.started) <= bound) {
            return Ok(flight.clone());
        }
        // A flight older than any fetch can take is abandoned (its task
        // hung, or its runtime stalled): replaced by a new one, rationed
        // like any other, rather than awaited by everyone forever. Its
        // late landing, if any, leaves the new flight alone (ids differ).
        let abandoned = gate.flight.take().map(|f| now.saturating_duration_since(f.started));
        let until = |t: Option<Instant>, window: Duration| {
            t.and_then(|t| t.checked_add(window)).map_or(Duration::ZERO, |end| end.saturating_duration_since(now))
        };
        // Only a failure sets `retry_at` (and only a success clears it).
        let backing_off = if gate.failures > 0 {
            gate.retry_at.map_or(Duration::ZERO, |t| t.saturating_duration_since(now))
        } else {
            Duration::ZERO
        };
        let cooling = match trigger {
            Trigger::Schedule => Duration::ZERO,
            Trigger::Demand => until(gate.last_demand, self.config.cooldown),
            Trigger::Revalidate => until(gate.last_attempt, self.config.cooldown),
        };
        let refused = if trigger == Trigger::Schedule {
            None
        } else if !backing_off.is_zero() {
            Some(NotStarted::BackingOff(backing_off.max(cooling)))
        } else if !cooling.is_zero() {
            Some(NotStarted::Later(cooling))
        } else {
            None
        };
        if let Some(refused) = refused {
            drop(gate);
            log_abandoned(abandoned);
            return Err(refused);
        }
        gate.last_attempt = Some(now);
        if trigger == Trigger::Demand {
            gate.last_demand = Some(now);
        }
        self.ration_revalidation(&gate);
        gate.flights = gate.flights.wrapping_add(1);
        let id = gate.flights;
        let (tx, rx) = watch::channel(None);
        let flight = Flight { id, started: now, trigger, landed: rx };
        gate.flight = Some(flight.clone());
        drop(gate);
        log_abandoned(abandoned);
        Counters::bump(&self.counters.fetches);
        if trigger == Trigger::Demand && self.usable().is_some() {
            // With keys in hand, a lookup only asks for an unknown kid.
            Counters::bump(&self.counters.unknown_kid_refetches);
        }
        let mut landing = Landing { inner: Arc::clone(self), id, tx: Some(tx) };
        runtime.spawn(async move {
            let outcome = landing.inner.fetch_once().await;
            landing.land(outcome);
        });
        Ok(flight)
    }

    async fn fetch_once(&self) -> Landed {
        let previous = self.snapshot.load_full();
        let etag = previous.as_ref().and_then(|s| s.etag.as_deref());
        let started = Instant::now();
        let url = self.jwks_url().await.map_err(|error| Failure {
            error,
            document: "discovery metadata",
            host: self.discovery.as_ref().map_or("-", Discovery::host).to_owned(),
            abandoned: false,
        })?;
        let host = url.host_str().unwrap_or("-");
        let failed = |error: FetchError| Failure { error, document: "JWKS", host: host.to_owned(), abandoned: false };
        let outcome = self.fetcher.fetch(&url, etag).await;
        if self.discovery.is_some() && matches!(outcome, Err(FetchError::Status(404 | 410))) {
            // The JWKS is gone from the discovered address: the issuer may
            // have moved it, so the next attempt asks the metadata again.
            // (Only then: an issuer that is down keeps its address.)
            *self.jwks_url.lock().unwrap_or_else(PoisonError::into_inner) = None;
        }
        match outcome.map_err(failed)? {
            Fetched::Body { text, info } => {
                let ttl = info.ttl;
                let keys = KeySet::from_jwks_str(&text, KeyOrigin::Remote).map_err(|e| failed(e.into()))?;
                let count = keys.len();
                // `{"keys":[]}` is far more likely a broken deployment than an
                // issuer revoking every key at once: keep serving the last
                // good set (within max staleness) and say so. A set that
                // lists keys, none usable here (say, the issuer rotated to an
                // algorithm jwtgate does not verify), is an authoritative
                // answer: the old keys are gone, so they stop verifying.
                if count == 0 && keys.skipped().is_empty() {
                    return Err(failed(FetchError::NoUsableKeys { skipped: 0 }));
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
            Fetched::NotModified { info } => {
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
        }
    }

    /// The configured JWKS URL, or the one discovery found (again after the
    /// JWKS answered 404 or 410).
    async fn jwks_url(&self) -> Result<Url, FetchError> {
        let known = self.jwks_url.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some(url) = known {
            return Ok(url);
        }
        let Some(discovery) = &self.discovery else {
            return Err(FetchError::Discovery("no JWKS URL".into()));
        };
        let metadata = discovery.metadata(&self.fetcher).await?;
        let url = metadata.jwks_uri;
        *self.advertised.lock().unwrap_or_else(PoisonError::into_inner) = metadata.signing_algorithms;
        // Host and path only: a query string may carry a credential.
        tracing::info!(jwks_host = url.host_str().unwrap_or("-"), jwks_path = url.path(), "issuer metadata discovered");
        *self.jwks_url.lock().unwrap_or_else(PoisonError::into_inner) = Some(url.clone());
        Ok(url)
    }

    /// How long the background task sleeps before its next fetch; a landing
    /// wakes it earlier to plan again.
    fn next_scheduled_fetch(&self) -> Duration {
        let now = Instant::now();
        let gate = self.gate();
        if gate.flight.is_some() {
            return self.config.cooldown;
        }
        if gate.failures > 0 {
            return gate.retry_at.map_or(Duration::ZERO, |t| t.saturating_duration_since(now));
        }
        let last_attempt = gate.last_attempt;
        drop(gate);
        // Never sooner than a cooldown after the last attempt started: a
        // fetch slower than the freshness it brings (a short TTL, a slow
        // issuer) would otherwise start again the moment it lands, in a
        // loop.
        let cooling = last_attempt.map_or(Duration::ZERO, |t| self.config.cooldown.saturating_sub(t.elapsed()));
        match self.snapshot.load().as_ref() {
            // Nothing yet: load the keys now rather than on the first token
            // (a replica kept out of traffic until it is ready would never
            // see one), but never more than once per cooldown.
            None => cooling,
            Some(s) => refresh_delay(s.fresh_until.saturating_duration_since(now)).max(cooling),
        }
    }
}

impl KeyResolver for JwksSource {
    type Keys<'a> = Keys;

    const REFRESHES: bool = true;

    fn current(&self) -> Result<Keys, Error> {
        let guard = self.inner.snapshot.load();
        let Some(snapshot) = guard.as_ref() else {
            revalidate(&self.inner);
            return Err(Error::KeySourceUnavailable(Cow::Borrowed("no key set fetched yet")));
        };
        let now = Instant::now();
        if now > snapshot.fresh_until {
            // Stale while revalidate: make sure a fetch is under way even
            // without the background task (switched off, or the source was
            // built outside a runtime), so a removed key cannot outlive its
            // freshness by more than a cooldown, and a set past
            // `max_staleness` is replaced as soon as the issuer answers.
            revalidate(&self.inner);
            if self.inner.too_stale(snapshot, now) {
                return Err(Error::KeySourceUnavailable(Cow::Borrowed("key set too stale and refresh failing")));
            }
            Counters::bump(&self.inner.counters.stale_serves);
        }
        Ok(Keys(guard))
    }

    async fn refresh(&self, query: KeyQuery<'_>) -> Result<(), Error> {
        let inner = &self.inner;
        // Two rounds at most: a scheduled fetch that was already under way
        // may have started before the issuer published this kid, so one
        // lookup fetch may follow it.
        for _ in 0..2 {
            if let Some(keys) = inner.usable() {
                if keys.serves(query.kid) {
                    return Ok(());
                }
                if let Some(kid) = query.kid
                    && inner.absent_kids.contains_key(kid)
                {
                    Counters::bump(&inner.counters.negative_cache_hits);
                    return Ok(());
                }
            }
            // Once more right before asking: a fetch may have landed since
            // (another request's), and a kid it brought needs no fetch.
            if inner.usable().is_some_and(|keys| keys.serves(query.kid)) {
                return Ok(());
            }
            let flight = match inner.start(Trigger::Demand) {
                Ok(flight) => flight,
                Err(not_started) => {
                    Counters::bump(&inner.counters.cooldown_skips);
                    // Decided on the keys in hand now, not as read before
                    // `start`: a fetch may have landed (or the set gone past
                    // `max_staleness`) in between.
                    let usable = inner.usable();
                    if usable.as_ref().is_some_and(|keys| keys.serves(query.kid)) {
                        return Ok(());
                    }
                    let message = match (not_started, usable.is_some()) {
                        // An unknown kid inside the cooldown: fail fast
                        // (`key_not_found`); the last fetch, which
                        // succeeded, did not have it.
                        (NotStarted::Later(_) | NotStarted::NoRuntime, true) => return Ok(()),
                        // Inside a failure's backoff whether the kid exists
                        // cannot be told (the fetch that would tell is
                        // failing): "retry later", as for the waiters of the
                        // failed fetch, not "no such key".
                        (NotStarted::BackingOff(wait), true) => {
                            format!("key fetch failing; next fetch in {} s", wait.as_secs().max(1))
                        }
                        (NotStarted::Later(wait) | NotStarted::BackingOff(wait), false) => {
                            format!("no usable key set; next fetch in {} s", wait.as_secs().max(1))
                        }
                        (NotStarted::NoRuntime, false) => "no usable key set, and no Tokio runtime to fetch one".into(),
                    };
                    return Err(Error::KeySourceUnavailable(Cow::Owned(message)));
                }
            };
            let trigger = flight.trigger;
            match flight.landed(inner.flight_bound()).await {
                // The fetch this lookup needed failed: whether the kid
                // exists cannot be told now, so "retry later", not "no such
                // key" (a later lookup inside the backoff fails fast).
                Err(failure) => {
                    return Err(Error::KeySourceUnavailable(Cow::Owned(format!("key fetch failed: {failure}"))));
                }
                Ok(_) if trigger == Trigger::Demand => {
                    // Only a completed lookup fetch confirms a kid absent.
                    if let Some(kid) = query.kid
                        && !inner.usable().is_some_and(|keys| keys.has_kid(kid))
                    {
                        inner.absent_kids.insert(kid.to_owned(), ());
                    }
                    return Ok(());
                }
                Ok(_) => {}
            }
        }
        Ok(())
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // A stored permit if the task is not waiting right now: it then
        // returns at its next wait instead of sleeping first.
        self.wake.notify_one();
    }
}

/// Loads the keys, refetches before expiry, retries failures with backoff.
/// Holds only a `Weak`, and ends as soon as the last `JwksSource` handle is
/// dropped (`wake` fires, and the upgrade fails).
async fn refresh_loop(inner: Weak<Inner>, wake: Arc<Notify>) {
    loop {
        let wait = match inner.upgrade() {
            None => return,
            Some(inner) => inner.next_scheduled_fetch(),
        };
        if !wait.is_zero() && tokio::time::timeout(wait, wake.notified()).await.is_ok() {
            // A fetch landed (plan again: a success ends a backoff at once)
            // or the last handle went (the upgrade above fails).
            continue;
        }
        let Some(strong) = inner.upgrade() else { return };
        let flight = strong.start(Trigger::Schedule);
        let bound = strong.flight_bound();
        drop(strong);
        if let Ok(flight) = flight {
            let _ = flight.landed(bound).await;
        }
    }
}

/// Wake up when 80-90% of the remaining freshness has passed: early
/// enough that requests never see an expired set, jittered so that many
/// replicas started together spread their fetches.
fn refresh_delay(remaining: Duration) -> Duration {
    remaining.mul_f64(0.8) + remaining.mul_f64(0.1 * jitter())
}

/// Starts one fetch in the background for a set that is stale, too stale
/// or absent, unless one is under way, any fetch began within a cooldown,
/// a failure is backing off, or there is no Tokio runtime to run it.
fn revalidate(inner: &Arc<Inner>) {
    // Lock-free first: during an outage every lookup serves a stale set and
    // comes here; all of them taking the gate mutex only to learn "not
    // yet" would serialize the service on it.
    if inner.nanos_after_base(Instant::now()) < inner.revalidate_after.load(Ordering::Relaxed) {
        return;
    }
    let _ = inner.start(Trigger::Revalidate);
}

/// Logs, at debug, a flight `start` replaced as abandoned, with its age.
fn log_abandoned(age: Option<Duration>) {
    if let Some(age) = age {
        tracing::debug!(age_secs = age.as_secs(), "key fetch abandoned (outlived its timeouts); no longer awaited");
    }
}

/// Retry after the `failures`-th failure in a row: one cooldown, doubling
/// up to 8 cooldowns (4 minutes by default), each wait shortened by up to a
/// quarter at random so failing replicas spread out.
fn backoff(cooldown: Duration, failures: u32) -> Duration {
    let full = cooldown.saturating_mul(1u32 << failures.saturating_sub(1).min(3));
    full.mul_f64(1.0 - 0.25 * jitter())
}

/// A random fraction in [0, 1], from the OS (0.5 if it has none to give).
fn jitter() -> f64 {
    let mut byte = [0u8; 1];
    if getrandom::fill(&mut byte).is_ok() { f64::from(byte[0]) / 255.0 } else { 0.5 }
}

/// Wall-clock Unix seconds (0 for a clock before 1970).
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
