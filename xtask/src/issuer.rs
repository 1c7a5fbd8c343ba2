//! A small identity provider on 127.0.0.1 for the demo and the end-to-end
//! tests: OIDC discovery metadata and a JWKS that can be rotated, and an
//! outage switch. It counts what it serves, so callers can show and assert
//! how often the keys were fetched.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use http::{Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};

use crate::error::Result;
use crate::serve::{Server, serve};

/// What the issuer serves and has served.
#[derive(Debug, Default)]
struct State {
    issuer: Mutex<String>,
    jwks: Mutex<String>,
    down: AtomicBool,
    jwks_requests: AtomicU64,
    discovery_requests: AtomicU64,
}

/// A running issuer; stops when dropped.
pub struct Issuer {
    server: Server,
    state: Arc<State>,
}

impl Issuer {
    /// Starts an issuer on a free loopback port serving `jwks` (a JWKS
    /// document) at `/jwks.json`, with `Cache-Control: max-age=300`.
    ///
    /// # Errors
    ///
    /// If no port can be bound.
    pub async fn start(jwks: String) -> Result<Self> {
        let state = Arc::new(State { jwks: Mutex::new(jwks), ..State::default() });
        let shared = Arc::clone(&state);
        let server = serve(
            0,
            tower::service_fn(move |req: Request<Incoming>| {
                let state = Arc::clone(&shared);
                async move { Ok::<_, Infallible>(answer(&state, req.uri().path())) }
            }),
        )
        .await?;
        *state.issuer.lock().unwrap_or_else(PoisonError::into_inner) = format!("http://{}", server.addr);
        Ok(Self { server, state })
    }

    /// The issuer identifier (`http://127.0.0.1:PORT`), also the base of
    /// its discovery URL.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// The JWKS URL.
    #[must_use]
    pub fn jwks_url(&self) -> String {
        format!("{}/jwks.json", self.url())
    }

    /// The socket address.
    #[must_use]
    pub const fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// Serves `jwks` from now on (key rotation).
    pub fn publish(&self, jwks: String) {
        *self.state.jwks.lock().unwrap_or_else(PoisonError::into_inner) = jwks;
    }

    /// Takes the issuer down (every request answers 503) or back up.
    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// JWKS requests received so far (answered or refused).
    #[must_use]
    pub fn jwks_requests(&self) -> u64 {
        self.state.jwks_requests.load(Ordering::SeqCst)
    }

    /// Discovery requests received so far.
    #[must_use]
    pub fn discovery_requests(&self) -> u64 {
        self.state.discovery_requests.load(Ordering::SeqCst)
    }
}

fn answer(state: &State, path: &str) -> Response<Full<Bytes>> {
    let issuer = state.issuer.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let body = match path {
        "/.well-known/openid-configuration" => {
            state.discovery_requests.fetch_add(1, Ordering::SeqCst);
            serde_json::json!({
                "issuer": issuer,
                "jwks_uri": format!("{issuer}/jwks.json"),
                "id_token_signing_alg_values_supported": ["ES256", "EdDSA"],
            })
            .to_string()
        }
        "/jwks.json" => {
            state.jwks_requests.fetch_add(1, Ordering::SeqCst);
            state.jwks.lock().unwrap_or_else(PoisonError::into_inner).clone()
        }
        _ => return respond(StatusCode::NOT_FOUND, String::new()),
    };
    if state.down.load(Ordering::SeqCst) {
        return respond(StatusCode::SERVICE_UNAVAILABLE, String::new());
    }
    respond(StatusCode::OK, body)
}

fn respond(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("max-age=300"));
    response
}
