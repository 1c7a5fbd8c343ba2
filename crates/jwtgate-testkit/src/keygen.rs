//! Make a key pair (or HMAC secret) for one algorithm and write its files:
//! what `cargo xtask keygen` runs, and what tests use for keys on disk.

use std::path::PathBuf;

use serde_json::Value;

use crate::alg::Alg;
use crate::error::{Context as _, Error, Result};
use crate::jwk::{append_to_jwks, write_file, write_json};
use crate::key::PrivateKey;

/// What keygen should make.
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

/// The files keygen wrote.
#[derive(Clone, Debug)]
pub struct Written {
    /// The key ID used.
    pub kid: String,
    /// The private JWK (the input of [`mint`](crate::mint), and of `cargo xtask mint --key`).
    pub private_jwk: PathBuf,
    /// PKCS#8 private key PEM, for algorithms that have one.
    pub private_pem: Option<PathBuf>,
    /// The public JWK, for asymmetric algorithms.
    pub public_jwk: Option<PathBuf>,
    /// SPKI public key PEM, for asymmetric algorithms.
    pub public_pem: Option<PathBuf>,
    /// The JWKS the public key was added to, for asymmetric algorithms.
    pub jwks: Option<PathBuf>,
}

/// Generates a key and writes its files.
///
/// # Errors
///
/// For an invalid request (RSA size, kid not usable as a file name), when a
/// file exists and `force` is off, or on I/O failure.
pub fn run(req: &Request) -> Result<Written> {
    let key = PrivateKey::generate(req.alg, req.bits)?;
    let kid = match &req.kid {
        Some(kid) => kid.clone(),
        None => key.thumbprint()?,
    };
    check_kid(&kid)?;
    std::fs::create_dir_all(&req.out).context(|| format!("cannot create {}", req.out.display()))?;

    let file = |suffix: &str| req.out.join(format!("{kid}.{suffix}"));
    let private_jwk = file("private.jwk.json");
    let pems = key.pems()?;
    let public_jwk = key.public_jwk(&kid);
    let private_pem = pems.as_ref().map(|_| file("private.pem"));
    let public_pem = pems.as_ref().map(|_| file("public.pem"));
    let public_jwk_path = public_jwk.as_ref().map(|_| file("public.jwk.json"));

    // Check every target first, so a refusal leaves nothing half-written.
    let targets = [Some(&private_jwk), private_pem.as_ref(), public_pem.as_ref(), public_jwk_path.as_ref()];
    let existing = targets.into_iter().flatten().find(|p| p.exists());
    if let (false, Some(existing)) = (req.force, existing) {
        return Err(Error::msg(format!("{} already exists; use --force to overwrite", existing.display())));
    }

    write_json(&private_jwk, &Value::Object(key.private_jwk(&kid)?), true)?;
    if let (Some((private, public)), Some(private_path), Some(public_path)) = (&pems, &private_pem, &public_pem) {
        write_file(private_path, private.as_bytes(), true)?;
        write_file(public_path, public.as_bytes(), false)?;
    }
    let mut jwks = None;
    if let (Some(jwk), Some(path)) = (public_jwk, &public_jwk_path) {
        write_json(path, &Value::Object(jwk.clone()), false)?;
        let jwks_path = req.out.join("jwks.json");
        append_to_jwks(&jwks_path, jwk, req.force)?;
        jwks = Some(jwks_path);
    }
    Ok(Written { kid, private_jwk, private_pem, public_jwk: public_jwk_path, public_pem, jwks })
}

/// A kid becomes part of file names, so it is limited to a safe alphabet
/// (which includes every base64url thumbprint).
fn check_kid(kid: &str) -> Result<()> {
    let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if kid.is_empty() || kid.len() > 128 || !kid.chars().all(safe) || kid.starts_with('.') {
        return Err(Error::msg(format!(
            "kid {kid:?} must be 1-128 characters of A-Z a-z 0-9 - _ . and not start with '.'"
        )));
    }
    Ok(())
}
