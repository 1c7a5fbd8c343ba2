//! Top-level objects of the header and the claims: members, duplicates, limits.

use crate::json::{RawValue, Scanner};
use crate::{Error, JsonStr, Limits};

/// The most top-level members the parser tracks in one object. Duplicate
/// detection needs to remember every name without allocating; 128 is several
/// times what real identity providers put in an access token (Entra ID, the
/// most generous, uses about 30), and keeps the table at 1 KiB of stack.
pub const MAX_TOP_LEVEL_MEMBERS: usize = 128;

/// A name seen so far, as a span of the document: `start` and the raw
/// length, with the top bit of `len` set when the name contains escapes.
#[derive(Clone, Copy, Default)]
struct Seen {
    start: u32,
    len: u32,
}

const ESCAPED: u32 = 1 << 31;

/// Scans `json` as a complete document whose top-level value is an object
/// and calls `member` once per top-level member, after checking that no
/// name repeats (compared after unescaping, RFC 7515 section 4 and RFC 7519
/// section 4 both require rejecting or taking the last; we reject, because
/// "take the last" is exactly where two parsers disagree).
pub(crate) fn scan<'a>(
    json: &'a str,
    limits: &Limits,
    mut member: impl FnMut(JsonStr<'a>, RawValue<'a>) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut seen = [Seen::default(); MAX_TOP_LEVEL_MEMBERS];
    let mut count = 0usize;
    let base = json.as_ptr() as usize;
    Scanner::new(json, limits.max_depth).document(|name, value| {
        let earlier = seen.get(..count).unwrap_or_default();
        if earlier.iter().any(|s| same_name(json, *s, &name)) {
            return Err(Error::DuplicateMember);
        }
        let slot = seen.get_mut(count).ok_or(Error::TooManyMembers)?;
        // The name borrows from `json`, so its offset is in range; both
        // conversions fail only for documents over 2 GiB, which the token
        // size limit rules out long before.
        let start = (name.raw().as_ptr() as usize).wrapping_sub(base);
        let start = u32::try_from(start).map_err(|_| Error::TokenTooLarge)?;
        let len = u32::try_from(name.raw().len()).map_err(|_| Error::TokenTooLarge)?;
        if len & ESCAPED != 0 {
            return Err(Error::TokenTooLarge);
        }
        *slot = Seen {
            start,
            len: len | if name.has_escapes() { ESCAPED } else { 0 },
        };
        count += 1;
        member(name, value)
    })
}

fn same_name(json: &str, seen: Seen, name: &JsonStr<'_>) -> bool {
    let len = (seen.len & !ESCAPED) as usize;
    let start = seen.start as usize;
    let Some(raw) = json.get(start..start + len) else {
        return false;
    };
    let seen = JsonStr::new(raw, seen.len & ESCAPED != 0);
    seen.eq_unescaped(name)
}
