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

/// [`pack`] for names met at run time: one copy into a 16-byte buffer
/// read as a little-endian integer gives the same value as `pack`'s
/// byte-by-byte shifts (byte `i` at bits `8i`, the length in byte 15),
/// for a third of the instructions. Names with fewer than sixteen bytes
/// of the document from their start (the last names of a short header),
/// and escaped ones, come through here.
fn pack_runtime(bytes: &[u8]) -> u128 {
    let mut buf = [0u8; 16];
    let (Some(front), Ok(len)) = (buf.get_mut(..bytes.len()), u8::try_from(bytes.len())) else { return 0 };
    if usize::from(len) > LONGEST {
        return 0;
    }
    front.copy_from_slice(bytes);
    if let Some(last) = buf.last_mut() {
        *last = len;
    }
    u128::from_le_bytes(buf)
}

/// The packed unescaped value of a member name (0 for long names).
pub(crate) fn packed(name: &JsonStr<'_>) -> u128 {
    let mut buf = [0u8; LONGEST];
    name.unescaped(&mut buf).map_or(0, |s| pack_runtime(s.as_bytes()))
}

/// [`packed`] for a name that starts at `at` in `doc`: when sixteen bytes
/// of the document are there to read, a plain short name is one masked
/// load, with no copy of a variable length (which compiles to a `memcpy`
/// call per member).
// Once per member name: inlined (~1% of a parse).
#[inline(always)]
pub(crate) fn packed_at(doc: &[u8], at: usize, name: &JsonStr<'_>) -> u128 {
    let len = name.raw().len();
    let word = doc.get(at..).and_then(|rest| rest.first_chunk::<16>());
    match word {
        Some(word) if len <= LONGEST && !name.has_escapes() => {
            // len <= 15, so the shift stays below 128.
            let mask = (1u128 << (8 * len)) - 1;
            u128::from_le_bytes(*word) & mask | (len as u128) << 120
        }
        _ => packed(name),
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::format;

    use super::*;

    #[test]
    fn runtime_packing_equals_the_const_one() {
        let text = b"abcdefghijklmnopqrstuvwxyz";
        for len in 0..=text.len() {
            let bytes = &text[..len];
            assert_eq!(pack_runtime(bytes), pack(bytes), "length {len}");
        }
        assert_eq!(pack_runtime(b"\xff\x00"), pack(b"\xff\x00"));
    }

    #[test]
    fn packing_in_place_equals_the_const_one() {
        // Names of every length at every offset, with the document ending
        // right after the closing quote or with plenty of bytes after it.
        let text = "abcdefghijklmnopqrstuvwxyz";
        for len in 0..=20 {
            for at in 0..4 {
                for after in ["\"", "\":\"zzzzzzzzzzzzzzzzzzzz\""] {
                    let doc = format!("{}{}{after}", &"\"{{["[..at], &text[..len]);
                    let name = JsonStr::new(&text[..len], false);
                    assert_eq!(packed_at(doc.as_bytes(), at, &name), pack(&text.as_bytes()[..len]), "{doc}");
                }
            }
        }
        // Escaped names pack their unescaped value.
        let doc = r#""\u0061lg":"sixteen or more bytes after the name"}"#;
        let name = JsonStr::new(r"\u0061lg", true);
        assert_eq!(packed_at(doc.as_bytes(), 1, &name), pack(b"alg"));
    }
}
