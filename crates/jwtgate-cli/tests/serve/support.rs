//! What the `jwtgate serve` tests share: the child process, a few lines of
//! HTTP/1.1 over std sockets, keys and tokens, and two real servers on
//! 127.0.0.1 (an upstream and an issuer's JWKS endpoint).

use std::convert::Infallible;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use jwtgate_testkit::alg::Alg;
use jwtgate_testkit::{keygen, mint};

pub(crate) const ISS: &str = "https://issuer.test";
pub(crate) const AUD: &str = "orders-api";

/// A running `jwtgate serve`, killed when dropped.
pub(crate) struct Serve {
    pub(crate) child: Child,
    pub(crate) addr: String,
    /// Its stderr (the logs), when asked for.
    pub(crate) logs: Option<std::process::ChildStderr>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn serve(args: &[&str]) -> Serve {
    spawn(args, false)
}

fn spawn<A: AsRef<std::ffi::OsStr>>(args: &[A], logs: bool) -> Serve {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jwtgate"))
        .arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(if logs { Stdio::piped() } else { Stdio::null() })
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("first line: {line:?}")).to_owned();
    let logs = if logs { child.stderr.take() } else { None };
    Serve { child, addr, logs }
}

/// What a proxy test runs: the upstream (on `runtime`, which must outlive
/// the test), what it saw, and an EdDSA key pair.
pub(crate) struct Proxied {
    pub(crate) runtime: tokio::runtime::Runtime,
    pub(crate) up: SocketAddr,
    pub(crate) seen: Arc<Seen>,
    pub(crate) keys: Keys,
}

pub(crate) fn proxied() -> Proxied {
    let runtime = runtime();
    let (up, seen) = upstream(&runtime);
    Proxied { runtime, up, seen, keys: keys("ed-1") }
}

/// `jwtgate serve` in front of `up`, trusting `keys` for [`ISS`] and
/// [`AUD`], with `extra` flags.
pub(crate) fn proxy(up: SocketAddr, keys: &Keys, extra: &[&str]) -> Serve {
    spawn(&proxy_args(up, keys, extra), false)
}

/// As [`proxy`], keeping stderr to read the logs from.
pub(crate) fn proxy_logged(up: SocketAddr, keys: &Keys, extra: &[&str]) -> Serve {
    spawn(&proxy_args(up, keys, extra), true)
}

fn proxy_args(up: SocketAddr, keys: &Keys, extra: &[&str]) -> Vec<String> {
    let base = ["--upstream".to_owned(), format!("http://{up}"), "--jwks".to_owned(), keys.jwks()];
    let identity = ["--issuer", ISS, "--audience", AUD].map(str::to_owned);
    base.into_iter().chain(identity).chain(extra.iter().map(|a| (*a).to_owned())).collect()
}

/// Status, headers (lowercased names) and body of one response.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// One request with `Connection: close`.
pub(crate) fn request(addr: &str, method: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    parse(&String::from_utf8_lossy(&response))
}

pub(crate) fn get(serve: &Serve, path: &str, headers: &[(&str, &str)]) -> Answer {
    request(&serve.addr, "GET", path, headers)
}

pub(crate) fn parse(response: &str) -> Answer {
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no head in {response:?}"));
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Answer { status, headers, body: body.to_owned() }
}

/// An EdDSA key pair in a temporary directory.
pub(crate) struct Keys {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) key: keygen::Written,
}

pub(crate) fn keys(kid: &str) -> Keys {
    let dir = tempfile::tempdir().unwrap();
    let key = keygen::run(&keygen::Request {
        alg: Alg::EdDSA,
        bits: None,
        kid: Some(kid.into()),
        out: dir.path().into(),
        force: false,
    })
    .unwrap();
    Keys { dir, key }
}

impl Keys {
    pub(crate) fn jwks(&self) -> String {
        self.jwks_path().to_str().unwrap().to_owned()
    }

    pub(crate) fn jwks_path(&self) -> PathBuf {
        self.key.jwks.clone().unwrap()
    }

    pub(crate) fn token(&self, scope: &str, ttl: &str) -> String {
        self.token_from(ISS, scope, ttl)
    }

    pub(crate) fn token_from(&self, iss: &str, scope: &str, ttl: &str) -> String {
        mint::run(&mint::Request {
            key: self.key.private_jwk.clone(),
            iss: iss.into(),
            aud: vec![AUD.into()],
            sub: "alice".into(),
            ttl: ttl.into(),
            claims: Some(format!(r#"{{"scope":"{scope}"}}"#)),
            ..mint::Request::default()
        })
        .unwrap()
    }
}

pub(crate) fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// A port nothing listens on (bound, then released).
pub(crate) fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A tokio runtime on its own threads for the servers a test runs.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

pub(crate) type Body = http_body_util::combinators::UnsyncBoxBody<Bytes, Infallible>;

fn full(text: impl Into<Bytes>) -> Body {
    Full::new(text.into()).boxed_unsync()
}

/// Serves `handler` on 127.0.0.1:`port` (0: any) with HTTP/1.1 and
/// upgrades, on `runtime`; returns the address.
pub(crate) fn http_server<F, Fut>(runtime: &tokio::runtime::Runtime, port: u16, handler: F) -> SocketAddr
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let listener = runtime.block_on(tokio::net::TcpListener::bind(("127.0.0.1", port))).unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let handler = handler.clone();
                    async move { Ok::<_, Infallible>(handler(req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades()
                    .await;
            });
        }
    });
    addr
}

/// What the upstream saw of the requests that reached it.
#[derive(Default)]
pub(crate) struct Seen {
    pub(crate) requests: AtomicU64,
}

/// The upstream: `/echo` answers the request's method, path and headers
/// as text lines; `/upload` counts the body it streams in; `/download?n=N`
/// streams N bytes out; `/slow` answers after 2 s; `/ws` is a WebSocket
/// echo; `/fake-switch` answers 101 without a valid handshake. Every
/// request is counted.
pub(crate) fn upstream(runtime: &tokio::runtime::Runtime) -> (SocketAddr, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let counter = Arc::clone(&seen);
    let addr = http_server(runtime, 0, move |req| {
        let seen = Arc::clone(&counter);
        async move {
            seen.requests.fetch_add(1, Ordering::Relaxed);
            match req.uri().path() {
                "/upload" => {
                    let mut body = req.into_body();
                    let mut total = 0_u64;
                    while let Some(frame) = body.frame().await {
                        if let Ok(data) = frame.unwrap().into_data() {
                            total += data.len() as u64;
                        }
                    }
                    Response::new(full(total.to_string()))
                }
                "/download" => {
                    let n: u64 = req.uri().query().and_then(|q| q.strip_prefix("n=")).unwrap().parse().unwrap();
                    let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
                    let chunks = n / chunk.len() as u64;
                    let stream = futures_util::stream::iter(
                        (0..chunks).map(move |_| Ok::<_, Infallible>(Frame::data(chunk.clone()))),
                    );
                    let mut response = Response::new(StreamBody::new(stream).boxed_unsync());
                    response.headers_mut().insert("content-length", (chunks * 64 * 1024).into());
                    response
                }
                "/slow" => {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    Response::new(full("slow answer"))
                }
                "/ws" => websocket_echo(req),
                // Claims a switch without completing any handshake.
                "/fake-switch" => {
                    let mut response = Response::new(full(Bytes::new()));
                    *response.status_mut() = hyper::StatusCode::SWITCHING_PROTOCOLS;
                    response.headers_mut().insert("connection", "upgrade".parse().unwrap());
                    response.headers_mut().insert("upgrade", "websocket".parse().unwrap());
                    response.headers_mut().insert("sec-websocket-accept", "bm90IHRoZSBhY2NlcHQ=".parse().unwrap());
                    response
                }
                _ => {
                    let mut text = format!("{} {}\n", req.method(), req.uri());
                    for (name, value) in req.headers() {
                        text.push_str(&format!("{name}: {}\n", value.to_str().unwrap_or("?")));
                    }
                    Response::new(full(text))
                }
            }
        }
    });
    (addr, seen)
}

/// Accepts a WebSocket handshake and echoes every message. When the
/// client offers subprotocols it chooses the first, and its first message
/// is the `Sec-WebSocket-Protocol` header it was sent.
fn websocket_echo(mut req: Request<Incoming>) -> Response<Body> {
    use futures_util::{SinkExt as _, StreamExt as _};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
    let key = req.headers().get("sec-websocket-key").unwrap().as_bytes().to_vec();
    let offered = req.headers().get("sec-websocket-protocol").map(|v| v.to_str().unwrap().to_owned());
    let chosen = offered.as_deref().and_then(|o| o.split(',').next()).map(|p| p.trim().to_owned());
    let report = offered.clone();
    let upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let upgraded = upgrade.await.unwrap();
        let mut ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
            TokioIo::new(upgraded),
            tokio_tungstenite::tungstenite::protocol::Role::Server,
            None,
        )
        .await;
        if let Some(offered) = report {
            ws.send(Message::text(offered)).await.unwrap();
        }
        while let Some(Ok(message)) = ws.next().await {
            if message.is_close() {
                break;
            }
            if ws.send(message).await.is_err() {
                break;
            }
        }
    });
    let mut response = Response::new(full(Bytes::new()));
    *response.status_mut() = hyper::StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert("connection", "upgrade".parse().unwrap());
    headers.insert("upgrade", "websocket".parse().unwrap());
    headers.insert("sec-websocket-accept", derive_accept_key(&key).parse().unwrap());
    if let Some(chosen) = chosen {
        headers.insert("sec-websocket-protocol", chosen.parse().unwrap());
    }
    response
}

/// An issuer's JWKS endpoint serving `jwks` (a file) at `/jwks.json`,
/// counting fetches; on `port` (0: any).
pub(crate) fn jwks_server(runtime: &tokio::runtime::Runtime, port: u16, jwks: PathBuf) -> (SocketAddr, Arc<AtomicU64>) {
    let fetches = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&fetches);
    let document = std::fs::read_to_string(jwks).unwrap();
    let addr = http_server(runtime, port, move |_req| {
        counter.fetch_add(1, Ordering::Relaxed);
        let document = document.clone();
        async move {
            let mut response = Response::new(full(document));
            response.headers_mut().insert("content-type", "application/json".parse().unwrap());
            response.headers_mut().insert("cache-control", "max-age=300".parse().unwrap());
            response
        }
    });
    (addr, fetches)
}

/// Peak resident memory of a process, in KiB (`VmHWM`).
pub(crate) fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
