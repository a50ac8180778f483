//! The source side of listed rows (verdict, evidence, archived copy), joined
//! to them by sorting rather than looked up.
//!
//! Listed rows come in document order, in which their sources are scattered:
//! looking each up in SQLite cost a page read from the OS per row for the
//! source and another for its capture, and keeping each source's record in a
//! file read back by offset still cost a system call per row. Instead the
//! counting pass sorts the listed rows by source; the listed sources are read
//! once in id order, and each meets its rows in that sorted stream, which
//! then go on, each carrying its source's record, to be sorted into report
//! order ([`Join`]).

use rusqlite::types::{FromSql, ValueRef};

use super::order::{KEY_BYTES, Key, Sorted, Sorter};
use super::values;

/// Columns of a source record, in order.
pub(super) const COLUMNS: &str = "s.status, s.url, s.status_since, s.suspect, s.http_status,
    s.final_url, s.error_kind, s.error_detail, s.evidence, s.similarity,
    CASE WHEN s.status = 'unreachable' AND s.mixed_failures > s.consecutive_failures
         THEN s.mixed_failures ELSE coalesce(s.consecutive_failures, 0) END,
    CASE WHEN s.status = 'unreachable' AND s.mixed_failures > s.consecutive_failures
         THEN s.mixed_since ELSE s.failing_since END,
    k.id, k.captured_at, k.body_sha256";

/// How many columns [`COLUMNS`] names.
pub(super) const COUNT: usize = 15;

/// What a listed row carries after its citation's values: whether its source
/// has a record (`1`, then [`COUNT`] values) or not (`0`: a citation without
/// a source, or whose source has no row).
const WITH_RECORD: i64 = 1;
const WITHOUT_RECORD: i64 = 0;

/// Why a listed row could not be joined with its source.
#[derive(Debug, thiserror::Error)]
pub(super) enum RecordError {
    /// A temporary file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A column's value could not be read.
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
}

/// Source `id`'s record, as listed rows carry it: [`COUNT`] columns of
/// `row` from `first`, into `out`.
pub(super) fn put_record(
    out: &mut Vec<u8>,
    row: &rusqlite::Row,
    first: usize,
) -> Result<(), RecordError> {
    out.clear();
    values::put(out, ValueRef::Integer(WITH_RECORD))?;
    for i in first..first + COUNT {
        values::put(out, row.get_ref(i)?)?;
    }
    Ok(())
}

/// Meets listed rows sorted by source ([`Key::by_source`], each payload the
/// row's report place then its citation's values) with the listed sources
/// read in id order, handing each row to the report-order sorter with its
/// source's record.
pub(super) struct Join {
    by_source: Sorted,
    out: Sorter,
    joined: Vec<u8>,
}

impl Join {
    /// A join of `by_source` into `out`.
    pub fn new(by_source: Sorted, out: Sorter) -> Join {
        Join {
            by_source,
            out,
            joined: Vec::with_capacity(1024),
        }
    }

    /// Source `id`'s `record` (see [`put_record`]). Sources come in
    /// increasing id order.
    pub fn source(&mut self, id: i64, record: &[u8]) -> Result<(), RecordError> {
        // Rows of sources before this one found no source row.
        self.pass_before(Some(id))?;
        while self.by_source.peek()?.is_some_and(|k| k.source() == id) {
            let Some((_, payload)) = self.by_source.next()? else {
                break;
            };
            let (place, citation) = split(payload)?;
            self.joined.clear();
            self.joined.extend_from_slice(citation);
            self.joined.extend_from_slice(record);
            self.out.push(place, &self.joined)?;
        }
        Ok(())
    }

    /// Every source was given: the rows left found no source row. Gives
    /// back the report-order sorter.
    pub fn finish(mut self) -> Result<Sorter, RecordError> {
        self.pass_before(None)?;
        Ok(self.out)
    }

    /// Hands on without a record the rows of sources before `id` (all when
    /// `None`).
    fn pass_before(&mut self, id: Option<i64>) -> Result<(), RecordError> {
        while let Some(k) = self.by_source.peek()?
            && id.is_none_or(|id| k.source() < id)
        {
            let Some((_, payload)) = self.by_source.next()? else {
                break;
            };
            let (place, citation) = split(payload)?;
            without_record(&mut self.joined, citation)?;
            self.out.push(place, &self.joined)?;
        }
        Ok(())
    }
}

/// A row sorted by source: its report place, and its citation's values.
fn split(payload: &[u8]) -> std::io::Result<(Key, &[u8])> {
    let (place, citation) = payload.split_at_checked(KEY_BYTES).ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, "a damaged report row")
    })?;
    let mut key = [0; KEY_BYTES];
    key.copy_from_slice(place);
    Ok((Key::from_bytes(&key), citation))
}

/// A listed row's payload without a source record: `citation` (its values),
/// then the mark that no record follows.
pub(super) fn without_record(out: &mut Vec<u8>, citation: &[u8]) -> std::io::Result<()> {
    out.clear();
    out.extend_from_slice(citation);
    values::put(out, ValueRef::Integer(WITHOUT_RECORD))
}

/// The source record that follows a listed row's citation values, if any:
/// [`COUNT`] values, all null without one.
pub(super) fn record(rest: &[u8]) -> Result<(bool, [ValueRef<'_>; COUNT]), rusqlite::Error> {
    let damaged =
        |e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, Box::new(e));
    let ([mark], rest) = values::read::<1>(rest).map_err(damaged)?;
    if mark.as_i64().map_err(damaged)? != WITH_RECORD {
        return Ok((false, [ValueRef::Null; COUNT]));
    }
    let (columns, _) = values::read::<COUNT>(rest).map_err(damaged)?;
    Ok((true, columns))
}

/// Converts a kept value as `Row::get` would.
pub(super) fn get<T: FromSql>(columns: &[ValueRef], i: usize) -> rusqlite::Result<T> {
    values::get(columns, i, "source")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows of sources 1, 2, 3 and 5 (two of source 3) meet source rows 1, 3
    /// and 4: rows of 1 and 3 carry their record, those of 2 and 5 none.
    #[test]
    fn rows_meet_their_sources_records_or_go_on_without() {
        let rows = [(3, 10), (1, 11), (5, 12), (3, 13), (2, 14)];
        let mut by_source = Sorter::new(0);
        for (source, id) in rows {
            let place = Key::place(0, 0, 0, id);
            let mut payload = place.to_bytes().to_vec();
            values::put(&mut payload, ValueRef::Integer(source)).unwrap();
            by_source
                .push(Key::by_source(source, id), &payload)
                .unwrap();
        }
        let mut join = Join::new(by_source.finish().unwrap(), Sorter::new(1 << 20));
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let mut stmt = conn
            .prepare("SELECT ?1, 'dead', 'http://s' || ?1, 7, NULL, 404, 'u', 'k', 'd', 'e', 0.5, 2, 9, 1, 2, 'sha'")
            .unwrap();
        let mut kept = Vec::new();
        for source in [1i64, 3, 4] {
            let mut found = stmt.query([source]).unwrap();
            put_record(&mut kept, found.next().unwrap().unwrap(), 1).unwrap();
            join.source(source, &kept).unwrap();
        }
        let mut sorted = join.finish().unwrap().finish().unwrap();
        let mut got = Vec::new();
        while let Some((key, payload)) = sorted.next().unwrap() {
            let ([source], rest) = values::read::<1>(payload).unwrap();
            let (has, columns) = record(rest).unwrap();
            let url: Option<String> = get(&columns, 1).unwrap();
            got.push((key.id, source.as_i64().unwrap(), has, url));
        }
        let with = |s: i64| Some(format!("http://s{s}"));
        assert_eq!(
            got,
            [
                (10, 3, true, with(3)),
                (11, 1, true, with(1)),
                (12, 5, false, None),
                (13, 3, true, with(3)),
                (14, 2, false, None),
            ]
        );
    }
}
