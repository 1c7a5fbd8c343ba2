//! `cargo xtask instructions`: instruction counts under valgrind
//! (callgrind, through gungraun), the CI guard on what jwtgate itself
//! costs. Counts are exact for the same binary and input, whatever else
//! the machine does, so a growth of a few percent is visible where
//! wall-clock benches drown it in noise.
//!
//! Inputs are committed (`benches/fixtures/instructions/`): ECDSA and
//! Ed25519 verification take data-dependent paths, so fresh keys or
//! tokens would move the counts. Each token was minted at 2026-01-01
//! 00:00:00 UTC for an hour; the verifier's clock is fixed inside that
//! hour. Measured: the strict parse alone; each algorithm's whole
//! verification; and for the asymmetric ones the bare primitive, so that
//! the xtask can compare "verification minus primitive", the part jwtgate
//! controls (the primitive's count belongs to the crypto crate).
//!
//! Run it with `cargo xtask instructions` (which compares with the
//! committed baseline) rather than `cargo bench`: it needs valgrind,
//! `gungraun-runner` 0.20.0 (`.ci/run` installs both) and the
//! `bench-instructions` feature.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "bench code")]
#![allow(
    unused_qualifications,
    missing_docs,
    reason = "gungraun's macros expand to fully qualified paths and undocumented items"
)]

mod common;

use std::hint::black_box;
use std::path::PathBuf;

use common::{AUD, Case, ISS, raw_primitive};
use gungraun::{library_benchmark, library_benchmark_group, main};
use jwtgate_testkit::alg::Alg;
use jwtgate_verify::{Algorithm, FixedClock, KeyOrigin, KeySet, Scratch, Verifier};

/// Inside every fixture token's hour (minted at 1767225600).
const NOW: i64 = 1_767_225_660;

fn fixture(alg: Alg, ext: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("benches/fixtures/instructions")
        .join(format!("{}.{ext}", alg.name()));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn case(alg: Alg) -> Case {
    let jwk = fixture(alg, "jwk.json");
    Case {
        alg,
        token: fixture(alg, "token").trim().to_owned(),
        private_jwk: serde_json::from_str(&jwk).unwrap(),
        public_pem: (alg != Alg::HS256).then(|| fixture(alg, "public.pem")),
        jwks: format!(r#"{{"keys":[{jwk}]}}"#),
    }
}

fn algorithm(alg: Alg) -> Algorithm {
    alg.name().parse().unwrap()
}

/// A verifier for the fixture's key, its clock fixed; the token; a scratch
/// buffer that has been used once (as on a server, where it is reused).
fn verifier(alg: Alg) -> (Verifier, String, Scratch) {
    let c = case(alg);
    let verifier = Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .algorithms([algorithm(alg)])
        .clock(FixedClock(NOW))
        .build(KeySet::from_jwks_str(&c.jwks, KeyOrigin::Local).unwrap())
        .unwrap();
    let mut scratch = Scratch::new();
    verifier.verify(&c.token, &mut scratch).unwrap();
    (verifier, c.token, scratch)
}

/// The bare signature check, its key parsed once and used once (as the
/// verifier's was: lazily built tables, such as p521's, are then warm in
/// both).
fn primitive(alg: Alg) -> common::Check<'static> {
    let mut check = raw_primitive(&case(alg));
    check();
    check
}

#[library_benchmark]
#[bench::es256_token(fixture(Alg::ES256, "token"))]
fn parse(token: String) -> usize {
    let token = token.trim();
    let mut buf = vec![0u8; jwtgate_parse::buffer_len_for(token.len())];
    let parsed = jwtgate_parse::parse_str(black_box(token), &mut buf).unwrap();
    black_box(parsed.signature().len())
}

#[library_benchmark]
#[bench::hs256(verifier(Alg::HS256))]
#[bench::rs256(verifier(Alg::RS256))]
#[bench::es256(verifier(Alg::ES256))]
#[bench::es384(verifier(Alg::ES384))]
#[bench::es512(verifier(Alg::ES512))]
#[bench::eddsa(verifier(Alg::EdDSA))]
fn verify(input: (Verifier, String, Scratch)) -> bool {
    let (verifier, token, mut scratch) = input;
    black_box(verifier.verify(black_box(&token), &mut scratch).is_ok())
}

#[library_benchmark]
#[bench::rs256(primitive(Alg::RS256))]
#[bench::es256(primitive(Alg::ES256))]
#[bench::es384(primitive(Alg::ES384))]
#[bench::es512(primitive(Alg::ES512))]
#[bench::eddsa(primitive(Alg::EdDSA))]
fn primitive_only(mut check: common::Check<'static>) {
    check();
}

library_benchmark_group!(name = counts; benchmarks = parse, verify, primitive_only);
main!(library_benchmark_groups = counts);
