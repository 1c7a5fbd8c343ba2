//! The verifier targets' fixture: one key per family, made at start-up by
//! the test kit (the signing side, which the libraries never have), and a
//! verifier that accepts every algorithm for those keys at a fixed instant.

use jwtgate_testkit::alg::Alg;
use jwtgate_testkit::key::PrivateKey;
use jwtgate_verify::{Algorithm, FixedClock, KeySet, Verifier, VerifyingKey};

pub const NOW: i64 = 1_700_000_000;
pub const ISS: &str = "https://issuer.fuzz";
pub const AUD: &str = "api.fuzz";

/// The signers `(alg, kid, key)` and the verifier holding their public halves
/// (the secret itself for HS256).
pub fn signers_and_verifier() -> (Vec<(Algorithm, &'static str, PrivateKey)>, Verifier) {
    let mut signers = Vec::new();
    let mut keys = Vec::new();
    // Each ECDSA curve is a family of its own (a P-384 key never verifies
    // ES256 or ES512), so each has its key here.
    // The test kit has its own `Alg` (it depends on no jwtgate crate); the
    // targets compare with the verifier's `Algorithm`, so both are listed.
    let families = [
        (Algorithm::HS256, Alg::HS256, "hs"),
        (Algorithm::RS256, Alg::RS256, "rs"),
        (Algorithm::ES256, Alg::ES256, "es"),
        (Algorithm::ES384, Alg::ES384, "es384"),
        (Algorithm::ES512, Alg::ES512, "es512"),
        (Algorithm::EdDSA, Alg::EdDSA, "ed"),
    ];
    for (alg, signing, kid) in families {
        assert_eq!(alg.name(), signing.name(), "the same algorithm on both sides");
        let key = PrivateKey::generate(signing, None).expect("keygen");
        let jwk = match key.public_jwk(kid) {
            Some(public) => serde_json::Value::Object(public),
            None => serde_json::Value::Object(key.private_jwk(kid).expect("jwk")),
        };
        keys.push(VerifyingKey::from_jwk_value(jwk).expect("key loads"));
        signers.push((alg, kid, key));
    }
    let verifier = Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .algorithms(Algorithm::ALL)
        .clock(FixedClock(NOW))
        .build(KeySet::new(keys))
        .expect("verifier");
    (signers, verifier)
}
