//! Top-level objects of the header and the claims: members, duplicates, limits.

use crate::json::{Members, RawValue, Scanner};
use crate::{Error, JsonStr, Limits, name};

/// The most top-level members the parser tracks in one object. Duplicate
/// detection must remember every name without allocating; 128 is several
/// times what real identity providers put in an access token (Entra ID, the
/// most generous, uses about 30) and keeps the table at 512 bytes of stack.
pub const MAX_TOP_LEVEL_MEMBERS: usize = 128;

/// Scans `json` as a complete document whose top-level value is an object
/// and calls `member` once per top-level member, after checking that no
/// name repeats, compared after unescaping.
///
/// RFC 7515 section 4 and RFC 7519 section 4 let a parser either reject
/// duplicates or keep the last one; we reject, because "keep the last" (or
/// the first) is exactly where two parsers of the same token disagree.
///
/// Each name is remembered as a 32-bit key of its unescaped value (its
/// [packed](name::packed) form folded, or a hash for long names); only a key
/// match (a real duplicate, or a rare collision) costs a second look, which
/// walks the already-validated members before it. So the common case is a
/// few hundred integer comparisons, with no `memcmp` at all.
///
/// `member` receives the packed name too, so views match registered names
/// without packing again.
pub(crate) fn scan<'a>(
    json: &'a str,
    limits: &Limits,
    mut member: impl FnMut(u128, RawValue<'a>) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut keys = [0u32; MAX_TOP_LEVEL_MEMBERS];
    let mut count = 0usize;
    Scanner::new(json, limits.max_depth).document(|name, name_at, value| {
        let packed = name::packed_at(json.as_bytes(), name_at, &name);
        let hash = if packed == 0 { hash(&name) } else { fold(packed) };
        let earlier = keys.get(..count).unwrap_or_default();
        if earlier.contains(&hash) && repeats_earlier(json, &name, count) {
            return Err(Error::DuplicateMember);
        }
        *keys.get_mut(count).ok_or(Error::TooManyMembers)? = hash;
        count += 1;
        member(packed, value)
    })
}

/// True if one of the first `count` members of `json` has the name `name`.
/// Those members were validated before the current one was reached, so the
/// iterator yields all of them even though the rest of `json` is unchecked.
fn repeats_earlier(json: &str, name: &JsonStr<'_>, count: usize) -> bool {
    Members::new(json).take(count).any(|(earlier, _)| earlier.eq_unescaped(name))
}

#[allow(clippy::cast_possible_truncation, reason = "folding 128 bits into 32: dropping bits is the point")]
fn fold(packed: u128) -> u32 {
    let [a, b, c, d] = [0, 32, 64, 96].map(|shift| (packed >> shift) as u32);
    a ^ b.rotate_left(7) ^ c.rotate_left(14) ^ d.rotate_left(21)
}

/// FNV-1a over the unescaped UTF-8 bytes of a (long) name.
fn hash(name: &JsonStr<'_>) -> u32 {
    const PRIME: u32 = 0x0100_0193;
    let step = |h: u32, b: u8| (h ^ u32::from(b)).wrapping_mul(PRIME);
    let seed = 0x811C_9DC5;
    match name.as_str() {
        Some(plain) => plain.bytes().fold(seed, step),
        None => name.chars().fold(seed, |h, c| c.encode_utf8(&mut [0; 4]).bytes().fold(h, step)),
    }
}
