//! Keys written by the test kit's keygen and tokens signed by its mint
//! (what `cargo xtask keygen` and `cargo xtask mint` run) are standard: an
//! independent implementation (jsonwebtoken, with its pure-Rust backend)
//! verifies them from the files, for every algorithm it has (all but ES512).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "test code")]

use std::path::Path;

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use jwtgate_testkit::alg::{Alg, Signing as _};
use jwtgate_testkit::{keygen, mint};
use serde_json::Value;

const ISS: &str = "https://issuer.test";
const AUD: &str = "api.test";

/// The workspace builds jsonwebtoken with both of its backends
/// (jwtgate-verify's bench compares against each); with both compiled in, a
/// process must pick one.
fn use_jsonwebtoken_rust_crypto() {
    // Err means a provider is already installed: the same one, by this.
    let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
}

fn peer_alg(alg: Alg) -> Algorithm {
    alg.name().parse().unwrap()
}

/// jsonwebtoken 11 has no ES512 (its `Algorithm` stops at ES384); should it
/// gain it, this fails and ES512 joins the round trip.
fn peer_has(alg: Alg) -> bool {
    let has = alg.name().parse::<Algorithm>().is_ok();
    assert_eq!(has, alg != Alg::ES512, "{alg}");
    has
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every way the key files offer to build a verification key.
fn decoding_keys(written: &keygen::Written, alg: Alg) -> Vec<(&'static str, DecodingKey)> {
    let Some(public_jwk) = &written.public_jwk else {
        let private = read_json(&written.private_jwk);
        let jwk: Jwk = serde_json::from_value(private).unwrap();
        return vec![("oct JWK", DecodingKey::from_jwk(&jwk).unwrap())];
    };
    let jwk: Jwk = serde_json::from_value(read_json(public_jwk)).unwrap();
    let pem = std::fs::read(written.public_pem.as_ref().unwrap()).unwrap();
    let from_pem = match alg.kty() {
        "RSA" => DecodingKey::from_rsa_pem(&pem).unwrap(),
        "EC" => DecodingKey::from_ec_pem(&pem).unwrap(),
        "OKP" => DecodingKey::from_ed_pem(&pem).unwrap(),
        other => panic!("unexpected kty {other}"),
    };
    // The JWKS must list the same key under the same kid.
    let jwks = read_json(written.jwks.as_ref().unwrap());
    let listed = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == written.kid.as_str()).unwrap();
    assert_eq!(listed, &read_json(public_jwk));
    vec![("public JWK", DecodingKey::from_jwk(&jwk).unwrap()), ("public PEM", from_pem)]
}

fn mint_for(written: &keygen::Written) -> String {
    mint::run(&mint::Request {
        key: written.private_jwk.clone(),
        iss: ISS.to_owned(),
        aud: vec![AUD.to_owned()],
        sub: "user-1".to_owned(),
        ttl: "5m".to_owned(),
        claims: Some(r#"{"scope":"read"}"#.to_owned()),
        typ: "at+jwt".to_owned(),
        ..mint::Request::default()
    })
    .unwrap()
}

fn validation(alg: Alg) -> Validation {
    let mut v = Validation::new(peer_alg(alg));
    v.set_issuer(&[ISS]);
    v.set_audience(&[AUD]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    v
}

#[test]
fn every_algorithm_round_trips_through_jsonwebtoken() {
    use_jsonwebtoken_rust_crypto();
    let dir = tempfile::tempdir().unwrap();
    for alg in Alg::ALL.into_iter().filter(|&alg| peer_has(alg)) {
        let req = keygen::Request { alg, bits: None, kid: None, out: dir.path().to_path_buf(), force: false };
        let written = keygen::run(&req).unwrap_or_else(|e| panic!("keygen {alg}: {e}"));
        let token = mint_for(&written);
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(written.kid.as_str()), "{alg}");
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        for (source, key) in decoding_keys(&written, alg) {
            let data = decode::<Value>(&token, &key, &validation(alg))
                .unwrap_or_else(|e| panic!("jsonwebtoken rejected a test kit {alg} token with the {source}: {e}"));
            assert_eq!(data.claims["sub"], "user-1");
            assert_eq!(data.claims["scope"], "read");
        }
    }
}

#[test]
fn a_token_does_not_verify_with_another_key_of_the_same_algorithm() {
    use_jsonwebtoken_rust_crypto();
    let dir = tempfile::tempdir().unwrap();
    for alg in [Alg::HS256, Alg::RS256, Alg::ES256, Alg::ES384, Alg::EdDSA] {
        let make = |kid: &str| {
            keygen::run(&keygen::Request {
                alg,
                bits: None,
                kid: Some(kid.to_owned()),
                out: dir.path().to_path_buf(),
                force: false,
            })
            .unwrap()
        };
        let signer = make(&format!("{alg}-a"));
        let other = make(&format!("{alg}-b"));
        let token = mint_for(&signer);
        for (source, key) in decoding_keys(&other, alg) {
            assert!(decode::<Value>(&token, &key, &validation(alg)).is_err(), "{alg} verified with another {source}");
        }
    }
}

#[test]
fn rsa_sizes_and_rsa_tokens_from_larger_keys() {
    use_jsonwebtoken_rust_crypto();
    let dir = tempfile::tempdir().unwrap();
    let written = keygen::run(&keygen::Request {
        alg: Alg::PS512,
        bits: Some(3072),
        kid: None,
        out: dir.path().to_path_buf(),
        force: false,
    })
    .unwrap();
    let token = mint_for(&written);
    let signature = token.rsplit('.').next().unwrap();
    assert_eq!(signature.len(), 512, "3072-bit signature is 384 bytes = 512 base64url chars");
    for (_, key) in decoding_keys(&written, Alg::PS512) {
        decode::<Value>(&token, &key, &validation(Alg::PS512)).unwrap();
    }
    let err = keygen::run(&keygen::Request {
        alg: Alg::RS256,
        bits: Some(1024),
        kid: None,
        out: dir.path().to_path_buf(),
        force: false,
    })
    .unwrap_err();
    assert!(err.to_string().contains("2048"), "{err}");
}
