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

/// The headers an ingress names the original request's path in: Traefik
/// and Caddy send `X-Forwarded-Uri`, nginx's usual `proxy_set_header` is
/// `X-Original-URI`, ingress-nginx sends `X-Original-URL` (a whole URL),
/// and `X-Original-URI` too with its `auth-method` annotation.
const PATH_HEADERS: [&str; 3] = ["x-forwarded-uri", "x-original-uri", "x-original-url"];

/// The headers an ingress names the original request's method in.
const METHOD_HEADERS: [&str; 2] = ["x-forwarded-method", "x-original-method"];

/// The original request as the ingress describes it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Described {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
}

/// The one value `names` give: `None` when the request carries none of
/// them; an error when it carries values that do not all say the same, or
/// one that is not visible ASCII. Ingresses copy the client's own headers
/// onto the auth request and set only theirs, so a second, different value
/// is a client's attempt to name another request: refused, never resolved
/// by a precedence the client could exploit.
fn agreed<'r, B, T: PartialEq>(
    req: &'r Request<B>,
    names: &[&str],
    read: impl Fn(&str, &'r str) -> Result<T, &'static str>,
) -> Result<Option<T>, &'static str> {
    let mut agreed: Option<T> = None;
    for name in names {
        for value in req.headers().get_all(*name) {
            let text = value.to_str().map_err(|_| "the original request's header is not visible ASCII")?;
            let read = read(name, text)?;
            match &agreed {
                Some(earlier) if *earlier != read => {
                    return Err("the original request is named differently by two headers");
                }
                Some(_) => {}
                None => agreed = Some(read),
            }
        }
    }
    Ok(agreed)
}

/// Path and query of an original URI: a path (`X-Forwarded-Uri`,
/// `X-Original-URI`) or, for `X-Original-URL`, an absolute URL whose
/// authority (the client's `Host`, which ingress-nginx copies in) is
/// skipped up to the first `/`: `http::Uri` would end it at a `?` or `#`
/// that nginx lets through in `Host`, and read the path from the wrong
/// place.
fn path_and_query(name: &str, value: &str) -> Result<(String, Option<String>), &'static str> {
    let target = if name == "x-original-url" {
        let rest = value
            .strip_prefix("https://")
            .or_else(|| value.strip_prefix("http://"))
            .ok_or("the original URL is not http or https")?;
        let slash = rest.find('/').ok_or("the original URL has no path")?;
        let authority = rest.get(..slash).unwrap_or_default();
        if authority.is_empty() || authority.contains(['?', '#', '@', '\\']) {
            return Err("the original URL's host is not a host");
        }
        rest.get(slash..).unwrap_or_default()
    } else {
        value
    };
    if target.contains('#') {
        return Err("the original URI has a fragment");
    }
    Ok(match target.split_once('?') {
        Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
        None => (target.to_owned(), None),
    })
}

/// The method, path and query of the request the ingress asks about, from
/// the headers above, else this request's own (Envoy's `ext_authz` sends
/// the original method and path as its own). The path is then judged by
/// the rules' checks.
///
/// # Errors
///
/// Disagreeing or unreadable headers (answered 403 `ambiguous_path`).
pub(crate) fn original_request<B>(req: &Request<B>) -> Result<Described, &'static str> {
    let (path, query) = match agreed(req, &PATH_HEADERS, path_and_query)? {
        Some(described) => described,
        None => (req.uri().path().to_owned(), req.uri().query().map(str::to_owned)),
    };
    let method = agreed(req, &METHOD_HEADERS, |_, value| {
        Method::from_bytes(value.as_bytes()).map_err(|_| "the original request's method is not a method")
    })?
    .unwrap_or_else(|| req.method().clone());
    Ok(Described { method, path, query })
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
        original_request(&with(headers)).map(|d| d.path)
    }

    fn method(headers: &[(&str, &[u8])]) -> Result<Method, &'static str> {
        original_request(&with(headers)).map(|d| d.method)
    }

    #[test]
    fn the_original_request_comes_from_the_ingress_headers() {
        assert_eq!(path(&[("x-forwarded-uri", b"/public/logo.png?v=2")]), Ok("/public/logo.png".into()));
        assert_eq!(path(&[("x-original-uri", b"/orders/7")]), Ok("/orders/7".into()));
        assert_eq!(path(&[("x-original-url", b"https://shop.example/orders/7?x=1")]), Ok("/orders/7".into()));
        assert_eq!(path(&[("x-other", b"/x")]), Ok("/auth".into()));
        let described = original_request(&with(&[("x-original-uri", b"/a?_method=DELETE")]));
        assert_eq!(described.map(|d| d.query), Ok(Some("_method=DELETE".into())));
        assert_eq!(method(&[("x-forwarded-method", b"DELETE")]), Ok(Method::DELETE));
        assert_eq!(method(&[("x-original-method", b"POST")]), Ok(Method::POST));
        assert_eq!(method(&[("x-other", b"POST")]), Ok(Method::GET));
    }

    #[test]
    fn headers_that_agree_are_one_description() {
        // ingress-nginx with auth-method sends both.
        let both: &[(&str, &[u8])] =
            &[("x-original-uri", b"/orders/7?x=1"), ("x-original-url", b"https://shop.example/orders/7?x=1")];
        assert_eq!(path(both), Ok("/orders/7".into()));
    }

    #[test]
    fn disagreeing_or_unreadable_descriptions_are_refused() {
        // A client's own X-Forwarded-Uri next to the one nginx sets.
        assert!(path(&[("x-forwarded-uri", b"/public/x"), ("x-original-uri", b"/orders/7")]).is_err());
        assert!(path(&[("x-original-uri", b"/public/x"), ("x-original-uri", b"/orders/7")]).is_err());
        assert!(path(&[("x-original-uri", &[b'/', b'a', 0xff])]).is_err(), "raw bytes");
        assert!(path(&[("x-original-url", b"not a url")]).is_err());
        // A Host of `x?` or `x#` copied into X-Original-URL.
        assert!(path(&[("x-original-url", b"https://x?/admin/orders")]).is_err());
        assert!(path(&[("x-original-url", b"https://x#/admin/orders")]).is_err());
        assert!(path(&[("x-original-url", b"https://user@x/admin")]).is_err());
        assert!(path(&[("x-original-uri", b"/public/x#/../admin")]).is_err());
        assert!(method(&[("x-forwarded-method", b"GET"), ("x-original-method", b"DELETE")]).is_err());
    }
}
