//! The nightly check. So far: the verdict rules ([`verdict`]), pure and
//! unit-tested; scheduling, drift and soft-404 analysis come with the check issue.

pub mod verdict;
