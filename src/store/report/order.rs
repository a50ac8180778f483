//! The report's order: listed citations sorted by place, each carrying what its
//! row shows of the citation and its briefing item, in bounded memory.
//!
//! A run of places with their payloads is sorted in memory; past [`RUN`] bytes
//! it is written to an anonymous temporary file and a new run starts. Every
//! [`FANOUT`] runs of one size are merged into one run of the next, so the
//! final merge reads a bounded number of runs, each through a 64 KiB buffer,
//! however many citations are listed.
//!
//! Carrying the payload costs writing and reading the listed rows once more
//! (sequentially, mostly in the page cache); looking each row up again by id
//! cost a B-tree seek per row in three tables, each section re-reading the
//! citations' pages from the OS, which was most of a large report's time.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::collections::binary_heap::PeekMut;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, Write};

/// Bytes of places and payloads held in memory before a run is written out.
pub(super) const RUN: usize = 4 << 20;

/// Runs of one size merged into one of the next size: also the most runs of
/// each size the final merge reads at once.
const FANOUT: usize = 32;

/// Buffer of each run read from or written to a file.
const BUFFER: usize = 1 << 16;

/// Where a listed citation goes in the report: by section rank, then the
/// position of its briefing item (document by root and path, then item), then
/// the citation's ordinal and id. Field order is sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Place {
    /// Section rank in the high 32 bits, briefing position in the low 32.
    pub rank_briefing: u64,
    /// The citation's ordinal in its briefing item.
    pub ordinal: i64,
    /// The citation's id.
    pub id: i64,
}

const PLACE_BYTES: usize = 24;

impl Place {
    /// A place from its parts.
    pub fn new(rank: u8, briefing: u32, ordinal: i64, id: i64) -> Place {
        Place {
            rank_briefing: (u64::from(rank) << 32) | u64::from(briefing),
            ordinal,
            id,
        }
    }

    fn to_bytes(self) -> [u8; PLACE_BYTES] {
        let mut b = [0; PLACE_BYTES];
        b[..8].copy_from_slice(&self.rank_briefing.to_le_bytes());
        b[8..16].copy_from_slice(&self.ordinal.to_le_bytes());
        b[16..].copy_from_slice(&self.id.to_le_bytes());
        b
    }

    fn from_bytes(b: &[u8; PLACE_BYTES]) -> Place {
        let word = |i: usize| {
            let mut w = [0; 8];
            w.copy_from_slice(&b[i..i + 8]);
            w
        };
        Place {
            rank_briefing: u64::from_le_bytes(word(0)),
            ordinal: i64::from_le_bytes(word(8)),
            id: i64::from_le_bytes(word(16)),
        }
    }
}

/// A place in memory and where its payload lies in the run's bytes.
#[derive(Debug, Clone, Copy)]
struct Entry {
    place: Place,
    start: usize,
    len: usize,
}

/// What an entry costs in memory besides its payload.
const ENTRY_BYTES: usize = std::mem::size_of::<Entry>();

/// Collects places with payloads in any order; [`Sorter::finish`] gives them
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
    /// A sorter holding about `limit` bytes of places and payloads in memory
    /// (always at least one).
    pub fn new(limit: usize) -> Sorter {
        Sorter {
            entries: Vec::new(),
            bytes: Vec::new(),
            limit,
            spilled: Vec::new(),
        }
    }

    /// Adds a place and its payload, writing out a sorted run first when it
    /// would not fit in memory.
    pub fn push(&mut self, place: Place, payload: &[u8]) -> std::io::Result<()> {
        let held = self.bytes.len() + self.entries.len() * ENTRY_BYTES;
        if !self.entries.is_empty() && held + payload.len() + ENTRY_BYTES > self.limit {
            self.spill()?;
        }
        self.entries.push(Entry {
            place,
            start: self.bytes.len(),
            len: payload.len(),
        });
        self.bytes.extend_from_slice(payload);
        Ok(())
    }

    fn spill(&mut self) -> std::io::Result<()> {
        self.entries.sort_unstable_by_key(|e| e.place);
        let mut out = RunWriter::new()?;
        for e in self.entries.drain(..) {
            out.write(e.place, &self.bytes[e.start..e.start + e.len])?;
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
        while let Some((place, payload)) = merge.next()? {
            out.write(place, payload)?;
        }
        drop(merge);
        self.add_run(out.finish()?, level + 1)
    }

    /// Every place pushed, in order, with its payload.
    pub fn finish(mut self) -> std::io::Result<Sorted> {
        self.entries.sort_unstable_by_key(|e| e.place);
        let mut runs: Vec<Run> = self.spilled.into_iter().flatten().map(Run::file).collect();
        runs.push(Run::Memory {
            entries: std::mem::take(&mut self.entries).into_iter(),
            bytes: std::mem::take(&mut self.bytes),
            current: (0, 0),
        });
        Sorted::new(runs)
    }
}

/// Writes one sorted run: per place, its payload's length (four bytes), the
/// place, the payload.
struct RunWriter(BufWriter<File>);

impl RunWriter {
    fn new() -> std::io::Result<RunWriter> {
        Ok(RunWriter(BufWriter::with_capacity(
            BUFFER,
            tempfile::tempfile()?,
        )))
    }

    fn write(&mut self, place: Place, payload: &[u8]) -> std::io::Result<()> {
        let len = u32::try_from(payload.len()).map_err(|_| super::values::too_long())?;
        self.0.write_all(&len.to_le_bytes())?;
        self.0.write_all(&place.to_bytes())?;
        self.0.write_all(payload)
    }

    fn finish(self) -> std::io::Result<File> {
        let mut file = self.0.into_inner().map_err(|e| e.into_error())?;
        file.rewind()?;
        Ok(file)
    }
}

/// One sorted run: the last in memory, the others in temporary files. Each
/// holds its current place's payload.
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

    /// Moves to the next place, which becomes current.
    fn advance(&mut self) -> std::io::Result<Option<Place>> {
        match self {
            Run::Memory {
                entries, current, ..
            } => Ok(entries.next().map(|e| {
                *current = (e.start, e.len);
                e.place
            })),
            Run::File { reader, payload } => {
                let mut len = [0; 4];
                match reader.read_exact(&mut len) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
                    Err(e) => return Err(e),
                }
                let mut place = [0; PLACE_BYTES];
                reader.read_exact(&mut place)?;
                payload.resize(u32::from_le_bytes(len) as usize, 0);
                reader.read_exact(payload)?;
                Ok(Some(Place::from_bytes(&place)))
            }
        }
    }

    /// The current place's payload.
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

/// The places in order, with their payloads: the runs merged.
pub(super) struct Sorted {
    runs: Vec<Run>,
    /// The current place of each run that has one, smallest on top.
    heap: BinaryHeap<Reverse<(Place, usize)>>,
    /// The place last given is the heap's top: its run moves on first.
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

    /// The next place and its payload, or `None` when all were given.
    pub fn next(&mut self) -> std::io::Result<Option<(Place, &[u8])>> {
        if std::mem::take(&mut self.given)
            && let Some(mut top) = self.heap.peek_mut()
        {
            let i = top.0.1;
            match self.runs[i].advance()? {
                Some(next) => *top = Reverse((next, i)),
                None => drop(PeekMut::pop(top)),
            }
        }
        let Some(&Reverse((place, i))) = self.heap.peek() else {
            return Ok(None);
        };
        self.given = true;
        Ok(Some((place, self.runs[i].payload())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(mut s: Sorted) -> Vec<(Place, Vec<u8>)> {
        let mut out = Vec::new();
        while let Some((p, payload)) = s.next().unwrap() {
            out.push((p, payload.to_vec()));
        }
        out
    }

    #[test]
    fn runs_spilled_to_files_merge_into_one_order() {
        let places: Vec<(Place, Vec<u8>)> = (0..2000i64)
            .map(|i| {
                let x = (i * 7_919) % 2000;
                let place = Place::new((x % 5) as u8, (x / 7) as u32, x % 3 - 1, i);
                (place, i.to_string().repeat((i % 4) as usize).into_bytes())
            })
            .collect();
        let mut expected = places.clone();
        expected.sort();
        // From one place per run (runs merged two sizes up) to all in memory.
        for limit in [0, 1, 100, 2_000, 64_000, 1 << 20] {
            let mut sorter = Sorter::new(limit);
            for (p, payload) in &places {
                sorter.push(*p, payload).unwrap();
            }
            assert_eq!(drain(sorter.finish().unwrap()), expected, "limit {limit}");
        }
        assert!(drain(Sorter::new(4).finish().unwrap()).is_empty());
    }

    #[test]
    fn rank_orders_before_briefing_and_bytes_round_trip() {
        assert!(Place::new(0, u32::MAX, 9, 9) < Place::new(1, 0, 0, 0));
        let p = Place::new(3, 77, -5, i64::MAX);
        assert_eq!(Place::from_bytes(&p.to_bytes()), p);
    }
}
