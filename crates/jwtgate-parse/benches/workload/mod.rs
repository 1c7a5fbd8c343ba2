//! The benchmark's token and the work done on it, shared by
//! `benches/parse.rs` and `examples/parse_loop.rs` so that the timing and
//! the instruction count measure the same thing.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwtgate_parse::parse;

/// A realistic HS256 access token of about 450 bytes (RFC 9068 shape).
pub(crate) fn typical_token() -> String {
    let header = r#"{"alg":"HS256","typ":"at+jwt","kid":"2024-11-rotation-a"}"#;
    let payload = r#"{"iss":"https://auth.example.com/realms/prod","sub":"5f1c2e9a-0d4b-4e8a-9b1f-3c2d7e6a8b90","aud":"orders-api","exp":1732277400,"nbf":1732276800,"iat":1732276800,"jti":"b1e7c3d2-98f4-4a6e-a1c0-7d5e2f3b4c6a","client_id":"checkout-service","scope":"orders:read orders:write"}"#;
    let sig = [0x5au8; 32];
    format!("{}.{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(sig))
}

/// Parses `token` and reads the header and every standard claim.
pub(crate) fn read_everything(token: &[u8], buf: &mut [u8]) -> usize {
    let Ok(t) = parse(token, buf) else { return 0 };
    let h = t.header();
    let mut n = h.alg().raw().len() + h.kid().map_or(0, |k| k.raw().len()) + h.typ().map_or(0, |k| k.raw().len());
    if let Ok(c) = t.claims() {
        n += c.iss().map_or(0, |s| s.raw().len());
        n += c.sub().map_or(0, |s| s.raw().len());
        n += c.aud().map_or(0, |a| usize::from(a.contains("orders-api")));
        n += c.exp().map_or(0, |d| d.floor().count_ones() as usize);
        n += c.nbf().map_or(0, |d| d.floor().count_ones() as usize);
        n += c.iat().map_or(0, |d| d.floor().count_ones() as usize);
        n += c.jti().map_or(0, |s| s.raw().len());
        n += c.client_id().map_or(0, |s| s.raw().len());
        n += c.scope().map_or(0, |s| s.len());
    }
    n + t.signature().len()
}
