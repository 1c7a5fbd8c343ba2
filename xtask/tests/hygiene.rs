//! Workspace hygiene that `cargo test` enforces (DESIGN.md, "Crates and
//! how data flows"): no library crate and no fuzz target depends on xtask,
//! not even for its tests, and the test kit they take instead depends on no
//! jwtgate crate. Either dependency would build a second copy of a library
//! into its own tests (and make the task runner part of every test graph).
//! The manifests are read as text, table by table, so this needs no TOML
//! parser.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

use std::path::{Path, PathBuf};

/// One dependency entry of a manifest.
#[derive(Debug)]
struct Dependency {
    /// `dependencies`, `dev-dependencies`, `target.'cfg(unix)'.build-dependencies`, ...
    table: String,
    /// The name the manifest gives it (which a `package = ".."` may rename).
    name: String,
    /// The entry's value as written (`{ workspace = true }`, `"1"`, ...);
    /// empty for a `[dependencies.name]` table.
    value: String,
}

impl Dependency {
    /// Whether this entry is `package` under any name: by its key, by
    /// `package = "package"`, or by a path ending in `/package`.
    fn is(&self, package: &str) -> bool {
        self.name == package
            || self.value.contains(&format!("\"{package}\""))
            || self.value.contains(&format!("/{package}\""))
    }

    /// Whether this entry is one of the workspace's jwtgate crates.
    fn is_jwtgate(&self) -> bool {
        self.name.starts_with("jwtgate") || self.value.contains("\"jwtgate") || self.value.contains("/jwtgate")
    }
}

/// The workspace root: xtask lives one level below it.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn is_dependency_table(table: &str) -> bool {
    ["dependencies", "dev-dependencies", "build-dependencies"]
        .iter()
        .any(|kind| table == *kind || table.ends_with(&format!(".{kind}")))
}

/// Every entry of every dependency table of a manifest (normal, dev, build,
/// and their per-target forms).
fn dependencies(manifest: &str) -> Vec<Dependency> {
    let mut found = Vec::new();
    let mut table = String::new();
    for line in manifest.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.starts_with('[') && line.ends_with(']') {
            table = line.trim_matches(['[', ']']).trim().to_owned();
            // `[dev-dependencies.xtask]`: the header names the dependency.
            if let Some((prefix, name)) = table.rsplit_once("dependencies.") {
                let deps = format!("{prefix}dependencies");
                if is_dependency_table(&deps) {
                    let name = name.trim_matches('"').to_owned();
                    found.push(Dependency { table: deps, name, value: String::new() });
                }
            }
            continue;
        }
        if !is_dependency_table(&table) {
            continue;
        }
        // Continuation lines of a multi-line array have no `key =`; a dotted
        // key (`xtask.path = ".."`) names the dependency before its dot.
        if let Some((key, value)) = line.split_once('=') {
            let name = key.split('.').next().unwrap_or_default().trim().trim_matches('"').to_owned();
            found.push(Dependency { table: table.clone(), name, value: value.trim().to_owned() });
        }
    }
    found
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// crates/*/Cargo.toml and fuzz/Cargo.toml.
fn library_and_fuzz_manifests() -> Vec<PathBuf> {
    let root = root();
    let mut manifests: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .unwrap()
        .map(|entry| entry.unwrap().path().join("Cargo.toml"))
        .filter(|manifest| manifest.exists())
        .collect();
    manifests.sort();
    manifests.push(root.join("fuzz/Cargo.toml"));
    manifests
}

#[test]
fn no_library_crate_and_no_fuzz_target_depends_on_xtask() {
    let manifests = library_and_fuzz_manifests();
    let names: Vec<String> = manifests.iter().map(|m| m.display().to_string()).collect();
    for crate_name in ["jwtgate-parse", "jwtgate-verify", "jwtgate-jwks", "jwtgate-hyper", "jwtgate-testkit", "fuzz"] {
        assert!(names.iter().any(|n| n.contains(&format!("{crate_name}/Cargo.toml"))), "{crate_name}: {names:?}");
    }
    let mut offenders = Vec::new();
    for manifest in &manifests {
        for dependency in dependencies(&read(manifest)).into_iter().filter(|d| d.is("xtask")) {
            offenders.push(format!("{}: [{}] {}", manifest.display(), dependency.table, dependency.name));
        }
    }
    assert!(
        offenders.is_empty(),
        "library crates and fuzz targets take keys and tokens from jwtgate-testkit, never from xtask:\n{}",
        offenders.join("\n")
    );
    // The check reads what it should: the verifier's tests do use the kit.
    let verify = dependencies(&read(&root().join("crates/jwtgate-verify/Cargo.toml")));
    assert!(verify.iter().any(|d| d.table == "dev-dependencies" && d.is("jwtgate-testkit")), "{verify:?}");
}

#[test]
fn the_test_kit_depends_on_no_jwtgate_crate_and_is_never_published() {
    let manifest = read(&root().join("crates/jwtgate-testkit/Cargo.toml"));
    let listed = dependencies(&manifest);
    let jwtgate: Vec<&Dependency> = listed.iter().filter(|d| d.is_jwtgate()).collect();
    assert!(jwtgate.is_empty(), "jwtgate-testkit must depend on no jwtgate crate (DESIGN.md): {jwtgate:?}");
    assert!(listed.iter().any(|d| d.name == "p256"), "the manifest was read: {listed:?}");
    // It signs, and the published crates never sign.
    assert!(manifest.lines().any(|l| l.trim() == "publish = false"), "jwtgate-testkit must have publish = false");
}

#[test]
fn the_manifest_reader_sees_every_form_of_a_dependency() {
    let manifest = r#"
[package]
name = "x"

[dependencies]
a = { workspace = true }

[dev-dependencies]
renamed = { package = "xtask", path = "../../xtask" }
features = { version = "1", features = [
    "one",
] }

[dev-dependencies.xtask]
path = "../xtask"

[target.'cfg(unix)'.build-dependencies]
b = "1" # comment
xtask.workspace = true
dotted.path = "../xtask"
"#;
    let found = dependencies(manifest);
    let tables: Vec<(&str, &str)> = found.iter().map(|d| (d.table.as_str(), d.name.as_str())).collect();
    assert_eq!(
        tables,
        [
            ("dependencies", "a"),
            ("dev-dependencies", "renamed"),
            ("dev-dependencies", "features"),
            ("dev-dependencies", "xtask"),
            ("target.'cfg(unix)'.build-dependencies", "b"),
            ("target.'cfg(unix)'.build-dependencies", "xtask"),
            ("target.'cfg(unix)'.build-dependencies", "dotted"),
        ]
    );
    assert_eq!(found.iter().filter(|d| d.is("xtask")).count(), 4);
    assert!(!found.iter().any(Dependency::is_jwtgate));
}
