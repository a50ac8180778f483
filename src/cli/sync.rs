//! `citewatch sync`

use std::io::Write;
use std::process::ExitCode;

use citewatch::check::lock::RunLock;
use citewatch::config::Config;
use citewatch::store::Store;
use citewatch::sync::{self, SyncOptions, SyncReport};
use citewatch::time::{format_millis, now_millis};

use super::{Failure, Format, lock_failure, output_failed, print_json, runtime, usage};

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
    print(&report, format).map_err(output_failed)?;
    if !report.unreadable.is_empty() {
        return Err(runtime(anyhow::anyhow!(
            "{}",
            unreadable_line(report.unreadable.len())
        )));
    }
    Ok(ExitCode::SUCCESS)
}

fn print(r: &SyncReport, format: Format) -> anyhow::Result<()> {
    if format == Format::Json {
        return print_json(r);
    }
    let mut out = citewatch::printable::Printable::new(std::io::stdout().lock());
    for u in &r.unreadable {
        eprintln!("citewatch: cannot read {}: {}", u.document, u.error);
    }
    writeln!(
        out,
        "synced {}: {} new, {} changed, {} unchanged, {} restored, {} withdrawn (with {})",
        count(r.documents, "document", "documents"),
        r.new,
        r.changed,
        r.unchanged,
        r.restored,
        r.withdrawn,
        count(r.citations_withdrawn, "citation", "citations"),
    )?;
    writeln!(
        out,
        "wrote {} and {} ({} invalid), {}, in {} ms",
        count(r.items_written, "item", "items"),
        count(r.citations_written, "citation", "citations"),
        r.invalid_written,
        count(r.new_sources, "new source", "new sources"),
        r.duration_ms
    )?;
    writeln!(
        out,
        "store now holds {} of {}",
        count(r.total_citations, "citation", "citations"),
        count(r.total_sources, "source", "sources"),
    )?;
    if r.unread_dates_total > 0 {
        writeln!(
            out,
            "{} could not be read; {} kept undated:",
            count(r.unread_dates_total, "cited date", "cited dates"),
            if r.unread_dates_total == 1 {
                "its citation is"
            } else {
                "those citations are"
            }
        )?;
        for u in &r.unread_dates {
            let why = if u.ambiguous {
                " (ambiguous: month/day or day/month)"
            } else {
                ""
            };
            writeln!(out, "  {}: \"{}\"{why}", u.document, u.written)?;
        }
        let more = r.unread_dates_total - r.unread_dates.len();
        if more > 0 {
            writeln!(out, "  … and {more} more")?;
        }
    }
    for n in &r.not_utf8 {
        let at = if n.bytes == 1 { "at" } else { "the first at" };
        writeln!(
            out,
            "{}: UTF-8 but for {} byte{}, {at} byte offset {}, read as U+FFFD \
             (fix the document's encoding)",
            n.document,
            n.bytes,
            if n.bytes == 1 { "" } else { "s" },
            n.offset,
        )?;
    }
    Ok(())
}

/// The error line of a sync that could not read `n` documents, in words that
/// agree with `n`: "1 document could not be read; it was left …".
pub fn unreadable_line(n: usize) -> String {
    let left = if n == 1 { "it was" } else { "they were" };
    format!(
        "{} could not be read; {left} left as the store had {}",
        count(n, "document", "documents"),
        if n == 1 { "it" } else { "them" }
    )
}

/// `n` and the noun that agrees with it: "1 document", "2 documents".
fn count(n: impl std::fmt::Display, one: &str, many: &str) -> String {
    let n = n.to_string();
    let noun = if n == "1" { one } else { many };
    format!("{n} {noun}")
}
