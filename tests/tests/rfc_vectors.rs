//! The RFCs' own example tokens verify with their published keys (RFC 7515
//! Appendix A, RFC 7519 section 3.1, RFC 7520 sections 4.3 and 4.4, RFC
//! 8037 Appendix A.4), the ones
//! jwtgate does not support are refused with the right codes, and the RFC
//! 7517 Appendix A key sets load as documented. Data: tests/data (sources in its README).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "test code")]

use std::time::Duration;

use jwtgate_testkit::alg::Alg;
use jwtgate_testkit::jwk::b64;
use jwtgate_testkit::key::PrivateKey;
use jwtgate_verify::{Algorithm, FixedClock, KeyFamily, KeySet, Scratch, Verifier, VerifyingKey};

fn token(file: &str) -> &str {
    file.lines().find(|l| !l.starts_with('#') && !l.is_empty()).unwrap()
}

const A1: &str = include_str!("../data/rfc7515/a1_hs256.token");
const A1_KEY: &str = include_str!("../data/rfc7515/a1_hs256.jwk.json");
const A2: &str = include_str!("../data/rfc7515/a2_rs256.token");
const A2_KEY: &str = include_str!("../data/rfc7515/a2_rs256.jwk.json");
const A3: &str = include_str!("../data/rfc7515/a3_es256.token");
const A3_KEY: &str = include_str!("../data/rfc7515/a3_es256.jwk.json");
const A4: &str = include_str!("../data/rfc7515/a4_es512.token");
const A4_KEY: &str = include_str!("../data/rfc7515/a4_es512.jwk.json");
const A5: &str = include_str!("../data/rfc7515/a5_unsecured.token");
const S3_1: &str = include_str!("../data/rfc7519/s3_1.token");

/// The examples' claims: iss "joe", exp 1300819380 (2011-03-22), no aud.
/// The clock is set one second before exp; the examples have no audience,
/// so that check is off here (and only here).
fn verifier(alg: Algorithm, jwk: &str) -> Verifier {
    let key = VerifyingKey::from_jwk_str(jwk).unwrap();
    Verifier::builder()
        .issuer("joe")
        .insecure_skip_audience_check()
        .algorithms([alg])
        .leeway(Duration::ZERO)
        .clock(FixedClock(1_300_819_379))
        .build(KeySet::new([key]))
        .unwrap()
}

fn code(v: &Verifier, token: &str) -> Result<(), &'static str> {
    let mut scratch = Scratch::new();
    v.verify(token, &mut scratch).map(|_| ()).map_err(|e| e.code())
}

#[test]
fn rfc7515_a1_a2_a3_and_rfc7519_3_1_verify_with_their_keys() {
    for (name, file, alg, key) in [
        ("A.1", A1, Algorithm::HS256, A1_KEY),
        ("A.2", A2, Algorithm::RS256, A2_KEY),
        ("A.3", A3, Algorithm::ES256, A3_KEY),
        ("RFC 7519 3.1", S3_1, Algorithm::HS256, A1_KEY),
    ] {
        let v = verifier(alg, key);
        assert_eq!(code(&v, token(file)), Ok(()), "{name}");
        let mut scratch = Scratch::new();
        let verified = v.verify(token(file), &mut scratch).unwrap();
        let is_root = verified.claims().get("http://example.com/is_root").and_then(|v| v.as_bool());
        assert_eq!(is_root, Some(true), "{name}");
    }
}

#[test]
fn rfc7515_examples_expire_as_their_exp_says() {
    let v = Verifier::builder()
        .issuer("joe")
        .insecure_skip_audience_check()
        .algorithms([Algorithm::HS256])
        .leeway(Duration::ZERO)
        .clock(FixedClock(1_300_819_380))
        .build(KeySet::new([VerifyingKey::from_jwk_str(A1_KEY).unwrap()]))
        .unwrap();
    assert_eq!(code(&v, token(A1)), Err("expired"));
}

#[test]
fn rfc7515_a4_es512_and_a5_unsecured_are_refused() {
    // A.4's payload is the text "Payload", not a claims set: refused before
    // its signature is checked (which crates/jwtgate-verify/src/backend/
    // rfc_signatures.rs does, on each backend: it verifies).
    let es512 = verifier(Algorithm::ES512, A4_KEY);
    assert_eq!(code(&es512, token(A4)), Err("malformed"), "A.4's payload is not JSON, which comes first");
    let v = verifier(Algorithm::ES256, A3_KEY);
    assert_eq!(code(&v, token(A4)), Err("malformed"), "A.4's payload is not JSON, which comes first");
    assert_eq!(code(&v, token(A5)), Err("malformed"), "an unsecured JWS has an empty signature");
}

#[test]
fn rfc7515_a2_key_cannot_verify_a1_as_hmac() {
    // The RSA key of A.2 in a verifier that also allows HS256: the HS256
    // example names no kid, and the RSA key never fits HS256.
    let key = VerifyingKey::from_jwk_str(A2_KEY).unwrap();
    let v = Verifier::builder()
        .issuer("joe")
        .insecure_skip_audience_check()
        .algorithms([Algorithm::HS256, Algorithm::RS256])
        .clock(FixedClock(1_300_819_379))
        .build(KeySet::new([key]))
        .unwrap();
    assert_eq!(code(&v, token(A1)), Err("key_alg_mismatch"));
}

const RFC8037_A4: &str = include_str!("../data/rfc8037/a4_ed25519.token");
const RFC8037_PUBLIC: &str = include_str!("../data/rfc8037/a2_ed25519.public.jwk.json");
const RFC7517_A1: &str = include_str!("../data/rfc7517/a1_public_keys.jwks.json");
const RFC7517_A2_EC: &str = include_str!("../data/rfc7517/a2_ec_private.jwk.json");

/// Signs `header.payload` with the RFC 8037 private key (A.1), through
/// the test kit's signer (the JWK has no `alg`, so it is given).
fn sign_rfc8037(header: &str, payload: &str) -> String {
    let jwk: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(include_str!("../data/rfc8037/a1_ed25519.private.jwk.json")).unwrap();
    let key = PrivateKey::from_jwk(&jwk, Some(Alg::EdDSA)).unwrap();
    let input = format!("{}.{}", b64(header), b64(payload));
    let signature = key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", b64(signature))
}

#[test]
fn rfc8037_a4_ed25519() {
    let token = token(RFC8037_A4);
    let (input, _) = token.rsplit_once('.').unwrap();
    // Ed25519 is deterministic: the test kit's signer, given the RFC's private key,
    // reproduces the RFC's signature byte for byte.
    let header = r#"{"alg":"EdDSA"}"#;
    assert_eq!(sign_rfc8037(header, "Example of Ed25519 signing"), token);
    assert!(input.starts_with("eyJhbGciOiJFZERTQSJ9."));

    // The example's payload is text, not a claims set: a JWT verifier refuses it.
    let key = || VerifyingKey::from_jwk_str(RFC8037_PUBLIC).unwrap();
    let v = Verifier::builder()
        .insecure_skip_issuer_check()
        .insecure_skip_audience_check()
        .algorithms([Algorithm::EdDSA])
        .build(KeySet::new([key()]))
        .unwrap();
    assert_eq!(code(&v, token), Err("malformed"));

    // The same RFC key signing a real claims set: verifies with the RFC's
    // public key, and a flipped bit does not.
    let claims = r#"{"iss":"rfc8037","aud":"a","exp":4102444800}"#;
    let jwt = sign_rfc8037(header, claims);
    let v = Verifier::builder()
        .issuer("rfc8037")
        .audience("a")
        .algorithms([Algorithm::EdDSA])
        .build(KeySet::new([key()]))
        .unwrap();
    assert_eq!(code(&v, &jwt), Ok(()));
    let mut tampered = jwt.clone().into_bytes();
    let at = jwt.rfind('.').unwrap() + 1;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    assert_eq!(code(&v, std::str::from_utf8(&tampered).unwrap()), Err("bad_signature"));
}

#[test]
fn rfc7517_appendix_a_key_sets() {
    // A.1: the EC key is for encryption (`use: enc`) and is skipped; the RSA
    // key is a 2048-bit RS256 verification key.
    let set = KeySet::from_jwks_str(RFC7517_A1, jwtgate_verify::KeyOrigin::Remote).unwrap();
    assert_eq!(set.len(), 1);
    assert_eq!(set.keys()[0].kid(), Some("2011-04-29"));
    assert_eq!(set.keys()[0].alg(), Some(Algorithm::RS256));
    assert_eq!(set.skipped().len(), 1);
    assert_eq!(set.skipped()[0].kid.as_deref(), Some("1"));
    assert!(format!("{:?}", set.keys()[0]).contains("RSA-2048"));

    // A.2: a private key. Only the public members matter for verification;
    // this one is still refused, for its `use: enc`. Without `use` it loads
    // as a verification key (the private scalar `d` is ignored, never used).
    assert!(VerifyingKey::from_jwk_str(RFC7517_A2_EC).is_err());
    let mut no_use: serde_json::Value = serde_json::from_str(RFC7517_A2_EC).unwrap();
    no_use.as_object_mut().unwrap().remove("use");
    let key = VerifyingKey::from_jwk_value(no_use).unwrap();
    assert!(!format!("{key:?}").contains("870MB6"), "the private scalar never shows");
}

const RFC7520_4_3: &str = include_str!("../data/rfc7520/s4_3_es512.token");
const RFC7520_EC_KEY: &str = include_str!("../data/rfc7520/s3_2_ec_private.jwk.json");
const RFC7520_4_4: &str = include_str!("../data/rfc7520/s4_4_hs256.token");
const RFC7520_KEY: &str = include_str!("../data/rfc7520/s3_5_symmetric.jwk.json");

#[test]
fn rfc7520_4_3_es512() {
    let token = token(RFC7520_4_3);
    // The section 3.2 key loads as a P-521 verification key with its kid
    // (`d` is ignored), for ES512 and no other algorithm.
    let key = || VerifyingKey::from_jwk_str(RFC7520_EC_KEY).unwrap();
    assert_eq!(key().kid(), Some("bilbo.baggins@hobbiton.example"));
    assert_eq!(key().family(), KeyFamily::P521);
    assert!(key().fits(Algorithm::ES512));
    assert!(!key().fits(Algorithm::ES256) && !key().fits(Algorithm::ES384));
    assert!(format!("{:?}", key()).starts_with("VerifyingKey(P-521 "));
    let v = Verifier::builder()
        .issuer("hobbiton")
        .audience("a")
        .algorithms([Algorithm::ES512])
        .build(KeySet::new([key()]))
        .unwrap();
    // The example's payload is text, not a claims set: refused before its
    // signature is checked (backend/rfc_signatures.rs verifies the RFC's
    // signature itself on each backend: ECDSA is randomized, so it cannot
    // be reproduced here).
    assert_eq!(code(&v, token), Err("malformed"));

    // The RFC key, with the example's header, signing a claims set:
    // verifies with the RFC's public key, and a flipped bit does not.
    let jwk: serde_json::Map<String, serde_json::Value> = serde_json::from_str(RFC7520_EC_KEY).unwrap();
    let signer = PrivateKey::from_jwk(&jwk, Some(Alg::ES512)).unwrap();
    let header = token.split('.').next().unwrap();
    let input = format!("{header}.{}", b64(r#"{"iss":"hobbiton","aud":"a","exp":4102444800}"#));
    let signature = signer.sign(input.as_bytes()).unwrap();
    assert_eq!(signature.len(), 132, "r || s, 66 bytes each");
    let jwt = format!("{input}.{}", b64(&signature));
    assert_eq!(code(&v, &jwt), Ok(()));
    let mut tampered = signature.clone();
    tampered[70] ^= 1;
    assert_eq!(code(&v, &format!("{input}.{}", b64(&tampered))), Err("bad_signature"));
    // The same token in a verifier that also allows ES256 and ES384: the
    // key still verifies ES512 only.
    let relabelled = |alg: &str| {
        let header = b64(format!(r#"{{"alg":"{alg}","kid":"bilbo.baggins@hobbiton.example"}}"#));
        let claims = input.split('.').nth(1).unwrap();
        format!("{header}.{claims}.{}", b64(&signature))
    };
    let all = Verifier::builder()
        .issuer("hobbiton")
        .audience("a")
        .algorithms([Algorithm::ES256, Algorithm::ES384, Algorithm::ES512])
        .build(KeySet::new([key()]))
        .unwrap();
    assert_eq!(code(&all, &jwt), Ok(()));
    assert_eq!(code(&all, &relabelled("ES256")), Err("key_alg_mismatch"));
    assert_eq!(code(&all, &relabelled("ES384")), Err("key_alg_mismatch"));
}

#[test]
fn rfc7520_4_4_hs256() {
    let token = token(RFC7520_4_4);
    let jwk: serde_json::Map<String, serde_json::Value> = serde_json::from_str(RFC7520_KEY).unwrap();
    let signer = PrivateKey::from_jwk(&jwk, None).unwrap();
    // HMAC is deterministic: the RFC's signature, reproduced byte for byte.
    let (input, signature) = token.rsplit_once('.').unwrap();
    assert_eq!(b64(signer.sign(input.as_bytes()).unwrap()), signature);

    // The key loads as an HS256 key with its kid; the text payload is not
    // a claims set, so the example itself is refused.
    let key = || VerifyingKey::from_jwk_str(RFC7520_KEY).unwrap();
    assert_eq!(key().kid(), Some("018c0ae5-4d9b-471b-bfd6-eef314bc7037"));
    assert_eq!(key().alg(), Some(Algorithm::HS256));
    let v = Verifier::builder()
        .issuer("hobbiton")
        .audience("a")
        .algorithms([Algorithm::HS256])
        .build(KeySet::new([key()]))
        .unwrap();
    assert_eq!(code(&v, token), Err("malformed"));
    // A claims set with the same header and key verifies.
    let header = token.split('.').next().unwrap();
    let claims = b64(r#"{"iss":"hobbiton","aud":"a","exp":4102444800}"#);
    let input = format!("{header}.{claims}");
    let jwt = format!("{input}.{}", b64(signer.sign(input.as_bytes()).unwrap()));
    assert_eq!(code(&v, &jwt), Ok(()));
}
