//! Reading what `citewatch report` shows: aggregate counts first, then the listed
//! citations streamed from one cursor in (section, document, briefing) order.
//!
//! Memory stays flat however large the store: rows are handed to a callback one
//! at a time, and the ordering sort runs in SQLite's external sorter, which this
//! module points at temporary files with a small cache (see [`Store::report_rows`]).
//! The one thing held per source is its status, one byte ([`SourceStatuses`]).

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, StoreError};
use crate::time::Millis;

/// Which citations a report covers and lists.
#[derive(Debug, Clone)]
pub struct ReportScope<'a> {
    /// Statuses whose citations are listed (source statuses; `invalid` also lists
    /// citations whose URL cannot be fetched as written).
    pub statuses: &'a [&'a str],
    /// Sort rank of each listed status (sections come out in rank order).
    pub ranks: &'a [(&'a str, i64)],
    /// Only citations of this outlet (case-insensitive).
    pub outlet: Option<&'a str>,
    /// Only citations in this document (path relative to its root) or folder.
    pub document: Option<&'a str>,
    /// Status changes at or after this instant are "new"; `None`: every change.
    pub since: Option<Millis>,
    /// List only citations whose source newly entered its status group.
    pub new_only: bool,
}

/// Counts for one outlet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutletCount {
    /// The outlet as cited; `None` for citations without one.
    pub outlet: Option<String>,
    /// Citations in scope.
    pub citations: i64,
    /// Of which broken (dead, soft_404, unreachable).
    pub broken: i64,
}

/// The aggregate numbers of a report, computed before any row is listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportCounts {
    /// Citations in scope by status (`invalid` for URLs that cannot be fetched).
    pub citations_by_status: BTreeMap<String, i64>,
    /// Sources cited in scope by status.
    pub sources_by_status: BTreeMap<String, i64>,
    /// Citations the report lists, by status.
    pub listed_by_status: BTreeMap<String, i64>,
    /// Per outlet, in no particular order.
    pub outlets: Vec<OutletCount>,
    /// Sources (and their citations in scope) that became broken since `since`.
    pub newly_broken_sources: i64,
    /// See `newly_broken_sources`.
    pub newly_broken_citations: i64,
    /// Sources (and citations) that recovered (broken or failing → ok, changed,
    /// moved) since `since`.
    pub recovered_sources: i64,
    /// See `recovered_sources`.
    pub recovered_citations: i64,
}

/// One listed citation with its source's verdict and archived copy.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    /// The citation's status: its source's, or `invalid` when it has none.
    pub status: String,
    /// The `[briefings] paths` entry of the document.
    pub root: String,
    /// The document, relative to its root.
    pub document: String,
    /// The briefing item's position in its document (0-based).
    pub briefing_ordinal: i64,
    /// The briefing item's title.
    pub title: String,
    /// Citation id.
    pub citation_id: i64,
    /// Cited outlet.
    pub outlet: Option<String>,
    /// Cited date (ISO).
    pub cited_date: Option<String>,
    /// The URL as written.
    pub url: Option<String>,
    /// Why the URL cannot be fetched as written.
    pub invalid_reason: Option<String>,
    /// Source id.
    pub source_id: Option<i64>,
    /// Normalised source URL.
    pub source_url: Option<String>,
    /// Since when the status holds.
    pub status_since: Option<Millis>,
    /// Where a failing source is heading.
    pub suspect: Option<String>,
    /// HTTP status of the last check.
    pub http_status: Option<u16>,
    /// Final URL of the last check.
    pub final_url: Option<String>,
    /// Fetch outcome kind of the last failing check.
    pub error_kind: Option<String>,
    /// Its detail.
    pub error_detail: Option<String>,
    /// The verdict's evidence in words, as the check wrote it.
    pub evidence: Option<String>,
    /// Main-text similarity to the baseline.
    pub similarity: Option<f64>,
    /// Failing checks in the current streak.
    pub consecutive_failures: i64,
    /// First failing check of the streak.
    pub failing_since: Option<Millis>,
    /// The archived copy shown: the baseline, else the latest 2xx capture.
    pub capture_id: Option<i64>,
    /// When it was captured.
    pub captured_at: Option<Millis>,
    /// sha256 of its body.
    pub capture_sha256: Option<String>,
    /// The source newly entered its status group since the scope's `since`.
    pub is_new: bool,
}

/// The "broken" statuses (DESIGN.md).
const BROKEN_SQL: &str = "('dead', 'soft_404', 'unreachable')";

/// Status group: the broken statuses are one group, every other status its own.
fn group(col: &str) -> String {
    format!("(CASE WHEN {col} IN {BROKEN_SQL} THEN 'broken' ELSE {col} END)")
}

/// Sources whose status changed since ?1: `became` when the change brought it
/// into its current status group, `recovered` when it left broken/failing for a
/// good status it still has.
fn new_sources_cte() -> String {
    format!(
        "new_src AS MATERIALIZED (
           SELECT sc.source_id AS id,
                  max({new} = {cur} AND {old} <> {cur}) AS became,
                  max(sc.old_status IN ('dead', 'soft_404', 'unreachable', 'failing')
                      AND s.status IN ('ok', 'changed', 'moved')) AS recovered
           FROM status_changes sc JOIN sources s ON s.id = sc.source_id
           WHERE sc.at >= ?1
           GROUP BY sc.source_id)",
        new = group("sc.new_status"),
        old = group("sc.old_status"),
        cur = group("s.status"),
    )
}

/// Every source's status as one byte, indexed by source id: read once per
/// report, it lets the summary and the listing decide which citations count
/// or are listed without looking up a source row per citation (a random page
/// read each, which dominated the report's time on large stores).
#[derive(Debug, Clone, Default)]
pub struct SourceStatuses {
    /// Status names; a source's byte is an index into this.
    names: Vec<String>,
    /// By source id; `u8::MAX` where no source has that id.
    code: Vec<u8>,
}

/// A read transaction: the summary and the listing of one report see the same
/// state of the store even while a check run commits (the listing trusts the
/// statuses read for the summary). Dropping it ends the transaction.
pub struct ReadSnapshot<'a>(#[allow(dead_code)] rusqlite::Transaction<'a>);

impl Store {
    /// Points SQLite's sorter and temporary tables at files and keeps the page
    /// cache small, so a report's ordering sort spills to disk instead of growing
    /// with the store.
    fn stream_friendly(&self) -> Result<()> {
        self.conn
            .execute_batch("PRAGMA temp_store = FILE; PRAGMA cache_size = -16384;")
            .map_err(self.err())
    }

    /// Starts the read transaction a report runs in (see [`ReadSnapshot`]).
    pub fn report_snapshot(&self) -> Result<ReadSnapshot<'_>> {
        // temp_store cannot change inside a transaction: set it first.
        self.stream_friendly()?;
        self.conn
            .unchecked_transaction()
            .map(ReadSnapshot)
            .map_err(self.err())
    }

    /// Every source's status (see [`SourceStatuses`]): one sequential pass
    /// over the sources, one byte each in memory.
    pub fn source_statuses(&self) -> Result<SourceStatuses> {
        let err = self.err();
        let max_id: i64 = self
            .conn
            .query_row("SELECT coalesce(max(id), 0) FROM sources", [], |r| r.get(0))
            .map_err(&err)?;
        let mut out = SourceStatuses {
            names: Vec::new(),
            code: vec![u8::MAX; usize::try_from(max_id).unwrap_or(0) + 1],
        };
        let mut stmt = self
            .conn
            .prepare("SELECT id, status FROM sources")
            .map_err(&err)?;
        let mut rows = stmt.query([]).map_err(&err)?;
        while let Some(r) = rows.next().map_err(&err)? {
            let id: i64 = r.get(0).map_err(&err)?;
            let status = r.get_ref(1).map_err(&err)?.as_str().unwrap_or("unchecked");
            let code = match out.names.iter().position(|n| n == status) {
                Some(c) => c,
                None => {
                    out.names.push(status.to_string());
                    out.names.len() - 1
                }
            };
            if let Some(slot) = usize::try_from(id).ok().and_then(|i| out.code.get_mut(i)) {
                *slot = u8::try_from(code).unwrap_or(u8::MAX - 1);
            }
        }
        Ok(out)
    }

    /// The start of the latest completed check run, if any.
    pub fn last_completed_run_start(&self) -> Result<Option<Millis>> {
        self.conn
            .query_row(
                "SELECT started_at FROM runs WHERE state = 'completed' ORDER BY started_at DESC, id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())
    }

    /// Whether an active document has this path (or lies under this folder).
    pub fn has_document(&self, path: &str) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM documents d WHERE d.withdrawn_at IS NULL
                   AND (d.path = ?1 OR substr(d.path, 1, length(?1) + 1) = ?1 || '/'))",
                [path],
                |r| r.get(0),
            )
            .map_err(self.err())
    }

    /// Whether any citation names this outlet (case-insensitive).
    pub fn has_outlet(&self, outlet: &str) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM citations WHERE outlet = ?1 COLLATE NOCASE)",
                [outlet],
                |r| r.get(0),
            )
            .map_err(self.err())
    }

    /// The report's aggregate numbers.
    ///
    /// A join of every citation with its source and document costs a random
    /// page read per citation; instead this reads the sources' statuses once
    /// into one byte per source, then the citations sequentially, and counts in
    /// memory that grows with the number of outlets and sources (two bytes
    /// each), never with the number of citations.
    pub fn report_counts(
        &self,
        scope: &ReportScope,
        statuses: &SourceStatuses,
    ) -> Result<ReportCounts> {
        self.stream_friendly()?;
        let err = self.err();
        let since = scope.since.unwrap_or(Millis::MIN);
        let names = &statuses.names;
        let status_of = &statuses.code;
        let slots = status_of.len();
        // Sources whose status changed since `since` (a night's worth, not all).
        let mut moved: std::collections::HashMap<i64, (bool, bool)> = Default::default();
        {
            let sql = format!(
                "WITH {cte} SELECT id, became, recovered FROM new_src",
                cte = new_sources_cte()
            );
            let mut stmt = self.conn.prepare(&sql).map_err(&err)?;
            let mut rows = stmt.query([since]).map_err(&err)?;
            while let Some(r) = rows.next().map_err(&err)? {
                moved.insert(
                    r.get(0).map_err(&err)?,
                    (r.get(1).map_err(&err)?, r.get(2).map_err(&err)?),
                );
            }
        }
        // Briefing items out of scope (withdrawn documents), or, with a document
        // filter, the only ones in scope.
        let (briefings, inclusive): (std::collections::HashSet<i64>, bool) = {
            let (sql, inclusive) = match scope.document {
                None => (
                    "SELECT b.id FROM documents d CROSS JOIN briefings b ON b.document_id = d.id
                     WHERE d.withdrawn_at IS NOT NULL AND ?1 IS NULL",
                    false,
                ),
                Some(_) => (
                    "SELECT b.id FROM documents d CROSS JOIN briefings b ON b.document_id = d.id
                     WHERE d.withdrawn_at IS NULL
                       AND (d.path = ?1 OR substr(d.path, 1, length(?1) + 1) = ?1 || '/')",
                    true,
                ),
            };
            let mut stmt = self.conn.prepare(sql).map_err(&err)?;
            let set = stmt
                .query_map([scope.document], |r| r.get(0))
                .map_err(&err)?
                .collect::<std::result::Result<_, _>>()
                .map_err(&err)?;
            (set, inclusive)
        };
        let broken_code: Vec<bool> = names.iter().map(|n| is_broken(n)).collect();
        let mut by_code = vec![0i64; names.len()];
        let mut listed_by_code = vec![0i64; names.len()];
        let listed_code: Vec<bool> = names
            .iter()
            .map(|n| scope.statuses.contains(&n.as_str()))
            .collect();
        let mut invalid = 0i64;
        let mut seen = vec![false; slots];
        // Outlets by name without allocating per citation; `None` apart.
        let mut outlets: std::collections::HashMap<String, (i64, i64)> = Default::default();
        let mut no_outlet = (0i64, 0i64);
        let mut counts = ReportCounts::default();
        {
            let mut stmt = self
                .conn
                .prepare(
                    "SELECT briefing_id, source_id, outlet FROM citations
                     WHERE ?1 IS NULL OR outlet = ?1 COLLATE NOCASE",
                )
                .map_err(&err)?;
            let mut rows = stmt.query([scope.outlet]).map_err(&err)?;
            while let Some(r) = rows.next().map_err(&err)? {
                let briefing: i64 = r.get(0).map_err(&err)?;
                if briefings.contains(&briefing) != inclusive {
                    continue;
                }
                let source: Option<i64> = r.get(1).map_err(&err)?;
                let slot = source.and_then(|s| usize::try_from(s).ok());
                let code = slot
                    .and_then(|s| status_of.get(s))
                    .copied()
                    .filter(|c| usize::from(*c) < names.len());
                let broken = code.is_some_and(|c| broken_code[usize::from(c)]);
                match (slot, code) {
                    (Some(s), Some(c)) => {
                        let c = usize::from(c);
                        by_code[c] += 1;
                        seen[s] = true;
                        let (became, recovered) = source
                            .and_then(|id| moved.get(&id))
                            .copied()
                            .unwrap_or((false, false));
                        if listed_code[c] && (!scope.new_only || became) {
                            listed_by_code[c] += 1;
                        }
                        if broken && became {
                            counts.newly_broken_citations += 1;
                        }
                        if recovered {
                            counts.recovered_citations += 1;
                        }
                    }
                    _ => invalid += 1,
                }
                let outlet = r.get_ref(2).map_err(&err)?.as_str_or_null().map_err(|e| {
                    err(rusqlite::Error::FromSqlConversionFailure(
                        2,
                        rusqlite::types::Type::Text,
                        Box::new(e),
                    ))
                })?;
                let entry = match outlet {
                    None => &mut no_outlet,
                    Some(name) => {
                        if !outlets.contains_key(name) {
                            outlets.insert(name.to_string(), (0, 0));
                        }
                        outlets.get_mut(name).unwrap_or(&mut no_outlet)
                    }
                };
                entry.0 += 1;
                if broken {
                    entry.1 += 1;
                }
            }
        }
        for (c, name) in names.iter().enumerate() {
            if by_code[c] > 0 {
                counts.citations_by_status.insert(name.clone(), by_code[c]);
            }
            if listed_by_code[c] > 0 {
                counts
                    .listed_by_status
                    .insert(name.clone(), listed_by_code[c]);
            }
        }
        if invalid > 0 {
            *counts
                .citations_by_status
                .entry("invalid".into())
                .or_default() += invalid;
            if scope.statuses.contains(&"invalid") && !scope.new_only {
                *counts.listed_by_status.entry("invalid".into()).or_default() += invalid;
            }
        }
        let mut sources_by_code = vec![0i64; names.len()];
        for (slot, code) in status_of.iter().enumerate() {
            if seen[slot] && usize::from(*code) < names.len() {
                sources_by_code[usize::from(*code)] += 1;
            }
        }
        for (c, name) in names.iter().enumerate() {
            if sources_by_code[c] > 0 {
                counts
                    .sources_by_status
                    .insert(name.clone(), sources_by_code[c]);
            }
        }
        for (id, (became, recovered)) in &moved {
            let Some(slot) = usize::try_from(*id)
                .ok()
                .filter(|s| seen.get(*s) == Some(&true))
            else {
                continue;
            };
            let code = usize::from(status_of[slot]);
            if *became && code < names.len() && broken_code[code] {
                counts.newly_broken_sources += 1;
            }
            if *recovered {
                counts.recovered_sources += 1;
            }
        }
        let mut list: Vec<OutletCount> = outlets
            .into_iter()
            .map(|(outlet, c)| (Some(outlet), c))
            .chain((no_outlet.0 > 0).then_some((None, no_outlet)))
            .map(|(outlet, (citations, broken))| OutletCount {
                outlet,
                citations,
                broken,
            })
            .collect();
        list.sort_by(|a, b| a.outlet.cmp(&b.outlet));
        counts.outlets = list;
        Ok(counts)
    }

    /// Streams the listed citations to `each`, ordered by status rank, document,
    /// briefing item and citation. Stops at the first error `each` returns.
    ///
    /// One statement, shaped by where the time goes on a large store (a million
    /// citations): reading citations in their own (rowid) order is sequential,
    /// while reaching them through their sources costs a random page read per
    /// citation, and so does looking up each listed citation's source and
    /// capture in document order. So the citations are scanned in rowid order
    /// and picked by `report_rank()`, a function answering from `statuses` in
    /// memory; their briefings and documents are joined as they come (also
    /// roughly rowid order). A no-op `GROUP BY` (one citation per group; `+ 0`
    /// keeps SQLite from noticing and skipping it) sorts the picked rows by
    /// source, so sources and captures are then read in order. Only the final
    /// `ORDER BY` decides the output order, on integer keys: the document's
    /// position comes from a numbering of the (few) documents by root and path.
    pub fn report_rows<E: From<StoreError>>(
        &self,
        scope: &ReportScope,
        statuses: &SourceStatuses,
        mut each: impl FnMut(ReportRow) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        self.stream_friendly()?;
        let since = scope.since.unwrap_or(Millis::MIN);
        let rank_of = |name: &str| -> Option<u8> {
            if !scope.statuses.contains(&name) {
                return None;
            }
            let rank = scope
                .ranks
                .iter()
                .find(|(s, _)| *s == name)
                .map_or(99, |r| r.1);
            // Ranks are section numbers; u8::MAX stands for "not listed".
            Some(u8::try_from(rank.clamp(0, 254)).unwrap_or(254))
        };
        let by_code: Vec<Option<u8>> = statuses.names.iter().map(|n| rank_of(n)).collect();
        let rank: Vec<u8> = statuses
            .code
            .iter()
            .map(|c| {
                by_code
                    .get(usize::from(*c))
                    .copied()
                    .flatten()
                    .unwrap_or(u8::MAX)
            })
            .collect();
        // A citation without a source is `invalid` (its URL cannot be fetched).
        let invalid = rank_of("invalid");
        let _function = RankFunction::register(&self.conn, move |source| match source {
            Some(id) => usize::try_from(id)
                .ok()
                .and_then(|i| rank.get(i))
                .copied()
                .filter(|r| *r != u8::MAX),
            None => invalid,
        })
        .map_err(self.err())?;
        let sql = format!(
            "WITH {cte},
             docs AS MATERIALIZED (
               SELECT d.id, d.root, d.path, row_number() OVER (ORDER BY d.root, d.path) AS pos
               FROM documents d
               WHERE d.withdrawn_at IS NULL
                 AND (?3 IS NULL OR d.path = ?3 OR substr(d.path, 1, length(?3) + 1) = ?3 || '/')),
             listed AS (
               SELECT c.source_id AS sid, c.id AS cid, report_rank(c.source_id) AS rank, d.pos,
                      d.root, d.path, b.ordinal AS bo, c.ordinal AS co, b.title, c.outlet,
                      c.cited_date, c.url, c.invalid_reason
               FROM citations c NOT INDEXED
               CROSS JOIN briefings b ON b.id = c.briefing_id
               CROSS JOIN docs d ON d.id = b.document_id
               WHERE report_rank(c.source_id) IS NOT NULL
                 AND (?2 IS NULL OR c.outlet = ?2 COLLATE NOCASE)
               GROUP BY c.source_id, c.id + 0)
             SELECT coalesce(s.status, 'invalid'), l.root, l.path, l.bo, l.title, l.cid,
                    l.outlet, l.cited_date, l.url, l.invalid_reason, s.id, s.url, s.status_since,
                    s.suspect, s.http_status, s.final_url, s.error_kind, s.error_detail, s.evidence,
                    s.similarity, coalesce(s.consecutive_failures, 0), s.failing_since,
                    k.id, k.captured_at, k.body_sha256, coalesce(n.became, 0)
             FROM listed l
             LEFT JOIN sources s ON s.id = l.sid
             LEFT JOIN captures k ON k.id = coalesce(s.baseline_capture_id, s.latest_capture_id)
                                  AND k.status BETWEEN 200 AND 299
             LEFT JOIN new_src n ON n.id = l.sid
             WHERE NOT ?4 OR n.became
             ORDER BY l.rank, l.pos, l.bo, l.co, l.cid",
            cte = new_sources_cte()
        );
        let err = self.err();
        let mut stmt = self.conn.prepare(&sql).map_err(&err)?;
        let mut rows = stmt
            .query(params![since, scope.outlet, scope.document, scope.new_only])
            .map_err(&err)?;
        while let Some(r) = rows.next().map_err(&err)? {
            let row = (|| {
                Ok::<_, rusqlite::Error>(ReportRow {
                    status: r.get(0)?,
                    root: r.get(1)?,
                    document: r.get(2)?,
                    briefing_ordinal: r.get(3)?,
                    title: r.get(4)?,
                    citation_id: r.get(5)?,
                    outlet: r.get(6)?,
                    cited_date: r.get(7)?,
                    url: r.get(8)?,
                    invalid_reason: r.get(9)?,
                    source_id: r.get(10)?,
                    source_url: r.get(11)?,
                    status_since: r.get(12)?,
                    suspect: r.get(13)?,
                    http_status: r.get(14)?,
                    final_url: r.get(15)?,
                    error_kind: r.get(16)?,
                    error_detail: r.get(17)?,
                    evidence: r.get(18)?,
                    similarity: r.get(19)?,
                    consecutive_failures: r.get(20)?,
                    failing_since: r.get(21)?,
                    capture_id: r.get(22)?,
                    captured_at: r.get(23)?,
                    capture_sha256: r.get(24)?,
                    is_new: r.get(25)?,
                })
            })()
            .map_err(&err)?;
            each(row)?;
        }
        Ok(())
    }
}

/// `report_rank(source_id)` on a connection while it lives: the listed rank of
/// a citation's source, or NULL when it is not listed.
struct RankFunction<'c>(&'c rusqlite::Connection);

impl<'c> RankFunction<'c> {
    const NAME: &'static str = "report_rank";

    fn register(
        conn: &'c rusqlite::Connection,
        rank: impl Fn(Option<i64>) -> Option<u8> + Send + 'static,
    ) -> rusqlite::Result<RankFunction<'c>> {
        use rusqlite::functions::FunctionFlags;
        use rusqlite::types::ValueRef;
        conn.create_scalar_function(
            Self::NAME,
            1,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            move |ctx| {
                Ok(match ctx.get_raw(0) {
                    ValueRef::Integer(id) => rank(Some(id)),
                    _ => rank(None),
                })
            },
        )?;
        Ok(RankFunction(conn))
    }
}

impl Drop for RankFunction<'_> {
    fn drop(&mut self) {
        // Frees the statuses it holds; failing to is harmless (the next
        // report replaces it).
        let _ = self.0.remove_function(Self::NAME, 1);
    }
}

fn is_broken(status: &str) -> bool {
    matches!(status, "dead" | "soft_404" | "unreachable")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::BulkSource;

    /// Documents, briefings and citations written out of order, two roots, a
    /// withdrawn document: the listing must still come in (rank, root, path,
    /// briefing, citation) order, filtered as the scope says.
    #[test]
    fn rows_come_in_report_order_whatever_the_write_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("db")).unwrap();
        let statuses = [
            "ok", "dead", "changed", "moved", "failing", "soft_404", "blocked",
        ];
        // (root, path, briefing ordinal, citation ordinal, outlet, status, citation id)
        let mut written = Vec::new();
        {
            let bulk = store.bulk().unwrap();
            let mut sources = Vec::new();
            for (i, status) in statuses.iter().enumerate() {
                let url = format!("http://s{i}.example/");
                let id = bulk
                    .source(
                        &BulkSource {
                            url: &url,
                            host: "s.example",
                            status,
                            ..Default::default()
                        },
                        0,
                    )
                    .unwrap();
                sources.push((id, *status));
            }
            let docs = [
                ("b", "z.txt"),
                ("b", "a/2.txt"),
                ("b", "a.txt"),
                ("b", "a/10.txt"),
                ("a", "m.txt"),
            ];
            let mut n: usize = 0;
            for (root, path) in docs {
                let doc = bulk.document(root, path, 0).unwrap();
                for ordinal in [2, 0, 1] {
                    let b = bulk.briefing(doc, ordinal, "t").unwrap();
                    for c_ordinal in [1, 0] {
                        n += 1;
                        // Both citations of an item cite one source: same rank, same item.
                        let (source, status) = sources[(n.div_ceil(2) * 5) % sources.len()];
                        let outlet = if n.is_multiple_of(2) { "Even" } else { "Odd" };
                        bulk.citation(b, c_ordinal, Some(outlet), None, "u", source)
                            .unwrap();
                        written.push((root, path, ordinal, c_ordinal, outlet, status, n as i64));
                    }
                }
            }
            bulk.commit().unwrap();
        }
        store
            .conn
            .execute(
                "UPDATE documents SET withdrawn_at = 1 WHERE path = 'a.txt'",
                [],
            )
            .unwrap();
        let listed = ["dead", "soft_404", "changed", "moved", "failing"];
        let ranks = [
            ("dead", 0),
            ("soft_404", 0),
            ("changed", 1),
            ("moved", 2),
            ("failing", 3),
        ];
        for (outlet, document) in [(None, None), (Some("even"), None), (None, Some("a"))] {
            let scope = ReportScope {
                statuses: &listed,
                ranks: &ranks,
                outlet,
                document,
                since: None,
                new_only: false,
            };
            let mut expected: Vec<_> = written
                .iter()
                .filter(|w| listed.contains(&w.5) && w.1 != "a.txt")
                .filter(|w| outlet.is_none_or(|o| w.4.eq_ignore_ascii_case(o)))
                .filter(|w| document.is_none_or(|d| w.1.starts_with(&format!("{d}/"))))
                .map(|w| {
                    let rank = ranks.iter().find(|r| r.0 == w.5).unwrap().1;
                    (rank, w.0.to_string(), w.1.to_string(), w.2, w.3, w.6)
                })
                .collect();
            expected.sort();
            let statuses = store.source_statuses().unwrap();
            let mut got = Vec::new();
            store
                .report_rows::<StoreError>(&scope, &statuses, |r| {
                    let rank = ranks.iter().find(|x| x.0 == r.status).unwrap().1;
                    got.push((rank, r.root, r.document, r.briefing_ordinal, r.citation_id));
                    Ok(())
                })
                .unwrap();
            assert!(!expected.is_empty());
            // Citation ordinals run against the write order: ids prove the sort.
            let expected: Vec<_> = expected
                .into_iter()
                .map(|e| (e.0, e.1, e.2, e.3, e.5))
                .collect();
            assert_eq!(got, expected, "outlet {outlet:?}, document {document:?}");
            let counts = store.report_counts(&scope, &statuses).unwrap();
            assert_eq!(
                counts.listed_by_status.values().sum::<i64>(),
                got.len() as i64
            );
        }
    }
}
