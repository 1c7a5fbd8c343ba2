//! The test harness: a real HTTP server on 127.0.0.1 that answers what a
//! test tells it, an issuer with real keys and tokens from the test kit,
//! and a log capture.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    dead_code,
    unreachable_pub,
    reason = "test code; each test binary uses part of the harness"
)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use jwtgate_jwks::{JwksConfig, JwksSource};
use jwtgate_testkit::alg::Alg;
use jwtgate_testkit::{keygen, mint};
use jwtgate_verify::{Algorithm, Scratch, Verifier};

/// What the test server answers.
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
    pub delay: Duration,
    /// Answer 404 to paths containing this.
    pub missing: Option<&'static str>,
    /// Paths requested, in order.
    pub seen: Vec<String>,
}

pub struct Server {
    pub addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    pub reply: Arc<Mutex<Reply>>,
}

impl Server {
    pub async fn start(body: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let reply = Arc::new(Mutex::new(Reply {
            status: 200,
            body,
            headers: Vec::new(),
            delay: Duration::ZERO,
            missing: None,
            seen: Vec::new(),
        }));
        let (h, r) = (hits.clone(), reply.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let (h, r) = (h.clone(), r.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                        let (h, r) = (h.clone(), r.clone());
                        async move {
                            h.fetch_add(1, Ordering::SeqCst);
                            r.lock().unwrap().seen.push(req.uri().path().to_owned());
                            let reply = r.lock().unwrap().clone();
                            if reply.missing.is_some_and(|m| req.uri().path().contains(m)) {
                                return Ok::<_, Infallible>(
                                    Response::builder().status(404).body(Full::new(Bytes::new())).unwrap(),
                                );
                            }
                            tokio::time::sleep(reply.delay).await;
                            let etag = reply.headers.iter().find(|(k, _)| *k == "etag").map(|(_, v)| v.clone());
                            let inm =
                                req.headers().get("if-none-match").and_then(|v| v.to_str().ok()).map(str::to_owned);
                            let mut builder = Response::builder();
                            for (k, v) in &reply.headers {
                                builder = builder.header(*k, v);
                            }
                            let response = if etag.is_some() && etag == inm {
                                builder.status(304).body(Full::new(Bytes::new()))
                            } else {
                                builder.status(reply.status).body(Full::new(Bytes::from(reply.body)))
                            };
                            Ok::<_, Infallible>(response.unwrap())
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { addr, hits, reply }
    }

    pub fn url(&self) -> String {
        format!("http://{}/jwks.json", self.addr)
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    pub fn set(&self, edit: impl FnOnce(&mut Reply)) {
        edit(&mut self.reply.lock().unwrap());
    }
}

pub struct Issuer {
    _dir: tempfile::TempDir,
    pub keys: Vec<keygen::Written>,
}

impl Issuer {
    pub fn new(kids: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let keys = kids
            .iter()
            .map(|kid| {
                keygen::run(&keygen::Request {
                    alg: Alg::ES256,
                    bits: None,
                    kid: Some((*kid).into()),
                    out: dir.path().into(),
                    force: false,
                })
                .unwrap()
            })
            .collect();
        Self { _dir: dir, keys }
    }

    /// A JWKS with the public keys of the given kids only.
    pub fn jwks(&self, kids: &[&str]) -> String {
        let keys: Vec<serde_json::Value> = self
            .keys
            .iter()
            .filter(|k| kids.contains(&k.kid.as_str()))
            .map(|k| serde_json::from_str(&std::fs::read_to_string(k.public_jwk.as_ref().unwrap()).unwrap()).unwrap())
            .collect();
        serde_json::json!({ "keys": keys }).to_string()
    }

    pub fn token(&self, kid: &str) -> String {
        let key = self.keys.iter().find(|k| k.kid == kid).unwrap();
        mint::run(&mint::Request {
            key: key.private_jwk.clone(),
            iss: "https://issuer.test".into(),
            aud: vec!["api".into()],
            sub: "s".into(),
            ttl: "5m".into(),
            ..Default::default()
        })
        .unwrap()
    }
}

pub fn config(server: &Server) -> JwksConfig {
    JwksConfig::new(server.url())
        .allow_insecure_loopback()
        .cooldown(Duration::from_secs(1))
        .timeouts(Duration::from_secs(5), Duration::from_secs(2))
}

/// [`config`] for a set that goes stale one second after each fetch, with
/// no background task: what the staleness tests need.
pub fn stale_after_a_second(server: &Server) -> JwksConfig {
    config(server).min_ttl(Duration::from_secs(1)).default_ttl(Duration::from_secs(1)).background_refresh(false)
}

pub fn verifier(source: JwksSource) -> Verifier<JwksSource> {
    Verifier::builder()
        .issuer("https://issuer.test")
        .audience("api")
        .algorithms([Algorithm::ES256])
        .build(source)
        .unwrap()
}

pub async fn code(v: &Verifier<JwksSource>, token: &str) -> Result<(), &'static str> {
    let mut scratch = Scratch::new();
    v.verify_async(token, &mut scratch).await.map(|_| ()).map_err(|e| e.code())
}

/// A token for `kid` that no key signed (the flood an attacker can send).
pub fn with_kid(issuer: &Issuer, kid: &str) -> String {
    let header = format!(r#"{{"alg":"ES256","kid":"{kid}"}}"#);
    format!("{}.{}", jwtgate_testkit::jwk::b64(header), issuer.token("k").split_once('.').unwrap().1)
}

/// Everything logged while it is the default subscriber (this thread; a
/// current-thread runtime runs spawned tasks here too), at debug and up.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    /// Captures this thread's events until the guard drops.
    pub fn capture() -> (Self, tracing::subscriber::DefaultGuard) {
        let logs = Self::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .finish();
        (logs.clone(), tracing::subscriber::set_default(subscriber))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Self;

    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

/// An address on 127.0.0.1 nothing listens on: bind, take it, close.
pub async fn closed_port() -> SocketAddr {
    tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap()
}
