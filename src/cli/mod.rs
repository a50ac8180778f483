//! The commands behind `main.rs`: each file runs one command and prints its result
//! for people (text) or scripts (JSON).

pub mod archive;
pub mod check;
pub mod citations;
pub mod demo;
pub mod fetch;
pub mod report;
pub mod serve;
pub mod sync;

use std::io::Write;

use clap::ValueEnum;
use serde::Serialize;

/// Output formats every command offers.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum Format {
    /// For people.
    Text,
    /// For scripts: every documented key present, null when unknown.
    Json,
}

/// An error with the exit code it deserves (DESIGN.md): 1 findings, 2 usage or
/// configuration, 3 run-time failure.
pub struct Failure {
    /// The exit code.
    pub code: u8,
    /// What went wrong.
    pub error: anyhow::Error,
}

impl Failure {
    /// The error and its causes on one line, each said once.
    pub fn one_line(&self) -> String {
        citewatch::error_text::one_line(self.error.as_ref())
    }
}

/// A usage or configuration error (exit 2).
pub fn usage(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: 2,
        error: error.into(),
    }
}

/// The exit code of a command that failed at run time (a bug included).
pub const RUNTIME_FAILURE: u8 = 3;

/// A run lock not taken: exit 4 when another run holds it, else exit 3.
pub fn lock_failure(e: citewatch::check::lock::LockError) -> Failure {
    match e {
        citewatch::check::lock::LockError::Held { .. } => Failure {
            code: 4,
            error: e.into(),
        },
        _ => runtime(e),
    }
}

/// A run-time failure (exit 3); but no store yet is the order of commands
/// (`sync` first), a usage error (exit 2) in every command alike.
pub fn runtime(error: impl Into<anyhow::Error>) -> Failure {
    let error = error.into();
    let no_store = error.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<citewatch::store::StoreError>(),
            Some(citewatch::store::StoreError::Missing { .. })
        )
    });
    // A store SQLite cannot read: no command can go on.
    let error = if damaged(&error) {
        anyhow::anyhow!(
            "{}; the database is damaged, or is not a citewatch store: restore it from a \
             backup (the archive's blobs are kept apart, in the data folder's blobs/)",
            citewatch::error_text::one_line(error.as_ref())
        )
    } else {
        error
    };
    Failure {
        code: if no_store { 2 } else { RUNTIME_FAILURE },
        error,
    }
}

/// A command's output that could not be written (exit 3), named as such: a
/// bare "No space left on device" after `sync` or `check` reads as the
/// store's disk being full. A reader gone early (`| head`) is still told
/// apart by its kind, down the chain. An error that is no write's (a value
/// JSON cannot hold) is not put on standard output.
pub fn output_failed(error: impl Into<anyhow::Error>) -> Failure {
    let error = error.into();
    let written = error
        .chain()
        .any(|cause| cause.downcast_ref::<std::io::Error>().is_some());
    runtime(if written {
        error.context("standard output")
    } else {
        error
    })
}

/// Whether SQLite found the store's database damaged, or no database at all.
pub fn damaged(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<rusqlite::Error>()
            .and_then(rusqlite::Error::sqlite_error_code)
            .is_some_and(|code| {
                matches!(
                    code,
                    rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase
                )
            })
    })
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value).map_err(json_failed)?;
    writeln!(out)?;
    Ok(())
}

/// A JSON write that failed, as an io::Error when it was the write's, so a
/// reader that closed the pipe early (`| head`) is told apart from a real
/// failure: serde_json's own error hides it.
pub fn json_failed(e: serde_json::Error) -> anyhow::Error {
    match e.io_error_kind() {
        Some(kind) => anyhow::Error::from(std::io::Error::new(kind, e)),
        None => e.into(),
    }
}

/// Output buffer of a command that may print hundreds of megabytes
/// (`report`, `citations`, `sources`): standard output alone is line
/// buffered, a system call a line, and pretty JSON has one a key.
pub const OUT_BUFFER: usize = 1 << 18;

/// Standard output, buffered (see [`OUT_BUFFER`]). Flush it before
/// returning: dropped, a buffer loses the error of its last write.
pub fn buffered_stdout() -> std::io::BufWriter<std::io::StdoutLock<'static>> {
    std::io::BufWriter::with_capacity(OUT_BUFFER, std::io::stdout().lock())
}

/// What stops a listing streamed from the store to standard output: the
/// store, a run-time failure, or the output, named as standard output
/// (see [`output_failed`]). Kept apart because an error from the store
/// can hold an io::Error too, which must not read as the output's.
pub enum Streamed {
    /// Reading the store failed.
    Store(citewatch::store::StoreError),
    /// Writing the output failed.
    Output(anyhow::Error),
}

impl From<citewatch::store::StoreError> for Streamed {
    fn from(e: citewatch::store::StoreError) -> Streamed {
        Streamed::Store(e)
    }
}

impl From<std::io::Error> for Streamed {
    fn from(e: std::io::Error) -> Streamed {
        Streamed::Output(e.into())
    }
}

impl From<serde_json::Error> for Streamed {
    fn from(e: serde_json::Error) -> Streamed {
        Streamed::Output(json_failed(e))
    }
}

impl From<Streamed> for Failure {
    fn from(e: Streamed) -> Failure {
        match e {
            Streamed::Store(e) => runtime(e),
            Streamed::Output(e) => output_failed(e),
        }
    }
}

/// A JSON array on standard output, pretty as `print_json` prints a list,
/// written an element at a time as `fill` hands them over: a listing
/// streamed from the store never holds its rows.
pub fn json_array<T: serde::Serialize>(
    fill: impl FnOnce(&mut dyn FnMut(&T) -> Result<(), Streamed>) -> Result<(), Streamed>,
) -> Result<(), Streamed> {
    use serde::ser::{SerializeSeq, Serializer};
    use std::io::Write;
    let mut out = buffered_stdout();
    let mut ser = serde_json::Serializer::pretty(&mut out);
    let mut seq = ser.serialize_seq(None)?;
    fill(&mut |row| {
        seq.serialize_element(row)?;
        Ok(())
    })?;
    seq.end()?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// A bar on standard error for a command that may take minutes, when a person
/// watches it: standard error a terminal and the output for people. Scripts
/// and logs get the summary alone.
pub fn progress_bar(format: Format, counted: &str) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if format != Format::Text || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{elapsed_precise}} [{{bar:30}}] {{pos}}/{{len}} {counted}, {{per_sec}}, {{eta}} left"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Some(bar)
}

/// Moves `bar`, if there is one, to `done` of `total`. A total is counted
/// before the work starts, and a check run may add to it meanwhile (an
/// export's captures): past it, the bar's end moves with the work.
pub fn show_progress(bar: Option<&indicatif::ProgressBar>, done: u64, total: u64) {
    if let Some(bar) = bar {
        bar.set_length(total.max(done));
        bar.set_position(done);
    }
}

#[cfg(test)]
mod progress_tests {
    /// Totals are counted before the work, and a check run may add captures
    /// meanwhile: the bar must never read "41/40".
    #[test]
    fn progress_never_passes_its_total() {
        let bar = indicatif::ProgressBar::hidden();
        super::show_progress(Some(&bar), 2, 40);
        assert_eq!((bar.position(), bar.length()), (2, Some(40)));
        super::show_progress(Some(&bar), 41, 40);
        assert_eq!((bar.position(), bar.length()), (41, Some(41)));
    }
}
