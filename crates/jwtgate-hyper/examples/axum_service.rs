//! A complete axum 0.8 service protected by jwtgate, written to be copied:
//! keys found by OpenID Connect Discovery, open liveness and readiness
//! probes, a scope per route and method, and typed custom claims in the
//! handlers.
//!
//! Try it against a development issuer on this machine (the issuer and the
//! service each in a terminal of their own):
//!
//! ```text
//! cargo xtask keygen --alg ES256 --kid dev-1 --out keys
//! cargo xtask issuer --keys keys --port 8800
//! cargo run -p jwtgate-hyper --example axum_service --features axum -- http://127.0.0.1:8800
//!
//! TOKEN=$(cargo xtask mint --key keys/dev-1.private.jwk.json --iss http://127.0.0.1:8800 \
//!     --aud orders-api --sub checkout --claims '{"scope":"orders:read","tenant":"acme"}')
//! curl -i http://127.0.0.1:3000/ready
//! curl -i -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3000/orders
//! ```
//!
//! Arguments: `ISSUER_URL [AUDIENCE] [PORT]`. The audience defaults to
//! `orders-api`, the port to `$PORT`, else 3000. `tests/example.rs` serves
//! this file's [`app`] against an issuer on 127.0.0.1 and checks every
//! answer over real sockets.

use std::error::Error;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use jwtgate_hyper::{JwtAuthLayer, RequireScopesLayer, VerifiedClaims};
use jwtgate_jwks::{JwksConfig, JwksSource};
use jwtgate_verify::{Algorithm, Verifier};
use serde::Deserialize;

/// The claims this service reads besides the registered ones (`sub`,
/// `scope`, ... are in [`VerifiedClaims::registered`]).
///
/// The auth layer deserializes every accepted token into it, so a token
/// without a `tenant` string is refused there (`401`, `missing_claim` or
/// `invalid_claim` naming the field) and no handler has to check.
#[derive(Clone, Debug, Deserialize)]
pub struct AppClaims {
    /// The customer the caller acts for: a custom claim your issuer adds.
    pub tenant: String,
}

/// The keys of `issuer`, found by OpenID Connect Discovery. Call it inside
/// a Tokio runtime: the source's background task starts here and loads the
/// keys at once.
///
/// # Errors
///
/// If `issuer` is not a URL the key source accepts: https, or plain http to
/// a loopback host.
pub fn key_source(issuer: &str) -> Result<JwksSource, jwtgate_jwks::ConfigError> {
    let config = JwksConfig::discover(issuer);
    // Production issuers are https, the only scheme a key source accepts by
    // default: over plain http, anyone on the network path could swap the
    // keys and mint tokens this service accepts. The opt-in is for a
    // development issuer on this machine (`cargo xtask issuer`), so it is
    // taken only for such a URL; the key source checks the host again and
    // never allows http to any other.
    let config = if is_loopback_http(issuer) { config.allow_insecure_loopback() } else { config };
    // No `fetch_now().await?` before serving: that would refuse to start
    // while the issuer is down, turning an identity-provider outage into an
    // outage of this service. Until the background task has the keys,
    // protected routes answer 503 with Retry-After and /ready answers 503,
    // so the load balancer sends traffic elsewhere meanwhile.
    config.build()
}

/// Whether `url` is plain http to this machine (127.0.0.0/8, `::1`,
/// `localhost`).
pub fn is_loopback_http(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(ipv6) => ipv6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(host, _port)| host),
    };
    // `user@127.0.0.1` parses as no address: not loopback (and no issuer URL
    // should carry credentials).
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The service: `GET /health` and `GET /ready` open, `GET /orders` for
/// tokens with scope `orders:read`, `POST /orders` for `orders:write`; every
/// other path needs a valid token as well.
///
/// # Errors
///
/// If the verifier refuses its configuration (see
/// [`jwtgate_verify::VerifierBuilder::build`]).
pub fn app(keys: JwksSource, issuer: &str, audience: &str) -> Result<Router, jwtgate_verify::ConfigError> {
    let verifier = Verifier::builder()
        .issuer(issuer)
        .audience(audience)
        // The algorithms your issuer signs with, and no others: a token's
        // `alg` header is never trusted on its own.
        .algorithms([Algorithm::ES256, Algorithm::EdDSA, Algorithm::RS256])
        .build(keys.clone())?;
    let auth = JwtAuthLayer::new(verifier)
        .realm("orders")
        // The handlers' extractor must ask for this same type.
        .claims::<AppClaims>()
        // Probes come without a token. Skipping by exact path rather than
        // adding routes outside the layer fails closed: a route added
        // anywhere later needs a token unless it is listed here.
        .skip_path("/health")
        .skip_path("/ready");
    Ok(Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        // A scope per method: `route_layer` on each method router, so GET
        // needs only orders:read and POST only orders:write. Refusals take
        // the auth layer's realm.
        .route("/orders", get(list_orders).route_layer(RequireScopesLayer::new(["orders:read"])))
        .route("/orders", post(create_order).route_layer(RequireScopesLayer::new(["orders:write"])))
        .layer(auth)
        .with_state(keys))
}

/// Liveness (a Kubernetes `livenessProbe`): the process answers. It never
/// depends on the issuer, or an identity-provider outage would get every
/// replica restarted.
async fn health() -> &'static str {
    "ok"
}

/// Readiness (a Kubernetes `readinessProbe`): 200 while the key source
/// holds a key set within its `max_staleness`, else 503, because every
/// protected request would get 503 here too. When not ready, `is_ready`
/// also starts a fetch (rationed), so a replica that gets no traffic still
/// loads its keys.
async fn ready(State(keys): State<JwksSource>) -> (StatusCode, &'static str) {
    if keys.is_ready() { (StatusCode::OK, "ready") } else { (StatusCode::SERVICE_UNAVAILABLE, "no usable keys yet") }
}

/// `GET /orders`: reached only with a valid token that has `orders:read`
/// and a `tenant`.
async fn list_orders(claims: VerifiedClaims<AppClaims>) -> String {
    let caller = claims.registered().subject().unwrap_or("-");
    format!("orders of tenant {} (caller {caller})\n", claims.custom().tenant)
}

/// `POST /orders`: reached only with a valid token that has `orders:write`
/// and a `tenant`.
async fn create_order(claims: VerifiedClaims<AppClaims>, order: String) -> (StatusCode, String) {
    let tenant = &claims.custom().tenant;
    (StatusCode::CREATED, format!("order for tenant {tenant} accepted ({} bytes)\n", order.len()))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // The key source logs one warning per outage with its cause (and one
    // line when it recovers); the middleware logs each refusal with its code.
    tracing_subscriber::fmt().init();

    let mut args = std::env::args().skip(1);
    let issuer = args.next().ok_or(
        "usage: axum_service ISSUER_URL [AUDIENCE] [PORT], e.g. the issuer URL `cargo xtask issuer --keys DIR` prints",
    )?;
    let audience = args.next().unwrap_or_else(|| "orders-api".to_owned());
    let port = match args.next().or_else(|| std::env::var("PORT").ok()) {
        Some(port) => port.parse::<u16>().map_err(|e| format!("port {port:?}: {e}"))?,
        None => 3000,
    };

    let router = app(key_source(&issuer)?, &issuer, &audience)?;
    // This machine only, for trying it out. In a container, bind 0.0.0.0:
    // the kubelet probes the pod's address, not its loopback.
    let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
    println!("orders service on http://{} (issuer {issuer}, audience {audience})", listener.local_addr()?);
    axum::serve(listener, router).await?;
    Ok(())
}
