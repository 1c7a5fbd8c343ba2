//! Claim validation: time edges exactly at the leeway boundary, issuer,
//! audience, typ, required claims, presets, typed custom claims.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

mod common;

use std::time::Duration;

use common::{AUD, ISS, Issuer, NOW, builder, outcome, verifier_for};
use jwtgate_testkit::alg::Alg;
use jwtgate_verify::{Algorithm, ConfigError, FixedClock, Scratch, Verifier};

fn hs() -> Issuer {
    Issuer::new(Alg::HS256)
}

fn at(issuer: &Issuer, now: i64) -> Verifier {
    builder(Algorithm::HS256).clock(FixedClock(now)).build(issuer.keys()).unwrap()
}

#[test]
fn exp_boundary_with_default_leeway() {
    let issuer = hs();
    let token = issuer.mint(|r| r.ttl = "60".into()); // exp = NOW + 60
    let exp = NOW + 60;
    // RFC 7519 4.1.4: expired when now >= exp (+ leeway 30).
    assert_eq!(outcome(&at(&issuer, exp + 29), &token), Ok(()));
    assert_eq!(outcome(&at(&issuer, exp + 30), &token), Err("expired"));
    let strict = builder(Algorithm::HS256).leeway(Duration::ZERO).clock(FixedClock(exp)).build(issuer.keys()).unwrap();
    assert_eq!(outcome(&strict, &token), Err("expired"));
    let strict =
        builder(Algorithm::HS256).leeway(Duration::ZERO).clock(FixedClock(exp - 1)).build(issuer.keys()).unwrap();
    assert_eq!(outcome(&strict, &token), Ok(()));
}

#[test]
fn nbf_boundary() {
    let issuer = hs();
    let token = issuer.mint(|r| r.nbf = Some((NOW + 100).to_string()));
    // Not yet valid while now < nbf - leeway.
    assert_eq!(outcome(&at(&issuer, NOW + 69), &token), Err("not_yet_valid"));
    assert_eq!(outcome(&at(&issuer, NOW + 70), &token), Ok(()));
}

#[test]
fn iat_boundary() {
    let issuer = hs();
    let token = issuer.mint(|r| r.claims = Some(format!(r#"{{"iat":{}}}"#, NOW + 30)));
    assert_eq!(outcome(&at(&issuer, NOW), &token), Ok(()));
    let token = issuer.mint(|r| r.claims = Some(format!(r#"{{"iat":{}}}"#, NOW + 31)));
    assert_eq!(outcome(&at(&issuer, NOW), &token), Err("issued_in_future"));
}

#[test]
fn fractional_times_round_toward_rejection() {
    let issuer = hs();
    let v = builder(Algorithm::HS256).leeway(Duration::ZERO).clock(FixedClock(NOW)).build(issuer.keys()).unwrap();
    // exp = NOW + 0.5: floor is NOW, and now >= NOW is expired.
    let token = issuer.mint(|r| r.claims = Some(format!(r#"{{"exp":{NOW}.5}}"#)));
    assert_eq!(outcome(&v, &token), Err("expired"));
    let token = issuer.mint(|r| r.claims = Some(format!(r#"{{"exp":{}.5}}"#, NOW + 1)));
    assert_eq!(outcome(&v, &token), Ok(()));
    // nbf = NOW - 0.5 rounds up to NOW: valid at NOW.
    let token = issuer.mint(|r| r.claims = Some(format!(r#"{{"nbf":{}.5}}"#, NOW - 1)));
    assert_eq!(outcome(&v, &token), Ok(()));
    // exp as a float in exponent form.
    let token = issuer.mint(|r| r.claims = Some(r#"{"exp":1.7000003e9}"#.into()));
    assert_eq!(outcome(&v, &token), Ok(()));
}

#[test]
fn exp_is_required_and_must_be_a_number() {
    let issuer = hs();
    let v = verifier_for(&issuer);
    let no_exp = jwtgate_testkit::mint::sign_raw(
        &issuer.written.private_jwk,
        r#"{"alg":"HS256"}"#,
        &format!(r#"{{"iss":"{ISS}","aud":"{AUD}","sub":"u"}}"#),
    )
    .unwrap();
    assert_eq!(outcome(&v, &no_exp), Err("missing_claim"));
    for exp in [r#""1700000300""#, "null", "true", "[1700000300]", "1e400", "9223372036854775808"] {
        // Signed as raw text: serde_json (inside mint) cannot hold 1e400.
        let payload = format!(r#"{{"iss":"{ISS}","aud":"{AUD}","exp":{exp}}}"#);
        let token =
            jwtgate_testkit::mint::sign_raw(&issuer.written.private_jwk, r#"{"alg":"HS256"}"#, &payload).unwrap();
        assert_eq!(outcome(&v, &token), Err("invalid_claim"), "exp {exp}");
    }
}

#[test]
fn issuer_checks() {
    let issuer = hs();
    let v = verifier_for(&issuer);
    assert_eq!(outcome(&v, &issuer.mint(|r| r.iss = "https://other.test".into())), Err("invalid_issuer"));
    assert_eq!(outcome(&v, &issuer.mint(|r| r.iss = format!("{ISS}/"))), Err("invalid_issuer"));
    assert_eq!(outcome(&v, &issuer.mint(|r| r.iss = ISS.to_uppercase())), Err("invalid_issuer"));
    assert_eq!(outcome(&v, &issuer.mint(|r| r.claims = Some(r#"{"iss":null}"#.into()))), Err("invalid_claim"));
    // Escaped but equal.
    assert_eq!(outcome(&v, &issuer.mint(|r| r.claims = Some(r#"{"iss":"https:\/\/issuer.test"}"#.into()))), Ok(()));
    let several = builder(Algorithm::HS256).issuers(["https://a.test", ISS]).build(issuer.keys()).unwrap();
    assert_eq!(outcome(&several, &issuer.token()), Ok(()));
    let skip = Verifier::builder()
        .insecure_skip_issuer_check()
        .audience(AUD)
        .algorithms([Algorithm::HS256])
        .clock(FixedClock(NOW))
        .build(issuer.keys())
        .unwrap();
    assert_eq!(outcome(&skip, &issuer.mint(|r| r.iss = "anyone".into())), Ok(()));
}

#[test]
fn audience_as_string_and_array() {
    let issuer = hs();
    let v = verifier_for(&issuer);
    assert_eq!(outcome(&v, &issuer.token()), Ok(()));
    assert_eq!(outcome(&v, &issuer.mint(|r| r.aud = vec!["x".into(), AUD.into()])), Ok(()));
    assert_eq!(outcome(&v, &issuer.mint(|r| r.aud = vec!["x".into(), "y".into()])), Err("invalid_audience"));
    assert_eq!(outcome(&v, &issuer.mint(|r| r.claims = Some(r#"{"aud":[]}"#.into()))), Err("invalid_audience"));
    assert_eq!(outcome(&v, &issuer.mint(|r| r.claims = Some(r#"{"aud":[1]}"#.into()))), Err("invalid_claim"));
    let no_aud = jwtgate_testkit::mint::sign_raw(
        &issuer.written.private_jwk,
        r#"{"alg":"HS256"}"#,
        &format!(r#"{{"iss":"{ISS}","exp":{}}}"#, NOW + 60),
    )
    .unwrap();
    assert_eq!(outcome(&v, &no_aud), Err("missing_claim"));
}

#[test]
fn typ_comparison_per_rfc7515() {
    let issuer = hs();
    let v = builder(Algorithm::HS256).require_typ("at+jwt").build(issuer.keys()).unwrap();
    for typ in ["at+jwt", "AT+JWT", "application/at+jwt", "Application/At+JWT"] {
        assert_eq!(outcome(&v, &issuer.mint(|r| r.typ = typ.into())), Ok(()), "{typ}");
    }
    for typ in ["JWT", "at+jwt ", "application/jwt", "xapplication/at+jwt"] {
        assert_eq!(outcome(&v, &issuer.mint(|r| r.typ = typ.into())), Err("invalid_typ"), "{typ}");
    }
    assert_eq!(outcome(&v, &issuer.mint(|r| r.typ = String::new())), Err("invalid_typ"));
}

#[test]
fn rfc9068_preset_requires_its_claims_and_refuses_id_tokens() {
    let issuer = hs();
    let v = builder(Algorithm::HS256).rfc9068_access_token().build(issuer.keys()).unwrap();
    let full = issuer.mint(|r| r.claims = Some(r#"{"client_id":"svc"}"#.into()));
    assert_eq!(outcome(&v, &full), Ok(()));
    assert_eq!(outcome(&v, &issuer.token()), Err("missing_claim"), "client_id missing");
    // An OpenID Connect ID token: typ JWT.
    let id_token = issuer.mint(|r| {
        r.typ = "JWT".into();
        r.claims = Some(r#"{"client_id":"svc","nonce":"n"}"#.into());
    });
    assert_eq!(outcome(&v, &id_token), Err("invalid_typ"));
}

#[test]
fn rfc8725_preset_requires_explicit_typing_and_subject() {
    let issuer = hs();
    let v = builder(Algorithm::HS256).rfc8725_bcp("at+jwt").build(issuer.keys()).unwrap();
    assert_eq!(outcome(&v, &issuer.token()), Ok(()));
    assert_eq!(outcome(&v, &issuer.mint(|r| r.typ = "JWT".into())), Err("invalid_typ"));
    let no_sub = jwtgate_testkit::mint::sign_raw(
        &issuer.written.private_jwk,
        r#"{"alg":"HS256","typ":"at+jwt"}"#,
        &format!(r#"{{"iss":"{ISS}","aud":"{AUD}","exp":{}}}"#, NOW + 60),
    )
    .unwrap();
    assert_eq!(outcome(&v, &no_sub), Err("missing_claim"));
}

#[test]
fn required_claims_and_null() {
    let issuer = hs();
    let v = builder(Algorithm::HS256).require_claims(["tenant"]).build(issuer.keys()).unwrap();
    assert_eq!(outcome(&v, &issuer.mint(|r| r.claims = Some(r#"{"tenant":"t1"}"#.into()))), Ok(()));
    assert_eq!(outcome(&v, &issuer.mint(|r| r.claims = Some(r#"{"tenant":null}"#.into()))), Err("missing_claim"));
    let mut scratch = Scratch::new();
    let err = v.verify(&issuer.token(), &mut scratch).unwrap_err();
    assert_eq!(err.to_string(), "required claim \"tenant\" is missing");
}

#[test]
fn max_age_from_iat() {
    let issuer = hs();
    let v = builder(Algorithm::HS256).max_age(Duration::from_secs(600)).build(issuer.keys()).unwrap();
    let old = issuer.mint(|r| {
        r.now = Some(NOW - 631);
        r.ttl = "1h".into();
    });
    assert_eq!(outcome(&v, &old), Err("expired"));
    let recent = issuer.mint(|r| {
        r.now = Some(NOW - 630);
        r.ttl = "1h".into();
    });
    assert_eq!(outcome(&v, &recent), Ok(()));
}

#[test]
fn typed_custom_claims_after_verification() {
    #[derive(serde::Deserialize)]
    struct MyClaims {
        sub: String,
        roles: Vec<String>,
        tenant: Tenant,
    }
    #[derive(serde::Deserialize)]
    struct Tenant {
        id: u32,
    }
    let issuer = hs();
    let v = verifier_for(&issuer);
    let token = issuer.mint(|r| r.claims = Some(r#"{"roles":["admin","dev"],"tenant":{"id":42}}"#.into()));
    let mut scratch = Scratch::new();
    let verified = v.verify(&token, &mut scratch).unwrap();
    let mine: MyClaims = verified.claims_as().unwrap();
    assert_eq!((mine.sub.as_str(), mine.roles.len(), mine.tenant.id), ("user-1", 2, 42));
    assert_eq!(verified.alg(), Algorithm::HS256);
    assert_eq!(verified.kid().unwrap(), issuer.kid());
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code, reason = "only the failure matters")]
    struct Wrong {
        roles: u8,
    }
    assert_eq!(verified.claims_as::<Wrong>().unwrap_err().code(), "invalid_claim");
}

#[test]
fn secure_defaults_are_enforced_by_the_builder() {
    let issuer = hs();
    let keys = || issuer.keys();
    let err = |b: jwtgate_verify::VerifierBuilder| b.build(keys()).unwrap_err();
    assert_eq!(err(Verifier::builder().audience(AUD).algorithms([Algorithm::HS256])), ConfigError::IssuerNotSet);
    assert_eq!(err(Verifier::builder().issuer(ISS).algorithms([Algorithm::HS256])), ConfigError::AudienceNotSet);
    assert_eq!(err(Verifier::builder().issuer(ISS).audience(AUD)), ConfigError::NoAlgorithms);
    assert_eq!(err(builder(Algorithm::HS256).leeway(Duration::from_secs(301))), ConfigError::LeewayTooLarge);
    assert_eq!(
        err(builder(Algorithm::HS256).max_token_bytes(16 * 1024 + 1)),
        ConfigError::MaxTokenBytesTooLarge(16 * 1024)
    );
    assert_eq!(err(builder(Algorithm::HS256).issuer("")), ConfigError::EmptyValue);
    assert!(builder(Algorithm::HS256).leeway(Duration::from_secs(300)).build(keys()).is_ok());
}

#[test]
fn every_rejection_code_is_stable() {
    use jwtgate_verify::Error as E;
    use std::borrow::Cow;
    let table = [
        (E::Malformed(jwtgate_parse::Error::TooFewParts), "malformed"),
        (E::TokenTooLarge, "token_too_large"),
        (E::UnsupportedAlg, "unsupported_alg"),
        (E::KeyNotFound, "key_not_found"),
        (E::KeyAlgMismatch, "key_alg_mismatch"),
        (E::BadSignature, "bad_signature"),
        (E::Expired, "expired"),
        (E::NotYetValid, "not_yet_valid"),
        (E::IssuedInFuture, "issued_in_future"),
        (E::InvalidIssuer, "invalid_issuer"),
        (E::InvalidAudience, "invalid_audience"),
        (E::MissingClaim(Cow::Borrowed("x")), "missing_claim"),
        (E::InvalidClaim(Cow::Borrowed("x")), "invalid_claim"),
        (E::InvalidTyp, "invalid_typ"),
        (E::UnsupportedCrit, "unsupported_crit"),
        (E::Revoked, "revoked"),
        (E::KeySourceUnavailable(Cow::Borrowed("down")), "key_source_unavailable"),
        (E::RevocationUnavailable, "revocation_unavailable"),
    ];
    for (error, code) in &table {
        assert_eq!(error.code(), *code);
        assert_eq!(error.is_retryable(), code.ends_with("_unavailable"));
    }
}

#[test]
fn revocation_hook_sees_only_otherwise_valid_tokens() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    #[derive(Debug)]
    struct Denylist(&'static str, AtomicUsize);
    impl jwtgate_verify::Revocation for Denylist {
        fn is_revoked(&self, _header: &jwtgate_verify::Header<'_>, claims: &jwtgate_verify::Claims<'_>) -> bool {
            self.1.fetch_add(1, Ordering::SeqCst);
            claims.jti().is_some_and(|j| j == self.0)
        }
    }
    let issuer = hs();
    let deny = std::sync::Arc::new(Denylist("leaked-jti", AtomicUsize::new(0)));
    #[derive(Debug)]
    struct Shared(std::sync::Arc<Denylist>);
    impl jwtgate_verify::Revocation for Shared {
        fn is_revoked(&self, header: &jwtgate_verify::Header<'_>, claims: &jwtgate_verify::Claims<'_>) -> bool {
            self.0.is_revoked(header, claims)
        }
    }
    let v = builder(Algorithm::HS256).revocation(Shared(deny.clone())).build(issuer.keys()).unwrap();
    assert_eq!(outcome(&v, &issuer.token()), Ok(()));
    let leaked = issuer.mint(|r| r.claims = Some(r#"{"jti":"leaked-jti"}"#.into()));
    assert_eq!(outcome(&v, &leaked), Err("revoked"));
    // An expired or wrong-audience token never reaches the hook.
    let calls = deny.1.load(Ordering::SeqCst);
    assert_eq!(outcome(&v, &issuer.mint(|r| r.aud = vec!["other".into()])), Err("invalid_audience"));
    assert_eq!(deny.1.load(Ordering::SeqCst), calls);
}

#[test]
fn a_revocation_source_that_cannot_vouch_for_its_rules_is_revocation_unavailable() {
    use jwtgate_verify::{Claims, Header, Revocation, RevocationStatus};
    /// Out of sync with its store: it still refuses what it knows.
    #[derive(Debug)]
    struct OutOfSync;
    impl Revocation for OutOfSync {
        fn is_revoked(&self, _header: &Header<'_>, claims: &Claims<'_>) -> bool {
            claims.jti().is_some_and(|j| j == "leaked-jti")
        }
        fn status(&self, header: &Header<'_>, claims: &Claims<'_>) -> RevocationStatus {
            if self.is_revoked(header, claims) { RevocationStatus::Revoked } else { RevocationStatus::Unavailable }
        }
    }
    let issuer = hs();
    let v = builder(Algorithm::HS256).revocation(OutOfSync).build(issuer.keys()).unwrap();
    let mut scratch = Scratch::new();
    let err = v.verify(&issuer.token(), &mut scratch).unwrap_err();
    assert_eq!(err.code(), "revocation_unavailable");
    assert!(err.is_retryable());
    let leaked = issuer.mint(|r| r.claims = Some(r#"{"jti":"leaked-jti"}"#.into()));
    assert_eq!(outcome(&v, &leaked), Err("revoked"));
    // Anything the token fails first is reported first.
    assert_eq!(outcome(&v, &issuer.mint(|r| r.aud = vec!["other".into()])), Err("invalid_audience"));
}

#[test]
fn empty_typ_or_claim_names_are_configuration_errors() {
    let issuer = Issuer::new(Alg::HS256);
    let empty_typ = builder(issuer.algorithm()).require_typ("").build(issuer.keys());
    assert_eq!(empty_typ.err(), Some(ConfigError::EmptyValue));
    let empty_claim = builder(issuer.algorithm()).require_claims([""]).build(issuer.keys());
    assert_eq!(empty_claim.err(), Some(ConfigError::EmptyValue));
}
