//! Both backends must give the same verdict on every input: valid
//! signatures from every algorithm, and systematic corruptions of them.
//! (Wycheproof vectors extend this in the conformance suite.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwtgate_testkit::alg::Alg;

use super::aws_lc::AwsLc;
use super::rustcrypto::RustCrypto;
use super::{Ed25519Point, Provider, RsaPadding};
use crate::algorithm::{Algorithm, Hash};

/// This crate's algorithm of a test kit algorithm (the kit has its own enum:
/// it depends on no jwtgate crate, so these tests link one copy of this one).
const fn algorithm(alg: Alg) -> Algorithm {
    match alg {
        Alg::HS256 => Algorithm::HS256,
        Alg::HS384 => Algorithm::HS384,
        Alg::HS512 => Algorithm::HS512,
        Alg::RS256 => Algorithm::RS256,
        Alg::RS384 => Algorithm::RS384,
        Alg::RS512 => Algorithm::RS512,
        Alg::PS256 => Algorithm::PS256,
        Alg::PS384 => Algorithm::PS384,
        Alg::PS512 => Algorithm::PS512,
        Alg::ES256 => Algorithm::ES256,
        Alg::ES384 => Algorithm::ES384,
        Alg::ES512 => Algorithm::ES512,
        Alg::EdDSA => Algorithm::EdDSA,
    }
}

struct Keys<P: Provider> {
    hmac: Option<P::Hmac>,
    rsa: Option<P::Rsa>,
    p256: Option<P::P256>,
    p384: Option<P::P384>,
    p521: Option<P::P521>,
    ed25519: Option<P::Ed25519>,
}

fn member(jwk: &serde_json::Value, name: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(jwk[name].as_str().unwrap()).unwrap()
}

/// The uncompressed SEC1 point of an EC JWK.
fn sec1(jwk: &serde_json::Value) -> Vec<u8> {
    [&[4u8][..], &member(jwk, "x"), &member(jwk, "y")].concat()
}

fn load<P: Provider>(jwk: &serde_json::Value) -> Keys<P> {
    let kty = jwk["kty"].as_str().unwrap();
    let ec = |crv: &str| kty == "EC" && jwk["crv"] == crv;
    Keys {
        hmac: (kty == "oct").then(|| P::hmac_key(&member(jwk, "k")).unwrap()),
        rsa: (kty == "RSA").then(|| P::rsa_key(&member(jwk, "n"), &member(jwk, "e")).unwrap()),
        p256: ec("P-256").then(|| P::p256_key(&sec1(jwk)).unwrap()),
        p384: ec("P-384").then(|| P::p384_key(&sec1(jwk)).unwrap()),
        p521: ec("P-521").then(|| P::p521_key(&sec1(jwk)).unwrap()),
        ed25519: (kty == "OKP").then(|| P::ed25519_key(&Ed25519Point::new(&member(jwk, "x")).unwrap()).unwrap()),
    }
}

fn verdict<P: Provider>(keys: &Keys<P>, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
    let hash = alg.hash();
    let pkcs1 = matches!(alg, Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512);
    let padding = if pkcs1 { RsaPadding::Pkcs1v15 } else { RsaPadding::Pss };
    match keys {
        Keys { hmac: Some(k), .. } => P::verify_hmac(k, hash, message, signature),
        Keys { rsa: Some(k), .. } => P::verify_rsa(k, padding, hash, message, signature),
        Keys { p256: Some(k), .. } => P::verify_p256(k, message, signature),
        Keys { p384: Some(k), .. } => P::verify_p384(k, message, signature),
        Keys { p521: Some(k), .. } => P::verify_p521(k, message, signature),
        Keys { ed25519: Some(k), .. } => P::verify_ed25519(k, message, signature),
        _ => unreachable!(),
    }
}

fn corruptions(signature: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![("valid".to_owned(), signature.to_vec())];
    for i in [0, signature.len() / 2, signature.len() - 1] {
        let mut s = signature.to_vec();
        s[i] ^= 0x01;
        out.push((format!("bit flip at {i}"), s));
    }
    out.push(("truncated".into(), signature[..signature.len() - 1].to_vec()));
    out.push(("extended".into(), [signature, &[0]].concat()));
    out.push(("leading zero".into(), [&[0], signature].concat()));
    out.push(("all zero".into(), vec![0; signature.len()]));
    out.push(("all ones".into(), vec![0xff; signature.len()]));
    out.push(("empty".into(), Vec::new()));
    out
}

#[test]
fn backends_agree_on_every_algorithm_and_corruption() {
    let dir = tempfile::tempdir().unwrap();
    for alg in Alg::ALL {
        let req = jwtgate_testkit::keygen::Request { alg, bits: None, kid: None, out: dir.path().into(), force: true };
        let written = jwtgate_testkit::keygen::run(&req).unwrap();
        let jwk: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&written.private_jwk).unwrap()).unwrap();
        let token = jwtgate_testkit::mint::run(&jwtgate_testkit::mint::Request {
            key: written.private_jwk.clone(),
            iss: "i".into(),
            aud: vec!["a".into()],
            sub: "s".into(),
            ttl: "5m".into(),
            ..Default::default()
        })
        .unwrap();
        let (input, sig) = token.rsplit_once('.').unwrap();
        let signature = URL_SAFE_NO_PAD.decode(sig).unwrap();
        let algorithm = algorithm(alg);
        let (ours, theirs) = (load::<RustCrypto>(&jwk), load::<AwsLc>(&jwk));
        for (what, sig) in corruptions(&signature) {
            for message in [input.as_bytes(), &input.as_bytes()[1..]] {
                let a = verdict(&ours, algorithm, message, &sig);
                let b = verdict(&theirs, algorithm, message, &sig);
                assert_eq!(a, b, "{alg} {what}: rustcrypto {a}, aws-lc-rs {b}");
                assert_eq!(a, what == "valid" && message.len() == input.len(), "{alg} {what}");
            }
        }
        // HS*: the other hash sizes never verify the tag.
        if let (Some(mine), Some(native)) = (&ours.hmac, &theirs.hmac) {
            for hash in [Hash::Sha256, Hash::Sha384, Hash::Sha512].into_iter().filter(|h| *h != algorithm.hash()) {
                let a = RustCrypto::verify_hmac(mine, hash, input.as_bytes(), &signature);
                let b = AwsLc::verify_hmac(native, hash, input.as_bytes(), &signature);
                assert!(!a && !b);
            }
        }
    }
}

#[test]
fn backends_agree_on_key_acceptance() {
    // Off-curve P-256, small and large RSA moduli, short keys.
    let off_curve = [&[4u8][..], &[1u8; 32], &[2u8; 32]].concat();
    assert_eq!(RustCrypto::p256_key(&off_curve).is_ok(), AwsLc::p256_key(&off_curve).is_ok());
    assert!(AwsLc::p256_key(&off_curve).is_err());
    // The generator G, compressed (03 || x): a valid point, refused by the
    // key constructor on either backend so that both accept the same keys.
    let mut compressed_g = vec![3u8];
    compressed_g.extend((0..32).map(|i| {
        u8::from_str_radix(&"6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296"[2 * i..2 * i + 2], 16)
            .unwrap()
    }));
    assert!(crate::VerifyingKey::p256(&compressed_g).is_err());
    // P-384 and P-521: off the curve, a coordinate of all ones (>= p; for
    // P-521 also above 2^521), and each curve's point given to the others.
    for size in [48usize, 66] {
        let off_curve = [&[4u8][..], &vec![1u8; size], &vec![2u8; size]].concat();
        let too_big = [&[4u8][..], &vec![0xffu8; size], &vec![2u8; size]].concat();
        for point in [off_curve, too_big] {
            assert!(RustCrypto::p384_key(&point).is_err() && AwsLc::p384_key(&point).is_err(), "{size}");
            assert!(RustCrypto::p521_key(&point).is_err() && AwsLc::p521_key(&point).is_err(), "{size}");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let point_of = |alg: Alg| {
        let req = jwtgate_testkit::keygen::Request { alg, bits: None, kid: None, out: dir.path().into(), force: true };
        let written = jwtgate_testkit::keygen::run(&req).unwrap();
        sec1(&serde_json::from_str(&std::fs::read_to_string(&written.private_jwk).unwrap()).unwrap())
    };
    let (p256, p384, p521) = (point_of(Alg::ES256), point_of(Alg::ES384), point_of(Alg::ES512));
    assert!(RustCrypto::p384_key(&p384).is_ok() && AwsLc::p384_key(&p384).is_ok());
    assert!(RustCrypto::p521_key(&p521).is_ok() && AwsLc::p521_key(&p521).is_ok());
    for (what, point) in [("P-256", &p256), ("P-521", &p521)] {
        assert!(RustCrypto::p384_key(point).is_err() && AwsLc::p384_key(point).is_err(), "{what} as P-384");
    }
    for (what, point) in [("P-256", &p256), ("P-384", &p384)] {
        assert!(RustCrypto::p521_key(point).is_err() && AwsLc::p521_key(point).is_err(), "{what} as P-521");
    }
    for (what, point) in [("P-384", &p384), ("P-521", &p521)] {
        assert!(RustCrypto::p256_key(point).is_err() && AwsLc::p256_key(point).is_err(), "{what} as P-256");
    }
    // A valid point, compressed: RustCrypto alone would load it; the key
    // constructors refuse it before either backend, as for P-256.
    let compressed = |point: &[u8]| {
        let mut c = point[..point.len() / 2 + 1].to_vec();
        c[0] = 2 | (point[point.len() - 1] & 1);
        c
    };
    assert!(RustCrypto::p384_key(&compressed(&p384)).is_ok());
    assert!(RustCrypto::p521_key(&compressed(&p521)).is_ok());
    assert!(crate::VerifyingKey::p384(&compressed(&p384)).is_err());
    assert!(crate::VerifyingKey::p521(&compressed(&p521)).is_err());
    // Weak and non-canonical Ed25519 keys never reach a backend: the
    // shared `Ed25519Point` check refuses them (backend::tests, and
    // tests/keys.rs through key loading on each backend).
    for bits in [1024usize, 2040, 8200] {
        let mut n = vec![0xC3u8; bits.div_ceil(8)];
        n[0] = 0x80;
        *n.last_mut().unwrap() |= 1;
        assert!(RustCrypto::rsa_key(&n, &[1, 0, 1]).is_err(), "{bits}");
        assert!(AwsLc::rsa_key(&n, &[1, 0, 1]).is_err(), "{bits}");
    }
}
