//! `citewatch citations`

use std::io::Write;
use std::process::ExitCode;

use citewatch::config::Config;
use citewatch::store::{CitationRow, Store};

use super::{Failure, Format, output_failed, runtime};

/// Runs `citations`.
pub fn run(
    config: &Config,
    format: Format,
    include_withdrawn: bool,
    invalid: bool,
) -> Result<ExitCode, Failure> {
    let store = Store::open_existing(&config.store.database()).map_err(runtime)?;
    let mut rows = store.citations(include_withdrawn).map_err(runtime)?;
    let all = rows.len();
    if invalid {
        rows.retain(|r| r.invalid_reason.is_some());
    }
    print(&rows, format, all).map_err(output_failed)?;
    Ok(ExitCode::SUCCESS)
}

/// `all`: citations before `--invalid` kept only the invalid ones.
fn print(rows: &[CitationRow], format: Format, all: usize) -> anyhow::Result<()> {
    if format == Format::Json {
        return super::print_json(rows);
    }
    let mut out = citewatch::printable::Printable::new(std::io::stdout().lock());
    let mut last_doc: Option<(&str, &str)> = None;
    let mut last_title: Option<&str> = None;
    for r in rows {
        if last_doc != Some((&r.root, &r.document)) {
            let gone = if r.withdrawn { "  (withdrawn)" } else { "" };
            writeln!(out, "{}{gone}", r.document)?;
            last_doc = Some((&r.root, &r.document));
            last_title = None;
        }
        if last_title != Some(&r.title) {
            writeln!(out, "  {}", r.title)?;
            last_title = Some(&r.title);
        }
        let outlet = r.outlet.as_deref().unwrap_or("-");
        let date = r.cited_date.as_deref().unwrap_or("-");
        let url = r.url.as_deref().unwrap_or("(no URL)");
        match (&r.invalid_reason, r.source_url.as_deref()) {
            (Some(reason), _) => writeln!(out, "    {outlet}, {date}  INVALID ({reason}): {url}")?,
            // The address checked, when it is not the one written: what
            // `status` and `check --url` are given.
            (None, Some(source)) if source != url => {
                writeln!(out, "    {outlet}, {date}  {url}  (source: {source})")?
            }
            (None, _) => writeln!(out, "    {outlet}, {date}  {url}")?,
        }
    }
    if rows.is_empty() && all > 0 {
        writeln!(out, "no invalid citation among {all}")?;
    } else if rows.is_empty() {
        writeln!(
            out,
            "no citations; run `citewatch sync` after adding briefings"
        )?;
    }
    Ok(())
}
