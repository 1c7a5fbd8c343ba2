//! Extractors for axum handlers (feature `axum`).

use std::convert::Infallible;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;

use crate::claims::{RegisteredClaims, VerifiedClaims};
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

impl<S: Sync, T: Clone + Send + Sync + 'static> FromRequestParts<S> for VerifiedClaims<T> {
    type Rejection = NotAuthenticated;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Self>().cloned().ok_or(NotAuthenticated)
    }
}

impl<S: Sync, T: Clone + Send + Sync + 'static> OptionalFromRequestParts<S> for VerifiedClaims<T> {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Self>().cloned())
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
