//! The follower's side: a background task that keeps this process's
//! [`RevocationList`] equal to the store, and knows when it last could
//! vouch for that.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use jwtgate_verify::{Claims, Header, Revocation, RevocationStatus};
use redis::Value;
use redis::aio::ConnectionManager;
use tokio::sync::{Notify, watch};

use crate::config::Limits;
use crate::list::RevocationList;
use crate::redis::config::{RedisConfig, StoreError};
use crate::redis::layout::{Continuity, EntryId, Keys, LogInfo, Position};
use crate::redis::store::{self, unavailable};
use crate::rule::{Rule, RuleId};

const NEVER_SYNCED: u8 = 0;
const IN_SYNC: u8 = 1;
const OUT_OF_SYNC: u8 = 2;
/// The follower's task has ended (its runtime shut down under it):
/// nothing will ever vouch for the rules again, fail open or not.
const STOPPED: u8 = 3;

/// Log entries read per round trip.
const READ_BATCH: usize = 1000;

/// The longest wait between attempts while the store is unreachable.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Where a follower stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncState {
    /// Started, never synced: every token is `revocation_unavailable`.
    NeverSynced,
    /// Confirmed in sync within the last `max_lag`.
    InSync,
    /// No confirmation for longer than `max_lag`: tokens are
    /// `revocation_unavailable`, or accepted and counted when failing open.
    OutOfSync,
    /// The follower's task has ended (the tokio runtime it ran on shut
    /// down): every token no rule refuses is `revocation_unavailable`,
    /// failing open or not, and the follower is not ready.
    Stopped,
}

/// A follower's state and counters ([`RedisSync::sync_status`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncStatus {
    /// In sync or not.
    pub state: SyncState,
    /// When the follower last confirmed it held every rule; `None` before
    /// the first sync.
    pub last_confirmed: Option<SystemTime>,
    /// Full loads of the rule set: the first, and one after each gap the
    /// log could not fill (trimmed, or the store lost its data).
    pub full_syncs: u64,
    /// Changes applied from the log.
    pub changes_applied: u64,
    /// Failed round trips to the store.
    pub errors: u64,
    /// Log entries and stored rules that could not be read (written by a
    /// newer version, or not by jwtgate) and so are not enforced here.
    pub unreadable: u64,
    /// Tokens refused with `revocation_unavailable`.
    pub refused_out_of_sync: u64,
    /// Tokens accepted while out of sync (failing open only).
    pub accepted_out_of_sync: u64,
    /// Rules held.
    pub rules: usize,
}

/// A [`Revocation`] source kept in sync with a shared Redis store: the
/// rules live in this process's [`RevocationList`] (the check is the
/// list's, in memory), and a background task applies every change the
/// store logs, within milliseconds.
///
/// Give a clone to the verifier (`Verifier::builder().revocation(sync.clone())`)
/// and use [`is_ready`](Self::is_ready) in the readiness probe. Made by
/// [`RedisConfig::sync`]; the task stops when the last clone is dropped.
///
/// Its answer for a token no rule refuses depends on the sync state: in
/// sync, accepted; never synced, `revocation_unavailable`; out of sync
/// past `max_lag`, `revocation_unavailable` (the default) or accepted and
/// counted ([`RedisConfig::fail_open_when_out_of_sync`]). A token a rule
/// held refuses is `revoked` in every state.
#[derive(Clone)]
pub struct RedisSync {
    shared: Arc<Shared>,
    _stop: Arc<StopOnDrop>,
}

struct Shared {
    list: RevocationList,
    state: AtomicU8,
    fail_open: bool,
    /// One more than the milliseconds since `base` of the last
    /// confirmation; 0: never confirmed.
    confirmed_at: AtomicU64,
    base: Instant,
    /// The wall clock at `base`, to report confirmations as times.
    base_time: SystemTime,
    full_syncs: AtomicU64,
    changes: AtomicU64,
    errors: AtomicU64,
    unreadable: AtomicU64,
    refused: AtomicU64,
    accepted: AtomicU64,
    changed: Notify,
    host: String,
}

/// Tells the task to stop when the last handle goes.
struct StopOnDrop(watch::Sender<bool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.send_replace(true);
    }
}

/// Marks the follower stopped if its task ends for any reason (a runtime
/// shut down under it included): nothing vouches for the rules any more,
/// and failing open must not outlive the task that would have noticed
/// the store coming back.
struct FailClosedOnExit(Arc<Shared>);

impl Drop for FailClosedOnExit {
    fn drop(&mut self) {
        if self.0.state.swap(STOPPED, Ordering::AcqRel) != STOPPED {
            tracing::error!(host = %self.0.host, "revocation sync stopped; refusing tokens with revocation_unavailable");
        }
        self.0.changed.notify_waiters();
    }
}

/// The task's settings.
struct Settings {
    keys: Keys,
    limits: Limits,
    heartbeat: Duration,
    max_lag: Duration,
    timeout: Duration,
}

impl RedisSync {
    pub(crate) fn start(config: &RedisConfig) -> Result<Self, StoreError> {
        config.validate()?;
        let list = config.list.clone().build()?;
        let client = config.client()?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| StoreError::NoRuntime)?;
        let shared = Arc::new(Shared {
            list,
            state: AtomicU8::new(NEVER_SYNCED),
            fail_open: config.fail_open,
            confirmed_at: AtomicU64::new(0),
            base: Instant::now(),
            base_time: SystemTime::now(),
            full_syncs: AtomicU64::new(0),
            changes: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            unreadable: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
            changed: Notify::new(),
            host: config.host(),
        });
        let settings = Settings {
            keys: Keys::new(&config.namespace),
            limits: config.list.limits()?,
            heartbeat: config.heartbeat,
            max_lag: config.max_lag,
            timeout: config.timeout,
        };
        let (stop, stopped) = watch::channel(false);
        runtime.spawn(watchdog(Arc::clone(&shared), settings.max_lag, stopped.clone()));
        runtime.spawn(follow(Arc::clone(&shared), client, settings, stopped));
        Ok(Self { shared, _stop: Arc::new(StopOnDrop(stop)) })
    }

    /// The list the rules are applied to (read it for what is held; writes
    /// to it are not sent to the store and are undone by the next full
    /// sync: write through [`RedisStore`](crate::RedisStore)).
    #[must_use]
    pub fn list(&self) -> &RevocationList {
        &self.shared.list
    }

    /// `true` when tokens get answers that count: in sync, or out of sync
    /// while failing open. For a readiness probe: a replica that is not
    /// ready answers `revocation_unavailable` to every token no rule
    /// refuses.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        match self.shared.state.load(Ordering::Acquire) {
            IN_SYNC => true,
            OUT_OF_SYNC => self.shared.fail_open,
            _ => false,
        }
    }

    /// Waits until [`is_ready`](Self::is_ready), at most `timeout`;
    /// whether it is.
    pub async fn wait_ready(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.shared.changed.notified();
            if self.is_ready() {
                return true;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return self.is_ready();
            }
        }
    }

    /// The sync state and counters.
    #[must_use]
    pub fn sync_status(&self) -> SyncStatus {
        let s = &self.shared;
        let state = match s.state.load(Ordering::Acquire) {
            IN_SYNC => SyncState::InSync,
            OUT_OF_SYNC => SyncState::OutOfSync,
            STOPPED => SyncState::Stopped,
            _ => SyncState::NeverSynced,
        };
        let confirmed = s.confirmed_at.load(Ordering::Acquire);
        SyncStatus {
            state,
            last_confirmed: confirmed.checked_sub(1).map(|ms| s.base_time + Duration::from_millis(ms)),
            full_syncs: s.full_syncs.load(Ordering::Relaxed),
            changes_applied: s.changes.load(Ordering::Relaxed),
            errors: s.errors.load(Ordering::Relaxed),
            unreadable: s.unreadable.load(Ordering::Relaxed),
            refused_out_of_sync: s.refused.load(Ordering::Relaxed),
            accepted_out_of_sync: s.accepted.load(Ordering::Relaxed),
            rules: s.list.len(),
        }
    }
}

impl fmt::Debug for RedisSync {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSync")
            .field("host", &self.shared.host)
            .field("status", &self.sync_status())
            .finish_non_exhaustive()
    }
}

impl Revocation for RedisSync {
    /// The rules held, whatever the sync state.
    fn is_revoked(&self, header: &Header<'_>, claims: &Claims<'_>) -> bool {
        self.shared.list.is_revoked(header, claims)
    }

    /// One atomic load on top of the list's lookup: the watchdog task, not
    /// the request, reads the clock to decide the state.
    fn status(&self, header: &Header<'_>, claims: &Claims<'_>) -> RevocationStatus {
        let s = &*self.shared;
        if s.list.is_revoked(header, claims) {
            return RevocationStatus::Revoked;
        }
        match s.state.load(Ordering::Acquire) {
            IN_SYNC => RevocationStatus::NotRevoked,
            OUT_OF_SYNC if s.fail_open => {
                s.accepted.fetch_add(1, Ordering::Relaxed);
                RevocationStatus::NotRevoked
            }
            _ => {
                s.refused.fetch_add(1, Ordering::Relaxed);
                RevocationStatus::Unavailable
            }
        }
    }
}

impl Shared {
    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The follower held every rule the store had at `at`.
    fn confirm(&self, at: Instant, max_lag: Duration) {
        let ms = u64::try_from(at.saturating_duration_since(self.base).as_millis()).unwrap_or(u64::MAX);
        self.confirmed_at.fetch_max(ms.saturating_add(1), Ordering::AcqRel);
        // A confirmation already older than the limit (a slow full load)
        // does not make the follower in sync.
        if at.elapsed() > max_lag {
            return;
        }
        let previous = self.state.load(Ordering::Acquire);
        if previous == IN_SYNC
            || previous == STOPPED
            || self.state.compare_exchange(previous, IN_SYNC, Ordering::AcqRel, Ordering::Acquire).is_err()
        {
            return;
        }
        match previous {
            NEVER_SYNCED => {
                tracing::info!(host = %self.host, rules = self.list.len(), "revocation list in sync with its store");
            }
            OUT_OF_SYNC => tracing::info!(host = %self.host, "revocation list back in sync with its store"),
            _ => return,
        }
        self.changed.notify_waiters();
    }
}

/// Turns the state to out of sync once the last confirmation is older
/// than `max_lag`. A quarter of the limit between checks bounds how late
/// that is noticed.
async fn watchdog(shared: Arc<Shared>, max_lag: Duration, mut stopped: watch::Receiver<bool>) {
    let lag_ms = u64::try_from(max_lag.as_millis()).unwrap_or(u64::MAX);
    let mut tick = tokio::time::interval((max_lag / 4).max(Duration::from_millis(5)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            _ = tick.tick() => {}
        }
        let since =
            || shared.elapsed_ms().saturating_add(1).saturating_sub(shared.confirmed_at.load(Ordering::Acquire));
        if since() > lag_ms
            && shared.state.compare_exchange(IN_SYNC, OUT_OF_SYNC, Ordering::AcqRel, Ordering::Acquire).is_ok()
        {
            // A confirmation may have landed between the check and the
            // swap: then the follower is in sync after all.
            if since() <= lag_ms {
                let _ = shared.state.compare_exchange(OUT_OF_SYNC, IN_SYNC, Ordering::AcqRel, Ordering::Acquire);
                continue;
            }
            let since = since();
            let policy = if shared.fail_open {
                "accepting tokens no rule refuses (fail open)"
            } else {
                "refusing tokens with revocation_unavailable"
            };
            tracing::warn!(host = %shared.host, seconds = since / 1000, "revocation list out of sync with its store; {policy}");
            shared.changed.notify_waiters();
        }
    }
}

/// The task: connect, load everything, then follow the log; on any error
/// wait (doubling, up to [`MAX_BACKOFF`]) and go on from where it was.
async fn follow(shared: Arc<Shared>, client: redis::Client, settings: Settings, mut stopped: watch::Receiver<bool>) {
    let _exit = FailClosedOnExit(Arc::clone(&shared));
    let mut follower =
        Follower { shared: &shared, settings: &settings, conn: None, seen: None, failing: false, merge_only: false };
    let mut backoff = Duration::from_millis(50);
    loop {
        let step = tokio::select! {
            _ = stopped.changed() => return,
            step = follower.step(&client) => step,
        };
        match step {
            Ok(()) => {
                if follower.failing {
                    tracing::info!(host = %shared.host, "revocation store reachable again");
                    follower.failing = false;
                }
                backoff = Duration::from_millis(50);
            }
            Err(e) => {
                shared.errors.fetch_add(1, Ordering::Relaxed);
                if !follower.failing {
                    tracing::warn!(host = %shared.host, error = %error_chain(&e), "revocation store unreachable; retrying");
                    follower.failing = true;
                }
                tokio::select! {
                    _ = stopped.changed() => return,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

struct Follower<'a> {
    shared: &'a Shared,
    settings: &'a Settings,
    conn: Option<ConnectionManager>,
    /// The last log entry applied; `None` when the next step must load the
    /// whole rule set.
    seen: Option<Position>,
    failing: bool,
    /// Set once the store was seen to lose data: from then on, full loads
    /// add to the list instead of replacing it, so a rule the store lost is
    /// still enforced here.
    merge_only: bool,
}

impl Follower<'_> {
    async fn step(&mut self, client: &redis::Client) -> Result<(), StoreError> {
        let host = &self.shared.host;
        let conn = match &mut self.conn {
            Some(conn) => conn,
            None => {
                // A blocked read must outlast its `BLOCK`.
                let response = self.settings.heartbeat + self.settings.timeout;
                let conn = store::connection(client.clone(), self.settings.timeout, response, host).await?;
                self.conn.insert(conn)
            }
        };
        let max_lag = self.settings.max_lag;
        let Some(seen) = self.seen else {
            check_limits(self.shared, conn, self.settings).await?;
            let (tip, started) = full_sync(self.shared, conn, &self.settings.keys, self.merge_only).await?;
            self.seen = Some(tip);
            self.shared.confirm(started, max_lag);
            return Ok(());
        };
        let started = Instant::now();
        let reply: Value = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(READ_BATCH)
            .arg("BLOCK")
            .arg(u64::try_from(self.settings.heartbeat.as_millis()).unwrap_or(u64::MAX))
            .arg("STREAMS")
            .arg(&self.settings.keys.log)
            .arg(seen.id.to_string())
            .query_async(conn)
            .await
            .map_err(|e| unavailable(host, e))?;
        let (last, read) = apply(self.shared, reply)?;
        // Applied first (a revocation is never held back), then checked:
        // if entries after `seen` were trimmed before they were read, the
        // log cannot fill the gap and the whole set is loaded again.
        let info = log_info(conn, &self.settings.keys, host).await?;
        match info.continuity(seen, read) {
            Continuity::Intact => {
                self.seen = Some(Position { id: last.unwrap_or(seen.id), count: seen.count + read });
                // A full batch may have more behind it: only a read that
                // reached the end of the log vouches for the state.
                if read < READ_BATCH as u64 {
                    self.shared.confirm(started, max_lag);
                }
            }
            Continuity::Trimmed => {
                tracing::info!(host = %host, "revocation log trimmed past this replica's position; loading every rule");
                self.seen = None;
            }
            Continuity::Reset => {
                tracing::warn!(
                    host = %host,
                    "revocation store lost its log (restarted without persistence, flushed, or failed over \
                     to a replica that missed writes); loading what it holds and keeping every rule held \
                     here until this process restarts"
                );
                self.merge_only = true;
                let (tip, started) = full_sync(self.shared, conn, &self.settings.keys, true).await?;
                self.seen = Some(tip);
                self.shared.confirm(started, max_lag);
            }
        }
        Ok(())
    }
}

/// Loads the whole rule set; returns the log position it is current with
/// and when it started. The position is read first: changes logged while
/// the set is read are read again from the log, and applying a change
/// twice is applying it once.
///
/// Normally the store's set replaces the list's (removals included);
/// with `merge_only` (the store lost data once) it is added to it, so that
/// rules the store lost keep being enforced here until this process
/// restarts.
async fn full_sync(
    shared: &Shared,
    conn: &mut ConnectionManager,
    keys: &Keys,
    merge_only: bool,
) -> Result<(Position, Instant), StoreError> {
    let started = Instant::now();
    let tip = log_info(conn, keys, &shared.host).await?.tip();
    let mut rules = Vec::new();
    let mut unreadable = 0usize;
    for entry in store::load_all(conn, keys, &shared.host).await? {
        match entry {
            Ok(rule) => rules.push(rule),
            Err(_) => unreadable += 1,
        }
    }
    if unreadable > 0 {
        shared.unreadable.fetch_add(unreadable as u64, Ordering::Relaxed);
        tracing::error!(
            host = %shared.host,
            unreadable,
            "revocation store holds entries this version cannot read (a newer writer?); they are not enforced here"
        );
    }
    // Every rule was validated by `load_all`, so neither write can fail.
    let written = if merge_only { shared.list.revoke_all(rules) } else { shared.list.replace_all(rules) };
    written.map_err(StoreError::Rule)?;
    shared.full_syncs.fetch_add(1, Ordering::Relaxed);
    Ok((tip, started))
}

/// Says so, at ERROR, when the store expires rules by other lifetimes than
/// this follower's list: a shorter list lifetime drops rules here that the
/// store still holds (they come back at the next full load), a longer one
/// keeps rules here that new replicas will not load.
async fn check_limits(shared: &Shared, conn: &mut ConnectionManager, settings: &Settings) -> Result<(), StoreError> {
    let (leeway, lifetime): (Option<i64>, Option<i64>) = redis::cmd("HMGET")
        .arg(&settings.keys.config)
        .arg("leeway")
        .arg("max_token_lifetime")
        .query_async(conn)
        .await
        .map_err(|e| unavailable(&shared.host, e))?;
    if let (Some(leeway), Some(lifetime)) = (leeway, lifetime)
        && (leeway, lifetime) != (settings.limits.leeway, settings.limits.lifetime)
    {
        tracing::error!(
            host = %shared.host,
            store_leeway = leeway,
            store_max_token_lifetime = lifetime,
            leeway = settings.limits.leeway,
            max_token_lifetime = settings.limits.lifetime,
            "revocation store expires rules by other lifetimes than this replica's list; use the same settings"
        );
    }
    Ok(())
}

/// Applies a reply of `XREAD` in log order; the id of its last entry and
/// how many entries it had.
fn apply(shared: &Shared, reply: Value) -> Result<(Option<EntryId>, u64), StoreError> {
    let mut last = None;
    let mut read = 0u64;
    let mut batch: Vec<Rule> = Vec::new();
    let flush = |batch: &mut Vec<Rule>| {
        let n = batch.len() as u64;
        // Entries were validated while parsing.
        let _ = shared.list.revoke_all(batch.drain(..));
        shared.changes.fetch_add(n, Ordering::Relaxed);
    };
    for (id, fields) in entries(reply)? {
        last = Some(id);
        read += 1;
        match change(&fields) {
            Some(Change::Revoke(rule)) => batch.push(rule),
            Some(Change::Remove(rule_id)) => {
                flush(&mut batch);
                shared.list.remove(&rule_id);
                shared.changes.fetch_add(1, Ordering::Relaxed);
            }
            None => {
                shared.unreadable.fetch_add(1, Ordering::Relaxed);
                tracing::error!(
                    host = %shared.host,
                    entry = %id,
                    "revocation log entry this version cannot read (a newer writer?); not enforced here"
                );
            }
        }
    }
    flush(&mut batch);
    Ok((last, read))
}

enum Change {
    Revoke(Rule),
    Remove(RuleId),
}

fn change(fields: &[(String, String)]) -> Option<Change> {
    let get = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    match get("op")? {
        "revoke" => store::parse(get("rule")?).ok().map(Change::Revoke),
        "remove" => serde_json::from_str(get("id")?).ok().map(Change::Remove),
        _ => None,
    }
}

/// A log entry: its id and its fields.
type Entry = (EntryId, Vec<(String, String)>);

/// The entries of an `XREAD` reply for one stream: `nil` on a timeout,
/// else `[[key, [[id, [field, value, ...]], ...]]]` (RESP2) or a map of
/// key to entries (RESP3).
fn entries(reply: Value) -> Result<Vec<Entry>, StoreError> {
    let streams = match reply {
        Value::Nil => return Ok(Vec::new()),
        Value::Array(streams) => streams
            .into_iter()
            .filter_map(|s| match s {
                Value::Array(mut pair) if pair.len() == 2 => pair.pop(),
                _ => None,
            })
            .collect::<Vec<_>>(),
        Value::Map(streams) => streams.into_iter().map(|(_, v)| v).collect(),
        _ => return Err(corrupt("XREAD reply")),
    };
    let mut out = Vec::new();
    for stream in streams {
        let Value::Array(items) = stream else { return Err(corrupt("XREAD reply")) };
        for item in items {
            let Value::Array(mut parts) = item else { return Err(corrupt("log entry")) };
            if parts.len() != 2 {
                return Err(corrupt("log entry"));
            }
            let fields = parts.pop().map(strings).unwrap_or_default();
            let id = parts
                .pop()
                .and_then(|v| text(&v))
                .and_then(|t| EntryId::parse(&t))
                .ok_or_else(|| corrupt("log entry id"))?;
            let pairs =
                fields.chunks_exact(2).filter_map(|kv| Some((kv.first()?.clone(), kv.get(1)?.clone()))).collect();
            out.push((id, pairs));
        }
    }
    Ok(out)
}

fn strings(value: Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().filter_map(text).collect(),
        Value::Map(pairs) => pairs.iter().flat_map(|(k, v)| [text(k), text(v)]).flatten().collect(),
        _ => Vec::new(),
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

fn integer(value: &Value) -> Option<u64> {
    match value {
        Value::Int(n) => u64::try_from(*n).ok(),
        other => text(other)?.parse().ok(),
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("unexpected {what}"))
}

/// `XINFO STREAM` of the log; a log that does not exist (nothing ever
/// written) is an empty one.
async fn log_info(conn: &mut ConnectionManager, keys: &Keys, host: &str) -> Result<LogInfo, StoreError> {
    let reply: Result<Value, _> = redis::cmd("XINFO").arg("STREAM").arg(&keys.log).query_async(conn).await;
    let reply = match reply {
        Ok(reply) => reply,
        Err(e) if e.detail().is_some_and(|d| d.contains("no such key")) => {
            return Ok(LogInfo { entries_added: Some(0), ..LogInfo::default() });
        }
        Err(e) => return Err(unavailable(host, e)),
    };
    let pairs: Vec<(Value, Value)> = match reply {
        Value::Map(pairs) => pairs,
        Value::Array(items) => {
            let mut items = items.into_iter();
            let mut pairs = Vec::new();
            while let (Some(k), Some(v)) = (items.next(), items.next()) {
                pairs.push((k, v));
            }
            pairs
        }
        _ => return Err(corrupt("XINFO reply")),
    };
    let mut info = LogInfo::default();
    for (key, value) in pairs {
        match text(&key).as_deref() {
            Some("last-generated-id") => {
                info.last_generated =
                    text(&value).and_then(|t| EntryId::parse(&t)).ok_or_else(|| corrupt("last-generated-id"))?;
            }
            Some("entries-added") => info.entries_added = integer(&value),
            Some("length") => info.length = integer(&value).unwrap_or_default(),
            Some("first-entry") => {
                if let Value::Array(entry) = value {
                    info.first = entry.first().and_then(text).and_then(|t| EntryId::parse(&t));
                }
            }
            _ => {}
        }
    }
    Ok(info)
}
