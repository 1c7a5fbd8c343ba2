//! `jwtgate serve`: jwtgate-serve's auth endpoint from the command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use jwtgate_serve::{KeyTiming, Keys, Options, Revocation, Server, parse_duration};

use crate::failure::Failure;

// Flags of `jwtgate serve`. A plain comment: clap would take a doc
// comment here as the subcommand's about.
#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("keys").required(true).args(["jwks", "discover"])))]
pub(crate) struct ServeArgs {
    /// Address to listen on (HTTP/1.1 and h2c), e.g. 0.0.0.0:8080.
    #[arg(long, value_name = "ADDR")]
    listen: SocketAddr,
    /// A JWKS URL, or a JWKS / JWK / PEM file.
    #[arg(long, value_name = "URL|PATH")]
    jwks: Option<String>,
    /// Find the keys by OIDC discovery of this issuer (also the default --issuer).
    #[arg(long, value_name = "ISSUER_URL", conflicts_with = "jwks")]
    discover: Option<String>,
    /// Accepted issuer (repeatable).
    #[arg(long = "issuer", value_name = "ISS")]
    issuers: Vec<String>,
    /// Accepted audience (repeatable; at least one).
    #[arg(long = "audience", value_name = "AUD", required = true)]
    audiences: Vec<String>,
    /// Accepted algorithm (repeatable). Required with a remote key source;
    /// for a key file, default: every algorithm its keys verify.
    #[arg(long = "alg", value_name = "ALG")]
    algorithms: Vec<String>,
    /// Clock skew tolerated for exp, nbf and iat (e.g. 30s; at most 5m).
    #[arg(long, value_name = "DUR", value_parser = parse_duration, default_value = "30s")]
    leeway: std::time::Duration,
    /// Required header typ (e.g. at+jwt).
    #[arg(long, value_name = "TYP")]
    typ: Option<String>,
    /// A scope every request needs (repeatable); a token without it gets 403.
    #[arg(long = "require-scope", value_name = "SCOPE")]
    require_scopes: Vec<String>,
    /// Also take the token from this cookie.
    #[arg(long, value_name = "NAME")]
    cookie: Option<String>,
    /// Answer a claim as a response header for the ingress to pass on
    /// (repeatable), e.g. sub=X-User-Id.
    #[arg(long = "claim-header", value_name = "CLAIM=HEADER")]
    claim_headers: Vec<String>,
    /// Original paths (X-Forwarded-Uri / X-Original-URI) starting with this
    /// prefix need no token (repeatable).
    #[arg(long = "skip-path", value_name = "PREFIX")]
    skip_paths: Vec<String>,
    /// Keep up to N verified tokens (0: off): a repeated token skips its
    /// signature check.
    #[arg(long, value_name = "N", default_value_t = 0)]
    token_cache: usize,
    /// Shortest freshness of a fetched key set (e.g. 1m; down to 1s).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    jwks_min_ttl: Option<std::time::Duration>,
    /// Longest freshness of a fetched key set.
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    jwks_max_ttl: Option<std::time::Duration>,
    /// Least time between fetches triggered by an unknown kid.
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    kid_cooldown: Option<std::time::Duration>,
    /// How long a key set is used after its issuer stops answering.
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    max_stale: Option<std::time::Duration>,
    /// Allow plain http for the key source on hosts other than loopback.
    #[arg(long)]
    allow_insecure_http: bool,
    /// Follow this revocation store (Redis) and refuse what it revokes:
    /// redis://[user:password@]host[:port][/db]. Better in the environment
    /// (a password on the command line shows in `ps`).
    #[arg(long, value_name = "URL", env = "JWTGATE_REVOCATION_REDIS_URL", hide_env_values = true)]
    revocation_redis: Option<crate::revoke::Secret>,
    /// Out of sync with the store for longer than this, tokens get 503
    /// revocation_unavailable (or pass, with --revocation-fail-open).
    #[arg(long, value_name = "DUR", value_parser = parse_duration, default_value = "60s", requires = "revocation_redis")]
    revocation_max_lag: std::time::Duration,
    /// Insecure: while out of sync, accept tokens no rule held refuses
    /// (counted and warned) instead of answering 503.
    #[arg(long, requires = "revocation_redis")]
    revocation_fail_open: bool,
    /// Reverse-proxy mode (not in this release: run the auth endpoint
    /// behind your ingress instead).
    #[arg(long, value_name = "URL")]
    upstream: Option<String>,
}

/// Parses the flags into jwtgate-serve's options.
fn options(args: ServeArgs) -> Result<Options, Failure> {
    if args.upstream.is_some() {
        return Err(Failure::Config(
            "--upstream (reverse-proxy mode) is not in this release; run `jwtgate serve` as an auth endpoint \
             (nginx auth_request, Traefik forwardAuth, Envoy ext_authz) instead"
                .into(),
        ));
    }
    let (keys, default_issuer) = match (args.jwks, args.discover) {
        (Some(jwks), _) if jwks.starts_with("http://") || jwks.starts_with("https://") => (Keys::Url(jwks), None),
        (Some(jwks), _) => (Keys::File(PathBuf::from(jwks)), None),
        (None, Some(issuer)) => (Keys::Discover(issuer.clone()), Some(issuer)),
        (None, None) => return Err(Failure::Config("--jwks or --discover is required".into())),
    };
    let mut issuers = args.issuers;
    if issuers.is_empty() {
        issuers.extend(default_issuer);
    }
    if issuers.is_empty() {
        return Err(Failure::Config("--issuer is required (or --discover, whose issuer it then is)".into()));
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
    let mut options = Options::new(args.listen, keys, String::new(), String::new());
    options.issuers = issuers;
    options.audiences = args.audiences;
    options.algorithms = algorithms;
    options.leeway = args.leeway;
    options.typ = args.typ;
    options.require_scopes = args.require_scopes;
    options.cookie = args.cookie;
    options.claim_headers = claim_headers;
    options.skip_paths = args.skip_paths;
    options.token_cache = args.token_cache;
    options.allow_insecure_http = args.allow_insecure_http;
    options.revocation = args.revocation_redis.map(|url| Revocation {
        redis_url: url.expose().to_owned(),
        max_lag: args.revocation_max_lag,
        fail_open: args.revocation_fail_open,
    });
    options.key_timing = KeyTiming {
        min_ttl: args.jwks_min_ttl,
        max_ttl: args.jwks_max_ttl,
        kid_cooldown: args.kid_cooldown,
        max_stale: args.max_stale,
    };
    Ok(options)
}

/// Runs the server until SIGTERM or Ctrl-C; exit 0 after a clean stop,
/// 2 for options that cannot work.
pub(crate) fn run(args: ServeArgs) -> Result<u8, Failure> {
    let options = options(args)?;
    // Decisions (code, kid, iss; never the token) and key-source events go
    // to stderr, one line each; stdout carries only the address.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
        .try_init();
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
