//! Multi-issuer routing: a key of issuer B never verifies a token claiming A.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

mod common;

use common::{AUD, Issuer, NOW};
use jwtgate_testkit::alg::Alg;
use jwtgate_verify::{Algorithm, FixedClock, IssuerRouter, KeySet, Scratch, Verifier, VerifyingKey};

const A: &str = "https://a.test";
const B: &str = "https://b.test";

fn verifier(issuer: &str, keys: KeySet) -> Verifier {
    Verifier::builder()
        .issuer(issuer)
        .audience(AUD)
        .algorithms([Algorithm::ES256])
        .clock(FixedClock(NOW))
        .build(keys)
        .unwrap()
}

fn code(router: &IssuerRouter, token: &str) -> Result<(), &'static str> {
    let mut scratch = Scratch::new();
    router.verify(token, &mut scratch).map(|_| ()).map_err(|e| e.code())
}

#[test]
fn each_issuer_verifies_only_with_its_own_keys() {
    let a = Issuer::with_kid(Alg::ES256, "a-key");
    let b = Issuer::with_kid(Alg::ES256, "b-key");
    let router = IssuerRouter::new().route(A, verifier(A, a.keys())).route(B, verifier(B, b.keys()));
    assert_eq!(code(&router, &a.mint(|r| r.iss = A.into())), Ok(()));
    assert_eq!(code(&router, &b.mint(|r| r.iss = B.into())), Ok(()));
    // B signs a token claiming A: routed to A, which has no B key.
    assert_eq!(code(&router, &b.mint(|r| r.iss = A.into())), Err("key_not_found"));
    // Even naming A's kid, B's signature does not verify with A's key.
    assert_eq!(
        code(
            &router,
            &b.mint(|r| {
                r.iss = A.into();
                r.kid = Some("a-key".into());
            })
        ),
        Err("bad_signature")
    );
    assert_eq!(code(&router, &a.mint(|r| r.iss = "https://c.test".into())), Err("invalid_issuer"));
    assert_eq!(code(&router, &a.mint(|r| r.claims = Some(r#"{"iss":7}"#.into()))), Err("invalid_issuer"));
}

#[test]
fn a_shared_key_still_cannot_cross_issuers_via_the_verifier_check() {
    // Misconfiguration: both routes share one key set. The router picks
    // A's verifier for iss A, and that verifier accepts only iss A.
    let shared = Issuer::with_kid(Alg::ES256, "shared");
    let keys = || KeySet::new([VerifyingKey::from_jwk_str(&shared.jwk_public()).unwrap()]);
    let router = IssuerRouter::new().route(A, verifier(A, keys())).route(B, verifier(B, keys()));
    assert_eq!(code(&router, &shared.mint(|r| r.iss = A.into())), Ok(()));
    // Routed to B's slot but the verifier there is A's: refused.
    let crossed = IssuerRouter::new().route(B, verifier(A, keys()));
    assert_eq!(code(&crossed, &shared.mint(|r| r.iss = B.into())), Err("invalid_issuer"));
}
