//! `cargo xtask fuzz [TARGET] [--time SECS]`: run the cargo-fuzz targets.

use std::path::Path;
use std::process::Command;

use xtask::error::{Error, Result};

/// The targets in fuzz/Cargo.toml, in the order CI runs them.
pub(crate) const TARGETS: [&str; 6] =
    ["parse_token", "json_differential", "verify_token", "verify_presigned", "jwks_document", "bearer_header"];

/// The cargo-fuzz release .ci/run installs.
pub(crate) const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// libFuzzer needs nightly-only compiler flags. With a nightly toolchain
/// installed we use it; otherwise stable with RUSTC_BOOTSTRAP=1 (which
/// unlocks those flags) and without a sanitizer, whose runtime only
/// nightly is sure to ship.
fn fuzz_command(root: &Path) -> Command {
    let has_nightly = Command::new("rustup")
        .args(["toolchain", "list"])
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).lines().any(|l| l.starts_with("nightly")));
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root.join("fuzz"));
    if has_nightly {
        println!("==> fuzz: using the nightly toolchain");
        cmd.arg("+nightly").arg("fuzz");
    } else {
        println!("==> fuzz: no nightly toolchain; using stable with RUSTC_BOOTSTRAP=1 and no sanitizer");
        cmd.env("RUSTC_BOOTSTRAP", "1").arg("fuzz");
    }
    // Cargo's own variables from the outer `cargo xtask` would point the
    // inner build at the main workspace's toolchain and target dir.
    for var in ["CARGO", "CARGO_MANIFEST_DIR", "CARGO_PKG_NAME", "RUSTUP_TOOLCHAIN", "RUSTC", "CARGO_TARGET_DIR"] {
        cmd.env_remove(var);
    }
    cmd
}

/// Whether the targets are built with a sanitizer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sanitizer {
    /// AddressSanitizer on nightly; none on stable, whose toolchain may not
    /// ship its runtime.
    Default,
    /// None: for long runs, where the executions per second matter more.
    None,
}

/// Runs `targets` for `seconds` each. New inputs go to target/fuzz-corpus,
/// so the committed seed corpus in fuzz/corpus only grows on purpose.
///
/// # Errors
///
/// If cargo-fuzz is missing, a target fails to build, or a target finds a
/// crash (its input is then in fuzz/artifacts/TARGET/).
pub(crate) fn run(root: &Path, target: Option<&str>, seconds: u64, sanitizer: Sanitizer) -> Result<()> {
    let fuzz_installed = Command::new("cargo").args(["fuzz", "--version"]).output().is_ok_and(|o| o.status.success());
    if !fuzz_installed {
        return Err(Error::msg(format!(
            "cargo-fuzz is not installed: cargo install --locked cargo-fuzz --version {CARGO_FUZZ_VERSION}"
        )));
    }
    let targets: Vec<&str> = match target {
        Some(t) if TARGETS.contains(&t) => vec![t],
        Some(t) => {
            return Err(Error::msg(format!("unknown fuzz target {t:?}; targets: {}", TARGETS.join(", "))));
        }
        None => TARGETS.to_vec(),
    };
    for target in targets {
        let work = root.join("target/fuzz-corpus").join(target);
        std::fs::create_dir_all(&work).map_err(|e| Error::msg(format!("cannot create {}: {e}", work.display())))?;
        let seeds = root.join("fuzz/corpus").join(target);
        let mut cmd = fuzz_command(root);
        cmd.arg("run");
        if sanitizer == Sanitizer::None || cmd.get_envs().any(|(k, _)| k == "RUSTC_BOOTSTRAP") {
            cmd.args(["--sanitizer", "none"]);
        }
        cmd.arg(target).arg(&work).arg(&seeds).args([
            "--",
            &format!("-max_total_time={seconds}"),
            "-rss_limit_mb=4096",
            "-print_final_stats=1",
            // An input that signs or loads an RSA key costs 20-100x one that
            // does not; scaled by execution time, the schedule stops spending
            // most of its time there (verify_token: 1,600 -> 4,100 execs/s
            // with more new inputs found).
            "-entropic_scale_per_exec_time=1",
        ]);
        // JSON and JWT tokens (names, algorithms, "eyJ", "Bearer "): they
        // reach the parser's and key loader's deeper states much sooner.
        cmd.arg(format!("-dict={}", root.join("fuzz/dict/jwt.dict").display()));
        println!("==> fuzz {target} for {seconds}s");
        let status = cmd.status().map_err(|e| Error::msg(format!("cannot run cargo fuzz: {e}")))?;
        if !status.success() {
            return Err(Error::msg(format!(
                "fuzz target {target} failed ({status}); the crashing input is in fuzz/artifacts/{target}/"
            )));
        }
    }
    Ok(())
}
