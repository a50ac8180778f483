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
    ///
    /// Our error types name their cause in their own message (so a log line
    /// of one of them reads whole) and also return it as `source()`; printing
    /// the chain as it is would then say "No such file or directory" twice.
    /// A cause whose words are already on the line is left out.
    pub fn one_line(&self) -> String {
        let mut line = String::new();
        for cause in self.error.chain() {
            let words = cause.to_string();
            if line.contains(&words) {
                continue;
            }
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&words);
        }
        line
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

/// A run-time failure (exit 3).
pub fn runtime(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: RUNTIME_FAILURE,
        error: error.into(),
    }
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::runtime;

    #[derive(Debug, thiserror::Error)]
    #[error("{file}: cannot read it: {source}")]
    struct Named {
        file: String,
        source: std::io::Error,
    }

    #[test]
    fn a_failure_says_each_cause_once_and_keeps_context_and_new_words() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let named = Named {
            file: "a.toml".into(),
            source: io,
        };
        let f = runtime(anyhow::Error::new(named).context("loading the configuration"));
        assert_eq!(
            f.one_line(),
            "loading the configuration: a.toml: cannot read it: no such file"
        );
        let plain = runtime(anyhow::anyhow!("disk full").context("writing blob ab12"));
        assert_eq!(plain.one_line(), "writing blob ab12: disk full");
    }
}
