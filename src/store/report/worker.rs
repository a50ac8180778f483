//! A report's sorts and its join with the sources, on a thread of their own.
//!
//! The connection's thread steps SQLite (the citations, then the listed
//! sources) and encodes what each listed row and source carries; pushing
//! rows into the sorters, writing and merging runs, and meeting rows with
//! their sources cost about half as much again, and run meanwhile on another
//! core. What passes between them is batches of encoded operations through a
//! bounded channel (memory stays flat); spent batches come back for reuse.
//! Without a thread the same work runs inline.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use super::order::{KEY_BYTES, Key, RUN, Sorted, Sorter};
use super::sources::{Join, RecordError};

/// Bytes of operations sent at a time.
const BATCH: usize = 1 << 18;

/// Batches in flight each way.
const BATCHES: usize = 2;

/// A listed row with a source, by source ([`Key::by_source`]).
const BY_SOURCE: u8 = 0;
/// A listed row without a source, in report order.
const LISTED: u8 = 1;
/// A listed source's record, in id order, after every row.
const SOURCE: u8 = 2;

/// Where the rows of a report are sorted and joined.
pub(super) enum Sorting {
    /// On a thread of their own.
    Thread {
        batch: Vec<u8>,
        tx: SyncSender<Vec<u8>>,
        spent: Receiver<Vec<u8>>,
        worker: JoinHandle<Result<Sorted, RecordError>>,
    },
    /// Here, when no thread could be started.
    Inline(Sorts),
}

impl Sorting {
    /// Starts the sorts, on a thread of their own if one can be started.
    pub fn start() -> Sorting {
        let (tx, rx) = sync_channel::<Vec<u8>>(BATCHES);
        let (spent_tx, spent) = sync_channel(BATCHES);
        let started = std::thread::Builder::new()
            .name("report-sort".into())
            .spawn(move || work(rx, spent_tx));
        match started {
            Ok(worker) => Sorting::Thread {
                batch: Vec::with_capacity(BATCH + 4096),
                tx,
                spent,
                worker,
            },
            Err(_) => Sorting::Inline(Sorts::new()),
        }
    }

    /// A listed row with source `source`: `payload` is its report place
    /// ([`Key::to_bytes`]) then its citation's values.
    pub fn by_source(&mut self, source: i64, id: i64, payload: &[u8]) -> Result<(), RecordError> {
        self.put(BY_SOURCE, Key::by_source(source, id), payload)
    }

    /// A listed row without a source, complete.
    pub fn listed(&mut self, place: Key, payload: &[u8]) -> Result<(), RecordError> {
        self.put(LISTED, place, payload)
    }

    /// A listed source's record (see `sources::put_record`); sources come in
    /// id order, after every row.
    pub fn source(&mut self, id: i64, record: &[u8]) -> Result<(), RecordError> {
        self.put(SOURCE, Key::by_source(id, 0), record)
    }

    fn put(&mut self, op: u8, key: Key, payload: &[u8]) -> Result<(), RecordError> {
        match self {
            Sorting::Inline(sorts) => sorts.apply(op, key, payload),
            Sorting::Thread { batch, .. } => {
                let len = u32::try_from(payload.len()).map_err(|_| super::values::too_long())?;
                batch.push(op);
                batch.extend_from_slice(&key.to_bytes());
                batch.extend_from_slice(&len.to_le_bytes());
                batch.extend_from_slice(payload);
                if batch.len() >= BATCH {
                    self.send()?;
                }
                Ok(())
            }
        }
    }

    /// Sends the batch; a worker that stopped says why when joined.
    fn send(&mut self) -> Result<(), RecordError> {
        let Sorting::Thread {
            batch, tx, spent, ..
        } = self
        else {
            return Ok(());
        };
        let next = match spent.try_recv() {
            Ok(mut next) => {
                next.clear();
                next
            }
            Err(_) => Vec::with_capacity(BATCH + 4096),
        };
        if tx.send(std::mem::replace(batch, next)).is_ok() {
            return Ok(());
        }
        // The worker stopped: its error is the one to tell.
        let Sorting::Thread { worker, .. } = std::mem::replace(self, Sorting::Inline(Sorts::new()))
        else {
            unreachable!("matched above");
        };
        Err(joined(worker).err().unwrap_or_else(|| {
            std::io::Error::other("a report's sorting thread stopped early").into()
        }))
    }

    /// Every row and source was given: the listed rows in report order.
    pub fn finish(mut self) -> Result<Sorted, RecordError> {
        self.send()?;
        match self {
            Sorting::Inline(sorts) => sorts.finish(),
            Sorting::Thread { tx, worker, .. } => {
                drop(tx);
                joined(worker)
            }
        }
    }
}

/// The worker's outcome; a panic there is passed on here.
fn joined(worker: JoinHandle<Result<Sorted, RecordError>>) -> Result<Sorted, RecordError> {
    match worker.join() {
        Ok(outcome) => outcome,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// The worker: applies each batch's operations, then finishes.
fn work(rx: Receiver<Vec<u8>>, spent: SyncSender<Vec<u8>>) -> Result<Sorted, RecordError> {
    let mut sorts = Sorts::new();
    for batch in rx {
        let mut rest = batch.as_slice();
        while let Some((&op, after)) = rest.split_first() {
            let bad = || std::io::Error::other("a damaged report batch");
            let (key, after) = after.split_at_checked(KEY_BYTES).ok_or_else(bad)?;
            let (len, after) = after.split_at_checked(4).ok_or_else(bad)?;
            let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
            let (payload, after) = after.split_at_checked(len).ok_or_else(bad)?;
            let mut k = [0; KEY_BYTES];
            k.copy_from_slice(key);
            sorts.apply(op, Key::from_bytes(&k), payload)?;
            rest = after;
        }
        let _ = spent.try_send(batch);
    }
    sorts.finish()
}

/// The sorts' state: rows going in, then rows meeting their sources.
pub(super) enum Sorts {
    /// Rows are being listed.
    Rows { by_source: Sorter, listing: Sorter },
    /// Sources are meeting their rows.
    Sources(Join),
    /// Between the two (or after a failure).
    Moving,
}

impl Sorts {
    fn new() -> Sorts {
        Sorts::Rows {
            by_source: Sorter::new(RUN),
            listing: Sorter::new(RUN),
        }
    }

    fn apply(&mut self, op: u8, key: Key, payload: &[u8]) -> Result<(), RecordError> {
        if op == SOURCE && matches!(self, Sorts::Rows { .. }) {
            self.join()?;
        }
        match (op, self) {
            (BY_SOURCE, Sorts::Rows { by_source, .. }) => by_source.push(key, payload)?,
            (LISTED, Sorts::Rows { listing, .. }) => listing.push(key, payload)?,
            (SOURCE, Sorts::Sources(join)) => join.source(key.source(), payload)?,
            _ => return Err(std::io::Error::other("report rows and sources out of turn").into()),
        }
        Ok(())
    }

    /// Every row was given: sorted by source, they meet the sources next.
    fn join(&mut self) -> Result<(), RecordError> {
        if !matches!(self, Sorts::Rows { .. }) {
            return Ok(());
        }
        let Sorts::Rows { by_source, listing } = std::mem::replace(self, Sorts::Moving) else {
            unreachable!("matched above");
        };
        *self = Sorts::Sources(Join::new(by_source.finish()?, listing));
        Ok(())
    }

    fn finish(mut self) -> Result<Sorted, RecordError> {
        self.join()?;
        match self {
            Sorts::Sources(join) => Ok(join.finish()?.finish()?),
            _ => Err(std::io::Error::other("report sorts stopped early").into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{sources, values};
    use super::*;
    use rusqlite::types::ValueRef;

    /// The same rows and sources give the same listing on a thread or inline,
    /// across many batches.
    #[test]
    fn a_thread_or_inline_sorts_alike() {
        let run = |mut sorting: Sorting| {
            for id in 0..20_000i64 {
                let place = Key::place((id % 3) as u8, (id * 7_919 % 1000) as u32, 0, id);
                let mut payload = Vec::new();
                values::put(&mut payload, ValueRef::Integer(id)).unwrap();
                if id % 5 == 0 {
                    let mut joined = Vec::new();
                    sources::without_record(&mut joined, &payload).unwrap();
                    sorting.listed(place, &joined).unwrap();
                } else {
                    let mut carried = place.to_bytes().to_vec();
                    carried.extend_from_slice(&payload);
                    sorting.by_source(id % 700, id, &carried).unwrap();
                }
            }
            let conn = rusqlite::Connection::open_in_memory().unwrap();
            let mut stmt = conn
                .prepare(
                    "SELECT ?1, 'dead', 'u', 1, 2, 3, 'f', 'k', 'd', 'e', 0.5, 2, 9, 1, 2, 'sha'",
                )
                .unwrap();
            let mut record = Vec::new();
            for source in (0..700i64).filter(|s| s % 7 != 0) {
                let mut found = stmt.query([source]).unwrap();
                sources::put_record(&mut record, found.next().unwrap().unwrap(), 1).unwrap();
                sorting.source(source, &record).unwrap();
            }
            let mut sorted = sorting.finish().unwrap();
            let mut out = Vec::new();
            while let Some((key, payload)) = sorted.next().unwrap() {
                out.push((key, payload.to_vec()));
            }
            out
        };
        let threaded = run(Sorting::start());
        assert!(matches!(Sorting::start(), Sorting::Thread { .. }));
        let inline = run(Sorting::Inline(Sorts::new()));
        assert_eq!(threaded.len(), 20_000);
        assert!(threaded.is_sorted_by_key(|r| r.0));
        assert_eq!(threaded, inline);
    }
}
