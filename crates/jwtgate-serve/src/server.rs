//! The listener: HTTP/1.1 and h2c on one port, `/.jwtgate/` beside the
//! rules, each rule's middleware in front of the auth endpoint or the
//! upstream, graceful shutdown.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, Method, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use jwtgate_hyper::{JwtAuthLayer, Refused, RegisteredClaims, TokenSource, read_alike};
use jwtgate_jwks::{JwksConfig, JwksSource};
use jwtgate_revoke::{RedisConfig, RedisSync};
use jwtgate_verify::{IssuerRouter, KeySet, TokenVerifier, Verifier};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::util::BoxCloneSyncService;
use tower::{Layer as _, ServiceExt};

use crate::endpoint::{AuthEndpoint, Described, original_request};
use crate::issuer_keys::IssuerKeys;
use crate::metrics::{Metrics, Sources};
use crate::options::{Access, Issuer, Keys, Options, Rule};
use crate::proxy::{Peer, Proxy};
use crate::rules::{Rules, method_ambiguity};

/// An error of a body: the upstream's, passed on.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body of every answer (the upstream's streamed through, or a few
/// bytes of our own).
pub type Body = UnsyncBoxBody<Bytes, BoxError>;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// An option that cannot work, named.
    #[error("{0}")]
    Config(String),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Whether every key source has keys and the revocation list is in sync.
type Ready = Arc<dyn Fn() -> bool + Send + Sync>;

/// A rule's service: its middleware over the mode's inner service.
type RuleService = BoxCloneSyncService<Request<Incoming>, Response<Body>, Infallible>;

/// Longest wait for a request's head, and for the next request on an idle
/// keep-alive connection.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A bound server, not yet serving.
pub struct Server {
    listener: TcpListener,
    router: Router,
    grace: Duration,
    max_connections: usize,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("addr", &self.listener.local_addr().ok()).finish_non_exhaustive()
    }
}

/// A verifier shared by the rules that accept the same issuers.
#[derive(Clone)]
enum Shared {
    One(Arc<Verifier<IssuerKeys>>),
    Many(Arc<IssuerRouter<IssuerKeys>>),
}

impl Server {
    /// Builds the verifiers, the key sources (a remote source starts
    /// fetching in the background: the server listens at once and answers
    /// 503 until keys arrive) and the rules, and binds the address.
    ///
    /// # Errors
    ///
    /// [`ServeError`]: an option that cannot work, or the address taken.
    pub async fn bind(options: Options) -> Result<Self, ServeError> {
        check(&options)?;
        let rules = Rules::new(options.rules.clone()).map_err(ServeError::Config)?;
        let revocation = follow_revocations(&options)?;
        let mut sources = Sources { revocation: revocation.clone(), ..Sources::default() };

        let mut keys = Vec::with_capacity(options.issuers.len());
        for issuer in &options.issuers {
            let (resolver, algorithms) = issuer_keys(&options, issuer)?;
            if let IssuerKeys::Fetched(source) = &resolver {
                sources.key_sources.push((issuer.name.clone(), source.clone()));
            }
            keys.push((resolver, algorithms));
        }

        // One verifier per distinct set of accepted issuers, shared by the
        // rules that accept it (so one token cache serves them all).
        let mut shared: HashMap<Vec<usize>, Shared> = HashMap::new();
        let mut layers = Vec::with_capacity(options.rules.len());
        for rule in &options.rules {
            if rule.access == Access::Open {
                layers.push(None);
                continue;
            }
            let accepted = accepted_issuers(&options, rule)?;
            let verifier = match shared.get(&accepted) {
                Some(verifier) => verifier.clone(),
                None => {
                    let verifier = shared_verifier(&options, &accepted, &keys, revocation.as_ref())?;
                    match &verifier {
                        Shared::One(one) => sources.token_caches.push(one.clone()),
                        Shared::Many(many) => sources.token_caches.push(many.clone()),
                    }
                    shared.insert(accepted, verifier.clone());
                    verifier
                }
            };
            layers.push(Some(verifier));
        }

        let claim_headers: Vec<HeaderName> = options.claim_headers.iter().map(|(_, h)| h.clone()).collect();
        let mut rule_layers = Vec::with_capacity(layers.len());
        for (rule, verifier) in options.rules.iter().zip(layers) {
            rule_layers.push(verifier.map(|v| RuleLayer::new(&options, rule, v)));
        }
        sources.decisions = rule_layers.iter().flatten().map(RuleLayer::stats).collect();
        let claim_stripper = rule_layers.iter().flatten().next().cloned();
        let token_sources = token_sources(&options);
        let strip: Strip = Arc::new(move |headers: &mut HeaderMap| {
            if let Some(layer) = &claim_stripper {
                layer.strip(headers);
            }
        });
        let metrics = Arc::new(Metrics::new(sources));

        let inner: RuleService = match &options.upstream {
            Some(upstream) => {
                let tokens = if upstream.strip_token { token_sources } else { Vec::new() };
                BoxCloneSyncService::new(Proxy::new(upstream, claim_headers, tokens, Arc::clone(&metrics)))
            }
            None => BoxCloneSyncService::new(AuthEndpoint::new(claim_headers)),
        };
        let services: Vec<RuleService> = rule_layers
            .iter()
            .map(|layer| layer.as_ref().map_or_else(|| inner.clone(), |l| l.wrap(inner.clone())))
            .collect();

        let key_sources: Vec<JwksSource> = keys
            .iter()
            .filter_map(|(k, _)| if let IssuerKeys::Fetched(s) = k { Some(s.clone()) } else { None })
            .collect();
        let ready: Ready = Arc::new(move || {
            key_sources.iter().all(JwksSource::is_ready) && revocation.as_ref().is_none_or(RedisSync::is_ready)
        });

        let router = Router {
            rules: Arc::new(rules),
            services: services.into(),
            proxy: options.upstream.is_some(),
            ready,
            metrics,
            strip,
        };
        let listener = TcpListener::bind(options.listen)
            .await
            .map_err(|source| ServeError::Bind { addr: options.listen, source })?;
        Ok(Self { listener, router, grace: options.shutdown_grace, max_connections: options.max_connections.max(1) })
    }

    /// Where it listens (the port the OS chose for port 0).
    ///
    /// # Errors
    ///
    /// The OS cannot tell.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then stops accepting and lets
    /// requests in flight finish within the grace period
    /// ([`Options::shutdown_grace`]).
    pub async fn serve(self, shutdown: impl Future<Output = ()>) {
        let graceful = GracefulShutdown::new();
        let mut builder = auto::Builder::new(TokioExecutor::new());
        // Without a timer hyper enforces no timeout at all: a client that
        // sends its head a byte a minute, or never sends one, would hold a
        // connection for ever.
        builder.http1().timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
        builder
            .http2()
            .timer(TokioTimer::new())
            .keep_alive_interval(Some(Duration::from_secs(60)))
            .keep_alive_timeout(Duration::from_secs(20));
        let permits = Arc::new(Semaphore::new(self.max_connections.clamp(1, Semaphore::MAX_PERMITS)));
        tokio::pin!(shutdown);
        let mut accept_failures = 0_u32;
        loop {
            // A connection slot first, so that past the limit new clients
            // wait in the listen queue instead of being served badly.
            let permit = tokio::select! {
                () = &mut shutdown => break,
                permit = Arc::clone(&permits).acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
            };
            let accepted = tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => accepted,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => {
                    accept_failures = 0;
                    accepted
                }
                // One connection's failure: the next accept may succeed.
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionAborted
                            | std::io::ErrorKind::ConnectionReset
                            | std::io::ErrorKind::Interrupted
                    ) =>
                {
                    continue;
                }
                Err(e) => {
                    // Out of file descriptors, say: retrying at once would
                    // spin a core; a pause lets connections close.
                    if accept_failures == 0 {
                        tracing::warn!(error = %e, "cannot accept connections; retrying");
                    }
                    accept_failures = accept_failures.saturating_add(1);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let router = self.router.clone();
            let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(Peer(peer));
                router.clone().answer(req)
            });
            let (builder, watcher) = (builder.clone(), graceful.watcher());
            tokio::spawn(async move {
                // hyper's first read (to tell HTTP/1.1 from h2c) has no
                // timeout of its own: a client that connects and sends
                // nothing must not hold a connection slot for ever.
                let mut first = [0_u8; 1];
                match tokio::time::timeout(HEADER_READ_TIMEOUT, stream.peek(&mut first)).await {
                    Ok(Ok(n)) if n > 0 => {}
                    _ => return,
                }
                let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                if let Err(e) = watcher.watch(connection.into_owned()).await {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                drop(permit);
            });
        }
        tracing::info!(
            grace_ms = self.grace.as_millis(),
            "shutting down: no new connections, finishing requests in flight"
        );
        if tokio::time::timeout(self.grace, graceful.shutdown()).await.is_err() {
            tracing::warn!(
                grace_ms = self.grace.as_millis(),
                "requests still in flight after the grace period; closing"
            );
        }
    }
}

/// What cannot work, found before anything starts.
fn check(options: &Options) -> Result<(), ServeError> {
    if options.issuers.is_empty() {
        return Err(ServeError::Config("no issuer configured".into()));
    }
    for issuer in &options.issuers {
        if issuer.iss.is_empty() {
            return Err(ServeError::Config(format!("issuer {:?}: no iss value", issuer.name)));
        }
        if issuer.audiences.is_empty() {
            return Err(ServeError::Config(format!("issuer {:?}: no audience", issuer.name)));
        }
    }
    if options.rules.is_empty() {
        return Err(ServeError::Config("no route rule: every request would be refused".into()));
    }
    if !options.claim_headers.is_empty() && options.rules.iter().all(|r| r.access == Access::Open) {
        return Err(ServeError::Config("claim headers are set but no rule checks a token".into()));
    }
    Ok(())
}

/// The indexes of the issuers a rule accepts.
fn accepted_issuers(options: &Options, rule: &Rule) -> Result<Vec<usize>, ServeError> {
    if rule.issuers.is_empty() {
        return Ok((0..options.issuers.len()).collect());
    }
    let mut accepted = Vec::with_capacity(rule.issuers.len());
    for name in &rule.issuers {
        let index = options
            .issuers
            .iter()
            .position(|i| &i.name == name)
            .ok_or_else(|| ServeError::Config(format!("rule {:?}: no issuer is named {name:?}", rule.prefix)))?;
        accepted.push(index);
    }
    accepted.sort_unstable();
    accepted.dedup();
    Ok(accepted)
}

fn issuer_keys(options: &Options, issuer: &Issuer) -> Result<(IssuerKeys, Vec<jwtgate_verify::Algorithm>), ServeError> {
    let named = |what: String| ServeError::Config(format!("issuer {:?}: {what}", issuer.name));
    match &issuer.keys {
        Keys::File(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| named(format!("cannot read {}: {e}", path.display())))?;
            let keys = KeySet::from_key_document(&text)
                .map_err(|e| named(format!("{}: no usable key: {e}", path.display())))?;
            let algorithms = if issuer.algorithms.is_empty() { keys.algorithms() } else { issuer.algorithms.clone() };
            Ok((IssuerKeys::Fixed(keys), algorithms))
        }
        Keys::Url(location) | Keys::Discover(location) => {
            if issuer.algorithms.is_empty() {
                return Err(named(
                    "algorithms are required with a remote key source (the keys are not known before the first fetch)"
                        .into(),
                ));
            }
            let config = if matches!(issuer.keys, Keys::Url(_)) {
                JwksConfig::new(location.clone())
            } else {
                JwksConfig::discover(location.clone())
            };
            let source = key_source(options, config).map_err(named)?;
            Ok((IssuerKeys::Fetched(source), issuer.algorithms.clone()))
        }
    }
}

fn key_source(options: &Options, config: JwksConfig) -> Result<JwksSource, String> {
    let mut config = config.allow_insecure_loopback();
    if options.allow_insecure_http {
        config = config.danger_allow_insecure_http();
    }
    let timing = &options.key_timing;
    if let Some(ttl) = timing.min_ttl {
        config = config.min_ttl(ttl);
    }
    if let Some(ttl) = timing.max_ttl {
        config = config.max_ttl(ttl);
    }
    if let Some(cooldown) = timing.kid_cooldown {
        config = config.cooldown(cooldown);
    }
    if let Some(stale) = timing.max_stale {
        config = config.max_staleness(stale);
    }
    let read = |path: &std::path::Path| std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()));
    for path in &options.ca_certs {
        config = config.add_root_certificate_pem(&read(path)?);
    }
    if let Some((cert, key)) = &options.client_identity {
        config = config.client_identity_pem(&read(cert)?, &read(key)?);
    }
    config.build().map_err(|e| format!("key source: {e}"))
}

/// Starts following the revocation store, if one is configured (in the
/// background: until the first sync every token is 503
/// `revocation_unavailable` and readiness is false).
fn follow_revocations(options: &Options) -> Result<Option<RedisSync>, ServeError> {
    let Some(revocation) = &options.revocation else { return Ok(None) };
    let mut config = RedisConfig::new(revocation.redis_url.clone()).max_lag(revocation.max_lag);
    if revocation.fail_open {
        config = config.fail_open_when_out_of_sync();
    }
    config.sync().map(Some).map_err(|e| ServeError::Config(format!("revocation store: {e}")))
}

fn verifier(
    options: &Options,
    issuer: &Issuer,
    keys: &(IssuerKeys, Vec<jwtgate_verify::Algorithm>),
    revocation: Option<&RedisSync>,
) -> Result<Verifier<IssuerKeys>, ServeError> {
    let mut builder = Verifier::builder()
        .issuers(issuer.iss.iter().cloned())
        .audiences(issuer.audiences.iter().cloned())
        .algorithms(keys.1.clone())
        .leeway(options.leeway);
    if let Some(typ) = &options.typ {
        builder = builder.require_typ(typ.clone());
    }
    if options.token_cache > 0 {
        builder = builder.token_cache(options.token_cache);
    }
    if let Some(sync) = revocation {
        builder = builder.revocation(sync.clone());
    }
    builder.build(keys.0.clone()).map_err(|e| ServeError::Config(format!("issuer {:?}: {e}", issuer.name)))
}

/// The verifier for tokens of the `accepted` issuers: that issuer's own
/// for one, else an `IssuerRouter` choosing by `iss` (whose verifiers keep
/// their own token caches).
fn shared_verifier(
    options: &Options,
    accepted: &[usize],
    keys: &[(IssuerKeys, Vec<jwtgate_verify::Algorithm>)],
    revocation: Option<&RedisSync>,
) -> Result<Shared, ServeError> {
    let pick = |i: usize| -> Result<(&Issuer, &(IssuerKeys, Vec<jwtgate_verify::Algorithm>)), ServeError> {
        options.issuers.get(i).zip(keys.get(i)).ok_or_else(|| ServeError::Config("issuer index out of range".into()))
    };
    if let [only] = accepted {
        let (issuer, keys) = pick(*only)?;
        return Ok(Shared::One(Arc::new(verifier(options, issuer, keys, revocation)?)));
    }
    let mut router = IssuerRouter::new();
    for &i in accepted {
        let (issuer, keys) = pick(i)?;
        for iss in &issuer.iss {
            router = router.route(iss.clone(), verifier(options, issuer, keys, revocation)?);
        }
    }
    Ok(Shared::Many(Arc::new(router)))
}

/// Removes headers that could pass for forwarded claims (on requests of
/// rules that need no token).
type Strip = Arc<dyn Fn(&mut HeaderMap) + Send + Sync>;

/// Nothing here reads custom claims (claim headers come from the raw
/// claims, scopes from `RegisteredClaims`): the middleware skips building
/// a JSON map for each request.
type NoCustomClaims = serde::de::IgnoredAny;

/// One rule's middleware, before it wraps the inner service.
#[derive(Clone)]
enum RuleLayer {
    One(JwtAuthLayer<Verifier<IssuerKeys>, NoCustomClaims>),
    Many(JwtAuthLayer<IssuerRouter<IssuerKeys>, NoCustomClaims>),
}

impl RuleLayer {
    fn new(options: &Options, rule: &Rule, verifier: Shared) -> Self {
        match verifier {
            Shared::One(v) => Self::One(configure(options, rule, JwtAuthLayer::from_shared(v)).claims()),
            Shared::Many(v) => Self::Many(configure(options, rule, JwtAuthLayer::from_shared(v)).claims()),
        }
    }

    fn stats(&self) -> Arc<jwtgate_hyper::AuthStats> {
        match self {
            Self::One(l) => l.stats(),
            Self::Many(l) => l.stats(),
        }
    }

    fn strip(&self, headers: &mut HeaderMap) {
        match self {
            Self::One(l) => l.remove_forwarded_headers(headers),
            Self::Many(l) => l.remove_forwarded_headers(headers),
        }
    }

    fn wrap(&self, inner: RuleService) -> RuleService {
        match self {
            Self::One(l) => boxed(l, inner),
            Self::Many(l) => boxed(l, inner),
        }
    }
}

/// Where tokens are read from: the `Authorization` header, and the cookie
/// and WebSocket subprotocol if configured.
fn token_sources(options: &Options) -> Vec<TokenSource> {
    let mut sources = vec![TokenSource::authorization_header()];
    if let Some(cookie) = &options.cookie {
        sources.push(TokenSource::cookie(cookie.clone()));
    }
    sources.extend(options.websocket_token.clone());
    sources
}

fn configure<V>(options: &Options, rule: &Rule, layer: JwtAuthLayer<V>) -> JwtAuthLayer<V> {
    let mut layer = layer.realm(options.realm.clone()).token_sources(token_sources(options));
    if !rule.scopes.is_empty() {
        layer = layer.require_scopes(rule.scopes.iter().cloned());
    }
    if rule.access == Access::Optional {
        layer = layer.optional();
    }
    for (claim, header) in &options.claim_headers {
        layer = layer.forward_claim(claim.clone(), header.clone());
    }
    layer
}

fn boxed<V: TokenVerifier + 'static>(layer: &JwtAuthLayer<V, NoCustomClaims>, inner: RuleService) -> RuleService {
    BoxCloneSyncService::new(ServiceExt::<Request<Incoming>>::map_response(
        layer.layer(inner),
        |response: Response<jwtgate_hyper::ResponseBody<Body>>| response.map(BodyExt::boxed_unsync),
    ))
}

/// The path a decision is about: the request's own (kept as its `Uri`, a
/// reference-counted clone) or the one its ingress names.
enum PathText {
    Uri(http::Uri),
    Owned(String),
}

impl PathText {
    fn as_str(&self) -> &str {
        match self {
            Self::Uri(uri) => uri.path(),
            Self::Owned(path) => path,
        }
    }
}

/// A refusal before any rule: status, stable code, description.
type RouteRefusal = (StatusCode, &'static str, &'static str);

/// Headers by which frameworks (Rails, Laravel, Express's
/// method-override, ASP.NET) let a request run another method than its
/// own: a rule for the request's method would not be the one that
/// applies, so the proxy refuses them.
/// (Also as `_method` in the query: Laravel, Symfony, Express's
/// method-override.)
const METHOD_OVERRIDES: [HeaderName; 3] = [
    HeaderName::from_static("x-http-method-override"),
    HeaderName::from_static("x-http-method"),
    HeaderName::from_static("x-method-override"),
];

/// The request router: `/.jwtgate/`, the path checks, the rules.
#[derive(Clone)]
struct Router {
    rules: Arc<Rules>,
    services: Arc<[RuleService]>,
    proxy: bool,
    ready: Ready,
    metrics: Arc<Metrics>,
    /// For rules that need no token: removes anything that could pass for
    /// a forwarded claim.
    strip: Strip,
}

impl Router {
    async fn answer(self, mut req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
        let start = Instant::now();
        if let Some(response) = self.own(&req) {
            return Ok(response);
        }
        // The proxy judges the request it forwards; the auth endpoint the
        // one its ingress describes.
        let described = if self.proxy {
            Ok(Described {
                method: req.method().clone(),
                path: String::new(),
                query: req.uri().query().map(str::to_owned),
            })
        } else {
            original_request(&req)
        };
        let (method, path, routed) = match described {
            Ok(described) => {
                let path = if self.proxy { PathText::Uri(req.uri().clone()) } else { PathText::Owned(described.path) };
                let routed = self.route(&described.method, path.as_str(), described.query.as_deref(), req.headers());
                (described.method, path, routed)
            }
            Err(why) => {
                (req.method().clone(), PathText::Owned("-".into()), Err((self.refusal_status(), "ambiguous_path", why)))
            }
        };
        let (response, outcome) = match routed {
            Err((status, code, description)) => {
                self.metrics.server_outcome(code);
                (refusal(status, code, description), code)
            }
            Ok(index) => {
                let open = self.rules.get(index).is_some_and(|rule| rule.access == Access::Open);
                if open {
                    // Nothing verifies a token here: nothing that could
                    // pass for a claim reaches the upstream (a token goes
                    // on as sent, unless --strip-token).
                    (self.strip)(req.headers_mut());
                    self.metrics.server_outcome("open");
                }
                let Some(service) = self.services.get(index) else {
                    return Ok(refusal(StatusCode::INTERNAL_SERVER_ERROR, "no_route", "rule without a service"));
                };
                let response = service.clone().oneshot(req).await?;
                let outcome = match response.extensions().get::<Refused>() {
                    Some(Refused(code)) => code,
                    None if open => "open",
                    None if response.extensions().get::<RegisteredClaims>().is_some() => "accepted",
                    None => "anonymous",
                };
                (response, outcome)
            }
        };
        self.metrics.observe_latency(start);
        let iss = response.extensions().get::<RegisteredClaims>().and_then(RegisteredClaims::issuer).unwrap_or("-");
        tracing::info!(
            target: "jwtgate::access",
            method = method.as_str(),
            path = path.as_str(),
            status = response.status().as_u16(),
            outcome,
            iss,
            micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX),
            "decision"
        );
        Ok(response)
    }

    /// An ingress passes on only 401 and 403 from an auth endpoint
    /// (anything else becomes its own 500), so the endpoint refuses with
    /// 403; the proxy answers a bad request with 400.
    const fn refusal_status(&self) -> StatusCode {
        if self.proxy { StatusCode::BAD_REQUEST } else { StatusCode::FORBIDDEN }
    }

    /// The rule for a request, or why there is none.
    fn route(
        &self,
        method: &Method,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
    ) -> Result<usize, RouteRefusal> {
        let bad = self.refusal_status();
        if let Some(why) = method_ambiguity(method) {
            return Err((bad, "ambiguous_method", why));
        }
        if self.proxy && (*method == Method::CONNECT || *method == Method::TRACE) {
            return Err((StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "CONNECT and TRACE are not forwarded"));
        }
        // Ingresses copy the client's headers onto the auth request, so the
        // endpoint sees them as well as the proxy does.
        let overridden = headers.keys().any(|name| METHOD_OVERRIDES.iter().any(|o| read_alike(name, o)));
        let query_override = query.is_some_and(|q| {
            q.split('&').any(|pair| {
                let key = pair.split_once('=').map_or(pair, |(k, _)| k);
                key.eq_ignore_ascii_case("_method")
            })
        });
        if overridden || query_override {
            return Err((bad, "ambiguous_method", "a method override names another method than the request's"));
        }
        match self.rules.route(method, path) {
            Err(why) => Err((bad, "ambiguous_path", why)),
            Ok(None) => Err((StatusCode::FORBIDDEN, "no_route", "no route rule covers this request")),
            Ok(Some(index)) => Ok(index),
        }
    }

    /// `/.jwtgate/health`, `/.jwtgate/ready`, `/.jwtgate/metrics`.
    fn own(&self, req: &Request<Incoming>) -> Option<Response<Body>> {
        let path = req.uri().path().strip_prefix("/.jwtgate/")?;
        let response = match path {
            "health" => plain(StatusCode::OK, "ok"),
            "ready" if (self.ready)() => plain(StatusCode::OK, "ready"),
            "ready" => {
                plain(StatusCode::SERVICE_UNAVAILABLE, "not ready: keys not in hand, or revocation list not in sync")
            }
            "metrics" => match self.metrics.render() {
                Some(text) => {
                    let mut response = Response::new(full(Bytes::from(text)));
                    response.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                    );
                    response
                }
                None => plain(StatusCode::INTERNAL_SERVER_ERROR, "metrics could not be written"),
            },
            _ => plain(StatusCode::NOT_FOUND, "unknown jwtgate endpoint"),
        };
        Some(response)
    }
}

fn full(bytes: Bytes) -> Body {
    Full::new(bytes).map_err(|never| match never {}).boxed_unsync()
}

/// A short text answer of the server's own.
pub(crate) fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut response = Response::new(full(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    response
}

/// A refusal of the server's own, shaped like the middleware's (JSON with
/// a stable `code`).
fn refusal(status: StatusCode, code: &'static str, description: &'static str) -> Response<Body> {
    let body = format!("{{\"error_description\":\"{description}\",\"code\":\"{code}\"}}");
    let mut response = Response::new(full(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    headers.insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    response
}
