//! [`RequireScopesLayer`]: per-route scope checks behind [`JwtAuth`](crate::JwtAuth).

use std::borrow::Cow;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::body::ResponseBody;
use crate::claims::{AuthContext, RegisteredClaims};
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
///
/// Refusals are answered the way the [`JwtAuthLayer`](crate::JwtAuthLayer)
/// in front answers its own: same realm, `resource_metadata`,
/// `Retry-After` and `map_rejection` hook, read from the request the auth
/// layer let through, so the two cannot disagree. Only outside any auth
/// layer does it fall back to the defaults (realm `api`).
#[derive(Clone, Debug)]
pub struct RequireScopesLayer {
    scopes: Arc<[String]>,
    realm: Option<Arc<str>>,
}

impl RequireScopesLayer {
    /// Requires every one of `scopes`.
    pub fn new<S: Into<String>>(scopes: impl IntoIterator<Item = S>) -> Self {
        Self { scopes: scopes.into_iter().map(Into::into).collect(), realm: None }
    }

    /// A `realm` for this layer's challenges that differs from the auth
    /// layer's; the rest of the auth layer's answer is kept. Without it,
    /// the auth layer's realm is used (usually what you want).
    #[must_use]
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Some(Arc::from(realm.into()));
        self
    }
}

impl<S> Layer<S> for RequireScopesLayer {
    type Service = RequireScopes<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireScopes { inner, scopes: Arc::clone(&self.scopes), realm: self.realm.clone() }
    }
}

/// The service of [`RequireScopesLayer`].
#[derive(Clone, Debug)]
pub struct RequireScopes<S> {
    inner: S,
    scopes: Arc<[String]>,
    realm: Option<Arc<str>>,
}

impl<S> RequireScopes<S> {
    /// The auth layer's responder (or the default outside one), with this
    /// layer's realm if it has its own. Only built for a refusal.
    fn responder<'r>(&self, auth: Option<&'r AuthContext>) -> Cow<'r, Responder> {
        let base = auth.map_or_else(|| Cow::Owned(Responder::default()), |c| Cow::Borrowed(&*c.responder));
        match &self.realm {
            None => base,
            Some(realm) => {
                let mut own = base.into_owned();
                own.realm = (**realm).to_owned();
                Cow::Owned(own)
            }
        }
    }
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
        let responder = self.responder(req.extensions().get::<AuthContext>());
        ResponseFuture::rejected(responder.respond(&rejection, req.headers()))
    }
}
