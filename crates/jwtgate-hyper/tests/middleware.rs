//! The middleware driven in-process with `ServiceExt::oneshot`: every
//! response kind, and that a refused request never reaches the service.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

mod common;

use std::convert::Infallible;

use common::{Handler, Keys, Logs};
use http::header::{AUTHORIZATION, COOKIE, WWW_AUTHENTICATE};
use http::{HeaderName, Request, Response, StatusCode};
use http_body_util::BodyExt;
use jwtgate_hyper::{JwtAuthLayer, Rejection, RequireScopesLayer, TokenSource, VerifiedClaims};
use jwtgate_verify::Verifier;
use tower::{Layer, Service, ServiceBuilder, ServiceExt, service_fn};

type Svc = tower::util::BoxCloneService<Request<String>, Response<jwtgate_hyper::ResponseBody<String>>, Infallible>;

fn service(layer: JwtAuthLayer<Verifier>, handler: &Handler) -> Svc {
    let h = handler.clone();
    let inner = service_fn(move |req: Request<String>| {
        let response = h.answer(&req);
        async move { Ok::<_, Infallible>(response) }
    });
    tower::util::BoxCloneService::new(layer.layer(inner))
}

fn bearer(token: &str) -> Request<String> {
    Request::builder().uri("/orders").header(AUTHORIZATION, format!("Bearer {token}")).body(String::new()).unwrap()
}

async fn call(svc: &Svc, req: Request<String>) -> (StatusCode, http::HeaderMap, String) {
    let response = svc.clone().oneshot(req).await.unwrap();
    let (parts, body) = response.into_parts();
    let body = String::from_utf8(body.collect().await.unwrap().to_bytes().to_vec()).unwrap();
    (parts.status, parts.headers, body)
}

fn challenge(headers: &http::HeaderMap) -> &str {
    headers.get(WWW_AUTHENTICATE).map_or("", |v| v.to_str().unwrap())
}

#[tokio::test]
async fn valid_token_reaches_the_service_with_claims() {
    let keys = Keys::new();
    let handler = Handler::default();
    let layer = JwtAuthLayer::new(keys.verifier());
    let stats = layer.stats();
    let svc = service(layer, &handler);
    for token in [keys.token(""), keys.mint(&keys.ec, "", "5m")] {
        let (status, _, body) = call(&svc, bearer(&token)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, "sub=alice user=- scopes=0");
    }
    assert_eq!(handler.calls(), 2);
    assert_eq!(stats.get("accepted"), 2);
}

#[tokio::test]
async fn missing_token_is_401_with_a_bare_challenge() {
    let keys = Keys::new();
    let handler = Handler::default();
    let svc = service(JwtAuthLayer::new(keys.verifier()).realm("shop"), &handler);
    let (status, headers, body) = call(&svc, Request::new(String::new())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&headers), "Bearer realm=\"shop\"");
    // RFC 6750 3.1: no error code for a request that lacks authentication,
    // in the body as in the challenge; `code` names the case.
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"error_description": "no access token in the request", "code": "missing_token"})
    );
    // Another scheme is not a bearer token.
    let basic = Request::builder().header(AUTHORIZATION, "Basic dXNlcjpwdw==").body(String::new()).unwrap();
    assert_eq!(call(&svc, basic).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(handler.calls(), 0);
}

#[tokio::test]
async fn refused_tokens_are_401_invalid_token_and_never_reach_the_service() {
    let keys = Keys::new();
    let handler = Handler::default();
    let layer = JwtAuthLayer::new(keys.verifier());
    let stats = layer.stats();
    let svc = service(layer, &handler);
    let valid = keys.token("");
    let (head, rest) = valid.split_once('.').unwrap();
    let tampered = format!("{head}.{}", rest.replacen('e', "f", 1));
    let cases = [
        (keys.mint(&keys.ed, "", "-10m"), "expired", "token has expired"),
        (keys.mint(&keys.ed, r#"{"aud":"billing"}"#, "5m"), "invalid_audience", "token audience is not accepted"),
        (keys.mint(&keys.ed, r#"{"iss":"https://evil.test"}"#, "5m"), "invalid_issuer", "token issuer is not accepted"),
        ("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.".to_owned(), "malformed", ""),
        ("a.b.c".to_owned(), "malformed", ""),
    ];
    for (token, code, description) in cases {
        let (status, headers, body) = call(&svc, bearer(&token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{code}");
        let c = challenge(&headers);
        assert!(c.starts_with("Bearer realm=\"api\", error=\"invalid_token\", error_description=\""), "{c}");
        assert!(c.contains(description), "{c}");
        assert!(body.contains(&format!("\"code\":\"{code}\"")), "{body}");
        assert!(!c.contains(&token) && !body.contains(&token), "the token must not be echoed");
    }
    let (status, _, body) = call(&svc, bearer(&tampered)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("\"code\":\"bad_signature\"") || body.contains("\"code\":\"malformed\""), "{body}");
    assert_eq!(handler.calls(), 0);
    assert_eq!(stats.get("expired"), 1);
    assert_eq!(stats.get("invalid_audience"), 1);
}

#[tokio::test]
async fn two_tokens_or_bad_syntax_are_400_invalid_request() {
    let keys = Keys::new();
    let handler = Handler::default();
    let layer = JwtAuthLayer::new(keys.verifier())
        .token_sources([TokenSource::authorization_header(), TokenSource::cookie("access_token")]);
    let svc = service(layer, &handler);
    let token = keys.token("");
    let both = Request::builder()
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .header(COOKIE, format!("theme=dark; access_token={token}"))
        .body(String::new())
        .unwrap();
    let (status, headers, _) = call(&svc, both).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(challenge(&headers).contains("error=\"invalid_request\""));
    let twice = Request::builder()
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .body(String::new())
        .unwrap();
    assert_eq!(call(&svc, twice).await.0, StatusCode::BAD_REQUEST);
    let spaced = Request::builder().header(AUTHORIZATION, format!("Bearer {token} x")).body(String::new()).unwrap();
    assert_eq!(call(&svc, spaced).await.0, StatusCode::BAD_REQUEST);
    // The cookie alone works.
    let cookie = Request::builder().header(COOKIE, format!("access_token={token}")).body(String::new()).unwrap();
    assert_eq!(call(&svc, cookie).await.0, StatusCode::OK);
    assert_eq!(handler.calls(), 1);
}

#[tokio::test]
async fn query_parameter_only_when_enabled() {
    let keys = Keys::new();
    let handler = Handler::default();
    let token = keys.token("");
    let req = || Request::builder().uri(format!("/ws?access_token={token}")).body(String::new()).unwrap();
    let strict = service(JwtAuthLayer::new(keys.verifier()), &handler);
    assert_eq!(call(&strict, req()).await.0, StatusCode::UNAUTHORIZED);
    let lax = service(
        JwtAuthLayer::new(keys.verifier()).token_sources([TokenSource::insecure_query_parameter("access_token")]),
        &handler,
    );
    assert_eq!(call(&lax, req()).await.0, StatusCode::OK);
}

#[tokio::test]
async fn scopes_from_scope_or_scp() {
    let keys = Keys::new();
    let handler = Handler::default();
    let svc = service(JwtAuthLayer::new(keys.verifier()).require_scopes(["orders:read"]), &handler);
    let ok = [keys.token(r#"{"scope":"profile orders:read"}"#), keys.token(r#"{"scp":["orders:read"]}"#)];
    for token in ok {
        assert_eq!(call(&svc, bearer(&token)).await.0, StatusCode::OK);
    }
    let (status, headers, body) = call(&svc, bearer(&keys.token(r#"{"scope":"orders:write"}"#))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(challenge(&headers).contains("error=\"insufficient_scope\""));
    assert!(challenge(&headers).contains("scope=\"orders:read\""));
    assert!(body.contains("insufficient_scope"));
    assert_eq!(call(&svc, bearer(&keys.token(""))).await.0, StatusCode::FORBIDDEN);
    assert_eq!(handler.calls(), 2);
}

#[tokio::test]
async fn require_scopes_layer_per_route() {
    let keys = Keys::new();
    let handler = Handler::default();
    let h = handler.clone();
    let svc = ServiceBuilder::new()
        .layer(JwtAuthLayer::new(keys.verifier()).optional())
        .layer(RequireScopesLayer::new(["admin"]))
        .service(service_fn(move |req: Request<String>| {
            let response = h.answer(&req);
            async move { Ok::<_, Infallible>(response) }
        }));
    let run = |req| svc.clone().oneshot(req);
    assert_eq!(run(bearer(&keys.token(r#"{"scope":"admin"}"#))).await.unwrap().status(), StatusCode::OK);
    assert_eq!(run(bearer(&keys.token(r#"{"scope":"user"}"#))).await.unwrap().status(), StatusCode::FORBIDDEN);
    // Optional auth lets an anonymous request through the first layer; the
    // scope layer then needs a token.
    assert_eq!(run(Request::new(String::new())).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(handler.calls(), 1);
}

/// The scope layer answers with the auth layer's configuration (realm,
/// resource metadata, `map_rejection`), without being told again.
#[tokio::test]
async fn require_scopes_layer_answers_like_the_auth_layer() {
    let keys = Keys::new();
    let metadata = "https://api.test/.well-known/oauth-protected-resource";
    let auth = JwtAuthLayer::new(keys.verifier()).realm("orders").resource_metadata(metadata).optional().map_rejection(
        |_: &Rejection, mut response| {
            response.headers_mut().insert("x-mapped", "1".parse().unwrap());
            response
        },
    );
    let build = |scopes: RequireScopesLayer| {
        ServiceBuilder::new()
            .layer(auth.clone())
            .layer(scopes)
            .service(service_fn(|_: Request<String>| async { Ok::<_, Infallible>(Response::new(String::new())) }))
    };
    let svc = build(RequireScopesLayer::new(["admin"]));

    let response = svc.clone().oneshot(bearer(&keys.token(r#"{"scope":"user"}"#))).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        challenge(response.headers()),
        format!(
            "Bearer realm=\"orders\", error=\"insufficient_scope\", error_description=\"the access token lacks a \
             required scope\", scope=\"admin\", resource_metadata=\"{metadata}\""
        )
    );
    assert_eq!(response.headers()["x-mapped"], "1");

    let response = svc.oneshot(Request::new(String::new())).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(response.headers()), format!("Bearer realm=\"orders\", resource_metadata=\"{metadata}\""));

    // A realm of its own replaces only the realm.
    let own = build(RequireScopesLayer::new(["admin"]).realm("admin"));
    let response = own.oneshot(bearer(&keys.token(r#"{"scope":"user"}"#))).await.unwrap();
    let c = challenge(response.headers());
    assert!(c.starts_with("Bearer realm=\"admin\", error=\"insufficient_scope\""), "{c}");
    assert!(c.ends_with(&format!("resource_metadata=\"{metadata}\"")), "{c}");

    // Outside any auth layer: the defaults.
    let alone = RequireScopesLayer::new(["admin"])
        .layer(service_fn(|_: Request<String>| async { Ok::<_, Infallible>(Response::new(String::new())) }));
    let response = alone.oneshot(Request::new(String::new())).await.unwrap();
    assert_eq!(challenge(response.headers()), "Bearer realm=\"api\"");
}

#[tokio::test]
async fn optional_mode_passes_anonymous_but_refuses_bad_tokens() {
    let keys = Keys::new();
    let handler = Handler::default();
    let svc = service(JwtAuthLayer::new(keys.verifier()).optional(), &handler);
    let (status, _, body) = call(&svc, Request::new(String::new())).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "sub=- user=- scopes=0"));
    let (status, _, body) = call(&svc, bearer(&keys.token(""))).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "sub=alice user=- scopes=0"));
    assert_eq!(call(&svc, bearer(&keys.mint(&keys.ed, "", "-1h"))).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(handler.calls(), 2);
}

#[tokio::test]
async fn skip_path_is_exact() {
    let keys = Keys::new();
    let handler = Handler::default();
    let svc = service(JwtAuthLayer::new(keys.verifier()).skip_path("/healthz"), &handler);
    let get = |uri: &str| Request::builder().uri(uri).body(String::new()).unwrap();
    assert_eq!(call(&svc, get("/healthz")).await.0, StatusCode::OK);
    for uri in ["/healthz/", "/healthz/../admin", "/HEALTHZ", "/healthzx"] {
        assert_eq!(call(&svc, get(uri)).await.0, StatusCode::UNAUTHORIZED, "{uri}");
    }
    assert_eq!(handler.calls(), 1);
}

#[tokio::test]
async fn forwarded_claim_headers_cannot_be_forged() {
    let keys = Keys::new();
    let handler = Handler::default();
    let user = HeaderName::from_static("x-user-id");
    let svc = service(JwtAuthLayer::new(keys.verifier()).forward_claim("sub", user.clone()).optional(), &handler);
    let mut forged = bearer(&keys.token(""));
    forged.headers_mut().insert(&user, "root".parse().unwrap());
    let (_, _, body) = call(&svc, forged).await;
    assert_eq!(body, "sub=alice user=alice scopes=0");
    // Anonymous (optional mode) and skipped requests are stripped too.
    let anonymous = Request::builder().header(&user, "root").body(String::new()).unwrap();
    assert_eq!(call(&svc, anonymous).await.2, "sub=- user=- scopes=0");
    // A claim that is not a valid header value is not forwarded at all.
    let (_, _, body) = call(&svc, bearer(&keys.token(r#"{"sub":"a\nb"}"#))).await;
    assert_eq!(body, "sub=a\nb user=- scopes=0");
}

/// What routes around the layer (a path that needs no token) can strip
/// the same headers the layer strips, with the layer's own rule.
#[test]
fn remove_forwarded_headers_strips_every_spelling_for_requests_routed_around_the_layer() {
    let keys = Keys::new();
    let layer = JwtAuthLayer::new(keys.verifier()).forward_claim("sub", HeaderName::from_static("x-user-id"));
    let mut headers = http::HeaderMap::new();
    for name in ["x-user-id", "x_user_id", "x-other"] {
        headers.insert(HeaderName::from_bytes(name.as_bytes()).unwrap(), "root".parse().unwrap());
    }
    layer.remove_forwarded_headers(&mut headers);
    assert_eq!(headers.keys().map(HeaderName::as_str).collect::<Vec<_>>(), ["x-other"]);
}

/// A refusal carries its rejection code in the response extensions, for
/// access logs around the layer; a response of the service does not.
#[tokio::test]
async fn refusals_carry_their_code_in_the_response_extensions() {
    let keys = Keys::new();
    let handler = Handler::default();
    let svc = service(JwtAuthLayer::new(keys.verifier()), &handler);
    let refused = svc.clone().oneshot(Request::new(String::new())).await.unwrap();
    assert_eq!(refused.extensions().get::<jwtgate_hyper::Refused>(), Some(&jwtgate_hyper::Refused("missing_token")));
    let expired = svc.clone().oneshot(bearer(&keys.token(r#"{"exp":1}"#))).await.unwrap();
    assert_eq!(expired.extensions().get::<jwtgate_hyper::Refused>(), Some(&jwtgate_hyper::Refused("expired")));
    let accepted = svc.clone().oneshot(bearer(&keys.token(""))).await.unwrap();
    assert_eq!(accepted.status(), StatusCode::OK);
    assert!(accepted.extensions().get::<jwtgate_hyper::Refused>().is_none());
}

/// Gateways that map header names to CGI variables (CGI, WSGI, PHP, nginx
/// with `underscores_in_headers on`) read `x_user_id` as `X-User-Id`:
/// every spelling is stripped, on every path.
#[tokio::test]
async fn lookalike_forwarded_headers_never_reach_the_service() {
    let keys = Keys::new();
    let user = HeaderName::from_static("x-user-id");
    // Answers every incoming header whose name starts with `x`.
    let inner = service_fn(|req: Request<String>| async move {
        let mut seen: Vec<String> = req
            .headers()
            .iter()
            .filter(|(name, _)| name.as_str().starts_with('x'))
            .map(|(name, value)| format!("{name}={}", value.to_str().unwrap()))
            .collect();
        seen.sort();
        Ok::<_, Infallible>(Response::new(seen.join(" ")))
    });
    let svc =
        JwtAuthLayer::new(keys.verifier()).forward_claim("sub", user).skip_path("/healthz").optional().layer(inner);
    let forged = |uri: &str, token: Option<&str>| {
        let mut req = Request::builder()
            .uri(uri)
            .header("x_user_id", "root")
            .header("X_User-ID", "root")
            .header("x-user-id", "root")
            .header("x-user-idx", "kept")
            .header("x-request-id", "kept");
        if let Some(token) = token {
            req = req.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        req.body(String::new()).unwrap()
    };
    let body = |r: Response<jwtgate_hyper::ResponseBody<String>>| async move {
        String::from_utf8(r.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
    };
    let token = keys.token("");
    let r = svc.clone().oneshot(forged("/orders", Some(token.as_str()))).await.unwrap();
    assert_eq!(body(r).await, "x-request-id=kept x-user-id=alice x-user-idx=kept");
    for (uri, token) in [("/orders", None), ("/healthz", None), ("/healthz", Some(token.as_str()))] {
        let r = svc.clone().oneshot(forged(uri, token)).await.unwrap();
        assert_eq!(body(r).await, "x-request-id=kept x-user-idx=kept", "{uri}");
    }
}

/// A value the upstream would read back changed (trimmed, or decoded in
/// another charset) is not forwarded: the header is absent, the request
/// still accepted, the refusal counted and logged without the value.
#[tokio::test]
async fn claim_values_an_upstream_would_change_are_not_forwarded() {
    let keys = Keys::new();
    let handler = Handler::default();
    let layer = JwtAuthLayer::new(keys.verifier()).forward_claim("sub", HeaderName::from_static("x-user-id"));
    let stats = layer.stats();
    let svc = service(layer, &handler);
    let (logs, _guard) = Logs::capture();

    let (status, _, body) = call(&svc, bearer(&keys.token(r#"{"sub":"alice "}"#))).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "sub=alice  user=- scopes=0"));
    assert_eq!(stats.claims_not_forwarded(), 1);
    let text = logs.text();
    assert!(text.contains("WARN") && text.contains("claim not forwarded") && text.contains("x-user-id"), "{text}");
    assert!(!text.contains("alice"), "the value must not be logged:\n{text}");

    // As JSON text: a leading space, a tab, a NUL, a byte above 0x7E.
    for sub in [r" alice", r"al\tice", r"al\u0000ice", r"alic\u00e9"] {
        let token = keys.token(&format!(r#"{{"sub":"{sub}"}}"#));
        let (status, _, body) = call(&svc, bearer(&token)).await;
        assert_eq!(status, StatusCode::OK, "{sub}");
        assert!(body.ends_with(" user=- scopes=0"), "{sub}: {body}");
    }
    assert_eq!(stats.claims_not_forwarded(), 5);
    // Inner spaces and the whole visible range are fine.
    let (_, _, body) = call(&svc, bearer(&keys.token(r#"{"sub":"Alice Smith !~"}"#))).await;
    assert_eq!(body, "sub=Alice Smith !~ user=Alice Smith !~ scopes=0");
    assert_eq!(stats.claims_not_forwarded(), 5);
    assert_eq!(stats.get("accepted"), 6);
}

#[tokio::test]
async fn custom_claims_type() {
    #[derive(Clone, serde::Deserialize)]
    struct Mine {
        tenant: String,
    }
    let keys = Keys::new();
    let svc =
        JwtAuthLayer::new(keys.verifier()).claims::<Mine>().layer(service_fn(|req: Request<String>| async move {
            let c = req.extensions().get::<VerifiedClaims<Mine>>().unwrap();
            Ok::<_, Infallible>(Response::new(c.custom().tenant.clone()))
        }));
    let response = svc.clone().oneshot(bearer(&keys.token(r#"{"tenant":"acme"}"#))).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "acme");
    // Claims that do not fit the type: refused as invalid_claim.
    let response = svc.oneshot(bearer(&keys.token(r#"{"tenant":7}"#))).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("invalid_claim"));
}

/// A refusal for custom claims names the field (in the body with its real
/// quotes, in the challenge reduced to the quotable set) and never the
/// value; the log adds serde's kind of error and what the type expected.
#[tokio::test]
async fn custom_claims_refusals_name_the_field_not_the_value() {
    #[derive(Clone, serde::Deserialize)]
    #[allow(dead_code, reason = "only deserialized")]
    struct App {
        tenant: u64,
        org: Org,
    }
    #[derive(Clone, serde::Deserialize)]
    #[allow(dead_code, reason = "only deserialized")]
    struct Org {
        id: String,
    }
    let keys = Keys::new();
    let layer = JwtAuthLayer::new(keys.verifier()).claims::<App>();
    let stats = layer.stats();
    let svc = layer.layer(service_fn(|_: Request<String>| async { Ok::<_, Infallible>(Response::new(String::new())) }));
    let (logs, _guard) = Logs::capture();
    let refuse = |claims: &str| {
        let request = bearer(&keys.token(claims));
        let svc = svc.clone();
        async move {
            let response = svc.oneshot(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            let c = challenge(response.headers()).to_owned();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (c, serde_json::from_slice::<serde_json::Value>(&body).unwrap())
        }
    };

    let (c, body) = refuse(r#"{"tenant":"SECRET-VALUE","org":{"id":"o"}}"#).await;
    assert_eq!(body["code"], "invalid_claim");
    assert_eq!(body["error_description"], "claim \"tenant\" is invalid");
    assert!(c.contains("error_description=\"claim ?tenant? is invalid\""), "{c}");

    let (_, body) = refuse(r#"{"org":{"id":"o"}}"#).await;
    assert_eq!(body["code"], "missing_claim");
    assert_eq!(body["error_description"], "required claim \"tenant\" is missing");

    // Nested: the top-level claim that holds the error.
    let (_, body) = refuse(r#"{"tenant":1,"org":{"name":"SECRET-VALUE"}}"#).await;
    assert_eq!(
        (body["code"].as_str(), body["error_description"].as_str()),
        (Some("invalid_claim"), Some("claim \"org\" is invalid"))
    );
    let (_, body) = refuse(r#"{"tenant":1,"org":"SECRET-VALUE"}"#).await;
    assert_eq!(body["error_description"], "claim \"org\" is invalid");

    assert_eq!((stats.get("invalid_claim"), stats.get("missing_claim")), (3, 1));
    let text = logs.text();
    assert!(text.contains("kind=\"invalid type\"") && text.contains("expected=\"u64\""), "{text}");
    assert!(text.contains("kind=\"missing field\"") && text.contains("field=\"tenant\""), "{text}");
    assert!(text.contains("field=\"org\""), "{text}");
    assert!(!text.contains("SECRET"), "no claim value in the log:\n{text}");
}

#[tokio::test]
async fn map_rejection_rewrites_responses() {
    let keys = Keys::new();
    let handler = Handler::default();
    let layer = JwtAuthLayer::new(keys.verifier()).map_rejection(|rejection: &Rejection, mut response| {
        if rejection.code() == "expired" {
            *response.status_mut() = StatusCode::IM_A_TEAPOT;
            *response.body_mut() = "custom".into();
        }
        response
    });
    let svc = service(layer, &handler);
    let (status, _, body) = call(&svc, bearer(&keys.mint(&keys.ed, "", "-1h"))).await;
    assert_eq!((status, body.as_str()), (StatusCode::IM_A_TEAPOT, "custom"));
    assert_eq!(call(&svc, Request::new(String::new())).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn poll_ready_and_call_use_the_ready_service() {
    // The layer forwards readiness; a service that is never ready stays so.
    let keys = Keys::new();
    let mut svc = JwtAuthLayer::new(keys.verifier())
        .layer(service_fn(|_: Request<String>| async { Ok::<_, Infallible>(Response::new(String::new())) }));
    std::future::poll_fn(|cx| svc.poll_ready(cx)).await.unwrap();
    assert_eq!(svc.call(bearer(&keys.token(""))).await.unwrap().status(), StatusCode::OK);
}

/// gRPC clients read `grpc-status`, not the HTTP status: a refused gRPC
/// call is a trailers-only 200 carrying a `tonic::Status`.
#[tokio::test]
async fn grpc_calls_are_refused_with_a_grpc_status() {
    let keys = Keys::new();
    let handler = Handler::default();
    let layer = JwtAuthLayer::new(keys.verifier()).require_scopes(["orders:admin"]);
    let svc = service(layer, &handler);
    let grpc = |token: Option<&str>| {
        let mut req = Request::builder().uri("/orders.Orders/List").header("content-type", "application/grpc+proto");
        if let Some(token) = token {
            req = req.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        req.body(String::new()).unwrap()
    };
    let status_of = |headers: &http::HeaderMap| tonic::Status::from_header_map(headers).unwrap();

    let (status, headers, _) = call(&svc, grpc(None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/grpc");
    assert_eq!(status_of(&headers).code(), tonic::Code::Unauthenticated);
    assert_eq!(status_of(&headers).message(), "no access token in the request");

    let (_, headers, _) = call(&svc, grpc(Some(&keys.mint(&keys.ec, "", "-1h")))).await;
    assert_eq!(status_of(&headers).code(), tonic::Code::Unauthenticated);
    assert_eq!(status_of(&headers).message(), "token has expired");

    let (_, headers, _) = call(&svc, grpc(Some(&keys.token("")))).await;
    assert_eq!(status_of(&headers).code(), tonic::Code::PermissionDenied);
    assert!(headers.get(WWW_AUTHENTICATE).is_none());
    assert_eq!(handler.calls(), 0);

    // gRPC-Web is read by browsers from HTTP statuses: not a gRPC answer.
    let web = Request::builder()
        .uri("/orders.Orders/List")
        .header("content-type", "application/grpc-web+proto")
        .body(String::new())
        .unwrap();
    assert_eq!(call(&svc, web).await.0, StatusCode::UNAUTHORIZED);

    // Plain HTTP requests to the same layer still get RFC 6750 answers.
    let (status, headers, _) = call(&svc, bearer(&keys.token(""))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(challenge(&headers).contains("insufficient_scope"));
}

#[tokio::test]
async fn the_token_cache_answers_repeated_tokens_and_never_a_refused_one() {
    let keys = Keys::new();
    let handler = Handler::default();
    let layer = JwtAuthLayer::new(keys.verifier()).token_cache(100);
    let stats = layer.stats();
    let cache = layer.clone();
    let svc = service(layer, &handler);
    let token = keys.token("");
    for _ in 0..3 {
        let (status, _, body) = call(&svc, bearer(&token)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, "sub=alice user=- scopes=0");
    }
    let s = cache.token_cache_stats().unwrap();
    assert_eq!((s.misses, s.insertions, s.hits), (1, 1, 2));
    // An expired token is refused every time and never stored.
    let expired = keys.mint(&keys.ec, "", "-1h");
    for _ in 0..2 {
        assert_eq!(call(&svc, bearer(&expired)).await.0, StatusCode::UNAUTHORIZED);
    }
    let s = cache.token_cache_stats().unwrap();
    assert_eq!((s.insertions, s.entries), (1, 1));
    assert_eq!(stats.get("accepted"), 3);
    assert_eq!(stats.get("expired"), 2);
    assert_eq!(handler.calls(), 3);
}

/// A revocation source out of sync with its store: it refuses the one
/// `jti` it holds and cannot vouch for anything else.
#[derive(Debug)]
struct OutOfSync;

impl jwtgate_verify::Revocation for OutOfSync {
    fn is_revoked(&self, _: &jwtgate_verify::Header<'_>, claims: &jwtgate_verify::Claims<'_>) -> bool {
        claims.jti().is_some_and(|j| j == "leaked")
    }

    fn status(
        &self,
        header: &jwtgate_verify::Header<'_>,
        claims: &jwtgate_verify::Claims<'_>,
    ) -> jwtgate_verify::RevocationStatus {
        if self.is_revoked(header, claims) {
            jwtgate_verify::RevocationStatus::Revoked
        } else {
            jwtgate_verify::RevocationStatus::Unavailable
        }
    }
}

#[tokio::test]
async fn revocation_out_of_sync_is_503_and_revoked_is_401_each_counted() {
    let keys = Keys::new();
    let handler = Handler::default();
    let verifier = Verifier::builder()
        .issuer(common::ISS)
        .audience(common::AUD)
        .algorithms([jwtgate_verify::Algorithm::EdDSA])
        .revocation(OutOfSync)
        .build(keys.key_set())
        .unwrap();
    let layer = JwtAuthLayer::new(verifier);
    let stats = layer.stats();
    let svc = service(layer, &handler);
    let (status, headers, body) = call(&svc, bearer(&keys.token(r#"{"jti":"fine"}"#))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers.get(http::header::RETRY_AFTER).unwrap(), "10");
    assert_eq!(challenge(&headers), "", "a 503 has no challenge");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["code"], "revocation_unavailable");
    assert_eq!(json["error"], "temporarily_unavailable");
    let (status, headers, body) = call(&svc, bearer(&keys.token(r#"{"jti":"leaked"}"#))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge(&headers).contains("invalid_token"));
    assert!(body.contains(r#""code":"revoked""#), "{body}");
    assert_eq!(handler.calls(), 0);
    assert_eq!(stats.get("revocation_unavailable"), 1);
    assert_eq!(stats.get("revoked"), 1);
}
