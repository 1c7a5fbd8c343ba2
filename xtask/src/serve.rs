//! Serving a tower service over HTTP/1.1 on 127.0.0.1, for the demo, the
//! development issuer and the load benchmark.

use std::convert::Infallible;
use std::net::SocketAddr;

use crate::error::{Context as _, Result};
use http::{Request, Response};
use hyper::body::{Body, Incoming};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::task::JoinHandle;

/// A server accepting connections until dropped (the address to use: `addr`).
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The runtime of every task that serves: multi-threaded with two workers
/// (the build machine has two cores; the load benchmark reports this).
///
/// # Errors
///
/// If the runtime cannot start.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context(|| "cannot start the tokio runtime".to_owned())
}

/// Binds 127.0.0.1:`port` (0: any free port) and serves `service`.
///
/// # Errors
///
/// If the port cannot be bound.
pub async fn serve<S, B>(port: u16, service: S) -> Result<Server>
where
    S: tower::Service<Request<Incoming>, Response = Response<B>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
    let addr = listener.local_addr().context(|| "listener has no address".to_owned())?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let _ = stream.set_nodelay(true);
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    Ok(Server { addr, task })
}
