//! Per-outcome counters, for a metrics exporter to read.

use std::sync::atomic::{AtomicU64, Ordering};

/// Every outcome the middleware counts, in [`AuthStats::snapshot`] order:
/// the verifier's rejection codes plus the middleware's own.
pub const OUTCOMES: [&str; 24] = [
    "accepted",
    "anonymous",
    "skipped",
    "missing_token",
    "invalid_request",
    "insufficient_scope",
    "malformed",
    "token_too_large",
    "unsupported_alg",
    "key_not_found",
    "key_alg_mismatch",
    "bad_signature",
    "expired",
    "not_yet_valid",
    "issued_in_future",
    "invalid_issuer",
    "invalid_audience",
    "missing_claim",
    "invalid_claim",
    "invalid_typ",
    "unsupported_crit",
    "revoked",
    "key_source_unavailable",
    "revocation_unavailable",
];

/// Counts of decisions by outcome since the layer was built, shared by
/// every clone of the layer and its services.
///
/// Besides the one decision per request in [`OUTCOMES`], it counts claims
/// that [`forward_claim`](crate::JwtAuthLayer::forward_claim) refused to
/// pass on ([`AuthStats::claims_not_forwarded`]); that count is kept apart
/// because it is not a decision (the request was still accepted) and a
/// request can add more than one to it.
#[derive(Debug)]
pub struct AuthStats {
    counts: [AtomicU64; OUTCOMES.len()],
    other: AtomicU64,
    claims_not_forwarded: AtomicU64,
}

impl Default for AuthStats {
    fn default() -> Self {
        Self {
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            other: AtomicU64::new(0),
            claims_not_forwarded: AtomicU64::new(0),
        }
    }
}

impl AuthStats {
    pub(crate) fn record(&self, outcome: &str) {
        // The first three are the hot path; the rest scan a short table.
        let slot = OUTCOMES.iter().position(|o| *o == outcome).and_then(|i| self.counts.get(i));
        slot.unwrap_or(&self.other).fetch_add(1, Ordering::Relaxed);
    }

    /// The count for one outcome (0 for a name not in [`OUTCOMES`]).
    #[must_use]
    pub fn get(&self, outcome: &str) -> u64 {
        OUTCOMES
            .iter()
            .position(|o| *o == outcome)
            .and_then(|i| self.counts.get(i))
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    pub(crate) fn record_claim_not_forwarded(&self) {
        self.claims_not_forwarded.fetch_add(1, Ordering::Relaxed);
    }

    /// How many claim values of accepted tokens were not forwarded as
    /// headers because they are not safe header text (leading or trailing
    /// space, a control character, a byte outside visible ASCII); one per
    /// claim, so a request can count more than once. Not part of
    /// [`AuthStats::snapshot`], which holds one decision per request.
    #[must_use]
    pub fn claims_not_forwarded(&self) -> u64 {
        self.claims_not_forwarded.load(Ordering::Relaxed)
    }

    /// Every outcome with its count, in [`OUTCOMES`] order.
    #[must_use]
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        OUTCOMES.iter().zip(&self.counts).map(|(o, c)| (*o, c.load(Ordering::Relaxed))).collect()
    }
}
