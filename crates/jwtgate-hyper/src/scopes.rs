//! [`RequireScopesLayer`]: per-route scope checks behind [`JwtAuth`](crate::JwtAuth).

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::body::ResponseBody;
use crate::claims::RegisteredClaims;
use crate::future::ResponseFuture;
use crate::rejection::{Rejection, Responder};

/// Refuses requests whose verified token lacks any of a set of scopes
/// (`403 insufficient_scope`, RFC 6750 3.1). Mount it inside a
/// [`JwtAuthLayer`](crate::JwtAuthLayer), on the routes that need it (with
/// axum: `route_layer`).
///
/// Scopes come from the `scope` claim (space-separated, RFC 9068) or else
/// the `scp` array. A request with no verified token at all (optional
/// authentication, or the auth layer not mounted) gets `401`.
#[derive(Clone, Debug)]
pub struct RequireScopesLayer {
    scopes: Arc<[String]>,
    responder: Responder,
}

impl RequireScopesLayer {
    /// Requires every one of `scopes`.
    pub fn new<S: Into<String>>(scopes: impl IntoIterator<Item = S>) -> Self {
        Self { scopes: scopes.into_iter().map(Into::into).collect(), responder: Responder::default() }
    }

    /// The `realm` of the challenge (match your [`JwtAuthLayer`](crate::JwtAuthLayer)'s).
    #[must_use]
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.responder.realm = realm.into();
        self
    }
}

impl<S> Layer<S> for RequireScopesLayer {
    type Service = RequireScopes<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireScopes { inner, scopes: Arc::clone(&self.scopes), responder: self.responder.clone() }
    }
}

/// The service of [`RequireScopesLayer`].
#[derive(Clone, Debug)]
pub struct RequireScopes<S> {
    inner: S,
    scopes: Arc<[String]>,
    responder: Responder,
}

impl<S> RequireScopes<S> {
    /// The wrapped service.
    pub const fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub const fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The wrapped service, by value.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequireScopes<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let rejection = match req.extensions().get::<RegisteredClaims>() {
            None => Rejection::MissingToken,
            Some(claims) if !claims.has_scopes(&self.scopes) => Rejection::InsufficientScope(Arc::clone(&self.scopes)),
            Some(_) => return ResponseFuture::inner(self.inner.call(req)),
        };
        tracing::info!(path = req.uri().path(), code = rejection.code(), "request refused");
        ResponseFuture::rejected(self.responder.respond(&rejection, req.headers()))
    }
}
