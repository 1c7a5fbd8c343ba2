//! What both benches measure: one realistic access token per algorithm,
//! jwtgate's verifier for it, and the bare signature check of the same
//! backend on the same input.

#![allow(dead_code, reason = "each bench binary uses a different part of this module")]

use std::hint::black_box;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwtgate_testkit::alg::Alg;
use jwtgate_testkit::{keygen, mint};
use jwtgate_verify::{Algorithm, KeyOrigin, KeySet, Verifier};

/// One complete verification (or signature check) of the case's token.
pub(crate) type Check<'a> = Box<dyn FnMut() + 'a>;

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

impl Case {
    /// The verifier's algorithm of the case (the test kit has its own enum:
    /// it depends on no jwtgate crate).
    pub(crate) const fn algorithm(&self) -> Algorithm {
        match self.alg {
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
}

pub(crate) fn jwtgate(c: &Case) -> Verifier {
    let keys = KeySet::from_jwks_str(&c.jwks, KeyOrigin::Local).unwrap();
    Verifier::builder().issuer(ISS).audience(AUD).algorithms([c.algorithm()]).build(keys).unwrap()
}

/// jsonwebtoken is built with both providers; installs the one that
/// matches jwtgate's backend in this build. Once per process.
pub(crate) fn install_jsonwebtoken_provider() {
    #[cfg(not(feature = "aws-lc-rs"))]
    let provider = &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;
    #[cfg(feature = "aws-lc-rs")]
    let provider = &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;
    provider.install_default().unwrap();
}

/// The "lax floor" for HS256: the least a verifier can do on the same
/// token without allocating, assembled from the base64 crate, serde_json
/// borrowing the standard claims, and the same HMAC as the bare primitive.
/// It checks less than jwtgate: no duplicate members, no canonical
/// base64url (trailing bits), no strict JSON beyond serde_json's, no
/// header beyond `alg`. What jwtgate costs over it is the price of those
/// checks. `None` for other algorithms.
pub(crate) fn lax_floor(c: &Case) -> Option<Check<'_>> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as LAX;

    #[derive(serde::Deserialize)]
    struct Header<'a> {
        #[serde(borrow)]
        alg: &'a str,
    }
    #[derive(serde::Deserialize)]
    struct Claims<'a> {
        #[serde(borrow)]
        iss: &'a str,
        #[serde(borrow)]
        aud: &'a str,
        exp: i64,
    }

    if c.alg != Alg::HS256 {
        return None;
    }
    let mut hmac = raw_primitive_hmac(c);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().cast_signed();
    Some(Box::new(move || {
        let token = black_box(c.token.as_str());
        let (input, sig) = token.rsplit_once('.').unwrap();
        let (header, payload) = input.split_once('.').unwrap();
        let mut header_buf = [0u8; 256];
        let mut payload_buf = [0u8; 1024];
        let mut sig_buf = [0u8; 64];
        let header_len = LAX.decode_slice(header, &mut header_buf).unwrap();
        let header: Header<'_> = serde_json::from_slice(&header_buf[..header_len]).unwrap();
        assert_eq!(header.alg, "HS256");
        let sig_len = LAX.decode_slice(sig, &mut sig_buf).unwrap();
        assert!(hmac(input.as_bytes(), &sig_buf[..sig_len]));
        let payload_len = LAX.decode_slice(payload, &mut payload_buf).unwrap();
        let claims: Claims<'_> = serde_json::from_slice(&payload_buf[..payload_len]).unwrap();
        assert!(claims.iss == ISS && claims.aud == AUD && claims.exp > now);
    }))
}

/// Whether a tag is the HMAC of an input.
type TagCheck = Box<dyn FnMut(&[u8], &[u8]) -> bool>;

/// The bare primitive's HMAC-SHA-256 as a function of input and tag.
#[cfg(not(feature = "aws-lc-rs"))]
fn raw_primitive_hmac(c: &Case) -> TagCheck {
    use hmac::{KeyInit as _, Mac as _};
    let secret = URL_SAFE_NO_PAD.decode(c.private_jwk["k"].as_str().unwrap()).unwrap();
    let keyed = hmac::Hmac::<sha2::Sha256>::new_from_slice(&secret).unwrap();
    Box::new(move |input, tag| {
        let mut mac = keyed.clone();
        mac.update(input);
        mac.verify_slice(tag).is_ok()
    })
}

/// The bare primitive's HMAC-SHA-256 as a function of input and tag.
#[cfg(feature = "aws-lc-rs")]
fn raw_primitive_hmac(c: &Case) -> TagCheck {
    let secret = URL_SAFE_NO_PAD.decode(c.private_jwk["k"].as_str().unwrap()).unwrap();
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret);
    Box::new(move |input, tag| aws_lc_rs::hmac::verify(&key, input, tag).is_ok())
}

/// The peers doing the same verification (signature, `iss`, `aud`, `exp`)
/// with their keys built once, on the backend comparable with jwtgate's:
/// jsonwebtoken on the matching provider, and with rustcrypto also
/// jwt-simple `pure-rust` (it has no aws-lc backend).
pub(crate) fn peers(c: &Case) -> Vec<(&'static str, Check<'_>)> {
    // Neither peer verifies ES512 (jsonwebtoken has no ES512; jwt-simple
    // none either): its row is jwtgate and the bare primitive only.
    if c.alg == Alg::ES512 {
        return Vec::new();
    }
    #[cfg(not(feature = "aws-lc-rs"))]
    let jsonwebtoken_name = "jsonwebtoken_rust_crypto";
    #[cfg(feature = "aws-lc-rs")]
    let jsonwebtoken_name = "jsonwebtoken_aws_lc_rs";
    let (key, validation) = jsonwebtoken_setup(c);
    let jsonwebtoken: Check<'_> = Box::new(move || {
        jsonwebtoken::decode::<serde_json::Value>(black_box(&c.token), &key, &validation).unwrap();
    });
    #[allow(unused_mut, reason = "only the rustcrypto build adds a second peer")]
    let mut peers = vec![(jsonwebtoken_name, jsonwebtoken)];
    #[cfg(not(feature = "aws-lc-rs"))]
    peers.push(("jwt_simple_pure_rust", jwt_simple(c)));
    peers
}

fn jsonwebtoken_setup(c: &Case) -> (jsonwebtoken::DecodingKey, jsonwebtoken::Validation) {
    let key = match c.alg {
        Alg::HS256 => jsonwebtoken::DecodingKey::from_secret(
            &URL_SAFE_NO_PAD.decode(c.private_jwk["k"].as_str().unwrap()).unwrap(),
        ),
        Alg::RS256 => jsonwebtoken::DecodingKey::from_rsa_pem(c.public_pem.as_ref().unwrap().as_bytes()).unwrap(),
        Alg::ES256 | Alg::ES384 => {
            jsonwebtoken::DecodingKey::from_ec_pem(c.public_pem.as_ref().unwrap().as_bytes()).unwrap()
        }
        _ => jsonwebtoken::DecodingKey::from_ed_pem(c.public_pem.as_ref().unwrap().as_bytes()).unwrap(),
    };
    let mut validation = jsonwebtoken::Validation::new(c.alg.name().parse().unwrap());
    validation.set_issuer(&[ISS]);
    validation.set_audience(&[AUD]);
    (key, validation)
}

/// jwt-simple (`pure-rust`) doing the same verification.
#[cfg(not(feature = "aws-lc-rs"))]
fn jwt_simple(c: &Case) -> Check<'_> {
    use std::collections::HashSet;

    use jwt_simple::prelude::{
        ECDSAP256PublicKeyLike as _, ECDSAP384PublicKeyLike as _, ES256PublicKey, ES384PublicKey, Ed25519PublicKey,
        EdDSAPublicKeyLike as _, HS256Key, MACLike as _, NoCustomClaims, RS256PublicKey, RSAPublicKeyLike as _,
        VerificationOptions,
    };

    let options = VerificationOptions {
        allowed_issuers: Some(HashSet::from([ISS.to_owned()])),
        allowed_audiences: Some(HashSet::from([AUD.to_owned()])),
        ..VerificationOptions::default()
    };
    // The same call on four key types that share no trait for it.
    macro_rules! verify_with {
        ($key:expr) => {{
            let key = $key;
            Box::new(move || {
                key.verify_token::<NoCustomClaims>(black_box(&c.token), Some(options.clone())).unwrap();
            })
        }};
    }
    let pem = || c.public_pem.as_ref().unwrap();
    match c.alg {
        Alg::HS256 => {
            verify_with!(HS256Key::from_bytes(&URL_SAFE_NO_PAD.decode(c.private_jwk["k"].as_str().unwrap()).unwrap()))
        }
        Alg::RS256 => verify_with!(RS256PublicKey::from_pem(pem()).unwrap()),
        Alg::ES256 => verify_with!(ES256PublicKey::from_pem(pem()).unwrap()),
        Alg::ES384 => verify_with!(ES384PublicKey::from_pem(pem()).unwrap()),
        _ => verify_with!(Ed25519PublicKey::from_pem(pem()).unwrap()),
    }
}

/// The signature check alone, on the backend's own API: HMAC, or the
/// signature over the signing input, nothing else.
#[cfg(not(feature = "aws-lc-rs"))]
pub(crate) fn raw_primitive(c: &Case) -> Check<'static> {
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
        Alg::ES384 => {
            use p384::ecdsa::signature::Verifier as _;
            let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(&uncompressed_point(c)).unwrap();
            let sig = p384::ecdsa::Signature::from_slice(&sig).unwrap();
            Box::new(move || key.verify(black_box(input.as_slice()), &sig).unwrap())
        }
        Alg::ES512 => {
            use p521::ecdsa::signature::Verifier as _;
            let key = p521::ecdsa::VerifyingKey::from_sec1_bytes(&uncompressed_point(c)).unwrap();
            let sig = p521::ecdsa::Signature::from_slice(&sig).unwrap();
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

/// An EC key's public point, SEC1 uncompressed (`04 || x || y`), from its JWK.
fn uncompressed_point(c: &Case) -> Vec<u8> {
    let field = |name: &str| URL_SAFE_NO_PAD.decode(c.private_jwk[name].as_str().unwrap()).unwrap();
    [&[0x04][..], &field("x"), &field("y")].concat()
}

/// The signature check alone on aws-lc-rs, its key parsed once (the most
/// favourable use of its API).
#[cfg(feature = "aws-lc-rs")]
pub(crate) fn raw_primitive(c: &Case) -> Check<'static> {
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
        Alg::ES256 | Alg::ES384 | Alg::ES512 => {
            let scheme = match c.alg {
                Alg::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
                Alg::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
                _ => &signature::ECDSA_P521_SHA512_FIXED,
            };
            let key = ParsedPublicKey::new(scheme, uncompressed_point(c)).unwrap();
            Box::new(move || key.verify_sig(black_box(input.as_slice()), &sig).unwrap())
        }
        _ => {
            let key = ParsedPublicKey::new(&signature::ED25519, field("x")).unwrap();
            Box::new(move || key.verify_sig(black_box(input.as_slice()), &sig).unwrap())
        }
    }
}
