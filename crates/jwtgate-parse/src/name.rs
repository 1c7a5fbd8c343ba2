//! Matching member names against the registered ones without allocating.

use crate::JsonStr;

/// The longest registered name either view looks for (`client_id`).
const LONGEST: usize = 16;

/// The unescaped bytes of `name` if it could be a registered name: escapes
/// are resolved into `buf`; anything longer than every registered name
/// comes back as `None` and is simply not one of them.
pub(crate) fn registered<'b, 'a: 'b>(
    name: &JsonStr<'a>,
    buf: &'b mut [u8; LONGEST],
) -> Option<&'b [u8]> {
    match name.as_str() {
        Some(plain) => Some(plain.as_bytes()),
        None => name.unescape_into(buf).ok().map(str::as_bytes),
    }
}

/// A buffer for [`registered`].
pub(crate) const fn buffer() -> [u8; LONGEST] {
    [0; LONGEST]
}
