//! `jwtgate serve`: jwtgate-serve's proxy and auth endpoint from the
//! command line or a configuration file.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use jwtgate_serve::{
    Access, DEFAULT_SHUTDOWN_GRACE, DEFAULT_UPSTREAM_TIMEOUT, Issuer, KeyTiming, Keys, Options, Revocation, Rule,
    Server, TokenSource, Upstream, parse_duration, parse_upstream,
};

use crate::failure::Failure;

// Flags of `jwtgate serve`. A plain comment: clap would take a doc
// comment here as the subcommand's about.
#[derive(Args, Debug)]
pub(crate) struct ServeArgs {
    /// Address to listen on (HTTP/1.1 and h2c), e.g. 0.0.0.0:8080.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Read the settings from this TOML file (several issuers, route
    /// rules); only --listen, --log-format, --decision-log and
    /// --revocation-redis may be given with it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Reverse-proxy mode: forward what passes to this service
    /// (http://host:port). Without it: an auth endpoint.
    #[arg(long, value_name = "URL")]
    upstream: Option<String>,
    /// Longest wait for the upstream's response head (504 after).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    upstream_timeout: Option<Duration>,
    /// Remove the token (Authorization: Bearer, the token cookie, the
    /// WebSocket subprotocol entry) before forwarding upstream.
    #[arg(long)]
    strip_token: bool,
    /// Behind a proxy that sets them: keep its Forwarded / X-Forwarded-*
    /// (appending the client's address) instead of dropping what the
    /// client sent.
    #[arg(long)]
    trust_forwarded: bool,
    /// A JWKS URL, or a JWKS / JWK / PEM file.
    #[arg(long, value_name = "URL|PATH", conflicts_with = "discover")]
    jwks: Option<String>,
    /// Find the keys by OIDC discovery of this issuer (also the default --issuer).
    #[arg(long, value_name = "ISSUER_URL")]
    discover: Option<String>,
    /// Accepted issuer (repeatable).
    #[arg(long = "issuer", value_name = "ISS")]
    issuers: Vec<String>,
    /// Accepted audience (repeatable; at least one).
    #[arg(long = "audience", value_name = "AUD")]
    audiences: Vec<String>,
    /// Accepted algorithm (repeatable). Required with a remote key source;
    /// for a key file, default: every algorithm its keys verify.
    #[arg(long = "alg", value_name = "ALG")]
    algorithms: Vec<String>,
    /// Clock skew tolerated for exp, nbf and iat (default 30s; at most 5m).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    leeway: Option<Duration>,
    /// Required header typ (e.g. at+jwt).
    #[arg(long, value_name = "TYP")]
    typ: Option<String>,
    /// A scope every request needs (repeatable); a token without it gets 403.
    #[arg(long = "require-scope", value_name = "SCOPE")]
    require_scopes: Vec<String>,
    /// Also take the token from this cookie.
    #[arg(long, value_name = "NAME")]
    cookie: Option<String>,
    /// Also take the token from a Sec-WebSocket-Protocol entry starting
    /// with PREFIX (browsers cannot set headers on a WebSocket handshake);
    /// the entry never reaches the upstream.
    #[arg(long, value_name = "PREFIX", conflicts_with = "kubernetes_websocket_token")]
    websocket_token_prefix: Option<String>,
    /// Also take the token from a Sec-WebSocket-Protocol entry in
    /// Kubernetes' convention: base64url.bearer.authorization.k8s.io.<base64url(token)>.
    #[arg(long)]
    kubernetes_websocket_token: bool,
    /// Hand a claim on as a header (repeatable), e.g. sub=X-User-Id: on the
    /// answer (auth endpoint) or the forwarded request (proxy). Incoming
    /// headers of that name are always removed first.
    #[arg(long = "claim-header", value_name = "CLAIM=HEADER")]
    claim_headers: Vec<String>,
    /// Paths under this prefix (whole segments) need no token (repeatable).
    #[arg(long = "skip-path", value_name = "PREFIX")]
    skip_paths: Vec<String>,
    /// Keep up to N verified tokens (0: off): a repeated token skips its
    /// signature check.
    #[arg(long, value_name = "N")]
    token_cache: Option<usize>,
    /// Shortest freshness of a fetched key set (e.g. 1m; down to 1s).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    jwks_min_ttl: Option<Duration>,
    /// Longest freshness of a fetched key set.
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    jwks_max_ttl: Option<Duration>,
    /// Least time between fetches triggered by an unknown kid.
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    kid_cooldown: Option<Duration>,
    /// How long a key set is used after its issuer stops answering.
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    max_stale: Option<Duration>,
    /// Allow plain http for the key source on hosts other than loopback.
    #[arg(long)]
    allow_insecure_http: bool,
    /// Trust this CA (PEM) when fetching keys, besides the system roots
    /// (repeatable).
    #[arg(long = "ca-cert", value_name = "PEM")]
    ca_certs: Vec<PathBuf>,
    /// Client certificate (PEM) for an issuer that requires mTLS.
    #[arg(long, value_name = "PEM", requires = "client_key")]
    client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, value_name = "PEM", requires = "client_cert")]
    client_key: Option<PathBuf>,
    /// Follow this revocation store (Redis) and refuse what it revokes:
    /// redis://[user:password@]host[:port][/db]. Better in the environment
    /// (a password on the command line shows in `ps`).
    #[arg(long, value_name = "URL", env = "JWTGATE_REVOCATION_REDIS_URL", hide_env_values = true)]
    revocation_redis: Option<crate::revoke::Secret>,
    /// Out of sync with the store for longer than this, tokens get 503
    /// revocation_unavailable (or pass, with --revocation-fail-open). Default 60s.
    #[arg(long, value_name = "DUR", value_parser = parse_duration, requires = "revocation_redis")]
    revocation_max_lag: Option<Duration>,
    /// Insecure: while out of sync, accept tokens no rule held refuses
    /// (counted and warned) instead of answering 503.
    #[arg(long, requires = "revocation_redis")]
    revocation_fail_open: bool,
    /// Client connections served at once (default 10000); more wait in
    /// the listen queue.
    #[arg(long, value_name = "N")]
    max_connections: Option<usize>,
    /// After SIGTERM or Ctrl-C, how long requests in flight may take
    /// (default 10s).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    shutdown_grace: Option<Duration>,
    /// Log lines on stderr as text or one JSON object each.
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
    /// One INFO line per decision (method, path, status, outcome, iss,
    /// time); `off` leaves only warnings and key-source events.
    #[arg(long, value_enum, default_value = "on")]
    decision_log: Switch,
}

/// On or off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Switch {
    On,
    Off,
}

/// The shape of log lines.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

impl ServeArgs {
    /// The flags that the configuration file replaces, named when given.
    fn flags_given_besides_config(&self) -> Vec<&'static str> {
        let given = [
            ("--upstream", self.upstream.is_some()),
            ("--upstream-timeout", self.upstream_timeout.is_some()),
            ("--strip-token", self.strip_token),
            ("--trust-forwarded", self.trust_forwarded),
            ("--jwks", self.jwks.is_some()),
            ("--discover", self.discover.is_some()),
            ("--issuer", !self.issuers.is_empty()),
            ("--audience", !self.audiences.is_empty()),
            ("--alg", !self.algorithms.is_empty()),
            ("--leeway", self.leeway.is_some()),
            ("--typ", self.typ.is_some()),
            ("--require-scope", !self.require_scopes.is_empty()),
            ("--cookie", self.cookie.is_some()),
            ("--websocket-token-prefix", self.websocket_token_prefix.is_some()),
            ("--kubernetes-websocket-token", self.kubernetes_websocket_token),
            ("--claim-header", !self.claim_headers.is_empty()),
            ("--skip-path", !self.skip_paths.is_empty()),
            ("--token-cache", self.token_cache.is_some()),
            ("--jwks-min-ttl", self.jwks_min_ttl.is_some()),
            ("--jwks-max-ttl", self.jwks_max_ttl.is_some()),
            ("--kid-cooldown", self.kid_cooldown.is_some()),
            ("--max-stale", self.max_stale.is_some()),
            ("--allow-insecure-http", self.allow_insecure_http),
            ("--ca-cert", !self.ca_certs.is_empty()),
            ("--client-cert", self.client_cert.is_some()),
            ("--revocation-max-lag", self.revocation_max_lag.is_some()),
            ("--revocation-fail-open", self.revocation_fail_open),
            ("--shutdown-grace", self.shutdown_grace.is_some()),
            ("--max-connections", self.max_connections.is_some()),
        ];
        given.into_iter().filter_map(|(flag, set)| set.then_some(flag)).collect()
    }
}

/// Reads the configuration file, with the flags it allows on top.
fn options_from_file(path: &std::path::Path, args: ServeArgs) -> Result<Options, Failure> {
    let extra = args.flags_given_besides_config();
    if !extra.is_empty() {
        return Err(Failure::Config(format!(
            "{} cannot be given with --config: set it in {}",
            extra.join(", "),
            path.display()
        )));
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| Failure::Config(format!("cannot read {}: {e}", path.display())))?;
    let mut options =
        Options::from_toml(&text, args.listen).map_err(|e| Failure::Config(format!("{}: {e}", path.display())))?;
    if let Some(url) = args.revocation_redis {
        let revocation = options.revocation.get_or_insert(Revocation {
            redis_url: String::new(),
            max_lag: Duration::from_secs(60),
            fail_open: false,
        });
        url.expose().clone_into(&mut revocation.redis_url);
    }
    if options.revocation.as_ref().is_some_and(|r| r.redis_url.is_empty()) {
        return Err(Failure::Config(format!(
            "{}: [revocation] has no redis_url; set it there or in JWTGATE_REVOCATION_REDIS_URL",
            path.display()
        )));
    }
    Ok(options)
}

/// Parses the flags into jwtgate-serve's options.
fn options_from_flags(args: ServeArgs) -> Result<Options, Failure> {
    let listen =
        args.listen.ok_or_else(|| Failure::Config("--listen is required (or a --config that sets listen)".into()))?;
    let (keys, default_issuer) = match (args.jwks, args.discover) {
        (Some(jwks), _) if jwks.starts_with("http://") || jwks.starts_with("https://") => (Keys::Url(jwks), None),
        (Some(jwks), _) => (Keys::File(PathBuf::from(jwks)), None),
        (None, Some(issuer)) => (Keys::Discover(issuer.clone()), Some(issuer)),
        (None, None) => return Err(Failure::Config("--jwks or --discover is required (or --config)".into())),
    };
    let mut iss = args.issuers;
    if iss.is_empty() {
        iss.extend(default_issuer);
    }
    let Some(first) = iss.first().cloned() else {
        return Err(Failure::Config("--issuer is required (or --discover, whose issuer it then is)".into()));
    };
    if args.audiences.is_empty() {
        return Err(Failure::Config("--audience is required".into()));
    }
    let algorithms = args
        .algorithms
        .iter()
        .map(|a| a.parse().map_err(|_| Failure::Config(format!("--alg {a:?} is not an algorithm jwtgate verifies"))))
        .collect::<Result<Vec<_>, _>>()?;
    let mut claim_headers = Vec::new();
    for pair in &args.claim_headers {
        let (claim, header) = pair
            .split_once('=')
            .ok_or_else(|| Failure::Config(format!("--claim-header {pair:?}: expected CLAIM=HEADER")))?;
        let header = http::HeaderName::try_from(header)
            .map_err(|_| Failure::Config(format!("--claim-header {pair:?}: {header:?} is not a header name")))?;
        claim_headers.push((claim.to_owned(), header));
    }
    let issuer = Issuer { name: first, iss, keys, audiences: args.audiences, algorithms };
    let mut options = Options::new(listen, issuer);
    // --skip-path prefixes first, then one rule for everything else.
    let mut rules: Vec<Rule> = args.skip_paths.iter().map(|prefix| Rule::new(prefix.clone(), Access::Open)).collect();
    let mut everything = Rule::new("/", Access::Required);
    everything.scopes = args.require_scopes;
    rules.push(everything);
    options.rules = rules;
    if let Some(leeway) = args.leeway {
        options.leeway = leeway;
    }
    options.typ = args.typ;
    options.cookie = args.cookie;
    options.websocket_token = match (args.websocket_token_prefix, args.kubernetes_websocket_token) {
        (Some(prefix), _) => Some(TokenSource::websocket_protocol(prefix)),
        (None, true) => Some(TokenSource::kubernetes_websocket_protocol()),
        (None, false) => None,
    };
    options.claim_headers = claim_headers;
    options.token_cache = args.token_cache.unwrap_or(0);
    options.allow_insecure_http = args.allow_insecure_http;
    options.ca_certs = args.ca_certs;
    options.client_identity = args.client_cert.zip(args.client_key);
    options.revocation = args.revocation_redis.map(|url| Revocation {
        redis_url: url.expose().to_owned(),
        max_lag: args.revocation_max_lag.unwrap_or(Duration::from_secs(60)),
        fail_open: args.revocation_fail_open,
    });
    options.key_timing = KeyTiming {
        min_ttl: args.jwks_min_ttl,
        max_ttl: args.jwks_max_ttl,
        kid_cooldown: args.kid_cooldown,
        max_stale: args.max_stale,
    };
    options.upstream = match args.upstream {
        None => None,
        Some(url) => Some(Upstream {
            url: parse_upstream(&url).map_err(|e| Failure::Config(format!("--upstream {e}")))?,
            timeout: args.upstream_timeout.unwrap_or(DEFAULT_UPSTREAM_TIMEOUT),
            strip_token: args.strip_token,
            trust_forwarded: args.trust_forwarded,
        }),
    };
    options.shutdown_grace = args.shutdown_grace.unwrap_or(DEFAULT_SHUTDOWN_GRACE);
    if let Some(max) = args.max_connections {
        options.max_connections = max;
    }
    Ok(options)
}

/// Decisions (one line per request: method, path, status, outcome, iss;
/// never the token) and key-source events go to stderr; stdout carries
/// only the address. The middleware's and verifier's own refusal lines
/// are left out below WARN: the access line says the same once.
fn init_logs(format: LogFormat, decisions: Switch) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let targets = Targets::new()
        .with_default(LevelFilter::INFO)
        .with_target("jwtgate_hyper", LevelFilter::WARN)
        .with_target("jwtgate_verify", LevelFilter::WARN)
        .with_target("jwtgate::access", if decisions == Switch::On { LevelFilter::INFO } else { LevelFilter::OFF });
    let registry = tracing_subscriber::registry().with(targets);
    let _ = match format {
        LogFormat::Text => {
            registry.with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(false)).try_init()
        }
        LogFormat::Json => registry
            .with(tracing_subscriber::fmt::layer().json().flatten_event(true).with_writer(std::io::stderr))
            .try_init(),
    };
}

/// Runs the server until SIGTERM or Ctrl-C; exit 0 after a clean stop,
/// 2 for options that cannot work.
pub(crate) fn run(args: ServeArgs) -> Result<u8, Failure> {
    let (log_format, decision_log) = (args.log_format, args.decision_log);
    let options = match args.config.clone() {
        Some(path) => options_from_file(&path, args)?,
        None => options_from_flags(args)?,
    };
    init_logs(log_format, decision_log);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::config("cannot start the async runtime", &e))?;
    runtime.block_on(async {
        let server = Server::bind(options).await.map_err(|e| Failure::config("jwtgate serve", &e))?;
        let addr = server.local_addr().map_err(|e| Failure::config("jwtgate serve", &e))?;
        // The first line on stdout: where to send requests (the port the OS
        // chose for :0 included).
        println!("listening on {addr}");
        server.serve(shutdown_signal()).await;
        Ok(0)
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
