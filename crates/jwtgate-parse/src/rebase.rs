//! Moving a view onto another copy of the text it was parsed from.
//!
//! A verified-token cache keeps a token's decoded header and claims and,
//! on a hit, copies them into the caller's buffer. Parsing them again
//! would cost as much as the first time; instead each view is *rebased*:
//! every slice it holds is replaced by the slice at the same offset of the
//! new copy. That is a handful of pointer subtractions, no scan, and on
//! the same text it gives exactly the view the parser gave.

use core::ops::Range;

use crate::{Claims, Header, JsonStr};

/// Where `part` lies in `whole`, as a byte range, if it lies within it.
fn range_in(whole: &str, part: &str) -> Option<Range<usize>> {
    // Addresses compared as integers: `part` was sliced out of `whole`
    // by the parser, so its offset is the difference of the two.
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    (end <= whole.len()).then_some(start..end)
}

/// The slice of `to` at the place `part` has in `from`.
pub(crate) fn moved<'b>(from: &str, to: &'b str, part: &str) -> Option<&'b str> {
    to.get(range_in(from, part)?)
}

impl<'a> JsonStr<'a> {
    pub(crate) fn rebased<'b>(&self, from: &str, to: &'b str) -> Option<JsonStr<'b>> {
        Some(JsonStr::new(moved(from, to, self.raw())?, self.has_escapes()))
    }
}

/// Rebases an optional view.
pub(crate) fn opt<T, U>(value: Option<T>, rebase: impl FnOnce(T) -> Option<U>) -> Option<Option<U>> {
    match value {
        None => Some(None),
        Some(v) => rebase(v).map(Some),
    }
}

/// The longest JSON text (a header, or the claims) a view can be detached
/// from: the decoding of a 16 KiB token, the verifier's size ceiling.
pub const MAX_DETACHED_LEN: usize = 12 * 1024;

/// Spaces: the text a detached view points into. Only its length matters:
/// a view of it records where each field lies, nothing of the content.
static BLANK: &str = match core::str::from_utf8(&[b' '; MAX_DETACHED_LEN]) {
    Ok(blank) => blank,
    Err(_) => "",
};

/// A [`Header`] with its text taken out: where each field lies, as
/// offsets. [`DetachedHeader::attach`] puts it back onto a copy of the
/// same text without parsing it again, which is what a verified-token
/// cache needs: it keeps the decoded JSON and this, and on a hit hands out
/// the same view as the first verification.
#[derive(Clone, Copy, Debug)]
pub struct DetachedHeader(Header<'static>);

/// [`Claims`] with their text taken out; see [`DetachedHeader`].
#[derive(Clone, Copy, Debug)]
pub struct DetachedClaims(Claims<'static>);

impl Header<'_> {
    /// Detaches this view from its text; `None` if the text is longer than
    /// [`MAX_DETACHED_LEN`].
    #[must_use]
    pub fn detach(&self) -> Option<DetachedHeader> {
        self.rebase(BLANK.get(..self.json().len())?).map(DetachedHeader)
    }
}

impl DetachedHeader {
    /// The view over `json`, which must hold the same text the view was
    /// detached from (a copy, byte for byte: the fields are placed by
    /// offset, not parsed again); `None` if its length differs.
    #[must_use]
    pub fn attach<'b>(&self, json: &'b str) -> Option<Header<'b>> {
        self.0.rebase(json)
    }

    /// The length of the text the view was detached from.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.0.json().len()
    }

    /// `true` for a view of an empty text (never, for a parsed header).
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Claims<'_> {
    /// Detaches this view from its text; `None` if the text is longer than
    /// [`MAX_DETACHED_LEN`].
    #[must_use]
    pub fn detach(&self) -> Option<DetachedClaims> {
        self.rebase(BLANK.get(..self.json().len())?).map(DetachedClaims)
    }
}

impl DetachedClaims {
    /// The view over `json`, which must hold the same text the view was
    /// detached from (a copy, byte for byte: the fields are placed by
    /// offset, not parsed again); `None` if its length differs.
    #[must_use]
    pub fn attach<'b>(&self, json: &'b str) -> Option<Claims<'b>> {
        self.0.rebase(json)
    }

    /// The length of the text the view was detached from.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.0.json().len()
    }

    /// `true` for a view of an empty text (never, for parsed claims).
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
