//! `jwtgate jwks`: every member of a key set, whether jwtgate can use it
//! and why not, and the caching headers the server sent.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwtgate_verify::{KeyFamily, VerifyingKey};
use serde_json::{Value, json};

use crate::keys::Loaded;

/// One member of the document.
pub(crate) struct Member {
    kid: Option<String>,
    kty: Option<String>,
    alg: Option<String>,
    usage: Option<String>,
    size: Option<String>,
    /// `None` when usable, else why not.
    unusable: Option<String>,
}

/// The listing: members and, for URLs, the fetch's headers.
pub(crate) struct Listing {
    members: Vec<Member>,
    fetch: Option<jwtgate_jwks::FetchInfo>,
}

impl Listing {
    pub(crate) fn usable(&self) -> usize {
        self.members.iter().filter(|m| m.unusable.is_none()).count()
    }
}

pub(crate) fn list(loaded: &Loaded) -> Listing {
    let document: Value = serde_json::from_str(loaded.document()).unwrap_or(Value::Null);
    // A single JWK or a PEM file is a set of one.
    let members: Vec<Value> = match document.get("keys").and_then(Value::as_array) {
        Some(keys) => keys.clone(),
        None if document.is_object() => vec![document],
        None => Vec::new(),
    };
    // Usability is what loading the set decided (skipped members carry
    // their index and reason), not a second judgement made here.
    let skipped = loaded.keys().skipped();
    let mut listed: Vec<Member> = members
        .iter()
        .enumerate()
        .map(|(i, m)| describe(m, skipped.iter().find(|s| s.index == i).map(|s| s.reason.to_string())))
        .collect();
    if listed.is_empty() {
        // PEM: describe the loaded key itself.
        listed = loaded
            .keys()
            .keys()
            .iter()
            .map(|k| Member {
                kid: k.kid().map(str::to_owned),
                kty: Some(kty_of(k.family()).to_owned()),
                alg: k.alg().map(|a| a.to_string()),
                usage: None,
                size: Some(size_of(k)),
                unusable: None,
            })
            .collect();
    }
    let fetch = match loaded {
        Loaded::Remote { fetch, .. } => fetch.clone(),
        Loaded::Static { .. } => None,
    };
    Listing { members: listed, fetch }
}

/// The JWK `kty` of a key family.
const fn kty_of(family: KeyFamily) -> &'static str {
    match family {
        KeyFamily::Hmac => "oct",
        KeyFamily::Rsa => "RSA",
        KeyFamily::P256 | KeyFamily::P384 | KeyFamily::P521 => "EC",
        KeyFamily::Ed25519 => "OKP",
    }
}

/// `RSA-2048`, `P-256`, `P-521`, ... from the key's own description (never key bytes).
fn size_of(key: &VerifyingKey) -> String {
    let text = format!("{key:?}");
    let inner = text.strip_prefix("VerifyingKey(").and_then(|t| t.strip_suffix(')')).unwrap_or(&text);
    inner.split(' ').next().unwrap_or(inner).to_owned()
}

fn describe(member: &Value, unusable: Option<String>) -> Member {
    let text = |name: &str| member.get(name).and_then(Value::as_str).map(str::to_owned);
    let kty = text("kty");
    let size = match kty.as_deref() {
        Some("RSA") => text("n").and_then(|n| bits(&n)).map(|b| format!("{b} bits")),
        // The length of a secret says how strong it is; its bytes are never shown.
        Some("oct") => {
            text("k").and_then(|k| URL_SAFE_NO_PAD.decode(k).ok()).map(|k| format!("{}-bit secret", k.len() * 8))
        }
        Some("EC" | "OKP") => text("crv"),
        _ => None,
    };
    Member { kid: text("kid"), kty, alg: text("alg"), usage: text("use"), size, unusable }
}

/// Significant bits of a base64url big-endian integer (an RSA modulus).
fn bits(b64: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(b64).ok()?;
    let first = bytes.iter().position(|&b| b != 0)?;
    let lead = bytes.get(first).map_or(0, |b| b.leading_zeros() as usize);
    Some((bytes.len() - first) * 8 - lead)
}

impl Listing {
    pub(crate) fn to_json(&self) -> Value {
        let keys: Vec<Value> = self
            .members
            .iter()
            .map(|m| {
                json!({
                    "kid": m.kid, "kty": m.kty, "alg": m.alg, "use": m.usage, "size": m.size,
                    "usable": m.unusable.is_none(), "reason": m.unusable,
                })
            })
            .collect();
        let fetch = self.fetch.as_ref().map(|f| {
            json!({
                "url": f.url, "status": f.status, "cache_control": f.cache_control, "expires": f.expires,
                "age": f.age, "etag": f.etag, "fresh_for_secs": f.ttl.as_secs(),
            })
        });
        json!({ "keys": keys, "usable": self.usable(), "fetch": fetch })
    }

    pub(crate) fn to_human(&self) -> String {
        let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
        let mut rows = vec![["kid", "kty", "alg", "use", "size", "usable"].map(str::to_owned)];
        for m in &self.members {
            let usable = match &m.unusable {
                None => "yes".to_owned(),
                Some(why) => format!("no: {why}"),
            };
            rows.push([dash(&m.kid), dash(&m.kty), dash(&m.alg), dash(&m.usage), dash(&m.size), usable]);
        }
        let mut widths = [0usize; 6];
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let n = self.members.len();
        let mut out = format!("{n} key{}, {} usable\n\n", if n == 1 { "" } else { "s" }, self.usable());
        for row in &rows {
            let line: Vec<String> = row.iter().zip(widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
        }
        if let Some(f) = &self.fetch {
            out.push_str(&format!("\nfetched {} (HTTP {})\n", f.url, f.status));
            out.push_str(&format!("  Cache-Control: {}\n", dash(&f.cache_control)));
            out.push_str(&format!("  Expires:       {}\n", dash(&f.expires)));
            out.push_str(&format!("  Age:           {}\n", dash(&f.age)));
            out.push_str(&format!("  ETag:          {}\n", dash(&f.etag)));
            out.push_str(&format!(
                "  fresh for {} (jwtgate-jwks bounds applied)\n",
                crate::when::span(i64::try_from(f.ttl.as_secs()).unwrap_or(i64::MAX))
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_lengths() {
        assert_eq!(bits("AQAB"), Some(17));
        assert_eq!(bits("AAAB"), Some(1));
        assert_eq!(bits("AAAA"), None);
        assert_eq!(bits("!"), None);
        assert_eq!(bits(&URL_SAFE_NO_PAD.encode([0xff; 256])), Some(2048));
        assert_eq!(bits(&URL_SAFE_NO_PAD.encode([0u8, 0x80, 0, 0])), Some(24));
    }
}
