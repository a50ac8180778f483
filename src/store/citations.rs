//! Reading citations back for `citewatch citations` and reports.

use serde::Serialize;

use super::{Result, Store};

/// One citation as listed to users. Every key is always present in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CitationRow {
    /// Citation id.
    pub id: i64,
    /// The `[briefings] paths` entry the document came from, as written.
    pub root: String,
    /// The document, relative to its paths entry, `/`-separated.
    pub document: String,
    /// The briefing item's title.
    pub title: String,
    /// The cited outlet.
    pub outlet: Option<String>,
    /// The cited date (ISO).
    pub cited_date: Option<String>,
    /// The URL as written.
    pub url: Option<String>,
    /// The normalised source URL; `null` when the URL is invalid.
    pub source_url: Option<String>,
    /// The source's id.
    pub source_id: Option<i64>,
    /// Why the URL cannot be fetched as written; `null` when it can.
    pub invalid_reason: Option<String>,
    /// `source_line`, `read_link` or `body`.
    pub origin: String,
    /// Link text or surrounding sentence, for citations found in body text.
    pub context: Option<String>,
    /// True when the document has left the briefing store.
    pub withdrawn: bool,
    /// The source's status (`invalid` when the URL cannot be fetched as written).
    pub status: String,
    /// Since when (RFC 3339); null when unchecked or invalid.
    pub status_since: Option<String>,
    /// The briefing item's id: what tells two items apart when they share a
    /// title, so a listing groups citations by item, not by headline. Not in
    /// the JSON, whose keys are documented (`citations --help`).
    #[serde(skip)]
    pub briefing_id: i64,
}

impl Store {
    /// Every citation in document order; withdrawn ones only when asked.
    /// Held whole: for a small store (`demo`); listings stream them through
    /// [`Store::for_each_citation`].
    pub fn citations(&self, include_withdrawn: bool) -> Result<Vec<CitationRow>> {
        let mut rows = Vec::new();
        self.for_each_citation(include_withdrawn, |row| {
            rows.push(row);
            Ok::<_, super::StoreError>(())
        })?;
        Ok(rows)
    }

    /// [`Store::citations`], handed to `each` one at a time, in the same
    /// order: a listing of a million citations (`/api/citations`, `citations`)
    /// need not be held whole. The joins run in the listing's order
    /// (`CROSS JOIN` fixes it: documents by their `(root, path)` index, each
    /// one's items by `(document_id, ordinal)`, their citations by item), so
    /// SQLite sorts only each item's few citations by ordinal; left to pick,
    /// it scanned the citations and sorted them all in one temporary b-tree,
    /// held in memory (`temp_store`), 140 MB at 200,000 citations.
    pub fn for_each_citation<E: From<super::StoreError>>(
        &self,
        include_withdrawn: bool,
        mut each: impl FnMut(CitationRow) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT c.id, d.root, d.path, b.title, c.outlet, c.cited_date, c.url, s.url, c.source_id,
                        c.invalid_reason, c.origin, c.context, d.withdrawn_at IS NOT NULL,
                        coalesce(s.status, 'invalid'), s.status_since, b.id
                 FROM documents d
                 CROSS JOIN briefings b ON b.document_id = d.id
                 CROSS JOIN citations c ON c.briefing_id = b.id
                 LEFT JOIN sources s ON s.id = c.source_id
                 WHERE ?1 OR d.withdrawn_at IS NULL
                 ORDER BY d.root, d.path, b.ordinal, c.ordinal",
            )
            .map_err(self.err())?;
        let mut rows = stmt.query([include_withdrawn]).map_err(self.err())?;
        while let Some(r) = rows.next().map_err(self.err())? {
            let row = (|| {
                Ok(CitationRow {
                    id: r.get(0)?,
                    root: r.get(1)?,
                    document: r.get(2)?,
                    title: r.get(3)?,
                    outlet: r.get(4)?,
                    cited_date: r.get(5)?,
                    url: r.get(6)?,
                    source_url: r.get(7)?,
                    source_id: r.get(8)?,
                    invalid_reason: r.get(9)?,
                    origin: r.get(10)?,
                    context: r.get(11)?,
                    withdrawn: r.get(12)?,
                    status: r.get(13)?,
                    status_since: r.get::<_, Option<i64>>(14)?.map(crate::time::format_millis),
                    briefing_id: r.get(15)?,
                })
            })()
            .map_err(self.err())?;
            each(row)?;
        }
        Ok(())
    }

    /// Whether the documents a listing of citations covers (those still in
    /// the briefing store, and the withdrawn ones too when asked) lie under
    /// more than one `[briefings] paths` entry: then a path alone does not
    /// say which file a heading means (see `report::model::heading`).
    /// Without withdrawn documents this is [`Store::spans_roots`], what the
    /// report asks, so both name documents alike.
    pub fn listing_spans_roots(&self, include_withdrawn: bool) -> Result<bool> {
        if !include_withdrawn {
            return self.spans_roots();
        }
        self.conn
            .query_row("SELECT count(DISTINCT root) > 1 FROM documents", [], |r| {
                r.get(0)
            })
            .map_err(self.err())
    }

    /// Number of sources and of citations (active documents only).
    pub fn counts(&self) -> Result<(i64, i64)> {
        self.conn
            .query_row(
                "SELECT (SELECT count(*) FROM sources),
                        (SELECT count(*) FROM citations c JOIN briefings b ON b.id = c.briefing_id
                           JOIN documents d ON d.id = b.document_id WHERE d.withdrawn_at IS NULL)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(self.err())
    }
}
