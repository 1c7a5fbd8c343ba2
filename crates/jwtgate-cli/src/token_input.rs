//! Where the token comes from: the argument, or standard input.

use std::io::Read as _;

use crate::failure::Failure;

/// Tokens longer than this are not read from stdin at all: a token is a
/// few kilobytes, and the verifier's own ceiling is 16 KiB.
const STDIN_LIMIT: u64 = 1024 * 1024;

/// The token from `arg`, or stdin when `arg` is absent or `-`, with
/// surrounding whitespace trimmed (a pasted token often ends in a newline).
pub(crate) fn read(arg: Option<&str>) -> Result<String, Failure> {
    let text = match arg {
        Some(token) if token != "-" => token.to_owned(),
        _ => {
            let mut buf = String::new();
            // One byte more than the limit tells "exactly at" from "over".
            std::io::stdin()
                .take(STDIN_LIMIT + 1)
                .read_to_string(&mut buf)
                .map_err(|e| Failure::config("cannot read the token from standard input", &e))?;
            if buf.len() as u64 > STDIN_LIMIT {
                return Err(Failure::Config(format!("standard input is longer than {STDIN_LIMIT} bytes: not a token")));
            }
            buf
        }
    };
    let token = text.trim();
    if token.is_empty() {
        return Err(Failure::Config("no token given (pass it as an argument or on standard input)".into()));
    }
    Ok(token.to_owned())
}
