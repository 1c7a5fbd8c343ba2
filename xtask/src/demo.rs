//! `cargo xtask demo`: the main job, end to end, with what exists so far.
//!
//! An issuer makes keys and mints an access token; the service verifies it
//! with jwtgate-verify (static keys from the issuer's JWKS) and refuses a
//! gallery of bad and hostile tokens, each with its stable rejection code.
//! Remote JWKS fetching, the hyper middleware and the CLI join the demo as
//! their crates land.

use std::path::Path;

use jwtgate_verify::{Algorithm, KeyOrigin, KeySet, Scratch, Verifier};
use xtask::alg::Alg;
use xtask::error::{Context as _, Error, Result};
use xtask::jwk::b64;
use xtask::{keygen, mint};

const ISS: &str = "https://auth.example.com";
const AUD: &str = "orders-api";

pub(crate) fn run(root: &Path) -> Result<()> {
    let dir = root.join("target/xtask-demo");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).context(|| format!("cannot clear {}", dir.display()))?;
    }
    println!("jwtgate demo\n");
    println!("1. The issuer makes an ES256 key pair (cargo xtask keygen --alg ES256 --out {}):", dir.display());
    let es = keygen::run(&keygen::Request { alg: Alg::ES256, bits: None, kid: None, out: dir.clone(), force: false })?;
    println!("{}\n", indent(&keygen::describe(&es, Alg::ES256, &dir)));

    let request = |key: &keygen::Written| mint::Request {
        key: key.private_jwk.clone(),
        iss: ISS.to_owned(),
        aud: vec![AUD.to_owned()],
        sub: "checkout-service".to_owned(),
        ttl: "5m".to_owned(),
        claims: Some(r#"{"scope":"orders:read orders:write","client_id":"checkout"}"#.to_owned()),
        typ: "at+jwt".to_owned(),
        ..mint::Request::default()
    };
    let token = mint::run(&request(&es))?;
    println!("2. It signs an access token for the orders API (cargo xtask mint ...):\n   {token}\n");

    println!("3. The orders API loads the issuer's JWKS once and verifies the token:");
    let jwks_path = es.jwks.clone().ok_or_else(|| Error::msg("keygen wrote no JWKS"))?;
    let jwks = std::fs::read_to_string(&jwks_path).context(|| format!("cannot read {}", jwks_path.display()))?;
    let keys = KeySet::from_jwks_str(&jwks, KeyOrigin::Remote).map_err(|e| Error::msg(format!("JWKS: {e}")))?;
    let verifier = Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .algorithms([Algorithm::ES256, Algorithm::RS256])
        .rfc9068_access_token()
        .build(keys)
        .map_err(|e| Error::msg(format!("verifier: {e}")))?;
    let mut scratch = Scratch::new();
    let verified =
        verifier.verify(&token, &mut scratch).map_err(|e| Error::msg(format!("verification failed: {e}")))?;
    let c = verified.claims();
    let aud: Vec<String> = c.aud().map(|a| a.iter().map(|s| s.to_string()).collect()).unwrap_or_default();
    println!("   accepted: alg={} kid={}", verified.alg(), show(verified.kid()));
    println!("   iss={} sub={} aud=[{}]", show(c.iss()), show(c.sub()), aud.join(", "));
    println!(
        "   scope={} client_id={}",
        c.scope().and_then(|s| s.iter().next()).map_or("-".into(), |s| s.to_string()),
        show(c.client_id())
    );
    if let (Some(iat), Some(exp)) = (c.iat(), c.exp()) {
        println!("   lifetime {}s (exp {})\n", exp.floor() - iat.floor(), exp.floor());
    }

    println!("4. And refuses, with a stable code, tokens that are wrong or hostile:");
    let (head, rest) = token.split_once('.').unwrap_or((&token, ""));
    let (payload, _) = rest.split_once('.').unwrap_or((rest, ""));
    let forged_payload = b64(
        br#"{"iss":"https://auth.example.com","sub":"admin","aud":"orders-api","exp":9999999999,"scope":"orders:admin"}"#,
    );
    let confusion = hmac_with_public_jwks(&dir, &jwks, Some(es.kid.as_str()))?;
    let cases: Vec<(&str, String)> = vec![
        ("expired an hour ago", mint::run(&mint::Request { ttl: "-1h".to_owned(), ..request(&es) })?),
        ("for another audience", mint::run(&mint::Request { aud: vec!["billing-api".to_owned()], ..request(&es) })?),
        ("from another issuer", mint::run(&mint::Request { iss: "https://evil.example".to_owned(), ..request(&es) })?),
        ("claims edited after signing", format!("{head}.{forged_payload}.{}", token.rsplit('.').next().unwrap_or(""))),
        ("alg none, no signature", format!("{}.{payload}.", b64(r#"{"alg":"none"}"#))),
        ("HS256 'signed' with the public JWKS", confusion),
        ("unknown kid", mint::run(&mint::Request { kid: Some("rotated-away".to_owned()), ..request(&es) })?),
        ("duplicate sub claim", format!("{head}.{}.c2ln", b64(r#"{"sub":"alice","sub":"admin"}"#))),
        ("an ID token (typ JWT)", mint::run(&mint::Request { typ: "JWT".to_owned(), ..request(&es) })?),
        ("encrypted token (JWE)", "a.b.c.d.e".to_owned()),
    ];
    for (what, bad) in cases {
        let mut scratch = Scratch::new();
        match verifier.verify(&bad, &mut scratch) {
            Err(e) => println!("   {what:<36} -> {:<17} {e}", e.code()),
            Ok(_) => return Err(Error::msg(format!("the verifier accepted a token {what}"))),
        }
    }
    println!("\ndemo finished: keys in {}", dir.display());
    Ok(())
}

/// The key-confusion attack: use the issuer's *public* JWKS text as an HMAC
/// secret and sign an HS256 token naming the issuer's kid.
fn hmac_with_public_jwks(dir: &Path, jwks: &str, kid: Option<&str>) -> Result<String> {
    let forged = dir.join("attacker-hmac.json");
    let jwk = serde_json::json!({ "kty": "oct", "k": b64(jwks.as_bytes()), "alg": "HS256" });
    std::fs::write(&forged, jwk.to_string()).context(|| format!("cannot write {}", forged.display()))?;
    let header = serde_json::json!({ "alg": "HS256", "typ": "at+jwt", "kid": kid });
    let payload = serde_json::json!({ "iss": ISS, "aud": AUD, "sub": "admin", "exp": 9_999_999_999_i64 });
    mint::sign_raw(&forged, &header.to_string(), &payload.to_string())
}

fn show(s: Option<jwtgate_verify::JsonStr<'_>>) -> String {
    s.map_or_else(|| "-".to_owned(), |s| s.to_string())
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("   {l}")).collect::<Vec<_>>().join("\n")
}
