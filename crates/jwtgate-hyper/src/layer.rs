//! [`JwtAuthLayer`]: the middleware's configuration.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, Response};
use jwtgate_verify::{KeyResolver, TokenCache, TokenCacheStats, Verifier};
use tower_layer::Layer;

use crate::claims::JsonMap;
use crate::rejection::{Rejection, Responder};
use crate::service::JwtAuth;
use crate::stats::AuthStats;
use crate::token_source::TokenSource;

/// Everything a [`JwtAuth`] service needs, shared by all its clones.
pub(crate) struct Config<V> {
    pub(crate) verifier: Arc<V>,
    pub(crate) sources: Vec<TokenSource>,
    /// Shared with every request the layer lets through (see
    /// [`AuthContext`](crate::claims::AuthContext)), hence the `Arc`.
    pub(crate) responder: Arc<Responder>,
    pub(crate) skip_paths: Vec<String>,
    pub(crate) optional: bool,
    pub(crate) scopes: Arc<[String]>,
    pub(crate) forward: Vec<(String, HeaderName)>,
    pub(crate) stats: Arc<AuthStats>,
    /// Verified tokens, answered without their signature check; see
    /// [`JwtAuthLayer::token_cache`].
    pub(crate) cache: Option<Arc<TokenCache>>,
}

/// A [`tower_layer::Layer`] that authenticates every request with a JWT
/// access token before the wrapped service sees it.
///
/// `V` is the verifier: a [`Verifier`](jwtgate_verify::Verifier) over any
/// key source (a static `KeySet`, a `jwtgate_jwks::JwksSource`) or an
/// [`IssuerRouter`](jwtgate_verify::IssuerRouter). `T` is the type the
/// claims are deserialized into (see [`VerifiedClaims`](crate::VerifiedClaims)).
///
/// Cloning is cheap (one reference count); configure it once at start-up.
pub struct JwtAuthLayer<V, T = JsonMap> {
    config: Arc<Config<V>>,
    claims: PhantomData<fn() -> T>,
}

// By hand: derived `Clone` would ask `V: Clone`, and `V` sits behind an `Arc`.
impl<V> Clone for Config<V> {
    fn clone(&self) -> Self {
        Self {
            verifier: Arc::clone(&self.verifier),
            sources: self.sources.clone(),
            responder: Arc::clone(&self.responder),
            skip_paths: self.skip_paths.clone(),
            optional: self.optional,
            scopes: Arc::clone(&self.scopes),
            forward: self.forward.clone(),
            stats: Arc::clone(&self.stats),
            cache: self.cache.clone(),
        }
    }
}

impl<V, T> Clone for JwtAuthLayer<V, T> {
    fn clone(&self) -> Self {
        Self { config: Arc::clone(&self.config), claims: PhantomData }
    }
}

impl<V, T> std::fmt::Debug for JwtAuthLayer<V, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtAuthLayer")
            .field("sources", &self.config.sources)
            .field("responder", &self.config.responder)
            .field("skip_paths", &self.config.skip_paths)
            .field("optional", &self.config.optional)
            .field("scopes", &self.config.scopes)
            .finish_non_exhaustive()
    }
}

impl<V> JwtAuthLayer<V> {
    /// Authenticates with `verifier`, reading `Authorization: Bearer`.
    ///
    /// Defaults: realm `api`, no skipped paths, a token is required, no
    /// scope is required, no claims forwarded, `Retry-After: 10` on 503.
    pub fn new(verifier: V) -> Self {
        Self::from_shared(Arc::new(verifier))
    }

    /// As [`JwtAuthLayer::new`], for a verifier you also use elsewhere.
    pub fn from_shared(verifier: Arc<V>) -> Self {
        Self {
            config: Arc::new(Config {
                verifier,
                sources: vec![TokenSource::authorization_header()],
                responder: Arc::new(Responder::default()),
                skip_paths: Vec::new(),
                optional: false,
                scopes: Arc::from([]),
                forward: Vec::new(),
                stats: Arc::default(),
                cache: None,
            }),
            claims: PhantomData,
        }
    }
}

impl<V, T> JwtAuthLayer<V, T> {
    fn config_mut(&mut self) -> &mut Config<V> {
        Arc::make_mut(&mut self.config)
    }

    fn responder_mut(&mut self) -> &mut Responder {
        Arc::make_mut(&mut self.config_mut().responder)
    }

    /// Deserializes the claims of every accepted token into `U` (serde).
    ///
    /// A token whose claims do not fit `U` is refused: `missing_claim`
    /// when a field `U` requires is absent, `invalid_claim` otherwise. The
    /// `error_description` names the field when `U` is a struct and the
    /// field is one of its own (`required claim "tenant" is missing`,
    /// `claim "tenant" is invalid`), never a value; the log line (info) adds
    /// the kind of serde error, the type expected and the position.
    ///
    /// Handlers must ask for the same type: with the `axum` feature, a
    /// `VerifiedClaims<X>` extractor behind a layer that stores
    /// `VerifiedClaims<U>` answers `500` and logs an error naming both.
    #[must_use]
    pub fn claims<U>(self) -> JwtAuthLayer<V, U> {
        JwtAuthLayer { config: self.config, claims: PhantomData }
    }

    /// Where to look for the token, replacing the default
    /// (`Authorization: Bearer` only). A request presenting more than one
    /// token is refused with `400 invalid_request`.
    #[must_use]
    pub fn token_sources(mut self, sources: impl IntoIterator<Item = TokenSource>) -> Self {
        self.config_mut().sources = sources.into_iter().collect();
        self
    }

    /// The `realm` of the `WWW-Authenticate` challenge. A
    /// [`RequireScopesLayer`](crate::RequireScopesLayer) behind this layer
    /// uses it too (and `resource_metadata`, `retry_after`,
    /// `map_rejection`), unless given a realm of its own.
    #[must_use]
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.responder_mut().realm = realm.into();
        self
    }

    /// Adds `resource_metadata="<url>"` to every challenge (RFC 9728 5.1),
    /// so clients can discover which authorization server to ask.
    #[must_use]
    pub fn resource_metadata(mut self, url: impl Into<String>) -> Self {
        self.responder_mut().resource_metadata = Some(url.into());
        self
    }

    /// The `Retry-After` of a `503` (key source unavailable).
    #[must_use]
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.responder_mut().retry_after = after;
        self
    }

    /// Rewrites refusals: `map` gets the refusal and the default response
    /// (status, `WWW-Authenticate`, small JSON body) and returns the one to
    /// send. For a different status mapping or body format.
    #[must_use]
    pub fn map_rejection<F>(mut self, map: F) -> Self
    where
        F: Fn(&Rejection, Response<Bytes>) -> Response<Bytes> + Send + Sync + 'static,
    {
        self.responder_mut().map = Some(Arc::new(map));
        self
    }

    /// Lets requests for exactly `path` through without a token (health
    /// checks). The comparison is exact and byte-wise: `/healthz/` and
    /// `/healthz/../admin` are not `/healthz`.
    #[must_use]
    pub fn skip_path(mut self, path: impl Into<String>) -> Self {
        self.config_mut().skip_paths.push(path.into());
        self
    }

    /// Optional authentication: a request without a token reaches the
    /// service with no claims in its extensions. A request with a token
    /// that fails is still refused.
    #[must_use]
    pub fn optional(mut self) -> Self {
        self.config_mut().optional = true;
        self
    }

    /// Requires every one of `scopes` (from `scope` or `scp`) on every
    /// request; `403 insufficient_scope` otherwise. For per-route scopes use
    /// [`RequireScopesLayer`](crate::RequireScopesLayer).
    #[must_use]
    pub fn require_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.config_mut().scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Passes the verified claim `claim` to the inner service as header
    /// `header` (strings as they are, other JSON values as JSON text).
    ///
    /// # Security
    ///
    /// On every request (accepted, anonymous, skipped or refused), every
    /// incoming header whose name equals `header` once `_` is read as `-`
    /// is removed first (`x_user_id` as well as `x-user-id`: CGI, WSGI,
    /// PHP and nginx with `underscores_in_headers` turn both into
    /// `HTTP_X_USER_ID`), so a caller cannot forge it.
    ///
    /// A value is forwarded only if it is visible ASCII (`0x21..=0x7E`)
    /// with inner spaces allowed: no leading or trailing space, no control
    /// character (tab included), no byte above `0x7E`. Anything else would
    /// reach the upstream changed (trimmed by its parser, or decoded in
    /// another charset), so it is not forwarded at all: the header is
    /// absent, a warning is logged (claim and header names, never the
    /// value) and [`AuthStats::claims_not_forwarded`] counts it. The
    /// request itself is still accepted.
    #[must_use]
    pub fn forward_claim(mut self, claim: impl Into<String>, header: HeaderName) -> Self {
        self.config_mut().forward.push((claim.into(), header));
        self
    }

    /// Decision counters, by outcome, shared with every service this layer
    /// builds.
    #[must_use]
    pub fn stats(&self) -> Arc<AuthStats> {
        Arc::clone(&self.config.stats)
    }

    /// Removes from `headers` every header that could pass for one this
    /// layer forwards ([`JwtAuthLayer::forward_claim`]: the same names, and
    /// the same with `_` for `-`). The layer does it to every request it
    /// sees; call it on requests that are routed around the layer (paths
    /// that need no token) before they reach a service that trusts those
    /// headers.
    pub fn remove_forwarded_headers(&self, headers: &mut http::HeaderMap) {
        self.config.strip_forwarded(headers);
    }

    /// The token cache's counters (hits, misses, insertions, evictions,
    /// invalidations by rotation), if [`JwtAuthLayer::token_cache`] is on.
    #[must_use]
    pub fn token_cache_stats(&self) -> Option<TokenCacheStats> {
        self.config.cache.as_ref().map(|c| c.stats())
    }
}

impl<R: KeyResolver, T> JwtAuthLayer<Verifier<R>, T> {
    /// Keeps up to `max_entries` verified tokens (default: off): a caller
    /// reusing its token for minutes then costs a hash lookup and the claim
    /// checks per request, not a signature check. Every hit re-runs the
    /// time checks (`exp`, `nbf`, max age), the other claim checks and
    /// revocation, and requires the key that verified the token to still
    /// be in the key set; failures are never cached. See
    /// [`TokenCache`] for the bounds. (Only for a single
    /// [`Verifier`]: for an `IssuerRouter`, give its verifiers their own
    /// caches with `VerifierBuilder::token_cache`; it uses the cache of the
    /// verifier the token's `iss` picks.)
    pub fn token_cache(mut self, max_entries: usize) -> Self {
        self.config_mut().cache = Some(Arc::new(TokenCache::new(max_entries)));
        self
    }
}

impl<S, V, T> Layer<S> for JwtAuthLayer<V, T> {
    type Service = JwtAuth<S, V, T>;

    fn layer(&self, inner: S) -> Self::Service {
        JwtAuth::new(inner, Arc::clone(&self.config))
    }
}
