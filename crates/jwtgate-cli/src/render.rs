//! Shared pieces of the human-readable output.

use serde_json::Value;

use crate::when;

/// Pretty JSON, indented two spaces, without a trailing newline.
pub(crate) fn json_block(value: &Value) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.lines().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n")
}

/// One line per time claim: the number, the UTC date, the relation to now.
pub(crate) fn time_lines(claims: &Value, now: i64) -> String {
    let mut out = String::new();
    for name in ["exp", "nbf", "iat", "auth_time"] {
        if let Some(at) = claims.get(name).and_then(Value::as_i64) {
            out.push_str(&format!("  {name:<9} {at:<12} {}  {}\n", when::utc(at), when::relative(name, at, now)));
        }
    }
    out
}
