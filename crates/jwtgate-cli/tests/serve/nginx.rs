//! The auth endpoint behind a real nginx (`auth_request`), configured with
//! the very block the CLI README shows.

use std::sync::atomic::Ordering;

use super::support::{AUD, ISS, bearer, keys, request, runtime, serve, upstream};

/// The ```nginx block of the CLI README, pointed at this test's servers.
fn readme_snippet(jwtgate: &str, app: &str) -> String {
    let readme = include_str!("../../README.md");
    let start = readme.find("```nginx\n").expect("the README has an nginx block") + "```nginx\n".len();
    let block = readme[start..].split("```").next().unwrap();
    assert!(block.contains("http://127.0.0.1:8080;") && block.contains("http://127.0.0.1:3000;"), "{block}");
    block
        .replace("http://127.0.0.1:8080;", &format!("http://{jwtgate};"))
        .replace("http://127.0.0.1:3000;", &format!("http://{app};"))
}

#[test]
fn the_readme_nginx_auth_request_block_works_behind_a_real_nginx() {
    let runtime = runtime();
    let (app, seen) = upstream(&runtime);
    let keys = keys("ed-1");
    let jwks = keys.jwks();
    let endpoint = serve(&[
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
        "/public",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let Some(nginx) = jwtgate_testkit::nginx::for_test(dir.path(), &readme_snippet(&endpoint.addr, &app.to_string()))
    else {
        return;
    };
    let addr = nginx.addr();
    let good = bearer(&keys.token("orders:read", "5m"));

    // Valid: through to the app with the verified claim, never the forged one.
    let a = request(&addr, "GET", "/orders/7?x=1", &[("Authorization", &good), ("X-User-Id", "root")]);
    assert_eq!(a.status, 200, "{}\n{}", a.body, nginx.error_log());
    let echoed = a.body.to_ascii_lowercase();
    assert!(echoed.starts_with("get /orders/7?x=1\n"), "{echoed}");
    assert!(echoed.contains("x-user-id: alice\n") && !echoed.contains("root"), "{echoed}");

    // Refused: nginx answers with the endpoint's status (and challenge on a
    // 401); the app never sees the request.
    let before = seen.requests.load(Ordering::Relaxed);
    let a = request(&addr, "GET", "/orders/7", &[]);
    assert_eq!(a.status, 401);
    assert!(a.header("www-authenticate").is_some_and(|c| c.starts_with("Bearer realm=")), "{:?}", a.headers);
    let expired = bearer(&keys.token("orders:read", "-1h"));
    let a = request(&addr, "GET", "/orders/7", &[("Authorization", &expired)]);
    assert_eq!(a.status, 401);
    assert!(a.header("www-authenticate").is_some_and(|c| c.contains("invalid_token")), "{:?}", a.headers);
    let no_scope = bearer(&keys.token("profile", "5m"));
    assert_eq!(request(&addr, "POST", "/orders", &[("Authorization", &no_scope)]).status, 403);
    assert_eq!(seen.requests.load(Ordering::Relaxed), before, "a refused request reached the app");

    // A path that needs no token passes without one, and a client's own
    // X-User-Id does not ride along.
    let a = request(&addr, "GET", "/public/logo.png", &[("X-User-Id", "root")]);
    assert_eq!(a.status, 200);
    assert!(!a.body.to_ascii_lowercase().contains("x-user-id"), "{}", a.body);
    // The original URI is what the endpoint judges: an encoded escape from
    // /public is refused (nginx would normalize it for the app), and a
    // client naming another request in its own headers gets nowhere.
    assert_eq!(request(&addr, "GET", "/public/%2e%2e/orders/7", &[]).status, 403);
    for (name, value) in [("X-Forwarded-Uri", "/public/x"), ("X-Original-URL", "http://app/public/x")] {
        let a = request(&addr, "GET", "/orders/7", &[(name, value)]);
        assert_eq!(a.status, 401, "{name}: {}", nginx.error_log());
    }
    assert_eq!(seen.requests.load(Ordering::Relaxed), before + 1, "only /public/logo.png reached the app");
}
