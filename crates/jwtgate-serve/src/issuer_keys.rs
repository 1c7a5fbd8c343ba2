//! One key-source type for every issuer, fixed or fetched, so that the
//! issuers of one route can share an `IssuerRouter` (which holds verifiers
//! of a single resolver type).

use std::ops::Deref;

use jwtgate_jwks::JwksSource;
use jwtgate_verify::{Error, KeyQuery, KeyResolver, KeySet};

/// An issuer's keys: a file loaded at start, or a JWKS source.
#[derive(Clone, Debug)]
pub(crate) enum IssuerKeys {
    Fixed(KeySet),
    Fetched(JwksSource),
}

/// The keys in hand, borrowed from either kind.
pub(crate) enum KeysInHand<'a> {
    Fixed(&'a KeySet),
    Fetched(<JwksSource as KeyResolver>::Keys<'a>),
}

impl Deref for KeysInHand<'_> {
    type Target = KeySet;

    fn deref(&self) -> &KeySet {
        match self {
            Self::Fixed(keys) => keys,
            Self::Fetched(keys) => keys,
        }
    }
}

impl KeyResolver for IssuerKeys {
    type Keys<'a> = KeysInHand<'a>;

    // A fixed set's refresh does nothing, so a key miss on it costs one
    // more (failing) lookup; a fetched set needs the refresh.
    const REFRESHES: bool = true;

    fn current(&self) -> Result<KeysInHand<'_>, Error> {
        match self {
            Self::Fixed(keys) => Ok(KeysInHand::Fixed(keys)),
            Self::Fetched(source) => source.current().map(KeysInHand::Fetched),
        }
    }

    async fn refresh(&self, query: KeyQuery<'_>) -> Result<(), Error> {
        match self {
            Self::Fixed(_) => Ok(()),
            Self::Fetched(source) => source.refresh(query).await,
        }
    }
}
