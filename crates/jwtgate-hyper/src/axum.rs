//! Extractors for axum handlers (feature `axum`).

use std::any::type_name;
use std::convert::Infallible;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::header::CACHE_CONTROL;
use http::request::Parts;
use http::{Extensions, HeaderValue, StatusCode};

use crate::claims::{AuthContext, RegisteredClaims, VerifiedClaims};
use crate::rejection::{Rejection, Responder};

/// The extractor's refusal: the request carries no verified token, because
/// the route is not behind [`JwtAuthLayer`](crate::JwtAuthLayer) or the
/// layer is in optional mode and no token came. Answered like a missing
/// token (`401`); use `Option<VerifiedClaims<T>>` to accept both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotAuthenticated;

impl IntoResponse for NotAuthenticated {
    fn into_response(self) -> Response {
        Responder::default().respond(&Rejection::MissingToken, &http::HeaderMap::new()).map(axum_core::body::Body::from)
    }
}

/// The refusal of the [`VerifiedClaims<T>`] extractor (and of
/// `Option<VerifiedClaims<T>>`).
///
/// Either there is no verified token (answered like [`NotAuthenticated`],
/// `401`), or there is one but the layer stored its claims as another type
/// than the handler asks for: a [`JwtAuthLayer`](crate::JwtAuthLayer)
/// configured with `.claims::<AppClaims>()` in front of a handler taking
/// `VerifiedClaims` (the default JSON map), or the reverse. Handlers and
/// layers are typed separately in axum, so the compiler cannot catch
/// that; it is a bug in the service, answered `500` (empty body, the
/// client can do nothing about it) and logged as an error naming both
/// types. Treating it as "no token" would send a valid caller a misleading
/// 401 and, through `Option`, treat it as anonymous.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimsRejection(Kind);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    NotAuthenticated,
    TypeMismatch,
}

impl ClaimsRejection {
    /// The status it is answered with: `401` (no verified token) or `500`
    /// (the handler's claims type differs from the layer's).
    #[must_use]
    pub const fn status(&self) -> StatusCode {
        match self.0 {
            Kind::NotAuthenticated => StatusCode::UNAUTHORIZED,
            Kind::TypeMismatch => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<NotAuthenticated> for ClaimsRejection {
    fn from(_: NotAuthenticated) -> Self {
        Self(Kind::NotAuthenticated)
    }
}

impl IntoResponse for ClaimsRejection {
    fn into_response(self) -> Response {
        match self.0 {
            Kind::NotAuthenticated => NotAuthenticated.into_response(),
            Kind::TypeMismatch => {
                let mut response = Response::new(axum_core::body::Body::empty());
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
                response
            }
        }
    }
}

/// The claims of the request as `VerifiedClaims<T>`: `Ok(None)` without a
/// verified token, an error when the token's claims were stored as
/// another type.
fn stored_claims<T: Clone + Send + Sync + 'static>(
    extensions: &Extensions,
) -> Result<Option<VerifiedClaims<T>>, ClaimsRejection> {
    if let Some(claims) = extensions.get::<VerifiedClaims<T>>() {
        return Ok(Some(claims.clone()));
    }
    // The layer inserts both or neither: registered claims without ours
    // mean a verified token whose claims went in as another `T`.
    if extensions.get::<RegisteredClaims>().is_none() {
        return Ok(None);
    }
    let stored = extensions.get::<AuthContext>().map_or("another claims type", |c| c.claims_type);
    tracing::error!(
        wanted = type_name::<T>(),
        stored,
        "a handler asks for claims of a type the JwtAuthLayer does not store: make the extractor's type the \
         layer's `.claims::<T>()` type; the request is answered 500"
    );
    Err(ClaimsRejection(Kind::TypeMismatch))
}

impl<S: Sync, T: Clone + Send + Sync + 'static> FromRequestParts<S> for VerifiedClaims<T> {
    type Rejection = ClaimsRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        stored_claims::<T>(&parts.extensions)?.ok_or(ClaimsRejection(Kind::NotAuthenticated))
    }
}

impl<S: Sync, T: Clone + Send + Sync + 'static> OptionalFromRequestParts<S> for VerifiedClaims<T> {
    type Rejection = ClaimsRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        stored_claims::<T>(&parts.extensions)
    }
}

impl<S: Sync> FromRequestParts<S> for RegisteredClaims {
    type Rejection = NotAuthenticated;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Self>().cloned().ok_or(NotAuthenticated)
    }
}

impl<S: Sync> OptionalFromRequestParts<S> for RegisteredClaims {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Self>().cloned())
    }
}
