//! `jwtgate verify`: the library's verdict on a token, explained.

use std::time::Duration;

use jwtgate_verify::{Algorithm, FixedClock, KeyResolver, Scratch, Verified, Verifier, VerifierBuilder};
use serde_json::{Value, json};

use crate::failure::Failure;
use crate::keys::{self, Loaded, Location};
use crate::render;
use crate::when;

/// What `verify` was asked to check.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) token: String,
    pub(crate) keys: Location,
    pub(crate) issuers: Vec<String>,
    pub(crate) no_issuer_check: bool,
    pub(crate) audiences: Vec<String>,
    pub(crate) no_audience_check: bool,
    pub(crate) algorithms: Vec<String>,
    pub(crate) leeway: u64,
    pub(crate) now: Option<i64>,
    pub(crate) typ: Option<String>,
    pub(crate) require: Vec<String>,
    pub(crate) max_token_bytes: usize,
    pub(crate) fetch: keys::FetchOptions,
}

/// The verdict: the exit code and what to print.
pub(crate) enum Verdict {
    /// Accepted: the header and claims as JSON, and the instant used.
    Valid { header: Value, claims: Value, alg: Algorithm, kid: Option<String>, now: i64 },
    /// Rejected with one of the library's codes.
    Invalid { code: &'static str, message: String, retryable: bool },
}

pub(crate) async fn run(request: Request) -> Result<Verdict, Failure> {
    let algorithms = request
        .algorithms
        .iter()
        .map(|name| {
            Algorithm::from_name(name).ok_or_else(|| {
                Failure::Config(format!(
                    "--alg {name:?} is not an algorithm jwtgate verifies (names are case-sensitive)"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    // With --discover the issuer is known: it is the default --issuer.
    let mut issuers = request.issuers.clone();
    if let Location::Issuer(issuer) = &request.keys
        && issuers.is_empty()
    {
        issuers.push(issuer.clone());
    }
    let loaded = keys::load(&request.keys, &request.fetch).await?;
    if loaded.keys().is_empty() {
        return Err(Failure::Config(format!("no usable key{}", keys::skipped_summary(loaded.keys()))));
    }
    let algorithms = if algorithms.is_empty() { loaded.keys().algorithms() } else { algorithms };
    let builder = policy(&request, issuers, algorithms)?;
    match loaded {
        Loaded::Static { keys, .. } => decide(builder, keys, &request).await,
        Loaded::Remote { source, .. } => decide(builder, source, &request).await,
    }
}

fn policy(request: &Request, issuers: Vec<String>, algorithms: Vec<Algorithm>) -> Result<VerifierBuilder, Failure> {
    if issuers.is_empty() && !request.no_issuer_check {
        return Err(Failure::Config("--issuer is required (or --no-issuer-check to skip the check)".into()));
    }
    if request.audiences.is_empty() && !request.no_audience_check {
        return Err(Failure::Config("--audience is required (or --no-audience-check to skip the check)".into()));
    }
    let mut builder = Verifier::builder()
        .algorithms(algorithms)
        .leeway(Duration::from_secs(request.leeway))
        .max_token_bytes(request.max_token_bytes)
        .require_claims(request.require.iter().cloned());
    builder = if request.no_issuer_check { builder.insecure_skip_issuer_check() } else { builder.issuers(issuers) };
    builder = if request.no_audience_check {
        builder.insecure_skip_audience_check()
    } else {
        builder.audiences(request.audiences.iter().cloned())
    };
    if let Some(typ) = &request.typ {
        builder = builder.require_typ(typ.clone());
    }
    if let Some(now) = request.now {
        builder = builder.clock(FixedClock(now));
    }
    Ok(builder)
}

async fn decide<R: KeyResolver>(builder: VerifierBuilder, keys: R, request: &Request) -> Result<Verdict, Failure> {
    let verifier = builder.build(keys).map_err(|e| Failure::config("invalid verification policy", &e))?;
    let mut scratch = Scratch::new();
    let now = request.now.unwrap_or_else(unix_now);
    Ok(match verifier.verify_async(&request.token, &mut scratch).await {
        Ok(verified) => valid(&verified, now),
        Err(e) => Verdict::Invalid { code: e.code(), message: e.to_string(), retryable: e.is_retryable() },
    })
}

fn valid(verified: &Verified<'_>, now: i64) -> Verdict {
    // The verifier has already parsed both as strict JSON objects.
    let header = serde_json::from_str(verified.header().json()).unwrap_or(Value::Null);
    let claims = serde_json::from_str(verified.claims().json()).unwrap_or(Value::Null);
    Verdict::Valid { header, claims, alg: verified.alg(), kid: verified.kid().map(|k| k.to_string()), now }
}

pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Verdict {
    pub(crate) const fn exit_code(&self) -> u8 {
        match self {
            Self::Valid { .. } => 0,
            Self::Invalid { retryable: true, .. } => 3,
            Self::Invalid { .. } => 1,
        }
    }

    /// `{"valid":true,"header":{...},"claims":{...}}` or
    /// `{"valid":false,"error":"<code>","message":"..."}`.
    pub(crate) fn to_json(&self) -> Value {
        match self {
            Self::Valid { header, claims, .. } => json!({ "valid": true, "header": header, "claims": claims }),
            Self::Invalid { code, message, .. } => json!({ "valid": false, "error": code, "message": message }),
        }
    }

    pub(crate) fn to_human(&self) -> String {
        match self {
            Self::Valid { header, claims, alg, kid, now } => {
                let by = kid.as_ref().map_or_else(String::new, |k| format!(" by key {k:?}"));
                let mut out = format!("VALID: {alg} signature{by} verified; issuer, audience and times accepted\n");
                out.push_str(&format!("\nheader:\n{}\n", render::json_block(header)));
                out.push_str(&format!("\nclaims:\n{}\n", render::json_block(claims)));
                let times = render::time_lines(claims, *now);
                if !times.is_empty() {
                    out.push_str(&format!("\ntimes (now {}):\n{times}", when::utc(*now)));
                }
                out
            }
            Self::Invalid { code, message, retryable } => {
                let hint = if *code == "revocation_unavailable" {
                    "the revocation list could not vouch for its rules; try again"
                } else if *retryable {
                    "the keys could not be obtained; the token itself was not judged"
                } else {
                    "`jwtgate inspect` shows the token's unverified contents"
                };
                format!("INVALID ({code}): {message}\n{hint}\n")
            }
        }
    }
}
