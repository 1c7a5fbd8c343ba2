//! `cargo xtask demo`: the whole system on 127.0.0.1, in one command.
//!
//! An issuer (see [`crate::issuer`]) publishes OIDC discovery metadata and
//! a JWKS with an ES256 and an EdDSA key. An "orders" service protected by
//! jwtgate-hyper finds those keys through jwtgate-jwks (discovery, cache,
//! refetch on unknown `kid` with a cooldown) and answers a scripted set of
//! requests: valid tokens, expired and misdirected ones, the classic
//! attacks, a key rotation, a revocation (jwtgate-revoke's in-memory
//! list) and an issuer outage. Each case states what it
//! expects; [`Demo::all_as_expected`] is the verdict, and the end-to-end
//! tests assert exactly that.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use http::{Request, Response};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use jwtgate_hyper::{JwtAuthLayer, RegisteredClaims};
use jwtgate_jwks::JwksConfig;
use jwtgate_revoke::{RevocationList, Rule};
use jwtgate_verify::{Algorithm, Verifier};
use tower::Layer as _;

use crate::alg::Alg;
use crate::error::{Context as _, Error, Result};
use crate::issuer::Issuer;
use crate::jwk::b64;
use crate::serve::{Server, serve};
use crate::{keygen, mint};

/// The audience the orders service accepts.
pub const AUD: &str = "orders-api";
/// The scope its route requires.
pub const SCOPE: &str = "orders:read";
/// The refetch cooldown of the demo's key source. Production uses the
/// default (30 s); one second keeps the demo short while still showing
/// that a second unknown `kid` inside the window costs no fetch.
pub const COOLDOWN: Duration = Duration::from_secs(1);

/// What one scripted request expected and got.
#[derive(Clone, Debug)]
pub struct Case {
    /// What the request shows.
    pub name: &'static str,
    /// Expected HTTP status.
    pub expected_status: u16,
    /// Expected rejection code (`-` for success).
    pub expected_code: &'static str,
    /// Status received.
    pub status: u16,
    /// Rejection code received (the `code` member of the error body), `-`
    /// for success.
    pub code: String,
    /// Round trip as the client saw it.
    pub latency: Duration,
    /// JWKS requests the issuer received during this case.
    pub jwks_fetches: u64,
}

impl Case {
    /// Whether the service answered as expected.
    #[must_use]
    pub fn as_expected(&self) -> bool {
        self.status == self.expected_status && self.code == self.expected_code
    }
}

/// A finished run: the cases, and the servers still up (for
/// `--keep-running`).
pub struct Demo {
    /// Every case, in order.
    pub cases: Vec<Case>,
    /// The issuer (down at the end: the last cases are the outage).
    pub issuer: Issuer,
    /// The protected service.
    pub service: Server,
    /// A valid token for trying the service by hand (1 h lifetime).
    pub curl_token: String,
    /// Requests the service's middleware counted, by outcome.
    pub outcomes: Vec<(&'static str, u64)>,
}

impl Demo {
    /// `true` when every case got its expected status and code.
    #[must_use]
    pub fn all_as_expected(&self) -> bool {
        !self.cases.is_empty() && self.cases.iter().all(Case::as_expected)
    }

    /// JWKS requests the issuer received in total.
    #[must_use]
    pub fn jwks_fetches(&self) -> u64 {
        self.issuer.jwks_requests()
    }
}

/// Keys made for the demo.
struct Keys {
    es: keygen::Written,
    ed: keygen::Written,
    /// Published only at the rotation.
    next: keygen::Written,
    /// Never published: its tokens carry an unknown `kid`.
    rogue: keygen::Written,
    jwks: String,
    rotated_jwks: String,
}

fn make_keys(dir: &Path) -> Result<Keys> {
    let gen_key = |alg, kid: &str, sub: &str| {
        keygen::run(&keygen::Request { alg, bits: None, kid: Some(kid.to_owned()), out: dir.join(sub), force: true })
    };
    let es = gen_key(Alg::ES256, "es-1", "issuer")?;
    let ed = gen_key(Alg::EdDSA, "ed-1", "issuer")?;
    let next = gen_key(Alg::EdDSA, "ed-2", "next")?;
    let rogue = gen_key(Alg::ES256, "rogue-1", "rogue")?;
    let read = |p: &Option<PathBuf>| -> Result<serde_json::Value> {
        let p = p.as_ref().ok_or_else(|| Error::msg("keygen wrote no JWKS"))?;
        let text = std::fs::read_to_string(p).context(|| format!("cannot read {}", p.display()))?;
        serde_json::from_str(&text).context(|| format!("{} is not JSON", p.display()))
    };
    let published = read(&es.jwks)?;
    let incoming = read(&next.jwks)?;
    let mut keys: Vec<serde_json::Value> =
        published.get("keys").and_then(serde_json::Value::as_array).cloned().unwrap_or_default();
    keys.extend(incoming.get("keys").and_then(serde_json::Value::as_array).cloned().unwrap_or_default());
    let rotated_jwks = serde_json::json!({ "keys": keys }).to_string();
    Ok(Keys { es, ed, next, rogue, jwks: published.to_string(), rotated_jwks })
}

/// Runs every case against a fresh issuer and service; the service listens
/// on `port` (0: any free port). Keys go to `dir`.
///
/// # Errors
///
/// Setup failures (keys, ports, the first key fetch). A case that gets an
/// unexpected answer is not an error: see [`Demo::all_as_expected`].
pub async fn run_cases(dir: &Path, port: u16) -> Result<Demo> {
    let keys = make_keys(dir)?;
    let issuer = Issuer::start(keys.jwks.clone()).await?;
    let iss = issuer.url();

    // The service: discovery -> JWKS, cached, refetched on unknown kid.
    let source = JwksConfig::discover(iss.clone())
        .allow_insecure_loopback()
        .cooldown(COOLDOWN)
        .build()
        .map_err(|e| Error::msg(format!("key source: {e}")))?;
    source.fetch_now().await.map_err(|e| Error::msg(format!("first key fetch: {e}")))?;
    // The service's revocation list: an admin endpoint (here, the script)
    // holds one handle, the verifier another.
    let revocations = RevocationList::new();
    let verifier = Verifier::builder()
        .issuer(iss.clone())
        .audience(AUD)
        .algorithms([Algorithm::ES256, Algorithm::EdDSA])
        .rfc9068_access_token()
        .revocation(revocations.clone())
        .build(source)
        .map_err(|e| Error::msg(format!("verifier: {e}")))?;
    let layer = JwtAuthLayer::new(verifier).realm("orders").require_scopes([SCOPE]);
    let stats = layer.stats();
    let service = serve(port, layer.layer(tower::service_fn(orders))).await?;
    let url = format!("http://{}/orders", service.addr);

    let token = |key: &keygen::Written, change: &dyn Fn(mint::Request) -> mint::Request| {
        mint::run(&change(mint::Request {
            key: key.private_jwk.clone(),
            iss: iss.clone(),
            aud: vec![AUD.to_owned()],
            sub: "checkout-service".to_owned(),
            client_id: Some("checkout".to_owned()),
            ttl: "5m".to_owned(),
            claims: Some(format!(r#"{{"scope":"{SCOPE}"}}"#)),
            typ: "at+jwt".to_owned(),
            ..mint::Request::default()
        }))
    };
    let same = |r: mint::Request| r;
    let valid_es = token(&keys.es, &same)?;
    let (head, rest) = valid_es.split_once('.').unwrap_or_default();
    let (payload, signature) = rest.split_once('.').unwrap_or_default();
    let forged_claims = serde_json::json!({
        "iss": iss, "aud": AUD, "sub": "admin", "client_id": "checkout", "scope": SCOPE,
        "iat": 0, "exp": 9_999_999_999_i64, "jti": "forged",
    })
    .to_string();
    let public_pem = keys.es.public_pem.clone().ok_or_else(|| Error::msg("keygen wrote no public PEM"))?;

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| Error::msg(format!("HTTP client: {e}")))?;
    let mut cases = Vec::new();
    let mut run = async |name, token: Option<String>, status, code| -> Result<()> {
        cases.push(send(&client, &url, &issuer, name, token, (status, code)).await?);
        Ok(())
    };

    run("valid ES256 token", Some(valid_es.clone()), 200, "-").await?;
    run("valid EdDSA token", Some(token(&keys.ed, &same)?), 200, "-").await?;
    run("no token", None, 401, "missing_token").await?;
    run("expired an hour ago", Some(token(&keys.es, &|r| mint::Request { ttl: "-1h".into(), ..r })?), 401, "expired")
        .await?;
    run(
        "not valid for 10 more minutes",
        Some(token(&keys.es, &|r| mint::Request { nbf: Some("+10m".into()), ..r })?),
        401,
        "not_yet_valid",
    )
    .await?;
    run(
        "for another audience",
        Some(token(&keys.es, &|r| mint::Request { aud: vec!["billing-api".into()], ..r })?),
        401,
        "invalid_audience",
    )
    .await?;
    run(
        "from another issuer",
        Some(token(&keys.es, &|r| mint::Request { iss: "https://evil.example".into(), ..r })?),
        401,
        "invalid_issuer",
    )
    .await?;
    run(
        "alg none, empty signature",
        Some(format!("{}.{payload}.", b64(r#"{"alg":"none","typ":"at+jwt"}"#))),
        401,
        "malformed",
    )
    .await?;
    run(
        "HS256 keyed with the ES256 public key",
        Some(hmac_with(&public_pem, dir, &forged_claims, "es-1")?),
        401,
        "unsupported_alg",
    )
    .await?;
    run(
        "claims edited after signing",
        Some(format!("{head}.{}.{signature}", b64(&forged_claims))),
        401,
        "bad_signature",
    )
    .await?;
    // Past the cooldown of the start-up fetch, so the unknown kid may refetch.
    tokio::time::sleep(COOLDOWN + Duration::from_millis(100)).await;
    run("unknown kid: one refetch", Some(token(&keys.rogue, &same)?), 401, "key_not_found").await?;
    run("unknown kid again: cooldown, no fetch", Some(token(&keys.rogue, &same)?), 401, "key_not_found").await?;

    issuer.publish(keys.rotated_jwks.clone());
    tokio::time::sleep(COOLDOWN + Duration::from_millis(100)).await;
    run("rotation: new kid ed-2 accepted", Some(token(&keys.next, &same)?), 200, "-").await?;
    run(
        "scope profile only (needs orders:read)",
        Some(token(&keys.es, &|r| mint::Request { claims: Some(r#"{"scope":"profile"}"#.into()), ..r })?),
        403,
        "insufficient_scope",
    )
    .await?;

    // An incident: one token leaked. Revoked by its jti, it is refused at
    // once, while the same caller's other tokens still pass.
    let leaked = token(&keys.ed, &|r| mint::Request {
        claims: Some(format!(r#"{{"scope":"{SCOPE}","jti":"leaked-7f3a"}}"#)),
        ..r
    })?;
    run("leaked token, before revocation", Some(leaked.clone()), 200, "-").await?;
    let exp = unix_now().saturating_add(300);
    revocations
        .revoke(Rule::jti(iss.clone(), "leaked-7f3a", exp).with_reason("demo: leaked in a log"))
        .map_err(|e| Error::msg(format!("revoke: {e}")))?;
    run("leaked token, revoked by jti", Some(leaked), 401, "revoked").await?;

    issuer.set_down(true);
    run("issuer down: cached keys still verify", Some(valid_es.clone()), 200, "-").await?;
    tokio::time::sleep(COOLDOWN + Duration::from_millis(100)).await;
    run("issuer down: unknown kid, nothing cached", Some(token(&keys.rogue, &same)?), 503, "key_source_unavailable")
        .await?;

    let curl_token = token(&keys.es, &|r| mint::Request { ttl: "1h".into(), ..r })?;
    Ok(Demo { cases, issuer, service, curl_token, outcomes: stats.snapshot() })
}

/// Now, in Unix seconds (for rule and token times).
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The protected route: it runs only for requests the middleware let through.
async fn orders(req: Request<Incoming>) -> std::result::Result<Response<Full<Bytes>>, Infallible> {
    let who = req.extensions().get::<RegisteredClaims>().and_then(RegisteredClaims::subject).unwrap_or("?");
    Ok(Response::new(Full::new(Bytes::from(format!("{{\"orders\":[],\"for\":\"{who}\"}}")))))
}

async fn send(
    client: &reqwest::Client,
    url: &str,
    issuer: &Issuer,
    name: &'static str,
    token: Option<String>,
    (expected_status, expected_code): (u16, &'static str),
) -> Result<Case> {
    let fetches_before = issuer.jwks_requests();
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let started = Instant::now();
    let response = request.send().await.map_err(|e| Error::msg(format!("{name}: request failed: {e}")))?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(|e| Error::msg(format!("{name}: body: {e}")))?;
    let latency = started.elapsed();
    let code = if status == 200 {
        "-".to_owned()
    } else {
        serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("code").and_then(serde_json::Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| "?".to_owned())
    };
    Ok(Case {
        name,
        expected_status,
        expected_code,
        status,
        code,
        latency,
        jwks_fetches: issuer.jwks_requests() - fetches_before,
    })
}

/// The key-confusion attack: the issuer's *public* key PEM used as an HMAC
/// secret, naming the issuer's kid (CVE-2016-10555 and its many siblings).
fn hmac_with(public_pem: &Path, dir: &Path, claims: &str, kid: &str) -> Result<String> {
    let pem = std::fs::read(public_pem).context(|| format!("cannot read {}", public_pem.display()))?;
    let forged = dir.join("attacker-hmac.json");
    let jwk = serde_json::json!({ "kty": "oct", "k": b64(&pem), "alg": "HS256" });
    std::fs::write(&forged, jwk.to_string()).context(|| format!("cannot write {}", forged.display()))?;
    let header = serde_json::json!({ "alg": "HS256", "typ": "at+jwt", "kid": kid });
    mint::sign_raw(&forged, &header.to_string(), claims)
}

/// The table `cargo xtask demo` prints.
#[must_use]
pub fn table(demo: &Demo) -> String {
    let mut out = format!("{:<42} {:<28} {:<28} {:>7} {:>6}\n", "case", "expected", "got", "latency", "JWKS");
    for c in &demo.cases {
        let expected = format!("{} {}", c.expected_status, c.expected_code);
        let got = format!("{} {}", c.status, c.code);
        let mark = if c.as_expected() { "ok" } else { "UNEXPECTED" };
        let fetches = if c.jwks_fetches == 0 { String::new() } else { format!("+{}", c.jwks_fetches) };
        out.push_str(&format!(
            "{:<42} {expected:<28} {got:<28} {:>5.1}ms {fetches:>6}  {mark}\n",
            c.name,
            c.latency.as_secs_f64() * 1e3
        ));
    }
    out
}

/// `cargo xtask demo [--port P] [--keep-running]`.
///
/// # Errors
///
/// Setup failures, or any case that did not get its expected answer.
pub fn run(root: &Path, port: u16, keep_running: bool) -> Result<()> {
    let started = Instant::now();
    let dir = root.join("target/xtask-demo");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).context(|| format!("cannot clear {}", dir.display()))?;
    }
    crate::serve::runtime()?.block_on(async {
        println!("jwtgate demo: an issuer and a protected service on 127.0.0.1\n");
        let demo = run_cases(&dir, port).await?;
        println!("issuer   {} (OIDC discovery + JWKS: ES256 es-1, EdDSA ed-1; ed-2 published at the rotation)", demo.issuer.url());
        println!(
            "service  http://{}/orders (jwtgate-hyper: ES256/EdDSA pinned, aud {AUD}, RFC 9068 access tokens, scope \
             {SCOPE}; keys by discovery, refetch cooldown {} s)\n",
            demo.service.addr,
            COOLDOWN.as_secs()
        );
        print!("{}", table(&demo));
        let good = demo.cases.iter().filter(|c| c.as_expected()).count();
        println!(
            "\n{good}/{} cases as expected; the issuer served {} JWKS and {} discovery requests; finished in {:.1} s",
            demo.cases.len(),
            demo.jwks_fetches(),
            demo.issuer.discovery_requests(),
            started.elapsed().as_secs_f64()
        );
        let outcomes: Vec<String> =
            demo.outcomes.iter().filter(|(_, n)| *n > 0).map(|(o, n)| format!("{o}={n}")).collect();
        println!("middleware counters: {}", outcomes.join(" "));
        println!("keys and tokens: {}", dir.display());
        if !demo.all_as_expected() {
            return Err(Error::msg("some cases did not get the expected answer (marked UNEXPECTED above)"));
        }
        if keep_running {
            demo.issuer.set_down(false);
            println!(
                "\nstill running (Ctrl-C to stop); the issuer is back up. Try:\n  curl -i -H 'Authorization: Bearer {}' \
                 http://{}/orders",
                demo.curl_token, demo.service.addr
            );
            std::future::pending::<()>().await;
        }
        Ok(())
    })
}
