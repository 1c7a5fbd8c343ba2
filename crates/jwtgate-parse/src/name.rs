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
/// for a third of the instructions. Every member of every token goes
/// through here.
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
    match name.as_str() {
        Some(plain) => pack_runtime(plain.as_bytes()),
        None => {
            let mut buf = [0u8; LONGEST];
            name.unescape_into(&mut buf).map_or(0, |s| pack_runtime(s.as_bytes()))
        }
    }
}

#[cfg(test)]
mod tests {
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
}
