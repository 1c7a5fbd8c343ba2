//! Claims that are "a string or an array of strings" (`aud`, `crit`, `scp`).

use crate::json::{Elements, RawValue, ValueKind};
use crate::{Error, JsonStr};

/// A validated string, or array of strings, iterable without allocation.
///
/// RFC 7519 lets `aud` be either form; `crit` is always an array; `scope`
/// and `scp` appear in both forms in the wild. Iteration yields each string
/// once, in document order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StrList<'a> {
    // INVARIANT: `value` is a string, or an array whose elements are all strings.
    value: RawValue<'a>,
}

impl<'a> StrList<'a> {
    /// The same list in another copy of the text (see [`crate::rebase`]).
    pub(crate) fn rebased<'b>(&self, from: &str, to: &'b str) -> Option<StrList<'b>> {
        Some(StrList { value: self.value.rebased(from, to)? })
    }

    /// Accepts a string or an array of strings; `None` for anything else.
    pub(crate) fn new(value: RawValue<'a>) -> Option<Self> {
        let ok = match value.kind() {
            ValueKind::String => true,
            ValueKind::Array => value.as_array()?.all(|v| v.kind() == ValueKind::String),
            _ => false,
        };
        ok.then_some(Self { value })
    }

    /// `true` if the JSON value was a single string rather than an array.
    #[must_use]
    pub fn is_single(&self) -> bool {
        self.value.kind() == ValueKind::String
    }

    /// The strings, in document order.
    #[must_use]
    pub fn iter(&self) -> StrListIter<'a> {
        match self.value.as_array() {
            Some(elements) => StrListIter { single: None, elements: Some(elements) },
            None => StrListIter { single: self.value.as_str(), elements: None },
        }
    }

    /// Number of strings (1 for the single-string form).
    #[must_use]
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// `true` for an empty array.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// `true` if any string's unescaped value equals `needle`.
    #[must_use]
    pub fn contains(&self, needle: &str) -> bool {
        self.iter().any(|s| s.eq_str(needle))
    }

    /// The underlying JSON value.
    #[must_use]
    pub const fn as_raw(&self) -> RawValue<'a> {
        self.value
    }
}

impl<'a> IntoIterator for StrList<'a> {
    type Item = JsonStr<'a>;
    type IntoIter = StrListIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a> IntoIterator for &StrList<'a> {
    type Item = JsonStr<'a>;
    type IntoIter = StrListIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over a [`StrList`].
#[derive(Clone, Debug)]
pub struct StrListIter<'a> {
    single: Option<JsonStr<'a>>,
    elements: Option<Elements<'a>>,
}

impl<'a> Iterator for StrListIter<'a> {
    type Item = JsonStr<'a>;

    fn next(&mut self) -> Option<JsonStr<'a>> {
        if let Some(s) = self.single.take() {
            return Some(s);
        }
        self.elements.as_mut()?.next()?.as_str()
    }
}

/// A `StrList` or the given type error.
pub(crate) fn str_list(value: RawValue<'_>, error: Error) -> Result<StrList<'_>, Error> {
    StrList::new(value).ok_or(error)
}
