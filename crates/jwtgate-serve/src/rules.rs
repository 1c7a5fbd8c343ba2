//! Which rule a request falls under: prefix and method matching, and the
//! paths refused before any rule is tried because servers read them
//! differently.

use http::Method;

use crate::options::Rule;

/// Why a path is refused before routing (400, `ambiguous_path`).
///
/// A rule is only as good as the agreement between the path jwtgate
/// matches and the path the upstream serves. `/public/../admin`,
/// `/public/%2e%2e/admin`, `/public%2fadmin` and `//admin` are each read
/// as `/admin` by some servers and not by others, so a prefix rule for
/// `/public` could open `/admin`. Browsers never send such paths; they
/// are refused rather than normalized, so no upstream can disagree.
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
    if path.split('/').any(|segment| segment == "." || segment == "..") {
        return Some("the path has a dot segment (. or ..)");
    }
    let lower = path.to_ascii_lowercase();
    if ["%2e", "%2f", "%5c", "%00"].iter().any(|encoded| lower.contains(encoded)) {
        return Some("the path has an encoded dot, slash, backslash or NUL");
    }
    None
}

/// Whether `prefix` covers `path`, by whole segments.
pub(crate) fn covers(prefix: &str, path: &str) -> bool {
    match path.strip_prefix(prefix) {
        None => false,
        Some(rest) => rest.is_empty() || prefix.ends_with('/') || rest.starts_with('/'),
    }
}

/// The index of the first rule for `method` and `path`.
pub(crate) fn first_match(rules: &[Rule], method: &Method, path: &str) -> Option<usize> {
    rules.iter().position(|rule| {
        covers(&rule.prefix, path) && (rule.methods.is_empty() || rule.methods.iter().any(|m| m == method))
    })
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
        assert!(!covers("/public/", "/public"));
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
            "*",
        ] {
            assert!(ambiguity(path).is_some(), "{path}");
        }
        for path in ["/", "/orders/7", "/a.b/c..d/.well-known", "/x%20y"] {
            assert_eq!(ambiguity(path), None, "{path}");
        }
    }

    #[test]
    fn the_first_matching_rule_wins_and_methods_narrow_it() {
        let mut read = Rule::new("/orders", Access::Open);
        read.methods = vec![Method::GET];
        let rules = vec![read, Rule::new("/orders", Access::Required), Rule::new("/health", Access::Open)];
        assert_eq!(first_match(&rules, &Method::GET, "/orders/1"), Some(0));
        assert_eq!(first_match(&rules, &Method::POST, "/orders/1"), Some(1));
        assert_eq!(first_match(&rules, &Method::GET, "/health"), Some(2));
        assert_eq!(first_match(&rules, &Method::GET, "/other"), None);
    }
}
