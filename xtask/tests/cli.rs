//! The xtask binary: bad input gets a clear message and a non-zero exit,
//! and what it makes works: a minted token passes the verifier's RFC 9068
//! preset, and the development issuer serves what discovery clients fetch.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "test code")]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

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

fn mint_token(key: &Path, extra: &[&str]) -> String {
    let mut args = vec!["mint", "--key", key.to_str().unwrap(), "--iss", "https://auth.example.com"];
    args.extend(["--aud", "orders-api", "--sub", "checkout"]);
    args.extend_from_slice(extra);
    let out = xtask(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
}

#[test]
fn mint_with_client_id_passes_the_rfc9068_preset() {
    use jwtgate_verify::{Algorithm, KeyOrigin, KeySet, Scratch, Verifier};
    let dir = tempfile::tempdir().unwrap();
    assert!(xtask(&["keygen", "--alg", "EdDSA", "--kid", "k", "--out", dir.path().to_str().unwrap()]).status.success());
    let jwks = std::fs::read_to_string(dir.path().join("jwks.json")).unwrap();
    let verifier = Verifier::builder()
        .issuer("https://auth.example.com")
        .audience("orders-api")
        .algorithms([Algorithm::EdDSA])
        .rfc9068_access_token()
        .build(KeySet::from_jwks_str(&jwks, KeyOrigin::Local).unwrap())
        .unwrap();
    let key = dir.path().join("k.private.jwk.json");

    // The flags' defaults (typ at+jwt, iat, exp, jti) and --client-id are
    // all RFC 9068 section 2.2 asks for.
    let token = mint_token(&key, &["--client-id", "checkout"]);
    let mut scratch = Scratch::new();
    let verified = verifier.verify(&token, &mut scratch).unwrap();
    assert_eq!(verified.claims().get("client_id").unwrap().as_str().unwrap(), "checkout");

    // Without it the preset refuses: the flag is what completes the token.
    let token = mint_token(&key, &[]);
    let mut scratch = Scratch::new();
    let refused = verifier.verify(&token, &mut scratch).unwrap_err();
    assert_eq!(refused.code(), "missing_claim", "{refused}");
}

/// The child process, killed when the test ends however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One GET over a plain TCP socket (HTTP/1.1, `Connection: close`), so this
/// test needs no HTTP client; every step is bounded by a timeout. Returns
/// the response head (status line and headers) and the body.
fn http_get(url: &str) -> (String, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let addr: SocketAddr = host.parse().unwrap();
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    (head.to_owned(), body.to_owned())
}

/// GETs `url` and checks what a JWKS client checks first: 200 and a JSON
/// media type. Returns the body as JSON.
fn get_json(url: &str) -> serde_json::Value {
    let (head, body) = http_get(url);
    assert!(head.starts_with("HTTP/1.1 200"), "{url}: {head}");
    assert!(head.lines().any(|l| l.eq_ignore_ascii_case("content-type: application/json")), "{url}: {head}");
    serde_json::from_str(&body).unwrap()
}

#[test]
fn issuer_serves_discovery_and_the_jwks_it_reads_on_every_request() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    assert!(xtask(&["keygen", "--alg", "ES256", "--kid", "es-1", "--out", d]).status.success());
    let mut child = Running(
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["issuer", "--keys", d])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );

    // Its banner, line by line, through a thread so the wait has a deadline.
    let stdout = child.0.stdout.take().unwrap();
    let (lines, banner) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut printed = Vec::new();
    while !printed.iter().any(|l: &String| l.contains("Ctrl-C")) {
        let wait = deadline.saturating_duration_since(Instant::now());
        let line = banner.recv_timeout(wait).unwrap_or_else(|_| panic!("no full banner in 30 s: {printed:?}"));
        printed.push(line);
    }
    let url = printed.iter().find_map(|l| l.strip_prefix("issuer ")).unwrap().trim().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    // The example mints with the published key, for this issuer.
    let text = printed.join("\n");
    let key = dir.path().join("es-1.private.jwk.json");
    assert!(text.contains(&format!("cargo xtask mint --key {} --iss {url} ", key.display())), "{text}");
    assert!(text.contains("--client-id"), "{text}");

    let discovery = get_json(&format!("{url}/.well-known/openid-configuration"));
    assert_eq!(discovery["issuer"], url.as_str());
    let jwks_uri = discovery["jwks_uri"].as_str().unwrap().to_owned();
    assert_eq!(jwks_uri, format!("{url}/jwks.json"));
    assert_eq!(discovery["id_token_signing_alg_values_supported"], serde_json::json!(["ES256"]));
    let kids = |jwks: &serde_json::Value| -> Vec<String> {
        jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(kids(&get_json(&jwks_uri)), ["es-1"]);

    // A key keygen adds is served by the next request: no restart.
    assert!(xtask(&["keygen", "--alg", "RS256", "--kid", "rs-2", "--out", d]).status.success());
    assert_eq!(kids(&get_json(&jwks_uri)), ["es-1", "rs-2"]);
    let discovery = get_json(&format!("{url}/.well-known/openid-configuration"));
    assert_eq!(discovery["id_token_signing_alg_values_supported"], serde_json::json!(["ES256", "RS256"]));

    let (head, _) = http_get(&format!("{url}/elsewhere"));
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    assert!(child.0.try_wait().unwrap().is_none(), "the issuer runs until stopped");
}

#[test]
fn issuer_refuses_a_missing_jwks_and_urls_clients_could_not_reach() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    assert_fails_with(&xtask(&["issuer", "--keys", d]), "make a key first, e.g. `cargo xtask keygen");
    assert!(xtask(&["keygen", "--alg", "EdDSA", "--kid", "k", "--out", d]).status.success());
    let cases = [
        ("https://auth.example.com", "must start with http://"),
        ("http://auth.example.com:8800", "must be on 127.0.0.1 or localhost"),
        ("http://127.0.0.1:8800/?tenant=a", "may not have a query or fragment"),
        ("http://127.0.0.1:0", "has an invalid port"),
    ];
    for (issuer, needle) in cases {
        assert_fails_with(&xtask(&["issuer", "--keys", d, "--issuer", issuer]), needle);
    }
    let out = xtask(&["issuer", "--keys", d, "--issuer", "http://localhost:8800", "--port", "8801"]);
    assert_fails_with(&out, "is on port 8800, but this server would listen on 8801");
}
