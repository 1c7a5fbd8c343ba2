//! Word-at-a-time byte search ("SIMD within a register"), in safe Rust.
//!
//! The two scans that touch every byte of a token, finding the dots and
//! finding the end of a JSON string, look at eight bytes per step. Each
//! mask function sets the top bit of every byte lane that matches; lanes
//! after the first match may be set spuriously (borrows propagate upward),
//! but the lowest set bit is always exact, and that is all we read.

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
                }
            }
        }
    }
}
