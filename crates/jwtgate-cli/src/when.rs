//! Unix times as UTC dates and as "expires in 4m12s", for people.

/// `2026-11-29 07:21:32 UTC`; out-of-range values print as the number.
pub(crate) fn utc(unix: i64) -> String {
    // Years 0..=9999 keep the civil-date arithmetic far from overflow.
    if !(-62_167_219_200..=253_402_300_799).contains(&unix) {
        return format!("{unix} (out of the calendar range)");
    }
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", secs / 3600, secs / 60 % 60, secs % 60)
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (the
/// well-known era-based algorithm; exact for the whole `utc` range).
const fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

/// `4m12s`, `3h0m5s`, `2d4h`: the largest two or three units that matter.
pub(crate) fn span(secs: i64) -> String {
    let s = secs.unsigned_abs();
    let (d, h, m, s) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{d}d{h}h")
    } else if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// How a time claim relates to `now`, in words.
pub(crate) fn relative(claim: &str, at: i64, now: i64) -> String {
    let delta = at.saturating_sub(now);
    let later = delta > 0;
    let d = span(delta);
    match (claim, later) {
        ("exp", true) => format!("expires in {d}"),
        ("exp", false) => format!("expired {d} ago"),
        ("nbf", true) => format!("valid in {d}"),
        ("nbf", false) => format!("valid since {d}"),
        ("iat", true) => format!("issued {d} in the future"),
        (_, true) => format!("in {d}"),
        (_, false) => format!("{d} ago"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_795_937_292), "2026-11-29 07:28:12 UTC");
        assert_eq!(utc(-1), "1969-12-31 23:59:59 UTC");
        assert_eq!(utc(253_402_300_799), "9999-12-31 23:59:59 UTC");
        assert!(utc(i64::MAX).contains("out of the calendar range"));
        assert!(utc(i64::MIN).contains("out of the calendar range"));
    }

    #[test]
    fn spans() {
        assert_eq!(span(252), "4m12s");
        assert_eq!(span(-252), "4m12s");
        assert_eq!(span(5), "5s");
        assert_eq!(span(3 * 3600 + 5), "3h0m5s");
        assert_eq!(span(2 * 86_400 + 4 * 3600 + 7), "2d4h");
        assert_eq!(span(i64::MIN), "106751991167300d15h");
        assert_eq!(relative("exp", 1252, 1000), "expires in 4m12s");
        assert_eq!(relative("exp", 1000, 1000), "expired 0s ago");
        assert_eq!(relative("iat", 900, 1000), "1m40s ago");
    }
}
