//! The SQLite store: schema, migrations and every query. No SQL lives outside
//! this folder; the rest of citewatch calls named functions, which keeps the door
//! open for a second backend.

mod archive;
mod bulk;
mod check;
mod citations;
mod documents;
mod report;
mod schema;
mod serve;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

pub use archive::{CaptureFilter, CaptureRow, CheckRow, NewCapture, NewCheck, Recorded};
pub use bulk::{Bulk, BulkSource};
pub use check::{
    CheckWrite, Disowned, DueFilter, DueSource, ErrorJson, NewIncident, Redirected, RunRow,
    SourceRow, SourceUpdate,
};
pub use citations::CitationRow;
pub use documents::{KnownDocument, NewCitation, NewDocument, NewItem, SyncBatch};
pub use report::{
    AS_CITED_GRACE, OutletCount, ReadSnapshot, ReportCounts, ReportListing, ReportRow, ReportScope,
    SourceStatuses,
};
pub use serve::{ArchivedCopy, ListedSource, Memento, MetricsSnapshot, SourcePage, SourceQuery};

/// A store failure. Messages name the database file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused an operation.
    #[error("{file}: {source}")]
    Sqlite {
        /// The database file.
        file: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The schema could not be brought up to date.
    #[error("{file}: migrating the schema failed: {source}")]
    Migration {
        /// The database file.
        file: PathBuf,
        /// The migration error.
        source: rusqlite_migration::Error,
    },
    /// The lock that lets one process at a time migrate could not be taken.
    #[error("{file}.migrate-lock: cannot take the lock for migrating the schema: {source}")]
    MigrationLock {
        /// The database file.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The data folder could not be created.
    #[error("{}: cannot create the data folder: {source}", dir.display())]
    CreateDir {
        /// The data folder.
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A report's temporary files (its listing order, its sources' records)
    /// could not be written or read.
    #[error("a report's temporary file: {source}")]
    Spill {
        /// Why.
        source: std::io::Error,
    },
    /// A command that writes found a store this user may not write: SQLite
    /// said only "unable to open database file", or opened it read-only
    /// without a word and failed at the first write.
    #[error("{}: cannot be written (read-only): {why}", file.display())]
    ReadOnly {
        /// The database file.
        file: PathBuf,
        /// What may not be written: the file or its folder, and the system's reason.
        why: String,
    },
    /// A read command found no store yet (no file, or an empty one).
    #[error("{}: no store here yet; run `citewatch sync` first", file.display())]
    Missing {
        /// The database file that does not exist.
        file: PathBuf,
    },
}

impl StoreError {
    /// Whether SQLite could not set the database up for reading because
    /// nothing may be written beside it (the WAL's shared-memory file).
    fn is_read_only_folder(&self) -> bool {
        let StoreError::Sqlite { source, .. } = self else {
            return false;
        };
        matches!(
            source.sqlite_error_code(),
            Some(rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen)
        )
    }

    /// Debug builds only: the error SQLite gives for a damaged database
    /// file, for a test to make a run meet damage at a moment it chooses.
    #[cfg(debug_assertions)]
    #[doc(hidden)]
    pub fn damage_for_a_test(file: &Path) -> StoreError {
        StoreError::Sqlite {
            file: file.to_path_buf(),
            source: rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
                Some("injected for a test: database disk image is malformed".into()),
            ),
        }
    }

    /// Whether SQLite found the database damaged (or not a database at all),
    /// as opposed to failing for a reason outside it (busy, full disk,
    /// permissions): damage is what `verify` reports, not a failure of it.
    pub fn is_damage(&self) -> bool {
        let StoreError::Sqlite { source, .. } = self else {
            return false;
        };
        matches!(
            source.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
        )
    }
}

/// Why this user may not write the database `file`, or the folder SQLite
/// writes its journal and shared memory in beside it; `None` when both may
/// be written. Asked of the kernel (`access(2)`), so a read-only mount and
/// an immutable file are found as permission bits are (which root passes).
fn why_unwritable(file: &Path) -> Option<String> {
    use std::os::unix::ffi::OsStrExt;
    let denied = |path: &Path| {
        let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
        // SAFETY: a NUL-terminated path that outlives the call.
        let refused = unsafe { libc::access(c.as_ptr(), libc::W_OK) } != 0;
        refused.then(std::io::Error::last_os_error)
    };
    if file.exists()
        && let Some(e) = denied(file)
    {
        return Some(e.to_string());
    }
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    denied(dir).map(|e| format!("its folder {}: {e}", dir.display()))
}

/// The result type of store operations.
pub type Result<T> = std::result::Result<T, StoreError>;

/// An open store.
pub struct Store {
    conn: Connection,
    file: PathBuf,
}

/// A read transaction held open over several reads ([`Store::read_batch`]);
/// dropping it ends the transaction.
pub struct ReadBatch<'a> {
    _open: rusqlite::Transaction<'a>,
}

impl Store {
    /// Opens the store for writing, creating the data folder and database if
    /// needed, and migrates the schema to the current version. A store this
    /// user may not write is [`StoreError::ReadOnly`], found here rather than
    /// at the first write (after `fetch --save` has fetched and kept a blob).
    pub fn open(file: &Path) -> Result<Store> {
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                dir: dir.to_path_buf(),
                source,
            })?;
        }
        let read_only = |why: String| StoreError::ReadOnly {
            file: file.to_path_buf(),
            why,
        };
        let store = Store::open_with(file, OpenFlags::default()).map_err(|e| {
            match e
                .is_read_only_folder()
                .then(|| why_unwritable(file))
                .flatten()
            {
                Some(why) => read_only(why),
                None => e,
            }
        })?;
        // SQLite opens a file it may only read read-only, silently.
        if store
            .conn
            .is_readonly(rusqlite::MAIN_DB)
            .map_err(store.err())?
        {
            return Err(read_only(
                why_unwritable(file).unwrap_or_else(|| "SQLite opened it read-only".into()),
            ));
        }
        Ok(store)
    }

    /// Opens an existing store (for commands that only read); a missing database
    /// is [`StoreError::Missing`], not silently created. So is an empty file
    /// (a `touch`, a copy that never finished): SQLite would take it for a
    /// new database, and the command would migrate it and report on nothing.
    pub fn open_existing(file: &Path) -> Result<Store> {
        if std::fs::metadata(file).map_or(true, |m| m.len() == 0) {
            return Err(StoreError::Missing {
                file: file.to_path_buf(),
            });
        }
        match Store::open_with(file, OpenFlags::default() - OpenFlags::SQLITE_OPEN_CREATE) {
            Err(e) if e.is_read_only_folder() => Store::open_immutable(file).map_err(|_| e),
            other => other,
        }
    }

    /// A store set up already, for a user who may read it but not write
    /// beside it: SQLite cannot read a WAL database whose shared-memory file
    /// it can neither find nor make ("attempt to write a readonly database"),
    /// and none exists only while no process has the database open. It is
    /// read as immutable then (no locks, no shared memory); a writer opening
    /// it meanwhile is not seen, and a read racing that writer's first
    /// checkpoint may fail as damage: for reads such a user makes, not for
    /// anything that writes.
    fn open_immutable(file: &Path) -> Result<Store> {
        let err = sqlite_error(file);
        let conn = Connection::open_with_flags(
            immutable_uri(file),
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(err)?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(err)?;
        if version != schema::LATEST {
            // Not set up for this version: it must be migrated, which takes
            // a user who may write it.
            return Err(err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_READONLY),
                Some("the store needs migrating, and this user may not write it".into()),
            )));
        }
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(err)?;
        Ok(Store {
            conn,
            file: file.to_path_buf(),
        })
    }

    /// Opens an existing, already migrated store read-only (the server's
    /// per-request connections): no migration, no pragma that writes. Reads see
    /// the last committed state while a check run writes (WAL).
    pub fn open_read_only(file: &Path) -> Result<Store> {
        if !file.exists() {
            return Err(StoreError::Missing {
                file: file.to_path_buf(),
            });
        }
        let err = sqlite_error(file);
        let conn = Connection::open_with_flags(
            file,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        // The first read is where SQLite finds it cannot set up the WAL's
        // shared memory ([`Store::open_immutable`]).
        match conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(())) {
            Ok(()) => {}
            Err(e) => {
                let e = err(e);
                if !e.is_read_only_folder() {
                    return Err(e);
                }
                drop(conn);
                let store = Store::open_immutable(file).map_err(|_| e)?;
                store
                    .conn
                    .pragma_update(None, "cache_size", -8_192)
                    .map_err(err)?;
                return Ok(store);
            }
        }
        conn.pragma_update(None, "cache_size", -8_192)
            .map_err(err)?;
        Ok(Store {
            conn,
            file: file.to_path_buf(),
        })
    }

    /// Reads made until the guard drops share one read transaction: one
    /// snapshot, and the database's read lock taken and released once
    /// rather than around each statement. The check's preparer reads a
    /// source and its captures for every job: one transaction each cost
    /// about four `fcntl` calls a source, and SQLite's opening of a read
    /// snapshot each time. Hold it briefly (a batch of reads, never across
    /// a wait): while it is open, a checkpoint cannot pass its snapshot.
    pub fn read_batch(&self) -> Result<ReadBatch<'_>> {
        self.conn
            .unchecked_transaction()
            .map(|open| ReadBatch { _open: open })
            .map_err(sqlite_error(&self.file))
    }

    fn open_with(file: &Path, flags: OpenFlags) -> Result<Store> {
        let err = sqlite_error(file);
        let mut conn = Connection::open_with_flags(file, flags).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(err)?;
        // A check writes through a dozen statements per source and reads through
        // others between batches: more than rusqlite's default 16, and a statement
        // evicted is parsed again for the next source.
        conn.set_prepared_statement_cache_capacity(64);
        // Two processes opening a new (or older) store at once both saw it
        // unmigrated, and the second failed on `table documents already
        // exists`, or on `database is locked` while the first switched it to
        // WAL: setting up runs one process at a time, each re-reading the
        // version once it holds the lock. A store already set up needs no
        // lock (nor a writable folder to keep one in).
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(err)?;
        let journal: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .map_err(err)?;
        let set_up = version == schema::LATEST && journal.eq_ignore_ascii_case("wal");
        let guard = if set_up {
            None
        } else {
            Some(
                migration_lock(file).map_err(|source| StoreError::MigrationLock {
                    file: file.to_path_buf(),
                    source,
                })?,
            )
        };
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(err)?;
        // 32 MiB of page cache and fewer, larger checkpoints: a first sync writes
        // hundreds of thousands of rows, and each checkpoint costs an fsync.
        conn.pragma_update(None, "cache_size", -32_768)
            .map_err(err)?;
        conn.pragma_update(None, "wal_autocheckpoint", 10_000)
            .map_err(err)?;
        conn.pragma_update(None, "temp_store", "MEMORY")
            .map_err(err)?;
        schema::migrations()
            .to_latest(&mut conn)
            .map_err(|source| StoreError::Migration {
                file: file.to_path_buf(),
                source,
            })?;
        drop(guard);
        Ok(Store {
            conn,
            file: file.to_path_buf(),
        })
    }

    /// The database file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        sqlite_error(&self.file)
    }

    /// Runs SQLite's own integrity check; returns its complaints (empty when sound).
    ///
    /// A b-tree page damaged badly enough makes the pragma itself fail
    /// (SQLITE_CORRUPT) instead of listing it: that error is the finding,
    /// returned as one more complaint, since reporting damage is the
    /// check's whole point.
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let result = (|| {
            let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let line: String = row.get(0)?;
                if line != "ok" {
                    out.push(line);
                }
            }
            Ok(())
        })();
        match result.map_err(self.err()) {
            Ok(()) => Ok(out),
            Err(e) if e.is_damage() => {
                out.push(format!("the integrity check itself failed: {e}"));
                Ok(out)
            }
            Err(e) => Err(e),
        }
    }
}

/// A `file:` URI naming `path` read as immutable (`immutable=1`), its
/// characters that mean something in a URI escaped: how SQLite reads a WAL
/// database where it may not make the shared-memory file beside it.
pub fn immutable_uri(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut uri = String::from("file:");
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?immutable=1");
    uri
}

/// SQLite's error on the store in `file`. A function of the file, not of
/// the store: a write whose transaction holds `self.conn` can still borrow
/// `self.file` for it, and batches that own their transaction use it too.
fn sqlite_error(file: &Path) -> impl Fn(rusqlite::Error) -> StoreError + Copy + '_ {
    move |source| StoreError::Sqlite {
        file: file.to_path_buf(),
        source,
    }
}

/// An exclusive lock on `<database>.migrate-lock`, held while migrations run;
/// the system releases it when the process ends, however it ends. Waits up
/// to 30 s for another process's migrations.
fn migration_lock(db: &Path) -> std::io::Result<std::fs::File> {
    let mut name = db.as_os_str().to_owned();
    name.push(".migrate-lock");
    let file = std::fs::File::options()
        .write(true)
        .create(true)
        .truncate(false)
        .open(name)?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "another process has been migrating the schema for 30 s",
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_openers_of_a_new_store_all_get_it_migrated() {
        // As `serve`, `check` and a `sync` started together on a new store.
        for _ in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("citewatch.db");
            let barrier = std::sync::Barrier::new(6);
            std::thread::scope(|s| {
                let openers: Vec<_> = (0..6)
                    .map(|_| {
                        s.spawn(|| {
                            barrier.wait();
                            Store::open(&file).map(drop)
                        })
                    })
                    .collect();
                for o in openers {
                    o.join().unwrap().unwrap();
                }
            });
        }
    }

    #[test]
    fn a_store_already_set_up_opens_without_the_migration_lock() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("citewatch.db");
        drop(Store::open(&file).unwrap());
        let lock = dir.path().join("citewatch.db.migrate-lock");
        assert!(lock.exists(), "a new store is set up under the lock");
        std::fs::remove_file(&lock).unwrap();
        // As a read command on a data folder it may not write to.
        drop(Store::open_existing(&file).unwrap());
        assert!(!lock.exists());
    }

    #[test]
    fn migrations_are_valid_and_the_store_opens_twice() {
        schema::migrations().validate().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sub/citewatch.db");
        drop(Store::open(&file).unwrap());
        let store = Store::open_existing(&file).unwrap();
        assert!(store.integrity_check().unwrap().is_empty());
        let fk: i64 = store
            .conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        let mode: String = store
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        // Every check rewrites next_check_at: an index holding it would be
        // rewritten with it (about a fifth of the writer's work on a re-check).
        // (An index on an expression, the host's key, names no column.)
        let indexed: Vec<String> = store
            .conn
            .prepare(
                "SELECT ii.name FROM pragma_index_list('sources') il,
                        pragma_index_info(il.name) ii WHERE ii.name IS NOT NULL",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(indexed.contains(&"status".to_string()), "{indexed:?}");
        assert!(
            !indexed.contains(&"next_check_at".to_string()),
            "{indexed:?}"
        );
    }

    #[test]
    fn a_read_command_does_not_create_a_store() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("citewatch.db");
        assert!(matches!(
            Store::open_existing(&file),
            Err(StoreError::Missing { .. })
        ));
        assert!(!file.exists());
    }
}
