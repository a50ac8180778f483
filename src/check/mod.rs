//! The nightly check: pick due sources ([`schedule`]), fetch them and record
//! the results ([`run`]), one run at a time ([`lock`]). Between fetch and
//! record, `assess` archives each answer, reads the page ([`page`], [`pdf`],
//! [`lines`], [`fingerprint`], [`soft404`] behind [`analyze`]) and decides its verdict
//! ([`classify`], [`verdict`]), with what other sources' redirects say
//! ([`landing`]).

pub mod analyze;
mod assess;
pub(crate) use assess::STANDS_UNTIL_CONFIRMED;
#[cfg(test)]
pub(crate) use assess::state_of;
pub mod classify;
pub mod cpu;
pub mod fingerprint;
mod held;
pub mod landing;
pub mod lines;
pub mod lock;
pub mod page;
pub mod pdf;
pub mod run;
pub mod schedule;
pub mod soft404;
pub mod verdict;
