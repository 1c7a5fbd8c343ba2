//! Auth-endpoint mode: what answers a request the middleware let through.
//! An ingress (nginx `auth_request`, Traefik `forwardAuth`, Caddy
//! `forward_auth`, ingress-nginx `auth-url`, Envoy's HTTP `ext_authz`) asks
//! it about each incoming request; 200 means "let it through", and the
//! claim headers on the answer are what the ingress copies to the upstream.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderName, Method, Request, Response};
use http_body_util::{BodyExt, Empty};
use jwtgate_hyper::RegisteredClaims;

use crate::server::Body;

/// Answers 200 with the forwarded claim headers the middleware set on the
/// request (it strips any the caller sent first, so these are the
/// verified token's).
#[derive(Clone, Debug)]
pub(crate) struct AuthEndpoint {
    claim_headers: Arc<[HeaderName]>,
}

impl AuthEndpoint {
    pub(crate) fn new(claim_headers: Vec<HeaderName>) -> Self {
        Self { claim_headers: claim_headers.into() }
    }
}

impl<B> tower::Service<Request<B>> for AuthEndpoint {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let mut response = Response::new(Empty::new().map_err(|never| match never {}).boxed_unsync());
        let headers = response.headers_mut();
        for name in self.claim_headers.iter() {
            if let Some(value) = req.headers().get(name) {
                headers.insert(name.clone(), value.clone());
            }
        }
        headers.insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
        if let Some(claims) = req.extensions().get::<RegisteredClaims>() {
            response.extensions_mut().insert(claims.clone());
        }
        ready(Ok(response))
    }
}

/// The path of the request the ingress is asking about: `X-Forwarded-Uri`
/// (Traefik, Caddy, ingress-nginx), else `X-Original-URI` (nginx's usual
/// `proxy_set_header`), else this request's own path. Query and fragment
/// are cut off; what remains is judged by the rules' path checks.
pub(crate) fn original_path<B>(req: &Request<B>) -> String {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let uri = header("x-forwarded-uri").or_else(|| header("x-original-uri")).unwrap_or_else(|| req.uri().path());
    uri.split(['?', '#']).next().unwrap_or_default().to_owned()
}

/// The method of the request the ingress is asking about:
/// `X-Forwarded-Method` (Traefik, Caddy, ingress-nginx), else
/// `X-Original-Method`, else this request's own (Envoy's `ext_authz`
/// sends the original method itself).
pub(crate) fn original_method<B>(req: &Request<B>) -> Method {
    let header = |name: &str| req.headers().get(name).and_then(|v| Method::from_bytes(v.as_bytes()).ok());
    header("x-forwarded-method").or_else(|| header("x-original-method")).unwrap_or_else(|| req.method().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: &str, value: &str) -> Request<()> {
        Request::builder().uri("/auth").header(name, value).body(()).unwrap_or_default()
    }

    #[test]
    fn the_original_request_comes_from_the_ingress_headers() {
        assert_eq!(original_path(&with("x-forwarded-uri", "/public/logo.png?v=2")), "/public/logo.png");
        assert_eq!(original_path(&with("x-original-uri", "/orders/7")), "/orders/7");
        assert_eq!(original_path(&with("x-other", "/x")), "/auth");
        assert_eq!(original_path(&with("x-forwarded-uri", "http://evil/")), "http://evil/");
        assert_eq!(original_method(&with("x-forwarded-method", "DELETE")), Method::DELETE);
        assert_eq!(original_method(&with("x-original-method", "POST")), Method::POST);
        assert_eq!(original_method(&with("x-other", "POST")), Method::GET);
    }
}
