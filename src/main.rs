//! The `citewatch` command: parse arguments, load the configuration, call the
//! library, print. Exit codes follow DESIGN.md: 0 done, 1 findings asked to fail,
//! 2 usage or configuration error, 3 run-time failure, 4 another run holds the lock.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use citewatch::config::{CONFIG_ENV, Config, DEFAULT_CONFIG_PATH};
use citewatch::fetch::{FetchReport, FetchRequest, Fetcher, Outcome};
use citewatch::store::{CitationRow, Store};
use citewatch::sync::{self, SyncReport};

/// citewatch keeps the sources cited in briefings honest: it pulls every cited URL
/// out of the briefing store, checks and archives it, and reports broken citations.
#[derive(Parser)]
#[command(version, about, long_about, propagate_version = true)]
struct Cli {
    /// Configuration file [default: $CITEWATCH_CONFIG, else config/citewatch.toml].
    /// Relative paths inside it resolve against its own folder.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read the briefing store and record its citations.
    ///
    /// Walks `[briefings] paths`, reads .txt, .md and .html documents in any common
    /// encoding, and records each briefing item with its citations. Unchanged
    /// documents (same sha256) are skipped; changed ones have their items replaced;
    /// documents that disappeared have their citations marked withdrawn.
    Sync {
        /// Output format of the summary.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Hash every document, even those whose size and modification time are
        /// unchanged since the last sync (which are otherwise skipped unread).
        #[arg(long)]
        rehash: bool,
    },
    /// List citations: document, title, outlet, cited date, URL, source URL.
    ///
    /// JSON (`--format json`) is an array of objects with the keys id, root,
    /// document, title, outlet, cited_date, url, source_url, source_id,
    /// invalid_reason, origin, context and withdrawn; unknown values are null.
    Citations {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Also list citations of documents that left the briefing store.
        #[arg(long)]
        include_withdrawn: bool,
        /// Only citations whose URL cannot be fetched as written.
        #[arg(long)]
        invalid: bool,
    },
    /// Fetch one URL with the configured policy and show what happened.
    ///
    /// For debugging one source: prints the redirect hops, status, headers, body
    /// size and sha256, retries and duration. Nothing is stored. The URL is
    /// normalised as sync normalises cited URLs; the address guard, robots.txt and
    /// pacing apply as in a check. Exit code 0 when the server answered (any
    /// status), 3 when no answer came (DNS, connection, timeout, refused …), 2 for
    /// a URL that cannot be fetched as written.
    Fetch {
        /// The URL to fetch.
        url: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Send `If-None-Match` with this ETag.
        #[arg(long, value_name = "ETAG")]
        if_none_match: Option<String>,
        /// Send `If-Modified-Since` with this HTTP date.
        #[arg(long, value_name = "DATE")]
        if_modified_since: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    /// For people.
    Text,
    /// For scripts: every documented key present, null when unknown.
    Json,
}

/// An error with the exit code it deserves.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

fn usage(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: 2,
        error: error.into(),
    }
}

fn runtime(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: 3,
        error: error.into(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CITEWATCH_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(code) => code,
        // `citewatch citations | head` closing the pipe early is not a failure.
        Err(f)
            if f.error.chain().any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(f) => {
            eprintln!("citewatch: {:#}", f.error);
            ExitCode::from(f.code)
        }
    }
}

fn load_config(cli: &Cli) -> Result<Config, Failure> {
    let file = cli
        .config
        .clone()
        .or_else(|| std::env::var_os(CONFIG_ENV).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_PATH));
    if cli.config.is_none() && std::env::var_os(CONFIG_ENV).is_none() && !file.exists() {
        return Err(usage(anyhow::anyhow!(
            "no configuration at {DEFAULT_CONFIG_PATH}; pass --config FILE or set {CONFIG_ENV}"
        )));
    }
    Config::load(&file).map_err(usage)
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let config = load_config(&cli)?;
    match cli.command {
        Command::Sync { format, rehash } => {
            let docs = sync::find(&config).map_err(usage)?;
            let mut store = Store::open(&config.store.database()).map_err(runtime)?;
            let options = sync::SyncOptions { rehash };
            let report = sync::apply(&mut store, &config.briefings.paths, &docs, options)
                .map_err(runtime)?;
            print_sync(&report, format).map_err(runtime)?;
            if !report.unreadable.is_empty() {
                return Err(runtime(anyhow::anyhow!(
                    "{} document(s) could not be read; they were left as the store had them",
                    report.unreadable.len()
                )));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Citations {
            format,
            include_withdrawn,
            invalid,
        } => {
            let store = Store::open_existing(&config.store.database()).map_err(runtime)?;
            let mut rows = store.citations(include_withdrawn).map_err(runtime)?;
            if invalid {
                rows.retain(|r| r.invalid_reason.is_some());
            }
            print_citations(&rows, format).map_err(runtime)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Fetch {
            url,
            format,
            if_none_match,
            if_modified_since,
        } => {
            let runtime_ = tokio::runtime::Runtime::new().map_err(runtime)?;
            let fetcher = Fetcher::builder(config.fetch.clone())
                .build()
                .map_err(runtime)?;
            let req = FetchRequest {
                url,
                etag: if_none_match,
                last_modified: if_modified_since,
            };
            let report = runtime_.block_on(fetcher.fetch(&req));
            print_fetch(&report, format).map_err(runtime)?;
            Ok(match report.outcome {
                Outcome::InvalidUrl { .. } => ExitCode::from(2),
                Outcome::Response { .. }
                | Outcome::NotModified { .. }
                | Outcome::BodyTooLarge { .. } => ExitCode::SUCCESS,
                _ => ExitCode::from(3),
            })
        }
    }
}

fn print_fetch(r: &FetchReport, format: Format) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let s = r.summary();
    if format == Format::Json {
        serde_json::to_writer_pretty(&mut out, &s)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(out, "GET {}", s.url)?;
    for hop in &r.hops {
        writeln!(out, "  {} -> {}", hop.status, hop.resolved)?;
    }
    writeln!(out, "outcome: {} ({})", s.outcome, r.outcome.detail())?;
    if let Some(headers) = s.headers {
        for (k, v) in headers {
            writeln!(out, "  {k}: {v}")?;
        }
    }
    if let (Some(size), Some(sha)) = (s.size, &s.sha256) {
        let cut = if s.truncated == Some(true) {
            " (truncated at the size cap)"
        } else {
            ""
        };
        writeln!(out, "body: {size} bytes{cut}, sha256 {sha}")?;
    }
    writeln!(
        out,
        "final URL: {}\nattempts: {} ({} retries), {} ms",
        s.final_url, s.attempts, s.retries, s.duration_ms
    )?;
    Ok(())
}

fn print_sync(r: &SyncReport, format: Format) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if format == Format::Json {
        serde_json::to_writer_pretty(&mut out, r)?;
        writeln!(out)?;
        return Ok(());
    }
    for u in &r.unreadable {
        eprintln!("citewatch: cannot read {}: {}", u.document, u.error);
    }
    writeln!(
        out,
        "synced {} documents: {} new, {} changed, {} unchanged, {} restored, {} withdrawn ({} citations)",
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
    )
    .context("writing to stdout")?;
    Ok(())
}

fn print_citations(rows: &[CitationRow], format: Format) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if format == Format::Json {
        serde_json::to_writer_pretty(&mut out, rows)?;
        writeln!(out)?;
        return Ok(());
    }
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
        match &r.invalid_reason {
            Some(reason) => writeln!(out, "    {outlet}, {date}  INVALID ({reason}): {url}")?,
            None => writeln!(out, "    {outlet}, {date}  {url}")?,
        }
    }
    if rows.is_empty() {
        writeln!(
            out,
            "no citations; run `citewatch sync` after adding briefings"
        )?;
    }
    Ok(())
}
