//! Fleet sync against a real `redis-server` (started by the harness on
//! 127.0.0.1, persistence on), with real tokens and a real verifier per
//! replica. Faults are real too: connections killed by the server, the
//! server crashed and restarted, the network between a replica and the
//! store cut by a relay, the log trimmed under a replica.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{Relay, redis_server, within};
use jwtgate_revoke::{
    RedisConfig, RedisSync, RevocationConfig, Rule, RuleId, RuleKind, StoreError, SyncState, Written,
};
use jwtgate_testkit::alg::Alg;
use jwtgate_testkit::{keygen, mint};
use jwtgate_verify::{Algorithm, Clock, KeySet, Scratch, Verifier, VerifyingKey};
use redis::Commands as _;

const ISS: &str = "https://issuer.test";
const AUD: &str = "api.test";
const SOON: Duration = Duration::from_secs(5);

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs().try_into().unwrap()
}

fn key() -> &'static keygen::Written {
    static KEY: OnceLock<keygen::Written> = OnceLock::new();
    KEY.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("revoke-redis-keys-{}", std::process::id()));
        let req = keygen::Request { alg: Alg::HS256, bits: None, kid: Some("k1".into()), out: dir, force: true };
        keygen::run(&req).unwrap()
    })
}

/// A token of `sub` with `jti`, issued now for an hour.
fn token(sub: &str, jti: &str) -> String {
    mint::run(&mint::Request {
        key: key().private_jwk.clone(),
        iss: ISS.into(),
        aud: vec![AUD.into()],
        sub: sub.into(),
        ttl: "1h".into(),
        claims: Some(format!(r#"{{"jti":"{jti}"}}"#)),
        ..mint::Request::default()
    })
    .unwrap()
}

/// A verifier consulting `sync`, as a service replica would.
fn replica(sync: &RedisSync) -> Verifier {
    let jwk = std::fs::read_to_string(&key().private_jwk).unwrap();
    Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .algorithms([Algorithm::HS256])
        .revocation(sync.clone())
        .build(KeySet::new([VerifyingKey::from_jwk_str(&jwk).unwrap()]))
        .unwrap()
}

fn outcome(verifier: &Verifier, token: &str) -> Result<(), &'static str> {
    verifier.verify(token, &mut Scratch::new()).map(|_| ()).map_err(|e| e.code())
}

/// Test settings: a fast heartbeat, so that lag is noticed in a test's time.
fn config(url: &str) -> RedisConfig {
    RedisConfig::new(url).heartbeat(Duration::from_millis(100)).max_lag(Duration::from_millis(600))
}

async fn synced(config: &RedisConfig) -> RedisSync {
    let sync = config.sync().unwrap();
    assert!(sync.wait_ready(SOON).await, "no first sync: {sync:?}");
    sync
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_rule_kind_reaches_every_replica() {
    let Some(server) = redis_server() else { return };
    let cfg = config(&server.url());
    let store = cfg.store().await.unwrap();
    let syncs = [synced(&cfg).await, synced(&cfg).await, synced(&cfg).await];
    let verifiers: Vec<Verifier> = syncs.iter().map(replica).collect();
    let (leaked, alice, bob, carol) =
        (token("x", "leaked"), token("alice", "a1"), token("bob", "b1"), token("carol", "c1"));
    for v in &verifiers {
        for t in [&leaked, &alice, &bob, &carol] {
            assert_eq!(outcome(v, t), Ok(()));
        }
    }
    let exp = now() + 3600;
    assert_eq!(store.revoke(Rule::jti(ISS, "leaked", exp).with_reason("INC-1")).await.unwrap(), Written::Added);
    assert_eq!(store.revoke(Rule::subject(ISS, "alice", now())).await.unwrap(), Written::Added);
    // Another issuer's rule for bob's subject leaves bob alone.
    assert_eq!(store.revoke(Rule::subject("https://other.test", "bob", now())).await.unwrap(), Written::Added);
    for v in &verifiers {
        let all = within(SOON, || outcome(v, &leaked) == Err("revoked") && outcome(v, &alice) == Err("revoked")).await;
        assert!(all.is_some(), "not every replica refuses");
        assert_eq!(outcome(v, &bob), Ok(()));
        assert_eq!(outcome(v, &carol), Ok(()));
    }
    // A leaked signing key: every token naming it.
    store.revoke(Rule::key(ISS, "k1")).await.unwrap();
    for v in &verifiers {
        assert!(within(SOON, || outcome(v, &carol) == Err("revoked")).await.is_some());
    }
    // Undone everywhere.
    assert!(store.remove(&RuleId::new(ISS, RuleKind::Key, "k1")).await.unwrap());
    for v in &verifiers {
        assert!(within(SOON, || outcome(v, &carol) == Ok(())).await.is_some());
    }
    let rules = store.rules().await.unwrap();
    assert_eq!(rules.len(), 3, "{rules:?}");
    assert!(rules.iter().any(|r| r.reason.as_deref() == Some("INC-1")));
    for sync in &syncs {
        assert_eq!(sync.sync_status().state, SyncState::InSync);
        assert_eq!(sync.list().len(), 3);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_written_twice_is_one_rule_and_never_shrinks() {
    let Some(server) = redis_server() else { return };
    let cfg = config(&server.url());
    let store = cfg.store().await.unwrap();
    let exp = now() + 600;
    assert_eq!(store.revoke(Rule::jti(ISS, "j", exp)).await.unwrap(), Written::Added);
    assert_eq!(store.revoke(Rule::jti(ISS, "j", exp)).await.unwrap(), Written::Unchanged);
    assert_eq!(store.revoke(Rule::jti(ISS, "j", exp - 100)).await.unwrap(), Written::Unchanged);
    assert_eq!(store.revoke(Rule::jti(ISS, "j", exp + 100)).await.unwrap(), Written::Updated);
    assert_eq!(store.revoke(Rule::jti(ISS, "gone", now() - 3600)).await.unwrap(), Written::Expired);
    let rules = store.rules().await.unwrap();
    assert_eq!(rules, [Rule::jti(ISS, "j", exp + 100)]);
    let mut conn = server.conn();
    let logged: usize = conn.xlen("{jwtgate:revocation}:log").unwrap();
    assert_eq!(logged, 2, "only changes are logged");
    // An invalid rule writes nothing.
    assert!(matches!(store.revoke(Rule::jti(ISS, "", exp)).await, Err(StoreError::Rule(_))));
    assert_eq!(store.rules().await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_started_after_10000_rules_has_them_all() {
    let Some(server) = redis_server() else { return };
    let cfg = config(&server.url());
    let store = cfg.store().await.unwrap();
    let exp = now() + 3600;
    for i in 0..10_000 {
        store.revoke(Rule::jti(ISS, format!("jti-{i}"), exp)).await.unwrap();
    }
    let late = synced(&cfg).await;
    assert_eq!(late.list().len(), 10_000);
    let v = replica(&late);
    assert_eq!(outcome(&v, &token("x", "jti-9999")), Err("revoked"));
    assert_eq!(outcome(&v, &token("x", "jti-10000")), Ok(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_connection_resumes_where_it_was() {
    let Some(server) = redis_server() else { return };
    let cfg = config(&server.url());
    let store = cfg.store().await.unwrap();
    let sync = synced(&cfg).await;
    let v = replica(&sync);
    let mut admin = server.conn();
    for round in 0..5 {
        // Every client but this one: the replica's and the writer's.
        let _: redis::Value =
            redis::cmd("CLIENT").arg(&["KILL", "TYPE", "normal", "SKIPME", "yes"][..]).query(&mut admin).unwrap();
        let jti = format!("after-kill-{round}");
        write_until_done(|| store.revoke(Rule::jti(ISS, jti.clone(), now() + 600))).await;
        assert!(within(SOON, || outcome(&v, &token("x", &jti)) == Err("revoked")).await.is_some(), "round {round}");
    }
    assert_eq!(sync.sync_status().full_syncs, 1, "resumed from the log, no reload");
    assert_eq!(sync.list().len(), 5);
}

/// The writer's connection may be mid-reconnect after a kill: an operator
/// would run the command again.
async fn write_until_done<F, Fut>(mut write: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Written, StoreError>>,
{
    for _ in 0..50 {
        if write().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the store never took the write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_and_restarted_store_loses_nothing_acknowledged() {
    let Some(mut server) = redis_server() else { return };
    let cfg = config(&server.url());
    let store = cfg.store().await.unwrap();
    let sync = synced(&cfg).await;
    let v = replica(&sync);
    for i in 0..100 {
        store.revoke(Rule::jti(ISS, format!("before-{i}"), now() + 600)).await.unwrap();
    }
    assert!(within(SOON, || sync.list().len() == 100).await.is_some());
    server.redis.crash();
    // Down: the replica keeps every rule it has, then fails closed.
    assert!(within(SOON, || outcome(&v, &token("x", "fresh")) == Err("revocation_unavailable")).await.is_some());
    assert_eq!(outcome(&v, &token("x", "before-99")), Err("revoked"));
    server.redis.restart().unwrap();
    write_until_done(|| store.revoke(Rule::jti(ISS, "after-restart", now() + 600))).await;
    let (after, fresh) = (token("x", "after-restart"), token("x", "fresh"));
    let back = || outcome(&v, &after) == Err("revoked") && outcome(&v, &fresh) == Ok(());
    assert!(within(SOON, back).await.is_some(), "{sync:?}");
    // A replica started now gets all of them from the restarted store.
    let late = synced(&cfg).await;
    assert_eq!(late.list().len(), 101);
    assert_eq!(store.rules().await.unwrap().len(), 101);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_trimmed_past_a_replica_is_replaced_by_a_full_load() {
    let Some(server) = redis_server() else { return };
    let relay = Relay::start(server.port()).await;
    let writer = config(&server.url()).log_max_len(10).store().await.unwrap();
    let exp = now() + 600;
    writer.revoke(Rule::jti(ISS, "kept", exp)).await.unwrap();
    writer.revoke(Rule::jti(ISS, "undone", exp)).await.unwrap();
    let sync = synced(&config(&relay.url())).await;
    assert_eq!(sync.list().len(), 2);
    relay.cut();
    // While the replica is away: 500 changes and one removal, far more
    // than the log keeps, and the rest trimmed by hand for good measure.
    for i in 0..500 {
        writer.revoke(Rule::jti(ISS, format!("away-{i}"), exp)).await.unwrap();
    }
    assert!(writer.remove(&RuleId::new(ISS, RuleKind::Jti, "undone")).await.unwrap());
    let _: usize = server.conn().xtrim("{jwtgate:revocation}:log", redis::streams::StreamMaxlen::Equals(1)).unwrap();
    relay.restore();
    let v = replica(&sync);
    assert!(within(SOON, || sync.list().len() == 501).await.is_some(), "{:?}", sync.sync_status());
    assert_eq!(outcome(&v, &token("x", "away-0")), Err("revoked"));
    assert_eq!(outcome(&v, &token("x", "kept")), Err("revoked"));
    assert_eq!(outcome(&v, &token("x", "undone")), Ok(()), "the removal is not lost with the log");
    assert_eq!(sync.sync_status().full_syncs, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_sync_fails_closed_and_a_rule_written_meanwhile_is_enforced_after() {
    let Some(server) = redis_server() else { return };
    let relay = Relay::start(server.port()).await;
    let store = config(&server.url()).store().await.unwrap();
    let replicas = [synced(&config(&relay.url())).await, synced(&config(&relay.url())).await];
    let verifiers: Vec<Verifier> = replicas.iter().map(replica).collect();
    let (victim, bystander) = (token("x", "victim"), token("y", "bystander"));
    relay.cut();
    // Within the lag limit the replicas still answer.
    assert_eq!(outcome(&verifiers[0], &bystander), Ok(()));
    store.revoke(Rule::jti(ISS, "victim", now() + 600)).await.unwrap();
    for (v, sync) in verifiers.iter().zip(&replicas) {
        assert!(within(SOON, || outcome(v, &bystander) == Err("revocation_unavailable")).await.is_some());
        assert_eq!(outcome(v, &victim), Err("revocation_unavailable"));
        assert!(!sync.is_ready());
        assert_eq!(sync.sync_status().state, SyncState::OutOfSync);
        assert!(sync.sync_status().refused_out_of_sync >= 2);
    }
    relay.restore();
    for (v, sync) in verifiers.iter().zip(&replicas) {
        let back = || outcome(v, &victim) == Err("revoked") && outcome(v, &bystander) == Ok(());
        assert!(within(SOON, back).await.is_some(), "{sync:?}");
        assert!(sync.is_ready());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_open_accepts_and_counts_but_still_refuses_what_it_holds() {
    let Some(server) = redis_server() else { return };
    let relay = Relay::start(server.port()).await;
    let store = config(&server.url()).store().await.unwrap();
    store.revoke(Rule::jti(ISS, "known", now() + 600)).await.unwrap();
    let sync = synced(&config(&relay.url()).fail_open_when_out_of_sync()).await;
    let v = replica(&sync);
    relay.cut();
    assert!(within(SOON, || sync.sync_status().state == SyncState::OutOfSync).await.is_some());
    assert_eq!(outcome(&v, &token("x", "unknown")), Ok(()));
    assert_eq!(outcome(&v, &token("x", "known")), Err("revoked"));
    assert!(sync.is_ready(), "failing open keeps serving");
    assert_eq!(sync.sync_status().accepted_out_of_sync, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_never_synced_fails_closed_even_when_failing_open() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let sync = config(&format!("redis://127.0.0.1:{closed}/")).fail_open_when_out_of_sync().sync().unwrap();
    let v = replica(&sync);
    assert!(!sync.wait_ready(Duration::from_millis(700)).await);
    assert_eq!(sync.sync_status().state, SyncState::NeverSynced);
    assert_eq!(outcome(&v, &token("x", "any")), Err("revocation_unavailable"));
    assert!(sync.sync_status().errors >= 1);
    // And without a runtime there is no follower at all.
    let outside = std::thread::spawn(move || config("redis://127.0.0.1/").sync().err()).join().unwrap();
    assert!(matches!(outside, Some(StoreError::NoRuntime)));
}

/// A clock the writer's test moves.
#[derive(Debug, Clone)]
struct TestClock(Arc<AtomicI64>);

impl Clock for TestClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_expire_in_the_store_too() {
    let Some(server) = redis_server() else { return };
    let clock = TestClock(Arc::new(AtomicI64::new(now())));
    let list = RevocationConfig::new()
        .clock(clock.clone())
        .leeway(Duration::from_secs(60))
        .max_token_lifetime(Duration::from_secs(600));
    let store = config(&server.url()).list_config(list).store().await.unwrap();
    let t = clock.now();
    store.revoke(Rule::jti(ISS, "short", t + 10)).await.unwrap();
    store.revoke(Rule::subject(ISS, "alice", t)).await.unwrap();
    store.revoke(Rule::key(ISS, "leaked-key")).await.unwrap();
    let mut conn = server.conn();
    assert_eq!(conn.hlen::<_, usize>("{jwtgate:revocation}:rules").unwrap(), 3);
    // Past the jti rule's exp + leeway: listed no more, dropped at the next write.
    clock.0.store(t + 71, Ordering::SeqCst);
    assert_eq!(store.rules().await.unwrap().len(), 2);
    store.revoke(Rule::jti(ISS, "other", t + 1000)).await.unwrap();
    assert_eq!(conn.hlen::<_, usize>("{jwtgate:revocation}:rules").unwrap(), 3);
    // Past the cut-off's lifetime: only the key rule (which never expires) and "other" stay.
    clock.0.store(t + 661, Ordering::SeqCst);
    store.revoke(Rule::jti(ISS, "third", t + 2000)).await.unwrap();
    let fields: Vec<String> = conn.hkeys("{jwtgate:revocation}:rules").unwrap();
    assert_eq!(fields.len(), 3, "{fields:?}");
    assert!(fields.iter().all(|f| !f.contains("alice") && !f.contains("short")));
    assert_eq!(conn.zcard::<_, usize>("{jwtgate:revocation}:expiry").unwrap(), 2, "key rules carry no expiry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_url_or_setting_is_an_error_that_shows_no_password() {
    let err = RedisConfig::new("http://user:s3cret@host/").store().await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidUrl));
    assert!(!err.to_string().contains("s3cret"));
    let err =
        RedisConfig::new("redis://:s3cret@127.0.0.1:1/").timeout(Duration::from_millis(300)).store().await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err}");
    assert!(!err.to_string().contains("s3cret"), "{err}");
    assert!(matches!(
        config("redis://127.0.0.1/").max_lag(Duration::from_millis(150)).sync(),
        Err(StoreError::Config(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_lost_its_data_does_not_make_a_replica_forget() {
    let Some(mut server) = redis_server() else { return };
    let cfg = config(&server.url());
    let store = cfg.store().await.unwrap();
    let sync = synced(&cfg).await;
    let v = replica(&sync);
    for i in 0..20 {
        store.revoke(Rule::jti(ISS, format!("old-{i}"), now() + 600)).await.unwrap();
    }
    assert!(within(SOON, || sync.list().len() == 20).await.is_some());
    // Restarted without its data (no persistence, or a failover to a
    // replica that missed the writes), then written to again.
    server.redis.crash();
    let _: Vec<()> = std::fs::read_dir(server.dir())
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            if path.is_dir() { std::fs::remove_dir_all(path).unwrap() } else { std::fs::remove_file(path).unwrap() }
        })
        .collect();
    server.redis.restart().unwrap();
    write_until_done(|| store.revoke(Rule::jti(ISS, "new-0", now() + 600))).await;
    store.revoke(Rule::jti(ISS, "new-1", now() + 600)).await.unwrap();
    let (old, new) = (token("x", "old-7"), token("x", "new-1"));
    let both = || outcome(&v, &old) == Err("revoked") && outcome(&v, &new) == Err("revoked");
    assert!(within(SOON, both).await.is_some(), "{sync:?}");
    assert!(within(SOON, || sync.sync_status().state == SyncState::InSync).await.is_some());
    assert_eq!(sync.list().len(), 22, "the store's two and the twenty it lost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_larger_than_one_read_is_applied_whole() {
    let Some(server) = redis_server() else { return };
    let cfg = config(&server.url());
    let store = cfg.store().await.unwrap();
    let sync = synced(&cfg).await;
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..800 {
                    store.revoke(Rule::jti(ISS, format!("burst-{w}-{i}"), now() + 600)).await.unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    assert!(within(SOON, || sync.list().len() == 3200).await.is_some(), "{sync:?}");
    assert_eq!(sync.sync_status().full_syncs, 1);
}

#[test]
fn a_follower_whose_runtime_is_gone_refuses_even_when_failing_open() {
    let Some(server) = redis_server() else { return };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sync = runtime.block_on(synced(&config(&server.url()).fail_open_when_out_of_sync()));
    let v = replica(&sync);
    assert_eq!(outcome(&v, &token("x", "any")), Ok(()));
    drop(runtime);
    assert_eq!(sync.sync_status().state, SyncState::Stopped);
    assert!(!sync.is_ready());
    assert_eq!(outcome(&v, &token("x", "any")), Err("revocation_unavailable"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_with_other_rule_lifetimes_is_refused() {
    let Some(server) = redis_server() else { return };
    let first = config(&server.url()).store().await.unwrap();
    first.revoke(Rule::subject(ISS, "alice", now())).await.unwrap();
    let week = RevocationConfig::new().max_token_lifetime(Duration::from_secs(7 * 86_400));
    let err = config(&server.url()).list_config(week).store().await.unwrap_err();
    assert!(matches!(err, StoreError::LimitsMismatch { store_lifetime: 86_400, lifetime: 604_800, .. }), "{err}");
    assert!(err.to_string().contains("86400"), "{err}");
}
