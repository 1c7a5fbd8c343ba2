//! Where a request's token is looked for, and the strict syntax each place
//! allows.

use std::borrow::Cow;

use http::header::{AUTHORIZATION, COOKIE, SEC_WEBSOCKET_PROTOCOL};
use http::{HeaderMap, HeaderName, HeaderValue, Uri};

/// One place a token may come from. The middleware looks in every
/// configured place; a request that presents more than one token is refused
/// (`400 invalid_request`, RFC 6750 3.1), never resolved by picking one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenSource(Kind);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Authorization,
    Cookie(String),
    Header(HeaderName),
    Query(String),
    /// An entry of `Sec-WebSocket-Protocol` starting with `prefix`.
    WebSocketProtocol {
        prefix: String,
        base64url: bool,
    },
}

/// The subprotocol prefix of Kubernetes' convention for bearer tokens on
/// WebSocket handshakes (the token follows, base64url-encoded).
pub const KUBERNETES_WEBSOCKET_PREFIX: &str = "base64url.bearer.authorization.k8s.io.";

impl TokenSource {
    /// `Authorization: Bearer <token>` (RFC 6750 2.1): the scheme is
    /// case-insensitive, the credential must be one b64token. The default.
    #[must_use]
    pub const fn authorization_header() -> Self {
        Self(Kind::Authorization)
    }

    /// The cookie `name` (the HttpOnly-cookie pattern of browser front ends).
    #[must_use]
    pub fn cookie(name: impl Into<String>) -> Self {
        Self(Kind::Cookie(name.into()))
    }

    /// The whole value of header `name` (for gateways that forward the
    /// token in a header of their own).
    #[must_use]
    pub const fn header(name: HeaderName) -> Self {
        Self(Kind::Header(name))
    }

    /// The query parameter `name` (RFC 6750 2.3 uses `access_token`).
    ///
    /// # Security
    ///
    /// URLs are written to access logs, proxy logs and browser history, so
    /// a token in the query string leaks to everyone who can read those.
    /// Enable this only for clients that cannot send headers (WebSocket
    /// upgrades from browsers, for example).
    #[must_use]
    pub fn insecure_query_parameter(name: impl Into<String>) -> Self {
        Self(Kind::Query(name.into()))
    }

    /// An entry of the `Sec-WebSocket-Protocol` header that starts with
    /// `prefix`; the rest of the entry is the token. Browsers cannot set
    /// headers on a WebSocket handshake, but they can offer subprotocols,
    /// so a token can ride in one without reaching the URL (and the access
    /// logs). The entry is removed from the request before the service
    /// sees it: the service chooses among the client's other subprotocols
    /// and echoes its choice, so a client must offer a real subprotocol
    /// next to the token entry (a browser refuses a handshake answered
    /// without one of the subprotocols it offered).
    #[must_use]
    pub fn websocket_protocol(prefix: impl Into<String>) -> Self {
        Self(Kind::WebSocketProtocol { prefix: prefix.into(), base64url: false })
    }

    /// Kubernetes' convention, [`TokenSource::websocket_protocol`] with
    /// the prefix [`KUBERNETES_WEBSOCKET_PREFIX`] and the token
    /// base64url-encoded (unpadded) after it, as `kubectl` and the
    /// Kubernetes JavaScript client send it.
    #[must_use]
    pub fn kubernetes_websocket_protocol() -> Self {
        Self(Kind::WebSocketProtocol { prefix: KUBERNETES_WEBSOCKET_PREFIX.to_owned(), base64url: true })
    }

    /// Removes from `headers` what this source would read a token from:
    /// `Authorization` values with the `Bearer` scheme (others, such as
    /// `Basic`, stay), the cookie of that name (the other cookies stay),
    /// the header, the subprotocol entries. A query parameter is not in
    /// the headers and stays. For requests routed around the middleware
    /// (paths that need no token) on their way to a service that must not
    /// see a token nothing verified, and for proxies that strip verified
    /// tokens before forwarding.
    pub fn remove_from(&self, headers: &mut HeaderMap) {
        match &self.0 {
            Kind::Authorization => {
                let kept: Vec<HeaderValue> =
                    headers.get_all(AUTHORIZATION).iter().filter(|v| !is_bearer(v.as_bytes())).cloned().collect();
                if headers.remove(AUTHORIZATION).is_some() {
                    for value in kept {
                        headers.append(AUTHORIZATION, value);
                    }
                }
            }
            Kind::Cookie(name) => {
                if !headers.contains_key(COOKIE) {
                    return;
                }
                // One line, as HTTP/1.1 wants it (RFC 6265 5.4), without
                // the token's cookie or a name read alike; every other
                // pair kept byte for byte.
                let kept: Vec<&[u8]> = headers
                    .get_all(COOKIE)
                    .iter()
                    .flat_map(|v| v.as_bytes().split(|&b| b == b';'))
                    .filter(|pair| match cookie_pair(pair) {
                        Some((n, _)) => n != name.as_bytes() && !lookalike_cookie(n, name),
                        None => !pair.iter().all(|&b| b == b' ' || b == b'\t'),
                    })
                    .map(|pair| pair.trim_ascii())
                    .collect();
                let line = HeaderValue::from_bytes(&kept.join(&b"; "[..])).ok().filter(|_| !kept.is_empty());
                headers.remove(COOKIE);
                if let Some(line) = line {
                    headers.insert(COOKIE, line);
                }
            }
            Kind::Header(name) => {
                headers.remove(name);
            }
            Kind::Query(_) => {}
            Kind::WebSocketProtocol { .. } => self.strip(headers),
        }
    }

    /// Removes the entries this source reads from `Sec-WebSocket-Protocol`
    /// (the header goes when nothing else is left in it).
    fn strip(&self, headers: &mut HeaderMap) {
        let Kind::WebSocketProtocol { prefix, .. } = &self.0 else { return };
        if !headers.contains_key(SEC_WEBSOCKET_PROTOCOL) {
            return;
        }
        let kept: Vec<String> = headers
            .get_all(SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .flat_map(|v| v.to_str().unwrap_or_default().split(','))
            .map(str::trim)
            .filter(|entry| !entry.is_empty() && !entry.starts_with(prefix.as_str()))
            .map(str::to_owned)
            .collect();
        headers.remove(SEC_WEBSOCKET_PROTOCOL);
        if let Ok(value) = HeaderValue::from_str(&kept.join(", "))
            && !kept.is_empty()
        {
            headers.insert(SEC_WEBSOCKET_PROTOCOL, value);
        }
    }

    /// Every token this source finds in the request, in order.
    fn find<'r>(&self, headers: &'r HeaderMap, uri: &'r Uri, found: &mut Found<'r>) -> Result<(), BadRequest> {
        match &self.0 {
            Kind::Authorization => {
                for value in headers.get_all(AUTHORIZATION) {
                    if let Some(token) = bearer(value.as_bytes())? {
                        found.push(token)?;
                    }
                }
            }
            Kind::Cookie(name) => {
                for value in headers.get_all(COOKIE) {
                    // Bytes, not text: a line with one non-ASCII cookie
                    // must not hide the token's cookie in it.
                    for pair in value.as_bytes().split(|&b| b == b';') {
                        let Some((n, v)) = cookie_pair(pair) else { continue };
                        if n == name.as_bytes() {
                            // RFC 6265 4.1.1 allows a cookie value in quotes.
                            let v = v.strip_prefix(b"\"").and_then(|v| v.strip_suffix(b"\"")).unwrap_or(v);
                            found.push(b64token_bytes(v).ok_or(BadRequest::Syntax)?)?;
                        } else if lookalike_cookie(n, name) {
                            // `AT` or ` at` for `at`: servers that fold case
                            // or trim names would read it as the token.
                            return Err(BadRequest::Syntax);
                        }
                    }
                }
            }
            Kind::Header(name) => {
                for value in headers.get_all(name) {
                    let v = value.to_str().map_err(|_| BadRequest::Syntax)?;
                    found.push(b64token(v.trim_matches(|c| c == ' ' || c == '\t')).ok_or(BadRequest::Syntax)?)?;
                }
            }
            Kind::Query(name) => {
                for pair in uri.query().unwrap_or_default().split('&') {
                    if let Some((n, v)) = pair.split_once('=')
                        && n == name
                    {
                        found.push(b64token(v).ok_or(BadRequest::Syntax)?)?;
                    }
                }
            }
            Kind::WebSocketProtocol { prefix, base64url } => {
                for value in headers.get_all(SEC_WEBSOCKET_PROTOCOL) {
                    let Ok(value) = value.to_str() else { continue };
                    for entry in value.split(',').map(str::trim) {
                        let Some(rest) = entry.strip_prefix(prefix.as_str()) else { continue };
                        if *base64url {
                            found.push_owned(decoded_token(rest).ok_or(BadRequest::Syntax)?)?;
                        } else {
                            found.push(b64token(rest).ok_or(BadRequest::Syntax)?)?;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// A token sent base64url-encoded (unpadded, canonical): decoded, and
/// still required to be one b64token (a JWS compact serialization is).
fn decoded_token(encoded: &str) -> Option<String> {
    // Far above any token size a verifier accepts (8 KiB by default):
    // refused before the allocation.
    const MAX_ENCODED: usize = 64 * 1024;
    if encoded.len() > MAX_ENCODED {
        return None;
    }
    let mut out = vec![0_u8; jwtgate_parse::base64url::decoded_len(encoded.len())?];
    let len = jwtgate_parse::base64url::decode(encoded.as_bytes(), &mut out).ok()?.len();
    out.truncate(len);
    let token = String::from_utf8(out).ok()?;
    b64token(&token)?;
    Some(token)
}

/// Removes the `Sec-WebSocket-Protocol` entries any of `sources` reads, so
/// that a token never reaches the service (which might echo or log it).
pub(crate) fn strip_protocol_tokens(sources: &[TokenSource], headers: &mut HeaderMap) {
    for source in sources {
        source.strip(headers);
    }
}

/// Why a request's credentials are unusable before any token is looked at:
/// answered `400 invalid_request`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BadRequest {
    /// Two or more tokens (RFC 6750 3.1: "uses more than one method").
    MoreThanOne,
    /// A bearer credential that is not one b64token.
    Syntax,
}

impl BadRequest {
    pub(crate) const fn description(self) -> &'static str {
        match self {
            Self::MoreThanOne => "more than one access token in the request",
            Self::Syntax => "malformed bearer credentials",
        }
    }
}

/// At most one token; a second is an error.
#[derive(Default)]
struct Found<'r>(Option<Cow<'r, str>>);

impl<'r> Found<'r> {
    fn push(&mut self, token: &'r str) -> Result<(), BadRequest> {
        if self.0.replace(Cow::Borrowed(token)).is_some() { Err(BadRequest::MoreThanOne) } else { Ok(()) }
    }

    fn push_owned(&mut self, token: String) -> Result<(), BadRequest> {
        if self.0.replace(Cow::Owned(token)).is_some() { Err(BadRequest::MoreThanOne) } else { Ok(()) }
    }
}

/// The single token of the request, looking in every source (borrowed
/// from the request, except a token that had to be decoded).
pub(crate) fn extract<'r>(
    sources: &[TokenSource],
    headers: &'r HeaderMap,
    uri: &'r Uri,
) -> Result<Option<Cow<'r, str>>, BadRequest> {
    let mut found = Found::default();
    for source in sources {
        source.find(headers, uri, &mut found)?;
    }
    Ok(found.0)
}

/// Whether an `Authorization` value uses the `Bearer` scheme, however it
/// is separated from its credential (`Bearer<TAB>x` is malformed for RFC
/// 7235, but `split()`-based readers take it).
fn is_bearer(value: &[u8]) -> bool {
    let scheme_end = value.iter().position(|&b| b == b' ' || b == b'\t').unwrap_or(value.len());
    value.get(..scheme_end).is_some_and(|scheme| scheme.eq_ignore_ascii_case(b"bearer"))
}

/// A cookie pair's name and value (RFC 6265 5.2: split at the first `=`,
/// both trimmed); `None` for a pair without `=`.
fn cookie_pair(pair: &[u8]) -> Option<(&[u8], &[u8])> {
    let eq = pair.iter().position(|&b| b == b'=')?;
    let (name, value) = pair.split_at(eq);
    Some((name.trim_ascii(), value.get(1..).unwrap_or_default().trim_ascii()))
}

/// A cookie name that is not `name` but that a server folding case (ASP.NET
/// Core) would read as it.
fn lookalike_cookie(candidate: &[u8], name: &str) -> bool {
    candidate != name.as_bytes() && candidate.eq_ignore_ascii_case(name.as_bytes())
}

/// `credentials = "Bearer" 1*SP b64token` (RFC 6750 2.1, scheme
/// case-insensitive per RFC 9110 11.1). Another scheme is not ours:
/// `Ok(None)`, so a `Basic` header reads as "no bearer token".
fn bearer(value: &[u8]) -> Result<Option<&str>, BadRequest> {
    const SCHEME: &[u8] = b"bearer";
    let scheme_end = value.iter().position(|&b| b == b' ' || b == b'\t').unwrap_or(value.len());
    let (scheme, rest) = value.split_at(scheme_end);
    if !scheme.eq_ignore_ascii_case(SCHEME) {
        return Ok(None);
    }
    // `Bearer<TAB>token`: not RFC 7235, but read as a token by servers that
    // split on any whitespace; refused rather than ignored.
    if rest.first() == Some(&b'\t') {
        return Err(BadRequest::Syntax);
    }
    let start = rest.iter().position(|&b| b != b' ').unwrap_or(rest.len());
    let end = rest.iter().rposition(|&b| b != b' ' && b != b'\t').map_or(start, |i| i + 1);
    let credential = rest.get(start..end).unwrap_or_default();
    b64token_bytes(credential).map(Some).ok_or(BadRequest::Syntax)
}

/// Which bytes a b64token is made of, before its `=` padding.
#[allow(clippy::indexing_slicing, reason = "const evaluation: an out-of-bounds index fails the build")]
const B64TOKEN: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < table.len() {
        #[allow(clippy::cast_possible_truncation, reason = "i < 256")]
        let b = i as u8;
        table[i] = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
        i += 1;
    }
    table
};

/// `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn b64token(s: &str) -> Option<&str> {
    b64token_bytes(s.as_bytes())
}

fn b64token_bytes(s: &[u8]) -> Option<&str> {
    let body_len = s.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    let body = s.get(..body_len)?;
    let ok = !body.is_empty() && body.iter().all(|&b| B64TOKEN.get(usize::from(b)).copied().unwrap_or(false));
    // All ASCII by now, so this cannot fail; it is the cheap way to a `&str`.
    if ok { std::str::from_utf8(s).ok() } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Request;

    fn run(sources: &[TokenSource], req: &Request<()>) -> Result<Option<&'static str>, BadRequest> {
        extract(sources, req.headers(), req.uri()).map(|t| t.map(|t| -> &'static str { t.into_owned().leak() }))
    }

    fn auth(value: &str) -> Request<()> {
        Request::builder().header(AUTHORIZATION, value).body(()).unwrap()
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        let all = [TokenSource::authorization_header()];
        for v in ["Bearer a.b.c", "bearer a.b.c", "BEARER a.b.c", "Bearer   a.b.c", "Bearer a.b.c "] {
            assert_eq!(run(&all, &auth(v)), Ok(Some("a.b.c")), "{v}");
        }
    }

    #[test]
    fn forbid_malformed_bearer_credentials() {
        let all = [TokenSource::authorization_header()];
        for v in [
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Bearer a,b",
            "Bearer =abc",
            "Bearer a\"b",
            "Bearer a=b",
            "Bearer\ta.b.c",
        ] {
            assert_eq!(run(&all, &auth(v)), Err(BadRequest::Syntax), "{v:?}");
        }
    }

    #[test]
    fn other_schemes_are_not_a_token() {
        let all = [TokenSource::authorization_header()];
        assert_eq!(run(&all, &auth("Basic dXNlcjpwYXNz")), Ok(None));
        assert_eq!(run(&all, &auth("Bearerx a.b.c")), Ok(None));
        assert_eq!(run(&all, &Request::new(())), Ok(None));
    }

    #[test]
    fn forbid_two_authorization_headers() {
        let all = [TokenSource::authorization_header()];
        let req = Request::builder().header(AUTHORIZATION, "Bearer a").header(AUTHORIZATION, "Bearer b").body(());
        assert_eq!(run(&all, &req.unwrap()), Err(BadRequest::MoreThanOne));
    }

    #[test]
    fn forbid_header_and_cookie_together() {
        let all = [TokenSource::authorization_header(), TokenSource::cookie("at")];
        let req = Request::builder().header(AUTHORIZATION, "Bearer a").header(COOKIE, "x=1; at=b").body(());
        assert_eq!(run(&all, &req.unwrap()), Err(BadRequest::MoreThanOne));
    }

    #[test]
    fn cookie_by_exact_name() {
        let all = [TokenSource::cookie("at")];
        let req = |c: &str| Request::builder().header(COOKIE, c).body(()).unwrap();
        assert_eq!(run(&all, &req("x=1; at=a.b.c; y=2")), Ok(Some("a.b.c")));
        assert_eq!(run(&all, &req("at=\"a.b.c\"")), Ok(Some("a.b.c")));
        assert_eq!(run(&all, &req("xat=a.b.c; atx=d")), Ok(None));
        assert_eq!(run(&all, &req("at=a; at=b")), Err(BadRequest::MoreThanOne));
        assert_eq!(run(&all, &req("at=a b")), Err(BadRequest::Syntax));
        // Names a case-folding or trimming server reads as `at`.
        assert_eq!(run(&all, &req("AT=a.b.c")), Err(BadRequest::Syntax));
        assert_eq!(run(&all, &req(" at =a.b.c")), Ok(Some("a.b.c")), "RFC 6265 trims names");
        // A line with a non-ASCII cookie still shows the token's.
        let raw = Request::builder().header(COOKIE, HeaderValue::from_bytes(b"x=\xc3\xa9; at=a.b.c").unwrap()).body(());
        assert_eq!(run(&all, &raw.unwrap()), Ok(Some("a.b.c")));
    }

    #[test]
    fn query_only_when_enabled() {
        let req = Request::builder().uri("/x?a=1&access_token=a.b.c").body(()).unwrap();
        assert_eq!(run(&[TokenSource::authorization_header()], &req), Ok(None));
        assert_eq!(run(&[TokenSource::insecure_query_parameter("access_token")], &req), Ok(Some("a.b.c")));
    }

    #[test]
    fn custom_header_whole_value() {
        let name = HeaderName::from_static("x-token");
        let req = Request::builder().header(&name, "a.b.c").body(()).unwrap();
        assert_eq!(run(&[TokenSource::header(name.clone())], &req), Ok(Some("a.b.c")));
        let req = Request::builder().header(&name, "Bearer a.b.c").body(()).unwrap();
        assert_eq!(run(&[TokenSource::header(name)], &req), Err(BadRequest::Syntax));
    }

    fn offering(protocols: &str) -> Request<()> {
        Request::builder().header(SEC_WEBSOCKET_PROTOCOL, protocols).body(()).unwrap()
    }

    #[test]
    fn a_token_in_a_websocket_subprotocol_is_found_and_stripped() {
        let raw = [TokenSource::websocket_protocol("access_token.")];
        assert_eq!(run(&raw, &offering("chat, access_token.a.b.c")), Ok(Some("a.b.c")));
        assert_eq!(run(&raw, &offering("chat")), Ok(None));
        assert_eq!(run(&raw, &offering("access_token.a b")), Err(BadRequest::Syntax));
        assert_eq!(run(&raw, &offering("access_token.a, access_token.b")), Err(BadRequest::MoreThanOne));
        let mut req = offering("chat, access_token.a.b.c, superchat");
        strip_protocol_tokens(&raw, req.headers_mut());
        assert_eq!(req.headers()[SEC_WEBSOCKET_PROTOCOL], "chat, superchat");
        let mut req = offering("access_token.a.b.c");
        strip_protocol_tokens(&raw, req.headers_mut());
        assert!(req.headers().get(SEC_WEBSOCKET_PROTOCOL).is_none());
    }

    #[test]
    fn kubernetes_tokens_are_base64url_decoded() {
        let k8s = [TokenSource::kubernetes_websocket_protocol()];
        // base64url("a.b.c") = "YS5iLmM"
        let offer = format!("base64.channel.k8s.io, {KUBERNETES_WEBSOCKET_PREFIX}YS5iLmM");
        assert_eq!(run(&k8s, &offering(&offer)), Ok(Some("a.b.c")));
        // Not base64url, or decoding to something that is not a token.
        assert_eq!(run(&k8s, &offering(&format!("{KUBERNETES_WEBSOCKET_PREFIX}a.b"))), Err(BadRequest::Syntax));
        // base64url("a b") = "YSBi"
        assert_eq!(run(&k8s, &offering(&format!("{KUBERNETES_WEBSOCKET_PREFIX}YSBi"))), Err(BadRequest::Syntax));
        // With the Authorization header too: two tokens.
        let both = Request::builder()
            .header(AUTHORIZATION, "Bearer a.b.c")
            .header(SEC_WEBSOCKET_PROTOCOL, format!("chat, {KUBERNETES_WEBSOCKET_PREFIX}YS5iLmM"))
            .body(())
            .unwrap();
        let all = [TokenSource::authorization_header(), TokenSource::kubernetes_websocket_protocol()];
        assert_eq!(run(&all, &both), Err(BadRequest::MoreThanOne));
    }

    #[test]
    fn remove_from_takes_the_token_and_leaves_the_rest() {
        let mut req = Request::builder()
            .header(AUTHORIZATION, "Bearer a.b.c")
            .header(AUTHORIZATION, "Basic dXNlcjpwdw==")
            .header(COOKIE, "theme=dark; at=a.b.c")
            .header(COOKIE, "lang=en")
            .body(())
            .unwrap();
        TokenSource::authorization_header().remove_from(req.headers_mut());
        TokenSource::cookie("at").remove_from(req.headers_mut());
        let authorization: Vec<_> = req.headers().get_all(AUTHORIZATION).iter().collect();
        assert_eq!(authorization, ["Basic dXNlcjpwdw=="]);
        assert_eq!(req.headers()[COOKIE], "theme=dark; lang=en");
        let mut only = Request::builder().header(COOKIE, "at=a.b.c").body(()).unwrap();
        TokenSource::cookie("at").remove_from(only.headers_mut());
        assert!(only.headers().get(COOKIE).is_none());
        // Non-ASCII cookies kept byte for byte; lookalikes and tabbed
        // bearers removed.
        let mut mixed = Request::builder()
            .header(COOKIE, HeaderValue::from_bytes(b"name=Jos\xc3\xa9; AT=x.y.z; at=a.b.c").unwrap())
            .header(AUTHORIZATION, "Bearer\tforged")
            .body(())
            .unwrap();
        TokenSource::cookie("at").remove_from(mixed.headers_mut());
        TokenSource::authorization_header().remove_from(mixed.headers_mut());
        assert_eq!(mixed.headers()[COOKIE].as_bytes(), b"name=Jos\xc3\xa9");
        assert!(mixed.headers().get(AUTHORIZATION).is_none());
    }
}
