//! JwksSource against a real HTTP server on 127.0.0.1, with real keys and
//! tokens from the test kit. Every wait is bounded (short cooldowns and TTLs).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{Issuer, Server, code, config, stale_after_a_second, verifier, with_kid};
use jwtgate_jwks::{ConfigError, FetchError, JwksConfig};
use jwtgate_testkit::alg::Alg;
use jwtgate_testkit::keygen;
use jwtgate_verify::{Algorithm, KeyResolver, Scratch, Verifier};

#[tokio::test]
async fn first_use_fetches_then_serves_from_cache() {
    let issuer = Issuer::new(&["k1"]);
    let server = Server::start(issuer.jwks(&["k1"])).await;
    let v = verifier(config(&server).build().unwrap());
    let mut scratch = Scratch::new();
    // The synchronous path never waits for a fetch: nothing cached yet.
    assert_eq!(v.verify(&issuer.token("k1"), &mut scratch).unwrap_err().code(), "key_source_unavailable");
    assert_eq!(code(&v, &issuer.token("k1")).await, Ok(()));
    for _ in 0..20 {
        assert_eq!(code(&v, &issuer.token("k1")).await, Ok(()));
    }
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn concurrent_cold_start_makes_one_request() {
    let issuer = Issuer::new(&["k1"]);
    let server = Server::start(issuer.jwks(&["k1"])).await;
    server.set(|r| r.delay = Duration::from_millis(200));
    let v = Arc::new(verifier(config(&server).build().unwrap()));
    let token = Arc::new(issuer.token("k1"));
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let (v, token) = (v.clone(), token.clone());
            tokio::spawn(async move { code(&v, &token).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), Ok(()));
    }
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn unknown_kid_refetches_at_most_once_per_cooldown() {
    let issuer = Issuer::new(&["old", "new", "newer"]);
    let server = Server::start(issuer.jwks(&["old"])).await;
    let source = config(&server).build().unwrap();
    source.fetch_now().await.unwrap();
    let v = verifier(source);
    // Rotation at the issuer right after the start-up fetch: "new" appears.
    // A scheduled fetch does not start the cooldown, so the first token
    // with the new kid fetches at once.
    server.set(|r| r.body = issuer.jwks(&["old", "new"]));
    assert_eq!(code(&v, &issuer.token("new")).await, Ok(()));
    assert_eq!(server.hits(), 2);
    // "newer" appears inside the cooldown of that fetch: fail fast, no
    // request; after the cooldown, one fetch finds it.
    server.set(|r| r.body = issuer.jwks(&["old", "new", "newer"]));
    assert_eq!(code(&v, &issuer.token("newer")).await, Err("key_not_found"));
    assert_eq!(server.hits(), 2);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(code(&v, &issuer.token("newer")).await, Ok(()));
    assert_eq!(server.hits(), 3);

    // A flood of tokens with random kids: at most one request per window.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let forged = issuer.token("old");
    for i in 0..100 {
        let header = format!(r#"{{"alg":"ES256","kid":"random-{i}"}}"#);
        let t = format!("{}.{}", jwtgate_testkit::jwk::b64(header), forged.split_once('.').unwrap().1);
        assert_eq!(code(&v, &t).await, Err("key_not_found"));
    }
    assert_eq!(server.hits(), 4, "one refetch for the whole flood");
}

#[tokio::test]
async fn removed_key_stops_verifying_at_once() {
    let issuer = Issuer::new(&["a", "b"]);
    let server = Server::start(issuer.jwks(&["a", "b"])).await;
    let source = config(&server).build().unwrap();
    source.fetch_now().await.unwrap();
    let v = verifier(source.clone());
    assert_eq!(code(&v, &issuer.token("a")).await, Ok(()));
    server.set(|r| r.body = issuer.jwks(&["b"]));
    source.fetch_now().await.unwrap();
    assert_eq!(code(&v, &issuer.token("a")).await, Err("key_not_found"));
    assert_eq!(code(&v, &issuer.token("b")).await, Ok(()));
}

#[tokio::test]
async fn stale_keys_are_served_while_fetches_fail_then_expire() {
    let issuer = Issuer::new(&["k"]);
    let server = Server::start(issuer.jwks(&["k"])).await;
    let source = stale_after_a_second(&server)
        .max_ttl(Duration::from_secs(1))
        .max_staleness(Duration::from_millis(1500))
        .build()
        .unwrap();
    source.fetch_now().await.unwrap();
    server.set(|r| r.status = 503);
    let v = verifier(source.clone());
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(matches!(source.fetch_now().await, Err(FetchError::Status(503))));
    // Expired and the endpoint is down: the last good set still serves.
    assert_eq!(code(&v, &issuer.token("k")).await, Ok(()));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Past max staleness: unavailable (HTTP 503 territory, retryable).
    let mut scratch = Scratch::new();
    let err = v.verify(&issuer.token("k"), &mut scratch).unwrap_err();
    assert_eq!(err.code(), "key_source_unavailable");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn cache_control_sets_freshness_and_etag_renews_without_a_body() {
    let issuer = Issuer::new(&["k"]);
    let server = Server::start(issuer.jwks(&["k"])).await;
    server.set(|r| r.headers = vec![("cache-control", "public, max-age=120".into()), ("etag", "\"v1\"".into())]);
    let source = config(&server).background_refresh(false).build().unwrap();
    source.fetch_now().await.unwrap();
    let (fetched, fresh_until) = source.freshness().unwrap();
    assert_eq!((fresh_until - fetched).as_secs(), 120);
    // A conditional request answered 304 keeps the keys and renews.
    server.set(|r| r.body = "this body would not parse".into());
    assert_eq!(source.fetch_now().await.unwrap(), 1);
    assert_eq!(server.hits(), 2);
    assert!(source.current().is_ok());
}

#[tokio::test]
async fn limits_and_bad_documents() {
    let issuer = Issuer::new(&["k"]);
    let server = Server::start(issuer.jwks(&["k"])).await;
    let small = config(&server).max_body_bytes(64).build().unwrap();
    assert!(matches!(small.fetch_now().await, Err(FetchError::TooLarge(64))));
    server.set(|r| r.body = "{\"not\":\"a jwks\"}".into());
    let source = config(&server).build().unwrap();
    assert!(matches!(source.fetch_now().await, Err(FetchError::Invalid(_))));
    server.set(|r| r.status = 404);
    assert!(matches!(source.fetch_now().await, Err(FetchError::Status(404))));
    // Symmetric keys are never taken from a remote set.
    server.set(|r| {
        r.status = 200;
        r.body = r#"{"keys":[{"kty":"oct","kid":"s","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI"}]}"#.into();
    });
    // (A set of only such keys is an answer: it withdraws every key.)
    assert_eq!(source.fetch_now().await.unwrap(), 0);
    // An HTML error page is not a key set, whatever its status.
    server.set(|r| {
        r.body = "<html>maintenance</html>".into();
        r.headers = vec![("content-type", "text/html; charset=utf-8".into())];
    });
    assert!(matches!(source.fetch_now().await, Err(FetchError::NotJson(ct)) if ct.starts_with("text/html")));
}

#[tokio::test]
async fn only_https_except_loopback_in_tests() {
    for url in ["http://auth.example.com/jwks", "http://10.0.0.1/jwks", "ftp://127.0.0.1/jwks"] {
        let err = JwksConfig::new(url).allow_insecure_loopback().build().unwrap_err();
        assert!(matches!(err, ConfigError::InsecureUrl("JWKS URL")), "{url}");
    }
    let err = JwksConfig::new("http://127.0.0.1/jwks").build().unwrap_err();
    assert!(matches!(err, ConfigError::InsecureUrl("JWKS URL")));
    // The message names the fix.
    assert!(err.to_string().contains("allow_insecure_loopback()"), "{err}");
    let err = JwksConfig::discover("http://127.0.0.1:8000").build().unwrap_err();
    assert!(matches!(err, ConfigError::InsecureUrl("issuer URL")));
    assert!(err.to_string().starts_with("the issuer URL must be https"), "{err}");
    assert!(matches!(JwksConfig::new("not a url").build().unwrap_err(), ConfigError::InvalidUrl("JWKS URL")));
    assert!(JwksConfig::new("https://auth.example.com/jwks").build().is_ok());
    assert!(JwksConfig::new("http://[::1]:8080/jwks").allow_insecure_loopback().build().is_ok());
    assert!(JwksConfig::new("http://localhost/jwks").allow_insecure_loopback().build().is_ok());
    let bad =
        JwksConfig::new("https://a.test").min_ttl(Duration::from_secs(10)).max_ttl(Duration::from_secs(5)).build();
    assert!(matches!(bad.unwrap_err(), ConfigError::Bounds(_)));
}

#[tokio::test]
async fn unreachable_source_is_key_source_unavailable() {
    // A port nothing listens on: bind, take the address, close.
    let addr = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let source = JwksConfig::new(format!("http://{addr}/jwks")).allow_insecure_loopback().build().unwrap();
    let v = verifier(source);
    let issuer = Issuer::new(&["k"]);
    assert_eq!(code(&v, &issuer.token("k")).await, Err("key_source_unavailable"));
}

#[tokio::test]
async fn discovery_finds_the_jwks_and_checks_the_issuer() {
    let issuer = Issuer::new(&["k"]);
    let jwks = Server::start(issuer.jwks(&["k"])).await;
    let metadata = Server::start(String::new()).await;
    let issuer_url = format!("http://{}", metadata.addr);
    let doc = |iss: &str| {
        serde_json::json!({
            "issuer": iss, "jwks_uri": jwks.url(),
            "id_token_signing_alg_values_supported": ["RS256", "ES256", "none", "HS256"],
        })
        .to_string()
    };
    metadata.set(|r| r.body = doc(&issuer_url));

    let source = JwksConfig::discover(&issuer_url).allow_insecure_loopback().build().unwrap();
    assert_eq!(source.narrow_algorithms(&[Algorithm::ES256, Algorithm::EdDSA]).len(), 2, "nothing known yet");
    assert_eq!(source.fetch_now().await.unwrap(), 1);
    // Narrowed to what the issuer signs with, never widened.
    assert_eq!(source.advertised_algorithms().unwrap(), [Algorithm::RS256, Algorithm::ES256, Algorithm::HS256]);
    assert_eq!(source.narrow_algorithms(&[Algorithm::ES256, Algorithm::EdDSA]), [Algorithm::ES256]);
    assert!(source.narrow_algorithms(&[Algorithm::PS256]).is_empty());
    assert_eq!(metadata.reply.lock().unwrap().seen, ["/.well-known/openid-configuration"]);
    let v = Verifier::builder()
        .issuer("https://issuer.test")
        .audience("api")
        .algorithms([Algorithm::ES256])
        .build(source)
        .unwrap();
    assert_eq!(code(&v, &issuer.token("k")).await, Ok(()));
    // Later fetches go straight to the JWKS.
    assert_eq!(metadata.hits(), 1);

    // A metadata document speaking for another issuer is refused.
    metadata.set(|r| r.body = doc("https://evil.test"));
    let other = JwksConfig::discover(&issuer_url).allow_insecure_loopback().build().unwrap();
    assert!(matches!(other.fetch_now().await, Err(FetchError::Discovery(_))));
}

#[tokio::test]
async fn a_moved_jwks_is_found_again_through_discovery() {
    let issuer = Issuer::new(&["k"]);
    let old_home = Server::start(issuer.jwks(&["k"])).await;
    let new_home = Server::start(issuer.jwks(&["k"])).await;
    let metadata = Server::start(String::new()).await;
    let issuer_url = format!("http://{}", metadata.addr);
    let doc = |jwks: &Server| serde_json::json!({ "issuer": issuer_url, "jwks_uri": jwks.url() }).to_string();
    metadata.set(|r| r.body = doc(&old_home));
    let source = JwksConfig::discover(&issuer_url).allow_insecure_loopback().build().unwrap();
    assert_eq!(source.fetch_now().await.unwrap(), 1);

    // A server error keeps the discovered address.
    old_home.set(|r| r.status = 503);
    for _ in 0..2 {
        assert!(matches!(source.fetch_now().await, Err(FetchError::Status(503))));
    }
    assert_eq!(metadata.hits(), 1);

    // The issuer moves its JWKS: the old address answers 404 once, then
    // discovery runs again and finds the new one.
    old_home.set(|r| r.missing = Some("/"));
    metadata.set(|r| r.body = doc(&new_home));
    assert!(matches!(source.fetch_now().await, Err(FetchError::Status(404))));
    assert_eq!(source.fetch_now().await.unwrap(), 1);
    assert_eq!(metadata.hits(), 2);
    assert_eq!(new_home.hits(), 1);
}

#[tokio::test]
async fn a_stale_set_with_a_failing_issuer_revalidates_once_per_cooldown() {
    let issuer = Issuer::new(&["a"]);
    let server = Server::start(issuer.jwks(&["a"])).await;
    server.set(|r| r.headers = vec![("cache-control", "max-age=1".into())]);
    let source = stale_after_a_second(&server).cooldown(Duration::from_secs(2)).build().unwrap();
    source.fetch_now().await.unwrap();
    let fetched = std::time::Instant::now();
    let v = verifier(source.clone());
    server.set(|r| r.status = 503);
    let token = issuer.token("a");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Stale from 1 s on and the issuer failing: every lookup is served
    // from the last good set. Revalidation may start once a cooldown (2 s)
    // has passed since the last attempt, so in [1.1 s, 3.5 s] exactly one.
    while fetched.elapsed() < Duration::from_millis(3500) {
        assert_eq!(code(&v, &token).await, Ok(()));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(server.hits(), 2, "the start-up fetch and one revalidation");
    assert_eq!(source.stats().fetch_failures, 1);
}

#[tokio::test]
async fn unknown_kids_wait_for_the_fetch_under_way_known_kids_never_do() {
    let issuer = Issuer::new(&["a", "b"]);
    let server = Server::start(issuer.jwks(&["a"])).await;
    let source = config(&server).build().unwrap();
    source.fetch_now().await.unwrap();
    let v = Arc::new(verifier(source.clone()));
    // The issuer publishes "b"; a slow scheduled fetch is under way...
    server.set(|r| {
        r.body = issuer.jwks(&["a", "b"]);
        r.delay = Duration::from_millis(800);
    });
    let background = tokio::spawn({
        let source = source.clone();
        async move { source.fetch_now().await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    // ...a token of kid "b" waits for it (no second request) and passes...
    let waiting = tokio::spawn({
        let (v, token) = (v.clone(), issuer.token("b"));
        async move { code(&v, &token).await }
    });
    // ...while a token of the kid in hand is answered without waiting.
    let started = std::time::Instant::now();
    assert_eq!(code(&v, &issuer.token("a")).await, Ok(()));
    assert!(started.elapsed() < Duration::from_millis(300), "waited {:?}", started.elapsed());
    assert_eq!(waiting.await.unwrap(), Ok(()));
    background.await.unwrap().unwrap();
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn the_refresh_task_ends_when_the_last_handle_is_dropped() {
    let issuer = Issuer::new(&["k"]);
    let server = Server::start(issuer.jwks(&["k"])).await;
    // Fresh for an hour: the task's next planned fetch is far away.
    server.set(|r| r.headers = vec![("cache-control", "max-age=3600".into())]);
    let alive = || tokio::runtime::Handle::current().metrics().num_alive_tasks();
    let before = alive();
    // A long cooldown: the task's first wait (nothing fetched when it
    // starts) is one cooldown.
    let source = config(&server).cooldown(Duration::from_secs(60)).build().unwrap();
    source.fetch_now().await.unwrap();
    let clone = source.clone();
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The refresh task, and the pooled connection's tasks on both ends.
    let running = alive();
    assert!(running > before, "{running} tasks");
    drop(source);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(alive(), running, "a clone keeps it all running");
    // The last handle: the task ends (as do the connections, with the client).
    drop(clone);
    for _ in 0..100 {
        if alive() == before {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the refresh task outlived its source");
}

#[tokio::test]
async fn discovery_falls_back_to_rfc8414() {
    let issuer = Issuer::new(&["k"]);
    let jwks = Server::start(issuer.jwks(&["k"])).await;
    let metadata = Server::start(String::new()).await;
    let issuer_url = format!("http://{}/tenant-1", metadata.addr);
    metadata.set(|r| {
        r.body = serde_json::json!({ "issuer": issuer_url, "jwks_uri": jwks.url() }).to_string();
        r.missing = Some("openid-configuration");
    });
    let source = JwksConfig::discover(&issuer_url).allow_insecure_loopback().build().unwrap();
    assert_eq!(source.fetch_now().await.unwrap(), 1);
    let seen = metadata.reply.lock().unwrap().seen.clone();
    assert_eq!(
        seen,
        ["/tenant-1/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/tenant-1"]
    );
}

#[tokio::test]
async fn discovery_refuses_an_insecure_jwks_uri() {
    let metadata = Server::start(String::new()).await;
    let issuer_url = format!("http://{}", metadata.addr);
    metadata.set(|r| {
        r.body = serde_json::json!({ "issuer": issuer_url, "jwks_uri": "http://keys.example.com/jwks" }).to_string()
    });
    let source = JwksConfig::discover(&issuer_url).allow_insecure_loopback().build().unwrap();
    assert!(matches!(source.fetch_now().await, Err(FetchError::Discovery(_))));
}

#[tokio::test]
async fn snapshot_gives_a_warm_start_when_the_issuer_is_down() {
    let issuer = Issuer::new(&["k"]);
    let server = Server::start(issuer.jwks(&["k"])).await;
    let first = config(&server).build().unwrap();
    assert!(first.export_snapshot().is_none());
    first.fetch_now().await.unwrap();
    let saved = first.export_snapshot().unwrap();
    assert!(!saved.contains("\"d\""), "public keys only");

    // Next boot: the identity provider is down.
    server.set(|r| r.status = 503);
    let second = config(&server).build().unwrap();
    assert_eq!(second.load_snapshot(&saved).unwrap(), 1);
    let v = verifier(second);
    let mut scratch = Scratch::new();
    assert!(v.verify(&issuer.token("k"), &mut scratch).is_ok(), "served from the snapshot");

    // A snapshot older than max_staleness is refused.
    let old = saved.replacen("\"fetched_at\":", "\"fetched_at\":1,\"was\":", 1);
    let third = config(&server).build().unwrap();
    assert!(matches!(third.load_snapshot(&old), Err(FetchError::Snapshot(_))));
    assert!(matches!(third.load_snapshot("not json"), Err(FetchError::Snapshot(_))));
}

#[tokio::test]
async fn concurrent_flood_of_unknown_kids_costs_one_fetch() {
    let issuer = Issuer::new(&["k"]);
    let server = Server::start(issuer.jwks(&["k"])).await;
    server.set(|r| r.delay = Duration::from_millis(100));
    let source = config(&server).build().unwrap();
    source.fetch_now().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let v = Arc::new(verifier(source.clone()));
    let tasks: Vec<_> = (0..500)
        .map(|i| {
            let (v, token) = (v.clone(), with_kid(&issuer, &format!("random-{i}")));
            tokio::spawn(async move { code(&v, &token).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), Err("key_not_found"));
    }
    assert_eq!(server.hits(), 2, "the start-up fetch and one refetch for 500 unknown kids");
    let stats = source.stats();
    assert_eq!(stats.fetches, 2);
    assert_eq!(stats.unknown_kid_refetches, 1);
    // The same kids again, still inside the window: answered from memory.
    assert_eq!(code(&v, &with_kid(&issuer, "random-7")).await, Err("key_not_found"));
    assert_eq!(server.hits(), 2);
    assert!(source.stats().negative_cache_hits + source.stats().cooldown_skips >= 1);
}

#[tokio::test]
async fn bad_answers_after_a_warm_start_keep_the_last_good_keys() {
    let issuer = Issuer::new(&["k"]);
    let server = Server::start(issuer.jwks(&["k"])).await;
    let source = config(&server).build().unwrap();
    source.fetch_now().await.unwrap();
    let v = verifier(source.clone());
    let bad: [(u16, &str); 4] = [(500, "oops"), (200, "garbage"), (200, r#"{"keys":[]}"#), (200, "[1,2,3]")];
    for (status, body) in bad {
        server.set(|r| {
            r.status = status;
            r.body = body.into();
        });
        assert!(source.fetch_now().await.is_err(), "{status} {body}");
        assert_eq!(code(&v, &issuer.token("k")).await, Ok(()), "{status} {body}");
    }
    assert_eq!(source.stats().fetch_failures, 4);

    // A set that lists keys, none usable here, is an answer, not an error:
    // the issuer withdrew the old key, so it stops verifying at once.
    server.set(|r| {
        r.status = 200;
        r.body = r#"{"keys":[{"kty":"EC","crv":"P-384","kid":"new","x":"AA","y":"AA"}]}"#.into();
    });
    assert_eq!(source.fetch_now().await.unwrap(), 0);
    assert_eq!(code(&v, &issuer.token("k")).await, Err("key_not_found"));

    // A bad answer to a cold source: nothing to serve, retryable.
    server.set(|r| r.body = "garbage".into());
    let cold = verifier(config(&server).build().unwrap());
    assert_eq!(code(&cold, &issuer.token("k")).await, Err("key_source_unavailable"));
}

#[tokio::test]
async fn slow_issuer_is_cut_off_by_the_timeout() {
    let issuer = Issuer::new(&["k"]);
    let server = Server::start(issuer.jwks(&["k"])).await;
    server.set(|r| r.delay = Duration::from_secs(30));
    let source = config(&server).timeouts(Duration::from_millis(500), Duration::from_millis(500)).build().unwrap();
    let started = std::time::Instant::now();
    let v = verifier(source);
    assert_eq!(code(&v, &issuer.token("k")).await, Err("key_source_unavailable"));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn redirect_loops_are_cut_off() {
    let issuer = Issuer::new(&["k"]);
    let server = Server::start(issuer.jwks(&["k"])).await;
    let url = server.url();
    server.set(|r| {
        r.status = 302;
        r.headers = vec![("location", url.clone())];
    });
    let source = config(&server).build().unwrap();
    assert!(matches!(source.fetch_now().await, Err(FetchError::Http(_))));
    assert_eq!(server.hits(), 4, "the request and three redirects, then stop");
}

#[tokio::test]
async fn stale_set_is_revalidated_without_the_background_task() {
    let issuer = Issuer::new(&["a", "b"]);
    let server = Server::start(issuer.jwks(&["a", "b"])).await;
    server.set(|r| r.headers = vec![("cache-control", "max-age=1".into())]);
    let source = stale_after_a_second(&server).build().unwrap();
    source.fetch_now().await.unwrap();
    let v = verifier(source.clone());
    // The issuer drops key "a"; once the set is stale, the next lookup still
    // answers from it but starts a refetch, after which "a" is gone.
    server.set(|r| r.body = issuer.jwks(&["b"]));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(code(&v, &issuer.token("a")).await, Ok(()));
    assert!(source.stats().stale_serves >= 1);
    for _ in 0..50 {
        if server.hits() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.hits(), 2);
    for _ in 0..50 {
        if code(&v, &issuer.token("a")).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(code(&v, &issuer.token("a")).await, Err("key_not_found"));
    assert_eq!(code(&v, &issuer.token("b")).await, Ok(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_never_fail_while_the_set_rotates() {
    let issuer = Issuer::new(&["stable", "a", "b"]);
    let server = Server::start(issuer.jwks(&["stable", "a"])).await;
    let source = config(&server).build().unwrap();
    source.fetch_now().await.unwrap();
    let v = Arc::new(verifier(source.clone()));
    let token = Arc::new(issuer.token("stable"));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (v, token, stop) = (v.clone(), token.clone(), stop.clone());
            tokio::spawn(async move {
                let mut checks = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    assert_eq!(code(&v, &token).await, Ok(()));
                    checks += 1;
                    tokio::task::yield_now().await;
                }
                checks
            })
        })
        .collect();
    // Rotate every few milliseconds: "a" and "b" take turns next to "stable".
    for round in 0..40 {
        let current = if round % 2 == 0 { "b" } else { "a" };
        server.set(|r| r.body = issuer.jwks(&["stable", current]));
        source.fetch_now().await.unwrap();
        // Right after a swap the removed key is gone, the added one there.
        let gone = if current == "a" { "b" } else { "a" };
        assert_eq!(code(&v, &issuer.token(current)).await, Ok(()));
        assert_eq!(code(&v, &issuer.token(gone)).await, Err("key_not_found"));
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert!(total > 64, "the readers ran: {total}");
}

/// Key sets shaped like the big identity providers': RSA keys with `x5c`
/// and `x5t` and no `alg` (Entra ID), with `alg` (Google), signing and
/// encryption keys side by side (Keycloak), EC and OKP keys (Okta, custom).
#[tokio::test]
async fn provider_shaped_key_sets_load_their_signing_keys() {
    let dir = tempfile::tempdir().unwrap();
    let key = |alg, kid: &str| {
        let w = keygen::run(&keygen::Request {
            alg,
            bits: None,
            kid: Some(kid.into()),
            out: dir.path().into(),
            force: false,
        })
        .unwrap();
        let jwk: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(w.public_jwk.unwrap()).unwrap()).unwrap();
        jwk
    };
    let mut entra = key(Alg::RS256, "entra");
    let object = entra.as_object_mut().unwrap();
    object.remove("alg");
    // A SHA-1 thumbprint is 20 bytes; x5c is standard (padded) base64 DER.
    object.insert("x5t".into(), jwtgate_testkit::jwk::b64([0x5a; 20]).into());
    object.insert("x5c".into(), serde_json::json!(["TUlJQ2hUQ0NBZTJnQXdJQkFnSUpBTW9jaw=="]));
    object.insert("issuer".into(), "https://login.example/tenant/v2.0".into());
    let google = key(Alg::RS256, "google");
    let mut keycloak_enc = key(Alg::RS256, "keycloak-enc");
    keycloak_enc["use"] = "enc".into();
    keycloak_enc["alg"] = "RSA-OAEP".into();
    let okta_ec = key(Alg::ES256, "okta");
    let custom_ed = key(Alg::EdDSA, "ed");
    let x25519 = serde_json::json!({ "kty": "OKP", "crv": "X25519", "kid": "ecdh", "x": "hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo" });
    let doc = serde_json::json!({ "keys": [entra, google, keycloak_enc, okta_ec, custom_ed, x25519] }).to_string();

    let server = Server::start(doc).await;
    server.set(|r| r.headers = vec![("content-type", "application/jwk-set+json".into())]);
    let source = config(&server).build().unwrap();
    let loaded = source.fetch_now().await.unwrap();
    let why: Vec<_> =
        source.current().unwrap().skipped().iter().map(|s| format!("{:?}: {}", s.kid, s.reason)).collect();
    assert_eq!(loaded, 4, "entra, google, okta, ed; not the enc or X25519 keys: {why:?}");
    let keys = source.current().unwrap();
    let kids: Vec<_> = keys.keys().iter().filter_map(|k| k.kid()).collect();
    assert_eq!(kids, ["entra", "google", "okta", "ed"]);
    let skipped: Vec<_> = keys.skipped().iter().filter_map(|s| s.kid.as_deref()).collect();
    assert_eq!(skipped, ["keycloak-enc", "ecdh"]);
}
