//! `cargo bench -p jwtgate-revoke --bench propagation`: how long a
//! revocation takes to reach a fleet. A `redis-server` on 127.0.0.1
//! (started here; skipped with a message where it is not installed), 8
//! replicas (8 independent `RedisSync`s, each with its own connection and
//! list, as 8 processes would have), one writer. For each of 1,000
//! revocations: the time from `RedisStore::revoke` returning to the moment
//! every replica's list refuses the token; p50, p90, p99 and max.
//!
//! Everything shares the machine's cores (the writer, Redis, the 8
//! followers' tasks and the polling thread), as on a small host; on a
//! fleet each replica has its own.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "bench code")]

use std::time::{Duration, Instant};

use jwtgate_revoke::{RedisConfig, Rule, RuleId, RuleKind};
use jwtgate_testkit::redis_server::RedisServer;

const REPLICAS: usize = 8;
const REVOCATIONS: usize = 1000;
const ISS: &str = "https://auth.example.com";

fn main() {
    // `cargo bench` passes `--bench`; a filter that is not ours skips the run.
    if std::env::args().skip(1).any(|a| !a.starts_with('-') && !"propagation".contains(a.as_str())) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let redis = match RedisServer::start(dir.path()) {
        Ok(redis) => redis,
        Err(e) => {
            println!("propagation: skipped: {e}");
            return;
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let config = RedisConfig::new(redis.url());
    let (store, replicas) = runtime.block_on(async {
        let store = config.store().await.unwrap();
        let mut replicas = Vec::new();
        for _ in 0..REPLICAS {
            let sync = config.sync().unwrap();
            assert!(sync.wait_ready(Duration::from_secs(10)).await);
            replicas.push(sync);
        }
        (store, replicas)
    });
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let exp = i64::try_from(now).unwrap() + 3600;
    let mut delays = Vec::with_capacity(REVOCATIONS);
    for i in 0..REVOCATIONS {
        let jti = format!("leaked-{i:06}");
        let id = RuleId::new(ISS, RuleKind::Jti, jti.clone());
        runtime.block_on(store.revoke(Rule::jti(ISS, jti, exp))).unwrap();
        let written = Instant::now();
        // Spin on this thread (the followers run on the runtime's workers)
        // until every replica holds the rule.
        while !replicas.iter().all(|r| r.list().get(&id).is_some()) {
            assert!(written.elapsed() < Duration::from_secs(10), "revocation {i} did not reach every replica");
            std::hint::spin_loop();
            std::thread::yield_now();
        }
        delays.push(written.elapsed());
    }
    delays.sort();
    // Nearest rank: the delay below which a share `per_mille` of them lie.
    let at = |per_mille: usize| delays[(delays.len() - 1) * per_mille / 1000];
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "propagation: {REVOCATIONS} revocations to {REPLICAS} replicas on loopback: p50 {:.0} µs, p90 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        us(at(500)),
        us(at(900)),
        us(at(990)),
        us(at(1000))
    );
    for (n, r) in replicas.iter().enumerate() {
        let status = r.sync_status();
        assert!(status.changes_applied >= REVOCATIONS as u64, "replica {n}: {status:?}");
    }
}
