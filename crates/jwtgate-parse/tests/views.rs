//! What the header and claims views report for valid tokens.

mod common;

use common::{token, with_claims, with_header};
use jwtgate_parse::{DEFAULT_BUFFER_LEN, Error, ValueKind, parse};

/// RFC 7519 section 3.1 (the same JWS as RFC 7515 Appendix A.1).
const RFC7519_EXAMPLE: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

#[test]
fn rfc7519_example_views() {
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    let t = parse(RFC7519_EXAMPLE.as_bytes(), &mut buf).unwrap();
    assert_eq!(t.header().json(), "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}");
    assert_eq!(t.header().alg(), "HS256");
    assert_eq!(t.header().typ().unwrap(), "JWT");
    assert!(t.header().kid().is_none());
    assert!(!t.header().has_embedded_key());
    let c = t.claims().unwrap();
    assert_eq!(c.iss().unwrap(), "joe");
    assert_eq!(c.exp().unwrap().floor(), 1_300_819_380);
    assert!(c.aud().is_none() && c.sub().is_none() && c.nbf().is_none());
    let names: Vec<String> = c.members().map(|(n, _)| n.to_string()).collect();
    assert_eq!(names, ["iss", "exp", "http://example.com/is_root"]);
    assert_eq!(t.signing_input(), RFC7519_EXAMPLE.rsplit_once('.').unwrap().0.as_bytes());
    assert_eq!(t.signature().len(), 32);
    assert_eq!(t.signature()[..4], [0x74, 0x18, 0xdf, 0xb4]);
}

#[test]
fn header_registered_parameters() {
    let t = with_header(r#"{"alg":"ES256","kid":"k-1","typ":"at+jwt","cty":"JWT","crit":["exp","b64"],"b64":false}"#);
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    let t = parse(t.as_bytes(), &mut buf).unwrap();
    let h = t.header();
    assert_eq!(h.alg(), "ES256");
    assert_eq!(h.kid().unwrap(), "k-1");
    assert_eq!(h.typ().unwrap(), "at+jwt");
    assert_eq!(h.cty().unwrap(), "JWT");
    let crit: Vec<String> = h.crit().unwrap().iter().map(|s| s.to_string()).collect();
    assert_eq!(crit, ["exp", "b64"]);
    assert_eq!(h.b64(), Some(false));
}

#[test]
fn header_reports_embedded_key_material_without_using_it() {
    for member in ["jwk", "jku", "x5u", "x5c"] {
        let t = with_header(&format!(r#"{{"alg":"RS256","{member}":{{"kty":"oct","k":"AAAA"}}}}"#));
        let mut buf = [0u8; DEFAULT_BUFFER_LEN];
        let t = parse(t.as_bytes(), &mut buf).unwrap();
        let h = t.header();
        let flags = [h.has_jwk(), h.has_jku(), h.has_x5u(), h.has_x5c()];
        let want = ["jwk", "jku", "x5u", "x5c"].map(|m| m == member);
        assert_eq!(flags, want, "{member}");
        assert!(t.header().has_embedded_key(), "{member}");
    }
}

#[test]
fn escaped_registered_names_are_recognised() {
    let t = with_header(r#"{"\u0061lg":"HS256","\u006bid":"k"}"#);
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    let t = parse(t.as_bytes(), &mut buf).unwrap();
    assert_eq!(t.header().alg(), "HS256");
    assert_eq!(t.header().kid().unwrap(), "k");
}

#[test]
fn escaped_values_compare_unescaped() {
    let t = with_claims(r#"{"iss":"https:\/\/issuer.example\/","sub":"\u00e9t\u00e9"}"#);
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    let t = parse(t.as_bytes(), &mut buf).unwrap();
    let c = t.claims().unwrap();
    let iss = c.iss().unwrap();
    assert_eq!(iss, "https://issuer.example/");
    assert!(iss.has_escapes());
    assert_eq!(iss.as_str(), None);
    assert_eq!(iss.raw(), r"https:\/\/issuer.example\/");
    assert!(iss.starts_with("https://"));
    assert!(!iss.starts_with("https://issuer.example/x"));
    assert_eq!(iss.unescaped_len(), "https://issuer.example/".len());
    let mut out = [0u8; 64];
    assert_eq!(iss.unescape_into(&mut out).unwrap(), "https://issuer.example/");
    let mut small = [0u8; 5];
    assert_eq!(iss.unescape_into(&mut small).unwrap_err(), Error::UnescapeBufferTooSmall);
    assert_eq!(iss.unescaped(&mut out).unwrap(), "https://issuer.example/");
    assert_eq!(iss.unescaped(&mut small).unwrap_err(), Error::UnescapeBufferTooSmall);
    // Without escapes nothing is copied: the token's own bytes come back.
    let alg = t.header().alg();
    let borrowed = alg.unescaped(&mut out).unwrap();
    assert_eq!(borrowed, "HS256");
    assert!(core::ptr::eq(borrowed, alg.raw()));
    // The buffer bounds the value whether or not it had escapes, so the
    // answer never depends on the spelling.
    assert_eq!(alg.unescaped(&mut [0u8; 4]).unwrap_err(), Error::UnescapeBufferTooSmall);
    assert_eq!(alg.unescaped(&mut [0u8; 5]).unwrap(), "HS256");
    assert_eq!(iss.unescaped(&mut [0u8; 22]).unwrap_err(), Error::UnescapeBufferTooSmall);
    assert_eq!(iss.unescaped(&mut [0u8; 23]).unwrap(), "https://issuer.example/");
    assert_eq!(c.sub().unwrap().to_string(), "été");
    assert_ne!(c.sub().unwrap(), "ete");
}

#[test]
fn aud_as_string_and_as_array() {
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    let t = with_claims(r#"{"aud":"api"}"#);
    let aud = parse(t.as_bytes(), &mut buf).unwrap().claims().unwrap().aud().unwrap();
    assert!(aud.is_single());
    assert_eq!(aud.len(), 1);
    assert!(aud.contains("api"));
    assert!(!aud.contains("ap"));

    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    let t = with_claims(r#"{"aud":["a", "b" ,"c"]}"#);
    let aud = parse(t.as_bytes(), &mut buf).unwrap().claims().unwrap().aud().unwrap();
    assert!(!aud.is_single());
    let all: Vec<String> = aud.iter().map(|s| s.to_string()).collect();
    assert_eq!(all, ["a", "b", "c"]);
    assert!(aud.contains("c"));

    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    let t = with_claims(r#"{"aud":[]}"#);
    let aud = parse(t.as_bytes(), &mut buf).unwrap().claims().unwrap().aud().unwrap();
    assert!(aud.is_empty());
}

#[test]
fn all_standard_claims() {
    let t = with_claims(
        r#"{"iss":"https://id.example","sub":"user-1","aud":"api","exp":1700000300,"nbf":1700000000.5,
            "iat":1.7e9,"jti":"j-1","client_id":"svc","scope":"read write","scp":["read","write"]}"#,
    );
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    let t = parse(t.as_bytes(), &mut buf).unwrap();
    let c = t.claims().unwrap();
    assert_eq!(c.iss().unwrap(), "https://id.example");
    assert_eq!(c.sub().unwrap(), "user-1");
    assert!(c.aud().unwrap().contains("api"));
    assert_eq!(c.exp().unwrap().floor(), 1_700_000_300);
    assert_eq!((c.nbf().unwrap().floor(), c.nbf().unwrap().ceil()), (1_700_000_000, 1_700_000_001));
    assert_eq!(c.iat().unwrap().floor(), 1_700_000_000);
    assert_eq!(c.jti().unwrap(), "j-1");
    assert_eq!(c.client_id().unwrap(), "svc");
    assert!(c.scope().unwrap().is_single());
    assert_eq!(c.scope().unwrap().iter().next().unwrap(), "read write");
    assert_eq!(c.scp().unwrap().len(), 2);
}

macro_rules! claim_type_error {
    ($($name:ident: $claims:expr => $err:expr;)*) => {$(
        #[test]
        fn $name() {
            let t = with_claims($claims);
            let mut buf = [0u8; DEFAULT_BUFFER_LEN];
            let t = parse(t.as_bytes(), &mut buf).expect("syntax is fine; the type error is deferred");
            assert_eq!(t.claims().unwrap_err(), $err);
        }
    )*};
}

claim_type_error! {
    forbid_exp_as_string: r#"{"exp":"1700000000"}"# => Error::NumericDateType;
    forbid_exp_as_null: r#"{"exp":null}"# => Error::NumericDateType;
    forbid_nbf_as_bool: r#"{"nbf":true}"# => Error::NumericDateType;
    forbid_iat_as_array: r#"{"iat":[1]}"# => Error::NumericDateType;
    forbid_exp_out_of_range: r#"{"exp":1e300}"# => Error::NumericDateRange;
    forbid_iss_as_number: r#"{"iss":1}"# => Error::ClaimType;
    forbid_sub_as_object: r#"{"sub":{}}"# => Error::ClaimType;
    forbid_aud_as_number: r#"{"aud":1}"# => Error::ClaimType;
    forbid_aud_array_with_number: r#"{"aud":["a",1]}"# => Error::ClaimType;
    forbid_aud_nested_array: r#"{"aud":[["a"]]}"# => Error::ClaimType;
    forbid_jti_as_number: r#"{"jti":7}"# => Error::ClaimType;
    forbid_scope_as_object: r#"{"scope":{"read":true}}"# => Error::ClaimType;
    first_type_error_wins: r#"{"iss":1,"exp":"x"}"# => Error::ClaimType;
}

#[test]
fn custom_claims_through_members_and_get() {
    let t = with_claims(r#"{"sub":"u","roles":["admin","dev"],"tenant":{"id":42},"n":-1.5,"ok":false,"z":null}"#);
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    let t = parse(t.as_bytes(), &mut buf).unwrap();
    let c = t.claims().unwrap();
    let roles = c.get("roles").unwrap();
    assert_eq!(roles.kind(), ValueKind::Array);
    assert_eq!(roles.as_json(), r#"["admin","dev"]"#);
    let roles: Vec<String> = roles.as_array().unwrap().map(|v| v.as_str().unwrap().to_string()).collect();
    assert_eq!(roles, ["admin", "dev"]);
    let tenant = c.get("tenant").unwrap();
    let (name, id) = tenant.as_object().unwrap().next().unwrap();
    assert_eq!((name.to_string().as_str(), id.as_json()), ("id", "42"));
    assert_eq!(c.get("n").unwrap().kind(), ValueKind::Number);
    assert_eq!(c.get("ok").unwrap().as_bool(), Some(false));
    assert!(c.get("z").unwrap().is_null());
    assert!(c.get("missing").is_none());
    // The raw JSON of the payload is there for serde after verification.
    let v: serde_json::Value = serde_json::from_str(c.json()).unwrap();
    assert_eq!(v["tenant"]["id"], 42);
}

#[test]
fn header_members_include_unknown_ones() {
    let t = token(r#"{"alg":"HS256","x5t#S256":"abc","custom":[1,2]}"#, "{}");
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    let t = parse(t.as_bytes(), &mut buf).unwrap();
    assert_eq!(t.header().members().count(), 3);
    assert_eq!(t.header().get("custom").unwrap().as_json(), "[1,2]");
}

#[test]
fn parse_str_is_parse_of_the_bytes() {
    let token = with_claims(r#"{"iss":"joe"}"#);
    let mut a = [0u8; DEFAULT_BUFFER_LEN];
    let mut b = [0u8; DEFAULT_BUFFER_LEN];
    let from_str = jwtgate_parse::parse_str(&token, &mut a).unwrap();
    let from_bytes = parse(token.as_bytes(), &mut b).unwrap();
    assert_eq!(from_str.signing_input(), from_bytes.signing_input());
    assert_eq!(from_str.claims().unwrap().iss(), from_bytes.claims().unwrap().iss());
}

#[test]
fn parse_accepts_str_bytes_and_borrows_input() {
    let owned = with_claims(r#"{"iss":"joe"}"#);
    let mut buf = vec![0u8; jwtgate_parse::buffer_len_for(owned.len())];
    let t = parse(owned.as_bytes(), &mut buf).unwrap();
    let range = owned.as_bytes().as_ptr_range();
    assert!(range.contains(&t.signing_input().as_ptr()));
}

/// A view detached from its text and attached to a copy of it is the view
/// the parser gives for that text: every accessor agrees.
#[test]
fn detached_views_attach_to_a_copy_unchanged() {
    let header = r#"{"alg":"ES256","kid":"k\u0031","typ":"at+jwt","cty":"x","crit":["exp"],"b64":true}"#;
    let claims = r#"{"iss":"https://i","sub":"s\"q","aud":["a","b"],"exp":1700000300,"nbf":1.5,"iat":1700000000,"jti":"j","client_id":"c","scope":"r w","scp":["x"],"n":{"deep":[1,2]}}"#;
    let token = token(header, claims);
    let mut buf = [0u8; 1024];
    let parsed = jwtgate_parse::parse_str(&token, &mut buf).unwrap();
    let (h, c) = (parsed.header(), parsed.claims().unwrap());
    let (dh, dc) = (h.detach().unwrap(), c.detach().unwrap());
    assert_eq!((dh.len(), dc.len()), (header.len(), claims.len()));
    let (header_copy, claims_copy) = (String::from(h.json()), String::from(c.json()));
    let (h2, c2) = (dh.attach(&header_copy).unwrap(), dc.attach(&claims_copy).unwrap());
    // The views point into the copies, and read the same.
    assert!(std::ptr::eq(h2.json(), header_copy.as_str()));
    assert_eq!(format!("{h:?}"), format!("{h2:?}"));
    assert_eq!(format!("{c:?}"), format!("{c2:?}"));
    assert_eq!(h2.kid().unwrap(), "k1");
    assert_eq!(c2.sub().unwrap(), "s\"q");
    assert_eq!(c2.aud().unwrap().iter().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(c2.get("n").unwrap().as_json(), r#"{"deep":[1,2]}"#);
    assert_eq!(c2.exp(), c.exp());
    // A copy of another length is refused.
    assert!(dc.attach(&claims_copy[1..]).is_none());
    assert!(dh.attach("").is_none());
}
