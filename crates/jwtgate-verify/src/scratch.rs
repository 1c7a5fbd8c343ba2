//! The buffer a verification decodes into.

use crate::policy::MAX_TOKEN_BYTES_CEILING;

/// Bytes of [`Scratch`]: enough for any token the verifier accepts.
pub const SCRATCH_LEN: usize = jwtgate_parse::buffer_len_for(MAX_TOKEN_BYTES_CEILING);

/// Scratch space for one verification: the decoded header, claims and
/// signature live here, and [`Verified`](crate::Verified) borrows from it.
///
/// This is how verification stays free of heap allocations: keep one per
/// task or connection and reuse it, or put it on the stack (12 KiB).
#[derive(Clone)]
pub struct Scratch {
    buf: [u8; SCRATCH_LEN],
}

impl Scratch {
    /// A zeroed buffer.
    #[must_use]
    pub const fn new() -> Self {
        Self { buf: [0; SCRATCH_LEN] }
    }

    pub(crate) fn bytes(&mut self) -> &mut [u8] {
        &mut self.buf
    }

    /// The buffer, read-only: where a token-cache hit copied its JSON.
    pub(crate) const fn filled(&self) -> &[u8] {
        &self.buf
    }
}

impl Default for Scratch {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print its contents: they are the last token's claims.
        f.write_str("Scratch")
    }
}
