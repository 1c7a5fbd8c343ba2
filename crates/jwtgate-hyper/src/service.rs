//! [`JwtAuth`]: the middleware's service.

use std::borrow::Cow;
use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use jwtgate_verify::{Error, RawValue, Scratch, TokenVerifier, Verified};
use serde::de::DeserializeOwned;
use tower_service::Service;

use crate::body::ResponseBody;
use crate::claims::{AuthContext, JsonMap, RegisteredClaims, VerifiedClaims};
use crate::future::{ResponseFuture, rejection_response};
use crate::layer::Config;
use crate::rejection::Rejection;
use crate::token_source::{extract, strip_protocol_tokens};

/// Authenticates each request before passing it to `S`. Built by
/// [`JwtAuthLayer`](crate::JwtAuthLayer).
///
/// A refused request is answered here (`Ok` with a 400/401/403/503
/// response) and never reaches `S`.
pub struct JwtAuth<S, V, T = JsonMap> {
    inner: S,
    config: Arc<Config<V>>,
    claims: PhantomData<fn() -> T>,
}

impl<S: Clone, V, T> Clone for JwtAuth<S, V, T> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), config: Arc::clone(&self.config), claims: PhantomData }
    }
}

impl<S: std::fmt::Debug, V, T> std::fmt::Debug for JwtAuth<S, V, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtAuth").field("inner", &self.inner).finish_non_exhaustive()
    }
}

impl<S, V, T> JwtAuth<S, V, T> {
    pub(crate) const fn new(inner: S, config: Arc<Config<V>>) -> Self {
        Self { inner, config, claims: PhantomData }
    }

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

/// What a verified token adds to its request.
struct Admitted<T> {
    claims: VerifiedClaims<T>,
    forward: Vec<(usize, HeaderValue)>,
}

/// The decision for one request, made while its headers are borrowed.
enum Decision<T> {
    Admit(Admitted<T>),
    Anonymous,
    Reject(Rejection),
    /// The keys in hand could not judge the token; ask the source again.
    Refresh(String),
}

/// Left in the extensions of every response the middleware answers itself
/// (a refusal): the stable rejection code, for access logs and metrics
/// around the layer. A response without it came from the wrapped service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused(pub &'static str);

impl<V> Config<V> {
    /// Removes every incoming header that could pass for a forwarded one.
    pub(crate) fn strip_forwarded(&self, headers: &mut HeaderMap) {
        if self.forward.is_empty() {
            return;
        }
        // Collected first (no allocation when nothing matches): a
        // `HeaderMap` cannot drop entries while its names are borrowed.
        let doomed: Vec<HeaderName> = headers
            .keys()
            .filter(|incoming| self.forward.iter().any(|(_, name)| read_alike(incoming, name)))
            .cloned()
            .collect();
        for name in &doomed {
            headers.remove(name);
        }
    }

    /// Leaves the auth layer's context for the layers and extractors
    /// behind it, on every request it lets through.
    fn mark<T: 'static, B>(&self, req: &mut Request<B>) {
        strip_protocol_tokens(&self.sources, req.headers_mut());
        req.extensions_mut()
            .insert(AuthContext { responder: Arc::clone(&self.responder), claims_type: std::any::type_name::<T>() });
    }
}

impl<V: TokenVerifier> Config<V> {
    /// Everything after the signature and claim checks: the claims type,
    /// the scopes, the forwarded headers.
    fn admit<T: DeserializeOwned>(&self, verified: &Verified<'_>) -> Result<Admitted<T>, Rejection> {
        let registered = RegisteredClaims::from_verified(verified);
        if !registered.has_scopes(&self.scopes) {
            return Err(Rejection::InsufficientScope(Arc::clone(&self.scopes)));
        }
        // Not `Verified::claims_as`: its error says only "custom claims";
        // this one names the field and logs why (see `custom`).
        let custom = crate::custom::deserialize::<T>(verified.claims()).map_err(Rejection::InvalidToken)?;
        let forward = self
            .forward
            .iter()
            .enumerate()
            .filter_map(|(i, (claim, header))| {
                let value = verified.claims().get(claim)?;
                let forwardable = header_value(value);
                if forwardable.is_none() {
                    self.stats.record_claim_not_forwarded();
                    tracing::warn!(
                        claim = claim.as_str(),
                        header = header.as_str(),
                        "claim not forwarded: its value is not visible ASCII without leading or trailing spaces"
                    );
                }
                Some((i, forwardable?))
            })
            .collect();
        Ok(Admitted { claims: VerifiedClaims::new(registered, custom), forward })
    }

    fn judge<T: DeserializeOwned>(&self, verified: Result<Verified<'_>, Error>) -> Result<Admitted<T>, Rejection> {
        verified.map_err(Rejection::from_error).and_then(|v| self.admit(&v))
    }

    /// Records and logs a request let through (`None`: anonymous).
    fn record_pass<T>(&self, path: &str, admitted: Option<&Admitted<T>>) {
        let Some(admitted) = admitted else {
            self.stats.record("anonymous");
            return;
        };
        self.stats.record("accepted");
        let r = admitted.claims.registered();
        tracing::debug!(path, iss = r.issuer().unwrap_or("-"), kid = r.kid().unwrap_or("-"), "request authenticated");
    }

    /// Records and logs a refusal, and makes its response.
    fn refuse<B>(&self, request: &Request<B>, rejection: &Rejection) -> Response<Bytes> {
        let path = request.uri().path();
        let code = rejection.code();
        self.stats.record(code);
        tracing::info!(path, code, status = rejection.status().as_u16(), "request refused");
        let mut response = self.responder.respond(rejection, request.headers());
        response.extensions_mut().insert(Refused(code));
        response
    }
}

impl<T: Clone + Send + Sync + 'static> Admitted<T> {
    fn apply<B, V>(self, config: &Config<V>, req: &mut Request<B>) {
        for (i, value) in self.forward {
            if let Some((_, name)) = config.forward.get(i) {
                req.headers_mut().insert(name, value);
            }
        }
        config.mark::<T, _>(req);
        req.extensions_mut().insert(self.claims.registered().clone());
        req.extensions_mut().insert(self.claims);
    }
}

/// `true` if header names `a` and `b` are the same once `_` is read as
/// `-` (and case is ignored, though `HeaderName`s are lowercase already):
/// the mapping CGI-style gateways apply (`X-User-Id` and `x_user_id` both
/// become `HTTP_X_USER_ID`, and Rack, PHP or WSGI hand the application
/// either one under that name). A proxy that removes or refuses a header
/// must do it for every name read alike.
#[must_use]
pub fn read_alike(a: &HeaderName, b: &HeaderName) -> bool {
    let fold = |c: u8| if c == b'_' { b'-' } else { c.to_ascii_lowercase() };
    let (a, b) = (a.as_str().as_bytes(), b.as_str().as_bytes());
    a.len() == b.len() && a.iter().zip(b).all(|(&x, &y)| fold(x) == fold(y))
}

/// A forwarded claim as a header value: a string as it is, anything else as
/// its JSON text; `None` when that text is not [`forwardable`].
fn header_value(value: RawValue<'_>) -> Option<HeaderValue> {
    let text: Cow<'_, str> = match value.as_str() {
        Some(s) => match s.as_str() {
            Some(plain) => Cow::Borrowed(plain),
            None => Cow::Owned(s.chars().collect()),
        },
        None => Cow::Borrowed(value.as_json()),
    };
    if forwardable(&text) { HeaderValue::from_str(&text).ok() } else { None }
}

/// Visible ASCII (`0x21..=0x7E`) with spaces inside only: text an upstream
/// reads back unchanged. A leading or trailing space would be trimmed by
/// its parser (`"alice "` becomes `alice`), a control character or a byte
/// above `0x7E` is refused or decoded differently by different servers.
fn forwardable(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().all(|&b| matches!(b, b' '..=b'~')) && bytes.first() != Some(&b' ') && bytes.last() != Some(&b' ')
}

thread_local! {
    /// One scratch buffer per thread, reused: zeroing 12 KiB for every
    /// request would cost more than the rest of the middleware.
    static SCRATCH: RefCell<Scratch> = const { RefCell::new(Scratch::new()) };
}

/// Runs `f` with this thread's scratch buffer, or a fresh one if it is in
/// use (only possible if a verifier hook re-entered the middleware).
fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => f(&mut scratch),
        Err(_) => f(&mut Scratch::new()),
    })
}

/// Keys in hand that cannot judge the token: a refreshing source might.
const fn worth_refreshing(e: &Error) -> bool {
    matches!(e, Error::KeyNotFound | Error::KeySourceUnavailable(_))
}

impl<S, V, T, ReqBody, ResBody> Service<Request<ReqBody>> for JwtAuth<S, V, T>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: 'static,
    V: TokenVerifier + 'static,
    T: DeserializeOwned + Clone + Send + Sync + 'static,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let config = &*self.config;
        // Before anything else, so no path (skipped, anonymous, refused)
        // lets a forged value through.
        config.strip_forwarded(req.headers_mut());
        if config.skip_paths.iter().any(|p| p == req.uri().path()) {
            config.stats.record("skipped");
            config.mark::<T, _>(&mut req);
            return ResponseFuture::inner(self.inner.call(req));
        }

        let decision: Decision<T> = match extract(&config.sources, req.headers(), req.uri()) {
            Err(bad) => Decision::Reject(Rejection::InvalidRequest(bad.description())),
            Ok(None) if config.optional => Decision::Anonymous,
            Ok(None) => Decision::Reject(Rejection::MissingToken),
            Ok(Some(token)) => with_scratch(|scratch| {
                match config.verifier.verify_before_refresh_with(config.cache.as_deref(), &token, scratch) {
                    Err(e) if V::REFRESHES && worth_refreshing(&e) => Decision::Refresh(token.into_owned()),
                    outcome => match config.judge(outcome) {
                        Ok(admitted) => Decision::Admit(admitted),
                        Err(rejection) => Decision::Reject(rejection),
                    },
                }
            }),
        };

        match decision {
            Decision::Admit(admitted) => {
                config.record_pass(req.uri().path(), Some(&admitted));
                admitted.apply(config, &mut req);
                ResponseFuture::inner(self.inner.call(req))
            }
            Decision::Anonymous => {
                config.record_pass::<T>(req.uri().path(), None);
                config.mark::<T, _>(&mut req);
                ResponseFuture::inner(self.inner.call(req))
            }
            Decision::Reject(rejection) => ResponseFuture::rejected(config.refuse(&req, &rejection)),
            Decision::Refresh(token) => {
                // `inner` is the clone that was polled ready; leave a fresh
                // clone behind for the next request (tower's guidance).
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                let config = Arc::clone(&self.config);
                ResponseFuture::refreshing(Box::pin(async move {
                    let mut scratch = Box::new(Scratch::new());
                    let judged = config.judge::<T>(
                        config.verifier.verify_async_with(config.cache.as_deref(), &token, &mut scratch).await,
                    );
                    match judged {
                        Ok(admitted) => {
                            config.record_pass(req.uri().path(), Some(&admitted));
                            admitted.apply(&config, &mut req);
                            inner.call(req).await.map(|r| r.map(ResponseBody::inner))
                        }
                        Err(rejection) => Ok(rejection_response(config.refuse(&req, &rejection))),
                    }
                }))
            }
        }
    }
}
