//! The xtask binary: bad input gets a clear message and a non-zero exit.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "test code")]

use std::process::{Command, Output};

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask")).args(args).output().unwrap()
}

fn assert_fails_with(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected failure, got success; stderr: {stderr}");
    assert!(stderr.contains(needle), "stderr should mention {needle:?}: {stderr}");
}

#[test]
fn unknown_alg_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = xtask(&["keygen", "--alg", "none", "--out", dir.path().to_str().unwrap()]);
    assert_fails_with(&out, "unknown algorithm \"none\"");
    let out = xtask(&["keygen", "--alg", "hs256", "--out", dir.path().to_str().unwrap()]);
    assert_fails_with(&out, "unknown algorithm \"hs256\"");
}

#[test]
fn rsa_1024_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = xtask(&["keygen", "--alg", "RS256", "--bits", "1024", "--out", dir.path().to_str().unwrap()]);
    assert_fails_with(&out, "RSA keys must be 2048, 3072 or 4096 bits");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing may be written");
}

#[test]
fn bits_with_a_non_rsa_alg_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = xtask(&["keygen", "--alg", "ES256", "--bits", "2048", "--out", dir.path().to_str().unwrap()]);
    assert_fails_with(&out, "--bits applies to RSA algorithms only");
}

#[test]
fn existing_files_are_not_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let first = xtask(&["keygen", "--alg", "EdDSA", "--kid", "k1", "--out", d]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let before = std::fs::read(dir.path().join("k1.private.jwk.json")).unwrap();
    let again = xtask(&["keygen", "--alg", "EdDSA", "--kid", "k1", "--out", d]);
    assert_fails_with(&again, "already exists; use --force");
    assert_eq!(std::fs::read(dir.path().join("k1.private.jwk.json")).unwrap(), before);
    let forced = xtask(&["keygen", "--alg", "EdDSA", "--kid", "k1", "--out", d, "--force"]);
    assert!(forced.status.success());
    assert_ne!(std::fs::read(dir.path().join("k1.private.jwk.json")).unwrap(), before);
    let jwks: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("jwks.json")).unwrap()).unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1, "--force replaces the same kid in jwks.json");
}

#[test]
fn rotation_appends_to_the_jwks() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    for kid in ["2026-01", "2026-02"] {
        assert!(xtask(&["keygen", "--alg", "ES256", "--kid", kid, "--out", d]).status.success());
    }
    let jwks: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("jwks.json")).unwrap()).unwrap();
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids, ["2026-01", "2026-02"]);
    assert!(jwks["keys"][0].get("d").is_none(), "the JWKS holds public keys only");
}

#[test]
fn unsafe_kid_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = xtask(&["keygen", "--alg", "ES256", "--kid", "../escape", "--out", dir.path().to_str().unwrap()]);
    assert_fails_with(&out, "must be 1-128 characters");
}

#[test]
fn missing_key_file_is_refused() {
    let out = xtask(&["mint", "--key", "/nonexistent/key.json", "--iss", "i", "--aud", "a", "--sub", "s"]);
    assert_fails_with(&out, "cannot read /nonexistent/key.json");
}

#[test]
fn malformed_jwk_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("not json", "{", "is not valid JSON"),
        ("array", "[]", "must contain a JSON object"),
        ("no kty", r#"{"alg":"ES256","d":"AA"}"#, "no \"kty\""),
        ("public only", r#"{"alg":"ES256","kty":"EC","crv":"P-256","x":"AA","y":"AA"}"#, "not a private key"),
        ("short hmac", r#"{"alg":"HS256","kty":"oct","k":"c2hvcnQ"}"#, "at least 32 bytes"),
        ("kty mismatch", r#"{"alg":"RS256","kty":"oct","k":"c2hvcnQ"}"#, "needs a RSA key"),
        ("bad base64", r#"{"alg":"EdDSA","kty":"OKP","crv":"Ed25519","d":"***"}"#, "not base64url"),
        ("no alg", r#"{"kty":"oct","k":"c2hvcnQ"}"#, "pass --alg"),
    ];
    for (what, text, needle) in cases {
        let path = dir.path().join(format!("{}.json", what.replace(' ', "_")));
        std::fs::write(&path, text).unwrap();
        let out = xtask(&["mint", "--key", path.to_str().unwrap(), "--iss", "i", "--aud", "a", "--sub", "s"]);
        assert_fails_with(&out, needle);
    }
}

#[test]
fn mismatched_public_member_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    assert!(xtask(&["keygen", "--alg", "EdDSA", "--kid", "a", "--out", d]).status.success());
    assert!(xtask(&["keygen", "--alg", "EdDSA", "--kid", "b", "--out", d]).status.success());
    let mut a: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("a.private.jwk.json")).unwrap()).unwrap();
    let b: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("b.private.jwk.json")).unwrap()).unwrap();
    a["x"] = b["x"].clone();
    let path = dir.path().join("mixed.json");
    std::fs::write(&path, a.to_string()).unwrap();
    let out = xtask(&["mint", "--key", path.to_str().unwrap(), "--iss", "i", "--aud", "a", "--sub", "s"]);
    assert_fails_with(&out, "does not match the private key");
}

#[test]
fn mint_prints_one_compact_jws() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    assert!(xtask(&["keygen", "--alg", "HS384", "--kid", "h", "--out", d]).status.success());
    let key = dir.path().join("h.private.jwk.json");
    let out = xtask(&[
        "mint",
        "--key",
        key.to_str().unwrap(),
        "--iss",
        "i",
        "--aud",
        "a",
        "--aud",
        "b",
        "--sub",
        "s",
        "--now",
        "1700000000",
        "--ttl",
        "-1h",
        "--nbf",
        "+10s",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap();
    let token = token.trim_end();
    assert_eq!(token.split('.').count(), 3);
    let mut buf = [0u8; jwtgate_parse::DEFAULT_BUFFER_LEN];
    let parsed = jwtgate_parse::parse(token.as_bytes(), &mut buf).unwrap();
    assert_eq!(parsed.header().alg(), "HS384");
    let claims = parsed.claims().unwrap();
    assert_eq!(claims.exp().unwrap().floor(), 1_700_000_000 - 3600);
    assert_eq!(claims.nbf().unwrap().floor(), 1_700_000_010);
    assert_eq!(claims.aud().unwrap().len(), 2);
}
