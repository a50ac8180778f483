//! Broken-citation reports an editor can act on.
//!
//! [`write()`] asks the store for the aggregate numbers first ([`model::Summary`]),
//! then streams the listed citations ordered by section, document and briefing
//! item, handing each to a renderer as events ([`Render`]). A thread of its own
//! reads the listing and prepares each citation's view while the calling
//! thread renders; they pass a bounded number of small batches, so memory is
//! independent of the store's size. Renderers are pure writers: [`text`],
//! [`markdown`], [`csv`], [`json`], [`html`]. [`select`] owns status names,
//! sections and `--fail-on`; [`evidence`] the plain-words evidence.

pub mod csv;
pub mod evidence;
pub mod html;
pub mod json;
pub mod markdown;
pub mod model;
pub mod select;
pub mod text;

use std::io::Write;

use crate::store::{ReportScope, Store, StoreError};
use crate::time::{Millis, format_millis};
use model::{BriefingHead, Citation, DocumentHead, Header, SectionHead, Summary};
use select::{FailOn, Section};

/// A report failure.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The output could not be written.
    #[error("writing the report: {0}")]
    Write(#[from] std::io::Error),
    /// A CSV row could not be written.
    #[error("writing the report: {0}")]
    Csv(#[from] ::csv::Error),
    /// The thread reading the listing could not be started.
    #[error("starting the report's reader thread: {0}")]
    Thread(std::io::Error),
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// Aligned for a terminal.
    Text,
    /// For an issue or an e-mail.
    Markdown,
    /// One row per citation.
    Csv,
    /// The documented schema.
    Json,
    /// One self-contained page.
    Html,
}

/// What to report.
#[derive(Debug, Clone)]
pub struct Options {
    /// Listed statuses, in section order (see [`select::parse_statuses`]).
    pub statuses: Vec<&'static str>,
    /// Only citations whose source newly entered its status group.
    pub new_only: bool,
    /// Start of the "new" window; `None`: the latest completed run's start.
    pub since: Option<Millis>,
    /// Only this outlet.
    pub outlet: Option<String>,
    /// Only this document (or folder).
    pub document: Option<String>,
    /// Only documents under this `[briefings] paths` entry, as written (a
    /// whole entry asked for as `--document`, or, with `document`, the
    /// entry that document was named under).
    pub root: Option<String>,
    /// Where archived copies are linked, ending with `/` (`{it}archive/{id}`):
    /// `[serve] archive_origin` when set, else `[serve] public_url`.
    pub public_url: Option<String>,
    /// The time written as `generated_at`.
    pub now: Millis,
    /// ANSI colour in text output.
    pub color: bool,
}

/// What a finished report listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Citations listed.
    pub listed: u64,
    /// Listed citations that are broken.
    pub broken: u64,
    /// Listed citations that are changed.
    pub changed: u64,
    /// Listed citations that are failing.
    pub failing: u64,
}

impl Outcome {
    /// Whether any listed citation matches one of `fail_on`.
    pub fn fails(&self, fail_on: &[FailOn]) -> bool {
        fail_on.iter().any(|f| match f {
            FailOn::Broken => self.broken > 0,
            FailOn::Changed => self.changed > 0,
            FailOn::Failing => self.failing > 0,
        })
    }
}

/// A format's writer, driven by events in document order within each section.
/// Every `start_*` is matched by its `end_*`.
pub trait Render {
    /// The header and summary, before any section.
    fn start(&mut self, header: &Header, summary: &Summary) -> Result<(), ReportError>;
    /// A section starts (possibly empty: then `end_section` follows at once).
    fn start_section(&mut self, section: &SectionHead) -> Result<(), ReportError>;
    /// A document starts within the section.
    fn start_document(&mut self, doc: &DocumentHead) -> Result<(), ReportError>;
    /// A briefing item starts within the document.
    fn start_briefing(&mut self, briefing: &BriefingHead) -> Result<(), ReportError>;
    /// One citation of the current briefing item.
    fn citation(&mut self, c: &Citation) -> Result<(), ReportError>;
    /// The briefing item ends.
    fn end_briefing(&mut self) -> Result<(), ReportError> {
        Ok(())
    }
    /// The document ends.
    fn end_document(&mut self) -> Result<(), ReportError> {
        Ok(())
    }
    /// The section ends.
    fn end_section(&mut self) -> Result<(), ReportError> {
        Ok(())
    }
    /// Everything was written.
    fn finish(&mut self) -> Result<(), ReportError>;
}

/// The renderer for a format, writing to `out`.
pub fn renderer<'w>(
    format: ReportFormat,
    out: &'w mut dyn Write,
    color: bool,
) -> Box<dyn Render + 'w> {
    match format {
        ReportFormat::Text => Box::new(text::Text::new(out, color)),
        ReportFormat::Markdown => Box::new(markdown::Markdown::new(out)),
        ReportFormat::Csv => Box::new(csv::Csv::new(out)),
        ReportFormat::Json => Box::new(json::Json::new(out)),
        ReportFormat::Html => Box::new(html::Html::new(out)),
    }
}

/// Writes a report of `store` to `out`.
pub fn write(
    store: &Store,
    opts: &Options,
    format: ReportFormat,
    out: &mut dyn Write,
) -> Result<Outcome, ReportError> {
    let mut r = renderer(format, out, opts.color);
    let outcome = drive(store, opts, r.as_mut())?;
    drop(r);
    out.flush()?;
    Ok(outcome)
}

/// Runs the report through any renderer.
pub fn drive(store: &Store, opts: &Options, r: &mut dyn Render) -> Result<Outcome, ReportError> {
    let _snapshot = store.report_snapshot()?;
    let since = match opts.since {
        Some(t) => Some(t),
        None => store.last_completed_run_start()?,
    };
    let ranks: Vec<(&str, i64)> = opts
        .statuses
        .iter()
        .map(|s| (*s, Section::of(s) as i64))
        .collect();
    let scope = ReportScope {
        statuses: &opts.statuses,
        ranks: &ranks,
        outlet: opts.outlet.as_deref(),
        document: opts.document.as_deref(),
        root: opts.root.as_deref(),
        since,
        new_only: opts.new_only,
    };
    let name_roots = store.spans_roots()?;
    let statuses = store.source_statuses()?;
    let (counts, listing) = store.report_counts(&scope, &statuses)?;
    let header = Header {
        schema: model::SCHEMA,
        generated_at: format_millis(opts.now),
        since: since.map(format_millis),
        new_only: opts.new_only,
        statuses: opts.statuses.clone(),
        outlet: opts.outlet.clone(),
        document: opts.document.clone().or_else(|| opts.root.clone()),
    };
    let summary = Summary::from_counts(&counts);
    r.start(&header, &summary)?;
    let listed_in = |section: Section| -> i64 {
        counts
            .listed_by_status
            .iter()
            .filter(|(s, _)| Section::of(s) == section)
            .map(|(_, n)| n)
            .sum()
    };
    let mut pending: std::collections::VecDeque<Section> = select::sections(&opts.statuses).into();
    let mut state = Walk::default();
    let mut outcome = Outcome::default();
    let public_url = opts.public_url.as_deref();
    std::thread::scope(|scope| -> Result<(), ReportError> {
        let (tx, rx) = std::sync::mpsc::sync_channel(BATCHES);
        let (spent_tx, spent_rx) = std::sync::mpsc::sync_channel(BATCHES);
        std::thread::Builder::new()
            .name("report-rows".into())
            .spawn_scoped(scope, move || read_rows(listing, public_url, tx, spent_rx))
            .map_err(ReportError::Thread)?;
        // Returning early drops `rx`: the reader stops at its next batch.
        for batch in rx {
            let mut batch = batch?;
            for row in &mut batch {
                let section = Section::of(&row.citation.status);
                if state.section != Some(section) {
                    state.close(r)?;
                    // Sections with nothing listed still appear, in order.
                    while let Some(next) = pending.pop_front() {
                        r.start_section(&SectionHead {
                            section: next,
                            citations: listed_in(next),
                        })?;
                        if next == section {
                            break;
                        }
                        r.end_section()?;
                    }
                    state.section = Some(section);
                }
                let same_document = state
                    .document
                    .as_ref()
                    .is_some_and(|(root, doc)| *root == row.root && *doc == row.document);
                if !same_document {
                    state.close_document(r)?;
                    let head = DocumentHead {
                        heading: model::heading(&row.root, &row.document, name_roots),
                        root: std::mem::take(&mut row.root),
                        document: std::mem::take(&mut row.document),
                    };
                    r.start_document(&head)?;
                    state.document = Some((head.root, head.document));
                }
                if state.briefing != Some(row.briefing_ordinal) {
                    state.close_briefing(r)?;
                    r.start_briefing(&BriefingHead {
                        item: row.briefing_ordinal + 1,
                        title: std::mem::take(&mut row.title),
                    })?;
                    state.briefing = Some(row.briefing_ordinal);
                }
                let c = &row.citation;
                outcome.listed += 1;
                if FailOn::Broken.matches(&c.status) {
                    outcome.broken += 1;
                }
                if FailOn::Changed.matches(&c.status) {
                    outcome.changed += 1;
                }
                if FailOn::Failing.matches(&c.status) {
                    outcome.failing += 1;
                }
                r.citation(c)?;
            }
            // Freed by the thread that allocated it, where freeing is cheap.
            let _ = spent_tx.try_send(batch);
        }
        Ok(())
    })?;
    state.close(r)?;
    for next in pending {
        r.start_section(&SectionHead {
            section: next,
            citations: listed_in(next),
        })?;
        r.end_section()?;
    }
    r.finish()?;
    Ok(outcome)
}

/// Listed rows handed to the renderer at a time.
const BATCH: usize = 256;

/// Batches on their way to the renderer, and as many on their way back: what
/// is held at once is at most `2 × BATCHES + 2` batches of rows, however large
/// the report.
const BATCHES: usize = 4;

/// One listed citation, ready to render: where it goes and what it shows.
struct Listed {
    root: String,
    document: String,
    briefing_ordinal: i64,
    title: String,
    citation: Citation,
}

/// Reads the listing and prepares each row for the renderer, on a thread of
/// its own: the sort's merge, the source records and each row's view cost
/// about as much as rendering and writing, which the calling thread does
/// meanwhile. Stops when the renderer hangs up.
fn read_rows(
    listing: crate::store::ReportListing,
    public_url: Option<&str>,
    tx: std::sync::mpsc::SyncSender<Result<Vec<Listed>, StoreError>>,
    spent: std::sync::mpsc::Receiver<Vec<Listed>>,
) {
    // A batch the renderer is done with, emptied here, or a new one.
    let next_batch = || match spent.try_recv() {
        Ok(mut batch) => {
            batch.clear();
            batch
        }
        Err(_) => Vec::with_capacity(BATCH),
    };
    let mut batch = next_batch();
    for row in listing {
        let mut row = match row {
            Ok(row) => row,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        batch.push(Listed {
            root: std::mem::take(&mut row.root),
            document: std::mem::take(&mut row.document),
            briefing_ordinal: row.briefing_ordinal,
            title: std::mem::take(&mut row.title),
            citation: Citation::from_row(row, public_url),
        });
        if batch.len() == BATCH
            && tx
                .send(Ok(std::mem::replace(&mut batch, next_batch())))
                .is_err()
        {
            return;
        }
    }
    if !batch.is_empty() {
        let _ = tx.send(Ok(batch));
    }
}

/// Where the event stream is: which section, document and briefing are open.
#[derive(Default)]
struct Walk {
    section: Option<Section>,
    document: Option<(String, String)>,
    briefing: Option<i64>,
}

impl Walk {
    fn close_briefing(&mut self, r: &mut dyn Render) -> Result<(), ReportError> {
        if self.briefing.take().is_some() {
            r.end_briefing()?;
        }
        Ok(())
    }

    fn close_document(&mut self, r: &mut dyn Render) -> Result<(), ReportError> {
        self.close_briefing(r)?;
        if self.document.take().is_some() {
            r.end_document()?;
        }
        Ok(())
    }

    fn close(&mut self, r: &mut dyn Render) -> Result<(), ReportError> {
        self.close_document(r)?;
        if self.section.take().is_some() {
            r.end_section()?;
        }
        Ok(())
    }
}
