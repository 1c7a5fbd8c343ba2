//! Matching member names against the registered ones without allocating.
//!
//! Names are packed into a `u128` (length in the top byte, bytes below), so
//! recognising `"iss"` is one integer comparison instead of a `memcmp` call
//! per candidate; this is on the hot path for every member of every token.

use crate::JsonStr;

/// The longest name that can be packed; every registered name is shorter.
const LONGEST: usize = 15;

/// Packs up to [`LONGEST`] bytes; longer input packs to 0, which no
/// registered name packs to.
pub(crate) const fn pack(bytes: &[u8]) -> u128 {
    if bytes.len() > LONGEST {
        return 0;
    }
    let mut packed = (bytes.len() as u128) << 120;
    let mut shift = 0;
    let mut rest = bytes;
    while let [byte, tail @ ..] = rest {
        packed |= (*byte as u128) << shift;
        shift += 8;
        rest = tail;
    }
    packed
}

/// The packed unescaped value of a member name (0 for long names).
pub(crate) fn packed(name: &JsonStr<'_>) -> u128 {
    match name.as_str() {
        Some(plain) => pack(plain.as_bytes()),
        None => {
            let mut buf = [0u8; LONGEST];
            name.unescape_into(&mut buf).map_or(0, |s| pack(s.as_bytes()))
        }
    }
}
