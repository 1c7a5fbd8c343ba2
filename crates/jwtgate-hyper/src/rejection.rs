//! Why a request was refused, and the one place that turns a refusal into
//! an HTTP response (RFC 6750 3, RFC 9728 5.1).

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, Response, StatusCode};
use jwtgate_verify::Error;

/// Why the middleware refused a request.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// No token was presented: `401` with a bare `Bearer` challenge.
    MissingToken,
    /// The credentials were unusable before any token was read (two tokens,
    /// or a malformed `Authorization` value): `400 invalid_request`.
    InvalidRequest(&'static str),
    /// The token was refused: `401 invalid_token`.
    InvalidToken(Error),
    /// The token lacks a required scope: `403 insufficient_scope`.
    InsufficientScope(Arc<[String]>),
    /// The key source has no usable keys, or the revocation source is out
    /// of sync (`revocation_unavailable`): `503` with `Retry-After`.
    Unavailable(Error),
}

impl Rejection {
    /// Sorts a verifier error: the key source's fault is a 503, any other
    /// error the token's (401).
    #[must_use]
    pub fn from_error(e: Error) -> Self {
        if e.is_retryable() { Self::Unavailable(e) } else { Self::InvalidToken(e) }
    }

    /// A stable machine code: the verifier's rejection code for
    /// [`Rejection::InvalidToken`] and [`Rejection::Unavailable`], else
    /// `missing_token`, `invalid_request` or `insufficient_scope`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingToken => "missing_token",
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidToken(e) | Self::Unavailable(e) => e.code(),
            Self::InsufficientScope(_) => "insufficient_scope",
        }
    }

    /// The default status code.
    #[must_use]
    pub const fn status(&self) -> StatusCode {
        match self {
            Self::MissingToken | Self::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            Self::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Self::InsufficientScope(_) => StatusCode::FORBIDDEN,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The RFC 6750 `error` attribute, if this refusal has one.
    const fn oauth_error(&self) -> Option<&'static str> {
        match self {
            Self::MissingToken | Self::Unavailable(_) => None,
            Self::InvalidRequest(_) => Some("invalid_request"),
            Self::InvalidToken(_) => Some("invalid_token"),
            Self::InsufficientScope(_) => Some("insufficient_scope"),
        }
    }

    /// The `error` member of the JSON body: the challenge's `error`
    /// attribute, so body and header say the same; for a 503, which has no
    /// challenge, RFC 6749's `temporarily_unavailable`. A missing token has
    /// none: RFC 6750 3.1 says a request that lacks authentication gets no
    /// error code, and `code` (`missing_token`) already names the case.
    const fn body_error(&self) -> Option<&'static str> {
        match self {
            Self::Unavailable(_) => Some("temporarily_unavailable"),
            _ => self.oauth_error(),
        }
    }

    /// A short human description: fixed text (plus at most a configured
    /// claim or scope name), never anything from the token.
    fn description(&self) -> String {
        match self {
            Self::MissingToken => "no access token in the request".to_owned(),
            Self::InvalidRequest(why) => (*why).to_owned(),
            Self::InvalidToken(e) => e.to_string(),
            Self::InsufficientScope(_) => "the access token lacks a required scope".to_owned(),
            Self::Unavailable(Error::RevocationUnavailable) => {
                "the revocation list is out of sync; try again later".to_owned()
            }
            Self::Unavailable(_) => "the token issuer's keys are unavailable; try again later".to_owned(),
        }
    }
}

/// A user's hook over the default responses.
pub(crate) type MapRejection = Arc<dyn Fn(&Rejection, Response<Bytes>) -> Response<Bytes> + Send + Sync>;

/// How refusals are answered: the parts of the response that are
/// configuration rather than per-request.
#[derive(Clone)]
pub(crate) struct Responder {
    pub(crate) realm: String,
    pub(crate) resource_metadata: Option<String>,
    pub(crate) retry_after: Duration,
    pub(crate) map: Option<MapRejection>,
}

impl Default for Responder {
    fn default() -> Self {
        Self { realm: "api".to_owned(), resource_metadata: None, retry_after: Duration::from_secs(10), map: None }
    }
}

impl std::fmt::Debug for Responder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Responder")
            .field("realm", &self.realm)
            .field("resource_metadata", &self.resource_metadata)
            .field("retry_after", &self.retry_after)
            .field("map", &self.map.as_ref().map(|_| "custom"))
            .finish()
    }
}

impl Responder {
    /// The response for `rejection`: the RFC 6750 default (for gRPC calls,
    /// with the `tonic` feature, a gRPC status instead), then the user's hook.
    pub(crate) fn respond(&self, rejection: &Rejection, request: &http::HeaderMap) -> Response<Bytes> {
        #[cfg(feature = "tonic")]
        let response = if crate::grpc::is_grpc(request) {
            crate::grpc::response(rejection, &rejection.description())
        } else {
            self.default_response(rejection)
        };
        #[cfg(not(feature = "tonic"))]
        let response = {
            let _ = request;
            self.default_response(rejection)
        };
        match &self.map {
            Some(map) => map(rejection, response),
            None => response,
        }
    }

    fn default_response(&self, rejection: &Rejection) -> Response<Bytes> {
        let description = rejection.description();
        // The body and the challenge escape the same text differently: the
        // JSON string keeps it whole (quotes escaped), while the challenge's
        // quoted-string may not contain `"` or `\` at all (RFC 6750 3).
        let mut body = String::with_capacity(96);
        body.push('{');
        if let Some(error) = rejection.body_error() {
            body.push_str("\"error\":\"");
            body.push_str(error);
            body.push_str("\",");
        }
        body.push_str("\"error_description\":\"");
        push_json_escaped(&mut body, &description);
        body.push_str("\",\"code\":\"");
        body.push_str(rejection.code());
        body.push_str("\"}");

        let mut response = Response::new(Bytes::from(body));
        *response.status_mut() = rejection.status();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        // RFC 6749 5.1 asks the same of token responses: an auth answer is
        // about one request and must not be replayed by a cache.
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        match rejection {
            Rejection::Unavailable(_) => {
                headers.insert(RETRY_AFTER, HeaderValue::from(self.retry_after.as_secs().max(1)));
            }
            _ => {
                if let Ok(v) = HeaderValue::from_str(&self.challenge(rejection, &description)) {
                    headers.insert(WWW_AUTHENTICATE, v);
                }
            }
        }
        response
    }

    /// `Bearer realm="..", error="..", error_description="..", scope="..",
    /// resource_metadata=".."` with every value reduced to the characters
    /// RFC 6750 3 allows inside the quotes.
    fn challenge(&self, rejection: &Rejection, description: &str) -> String {
        let mut c = String::with_capacity(128);
        c.push_str("Bearer realm=\"");
        push_quotable(&mut c, &self.realm);
        c.push('"');
        if let Some(error) = rejection.oauth_error() {
            let _ = write!(c, ", error=\"{error}\", error_description=\"");
            push_quotable(&mut c, description);
            c.push('"');
        }
        if let Rejection::InsufficientScope(scopes) = rejection {
            c.push_str(", scope=\"");
            push_quotable(&mut c, &scopes.join(" "));
            c.push('"');
        }
        if let Some(url) = &self.resource_metadata {
            c.push_str(", resource_metadata=\"");
            push_quotable(&mut c, url);
            c.push('"');
        }
        c
    }
}

/// Appends `s` for a challenge parameter, keeping only `%x20-21 / %x23-5B
/// / %x5D-7E` (RFC 6750 3's set for `error_description`, which is also
/// always a valid header value); anything else becomes `?`. For headers
/// only: the JSON body uses [`push_json_escaped`].
fn push_quotable(out: &mut String, s: &str) {
    out.extend(s.chars().map(|c| if matches!(c, ' '..='~') && c != '"' && c != '\\' { c } else { '?' }));
}

/// Appends `s` as the inside of a JSON string (RFC 8259 7): every
/// character kept, `"` and `\` and control characters escaped.
fn push_json_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c < ' ' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(r: &Response<Bytes>, name: http::HeaderName) -> &str {
        r.headers().get(name).unwrap().to_str().unwrap()
    }

    #[test]
    fn missing_token_is_a_bare_challenge() {
        let r = Responder::default().respond(&Rejection::MissingToken, &http::HeaderMap::new());
        assert_eq!(r.status(), 401);
        assert_eq!(header(&r, WWW_AUTHENTICATE), "Bearer realm=\"api\"");
    }

    #[test]
    fn invalid_token_names_the_error() {
        let r = Responder::default().respond(&Rejection::InvalidToken(Error::Expired), &http::HeaderMap::new());
        assert_eq!(r.status(), 401);
        assert_eq!(
            header(&r, WWW_AUTHENTICATE),
            "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"token has expired\""
        );
        let body: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(body["code"], "expired");
        assert_eq!(body["error"], "invalid_token");
    }

    #[test]
    fn scope_and_resource_metadata() {
        let responder = Responder {
            realm: "r\"x".into(),
            resource_metadata: Some("https://api.example/.well-known/oauth-protected-resource".into()),
            ..Responder::default()
        };
        let r = responder.respond(
            &Rejection::InsufficientScope(vec!["a".to_owned(), "b:c".to_owned()].into()),
            &http::HeaderMap::new(),
        );
        assert_eq!(r.status(), 403);
        assert_eq!(
            header(&r, WWW_AUTHENTICATE),
            "Bearer realm=\"r?x\", error=\"insufficient_scope\", error_description=\"the access token lacks a \
             required scope\", scope=\"a b:c\", resource_metadata=\"https://api.example/.well-known/oauth-protected-resource\""
        );
    }

    #[test]
    fn unavailable_is_503_with_retry_after() {
        let r = Responder::default()
            .respond(&Rejection::from_error(Error::KeySourceUnavailable("down".into())), &http::HeaderMap::new());
        assert_eq!(r.status(), 503);
        assert_eq!(header(&r, RETRY_AFTER), "10");
        assert!(r.headers().get(WWW_AUTHENTICATE).is_none());
    }

    #[test]
    fn every_description_is_quotable() {
        let mut s = String::new();
        push_quotable(&mut s, "a\"b\\c\nd\u{e9}");
        assert_eq!(s, "a?b?c?d?");
    }

    #[test]
    fn json_escaping_keeps_the_text() {
        let text = "a\"b\\c\nd\u{e9}\u{1}\t/";
        let mut s = String::from("\"");
        push_json_escaped(&mut s, text);
        s.push('"');
        assert_eq!(serde_json::from_str::<String>(&s).unwrap(), text);
    }

    /// The same description in both places: whole in the JSON body, reduced
    /// to the quotable set in the challenge.
    #[test]
    fn quotes_survive_in_the_body_only() {
        let rejection = Rejection::InvalidToken(Error::MissingClaim("client_id".into()));
        let r = Responder::default().respond(&rejection, &http::HeaderMap::new());
        let body: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(body["error_description"], "required claim \"client_id\" is missing");
        assert_eq!(body["code"], "missing_claim");
        assert!(
            header(&r, WWW_AUTHENTICATE).contains("error_description=\"required claim ?client_id? is missing\""),
            "{}",
            header(&r, WWW_AUTHENTICATE)
        );
    }

    /// RFC 6750 3.1: no error code for a request without authentication;
    /// the body agrees with the challenge and keeps the stable `code`.
    #[test]
    fn missing_token_body_has_no_error_member() {
        let r = Responder::default().respond(&Rejection::MissingToken, &http::HeaderMap::new());
        let body: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"error_description": "no access token in the request", "code": "missing_token"})
        );
    }
}
