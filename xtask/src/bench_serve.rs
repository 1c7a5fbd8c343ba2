//! `cargo xtask bench --serve`: `jwtgate serve` as a reverse proxy, next
//! to the same upstream reached directly and through nginx as a plain
//! reverse proxy (no auth): the reference cost of one proxy hop on the
//! same machine.
//!
//! The upstream is a hyper server in this process answering `GET /orders`
//! with `ok`. The release `jwtgate` binary and nginx run as child
//! processes; wrk drives each with the same number of requests over
//! keep-alive connections, jwtgate's with 100 distinct tokens (so with the
//! token cache on, all but the first 100 requests are cache hits). Both
//! proxies keep pooled keep-alive connections to the upstream and write no
//! access log (nginx `access_log off`, jwtgate `--decision-log off`).
//!
//! Each scenario runs twice after a short warm-up: under load (the
//! requested connections: throughput, and latency that is mostly queueing
//! on a machine the load generator shares), and with one connection (the
//! latency one request adds when nothing waits).

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use jwtgate_verify::Algorithm;
use xtask::alg::Alg;
use xtask::error::{Context as _, Error, Result};

use crate::bench::{AUD, ISS, Row, Workdir, drive, keys_and_tokens};

/// A child process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn run(root: &Path, requests: u64, connections: u32) -> Result<()> {
    println!("building the release jwtgate binary...");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let built = Command::new(cargo)
        .current_dir(root)
        .args(["build", "--quiet", "--release", "--package", "jwtgate-cli"])
        .status()
        .context(|| "cannot run cargo".to_owned())?;
    if !built.success() {
        return Err(Error::msg("the release build of jwtgate-cli failed"));
    }
    let jwtgate = root.join("target/release/jwtgate");

    let Workdir { dir, script, no_tokens } = Workdir::fresh(&root.join("target/xtask-bench-serve"))?;

    let rt = xtask::serve::runtime()?;
    let upstream = rt.block_on(xtask::serve::serve(0, tower::service_fn(crate::bench::ok)))?;
    let up = upstream.addr;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!(
        "jwtgate serve benchmark: {requests} requests per scenario, {connections} connections, wrk 1 thread, \
         upstream in-process (2 worker threads), {cores} cores\n"
    );

    let mut rows = Vec::new();
    // `pid`: the proxy's process, whose CPU time (its children's included)
    // per request is reported.
    let measure = |tokens: &Path, addr: std::net::SocketAddr, scenario: &str, pid: Option<u32>| -> Result<Measured> {
        drive(&script, tokens, addr, (requests / 20).max(100), connections, format!("{scenario} (warm-up)"), None)?;
        let before = pid.and_then(cpu_seconds);
        let loaded = drive(&script, tokens, addr, requests, connections, scenario.to_owned(), None)?;
        #[allow(clippy::cast_precision_loss, reason = "a request count")]
        let cpu_us = before.zip(pid.and_then(cpu_seconds)).map(|(b, a)| (a - b) * 1e6 / requests as f64);
        let single =
            drive(&script, tokens, addr, (requests / 5).max(100), 1, format!("{scenario}, 1 connection"), None)?;
        Ok(Measured { loaded, single, cpu_us })
    };
    rows.push(measure(&no_tokens, up, "upstream, direct", None)?);

    let nginx = jwtgate_testkit::nginx::Nginx::start(
        &dir.join("nginx"),
        &format!("upstream app {{ server {up}; keepalive 64; }}"),
        "location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection \"\"; }",
    )
    .map_err(|e| Error::msg(format!("{e} (Debian: apt-get install nginx-light)")))?;
    let nginx_addr = nginx.addr().parse().context(|| "nginx address".to_owned())?;
    rows.push(measure(&no_tokens, nginx_addr, "nginx proxy, no auth", Some(nginx.pid()))?);
    drop(nginx);

    let mut algorithms = Vec::new();
    for alg in [Alg::EdDSA, Alg::ES256] {
        let name = Algorithm::name(alg);
        let (keys, _, token_file) = keys_and_tokens(&dir, alg, None)?;
        let jwks = keys.jwks.ok_or_else(|| Error::msg("no public key set written"))?;
        let jwks = jwks.to_str().ok_or_else(|| Error::msg("key path is not UTF-8"))?.to_owned();
        algorithms.push((name, token_file, jwks));
    }

    for (i, (name, token_file, jwks)) in algorithms.iter().enumerate() {
        let keys = ["--jwks", jwks.as_str(), "--issuer", ISS, "--audience", AUD];
        if i == 0 {
            // The proxy hop alone: every path open, nothing verified.
            let (hop, addr) = start_jwtgate(&jwtgate, up, &keys, &["--skip-path", "/"])?;
            rows.push(measure(&no_tokens, addr, "jwtgate serve proxy, no auth", Some(hop.0.id()))?);
            drop(hop);
        }
        for cache in [false, true] {
            let cache_args: &[&str] = if cache { &["--token-cache", "10000"] } else { &[] };
            let (serving, addr) = start_jwtgate(&jwtgate, up, &keys, cache_args)?;
            let scenario = format!("jwtgate serve, {name}, token cache {}", if cache { "on" } else { "off" });
            rows.push(measure(token_file, addr, &scenario, Some(serving.0.id()))?);
            drop(serving);
        }
    }
    drop(upstream);
    print_table(&rows);
    Ok(())
}

/// Starts the release `jwtgate serve` in front of `up`, without decision
/// logs; returns it and its address.
fn start_jwtgate(
    jwtgate: &Path,
    up: std::net::SocketAddr,
    keys: &[&str],
    extra: &[&str],
) -> Result<(Running, std::net::SocketAddr)> {
    let mut child = Command::new(jwtgate)
        .args(["serve", "--listen", "127.0.0.1:0", "--upstream", &format!("http://{up}"), "--decision-log", "off"])
        .args(keys)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context(|| format!("cannot start {}", jwtgate.display()))?;
    let mut line = String::new();
    if let Some(stdout) = child.stdout.take() {
        BufReader::new(stdout).read_line(&mut line).context(|| "jwtgate serve said nothing".to_owned())?;
    }
    let running = Running(child);
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| Error::msg(format!("jwtgate serve did not start: {line:?}")))?;
    Ok((running, addr))
}

/// CPU time (user and system) of a process and its children, in seconds.
fn cpu_seconds(pid: u32) -> Option<f64> {
    // utime and stime are fields 14 and 15 of /proc/PID/stat, in clock
    // ticks (100 per second on Linux); the parent is field 4.
    let stat = |pid: &str| -> Option<(u32, u64)> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let fields: Vec<&str> = text.rsplit_once(')')?.1.split_whitespace().collect();
        let parent = fields.get(1)?.parse().ok()?;
        let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        Some((parent, ticks))
    };
    let mut ticks = stat(&pid.to_string())?.1;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some((_, t)) = stat(name).filter(|(parent, _)| *parent == pid) {
            ticks += t;
        }
    }
    #[allow(clippy::cast_precision_loss, reason = "ticks of a benchmark run")]
    Some(ticks as f64 / 100.0)
}

/// One scenario under load and on one connection.
struct Measured {
    loaded: Row,
    single: Row,
    /// CPU time of the proxy per request under load, µs.
    cpu_us: Option<f64>,
}

/// The markdown table the CLI README quotes.
fn print_table(rows: &[Measured]) {
    let direct = rows.first();
    let nginx = rows.get(1);
    println!(
        "\n| scenario | requests/s | vs nginx proxy | proxy CPU per request | p50 / p99 under load | p50 / p99, 1 connection | p99 added to the direct upstream, 1 connection |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let share = nginx.map_or(String::from("-"), |n| {
            format!("{:.0}%", 100.0 * row.loaded.requests_per_sec / n.loaded.requests_per_sec)
        });
        let added = direct.map_or(String::from("-"), |d| format!("{:+.3} ms", row.single.p99_ms - d.single.p99_ms));
        let cpu = row.cpu_us.map_or(String::from("-"), |us| format!("{us:.1} µs"));
        println!(
            "| {} | {:.0} | {share} | {cpu} | {:.2} / {:.2} ms | {:.3} / {:.3} ms | {added} |",
            row.loaded.scenario,
            row.loaded.requests_per_sec,
            row.loaded.p50_ms,
            row.loaded.p99_ms,
            row.single.p50_ms,
            row.single.p99_ms
        );
    }
}
