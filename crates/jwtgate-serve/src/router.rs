//! The request router: `/.jwtgate/`, the checks every request meets
//! before any rule, the rule's service, the decision log line.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use jwtgate_hyper::{Refused, RegisteredClaims, read_alike};
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;

use crate::endpoint::{Described, original_request};
use crate::metrics::Metrics;
use crate::options::Access;
use crate::rules::{Rules, method_ambiguity};
use crate::server::Body;

/// Whether every key source has keys and the revocation list is in sync.
pub(crate) type Ready = Arc<dyn Fn() -> bool + Send + Sync>;

/// A rule's service: its middleware over the mode's inner service.
pub(crate) type RuleService = BoxCloneSyncService<Request<Incoming>, Response<Body>, Infallible>;

/// Removes headers that could pass for forwarded claims (on requests of
/// rules that need no token).
pub(crate) type Strip = Arc<dyn Fn(&mut HeaderMap) + Send + Sync>;

/// The path a decision is about: the request's own (kept as its `Uri`, a
/// reference-counted clone) or the one its ingress names.
enum PathText {
    Uri(http::Uri),
    Owned(String),
}

impl PathText {
    fn as_str(&self) -> &str {
        match self {
            Self::Uri(uri) => uri.path(),
            Self::Owned(path) => path,
        }
    }
}

/// A refusal before any rule: status, stable code, description.
type RouteRefusal = (StatusCode, &'static str, &'static str);

/// Headers by which frameworks (Rails, Laravel, Express's
/// method-override, ASP.NET) let a request run another method than its
/// own: a rule for the request's method would not be the one that
/// applies, so the proxy refuses them.
/// (Also as `_method` in the query: Laravel, Symfony, Express's
/// method-override.)
const METHOD_OVERRIDES: [HeaderName; 3] = [
    HeaderName::from_static("x-http-method-override"),
    HeaderName::from_static("x-http-method"),
    HeaderName::from_static("x-method-override"),
];

/// The request router: `/.jwtgate/`, the path checks, the rules.
#[derive(Clone)]
pub(crate) struct Router {
    pub(crate) rules: Arc<Rules>,
    pub(crate) services: Arc<[RuleService]>,
    pub(crate) proxy: bool,
    pub(crate) ready: Ready,
    pub(crate) metrics: Arc<Metrics>,
    /// For rules that need no token: removes anything that could pass for
    /// a forwarded claim.
    pub(crate) strip: Strip,
}

impl Router {
    pub(crate) async fn answer(self, mut req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
        let start = Instant::now();
        if let Some(response) = self.own(&req) {
            return Ok(response);
        }
        // The proxy judges the request it forwards; the auth endpoint the
        // one its ingress describes.
        let (method, path, routed) = if self.proxy {
            let method = req.method().clone();
            let routed = self.route(&method, req.uri().path(), req.uri().query(), req.headers());
            (method, PathText::Uri(req.uri().clone()), routed)
        } else {
            match original_request(&req) {
                Ok(Described { method, path, query }) => {
                    let routed = self.route(&method, &path, query.as_deref(), req.headers());
                    (method, PathText::Owned(path), routed)
                }
                Err(why) => (
                    req.method().clone(),
                    PathText::Owned("-".into()),
                    Err((self.refusal_status(), "ambiguous_path", why)),
                ),
            }
        };
        let (response, outcome) = match routed {
            Err((status, code, description)) => {
                self.metrics.server_outcome(code);
                (refusal(status, code, description), code)
            }
            Ok(index) => {
                let open = self.rules.get(index).is_some_and(|rule| rule.access == Access::Open);
                if open {
                    // Nothing verifies a token here: nothing that could
                    // pass for a claim reaches the upstream (a token goes
                    // on as sent, unless --strip-token).
                    (self.strip)(req.headers_mut());
                    self.metrics.server_outcome("open");
                }
                let Some(service) = self.services.get(index) else {
                    return Ok(refusal(StatusCode::INTERNAL_SERVER_ERROR, "no_route", "rule without a service"));
                };
                let response = service.clone().oneshot(req).await?;
                let outcome = match response.extensions().get::<Refused>() {
                    Some(Refused(code)) => code,
                    None if open => "open",
                    None if response.extensions().get::<RegisteredClaims>().is_some() => "accepted",
                    None => "anonymous",
                };
                (response, outcome)
            }
        };
        self.metrics.observe_latency(start);
        let iss = response.extensions().get::<RegisteredClaims>().and_then(RegisteredClaims::issuer).unwrap_or("-");
        tracing::info!(
            target: "jwtgate::access",
            method = method.as_str(),
            path = path.as_str(),
            status = response.status().as_u16(),
            outcome,
            iss,
            micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX),
            "decision"
        );
        Ok(response)
    }

    /// An ingress passes on only 401 and 403 from an auth endpoint
    /// (anything else becomes its own 500), so the endpoint refuses with
    /// 403; the proxy answers a bad request with 400.
    const fn refusal_status(&self) -> StatusCode {
        if self.proxy { StatusCode::BAD_REQUEST } else { StatusCode::FORBIDDEN }
    }

    /// The rule for a request, or why there is none.
    fn route(
        &self,
        method: &Method,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
    ) -> Result<usize, RouteRefusal> {
        let bad = self.refusal_status();
        if let Some(why) = method_ambiguity(method) {
            return Err((bad, "ambiguous_method", why));
        }
        if self.proxy && (*method == Method::CONNECT || *method == Method::TRACE) {
            return Err((StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "CONNECT and TRACE are not forwarded"));
        }
        // Ingresses copy the client's headers onto the auth request, so the
        // endpoint sees them as well as the proxy does.
        let overridden = headers.keys().any(|name| METHOD_OVERRIDES.iter().any(|o| read_alike(name, o)));
        let query_override = query.is_some_and(|q| {
            q.split('&').any(|pair| {
                let key = pair.split_once('=').map_or(pair, |(k, _)| k);
                key.eq_ignore_ascii_case("_method")
            })
        });
        if overridden || query_override {
            return Err((bad, "ambiguous_method", "a method override names another method than the request's"));
        }
        match self.rules.route(method, path) {
            Err(why) => Err((bad, "ambiguous_path", why)),
            Ok(None) => Err((StatusCode::FORBIDDEN, "no_route", "no route rule covers this request")),
            Ok(Some(index)) => Ok(index),
        }
    }

    /// `/.jwtgate/health`, `/.jwtgate/ready`, `/.jwtgate/metrics`.
    fn own(&self, req: &Request<Incoming>) -> Option<Response<Body>> {
        let path = req.uri().path().strip_prefix("/.jwtgate/")?;
        let response = match path {
            "health" => plain(StatusCode::OK, "ok"),
            "ready" if (self.ready)() => plain(StatusCode::OK, "ready"),
            "ready" => {
                plain(StatusCode::SERVICE_UNAVAILABLE, "not ready: keys not in hand, or revocation list not in sync")
            }
            "metrics" => match self.metrics.render() {
                Some(text) => {
                    let mut response = Response::new(full(Bytes::from(text)));
                    response.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                    );
                    response
                }
                None => plain(StatusCode::INTERNAL_SERVER_ERROR, "metrics could not be written"),
            },
            _ => plain(StatusCode::NOT_FOUND, "unknown jwtgate endpoint"),
        };
        Some(response)
    }
}

fn full(bytes: Bytes) -> Body {
    Full::new(bytes).map_err(|never| match never {}).boxed_unsync()
}

/// A short text answer of the server's own.
pub(crate) fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut response = Response::new(full(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    response
}

/// A refusal of the server's own, shaped like the middleware's (JSON with
/// a stable `code`).
fn refusal(status: StatusCode, code: &'static str, description: &'static str) -> Response<Body> {
    let body = format!("{{\"error_description\":\"{description}\",\"code\":\"{code}\"}}");
    let mut response = Response::new(full(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    headers.insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    response
}
