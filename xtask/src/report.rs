//! `cargo xtask bench --report`: runs the benches the crate READMEs quote
//! and gathers their results, from this one run, into `BENCHMARKS.md`
//! with the machine, the date, the toolchain and the peers' versions.
//!
//! Criterion benches are read from criterion's own files
//! (`target/criterion/**/new/{benchmark,estimates}.json`, those written by
//! this run): the median and its 95% confidence interval. The verifier's
//! ratio bench prints its own Markdown tables (medians and 10th-90th
//! percentile spreads of per-round ratios), which are copied as printed.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::SystemTime;

use xtask::error::{Context as _, Error, Result};

use crate::ci::cargo;

/// How a section's results are read.
enum Read {
    /// Criterion's files; rows whose id starts with one of the prefixes.
    Criterion(&'static [&'static str]),
    /// The bench's standard output: Markdown table lines and lines
    /// starting with one of the prefixes.
    Stdout(&'static [&'static str]),
}

struct Section {
    title: &'static str,
    about: &'static str,
    args: &'static [&'static str],
    read: Read,
}

/// The lines of the ratio bench's output besides its tables.
const RATIO_LINES: [&str; 7] =
    ["jwtgate ÷ bare primitive", "HS256 on", "RS256 on", "ES256 on", "ES384 on", "ES512 on", "EdDSA on"];

const SECTIONS: [Section; 9] = [
    Section {
        title: "Parse",
        about: "jwtgate-parse's strict parser on a typical access token, next to the peers' decoding",
        args: &["bench", "-p", "jwtgate-parse", "--bench", "parse"],
        read: Read::Criterion(&[""]),
    },
    Section {
        title: "Verify, rustcrypto backend",
        about: "each contender checks signature, iss, aud and exp; ratios are medians of 301 interleaved rounds",
        args: &["bench", "-p", "jwtgate-verify", "--bench", "ratio"],
        read: Read::Stdout(&RATIO_LINES),
    },
    Section {
        title: "Verify, aws-lc-rs backend",
        about: "the same, on aws-lc-rs",
        args: &["bench", "-p", "jwtgate-verify", "--features", "aws-lc-rs", "--bench", "ratio"],
        read: Read::Stdout(&RATIO_LINES),
    },
    Section {
        title: "JWKS key resolution",
        about: "jwtgate-jwks: finding the key for a token in a cached set",
        args: &["bench", "-p", "jwtgate-jwks", "--bench", "resolve"],
        read: Read::Criterion(&[""]),
    },
    Section {
        title: "Middleware",
        about: "jwtgate-hyper in-process (no sockets): the layer's cost, and the mixed workload with the token cache off and on",
        args: &["bench", "-p", "jwtgate-hyper", "--bench", "layer"],
        read: Read::Criterion(&[""]),
    },
    Section {
        title: "Verified-token cache, rustcrypto backend",
        about: "a hit next to a fresh verification and a plain HashMap lookup",
        args: &["bench", "-p", "jwtgate-verify", "--bench", "token_cache"],
        read: Read::Criterion(&["token_cache"]),
    },
    Section {
        title: "Verified-token cache, aws-lc-rs backend",
        about: "the same, on aws-lc-rs",
        args: &["bench", "-p", "jwtgate-verify", "--features", "aws-lc-rs", "--bench", "token_cache"],
        read: Read::Criterion(&["token_cache"]),
    },
    Section {
        title: "Revocation lookups",
        about: "jwtgate-revoke: a lookup at 0, 10,000 and 1,000,000 rules, a verification with and without it, \
                and (with redis-server) the same through RedisSync and one Redis GET per request",
        args: &["bench", "-p", "jwtgate-revoke", "--bench", "lookup"],
        read: Read::Criterion(&["revocation"]),
    },
    Section {
        title: "Revocation propagation",
        about: "8 replicas following one Redis on loopback, 1,000 revocations (needs redis-server)",
        args: &["bench", "-p", "jwtgate-revoke", "--bench", "propagation"],
        read: Read::Stdout(&["propagation:"]),
    },
];

/// Runs every section and writes `BENCHMARKS.md` at the root.
///
/// # Errors
///
/// A bench that fails, or the file not written.
pub(crate) fn run(root: &Path) -> Result<()> {
    let mut md = String::from("# Benchmarks\n\n");
    md.push_str(
        "Written by `cargo xtask bench --report` from one run of the benches below; every number comes \
         from that run. The crate READMEs explain each bench and what it shows. Criterion rows give the \
         median and its 95% confidence interval; the verifier's ratio tables give medians and 10th-90th \
         percentiles of per-round ratios (the contenders take turns, so the machine's drift cancels).\n\n",
    );
    machine(root, &mut md);
    for section in &SECTIONS {
        println!("==> report: {}", section.title);
        let started = SystemTime::now();
        let out = cargo(root, section.args)
            .stderr(Stdio::inherit())
            .output()
            .context(|| format!("cannot run cargo {}", section.args.join(" ")))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            print!("{stdout}");
            return Err(Error::msg(format!("`cargo {}` failed", section.args.join(" "))));
        }
        let _ = write!(md, "## {}\n\n{}. `cargo {}`\n\n", section.title, section.about, section.args.join(" "));
        match section.read {
            Read::Stdout(prefixes) => md.push_str(&from_stdout(&stdout, prefixes)),
            Read::Criterion(prefixes) => md.push_str(&from_criterion(root, started, prefixes)?),
        }
        md.push('\n');
    }
    let path = root.join("BENCHMARKS.md");
    std::fs::write(&path, md).context(|| format!("cannot write {}", path.display()))?;
    println!("==> report written to {}", path.display());
    Ok(())
}

fn machine(root: &Path, md: &mut String) {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, m)| m.trim().to_owned()))
        .unwrap_or_else(|| "unknown".to_owned());
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().map(|l| l.split_whitespace().nth(1).unwrap_or_default().to_owned()))
        .and_then(|kib| kib.parse::<u64>().ok())
        .map_or_else(|| "unknown".to_owned(), |kib| format!("{} GiB", kib / 1024 / 1024));
    let out = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap_or_default();
    let peers: Vec<String> = ["jsonwebtoken", "jwt-simple", "criterion", "p256", "aws-lc-rs", "redis"]
        .iter()
        .filter_map(|name| locked_version(&lock, name).map(|v| format!("{name} {v}")))
        .collect();
    let _ = write!(
        md,
        "| | |\n| --- | --- |\n| date | {} |\n| machine | {model}, {cores} cores, {memory} |\n| kernel | {} |\n\
         | toolchain | {} |\n| peers and primitives | {} |\n| redis-server | {} |\n\n",
        out("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        out("uname", &["-sr"]),
        out("rustc", &["--version"]),
        peers.join(", "),
        {
            let v = out("redis-server", &["--version"]);
            if v.is_empty() { "not installed (its rows are skipped)".to_owned() } else { v }
        },
    );
}

/// The version of `name` in Cargo.lock (the first, if several).
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let needle = format!("name = \"{name}\"\nversion = \"");
    let at = lock.find(&needle)? + needle.len();
    lock.get(at..)?.split('"').next().map(str::to_owned)
}

fn from_stdout(stdout: &str, prefixes: &[&str]) -> String {
    let mut out = String::new();
    let mut in_table = false;
    for line in stdout.lines() {
        let table = line.starts_with('|');
        if !table && !prefixes.iter().any(|p| line.starts_with(p)) {
            continue;
        }
        // Table rows stay together; everything else is its own paragraph.
        let continues_table = table && in_table;
        if !out.is_empty() && !continues_table {
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
        in_table = table;
    }
    if out.is_empty() { "(skipped: the bench printed no results; see its output)\n".to_owned() } else { out }
}

/// One row per criterion benchmark this run wrote.
fn from_criterion(root: &Path, since: SystemTime, prefixes: &[&str]) -> Result<String> {
    let mut rows = Vec::new();
    let mut stack = vec![root.join("target/criterion")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.filter_map(std::result::Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n == "new") {
                    if let Some(row) = criterion_row(&path, since) {
                        rows.push(row);
                    }
                } else if !path.file_name().is_some_and(|n| n == "base" || n == "change" || n == "report") {
                    stack.push(path);
                }
            }
        }
    }
    rows.retain(|(id, _)| prefixes.iter().any(|p| id.starts_with(p)));
    rows.sort();
    if rows.is_empty() {
        return Ok("(no results: the bench wrote no criterion files)\n".to_owned());
    }
    let mut out = String::from("| benchmark | median | 95% confidence interval |\n| --- | ---: | ---: |\n");
    for (id, text) in rows {
        let _ = writeln!(out, "| {id} | {text} |");
    }
    Ok(out)
}

/// `(id, "median | lower - upper")` from one `new/` directory written after
/// `since`.
fn criterion_row(new: &Path, since: SystemTime) -> Option<(String, String)> {
    let estimates = new.join("estimates.json");
    let written = std::fs::metadata(&estimates).and_then(|m| m.modified()).ok()?;
    if written < since {
        return None;
    }
    let read = |name: &str| -> Option<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(new.join(name)).ok()?).ok()
    };
    let benchmark = read("benchmark.json")?;
    let estimates = read("estimates.json")?;
    let id = benchmark.get("full_id")?.as_str()?.to_owned();
    let median = estimates.get("median")?;
    let point = median.get("point_estimate")?.as_f64()?;
    let interval = median.get("confidence_interval")?;
    let low = interval.get("lower_bound")?.as_f64()?;
    let high = interval.get("upper_bound")?.as_f64()?;
    Some((id, format!("{} | {} - {}", time(point), time(low), time(high))))
}

fn time(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}
