//! One tracing event per verification decision: the code, the algorithm
//! and the kid, never the token, a claim value of a rejected token, or a
//! key. Field expressions are evaluated only when the event is enabled, so
//! a service without a subscriber pays nothing.

use std::fmt;

use jwtgate_parse::{Header, JsonStr};

use crate::error::Error;
use crate::verified::Verified;

/// Header strings of a token that may be hostile: printed escaped, cut at a
/// fixed length, so a log line stays one short line whatever the token says.
struct Capped<'a>(Option<JsonStr<'a>>, usize);

impl fmt::Display for Capped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(s) = self.0 else { return f.write_str("-") };
        for (i, c) in s.chars().enumerate() {
            if i == self.1 {
                return f.write_str("...");
            }
            write!(f, "{}", c.escape_debug())?;
        }
        Ok(())
    }
}

/// Logs the outcome of one verification. `header` is the token's header if
/// it parsed (unverified: for a rejection it is what the token claims).
/// `refreshable`: the key source may still find a key this attempt lacked,
/// so "no key" is not yet a rejection (the retry logs the decision).
pub(crate) fn decision(
    outcome: &Result<Verified<'_>, Error>,
    header: Option<&Header<'_>>,
    len: usize,
    refreshable: bool,
) {
    match outcome {
        Ok(v) => {
            tracing::debug!(alg = %v.alg(), kid = %Capped(v.kid(), 64), iss = %Capped(v.claims().iss(), 128), "token verified")
        }
        Err(e @ (Error::KeyNotFound | Error::KeySourceUnavailable(_))) if refreshable => tracing::debug!(
            code = e.code(),
            alg = %Capped(header.map(Header::alg), 16),
            kid = %Capped(header.and_then(Header::kid), 64),
            "no key in hand for the token; a refresh of the key source may find one"
        ),
        Err(e) => tracing::info!(
            code = e.code(),
            alg = %Capped(header.map(Header::alg), 16),
            kid = %Capped(header.and_then(Header::kid), 64),
            bytes = len,
            "token rejected: {e}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_escapes_and_cuts() {
        let mut buf = [0u8; jwtgate_parse::DEFAULT_BUFFER_LEN];
        let token = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImFcbmJcdTAwMDBjZGVmZ2hpamsifQ.e30.c2ln";
        let t = jwtgate_parse::parse(token.as_bytes(), &mut buf).unwrap();
        let kid = t.header().kid();
        assert_eq!(Capped(kid, 64).to_string(), "a\\nb\\0cdefghijk");
        assert_eq!(Capped(kid, 4).to_string(), "a\\nb\\0...");
        assert_eq!(Capped(None, 4).to_string(), "-");
    }
}
