//! The verifier against mutations of tokens signed once, at start-up. The
//! `verify_token` target signs every input, which caps it at a few hundred
//! executions per second; here the harness signs a fixed table of tokens
//! (every key, right and wrong header algorithms, with and without kid,
//! valid and invalid claims) and the fuzzer edits them: byte flips,
//! truncations, insertions and parts swapped between tokens. Oracle, both
//! ways: an unedited token is accepted exactly when the harness built it to
//! be valid, and an accepted token is always one of those, byte for byte.
#![no_main]

use std::sync::LazyLock;

use arbitrary::Arbitrary;
use jwtgate_testkit::jwk::b64;
use jwtgate_verify::{Algorithm, Scratch, Verifier};
use libfuzzer_sys::fuzz_target;

#[path = "common/signers.rs"]
mod signers;

use signers::{AUD, ISS, NOW};

struct Genuine {
    token: String,
    valid: bool,
}

struct Fixture {
    tokens: Vec<Genuine>,
    verifier: Verifier,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let (made, verifier) = signers::signers_and_verifier();
    let claim_sets = [
        (serde_json::json!({ "iss": ISS, "aud": AUD, "sub": "s", "exp": NOW + 300 }), true),
        (serde_json::json!({ "iss": ISS, "aud": [AUD, "x"], "exp": NOW + 300, "nbf": NOW - 10 }), true),
        (serde_json::json!({ "iss": ISS, "aud": AUD, "exp": NOW - 300 }), false),
        (serde_json::json!({ "iss": "https://evil.fuzz", "aud": AUD, "exp": NOW + 300 }), false),
        (serde_json::json!({ "iss": ISS, "aud": "other", "exp": NOW + 300 }), false),
        (serde_json::json!({ "iss": ISS, "aud": AUD, "exp": NOW + 300, "nbf": NOW + 300 }), false),
        (serde_json::json!({ "iss": ISS, "aud": AUD }), false),
    ];
    let mut tokens = Vec::new();
    for (i, (alg, kid, key)) in made.iter().enumerate() {
        // The signer's own algorithm, and one of the next family's.
        let (other_alg, _, _) = &made[(i + 1) % made.len()];
        for (header_alg, right_alg) in [(*alg, true), (*other_alg, false)] {
            for with_kid in [true, false] {
                for (claims, claims_ok) in &claim_sets {
                    let mut header = serde_json::json!({ "alg": Algorithm::name(header_alg), "typ": "at+jwt" });
                    if with_kid {
                        header["kid"] = (*kid).into();
                    }
                    let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
                    let signature = key.sign(input.as_bytes()).expect("sign");
                    tokens
                        .push(Genuine { token: format!("{input}.{}", b64(signature)), valid: right_alg && *claims_ok });
                }
            }
        }
    }
    Fixture { tokens, verifier }
});

#[derive(Arbitrary, Debug)]
enum Edit {
    Flip {
        at: u16,
        byte: u8,
    },
    Truncate {
        at: u16,
    },
    Insert {
        at: u16,
        bytes: Vec<u8>,
    },
    /// Replace part `part % 3` with the same part of another genuine token.
    Swap {
        part: u8,
        from: u8,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    token: u8,
    edits: Vec<Edit>,
}

fn parts(token: &str) -> Vec<&str> {
    token.split('.').collect()
}

fuzz_target!(|input: Input| {
    let f = &*FIXTURE;
    let genuine = &f.tokens[usize::from(input.token) % f.tokens.len()];
    let mut bytes = genuine.token.clone().into_bytes();
    for edit in input.edits.iter().take(4) {
        match edit {
            Edit::Flip { at, byte } if !bytes.is_empty() => {
                let i = usize::from(*at) % bytes.len();
                bytes[i] = *byte;
            }
            Edit::Truncate { at } => bytes.truncate(usize::from(*at) % (bytes.len() + 1)),
            Edit::Insert { at, bytes: extra } => {
                let i = usize::from(*at) % (bytes.len() + 1);
                bytes.splice(i..i, extra.iter().copied().take(64));
            }
            Edit::Swap { part, from } => {
                let donor = &f.tokens[usize::from(*from) % f.tokens.len()].token;
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let mut mine = parts(&text);
                let theirs = parts(donor);
                let p = usize::from(*part) % 3;
                if mine.len() == 3 {
                    mine[p] = theirs[p];
                    bytes = mine.join(".").into_bytes();
                }
            }
            Edit::Flip { .. } => {}
        }
    }
    let token = String::from_utf8_lossy(&bytes).into_owned();
    let mut scratch = Scratch::new();
    let accepted = f.verifier.verify(&token, &mut scratch).is_ok();
    if token == genuine.token {
        assert_eq!(accepted, genuine.valid, "verdict on an unedited genuine token");
    }
    if accepted {
        assert!(
            f.tokens.iter().any(|g| g.valid && g.token == token),
            "accepted a token the harness did not sign as valid"
        );
    }
});
