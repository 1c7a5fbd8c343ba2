//! `cargo xtask <task>`: jwtgate's developer tasks (rust-analyzer's xtask
//! pattern: plain Rust, so they run wherever the toolchain does).

mod bench;
mod bench_serve;
mod ci;
mod fuzz;
mod instructions;
mod package;
mod report;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xtask::alg::Alg;
use xtask::{keygen, mint};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "jwtgate developer tasks", version)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant, reason = "parsed once per run from the command line")]
enum Task {
    /// Generate a signing key: private JWK (+ PEM), public JWK (+ PEM), and
    /// append the public key to DIR/jwks.json.
    Keygen {
        /// HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA
        #[arg(long, value_parser = parse_alg)]
        alg: Alg,
        /// RSA modulus size: 2048, 3072 or 4096 (RS*/PS* only; default 2048)
        #[arg(long)]
        bits: Option<usize>,
        /// Key ID (default: the key's RFC 7638 thumbprint)
        #[arg(long)]
        kid: Option<String>,
        /// Directory to write the key files into
        #[arg(long)]
        out: PathBuf,
        /// Overwrite existing key files and replace a same-kid key in jwks.json
        #[arg(long)]
        force: bool,
    },
    /// Sign a token with a private JWK and print the compact JWS.
    Mint {
        /// Private JWK written by `keygen`
        #[arg(long)]
        key: PathBuf,
        /// Algorithm, if the JWK has no "alg"
        #[arg(long, value_parser = parse_alg)]
        alg: Option<Alg>,
        /// Issuer (iss)
        #[arg(long)]
        iss: String,
        /// Audience (aud); repeat for several
        #[arg(long, required = true)]
        aud: Vec<String>,
        /// Subject (sub)
        #[arg(long)]
        sub: String,
        /// OAuth client the token was issued to (client_id). With it, the
        /// defaults make a complete RFC 9068 access token (typ at+jwt; iss,
        /// exp, aud, sub, client_id, iat, jti), as
        /// `Verifier::builder().rfc9068_access_token()` requires
        #[arg(long, value_name = "ID")]
        client_id: Option<String>,
        /// Lifetime: exp = iat + TTL (300, 45s, 5m, 2h, 1d; -1h for an expired token)
        #[arg(long, default_value = "5m", allow_hyphen_values = true)]
        ttl: String,
        /// Not-before: Unix seconds, or +30s / -1m relative to now
        #[arg(long, allow_hyphen_values = true)]
        nbf: Option<String>,
        /// Mint as if the time were this Unix second
        #[arg(long)]
        now: Option<i64>,
        /// Extra claims as a JSON object (merged last: may override any claim)
        #[arg(long)]
        claims: Option<String>,
        /// Extra header members as a JSON object (merged last)
        #[arg(long)]
        header: Option<String>,
        /// Header typ ("" for none)
        #[arg(long, default_value = "at+jwt")]
        typ: String,
        /// Header kid (default: the JWK's kid)
        #[arg(long)]
        kid: Option<String>,
    },
    /// The main job: an issuer and a jwtgate-protected service on
    /// 127.0.0.1, and a scripted set of requests with their verdicts.
    Demo {
        /// Port of the protected service (0: any free port)
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Keep both servers running after the cases, to try by hand
        #[arg(long)]
        keep_running: bool,
        /// Instead: fleet-wide revocation with two replicas and a local
        /// redis-server (found on PATH), with the measured delay
        #[arg(long, conflicts_with_all = ["port", "keep_running"])]
        fleet: bool,
    },
    /// A local identity provider for development: OIDC discovery and
    /// DIR/jwks.json over plain http on 127.0.0.1, until Ctrl-C. Prints its
    /// issuer URL and a ready-to-paste mint command for it.
    Issuer {
        /// Directory whose jwks.json to publish, as `keygen --out DIR` writes
        /// it. The file is read again on every request, so a key that keygen
        /// adds (a rotation) is served at once
        #[arg(long, value_name = "DIR")]
        keys: PathBuf,
        /// Port to listen on (0: the port of the --issuer URL if given, else
        /// any free port). Fix it so the issuer URL in a service's
        /// configuration stays valid across restarts
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Issuer identifier to advertise instead of http://127.0.0.1:PORT,
        /// e.g. http://localhost:8800 or http://127.0.0.1:8800/realms/dev
        /// (discovery and the JWKS are served under its path). Plain http on
        /// 127.0.0.1 or localhost only: that is where this server listens
        #[arg(long, value_name = "URL")]
        issuer: Option<String>,
    },
    /// Load benchmark of the hyper middleware (needs `wrk`): requests/s and
    /// p99 with no auth and with EdDSA, ES256, RS256 and HS256 tokens.
    Bench {
        /// Requests per scenario
        #[arg(long, default_value_t = 100_000)]
        requests: u64,
        /// Concurrent keep-alive connections
        #[arg(long, default_value_t = 32)]
        connections: u32,
        /// Instead: `jwtgate serve` as a reverse proxy against the same
        /// upstream reached directly and through nginx (needs wrk, nginx)
        #[arg(long)]
        serve: bool,
        /// Instead: run the benches the READMEs quote and write
        /// BENCHMARKS.md from that one run (takes about 20 minutes)
        #[arg(long, conflicts_with_all = ["requests", "connections", "serve"])]
        report: bool,
    },
    /// Run the cargo-fuzz targets (all, or one) for a time each.
    Fuzz {
        /// parse_token, json_differential, verify_token, verify_presigned,
        /// jwks_document or bearer_header (default: all)
        target: Option<String>,
        /// Seconds per target (default: $FUZZ_SECONDS, else 30)
        #[arg(long)]
        time: Option<u64>,
        /// Build without AddressSanitizer, for long runs: about 3x the
        /// executions per second. jwtgate's crates forbid `unsafe`, but
        /// dependencies do not, so CI's short runs keep the sanitizer
        #[arg(long)]
        no_sanitizer: bool,
    },
    /// Run every test: `cargo test --workspace --all-targets`, then the doc tests.
    Test,
    /// Release readiness, no upload: every published crate packages and
    /// builds from its package, with README and licenses, nothing dev-only.
    Package,
    /// Instruction counts (valgrind + gungraun-runner): parse and verify
    /// against the committed baseline, failing above 3%.
    Instructions {
        /// Rewrite the baseline with this run's counts (commit the result)
        #[arg(long)]
        update_baseline: bool,
    },
    /// What .ci/run does: fmt, clippy, no_std check, cargo-deny, tests, demo, package, instructions, fuzz (timed).
    Ci,
}

fn parse_alg(s: &str) -> Result<Alg, String> {
    xtask::alg::parse(s).map_err(|e| e.to_string())
}

/// The workspace root: xtask lives one level below it.
fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.task {
        Task::Keygen { alg, bits, kid, out, force } => {
            let req = keygen::Request { alg, bits, kid, out: out.clone(), force };
            keygen::run(&req).map(|written| println!("{}", keygen::describe(&written, alg, &out)))
        }
        Task::Mint { key, alg, iss, aud, sub, client_id, ttl, nbf, now, claims, header, typ, kid } => {
            let alg = alg.map(xtask::alg::signing);
            let req = mint::Request { key, alg, iss, aud, sub, client_id, ttl, nbf, now, claims, header, typ, kid };
            mint::run(&req).map(|token| println!("{token}"))
        }
        Task::Demo { fleet: true, .. } => xtask::fleet::run(&root()),
        Task::Demo { port, keep_running, .. } => xtask::demo::run(&root(), port, keep_running),
        Task::Issuer { keys, port, issuer } => xtask::issuer::run(&keys, port, issuer.as_deref()),
        Task::Bench { report: true, .. } => report::run(&root()),
        Task::Bench { requests, connections, serve, .. } => bench::run(&root(), requests, connections, serve),
        Task::Fuzz { target, time, no_sanitizer } => {
            let sanitizer = if no_sanitizer { fuzz::Sanitizer::None } else { fuzz::Sanitizer::Default };
            fuzz::run(&root(), target.as_deref(), time.unwrap_or_else(ci::fuzz_seconds), sanitizer)
        }
        Task::Test => ci::test(&root()),
        Task::Package => package::run(&root()),
        Task::Instructions { update_baseline } => instructions::run(&root(), update_baseline),
        Task::Ci => ci::ci(&root()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
