//! Test issuers: real keys and tokens from the test kit (jwtgate-testkit's
//! keygen and mint, which `cargo xtask keygen`/`mint` run).
#![allow(dead_code, reason = "each test crate uses its own subset of these helpers")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

use std::future::Future;
use std::path::PathBuf;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwtgate_testkit::alg::Alg;
use jwtgate_testkit::{keygen, mint};
use jwtgate_verify::{Algorithm, FixedClock, KeyOrigin, KeySet, Scratch, Verifier, VerifierBuilder, VerifyingKey};

pub(crate) const NOW: i64 = 1_700_000_000;
pub(crate) const ISS: &str = "https://issuer.test";
pub(crate) const AUD: &str = "api.test";

pub(crate) fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).unwrap()
}

/// A fresh directory under cargo's per-target temp dir.
fn fresh_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "verify-keys-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An issuer with one key.
pub(crate) struct Issuer {
    pub(crate) alg: Alg,
    pub(crate) written: keygen::Written,
}

impl Issuer {
    pub(crate) fn new(alg: Alg) -> Self {
        Self::with_kid(alg, &format!("{}-key", alg.name().to_lowercase()))
    }

    pub(crate) fn with_kid(alg: Alg, kid: &str) -> Self {
        let req = keygen::Request { alg, bits: None, kid: Some(kid.to_owned()), out: fresh_dir(), force: false };
        Self { alg, written: keygen::run(&req).unwrap() }
    }

    pub(crate) fn kid(&self) -> &str {
        &self.written.kid
    }

    pub(crate) fn jwk_public(&self) -> String {
        let path = self.written.public_jwk.as_ref().unwrap_or(&self.written.private_jwk);
        std::fs::read_to_string(path).unwrap()
    }

    pub(crate) fn private_jwk(&self) -> String {
        std::fs::read_to_string(&self.written.private_jwk).unwrap()
    }

    pub(crate) fn public_pem(&self) -> Option<String> {
        self.written.public_pem.as_ref().map(|p| std::fs::read_to_string(p).unwrap())
    }

    pub(crate) fn private_pem(&self) -> Option<String> {
        self.written.private_pem.as_ref().map(|p| std::fs::read_to_string(p).unwrap())
    }

    /// The key as a verifier would load it: the JWKS for asymmetric keys,
    /// the (local) secret JWK for HMAC.
    pub(crate) fn keys(&self) -> KeySet {
        match &self.written.jwks {
            Some(jwks) => KeySet::from_jwks_str(&std::fs::read_to_string(jwks).unwrap(), KeyOrigin::Local).unwrap(),
            None => KeySet::new([VerifyingKey::from_jwk_str(&self.private_jwk()).unwrap()]),
        }
    }

    pub(crate) fn algorithm(&self) -> Algorithm {
        algorithm(self.alg)
    }

    /// A token with the standard test claims, adjusted by `edit`.
    pub(crate) fn mint(&self, edit: impl FnOnce(&mut mint::Request)) -> String {
        let mut req = mint::Request {
            key: self.written.private_jwk.clone(),
            iss: ISS.to_owned(),
            aud: vec![AUD.to_owned()],
            sub: "user-1".to_owned(),
            ttl: "5m".to_owned(),
            now: Some(NOW),
            typ: "at+jwt".to_owned(),
            ..mint::Request::default()
        };
        edit(&mut req);
        mint::run(&req).unwrap()
    }

    pub(crate) fn token(&self) -> String {
        self.mint(|_| {})
    }
}

/// The verifier's algorithm of a test kit algorithm. The kit has its own
/// enum because it depends on no jwtgate crate (one copy of this crate in
/// its tests); this match is the one place the two meet in these tests.
pub(crate) const fn algorithm(alg: Alg) -> Algorithm {
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

/// The standard test policy at time NOW.
pub(crate) fn builder(alg: Algorithm) -> VerifierBuilder {
    Verifier::builder().issuer(ISS).audience(AUD).algorithms([alg]).clock(FixedClock(NOW))
}

pub(crate) fn verifier_for(issuer: &Issuer) -> Verifier {
    builder(issuer.algorithm()).build(issuer.keys()).unwrap()
}

/// `Ok(())` or the rejection code.
pub(crate) fn outcome(verifier: &Verifier, token: &str) -> Result<(), &'static str> {
    let mut scratch = Scratch::new();
    verifier.verify(token, &mut scratch).map(|_| ()).map_err(|e| e.code())
}

/// Replaces the header or payload JSON of a token, keeping its signature.
pub(crate) fn with_parts(token: &str, header: Option<&str>, payload: Option<&str>) -> String {
    let mut parts = token.split('.');
    let (h, p, s) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
    let h = header.map_or_else(|| h.to_owned(), b64);
    let p = payload.map_or_else(|| p.to_owned(), b64);
    format!("{h}.{p}.{s}")
}

/// Replaces the signature of a token.
pub(crate) fn with_signature(token: &str, signature: &[u8]) -> String {
    let (input, _) = token.rsplit_once('.').unwrap();
    format!("{input}.{}", b64(signature))
}

pub(crate) fn signature_of(token: &str) -> Vec<u8> {
    unb64(token.rsplit_once('.').unwrap().1)
}

/// Polls a future that completes without waiting (the test key sources
/// refresh synchronously), so async verification needs no runtime.
pub(crate) fn ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the test source never waits"),
    }
}
