//! `cargo bench -p jwtgate-verify --bench verify`: one realistic access
//! token per algorithm, keys parsed once, next to the bare signature
//! primitive of the same backend on the same input and the peers doing the
//! same verification (signature, iss, aud, exp).
//!
//! The crypto backend decides the comparison: with the default `rustcrypto`
//! the bare primitive is RustCrypto's and the peers are jsonwebtoken on its
//! `rust_crypto` provider and jwt-simple `pure-rust`; with `--features
//! aws-lc-rs` the bare primitive is aws-lc-rs's and the peer is jsonwebtoken
//! on its `aws_lc_rs` provider (jwt-simple has no aws-lc backend).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "bench code")]

use std::hint::black_box;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use jwtgate_verify::{KeyOrigin, KeySet, Scratch, Verifier};
use xtask::alg::Alg;
use xtask::{keygen, mint};

const ISS: &str = "https://auth.example.com/realms/prod";
const AUD: &str = "orders-api";

struct Case {
    alg: Alg,
    token: String,
    private_jwk: serde_json::Value,
    public_pem: Option<String>,
    jwks: String,
}

fn case(alg: Alg, dir: &std::path::Path) -> Case {
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

fn jwtgate(c: &Case) -> Verifier {
    let keys = KeySet::from_jwks_str(&c.jwks, KeyOrigin::Local).unwrap();
    Verifier::builder().issuer(ISS).audience(AUD).algorithms([c.alg]).build(keys).unwrap()
}

fn jsonwebtoken_setup(c: &Case) -> (jsonwebtoken::DecodingKey, jsonwebtoken::Validation) {
    let key = match c.alg {
        Alg::HS256 => jsonwebtoken::DecodingKey::from_secret(
            &URL_SAFE_NO_PAD.decode(c.private_jwk["k"].as_str().unwrap()).unwrap(),
        ),
        Alg::RS256 => jsonwebtoken::DecodingKey::from_rsa_pem(c.public_pem.as_ref().unwrap().as_bytes()).unwrap(),
        Alg::ES256 => jsonwebtoken::DecodingKey::from_ec_pem(c.public_pem.as_ref().unwrap().as_bytes()).unwrap(),
        _ => jsonwebtoken::DecodingKey::from_ed_pem(c.public_pem.as_ref().unwrap().as_bytes()).unwrap(),
    };
    let mut validation = jsonwebtoken::Validation::new(c.alg.name().parse().unwrap());
    validation.set_issuer(&[ISS]);
    validation.set_audience(&[AUD]);
    (key, validation)
}

#[cfg(not(feature = "aws-lc-rs"))]
const JSONWEBTOKEN_PROVIDER_NAME: &str = "rust_crypto";
#[cfg(feature = "aws-lc-rs")]
const JSONWEBTOKEN_PROVIDER_NAME: &str = "aws_lc_rs";

fn bench(crit: &mut Criterion) {
    // jsonwebtoken is built with both providers; use the one that matches
    // jwtgate's backend in this run.
    #[cfg(not(feature = "aws-lc-rs"))]
    let provider = &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;
    #[cfg(feature = "aws-lc-rs")]
    let provider = &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;
    provider.install_default().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for alg in [Alg::HS256, Alg::RS256, Alg::ES256, Alg::EdDSA] {
        let c = case(alg, dir.path());
        let mut group = crit.benchmark_group(format!("verify/{}", alg.name()));

        let verifier = jwtgate(&c);
        let mut scratch = Scratch::new();
        group.bench_function("jwtgate", |b| {
            b.iter(|| verifier.verify(black_box(&c.token), &mut scratch).map(|v| v.alg()).unwrap());
        });

        raw_primitive(&mut group, &c);
        parse_parts(&mut group, &c);

        let (key, validation) = jsonwebtoken_setup(&c);
        group.bench_function(format!("jsonwebtoken_{JSONWEBTOKEN_PROVIDER_NAME}"), |b| {
            b.iter(|| jsonwebtoken::decode::<serde_json::Value>(black_box(&c.token), &key, &validation).unwrap());
        });

        #[cfg(not(feature = "aws-lc-rs"))]
        jwt_simple(&mut group, &c);
        group.finish();
    }
}

/// What `jwtgate` spends besides the signature, measured in the same run:
/// the strict parse on its own (split, base64url, both JSON documents,
/// duplicate check, claim views), and for HS256, whose primitive is cheap
/// enough for the split to matter, the base64url decoding alone, which no
/// verifier can skip.
fn parse_parts(group: &mut BenchmarkGroup<'_, WallTime>, c: &Case) {
    let mut buf = [0u8; jwtgate_parse::DEFAULT_BUFFER_LEN];
    group.bench_function("jwtgate_parse_only", |b| {
        b.iter(|| {
            let token = jwtgate_parse::parse(black_box(c.token.as_bytes()), &mut buf).unwrap();
            token.claims().unwrap().exp().unwrap().floor()
        });
    });
    if c.alg == Alg::HS256 {
        group.bench_function("base64url_decode_only", |b| {
            b.iter(|| {
                black_box(c.token.as_str())
                    .split('.')
                    .map(|part| jwtgate_parse::base64url::decode(part.as_bytes(), &mut buf).unwrap().len())
                    .sum::<usize>()
            });
        });
    }
}

/// jwt-simple (`pure-rust`) doing the same verification; only next to the
/// rustcrypto backend, the one it is comparable with.
#[cfg(not(feature = "aws-lc-rs"))]
fn jwt_simple(group: &mut BenchmarkGroup<'_, WallTime>, c: &Case) {
    use std::collections::HashSet;

    use jwt_simple::prelude::{
        ECDSAP256PublicKeyLike as _, ES256PublicKey, Ed25519PublicKey, EdDSAPublicKeyLike as _, HS256Key, MACLike as _,
        NoCustomClaims, RS256PublicKey, RSAPublicKeyLike as _, VerificationOptions,
    };

    let options = VerificationOptions {
        allowed_issuers: Some(HashSet::from([ISS.to_owned()])),
        allowed_audiences: Some(HashSet::from([AUD.to_owned()])),
        ..VerificationOptions::default()
    };
    // The same call on four key types that share no trait for it.
    macro_rules! bench_with {
        ($key:expr) => {{
            let key = $key;
            group.bench_function("jwt_simple_pure_rust", |b| {
                b.iter(|| key.verify_token::<NoCustomClaims>(black_box(&c.token), Some(options.clone())).unwrap());
            });
        }};
    }
    let pem = || c.public_pem.as_ref().unwrap();
    match c.alg {
        Alg::HS256 => {
            bench_with!(HS256Key::from_bytes(&URL_SAFE_NO_PAD.decode(c.private_jwk["k"].as_str().unwrap()).unwrap()));
        }
        Alg::RS256 => bench_with!(RS256PublicKey::from_pem(pem()).unwrap()),
        Alg::ES256 => bench_with!(ES256PublicKey::from_pem(pem()).unwrap()),
        _ => bench_with!(Ed25519PublicKey::from_pem(pem()).unwrap()),
    }
}

/// The signature check alone, on the backend's own API: HMAC, or the
/// signature over the signing input, nothing else.
#[cfg(not(feature = "aws-lc-rs"))]
fn raw_primitive(group: &mut BenchmarkGroup<'_, WallTime>, c: &Case) {
    let (input, sig) = c.token.rsplit_once('.').unwrap();
    let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
    let input = input.as_bytes();
    match c.alg {
        Alg::HS256 => {
            use hmac::{KeyInit as _, Mac as _};
            let secret = URL_SAFE_NO_PAD.decode(c.private_jwk["k"].as_str().unwrap()).unwrap();
            // Keyed once, as jwtgate keys it: the inner and outer pads are
            // absorbed at load, so each check starts from a copy.
            let keyed = hmac::Hmac::<sha2::Sha256>::new_from_slice(&secret).unwrap();
            group.bench_function("raw_primitive", |b| {
                b.iter(|| {
                    let mut mac = keyed.clone();
                    mac.update(black_box(input));
                    mac.verify_slice(&sig).unwrap();
                });
            });
        }
        Alg::RS256 => {
            use sha2::Digest as _;
            let pem = c.public_pem.as_ref().unwrap();
            let key = <rsa::RsaPublicKey as rsa::pkcs8::DecodePublicKey>::from_public_key_pem(pem).unwrap();
            group.bench_function("raw_primitive", |b| {
                b.iter(|| {
                    let digest = sha2::Sha256::digest(black_box(input));
                    key.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &digest, &sig).unwrap();
                });
            });
        }
        Alg::ES256 => {
            use p256::ecdsa::signature::Verifier as _;
            let pem = c.public_pem.as_ref().unwrap();
            let key = <p256::ecdsa::VerifyingKey as p256::pkcs8::DecodePublicKey>::from_public_key_pem(pem).unwrap();
            let sig = p256::ecdsa::Signature::from_slice(&sig).unwrap();
            group.bench_function("raw_primitive", |b| b.iter(|| key.verify(black_box(input), &sig).unwrap()));
        }
        _ => {
            let x = URL_SAFE_NO_PAD.decode(c.private_jwk["x"].as_str().unwrap()).unwrap();
            let key = ed25519_dalek::VerifyingKey::from_bytes(&x.try_into().unwrap()).unwrap();
            let sig = ed25519_dalek::Signature::from_bytes(&sig.try_into().unwrap());
            group.bench_function("raw_primitive", |b| b.iter(|| key.verify_strict(black_box(input), &sig).unwrap()));
        }
    }
}

/// The signature check alone on aws-lc-rs, its key parsed once (the most
/// favourable use of its API).
#[cfg(feature = "aws-lc-rs")]
fn raw_primitive(group: &mut BenchmarkGroup<'_, WallTime>, c: &Case) {
    use aws_lc_rs::hmac;
    use aws_lc_rs::signature::{self, ParsedPublicKey};

    let (input, sig) = c.token.rsplit_once('.').unwrap();
    let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
    let input = input.as_bytes();
    let field = |name: &str| URL_SAFE_NO_PAD.decode(c.private_jwk[name].as_str().unwrap()).unwrap();
    match c.alg {
        Alg::HS256 => {
            let key = hmac::Key::new(hmac::HMAC_SHA256, &field("k"));
            group.bench_function("raw_primitive", |b| {
                b.iter(|| hmac::verify(&key, black_box(input), &sig).unwrap());
            });
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
            group.bench_function("raw_primitive", |b| b.iter(|| key.verify_sig(black_box(input), &sig).unwrap()));
        }
        Alg::ES256 => {
            let point = [&[0x04][..], &field("x"), &field("y")].concat();
            let key = ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &point).unwrap();
            group.bench_function("raw_primitive", |b| b.iter(|| key.verify_sig(black_box(input), &sig).unwrap()));
        }
        _ => {
            let key = ParsedPublicKey::new(&signature::ED25519, field("x")).unwrap();
            group.bench_function("raw_primitive", |b| b.iter(|| key.verify_sig(black_box(input), &sig).unwrap()));
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
