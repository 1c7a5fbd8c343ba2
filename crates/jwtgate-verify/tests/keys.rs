//! Key loading: every format, every refusal, JWKS skip reports.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Issuer, b64, builder, outcome, ready};
use jwtgate_testkit::alg::Alg;
use jwtgate_verify::{
    Algorithm, Error, KeyError, KeyFamily, KeyOrigin, KeyQuery, KeyResolver, KeySet, Scratch, Verifier, VerifyingKey,
};

#[test]
fn every_algorithm_loads_from_jwk_and_pem_and_verifies() {
    for alg in Alg::ALL {
        let issuer = Issuer::new(alg);
        let algorithm = issuer.algorithm();
        let mut sources = vec![("jwk", VerifyingKey::from_jwk_str(&issuer.jwk_public()).unwrap())];
        if let Some(pem) = issuer.public_pem() {
            let key = VerifyingKey::from_pem(&pem).unwrap().with_kid(issuer.kid()).unwrap();
            sources.push(("pem", key));
        }
        for (source, key) in sources {
            assert!(key.fits(algorithm), "{alg} {source}");
            let v = builder(algorithm).build(KeySet::new([key])).unwrap();
            assert_eq!(outcome(&v, &issuer.token()), Ok(()), "{alg} from {source}");
        }
    }
}

#[test]
fn rsa_below_2048_bits_is_refused() {
    // A 1024-bit modulus (top bit set, odd): the size check refuses it.
    let mut n = vec![0xC3u8; 128];
    n[127] |= 1;
    let jwk = format!(r#"{{"kty":"RSA","n":"{}","e":"AQAB"}}"#, b64(&n));
    assert!(matches!(VerifyingKey::from_jwk_str(&jwk), Err(KeyError::BadKeySize(_))));
    // 2047 bits: still refused (the top byte has its highest bit clear).
    let mut n = vec![0x7Fu8; 256];
    n[255] |= 1;
    let jwk = format!(r#"{{"kty":"RSA","n":"{}","e":"AQAB"}}"#, b64(&n));
    assert!(matches!(VerifyingKey::from_jwk_str(&jwk), Err(KeyError::BadKeySize(_))));
}

#[test]
fn short_hmac_secrets_are_refused() {
    assert!(matches!(VerifyingKey::hmac(&[7u8; 31], Algorithm::HS256), Err(KeyError::BadKeySize(_))));
    assert!(VerifyingKey::hmac(&[7u8; 32], Algorithm::HS256).is_ok());
    assert!(matches!(VerifyingKey::hmac(&[7u8; 47], Algorithm::HS384), Err(KeyError::BadKeySize(_))));
    assert!(matches!(VerifyingKey::hmac(&[7u8; 63], Algorithm::HS512), Err(KeyError::BadKeySize(_))));
    assert_eq!(VerifyingKey::hmac(&[7u8; 64], Algorithm::RS256).unwrap_err(), KeyError::AlgMismatch);
    // An unbound 32-byte secret fits HS256 but not HS512.
    let jwk = format!(r#"{{"kty":"oct","k":"{}"}}"#, b64([1u8; 32]));
    let key = VerifyingKey::from_jwk_str(&jwk).unwrap();
    assert!(key.fits(Algorithm::HS256) && !key.fits(Algorithm::HS512));
    assert_eq!(key.family(), KeyFamily::Hmac);
}

#[test]
fn invalid_curve_points_and_weak_ed25519_keys_are_refused() {
    let off_curve = format!(r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"}}"#, b64([1u8; 32]), b64([2u8; 32]));
    assert!(matches!(VerifyingKey::from_jwk_str(&off_curve), Err(KeyError::InvalidKey(_))));
    let short = format!(r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"}}"#, b64([1u8; 31]), b64([2u8; 32]));
    assert!(matches!(VerifyingKey::from_jwk_str(&short), Err(KeyError::InvalidKey(_))));
    // Every encoding of an Ed25519 point of small order and every
    // non-canonical encoding, refused by the backend this build uses
    // (the suite runs once per backend).
    for weak in weak_ed25519_encodings() {
        let jwk = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#, b64(weak));
        assert!(matches!(VerifyingKey::from_jwk_str(&jwk), Err(KeyError::InvalidKey(_))), "{weak:02x?}");
    }
    // The identity spelled y = p + 1 with the sign bit: AWS-LC alone would
    // load it, ed25519-dalek refuses it (issue 17).
    let identity = r#"{"kty":"OKP","crv":"Ed25519","x":"7v________________________________________8"}"#;
    assert!(matches!(VerifyingKey::from_jwk_str(identity), Err(KeyError::InvalidKey(_))));
    // P-384 and P-521: off the curve, a coordinate one byte short (RFC 7518
    // 6.2.1.2 wants the full width, leading zeros kept), and the other
    // curve's width.
    for (crv, size, other) in [("P-384", 48, 66), ("P-521", 66, 48)] {
        let jwk = |x: usize, y: usize, fill: u8| {
            format!(r#"{{"kty":"EC","crv":"{crv}","x":"{}","y":"{}"}}"#, b64(vec![fill; x]), b64(vec![2u8; y]))
        };
        for (what, bad) in [
            ("off the curve", jwk(size, size, 1)),
            ("x >= p", jwk(size, size, 0xff)),
            ("short x", jwk(size - 1, size, 1)),
            ("short y", jwk(size, size - 1, 1)),
            ("other width", jwk(other, other, 1)),
        ] {
            assert!(matches!(VerifyingKey::from_jwk_str(&bad), Err(KeyError::InvalidKey(_))), "{crv} {what}");
        }
    }
    let secp256k1 = format!(r#"{{"kty":"EC","crv":"secp256k1","x":"{}","y":"{}"}}"#, b64([1u8; 32]), b64([2u8; 32]));
    assert_eq!(VerifyingKey::from_jwk_str(&secp256k1).unwrap_err(), KeyError::UnsupportedCurve);
    let x25519 = format!(r#"{{"kty":"OKP","crv":"X25519","x":"{}"}}"#, b64([9u8; 32]));
    assert_eq!(VerifyingKey::from_jwk_str(&x25519).unwrap_err(), KeyError::UnsupportedCurve);
}

/// Every Ed25519 encoding a key must not have, with both sign bits: the
/// y of each point of small order (1 and p - 1 where x = 0, 0 for order
/// 4, two for order 8; RFC 8032 5.1.2 encoding, little-endian), and every
/// y >= p (that is y + p for y in 0..=18, the only ones below 2^255).
fn weak_ed25519_encodings() -> Vec<[u8; 32]> {
    let small_order_y = [
        "0100000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    ]
    .map(|hex| -> [u8; 32] {
        let bytes: Vec<u8> = (0..32).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()).collect();
        bytes.try_into().unwrap()
    });
    let non_canonical_y = (0u8..19).map(|y| {
        let mut e = [0xffu8; 32];
        e[0] = 0xed + y;
        e[31] = 0x7f;
        e
    });
    let mut out = Vec::new();
    for y in small_order_y.into_iter().chain(non_canonical_y) {
        let mut negative = y;
        negative[31] |= 0x80;
        out.extend([y, negative]);
    }
    assert_eq!(out.len(), 2 * (5 + 19));
    out
}

#[test]
fn use_and_key_ops_are_honoured() {
    let issuer = Issuer::new(Alg::ES256);
    let mut jwk: serde_json::Value = serde_json::from_str(&issuer.jwk_public()).unwrap();
    jwk["use"] = "enc".into();
    assert_eq!(VerifyingKey::from_jwk_value(jwk.clone()).unwrap_err(), KeyError::NotForSignatures);
    jwk["use"] = "sig".into();
    jwk["key_ops"] = serde_json::json!(["sign"]);
    assert_eq!(VerifyingKey::from_jwk_value(jwk.clone()).unwrap_err(), KeyError::VerifyNotAllowed);
    jwk["key_ops"] = serde_json::json!(["verify"]);
    assert!(VerifyingKey::from_jwk_value(jwk.clone()).is_ok());
    // Another family, or another curve's algorithm, on this P-256 key.
    for alg in ["RS256", "ES384", "ES512"] {
        jwk["alg"] = alg.into();
        assert_eq!(VerifyingKey::from_jwk_value(jwk.clone()).unwrap_err(), KeyError::AlgMismatch, "{alg}");
    }
    // Names of no algorithm verified here are refused by name, whatever
    // jose-jwk knows of them; long ones are cut.
    for (alg, shown) in [
        ("RSA-OAEP", "RSA-OAEP"),
        ("ES256K", "ES256K"),
        ("none", "none"),
        ("es256", "es256"),
        (&"X".repeat(100), &"X".repeat(32)),
    ] {
        jwk["alg"] = alg.into();
        let err = VerifyingKey::from_jwk_value(jwk.clone()).unwrap_err();
        assert_eq!(err, KeyError::UnsupportedAlg(shown.to_owned()), "{alg}");
        assert!(VerifyingKey::from_jwk_str(&jwk.to_string()).is_err());
    }
    assert!(
        KeyError::UnsupportedAlg("RSA-OAEP".into()).to_string().contains("\"RSA-OAEP\" is not a signature algorithm")
    );
}

#[test]
fn pem_refuses_private_keys_and_garbage() {
    let issuer = Issuer::new(Alg::EdDSA);
    let private = issuer.private_pem().unwrap();
    assert!(matches!(VerifyingKey::from_pem(&private), Err(KeyError::InvalidPem(_))));
    assert!(matches!(VerifyingKey::from_pem("not pem"), Err(KeyError::InvalidPem(_))));
    assert!(matches!(VerifyingKey::from_spki_der(&[0x30, 0x00]), Err(KeyError::InvalidPem(_))));
}

#[test]
fn jwks_skips_unusable_members_and_reports_them() {
    let es = Issuer::with_kid(Alg::ES256, "good-ec");
    let ed = Issuer::with_kid(Alg::EdDSA, "good-ed");
    let jwks = format!(
        r#"{{"keys":[
            {},
            {{"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"}},
            {{"kty":"XYZ","kid":"unknown-kty"}},
            {{"kty":"EC","kid":"p521","crv":"P-521","x":"AA","y":"AA"}},
            {{"kty":"oct","kid":"secret","k":"{}"}},
            "not an object",
            {}
        ]}}"#,
        es.jwk_public(),
        b64([5u8; 32]),
        ed.jwk_public()
    );
    let local = KeySet::from_jwks_str(&jwks, KeyOrigin::Local).unwrap();
    let kids: Vec<_> = local.keys().iter().map(|k| k.kid().unwrap()).collect();
    assert_eq!(kids, ["good-ec", "secret", "good-ed"]);
    let skipped: Vec<_> = local.skipped().iter().map(|s| (s.index, s.kid.clone())).collect();
    assert_eq!(
        skipped,
        [(1, Some("enc".into())), (2, Some("unknown-kty".into())), (3, Some("p521".into())), (5, None)]
    );

    let remote = KeySet::from_jwks_str(&jwks, KeyOrigin::Remote).unwrap();
    let kids: Vec<_> = remote.keys().iter().map(|k| k.kid().unwrap()).collect();
    assert_eq!(kids, ["good-ec", "good-ed"]);
    assert!(remote.skipped().iter().any(|s| s.reason == KeyError::SymmetricFromRemote));
    assert_eq!(remote.algorithms(), [Algorithm::ES256, Algorithm::EdDSA]);

    // Both good keys still verify their tokens.
    let v = builder(Algorithm::ES256).algorithms([Algorithm::EdDSA]).build(remote).unwrap();
    assert_eq!(outcome(&v, &es.token()), Ok(()));
    assert_eq!(outcome(&v, &ed.token()), Ok(()));
}

#[test]
fn not_a_jwks_is_an_error() {
    for doc in ["", "[]", "{}", r#"{"keys":{}}"#, "{\"keys\":[]} x"] {
        assert!(matches!(KeySet::from_jwks_str(doc, KeyOrigin::Local), Err(KeyError::InvalidJwk(_))), "{doc}");
    }
    assert!(KeySet::from_jwks_str(r#"{"keys":[]}"#, KeyOrigin::Local).unwrap().is_empty());
}

#[test]
fn debug_output_never_shows_key_material() {
    let secret = [0xABu8; 32];
    let key = VerifyingKey::hmac(&secret, Algorithm::HS256).unwrap().with_kid("k").unwrap();
    let text = format!("{key:?}");
    assert_eq!(text, "VerifyingKey(HMAC secret of 32 bytes kid=\"k\" alg=HS256)");
}

#[test]
fn without_kid_at_most_three_keys_are_tried() {
    // Five unrelated ES256 keys before the right one: a kid-less token is
    // tried against the first three only.
    let right = Issuer::with_kid(Alg::ES256, "right");
    let mut keys: Vec<VerifyingKey> = (0..5)
        .map(|i| VerifyingKey::from_jwk_str(&Issuer::with_kid(Alg::ES256, &format!("w{i}")).jwk_public()).unwrap())
        .collect();
    keys.push(VerifyingKey::from_jwk_str(&right.jwk_public()).unwrap());
    let v = builder(Algorithm::ES256).build(KeySet::new(keys)).unwrap();
    let no_kid = right.mint(|r| r.header = Some(r#"{"kid":null}"#.into()));
    // A null kid is a type error in the header: malformed.
    assert_eq!(outcome(&v, &no_kid), Err("malformed"));
    let header = r#"{"alg":"ES256","typ":"at+jwt"}"#;
    let payload = format!(r#"{{"iss":"{}","aud":"{}","exp":{}}}"#, common::ISS, common::AUD, common::NOW + 60);
    let kidless = jwtgate_testkit::mint::sign_raw(&right.written.private_jwk, header, &payload).unwrap();
    assert_eq!(outcome(&v, &kidless), Err("bad_signature"));
    assert_eq!(outcome(&v, &right.token()), Ok(()), "with its kid it is found");
}

#[test]
fn a_kid_no_token_could_name_is_refused_at_load() {
    let issuer = Issuer::new(Alg::ES256);
    let mut jwk: serde_json::Value = serde_json::from_str(&issuer.jwk_public()).unwrap();
    jwk["kid"] = "k".repeat(jwtgate_verify::MAX_KID_BYTES).into();
    assert!(VerifyingKey::from_jwk_value(jwk.clone()).is_ok());
    jwk["kid"] = "k".repeat(jwtgate_verify::MAX_KID_BYTES + 1).into();
    assert!(VerifyingKey::from_jwk_value(jwk).is_err());
}

#[test]
fn a_bad_base64_member_is_named() {
    let issuer = Issuer::new(Alg::ES256);
    let mut jwk: serde_json::Value = serde_json::from_str(&issuer.jwk_public()).unwrap();
    // A SHA-1 thumbprint in the standard alphabet, a common slip.
    jwk["x5t"] = "q+/S3PLsKq2TRoTfIWZQsw4yW1k".into();
    match VerifyingKey::from_jwk_value(jwk.clone()) {
        Err(KeyError::InvalidJwk(message)) => assert!(message.contains("member \"x5t\""), "{message}"),
        other => panic!("{other:?}"),
    }
    jwk["x5t"] = "q-_S3PLsKq2TRoTfIWZQsw4yW1k".into();
    assert!(VerifyingKey::from_jwk_value(jwk).is_ok());
}

/// A key source holding a fixed set that counts the refreshes it is asked
/// for (a refresh changes nothing).
struct Counting {
    keys: KeySet,
    refreshes: AtomicUsize,
}

impl Counting {
    fn new(keys: KeySet) -> Self {
        Self { keys, refreshes: AtomicUsize::new(0) }
    }
}

impl KeyResolver for Counting {
    type Keys<'a> = &'a KeySet;

    const REFRESHES: bool = true;

    fn current(&self) -> Result<&KeySet, Error> {
        Ok(&self.keys)
    }

    fn refresh(&self, _: KeyQuery<'_>) -> impl Future<Output = Result<(), Error>> + Send {
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        std::future::ready(Ok(()))
    }
}

#[test]
fn a_kid_longer_than_any_key_can_have_is_refused_however_spelled() {
    let issuer = Issuer::new(Alg::ES256);
    let payload = format!(r#"{{"iss":"{}","aud":"{}","exp":{}}}"#, common::ISS, common::AUD, common::NOW + 60);
    let max = jwtgate_verify::MAX_KID_BYTES;
    for (len, want) in [(max, Ok(())), (max + 1, Err("key_not_found"))] {
        let kid = "k".repeat(len);
        // No key can carry a kid longer than the limit: `with_kid` refuses
        // it, and the set then holds the same key without a kid.
        let bare = || VerifyingKey::from_jwk_str(&issuer.jwk_public()).unwrap();
        let named = bare().with_kid(kid.clone());
        assert_eq!(named.is_err(), len > max);
        if let Err(e) = &named {
            assert_eq!(*e, KeyError::KidTooLong { max });
        }
        let key = || bare().with_kid(kid.clone()).unwrap_or_else(|_| bare());
        let v = builder(Algorithm::ES256).build(KeySet::new([key()])).unwrap();
        // The same key behind a source that refreshes, and a source that
        // has no key for the kid: verify_async must not ask either to
        // refresh for a kid no key can have (issue 17).
        let holding = builder(Algorithm::ES256).build(Counting::new(KeySet::new([key()]))).unwrap();
        let lacking = builder(Algorithm::ES256).build(Counting::new(KeySet::default())).unwrap();
        // Raw and unescaped text differ in length: the bound is on the
        // unescaped kid, in both the sync and the async path.
        let escaped = format!("\\u006b{}", &kid[1..]);
        for spelled in [&kid, &escaped] {
            let header = format!(r#"{{"alg":"ES256","kid":"{spelled}"}}"#);
            let token = jwtgate_testkit::mint::sign_raw(&issuer.written.private_jwk, &header, &payload).unwrap();
            let what = format!("kid of {len} bytes, escaped: {}", spelled.starts_with('\\'));
            assert_eq!(outcome(&v, &token), want, "{what}");
            let async_outcome = |v: &Verifier<Counting>| {
                ready(v.verify_async(&token, &mut Scratch::new())).map(|_| ()).map_err(|e| e.code())
            };
            assert_eq!(async_outcome(&holding), want, "{what}");
            assert_eq!(async_outcome(&lacking), Err("key_not_found"), "{what}");
        }
        // A kid that fits and is missing asks once per verification; one
        // too long for any key never asks.
        let asked = if len > max { 0 } else { 2 };
        assert_eq!(holding.keys().refreshes.load(Ordering::SeqCst), 0, "kid of {len} bytes: found without a refresh");
        assert_eq!(lacking.keys().refreshes.load(Ordering::SeqCst), asked, "kid of {len} bytes");
    }
}

/// RSA public exponents: 1 and even exponents make no signature scheme
/// (e = 1 "verifies" anything equal to its padded digest); both backends
/// must refuse them and agree on the rest.
#[test]
fn rsa_exponents_are_checked_alike_on_both_backends() {
    let issuer = Issuer::new(Alg::RS256);
    let jwk: serde_json::Value = serde_json::from_str(&issuer.jwk_public()).unwrap();
    let with_e = |e: &[u8]| {
        let mut k = jwk.clone();
        k["e"] = b64(e).into();
        VerifyingKey::from_jwk_value(k)
    };
    for e in [&[1u8][..], &[2], &[4], &[0, 1], &[1, 0, 0]] {
        assert!(with_e(e).is_err(), "e = {e:?}");
    }
    assert!(with_e(&[1, 0, 1]).is_ok(), "65537");
    assert!(with_e(&[3]).is_ok(), "3");
}
