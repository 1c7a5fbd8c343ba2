//! The parser's JSON scanner against serde_json on arbitrary payload bytes.
//!
//! If serde_json rejects, we must reject, except for numbers beyond f64's
//! range (valid per RFC 8259 section 6, refused by serde_json). If we
//! accept, serde_json reads the same values for the standard claims. We may
//! reject what serde_json accepts only for the documented strictness:
//! a non-object top level, a duplicate top-level member, nesting deeper
//! than the limit, more top-level members than we track.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwtgate_parse::Error;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|payload: &[u8]| {
    let token = format!("eyJhbGciOiJIUzI1NiJ9.{}.c2ln", URL_SAFE_NO_PAD.encode(payload));
    let mut buf = vec![0u8; token.len()];
    let limits = jwtgate_parse::Limits::new().with_max_token_bytes(usize::MAX);
    let ours = jwtgate_parse::parse_with(token.as_bytes(), &mut buf, &limits);
    let theirs = serde_json::from_slice::<Value>(payload);
    match (ours, theirs) {
        (Ok(t), Ok(v)) => {
            let obj = v.as_object().expect("we only accept objects");
            if let Ok(c) = t.claims() {
                let same = |ours: Option<jwtgate_parse::JsonStr<'_>>, key: &str| {
                    assert_eq!(
                        ours.map(|s| s.to_string()),
                        obj.get(key).and_then(Value::as_str).map(str::to_owned),
                        "{key}"
                    );
                };
                same(c.iss(), "iss");
                same(c.sub(), "sub");
                same(c.jti(), "jti");
                for (ours, key) in [(c.exp(), "exp"), (c.nbf(), "nbf"), (c.iat(), "iat")] {
                    let Some(date) = ours else { continue };
                    // Integer literals: serde_json holds them exactly, and
                    // so must we (the digit fast path is checked here).
                    if let Some(exact) = obj[key].as_i64() {
                        assert_eq!((date.floor(), date.is_fractional()), (exact, false), "{key}");
                        continue;
                    }
                    let theirs = obj[key].as_f64().expect("a NumericDate is a number");
                    assert!((date.floor() as f64 - theirs.floor()).abs() <= theirs.abs() * 1e-15 + 1.0, "{key}");
                }
                if let Some(aud) = c.aud() {
                    let ours: Vec<String> = aud.iter().map(|s| s.to_string()).collect();
                    let theirs: Vec<String> = match &obj["aud"] {
                        Value::String(s) => vec![s.clone()],
                        Value::Array(a) => a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect(),
                        other => panic!("aud accepted as {other}"),
                    };
                    assert_eq!(ours, theirs);
                }
            }
        }
        (Ok(_), Err(e)) => {
            assert!(e.to_string().contains("number out of range"), "we accepted what serde_json rejects: {e}")
        }
        (Err(ours), Ok(v)) => assert!(
            matches!(ours, Error::NotAnObject | Error::DuplicateMember | Error::DepthLimit | Error::TooManyMembers)
                || !v.is_object(),
            "we rejected ({ours:?}) what serde_json accepts"
        ),
        (Err(_), Err(_)) => {}
    }
});
