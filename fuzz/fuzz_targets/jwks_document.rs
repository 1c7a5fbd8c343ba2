//! Arbitrary bytes as a JWKS document. Building a key set must never panic,
//! and every key it yields must say exactly what its JSON member said: the
//! same `kid`, the family that member's `kty`/`crv` names, the member's
//! `alg` if it had one, and never a symmetric key from a remote document.
#![no_main]

use jwtgate_verify::{Algorithm, KeyFamily, KeyOrigin, KeySet};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn family_of(member: &Value) -> Option<KeyFamily> {
    match (member.get("kty")?.as_str()?, member.get("crv").and_then(Value::as_str)) {
        ("oct", _) => Some(KeyFamily::Hmac),
        ("RSA", _) => Some(KeyFamily::Rsa),
        ("EC", Some("P-256")) => Some(KeyFamily::P256),
        ("EC", Some("P-384")) => Some(KeyFamily::P384),
        ("EC", Some("P-521")) => Some(KeyFamily::P521),
        ("OKP", Some("Ed25519")) => Some(KeyFamily::Ed25519),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for origin in [KeyOrigin::Local, KeyOrigin::Remote] {
        let Ok(set) = KeySet::from_jwks_str(text, origin) else { continue };
        // It parsed as a key set, so serde_json reads it as one too.
        let doc: Value = serde_json::from_str(text).expect("a parsed JWKS is JSON");
        let members = doc.get("keys").and_then(Value::as_array).expect("a parsed JWKS has a keys array");
        assert!(set.len() + set.skipped().len() <= members.len());
        for key in set.keys() {
            if origin == KeyOrigin::Remote {
                assert_ne!(key.family(), KeyFamily::Hmac, "symmetric key from a remote set");
            }
            // Some member with this kid has exactly this family and alg.
            let matches = members.iter().any(|m| {
                m.get("kid").and_then(Value::as_str) == key.kid()
                    && family_of(m) == Some(key.family())
                    && m.get("alg").and_then(Value::as_str).and_then(Algorithm::from_name) == key.alg()
            });
            assert!(matches, "key {key:?} matches no member of the document");
            assert!(Algorithm::ALL.iter().any(|a| key.fits(*a)), "key {key:?} verifies nothing");
        }
    }
});
