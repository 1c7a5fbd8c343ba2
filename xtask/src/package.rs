//! `cargo xtask package`: release readiness without an upload. Every crate
//! meant for crates.io must package and build from its package alone, with
//! its README and both license files, and nothing of the repository's
//! development side (tests, benches and examples build against
//! jwtgate-testkit, which is never published).

use std::path::Path;

use xtask::error::{Error, Result};

use crate::ci::cargo;

/// The crates published to crates.io, in dependency order.
pub(crate) const PUBLISHED: [&str; 7] = [
    "jwtgate-parse",
    "jwtgate-verify",
    "jwtgate-jwks",
    "jwtgate-revoke",
    "jwtgate-hyper",
    "jwtgate-serve",
    "jwtgate-cli",
];

/// Files a package may hold outside `src/`.
const ALLOWED: [&str; 7] = [
    ".cargo_vcs_info.json",
    "Cargo.lock",
    "Cargo.toml",
    "Cargo.toml.orig",
    "README.md",
    "LICENSE-MIT",
    "LICENSE-APACHE",
];

/// Files every package must hold.
const REQUIRED: [&str; 4] = ["Cargo.toml", "README.md", "LICENSE-MIT", "LICENSE-APACHE"];

/// Packages and verifies every published crate (cargo builds each from its
/// `.crate`, the unpublished workspace dependencies served from a local
/// overlay), then checks what each package holds.
///
/// # Errors
///
/// A crate that does not package or build from its package, or whose
/// package misses a required file or holds a development-only one.
pub(crate) fn run(root: &Path) -> Result<()> {
    forget_earlier_packages();
    // `--allow-dirty`: the check is about what a package holds, and runs
    // during development too; CI runs it on a clean clone anyway.
    let mut args = vec!["package", "--allow-dirty"];
    for krate in PUBLISHED {
        args.extend(["-p", krate]);
    }
    let status = cargo(root, &args).status().map_err(|e| Error::msg(format!("cargo package: cannot start: {e}")))?;
    if !status.success() {
        return Err(Error::msg(format!("cargo package failed ({status})")));
    }
    for krate in PUBLISHED {
        let out = cargo(root, &["package", "--list", "--allow-dirty", "-p", krate])
            .output()
            .map_err(|e| Error::msg(format!("cargo package --list: cannot start: {e}")))?;
        if !out.status.success() {
            return Err(Error::msg(format!("cargo package --list -p {krate} failed")));
        }
        let listing = String::from_utf8_lossy(&out.stdout);
        let files: Vec<&str> = listing.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        check_files(krate, &files)?;
        check_manifest(root, krate)?;
        println!("==> package {krate}: {} files, README and licenses included, nothing development-only", files.len());
    }
    Ok(())
}

/// Cargo verifies a package against the other workspace crates through a
/// local registry overlay, and keeps what it unpacked from it in
/// `$CARGO_HOME/registry/{src,cache}/-<hash>/`. Those copies carry the
/// same version (0.1.0) as today's sources, so a later run would build
/// against an earlier run's code. Only jwtgate's own entries in the
/// overlay directories (named with a leading `-`) are removed.
fn forget_earlier_packages() {
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")));
    let Some(home) = home else { return };
    for kind in ["src", "cache"] {
        let Ok(overlays) = std::fs::read_dir(home.join("registry").join(kind)) else { continue };
        for overlay in overlays.filter_map(std::result::Result::ok) {
            if !overlay.file_name().to_string_lossy().starts_with('-') {
                continue;
            }
            let Ok(entries) = std::fs::read_dir(overlay.path()) else { continue };
            for entry in entries.filter_map(std::result::Result::ok) {
                if entry.file_name().to_string_lossy().starts_with("jwtgate-") {
                    let path = entry.path();
                    let _ = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
                }
            }
        }
    }
}

fn check_files(krate: &str, files: &[&str]) -> Result<()> {
    for needed in REQUIRED {
        if !files.contains(&needed) {
            return Err(Error::msg(format!("the {krate} package lacks {needed}")));
        }
    }
    if !files.iter().any(|f| *f == "src/lib.rs" || *f == "src/main.rs") {
        return Err(Error::msg(format!("the {krate} package has no src/lib.rs or src/main.rs")));
    }
    if let Some(extra) = files.iter().find(|f| !f.starts_with("src/") && !ALLOWED.contains(f)) {
        return Err(Error::msg(format!("the {krate} package holds {extra}, which is not part of the library")));
    }
    Ok(())
}

/// The manifest cargo wrote into the package: no path, and no crate that is
/// never published, may survive in it.
fn check_manifest(root: &Path, krate: &str) -> Result<()> {
    let dir = root.join("target/package");
    let entries = std::fs::read_dir(&dir).map_err(|e| Error::msg(format!("{}: {e}", dir.display())))?;
    let prefix = format!("{krate}-");
    let unpacked = entries
        .filter_map(std::result::Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.strip_prefix(&prefix).is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit()))
            })
        })
        .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .ok_or_else(|| Error::msg(format!("no unpacked package of {krate} in {}", dir.display())))?;
    let manifest_path = unpacked.join("Cargo.toml");
    let manifest =
        std::fs::read_to_string(&manifest_path).map_err(|e| Error::msg(format!("{}: {e}", manifest_path.display())))?;
    for never in ["jwtgate-testkit", "xtask", "jwtgate-tests"] {
        if manifest.contains(never) {
            return Err(Error::msg(format!("the {krate} package's manifest names {never}, which is never published")));
        }
    }
    Ok(())
}
