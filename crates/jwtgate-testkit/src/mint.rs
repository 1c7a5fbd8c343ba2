//! Sign a compact JWS with a private JWK file: what `cargo xtask mint`
//! runs, and what tests use for tokens.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::alg::Alg;
use crate::error::{Context as _, Error, Result};
use crate::jwk::{b64, read_object};
use crate::key::PrivateKey;

/// What to put in the token.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// Path of the private JWK.
    pub key: PathBuf,
    /// Signing algorithm, when the JWK has no `alg`.
    pub alg: Option<Alg>,
    /// `iss`.
    pub iss: String,
    /// `aud`: one value becomes a string, several an array.
    pub aud: Vec<String>,
    /// `sub`.
    pub sub: String,
    /// `client_id`, the OAuth client the token was issued to; none if absent.
    /// RFC 9068 section 2.2 requires it in an access token, so a token
    /// without it fails `Verifier::builder().rfc9068_access_token()`.
    pub client_id: Option<String>,
    /// Lifetime: `exp = iat + ttl`, e.g. `5m`, `300`, `-1h` (already expired).
    pub ttl: String,
    /// `nbf`: absolute seconds, or `+30s` / `-1m` relative to now; none if absent.
    pub nbf: Option<String>,
    /// The time to mint at, in Unix seconds; default the system clock.
    pub now: Option<i64>,
    /// Extra claims (a JSON object), merged last so they can override.
    pub claims: Option<String>,
    /// Extra header members (a JSON object), merged last.
    pub header: Option<String>,
    /// `typ`; empty for none.
    pub typ: String,
    /// `kid` for the header; default the JWK's `kid`.
    pub kid: Option<String>,
}

/// Builds and signs the token.
///
/// # Errors
///
/// For an unreadable or invalid key, a bad duration or time, or extra
/// claims/header that are not a JSON object.
pub fn run(req: &Request) -> Result<String> {
    let jwk = read_object(&req.key)?;
    let key = PrivateKey::from_jwk(&jwk, req.alg).context(|| format!("{}", req.key.display()))?;
    let now = match req.now {
        Some(now) => now,
        None => unix_now()?,
    };

    let mut header = Map::new();
    header.insert("alg".to_owned(), json!(key.alg().name()));
    if !req.typ.is_empty() {
        header.insert("typ".to_owned(), json!(req.typ));
    }
    let kid = req.kid.clone().or_else(|| jwk.get("kid").and_then(Value::as_str).map(str::to_owned));
    if let Some(kid) = kid {
        header.insert("kid".to_owned(), json!(kid));
    }
    merge(&mut header, req.header.as_deref(), "--header")?;

    let mut claims = Map::new();
    claims.insert("iss".to_owned(), json!(req.iss));
    claims.insert("sub".to_owned(), json!(req.sub));
    match req.aud.as_slice() {
        [] => {}
        [one] => {
            claims.insert("aud".to_owned(), json!(one));
        }
        many => {
            claims.insert("aud".to_owned(), json!(many));
        }
    }
    if let Some(client_id) = &req.client_id {
        claims.insert("client_id".to_owned(), json!(client_id));
    }
    claims.insert("iat".to_owned(), json!(now));
    let exp = now.checked_add(parse_duration(&req.ttl)?).ok_or_else(|| Error::msg("--ttl overflows"))?;
    claims.insert("exp".to_owned(), json!(exp));
    if let Some(nbf) = &req.nbf {
        claims.insert("nbf".to_owned(), json!(parse_time(nbf, now)?));
    }
    claims.insert("jti".to_owned(), json!(random_jti()?));
    merge(&mut claims, req.claims.as_deref(), "--claims")?;

    key.sign_compact(&Value::Object(header).to_string(), &Value::Object(claims).to_string())
}

/// Signs exactly the given header and payload JSON text, byte for byte:
/// for tests that need JSON a map cannot express (duplicate names, odd
/// spacing, escapes, non-objects).
///
/// # Errors
///
/// If the key file is unreadable or invalid, or signing fails.
pub fn sign_raw(key: &std::path::Path, header: &str, payload: &str) -> Result<String> {
    let jwk = read_object(key)?;
    PrivateKey::from_jwk(&jwk, None)?.sign_compact(header, payload)
}

fn merge(into: &mut Map<String, Value>, extra: Option<&str>, flag: &str) -> Result<()> {
    let Some(extra) = extra else { return Ok(()) };
    match serde_json::from_str(extra).context(|| format!("{flag} is not valid JSON"))? {
        Value::Object(extra) => {
            into.extend(extra);
            Ok(())
        }
        _ => Err(Error::msg(format!("{flag} must be a JSON object"))),
    }
}

fn unix_now() -> Result<i64> {
    let secs =
        SystemTime::now().duration_since(UNIX_EPOCH).context(|| "system clock is before 1970".to_owned())?.as_secs();
    i64::try_from(secs).map_err(|_| Error::msg("system clock out of range"))
}

fn random_jti() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).context(|| "OS random number generator failed".to_owned())?;
    Ok(b64(bytes))
}

/// `300`, `45s`, `5m`, `2h`, `1d`, with an optional leading `-` or `+`.
///
/// # Errors
///
/// For anything else.
pub fn parse_duration(text: &str) -> Result<i64> {
    let bad = || Error::msg(format!("invalid duration {text:?}: use e.g. 300, 45s, 5m, 2h, 1d, -1h"));
    let (sign, body) = match (text.strip_prefix('-'), text.strip_prefix('+')) {
        (Some(rest), _) => (-1, rest),
        (_, Some(rest)) => (1, rest),
        _ => (1, text),
    };
    let (digits, unit) = match body.chars().last() {
        Some(c) if c.is_ascii_alphabetic() => (body.strip_suffix(c).unwrap_or(body), c),
        _ => (body, 's'),
    };
    let scale = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(bad()),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: i64 = digits.parse().map_err(|_| bad())?;
    n.checked_mul(scale).and_then(|v| v.checked_mul(sign)).ok_or_else(bad)
}

/// An absolute Unix time, or `+`/`-` a duration relative to `now`.
///
/// # Errors
///
/// For anything else.
pub fn parse_time(text: &str, now: i64) -> Result<i64> {
    if text.starts_with(['+', '-']) {
        return now.checked_add(parse_duration(text)?).ok_or_else(|| Error::msg(format!("{text:?} overflows")));
    }
    text.parse().map_err(|_| Error::msg(format!("invalid time {text:?}: Unix seconds, or +30s / -1m relative to now")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("300").unwrap(), 300);
        assert_eq!(parse_duration("5m").unwrap(), 300);
        assert_eq!(parse_duration("-1h").unwrap(), -3600);
        assert_eq!(parse_duration("+2d").unwrap(), 172_800);
        for bad in ["", "m", "5x", "1.5h", "--1", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("1700000000", 5).unwrap(), 1_700_000_000);
        assert_eq!(parse_time("-30s", 100).unwrap(), 70);
        assert!(parse_time("soon", 0).is_err());
    }
}
