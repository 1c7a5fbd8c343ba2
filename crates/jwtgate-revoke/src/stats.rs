//! What a list holds and how often it was asked, for metrics and tests.

/// A snapshot of a list's rules and counters. Counters run from the list's
/// creation and are shared by every clone of it.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RevocationStats {
    /// `jti` rules held.
    pub jti_rules: usize,
    /// Subject cut-off rules held.
    pub subject_rules: usize,
    /// Client cut-off rules held.
    pub client_rules: usize,
    /// Signing-key rules held.
    pub key_rules: usize,
    /// Issuers with at least one rule.
    pub issuers: usize,
    /// Tokens checked (calls of `is_revoked`).
    pub lookups: u64,
    /// Tokens refused as revoked.
    pub hits: u64,
    /// When the rules last changed (a write or a purge), in Unix seconds
    /// by the list's clock; `None` if they never did.
    pub updated_at: Option<i64>,
}

impl RevocationStats {
    /// Rules held, of every kind.
    #[must_use]
    pub const fn rules(&self) -> usize {
        self.jti_rules
            .saturating_add(self.subject_rules)
            .saturating_add(self.client_rules)
            .saturating_add(self.key_rules)
    }
}
