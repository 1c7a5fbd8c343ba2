//! The RFC's own example tokens (transcribed in tests/data/, see its README).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a failed test"
)]

use jwtgate_parse::{DEFAULT_BUFFER_LEN, Error, parse};

/// The one non-comment line of a `.token` file.
fn token(file: &str) -> &str {
    file.lines().find(|l| !l.starts_with('#') && !l.is_empty()).unwrap()
}

const A1: &str = include_str!("../../../tests/data/rfc7515/a1_hs256.token");
const A2: &str = include_str!("../../../tests/data/rfc7515/a2_rs256.token");
const A3: &str = include_str!("../../../tests/data/rfc7515/a3_es256.token");
const A4: &str = include_str!("../../../tests/data/rfc7515/a4_es512.token");
const A5: &str = include_str!("../../../tests/data/rfc7515/a5_unsecured.token");
const RFC7519_3_1: &str = include_str!("../../../tests/data/rfc7519/s3_1.token");

#[test]
fn rfc7515_a1_to_a3_parse_with_their_signature_sizes() {
    for (file, alg, sig_len) in [(A1, "HS256", 32), (A2, "RS256", 256), (A3, "ES256", 64), (RFC7519_3_1, "HS256", 32)] {
        let mut buf = [0u8; DEFAULT_BUFFER_LEN];
        let t = parse(token(file).as_bytes(), &mut buf).unwrap();
        assert_eq!(t.header().alg(), alg);
        assert_eq!(t.signature().len(), sig_len, "{alg}");
        let claims = t.claims().unwrap();
        assert_eq!(claims.iss().unwrap(), "joe");
        assert_eq!(claims.exp().unwrap().floor(), 1_300_819_380);
    }
}

#[test]
fn rfc7515_a4_payload_is_not_a_claims_set() {
    // A.4 signs the ASCII text "Payload": a valid JWS, but not a JWT.
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    assert_eq!(parse(token(A4).as_bytes(), &mut buf).unwrap_err(), Error::UnexpectedByte);
}

#[test]
fn rfc7515_a5_unsecured_jws_is_refused() {
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    assert_eq!(parse(token(A5).as_bytes(), &mut buf).unwrap_err(), Error::EmptySignature);
}

#[test]
fn rfc7519_example_is_rfc7515_a1() {
    assert_eq!(token(RFC7519_3_1), token(A1));
}
