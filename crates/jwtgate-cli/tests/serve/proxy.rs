//! Reverse-proxy mode: a real upstream behind `jwtgate serve --upstream`.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::support::{
    AUD, ISS, Proxied, bearer, closed_port, get, jwks_server, keys, peak_rss_kib, proxied, proxy, proxy_logged,
    request, runtime, serve, upstream,
};

#[test]
fn valid_requests_reach_the_upstream_with_verified_claims_and_the_rest_never_do() {
    let Proxied { runtime: _upstream_runs_on_it, up, seen, keys } = proxied();
    let s = proxy(up, &keys, &["--claim-header", "sub=X-User-Id", "--skip-path", "/public"]);
    let good = bearer(&keys.token("orders:read", "5m"));

    // Valid: forwarded, with the verified claim in place of the forged
    // one (and its underscore twin), hop-by-hop fields dropped, the
    // forwarding fields set, the token kept.
    let a = get(
        &s,
        "/echo?x=1",
        &[
            ("Authorization", &good),
            ("X-User-Id", "root"),
            ("X_User_Id", "root"),
            ("Connection", "close, X-Hop"),
            ("X-Hop", "1"),
            ("Keep-Alive", "timeout=5"),
            ("Proxy-Authorization", "Basic c2VjcmV0"),
            ("X-Forwarded-Proto", "https"),
        ],
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let echoed = a.body.to_ascii_lowercase();
    assert!(echoed.starts_with("get /echo?x=1\n"), "{echoed}");
    assert!(echoed.contains("x-user-id: alice\n"), "{echoed}");
    assert!(!echoed.contains("root"), "a forged claim header reached the upstream: {echoed}");
    for dropped in ["x-hop:", "keep-alive:", "proxy-authorization:"] {
        assert!(!echoed.contains(dropped), "{dropped} reached the upstream: {echoed}");
    }
    assert!(echoed.contains("x-forwarded-for: 127.0.0.1\n"), "{echoed}");
    assert!(echoed.contains("x-forwarded-proto: http\n"), "{echoed}");
    assert!(echoed.contains("x-forwarded-host: app.test\n"), "{echoed}");
    assert!(echoed.contains("forwarded: for=127.0.0.1;host=\"app.test\";proto=http\n"), "{echoed}");
    assert!(echoed.contains("host: app.test\n"), "{echoed}");
    assert!(echoed.contains("via: 1.1 jwtgate\n"), "{echoed}");
    assert!(echoed.contains("authorization: bearer "), "{echoed}");

    // What a client claims about where it is from never reaches the
    // upstream (no --trust-forwarded), nor a routing override.
    let a = get(
        &s,
        "/echo",
        &[
            ("Authorization", &good),
            ("X-Forwarded-Host", "evil.example"),
            ("X-Real-IP", "10.0.0.1"),
            ("Forwarded", "for=10.0.0.1;host=evil.example"),
            ("X-Original-URL", "/admin"),
            ("Connection", "Host"),
        ],
    );
    assert_eq!(a.status, 200);
    let echoed = a.body.to_ascii_lowercase();
    for claimed in ["evil.example", "10.0.0.1", "x-original-url"] {
        assert!(!echoed.contains(claimed), "{claimed} reached the upstream: {echoed}");
    }
    assert!(echoed.contains("host: app.test\n"), "Connection cannot remove Host: {echoed}");

    // Refusals are answered by the proxy; the upstream never sees them.
    let before = seen.requests.load(Ordering::Relaxed);
    let a = get(&s, "/echo", &[]);
    assert_eq!(a.status, 401);
    assert!(a.header("www-authenticate").unwrap().starts_with("Bearer realm="));
    let expired = keys.token("orders:read", "-1h");
    let a = get(&s, "/echo", &[("Authorization", &bearer(&expired))]);
    assert_eq!(a.status, 401);
    assert!(a.body.contains("\"code\":\"expired\""), "{}", a.body);
    let a = get(&s, "/echo", &[("Authorization", "Bearer not.a.token")]);
    assert_eq!(a.status, 401);
    // Requests servers read differently are refused before any rule.
    for path in ["/public/../echo", "/public/..;/echo", "/public/%2e%2e/echo", "/%65cho", "/PUBLIC/echo"] {
        let a = get(&s, path, &[]);
        assert_eq!(a.status, 400, "{path}: {}", a.body);
        assert!(a.body.contains("ambiguous_path"), "{path}: {}", a.body);
    }
    let a = request(&s.addr, "delete", "/echo", &[("Authorization", &good)]);
    assert_eq!(a.status, 400, "a lower-case method: {}", a.body);
    let a = get(&s, "/public/x", &[("X-HTTP-Method-Override", "DELETE")]);
    assert_eq!(a.status, 400, "a method override: {}", a.body);
    assert!(a.body.contains("ambiguous_method"), "{}", a.body);
    assert_eq!(request(&s.addr, "TRACE", "/echo", &[("Authorization", &good)]).status, 405);
    assert_eq!(seen.requests.load(Ordering::Relaxed), before, "a refused request reached the upstream");

    // An open path needs no token; forged claim headers are still removed
    // on the way, in either spelling (a token goes on as sent: the upstream
    // may check it itself; --strip-token below removes it).
    let a = get(&s, "/public/page", &[("X-User-Id", "root"), ("X_User_Id", "root")]);
    assert_eq!(a.status, 200);
    assert!(!a.body.to_ascii_lowercase().contains("root"), "{}", a.body);
    let a = get(&s, "/public/page", &[("X-Method-Override", "DELETE")]);
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(get(&s, "/public/page?_method=DELETE", &[]).status, 400);
    // An h2c upgrade is not tunnelled: the request goes on as a plain one.
    let h2c = [
        ("Authorization", good.as_str()),
        ("Connection", "Upgrade, HTTP2-Settings"),
        ("Upgrade", "h2c"),
        ("HTTP2-Settings", "AAMAAABkAAQAoAAAAAIAAAAA"),
    ];
    let a = get(&s, "/echo", &h2c);
    assert_eq!(a.status, 200);
    assert!(!a.body.to_ascii_lowercase().contains("upgrade"), "{}", a.body);

    // --strip-token: the upstream sees neither the header nor the cookie,
    // on any rule.
    let stripped = proxy(up, &keys, &["--strip-token", "--cookie", "at", "--skip-path", "/public"]);
    let a = get(&stripped, "/echo", &[("Authorization", &good)]);
    assert_eq!(a.status, 200);
    assert!(!a.body.to_ascii_lowercase().contains("authorization"), "{}", a.body);
    let token = keys.token("orders:read", "5m");
    let a = get(&stripped, "/echo", &[("Cookie", &format!("theme=dark; at={token}"))]);
    assert_eq!(a.status, 200);
    assert!(a.body.contains("cookie: theme=dark\n") && !a.body.contains(&token), "{}", a.body);
    let a = get(&stripped, "/public/page", &[("Authorization", "Bearer forged.unverified.token")]);
    assert_eq!(a.status, 200);
    assert!(!a.body.contains("forged"), "an unverified token reached the upstream: {}", a.body);
}

/// h2c with prior knowledge in front, HTTP/1.1 behind: the request goes on
/// with its authority as Host and its cookie fields joined into one line
/// (RFC 9113 8.2.3); a refusal is an HTTP/2 401.
#[test]
fn h2c_requests_are_verified_and_forwarded_over_http_1_1() {
    use http_body_util::{BodyExt as _, Empty};
    let Proxied { runtime, up, keys, .. } = proxied();
    let s = proxy(up, &keys, &[]);
    let good = bearer(&keys.token("x", "5m"));
    let addr = s.addr.clone();
    runtime.block_on(async move {
        let stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(stream),
        )
        .await
        .unwrap();
        tokio::spawn(connection);
        let request = |auth: Option<&str>| {
            let mut builder =
                hyper::Request::get("http://orders.test/echo").header("cookie", "a=1").header("cookie", "b=2");
            if let Some(auth) = auth {
                builder = builder.header("authorization", auth);
            }
            builder.body(Empty::<bytes::Bytes>::new()).unwrap()
        };
        let response = sender.send_request(request(Some(&good))).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.version(), hyper::Version::HTTP_2);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let echoed = String::from_utf8_lossy(&body).to_ascii_lowercase();
        assert!(echoed.contains("host: orders.test\n"), "{echoed}");
        assert!(echoed.contains("cookie: a=1; b=2\n"), "{echoed}");
        assert!(echoed.contains("via: 2 jwtgate\n"), "{echoed}");
        let refused = sender.send_request(request(None)).await.unwrap();
        assert_eq!(refused.status(), 401);
    });
}

#[test]
fn an_upstream_down_is_502_and_a_slow_one_504() {
    let Proxied { runtime: _upstream_runs_on_it, up, keys, .. } = proxied();
    let jwks = keys.jwks();
    let good = bearer(&keys.token("x", "5m"));

    let down = format!("http://127.0.0.1:{}", closed_port());
    let s = serve(&["--upstream", &down, "--jwks", &jwks, "--issuer", ISS, "--audience", AUD]);
    assert_eq!(get(&s, "/echo", &[("Authorization", &good)]).status, 502);

    let s = proxy(up, &keys, &["--upstream-timeout", "300ms"]);
    assert_eq!(get(&s, "/slow", &[("Authorization", &good)]).status, 504);
    assert_eq!(get(&s, "/echo", &[("Authorization", &good)]).status, 200);
    let metrics = get(&s, "/.jwtgate/metrics", &[]).body;
    assert!(metrics.contains("jwtgate_upstream_errors_total{kind=\"timeout\"} 1"), "{metrics}");
}

/// Sends a 100 MB body up and takes a 100 MB body down through the proxy;
/// memory stays flat (nothing is buffered whole).
#[test]
fn a_hundred_megabytes_stream_both_ways_in_flat_memory() {
    const SIZE: u64 = 100 * 1024 * 1024;
    let Proxied { runtime: _upstream_runs_on_it, up, keys, .. } = proxied();
    let s = proxy(up, &keys, &[]);
    let good = bearer(&keys.token("x", "5m"));
    let idle_kib = peak_rss_kib(s.child.id()).unwrap_or(0);

    let mut stream = TcpStream::connect(&s.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let head = format!(
        "POST /upload HTTP/1.1\r\nHost: app.test\r\nAuthorization: {good}\r\nContent-Length: {SIZE}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let chunk = vec![b'u'; 256 * 1024];
    for _ in 0..SIZE / chunk.len() as u64 {
        stream.write_all(&chunk).unwrap();
    }
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with(&format!("\r\n\r\n{SIZE}")), "the upstream counted otherwise: {response}");

    let mut stream = TcpStream::connect(&s.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let head = format!(
        "GET /download?n={SIZE} HTTP/1.1\r\nHost: app.test\r\nAuthorization: {good}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut received = 0_u64;
    let mut buffer = vec![0_u8; 256 * 1024];
    loop {
        let n = stream.read(&mut buffer).unwrap();
        if n == 0 {
            break;
        }
        received += n as u64;
    }
    assert!(received > SIZE, "only {received} bytes came down");

    let peak_kib = peak_rss_kib(s.child.id()).unwrap();
    eprintln!("jwtgate serve peak RSS: {peak_kib} KiB idle {idle_kib} KiB, after 100 MB up and 100 MB down");
    assert!(peak_kib < 64 * 1024, "peak RSS {peak_kib} KiB: a body was buffered");
}

#[test]
fn a_websocket_echo_works_through_the_proxy() {
    use futures_util::{SinkExt as _, StreamExt as _};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

    let Proxied { runtime, up, keys, .. } = proxied();
    let s = proxy(up, &keys, &[]);
    let good = bearer(&keys.token("x", "5m"));
    let url = format!("ws://{}/ws", s.addr);
    runtime.block_on(async {
        // Without a token the handshake is refused with 401.
        let refused = tokio_tungstenite::connect_async(url.as_str()).await;
        match refused {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401),
            other => panic!("expected a 401 handshake, got {other:?}"),
        }
        let mut request = url.as_str().into_client_request().unwrap();
        request.headers_mut().insert("authorization", good.parse().unwrap());
        let (mut ws, response) =
            tokio::time::timeout(Duration::from_secs(10), tokio_tungstenite::connect_async(request))
                .await
                .unwrap()
                .unwrap();
        assert_eq!(response.status(), 101);
        for text in ["hello", "through", "jwtgate"] {
            ws.send(Message::text(text)).await.unwrap();
            let echoed = tokio::time::timeout(Duration::from_secs(10), ws.next()).await.unwrap().unwrap().unwrap();
            assert_eq!(echoed, Message::text(text));
        }
        let big = vec![7_u8; 1 << 20];
        ws.send(Message::binary(big.clone())).await.unwrap();
        let echoed = tokio::time::timeout(Duration::from_secs(10), ws.next()).await.unwrap().unwrap().unwrap();
        assert_eq!(echoed.into_data().as_ref(), big.as_slice());
        ws.close(None).await.unwrap();

        // An upstream that answers 101 without completing the handshake
        // gets no tunnel: 502.
        let mut request = format!("ws://{}/fake-switch", url.trim_start_matches("ws://").split('/').next().unwrap())
            .into_client_request()
            .unwrap();
        request.headers_mut().insert("authorization", good.parse().unwrap());
        match tokio_tungstenite::connect_async(request).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 502),
            other => panic!("expected 502, got {other:?}"),
        }
    });
}

/// A browser cannot set headers on a handshake: the token rides in a
/// subprotocol (Kubernetes' convention), never reaches the upstream, and
/// the upstream's choice among the other subprotocols comes back.
#[test]
fn a_websocket_token_in_a_subprotocol_is_verified_and_never_forwarded() {
    use futures_util::StreamExt as _;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

    let Proxied { runtime, up, keys, .. } = proxied();
    let s = proxy(up, &keys, &["--kubernetes-websocket-token"]);
    let encoded = jwtgate_testkit::jwk::b64(keys.token("x", "5m"));
    let url = format!("ws://{}/ws", s.addr);
    runtime.block_on(async {
        let mut request = url.as_str().into_client_request().unwrap();
        let offer = format!("chat.v1, base64url.bearer.authorization.k8s.io.{encoded}");
        request.headers_mut().insert("sec-websocket-protocol", offer.parse().unwrap());
        let (mut ws, response) =
            tokio::time::timeout(Duration::from_secs(10), tokio_tungstenite::connect_async(request))
                .await
                .unwrap()
                .unwrap();
        assert_eq!(response.status(), 101);
        assert_eq!(response.headers()["sec-websocket-protocol"], "chat.v1");
        let seen = tokio::time::timeout(Duration::from_secs(10), ws.next()).await.unwrap().unwrap().unwrap();
        assert_eq!(seen.into_text().unwrap().as_str(), "chat.v1", "the upstream saw the token entry");

        // A bad token in the subprotocol: 401, no upgrade.
        let mut request = url.as_str().into_client_request().unwrap();
        let bad =
            format!("chat.v1, base64url.bearer.authorization.k8s.io.{}", jwtgate_testkit::jwk::b64("not.a.token"));
        request.headers_mut().insert("sec-websocket-protocol", bad.parse().unwrap());
        match tokio_tungstenite::connect_async(request).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401),
            other => panic!("expected a 401 handshake, got {other:?}"),
        }
    });
}

#[cfg(unix)]
#[test]
fn sigterm_lets_requests_in_flight_finish_then_exits_0() {
    let Proxied { runtime: _upstream_runs_on_it, up, keys, .. } = proxied();
    let mut s = proxy(up, &keys, &["--shutdown-grace", "10s"]);
    let good = bearer(&keys.token("x", "5m"));
    let addr = s.addr.clone();
    // Three requests that take 2 s at the upstream.
    let in_flight: Vec<_> = (0..3)
        .map(|_| {
            let (addr, good) = (addr.clone(), good.clone());
            std::thread::spawn(move || request(&addr, "GET", "/slow", &[("Authorization", &good)]))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let signalled = Instant::now();
    let pid = s.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    for handle in in_flight {
        let a = handle.join().unwrap();
        assert_eq!(a.status, 200, "a request in flight was cut off");
        assert_eq!(a.body, "slow answer");
    }
    let status = s.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(signalled.elapsed() < Duration::from_secs(10), "it waited for the whole grace period");
    assert!(TcpStream::connect(&addr).is_err(), "still accepting after the stop");
}

/// 1,000 requests at once against a cold key source: every one is
/// answered 200 and the issuer sees one fetch.
#[test]
fn a_thousand_concurrent_requests_cost_one_jwks_fetch() {
    let runtime = runtime();
    let (up, _) = upstream(&runtime);
    let keys = keys("ed-1");
    let (issuer, fetches) = jwks_server(&runtime, 0, keys.jwks_path());
    let jwks_url = format!("http://{issuer}/jwks.json");
    let upstream_url = format!("http://{up}");
    let s = serve(&[
        "--upstream",
        &upstream_url,
        "--jwks",
        &jwks_url,
        "--alg",
        "EdDSA",
        "--issuer",
        ISS,
        "--audience",
        AUD,
    ]);
    // The server starts fetching at once: the burst meets that fetch in
    // flight or the set it brought, one fetch either way.
    let good = bearer(&keys.token("x", "5m"));
    let addr = s.addr.clone();
    let statuses: Vec<u16> = runtime.block_on(async move {
        let tasks: Vec<_> = (0..1000)
            .map(|_| {
                let (addr, good) = (addr.clone(), good.clone());
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
                    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
                    let head = format!(
                        "GET /echo HTTP/1.1\r\nHost: app.test\r\nAuthorization: {good}\r\nConnection: close\r\n\r\n"
                    );
                    stream.write_all(head.as_bytes()).await.unwrap();
                    let mut response = Vec::new();
                    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut response))
                        .await
                        .unwrap()
                        .unwrap();
                    super::support::parse(&String::from_utf8_lossy(&response)).status
                })
            })
            .collect();
        let mut statuses = Vec::with_capacity(tasks.len());
        for task in tasks {
            statuses.push(task.await.unwrap());
        }
        statuses
    });
    let ok = statuses.iter().filter(|&&s| s == 200).count();
    assert_eq!(ok, 1000, "statuses other than 200: {:?}", statuses.iter().filter(|&&s| s != 200).collect::<Vec<_>>());
    assert_eq!(fetches.load(Ordering::Relaxed), 1, "the burst cost more than one JWKS fetch");
}

/// One JSON line per decision on stderr, with its outcome and never the
/// token; metrics count the same decisions.
#[test]
fn decisions_are_logged_as_json_and_counted_in_metrics() {
    use std::io::BufRead as _;
    let Proxied { runtime: _upstream_runs_on_it, up, keys, .. } = proxied();
    let mut s = proxy_logged(up, &keys, &["--log-format", "json", "--token-cache", "100", "--skip-path", "/health"]);
    let token = keys.token("x", "5m");
    let good = bearer(&token);
    assert_eq!(get(&s, "/echo", &[("Authorization", &good)]).status, 200);
    assert_eq!(get(&s, "/echo", &[("Authorization", &good)]).status, 200);
    assert_eq!(get(&s, "/echo", &[]).status, 401);
    assert_eq!(get(&s, "/health", &[]).status, 200);
    let metrics = get(&s, "/.jwtgate/metrics", &[]);
    assert_eq!(metrics.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    for line in [
        "jwtgate_decisions_total{outcome=\"accepted\"} 2",
        "jwtgate_decisions_total{outcome=\"missing_token\"} 1",
        "jwtgate_decisions_total{outcome=\"open\"} 1",
        "jwtgate_token_cache_hits_total 1",
        "jwtgate_request_duration_seconds_count 4",
    ] {
        assert!(metrics.body.contains(line), "{line} not in\n{}", metrics.body);
    }

    let pid = s.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let logs = std::io::BufReader::new(s.logs.take().unwrap());
    let lines: Vec<String> = logs.lines().map_while(Result::ok).collect();
    let decisions: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .filter(|v| v["message"] == "decision")
        .collect();
    let outcomes: Vec<&str> = decisions.iter().filter_map(|d| d["outcome"].as_str()).collect();
    assert_eq!(outcomes, ["accepted", "accepted", "missing_token", "open"], "{lines:#?}");
    assert_eq!(decisions.first().and_then(|d| d["iss"].as_str()), Some(ISS));
    assert!(lines.iter().all(|l| !l.contains(&token)), "a log line holds the token");
}
