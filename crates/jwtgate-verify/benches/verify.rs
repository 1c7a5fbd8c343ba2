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

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{AUD, Case, ISS, case, jwtgate, raw_primitive};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use jwtgate_verify::Scratch;
use xtask::alg::Alg;

mod common;

fn jsonwebtoken_setup(c: &Case) -> (jsonwebtoken::DecodingKey, jsonwebtoken::Validation) {
    let key = match c.alg {
        Alg::HS256 => jsonwebtoken::DecodingKey::from_secret(
            &URL_SAFE_NO_PAD.decode(c.private_jwk["k"].as_str().unwrap()).unwrap(),
        ),
        Alg::RS256 => jsonwebtoken::DecodingKey::from_rsa_pem(c.public_pem.as_ref().unwrap().as_bytes()).unwrap(),
        Alg::ES256 => jsonwebtoken::DecodingKey::from_ec_pem(c.public_pem.as_ref().unwrap().as_bytes()).unwrap(),
        _ => jsonwebtoken::DecodingKey::from_ed_pem(c.public_pem.as_ref().unwrap().as_bytes()).unwrap(),
    };
    let mut validation = jsonwebtoken::Validation::new(c.alg.name().parse().unwrap());
    validation.set_issuer(&[ISS]);
    validation.set_audience(&[AUD]);
    (key, validation)
}

#[cfg(not(feature = "aws-lc-rs"))]
const JSONWEBTOKEN_PROVIDER_NAME: &str = "rust_crypto";
#[cfg(feature = "aws-lc-rs")]
const JSONWEBTOKEN_PROVIDER_NAME: &str = "aws_lc_rs";

fn bench(crit: &mut Criterion) {
    // jsonwebtoken is built with both providers; use the one that matches
    // jwtgate's backend in this run.
    #[cfg(not(feature = "aws-lc-rs"))]
    let provider = &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;
    #[cfg(feature = "aws-lc-rs")]
    let provider = &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;
    provider.install_default().unwrap();
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

        let (key, validation) = jsonwebtoken_setup(&c);
        group.bench_function(format!("jsonwebtoken_{JSONWEBTOKEN_PROVIDER_NAME}"), |b| {
            b.iter(|| jsonwebtoken::decode::<serde_json::Value>(black_box(&c.token), &key, &validation).unwrap());
        });

        #[cfg(not(feature = "aws-lc-rs"))]
        jwt_simple(&mut group, &c);
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

/// jwt-simple (`pure-rust`) doing the same verification; only next to the
/// rustcrypto backend, the one it is comparable with.
#[cfg(not(feature = "aws-lc-rs"))]
fn jwt_simple(group: &mut BenchmarkGroup<'_, WallTime>, c: &Case) {
    use std::collections::HashSet;

    use jwt_simple::prelude::{
        ECDSAP256PublicKeyLike as _, ES256PublicKey, Ed25519PublicKey, EdDSAPublicKeyLike as _, HS256Key, MACLike as _,
        NoCustomClaims, RS256PublicKey, RSAPublicKeyLike as _, VerificationOptions,
    };

    let options = VerificationOptions {
        allowed_issuers: Some(HashSet::from([ISS.to_owned()])),
        allowed_audiences: Some(HashSet::from([AUD.to_owned()])),
        ..VerificationOptions::default()
    };
    // The same call on four key types that share no trait for it.
    macro_rules! bench_with {
        ($key:expr) => {{
            let key = $key;
            group.bench_function("jwt_simple_pure_rust", |b| {
                b.iter(|| key.verify_token::<NoCustomClaims>(black_box(&c.token), Some(options.clone())).unwrap());
            });
        }};
    }
    let pem = || c.public_pem.as_ref().unwrap();
    match c.alg {
        Alg::HS256 => {
            bench_with!(HS256Key::from_bytes(&URL_SAFE_NO_PAD.decode(c.private_jwk["k"].as_str().unwrap()).unwrap()));
        }
        Alg::RS256 => bench_with!(RS256PublicKey::from_pem(pem()).unwrap()),
        Alg::ES256 => bench_with!(ES256PublicKey::from_pem(pem()).unwrap()),
        _ => bench_with!(Ed25519PublicKey::from_pem(pem()).unwrap()),
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
