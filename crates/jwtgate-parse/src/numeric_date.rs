//! NumericDate (RFC 7519 section 2): JSON numbers as whole seconds.

use crate::{Error, swar};

/// A NumericDate claim (`exp`, `nbf`, `iat`) converted to whole seconds.
///
/// RFC 7519 allows any JSON number, fractions included, so `1300819380.5`
/// and `1.3008193805e9` are valid. The conversion is exact decimal
/// arithmetic on the JSON text (no floating point, so no NaN, no rounding
/// surprises): the value is kept as its floor plus a flag saying whether a
/// fraction was dropped, so a verifier can round in the conservative
/// direction for each claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NumericDate {
    floor: i64,
    fractional: bool,
}

impl NumericDate {
    /// The largest whole number of seconds not greater than the value.
    #[must_use]
    pub const fn floor(&self) -> i64 {
        self.floor
    }

    /// The smallest whole number of seconds not less than the value
    /// (saturating at `i64::MAX`).
    #[must_use]
    pub const fn ceil(&self) -> i64 {
        if self.fractional { self.floor.saturating_add(1) } else { self.floor }
    }

    /// `true` if the JSON number had a non-zero fractional part.
    #[must_use]
    pub const fn is_fractional(&self) -> bool {
        self.fractional
    }

    /// Converts the text of a validated JSON number.
    ///
    /// # Errors
    ///
    /// [`Error::NumericDateRange`] if the value does not fit in `i64`
    /// seconds, [`Error::InvalidNumber`] if `text` is not an RFC 8259 number.
    #[inline]
    pub(crate) fn from_json_number(text: &str) -> Result<Self, Error> {
        // Fast path: a plain non-negative integer, which is what issuers
        // send; eight digits per step, validated and accumulated together
        // (18 digits cannot overflow i64).
        match swar::decimal(text.as_bytes()).and_then(|n| i64::try_from(n).ok()) {
            Some(floor) => Ok(Self { floor, fractional: false }),
            None => Self::from_general_number(text),
        }
    }

    /// Any other number: sign, fraction, exponent, and long digit runs.
    /// Kept out of line so the fast path above stays small enough to inline.
    #[inline(never)]
    fn from_general_number(text: &str) -> Result<Self, Error> {
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(at) => {
                let (m, e) = unsigned.split_at(at);
                (m, parse_exponent(e.get(1..).unwrap_or_default())?)
            }
            None => (unsigned, 0),
        };
        let (int_digits, frac_digits) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int_digits.is_empty() {
            return Err(Error::InvalidNumber);
        }

        // All significant digits in one run, with the decimal point moved by
        // the exponent: the first `point` digits are the integer part.
        let digits = int_digits.bytes().chain(frac_digits.bytes());
        let total = int_digits.len() + frac_digits.len();
        let point = i64::try_from(int_digits.len()).unwrap_or(i64::MAX).saturating_add(exponent);

        let mut magnitude: u64 = 0;
        let mut fractional = false;
        for (i, d) in digits.enumerate() {
            let d = u64::from(d.wrapping_sub(b'0'));
            if d > 9 {
                return Err(Error::InvalidNumber);
            }
            if i64::try_from(i).unwrap_or(i64::MAX) < point {
                magnitude = magnitude.checked_mul(10).and_then(|m| m.checked_add(d)).ok_or(Error::NumericDateRange)?;
            } else if d != 0 {
                fractional = true;
            }
        }
        // Zeros implied by a large exponent ("1e3"). A zero magnitude stays
        // zero however many there are, so the loop is bounded by overflow
        // (at most 20 rounds), never by the exponent.
        let mut missing = point.saturating_sub(i64::try_from(total).unwrap_or(i64::MAX));
        while missing > 0 && magnitude != 0 {
            magnitude = magnitude.checked_mul(10).ok_or(Error::NumericDateRange)?;
            missing -= 1;
        }

        let floor = if negative {
            // -(m + 1) for a dropped fraction: floor rounds toward -inf.
            let m = i128::from(magnitude) + i128::from(fractional);
            i64::try_from(-m).map_err(|_| Error::NumericDateRange)?
        } else {
            i64::try_from(magnitude).map_err(|_| Error::NumericDateRange)?
        };
        Ok(Self { floor, fractional })
    }
}

/// The exponent's value, saturated far beyond anything that can still give
/// an in-range result, so absurd exponents cost no more than small ones.
fn parse_exponent(text: &str) -> Result<i64, Error> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, text.get(1..).unwrap_or_default()),
        Some(b'+') => (false, text.get(1..).unwrap_or_default()),
        _ => (false, text),
    };
    if digits.is_empty() {
        return Err(Error::InvalidNumber);
    }
    const CAP: i64 = 1 << 40;
    let mut value: i64 = 0;
    for d in digits.bytes() {
        if !d.is_ascii_digit() {
            return Err(Error::InvalidNumber);
        }
        value = (value * 10 + i64::from(d - b'0')).min(CAP);
    }
    Ok(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Result<(i64, bool), Error> {
        NumericDate::from_json_number(text).map(|d| (d.floor(), d.is_fractional()))
    }

    #[test]
    fn integers() {
        assert_eq!(date("0"), Ok((0, false)));
        assert_eq!(date("-0"), Ok((0, false)));
        assert_eq!(date("1300819380"), Ok((1_300_819_380, false)));
        assert_eq!(date("-1"), Ok((-1, false)));
        assert_eq!(date("9223372036854775807"), Ok((i64::MAX, false)));
        assert_eq!(date("-9223372036854775808"), Ok((i64::MIN, false)));
    }

    #[test]
    fn fractions_floor_and_flag() {
        assert_eq!(date("1300819380.5"), Ok((1_300_819_380, true)));
        assert_eq!(date("1300819380.000"), Ok((1_300_819_380, false)));
        assert_eq!(date("-1.5"), Ok((-2, true)));
        assert_eq!(date("-0.5"), Ok((-1, true)));
        assert_eq!(date("0.999999999999999999999"), Ok((0, true)));
    }

    #[test]
    fn ceil_rounds_up_only_when_fractional() {
        let d = NumericDate::from_json_number("10.25").unwrap();
        assert_eq!((d.floor(), d.ceil()), (10, 11));
        let d = NumericDate::from_json_number("-10.25").unwrap();
        assert_eq!((d.floor(), d.ceil()), (-11, -10));
        let d = NumericDate::from_json_number("10").unwrap();
        assert_eq!((d.floor(), d.ceil()), (10, 10));
    }

    #[test]
    fn exponents() {
        assert_eq!(date("1.3008193805e9"), Ok((1_300_819_380, true)));
        assert_eq!(date("1.30081938e9"), Ok((1_300_819_380, false)));
        assert_eq!(date("13008193800E-1"), Ok((1_300_819_380, false)));
        assert_eq!(date("1e0"), Ok((1, false)));
        assert_eq!(date("1E+3"), Ok((1000, false)));
        assert_eq!(date("15e-1"), Ok((1, true)));
        assert_eq!(date("1e-999999999999999999999"), Ok((0, true)));
        assert_eq!(date("0e999999999999999999999"), Ok((0, false)));
        assert_eq!(date("0.0001e4"), Ok((1, false)));
        assert_eq!(date("9.223372036854775807e18"), Ok((i64::MAX, false)));
    }

    #[test]
    fn out_of_range() {
        assert_eq!(date("9223372036854775808"), Err(Error::NumericDateRange));
        assert_eq!(date("-9223372036854775809"), Err(Error::NumericDateRange));
        assert_eq!(date("-9223372036854775808.5"), Err(Error::NumericDateRange));
        assert_eq!(date("1e19"), Err(Error::NumericDateRange));
        assert_eq!(date("1e999999999999999999999"), Err(Error::NumericDateRange));
        assert_eq!(date("99999999999999999999999999"), Err(Error::NumericDateRange));
    }

    #[test]
    fn huge_exponent_costs_nothing() {
        // The implied zeros are never looped over for a zero mantissa.
        assert_eq!(date("0.0e99999999999999"), Ok((0, false)));
    }
}
