//! Direct bulk writes for benchmarks and fixtures: a store of a million
//! citations with verdicts, captures and history in one transaction, without
//! running a million fetches. Not used by any command.

use rusqlite::{Transaction, params};

use super::{Result, Store, StoreError};
use crate::check::verdict::{self, Evidence, Status, Suspect};
use crate::time::Millis;

/// A source with its verdict, written as the check would have left it.
#[derive(Debug, Clone, Default)]
pub struct BulkSource<'a> {
    /// Normalised URL.
    pub url: &'a str,
    /// Host.
    pub host: &'a str,
    /// Status name.
    pub status: &'a str,
    /// Since when.
    pub status_since: Option<Millis>,
    /// Suspect, for failing sources.
    pub suspect: Option<&'a str>,
    /// HTTP status of the last check.
    pub http_status: Option<u16>,
    /// Final URL of the last check.
    pub final_url: Option<&'a str>,
    /// Error kind of the last check.
    pub error_kind: Option<&'a str>,
    /// Evidence in words.
    pub evidence: Option<&'a str>,
    /// Similarity to the baseline.
    pub similarity: Option<f64>,
    /// Last check.
    pub last_checked: Option<Millis>,
    /// Failure streak, of one kind (where the suspect, or without one the
    /// status, heads) as the mixed one.
    pub consecutive_failures: u32,
    /// Streak start.
    pub failing_since: Option<Millis>,
    /// Since when the host's name has not resolved (NXDOMAIN), for a streak
    /// of those: a network streak, which `dead` confirms after `gone_after`.
    pub no_such_host_since: Option<Millis>,
    /// A baseline capture (time, body sha256) to record and point at.
    pub baseline: Option<(Millis, &'a str)>,
}

/// One transaction of bulk writes; dropped uncommitted, it writes nothing.
pub struct Bulk<'a> {
    tx: Transaction<'a>,
    file: std::path::PathBuf,
}

impl Store {
    /// Starts a bulk write.
    pub fn bulk(&mut self) -> Result<Bulk<'_>> {
        let tx = self
            .conn
            .transaction()
            .map_err(super::sqlite_error(&self.file))?;
        Ok(Bulk {
            tx,
            file: self.file.clone(),
        })
    }
}

impl Bulk<'_> {
    fn err(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        super::sqlite_error(&self.file)
    }

    /// A document (format `txt`); returns its id.
    pub fn document(&self, root: &str, path: &str, now: Millis) -> Result<i64> {
        self.tx
            .prepare_cached(
                "INSERT INTO documents (root, path, format, sha256, size, encoding, first_seen, synced_at)
                 VALUES (?1, ?2, 'txt', '', 0, 'UTF-8', ?3, ?3)",
            )
            .and_then(|mut s| s.execute(params![root, path, now]))
            .map_err(self.err())?;
        Ok(self.tx.last_insert_rowid())
    }

    /// A briefing item; returns its id.
    pub fn briefing(&self, document_id: i64, ordinal: i64, title: &str) -> Result<i64> {
        self.tx
            .prepare_cached(
                "INSERT INTO briefings (document_id, ordinal, title) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut s| s.execute(params![document_id, ordinal, title]))
            .map_err(self.err())?;
        Ok(self.tx.last_insert_rowid())
    }

    /// A source with its verdict (and baseline capture); returns its id.
    ///
    /// The streak written (of one kind, which the mixed one equals) has the
    /// kind the verdict's own rule reads from its suspect or status and
    /// `no_such_host_since` ([`verdict::streak_kind_of`]), so a check that
    /// follows counts on with it.
    pub fn source(&self, s: &BulkSource, first_seen: Millis) -> Result<i64> {
        let streak_kind = verdict::streak_kind_of(
            Status::from_name(s.status),
            s.suspect.and_then(Suspect::from_name),
            s.consecutive_failures,
            s.no_such_host_since.is_some(),
        );
        self.tx
            .prepare_cached(
                "INSERT INTO sources (url, host, first_seen, status, status_since, suspect, http_status,
                   final_url, error_kind, evidence, similarity, last_checked, consecutive_failures, failing_since,
                   mixed_failures, mixed_since, streak_kind, no_such_host_since)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?13, ?14, ?15, ?16)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    s.url,
                    s.host,
                    first_seen,
                    s.status,
                    s.status_since,
                    s.suspect,
                    s.http_status,
                    s.final_url,
                    s.error_kind,
                    s.evidence,
                    s.similarity,
                    s.last_checked,
                    s.consecutive_failures,
                    s.failing_since,
                    streak_kind.map(Evidence::name),
                    s.no_such_host_since
                ])
            })
            .map_err(self.err())?;
        let id = self.tx.last_insert_rowid();
        if let Some((at, sha)) = s.baseline {
            self.tx
                .prepare_cached(
                    "INSERT INTO blobs (sha256, size, stored_size, created_at) VALUES (?1, 1000, 400, ?2)
                     ON CONFLICT (sha256) DO NOTHING",
                )
                .and_then(|mut st| st.execute(params![sha, at]))
                .map_err(self.err())?;
            self.tx
                .prepare_cached(
                    "INSERT INTO captures (source_id, captured_at, request_url, final_url, status, headers, body_sha256, body_size)
                     VALUES (?1, ?2, ?3, ?3, 200, '[]', ?4, 1000)",
                )
                .and_then(|mut st| st.execute(params![id, at, s.url, sha]))
                .map_err(self.err())?;
            let capture = self.tx.last_insert_rowid();
            self.tx
                .prepare_cached(
                    "UPDATE sources SET baseline_capture_id = ?2, latest_capture_id = ?2 WHERE id = ?1",
                )
                .and_then(|mut st| st.execute(params![id, capture]))
                .map_err(self.err())?;
        }
        Ok(id)
    }

    /// A citation of a source.
    pub fn citation(
        &self,
        briefing_id: i64,
        ordinal: i64,
        outlet: Option<&str>,
        cited_date: Option<&str>,
        url: &str,
        source_id: i64,
    ) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO citations (briefing_id, ordinal, origin, outlet, cited_date, url, source_id)
                 VALUES (?1, ?2, 'source_line', ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    briefing_id,
                    ordinal,
                    outlet,
                    cited_date,
                    url,
                    source_id
                ])
            })
            .map_err(self.err())?;
        Ok(())
    }

    /// A completed run; returns its id.
    pub fn run(&self, started_at: Millis, finished_at: Millis) -> Result<i64> {
        self.tx
            .prepare_cached(
                "INSERT INTO runs (started_at, finished_at, state, summary) VALUES (?1, ?2, 'completed', '{}')",
            )
            .and_then(|mut s| s.execute(params![started_at, finished_at]))
            .map_err(self.err())?;
        Ok(self.tx.last_insert_rowid())
    }

    /// A status change of a source during a run.
    pub fn status_change(
        &self,
        source_id: i64,
        run_id: i64,
        at: Millis,
        old: &str,
        new: &str,
    ) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO status_changes (source_id, run_id, at, old_status, new_status) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| s.execute(params![source_id, run_id, at, old, new]))
            .map_err(self.err())?;
        Ok(())
    }

    /// Commits everything.
    pub fn commit(self) -> Result<()> {
        self.tx.commit().map_err(super::sqlite_error(&self.file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::verdict::{Confirmation, Signal, decide};

    const D: Millis = 86_400_000;

    /// Sources written in bulk as the check would have left them, read back
    /// as the next check reads them: the streak each is in has the kind the
    /// check counted, so the next failure of that kind goes on with it.
    #[test]
    fn a_bulk_streak_has_the_kind_the_check_counts() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("citewatch.db")).unwrap();
        let rows = [
            // A host whose name has not resolved for a week: a network streak.
            ("http://gone.example/a", "failing", Some("dead"), 7, Some(0)),
            ("http://404.example/a", "failing", Some("dead"), 2, None),
            ("http://soft.example/a", "soft_404", None, 3, None),
            // A confirmed network failure, written without a suspect.
            ("http://down.example/a", "unreachable", None, 4, None),
            ("http://ok.example/a", "ok", None, 0, None),
        ];
        let bulk = store.bulk().unwrap();
        let ids: Vec<i64> = rows
            .iter()
            .map(|&(url, status, suspect, failures, no_such_host_since)| {
                bulk.source(
                    &BulkSource {
                        url,
                        host: "h",
                        status,
                        status_since: Some(0),
                        suspect,
                        consecutive_failures: failures,
                        failing_since: (failures > 0).then_some(0),
                        no_such_host_since,
                        ..BulkSource::default()
                    },
                    0,
                )
                .unwrap()
            })
            .collect();
        bulk.commit().unwrap();
        let kinds: Vec<_> = ids
            .iter()
            .map(|&id| {
                let due = store.due_source(id).unwrap().unwrap();
                (due.streak_kind, due.no_such_host_since)
            })
            .collect();
        let named = |k: Evidence| Some(k.name().to_string());
        assert_eq!(
            kinds,
            [
                (named(Evidence::Network), Some(0)),
                (named(Evidence::Removed), None),
                (named(Evidence::Removed), None),
                (named(Evidence::Network), None),
                (None, None),
            ]
        );
        // The week-long NXDOMAIN streak goes on: the eighth night is the
        // eighth failure, and a fortnight of them is dead.
        let due = store.due_source(ids[0]).unwrap().unwrap();
        let prev = crate::check::state_of(&due);
        let c = Confirmation::default();
        let s = decide(&prev, Signal::NoSuchHost, 7 * D, &c);
        assert_eq!(
            (s.status, s.consecutive_failures, s.failing_since),
            (Status::Unreachable, 8, Some(0))
        );
        let s = decide(&s, Signal::NoSuchHost, 14 * D, &c);
        assert_eq!(s.status, Status::Dead);
    }
}
