//! The nightly check: pick due sources ([`schedule`]), fetch and archive them,
//! read each page, decide its verdict ([`verdict`]) and record it, one run at a
//! time ([`lock`]).

pub mod analyze;
pub mod classify;
pub mod lock;
pub mod run;
pub mod schedule;
pub mod verdict;
