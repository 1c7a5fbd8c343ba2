//! `cargo bench -p jwtgate-revoke --bench lookup`: the cost revocation
//! adds to a request. `is_revoked` alone with 0, 10,000 and 1,000,000
//! live `jti` rules, for a token that is not revoked and one that is,
//! next to a whole HS256 verification without revocation and with it (the
//! cheapest signature check, so the share of revocation shows most).
//! The target is under 50 ns per lookup at 1,000,000 rules.
//!
//! With `redis-server` on `PATH` (started here on 127.0.0.1), two more
//! rows in the same run: the same check through a `RedisSync` that follows
//! the store (the fleet setup: one atomic load more), and the session-store
//! way of checking, one Redis `GET` per request on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "bench code")]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use jwtgate_revoke::{RedisConfig, RevocationConfig, Rule};
use jwtgate_testkit::alg::Alg;
use jwtgate_testkit::redis_server::RedisServer;
use jwtgate_testkit::{keygen, mint};
use jwtgate_verify::{Algorithm, FixedClock, KeySet, Revocation as _, Scratch, Verifier, VerifyingKey};

const NOW: i64 = 1_700_000_000;
const ISS: &str = "https://auth.example.com";
const AUD: &str = "orders-api";
/// 22 bytes, like the `jti` of a base64url-encoded 128-bit id.
const FRESH_JTI: &str = "fresh-token-jti-000001";
const REVOKED_JTI: &str = "revoked-token-jti-0001";

fn bench(crit: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let req =
        keygen::Request { alg: Alg::HS256, bits: None, kid: Some("k1".into()), out: dir.path().into(), force: false };
    let key = keygen::run(&req).unwrap();
    let jwk = std::fs::read_to_string(&key.private_jwk).unwrap();
    let keys = || KeySet::new([VerifyingKey::from_jwk_str(&jwk).unwrap()]);
    let token = |jti: &str| {
        mint::run(&mint::Request {
            key: key.private_jwk.clone(),
            iss: ISS.into(),
            aud: vec![AUD.into()],
            sub: "user-1".into(),
            client_id: Some("client-1".into()),
            ttl: "5m".into(),
            now: Some(NOW),
            typ: "at+jwt".into(),
            claims: Some(format!(r#"{{"jti":"{jti}"}}"#)),
            ..mint::Request::default()
        })
        .unwrap()
    };
    let (fresh, revoked) = (token(FRESH_JTI), token(REVOKED_JTI));
    let builder =
        || Verifier::builder().issuer(ISS).audience(AUD).algorithms([Algorithm::HS256]).clock(FixedClock(NOW));
    let plain = builder().build(keys()).unwrap();

    let mut group = crit.benchmark_group("revocation");
    let mut scratch = Scratch::new();
    group.bench_function("verify_hs256_without_revocation", |b| {
        b.iter(|| plain.verify(black_box(&fresh), &mut scratch).map(|v| v.alg()).unwrap());
    });
    for rules in [0_usize, 10_000, 1_000_000] {
        let list = RevocationConfig::new().clock(FixedClock(NOW)).build().unwrap();
        list.revoke_all((0..rules).map(|i| Rule::jti(ISS, format!("{i:022}"), NOW + 300))).unwrap();
        // With 0 rules the list stays empty: the revoked token is checked
        // against a list holding only its own rule.
        if rules > 0 {
            list.revoke(Rule::jti(ISS, REVOKED_JTI, NOW + 300)).unwrap();
        }

        let mut fresh_scratch = Scratch::new();
        let not_revoked = plain.verify(&fresh, &mut fresh_scratch).unwrap();
        group.bench_with_input(BenchmarkId::new("is_revoked/not_revoked", rules), &rules, |b, _| {
            b.iter(|| list.is_revoked(black_box(not_revoked.header()), black_box(not_revoked.claims())));
        });
        assert!(!list.is_revoked(not_revoked.header(), not_revoked.claims()));

        if rules > 0 {
            let mut revoked_scratch = Scratch::new();
            let refused = plain.verify(&revoked, &mut revoked_scratch).unwrap();
            assert!(list.is_revoked(refused.header(), refused.claims()));
            group.bench_with_input(BenchmarkId::new("is_revoked/revoked", rules), &rules, |b, _| {
                b.iter(|| list.is_revoked(black_box(refused.header()), black_box(refused.claims())));
            });
        }

        let with = builder().revocation(list.clone()).build(keys()).unwrap();
        group.bench_with_input(BenchmarkId::new("verify_hs256_with_revocation", rules), &rules, |b, _| {
            b.iter(|| with.verify(black_box(&fresh), &mut scratch).map(|v| v.alg()).unwrap());
        });
        println!("revocation: {rules} rules, {} lookups", list.stats().lookups);
    }
    fleet(&mut group, &plain, &fresh, dir.path());
    group.finish();
}

/// The fleet rows, where a `redis-server` can be started.
fn fleet(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    plain: &Verifier,
    fresh: &str,
    dir: &std::path::Path,
) {
    let redis = match RedisServer::start(&dir.join("redis")) {
        Ok(redis) => redis,
        Err(e) => {
            println!("fleet rows skipped: {e}");
            return;
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let config = RedisConfig::new(redis.url()).list_config(RevocationConfig::new().clock(FixedClock(NOW)));
    let sync = runtime.block_on(async {
        let store = config.store().await.unwrap();
        for i in 0..10_000 {
            store.revoke(Rule::jti(ISS, format!("{i:022}"), NOW + 300)).await.unwrap();
        }
        let sync = config.sync().unwrap();
        assert!(sync.wait_ready(Duration::from_secs(10)).await);
        sync
    });
    assert_eq!(sync.list().len(), 10_000);
    let mut scratch = Scratch::new();
    let not_revoked = plain.verify(fresh, &mut scratch).unwrap();
    group.bench_function(BenchmarkId::new("redis_sync_status/not_revoked", 10_000), |b| {
        b.iter(|| {
            jwtgate_verify::Revocation::status(&sync, black_box(not_revoked.header()), black_box(not_revoked.claims()))
        });
    });
    // The session-store way: ask the store on every request.
    let mut conn = redis::Client::open(redis.url()).unwrap().get_connection().unwrap();
    let _: () = redis::cmd("SET").arg(format!("revoked:{REVOKED_JTI}")).arg(1).query(&mut conn).unwrap();
    group.bench_function("redis_get_per_request", |b| {
        b.iter(|| {
            let hit: Option<u8> = redis::cmd("GET")
                .arg(black_box(concat!("revoked:", "fresh-token-jti-000001")))
                .query(&mut conn)
                .unwrap();
            hit
        });
    });
    drop(sync);
    drop(runtime);
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
