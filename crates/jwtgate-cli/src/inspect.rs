//! `jwtgate inspect`: what a token says about itself, UNVERIFIED, and what
//! about it should worry a reviewer.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwtgate_verify::Algorithm;
use serde_json::{Value, json};

use crate::render;

/// Tokens living longer than this earn a warning: access tokens are meant
/// to be short-lived, because expiry is their revocation.
const LONG_LIFETIME_SECS: i64 = 24 * 3600;

/// Claim names that usually carry personal data (OIDC standard claims).
const PII_CLAIMS: &[&str] = &[
    "email",
    "phone_number",
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "birthdate",
    "address",
    "preferred_username",
    "nickname",
];

/// The decoded, unverified token.
pub(crate) struct Inspection {
    pub(crate) header: Option<Value>,
    pub(crate) claims: Option<Value>,
    /// The strict parser's verdict: `None` when it accepts the token.
    pub(crate) strict_error: Option<String>,
    pub(crate) warnings: Vec<String>,
    pub(crate) now: i64,
}

/// Decodes leniently (so a malformed token can still be looked at) and
/// reports what the strict parser thinks separately.
pub(crate) fn run(token: &str, now: i64) -> Inspection {
    let parts: Vec<&str> = token.split('.').collect();
    let decode = |i: usize| -> Option<Value> {
        let part = parts.get(i)?.trim_end_matches('=');
        let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
        serde_json::from_slice(&bytes).ok()
    };
    let header = decode(0);
    // A JWE (five parts) has an encrypted payload: nothing to decode.
    let claims = if parts.len() == 5 { None } else { decode(1) };
    let mut buf = vec![0u8; jwtgate_parse::buffer_len_for(token.len())];
    let strict_error = jwtgate_parse::parse_str(token, &mut buf).err().map(|e| e.to_string());
    let warnings = warnings(parts.len(), header.as_ref(), claims.as_ref(), now);
    Inspection { header, claims, strict_error, warnings, now }
}

fn warnings(parts: usize, header: Option<&Value>, claims: Option<&Value>, now: i64) -> Vec<String> {
    let mut w = Vec::new();
    match parts {
        3 => {}
        5 => w.push("five parts: an encrypted token (JWE), which jwtgate does not accept".to_owned()),
        n => w.push(format!("{n} parts: a compact JWS has exactly three")),
    }
    let Some(header) = header else {
        w.push("the header is not base64url-encoded JSON".to_owned());
        return w;
    };
    match header.get("alg").and_then(Value::as_str) {
        None => w.push("no alg in the header".to_owned()),
        Some(alg) if alg.eq_ignore_ascii_case("none") => {
            w.push(format!("alg {alg:?}: an unsigned token; every verifier must reject it"));
        }
        Some(alg) if Algorithm::from_name(alg).is_none() => {
            w.push(format!("alg {alg:?} is not one jwtgate verifies (names are case-sensitive)"));
        }
        Some(_) => {}
    }
    for member in ["jwk", "jku", "x5u", "x5c"] {
        if header.get(member).is_some() {
            w.push(format!(
                "the header carries {member}: a key or key URL chosen by the token's author; jwtgate never uses it"
            ));
        }
    }
    if header.get("crit").is_some() {
        w.push("the header has crit: extensions a verifier must understand or reject".to_owned());
    }
    if header.get("b64").is_some() {
        w.push("the header has b64 (RFC 7797 unencoded payload), which jwtgate rejects".to_owned());
    }
    if let Some(kid) = header.get("kid").and_then(Value::as_str)
        && (kid.contains("..") || kid.contains('/') || kid.contains('\0') || kid.contains('\''))
    {
        w.push("the kid contains path or quote characters: a sign of a kid-injection attempt".to_owned());
    }
    let Some(claims) = claims else {
        if parts != 5 {
            w.push("the payload is not base64url-encoded JSON".to_owned());
        }
        return w;
    };
    if !claims.is_object() {
        w.push("the claims are not a JSON object".to_owned());
        return w;
    }
    // NumericDate may be fractional: read as f64, judged on whole seconds.
    #[allow(clippy::cast_possible_truncation, reason = "saturating float-to-int conversion is the intent")]
    let seconds = |name: &str| claims.get(name).and_then(Value::as_f64).map(|v| v.floor() as i64);
    let exp = seconds("exp");
    match exp {
        None if claims.get("exp").is_some() => w.push("exp is not a number".to_owned()),
        None => w.push("no exp: the token never expires".to_owned()),
        Some(exp) if exp <= now => w.push("exp has passed: the token is expired".to_owned()),
        Some(_) => {}
    }
    if let (Some(exp), Some(start)) = (exp, seconds("iat").or_else(|| seconds("nbf")))
        && exp.saturating_sub(start) > LONG_LIFETIME_SECS
    {
        w.push(format!(
            "long lifetime ({}): access tokens should live minutes, expiry is their revocation",
            crate::when::span(exp.saturating_sub(start))
        ));
    }
    if seconds("nbf").is_some_and(|nbf| nbf > now) {
        w.push("nbf is in the future: the token is not valid yet".to_owned());
    }
    for name in ["iss", "aud"] {
        if claims.get(name).is_none() {
            w.push(format!("no {name}: a verifier cannot tell who the token is from or for"));
        }
    }
    let pii: Vec<&str> = PII_CLAIMS.iter().copied().filter(|c| claims.get(c).is_some()).collect();
    if !pii.is_empty() {
        w.push(format!(
            "personal data in the claims ({}): access tokens pass through many hops and logs",
            pii.join(", ")
        ));
    }
    w
}

impl Inspection {
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "verified": false,
            "header": self.header,
            "claims": self.claims,
            "strict_parser": match &self.strict_error { None => json!("accepts"), Some(e) => json!(e) },
            "warnings": self.warnings,
        })
    }

    pub(crate) fn to_human(&self) -> String {
        let mut out = String::from("UNVERIFIED: decoded without checking the signature; do not trust these values\n");
        let show =
            |v: &Option<Value>| v.as_ref().map_or_else(|| "  (cannot be decoded)".to_owned(), render::json_block);
        out.push_str(&format!("\nheader:\n{}\n", show(&self.header)));
        out.push_str(&format!("\nclaims:\n{}\n", show(&self.claims)));
        if let Some(claims) = &self.claims {
            let times = render::time_lines(claims, self.now);
            if !times.is_empty() {
                out.push_str(&format!("\ntimes (now {}):\n{times}", crate::when::utc(self.now)));
            }
        }
        match &self.strict_error {
            None => out.push_str("\nstrict parser: well-formed\n"),
            Some(e) => out.push_str(&format!("\nstrict parser: rejects it ({e})\n")),
        }
        if self.warnings.is_empty() {
            out.push_str("\nwarnings: none\n");
        } else {
            out.push_str("\nwarnings:\n");
            for w in &self.warnings {
                out.push_str(&format!("  - {w}\n"));
            }
        }
        out
    }
}
