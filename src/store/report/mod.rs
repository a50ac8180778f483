//! Reading what `citewatch report` shows: aggregate counts first, then the listed
//! citations streamed in (section, document, briefing) order.
//!
//! Memory stays flat however large the store: one sequential pass over the
//! citations counts and hands each listed citation's place (24 bytes) and
//! what its row shows of the citation and its briefing item to sorters that
//! hold a bounded number in memory and spill the rest to temporary files
//! ([`order`]): first by source, to meet the listed sources read once in id
//! order ([`sources`]), then, each row carrying its source's record, in
//! report order. The rows come out of that sort one at a time. Held per
//! source: its status and a byte of flags ([`SourceStatuses`]); per briefing
//! item: its position, four bytes.

mod order;
mod sources;
mod values;
mod worker;

use std::collections::{BTreeMap, HashMap};

use rusqlite::OptionalExtension;
use rusqlite::types::{FromSqlError, Type, ValueRef};

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
    /// Only citations in documents under this `[briefings] paths` entry (as
    /// written): the whole entry, or, with `document`, that path under it
    /// only (another entry may hold the same path).
    pub root: Option<&'a str>,
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
    /// Failing checks in the streak the verdict stands on: of the page-gone
    /// kind for `dead` and `soft_404`, of either kind for an `unreachable`
    /// that failures of both kinds confirmed (with `failing_since` its start).
    pub consecutive_failures: i64,
    /// First failing check of the streak.
    pub failing_since: Option<Millis>,
    /// The archived copy shown, the copy as cited: the latest good capture
    /// taken before the cited date's grace ends ([`AS_CITED_GRACE`]); else
    /// (no cited date, or only captures after it, as for most citations:
    /// citewatch first sees a URL after the briefing citing it) the
    /// baseline; else the latest 2xx capture unless its check judged it
    /// otherwise (a soft 404's error page).
    pub capture_id: Option<i64>,
    /// When it was captured.
    pub captured_at: Option<Millis>,
    /// sha256 of its body.
    pub capture_sha256: Option<String>,
    /// The copy the source's record shows, whatever the citation's date:
    /// its baseline (the copy its `changed` is measured against), else the
    /// latest 2xx capture as above. The copy as cited may differ from it.
    pub baseline_capture_id: Option<i64>,
    /// When that was captured.
    pub baseline_at: Option<Millis>,
    /// The source newly entered its status group since the scope's `since`.
    pub is_new: bool,
}

/// How long after the start (midnight UTC) of a citation's cited date a
/// capture still shows the page as cited: the cited day, and the next for
/// the time zones (and editors) a day behind UTC. A date names a day, not
/// an instant, and a capture of a later day may already hold the rewrite
/// the editor did not see.
pub const AS_CITED_GRACE: Millis = 2 * 86_400_000;

/// A source has a citation in scope (counted in the summary).
const SEEN: u8 = 1;
/// A source has a listed citation: its record is kept for the rows.
const WANTED: u8 = 2;
/// A source newly entered its status group since the scope's `since`.
const BECAME: u8 = 4;
/// A source recovered since the scope's `since`.
const RECOVERED: u8 = 8;

/// Outlet names are hashed once per citation: FNV-1a costs a fraction of
/// SipHash on such short keys, and they come from the editors' own briefings,
/// not from anyone who could choose colliding names to slow a report down.
#[derive(Clone, Copy)]
struct FnvHasher(u64);

impl Default for FnvHasher {
    fn default() -> FnvHasher {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

type Fnv = std::hash::BuildHasherDefault<FnvHasher>;

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
    /// Points SQLite's temporary tables at files and keeps the page cache small,
    /// so what a report's statements keep aside (the night's status changes)
    /// spills to disk instead of growing with the store.
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

    /// The start of the latest completed check run that looked at what was
    /// due, if any: a run asked for a few sources (`--url`, `--host`,
    /// `--limit`), or one that checked nothing, is not "last night".
    pub fn last_completed_run_start(&self) -> Result<Option<Millis>> {
        self.conn
            .query_row(
                "SELECT started_at FROM runs WHERE state = 'completed'
                   AND coalesce(json_extract(summary, '$.partial'), 0) = 0
                   AND coalesce(json_extract(summary, '$.checked'), 1) > 0
                 ORDER BY started_at DESC, id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())
    }

    /// Whether an active document has this path (or lies under this folder),
    /// under this `[briefings] paths` entry (as written) or, `None`, under
    /// any.
    pub fn has_document(&self, root: Option<&str>, path: &str) -> Result<bool> {
        self.documents_exist(root, path, true)
    }

    /// Whether a withdrawn document, and no active one, has this path (or
    /// lies under this folder) under `root` (any, `None`): a filter naming it
    /// names something the store knows, whose citations are left out of
    /// reports.
    pub fn only_withdrawn_document(&self, root: Option<&str>, path: &str) -> Result<bool> {
        Ok(!self.has_document(root, path)? && self.documents_exist(root, path, false)?)
    }

    /// Whether a document, active or withdrawn as `active` says, has this
    /// path or lies under this folder, under `root` when one is given.
    fn documents_exist(&self, root: Option<&str>, path: &str, active: bool) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM documents d WHERE (d.withdrawn_at IS NULL) = ?3
                   AND (?1 IS NULL OR d.root = ?1)
                   AND (d.path = ?2 OR substr(d.path, 1, length(?2) + 1) = ?2 || '/'))",
                rusqlite::params![root, path, active],
                |r| r.get(0),
            )
            .map_err(self.err())
    }

    /// Whether the documents still in the briefing store lie under more
    /// than one `[briefings] paths` entry: then a path alone does not say
    /// which file a report's heading means.
    pub fn spans_roots(&self) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT count(DISTINCT root) > 1 FROM documents WHERE withdrawn_at IS NULL",
                [],
                |r| r.get(0),
            )
            .map_err(self.err())
    }

    /// Whether any citation of a document still in the briefing store names
    /// this outlet (case-insensitive): a report on an outlet only withdrawn
    /// documents named would be empty for a reason worth saying.
    pub fn has_outlet(&self, outlet: &str) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM citations c
                   JOIN briefings b ON b.id = c.briefing_id
                   JOIN documents d ON d.id = b.document_id
                   WHERE c.outlet = ?1 COLLATE NOCASE AND d.withdrawn_at IS NULL)",
                [outlet],
                |r| r.get(0),
            )
            .map_err(self.err())
    }

    /// The report's aggregate numbers, and the order of its listing.
    ///
    /// A join of every citation with its source and document costs a random
    /// page read per citation; instead this reads the sources' statuses once
    /// into one byte per source and each briefing item's position once into
    /// four bytes per item, then the citations sequentially, once: counting
    /// (in memory that grows with outlets and sources, never with citations)
    /// and handing each listed citation's place (`order::Place`), with what
    /// its row shows, to a sorter that holds a bounded number in memory. The
    /// [`ReportListing`] gives the rows in that order.
    pub fn report_counts(
        &self,
        scope: &ReportScope,
        statuses: &SourceStatuses,
    ) -> Result<(ReportCounts, ReportListing)> {
        self.stream_friendly()?;
        let err = self.err();
        let since = scope.since.unwrap_or(Millis::MIN);
        let names = &statuses.names;
        let status_of = &statuses.code;
        let slots = status_of.len();
        // What is known of each source besides its status, one byte each
        // (see `SEEN`…): one look per citation, not a hash lookup.
        let mut flags = vec![0u8; slots];
        // Sources whose status changed since `since` (a night's worth, not all).
        let mut moved: Vec<(i64, bool, bool)> = Vec::new();
        {
            let sql = format!(
                "WITH {cte} SELECT id, became, recovered FROM new_src",
                cte = new_sources_cte()
            );
            let mut stmt = self.conn.prepare(&sql).map_err(&err)?;
            let mut rows = stmt.query([since]).map_err(&err)?;
            while let Some(r) = rows.next().map_err(&err)? {
                let (id, became, recovered): (i64, bool, bool) = (
                    r.get(0).map_err(&err)?,
                    r.get(1).map_err(&err)?,
                    r.get(2).map_err(&err)?,
                );
                if let Some(f) = usize::try_from(id).ok().and_then(|i| flags.get_mut(i)) {
                    *f |= if became { BECAME } else { 0 } | if recovered { RECOVERED } else { 0 };
                }
                moved.push((id, became, recovered));
            }
        }
        let positions = self.briefing_positions(scope.document, scope.root)?;
        let ranks = ListedRanks::new(scope, statuses);
        let broken_code: Vec<bool> = names.iter().map(|n| is_broken(n)).collect();
        let mut by_code = vec![0i64; names.len()];
        let mut listed_by_code = vec![0i64; names.len()];
        let mut invalid = 0i64;
        // Outlets by name without allocating per citation; `None` apart.
        let mut outlets: HashMap<Box<[u8]>, (i64, i64), Fnv> = Default::default();
        let mut no_outlet = (0i64, 0i64);
        let mut counts = ReportCounts::default();
        // Listed rows with a source, to meet their sources; the rest go
        // straight to the listing, to be sorted into report order.
        let mut sorting = worker::Sorting::start();
        let record_err = record_err(&self.file);
        let spill = |source| StoreError::Spill { source };
        let mut item = ListedItem::new(&self.conn).map_err(&err)?;
        let mut as_cited = AsCited::new(&self.conn, status_of.len()).map_err(&err)?;
        let mut payload = Vec::with_capacity(512);
        let mut joined = Vec::with_capacity(512);
        {
            let mut stmt = self
                .conn
                .prepare(
                    "SELECT briefing_id, source_id, outlet, id, ordinal, cited_date, url,
                            invalid_reason
                     FROM citations
                     WHERE ?1 IS NULL OR outlet = ?1 COLLATE NOCASE",
                )
                .map_err(&err)?;
            let mut rows = stmt.query([scope.outlet]).map_err(&err)?;
            while let Some(r) = rows.next().map_err(&err)? {
                let briefing: i64 = r.get(0).map_err(&err)?;
                let position = positions.of(briefing, scope.document.is_some());
                let Some(position) = position else {
                    continue;
                };
                let source: Option<i64> = r.get(1).map_err(&err)?;
                let slot = source.and_then(|s| usize::try_from(s).ok());
                let code = slot
                    .and_then(|s| status_of.get(s))
                    .copied()
                    .filter(|c| usize::from(*c) < names.len());
                let broken = code.is_some_and(|c| broken_code[usize::from(c)]);
                let mut listed = None;
                let mut is_new = false;
                match (slot, code) {
                    (Some(s), Some(c)) => {
                        let c = usize::from(c);
                        by_code[c] += 1;
                        let f = &mut flags[s];
                        *f |= SEEN;
                        let became = *f & BECAME != 0;
                        let recovered = *f & RECOVERED != 0;
                        if let Some(rank) = ranks.by_code[c]
                            && (!scope.new_only || became)
                        {
                            listed_by_code[c] += 1;
                            listed = Some(rank);
                            is_new = became;
                            if position.is_some() {
                                *f |= WANTED;
                            }
                        }
                        if broken && became {
                            counts.newly_broken_citations += 1;
                        }
                        if recovered {
                            counts.recovered_citations += 1;
                        }
                    }
                    _ => {
                        invalid += 1;
                        // Without a source a citation is `invalid`, never new.
                        if source.is_none() && !scope.new_only {
                            listed = ranks.invalid;
                        }
                    }
                }
                if let (Some(rank), Some(position)) = (listed, position)
                    && item.load(briefing).map_err(&err)?
                {
                    let place = order::Key::place(
                        rank,
                        position,
                        r.get(4).map_err(&err)?,
                        r.get(3).map_err(&err)?,
                    );
                    payload.clear();
                    if source.is_some() {
                        payload.extend_from_slice(&place.to_bytes());
                    }
                    let mut put = |v| values::put(&mut payload, v).map_err(spill);
                    put(r.get_ref(1).map_err(&err)?)?;
                    put(ValueRef::Integer(item.ordinal()))?;
                    put(ValueRef::Text(item.title().as_bytes()))?;
                    put(ValueRef::Text(item.root.as_bytes()))?;
                    put(ValueRef::Text(item.path.as_bytes()))?;
                    for i in [2, 5, 6, 7] {
                        put(r.get_ref(i).map_err(&err)?)?;
                    }
                    put(ValueRef::Integer(i64::from(is_new)))?;
                    let copy = match source {
                        Some(source) => as_cited
                            .copy(source, r.get_ref(5).map_err(&err)?)
                            .map_err(&err)?,
                        None => None,
                    };
                    let mut put = |v| values::put(&mut payload, v).map_err(spill);
                    match &copy {
                        Some((id, at, sha)) => {
                            put(ValueRef::Integer(*id))?;
                            put(ValueRef::Integer(*at))?;
                            put(ValueRef::Text(sha.as_bytes()))?;
                        }
                        None => {
                            for _ in 0..3 {
                                put(ValueRef::Null)?;
                            }
                        }
                    }
                    match source {
                        Some(source) => sorting
                            .by_source(source, place.id, &payload)
                            .map_err(&record_err)?,
                        None => {
                            sources::without_record(&mut joined, &payload).map_err(spill)?;
                            sorting.listed(place, &joined).map_err(&record_err)?;
                        }
                    }
                }
                let outlet = match r.get_ref(2).map_err(&err)? {
                    ValueRef::Null => None,
                    ValueRef::Text(name) => Some(name),
                    v => {
                        let e = FromSqlError::InvalidType;
                        let failed = rusqlite::Error::FromSqlConversionFailure(
                            2,
                            v.data_type(),
                            Box::new(e),
                        );
                        return Err(err(failed));
                    }
                };
                let entry = match outlet {
                    None => &mut no_outlet,
                    // One hash lookup for an outlet seen before (most of them);
                    // its text is checked once, when first seen.
                    Some(name) => match outlets.get_mut(name) {
                        Some(entry) => entry,
                        None => {
                            std::str::from_utf8(name).map_err(|e| {
                                let e = FromSqlError::Other(Box::new(e));
                                err(rusqlite::Error::FromSqlConversionFailure(
                                    2,
                                    Type::Text,
                                    Box::new(e),
                                ))
                            })?;
                            outlets.entry(name.into()).or_default()
                        }
                    },
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
        for (f, code) in flags.iter().zip(status_of) {
            if f & SEEN != 0 && usize::from(*code) < names.len() {
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
        for (id, became, recovered) in moved {
            let Some(slot) = usize::try_from(id)
                .ok()
                .filter(|s| flags.get(*s).is_some_and(|f| f & SEEN != 0))
            else {
                continue;
            };
            let code = usize::from(status_of[slot]);
            if became && code < names.len() && broken_code[code] {
                counts.newly_broken_sources += 1;
            }
            if recovered {
                counts.recovered_sources += 1;
            }
        }
        let mut list: Vec<OutletCount> = outlets
            .into_iter()
            // Checked when first seen.
            .map(|(outlet, c)| (Some(String::from_utf8_lossy(&outlet).into_owned()), c))
            .chain((no_outlet.0 > 0).then_some((None, no_outlet)))
            .map(|(outlet, (citations, broken))| OutletCount {
                outlet,
                citations,
                broken,
            })
            .collect();
        list.sort_by(|a, b| a.outlet.cmp(&b.outlet));
        counts.outlets = list;
        drop(item);
        drop(as_cited);
        let wanted = flags.iter().map(|f| f & WANTED != 0).collect();
        drop(flags);
        self.join_sources(wanted, &mut sorting)?;
        let listing = ReportListing {
            order: sorting.finish().map_err(&record_err)?,
            file: self.file.clone(),
        };
        Ok((counts, listing))
    }

    /// Each briefing item's position in report order (documents by root and
    /// path, then items by ordinal), read from the two unique indexes in that
    /// order without a sort (see [`BriefingPositions`]).
    fn briefing_positions(
        &self,
        document: Option<&str>,
        root: Option<&str>,
    ) -> Result<BriefingPositions> {
        let err = self.err();
        let max_id: i64 = self
            .conn
            .query_row("SELECT coalesce(max(id), 0) FROM briefings", [], |r| {
                r.get(0)
            })
            .map_err(&err)?;
        let mut slots = vec![BriefingPositions::UNKNOWN; usize::try_from(max_id).unwrap_or(0) + 1];
        let mut stmt = self
            .conn
            .prepare(
                "SELECT b.id, d.withdrawn_at IS NULL
                   AND (?1 IS NULL OR d.path = ?1 OR substr(d.path, 1, length(?1) + 1) = ?1 || '/')
                   AND (?2 IS NULL OR d.root = ?2)
                 FROM documents d CROSS JOIN briefings b ON b.document_id = d.id
                 ORDER BY d.root, d.path, b.ordinal",
            )
            .map_err(&err)?;
        let mut rows = stmt.query([document, root]).map_err(&err)?;
        let mut next: u32 = 0;
        while let Some(r) = rows.next().map_err(&err)? {
            let id: i64 = r.get(0).map_err(&err)?;
            let in_scope: bool = r.get(1).map_err(&err)?;
            let Some(slot) = usize::try_from(id).ok().and_then(|i| slots.get_mut(i)) else {
                continue;
            };
            *slot = if in_scope {
                // Past four billion items the order within a section degrades,
                // nothing else: the last position is shared.
                let p = next.min(BriefingPositions::LAST);
                next = next.saturating_add(1);
                p
            } else {
                BriefingPositions::OUT
            };
        }
        Ok(BriefingPositions { slots })
    }

    /// Reads the sources in `wanted` (by id) in id order, each with its
    /// archived copy, to meet their rows in `sorting` (see [`sources`]).
    fn join_sources(&self, wanted: Vec<bool>, sorting: &mut worker::Sorting) -> Result<()> {
        let err = self.err();
        let _function = WantedFunction::register(&self.conn, wanted).map_err(&err)?;
        let sql = format!(
            "SELECT s.id, {columns}
             FROM sources s
             LEFT JOIN captures k ON k.status BETWEEN 200 AND 299 AND k.disowned_at IS NULL AND k.id = CASE
                 -- A disowned baseline (a landing others are sent to) is
                 -- passed over, as by `get`.
                 WHEN s.baseline_capture_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM captures b
                        WHERE b.id = s.baseline_capture_id AND b.disowned_at IS NOT NULL)
                   THEN s.baseline_capture_id
                 -- Without a baseline (never good), the latest only when no
                 -- check judged it otherwise: the error page of a soft 404 is
                 -- no copy of what was cited.
                 WHEN NOT EXISTS (SELECT 1 FROM checks c
                        WHERE c.source_id = s.id AND c.capture_id = s.latest_capture_id
                          AND c.status_after NOT IN ('ok', 'changed', 'moved'))
                   THEN s.latest_capture_id END
             WHERE {wanted}(s.id)
             ORDER BY s.id",
            columns = sources::COLUMNS,
            wanted = WantedFunction::NAME,
        );
        let mut stmt = self.conn.prepare(&sql).map_err(&err)?;
        let mut rows = stmt.query([]).map_err(&err)?;
        let record_err = record_err(&self.file);
        let mut record = Vec::with_capacity(512);
        while let Some(r) = rows.next().map_err(&err)? {
            let id: i64 = r.get(0).map_err(&err)?;
            sources::put_record(&mut record, r, 1).map_err(&record_err)?;
            sorting.source(id, &record).map_err(&record_err)?;
        }
        Ok(())
    }
}

/// What a listed row carries through the sort, after its place: the values
/// of [`ListedItem`]'s `load` order, read back by [`ReportListing`].
const LISTED: usize = 13;

/// Briefing items read at once by [`ListedItem`].
const WINDOW: usize = 32;

/// The briefing item (and document) of the listed citation last seen. Items
/// are read [`WINDOW`] at a time in id order, from the first one asked for:
/// in the citations' order (the order sync writes them) one statement then
/// serves many listed items, where a statement per item cost a microsecond
/// each; asked out of order, it reads a window from there. A document is
/// looked up when it changes.
struct ListedItem<'c> {
    briefings: rusqlite::Statement<'c>,
    document: rusqlite::Statement<'c>,
    /// Items read: id, document id, ordinal, and the title's end in `titles`.
    window: Vec<(i64, i64, i64, usize)>,
    titles: String,
    /// The current item's index in `window`.
    current: usize,
    document_id: Option<i64>,
    root: String,
    path: String,
}

impl<'c> ListedItem<'c> {
    fn new(conn: &'c rusqlite::Connection) -> rusqlite::Result<ListedItem<'c>> {
        let sql = format!(
            "SELECT id, document_id, ordinal, title FROM briefings
             WHERE id >= ?1 ORDER BY id LIMIT {WINDOW}"
        );
        Ok(ListedItem {
            briefings: conn.prepare(&sql)?,
            document: conn.prepare("SELECT root, path FROM documents WHERE id = ?1")?,
            window: Vec::with_capacity(WINDOW),
            titles: String::new(),
            current: 0,
            document_id: None,
            root: String::new(),
            path: String::new(),
        })
    }

    /// Makes briefing item `id` the current one; `false` when it (or its
    /// document) has no row, as a join would drop it.
    fn load(&mut self, id: i64) -> rusqlite::Result<bool> {
        let current = self.window.get(self.current);
        if current.is_some_and(|w| w.0 == id && self.document_id == Some(w.1)) {
            return Ok(true);
        }
        let found = match self.window.binary_search_by_key(&id, |w| w.0) {
            Ok(i) => Some(i),
            Err(_) => {
                self.read_window(id)?;
                self.window.first().filter(|w| w.0 == id).map(|_| 0)
            }
        };
        let Some(i) = found else {
            return Ok(false);
        };
        self.current = i;
        let document = self.window[i].1;
        if self.document_id != Some(document) {
            self.document_id = None;
            let mut rows = self.document.query([document])?;
            let Some(r) = rows.next()? else {
                return Ok(false);
            };
            set_text(&mut self.root, r, 0)?;
            set_text(&mut self.path, r, 1)?;
            self.document_id = Some(document);
        }
        Ok(true)
    }

    fn read_window(&mut self, from: i64) -> rusqlite::Result<()> {
        self.window.clear();
        self.titles.clear();
        let mut rows = self.briefings.query([from])?;
        while let Some(r) = rows.next()? {
            let title = r.get_ref(3)?.as_str().map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(3, Type::Text, Box::new(e))
            })?;
            self.titles.push_str(title);
            self.window
                .push((r.get(0)?, r.get(1)?, r.get(2)?, self.titles.len()));
        }
        Ok(())
    }

    /// The current item's ordinal.
    fn ordinal(&self) -> i64 {
        self.window[self.current].2
    }

    /// The current item's title.
    fn title(&self) -> &str {
        let start = match self.current {
            0 => 0,
            i => self.window[i - 1].3,
        };
        &self.titles[start..self.window[self.current].3]
    }
}

/// Reads a text column into a reused string.
fn set_text(to: &mut String, r: &rusqlite::Row, i: usize) -> rusqlite::Result<()> {
    let text = r.get_ref(i)?.as_str().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })?;
    to.clear();
    to.push_str(text);
    Ok(())
}

/// A record's failure as a store error.
fn record_err(file: &std::path::Path) -> impl Fn(sources::RecordError) -> StoreError + '_ {
    |e| match e {
        sources::RecordError::Io(source) => StoreError::Spill { source },
        sources::RecordError::Sql(source) => StoreError::Sqlite {
            file: file.to_path_buf(),
            source,
        },
    }
}

/// A value a listed row carried, as `Row::get` would convert it.
fn listed_value<T: rusqlite::types::FromSql>(listed: &[ValueRef], i: usize) -> rusqlite::Result<T> {
    values::get(listed, i, "listed citation")
}

/// What [`Store::report_counts`] leaves to be listed: the listed citations in
/// report order (status rank, document, briefing item, citation), each with
/// what its row shows of the citation, its briefing item and its source. It
/// reads no SQLite, so it can be drained on another thread.
pub struct ReportListing {
    order: order::Sorted,
    /// The database, named in errors.
    file: std::path::PathBuf,
}

impl ReportListing {
    /// The next listed row, or `None` after the last.
    pub fn next_row(&mut self) -> Result<Option<ReportRow>> {
        let Some((place, payload)) = self
            .order
            .next()
            .map_err(|source| StoreError::Spill { source })?
        else {
            return Ok(None);
        };
        read_row(place, payload)
            .map(Some)
            .map_err(super::sqlite_error(&self.file))
    }
}

impl Iterator for ReportListing {
    type Item = Result<ReportRow>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_row().transpose()
    }
}

/// A listed row from its place and what it carried through the sorts.
fn read_row(place: order::Key, payload: &[u8]) -> rusqlite::Result<ReportRow> {
    let damaged =
        |e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, Box::new(e));
    let (listed, rest): ([ValueRef; LISTED], _) = values::read(payload).map_err(damaged)?;
    let source_id: Option<i64> = listed_value(&listed, 0)?;
    let (has_record, columns) = sources::record(rest)?;
    let status: Option<String> = sources::get(&columns, 0)?;
    // The copy as cited, when it was found apart from the record's.
    let as_cited: Option<i64> = listed_value(&listed, 10)?;
    let (capture_id, captured_at, capture_sha256) = match as_cited {
        Some(id) if has_record => (
            Some(id),
            listed_value(&listed, 11)?,
            listed_value(&listed, 12)?,
        ),
        _ => (
            sources::get(&columns, 12)?,
            sources::get(&columns, 13)?,
            sources::get(&columns, 14)?,
        ),
    };
    Ok(ReportRow {
        // A citation without a source (or whose source row is missing) is `invalid`.
        status: status.unwrap_or_else(|| "invalid".to_string()),
        root: listed_value(&listed, 3)?,
        document: listed_value(&listed, 4)?,
        briefing_ordinal: listed_value(&listed, 1)?,
        title: listed_value(&listed, 2)?,
        citation_id: place.id,
        outlet: listed_value(&listed, 5)?,
        cited_date: listed_value(&listed, 6)?,
        url: listed_value(&listed, 7)?,
        invalid_reason: listed_value(&listed, 8)?,
        source_id: source_id.filter(|_| has_record),
        source_url: sources::get(&columns, 1)?,
        status_since: sources::get(&columns, 2)?,
        suspect: sources::get(&columns, 3)?,
        http_status: sources::get(&columns, 4)?,
        final_url: sources::get(&columns, 5)?,
        error_kind: sources::get(&columns, 6)?,
        error_detail: sources::get(&columns, 7)?,
        evidence: sources::get(&columns, 8)?,
        similarity: sources::get(&columns, 9)?,
        consecutive_failures: sources::get::<Option<i64>>(&columns, 10)?.unwrap_or(0),
        failing_since: sources::get(&columns, 11)?,
        capture_id,
        captured_at,
        capture_sha256,
        baseline_capture_id: sources::get(&columns, 12)?,
        baseline_at: sources::get(&columns, 13)?,
        is_new: listed_value::<i64>(&listed, 9)? != 0,
    })
}

/// The copy as cited of each listed citation (see [`ReportRow::capture_id`]),
/// looked up as the counting pass meets it. Most citations predate their
/// source's first capture, and are known to by the baseline's day alone,
/// kept per source once looked up (four bytes a source); only a citation
/// dated after it costs a query, one descent of the `checks_source` index
/// from its date back to the latest good check.
struct AsCited<'c> {
    /// Per source: `0` not looked up, [`AsCited::NONE`] no baseline, else
    /// the baseline's day since 1970 plus one.
    baseline_day: Vec<u32>,
    baseline: rusqlite::Statement<'c>,
    latest_good: rusqlite::Statement<'c>,
}

impl<'c> AsCited<'c> {
    const NONE: u32 = u32::MAX;
    const DAY: Millis = 86_400_000;

    fn new(conn: &'c rusqlite::Connection, sources: usize) -> rusqlite::Result<AsCited<'c>> {
        Ok(AsCited {
            baseline_day: vec![0; sources],
            baseline: conn.prepare(
                "SELECT k.captured_at FROM sources s JOIN captures k ON k.id = s.baseline_capture_id
                 WHERE s.id = ?1",
            )?,
            // Good as `get` has it (`pick_copy`): a 2xx capture not
            // disowned, which its check judged ok, changed or moved.
            latest_good: conn.prepare(
                "SELECT k.id, k.captured_at, k.body_sha256
                 FROM checks c JOIN captures k ON k.id = c.capture_id
                 WHERE c.source_id = ?1 AND c.started_at < ?2
                   AND c.status_after IN ('ok', 'changed', 'moved')
                   AND k.captured_at < ?2 AND k.status BETWEEN 200 AND 299
                   AND k.disowned_at IS NULL
                 ORDER BY c.started_at DESC, c.id DESC LIMIT 1",
            )?,
        })
    }

    /// The copy as cited of a citation of `source` dated `cited`
    /// (`YYYY-MM-DD`), when it is not what the source's record shows (its
    /// baseline): id, capture time, sha256.
    fn copy(
        &mut self,
        source: i64,
        cited: ValueRef,
    ) -> rusqlite::Result<Option<(i64, Millis, String)>> {
        let Ok(date) = cited.as_str() else {
            return Ok(None);
        };
        let Some(slot) = usize::try_from(source)
            .ok()
            .filter(|s| *s < self.baseline_day.len())
        else {
            return Ok(None);
        };
        if self.baseline_day[slot] == 0 {
            let at: Option<Millis> = self.baseline.query_row([source], |r| r.get(0)).optional()?;
            self.baseline_day[slot] = at.map_or(Self::NONE, |at| {
                u32::try_from(at.max(0) / Self::DAY + 1).unwrap_or(Self::NONE - 1)
            });
        }
        let day = self.baseline_day[slot];
        if day == Self::NONE {
            return Ok(None);
        }
        // A date that names no day, or a grace that ends before the
        // baseline's day begins: the baseline, as the record shows.
        let until = crate::time::parse_time(date)
            .ok()
            .and_then(|start| start.checked_add(AS_CITED_GRACE))
            .filter(|until| *until > Millis::from(day - 1) * Self::DAY);
        let Some(until) = until else {
            return Ok(None);
        };
        self.latest_good
            .query_row(rusqlite::params![source, until], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()
    }
}

/// `report_wanted(source_id)` on a connection while it lives: whether the
/// source has a listed citation.
struct WantedFunction<'c>(&'c rusqlite::Connection);

impl<'c> WantedFunction<'c> {
    const NAME: &'static str = "report_wanted";

    fn register(
        conn: &'c rusqlite::Connection,
        wanted: Vec<bool>,
    ) -> rusqlite::Result<WantedFunction<'c>> {
        use rusqlite::functions::FunctionFlags;
        use rusqlite::types::ValueRef;
        conn.create_scalar_function(
            Self::NAME,
            1,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            move |ctx| {
                Ok(match ctx.get_raw(0) {
                    ValueRef::Integer(id) => usize::try_from(id)
                        .ok()
                        .and_then(|i| wanted.get(i))
                        .copied()
                        .unwrap_or(false),
                    _ => false,
                })
            },
        )?;
        Ok(WantedFunction(conn))
    }
}

impl Drop for WantedFunction<'_> {
    fn drop(&mut self) {
        // Frees what it holds; failing to is harmless (the next report
        // replaces it).
        let _ = self.0.remove_function(Self::NAME, 1);
    }
}

/// Each listed status's section rank, by status code, and that of `invalid`.
struct ListedRanks {
    by_code: Vec<Option<u8>>,
    invalid: Option<u8>,
}

impl ListedRanks {
    fn new(scope: &ReportScope, statuses: &SourceStatuses) -> ListedRanks {
        let rank_of = |name: &str| -> Option<u8> {
            if !scope.statuses.contains(&name) {
                return None;
            }
            let rank = scope
                .ranks
                .iter()
                .find(|(s, _)| *s == name)
                .map_or(99, |r| r.1);
            Some(u8::try_from(rank.clamp(0, 254)).unwrap_or(254))
        };
        ListedRanks {
            by_code: statuses.names.iter().map(|n| rank_of(n)).collect(),
            invalid: rank_of("invalid"),
        }
    }
}

/// Each briefing item's position in report order, by id: four bytes per item.
struct BriefingPositions {
    slots: Vec<u32>,
}

impl BriefingPositions {
    /// No briefing item with this id, or its document is gone.
    const UNKNOWN: u32 = u32::MAX;
    /// Its document is withdrawn or outside `--document`.
    const OUT: u32 = u32::MAX - 1;
    /// The largest position.
    const LAST: u32 = u32::MAX - 2;

    /// Whether a citation of briefing item `id` counts (`None`: not), and
    /// where it is listed (`Some(None)`: counted, never listed). Without a
    /// document filter an item of no known document still counts, as it
    /// always has; it cannot be listed.
    fn of(&self, id: i64, filtered: bool) -> Option<Option<u32>> {
        let slot = usize::try_from(id)
            .ok()
            .and_then(|i| self.slots.get(i))
            .copied()
            .unwrap_or(Self::UNKNOWN);
        match slot {
            Self::OUT => None,
            Self::UNKNOWN if filtered => None,
            Self::UNKNOWN => Some(None),
            p => Some(Some(p)),
        }
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
        for (outlet, document, root) in [
            (None, None, None),
            (Some("even"), None, None),
            (None, Some("a"), None),
            (None, None, Some("a")),
            (None, Some("a"), Some("b")),
        ] {
            let scope = ReportScope {
                statuses: &listed,
                ranks: &ranks,
                outlet,
                document,
                root,
                since: None,
                new_only: false,
            };
            let mut expected: Vec<_> = written
                .iter()
                .filter(|w| listed.contains(&w.5) && w.1 != "a.txt")
                .filter(|w| outlet.is_none_or(|o| w.4.eq_ignore_ascii_case(o)))
                .filter(|w| document.is_none_or(|d| w.1.starts_with(&format!("{d}/"))))
                .filter(|w| root.is_none_or(|r| w.0 == r))
                .map(|w| {
                    let rank = ranks.iter().find(|r| r.0 == w.5).unwrap().1;
                    (rank, w.0.to_string(), w.1.to_string(), w.2, w.3, w.6)
                })
                .collect();
            expected.sort();
            let statuses = store.source_statuses().unwrap();
            let (counts, listing) = store.report_counts(&scope, &statuses).unwrap();
            let mut got = Vec::new();
            for r in listing {
                let r = r.unwrap();
                let rank = ranks.iter().find(|x| x.0 == r.status).unwrap().1;
                got.push((rank, r.root, r.document, r.briefing_ordinal, r.citation_id));
            }
            assert!(!expected.is_empty());
            // Citation ordinals run against the write order: ids prove the sort.
            let expected: Vec<_> = expected
                .into_iter()
                .map(|e| (e.0, e.1, e.2, e.3, e.5))
                .collect();
            assert_eq!(
                got, expected,
                "outlet {outlet:?}, document {document:?}, root {root:?}"
            );
            assert_eq!(
                counts.listed_by_status.values().sum::<i64>(),
                got.len() as i64
            );
        }
    }
}
