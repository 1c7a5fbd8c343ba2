//! Strict base64url (RFC 4648 section 5) decoding without padding.
//!
//! Public so that other crates decode JWK members with the same rules.
//!
//! JWS (RFC 7515 section 2) uses base64url with all trailing `=` removed.
//! Strictness here means a token has exactly one encoding: the URL-safe
//! alphabet only, no padding, no whitespace, and the unused low bits of the
//! last character must be zero. Without the last rule `eyJ` and `eyK` style
//! variants would decode to the same bytes, and two parsers could disagree on
//! whether two tokens are "the same" (for caches, denylists, replay checks).

use crate::Error;

/// Marks a byte outside the alphabet in [`DECODE`].
const INVALID: u8 = 0xFF;

/// Maps an input byte to its 6-bit value, or [`INVALID`].
#[allow(
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "evaluated at compile time: a bad index fails the build, never a request"
)]
const DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut i = 0;
    while i < alphabet.len() {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
};

fn lookup(byte: u8) -> u8 {
    // The table has 256 entries, so this never misses; `get` keeps the
    // no-panic property visible to the linter without an `allow`.
    DECODE.get(usize::from(byte)).copied().unwrap_or(INVALID)
}

/// The exact number of bytes that `encoded_len` base64url characters decode
/// to, or `None` when no unpadded encoding has that length (`len % 4 == 1`).
#[must_use]
pub const fn decoded_len(encoded_len: usize) -> Option<usize> {
    let full = (encoded_len / 4) * 3;
    match encoded_len % 4 {
        0 => Some(full),
        2 => Some(full + 1),
        3 => Some(full + 2),
        _ => None,
    }
}

/// [`decoded_len`] of `input`, or the precise error for an impossible length.
pub(crate) fn checked_decoded_len(input: &[u8]) -> Result<usize, Error> {
    decoded_len(input.len()).ok_or_else(|| {
        // A stray '=' or newline also breaks the length; name the real fault.
        let bad_byte = input.iter().any(|&b| lookup(b) == INVALID);
        if bad_byte { Error::Base64Alphabet } else { Error::Base64Length }
    })
}

/// Decodes `input` into the front of `out` and returns the decoded bytes.
///
/// # Errors
///
/// [`Error::Base64Length`] for an impossible length, [`Error::Base64Alphabet`]
/// for any byte outside `A-Z a-z 0-9 - _`, [`Error::Base64TrailingBits`] for a
/// non-canonical final character, and [`Error::BufferTooSmall`] when `out` is
/// shorter than [`decoded_len`].
pub fn decode<'o>(input: &[u8], out: &'o mut [u8]) -> Result<&'o [u8], Error> {
    let len = checked_decoded_len(input)?;
    let out = out.get_mut(..len).ok_or(Error::BufferTooSmall)?;

    // Eight characters (48 bits, six bytes) per round: fewer loop-carried
    // steps than four at a time.
    let (octets, rest_in) = input.as_chunks::<8>();
    let (sextets, rest_out) = out.as_chunks_mut::<6>();
    // OR of every looked-up value: INVALID has the top bit set, valid
    // values never do, so one test after the loop catches any bad byte.
    let mut seen = 0u8;
    for (&[c0, c1, c2, c3, c4, c5, c6, c7], bytes) in octets.iter().zip(sextets.iter_mut()) {
        // Written out rather than `array::map`, which codegens through a
        // drop guard and cost twice the instructions here.
        let [v0, v1, v2, v3] = [lookup(c0), lookup(c1), lookup(c2), lookup(c3)];
        let [v4, v5, v6, v7] = [lookup(c4), lookup(c5), lookup(c6), lookup(c7)];
        seen |= v0 | v1 | v2 | v3 | v4 | v5 | v6 | v7;
        let n = u64::from(v0) << 42
            | u64::from(v1) << 36
            | u64::from(v2) << 30
            | u64::from(v3) << 24
            | u64::from(v4) << 18
            | u64::from(v5) << 12
            | u64::from(v6) << 6
            | u64::from(v7);
        let [_, _, b0, b1, b2, b3, b4, b5] = n.to_be_bytes();
        *bytes = [b0, b1, b2, b3, b4, b5];
    }
    let (quads, tail_in) = rest_in.as_chunks::<4>();
    let (triples, tail_out) = rest_out.as_chunks_mut::<3>();
    for (&[c0, c1, c2, c3], triple) in quads.iter().zip(triples.iter_mut()) {
        let [a, b, c, d] = [lookup(c0), lookup(c1), lookup(c2), lookup(c3)];
        seen |= a | b | c | d;
        let n = u32::from(a) << 18 | u32::from(b) << 12 | u32::from(c) << 6 | u32::from(d);
        let [_, x, y, z] = n.to_be_bytes();
        *triple = [x, y, z];
    }
    if seen & 0x80 != 0 {
        return Err(Error::Base64Alphabet);
    }

    let mut n = 0u32;
    for (i, &x) in tail_in.iter().enumerate() {
        let v = lookup(x);
        if v == INVALID {
            return Err(Error::Base64Alphabet);
        }
        n |= u32::from(v) << (18 - 6 * i);
    }
    let [_, x, y, _] = n.to_be_bytes();
    match (tail_in.len(), tail_out) {
        (0, []) => {}
        // Two characters carry 12 bits for one byte: the low 4 must be zero.
        (2, [b0]) if n & 0x00_FFFF == 0 => *b0 = x,
        // Three characters carry 18 bits for two bytes: the low 2 must be zero.
        (3, [b0, b1]) if n & 0x00_00FF == 0 => {
            *b0 = x;
            *b1 = y;
        }
        _ => return Err(Error::Base64TrailingBits),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_len_is_exact() {
        for (n, want) in [(0, Some(0)), (1, None), (2, Some(1)), (3, Some(2)), (4, Some(3)), (5, None), (6, Some(4))] {
            assert_eq!(decoded_len(n), want, "len {n}");
        }
    }

    #[test]
    fn rfc4648_vectors_in_url_alphabet() {
        // RFC 4648 section 10, padding removed.
        let cases: [(&[u8], &[u8]); 7] = [
            (b"", b""),
            (b"Zg", b"f"),
            (b"Zm8", b"fo"),
            (b"Zm9v", b"foo"),
            (b"Zm9vYg", b"foob"),
            (b"Zm9vYmE", b"fooba"),
            (b"Zm9vYmFy", b"foobar"),
        ];
        for (input, want) in cases {
            let mut out = [0u8; 8];
            assert_eq!(decode(input, &mut out), Ok(want));
        }
    }

    #[test]
    fn url_alphabet_only() {
        let mut out = [0u8; 3];
        assert_eq!(decode(b"-_-_", &mut out), Ok(&[0xfb, 0xff, 0xbf][..]));
        assert_eq!(decode(b"+/+/", &mut out), Err(Error::Base64Alphabet));
    }

    #[test]
    fn buffer_too_small() {
        let mut out = [0u8; 2];
        assert_eq!(decode(b"Zm9v", &mut out), Err(Error::BufferTooSmall));
    }

    #[test]
    fn every_noncanonical_tail_is_refused() {
        // For each valid 2- and 3-char tail, exactly the zero-trailing-bit
        // spellings decode; all others are TrailingBits.
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for (v, &c) in alphabet.iter().enumerate() {
            let mut out = [0u8; 2];
            let two = decode(&[b'A', c], &mut out);
            assert_eq!(two.is_ok(), v & 0x0F == 0, "A{}", c as char);
            let three = decode(&[b'A', b'A', c], &mut out);
            assert_eq!(three.is_ok(), v & 0x03 == 0, "AA{}", c as char);
        }
    }
}
