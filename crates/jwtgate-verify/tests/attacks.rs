//! The known-attack catalogue: each test is one way a JWT verifier has been
//! broken, and asserts the exact rejection code jwtgate answers with.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

mod common;

use common::{ISS, Issuer, b64, builder, outcome, signature_of, verifier_for, with_parts, with_signature};
use jwtgate_testkit::alg::Alg;
use jwtgate_testkit::mint;
use jwtgate_verify::{Algorithm, KeyError, KeySet, Scratch, VerifyingKey};

/// `alg: none` (CVE-2015-9235; Auth0, "Critical vulnerabilities in JSON
/// Web Token libraries", 2015; RFC 8725 2.1): every casing, with the
/// original signature kept and as a real unsecured JWS.
#[test]
fn alg_none_in_every_casing_is_refused() {
    let issuer = Issuer::new(Alg::HS256);
    let v = verifier_for(&issuer);
    let token = issuer.token();
    for alg in ["none", "None", "NONE", "nOnE", "none ", "\\u006eone"] {
        let header = format!(r#"{{"alg":"{alg}","typ":"at+jwt"}}"#);
        // With the original signature kept: the alg is refused first.
        assert_eq!(outcome(&v, &with_parts(&token, Some(&header), None)), Err("unsupported_alg"), "{alg}");
        // As a real unsecured JWS (empty signature): refused by the parser.
        let (input, _) = with_parts(&token, Some(&header), None)
            .rsplit_once('.')
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .unwrap();
        assert_eq!(outcome(&v, &format!("{input}.")), Err("malformed"), "{alg}");
    }
}

/// Algorithm names are exact (RFC 7518 3.1): `hs256` or `Rs256` is not an
/// algorithm, so a case-folding verifier cannot be steered to another one.
#[test]
fn alg_names_are_case_sensitive() {
    let issuer = Issuer::new(Alg::HS256);
    let v = verifier_for(&issuer);
    for alg in ["hs256", "Hs256", "HS256\u{0}", "HS 256"] {
        let header = serde_json_string(alg);
        let token = with_parts(&issuer.token(), Some(&format!(r#"{{"alg":{header}}}"#)), None);
        assert_eq!(outcome(&v, &token), Err("unsupported_alg"), "{alg:?}");
    }
}

fn serde_json_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\u{0}', "\\u0000"))
}

/// RS/HS key confusion (CVE-2015-9235, CVE-2016-10555; RFC 8725 2.1): the
/// attacker takes the issuer's RSA *public* key, uses its bytes (PEM, DER
/// or JWK text) as an HMAC secret, and signs an HS256 token naming the RSA
/// key's kid.
#[test]
fn hs256_signed_with_the_rsa_public_key_as_secret_is_refused() {
    let rsa = Issuer::new(Alg::RS256);
    let pem = rsa.public_pem().unwrap();
    let der = {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body).unwrap()
    };
    let jwk = rsa.jwk_public();
    let dir = tempfile::tempdir().unwrap();
    for (what, secret) in [("PEM", pem.as_bytes().to_vec()), ("DER", der), ("JWK", jwk.as_bytes().to_vec())] {
        let forged_key = dir.path().join(format!("{what}.json"));
        let jwk = serde_json::json!({ "kty": "oct", "k": b64(&secret), "alg": "HS256" });
        std::fs::write(&forged_key, jwk.to_string()).unwrap();
        let header = format!(r#"{{"alg":"HS256","typ":"at+jwt","kid":"{}"}}"#, rsa.kid());
        let payload = format!(r#"{{"iss":"{ISS}","aud":"api.test","sub":"admin","exp":1700000300}}"#);
        let token = mint::sign_raw(&forged_key, &header, &payload).unwrap();

        // Even a verifier that (unwisely) allows both families refuses it
        // before any cryptography: the RSA key cannot verify HS256.
        let both = builder(Algorithm::RS256).algorithms([Algorithm::HS256]).build(rsa.keys()).unwrap();
        assert_eq!(outcome(&both, &token), Err("key_alg_mismatch"), "{what}");
        // Without a kid the RSA key is not even a candidate.
        let no_kid = mint::sign_raw(&forged_key, r#"{"alg":"HS256"}"#, &payload).unwrap();
        assert_eq!(outcome(&both, &no_kid), Err("key_alg_mismatch"), "{what}");
        // The usual RS256-only verifier refuses the algorithm itself.
        assert_eq!(outcome(&verifier_for(&rsa), &token), Err("unsupported_alg"), "{what}");
    }
}

/// The three ECDSA algorithms: each signs on its own curve, with `r || s`
/// of twice the curve's scalar size (RFC 7518 3.4).
const ECDSA: [Alg; 3] = [Alg::ES256, Alg::ES384, Alg::ES512];

/// ECDSA "psychic signatures" (CVE-2022-21449): r = 0 and/or s = 0.
#[test]
fn ecdsa_signatures_with_zero_scalars_are_refused() {
    for alg in ECDSA {
        let issuer = Issuer::new(alg);
        let v = verifier_for(&issuer);
        let token = issuer.token();
        assert_eq!(outcome(&v, &token), Ok(()), "{alg}");
        let sig = signature_of(&token);
        let half = sig.len() / 2;
        assert_eq!(outcome(&v, &with_signature(&token, &vec![0u8; sig.len()])), Err("bad_signature"), "{alg}");
        // r = 0 with the real s, and the real r with s = 0.
        let mut r_zero = sig.clone();
        r_zero[..half].fill(0);
        let mut s_zero = sig;
        s_zero[half..].fill(0);
        assert_eq!(outcome(&v, &with_signature(&token, &r_zero)), Err("bad_signature"), "{alg}");
        assert_eq!(outcome(&v, &with_signature(&token, &s_zero)), Err("bad_signature"), "{alg}");
    }
}

/// A DER element: the short length form below 128 bytes, else the long
/// form (a P-521 signature's sequence, an SPKI of P-384 or P-521).
fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match u8::try_from(value.len()).unwrap() {
        len @ 0..0x80 => out.push(len),
        len => out.extend([0x81, len]),
    }
    out.extend(value);
    out
}

/// DER encoding of an ECDSA signature (what OpenSSL produces by default).
fn der(sig: &[u8]) -> Vec<u8> {
    fn int(bytes: &[u8]) -> Vec<u8> {
        let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|&b| b == 0).collect();
        let mut v = if trimmed.first().is_some_and(|&b| b >= 0x80) { vec![0] } else { vec![] };
        v.extend(trimmed);
        tlv(0x02, &v)
    }
    let (r, s) = sig.split_at(sig.len() / 2);
    tlv(0x30, &[int(r), int(s)].concat())
}

/// A DER-encoded ECDSA signature where JWS requires raw r||s (RFC 7518
/// 3.4): a lenient verifier accepting both has two encodings per signature.
#[test]
fn ecdsa_der_encoded_signatures_are_refused() {
    for alg in ECDSA {
        let issuer = Issuer::new(alg);
        let v = verifier_for(&issuer);
        let token = issuer.token();
        let der_token = with_signature(&token, &der(&signature_of(&token)));
        assert_eq!(outcome(&v, &der_token), Err("bad_signature"), "{alg}");
    }
}

/// Big-endian bytes from hex digits.
fn hex(digits: &str) -> Vec<u8> {
    (0..digits.len()).step_by(2).map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap()).collect()
}

/// ECDSA malleability: whenever (r, s) verifies, so does (r, n - s), so
/// anyone holding an ES256, ES384 or ES512 token can write a second,
/// different token with the same header and claims (the "one spelling per
/// token" of the parser covers the encoding, not the ECDSA signature
/// itself). jwtgate keeps accepting high S, as both backends do: refusing
/// it would refuse about half the tokens of issuers that do not normalise
/// S. This pins that: the twin verifies to the same claims. It is safe
/// because nothing in jwtgate keys a security decision on the token's
/// bytes (revocation reads claims); a cache keyed on the bytes stays
/// correct because the twin is itself a valid token with the same claims.
#[test]
fn ecdsa_high_s_twins_verify_to_the_same_claims() {
    // n, the order of each group (SEC 2 2.4.2, 2.5.1, 2.6.1), big-endian,
    // as wide as the curve's scalars.
    let orders = [
        (Alg::ES256, "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"),
        (
            Alg::ES384,
            "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973",
        ),
        (
            Alg::ES512,
            "01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409",
        ),
    ];
    for (alg, n) in orders {
        let n = hex(n);
        let issuer = Issuer::new(alg);
        let v = verifier_for(&issuer);
        let token = issuer.token();
        let sig = signature_of(&token);
        let (r, s) = sig.split_at(n.len());
        assert_eq!(s.len(), n.len(), "{alg}");
        // n - s, big-endian, borrowing from the least significant byte up.
        let mut twin_s = vec![0u8; n.len()];
        let mut borrow = false;
        for i in (0..n.len()).rev() {
            let (d, b1) = n[i].overflowing_sub(s[i]);
            let (d, b2) = d.overflowing_sub(u8::from(borrow));
            twin_s[i] = d;
            borrow = b1 || b2;
        }
        assert!(!borrow, "{alg}: s < n");
        // s and n - s differ: n is odd, so s = n - s has no solution.
        assert_ne!(s, &twin_s[..], "{alg}");
        let twin = with_signature(&token, &[r, &twin_s[..]].concat());
        assert_ne!(twin, token);

        let (mut a, mut b) = (Scratch::new(), Scratch::new());
        let original = v.verify(&token, &mut a).unwrap();
        let malleated = v.verify(&twin, &mut b).unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(original.header().json(), malleated.header().json(), "{alg}");
        assert_eq!(original.claims().json(), malleated.claims().json(), "{alg}");
    }
}

/// Curve confusion (RFC 7518 3.4 binds each ES* algorithm to one curve;
/// RFC 8725 3.1): in a verifier that allows all three, a token whose
/// `alg` is not its key's curve is refused before any cryptography (a
/// P-256 key with an ES384 token, a P-384 key with an ES256 or ES512
/// token, ...), and a signature relabelled as the key's own algorithm
/// does not verify.
#[test]
fn ecdsa_keys_verify_their_own_curve_only() {
    let issuers = ECDSA.map(|alg| Issuer::with_kid(alg, alg.name()));
    let keys = KeySet::new(issuers.iter().map(|i| VerifyingKey::from_jwk_str(&i.jwk_public()).unwrap()));
    let v = builder(Algorithm::ES256).algorithms([Algorithm::ES384, Algorithm::ES512]).build(keys).unwrap();
    for signer in &issuers {
        assert_eq!(outcome(&v, &signer.token()), Ok(()), "{}", signer.alg);
        for key in issuers.iter().filter(|k| k.alg != signer.alg) {
            let what = format!("{} token, {} key", signer.alg, key.alg);
            let token = signer.mint(|r| r.kid = Some(key.kid().to_owned()));
            assert_eq!(outcome(&v, &token), Err("key_alg_mismatch"), "{what}");
            let relabelled = signer.mint(|r| {
                r.kid = Some(key.kid().to_owned());
                r.header = Some(format!(r#"{{"alg":"{}"}}"#, key.alg.name()));
            });
            assert_eq!(outcome(&v, &relabelled), Err("bad_signature"), "{what}, relabelled");
        }
    }
    // A verifier pinned to ES256 alone refuses the other two by name.
    let es256_only = builder(Algorithm::ES256)
        .build(KeySet::new(issuers.iter().map(|i| VerifyingKey::from_jwk_str(&i.jwk_public()).unwrap())))
        .unwrap();
    for issuer in &issuers[1..] {
        assert_eq!(outcome(&es256_only, &issuer.token()), Err("unsupported_alg"), "{}", issuer.alg);
    }
}

/// The SubjectPublicKeyInfo of an EC public key (RFC 5480): the only way
/// to hand jwtgate a point in any encoding (a JWK always spells 04 || x || y).
fn ec_spki(curve: &[u8], point: &[u8]) -> Vec<u8> {
    const EC_PUBLIC_KEY: [u8; 9] = [0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    let algorithm = tlv(0x30, &[&EC_PUBLIC_KEY[..], curve].concat());
    let key = tlv(0x03, &[&[0u8][..], point].concat());
    tlv(0x30, &[algorithm, key].concat())
}

/// Invalid-curve and encoding games with P-384 and P-521 keys (as with
/// P-256): only an uncompressed point on the named curve loads. A
/// compressed point (valid, but a second spelling one backend would take
/// and the other not), a 97- or 133-byte string with another tag, a point
/// off the curve, and a point of another curve are all refused at load.
#[test]
fn ecdsa_keys_are_uncompressed_points_on_their_curve() {
    let pem_der = |issuer: &Issuer| {
        let pem = issuer.public_pem().unwrap();
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body).unwrap()
    };
    // The named curves: secp384r1 (1.3.132.0.34) and secp521r1 (1.3.132.0.35).
    let curves: [(Alg, &[u8]); 2] = [
        (Alg::ES384, &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22]),
        (Alg::ES512, &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23]),
    ];
    let p256_der = pem_der(&Issuer::new(Alg::ES256));
    let p256_point = p256_der[p256_der.len() - 65..].to_vec();
    for (alg, curve) in curves {
        let issuer = Issuer::new(alg);
        let der = pem_der(&issuer);
        let width = if alg == Alg::ES384 { 97 } else { 133 };
        let point = der[der.len() - width..].to_vec();
        assert_eq!(point[0], 4, "{alg}: the test kit writes uncompressed points");
        // The builder writes exactly what the test kit (the p384/p521 crates) writes.
        assert_eq!(ec_spki(curve, &point), der, "{alg}");
        let key = VerifyingKey::from_spki_der(&der).unwrap();
        assert!(key.fits(issuer.algorithm()), "{alg}");
        let v = builder(issuer.algorithm()).build(KeySet::new([key.with_kid(issuer.kid()).unwrap()])).unwrap();
        assert_eq!(outcome(&v, &issuer.token()), Ok(()), "{alg}");

        let half = (width - 1) / 2;
        let y_is_odd = point[width - 1] & 1;
        let mut compressed = point[..=half].to_vec();
        compressed[0] = 2 | y_is_odd;
        let mut other_tag = point.clone();
        other_tag[0] = 2 | y_is_odd;
        let mut hybrid = point.clone();
        hybrid[0] = 6 | y_is_odd;
        let mut off_curve = point.clone();
        off_curve[width - 1] ^= 1;
        let mut zero = vec![0u8; width];
        zero[0] = 4;
        for (what, bad) in [
            ("compressed", compressed),
            ("uncompressed length, compressed tag", other_tag),
            ("hybrid", hybrid),
            ("off the curve", off_curve),
            ("(0, 0)", zero),
            ("a P-256 point", p256_point.clone()),
            ("truncated", point[..width - 1].to_vec()),
        ] {
            let result = VerifyingKey::from_spki_der(&ec_spki(curve, &bad));
            assert!(matches!(result, Err(KeyError::InvalidKey(_))), "{alg}, {what}: {result:?}");
        }
    }
}

/// Ed25519 malleability (RFC 8032 5.1.7): S >= L must be refused.
#[test]
fn ed25519_non_canonical_s_is_refused() {
    // L, the order of the Ed25519 base point, little-endian.
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let issuer = Issuer::new(Alg::EdDSA);
    let v = verifier_for(&issuer);
    let token = issuer.token();
    assert_eq!(outcome(&v, &token), Ok(()));
    // S + L is the same scalar mod L: lax verifiers accept it (malleability).
    let mut sig = signature_of(&token);
    let mut carry = 0u16;
    for (s, l) in sig[32..].iter_mut().zip(L) {
        let sum = u16::from(*s) + u16::from(l) + carry;
        *s = sum.to_le_bytes()[0];
        carry = sum >> 8;
    }
    assert_eq!(carry, 0, "S + L < 2^256 since S < L < 2^253");
    assert_eq!(outcome(&v, &with_signature(&token, &sig)), Err("bad_signature"));
}

/// Embedded `jwk` (CVE-2018-0114) and `jku` / `x5u` / `x5c` injection
/// (PortSwigger, "JWT attacks"; RFC 8725 3.10): keys come only from the
/// verifier's configuration.
#[test]
fn keys_embedded_in_the_header_are_never_used() {
    let legit = Issuer::with_kid(Alg::ES256, "legit");
    let attacker = Issuer::with_kid(Alg::ES256, "legit"); // same kid, own key
    let v = verifier_for(&legit);
    let attacker_jwk: serde_json::Value = serde_json::from_str(&attacker.jwk_public()).unwrap();
    for member in ["jwk", "jku", "x5u", "x5c"] {
        let value = match member {
            "jwk" => attacker_jwk.clone(),
            "x5c" => serde_json::json!(["MIIB"]),
            _ => serde_json::json!("https://attacker.example/keys"),
        };
        let header = serde_json::json!({ "alg": "ES256", "typ": "at+jwt", "kid": "legit", member: value });
        let token = attacker.mint(|r| r.header = Some(header.to_string()));
        assert_eq!(outcome(&v, &token), Err("bad_signature"), "{member}");
    }
}

/// `crit` naming extensions the verifier does not understand (RFC 7515
/// 4.1.11; RFC 8725 3.1) and RFC 7797 `b64`.
#[test]
fn crit_and_b64_are_refused_even_when_signed() {
    let issuer = Issuer::new(Alg::ES256);
    let v = verifier_for(&issuer);
    for header in [r#"{"crit":["exp"],"exp":1}"#, r#"{"crit":["b64"],"b64":false}"#, r#"{"b64":true}"#] {
        let token = issuer.mint(|r| r.header = Some(header.to_owned()));
        assert_eq!(outcome(&v, &token), Err("unsupported_crit"), "{header}");
    }
    let token = issuer.mint(|r| r.header = Some(r#"{"crit":[]}"#.to_owned()));
    assert_eq!(outcome(&v, &token), Err("malformed"));
}

/// Duplicate members, the parser-differential attack (RFC 7515 5.2;
/// RFC 8725 3.6): two parsers reading different values from one token.
#[test]
fn duplicate_claims_are_refused_even_when_signed() {
    let issuer = Issuer::new(Alg::HS256);
    let v = verifier_for(&issuer);
    let header = r#"{"alg":"HS256","typ":"at+jwt"}"#;
    for payload in [
        r#"{"iss":"https://issuer.test","aud":"api.test","exp":1700000300,"sub":"alice","sub":"admin"}"#,
        r#"{"iss":"https://issuer.test","aud":"api.test","exp":1700000300,"exp":9999999999}"#,
        r#"{"iss":"https://issuer.test","aud":"api.test","exp":1700000300,"\u0061ud":"other"}"#,
    ] {
        let token = mint::sign_raw(&issuer.written.private_jwk, header, payload).unwrap();
        assert_eq!(outcome(&v, &token), Err("malformed"), "{payload}");
    }
    let dup_alg = mint::sign_raw(&issuer.written.private_jwk, r#"{"alg":"HS256","alg":"none"}"#, "{}").unwrap();
    assert_eq!(outcome(&v, &dup_alg), Err("malformed"));
}

#[test]
fn nothing_is_reported_about_claims_before_the_signature_verifies() {
    let issuer = Issuer::new(Alg::ES256);
    let v = verifier_for(&issuer);
    for claims in [r#"{"exp":"tomorrow"}"#, r#"{"exp":1}"#, r#"{"iss":"https://evil.test"}"#, r#"{"aud":"other"}"#] {
        let good = issuer.mint(|r| r.claims = Some(claims.to_owned()));
        let bad = with_signature(&good, &[7u8; 64]);
        assert_ne!(outcome(&v, &good), Ok(()), "{claims}");
        assert_eq!(outcome(&v, &bad), Err("bad_signature"), "{claims}");
    }
}

#[test]
fn unknown_kid_and_wrong_key_with_a_known_kid() {
    let legit = Issuer::with_kid(Alg::RS256, "k1");
    let v = verifier_for(&legit);
    let token = legit.mint(|r| r.kid = Some("k2".to_owned()));
    assert_eq!(outcome(&v, &token), Err("key_not_found"));
    let other = Issuer::with_kid(Alg::RS256, "k1");
    assert_eq!(outcome(&v, &other.token()), Err("bad_signature"));
}

#[test]
fn families_may_be_mixed_safely_in_one_verifier() {
    let rsa = Issuer::with_kid(Alg::RS256, "rsa");
    let ec = Issuer::with_kid(Alg::ES256, "ec");
    let keys = KeySet::new([rsa.jwk_public(), ec.jwk_public()].map(|jwk| VerifyingKey::from_jwk_str(&jwk).unwrap()));
    let v = builder(Algorithm::RS256).algorithms([Algorithm::ES256]).build(keys).unwrap();
    assert_eq!(outcome(&v, &rsa.token()), Ok(()));
    assert_eq!(outcome(&v, &ec.token()), Ok(()));
    // An ES256 token naming the RSA key: refused before cryptography.
    let cross = ec.mint(|r| r.kid = Some("rsa".to_owned()));
    assert_eq!(outcome(&v, &cross), Err("key_alg_mismatch"));
}

#[test]
fn a_jwk_alg_binds_the_key_to_that_algorithm() {
    // The RS256-bound key also signs PS256 perfectly well; the verifier
    // must still refuse to use it for PS256.
    let issuer = Issuer::with_kid(Alg::RS256, "bound");
    let v = builder(Algorithm::RS256).algorithms([Algorithm::PS256]).build(issuer.keys()).unwrap();
    assert_eq!(outcome(&v, &issuer.token()), Ok(()));
    let mut unbound: serde_json::Value = serde_json::from_str(&issuer.private_jwk()).unwrap();
    unbound["alg"] = "PS256".into();
    let path = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(path.path(), unbound.to_string()).unwrap();
    let pss = mint::run(&mint::Request {
        key: path.path().to_path_buf(),
        iss: ISS.into(),
        aud: vec!["api.test".into()],
        sub: "s".into(),
        ttl: "5m".into(),
        now: Some(common::NOW),
        kid: Some("bound".into()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(outcome(&v, &pss), Err("key_alg_mismatch"));
}

/// Oversized tokens (resource exhaustion): refused before any parsing.
#[test]
fn oversized_tokens_are_refused_before_parsing() {
    let issuer = Issuer::new(Alg::HS256);
    let v = verifier_for(&issuer);
    let padding = "x".repeat(9000);
    let token = issuer.mint(|r| r.claims = Some(format!(r#"{{"pad":"{padding}"}}"#)));
    assert_eq!(outcome(&v, &token), Err("token_too_large"));
    let garbage = "!".repeat(20_000);
    assert_eq!(outcome(&v, &garbage), Err("token_too_large"));
    let roomy = builder(Algorithm::HS256).max_token_bytes(16 * 1024).build(issuer.keys()).unwrap();
    assert_eq!(outcome(&roomy, &token), Ok(()));
}

/// JWE (five parts) and structurally broken tokens (RFC 8725 3.11):
/// never interpreted as something else.
#[test]
fn encrypted_and_malformed_tokens() {
    let issuer = Issuer::new(Alg::HS256);
    let v = verifier_for(&issuer);
    for bad in ["", "a.b", "a.b.c.d.e", "a.b.c.d", " x.y.z", "eyJ.eyJ.c2ln"] {
        assert_eq!(outcome(&v, bad), Err("malformed"), "{bad:?}");
    }
    let token = issuer.token();
    assert_eq!(outcome(&v, &format!("{token}=")), Err("malformed"));
    assert_eq!(outcome(&v, &format!("{token}\n")), Err("malformed"));
}

#[test]
fn error_messages_never_contain_the_token_or_claims() {
    let issuer = Issuer::new(Alg::HS256);
    let v = verifier_for(&issuer);
    let token = issuer.mint(|r| {
        r.sub = "SECRET-SUBJECT".into();
        r.iss = "https://SECRET-ISSUER".into();
    });
    let mut scratch = Scratch::new();
    let err = v.verify(&token, &mut scratch).unwrap_err();
    assert_eq!(err.code(), "invalid_issuer");
    let text = format!("{err} {err:?}");
    assert!(!text.contains("SECRET") && !text.contains(&token[..20]), "{text}");
    let key_debug = format!("{:?}", issuer.keys());
    assert!(!key_debug.contains(
        &serde_json::from_str::<serde_json::Value>(&issuer.private_jwk()).unwrap()["k"].as_str().unwrap()[..10]
    ));
}

/// kid injection (PortSwigger Web Security Academy, "JWT attacks": kid
/// path traversal to `/dev/null`; SQL injection through a kid used in a
/// key query; a NUL byte cutting the kid short in C-string lookups): the
/// kid is only ever compared, whole and unescaped, with the kids of the
/// configured keys, so none of these finds the key.
#[test]
fn kid_injection_finds_no_key() {
    let issuer = Issuer::with_kid(Alg::HS256, "legit");
    let attacker = Issuer::with_kid(Alg::HS256, "attacker");
    let v = verifier_for(&issuer);
    for kid in [
        "../../../../../../dev/null",
        "/dev/null",
        "' UNION SELECT 'secret' --",
        "legit' OR '1'='1",
        "legit\u{0}",
        "legit\u{0}x",
        "\u{0}legit",
        "LEGIT",
        "legit ",
        "legit/../legit",
    ] {
        let token = attacker.mint(|r| r.kid = Some(kid.into()));
        assert_eq!(outcome(&v, &token), Err("key_not_found"), "{kid:?}");
    }
    // The real kid with the attacker's key: found, and the signature fails.
    let token = attacker.mint(|r| r.kid = Some("legit".into()));
    assert_eq!(outcome(&v, &token), Err("bad_signature"));
}

/// RFC 7797 `b64: false` without `crit` (RFC 7797 section 6 requires
/// `crit`; a verifier that honours `b64` anyway would verify a different
/// payload than it parses).
#[test]
fn b64_false_without_crit_is_refused() {
    let issuer = Issuer::new(Alg::HS256);
    let v = verifier_for(&issuer);
    for header in [r#"{"b64":false}"#, r#"{"b64":true}"#, r#"{"b64":"false"}"#] {
        let token = issuer.mint(|r| r.header = Some(header.into()));
        let code = outcome(&v, &token);
        assert!(matches!(code, Err("unsupported_crit" | "malformed")), "{header}: {code:?}");
    }
}

/// Nested JWTs (RFC 7519 section 5.2 `cty: JWT`; RFC 8725 section 2.8): a
/// genuinely signed outer token whose payload is another (here unsecured)
/// token. jwtgate never recurses: the payload must be the claims JSON.
#[test]
fn nested_tokens_are_not_unwrapped() {
    let issuer = Issuer::new(Alg::HS256);
    let v = verifier_for(&issuer);
    let inner = format!(
        "{}.{}.",
        b64(r#"{"alg":"none"}"#),
        b64(format!(r#"{{"iss":"{ISS}","aud":"{}","sub":"admin","exp":{}}}"#, common::AUD, common::NOW + 60))
    );
    let outer = mint::sign_raw(&issuer.written.private_jwk, r#"{"alg":"HS256","cty":"JWT"}"#, &inner).unwrap();
    assert_eq!(outcome(&v, &outer), Err("malformed"));
}

/// Non-canonical base64url in the signature (RFC 4648 section 3.5; the
/// malleability of lenient decoders): setting the unused low bits of the last
/// character leaves the decoded bytes unchanged, and is still refused.
#[test]
fn non_canonical_signature_encoding_is_refused() {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for alg in [Alg::ES256, Alg::EdDSA, Alg::HS256] {
        let issuer = Issuer::new(alg);
        let v = verifier_for(&issuer);
        let token = issuer.token();
        assert_eq!(outcome(&v, &token), Ok(()));
        let (input, sig) = token.rsplit_once('.').unwrap();
        let last = *sig.as_bytes().last().unwrap();
        let index = ALPHABET.iter().position(|&c| c == last).unwrap();
        // 64- and 32-byte signatures leave 4 resp. 2 unused bits at the end.
        let tweaked = ALPHABET[index | 1];
        assert_ne!(tweaked, last, "{alg}: the last character already had its low bit set");
        let forged = format!("{input}.{}{}", &sig[..sig.len() - 1], tweaked as char);
        assert_eq!(outcome(&v, &forged), Err("malformed"), "{alg}");
    }
}

/// Audience confusion (RFC 8725 section 3.9; RFC 7519 section 4.1.3: each
/// value is compared as a whole, case-sensitively).
#[test]
fn audience_lookalikes_are_refused() {
    let issuer = Issuer::new(Alg::HS256);
    let v = verifier_for(&issuer);
    let aud = common::AUD;
    for (claim, expected) in [
        (format!(r#""other {aud}""#), "invalid_audience"),
        (format!(r#""{}""#, aud.to_uppercase()), "invalid_audience"),
        (format!(r#""{aud}.evil""#), "invalid_audience"),
        (format!(r#""{aud} ""#), "invalid_audience"),
        (format!(r#"["other","{aud}x"]"#), "invalid_audience"),
        (format!(r#"[["{aud}"]]"#), "invalid_claim"),
        (format!(r#"{{"aud":"{aud}"}}"#), "invalid_claim"),
        ("[]".to_owned(), "invalid_audience"),
    ] {
        let token = issuer.mint(|r| r.claims = Some(format!(r#"{{"aud":{claim}}}"#)));
        assert_eq!(outcome(&v, &token), Err(expected), "aud {claim}");
    }
}

/// Issuer lookalikes (RFC 8725 section 3.8): prefix, suffix, case, escapes.
#[test]
fn issuer_lookalikes_are_refused() {
    let issuer = Issuer::new(Alg::HS256);
    let v = verifier_for(&issuer);
    let truncated = &ISS[..ISS.len() - 1];
    for iss in [truncated.to_owned(), format!("{ISS}.evil.example"), format!("{ISS}\u{0}"), ISS.to_uppercase()] {
        let token = issuer.mint(|r| r.iss = iss.clone());
        assert_eq!(outcome(&v, &token), Err("invalid_issuer"), "{iss:?}");
    }
}

/// Signs `payload` byte for byte (no JSON round trip, so it can hold what
/// serde_json would refuse to produce).
fn signed_raw(issuer: &Issuer, payload: &str) -> String {
    let header = format!(r#"{{"alg":"HS256","kid":"{}"}}"#, issuer.kid());
    mint::sign_raw(&issuer.written.private_jwk, &header, payload).unwrap()
}

/// Huge or odd numbers in every time claim: out of range is a typed claim
/// error, never an overflow into "valid".
#[test]
fn huge_numbers_in_time_claims_are_refused() {
    let issuer = Issuer::new(Alg::HS256);
    let v = verifier_for(&issuer);
    let aud = common::AUD;
    let exp = common::NOW + 60;
    for claim in ["exp", "nbf", "iat"] {
        for value in ["1e400", "-1e400", "9223372036854775808", "-9223372036854775809", "1e19", "-1e19"] {
            let mut members = vec![format!(r#""iss":"{ISS}""#), format!(r#""aud":"{aud}""#)];
            members.push(if claim == "exp" { format!(r#""exp":{value}"#) } else { format!(r#""exp":{exp}"#) });
            if claim != "exp" {
                members.push(format!(r#""{claim}":{value}"#));
            }
            let token = signed_raw(&issuer, &format!("{{{}}}", members.join(",")));
            let code = outcome(&v, &token);
            assert!(
                matches!(code, Err("invalid_claim" | "expired" | "not_yet_valid" | "issued_in_future")),
                "{claim}={value}: {code:?}"
            );
        }
    }
}

/// Deep nesting inside a genuinely signed token (resource exhaustion;
/// stack overflows in recursive JSON parsers): the parser's depth limit
/// refuses it without recursion, and the size limit comes first.
#[test]
fn deeply_nested_signed_claims_are_refused() {
    let issuer = Issuer::new(Alg::HS256);
    let v = verifier_for(&issuer);
    let deep = format!("{}{}", "[".repeat(4000), "]".repeat(4000));
    let payload = format!(r#"{{"iss":"{ISS}","aud":"{}","exp":{},"x":{deep}}}"#, common::AUD, common::NOW + 60);
    let token = signed_raw(&issuer, &payload);
    let roomy = builder(Algorithm::HS256).max_token_bytes(16 * 1024).build(issuer.keys()).unwrap();
    assert_eq!(outcome(&roomy, &token), Err("malformed"));
    assert_eq!(outcome(&v, &token), Err("token_too_large"));
}
