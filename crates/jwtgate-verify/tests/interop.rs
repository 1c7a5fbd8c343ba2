//! Tokens minted by an independent implementation (jsonwebtoken, pure-Rust
//! backend) verify here for every algorithm it has, with keys from the test kit.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

mod common;

use common::{AUD, ISS, Issuer, NOW, outcome, verifier_for};
use jsonwebtoken::{EncodingKey, Header, encode};
use jwtgate_testkit::alg::{Alg, Signing as _};

/// jsonwebtoken is a dev-dependency with both of its backends (the bench
/// compares against each); with both compiled in, a process must pick one.
fn use_jsonwebtoken_rust_crypto() {
    // Err means a provider is already installed: the same one, by this.
    let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
}

fn peer_token(issuer: &Issuer, claims: &serde_json::Value) -> String {
    use_jsonwebtoken_rust_crypto();
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

/// jsonwebtoken 11 has every algorithm jwtgate has but ES512; if it gains
/// it, this fails and the tests here and in tests/ should take it in.
fn jsonwebtoken_has(alg: Alg) -> bool {
    let has = alg.name().parse::<jsonwebtoken::Algorithm>().is_ok();
    assert_eq!(has, alg != Alg::ES512, "{alg}");
    has
}

#[test]
fn jsonwebtoken_tokens_verify_for_every_algorithm() {
    let claims = serde_json::json!({ "iss": ISS, "aud": [AUD, "other"], "sub": "peer", "exp": NOW + 60, "iat": NOW });
    for alg in Alg::ALL.into_iter().filter(|&alg| jsonwebtoken_has(alg)) {
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
    // jwt-simple has ES384 but no ES512.
    let es384 = ES384KeyPair::generate();
    check(
        jwtgate_verify::Algorithm::ES384,
        jwtgate_verify::VerifyingKey::from_pem(&es384.public_key().to_pem().unwrap()).unwrap(),
        es384.sign(claims()).unwrap(),
    );
    let ed = Ed25519KeyPair::generate();
    check(
        jwtgate_verify::Algorithm::EdDSA,
        jwtgate_verify::VerifyingKey::from_pem(&ed.public_key().to_pem()).unwrap(),
        ed.sign(claims()).unwrap(),
    );
}

#[test]
fn jwt_simple_rsa_and_longer_hmac_tokens_verify() {
    use jwt_simple::prelude::*;
    use jwtgate_verify::{Algorithm as A, KeySet, Scratch, Verifier, VerifyingKey};
    let claims = || Claims::create(Duration::from_mins(5)).with_issuer(ISS).with_audience(AUD).with_subject("peer");
    let check = |alg: A, key: VerifyingKey, token: String| {
        let v = Verifier::builder().issuer(ISS).audience(AUD).algorithms([alg]).build(KeySet::new([key])).unwrap();
        let mut scratch = Scratch::new();
        let verified = v.verify(&token, &mut scratch).unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(verified.subject().unwrap(), "peer", "{alg}");
    };
    // A disagreement, on purpose: jwt-simple's `generate()` makes 32-byte
    // secrets for HS384 and HS512 too; RFC 7518 3.2 requires a key at least
    // as long as the hash output, so jwtgate refuses such keys at load.
    assert_eq!(HS384Key::generate().to_bytes().len(), 32);
    assert!(VerifyingKey::hmac(&HS384Key::generate().to_bytes(), A::HS384).is_err());
    assert!(VerifyingKey::hmac(&HS512Key::generate().to_bytes(), A::HS512).is_err());
    let secret: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(151).wrapping_add(7)).collect();
    let hs384 = HS384Key::from_bytes(&secret[..48]);
    check(A::HS384, VerifyingKey::hmac(&secret[..48], A::HS384).unwrap(), hs384.authenticate(claims()).unwrap());
    let hs512 = HS512Key::from_bytes(&secret);
    check(A::HS512, VerifyingKey::hmac(&secret, A::HS512).unwrap(), hs512.authenticate(claims()).unwrap());

    // One RSA key (made by the test kit, loaded by jwt-simple) for all six RSA
    // algorithms; the public half comes from jwt-simple's own export.
    let issuer = Issuer::new(Alg::RS256);
    let pem = issuer.private_pem().unwrap();
    let public = RS256KeyPair::from_pem(&pem).unwrap().public_key().to_pem().unwrap();
    let key = || VerifyingKey::from_pem(&public).unwrap();
    check(A::RS256, key(), RS256KeyPair::from_pem(&pem).unwrap().sign(claims()).unwrap());
    check(A::RS384, key(), RS384KeyPair::from_pem(&pem).unwrap().sign(claims()).unwrap());
    check(A::RS512, key(), RS512KeyPair::from_pem(&pem).unwrap().sign(claims()).unwrap());
    check(A::PS256, key(), PS256KeyPair::from_pem(&pem).unwrap().sign(claims()).unwrap());
    check(A::PS384, key(), PS384KeyPair::from_pem(&pem).unwrap().sign(claims()).unwrap());
    check(A::PS512, key(), PS512KeyPair::from_pem(&pem).unwrap().sign(claims()).unwrap());
}

/// Hostile tokens that both peers refuse for a security reason: jwtgate
/// refuses every one of them too (and the peers' verdicts are checked, so
/// a disagreement would show up here).
#[test]
fn tokens_the_peers_refuse_are_refused_here_too() {
    use jwt_simple::prelude::{NoCustomClaims, RS256PublicKey, RSAPublicKeyLike as _, VerificationOptions};
    let issuer = Issuer::new(Alg::RS256);
    let other = Issuer::new(Alg::RS256);
    let public_pem = issuer.public_pem().unwrap();
    let live = |edit: &dyn Fn(&mut jwtgate_testkit::mint::Request)| {
        issuer.mint(|r| {
            r.now = None;
            edit(r);
        })
    };
    let good = live(&|_| {});
    let (head, rest) = good.split_once('.').unwrap();
    let signature = rest.rsplit_once('.').unwrap().1;
    let payload = |json: serde_json::Value| common::b64(json.to_string());
    let far = 9_999_999_999_i64;
    let hostile: Vec<(&str, String)> = vec![
        (
            "alg none",
            format!(
                "{}.{}.",
                common::b64(r#"{"alg":"none"}"#),
                payload(serde_json::json!({"iss": ISS, "aud": AUD, "exp": far}))
            ),
        ),
        ("HS256 keyed with the public PEM", {
            let dir = tempfile::tempdir().unwrap();
            let jwk = dir.path().join("hmac.json");
            let k = common::b64(public_pem.as_bytes());
            std::fs::write(&jwk, serde_json::json!({"kty": "oct", "k": k, "alg": "HS256"}).to_string()).unwrap();
            let header = format!(r#"{{"alg":"HS256","kid":"{}"}}"#, issuer.kid());
            jwtgate_testkit::mint::sign_raw(
                &jwk,
                &header,
                &serde_json::json!({"iss": ISS, "aud": AUD, "exp": far}).to_string(),
            )
            .unwrap()
        }),
        ("expired", live(&|r| r.ttl = "-1h".into())),
        ("wrong audience", live(&|r| r.aud = vec!["other".into()])),
        ("wrong issuer", live(&|r| r.iss = "https://evil.test".into())),
        (
            "tampered claims",
            format!(
                "{head}.{}.{signature}",
                payload(serde_json::json!({"iss": ISS, "aud": AUD, "exp": far, "sub": "admin"}))
            ),
        ),
        (
            "another key's signature",
            other.mint(|r| {
                r.now = None;
                r.kid = Some(issuer.kid().to_owned());
            }),
        ),
    ];

    let ours = common::builder(jwtgate_verify::Algorithm::RS256)
        .clock(jwtgate_verify::SystemClock)
        .build(issuer.keys())
        .unwrap();
    use_jsonwebtoken_rust_crypto();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[ISS]);
    validation.set_audience(&[AUD]);
    let jwt_key = jsonwebtoken::DecodingKey::from_rsa_pem(public_pem.as_bytes()).unwrap();
    let simple_key = RS256PublicKey::from_pem(&public_pem).unwrap();
    let simple_options = VerificationOptions {
        allowed_issuers: Some([ISS.to_owned()].into()),
        allowed_audiences: Some([AUD.to_owned()].into()),
        ..VerificationOptions::default()
    };
    // The genuine token passes all three, so the refusals below mean something.
    assert_eq!(outcome(&ours, &good), Ok(()));
    assert!(jsonwebtoken::decode::<serde_json::Value>(&good, &jwt_key, &validation).is_ok());
    assert!(simple_key.verify_token::<NoCustomClaims>(&good, Some(simple_options.clone())).is_ok());
    for (what, token) in hostile {
        assert!(
            jsonwebtoken::decode::<serde_json::Value>(&token, &jwt_key, &validation).is_err(),
            "jsonwebtoken: {what}"
        );
        assert!(
            simple_key.verify_token::<NoCustomClaims>(&token, Some(simple_options.clone())).is_err(),
            "jwt-simple: {what}"
        );
        assert!(outcome(&ours, &token).is_err(), "jwtgate: {what}");
    }
}

/// The test kit's keys and tokens are standard: jwt-simple verifies them
/// for every algorithm it has, all but ES512 (jsonwebtoken does too, in
/// tests/tests/testkit_keys_interop.rs).
#[test]
fn jwt_simple_verifies_testkit_tokens_for_every_algorithm() {
    use jwt_simple::prelude::*;
    let options = || VerificationOptions {
        allowed_issuers: Some([ISS.to_owned()].into()),
        allowed_audiences: Some([AUD.to_owned()].into()),
        ..VerificationOptions::default()
    };
    for alg in Alg::ALL.into_iter().filter(|&alg| alg != Alg::ES512) {
        let issuer = Issuer::new(alg);
        let token = issuer.mint(|r| r.now = None);
        let secret = || {
            let jwk: serde_json::Value = serde_json::from_str(&issuer.private_jwk()).unwrap();
            common::unb64(jwk["k"].as_str().unwrap())
        };
        let pem = || issuer.public_pem().unwrap();
        let verified = match alg.name() {
            "HS256" => HS256Key::from_bytes(&secret()).verify_token::<NoCustomClaims>(&token, Some(options())),
            "HS384" => HS384Key::from_bytes(&secret()).verify_token::<NoCustomClaims>(&token, Some(options())),
            "HS512" => HS512Key::from_bytes(&secret()).verify_token::<NoCustomClaims>(&token, Some(options())),
            "RS256" => {
                RS256PublicKey::from_pem(&pem()).unwrap().verify_token::<NoCustomClaims>(&token, Some(options()))
            }
            "RS384" => {
                RS384PublicKey::from_pem(&pem()).unwrap().verify_token::<NoCustomClaims>(&token, Some(options()))
            }
            "RS512" => {
                RS512PublicKey::from_pem(&pem()).unwrap().verify_token::<NoCustomClaims>(&token, Some(options()))
            }
            "PS256" => {
                PS256PublicKey::from_pem(&pem()).unwrap().verify_token::<NoCustomClaims>(&token, Some(options()))
            }
            "PS384" => {
                PS384PublicKey::from_pem(&pem()).unwrap().verify_token::<NoCustomClaims>(&token, Some(options()))
            }
            "PS512" => {
                PS512PublicKey::from_pem(&pem()).unwrap().verify_token::<NoCustomClaims>(&token, Some(options()))
            }
            "ES256" => {
                ES256PublicKey::from_pem(&pem()).unwrap().verify_token::<NoCustomClaims>(&token, Some(options()))
            }
            "ES384" => {
                ES384PublicKey::from_pem(&pem()).unwrap().verify_token::<NoCustomClaims>(&token, Some(options()))
            }
            "EdDSA" => {
                Ed25519PublicKey::from_pem(&pem()).unwrap().verify_token::<NoCustomClaims>(&token, Some(options()))
            }
            other => panic!("{other}"),
        };
        assert!(verified.is_ok(), "{alg}: {verified:?}");
    }
}
