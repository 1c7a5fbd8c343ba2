//! `cargo bench -p jwtgate-verify --bench verify`: one realistic access
//! token per algorithm, keys parsed once, next to the bare signature
//! primitive of the same backend on the same input and the peers doing the
//! same verification (signature, iss, aud, exp).
//!
//! The crypto backend decides the comparison: with the default `rustcrypto`
//! the bare primitive is RustCrypto's and the peers are jsonwebtoken on its
//! `rust_crypto` provider and jwt-simple `pure-rust`; with `--features
//! aws-lc-rs` the bare primitive is aws-lc-rs's and the peer is jsonwebtoken
//! on its `aws_lc_rs` provider (jwt-simple has no aws-lc backend).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "bench code")]

use std::hint::black_box;
use std::time::Duration;

use common::{Case, case, install_jsonwebtoken_provider, jwtgate, peers, raw_primitive};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use jwtgate_testkit::alg::Alg;
use jwtgate_verify::Scratch;

mod common;

fn bench(crit: &mut Criterion) {
    install_jsonwebtoken_provider();
    let dir = tempfile::tempdir().unwrap();
    for alg in [Alg::HS256, Alg::RS256, Alg::ES256, Alg::EdDSA] {
        let c = case(alg, dir.path());
        let mut group = crit.benchmark_group(format!("verify/{}", alg.name()));

        let verifier = jwtgate(&c);
        let mut scratch = Scratch::new();
        group.bench_function("jwtgate", |b| {
            b.iter(|| verifier.verify(black_box(&c.token), &mut scratch).map(|v| v.alg()).unwrap());
        });

        let mut raw = raw_primitive(&c);
        group.bench_function("raw_primitive", |b| b.iter(&mut raw));
        parse_parts(&mut group, &c);

        for (name, mut peer) in peers(&c) {
            group.bench_function(name, |b| b.iter(&mut peer));
        }
        group.finish();
    }
}

/// What `jwtgate` spends besides the signature, measured in the same run:
/// the strict parse on its own (split, base64url, both JSON documents,
/// duplicate check, claim views), and for HS256, whose primitive is cheap
/// enough for the split to matter, the base64url decoding alone, which no
/// verifier can skip.
fn parse_parts(group: &mut BenchmarkGroup<'_, WallTime>, c: &Case) {
    let mut buf = [0u8; jwtgate_parse::DEFAULT_BUFFER_LEN];
    group.bench_function("jwtgate_parse_only", |b| {
        b.iter(|| {
            let token = jwtgate_parse::parse(black_box(c.token.as_bytes()), &mut buf).unwrap();
            token.claims().unwrap().exp().unwrap().floor()
        });
    });
    if c.alg == Alg::HS256 {
        group.bench_function("base64url_decode_only", |b| {
            b.iter(|| {
                black_box(c.token.as_str())
                    .split('.')
                    .map(|part| jwtgate_parse::base64url::decode(part.as_bytes(), &mut buf).unwrap().len())
                    .sum::<usize>()
            });
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
