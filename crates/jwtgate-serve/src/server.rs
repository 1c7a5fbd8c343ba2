//! The listener: HTTP/1.1 and h2c on one port, connection limits and
//! timeouts, graceful shutdown; and the assembly of everything a request
//! meets (the router, each rule's middleware, the auth endpoint or the
//! upstream).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, Request};
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use jwtgate_jwks::JwksSource;
use jwtgate_revoke::RedisSync;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::util::BoxCloneSyncService;

use crate::endpoint::AuthEndpoint;
use crate::metrics::Metrics;
use crate::options::{Access, Options};
use crate::proxy::{Peer, Proxy};
use crate::router::{Ready, Router, RuleService, Strip};
use crate::rules::Rules;
use crate::verifiers::{Built, RuleLayer, build, token_sources};

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
        let Built { layers, mut sources, key_sources, revocation } = build(&options)?;
        sources.decisions = layers.iter().flatten().map(RuleLayer::stats).collect();
        let claim_headers: Vec<HeaderName> = options.claim_headers.iter().map(|(_, h)| h.clone()).collect();
        let claim_stripper = layers.iter().flatten().next().cloned();
        let strip: Strip = Arc::new(move |headers: &mut HeaderMap| {
            if let Some(layer) = &claim_stripper {
                layer.strip(headers);
            }
        });
        let metrics = Arc::new(Metrics::new(sources));

        let inner: RuleService = match &options.upstream {
            Some(upstream) => {
                let tokens = if upstream.strip_token { token_sources(&options) } else { Vec::new() };
                BoxCloneSyncService::new(Proxy::new(upstream, claim_headers, tokens, Arc::clone(&metrics)))
            }
            None => BoxCloneSyncService::new(AuthEndpoint::new(claim_headers)),
        };
        let services: Vec<RuleService> = layers
            .iter()
            .map(|layer| layer.as_ref().map_or_else(|| inner.clone(), |l| l.wrap(inner.clone())))
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
