//! `citewatch report`: parse the selection, open the store read-only, write the
//! report to standard output or a file, and map `--fail-on` to the exit code.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use citewatch::config::Config;
use citewatch::report::select::{
    BadDocument, DEFAULT_STATUSES, DocumentFilter, FailOn, document_filter, never_fires,
    parse_statuses,
};
use citewatch::report::{self, Options, ReportFormat};
use citewatch::store::Store;
use citewatch::time::{now_millis, parse_since};
use clap::ValueEnum;

use super::{Failure, OUT_BUFFER, output_failed, runtime, usage};

/// Output formats of `report`.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum Format {
    /// Aligned for a terminal; colour on a TTY unless NO_COLOR is set (to anything but empty).
    Text,
    /// For pasting into an issue or an e-mail.
    Markdown,
    /// One row per citation, for spreadsheets.
    Csv,
    /// The documented schema (README, "report JSON").
    Json,
    /// One self-contained, printable page.
    Html,
}

/// What `--fail-on` accepts.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum FailOnArg {
    /// A listed citation is dead, soft_404 or unreachable.
    Broken,
    /// A listed citation is changed.
    Changed,
    /// A listed citation is failing (not yet confirmed broken).
    Failing,
}

/// The parsed arguments of `report`.
pub struct ReportArgs {
    /// Output format.
    pub format: Format,
    /// `--status` list.
    pub status: Option<String>,
    /// `--new`.
    pub new: bool,
    /// `--since`.
    pub since: Option<String>,
    /// `--outlet`.
    pub outlet: Option<String>,
    /// `--document`: a path on disk need not be UTF-8.
    pub document: Option<std::ffi::OsString>,
    /// `-o`.
    pub output: Option<PathBuf>,
    /// `--fail-on`.
    pub fail_on: Vec<FailOnArg>,
}

/// Runs `report`.
pub fn run(config: &Config, a: ReportArgs) -> Result<ExitCode, Failure> {
    let statuses = match &a.status {
        Some(list) => parse_statuses(list).map_err(|e| usage(anyhow::anyhow!("--status: {e}")))?,
        None => DEFAULT_STATUSES.to_vec(),
    };
    let since = a
        .since
        .as_deref()
        .map(parse_since)
        .transpose()
        .map_err(|e| usage(anyhow::anyhow!("--since: {e}")))?;
    let fail_on: Vec<FailOn> = a
        .fail_on
        .iter()
        .map(|f| match f {
            FailOnArg::Broken => FailOn::Broken,
            FailOnArg::Changed => FailOn::Changed,
            FailOnArg::Failing => FailOn::Failing,
        })
        .collect();
    // A gate that cannot fail is a mistake in the pipeline, not a pass.
    if let (Some(f), Some(list)) = (never_fires(&fail_on, &statuses), &a.status) {
        let class = f.name();
        return Err(usage(anyhow::anyhow!(
            "--fail-on {class} can never fire with --status {list}: the report lists no \
             {class} citation, and --fail-on counts only those listed; add {class} to \
             --status, or drop --fail-on {class}"
        )));
    }
    let store = Store::open_existing(&config.store.database()).map_err(runtime)?;
    let filter = match &a.document {
        Some(d) => document_filter(&store, &config.briefings.paths, &document_asked(config, d))
            .map_err(|e| match e {
                BadDocument::Unknown(_) | BadDocument::Withdrawn(_) => {
                    usage(anyhow::anyhow!("--document {e}"))
                }
                BadDocument::Store(e) => runtime(e),
            })?,
        None => DocumentFilter::default(),
    };
    // Copied from a table, a name brings its spaces along; no outlet has them.
    let outlet = a.outlet.as_deref().map(str::trim);
    if let Some(o) = outlet
        && !store.has_outlet(o).map_err(runtime)?
    {
        return Err(usage(anyhow::anyhow!(
            "--outlet `{o}`: no citation names that outlet"
        )));
    }
    let to_terminal = a.output.is_none() && std::io::stdout().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let options = Options {
        statuses,
        new_only: a.new,
        since,
        outlet: outlet.map(str::to_owned),
        document: filter.document,
        root: filter.root,
        // As the service links them: archived copies on their own origin
        // when one is configured, so a page never shares the service's.
        public_url: config
            .serve
            .archive_origin()
            .or_else(|| config.serve.public_url())
            .map(|u| u.to_string()),
        now: now_millis(),
        color: a.format == Format::Text && to_terminal && !no_color,
    };
    let format = match a.format {
        Format::Text => ReportFormat::Text,
        Format::Markdown => ReportFormat::Markdown,
        Format::Csv => ReportFormat::Csv,
        Format::Json => ReportFormat::Json,
        Format::Html => ReportFormat::Html,
    };
    let gated = !fail_on.is_empty();
    let outcome = match &a.output {
        None => {
            let stdout = Gate::new(std::io::stdout().lock(), gated);
            let mut out = std::io::BufWriter::with_capacity(OUT_BUFFER, stdout);
            let outcome = report::write(&store, &options, format, &mut out)
                .map_err(|e| not_written(e, "standard output"))?;
            out.flush().map_err(output_failed)?;
            outcome
        }
        Some(path) => write_file(&store, &options, format, path, gated)?,
    };
    if outcome.fails(&fail_on) {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// `--document` as text: as given when it is UTF-8; else a path on disk,
/// named as sync names it (each byte that is not UTF-8 as `\xNN`), or,
/// under no `[briefings] paths` entry, shown lossily for the error.
fn document_asked(config: &Config, given: &std::ffi::OsStr) -> String {
    match given.to_str() {
        Some(text) => text.to_string(),
        None => {
            // As `sync` names it, entry and all, so that the filter keeps to
            // that entry's document.
            citewatch::briefing::name_on_disk(&config.briefings.paths, std::path::Path::new(given))
                .map(|(root, name)| format!("{}/{name}", root.trim_end_matches('/')))
                .unwrap_or_else(|| given.to_string_lossy().into_owned())
        }
    }
}

/// A report that failed: one that could not be written names where it was
/// going (`to`), as `get -o` does, so a full disk under the output is not
/// taken for the store's.
fn not_written(e: report::ReportError, to: &str) -> Failure {
    match e {
        report::ReportError::Write(_) | report::ReportError::Csv(_) => {
            runtime(anyhow::Error::from(e).context(to.to_string()))
        }
        e => runtime(e),
    }
}

/// Writes the report beside `path` and renames it into place, so a reader (or
/// a web server) never sees half a report.
fn write_file(
    store: &Store,
    options: &Options,
    format: ReportFormat,
    path: &std::path::Path,
    gated: bool,
) -> Result<report::Outcome, Failure> {
    let file = citewatch::output_file::OutputFile::create(path, ".citewatch-report-")
        .map_err(|e| usage(anyhow::anyhow!("-o {}: {e}", path.display())))?;
    // `-o /dev/stdout` into a pipe is written in place, so its reader can
    // go early too.
    let mut out = std::io::BufWriter::with_capacity(OUT_BUFFER, Gate::new(file, gated));
    let outcome = report::write(store, options, format, &mut out)
        .map_err(|e| not_written(e, &format!("-o {}", path.display())))?;
    let file = out
        .into_inner()
        .map_err(|e| runtime(anyhow::anyhow!("-o {}: {}", path.display(), e.error())))?
        .inner;
    file.commit()
        .map_err(|e| runtime(anyhow::anyhow!("-o {}: {e}", path.display())))?;
    Ok(outcome)
}

/// The report's output when `--fail-on` gates a pipeline: once its reader
/// has gone (`| head`), the rest is discarded rather than the report
/// stopped, so the exit code still says whether a listed citation matched.
/// Stopped there, the report exited 0, as an ungated one does, and let
/// broken links through the gate.
struct Gate<W> {
    inner: W,
    gated: bool,
    reader_gone: bool,
}

impl<W: Write> Gate<W> {
    fn new(inner: W, gated: bool) -> Gate<W> {
        Gate {
            inner,
            gated,
            reader_gone: false,
        }
    }

    fn outcome<T>(&mut self, r: std::io::Result<T>, done: T) -> std::io::Result<T> {
        match r {
            Err(e) if self.gated && e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.reader_gone = true;
                Ok(done)
            }
            r => r,
        }
    }
}

impl<W: Write> Write for Gate<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.reader_gone {
            return Ok(buf.len());
        }
        let r = self.inner.write(buf);
        self.outcome(r, buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.reader_gone {
            return Ok(());
        }
        let r = self.inner.flush();
        self.outcome(r, ())
    }
}
