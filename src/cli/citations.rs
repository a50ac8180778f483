//! `citewatch citations`

use std::io::Write;
use std::process::ExitCode;

use citewatch::config::Config;
use citewatch::report::model::heading;
use citewatch::store::{CitationRow, Store};

use super::{Failure, Format, Streamed, buffered_stdout, output_failed, runtime};

/// Runs `citations`. The rows are streamed from the store to a buffered
/// standard output, one at a time: held whole, 500,000 citations took
/// 500 MB, and printed a line per system call, 46 s.
pub fn run(
    config: &Config,
    format: Format,
    include_withdrawn: bool,
    invalid: bool,
) -> Result<ExitCode, Failure> {
    let store = Store::open_existing(&config.store.database()).map_err(runtime)?;
    let keep = |r: &CitationRow| !invalid || r.invalid_reason.is_some();
    if format == Format::Json {
        json(&store, include_withdrawn, keep)?;
        return Ok(ExitCode::SUCCESS);
    }
    let name_roots = store
        .listing_spans_roots(include_withdrawn)
        .map_err(runtime)?;
    let mut text = Text {
        out: citewatch::printable::Printable::new(buffered_stdout()),
        name_roots,
        last_doc: None,
        last_item: None,
        listed: 0,
    };
    let mut all = 0usize;
    store.for_each_citation(include_withdrawn, |r| -> Result<(), Streamed> {
        all += 1;
        if keep(&r) {
            text.row(&r)?;
        }
        Ok(())
    })?;
    let mut out = text.out;
    let mut w = || -> std::io::Result<()> {
        if text.listed == 0 && all > 0 {
            writeln!(out, "no invalid citation among {all}")?;
        } else if text.listed == 0 {
            writeln!(
                out,
                "no citations; run `citewatch sync` after adding briefings"
            )?;
        }
        out.flush()
    };
    w().map_err(output_failed)?;
    Ok(ExitCode::SUCCESS)
}

/// The JSON array `citewatch citations --format json` has always printed,
/// written an element at a time.
fn json(
    store: &Store,
    include_withdrawn: bool,
    keep: impl Fn(&CitationRow) -> bool,
) -> Result<(), Streamed> {
    super::json_array(|emit| {
        store.for_each_citation(
            include_withdrawn,
            |r| if keep(&r) { emit(&r) } else { Ok(()) },
        )?;
        Ok(())
    })
}

/// The text listing: a document's heading, each briefing item's title
/// under it, its citations under that.
struct Text<W> {
    out: W,
    /// Whether headings name their `[briefings] paths` entry.
    name_roots: bool,
    /// The document listed last, `(root, path)`.
    last_doc: Option<(String, String)>,
    /// The briefing item listed last, by id: two items may share a title.
    last_item: Option<i64>,
    /// Citations listed.
    listed: usize,
}

impl<W: Write> Text<W> {
    fn row(&mut self, r: &CitationRow) -> std::io::Result<()> {
        let out = &mut self.out;
        let same_doc = self
            .last_doc
            .as_ref()
            .is_some_and(|(root, doc)| *root == r.root && *doc == r.document);
        if !same_doc {
            // Named as the report names it: two `[briefings] paths`
            // entries may each hold `2020/x.txt`.
            let gone = if r.withdrawn { "  (withdrawn)" } else { "" };
            let name = heading(&r.root, &r.document, self.name_roots);
            writeln!(out, "{name}{gone}")?;
            self.last_doc = Some((r.root.clone(), r.document.clone()));
            self.last_item = None;
        }
        if self.last_item != Some(r.briefing_id) {
            writeln!(out, "  {}", r.title)?;
            self.last_item = Some(r.briefing_id);
        }
        self.listed += 1;
        let outlet = r.outlet.as_deref().unwrap_or("-");
        let date = r.cited_date.as_deref().unwrap_or("-");
        let url = r.url.as_deref().unwrap_or("(no URL)");
        match (&r.invalid_reason, r.source_url.as_deref()) {
            (Some(reason), _) => writeln!(out, "    {outlet}, {date}  INVALID ({reason}): {url}"),
            // The address checked, when it is not the one written: what
            // `status` and `check --url` are given.
            (None, Some(source)) if source != url => {
                writeln!(out, "    {outlet}, {date}  {url}  (source: {source})")
            }
            (None, _) => writeln!(out, "    {outlet}, {date}  {url}"),
        }
    }
}
