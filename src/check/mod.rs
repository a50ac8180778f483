//! The nightly check: pick due sources ([`schedule`]), fetch and archive them,
//! read each page ([`page`], [`lines`], [`fingerprint`], [`soft404`] behind
//! [`analyze`]), decide its verdict ([`classify`], [`verdict`]) and record it ([`run`]), one
//! run at a time ([`lock`]).

pub mod analyze;
pub mod classify;
pub mod cpu;
pub mod fingerprint;
pub mod lines;
pub mod lock;
pub mod page;
pub mod run;
pub mod schedule;
pub mod soft404;
pub mod verdict;
