//! Splitting a compact JWS and decoding its three parts.

use crate::base64url;
use crate::claims::{Claims, Deferred};
use crate::{Error, Header, Limits, swar};

/// A parsed, **unverified** compact JWS.
///
/// Everything in it is borrowed from the input token and from the caller's
/// scratch buffer. Nothing here has been authenticated: the header is safe
/// to read for choosing a key, the claims only after the signature over
/// [`Token::signing_input`] has been checked.
#[derive(Clone, Copy, Debug)]
pub struct Token<'a> {
    signing_input: &'a [u8],
    header: Header<'a>,
    claims: Deferred<'a>,
    signature: &'a [u8],
}

impl<'a> Token<'a> {
    pub(crate) fn parse(token: &'a [u8], buf: &'a mut [u8], limits: &Limits) -> Result<Self, Error> {
        if token.len() > limits.max_token_bytes {
            return Err(Error::TokenTooLarge);
        }
        let (header_b64, rest) = split_dot(token).ok_or(Error::TooFewParts)?;
        // The signature is split off at the last dot, scanning backward
        // over it alone, not forward over the much longer payload. A token
        // with more than two dots then has them in `payload_b64`, which
        // cannot decode: so on success there were exactly two, and on
        // failure the dot count, which the rules check first, decides.
        let last = swar::rposition_eq(rest, b'.').ok_or(Error::TooFewParts)?;
        let (payload_b64, signature_b64) =
            (rest.get(..last).unwrap_or_default(), rest.get(last + 1..).unwrap_or_default());
        Self::from_parts(token, [header_b64, payload_b64, signature_b64], buf, limits).map_err(|e| {
            // JWE compact serialization has exactly five parts (RFC 7516
            // section 7.1); say so, rather than a generic "too many".
            match payload_b64.iter().filter(|&&b| b == b'.').count() {
                0 => e,
                2 => Error::Encrypted,
                _ => Error::TooManyParts,
            }
        })
    }

    fn from_parts(token: &'a [u8], parts: [&[u8]; 3], buf: &'a mut [u8], limits: &Limits) -> Result<Self, Error> {
        let [header_b64, payload_b64, signature_b64] = parts;
        if header_b64.is_empty() {
            return Err(Error::EmptyHeader);
        }
        if payload_b64.is_empty() {
            return Err(Error::EmptyPayload);
        }
        if signature_b64.is_empty() {
            return Err(Error::EmptySignature);
        }
        let signing_input = token.get(..header_b64.len() + 1 + payload_b64.len()).ok_or(Error::TooFewParts)?;

        let (header_buf, rest) = split_for(buf, header_b64)?;
        let (payload_buf, signature_buf) = split_for(rest, payload_b64)?;
        let header_json = utf8(base64url::decode(header_b64, header_buf)?)?;
        let payload_json = utf8(base64url::decode(payload_b64, payload_buf)?)?;
        let signature = base64url::decode(signature_b64, signature_buf)?;

        let header = Header::parse(header_json, limits)?;
        let claims = Claims::parse(payload_json, limits)?;
        Ok(Self { signing_input, header, claims, signature })
    }

    /// The header, validated and ready for key selection.
    #[must_use]
    pub const fn header(&self) -> &Header<'a> {
        &self.header
    }

    /// The claims view.
    ///
    /// # Errors
    ///
    /// The first claim type error found while parsing ([`Error::ClaimType`],
    /// [`Error::NumericDateType`], [`Error::NumericDateRange`]). It is held
    /// back until this call so that a verifier can check the signature first.
    pub const fn claims(&self) -> Result<Claims<'a>, Error> {
        self.claims
    }

    /// The bytes the signature covers: `BASE64URL(header) '.' BASE64URL(payload)`.
    #[must_use]
    pub const fn signing_input(&self) -> &'a [u8] {
        self.signing_input
    }

    /// The decoded signature.
    #[must_use]
    pub const fn signature(&self) -> &'a [u8] {
        self.signature
    }
}

fn split_dot(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = swar::position(bytes, |word| swar::eq_lanes(word, b'.'), |b| b == b'.')?;
    Some((bytes.get(..at)?, bytes.get(at + 1..)?))
}

/// Splits off the front of `buf` that exactly fits the decoding of `encoded`.
fn split_for<'b>(buf: &'b mut [u8], encoded: &[u8]) -> Result<(&'b mut [u8], &'b mut [u8]), Error> {
    let len = base64url::checked_decoded_len(encoded)?;
    buf.split_at_mut_checked(len).ok_or(Error::BufferTooSmall)
}

fn utf8(bytes: &[u8]) -> Result<&str, Error> {
    core::str::from_utf8(bytes).map_err(|_| Error::InvalidUtf8)
}
