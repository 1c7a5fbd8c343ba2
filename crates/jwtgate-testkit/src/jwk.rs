//! JWK and JWKS documents as JSON: encoding helpers, thumbprints, key sets.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use crate::error::{Context as _, Error, Result};

/// base64url without padding (RFC 7515 section 2).
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Strict base64url decoding of a JWK member.
///
/// # Errors
///
/// If the member is missing, not a string, or not unpadded base64url.
pub fn member_bytes(jwk: &Map<String, Value>, name: &str) -> Result<Vec<u8>> {
    let text = member_str(jwk, name)?;
    URL_SAFE_NO_PAD.decode(text).context(|| format!("JWK member {name:?} is not base64url"))
}

/// A string member of a JWK.
///
/// # Errors
///
/// If the member is missing or not a string.
pub fn member_str<'a>(jwk: &'a Map<String, Value>, name: &str) -> Result<&'a str> {
    match jwk.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(Error::msg(format!("JWK member {name:?} must be a string"))),
        None => Err(Error::msg(format!("JWK has no {name:?} member"))),
    }
}

/// Big-endian integer bytes without leading zeros, as RFC 7518 section
/// 6.3.1 requires for RSA members.
pub fn minimal(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len().saturating_sub(1));
    bytes.get(start..).unwrap_or(bytes)
}

/// The RFC 7638 thumbprint of a JWK: SHA-256 over the required members in
/// lexicographic order, base64url. Used as the default `kid`.
///
/// # Errors
///
/// If the key lacks a required member for its `kty`.
pub fn thumbprint(jwk: &Map<String, Value>) -> Result<String> {
    let required: &[&str] = match member_str(jwk, "kty")? {
        "RSA" => &["e", "kty", "n"],
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        "oct" => &["k", "kty"],
        other => return Err(Error::msg(format!("no thumbprint for kty {other:?}"))),
    };
    // serde_json writes members in insertion order with no whitespace, which
    // is exactly the canonical form RFC 7638 section 3 asks for.
    let mut canonical = Map::new();
    for &name in required {
        canonical.insert(name.to_owned(), Value::String(member_str(jwk, name)?.to_owned()));
    }
    let text = Value::Object(canonical).to_string();
    Ok(b64(Sha256::digest(text.as_bytes())))
}

/// A JWKS document, `{"keys": [...]}`, listing these JWKs in order (for
/// example [`PrivateKey::public_jwk`](crate::key::PrivateKey::public_jwk)
/// of each key a test issuer publishes).
pub fn jwks(keys: impl IntoIterator<Item = Map<String, Value>>) -> Value {
    json!({ "keys": keys.into_iter().map(Value::Object).collect::<Vec<_>>() })
}

/// Reads a JSON object from a file.
///
/// # Errors
///
/// If the file cannot be read or is not a JSON object.
pub fn read_object(path: &Path) -> Result<Map<String, Value>> {
    let text = std::fs::read_to_string(path).context(|| format!("cannot read {}", path.display()))?;
    match serde_json::from_str(&text).context(|| format!("{} is not valid JSON", path.display()))? {
        Value::Object(map) => Ok(map),
        _ => Err(Error::msg(format!("{} must contain a JSON object", path.display()))),
    }
}

/// Adds `key` to the JWKS at `path` (creating it), refusing a second key
/// with the same `kid` unless `replace`.
///
/// # Errors
///
/// If the existing file is not a JWKS, or already has the `kid`.
pub fn append_to_jwks(path: &Path, key: Map<String, Value>, replace: bool) -> Result<()> {
    let mut keys = if path.exists() {
        let mut doc = read_object(path)?;
        match doc.remove("keys") {
            Some(Value::Array(keys)) => keys,
            _ => {
                return Err(Error::msg(format!("{} is not a JWKS: no \"keys\" array", path.display())));
            }
        }
    } else {
        Vec::new()
    };
    let kid = key.get("kid").cloned();
    let existing = keys.iter_mut().find(|k| k.get("kid") == kid.as_ref());
    match (existing, replace) {
        (Some(slot), true) => *slot = Value::Object(key),
        (Some(_), false) => {
            return Err(Error::msg(format!(
                "{} already has a key with kid {}; use --force to replace it",
                path.display(),
                kid.unwrap_or(Value::Null)
            )));
        }
        (None, _) => keys.push(Value::Object(key)),
    }
    write_json(path, &json!({ "keys": keys }), false)
}

/// Writes pretty JSON followed by a newline, via a temporary file and a
/// rename so a crash never leaves half a key set behind.
///
/// # Errors
///
/// On any I/O failure.
pub fn write_json(path: &Path, value: &Value, secret: bool) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).context(|| "cannot encode JSON".to_owned())?;
    text.push('\n');
    write_file(path, text.as_bytes(), secret)
}

/// Writes a file atomically; `secret` files are readable by the owner only.
///
/// # Errors
///
/// On any I/O failure.
pub fn write_file(path: &Path, bytes: &[u8], secret: bool) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(&tmp).context(|| format!("cannot write {}", tmp.display()))?;
    std::io::Write::write_all(&mut file, bytes).context(|| format!("cannot write {}", tmp.display()))?;
    file.sync_all().context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7638_example_thumbprint() {
        // RFC 7638 section 3.1.
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        let Value::Object(jwk) = jwk else { unreachable!() };
        assert_eq!(thumbprint(&jwk).unwrap(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }

    #[test]
    fn jwks_lists_the_keys_in_order() {
        let key = |kid: &str| {
            let Value::Object(map) = json!({ "kty": "oct", "kid": kid }) else { unreachable!() };
            map
        };
        assert_eq!(
            jwks([key("a"), key("b")]).to_string(),
            r#"{"keys":[{"kty":"oct","kid":"a"},{"kty":"oct","kid":"b"}]}"#
        );
    }

    #[test]
    fn minimal_strips_leading_zeros_but_keeps_zero() {
        assert_eq!(minimal(&[0, 0, 1, 0]), &[1, 0]);
        assert_eq!(minimal(&[0, 0]), &[0]);
        assert_eq!(minimal(&[7]), &[7]);
    }
}
