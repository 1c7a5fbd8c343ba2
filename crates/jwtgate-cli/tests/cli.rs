//! The built `jwtgate` binary, run as a user would: every exit code, every
//! rejection code the CLI can meet, the JSON shape, stdin input, `--now`
//! determinism at the RFC 7519 boundaries, and URLs served by an issuer
//! on 127.0.0.1.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use jwtgate_testkit::alg::Alg;
use jwtgate_testkit::{keygen, mint};
use serde_json::Value;

const ISS: &str = "https://issuer.test";
const AUD: &str = "orders-api";
/// Tokens are minted at this instant; `--now` is relative to it.
const T0: i64 = 1_800_000_000;
const TTL: i64 = 300;
const LEEWAY: i64 = 30;

struct Fixture {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    es: keygen::Written,
    ed: keygen::Written,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let gen_key = |alg, kid: &str| {
            keygen::run(&keygen::Request {
                alg,
                bits: None,
                kid: Some(kid.into()),
                out: path.join("keys"),
                force: false,
            })
            .unwrap()
        };
        let es = gen_key(Alg::ES256, "es-1");
        let ed = gen_key(Alg::EdDSA, "ed-1");
        Self { _dir: dir, dir: path, es, ed }
    }

    fn jwks(&self) -> PathBuf {
        self.es.jwks.clone().unwrap()
    }

    fn jwks_text(&self) -> String {
        std::fs::read_to_string(self.jwks()).unwrap()
    }

    fn mint(&self, change: impl FnOnce(mint::Request) -> mint::Request) -> String {
        mint::run(&change(mint::Request {
            key: self.es.private_jwk.clone(),
            iss: ISS.into(),
            aud: vec![AUD.into()],
            sub: "user-1".into(),
            ttl: TTL.to_string(),
            now: Some(T0),
            typ: "at+jwt".into(),
            ..mint::Request::default()
        }))
        .unwrap()
    }
}

fn jwtgate(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jwtgate"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

/// `verify --json` with the fixture's keys, issuer and audience at `now`.
fn verify_json(fx: &Fixture, token: &str, now: i64, extra: &[&str]) -> (i32, Value) {
    let jwks = fx.jwks();
    let now = now.to_string();
    let mut args = vec!["verify", "--jwks", jwks.to_str().unwrap(), "--issuer", ISS, "--audience", AUD];
    args.extend(["--now", &now, "--json"]);
    args.extend(extra);
    args.push(token);
    let out = jwtgate(&args, None);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.trim().lines().count(), 1, "exactly one JSON line: {stdout}");
    let value: Value = serde_json::from_str(stdout.trim()).unwrap();
    // Never the token, nor any part of it long enough to matter.
    let stderr = String::from_utf8(out.stderr).unwrap();
    for part in token.split('.').filter(|p| p.len() > 8) {
        assert!(!stdout.contains(part) || value["valid"] == true, "token part echoed: {stdout}");
        assert!(!stderr.contains(part), "token part on stderr: {stderr}");
    }
    (out.status.code().unwrap(), value)
}

fn rejected(fx: &Fixture, token: &str, now: i64, extra: &[&str]) -> String {
    let (code, json) = verify_json(fx, token, now, extra);
    assert_eq!(json["valid"], false, "{json}");
    assert_eq!(json.as_object().unwrap().len(), 3, "valid, error, message: {json}");
    assert!(json["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(code, 1, "{json}");
    json["error"].as_str().unwrap().to_owned()
}

#[test]
fn accepted_token_exits_0_with_header_and_claims() {
    let fx = Fixture::new();
    let token = fx.mint(|r| r);
    let (code, json) = verify_json(&fx, &token, T0 + 10, &[]);
    assert_eq!(code, 0);
    let object = json.as_object().unwrap();
    assert_eq!(object.keys().collect::<Vec<_>>(), ["valid", "header", "claims"]);
    assert_eq!(json["valid"], true);
    assert_eq!(json["header"]["alg"], "ES256");
    assert_eq!(json["header"]["kid"], "es-1");
    assert_eq!(json["claims"]["sub"], "user-1");
    assert_eq!(json["claims"]["exp"], T0 + TTL);

    // Human output: verdict, claims, times in UTC and relative.
    let jwks = fx.jwks();
    let now = (T0 + 48).to_string();
    let out = jwtgate(
        &["verify", "--jwks", jwks.to_str().unwrap(), "--issuer", ISS, "--audience", AUD, "--now", &now, &token],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("VALID: ES256 signature by key \"es-1\""), "{text}");
    assert!(text.contains("2027-01-15 08:05:00 UTC"), "{text}");
    assert!(text.contains("expires in 4m12s"), "{text}");
    assert!(text.contains("\"sub\": \"user-1\""), "{text}");
}

#[test]
fn every_rejection_code_the_cli_can_meet() {
    let fx = Fixture::new();
    let now = T0 + 10;
    let good = fx.mint(|r| r);
    let (head, rest) = good.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    let other_claims =
        jwtgate_testkit::jwk::b64(r#"{"iss":"https://issuer.test","aud":"orders-api","sub":"admin","exp":1800000300}"#);
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        ("malformed", "not-a-token".into(), vec![]),
        ("token_too_large", good.clone(), vec!["--max-token-bytes", "64"]),
        ("unsupported_alg", good.clone(), vec!["--alg", "EdDSA"]),
        ("key_not_found", fx.mint(|r| mint::Request { kid: Some("gone".into()), ..r }), vec![]),
        // An ES256 token naming the Ed25519 key: refused before any cryptography.
        ("key_alg_mismatch", fx.mint(|r| mint::Request { kid: Some(fx.ed.kid.clone()), ..r }), vec![]),
        ("bad_signature", format!("{head}.{other_claims}.{signature}"), vec![]),
        ("expired", good.clone(), vec![]),
        ("not_yet_valid", fx.mint(|r| mint::Request { nbf: Some((T0 + 3600).to_string()), ..r }), vec![]),
        (
            "issued_in_future",
            fx.mint(|r| mint::Request { claims: Some(format!(r#"{{"iat":{}}}"#, T0 + 3600)), ..r }),
            vec![],
        ),
        ("invalid_issuer", fx.mint(|r| mint::Request { iss: "https://issuer.test.evil".into(), ..r }), vec![]),
        ("invalid_audience", fx.mint(|r| mint::Request { aud: vec!["billing".into()], ..r }), vec![]),
        ("missing_claim", good.clone(), vec!["--require", "client_id"]),
        ("invalid_claim", fx.mint(|r| mint::Request { claims: Some(r#"{"nbf":"soon"}"#.into()), ..r }), vec![]),
        ("invalid_typ", fx.mint(|r| mint::Request { typ: "JWT".into(), ..r }), vec!["--typ", "at+jwt"]),
        (
            "unsupported_crit",
            fx.mint(|r| mint::Request { header: Some(r#"{"crit":["x-policy"],"x-policy":1}"#.into()), ..r }),
            vec![],
        ),
    ];
    for (expected, token, extra) in cases {
        // `expired` is the good token, judged after its lifetime.
        let at = if expected == "expired" { T0 + TTL + LEEWAY } else { now };
        assert_eq!(rejected(&fx, &token, at, &extra), expected, "case {expected}");
    }
}

#[test]
fn time_claims_follow_rfc_7519_at_the_boundaries() {
    let fx = Fixture::new();
    let exp = T0 + TTL;
    let token = fx.mint(|r| r);
    // Expired when now >= exp + leeway (RFC 7519 4.1.4).
    assert_eq!(verify_json(&fx, &token, exp + LEEWAY - 1, &[]).0, 0);
    assert_eq!(rejected(&fx, &token, exp + LEEWAY, &[]), "expired");
    // Leeway is configurable.
    assert_eq!(verify_json(&fx, &token, exp + 100, &["--leeway", "120"]).0, 0);
    assert_eq!(rejected(&fx, &token, exp, &["--leeway", "0"]), "expired");
    // Not yet valid when now < nbf - leeway.
    let nbf = T0 + 100;
    let later = fx.mint(|r| mint::Request { nbf: Some(nbf.to_string()), ..r });
    assert_eq!(rejected(&fx, &later, nbf - LEEWAY - 1, &[]), "not_yet_valid");
    assert_eq!(verify_json(&fx, &later, nbf - LEEWAY, &[]).0, 0);
    // Issued in the future when iat > now + leeway.
    let iat = T0 + 100;
    let future = fx.mint(|r| mint::Request { claims: Some(format!(r#"{{"iat":{iat}}}"#)), ..r });
    assert_eq!(verify_json(&fx, &future, iat - LEEWAY, &[]).0, 0);
    assert_eq!(rejected(&fx, &future, iat - LEEWAY - 1, &[]), "issued_in_future");
    // The same inputs always give the same answer.
    let first = verify_json(&fx, &token, T0 + 1, &[]);
    for _ in 0..3 {
        assert_eq!(verify_json(&fx, &token, T0 + 1, &[]), first);
    }
}

#[test]
fn token_from_stdin_is_trimmed_and_size_counts_trimmed_bytes() {
    let fx = Fixture::new();
    let token = fx.mint(|r| r);
    let jwks = fx.jwks();
    let now = (T0 + 1).to_string();
    let len = token.len().to_string();
    let base = ["verify", "--jwks", jwks.to_str().unwrap(), "--issuer", ISS, "--audience", AUD, "--now", &now];
    let padded = format!("\n  {token}\t\n\n");
    for extra in [&[][..], &["-"][..]] {
        let args: Vec<&str> =
            base.iter().copied().chain(["--max-token-bytes", &len]).chain(extra.iter().copied()).collect();
        let out = jwtgate(&args, Some(&padded));
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let short = (token.len() - 1).to_string();
    let args: Vec<&str> = base.iter().copied().chain(["--max-token-bytes", &short, "--json"]).collect();
    let out = jwtgate(&args, Some(&padded));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stdout).unwrap().contains("token_too_large"));
    // Nothing on stdin at all is a usage error.
    let out = jwtgate(&base, Some("   \n"));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn usage_and_configuration_errors_exit_2() {
    let fx = Fixture::new();
    let token = fx.mint(|r| r);
    let jwks = fx.jwks();
    let jwks = jwks.to_str().unwrap();
    let bad_file = fx.dir.join("bad.json");
    std::fs::write(&bad_file, "{\"keys\": 7}").unwrap();
    let bad = bad_file.to_str().unwrap();
    let missing = fx.dir.join("missing.json");
    let cases: Vec<Vec<&str>> = vec![
        vec!["verify", "--frobnicate"],
        vec!["verify", "--issuer", ISS, "--audience", AUD, &token],
        vec!["verify", "--jwks", jwks, "--audience", AUD, &token],
        vec!["verify", "--jwks", jwks, "--issuer", ISS, &token],
        vec!["verify", "--jwks", missing.to_str().unwrap(), "--issuer", ISS, "--audience", AUD, &token],
        vec!["verify", "--jwks", bad, "--issuer", ISS, "--audience", AUD, &token],
        vec!["verify", "--jwks", jwks, "--issuer", ISS, "--audience", AUD, "--alg", "es256", &token],
        vec!["verify", "--jwks", jwks, "--issuer", ISS, "--audience", AUD, "--alg", "none", &token],
        vec!["verify", "--jwks", jwks, "--issuer", ISS, "--audience", AUD, "--leeway", "3600", &token],
        vec!["verify", "--jwks", jwks, "--issuer", ISS, "--audience", AUD, "--max-token-bytes", "999999", &token],
        vec!["verify", "--jwks", "http://keys.example.invalid/jwks.json", "--issuer", ISS, "--audience", AUD, &token],
        vec!["verify", "--jwks", jwks, "--discover", ISS, "--issuer", ISS, "--audience", AUD, &token],
        vec!["verify", "--jwks", jwks, "--issuer", ISS, "--no-issuer-check", "--audience", AUD, &token],
    ];
    for args in cases {
        let out = jwtgate(&args, None);
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.is_empty(), "{args:?}");
        assert!(!stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"), "{stderr}");
        assert!(!stderr.contains(token.split('.').nth(1).unwrap()), "token echoed: {stderr}");
    }
    // With --json a configuration error is still one JSON object on stdout.
    let out = jwtgate(&["verify", "--jwks", bad, "--issuer", ISS, "--audience", AUD, "--json", &token], None);
    assert_eq!(out.status.code(), Some(2));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["valid"], false);
    assert_eq!(json["error"], "configuration");
}

#[test]
fn tls_and_proxy_flags_fail_as_configuration_errors_naming_the_flag() {
    let fx = Fixture::new();
    let token = fx.mint(|r| r);
    let bad_file = fx.dir.join("bad.pem");
    std::fs::write(&bad_file, "not a certificate").unwrap();
    let bad = bad_file.to_str().unwrap();
    let missing = fx.dir.join("missing.pem");
    let missing = missing.to_str().unwrap();
    // Never fetched: every case fails while the source is configured.
    let url = "https://keys.example.invalid/jwks.json";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--ca-cert", bad], "--ca-cert"),
        (vec!["--ca-cert", missing], "cannot read --ca-cert"),
        (vec!["--client-cert", bad, "--client-key", bad], "--client-cert"),
        (vec!["--client-cert", bad], "--client-key"),
        (vec!["--proxy", "ftp://proxy.example.invalid"], "--proxy"),
        (vec!["--proxy", "http://proxy.example.invalid:3128", "--proxy-from-env"], "--proxy"),
    ];
    for (extra, named) in cases {
        let mut args = vec!["verify", "--jwks", url, "--issuer", ISS, "--audience", AUD];
        args.extend_from_slice(&extra);
        args.push(&token);
        let out = jwtgate(&args, None);
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(stderr.contains(named), "{extra:?}: {stderr}");
        assert!(!stderr.contains("not a certificate"), "PEM content echoed: {stderr}");
    }
    let out = jwtgate(&["jwks", url, "--ca-cert", bad], None);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("--ca-cert {bad}: holds no CERTIFICATE block")), "{stderr}");
}

#[test]
fn key_files_may_be_a_single_jwk_or_a_pem() {
    let fx = Fixture::new();
    let token = fx.mint(|r| r);
    let now = (T0 + 1).to_string();
    let run = |key: &PathBuf, token: &str| {
        jwtgate(
            &["verify", "--jwks", key.to_str().unwrap(), "--issuer", ISS, "--audience", AUD, "--now", &now, token],
            None,
        )
    };
    let jwk = fx.es.public_jwk.clone().unwrap();
    assert_eq!(run(&jwk, &token).status.code(), Some(0));
    // A PEM key has no kid: it verifies tokens without one, and a token
    // naming a kid finds no key (the library never guesses).
    let pem = fx.es.public_pem.clone().unwrap();
    let out = run(&pem, &token);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("key_not_found"));
    let header = r#"{"alg":"ES256","typ":"at+jwt"}"#;
    let claims = format!(r#"{{"iss":"{ISS}","aud":"{AUD}","sub":"u","exp":{}}}"#, T0 + TTL);
    let no_kid = mint::sign_raw(&fx.es.private_jwk, header, &claims).unwrap();
    let out = run(&pem, &no_kid);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn skipping_checks_needs_their_named_flags() {
    let fx = Fixture::new();
    let token = fx.mint(|r| mint::Request { iss: "https://elsewhere".into(), aud: vec!["x".into()], ..r });
    let jwks = fx.jwks();
    let now = (T0 + 1).to_string();
    let out = jwtgate(
        &[
            "verify",
            "--jwks",
            jwks.to_str().unwrap(),
            "--no-issuer-check",
            "--no-audience-check",
            "--now",
            &now,
            &token,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn inspect_labels_unverified_and_warns() {
    let fx = Fixture::new();
    let b64 = jwtgate_testkit::jwk::b64;
    let none = format!(
        "{}.{}.",
        b64(r#"{"alg":"none","jku":"https://evil.example/jwks","kid":"../../dev/null"}"#),
        b64(r#"{"sub":"u","email":"u@example.com","iat":1800000000}"#)
    );
    let out = jwtgate(&["inspect", "--now", "1800000100", &none], None);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("UNVERIFIED"), "{text}");
    for needle in ["alg \"none\"", "carries jku", "kid-injection", "no exp", "personal data", "no iss", "rejects it"] {
        assert!(text.contains(needle), "{needle}: {text}");
    }

    let long = fx.mint(|r| mint::Request { ttl: "30d".into(), ..r });
    let out = jwtgate(&["inspect", "--json", "--now", &T0.to_string(), "-"], Some(&format!("{long}\n")));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["verified"], false);
    assert_eq!(json["strict_parser"], "accepts");
    assert_eq!(json["header"]["kid"], "es-1");
    let warnings = json["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].as_str().unwrap().contains("long lifetime (30d0h)"));

    let out = jwtgate(&["inspect", "--json", "a.b.c.d.e"], None);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["warnings"].to_string().contains("JWE"));
}

#[test]
fn jwks_lists_usable_and_unusable_keys() {
    let fx = Fixture::new();
    let mut doc: Value = serde_json::from_str(&fx.jwks_text()).unwrap();
    let keys = doc["keys"].as_array_mut().unwrap();
    let mut enc = keys[0].clone();
    enc["kid"] = "enc-1".into();
    enc["use"] = "enc".into();
    keys.push(enc);
    keys.push(
        serde_json::json!({ "kty": "oct", "kid": "shared", "k": jwtgate_testkit::jwk::b64([7u8; 32]), "alg": "HS256" }),
    );
    keys.push(serde_json::json!({ "kty": "EC", "crv": "secp256k1", "kid": "k1", "x": "AA", "y": "AA" }));
    let path = fx.dir.join("mixed.json");
    std::fs::write(&path, doc.to_string()).unwrap();

    let out = jwtgate(&["jwks", "--json", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let by_kid = |kid: &str| json["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid).unwrap().clone();
    assert_eq!(by_kid("es-1")["usable"], true);
    assert_eq!(by_kid("es-1")["size"], "P-256");
    assert_eq!(by_kid("ed-1")["size"], "Ed25519");
    assert_eq!(by_kid("enc-1")["usable"], false);
    // A local file may hold a shared secret; its bytes are never printed.
    assert_eq!(by_kid("shared")["usable"], true);
    assert_eq!(by_kid("shared")["size"], "256-bit secret");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&jwtgate_testkit::jwk::b64([7u8; 32])));
    assert_eq!(by_kid("k1")["usable"], false);
    assert_eq!(json["usable"], 3);

    let out = jwtgate(&["jwks", path.to_str().unwrap()], None);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("5 keys, 3 usable"), "{text}");
    assert!(text.contains("no: "), "{text}");
}

#[test]
fn jwks_lists_p384_and_p521_keys_with_their_curve() {
    let dir = tempfile::tempdir().unwrap();
    let gen_key = |alg, kid: &str| {
        keygen::run(&keygen::Request { alg, bits: None, kid: Some(kid.into()), out: dir.path().into(), force: false })
            .unwrap()
    };
    let es384 = gen_key(Alg::ES384, "es384-1");
    let es512 = gen_key(Alg::ES512, "es512-1");
    let jwks = es512.jwks.clone().unwrap();
    let out = jwtgate(&["jwks", "--json", jwks.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let by_kid = |kid: &str| json["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid).unwrap().clone();
    for (kid, alg, size) in [("es384-1", "ES384", "P-384"), ("es512-1", "ES512", "P-521")] {
        assert_eq!(by_kid(kid)["usable"], true, "{kid}");
        assert_eq!(by_kid(kid)["kty"], "EC", "{kid}");
        assert_eq!(by_kid(kid)["alg"], alg, "{kid}");
        assert_eq!(by_kid(kid)["size"], size, "{kid}");
    }
    assert_eq!(json["usable"], 2);
    // A PEM public key is described from the loaded key itself.
    for (written, size) in [(&es384, "P-384"), (&es512, "P-521")] {
        let pem = written.public_pem.clone().unwrap();
        let out = jwtgate(&["jwks", "--json", pem.to_str().unwrap()], None);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["keys"][0]["kty"], "EC", "{size}");
        assert_eq!(json["keys"][0]["size"], size);
    }
}

/// An OpenID provider on 127.0.0.1, as `cargo xtask issuer` is one:
/// discovery and the JWKS, both `application/json` with `Cache-Control:
/// max-age=300`, request counters, and an outage switch (every request
/// answers 503). A few lines of HTTP/1.1, one request per connection,
/// rather than xtask's issuer: no crate's tests depend on xtask.
struct Issuer {
    url: String,
    state: Arc<IssuerState>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct IssuerState {
    jwks: Mutex<String>,
    down: AtomicBool,
    jwks_requests: AtomicU64,
    discovery_requests: AtomicU64,
}

impl Issuer {
    async fn start(jwks: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(IssuerState { jwks: Mutex::new(jwks), ..IssuerState::default() });
        let (shared, issuer) = (Arc::clone(&state), url.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer(stream, Arc::clone(&shared), issuer.clone()));
            }
        });
        Self { url, state, task }
    }

    fn url(&self) -> String {
        self.url.clone()
    }

    fn jwks_url(&self) -> String {
        format!("{}/jwks.json", self.url)
    }

    /// Serves `jwks` from now on.
    fn publish(&self, jwks: String) {
        *self.state.jwks.lock().unwrap() = jwks;
    }

    fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// JWKS requests received so far (answered or refused).
    fn jwks_requests(&self) -> u64 {
        self.state.jwks_requests.load(Ordering::SeqCst)
    }

    fn discovery_requests(&self) -> u64 {
        self.state.discovery_requests.load(Ordering::SeqCst)
    }
}

impl Drop for Issuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one request head, answers it, and closes the connection.
async fn answer(mut stream: tokio::net::TcpStream, state: Arc<IssuerState>, issuer: String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split(' ').nth(1).unwrap_or_default();
    let (status, body) = match path {
        "/.well-known/openid-configuration" | "/jwks.json" => {
            let discovery = path != "/jwks.json";
            let counter = if discovery { &state.discovery_requests } else { &state.jwks_requests };
            counter.fetch_add(1, Ordering::SeqCst);
            if state.down.load(Ordering::SeqCst) {
                ("503 Service Unavailable", String::new())
            } else if discovery {
                let jwks_uri = format!("{issuer}/jwks.json");
                ("200 OK", serde_json::json!({ "issuer": issuer, "jwks_uri": jwks_uri }).to_string())
            } else {
                ("200 OK", state.jwks.lock().unwrap().clone())
            }
        }
        _ => ("404 Not Found", String::new()),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nCache-Control: max-age=300\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Runs `args` on a blocking thread, so the issuer on this runtime can answer.
async fn jwtgate_async(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || jwtgate(&args.iter().map(String::as_str).collect::<Vec<_>>(), None))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_discovery_and_an_unavailable_issuer() {
    let fx = Fixture::new();
    let issuer = Issuer::start(fx.jwks_text()).await;
    let iss = issuer.url();
    let token = fx.mint(|r| mint::Request { iss: iss.clone(), now: None, ..r });
    let s = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();

    // A JWKS URL on loopback http.
    let out =
        jwtgate_async(s(&["verify", "--jwks", &issuer.jwks_url(), "--issuer", &iss, "--audience", AUD, &token])).await;
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    // Discovery: the issuer is also the default --issuer.
    let out = jwtgate_async(s(&["verify", "--discover", &iss, "--audience", AUD, &token])).await;
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(issuer.discovery_requests(), 1);
    assert_eq!(issuer.jwks_requests(), 2, "one fetch per run, no retries");

    // The key listing shows the cache headers the issuer sent.
    let out = jwtgate_async(s(&["jwks", &issuer.jwks_url()])).await;
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Cache-Control: max-age=300"), "{text}");
    assert!(text.contains("fresh for 5m0s"), "{text}");

    // Down: exit 3 with the library's code, and a single request.
    issuer.set_down(true);
    let before = issuer.jwks_requests();
    let out = jwtgate_async(s(&[
        "verify",
        "--jwks",
        &issuer.jwks_url(),
        "--issuer",
        &iss,
        "--audience",
        AUD,
        "--json",
        &token,
    ]))
    .await;
    assert_eq!(out.status.code(), Some(3));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["error"], "key_source_unavailable");
    assert!(String::from_utf8_lossy(&out.stderr).contains("503"));
    assert_eq!(issuer.jwks_requests(), before + 1);

    // Nothing listening at all: exit 3 too, quickly.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let started = std::time::Instant::now();
    let out = jwtgate_async(s(&["verify", "--discover", &format!("http://{closed}"), "--audience", AUD, &token])).await;
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(started.elapsed() < std::time::Duration::from_secs(20));

    // Remote sets never yield shared secrets.
    let mut doc: Value = serde_json::from_str(&fx.jwks_text()).unwrap();
    doc["keys"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({ "kty": "oct", "kid": "shared", "k": jwtgate_testkit::jwk::b64([7u8; 32]) }));
    issuer.publish(doc.to_string());
    issuer.set_down(false);
    let out = jwtgate_async(s(&["jwks", "--json", &issuer.jwks_url()])).await;
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let shared = json["keys"].as_array().unwrap().iter().find(|k| k["kid"] == "shared").unwrap().clone();
    assert_eq!(shared["usable"], false);
    assert!(
        shared["reason"].as_str().unwrap().contains("symmetric")
            || shared["reason"].as_str().unwrap().contains("remote"),
        "{shared}"
    );
    assert_eq!(json["fetch"]["cache_control"], "max-age=300");
}
