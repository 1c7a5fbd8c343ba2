//! What the middleware adds to a request beyond verifying its token: the
//! same request through a trivial service with and without the layer, next
//! to the bare `Verifier::verify`, for HS256 (cheapest signature, so the
//! layer's share shows most) and EdDSA.
//!
//! `cargo bench -p jwtgate-hyper --bench layer`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "bench code")]

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, Response, header::AUTHORIZATION};
use jwtgate_hyper::JwtAuthLayer;
use jwtgate_testkit::alg::Alg;
use jwtgate_testkit::{keygen, mint};
use jwtgate_verify::{Algorithm, KeySet, Scratch, Verifier, VerifyingKey};
use tower::{Layer, Service, service_fn};

/// Every future here is ready on its first poll (no I/O), so polling once
/// with a no-op waker measures the work and nothing of an executor.
fn now<F: Future>(f: F) -> F::Output {
    match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the bench services never wait"),
    }
}

/// The verifier's algorithm of a test kit algorithm (the kit has its own
/// enum: it depends on no jwtgate crate).
const fn algorithm(alg: Alg) -> Algorithm {
    match alg {
        Alg::HS256 => Algorithm::HS256,
        Alg::HS384 => Algorithm::HS384,
        Alg::HS512 => Algorithm::HS512,
        Alg::RS256 => Algorithm::RS256,
        Alg::RS384 => Algorithm::RS384,
        Alg::RS512 => Algorithm::RS512,
        Alg::PS256 => Algorithm::PS256,
        Alg::PS384 => Algorithm::PS384,
        Alg::PS512 => Algorithm::PS512,
        Alg::ES256 => Algorithm::ES256,
        Alg::ES384 => Algorithm::ES384,
        Alg::ES512 => Algorithm::ES512,
        Alg::EdDSA => Algorithm::EdDSA,
    }
}

fn request(token: &str) -> Request<String> {
    Request::builder().uri("/orders").header(AUTHORIZATION, format!("Bearer {token}")).body(String::new()).unwrap()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    for alg in [Alg::HS256, Alg::RS256, Alg::ES256, Alg::EdDSA] {
        let keys =
            keygen::run(&keygen::Request { alg, bits: None, kid: None, out: dir.path().into(), force: true }).unwrap();
        let token = mint::run(&mint::Request {
            key: keys.private_jwk.clone(),
            iss: "https://issuer.test".into(),
            aud: vec!["orders".into()],
            sub: "alice".into(),
            ttl: "1h".into(),
            claims: Some(r#"{"scope":"orders:read orders:write","tenant":"acme"}"#.into()),
            ..Default::default()
        })
        .unwrap();
        // HMAC secrets live only in the private JWK; public keys in the JWKS.
        let jwk_path = if alg == Alg::HS256 { &keys.private_jwk } else { keys.public_jwk.as_ref().unwrap() };
        let jwk = std::fs::read_to_string(jwk_path).unwrap();
        let verifier = || {
            Verifier::builder()
                .issuer("https://issuer.test")
                .audience("orders")
                .algorithms([algorithm(alg)])
                .build(KeySet::new([VerifyingKey::from_jwk_str(&jwk).unwrap()]))
                .unwrap()
        };
        let handler = service_fn(|_: Request<String>| async { Ok::<_, Infallible>(Response::new(String::new())) });
        let mut bare = handler;
        let mut layered = JwtAuthLayer::new(verifier()).layer(handler);
        let mut typed = JwtAuthLayer::new(verifier()).claims::<serde::de::IgnoredAny>().layer(handler);
        let plain = verifier();

        let mut group = c.benchmark_group(format!("layer/{}", alg.name()));
        group.bench_function("verify only", |b| {
            let mut scratch = Scratch::new();
            b.iter(|| plain.verify(&token, &mut scratch).unwrap().alg());
        });
        group.bench_function("service without layer", |b| {
            b.iter(|| now(bare.call(request(&token))).unwrap().status());
        });
        group.bench_function("service with layer (JSON map claims)", |b| {
            b.iter(|| {
                let r = now(layered.call(request(&token))).unwrap();
                assert_eq!(r.status(), 200);
            });
        });
        group.bench_function("service with layer (no custom claims)", |b| {
            b.iter(|| {
                let r = now(typed.call(request(&token))).unwrap();
                assert_eq!(r.status(), 200);
            });
        });
        group.finish();
        mixed(c, alg, &keys.private_jwk, &verifier);
    }
}

/// The token cache through the middleware: 100 callers, each reusing its
/// own token, requests taking turns (what a busy service sees); cache on
/// and off. Criterion reports requests/s; one timed run of 100,000
/// requests each way is printed as well.
fn mixed(c: &mut Criterion, alg: Alg, key: &std::path::Path, verifier: &dyn Fn() -> Verifier) {
    let tokens: Vec<String> = (0..100)
        .map(|i| {
            mint::run(&mint::Request {
                key: key.to_path_buf(),
                iss: "https://issuer.test".into(),
                aud: vec!["orders".into()],
                sub: format!("caller-{i}"),
                ttl: "1h".into(),
                claims: Some(r#"{"scope":"orders:read"}"#.into()),
                ..Default::default()
            })
            .unwrap()
        })
        .collect();
    let handler = service_fn(|_: Request<String>| async { Ok::<_, Infallible>(Response::new(String::new())) });
    let mut off = JwtAuthLayer::new(verifier()).claims::<serde::de::IgnoredAny>().layer(handler);
    let cache_layer = JwtAuthLayer::new(verifier()).claims::<serde::de::IgnoredAny>().token_cache(1000);
    let mut on = cache_layer.clone().layer(handler);
    let mut group = c.benchmark_group(format!("mixed_100_tokens/{}", alg.name()));
    group.throughput(criterion::Throughput::Elements(1));
    for (name, service) in [("token_cache_off", &mut off), ("token_cache_on", &mut on)] {
        let mut n = 0usize;
        group.bench_function(name, |b| {
            b.iter(|| {
                n = (n + 1) % tokens.len();
                let r = now(service.call(request(&tokens[n]))).unwrap();
                assert_eq!(r.status(), 200);
            });
        });
        let started = std::time::Instant::now();
        for i in 0..100_000 {
            let r = now(service.call(request(&tokens[i % tokens.len()]))).unwrap();
            assert_eq!(r.status(), 200);
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "mixed_100_tokens/{}/{name}: 100000 requests in {secs:.3} s = {:.0} requests/s",
            alg.name(),
            100_000.0 / secs
        );
    }
    group.finish();
    let stats = cache_layer.token_cache_stats().unwrap();
    println!("token cache: {stats:?}");
}

criterion_group!(benches, bench);
criterion_main!(benches);
