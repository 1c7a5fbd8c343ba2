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

/// The headers an ingress names the original request's path in: Traefik,
/// Caddy and ingress-nginx with `auth-method` send `X-Forwarded-Uri`,
/// nginx's usual `proxy_set_header` is `X-Original-URI`, ingress-nginx
/// sends `X-Original-URL` (a whole URL) by default.
const PATH_HEADERS: [&str; 3] = ["x-forwarded-uri", "x-original-uri", "x-original-url"];

/// The headers an ingress names the original request's method in.
const METHOD_HEADERS: [&str; 2] = ["x-forwarded-method", "x-original-method"];

/// The value of the one header of `names` the request carries; `None`
/// when it carries none; an error when it carries more than one (or one
/// twice), or a value that is not visible ASCII. Ingresses copy the
/// client's own headers onto the auth request and set only theirs, so a
/// second header is a client's attempt to name another request: refused,
/// never resolved by a precedence the client could exploit.
fn the_one<'r, B>(req: &'r Request<B>, names: &[&str]) -> Result<Option<&'r str>, &'static str> {
    let mut found = None;
    for name in names {
        for value in req.headers().get_all(*name) {
            if found.is_some() {
                return Err("the original request is named by more than one header");
            }
            found = Some(value.to_str().map_err(|_| "the original request's header is not visible ASCII")?);
        }
    }
    Ok(found)
}

/// The method and path of the request the ingress asks about, from the
/// headers above, else this request's own (Envoy's `ext_authz` sends the
/// original method and path as its own). The query is cut off; the path
/// is then judged by the rules' checks.
///
/// # Errors
///
/// Ambiguous or unreadable headers (answered 403 `ambiguous_path`).
pub(crate) fn original_request<B>(req: &Request<B>) -> Result<(Method, String), &'static str> {
    let path = match the_one(req, &PATH_HEADERS)? {
        None => req.uri().path().to_owned(),
        Some(value) if value.starts_with('/') => value.split(['?', '#']).next().unwrap_or_default().to_owned(),
        // X-Original-URL: a whole URL.
        Some(value) => match value.parse::<http::Uri>() {
            Ok(uri) if uri.scheme().is_some() => uri.path().to_owned(),
            _ => return Err("the original request's URI is neither a path nor a URL"),
        },
    };
    let method = match the_one(req, &METHOD_HEADERS)? {
        None => req.method().clone(),
        Some(value) => {
            Method::from_bytes(value.as_bytes()).map_err(|_| "the original request's method is not a method")?
        }
    };
    Ok((method, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(headers: &[(&str, &[u8])]) -> Request<()> {
        let mut req = Request::builder().uri("/auth");
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.body(()).unwrap_or_default()
    }

    fn path(headers: &[(&str, &[u8])]) -> Result<String, &'static str> {
        original_request(&with(headers)).map(|(_, p)| p)
    }

    #[test]
    fn the_original_request_comes_from_the_ingress_headers() {
        assert_eq!(path(&[("x-forwarded-uri", b"/public/logo.png?v=2")]), Ok("/public/logo.png".into()));
        assert_eq!(path(&[("x-original-uri", b"/orders/7")]), Ok("/orders/7".into()));
        assert_eq!(path(&[("x-original-url", b"https://shop.example/orders/7?x=1")]), Ok("/orders/7".into()));
        assert_eq!(path(&[("x-other", b"/x")]), Ok("/auth".into()));
        let method = |h: &[(&str, &[u8])]| original_request(&with(h)).map(|(m, _)| m);
        assert_eq!(method(&[("x-forwarded-method", b"DELETE")]), Ok(Method::DELETE));
        assert_eq!(method(&[("x-original-method", b"POST")]), Ok(Method::POST));
        assert_eq!(method(&[("x-other", b"POST")]), Ok(Method::GET));
    }

    #[test]
    fn a_second_or_unreadable_description_is_refused() {
        // A client's own X-Forwarded-Uri next to the one nginx sets.
        assert!(path(&[("x-forwarded-uri", b"/public/x"), ("x-original-uri", b"/orders/7")]).is_err());
        assert!(path(&[("x-original-uri", b"/public/x"), ("x-original-uri", b"/orders/7")]).is_err());
        assert!(path(&[("x-original-uri", &[b'/', b'a', 0xff])]).is_err(), "raw bytes are not");
        assert!(path(&[("x-original-url", b"not a url")]).is_err());
        let method = |h: &[(&str, &[u8])]| original_request(&with(h)).map(|(m, _)| m);
        assert!(method(&[("x-forwarded-method", b"GET"), ("x-original-method", b"DELETE")]).is_err());
    }
}
