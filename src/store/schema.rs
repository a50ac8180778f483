//! Versioned migrations. Append new steps; never edit a released one.

use rusqlite_migration::{M, Migrations};

/// Every schema step in order.
pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("migrations/0001_foundation.sql")),
        M::up(include_str!("migrations/0002_archive.sql")),
        M::up(include_str!("migrations/0003_check.sql")),
        M::up(include_str!("migrations/0004_reading_from.sql")),
        M::up(include_str!("migrations/0005_status_index.sql")),
    ])
}
