//! How the binary allocates memory: jemalloc for everything Rust allocates,
//! and SQLite's own allocations without the bookkeeping nobody reads. Both are
//! process-wide choices, so the binary makes them, not the library.

/// jemalloc, not glibc's malloc: a night allocates and frees a body, a
/// future and a few strings per source across five threads, and glibc's
/// malloc, free and consolidation took about 8% of the network and writer
/// threads' time. On the 20,000-source bench (six alternated rounds) both
/// nights ran about a tenth faster with jemalloc; see bench/README.md.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read once when it starts (the environment variable
/// `_RJEM_MALLOC_CONF` still overrides them). By default it keeps freed pages
/// resident for ten seconds, most of a night: the bench's first night peaked
/// at 110–113 MiB. Half a second, and no lingering "muzzy" pages, gave
/// 104–107 MiB at the same speed.
#[unsafe(export_name = "_rjem_malloc_conf")]
static MALLOC_CONF: MallocConf = MallocConf(c"dirty_decay_ms:500,muzzy_decay_ms:0".as_ptr());

/// `const char *malloc_conf`, as jemalloc reads it.
#[repr(transparent)]
struct MallocConf(*const std::ffi::c_char);
// SAFETY: it points at a string literal, never written.
unsafe impl Sync for MallocConf {}

/// Turns off SQLite's memory statistics before it starts. Nothing here reads
/// them, and keeping them takes a process-wide mutex around every one of
/// SQLite's allocations and frees: on the re-check night, the writer thread
/// spent about a tenth of its time locking and unlocking it.
pub fn configure_sqlite() {
    // SAFETY: `SQLITE_CONFIG_MEMSTATUS` takes one int. This runs first thing
    // in `main`, before any connection exists, as sqlite3_config requires.
    let rc = unsafe {
        rusqlite::ffi::sqlite3_config(rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int)
    };
    debug_assert_eq!(rc, rusqlite::ffi::SQLITE_OK, "SQLite was started already");
}

#[cfg(test)]
mod tests {
    use rusqlite::{Connection, ffi};

    /// Set when this test binary is re-run as the child below.
    const CHILD: &str = "CITEWATCH_SQLITE_CONFIG_CHILD";

    /// SQLite can be configured only before it starts, and another test in
    /// this binary may start it first, so the check runs in a fresh process:
    /// this same test binary, asked for this one test.
    #[test]
    fn sqlite_keeps_no_memory_statistics_once_configured() {
        if std::env::var_os(CHILD).is_some() {
            super::configure_sqlite();
            let conn = Connection::open_in_memory().unwrap();
            conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (randomblob(100000));")
                .unwrap();
            // SAFETY: a plain read of SQLite's counter.
            let used = unsafe { ffi::sqlite3_memory_used() };
            assert_eq!(used, 0, "SQLite still counts its memory");
            return;
        }
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "allocator::tests::sqlite_keeps_no_memory_statistics_once_configured",
                "--test-threads=1",
            ])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && report.contains("1 passed"),
            "the child run failed:\n{report}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The bundled SQLite is built without `SQLITE_ENABLE_MEMORY_MANAGEMENT`
    /// (`.cargo/config.toml`), so each connection's page cache is its own,
    /// not one group behind a process-wide mutex that the writer, the
    /// preparer and every reader took on each page. The setting lives outside
    /// the code, where a move or a new build environment could drop it
    /// silently.
    #[test]
    fn sqlite_page_caches_are_not_shared_behind_one_lock() {
        let conn = Connection::open_in_memory().unwrap();
        let options: Vec<String> = conn
            .prepare("PRAGMA compile_options")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            options.iter().any(|o| o.starts_with("THREADSAFE=1")),
            "{options:?}"
        );
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "SQLite was built with ENABLE_MEMORY_MANAGEMENT: {options:?}"
        );
    }
}
