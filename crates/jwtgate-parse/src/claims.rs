//! The claims view (RFC 7519 section 4.1, plus `scope`/`scp`/`client_id`).

use crate::json::{Members, RawValue, ValueKind};
use crate::name::pack;
use crate::str_list::{StrList, str_list};
use crate::{Error, JsonStr, Limits, NumericDate, object};

/// The decoded, validated claims of a token.
///
/// The payload's JSON syntax (and duplicate names) are checked when the token
/// is parsed. The *types* of registered claims are checked in the same pass,
/// but a wrong type is only reported by [`Token::claims`](crate::Token::claims),
/// so that a verifier can check the signature first and never report on the
/// claims of a token it has not authenticated.
#[derive(Clone, Copy, Debug)]
pub struct Claims<'a> {
    json: &'a str,
    iss: Option<JsonStr<'a>>,
    sub: Option<JsonStr<'a>>,
    aud: Option<StrList<'a>>,
    exp: Option<NumericDate>,
    nbf: Option<NumericDate>,
    iat: Option<NumericDate>,
    jti: Option<JsonStr<'a>>,
    client_id: Option<JsonStr<'a>>,
    scope: Option<StrList<'a>>,
    scp: Option<StrList<'a>>,
}

/// The claims, or the first type error found in them.
pub(crate) type Deferred<'a> = Result<Claims<'a>, Error>;

impl<'a> Claims<'a> {
    /// Scans the payload. The outer `Result` is for syntax (fail now), the
    /// inner one for claim types (reported after the signature check).
    pub(crate) fn parse(json: &'a str, limits: &Limits) -> Result<Deferred<'a>, Error> {
        let mut claims = Claims {
            json,
            iss: None,
            sub: None,
            aud: None,
            exp: None,
            nbf: None,
            iat: None,
            jti: None,
            client_id: None,
            scope: None,
            scp: None,
        };
        let mut type_error = None;
        object::scan(json, limits, |member, value| {
            if let Err(e) = claims.set(member, value) {
                type_error.get_or_insert(e);
            }
            Ok(())
        })?;
        Ok(match type_error {
            Some(e) => Err(e),
            None => Ok(claims),
        })
    }

    // Once per member of every token: inlined into the scan (~1% of a parse).
    #[inline(always)]
    fn set(&mut self, name: u128, value: RawValue<'a>) -> Result<(), Error> {
        const ISS: u128 = pack(b"iss");
        const SUB: u128 = pack(b"sub");
        const AUD: u128 = pack(b"aud");
        const EXP: u128 = pack(b"exp");
        const NBF: u128 = pack(b"nbf");
        const IAT: u128 = pack(b"iat");
        const JTI: u128 = pack(b"jti");
        const CLIENT_ID: u128 = pack(b"client_id");
        const SCOPE: u128 = pack(b"scope");
        const SCP: u128 = pack(b"scp");
        let string = || value.as_str().ok_or(Error::ClaimType);
        let list = || str_list(value, Error::ClaimType);
        match name {
            ISS => self.iss = Some(string()?),
            SUB => self.sub = Some(string()?),
            AUD => self.aud = Some(list()?),
            EXP => self.exp = Some(numeric_date(value)?),
            NBF => self.nbf = Some(numeric_date(value)?),
            IAT => self.iat = Some(numeric_date(value)?),
            JTI => self.jti = Some(string()?),
            CLIENT_ID => self.client_id = Some(string()?),
            SCOPE => self.scope = Some(list()?),
            SCP => self.scp = Some(list()?),
            _ => {}
        }
        Ok(())
    }

    /// The decoded payload JSON, for deserializing custom claims.
    #[must_use]
    pub const fn json(&self) -> &'a str {
        self.json
    }

    /// The same view over `json`, another copy of the text it was parsed
    /// from (see [`crate::rebase`]); `None` if the lengths differ.
    pub(crate) fn rebase<'b>(&self, json: &'b str) -> Option<Claims<'b>> {
        use crate::rebase::opt;
        let from = self.json;
        if json.len() != from.len() {
            return None;
        }
        let s = |v: JsonStr<'a>| v.rebased(from, json);
        let l = |v: StrList<'a>| v.rebased(from, json);
        Some(Claims {
            json,
            iss: opt(self.iss, s)?,
            sub: opt(self.sub, s)?,
            aud: opt(self.aud, l)?,
            exp: self.exp,
            nbf: self.nbf,
            iat: self.iat,
            jti: opt(self.jti, s)?,
            client_id: opt(self.client_id, s)?,
            scope: opt(self.scope, l)?,
            scp: opt(self.scp, l)?,
        })
    }

    /// `iss`, the issuer.
    #[must_use]
    pub const fn iss(&self) -> Option<JsonStr<'a>> {
        self.iss
    }

    /// `sub`, the subject.
    #[must_use]
    pub const fn sub(&self) -> Option<JsonStr<'a>> {
        self.sub
    }

    /// `aud`, the audience: one string or an array of strings.
    #[must_use]
    pub const fn aud(&self) -> Option<StrList<'a>> {
        self.aud
    }

    /// `exp`, the expiration time.
    #[must_use]
    pub const fn exp(&self) -> Option<NumericDate> {
        self.exp
    }

    /// `nbf`, the time before which the token must not be accepted.
    #[must_use]
    pub const fn nbf(&self) -> Option<NumericDate> {
        self.nbf
    }

    /// `iat`, the time the token was issued.
    #[must_use]
    pub const fn iat(&self) -> Option<NumericDate> {
        self.iat
    }

    /// `jti`, the token's unique identifier.
    #[must_use]
    pub const fn jti(&self) -> Option<JsonStr<'a>> {
        self.jti
    }

    /// `client_id` (RFC 8693 section 4.3, RFC 9068 section 2.2).
    #[must_use]
    pub const fn client_id(&self) -> Option<JsonStr<'a>> {
        self.client_id
    }

    /// `scope`: usually one space-separated string (RFC 8693 section 4.2),
    /// sometimes an array of strings.
    #[must_use]
    pub const fn scope(&self) -> Option<StrList<'a>> {
        self.scope
    }

    /// `scp`: the scopes as some providers name them (string or array).
    #[must_use]
    pub const fn scp(&self) -> Option<StrList<'a>> {
        self.scp
    }

    /// Every top-level member as `(name, value)`, in document order: the
    /// way to read custom claims without allocating.
    #[must_use]
    pub fn members(&self) -> Members<'a> {
        Members::new(self.json)
    }

    /// The value of the member whose unescaped name is `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<RawValue<'a>> {
        self.members().find(|(n, _)| n.eq_str(name)).map(|(_, v)| v)
    }
}

fn numeric_date(value: RawValue<'_>) -> Result<NumericDate, Error> {
    match value.kind() {
        ValueKind::Number => NumericDate::from_json_number(value.as_json()),
        _ => Err(Error::NumericDateType),
    }
}
