//! Pack files: many compressed blobs appended to one file, found through a small
//! SQLite index beside them (`blobs/packs/index.db`).
//!
//! Why: creating a file costs this kind of disk far more than writing to one
//! (measured on the CI machines' ext4: about 200–330 µs of CPU to create a small
//! file, 9 µs to append the same bytes to an open one), and a first night
//! archives tens of thousands of pages. The nightly check writes into packs;
//! single fetches still write one file per blob ([`super::blobs`]).
//!
//! Crash safety, in the order [`Packs::sync`] keeps: the appended bytes reach
//! the disk, then the index rows naming them commit, and only then may the
//! caller commit store rows naming the blobs. A crash before the index commit
//! leaves bytes no index row names (wasted space, never a wrong answer); each
//! process appends only to packs it created, so two writers never interleave.
//!
//! Each record is `CWB1`, the raw sha256 (32 bytes), the frame's length (u64,
//! little-endian) and the zstd frame, so a pack can be checked, or its index
//! rebuilt, from the pack alone; a read checks the header against the name asked.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params};

use super::blobs::{BlobError, Framing, create_dir_durably, framing, holds, sync_folder};

/// Record header: magic, sha256, frame length.
const MAGIC: &[u8; 4] = b"CWB1";
pub(super) const HEADER: u64 = 4 + 32 + 8;

/// A pack is closed and a new one started past this size, so no file grows
/// without bound and a damaged pack loses a bounded share of the archive.
const PACK_TARGET: u64 = 1 << 30;

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS packs (
        id         INTEGER PRIMARY KEY,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS packed (
        sha256 BLOB    PRIMARY KEY,   -- raw 32 bytes
        pack   INTEGER NOT NULL REFERENCES packs(id),
        offset INTEGER NOT NULL,      -- of the zstd frame, after its header
        length INTEGER NOT NULL       -- of the zstd frame
    ) WITHOUT ROWID;
";

/// Where a packed blob's frame is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// Pack number.
    pub pack: i64,
    /// Offset of the zstd frame in the pack.
    pub offset: u64,
    /// Length of the zstd frame.
    pub length: u64,
}

/// A pack file's bytes that no index row names ([`Packs::unindexed`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unindexed {
    /// The pack's file name.
    pub pack: String,
    /// Bytes in it that no index row names.
    pub bytes: u64,
}

/// A stretch of a pack holding no sound record, which a rebuild of the
/// index skipped ([`Rebuilt::unreadable`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// The pack's file name.
    pub pack: String,
    /// Where the stretch begins in the pack.
    pub offset: u64,
    /// Its length.
    pub bytes: u64,
}

/// What [`Packs::rebuild_index`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Rebuilt {
    /// Pack files read.
    pub packs: usize,
    /// Records indexed (a blob packed twice counts twice, indexed once).
    pub blobs: usize,
    /// Stretches skipped because they hold no sound record: a write cut
    /// short at a pack's end, or damage anywhere, each up to the next sound
    /// record. Every blob whose only copy was in one is lost to the index.
    pub unreadable: Vec<Skipped>,
    /// Deltas left out because their base is in no pack and no loose file:
    /// they can be neither read nor told from damage (a damaged base name
    /// looks the same). Not listed as unreadable; a rebuild once the base is
    /// back indexes them.
    pub deltas_without_base: usize,
    /// Where the index it replaced was put, if there was one.
    #[serde(serialize_with = "super::path_lossy_opt")]
    pub old_index: Option<PathBuf>,
}

/// The record at `at` in a pack of `len` bytes, if a whole one is there:
/// its blob's sha256 and its frame's length. A frame must begin as a zstd
/// frame or a delta's skippable frame does, so that bytes which merely
/// start with the magic are not taken for a record.
fn record_at(file: &File, at: u64, len: u64) -> Option<([u8; 32], u64)> {
    let mut header = [0u8; HEADER as usize + 4];
    let room = len.checked_sub(at)?;
    if room < HEADER + 4 {
        return None;
    }
    file.read_exact_at(&mut header, at).ok()?;
    if &header[..4] != MAGIC {
        return None;
    }
    let sha: [u8; 32] = header[4..36].try_into().ok()?;
    let length = u64::from_le_bytes(header[36..44].try_into().ok()?);
    let frame_magic = u32::from_le_bytes(header[44..48].try_into().ok()?);
    let zstd_frame = frame_magic == 0xFD2F_B528;
    let skippable = frame_magic & 0xFFFF_FFF0 == 0x184D_2A50;
    (length >= 4 && length <= room - HEADER && (zstd_frame || skippable)).then_some((sha, length))
}

/// A record a rebuild found sound.
struct Record {
    sha: [u8; 32],
    /// Of its frame.
    length: u64,
    framing: Framing,
}

/// The record at `at`, if a sound one is there. A blob stored whole is
/// decompressed and hashed here; a delta's content needs its base, and is
/// checked by the caller.
fn sound_record(file: &File, at: u64, len: u64) -> Option<Record> {
    let (sha, length) = record_at(file, at, len)?;
    let mut stored = vec![0u8; usize::try_from(length).ok()?];
    file.read_exact_at(&mut stored, at + HEADER).ok()?;
    let framing = framing(&stored)?;
    (framing != Framing::Whole || holds(&sha, &stored, None)).then_some(Record {
        sha,
        length,
        framing,
    })
}

/// The first sound record at or after `from`, found by its magic: where a
/// rebuild goes on after damage.
fn next_sound_record(file: &File, from: u64, len: u64) -> Option<(u64, Record)> {
    const WINDOW: u64 = 1 << 20;
    let mut buf = vec![0u8; WINDOW as usize];
    let mut at = from;
    while at < len {
        let n = (len - at).min(WINDOW) as usize;
        // A window that cannot be read (a bad sector) holds no record.
        if file.read_exact_at(&mut buf[..n], at).is_ok() {
            for (i, w) in buf[..n].windows(MAGIC.len()).enumerate() {
                if w == MAGIC
                    && let Some(record) = sound_record(file, at + i as u64, len)
                {
                    return Some((at + i as u64, record));
                }
            }
        }
        if at + n as u64 >= len {
            break;
        }
        // Overlapping, so that a magic across two windows is seen.
        at += (n - (MAGIC.len() - 1)) as u64;
    }
    None
}

/// The number of a pack from its file name (`pack-000001.cwpack`).
fn pack_id(file_name: &str) -> Option<i64> {
    let digits = file_name.strip_prefix("pack-")?.strip_suffix(".cwpack")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Opens an index read-only. Where SQLite cannot make the WAL's shared
/// memory file beside it (a folder the user may not write) and none exists,
/// no writer has the index open: it is then read as immutable, since that
/// is the only way SQLite reads a WAL database it cannot set up. A writer
/// starting meanwhile is not seen: at worst a blob it is packing now is not
/// found by this reader.
fn open_read_only(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let probe = |conn: &Connection| {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
    };
    let conn = Connection::open_with_flags(path, flags)?;
    match probe(&conn) {
        Ok(()) => Ok(conn),
        Err(e)
            if matches!(
                e.sqlite_error_code(),
                Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly)
            ) =>
        {
            drop(conn);
            let conn = Connection::open_with_flags(
                crate::store::immutable_uri(path),
                flags | OpenFlags::SQLITE_OPEN_URI,
            )?;
            probe(&conn)?;
            Ok(conn)
        }
        Err(e) => Err(e),
    }
}

/// The packs under one folder. Cheap to make: nothing is opened until used.
#[derive(Debug)]
pub struct Packs {
    dir: PathBuf,
    /// Size past which a new pack is started ([`PACK_TARGET`]; smaller in tests).
    target: u64,
    state: Mutex<State>,
}

/// An open read transaction on a pack index ([`Packs::read_batch`]), ended
/// when dropped.
#[derive(Debug)]
pub struct ReadBatch<'a> {
    packs: &'a Packs,
}

impl Drop for ReadBatch<'_> {
    fn drop(&mut self) {
        let state = self.packs.lock();
        // A reader found replaced meanwhile was dropped with its transaction;
        // the new one has none to end.
        if let Some(index) = state.index.as_ref().filter(|i| !i.is_autocommit()) {
            let _ = index.execute_batch("COMMIT");
        }
    }
}

#[derive(Debug, Default)]
struct State {
    index: Option<Connection>,
    /// `index` was opened for writing ([`Packs::writer`]).
    index_writable: bool,
    /// The device and inode of the index file a reader opened.
    index_file: Option<(u64, u64)>,
    /// The pack this process appends to.
    writer: Option<Writer>,
    /// Packs written since the last sync (the current one included).
    dirty: Vec<Arc<File>>,
    /// Appended since the last sync, not yet in the index.
    pending: HashMap<[u8; 32], Location>,
}

#[derive(Debug)]
struct Writer {
    id: i64,
    file: Arc<File>,
    len: u64,
}

impl Packs {
    /// Packs in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Packs {
        Packs {
            dir: dir.into(),
            target: PACK_TARGET,
            state: Mutex::new(State::default()),
        }
    }

    /// Where an index (open, or being built in a transaction) puts a blob.
    fn located(
        index: &rusqlite::Connection,
        sha256: &[u8; 32],
    ) -> rusqlite::Result<Option<Location>> {
        index
            .prepare_cached("SELECT pack, offset, length FROM packed WHERE sha256 = ?1")?
            .query_row([&sha256[..]], |r| {
                Ok(Location {
                    pack: r.get(0)?,
                    offset: r.get::<_, i64>(1)? as u64,
                    length: r.get::<_, i64>(2)? as u64,
                })
            })
            .optional()
    }

    #[cfg(test)]
    fn with_target(dir: impl Into<PathBuf>, target: u64) -> Packs {
        Packs {
            target,
            ..Packs::new(dir)
        }
    }

    /// A read transaction on this handle's index, over the lookups made until
    /// the guard drops: each lookup on its own took and released SQLite's
    /// file locks (four `fcntl` calls), about 4% of a re-check night's CPU
    /// when the preparer asked after every conditional source's copy. Only
    /// for a handle that reads: `None` once it has written (its connection
    /// is the one the index rows are committed through), or when there is
    /// no index to read. The index is in WAL mode, so a writer's commits go
    /// on meanwhile; they are seen after the guard drops.
    pub fn read_batch(&self) -> Option<ReadBatch<'_>> {
        let mut state = self.lock();
        if state.index_writable {
            return None;
        }
        let index = self.reader(&mut state).ok().flatten()?;
        index.execute_batch("BEGIN").ok()?;
        Some(ReadBatch { packs: self })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves nothing half-done that the
        // index does not already guard against.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn index_path(&self) -> PathBuf {
        self.dir.join("index.db")
    }

    /// The file of pack `id`.
    pub fn pack_path(&self, id: i64) -> PathBuf {
        self.dir.join(self.pack_name(id))
    }

    /// The file name of pack `id`.
    fn pack_name(&self, id: i64) -> String {
        format!("pack-{id:06}.cwpack")
    }

    /// The index to read, opened on first use; `None` when there is none yet.
    ///
    /// Read-only: reading the archive (`verify`, `get`, `export-warc`,
    /// `serve`) must work for a user who may not write the store, and opened
    /// for writing the index failed every lookup there with "attempt to
    /// write a readonly database". A handle that has written keeps its
    /// writable connection, which reads as well.
    fn reader<'a>(&self, state: &'a mut State) -> Result<Option<&'a Connection>, BlobError> {
        if state.index.is_none() {
            let path = self.index_path();
            if !path.exists() {
                return Ok(None);
            }
            let conn = open_read_only(&path).map_err(|e| self.index_error(e))?;
            // An index file a writer has only just created holds no table
            // yet: nothing is indexed, and nothing may be created from here.
            let has_table: bool = conn
                .query_row(
                    "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'packed'",
                    [],
                    |r| r.get(0),
                )
                .map_err(|e| self.index_error(e))?;
            if !has_table {
                return Ok(None);
            }
            state.index_file = {
                use std::os::unix::fs::MetadataExt;
                std::fs::metadata(&path).ok().map(|m| (m.dev(), m.ino()))
            };
            state.index = Some(conn);
            state.index_writable = false;
        }
        Ok(state.index.as_ref())
    }

    /// The index to write, created (with its folder) if need be.
    fn writer<'a>(&self, state: &'a mut State) -> Result<&'a Connection, BlobError> {
        if state.index.is_none() || !state.index_writable {
            create_dir_durably(&self.dir).map_err(|e| self.io(e))?;
            let conn = Connection::open(self.index_path()).map_err(|e| self.index_error(e))?;
            conn.busy_timeout(std::time::Duration::from_secs(10))
                .and_then(|_| conn.pragma_update(None, "journal_mode", "WAL"))
                .and_then(|_| conn.pragma_update(None, "synchronous", "FULL"))
                .and_then(|_| conn.execute_batch(SCHEMA))
                .map_err(|e| self.index_error(e))?;
            state.index = Some(conn);
            state.index_writable = true;
        }
        Ok(state.index.as_ref().expect("opened above"))
    }

    fn io(&self, source: io::Error) -> BlobError {
        BlobError::Pack {
            dir: self.dir.clone(),
            source,
        }
    }

    fn index_error(&self, e: rusqlite::Error) -> BlobError {
        if matches!(
            e.sqlite_error_code(),
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase)
        ) {
            return BlobError::IndexDamaged {
                path: self.index_path(),
                sqlite: e,
            };
        }
        self.io(io::Error::other(format!("pack index: {e}")))
    }

    /// Where a blob is packed, if it is.
    pub fn locate(&self, sha256: &[u8; 32]) -> Result<Option<Location>, BlobError> {
        let mut state = self.lock();
        self.locate_locked(&mut state, sha256)
    }

    fn locate_locked(
        &self,
        state: &mut State,
        sha256: &[u8; 32],
    ) -> Result<Option<Location>, BlobError> {
        if let Some(loc) = state.pending.get(sha256) {
            return Ok(Some(*loc));
        }
        let found = self.lookup(state, sha256)?;
        if found.is_some() || state.index_writable || !self.index_replaced(state) {
            return Ok(found);
        }
        // Rebuilt since this reader opened it (`verify --repair`, or a check
        // finding it lost): the old file holds none of the blobs packed
        // since. Looked up again in the index now at the path.
        state.index = None;
        self.lookup(state, sha256)
    }

    /// Whether the index file at the path is no longer the one open.
    fn index_replaced(&self, state: &State) -> bool {
        use std::os::unix::fs::MetadataExt;
        let now = std::fs::metadata(self.index_path())
            .ok()
            .map(|m| (m.dev(), m.ino()));
        state.index.is_some() && now != state.index_file
    }

    fn lookup(&self, state: &mut State, sha256: &[u8; 32]) -> Result<Option<Location>, BlobError> {
        let Some(index) = self.reader(state)? else {
            return Ok(None);
        };
        Self::located(index, sha256).map_err(|e| self.index_error(e))
    }

    /// Appends a compressed frame under `sha256` unless the blob is packed
    /// already; returns the bytes added (0 when it was). Not durable until
    /// [`Packs::sync`].
    pub fn append(&self, sha256: &[u8; 32], frame: &[u8]) -> Result<u64, BlobError> {
        let mut state = self.lock();
        if self.locate_locked(&mut state, sha256)?.is_some() {
            return Ok(0);
        }
        self.append_locked(&mut state, sha256, frame)
    }

    /// [`Packs::append`] for a blob the caller has just looked up and found in
    /// no pack: only this handle's unsynced blobs are checked again (another
    /// thread may have appended it since), not the index a second time. Should
    /// another process index the same blob meanwhile, its copy here is only
    /// waste: the index keeps the first row.
    pub fn append_new(&self, sha256: &[u8; 32], frame: &[u8]) -> Result<u64, BlobError> {
        let mut state = self.lock();
        if state.pending.contains_key(sha256) {
            return Ok(0);
        }
        self.append_locked(&mut state, sha256, frame)
    }

    fn append_locked(
        &self,
        state: &mut State,
        sha256: &[u8; 32],
        frame: &[u8],
    ) -> Result<u64, BlobError> {
        let mut writer = match state.writer.take() {
            Some(w) => w,
            None => self.start_pack(state)?,
        };
        let mut record = Vec::with_capacity(HEADER as usize + frame.len());
        record.extend_from_slice(MAGIC);
        record.extend_from_slice(sha256);
        record.extend_from_slice(&(frame.len() as u64).to_le_bytes());
        record.extend_from_slice(frame);
        let written = writer.file.write_all_at(&record, writer.len);
        if !state.dirty.iter().any(|f| Arc::ptr_eq(f, &writer.file)) {
            state.dirty.push(Arc::clone(&writer.file));
        }
        let loc = Location {
            pack: writer.id,
            offset: writer.len + HEADER,
            length: frame.len() as u64,
        };
        // After a failed write the pack's end is unknown: start a new pack.
        if written.is_ok() {
            writer.len += record.len() as u64;
            if writer.len < self.target {
                state.writer = Some(writer);
            }
        }
        written.map_err(|e| self.io(e))?;
        state.pending.insert(*sha256, loc);
        Ok(record.len() as u64)
    }

    /// Numbers and creates a new pack for this process (its folder entry made
    /// durable at once: later syncs only sync the file's data).
    ///
    /// Numbered past both the index's packs and the files on disk: an index
    /// lost or rebuilt may know fewer packs than the folder holds, and a
    /// number taken from it alone collided with an existing pack ("File
    /// exists") and ended the run.
    fn start_pack(&self, state: &mut State) -> Result<Writer, BlobError> {
        let on_disk = self.pack_files()?.last().map_or(0, |(id, _)| *id);
        let index = self.writer(state)?;
        let indexed: i64 = index
            .query_row("SELECT coalesce(max(id), 0) FROM packs", [], |r| r.get(0))
            .map_err(|e| self.index_error(e))?;
        let mut id = indexed.max(on_disk) + 1;
        let file = loop {
            match File::options()
                .read(true)
                .write(true)
                .create_new(true)
                .open(self.pack_path(id))
            {
                Ok(file) => break file,
                // Made since the folder was read (by a process not holding
                // the run lock): the next number.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => id += 1,
                Err(e) => return Err(self.io(e)),
            }
        };
        index
            .execute(
                "INSERT INTO packs (id, created_at) VALUES (?1, ?2)",
                params![id, crate::time::now_millis()],
            )
            .map_err(|e| self.index_error(e))?;
        sync_folder(&self.dir).map_err(|e| self.io(e))?;
        Ok(Writer {
            id,
            file: Arc::new(file),
            len: 0,
        })
    }

    /// Makes every append so far durable: the packs' data first, then the
    /// index rows that name it.
    pub fn sync(&self) -> Result<(), BlobError> {
        let mut state = self.lock();
        if state.pending.is_empty() {
            return Ok(());
        }
        for file in &state.dirty {
            file.sync_data().map_err(|e| self.io(e))?;
        }
        let pending: Vec<([u8; 32], Location)> = state.pending.drain().collect();
        let result = self.writer(&mut state).and_then(|index| {
            let tx = index
                .unchecked_transaction()
                .map_err(|e| self.index_error(e))?;
            {
                let mut insert = tx
                    .prepare_cached(
                        "INSERT OR IGNORE INTO packed (sha256, pack, offset, length)
                         VALUES (?1, ?2, ?3, ?4)",
                    )
                    .map_err(|e| self.index_error(e))?;
                for (sha, loc) in &pending {
                    insert
                        .execute(params![
                            &sha[..],
                            loc.pack,
                            loc.offset as i64,
                            loc.length as i64
                        ])
                        .map_err(|e| self.index_error(e))?;
                }
            }
            tx.commit().map_err(|e| self.index_error(e))
        });
        match result {
            Ok(()) => {
                // The next append to the current pack marks it dirty again.
                state.dirty.clear();
                Ok(())
            }
            Err(e) => {
                // Keep them findable and retried at the next sync.
                state.pending.extend(pending);
                Err(e)
            }
        }
    }

    /// Takes the index row naming blob `sha256` at `loc` out of the index
    /// (durably), leaving the pack's bytes as they are: for a damaged
    /// record ([`super::FsBlobStore::set_aside_if_damaged`]), so the next
    /// append of the blob is indexed in its place. A row naming another
    /// place (indexed again meanwhile) is kept. The caller holds the run
    /// lock.
    pub fn forget(&self, sha256: &[u8; 32], loc: Location) -> Result<(), BlobError> {
        let mut state = self.lock();
        let index = self.writer(&mut state)?;
        index
            .execute(
                "DELETE FROM packed WHERE sha256 = ?1 AND pack = ?2 AND offset = ?3",
                params![&sha256[..], loc.pack, loc.offset as i64],
            )
            .map_err(|e| self.index_error(e))?;
        Ok(())
    }

    /// The zstd frame of a packed blob, checked against its record header.
    pub fn read_frame(&self, sha256: &[u8; 32], loc: Location) -> Result<Vec<u8>, BlobError> {
        let path = self.pack_path(loc.pack);
        // The file by name: "packs: No such file or directory" named only the folder.
        let file = File::open(&path).map_err(|e| {
            self.io(io::Error::new(
                e.kind(),
                format!(
                    "{}: {e}",
                    path.file_name().unwrap_or_default().to_string_lossy()
                ),
            ))
        })?;
        let start = loc.offset.checked_sub(HEADER).ok_or_else(|| {
            self.io(io::Error::other(format!(
                "pack {} offset {} is inside no record",
                loc.pack, loc.offset
            )))
        })?;
        // A damaged index must not size the buffer: the record lies in the file.
        let size = file.metadata().map_err(|e| self.io(e))?.len();
        if HEADER
            .checked_add(loc.length)
            .and_then(|n| n.checked_add(start))
            .is_none_or(|end| end > size)
        {
            return Err(self.io(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "pack {} has no record of {} bytes at offset {} (the file holds {size})",
                    loc.pack, loc.length, loc.offset
                ),
            )));
        }
        let mut record = vec![0u8; (HEADER + loc.length) as usize];
        file.read_exact_at(&mut record, start)
            .map_err(|e| self.io(e))?;
        let length = u64::from_le_bytes(record[36..44].try_into().unwrap_or_default());
        if &record[..4] != MAGIC || record[4..36] != sha256[..] || length != loc.length {
            return Err(self.io(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "pack {} at {}: the record there is not blob {}",
                    loc.pack,
                    start,
                    hex::encode(sha256)
                ),
            )));
        }
        record.drain(..HEADER as usize);
        Ok(record)
    }

    /// Bytes of each pack file that no index row names, for packs holding any.
    ///
    /// They are left by a write interrupted before its index commit, or by
    /// two processes packing the same blob at once (the index keeps the
    /// first): space, never a wrong answer. This handle's own unsynced appends
    /// count as named; another process's running check may still be about to
    /// index the bytes it is appending.
    pub fn unindexed(&self) -> Result<Vec<Unindexed>, BlobError> {
        let mut state = self.lock();
        let mut named: HashMap<i64, u64> = HashMap::new();
        for loc in state.pending.values() {
            *named.entry(loc.pack).or_default() += HEADER + loc.length;
        }
        if let Some(index) = self.reader(&mut state)? {
            let mut stmt = index
                .prepare("SELECT pack, count(*), sum(length) FROM packed GROUP BY pack")
                .map_err(|e| self.index_error(e))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })
                .map_err(|e| self.index_error(e))?;
            for row in rows {
                let (pack, records, frames) = row.map_err(|e| self.index_error(e))?;
                *named.entry(pack).or_default() += records as u64 * HEADER + frames as u64;
            }
        }
        drop(state);
        let mut out = Vec::new();
        for (id, name) in self.pack_files()? {
            // Not followed through a link, as the folder's listing reads it.
            let len = std::fs::symlink_metadata(self.dir.join(&name))
                .map_err(|e| self.io(e))?
                .len();
            let bytes = len.saturating_sub(named.get(&id).copied().unwrap_or(0));
            if bytes > 0 {
                out.push(Unindexed { pack: name, bytes });
            }
        }
        out.sort_by(|a, b| a.pack.cmp(&b.pack));
        Ok(out)
    }

    /// Whether the index must be rebuilt from the packs, and why: it is
    /// missing or damaged, it knows fewer packs than the folder holds (a
    /// lost index that a later run began anew), or it names packs that are
    /// gone (or, `thorough`, records past a pack's end). `None` when it is
    /// sound.
    ///
    /// An index naming bytes that are not there kept every later copy of
    /// those blobs out of the archive: found in the index, they were not
    /// stored again, so fetching the page anew could never mend it.
    pub fn needs_rebuild(&self, thorough: bool) -> Result<Option<String>, BlobError> {
        let files = self.pack_files()?;
        if !self.index_path().exists() {
            return Ok((!files.is_empty()).then(|| "the pack index is missing".into()));
        }
        let mut state = self.lock();
        let known = match self.known_packs(&mut state, thorough) {
            Ok(known) => known,
            Err(BlobError::IndexDamaged { sqlite, .. }) => {
                state.index = None;
                return Ok(Some(format!("the pack index is damaged: {sqlite}")));
            }
            Err(e) => return Err(e),
        };
        let unknown: Vec<&str> = files
            .iter()
            .filter(|(id, _)| !known.contains(id))
            .map(|(_, name)| name.as_str())
            .collect();
        if !unknown.is_empty() {
            return Ok(Some(format!(
                "the pack index does not know {}",
                unknown.join(", ")
            )));
        }
        let mut gone: Vec<i64> = known
            .iter()
            .filter(|id| !files.iter().any(|(f, _)| f == *id))
            .copied()
            .collect();
        if !gone.is_empty() {
            // A writer not holding the run lock from us (`verify` asks
            // beside a check) may have made one since the folder was read.
            let now = self.pack_files()?;
            gone.retain(|id| !now.iter().any(|(f, _)| f == id));
        }
        if !gone.is_empty() {
            gone.sort_unstable();
            let names: Vec<String> = gone.iter().map(|id| self.pack_name(*id)).collect();
            return Ok(Some(format!(
                "the pack index names pack files that are gone: {}",
                names.join(", ")
            )));
        }
        if !thorough {
            return Ok(None);
        }
        match self
            .rows_past_end(&mut state, &files)
            .and_then(|past| match past {
                Some(why) => Ok(Some(why)),
                None => self.unnamed_records(&mut state, &files),
            }) {
            Err(BlobError::IndexDamaged { sqlite, .. }) => {
                state.index = None;
                Ok(Some(format!("the pack index is damaged: {sqlite}")))
            }
            other => other,
        }
    }

    /// Why the index must be rebuilt when it names records past the end of
    /// a pack (one cut short, or restored from an older copy): one query
    /// over the index, one look at each pack's length.
    fn rows_past_end(
        &self,
        state: &mut State,
        files: &[(i64, String)],
    ) -> Result<Option<String>, BlobError> {
        let Some(index) = self.reader(state)? else {
            return Ok(None);
        };
        let mut stmt = index
            .prepare("SELECT pack, max(offset + length) FROM packed GROUP BY pack")
            .map_err(|e| self.index_error(e))?;
        let ends: HashMap<i64, u64> = stmt
            .query_map([], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)? as u64))
            })
            .map_err(|e| self.index_error(e))?
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| self.index_error(e))?;
        let mut short = Vec::new();
        for (id, name) in files {
            let Some(&end) = ends.get(id) else { continue };
            let len = std::fs::symlink_metadata(self.dir.join(name))
                .map_err(|e| self.io(e))?
                .len();
            if end > len {
                short.push(name.as_str());
            }
        }
        Ok((!short.is_empty()).then(|| {
            format!(
                "the pack index names records past the end of {}",
                short.join(", ")
            )
        }))
    }

    /// Why the index must be rebuilt when it lost rows of packs it knows (a
    /// copy of it restored, its log lost): sound records in the stretches no
    /// row names, of blobs it names nowhere. Only those stretches are read,
    /// so a sound index costs what its waste holds. A second copy of a blob
    /// indexed elsewhere, a write cut short, or a delta whose base the index
    /// lacks is no reason: a rebuild would find the same again.
    fn unnamed_records(
        &self,
        state: &mut State,
        files: &[(i64, String)],
    ) -> Result<Option<String>, BlobError> {
        let Some(index) = self.reader(state)? else {
            return Ok(None);
        };
        let mut named: HashMap<i64, Vec<(u64, u64)>> = HashMap::new();
        {
            let mut stmt = index
                .prepare("SELECT pack, offset, length FROM packed ORDER BY pack, offset")
                .map_err(|e| self.index_error(e))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)? as u64,
                        r.get::<_, i64>(2)? as u64,
                    ))
                })
                .map_err(|e| self.index_error(e))?;
            for row in rows {
                let (pack, offset, length) = row.map_err(|e| self.index_error(e))?;
                named
                    .entry(pack)
                    .or_default()
                    .push((offset.saturating_sub(HEADER), offset.saturating_add(length)));
            }
        }
        let indexed = |sha: &[u8; 32]| {
            Self::located(index, sha)
                .map(|l| l.is_some())
                .map_err(|e| self.index_error(e))
        };
        let mut found = Vec::new();
        for (id, name) in files {
            let file = File::open(self.pack_path(*id)).map_err(|e| self.io(e))?;
            let len = file.metadata().map_err(|e| self.io(e))?.len();
            let mut gaps = Vec::new();
            let mut at = 0u64;
            for &(start, end) in named.get(id).map(Vec::as_slice).unwrap_or_default() {
                if start > at {
                    gaps.push((at, start.min(len)));
                }
                at = at.max(end);
            }
            if at < len {
                gaps.push((at, len));
            }
            let mut lost = 0usize;
            for (from, to) in gaps {
                let mut pos = from;
                while let Some((start, record)) = next_sound_record(&file, pos, to) {
                    // A delta is sound only if it holds against its base: a
                    // damaged one set aside (its row taken out, see
                    // `forget`) is no record the index lost, and a rebuild
                    // would skip it again.
                    let lost_here = !indexed(&record.sha)?
                        && match record.framing {
                            Framing::Whole => true,
                            Framing::Delta(base) => {
                                match Self::located(index, &base)
                                    .map_err(|e| self.index_error(e))?
                                {
                                    Some(at) => self.delta_holds(&file, start, &record, &base, at),
                                    None => false,
                                }
                            }
                        };
                    if lost_here {
                        lost += 1;
                    }
                    pos = start + HEADER + record.length;
                }
            }
            if lost > 0 {
                found.push(format!(
                    "{} in {name}",
                    crate::report::text::plural(lost as i64, "sound record", "sound records")
                ));
            }
        }
        Ok((!found.is_empty())
            .then(|| format!("the pack index does not name {}", found.join(", "))))
    }

    /// Whether the delta `record` at `start` in `file` decompresses to its
    /// name against its base's frame, found at `base_at`.
    fn delta_holds(
        &self,
        file: &File,
        start: u64,
        record: &Record,
        base: &[u8; 32],
        base_at: Location,
    ) -> bool {
        let Ok(len) = usize::try_from(record.length) else {
            return false;
        };
        let mut stored = vec![0u8; len];
        if file.read_exact_at(&mut stored, start + HEADER).is_err() {
            return false;
        }
        self.read_frame(base, base_at)
            .is_ok_and(|base_stored| holds(&record.sha, &stored, Some(&base_stored)))
    }

    /// The packs the index knows; with `thorough`, after SQLite's quick
    /// check of the whole index (which reads every page of it).
    fn known_packs(
        &self,
        state: &mut State,
        thorough: bool,
    ) -> Result<std::collections::HashSet<i64>, BlobError> {
        let Some(index) = self.reader(state)? else {
            return Ok(Default::default());
        };
        let read = || -> rusqlite::Result<(String, std::collections::HashSet<i64>)> {
            let verdict = if thorough {
                index.query_row("PRAGMA quick_check", [], |r| r.get(0))?
            } else {
                "ok".to_string()
            };
            let mut stmt = index.prepare("SELECT id FROM packs")?;
            let ids = stmt
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok((verdict, ids))
        };
        let (verdict, ids) = read().map_err(|e| self.index_error(e))?;
        if verdict != "ok" {
            return Err(self.index_error(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
                Some(verdict),
            )));
        }
        Ok(ids)
    }

    /// Builds the index anew from the pack files, whose records repeat each
    /// blob's sha256 and length: a damaged or lost index loses no blob. The
    /// old index, if any, is kept beside it (`index.db.old-<millis>`). The
    /// caller must hold the run lock: no other process may append meanwhile.
    ///
    /// Only sound records are indexed: framed to the length their header
    /// says, and decompressing to their sha256 (a delta against its base,
    /// found in the packs or, through `base_elsewhere`, as a loose file; one
    /// whose base is nowhere is left out, see [`Rebuilt::deltas_without_base`]). A
    /// stretch that holds none (a write cut short, or damage) is skipped to
    /// the next sound record and listed in [`Rebuilt::unreadable`]: read only
    /// up to the first bad record, a pack lost every copy after it. As when
    /// packing, the first sound copy of a blob found is the one indexed (a
    /// whole copy before a delta, since a delta is checked once every whole
    /// copy is known).
    pub fn rebuild_index(
        &self,
        base_elsewhere: &dyn Fn(&[u8; 32]) -> Option<Vec<u8>>,
    ) -> Result<Rebuilt, BlobError> {
        let mut state = self.lock();
        if !state.pending.is_empty() {
            return Err(self.io(io::Error::other(
                "blobs appended by this process are not indexed yet",
            )));
        }
        state.index = None;
        state.writer = None;
        let mut rebuilt = Rebuilt::default();
        // Built beside the index and put in its place only once whole: the
        // index at the path serves readers meanwhile, and stays should the
        // rebuild fail or be killed.
        let fresh = self.dir.join("index.db.new");
        for leftover in ["", "-journal", "-wal", "-shm"] {
            let mut name = fresh.as_os_str().to_owned();
            name.push(leftover);
            match std::fs::remove_file(&name) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(self.io(e)),
                _ => {}
            }
        }
        create_dir_durably(&self.dir).map_err(|e| self.io(e))?;
        let files = self.pack_files()?;
        let index = Connection::open(&fresh).map_err(|e| self.index_error(e))?;
        index
            .pragma_update(None, "synchronous", "FULL")
            .and_then(|_| index.execute_batch(SCHEMA))
            .map_err(|e| self.index_error(e))?;
        let tx = index
            .unchecked_transaction()
            .map_err(|e| self.index_error(e))?;
        let insert = |sha: &[u8; 32], loc: Location| {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO packed (sha256, pack, offset, length)
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    &sha[..],
                    loc.pack,
                    loc.offset as i64,
                    loc.length as i64
                ])
            })
            .map_err(|e| self.index_error(e))
        };
        // Deltas found, checked once every whole copy (a base) is indexed.
        let mut deltas: Vec<([u8; 32], [u8; 32], Location, String)> = Vec::new();
        for (id, name) in files {
            let file = File::open(self.pack_path(id)).map_err(|e| self.io(e))?;
            let len = file.metadata().map_err(|e| self.io(e))?.len();
            let created = file
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_millis() as i64);
            tx.execute(
                "INSERT INTO packs (id, created_at) VALUES (?1, ?2)",
                params![id, created],
            )
            .map_err(|e| self.index_error(e))?;
            let mut at = 0u64;
            while at < len {
                let (start, record) = match sound_record(&file, at, len) {
                    Some(record) => (at, Some(record)),
                    None => match next_sound_record(&file, at + 1, len) {
                        Some((next, record)) => (next, Some(record)),
                        None => (len, None),
                    },
                };
                if start > at {
                    rebuilt.unreadable.push(Skipped {
                        pack: name.clone(),
                        offset: at,
                        bytes: start - at,
                    });
                }
                let Some(Record {
                    sha,
                    length,
                    framing,
                }) = record
                else {
                    break;
                };
                let loc = Location {
                    pack: id,
                    offset: start + HEADER,
                    length,
                };
                match framing {
                    Framing::Whole => {
                        insert(&sha, loc)?;
                        rebuilt.blobs += 1;
                    }
                    Framing::Delta(base) => deltas.push((sha, base, loc, name.clone())),
                }
                at = start + HEADER + length;
            }
            rebuilt.packs += 1;
        }
        for (sha, base, loc, name) in deltas {
            let base_stored = match self.locate_in(&tx, &base)? {
                Some(at) => self.read_frame(&base, at).ok(),
                None => base_elsewhere(&base),
            };
            let sound = match (base_stored, self.read_frame(&sha, loc)) {
                (Some(base), Ok(stored)) => holds(&sha, &stored, Some(&base)),
                (None, Ok(_)) => {
                    rebuilt.deltas_without_base += 1;
                    continue;
                }
                (_, Err(_)) => false,
            };
            if sound {
                insert(&sha, loc)?;
                rebuilt.blobs += 1;
            } else {
                rebuilt.unreadable.push(Skipped {
                    pack: name,
                    offset: loc.offset - HEADER,
                    bytes: HEADER + loc.length,
                });
            }
        }
        rebuilt
            .unreadable
            .sort_by(|a, b| (&a.pack, a.offset).cmp(&(&b.pack, b.offset)));
        tx.commit().map_err(|e| self.index_error(e))?;
        // In the mode the index is always opened in (kept in the file's
        // header), and closed: its log checkpointed into it and removed.
        index
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| self.index_error(e))?;
        index.close().map_err(|(_, e)| self.index_error(e))?;
        let path = self.index_path();
        let old = self
            .dir
            .join(format!("index.db.old-{}", crate::time::now_millis()));
        if path.exists() {
            std::fs::rename(&path, &old).map_err(|e| self.io(e))?;
            rebuilt.old_index = Some(old.clone());
        }
        // The old index's log goes with it: it may hold what the damage
        // spared, and left beside the new index it would be read as its.
        // Moved whether or not an index was there: a rebuild killed between
        // these two renames, or an index deleted by hand after a killed
        // writer, left a log beside no index, which SQLite then replayed
        // over the new one and so put back the old index's pages. Its
        // shared-memory file is only a cache.
        let mut wal = old.as_os_str().to_owned();
        wal.push("-wal");
        match std::fs::rename(self.dir.join("index.db-wal"), &wal) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(self.io(e)),
            _ => {}
        }
        match std::fs::remove_file(self.dir.join("index.db-shm")) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(self.io(e)),
            _ => {}
        }
        std::fs::rename(&fresh, &path).map_err(|e| self.io(e))?;
        sync_folder(&self.dir).map_err(|e| self.io(e))?;
        Ok(rebuilt)
    }

    /// Where the index being built by `tx` has put a blob so far.
    fn locate_in(
        &self,
        tx: &rusqlite::Transaction<'_>,
        sha256: &[u8; 32],
    ) -> Result<Option<Location>, BlobError> {
        Self::located(tx, sha256).map_err(|e| self.index_error(e))
    }

    /// The pack files in the folder, by number: (number, file name).
    fn pack_files(&self) -> Result<Vec<(i64, String)>, BlobError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io(e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let name = entry
                .map_err(|e| self.io(e))?
                .file_name()
                .to_string_lossy()
                .into_owned();
            if let Some(id) = pack_id(&name) {
                out.push((id, name));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Every packed blob (indexed or pending).
    pub fn list(&self) -> Result<Vec<[u8; 32]>, BlobError> {
        let mut state = self.lock();
        let mut out: Vec<[u8; 32]> = state.pending.keys().copied().collect();
        if let Some(index) = self.reader(&mut state)? {
            let mut stmt = index
                .prepare("SELECT sha256 FROM packed")
                .map_err(|e| self.index_error(e))?;
            let rows = stmt
                .query_map([], |r| r.get::<_, Vec<u8>>(0))
                .map_err(|e| self.index_error(e))?;
            for row in rows {
                let raw = row.map_err(|e| self.index_error(e))?;
                if let Ok(sha) = <[u8; 32]>::try_from(raw.as_slice()) {
                    out.push(sha);
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn blob(n: usize) -> ([u8; 32], Vec<u8>) {
        let body = format!("<p>blob {n}</p>").repeat(50).into_bytes();
        let frame = zstd::bulk::compress(&body, 3).unwrap();
        (Sha256::digest(&body).into(), frame)
    }

    #[test]
    fn appended_blobs_are_found_at_once_and_by_others_only_after_sync() {
        let dir = tempfile::tempdir().unwrap();
        let packs = Packs::new(dir.path());
        let (a, fa) = blob(1);
        let (b, fb) = blob(2);
        assert_eq!(packs.append(&a, &fa).unwrap(), HEADER + fa.len() as u64);
        assert_eq!(packs.append(&a, &fa).unwrap(), 0, "packed once");
        packs.append(&b, &fb).unwrap();
        let loc = packs.locate(&a).unwrap().unwrap();
        assert_eq!(packs.read_frame(&a, loc).unwrap(), fa);
        // Another process (a new handle) sees only what the index holds.
        assert_eq!(Packs::new(dir.path()).locate(&a).unwrap(), None);
        packs.sync().unwrap();
        let other = Packs::new(dir.path());
        let lb = other.locate(&b).unwrap().unwrap();
        assert_eq!(other.read_frame(&b, lb).unwrap(), fb);
        let mut listed = other.list().unwrap();
        listed.sort();
        let mut both = vec![a, b];
        both.sort();
        assert_eq!(listed, both);
        assert_eq!(lb.pack, loc.pack, "one pack per writer");
    }

    #[test]
    fn a_read_batch_finds_what_was_indexed_and_holds_no_writer_up() {
        let dir = tempfile::tempdir().unwrap();
        let writer = Packs::new(dir.path());
        assert!(writer.read_batch().is_none(), "no index to read yet");
        let (a, fa) = blob(1);
        let (b, fb) = blob(2);
        writer.append(&a, &fa).unwrap();
        writer.sync().unwrap();
        assert!(writer.read_batch().is_none(), "not on the writing handle");
        let reader = Packs::new(dir.path());
        {
            let _batch = reader.read_batch().expect("a read batch");
            assert!(reader.locate(&a).unwrap().is_some());
            assert_eq!(reader.locate(&b).unwrap(), None);
            assert!(!reader.lock().index.as_ref().unwrap().is_autocommit());
            // The writer commits while the batch is open: WAL lets it.
            writer.append(&b, &fb).unwrap();
            writer.sync().unwrap();
            assert!(reader.locate(&a).unwrap().is_some());
            assert_eq!(
                reader.locate(&b).unwrap(),
                None,
                "one snapshot for the whole batch"
            );
        }
        // Ended, the batch's snapshot goes, and the new row is seen.
        let loc = reader
            .locate(&b)
            .unwrap()
            .expect("seen once the batch ended");
        assert_eq!(reader.read_frame(&b, loc).unwrap(), fb);
        let state = reader.lock();
        assert!(state.index.as_ref().unwrap().is_autocommit(), "ended");
    }

    #[test]
    fn the_first_pack_is_named_durably_up_to_the_data_folder() {
        // A pack's folder entry is synced when it is made; the packs folder
        // and the blob folder made with it on a first night are new entries
        // of their parents, and the rows naming its blobs must not outlive
        // them.
        let dir = tempfile::tempdir().unwrap();
        let blobs = dir.path().join("blobs");
        let packs = Packs::new(blobs.join("packs"));
        let (a, fa) = blob(1);
        crate::archive::blobs::SYNCED.with(|s| s.borrow_mut().clear());
        packs.append(&a, &fa).unwrap();
        packs.sync().unwrap();
        let synced = crate::archive::blobs::SYNCED.with(|s| s.borrow().clone());
        for folder in [blobs.join("packs"), blobs, dir.path().to_path_buf()] {
            assert!(
                synced.contains(&folder),
                "{folder:?} not synced: {synced:?}"
            );
        }
    }

    #[test]
    fn reading_opens_the_index_read_only_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (a, fa) = blob(1);
        {
            let writer = Packs::new(dir.path());
            writer.append(&a, &fa).unwrap();
            writer.sync().unwrap();
        }
        // Every read a reader makes, on a connection that could not write
        // (so a store the user may not write reads the same).
        let reader = Packs::new(dir.path());
        let loc = reader.locate(&a).unwrap().unwrap();
        assert_eq!(reader.read_frame(&a, loc).unwrap(), fa);
        assert_eq!(reader.list().unwrap(), vec![a]);
        assert_eq!(reader.unindexed().unwrap(), vec![]);
        {
            let state = reader.lock();
            let conn = state.index.as_ref().unwrap();
            assert!(!state.index_writable);
            assert!(conn.is_readonly(rusqlite::MAIN_DB).unwrap());
        }
        // Writing later switches the handle to a writable index.
        let (b, fb) = blob(2);
        reader.append(&b, &fb).unwrap();
        reader.sync().unwrap();
        assert!(reader.lock().index_writable);
        assert!(Packs::new(dir.path()).locate(&b).unwrap().is_some());

        // An index file a writer has only just made (no table yet) is no
        // index to a reader, and is left as it was.
        let fresh = tempfile::tempdir().unwrap();
        std::fs::write(fresh.path().join("index.db"), b"").unwrap();
        let reader = Packs::new(fresh.path());
        assert_eq!(reader.locate(&a).unwrap(), None);
        assert_eq!(reader.list().unwrap(), Vec::<[u8; 32]>::new());
        assert_eq!(
            std::fs::metadata(fresh.path().join("index.db"))
                .unwrap()
                .len(),
            0
        );
    }

    #[test]
    fn a_lost_index_is_rebuilt_from_the_packs_and_new_packs_number_past_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let blobs: Vec<_> = (1..=4).map(blob).collect();
        let packs = Packs::with_target(dir.path(), 1);
        for (sha, frame) in &blobs[..3] {
            packs.append(sha, frame).unwrap();
        }
        packs.sync().unwrap();
        let before: Vec<Location> = blobs[..3]
            .iter()
            .map(|(sha, _)| packs.locate(sha).unwrap().unwrap())
            .collect();
        drop(packs);
        for f in ["index.db", "index.db-wal", "index.db-shm"] {
            let _ = std::fs::remove_file(dir.path().join(f));
        }
        let packs = Packs::new(dir.path());
        assert_eq!(
            packs.needs_rebuild(true).unwrap().as_deref(),
            Some("the pack index is missing")
        );
        // A writer with no index numbers its pack past the files there
        // ("File exists" ended the run), and the index it begins is known
        // to be incomplete.
        let (d, fd) = &blobs[3];
        packs.append(d, fd).unwrap();
        packs.sync().unwrap();
        assert_eq!(packs.locate(d).unwrap().unwrap().pack, 4);
        assert!(
            packs
                .needs_rebuild(false)
                .unwrap()
                .is_some_and(|why| why.contains("does not know pack-000001.cwpack")),
        );
        // A cut-short write at the end of a pack.
        let whole = std::fs::metadata(packs.pack_path(1)).unwrap().len();
        let mut tail = std::fs::OpenOptions::new()
            .append(true)
            .open(packs.pack_path(1))
            .unwrap();
        std::io::Write::write_all(&mut tail, &MAGIC[..]).unwrap();
        let rebuilt = packs.rebuild_index(&|_| None).unwrap();
        assert_eq!((rebuilt.packs, rebuilt.blobs), (4, 4));
        assert_eq!(
            rebuilt.unreadable,
            vec![Skipped {
                pack: "pack-000001.cwpack".into(),
                offset: whole,
                bytes: 4
            }]
        );
        assert!(rebuilt.old_index.as_ref().is_some_and(|p| p.exists()));
        let reader = Packs::new(dir.path());
        for ((sha, frame), loc) in blobs.iter().zip(&before) {
            assert_eq!(reader.locate(sha).unwrap(), Some(*loc));
            assert_eq!(&reader.read_frame(sha, *loc).unwrap(), frame);
        }
        assert_eq!(reader.needs_rebuild(true).unwrap(), None);
    }

    /// One pack holding `blobs` in order, and each record's start.
    fn one_pack(dir: &Path, blobs: &[([u8; 32], Vec<u8>)]) -> (Packs, Vec<u64>) {
        let packs = Packs::new(dir);
        let mut starts = Vec::new();
        for (sha, frame) in blobs {
            packs.append(sha, frame).unwrap();
            starts.push(packs.locate(sha).unwrap().unwrap().offset - HEADER);
        }
        packs.sync().unwrap();
        (packs, starts)
    }

    #[test]
    fn a_rebuild_skips_a_damaged_record_and_finds_every_record_after_it() {
        for damage in ["header", "length", "frame", "junk between records"] {
            let dir = tempfile::tempdir().unwrap();
            let blobs: Vec<_> = (1..=5).map(blob).collect();
            let (packs, starts) = one_pack(dir.path(), &blobs);
            let path = packs.pack_path(1);
            let mut bytes = std::fs::read(&path).unwrap();
            // Record 1 (the second) is damaged; 0, 2, 3 and 4 are sound.
            let (at, end) = (starts[1] as usize, starts[2] as usize);
            let mut expected_skip = (at as u64, (end - at) as u64);
            match damage {
                "header" => bytes[at..at + 4].copy_from_slice(b"XXXX"),
                // Longer than the frame: the record would swallow the next one.
                "length" => {
                    let length = (end - at) as u64 - HEADER + 100;
                    bytes[at + 36..at + 44].copy_from_slice(&length.to_le_bytes());
                }
                // Inside its frame: the header still says the same.
                "frame" => {
                    let mid = at + HEADER as usize + (end - at - HEADER as usize) / 2;
                    bytes[mid] ^= 0x55;
                }
                _ => {
                    // Bytes that merely begin with the magic, then noise.
                    let mut junk = MAGIC.to_vec();
                    junk.extend_from_slice(&[0x28, 0xb5, 0x2f, 0xfd]);
                    junk.extend((0..300u32).map(|i| (i * 7 % 251) as u8));
                    bytes.splice(at..at, junk.iter().copied());
                    expected_skip = (at as u64, junk.len() as u64);
                }
            }
            std::fs::write(&path, &bytes).unwrap();
            let rebuilt = packs.rebuild_index(&|_| None).unwrap();
            assert_eq!(
                rebuilt.unreadable,
                vec![Skipped {
                    pack: "pack-000001.cwpack".into(),
                    offset: expected_skip.0,
                    bytes: expected_skip.1,
                }],
                "{damage}"
            );
            let reader = Packs::new(dir.path());
            for (i, (sha, frame)) in blobs.iter().enumerate() {
                let found = reader.locate(sha).unwrap();
                if i == 1 && damage != "junk between records" {
                    assert_eq!(found, None, "{damage}: the damaged record is not indexed");
                } else {
                    let loc = found.unwrap_or_else(|| panic!("{damage}: record {i} lost"));
                    assert_eq!(&reader.read_frame(sha, loc).unwrap(), frame, "{damage}");
                }
            }
            assert_eq!(
                rebuilt.blobs,
                if damage == "junk between records" {
                    5
                } else {
                    4
                },
                "{damage}"
            );
        }
    }

    #[test]
    fn a_log_left_beside_no_index_is_not_read_as_the_rebuilt_ones() {
        // A rebuild moves the old index aside, then its log, then puts the
        // new index in place. Killed between the two renames, or an index
        // deleted by hand while a killed writer's log stayed, the folder
        // holds `index.db-wal` and no `index.db`. SQLite reads a log beside
        // a database as that database's own: left there, it was replayed
        // over the next rebuilt index, putting back the old index's pages.
        let dir = tempfile::tempdir().unwrap();
        let blobs: Vec<_> = (1..=3).map(blob).collect();
        let (packs, _) = one_pack(dir.path(), &blobs);
        drop(packs);
        let before: Vec<Location> = {
            let reader = Packs::new(dir.path());
            blobs
                .iter()
                .map(|(sha, _)| reader.locate(sha).unwrap().unwrap())
                .collect()
        };
        // A writer killed with a transaction in its log: a row lost.
        let conn = rusqlite::Connection::open(dir.path().join("index.db")).unwrap();
        conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        conn.execute("DELETE FROM packed WHERE sha256 = ?1", [&blobs[1].0[..]])
            .unwrap();
        std::mem::forget(conn);
        assert!(dir.path().join("index.db-wal").exists());
        // The index gone, its log not.
        std::fs::rename(
            dir.path().join("index.db"),
            dir.path().join("index.db.old-1"),
        )
        .unwrap();
        let packs = Packs::new(dir.path());
        assert_eq!(
            packs.needs_rebuild(false).unwrap().as_deref(),
            Some("the pack index is missing")
        );
        let rebuilt = packs.rebuild_index(&|_| None).unwrap();
        assert_eq!(rebuilt.blobs, 3);
        let reader = Packs::new(dir.path());
        for ((sha, frame), loc) in blobs.iter().zip(&before) {
            assert_eq!(reader.locate(sha).unwrap(), Some(*loc));
            assert_eq!(&reader.read_frame(sha, *loc).unwrap(), frame);
        }
        assert_eq!(reader.needs_rebuild(true).unwrap(), None);
    }

    #[test]
    fn an_index_naming_a_pack_gone_or_cut_short_is_rebuilt_and_its_blobs_stored_again() {
        // A pack lost or cut short (a disk's failure, a partial restore)
        // while the index still names its records: each blob in it was
        // unreadable, and every later copy of the same bytes was found in
        // the index and not stored, so a check fetching the page again
        // could never mend the archive. The index must name only bytes
        // that are there.
        for damage in ["gone", "cut short"] {
            let dir = tempfile::tempdir().unwrap();
            let packs = Packs::with_target(dir.path(), 1);
            let blobs: Vec<_> = (1..=2).map(blob).collect();
            for (sha, frame) in &blobs {
                packs.append(sha, frame).unwrap();
            }
            packs.sync().unwrap();
            drop(packs);
            let (lost, lost_frame) = &blobs[0];
            let path = dir.path().join("pack-000001.cwpack");
            let why = match damage {
                "gone" => {
                    std::fs::remove_file(&path).unwrap();
                    "the pack index names pack files that are gone: pack-000001.cwpack"
                }
                _ => {
                    let len = std::fs::metadata(&path).unwrap().len();
                    std::fs::OpenOptions::new()
                        .write(true)
                        .open(&path)
                        .unwrap()
                        .set_len(len - 3)
                        .unwrap();
                    "the pack index names records past the end of pack-000001.cwpack"
                }
            };
            let packs = Packs::new(dir.path());
            assert_eq!(packs.needs_rebuild(true).unwrap().as_deref(), Some(why));
            if damage == "gone" {
                // Cheap to see: a check run's quick look at its start sees it.
                assert_eq!(packs.needs_rebuild(false).unwrap().as_deref(), Some(why));
            }
            packs.rebuild_index(&|_| None).unwrap();
            assert_eq!(packs.locate(lost).unwrap(), None, "{damage}");
            assert_eq!(packs.needs_rebuild(true).unwrap(), None, "{damage}");
            // The next copy of the same bytes is stored, and reads back.
            assert!(packs.append(lost, lost_frame).unwrap() > 0, "{damage}");
            packs.sync().unwrap();
            let reader = Packs::new(dir.path());
            let loc = reader.locate(lost).unwrap().unwrap();
            assert_eq!(&reader.read_frame(lost, loc).unwrap(), lost_frame);
            let (kept, kept_frame) = &blobs[1];
            let loc = reader.locate(kept).unwrap().unwrap();
            assert_eq!(&reader.read_frame(kept, loc).unwrap(), kept_frame);
        }
    }

    #[test]
    fn a_rebuild_indexes_a_later_sound_copy_over_a_damaged_first_one() {
        let dir = tempfile::tempdir().unwrap();
        let (a, fa) = blob(1);
        let (b, fb) = blob(2);
        let (packs, starts) = one_pack(dir.path(), &[(a, fa.clone()), (b, fb)]);
        drop(packs);
        // A second writer packed the same blob again (a race the index
        // settles by keeping the first copy).
        let second = Packs::new(dir.path());
        second.append_new(&a, &fa).unwrap();
        second.sync().unwrap();
        let path = second.pack_path(1);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[(starts[0] + HEADER + 10) as usize] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        let rebuilt = second.rebuild_index(&|_| None).unwrap();
        assert_eq!(rebuilt.unreadable.len(), 1, "{rebuilt:?}");
        let loc = Packs::new(dir.path()).locate(&a).unwrap().unwrap();
        assert_eq!(loc.pack, 2, "the sound copy, not the damaged first one");
        assert_eq!(second.read_frame(&a, loc).unwrap(), fa);
    }

    #[test]
    fn an_index_that_lost_rows_of_a_pack_it_knows_is_rebuilt_on_repair() {
        // The index restored from a copy, or its log lost: it still knows
        // the pack, but not every blob in it. Those blobs are missing to
        // every reader while their bytes are sound in the pack.
        let dir = tempfile::tempdir().unwrap();
        let blobs: Vec<_> = (1..=3).map(blob).collect();
        let (packs, _) = one_pack(dir.path(), &blobs);
        drop(packs);
        rusqlite::Connection::open(dir.path().join("index.db"))
            .unwrap()
            .execute("DELETE FROM packed WHERE sha256 = ?1", [&blobs[1].0[..]])
            .unwrap();
        let packs = Packs::new(dir.path());
        assert_eq!(packs.locate(&blobs[1].0).unwrap(), None);
        assert_eq!(
            packs.needs_rebuild(true).unwrap().as_deref(),
            Some("the pack index does not name 1 sound record in pack-000001.cwpack")
        );
        // The quick look a check run takes at its start does not read the packs.
        assert_eq!(packs.needs_rebuild(false).unwrap(), None);
        let rebuilt = packs.rebuild_index(&|_| None).unwrap();
        assert_eq!(rebuilt.blobs, 3);
        let reader = Packs::new(dir.path());
        for (sha, frame) in &blobs {
            let loc = reader.locate(sha).unwrap().unwrap();
            assert_eq!(&reader.read_frame(sha, loc).unwrap(), frame);
        }
        assert_eq!(reader.needs_rebuild(true).unwrap(), None);

        // Bytes no row names that hold no blob the index lacks are no
        // reason: a write cut short, a second copy of an indexed blob.
        let mut tail = std::fs::OpenOptions::new()
            .append(true)
            .open(reader.pack_path(1))
            .unwrap();
        std::io::Write::write_all(&mut tail, &MAGIC[..]).unwrap();
        let second = Packs::new(dir.path());
        second.append_new(&blobs[0].0, &blobs[0].1).unwrap();
        second.sync().unwrap();
        assert_eq!(second.unindexed().unwrap().len(), 2);
        assert_eq!(Packs::new(dir.path()).needs_rebuild(true).unwrap(), None);
    }

    #[test]
    fn a_rebuild_that_fails_or_is_killed_leaves_the_index_it_was_to_replace() {
        // A rebuild reads every pack, seconds to minutes. The old index was
        // moved aside before it began: a pack it could not open (an I/O
        // error, here a link to nothing) failed it, or a kill cut it short,
        // and every reader then found an empty index, every packed blob
        // missing, until a later rebuild got through.
        let dir = tempfile::tempdir().unwrap();
        let (a, fa) = blob(1);
        let packs = Packs::new(dir.path());
        packs.append(&a, &fa).unwrap();
        packs.sync().unwrap();
        let loc = packs.locate(&a).unwrap().unwrap();
        drop(packs);
        std::os::unix::fs::symlink(
            dir.path().join("nowhere"),
            dir.path().join("pack-000002.cwpack"),
        )
        .unwrap();
        let packs = Packs::new(dir.path());
        assert!(packs.needs_rebuild(false).unwrap().is_some());
        assert!(packs.rebuild_index(&|_| None).is_err());
        assert_eq!(Packs::new(dir.path()).locate(&a).unwrap(), Some(loc));
        assert_eq!(packs.locate(&a).unwrap(), Some(loc));
        // Once it can be read, the rebuild goes through and leaves nothing
        // of the failed one.
        std::fs::remove_file(dir.path().join("pack-000002.cwpack")).unwrap();
        let rebuilt = packs.rebuild_index(&|_| None).unwrap();
        assert_eq!((rebuilt.packs, rebuilt.blobs), (1, 1));
        assert!(rebuilt.old_index.is_some_and(|p| p.exists()));
        assert_eq!(Packs::new(dir.path()).locate(&a).unwrap(), Some(loc));
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.contains(".new"))
            .collect();
        names.sort();
        assert_eq!(names, Vec::<String>::new());
    }

    #[test]
    fn a_damaged_index_is_named_with_the_way_out_and_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let (a, fa) = blob(1);
        let packs = Packs::new(dir.path());
        packs.append(&a, &fa).unwrap();
        packs.sync().unwrap();
        let loc = packs.locate(&a).unwrap().unwrap();
        drop(packs);
        std::fs::write(dir.path().join("index.db"), vec![0x5au8; 8192]).unwrap();
        let packs = Packs::new(dir.path());
        let err = packs.locate(&a).unwrap_err();
        assert!(matches!(err, BlobError::IndexDamaged { .. }), "{err}");
        assert!(
            err.to_string().contains("citewatch verify --repair"),
            "{err}"
        );
        assert!(
            packs
                .needs_rebuild(false)
                .unwrap()
                .is_some_and(|why| why.starts_with("the pack index is damaged")),
        );
        packs.rebuild_index(&|_| None).unwrap();
        assert_eq!(packs.locate(&a).unwrap(), Some(loc));
        // A reader that had the old index open finds what the new one holds.
        let (b, fb) = blob(2);
        let reader = Packs::new(dir.path());
        assert!(reader.locate(&a).unwrap().is_some());
        packs.rebuild_index(&|_| None).unwrap();
        packs.append(&b, &fb).unwrap();
        packs.sync().unwrap();
        assert!(reader.locate(&b).unwrap().is_some());
    }

    #[test]
    fn the_immutable_uri_escapes_what_a_uri_would_read() {
        assert_eq!(
            crate::store::immutable_uri(Path::new("/data/a b?c#d%e/index.db")),
            "file:/data/a%20b%3Fc%23d%25e/index.db?immutable=1"
        );
    }

    #[test]
    fn a_damaged_index_length_is_an_error_not_an_allocation() {
        let dir = tempfile::tempdir().unwrap();
        let packs = Packs::new(dir.path());
        let (a, fa) = blob(1);
        packs.append(&a, &fa).unwrap();
        let loc = packs.locate(&a).unwrap().unwrap();
        for length in [u64::MAX, (-1i64) as u64, 1 << 50, loc.length + 1] {
            let e = packs
                .read_frame(&a, Location { length, ..loc })
                .unwrap_err()
                .to_string();
            assert!(e.contains("has no record of"), "{length}: {e}");
        }
        assert_eq!(packs.read_frame(&a, loc).unwrap(), fa);
    }

    #[test]
    fn append_new_rechecks_only_its_own_pending_blobs_and_the_index_keeps_the_first_copy() {
        let dir = tempfile::tempdir().unwrap();
        let (a, fa) = blob(1);
        let first = Packs::new(dir.path());
        assert_eq!(first.append_new(&a, &fa).unwrap(), HEADER + fa.len() as u64);
        assert_eq!(
            first.append_new(&a, &fa).unwrap(),
            0,
            "pending here already"
        );
        first.sync().unwrap();
        let indexed = first.locate(&a).unwrap().unwrap();
        // A writer that looked before the first one synced appends its own copy…
        let second = Packs::new(dir.path());
        assert_eq!(
            second.append_new(&a, &fa).unwrap(),
            HEADER + fa.len() as u64
        );
        second.sync().unwrap();
        // …which is only waste: the index still names the first.
        let third = Packs::new(dir.path());
        assert_eq!(third.locate(&a).unwrap(), Some(indexed));
        assert_eq!(third.read_frame(&a, indexed).unwrap(), fa);
        assert_eq!(
            third.unindexed().unwrap(),
            vec![Unindexed {
                pack: "pack-000002.cwpack".into(),
                bytes: HEADER + fa.len() as u64
            }],
            "the second copy is counted as waste, the first is not"
        );
    }

    #[test]
    fn a_crash_before_sync_leaves_bytes_no_index_names_and_a_new_pack_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let (a, fa) = blob(1);
        let (b, fb) = blob(2);
        {
            let packs = Packs::new(dir.path());
            packs.append(&a, &fa).unwrap();
            packs.sync().unwrap();
            packs.append(&b, &fb).unwrap();
            assert_eq!(packs.unindexed().unwrap(), vec![], "pending is named");
            // Dropped without sync: the process died.
        }
        let packs = Packs::new(dir.path());
        let lost = Unindexed {
            pack: "pack-000001.cwpack".into(),
            bytes: HEADER + fb.len() as u64,
        };
        assert_eq!(packs.unindexed().unwrap(), vec![lost.clone()]);
        assert!(packs.locate(&a).unwrap().is_some());
        assert_eq!(packs.locate(&b).unwrap(), None, "never indexed");
        assert_eq!(packs.append(&b, &fb).unwrap(), HEADER + fb.len() as u64);
        packs.sync().unwrap();
        let lb = packs.locate(&b).unwrap().unwrap();
        assert_eq!(lb.pack, 2, "the dead writer's pack is not appended to");
        assert_eq!(packs.read_frame(&b, lb).unwrap(), fb);
        assert_eq!(packs.unindexed().unwrap(), vec![lost], "only the lost copy");
        // A stray file that merely looks like a pack is not counted.
        std::fs::write(dir.path().join("pack-x.cwpack"), b"junk").unwrap();
        assert_eq!(pack_id("pack-x.cwpack"), None);
        assert_eq!(pack_id("pack-000012.cwpack"), Some(12));
        assert_eq!(packs.unindexed().unwrap().len(), 1);
    }

    #[test]
    fn a_full_pack_is_closed_and_a_wrong_location_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let packs = Packs::with_target(dir.path(), 1);
        let (a, fa) = blob(1);
        let (b, fb) = blob(2);
        packs.append(&a, &fa).unwrap();
        packs.append(&b, &fb).unwrap();
        packs.sync().unwrap();
        let (la, lb) = (
            packs.locate(&a).unwrap().unwrap(),
            packs.locate(&b).unwrap().unwrap(),
        );
        assert_ne!(la.pack, lb.pack, "a new pack past the target size");
        assert!(packs.pack_path(la.pack).exists() && packs.pack_path(lb.pack).exists());
        // The record at a's place does not claim to be b.
        let err = packs.read_frame(&b, la).unwrap_err();
        assert!(err.to_string().contains("is not blob"), "{err}");
        let inside = Location {
            offset: la.offset + 1,
            ..la
        };
        assert!(packs.read_frame(&a, inside).is_err());
    }
}
