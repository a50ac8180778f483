//! The server's reads: paged source listings, archived copies by id, the
//! mementos of a URL, and the figures behind `/metrics`.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::check::{RUN_COLUMNS, SOURCE_SQL, run_row, source_row};
use super::{Result, RunRow, SourceRow, Store};
use crate::time::Millis;

/// Which sources a listing takes, and which page of them.
#[derive(Debug, Clone, Default)]
pub struct SourceQuery {
    /// Only these statuses (`None`: all).
    pub statuses: Option<Vec<String>>,
    /// Only this host; its sources are listed under any spelling of it
    /// (`H.`, see [`crate::source_url::host_key`]).
    pub host: Option<String>,
    /// Only sources some active citation attributes to this outlet: its
    /// whole name, in any case, spaces around it ignored, as `report
    /// --outlet` takes it. Not a part of a name: `AP` selected Japan Times,
    /// APA and Apple Daily too. Nor a longer spelling (`Xinhua` is not
    /// `Xinhua News Agency`): briefings name an agency both ways, and a
    /// rule that joined the two would join others an editor keeps apart
    /// (`AP` and `APA`); the outlet table lists every name as cited, and
    /// each is asked for by that name.
    pub outlet: Option<String>,
    /// Only sources whose URL sorts after this one, the last of the page
    /// before: pages that hold still while a sync adds sources, where an
    /// offset would show a row twice or skip one.
    pub after: Option<String>,
    /// Rows skipped.
    pub offset: u64,
    /// Rows returned at most.
    pub limit: u64,
}

/// A source as the server lists it: the `sources` row plus its host.
#[derive(Debug, Clone, Serialize)]
pub struct ListedSource {
    /// The row `citewatch sources` prints.
    #[serde(flatten)]
    pub source: SourceRow,
    /// The source's host.
    pub host: String,
}

/// One page of a listing.
#[derive(Debug, Clone, Serialize)]
pub struct SourcePage {
    /// Sources matching the query, all pages together.
    pub total: u64,
    /// This page.
    pub sources: Vec<ListedSource>,
}

/// What serving an archived copy needs from its capture row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedCopy {
    /// Capture id.
    pub id: i64,
    /// The source.
    pub source_id: i64,
    /// The source's normalised URL (the memento's original resource).
    pub source_url: String,
    /// When it was captured.
    pub captured_at: Millis,
    /// HTTP status received.
    pub status: u16,
    /// Content-Type received.
    pub content_type: Option<String>,
    /// Body sha256: the only way to its blob.
    pub body_sha256: String,
    /// Body size.
    pub body_size: u64,
    /// Cut at the size cap: the copy is not the whole page, and a reader must
    /// be told so.
    pub truncated: bool,
}

/// One memento of a source: a capture and its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Memento {
    /// Capture id.
    pub id: i64,
    /// Capture time.
    pub captured_at: Millis,
}

/// The figures behind `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct MetricsSnapshot {
    /// Sources by status.
    pub sources_by_status: BTreeMap<String, i64>,
    /// Checks by fetch outcome.
    pub checks_by_outcome: BTreeMap<String, i64>,
    /// Captures.
    pub captures: i64,
    /// Distinct blobs.
    pub blobs: i64,
    /// Body bytes of the distinct blobs.
    pub blob_bytes: i64,
    /// Bytes the blobs take on disk.
    pub blob_stored_bytes: i64,
    /// The latest completed run.
    pub last_completed_run: Option<RunRow>,
}

const FILTER: &str = "(?1 IS NULL OR s.status IN (SELECT value FROM json_each(?1)))
   AND (?2 IS NULL OR rtrim(lower(s.host), '.') = ?2)
   AND (?3 IS NULL OR EXISTS (SELECT 1 FROM citations c JOIN briefings b ON b.id = c.briefing_id
        JOIN documents d ON d.id = b.document_id
        WHERE c.source_id = s.id AND d.withdrawn_at IS NULL AND c.outlet = ?3 COLLATE NOCASE))";

/// Checks by fetch outcome, from the counts the checks' triggers keep
/// (migration 0011): counting `checks` itself read every check ever recorded
/// on every scrape.
const CHECKS_BY_OUTCOME: &str = "SELECT outcome, n FROM check_counts WHERE n > 0";

impl Store {
    /// Whether the store answers, at the cost of a primary-key lookup: a
    /// health check is asked often, and must not scan a large store.
    pub fn ping(&self) -> Result<()> {
        self.conn
            .prepare_cached("SELECT max(id) FROM runs")
            .and_then(|mut s| s.query_row([], |r| r.get::<_, Option<i64>>(0)))
            .map(drop)
            .map_err(self.err())
    }

    /// One page of sources matching `q`, by URL, with the total.
    pub fn source_page(&self, q: &SourceQuery) -> Result<SourcePage> {
        let statuses = q
            .statuses
            .as_ref()
            .map(|s| serde_json::to_string(s).unwrap_or_else(|_| "[]".into()));
        let host = q.host.as_deref().map(crate::source_url::host_key);
        // Copied from a table, a name brings its spaces along; no outlet has them.
        let outlet = q.outlet.as_deref().map(str::trim);
        let total: i64 = self
            .conn
            .prepare_cached(&format!("SELECT count(*) FROM sources s WHERE {FILTER}"))
            .and_then(|mut s| s.query_row(params![statuses, host, outlet], |r| r.get(0)))
            .map_err(self.err())?;
        let sql = format!(
            "{SOURCE_SQL} WHERE {FILTER} AND (?6 IS NULL OR s.url > ?6) ORDER BY s.url LIMIT ?4 OFFSET ?5"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(self.err())?;
        let sources = stmt
            .query_map(
                params![
                    statuses,
                    host,
                    outlet,
                    q.limit.min(i64::MAX as u64) as i64,
                    q.offset.min(i64::MAX as u64) as i64,
                    q.after
                ],
                |r| {
                    Ok(ListedSource {
                        source: source_row(r)?,
                        host: r.get(17)?,
                    })
                },
            )
            .map_err(self.err())?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(SourcePage {
            total: total as u64,
            sources,
        })
    }

    /// One source by id.
    pub fn source_by_id(&self, id: i64) -> Result<Option<ListedSource>> {
        let sql = format!("{SOURCE_SQL} WHERE s.id = ?1");
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_row([id], |r| {
                    Ok(ListedSource {
                        source: source_row(r)?,
                        host: r.get(17)?,
                    })
                })
                .optional()
            })
            .map_err(self.err())
    }

    /// What serving capture `id` needs, or `None` when there is no such capture.
    pub fn archived_copy(&self, id: i64) -> Result<Option<ArchivedCopy>> {
        self.conn
            .prepare_cached(
                "SELECT c.id, c.source_id, s.url, c.captured_at, c.status,
                        CASE WHEN c.response_from IS NULL THEN c.content_type
                             ELSE (SELECT o.content_type FROM captures o WHERE o.id = c.response_from) END,
                        c.body_sha256, c.body_size, c.truncated
                 FROM captures c JOIN sources s ON s.id = c.source_id WHERE c.id = ?1",
            )
            .and_then(|mut s| {
                s.query_row([id], |r| {
                    Ok(ArchivedCopy {
                        id: r.get(0)?,
                        source_id: r.get(1)?,
                        source_url: r.get(2)?,
                        captured_at: r.get(3)?,
                        status: r.get(4)?,
                        content_type: r.get(5)?,
                        body_sha256: r.get(6)?,
                        body_size: r.get::<_, i64>(7)? as u64,
                        truncated: r.get(8)?,
                    })
                })
                .optional()
            })
            .map_err(self.err())
    }

    /// Every capture of a source as a memento, oldest first.
    pub fn mementos(&self, source_id: i64) -> Result<Vec<Memento>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, captured_at FROM captures WHERE source_id = ?1 ORDER BY captured_at, id",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([source_id], |r| {
                Ok(Memento {
                    id: r.get(0)?,
                    captured_at: r.get(1)?,
                })
            })
            .map_err(self.err())?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    /// The figures behind `/metrics`, read in one transaction so they agree.
    pub fn metrics_snapshot(&self) -> Result<MetricsSnapshot> {
        let tx = self.conn.unchecked_transaction().map_err(self.err())?;
        let grouped = |sql: &str| -> Result<BTreeMap<String, i64>> {
            let mut stmt = tx.prepare_cached(sql).map_err(self.err())?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(self.err())?
                .collect::<std::result::Result<_, _>>()
                .map_err(self.err())?;
            Ok(rows)
        };
        let sources_by_status = grouped("SELECT status, count(*) FROM sources GROUP BY status")?;
        let checks_by_outcome = grouped(CHECKS_BY_OUTCOME)?;
        let captures: i64 = tx
            .query_row("SELECT count(*) FROM captures", [], |r| r.get(0))
            .map_err(self.err())?;
        let (blobs, blob_bytes, blob_stored_bytes) = tx
            .query_row(
                "SELECT count(*), coalesce(sum(size), 0), coalesce(sum(stored_size), 0) FROM blobs",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(self.err())?;
        let last_completed_run = tx
            .query_row(
                // A run asked for a few sources (`--url`, `--host`, `--limit`)
                // is not the nightly job whose figures an alert watches.
                &format!(
                    "SELECT {RUN_COLUMNS} FROM runs
                     WHERE state = 'completed'
                       AND coalesce(json_extract(summary, '$.partial'), 0) = 0
                     ORDER BY id DESC LIMIT 1"
                ),
                [],
                run_row,
            )
            .optional()
            .map_err(self.err())?;
        drop(tx);
        Ok(MetricsSnapshot {
            sources_by_status,
            checks_by_outcome,
            captures,
            blobs,
            blob_bytes,
            blob_stored_bytes,
            last_completed_run,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewCheck;

    /// `?host=h` lists the sources on `h` under any spelling their URLs
    /// recorded, as `check --host` takes them.
    #[test]
    fn a_host_is_listed_under_any_spelling() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("citewatch.db")).unwrap();
        for (url, host) in [
            ("http://h/a", "h"),
            ("http://h./b", "h."),
            ("http://o/c", "o"),
        ] {
            store
                .conn
                .execute(
                    "INSERT INTO sources (url, host, first_seen) VALUES (?1, ?2, 0)",
                    [url, host],
                )
                .unwrap();
        }
        let page = store
            .source_page(&SourceQuery {
                statuses: None,
                host: Some("h".into()),
                outlet: None,
                after: None,
                offset: 0,
                limit: 10,
            })
            .unwrap();
        let urls: Vec<_> = page.sources.iter().map(|s| s.source.url.as_str()).collect();
        assert_eq!((page.total, urls), (2, vec!["http://h./b", "http://h/a"]));
    }

    /// `?outlet=AP` lists the sources of the outlet named AP, whatever the
    /// case and surrounding spaces, and none of those whose names merely
    /// contain the letters (Japan Times, APA, Apple Daily).
    #[test]
    fn an_outlet_is_matched_by_its_whole_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("citewatch.db")).unwrap();
        let bulk = store.bulk().unwrap();
        let doc = bulk.document("b", "x.txt", 0).unwrap();
        let b = bulk.briefing(doc, 0, "t").unwrap();
        for (n, outlet) in ["AP", "Japan Times", "APA", "Apple Daily"]
            .iter()
            .enumerate()
        {
            let url = format!("http://h/{n}");
            let source = bulk
                .source(
                    &crate::store::BulkSource {
                        url: &url,
                        host: "h",
                        status: "ok",
                        ..Default::default()
                    },
                    0,
                )
                .unwrap();
            bulk.citation(b, n as i64, Some(outlet), None, &url, source)
                .unwrap();
        }
        bulk.commit().unwrap();
        for asked in ["AP", "ap", " Ap "] {
            let page = store
                .source_page(&SourceQuery {
                    outlet: Some(asked.into()),
                    limit: 10,
                    ..Default::default()
                })
                .unwrap();
            let urls: Vec<_> = page.sources.iter().map(|s| s.source.url.as_str()).collect();
            assert_eq!((page.total, urls), (1, vec!["http://h/0"]), "{asked:?}");
        }
    }

    /// What the counts say, checked against the checks themselves.
    fn counted_both_ways(store: &Store) -> (BTreeMap<String, i64>, BTreeMap<String, i64>) {
        let counted = store.metrics_snapshot().unwrap().checks_by_outcome;
        let mut stmt = store
            .conn
            .prepare("SELECT outcome, count(*) FROM checks GROUP BY outcome")
            .unwrap();
        let scanned = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<std::result::Result<_, _>>()
            .unwrap();
        (counted, scanned)
    }

    #[test]
    fn checks_by_outcome_are_counted_without_reading_the_checks() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("citewatch.db")).unwrap();
        let plan: Vec<String> = store
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {CHECKS_BY_OUTCOME}"))
            .unwrap()
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<std::result::Result<_, _>>()
            .unwrap();
        assert!(
            !plan.is_empty() && plan.iter().all(|step| !step.contains("checks")),
            "the metrics read the checks: {plan:?}"
        );
        // The figures stay right as checks of each outcome are written.
        for (i, outcome) in ["http", "timeout", "http", "dns", "http", "timeout"]
            .into_iter()
            .enumerate()
        {
            let url = format!("http://h/{}", i % 2);
            let check = NewCheck {
                outcome,
                ..NewCheck::answered(&url, i as i64)
            };
            store.record_fetch(&url, "h", &check, None).unwrap();
        }
        let (counted, scanned) = counted_both_ways(&store);
        assert_eq!(counted, scanned);
        let want: BTreeMap<String, i64> = [
            ("dns".to_string(), 1),
            ("http".into(), 3),
            ("timeout".into(), 2),
        ]
        .into();
        assert_eq!(counted, want);
    }

    /// A store with checks before the counts were kept starts with what
    /// its checks count, and goes on counting.
    #[test]
    fn the_counts_of_an_older_store_start_from_its_checks() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("citewatch.db");
        let mut conn = rusqlite::Connection::open(&file).unwrap();
        super::super::schema::migrations()
            .to_version(&mut conn, 10)
            .unwrap();
        conn.execute_batch(
            "INSERT INTO sources (id, url, host, first_seen) VALUES (1, 'http://h/', 'h', 0);
             INSERT INTO checks (source_id, started_at, duration_ms, request_url, outcome, attempts)
             VALUES (1, 1, 1, 'http://h/', 'http', 1), (1, 2, 1, 'http://h/', 'tls', 1),
                    (1, 3, 1, 'http://h/', 'http', 1);",
        )
        .unwrap();
        drop(conn);
        let mut store = Store::open(&file).unwrap();
        let (counted, scanned) = counted_both_ways(&store);
        assert_eq!(counted, scanned);
        assert_eq!(counted.get("http"), Some(&2));
        store
            .record_fetch("http://h/", "h", &NewCheck::answered("http://h/", 4), None)
            .unwrap();
        let (counted, scanned) = counted_both_ways(&store);
        assert_eq!(counted, scanned);
        assert_eq!(counted.get("http"), Some(&3));
        // Checks are never changed or deleted; one done by hand is counted too.
        store
            .conn
            .execute_batch(
                "UPDATE checks SET outcome = 'timeout' WHERE started_at = 1;
                 DELETE FROM checks WHERE outcome = 'tls';",
            )
            .unwrap();
        let (counted, scanned) = counted_both_ways(&store);
        assert_eq!(counted, scanned);
        let want: BTreeMap<String, i64> = [("http".to_string(), 2), ("timeout".into(), 1)].into();
        assert_eq!(counted, want);
    }

    #[test]
    fn metrics_show_the_last_full_run_not_a_partial_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("citewatch.db")).unwrap();
        let full = store.start_run(1_000, 1).unwrap();
        store
            .finish_run(
                full,
                2_000,
                &serde_json::json!({"checked": 20000, "partial": false}),
            )
            .unwrap();
        let partial = store.start_run(3_000, 1).unwrap();
        store
            .finish_run(
                partial,
                4_000,
                &serde_json::json!({"checked": 1, "partial": true}),
            )
            .unwrap();
        let m = store.metrics_snapshot().unwrap();
        let last = m.last_completed_run.unwrap();
        assert_eq!(last.id, full);
        assert_eq!(last.summary.unwrap()["checked"], 20000);
    }
}
