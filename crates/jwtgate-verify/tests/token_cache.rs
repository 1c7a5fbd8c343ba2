//! The verified-token cache: what it may answer, and when it must stop.
//! Real keys and tokens (the test kit), real signature checks on every miss.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

mod common;

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

use common::{AUD, ISS, Issuer, NOW, builder, with_signature};
use jwtgate_testkit::alg::Alg;
use jwtgate_verify::{
    Algorithm, Claims, Clock, Error, Header, KeyResolver, KeySet, Revocation, Scratch, TokenCache, Verifier,
};

/// A clock the test moves.
#[derive(Debug, Clone)]
struct TestClock(Arc<AtomicI64>);

impl TestClock {
    fn at(now: i64) -> Self {
        Self(Arc::new(AtomicI64::new(now)))
    }

    fn set(&self, now: i64) {
        self.0.store(now, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Revokes everything once switched on.
#[derive(Debug, Clone, Default)]
struct Switch(Arc<AtomicBool>);

impl Revocation for Switch {
    fn is_revoked(&self, _header: &Header<'_>, _claims: &Claims<'_>) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// A key source whose set the test replaces (a JWKS refresh, a rotation).
#[derive(Debug)]
struct Rotating(RwLock<KeySet>);

impl KeyResolver for Rotating {
    type Keys<'a> = RwLockReadGuard<'a, KeySet>;

    fn current(&self) -> Result<Self::Keys<'_>, Error> {
        Ok(self.0.read().unwrap())
    }
}

fn check<R: KeyResolver>(v: &Verifier<R>, token: &str) -> Result<(), &'static str> {
    let mut scratch = Scratch::new();
    v.verify(token, &mut scratch).map(|_| ()).map_err(|e| e.code())
}

fn stats<R: KeyResolver>(v: &Verifier<R>) -> jwtgate_verify::TokenCacheStats {
    v.token_cache().unwrap().stats()
}

#[test]
fn a_hit_answers_the_same_view_as_a_fresh_check() {
    for alg in [Alg::HS256, Alg::RS256, Alg::ES256, Alg::EdDSA] {
        let issuer = Issuer::new(alg);
        let fresh = builder(issuer.algorithm()).build(issuer.keys()).unwrap();
        let cached = builder(issuer.algorithm()).token_cache(16).build(issuer.keys()).unwrap();
        let token =
            issuer.mint(|r| r.claims = Some(r#"{"scope":"a b","tenant":"acme","n":[1,{"x":"\u00e9"}]}"#.into()));
        let (mut s1, mut s2, mut s3) = (Scratch::new(), Scratch::new(), Scratch::new());
        let want = fresh.verify(&token, &mut s1).unwrap();
        let first = cached.verify(&token, &mut s2).unwrap();
        let hit = cached.verify(&token, &mut s3).unwrap();
        assert_eq!(stats(&cached).hits, 1, "{alg}");
        for got in [first, hit] {
            assert_eq!(got.alg(), want.alg());
            assert_eq!(got.header().json(), want.header().json());
            assert_eq!(got.kid(), want.kid());
            assert_eq!(got.claims().json(), want.claims().json());
            assert_eq!(got.claims().iss(), want.claims().iss());
            assert_eq!(got.subject(), want.subject());
            assert_eq!(got.claims().exp(), want.claims().exp());
            assert_eq!(got.claims().aud().unwrap().iter().collect::<Vec<_>>(), [AUD]);
            assert_eq!(
                got.claims().scope().unwrap().iter().collect::<Vec<_>>(),
                want.claims().scope().unwrap().iter().collect::<Vec<_>>()
            );
            assert_eq!(got.claims().get("tenant").unwrap().as_json(), "\"acme\"");
            let typed: serde_json::Value = got.claims_as().unwrap();
            assert_eq!(typed, want.claims_as::<serde_json::Value>().unwrap());
        }
    }
}

#[test]
fn a_cached_token_stops_verifying_the_moment_it_expires() {
    let issuer = Issuer::new(Alg::ES256);
    let clock = TestClock::at(NOW);
    let v = builder(issuer.algorithm())
        .clock(clock.clone())
        .leeway(Duration::from_secs(10))
        .token_cache(16)
        .build(issuer.keys())
        .unwrap();
    let token = issuer.mint(|r| r.ttl = "60s".into());
    assert_eq!(check(&v, &token), Ok(()));
    clock.set(NOW + 69);
    assert_eq!(check(&v, &token), Ok(()));
    assert_eq!(stats(&v).hits, 1);
    // exp (NOW + 60) plus the 10 s leeway: from here on, refused.
    clock.set(NOW + 70);
    assert_eq!(check(&v, &token), Err("expired"));
    assert_eq!(stats(&v).entries, 0, "the entry is gone with its token");
    // A clock that goes back does not bring it back from the cache.
    clock.set(NOW + 1);
    assert_eq!(check(&v, &token), Ok(()));
    assert_eq!(stats(&v).hits, 1);
}

#[test]
fn the_time_checks_run_again_on_every_hit() {
    let issuer = Issuer::new(Alg::HS256);
    let clock = TestClock::at(NOW);
    let v = builder(issuer.algorithm())
        .clock(clock.clone())
        .max_age(Duration::from_secs(120))
        .token_cache(16)
        .build(issuer.keys())
        .unwrap();
    let token = issuer.mint(|r| {
        r.ttl = "1h".into();
        r.nbf = Some(format!("{}", NOW + 40));
    });
    // Not valid yet (40 s > the 30 s leeway): refused, and not cached.
    assert_eq!(check(&v, &token), Err("not_yet_valid"));
    assert_eq!(stats(&v).insertions, 0);
    clock.set(NOW + 20);
    assert_eq!(check(&v, &token), Ok(()));
    assert_eq!(stats(&v).insertions, 1);
    // Back in time past nbf again: the hit is refused like a fresh check.
    clock.set(NOW);
    assert_eq!(check(&v, &token), Err("not_yet_valid"));
    assert_eq!(stats(&v).hits, 1);
    // Older than the maximum age (120 s + 30 s leeway) long before exp.
    clock.set(NOW + 151);
    assert_eq!(check(&v, &token), Err("expired"));
}

#[test]
fn a_cached_token_stops_verifying_when_its_key_leaves_the_set() {
    let issuer = Issuer::new(Alg::ES256);
    let other = Issuer::with_kid(Alg::ES256, "other");
    let v = builder(issuer.algorithm()).token_cache(16).build(Rotating(RwLock::new(issuer.keys()))).unwrap();
    let token = issuer.token();
    assert_eq!(check(&v, &token), Ok(()));
    // The same keys fetched again (new key objects, same material): still a hit.
    *v.keys().0.write().unwrap() = issuer.keys();
    assert_eq!(check(&v, &token), Ok(()));
    assert_eq!(stats(&v).hits, 1);
    // Rotated out: refused at once, as a fresh check would.
    *v.keys().0.write().unwrap() = other.keys();
    assert_eq!(check(&v, &token), Err("key_not_found"));
    let s = stats(&v);
    assert_eq!((s.hits, s.invalidated_by_rotation, s.entries), (1, 1, 0));
}

#[test]
fn a_cached_token_stops_verifying_when_it_is_revoked() {
    let issuer = Issuer::new(Alg::EdDSA);
    let revoked = Switch::default();
    let v = builder(issuer.algorithm()).revocation(revoked.clone()).token_cache(16).build(issuer.keys()).unwrap();
    let token = issuer.token();
    assert_eq!(check(&v, &token), Ok(()));
    assert_eq!(check(&v, &token), Ok(()));
    revoked.0.store(true, Ordering::SeqCst);
    assert_eq!(check(&v, &token), Err("revoked"));
    assert_eq!(stats(&v).hits, 2, "the revocation check ran on the hit");
}

#[test]
fn a_token_with_one_byte_changed_is_a_miss() {
    let issuer = Issuer::new(Alg::ES256);
    let v = builder(issuer.algorithm()).token_cache(16).build(issuer.keys()).unwrap();
    let token = issuer.token();
    assert_eq!(check(&v, &token), Ok(()));
    let sig = common::signature_of(&token);
    for i in [0, 31, 63] {
        let mut bad = sig.clone();
        bad[i] ^= 1;
        assert_eq!(check(&v, &with_signature(&token, &bad)), Err("bad_signature"));
    }
    // A different spelling of the same header (a space) is another token.
    let (h, rest) = token.split_once('.').unwrap();
    let header = String::from_utf8(common::unb64(h)).unwrap().replacen(':', ": ", 1);
    assert_eq!(check(&v, &format!("{}.{rest}", common::b64(header))), Err("bad_signature"));
    let s = stats(&v);
    assert_eq!((s.hits, s.misses, s.insertions), (0, 5, 1));
    // The original is still the one entry.
    assert_eq!(check(&v, &token), Ok(()));
    assert_eq!(stats(&v).hits, 1);
}

#[test]
fn two_verifiers_with_different_audiences_do_not_share_entries() {
    let issuer = Issuer::new(Alg::HS256);
    let shared = TokenCache::new(64);
    let ours = builder(issuer.algorithm()).build(issuer.keys()).unwrap();
    let theirs = Verifier::builder()
        .issuer(ISS)
        .audience("another-api")
        .algorithms([Algorithm::HS256])
        .clock(jwtgate_verify::FixedClock(NOW))
        .build(issuer.keys())
        .unwrap();
    let token = issuer.token();
    let mut scratch = Scratch::new();
    assert!(ours.verify_before_refresh_with(Some(&shared), &token, &mut scratch).is_ok());
    assert!(ours.verify_before_refresh_with(Some(&shared), &token, &mut scratch).is_ok());
    assert_eq!(shared.stats().hits, 1);
    let err = theirs.verify_before_refresh_with(Some(&shared), &token, &mut scratch).unwrap_err();
    assert_eq!(err.code(), "invalid_audience");
    assert_eq!(shared.stats().hits, 1, "the other verifier's entry was not used");
}

/// HS256 tokens signed here (the flood needs 100,000 of them, fast).
fn hs256(secret: &[u8], claims: &str) -> String {
    use sha2::Digest as _;
    let block = 64;
    let mut key = [0u8; 64];
    key[..secret.len()].copy_from_slice(secret);
    let pad = |b: u8| key.iter().map(|k| k ^ b).collect::<Vec<_>>();
    let input = format!("{}.{}", common::b64(r#"{"alg":"HS256","typ":"at+jwt"}"#), common::b64(claims));
    let inner = sha2::Sha256::new().chain_update(pad(0x36)).chain_update(&input).finalize();
    let outer = sha2::Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize();
    assert!(secret.len() <= block);
    format!("{input}.{}", common::b64(outer))
}

#[test]
fn the_bounds_hold_under_a_flood_of_distinct_valid_tokens() {
    let issuer = Issuer::new(Alg::HS256);
    let jwk: serde_json::Value = serde_json::from_str(&issuer.private_jwk()).unwrap();
    let secret = common::unb64(jwk["k"].as_str().unwrap());
    let v = builder(issuer.algorithm()).token_cache(1000).build(issuer.keys()).unwrap();
    let mut scratch = Scratch::new();
    for i in 0..100_000 {
        let claims = format!(r#"{{"iss":"{ISS}","aud":"{AUD}","sub":"user-{i}","exp":{},"iat":{NOW}}}"#, NOW + 300);
        let token = hs256(&secret, &claims);
        v.verify(&token, &mut scratch).unwrap();
        if i % 10_000 == 0 {
            assert!(v.token_cache().unwrap().len() <= 1000);
        }
    }
    let cache = v.token_cache().unwrap();
    let s = cache.stats();
    assert!(s.entries <= 1000, "{s:?}");
    assert_eq!(s.insertions, 100_000);
    assert_eq!(s.insertions - s.evictions, s.entries, "{s:?}");
    assert!(cache.bytes() <= 1000 * 4096, "{} bytes", cache.bytes());
    // And a small byte bound is a bound too.
    let tight = TokenCache::new(1000).max_bytes(64 * 1024);
    for i in 0..5_000 {
        let claims = format!(r#"{{"iss":"{ISS}","aud":"{AUD}","sub":"u-{i}","exp":{},"iat":{NOW}}}"#, NOW + 300);
        let token = hs256(&secret, &claims);
        v.verify_before_refresh_with(Some(&tight), &token, &mut scratch).unwrap();
        assert!(tight.bytes() <= 64 * 1024);
    }
    assert!(tight.len() > 50, "{} entries", tight.len());
}

#[test]
fn concurrent_hits_and_inserts_stay_correct() {
    let issuer = Issuer::new(Alg::HS256);
    let jwk: serde_json::Value = serde_json::from_str(&issuer.private_jwk()).unwrap();
    let secret = common::unb64(jwk["k"].as_str().unwrap());
    // A small cache, so inserts evict while other threads hit.
    let v = Arc::new(builder(issuer.algorithm()).token_cache(64).build(issuer.keys()).unwrap());
    // 300 tokens: two of three valid, each a different subject; every
    // third for another audience (refused, never cached).
    let tokens: Arc<Vec<(String, String, bool)>> = Arc::new(
        (0..300)
            .map(|i| {
                let aud = if i % 3 == 0 { "elsewhere" } else { AUD };
                let sub = format!("user-{i}");
                let claims =
                    format!(r#"{{"iss":"{ISS}","aud":"{aud}","sub":"{sub}","exp":{},"iat":{NOW}}}"#, NOW + 300);
                (hs256(&secret, &claims), sub, i % 3 != 0)
            })
            .collect(),
    );
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (v, tokens) = (Arc::clone(&v), Arc::clone(&tokens));
            std::thread::spawn(move || {
                let mut scratch = Scratch::new();
                for n in 0..20_000usize {
                    let (token, sub, valid) = &tokens[(n * 7 + t * 13) % tokens.len()];
                    match v.verify(token, &mut scratch) {
                        Ok(verified) => {
                            assert!(*valid);
                            assert_eq!(verified.subject().unwrap(), sub.as_str());
                        }
                        Err(e) => {
                            assert!(!*valid);
                            assert_eq!(e.code(), "invalid_audience");
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let s = stats(&v);
    assert!(s.hits > 0 && s.evictions > 0, "{s:?}");
    assert!(s.entries <= 64);
}

/// The same key material republished under another `kid`, or bound to
/// another algorithm: a fresh check refuses the token, so the cache must.
#[test]
fn a_hit_needs_the_key_its_kid_and_alg_select_not_just_the_same_material() {
    let issuer = Issuer::new(Alg::RS256);
    let republished = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut jwk: serde_json::Value = serde_json::from_str(&issuer.jwk_public()).unwrap();
        edit(&mut jwk);
        KeySet::from_jwks_str(&serde_json::json!({ "keys": [jwk] }).to_string(), jwtgate_verify::KeyOrigin::Local)
            .unwrap()
    };
    let token = issuer.token();
    for (edit, code) in [
        (
            &(|jwk: &mut serde_json::Value| jwk["kid"] = "renamed".into()) as &dyn Fn(&mut serde_json::Value),
            "key_not_found",
        ),
        (&|jwk: &mut serde_json::Value| jwk["alg"] = "PS256".into(), "key_alg_mismatch"),
    ] {
        let v = builder(issuer.algorithm()).token_cache(16).build(Rotating(RwLock::new(issuer.keys()))).unwrap();
        assert_eq!(check(&v, &token), Ok(()));
        assert_eq!(check(&v, &token), Ok(()));
        *v.keys().0.write().unwrap() = republished(edit);
        assert_eq!(check(&v, &token), Err(code));
        assert_eq!(stats(&v).invalidated_by_rotation, 1);
    }
}

#[test]
fn the_async_path_uses_the_cache_too() {
    let issuer = Issuer::new(Alg::EdDSA);
    let v = builder(issuer.algorithm()).token_cache(16).build(issuer.keys()).unwrap();
    let token = issuer.token();
    for _ in 0..3 {
        let mut scratch = Scratch::new();
        let verified = common::ready(v.verify_async(&token, &mut scratch)).unwrap();
        assert_eq!(verified.subject().unwrap(), "user-1");
    }
    let s = stats(&v);
    assert_eq!((s.misses, s.insertions, s.hits), (1, 1, 2));
}

#[test]
fn a_cache_of_no_entries_holds_nothing_and_debug_shows_no_token() {
    let issuer = Issuer::new(Alg::HS256);
    let v = builder(issuer.algorithm()).token_cache(0).build(issuer.keys()).unwrap();
    let token = issuer.token();
    assert_eq!(check(&v, &token), Ok(()));
    assert_eq!(check(&v, &token), Ok(()));
    assert_eq!(stats(&v).entries, 0);
    let full = builder(issuer.algorithm()).token_cache(4).build(issuer.keys()).unwrap();
    assert_eq!(check(&full, &token), Ok(()));
    let shown = format!("{full:?} {:?}", full.token_cache().unwrap());
    let signature = token.rsplit_once('.').unwrap().1;
    assert!(!shown.contains(signature) && !shown.contains("user-1"), "{shown}");
}

/// CLOCK: an entry that keeps being used survives a flood of one-off
/// tokens; the one-offs are what gets evicted.
#[test]
fn a_hot_token_survives_a_flood_of_cold_ones() {
    let issuer = Issuer::new(Alg::HS256);
    let jwk: serde_json::Value = serde_json::from_str(&issuer.private_jwk()).unwrap();
    let secret = common::unb64(jwk["k"].as_str().unwrap());
    // Under 64 entries: one shard, so the hot token competes with them all.
    let v = builder(issuer.algorithm()).token_cache(32).build(issuer.keys()).unwrap();
    let hot = issuer.token();
    let mut scratch = Scratch::new();
    v.verify(&hot, &mut scratch).unwrap();
    for i in 0..2_000 {
        let claims = format!(r#"{{"iss":"{ISS}","aud":"{AUD}","sub":"cold-{i}","exp":{},"iat":{NOW}}}"#, NOW + 300);
        v.verify(&hs256(&secret, &claims), &mut scratch).unwrap();
        v.verify(&hot, &mut scratch).unwrap();
    }
    let s = stats(&v);
    assert_eq!(s.hits, 2_000, "the hot token was never evicted: {s:?}");
    assert!(s.evictions >= 2_000 - 32, "{s:?}");
}

/// An issuer router answers from the cache of the verifier the token's
/// `iss` picks, and a token of one issuer never meets the other's entries.
#[test]
fn an_issuer_router_uses_the_cache_of_the_verifier_it_picks() {
    let ours = Issuer::new(Alg::HS256);
    let theirs = Issuer::new(Alg::HS256);
    let other_iss = "https://other.test";
    let verifier = |issuer: &Issuer, iss: &str| {
        Verifier::builder()
            .issuer(iss)
            .audience(AUD)
            .algorithms([Algorithm::HS256])
            .clock(jwtgate_verify::FixedClock(NOW))
            .token_cache(64)
            .build(issuer.keys())
            .unwrap()
    };
    let router = jwtgate_verify::IssuerRouter::new()
        .route(ISS, verifier(&ours, ISS))
        .route(other_iss, verifier(&theirs, other_iss));
    let token = ours.token();
    let mut scratch = Scratch::new();
    for _ in 0..3 {
        assert!(router.verify_before_refresh_with(None, &token, &mut scratch).is_ok());
    }
    let caches: Vec<_> = router.verifiers().map(|(_, v)| v.token_cache().unwrap().stats()).collect();
    assert_eq!((caches[0].hits, caches[0].insertions), (2, 1));
    assert_eq!((caches[1].hits, caches[1].insertions), (0, 0));
    // A token signed with the other issuer's key but claiming ours (the
    // test issuers share the same `iss`): picked for our verifier, which
    // refuses it; nothing more is cached.
    let forged = theirs.token();
    let err = router.verify_before_refresh_with(None, &forged, &mut scratch).unwrap_err();
    assert!(matches!(err.code(), "bad_signature" | "key_not_found"), "{}", err.code());
    assert_eq!(router.verifiers().map(|(_, v)| v.token_cache().unwrap().stats().insertions).sum::<u64>(), 1);
    // A token naming no routed issuer.
    let stranger = ours.mint(|r| r.iss = "https://nobody.test".to_owned());
    assert_eq!(router.verify_before_refresh_with(None, &stranger, &mut scratch).unwrap_err().code(), "invalid_issuer");
}
