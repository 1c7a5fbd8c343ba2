//! `jwtgate`: verify a JWT access token the way a jwtgate service would,
//! decode one without trusting it, list a JWKS document's keys, or revoke
//! tokens fleet-wide through the shared revocation store.
//!
//! Exit codes: 0 accepted (or done), 1 rejected, 2 usage or configuration
//! error, 3 key source or revocation store unavailable. See the crate
//! README for examples.

mod failure;
mod inspect;
mod keys;
mod list_keys;
mod render;
mod revoke;
mod serve;
mod token_input;
mod verify;
mod when;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use jwtgate_verify::{DEFAULT_LEEWAY, MAX_TOKEN_BYTES_CEILING};

use crate::failure::Failure;
use crate::keys::{FetchOptions, Location};

/// Verify, inspect and explain JWT access tokens and JWKS documents.
#[derive(Parser, Debug)]
#[command(name = "jwtgate", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
#[allow(clippy::large_enum_variant, reason = "parsed once per run from the command line")]
enum Command {
    /// Verify a token: exit 0 accepted, 1 rejected, 2 usage or
    /// configuration error, 3 key source unavailable.
    Verify(VerifyArgs),
    /// Decode a token WITHOUT verifying it, with warnings about what looks wrong.
    Inspect {
        /// The token; '-' or absent reads standard input.
        token: Option<String>,
        /// Evaluate time claims at this instant (Unix seconds) instead of now.
        #[arg(long, value_name = "UNIX_SECONDS")]
        now: Option<i64>,
        /// One JSON object on stdout instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Load a JWKS (file or URL) and list its keys: usable or not, and why.
    Jwks {
        /// A JWKS or JWK file, or an http(s) URL.
        source: String,
        #[command(flatten)]
        fetch: FetchArgs,
        /// One JSON object on stdout instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Revoke tokens everywhere: write a rule to the shared revocation
    /// store (Redis) that every replica follows. Exit 0 done, 2 usage
    /// (nothing written), 3 store unavailable.
    Revoke(RevokeArgs),
    /// Verify tokens in front of a service: a reverse proxy (--upstream) or
    /// an auth endpoint for an ingress (nginx auth_request, Traefik
    /// forwardAuth, Envoy ext_authz); 401/403/503 per RFC 6750 for what
    /// fails. Runs until SIGTERM or Ctrl-C.
    Serve(Box<serve::ServeArgs>),
    /// List the live revocation rules in the shared store.
    Revocations {
        #[command(flatten)]
        store: StoreArgs,
        /// Only this issuer's rules.
        #[arg(long, value_name = "ISS")]
        issuer: Option<String>,
        /// One JSON object on stdout instead of text.
        #[arg(long)]
        json: bool,
    },
}

// The shared revocation store. A plain comment: clap would take a doc
// comment here as the subcommand's about.
#[derive(Args, Debug)]
struct StoreArgs {
    /// The store: redis://[user:password@]host[:port][/db] (rediss:// for
    /// TLS). Better in the environment than on the command line, where
    /// other users of the machine can read a password.
    #[arg(long, value_name = "URL", env = "JWTGATE_REDIS_URL", hide_env_values = true)]
    redis: revoke::Secret,
    /// The key prefix of the rule set; the replicas must use the same.
    #[arg(long, value_name = "NS", default_value = jwtgate_revoke::DEFAULT_NAMESPACE)]
    namespace: String,
    /// How long after a token's exp its jti rule is kept (seconds); the
    /// store and the replicas must agree (the store refuses a writer that
    /// differs, and says its own).
    #[arg(long, value_name = "SECS", default_value_t = jwtgate_revoke::DEFAULT_LEEWAY.as_secs())]
    leeway: u64,
    /// The longest token lifetime (seconds): how long a subject or client
    /// cut-off is kept. The same agreement as --leeway.
    #[arg(long, value_name = "SECS", default_value_t = jwtgate_revoke::DEFAULT_MAX_TOKEN_LIFETIME.as_secs())]
    max_token_lifetime: u64,
}

impl StoreArgs {
    fn config(&self) -> jwtgate_revoke::RedisConfig {
        let list = jwtgate_revoke::RevocationConfig::new()
            .leeway(std::time::Duration::from_secs(self.leeway))
            .max_token_lifetime(std::time::Duration::from_secs(self.max_token_lifetime));
        jwtgate_revoke::RedisConfig::new(self.redis.expose()).namespace(&self.namespace).list_config(list)
    }
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["jti", "sub", "client", "kid", "token"])))]
struct RevokeArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The issuer whose tokens the rule applies to (with --token, default
    /// the token's iss).
    #[arg(long, value_name = "ISS")]
    issuer: Option<String>,
    /// One token, by its jti (needs --exp: the rule ends with the token).
    #[arg(long, value_name = "ID")]
    jti: Option<String>,
    /// The exp of the token revoked by --jti (Unix seconds).
    #[arg(long, value_name = "UNIX_SECONDS", requires = "jti")]
    exp: Option<i64>,
    /// Every token of this subject issued at or before --before ("log out
    /// everywhere").
    #[arg(long, value_name = "SUB")]
    sub: Option<String>,
    /// Every token issued to this client (client_id or azp) at or before
    /// --before.
    #[arg(long, value_name = "CLIENT_ID")]
    client: Option<String>,
    /// The cut-off for --sub or --client (Unix seconds); default now.
    #[arg(long, value_name = "UNIX_SECONDS", conflicts_with_all = ["jti", "kid", "token"])]
    before: Option<i64>,
    /// Every token whose header names this signing key.
    #[arg(long, value_name = "KID")]
    kid: Option<String>,
    /// A whole token: revokes its jti until its exp. It is parsed, never
    /// verified, printed or stored. Give '-' to read it from standard input
    /// (a token on the command line is visible to other users in `ps`).
    #[arg(long, value_name = "TOKEN|-")]
    token: Option<revoke::Secret>,
    /// Why, for people (an incident number): kept with the rule.
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,
    /// Remove the rule instead (a mistake undone): the same target flags
    /// name it; --exp, --before and --reason are ignored.
    #[arg(long)]
    undo: bool,
    /// One JSON object on stdout instead of text.
    #[arg(long)]
    json: bool,
}

// How a JWKS URL or an issuer is fetched (ignored for key files). A plain
// comment: clap would take a doc comment here as the subcommand's about.
#[derive(Args, Debug)]
struct FetchArgs {
    /// Allow plain http for the JWKS URL or issuer on hosts other than
    /// loopback (anyone on the path can then substitute keys).
    #[arg(long)]
    allow_insecure_http: bool,
    /// Also trust the CA certificates in this PEM file for https (an
    /// issuer behind a private CA), besides the system's.
    #[arg(long, value_name = "PEM")]
    ca_cert: Option<PathBuf>,
    /// Present this client certificate to the issuer (mutual TLS): a PEM
    /// file, the certificate first, then intermediates. Needs --client-key.
    #[arg(long, value_name = "PEM", requires = "client_key")]
    client_cert: Option<PathBuf>,
    /// The private key of --client-cert (PEM, unencrypted).
    #[arg(long, value_name = "PEM", requires = "client_cert")]
    client_key: Option<PathBuf>,
    /// Fetch through this proxy (http://host:port); https stays end to end
    /// through a CONNECT tunnel.
    #[arg(long, value_name = "URL")]
    proxy: Option<String>,
    /// Honour HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY (not read
    /// otherwise).
    #[arg(long, conflicts_with = "proxy")]
    proxy_from_env: bool,
}

impl FetchArgs {
    fn options(self) -> FetchOptions {
        FetchOptions {
            allow_insecure_http: self.allow_insecure_http,
            ca_cert: self.ca_cert,
            client_cert: self.client_cert,
            client_key: self.client_key,
            proxy: self.proxy,
            proxy_from_env: self.proxy_from_env,
        }
    }
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("keys").required(true).args(["jwks", "discover"])))]
struct VerifyArgs {
    /// The token; '-' or absent reads standard input (whitespace trimmed).
    token: Option<String>,
    /// A JWKS document, a single JWK or a PEM public key (a file), or an
    /// http(s) JWKS URL.
    #[arg(long, value_name = "PATH|URL")]
    jwks: Option<String>,
    /// Find the keys by OIDC discovery of this issuer (also the default --issuer).
    #[arg(long, value_name = "ISSUER_URL", conflicts_with = "jwks")]
    discover: Option<String>,
    /// Accepted issuer (repeatable).
    #[arg(long = "issuer", value_name = "ISS")]
    issuers: Vec<String>,
    /// Skip the issuer check (insecure: any issuer's token with these keys passes).
    #[arg(long, conflicts_with = "issuers")]
    no_issuer_check: bool,
    /// Accepted audience (repeatable).
    #[arg(long = "audience", value_name = "AUD")]
    audiences: Vec<String>,
    /// Skip the audience check (insecure: tokens meant for other services pass).
    #[arg(long, conflicts_with = "audiences")]
    no_audience_check: bool,
    /// Accepted algorithm (repeatable); default: every algorithm the keys can verify.
    #[arg(long = "alg", value_name = "ALG")]
    algorithms: Vec<String>,
    /// Clock skew tolerated for exp, nbf and iat, in seconds (at most 300).
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_LEEWAY.as_secs())]
    leeway: u64,
    /// Evaluate time claims at this instant (Unix seconds) instead of now.
    #[arg(long, value_name = "UNIX_SECONDS")]
    now: Option<i64>,
    /// Required header typ (e.g. at+jwt).
    #[arg(long, value_name = "TYP")]
    typ: Option<String>,
    /// A claim that must be present (repeatable; exp is always required).
    #[arg(long = "require", value_name = "CLAIM")]
    require: Vec<String>,
    /// Longest token accepted, in bytes after trimming.
    #[arg(long, value_name = "N", default_value_t = 8192,
          value_parser = clap::value_parser!(u64).range(1..=MAX_TOKEN_BYTES_CEILING as u64))]
    max_token_bytes: u64,
    #[command(flatten)]
    fetch: FetchArgs,
    /// One JSON object on stdout instead of text.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    // What a failure's JSON says first: `valid` for a verdict on a token,
    // `done` for a write to or a read of the revocation store.
    let verdict_key =
        if matches!(cli.command, Command::Revoke(_) | Command::Revocations { .. }) { "done" } else { "valid" };
    if let Command::Serve(args) = cli.command {
        return match serve::run(*args) {
            Ok(code) => ExitCode::from(code),
            Err(failure) => {
                eprintln!("error: {}", failure.message());
                ExitCode::from(failure.exit_code())
            }
        };
    }
    let (json, outcome) = match cli.command {
        Command::Verify(args) => (args.json, runtime.block_on(verify(args))),
        Command::Inspect { token, now, json } => (json, inspect(token.as_deref(), now, json)),
        Command::Jwks { source, fetch, json } => (json, runtime.block_on(list_keys(&source, &fetch.options(), json))),
        Command::Revoke(args) => (args.json, runtime.block_on(revoke(args))),
        Command::Serve(_) => return ExitCode::from(2),
        Command::Revocations { store, issuer, json } => {
            let listing = runtime.block_on(revoke::list(store.config(), issuer.as_deref(), json));
            (json, listing.map(|text| print_out(&text)).map(|()| 0))
        }
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            if json {
                let mut object = serde_json::Map::new();
                object.insert(verdict_key.to_owned(), false.into());
                object.insert("error".to_owned(), failure.code().into());
                object.insert("message".to_owned(), failure.message().into());
                let object = serde_json::Value::Object(object);
                print_out(&object.to_string());
            }
            eprintln!("error: {}", failure.message());
            ExitCode::from(failure.exit_code())
        }
    }
}

/// Writes to stdout; a closed pipe (`| head`) is not worth a panic.
fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", text.trim_end());
}

async fn verify(args: VerifyArgs) -> Result<u8, Failure> {
    let token = token_input::read(args.token.as_deref())?;
    let keys = match (args.jwks, args.discover) {
        (Some(jwks), _) => Location::from_jwks_arg(&jwks),
        (None, Some(issuer)) => Location::Issuer(issuer),
        (None, None) => return Err(Failure::Config("--jwks or --discover is required".into())),
    };
    let request = verify::Request {
        token,
        keys,
        issuers: args.issuers,
        no_issuer_check: args.no_issuer_check,
        audiences: args.audiences,
        no_audience_check: args.no_audience_check,
        algorithms: args.algorithms,
        leeway: args.leeway,
        now: args.now,
        typ: args.typ,
        require: args.require,
        max_token_bytes: usize::try_from(args.max_token_bytes).unwrap_or(usize::MAX),
        fetch: args.fetch.options(),
    };
    let verdict = verify::run(request).await?;
    if args.json {
        print_out(&verdict.to_json().to_string());
    } else {
        print_out(&verdict.to_human());
    }
    Ok(verdict.exit_code())
}

fn inspect(token: Option<&str>, now: Option<i64>, json: bool) -> Result<u8, Failure> {
    let token = token_input::read(token)?;
    let inspection = inspect::run(&token, now.unwrap_or_else(verify::unix_now));
    if json {
        print_out(&inspection.to_json().to_string());
    } else {
        print_out(&inspection.to_human());
    }
    Ok(0)
}

async fn list_keys(source: &str, fetch: &FetchOptions, json: bool) -> Result<u8, Failure> {
    let location = Location::from_jwks_arg(source);
    let loaded = keys::load(&location, fetch).await?;
    let listing = list_keys::list(&loaded);
    if json {
        print_out(&listing.to_json().to_string());
    } else {
        print_out(&listing.to_human());
    }
    Ok(if listing.usable() > 0 { 0 } else { 1 })
}

async fn revoke(args: RevokeArgs) -> Result<u8, Failure> {
    let what = match (args.jti, args.exp, args.sub, args.client, args.kid, args.token) {
        (Some(jti), exp, ..) => match (exp, args.undo) {
            (Some(exp), _) => revoke::What::Jti { jti, exp },
            // Removing names the rule by its identity, which has no exp.
            (None, true) => revoke::What::Jti { jti, exp: 0 },
            (None, false) => return Err(Failure::Config("--jti needs --exp (the token's exp, Unix seconds)".into())),
        },
        (_, _, Some(sub), ..) => revoke::What::Subject { sub, before: args.before },
        (_, _, _, Some(client_id), ..) => revoke::What::Client { client_id, before: args.before },
        (_, _, _, _, Some(kid), _) => revoke::What::Key { kid },
        (_, _, _, _, _, Some(token)) => revoke::What::Token(token_input::read(Some(token.expose()))?),
        _ => {
            return Err(Failure::Config(
                "one of --jti (with --exp), --sub, --client, --kid or --token is required".into(),
            ));
        }
    };
    let request = revoke::Request {
        store: args.store.config(),
        issuer: args.issuer,
        what,
        reason: args.reason,
        undo: args.undo,
        now: verify::unix_now(),
    };
    print_out(&revoke::revoke(request, args.json).await?);
    Ok(0)
}
