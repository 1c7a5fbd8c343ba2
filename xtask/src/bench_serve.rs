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

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use jwtgate_verify::Algorithm;
use xtask::alg::Alg;
use xtask::error::{Context as _, Error, Result};
use xtask::{keygen, mint};

use crate::bench::{Row, SCRIPT, drive};

const ISS: &str = "https://issuer.bench";
const AUD: &str = "orders";

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

    let dir = root.join("target/xtask-bench-serve");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).context(|| format!("cannot clear {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).context(|| format!("cannot create {}", dir.display()))?;
    let script = dir.join("tokens.lua");
    std::fs::write(&script, SCRIPT).context(|| "cannot write the wrk script".to_owned())?;
    let no_tokens = dir.join("none.txt");
    std::fs::write(&no_tokens, "").context(|| "cannot write the empty token list".to_owned())?;

    let rt = xtask::serve::runtime()?;
    let upstream = rt.block_on(xtask::serve::serve(0, tower::service_fn(crate::bench::ok)))?;
    let up = upstream.addr;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!(
        "jwtgate serve benchmark: {requests} requests per scenario, {connections} connections, wrk 1 thread, \
         upstream in-process (2 worker threads), {cores} cores\n"
    );

    let mut rows = Vec::new();
    rows.push(drive(&script, &no_tokens, up, requests, connections, "upstream, direct".to_owned(), None)?);

    let nginx = jwtgate_testkit::nginx::Nginx::start(
        &dir.join("nginx"),
        &format!("upstream app {{ server {up}; keepalive 64; }}"),
        "location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection \"\"; }",
    )
    .map_err(|e| Error::msg(format!("{e} (Debian: apt-get install nginx-light)")))?;
    let nginx_addr = nginx.addr().parse().context(|| "nginx address".to_owned())?;
    rows.push(drive(&script, &no_tokens, nginx_addr, requests, connections, "nginx proxy, no auth".to_owned(), None)?);
    drop(nginx);

    for alg in [Alg::EdDSA, Alg::ES256] {
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
                    ..Default::default()
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let token_file = dir.join(format!("{name}.txt"));
        std::fs::write(&token_file, tokens.join("\n")).context(|| "cannot write the tokens".to_owned())?;
        let jwks = keys.jwks.ok_or_else(|| Error::msg("no public key set written"))?;
        for cache in [false, true] {
            let mut command = Command::new(&jwtgate);
            command
                .args(["serve", "--listen", "127.0.0.1:0", "--upstream", &format!("http://{up}")])
                .arg("--jwks")
                .arg(&jwks)
                .args(["--issuer", ISS, "--audience", AUD, "--decision-log", "off"]);
            if cache {
                command.args(["--token-cache", "10000"]);
            }
            let mut child = command
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .context(|| format!("cannot start {}", jwtgate.display()))?;
            let mut line = String::new();
            if let Some(stdout) = child.stdout.take() {
                BufReader::new(stdout).read_line(&mut line).context(|| "jwtgate serve said nothing".to_owned())?;
            }
            let serving = Running(child);
            let addr = line
                .trim()
                .strip_prefix("listening on ")
                .and_then(|a| a.parse().ok())
                .ok_or_else(|| Error::msg(format!("jwtgate serve did not start: {line:?}")))?;
            let scenario = format!("jwtgate serve, {name}, token cache {}", if cache { "on" } else { "off" });
            rows.push(drive(&script, &token_file, addr, requests, connections, scenario, None)?);
            drop(serving);
        }
    }
    drop(upstream);
    print_table(&rows);
    Ok(())
}

/// The markdown table the CLI README quotes.
fn print_table(rows: &[Row]) {
    let direct = rows.first();
    let nginx = rows.get(1);
    println!("\n| scenario | requests/s | p50 | p99 | throughput vs nginx proxy | p99 added to the direct upstream |");
    println!("|---|---:|---:|---:|---:|---:|");
    for row in rows {
        let share =
            nginx.map_or(String::from("-"), |n| format!("{:.0}%", 100.0 * row.requests_per_sec / n.requests_per_sec));
        let added = direct.map_or(String::from("-"), |d| format!("{:+.2} ms", row.p99_ms - d.p99_ms));
        println!(
            "| {} | {:.0} | {:.2} ms | {:.2} ms | {share} | {added} |",
            row.scenario, row.requests_per_sec, row.p50_ms, row.p99_ms
        );
    }
}
