//! An immutable set of keys, shared cheaply, with key selection.

use std::sync::Arc;

use serde_json::Value;

use crate::algorithm::Algorithm;
use crate::error::{Error, KeyError};
use crate::key::VerifyingKey;

/// How many keys are tried for one token when it has no `kid` (or several
/// keys share its `kid`). Identity providers that omit `kid` publish one or
/// two keys during a rotation; three bounds the work an attacker can cause
/// with a kid-less token to three signature checks.
pub const MAX_CANDIDATE_KEYS: usize = 3;

/// The longest `kid` (in bytes, unescaped) a token can name. A token with
/// a longer one is refused as `key_not_found` before any lookup or
/// refresh, however it is spelled (escaped kids are unescaped into a stack
/// buffer of this size), so a key whose kid is longer could never be
/// selected: it is refused when loaded from a JWK.
pub const MAX_KID_BYTES: usize = 256;

/// Where a key set came from: remote sets never yield symmetric keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOrigin {
    /// Configuration of this service (a file, an environment variable).
    Local,
    /// A document fetched from the network (a JWKS URL). An `oct` key there
    /// would let anyone who can read the document mint tokens, so it is
    /// refused.
    Remote,
}

/// A JWKS member that could not be used, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedKey {
    /// Position in the document's `keys` array.
    pub index: usize,
    /// The member's `kid`, if it had a string one.
    pub kid: Option<String>,
    /// Why it was skipped.
    pub reason: KeyError,
}

/// An immutable set of verification keys, cheap to clone (`Arc` inside).
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    keys: Arc<[VerifyingKey]>,
    skipped: Arc<[SkippedKey]>,
}

impl KeySet {
    /// A set of the given keys.
    pub fn new(keys: impl IntoIterator<Item = VerifyingKey>) -> Self {
        Self { keys: keys.into_iter().collect(), skipped: Arc::new([]) }
    }

    /// Parses a local key document in any of the forms operators keep keys
    /// in: a JWKS (`{"keys": [...]}`), a single JWK, or a PEM public key
    /// (SPKI). The form is told by the text, so an error is the one of the
    /// form it is (not of the last one tried).
    ///
    /// # Errors
    ///
    /// [`KeyError`] of the document's form.
    pub fn from_key_document(text: &str) -> Result<Self, KeyError> {
        if text.trim_start().starts_with("-----BEGIN") {
            return VerifyingKey::from_pem(text).map(|k| Self::new([k]));
        }
        let is_jwks = serde_json::from_str::<Value>(text).is_ok_and(|v| v.get("keys").is_some());
        if is_jwks {
            Self::from_jwks_str(text, KeyOrigin::Local)
        } else {
            VerifyingKey::from_jwk_str(text).map(|k| Self::new([k]))
        }
    }

    /// Parses a JWKS document (`{"keys": [...]}`, RFC 7517 section 5).
    ///
    /// A member that cannot be used (an encryption key, an unknown `kty` or
    /// `crv`, malformed, too small, symmetric from a remote source) is
    /// skipped, logged at warn level and listed in [`KeySet::skipped`]; the
    /// others are still usable, so one odd key at the identity provider does
    /// not take the service down.
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidJwk`] if the document is not JSON or has no
    /// `keys` array.
    pub fn from_jwks_str(json: &str, origin: KeyOrigin) -> Result<Self, KeyError> {
        let doc: Value = serde_json::from_str(json).map_err(|e| KeyError::InvalidJwk(e.to_string()))?;
        let Some(Value::Array(members)) = doc.get("keys") else {
            return Err(KeyError::InvalidJwk("a JWKS needs a \"keys\" array".into()));
        };
        let mut keys = Vec::with_capacity(members.len());
        let mut skipped = Vec::new();
        for (index, member) in members.iter().enumerate() {
            let kid = member.get("kid").and_then(Value::as_str).map(str::to_owned);
            let outcome = if origin == KeyOrigin::Remote && member.get("kty").and_then(Value::as_str) == Some("oct") {
                Err(KeyError::SymmetricFromRemote)
            } else {
                VerifyingKey::from_jwk_value(member.clone())
            };
            match outcome {
                Ok(key) => keys.push(key),
                Err(reason) => {
                    tracing::warn!(index, kid = kid.as_deref(), %reason, "skipping unusable JWKS member");
                    skipped.push(SkippedKey { index, kid, reason });
                }
            }
        }
        Ok(Self { keys: keys.into(), skipped: skipped.into() })
    }

    /// The usable keys, in document order.
    #[must_use]
    pub fn keys(&self) -> &[VerifyingKey] {
        &self.keys
    }

    /// The members that were skipped when the set was loaded.
    #[must_use]
    pub fn skipped(&self) -> &[SkippedKey] {
        &self.skipped
    }

    /// Number of usable keys.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// `true` if no key is usable.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The algorithms some key in the set can verify.
    #[must_use]
    pub fn algorithms(&self) -> Vec<Algorithm> {
        Algorithm::ALL.into_iter().filter(|&alg| self.keys.iter().any(|k| k.fits(alg))).collect()
    }

    /// The keys to try for a token with this `kid` and `alg`, at most
    /// [`MAX_CANDIDATE_KEYS`], chosen before any cryptography runs.
    ///
    /// With a `kid`, only keys with exactly that `kid` are considered;
    /// without one, every key. Of those, the ones that fit `alg` are the
    /// candidates.
    ///
    /// # Errors
    ///
    /// [`Error::KeyNotFound`] when no key has the `kid` (or the set is
    /// empty), [`Error::KeyAlgMismatch`] when keys match but none fits `alg`
    /// (an HS256 token naming an RSA key lands here, never in an HMAC check).
    pub(crate) fn candidates<'q>(&self, kid: Option<&'q str>, alg: Algorithm) -> Result<Candidates<'_, 'q>, Error> {
        let named = |k: &&VerifyingKey| kid.is_none_or(|kid| k.kid() == Some(kid));
        if !self.keys.iter().any(|k| named(&k)) {
            return Err(Error::KeyNotFound);
        }
        let mut fitting = self.keys.iter().filter(named).filter(|k| k.fits(alg)).peekable();
        if fitting.peek().is_none() {
            return Err(Error::KeyAlgMismatch);
        }
        Ok(Candidates { keys: &self.keys, kid, alg, next: 0, tried: 0 })
    }
}

/// The keys [`KeySet::candidates`] selected, lazily.
pub(crate) struct Candidates<'k, 'q> {
    keys: &'k [VerifyingKey],
    kid: Option<&'q str>,
    alg: Algorithm,
    next: usize,
    tried: usize,
}

impl<'k> Iterator for Candidates<'k, '_> {
    type Item = &'k VerifyingKey;

    fn next(&mut self) -> Option<&'k VerifyingKey> {
        while self.tried < MAX_CANDIDATE_KEYS {
            let key = self.keys.get(self.next)?;
            self.next += 1;
            if self.kid.is_none_or(|kid| key.kid() == Some(kid)) && key.fits(self.alg) {
                self.tried += 1;
                return Some(key);
            }
        }
        None
    }
}
