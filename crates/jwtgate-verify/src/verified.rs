//! The proof type: only the verifier can make one.

use std::borrow::Cow;

use jwtgate_parse::{Claims, Header, JsonStr};
use serde::de::DeserializeOwned;

use crate::algorithm::Algorithm;
use crate::error::Error;

/// A token whose signature and claims passed every check of the verifier
/// that returned it. There is no other way to construct one, so code that
/// holds a `Verified` cannot have skipped a check.
///
/// Everything is borrowed from the token and the [`Scratch`](crate::Scratch)
/// buffer: no allocation until [`Verified::claims_as`] deserializes.
#[derive(Clone, Copy, Debug)]
pub struct Verified<'a> {
    alg: Algorithm,
    header: Header<'a>,
    claims: Claims<'a>,
    /// The id of the key that verified the signature (for the token cache).
    key: u64,
}

impl<'a> Verified<'a> {
    pub(crate) const fn new(alg: Algorithm, header: Header<'a>, claims: Claims<'a>, key: u64) -> Self {
        Self { alg, header, claims, key }
    }

    /// The id of the key that verified the signature.
    pub(crate) const fn key_id(&self) -> u64 {
        self.key
    }

    /// The algorithm the signature was verified with.
    #[must_use]
    pub const fn alg(&self) -> Algorithm {
        self.alg
    }

    /// The `kid` of the token's header.
    #[must_use]
    pub const fn kid(&self) -> Option<JsonStr<'a>> {
        self.header.kid()
    }

    /// The verified header.
    #[must_use]
    pub const fn header(&self) -> &Header<'a> {
        &self.header
    }

    /// The verified registered claims (`iss`, `sub`, `aud`, `exp`, ...),
    /// and every other claim as raw JSON through [`Claims::get`].
    #[must_use]
    pub const fn claims(&self) -> &Claims<'a> {
        &self.claims
    }

    /// `sub`, the subject, if present.
    #[must_use]
    pub const fn subject(&self) -> Option<JsonStr<'a>> {
        self.claims.sub()
    }

    /// Deserializes the claims into your own type (serde), after every
    /// check has passed. Registered claims may be part of `T` too.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidClaim`] if the claims do not fit `T`; the message
    /// names no claim value.
    pub fn claims_as<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_str(self.claims.json()).map_err(|_| Error::InvalidClaim(Cow::Borrowed("custom claims")))
    }
}
