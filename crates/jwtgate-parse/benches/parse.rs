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
use jwtgate_parse::{DEFAULT_BUFFER_LEN, parse};

/// A realistic HS256 access token of about 450 bytes (RFC 9068 shape).
fn typical_token() -> String {
    let header = r#"{"alg":"HS256","typ":"at+jwt","kid":"2024-11-rotation-a"}"#;
    let payload = r#"{"iss":"https://auth.example.com/realms/prod","sub":"5f1c2e9a-0d4b-4e8a-9b1f-3c2d7e6a8b90","aud":"orders-api","exp":1732277400,"nbf":1732276800,"iat":1732276800,"jti":"b1e7c3d2-98f4-4a6e-a1c0-7d5e2f3b4c6a","client_id":"checkout-service","scope":"orders:read orders:write"}"#;
    let sig = [0x5au8; 32];
    format!("{}.{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(sig))
}

fn read_everything(token: &[u8], buf: &mut [u8]) -> usize {
    let Ok(t) = parse(token, buf) else { return 0 };
    let h = t.header();
    let mut n = h.alg().raw().len() + h.kid().map_or(0, |k| k.raw().len()) + h.typ().map_or(0, |k| k.raw().len());
    if let Ok(c) = t.claims() {
        n += c.iss().map_or(0, |s| s.raw().len());
        n += c.sub().map_or(0, |s| s.raw().len());
        n += c.aud().map_or(0, |a| usize::from(a.contains("orders-api")));
        n += c.exp().map_or(0, |d| d.floor().count_ones() as usize);
        n += c.nbf().map_or(0, |d| d.floor().count_ones() as usize);
        n += c.iat().map_or(0, |d| d.floor().count_ones() as usize);
        n += c.jti().map_or(0, |s| s.raw().len());
        n += c.client_id().map_or(0, |s| s.raw().len());
        n += c.scope().map_or(0, |s| s.len());
    }
    n + t.signature().len()
}

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
