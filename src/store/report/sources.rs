//! The source side of listed rows (verdict, evidence, archived copy), read once
//! per listed source in id order and kept in an anonymous temporary file.
//!
//! Listed rows come in document order, in which their sources are scattered:
//! looking each up in SQLite cost a page read from the OS per row for the
//! source and another for its capture, the largest cost of a report on a large
//! store once sorting was gone. Reading the listed sources in id order is
//! sequential instead; each one's columns go to a file as a compact record, and
//! each listed row reads its source's record back by offset (eight bytes held
//! per source).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;

use rusqlite::types::{FromSql, FromSqlError, ValueRef};

use super::values;

/// Columns of a source record, in order (see [`SourceRecords::write`]).
pub(super) const COLUMNS: &str = "s.status, s.url, s.status_since, s.suspect, s.http_status,
    s.final_url, s.error_kind, s.error_detail, s.evidence, s.similarity,
    coalesce(s.consecutive_failures, 0), s.failing_since, k.id, k.captured_at, k.body_sha256";

/// How many columns [`COLUMNS`] names.
pub(super) const COUNT: usize = 15;

/// No record for this source.
const NONE: u64 = u64::MAX;

/// A source's slot holds its record's offset above [`LEN_BITS`] bits and its
/// length below, so a record is read back in one exact read; a record too
/// long for the field (`LEN_MASK`) is read by its length prefix instead.
const LEN_BITS: u32 = 24;
const LEN_MASK: u64 = (1 << LEN_BITS) - 1;

/// Why a record could not be kept or read back.
#[derive(Debug, thiserror::Error)]
pub(super) enum RecordError {
    /// The temporary file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A column's value could not be read.
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
}

/// Writes records while listed sources are read in id order.
pub(super) struct RecordWriter {
    out: BufWriter<File>,
    len: u64,
    offsets: Vec<u64>,
    record: Vec<u8>,
}

impl RecordWriter {
    /// A writer for sources with ids below `slots`.
    pub fn new(slots: usize) -> std::io::Result<RecordWriter> {
        Ok(RecordWriter {
            out: BufWriter::with_capacity(1 << 16, tempfile::tempfile()?),
            len: 0,
            offsets: vec![NONE; slots],
            record: Vec::with_capacity(512),
        })
    }

    /// Keeps source `id`'s record: [`COUNT`] columns of `row` from `first`.
    pub fn write(
        &mut self,
        id: usize,
        row: &rusqlite::Row,
        first: usize,
    ) -> Result<(), RecordError> {
        let Some(slot) = self.offsets.get_mut(id) else {
            return Ok(());
        };
        let r = &mut self.record;
        r.clear();
        r.extend_from_slice(&[0; 4]);
        for i in first..first + COUNT {
            values::put(r, row.get_ref(i)?)?;
        }
        let len = u32::try_from(r.len()).map_err(|_| values::too_long())?;
        r[..4].copy_from_slice(&len.to_le_bytes());
        if self.len >> (64 - LEN_BITS) != 0 {
            return Err(std::io::Error::other("report source records over 1 TiB").into());
        }
        self.out.write_all(r)?;
        *slot = (self.len << LEN_BITS) | u64::from(len).min(LEN_MASK);
        self.len += u64::from(len);
        Ok(())
    }

    /// Done writing: the records, ready to be read.
    pub fn finish(self) -> std::io::Result<SourceRecords> {
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        Ok(SourceRecords {
            file,
            offsets: self.offsets,
            buf: vec![0; 1024],
        })
    }
}

/// The kept records, read back by source id.
pub(super) struct SourceRecords {
    file: File,
    offsets: Vec<u64>,
    buf: Vec<u8>,
}

impl SourceRecords {
    /// Source `id`'s columns, or `None` when it has no record.
    pub fn read(&mut self, id: i64) -> std::io::Result<Option<Record<'_>>> {
        let Some(&at) = usize::try_from(id).ok().and_then(|i| self.offsets.get(i)) else {
            return Ok(None);
        };
        if at == NONE {
            return Ok(None);
        }
        let (at, mut len) = (at >> LEN_BITS, (at & LEN_MASK) as usize);
        if len == LEN_MASK as usize {
            let mut prefix = [0; 4];
            self.file.read_exact_at(&mut prefix, at)?;
            len = u32::from_le_bytes(prefix) as usize;
        }
        if len > self.buf.len() {
            self.buf.resize(len, 0);
        }
        self.file.read_exact_at(&mut self.buf[..len], at)?;
        Ok(Some(Record {
            bytes: &self.buf[4..len],
        }))
    }
}

/// One source's columns as written.
pub(super) struct Record<'a> {
    bytes: &'a [u8],
}

impl<'a> Record<'a> {
    /// The values, in [`COLUMNS`] order, borrowed from the record.
    pub fn columns(&self) -> Result<[ValueRef<'a>; COUNT], FromSqlError> {
        values::read(self.bytes)
    }
}

/// Converts a kept value as `Row::get` would.
pub(super) fn get<T: FromSql>(columns: &[ValueRef], i: usize) -> rusqlite::Result<T> {
    values::get(columns, i, "source")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_back_as_written_short_or_long() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let mut w = RecordWriter::new(5).unwrap();
        let long = "é".repeat(LEN_MASK as usize / 2 + 10);
        for (id, text) in [(3usize, long.as_str()), (1, "dead"), (4, "")] {
            let mut stmt = conn
                .prepare(
                    "SELECT ?1, ?2, 1.5, NULL, x'00ff', -7, ?1, ?1, ?1, ?1, ?1, ?1, ?1, ?1, ?1",
                )
                .unwrap();
            let mut rows = stmt.query(rusqlite::params![text, id as i64]).unwrap();
            let row = rows.next().unwrap().unwrap();
            assert!(w.write(id, row, 0).is_ok());
        }
        let mut records = w.finish().unwrap();
        assert!(records.read(2).unwrap().is_none());
        assert!(records.read(99).unwrap().is_none());
        for (id, text) in [(1i64, "dead"), (3, long.as_str()), (4, "")] {
            let record = records.read(id).unwrap().unwrap();
            let c = record.columns().unwrap();
            assert_eq!(get::<String>(&c, 0).unwrap(), text);
            assert_eq!(get::<i64>(&c, 1).unwrap(), id);
            assert_eq!(get::<f64>(&c, 2).unwrap(), 1.5);
            assert_eq!(get::<Option<i64>>(&c, 3).unwrap(), None);
            assert_eq!(get::<Vec<u8>>(&c, 4).unwrap(), vec![0, 255]);
            assert_eq!(get::<i64>(&c, 5).unwrap(), -7);
            assert!(get::<u16>(&c, 5).is_err(), "out of range, as Row::get says");
            assert_eq!(get::<String>(&c, 14).unwrap(), text);
        }
    }
}
