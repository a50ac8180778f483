//! Versioned migrations. Append new steps; never edit a released one.

use rusqlite_migration::{M, Migrations};

/// Every schema step's SQL, in order.
const STEPS: &[&str] = &[
    include_str!("migrations/0001_foundation.sql"),
    include_str!("migrations/0002_archive.sql"),
    include_str!("migrations/0003_check.sql"),
    include_str!("migrations/0004_reading_from.sql"),
    include_str!("migrations/0005_status_index.sql"),
    include_str!("migrations/0006_disowned.sql"),
    include_str!("migrations/0007_response_from.sql"),
    include_str!("migrations/0008_reader.sql"),
    include_str!("migrations/0009_mixed_streak.sql"),
    include_str!("migrations/0010_held_status.sql"),
    include_str!("migrations/0011_check_counts.sql"),
    include_str!("migrations/0012_held_checks.sql"),
];

/// The schema version of a store every step has been applied to (SQLite's
/// `user_version`, as the migrations record it).
pub const LATEST: i64 = STEPS.len() as i64;

/// Every schema step in order.
pub fn migrations() -> Migrations<'static> {
    Migrations::new(STEPS.iter().map(|sql| M::up(sql)).collect())
}
