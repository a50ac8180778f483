//! The nightly check. So far the pure parts: the verdict rules ([`verdict`])
//! and fingerprints of main text for drift ([`fingerprint`]); scheduling comes
//! with the check issue.

pub mod fingerprint;
pub mod verdict;
