//! Content-addressed blob storage: one zstd-compressed file per distinct body,
//! named by the body's sha256 and sharded `ab/cd/<hex>`.
//!
//! Writes are atomic (temporary file, fsync, rename, fsync of the folder) and come
//! before the store row that names them, so a crash can leave an unreferenced
//! blob but never a row without its blob. Behind [`BlobStore`] so that an object
//! store can take the file system's place.

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// zstd level: level 3 stores article HTML in about a quarter of its size for a
/// fraction of level 9's CPU and memory (measured: 0.3 ms and ~0.4 MiB per page
/// against 2.1 ms and ~10 MiB), which matters with a hundred pages in flight.
const LEVEL: i32 = 3;

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
    /// Written blobs could not be made durable.
    #[error("{}: cannot sync the blob store to disk: {source}", dir.display())]
    Sync {
        /// The blob folder.
        dir: PathBuf,
        /// Why.
        source: io::Error,
    },
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
    /// The decompressed bytes of a blob.
    fn open(&self, sha256: &str) -> Result<Box<dyn Read + Send>, BlobError>;
    /// Bytes the blob takes in storage.
    fn stored_size(&self, sha256: &str) -> Result<u64, BlobError>;
    /// Every blob name present.
    fn list(&self) -> Result<Vec<String>, BlobError>;
}

/// Blobs as files under a folder.
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    dir: PathBuf,
    /// Each write is made durable before `put` returns (file and folder
    /// fsync'd). Off for batch writers, which call [`FsBlobStore::sync`]
    /// once before committing the rows that name the new blobs.
    sync_each: bool,
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
    /// Blobs under `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> FsBlobStore {
        FsBlobStore {
            dir: dir.into(),
            sync_each: true,
        }
    }

    /// Blobs under `dir`, written without waiting for the disk: the caller
    /// must call [`FsBlobStore::sync`] before any database row names a blob
    /// written since the last sync. Two fsyncs per blob were the largest
    /// single cost of archiving a first night; one sync per batch is not.
    pub fn deferred_sync(dir: impl Into<PathBuf>) -> FsBlobStore {
        FsBlobStore {
            dir: dir.into(),
            sync_each: false,
        }
    }

    /// Makes every blob written so far durable (one `syncfs` of the file
    /// system holding the blobs; `sync` where there is none). A no-op until
    /// the blob folder exists.
    pub fn sync(&self) -> Result<(), BlobError> {
        let failed = |source| BlobError::Sync {
            dir: self.dir.clone(),
            source,
        };
        let dir = match File::open(&self.dir) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(failed(e)),
        };
        sync_file_system(&dir).map_err(failed)
    }

    /// The file a blob lives in.
    pub fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(&sha256[..2]).join(&sha256[2..4]).join(sha256)
    }

    /// Writes a blob atomically, checking its hash on the way.
    fn write(
        &self,
        sha256: &str,
        size: Option<u64>,
        content: &mut dyn Read,
    ) -> Result<u64, BlobError> {
        valid(sha256)?;
        let path = self.path(sha256);
        if path.exists() {
            return Ok(0);
        }
        let io = Self::io(sha256);
        let shard = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(shard).map_err(&io)?;
        let tmp = tempfile::NamedTempFile::new_in(shard).map_err(&io)?;
        let mut reader = HashingReader {
            inner: content,
            hasher: Sha256::new(),
        };
        let mut encoder = zstd::stream::write::Encoder::new(tmp.as_file(), LEVEL).map_err(&io)?;
        encoder.set_pledged_src_size(size).map_err(&io)?;
        encoder.include_contentsize(size.is_some()).map_err(&io)?;
        io::copy(&mut reader, &mut encoder).map_err(&io)?;
        encoder.finish().map_err(&io)?;
        let actual = hex::encode(reader.hasher.finalize());
        if actual != sha256 {
            return Err(BlobError::Mismatch {
                expected: sha256.to_string(),
                actual,
            });
        }
        if self.sync_each {
            tmp.as_file().sync_all().map_err(&io)?;
        }
        let stored = tmp.as_file().metadata().map_err(&io)?.len();
        tmp.persist(&path).map_err(|e| io(e.error))?;
        if self.sync_each {
            // The rename is durable only once the folder is synced.
            File::open(shard).and_then(|d| d.sync_all()).map_err(&io)?;
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

    fn open(&self, sha256: &str) -> Result<Box<dyn Read + Send>, BlobError> {
        valid(sha256)?;
        let file = match File::open(self.path(sha256)) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(BlobError::Missing(sha256.to_string()));
            }
            Err(e) => return Err(Self::io(sha256)(e)),
        };
        let decoder = zstd::stream::read::Decoder::with_buffer(BufReader::new(file))
            .map_err(Self::io(sha256))?;
        Ok(Box::new(decoder))
    }

    fn stored_size(&self, sha256: &str) -> Result<u64, BlobError> {
        valid(sha256)?;
        match std::fs::metadata(self.path(sha256)) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(BlobError::Missing(sha256.to_string()))
            }
            Err(e) => Err(Self::io(sha256)(e)),
        }
    }

    fn list(&self) -> Result<Vec<String>, BlobError> {
        let mut out = Vec::new();
        if !self.dir.exists() {
            return Ok(out);
        }
        for entry in walkdir::WalkDir::new(&self.dir).min_depth(3).max_depth(3) {
            let entry = entry.map_err(|e| BlobError::Io {
                sha256: String::from("(listing)"),
                source: e
                    .into_io_error()
                    .unwrap_or_else(|| io::Error::other("walk failed")),
            })?;
            let name = entry.file_name().to_string_lossy();
            if entry.file_type().is_file() && valid(&name).is_ok() {
                out.push(name.into_owned());
            }
        }
        out.sort();
        Ok(out)
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

/// Writes a blob's bytes to `out`.
pub fn copy_to(blobs: &dyn BlobStore, sha256: &str, out: &mut dyn Write) -> Result<u64, BlobError> {
    let mut r = blobs.open(sha256)?;
    io::copy(&mut r, out).map_err(FsBlobStore::io(sha256))
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
                .ends_with(format!("{}/{}/{}", &name[..2], &name[2..4], name))
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
}
