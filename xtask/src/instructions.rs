//! `cargo xtask instructions [--update-baseline]`: the instruction-count
//! guard. Runs jwtgate-verify's gungraun bench (callgrind under valgrind;
//! the inputs are committed, so the counts are exact and repeatable for a
//! given toolchain) and compares what jwtgate itself costs with the
//! baseline committed next to the bench: the strict parse, the HS256
//! verification, and for the asymmetric algorithms the verification minus
//! the bare signature primitive measured in the same run. A count more
//! than 3% over its baseline fails. Updating the baseline is this command
//! with `--update-baseline`, and the changed file is part of the diff a
//! reviewer sees.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use xtask::error::{Error, Result};

use crate::ci::cargo;

/// The baseline, relative to the workspace root.
const BASELINE: &str = "crates/jwtgate-verify/benches/instructions-baseline.json";

/// How much a count may grow over its baseline.
const TOLERANCE: f64 = 0.03;

/// What is guarded: a name and how it is computed from the bench's counts
/// (a count, or a count minus another).
const METRICS: [(&str, &str, Option<&str>); 7] = [
    ("parse (ES256 token)", "parse es256_token", None),
    ("verify HS256 (whole)", "verify hs256", None),
    ("verify RS256 minus primitive", "verify rs256", Some("primitive_only rs256")),
    ("verify ES256 minus primitive", "verify es256", Some("primitive_only es256")),
    ("verify ES384 minus primitive", "verify es384", Some("primitive_only es384")),
    // The bare p521 call compiled into the bench binary costs more than
    // the same call inside the backend (generic code instantiated and
    // inlined differently), so the difference is negative and means
    // nothing: ES512 is guarded whole.
    ("verify ES512 (whole)", "verify es512", None),
    ("verify EdDSA minus primitive", "verify eddsa", Some("primitive_only eddsa")),
];

/// Runs the bench and compares (or, with `update`, rewrites the baseline).
///
/// # Errors
///
/// valgrind or gungraun-runner missing, the bench failing, a count over
/// its tolerance, or a baseline made with another toolchain.
pub(crate) fn run(root: &Path, update: bool) -> Result<()> {
    for (tool, hint) in [
        ("valgrind", "apt-get install valgrind"),
        ("gungraun-runner", "cargo install --locked gungraun-runner --version 0.20.0"),
    ] {
        let found = Command::new(tool).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
        if !found.is_ok_and(|s| s.success()) {
            return Err(Error::msg(format!("{tool} is needed for the instruction counts: {hint}")));
        }
    }
    let out =
        cargo(root, &["bench", "-p", "jwtgate-verify", "--bench", "instructions", "--features", "bench-instructions"])
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| Error::msg(format!("cargo bench: cannot start: {e}")))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        print!("{stdout}");
        return Err(Error::msg("the instruction-count bench failed"));
    }
    let counts = parse_counts(&stdout);
    let mut now = BTreeMap::new();
    for (name, minuend, subtrahend) in METRICS {
        let get = |bench: &str| {
            counts.get(bench).copied().ok_or_else(|| Error::msg(format!("the bench printed no count for `{bench}`")))
        };
        let value = match subtrahend {
            Some(primitive) => get(minuend)? - get(primitive)?,
            None => get(minuend)?,
        };
        now.insert(name.to_owned(), value);
    }
    let rustc = rustc_version();
    let path = root.join(BASELINE);
    if update {
        let json = serde_json::json!({
            "about": "instruction counts (callgrind) of jwtgate-verify's benches/instructions.rs; \
                      written by `cargo xtask instructions --update-baseline`",
            "rustc": rustc,
            "counts": now,
        });
        let text = serde_json::to_string_pretty(&json).map_err(|e| Error::msg(e.to_string()))?;
        std::fs::write(&path, text + "\n").map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
        print_table(&now, None);
        println!("baseline written to {BASELINE}: review the change and commit it");
        return Ok(());
    }
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::msg(format!("{}: {e} (make one: cargo xtask instructions --update-baseline)", path.display()))
    })?;
    let baseline: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Error::msg(format!("{BASELINE}: {e}")))?;
    let recorded = baseline.get("rustc").and_then(serde_json::Value::as_str).unwrap_or_default();
    if recorded != rustc {
        return Err(Error::msg(format!(
            "the baseline was recorded with `{recorded}`, this is `{rustc}`: counts differ between compilers; \
             run `cargo xtask instructions --update-baseline` with this toolchain and commit the result"
        )));
    }
    let base: BTreeMap<String, i64> = baseline
        .get("counts")
        .and_then(serde_json::Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_i64()?))).collect())
        .unwrap_or_default();
    print_table(&now, Some(&base));
    let mut over = Vec::new();
    for (name, value) in &now {
        match base.get(name) {
            None => over.push(format!("{name}: not in the baseline")),
            Some(&b) if exceeds(*value, b) => over.push(format!("{name}: {value} against {b}")),
            Some(_) => {}
        }
    }
    if over.is_empty() {
        println!("instruction counts within {:.0}% of the baseline", TOLERANCE * 100.0);
        Ok(())
    } else {
        Err(Error::msg(format!(
            "instruction counts grew more than {:.0}% (if intended, `cargo xtask instructions --update-baseline` \
             and commit the file with the change that explains it): {}",
            TOLERANCE * 100.0,
            over.join("; ")
        )))
    }
}

#[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
fn exceeds(now: i64, base: i64) -> bool {
    now as f64 > base as f64 * (1.0 + TOLERANCE)
}

/// `bench name -> Ir` from gungraun's output: a line naming the benchmark
/// (`instructions::counts::verify hs256:(...)`), then its
/// `Instructions: N|...` line.
fn parse_counts(stdout: &str) -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("instructions::counts::") {
            current = rest.split_once(':').map(|(name, _)| name.trim().to_owned());
        } else if let Some(value) = line.trim().strip_prefix("Instructions:") {
            let number = value.trim().split('|').next().unwrap_or_default().trim();
            if let (Some(name), Ok(n)) = (current.take(), number.parse()) {
                counts.insert(name, n);
            }
        }
    }
    counts
}

fn rustc_version() -> String {
    Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

#[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
fn print_table(now: &BTreeMap<String, i64>, base: Option<&BTreeMap<String, i64>>) {
    println!("{:<34} {:>12} {:>12} {:>8}", "instructions", "baseline", "now", "change");
    for (name, value) in now {
        let b = base.and_then(|b| b.get(name)).copied();
        let change = b.map_or_else(String::new, |b| format!("{:+.2}%", (*value - b) as f64 * 100.0 / b.max(1) as f64));
        let b = b.map_or_else(|| "-".to_owned(), |b| b.to_string());
        println!("{name:<34} {b:>12} {value:>12} {change:>8}");
    }
}
