//! The verifier targets' fixture: one key per family, made at start-up by
//! xtask (the signing side, which the libraries never have), and a verifier
//! that accepts every algorithm for those keys at a fixed instant.

use jwtgate_verify::{Algorithm, FixedClock, KeySet, Verifier, VerifyingKey};
use xtask::alg::Alg;
use xtask::key::PrivateKey;

pub const NOW: i64 = 1_700_000_000;
pub const ISS: &str = "https://issuer.fuzz";
pub const AUD: &str = "api.fuzz";

/// The signers `(alg, kid, key)` and the verifier holding their public halves
/// (the secret itself for HS256).
pub fn signers_and_verifier() -> (Vec<(Alg, &'static str, PrivateKey)>, Verifier) {
    let mut signers = Vec::new();
    let mut keys = Vec::new();
    // Each ECDSA curve is a family of its own (a P-384 key never verifies
    // ES256 or ES512), so each has its key here.
    let families = [
        (Alg::HS256, "hs"),
        (Alg::RS256, "rs"),
        (Alg::ES256, "es"),
        (Alg::ES384, "es384"),
        (Alg::ES512, "es512"),
        (Alg::EdDSA, "ed"),
    ];
    for (alg, kid) in families {
        let key = PrivateKey::generate(alg, None).expect("keygen");
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
