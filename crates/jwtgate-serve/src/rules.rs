//! Which rule a request falls under: prefix and method matching, and the
//! requests refused before any rule is tried because servers read them
//! differently.

use http::Method;

use crate::options::Rule;

/// Why a path is refused before routing (`ambiguous_path`).
///
/// A rule is only as good as the agreement between the path jwtgate
/// matches and the path the upstream serves. `/public/../admin`,
/// `/public/%2e%2e/admin`, `/public%2fadmin`, `/public/..;/admin` (Tomcat
/// and Jetty drop `;` parameters first), `/%61dmin` (decoded by most
/// frameworks) and `//admin` are each read as `/admin` by some servers
/// and not by others, so a prefix rule for `/public` could open `/admin`.
/// Browsers never send such paths; they are refused rather than
/// normalized, so no upstream can disagree.
pub(crate) fn ambiguity(path: &str) -> Option<&'static str> {
    if !path.starts_with('/') {
        return Some("the path does not start with /");
    }
    if path.contains("//") {
        return Some("the path has an empty segment (//)");
    }
    if path.contains('\\') {
        return Some("the path has a backslash");
    }
    if path.contains(';') {
        return Some("the path has a parameter (;)");
    }
    if path.split('/').any(|segment| segment == "." || segment == "..") {
        return Some("the path has a dot segment (. or ..)");
    }
    let bytes = path.as_bytes();
    for (i, _) in path.match_indices('%') {
        let hex = |at: usize| bytes.get(at).and_then(|&b| char::from(b).to_digit(16));
        let (Some(high), Some(low)) = (hex(i + 1), hex(i + 2)) else {
            return Some("the path has a malformed percent-encoding");
        };
        let decoded = u8::try_from(high * 16 + low).unwrap_or(0);
        // Encoded separators and NUL change the path's structure; encoded
        // unreserved characters and `%` (double encoding) spell a path
        // other than the one the rules see.
        if matches!(decoded, b'/' | b'\\' | b'.' | 0 | b'%' | b';') || is_unreserved(decoded) {
            return Some("the path percent-encodes a character that needs no encoding, or a separator");
        }
    }
    None
}

/// RFC 3986 2.3: characters that are the same encoded or not.
const fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Why a method is refused before routing (`ambiguous_method`): a
/// lower-case `delete` is a different method to HTTP, but Django, Rails or
/// Symfony upper-case it, so a rule for `DELETE` would not see it while the
/// application would.
pub(crate) fn method_ambiguity(method: &Method) -> Option<&'static str> {
    if method.as_str().bytes().any(|b| b.is_ascii_lowercase()) {
        return Some("the method is not in upper case");
    }
    None
}

/// A rule's prefix as matched: without a trailing `/`, so that `/public/`
/// and `/public` both cover `/public` and what is under it (frameworks
/// serve `/public` and `/public/` alike).
pub(crate) fn normalized_prefix(prefix: &str) -> &str {
    let trimmed = prefix.trim_end_matches('/');
    if trimmed.is_empty() { "/" } else { trimmed }
}

/// Whether `prefix` covers `path`, by whole segments.
pub(crate) fn covers(prefix: &str, path: &str) -> bool {
    let prefix = normalized_prefix(prefix);
    match path.strip_prefix(prefix) {
        None => false,
        Some(rest) => rest.is_empty() || prefix.ends_with('/') || rest.starts_with('/'),
    }
}

/// Whether the rule applies to `method` (a rule for `GET` also takes
/// `HEAD`, which servers answer with the `GET` handler).
fn applies_to(rule: &Rule, method: &Method) -> bool {
    rule.methods.is_empty() || rule.methods.iter().any(|m| m == method || (*m == Method::GET && method == Method::HEAD))
}

/// The index of the first rule for `method` and `path`, or why none can be
/// trusted: when letter case changes which rule matches (`/ADMIN` against
/// a rule for `/admin`), a case-insensitive upstream (Express, ASP.NET)
/// would serve the other one, so the request is refused as ambiguous.
pub(crate) fn first_match(rules: &[Rule], method: &Method, path: &str) -> Result<Option<usize>, &'static str> {
    let exact = rules.iter().position(|rule| applies_to(rule, method) && covers(&rule.prefix, path));
    if path.bytes().any(|b| b.is_ascii_uppercase()) {
        let lower = path.to_ascii_lowercase();
        let folded =
            rules.iter().position(|rule| applies_to(rule, method) && covers(&rule.prefix.to_ascii_lowercase(), &lower));
        if folded != exact {
            return Err("letter case changes which rule covers the path");
        }
    }
    Ok(exact)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Access;

    #[test]
    fn prefixes_match_whole_segments() {
        assert!(covers("/public", "/public"));
        assert!(covers("/public", "/public/logo.png"));
        assert!(!covers("/public", "/publicity"));
        assert!(covers("/public/", "/public/logo.png"));
        assert!(covers("/public/", "/public"), "a trailing slash changes nothing");
        assert!(!covers("/public/", "/publicity"));
        assert!(covers("/", "/anything"));
        assert!(covers("/api/v1", "/api/v1/orders"));
        assert!(!covers("/api/v1", "/api/v10"));
    }

    #[test]
    fn paths_servers_read_differently_are_refused() {
        for path in [
            "/public/../admin",
            "/public/./x",
            "/public/..",
            "/public/%2e%2e/admin",
            "/public/%2E%2E/admin",
            "/public%2fadmin",
            "/public%2Fadmin",
            "//admin",
            "/public\\..\\admin",
            "/a%00b",
            "/public/..;/admin",
            "/admin;x/users",
            "/%61dmin",
            "/public/%252e%252e/admin",
            "/a%zz",
            "/a%4",
            "*",
        ] {
            assert!(ambiguity(path).is_some(), "{path}");
        }
        for path in ["/", "/orders/7", "/a.b/c..d/.well-known", "/x%20y", "/caf%C3%A9", "/a%3Fb"] {
            assert_eq!(ambiguity(path), None, "{path}");
        }
    }

    #[test]
    fn the_first_matching_rule_wins_and_methods_narrow_it() {
        let mut read = Rule::new("/orders", Access::Open);
        read.methods = vec![Method::GET];
        let rules = vec![read, Rule::new("/orders", Access::Required), Rule::new("/health", Access::Open)];
        assert_eq!(first_match(&rules, &Method::GET, "/orders/1"), Ok(Some(0)));
        assert_eq!(first_match(&rules, &Method::HEAD, "/orders/1"), Ok(Some(0)), "HEAD is GET's");
        assert_eq!(first_match(&rules, &Method::POST, "/orders/1"), Ok(Some(1)));
        assert_eq!(first_match(&rules, &Method::GET, "/health"), Ok(Some(2)));
        assert_eq!(first_match(&rules, &Method::GET, "/other"), Ok(None));
    }

    #[test]
    fn a_rule_that_depends_on_letter_case_is_ambiguous() {
        let rules = vec![Rule::new("/admin", Access::Required), Rule::new("/", Access::Optional)];
        assert!(first_match(&rules, &Method::GET, "/ADMIN/users").is_err());
        assert!(first_match(&rules, &Method::GET, "/Admin").is_err());
        assert_eq!(first_match(&rules, &Method::GET, "/Reports/Q1"), Ok(Some(1)), "no rule depends on its case");
        let open = vec![Rule::new("/public", Access::Open), Rule::new("/", Access::Required)];
        assert!(first_match(&open, &Method::GET, "/PUBLIC/x").is_err());
    }

    #[test]
    fn lower_case_methods_are_refused() {
        assert!(method_ambiguity(&Method::from_bytes(b"delete").unwrap_or(Method::GET)).is_some());
        assert!(method_ambiguity(&Method::DELETE).is_none());
        assert!(method_ambiguity(&Method::from_bytes(b"PURGE").unwrap_or(Method::GET)).is_none());
    }
}
