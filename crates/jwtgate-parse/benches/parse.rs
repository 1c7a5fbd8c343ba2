//! `cargo bench -p jwtgate-parse --bench parse`: parse a typical access
//! token and read the header and every standard claim.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a failed test"
)]

use std::hint::black_box;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jwtgate_parse::DEFAULT_BUFFER_LEN;
use workload::{read_everything, typical_token};

mod workload;

fn bench_parse(c: &mut Criterion) {
    let token = typical_token();
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(token.len() as u64));
    group.bench_function(format!("typical_access_token_{}B", token.len()), |b| {
        let mut buf = [0u8; DEFAULT_BUFFER_LEN];
        b.iter(|| read_everything(black_box(token.as_bytes()), &mut buf));
    });
    // Peers in the same run, for scale: the base64 crate decoding the same
    // three parts (no JSON at all), and serde_json reading the standard
    // claims into a borrowed struct from already-decoded JSON.
    group.bench_function("peer_base64_crate_decode_only", |b| {
        let mut buf = [0u8; DEFAULT_BUFFER_LEN];
        b.iter(|| {
            let mut n = 0;
            for part in black_box(token.as_str()).split('.') {
                n += URL_SAFE_NO_PAD.decode_slice(part, &mut buf).unwrap_or(0);
            }
            n
        });
    });
    group.bench_function("base64url_decode_only", |b| {
        let mut buf = [0u8; DEFAULT_BUFFER_LEN];
        b.iter(|| {
            let mut n = 0;
            for part in black_box(token.as_str()).split('.') {
                n += jwtgate_parse::base64url::decode(part.as_bytes(), &mut buf).map_or(0, <[u8]>::len);
            }
            n
        });
    });
    let payload = URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap_or_default()).unwrap_or_default();
    group.bench_function("peer_serde_json_claims_only", |b| {
        b.iter(|| serde_json::from_slice::<StandardClaims<'_>>(black_box(&payload)).map(|c| c.iss.len() + c.sub.len()));
    });
    group.finish();
}

#[derive(serde::Deserialize)]
#[allow(dead_code, reason = "fields are read by deserialization only")]
struct StandardClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
    nbf: i64,
    iat: i64,
    jti: &'a str,
    client_id: &'a str,
    scope: &'a str,
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
