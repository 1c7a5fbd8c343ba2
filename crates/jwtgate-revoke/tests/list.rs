//! The in-memory revocation list behind a real verifier: real HS256 keys
//! and tokens from the test kit, real signature checks, a clock the tests
//! move. Each rule kind refuses exactly the tokens it names; issuers never
//! touch each other's tokens; rules expire; writes are idempotent; readers
//! never fail or allocate while another thread writes; 1,000,000 `jti`
//! rules fit in 128 MiB.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use jwtgate_revoke::{
    ConfigError, MAX_VALUE_BYTES, RevocationConfig, RevocationList, Rule, RuleError, RuleId, RuleKind, Target,
};
use jwtgate_testkit::alg::Alg;
use jwtgate_testkit::{keygen, mint};
use jwtgate_verify::{
    Algorithm, Claims, Clock, FixedClock, Header, KeySet, Revocation as _, Scratch, Verifier, VerifyingKey,
};

const NOW: i64 = 1_700_000_000;
const ISS: &str = "https://issuer.test";
const OTHER: &str = "https://other.test";
const AUD: &str = "api.test";

/// A clock the test moves, shared by the list and the verifier.
#[derive(Debug, Clone)]
struct TestClock(Arc<AtomicI64>);

impl TestClock {
    fn at(now: i64) -> Self {
        Self(Arc::new(AtomicI64::new(now)))
    }

    fn set(&self, now: i64) {
        self.0.store(now, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Two HS256 keys, `k1` and `k2`, made once for every test.
struct Keys {
    k1: keygen::Written,
    k2: keygen::Written,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "revoke-keys-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let make = |kid: &str| {
            let req = keygen::Request {
                alg: Alg::HS256,
                bits: None,
                kid: Some(kid.to_owned()),
                out: dir.clone(),
                force: true,
            };
            keygen::run(&req).unwrap()
        };
        Keys { k1: make("k1"), k2: make("k2") }
    })
}

fn key_set() -> KeySet {
    let load =
        |w: &keygen::Written| VerifyingKey::from_jwk_str(&std::fs::read_to_string(&w.private_jwk).unwrap()).unwrap();
    KeySet::new([load(&keys().k1), load(&keys().k2)])
}

/// A token of ISS for `user-1`, client `client-1`, signed with `k1`,
/// issued at NOW for 5 minutes (random `jti`), adjusted by `edit`.
fn token(edit: impl FnOnce(&mut mint::Request)) -> String {
    let mut req = mint::Request {
        key: keys().k1.private_jwk.clone(),
        iss: ISS.to_owned(),
        aud: vec![AUD.to_owned()],
        sub: "user-1".to_owned(),
        client_id: Some("client-1".to_owned()),
        ttl: "5m".to_owned(),
        now: Some(NOW),
        typ: "at+jwt".to_owned(),
        ..mint::Request::default()
    };
    edit(&mut req);
    mint::run(&req).unwrap()
}

fn with_jti(jti: &str) -> String {
    token(|r| r.claims = Some(format!(r#"{{"jti":"{jti}"}}"#)))
}

/// Exactly this header and payload JSON, signed with `k1`.
fn raw(header: &str, payload: &str) -> String {
    mint::sign_raw(&keys().k1.private_jwk, header, payload).unwrap()
}

/// A list and a verifier that consults it, on one test clock at NOW.
struct Fixture {
    clock: TestClock,
    list: RevocationList,
    verifier: Verifier,
}

fn fixture() -> Fixture {
    fixture_with(|config| config)
}

fn fixture_with(config: impl FnOnce(RevocationConfig) -> RevocationConfig) -> Fixture {
    let clock = TestClock::at(NOW);
    let list = config(RevocationConfig::new().clock(clock.clone())).build().unwrap();
    let verifier = Verifier::builder()
        .issuers([ISS, OTHER])
        .audience(AUD)
        .algorithms([Algorithm::HS256])
        .clock(clock.clone())
        .revocation(list.clone())
        .build(key_set())
        .unwrap();
    Fixture { clock, list, verifier }
}

impl Fixture {
    fn check(&self, token: &str) -> Result<(), &'static str> {
        let mut scratch = Scratch::new();
        self.verifier.verify(token, &mut scratch).map(|_| ()).map_err(|e| e.code())
    }
}

/// A verifier without revocation at NOW, to get at a token's header and
/// claims and ask the list directly.
fn plain() -> Verifier {
    Verifier::builder()
        .issuers([ISS, OTHER])
        .audience(AUD)
        .algorithms([Algorithm::HS256])
        .clock(FixedClock(NOW))
        .build(key_set())
        .unwrap()
}

/// `list.is_revoked` for `token`, which `plain()` must accept.
fn asks(list: &RevocationList, token: &str) -> bool {
    let plain = plain();
    let mut scratch = Scratch::new();
    let verified = plain.verify(token, &mut scratch).unwrap();
    let (header, claims): (&Header<'_>, &Claims<'_>) = (verified.header(), verified.claims());
    list.is_revoked(header, claims)
}

#[test]
fn a_jti_rule_refuses_that_token_and_no_other() {
    let f = fixture();
    let victim = with_jti("jti-a");
    let sibling = with_jti("jti-b"); // same subject, client and key
    let elsewhere = token(|r| {
        r.iss = OTHER.to_owned();
        r.claims = Some(r#"{"jti":"jti-a"}"#.to_owned());
    });
    for t in [&victim, &sibling, &elsewhere] {
        assert_eq!(f.check(t), Ok(()));
    }
    f.list.revoke(Rule::jti(ISS, "jti-a", NOW + 300)).unwrap();
    assert_eq!(f.check(&victim), Err("revoked"));
    assert_eq!(f.check(&sibling), Ok(()));
    assert_eq!(f.check(&elsewhere), Ok(()), "a rule of one issuer never touches another's tokens");
}

#[test]
fn a_subject_rule_refuses_tokens_issued_at_or_before_the_cutoff() {
    let f = fixture();
    let early = token(|r| r.now = Some(NOW - 10));
    let at_cutoff = token(|r| r.now = Some(NOW - 5));
    let after = token(|r| r.now = Some(NOW - 4));
    let other_user = token(|r| {
        r.sub = "user-2".to_owned();
        r.now = Some(NOW - 10);
    });
    f.list.revoke(Rule::subject(ISS, "user-1", NOW - 5)).unwrap();
    assert_eq!(f.check(&early), Err("revoked"));
    assert_eq!(f.check(&at_cutoff), Err("revoked"), "the cut-off second is included (fail closed)");
    assert_eq!(f.check(&after), Ok(()), "a token issued after the cut-off (a new login) is accepted");
    assert_eq!(f.check(&other_user), Ok(()));
}

#[test]
fn a_client_rule_matches_client_id_or_azp() {
    let f = fixture();
    let by_client_id = token(|_| {});
    let by_azp = token(|r| {
        r.client_id = None;
        r.claims = Some(r#"{"azp":"client-1"}"#.to_owned());
    });
    let azp_with_other_client_id = token(|r| {
        r.client_id = Some("client-2".to_owned());
        r.claims = Some(r#"{"azp":"client-1"}"#.to_owned());
    });
    let other_client = token(|r| r.client_id = Some("client-2".to_owned()));
    let no_client = token(|r| r.client_id = None);
    let later = token(|r| r.now = Some(NOW + 1));
    f.list.revoke(Rule::client(ISS, "client-1", NOW)).unwrap();
    assert_eq!(f.check(&by_client_id), Err("revoked"));
    assert_eq!(f.check(&by_azp), Err("revoked"));
    assert_eq!(f.check(&azp_with_other_client_id), Err("revoked"));
    assert_eq!(f.check(&other_client), Ok(()));
    assert_eq!(f.check(&no_client), Ok(()));
    assert_eq!(f.check(&later), Ok(()));
}

#[test]
fn a_key_rule_refuses_every_token_naming_that_kid() {
    let f = fixture();
    let k1 = [token(|_| {}), token(|r| r.sub = "user-2".to_owned()), with_jti("x")];
    let k2 = token(|r| r.key = keys().k2.private_jwk.clone());
    let k1_elsewhere = token(|r| r.iss = OTHER.to_owned());
    assert_eq!(f.check(&k2), Ok(()));
    f.list.revoke(Rule::key(ISS, "k1").with_reason("leaked in a paste")).unwrap();
    for t in &k1 {
        assert_eq!(f.check(t), Err("revoked"));
    }
    assert_eq!(f.check(&k2), Ok(()));
    assert_eq!(f.check(&k1_elsewhere), Ok(()), "issuer OTHER did not revoke its k1");
}

#[test]
fn rules_of_one_issuer_never_touch_tokens_of_another() {
    let f = fixture();
    let ours = with_jti("shared-jti");
    f.list
        .revoke_all([
            Rule::jti(OTHER, "shared-jti", NOW + 300),
            Rule::subject(OTHER, "user-1", NOW),
            Rule::client(OTHER, "client-1", NOW),
            Rule::key(OTHER, "k1"),
        ])
        .unwrap();
    assert_eq!(f.list.len(), 4);
    assert_eq!(f.check(&ours), Ok(()));
    let theirs = token(|r| {
        r.iss = OTHER.to_owned();
        r.sub = "someone".to_owned();
        r.client_id = None;
        r.key = keys().k2.private_jwk.clone();
        r.claims = Some(r#"{"jti":"shared-jti"}"#.to_owned());
    });
    assert_eq!(f.check(&theirs), Err("revoked"));
    assert_eq!(f.list.stats().issuers, 1);
}

#[test]
fn a_token_without_iss_belongs_to_the_issuer_named_empty() {
    let clock = TestClock::at(NOW);
    let list = RevocationConfig::new().clock(clock.clone()).build().unwrap();
    let verifier = Verifier::builder()
        .insecure_skip_issuer_check()
        .audience(AUD)
        .algorithms([Algorithm::HS256])
        .clock(clock)
        .revocation(list.clone())
        .build(key_set())
        .unwrap();
    let check = |t: &str| verifier.verify(t, &mut Scratch::new()).map(|_| ()).map_err(|e| e.code());
    let payload = format!(r#"{{"aud":"{AUD}","sub":"user-1","iat":{NOW},"exp":{},"jti":"no-iss"}}"#, NOW + 300);
    let no_iss = raw(r#"{"alg":"HS256","kid":"k1"}"#, &payload);
    let with_iss = with_jti("no-iss");
    list.revoke_all([Rule::jti(ISS, "no-iss", NOW + 300), Rule::subject(OTHER, "user-1", NOW)]).unwrap();
    assert_eq!(check(&no_iss), Ok(()), "no issuer's rule applies to a token without iss");
    assert_eq!(check(&with_iss), Err("revoked"));
    list.revoke(Rule::jti("", "no-iss", NOW + 300)).unwrap();
    assert_eq!(check(&no_iss), Err("revoked"), "rules of the issuer \"\" do");
    assert!(list.remove(&RuleId::new(ISS, RuleKind::Jti, "no-iss")));
    assert_eq!(check(&with_iss), Ok(()), "and only to tokens without iss");
}

#[test]
fn a_token_without_jti_is_matched_by_the_other_kinds() {
    let f = fixture();
    let payload = format!(r#"{{"iss":"{ISS}","aud":"{AUD}","sub":"user-1","iat":{NOW},"exp":{}}}"#, NOW + 300);
    let no_jti = raw(r#"{"alg":"HS256","kid":"k1"}"#, &payload);
    f.list.revoke(Rule::jti(ISS, "anything", NOW + 300)).unwrap();
    assert_eq!(f.check(&no_jti), Ok(()));
    f.list.revoke(Rule::subject(ISS, "user-1", NOW)).unwrap();
    assert_eq!(f.check(&no_jti), Err("revoked"));
}

#[test]
fn a_token_without_iat_matches_every_cutoff_naming_it() {
    let f = fixture();
    let payload = |sub: &str, client: &str| {
        format!(r#"{{"iss":"{ISS}","aud":"{AUD}","sub":"{sub}","client_id":"{client}","exp":{}}}"#, NOW + 300)
    };
    let header = r#"{"alg":"HS256","kid":"k1"}"#;
    let (user_1, client_1) = (raw(header, &payload("user-1", "c")), raw(header, &payload("u", "client-1")));
    let with_iat = token(|_| {});
    // Cut-offs long before NOW: every token issued since passes, but a
    // token without iat cannot show it was issued after them.
    f.list.revoke_all([Rule::subject(ISS, "user-1", NOW - 1000), Rule::client(ISS, "client-1", NOW - 1000)]).unwrap();
    assert_eq!(f.check(&user_1), Err("revoked"));
    assert_eq!(f.check(&client_1), Err("revoked"));
    assert_eq!(f.check(&with_iat), Ok(()));
}

#[test]
fn values_spelled_with_escapes_match_unescaped_rules() {
    let f = fixture();
    let payload = format!(
        r#"{{"iss":"https:\/\/issuer.test","aud":"{AUD}","sub":"user\u002d1","iat":{NOW},"exp":{},"jti":"jti\u002descaped"}}"#,
        NOW + 300
    );
    let escaped = raw(r#"{"alg":"HS256","kid":"k\u0031"}"#, &payload);
    assert_eq!(f.check(&escaped), Ok(()));
    for rule in [Rule::jti(ISS, "jti-escaped", NOW + 300), Rule::subject(ISS, "user-1", NOW), Rule::key(ISS, "k1")] {
        f.list.revoke(rule.clone()).unwrap();
        assert_eq!(f.check(&escaped), Err("revoked"), "{rule:?}");
        assert!(f.list.remove(&rule.id()));
        assert_eq!(f.check(&escaped), Ok(()));
    }
    // An escaped value longer than any rule's value matches nothing (and
    // does not overflow the stack buffer).
    let long = format!("{}\\u0041", "a".repeat(MAX_VALUE_BYTES));
    let payload = format!(r#"{{"iss":"{ISS}","aud":"{AUD}","sub":"{long}","exp":{},"jti":"{long}"}}"#, NOW + 300);
    f.list.revoke_all([Rule::jti(ISS, "a", NOW + 300), Rule::subject(ISS, "a", NOW)]).unwrap();
    assert_eq!(f.check(&raw(r#"{"alg":"HS256","kid":"k1"}"#, &payload)), Ok(()));
}

#[test]
fn rules_stop_refusing_at_the_end_of_their_lifetime_and_are_purged() {
    let f = fixture_with(|c| c.leeway(Duration::from_secs(60)).max_token_lifetime(Duration::from_secs(3600)));
    let by_jti = with_jti("short");
    // No iat: refused by a subject rule for as long as the rule lives.
    let payload = format!(r#"{{"iss":"{ISS}","aud":"{AUD}","sub":"user-9","exp":{}}}"#, NOW + 100_000);
    let by_subject = raw(r#"{"alg":"HS256","kid":"k1"}"#, &payload);
    let by_key = token(|r| r.key = keys().k2.private_jwk.clone());
    f.list
        .revoke_all([Rule::jti(ISS, "short", NOW + 300), Rule::subject(ISS, "user-9", NOW), Rule::key(ISS, "k2")])
        .unwrap();
    assert_eq!(f.list.len(), 3);
    for t in [&by_jti, &by_subject, &by_key] {
        assert!(asks(&f.list, t));
    }

    // A jti rule lives until exp + leeway, whether purged or not.
    f.clock.set(NOW + 359);
    assert!(asks(&f.list, &by_jti));
    f.clock.set(NOW + 360);
    assert!(!asks(&f.list, &by_jti), "past its lifetime a rule refuses nothing, purged or not");
    assert_eq!(f.list.len(), 3);
    assert_eq!(f.list.purge_expired(), 1);
    assert_eq!(f.list.stats().jti_rules, 0);

    // A cut-off lives until before + max_token_lifetime + leeway.
    f.clock.set(NOW + 3659);
    assert_eq!(f.list.purge_expired(), 0);
    assert!(asks(&f.list, &by_subject));
    f.clock.set(NOW + 3660);
    assert!(!asks(&f.list, &by_subject));
    assert_eq!(f.list.purge_expired(), 1);

    // A key rule never expires by itself.
    f.clock.set(NOW + 10 * 366 * 86_400);
    assert_eq!(f.list.purge_expired(), 0);
    assert!(asks(&f.list, &by_key));
    assert_eq!(f.list.rules(), vec![Rule::key(ISS, "k2")]);
    assert_eq!(f.list.stats().issuers, 1);
    assert!(f.list.remove(&RuleId::new(ISS, RuleKind::Key, "k2")));
    assert!(f.list.is_empty());
    assert_eq!(f.list.stats().issuers, 0);
}

#[test]
fn a_rule_past_its_lifetime_is_accepted_and_dropped() {
    let f = fixture();
    f.list.revoke(Rule::jti(ISS, "long-gone", NOW - 3600)).unwrap();
    f.list.revoke(Rule::subject(ISS, "user-1", NOW - 3 * 86_400)).unwrap();
    assert!(f.list.is_empty());
    assert_eq!(f.list.stats().updated_at, None, "nothing changed");
}

#[test]
fn writes_purge_at_most_once_per_purge_every() {
    let f = fixture_with(|c| c.leeway(Duration::ZERO).purge_every(Duration::from_secs(60)));
    f.list.revoke(Rule::jti(ISS, "a", NOW + 10)).unwrap(); // purges (first write) at NOW
    f.clock.set(NOW + 30);
    f.list.revoke(Rule::jti(ISS, "b", NOW + 50)).unwrap(); // "a" expired, but the last purge is 30 s old
    assert_eq!(f.list.len(), 2);
    f.clock.set(NOW + 60);
    f.list.revoke(Rule::jti(ISS, "c", NOW + 300)).unwrap(); // purges "a" and "b"
    assert_eq!(f.list.rules(), vec![Rule::jti(ISS, "c", NOW + 300)]);
    assert_eq!(f.list.stats().updated_at, Some(NOW + 60));
}

#[test]
fn a_rule_written_twice_is_one_rule_and_never_shrinks() {
    let f = fixture();
    let rule = Rule::subject(ISS, "user-1", NOW - 100);
    f.list.revoke(rule.clone()).unwrap();
    f.list.revoke(rule.clone()).unwrap();
    f.list.revoke_all([rule.clone(), rule.clone()]).unwrap();
    assert_eq!(f.list.len(), 1);
    assert_eq!(rule.id(), Rule::subject(ISS, "user-1", NOW).with_reason("other").id());

    // The later cut-off wins, in either order.
    let issued_between = token(|r| r.now = Some(NOW - 50));
    assert_eq!(f.check(&issued_between), Ok(()));
    f.list.revoke(Rule::subject(ISS, "user-1", NOW)).unwrap();
    f.list.revoke(Rule::subject(ISS, "user-1", NOW - 100)).unwrap();
    assert_eq!(f.check(&issued_between), Err("revoked"));
    let held = f.list.get(&rule.id()).unwrap();
    assert_eq!(held.target, Target::Subject { sub: "user-1".to_owned(), before: NOW });

    // A given reason replaces the old one; none keeps it.
    f.list.revoke(rule.clone().with_reason("INC-1")).unwrap();
    f.list.revoke(rule.clone()).unwrap();
    assert_eq!(f.list.get(&rule.id()).unwrap().reason.as_deref(), Some("INC-1"));

    // jti: the later exp wins, the reason rides along.
    let jti = Rule::jti(ISS, "t", NOW + 300);
    f.list.revoke(jti.clone().with_reason("replayed")).unwrap();
    f.list.revoke(Rule::jti(ISS, "t", NOW + 100)).unwrap();
    f.list.revoke(Rule::jti(ISS, "t", NOW + 600)).unwrap();
    assert_eq!(f.list.get(&jti.id()).unwrap(), Rule::jti(ISS, "t", NOW + 600).with_reason("replayed"));
    f.list.revoke(Rule::jti(ISS, "t", NOW + 600).with_reason("INC-2")).unwrap();
    assert_eq!(f.list.get(&jti.id()).unwrap().reason.as_deref(), Some("INC-2"));

    // Keys.
    f.list.revoke_all([Rule::key(ISS, "k9"), Rule::key(ISS, "k9")]).unwrap();
    let stats = f.list.stats();
    assert_eq!((stats.jti_rules, stats.subject_rules, stats.client_rules, stats.key_rules), (1, 1, 0, 1));

    // Unrevoke: once.
    assert!(f.list.remove(&rule.id()));
    assert!(!f.list.remove(&rule.id()));
    assert_eq!(f.check(&issued_between), Ok(()));
    assert_eq!(f.list.remove_all([&jti.id(), &Rule::key(ISS, "k9").id(), &Rule::key(ISS, "absent").id()]), 2);
    assert!(f.list.is_empty());
}

#[test]
fn an_invalid_rule_writes_nothing_of_its_batch() {
    let f = fixture();
    let err = f.list.revoke_all([Rule::jti(ISS, "fine", NOW + 300), Rule::jti(ISS, "", NOW + 300)]).unwrap_err();
    assert_eq!(err, RuleError::Empty { field: "jti" });
    assert!(f.list.is_empty());
    let too_long = Rule::subject(ISS, "x".repeat(MAX_VALUE_BYTES + 1), NOW);
    assert_eq!(f.list.revoke(too_long), Err(RuleError::TooLong { field: "sub", max: MAX_VALUE_BYTES }));
    let long_reason = Rule::key(ISS, "k1").with_reason("x".repeat(2000));
    assert!(matches!(f.list.revoke(long_reason), Err(RuleError::TooLong { field: "reason", .. })));
    let long_issuer = Rule::key("i".repeat(MAX_VALUE_BYTES + 1), "k1");
    assert!(matches!(f.list.revoke(long_issuer), Err(RuleError::TooLong { field: "issuer", .. })));

    f.list.revoke(Rule::key(ISS, "k1")).unwrap();
    assert!(f.list.replace_all([Rule::client(ISS, "", NOW)]).is_err());
    assert_eq!(f.list.rules(), vec![Rule::key(ISS, "k1")], "a failed replace leaves the list as it was");
    assert_eq!(f.list.stats().updated_at, Some(NOW));
}

#[test]
fn replace_all_swaps_in_exactly_the_given_rules() {
    let f = fixture();
    f.list.revoke_all([Rule::jti(ISS, "a", NOW + 300), Rule::key(ISS, "k1"), Rule::subject(OTHER, "s", NOW)]).unwrap();
    assert_eq!(f.check(&with_jti("zz")), Err("revoked"));
    f.list.replace_all([Rule::jti(ISS, "b", NOW + 300)]).unwrap();
    assert_eq!(f.list.rules(), vec![Rule::jti(ISS, "b", NOW + 300)]);
    assert_eq!(f.check(&with_jti("a")), Ok(()));
    assert_eq!(f.check(&with_jti("b")), Err("revoked"));
    assert_eq!(f.list.stats().issuers, 1);
}

#[test]
fn rules_are_plain_serde_data() {
    let rules = [
        (Rule::jti(ISS, "j", 5), r#"{"issuer":"https://issuer.test","target":{"kind":"jti","jti":"j","exp":5}}"#),
        (
            Rule::subject(ISS, "s", 6).with_reason("why"),
            r#"{"issuer":"https://issuer.test","target":{"kind":"subject","sub":"s","before":6},"reason":"why"}"#,
        ),
        (
            Rule::client(ISS, "c", 7),
            r#"{"issuer":"https://issuer.test","target":{"kind":"client","client_id":"c","before":7}}"#,
        ),
        (Rule::key("", "k"), r#"{"issuer":"","target":{"kind":"key","kid":"k"}}"#),
    ];
    for (rule, json) in &rules {
        assert_eq!(serde_json::to_string(rule).unwrap(), *json);
        assert_eq!(&serde_json::from_str::<Rule>(json).unwrap(), rule);
    }
    for unknown in [
        r#"{"issuer":"i","target":{"kind":"jti","jti":"j","exp":5,"extra":1}}"#,
        r#"{"issuer":"i","target":{"kind":"scope","scope":"x"}}"#,
        r#"{"issuer":"i","target":{"kind":"key","kid":"k"},"extra":1}"#,
    ] {
        assert!(serde_json::from_str::<Rule>(unknown).is_err(), "{unknown}");
    }
    let id = Rule::client(ISS, "c", 7).id();
    assert_eq!(serde_json::to_string(&id).unwrap(), r#"{"issuer":"https://issuer.test","kind":"client","value":"c"}"#);
    assert_eq!(id.to_string(), r#"client "c" of issuer "https://issuer.test""#);
    assert_eq!(Rule::subject(ISS, "\n", 1).id().to_string(), r#"subject "\n" of issuer "https://issuer.test""#);
}

#[test]
fn stats_count_lookups_hits_and_changes() {
    let f = fixture();
    assert_eq!(f.list.stats().updated_at, None);
    let (revoked, fine) = (with_jti("r"), with_jti("f"));
    f.clock.set(NOW + 5);
    f.list.revoke(Rule::jti(ISS, "r", NOW + 300)).unwrap();
    for _ in 0..3 {
        assert_eq!(f.check(&revoked), Err("revoked"));
        assert_eq!(f.check(&fine), Ok(()));
    }
    let stats = f.list.stats();
    assert_eq!((stats.lookups, stats.hits, stats.updated_at), (6, 3, Some(NOW + 5)));
    assert_eq!((stats.rules(), stats.jti_rules, stats.issuers), (1, 1, 1));
    // A token refused earlier never reaches the list.
    f.clock.set(NOW + 10_000);
    assert_eq!(f.check(&fine), Err("expired"));
    assert_eq!(f.list.stats().lookups, 6);
    // Clones share one list.
    let clone = f.list.clone();
    assert_eq!(clone.stats(), f.list.stats());
    assert!(format!("{clone:?}").starts_with("RevocationList { rules: 1"));
}

#[test]
fn a_cached_token_is_refused_on_its_next_use_once_revoked() {
    let clock = TestClock::at(NOW);
    let list = RevocationConfig::new().clock(clock.clone()).build().unwrap();
    let verifier = Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .algorithms([Algorithm::HS256])
        .clock(clock)
        .revocation(list.clone())
        .token_cache(16)
        .build(key_set())
        .unwrap();
    let t = with_jti("cached");
    let mut scratch = Scratch::new();
    verifier.verify(&t, &mut scratch).unwrap();
    verifier.verify(&t, &mut scratch).unwrap();
    list.revoke(Rule::jti(ISS, "cached", NOW + 300)).unwrap();
    assert_eq!(verifier.verify(&t, &mut scratch).map(|_| ()).map_err(|e| e.code()), Err("revoked"));
    assert!(verifier.token_cache().unwrap().stats().hits >= 1, "the token was served from the cache");
}

#[test]
fn readers_never_fail_while_another_thread_writes() {
    let f = fixture();
    let fine = with_jti("never-revoked");
    let victim = with_jti("victim");
    let later: Vec<(String, String)> =
        (0..20).map(|i| (format!("later-{i}"), with_jti(&format!("later-{i}")))).collect();
    let victim_revoked = AtomicBool::new(false);
    let stop = AtomicBool::new(false);
    let checks = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                let mut scratch = Scratch::new();
                let mut refused = false;
                while !stop.load(Ordering::SeqCst) {
                    assert!(f.verifier.verify(&fine, &mut scratch).is_ok());
                    // Read before verifying: once `revoke` has returned, no
                    // thread may accept the token.
                    let revoked_before = victim_revoked.load(Ordering::SeqCst);
                    match f.verifier.verify(&victim, &mut scratch) {
                        Ok(_) => assert!(!revoked_before && !refused, "a revoked token was accepted"),
                        Err(e) => {
                            assert_eq!(e.code(), "revoked");
                            refused = true;
                        }
                    }
                    checks.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        for (round, (jti, token)) in later.iter().enumerate() {
            let fillers = (0..500).map(|i| Rule::jti(ISS, format!("filler-{round}-{i}"), NOW + 300));
            f.list.revoke_all(fillers).unwrap();
            f.list.revoke(Rule::jti(ISS, jti.as_str(), NOW + 300)).unwrap();
            assert_eq!(f.check(token), Err("revoked"), "visible as soon as revoke returns");
            if round == 5 {
                f.list.revoke(Rule::jti(ISS, "victim", NOW + 300)).unwrap();
                victim_revoked.store(true, Ordering::SeqCst);
            }
            if round % 4 == 3 {
                assert!(f.list.remove(&RuleId::new(ISS, RuleKind::Jti, format!("filler-{round}-0"))));
            }
        }
        f.list.revoke(Rule::subject(ISS, "someone-else", NOW)).unwrap();
        while checks.load(Ordering::Relaxed) < 300 {
            std::thread::yield_now();
        }
        stop.store(true, Ordering::SeqCst);
    });
    assert_eq!(f.check(&victim), Err("revoked"));
    assert_eq!(f.check(&fine), Ok(()));
    assert_eq!(f.list.len(), 20 * 500 - 5 + 20 + 1 + 1);
}

#[test]
fn lookups_allocate_nothing() {
    let f = fixture();
    f.list.revoke_all((0..10_000).map(|i| Rule::jti(ISS, format!("filler-{i}"), NOW + 300))).unwrap();
    f.list
        .revoke_all([
            Rule::jti(ISS, "victim", NOW + 300),
            Rule::jti(ISS, "jti-escaped", NOW + 300),
            Rule::subject(ISS, "user-7", NOW),
            Rule::client(ISS, "client-7", NOW),
            Rule::key(ISS, "k9"),
            Rule::subject(OTHER, "user-1", NOW),
        ])
        .unwrap();
    let escaped_payload =
        format!(r#"{{"iss":"https:\/\/issuer.test","aud":"{AUD}","exp":{},"jti":"jti\u002descaped"}}"#, NOW + 300);
    let cases = [
        (token(|_| {}), Ok(())),
        (with_jti("victim"), Err("revoked")),
        (token(|r| r.sub = "user-7".to_owned()), Err("revoked")),
        (
            token(|r| {
                r.client_id = None;
                r.claims = Some(r#"{"azp":"client-7"}"#.to_owned());
            }),
            Err("revoked"),
        ),
        (token(|r| r.iss = OTHER.to_owned()), Err("revoked")),
        (raw(r#"{"alg":"HS256","kid":"k\u0031"}"#, &escaped_payload), Err("revoked")),
    ];
    let mut scratch = Scratch::new();
    // Warm up lazily initialised state (arc-swap's per-thread slot,
    // tracing callsites) outside the count.
    for (t, _) in &cases {
        let _ = f.verifier.verify(t, &mut scratch);
    }
    let mut outcomes = Vec::with_capacity(cases.len() * 10);
    let info = allocation_counter::measure(|| {
        for _ in 0..10 {
            for (t, _) in &cases {
                outcomes.push(f.verifier.verify(t, &mut scratch).map(|_| ()).map_err(|e| e.code()));
            }
        }
    });
    assert_eq!(info.count_total, 0, "{info:?}");
    let expected: Vec<_> = (0..10).flat_map(|_| cases.iter().map(|(_, want)| *want)).collect();
    assert_eq!(outcomes, expected);
    // Five refusals in the warm-up, fifty counted.
    assert_eq!(f.list.stats().hits, 5 + 10 * 5);
}

#[test]
fn a_million_jti_rules_fit_in_128_mib() {
    const RULES: u32 = 1_000_000;
    const BUDGET: u64 = 128 * 1024 * 1024;
    let list = RevocationConfig::new().clock(FixedClock(NOW)).build().unwrap();
    // 22 bytes: a base64url-encoded 128-bit jti, as issuers (and the test
    // kit) make them. The rules are made on the fly, as a sync would.
    let rule = |i: u32| Rule::jti(ISS, format!("{i:022}"), NOW + 300);
    let built = allocation_counter::measure(|| list.revoke_all((0..RULES).map(rule)).unwrap());
    println!(
        "1,000,000 jti rules: peak {:.1} MiB allocated, {:.1} MiB held, {} allocations",
        mib(built.bytes_max),
        mib(u64::try_from(built.bytes_current).unwrap()),
        built.count_total
    );
    assert_eq!(list.len(), 1_000_000);
    assert!(built.bytes_max < BUDGET, "peak {:.1} MiB", mib(built.bytes_max));

    // One more rule copies one shard, not the list.
    let one = allocation_counter::measure(|| list.revoke(Rule::jti(ISS, "one-more", NOW + 300)).unwrap());
    println!("one more rule: peak {:.2} MiB", mib(one.bytes_max));
    assert!(one.bytes_max < 4 * 1024 * 1024, "peak {:.1} MiB", mib(one.bytes_max));

    let known = with_jti(&format!("{:022}", 123_456));
    let unknown = with_jti("not-in-the-list-000000");
    assert!(asks(&list, &known));
    assert!(!asks(&list, &unknown));
    assert!(list.remove(&RuleId::new(ISS, RuleKind::Jti, format!("{:022}", 123_456))));
    assert!(!asks(&list, &known));
}

fn mib(bytes: u64) -> f64 {
    // Exact for any size this test sees (< 2^53).
    #[allow(clippy::cast_precision_loss, reason = "display only")]
    let bytes = bytes as f64;
    bytes / (1024.0 * 1024.0)
}

#[test]
fn settings_out_of_range_are_refused() {
    let build = |c: RevocationConfig| c.build().err();
    assert_eq!(build(RevocationConfig::new().leeway(Duration::from_secs(301))), Some(ConfigError::LeewayTooLarge));
    assert_eq!(
        build(RevocationConfig::new().max_token_lifetime(Duration::ZERO)),
        Some(ConfigError::TokenLifetimeOutOfRange)
    );
    assert_eq!(
        build(RevocationConfig::new().max_token_lifetime(Duration::from_secs(367 * 86_400))),
        Some(ConfigError::TokenLifetimeOutOfRange)
    );
    assert_eq!(
        build(RevocationConfig::new().purge_every(Duration::from_secs(86_401))),
        Some(ConfigError::PurgeEveryTooLarge)
    );
    assert!(build(RevocationConfig::new().leeway(Duration::ZERO).purge_every(Duration::ZERO)).is_none());
    assert!(RevocationList::new().is_empty());
}
