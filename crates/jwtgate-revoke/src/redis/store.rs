//! The writer's side: rules into the store, each change onto the log.

use std::fmt;
use std::sync::Arc;

use jwtgate_verify::Clock;
use redis::Script;
use redis::aio::ConnectionManager;

use crate::config::Limits;
use crate::redis::config::{RedisConfig, StoreError};
use crate::redis::layout::{self, Keys};
use crate::rule::{Rule, RuleId};

/// A compare-and-set write of one rule, in one atomic step on the server:
/// the rule in the hash, its expiry in the sorted set, the change on the
/// log; then up to 100 expired rules dropped (so the store never holds
/// much that is dead, with no sweeper to run).
///
/// KEYS: rules, expiry, log. ARGV: field, the value the writer merged
/// against ("" for none), the new value ("" to remove), the expiry score
/// ("never" for none), the log's cap, now.
/// Returns 1 when written, 0 when there was nothing to remove, -1 when the
/// rule changed since the writer read it (the writer merges again).
const WRITE: &str = r"
local current = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if current ~= ARGV[2] then return -1 end
local written = 1
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  if ARGV[4] == 'never' then
    redis.call('ZREM', KEYS[2], ARGV[1])
  else
    redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
  end
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'op', 'revoke', 'rule', ARGV[3])
elseif current == '' then
  written = 0
else
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'op', 'remove', 'id', ARGV[1])
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[6], 'LIMIT', 0, 100)
for _, field in ipairs(expired) do
  redis.call('HDEL', KEYS[1], field)
  redis.call('ZREM', KEYS[2], field)
end
return written
";

/// Attempts of one write against concurrent writers of the same rule.
const ATTEMPTS: usize = 16;

/// Rules fetched per `HSCAN` round trip.
const SCAN_BATCH: usize = 1000;

/// What [`RedisStore::revoke`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Written {
    /// A new rule.
    Added,
    /// The rule was held and is now longer (a later `exp` or cut-off) or
    /// has a new reason.
    Updated,
    /// The store held the rule already, as long: nothing was written (a
    /// retry, or a second operator doing the same).
    Unchanged,
    /// The rule is past its lifetime (a `jti` rule after `exp` plus the
    /// leeway): it could refuse nothing, so nothing was written.
    Expired,
}

/// A writer of the shared store: what the `jwtgate revoke` command and an
/// admin endpoint use. Every process that enforces the rules follows the
/// store with a [`RedisSync`](crate::RedisSync).
///
/// Writes are idempotent and never shrink a revocation: the store merges
/// a rule with the one it holds exactly as the list does (later `exp` or
/// cut-off wins), in a compare-and-set script, so concurrent writers of
/// the same rule never undo each other.
///
/// A write is acknowledged once Redis has applied it. Whether it survives
/// a crash of Redis is Redis's persistence setting: with `appendonly yes`
/// and `appendfsync always` every acknowledged write does; with the
/// default `everysec`, up to a second of writes can be lost (see the
/// crate README).
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    keys: Keys,
    log_max_len: usize,
    limits: Limits,
    clock: Arc<dyn Clock>,
    host: String,
    script: Arc<Script>,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore").field("host", &self.host).field("keys", &self.keys).finish_non_exhaustive()
    }
}

impl RedisStore {
    pub(crate) async fn connect(config: &RedisConfig) -> Result<Self, StoreError> {
        config.validate()?;
        let limits = config.list.limits()?;
        let client = config.client()?;
        let host = config.host();
        let mut conn = connection(client, config.timeout, config.timeout, &host).await?;
        let keys = Keys::new(&config.namespace);
        let (store_leeway, store_lifetime) = agree_on_limits(&mut conn, &keys, limits, &host).await?;
        if (store_leeway, store_lifetime) != (limits.leeway, limits.lifetime) {
            return Err(StoreError::LimitsMismatch {
                store_leeway,
                store_lifetime,
                leeway: limits.leeway,
                lifetime: limits.lifetime,
            });
        }
        Ok(Self {
            conn,
            keys,
            log_max_len: config.log_max_len,
            limits,
            clock: config.list.clock_handle(),
            host,
            script: Arc::new(Script::new(WRITE)),
        })
    }

    /// Writes a rule (merged with the one held, if any) and logs the
    /// change for every follower.
    ///
    /// # Errors
    ///
    /// [`StoreError::Rule`] for an invalid rule (nothing written), or the
    /// store unreachable or contended.
    pub async fn revoke(&self, rule: Rule) -> Result<Written, StoreError> {
        rule.validate()?;
        let field = layout::field(&rule.id());
        let now = self.clock.now();
        for _ in 0..ATTEMPTS {
            let current = self.get_raw(&field).await?;
            let merged = match &current {
                Some(held) => decode(held)?.merged(rule.clone()),
                None => Rule { reason: rule.reason.clone().filter(|r| !r.is_empty()), ..rule.clone() },
            };
            let until = self.limits.until(&merged.target);
            if until <= now {
                return Ok(Written::Expired);
            }
            let value = layout::encode(&merged);
            if current.as_deref() == Some(value.as_str()) {
                return Ok(Written::Unchanged);
            }
            // Scores are doubles: exact up to 2^53 s, far past any real date.
            let score = if until == i64::MAX { "never".to_owned() } else { until.to_string() };
            match self.write(&field, current.as_deref().unwrap_or(""), &value, &score, now).await? {
                1 if current.is_some() => return Ok(Written::Updated),
                1 => return Ok(Written::Added),
                _ => {}
            }
        }
        Err(StoreError::Contended)
    }

    /// Removes a rule ("unrevoke" a mistake); `true` if the store held it.
    /// Followers drop it too.
    ///
    /// # Errors
    ///
    /// The store unreachable or contended.
    pub async fn remove(&self, id: &RuleId) -> Result<bool, StoreError> {
        let field = layout::field(id);
        let now = self.clock.now();
        for _ in 0..ATTEMPTS {
            let Some(current) = self.get_raw(&field).await? else {
                return Ok(false);
            };
            match self.write(&field, &current, "", "never", now).await? {
                1 => return Ok(true),
                0 => return Ok(false),
                _ => {}
            }
        }
        Err(StoreError::Contended)
    }

    /// The rule the store holds under `id`, as merged from every write
    /// (`None` if it holds none, or only one past its lifetime).
    ///
    /// # Errors
    ///
    /// The store unreachable, or a value that is not a rule.
    pub async fn get(&self, id: &RuleId) -> Result<Option<Rule>, StoreError> {
        let Some(text) = self.get_raw(&layout::field(id)).await? else {
            return Ok(None);
        };
        let rule = decode(&text)?;
        Ok((self.limits.until(&rule.target) > self.clock.now()).then_some(rule))
    }

    /// The live rules the store holds (those past their lifetime left
    /// out), in no particular order.
    ///
    /// # Errors
    ///
    /// The store unreachable, or data under the namespace that is not a
    /// rule.
    pub async fn rules(&self) -> Result<Vec<Rule>, StoreError> {
        let now = self.clock.now();
        let mut conn = self.conn.clone();
        let mut live = Vec::new();
        for entry in load_all(&mut conn, &self.keys, &self.host).await? {
            let rule = entry.map_err(StoreError::Corrupt)?;
            if self.limits.until(&rule.target) > now {
                live.push(rule);
            }
        }
        Ok(live)
    }

    async fn get_raw(&self, field: &str) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn.clone();
        redis::cmd("HGET")
            .arg(&self.keys.rules)
            .arg(field)
            .query_async(&mut conn)
            .await
            .map_err(|e| unavailable(&self.host, e))
    }

    async fn write(&self, field: &str, expected: &str, value: &str, score: &str, now: i64) -> Result<i64, StoreError> {
        let mut conn = self.conn.clone();
        self.script
            .key(&self.keys.rules)
            .key(&self.keys.expiry)
            .key(&self.keys.log)
            .arg(field)
            .arg(expected)
            .arg(value)
            .arg(score)
            .arg(self.log_max_len)
            .arg(now)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| unavailable(&self.host, e))
    }
}

/// The lifetimes the store expires rules by: set to `limits` by the first
/// writer (atomically, `HSETNX`), read by every later one and by
/// followers.
pub(crate) async fn agree_on_limits(
    conn: &mut ConnectionManager,
    keys: &Keys,
    limits: Limits,
    host: &str,
) -> Result<(i64, i64), StoreError> {
    let (leeway, lifetime): (Option<i64>, Option<i64>) = redis::pipe()
        .cmd("HSETNX")
        .arg(&keys.config)
        .arg("leeway")
        .arg(limits.leeway)
        .ignore()
        .cmd("HSETNX")
        .arg(&keys.config)
        .arg("max_token_lifetime")
        .arg(limits.lifetime)
        .ignore()
        .cmd("HGET")
        .arg(&keys.config)
        .arg("leeway")
        .cmd("HGET")
        .arg(&keys.config)
        .arg("max_token_lifetime")
        .query_async(conn)
        .await
        .map_err(|e| unavailable(host, e))?;
    match (leeway, lifetime) {
        (Some(leeway), Some(lifetime)) => Ok((leeway, lifetime)),
        _ => Err(StoreError::Corrupt("the store's rule lifetimes are unreadable".into())),
    }
}

/// A connection that reconnects by itself, with the given time limits.
pub(crate) async fn connection(
    client: redis::Client,
    connect: std::time::Duration,
    response: std::time::Duration,
    host: &str,
) -> Result<ConnectionManager, StoreError> {
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Some(connect))
        .set_response_timeout(Some(response))
        .set_number_of_retries(2);
    ConnectionManager::new_with_config(client, config).await.map_err(|e| unavailable(host, e))
}

pub(crate) fn unavailable(host: &str, source: redis::RedisError) -> StoreError {
    StoreError::Unavailable { host: host.to_owned(), source }
}

pub(crate) fn decode(text: &str) -> Result<Rule, StoreError> {
    parse(text).map_err(StoreError::Corrupt)
}

/// A rule from the store, valid as the list requires; the error says why
/// not without repeating the value (it may be large or hostile).
pub(crate) fn parse(text: &str) -> Result<Rule, String> {
    let rule: Rule = serde_json::from_str(text).map_err(|e| format!("a rule that does not parse ({e})"))?;
    rule.validate().map_err(|e| e.to_string())?;
    Ok(rule)
}

/// Every rule in the hash, by `HSCAN` in batches (no single reply of the
/// whole set, and no blocking of the server on a large one); each one
/// parsed, or why not.
pub(crate) async fn load_all(
    conn: &mut ConnectionManager,
    keys: &Keys,
    host: &str,
) -> Result<Vec<Result<Rule, String>>, StoreError> {
    let mut out = Vec::new();
    let mut cursor = String::from("0");
    loop {
        let (next, pairs): (String, Vec<String>) = redis::cmd("HSCAN")
            .arg(&keys.rules)
            .arg(&cursor)
            .arg("COUNT")
            .arg(SCAN_BATCH)
            .query_async(conn)
            .await
            .map_err(|e| unavailable(host, e))?;
        // Field, value, field, value: the values are the rules. HSCAN may
        // return a rule twice; loading it twice is loading it once.
        out.extend(pairs.iter().skip(1).step_by(2).map(|value| parse(value)));
        if next == "0" {
            return Ok(out);
        }
        cursor = next;
    }
}
