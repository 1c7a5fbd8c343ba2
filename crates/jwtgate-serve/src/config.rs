//! The configuration file (TOML): everything the flags say, and what they
//! cannot (several issuers, route rules). Every mistake is reported with
//! its line, and nothing starts.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use http::{HeaderName, Method};
use serde::Deserialize;
use toml::Spanned;

use crate::options::{
    Access, DEFAULT_SHUTDOWN_GRACE, DEFAULT_UPSTREAM_TIMEOUT, Issuer, KeyTiming, Keys, Options, Revocation, Rule,
    Upstream, parse_duration, parse_upstream,
};

/// A configuration file that cannot work, with the line that says so.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ConfigFileError {
    message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    listen: Option<Spanned<String>>,
    upstream: Option<Spanned<String>>,
    upstream_timeout: Option<Spanned<String>>,
    #[serde(default)]
    strip_token: bool,
    #[serde(default)]
    trust_forwarded: bool,
    realm: Option<String>,
    leeway: Option<Spanned<String>>,
    typ: Option<String>,
    cookie: Option<String>,
    websocket_token_prefix: Option<String>,
    #[serde(default)]
    kubernetes_websocket_token: bool,
    #[serde(default)]
    token_cache: usize,
    #[serde(default)]
    allow_insecure_http: bool,
    shutdown_grace: Option<Spanned<String>>,
    max_connections: Option<usize>,
    #[serde(default)]
    ca_certs: Vec<PathBuf>,
    client_cert: Option<PathBuf>,
    client_key: Option<PathBuf>,
    #[serde(default)]
    claim_headers: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    jwks: JwksTiming,
    revocation: Option<RevocationFile>,
    #[serde(default)]
    issuer: Vec<Spanned<IssuerFile>>,
    #[serde(default)]
    route: Vec<Spanned<RouteFile>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct JwksTiming {
    min_ttl: Option<Spanned<String>>,
    max_ttl: Option<Spanned<String>>,
    kid_cooldown: Option<Spanned<String>>,
    max_stale: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevocationFile {
    redis_url: Option<String>,
    max_lag: Option<Spanned<String>>,
    #[serde(default)]
    fail_open: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssuerFile {
    name: Option<String>,
    issuer: Option<OneOrMany>,
    jwks: Option<String>,
    discover: Option<String>,
    audiences: OneOrMany,
    #[serde(default)]
    algorithms: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteFile {
    prefix: String,
    #[serde(default)]
    methods: Vec<Spanned<String>>,
    #[serde(default)]
    auth: Option<Spanned<String>>,
    #[serde(default)]
    issuers: Vec<Spanned<String>>,
    #[serde(default)]
    scopes: Vec<String>,
}

/// Reads a configuration file's text into [`Options`].
struct Reader<'a> {
    text: &'a str,
}

impl Reader<'_> {
    fn line(&self, span: &Range<usize>) -> usize {
        self.text.get(..span.start).map_or(1, |before| before.matches('\n').count() + 1)
    }

    fn error(&self, span: &Range<usize>, message: impl std::fmt::Display) -> ConfigFileError {
        ConfigFileError { message: format!("line {}: {message}", self.line(span)) }
    }

    fn duration(&self, value: Option<&Spanned<String>>) -> Result<Option<Duration>, ConfigFileError> {
        value.map(|v| parse_duration(v.get_ref()).map_err(|e| self.error(&v.span(), e))).transpose()
    }
}

impl Options {
    /// Reads a configuration file (TOML). `listen` may be left out when
    /// the caller sets [`Options::listen`] itself (the CLI's `--listen`).
    ///
    /// # Errors
    ///
    /// The first mistake, with its line: TOML syntax, an unknown key, a
    /// value of the wrong kind, an issuer without keys, a rule naming an
    /// issuer that does not exist.
    pub fn from_toml(text: &str, default_listen: Option<SocketAddr>) -> Result<Self, ConfigFileError> {
        let reader = Reader { text };
        // Not the error's own Display: it quotes the offending line, which
        // may hold a password (a mistyped `redis_url`).
        let file: File = toml::from_str(text).map_err(|e| match e.span() {
            Some(span) => reader.error(&span, e.message()),
            None => ConfigFileError { message: e.message().to_owned() },
        })?;
        let listen = match (&file.listen, default_listen) {
            (_, Some(addr)) => addr,
            (Some(listen), None) => listen.get_ref().parse().map_err(|_| {
                reader.error(&listen.span(), format!("{:?} is not an address like 0.0.0.0:8080", listen.get_ref()))
            })?,
            (None, None) => return Err(ConfigFileError { message: "listen: no address to listen on".into() }),
        };
        if file.issuer.is_empty() {
            return Err(ConfigFileError { message: "no [[issuer]]: at least one issuer is needed".into() });
        }
        let mut issuers = Vec::with_capacity(file.issuer.len());
        for spanned in &file.issuer {
            let span = spanned.span();
            issuers.push(read_issuer(&reader, &span, spanned.get_ref())?);
        }
        for (i, issuer) in issuers.iter().enumerate() {
            if issuers.iter().skip(i + 1).any(|other| other.name == issuer.name) {
                return Err(reader.error(
                    &file.issuer.get(i).map_or(0..0, Spanned::span),
                    format!("two issuers are named {:?}", issuer.name),
                ));
            }
        }

        let mut rules = Vec::with_capacity(file.route.len());
        for spanned in &file.route {
            rules.push(read_route(&reader, &spanned.span(), spanned.get_ref(), &issuers)?);
        }
        if rules.is_empty() {
            rules.push(Rule::new("/", Access::Required));
        }

        let mut claim_headers = Vec::with_capacity(file.claim_headers.len());
        for (claim, header) in &file.claim_headers {
            let name = HeaderName::try_from(header.get_ref().as_str())
                .map_err(|_| reader.error(&header.span(), format!("{:?} is not a header name", header.get_ref())))?;
            claim_headers.push((claim.clone(), name));
        }

        let upstream = match &file.upstream {
            None => None,
            Some(url) => Some(Upstream {
                url: parse_upstream(url.get_ref()).map_err(|e| reader.error(&url.span(), e))?,
                timeout: reader.duration(file.upstream_timeout.as_ref())?.unwrap_or(DEFAULT_UPSTREAM_TIMEOUT),
                strip_token: file.strip_token,
                trust_forwarded: file.trust_forwarded,
            }),
        };
        let revocation = match &file.revocation {
            None => None,
            Some(r) => Some(Revocation {
                redis_url: r.redis_url.clone().unwrap_or_default(),
                max_lag: reader.duration(r.max_lag.as_ref())?.unwrap_or(Duration::from_secs(60)),
                fail_open: r.fail_open,
            }),
        };
        let client_identity = match (file.client_cert, file.client_key) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => return Err(ConfigFileError { message: "client_cert and client_key go together".into() }),
        };

        let mut options = Self::new(listen, issuers.remove(0));
        options.issuers.extend(issuers);
        options.rules = rules;
        if let Some(leeway) = reader.duration(file.leeway.as_ref())? {
            options.leeway = leeway;
        }
        options.typ = file.typ;
        options.cookie = file.cookie;
        options.websocket_token = match (file.websocket_token_prefix, file.kubernetes_websocket_token) {
            (None, false) => None,
            (Some(prefix), false) => Some(jwtgate_hyper::TokenSource::websocket_protocol(prefix)),
            (None, true) => Some(jwtgate_hyper::TokenSource::kubernetes_websocket_protocol()),
            (Some(_), true) => {
                return Err(ConfigFileError {
                    message: "websocket_token_prefix and kubernetes_websocket_token: one or the other".into(),
                });
            }
        };
        options.claim_headers = claim_headers;
        options.token_cache = file.token_cache;
        options.allow_insecure_http = file.allow_insecure_http;
        options.key_timing = KeyTiming {
            min_ttl: reader.duration(file.jwks.min_ttl.as_ref())?,
            max_ttl: reader.duration(file.jwks.max_ttl.as_ref())?,
            kid_cooldown: reader.duration(file.jwks.kid_cooldown.as_ref())?,
            max_stale: reader.duration(file.jwks.max_stale.as_ref())?,
        };
        options.ca_certs = file.ca_certs;
        options.client_identity = client_identity;
        if let Some(realm) = file.realm {
            options.realm = realm;
        }
        options.revocation = revocation;
        options.upstream = upstream;
        options.shutdown_grace = reader.duration(file.shutdown_grace.as_ref())?.unwrap_or(DEFAULT_SHUTDOWN_GRACE);
        if let Some(max) = file.max_connections {
            options.max_connections = max;
        }
        Ok(options)
    }
}

fn read_issuer(reader: &Reader<'_>, span: &Range<usize>, file: &IssuerFile) -> Result<Issuer, ConfigFileError> {
    let iss = match (&file.issuer, &file.discover) {
        (Some(iss), _) => match iss {
            OneOrMany::One(one) => vec![one.clone()],
            OneOrMany::Many(many) => many.clone(),
        },
        (None, Some(discover)) => vec![discover.clone()],
        (None, None) => {
            return Err(reader.error(span, "an [[issuer]] needs `issuer` (or `discover`, whose issuer it then is)"));
        }
    };
    if iss.is_empty() {
        return Err(reader.error(span, "`issuer` is empty"));
    }
    let keys = match (&file.jwks, &file.discover) {
        (Some(jwks), None) if jwks.starts_with("http://") || jwks.starts_with("https://") => Keys::Url(jwks.clone()),
        (Some(jwks), None) => Keys::File(PathBuf::from(jwks)),
        (None, Some(discover)) => Keys::Discover(discover.clone()),
        (Some(_), Some(_)) => return Err(reader.error(span, "an [[issuer]] has `jwks` or `discover`, not both")),
        (None, None) => {
            return Err(reader.error(span, "an [[issuer]] needs its keys: `jwks` (URL or file) or `discover`"));
        }
    };
    let audiences = match &file.audiences {
        OneOrMany::One(one) => vec![one.clone()],
        OneOrMany::Many(many) => many.clone(),
    };
    if audiences.is_empty() {
        return Err(reader.error(span, "`audiences` is empty"));
    }
    let mut algorithms = Vec::with_capacity(file.algorithms.len());
    for alg in &file.algorithms {
        algorithms.push(alg.get_ref().parse().map_err(|_| {
            reader.error(&alg.span(), format!("{:?} is not an algorithm jwtgate verifies", alg.get_ref()))
        })?);
    }
    let name = file.name.clone().unwrap_or_else(|| iss.first().cloned().unwrap_or_default());
    Ok(Issuer { name, iss, keys, audiences, algorithms })
}

fn read_route(
    reader: &Reader<'_>,
    span: &Range<usize>,
    file: &RouteFile,
    issuers: &[Issuer],
) -> Result<Rule, ConfigFileError> {
    if !file.prefix.starts_with('/') {
        return Err(reader.error(span, format!("prefix {:?} does not start with /", file.prefix)));
    }
    if crate::rules::ambiguity(&file.prefix).is_some() {
        return Err(reader
            .error(span, format!("prefix {:?} can never match: requests with such paths are refused", file.prefix)));
    }
    let access = match file.auth.as_ref().map(|a| (a.get_ref().as_str(), a.span())) {
        None | Some(("required", _)) => Access::Required,
        Some(("optional", _)) => Access::Optional,
        Some(("none", _)) => Access::Open,
        Some((other, span)) => {
            return Err(
                reader.error(&span, format!("auth = {other:?}: expected \"required\", \"optional\" or \"none\""))
            );
        }
    };
    let mut methods = Vec::with_capacity(file.methods.len());
    for method in &file.methods {
        let text = method.get_ref();
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(reader.error(&method.span(), format!("{text:?} is not a method (GET, POST, ...)")));
        }
        methods.push(
            Method::from_bytes(text.as_bytes())
                .map_err(|_| reader.error(&method.span(), format!("{text:?} is not a method")))?,
        );
    }
    let mut names = Vec::with_capacity(file.issuers.len());
    for name in &file.issuers {
        if !issuers.iter().any(|i| &i.name == name.get_ref()) {
            return Err(reader.error(&name.span(), format!("no [[issuer]] is named {:?}", name.get_ref())));
        }
        names.push(name.get_ref().clone());
    }
    if access == Access::Open && (!names.is_empty() || !file.scopes.is_empty()) {
        return Err(
            reader.error(span, "a route with auth = \"none\" checks no token: `issuers` and `scopes` would be ignored")
        );
    }
    Ok(Rule { prefix: file.prefix.clone(), methods, access, issuers: names, scopes: file.scopes.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
listen = "127.0.0.1:8080"
upstream = "http://127.0.0.1:3000"
token_cache = 1000

[claim_headers]
sub = "X-User-Id"

[[issuer]]
name = "corp"
issuer = "https://corp.example"
jwks = "https://corp.example/jwks.json"
audiences = "orders-api"
algorithms = ["ES256"]

[[issuer]]
discover = "https://partner.example"
audiences = ["orders-api", "partner-api"]
algorithms = ["RS256"]

[[route]]
prefix = "/health"
auth = "none"

[[route]]
prefix = "/orders"
methods = ["POST"]
issuers = ["corp"]
scopes = ["orders:write"]

[[route]]
prefix = "/"
"#;

    #[test]
    fn a_file_with_two_issuers_and_rules_reads() {
        let options = Options::from_toml(GOOD, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(options.issuers.len(), 2);
        assert_eq!(options.issuers.get(1).map(|i| i.name.as_str()), Some("https://partner.example"));
        assert_eq!(options.rules.len(), 3);
        assert_eq!(options.rules.first().map(|r| r.access), Some(Access::Open));
        assert_eq!(options.rules.get(1).map(|r| r.methods.clone()), Some(vec![Method::POST]));
        assert!(options.upstream.is_some());
    }

    /// The README's example is a file that reads.
    #[test]
    fn the_readme_example_reads() {
        let readme = include_str!("../README.md");
        let start = readme.find("```toml\n").map(|i| i + "```toml\n".len()).unwrap_or_default();
        let example = readme.get(start..).and_then(|rest| rest.split("```").next()).unwrap_or_default();
        let options = Options::from_toml(example, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(options.issuers.len(), 2);
        assert_eq!(options.rules.len(), 4);
        assert_eq!(options.claim_headers.len(), 2);
    }

    fn error(text: &str) -> String {
        Options::from_toml(text, None).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn mistakes_name_their_line() {
        let unknown_issuer = GOOD.replace("issuers = [\"corp\"]", "issuers = [\"crop\"]");
        assert!(error(&unknown_issuer).starts_with("line 28:"), "{}", error(&unknown_issuer));
        let bad_alg = GOOD.replace("[\"ES256\"]", "[\"none\"]");
        assert!(error(&bad_alg).starts_with("line 14:"), "{}", error(&bad_alg));
        let typo = GOOD.replace("token_cache", "token_cahce");
        assert!(error(&typo).contains("line 4"), "{}", error(&typo));
        let bad_auth = GOOD.replace("auth = \"none\"", "auth = \"off\"");
        assert!(error(&bad_auth).starts_with("line 23:"), "{}", error(&bad_auth));
        let syntax = GOOD.replace("token_cache = 1000", "token_cache = ");
        assert!(error(&syntax).contains("line 4"), "{}", error(&syntax));
        let bad_duration = GOOD.replace("token_cache = 1000", "upstream_timeout = \"soon\"");
        assert!(error(&bad_duration).starts_with("line 4:"), "{}", error(&bad_duration));
    }
}
