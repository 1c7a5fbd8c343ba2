//! The hot path of a JWKS-backed verifier: taking the current key set
//! (lock-free) and finding a key by `kid`, with a fresh set of 10 keys
//! fetched once from a loopback server.
//!
//! `cargo bench -p jwtgate-jwks --bench resolve`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "bench code")]
#![allow(missing_docs, reason = "criterion's macros generate undocumented items")]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use jwtgate_jwks::JwksConfig;
use jwtgate_testkit::alg::Alg;
use jwtgate_verify::KeyResolver;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Answers every connection with `body` as a fresh (1 h) JSON document.
async fn serve(body: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf).await;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncache-control: max-age=3600\r\ncontent-length: \
                 {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(body.as_bytes()).await;
        }
    });
    format!("http://{addr}/jwks.json")
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut jwks = None;
    for i in 0..10 {
        let written = jwtgate_testkit::keygen::run(&jwtgate_testkit::keygen::Request {
            alg: if i % 2 == 0 { Alg::ES256 } else { Alg::EdDSA },
            bits: None,
            kid: Some(format!("k-{i}")),
            out: dir.path().into(),
            force: false,
        })
        .unwrap();
        jwks = written.jwks;
    }
    let body = std::fs::read_to_string(jwks.unwrap()).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let source = runtime.block_on(async {
        let url = serve(body).await;
        let source = JwksConfig::new(url).allow_insecure_loopback().build().unwrap();
        assert_eq!(source.fetch_now().await.unwrap(), 10);
        source
    });
    // Inside the runtime, as in a service (the stale check may spawn).
    let _guard = runtime.enter();

    let mut group = c.benchmark_group("resolve");
    group.bench_function("current", |b| b.iter(|| black_box(source.current().unwrap().len())));
    group.bench_function("current + find kid (10 keys)", |b| {
        b.iter(|| {
            let keys = source.current().unwrap();
            black_box(keys.keys().iter().position(|k| k.kid() == Some(black_box("k-7"))))
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
