//! TLS to a private issuer: a real https JWKS server on 127.0.0.1 whose CA,
//! server and client certificates the test makes (rcgen), served by rustls
//! (aws-lc-rs) and hyper. A CA nobody added is refused, an added root is
//! trusted, a required client certificate is presented only when
//! configured, an explicit proxy carries the fetch, and the PEM and proxy
//! settings fail at `build` with errors that name the setting and never
//! the material.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::{Issuer, code, verifier};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use jwtgate_jwks::{ConfigError, FetchError, JwksConfig, JwksSource, PemSetting};
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig};

/// A certificate authority made for one test.
struct Ca {
    cert: rcgen::Certificate,
    issuer: rcgen::Issuer<'static, KeyPair>,
}

/// A certificate signed by a test CA, and its key.
struct Leaf {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Self { cert, issuer: rcgen::Issuer::new(params, key) }
    }

    fn pem(&self) -> String {
        self.cert.pem()
    }

    /// The server certificate of the JWKS server: 127.0.0.1 (an IP SAN) and
    /// localhost.
    fn server(&self) -> Leaf {
        self.leaf(&["127.0.0.1", "localhost"], ExtendedKeyUsagePurpose::ServerAuth)
    }

    /// A client certificate for mutual TLS.
    fn client(&self) -> Leaf {
        self.leaf(&["jwks-client.test"], ExtendedKeyUsagePurpose::ClientAuth)
    }

    fn leaf(&self, names: &[&str], usage: ExtendedKeyUsagePurpose) -> Leaf {
        let mut params = CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name.push(DnType::CommonName, names[0]);
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf { cert, key }
    }

    /// This CA alone, as rustls roots (for the server's client check).
    fn roots(&self) -> Arc<RootCertStore> {
        let mut roots = RootCertStore::empty();
        roots.add(self.cert.der().clone()).unwrap();
        Arc::new(roots)
    }
}

impl Leaf {
    fn cert_pem(&self) -> String {
        self.cert.pem()
    }

    fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    fn chain(&self) -> Vec<CertificateDer<'static>> {
        vec![self.cert.der().clone()]
    }

    fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.serialize_der()))
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider())
}

/// The server's TLS configuration: `cert` for itself and, with
/// `clients_from`, a client certificate from that CA required.
fn server_config(cert: &Leaf, clients_from: Option<&Ca>) -> ServerConfig {
    let builder = ServerConfig::builder_with_provider(provider()).with_safe_default_protocol_versions().unwrap();
    let builder = match clients_from {
        None => builder.with_no_client_auth(),
        Some(ca) => builder.with_client_cert_verifier(
            WebPkiClientVerifier::builder_with_provider(ca.roots(), provider()).build().unwrap(),
        ),
    };
    builder.with_single_cert(cert.chain(), cert.key_der()).unwrap()
}

/// An https server on 127.0.0.1 that answers every request with the JWKS.
struct TlsServer {
    addr: SocketAddr,
    /// HTTP requests answered: a refused handshake never becomes one.
    requests: Arc<AtomicUsize>,
}

impl TlsServer {
    async fn start(config: ServerConfig, jwks: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let counter = requests.clone();
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else { return };
                let (acceptor, counter, jwks) = (acceptor.clone(), counter.clone(), jwks.clone());
                tokio::spawn(async move {
                    // An unknown CA on the client's side, or a missing client
                    // certificate on ours, ends the connection here.
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let service = service_fn(move |_: Request<hyper::body::Incoming>| {
                        let (counter, jwks) = (counter.clone(), jwks.clone());
                        async move {
                            counter.fetch_add(1, Ordering::SeqCst);
                            let response = Response::builder()
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from(jwks)))
                                .unwrap();
                            Ok::<_, Infallible>(response)
                        }
                    });
                    let _ =
                        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), service).await;
                });
            }
        });
        Self { addr, requests }
    }

    /// https, so no loopback opt-in is needed.
    fn url(&self) -> String {
        format!("https://{}/jwks.json", self.addr)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// A source for `server` with no background task: only `fetch_now` fetches.
fn config(server: &TlsServer) -> JwksConfig {
    JwksConfig::new(server.url()).background_refresh(false)
}

/// The failure of a fetch that should not get through.
async fn refused(source: &JwksSource) -> String {
    match source.fetch_now().await {
        Err(FetchError::Http(cause)) => cause,
        other => panic!("expected a refused connection, got {other:?}"),
    }
}

#[tokio::test]
async fn forbid_a_server_certificate_from_a_ca_nobody_added() {
    let (ca, other) = (Ca::new("issuer CA"), Ca::new("some other CA"));
    let issuer = Issuer::new(&["k"]);
    let server = TlsServer::start(server_config(&ca.server(), None), issuer.jwks(&["k"])).await;
    // A root is added, so the outcome does not depend on the machine's CA
    // store: it is just not the one that signed the server's certificate.
    let source = config(&server).add_root_certificate_pem(other.pem().as_bytes()).build().unwrap();
    let cause = refused(&source).await;
    assert!(cause.to_ascii_lowercase().contains("certificate"), "{cause}");
    assert_eq!(server.requests(), 0);
}

#[tokio::test]
async fn an_added_root_is_trusted_and_the_keys_load() {
    let ca = Ca::new("issuer CA");
    let issuer = Issuer::new(&["k"]);
    let server = TlsServer::start(server_config(&ca.server(), None), issuer.jwks(&["k"])).await;
    let source = config(&server).add_root_certificate_pem(ca.pem().as_bytes()).build().unwrap();
    assert_eq!(source.fetch_now().await.unwrap(), 1);
    assert_eq!(code(&verifier(source), &issuer.token("k")).await, Ok(()));
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn a_bundle_with_several_roots_is_read_whole() {
    let (ca, other) = (Ca::new("issuer CA"), Ca::new("some other CA"));
    let issuer = Issuer::new(&["k"]);
    let server = TlsServer::start(server_config(&ca.server(), None), issuer.jwks(&["k"])).await;
    // The issuer's CA second in the file, after another block kind.
    let bundle = format!("{}\n{}\n{}", other.pem(), ca.client().key_pem(), ca.pem());
    let source = config(&server).add_root_certificate_pem(bundle.as_bytes()).build().unwrap();
    assert_eq!(source.fetch_now().await.unwrap(), 1);
}

#[tokio::test]
async fn a_required_client_certificate_is_presented() {
    let (ca, clients) = (Ca::new("issuer CA"), Ca::new("client CA"));
    let issuer = Issuer::new(&["k"]);
    let server = TlsServer::start(server_config(&ca.server(), Some(&clients)), issuer.jwks(&["k"])).await;
    let client = clients.client();
    let source = config(&server)
        .add_root_certificate_pem(ca.pem().as_bytes())
        .client_identity_pem(client.cert_pem().as_bytes(), client.key_pem().as_bytes())
        .build()
        .unwrap();
    assert_eq!(source.fetch_now().await.unwrap(), 1);
    assert_eq!(code(&verifier(source), &issuer.token("k")).await, Ok(()));
    assert_eq!(server.requests(), 1);

    // One combined file (key and certificate) for both halves works too.
    let combined = format!("{}\n{}", client.key_pem(), client.cert_pem());
    let source = config(&server)
        .add_root_certificate_pem(ca.pem().as_bytes())
        .client_identity_pem(combined.as_bytes(), combined.as_bytes())
        .build()
        .unwrap();
    assert_eq!(source.fetch_now().await.unwrap(), 1);
}

#[tokio::test]
async fn forbid_a_fetch_without_the_client_certificate_the_server_requires() {
    let (ca, clients) = (Ca::new("issuer CA"), Ca::new("client CA"));
    let issuer = Issuer::new(&["k"]);
    let server = TlsServer::start(server_config(&ca.server(), Some(&clients)), issuer.jwks(&["k"])).await;
    let source = config(&server).add_root_certificate_pem(ca.pem().as_bytes()).build().unwrap();
    refused(&source).await;
    // A certificate from a CA the server does not accept is refused as well.
    let stranger = Ca::new("stranger CA").client();
    let source = config(&server)
        .add_root_certificate_pem(ca.pem().as_bytes())
        .client_identity_pem(stranger.cert_pem().as_bytes(), stranger.key_pem().as_bytes())
        .build()
        .unwrap();
    refused(&source).await;
    assert_eq!(server.requests(), 0);
}

/// A CONNECT proxy on 127.0.0.1 that tunnels to loopback targets only and
/// records each request line.
async fn start_proxy() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else { return };
            let record = record.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0_u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
                    if client.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let line = String::from_utf8_lossy(&head).lines().next().unwrap_or_default().to_owned();
                record.lock().unwrap().push(line.clone());
                let target = line.strip_prefix("CONNECT ").and_then(|rest| rest.split(' ').next()).unwrap_or_default();
                if !target.starts_with("127.0.0.1:") {
                    let _ = client.write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n").await;
                    return;
                }
                let Ok(mut upstream) = TcpStream::connect(target).await else { return };
                if client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await.is_ok() {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
    (addr, seen)
}

#[tokio::test]
async fn an_explicit_proxy_carries_the_fetch_and_tls_stays_end_to_end() {
    let ca = Ca::new("issuer CA");
    let issuer = Issuer::new(&["k"]);
    let server = TlsServer::start(server_config(&ca.server(), None), issuer.jwks(&["k"])).await;
    let (proxy, seen) = start_proxy().await;
    let source =
        config(&server).add_root_certificate_pem(ca.pem().as_bytes()).proxy(format!("http://{proxy}")).build().unwrap();
    assert_eq!(source.fetch_now().await.unwrap(), 1);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].starts_with(&format!("CONNECT {} ", server.addr)), "{seen:?}");
    assert_eq!(server.requests(), 1);
}

fn pem_error(config: JwksConfig) -> (PemSetting, String) {
    let error = config.build().expect_err("a PEM error");
    match &error {
        ConfigError::Pem { setting, .. } => (*setting, error.to_string()),
        other => panic!("expected a PEM error, got {other:?}"),
    }
}

#[tokio::test]
async fn forbid_unusable_pem_naming_the_setting_but_not_the_material() {
    let ca = Ca::new("issuer CA");
    let client = ca.client();
    let key = client.key_pem();
    let key_line = key.lines().nth(1).unwrap().to_owned();
    let base = || JwksConfig::new("https://issuer.test/jwks.json").background_refresh(false);

    let (setting, text) = pem_error(base().add_root_certificate_pem(b"not a certificate"));
    assert_eq!(setting, PemSetting::RootCertificates);
    assert!(text.starts_with("add_root_certificate_pem: "), "{text}");

    // A key where a CA was expected: no certificate, and no key in the message.
    let (setting, text) = pem_error(base().add_root_certificate_pem(key.as_bytes()));
    assert_eq!(setting, PemSetting::RootCertificates);
    assert!(!text.contains(&key_line), "{text}");

    // Valid base64 that is not a certificate: found when reqwest parses it.
    let junk = "-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n";
    assert_eq!(pem_error(base().add_root_certificate_pem(junk.as_bytes())).0, PemSetting::RootCertificates);

    // The two halves of the identity swapped, or missing.
    let (setting, text) = pem_error(base().client_identity_pem(key.as_bytes(), client.cert_pem().as_bytes()));
    assert_eq!(setting, PemSetting::ClientCertificates, "{text}");
    assert!(!text.contains(&key_line), "{text}");
    assert_eq!(pem_error(base().client_identity_pem(client.cert_pem().as_bytes(), b"")).0, PemSetting::ClientKey);

    // A key that is not the certificate's.
    let other_key = ca.client().key_pem();
    let (setting, text) = pem_error(base().client_identity_pem(client.cert_pem().as_bytes(), other_key.as_bytes()));
    assert_eq!(setting, PemSetting::ClientKey, "{text}");
    assert!(!text.contains(&other_key.lines().nth(1).unwrap().to_owned()), "{text}");

    // Debug shows lengths, never the key.
    let configured = base().client_identity_pem(client.cert_pem().as_bytes(), key.as_bytes());
    let shown = format!("{configured:?}");
    assert!(!shown.contains(&key_line), "{shown}");
    assert!(shown.contains(&format!("<PEM, {} bytes>", key.len())), "{shown}");
}

#[tokio::test]
async fn proxy_settings_are_checked_and_never_shown_with_credentials() {
    let base = || JwksConfig::new("https://issuer.test/jwks.json").background_refresh(false);
    for bad in ["ftp://proxy.test:21", "http://", "socks5://proxy.test:1080"] {
        match base().proxy(bad).build() {
            Err(ConfigError::Proxy(why)) => assert!(!why.contains("proxy.test"), "{why}"),
            other => panic!("{bad}: expected a proxy error, got {other:?}"),
        }
    }
    // No scheme means http://.
    assert!(base().proxy("proxy.test:3128").build().is_ok());
    let shown = format!("{:?}", base().proxy("http://alice:s3cret@proxy.test:3128"));
    assert!(shown.contains("http://proxy.test:3128"), "{shown}");
    assert!(!shown.contains("s3cret") && !shown.contains("alice"), "{shown}");
}

#[tokio::test]
async fn a_callers_client_takes_none_of_the_own_client_settings() {
    let ca = Ca::new("issuer CA");
    let base = || JwksConfig::new("https://issuer.test/jwks.json").background_refresh(false);
    let client = reqwest::Client::new();
    match base().http_client(client.clone()).add_root_certificate_pem(ca.pem().as_bytes()).build() {
        Err(ConfigError::HttpClient(setting)) => assert_eq!(setting, "add_root_certificate_pem"),
        other => panic!("{other:?}"),
    }
    match base().http_client(client.clone()).proxy_from_env(true).build() {
        Err(ConfigError::HttpClient(setting)) => assert_eq!(setting, "proxy_from_env"),
        other => panic!("{other:?}"),
    }
    // The https-only rule still holds for the URL it would request.
    let insecure = JwksConfig::new("http://issuer.test/jwks.json").http_client(client.clone()).build();
    assert!(matches!(insecure, Err(ConfigError::InsecureUrl(_))), "{insecure:?}");
    assert!(base().http_client(client).build().is_ok());
}

#[tokio::test]
async fn a_callers_client_is_used_as_it_is() {
    let ca = Ca::new("issuer CA");
    let issuer = Issuer::new(&["k"]);
    let server = TlsServer::start(server_config(&ca.server(), None), issuer.jwks(&["k"])).await;
    let root = reqwest::Certificate::from_pem(ca.pem().as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .tls_certs_only([root])
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();
    let source = config(&server).http_client(client).build().unwrap();
    assert_eq!(source.fetch_now().await.unwrap(), 1);
    assert_eq!(server.requests(), 1);
}
