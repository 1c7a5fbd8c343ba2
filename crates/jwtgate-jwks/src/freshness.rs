//! How long a fetched key set is fresh: HTTP caching headers, clamped.

use std::time::{Duration, SystemTime};

/// Bounds on freshness, whatever the server says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bounds {
    pub(crate) min: Duration,
    pub(crate) max: Duration,
    pub(crate) default: Duration,
}

/// The caching headers of one response, as text.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Headers<'a> {
    pub(crate) cache_control: Option<&'a str>,
    pub(crate) expires: Option<&'a str>,
    pub(crate) date: Option<&'a str>,
    pub(crate) age: Option<&'a str>,
}

/// Freshness lifetime per RFC 9111 section 4.2.1, simplified for one
/// private client: `no-store`/`no-cache` mean "as short as allowed";
/// `max-age` minus `Age`; else `Expires` minus `Date` (or now); else the
/// default. Always clamped to `bounds`, so a server cannot make us fetch
/// in a loop (`max-age=0`) or keep a key forever.
pub(crate) fn lifetime(headers: Headers<'_>, now: SystemTime, bounds: Bounds) -> Duration {
    let directives =
        headers.cache_control.map(|cc| cc.split(',').map(str::trim).collect::<Vec<_>>()).unwrap_or_default();
    let has = |name: &str| directives.iter().any(|d| d.eq_ignore_ascii_case(name));
    let age = headers.age.and_then(|a| a.trim().parse::<u64>().ok()).map_or(Duration::ZERO, Duration::from_secs);
    let max_age = directives.iter().find_map(|d| {
        let (name, value) = d.split_once('=')?;
        name.trim().eq_ignore_ascii_case("max-age").then(|| value.trim().trim_matches('"').parse::<u64>().ok())?
    });
    let chosen = if has("no-store") || has("no-cache") {
        Duration::ZERO
    } else if let Some(max_age) = max_age {
        Duration::from_secs(max_age).saturating_sub(age)
    } else if let Some(expires) = headers.expires {
        // An invalid Expires means "already expired" (RFC 9111 5.3).
        match httpdate::parse_http_date(expires.trim()) {
            Ok(expires) => {
                let base = headers.date.and_then(|d| httpdate::parse_http_date(d.trim()).ok()).unwrap_or(now);
                expires.duration_since(base).unwrap_or(Duration::ZERO).saturating_sub(age)
            }
            Err(_) => Duration::ZERO,
        }
    } else {
        bounds.default
    };
    chosen.clamp(bounds.min, bounds.max)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    const BOUNDS: Bounds =
        Bounds { min: Duration::from_secs(60), max: Duration::from_secs(86_400), default: Duration::from_secs(600) };

    fn secs(cc: Option<&str>, expires: Option<&str>, date: Option<&str>, age: Option<&str>) -> u64 {
        let now = httpdate::parse_http_date("Sun, 22 Nov 2026 05:00:00 GMT").unwrap();
        lifetime(Headers { cache_control: cc, expires, date, age }, now, BOUNDS).as_secs()
    }

    #[test]
    fn max_age_clamped_to_bounds() {
        assert_eq!(secs(Some("public, max-age=3600"), None, None, None), 3600);
        assert_eq!(secs(Some("max-age=5"), None, None, None), 60);
        assert_eq!(secs(Some("max-age=0"), None, None, None), 60);
        assert_eq!(secs(Some("max-age=99999999"), None, None, None), 86_400);
        assert_eq!(secs(Some("Max-Age=\"900\""), None, None, None), 900);
    }

    #[test]
    fn no_store_and_no_cache_mean_the_minimum() {
        assert_eq!(secs(Some("no-store"), None, None, None), 60);
        assert_eq!(secs(Some("max-age=3600, no-cache"), None, None, None), 60);
    }

    #[test]
    fn age_is_subtracted() {
        assert_eq!(secs(Some("max-age=3600"), None, None, Some("600")), 3000);
        assert_eq!(secs(Some("max-age=3600"), None, None, Some("7200")), 60);
    }

    #[test]
    fn expires_relative_to_date_or_now() {
        let expires = Some("Sun, 22 Nov 2026 06:00:00 GMT");
        assert_eq!(secs(None, expires, Some("Sun, 22 Nov 2026 05:30:00 GMT"), None), 1800);
        assert_eq!(secs(None, expires, None, None), 3600);
        assert_eq!(secs(None, Some("not a date"), None, None), 60);
        // max-age wins over Expires.
        assert_eq!(secs(Some("max-age=120"), expires, None, None), 120);
    }

    #[test]
    fn absent_headers_mean_the_default() {
        assert_eq!(secs(None, None, None, None), 600);
        assert_eq!(secs(Some("public"), None, None, None), 600);
        assert_eq!(secs(Some("max-age=abc"), None, None, None), 600);
    }
}
