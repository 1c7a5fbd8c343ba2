//! The auth endpoint as an ingress uses it: asked over HTTP/1.1 about
//! requests (nginx `auth_request` style), with real keys and tokens.

use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use jwtgate_testkit::mint;

use super::support::{AUD, ISS, bearer, closed_port, get, jwks_server, keys, runtime, serve};

#[test]
fn the_auth_endpoint_answers_as_an_ingress_expects() {
    let keys = keys("ed-1");
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
    let good = keys.token("orders:read", "5m");

    // Valid: 200 with the verified claim, even when the caller forged it.
    let a = get(&s, "/auth", &[("Authorization", &bearer(&good)), ("X-User-Id", "root")]);
    assert_eq!(a.status, 200);
    assert_eq!(a.header("x-user-id"), Some("alice"));
    // No token: 401 with a bare challenge.
    let a = get(&s, "/auth", &[]);
    assert_eq!(a.status, 401);
    assert!(a.header("www-authenticate").unwrap().starts_with("Bearer realm="));
    assert!(a.body.contains("missing_token"), "{}", a.body);
    // Missing scope: 403 insufficient_scope.
    let a = get(&s, "/auth", &[("Authorization", &bearer(&keys.token("profile", "5m")))]);
    assert_eq!(a.status, 403);
    assert!(a.header("www-authenticate").unwrap().contains("insufficient_scope"));
    // Expired: 401 invalid_token, and the body never repeats the token.
    let expired = keys.token("orders:read", "-1h");
    let a = get(&s, "/auth", &[("Authorization", &bearer(&expired))]);
    assert_eq!(a.status, 401);
    assert!(a.header("www-authenticate").unwrap().contains("invalid_token"));
    assert!(a.body.contains("\"code\":\"expired\"") && !a.body.contains(&expired), "{}", a.body);
    // A skipped original path needs no token, whichever header carries it.
    assert_eq!(get(&s, "/auth", &[("X-Forwarded-Uri", "/public/logo.png")]).status, 200);
    assert_eq!(get(&s, "/auth", &[("X-Original-URI", "/public/app.js?v=1")]).status, 200);
    assert_eq!(get(&s, "/auth", &[("X-Original-URI", "/orders/1")]).status, 401);
    // Prefixes match whole segments, and a path servers read differently
    // is refused (403: the one refusal besides 401 an ingress passes on).
    assert_eq!(get(&s, "/auth", &[("X-Original-URI", "/publicity")]).status, 401);
    let a = get(&s, "/auth", &[("X-Original-URI", "/public/../orders/1")]);
    assert_eq!(a.status, 403);
    assert!(a.body.contains("ambiguous_path"), "{}", a.body);
    assert_eq!(get(&s, "/auth", &[("X-Forwarded-Uri", "/public/%2e%2e/orders")]).status, 403);
    // Health and readiness.
    assert_eq!(get(&s, "/.jwtgate/health", &[]).status, 200);
    assert_eq!(get(&s, "/.jwtgate/ready", &[]).status, 200);
}

#[test]
fn the_issuer_down_at_start_is_503_and_not_ready_then_200_once_it_is_back() {
    let port = closed_port();
    let url = format!("http://127.0.0.1:{port}/jwks.json");
    let keys = keys("ed-1");
    let s = serve(&["--jwks", &url, "--alg", "EdDSA", "--issuer", ISS, "--audience", AUD, "--kid-cooldown", "1s"]);
    assert_eq!(get(&s, "/.jwtgate/ready", &[]).status, 503);
    let auth = bearer(&keys.token("x", "5m"));
    let a = get(&s, "/auth", &[("Authorization", &auth)]);
    assert_eq!(a.status, 503);
    assert!(a.header("retry-after").is_some());
    assert!(a.body.contains("key_source_unavailable"), "{}", a.body);

    // The issuer comes up on that port: the backoff (at most 8 cooldowns)
    // ends, the keys arrive, and the same token passes.
    let runtime = runtime();
    let (_, fetches) = jwks_server(&runtime, port, keys.jwks_path());
    let deadline = Instant::now() + Duration::from_secs(30);
    while get(&s, "/auth", &[("Authorization", &auth)]).status != 200 {
        assert!(Instant::now() < deadline, "keys never arrived once the issuer was back");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(get(&s, "/.jwtgate/ready", &[]).status, 200);
    assert!(fetches.load(Ordering::Relaxed) >= 1);
}

#[test]
fn options_that_cannot_work_exit_2() {
    let keys = keys("ed-1");
    let jwks = keys.jwks();
    let run = |args: Vec<String>| {
        Command::new(env!("CARGO_BIN_EXE_jwtgate")).arg("serve").args(args).output().unwrap().status.code()
    };
    let base = ["--listen", "127.0.0.1:0", "--issuer", ISS, "--audience", AUD];
    let with = |extra: &[&str]| -> Vec<String> { base.iter().chain(extra).map(|s| (*s).to_owned()).collect() };
    assert_eq!(run(with(&["--jwks", &jwks, "--upstream", "https://127.0.0.1:1"])), Some(2), "https upstream");
    assert_eq!(run(with(&["--jwks", &jwks, "--upstream", "127.0.0.1:1"])), Some(2));
    assert_eq!(run(with(&["--jwks", "http://127.0.0.1:1/jwks.json"])), Some(2), "a remote source needs --alg");
    assert_eq!(run(with(&["--jwks", &jwks, "--claim-header", "sub"])), Some(2));
    assert_eq!(run(with(&["--jwks", &jwks, "--leeway", "soon"])), Some(2));
    assert_eq!(run(with(&["--jwks", "/nonexistent/jwks.json"])), Some(2));
}

#[cfg(unix)]
#[test]
fn sigterm_stops_it_cleanly() {
    let keys = keys("ed-1");
    let jwks = keys.jwks();
    let mut s = serve(&["--jwks", &jwks, "--issuer", ISS, "--audience", AUD]);
    assert_eq!(get(&s, "/.jwtgate/health", &[]).status, 200);
    let pid = s.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = s.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_token_revoked_through_the_store_is_refused_by_the_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let Some(redis) = jwtgate_testkit::redis_server::for_test(dir.path()) else { return };
    let keys = keys("ed-1");
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
    let ready = || get(&s, "/.jwtgate/ready", &[]).status == 200;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ready() {
        assert!(Instant::now() < deadline, "never in sync with the store");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(get(&s, "/auth", &[("Authorization", &auth)]).status, 200);
    let revoked = Command::new(env!("CARGO_BIN_EXE_jwtgate"))
        .args(["revoke", "--redis", &url, "--token", &token])
        .output()
        .unwrap();
    assert_eq!(revoked.status.code(), Some(0), "{revoked:?}");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let a = get(&s, "/auth", &[("Authorization", &auth)]);
        if a.status == 401 {
            assert!(a.body.contains("\"code\":\"revoked\""), "{}", a.body);
            break;
        }
        assert!(Instant::now() < deadline, "the revocation never reached the endpoint");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Its store gone, the endpoint fails closed once past the lag (60 s by
    // default: not waited for here) and is still serving.
    assert_eq!(get(&s, "/.jwtgate/health", &[]).status, 200);
}
