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
use jwtgate_hyper::{RegisteredClaims, TokenSource, read_alike};

use crate::metrics::Metrics;
use crate::options::Upstream;
use crate::router::plain;
use crate::server::Body;

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
    /// Token sources removed before forwarding (`--strip-token`).
    remove_tokens: Arc<[TokenSource]>,
    /// Keep what earlier proxies wrote in `Forwarded` / `X-Forwarded-*`.
    trust_forwarded: bool,
    /// Set by the middleware from the verified token: never dropped, even
    /// when a caller names them in `Connection`.
    claim_headers: Arc<[HeaderName]>,
    metrics: Arc<Metrics>,
}

impl Proxy {
    pub(crate) fn new(
        upstream: &Upstream,
        claim_headers: Vec<HeaderName>,
        remove_tokens: Vec<TokenSource>,
        metrics: Arc<Metrics>,
    ) -> Self {
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
            remove_tokens: remove_tokens.into(),
            trust_forwarded: upstream.trust_forwarded,
            claim_headers: claim_headers.into(),
            metrics,
        }
    }

    fn target(&self, uri: &Uri) -> Result<Uri, http::Error> {
        let (scheme, authority) = &self.scheme_and_authority;
        let builder = Uri::builder().scheme(scheme.clone()).authority(authority.clone());
        let builder = match uri.path_and_query() {
            // The common case, no base path: the request's own (a
            // reference-counted clone, no copy).
            Some(path_and_query) if self.base_path.is_empty() => builder.path_and_query(path_and_query.clone()),
            Some(path_and_query) => builder.path_and_query(format!("{}{}", self.base_path, path_and_query.as_str())),
            None => builder.path_and_query(format!("{}/", self.base_path)),
        };
        builder.build()
    }

    async fn forward(self, mut req: Request<Incoming>) -> Response<Body> {
        let claims = req.extensions().get::<RegisteredClaims>().cloned();
        let websocket_key = websocket_handshake(req.headers());
        let client_side = websocket_key.is_some().then(|| hyper::upgrade::on(&mut req));
        let peer = req.extensions().get::<Peer>().map(|p| p.0);
        let (parts, body) = req.into_parts();
        let Ok(uri) = self.target(&parts.uri) else {
            return plain(StatusCode::BAD_REQUEST, "bad request target");
        };
        let mut headers = parts.headers;
        remove_hop_by_hop(&mut headers, &self.claim_headers);
        remove_read_alike(&mut headers, &ROUTING_OVERRIDES);
        // RFC 9112 3.2.2 and RFC 9113 8.3.1: the target's authority, when
        // the request has one, is the host; else the Host header.
        let host = parts
            .uri
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
            .or_else(|| headers.get(header::HOST).cloned());
        if let Some(host) = &host {
            headers.insert(header::HOST, host.clone());
        }
        add_forwarded(&mut headers, peer, host.as_ref(), self.trust_forwarded);
        append(
            &mut headers,
            header::VIA,
            if parts.version == Version::HTTP_2 { "2 jwtgate" } else { "1.1 jwtgate" }.into(),
        );
        join_cookies(&mut headers);
        for source in self.remove_tokens.iter() {
            source.remove_from(&mut headers);
        }
        if websocket_key.is_some() {
            headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
            headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
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
        if response.status() == StatusCode::SWITCHING_PROTOCOLS {
            // Only a WebSocket the client asked for, accepted by the
            // upstream with the right key, becomes a tunnel: an upstream
            // that answers 101 without switching would otherwise leave the
            // client a raw pipe to it, past every rule.
            let accepted = websocket_key.as_deref().is_some_and(|key| accepts(response.headers(), key));
            let (Some(client_side), true) = (client_side, accepted) else {
                self.metrics.upstream_error("bad_upgrade");
                tracing::warn!("upstream answered 101 without a valid WebSocket handshake");
                return plain(StatusCode::BAD_GATEWAY, "upstream switched protocols without a WebSocket handshake");
            };
            let protocol = response.headers().get(header::SEC_WEBSOCKET_PROTOCOL).cloned();
            remove_hop_by_hop(response.headers_mut(), &[]);
            let headers = response.headers_mut();
            headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
            headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
            if let Some(protocol) = protocol {
                headers.insert(header::SEC_WEBSOCKET_PROTOCOL, protocol);
            }
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
        } else {
            drop_stale_length(response.headers_mut());
            remove_hop_by_hop(response.headers_mut(), &[]);
        }
        if let Some(claims) = claims {
            response.extensions_mut().insert(claims);
        }
        response.map(|body| body.map_err(Into::into).boxed_unsync())
    }
}

/// The `Sec-WebSocket-Key` of a WebSocket handshake (RFC 6455 4.1:
/// `Connection: upgrade` and `Upgrade: websocket`), HTTP/1.1 only. Other
/// upgrades (`h2c` among them, which would tunnel a whole HTTP/2
/// connection past the per-request checks) are not passed on: the request
/// goes upstream as a plain request.
fn websocket_handshake(headers: &HeaderMap) -> Option<String> {
    let asks = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("upgrade"));
    let websocket = headers.get(header::UPGRADE).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    if asks && websocket {
        headers.get(header::SEC_WEBSOCKET_KEY).and_then(|k| k.to_str().ok()).map(str::to_owned)
    } else {
        None
    }
}

/// Whether the upstream's 101 completes the handshake for `key`: `Upgrade:
/// websocket` and the `Sec-WebSocket-Accept` RFC 6455 4.2.2 derives from
/// the key.
fn accepts(headers: &HeaderMap, key: &str) -> bool {
    use base64::Engine as _;
    use sha1::Digest as _;
    const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    let mut sha1 = sha1::Sha1::new();
    sha1.update(key.as_bytes());
    sha1.update(GUID);
    let expected = base64::engine::general_purpose::STANDARD.encode(sha1.finalize());
    let websocket = headers.get(header::UPGRADE).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    websocket && headers.get(header::SEC_WEBSOCKET_ACCEPT).is_some_and(|v| v.as_bytes() == expected.as_bytes())
}

/// Headers some frameworks take as the request's real path (Symfony's and
/// IIS's URL rewriting): a client's would move it past the rule that
/// judged it.
const ROUTING_OVERRIDES: [HeaderName; 2] =
    [HeaderName::from_static("x-original-url"), HeaderName::from_static("x-rewrite-url")];

/// RFC 9112 6.3: a response with both `Transfer-Encoding` and
/// `Content-Length` is framed by the former, and hyper's client reads it
/// so but leaves the length in the headers. Passed on once the transfer
/// coding is gone, that length would frame the body differently for the
/// client than the upstream framed it.
fn drop_stale_length(headers: &mut HeaderMap) {
    if headers.contains_key(header::TRANSFER_ENCODING) {
        headers.remove(header::CONTENT_LENGTH);
    }
}

/// Removes `names` and every name a CGI-style server reads alike
/// (`X_Original_URL` for `X-Original-URL`).
fn remove_read_alike(headers: &mut HeaderMap, names: &[HeaderName]) {
    let doomed: Vec<HeaderName> =
        headers.keys().filter(|name| names.iter().any(|n| read_alike(name, n))).cloned().collect();
    for name in doomed {
        headers.remove(name);
    }
}

/// Several `Cookie` fields (HTTP/2 sends each cookie as its own) as the one
/// line HTTP/1.1 allows (RFC 9113 8.2.3).
fn join_cookies(headers: &mut HeaderMap) {
    let mut values = headers.get_all(header::COOKIE).iter();
    if values.next().is_none() || values.next().is_none() {
        return;
    }
    let joined: Vec<&[u8]> = headers.get_all(header::COOKIE).iter().map(HeaderValue::as_bytes).collect();
    if let Ok(line) = HeaderValue::from_bytes(&joined.join(&b"; "[..])) {
        headers.insert(header::COOKIE, line);
    }
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
        .filter(|name| !keep.contains(name) && *name != header::HOST)
        .collect();
    for name in named.iter().chain(HOP_BY_HOP.iter()) {
        headers.remove(name);
    }
}

/// Headers a client could use to tell the upstream who and where it is;
/// unless earlier proxies are trusted, only this hop's account goes on.
const FORWARDING: [HeaderName; 7] = [
    header::FORWARDED,
    HeaderName::from_static("x-forwarded-for"),
    HeaderName::from_static("x-forwarded-host"),
    HeaderName::from_static("x-forwarded-proto"),
    HeaderName::from_static("x-forwarded-port"),
    HeaderName::from_static("x-forwarded-prefix"),
    HeaderName::from_static("x-real-ip"),
];

/// `Forwarded` (RFC 7239) and `X-Forwarded-For`, `-Host`, `-Proto`. By
/// default what the client sent is dropped first (a client could claim any
/// address or host); with `trust` (jwtgate behind an ingress that sets
/// them) the client's address is appended to the earlier proxies' and
/// their `X-Forwarded-Proto` and `-Host` are kept.
fn add_forwarded(headers: &mut HeaderMap, peer: Option<SocketAddr>, host: Option<&HeaderValue>, trust: bool) {
    use std::fmt::Write as _;
    if !trust {
        remove_read_alike(headers, &FORWARDING);
    }
    let host = host.and_then(|h| h.to_str().ok()).filter(|h| !h.contains(['"', '\\']));
    let mut element = String::with_capacity(64);
    if let Some(peer) = peer {
        // Writing to a String cannot fail.
        let _ = match peer.ip() {
            IpAddr::V4(ip) => write!(element, "for={ip};"),
            IpAddr::V6(ip) => write!(element, "for=\"[{ip}]\";"),
        };
        let mut ip = String::with_capacity(40);
        let _ = write!(ip, "{}", peer.ip());
        append(headers, HeaderName::from_static("x-forwarded-for"), ip);
    }
    if let Some(host) = host {
        let _ = write!(element, "host=\"{host}\";");
        let name = HeaderName::from_static("x-forwarded-host");
        if let (false, Ok(value)) = (headers.contains_key(&name), HeaderValue::from_str(host)) {
            headers.insert(name, value);
        }
    }
    element.push_str("proto=http");
    append(headers, header::FORWARDED, element);
    let proto = HeaderName::from_static("x-forwarded-proto");
    if !headers.contains_key(&proto) {
        headers.insert(proto, HeaderValue::from_static("http"));
    }
}

/// Appends `value` to a comma-separated list header (one line); the
/// string becomes the header's bytes without another copy.
fn append(headers: &mut HeaderMap, name: HeaderName, value: String) {
    let mut joined = String::new();
    for existing in headers.get_all(&name).iter().filter_map(|v| v.to_str().ok()) {
        joined.push_str(existing);
        joined.push_str(", ");
    }
    let line = if joined.is_empty() {
        value
    } else {
        joined.push_str(&value);
        joined
    };
    if let Ok(line) = HeaderValue::from_maybe_shared(bytes::Bytes::from(line)) {
        headers.insert(name, line);
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

    fn claimed() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9"));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        headers.insert("x-forwarded-host", HeaderValue::from_static("evil.example"));
        headers.insert("x-real-ip", HeaderValue::from_static("10.0.0.1"));
        headers.insert(header::FORWARDED, HeaderValue::from_static("for=10.0.0.1;host=evil.example"));
        headers
    }

    #[test]
    fn forwarded_fields_describe_this_hop_and_drop_what_a_client_claims() {
        let mut headers = claimed();
        let host = HeaderValue::from_static("orders.example:8080");
        add_forwarded(&mut headers, "[::1]:5000".parse().ok(), Some(&host), false);
        assert_eq!(headers["x-forwarded-for"], "::1");
        assert_eq!(headers["x-forwarded-proto"], "http");
        assert_eq!(headers["x-forwarded-host"], "orders.example:8080");
        assert_eq!(headers[header::FORWARDED], "for=\"[::1]\";host=\"orders.example:8080\";proto=http");
        assert!(headers.get("x-real-ip").is_none());
    }

    #[test]
    fn trusted_forwarded_fields_are_appended_to() {
        let mut headers = claimed();
        let host = HeaderValue::from_static("orders.example");
        add_forwarded(&mut headers, "127.0.0.1:5000".parse().ok(), Some(&host), true);
        assert_eq!(headers["x-forwarded-for"], "203.0.113.9, 127.0.0.1");
        assert_eq!(headers["x-forwarded-proto"], "https");
        assert_eq!(headers["x-forwarded-host"], "evil.example");
        assert_eq!(
            headers[header::FORWARDED],
            "for=10.0.0.1;host=evil.example, for=127.0.0.1;host=\"orders.example\";proto=http"
        );
    }

    #[test]
    fn only_websocket_upgrades_are_passed_on_and_only_a_valid_accept_opens_the_tunnel() {
        let mut headers = HeaderMap::new();
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(header::SEC_WEBSOCKET_KEY, HeaderValue::from_static("dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(websocket_handshake(&headers).is_none(), "no Connection: upgrade");
        headers.insert(header::CONNECTION, HeaderValue::from_static("keep-alive, Upgrade"));
        assert_eq!(websocket_handshake(&headers).as_deref(), Some("dGhlIHNhbXBsZSBub25jZQ=="));
        headers.insert(header::UPGRADE, HeaderValue::from_static("h2c"));
        assert!(websocket_handshake(&headers).is_none(), "h2c is never tunnelled");

        // RFC 6455 1.3's example key and accept.
        let mut response = HeaderMap::new();
        response.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        response.insert(header::SEC_WEBSOCKET_ACCEPT, HeaderValue::from_static("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
        assert!(accepts(&response, "dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(!accepts(&response, "AAAAAAAAAAAAAAAAAAAAAA=="));
        response.insert(header::UPGRADE, HeaderValue::from_static("h2c"));
        assert!(!accepts(&response, "dGhlIHNhbXBsZSBub25jZQ=="));
    }

    #[test]
    fn a_length_beside_a_transfer_coding_is_not_passed_on() {
        let mut headers = HeaderMap::new();
        headers.insert(header::TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("5"));
        drop_stale_length(&mut headers);
        remove_hop_by_hop(&mut headers, &[]);
        assert!(headers.is_empty());
        let mut plain = HeaderMap::new();
        plain.insert(header::CONTENT_LENGTH, HeaderValue::from_static("5"));
        drop_stale_length(&mut plain);
        assert_eq!(plain[header::CONTENT_LENGTH], "5");
    }

    #[test]
    fn cookies_in_several_fields_become_one_line() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1"));
        headers.append(header::COOKIE, HeaderValue::from_static("b=2"));
        join_cookies(&mut headers);
        assert_eq!(headers.get_all(header::COOKIE).iter().collect::<Vec<_>>(), ["a=1; b=2"]);
    }

    #[test]
    fn connection_cannot_name_host() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONNECTION, HeaderValue::from_static("host"));
        headers.insert(header::HOST, HeaderValue::from_static("orders.example"));
        remove_hop_by_hop(&mut headers, &[]);
        assert_eq!(headers[header::HOST], "orders.example");
    }
}
