//! What both benches measure: one realistic access token per algorithm,
//! jwtgate's verifier for it, and the bare signature check of the same
//! backend on the same input.

#![allow(dead_code, reason = "each bench binary uses a different part of this module")]

use std::hint::black_box;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwtgate_verify::{KeyOrigin, KeySet, Verifier};
use xtask::alg::Alg;
use xtask::{keygen, mint};

pub(crate) const ISS: &str = "https://auth.example.com/realms/prod";
pub(crate) const AUD: &str = "orders-api";

pub(crate) struct Case {
    pub(crate) alg: Alg,
    pub(crate) token: String,
    pub(crate) private_jwk: serde_json::Value,
    pub(crate) public_pem: Option<String>,
    pub(crate) jwks: String,
}

pub(crate) fn case(alg: Alg, dir: &std::path::Path) -> Case {
    let written = keygen::run(&keygen::Request {
        alg,
        bits: None,
        kid: Some(format!("2024-11-{}", alg.name().to_lowercase())),
        out: dir.to_path_buf(),
        force: true,
    })
    .unwrap();
    // ~270-byte payload: iss, sub, aud, exp, nbf, iat, jti, scope (+ client_id).
    let token = mint::run(&mint::Request {
        key: written.private_jwk.clone(),
        iss: ISS.into(),
        aud: vec![AUD.into()],
        sub: "5f1c2e9a-0d4b-4e8a-9b1f-3c2d7e6a8b90".into(),
        ttl: "1h".into(),
        nbf: Some("-1s".into()),
        claims: Some(r#"{"scope":"orders:read orders:write","client_id":"checkout-service"}"#.into()),
        typ: "at+jwt".into(),
        ..Default::default()
    })
    .unwrap();
    let private_jwk = serde_json::from_str(&std::fs::read_to_string(&written.private_jwk).unwrap()).unwrap();
    let public_pem = written.public_pem.as_ref().map(|p| std::fs::read_to_string(p).unwrap());
    let jwks = match &written.jwks {
        Some(p) => std::fs::read_to_string(p).unwrap(),
        None => format!(r#"{{"keys":[{}]}}"#, std::fs::read_to_string(&written.private_jwk).unwrap()),
    };
    Case { alg, token, private_jwk, public_pem, jwks }
}

pub(crate) fn jwtgate(c: &Case) -> Verifier {
    let keys = KeySet::from_jwks_str(&c.jwks, KeyOrigin::Local).unwrap();
    Verifier::builder().issuer(ISS).audience(AUD).algorithms([c.alg]).build(keys).unwrap()
}

/// The signature check alone, on the backend's own API: HMAC, or the
/// signature over the signing input, nothing else.
#[cfg(not(feature = "aws-lc-rs"))]
pub(crate) fn raw_primitive(c: &Case) -> Box<dyn FnMut()> {
    let (input, sig) = c.token.rsplit_once('.').unwrap();
    let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
    let input = input.as_bytes().to_vec();
    match c.alg {
        Alg::HS256 => {
            use hmac::{KeyInit as _, Mac as _};
            let secret = URL_SAFE_NO_PAD.decode(c.private_jwk["k"].as_str().unwrap()).unwrap();
            // Keyed once, as jwtgate keys it: the inner and outer pads are
            // absorbed at load, so each check starts from a copy.
            let keyed = hmac::Hmac::<sha2::Sha256>::new_from_slice(&secret).unwrap();
            Box::new(move || {
                let mut mac = keyed.clone();
                mac.update(black_box(input.as_slice()));
                mac.verify_slice(&sig).unwrap();
            })
        }
        Alg::RS256 => {
            use sha2::Digest as _;
            let pem = c.public_pem.as_ref().unwrap();
            let key = <rsa::RsaPublicKey as rsa::pkcs8::DecodePublicKey>::from_public_key_pem(pem).unwrap();
            Box::new(move || {
                let digest = sha2::Sha256::digest(black_box(input.as_slice()));
                key.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &digest, &sig).unwrap();
            })
        }
        Alg::ES256 => {
            use p256::ecdsa::signature::Verifier as _;
            let pem = c.public_pem.as_ref().unwrap();
            let key = <p256::ecdsa::VerifyingKey as p256::pkcs8::DecodePublicKey>::from_public_key_pem(pem).unwrap();
            let sig = p256::ecdsa::Signature::from_slice(&sig).unwrap();
            Box::new(move || key.verify(black_box(input.as_slice()), &sig).unwrap())
        }
        _ => {
            let x = URL_SAFE_NO_PAD.decode(c.private_jwk["x"].as_str().unwrap()).unwrap();
            let key = ed25519_dalek::VerifyingKey::from_bytes(&x.try_into().unwrap()).unwrap();
            let sig = ed25519_dalek::Signature::from_bytes(&sig.try_into().unwrap());
            Box::new(move || key.verify_strict(black_box(input.as_slice()), &sig).unwrap())
        }
    }
}

/// The signature check alone on aws-lc-rs, its key parsed once (the most
/// favourable use of its API).
#[cfg(feature = "aws-lc-rs")]
pub(crate) fn raw_primitive(c: &Case) -> Box<dyn FnMut()> {
    use aws_lc_rs::hmac;
    use aws_lc_rs::signature::{self, ParsedPublicKey};

    let (input, sig) = c.token.rsplit_once('.').unwrap();
    let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
    let input = input.as_bytes().to_vec();
    let field = |name: &str| URL_SAFE_NO_PAD.decode(c.private_jwk[name].as_str().unwrap()).unwrap();
    match c.alg {
        Alg::HS256 => {
            let key = hmac::Key::new(hmac::HMAC_SHA256, &field("k"));
            Box::new(move || hmac::verify(&key, black_box(input.as_slice()), &sig).unwrap())
        }
        Alg::RS256 => {
            use spki::der::Encode as _;
            let (n, e) = (field("n"), field("e"));
            let der = pkcs1::RsaPublicKey {
                modulus: pkcs1::UintRef::new(&n).unwrap(),
                public_exponent: pkcs1::UintRef::new(&e).unwrap(),
            }
            .to_der()
            .unwrap();
            let key = ParsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &der).unwrap();
            Box::new(move || key.verify_sig(black_box(input.as_slice()), &sig).unwrap())
        }
        Alg::ES256 => {
            let point = [&[0x04][..], &field("x"), &field("y")].concat();
            let key = ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &point).unwrap();
            Box::new(move || key.verify_sig(black_box(input.as_slice()), &sig).unwrap())
        }
        _ => {
            let key = ParsedPublicKey::new(&signature::ED25519, field("x")).unwrap();
            Box::new(move || key.verify_sig(black_box(input.as_slice()), &sig).unwrap())
        }
    }
}
