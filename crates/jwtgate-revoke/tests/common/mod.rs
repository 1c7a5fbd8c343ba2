//! A real `redis-server` for the tests (the test kit's: 127.0.0.1, a free
//! port, a temporary directory, append-only persistence fsynced on every
//! write), and a TCP relay between a replica and it that a test can cut
//! and restore: a network partition without touching the server.

#![allow(dead_code, reason = "each test file uses part of the harness")]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jwtgate_testkit::redis_server::RedisServer;

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A server with its temporary directory (dropped after the server).
pub(crate) struct Server {
    pub(crate) redis: RedisServer,
    dir: tempfile::TempDir,
}

impl Server {
    /// The server's data directory.
    pub(crate) fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    pub(crate) fn url(&self) -> String {
        self.redis.url()
    }

    pub(crate) fn port(&self) -> u16 {
        self.redis.port()
    }

    /// A plain connection for the test's own commands.
    pub(crate) fn conn(&self) -> redis::Connection {
        redis::Client::open(self.url()).and_then(|c| c.get_connection()).expect("a connection to the test server")
    }
}

/// A real `redis-server` on 127.0.0.1, or `None` (with the reason
/// printed) where it is not installed and not required.
pub(crate) fn redis_server() -> Option<Server> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let redis = jwtgate_testkit::redis_server::for_test(dir.path())?;
    Some(Server { redis, dir })
}

/// A TCP relay on 127.0.0.1 to `target`. `cut` closes every relayed
/// connection and refuses new ones until `restore`.
pub(crate) struct Relay {
    pub(crate) addr: SocketAddr,
    cut: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Relay {
    pub(crate) async fn start(target: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("relay port");
        let addr = listener.local_addr().expect("relay address");
        let cut = Arc::new(AtomicBool::new(false));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (cut2, links2) = (Arc::clone(&cut), Arc::clone(&links));
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if cut2.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", target)).await {
                        let _ = copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                links2.lock().expect("links").push(link);
            }
        });
        Self { addr, cut, links, accept }
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://{}/", self.addr)
    }

    pub(crate) fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for link in self.links.lock().expect("links").drain(..) {
            link.abort();
        }
    }

    pub(crate) fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

/// Polls `done` every 2 ms until it holds or `limit` passes; how long it
/// took, or `None`.
pub(crate) async fn within(limit: Duration, mut done: impl FnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if done() {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    done().then(|| started.elapsed())
}
