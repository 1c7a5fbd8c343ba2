//! Refusals for gRPC calls. A gRPC client reads the outcome from the
//! `grpc-status` trailer (or, for a refusal before any message, the
//! headers of a "trailers-only" response with HTTP status 200), not from
//! the HTTP status, so a 401 would reach it as an opaque transport error.

use bytes::Bytes;
use http::{HeaderMap, Response};

use crate::rejection::Rejection;

/// `true` for gRPC requests (`application/grpc`, `application/grpc+proto`, ...).
pub(crate) fn is_grpc(headers: &HeaderMap) -> bool {
    headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        // `application/grpc`, `+proto`, `+json`, `; charset=...`; not
        // `application/grpc-web` (browsers read HTTP statuses there).
        let (Some(prefix), rest) = (v.get(..16), v.get(16..).unwrap_or_default()) else { return false };
        prefix.eq_ignore_ascii_case("application/grpc")
            && (rest.is_empty() || rest.starts_with('+') || rest.starts_with(';'))
    })
}

/// The gRPC status code for a refusal: `UNAUTHENTICATED` (16) for a missing
/// or bad token, `PERMISSION_DENIED` (7) for a missing scope, `UNAVAILABLE`
/// (14, which clients may retry) when the keys cannot be had.
pub(crate) const fn code(rejection: &Rejection) -> tonic::Code {
    match rejection {
        Rejection::MissingToken | Rejection::InvalidRequest(_) | Rejection::InvalidToken(_) => {
            tonic::Code::Unauthenticated
        }
        Rejection::InsufficientScope(_) => tonic::Code::PermissionDenied,
        Rejection::Unavailable(_) => tonic::Code::Unavailable,
    }
}

/// A trailers-only gRPC response carrying `tonic::Status(code, description)`.
pub(crate) fn response(rejection: &Rejection, description: &str) -> Response<Bytes> {
    let status = tonic::Status::new(code(rejection), description);
    let mut response = Response::new(Bytes::new());
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/grpc"));
    if status.add_header(headers).is_err() {
        // Only a message that cannot be percent-encoded fails; the code alone
        // still tells the client what happened.
        headers.insert("grpc-status", http::HeaderValue::from(code(rejection) as i32));
    }
    response
}
