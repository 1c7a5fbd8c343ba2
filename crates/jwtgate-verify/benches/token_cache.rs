//! `cargo bench -p jwtgate-verify --bench token_cache [--features aws-lc-rs]`:
//! a token the verifier has seen (a cache hit) next to the fresh
//! verification of the same token, and next to the floor: a plain
//! `HashMap<String, _>` lookup of the same token (std's SipHash, the map
//! any service would reach for). One realistic ~500-byte access token per
//! algorithm, on the backend of this build.
//!
//! A hit still does real work: the keyed hash and a byte-for-byte compare
//! of the whole token, the key-set check, copying the decoded JSON into the
//! scratch buffer, and every claim check again (time, issuer, audience).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "bench code")]

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

use common::{AUD, ISS, case};
use criterion::{Criterion, criterion_group, criterion_main};
use jwtgate_testkit::alg::Alg;
use jwtgate_verify::{KeyOrigin, KeySet, Scratch, Verifier};

mod common;

fn bench(crit: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    for alg in [Alg::HS256, Alg::RS256, Alg::ES256, Alg::EdDSA] {
        let c = case(alg, dir.path());
        let keys = || KeySet::from_jwks_str(&c.jwks, KeyOrigin::Local).unwrap();
        let build = |cache: bool| {
            let b = Verifier::builder().issuer(ISS).audience(AUD).algorithms([c.algorithm()]);
            if cache { b.token_cache(10_000) } else { b }.build(keys()).unwrap()
        };
        let mut group = crit.benchmark_group(format!("token_cache/{}", alg.name()));
        println!("token_cache/{}: token of {} bytes", alg.name(), c.token.len());

        let cached = build(true);
        let mut scratch = Scratch::new();
        cached.verify(&c.token, &mut scratch).unwrap();
        group.bench_function("jwtgate_cache_hit", |b| {
            b.iter(|| cached.verify(black_box(&c.token), &mut scratch).map(|v| v.alg()).unwrap());
        });

        let fresh = build(false);
        group.bench_function("jwtgate_fresh_verify", |b| {
            b.iter(|| fresh.verify(black_box(&c.token), &mut scratch).map(|v| v.alg()).unwrap());
        });

        let mut map: HashMap<String, u64> = HashMap::new();
        map.insert(c.token.clone(), 1);
        for i in 0..1000 {
            map.insert(format!("{}{i}", c.token), i);
        }
        group.bench_function("hashmap_string_lookup", |b| {
            b.iter(|| *map.get(black_box(c.token.as_str())).unwrap());
        });
        group.finish();
        assert!(cached.token_cache().unwrap().stats().hits > 0);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
