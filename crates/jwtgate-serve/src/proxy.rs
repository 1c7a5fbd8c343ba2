//! Reverse-proxy mode: what the middleware lets through goes to the
//! upstream, streamed both ways, with the claim headers it set.

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode, Uri, Version};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use jwtgate_hyper::RegisteredClaims;

use crate::metrics::Metrics;
use crate::options::Upstream;
use crate::server::{Body, plain};

/// The client's address, left in each request's extensions by the
/// listener (for `Forwarded` and `X-Forwarded-For`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Peer(pub(crate) SocketAddr);

/// Hop-by-hop fields (RFC 9110 7.6.1): they describe one connection and
/// are never forwarded, nor are the fields a `Connection` header names.
/// `Proxy-Authorization` and `Proxy-Authenticate` are between a client and
/// its proxy, which is this server, not the upstream's business.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("proxy-connection"),
    HeaderName::from_static("keep-alive"),
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::PROXY_AUTHORIZATION,
];

/// The upstream and how to reach it.
#[derive(Clone, Debug)]
pub(crate) struct Proxy {
    client: Client<HttpConnector, Incoming>,
    scheme_and_authority: (http::uri::Scheme, http::uri::Authority),
    base_path: Arc<str>,
    timeout: Duration,
    strip_token: bool,
    /// Set by the middleware from the verified token: never dropped, even
    /// when a caller names them in `Connection`.
    claim_headers: Arc<[HeaderName]>,
    metrics: Arc<Metrics>,
}

impl Proxy {
    pub(crate) fn new(upstream: &Upstream, claim_headers: Vec<HeaderName>, metrics: Arc<Metrics>) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(upstream.timeout));
        let client = Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(60)).build(connector);
        let parts = upstream.url.clone().into_parts();
        let scheme = parts.scheme.unwrap_or(http::uri::Scheme::HTTP);
        // `parse_upstream` refused a URL without one; an empty authority
        // then fails each request with 502 rather than panicking here.
        let authority = parts.authority.unwrap_or_else(|| http::uri::Authority::from_static("invalid"));
        let base_path = upstream.url.path().trim_end_matches('/').into();
        Self {
            client,
            scheme_and_authority: (scheme, authority),
            base_path,
            timeout: upstream.timeout,
            strip_token: upstream.strip_token,
            claim_headers: claim_headers.into(),
            metrics,
        }
    }

    fn target(&self, uri: &Uri) -> Result<Uri, http::Error> {
        let path_and_query = uri.path_and_query().map_or("/", http::uri::PathAndQuery::as_str);
        let (scheme, authority) = &self.scheme_and_authority;
        Uri::builder()
            .scheme(scheme.clone())
            .authority(authority.clone())
            .path_and_query(format!("{}{path_and_query}", self.base_path))
            .build()
    }

    async fn forward(self, mut req: Request<Incoming>) -> Response<Body> {
        let claims = req.extensions().get::<RegisteredClaims>().cloned();
        let upgrade = requested_upgrade(req.headers());
        let client_side = upgrade.is_some().then(|| hyper::upgrade::on(&mut req));
        let peer = req.extensions().get::<Peer>().map(|p| p.0);
        let (parts, body) = req.into_parts();
        let Ok(uri) = self.target(&parts.uri) else {
            return plain(StatusCode::BAD_REQUEST, "bad request target");
        };
        let mut headers = parts.headers;
        remove_hop_by_hop(&mut headers, &self.claim_headers);
        let host = headers
            .get(header::HOST)
            .cloned()
            .or_else(|| parts.uri.authority().and_then(|a| HeaderValue::from_str(a.as_str()).ok()));
        if let Some(host) = &host {
            headers.insert(header::HOST, host.clone());
        }
        add_forwarded(&mut headers, peer, host.as_ref());
        if self.strip_token {
            headers.remove(header::AUTHORIZATION);
        }
        if let Some(protocol) = &upgrade {
            headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
            headers.insert(header::UPGRADE, protocol.clone());
        }
        let mut out = Request::new(body);
        *out.method_mut() = parts.method;
        *out.uri_mut() = uri;
        *out.version_mut() = Version::HTTP_11;
        *out.headers_mut() = headers;

        let mut response = match tokio::time::timeout(self.timeout, self.client.request(out)).await {
            Err(_) => {
                self.metrics.upstream_error("timeout");
                tracing::warn!(timeout_ms = self.timeout.as_millis(), "upstream did not answer in time");
                return plain(StatusCode::GATEWAY_TIMEOUT, "upstream timed out");
            }
            Ok(Err(e)) => {
                let kind = if e.is_connect() { "refused" } else { "reset" };
                self.metrics.upstream_error(kind);
                tracing::warn!(kind, error = %e, "upstream failed");
                return plain(StatusCode::BAD_GATEWAY, "upstream unavailable");
            }
            Ok(Ok(response)) => response,
        };
        let switched = response.status() == StatusCode::SWITCHING_PROTOCOLS;
        let protocol = switched.then(|| response.headers().get(header::UPGRADE).cloned()).flatten();
        remove_hop_by_hop(response.headers_mut(), &[]);
        if let (Some(client_side), Some(protocol)) = (client_side.filter(|_| switched), protocol) {
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
            response.headers_mut().insert(header::UPGRADE, protocol);
            let upstream_side = hyper::upgrade::on(&mut response);
            tokio::spawn(async move {
                match tokio::try_join!(client_side, upstream_side) {
                    Ok((client, upstream)) => {
                        let (mut client, mut upstream) = (TokioIo::new(client), TokioIo::new(upstream));
                        if let Err(e) = tokio::io::copy_bidirectional(&mut client, &mut upstream).await {
                            tracing::debug!(error = %e, "upgraded connection ended with an error");
                        }
                    }
                    Err(e) => tracing::debug!(error = %e, "upgrade did not complete"),
                }
            });
        }
        if let Some(claims) = claims {
            response.extensions_mut().insert(claims);
        }
        response.map(|body| body.map_err(Into::into).boxed_unsync())
    }
}

/// The protocol of an upgrade the client asks for (`Connection: upgrade`
/// with an `Upgrade` header), HTTP/1.1 only.
fn requested_upgrade(headers: &HeaderMap) -> Option<HeaderValue> {
    let asks = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("upgrade"));
    if asks { headers.get(header::UPGRADE).cloned() } else { None }
}

/// Removes the hop-by-hop fields and those `Connection` names, except
/// `keep` (headers this server set and vouches for).
fn remove_hop_by_hop(headers: &mut HeaderMap, keep: &[HeaderName]) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|token| HeaderName::try_from(token.trim()).ok())
        .filter(|name| !keep.contains(name))
        .collect();
    for name in named.iter().chain(HOP_BY_HOP.iter()) {
        headers.remove(name);
    }
}

/// `Forwarded` (RFC 7239) and the `X-Forwarded-*` trio. The client's
/// address is appended to what earlier proxies wrote; `X-Forwarded-Proto`
/// and `-Host` describe this hop and replace whatever the client sent.
fn add_forwarded(headers: &mut HeaderMap, peer: Option<SocketAddr>, host: Option<&HeaderValue>) {
    let host = host.and_then(|h| h.to_str().ok()).filter(|h| !h.contains(['"', '\\']));
    let mut element = String::new();
    if let Some(peer) = peer {
        match peer.ip() {
            IpAddr::V4(ip) => element.push_str(&format!("for={ip}")),
            IpAddr::V6(ip) => element.push_str(&format!("for=\"[{ip}]\"")),
        }
        append(headers, HeaderName::from_static("x-forwarded-for"), &peer.ip().to_string());
    }
    if let Some(host) = host {
        if !element.is_empty() {
            element.push(';');
        }
        element.push_str(&format!("host=\"{host}\""));
        if let Ok(value) = HeaderValue::from_str(host) {
            headers.insert(HeaderName::from_static("x-forwarded-host"), value);
        }
    }
    if !element.is_empty() {
        element.push(';');
    }
    element.push_str("proto=http");
    append(headers, header::FORWARDED, &element);
    headers.insert(HeaderName::from_static("x-forwarded-proto"), HeaderValue::from_static("http"));
}

/// Appends `value` to a comma-separated list header (one line).
fn append(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    let existing: Vec<&str> = headers.get_all(&name).iter().filter_map(|v| v.to_str().ok()).collect();
    let joined = if existing.is_empty() { value.to_owned() } else { format!("{}, {value}", existing.join(", ")) };
    if let Ok(joined) = HeaderValue::from_str(&joined) {
        headers.insert(name, joined);
    }
}

impl tower::Service<Request<Incoming>> for Proxy {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Incoming>) -> Self::Future {
        let proxy = self.clone();
        Box::pin(async move { Ok(proxy.forward(req).await) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_fields_and_those_connection_names_are_dropped_but_claims_kept() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONNECTION, HeaderValue::from_static("keep-alive, x-secret, x-user-id"));
        headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        headers.insert("x-secret", HeaderValue::from_static("1"));
        headers.insert("x-user-id", HeaderValue::from_static("alice"));
        headers.insert(header::PROXY_AUTHORIZATION, HeaderValue::from_static("Basic eA=="));
        headers.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        remove_hop_by_hop(&mut headers, &[HeaderName::from_static("x-user-id")]);
        let left: Vec<_> = headers.keys().map(HeaderName::as_str).collect();
        assert_eq!(left, ["x-user-id", "accept"]);
    }

    #[test]
    fn forwarded_fields_append_the_peer_and_replace_proto_and_host() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9"));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        let host = HeaderValue::from_static("orders.example:8080");
        add_forwarded(&mut headers, Some("[::1]:5000".parse().unwrap_or_else(|_| unreachable!())), Some(&host));
        assert_eq!(headers["x-forwarded-for"], "203.0.113.9, ::1");
        assert_eq!(headers["x-forwarded-proto"], "http");
        assert_eq!(headers["x-forwarded-host"], "orders.example:8080");
        assert_eq!(headers[header::FORWARDED], "for=\"[::1]\";host=\"orders.example:8080\";proto=http");
    }

    #[test]
    fn an_upgrade_needs_both_headers() {
        let mut headers = HeaderMap::new();
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        assert!(requested_upgrade(&headers).is_none());
        headers.insert(header::CONNECTION, HeaderValue::from_static("keep-alive, Upgrade"));
        assert_eq!(requested_upgrade(&headers), Some(HeaderValue::from_static("websocket")));
    }
}
