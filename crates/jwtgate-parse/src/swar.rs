//! Word-at-a-time byte search ("SIMD within a register"), in safe Rust.
//!
//! The scans that touch most bytes of a token (finding the dots, the end
//! of a JSON string, the end of a run of digits) look at eight bytes per
//! step, and NumericDates convert eight digits per step. Each mask
//! function sets the top bit of every byte lane that matches; lanes after
//! the first match may be set spuriously (borrows and carries propagate
//! upward), but the lowest set bit is always exact, and that is all we read.

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// Top bit set in each lane whose byte is zero (lowest lane exact).
const fn zero_lanes(word: u64) -> u64 {
    word.wrapping_sub(ONES) & !word & HIGHS
}

/// Lanes equal to `byte`.
pub(crate) const fn eq_lanes(word: u64, byte: u8) -> u64 {
    zero_lanes(word ^ (ONES * byte as u64))
}

/// Lanes that end the fast path inside a JSON string: `"`, `\` or a
/// control character (< 0x20).
pub(crate) const fn string_stop_lanes(word: u64) -> u64 {
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    control | eq_lanes(word, b'"') | eq_lanes(word, b'\\')
}

/// Lanes that are not ASCII digits. A digit's high nibble is 3, and adding
/// 6 keeps it 3 only for `0`-`9`; each test leaves a lane zero exactly when
/// it passes (lanes above a non-digit may be disturbed by a carry, but the
/// lowest set lane is exact).
pub(crate) const fn non_digit_lanes(word: u64) -> u64 {
    const HIGH_NIBBLES: u64 = u64::from_ne_bytes([0xF0; 8]);
    const THREES: u64 = ONES * 0x30;
    let outside = (word & HIGH_NIBBLES) ^ THREES | (word.wrapping_add(ONES * 6) & HIGH_NIBBLES) ^ THREES;
    nonzero_lanes(outside)
}

/// Top bit set in each lane whose byte is not zero (every lane exact: the
/// addition cannot carry out of a lane).
const fn nonzero_lanes(word: u64) -> u64 {
    const LOWS: u64 = !HIGHS;
    ((word & LOWS).wrapping_add(LOWS) | word) & HIGHS
}

/// The value of eight ASCII digits (first in memory most significant),
/// by adding neighbours pairwise: 8 digits -> 4 pairs -> 2 quads -> 1.
/// The word must have passed [`non_digit_lanes`].
pub(crate) const fn eight_digits(word: u64) -> u64 {
    let digits = word.wrapping_sub(ONES * 0x30);
    let pairs = digits.wrapping_mul(10).wrapping_add(digits >> 8) & 0x00FF_00FF_00FF_00FF;
    let quads = pairs.wrapping_mul(100).wrapping_add(pairs >> 16) & 0x0000_FFFF_0000_FFFF;
    quads.wrapping_mul(10_000).wrapping_add(quads >> 32) & 0xFFFF_FFFF
}

/// The value of 1 to 18 ASCII digits (which cannot overflow), or `None`
/// for any other input.
pub(crate) fn decimal(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() || bytes.len() > 18 {
        return None;
    }
    let (words, tail) = bytes.as_chunks::<8>();
    let mut n = 0u64;
    for word in words {
        let word = u64::from_le_bytes(*word);
        if non_digit_lanes(word) != 0 {
            return None;
        }
        n = n * 100_000_000 + eight_digits(word);
    }
    for &byte in tail {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        n = n * 10 + u64::from(digit);
    }
    Some(n)
}

/// Index of the last byte equal to `byte`. A backward search needs every
/// lane exact (a spurious lane above the real match would be found first),
/// so lanes are tested with [`nonzero_lanes`], which never carries.
pub(crate) fn rposition_eq(bytes: &[u8], byte: u8) -> Option<usize> {
    let (head, words) = bytes.as_rchunks::<8>();
    for (i, word) in words.iter().enumerate().rev() {
        let hits = HIGHS & !nonzero_lanes(u64::from_le_bytes(*word) ^ (ONES * byte as u64));
        if hits != 0 {
            // Little-endian: the highest set lane is the last byte in memory.
            return Some(head.len() + i * 8 + 7 - (hits.leading_zeros() / 8) as usize);
        }
    }
    head.iter().rposition(|&b| b == byte)
}

/// Index of the first byte for which `lanes` (on whole words) or
/// `scalar` (on the tail) matches.
pub(crate) fn position(bytes: &[u8], lanes: impl Fn(u64) -> u64, scalar: impl Fn(u8) -> bool) -> Option<usize> {
    let (words, tail) = bytes.as_chunks::<8>();
    for (i, word) in words.iter().enumerate() {
        // Little-endian, so the lowest set bit is the first byte in memory.
        let hits = lanes(u64::from_le_bytes(*word));
        if hits != 0 {
            return Some(i * 8 + (hits.trailing_zeros() / 8) as usize);
        }
    }
    tail.iter().position(|&b| scalar(b)).map(|at| words.len() * 8 + at)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;

    #[test]
    fn digits_agree_with_scalar_parsing() {
        // Every length up to 20, with each position in turn holding a
        // byte next to the digit range (or far from it) and the rest digits.
        let near = [b'/', b':', b'0', b'9', 0x00, 0x20, 0x3F, 0x40, 0x80, 0xB0, 0xF9, 0xFF];
        for len in 0..=20usize {
            let digits: Vec<u8> = (0..len).map(|i| b"9081726354"[i % 10]).collect();
            let want = core::str::from_utf8(&digits)
                .ok()
                .filter(|s| (1..=18).contains(&s.len()))
                .map(|s| s.parse::<u64>().unwrap());
            assert_eq!(decimal(&digits), want, "{digits:?}");
            for at in 0..len {
                for &byte in &near {
                    let mut bytes = digits.clone();
                    bytes[at] = byte;
                    let all_digits = bytes.iter().all(u8::is_ascii_digit);
                    let want = if all_digits && len <= 18 {
                        Some(bytes.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
                    } else {
                        None
                    };
                    assert_eq!(decimal(&bytes), want, "{bytes:?}");
                    if let Some(word) = bytes.first_chunk::<8>() {
                        let first_non_digit = word.iter().position(|b| !b.is_ascii_digit());
                        let lanes = non_digit_lanes(u64::from_le_bytes(*word));
                        let found = (lanes != 0).then(|| (lanes.trailing_zeros() / 8) as usize);
                        assert_eq!(found, first_non_digit, "{bytes:?}");
                    }
                }
            }
        }
        assert_eq!(decimal(b"999999999999999999"), Some(999_999_999_999_999_999));
        assert_eq!(decimal(b"00000000"), Some(0));
        assert_eq!(eight_digits(u64::from_le_bytes(*b"12345678")), 12_345_678);
    }

    #[test]
    fn agrees_with_scalar_search_at_every_offset() {
        let stops = |b: u8| b == b'"' || b == b'\\' || b < 0x20;
        for len in 0..40 {
            for at in 0..len {
                for special in [b'"', b'\\', 0x00, 0x1f, b'.'] {
                    // Include bytes >= 0x80 and just above 0x20 around the hit.
                    let mut bytes: Vec<u8> = (0..len).map(|i| [b'a', 0x20, 0xff, 0x80, b'!'][i % 5]).collect();
                    bytes[at] = special;
                    let want = bytes.iter().position(|&b| stops(b));
                    assert_eq!(position(&bytes, string_stop_lanes, stops), want, "len {len} at {at} byte {special}");
                    let want = bytes.iter().position(|&b| b == b'.');
                    assert_eq!(position(&bytes, |w| eq_lanes(w, b'.'), |b| b == b'.'), want);
                    // Backward, with a second match earlier and bytes one
                    // above and below the target around it.
                    let mut twice = bytes.clone();
                    twice[at / 2] = b'.';
                    for probe in [&bytes, &twice] {
                        let want = probe.iter().rposition(|&b| b == b'.');
                        assert_eq!(rposition_eq(probe, b'.'), want, "{probe:?}");
                        let want = probe.iter().rposition(|&b| b == b'/');
                        assert_eq!(rposition_eq(probe, b'/'), want, "{probe:?}");
                    }
                }
            }
        }
    }
}
