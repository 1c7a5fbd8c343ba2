//! `cargo xtask demo`: the main job, end to end, with what exists so far.
//!
//! Today: make keys, mint tokens, and run them through jwtgate-parse, the
//! strict parser every verification starts with, showing what it reports
//! and what it refuses. Signature verification joins when jwtgate-verify
//! lands (issue 4); the demo grows with each crate.

use std::path::Path;

use xtask::alg::Alg;
use xtask::error::{Context as _, Error, Result};
use xtask::jwk::b64;
use xtask::{keygen, mint};

pub(crate) fn run(root: &Path) -> Result<()> {
    let dir = root.join("target/xtask-demo");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).context(|| format!("cannot clear {}", dir.display()))?;
    }
    println!("jwtgate demo\n");
    println!(
        "1. An issuer makes an ES256 key pair (cargo xtask keygen --alg ES256 --out {}):",
        dir.display()
    );
    let written = keygen::run(&keygen::Request {
        alg: Alg::ES256,
        bits: None,
        kid: None,
        out: dir.clone(),
        force: false,
    })?;
    println!(
        "{}\n",
        indent(&keygen::describe(&written, Alg::ES256, &dir))
    );

    let req = mint::Request {
        key: written.private_jwk.clone(),
        iss: "https://auth.example.com".to_owned(),
        aud: vec!["orders-api".to_owned()],
        sub: "checkout-service".to_owned(),
        ttl: "5m".to_owned(),
        claims: Some(r#"{"scope":"orders:read orders:write","client_id":"checkout"}"#.to_owned()),
        typ: "at+jwt".to_owned(),
        ..mint::Request::default()
    };
    let token = mint::run(&req)?;
    println!(
        "2. It signs an access token for the orders API (cargo xtask mint ...):\n   {token}\n"
    );

    println!("3. The orders API parses it with jwtgate-parse (no heap, no std):");
    let mut buf = [0u8; jwtgate_parse::DEFAULT_BUFFER_LEN];
    let parsed = jwtgate_parse::parse(token.as_bytes(), &mut buf)
        .map_err(|e| Error::msg(format!("parse: {e}")))?;
    let h = parsed.header();
    println!(
        "   header: alg={} typ={} kid={}",
        h.alg(),
        show(h.typ()),
        show(h.kid())
    );
    let c = parsed
        .claims()
        .map_err(|e| Error::msg(format!("claims: {e}")))?;
    let aud: Vec<String> = c
        .aud()
        .map(|a| a.iter().map(|s| s.to_string()).collect())
        .unwrap_or_default();
    println!(
        "   claims: iss={} sub={} aud=[{}]",
        show(c.iss()),
        show(c.sub()),
        aud.join(", ")
    );
    let (iat, exp) = (c.iat().map(|d| d.floor()), c.exp().map(|d| d.floor()));
    if let (Some(iat), Some(exp)) = (iat, exp) {
        println!("           iat={iat} exp={exp} (lifetime {}s)", exp - iat);
    }
    println!(
        "   signature: {} bytes over {} bytes of signing input",
        parsed.signature().len(),
        parsed.signing_input().len()
    );
    println!("   (signature verification arrives with jwtgate-verify)\n");

    println!("4. And refuses hostile or malformed tokens before any cryptography:");
    let (head, rest) = token.split_once('.').unwrap_or((&token, ""));
    let payload = rest.split_once('.').map_or(rest, |(p, _)| p);
    let cases = [
        (
            "alg none, no signature",
            format!("{}.{payload}.", b64(r#"{"alg":"none"}"#)),
        ),
        ("padded signature", format!("{token}=")),
        (
            "duplicate sub claim",
            format!("{head}.{}.c2ln", b64(r#"{"sub":"alice","sub":"admin"}"#)),
        ),
        (
            "alg spelled with an escape",
            format!(
                "{}.{payload}.c2ln",
                b64(r#"{"alg":"ES256","\u0061lg":"none"}"#)
            ),
        ),
        ("encrypted token (JWE)", "a.b.c.d.e".to_owned()),
        ("whitespace in token", format!(" {token}")),
    ];
    for (what, bad) in cases {
        let mut buf = [0u8; jwtgate_parse::DEFAULT_BUFFER_LEN];
        match jwtgate_parse::parse(bad.as_bytes(), &mut buf) {
            Err(e) => println!("   {what:<28} -> refused: {e}"),
            Ok(_) => return Err(Error::msg(format!("the parser accepted a {what}"))),
        }
    }
    println!("\ndemo finished: keys in {}", dir.display());
    Ok(())
}

fn show(s: Option<jwtgate_parse::JsonStr<'_>>) -> String {
    s.map_or_else(|| "-".to_owned(), |s| s.to_string())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("   {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
