//! `citewatch get`, `history`, `verify`: reading the archive back.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use citewatch::archive::warc::WarcError;
use citewatch::archive::{FsBlobStore, blob_dir, blobs, verify};
use citewatch::config::Config;
use citewatch::report::model::shell_quote;
use citewatch::report::text::plural;
use citewatch::source_url::{self, SourceUrl};
use citewatch::store::{CaptureRow, CheckRow, Store};
use citewatch::time::{format_millis, parse_at};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{
    Failure, Format, output_failed, print_json, progress_bar, runtime, show_progress, usage,
};

/// The source `raw` names. One there is not is bad input: asked for its
/// copies (`get`, `export-warc --url`), nothing is archived for it (and the
/// archived URLs nearby are named); asked for its history, which lists
/// checks too, it is not a source, as `status` says.
fn source_of(store: &Store, raw: &str, wants: Wants) -> Result<(SourceUrl, i64), Failure> {
    let url = source_url::normalize(raw).map_err(|e| {
        usage(anyhow::anyhow!(
            "`{raw}` is not a URL citewatch could have archived: {e}"
        ))
    })?;
    match store.source_id(url.as_str()).map_err(runtime)? {
        Some(id) => Ok((url, id)),
        None if wants == Wants::History => Err(super::check::not_a_source(store, &url)?),
        None => Err(nothing_archived(store, &url)?),
    }
}

/// What [`source_of`] is asked for a source's sake.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wants {
    /// Its archived copies.
    Copies,
    /// Its checks and captures.
    History,
}

fn nothing_archived(store: &Store, url: &SourceUrl) -> Result<Failure, Failure> {
    let near = store
        .archived_among(&source_url::near_misses(url))
        .map_err(runtime)?;
    let mut msg = format!("nothing is archived for {url}");
    if !near.is_empty() {
        msg.push_str("; archived nearby: ");
        let list: Vec<String> = near
            .iter()
            .map(|(u, n)| format!("{u} ({n} captures)"))
            .collect();
        msg.push_str(&list.join(", "));
    }
    // Asking for a URL nothing was kept of is bad input, as in `status`.
    Ok(usage(anyhow::anyhow!(msg)))
}

/// Runs `get`.
pub fn get(
    config: &Config,
    url: &str,
    at: Option<&str>,
    output: Option<PathBuf>,
    headers: bool,
) -> Result<ExitCode, Failure> {
    let at = at
        .map(parse_at)
        .transpose()
        .map_err(|e| usage(anyhow::anyhow!("--at: {e}")))?;
    let store = Store::open_existing(&config.store.database()).map_err(runtime)?;
    let (url, source_id) = source_of(&store, url, Wants::Copies)?;
    let quoted = shell_quote(url.as_str());
    let Some((capture, good)) = store.pick_copy(source_id, at).map_err(runtime)? else {
        // A source all right, checked or not, of which no copy was kept: no
        // good copy, as below, rather than a URL typed wrong.
        return Err(runtime(anyhow::anyhow!(
            "nothing is archived for {url}: no check of it has kept a copy yet; \
             `citewatch status {quoted}` says why"
        )));
    };
    if !good {
        let what = format!(
            "no good copy of {url} is archived: its latest capture (HTTP {}) is an error page, \
             or a page the link was sent to with other cited articles",
            capture.status
        );
        if at.is_none() {
            // Handing out the error page as "the archived copy" would mislead.
            return Err(runtime(anyhow::anyhow!(
                "{what}; `citewatch history {quoted}` lists the captures, and \
                 `citewatch get {quoted} --at TIME` writes the one nearest TIME"
            )));
        }
        eprintln!("note: {what}; writing the capture nearest --at");
    }
    let blobs = FsBlobStore::new(blob_dir(&config.store.dir));
    if !headers {
        // Checked whole before a byte goes out: standard output, a pipe or a
        // device cannot take back what was written, and a damaged zstd frame
        // (one without a checksum) often decompresses without complaint to
        // other bytes. Reading twice costs one more decompression and keeps
        // memory bounded whatever the copy's size, where holding it would not.
        let (actual, _) = blobs::rehash(&blobs, &capture.body_sha256).map_err(unreadable_copy)?;
        if actual != capture.body_sha256 {
            return Err(damaged_copy(&actual, &capture.body_sha256));
        }
    }
    // Written beside the file and renamed into place once whole and
    // verified: a failure leaves a file already there as it was.
    let mut file = output
        .as_deref()
        .map(|path| {
            citewatch::output_file::OutputFile::create(path, ".citewatch-get-")
                .map_err(|e| usage(anyhow::anyhow!("-o {}: {e}", path.display())))
        })
        .transpose()?;
    let written_to = || match &output {
        Some(path) => format!("-o {}", path.display()),
        None => "standard output".to_string(),
    };
    if headers {
        // To a file, the headers as they came; to standard output, a
        // terminal perhaps, a server's escape sequences are shown as text.
        let mut out: Box<dyn Write + '_> = match &mut file {
            Some(f) => Box::new(f),
            None => Box::new(citewatch::printable::Printable::new(
                std::io::stdout().lock(),
            )),
        };
        let reason = reqwest::StatusCode::from_u16(capture.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        let write = |out: &mut dyn Write| -> std::io::Result<()> {
            writeln!(out, "HTTP/1.1 {} {reason}", capture.status)?;
            for (k, v) in &capture.headers {
                writeln!(out, "{k}: {v}")?;
            }
            Ok(())
        };
        write(&mut out)
            .and_then(|()| out.flush())
            .map_err(|e| runtime(anyhow::anyhow!("{}: {e}", written_to())))?;
        drop(out);
        commit(file, &written_to)?;
        eprintln!(
            "capture {} of {} at {}",
            capture.id,
            capture.final_url,
            format_millis(capture.captured_at)
        );
        return Ok(ExitCode::SUCCESS);
    }
    let out_failed = |e: std::io::Error| runtime(anyhow::anyhow!("{}: {e}", written_to()));
    let actual = {
        let mut hashing = HashingWriter {
            inner: match &mut file {
                Some(f) => Box::new(std::io::BufWriter::new(f)) as Box<dyn Write + '_>,
                None => Box::new(std::io::stdout().lock()),
            },
            hasher: Sha256::new(),
        };
        match blobs::copy_to(&blobs, &capture.body_sha256, &mut hashing) {
            Err(blobs::BlobError::Output(e)) => return Err(out_failed(e)),
            Err(e) => return Err(unreadable_copy(e)),
            Ok(_) => {}
        }
        hashing.inner.flush().map_err(out_failed)?;
        hex::encode(hashing.hasher.finalize())
    };
    if actual != capture.body_sha256 {
        // Checked above; changed since (a blob is never rewritten, but a disk
        // may fail between two reads). Not committed: a damaged copy never
        // takes the file's place.
        return Err(damaged_copy(&actual, &capture.body_sha256));
    }
    commit(file, &written_to)?;
    eprintln!(
        "capture {} of {} at {}, HTTP {}, {} bytes, sha256 {}",
        capture.id,
        capture.final_url,
        format_millis(capture.captured_at),
        capture.status,
        capture.body_size,
        capture.body_sha256
    );
    if capture.truncated {
        eprintln!(
            "note: this copy is the page's first {} bytes only: the page was larger than \
             [fetch] max_body_bytes when captured",
            capture.body_size
        );
    }
    if at.is_none() {
        // The latest copy is not always the one cited: a page rewritten
        // since has a first copy that says otherwise, and a reader taking
        // this one for what the briefing quoted would be misled.
        let baseline = store.baseline_if_changed(source_id).map_err(runtime)?;
        if let Some(b) = baseline.filter(|b| b.id != capture.id) {
            let when = format_millis(b.captured_at);
            eprintln!(
                "note: this is the latest copy; the page was rewritten since first archived \
                 (capture {}, the copy its verdicts compare with): \
                 `citewatch get {quoted} --at {when}` writes that one, and \
                 `citewatch report` names the copy each citation was made against",
                b.id
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A blob that could not be read back (gone, or its frames damaged): what
/// the archive's own check would find, so it names it.
fn unreadable_copy(e: blobs::BlobError) -> Failure {
    runtime(anyhow::anyhow!(
        "the archived copy cannot be read: {e}; run `citewatch verify`"
    ))
}

fn damaged_copy(actual: &str, recorded: &str) -> Failure {
    runtime(anyhow::anyhow!(
        "the archived copy is damaged: it hashes to {actual}, recorded {recorded}; \
         run `citewatch verify`"
    ))
}

/// Puts `get`'s output file in place (nothing to do for standard output).
fn commit(
    file: Option<citewatch::output_file::OutputFile>,
    written_to: &dyn Fn() -> String,
) -> Result<(), Failure> {
    match file {
        Some(f) => f
            .commit()
            .map_err(|e| runtime(anyhow::anyhow!("{}: {e}", written_to()))),
        None => Ok(()),
    }
}

struct HashingWriter<'a> {
    inner: Box<dyn Write + 'a>,
    hasher: Sha256,
}

impl Write for HashingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[derive(Serialize)]
struct History {
    /// The source's id (`id`, as `status` and `sources` call it).
    #[serde(rename = "id")]
    source_id: i64,
    url: String,
    checks: Vec<CheckRow>,
    captures: Vec<CaptureRow>,
}

/// Runs `history`.
pub fn history(config: &Config, url: &str, format: Format) -> Result<ExitCode, Failure> {
    let store = Store::open_existing(&config.store.database()).map_err(runtime)?;
    let (url, source_id) = source_of(&store, url, Wants::History)?;
    let h = History {
        source_id,
        url: url.to_string(),
        checks: store.checks_of(source_id).map_err(runtime)?,
        captures: store.captures_of(source_id).map_err(runtime)?,
    };
    if format == Format::Json {
        print_json(&h).map_err(output_failed)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = citewatch::printable::Printable::new(std::io::stdout().lock());
    let mut w = || -> std::io::Result<()> {
        writeln!(out, "{} (source {})", h.url, h.source_id)?;
        if h.checks.is_empty() {
            writeln!(out, "  never checked")?;
        }
        for c in &h.checks {
            let what = match (c.http_status, &c.error_detail) {
                (_, Some(e)) => format!("{}: {e}", c.outcome),
                (Some(s), None) => format!("HTTP {s}"),
                (None, None) => c.outcome.clone(),
            };
            let cap = h.captures.iter().find(|x| Some(x.id) == c.capture_id);
            let mut archived = match cap {
                Some(x) if x.not_modified => format!("  capture {} (not modified)", x.id),
                Some(x) => format!(
                    "  capture {} sha256 {}… {} bytes",
                    x.id,
                    x.body_sha256.get(..12).unwrap_or(&x.body_sha256),
                    x.body_size
                ),
                None => String::new(),
            };
            if let Some(at) = cap.and_then(|x| x.disowned_at) {
                archived.push_str(&format!(
                    " (disowned {}: a page other cited articles are sent to)",
                    format_millis(at)
                ));
            }
            let verdict = c
                .status_after
                .as_deref()
                .map_or_else(String::new, |s| format!(" → {s}"));
            writeln!(
                out,
                "  {}  check {}  {what}{verdict}{archived}",
                format_millis(c.started_at),
                c.id
            )?;
            // The reason, unless it only repeats what the check saw.
            if let Some(e) = c
                .evidence
                .as_deref()
                .filter(|e| !e.is_empty() && *e != what)
            {
                writeln!(out, "      {e}")?;
            }
        }
        Ok(())
    };
    w().map_err(output_failed)?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `verify`: exit 1 when any problem is found.
pub fn verify(config: &Config, format: Format, repair: bool) -> Result<ExitCode, Failure> {
    let blobs = FsBlobStore::new(blob_dir(&config.store.dir));
    // Held to the end of the repair: the pack index rebuilt, then the
    // damaged copies the check below finds set aside, with no run
    // appending or deduplicating against them meanwhile.
    let lock = if repair {
        Some(repair_lock(config)?)
    } else {
        None
    };
    let repaired = if repair {
        repair_pack_index(&blobs)?
    } else {
        None
    };
    let mut report = match Store::open_existing(&config.store.database()) {
        Ok(store) => {
            let bar = progress_bar(format, "blobs re-hashed");
            let report = verify::verify_reporting(&store, &blobs, &mut |done, total| {
                show_progress(bar.as_ref(), done, total)
            });
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            report.map_err(runtime)?
        }
        // A database SQLite cannot open is what `verify` is there to find:
        // a finding (exit 1), not a failure of the command.
        Err(e) => {
            let e = anyhow::Error::from(e);
            if !super::damaged(&e) {
                return Err(runtime(e));
            }
            verify::VerifyReport {
                problems: vec![verify::Problem {
                    kind: "sqlite",
                    sha256: None,
                    captures: Vec::new(),
                    sources: Vec::new(),
                    detail: format!(
                        "{}; restore it from a backup (no blob was checked: their rows are in it)",
                        citewatch::error_text::one_line(e.as_ref())
                    ),
                }],
                ..verify::VerifyReport::default()
            }
        }
    };
    report.pack_index_rebuilt = repaired;
    if repair {
        verify::set_aside_damaged(&mut report, &blobs);
    }
    drop(lock);
    // A running check's temporary files are its writes in progress.
    report.run_in_progress = citewatch::check::lock::holder(&config.store.dir);
    if report.run_in_progress.is_some() {
        report.interrupted_writes.clear();
    }
    // `--repair` rebuilds an index that is lost, damaged, missing a pack,
    // naming one gone or bytes past a pack's end, or missing sound records
    // of one, and answers "nothing to repair" otherwise: offered only where
    // it acts, as it judges. Asked only when something is amiss: it reads
    // the index whole and the packs' unnamed bytes.
    let amiss = !report.problems.is_empty() || !report.unindexed_pack_bytes.is_empty();
    if amiss && !repair {
        report.pack_index_repairable = blobs.packs().needs_rebuild(true).ok().flatten();
    }
    if format == Format::Json {
        print_json(&report).map_err(output_failed)?;
    } else {
        let mut out = citewatch::printable::Printable::new(std::io::stdout().lock());
        let mut w = || -> std::io::Result<()> {
            if let Some(r) = &report.pack_index_rebuilt {
                writeln!(
                    out,
                    "{}: rebuilt the pack index from {} ({}){}",
                    r.reason,
                    plural(r.rebuilt.packs as i64, "pack file", "pack files"),
                    plural(r.rebuilt.blobs as i64, "record", "records"),
                    r.rebuilt
                        .old_index
                        .as_ref()
                        .map(|p| format!("; the old index is kept as {}", p.display()))
                        .unwrap_or_default()
                )?;
                for u in &r.rebuilt.unreadable {
                    writeln!(
                        out,
                        "  {}: skipped {} bytes at offset {}: no sound record there \
                         (damage, or a write cut short)",
                        u.pack, u.bytes, u.offset
                    )?;
                }
                if r.rebuilt.deltas_without_base > 0 {
                    writeln!(
                        out,
                        "  {} left out: their base is in no pack and no loose file (a \
                         repair once it is back finds them)",
                        plural(r.rebuilt.deltas_without_base as i64, "delta", "deltas")
                    )?;
                }
            } else if repair {
                let rest = if report.set_aside.is_empty() {
                    "nothing to repair"
                } else {
                    "it needs no rebuild"
                };
                writeln!(out, "the pack index is sound: {rest}")?;
            }
            for p in &report.problems {
                let sha = p.sha256.as_deref().unwrap_or("-");
                let sources = if p.sources.is_empty() {
                    String::new()
                } else {
                    format!("; {}", p.sources.join(", "))
                };
                writeln!(
                    out,
                    "PROBLEM {}: {sha}: {} (captures {:?}{sources})",
                    p.kind, p.detail, p.captures
                )?;
            }
            if !report.set_aside.is_empty() {
                writeln!(
                    out,
                    "set aside {} (nothing deleted): still lost, until the next check of \
                     its source fetches the page whole and stores the same bytes again:",
                    plural(
                        report.set_aside.len() as i64,
                        "damaged copy",
                        "damaged copies"
                    )
                )?;
                for c in &report.set_aside {
                    let sources = if c.sources.is_empty() {
                        "no source names it".to_string()
                    } else {
                        c.sources.join(", ")
                    };
                    writeln!(out, "  {}: {sources} (kept as {})", c.sha256, c.kept_as)?;
                }
            } else if !repair && report.problems.iter().any(|p| p.kind == "corrupt_blob") {
                writeln!(
                    out,
                    "`citewatch verify --repair` sets damaged copies aside (deleting nothing), \
                     so that the next check of their sources stores them again"
                )?;
            }
            writeln!(
                out,
                "verified {}: {}, {} (harmless)",
                plural(report.blobs_checked as i64, "blob", "blobs"),
                plural(report.problems.len() as i64, "problem", "problems"),
                plural(
                    report.unreferenced_blobs.len() as i64,
                    "unreferenced blob file",
                    "unreferenced blob files"
                ),
            )?;
            if let Some(holder) = &report.run_in_progress {
                writeln!(
                    out,
                    "a run is going ({holder}): temporary files in the blob folder may be \
                     its writes, so none is listed"
                )?;
            }
            let left = &report.interrupted_writes;
            if !left.is_empty() {
                let bytes: u64 = left.iter().map(|l| l.bytes).sum();
                writeln!(
                    out,
                    "{} of interrupted writes ({bytes} bytes; space only, safe to delete \
                     while no run is going):",
                    plural(left.len() as i64, "temporary file", "temporary files")
                )?;
                for l in left {
                    writeln!(out, "  {}", l.path.display())?;
                }
            }
            let kept = &report.damaged_copies_kept;
            if !kept.is_empty() {
                let bytes: u64 = kept.iter().map(|l| l.bytes).sum();
                writeln!(
                    out,
                    "{} set aside by an earlier `verify --repair` ({bytes} bytes; kept for \
                     inspection, never read again; space only, safe to delete):",
                    plural(kept.len() as i64, "damaged copy", "damaged copies")
                )?;
                for l in kept {
                    writeln!(out, "  {}", l.path.display())?;
                }
            }
            let packs = &report.unindexed_pack_bytes;
            let missing = report.problems.iter().any(|p| p.kind == "missing_blob");
            let rebuildable = report.pack_index_repairable.is_some();
            if !packs.is_empty() {
                let bytes: u64 = packs.iter().map(|p| p.bytes).sum();
                // With blobs missing, the unnamed bytes may be those blobs,
                // their index lost: calling them harmless invited deleting them.
                let why = if missing && rebuildable {
                    "the missing blobs may be among them, should the pack index have lost \
                     them: keep the packs; `citewatch verify --repair` builds the index again \
                     from them"
                } else if missing {
                    "the missing blobs may be among them, should the pack index have lost \
                     them: keep the packs"
                } else {
                    "an interrupted or racing write, or a damaged copy set aside: space only, \
                     harmless"
                };
                writeln!(
                    out,
                    "{bytes} bytes in {} are named by no index row ({why})",
                    plural(packs.len() as i64, "pack file", "pack files")
                )?;
            }
            // Said above when unnamed bytes may hold the missing blobs.
            let offered = !packs.is_empty() && missing;
            if let Some(why) = report.pack_index_repairable.as_ref().filter(|_| !offered) {
                writeln!(
                    out,
                    "{why}: `citewatch verify --repair` builds the pack index again from the \
                     pack files (a copy it can no longer name is stored again the next time \
                     its page is fetched)"
                )?;
            }
            Ok(())
        };
        w().map_err(output_failed)?;
    }
    Ok(if report.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The run lock `verify --repair` holds: a check appending while the pack
/// index is rebuilt would be lost from it, and one storing a blob while its
/// damaged copy is set aside could find the copy just before it goes.
fn repair_lock(config: &Config) -> Result<citewatch::check::lock::RunLock, Failure> {
    // No data folder, no store and nothing to repair: the lock would make
    // the folder (and its lock file) only to say so, as `verify` does below.
    if !config.store.dir.exists() {
        return Err(runtime(citewatch::store::StoreError::Missing {
            file: config.store.database(),
        }));
    }
    citewatch::check::lock::RunLock::acquire(
        &config.store.dir,
        &format_millis(citewatch::time::now_millis()),
    )
    .map_err(super::lock_failure)
}

/// `verify --repair`: the pack index built again from the packs when it is
/// missing, damaged, does not know every pack, names bytes that are gone
/// or lost sound records of one. The caller holds the run lock
/// ([`repair_lock`]).
fn repair_pack_index(blobs: &FsBlobStore) -> Result<Option<verify::Repaired>, Failure> {
    let Some(reason) = blobs.packs().needs_rebuild(true).map_err(runtime)? else {
        return Ok(None);
    };
    let rebuilt = blobs.rebuild_pack_index().map_err(runtime)?;
    Ok(Some(verify::Repaired { reason, rebuilt }))
}

/// Runs `export-warc`.
pub fn export_warc(
    config: &Config,
    output: &std::path::Path,
    url: Option<&str>,
    since: Option<&str>,
    cdxj: bool,
    jobs: Option<usize>,
    format: Format,
) -> Result<ExitCode, Failure> {
    let since = since
        .map(citewatch::time::parse_since)
        .transpose()
        .map_err(|e| usage(anyhow::anyhow!("--since: {e}")))?;
    // Every record is gzipped: web-archive tools tell such a file by its name.
    // A device or pipe (`-o /dev/stdout`) has no name to keep, nor has
    // standard output sent to a file by the shell: its name is the shell's.
    let to_stdout = citewatch::output_file::is_stdout(output);
    let is_file = std::fs::metadata(output).map_or(true, |m| m.is_file());
    let name = output.to_string_lossy();
    if is_file && !to_stdout && !citewatch::archive::warc::has_warc_gz_ending(&name) {
        return Err(usage(anyhow::anyhow!(
            "-o {name}: the records are gzipped, so name the file FILE.warc.gz"
        )));
    }
    if (!is_file || to_stdout) && cdxj {
        return Err(usage(anyhow::anyhow!(
            "--cdxj: the index goes beside the WARC file, and -o {name} is not a file"
        )));
    }
    let store = Store::open_existing(&config.store.database()).map_err(runtime)?;
    let source_id = match url {
        Some(u) => Some(source_of(&store, u, Wants::Copies)?.1),
        None => None,
    };
    let filter = citewatch::store::CaptureFilter { source_id, since };
    let blobs = FsBlobStore::new(blob_dir(&config.store.dir));
    let bar = progress_bar(format, "captures");
    let summary = citewatch::archive::warc::export_reporting(
        &store,
        &blobs,
        &filter,
        output,
        cdxj,
        // One a core, within what --jobs itself allows.
        jobs.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, |n| n.get().min(256))
        }),
        &mut |done, total| show_progress(bar.as_ref(), done, total),
    );
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let summary = summary.map_err(|e| match e {
        // `-o` names a place no file can be made: like report -o, exit 2.
        WarcError::Output { .. } => usage(e),
        e => runtime(e),
    })?;
    // The records own standard output when they go there.
    if format == Format::Json && to_stdout {
        eprintln!(
            "{}",
            serde_json::to_string_pretty(&summary).map_err(runtime)?
        );
    } else if format == Format::Json {
        print_json(&summary).map_err(output_failed)?;
    } else {
        let line = format!(
            "wrote {} ({}, {}, {}, {} bytes){}",
            summary.file.display(),
            plural(summary.captures as i64, "capture", "captures"),
            plural(summary.records as i64, "record", "records"),
            plural(summary.revisits as i64, "revisit", "revisits"),
            summary.bytes,
            summary
                .cdxj_file
                .as_ref()
                .map(|c| format!(" and {}", c.display()))
                .unwrap_or_default()
        );
        if to_stdout {
            eprintln!("{line}");
        } else {
            // Not `println!`, which panics when standard output cannot be written.
            writeln!(std::io::stdout(), "{line}").map_err(output_failed)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
