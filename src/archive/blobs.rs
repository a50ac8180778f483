//! Content-addressed blob storage: one zstd-compressed file per distinct body,
//! named by the body's sha256 and kept in one of 256 folders, `ab/<hex>`.
//!
//! Writes are atomic (temporary file, fsync, rename, fsync of the folder) and come
//! before the store row that names them, so a crash can leave an unreferenced
//! blob but never a row without its blob. Behind [`BlobStore`] so that an object
//! store can take the file system's place.
//!
//! A body that differs a little from one already stored (a cited page whose
//! timestamp or "related articles" moved) may be stored as a *delta*: its
//! stored bytes begin with a zstd skippable frame naming the base blob, and
//! the zstd frame after it was compressed with the base's bytes as its
//! dictionary. A base is always stored whole, so reading a delta costs one
//! more blob, never a chain; a copy that differs too much to gain from a
//! delta is stored whole, and becomes the base of the copies after it. Plain
//! `zstd -d` cannot read a delta on its own.
//!
//! Stores written before 2026-11 keep blobs two levels deep, `ab/cd/<hex>`.
//! Those are still found where they are (see [`FsBlobStore::path`]) and never
//! moved: 65,536 possible folders for a few thousand blobs a night meant a new
//! folder, and a new inode spread across the disk, for almost every blob, which
//! was an eighth of a first night's CPU.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};

use super::packs::{Packs, Rebuilt, Unindexed};

/// zstd level: level 3 stores article HTML in about a quarter of its size for a
/// fraction of level 9's CPU and memory (measured: 0.3 ms and ~0.4 MiB per page
/// against 2.1 ms and ~10 MiB), which matters with a hundred pages in flight.
const LEVEL: i32 = 3;

/// Whole frames carry zstd's content checksum (XXH64, 4 bytes a frame),
/// which every decoder checks as it reads: a bit flip in a stored frame
/// decompressed, half the time, without an error to other bytes, found only
/// by the sha256 at the end, after a stream had handed them out. Measured on
/// 2,000 HTML pages (127 MB) at level 3: compression CPU within the noise
/// (1.48–1.60 s either way), 0.03 % more bytes. Frames written before have
/// none and read as before. Deltas are made by zstd's dictionary call,
/// which writes no checksum; their sha256 is still checked on every read
/// that hands them out.
///
/// zstd level of a delta. Making one mostly costs loading its base as a
/// dictionary, which level 1 does with one hash table where level 3 fills two:
/// half the time for deltas as small (measured on the simulated web's churning
/// pages: 1.5 against 0.74 GB/s, 92 against 88 bytes a delta).
const DELTA_LEVEL: i32 = 1;

/// The skippable frame that begins a delta: this magic, its length (32, as
/// u32 little-endian), then the base blob's sha256 as 32 bytes.
const DELTA_MAGIC: [u8; 4] = 0x184D_2A5Du32.to_le_bytes();
const DELTA_HEADER: usize = 4 + 4 + 32;
/// A zstd dictionary begins with this; a base that does would be taken for a
/// formatted dictionary instead of raw content, so it is never used as one.
const DICTIONARY_MAGIC: [u8; 4] = 0xEC30_A437u32.to_le_bytes();

/// The largest base a delta is made against, and the largest body made into
/// one. An article is far smaller; a large document is stored whole, so that
/// no write or read holds two large bodies (and a dictionary made of one) in
/// memory.
const MAX_BASE: u64 = 4 << 20;

/// The most a delta is believed to decompress to, whatever its frame says:
/// far more than the [`MAX_BASE`] a delta is made of.
const MAX_DELTA_BODY: u64 = 1 << 30;

/// The base a stored blob is a delta against, if it is one.
fn delta_base(stored: &[u8]) -> Option<[u8; 32]> {
    if stored.len() < DELTA_HEADER
        || stored[..4] != DELTA_MAGIC
        || stored[4..8] != 32u32.to_le_bytes()
    {
        return None;
    }
    stored[8..DELTA_HEADER].try_into().ok()
}

thread_local! {
    /// One compression context per thread, made on first use: creating a
    /// context per blob showed in the first night's profile.
    static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { std::cell::RefCell::new(None) };
    /// One decompression context per thread, for the same reason: a delta's
    /// base is decompressed whole, and a context made for each took a third
    /// of that time (measured: 57 against 37 µs a page).
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::zstd_safe::DCtx<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// Decompresses one whole frame whose header says it holds at most `limit`
/// bytes (`dict`, if given, is the raw content it was compressed against), on
/// this thread's context. The size is read from stored bytes: a damaged or
/// hostile header must be an error, not an allocation that aborts the process.
fn decompress_frame(frame: &[u8], dict: Option<&[u8]>, limit: u64) -> io::Result<Vec<u8>> {
    let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
    let size = zstd::zstd_safe::get_frame_content_size(frame)
        .ok()
        .flatten()
        .ok_or_else(|| invalid("the frame does not say its size".into()))?;
    if size > limit {
        return Err(invalid(format!("the frame says {size} bytes")));
    }
    let mut out = Vec::with_capacity(size as usize);
    DECOMPRESSOR.with(|d| {
        let mut d = d.borrow_mut();
        let dctx = match d.as_mut() {
            Some(dctx) => dctx,
            None => d
                .insert(zstd::zstd_safe::DCtx::try_create().ok_or_else(|| {
                    io::Error::new(io::ErrorKind::OutOfMemory, "no zstd context")
                })?),
        };
        match dict {
            Some(dict) => dctx.decompress_using_dict(&mut out, frame, dict),
            None => dctx.decompress(&mut out, frame),
        }
        .map_err(zstd_error)?;
        Ok(out)
    })
}

/// Whether a whole frame carries zstd's content checksum (frame header
/// descriptor, bit 2), which decompression verifies: such a frame cannot
/// decompress, damaged, to other bytes, so hashing what it gives again would
/// only cost a sha256 of every delta's base on every churned page.
fn carries_checksum(frame: &[u8]) -> bool {
    frame.starts_with(&zstd::zstd_safe::MAGICNUMBER.to_le_bytes())
        && frame.get(4).is_some_and(|d| d & 0x04 != 0)
}

/// How a blob's stored bytes are framed ([`framing`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    /// One zstd frame, readable on its own.
    Whole,
    /// A delta against this base blob.
    Delta([u8; 32]),
}

/// How `stored` is framed, when its frames fill it exactly: one zstd frame
/// (a blob stored whole), or a delta's skippable frame and one zstd frame.
/// `None` for anything else. Walks the frames' block headers only, so it
/// cheaply tells a record whose length or frames were damaged from a sound
/// one before anything is decompressed.
pub(super) fn framing(stored: &[u8]) -> Option<Framing> {
    let (framing, frame) = match delta_base(stored) {
        Some(base) => (Framing::Delta(base), &stored[DELTA_HEADER..]),
        None => (Framing::Whole, stored),
    };
    let magic = u32::from_le_bytes(frame.get(..4)?.try_into().ok()?);
    // A skippable frame is one only before a delta's own frame.
    if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
        return None;
    }
    let size = zstd::zstd_safe::find_frame_compressed_size(frame).ok()?;
    (size == frame.len()).then_some(framing)
}

/// Whether `stored` holds blob `sha256`: decompressed (against `base`, the
/// base's stored bytes, for a delta) its bytes hash to that name. Rebuilding
/// the pack index trusts no record further: a frame damaged inside may still
/// be framed soundly, and indexed it would hide a sound copy packed later.
pub(super) fn holds(sha256: &[u8; 32], stored: &[u8], base: Option<&[u8]>) -> bool {
    let body = match (framing(stored), base) {
        (Some(Framing::Whole), _) => {
            // Streamed: a whole blob may be large, and its size is not checked.
            let mut hasher = HashingWriter(Sha256::new());
            let copied = zstd::stream::read::Decoder::with_buffer(stored)
                .and_then(|mut d| io::copy(&mut d, &mut hasher));
            return copied.is_ok() && hasher.0.finalize()[..] == sha256[..];
        }
        (Some(Framing::Delta(_)), Some(base)) if delta_base(base).is_none() => {
            decompress_frame(base, None, MAX_BASE).and_then(|base| {
                decompress_frame(&stored[DELTA_HEADER..], Some(&base), MAX_DELTA_BODY)
            })
        }
        _ => return false,
    };
    body.is_ok_and(|body| Sha256::digest(&body)[..] == sha256[..])
}

/// Hashes what is written to it.
struct HashingWriter(Sha256);

impl Write for HashingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A blob store failure.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The file system failed.
    #[error("blob {sha256}: {source}")]
    Io {
        /// The blob.
        sha256: String,
        /// Why.
        source: io::Error,
    },
    /// The bytes offered do not hash to the name given.
    #[error("blob {expected}: content hashes to {actual}")]
    Mismatch {
        /// The name given.
        expected: String,
        /// What the bytes hash to.
        actual: String,
    },
    /// Not a sha256 in lowercase hex.
    #[error("`{0}` is not a sha256 (64 lowercase hex digits)")]
    BadName(String),
    /// No such blob.
    #[error("blob {0} is missing")]
    Missing(String),
    /// A pack or the pack index failed.
    #[error("{}: {source}", dir.display())]
    Pack {
        /// The packs folder.
        dir: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The pack index is damaged. The packs repeat what it holds, so it can
    /// be built again from them.
    #[error(
        "{}: the pack index is damaged ({sqlite}); `citewatch verify --repair` builds it \
         again from the pack files",
        path.display()
    )]
    IndexDamaged {
        /// The index file.
        path: PathBuf,
        /// SQLite's error: said in the message, not chained as the cause,
        /// since a SQLITE_CORRUPT cause reads to the command line as the
        /// store's database damaged ("restore it from a backup"), which
        /// this rebuildable file is not.
        sqlite: rusqlite::Error,
    },
    /// Written blobs could not be made durable.
    #[error("{}: cannot sync the blob store to disk: {source}", dir.display())]
    Sync {
        /// The blob folder.
        dir: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The blob read fine, but where its bytes were going refused them (a
    /// full disk, a closed pipe): the archive is not at fault, so the error
    /// must not read like one that is.
    #[error("cannot write the copy out: {0}")]
    Output(io::Error),
}

/// Where archived bodies live.
pub trait BlobStore: Send + Sync {
    /// Stores `content` under `sha256` unless a blob of that name exists. Checks
    /// the hash while writing. Returns the bytes added on disk (0 when deduplicated).
    fn put(&self, sha256: &str, content: &mut dyn Read) -> Result<u64, BlobError>;
    /// [`BlobStore::put`] when the size is known, which lets a compressor size
    /// its tables to the body instead of to the worst case.
    fn put_sized(&self, sha256: &str, size: u64, content: &mut dyn Read) -> Result<u64, BlobError> {
        let _ = size;
        self.put(sha256, content)
    }
    /// [`BlobStore::put`] for bytes in memory whose sha256 the caller took
    /// itself from these very bytes (a fetched body is hashed as it arrives), so
    /// it is not taken twice.
    fn put_hashed(&self, sha256: &str, bytes: &[u8]) -> Result<u64, BlobError> {
        self.put_sized(sha256, bytes.len() as u64, &mut &bytes[..])
    }
    /// [`BlobStore::put_hashed`] for bytes that probably differ little from
    /// blob `like` (a new copy of a page already archived): the store may keep
    /// only the difference. One that cannot, or finds `like` unfit or the
    /// bytes too different, stores them whole.
    fn put_hashed_against(&self, sha256: &str, bytes: &[u8], like: &str) -> Result<u64, BlobError> {
        let _ = like;
        self.put_hashed(sha256, bytes)
    }
    /// The decompressed bytes of a blob. [`FsBlobStore`] streams a loose
    /// whole blob (every body over the fetcher's 1 MiB in memory is one) and
    /// decodes a delta or a packed record, bodies of at most that, whole:
    /// `serve` streams large copies through this.
    fn open(&self, sha256: &str) -> Result<Box<dyn Read + Send>, BlobError>;
    /// Bytes the blob takes in storage.
    fn stored_size(&self, sha256: &str) -> Result<u64, BlobError>;
    /// Every blob name present.
    fn list(&self) -> Result<Vec<String>, BlobError>;
    /// Stored bytes that name no blob (see [`Packs::unindexed`]); none for a
    /// store without packs.
    fn unindexed(&self) -> Result<Vec<Unindexed>, BlobError> {
        Ok(Vec::new())
    }
    /// Temporary files of writes that never finished (the process was
    /// killed between writing and renaming): their paths and sizes.
    fn leftovers(&self) -> Result<Vec<Leftover>, BlobError> {
        Ok(Vec::new())
    }
    /// Damaged loose files `verify --repair` set aside (renamed
    /// `<sha256>.damaged-<millis>`): kept, never read again.
    fn set_aside_files(&self) -> Result<Vec<Leftover>, BlobError> {
        Ok(Vec::new())
    }
}

/// A temporary file an interrupted write left behind.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Leftover {
    /// Its path.
    #[serde(serialize_with = "super::path_lossy")]
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
}

/// A copy of a blob whose own bytes are damaged
/// ([`FsBlobStore::damaged_copies`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DamagedCopy {
    /// A loose file.
    Loose(PathBuf),
    /// A packed record, where the index names it.
    Packed(super::packs::Location),
}

/// A damaged copy [`FsBlobStore::set_aside_if_damaged`] set aside.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SetAside {
    /// The blob whose copy it was.
    pub sha256: String,
    /// Where its damaged bytes are kept: the renamed loose file, or the
    /// pack and offset of the record.
    pub kept_as: String,
}

/// Blobs under a folder: loose files, and for batch writers pack files
/// ([`super::packs`]).
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    dir: PathBuf,
    /// Each write is made durable before `put` returns (file and folder
    /// fsync'd). Off for batch writers, which call [`FsBlobStore::sync`]
    /// once before committing the rows that name the new blobs.
    sync_each: bool,
    /// Shared by clones, so every thread of a run appends to one pack.
    packs: Arc<Packs>,
    /// A loose file was written since the last [`FsBlobStore::sync`].
    loose_unsynced: Arc<AtomicBool>,
}

/// A blob name as the 32 bytes it spells.
fn raw(sha256: &str) -> Result<[u8; 32], BlobError> {
    let mut out = [0u8; 32];
    valid(sha256)?;
    hex::decode_to_slice(sha256, &mut out).map_err(|_| BlobError::BadName(sha256.to_string()))?;
    Ok(out)
}

fn valid(sha256: &str) -> Result<(), BlobError> {
    if sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(BlobError::BadName(sha256.to_string()))
    }
}

impl FsBlobStore {
    /// The files of the blob folder, as deep as loose files lie (in this
    /// version's layout and older stores'), whose names `wanted` picks,
    /// with their sizes, in path order.
    fn files_named(&self, wanted: impl Fn(&str) -> bool) -> Result<Vec<Leftover>, BlobError> {
        let mut out = Vec::new();
        if !self.dir.exists() {
            return Ok(out);
        }
        for entry in walkdir::WalkDir::new(&self.dir).max_depth(3) {
            let entry = entry.map_err(listing_error)?;
            if entry.file_type().is_file() && wanted(&entry.file_name().to_string_lossy()) {
                let bytes = entry.metadata().map_or(0, |m| m.len());
                out.push(Leftover {
                    path: entry.into_path(),
                    bytes,
                });
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }
    /// Blobs under `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> FsBlobStore {
        Self::with_sync(dir.into(), true)
    }

    fn with_sync(dir: PathBuf, sync_each: bool) -> FsBlobStore {
        FsBlobStore {
            packs: Arc::new(Packs::new(dir.join("packs"))),
            dir,
            sync_each,
            loose_unsynced: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The same blobs through a pack index connection of its own, for a
    /// thread that only looks blobs up (a check's preparer): its lookups can
    /// then share a read transaction ([`FsBlobStore::read_batch`]) without
    /// holding up the run's appends, which commit through the shared one.
    pub fn reading_apart(&self) -> FsBlobStore {
        FsBlobStore {
            packs: Arc::new(Packs::new(self.dir.join("packs"))),
            ..self.clone()
        }
    }

    /// One read transaction over the pack index lookups ([`FsBlobStore::is_stored`]
    /// among them) made until the guard drops; see [`Packs::read_batch`].
    pub fn read_batch(&self) -> Option<super::packs::ReadBatch<'_>> {
        self.packs.read_batch()
    }

    /// Blobs under `dir` for a batch writer: bodies in memory go into a pack
    /// ([`super::packs`]) instead of a file each, and nothing waits for the
    /// disk until [`FsBlobStore::sync`], which the caller must call before any
    /// database row names a blob written since the last sync. Two fsyncs per
    /// blob were the largest single cost of archiving a first night, and then
    /// creating a file per blob was.
    pub fn deferred_sync(dir: impl Into<PathBuf>) -> FsBlobStore {
        Self::with_sync(dir.into(), false)
    }

    /// The packs this store appends to, for repairing their index.
    pub fn packs(&self) -> &Packs {
        &self.packs
    }

    /// Builds the pack index again from the packs ([`Packs::rebuild_index`]),
    /// checking a packed delta against its base's loose file where no pack
    /// holds the base.
    pub fn rebuild_pack_index(&self) -> Result<Rebuilt, BlobError> {
        self.packs.rebuild_index(&|base| {
            self.either_path(&hex::encode(base), |p| std::fs::read(p))
                .ok()
        })
    }

    /// Sets a blob's stored copy aside when its own bytes are damaged, so
    /// that the next store of those bytes (a check fetching the page again)
    /// writes them anew: while the damaged copy is found, every later store
    /// of the same sha256 is deduplicated against it and the archive never
    /// heals. Nothing is deleted: a loose file is renamed
    /// `<sha256>.damaged-<millis>` beside where it was; a packed record
    /// stays in its pack, only its index row goes (its bytes are then
    /// counted as named by no row, as an interrupted write's are).
    ///
    /// The copies set aside (a loose file and a packed record behind it may
    /// both be damaged); none when the copy read is sound, when the blob is
    /// stored nowhere, or when the fault is not the copy's own: a delta
    /// whose base is damaged is left for its base to be mended. The caller
    /// must hold the run lock: a check appending meanwhile could find the
    /// copy just before it goes.
    pub fn set_aside_if_damaged(&self, sha256: &str) -> Result<Vec<SetAside>, BlobError> {
        self.damaged_copies(sha256)?
            .iter()
            .map(|copy| self.set_aside(sha256, copy))
            .collect()
    }

    /// The copies of a blob [`FsBlobStore::set_aside_if_damaged`] would set
    /// aside, judged and not yet touched: a caller setting aside several
    /// blobs judges them all first, so that whether a delta is set aside
    /// does not depend on whether its base was set aside before it.
    pub fn damaged_copies(&self, sha256: &str) -> Result<Vec<DamagedCopy>, BlobError> {
        let name = raw(sha256)?;
        let mut damaged = Vec::new();
        // Loose first, as reads look: a packed copy behind a sound loose
        // file is never read.
        if let Some(path) = self.loose_file(sha256) {
            let stored = std::fs::read(&path).map_err(Self::io(sha256))?;
            if !self.own_copy_damaged(&name, &stored) {
                return Ok(damaged);
            }
            damaged.push(DamagedCopy::Loose(path));
        }
        let Some(loc) = self.packs.locate(&name)? else {
            return Ok(damaged);
        };
        let bad = match self.packs.read_frame(&name, loc) {
            Ok(stored) => self.own_copy_damaged(&name, &stored),
            // The record's header is not this blob's, or the index names
            // bytes that are not there: the row leads to no copy.
            Err(BlobError::Pack { source, .. }) if source.kind() == io::ErrorKind::InvalidData => {
                true
            }
            Err(e) => return Err(e),
        };
        if bad {
            damaged.push(DamagedCopy::Packed(loc));
        }
        Ok(damaged)
    }

    /// Sets one damaged copy of blob `sha256` aside (see
    /// [`FsBlobStore::set_aside_if_damaged`]), durably.
    pub fn set_aside(&self, sha256: &str, copy: &DamagedCopy) -> Result<SetAside, BlobError> {
        let kept_as = match copy {
            DamagedCopy::Loose(path) => {
                let io = Self::io(sha256);
                let aside =
                    path.with_file_name(format!("{sha256}.damaged-{}", crate::time::now_millis()));
                std::fs::rename(path, &aside).map_err(&io)?;
                sync_folder(path.parent().unwrap_or(&self.dir)).map_err(&io)?;
                aside.display().to_string()
            }
            DamagedCopy::Packed(loc) => {
                self.packs.forget(&raw(sha256)?, *loc)?;
                format!(
                    "{} at offset {} (no index row names it now)",
                    self.packs.pack_path(loc.pack).display(),
                    loc.offset.saturating_sub(super::packs::HEADER)
                )
            }
        };
        Ok(SetAside {
            sha256: sha256.to_string(),
            kept_as,
        })
    }

    /// Whether `stored`, a copy of blob `name`, is damaged in its own bytes:
    /// framed wrongly, or not decompressing to its name. A delta is judged
    /// against a sound base; with its base damaged (or unreadable for
    /// another reason, such as an I/O error) the fault is not this copy's
    /// (`false`); with its base stored nowhere, it cannot be read (`true`).
    fn own_copy_damaged(&self, name: &[u8; 32], stored: &[u8]) -> bool {
        match framing(stored) {
            None => true,
            Some(Framing::Whole) => !holds(name, stored, None),
            Some(Framing::Delta(base)) => {
                let base_stored = match self.stored_bytes(&hex::encode(base)) {
                    Ok(stored) => stored,
                    // A base stored nowhere: a damaged name, or a base
                    // lost. Either way this copy cannot be read, and set
                    // aside (never deleted) it is stored again, whole.
                    Err(BlobError::Missing(_)) => return true,
                    Err(_) => return false,
                };
                let base_sound = framing(&base_stored) == Some(Framing::Whole)
                    && holds(&base, &base_stored, None);
                base_sound && !holds(name, stored, Some(&base_stored))
            }
        }
    }

    /// Makes every blob written so far durable: appended packs and their index,
    /// and loose files (one `syncfs` of the file system holding them; `sync`
    /// where there is none).
    pub fn sync(&self) -> Result<(), BlobError> {
        self.packs.sync()?;
        if !self.loose_unsynced.swap(false, Ordering::AcqRel) {
            return Ok(());
        }
        self.sync_loose().inspect_err(|_| {
            self.loose_unsynced.store(true, Ordering::Release);
        })
    }

    fn sync_loose(&self) -> Result<(), BlobError> {
        let failed = |source| BlobError::Sync {
            dir: self.dir.clone(),
            source,
        };
        let dir = match File::open(&self.dir) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(failed(e)),
        };
        #[cfg(test)]
        SYNCED.with(|s| s.borrow_mut().push(self.dir.clone()));
        sync_file_system(&dir).map_err(failed)
    }

    /// The file of a loose blob: where an older store put it, if it is there,
    /// else where this version puts it (whether or not it exists yet). A
    /// packed blob has no file of its own.
    pub fn path(&self, sha256: &str) -> PathBuf {
        self.loose_file(sha256)
            .unwrap_or_else(|| self.current_path(sha256))
    }

    /// Whether the blob is stored, loose or packed.
    pub fn contains(&self, sha256: &str) -> Result<bool, BlobError> {
        valid(sha256)?;
        Ok(self.loose_file(sha256).is_some() || self.packs.locate(&raw(sha256)?)?.is_some())
    }

    /// Whether a copy of the blob is to be found, for a caller asking of
    /// nearly every source of a night: the pack index first, where a check's
    /// copies are (one lookup in its B-tree, no system call while the index
    /// stays the one open), its loose files only when no pack holds it
    /// ([`FsBlobStore::contains`] stats both loose paths first, two system
    /// calls that miss for every packed blob). Found is not proven sound:
    /// that is `verify`'s work.
    pub fn is_stored(&self, sha256: &str) -> Result<bool, BlobError> {
        let name = raw(sha256)?;
        Ok(self.packs.locate(&name)?.is_some() || self.loose_file(sha256).is_some())
    }

    /// The loose file holding a blob, if there is one.
    fn loose_file(&self, sha256: &str) -> Option<PathBuf> {
        [self.current_path(sha256), self.legacy_path(sha256)]
            .into_iter()
            .find(|p| p.exists())
    }

    /// `op` on the blob's file in this version's layout, else in the older one.
    fn either_path<T>(&self, sha256: &str, op: impl Fn(&Path) -> io::Result<T>) -> io::Result<T> {
        match op(&self.current_path(sha256)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => op(&self.legacy_path(sha256)),
            other => other,
        }
    }

    /// Where stores written before 2026-11 keep a blob.
    fn legacy_path(&self, sha256: &str) -> PathBuf {
        self.dir
            .join(fan_out(sha256, 0..2))
            .join(fan_out(sha256, 2..4))
            .join(sha256)
    }

    /// Where this version writes a blob.
    fn current_path(&self, sha256: &str) -> PathBuf {
        self.dir.join(fan_out(sha256, 0..2)).join(sha256)
    }

    /// Whether the blob has a loose file, made durable first by a store that
    /// syncs each write: another process's batch writer (a check beside
    /// `fetch --save`) renames its files into place and syncs them only
    /// before its own next commit, while this store's caller commits a row
    /// naming the blob as soon as this returns.
    ///
    /// A batch writer counts a file it finds as one it wrote: the next
    /// [`FsBlobStore::sync`] covers it. The file may be a killed check's,
    /// renamed and never synced, or a single write's between its rename and
    /// its folder's sync; a row naming it committed without a sync could
    /// outlive it at a power cut.
    fn loose_found(&self, sha256: &str) -> Result<bool, BlobError> {
        let Some(path) = self.loose_file(sha256) else {
            return Ok(false);
        };
        if self.sync_each {
            let io = Self::io(sha256);
            sync_file(&path).map_err(&io)?;
            sync_folder(path.parent().unwrap_or(&self.dir)).map_err(&io)?;
        } else {
            self.loose_unsynced.store(true, Ordering::Release);
        }
        Ok(true)
    }

    /// Writes a blob atomically, checking its hash on the way.
    fn write(
        &self,
        sha256: &str,
        size: Option<u64>,
        content: &mut dyn Read,
    ) -> Result<u64, BlobError> {
        valid(sha256)?;
        if self.loose_found(sha256)? || self.packs.locate(&raw(sha256)?)?.is_some() {
            return Ok(0);
        }
        let io = Self::io(sha256);
        let tmp = self.temp_file(sha256).map_err(&io)?;
        let mut reader = HashingReader {
            inner: content,
            hasher: Sha256::new(),
        };
        let mut encoder = zstd::stream::write::Encoder::new(tmp.as_file(), LEVEL).map_err(&io)?;
        encoder.set_pledged_src_size(size).map_err(&io)?;
        encoder.include_contentsize(size.is_some()).map_err(&io)?;
        encoder.include_checksum(true).map_err(&io)?;
        io::copy(&mut reader, &mut encoder).map_err(&io)?;
        encoder.finish().map_err(&io)?;
        let actual = hex::encode(reader.hasher.finalize());
        if actual != sha256 {
            return Err(BlobError::Mismatch {
                expected: sha256.to_string(),
                actual,
            });
        }
        self.commit(sha256, tmp)
    }

    /// Writes bytes whose sha256 the caller has already taken, compressing them
    /// in one call with this thread's reusable zstd context; into a pack when
    /// syncing is deferred.
    ///
    /// Bytes `like` a stored blob are stored as a delta against it, or against
    /// its base (see [`FsBlobStore::base_bytes`]), when that is fit and the
    /// delta small.
    fn write_hashed(
        &self,
        sha256: &str,
        bytes: &[u8],
        like: Option<&str>,
    ) -> Result<u64, BlobError> {
        debug_assert_eq!(hex::encode(Sha256::digest(bytes)), sha256);
        let raw_sha = raw(sha256)?;
        // The index first: a check's blobs are packed, and most are new.
        if self.packs.locate(&raw_sha)?.is_some() || self.loose_found(sha256)? {
            return Ok(0);
        }
        let io = Self::io(sha256);
        let base = like
            .filter(|b| *b != sha256 && bytes.len() as u64 <= MAX_BASE)
            .and_then(|b| self.base_bytes(b));
        let compressed = COMPRESSOR.with(|c| {
            let mut c = c.borrow_mut();
            let compressor = match c.as_mut() {
                Some(compressor) => compressor,
                None => {
                    let mut compressor = zstd::bulk::Compressor::new(LEVEL)?;
                    compressor.set_parameter(zstd::zstd_safe::CParameter::ChecksumFlag(true))?;
                    c.insert(compressor)
                }
            };
            let Some((base_name, base_bytes, base_stored)) = &base else {
                return compressor.compress(bytes);
            };
            let mut frame = Vec::with_capacity(zstd::zstd_safe::compress_bound(bytes.len()));
            compressor
                .context_mut()
                .compress_using_dict(&mut frame, bytes, base_bytes, DELTA_LEVEL)
                .map_err(zstd_error)?;
            // Half the base's own size or more: the page was rewritten, not
            // touched up. It is stored whole, to be the base of its own later
            // copies (a delta against a rewritten page's first copy would stay
            // that large at every night).
            if frame.len() * 2 >= *base_stored {
                return compressor.compress(bytes);
            }
            let mut stored = Vec::with_capacity(DELTA_HEADER + frame.len());
            stored.extend_from_slice(&DELTA_MAGIC);
            stored.extend_from_slice(&32u32.to_le_bytes());
            stored.extend_from_slice(base_name);
            stored.extend_from_slice(&frame);
            Ok(stored)
        });
        let compressed = compressed.map_err(&io)?;
        if !self.sync_each {
            return self.packs.append_new(&raw_sha, &compressed);
        }
        let mut tmp = self.temp_file(sha256).map_err(&io)?;
        tmp.write_all(&compressed).map_err(&io)?;
        self.commit(sha256, tmp)
    }

    /// The base for a blob like `like`: `like` itself when it is stored whole,
    /// else the blob `like` is a delta against (so a page's copies keep taking
    /// the last whole copy as their base, and no read ever follows a chain).
    /// Its name, bytes and stored size, when it is at most [`MAX_BASE`] bytes,
    /// does not begin like a zstd dictionary and hashes to its name. `None`
    /// otherwise, or on any failure to read it: the new blob is then simply
    /// stored whole.
    fn base_bytes(&self, like: &str) -> Option<([u8; 32], Vec<u8>, usize)> {
        let mut name = raw(like).ok()?;
        let mut stored = self.stored_bytes(like).ok()?;
        if let Some(base) = delta_base(&stored) {
            name = base;
            stored = self.stored_bytes(&hex::encode(base)).ok()?;
        }
        if delta_base(&stored).is_some() {
            return None;
        }
        let bytes = decompress_frame(&stored, None, MAX_BASE).ok()?;
        // A damaged base (one without a checksum decompresses to other bytes)
        // would make a delta readable only against that damage: unreadable
        // once reads check the base, and once the base is restored. A frame
        // with zstd's checksum was checked as it was decompressed.
        let sound = carries_checksum(&stored) || Sha256::digest(&bytes)[..] == name[..];
        (sound && !bytes.starts_with(&DICTIONARY_MAGIC)).then_some((name, bytes, stored.len()))
    }

    /// A blob's stored bytes (its compressed frame, whole), loose or packed.
    fn stored_bytes(&self, sha256: &str) -> Result<Vec<u8>, BlobError> {
        match self.either_path(sha256, |p| std::fs::read(p)) {
            Ok(bytes) => Ok(bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => self.packed_frame(sha256),
            Err(e) => Err(Self::io(sha256)(e)),
        }
    }

    /// A packed blob's stored bytes; [`BlobError::Missing`] when no pack has it.
    fn packed_frame(&self, sha256: &str) -> Result<Vec<u8>, BlobError> {
        let name = raw(sha256)?;
        match self.packs.locate(&name)? {
            Some(loc) => self.packs.read_frame(&name, loc),
            None => Err(BlobError::Missing(sha256.to_string())),
        }
    }

    /// The bytes of delta blob `sha256`, whose stored bytes are `stored`.
    fn decode_delta(&self, sha256: &str, stored: &[u8]) -> Result<Vec<u8>, BlobError> {
        let invalid =
            |what: String| Self::io(sha256)(io::Error::new(io::ErrorKind::InvalidData, what));
        let base = hex::encode(delta_base(stored).ok_or_else(|| invalid("not a delta".into()))?);
        let base_stored = self.stored_bytes(&base).map_err(|e| match e {
            BlobError::Missing(_) => invalid(format!("its base blob {base} is missing")),
            other => other,
        })?;
        if delta_base(&base_stored).is_some() {
            return Err(invalid(format!("its base blob {base} is itself a delta")));
        }
        // A base is at most MAX_BASE when it is chosen; one that says more is
        // damaged.
        let base_bytes = decompress_frame(&base_stored, None, MAX_BASE).map_err(|e| {
            invalid(format!(
                "its base blob {base} is damaged: it cannot be decompressed ({e})"
            ))
        })?;
        // Checked before it is used: a base written before frames carried a
        // checksum decompresses, damaged, to other bytes without complaint,
        // and the delta with them. Named here, the blob to restore is the
        // one said, not the copy asked for. One with a checksum was checked
        // by zstd as it was decompressed.
        if !carries_checksum(&base_stored) {
            let actual = hex::encode(Sha256::digest(&base_bytes));
            if actual != base {
                return Err(invalid(format!(
                    "its base blob {base} is damaged: it hashes to {actual}"
                )));
            }
        }
        decompress_frame(&stored[DELTA_HEADER..], Some(&base_bytes), MAX_DELTA_BODY)
            .map_err(|e| invalid(format!("its delta frame: {e}")))
    }

    /// A temporary file in the blob's folder, creating the folder on first use
    /// (most writes find it there: one failed open per folder, not a mkdir per
    /// blob). With a new file's usual mode (0666 less the umask), as packs
    /// and the database have, not tempfile's owner-only one: a reader of the
    /// store running as another user (`serve`, a report) must read every
    /// blob, not only the packed ones.
    fn temp_file(&self, sha256: &str) -> io::Result<tempfile::NamedTempFile> {
        use std::os::unix::fs::PermissionsExt;
        let folder = self.dir.join(fan_out(sha256, 0..2));
        let make = || {
            tempfile::Builder::new()
                .permissions(std::fs::Permissions::from_mode(0o666))
                .tempfile_in(&folder)
        };
        match make() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                create_dir_durably(&folder)?;
                make()
            }
            other => other,
        }
    }

    /// Renames a written temporary file to the blob's name (durably unless
    /// syncing is deferred) and returns its size.
    fn commit(&self, sha256: &str, tmp: tempfile::NamedTempFile) -> Result<u64, BlobError> {
        let io = Self::io(sha256);
        if self.sync_each {
            tmp.as_file().sync_all().map_err(&io)?;
        }
        let stored = tmp.as_file().metadata().map_err(&io)?.len();
        let path = self.current_path(sha256);
        tmp.persist(&path).map_err(|e| io(e.error))?;
        if self.sync_each {
            // The rename is durable only once the folder is synced.
            let folder = path.parent().unwrap_or(&self.dir);
            sync_folder(folder).map_err(&io)?;
        } else {
            // Marked after the rename: marked before, a sync racing in between
            // cleared the mark and left the rename to chance.
            self.loose_unsynced.store(true, Ordering::Release);
        }
        Ok(stored)
    }

    fn io(sha256: &str) -> impl Fn(io::Error) -> BlobError + '_ {
        move |source| BlobError::Io {
            sha256: sha256.to_string(),
            source,
        }
    }
}

#[cfg(test)]
thread_local! {
    /// The files and folders synced on this thread ([`sync_folder`],
    /// [`sync_file`]), for tests of the order of writes: a power cut cannot
    /// be staged in a test.
    pub(super) static SYNCED: std::cell::RefCell<Vec<PathBuf>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Makes `folder`, and any parent missing, each durably: a folder made is
/// an entry of its parent, lost at a power cut until the parent is synced,
/// and with it every blob under it that a row may already name. Made by
/// another thread meanwhile, its parent is synced all the same: this
/// thread may not write under it before it is durable.
pub(super) fn create_dir_durably(folder: &Path) -> io::Result<()> {
    let made = match std::fs::create_dir(folder) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => match folder.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => {
                create_dir_durably(parent)?;
                std::fs::create_dir(folder)
            }
            _ => Err(e),
        },
        other => other,
    };
    match made {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
        _ => {}
    }
    match folder.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => sync_folder(parent),
        _ => sync_folder(Path::new(".")),
    }
}

/// Makes a file's bytes durable.
fn sync_file(path: &Path) -> io::Result<()> {
    #[cfg(test)]
    SYNCED.with(|s| s.borrow_mut().push(path.to_path_buf()));
    File::open(path).and_then(|f| f.sync_all())
}

/// Makes a folder's entries durable: a file renamed or made in it, a folder
/// made in it.
pub(super) fn sync_folder(folder: &Path) -> io::Result<()> {
    #[cfg(test)]
    SYNCED.with(|s| s.borrow_mut().push(folder.to_path_buf()));
    File::open(folder).and_then(|d| d.sync_all())
}

#[cfg(target_os = "linux")]
fn sync_file_system(any_file: &File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: syncfs only reads the descriptor, which `any_file` keeps open.
    if unsafe { libc::syncfs(any_file.as_raw_fd()) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn sync_file_system(_any_file: &File) -> io::Result<()> {
    // SAFETY: sync takes no arguments and cannot fail.
    unsafe { libc::sync() };
    Ok(())
}

/// A folder name from a digest's characters. A damaged row's "digest" (too
/// short, not hex) names a folder no blob is in, so reading it finds nothing
/// instead of panicking.
fn fan_out(sha256: &str, range: std::ops::Range<usize>) -> &str {
    sha256.get(range).unwrap_or("not-a-sha256")
}

/// A zstd error code as an I/O error, with zstd's own words for it.
fn zstd_error(code: zstd::zstd_safe::ErrorCode) -> io::Error {
    io::Error::other(zstd::zstd_safe::get_error_name(code))
}

/// Hashes what passes through it.
struct HashingReader<'a> {
    inner: &'a mut dyn Read,
    hasher: Sha256,
}

impl Read for HashingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

impl BlobStore for FsBlobStore {
    fn put(&self, sha256: &str, content: &mut dyn Read) -> Result<u64, BlobError> {
        self.write(sha256, None, content)
    }

    fn put_sized(&self, sha256: &str, size: u64, content: &mut dyn Read) -> Result<u64, BlobError> {
        self.write(sha256, Some(size), content)
    }

    fn put_hashed(&self, sha256: &str, bytes: &[u8]) -> Result<u64, BlobError> {
        self.write_hashed(sha256, bytes, None)
    }

    fn put_hashed_against(&self, sha256: &str, bytes: &[u8], like: &str) -> Result<u64, BlobError> {
        self.write_hashed(sha256, bytes, Some(like))
    }

    fn open(&self, sha256: &str) -> Result<Box<dyn Read + Send>, BlobError> {
        valid(sha256)?;
        let file = match self.either_path(sha256, |p| File::open(p)) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let frame = self.packed_frame(sha256)?;
                if delta_base(&frame).is_some() {
                    return Ok(Box::new(io::Cursor::new(
                        self.decode_delta(sha256, &frame)?,
                    )));
                }
                let decoder = zstd::stream::read::Decoder::with_buffer(io::Cursor::new(frame))
                    .map_err(Self::io(sha256))?;
                return Ok(Box::new(decoder));
            }
            Err(e) => return Err(Self::io(sha256)(e)),
        };
        let mut file = BufReader::new(file);
        // A loose file is streamed unless it begins as a delta does.
        let head = file.fill_buf().map_err(Self::io(sha256))?;
        if head.starts_with(&DELTA_MAGIC) {
            let mut stored = Vec::new();
            file.read_to_end(&mut stored).map_err(Self::io(sha256))?;
            return Ok(Box::new(io::Cursor::new(
                self.decode_delta(sha256, &stored)?,
            )));
        }
        let decoder = zstd::stream::read::Decoder::with_buffer(file).map_err(Self::io(sha256))?;
        Ok(Box::new(decoder))
    }

    fn stored_size(&self, sha256: &str) -> Result<u64, BlobError> {
        valid(sha256)?;
        match self.either_path(sha256, |p| std::fs::metadata(p)) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                match self.packs.locate(&raw(sha256)?)? {
                    Some(loc) => Ok(loc.length),
                    None => Err(BlobError::Missing(sha256.to_string())),
                }
            }
            Err(e) => Err(Self::io(sha256)(e)),
        }
    }

    fn unindexed(&self) -> Result<Vec<Unindexed>, BlobError> {
        self.packs.unindexed()
    }

    fn leftovers(&self) -> Result<Vec<Leftover>, BlobError> {
        // `tempfile`'s names: `.tmp` and random letters.
        self.files_named(|name| name.starts_with(".tmp"))
    }

    fn set_aside_files(&self) -> Result<Vec<Leftover>, BlobError> {
        self.files_named(|name| {
            name.split_once(".damaged-")
                .is_some_and(|(sha, _)| valid(sha).is_ok())
        })
    }

    fn list(&self) -> Result<Vec<String>, BlobError> {
        let mut out: Vec<String> = self.packs.list()?.iter().map(hex::encode).collect();
        if !self.dir.exists() {
            return Ok(out);
        }
        // Depth 2 is this version's layout, depth 3 an older store's.
        for entry in walkdir::WalkDir::new(&self.dir).min_depth(2).max_depth(3) {
            let entry = entry.map_err(listing_error)?;
            let name = entry.file_name().to_string_lossy();
            if entry.file_type().is_file() && valid(&name).is_ok() {
                out.push(name.into_owned());
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }
}

/// A failure to walk the blob folder.
fn listing_error(e: walkdir::Error) -> BlobError {
    BlobError::Io {
        sha256: String::from("(listing)"),
        source: e
            .into_io_error()
            .unwrap_or_else(|| io::Error::other("walk failed")),
    }
}

/// Reads a blob whole and returns the sha256 and length of its decompressed bytes.
pub fn rehash(blobs: &dyn BlobStore, sha256: &str) -> Result<(String, u64), BlobError> {
    let mut r = blobs.open(sha256)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut len = 0u64;
    loop {
        let n = r.read(&mut buf).map_err(FsBlobStore::io(sha256))?;
        if n == 0 {
            break;
        }
        len += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((hex::encode(hasher.finalize()), len))
}

/// Writes a blob's bytes to `out`. A failure to write is
/// [`BlobError::Output`], told apart from a failure to read the blob.
pub fn copy_to(blobs: &dyn BlobStore, sha256: &str, out: &mut dyn Write) -> Result<u64, BlobError> {
    let mut r = blobs.open(sha256)?;
    pump(&mut *r, &mut |chunk| out.write_all(chunk)).map_err(|side| match side {
        Side::Read(e) => FsBlobStore::io(sha256)(e),
        Side::Write(e) => BlobError::Output(e),
    })
}

/// Which side of a stream failed: the blob being read or the file being written.
pub(crate) enum Side {
    Read(io::Error),
    Write(io::Error),
}

/// Streams `src` into `sink` in 64 KiB chunks; returns the bytes passed.
pub(crate) fn pump(
    src: &mut dyn Read,
    sink: &mut dyn FnMut(&[u8]) -> io::Result<()>,
) -> Result<u64, Side> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Side::Read(e)),
        };
        sink(&buf[..n]).map_err(Side::Write)?;
        total += n as u64;
    }
}

/// The folder blobs live in, under the data folder.
pub fn blob_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("blobs")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(b: &[u8]) -> String {
        hex::encode(Sha256::digest(b))
    }

    /// A data folder under a name that is not UTF-8 made `verify --format
    /// json` fail on its first leftover, its JSON cut off mid-way.
    #[cfg(unix)]
    #[test]
    fn a_leftover_whose_path_is_not_utf8_is_json_all_the_same() {
        use std::os::unix::ffi::OsStrExt;
        let left = Leftover {
            path: PathBuf::from(std::ffi::OsStr::from_bytes(b"/d\xff/blobs/.tmp-1")),
            bytes: 3,
        };
        let json = serde_json::to_value(&left).unwrap();
        assert_eq!(json["path"], "/d\u{FFFD}/blobs/.tmp-1");
    }

    #[test]
    fn a_damaged_digest_finds_nothing_rather_than_panicking() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::new(dir.path().join("blobs"));
        for bad in ["", "a", "é", "ab\u{e9}cd"] {
            let mut out = Vec::new();
            assert!(copy_to(&store, bad, &mut out).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_blob_in_a_new_folder_is_named_durably_up_to_the_data_folder() {
        // The rename is durable once the blob's folder is synced; that
        // folder, and the blob folder itself on a first write, are new
        // entries of their parents, lost with the blob unless those are
        // synced too.
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let store = FsBlobStore::new(data.join("blobs"));
        let body = b"<html>first</html>".to_vec();
        let name = sha(&body);
        SYNCED.with(|s| s.borrow_mut().clear());
        store.put_hashed(&name, &body).unwrap();
        let synced = SYNCED.with(|s| s.borrow().clone());
        for folder in [
            data.join("blobs").join(&name[..2]),
            data.join("blobs"),
            data,
        ] {
            assert!(
                synced.contains(&folder),
                "{folder:?} not synced: {synced:?}"
            );
        }
    }

    #[test]
    fn a_single_write_finding_a_batch_writers_unsynced_blob_makes_it_durable() {
        // `fetch --save` beside a running check: the check renamed a large
        // body's blob into place and syncs it only before its own next
        // commit. The single write, finding it, commits a row naming it at
        // once: it must not name bytes a power cut can still take.
        let dir = tempfile::tempdir().unwrap();
        let batch = FsBlobStore::deferred_sync(dir.path());
        let body = b"<p>a large body, streamed</p>".repeat(100);
        let name = sha(&body);
        batch
            .put_sized(&name, body.len() as u64, &mut body.as_slice())
            .unwrap();
        let path = batch.path(&name);
        assert!(path.exists());
        SYNCED.with(|s| s.borrow_mut().clear());
        let single = FsBlobStore::new(dir.path());
        assert_eq!(single.put(&name, &mut body.as_slice()).unwrap(), 0);
        assert_eq!(single.put_hashed(&name, &body).unwrap(), 0);
        let synced = SYNCED.with(|s| s.borrow().clone());
        for p in [&path, &path.parent().unwrap().to_path_buf()] {
            assert!(synced.contains(p), "{p:?} not synced: {synced:?}");
        }
    }

    #[test]
    fn a_batch_writer_finding_a_loose_blob_makes_it_durable_before_its_rows() {
        // A check killed after renaming a large body's blob into place but
        // before syncing it leaves the file in the page cache only; so does
        // a single write between its rename and its folder's sync. The next
        // check finds the file, stores nothing, and its next commit names
        // it: its sync before that commit must cover the file, or a power
        // cut leaves a row without its blob.
        let dir = tempfile::tempdir().unwrap();
        let killed = FsBlobStore::deferred_sync(dir.path());
        let body = b"<p>a large body, streamed</p>".repeat(100);
        let name = sha(&body);
        killed
            .put_sized(&name, body.len() as u64, &mut body.as_slice())
            .unwrap();
        drop(killed); // never synced
        for adopt in ["streamed", "in memory"] {
            let next = FsBlobStore::deferred_sync(dir.path());
            let stored = match adopt {
                "streamed" => next
                    .put_sized(&name, body.len() as u64, &mut body.as_slice())
                    .unwrap(),
                _ => next.put_hashed(&name, &body).unwrap(),
            };
            assert_eq!(stored, 0, "{adopt}: found, not written again");
            SYNCED.with(|s| s.borrow_mut().clear());
            next.sync().unwrap();
            let synced = SYNCED.with(|s| s.borrow().clone());
            assert!(
                synced.contains(&dir.path().to_path_buf()),
                "{adopt}: the blob folder's file system not synced: {synced:?}"
            );
        }
    }

    #[test]
    fn a_loose_blob_is_readable_by_whom_the_umask_lets_read() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::new(dir.path().join("blobs"));
        let body = b"<html>loose</html>".to_vec();
        let sha = sha(&body);
        store.put(&sha, &mut body.as_slice()).unwrap();
        let blob = walkdir::WalkDir::new(dir.path())
            .into_iter()
            .filter_map(Result::ok)
            .find(|e| e.file_name().to_string_lossy() == sha)
            .unwrap();
        let mode = blob.metadata().unwrap().permissions().mode() & 0o777;
        let probe = dir.path().join("probe");
        std::fs::write(&probe, "").unwrap();
        let usual = std::fs::metadata(&probe).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, usual, "{mode:o} against {usual:o}");
    }

    #[test]
    fn a_deferred_store_writes_the_same_blobs_and_syncs_on_demand() {
        let dir = tempfile::tempdir().unwrap();
        let deferred = FsBlobStore::deferred_sync(dir.path().join("blobs"));
        deferred.sync().unwrap(); // nothing written yet, no folder: fine
        let body = b"<html>deferred</html>".to_vec();
        let sha = hex::encode(Sha256::digest(&body));
        assert!(deferred.put(&sha, &mut body.as_slice()).unwrap() > 0);
        deferred.sync().unwrap();
        let plain = FsBlobStore::new(dir.path().join("blobs"));
        let mut back = Vec::new();
        copy_to(&plain, &sha, &mut back).unwrap();
        assert_eq!(back, body);
        assert_eq!(
            plain.put(&sha, &mut body.as_slice()).unwrap(),
            0,
            "deduplicated"
        );
    }

    #[test]
    fn put_open_dedup_and_refuse_a_wrong_name() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::new(dir.path());
        let html =
            "<html><body>".to_string() + &"<p>article text here</p>".repeat(500) + "</body></html>";
        let name = sha(html.as_bytes());
        let added = store.put(&name, &mut html.as_bytes()).unwrap();
        assert!(added > 0 && added < html.len() as u64 / 4, "{added}");
        assert_eq!(
            store.put(&name, &mut html.as_bytes()).unwrap(),
            0,
            "stored once"
        );
        let mut back = Vec::new();
        copy_to(&store, &name, &mut back).unwrap();
        assert_eq!(back, html.as_bytes());
        assert_eq!(store.list().unwrap(), vec![name.clone()]);
        assert!(
            store
                .path(&name)
                .ends_with(format!("{}/{}", &name[..2], name))
        );
        let wrong = sha(b"other");
        assert!(matches!(
            store.put(&wrong, &mut &b"not other"[..]),
            Err(BlobError::Mismatch { .. })
        ));
        assert!(!store.path(&wrong).exists(), "nothing left behind");
        assert!(matches!(store.open(&wrong), Err(BlobError::Missing(_))));
        assert!(matches!(
            store.open("../../etc/passwd"),
            Err(BlobError::BadName(_))
        ));
    }

    #[test]
    fn blobs_of_an_older_two_level_store_are_found_listed_and_not_written_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::new(dir.path());
        let old_body = b"<html>written by an older version</html>".to_vec();
        let old = sha(&old_body);
        let legacy = dir.path().join(&old[..2]).join(&old[2..4]).join(&old);
        std::fs::create_dir_all(legacy.parent().unwrap()).unwrap();
        let compressed = zstd::bulk::compress(&old_body, LEVEL).unwrap();
        std::fs::write(&legacy, &compressed).unwrap();

        assert_eq!(store.path(&old), legacy);
        assert_eq!(
            store.put_hashed(&old, &old_body).unwrap(),
            0,
            "deduplicated"
        );
        assert_eq!(store.put(&old, &mut old_body.as_slice()).unwrap(), 0);
        assert_eq!(store.stored_size(&old).unwrap(), compressed.len() as u64);
        let mut back = Vec::new();
        copy_to(&store, &old, &mut back).unwrap();
        assert_eq!(back, old_body);

        let new_body = b"<html>written now</html>".repeat(100);
        let new = sha(&new_body);
        let added = store.put_hashed(&new, &new_body).unwrap();
        assert!(added > 0 && added < new_body.len() as u64, "{added}");
        assert_eq!(store.path(&new), dir.path().join(&new[..2]).join(&new));
        assert_eq!(
            rehash(&store, &new).unwrap(),
            (new.clone(), new_body.len() as u64)
        );
        let mut both = vec![old, new];
        both.sort();
        assert_eq!(store.list().unwrap(), both);
    }

    /// An article page of about 40 KB of varied words, with `stamp` in the middle.
    fn page(stamp: &str) -> Vec<u8> {
        let mut html = String::from("<html><body><p>");
        let mut x = 12345u64;
        for n in 0..6000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = 2 + (x >> 61) as usize;
            html.extend((0..len).map(|i| (b'a' + ((x >> (8 + 5 * i)) % 26) as u8) as char));
            html.push(' ');
            if n == 3000 {
                html += stamp;
            }
        }
        html.into_bytes()
    }

    fn read_back(store: &FsBlobStore, name: &str) -> Vec<u8> {
        let mut back = Vec::new();
        copy_to(store, name, &mut back).unwrap();
        back
    }

    fn stored(store: &FsBlobStore, name: &str) -> Vec<u8> {
        store.stored_bytes(name).unwrap()
    }

    /// Flips a byte in the middle of a blob's stored bytes, loose or packed.
    fn damage(store: &FsBlobStore, name: &str) {
        damage_at(store, name, |len| len / 2);
    }

    /// Flips the byte `at(length)` of a blob's stored bytes, loose or packed.
    fn damage_at(store: &FsBlobStore, name: &str, at: impl Fn(u64) -> u64) {
        let (path, at) = match store.loose_file(name) {
            Some(path) => {
                let len = std::fs::metadata(&path).unwrap().len();
                (path, at(len))
            }
            None => {
                let loc = store.packs.locate(&raw(name).unwrap()).unwrap().unwrap();
                (store.packs.pack_path(loc.pack), loc.offset + at(loc.length))
            }
        };
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[at as usize] ^= 0x10;
        std::fs::write(&path, bytes).unwrap();
    }

    #[test]
    fn a_damaged_copy_set_aside_is_stored_again_by_the_path_a_check_takes() {
        // A check that fetches a page whose archived copy is damaged has
        // the right bytes in hand: storing them must mend the archive.
        for deferred in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            let store = if deferred {
                FsBlobStore::deferred_sync(dir.path())
            } else {
                FsBlobStore::new(dir.path())
            };
            let body = page("first");
            let name = sha(&body);
            assert!(store.put_hashed(&name, &body).unwrap() > 0);
            store.sync().unwrap();
            assert_eq!(store.loose_file(&name).is_none(), deferred);
            damage(&store, &name);
            assert!(rehash(&store, &name).is_err(), "damaged");
            // The check's store of the same bytes, a copy like itself: the
            // damaged copy is found, so nothing is written, and it stays
            // unreadable.
            assert_eq!(store.put_hashed_against(&name, &body, &name).unwrap(), 0);
            store.sync().unwrap();
            assert!(rehash(&store, &name).is_err(), "deferred: {deferred}");
            // Set aside (what `verify --repair` does), the next store of
            // the same bytes writes them again.
            let aside = store.set_aside_if_damaged(&name).unwrap();
            assert_eq!(aside.len(), 1, "{aside:?}");
            assert_eq!(store.set_aside_if_damaged(&name).unwrap(), vec![]);
            if !deferred {
                // Renamed beside where it was, never deleted.
                assert!(std::path::Path::new(&aside[0].kept_as).exists());
                assert!(!store.contains(&name).unwrap());
                assert!(store.list().unwrap().is_empty(), "not a blob any more");
            }
            assert!(store.put_hashed_against(&name, &body, &name).unwrap() > 0);
            store.sync().unwrap();
            assert_eq!(store.set_aside_if_damaged(&name).unwrap(), vec![]);
            let reader = FsBlobStore::new(dir.path());
            assert_eq!(
                rehash(&reader, &name).ok(),
                Some((name.clone(), body.len() as u64)),
                "deferred: {deferred}"
            );
        }
    }

    #[test]
    fn a_delta_is_set_aside_for_its_own_damage_and_not_for_its_bases() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::deferred_sync(dir.path());
        let (first, second) = (page("first"), page("second"));
        let (base, delta) = (sha(&first), sha(&second));
        store.put_hashed(&base, &first).unwrap();
        store.put_hashed_against(&delta, &second, &base).unwrap();
        store.sync().unwrap();
        assert!(delta_base(&stored(&store, &delta)).is_some(), "a delta");
        // Its base damaged, the delta reads no more, but its bytes are sound:
        // the base is what is set aside, and once stored again the delta
        // reads through it.
        damage(&store, &base);
        assert!(rehash(&store, &delta).is_err());
        assert_eq!(store.set_aside_if_damaged(&delta).unwrap(), vec![]);
        assert_eq!(store.set_aside_if_damaged(&base).unwrap().len(), 1);
        store.put_hashed(&base, &first).unwrap();
        store.sync().unwrap();
        assert_eq!(read_back(&store, &delta), second);
        // Damaged itself, in its frame or in the name of its base (which
        // then names a blob stored nowhere), the delta is set aside.
        for at in [|len: u64| len - 3, |_| 20] {
            damage_at(&store, &delta, at);
            assert!(rehash(&store, &delta).is_err());
            assert_eq!(store.set_aside_if_damaged(&delta).unwrap().len(), 1);
            assert_eq!(store.set_aside_if_damaged(&base).unwrap(), vec![]);
            assert!(!store.contains(&delta).unwrap());
            // The record no row names now is no sound record the index
            // lost: no reason to rebuild it.
            assert_eq!(store.packs().needs_rebuild(true).unwrap(), None);
            store.put_hashed_against(&delta, &second, &base).unwrap();
            store.sync().unwrap();
            assert_eq!(read_back(&store, &delta), second);
        }
    }

    #[test]
    fn verify_sets_aside_a_damaged_base_and_keeps_its_sound_delta_whatever_the_order() {
        use crate::archive::verify::{Problem, VerifyReport, set_aside_damaged};
        let (first, second) = (page("first"), page("second"));
        let (base, delta) = (sha(&first), sha(&second));
        // Both are found corrupt (the delta reads through its base); in
        // either order only the base is set aside: judged after the base
        // was gone, the delta would have been judged unreadable too.
        for order in [[&base, &delta], [&delta, &base]] {
            let dir = tempfile::tempdir().unwrap();
            let store = FsBlobStore::deferred_sync(dir.path());
            store.put_hashed(&base, &first).unwrap();
            store.put_hashed_against(&delta, &second, &base).unwrap();
            store.sync().unwrap();
            damage(&store, &base);
            let mut report = VerifyReport {
                problems: order
                    .iter()
                    .map(|sha| Problem {
                        kind: "corrupt_blob",
                        sha256: Some(sha.to_string()),
                        captures: vec![],
                        sources: vec![format!("https://example.org/{}", &sha[..4])],
                        detail: String::new(),
                    })
                    .collect(),
                ..VerifyReport::default()
            };
            set_aside_damaged(&mut report, &store);
            let aside: Vec<&str> = report.set_aside.iter().map(|c| c.sha256.as_str()).collect();
            assert_eq!(aside, [base.as_str()], "{order:?}");
            assert_eq!(report.problems.len(), 2, "nothing more to say");
            assert_eq!(
                report.set_aside[0].sources,
                [format!("https://example.org/{}", &base[..4])]
            );
            store.put_hashed(&base, &first).unwrap();
            store.sync().unwrap();
            assert_eq!(read_back(&store, &delta), second);
        }
    }

    #[test]
    fn a_page_like_its_base_is_stored_as_a_small_delta_and_read_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        // Loose files (written one by one) and packs (a check's batch writer).
        for store in [
            FsBlobStore::new(dir.path().join("loose")),
            FsBlobStore::deferred_sync(dir.path().join("packed")),
        ] {
            let (base, new) = (page("at 10:00"), page("at 10:05"));
            let (base_name, new_name) = (sha(&base), sha(&new));
            let whole = store.put_hashed(&base_name, &base).unwrap();
            let delta = store
                .put_hashed_against(&new_name, &new, &base_name)
                .unwrap();
            store.sync().unwrap();
            assert!(
                delta > 0 && delta * 20 < whole,
                "delta {delta} against {whole}"
            );
            assert_eq!(delta_base(&stored(&store, &new_name)), raw(&base_name).ok());
            // A pack's count of added bytes includes its record header.
            assert!(store.stored_size(&new_name).unwrap() <= delta);
            assert_eq!(read_back(&store, &new_name), new);
            assert_eq!(read_back(&store, &base_name), base);
            assert_eq!(
                rehash(&store, &new_name).unwrap(),
                (new_name.clone(), new.len() as u64)
            );
            // Stored once, like any blob.
            assert_eq!(
                store
                    .put_hashed_against(&new_name, &new, &base_name)
                    .unwrap(),
                0
            );
        }
    }

    #[test]
    fn a_pack_index_rebuild_checks_each_delta_against_its_base_packed_or_loose() {
        let dir = tempfile::tempdir().unwrap();
        let loose = FsBlobStore::new(dir.path());
        let packed = FsBlobStore::deferred_sync(dir.path());
        let (loose_base, packed_base) = (page("loose base"), page("packed base"));
        loose.put_hashed(&sha(&loose_base), &loose_base).unwrap();
        packed.put_hashed(&sha(&packed_base), &packed_base).unwrap();
        let deltas: Vec<(Vec<u8>, String)> = [
            ("on the packed base", &packed_base),
            ("on the loose base", &loose_base),
            ("to be damaged", &packed_base),
        ]
        .into_iter()
        .map(|(stamp, base)| {
            let body = page(stamp);
            packed
                .put_hashed_against(&sha(&body), &body, &sha(base))
                .unwrap();
            (body, sha(base))
        })
        .collect();
        packed.sync().unwrap();
        for (body, _) in &deltas {
            assert!(delta_base(&stored(&packed, &sha(body))).is_some());
        }
        // The damaged delta names another base: framed soundly, but its
        // bytes against that base are not the blob.
        let damaged = raw(&sha(&deltas[2].0)).unwrap();
        let loc = packed.packs().locate(&damaged).unwrap().unwrap();
        let pack = packed.packs().pack_path(loc.pack);
        let mut bytes = std::fs::read(&pack).unwrap();
        let name = loc.offset as usize + 8;
        bytes[name..name + 32].copy_from_slice(&raw(&sha(&loose_base)).unwrap());
        std::fs::write(&pack, &bytes).unwrap();

        let rebuilt = packed.rebuild_pack_index().unwrap();
        assert_eq!(rebuilt.deltas_without_base, 0);
        assert_eq!(rebuilt.blobs, 3, "{rebuilt:?}");
        assert_eq!(rebuilt.unreadable.len(), 1, "{rebuilt:?}");
        assert_eq!(rebuilt.unreadable[0].offset, loc.offset - 44);
        let reader = FsBlobStore::new(dir.path());
        assert_eq!(reader.packs().locate(&damaged).unwrap(), None);
        for (body, _) in &deltas[..2] {
            assert_eq!(&read_back(&reader, &sha(body)), body);
        }

        // With its loose base gone, a delta cannot be told from one whose
        // base name was damaged (as the third one's was): neither is
        // indexed, and both are counted.
        std::fs::remove_file(loose.path(&sha(&loose_base))).unwrap();
        let rebuilt = packed.rebuild_pack_index().unwrap();
        assert_eq!(rebuilt.deltas_without_base, 2, "{rebuilt:?}");
        assert_eq!(rebuilt.unreadable, vec![]);
        for (body, _) in &deltas[1..] {
            let name = raw(&sha(body)).unwrap();
            assert_eq!(packed.packs().locate(&name).unwrap(), None);
        }
        assert_eq!(&read_back(&packed, &sha(&deltas[0].0)), &deltas[0].0);
    }

    #[test]
    fn an_unfit_base_means_the_blob_is_stored_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::new(dir.path());
        let is_whole = |name: &str| delta_base(&stored(&store, name)).is_none();
        let a = page("a");
        let b = page("b");
        let c = page("c");
        store.put_hashed(&sha(&a), &a).unwrap();
        store.put_hashed_against(&sha(&b), &b, &sha(&a)).unwrap();
        assert!(!is_whole(&sha(&b)));
        // A delta is never a base: a copy like one takes the delta's own base,
        // so no read follows a chain.
        store.put_hashed_against(&sha(&c), &c, &sha(&b)).unwrap();
        assert_eq!(delta_base(&stored(&store, &sha(&c))), raw(&sha(&a)).ok());
        // A base that is not stored.
        let d = page("d");
        store
            .put_hashed_against(&sha(&d), &d, &sha(b"nothing"))
            .unwrap();
        assert!(is_whole(&sha(&d)));
        // A base zstd would take for a formatted dictionary.
        let mut dict_like = DICTIONARY_MAGIC.to_vec();
        dict_like.extend(page("x"));
        let e = [&dict_like[..], b"!"].concat();
        store.put_hashed(&sha(&dict_like), &dict_like).unwrap();
        store
            .put_hashed_against(&sha(&e), &e, &sha(&dict_like))
            .unwrap();
        assert!(is_whole(&sha(&e)));
        // A base larger than MAX_BASE.
        let big: Vec<u8> = page("big").repeat(1 + (MAX_BASE as usize) / a.len());
        let f = [&big[..], b"!"].concat();
        store.put_hashed(&sha(&big), &big).unwrap();
        store.put_hashed_against(&sha(&f), &f, &sha(&big)).unwrap();
        assert!(is_whole(&sha(&f)));
        // A body larger than MAX_BASE, against a fit base.
        let g = [&a[..], &big[..]].concat();
        store.put_hashed_against(&sha(&g), &g, &sha(&a)).unwrap();
        assert!(is_whole(&sha(&g)));
        for body in [&c, &d, &e, &f, &g] {
            assert_eq!(&read_back(&store, &sha(body)), body);
        }
    }

    #[test]
    fn a_rewritten_page_is_stored_whole_and_becomes_the_base_of_its_next_copies() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::new(dir.path());
        let cited = page("cited");
        // The same length of other words: a rewrite, not a touch-up.
        let rewritten: Vec<u8> = page("rewritten").iter().rev().copied().collect();
        let later = [&rewritten[..], b"<p>updated at 10:05</p>"].concat();
        let then = [&rewritten[..], b"<p>updated at 10:10</p>"].concat();
        store.put_hashed(&sha(&cited), &cited).unwrap();
        store
            .put_hashed_against(&sha(&rewritten), &rewritten, &sha(&cited))
            .unwrap();
        assert_eq!(delta_base(&stored(&store, &sha(&rewritten))), None);
        store
            .put_hashed_against(&sha(&later), &later, &sha(&rewritten))
            .unwrap();
        assert_eq!(
            delta_base(&stored(&store, &sha(&later))),
            raw(&sha(&rewritten)).ok()
        );
        // Like the latest copy, a delta: its base again, never the delta.
        store
            .put_hashed_against(&sha(&then), &then, &sha(&later))
            .unwrap();
        assert_eq!(
            delta_base(&stored(&store, &sha(&then))),
            raw(&sha(&rewritten)).ok()
        );
        for body in [&rewritten, &later, &then] {
            assert_eq!(&read_back(&store, &sha(body)), body);
        }
    }

    #[test]
    fn a_delta_claiming_a_huge_size_is_an_error_not_an_abort() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::new(dir.path());
        let a = page("a");
        store.put_hashed(&sha(&a), &a).unwrap();
        // A delta header naming `a`, then a zstd frame header (single segment,
        // 8-byte content size) that claims a terabyte.
        let mut stored = DELTA_MAGIC.to_vec();
        stored.extend(32u32.to_le_bytes());
        stored.extend(raw(&sha(&a)).unwrap());
        stored.extend(0xFD2F_B528u32.to_le_bytes());
        stored.push(0xE0);
        stored.extend((1u64 << 40).to_le_bytes());
        let name = sha(b"damaged");
        std::fs::create_dir_all(store.current_path(&name).parent().unwrap()).unwrap();
        std::fs::write(store.current_path(&name), &stored).unwrap();
        let text = store.open(&name).err().expect("refused").to_string();
        assert!(text.contains("says 1099511627776 bytes"), "{text}");
    }

    #[test]
    fn a_delta_whose_base_is_gone_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::new(dir.path());
        let (a, b) = (page("a"), page("b"));
        store.put_hashed(&sha(&a), &a).unwrap();
        store.put_hashed_against(&sha(&b), &b, &sha(&a)).unwrap();
        std::fs::remove_file(store.path(&sha(&a))).unwrap();
        let err = store.open(&sha(&b)).err().expect("the base is missing");
        let text = err.to_string();
        assert!(
            text.contains(&sha(&b))
                && text.contains(&format!("its base blob {} is missing", sha(&a))),
            "{text}"
        );
    }

    #[test]
    fn a_delta_whose_base_is_damaged_names_its_base_and_gives_no_bytes() {
        // A base written before frames carried a checksum decompresses,
        // damaged, to other bytes without complaint; the delta made against
        // it then decoded to other bytes too, handed out by `open` to be
        // caught (if at all) by the caller's hash of the delta, which named
        // the copy asked for and not the blob that was damaged.
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::new(dir.path());
        let (a, b) = (page("a"), page("b"));
        let (an, bn) = (sha(&a), sha(&b));
        let path = store.current_path(&an);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let old_frame = zstd::bulk::compress(&a, 3).unwrap();
        std::fs::write(&path, &old_frame).unwrap();
        store.put_hashed_against(&bn, &b, &an).unwrap();
        assert_eq!(delta_base(&stored(&store, &bn)), raw(&an).ok());
        assert_eq!(read_back(&store, &bn), b, "sound, it reads back");
        // A literal's byte flipped: still a frame that decompresses.
        let mut damaged = old_frame.clone();
        let at = damaged.len() / 2;
        damaged[at] ^= 0x01;
        let decoded = zstd::bulk::decompress(&damaged, a.len()).unwrap();
        assert_ne!(decoded, a);
        std::fs::write(&path, &damaged).unwrap();
        let err = store.open(&bn).err().expect("no bytes of a damaged base");
        let text = err.to_string();
        assert!(
            text.contains(&bn) && text.contains(&format!("its base blob {an} is damaged")),
            "{text}"
        );
        assert!(rehash(&store, &bn).is_err());
        // Nor is a new copy made a delta against it: decoded against the
        // same damaged bytes it would read back, but no longer once the
        // base is checked, nor once the base is restored.
        let c = page("c");
        store.put_hashed_against(&sha(&c), &c, &an).unwrap();
        assert_eq!(delta_base(&stored(&store, &sha(&c))), None, "stored whole");
        assert_eq!(read_back(&store, &sha(&c)), c);
    }

    #[test]
    fn a_checksummed_base_is_left_to_zstd_to_check_and_its_damage_still_named() {
        // Whole frames written now carry zstd's checksum, so a base's sha256
        // is not taken again for each delta; its damage must still stop the
        // delta and name the base.
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::new(dir.path());
        let (a, b) = (page("a"), page("b"));
        let (an, bn) = (sha(&a), sha(&b));
        store.put_hashed(&an, &a).unwrap();
        let frame = stored(&store, &an);
        assert!(carries_checksum(&frame));
        assert!(!carries_checksum(&zstd::bulk::compress(&a, 3).unwrap()));
        assert!(!carries_checksum(&frame[..4]));
        store.put_hashed_against(&bn, &b, &an).unwrap();
        assert_eq!(delta_base(&stored(&store, &bn)), raw(&an).ok());
        assert_eq!(read_back(&store, &bn), b);
        let mut damaged = frame.clone();
        let at = damaged.len() / 2;
        damaged[at] ^= 0x01;
        std::fs::write(store.current_path(&an), &damaged).unwrap();
        let text = store.open(&bn).err().expect("no bytes").to_string();
        assert!(
            text.contains(&format!("its base blob {an} is damaged")),
            "{text}"
        );
        let c = page("c");
        store.put_hashed_against(&sha(&c), &c, &an).unwrap();
        assert_eq!(delta_base(&stored(&store, &sha(&c))), None, "stored whole");
        assert_eq!(read_back(&store, &sha(&c)), c);
    }

    #[test]
    fn put_hashed_and_put_store_the_same_frame() {
        // The one-call compressor with a reused context and the streaming
        // encoder must both give a frame any zstd decoder reads, with its size.
        let dir = tempfile::tempdir().unwrap();
        let a = FsBlobStore::new(dir.path().join("a"));
        let b = FsBlobStore::new(dir.path().join("b"));
        for n in [0usize, 1, 1000, 300_000] {
            let body: Vec<u8> = (0..n).map(|i| (i * 7 % 251) as u8).collect();
            let name = sha(&body);
            a.put_hashed(&name, &body).unwrap();
            b.put_sized(&name, body.len() as u64, &mut body.as_slice())
                .unwrap();
            for store in [&a, &b] {
                let frame = std::fs::read(store.path(&name)).unwrap();
                assert_eq!(
                    zstd::zstd_safe::get_frame_content_size(&frame).ok(),
                    Some(Some(n as u64))
                );
                assert_eq!(zstd::bulk::decompress(&frame, n.max(1)).unwrap(), body);
            }
        }
    }

    #[test]
    fn whole_frames_carry_a_checksum_so_a_flipped_bit_is_an_error_not_other_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let body = page("checksummed");
        let name = sha(&body);
        let loose = FsBlobStore::new(dir.path().join("loose"));
        loose.put_hashed(&name, &body).unwrap();
        let streamed = FsBlobStore::new(dir.path().join("streamed"));
        streamed
            .put_sized(&name, body.len() as u64, &mut body.as_slice())
            .unwrap();
        // Frame header descriptor, bit 2: Content_Checksum_flag.
        for store in [&loose, &streamed] {
            assert_ne!(stored(store, &name)[4] & 0x04, 0, "no checksum");
        }
        let packed = FsBlobStore::deferred_sync(dir.path().join("packed"));
        packed.put_hashed(&name, &body).unwrap();
        packed.sync().unwrap();
        let pack = dir.path().join("packed/packs/pack-000001.cwpack");
        let whole = std::fs::read(&pack).unwrap();
        // Every bit of a stretch of the compressed data, one at a time.
        let start = HEADER_LEN + 20;
        for at in start..start + 40 {
            for bit in 0..8 {
                let mut damaged = whole.clone();
                damaged[at] ^= 1 << bit;
                std::fs::write(&pack, &damaged).unwrap();
                let reader = FsBlobStore::new(dir.path().join("packed"));
                assert!(
                    rehash(&reader, &name).is_err(),
                    "byte {at} bit {bit} read back without an error"
                );
            }
        }
    }

    /// A pack record's header: magic, sha256, length.
    const HEADER_LEN: usize = 4 + 32 + 8;

    #[test]
    fn a_deferred_store_packs_small_bodies_and_reads_them_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::deferred_sync(dir.path());
        let bodies: Vec<Vec<u8>> = (0..5)
            .map(|i| format!("<p>page {i}</p>").repeat(200).into_bytes())
            .collect();
        for body in &bodies {
            assert!(store.put_hashed(&sha(body), body).unwrap() > 0);
            assert_eq!(store.put_hashed(&sha(body), body).unwrap(), 0);
        }
        // Streamed bodies (too large to hold) still get a file each.
        let big = b"<p>spilled</p>".repeat(1000);
        store
            .put_sized(&sha(&big), big.len() as u64, &mut big.as_slice())
            .unwrap();
        store.sync().unwrap();
        assert!(store.path(&sha(&big)).exists());
        for body in &bodies {
            assert!(!store.path(&sha(body)).exists(), "no file of its own");
            assert!(store.contains(&sha(body)).unwrap());
            assert_eq!(
                rehash(&store, &sha(body)).unwrap(),
                (sha(body), body.len() as u64)
            );
        }
        let reader = FsBlobStore::new(dir.path());
        let mut names: Vec<String> = bodies.iter().map(|b| sha(b)).collect();
        names.push(sha(&big));
        names.sort();
        assert_eq!(reader.list().unwrap(), names);
        assert!(reader.stored_size(&sha(&bodies[0])).unwrap() > 0);
        assert!(matches!(
            reader.open(&sha(b"absent")),
            Err(BlobError::Missing(_))
        ));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            /// Whatever a copy's edits, and whether it ends up a delta or
            /// whole, it reads back as itself, and a delta names a whole blob.
            #[test]
            fn any_copy_reads_back_as_itself(
                base in proptest::collection::vec(any::<u8>(), 0..3000),
                edits in proptest::collection::vec(
                    (any::<prop::sample::Index>(), 0usize..40, proptest::collection::vec(any::<u8>(), 0..40)),
                    0..6,
                ),
                repeat in 1usize..12,
            ) {
                let dir = tempfile::tempdir().unwrap();
                let store = FsBlobStore::new(dir.path());
                // Repeated, so a base is often larger than zstd's overhead.
                let base = base.repeat(repeat);
                let mut copy = base.clone();
                for (at, cut, insert) in edits {
                    let at = if copy.is_empty() { 0 } else { at.index(copy.len()) };
                    let end = (at + cut).min(copy.len());
                    copy.splice(at..end, insert);
                }
                store.put_hashed(&sha(&base), &base).unwrap();
                store.put_hashed_against(&sha(&copy), &copy, &sha(&base)).unwrap();
                prop_assert_eq!(read_back(&store, &sha(&copy)), copy.clone());
                prop_assert_eq!(read_back(&store, &sha(&base)), base);
                if let Some(base_name) = delta_base(&stored(&store, &sha(&copy))) {
                    let named = stored(&store, &hex::encode(base_name));
                    prop_assert!(delta_base(&named).is_none());
                }
                prop_assert_eq!(rehash(&store, &sha(&copy)).unwrap().1, copy.len() as u64);
            }
        }
    }
}
