//! Captures, checks and blob rows: what the archive and the history keep.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use super::{Result, Store};
use crate::time::{Millis, format_millis};

/// A capture to record. Its blob must already be on disk.
#[derive(Debug, Clone)]
pub struct NewCapture<'a> {
    /// When the response arrived.
    pub captured_at: Millis,
    /// URL requested.
    pub request_url: &'a str,
    /// URL that answered, after redirects.
    pub final_url: &'a str,
    /// Redirect hops as JSON.
    pub hops_json: &'a str,
    /// HTTP status.
    pub status: u16,
    /// Headers as JSON `[[name, value], …]`.
    pub headers_json: &'a str,
    /// Content-Type, if any.
    pub content_type: Option<&'a str>,
    /// Body sha256, lowercase hex.
    pub sha256: &'a str,
    /// Body size.
    pub size: u64,
    /// Bytes the blob takes on disk (recorded with the blob row when it is new).
    pub stored_size: u64,
    /// Cut at the size cap.
    pub truncated: bool,
    /// Recorded from a 304: the body is the previous capture's.
    pub not_modified: bool,
    /// The page title, when the check read the page.
    pub title: Option<&'a str>,
    /// What reading the page found (JSON), when the check read it.
    pub reading: Option<&'a str>,
    /// The capture whose stored reading this one shares (the same bytes,
    /// read before), instead of a `reading` of its own.
    pub reading_from: Option<i64>,
    /// The capture whose response a 304 repeats: then its headers, content
    /// type and title are not stored again (see migration 0007).
    pub response_from: Option<i64>,
}

impl<'a> NewCapture<'a> {
    /// The capture of that answer: the whole body, `size` bytes stored in
    /// `stored_size` as blob `sha256`, with no headers and nothing read of
    /// it. For tests and benchmarks, as [`NewCheck::answered`] is.
    pub fn answered(
        url: &'a str,
        at: Millis,
        sha256: &'a str,
        size: u64,
        stored_size: u64,
    ) -> Self {
        NewCapture {
            captured_at: at,
            request_url: url,
            final_url: url,
            hops_json: "[]",
            status: 200,
            headers_json: "[]",
            content_type: None,
            sha256,
            size,
            stored_size,
            truncated: false,
            not_modified: false,
            title: None,
            reading: None,
            reading_from: None,
            response_from: None,
        }
    }
}

/// A check to record.
#[derive(Debug, Clone)]
pub struct NewCheck<'a> {
    /// Start time.
    pub started_at: Millis,
    /// Duration.
    pub duration_ms: u64,
    /// URL requested.
    pub request_url: &'a str,
    /// URL that answered.
    pub final_url: Option<&'a str>,
    /// Outcome kind.
    pub outcome: &'a str,
    /// HTTP status, when one came.
    pub http_status: Option<u16>,
    /// Error detail, for failures.
    pub error_detail: Option<&'a str>,
    /// Hops as JSON.
    pub hops_json: &'a str,
    /// Requests sent.
    pub attempts: u32,
    /// The check run, for checks made by `citewatch check`.
    pub run_id: Option<i64>,
    /// The source's status after this check.
    pub status_after: Option<&'a str>,
    /// The evidence in plain words.
    pub evidence: Option<&'a str>,
}

impl<'a> NewCheck<'a> {
    /// A check of `url` started at `at` that a 200 answered at once: what
    /// tests and benchmarks record when the check itself is not their
    /// subject (they change the fields they care about).
    pub fn answered(url: &'a str, at: Millis) -> Self {
        NewCheck {
            started_at: at,
            duration_ms: 1,
            request_url: url,
            final_url: Some(url),
            outcome: "http",
            http_status: Some(200),
            error_detail: None,
            hops_json: "[]",
            attempts: 1,
            run_id: None,
            status_after: None,
            evidence: None,
        }
    }
}

/// Ids written by [`Store::record_fetch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// The source.
    pub source_id: i64,
    /// The check row.
    pub check_id: i64,
    /// The capture row, when the fetch archived something.
    pub capture_id: Option<i64>,
}

/// A stored capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaptureRow {
    /// Capture id.
    pub id: i64,
    /// Source id.
    pub source_id: i64,
    /// The source's normalised URL.
    pub source_url: String,
    /// When.
    #[serde(serialize_with = "crate::time::serialize_rfc3339")]
    pub captured_at: Millis,
    /// `fetch`, `web_archive` or `import`.
    pub provenance: String,
    /// URL requested.
    pub request_url: String,
    /// URL that answered.
    pub final_url: String,
    /// Hops as JSON (an array in JSON output, as `hops`).
    #[serde(rename = "hops", serialize_with = "raw_json")]
    pub hops_json: String,
    /// HTTP status.
    pub status: u16,
    /// Headers as received.
    pub headers: Vec<(String, String)>,
    /// Content-Type.
    pub content_type: Option<String>,
    /// Body sha256.
    pub body_sha256: String,
    /// Body size.
    pub body_size: u64,
    /// Cut at the size cap.
    pub truncated: bool,
    /// Recorded from a 304.
    pub not_modified: bool,
    /// When a later check found it no copy of the page cited (a landing
    /// other cited articles are sent to too); `null` otherwise.
    #[serde(serialize_with = "crate::time::serialize_rfc3339_opt")]
    pub disowned_at: Option<Millis>,
    /// What the check's reading of the page found (JSON), if it read it:
    /// its own, or the one it shares.
    #[serde(skip)]
    pub reading: Option<String>,
    /// The capture whose reading this one shares, if it has none of its own.
    #[serde(skip)]
    pub reading_from: Option<i64>,
    /// The capture whose response (status, headers, content type) a 304
    /// repeats; its own `headers` and `content_type` are that capture's.
    #[serde(skip)]
    pub response_from: Option<i64>,
}

/// A stored check. In JSON: times in RFC 3339, `hops` an array, and the
/// failure as `error: {kind, detail}` or `null`, as everywhere else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRow {
    /// Check id.
    pub id: i64,
    /// Start time.
    pub started_at: Millis,
    /// Duration.
    pub duration_ms: u64,
    /// URL requested.
    pub request_url: String,
    /// URL that answered.
    pub final_url: Option<String>,
    /// Outcome kind.
    pub outcome: String,
    /// HTTP status.
    pub http_status: Option<u16>,
    /// Error detail.
    pub error_detail: Option<String>,
    /// Hops as JSON.
    pub hops_json: String,
    /// Requests sent.
    pub attempts: u32,
    /// The capture it archived.
    pub capture_id: Option<i64>,
    /// The source's status after this check (`None` for a `fetch --save`,
    /// which judges nothing).
    pub status_after: Option<String>,
    /// Why, in words: the verdict's evidence, or a host incident's.
    pub evidence: Option<String>,
}

impl Serialize for CheckRow {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = s.serialize_struct("CheckRow", 13)?;
        m.serialize_field("id", &self.id)?;
        m.serialize_field("started_at", &format_millis(self.started_at))?;
        m.serialize_field("duration_ms", &self.duration_ms)?;
        m.serialize_field("request_url", &self.request_url)?;
        m.serialize_field("final_url", &self.final_url)?;
        m.serialize_field("outcome", &self.outcome)?;
        m.serialize_field("http_status", &self.http_status)?;
        m.serialize_field(
            "error",
            &self
                .error_detail
                .as_ref()
                .map(|detail| serde_json::json!({ "kind": self.outcome, "detail": detail })),
        )?;
        m.serialize_field("hops", &RawJson(&self.hops_json))?;
        m.serialize_field("attempts", &self.attempts)?;
        m.serialize_field("capture_id", &self.capture_id)?;
        m.serialize_field("status_after", &self.status_after)?;
        m.serialize_field("evidence", &self.evidence)?;
        m.end()
    }
}

/// JSON kept as text in the store, written out as the value it holds (an
/// empty array should the text not parse).
struct RawJson<'a>(&'a str);

fn raw_json<S: serde::Serializer>(text: &str, s: S) -> std::result::Result<S::Ok, S::Error> {
    RawJson(text).serialize(s)
}

impl Serialize for RawJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        serde_json::from_str::<serde_json::Value>(self.0)
            .unwrap_or_else(|_| serde_json::json!([]))
            .serialize(s)
    }
}

const CHECK_COLUMNS: &str =
    "id, started_at, duration_ms, request_url, final_url, outcome, http_status,
     error_detail, hops, attempts, capture_id, status_after, evidence";

fn check_row(r: &Row) -> rusqlite::Result<CheckRow> {
    Ok(CheckRow {
        id: r.get(0)?,
        started_at: r.get(1)?,
        duration_ms: r.get::<_, i64>(2)? as u64,
        request_url: r.get(3)?,
        final_url: r.get(4)?,
        outcome: r.get(5)?,
        http_status: r.get(6)?,
        error_detail: r.get(7)?,
        hops_json: r.get(8)?,
        attempts: r.get(9)?,
        capture_id: r.get(10)?,
        status_after: r.get(11)?,
        evidence: r.get(12)?,
    })
}

const CAPTURE_COLUMNS: &str =
    "c.id, c.source_id, s.url, c.captured_at, c.provenance, c.request_url, c.final_url,
     c.hops, c.status,
     CASE WHEN c.response_from IS NULL THEN c.headers ELSE o.headers END,
     CASE WHEN c.response_from IS NULL THEN c.content_type ELSE o.content_type END,
     c.body_sha256, c.body_size, c.truncated, c.not_modified,
     COALESCE(c.reading, (SELECT f.reading FROM captures f WHERE f.id = c.reading_from)),
     CASE WHEN c.reading IS NULL THEN c.reading_from END, c.disowned_at,
     c.response_from";

/// What [`CAPTURE_COLUMNS`] selects from: the capture, its source, and the
/// capture whose response a 304 repeats (looked up once for both columns).
const CAPTURE_FROM: &str = "captures c JOIN sources s ON s.id = c.source_id
     LEFT JOIN captures o ON o.id = c.response_from";

/// One capture by id: read twice for every source a check prepares (its
/// latest capture and its baseline), so its text is made once, not each time.
static CAPTURE_BY_ID: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("SELECT {CAPTURE_COLUMNS} FROM {CAPTURE_FROM} WHERE c.id = ?1")
});

/// How many columns [`CAPTURE_COLUMNS`] selects.
const CAPTURE_COLUMN_COUNT: usize = 19;

/// A capture's kind as a copy (see [`Store::pick_copy`]): 0 judged good, 1 a
/// 2xx no check judged, 2 a 2xx judged otherwise (or disowned), 3 an error
/// answer.
const COPY_RANK: &str = "CASE
     WHEN c.disowned_at IS NOT NULL THEN (CASE WHEN c.status BETWEEN 200 AND 299 THEN 2 ELSE 3 END)
     WHEN c.id = s.baseline_capture_id OR EXISTS (SELECT 1 FROM checks k
          WHERE k.source_id = c.source_id AND k.capture_id = c.id
            AND k.status_after IN ('ok', 'changed', 'moved')) THEN 0
     WHEN c.status NOT BETWEEN 200 AND 299 THEN 3
     WHEN EXISTS (SELECT 1 FROM checks k WHERE k.source_id = c.source_id
            AND k.capture_id = c.id AND k.status_after IS NOT NULL) THEN 2
     ELSE 1 END";

fn capture_row(r: &Row) -> rusqlite::Result<CaptureRow> {
    let headers: String = r.get(9)?;
    Ok(CaptureRow {
        id: r.get(0)?,
        source_id: r.get(1)?,
        source_url: r.get(2)?,
        captured_at: r.get(3)?,
        provenance: r.get(4)?,
        request_url: r.get(5)?,
        final_url: r.get(6)?,
        hops_json: r.get(7)?,
        status: r.get(8)?,
        headers: serde_json::from_str(&headers).unwrap_or_default(),
        content_type: r.get(10)?,
        body_sha256: r.get(11)?,
        body_size: r.get::<_, i64>(12)? as u64,
        truncated: r.get(13)?,
        not_modified: r.get(14)?,
        reading: r.get(15)?,
        reading_from: r.get(16)?,
        disowned_at: r.get(17)?,
        response_from: r.get(18)?,
    })
}

/// Which captures an export takes.
#[derive(Debug, Clone, Default)]
pub struct CaptureFilter {
    /// Only this source.
    pub source_id: Option<i64>,
    /// Only captures at or after this time.
    pub since: Option<Millis>,
}

impl Store {
    /// The id of the source with this normalised URL.
    pub fn source_id(&self, url: &str) -> Result<Option<i64>> {
        self.conn
            .query_row("SELECT id FROM sources WHERE url = ?1", [url], |r| r.get(0))
            .optional()
            .map_err(self.err())
    }

    /// Of these normalised URLs, those that are not sources, in the order given.
    pub fn not_sources(&self, urls: &[String]) -> Result<Vec<String>> {
        let mut unknown = Vec::new();
        for u in urls {
            if self.source_id(u)?.is_none() {
                unknown.push(u.clone());
            }
        }
        Ok(unknown)
    }

    /// Records one fetch: the source (created when it is not cited anywhere yet),
    /// the blob row and capture when something was archived, and the check — in
    /// one transaction, after the blob file is on disk.
    pub fn record_fetch(
        &mut self,
        source_url: &str,
        host: &str,
        check: &NewCheck,
        capture: Option<&NewCapture>,
    ) -> Result<Recorded> {
        let err = super::sqlite_error(&self.file);
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute(
            "INSERT INTO sources (url, host, first_seen) VALUES (?1, ?2, ?3) ON CONFLICT (url) DO NOTHING",
            params![source_url, host, check.started_at],
        )
        .map_err(err)?;
        let source_id: i64 = tx
            .query_row("SELECT id FROM sources WHERE url = ?1", [source_url], |r| {
                r.get(0)
            })
            .map_err(err)?;
        let (check_id, capture_id) = insert_fetch(&tx, source_id, check, capture).map_err(err)?;
        // The source's latest copy is this one (the next check asks against
        // its validators); its verdict stays the last check's.
        tx.execute(
            "UPDATE sources SET latest_capture_id = coalesce(?2, latest_capture_id) WHERE id = ?1",
            params![source_id, capture_id],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(Recorded {
            source_id,
            check_id,
            capture_id,
        })
    }

    /// Every capture of a source, oldest first.
    pub fn captures_of(&self, source_id: i64) -> Result<Vec<CaptureRow>> {
        let sql = format!(
            "SELECT {CAPTURE_COLUMNS} FROM {CAPTURE_FROM}
             WHERE c.source_id = ?1 ORDER BY c.captured_at, c.id"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(self.err())?;
        let rows = stmt
            .query_map([source_id], capture_row)
            .map_err(self.err())?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    /// The capture to hand out for a source: the good (2xx) one nearest `at`, or
    /// the latest good one when `at` is `None`; failing that, any nearest one.
    pub fn pick_capture(&self, source_id: i64, at: Option<Millis>) -> Result<Option<CaptureRow>> {
        let order = if at.is_some() {
            "abs(c.captured_at - ?2), c.captured_at DESC"
        } else {
            "c.captured_at DESC, c.id DESC"
        };
        let sql = format!(
            "SELECT {CAPTURE_COLUMNS} FROM {CAPTURE_FROM}
             WHERE c.source_id = ?1 AND (?2 IS NULL OR 1)
             ORDER BY (c.status BETWEEN 200 AND 299) DESC, {order} LIMIT 1"
        );
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_row(params![source_id, at], capture_row).optional())
            .map_err(self.err())
    }

    /// The copy `get` hands out: the capture nearest `at` (the latest without
    /// one) among the best kind a source has, and whether it is a good copy.
    ///
    /// Good is the baseline or a capture its check judged `ok`, `changed` or
    /// `moved`, unless it was disowned since (a landing other cited articles
    /// are sent to), or else a 2xx capture no check judged (`fetch --save`). After
    /// them come 2xx captures judged otherwise (the homepage or error page of a
    /// soft 404) and last answers that were errors outright: a 2xx status alone
    /// once handed out a removed article's "page not found" as its copy.
    pub fn pick_copy(
        &self,
        source_id: i64,
        at: Option<Millis>,
    ) -> Result<Option<(CaptureRow, bool)>> {
        let order = if at.is_some() {
            "abs(c.captured_at - ?2), c.captured_at DESC, c.id DESC"
        } else {
            "c.captured_at DESC, c.id DESC"
        };
        let sql = format!(
            "SELECT {CAPTURE_COLUMNS}, {COPY_RANK} AS rank FROM {CAPTURE_FROM}
             WHERE c.source_id = ?1 AND (?2 IS NULL OR 1)
             ORDER BY rank, {order} LIMIT 1"
        );
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_row(params![source_id, at], |r| {
                    Ok((capture_row(r)?, r.get::<_, i64>(CAPTURE_COLUMN_COUNT)? < 2))
                })
                .optional()
            })
            .map_err(self.err())
    }

    /// One capture by id.
    pub fn capture(&self, id: i64) -> Result<Option<CaptureRow>> {
        self.conn
            .prepare_cached(&CAPTURE_BY_ID)
            .and_then(|mut s| s.query_row([id], capture_row).optional())
            .map_err(self.err())
    }

    /// A source's baseline capture (its first good copy, what its verdicts
    /// compare with) when its verdict is `changed`: the page says otherwise
    /// now in substance, not only in its churn.
    pub fn baseline_if_changed(&self, source_id: i64) -> Result<Option<CaptureRow>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {CAPTURE_COLUMNS} FROM {CAPTURE_FROM}
                  WHERE c.id = (SELECT baseline_capture_id FROM sources
                                 WHERE id = ?1 AND status = 'changed')"
            ))
            .and_then(|mut s| s.query_row([source_id], capture_row).optional())
            .map_err(self.err())
    }

    /// Every check of a source, oldest first.
    pub fn checks_of(&self, source_id: i64) -> Result<Vec<CheckRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {CHECK_COLUMNS} FROM checks WHERE source_id = ?1 ORDER BY started_at, id"
            ))
            .map_err(self.err())?;
        let rows = stmt
            .query_map([source_id], check_row)
            .map_err(self.err())?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    /// The source's latest check, if any.
    pub fn latest_check(&self, source_id: i64) -> Result<Option<CheckRow>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {CHECK_COLUMNS} FROM checks WHERE source_id = ?1
                 ORDER BY started_at DESC, id DESC LIMIT 1"
            ))
            .and_then(|mut s| s.query_row([source_id], check_row).optional())
            .map_err(self.err())
    }

    /// Of `urls`, those that are sources with at least one capture, with their count.
    pub fn archived_among(&self, urls: &[String]) -> Result<Vec<(String, i64)>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT s.url, count(c.id) FROM sources s JOIN captures c ON c.source_id = s.id
                 WHERE s.url = ?1 GROUP BY s.url",
            )
            .map_err(self.err())?;
        let mut out = Vec::new();
        for u in urls {
            if let Some(row) = stmt
                .query_row([u], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .map_err(self.err())?
            {
                out.push(row);
            }
        }
        Ok(out)
    }

    /// Calls `f` for each capture matching `filter`, oldest first, one row in
    /// memory at a time (exports stay flat however large the archive).
    pub fn for_each_capture<E: From<super::StoreError>>(
        &self,
        filter: &CaptureFilter,
        mut f: impl FnMut(CaptureRow) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let sql = format!(
            "SELECT {CAPTURE_COLUMNS} FROM {CAPTURE_FROM}
             WHERE (?1 IS NULL OR c.source_id = ?1) AND (?2 IS NULL OR c.captured_at >= ?2)
             ORDER BY c.captured_at, c.id"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(self.err())?;
        let mut rows = stmt
            .query(params![filter.source_id, filter.since])
            .map_err(self.err())?;
        while let Some(row) = rows.next().map_err(self.err())? {
            f(capture_row(row).map_err(self.err())?)?;
        }
        Ok(())
    }

    /// How many captures [`Store::for_each_capture`] calls its function for
    /// (from the same rows, so the two agree).
    pub fn count_captures(&self, filter: &CaptureFilter) -> Result<u64> {
        self.conn
            .query_row(
                &format!(
                    "SELECT count(*) FROM {CAPTURE_FROM}
                     WHERE (?1 IS NULL OR c.source_id = ?1) AND (?2 IS NULL OR c.captured_at >= ?2)"
                ),
                params![filter.source_id, filter.since],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(self.err())
    }

    /// Every blob row: (sha256, size).
    pub fn blob_rows(&self) -> Result<Vec<(String, u64)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT sha256, size FROM blobs")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))
            .map_err(self.err())?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    /// Captures whose size disagrees with their blob row: (capture id, sha256).
    pub fn captures_disagreeing_with_blobs(&self) -> Result<Vec<(i64, String)>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT c.id, c.body_sha256 FROM captures c LEFT JOIN blobs b ON b.sha256 = c.body_sha256
                 WHERE b.sha256 IS NULL OR b.size <> c.body_size",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(self.err())?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    /// Number of captures referencing each blob sha256 (for reports of damage).
    pub fn captures_using(&self, sha256: &str) -> Result<Vec<i64>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM captures WHERE body_sha256 = ?1 ORDER BY id")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([sha256], |r| r.get(0))
            .map_err(self.err())?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    /// The URLs of the sources whose captures name a blob, or, given
    /// `capture`, of that capture's source: what a damaged blob costs, in
    /// the words a reader knows (for reports of damage).
    pub fn sources_using(&self, sha256: &str, capture: Option<i64>) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT s.url FROM captures c JOIN sources s ON s.id = c.source_id
                  WHERE c.body_sha256 = ?1 AND (?2 IS NULL OR c.id = ?2) ORDER BY s.url",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map(rusqlite::params![sha256, capture], |r| r.get(0))
            .map_err(self.err())?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    /// Sum of stored blob bytes and of body bytes: (stored, body).
    pub fn blob_totals(&self) -> Result<(u64, u64)> {
        self.conn
            .query_row(
                "SELECT coalesce(sum(stored_size), 0), coalesce(sum(size), 0) FROM blobs",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
            )
            .map_err(self.err())
    }
}

/// Inserts the blob row (when new), the capture and the check of one fetch.
pub(super) fn insert_fetch(
    tx: &rusqlite::Transaction,
    source_id: i64,
    check: &NewCheck,
    capture: Option<&NewCapture>,
) -> rusqlite::Result<(i64, Option<i64>)> {
    let capture_id = match capture {
        None => None,
        Some(c) => {
            // A 304 names the blob of the capture it confirms, whose row exists.
            if !c.not_modified {
                tx.prepare_cached(
                    "INSERT INTO blobs (sha256, size, stored_size, created_at) VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT (sha256) DO NOTHING",
                )?
                .execute(params![
                    c.sha256,
                    c.size as i64,
                    c.stored_size as i64,
                    c.captured_at
                ])?;
            }
            // A repeated response is named, not copied (migration 0007);
            // a shared reading holds the title.
            let repeated = c.response_from.is_some();
            tx.prepare_cached("INSERT INTO captures (source_id, captured_at, request_url, final_url, hops, status, headers,
                                           content_type, body_sha256, body_size, truncated, not_modified,
                                           title, reading, reading_from, response_from)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)")?
            .execute(params![
                        source_id,
                        c.captured_at,
                        c.request_url,
                        c.final_url,
                        c.hops_json,
                        c.status,
                        if repeated { "[]" } else { c.headers_json },
                        c.content_type.filter(|_| !repeated),
                        c.sha256,
                        c.size as i64,
                        c.truncated,
                        c.not_modified,
                        c.title.filter(|_| c.reading_from.is_none()),
                        c.reading,
                        c.reading_from,
                        c.response_from
                    ],
                )
                ?;
            Some(tx.last_insert_rowid())
        }
    };
    tx.prepare_cached("INSERT INTO checks (source_id, started_at, duration_ms, request_url, final_url, outcome, http_status,
                                 error_detail, hops, attempts, capture_id, run_id, status_after, evidence)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)")?
            .execute(params![
                source_id,
                check.started_at,
                check.duration_ms as i64,
                check.request_url,
                check.final_url,
                check.outcome,
                check.http_status,
                check.error_detail,
                check.hops_json,
                check.attempts,
                capture_id,
                check.run_id,
                check.status_after,
                check.evidence
            ],
        )
        ?;
    Ok((tx.last_insert_rowid(), capture_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_304_reads_with_the_response_it_repeats_though_it_stores_none() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("citewatch.db")).unwrap();
        let url = "http://a.example/x";
        let check = NewCheck::answered(url, 1_000);
        let sha = "ab".repeat(32);
        let page = NewCapture {
            captured_at: 1_005,
            request_url: url,
            final_url: url,
            hops_json: "[]",
            status: 200,
            headers_json: r#"[["content-type","text/html"],["etag","\"1\""]]"#,
            content_type: Some("text/html"),
            sha256: &sha,
            size: 4,
            stored_size: 4,
            truncated: false,
            not_modified: false,
            title: Some("A page"),
            reading: Some(r#"{"title":"A page"}"#),
            reading_from: None,
            response_from: None,
        };
        let first = store
            .record_fetch(url, "a.example", &check, Some(&page))
            .unwrap();
        let first = first.capture_id.unwrap();
        let again = NewCapture {
            captured_at: 2_005,
            headers_json: "",
            not_modified: true,
            reading: None,
            reading_from: Some(first),
            response_from: Some(first),
            ..page.clone()
        };
        let second = store
            .record_fetch(url, "a.example", &check, Some(&again))
            .unwrap();
        let second = second.capture_id.unwrap();
        let (a, b) = (
            store.capture(first).unwrap().unwrap(),
            store.capture(second).unwrap().unwrap(),
        );
        assert_eq!(b.headers, a.headers);
        assert_eq!(b.content_type.as_deref(), Some("text/html"));
        assert_eq!(
            (b.response_from, b.reading_from),
            (Some(first), Some(first))
        );
        assert_eq!(b.reading, a.reading);
        let served = store.archived_copy(second).unwrap().unwrap();
        assert_eq!(served.content_type.as_deref(), Some("text/html"));
        // What the row holds: nothing copied.
        let row: (String, Option<String>, Option<String>) = store
            .conn
            .query_row(
                "SELECT headers, content_type, title FROM captures WHERE id = ?1",
                [second],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(row, ("[]".to_string(), None, None));
    }

    #[test]
    fn a_check_in_json_keeps_the_conventions() {
        let check = CheckRow {
            id: 7,
            started_at: 1_700_000_000_000,
            duration_ms: 12,
            request_url: "http://a.example/x".into(),
            final_url: None,
            outcome: "connect_refused".into(),
            http_status: None,
            error_detail: Some("Connection refused (os error 111)".into()),
            hops_json: r#"[{"url":"http://a.example/x","status":301}]"#.into(),
            attempts: 1,
            capture_id: None,
            status_after: Some("failing".into()),
            evidence: None,
        };
        let json = serde_json::to_value(&check).unwrap();
        assert_eq!(json["started_at"], "2023-11-14T22:13:20Z");
        assert_eq!(
            json["error"],
            serde_json::json!({"kind": "connect_refused", "detail": "Connection refused (os error 111)"})
        );
        assert_eq!(json["hops"][0]["status"], 301);
        assert!(json.get("hops_json").is_none() && json.get("error_detail").is_none());
        let fine = CheckRow {
            error_detail: None,
            hops_json: "not json".into(),
            ..check
        };
        let json = serde_json::to_value(&fine).unwrap();
        assert!(json["error"].is_null());
        assert_eq!(json["hops"], serde_json::json!([]));
    }
}
