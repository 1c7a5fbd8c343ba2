//! Which rule a request falls under: prefix and method matching, and the
//! requests refused before any rule is tried because servers read them
//! differently.

use std::borrow::Cow;

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
        let Some(decoded) = escaped(bytes, i) else {
            return Some("the path has a malformed percent-encoding");
        };
        // Encoded separators and NUL change the path's structure; encoded
        // unreserved characters and `%` (double encoding) spell a path
        // other than the one the rules see.
        if matches!(decoded, b'/' | b'\\' | b'.' | 0 | b'%' | b';') || is_unreserved(decoded) {
            return Some("the path percent-encodes a character that needs no encoding, or a separator");
        }
    }
    None
}

/// The byte `%XX` at `at` stands for.
fn escaped(bytes: &[u8], at: usize) -> Option<u8> {
    let hex = |i: usize| bytes.get(i).and_then(|&b| char::from(b).to_digit(16));
    u8::try_from(hex(at + 1)? * 16 + hex(at + 2)?).ok()
}

/// RFC 3986 2.3: characters that are the same encoded or not.
const fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Characters that Unicode case folding (Java's `equalsIgnoreCase`,
/// Python's `re.I`, Spring's case-insensitive matching) turns into ASCII
/// letters: `/ſecret` or `/\u{212A}eys` would reach `/secret` or `/keys`
/// past a rule written for them.
const ASCII_FOLDING: [char; 4] = ['\u{130}', '\u{131}', '\u{17F}', '\u{212A}'];

/// The path as the rules compare it: percent-escapes decoded (those left
/// after [`ambiguity`] change no structure: `%20`, `%C3%A9`), so that
/// `%c3%a9`, `%C3%A9` and a raw `é` are one path.
fn decoded(path: &str) -> Result<Cow<'_, str>, &'static str> {
    let path = if path.contains('%') {
        let bytes = path.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            if b == b'%' {
                out.push(escaped(bytes, i).ok_or("the path has a malformed percent-encoding")?);
                i += 3;
            } else {
                out.push(b);
                i += 1;
            }
        }
        Cow::Owned(String::from_utf8(out).map_err(|_| "the path is not UTF-8 once decoded")?)
    } else {
        Cow::Borrowed(path)
    };
    if !path.is_ascii() && path.contains(ASCII_FOLDING) {
        return Err("the path has a character that case folding turns into an ASCII letter");
    }
    Ok(path)
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
fn normalized_prefix(prefix: &str) -> &str {
    let trimmed = prefix.trim_end_matches('/');
    if trimmed.is_empty() { "/" } else { trimmed }
}

/// Whether `prefix` (normalized) covers `path`, by whole segments.
fn covers(prefix: &str, path: &str) -> bool {
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

/// The route rules, with their prefixes prepared for matching.
#[derive(Debug)]
pub(crate) struct Rules {
    rules: Vec<Rule>,
    /// Normalized and decoded.
    prefixes: Vec<String>,
    /// The same in lower case.
    folded: Vec<String>,
    /// Whether any prefix has an upper-case letter.
    upper: bool,
}

impl Rules {
    /// # Errors
    ///
    /// A prefix that no request could match (it would be refused first).
    pub(crate) fn new(rules: Vec<Rule>) -> Result<Self, String> {
        let mut prefixes = Vec::with_capacity(rules.len());
        for rule in &rules {
            if let Some(why) = ambiguity(&rule.prefix) {
                return Err(format!("prefix {:?} can never match: {why}", rule.prefix));
            }
            let prefix = decoded(normalized_prefix(&rule.prefix))
                .map_err(|why| format!("prefix {:?} can never match: {why}", rule.prefix))?;
            prefixes.push(prefix.into_owned());
        }
        let folded: Vec<String> = prefixes.iter().map(|p| p.to_ascii_lowercase()).collect();
        let upper = prefixes.iter().any(|p| p.bytes().any(|b| b.is_ascii_uppercase()));
        Ok(Self { rules, prefixes, folded, upper })
    }

    /// The rule at `index`.
    pub(crate) fn get(&self, index: usize) -> Option<&Rule> {
        self.rules.get(index)
    }

    fn first(&self, method: &Method, path: &str, prefixes: &[String]) -> Option<usize> {
        self.rules.iter().zip(prefixes).position(|(rule, prefix)| applies_to(rule, method) && covers(prefix, path))
    }

    /// The index of the first rule for `method` and `path` (`None`: no
    /// rule covers it), or why none can be trusted:
    ///
    /// - the path is [ambiguous](ambiguity), or not UTF-8 once decoded;
    /// - letter case changes which rule matches (`/ADMIN` against a rule
    ///   for `/admin`, or `/admin` against one for `/Admin`): a
    ///   case-insensitive upstream (Express, ASP.NET) would serve the other;
    /// - a format suffix changes it (`/admin.json` against a rule for
    ///   `/admin`): Rails and Spring route `/admin.json` to `/admin`.
    pub(crate) fn route(&self, method: &Method, path: &str) -> Result<Option<usize>, &'static str> {
        if let Some(why) = ambiguity(path) {
            return Err(why);
        }
        let path = decoded(path)?;
        let exact = self.first(method, &path, &self.prefixes);
        if self.upper || path.bytes().any(|b| b.is_ascii_uppercase()) {
            let lower = path.to_ascii_lowercase();
            if self.first(method, &lower, &self.folded) != exact {
                return Err("letter case changes which rule covers the path");
            }
        }
        let (parent, last) = path.rsplit_once('/').unwrap_or_default();
        if let Some((stem, _)) = last.split_once('.').filter(|(stem, _)| !stem.is_empty()) {
            let without_suffix = format!("{parent}/{stem}");
            if self.first(method, &without_suffix, &self.prefixes) != exact {
                return Err("a format suffix (.json, ...) changes which rule covers the path");
            }
        }
        Ok(exact)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Access;

    fn rules(rules: Vec<Rule>) -> Rules {
        Rules::new(rules).unwrap_or_else(|e| panic!("{e}"))
    }

    fn route(rules: &Rules, method: &Method, path: &str) -> Result<Option<usize>, &'static str> {
        rules.route(method, path)
    }

    #[test]
    fn prefixes_match_whole_segments() {
        let cover = |prefix: &str, path: &str| covers(normalized_prefix(prefix), path);
        assert!(cover("/public", "/public"));
        assert!(cover("/public", "/public/logo.png"));
        assert!(!cover("/public", "/publicity"));
        assert!(cover("/public/", "/public/logo.png"));
        assert!(cover("/public/", "/public"), "a trailing slash changes nothing");
        assert!(!cover("/public/", "/publicity"));
        assert!(cover("/", "/anything"));
        assert!(cover("/api/v1", "/api/v1/orders"));
        assert!(!cover("/api/v1", "/api/v10"));
    }

    #[test]
    fn paths_servers_read_differently_are_refused() {
        let any = rules(vec![Rule::new("/", Access::Required)]);
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
            "/%C0%AE%C0%AE/admin",
            "/%C5%BFecret",
            "/\u{212A}eys",
        ] {
            assert!(route(&any, &Method::GET, path).is_err(), "{path}");
        }
        for path in ["/", "/orders/7", "/a.b/c..d/.well-known", "/x%20y", "/caf%C3%A9", "/a%3Fb", "/café"] {
            assert_eq!(route(&any, &Method::GET, path), Ok(Some(0)), "{path}");
        }
    }

    #[test]
    fn escapes_match_as_the_characters_they_stand_for() {
        let r = rules(vec![Rule::new("/caf%C3%A9/admin", Access::Required), Rule::new("/", Access::Open)]);
        for path in ["/caf%C3%A9/admin", "/caf%c3%a9/admin", "/café/admin"] {
            assert_eq!(route(&r, &Method::GET, path), Ok(Some(0)), "{path}");
        }
    }

    #[test]
    fn the_first_matching_rule_wins_and_methods_narrow_it() {
        let mut read = Rule::new("/orders", Access::Open);
        read.methods = vec![Method::GET];
        let r = rules(vec![read, Rule::new("/orders", Access::Required), Rule::new("/health", Access::Open)]);
        assert_eq!(route(&r, &Method::GET, "/orders/1"), Ok(Some(0)));
        assert_eq!(route(&r, &Method::HEAD, "/orders/1"), Ok(Some(0)), "HEAD is GET's");
        assert_eq!(route(&r, &Method::POST, "/orders/1"), Ok(Some(1)));
        assert_eq!(route(&r, &Method::GET, "/health"), Ok(Some(2)));
        assert_eq!(route(&r, &Method::GET, "/other"), Ok(None));
    }

    #[test]
    fn a_rule_that_depends_on_letter_case_is_ambiguous() {
        let r = rules(vec![Rule::new("/admin", Access::Required), Rule::new("/", Access::Optional)]);
        assert!(route(&r, &Method::GET, "/ADMIN/users").is_err());
        assert!(route(&r, &Method::GET, "/Admin").is_err());
        assert_eq!(route(&r, &Method::GET, "/Reports/Q1"), Ok(Some(1)), "no rule depends on its case");
        let open = rules(vec![Rule::new("/public", Access::Open), Rule::new("/", Access::Required)]);
        assert!(route(&open, &Method::GET, "/PUBLIC/x").is_err());
        // A prefix in upper case (ASP.NET controllers) and a lower-case path.
        let pascal = rules(vec![Rule::new("/Admin", Access::Required), Rule::new("/", Access::Optional)]);
        assert!(route(&pascal, &Method::GET, "/admin/users").is_err());
        assert_eq!(route(&pascal, &Method::GET, "/Admin/users"), Ok(Some(0)));
    }

    #[test]
    fn a_format_suffix_that_changes_the_rule_is_ambiguous() {
        let r = rules(vec![
            Rule::new("/admin", Access::Required),
            Rule::new("/public", Access::Open),
            Rule::new("/", Access::Open),
        ]);
        assert!(route(&r, &Method::GET, "/admin.json").is_err());
        assert_eq!(route(&r, &Method::GET, "/public/app.min.js"), Ok(Some(1)));
        assert_eq!(route(&r, &Method::GET, "/admin/report.pdf"), Ok(Some(0)));
        assert_eq!(route(&r, &Method::GET, "/.well-known/x"), Ok(Some(2)));
    }

    #[test]
    fn lower_case_methods_are_refused() {
        assert!(method_ambiguity(&Method::from_bytes(b"delete").unwrap_or(Method::GET)).is_some());
        assert!(method_ambiguity(&Method::DELETE).is_none());
        assert!(method_ambiguity(&Method::from_bytes(b"PURGE").unwrap_or(Method::GET)).is_none());
    }
}
