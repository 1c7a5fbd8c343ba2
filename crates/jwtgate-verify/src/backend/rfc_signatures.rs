//! The RFCs' JWS examples whose payload is text, not a claims set, checked
//! at the signature layer the verifier uses (the verifier itself refuses
//! them as `malformed`, see tests/tests/rfc_vectors.rs). Values transcribed
//! from the RFC text; each constant names its section.

#![allow(clippy::expect_used, clippy::indexing_slicing, reason = "test code")]

use crate::algorithm::Algorithm;
use crate::key::VerifyingKey;

/// RFC 7520 section 4 payload (base64url), shared by 4.1 and 4.4.
const RFC7520_PAYLOAD: &str = "SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4";

/// RFC 7520 section 3.3, RSA public key.
const RFC7520_RSA: &str = r#"{"kty":"RSA","kid":"bilbo.baggins@hobbiton.example","use":"sig","n":"n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw","e":"AQAB"}"#;
/// RFC 7520 section 4.1.3 (Figure 13): RS256 header and signature.
const RFC7520_4_1_HEADER: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9";
const RFC7520_4_1_SIGNATURE: &str = "MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2U4mwzJdQx996ivp83xuglII7PNDi84wnB-BDkoBwA78185hX-Es4JIwmDLJK3lfWRa-XtL0RnltuYv746iYTh_qHRD68BNt1uSNCrUCTJDt5aAE6x8wW1Kt9eRo4QPocSadnHXFxnt8Is9UzpERV0ePPQdLuW3IS_de3xyIrDaLGdjluPxUAhb6L2aXic1U12podGU0KLUQSE_oI-ZnmKJ3F4uOZDnd6QZWJushZ41Axf_fcIe8u9ipH84ogoree7vjbU5y18kDquDg";

/// RFC 7520 section 3.1, the P-521 public key (3.2 adds its `d`);
/// section 4.3.4: the ES512 header and signature.
const RFC7520_EC: &str = r#"{"kty":"EC","kid":"bilbo.baggins@hobbiton.example","use":"sig","crv":"P-521","x":"AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt","y":"AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1"}"#;
const RFC7520_4_3_HEADER: &str = "eyJhbGciOiJFUzUxMiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9";
const RFC7520_4_3_SIGNATURE: &str = "AE_R_YZCChjn4791jSQCrdPZCNYqHXCTZH0-JZGYNlaAjP2kqaluUIIUnC9qvbu9Plon7KRTzoNEuT4Va2cmL1eJAQy3mtPBu_u_sDDyYjnAMDxXPn7XrT0lw-kvAD890jl8e2puQens_IEKBpHABlsbEPX6sFY8OcGDqoRuBomu9xQ2";

/// RFC 7515 appendix A.4.1: the P-521 public key and the ES512 JWS of the
/// payload "Payload" (also in tests/data/rfc7515/a4_es512.*).
const RFC7515_A4_KEY: &str = r#"{"kty":"EC","crv":"P-521","x":"AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk","y":"ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2"}"#;
const RFC7515_A4_INPUT: &str = "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA";
const RFC7515_A4_SIGNATURE: &str = "AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-KGDKB34XO0aw_7XdtAG8GaSwFKdCAPZgoXD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn";

/// RFC 7520 section 3.5, symmetric key; section 4.4.3 (Figure 34): HS256.
const RFC7520_OCT: &str = r#"{"kty":"oct","kid":"018c0ae5-4d9b-471b-bfd6-eef314bc7037","use":"sig","alg":"HS256","k":"hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg"}"#;
const RFC7520_4_4_HEADER: &str = "eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9";
const RFC7520_4_4_SIGNATURE: &str = "s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0";

/// RFC 8037 appendix A.2 public key; A.4: the Ed25519 JWS.
const RFC8037_KEY: &str = r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
const RFC8037_INPUT: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
const RFC8037_SIGNATURE: &str =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

fn unb64(text: &str) -> Vec<u8> {
    let mut buf = vec![0u8; text.len()];
    jwtgate_parse::base64url::decode(text.as_bytes(), &mut buf).expect("canonical base64url").to_vec()
}

/// The example verifies, and neither a flipped signature bit nor a flipped
/// input byte does.
fn check(name: &str, jwk: &str, alg: Algorithm, input: &str, signature: &str) {
    let key = VerifyingKey::from_jwk_str(jwk).expect("the RFC key loads");
    let signature = unb64(signature);
    assert!(key.verify_signature(alg, input.as_bytes(), &signature), "{name}");
    let mut bad = signature.clone();
    bad[0] ^= 1;
    assert!(!key.verify_signature(alg, input.as_bytes(), &bad), "{name}: flipped signature");
    let mut input = input.as_bytes().to_vec();
    input[0] ^= 1;
    assert!(!key.verify_signature(alg, &input, &signature), "{name}: flipped input");
}

#[test]
fn rfc7520_4_1_rs256() {
    let input = format!("{RFC7520_4_1_HEADER}.{RFC7520_PAYLOAD}");
    check("RFC 7520 4.1", RFC7520_RSA, Algorithm::RS256, &input, RFC7520_4_1_SIGNATURE);
}

/// ECDSA is randomized: the RFC's signature is checked, not reproduced.
#[test]
fn rfc7520_4_3_es512() {
    let input = format!("{RFC7520_4_3_HEADER}.{RFC7520_PAYLOAD}");
    check("RFC 7520 4.3", RFC7520_EC, Algorithm::ES512, &input, RFC7520_4_3_SIGNATURE);
    // The P-521 key verifies ES512 only: the same bytes as another ES*
    // algorithm are not even tried.
    let key = VerifyingKey::from_jwk_str(RFC7520_EC).expect("the RFC key loads");
    let signature = unb64(RFC7520_4_3_SIGNATURE);
    for alg in [Algorithm::ES256, Algorithm::ES384] {
        assert!(!key.fits(alg), "{alg}");
        assert!(!key.verify_signature(alg, input.as_bytes(), &signature), "{alg}");
    }
}

#[test]
fn rfc7515_a4_es512() {
    check("RFC 7515 A.4", RFC7515_A4_KEY, Algorithm::ES512, RFC7515_A4_INPUT, RFC7515_A4_SIGNATURE);
}

#[test]
fn rfc7520_4_4_hs256() {
    let input = format!("{RFC7520_4_4_HEADER}.{RFC7520_PAYLOAD}");
    check("RFC 7520 4.4", RFC7520_OCT, Algorithm::HS256, &input, RFC7520_4_4_SIGNATURE);
}

#[test]
fn rfc8037_a4_eddsa() {
    check("RFC 8037 A.4", RFC8037_KEY, Algorithm::EdDSA, RFC8037_INPUT, RFC8037_SIGNATURE);
}
