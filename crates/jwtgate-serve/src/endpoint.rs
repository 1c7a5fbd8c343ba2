//! The auth endpoint: what answers a request the middleware let through.
//! An ingress (nginx `auth_request`, Traefik `forwardAuth`, Caddy
//! `forward_auth`, ingress-nginx `auth-url`, Envoy's HTTP `ext_authz`) asks
//! it about each incoming request; 200 means "let it through", and the
//! claim headers on the answer are what the ingress copies to the upstream.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderName, Request, Response};
use http_body_util::Full;

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
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let mut response = Response::new(Full::new(Bytes::new()));
        let headers = response.headers_mut();
        for name in self.claim_headers.iter() {
            if let Some(value) = req.headers().get(name) {
                headers.insert(name.clone(), value.clone());
            }
        }
        headers.insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
        ready(Ok(response))
    }
}

/// The path of the request the ingress is asking about: `X-Forwarded-Uri`
/// (Traefik, Caddy, ingress-nginx), else `X-Original-URI` (nginx's usual
/// `proxy_set_header`), else this request's own path. Query and fragment
/// are cut off; a value that is not a path (no leading `/`) counts as `/`.
pub(crate) fn original_path<B>(req: &Request<B>) -> String {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let uri = header("x-forwarded-uri").or_else(|| header("x-original-uri")).unwrap_or_else(|| req.uri().path());
    let path = uri.split(['?', '#']).next().unwrap_or_default();
    if path.starts_with('/') { path.to_owned() } else { "/".to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: &str, value: &str) -> Request<()> {
        Request::builder().uri("/auth").header(name, value).body(()).unwrap_or_default()
    }

    #[test]
    fn the_original_path_comes_from_the_ingress_headers() {
        assert_eq!(original_path(&with("x-forwarded-uri", "/public/logo.png?v=2")), "/public/logo.png");
        assert_eq!(original_path(&with("x-original-uri", "/orders/7")), "/orders/7");
        assert_eq!(original_path(&with("x-other", "/x")), "/auth");
        assert_eq!(original_path(&with("x-forwarded-uri", "http://evil/")), "/");
    }
}
