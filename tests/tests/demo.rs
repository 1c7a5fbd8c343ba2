//! The README's main command as assertions: `cargo xtask demo`'s scripted
//! cases against a real issuer and a real jwtgate-hyper service on
//! 127.0.0.1, with the exact number of key fetches each case may cost.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_cases_get_their_expected_answers() {
    let dir = tempfile::tempdir().unwrap();
    let demo = tokio::time::timeout(Duration::from_secs(60), xtask::demo::run_cases(dir.path(), 0))
        .await
        .expect("the demo finishes within 60 s")
        .unwrap();
    let table = xtask::demo::table(&demo);
    assert!(demo.all_as_expected(), "{table}");

    let fetches = |name: &str| demo.cases.iter().find(|c| c.name.starts_with(name)).unwrap().jwks_fetches;
    // Warm cache: verification never waits on the issuer.
    assert_eq!(fetches("valid ES256"), 0, "{table}");
    // An unknown kid costs exactly one fetch, and a second one inside the
    // cooldown none.
    assert_eq!(fetches("unknown kid: one refetch"), 1, "{table}");
    assert_eq!(fetches("unknown kid again"), 0, "{table}");
    // A rotated-in key is found by that same single refetch.
    assert_eq!(fetches("rotation"), 1, "{table}");
    // Issuer down: cached keys still verify without a fetch; a new kid
    // tries once and gets a retryable 503.
    assert_eq!(fetches("issuer down: cached"), 0, "{table}");
    assert_eq!(fetches("issuer down: unknown kid"), 1, "{table}");
    // Start-up fetch + the three above, and discovery once.
    assert_eq!(demo.jwks_fetches(), 4, "{table}");
    assert_eq!(demo.issuer.discovery_requests(), 1, "{table}");

    // Every rejection reached the middleware's counters under its code.
    let count = |outcome: &str| demo.outcomes.iter().find(|(o, _)| *o == outcome).map_or(0, |(_, n)| *n);
    assert_eq!(count("accepted"), 5);
    assert_eq!(count("revoked"), 1);
    assert_eq!(count("key_not_found"), 2);
    assert_eq!(count("key_source_unavailable"), 1);

    // The token printed for `--keep-running` works.
    demo.issuer.set_down(false);
    let response = http_get(&format!("http://{}/orders", demo.service.addr), &demo.curl_token).await;
    assert_eq!(response, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_demo_revocation_reaches_both_replicas() {
    let installed = std::process::Command::new("redis-server").arg("--version").output().is_ok();
    if !installed {
        assert!(std::env::var_os("JWTGATE_REQUIRE_REDIS").is_none(), "redis-server is required here");
        eprintln!("skipped: redis-server is not on PATH (apt-get install redis-server)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let fleet = tokio::time::timeout(Duration::from_secs(60), xtask::fleet::run_fleet(dir.path()))
        .await
        .expect("the fleet demo finishes within 60 s")
        .unwrap();
    assert_eq!(fleet.first, [(200, 401), (200, 401)]);
    assert!(fleet.delays.len() > 1);
    assert!(fleet.delays.iter().all(|d| *d < Duration::from_secs(5)));
}

/// One GET with a bearer token over a plain TCP socket (HTTP/1.1), so this
/// test needs no HTTP client dependency of its own.
async fn http_get(url: &str, token: &str) -> u16 {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request =
        format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response.split(' ').nth(1).unwrap().parse().unwrap()
}
