//! What a verified request carries into the handler.

use std::borrow::Cow;
use std::sync::Arc;

use jwtgate_verify::{Algorithm, JsonStr, Verified};

use crate::rejection::Responder;

/// What [`JwtAuth`](crate::JwtAuth) leaves in the extensions of every
/// request it lets through (accepted, anonymous or skipped), for the layers
/// and extractors behind it. Private to the crate: nothing outside can
/// insert or read it, so it always comes from the auth layer itself.
#[derive(Clone)]
pub(crate) struct AuthContext {
    /// How the auth layer answers refusals (realm, resource metadata,
    /// `Retry-After`, `map_rejection`), so that [`RequireScopes`](crate::RequireScopes)
    /// answers the same way without being told twice, and cannot drift
    /// from it when one of the two is reconfigured.
    pub(crate) responder: Arc<Responder>,
    /// `std::any::type_name` of the claims type `T` the layer stores
    /// (`VerifiedClaims<T>`), so an extractor asking for another `T` can
    /// name both types.
    #[cfg_attr(not(feature = "axum"), allow(dead_code, reason = "read by the axum extractors only"))]
    pub(crate) claims_type: &'static str,
}

/// The default custom-claims type: every claim as JSON.
pub type JsonMap = serde_json::Map<String, serde_json::Value>;

/// The registered claims (RFC 7519 4.1, RFC 9068) of a verified token,
/// owned so they outlive the request headers. Cheap to clone (one
/// reference count).
///
/// Inserted into the request extensions by [`JwtAuth`](crate::JwtAuth) for
/// every request that presented a valid token, next to
/// [`VerifiedClaims`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisteredClaims(Arc<Registered>);

#[derive(Debug, PartialEq, Eq)]
struct Registered {
    alg: Algorithm,
    kid: Option<String>,
    iss: Option<String>,
    sub: Option<String>,
    aud: Vec<String>,
    exp: i64,
    nbf: Option<i64>,
    iat: Option<i64>,
    jti: Option<String>,
    client_id: Option<String>,
    /// Space-separated, no empty entries.
    scopes: String,
}

fn owned(s: JsonStr<'_>) -> String {
    s.as_str().map_or_else(|| s.chars().collect(), str::to_owned)
}

impl RegisteredClaims {
    /// Copies the registered claims out of a verification result.
    #[must_use]
    pub fn from_verified(v: &Verified<'_>) -> Self {
        let c = v.claims();
        // `scope` (RFC 8693/9068, space-separated) wins over `scp` (an
        // array, as Entra ID and Okta send it) when a token has both.
        // Each string is split at spaces (RFC 6749 3.3), so the one-string
        // form and the array form read the same; kept as one string.
        let mut scopes = String::new();
        for part in c.scope().or_else(|| c.scp()).iter().flat_map(|l| l.iter()) {
            let text: Cow<'_, str> = part.as_str().map_or_else(|| Cow::Owned(part.chars().collect()), Cow::Borrowed);
            for scope in text.split(' ').filter(|p| !p.is_empty()) {
                if !scopes.is_empty() {
                    scopes.push(' ');
                }
                scopes.push_str(scope);
            }
        }
        Self(Arc::new(Registered {
            alg: v.alg(),
            kid: v.kid().map(owned),
            iss: c.iss().map(owned),
            sub: c.sub().map(owned),
            aud: c.aud().map(|l| l.iter().map(owned).collect()).unwrap_or_default(),
            // The verifier requires `exp`; 0 is unreachable for a `Verified`.
            exp: c.exp().map_or(0, |d| d.floor()),
            nbf: c.nbf().map(|d| d.ceil()),
            iat: c.iat().map(|d| d.floor()),
            jti: c.jti().map(owned),
            client_id: c.client_id().map(owned),
            scopes,
        }))
    }

    /// The algorithm the signature was verified with.
    #[must_use]
    pub fn alg(&self) -> Algorithm {
        self.0.alg
    }

    /// The header `kid`.
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.0.kid.as_deref()
    }

    /// `iss`.
    #[must_use]
    pub fn issuer(&self) -> Option<&str> {
        self.0.iss.as_deref()
    }

    /// `sub`.
    #[must_use]
    pub fn subject(&self) -> Option<&str> {
        self.0.sub.as_deref()
    }

    /// `aud`, as a list (a single string becomes one element).
    #[must_use]
    pub fn audience(&self) -> &[String] {
        &self.0.aud
    }

    /// `exp`, in Unix seconds.
    #[must_use]
    pub fn expires_at(&self) -> i64 {
        self.0.exp
    }

    /// `nbf`, in Unix seconds.
    #[must_use]
    pub fn not_before(&self) -> Option<i64> {
        self.0.nbf
    }

    /// `iat`, in Unix seconds.
    #[must_use]
    pub fn issued_at(&self) -> Option<i64> {
        self.0.iat
    }

    /// `jti`.
    #[must_use]
    pub fn jwt_id(&self) -> Option<&str> {
        self.0.jti.as_deref()
    }

    /// `client_id` (RFC 9068).
    #[must_use]
    pub fn client_id(&self) -> Option<&str> {
        self.0.client_id.as_deref()
    }

    /// The granted scopes: `scope` split at spaces, or else the `scp` array.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.0.scopes.split(' ').filter(|s| !s.is_empty())
    }

    /// Whether every scope in `required` was granted.
    #[must_use]
    pub fn has_scopes<S: AsRef<str>>(&self, required: &[S]) -> bool {
        required.iter().all(|want| self.scopes().any(|have| have == want.as_ref()))
    }
}

/// The claims of a verified token: the registered ones, plus every claim
/// deserialized into your type `T` (by default a JSON map).
///
/// Inserted into the request extensions by [`JwtAuth`](crate::JwtAuth).
/// Read it with `req.extensions().get::<VerifiedClaims<T>>()`, or, with the
/// `axum` feature, as an extractor.
#[derive(Clone, Debug)]
pub struct VerifiedClaims<T = JsonMap> {
    registered: RegisteredClaims,
    custom: T,
}

impl<T> VerifiedClaims<T> {
    /// Joins the two halves (done by the middleware after verification).
    pub(crate) const fn new(registered: RegisteredClaims, custom: T) -> Self {
        Self { registered, custom }
    }

    /// The registered claims.
    #[must_use]
    pub const fn registered(&self) -> &RegisteredClaims {
        &self.registered
    }

    /// The claims as your type.
    #[must_use]
    pub const fn custom(&self) -> &T {
        &self.custom
    }

    /// The claims as your type, by value.
    #[must_use]
    pub fn into_custom(self) -> T {
        self.custom
    }
}
