//! `jwtgate revoke` and `jwtgate revocations` as an operator runs them,
//! against a real `redis-server` on 127.0.0.1 (the test kit starts it):
//! each rule kind, `--token`, `--undo`, JSON output, and bad input (exit 2,
//! nothing written) or an unreachable store (exit 3).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

use std::process::{Command, Output, Stdio};

use jwtgate_testkit::alg::Alg;
use jwtgate_testkit::redis_server::{self, RedisServer};
use jwtgate_testkit::{keygen, mint};
use serde_json::Value;

const ISS: &str = "https://issuer.test";

fn jwtgate(redis: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jwtgate"))
        .args(args)
        .env("JWTGATE_REDIS_URL", redis)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn json(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn live_rules(server: &RedisServer) -> Value {
    let out = jwtgate(&server.url(), &["revocations", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    json(&out)
}

fn server() -> Option<(RedisServer, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    Some((redis_server::for_test(dir.path())?, dir))
}

#[test]
fn each_rule_kind_is_written_listed_and_undone() {
    let Some((server, _dir)) = server() else { return };
    let url = server.url();
    let cases: [&[&str]; 4] = [
        &["--jti", "4f1d2c", "--exp", "4102444800", "--reason", "INC-7"],
        &["--sub", "alice", "--before", "4102444800"],
        &["--client", "billing", "--before", "4102444800"],
        &["--kid", "leaked-1"],
    ];
    for flags in cases {
        let mut args = vec!["revoke", "--issuer", ISS, "--json"];
        args.extend(flags);
        let out = jwtgate(&url, &args);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert_eq!(json(&out)["outcome"], "added");
        // Idempotent: the same command again writes nothing new.
        assert_eq!(json(&jwtgate(&url, &args))["outcome"], "unchanged");
    }
    let listed = live_rules(&server);
    assert_eq!(listed["count"], 4, "{listed}");
    let kinds: Vec<&str> =
        listed["rules"].as_array().unwrap().iter().map(|r| r["target"]["kind"].as_str().unwrap()).collect();
    for kind in ["jti", "subject", "client", "key"] {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }
    assert!(listed["rules"].as_array().unwrap().iter().any(|r| r["reason"] == "INC-7"));
    // Text output names each rule with its scope.
    let text = String::from_utf8(jwtgate(&url, &["revocations"]).stdout).unwrap();
    assert!(text.contains("4 live revocation rule(s)") && text.contains("key \"leaked-1\""), "{text}");
    // Only one issuer's rules.
    assert_eq!(json(&jwtgate(&url, &["revocations", "--json", "--issuer", "https://other.test"]))["count"], 0);
    // Undo.
    let out = jwtgate(&url, &["revoke", "--issuer", ISS, "--kid", "leaked-1", "--undo", "--json"]);
    assert_eq!(json(&out)["outcome"], "removed");
    let out = jwtgate(&url, &["revoke", "--issuer", ISS, "--jti", "4f1d2c", "--undo"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(live_rules(&server)["count"], 2);
}

#[test]
fn a_token_is_revoked_by_its_jti_and_never_echoed() {
    let Some((server, dir)) = server() else { return };
    let key = keygen::run(&keygen::Request {
        alg: Alg::ES256,
        bits: None,
        kid: Some("k".into()),
        out: dir.path().join("keys"),
        force: false,
    })
    .unwrap();
    let mint = |claims: &str| {
        mint::run(&mint::Request {
            key: key.private_jwk.clone(),
            iss: ISS.into(),
            aud: vec!["api".into()],
            sub: "bob".into(),
            ttl: "1h".into(),
            now: Some(4_000_000_000),
            claims: Some(claims.into()),
            ..mint::Request::default()
        })
        .unwrap()
    };
    let token = mint(r#"{"jti":"from-token"}"#);
    let out = jwtgate(&server.url(), &["revoke", "--token", &token, "--json"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    for part in token.split('.') {
        assert!(!stdout.contains(part), "token echoed: {stdout}");
    }
    let rule = &json(&out)["rule"];
    assert_eq!(rule["issuer"], ISS);
    assert_eq!(rule["target"], serde_json::json!({"kind": "jti", "jti": "from-token", "exp": 4_000_003_600_i64}));
    // A token without jti cannot be revoked by jti; another issuer's token
    // does not match --issuer; garbage is not a token. Nothing written.
    // (The test kit's mint adds a random jti; this one is signed as written.)
    let without = mint::sign_raw(
        &key.private_jwk,
        r#"{"alg":"ES256","kid":"k"}"#,
        r#"{"iss":"https://issuer.test","exp":4000003600}"#,
    )
    .unwrap();
    let out = jwtgate(&server.url(), &["revoke", "--token", &without]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no jti"));
    let out = jwtgate(&server.url(), &["revoke", "--token", &token, "--issuer", "https://other.test"]);
    assert_eq!(out.status.code(), Some(2));
    let out = jwtgate(&server.url(), &["revoke", "--token", "not-a-token"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(live_rules(&server)["count"], 1);
}

#[test]
fn bad_input_exits_2_and_writes_nothing() {
    let Some((server, _dir)) = server() else { return };
    let url = server.url();
    let bad: [&[&str]; 7] = [
        &["revoke", "--issuer", ISS, "--jti", "x"],                       // no --exp
        &["revoke", "--issuer", ISS, "--jti", "", "--exp", "4102444800"], // empty value
        &["revoke", "--jti", "x", "--exp", "4102444800"],                 // no --issuer
        &["revoke", "--issuer", ISS, "--sub", "a", "--kid", "k"],         // two targets
        &["revoke", "--issuer", ISS],                                     // no target
        &["revoke", "--issuer", ISS, "--kid", "k", "--before", "5"],      // --before with a key
        &["revoke", "--issuer", ISS, "--sub", "a", "--before", "soon"],   // not a time
    ];
    for args in bad {
        let out = jwtgate(&url, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(!out.stderr.is_empty());
    }
    let long = "x".repeat(2000);
    let out = jwtgate(&url, &["revoke", "--issuer", ISS, "--kid", &long, "--json"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(&out)["done"], false);
    assert_eq!(json(&out)["error"], "configuration");
    assert_eq!(live_rules(&server)["count"], 0);
}

#[test]
fn an_unreachable_store_exits_3_without_showing_its_password() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("redis://:hunter2@127.0.0.1:{closed}/");
    for args in [&["revoke", "--issuer", ISS, "--kid", "k", "--json"][..], &["revocations", "--json"][..]] {
        let out = jwtgate(&url, args);
        assert_eq!(out.status.code(), Some(3), "{out:?}");
        let value = json(&out);
        assert_eq!(value["error"], "store_unavailable");
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(!all.contains("hunter2"), "{all}");
        assert!(all.contains(&format!("127.0.0.1:{closed}")), "{all}");
    }
    // A URL that is not a Redis URL is a usage error.
    assert_eq!(jwtgate("http://x/", &["revocations"]).status.code(), Some(2));
}

#[test]
fn the_printed_rule_is_the_one_the_store_holds() {
    let Some((server, _dir)) = server() else { return };
    let url = server.url();
    let cut = |before: &str| {
        let out = jwtgate(&url, &["revoke", "--issuer", ISS, "--sub", "alice", "--before", before, "--json"]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        json(&out)
    };
    assert_eq!(cut("4102444800")["outcome"], "added");
    let later = cut("4102444900");
    assert_eq!(later["outcome"], "updated");
    assert_eq!(later["rule"]["target"]["before"], 4_102_444_900_i64);
    // An earlier cut-off never shortens the rule: the store keeps the later one.
    let earlier = cut("4102444000");
    assert_eq!(earlier["outcome"], "unchanged");
    assert_eq!(earlier["rule"]["target"]["before"], 4_102_444_900_i64);
}
