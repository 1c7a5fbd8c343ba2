//! How a source gets its keys back: past `max_staleness`, after failures,
//! when the requests that asked for a fetch are cancelled, and while the
//! issuer is down at boot. Real HTTP on 127.0.0.1, real keys, real time
//! (bounded: one-second TTLs and cooldowns).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Issuer, Logs, Server, closed_port, code, config, stale_after_a_second, verifier};
use jwtgate_jwks::{ConfigError, FetchError, JwksConfig};
use jwtgate_verify::{KeyResolver, Scratch};

#[tokio::test]
async fn a_set_past_max_staleness_is_fetched_again_by_ordinary_traffic() {
    let issuer = Issuer::new(&["k"]);
    let server = Server::start(issuer.jwks(&["k"])).await;
    let source = stale_after_a_second(&server).max_staleness(Duration::from_millis(1500)).build().unwrap();
    source.fetch_now().await.unwrap();
    let v = verifier(source.clone());
    // The issuer stays healthy; nobody asks for a day (here: 3 s, past
    // freshness + max_staleness) and background refresh is off.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!source.is_ready());
    // A token of a kid the old set has: fetched again, and accepted.
    assert_eq!(code(&v, &issuer.token("k")).await, Ok(()));
    assert_eq!(source.stats().fetches, 2, "the start-up fetch and one more");
    assert!(source.is_ready());
}

#[tokio::test]
async fn the_synchronous_path_recovers_a_set_past_max_staleness_too() {
    let issuer = Issuer::new(&["k"]);
    let server = Server::start(issuer.jwks(&["k"])).await;
    // A short cooldown (max_staleness may not be shorter than it), so the
    // set is too stale 1.5 s after its fetch and revalidation is allowed.
    let source = stale_after_a_second(&server)
        .cooldown(Duration::from_millis(400))
        .max_staleness(Duration::from_millis(500))
        .build()
        .unwrap();
    source.fetch_now().await.unwrap();
    let v = verifier(source.clone());
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let mut scratch = Scratch::new();
    // Too stale: refused now, but the refusal starts a fetch in the
    // background, so plain `verify` callers recover without a restart.
    assert_eq!(v.verify(&issuer.token("k"), &mut scratch).unwrap_err().code(), "key_source_unavailable");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !source.is_ready() {
        assert!(Instant::now() < deadline, "not recovered: {:?} {}", source.stats(), server.hits());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(v.verify(&issuer.token("k"), &mut scratch).is_ok());
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn a_success_ends_the_backoff_of_the_background_task_at_once() {
    let issuer = Issuer::new(&["k"]);
    let server = Server::start(issuer.jwks(&["k"])).await;
    server.set(|r| r.status = 503);
    // Background refresh on; fresh for one second after each fetch.
    let source = config(&server).min_ttl(Duration::from_secs(1)).default_ttl(Duration::from_secs(1)).build().unwrap();
    // Failing from boot: the task tries at once, then after about 1 s and
    // 2 s more; after the third failure its next retry is 3-4 s away.
    let deadline = Instant::now() + Duration::from_secs(8);
    while source.stats().fetch_failures < 3 {
        assert!(Instant::now() < deadline, "the task did not retry: {:?}", source.stats());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let failed = source.stats().fetch_failures;
    server.set(|r| r.status = 200);
    // A late poll may find a retry under way, started while the issuer
    // still failed: joining it fails, so ask once more.
    if source.fetch_now().await.is_err() {
        source.fetch_now().await.unwrap();
    }
    let after_success = server.hits();
    // The success resets the backoff: the task plans from the new set's
    // freshness (a refresh about a second later, a cooldown after the
    // success), not from its pending retry (3 s or more away).
    let deadline = Instant::now() + Duration::from_millis(2500);
    while server.hits() <= after_success {
        assert!(Instant::now() < deadline, "no refresh after the success");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(source.stats().fetch_failures >= failed);
}

#[tokio::test]
async fn a_cold_fetch_outlives_the_cancelled_requests_that_asked_for_it() {
    let issuer = Issuer::new(&["k"]);
    let server = Server::start(issuer.jwks(&["k"])).await;
    server.set(|r| r.delay = Duration::from_millis(300));
    let source = config(&server).background_refresh(false).build().unwrap();
    let v = Arc::new(verifier(source.clone()));
    // Five requests, each cut at 100 ms by its caller's deadline.
    let token = Arc::new(issuer.token("k"));
    let requests: Vec<_> = (0..5)
        .map(|_| {
            let (v, token) = (v.clone(), token.clone());
            tokio::spawn(async move { tokio::time::timeout(Duration::from_millis(100), code(&v, &token)).await })
        })
        .collect();
    for request in requests {
        assert!(request.await.unwrap().is_err(), "the issuer answers after 300 ms");
    }
    // The one fetch runs to its end (polling `is_ready` joins it, never
    // starts another).
    let deadline = Instant::now() + Duration::from_secs(5);
    while !source.is_ready() {
        assert!(Instant::now() < deadline, "the fetch did not land: {:?} {}", source.stats(), server.hits());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(server.hits(), 1);
    assert_eq!(code(&v, &issuer.token("k")).await, Ok(()));
}

#[tokio::test]
async fn a_cancelled_request_does_not_waste_the_fetch_for_a_rotated_key() {
    let issuer = Issuer::new(&["old", "new"]);
    let server = Server::start(issuer.jwks(&["old"])).await;
    let source = config(&server).background_refresh(false).cooldown(Duration::from_secs(30)).build().unwrap();
    source.fetch_now().await.unwrap();
    let v = verifier(source.clone());
    server.set(|r| {
        r.body = issuer.jwks(&["old", "new"]);
        r.delay = Duration::from_millis(300);
    });
    let cut = tokio::time::timeout(Duration::from_millis(50), code(&v, &issuer.token("new"))).await;
    assert!(cut.is_err());
    tokio::time::sleep(Duration::from_millis(350)).await;
    // The fetch that request started completed, inside its cooldown.
    assert_eq!(code(&v, &issuer.token("new")).await, Ok(()));
    assert_eq!(server.hits(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_a_rotated_kid_waits_for_one_fetch_and_is_accepted() {
    let issuer = Issuer::new(&["a", "b"]);
    let server = Server::start(issuer.jwks(&["a"])).await;
    let source = config(&server).background_refresh(false).build().unwrap();
    source.fetch_now().await.unwrap();
    let v = Arc::new(verifier(source.clone()));
    // Rotation: the issuer adds "b" and its JWKS takes three seconds to
    // answer (long enough for the known-kid checks below on a loaded CI
    // machine).
    server.set(|r| {
        r.body = issuer.jwks(&["a", "b"]);
        r.delay = Duration::from_secs(3);
    });
    let token_b = Arc::new(issuer.token("b"));
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let (v, token) = (v.clone(), token_b.clone());
            tokio::spawn(async move { code(&v, &token).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Meanwhile the key in hand is served without waiting: each check is
    // quick, and all of them end before the fetch lands (the set in use
    // is still the start-up one).
    let token_a = issuer.token("a");
    let before = source.freshness();
    for _ in 0..20 {
        let started = Instant::now();
        assert_eq!(code(&v, &token_a).await, Ok(()));
        assert!(started.elapsed() < Duration::from_millis(1500), "waited {:?}", started.elapsed());
    }
    assert_eq!(source.freshness(), before, "a known-kid check waited for the landing");
    let mut accepted = 0;
    for t in tasks {
        assert_eq!(t.await.unwrap(), Ok(()));
        accepted += 1;
    }
    assert_eq!(accepted, 1000);
    assert_eq!(server.hits(), 2, "the start-up fetch and one for the whole burst");
}

#[tokio::test]
async fn a_cold_source_with_a_dead_issuer_backs_off() {
    let addr = closed_port().await;
    let source = JwksConfig::new(format!("http://{addr}/jwks")).allow_insecure_loopback().build().unwrap();
    let v = verifier(source.clone());
    let issuer = Issuer::new(&["k"]);
    let token = issuer.token("k");
    let (logs, _guard) = Logs::capture();
    let started = Instant::now();
    for _ in 0..100 {
        assert_eq!(code(&v, &token).await, Err("key_source_unavailable"));
    }
    assert!(started.elapsed() < Duration::from_secs(2), "inside the backoff, requests fail fast");
    let attempts = source.stats().fetches;
    assert!((1..=2).contains(&attempts), "{attempts} fetch attempts for 100 requests");
    // One warning for the outage, with the cause the OS gave.
    let text = logs.text();
    let warnings: Vec<_> = text.lines().filter(|l| l.contains(" WARN ")).collect();
    assert_eq!(warnings.len(), 1, "{text}");
    assert!(warnings[0].to_ascii_lowercase().contains("connection refused"), "{text}");
    // And the refusal says when the next attempt comes.
    let mut scratch = Scratch::new();
    let err = v.verify_async(&token, &mut scratch).await.unwrap_err();
    assert!(err.to_string().contains("next fetch in"), "{err}");
}

#[tokio::test]
async fn a_secret_in_the_jwks_url_never_reaches_logs_or_errors() {
    let addr = closed_port().await;
    let (logs, _guard) = Logs::capture();
    let source = JwksConfig::new(format!("http://{addr}/jwks?key=SECRET"))
        .allow_insecure_loopback()
        .background_refresh(false)
        .build()
        .unwrap();
    // Not in `Debug` of the source (nor of its config) either.
    assert!(!format!("{source:?}").contains("SECRET"), "{source:?}");
    let fetched = source.fetch_now().await.unwrap_err();
    assert!(!format!("{fetched} {fetched:?}").contains("SECRET"), "{fetched:?}");
    let v = verifier(source);
    let issuer = Issuer::new(&["k"]);
    let mut scratch = Scratch::new();
    let err = v.verify_async(&issuer.token("k"), &mut scratch).await.unwrap_err();
    assert!(!format!("{err} {err:?}").contains("SECRET"));
    // A working JWKS URL with a key in its query (the test server ignores
    // the query): `last_fetch` reports the URL without it.
    let server = Server::start(issuer.jwks(&["k"])).await;
    let working = JwksConfig::new(format!("{}?key=SECRET", server.url()))
        .allow_insecure_loopback()
        .background_refresh(false)
        .build()
        .unwrap();
    assert!(!format!("{working:?}").contains("SECRET"), "{working:?}");
    working.fetch_now().await.unwrap();
    let info = working.last_fetch().unwrap();
    assert!(!info.url.contains("SECRET") && info.url.ends_with("/jwks.json"), "{}", info.url);
    let text = logs.text();
    assert!(text.contains("key fetch failed"), "{text}");
    assert!(!text.contains("SECRET"), "{text}");
}

#[tokio::test]
async fn a_cooldown_of_any_length_is_an_error_not_a_panic() {
    for cooldown in [Duration::MAX, Duration::from_secs(1000 * 365 * 86_400), Duration::from_secs(86_401)] {
        let built = JwksConfig::new("https://issuer.example/jwks").cooldown(cooldown).build();
        assert!(matches!(built, Err(ConfigError::Bounds(_))));
    }
    let built = JwksConfig::new("https://issuer.example/jwks").timeouts(Duration::MAX, Duration::MAX).build();
    assert!(matches!(built, Err(ConfigError::Bounds(_))));
}

#[tokio::test]
async fn several_cache_control_lines_are_one_list() {
    let issuer = Issuer::new(&["k"]);
    let server = Server::start(issuer.jwks(&["k"])).await;
    server.set(|r| r.headers = vec![("cache-control", "public".into()), ("cache-control", "max-age=120".into())]);
    let source = config(&server).background_refresh(false).build().unwrap();
    source.fetch_now().await.unwrap();
    let (fetched, fresh_until) = source.freshness().unwrap();
    assert_eq!((fresh_until - fetched).as_secs(), 120);
}

#[tokio::test]
async fn a_snapshot_from_the_future_is_refused() {
    let issuer = Issuer::new(&["k"]);
    let server = Server::start(issuer.jwks(&["k"])).await;
    let source = config(&server).background_refresh(false).build().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let jwks = issuer.jwks(&["k"]);
    let future = format!(r#"{{"fetched_at":{},"jwks":{jwks}}}"#, now + 3600);
    assert!(matches!(source.load_snapshot(&future), Err(FetchError::Snapshot(why)) if why.contains("future")));
    // A few seconds of skew is tolerated (and counts as age zero).
    let skewed = format!(r#"{{"fetched_at":{},"jwks":{jwks}}}"#, now + 5);
    assert_eq!(source.load_snapshot(&skewed).unwrap(), 1);
}

#[tokio::test]
async fn a_snapshot_never_replaces_a_newer_set() {
    let issuer = Issuer::new(&["old", "new"]);
    let server = Server::start(issuer.jwks(&["old"])).await;
    let first = config(&server).background_refresh(false).build().unwrap();
    first.fetch_now().await.unwrap();
    let saved = first.export_snapshot().unwrap();
    // A second replica fetched the newer set before the old snapshot loads.
    server.set(|r| r.body = issuer.jwks(&["new"]));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = config(&server).background_refresh(false).build().unwrap();
    second.fetch_now().await.unwrap();
    assert_eq!(second.load_snapshot(&saved).unwrap(), 1);
    let kids: Vec<_> = second.current().unwrap().keys().iter().filter_map(|k| k.kid().map(str::to_owned)).collect();
    assert_eq!(kids, ["new"]);
    // Loads racing fetches: the set in use at the end is the fetched one.
    let third = config(&server).background_refresh(false).build().unwrap();
    let fetch = tokio::spawn({
        let third = third.clone();
        async move { third.fetch_now().await }
    });
    for _ in 0..200 {
        let _ = third.load_snapshot(&saved);
        tokio::task::yield_now().await;
    }
    fetch.await.unwrap().unwrap();
    let _ = third.load_snapshot(&saved);
    let kids: Vec<_> = third.current().unwrap().keys().iter().filter_map(|k| k.kid().map(str::to_owned)).collect();
    assert_eq!(kids, ["new"]);
}

#[tokio::test]
async fn discovery_metadata_served_as_octet_stream_is_read() {
    let issuer = Issuer::new(&["k"]);
    let jwks = Server::start(issuer.jwks(&["k"])).await;
    let metadata = Server::start(String::new()).await;
    let issuer_url = format!("http://{}", metadata.addr);
    metadata.set(|r| {
        r.body = serde_json::json!({ "issuer": issuer_url, "jwks_uri": jwks.url() }).to_string();
        // What `python3 -m http.server` sends for a file without extension.
        r.headers = vec![("content-type", "application/octet-stream".into())];
    });
    let source = JwksConfig::discover(&issuer_url).allow_insecure_loopback().build().unwrap();
    assert_eq!(source.fetch_now().await.unwrap(), 1);

    // An HTML page instead is refused, and the log names the document and
    // its host, not "JWKS".
    let html = Server::start("<html>log in</html>".into()).await;
    html.set(|r| r.headers = vec![("content-type", "text/html".into())]);
    let (logs, _guard) = Logs::capture();
    let source = JwksConfig::discover(format!("http://{}", html.addr)).allow_insecure_loopback().build().unwrap();
    let err = source.fetch_now().await.unwrap_err();
    assert!(matches!(&err, FetchError::NotJson(ct) if ct == "text/html"), "{err:?}");
    assert!(err.to_string().contains("serve the document as application/json"), "{err}");
    let text = logs.text();
    let line = text.lines().find(|l| l.contains("key fetch failed")).unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("discovery metadata") && line.contains("127.0.0.1"), "{line}");
}
