//! Borrowed JSON strings: compare and copy out without allocating.

use core::fmt;

use crate::Error;
use crate::json::parse_hex4;

/// A JSON string inside a token, borrowed and still escaped.
///
/// Only the scanner creates these, and only for strings it validated, so the
/// escapes are known to be well formed. Compare with [`JsonStr::eq_str`] (or
/// `==` against a `&str`), which compares the *unescaped* value: `"alg"` and
/// `"\u0061lg"` are equal. Use [`JsonStr::as_str`] for the zero-cost case of a
/// string without escapes, and [`JsonStr::unescape_into`] to copy the value
/// into a buffer of yours.
#[derive(Clone, Copy)]
pub struct JsonStr<'a> {
    // INVARIANT: `raw` is the validated text between the quotes.
    raw: &'a str,
    // INVARIANT: `escaped` is true iff `raw` contains a backslash.
    escaped: bool,
}

impl<'a> JsonStr<'a> {
    pub(crate) const fn new(raw: &'a str, escaped: bool) -> Self {
        Self { raw, escaped }
    }

    /// The string as it appears in the JSON, escapes intact, without quotes.
    #[must_use]
    pub const fn raw(&self) -> &'a str {
        self.raw
    }

    /// `true` if the JSON text contains at least one escape sequence.
    #[must_use]
    pub const fn has_escapes(&self) -> bool {
        self.escaped
    }

    /// The value without copying, if it has no escapes (the common case).
    #[must_use]
    pub const fn as_str(&self) -> Option<&'a str> {
        if self.escaped { None } else { Some(self.raw) }
    }

    /// The unescaped characters of the value.
    #[must_use]
    pub fn chars(&self) -> Chars<'a> {
        Chars { rest: self.raw }
    }

    /// Length in bytes of the unescaped value encoded as UTF-8.
    #[must_use]
    pub fn unescaped_len(&self) -> usize {
        if self.escaped { self.chars().map(char::len_utf8).sum() } else { self.raw.len() }
    }

    /// `true` if the unescaped value equals `other`.
    #[must_use]
    pub fn eq_str(&self, other: &str) -> bool {
        if self.escaped { self.chars().eq(other.chars()) } else { self.raw == other }
    }

    /// `true` if the unescaped value starts with `prefix`.
    #[must_use]
    pub fn starts_with(&self, prefix: &str) -> bool {
        if self.escaped {
            let mut mine = self.chars();
            prefix.chars().all(|c| mine.next() == Some(c))
        } else {
            self.raw.starts_with(prefix)
        }
    }

    /// `true` if both strings have the same unescaped value.
    #[must_use]
    pub fn eq_unescaped(&self, other: &JsonStr<'_>) -> bool {
        if self.raw == other.raw {
            return true;
        }
        if !self.escaped && !other.escaped {
            return false;
        }
        self.chars().eq(other.chars())
    }

    /// The unescaped value: borrowed from the token when it has no escapes
    /// (the common case, no copy), otherwise unescaped into the front of
    /// `buf` as [`JsonStr::unescape_into`] does.
    ///
    /// `buf`'s length bounds the value either way, so the outcome never
    /// depends on how the token spelled it (`"kid"` and `"k\u0069d"` are
    /// the same value and get the same answer).
    ///
    /// # Errors
    ///
    /// [`Error::UnescapeBufferTooSmall`] if `buf` is shorter than
    /// [`JsonStr::unescaped_len`], escapes or not.
    pub fn unescaped<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, Error>
    where
        'a: 'b,
    {
        if self.escaped {
            self.unescape_into(buf)
        } else if self.raw.len() > buf.len() {
            Err(Error::UnescapeBufferTooSmall)
        } else {
            Ok(self.raw)
        }
    }

    /// Copies the unescaped value into the front of `buf` and returns it.
    ///
    /// # Errors
    ///
    /// [`Error::UnescapeBufferTooSmall`] if `buf` is shorter than
    /// [`JsonStr::unescaped_len`].
    pub fn unescape_into<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, Error> {
        let mut len = 0;
        for c in self.chars() {
            let end = len + c.len_utf8();
            let slot = buf.get_mut(len..end).ok_or(Error::UnescapeBufferTooSmall)?;
            c.encode_utf8(slot);
            len = end;
        }
        let written = buf.get(..len).ok_or(Error::UnescapeBufferTooSmall)?;
        // Only whole chars were written, so this cannot fail.
        core::str::from_utf8(written).map_err(|_| Error::InvalidUtf8)
    }
}

/// Equality of the unescaped values, like every comparison on this type.
impl PartialEq for JsonStr<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.eq_unescaped(other)
    }
}

impl Eq for JsonStr<'_> {}

impl core::hash::Hash for JsonStr<'_> {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        // Hash what `eq` compares, so equal values hash alike.
        self.chars().for_each(|c| c.hash(state));
    }
}

impl PartialEq<str> for JsonStr<'_> {
    fn eq(&self, other: &str) -> bool {
        self.eq_str(other)
    }
}

impl PartialEq<&str> for JsonStr<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.eq_str(other)
    }
}

impl fmt::Debug for JsonStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.raw)
    }
}

impl fmt::Display for JsonStr<'_> {
    /// Writes the unescaped value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = self.as_str() {
            return f.write_str(s);
        }
        self.chars().try_for_each(|c| fmt::Write::write_char(f, c))
    }
}

/// Iterator over the unescaped characters of a [`JsonStr`].
#[derive(Clone, Debug)]
pub struct Chars<'a> {
    rest: &'a str,
}

impl Chars<'_> {
    fn take_hex4(&mut self) -> Option<u16> {
        let digits = self.rest.as_bytes().get(..4)?;
        let unit = parse_hex4(digits)?;
        self.rest = self.rest.get(4..)?;
        Some(unit)
    }
}

impl Iterator for Chars<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        let mut chars = self.rest.chars();
        let c = chars.next()?;
        self.rest = chars.as_str();
        if c != '\\' {
            return Some(c);
        }
        let mut chars = self.rest.chars();
        let kind = chars.next()?;
        self.rest = chars.as_str();
        // The escapes were validated by the scanner; the `?`s and the
        // replacement character below are unreachable fallbacks that keep
        // this iterator panic-free even if that invariant were broken.
        Some(match kind {
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let unit = self.take_hex4()?;
                let code = if (0xD800..0xDC00).contains(&unit) {
                    self.rest = self.rest.strip_prefix("\\u")?;
                    let low = self.take_hex4()?;
                    0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low).wrapping_sub(0xDC00) & 0x3FF)
                } else {
                    u32::from(unit)
                };
                char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
            }
            other => other, // '"', '\\', '/'
        })
    }
}
