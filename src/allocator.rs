//! The binary's memory allocator, and its settings.

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
