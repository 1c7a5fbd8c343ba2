//! The RFCs' own example tokens verify with their published keys (RFC 7515
//! Appendix A, RFC 7519 section 3.1), and the ones jwtgate does not support
//! are refused with the right codes. Data: tests/data (sources in its README).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "test code")]

use std::time::Duration;

use jwtgate_verify::{Algorithm, FixedClock, KeySet, Scratch, Verifier, VerifyingKey};

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
    let v = verifier(Algorithm::ES256, A3_KEY);
    // ES512 is not supported: refused before any key or signature work.
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
