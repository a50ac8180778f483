//! Response bodies, read with bounds: a size cap counted on decoded bytes, a
//! deadline, and a spill to a temporary file past 1 MiB so that many fetches in
//! flight do not hold many large bodies in memory. A spilled body's sha256 is
//! computed while reading, so its bytes are touched once; a body in memory is
//! hashed when first asked, which in a check is on a CPU worker rather than on
//! the network thread that every fetch waits for.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::{Mutex, OnceLock};

use sha2::{Digest, Sha256};

/// Bodies up to this size stay in memory.
pub const SPILL_AT: usize = 1024 * 1024;

enum Storage {
    Memory(Vec<u8>),
    File(Mutex<File>),
}

/// A response body as received (decoded from any Content-Encoding).
pub struct Body {
    storage: Storage,
    len: u64,
    /// Set at once for a spilled body, on first use for one in memory.
    sha256: OnceLock<[u8; 32]>,
    truncated: bool,
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Body")
            .field("len", &self.len)
            .field("sha256", &self.sha256_hex())
            .field("truncated", &self.truncated)
            .field("spilled", &self.is_spilled())
            .finish()
    }
}

impl Body {
    /// Length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True for an empty body.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The sha256 of the bytes, lowercase hex.
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256())
    }

    /// The raw sha256.
    pub fn sha256(&self) -> [u8; 32] {
        *self.sha256.get_or_init(|| match &self.storage {
            Storage::Memory(v) => Sha256::digest(v).into(),
            // A spilled body's hash is set when it is finished.
            Storage::File(_) => unreachable!("a spilled body is hashed as it is read"),
        })
    }

    /// True when the size cap cut the body short.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// True when the body lives in a temporary file rather than memory.
    pub fn is_spilled(&self) -> bool {
        matches!(self.storage, Storage::File(_))
    }

    /// The whole body in memory (reads the temporary file when spilled).
    pub fn to_vec(&self) -> std::io::Result<Vec<u8>> {
        match &self.storage {
            Storage::Memory(v) => Ok(v.clone()),
            Storage::File(f) => {
                let mut f = f.lock().unwrap_or_else(|e| e.into_inner());
                f.seek(SeekFrom::Start(0))?;
                let mut out = Vec::with_capacity(self.len as usize);
                f.read_to_end(&mut out)?;
                Ok(out)
            }
        }
    }

    /// A reader over the bytes from the start (a second handle on the file when spilled).
    pub fn reader(&self) -> std::io::Result<Box<dyn Read + Send + '_>> {
        match &self.storage {
            Storage::Memory(v) => Ok(Box::new(&v[..])),
            Storage::File(f) => {
                let mut f = f.lock().unwrap_or_else(|e| e.into_inner()).try_clone()?;
                f.seek(SeekFrom::Start(0))?;
                Ok(Box::new(std::io::BufReader::new(f)))
            }
        }
    }

    /// The in-memory bytes, when not spilled.
    pub fn as_slice(&self) -> Option<&[u8]> {
        match &self.storage {
            Storage::Memory(v) => Some(v),
            Storage::File(_) => None,
        }
    }
}

/// Accumulates a body chunk by chunk.
pub struct BodyWriter {
    storage: Storage,
    len: u64,
    /// Started when the body spills to a file.
    hasher: Option<Sha256>,
}

impl BodyWriter {
    /// An empty body.
    pub fn new() -> BodyWriter {
        BodyWriter {
            storage: Storage::Memory(Vec::new()),
            len: 0,
            hasher: None,
        }
    }

    /// An empty body with room for `expected` bytes (a Content-Length, when
    /// the response gave one), so a page is not copied at each doubling of its
    /// buffer. Room is capped at [`SPILL_AT`]: a length is only a claim, and
    /// pages untouched by a short body cost address space, not memory.
    pub fn with_capacity(expected: Option<u64>) -> BodyWriter {
        let room = expected.map_or(0, |n| n.min(SPILL_AT as u64) as usize);
        BodyWriter {
            storage: Storage::Memory(Vec::with_capacity(room)),
            ..BodyWriter::new()
        }
    }

    /// Bytes so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True before the first byte.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends a chunk, spilling to a temporary file when it grows past [`SPILL_AT`].
    pub fn push(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.len += chunk.len() as u64;
        match &mut self.storage {
            Storage::Memory(v) if v.len() + chunk.len() > SPILL_AT => {
                let mut f = tempfile::tempfile()?;
                f.write_all(v)?;
                f.write_all(chunk)?;
                let mut hasher = Sha256::new();
                hasher.update(&v[..]);
                hasher.update(chunk);
                self.hasher = Some(hasher);
                self.storage = Storage::File(Mutex::new(f));
            }
            Storage::Memory(v) => v.extend_from_slice(chunk),
            Storage::File(f) => {
                if let Some(h) = self.hasher.as_mut() {
                    h.update(chunk);
                }
                f.get_mut()
                    .unwrap_or_else(|e| e.into_inner())
                    .write_all(chunk)?
            }
        }
        Ok(())
    }

    /// The finished body.
    pub fn finish(self, truncated: bool) -> Body {
        let sha256 = OnceLock::new();
        if let Some(h) = self.hasher {
            let _ = sha256.set(h.finalize().into());
        }
        Body {
            storage: self.storage,
            len: self.len,
            sha256,
            truncated,
        }
    }
}

impl Default for BodyWriter {
    fn default() -> Self {
        BodyWriter::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_bodies_stay_in_memory_large_ones_spill_and_hash_the_same() {
        let data: Vec<u8> = (0..3 * SPILL_AT).map(|i| (i % 251) as u8).collect();
        for size in [0, 10, SPILL_AT, SPILL_AT + 1, data.len()] {
            let mut w = BodyWriter::new();
            for chunk in data[..size].chunks(7919) {
                w.push(chunk).unwrap();
            }
            let b = w.finish(false);
            assert_eq!(b.len(), size as u64);
            assert_eq!(b.is_spilled(), size > SPILL_AT, "{size}");
            assert_eq!(b.to_vec().unwrap(), &data[..size]);
            assert_eq!(b.sha256_hex(), hex::encode(Sha256::digest(&data[..size])));
        }
    }

    #[test]
    fn a_claimed_length_sizes_the_buffer_up_to_the_spill_point_only() {
        let w = BodyWriter::with_capacity(Some(40_000));
        assert!(matches!(&w.storage, Storage::Memory(v) if v.capacity() >= 40_000));
        let w = BodyWriter::with_capacity(Some(u64::MAX));
        assert!(matches!(&w.storage, Storage::Memory(v) if v.capacity() == SPILL_AT));
        // A body longer than claimed still spills and hashes right.
        let mut w = BodyWriter::with_capacity(Some(10));
        let data = vec![7u8; SPILL_AT + 5];
        w.push(&data).unwrap();
        let b = w.finish(false);
        assert!(b.is_spilled());
        assert_eq!(b.sha256(), <[u8; 32]>::from(Sha256::digest(&data)));
    }
}
