//! Every decision is logged with its code, alg and kid; no log line ever
//! contains the token, a signature, or a claim value of a rejected token.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{Issuer, verifier_for};
use jwtgate_verify::Scratch;
use xtask::alg::Alg;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn decisions_are_logged_without_tokens_or_claim_values() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let issuer = Issuer::with_kid(Alg::ES256, "log-kid");
    let v = verifier_for(&issuer);
    let good = issuer.token();
    let wrong_iss = issuer.mint(|r| {
        r.iss = "https://SECRET-ISSUER.test".into();
        r.sub = "SECRET-SUBJECT".into();
    });
    let forged = format!("{}.c2lnbmF0dXJl", good.rsplit_once('.').unwrap().0);
    tracing::subscriber::with_default(subscriber, || {
        for token in [&good, &wrong_iss, &forged, &"garbage".to_owned()] {
            let mut scratch = Scratch::new();
            let _ = v.verify(token, &mut scratch);
        }
    });
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("token accepted") && logs.contains("kid=log-kid"), "{logs}");
    assert!(logs.contains("code=\"invalid_issuer\"") || logs.contains("code=invalid_issuer"), "{logs}");
    assert!(logs.contains("bad_signature") && logs.contains("malformed"), "{logs}");
    assert!(logs.contains("alg=ES256"), "{logs}");
    for secret in ["SECRET", &good[..40], &good[good.len() - 40..], &wrong_iss[..40], "c2lnbmF0dXJl"] {
        assert!(!logs.contains(secret), "logs leak {secret:?}:\n{logs}");
    }
    assert_eq!(logs.lines().count(), 4, "one event per decision:\n{logs}");
}
