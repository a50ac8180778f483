//! Writing what sync found: documents, their items and citations, and sources.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, Transaction, params};

use super::{Result, Store};
use crate::time::Millis;

/// What the store knows of a document from an earlier sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownDocument {
    /// Row id.
    pub id: i64,
    /// sha256 of its bytes when last synced.
    pub sha256: String,
    /// Whether it is currently withdrawn.
    pub withdrawn: bool,
    /// Size in bytes when last synced.
    pub size: u64,
    /// Modification time (ns) when last synced, if it could be trusted then.
    pub mtime_ns: Option<i64>,
    /// The version of the reader that read its items (0: before versions
    /// were recorded).
    pub reader: i64,
}

/// A document to (re)write.
#[derive(Debug, Clone)]
pub struct NewDocument<'a> {
    /// The `[briefings] paths` entry as written.
    pub root: &'a str,
    /// Path relative to the root, `/`-separated.
    pub path: &'a str,
    /// `txt`, `md` or `html`.
    pub format: &'a str,
    /// sha256 of the bytes, lowercase hex.
    pub sha256: &'a str,
    /// Size in bytes.
    pub size: u64,
    /// The encoding it was decoded with.
    pub encoding: &'a str,
    /// Modification time (ns) to trust on the next sync; `None` when the file was
    /// modified so recently that a later edit could share its timestamp.
    pub mtime_ns: Option<i64>,
    /// The document's id when the store has it already; its items are replaced.
    pub id: Option<i64>,
    /// The version of the reader that read its items.
    pub reader: i64,
}

/// A briefing item to write.
#[derive(Debug, Clone)]
pub struct NewItem {
    /// Title line.
    pub title: String,
    /// Its citations.
    pub citations: Vec<NewCitation>,
}

/// A citation to write: either a normalised source (`source_url` and `host`) or
/// an `invalid_reason`.
#[derive(Debug, Clone)]
pub struct NewCitation {
    /// `source_line`, `read_link` or `body`.
    pub origin: &'static str,
    /// Cited outlet.
    pub outlet: Option<String>,
    /// Cited date, ISO.
    pub cited_date: Option<String>,
    /// The URL as written.
    pub url: Option<String>,
    /// The normalised source URL and its host, or why there is none.
    pub source: std::result::Result<(String, String), String>,
    /// Link text or surrounding sentence.
    pub context: Option<String>,
}

impl Store {
    /// Every document the store has seen, by (root as written, path).
    pub fn known_documents(&self) -> Result<HashMap<(String, String), KnownDocument>> {
        let mut stmt = self
            .conn
            .prepare("SELECT root, path, id, sha256, withdrawn_at IS NOT NULL, size, mtime_ns, reader FROM documents")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    (r.get(0)?, r.get(1)?),
                    KnownDocument {
                        id: r.get(2)?,
                        sha256: r.get(3)?,
                        withdrawn: r.get(4)?,
                        size: r.get::<_, i64>(5)? as u64,
                        mtime_ns: r.get(6)?,
                        reader: r.get(7)?,
                    },
                ))
            })
            .map_err(self.err())?
            .collect::<std::result::Result<HashMap<_, _>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    /// Starts a batch of sync writes: one transaction, committed by
    /// [`SyncBatch::commit`]; dropped uncommitted, it leaves the store as it was.
    pub fn sync_batch(&mut self) -> Result<SyncBatch<'_>> {
        let tx = self
            .conn
            .transaction()
            .map_err(super::sqlite_error(&self.file))?;
        Ok(SyncBatch {
            tx,
            file: self.file.clone(),
        })
    }
}

/// One transaction of sync writes.
pub struct SyncBatch<'a> {
    tx: Transaction<'a>,
    file: std::path::PathBuf,
}

/// Counts of what one document write stored.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Briefing items.
    pub items: usize,
    /// Citations.
    pub citations: usize,
    /// Citations whose URL is invalid.
    pub invalid: usize,
    /// Sources first seen now.
    pub new_sources: usize,
}

impl SyncBatch<'_> {
    fn err(&self) -> impl Fn(rusqlite::Error) -> super::StoreError + '_ {
        super::sqlite_error(&self.file)
    }

    /// Writes a new or changed document: its row is created or updated and its
    /// items are replaced as a whole. Returns the counts written.
    pub fn put_document(
        &self,
        doc: &NewDocument,
        items: &[NewItem],
        now: Millis,
    ) -> Result<Written> {
        let tx = &self.tx;
        let p = params![
            doc.root,
            doc.path,
            doc.format,
            doc.sha256,
            doc.size as i64,
            doc.encoding,
            now,
            doc.mtime_ns,
            doc.reader
        ];
        // Plain statements, not RETURNING: SQLite buffers RETURNING rows in a
        // temporary table, which costs more than the insert on a first sync.
        let id = match doc.id {
            None => {
                tx.prepare_cached(
                    "INSERT INTO documents (root, path, format, sha256, size, encoding, synced_at, mtime_ns, first_seen, reader)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?7, ?9)",
                )
                .and_then(|mut s| s.execute(p))
                .map_err(self.err())?;
                tx.last_insert_rowid()
            }
            Some(id) => {
                tx.prepare_cached(
                    "UPDATE documents SET format = ?3, sha256 = ?4, size = ?5, encoding = ?6,
                       synced_at = ?7, mtime_ns = ?8, withdrawn_at = NULL, reader = ?9
                     WHERE root = ?1 AND path = ?2",
                )
                .and_then(|mut s| s.execute(p))
                .map_err(self.err())?;
                tx.prepare_cached("DELETE FROM briefings WHERE document_id = ?1")
                    .and_then(|mut s| s.execute([id]))
                    .map_err(self.err())?;
                id
            }
        };
        let mut written = Written::default();
        let mut put_item = tx
            .prepare_cached(
                "INSERT INTO briefings (document_id, ordinal, title) VALUES (?1, ?2, ?3)",
            )
            .map_err(self.err())?;
        let mut put_source = tx
            .prepare_cached(
                "INSERT INTO sources (url, host, first_seen) VALUES (?1, ?2, ?3)
                 ON CONFLICT (url) DO NOTHING",
            )
            .map_err(self.err())?;
        let mut source_id = tx
            .prepare_cached("SELECT id FROM sources WHERE url = ?1")
            .map_err(self.err())?;
        let mut put_citation = tx
            .prepare_cached(
                "INSERT INTO citations (briefing_id, ordinal, origin, outlet, cited_date, url, source_id, invalid_reason, context)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .map_err(self.err())?;
        for (n, item) in items.iter().enumerate() {
            put_item
                .execute(params![id, n as i64, item.title])
                .map_err(self.err())?;
            let briefing_id = self.tx.last_insert_rowid();
            written.items += 1;
            for (m, c) in item.citations.iter().enumerate() {
                let (sid, reason) = match &c.source {
                    Ok((url, host)) => {
                        let inserted = put_source
                            .execute(params![url, host, now])
                            .map_err(self.err())?;
                        let sid: i64 = if inserted == 1 {
                            written.new_sources += 1;
                            tx.last_insert_rowid()
                        } else {
                            source_id
                                .query_row([url], |r| r.get(0))
                                .map_err(self.err())?
                        };
                        (Some(sid), None)
                    }
                    Err(reason) => {
                        written.invalid += 1;
                        (None, Some(reason.as_str()))
                    }
                };
                put_citation
                    .execute(params![
                        briefing_id,
                        m as i64,
                        c.origin,
                        c.outlet,
                        c.cited_date,
                        c.url,
                        sid,
                        reason,
                        c.context
                    ])
                    .map_err(self.err())?;
                written.citations += 1;
            }
        }
        Ok(written)
    }

    /// A document's bytes are unchanged (by sha256): clear any withdrawal (its
    /// items are still there) and remember its current stat for the next sync.
    pub fn keep_document(&self, id: i64, mtime_ns: Option<i64>) -> Result<()> {
        self.tx
            .prepare_cached("UPDATE documents SET withdrawn_at = NULL, mtime_ns = ?2 WHERE id = ?1")
            .and_then(|mut s| s.execute(params![id, mtime_ns]))
            .map_err(self.err())?;
        Ok(())
    }

    /// Marks a document withdrawn (gone from the store); returns its citation count.
    pub fn withdraw_document(&self, id: i64, now: Millis) -> Result<usize> {
        self.tx
            .prepare_cached(
                "UPDATE documents SET withdrawn_at = ?2 WHERE id = ?1 AND withdrawn_at IS NULL",
            )
            .and_then(|mut s| s.execute(params![id, now]))
            .map_err(self.err())?;
        let n: Option<i64> = self
            .tx
            .prepare_cached(
                "SELECT count(*) FROM citations c JOIN briefings b ON b.id = c.briefing_id WHERE b.document_id = ?1",
            )
            .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
            .map_err(self.err())?;
        Ok(n.unwrap_or(0) as usize)
    }

    /// Commits the batch.
    pub fn commit(self) -> Result<()> {
        self.tx.commit().map_err(super::sqlite_error(&self.file))
    }
}
