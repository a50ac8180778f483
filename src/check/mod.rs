//! The nightly check. So far the pure parts: the verdict rules ([`verdict`]),
//! reading a fetched body ([`page`]) and fingerprints of its main text for
//! drift ([`fingerprint`]); scheduling comes with the check issue.

pub mod fingerprint;
pub mod page;
pub mod verdict;
