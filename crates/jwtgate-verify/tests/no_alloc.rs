//! Verification allocates nothing in jwtgate's own code until the caller
//! asks for custom claims. The pure-Rust RSA backend (the `rsa` crate's big
//! integers) does allocate; that is measured against the bare primitive and
//! reported. AWS-LC allocates with C `malloc`, which the Rust allocator
//! does not see, so under `aws-lc-rs` every algorithm counts zero here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

mod common;

use common::{Issuer, verifier_for};
use jwtgate_testkit::alg::Alg;
use jwtgate_verify::Scratch;

fn allocations(issuer: &Issuer) -> u64 {
    let v = verifier_for(issuer);
    let token = issuer.mint(|r| r.claims = Some(r#"{"scope":"a b","client_id":"c","roles":["x"]}"#.into()));
    let mut scratch = Scratch::new();
    // Warm up lazily initialised state (tracing callsites) outside the count.
    v.verify(&token, &mut scratch).unwrap();
    let mut ok = false;
    let info = allocation_counter::measure(|| {
        let verified = v.verify(&token, &mut scratch).unwrap();
        ok = verified.claims().aud().is_some_and(|a| a.contains(common::AUD)) && verified.subject().is_some();
    });
    assert!(ok);
    info.count_total
}

#[test]
fn hmac_ecdsa_and_eddsa_verification_allocate_nothing() {
    for alg in [Alg::HS256, Alg::HS512, Alg::ES256, Alg::ES384, Alg::ES512, Alg::EdDSA] {
        assert_eq!(allocations(&Issuer::new(alg)), 0, "{alg}");
    }
}

#[test]
fn rsa_allocations_are_the_backend_primitive_only() {
    use rsa::traits::PublicKeyParts as _;
    let issuer = Issuer::new(Alg::RS256);
    let ours = allocations(&issuer);
    // The same signature check with the rsa crate alone.
    let jwk: serde_json::Value = serde_json::from_str(&issuer.jwk_public()).unwrap();
    let n = common::unb64(jwk["n"].as_str().unwrap());
    let e = common::unb64(jwk["e"].as_str().unwrap());
    let key = rsa::RsaPublicKey::new(
        rsa::BoxedUint::from_be_slice(&n, u32::try_from(n.len() * 8).unwrap()).unwrap(),
        rsa::BoxedUint::from_be_slice(&e, u32::try_from(e.len() * 8).unwrap()).unwrap(),
    )
    .unwrap();
    let token = issuer.token();
    let (input, _) = token.rsplit_once('.').unwrap();
    let sig = common::signature_of(&token);
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(input.as_bytes());
    let info = allocation_counter::measure(|| {
        key.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &digest, &sig).unwrap();
    });
    assert_eq!(key.size(), 256);
    println!("RS256: jwtgate verify {ours} Rust allocations, bare rsa-crate primitive {}", info.count_total);
    if cfg!(feature = "aws-lc-rs") {
        assert_eq!(ours, 0, "the native backend must not allocate through Rust");
    } else {
        assert_eq!(ours, info.count_total, "jwtgate must add no allocations of its own");
    }
}

/// A token-cache hit allocates nothing, for every algorithm: no signature
/// check runs, and the decoded JSON is copied into the caller's scratch.
#[test]
fn a_token_cache_hit_allocates_nothing() {
    for alg in [Alg::HS256, Alg::RS256, Alg::ES256, Alg::EdDSA] {
        let issuer = Issuer::new(alg);
        let v = common::builder(issuer.algorithm()).token_cache(16).build(issuer.keys()).unwrap();
        let token = issuer.mint(|r| r.claims = Some(r#"{"scope":"a b","client_id":"c","roles":["x"]}"#.into()));
        let mut scratch = Scratch::new();
        // The miss stores the token (that allocates); the second is a hit
        // that warms lazily initialised state outside the count.
        v.verify(&token, &mut scratch).unwrap();
        v.verify(&token, &mut scratch).unwrap();
        let mut ok = false;
        let info = allocation_counter::measure(|| {
            let verified = v.verify(&token, &mut scratch).unwrap();
            ok = verified.claims().aud().is_some_and(|a| a.contains(common::AUD)) && verified.subject().is_some();
        });
        assert!(ok);
        assert_eq!(info.count_total, 0, "{alg}");
        assert_eq!(v.token_cache().unwrap().stats().hits, 2, "{alg}");
    }
}
