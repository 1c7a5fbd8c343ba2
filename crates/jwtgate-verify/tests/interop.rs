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
