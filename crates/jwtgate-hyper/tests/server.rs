//! The middleware over real sockets: a hyper server and an axum router on
//! 127.0.0.1, driven by reqwest; a JWKS-backed verifier against a real JWKS
//! server (refresh on unknown key, 503 when the issuer is down); 1000
//! concurrent requests mixing valid and invalid tokens.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use common::{AUD, Handler, ISS, Keys, Logs};
use http::{HeaderName, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use jwtgate_hyper::{JwtAuthLayer, RegisteredClaims, RequireScopesLayer, VerifiedClaims};
use jwtgate_jwks::JwksConfig;
use jwtgate_verify::{Algorithm, Verifier};
use tower::{Layer, ServiceExt, service_fn};

/// Serves `service` on 127.0.0.1 until the test ends.
async fn serve<S>(service: S) -> SocketAddr
where
    S: tower::Service<Request<Incoming>, Response = Response<jwtgate_hyper::ResponseBody<String>>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    addr
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap()
}

#[allow(clippy::type_complexity, reason = "spelling out the service type is the point: serve() needs its bounds")]
fn protected<V: jwtgate_verify::TokenVerifier + 'static>(
    layer: JwtAuthLayer<V>,
    handler: Handler,
) -> jwtgate_hyper::JwtAuth<
    impl tower::Service<
        Request<Incoming>,
        Response = Response<String>,
        Error = Infallible,
        Future = impl Future<Output = Result<Response<String>, Infallible>> + Send,
    > + Clone
    + Send
    + 'static,
    V,
> {
    layer.layer(service_fn(move |req: Request<Incoming>| {
        let response = handler.answer(&req);
        async move { Ok::<_, Infallible>(response) }
    }))
}

#[tokio::test]
async fn hyper_server_answers_every_case() {
    let keys = Keys::new();
    let handler = Handler::default();
    let user = HeaderName::from_static("x-user-id");
    let layer = JwtAuthLayer::new(keys.verifier())
        .require_scopes(["orders:read"])
        .forward_claim("sub", user.clone())
        .skip_path("/healthz")
        .resource_metadata("https://api.test/.well-known/oauth-protected-resource");
    let addr = serve(protected(layer, handler.clone())).await;
    let client = client();
    let url = format!("http://{addr}/orders");
    let send = |token: Option<String>| {
        let mut req = client.get(&url).header(&user, "forged");
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };

    let ok = send(Some(keys.token(r#"{"scope":"orders:read"}"#))).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "sub=alice user=alice scopes=1");

    let missing = send(None).await.unwrap();
    assert_eq!(missing.status(), 401);
    assert_eq!(
        missing.headers()["www-authenticate"],
        "Bearer realm=\"api\", resource_metadata=\"https://api.test/.well-known/oauth-protected-resource\""
    );

    let expired = send(Some(keys.mint(&keys.ed, r#"{"scope":"orders:read"}"#, "-5m"))).await.unwrap();
    assert_eq!(expired.status(), 401);
    let challenge = expired.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.contains("error=\"invalid_token\", error_description=\"token has expired\""), "{challenge}");
    assert_eq!(expired.headers()["cache-control"], "no-store");

    let scope = send(Some(keys.token(r#"{"scope":"orders:write"}"#))).await.unwrap();
    assert_eq!(scope.status(), 403);
    assert!(scope.headers()["www-authenticate"].to_str().unwrap().contains("scope=\"orders:read\""));

    let bad = client.get(&url).header("authorization", "Bearer a b").send().await.unwrap();
    assert_eq!(bad.status(), 400);

    let health = client.get(format!("http://{addr}/healthz")).header(&user, "forged").send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "sub=- user=- scopes=0", "skipped paths are stripped too");
    assert_eq!(handler.calls(), 2);
}

#[tokio::test]
async fn thousand_concurrent_requests_each_answered_correctly() {
    let keys = Keys::new();
    let handler = Handler::default();
    let layer = JwtAuthLayer::new(keys.verifier());
    let stats = layer.stats();
    let addr = serve(protected(layer, handler.clone())).await;
    let good = [keys.token(""), keys.mint(&keys.ec, "", "5m")];
    let expired = keys.mint(&keys.ed, "", "-5m");
    let client = client();
    let limit = Arc::new(tokio::sync::Semaphore::new(64));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..1000 {
        let (token, want) = match i % 4 {
            0 => (Some(good[0].clone()), 200),
            1 => (Some(good[1].clone()), 200),
            2 => (Some(expired.clone()), 401),
            _ => (None, 401),
        };
        let (client, limit) = (client.clone(), limit.clone());
        let url = format!("http://{addr}/r/{i}");
        tasks.spawn(async move {
            let _permit = limit.acquire().await.unwrap();
            let mut req = client.get(url);
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let response = req.send().await.unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            (i, want, status, body)
        });
    }
    let mut answered = 0;
    while let Some(done) = tasks.join_next().await {
        let (i, want, status, body) = done.unwrap();
        assert_eq!(status, want, "request {i}: {body}");
        if want == 200 {
            assert_eq!(body, "sub=alice user=- scopes=0");
        } else if i % 4 == 2 {
            assert!(body.contains("\"code\":\"expired\""), "{body}");
        } else {
            assert!(body.contains("\"code\":\"missing_token\""), "{body}");
        }
        answered += 1;
    }
    assert_eq!(answered, 1000);
    assert_eq!(handler.calls(), 500);
    assert_eq!((stats.get("accepted"), stats.get("expired"), stats.get("missing_token")), (500, 250, 250));
}

#[tokio::test]
async fn axum_router_with_extractors_and_route_scopes() {
    async fn me(claims: VerifiedClaims) -> String {
        let tenant = claims.custom().get("tenant").and_then(|v| v.as_str()).unwrap_or("-").to_owned();
        format!("{} {tenant}", claims.registered().subject().unwrap_or("-"))
    }
    async fn maybe(claims: Option<RegisteredClaims>) -> String {
        claims.and_then(|c| c.subject().map(str::to_owned)).unwrap_or_else(|| "anonymous".to_owned())
    }
    async fn admin(claims: RegisteredClaims) -> String {
        format!("admin {}", claims.subject().unwrap_or("-"))
    }

    let keys = Keys::new();
    let app = Router::new()
        .route("/admin", get(admin))
        .route_layer(RequireScopesLayer::new(["admin"]))
        .route("/me", get(me))
        .route("/maybe", get(maybe))
        .layer(JwtAuthLayer::new(keys.verifier()).optional());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let client = client();
    let get = |path: &str, token: Option<String>| {
        let mut req = client.get(format!("http://{addr}{path}"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let token = keys.token(r#"{"tenant":"acme","scope":"admin"}"#);
    let r = get("/me", Some(token.clone())).await.unwrap();
    assert_eq!((r.status(), r.text().await.unwrap()), (StatusCode::OK, "alice acme".to_owned()));
    let r = get("/maybe", None).await.unwrap();
    assert_eq!(r.text().await.unwrap(), "anonymous");
    // The required extractor refuses an anonymous request like the layer would.
    let r = get("/me", None).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers()["www-authenticate"], "Bearer realm=\"api\"");
    // A bad token is refused by the layer even in optional mode.
    let r = get("/maybe", Some(keys.mint(&keys.ed, "", "-1h"))).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = get("/admin", Some(token)).await.unwrap();
    assert_eq!((r.status(), r.text().await.unwrap()), (StatusCode::OK, "admin alice".to_owned()));
    let r = get("/admin", Some(keys.token(""))).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

/// A handler asking for `VerifiedClaims` (the default map) behind a layer
/// that stores `VerifiedClaims<AppClaims>` compiles (axum types handlers
/// and layers apart); a valid token must then get a 500 and an error log
/// naming both types, not a 401 that blames the caller.
#[tokio::test]
async fn axum_extractor_of_another_claims_type_is_a_500_naming_both_types() {
    #[derive(Clone, serde::Deserialize)]
    struct AppClaims {
        tenant: String,
    }
    async fn default_map(claims: VerifiedClaims) -> String {
        claims.registered().subject().unwrap_or("-").to_owned()
    }
    async fn maybe_map(claims: Option<VerifiedClaims>) -> String {
        claims.map_or_else(|| "anonymous".to_owned(), |c| c.registered().subject().unwrap_or("-").to_owned())
    }
    async fn typed(claims: VerifiedClaims<AppClaims>) -> String {
        claims.custom().tenant.clone()
    }

    let keys = Keys::new();
    let app = Router::new()
        .route("/map", get(default_map))
        .route("/maybe", get(maybe_map))
        .route("/typed", get(typed))
        .layer(JwtAuthLayer::new(keys.verifier()).claims::<AppClaims>().optional());
    let token = keys.token(r#"{"tenant":"acme"}"#);
    let (logs, _guard) = Logs::capture();
    let get = |path: &str, token: Option<&str>| {
        let mut req = Request::builder().uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = req.body(axum::body::Body::empty()).unwrap();
        let app = app.clone();
        async move {
            let response = app.oneshot(req).await.unwrap();
            let status = response.status();
            let body = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
            (status, String::from_utf8(body.to_vec()).unwrap())
        }
    };

    assert_eq!(get("/typed", Some(token.as_str())).await, (StatusCode::OK, "acme".to_owned()));
    assert_eq!(get("/map", Some(token.as_str())).await, (StatusCode::INTERNAL_SERVER_ERROR, String::new()));
    assert_eq!(get("/maybe", Some(token.as_str())).await.0, StatusCode::INTERNAL_SERVER_ERROR);
    // Without a token, the same handlers behave as before.
    assert_eq!(get("/map", None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(get("/maybe", None).await, (StatusCode::OK, "anonymous".to_owned()));

    let text = logs.text();
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("ERROR")).collect();
    assert_eq!(errors.len(), 2, "{text}");
    for line in errors {
        // The claims types themselves: the extractor's default map, and the
        // layer's `.claims::<AppClaims>()`.
        assert!(line.contains("wanted=\"serde_json::map::Map<"), "{line}");
        assert!(line.contains("stored=\"") && line.contains("AppClaims\""), "{line}");
    }
}

/// A JWKS server whose document the test changes; counts fetches.
struct JwksServer {
    addr: SocketAddr,
    body: Arc<Mutex<String>>,
    hits: Arc<std::sync::atomic::AtomicUsize>,
}

impl JwksServer {
    async fn start(body: String) -> Self {
        let body = Arc::new(Mutex::new(body));
        let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (b, h) = (body.clone(), hits.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let (b, h) = (b.clone(), h.clone());
                let svc = hyper::service::service_fn(move |_req: Request<Incoming>| {
                    h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let body = b.lock().unwrap().clone();
                    async move { Ok::<_, Infallible>(Response::new(http_body_util::Full::new(bytes_of(body)))) }
                });
                tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc));
            }
        });
        Self { addr, body, hits }
    }

    fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }
}

fn bytes_of(s: String) -> hyper::body::Bytes {
    hyper::body::Bytes::from(s)
}

fn remote_verifier(url: String) -> Verifier<jwtgate_jwks::JwksSource> {
    let source = JwksConfig::new(url)
        .allow_insecure_loopback()
        .cooldown(Duration::from_millis(500))
        .timeouts(Duration::from_secs(2), Duration::from_secs(1))
        .background_refresh(false)
        .build()
        .unwrap();
    Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .algorithms([Algorithm::EdDSA, Algorithm::ES256])
        .build(source)
        .unwrap()
}

#[tokio::test]
async fn remote_keys_load_on_first_request_and_refresh_on_unknown_kid() {
    let keys = Keys::new();
    // Only the EC key at first.
    let jwks: serde_json::Value = serde_json::from_str(&keys.jwks).unwrap();
    let ec_only = serde_json::json!({"keys": jwks["keys"].as_array().unwrap().iter().filter(|k| k["kid"] == "ec").collect::<Vec<_>>()});
    let server = JwksServer::start(ec_only.to_string()).await;
    let handler = Handler::default();
    let layer = JwtAuthLayer::new(remote_verifier(format!("http://{}/jwks.json", server.addr)));
    let addr = serve(protected(layer, handler.clone())).await;
    let client = client();
    let url = format!("http://{addr}/orders");

    // No keys yet: the first request takes the refresh path and succeeds.
    let r = client.get(&url).bearer_auth(keys.mint(&keys.ec, "", "5m")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(server.hits(), 1);

    // The issuer rotates in the EdDSA key; after the cooldown, a token with
    // the new kid triggers one refetch and is accepted.
    *server.body.lock().unwrap() = keys.jwks.clone();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let r = client.get(&url).bearer_auth(keys.token("")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(server.hits(), 2);
    assert_eq!(handler.calls(), 2);
}

#[tokio::test]
async fn issuer_down_with_nothing_cached_is_503() {
    let keys = Keys::new();
    // A port that was just free: nothing listens there.
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let handler = Handler::default();
    let layer =
        JwtAuthLayer::new(remote_verifier(format!("http://{dead}/jwks.json"))).retry_after(Duration::from_secs(7));
    let addr = serve(protected(layer, handler.clone())).await;
    let r = client().get(format!("http://{addr}/orders")).bearer_auth(keys.token("")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "7");
    assert!(r.text().await.unwrap().contains("key_source_unavailable"));
    assert_eq!(handler.calls(), 0);
}
