//! The axum example (`examples/axum_service.rs`), compiled into this test
//! and served on 127.0.0.1 against an OpenID provider on another port: its
//! probes, scopes, typed claims and refusals over real HTTP, and its start
//! while the issuer is down.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

#[allow(
    dead_code,
    unreachable_pub,
    reason = "the example's `main` is not called here, and its `pub` items (public in the binary) are private to \
              this module"
)]
#[path = "../examples/axum_service.rs"]
mod example;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use http::Method;
use http::header::CONTENT_TYPE;
use jwtgate_testkit::alg::Alg;
use jwtgate_testkit::{keygen, mint};

const AUDIENCE: &str = "orders-api";

/// An ES256 signing key in a temporary directory (kept while the guard
/// lives), and the JWKS that publishes it.
fn signing_key() -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let written = keygen::run(&keygen::Request {
        alg: Alg::ES256,
        bits: None,
        kid: Some("dev-1".into()),
        out: dir.path().into(),
        force: false,
    })
    .unwrap();
    let jwks = std::fs::read_to_string(written.jwks.as_ref().unwrap()).unwrap();
    (dir, written.private_jwk, jwks)
}

/// A token from `iss` for `aud`, valid for five minutes, with `claims` (a
/// JSON object) added.
fn token(key: &Path, iss: &str, aud: &str, claims: &str) -> String {
    mint::run(&mint::Request {
        key: key.to_owned(),
        iss: iss.to_owned(),
        aud: vec![aud.to_owned()],
        sub: "checkout".to_owned(),
        ttl: "5m".to_owned(),
        claims: Some(claims.to_owned()),
        ..mint::Request::default()
    })
    .unwrap()
}

/// Serves `app` on a free port of 127.0.0.1 until the test ends; its base URL.
async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// An OpenID provider on 127.0.0.1 as `cargo xtask issuer` is one: the
/// discovery document and the JWKS it names, both `application/json`; its
/// issuer URL. (xtask's own `Issuer` is not used: no library crate depends
/// on xtask, even for its tests.)
async fn start_issuer(jwks: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let discovery = serde_json::json!({ "issuer": issuer, "jwks_uri": format!("{issuer}/jwks.json") }).to_string();
    let document = |body: String| get(move || async move { ([(CONTENT_TYPE, "application/json")], body) });
    let routes: Router = Router::new()
        .route("/.well-known/openid-configuration", document(discovery))
        .route("/jwks.json", document(jwks));
    tokio::spawn(async move { axum::serve(listener, routes).await.unwrap() });
    issuer
}

/// What the service answered.
#[derive(Debug)]
struct Answer {
    status: u16,
    /// `WWW-Authenticate`, empty if absent.
    challenge: String,
    retry_after: Option<String>,
    body: String,
}

impl Answer {
    /// The body as JSON (every refusal has a JSON body).
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }
}

async fn send(client: &reqwest::Client, method: Method, url: &str, token: Option<&str>) -> Answer {
    let post = method == Method::POST;
    let mut request = client.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if post {
        request = request.body("2 x widget");
    }
    let response = request.send().await.unwrap();
    let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    let (challenge, retry_after) = (header("www-authenticate").unwrap_or_default(), header("retry-after"));
    let status = response.status().as_u16();
    Answer { status, challenge, retry_after, body: response.text().await.unwrap() }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap()
}

#[tokio::test]
async fn example_service_answers_every_case_over_real_sockets() {
    let (_dir, key, jwks) = signing_key();
    let issuer = start_issuer(jwks).await;
    // The example's own key source: discovery, with the loopback opt-in
    // that this issuer's URL qualifies for, and no fetch before serving.
    let keys = example::key_source(&issuer).unwrap();
    let base = serve(example::app(keys, &issuer, AUDIENCE).unwrap()).await;
    let client = client();
    let orders = format!("{base}/orders");

    // Liveness needs neither a token nor keys.
    let health = send(&client, Method::GET, &format!("{base}/health"), None).await;
    assert_eq!((health.status, health.body.as_str()), (200, "ok"), "{health:?}");

    // Readiness: 503 until the background task has the keys, then 200.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ready = send(&client, Method::GET, &format!("{base}/ready"), None).await;
        if ready.status == 200 {
            break;
        }
        assert_eq!(ready.status, 503, "{ready:?}");
        assert!(Instant::now() < deadline, "not ready within 10 s: {ready:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A valid token with the route's scope: the handler gets the typed claims.
    let reader = token(&key, &issuer, AUDIENCE, r#"{"scope":"orders:read","tenant":"acme"}"#);
    let listed = send(&client, Method::GET, &orders, Some(&reader)).await;
    assert_eq!(listed.status, 200, "{listed:?}");
    assert_eq!(listed.body, "orders of tenant acme (caller checkout)\n");

    // No token: 401 with a bare challenge in the layer's realm.
    let missing = send(&client, Method::GET, &orders, None).await;
    assert_eq!((missing.status, missing.challenge.as_str()), (401, "Bearer realm=\"orders\""), "{missing:?}");
    assert_eq!(missing.json()["code"], "missing_token");

    // A valid token without the route's scope: 403 naming the scope needed.
    let writer = token(&key, &issuer, AUDIENCE, r#"{"scope":"orders:write","tenant":"acme"}"#);
    let forbidden = send(&client, Method::GET, &orders, Some(&writer)).await;
    assert_eq!(forbidden.status, 403, "{forbidden:?}");
    assert!(forbidden.challenge.starts_with("Bearer realm=\"orders\", error=\"insufficient_scope\""), "{forbidden:?}");
    assert!(forbidden.challenge.contains("scope=\"orders:read\""), "{forbidden:?}");
    assert_eq!(forbidden.json()["code"], "insufficient_scope");

    // The scope is per method: POST needs orders:write, which the reader
    // lacks and the writer has.
    let refused = send(&client, Method::POST, &orders, Some(&reader)).await;
    assert_eq!(refused.status, 403, "{refused:?}");
    assert!(refused.challenge.contains("error=\"insufficient_scope\""), "{refused:?}");
    assert!(refused.challenge.contains("scope=\"orders:write\""), "{refused:?}");
    let created = send(&client, Method::POST, &orders, Some(&writer)).await;
    assert_eq!(created.status, 201, "{created:?}");
    assert_eq!(created.body, "order for tenant acme accepted (10 bytes)\n");

    // Claims that do not fit `AppClaims` are refused by the layer, naming
    // the field: absent, then of the wrong type.
    let no_tenant = token(&key, &issuer, AUDIENCE, r#"{"scope":"orders:read"}"#);
    let absent = send(&client, Method::GET, &orders, Some(&no_tenant)).await;
    assert_eq!(absent.status, 401, "{absent:?}");
    assert!(absent.challenge.contains("error=\"invalid_token\""), "{absent:?}");
    let body = absent.json();
    assert_eq!(body["code"], "missing_claim", "{absent:?}");
    assert_eq!(body["error_description"], "required claim \"tenant\" is missing", "{absent:?}");
    let number = token(&key, &issuer, AUDIENCE, r#"{"scope":"orders:read","tenant":42}"#);
    let mistyped = send(&client, Method::GET, &orders, Some(&number)).await;
    assert_eq!(mistyped.status, 401, "{mistyped:?}");
    let body = mistyped.json();
    assert_eq!(body["code"], "invalid_claim", "{mistyped:?}");
    assert_eq!(body["error_description"], "claim \"tenant\" is invalid", "{mistyped:?}");

    // The audience given to `app` is checked.
    let elsewhere = token(&key, &issuer, "billing-api", r#"{"scope":"orders:read","tenant":"acme"}"#);
    let wrong = send(&client, Method::GET, &orders, Some(&elsewhere)).await;
    assert_eq!(wrong.status, 401, "{wrong:?}");
    assert_eq!(wrong.json()["code"], "invalid_audience");

    // The probes stay open whatever the request carries.
    let health = send(&client, Method::GET, &format!("{base}/health"), Some("not-a-token")).await;
    assert_eq!(health.status, 200, "{health:?}");
}

#[tokio::test]
async fn example_service_starts_while_the_issuer_is_down_and_answers_503() {
    let (_dir, key, _jwks) = signing_key();
    // A port that was just free: nothing listens there.
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let issuer = format!("http://{dead}");
    let base = serve(example::app(example::key_source(&issuer).unwrap(), &issuer, AUDIENCE).unwrap()).await;
    let client = client();

    let health = send(&client, Method::GET, &format!("{base}/health"), None).await;
    assert_eq!(health.status, 200, "liveness does not depend on the issuer: {health:?}");
    let ready = send(&client, Method::GET, &format!("{base}/ready"), None).await;
    assert_eq!(ready.status, 503, "{ready:?}");

    let reader = token(&key, &issuer, AUDIENCE, r#"{"scope":"orders:read","tenant":"acme"}"#);
    let unavailable = send(&client, Method::GET, &format!("{base}/orders"), Some(&reader)).await;
    assert_eq!(unavailable.status, 503, "{unavailable:?}");
    assert_eq!(unavailable.retry_after.as_deref(), Some("10"), "{unavailable:?}");
    assert_eq!(unavailable.json()["code"], "key_source_unavailable");
}

#[test]
fn only_plain_http_to_this_machine_is_loopback() {
    for url in ["http://127.0.0.1:8800", "http://127.0.0.2:8800/realms/dev", "http://localhost", "http://[::1]:8800/"] {
        assert!(example::is_loopback_http(url), "{url}");
    }
    for url in [
        "https://127.0.0.1:8800",
        "http://auth.example.com",
        "http://127.0.0.1.example.com",
        "http://user@127.0.0.1:8800",
        "http://[::2]:8800",
        "127.0.0.1:8800",
    ] {
        assert!(!example::is_loopback_http(url), "{url}");
    }
}
