//! Property tests: no input panics, encodings round-trip, and the JSON
//! scanner agrees with serde_json except where this crate is documented to
//! be stricter (top-level duplicates, nesting depth).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a failed test"
)]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{b64, with_claims};
use jwtgate_parse::{DEFAULT_BUFFER_LEN, DEFAULT_MAX_DEPTH, Error, base64url, parse};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z\u{e9}\u{1F600}]{0,4}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Small edits that turn valid JSON into near-miss text.
fn mutate(text: &str, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    const NOISE: &[u8] = b"{}[]\",:\\/ \t\n0-1.eE+truefalsnu\x00\x1f\x7f\xc3\xa9\xff";
    let mut bytes = text.as_bytes().to_vec();
    for &(at, op, pick) in edits {
        let at = at % (bytes.len() + 1);
        let b = NOISE[usize::from(pick) % NOISE.len()];
        match op % 3 {
            0 => bytes.insert(at, b),
            1 if at < bytes.len() => {
                bytes.remove(at);
            }
            _ if at < bytes.len() => bytes[at] = b,
            _ => {}
        }
    }
    bytes
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// True if the top-level object repeats a member name (serde_json keeps the
/// last one; this crate rejects).
fn has_top_level_duplicate(text: &str) -> bool {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else {
        return false;
    };
    map.len() != raw_member_count(text)
}

/// Number of top-level members as written (duplicates included).
fn raw_member_count(text: &str) -> usize {
    struct Count(usize);
    impl<'de> serde::de::Visitor<'de> for Count {
        type Value = usize;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(mut self, mut map: A) -> Result<usize, A::Error> {
            while map.next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?.is_some() {
                self.0 += 1;
            }
            Ok(self.0)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    serde::Deserializer::deserialize_map(&mut de, Count(0)).unwrap_or(0)
}

fn parse_payload(payload: &[u8]) -> Result<(), Error> {
    let t = format!("{}.{}.{}", b64(r#"{"alg":"HS256"}"#), b64(payload), b64("sig"));
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    parse(t.as_bytes(), &mut buf).map(|_| ())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let mut buf = [0u8; DEFAULT_BUFFER_LEN];
        let _ = parse(&bytes, &mut buf);
    }

    #[test]
    fn any_token_shaped_string_never_panics(s in "[A-Za-z0-9_=+/.-]{0,300}") {
        let mut buf = [0u8; DEFAULT_BUFFER_LEN];
        let _ = parse(s.as_bytes(), &mut buf);
    }

    /// The number of dots decides before anything else about a token, even
    /// though the parser finds the signature by searching backward.
    #[test]
    fn the_dot_count_is_judged_first(
        parts in prop::collection::vec("[A-Za-z0-9_=-]{0,12}|eyJhbGciOiJIUzI1NiJ9|eyJleHAiOjF9|c2ln", 1..8),
    ) {
        let token = parts.join(".");
        let mut buf = [0u8; DEFAULT_BUFFER_LEN];
        let got = parse(token.as_bytes(), &mut buf).map(|_| ());
        match parts.len() - 1 {
            0 | 1 => prop_assert_eq!(got, Err(Error::TooFewParts)),
            2 => prop_assert!(!matches!(got, Err(Error::TooFewParts | Error::TooManyParts | Error::Encrypted))),
            4 => prop_assert_eq!(got, Err(Error::Encrypted)),
            _ => prop_assert_eq!(got, Err(Error::TooManyParts)),
        }
    }

    #[test]
    fn any_payload_bytes_never_panic(payload in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_payload(&payload);
    }

    #[test]
    fn base64url_round_trips_and_is_canonical(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let encoded = URL_SAFE_NO_PAD.encode(&bytes);
        let mut out = vec![0u8; bytes.len()];
        prop_assert_eq!(base64url::decode(encoded.as_bytes(), &mut out), Ok(&bytes[..]));
        prop_assert_eq!(base64url::decoded_len(encoded.len()), Some(bytes.len()));
    }

    #[test]
    fn accepted_base64url_reencodes_to_itself(s in "[A-Za-z0-9_-]{0,64}") {
        let mut out = [0u8; 64];
        if let Ok(decoded) = base64url::decode(s.as_bytes(), &mut out) {
            prop_assert_eq!(URL_SAFE_NO_PAD.encode(decoded), s);
        }
    }

    #[test]
    fn standard_claims_round_trip(
        iss in "[ -~\u{e9}\u{1F600}]{0,30}",
        sub in "\\PC{0,20}",
        aud in prop::collection::vec("[a-z:/.]{1,12}", 1..4),
        single_aud in any::<bool>(),
        exp in any::<i64>(),
        nbf in -1_000_000_000i64..4_000_000_000,
        kid in "[ -~]{1,16}",
    ) {
        let aud_json = if single_aud { Value::from(aud[0].clone()) } else { Value::from(aud.clone()) };
        let header = serde_json::json!({"alg": "ES256", "kid": kid, "typ": "at+jwt"}).to_string();
        let payload = serde_json::json!({"iss": iss, "sub": sub, "aud": aud_json, "exp": exp, "nbf": nbf as f64 + 0.5}).to_string();
        let t = common::token(&header, &payload);
        let mut buf = [0u8; DEFAULT_BUFFER_LEN];
        let parsed = parse(t.as_bytes(), &mut buf).unwrap();
        prop_assert!(parsed.header().kid().unwrap() == kid.as_str());
        let c = parsed.claims().unwrap();
        prop_assert_eq!(c.iss().unwrap().to_string(), iss);
        prop_assert_eq!(c.sub().unwrap().to_string(), sub);
        let got: Vec<String> = c.aud().unwrap().iter().map(|s| s.to_string()).collect();
        let want = if single_aud { vec![aud[0].clone()] } else { aud };
        prop_assert_eq!(got, want);
        prop_assert_eq!(c.exp().unwrap().floor(), exp);
        // nbf + 0.5 survives f64 exactly in this range.
        prop_assert_eq!((c.nbf().unwrap().floor(), c.nbf().unwrap().is_fractional()), (nbf, true));
    }

    #[test]
    fn scanner_agrees_with_serde_json(
        value in json_value(),
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..3),
        wrap in any::<bool>(),
    ) {
        let value = if wrap { serde_json::json!({ "x": value }) } else { value };
        let bytes = mutate(&value.to_string(), &edits);
        let ours = parse_payload(&bytes);
        let text = std::str::from_utf8(&bytes);
        let parsed = text.map(|s| (s, serde_json::from_str::<Value>(s)));
        // RFC 8259 section 6 allows numbers beyond f64's range; serde_json
        // (without arbitrary_precision) refuses them. Documented difference.
        let out_of_range = matches!(&parsed, Ok((_, Err(e))) if e.to_string().contains("number out of range"));
        let theirs = parsed.ok().and_then(|(s, r)| r.ok().map(|v| (s, v)));
        match (&ours, theirs) {
            (Ok(()), None) => prop_assert!(out_of_range, "we accepted what serde_json rejects: {:?}", String::from_utf8_lossy(&bytes)),
            (Ok(()), Some((_, v))) => prop_assert!(v.is_object()),
            (Err(e), Some((text, v))) => {
                let documented = !v.is_object()
                    || depth(&v) > DEFAULT_MAX_DEPTH
                    || has_top_level_duplicate(text);
                prop_assert!(documented, "we rejected ({e:?}) what serde_json accepts: {text:?}");
            }
            (Err(_), None) => {}
        }
    }
}

#[test]
fn serde_json_keeps_last_duplicate_which_is_why_we_reject() {
    let text = r#"{"sub":"alice","sub":"admin"}"#;
    let v: Value = serde_json::from_str(text).unwrap();
    assert_eq!(v["sub"], "admin");
    assert!(has_top_level_duplicate(text));
    assert_eq!(parse_payload(text.as_bytes()), Err(Error::DuplicateMember));
    assert_eq!(with_claims(text).matches('.').count(), 2);
}
