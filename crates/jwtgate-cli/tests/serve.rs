//! `jwtgate serve` as an ingress would use it: a real child process on
//! 127.0.0.1, asked over HTTP/1.1 about requests (nginx `auth_request`
//! style), with real keys and tokens.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use jwtgate_testkit::alg::Alg;
use jwtgate_testkit::{keygen, mint};

const ISS: &str = "https://issuer.test";
const AUD: &str = "orders-api";

/// A running `jwtgate serve`, killed when dropped.
struct Serve {
    child: Child,
    addr: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(args: &[&str]) -> Serve {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jwtgate"))
        .arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("first line: {line:?}")).to_owned();
    Serve { child, addr }
}

/// Status, headers (lowercased names) and body of one GET.
fn get(serve: &Serve, path: &str, headers: &[(&str, &str)]) -> (u16, Vec<(String, String)>, String) {
    let mut stream = TcpStream::connect(&serve.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: auth\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

struct Keys {
    _dir: tempfile::TempDir,
    key: keygen::Written,
}

fn keys() -> Keys {
    let dir = tempfile::tempdir().unwrap();
    let key = keygen::run(&keygen::Request {
        alg: Alg::EdDSA,
        bits: None,
        kid: Some("ed-1".into()),
        out: dir.path().into(),
        force: false,
    })
    .unwrap();
    Keys { _dir: dir, key }
}

impl Keys {
    fn jwks(&self) -> String {
        self.key.jwks.as_ref().unwrap().to_str().unwrap().to_owned()
    }

    fn token(&self, scope: &str, ttl: &str) -> String {
        mint::run(&mint::Request {
            key: self.key.private_jwk.clone(),
            iss: ISS.into(),
            aud: vec![AUD.into()],
            sub: "alice".into(),
            ttl: ttl.into(),
            claims: Some(format!(r#"{{"scope":"{scope}"}}"#)),
            ..mint::Request::default()
        })
        .unwrap()
    }
}

#[test]
fn the_auth_endpoint_answers_as_an_ingress_expects() {
    let keys = keys();
    let jwks = keys.jwks();
    let s = serve(&[
        "--jwks",
        &jwks,
        "--issuer",
        ISS,
        "--audience",
        AUD,
        "--require-scope",
        "orders:read",
        "--claim-header",
        "sub=X-User-Id",
        "--skip-path",
        "/public/",
    ]);
    let bearer = |t: &str| format!("Bearer {t}");
    let good = keys.token("orders:read", "5m");

    // Valid: 200 with the verified claim, even when the caller forged it.
    let (status, headers, _) = get(&s, "/auth", &[("Authorization", &bearer(&good)), ("X-User-Id", "root")]);
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "x-user-id"), Some("alice"));
    // No token: 401 with a bare challenge.
    let (status, headers, body) = get(&s, "/auth", &[]);
    assert_eq!(status, 401);
    assert!(header(&headers, "www-authenticate").unwrap().starts_with("Bearer realm="));
    assert!(body.contains("missing_token"), "{body}");
    // Missing scope: 403 insufficient_scope.
    let (status, headers, _) = get(&s, "/auth", &[("Authorization", &bearer(&keys.token("profile", "5m")))]);
    assert_eq!(status, 403);
    assert!(header(&headers, "www-authenticate").unwrap().contains("insufficient_scope"));
    // Expired: 401 invalid_token, and the body never repeats the token.
    let expired = keys.token("orders:read", "-1h");
    let (status, headers, body) = get(&s, "/auth", &[("Authorization", &bearer(&expired))]);
    assert_eq!(status, 401);
    assert!(header(&headers, "www-authenticate").unwrap().contains("invalid_token"));
    assert!(body.contains("\"code\":\"expired\"") && !body.contains(&expired), "{body}");
    // A skipped original path needs no token, whichever header carries it.
    assert_eq!(get(&s, "/auth", &[("X-Forwarded-Uri", "/public/logo.png")]).0, 200);
    assert_eq!(get(&s, "/auth", &[("X-Original-URI", "/public/app.js?v=1")]).0, 200);
    assert_eq!(get(&s, "/auth", &[("X-Original-URI", "/orders/1")]).0, 401);
    // Health and readiness.
    assert_eq!(get(&s, "/healthz", &[]).0, 200);
    assert_eq!(get(&s, "/readyz", &[]).0, 200);
}

#[test]
fn keys_not_fetched_yet_are_503_and_not_ready() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{closed}/jwks.json");
    let keys = keys();
    let s = serve(&["--jwks", &url, "--alg", "EdDSA", "--issuer", ISS, "--audience", AUD]);
    assert_eq!(get(&s, "/readyz", &[]).0, 503);
    let (status, headers, body) = get(&s, "/auth", &[("Authorization", &format!("Bearer {}", keys.token("x", "5m")))]);
    assert_eq!(status, 503);
    assert!(header(&headers, "retry-after").is_some());
    assert!(body.contains("key_source_unavailable"), "{body}");
}

#[test]
fn options_that_cannot_work_exit_2() {
    let keys = keys();
    let jwks = keys.jwks();
    let run = |args: Vec<String>| {
        Command::new(env!("CARGO_BIN_EXE_jwtgate")).arg("serve").args(args).output().unwrap().status.code()
    };
    let base = ["--listen", "127.0.0.1:0", "--issuer", ISS, "--audience", AUD];
    let with = |extra: &[&str]| -> Vec<String> { base.iter().chain(extra).map(|s| (*s).to_owned()).collect() };
    assert_eq!(run(with(&["--jwks", &jwks, "--upstream", "http://127.0.0.1:1"])), Some(2));
    assert_eq!(run(with(&["--jwks", "http://127.0.0.1:1/jwks.json"])), Some(2), "a remote source needs --alg");
    assert_eq!(run(with(&["--jwks", &jwks, "--claim-header", "sub"])), Some(2));
    assert_eq!(run(with(&["--jwks", &jwks, "--leeway", "soon"])), Some(2));
    assert_eq!(run(with(&["--jwks", "/nonexistent/jwks.json"])), Some(2));
}

#[cfg(unix)]
#[test]
fn sigterm_stops_it_cleanly() {
    let keys = keys();
    let jwks = keys.jwks();
    let mut s = serve(&["--jwks", &jwks, "--issuer", ISS, "--audience", AUD]);
    assert_eq!(get(&s, "/healthz", &[]).0, 200);
    let pid = s.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = s.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_token_revoked_through_the_store_is_refused_by_the_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let Some(redis) = jwtgate_testkit::redis_server::for_test(dir.path()) else { return };
    let keys = keys();
    let jwks = keys.jwks();
    let url = redis.url();
    let s = serve(&["--jwks", &jwks, "--issuer", ISS, "--audience", AUD, "--revocation-redis", &url]);
    let token = mint::run(&mint::Request {
        key: keys.key.private_jwk.clone(),
        iss: ISS.into(),
        aud: vec![AUD.into()],
        sub: "mallory".into(),
        ttl: "5m".into(),
        claims: Some(r#"{"jti":"leaked-1"}"#.into()),
        ..mint::Request::default()
    })
    .unwrap();
    let auth = format!("Bearer {token}");
    let ready = || get(&s, "/readyz", &[]).0 == 200;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !ready() {
        assert!(std::time::Instant::now() < deadline, "never in sync with the store");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(get(&s, "/auth", &[("Authorization", &auth)]).0, 200);
    let revoked = Command::new(env!("CARGO_BIN_EXE_jwtgate"))
        .args(["revoke", "--redis", &url, "--token", &token])
        .output()
        .unwrap();
    assert_eq!(revoked.status.code(), Some(0), "{revoked:?}");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (status, _, body) = get(&s, "/auth", &[("Authorization", &auth)]);
        if status == 401 {
            assert!(body.contains("\"code\":\"revoked\""), "{body}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the revocation never reached the endpoint");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Its store gone, the endpoint fails closed once past the lag (60 s by
    // default: not waited for here) and is still serving.
    assert_eq!(get(&s, "/healthz", &[]).0, 200);
}
