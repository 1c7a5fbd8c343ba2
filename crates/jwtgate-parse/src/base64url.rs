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

/// Set in a table entry for a byte outside the alphabet. Valid entries never
/// reach bit 31 (the largest is 63 << 18), so OR-ing entries together and
/// testing this bit once checks a whole run of characters.
const INVALID: u32 = 1 << 31;

/// The alphabet's 6-bit values shifted into place for the character's
/// position within a group of four: a group decodes to the OR of four
/// lookups, with no per-character shifting on the hot path.
#[allow(
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "evaluated at compile time: a bad index fails the build, never a request; i < 64"
)]
const fn shifted_table(shift: u32) -> [u32; 256] {
    let mut table = [INVALID; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut i = 0;
    while i < alphabet.len() {
        table[alphabet[i] as usize] = (i as u32) << shift;
        i += 1;
    }
    table
}

/// One table per position in a group of four characters (4 KiB in all).
const GROUP: [[u32; 256]; 4] = [shifted_table(18), shifted_table(12), shifted_table(6), shifted_table(0)];

/// The 24 bits four characters carry, with [`INVALID`] set if any of them is
/// outside the alphabet.
fn group(chars: [u8; 4]) -> u32 {
    let [t0, t1, t2, t3] = &GROUP;
    // Each table has 256 entries, so these never miss; `get` keeps the
    // no-panic property visible to the linter without an `allow`.
    let at = |table: &[u32; 256], c: u8| table.get(usize::from(c)).copied().unwrap_or(INVALID);
    let [c0, c1, c2, c3] = chars;
    at(t0, c0) | at(t1, c1) | at(t2, c2) | at(t3, c3)
}

/// The 6-bit value of one character, or [`INVALID`].
fn lookup(byte: u8) -> u32 {
    let [.., unshifted] = &GROUP;
    unshifted.get(usize::from(byte)).copied().unwrap_or(INVALID)
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

    // Sixteen characters (twelve bytes) per round: four independent table
    // groups whose loads overlap, and input and output walked as exact
    // chunks side by side, so the loop has no bounds checks. A length of
    // 16k + r (r < 16) decodes to 12k + at most 11 bytes, so both sides
    // have exactly k whole chunks.
    let (blocks, rest_in) = input.as_chunks::<16>();
    let (out_blocks, rest_out) = out.as_chunks_mut::<12>();
    // OR of every group: one test after the loops catches any bad byte.
    let mut seen = 0u32;
    for (block, dst) in blocks.iter().zip(out_blocks.iter_mut()) {
        let [c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15] = *block;
        let groups =
            [group([c0, c1, c2, c3]), group([c4, c5, c6, c7]), group([c8, c9, c10, c11]), group([c12, c13, c14, c15])];
        let [ga, gb, gc, gd] = groups;
        seen |= ga | gb | gc | gd;
        let [a, b, c, d] = groups.map(u64::from);
        // 4 x 24 bits as one 8-byte and one 4-byte big-endian store.
        let [w0, w1, w2, w3, w4, w5, w6, w7] = (a << 40 | b << 16 | c >> 8).to_be_bytes();
        let [_, _, _, _, x0, x1, x2, x3] = ((c & 0xFF) << 24 | d).to_be_bytes();
        *dst = [w0, w1, w2, w3, w4, w5, w6, w7, x0, x1, x2, x3];
    }
    let (quads, tail_in) = rest_in.as_chunks::<4>();
    let (triples, tail_out) = rest_out.as_chunks_mut::<3>();
    for (&quad, triple) in quads.iter().zip(triples.iter_mut()) {
        let n = group(quad);
        seen |= n;
        let [_, x, y, z] = n.to_be_bytes();
        *triple = [x, y, z];
    }
    if seen & INVALID != 0 {
        return Err(Error::Base64Alphabet);
    }

    let mut n = 0u32;
    for (i, &x) in tail_in.iter().enumerate() {
        let v = lookup(x);
        if v == INVALID {
            return Err(Error::Base64Alphabet);
        }
        n |= v << (18 - 6 * i);
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
    fn a_byte_outside_the_alphabet_is_caught_at_every_position() {
        // Lengths covering one and two 16-character rounds, the
        // 4-character groups and both tails, in every combination.
        for len in (2..=40).filter(|n| n % 4 != 1) {
            for at in 0..len {
                for bad in [b'=', b'+', b'/', b' ', b'.', b'\n', 0x00, 0x80, 0xFF] {
                    let mut input = [b'A'; 40];
                    input[at] = bad;
                    let mut out = [0u8; 30];
                    assert_eq!(decode(&input[..len], &mut out), Err(Error::Base64Alphabet), "len {len} at {at}");
                }
            }
        }
    }

    #[test]
    #[allow(clippy::cast_possible_truncation, reason = "6-bit values and bytes taken from a bit buffer")]
    fn every_length_decodes_exactly_into_its_buffer() {
        // The chunked stores must neither spill past the decoded length nor
        // leave a stale byte: decode into a buffer of exactly that size,
        // pre-filled with a marker.
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for len in (0..=40).filter(|n| n % 4 != 1) {
            let mut input = [0u8; 40];
            for (i, c) in input.iter_mut().enumerate() {
                *c = alphabet[(i * 7 + 3) % 64];
            }
            // A canonical last character: zero the bits beyond the data.
            let last_mask = match len % 4 {
                2 => 0x30,
                3 => 0x3C,
                _ => 0x3F,
            };
            if len > 0 {
                let v = alphabet.iter().position(|&a| a == input[len - 1]).unwrap() & last_mask;
                input[len - 1] = alphabet[v];
            }
            let want = decoded_len(len).unwrap();
            let mut out = [0xEEu8; 30];
            let decoded = decode(&input[..len], &mut out[..want]).unwrap();
            assert_eq!(decoded.len(), want);
            // Reference: four characters at a time, by the definition.
            let mut bits = 0u32;
            let mut nbits = 0;
            let mut expected = [0u8; 30];
            let mut n = 0;
            for &c in &input[..len] {
                bits = bits << 6 | alphabet.iter().position(|&a| a == c).unwrap() as u32;
                nbits += 6;
                if nbits >= 8 {
                    nbits -= 8;
                    expected[n] = (bits >> nbits) as u8;
                    n += 1;
                }
            }
            assert_eq!(n, want);
            assert_eq!(&out[..want], &expected[..want], "len {len}");
        }
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
