//! `jwtgate revoke` and `jwtgate revocations`: write a rule to the shared
//! revocation store, list the live ones. The store is the one every
//! replica's `RedisSync` follows (jwtgate-revoke's `redis` feature).

use std::fmt;

use jwtgate_revoke::{RedisConfig, RedisStore, Rule, StoreError, Target, Written};
use serde_json::json;

use crate::failure::Failure;
use crate::when;

/// A flag value that must never be printed (the store URL may hold a
/// password; a token is a credential): `Debug` shows `<redacted>`.
#[derive(Clone)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What to revoke, from the flags.
pub(crate) enum What {
    Jti {
        jti: String,
        exp: i64,
    },
    Subject {
        sub: String,
        before: Option<i64>,
    },
    Client {
        client_id: String,
        before: Option<i64>,
    },
    Key {
        kid: String,
    },
    /// A whole token: its `iss`, `jti` and `exp` are read from it
    /// (unverified: revoking needs no key), and it is never printed.
    Token(String),
}

pub(crate) struct Request {
    pub(crate) store: RedisConfig,
    pub(crate) issuer: Option<String>,
    pub(crate) what: What,
    pub(crate) reason: Option<String>,
    pub(crate) undo: bool,
    pub(crate) now: i64,
}

/// Writes (or with `undo`, removes) the rule; the text or JSON to print.
pub(crate) async fn revoke(request: Request, json: bool) -> Result<String, Failure> {
    let rule = rule(&request)?;
    // Checked before connecting: bad input writes nothing and needs no store.
    rule.validate().map_err(|e| Failure::config("invalid rule", &e))?;
    let store = connect(&request.store).await?;
    let id = rule.id();
    if request.undo {
        let removed = store.remove(&id).await.map_err(store_failure)?;
        return Ok(if json {
            json!({ "done": true, "outcome": if removed { "removed" } else { "absent" }, "rule": id }).to_string()
        } else if removed {
            format!("removed: {id}\nevery replica stops refusing its tokens within milliseconds")
        } else {
            format!("nothing to remove: the store holds no rule for {id}")
        });
    }
    let written = store.revoke(rule.clone()).await.map_err(store_failure)?;
    let outcome = match written {
        Written::Added => "added",
        Written::Updated => "updated",
        Written::Unchanged => "unchanged",
        Written::Expired => "expired",
        _ => "written",
    };
    // What the store holds now: the rule merged with any earlier write of
    // it (a later exp or cut-off kept), which is what replicas enforce.
    let stored = match written {
        Written::Expired => None,
        _ => store.get(&id).await.map_err(store_failure)?,
    };
    if json {
        return Ok(json!({ "done": true, "outcome": outcome, "rule": stored.as_ref().unwrap_or(&rule) }).to_string());
    }
    Ok(match written {
        Written::Expired => {
            format!("nothing written: {id} is past its lifetime (a token expired by now is refused anyway)")
        }
        Written::Unchanged => format!("already revoked: {id} (the store held it, as long)"),
        _ => format!("revoked ({outcome}): {id}\n{}", scope(&stored.as_ref().unwrap_or(&rule).target)),
    })
}

/// Lists the live rules, optionally of one issuer.
pub(crate) async fn list(config: RedisConfig, issuer: Option<&str>, json: bool) -> Result<String, Failure> {
    let store = connect(&config).await?;
    let mut rules = store.rules().await.map_err(store_failure)?;
    rules.retain(|r| issuer.is_none_or(|iss| r.issuer == iss));
    rules.sort_by_key(Rule::id);
    if json {
        return Ok(json!({ "count": rules.len(), "rules": rules }).to_string());
    }
    if rules.is_empty() {
        return Ok("no live revocation rules".to_owned());
    }
    let mut out = format!("{} live revocation rule(s):\n", rules.len());
    for rule in &rules {
        out.push_str(&format!("- {}: {}", rule.id(), scope(&rule.target)));
        if let Some(reason) = &rule.reason {
            out.push_str(&format!(" (reason: {reason:?})"));
        }
        out.push('\n');
    }
    Ok(out)
}

fn scope(target: &Target) -> String {
    match target {
        Target::Jti { exp, .. } => format!("that token, until it expires ({})", when::utc(*exp)),
        Target::Subject { before, .. } | Target::Client { before, .. } => {
            format!("every token issued at or before {}, and every one without iat", when::utc(*before))
        }
        Target::Key { .. } => "every token whose header names that key, until the rule is removed".to_owned(),
        _ => String::new(),
    }
}

fn rule(request: &Request) -> Result<Rule, Failure> {
    let issuer =
        || request.issuer.clone().ok_or_else(|| Failure::Config("--issuer is required (except with --token)".into()));
    let rule = match &request.what {
        What::Jti { jti, exp } => Rule::jti(issuer()?, jti, *exp),
        What::Subject { sub, before } => Rule::subject(issuer()?, sub, before.unwrap_or(request.now)),
        What::Client { client_id, before } => Rule::client(issuer()?, client_id, before.unwrap_or(request.now)),
        What::Key { kid } => Rule::key(issuer()?, kid),
        What::Token(token) => from_token(token, request.issuer.as_deref())?,
    };
    Ok(match &request.reason {
        Some(reason) => rule.with_reason(reason),
        None => rule,
    })
}

/// The `jti` rule for a token: it must parse (strictly, as a verifier
/// would) and carry `jti` and `exp`. No message repeats the token.
fn from_token(token: &str, issuer: Option<&str>) -> Result<Rule, Failure> {
    let mut buf = vec![0u8; jwtgate_parse::buffer_len_for(token.len())];
    let parsed = jwtgate_parse::parse_str(token, &mut buf)
        .map_err(|e| Failure::Config(format!("--token is not a well-formed JWT: {e}")))?;
    let claims = parsed.claims().map_err(|e| Failure::Config(format!("--token has unreadable claims: {e}")))?;
    let text = |value: Option<jwtgate_parse::JsonStr<'_>>, name: &str| -> Result<String, Failure> {
        let value =
            value.ok_or_else(|| Failure::Config(format!("the token has no {name}: it cannot be revoked by jti")))?;
        let unescaped: String = value.chars().collect();
        Ok(unescaped)
    };
    let jti = text(claims.jti(), "jti")?;
    let iss = claims.iss().map(|v| v.chars().collect::<String>()).unwrap_or_default();
    if let Some(given) = issuer
        && given != iss
    {
        return Err(Failure::Config(format!("the token's iss is {iss:?}, not the --issuer given ({given:?})")));
    }
    let exp = claims
        .exp()
        .ok_or_else(|| Failure::Config("the token has no exp: a jti rule needs to know when to end".into()))?;
    Ok(Rule::jti(iss, jti, exp.ceil()))
}

async fn connect(config: &RedisConfig) -> Result<RedisStore, Failure> {
    config.store().await.map_err(store_failure)
}

fn store_failure(e: StoreError) -> Failure {
    match e {
        StoreError::Unavailable { .. } | StoreError::Contended => Failure::store_unavailable("revocation store", &e),
        other => Failure::config("revocation store", &other),
    }
}
