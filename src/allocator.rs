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

/// Turns off SQLite's memory statistics before it starts, and has SQLite
/// allocate through jemalloc too. Nothing here reads the statistics, and
/// keeping them takes a process-wide mutex around every one of SQLite's
/// allocations and frees: on the re-check night, the writer thread spent
/// about a tenth of its time locking and unlocking it. Left to glibc's malloc,
/// SQLite's allocations on the writer and preparer threads grew and trimmed
/// those threads' arenas over and over: about one `mprotect` a source.
pub fn configure_sqlite() {
    // SAFETY: `SQLITE_CONFIG_MEMSTATUS` takes one int, `SQLITE_CONFIG_MALLOC`
    // a pointer to methods SQLite copies. This runs first thing in `main`,
    // before any connection exists, as sqlite3_config requires.
    let rc = unsafe {
        rusqlite::ffi::sqlite3_config(rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int)
    };
    debug_assert_eq!(rc, rusqlite::ffi::SQLITE_OK, "SQLite was started already");
    let methods = sqlite_in_jemalloc::methods();
    let rc = unsafe {
        rusqlite::ffi::sqlite3_config(
            rusqlite::ffi::SQLITE_CONFIG_MALLOC,
            &methods as *const rusqlite::ffi::sqlite3_mem_methods,
        )
    };
    debug_assert_eq!(rc, rusqlite::ffi::SQLITE_OK, "SQLite was started already");
}

/// SQLite's memory methods over jemalloc (`sqlite3_mem_methods`). jemalloc
/// aligns every allocation to at least 8 bytes, as SQLite requires, and knows
/// each one's size, so SQLite keeps no header of its own.
mod sqlite_in_jemalloc {
    use std::ffi::{c_int, c_void};

    use rusqlite::ffi::sqlite3_mem_methods;
    use tikv_jemalloc_sys as je;

    /// The methods; SQLite keeps a copy.
    pub(super) fn methods() -> sqlite3_mem_methods {
        sqlite3_mem_methods {
            xMalloc: Some(malloc),
            xFree: Some(free),
            xRealloc: Some(realloc),
            xSize: Some(size),
            xRoundup: Some(roundup),
            xInit: Some(init),
            xShutdown: Some(shutdown),
            pAppData: std::ptr::null_mut(),
        }
    }

    // SAFETY (all below): SQLite calls these as `sqlite3_mem_methods`
    // documents: sizes are positive, and the pointers it frees, resizes or
    // measures are ones these methods returned and it has not freed.
    unsafe extern "C" fn malloc(n: c_int) -> *mut c_void {
        unsafe { je::malloc(n.max(1) as usize) }
    }

    unsafe extern "C" fn free(p: *mut c_void) {
        unsafe { je::free(p) }
    }

    unsafe extern "C" fn realloc(p: *mut c_void, n: c_int) -> *mut c_void {
        unsafe { je::realloc(p, n.max(1) as usize) }
    }

    unsafe extern "C" fn size(p: *mut c_void) -> c_int {
        if p.is_null() {
            return 0;
        }
        let n = unsafe { je::malloc_usable_size(p) };
        c_int::try_from(n).unwrap_or(c_int::MAX)
    }

    unsafe extern "C" fn roundup(n: c_int) -> c_int {
        let rounded = unsafe { je::nallocx(n.max(1) as usize, 0) };
        c_int::try_from(rounded).unwrap_or(n)
    }

    unsafe extern "C" fn init(_: *mut c_void) -> c_int {
        rusqlite::ffi::SQLITE_OK
    }

    unsafe extern "C" fn shutdown(_: *mut c_void) {}
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
    fn sqlite_keeps_no_memory_statistics_and_allocates_in_jemalloc_once_configured() {
        if std::env::var_os(CHILD).is_some() {
            super::configure_sqlite();
            let conn = Connection::open_in_memory().unwrap();
            conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (randomblob(100000));")
                .unwrap();
            // SAFETY: a plain read of SQLite's counter.
            let used = unsafe { ffi::sqlite3_memory_used() };
            assert_eq!(used, 0, "SQLite still counts its memory");
            // jemalloc rounds 1,000 bytes up to its 1,024-byte class; SQLite's
            // own allocator would say 1,000 (or glibc's chunk, 1,000 or 1,016).
            // SAFETY: a pointer from sqlite3_malloc, measured and freed once.
            let (measured, class) = unsafe {
                let p = ffi::sqlite3_malloc(1000);
                assert!(!p.is_null());
                let measured = ffi::sqlite3_msize(p);
                ffi::sqlite3_free(p);
                (measured, tikv_jemalloc_sys::nallocx(1000, 0) as u64)
            };
            assert_eq!(class, 1024);
            assert_eq!(measured, class, "SQLite does not allocate through jemalloc");
            return;
        }
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "allocator::tests::sqlite_keeps_no_memory_statistics_and_allocates_in_jemalloc_once_configured",
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
}
