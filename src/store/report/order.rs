//! Sorting listed citations in bounded memory, each key carrying a payload:
//! what the row shows of the citation and its briefing item, and later of its
//! source.
//!
//! A run of keys with their payloads is sorted in memory; past a set number of
//! bytes it is written to an anonymous temporary file and a new run starts.
//! Every [`FANOUT`] runs of one size are merged into one run of the next, so
//! the final merge reads a bounded number of runs, each through a 64 KiB
//! buffer, however many citations are listed.
//!
//! Carrying the payload costs writing and reading the listed rows once more
//! per sort (sequentially, mostly in the page cache); looking each row up
//! again by id cost a B-tree seek per row in three tables, each section
//! re-reading the citations' pages from the OS, and a source's record a
//! system call per row.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::collections::binary_heap::PeekMut;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, Write};

/// Bytes of keys and payloads held in memory before a run is written out.
pub(super) const RUN: usize = 4 << 20;

/// Runs of one size merged into one of the next size: also the most runs of
/// each size the final merge reads at once.
const FANOUT: usize = 64;

/// Buffer of each run read from or written to a file.
const BUFFER: usize = 1 << 16;

/// A sort key: three words compared in order. Field order is sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Key {
    high: u64,
    middle: i64,
    /// The citation's id.
    pub id: i64,
}

/// A key's size written out.
pub(super) const KEY_BYTES: usize = 24;

impl Key {
    /// Where a listed citation goes in the report: by section rank, then the
    /// position of its briefing item (document by root and path, then
    /// item), then the citation's ordinal and id.
    pub fn place(rank: u8, briefing: u32, ordinal: i64, id: i64) -> Key {
        Key {
            high: (u64::from(rank) << 32) | u64::from(briefing),
            middle: ordinal,
            id,
        }
    }

    /// A listed citation by its source, to meet the sources read in id order.
    pub fn by_source(source: i64, id: i64) -> Key {
        Key {
            high: 0,
            middle: source,
            id,
        }
    }

    /// The source of a [`Key::by_source`] key.
    pub fn source(&self) -> i64 {
        self.middle
    }

    /// The key in [`KEY_BYTES`] bytes.
    pub fn to_bytes(self) -> [u8; KEY_BYTES] {
        let mut b = [0; KEY_BYTES];
        b[..8].copy_from_slice(&self.high.to_le_bytes());
        b[8..16].copy_from_slice(&self.middle.to_le_bytes());
        b[16..].copy_from_slice(&self.id.to_le_bytes());
        b
    }

    /// A key as [`Key::to_bytes`] wrote it.
    pub fn from_bytes(b: &[u8; KEY_BYTES]) -> Key {
        let word = |i: usize| {
            let mut w = [0; 8];
            w.copy_from_slice(&b[i..i + 8]);
            w
        };
        Key {
            high: u64::from_le_bytes(word(0)),
            middle: i64::from_le_bytes(word(8)),
            id: i64::from_le_bytes(word(16)),
        }
    }
}

/// A key in memory and where its payload lies in the run's bytes.
#[derive(Debug, Clone, Copy)]
struct Entry {
    key: Key,
    start: usize,
    len: usize,
}

/// What an entry costs in memory besides its payload.
const ENTRY_BYTES: usize = std::mem::size_of::<Entry>();

/// Collects keys with payloads in any order; [`Sorter::finish`] gives them
/// back sorted.
pub(super) struct Sorter {
    entries: Vec<Entry>,
    bytes: Vec<u8>,
    limit: usize,
    /// Runs written out, by size: `spilled[k]` holds runs of about
    /// `FANOUT^k` in-memory runs each, fewer than [`FANOUT`] of them.
    spilled: Vec<Vec<File>>,
}

impl Sorter {
    /// A sorter holding about `limit` bytes of keys and payloads in memory
    /// (always at least one).
    pub fn new(limit: usize) -> Sorter {
        Sorter {
            entries: Vec::new(),
            bytes: Vec::new(),
            limit,
            spilled: Vec::new(),
        }
    }

    /// Adds a key and its payload, writing out a sorted run first when it
    /// would not fit in memory.
    pub fn push(&mut self, key: Key, payload: &[u8]) -> std::io::Result<()> {
        let held = self.bytes.len() + self.entries.len() * ENTRY_BYTES;
        if !self.entries.is_empty() && held + payload.len() + ENTRY_BYTES > self.limit {
            self.spill()?;
        }
        self.entries.push(Entry {
            key,
            start: self.bytes.len(),
            len: payload.len(),
        });
        self.bytes.extend_from_slice(payload);
        Ok(())
    }

    fn spill(&mut self) -> std::io::Result<()> {
        self.entries.sort_unstable_by_key(|e| e.key);
        let mut out = RunWriter::new()?;
        for e in self.entries.drain(..) {
            out.write(e.key, &self.bytes[e.start..e.start + e.len])?;
        }
        self.bytes.clear();
        self.add_run(out.finish()?, 0)
    }

    /// Files a written run of size `level`, merging a full set of that size
    /// into one of the next.
    fn add_run(&mut self, file: File, level: usize) -> std::io::Result<()> {
        if self.spilled.len() <= level {
            self.spilled.resize_with(level + 1, Vec::new);
        }
        self.spilled[level].push(file);
        if self.spilled[level].len() < FANOUT {
            return Ok(());
        }
        let runs = std::mem::take(&mut self.spilled[level])
            .into_iter()
            .map(Run::file)
            .collect();
        let mut merge = Sorted::new(runs)?;
        let mut out = RunWriter::new()?;
        while let Some((key, payload)) = merge.next()? {
            out.write(key, payload)?;
        }
        drop(merge);
        self.add_run(out.finish()?, level + 1)
    }

    /// Every key pushed, in order, with its payload.
    pub fn finish(mut self) -> std::io::Result<Sorted> {
        self.entries.sort_unstable_by_key(|e| e.key);
        let mut runs: Vec<Run> = self.spilled.into_iter().flatten().map(Run::file).collect();
        runs.push(Run::Memory {
            entries: std::mem::take(&mut self.entries).into_iter(),
            bytes: std::mem::take(&mut self.bytes),
            current: (0, 0),
        });
        Sorted::new(runs)
    }
}

/// Writes one sorted run: per key, its payload's length (four bytes), the
/// key, the payload.
struct RunWriter(BufWriter<File>);

impl RunWriter {
    fn new() -> std::io::Result<RunWriter> {
        Ok(RunWriter(BufWriter::with_capacity(
            BUFFER,
            tempfile::tempfile()?,
        )))
    }

    fn write(&mut self, key: Key, payload: &[u8]) -> std::io::Result<()> {
        let len = u32::try_from(payload.len()).map_err(|_| super::values::too_long())?;
        self.0.write_all(&len.to_le_bytes())?;
        self.0.write_all(&key.to_bytes())?;
        self.0.write_all(payload)
    }

    fn finish(self) -> std::io::Result<File> {
        let mut file = self.0.into_inner().map_err(|e| e.into_error())?;
        file.rewind()?;
        Ok(file)
    }
}

/// One sorted run: the last in memory, the others in temporary files. Each
/// holds its current key's payload.
enum Run {
    Memory {
        entries: std::vec::IntoIter<Entry>,
        bytes: Vec<u8>,
        /// The current payload's start and length in `bytes`.
        current: (usize, usize),
    },
    File {
        reader: BufReader<File>,
        payload: Vec<u8>,
    },
}

impl Run {
    fn file(file: File) -> Run {
        Run::File {
            reader: BufReader::with_capacity(BUFFER, file),
            payload: Vec::new(),
        }
    }

    /// Moves to the next key, which becomes current.
    fn advance(&mut self) -> std::io::Result<Option<Key>> {
        match self {
            Run::Memory {
                entries, current, ..
            } => Ok(entries.next().map(|e| {
                *current = (e.start, e.len);
                e.key
            })),
            Run::File { reader, payload } => {
                let mut len = [0; 4];
                match reader.read_exact(&mut len) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
                    Err(e) => return Err(e),
                }
                let mut key = [0; KEY_BYTES];
                reader.read_exact(&mut key)?;
                payload.resize(u32::from_le_bytes(len) as usize, 0);
                reader.read_exact(payload)?;
                Ok(Some(Key::from_bytes(&key)))
            }
        }
    }

    /// The current key's payload.
    fn payload(&self) -> &[u8] {
        match self {
            Run::Memory {
                bytes,
                current: (start, len),
                ..
            } => &bytes[*start..*start + *len],
            Run::File { payload, .. } => payload,
        }
    }
}

/// The keys in order, with their payloads: the runs merged.
pub(super) struct Sorted {
    runs: Vec<Run>,
    /// The current key of each run that has one, smallest on top.
    heap: BinaryHeap<Reverse<(Key, usize)>>,
    /// The key last given is the heap's top: its run moves on first.
    given: bool,
}

impl Sorted {
    fn new(mut runs: Vec<Run>) -> std::io::Result<Sorted> {
        let mut heap = BinaryHeap::with_capacity(runs.len());
        for (i, run) in runs.iter_mut().enumerate() {
            if let Some(p) = run.advance()? {
                heap.push(Reverse((p, i)));
            }
        }
        Ok(Sorted {
            runs,
            heap,
            given: false,
        })
    }

    /// Moves the run of the key last given on.
    fn settle(&mut self) -> std::io::Result<()> {
        if std::mem::take(&mut self.given)
            && let Some(mut top) = self.heap.peek_mut()
        {
            let i = top.0.1;
            match self.runs[i].advance()? {
                Some(next) => *top = Reverse((next, i)),
                None => drop(PeekMut::pop(top)),
            }
        }
        Ok(())
    }

    /// The next key, left to [`Sorted::next`] to give.
    pub fn peek(&mut self) -> std::io::Result<Option<Key>> {
        self.settle()?;
        Ok(self.heap.peek().map(|top| top.0.0))
    }

    /// The next key and its payload, or `None` when all were given.
    pub fn next(&mut self) -> std::io::Result<Option<(Key, &[u8])>> {
        self.settle()?;
        let Some(&Reverse((key, i))) = self.heap.peek() else {
            return Ok(None);
        };
        self.given = true;
        Ok(Some((key, self.runs[i].payload())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(mut s: Sorted) -> Vec<(Key, Vec<u8>)> {
        let mut out = Vec::new();
        while let Some((p, payload)) = s.next().unwrap() {
            out.push((p, payload.to_vec()));
        }
        out
    }

    #[test]
    fn runs_spilled_to_files_merge_into_one_order() {
        let places: Vec<(Key, Vec<u8>)> = (0..4500i64)
            .map(|i| {
                let x = (i * 7_919) % 4500;
                let place = Key::place((x % 5) as u8, (x / 7) as u32, x % 3 - 1, i);
                (place, i.to_string().repeat((i % 4) as usize).into_bytes())
            })
            .collect();
        let mut expected = places.clone();
        expected.sort();
        // From one key per run (runs merged two sizes up) to all in memory.
        for limit in [0, 1, 100, 2_000, 64_000, 1 << 20] {
            let mut sorter = Sorter::new(limit);
            for (p, payload) in &places {
                sorter.push(*p, payload).unwrap();
            }
            assert_eq!(drain(sorter.finish().unwrap()), expected, "limit {limit}");
        }
        assert!(drain(Sorter::new(4).finish().unwrap()).is_empty());
        // Peeking gives the next key without taking it.
        let mut sorter = Sorter::new(100);
        for (p, payload) in &places {
            sorter.push(*p, payload).unwrap();
        }
        let mut sorted = sorter.finish().unwrap();
        for (p, payload) in &expected {
            assert_eq!(sorted.peek().unwrap(), Some(*p));
            assert_eq!(sorted.peek().unwrap(), Some(*p));
            assert_eq!(sorted.next().unwrap(), Some((*p, payload.as_slice())));
        }
        assert_eq!(sorted.peek().unwrap(), None);
    }

    #[test]
    fn rank_orders_before_briefing_and_bytes_round_trip() {
        assert!(Key::place(0, u32::MAX, 9, 9) < Key::place(1, 0, 0, 0));
        let p = Key::place(3, 77, -5, i64::MAX);
        assert_eq!(Key::from_bytes(&p.to_bytes()), p);
    }
}
