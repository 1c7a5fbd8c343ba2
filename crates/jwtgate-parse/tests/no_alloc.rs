//! The parser must never touch the heap: parse a realistic token, read every
//! view, and count the global allocator's calls (allocation-counter installs
//! a counting global allocator for this test binary).

mod common;

#[test]
fn parse_and_read_everything_without_allocating() {
    let token = common::token(
        r#"{"alg":"RS256","typ":"at+jwt","kid":"2024-\u0031","crit":["x"]}"#,
        r#"{"iss":"https:\/\/id.example.com\/","sub":"248289761001","aud":["api","other"],
            "exp":1700003600,"nbf":1700000000,"iat":1.7e9,"jti":"b7f2c1","client_id":"svc",
            "scope":"openid profile","scp":["a","b"],"tenant":{"id":[1,2,{"x":null}]},"r\u00f4le":"admin"}"#,
    );
    let mut buf = [0u8; jwtgate_parse::DEFAULT_BUFFER_LEN];
    let mut out = [0u8; 64];

    let mut checksum = 0;
    let info = allocation_counter::measure(|| {
        let parsed = jwtgate_parse::parse(token.as_bytes(), &mut buf).unwrap();
        let h = parsed.header();
        checksum = h.alg().unescaped_len() + usize::from(h.kid().unwrap() == "2024-1");
        checksum += h.crit().unwrap().len() + usize::from(h.typ().unwrap().starts_with("at+"));
        let c = parsed.claims().unwrap();
        checksum += c.iss().unwrap().unescape_into(&mut out).unwrap().len();
        checksum += usize::from(c.aud().unwrap().contains("other"));
        checksum += usize::try_from(c.exp().unwrap().floor() - c.nbf().unwrap().ceil()).unwrap();
        checksum += c.iat().unwrap().floor().count_ones() as usize;
        checksum += c.scope().unwrap().iter().count() + c.scp().unwrap().len();
        checksum += usize::from(c.get("rôle").unwrap().as_str().unwrap() == "admin");
        for (name, value) in c.members() {
            checksum += name.chars().count() + value.as_json().len();
            if let Some(array) = value.as_array() {
                checksum += array.count();
            }
        }
        checksum += parsed.signature().len() + parsed.signing_input().len();
    });
    assert!(checksum > 0);
    assert_eq!(info.count_total, 0, "the parser allocated");
}

#[test]
fn rejection_does_not_allocate_either() {
    let token = common::with_claims(r#"{"sub":"a","sub":"b"}"#);
    let mut buf = [0u8; jwtgate_parse::DEFAULT_BUFFER_LEN];
    let mut err = None;
    let info = allocation_counter::measure(|| err = jwtgate_parse::parse(token.as_bytes(), &mut buf).err());
    assert_eq!(err, Some(jwtgate_parse::Error::DuplicateMember));
    assert_eq!(info.count_total, 0);
}
