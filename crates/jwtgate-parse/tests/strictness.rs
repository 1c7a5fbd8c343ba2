//! Every strictness rule of the parser, each by a test named for what it
//! forbids, plus the positive cases that sit right next to each rule.

mod common;

use common::{b64, outcome, token, with_claims, with_header};
use jwtgate_parse::Error;

/// `forbid!(name, token, Error::X)` asserts that the token is refused with
/// exactly that error; `allow!(name, token)` that it parses.
macro_rules! forbid {
    ($($name:ident: $token:expr => $err:expr;)*) => {$(
        #[test]
        fn $name() {
            assert_eq!(outcome(AsRef::<str>::as_ref(&$token)), Err($err));
        }
    )*};
}

macro_rules! allow {
    ($($name:ident: $token:expr;)*) => {$(
        #[test]
        fn $name() {
            assert_eq!(outcome(AsRef::<str>::as_ref(&$token)), Ok(()));
        }
    )*};
}

const SIG: &str = "c2lnbmF0dXJl";

fn parts(n: usize) -> String {
    let h = b64(r#"{"alg":"HS256"}"#);
    let p = b64(r#"{"iss":"joe"}"#);
    let mut all = vec![h, p];
    while all.len() < n {
        all.push(SIG.to_owned());
    }
    all.truncate(n);
    all.join(".")
}

forbid! {
    forbid_empty_input: "" => Error::TooFewParts;
    forbid_one_part: parts(1) => Error::TooFewParts;
    forbid_two_parts: parts(2) => Error::TooFewParts;
    forbid_four_parts: parts(4) => Error::TooManyParts;
    forbid_five_parts_as_jwe: parts(5) => Error::Encrypted;
    forbid_six_parts: parts(6) => Error::TooManyParts;
    forbid_empty_header: format!(".{}.{SIG}", b64("{}")) => Error::EmptyHeader;
    forbid_empty_payload: format!("{}..{SIG}", b64(r#"{"alg":"HS256"}"#)) => Error::EmptyPayload;
    forbid_empty_signature: format!("{}.{}.", b64(r#"{"alg":"HS256"}"#), b64("{}")) => Error::EmptySignature;
    forbid_unsecured_jws: format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64("{}")) => Error::EmptySignature;

    forbid_padding_in_signature: format!("{}=", parts(3)) => Error::Base64Alphabet;
    forbid_padding_in_header: format!("{}=.{}.{SIG}", b64(r#"{"alg":"HS256"}"#), b64("{}")) => Error::Base64Alphabet;
    forbid_standard_alphabet_plus: format!("{}.{}.ab+c", b64(r#"{"alg":"HS256"}"#), b64("{}")) => Error::Base64Alphabet;
    forbid_standard_alphabet_slash: format!("{}.{}.ab/c", b64(r#"{"alg":"HS256"}"#), b64("{}")) => Error::Base64Alphabet;
    forbid_whitespace_in_part: format!("{}.{}.ab c", b64(r#"{"alg":"HS256"}"#), b64("{}")) => Error::Base64Alphabet;
    forbid_leading_whitespace: format!(" {}", parts(3)) => Error::Base64Alphabet;
    forbid_trailing_newline: format!("{}\n", parts(3)) => Error::Base64Alphabet;
    forbid_non_ascii_in_part: format!("{}é", parts(3)) => Error::Base64Alphabet;
    forbid_impossible_base64_length: format!("{}.{}.abcde", b64(r#"{"alg":"HS256"}"#), b64("{}")) => Error::Base64Length;
    // "c2lnbmF0dXJl" + "A" + "B": "AB" carries 12 bits for one byte, and 'B' sets an unused bit.
    forbid_nonzero_trailing_bits_after_two_chars: format!("{}.{}.AB", b64(r#"{"alg":"HS256"}"#), b64("{}")) => Error::Base64TrailingBits;
    forbid_nonzero_trailing_bits_after_three_chars: format!("{}.{}.AAB", b64(r#"{"alg":"HS256"}"#), b64("{}")) => Error::Base64TrailingBits;

    forbid_nul_in_string: token("{\"alg\":\"HS256\",\"x\":\"\u{0}\"}", "{}") => Error::ControlCharInString;
    forbid_bom: token("\u{feff}{\"alg\":\"HS256\"}", "{}") => Error::UnexpectedByte;
    forbid_header_array: token(r#"["alg","HS256"]"#, "{}") => Error::NotAnObject;
    forbid_payload_string: with_claims(r#""joe""#) => Error::NotAnObject;
    forbid_payload_number: with_claims("1") => Error::NotAnObject;
    forbid_trailing_bytes_after_payload: with_claims(r#"{"iss":"joe"}x"#) => Error::TrailingBytes;
    forbid_second_object_in_payload: with_claims(r#"{"iss":"joe"}{}"#) => Error::TrailingBytes;
    forbid_trailing_bytes_after_non_object: with_claims(r#"1 2"#) => Error::TrailingBytes;
    forbid_comments: with_claims("{/*c*/\"iss\":\"joe\"}") => Error::UnexpectedByte;
    forbid_trailing_comma_in_object: with_claims(r#"{"iss":"joe",}"#) => Error::UnexpectedByte;
    forbid_trailing_comma_in_array: with_claims(r#"{"aud":["a",]}"#) => Error::UnexpectedByte;
    forbid_single_quotes: with_claims("{'iss':'joe'}") => Error::UnexpectedByte;
    forbid_unquoted_name: with_claims(r#"{iss:"joe"}"#) => Error::UnexpectedByte;
    forbid_truncated_object: with_claims(r#"{"iss":"joe""#) => Error::UnexpectedEnd;
    forbid_truncated_string: with_claims(r#"{"iss":"jo"#) => Error::UnexpectedEnd;
    forbid_empty_payload_json: with_claims(" ") => Error::UnexpectedEnd;
    forbid_raw_control_char_in_string: with_claims("{\"iss\":\"a\tb\"}") => Error::ControlCharInString;
    forbid_raw_newline_in_string: with_claims("{\"iss\":\"a\nb\"}") => Error::ControlCharInString;
    forbid_unknown_escape: with_claims(r#"{"iss":"a\qb"}"#) => Error::InvalidEscape;
    forbid_short_unicode_escape: with_claims(r#"{"iss":"\u12"}"#) => Error::InvalidEscape;
    forbid_non_hex_unicode_escape: with_claims(r#"{"iss":"\u12G4"}"#) => Error::InvalidEscape;
    forbid_lone_high_surrogate: with_claims(r#"{"iss":"\ud800"}"#) => Error::LoneSurrogate;
    forbid_lone_low_surrogate: with_claims(r#"{"iss":"\udc00"}"#) => Error::LoneSurrogate;
    forbid_high_surrogate_then_non_surrogate: with_claims(r#"{"iss":"\ud800\u0041"}"#) => Error::LoneSurrogate;
    forbid_leading_zero: with_claims(r#"{"exp":0123}"#) => Error::InvalidNumber;
    forbid_leading_plus: with_claims(r#"{"exp":+1}"#) => Error::UnexpectedByte;
    forbid_bare_fraction: with_claims(r#"{"exp":.5}"#) => Error::UnexpectedByte;
    forbid_trailing_dot: with_claims(r#"{"exp":1.}"#) => Error::InvalidNumber;
    forbid_empty_exponent: with_claims(r#"{"exp":1e}"#) => Error::InvalidNumber;
    forbid_hex_number: with_claims(r#"{"exp":0x10}"#) => Error::UnexpectedByte;
    forbid_nan: with_claims(r#"{"exp":NaN}"#) => Error::UnexpectedByte;
    forbid_infinity: with_claims(r#"{"exp":Infinity}"#) => Error::UnexpectedByte;
    forbid_minus_alone: with_claims(r#"{"exp":-}"#) => Error::InvalidNumber;
    forbid_capitalised_literal: with_claims(r#"{"x":True}"#) => Error::UnexpectedByte;
    forbid_misspelt_literal: with_claims(r#"{"x":tru}"#) => Error::UnexpectedByte;
    forbid_truncated_literal: with_claims(r#"{"x":tru"#) => Error::UnexpectedEnd;

    forbid_duplicate_alg: with_header(r#"{"alg":"HS256","alg":"none"}"#) => Error::DuplicateMember;
    forbid_duplicate_alg_via_escape: with_header(r#"{"alg":"HS256","\u0061lg":"none"}"#) => Error::DuplicateMember;
    forbid_duplicate_unknown_header_member: with_header(r#"{"alg":"HS256","x":1,"x":1}"#) => Error::DuplicateMember;
    forbid_duplicate_sub: with_claims(r#"{"sub":"alice","sub":"admin"}"#) => Error::DuplicateMember;
    forbid_duplicate_custom_claim_via_escapes: with_claims(r#"{"r\u00f4le":"user","rôle":"admin"}"#) => Error::DuplicateMember;
    forbid_duplicate_via_escaped_slash: with_claims(r#"{"a/b":1,"a\/b":2}"#) => Error::DuplicateMember;
    forbid_duplicate_via_surrogate_pair: with_claims(r#"{"😀":1,"\ud83d\ude00":2}"#) => Error::DuplicateMember;

    forbid_missing_alg: with_header(r#"{"typ":"JWT"}"#) => Error::MissingAlg;
    forbid_alg_null: with_header(r#"{"alg":null}"#) => Error::HeaderParamType;
    forbid_alg_number: with_header(r#"{"alg":256}"#) => Error::HeaderParamType;
    forbid_alg_array: with_header(r#"{"alg":["HS256"]}"#) => Error::HeaderParamType;
    forbid_kid_number: with_header(r#"{"alg":"HS256","kid":1}"#) => Error::HeaderParamType;
    forbid_typ_object: with_header(r#"{"alg":"HS256","typ":{}}"#) => Error::HeaderParamType;
    forbid_crit_string: with_header(r#"{"alg":"HS256","crit":"exp"}"#) => Error::HeaderParamType;
    forbid_crit_with_number: with_header(r#"{"alg":"HS256","crit":["exp",1]}"#) => Error::HeaderParamType;
    forbid_empty_crit: with_header(r#"{"alg":"HS256","crit":[]}"#) => Error::EmptyCrit;
    forbid_b64_string: with_header(r#"{"alg":"HS256","b64":"false"}"#) => Error::HeaderParamType;
}

allow! {
    allow_whitespace_between_json_tokens: with_claims(" {\n\t\"iss\" : \"joe\" ,\r\n \"aud\" : [ \"a\" , \"b\" ] } ");
    allow_all_escapes: with_claims(r#"{"x":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}"#);
    allow_non_ascii_utf8: with_claims(r#"{"name":"Zoë 😀 日本"}"#);
    allow_all_json_types_in_custom_claims: with_claims(r#"{"a":{"b":[1,-0.5e-3,true,false,null,"s",{}],"c":[]}}"#);
    allow_exponent_forms: with_claims(r#"{"x":[1E2,1e+2,1e-2,0.0,-0]}"#);
    allow_unknown_header_members: with_header(r#"{"alg":"HS256","x-custom":{"nested":[1]}}"#);
    allow_same_name_in_different_objects: with_claims(r#"{"a":{"x":1},"b":{"x":1}}"#);
    allow_duplicate_names_below_top_level: with_claims(r#"{"a":{"x":1,"x":2}}"#);
    allow_alg_none_string: with_header(r#"{"alg":"none"}"#);
    allow_canonical_two_char_tail: format!("{}.{}.AA", b64(r#"{"alg":"HS256"}"#), b64("{}"));
    allow_canonical_three_char_tail: format!("{}.{}.AAA", b64(r#"{"alg":"HS256"}"#), b64("{}"));
    allow_empty_claims_object: with_claims("{}");
    // Type errors in claims are held back until `claims()` (see claims.rs tests).
    allow_claim_type_errors_at_parse_time: with_claims(r#"{"exp":"soon","iss":5}"#);
}

#[test]
fn forbid_invalid_utf8_in_payload() {
    let t = format!("{}.{}.{SIG}", b64(r#"{"alg":"HS256"}"#), b64(b"{\"iss\":\"\xff\"}"));
    assert_eq!(outcome(&t), Err(Error::InvalidUtf8));
}

#[test]
fn forbid_overlong_utf8() {
    // C0 AF is an overlong encoding of '/'.
    let t = format!("{}.{}.{SIG}", b64(r#"{"alg":"HS256"}"#), b64(b"{\"iss\":\"\xc0\xaf\"}"));
    assert_eq!(outcome(&t), Err(Error::InvalidUtf8));
}

#[test]
fn forbid_utf8_encoded_surrogate() {
    let t = format!("{}.{}.{SIG}", b64(r#"{"alg":"HS256"}"#), b64(b"{\"iss\":\"\xed\xa0\x80\"}"));
    assert_eq!(outcome(&t), Err(Error::InvalidUtf8));
}

#[test]
fn forbid_nesting_beyond_default_depth() {
    let ok = format!("{{\"a\":{}1{}}}", "[".repeat(31), "]".repeat(31));
    assert_eq!(outcome(&with_claims(&ok)), Ok(()));
    let deep = format!("{{\"a\":{}1{}}}", "[".repeat(32), "]".repeat(32));
    assert_eq!(outcome(&with_claims(&deep)), Err(Error::DepthLimit));
}

#[test]
fn depth_limit_is_configurable_and_capped() {
    let deep = with_claims(&format!("{{\"a\":{}1{}}}", "[".repeat(40), "]".repeat(40)));
    let mut buf = [0u8; jwtgate_parse::DEFAULT_BUFFER_LEN];
    let limits = jwtgate_parse::Limits::new().with_max_depth(41);
    assert!(jwtgate_parse::parse_with(deep.as_bytes(), &mut buf, &limits).is_ok());
    let limits = jwtgate_parse::Limits::new().with_max_depth(40);
    assert_eq!(jwtgate_parse::parse_with(deep.as_bytes(), &mut buf, &limits).unwrap_err(), Error::DepthLimit);
    assert_eq!(jwtgate_parse::Limits::new().with_max_depth(10_000).max_depth(), jwtgate_parse::MAX_DEPTH_CEILING);
}

#[test]
fn forbid_deep_nesting_without_stack_overflow() {
    // Far past the ceiling: must be an error, not a crash.
    let deep = format!("{{\"a\":{}", "[".repeat(5000));
    let limits = jwtgate_parse::Limits::new().with_max_token_bytes(1 << 20).with_max_depth(usize::MAX);
    let t = with_claims(&deep);
    let mut buf = vec![0u8; t.len()];
    assert_eq!(jwtgate_parse::parse_with(t.as_bytes(), &mut buf, &limits).unwrap_err(), Error::DepthLimit);
}

#[test]
fn forbid_token_over_size_limit_before_anything_else() {
    // Garbage, but too large: the size check comes first.
    let big = "!".repeat(jwtgate_parse::DEFAULT_MAX_TOKEN_BYTES + 1);
    assert_eq!(outcome(&big), Err(Error::TokenTooLarge));
    let limits = jwtgate_parse::Limits::new().with_max_token_bytes(10);
    let mut buf = [0u8; 64];
    assert_eq!(jwtgate_parse::parse_with(parts(3).as_bytes(), &mut buf, &limits).unwrap_err(), Error::TokenTooLarge);
}

#[test]
fn token_exactly_at_size_limit_is_accepted() {
    let t = parts(3);
    let limits = jwtgate_parse::Limits::new().with_max_token_bytes(t.len());
    let mut buf = [0u8; 256];
    assert!(jwtgate_parse::parse_with(t.as_bytes(), &mut buf, &limits).is_ok());
}

#[test]
fn forbid_buffer_too_small() {
    let t = parts(3);
    let mut buf = [0u8; 8];
    assert_eq!(jwtgate_parse::parse(t.as_bytes(), &mut buf).unwrap_err(), Error::BufferTooSmall);
}

#[test]
fn default_buffer_fits_the_largest_default_token() {
    // Three parts of maximal total length, all decodable.
    let budget = jwtgate_parse::DEFAULT_MAX_TOKEN_BYTES;
    let header = b64(r#"{"alg":"HS256"}"#);
    let payload = b64(r#"{"iss":"joe"}"#);
    let sig_len = budget - header.len() - payload.len() - 2;
    let sig_len = sig_len - usize::from(sig_len % 4 == 1);
    let t = format!("{header}.{payload}.{}", "A".repeat(sig_len));
    assert!(t.len() <= budget);
    assert_eq!(outcome(&t), Ok(()));
}

#[test]
fn forbid_too_many_members() {
    let n = jwtgate_parse::MAX_TOP_LEVEL_MEMBERS;
    let members: Vec<String> = (0..n).map(|i| format!("\"c{i}\":0")).collect();
    assert_eq!(outcome(&with_claims(&format!("{{{}}}", members.join(",")))), Ok(()));
    let members: Vec<String> = (0..=n).map(|i| format!("\"c{i}\":0")).collect();
    assert_eq!(outcome(&with_claims(&format!("{{{}}}", members.join(",")))), Err(Error::TooManyMembers));
}

#[test]
fn error_messages_are_fixed_and_never_echo_input() {
    let t = with_claims(r#"{"iss":"SECRET-VALUE","iss":"x"}"#);
    let err = outcome(&t).unwrap_err();
    let msg = err.to_string();
    assert_eq!(msg, "duplicate member name");
    assert!(!msg.contains("SECRET"));
}
