//! `cargo xtask keygen`: make a key pair (or HMAC secret) for one algorithm,
//! with [`jwtgate_testkit::keygen`], and say what was written.

use std::path::{Path, PathBuf};

pub use jwtgate_testkit::keygen::Written;

use crate::alg::{self, Alg};
use crate::error::Result;

/// What keygen should make: the test kit's request, with the verifier's
/// [`Alg`] (see [`crate::alg`]).
#[derive(Clone, Debug)]
pub struct Request {
    /// The algorithm the key is for.
    pub alg: Alg,
    /// RSA modulus size (RS*/PS* only; default 2048).
    pub bits: Option<usize>,
    /// Key ID; default: the RFC 7638 thumbprint.
    pub kid: Option<String>,
    /// Directory to write into (created if missing).
    pub out: PathBuf,
    /// Overwrite existing files, and replace a same-kid key in `jwks.json`.
    pub force: bool,
}

/// Generates a key and writes its files.
///
/// # Errors
///
/// As [`jwtgate_testkit::keygen::run`]: for an invalid request (RSA size,
/// kid not usable as a file name), when a file exists and `force` is off,
/// or on I/O failure.
pub fn run(req: &Request) -> Result<Written> {
    jwtgate_testkit::keygen::run(&jwtgate_testkit::keygen::Request {
        alg: alg::signing(req.alg),
        bits: req.bits,
        kid: req.kid.clone(),
        out: req.out.clone(),
        force: req.force,
    })
}

/// Human summary of what was written, one file per line.
#[must_use]
pub fn describe(written: &Written, alg: Alg, out: &Path) -> String {
    let mut lines = vec![format!("{alg} key {} in {}", written.kid, out.display())];
    let files = [
        Some((&written.private_jwk, "private JWK (input of `cargo xtask mint --key`)")),
        written.private_pem.as_ref().map(|p| (p, "private key, PKCS#8 PEM")),
        written.public_jwk.as_ref().map(|p| (p, "public JWK")),
        written.public_pem.as_ref().map(|p| (p, "public key, SPKI PEM")),
        written.jwks.as_ref().map(|p| (p, "public JWKS (appended)")),
    ];
    for (path, what) in files.into_iter().flatten() {
        lines.push(format!("  {}  {what}", path.display()));
    }
    if written.public_jwk.is_none() {
        lines.push("  HMAC keys are secrets: there is no public key, and nothing was added to jwks.json".to_owned());
    }
    lines.join("\n")
}
