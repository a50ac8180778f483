//! `citewatch sync`

use std::io::Write;
use std::process::ExitCode;

use citewatch::check::lock::RunLock;
use citewatch::config::Config;
use citewatch::store::Store;
use citewatch::sync::{self, SyncOptions, SyncReport};
use citewatch::time::{format_millis, now_millis};

use super::{Failure, Format, lock_failure, print_json, runtime, usage};

/// Runs `sync`.
pub fn run(config: &Config, format: Format, rehash: bool) -> Result<ExitCode, Failure> {
    let docs = sync::find(config).map_err(usage)?;
    // One writer of the briefing store's rows at a time: two syncs (or a
    // sync and a check's own) both inserted the same new documents, and one
    // failed on a UNIQUE constraint.
    let _lock =
        RunLock::acquire(&config.store.dir, &format_millis(now_millis())).map_err(lock_failure)?;
    let mut store = Store::open(&config.store.database()).map_err(runtime)?;
    let report = sync::apply(
        &mut store,
        &config.briefings.paths,
        &docs,
        SyncOptions { rehash },
    )
    .map_err(runtime)?;
    print(&report, format).map_err(runtime)?;
    if !report.unreadable.is_empty() {
        return Err(runtime(anyhow::anyhow!(
            "{} document(s) could not be read; they were left as the store had them",
            report.unreadable.len()
        )));
    }
    Ok(ExitCode::SUCCESS)
}

fn print(r: &SyncReport, format: Format) -> anyhow::Result<()> {
    if format == Format::Json {
        return print_json(r);
    }
    let mut out = std::io::stdout().lock();
    for u in &r.unreadable {
        eprintln!("citewatch: cannot read {}: {}", u.document, u.error);
    }
    writeln!(
        out,
        "synced {} documents: {} new, {} changed, {} unchanged, {} restored, {} withdrawn (with {} citations)",
        r.documents, r.new, r.changed, r.unchanged, r.restored, r.withdrawn, r.citations_withdrawn
    )?;
    writeln!(
        out,
        "wrote {} items and {} citations ({} invalid), {} new sources, in {} ms",
        r.items_written, r.citations_written, r.invalid_written, r.new_sources, r.duration_ms
    )?;
    writeln!(
        out,
        "store now holds {} citations of {} sources",
        r.total_citations, r.total_sources
    )?;
    if r.unread_dates_total > 0 {
        writeln!(
            out,
            "{} cited dates could not be read; those citations are kept undated:",
            r.unread_dates_total
        )?;
        for u in &r.unread_dates {
            writeln!(out, "  {}: \"{}\"", u.document, u.written)?;
        }
        let more = r.unread_dates_total - r.unread_dates.len();
        if more > 0 {
            writeln!(out, "  … and {more} more")?;
        }
    }
    for n in &r.not_utf8 {
        writeln!(
            out,
            "{}: UTF-8 but for {} byte{}, read as U+FFFD (fix the document's encoding)",
            n.document,
            n.bytes,
            if n.bytes == 1 { "" } else { "s" }
        )?;
    }
    Ok(())
}
