//! Structured tokens against the verifier. The harness holds a fixed key
//! set (one key per family, made once with the test kit) and signs every
//! token it builds, so it knows which signatures are genuine. The verifier
//! must never panic, must only accept a token that the harness signed
//! exactly as presented, with the key whose family fits the header's alg,
//! and whose claims the harness built to be valid.
#![no_main]

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use arbitrary::Arbitrary;
use jwtgate_testkit::jwk::b64;
use jwtgate_testkit::key::PrivateKey;
use jwtgate_verify::{Algorithm, Scratch, Verifier};
use libfuzzer_sys::fuzz_target;

#[path = "common/signers.rs"]
mod signers;

use signers::{AUD, ISS, NOW};

struct Fixture {
    signers: Vec<(Algorithm, &'static str, PrivateKey)>,
    verifier: Verifier,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let (signers, verifier) = signers::signers_and_verifier();
    Fixture { signers, verifier }
});

#[derive(Arbitrary, Debug)]
struct Input {
    signer: u8,
    header_alg: u8,
    kid: Option<u8>,
    iss_ok: bool,
    aud: Vec<bool>,
    exp_offset: i32,
    nbf_offset: Option<i32>,
    sub: String,
    extra_header: Option<(String, String)>,
    /// Flip one byte of the finished token.
    mutation: Option<(u16, u8)>,
    /// Replace the signature with these bytes.
    forged_signature: Option<Vec<u8>>,
}

/// Genuine signatures already made, by (signer, signing input). Most of
/// libFuzzer's mutations touch only the byte flip or the forged signature
/// (the tail of the input), so the signing input repeats; without this, RSA
/// signing took 78% of the target's time (perf, 2026-11-29). A cached entry
/// is still a signature the harness made with that key, so the oracle is
/// unchanged.
static SIGNATURES: LazyLock<Mutex<HashMap<(usize, String), Vec<u8>>>> = LazyLock::new(Mutex::default);

/// Bounds the cache's memory: an entry holds a signing input built from the
/// fuzz input (up to a few KiB), so at most some tens of MiB in all.
const MAX_CACHED_SIGNATURES: usize = 10_000;

fn signature(signer_index: usize, signer: &PrivateKey, signing_input: &str) -> Option<Vec<u8>> {
    let key = (signer_index, signing_input.to_owned());
    let mut cache = SIGNATURES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(signature) = cache.get(&key) {
        return Some(signature.clone());
    }
    let signature = signer.sign(signing_input.as_bytes()).ok()?;
    if cache.len() >= MAX_CACHED_SIGNATURES {
        cache.clear();
    }
    cache.insert(key, signature.clone());
    Some(signature)
}

fuzz_target!(|input: Input| {
    let f = &*FIXTURE;
    let signer_index = usize::from(input.signer) % f.signers.len();
    let (signer_alg, signer_kid, signer) = &f.signers[signer_index];
    let header_alg = Algorithm::ALL[usize::from(input.header_alg) % Algorithm::ALL.len()];
    let kids = ["hs", "rs", "es", "es384", "es512", "ed", "unknown"];
    let kid = input.kid.map(|k| kids[usize::from(k) % kids.len()]);

    let mut header = serde_json::json!({ "alg": header_alg.name(), "typ": "at+jwt" });
    if let Some(kid) = kid {
        header["kid"] = kid.into();
    }
    if let Some((name, value)) = &input.extra_header {
        header[name.as_str()] = value.as_str().into();
    }
    let auds: Vec<&str> = input.aud.iter().map(|&ok| if ok { AUD } else { "other" }).collect();
    let mut claims = serde_json::json!({
        "iss": if input.iss_ok { ISS } else { "https://evil.fuzz" },
        "sub": input.sub,
        "aud": auds,
        "exp": NOW + i64::from(input.exp_offset),
    });
    if let Some(nbf) = input.nbf_offset {
        claims["nbf"] = (NOW + i64::from(nbf)).into();
    }
    let signing_input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    let Some(signature) = signature(signer_index, signer, &signing_input) else { return };
    let genuine = format!("{signing_input}.{}", b64(&signature));
    let mut token = match &input.forged_signature {
        Some(forged) => format!("{signing_input}.{}", b64(forged)),
        None => genuine.clone(),
    };
    if let Some((at, byte)) = input.mutation {
        let mut bytes = token.into_bytes();
        if !bytes.is_empty() {
            let i = usize::from(at) % bytes.len();
            bytes[i] = byte;
        }
        token = String::from_utf8_lossy(&bytes).into_owned();
    }

    let mut scratch = Scratch::new();
    let outcome = f.verifier.verify(&token, &mut scratch);
    let Ok(verified) = outcome else { return };

    // Accepted: it must be exactly what the harness signed...
    assert_eq!(token, genuine, "accepted a token the harness did not sign");
    // ...with a key of the family the header claims, named by kid if any...
    assert_eq!(header_alg.family(), signer_alg.family(), "cross-family acceptance");
    assert!(kid.is_none_or(|k| k == *signer_kid), "accepted with the key of another kid");
    // ...and with claims the harness made valid.
    assert!(input.iss_ok && auds.contains(&AUD), "accepted a wrong iss/aud");
    assert!(NOW < NOW + i64::from(input.exp_offset) + 30, "accepted an expired token");
    assert!(input.nbf_offset.is_none_or(|nbf| i64::from(nbf) <= 30), "accepted before nbf");
    assert_eq!(verified.alg(), header_alg);
});
