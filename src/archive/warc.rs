//! WARC export: the archive as a standard web archive file, so that the copy of
//! a source can be replayed and checked by tools that know nothing of citewatch
//! (pywb, warcio, the Internet Archive's importers).
//!
//! The file is WARC/1.1 with every record in its own gzip member: an index can
//! then point at any record and a reader can inflate it alone. Per capture, in
//! order: a `request` record (reconstructed: citewatch does not keep the request
//! it sent), a `response` record — or a `revisit` when the same payload was
//! already written earlier in this file — and a `metadata` record carrying what
//! only citewatch knows (capture id, the URL asked for, redirects, 304s).
//!
//! Bodies are archived decoded, so the HTTP headers written must describe the
//! payload as it is in the file, or a reader would gunzip plain bytes or stop at
//! a stale length: `Content-Encoding`, `Transfer-Encoding` and `Content-Length`
//! of the original response are kept under `X-Citewatch-Original-*` names and a
//! true `Content-Length` is written.
//!
//! Gzip is most of an export's work, and each record is its own member, so
//! records are compressed on several threads and written in order: the file
//! is the same however many there are (the `warcinfo` record aside, which
//! names the moment of the export). The exporting thread reads the store,
//! decides each record (a revisit needs the payloads written before it) and
//! writes the members as they come back.
//!
//! Memory stays flat in body size: a blob of up to 1 MiB (nearly every page)
//! is read once into memory, where its digests are taken and it is
//! compressed; a larger one streams through twice, once to hash the block,
//! whose digest must precede it, and once to write it, and is never held
//! whole. Only a bounded number of records wait between the threads. The
//! CDXJ index is sorted in bounded memory (runs spilled to temporary files,
//! then merged). What still grows with the export is a few dozen bytes per
//! distinct payload, to know which payloads the file already holds; the
//! details of the record a revisit points at are read back from the store.
//!
//! Both files are written under temporary names beside their destination and
//! renamed only when complete, so a failed export never leaves a half-written
//! WARC that looks whole.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, PoisonError, mpsc};

use flate2::Compression;
use flate2::write::GzEncoder;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::blobs::{BlobError, BlobStore, Side, pump};
use crate::output_file::OutputFile;
use crate::store::{CaptureFilter, CaptureRow, Store, StoreError};
use crate::time::{Millis, format_millis, now_millis};

/// The revisit profile for a payload already written elsewhere in the file.
pub const IDENTICAL_PAYLOAD_PROFILE: &str =
    "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest";

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportSummary {
    /// The WARC file.
    #[serde(serialize_with = "super::path_lossy")]
    pub file: PathBuf,
    /// The CDXJ index, when one was asked for.
    #[serde(serialize_with = "super::path_lossy_opt")]
    pub cdxj_file: Option<PathBuf>,
    /// WARC records written, the `warcinfo` record included.
    pub records: u64,
    /// Captures exported.
    pub captures: u64,
    /// Of those, captures written as `revisit` records (payload already in the file).
    pub revisits: u64,
    /// Size of the WARC file in bytes.
    pub bytes: u64,
}

/// An export failure. Nothing is left at the destination when one occurs.
#[derive(Debug, thiserror::Error)]
pub enum WarcError {
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A capture's blob could not be opened.
    #[error("capture {capture_id}: {source}")]
    Blob {
        /// The capture.
        capture_id: i64,
        /// Why.
        source: BlobError,
    },
    /// A capture's blob failed while being read.
    #[error("capture {capture_id}: reading blob {sha256}: {source}")]
    BlobRead {
        /// The capture.
        capture_id: i64,
        /// The blob.
        sha256: String,
        /// Why.
        source: io::Error,
    },
    /// A blob does not hold what its capture row says; the WARC would lie about it.
    #[error("capture {capture_id}: blob {sha256} {detail}; run `citewatch verify`")]
    BlobMismatch {
        /// The capture.
        capture_id: i64,
        /// The blob.
        sha256: String,
        /// What disagrees.
        detail: String,
    },
    /// An output file cannot be created where it was asked for (no such
    /// folder, no permission): a matter of the arguments, found before any
    /// work.
    #[error("{}: {source}", path.display())]
    Output {
        /// The file asked for.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The system refused a thread to compress records on (its limit on
    /// threads or processes, or memory for their stacks): no bug of ours,
    /// and one thread needs no other.
    #[error(
        "could not start a thread to compress the records: {source}; the system limits \
         threads, or memory for them (`--jobs 1` compresses on this thread alone)"
    )]
    Thread {
        /// Why.
        source: io::Error,
    },
    /// An output file could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// Where the CDXJ index of `out` goes: `.warc.gz` replaced by `.cdxj`, or `.cdxj`
/// appended when the name has no `.warc.gz` ending.
pub fn cdxj_path(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = warc_gz_stem(&name).unwrap_or(&name);
    out.with_file_name(format!("{stem}.cdxj"))
}

/// Whether a file name ends in `.warc.gz`, the ending by which web-archive
/// tools tell a WARC file of gzipped records.
pub fn has_warc_gz_ending(name: &str) -> bool {
    warc_gz_stem(name).is_some()
}

/// `name` without its `.warc.gz` ending, written in any case (`.WARC.GZ`).
fn warc_gz_stem(name: &str) -> Option<&str> {
    const ENDING: &str = ".warc.gz";
    let cut = name.len().checked_sub(ENDING.len())?;
    (name.is_char_boundary(cut) && name[cut..].eq_ignore_ascii_case(ENDING)).then(|| &name[..cut])
}

/// Exports the captures `filter` selects, oldest first, to `out` (a gzipped
/// WARC/1.1 file), and with `cdxj` a sorted CDXJ index beside it
/// ([`cdxj_path`]). An existing file at either path is replaced. Records are
/// compressed on as many threads as the machine has cores.
pub fn export(
    store: &Store,
    blobs: &dyn BlobStore,
    filter: &CaptureFilter,
    out: &Path,
    cdxj: bool,
) -> Result<ExportSummary, WarcError> {
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    export_reporting(store, blobs, filter, out, cdxj, jobs, &mut |_, _| {})
}

/// [`export`] with its records compressed on `jobs` threads (1: on the
/// calling thread alone), telling `progress` after each capture how many have
/// been written and of how many: a whole archive takes minutes to gzip. The
/// file is the same whatever `jobs` is, but for the `warcinfo` record, which
/// names the moment of the export.
pub fn export_reporting(
    store: &Store,
    blobs: &dyn BlobStore,
    filter: &CaptureFilter,
    out: &Path,
    cdxj: bool,
    jobs: usize,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ExportSummary, WarcError> {
    let total = store.count_captures(filter)?;
    let filename = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export.warc.gz".into());
    let file = output_beside(out)?;
    std::thread::scope(|scope| {
        let pool = if jobs > 1 {
            let limit = jobs * IN_FLIGHT_PER_THREAD;
            let (to_threads, from_exporter) = mpsc::sync_channel(limit);
            let (to_exporter, done) = mpsc::channel();
            let from_exporter = Arc::new(Mutex::new(from_exporter));
            for _ in 0..jobs {
                let (jobs, done) = (Arc::clone(&from_exporter), to_exporter.clone());
                // `scope.spawn` panics when the system refuses a thread,
                // which told the user of a bug in citewatch. Returning drops
                // `to_threads`: the threads already started end.
                std::thread::Builder::new()
                    .name("warc-gzip".into())
                    .spawn_scoped(scope, move || compress_records(&jobs, done, blobs, out))
                    .map_err(|source| WarcError::Thread { source })?;
            }
            Some(Pool {
                jobs: to_threads,
                done,
                waiting: VecDeque::new(),
                arrived: BTreeMap::new(),
                next: 0,
                limit,
            })
        } else {
            None
        };
        let mut w = Exporter {
            out: Counting {
                inner: BufWriter::with_capacity(256 * 1024, file),
                written: 0,
            },
            path: out.to_path_buf(),
            blobs,
            filename,
            warcinfo_id: String::new(),
            written: HashMap::new(),
            cdxj: cdxj.then(|| LineSorter::new(cdxj_path(out), CDXJ_RUN_BYTES)),
            records: 0,
            captures: 0,
            revisits: 0,
            total,
            progress,
            pool,
        };
        let run = w
            .warcinfo(filter)
            .and_then(|()| store.for_each_capture(filter, |row| w.capture(store, &row)));
        // The records handed out before the store failed come before the
        // capture it failed on: their failure (or panic) is the one to tell,
        // as on one thread. A failure of theirs has already stopped the pool.
        w.drain()?;
        run?;
        // The compressing threads end once they are hung up on.
        w.pool = None;
        finish(w, out)
    })
}

/// Makes an export's files durable and puts them in place.
fn finish(w: Exporter, out: &Path) -> Result<ExportSummary, WarcError> {
    let Exporter {
        out: counting,
        records,
        captures,
        revisits,
        cdxj: lines,
        ..
    } = w;
    let bytes = counting.written;
    let file = counting
        .inner
        .into_inner()
        .map_err(|e| io_err(out)(e.into_error()))?;
    synced(&file).map_err(io_err(out))?;
    let cdxj_file = match lines {
        Some(lines) => {
            let path = lines.path.clone();
            let mut f = BufWriter::new(output_beside(&path)?);
            lines.finish(&mut f).map_err(io_err(&path))?;
            let cdxj = f.into_inner().map_err(|e| io_err(&path)(e.into_error()))?;
            synced(&cdxj).map_err(io_err(&path))?;
            // The old index goes first: killed between the two renames, an
            // export leaves a WARC without an index (make it again), never
            // beside one whose offsets point into the file it replaced.
            if let Some(old) = cdxj.destination() {
                match std::fs::remove_file(old) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io_err(&path)(e)),
                }
            }
            file.commit().map_err(io_err(out))?;
            cdxj.commit().map_err(io_err(&path))?;
            Some(path)
        }
        None => {
            file.commit().map_err(io_err(out))?;
            None
        }
    };
    Ok(ExportSummary {
        file: out.to_path_buf(),
        cdxj_file,
        records,
        captures,
        revisits,
        bytes,
    })
}

fn io_err(path: &Path) -> impl Fn(io::Error) -> WarcError + '_ {
    move |source| WarcError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The export's file, written beside `path` and renamed into place (see
/// [`crate::output_file`]).
fn output_beside(path: &Path) -> Result<OutputFile, WarcError> {
    OutputFile::create(path, ".citewatch-export-").map_err(|source| WarcError::Output {
        path: path.to_path_buf(),
        source,
    })
}

/// Flushed to the disk before the rename, so a crash leaves the old file or
/// the whole new one. A pipe or a terminal has nothing to sync.
fn synced(file: &OutputFile) -> io::Result<()> {
    match file.file().sync_all() {
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Ok(()),
        other => other,
    }
}

/// Counts the bytes that pass, which gives every gzip member's offset.
struct Counting<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn open_blob(blobs: &dyn BlobStore, row: &CaptureRow) -> Result<Box<dyn Read + Send>, WarcError> {
    blobs
        .open(&row.body_sha256)
        .map_err(|source| WarcError::Blob {
            capture_id: row.id,
            source,
        })
}

/// A failed stream as an error naming the blob (read side) or the output (write side).
fn blob_err(path: &Path, row: &CaptureRow, side: Side) -> WarcError {
    match side {
        Side::Read(source) => WarcError::BlobRead {
            capture_id: row.id,
            sha256: row.body_sha256.clone(),
            source,
        },
        Side::Write(source) => io_err(path)(source),
    }
}

/// Where an already written payload lives, for revisits that point back at it.
struct Written {
    record_id: String,
    target_uri: String,
    date: String,
}

impl Written {
    fn of(row: &CaptureRow) -> Written {
        Written {
            record_id: capture_record_id("response", row),
            target_uri: target_of(row).to_string(),
            date: format_millis(row.captured_at),
        }
    }
}

/// The key under which a payload is remembered: the first 128 bits of its
/// sha256 (a collision is checked against the full digest before use).
fn payload_key(sha256_hex: &str) -> Option<u128> {
    sha256_hex
        .get(..32)
        .and_then(|h| u128::from_str_radix(h, 16).ok())
}

/// The URL the records of a capture are about: the one that answered.
fn target_of(row: &CaptureRow) -> &str {
    if row.final_url.is_empty() {
        &row.request_url
    } else {
        &row.final_url
    }
}

/// The deterministic id of one of a capture's records (`kind`: request,
/// response, metadata).
fn capture_record_id(kind: &str, row: &CaptureRow) -> String {
    record_id(&[
        kind,
        &row.id.to_string(),
        &row.source_url,
        &row.captured_at.to_string(),
        &row.body_sha256,
    ])
}

/// One WARC record to write: its header fields (the digest and length are
/// added when the block is read), the bytes its block begins with, and the
/// capture whose blob follows them, if any.
struct Record {
    fields: Vec<(&'static str, String)>,
    head: Vec<u8>,
    blob: Option<CaptureRow>,
}

impl Record {
    fn new(fields: &[(&'static str, &str)], head: Vec<u8>, blob: Option<&CaptureRow>) -> Record {
        Record {
            fields: fields.iter().map(|&(k, v)| (k, v.to_string())).collect(),
            head,
            blob: blob.cloned(),
        }
    }

    /// Read whole into memory, or streamed through twice (see [`IN_MEMORY`]).
    fn streams(&self) -> bool {
        self.blob
            .as_ref()
            .is_some_and(|row| row.body_size > IN_MEMORY)
    }
}

/// What is left to do once a record is in the file.
struct After {
    /// The capture whose CDXJ line points at this record (its response or
    /// revisit), and whether it is a revisit.
    index: Option<(CaptureRow, bool)>,
    /// The capture's last record: one more capture is written.
    ends_capture: bool,
}

impl After {
    const NOTHING: After = After {
        index: None,
        ends_capture: false,
    };
}

/// Blobs up to this size are read once, into memory, and hashed and
/// compressed from there. Larger ones stream through twice, once to hash the
/// block (its digest precedes it) and once to write it, so that memory stays
/// flat in body size; they are written by the exporting thread itself.
const IN_MEMORY: u64 = 1 << 20;

/// Records handed to the compressing threads and not yet in the file, per
/// thread: enough to keep each busy while a large record holds up the writing,
/// few enough that what waits stays bounded: at most 16 MiB a thread (a
/// record's body is at most [`IN_MEMORY`], its member at most about twice
/// that while it grows), and a few hundred KiB for pages.
const IN_FLIGHT_PER_THREAD: usize = 8;

/// Writes `record` to `out` as one gzip member.
fn write_member(
    out: &mut dyn Write,
    record: &Record,
    blobs: &dyn BlobStore,
    path: &Path,
) -> Result<(), WarcError> {
    let mut block = Sha256::new();
    block.update(&record.head);
    let whole = match &record.blob {
        Some(row) if !record.streams() => Some(read_whole(blobs, row)?),
        _ => None,
    };
    let blob_len = match (&record.blob, &whole) {
        (_, Some(bytes)) => {
            block.update(bytes);
            bytes.len() as u64
        }
        (Some(row), None) => {
            let mut r = open_blob(blobs, row)?;
            let len = pump(&mut *r, &mut |chunk| {
                block.update(chunk);
                Ok(())
            })
            .map_err(|side| blob_err(path, row, side))?;
            if len != row.body_size {
                return Err(mismatch(
                    row,
                    format!("holds {len} bytes, recorded {}", row.body_size),
                ));
            }
            len
        }
        (None, None) => 0,
    };
    let length = record.head.len() as u64 + blob_len;
    let mut header = String::from("WARC/1.1\r\n");
    for (name, value) in &record.fields {
        header.push_str(name);
        header.push_str(": ");
        header.push_str(&one_line(value));
        header.push_str("\r\n");
    }
    header.push_str(&format!(
        "WARC-Block-Digest: sha256:{}\r\nContent-Length: {length}\r\n\r\n",
        hex::encode(block.finalize())
    ));

    let mut gz = GzEncoder::new(out, Compression::default());
    gz.write_all(header.as_bytes())
        .and_then(|()| gz.write_all(&record.head))
        .map_err(io_err(path))?;
    match (&record.blob, whole) {
        (_, Some(bytes)) => gz.write_all(&bytes).map_err(io_err(path))?,
        (Some(row), None) => {
            let mut r = open_blob(blobs, row)?;
            let mut payload = Sha256::new();
            let n = pump(&mut *r, &mut |chunk| {
                payload.update(chunk);
                gz.write_all(chunk)
            })
            .map_err(|side| blob_err(path, row, side))?;
            if n != blob_len {
                return Err(mismatch(
                    row,
                    format!("gave {n} bytes on a second read, {blob_len} on the first"),
                ));
            }
            let actual = hex::encode(payload.finalize());
            if actual != row.body_sha256 {
                return Err(mismatch(row, format!("content hashes to {actual}")));
            }
        }
        (None, None) => {}
    }
    gz.write_all(b"\r\n\r\n")
        .and_then(|()| gz.finish().map(drop))
        .map_err(io_err(path))
}

/// A blob of at most [`IN_MEMORY`] bytes, read once and checked against its
/// capture row: its length, then its sha256.
fn read_whole(blobs: &dyn BlobStore, row: &CaptureRow) -> Result<Vec<u8>, WarcError> {
    let read_err = |source| WarcError::BlobRead {
        capture_id: row.id,
        sha256: row.body_sha256.clone(),
        source,
    };
    let mut r = open_blob(blobs, row)?;
    let mut bytes = Vec::with_capacity(row.body_size as usize);
    (&mut r)
        .take(row.body_size + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 != row.body_size {
        let more = io::copy(&mut r, &mut io::sink()).map_err(read_err)?;
        let len = bytes.len() as u64 + more;
        return Err(mismatch(
            row,
            format!("holds {len} bytes, recorded {}", row.body_size),
        ));
    }
    let actual = hex::encode(Sha256::digest(&bytes));
    if actual != row.body_sha256 {
        return Err(mismatch(row, format!("content hashes to {actual}")));
    }
    Ok(bytes)
}

fn mismatch(row: &CaptureRow, detail: String) -> WarcError {
    WarcError::BlobMismatch {
        capture_id: row.id,
        sha256: row.body_sha256.clone(),
        detail,
    }
}

/// A compressing thread's answer: a record's gzip member, or why there is none.
enum Compressed {
    Member(Vec<u8>),
    Failed(WarcError),
    /// A bug: the thread's panic, raised again on the exporting thread.
    Panicked(Box<dyn std::any::Any + Send>),
}

/// Compresses records handed out by the exporting thread until it hangs up.
fn compress_records(
    jobs: &Mutex<mpsc::Receiver<(u64, Record)>>,
    done: mpsc::Sender<(u64, Compressed)>,
    blobs: &dyn BlobStore,
    path: &Path,
) {
    loop {
        let next = jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok((seq, record)) = next else { return };
        let mut member = Vec::new();
        let compressed = match std::panic::catch_unwind(AssertUnwindSafe(|| {
            write_member(&mut member, &record, blobs, path)
        })) {
            Ok(Ok(())) => Compressed::Member(member),
            Ok(Err(e)) => Compressed::Failed(e),
            Err(panic) => Compressed::Panicked(panic),
        };
        if done.send((seq, compressed)).is_err() {
            return;
        }
    }
}

/// The exporting thread's side of the compressing threads: records go out
/// numbered, their members come back in any order and are written in order.
struct Pool {
    jobs: mpsc::SyncSender<(u64, Record)>,
    done: mpsc::Receiver<(u64, Compressed)>,
    /// What follows each record handed out and not yet written, in order.
    waiting: VecDeque<After>,
    /// Members come back before those ahead of them.
    arrived: BTreeMap<u64, Compressed>,
    /// The number of the next record to write.
    next: u64,
    limit: usize,
}

struct Exporter<'a, 'p> {
    out: Counting<BufWriter<OutputFile>>,
    path: PathBuf,
    blobs: &'a dyn BlobStore,
    filename: String,
    warcinfo_id: String,
    /// Payload (by [`payload_key`]) → the capture whose response record carries it.
    written: HashMap<u128, i64>,
    cdxj: Option<LineSorter>,
    records: u64,
    captures: u64,
    revisits: u64,
    total: u64,
    progress: &'p mut dyn FnMut(u64, u64),
    /// The compressing threads, when more than one was asked for.
    pool: Option<Pool>,
}

impl Exporter<'_, '_> {
    /// Puts `record` in the file, then does `after`: at once, or through the
    /// compressing threads, in the order records are put.
    fn put(&mut self, record: Record, after: After) -> Result<(), WarcError> {
        if let Some(pool) = self.pool.as_mut().filter(|_| !record.streams()) {
            let seq = pool.next + pool.waiting.len() as u64;
            pool.waiting.push_back(after);
            if pool.jobs.send((seq, record)).is_err() {
                // Every compressing thread is gone: their answers say why.
                self.drain()?;
                return Err(io_err(&self.path)(io::Error::other(
                    "the compressing threads stopped",
                )));
            }
            while self
                .pool
                .as_ref()
                .is_some_and(|p| p.waiting.len() >= p.limit)
            {
                self.write_arrived()?;
            }
            return Ok(());
        }
        self.drain()?;
        let offset = self.out.written;
        write_member(&mut self.out, &record, self.blobs, &self.path)?;
        self.wrote(offset, after)
    }

    /// Waits for the next member to come back, then writes every member
    /// that can go in order. Once one fails, the rest are given up: the
    /// compressing threads are hung up on, and a later drain is a no-op.
    fn write_arrived(&mut self) -> Result<(), WarcError> {
        let written = self.write_in_order();
        if written.is_err() {
            self.pool = None;
        }
        written
    }

    fn write_in_order(&mut self) -> Result<(), WarcError> {
        let Some(pool) = self.pool.as_mut() else {
            return Ok(());
        };
        let Ok((seq, compressed)) = pool.done.recv() else {
            return Err(io_err(&self.path)(io::Error::other(
                "the compressing threads stopped",
            )));
        };
        pool.arrived.insert(seq, compressed);
        loop {
            let Some(pool) = self.pool.as_mut() else {
                return Ok(());
            };
            let Some(compressed) = pool.arrived.remove(&pool.next) else {
                return Ok(());
            };
            pool.next += 1;
            let after = pool.waiting.pop_front().unwrap_or(After::NOTHING);
            match compressed {
                Compressed::Member(member) => {
                    let offset = self.out.written;
                    self.out.write_all(&member).map_err(io_err(&self.path))?;
                    self.wrote(offset, after)?;
                }
                Compressed::Failed(e) => return Err(e),
                Compressed::Panicked(panic) => std::panic::resume_unwind(panic),
            }
        }
    }

    /// Writes every record handed out.
    fn drain(&mut self) -> Result<(), WarcError> {
        while self.pool.as_ref().is_some_and(|p| !p.waiting.is_empty()) {
            self.write_arrived()?;
        }
        Ok(())
    }

    /// The record that began at `offset` is in the file.
    fn wrote(&mut self, offset: u64, after: After) -> Result<(), WarcError> {
        self.records += 1;
        if let (Some(lines), Some((row, revisit))) = (&mut self.cdxj, &after.index) {
            let length = self.out.written - offset;
            let line = cdxj_line(
                row,
                target_of(row),
                *revisit,
                offset,
                length,
                &self.filename,
            );
            lines.push(line).map_err(io_err(&lines.path))?;
        }
        if after.ends_capture {
            self.captures += 1;
            (self.progress)(self.captures, self.total);
        }
        Ok(())
    }

    fn warcinfo(&mut self, filter: &CaptureFilter) -> Result<(), WarcError> {
        let now = now_millis();
        self.warcinfo_id = record_id(&[
            "warcinfo",
            &self.filename,
            &now.to_string(),
            &std::process::id().to_string(),
        ]);
        let mut selection = Vec::new();
        if let Some(id) = filter.source_id {
            selection.push(format!("source {id}"));
        }
        if let Some(since) = filter.since {
            selection.push(format!("captured since {}", format_millis(since)));
        }
        let selection = if selection.is_empty() {
            "all captures".to_string()
        } else {
            selection.join(", ")
        };
        let body = format!(
            "software: citewatch/{version}\r\n\
             format: WARC File Format 1.1\r\n\
             conformsTo: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n\
             description: Sources cited in briefings, as archived by citewatch ({selection}). \
             Bodies are stored decoded: original Content-Encoding, Transfer-Encoding and \
             Content-Length headers are renamed X-Citewatch-Original-*. Request records are \
             reconstructed.\r\n",
            version = env!("CARGO_PKG_VERSION"),
        );
        let record = Record::new(
            &[
                ("WARC-Type", "warcinfo"),
                ("WARC-Record-ID", &self.warcinfo_id),
                ("WARC-Date", &format_millis(now)),
                ("WARC-Filename", &self.filename),
                ("Content-Type", "application/warc-fields"),
            ],
            body.into_bytes(),
            None,
        );
        self.put(record, After::NOTHING)
    }

    /// The response already written with this capture's payload, if any.
    fn earlier(&self, store: &Store, row: &CaptureRow) -> Result<Option<Written>, WarcError> {
        let Some(id) = payload_key(&row.body_sha256).and_then(|k| self.written.get(&k)) else {
            return Ok(None);
        };
        Ok(store
            .capture(*id)?
            .filter(|e| e.body_sha256 == row.body_sha256)
            .map(|e| Written::of(&e)))
    }

    fn capture(&mut self, store: &Store, row: &CaptureRow) -> Result<(), WarcError> {
        let target = target_of(row);
        let date = format_millis(row.captured_at);
        let (request_id, response_id, metadata_id) = (
            capture_record_id("request", row),
            capture_record_id("response", row),
            capture_record_id("metadata", row),
        );
        let warcinfo_id = self.warcinfo_id.clone();

        let request = Record::new(
            &[
                ("WARC-Type", "request"),
                ("WARC-Record-ID", &request_id),
                ("WARC-Date", &date),
                ("WARC-Target-URI", target),
                ("WARC-Concurrent-To", &response_id),
                ("WARC-Warcinfo-ID", &warcinfo_id),
                ("Content-Type", "application/http; msgtype=request"),
            ],
            request_head(target),
            None,
        );
        self.put(request, After::NOTHING)?;

        let head = response_head(row);
        let payload_digest = format!("sha256:{}", row.body_sha256);
        // Truncated and empty bodies stand alone: a revisit of a cut body would
        // hide the cut, and one of nothing saves nothing.
        let dedup = !row.truncated && row.body_size > 0;
        let earlier = if dedup {
            self.earlier(store, row)?
        } else {
            None
        };
        let response = match &earlier {
            Some(earlier) => {
                self.revisits += 1;
                Record::new(
                    &[
                        ("WARC-Type", "revisit"),
                        ("WARC-Record-ID", &response_id),
                        ("WARC-Date", &date),
                        ("WARC-Target-URI", target),
                        ("WARC-Warcinfo-ID", &warcinfo_id),
                        ("WARC-Profile", IDENTICAL_PAYLOAD_PROFILE),
                        ("WARC-Refers-To", &earlier.record_id),
                        ("WARC-Refers-To-Target-URI", &earlier.target_uri),
                        ("WARC-Refers-To-Date", &earlier.date),
                        ("WARC-Payload-Digest", &payload_digest),
                        ("Content-Type", "application/http; msgtype=response"),
                    ],
                    head,
                    None,
                )
            }
            None => {
                let mut fields = vec![
                    ("WARC-Type", "response"),
                    ("WARC-Record-ID", response_id.as_str()),
                    ("WARC-Date", date.as_str()),
                    ("WARC-Target-URI", target),
                    ("WARC-Warcinfo-ID", warcinfo_id.as_str()),
                    ("WARC-Payload-Digest", payload_digest.as_str()),
                    ("Content-Type", "application/http; msgtype=response"),
                ];
                if row.truncated {
                    fields.push(("WARC-Truncated", "length"));
                }
                if dedup && let Some(key) = payload_key(&row.body_sha256) {
                    self.written.entry(key).or_insert(row.id);
                }
                Record::new(&fields, head, Some(row))
            }
        };
        let index = self
            .cdxj
            .is_some()
            .then(|| (row.clone(), earlier.is_some()));
        self.put(
            response,
            After {
                index,
                ends_capture: false,
            },
        )?;

        let metadata = Record::new(
            &[
                ("WARC-Type", "metadata"),
                ("WARC-Record-ID", &metadata_id),
                ("WARC-Date", &date),
                ("WARC-Target-URI", target),
                ("WARC-Concurrent-To", &response_id),
                ("WARC-Warcinfo-ID", &warcinfo_id),
                ("Content-Type", "application/warc-fields"),
            ],
            metadata_block(row).into_bytes(),
            None,
        );
        self.put(
            metadata,
            After {
                index: None,
                ends_capture: true,
            },
        )
    }
}

/// CDXJ bytes sorted in memory before a run is spilled to disk: about 64 MiB,
/// some 200 000 lines. Each run holds a file open until the merge, so even a
/// 30 GiB index stays under 500 open files.
const CDXJ_RUN_BYTES: usize = 64 << 20;

/// Sorts lines bytewise (as `LC_ALL=C sort` does) in bounded memory: lines
/// gather up to a byte limit, are then sorted and spilled to a temporary file as
/// one run, and [`LineSorter::finish`] merges the runs.
struct LineSorter {
    /// The file the lines are for: runs go beside it, errors name it.
    path: PathBuf,
    limit: usize,
    lines: Vec<String>,
    bytes: usize,
    runs: Vec<File>,
}

impl LineSorter {
    fn new(path: PathBuf, limit: usize) -> LineSorter {
        LineSorter {
            path,
            limit,
            lines: Vec::new(),
            bytes: 0,
            runs: Vec::new(),
        }
    }

    fn push(&mut self, line: String) -> io::Result<()> {
        self.bytes += line.len();
        self.lines.push(line);
        if self.bytes >= self.limit {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> io::Result<()> {
        self.lines.sort_unstable();
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let mut run = BufWriter::new(tempfile::tempfile_in(dir)?);
        for line in self.lines.drain(..) {
            run.write_all(line.as_bytes())?;
            run.write_all(b"\n")?;
        }
        let mut file = run.into_inner().map_err(|e| e.into_error())?;
        io::Seek::rewind(&mut file)?;
        self.runs.push(file);
        self.bytes = 0;
        Ok(())
    }

    /// Writes every line pushed, sorted, one per line.
    fn finish(mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.runs.is_empty() {
            self.lines.sort_unstable();
            for line in &self.lines {
                out.write_all(line.as_bytes())?;
                out.write_all(b"\n")?;
            }
            return Ok(());
        }
        if !self.lines.is_empty() {
            self.spill()?;
        }
        let mut readers: Vec<_> = self
            .runs
            .into_iter()
            .map(|f| io::BufRead::lines(io::BufReader::new(f)))
            .collect();
        let mut heads = std::collections::BinaryHeap::new();
        for (i, r) in readers.iter_mut().enumerate() {
            if let Some(line) = r.next() {
                heads.push(std::cmp::Reverse((line?, i)));
            }
        }
        while let Some(std::cmp::Reverse((line, i))) = heads.pop() {
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
            if let Some(next) = readers[i].next() {
                heads.push(std::cmp::Reverse((next?, i)));
            }
        }
        Ok(())
    }
}

/// A WARC-Record-ID, `<urn:uuid:…>`, from a sha256 of `parts`: deterministic,
/// so exporting the same capture twice gives the same id, without a uuid
/// dependency. Marked as an RFC 9562 version 8 (custom) UUID.
fn record_id(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(b"citewatch-warc-record\0");
    for p in parts {
        h.update(p.as_bytes());
        h.update(b"\0");
    }
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "<urn:uuid:{}-{}-{}-{}-{}>",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

/// A header value on one line: CR and LF (never sent by a server, but the store
/// is not a server) become spaces so they cannot forge fields.
fn one_line(value: &str) -> std::borrow::Cow<'_, str> {
    if value.contains(['\r', '\n']) {
        value.replace(['\r', '\n'], " ").into()
    } else {
        value.into()
    }
}

/// Whether `name` is an HTTP token, i.e. safe to write as a header name.
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The request line and Host of a plain GET of `target`: what we know of the
/// request (citewatch does not keep the headers it sent).
fn request_head(target: &str) -> Vec<u8> {
    let (path, host) = match url::Url::parse(target) {
        Ok(u) => {
            let path = &u[url::Position::BeforePath..url::Position::AfterQuery];
            let path = if path.is_empty() { "/" } else { path };
            let host = match (u.host_str(), u.port()) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (Some(h), None) => h.to_string(),
                (None, _) => String::new(),
            };
            (path.to_string(), host)
        }
        Err(_) => ("/".to_string(), String::new()),
    };
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes()
}

/// Headers describing the transfer rather than the payload; the archived body is
/// decoded, so they are renamed, not repeated.
const TRANSFER_HEADERS: &[&str] = &["content-encoding", "transfer-encoding", "content-length"];

/// The HTTP status line and headers written before the payload.
fn response_head(row: &CaptureRow) -> Vec<u8> {
    let reason = reqwest::StatusCode::from_u16(row.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown");
    let mut s = format!("HTTP/1.1 {} {reason}\r\n", row.status);
    for (name, value) in &row.headers {
        if !is_token(name) {
            continue;
        }
        let lower = name.to_ascii_lowercase();
        if TRANSFER_HEADERS.contains(&lower.as_str()) {
            s.push_str("x-citewatch-original-");
            s.push_str(&lower);
        } else {
            s.push_str(name);
        }
        s.push_str(": ");
        s.push_str(one_line(value).trim());
        s.push_str("\r\n");
    }
    s.push_str(&format!("content-length: {}\r\n\r\n", row.body_size));
    s.into_bytes()
}

/// What citewatch knows of a capture beyond the HTTP exchange, as WARC fields.
fn metadata_block(row: &CaptureRow) -> String {
    let fields: [(&str, String); 8] = [
        ("citewatch-capture-id", row.id.to_string()),
        ("citewatch-source-url", row.source_url.clone()),
        ("citewatch-provenance", row.provenance.clone()),
        ("citewatch-request-url", row.request_url.clone()),
        ("citewatch-redirects", row.hops_json.clone()),
        ("citewatch-not-modified", row.not_modified.to_string()),
        ("citewatch-truncated", row.truncated.to_string()),
        (
            "citewatch-request-record",
            "reconstructed: method, target and Host only".to_string(),
        ),
    ];
    let mut s = String::new();
    for (name, value) in fields {
        s.push_str(name);
        s.push_str(": ");
        s.push_str(&one_line(&value));
        s.push_str("\r\n");
    }
    s
}

/// The 14-digit `YYYYMMDDhhmmss` of web archives, in UTC.
fn timestamp14(ms: Millis) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(ts) => ts.strftime("%Y%m%d%H%M%S").to_string(),
        Err(_) => "00000000000000".to_string(),
    }
}

#[derive(Serialize)]
struct CdxjFields<'a> {
    url: &'a str,
    /// Left out when the server sent no Content-Type, as pywb's indexer does.
    #[serde(skip_serializing_if = "Option::is_none")]
    mime: Option<String>,
    status: String,
    digest: String,
    length: String,
    offset: String,
    filename: &'a str,
}

/// One CDXJ line, as pywb's `cdxj-indexer` writes it for the same record (the
/// tests compare the two): revisits get the mime `warc/revisit`.
fn cdxj_line(
    row: &CaptureRow,
    target: &str,
    revisit: bool,
    offset: u64,
    length: u64,
    filename: &str,
) -> String {
    let mime = if revisit {
        Some("warc/revisit".to_string())
    } else {
        row.content_type
            .as_deref()
            .and_then(|ct| ct.split(';').next())
            .map(|m| m.trim().to_ascii_lowercase())
            .filter(|m| !m.is_empty())
    };
    let fields = CdxjFields {
        url: target,
        mime,
        status: row.status.to_string(),
        digest: format!("sha256:{}", row.body_sha256),
        length: length.to_string(),
        offset: offset.to_string(),
        filename,
    };
    let json = serde_json::to_string(&fields).unwrap_or_else(|_| "{}".into());
    format!("{} {} {json}", surt(target), timestamp14(row.captured_at))
}

static QUERY_SESSION_IDS: LazyLock<Vec<regex::Regex>> = LazyLock::new(|| {
    [
        r"(?i)^(.*)(?:jsessionid=[0-9a-zA-Z]{32})(?:&(.*))?$",
        r"(?i)^(.*)(?:phpsessid=[0-9a-zA-Z]{32})(?:&(.*))?$",
        r"(?i)^(.*)(?:sid=[0-9a-zA-Z]{32})(?:&(.*))?$",
        r"(?i)^(.*)(?:ASPSESSIONID[a-zA-Z]{8}=[a-zA-Z]{24})(?:&(.*))?$",
        r"(?i)^(.*)(?:cfid=[^&]+&cftoken=[^&]+)(?:&(.*))?$",
    ]
    .iter()
    .map(|p| regex::Regex::new(p).expect("valid pattern"))
    .collect()
});

static PATH_SESSION_IDS: LazyLock<Vec<regex::Regex>> = LazyLock::new(|| {
    [
        r"(?i)^(.*/)(\((?:[a-z]\([0-9a-z]{24}\))+\)/)([^\?]+\.aspx.*)$",
        r"(?i)^(.*/)(\([0-9a-z]{24}\)/)([^\?]+\.aspx.*)$",
    ]
    .iter()
    .map(|p| regex::Regex::new(p).expect("valid pattern"))
    .collect()
});

/// The SURT key of a URL as the Internet Archive's `surt` package makes it (its
/// default canonicaliser, without the scheme), so that pywb and other CDXJ
/// readers find our lines where they look: host labels reversed and joined by
/// commas, a leading `www`/`wwwN` dropped, default ports dropped, path and query
/// lower-cased, session ids stripped, a trailing slash dropped, query arguments
/// sorted. `http://www.Example.com/A/?b=2&a=1` → `com,example)/a?a=1&b=2`.
pub fn surt(url: &str) -> String {
    let Ok(u) = url::Url::parse(url) else {
        return url.to_ascii_lowercase();
    };
    let host = match u.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.to_ascii_lowercase();
            let d = strip_www(d.trim_matches('.'));
            d.split('.').rev().collect::<Vec<_>>().join(",")
        }
        Some(url::Host::Ipv4(ip)) => {
            let o = ip.octets();
            format!("{},{},{},{}", o[3], o[2], o[1], o[0])
        }
        Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
        None => String::new(),
    };
    let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
    let mut path = u.path().to_ascii_lowercase();
    for re in PATH_SESSION_IDS.iter() {
        if let Some(c) = re.captures(&path) {
            path = format!("{}{}", &c[1], &c[3]);
        }
    }
    if path.len() > 1 && path.ends_with('/') {
        path.pop();
    }
    let mut key = format!("{host}{port}){path}");
    if let Some(query) = u.query().filter(|q| !q.is_empty()) {
        let mut query = query.to_string();
        for re in QUERY_SESSION_IDS.iter() {
            if let Some(c) = re.captures(&query) {
                query = match c.get(2) {
                    Some(rest) if !rest.as_str().is_empty() => {
                        format!("{}{}", &c[1], rest.as_str())
                    }
                    _ => c[1].to_string(),
                };
            }
        }
        let query = query.to_ascii_lowercase();
        if !query.is_empty() {
            let mut args: Vec<(&str, Option<&str>)> = query
                .split('&')
                .map(|a| match a.split_once('=') {
                    Some((k, v)) => (k, Some(v)),
                    None => (a, None),
                })
                .collect();
            args.sort();
            let args: Vec<String> = args
                .into_iter()
                .map(|(k, v)| match v {
                    Some(v) => format!("{k}={v}"),
                    None => k.to_string(),
                })
                .collect();
            key.push('?');
            key.push_str(&args.join("&"));
        }
    }
    key
}

/// `www.`, `www2.` … dropped from the front of a host, as the IA canonicaliser does.
fn strip_www(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix("www") {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if let Some(rest) = rest[digits..].strip_prefix('.') {
            return rest;
        }
    }
    host
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_goes_beside_the_warc_whatever_the_case_of_its_ending() {
        assert_eq!(
            cdxj_path(Path::new("d/all.warc.gz")),
            Path::new("d/all.cdxj")
        );
        assert_eq!(
            cdxj_path(Path::new("d/ALL.WARC.GZ")),
            Path::new("d/ALL.cdxj")
        );
        assert_eq!(
            cdxj_path(Path::new("d/all.Warc.Gz")),
            Path::new("d/all.cdxj")
        );
        assert_eq!(cdxj_path(Path::new("d/all")), Path::new("d/all.cdxj"));
        assert!(has_warc_gz_ending("x.WARC.gz") && !has_warc_gz_ending("x.warc"));
    }

    #[test]
    fn surt_matches_the_internet_archive_canonicaliser() {
        for (url, key) in [
            (
                "http://archive.org/goo/?a=2&b&a=1",
                "org,archive)/goo?a=1&a=2&b",
            ),
            ("http://www.Example.com/A/B/", "com,example)/a/b"),
            ("https://www2.example.com:8443/x?", "com,example:8443)/x"),
            ("http://example.com:80/", "com,example)/"),
            ("http://127.0.0.1:8080/page/1", "1,0,0,127:8080)/page/1"),
            ("http://example.com/?a=1&a", "com,example)/?a&a=1"),
            (
                "http://www.nsf.gov/statistics/sed/2009/SED_2009.zip?CFID=14387305&CFTOKEN=72942008",
                "gov,nsf)/statistics/sed/2009/sed_2009.zip",
            ),
            (
                "http://example.com/x?a=1&jsessionid=0123456789abcdef0123456789abcdef&b=2",
                "com,example)/x?a=1&b=2",
            ),
            ("http://wwwhost.com/", "com,wwwhost)/"),
            ("http://example.com./", "com,example)/"),
        ] {
            assert_eq!(surt(url), key, "{url}");
        }
    }

    #[test]
    fn record_ids_are_uuid_urns_and_deterministic() {
        let a = record_id(&["response", "1"]);
        assert_eq!(a, record_id(&["response", "1"]));
        assert_ne!(a, record_id(&["request", "1"]));
        assert_ne!(record_id(&["a", "bc"]), record_id(&["ab", "c"]));
        let inner = a
            .strip_prefix("<urn:uuid:")
            .and_then(|s| s.strip_suffix('>'))
            .unwrap();
        let groups: Vec<usize> = inner.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
        assert_eq!(&inner[14..15], "8", "version 8");
        assert!("89ab".contains(&inner[19..20]), "RFC variant");
    }

    #[test]
    fn lines_sort_the_same_in_memory_and_through_spilled_runs() {
        let dir = tempfile::tempdir().unwrap();
        let mut x: u32 = 7;
        let lines: Vec<String> = (0..2000)
            .map(|i| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                format!("k{} {i} {{\"n\":{}}}", x % 97, x % 13)
            })
            .collect();
        let mut expected = lines.clone();
        expected.sort();
        let expected: String = expected.iter().map(|l| format!("{l}\n")).collect();
        // ~30 KB of lines: no run, ~60 runs, ~5 runs.
        for limit in [usize::MAX, 500, 7000] {
            let mut sorter = LineSorter::new(dir.path().join("x.cdxj"), limit);
            for l in &lines {
                sorter.push(l.clone()).unwrap();
            }
            let spilled = !sorter.runs.is_empty();
            assert_eq!(spilled, limit != usize::MAX);
            let mut out = Vec::new();
            sorter.finish(&mut out).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), expected, "limit {limit}");
        }
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "runs removed"
        );
    }

    #[test]
    fn cdxj_sits_beside_the_warc() {
        assert_eq!(
            cdxj_path(Path::new("/x/y/out.warc.gz")),
            Path::new("/x/y/out.cdxj")
        );
        assert_eq!(cdxj_path(Path::new("out.warc")), Path::new("out.warc.cdxj"));
    }

    #[test]
    fn transfer_headers_are_renamed_and_the_length_is_the_payload_s() {
        let row = CaptureRow {
            id: 1,
            source_id: 1,
            source_url: "http://a.test/".into(),
            captured_at: 0,
            provenance: "fetch".into(),
            request_url: "http://a.test/".into(),
            final_url: "http://a.test/".into(),
            hops_json: "[]".into(),
            status: 200,
            headers: vec![
                ("content-type".into(), "text/html".into()),
                ("content-encoding".into(), "gzip".into()),
                ("content-length".into(), "12".into()),
                ("transfer-encoding".into(), "chunked".into()),
                ("x-evil\r\nx-forged".into(), "1".into()),
                ("x-note".into(), "a\r\nx-forged: 1".into()),
            ],
            content_type: Some("text/html".into()),
            body_sha256: String::new(),
            body_size: 40,
            truncated: false,
            not_modified: false,
            reading: None,
            reading_from: None,
            response_from: None,
            disowned_at: None,
        };
        let head = String::from_utf8(response_head(&row)).unwrap();
        assert_eq!(
            head,
            "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\n\
             x-citewatch-original-content-encoding: gzip\r\n\
             x-citewatch-original-content-length: 12\r\n\
             x-citewatch-original-transfer-encoding: chunked\r\n\
             x-note: a  x-forged: 1\r\ncontent-length: 40\r\n\r\n"
        );
    }

    #[test]
    fn the_request_names_path_query_and_host_with_a_non_default_port() {
        assert_eq!(
            request_head("http://a.test:8080/p/q?x=1#frag"),
            b"GET /p/q?x=1 HTTP/1.1\r\nHost: a.test:8080\r\n\r\n"
        );
        assert_eq!(
            request_head("https://a.test"),
            b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n"
        );
    }
}
