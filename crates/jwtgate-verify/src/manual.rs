//! Design rationale: the JWT attacks that exist, how each is prevented
//! here, and why each default is what it is.
//!
//! # Attacks and defences
//!
//! | attack | defence in jwtgate |
//! | --- | --- |
//! | **`alg: none`**: strip the signature and declare the token unsecured | [`Algorithm`](crate::Algorithm) has no `none`; the parser refuses an empty signature; any `alg` spelling outside the allow-list is `unsupported_alg` |
//! | **HS/RS key confusion**: sign with HMAC using the issuer's *public* RSA key as the secret | a [`VerifyingKey`](crate::VerifyingKey) belongs to one [`KeyFamily`](crate::KeyFamily) decided by its type; an HS256 token selecting an RSA key is `key_alg_mismatch` before any cryptography; there is no API that turns public-key bytes into an HMAC secret implicitly |
//! | **Embedded keys** (`jwk`, `jku`, `x5u`, `x5c` headers): the token brings its own key | keys come only from the verifier's configuration or the issuer's JWKS; those headers are reported by the parser and never read |
//! | **Algorithm substitution across families** | the allow-list is the verifier's, not the token's; a key bound to an `alg` (JWK `alg`) verifies only that one; each ECDSA curve is a family of its own (a P-384 key never verifies ES256 or ES512) |
//! | **Duplicate claims** (`{"sub":"alice","sub":"admin"}`): the verifier and the application read different values | the parser rejects duplicate top-level names, compared after unescaping |
//! | **Parser differentials** (padding, whitespace, non-canonical base64, comments, trailing garbage) | one canonical encoding of each part; strict RFC 8259 JSON; fuzzed against serde_json (an ECDSA signature itself has two valid values: see malleability below) |
//! | **`crit` smuggling**: an extension the verifier ignores changes semantics | any `crit`, and any `b64`, is `unsupported_crit` (RFC 7515 4.1.11, RFC 7797) |
//! | **Weak keys**: RSA-1024, short HMAC secrets, small-order Ed25519 points, off-curve EC points | refused when the key is loaded; Ed25519 verification is strict (canonical `S`) |
//! | **Non-canonical Ed25519 keys** (y >= p, or a sign bit on x = 0): a second spelling of a point, which one backend may load and another refuse | refused, with every small-order encoding, by one check on the key's bytes before either backend sees it, so the keys a set yields never depend on the backend |
//! | **ECDSA oddities**: DER signatures, `r = s = 0` | only the fixed-length `r || s` of the curve is accepted (64, 96 or 132 bytes for ES256, ES384, ES512); zero scalars are rejected by the signature parser |
//! | **Signature malleability**: from a valid ES256, ES384 or ES512 token anyone can make a second, different one with the same header and claims, since (r, n - s) verifies whenever (r, s) does | accepted on purpose, on both backends: refusing high `S` would refuse about half the tokens of issuers that do not normalise it. Nothing in jwtgate keys a security decision on the token's bytes: revocation reads claims, and a verified-token cache keyed on the bytes stays correct because a twin is itself a valid token with the same claims. Replay defences must key on claims (`jti`), not on the token. (Ed25519 `S + L` and non-canonical base64url are refused: those are not valid tokens) |
//! | **Symmetric keys in a public JWKS** | an `oct` key from a [`KeyOrigin::Remote`](crate::KeyOrigin) set is skipped |
//! | **Cross-issuer tokens** | [`IssuerRouter`](crate::IssuerRouter) picks the verifier by `iss`, and that verifier checks the signature with its own issuer's keys only |
//! | **Confused deputy** (a token for service A replayed at B) | audience check on by default; switching it off is `insecure_skip_audience_check` |
//! | **Timing oracles on HMAC** | comparison is constant time; every crypto failure is the same `bad_signature` |
//! | **Oversized or deeply nested tokens** (DoS) | 8 KiB default limit checked first, JSON depth 32, at most 128 top-level members, at most [`MAX_CANDIDATE_KEYS`](crate::MAX_CANDIDATE_KEYS) signature checks per token |
//! | **Key-source refreshes on demand** (tokens that make the verifier fetch keys) | a `kid` longer than [`MAX_KID_BYTES`](crate::MAX_KID_BYTES) (unescaped) names no key, so it is `key_not_found` without asking the key source to refresh, however it is spelled |
//! | **Claims before signature** (reporting on, or deserializing, forged claims) | claim types and values are checked only after the signature; [`Verified`](crate::Verified) cannot be built otherwise |
//!
//! # Defaults
//!
//! - **Leeway 30 s, at most 300 s.** Clocks of well-run hosts agree within
//!   a second or two; 30 s absorbs a bad NTP day. More than five minutes
//!   would quietly extend the lifetime of every token, and short lifetimes
//!   are how access tokens are revoked.
//! - **`exp` required.** A token without an expiry is valid forever.
//! - **Issuer and audience required** unless switched off by methods named
//!   `insecure_*`: without them any token from the same key source passes.
//! - **8 KiB token limit.** Real access tokens are 1 to 3 KiB; 8 KiB is also
//!   a common HTTP header line limit. At most 16 KiB can be configured.
//! - **Fractional NumericDates round toward rejection**: `exp` down,
//!   `nbf` and `iat` up.
//! - **Without `kid`, at most three keys are tried**, so a kid-less token
//!   costs at most three signature checks.
