//! Arbitrary bytes as a token: the parser must never panic; when it accepts,
//! every accessor works, and re-encoding the decoded parts reproduces the
//! input exactly (base64url is canonical, so a token has one spelling).
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut buf = [0u8; jwtgate_parse::DEFAULT_BUFFER_LEN];
    let Ok(token) = jwtgate_parse::parse(data, &mut buf) else { return };
    let h = token.header();
    let header_json = h.json();
    let _ = (h.alg().to_string(), h.kid(), h.typ(), h.cty(), h.b64(), h.has_embedded_key());
    if let Some(crit) = h.crit() {
        assert!(!crit.is_empty());
        crit.iter().for_each(|s| drop(s.to_string()));
    }
    for (name, value) in h.members() {
        let _ = (name.unescaped_len(), value.as_json());
    }
    let payload_json = match token.claims() {
        Ok(c) => {
            let _ = (c.iss(), c.sub(), c.exp(), c.nbf(), c.iat(), c.jti(), c.client_id());
            for list in [c.aud(), c.scope(), c.scp()].into_iter().flatten() {
                assert_eq!(list.iter().count(), list.len());
            }
            let mut out = [0u8; 64];
            for (name, value) in c.members() {
                let _ = name.unescape_into(&mut out);
                if let Some(elements) = value.as_array() {
                    elements.for_each(|e| drop(e.as_json()));
                }
            }
            c.json()
        }
        Err(_) => {
            // Claim type errors are deferred, but the payload is valid JSON
            // (serde_json refuses numbers beyond f64, which RFC 8259 allows).
            let text = std::str::from_utf8(data).unwrap_or_default();
            let payload_b64 = text.split('.').nth(1).unwrap_or_default();
            let decoded = URL_SAFE_NO_PAD.decode(payload_b64).expect("accepted payload is base64url");
            if let Err(e) = serde_json::from_slice::<serde_json::Value>(&decoded) {
                assert!(e.to_string().contains("number out of range"), "accepted invalid JSON: {e}");
            }
            return;
        }
    };
    let rebuilt = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header_json),
        URL_SAFE_NO_PAD.encode(payload_json),
        URL_SAFE_NO_PAD.encode(token.signature())
    );
    assert_eq!(rebuilt.as_bytes(), data, "accepted token must re-encode to itself");
});
