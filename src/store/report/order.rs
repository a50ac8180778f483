//! The report's listing order, sorted on compact integer keys in bounded memory.
//!
//! Sorting the listed rows themselves (titles, URLs, evidence: hundreds of bytes
//! each) in SQLite's sorter spilled them to temporary files twice and was the
//! largest cost of a report on a large store. Here only a [`Place`] (24 bytes)
//! per listed citation is sorted: up to [`RUN`] of them in memory, each further
//! run sorted and written to an anonymous temporary file, and the runs merged
//! when read back. The rows are then read by id in this order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, Write};

/// Places sorted in memory before a run is written out: 3 MiB.
pub(super) const RUN: usize = 1 << 17;

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

/// Collects places in any order; [`Sorter::finish`] gives them back sorted.
pub(super) struct Sorter {
    run: Vec<Place>,
    limit: usize,
    spilled: Vec<File>,
}

impl Sorter {
    /// A sorter holding at most `limit` places in memory (at least one).
    pub fn new(limit: usize) -> Sorter {
        Sorter {
            run: Vec::new(),
            limit: limit.max(1),
            spilled: Vec::new(),
        }
    }

    /// Adds a place, writing out a sorted run when memory holds `limit`.
    pub fn push(&mut self, place: Place) -> std::io::Result<()> {
        if self.run.len() == self.limit {
            self.spill()?;
        }
        self.run.push(place);
        Ok(())
    }

    fn spill(&mut self) -> std::io::Result<()> {
        self.run.sort_unstable();
        let mut out = BufWriter::with_capacity(1 << 16, tempfile::tempfile()?);
        for p in self.run.drain(..) {
            out.write_all(&p.to_bytes())?;
        }
        let mut file = out.into_inner().map_err(|e| e.into_error())?;
        file.rewind()?;
        self.spilled.push(file);
        Ok(())
    }

    /// Every place pushed, in order.
    pub fn finish(mut self) -> std::io::Result<Sorted> {
        self.run.sort_unstable();
        let mut runs: Vec<Run> = self
            .spilled
            .into_iter()
            .map(|f| Run::File(BufReader::with_capacity(1 << 16, f)))
            .collect();
        runs.push(Run::Memory(std::mem::take(&mut self.run).into_iter()));
        let mut heap = BinaryHeap::with_capacity(runs.len());
        for (i, run) in runs.iter_mut().enumerate() {
            if let Some(p) = run.next()? {
                heap.push(Reverse((p, i)));
            }
        }
        Ok(Sorted { runs, heap })
    }
}

/// One sorted run: the last in memory, the others in temporary files.
enum Run {
    Memory(std::vec::IntoIter<Place>),
    File(BufReader<File>),
}

impl Run {
    fn next(&mut self) -> std::io::Result<Option<Place>> {
        match self {
            Run::Memory(it) => Ok(it.next()),
            Run::File(r) => {
                let mut b = [0; PLACE_BYTES];
                match r.read_exact(&mut b) {
                    Ok(()) => Ok(Some(Place::from_bytes(&b))),
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
                    Err(e) => Err(e),
                }
            }
        }
    }
}

/// The places in order: the runs merged.
pub(super) struct Sorted {
    runs: Vec<Run>,
    /// The next place of each run that has one, smallest on top.
    heap: BinaryHeap<Reverse<(Place, usize)>>,
}

impl Sorted {
    /// The next place, or `None` when all were given.
    pub fn next_place(&mut self) -> std::io::Result<Option<Place>> {
        let Some(Reverse((place, i))) = self.heap.pop() else {
            return Ok(None);
        };
        if let Some(next) = self.runs[i].next()? {
            self.heap.push(Reverse((next, i)));
        }
        Ok(Some(place))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(mut s: Sorted) -> Vec<Place> {
        let mut out = Vec::new();
        while let Some(p) = s.next_place().unwrap() {
            out.push(p);
        }
        out
    }

    #[test]
    fn runs_spilled_to_files_merge_into_one_order() {
        let places: Vec<Place> = (0..1000i64)
            .map(|i| {
                let x = (i * 7_919) % 1000;
                Place::new((x % 5) as u8, (x / 7) as u32, x % 3 - 1, i)
            })
            .collect();
        let mut expected = places.clone();
        expected.sort();
        for limit in [1, 7, 64, 999, 1000, 5000] {
            let mut sorter = Sorter::new(limit);
            for p in &places {
                sorter.push(*p).unwrap();
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
