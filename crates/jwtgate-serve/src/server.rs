//! The listener: HTTP/1.1 and h2c on one port, the auth endpoint behind
//! it, `/healthz` and `/readyz` beside it, graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use jwtgate_hyper::{AuthStats, JwtAuthLayer, TokenSource};
use jwtgate_jwks::JwksConfig;
use jwtgate_revoke::{RedisConfig, RedisSync};
use jwtgate_verify::{KeyResolver, KeySet, TokenVerifier, Verifier};
use tokio::net::TcpListener;
use tower::{Layer as _, ServiceExt};

use crate::endpoint::{AuthEndpoint, original_path};
use crate::options::{Keys, Options};

/// The body of every answer.
pub type Body = BoxBody<Bytes, Infallible>;

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

/// Whether the keys are in hand (for `/readyz`).
type Ready = Arc<dyn Fn() -> bool + Send + Sync>;

/// A bound server, not yet serving.
pub struct Server {
    listener: TcpListener,
    router: Router,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("addr", &self.listener.local_addr().ok()).finish_non_exhaustive()
    }
}

impl Server {
    /// Builds the verifier and the key source (a remote source starts
    /// fetching in the background: the server listens at once and answers
    /// 503 until keys arrive) and binds the address.
    ///
    /// # Errors
    ///
    /// [`ServeError`]: an option that cannot work, or the address taken.
    pub async fn bind(options: Options) -> Result<Self, ServeError> {
        let revocation = follow_revocations(&options)?;
        let revocation_ready: Ready = match &revocation {
            Some(sync) => {
                let sync = sync.clone();
                Arc::new(move || sync.is_ready())
            }
            None => Arc::new(|| true),
        };
        let router = match &options.keys {
            Keys::File(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| ServeError::Config(format!("cannot read {}: {e}", path.display())))?;
                let keys = KeySet::from_key_document(&text)
                    .map_err(|e| ServeError::Config(format!("{}: no usable key: {e}", path.display())))?;
                let algorithms =
                    if options.algorithms.is_empty() { keys.algorithms() } else { options.algorithms.clone() };
                let verifier = verifier(&options, algorithms, keys, revocation)?;
                router(&options, verifier, revocation_ready)
            }
            Keys::Url(location) | Keys::Discover(location) => {
                if options.algorithms.is_empty() {
                    return Err(ServeError::Config(
                        "--alg is required with a remote key source (the keys are not known before the first fetch)"
                            .into(),
                    ));
                }
                let config = if matches!(options.keys, Keys::Url(_)) {
                    JwksConfig::new(location.clone())
                } else {
                    JwksConfig::discover(location.clone())
                };
                let source = key_source(&options, config)?;
                let ready: Ready = {
                    let source = source.clone();
                    Arc::new(move || source.is_ready() && revocation_ready())
                };
                let verifier = verifier(&options, options.algorithms.clone(), source, revocation)?;
                router(&options, verifier, ready)
            }
        };
        let listener = TcpListener::bind(options.listen)
            .await
            .map_err(|source| ServeError::Bind { addr: options.listen, source })?;
        Ok(Self { listener, router })
    }

    /// Where it listens (the port the OS chose for port 0).
    ///
    /// # Errors
    ///
    /// The OS cannot tell.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The middleware's per-outcome counters.
    #[must_use]
    pub fn stats(&self) -> Arc<AuthStats> {
        Arc::clone(&self.router.stats)
    }

    /// Serves until `shutdown` completes, then stops accepting and lets
    /// requests in flight finish (at most 10 s).
    pub async fn serve(self, shutdown: impl Future<Output = ()>) {
        let graceful = GracefulShutdown::new();
        let builder = auto::Builder::new(TokioExecutor::new());
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => {
                    let Ok((stream, _peer)) = accepted else { continue };
                    let router = self.router.clone();
                    let service = hyper::service::service_fn(move |req| router.clone().answer(req));
                    let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
                    let connection = graceful.watch(connection);
                    tokio::spawn(async move {
                        if let Err(e) = connection.await {
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                    });
                }
            }
        }
        tracing::info!("shutting down: no new connections, waiting for requests in flight");
        if tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await.is_err() {
            tracing::warn!("requests still in flight after 10 s; closing");
        }
    }
}

fn key_source(options: &Options, config: JwksConfig) -> Result<jwtgate_jwks::JwksSource, ServeError> {
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
    config.build().map_err(|e| ServeError::Config(format!("key source: {e}")))
}

/// Starts following the revocation store, if one is configured (in the
/// background: until the first sync every token is 503
/// `revocation_unavailable` and `/readyz` says not ready).
fn follow_revocations(options: &Options) -> Result<Option<RedisSync>, ServeError> {
    let Some(revocation) = &options.revocation else { return Ok(None) };
    let mut config = RedisConfig::new(revocation.redis_url.clone()).max_lag(revocation.max_lag);
    if revocation.fail_open {
        config = config.fail_open_when_out_of_sync();
    }
    config.sync().map(Some).map_err(|e| ServeError::Config(format!("revocation store: {e}")))
}

fn verifier<R: KeyResolver>(
    options: &Options,
    algorithms: Vec<jwtgate_verify::Algorithm>,
    keys: R,
    revocation: Option<RedisSync>,
) -> Result<Verifier<R>, ServeError> {
    let mut builder = Verifier::builder()
        .issuers(options.issuers.iter().cloned())
        .audiences(options.audiences.iter().cloned())
        .algorithms(algorithms)
        .leeway(options.leeway);
    if let Some(typ) = &options.typ {
        builder = builder.require_typ(typ.clone());
    }
    if options.token_cache > 0 {
        builder = builder.token_cache(options.token_cache);
    }
    if let Some(sync) = revocation {
        builder = builder.revocation(sync);
    }
    builder.build(keys).map_err(|e| ServeError::Config(format!("verifier: {e}")))
}

/// The request router: health, readiness, skipped paths, and everything
/// else through the middleware to the auth endpoint.
#[derive(Clone)]
struct Router {
    auth: tower::util::BoxCloneSyncService<Request<Incoming>, Response<Body>, Infallible>,
    ready: Ready,
    skip_paths: Arc<[String]>,
    stats: Arc<AuthStats>,
}

fn router<V: TokenVerifier + Send + Sync + 'static>(options: &Options, verifier: V, ready: Ready) -> Router {
    let mut layer = JwtAuthLayer::new(verifier).realm(options.realm.clone());
    let mut sources = vec![TokenSource::authorization_header()];
    if let Some(cookie) = &options.cookie {
        sources.push(TokenSource::cookie(cookie.clone()));
    }
    layer = layer.token_sources(sources);
    if !options.require_scopes.is_empty() {
        layer = layer.require_scopes(options.require_scopes.iter().cloned());
    }
    for (claim, header) in &options.claim_headers {
        layer = layer.forward_claim(claim.clone(), header.clone());
    }
    let stats = layer.stats();
    let endpoint = AuthEndpoint::new(options.claim_headers.iter().map(|(_, h)| h.clone()).collect());
    let auth = ServiceExt::<Request<Incoming>>::map_response(
        layer.layer(endpoint),
        |response: Response<jwtgate_hyper::ResponseBody<Full<Bytes>>>| response.map(BodyExt::boxed),
    );
    Router {
        auth: tower::util::BoxCloneSyncService::new(auth),
        ready,
        skip_paths: options.skip_paths.clone().into(),
        stats,
    }
}

impl Router {
    async fn answer(self, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
        match req.uri().path() {
            "/healthz" => return Ok(plain(StatusCode::OK, "ok")),
            "/readyz" => {
                return Ok(if (self.ready)() {
                    plain(StatusCode::OK, "ready")
                } else {
                    plain(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "not ready: keys not in hand, or revocation list not in sync",
                    )
                });
            }
            _ => {}
        }
        let path = original_path(&req);
        if self.skip_paths.iter().any(|prefix| path.starts_with(prefix.as_str())) {
            return Ok(plain(StatusCode::OK, ""));
        }
        self.auth.oneshot(req).await
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())).boxed());
    *response.status_mut() = status;
    response.headers_mut().insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    response
}
