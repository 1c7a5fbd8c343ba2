//! `cargo xtask demo --fleet`: fleet-wide revocation, shown and timed.
//!
//! A local `redis-server` (found on `PATH`, started in a temporary
//! directory on 127.0.0.1), two replicas of a jwtgate-protected service,
//! each following the store with its own `RedisSync`, and an operator
//! revoking tokens through a `RedisStore`. For each revocation the demo
//! measures the time from the write being acknowledged to the moment both
//! replicas answer 401 `revoked` over HTTP.

use std::convert::Infallible;
use std::path::Path;
use std::time::{Duration, Instant};

use http::{Request, Response};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use jwtgate_hyper::JwtAuthLayer;
use jwtgate_revoke::{RedisConfig, RedisSync, Rule};
use jwtgate_testkit::redis_server::{RedisServer, Unavailable};
use jwtgate_verify::{Algorithm, KeySet, Verifier, VerifyingKey};
use tower::Layer as _;

use crate::alg::Alg;
use crate::demo::unix_now;
use crate::error::{Context as _, Error, Result};
use crate::serve::{Server, serve};
use crate::{keygen, mint};

const ISS: &str = "https://auth.demo.test";
const AUD: &str = "orders-api";
/// Revocations timed after the first, for the spread.
const MORE: usize = 50;

/// One replica: its HTTP server and its follower.
struct Replica {
    server: Server,
    sync: RedisSync,
}

/// What a run measured.
pub struct Fleet {
    /// Delay from `revoke` returning to both replicas refusing, per revocation.
    pub delays: Vec<Duration>,
    /// The first revocation's answers: before and after, per replica.
    pub first: Vec<(u16, u16)>,
}

/// Starts the store and two replicas and revokes `1 + MORE` tokens.
///
/// # Errors
///
/// `redis-server` missing or not starting, setup failures, or a replica
/// that did not refuse a revoked token within 5 s.
pub async fn run_fleet(dir: &Path) -> Result<Fleet> {
    let redis = RedisServer::start(&dir.join("redis")).map_err(|e| match e {
        Unavailable::NotInstalled => Error::msg(
            "the fleet demo needs redis-server on PATH (Debian: apt-get install redis-server); \
             `cargo xtask demo` without --fleet needs nothing",
        ),
        other => Error::msg(other.to_string()),
    })?;
    let key = keygen::run(&keygen::Request {
        alg: Alg::EdDSA,
        bits: None,
        kid: Some("ed-1".into()),
        out: dir.join("keys"),
        force: true,
    })?;
    let public = key.public_jwk.clone().ok_or_else(|| Error::msg("keygen wrote no public JWK"))?;
    let jwk = std::fs::read_to_string(&public).context(|| format!("cannot read {}", public.display()))?;
    let store_config = RedisConfig::new(redis.url());
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let sync = store_config.sync().map_err(|e| Error::msg(format!("revocation sync: {e}")))?;
        let keys = KeySet::new([VerifyingKey::from_jwk_str(&jwk).map_err(|e| Error::msg(format!("key: {e}")))?]);
        let verifier = Verifier::builder()
            .issuer(ISS)
            .audience(AUD)
            .algorithms([Algorithm::EdDSA])
            .revocation(sync.clone())
            .build(keys)
            .map_err(|e| Error::msg(format!("verifier: {e}")))?;
        let server = serve(0, JwtAuthLayer::new(verifier).layer(tower::service_fn(orders))).await?;
        if !sync.wait_ready(Duration::from_secs(5)).await {
            return Err(Error::msg("a replica did not sync with the store within 5 s"));
        }
        replicas.push(Replica { server, sync });
    }
    let store = store_config.store().await.map_err(|e| Error::msg(format!("store: {e}")))?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| Error::msg(format!("HTTP client: {e}")))?;
    let token = |jti: &str| {
        mint::run(&mint::Request {
            key: key.private_jwk.clone(),
            iss: ISS.into(),
            aud: vec![AUD.into()],
            sub: "checkout-service".into(),
            ttl: "5m".into(),
            claims: Some(format!(r#"{{"jti":"{jti}"}}"#)),
            ..mint::Request::default()
        })
    };
    let exp = unix_now().saturating_add(300);
    let mut delays = Vec::new();
    let mut first = Vec::new();
    for n in 0..=MORE {
        let jti = format!("leaked-{n}");
        let token = token(&jti)?;
        let mut before = Vec::new();
        for replica in &replicas {
            before.push(status(&client, replica, &token).await?);
        }
        store.revoke(Rule::jti(ISS, jti, exp)).await.map_err(|e| Error::msg(format!("revoke: {e}")))?;
        let written = Instant::now();
        let mut after = Vec::new();
        for replica in &replicas {
            loop {
                let answer = status(&client, replica, &token).await?;
                if answer == 401 {
                    after.push(answer);
                    break;
                }
                if written.elapsed() > Duration::from_secs(5) {
                    return Err(Error::msg("a replica still accepted a revoked token after 5 s"));
                }
            }
        }
        delays.push(written.elapsed());
        if n == 0 {
            first = before.into_iter().zip(after).collect();
        }
    }
    for replica in &replicas {
        let status = replica.sync.sync_status();
        if status.changes_applied < delays.len() as u64 {
            return Err(Error::msg("a replica applied fewer changes than were written"));
        }
    }
    drop(replicas);
    drop(redis);
    Ok(Fleet { delays, first })
}

async fn status(client: &reqwest::Client, replica: &Replica, token: &str) -> Result<u16> {
    let url = format!("http://{}/orders", replica.server.addr);
    let response = client.get(url).bearer_auth(token).send().await.map_err(|e| Error::msg(format!("request: {e}")))?;
    Ok(response.status().as_u16())
}

async fn orders(_: Request<Incoming>) -> std::result::Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"{\"orders\":[]}"))))
}

/// `cargo xtask demo --fleet`.
///
/// # Errors
///
/// See [`run_fleet`].
pub fn run(root: &Path) -> Result<()> {
    let dir = root.join("target/xtask-demo-fleet");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).context(|| format!("cannot clear {}", dir.display()))?;
    }
    crate::serve::runtime()?.block_on(async {
        println!("jwtgate fleet demo: a local redis-server, two service replicas each following it, one operator\n");
        let fleet = run_fleet(&dir).await?;
        for (i, (before, after)) in fleet.first.iter().enumerate() {
            println!("replica {}: token leaked-0 answered {before} before the revocation, {after} after", i + 1);
        }
        let mut sorted = fleet.delays.clone();
        sorted.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let pick = |q: f64| {
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss,
                reason = "an index into a short list"
            )]
            let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
            sorted.get(i).copied().unwrap_or_default()
        };
        println!(
            "\n{} revocations: from `revoke` returning to both replicas answering 401 revoked over HTTP: \
             first {:.1} ms, median {:.1} ms, max {:.1} ms",
            fleet.delays.len(),
            ms(fleet.delays.first().copied().unwrap_or_default()),
            ms(pick(0.5)),
            ms(pick(1.0))
        );
        println!("(each delay includes the HTTP round trips of the checks themselves)");
        Ok(())
    })
}
