//! Every decision is logged with its code, alg and kid; no log line ever
//! contains the token, a signature, or a claim value of a rejected token.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

mod common;

use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{Issuer, ready, verifier_for};
use jwtgate_testkit::alg::Alg;
use jwtgate_verify::{Error, KeyQuery, KeyResolver, KeySet, Scratch};

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

fn capturing(level: tracing::Level) -> (Captured, impl tracing::Subscriber) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber =
        tracing_subscriber::fmt().with_max_level(level).with_ansi(false).with_writer(move || writer.clone()).finish();
    (captured, subscriber)
}

#[test]
fn decisions_are_logged_without_tokens_or_claim_values() {
    let (captured, subscriber) = capturing(tracing::Level::DEBUG);
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
    assert!(logs.contains("token verified") && logs.contains("kid=log-kid"), "{logs}");
    assert!(logs.contains("code=\"invalid_issuer\"") || logs.contains("code=invalid_issuer"), "{logs}");
    assert!(logs.contains("bad_signature") && logs.contains("malformed"), "{logs}");
    assert!(logs.contains("alg=ES256"), "{logs}");
    for secret in ["SECRET", &good[..40], &good[good.len() - 40..], &wrong_iss[..40], "c2lnbmF0dXJl"] {
        assert!(!logs.contains(secret), "logs leak {secret:?}:\n{logs}");
    }
    assert_eq!(logs.lines().count(), 4, "one event per decision:\n{logs}");
}

/// A key source that has no keys until it is asked to refresh.
struct Refreshing {
    now: Mutex<KeySet>,
    later: KeySet,
}

impl KeyResolver for Refreshing {
    type Keys<'a> = Box<KeySet>;

    const REFRESHES: bool = true;

    fn current(&self) -> Result<Box<KeySet>, Error> {
        Ok(Box::new(self.now.lock().unwrap().clone()))
    }

    fn refresh(&self, _: KeyQuery<'_>) -> impl Future<Output = Result<(), Error>> + Send {
        *self.now.lock().unwrap() = self.later.clone();
        std::future::ready(Ok(()))
    }
}

fn logs_of(level: tracing::Level, run: impl FnOnce()) -> String {
    let (captured, subscriber) = capturing(level);
    tracing::subscriber::with_default(subscriber, run);
    String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
}

#[test]
fn a_miss_a_refresh_can_fix_is_not_logged_as_a_rejection() {
    let issuer = Issuer::with_kid(Alg::ES256, "rotated-in");
    let later = Issuer::with_kid(Alg::ES256, "later");
    let token = issuer.token();
    let refreshing = |later: KeySet| {
        let source = Refreshing { now: Mutex::new(KeySet::default()), later };
        common::builder(jwtgate_verify::Algorithm::ES256).build(source).unwrap()
    };

    // What the middleware does: the keys in hand first, then a refresh
    // that finds the key. Nothing at info: the token was accepted.
    let v = refreshing(issuer.keys());
    let logs = logs_of(tracing::Level::INFO, || {
        let mut scratch = Scratch::new();
        assert_eq!(v.verify_before_refresh(&token, &mut scratch).unwrap_err().code(), "key_not_found");
        let mut scratch = Scratch::new();
        assert!(ready(v.verify_async(&token, &mut scratch)).is_ok());
    });
    assert_eq!(logs, "", "an accepted token leaves no info-level rejection");
    // The provisional miss is there at debug, without the token.
    let v = refreshing(issuer.keys());
    let logs = logs_of(tracing::Level::DEBUG, || {
        let _ = v.verify_before_refresh(&token, &mut Scratch::new());
    });
    assert!(logs.contains("a refresh of the key source may find one") && logs.contains("kid=rotated-in"), "{logs}");
    assert!(!logs.contains(&token[..40]) && !logs.contains(&token[token.len() - 40..]), "{logs}");

    // A refresh that does not help ends in a rejection logged at info.
    let v = refreshing(later.keys());
    let logs = logs_of(tracing::Level::INFO, || {
        let _ = v.verify_before_refresh(&token, &mut Scratch::new());
        assert_eq!(ready(v.verify_async(&token, &mut Scratch::new())).unwrap_err().code(), "key_not_found");
    });
    assert_eq!(logs.matches("token rejected").count(), 1, "{logs}");

    // Plain `verify` is a final answer whatever the source: logged at info.
    let v = refreshing(issuer.keys());
    let logs = logs_of(tracing::Level::INFO, || {
        let _ = v.verify(&token, &mut Scratch::new());
    });
    assert!(logs.contains("token rejected") && logs.contains("key_not_found"), "{logs}");
}
