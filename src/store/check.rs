//! The check's queries: runs, which sources are due, and the batched write of
//! checks with their verdicts.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::archive::{NewCapture, NewCheck, insert_fetch};
use super::{Result, Store};
use crate::time::Millis;

/// A source to check, with the state its verdict builds on.
#[derive(Debug, Clone)]
pub struct DueSource {
    /// Source id.
    pub id: i64,
    /// Normalised URL.
    pub url: String,
    /// Host.
    pub host: String,
    /// Current status name.
    pub status: String,
    /// Since when.
    pub status_since: Option<Millis>,
    /// Suspect name.
    pub suspect: Option<String>,
    /// Failure streak of one kind.
    pub consecutive_failures: u32,
    /// Streak start.
    pub failing_since: Option<Millis>,
    /// That streak's kind name.
    pub streak_kind: Option<String>,
    /// Failure streak of either kind.
    pub mixed_failures: u32,
    /// Its start.
    pub mixed_since: Option<Millis>,
    /// Unresolvable-host streak start.
    pub no_such_host_since: Option<Millis>,
    /// While blocked, the failure confirmed before the refusals (a status
    /// name).
    pub held_status: Option<String>,
    /// The baseline capture.
    pub baseline_capture_id: Option<i64>,
    /// The latest capture.
    pub latest_capture_id: Option<i64>,
}

/// Which sources a run takes.
#[derive(Debug, Clone, Default)]
pub struct DueFilter {
    /// Ignore due-ness.
    pub all: bool,
    /// Only these normalised URLs (due or not).
    pub urls: Vec<String>,
    /// Only this host, under any spelling of it (`a.example.`).
    pub host: Option<String>,
    /// Due when the next check time is at or before this.
    pub horizon: Millis,
}

/// The verdict and evidence written back to a source after a check.
#[derive(Debug, Clone)]
pub struct SourceUpdate<'a> {
    /// New status name.
    pub status: &'a str,
    /// Since when.
    pub status_since: Option<Millis>,
    /// Suspect name.
    pub suspect: Option<&'a str>,
    /// HTTP status of the check.
    pub http_status: Option<u16>,
    /// Final URL of the check.
    pub final_url: Option<&'a str>,
    /// Error kind (fetch outcome) for failures.
    pub error_kind: Option<&'a str>,
    /// Error detail.
    pub error_detail: Option<&'a str>,
    /// Similarity of the main text to the baseline.
    pub similarity: Option<f64>,
    /// Evidence in plain words.
    pub evidence: &'a str,
    /// Check time.
    pub last_checked: Millis,
    /// Next due time.
    pub next_check_at: Millis,
    /// Failure streak of one kind.
    pub consecutive_failures: u32,
    /// Streak start.
    pub failing_since: Option<Millis>,
    /// That streak's kind name.
    pub streak_kind: Option<&'a str>,
    /// Failure streak of either kind.
    pub mixed_failures: u32,
    /// Its start.
    pub mixed_since: Option<Millis>,
    /// Unresolvable-host streak start.
    pub no_such_host_since: Option<Millis>,
    /// While blocked, the failure confirmed before the refusals (a status
    /// name).
    pub held_status: Option<&'a str>,
    /// Make this check's capture the baseline (the first good one).
    pub capture_is_baseline: bool,
    /// This check says nothing about the page (its host was down for most of
    /// the run: an incident). The verdict's evidence (HTTP status, final URL,
    /// error, similarity and sentence) stays as it was, so a dead source still
    /// says why it is dead; a source never judged takes this check's sentence.
    /// The check itself keeps what happened, for `history`.
    pub verdict_stands: bool,
    /// A landing other cited articles are sent to as well: this source's
    /// captures taken there are disowned, no copy of the page cited, though
    /// checks may have judged them good before the others came.
    pub disown_landing: Option<Disowned<'a>>,
}

/// A source whose latest check was redirected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirected {
    /// The source's URL.
    pub url: String,
    /// Where the redirects ended.
    pub final_url: String,
    /// The latest check's redirect chain, JSON as stored; `None` without a check.
    pub hops: Option<String>,
}

/// Which captures of a source a removal by the landing rule disowns.
#[derive(Debug, Clone, Copy)]
pub struct Disowned<'a> {
    /// The landing. A capture that reached it under another spelling of its
    /// address (see [`crate::source_url::same_address`]) reached it too.
    pub landing: &'a str,
    /// Those judged `ok` or `moved` too: the copy cited was itself taken at
    /// the landing (or there is none), so no check compared them with the
    /// article. Otherwise they matched the copy cited when taken (a live blog
    /// that later became the hub others are sent to) and are kept.
    pub judged_good_too: bool,
}

/// One checked source, ready to write.
#[derive(Debug, Clone)]
pub struct CheckWrite<'a> {
    /// The source.
    pub source_id: i64,
    /// Its status before this check.
    pub old_status: &'a str,
    /// The check row.
    pub check: NewCheck<'a>,
    /// The capture row, if the check archived something.
    pub capture: Option<NewCapture<'a>>,
    /// The verdict.
    pub update: SourceUpdate<'a>,
    /// The baseline capture's reading, grown by fingerprints computed for
    /// this check: `(capture id, reading JSON)`.
    pub baseline_reading: Option<(i64, &'a str)>,
}

/// The columns every check writes to its source but the status (`?1` is
/// the source, `?2` its status); see [`KEEP_STATUS`].
macro_rules! verdict_columns {
    () => {
        "status_since = ?3, suspect = ?4,
         http_status = CASE WHEN ?18 THEN http_status ELSE ?5 END,
         final_url = CASE WHEN ?18 THEN final_url ELSE ?6 END,
         error_kind = CASE WHEN ?18 THEN error_kind ELSE ?7 END,
         error_detail = CASE WHEN ?18 THEN error_detail ELSE ?8 END,
         similarity = CASE WHEN ?18 THEN similarity ELSE ?9 END,
         evidence = CASE WHEN ?18 AND status != 'unchecked' THEN evidence ELSE ?10 END,
         last_checked = ?11,
         next_check_at = ?12, consecutive_failures = ?13, failing_since = ?14,
         no_such_host_since = ?15, streak_kind = ?19, mixed_failures = ?20,
         mixed_since = ?21, held_status = ?22,
         latest_capture_id = coalesce(?16, latest_capture_id),
         baseline_capture_id = CASE WHEN ?17 THEN coalesce(baseline_capture_id, ?16)
                                    ELSE baseline_capture_id END"
    };
}

/// A check's verdict for a source whose status it keeps. Naming `status`
/// in the SET list makes SQLite rewrite the status index's entry whether
/// or not the value changed, so most checks (a source keeps its status)
/// match it in the WHERE clause instead.
const KEEP_STATUS: &str = concat!(
    "UPDATE sources SET ",
    verdict_columns!(),
    " WHERE id = ?1 AND status = ?2"
);

/// A check's verdict for a source, its status included.
const SET_STATUS: &str = concat!(
    "UPDATE sources SET status = ?2, ",
    verdict_columns!(),
    " WHERE id = ?1"
);

/// A host incident to record with the checks it excuses.
#[derive(Debug, Clone)]
pub struct NewIncident {
    /// The host.
    pub host: String,
    /// When.
    pub at: Millis,
    /// The host's checks in the run.
    pub checks: usize,
    /// Of those, failures on the network.
    pub failures: usize,
    /// In words.
    pub detail: String,
}

/// A run as listed.
#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    /// Run id.
    pub id: i64,
    /// Start.
    pub started_at: Millis,
    /// End.
    pub finished_at: Option<Millis>,
    /// `running`, `completed`, `interrupted` (killed, or stopped by an error:
    /// then `finished_at` is set and the summary is `{"error": "…"}`).
    pub state: String,
    /// Summary JSON.
    pub summary: Option<serde_json::Value>,
}

/// What [`run_row`] reads, in its order: the run listings here and the
/// service's metrics read runs alike.
pub(super) const RUN_COLUMNS: &str = "id, started_at, finished_at, state, summary";

pub(super) fn run_row(r: &rusqlite::Row) -> rusqlite::Result<RunRow> {
    let summary: Option<String> = r.get(4)?;
    Ok(RunRow {
        id: r.get(0)?,
        started_at: r.get(1)?,
        finished_at: r.get(2)?,
        state: r.get(3)?,
        summary: summary.and_then(|s| serde_json::from_str(&s).ok()),
    })
}

impl Store {
    /// Starts a run; runs left `running` by a killed process become `interrupted`.
    ///
    /// Network failures a killed run held back (see
    /// [`Store::write_checks_holding`]) are dropped: their sources were
    /// never recorded, so they stay due and this run checks them again.
    pub fn start_run(&mut self, now: Millis, pid: u32) -> Result<i64> {
        let err = super::sqlite_error(&self.file);
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute("DELETE FROM held_checks", []).map_err(err)?;
        tx.execute(
            "UPDATE runs SET state = 'interrupted' WHERE state = 'running'",
            [],
        )
        .map_err(err)?;
        tx.execute(
            "INSERT INTO runs (started_at, pid) VALUES (?1, ?2)",
            params![now, pid],
        )
        .map_err(err)?;
        let id = tx.last_insert_rowid();
        tx.commit().map_err(err)?;
        Ok(id)
    }

    /// Marks a run completed with its summary.
    pub fn finish_run(&self, id: i64, now: Millis, summary: &serde_json::Value) -> Result<()> {
        self.conn
            .execute(
                "UPDATE runs SET state = 'completed', finished_at = ?2, summary = ?3 WHERE id = ?1",
                params![id, now, summary.to_string()],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// Marks a run that stopped on an error `interrupted`, with the error as
    /// its summary, so whoever started it (a timer, an API client) finds why
    /// in the store and not only in a log. Completed runs are left alone.
    pub fn fail_run(&self, id: i64, now: Millis, error: &str) -> Result<()> {
        self.conn
            .execute(
                "UPDATE runs SET state = 'interrupted', finished_at = ?2, summary = ?3
                 WHERE id = ?1 AND state = 'running'",
                params![id, now, serde_json::json!({ "error": error }).to_string()],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// Runs, newest first.
    pub fn runs(&self, limit: usize) -> Result<Vec<RunRow>> {
        self.run_rows("ORDER BY id DESC LIMIT ?1", limit as i64)
    }

    /// One run, if there is one by that id.
    pub fn run(&self, id: i64) -> Result<Option<RunRow>> {
        Ok(self.run_rows("WHERE id = ?1", id)?.pop())
    }

    fn run_rows(&self, tail: &str, arg: i64) -> Result<Vec<RunRow>> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {RUN_COLUMNS} FROM runs {tail}"))
            .map_err(self.err())?;
        let rows = stmt
            .query_map([arg], run_row)
            .map_err(self.err())?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    /// The sources due for a check, in the order they should be taken: never
    /// checked first, then failing ones (their confirmation waits), then the
    /// longest unchecked. Each is its id and its host's number (hosts numbered
    /// as they first appear, by [`crate::source_url::host_key`]), 16 bytes a source: a run holds this list for its
    /// whole length, and a store of a million sources must not hold a million
    /// source rows in memory. [`Store::due_source`] reads each when its turn comes.
    pub fn due_order(&self, f: &DueFilter) -> Result<Vec<(i64, u32)>> {
        let explicit = !f.urls.is_empty();
        // Sorted here rather than by SQLite, whose sorter copied every row's
        // columns into records and back: about 25 of the query's 40 ms for
        // 20,000 sources, before any fetch starts.
        let sql = format!(
            "SELECT s.id, s.host,
                    CASE s.status WHEN 'unchecked' THEN 0 WHEN 'failing' THEN 1 ELSE 2 END,
                    coalesce(s.last_checked, 0)
             FROM sources s
             WHERE {}
               AND (?2 IS NULL OR rtrim(lower(s.host), '.') = ?2)
               AND (?3 OR s.next_check_at IS NULL OR s.next_check_at <= ?1)",
            if explicit {
                "s.url IN (SELECT value FROM json_each(?4))"
            } else {
                // Only sources some active citation points at (and ?4 unused but
                // bound). The cited ids are listed once, in one pass over the
                // citations; a correlated EXISTS per source took twice as long
                // (60 ms against 33 for 20,000 sources), before any fetch starts.
                "(?4 IS NULL OR 1) AND s.id IN (SELECT c.source_id FROM documents d
                   JOIN briefings b ON b.document_id = d.id JOIN citations c ON c.briefing_id = b.id
                   WHERE d.withdrawn_at IS NULL)"
            }
        );
        let urls = serde_json::to_string(&f.urls).unwrap_or_else(|_| "[]".into());
        // The host under any spelling its sources recorded (`h.`, `H`).
        let host = f.host.as_deref().map(crate::source_url::host_key);
        let mut stmt = self.conn.prepare(&sql).map_err(self.err())?;
        let mut rows = stmt
            .query(params![f.horizon, host, f.all || explicit, urls])
            .map_err(self.err())?;
        let mut hosts: HashMap<String, u32> = HashMap::new();
        // (rank, last checked, id, host): ids are unique, so an unstable sort
        // gives the one order.
        let mut due: Vec<(u8, Millis, i64, u32)> = Vec::new();
        while let Some(r) = rows.next().map_err(self.err())? {
            let host = r
                .get_ref(1)
                .and_then(|v| Ok(v.as_str()?))
                .map_err(self.err())?;
            // `A.example.` is `a.example` written in capitals as an absolute
            // name: one host's turns, as pacing and `[fetch.hosts]` know it.
            let host = crate::source_url::host_key(host);
            let next = hosts.len() as u32;
            let host = match hosts.get(host.as_ref()) {
                Some(&n) => n,
                None => *hosts.entry(host.into_owned()).or_insert(next),
            };
            let rank: i64 = r.get(2).map_err(self.err())?;
            due.push((
                rank as u8,
                r.get(3).map_err(self.err())?,
                r.get(0).map_err(self.err())?,
                host,
            ));
        }
        due.sort_unstable();
        Ok(due.into_iter().map(|(_, _, id, host)| (id, host)).collect())
    }

    /// One due source's row, read when its turn comes; `None` if it is gone.
    pub fn due_source(&self, id: i64) -> Result<Option<DueSource>> {
        self.conn
            .prepare_cached(
                "SELECT id, url, host, status, status_since, suspect, consecutive_failures,
                        failing_since, no_such_host_since, baseline_capture_id, latest_capture_id,
                        streak_kind, mixed_failures, mixed_since, held_status
                 FROM sources WHERE id = ?1",
            )
            .map_err(self.err())?
            .query_row([id], |r| {
                Ok(DueSource {
                    id: r.get(0)?,
                    url: r.get(1)?,
                    host: r.get(2)?,
                    status: r.get(3)?,
                    status_since: r.get(4)?,
                    suspect: r.get(5)?,
                    consecutive_failures: r.get(6)?,
                    failing_since: r.get(7)?,
                    no_such_host_since: r.get(8)?,
                    baseline_capture_id: r.get(9)?,
                    latest_capture_id: r.get(10)?,
                    streak_kind: r.get(11)?,
                    mixed_failures: r.get(12)?,
                    mixed_since: r.get(13)?,
                    held_status: r.get(14)?,
                })
            })
            .optional()
            .map_err(self.err())
    }

    /// Every actively cited source whose latest check was redirected: its URL,
    /// where the redirects ended, and that check's redirect chain as stored
    /// (see `check::landing`). A source no longer cited is not checked again,
    /// so its landing would count for ever.
    pub fn redirected_sources(&self) -> Result<Vec<Redirected>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                // Asked per redirected source, through the citations'
                // index: few sources are, and listing every cited one first
                // cost a night's reader more memory than the answer.
                "SELECT s.url, s.final_url,
                        (SELECT k.hops FROM checks k WHERE k.source_id = s.id
                          ORDER BY k.started_at DESC, k.id DESC LIMIT 1)
                 FROM sources s
                 WHERE s.final_url IS NOT NULL AND s.final_url <> s.url
                   AND EXISTS (SELECT 1 FROM citations c
                     JOIN briefings b ON b.id = c.briefing_id
                     JOIN documents d ON d.id = b.document_id
                     WHERE c.source_id = s.id AND d.withdrawn_at IS NULL)",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Redirected {
                    url: r.get(0)?,
                    final_url: r.get(1)?,
                    hops: r.get(2)?,
                })
            })
            .map_err(self.err())?;
        rows.collect::<rusqlite::Result<_>>().map_err(self.err())
    }

    /// Writes checked sources in one transaction: blob rows, captures, checks,
    /// verdicts and status changes. Their blobs must be on disk already.
    pub fn write_checks(&mut self, run_id: i64, writes: &[CheckWrite]) -> Result<()> {
        self.write_checks_holding(run_id, writes, &[])
    }

    /// [`Store::write_checks`], with network failures held back for their
    /// host's incident rule (`(host, record)`, see [`Store::apply_held`])
    /// written in the same transaction: a run killed after it leaves them
    /// held, and the next run's start drops them, so their sources stay due.
    pub fn write_checks_holding(
        &mut self,
        run_id: i64,
        writes: &[CheckWrite],
        held: &[(&str, &str)],
    ) -> Result<()> {
        let err = super::sqlite_error(&self.file);
        let tx = self.conn.transaction().map_err(err)?;
        for (host, record) in held {
            tx.prepare_cached("INSERT INTO held_checks (host, record) VALUES (?1, ?2)")
                .and_then(|mut s| s.execute(params![host, record]))
                .map_err(err)?;
        }
        for w in writes {
            write_one(&tx, run_id, w).map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    /// The first host after `after` (in name order) with network failures
    /// held, and how many: one host at a time, so the run's end holds no
    /// list of them.
    pub fn next_held_host(&self, after: Option<&str>) -> Result<Option<(String, usize)>> {
        self.conn
            .query_row(
                "SELECT host, (SELECT count(*) FROM held_checks c WHERE c.host = h.host)
                 FROM (SELECT host FROM held_checks WHERE ?1 IS NULL OR host > ?1
                       ORDER BY host LIMIT 1) h",
                [after],
                |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as usize)),
            )
            .optional()
            .map_err(self.err())
    }

    /// Records the network failures held for `host` (see
    /// [`Store::write_checks_holding`]) and, when they are one, the host's
    /// incident, in one transaction that also deletes them: an incident is
    /// never written without the checks it excuses, nor a held check twice.
    /// Each record is read back a chunk at a time and made into a write by
    /// `decode` (`None`: left unrecorded, its source still due) and `write`.
    pub fn apply_held<T>(
        &mut self,
        run_id: i64,
        host: &str,
        incident: Option<&NewIncident>,
        mut decode: impl FnMut(&str) -> Option<T>,
        write: impl for<'t> Fn(&'t T) -> CheckWrite<'t>,
    ) -> Result<()> {
        /// Records read back at once: a host down all night may hold
        /// thousands.
        const CHUNK: i64 = 256;
        let err = super::sqlite_error(&self.file);
        let tx = self.conn.transaction().map_err(err)?;
        if let Some(i) = incident {
            tx.prepare_cached(
                "INSERT INTO host_incidents (run_id, host, at, checks, failures, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    run_id,
                    i.host,
                    i.at,
                    i.checks as i64,
                    i.failures as i64,
                    i.detail
                ])
            })
            .map_err(err)?;
        }
        let mut after = 0i64;
        loop {
            let chunk: Vec<(i64, String)> = tx
                .prepare_cached(
                    "SELECT id, record FROM held_checks WHERE host = ?1 AND id > ?2
                     ORDER BY id LIMIT ?3",
                )
                .and_then(|mut s| {
                    s.query_map(params![host, after, CHUNK], |r| Ok((r.get(0)?, r.get(1)?)))?
                        .collect()
                })
                .map_err(err)?;
            let Some(&(last, _)) = chunk.last() else {
                break;
            };
            after = last;
            for (_, record) in &chunk {
                if let Some(held) = decode(record) {
                    write_one(&tx, run_id, &write(&held)).map_err(err)?;
                }
            }
        }
        tx.prepare_cached("DELETE FROM held_checks WHERE host = ?1")
            .and_then(|mut s| s.execute([host]))
            .map_err(err)?;
        tx.commit().map_err(err)
    }
}

/// One check's rows (check, capture, verdict, status change) in `tx`.
fn write_one(tx: &rusqlite::Transaction, run_id: i64, w: &CheckWrite) -> rusqlite::Result<()> {
    let mut check = w.check.clone();
    check.run_id = Some(run_id);
    check.status_after = Some(w.update.status);
    check.evidence = Some(w.update.evidence);
    let (_, capture_id) = insert_fetch(tx, w.source_id, &check, w.capture.as_ref())?;
    let u = &w.update;
    let params = params![
        w.source_id,
        u.status,
        u.status_since,
        u.suspect,
        u.http_status,
        u.final_url,
        u.error_kind,
        u.error_detail,
        u.similarity,
        u.evidence,
        u.last_checked,
        u.next_check_at,
        u.consecutive_failures,
        u.failing_since,
        u.no_such_host_since,
        capture_id,
        u.capture_is_baseline,
        u.verdict_stands,
        u.streak_kind,
        u.mixed_failures,
        u.mixed_since,
        u.held_status
    ];
    // A row that turns out not to have the status it had when the
    // run read it (never expected) takes the full update.
    let kept = w.old_status == u.status
        && tx
            .prepare_cached(KEEP_STATUS)
            .and_then(|mut s| s.execute(params))?
            == 1;
    if !kept {
        tx.prepare_cached(SET_STATUS)
            .and_then(|mut s| s.execute(params))?;
    }
    if let Some(d) = u.disown_landing {
        // The landing as reached under any spelling (http or https,
        // `www.`, a slash, a fragment): SQL compares bytes, so the
        // source's few candidate captures are compared here.
        let candidates: Vec<(i64, String)> = tx
            .prepare_cached(
                "SELECT id, final_url FROM captures
                 WHERE source_id = ?1 AND disowned_at IS NULL
                   AND (?2 OR NOT EXISTS (SELECT 1 FROM checks k
                          WHERE k.source_id = ?1 AND k.capture_id = captures.id
                            AND k.status_after IN ('ok', 'moved')))",
            )
            .and_then(|mut s| {
                s.query_map(params![w.source_id, d.judged_good_too], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect()
            })?;
        // The landing's address once, each capture's against it.
        let landing = crate::source_url::address_key(d.landing);
        for (capture, final_url) in candidates {
            if landing.is_some() && crate::source_url::address_key(&final_url) == landing {
                tx.prepare_cached("UPDATE captures SET disowned_at = ?2 WHERE id = ?1")
                    .and_then(|mut s| s.execute(params![capture, u.last_checked]))?;
            }
        }
    }
    if let Some((capture, reading)) = w.baseline_reading {
        tx.prepare_cached("UPDATE captures SET reading = ?2 WHERE id = ?1")
            .and_then(|mut s| s.execute(params![capture, reading]))?;
    }
    if w.old_status != u.status {
        tx.prepare_cached(
            "INSERT INTO status_changes (source_id, run_id, at, old_status, new_status) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .and_then(|mut s| s.execute(params![w.source_id, run_id, u.last_checked, w.old_status, u.status]))
        ?;
    }
    Ok(())
}

impl Store {
    /// Whether the last whole run before `run_id` that checked any source on
    /// `host` recorded an incident for it: the outage has lasted a run
    /// already. `host` as [`crate::source_url::host_key`] spells it: sources
    /// and incidents are matched under any spelling of it (`A.example.`), as
    /// incidents group their checks. A partial run (`--url`, `--host`,
    /// `--limit`, or stopped on request) is passed over: an afternoon's
    /// `check --url` of one page of a host down since the night, too few
    /// failures for an incident, made the next night forgive the outage
    /// again, and a manual `--host` run's incident made the next night's
    /// count on the outage's first night.
    pub fn incident_in_previous_run(&self, host: &str, run_id: i64) -> Result<bool> {
        let host = crate::source_url::host_key(host);
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM host_incidents
                 WHERE rtrim(lower(host), '.') = ?1 AND run_id = (
                     SELECT max(c.run_id) FROM checks c JOIN sources s ON s.id = c.source_id
                     WHERE rtrim(lower(s.host), '.') = ?1 AND c.run_id < ?2
                       AND c.run_id NOT IN (SELECT id FROM runs
                             WHERE coalesce(json_extract(summary, '$.partial'), 0) != 0)))",
                params![host, run_id],
                |r| r.get(0),
            )
            .map_err(self.err())
    }

    /// Whether any source is on `host`, under any spelling of it (see
    /// [`crate::source_url::host_key`]), as [`Store::due_order`] filters.
    pub fn has_host(&self, host: &str) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sources WHERE rtrim(lower(host), '.') = ?1)",
                [crate::source_url::host_key(host)],
                |r| r.get(0),
            )
            .map_err(self.err())
    }

    /// Sources by status.
    pub fn sources_by_status(&self) -> Result<std::collections::BTreeMap<String, i64>> {
        let mut stmt = self
            .conn
            .prepare("SELECT status, count(*) FROM sources GROUP BY status")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(self.err())?
            .collect::<std::result::Result<_, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }
}

/// `{ "kind": …, "detail": … }`
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ErrorJson {
    /// Fetch outcome kind.
    pub kind: String,
    /// Detail.
    pub detail: String,
}

/// A source as `sources` and `status` show it. Every key is always present.
#[derive(Debug, Clone, Serialize)]
pub struct SourceRow {
    /// Source id.
    pub id: i64,
    /// Normalised URL.
    pub url: String,
    /// Status.
    pub status: String,
    /// Since when (RFC 3339).
    pub status_since: Option<String>,
    /// Where a failing source is heading.
    pub suspect: Option<String>,
    /// HTTP status of the last check.
    pub http_status: Option<u16>,
    /// Final URL of the last check.
    pub final_url: Option<String>,
    /// Error of the last check.
    pub error: Option<ErrorJson>,
    /// Evidence in plain words.
    pub evidence: Option<String>,
    /// Similarity of the main text to the baseline.
    pub similarity: Option<f64>,
    /// Last check (RFC 3339).
    pub last_checked: Option<String>,
    /// Next due (RFC 3339).
    pub next_check: Option<String>,
    /// Failing checks since the last good one, of either kind (the mixed
    /// streak, which holds the streak of one kind): what "consecutive
    /// failures" means to a reader, whatever the verdict counts.
    pub consecutive_failures: u32,
    /// Active citations of it.
    pub citations: i64,
    /// The baseline capture (what was cited).
    pub baseline_capture_id: Option<i64>,
    /// The latest capture.
    pub latest_capture_id: Option<i64>,
}

/// Column 17 is the host, read only by the server's listing.
/// A source as people and scripts see it. `suspect` only for `failing`: the
/// verdict keeps it while a confirmed failure persists (where the next
/// failures head), but shown beside `dead` it read as a second verdict, and
/// the report shows none there.
pub(super) const SOURCE_SQL: &str = "SELECT s.id, s.url, s.status, s.status_since,
        CASE WHEN s.status = 'failing' THEN s.suspect END, s.http_status, s.final_url,
        s.error_kind, s.error_detail, s.evidence, s.similarity, s.last_checked, s.next_check_at,
        max(s.consecutive_failures, s.mixed_failures),
        (SELECT count(*) FROM citations c JOIN briefings b ON b.id = c.briefing_id JOIN documents d ON d.id = b.document_id
          WHERE c.source_id = s.id AND d.withdrawn_at IS NULL),
        s.baseline_capture_id, s.latest_capture_id, s.host
   FROM sources s";

pub(super) fn source_row(r: &rusqlite::Row) -> rusqlite::Result<SourceRow> {
    let t = |v: Option<Millis>| v.map(crate::time::format_millis);
    let kind: Option<String> = r.get(7)?;
    let detail: Option<String> = r.get(8)?;
    Ok(SourceRow {
        id: r.get(0)?,
        url: r.get(1)?,
        status: r.get(2)?,
        status_since: t(r.get(3)?),
        suspect: r.get(4)?,
        http_status: r.get(5)?,
        final_url: r.get(6)?,
        error: kind.map(|kind| ErrorJson {
            kind,
            detail: detail.unwrap_or_default(),
        }),
        evidence: r.get(9)?,
        similarity: r.get(10)?,
        last_checked: t(r.get(11)?),
        next_check: t(r.get(12)?),
        consecutive_failures: r.get(13)?,
        citations: r.get(14)?,
        baseline_capture_id: r.get(15)?,
        latest_capture_id: r.get(16)?,
    })
}

impl Store {
    /// Sources, optionally only those with one of `statuses`, by URL. Held
    /// whole: for a small store (`demo`); `sources` streams them through
    /// [`Store::for_each_source`].
    pub fn sources(&self, statuses: Option<&[String]>) -> Result<Vec<SourceRow>> {
        let mut rows = Vec::new();
        self.for_each_source(statuses, false, |row| {
            rows.push(row);
            Ok::<_, super::StoreError>(())
        })?;
        Ok(rows)
    }

    /// [`Store::sources`], handed to `each` one at a time, in the same order:
    /// a listing of hundreds of thousands of sources need not be held whole.
    /// `cited_only` leaves out the sources no document still in the briefing
    /// store cites (those only withdrawn documents cited, or none): they keep
    /// their last verdict, but the report counts no citation of them.
    pub fn for_each_source<E: From<super::StoreError>>(
        &self,
        statuses: Option<&[String]>,
        cited_only: bool,
        mut each: impl FnMut(SourceRow) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let sql = format!(
            "{SOURCE_SQL} WHERE (?1 IS NULL OR s.status IN (SELECT value FROM json_each(?1)))
               AND (NOT ?2 OR EXISTS (SELECT 1 FROM citations c
                      JOIN briefings b ON b.id = c.briefing_id JOIN documents d ON d.id = b.document_id
                      WHERE c.source_id = s.id AND d.withdrawn_at IS NULL))
             ORDER BY s.url"
        );
        let filter = statuses.map(|s| serde_json::to_string(s).unwrap_or_else(|_| "[]".into()));
        let mut stmt = self.conn.prepare(&sql).map_err(self.err())?;
        let mut rows = stmt
            .query(rusqlite::params![filter, cited_only])
            .map_err(self.err())?;
        while let Some(r) = rows.next().map_err(self.err())? {
            each(source_row(r).map_err(self.err())?)?;
        }
        Ok(())
    }

    /// One source by normalised URL.
    pub fn source(&self, url: &str) -> Result<Option<SourceRow>> {
        let sql = format!("{SOURCE_SQL} WHERE s.url = ?1");
        self.conn
            .query_row(&sql, [url], source_row)
            .optional()
            .map_err(self.err())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sources cited by documents `(withdrawn, cited source names)`, plus one
    /// that no citation names.
    fn store_citing(docs: &[(bool, &[&str])]) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("citewatch.db")).unwrap();
        let sql = |q: &str, p: &[&dyn rusqlite::ToSql]| store.conn.execute(q, p).unwrap();
        for name in ["a", "b", "c", "uncited"] {
            sql(
                "INSERT INTO sources (url, host, first_seen) VALUES (?1, 'h', 0)",
                &[&format!("http://h/{name}")],
            );
        }
        for (n, (withdrawn, cited)) in docs.iter().enumerate() {
            let withdrawn_at = withdrawn.then_some(1i64);
            sql(
                "INSERT INTO documents (root, path, format, sha256, size, encoding, first_seen, synced_at, withdrawn_at)
                 VALUES ('r', ?1, 'txt', '', 0, 'utf-8', 0, 0, ?2)",
                &[&format!("d{n}"), &withdrawn_at],
            );
            let doc = store.conn.last_insert_rowid();
            sql(
                "INSERT INTO briefings (document_id, ordinal, title) VALUES (?1, 0, 't')",
                &[&doc],
            );
            let item = store.conn.last_insert_rowid();
            for (k, name) in cited.iter().enumerate() {
                sql(
                    "INSERT INTO citations (briefing_id, ordinal, origin, url, source_id)
                     SELECT ?1, ?2, 'source_line', url, id FROM sources WHERE url = ?3",
                    &[&item, &(k as i64), &format!("http://h/{name}")],
                );
            }
        }
        (dir, store)
    }

    /// A check's verdict as the writer gives it, for source `url`.
    fn verdict<'a>(
        store: &Store,
        url: &'a str,
        old_status: &'a str,
        status: &'a str,
        at: Millis,
    ) -> CheckWrite<'a> {
        let source_id = store
            .conn
            .query_row("SELECT id FROM sources WHERE url = ?1", [url], |r| r.get(0))
            .unwrap();
        verdict_of(source_id, url, old_status, status, at)
    }

    /// [`verdict`] for the source by its id.
    fn verdict_of<'a>(
        source_id: i64,
        url: &'a str,
        old_status: &'a str,
        status: &'a str,
        at: Millis,
    ) -> CheckWrite<'a> {
        CheckWrite {
            source_id,
            old_status,
            check: NewCheck::answered(url, at),
            capture: None,
            update: SourceUpdate {
                status,
                status_since: Some(at),
                suspect: None,
                http_status: Some(200),
                final_url: Some(url),
                error_kind: None,
                error_detail: None,
                similarity: None,
                evidence: "seen",
                last_checked: at,
                next_check_at: at + 1_000,
                consecutive_failures: 0,
                failing_since: None,
                streak_kind: None,
                mixed_failures: 0,
                mixed_since: None,
                no_such_host_since: None,
                held_status: None,
                capture_is_baseline: false,
                verdict_stands: false,
                disown_landing: None,
            },
            baseline_reading: None,
        }
    }

    /// A status kept is written without naming it (see `KEEP_STATUS`), a
    /// status changed with it; either way the rest of the verdict is written,
    /// and a row whose status is not the one the run read (not expected)
    /// still ends with the new one.
    #[test]
    fn a_verdict_is_written_whether_the_status_is_kept_changed_or_misread() {
        let (_dir, mut store) = store_citing(&[(false, &["a", "b", "c"])]);
        let run = store.start_run(1, 1).unwrap();
        let row = |store: &Store, url: &str| -> (String, Option<Millis>, Option<Millis>) {
            store
                .conn
                .query_row(
                    "SELECT status, last_checked, next_check_at FROM sources WHERE url = ?1",
                    [url],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .unwrap()
        };
        let w = verdict(&store, "http://h/a", "unchecked", "ok", 10);
        store.write_checks(run, &[w]).unwrap();
        assert_eq!(
            row(&store, "http://h/a"),
            ("ok".into(), Some(10), Some(1_010))
        );
        let w = verdict(&store, "http://h/a", "ok", "ok", 20);
        store.write_checks(run, &[w]).unwrap();
        assert_eq!(
            row(&store, "http://h/a"),
            ("ok".into(), Some(20), Some(1_020))
        );
        // "b" is unchecked in the store, though the run says it was ok.
        let w = verdict(&store, "http://h/b", "ok", "ok", 30);
        store.write_checks(run, &[w]).unwrap();
        assert_eq!(
            row(&store, "http://h/b"),
            ("ok".into(), Some(30), Some(1_030))
        );
        let changes: i64 = store
            .conn
            .query_row("SELECT count(*) FROM status_changes", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            changes, 1,
            "only a's first check changed its status as the run saw it"
        );
    }

    /// The streak of one kind, its kind and the mixed streak are written
    /// with each verdict and read back as the next run reads them: lost, a
    /// page answering 404 and 503 by turns was never confirmed.
    #[test]
    fn a_failing_streak_is_read_back_whole() {
        let (_dir, mut store) = store_citing(&[(false, &["a"])]);
        let run = store.start_run(1, 1).unwrap();
        for (old, status, at) in [("unchecked", "failing", 10), ("failing", "failing", 20)] {
            let mut w = verdict(&store, "http://h/a", old, status, at);
            w.update.suspect = Some("unreachable");
            w.update.consecutive_failures = 1;
            w.update.failing_since = Some(at);
            w.update.streak_kind = Some("removed");
            w.update.mixed_failures = 2;
            w.update.mixed_since = Some(5);
            let w_source_id = w.source_id;
            store.write_checks(run, &[w]).unwrap();
            let d = store.due_source(w_source_id).unwrap().unwrap();
            assert_eq!(
                (
                    d.suspect.as_deref(),
                    d.consecutive_failures,
                    d.failing_since,
                    d.streak_kind.as_deref(),
                    d.mixed_failures,
                    d.mixed_since
                ),
                (
                    Some("unreachable"),
                    1,
                    Some(at),
                    Some("removed"),
                    2,
                    Some(5)
                ),
                "{old} -> {status}"
            );
        }
    }

    /// A store made before the mixed streak was kept: a streak under way
    /// goes on as the streak of one kind it was, of its suspect's kind.
    #[test]
    fn a_streak_under_way_survives_the_migration() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("citewatch.db");
        let mut conn = rusqlite::Connection::open(&file).unwrap();
        super::super::schema::migrations()
            .to_version(&mut conn, 8)
            .unwrap();
        for (url, suspect, failures, no_such_host_since) in [
            ("http://h/404", Some("dead"), 2, None),
            ("http://h/soft", Some("soft_404"), 1, None),
            ("http://h/503", Some("unreachable"), 3, None),
            ("http://h/nxdomain", Some("dead"), 2, Some(7i64)),
            ("http://h/ok", None, 0, None),
        ] {
            conn.execute(
                "INSERT INTO sources (url, host, first_seen, status, suspect,
                                      consecutive_failures, failing_since, no_such_host_since)
                 VALUES (?1, 'h', 0, 'failing', ?2, ?3, CASE WHEN ?3 > 0 THEN 5 END, ?4)",
                params![url, suspect, failures, no_such_host_since],
            )
            .unwrap();
        }
        drop(conn);
        let store = Store::open(&file).unwrap();
        let streak = |url: &str| -> (Option<String>, u32, Option<Millis>) {
            store
                .conn
                .query_row(
                    "SELECT streak_kind, mixed_failures, mixed_since FROM sources WHERE url = ?1",
                    [url],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .unwrap()
        };
        assert_eq!(streak("http://h/404"), (Some("removed".into()), 2, Some(5)));
        assert_eq!(
            streak("http://h/soft"),
            (Some("removed".into()), 1, Some(5))
        );
        assert_eq!(streak("http://h/503"), (Some("network".into()), 3, Some(5)));
        assert_eq!(
            streak("http://h/nxdomain"),
            (Some("network".into()), 2, Some(5))
        );
        assert_eq!(streak("http://h/ok"), (None, 0, None));
    }

    /// The failure confirmed before a refusal is written with the refusal's
    /// verdict and read back as the next check builds on it: lost, a dead
    /// page refused once and then timing out once was `unreachable` at once.
    /// A failure after the refusals writes none, and none is read back.
    #[test]
    fn a_status_held_through_refusals_is_read_back() {
        use crate::check::verdict::{Confirmation, Signal, Status, decide};
        let (_dir, mut store) = store_citing(&[(false, &["a"])]);
        let run = store.start_run(1, 1).unwrap();
        let c = Confirmation::default();
        let id: i64 = store
            .conn
            .query_row("SELECT id FROM sources WHERE url = 'http://h/a'", [], |r| {
                r.get(0)
            })
            .unwrap();
        // Each verdict as the run writes it, read back as the next check
        // reads it.
        let check = |store: &mut Store, signal: Signal, at: Millis| {
            let due = store.due_source(id).unwrap().unwrap();
            let prev = crate::check::state_of(&due);
            let next = decide(&prev, signal, at, &c);
            let mut w = verdict(store, "http://h/a", &due.status, next.status.name(), at);
            w.update.status_since = next.since;
            w.update.suspect = next.suspect.map(|s| s.name());
            w.update.consecutive_failures = next.consecutive_failures;
            w.update.failing_since = next.failing_since;
            w.update.streak_kind = next.streak_kind.map(|k| k.name());
            w.update.mixed_failures = next.mixed_failures;
            w.update.mixed_since = next.mixed_since;
            w.update.no_such_host_since = next.no_such_host_since;
            w.update.held_status = next.held_status.map(Status::name);
            store.write_checks(run, &[w]).unwrap();
            let read = crate::check::state_of(&store.due_source(id).unwrap().unwrap());
            assert_eq!(read, next, "{signal:?} at {at}");
            read
        };
        const D: Millis = 86_400_000;
        check(&mut store, Signal::Gone, 0);
        let s = check(&mut store, Signal::Blocked, D);
        assert_eq!(s.held_status, Some(Status::Dead));
        let held: Option<String> = store
            .conn
            .query_row("SELECT held_status FROM sources WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(held.as_deref(), Some("dead"), "stored by its name");
        let s = check(&mut store, Signal::Unreachable, 2 * D);
        assert_eq!((s.status, s.held_status), (Status::Dead, None));
    }

    /// A store made before the status held through refusals was kept: a
    /// source refused now, its streak held, takes the status its latest
    /// change to `blocked` left, when that was a confirmed failure; any
    /// other keeps none.
    #[test]
    fn a_refusal_under_way_holds_the_failure_before_it_after_the_migration() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("citewatch.db");
        let mut conn = rusqlite::Connection::open(&file).unwrap();
        super::super::schema::migrations()
            .to_version(&mut conn, 9)
            .unwrap();
        // A status change, from and to.
        type Change<'a> = (&'a str, &'a str);
        // (url, status now, failures held, its changes in order)
        let rows: [(&str, &str, u32, &[Change]); 7] = [
            (
                "http://h/dead",
                "blocked",
                3,
                &[("failing", "dead"), ("dead", "blocked")],
            ),
            ("http://h/soft", "blocked", 3, &[("soft_404", "blocked")]),
            // Refused before, dead between, refused again: the latest counts.
            (
                "http://h/again",
                "blocked",
                4,
                &[
                    ("failing", "blocked"),
                    ("blocked", "unreachable"),
                    ("unreachable", "blocked"),
                ],
            ),
            ("http://h/failing", "blocked", 1, &[("failing", "blocked")]),
            // No streak held: a good check came between (not expected of a
            // blocked row, but nothing to hold).
            ("http://h/reset", "blocked", 0, &[("dead", "blocked")]),
            (
                "http://h/not-refused",
                "dead",
                3,
                &[("dead", "blocked"), ("blocked", "dead")],
            ),
            ("http://h/no-history", "blocked", 2, &[]),
        ];
        for (url, status, failures, changes) in rows {
            conn.execute(
                "INSERT INTO sources (url, host, first_seen, status, consecutive_failures,
                                      failing_since, mixed_failures, mixed_since)
                 VALUES (?1, 'h', 0, ?2, ?3, CASE WHEN ?3 > 0 THEN 5 END, ?3,
                         CASE WHEN ?3 > 0 THEN 5 END)",
                params![url, status, failures],
            )
            .unwrap();
            let id = conn.last_insert_rowid();
            for (at, (old, new)) in changes.iter().enumerate() {
                conn.execute(
                    "INSERT INTO status_changes (source_id, at, old_status, new_status)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![id, at as i64, old, new],
                )
                .unwrap();
            }
        }
        drop(conn);
        let store = Store::open(&file).unwrap();
        let held = |url: &str| -> Option<String> {
            let id: i64 = store
                .conn
                .query_row("SELECT id FROM sources WHERE url = ?1", [url], |r| r.get(0))
                .unwrap();
            store.due_source(id).unwrap().unwrap().held_status
        };
        assert_eq!(held("http://h/dead").as_deref(), Some("dead"));
        assert_eq!(held("http://h/soft").as_deref(), Some("soft_404"));
        assert_eq!(held("http://h/again").as_deref(), Some("unreachable"));
        for url in [
            "http://h/failing",
            "http://h/reset",
            "http://h/not-refused",
            "http://h/no-history",
        ] {
            assert_eq!(held(url), None, "{url}");
        }
    }

    /// The due sources' URL paths, in order, each read as a run reads it.
    fn urls_in_order(store: &Store, filter: &DueFilter) -> Vec<String> {
        store
            .due_order(filter)
            .unwrap()
            .into_iter()
            .map(|(id, _)| {
                let d = store.due_source(id).unwrap().unwrap();
                assert_eq!(d.id, id);
                d.url.trim_start_matches("http://h/").to_string()
            })
            .collect()
    }

    fn due(store: &Store, urls: &[&str]) -> Vec<String> {
        let filter = DueFilter {
            all: true,
            urls: urls.iter().map(|u| format!("http://h/{u}")).collect(),
            host: None,
            horizon: 0,
        };
        let mut got: Vec<String> = urls_in_order(store, &filter);
        got.sort();
        got
    }

    #[test]
    fn due_sources_come_never_checked_first_then_failing_then_the_longest_unchecked() {
        let (_dir, store) = store_citing(&[(false, &["a", "b", "c", "uncited"])]);
        let set = |name: &str, status: &str, last: Option<i64>| {
            store
                .conn
                .execute(
                    "UPDATE sources SET status = ?2, last_checked = ?3 WHERE url = ?1",
                    rusqlite::params![format!("http://h/{name}"), status, last],
                )
                .unwrap();
        };
        set("a", "ok", Some(50));
        set("b", "ok", Some(10));
        set("c", "failing", Some(99));
        set("uncited", "unchecked", None);
        let filter = DueFilter {
            all: true,
            urls: Vec::new(),
            host: None,
            horizon: 0,
        };
        assert_eq!(urls_in_order(&store, &filter), ["uncited", "c", "b", "a"]);
    }

    /// `h.` is `h` written as an absolute name: one host, so one host's
    /// turns in the run's order and one share of its window, as pacing and
    /// `[fetch.hosts]` know it.
    #[test]
    fn a_host_written_with_a_trailing_dot_takes_its_turns_as_itself() {
        let (_dir, store) = store_citing(&[(false, &["a", "b", "c"])]);
        store
            .conn
            .execute(
                "UPDATE sources SET host = 'h.' WHERE url = 'http://h/b'",
                [],
            )
            .unwrap();
        store
            .conn
            .execute(
                "UPDATE sources SET host = 'other' WHERE url = 'http://h/c'",
                [],
            )
            .unwrap();
        let filter = DueFilter {
            all: true,
            urls: Vec::new(),
            host: None,
            horizon: 0,
        };
        let order = store.due_order(&filter).unwrap();
        let host_of = |name: &str| {
            let id: i64 = store
                .conn
                .query_row(
                    "SELECT id FROM sources WHERE url = ?1",
                    [format!("http://h/{name}")],
                    |r| r.get(0),
                )
                .unwrap();
            order.iter().find(|(i, _)| *i == id).unwrap().1
        };
        assert_eq!(host_of("a"), host_of("b"));
        assert_ne!(host_of("a"), host_of("c"));
    }

    /// `check --host h` (the name as `source_url::host_as_given` takes
    /// it) is every source on the host, under any spelling its URL
    /// recorded: `h.` was no source on `h`, and could not be named at all.
    #[test]
    fn a_host_filter_takes_the_host_under_any_spelling() {
        let (_dir, store) = store_citing(&[(false, &["a", "b", "c"])]);
        let sql = |q: &str| store.conn.execute(q, []).unwrap();
        sql("UPDATE sources SET host = 'h.' WHERE url = 'http://h/b'");
        sql("UPDATE sources SET host = 'H' WHERE url = 'http://h/c'");
        sql("UPDATE sources SET host = 'other.' WHERE url = 'http://h/a'");
        let on = |host: &str| {
            let mut got = urls_in_order(
                &store,
                &DueFilter {
                    all: true,
                    urls: Vec::new(),
                    host: Some(host.into()),
                    horizon: 0,
                },
            );
            got.sort();
            got
        };
        assert_eq!(on("h"), ["b", "c"]);
        assert_eq!(on("other"), ["a"]);
        assert!(store.has_host("other").unwrap());
        assert!(store.has_host("h").unwrap());
        assert!(!store.has_host("nowhere").unwrap());
    }

    /// An incident is recorded under the host as incidents group it (see
    /// `source_url::host_key`); the next run asks for it the same way, and
    /// finds it whichever spelling its sources record, or older incidents
    /// were recorded under.
    #[test]
    fn an_incident_is_found_under_any_spelling_of_its_host() {
        let (_dir, store) = store_citing(&[(false, &["a", "b"])]);
        let sql = |q: &str| store.conn.execute(q, []).unwrap();
        sql("UPDATE sources SET host = 'H.' WHERE url = 'http://h/a'");
        sql("UPDATE sources SET host = 'other' WHERE url = 'http://h/b'");
        sql(
            "INSERT INTO runs (id, started_at, state) VALUES (1, 0, 'completed'), (2, 1, 'completed'), (3, 2, 'completed')",
        );
        sql("INSERT INTO checks (source_id, started_at, duration_ms, request_url, outcome, hops, attempts, run_id)
             SELECT id, 0, 1, url, 'timeout', '[]', 1, 1 FROM sources WHERE url IN ('http://h/a', 'http://h/b')");
        sql("INSERT INTO checks (source_id, started_at, duration_ms, request_url, outcome, hops, attempts, run_id)
             SELECT id, 1, 1, url, 'timeout', '[]', 1, 2 FROM sources WHERE url = 'http://h/b'");
        sql(
            "INSERT INTO host_incidents (run_id, host, at, checks, failures, detail)
             VALUES (1, 'h', 0, 5, 5, 'd'), (2, 'OTHER.', 1, 5, 5, 'd')",
        );
        for host in ["h", "H.", "h."] {
            assert!(store.incident_in_previous_run(host, 3).unwrap(), "{host}");
        }
        assert!(store.incident_in_previous_run("other", 3).unwrap());
        assert!(!store.incident_in_previous_run("h", 1).unwrap());
        assert!(!store.incident_in_previous_run("nowhere", 3).unwrap());
    }

    /// A partial run between two nights is passed over both ways: one that
    /// checked a page of the host without an incident does not make the
    /// outage new again, and one that recorded an incident does not make it
    /// a lasting one.
    #[test]
    fn a_partial_run_is_not_the_previous_run_of_an_incident() {
        let (_dir, store) = store_citing(&[(false, &["a", "b"])]);
        let sql = |q: &str| store.conn.execute(q, []).unwrap();
        sql(r#"INSERT INTO runs (id, started_at, state, summary) VALUES
                 (1, 0, 'completed', '{"partial": false}'),
                 (2, 1, 'completed', '{"partial": true}'),
                 (3, 2, 'completed', '{"partial": true}'),
                 (4, 3, 'completed', '{"partial": false}')"#);
        sql("INSERT INTO checks (source_id, started_at, duration_ms, request_url, outcome, hops, attempts, run_id)
             SELECT s.id, run.id, 1, s.url, 'timeout', '[]', 1, run.id FROM sources s, runs run
              WHERE s.url = 'http://h/a' AND run.id IN (1, 2)");
        sql("INSERT INTO checks (source_id, started_at, duration_ms, request_url, outcome, hops, attempts, run_id)
             SELECT id, 2, 1, url, 'timeout', '[]', 1, 3 FROM sources WHERE url = 'http://h/b'");
        // Night 1 was an incident; run 2 (`check --url`) was not.
        sql(
            "INSERT INTO host_incidents (run_id, host, at, checks, failures, detail)
             VALUES (1, 'h', 0, 5, 5, 'd')",
        );
        assert!(store.incident_in_previous_run("h", 4).unwrap());
        // Run 3 (`check --host h`) was an incident, night 1 not.
        sql("DELETE FROM host_incidents");
        sql(
            "INSERT INTO host_incidents (run_id, host, at, checks, failures, detail)
             VALUES (3, 'h', 2, 5, 5, 'd')",
        );
        assert!(!store.incident_in_previous_run("h", 4).unwrap());
    }

    /// The run's end asks, for each failing host, whether its previous run
    /// was an incident: through the host's sources by the index on their
    /// host as `host_key` spells it, not a scan of every source per host.
    #[test]
    fn the_previous_incident_is_looked_up_through_the_host_index() {
        let (_dir, store) = store_citing(&[(false, &["a"])]);
        let plan: Vec<String> = store
            .conn
            .prepare(
                "EXPLAIN QUERY PLAN
                 SELECT max(c.run_id) FROM checks c JOIN sources s ON s.id = c.source_id
                 WHERE rtrim(lower(s.host), '.') = ?1 AND c.run_id < ?2",
            )
            .unwrap()
            .query_map(params!["h", 3], |r| r.get::<_, String>(3))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert!(
            plan.iter().any(|p| p.contains("INDEX sources_host_key")),
            "{plan:?}"
        );
        assert!(!plan.iter().any(|p| p.starts_with("SCAN")), "{plan:?}");
    }

    /// Held failures are written with their batch, recorded with their
    /// host's incident in one transaction that deletes them, and dropped
    /// by the next run's start when a killed run left them: their sources
    /// were never recorded, so they stay due.
    #[test]
    fn held_checks_are_recorded_once_with_their_incident_or_dropped_at_the_next_start() {
        let (_dir, mut store) = store_citing(&[(false, &["a", "b", "c"])]);
        let count = |store: &Store, sql: &str| -> i64 {
            store.conn.query_row(sql, [], |r| r.get(0)).unwrap()
        };
        let run = store.start_run(1, 1).unwrap();
        let ok = verdict(&store, "http://h/c", "unchecked", "ok", 10);
        store
            .write_checks_holding(
                run,
                &[ok],
                &[
                    ("h", "1 http://h/a"),
                    ("h", "2 http://h/b"),
                    ("g", "0 none"),
                ],
            )
            .unwrap();
        assert_eq!(count(&store, "SELECT count(*) FROM held_checks"), 3);
        assert_eq!(count(&store, "SELECT count(*) FROM checks"), 1);
        assert_eq!(store.next_held_host(None).unwrap(), Some(("g".into(), 1)));
        assert_eq!(
            store.next_held_host(Some("g")).unwrap(),
            Some(("h".into(), 2))
        );
        assert_eq!(store.next_held_host(Some("h")).unwrap(), None);
        // A killed run: the next start drops what it held.
        let next = store.start_run(2, 1).unwrap();
        assert_eq!(count(&store, "SELECT count(*) FROM held_checks"), 0);
        assert_eq!(store.next_held_host(None).unwrap(), None);
        store
            .write_checks_holding(next, &[], &[("h", "1 http://h/a"), ("h", "2 http://h/b")])
            .unwrap();
        let incident = NewIncident {
            host: "h".into(),
            at: 20,
            checks: 2,
            failures: 2,
            detail: "down".into(),
        };
        let mut seen = Vec::new();
        store
            .apply_held(
                next,
                "h",
                Some(&incident),
                |record| {
                    seen.push(record.to_string());
                    let (id, url) = record.split_once(' ')?;
                    Some((id.parse::<i64>().ok()?, url.to_string()))
                },
                |(id, url): &(i64, String)| verdict_of(*id, url, "unchecked", "unchecked", 20),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(seen, ["1 http://h/a", "2 http://h/b"]);
        assert_eq!(count(&store, "SELECT count(*) FROM held_checks"), 0);
        assert_eq!(
            count(
                &store,
                "SELECT count(*) FROM checks WHERE run_id = 2 AND evidence = 'seen'"
            ),
            2
        );
        assert_eq!(
            count(
                &store,
                "SELECT count(*) FROM host_incidents WHERE run_id = 2"
            ),
            1
        );
    }

    #[test]
    fn only_sources_an_active_document_cites_are_due() {
        // `a` only in a withdrawn document, `b` in both, `c` in the active one.
        let (_dir, store) = store_citing(&[(true, &["a", "b"]), (false, &["b", "c", "c"])]);
        assert_eq!(due(&store, &[]), ["b", "c"]);
        // Named on the command line, any source is checked.
        assert_eq!(due(&store, &["a", "uncited"]), ["a", "uncited"]);
    }

    #[test]
    fn only_actively_cited_redirected_sources_seed_the_landings() {
        // `a` only in a withdrawn document, `b` in both, `c` in the active one.
        let (_dir, store) = store_citing(&[(true, &["a", "b"]), (false, &["b", "c", "d"])]);
        for (name, to) in [
            ("a", "http://h/expired"),
            ("b", "http://h/expired"),
            ("c", "http://h/c"),
            ("uncited", "http://h/expired"),
        ] {
            store
                .conn
                .execute(
                    "UPDATE sources SET final_url = ?2 WHERE url = ?1",
                    rusqlite::params![format!("http://h/{name}"), to],
                )
                .unwrap();
        }
        let hops = r#"[{"url":"http://h/b","status":301,"location":"/expired","resolved":"http://h/expired"}]"#;
        store
            .conn
            .execute(
                "INSERT INTO checks (source_id, started_at, duration_ms, request_url, final_url, outcome, hops, attempts)
                 SELECT id, ?2, 1, url, 'http://h/expired', 'http', ?3, 1 FROM sources WHERE url = ?1",
                rusqlite::params!["http://h/b", 5, "[]"],
            )
            .unwrap();
        store
            .conn
            .execute(
                "INSERT INTO checks (source_id, started_at, duration_ms, request_url, final_url, outcome, hops, attempts)
                 SELECT id, ?2, 1, url, 'http://h/expired', 'http', ?3, 1 FROM sources WHERE url = ?1",
                rusqlite::params!["http://h/b", 9, hops],
            )
            .unwrap();
        // The latest check's chain comes with it.
        assert_eq!(
            store.redirected_sources().unwrap(),
            [Redirected {
                url: "http://h/b".into(),
                final_url: "http://h/expired".into(),
                hops: Some(hops.into()),
            }]
        );
    }
}
