//! `cargo xtask bench`: the load benchmark of jwtgate-hyper.
//!
//! A hyper server on 127.0.0.1 answers `GET /orders` with and without the
//! middleware; `wrk` (Debian package `wrk`) drives it with a fixed number
//! of requests over keep-alive connections, each carrying one of 100
//! distinct tokens (no verified-token cache exists, so every request pays
//! a full verification). Next to each result: the time of one `verify` on
//! one core, and the throughput that would make the signature the only
//! cost on both cores.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use http::{Request, Response};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use jwtgate_hyper::JwtAuthLayer;
use jwtgate_verify::{Algorithm, KeyOrigin, KeySet, Scratch, Verifier};
use tower::Layer as _;
use xtask::alg::Alg;
use xtask::error::{Context as _, Error, Result};
use xtask::{keygen, mint};

use xtask::serve::serve;

pub(crate) const ISS: &str = "https://issuer.bench";
pub(crate) const AUD: &str = "orders";

/// Counts finished requests and stops at the limit, so every scenario
/// serves the same number of requests. wrk itself only knows durations: a
/// stopped thread still leaves its main thread sleeping for `-d`, so the
/// script also interrupts wrk (SIGINT, which wrk handles by ending the run;
/// `io.popen`, not `os.execute`: system(3) ignores SIGINT in the caller
/// while it runs). The signal may land on the worker thread instead, and
/// then wrk's main thread sleeps on and its Requests/sec is taken over the
/// whole `-d`: so the script also reads the wall clock (`date`) at the
/// first request and at the last response and prints the elapsed time,
/// which is what the throughput is computed from.
pub(crate) const SCRIPT: &str = r#"
local tokens = {}
local path = os.getenv("JWTGATE_TOKENS")
if path ~= nil and path ~= "" then
  for line in io.lines(path) do tokens[#tokens + 1] = line end
end
local limit = tonumber(os.getenv("JWTGATE_REQUESTS"))
local sent = 0
local finished = 0
local started = nil
local function now()
  local p = io.popen("date +%s.%N")
  local t = tonumber(p:read("*l"))
  p:close()
  return t
end
request = function()
  if started == nil then started = now() end
  sent = sent + 1
  if #tokens == 0 then return wrk.format("GET", "/orders") end
  return wrk.format("GET", "/orders", { ["Authorization"] = "Bearer " .. tokens[(sent % #tokens) + 1] })
end
response = function(status, headers, body)
  finished = finished + 1
  if finished == limit then
    io.write(string.format("JWTGATE_ELAPSED %.6f\n", now() - started))
    io.flush()
    wrk.thread:stop()
    io.popen("kill -INT $PPID"):close()
  end
end
"#;

/// A benchmark's directory under target/, emptied, with the wrk script and
/// an empty token list (for requests without a token) in it.
pub(crate) struct Workdir {
    pub(crate) dir: PathBuf,
    pub(crate) script: PathBuf,
    pub(crate) no_tokens: PathBuf,
}

impl Workdir {
    pub(crate) fn fresh(dir: &Path) -> Result<Self> {
        if dir.exists() {
            std::fs::remove_dir_all(dir).context(|| format!("cannot clear {}", dir.display()))?;
        }
        std::fs::create_dir_all(dir).context(|| format!("cannot create {}", dir.display()))?;
        let script = dir.join("tokens.lua");
        std::fs::write(&script, SCRIPT).context(|| "cannot write the wrk script".to_owned())?;
        let no_tokens = dir.join("none.txt");
        std::fs::write(&no_tokens, "").context(|| "cannot write the empty token list".to_owned())?;
        Ok(Self { dir: dir.to_path_buf(), script, no_tokens })
    }
}

/// A fresh `alg` key in `dir/ALG/`, 100 tokens of distinct subjects signed
/// with it (valid for an hour, `claims` added), and the file wrk reads them
/// from.
pub(crate) fn keys_and_tokens(
    dir: &Path,
    alg: Alg,
    claims: Option<&str>,
) -> Result<(keygen::Written, Vec<String>, PathBuf)> {
    let name = Algorithm::name(alg);
    let keys = keygen::run(&keygen::Request {
        alg,
        bits: None,
        kid: Some(name.to_owned()),
        out: dir.join(name),
        force: true,
    })?;
    let tokens = (0..100)
        .map(|i| {
            mint::run(&mint::Request {
                key: keys.private_jwk.clone(),
                iss: ISS.into(),
                aud: vec![AUD.into()],
                sub: format!("user-{i}"),
                ttl: "1h".into(),
                claims: claims.map(str::to_owned),
                ..Default::default()
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let token_file = dir.join(format!("{name}.txt"));
    std::fs::write(&token_file, tokens.join("\n")).context(|| "cannot write the tokens".to_owned())?;
    Ok((keys, tokens, token_file))
}

/// One line of the result table.
pub(crate) struct Row {
    pub(crate) scenario: String,
    pub(crate) requests_per_sec: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    verify_us: Option<f64>,
}

/// `proxy_bench`: the `jwtgate serve` benchmark instead (see `bench_serve`).
pub(crate) fn run(root: &Path, requests: u64, connections: u32, proxy_bench: bool) -> Result<()> {
    // `cargo xtask` builds the dev profile; numbers from an unoptimised
    // server would measure the compiler, not the middleware.
    if cfg!(debug_assertions) {
        println!("building the release profile of xtask for the benchmark...");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(root)
            .args(["run", "--quiet", "--release", "--package", "xtask", "--", "bench"])
            .args(["--requests", &requests.to_string(), "--connections", &connections.to_string()])
            .args(proxy_bench.then_some("--serve"))
            .status()
            .context(|| "cannot run cargo".to_owned())?;
        return if status.success() { Ok(()) } else { Err(Error::msg("the release benchmark failed")) };
    }
    match Command::new("wrk").arg("--version").output() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::msg("`wrk` is not installed: `apt-get install wrk` (Debian/Ubuntu), then run again"));
        }
        _ => {}
    }
    if proxy_bench {
        return crate::bench_serve::run(root, requests, connections);
    }
    let Workdir { dir, script, no_tokens: empty } = Workdir::fresh(&root.join("target/xtask-bench"))?;

    let rt = xtask::serve::runtime()?;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!(
        "load benchmark: {requests} requests per scenario, {connections} connections, wrk 1 thread, server 2 \
         worker threads, {cores} cores, crypto backend {}\n",
        jwtgate_verify::CRYPTO_BACKEND
    );

    let mut rows = Vec::new();
    let server = rt.block_on(serve(0, tower::service_fn(ok)))?;
    rows.push(drive(&script, &empty, server.addr, requests, connections, "no auth".to_owned(), None)?);
    drop(server);

    for alg in [Alg::EdDSA, Alg::ES256, Alg::RS256, Alg::HS256] {
        let name = Algorithm::name(alg);
        let (keys, tokens, token_file) = keys_and_tokens(&dir, alg, Some(r#"{"scope":"orders:read"}"#))?;

        // HMAC secrets are only in the private JWK; public keys in jwks.json.
        let jwks = match &keys.jwks {
            Some(path) => std::fs::read_to_string(path).context(|| format!("cannot read {}", path.display()))?,
            None => {
                let jwk = std::fs::read_to_string(&keys.private_jwk).context(|| "cannot read the key".to_owned())?;
                format!("{{\"keys\":[{jwk}]}}")
            }
        };
        let verifier = || -> Result<Verifier> {
            let keys = KeySet::from_jwks_str(&jwks, KeyOrigin::Local).map_err(|e| Error::msg(format!("keys: {e}")))?;
            Verifier::builder()
                .issuer(ISS)
                .audience(AUD)
                .algorithms([alg])
                .build(keys)
                .map_err(|e| Error::msg(format!("verifier: {e}")))
        };
        let verify_us = time_verify(&verifier()?, &tokens)?;
        let service = JwtAuthLayer::new(verifier()?).layer(tower::service_fn(ok));
        let server = rt.block_on(serve(0, service))?;
        rows.push(drive(&script, &token_file, server.addr, requests, connections, name.to_owned(), Some(verify_us))?);
    }

    // Loopback load shares the cores with the load generator and the HTTP
    // stack, so the honest ceiling is "no-auth cost + signature cost" per
    // request; the pure signature bound is shown next to it.
    let http_rps = rows.first().map_or(f64::INFINITY, |r| r.requests_per_sec);
    println!(
        "| scenario | requests/s | p99 latency | verify, 1 core | signature-bound limit, {cores} cores | HTTP + verify limit | reached |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for row in &rows {
        match row.verify_us {
            None => {
                println!("| {} | {:.0} | {:.2} ms | - | - | - | - |", row.scenario, row.requests_per_sec, row.p99_ms)
            }
            Some(us) => {
                #[allow(clippy::cast_precision_loss, reason = "a core count")]
                let bound = cores as f64 * 1e6 / us;
                let with_http = 1.0 / (1.0 / bound + 1.0 / http_rps);
                println!(
                    "| {} | {:.0} | {:.2} ms | {us:.1} µs | {bound:.0} | {with_http:.0} | {:.0}% |",
                    row.scenario,
                    row.requests_per_sec,
                    row.p99_ms,
                    100.0 * row.requests_per_sec / with_http
                );
            }
        }
    }
    Ok(())
}

pub(crate) async fn ok(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
}

/// Mean time of one `verify` over the tokens, single-threaded.
fn time_verify(verifier: &Verifier, tokens: &[String]) -> Result<f64> {
    let mut scratch = Scratch::new();
    let rounds = 20;
    let start = Instant::now();
    for _ in 0..rounds {
        for token in tokens {
            verifier.verify(token, &mut scratch).map_err(|e| Error::msg(format!("bench token refused: {e}")))?;
        }
    }
    #[allow(clippy::cast_precision_loss, reason = "a few thousand")]
    let n = (rounds * tokens.len()) as f64;
    Ok(start.elapsed().as_secs_f64() * 1e6 / n)
}

pub(crate) fn drive(
    script: &Path,
    tokens: &Path,
    addr: std::net::SocketAddr,
    requests: u64,
    connections: u32,
    scenario: String,
    verify_us: Option<f64>,
) -> Result<Row> {
    let output = Command::new("wrk")
        .args(["-t1", &format!("-c{connections}"), "-d120s", "--latency", "-s"])
        .arg(script)
        .arg(format!("http://{addr}/orders"))
        .env("JWTGATE_TOKENS", tokens)
        .env("JWTGATE_REQUESTS", requests.to_string())
        .output()
        .context(|| "cannot run wrk".to_owned())?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(Error::msg(format!("wrk failed: {}{text}", String::from_utf8_lossy(&output.stderr))));
    }
    if let Some(line) = text.lines().find(|l| l.contains("Non-2xx")) {
        return Err(Error::msg(format!(
            "{scenario}: the server refused requests ({}); wrk said:\n{text}",
            line.trim()
        )));
    }
    // The script's own clock when it printed it (see SCRIPT); wrk's figure
    // only if not.
    #[allow(clippy::cast_precision_loss, reason = "a request count")]
    let requests_per_sec = field(&text, "JWTGATE_ELAPSED")
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|&secs| secs > 0.0)
        .map(|secs| requests as f64 / secs)
        .or_else(|| field(&text, "Requests/sec:").and_then(|v| v.parse().ok()));
    let percentile = |p: &str| {
        text.lines().find(|l| l.trim_start().starts_with(p)).and_then(|l| l.split_whitespace().nth(1)).and_then(millis)
    };
    let (Some(requests_per_sec), Some(p50_ms), Some(p99_ms)) = (requests_per_sec, percentile("50%"), percentile("99%"))
    else {
        return Err(Error::msg(format!("cannot read wrk's output:\n{text}")));
    };
    println!("{scenario}: {requests_per_sec:.0} requests/s, p50 {p50_ms:.2} ms, p99 {p99_ms:.2} ms");
    Ok(Row { scenario, requests_per_sec, p50_ms, p99_ms, verify_us })
}

fn field<'t>(text: &'t str, name: &str) -> Option<&'t str> {
    text.lines().find_map(|l| l.trim_start().strip_prefix(name)).map(str::trim)
}

/// wrk's durations: `812.00us`, `3.20ms`, `1.05s`.
fn millis(v: &str) -> Option<f64> {
    let (number, scale) = if let Some(n) = v.strip_suffix("us") {
        (n, 1e-3)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1e3)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|n| n * scale)
}
