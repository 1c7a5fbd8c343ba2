//! The JOSE header view (RFC 7515 section 4).

use crate::json::{Members, RawValue, ValueKind};
use crate::name::pack;
use crate::str_list::{StrList, str_list};
use crate::{Error, JsonStr, Limits, object};

/// The decoded, validated JOSE header of a token.
///
/// Registered parameters are checked for their JSON type (a `kid` that is
/// a number is an error, not "no kid"); everything else is validated as
/// JSON and reachable through [`Header::members`].
///
/// The parser has no opinion on which `alg` values are acceptable: `alg` is
/// returned as the raw string, and mapping it to an algorithm (and refusing
/// `none`) is the verifier's job.
#[derive(Clone, Copy, Debug)]
pub struct Header<'a> {
    json: &'a str,
    alg: JsonStr<'a>,
    kid: Option<JsonStr<'a>>,
    typ: Option<JsonStr<'a>>,
    cty: Option<JsonStr<'a>>,
    crit: Option<StrList<'a>>,
    b64: Option<bool>,
    jwk: bool,
    jku: bool,
    x5u: bool,
    x5c: bool,
}

impl<'a> Header<'a> {
    pub(crate) fn parse(json: &'a str, limits: &Limits) -> Result<Self, Error> {
        let mut alg = None;
        let mut header = Header {
            json,
            alg: JsonStr::new("", false),
            kid: None,
            typ: None,
            cty: None,
            crit: None,
            b64: None,
            jwk: false,
            jku: false,
            x5u: false,
            x5c: false,
        };
        object::scan(json, limits, |member, value| {
            const ALG: u128 = pack(b"alg");
            const KID: u128 = pack(b"kid");
            const TYP: u128 = pack(b"typ");
            const CTY: u128 = pack(b"cty");
            const CRIT: u128 = pack(b"crit");
            const B64: u128 = pack(b"b64");
            const JWK: u128 = pack(b"jwk");
            const JKU: u128 = pack(b"jku");
            const X5U: u128 = pack(b"x5u");
            const X5C: u128 = pack(b"x5c");
            let string = || value.as_str().ok_or(Error::HeaderParamType);
            match member {
                ALG => alg = Some(string()?),
                KID => header.kid = Some(string()?),
                TYP => header.typ = Some(string()?),
                CTY => header.cty = Some(string()?),
                CRIT => {
                    let list = match value.kind() {
                        ValueKind::Array => str_list(value, Error::HeaderParamType)?,
                        _ => return Err(Error::HeaderParamType),
                    };
                    if list.is_empty() {
                        return Err(Error::EmptyCrit);
                    }
                    header.crit = Some(list);
                }
                B64 => header.b64 = Some(value.as_bool().ok_or(Error::HeaderParamType)?),
                // Presence is what matters for these: keys named or carried
                // by the token itself are never used, and callers may want
                // to log or refuse tokens that try.
                JWK => header.jwk = true,
                JKU => header.jku = true,
                X5U => header.x5u = true,
                X5C => header.x5c = true,
                _ => {}
            }
            Ok(())
        })?;
        header.alg = alg.ok_or(Error::MissingAlg)?;
        Ok(header)
    }

    /// The decoded header JSON.
    #[must_use]
    pub const fn json(&self) -> &'a str {
        self.json
    }

    /// The same view over `json`, another copy of the text it was parsed
    /// from (see [`crate::rebase`]); `None` if the lengths differ.
    pub(crate) fn rebase<'b>(&self, json: &'b str) -> Option<Header<'b>> {
        use crate::rebase::opt;
        let from = self.json;
        if json.len() != from.len() {
            return None;
        }
        let s = |v: JsonStr<'a>| v.rebased(from, json);
        Some(Header {
            json,
            alg: s(self.alg)?,
            kid: opt(self.kid, s)?,
            typ: opt(self.typ, s)?,
            cty: opt(self.cty, s)?,
            crit: opt(self.crit, |l| l.rebased(from, json))?,
            b64: self.b64,
            jwk: self.jwk,
            jku: self.jku,
            x5u: self.x5u,
            x5c: self.x5c,
        })
    }

    /// `alg`, exactly as written (required, so always present).
    #[must_use]
    pub const fn alg(&self) -> JsonStr<'a> {
        self.alg
    }

    /// `kid`, the key ID.
    #[must_use]
    pub const fn kid(&self) -> Option<JsonStr<'a>> {
        self.kid
    }

    /// `typ`, the media type of the whole token (`JWT`, `at+jwt`, ...).
    #[must_use]
    pub const fn typ(&self) -> Option<JsonStr<'a>> {
        self.typ
    }

    /// `cty`, the media type of the payload (`JWT` for nested tokens).
    #[must_use]
    pub const fn cty(&self) -> Option<JsonStr<'a>> {
        self.cty
    }

    /// `crit`: extension names the recipient must understand. Never empty.
    #[must_use]
    pub const fn crit(&self) -> Option<StrList<'a>> {
        self.crit
    }

    /// `b64` (RFC 7797), if present.
    #[must_use]
    pub const fn b64(&self) -> Option<bool> {
        self.b64
    }

    /// `true` if the header embeds a key (`jwk`).
    #[must_use]
    pub const fn has_jwk(&self) -> bool {
        self.jwk
    }

    /// `true` if the header points at a key set URL (`jku`).
    #[must_use]
    pub const fn has_jku(&self) -> bool {
        self.jku
    }

    /// `true` if the header points at a certificate URL (`x5u`).
    #[must_use]
    pub const fn has_x5u(&self) -> bool {
        self.x5u
    }

    /// `true` if the header embeds a certificate chain (`x5c`).
    #[must_use]
    pub const fn has_x5c(&self) -> bool {
        self.x5c
    }

    /// `true` if the header carries or points at any key material
    /// (`jwk`, `jku`, `x5u` or `x5c`).
    #[must_use]
    pub const fn has_embedded_key(&self) -> bool {
        self.jwk || self.jku || self.x5u || self.x5c
    }

    /// Every top-level member as `(name, value)`, in document order.
    #[must_use]
    pub fn members(&self) -> Members<'a> {
        Members::new(self.json)
    }

    /// The value of the first member whose unescaped name is `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<RawValue<'a>> {
        self.members().find(|(n, _)| n.eq_str(name)).map(|(_, v)| v)
    }
}
