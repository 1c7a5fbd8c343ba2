//! The custom claims into the layer's type, and, when they do not fit, which
//! field failed, said without repeating anything the token says.
//!
//! serde_json's error text is no use as it stands: "invalid type: string
//! \"alice\", expected u64" carries the claim's value, and it names no
//! field for anything but a missing one. So the refusal is rebuilt from
//! parts that cannot carry a value:
//!
//! - the field: the top-level member whose value holds the error position
//!   (or, for a missing field, the name in serde's message), and only if it
//!   is one of the fields the type itself declares (`&'static str` from the
//!   derive, so the text comes from the service's code, not the token);
//! - for the log: serde's kind of error ("invalid type", "missing field",
//!   ...) from a fixed list, what the type expected (for invalid type,
//!   value and length errors, the text after serde's last ", expected ",
//!   written by the type's `Deserialize`), the category, the line and the
//!   column. Never the rest of the message, which is where serde puts the
//!   value.

use std::any::type_name;
use std::borrow::Cow;

use jwtgate_verify::{Claims, Error, JsonStr};
use serde::de::{self, DeserializeOwned, Visitor};

/// Deserializes `claims` into `T`.
///
/// # Errors
///
/// [`Error::MissingClaim`] naming the field when a field `T` declares is
/// absent; [`Error::InvalidClaim`] naming the field (or "custom claims"
/// when it cannot be told) otherwise. Either way one info event says why.
pub(crate) fn deserialize<T: DeserializeOwned>(claims: &Claims<'_>) -> Result<T, Error> {
    serde_json::from_str(claims.json()).map_err(|e| explain::<T>(claims, &e))
}

/// serde's kinds of data error, from `serde::de::Error`'s provided methods:
/// the words before the colon or the backquote. A message that starts
/// with none of them came from a `Deserialize` impl's `custom` and may say
/// anything, so it is not logged.
const KINDS: [&str; 7] = [
    "missing field",
    "invalid type",
    "invalid value",
    "invalid length",
    "unknown variant",
    "unknown field",
    "duplicate field",
];

#[cold]
fn explain<T: DeserializeOwned>(claims: &Claims<'_>, e: &serde_json::Error) -> Error {
    let fields = declared_fields::<T>();
    let text = e.to_string();
    // serde_json appends " at line L column C" when it knows the position.
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = text.strip_suffix(suffix.as_str()).unwrap_or(&text);
    let kind = KINDS.iter().copied().find(|k| message.starts_with(k));
    // serde ends these three with ", expected {what the type wanted}", so
    // the last ", expected " is serde's and the value stays before it. (The
    // unknown-variant and unknown-field messages may end otherwise, "there
    // are no variants", leaving only the value's text to split on.)
    let expected = kind
        .filter(|k| matches!(*k, "invalid type" | "invalid value" | "invalid length"))
        .and_then(|_| message.rsplit_once(", expected "))
        .map(|(_, wanted)| wanted);

    let at = byte_offset(claims.json(), e.line(), e.column());
    let field = at.and_then(|at| member_at(claims, at)).and_then(|name| declared(fields, name));
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
        .and_then(|name| fields.iter().copied().find(|f| *f == name));

    let error = match (field, missing) {
        // The error is inside a member's value: a nested missing field is
        // that member being invalid, not a missing top-level claim.
        (Some(field), _) => Error::InvalidClaim(Cow::Borrowed(field)),
        (None, Some(field)) => Error::MissingClaim(Cow::Borrowed(field)),
        (None, None) => Error::InvalidClaim(Cow::Borrowed("custom claims")),
    };
    tracing::info!(
        claims_type = type_name::<T>(),
        field = field.or(missing).unwrap_or("-"),
        kind = kind.unwrap_or("other"),
        expected = expected.unwrap_or("-"),
        category = ?e.classify(),
        line = e.line(),
        column = e.column(),
        "the token verified, but its claims do not fit the layer's claims type"
    );
    error
}

/// The field of `fields` that `name` spells, as the type's own `'static`
/// text.
fn declared(fields: &'static [&'static str], name: JsonStr<'_>) -> Option<&'static str> {
    fields.iter().copied().find(|f| name.eq_str(f))
}

/// The byte offset of serde_json's (1-based line, 0-based column) position
/// in `json`, which is the index of the next byte it would have read.
/// `None` when serde_json gave no position (line 0).
fn byte_offset(json: &str, line: usize, column: usize) -> Option<usize> {
    let line_start = match line.checked_sub(1)? {
        0 => 0,
        newlines => json.match_indices('\n').nth(newlines - 1)?.0 + 1,
    };
    line_start.checked_add(column)
}

/// The name of the top-level member whose value spans `at` (both ends
/// included: serde_json reports a value it refused by the position just
/// past it, and one it did not start reading, an object or array, by its
/// first byte).
fn member_at<'a>(claims: &Claims<'a>, at: usize) -> Option<JsonStr<'a>> {
    // Member values are slices of the same text, so their offsets follow
    // from the addresses; no unsafe code is needed to compare addresses.
    let base = claims.json().as_ptr() as usize;
    claims.members().find_map(|(name, value)| {
        let start = (value.as_json().as_ptr() as usize).checked_sub(base)?;
        let end = start.checked_add(value.as_json().len())?;
        (start..=end).contains(&at).then_some(name)
    })
}

/// The field names `T` declares, if it deserializes as a struct (what
/// `#[derive(Deserialize)]` hands to `deserialize_struct`); empty for
/// anything else (a map, a `#[serde(flatten)]` struct, a custom impl).
fn declared_fields<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    // Always an error: the probe records the names and stops there.
    let _ = T::deserialize(FieldNames(&mut fields));
    fields
}

/// A deserializer that holds no data: it only records the field list a
/// struct asks for.
struct FieldNames<'f>(&'f mut &'static [&'static str]);

impl<'de> de::Deserializer<'de> for FieldNames<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("only the field names were wanted"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_of_serde_json_positions() {
        assert_eq!(byte_offset("{\"a\":1}", 1, 6), Some(6));
        assert_eq!(byte_offset("{\n\"a\":\n1}", 3, 1), Some(8));
        assert_eq!(byte_offset("{}", 0, 0), None);
        assert_eq!(byte_offset("{}", 3, 0), None);
    }
}
