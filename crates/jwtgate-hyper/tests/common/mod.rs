//! Keys, tokens and a handler shared by the middleware tests.

#![allow(dead_code, reason = "each test binary uses a different part")]

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use http::{Request, Response};
use jwtgate_hyper::{RegisteredClaims, VerifiedClaims};
use jwtgate_testkit::alg::Alg;
use jwtgate_testkit::{keygen, mint};
use jwtgate_verify::{Algorithm, KeyOrigin, KeySet, Verifier};

pub(crate) const ISS: &str = "https://issuer.test";
pub(crate) const AUD: &str = "orders";

/// Two signing keys (EdDSA `ed`, ES256 `ec`) in a temporary directory.
pub(crate) struct Keys {
    _dir: tempfile::TempDir,
    pub(crate) ed: PathBuf,
    pub(crate) ec: PathBuf,
    pub(crate) jwks: String,
}

impl Keys {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let make = |alg, kid: &str| {
            keygen::run(&keygen::Request {
                alg,
                bits: None,
                kid: Some(kid.into()),
                out: dir.path().into(),
                force: false,
            })
            .unwrap()
        };
        let ed = make(Alg::EdDSA, "ed");
        let ec = make(Alg::ES256, "ec");
        let jwks = std::fs::read_to_string(ec.jwks.as_ref().unwrap()).unwrap();
        Self { ed: ed.private_jwk, ec: ec.private_jwk, jwks, _dir: dir }
    }

    pub(crate) fn key_set(&self) -> KeySet {
        KeySet::from_jwks_str(&self.jwks, KeyOrigin::Local).unwrap()
    }

    pub(crate) fn verifier(&self) -> Verifier {
        Verifier::builder()
            .issuer(ISS)
            .audience(AUD)
            .algorithms([Algorithm::EdDSA, Algorithm::ES256])
            .build(self.key_set())
            .unwrap()
    }

    /// A valid EdDSA token with extra claims (a JSON object, or "").
    pub(crate) fn token(&self, claims: &str) -> String {
        self.mint(&self.ed, claims, "5m")
    }

    pub(crate) fn mint(&self, key: &std::path::Path, claims: &str, ttl: &str) -> String {
        mint::run(&mint::Request {
            key: key.to_owned(),
            iss: ISS.into(),
            aud: vec![AUD.into()],
            sub: "alice".into(),
            ttl: ttl.into(),
            claims: (!claims.is_empty()).then(|| claims.to_owned()),
            ..Default::default()
        })
        .unwrap()
    }
}

/// Counts calls; answers `sub=<sub> user=<x-user-id header> scopes=<n>`.
#[derive(Clone, Default)]
pub(crate) struct Handler(pub(crate) Arc<AtomicUsize>);

impl Handler {
    pub(crate) fn calls(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    pub(crate) fn answer<B>(&self, req: &Request<B>) -> Response<String> {
        self.0.fetch_add(1, Ordering::SeqCst);
        let sub = req.extensions().get::<VerifiedClaims>().and_then(|c| c.registered().subject().map(str::to_owned));
        let scopes = req.extensions().get::<RegisteredClaims>().map_or(0, |c| c.scopes().count());
        let user = req.headers().get("x-user-id").map(|v| v.to_str().unwrap().to_owned());
        Response::new(format!(
            "sub={} user={} scopes={scopes}",
            sub.as_deref().unwrap_or("-"),
            user.as_deref().unwrap_or("-")
        ))
    }
}

/// The events logged on this thread while its guard lives, one line each:
/// `LEVEL message=... field=value ...`. A small subscriber of our own, so
/// the crate needs no `tracing-subscriber` for its tests. Tests run on
/// tokio's current-thread runtime, so every task logs on the test thread.
#[derive(Clone, Default)]
pub(crate) struct Logs(Arc<Mutex<String>>);

impl Logs {
    pub(crate) fn capture() -> (Self, tracing::subscriber::DefaultGuard) {
        let logs = Self::default();
        let guard = tracing::subscriber::set_default(logs.clone());
        (logs, guard)
    }

    pub(crate) fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }
}

impl tracing::Subscriber for Logs {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }

    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let mut line = event.metadata().level().to_string();
        event.record(&mut Line(&mut line));
        line.push('\n');
        self.0.lock().unwrap().push_str(&line);
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

struct Line<'a>(&'a mut String);

impl tracing::field::Visit for Line<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}
