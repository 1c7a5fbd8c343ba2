//! Tokens minted by an independent implementation (jsonwebtoken, pure-Rust
//! backend) verify here for every algorithm, with keys from xtask.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

mod common;

use common::{AUD, ISS, Issuer, NOW, outcome, verifier_for};
use jsonwebtoken::{EncodingKey, Header, encode};
use xtask::alg::{Alg, Signing as _};

fn peer_token(issuer: &Issuer, claims: &serde_json::Value) -> String {
    let alg: jsonwebtoken::Algorithm = issuer.alg.name().parse().unwrap();
    let key = match issuer.alg.kty() {
        "oct" => {
            let jwk: serde_json::Value = serde_json::from_str(&issuer.private_jwk()).unwrap();
            EncodingKey::from_secret(&common::unb64(jwk["k"].as_str().unwrap()))
        }
        "RSA" => EncodingKey::from_rsa_pem(issuer.private_pem().unwrap().as_bytes()).unwrap(),
        "EC" => EncodingKey::from_ec_pem(issuer.private_pem().unwrap().as_bytes()).unwrap(),
        "OKP" => EncodingKey::from_ed_pem(issuer.private_pem().unwrap().as_bytes()).unwrap(),
        other => panic!("{other}"),
    };
    let mut header = Header::new(alg);
    header.kid = Some(issuer.kid().to_owned());
    encode(&header, claims, &key).unwrap()
}

#[test]
fn jsonwebtoken_tokens_verify_for_every_algorithm() {
    let claims = serde_json::json!({ "iss": ISS, "aud": [AUD, "other"], "sub": "peer", "exp": NOW + 60, "iat": NOW });
    for alg in Alg::ALL {
        let issuer = Issuer::new(alg);
        let token = peer_token(&issuer, &claims);
        assert_eq!(outcome(&verifier_for(&issuer), &token), Ok(()), "{alg}");
        // And a flipped signature bit is caught.
        let mut sig = common::signature_of(&token);
        sig[0] ^= 1;
        assert_eq!(
            outcome(&verifier_for(&issuer), &common::with_signature(&token, &sig)),
            Err("bad_signature"),
            "{alg}"
        );
    }
}

#[test]
fn jwt_simple_tokens_verify_for_its_algorithms() {
    use jwt_simple::prelude::*;
    // jwt-simple signs with its own keys; we load their public halves.
    let iss = ISS;
    let claims = || Claims::create(Duration::from_mins(5)).with_issuer(iss).with_audience(AUD).with_subject("peer");
    let check = |alg: jwtgate_verify::Algorithm, key: jwtgate_verify::VerifyingKey, token: String| {
        let v = jwtgate_verify::Verifier::builder()
            .issuer(ISS)
            .audience(AUD)
            .algorithms([alg])
            .build(jwtgate_verify::KeySet::new([key]))
            .unwrap();
        let mut scratch = jwtgate_verify::Scratch::new();
        let verified = v.verify(&token, &mut scratch).unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(verified.subject().unwrap(), "peer");
    };
    let hs = HS256Key::generate();
    check(
        jwtgate_verify::Algorithm::HS256,
        jwtgate_verify::VerifyingKey::hmac(&hs.to_bytes(), jwtgate_verify::Algorithm::HS256).unwrap(),
        hs.authenticate(claims()).unwrap(),
    );
    let es = ES256KeyPair::generate();
    check(
        jwtgate_verify::Algorithm::ES256,
        jwtgate_verify::VerifyingKey::from_pem(&es.public_key().to_pem().unwrap()).unwrap(),
        es.sign(claims()).unwrap(),
    );
    let ed = Ed25519KeyPair::generate();
    check(
        jwtgate_verify::Algorithm::EdDSA,
        jwtgate_verify::VerifyingKey::from_pem(&ed.public_key().to_pem()).unwrap(),
        ed.sign(claims()).unwrap(),
    );
}
