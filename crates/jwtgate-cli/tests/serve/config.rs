//! `jwtgate serve --config`: several issuers and route rules from a TOML
//! file, and files that cannot work.

use std::process::Command;

use super::support::{AUD, bearer, get, jwks_server, keys, request, runtime, serve, upstream};

const CORP: &str = "https://corp.test";
const PARTNER: &str = "https://partner.test";

#[test]
fn route_rules_pick_issuers_scopes_and_what_needs_no_token() {
    let runtime = runtime();
    let (up, seen) = upstream(&runtime);
    let corp = keys("corp-1");
    let partner = keys("partner-1");
    let (partner_idp, _) = jwks_server(&runtime, 0, partner.jwks_path());
    let config = format!(
        r#"
upstream = "http://{up}"
token_cache = 1000

[claim_headers]
sub = "X-User-Id"

[[issuer]]
name = "corp"
issuer = "{CORP}"
jwks = "{corp_jwks}"
audiences = ["{AUD}"]

[[issuer]]
name = "partner"
issuer = "{PARTNER}"
jwks = "http://{partner_idp}/jwks.json"
audiences = "{AUD}"
algorithms = ["EdDSA"]

[[route]]
prefix = "/health"
methods = ["GET"]
auth = "none"

[[route]]
prefix = "/admin"
issuers = ["corp"]
scopes = ["admin"]

[[route]]
prefix = "/catalog"
auth = "optional"

[[route]]
prefix = "/orders"
methods = ["GET", "POST"]
"#,
        corp_jwks = corp.jwks().replace('\\', "\\\\"),
    );
    let path = corp.dir.path().join("serve.toml");
    std::fs::write(&path, config).unwrap();
    let s = serve(&["--config", path.to_str().unwrap()]);

    let corp_admin = bearer(&corp.token_from(CORP, "admin", "5m"));
    let corp_user = bearer(&corp.token_from(CORP, "orders", "5m"));
    let partner_admin = bearer(&partner.token_from(PARTNER, "admin", "5m"));
    // A partner key cannot sign for corp: the token claiming corp goes to
    // corp's verifier, which has none of partner's keys.
    let forged = bearer(&partner.token_from(CORP, "admin", "5m"));

    assert_eq!(get(&s, "/health", &[]).status, 200);
    assert_eq!(request(&s.addr, "POST", "/health", &[]).status, 403, "the open rule is for GET only");
    assert_eq!(get(&s, "/admin/users", &[("Authorization", &corp_admin)]).status, 200);
    assert_eq!(get(&s, "/admin/users", &[("Authorization", &corp_user)]).status, 403, "scope admin is missing");
    let a = get(&s, "/admin/users", &[("Authorization", &partner_admin)]);
    assert_eq!(a.status, 401, "partner is not accepted on /admin: {}", a.body);
    assert_eq!(get(&s, "/admin/users", &[("Authorization", &forged)]).status, 401);
    assert_eq!(get(&s, "/catalog/1", &[]).status, 200, "optional: no token is fine");
    let a = get(&s, "/catalog/1", &[("Authorization", &partner_admin)]);
    assert_eq!(a.status, 200);
    assert!(a.body.to_ascii_lowercase().contains("x-user-id: alice"), "{}", a.body);
    assert_eq!(get(&s, "/catalog/1", &[("Authorization", "Bearer bad.token.here")]).status, 401);
    assert_eq!(get(&s, "/orders/7", &[("Authorization", &partner_admin)]).status, 200, "both issuers on /orders");
    assert_eq!(get(&s, "/orders/7", &[("Authorization", &corp_user)]).status, 200);
    assert_eq!(get(&s, "/orders/7", &[]).status, 401);
    assert_eq!(
        request(&s.addr, "DELETE", "/orders/7", &[("Authorization", &corp_admin)]).status,
        403,
        "no rule for DELETE"
    );
    let before = seen.requests.load(std::sync::atomic::Ordering::Relaxed);
    let a = get(&s, "/elsewhere", &[("Authorization", &corp_admin)]);
    assert_eq!(a.status, 403, "no rule matches: refused");
    assert!(a.body.contains("no_route"), "{}", a.body);
    assert_eq!(seen.requests.load(std::sync::atomic::Ordering::Relaxed), before);
}

#[test]
fn a_bad_config_file_names_its_line_and_nothing_starts() {
    let dir = tempfile::tempdir().unwrap();
    let run = |text: &str, extra: &[&str]| {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, text).unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_jwtgate"))
            .args(["serve", "--listen", "127.0.0.1:0", "--config", path.to_str().unwrap()])
            .args(extra)
            .output()
            .unwrap();
        assert!(output.stdout.is_empty(), "it started: {}", String::from_utf8_lossy(&output.stdout));
        (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let issuer = "[[issuer]]\nissuer = \"https://corp.test\"\njwks = \"/nonexistent.json\"\naudiences = \"a\"\n";

    let (code, stderr) = run(&format!("{issuer}\n[[route]]\nprefix = \"/x\"\nissuers = [\"corp\"]\n"), &[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("line 8") && stderr.contains("no [[issuer]] is named \"corp\""), "{stderr}");

    let (code, stderr) = run(&format!("{issuer}\n[[route]]\nprefix = \"/x\"\nauth = \"maybe\"\n"), &[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("line 8") && stderr.contains("\"maybe\""), "{stderr}");

    let (code, stderr) = run(&format!("{issuer}token_cahce = 5\n"), &[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("line 5") && stderr.contains("token_cahce"), "{stderr}");

    let (code, stderr) = run("[[issuer]\n", &[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("line 1"), "{stderr}");

    let (code, stderr) = run(issuer, &["--audience", "b"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--audience cannot be given with --config"), "{stderr}");

    let (code, stderr) = run(issuer, &[]);
    assert_eq!(code, Some(2), "the key file does not exist");
    assert!(stderr.contains("/nonexistent.json"), "{stderr}");
}
