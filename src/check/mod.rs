//! The nightly check. So far the pure parts: the verdict rules ([`verdict`]),
//! reading a fetched body ([`page`]), fingerprints of its main text for drift
//! ([`fingerprint`]) and the evidence that a 2xx answer is really an error
//! page ([`soft404`]); scheduling comes with the check issue.

pub mod fingerprint;
pub mod page;
pub mod soft404;
pub mod verdict;
