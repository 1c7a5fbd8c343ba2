//! A strict RFC 8259 JSON scanner over borrowed bytes.
//!
//! It validates and locates; it never builds a tree. The header and claims
//! views ask it for the top-level members of an object and keep borrowed
//! spans. Strictness: UTF-8 only (no BOM), no comments, no trailing commas,
//! no trailing bytes, no lone surrogates, RFC 8259 numbers only, and a
//! nesting-depth limit so work and stack are bounded for any input.

use crate::{Error, JsonStr, swar};

/// What kind of JSON value a [`RawValue`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueKind {
    /// `{ ... }`
    Object,
    /// `[ ... ]`
    Array,
    /// `"..."`
    String,
    /// A number, in RFC 8259 syntax.
    Number,
    /// `true` or `false`.
    Bool,
    /// `null`.
    Null,
}

/// One validated JSON value, borrowed from the decoded token.
///
/// The text is exactly the bytes of the value in the document (no
/// surrounding whitespace), so it can be handed to any JSON deserializer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawValue<'a> {
    text: &'a str,
    kind: ValueKind,
    // For strings: whether the text contains escapes, known from the scan,
    // so `as_str` need not look for backslashes again.
    escaped: bool,
}

impl<'a> RawValue<'a> {
    /// The same value in another copy of the text (see [`crate::rebase`]).
    pub(crate) fn rebased<'b>(&self, from: &str, to: &'b str) -> Option<RawValue<'b>> {
        Some(RawValue { text: crate::rebase::moved(from, to, self.text)?, kind: self.kind, escaped: self.escaped })
    }

    /// The kind of value.
    #[must_use]
    pub const fn kind(&self) -> ValueKind {
        self.kind
    }

    /// The JSON text of the value, as it appears in the token.
    #[must_use]
    pub const fn as_json(&self) -> &'a str {
        self.text
    }

    /// The value as a string, if it is one.
    #[must_use]
    pub fn as_str(&self) -> Option<JsonStr<'a>> {
        match self.kind {
            ValueKind::String => {
                let raw = self.text.get(1..self.text.len().checked_sub(1)?)?;
                Some(JsonStr::new(raw, self.escaped))
            }
            _ => None,
        }
    }

    /// The value as a boolean, if it is one.
    #[must_use]
    pub fn as_bool(&self) -> Option<bool> {
        match self.text.as_bytes() {
            b"true" => Some(true),
            b"false" => Some(false),
            _ => None,
        }
    }

    /// `true` if the value is `null`.
    #[must_use]
    pub fn is_null(&self) -> bool {
        self.kind == ValueKind::Null
    }

    /// The elements of the value if it is an array, in document order.
    #[must_use]
    pub fn as_array(&self) -> Option<Elements<'a>> {
        match self.kind {
            ValueKind::Array => Some(Elements { scanner: Scanner::new(self.text, usize::MAX) }),
            _ => None,
        }
    }

    /// The members of the value if it is an object, in document order.
    #[must_use]
    pub fn as_object(&self) -> Option<Members<'a>> {
        match self.kind {
            ValueKind::Object => Some(Members::new(self.text)),
            _ => None,
        }
    }
}

/// Iterator over the members of a validated JSON object, as
/// `(name, value)` pairs in document order.
///
/// Created by [`Header::members`](crate::Header::members),
/// [`Claims::members`](crate::Claims::members) and [`RawValue::as_object`].
#[derive(Clone, Debug)]
pub struct Members<'a> {
    // INVARIANT: `scanner` walks text that `scan_object` (or `value`)
    // already validated, so every step below succeeds; a failure would end
    // the iteration instead of panicking.
    scanner: Scanner<'a>,
}

impl<'a> Members<'a> {
    /// `text` must be a validated JSON object.
    pub(crate) fn new(text: &'a str) -> Self {
        let mut scanner = Scanner::new(text, usize::MAX);
        scanner.skip_ws();
        scanner.pos += 1; // past '{'
        Self { scanner }
    }
}

impl<'a> Iterator for Members<'a> {
    type Item = (JsonStr<'a>, RawValue<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let s = &mut self.scanner;
        s.skip_ws();
        if s.eat(b',') {
            s.skip_ws();
        }
        let name = s.string().ok()?;
        s.skip_ws();
        if !s.eat(b':') {
            return None;
        }
        s.skip_ws();
        s.value(0).ok().map(|value| (name, value))
    }
}

/// Iterator over the elements of a validated JSON array.
#[derive(Clone, Debug)]
pub struct Elements<'a> {
    // INVARIANT: as for `Members`, the text was validated on construction.
    scanner: Scanner<'a>,
}

impl<'a> Iterator for Elements<'a> {
    type Item = RawValue<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let s = &mut self.scanner;
        s.skip_ws();
        if !(s.eat(b'[') || s.eat(b',')) {
            return None;
        }
        s.skip_ws();
        s.value(0).ok()
    }
}

/// A cursor over JSON bytes.
#[derive(Clone, Debug)]
pub(crate) struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    // INVARIANT: pos <= bytes.len() except transiently inside one method.
    pos: usize,
    max_depth: usize,
}

impl<'a> Scanner<'a> {
    /// UTF-8 validity is settled once for the whole text (`&str`), so the
    /// scanner itself only has to find structure: bytes >= 0x80 can only
    /// legally occur inside strings, and anywhere else they fail the grammar.
    pub(crate) const fn new(text: &'a str, max_depth: usize) -> Self {
        Self { text, bytes: text.as_bytes(), pos: 0, max_depth }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let hit = self.peek() == Some(byte);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn expect(&mut self, byte: u8) -> Result<(), Error> {
        match self.peek() {
            Some(b) if b == byte => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err(Error::UnexpectedByte),
            None => Err(Error::UnexpectedEnd),
        }
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// The text from `start` to the cursor. Both lie on UTF-8 boundaries
    /// because the scanner only ever stops on ASCII bytes.
    fn text_from(&self, start: usize) -> Result<&'a str, Error> {
        self.text.get(start..self.pos).ok_or(Error::UnexpectedEnd)
    }

    /// Scans one value starting at the cursor (no leading whitespace).
    /// `depth` counts the containers around it.
    // Inlined into the member loop (and string scanning into it): the call
    // and result passing cost ~3% of a whole parse (callgrind).
    #[inline(always)]
    pub(crate) fn value(&mut self, depth: usize) -> Result<RawValue<'a>, Error> {
        let start = self.pos;
        let mut escaped = false;
        let kind = match self.peek().ok_or(Error::UnexpectedEnd)? {
            b'{' => {
                self.object(depth + 1, |_, _, _| Ok(()))?;
                ValueKind::Object
            }
            b'[' => {
                self.array(depth + 1)?;
                ValueKind::Array
            }
            b'"' => {
                escaped = self.string_span()?.1;
                ValueKind::String
            }
            b't' => {
                self.literal(b"true")?;
                ValueKind::Bool
            }
            b'f' => {
                self.literal(b"false")?;
                ValueKind::Bool
            }
            b'n' => {
                self.literal(b"null")?;
                ValueKind::Null
            }
            b'-' | b'0'..=b'9' => {
                self.number()?;
                ValueKind::Number
            }
            _ => return Err(Error::UnexpectedByte),
        };
        Ok(RawValue { text: self.text_from(start)?, kind, escaped })
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Error> {
        let end = self.pos + word.len();
        match self.bytes.get(self.pos..end) {
            Some(found) if found == word => {
                self.pos = end;
                Ok(())
            }
            Some(_) => Err(Error::UnexpectedByte),
            None => Err(Error::UnexpectedEnd),
        }
    }

    /// Scans an object at the cursor, calling `member` for each member with
    /// the name, the offset of the name's first byte (after the quote) in the
    /// text, and the value.
    pub(crate) fn object(
        &mut self,
        depth: usize,
        mut member: impl FnMut(JsonStr<'a>, usize, RawValue<'a>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        if depth > self.max_depth {
            return Err(Error::DepthLimit);
        }
        self.expect(b'{')?;
        self.skip_ws();
        if self.eat(b'}') {
            return Ok(());
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.unexpected());
            }
            let name_at = self.pos + 1;
            let name = self.string()?;
            self.skip_ws();
            self.expect(b':')?;
            self.skip_ws();
            let value = self.value(depth)?;
            member(name, name_at, value)?;
            self.skip_ws();
            if self.eat(b'}') {
                return Ok(());
            }
            self.expect(b',')?;
            self.skip_ws();
        }
    }

    fn array(&mut self, depth: usize) -> Result<(), Error> {
        if depth > self.max_depth {
            return Err(Error::DepthLimit);
        }
        self.expect(b'[')?;
        self.skip_ws();
        if self.eat(b']') {
            return Ok(());
        }
        loop {
            self.value(depth)?;
            self.skip_ws();
            if self.eat(b']') {
                return Ok(());
            }
            self.expect(b',')?;
            self.skip_ws();
        }
    }

    fn unexpected(&self) -> Error {
        if self.pos >= self.bytes.len() { Error::UnexpectedEnd } else { Error::UnexpectedByte }
    }

    /// Scans a string at the cursor (which is on its opening quote).
    pub(crate) fn string(&mut self) -> Result<JsonStr<'a>, Error> {
        let start = self.pos + 1;
        let (end, escaped) = self.string_span()?;
        Ok(JsonStr::new(self.text.get(start..end).ok_or(Error::UnexpectedEnd)?, escaped))
    }

    /// Scans a string at the cursor (which is on its opening quote) and
    /// leaves the cursor after it. Returns the position of the closing
    /// quote and whether there were escapes; callers slice what they need,
    /// so a string value's text is cut out once, with its quotes.
    #[inline(always)]
    fn string_span(&mut self) -> Result<(usize, bool), Error> {
        self.expect(b'"')?;
        let mut escaped = false;
        let end = loop {
            // Fast path: one tight loop over everything that needs no
            // attention (multi-byte UTF-8 included, validated up front).
            let stop = self.plain_run_end(self.pos)?;
            self.pos = stop;
            match self.peek().ok_or(Error::UnexpectedEnd)? {
                b'"' => break stop,
                b'\\' => {
                    escaped = true;
                    self.escape()?;
                }
                _ => return Err(Error::ControlCharInString),
            }
        };
        self.pos = end + 1;
        Ok((end, escaped))
    }

    /// The position of the first byte at or after `pos` that ends the fast
    /// path in a string (see [`swar::string_stop_lanes`]), eight bytes per
    /// step while eight remain.
    #[inline(always)]
    fn plain_run_end(&self, mut pos: usize) -> Result<usize, Error> {
        while let Some(word) = self.bytes.get(pos..).and_then(<[u8]>::first_chunk::<8>) {
            let hits = swar::string_stop_lanes(u64::from_le_bytes(*word));
            if hits != 0 {
                // Little-endian, so the lowest set bit is the first byte.
                return Ok(pos + (hits.trailing_zeros() / 8) as usize);
            }
            pos += 8;
        }
        let tail = self.bytes.get(pos..).unwrap_or_default();
        tail.iter().position(|&b| stops_string(b)).map(|at| pos + at).ok_or(Error::UnexpectedEnd)
    }

    /// Validates one escape at the cursor (on the backslash).
    fn escape(&mut self) -> Result<(), Error> {
        self.pos += 1;
        let kind = self.peek().ok_or(Error::UnexpectedEnd)?;
        self.pos += 1;
        match kind {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Ok(()),
            b'u' => {
                let unit = self.hex4()?;
                match unit {
                    0xD800..=0xDBFF => {
                        // A high surrogate must be followed by a low one.
                        if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                            return Err(Error::LoneSurrogate);
                        }
                        self.pos += 2;
                        match self.hex4()? {
                            0xDC00..=0xDFFF => Ok(()),
                            _ => Err(Error::LoneSurrogate),
                        }
                    }
                    0xDC00..=0xDFFF => Err(Error::LoneSurrogate),
                    _ => Ok(()),
                }
            }
            _ => Err(Error::InvalidEscape),
        }
    }

    fn hex4(&mut self) -> Result<u16, Error> {
        let digits = self.bytes.get(self.pos..self.pos + 4).ok_or(Error::UnexpectedEnd)?;
        let unit = parse_hex4(digits).ok_or(Error::InvalidEscape)?;
        self.pos += 4;
        Ok(unit)
    }

    /// Scans a number at the cursor per RFC 8259 section 6.
    fn number(&mut self) -> Result<(), Error> {
        self.eat(b'-');
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(Error::InvalidNumber),
        }
        if self.eat(b'.') {
            self.require_digits()?;
        }
        if self.eat(b'e') || self.eat(b'E') {
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            self.require_digits()?;
        }
        // "01", "1.5.2", "-" followed by a letter: the grammar ended but the
        // token did not; the caller would report it as an unexpected byte,
        // but a number glued to more number-ish bytes is an invalid number.
        match self.peek() {
            Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') => Err(Error::InvalidNumber),
            _ => Ok(()),
        }
    }

    fn digits(&mut self) {
        // Eight at a time while eight remain: a NumericDate is ten digits.
        while let Some(word) = self.bytes.get(self.pos..).and_then(<[u8]>::first_chunk::<8>) {
            let stops = swar::non_digit_lanes(u64::from_le_bytes(*word));
            if stops != 0 {
                self.pos += (stops.trailing_zeros() / 8) as usize;
                return;
            }
            self.pos += 8;
        }
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn require_digits(&mut self) -> Result<(), Error> {
        match self.peek() {
            Some(b'0'..=b'9') => {
                self.digits();
                Ok(())
            }
            _ => Err(Error::InvalidNumber),
        }
    }

    /// Scans the text as one complete JSON document whose top-level value must
    /// be an object, calling `member` for each top-level member.
    pub(crate) fn document(
        mut self,
        member: impl FnMut(JsonStr<'a>, usize, RawValue<'a>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        self.skip_ws();
        match self.peek() {
            Some(b'{') => self.object(1, member)?,
            None => return Err(Error::UnexpectedEnd),
            // Still validate, so that invalid JSON is reported as such and
            // only valid non-objects get `NotAnObject`.
            Some(_) => {
                self.value(0)?;
                self.skip_ws();
                return Err(if self.pos == self.bytes.len() { Error::NotAnObject } else { Error::TrailingBytes });
            }
        }
        self.skip_ws();
        if self.pos == self.bytes.len() { Ok(()) } else { Err(Error::TrailingBytes) }
    }
}

/// Bytes that end the fast path inside a string: the closing quote, a
/// backslash, or a control character (an error). One table load per byte
/// instead of three comparisons.
#[allow(clippy::indexing_slicing, reason = "evaluated at compile time: a bad index fails the build, never a request")]
const STOPS_STRING: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

fn stops_string(byte: u8) -> bool {
    STOPS_STRING.get(usize::from(byte)).copied().unwrap_or(true)
}

/// Four hex digits to a UTF-16 code unit.
pub(crate) fn parse_hex4(digits: &[u8]) -> Option<u16> {
    let mut unit = 0u16;
    if digits.len() != 4 {
        return None;
    }
    for &d in digits {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            b'A'..=b'F' => d - b'A' + 10,
            _ => return None,
        };
        unit = unit << 4 | u16::from(v);
    }
    Some(unit)
}
