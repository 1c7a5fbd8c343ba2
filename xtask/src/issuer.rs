//! A small identity provider on 127.0.0.1: OIDC discovery metadata and a
//! JWKS that can be rotated, and an outage switch. The demo and the
//! end-to-end tests start one with a JWKS document in memory; `cargo xtask
//! issuer` ([`run`]) serves a key directory's `jwks.json` for local
//! development. It counts what it serves, so callers can show and assert
//! how often the keys were fetched.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use http::{Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::jwk::read_object;
use crate::serve::{Server, runtime, serve};

/// Where an issuer's JWKS comes from.
#[derive(Clone, Debug)]
pub enum Jwks {
    /// This document, until [`Issuer::publish`] replaces it.
    Document(String),
    /// This file, read again on every request: a key that `cargo xtask
    /// keygen` adds to it is served at once, with no restart and no
    /// polling (keygen replaces the file by a rename, so a read never sees
    /// half of it).
    File(PathBuf),
}

/// What the issuer serves and has served.
#[derive(Debug)]
struct State {
    issuer: Mutex<String>,
    /// The issuer URL's path without a trailing `/` (usually empty):
    /// discovery and the JWKS live under it, where clients look for them.
    base: String,
    jwks: Mutex<Jwks>,
    down: AtomicBool,
    jwks_requests: AtomicU64,
    discovery_requests: AtomicU64,
}

/// A running issuer; stops when dropped.
pub struct Issuer {
    server: Server,
    state: Arc<State>,
}

impl Issuer {
    /// Starts an issuer on a free loopback port serving `jwks` (a JWKS
    /// document) at `/jwks.json`, with `Cache-Control: max-age=300`.
    ///
    /// # Errors
    ///
    /// If no port can be bound.
    pub async fn start(jwks: String) -> Result<Self> {
        Self::start_with(0, None, Jwks::Document(jwks)).await
    }

    /// Starts an issuer on 127.0.0.1:`port` that calls itself `issuer`
    /// (default `http://127.0.0.1:PORT`). Port 0 means the port `issuer`
    /// names, else any free port. Under the issuer URL's path it serves
    /// discovery at `/.well-known/openid-configuration` and the JWKS at
    /// `/jwks.json`, both as `application/json` with `Cache-Control:
    /// max-age=300`.
    ///
    /// # Errors
    ///
    /// If `issuer` is not plain http on 127.0.0.1 or localhost, names
    /// another port than `port`, or has a query or fragment (clients could
    /// not reach this server through it, or OIDC forbids it); if the port
    /// cannot be bound.
    pub async fn start_with(port: u16, issuer: Option<&str>, jwks: Jwks) -> Result<Self> {
        let named = issuer.map(IssuerUrl::parse).transpose()?;
        let port = match &named {
            Some(named) if port == 0 => named.port,
            Some(named) if port != named.port => {
                return Err(Error::msg(format!(
                    "issuer {} is on port {}, but this server would listen on {port}: give both the same port, \
                     or give only one of them",
                    named.text, named.port
                )));
            }
            _ => port,
        };
        let state = Arc::new(State {
            issuer: Mutex::new(String::new()),
            base: named.as_ref().map(|n| n.base.clone()).unwrap_or_default(),
            jwks: Mutex::new(jwks),
            down: AtomicBool::new(false),
            jwks_requests: AtomicU64::new(0),
            discovery_requests: AtomicU64::new(0),
        });
        let shared = Arc::clone(&state);
        let server = serve(
            port,
            tower::service_fn(move |req: Request<Incoming>| {
                let state = Arc::clone(&shared);
                async move { Ok::<_, Infallible>(answer(&state, req.uri().path())) }
            }),
        )
        .await?;
        *lock(&state.issuer) = match named {
            Some(named) => named.text,
            None => format!("http://{}", server.addr),
        };
        Ok(Self { server, state })
    }

    /// The issuer identifier (`http://127.0.0.1:PORT` unless started with
    /// another), also the base of its discovery URL.
    #[must_use]
    pub fn url(&self) -> String {
        lock(&self.state.issuer).clone()
    }

    /// The JWKS URL.
    #[must_use]
    pub fn jwks_url(&self) -> String {
        jwks_uri(&self.url())
    }

    /// The socket address.
    #[must_use]
    pub const fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// Serves `jwks` from now on (key rotation).
    pub fn publish(&self, jwks: String) {
        *lock(&self.state.jwks) = Jwks::Document(jwks);
    }

    /// Takes the issuer down (every request answers 503) or back up.
    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// JWKS requests received so far (answered or refused).
    #[must_use]
    pub fn jwks_requests(&self) -> u64 {
        self.state.jwks_requests.load(Ordering::SeqCst)
    }

    /// Discovery requests received so far.
    #[must_use]
    pub fn discovery_requests(&self) -> u64 {
        self.state.discovery_requests.load(Ordering::SeqCst)
    }
}

/// An issuer URL this server can be reached at, taken apart by hand: only
/// `http://127.0.0.1` and `http://localhost` qualify, so there is no
/// general URL to parse.
struct IssuerUrl {
    /// The identifier exactly as given (issuers compare byte for byte).
    text: String,
    port: u16,
    base: String,
}

impl IssuerUrl {
    fn parse(text: &str) -> Result<Self> {
        let unusable = |why: &str| Error::msg(format!("issuer {text:?} {why}"));
        // https is refused rather than served as http: clients would not
        // find discovery there, and an https issuer's metadata may not point
        // at a plain-http JWKS anyway.
        let rest = text
            .strip_prefix("http://")
            .ok_or_else(|| unusable("must start with http:// (this server speaks plain http)"))?;
        if rest.contains(['?', '#']) {
            return Err(unusable("may not have a query or fragment (OpenID Connect Discovery 1.0, section 4)"));
        }
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (host, port.parse::<u16>().ok().filter(|&p| p != 0)),
            None => (authority, Some(80)),
        };
        let port = port.ok_or_else(|| unusable("has an invalid port"))?;
        if host != "127.0.0.1" && !host.eq_ignore_ascii_case("localhost") {
            return Err(unusable("must be on 127.0.0.1 or localhost: that is where this server listens"));
        }
        Ok(Self { text: text.to_owned(), port, base: path.trim_end_matches('/').to_owned() })
    }
}

/// The JWKS URL of `issuer`, which discovery names as `jwks_uri`.
fn jwks_uri(issuer: &str) -> String {
    format!("{}/jwks.json", issuer.trim_end_matches('/'))
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn answer(state: &State, path: &str) -> Response<Full<Bytes>> {
    let not_found = || respond(StatusCode::NOT_FOUND, String::new());
    let Some(path) = path.strip_prefix(state.base.as_str()) else { return not_found() };
    let (discovery, counter) = match path {
        "/.well-known/openid-configuration" => (true, &state.discovery_requests),
        "/jwks.json" => (false, &state.jwks_requests),
        _ => return not_found(),
    };
    counter.fetch_add(1, Ordering::SeqCst);
    if state.down.load(Ordering::SeqCst) {
        return respond(StatusCode::SERVICE_UNAVAILABLE, String::new());
    }
    // Cloned, so that reading a file does not hold the lock. The read
    // blocks a worker thread briefly (a key set is a few KiB), which a
    // development server can afford.
    let source = lock(&state.jwks).clone();
    let jwks = match source {
        Jwks::Document(text) => text,
        Jwks::File(file) => match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) => {
                let message = format!("cannot read {}: {e}", file.display());
                eprintln!("issuer: {message}");
                return respond(StatusCode::INTERNAL_SERVER_ERROR, serde_json::json!({ "error": message }).to_string());
            }
        },
    };
    if !discovery {
        return respond(StatusCode::OK, jwks);
    }
    let issuer = lock(&state.issuer).clone();
    let uri = jwks_uri(&issuer);
    let mut metadata = Map::new();
    metadata.insert("issuer".to_owned(), Value::String(issuer));
    metadata.insert("jwks_uri".to_owned(), Value::String(uri));
    if let Some(algorithms) = signing_algorithms(&jwks) {
        metadata.insert("id_token_signing_alg_values_supported".to_owned(), algorithms.into());
    }
    respond(StatusCode::OK, Value::Object(metadata).to_string())
}

/// The `alg` of every key in `jwks`, in order without repeats, or `None`
/// if a key names none (it may then sign with any algorithm of its type)
/// or there are no keys. Advertised from the keys rather than fixed,
/// because clients narrow their allow-list to this list
/// (`JwksSource::narrow_algorithms`): a list that omitted RS256 would make
/// them refuse every token of an RS256 key.
fn signing_algorithms(jwks: &str) -> Option<Vec<String>> {
    let doc: Value = serde_json::from_str(jwks).ok()?;
    let mut algorithms: Vec<String> = Vec::new();
    for key in doc.get("keys")?.as_array()? {
        let alg = key.get("alg")?.as_str()?;
        if !algorithms.iter().any(|a| a == alg) {
            algorithms.push(alg.to_owned());
        }
    }
    (!algorithms.is_empty()).then_some(algorithms)
}

fn respond(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("max-age=300"));
    response
}

/// `cargo xtask issuer --keys DIR [--port N] [--issuer URL]`: serves
/// DIR/jwks.json (read again on every request) until the process is
/// stopped, after printing the URLs and a ready-to-paste token command.
///
/// # Errors
///
/// If DIR/jwks.json is missing or not a JWKS (checked before serving, so
/// the mistake shows here and not as a client's failed fetch), or as
/// [`Issuer::start_with`].
pub fn run(keys: &Path, port: u16, issuer_url: Option<&str>) -> Result<()> {
    let file = keys.join("jwks.json");
    if !file.exists() {
        return Err(Error::msg(format!(
            "{} does not exist: make a key first, e.g. `cargo xtask keygen --alg ES256 --out {}`",
            file.display(),
            shell_word(&keys.display().to_string())
        )));
    }
    let published = match read_object(&file)?.remove("keys") {
        Some(Value::Array(published)) => published,
        _ => return Err(Error::msg(format!("{} is not a JWKS: no \"keys\" array", file.display()))),
    };
    let listed: Vec<String> = published.iter().map(|k| format!("{} {}", member(k, "alg"), member(k, "kid"))).collect();
    let listed = if listed.is_empty() { "no keys yet".to_owned() } else { listed.join(", ") };
    // The first published key whose private half keygen left next to the
    // JWKS: the one to mint with.
    let signing =
        published.iter().map(|k| keys.join(format!("{}.private.jwk.json", member(k, "kid")))).find(|p| p.exists());
    let signing = signing.map_or_else(|| "PRIVATE_JWK".to_owned(), |p| shell_word(&p.display().to_string()));

    runtime()?.block_on(async {
        let issuer = Issuer::start_with(port, issuer_url, Jwks::File(file.clone())).await?;
        let url = issuer.url();
        let word = shell_word(&url);
        println!("jwtgate development issuer on {} (plain http: for development only)\n", issuer.addr());
        println!("issuer     {url}");
        println!("discovery  {}/.well-known/openid-configuration", url.trim_end_matches('/'));
        println!("jwks       {} ({listed})", issuer.jwks_url());
        println!("           {} is read on every request: keys keygen adds are served at once", file.display());
        println!("\nA token from this issuer, verified through its discovery document:");
        println!("  cargo xtask mint --key {signing} --iss {word} \\");
        println!("    --aud orders-api --sub checkout --client-id checkout \\");
        println!("    | cargo run -q -p jwtgate-cli -- verify --discover {word} --audience orders-api -");
        println!("In a service (plain http is refused unless the host is loopback and you opt in):");
        println!("  JwksConfig::discover({url:?}).allow_insecure_loopback()");
        println!("\nServing until Ctrl-C.");
        std::future::pending::<()>().await;
        Ok(())
    })
}

/// A string member of a JWK, `?` if absent (for display and file names
/// that then do not exist).
fn member<'a>(key: &'a Value, name: &str) -> &'a str {
    key.get(name).and_then(Value::as_str).unwrap_or("?")
}

/// `text` as one shell word, quoted only when it needs to be, so the
/// printed command can be pasted as it is.
fn shell_word(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_urls_name_their_port_and_path() {
        let url = IssuerUrl::parse("http://127.0.0.1:8800/realms/dev/").unwrap();
        assert_eq!(
            (url.text.as_str(), url.port, url.base.as_str()),
            ("http://127.0.0.1:8800/realms/dev/", 8800, "/realms/dev")
        );
        let url = IssuerUrl::parse("http://LocalHost").unwrap();
        assert_eq!((url.port, url.base.as_str()), (80, ""));
        for unreachable in
            ["http://[::1]:8800", "http://127.0.0.2:8800", "http://user@127.0.0.1:8800", "http://127.0.0.1:x"]
        {
            assert!(IssuerUrl::parse(unreachable).is_err(), "{unreachable}");
        }
    }

    #[test]
    fn algorithms_are_advertised_only_when_every_key_names_one() {
        let jwks = r#"{"keys":[{"kid":"a","alg":"ES256"},{"kid":"b","alg":"RS256"},{"kid":"c","alg":"ES256"}]}"#;
        assert_eq!(signing_algorithms(jwks).unwrap(), ["ES256", "RS256"]);
        assert_eq!(signing_algorithms(r#"{"keys":[{"kid":"a","alg":"ES256"},{"kid":"b"}]}"#), None);
        assert_eq!(signing_algorithms(r#"{"keys":[]}"#), None);
    }
}
