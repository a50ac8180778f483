//! The `citewatch` command: parse arguments, load the configuration, hand over to
//! the command in `cli/`. Exit codes follow DESIGN.md: 0 done, 1 findings asked to
//! fail, 2 usage or configuration error, 3 run-time failure, 4 another run holds
//! the lock.

mod allocator;
mod bug;
mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use citewatch::config::{CONFIG_ENV, Config, DEFAULT_CONFIG_PATH};
use cli::{Failure, Format, usage};

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
    /// documents are skipped; changed ones have their items replaced; documents
    /// that disappeared have their citations marked withdrawn.
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
    /// invalid_reason, origin, context, withdrawn, and the source's status
    /// (invalid for a URL that cannot be fetched as written) and status_since;
    /// unknown values are null.
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
    /// For debugging one source, or with --save for archiving it now ("save this
    /// page before it disappears"). Prints the redirect hops, status, headers,
    /// body size and sha256, retries and duration. The URL is normalised as sync
    /// normalises cited URLs; the address guard, robots.txt and pacing apply as in
    /// a check. Exit code 0 when the server answered (any status, a redirect loop,
    /// a Retry-After longer than max_retry_after), 3 when no answer came (DNS,
    /// connection, timeout, refused, robots.txt or the address guard said no …),
    /// 2 for a URL that cannot be fetched as written, 4 when --save finds
    /// another run holding the lock.
    Fetch {
        /// The URL to fetch.
        url: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Archive the response and record the check (conditional on the latest
        /// capture's ETag / Last-Modified, so an unchanged page is not downloaded).
        /// Takes the run lock.
        #[arg(long)]
        save: bool,
        /// Send `If-None-Match` with this ETag (quoted if it is not).
        #[arg(long, value_name = "ETAG")]
        if_none_match: Option<String>,
        /// Send `If-Modified-Since` with this time: an HTTP date, RFC 3339,
        /// YYYY-MM-DD or YYYYMMDDhhmmss.
        #[arg(long, value_name = "DATE")]
        if_modified_since: Option<String>,
    },
    /// Write the archived copy of a source exactly as received.
    ///
    /// Picks the good copy nearest --at, or the latest good one: the baseline or
    /// a capture judged ok, changed or moved, never the error page or homepage
    /// a removed page answers with. Without a good copy it fails, unless --at
    /// asks for a time (then the nearest capture, said to be an error page).
    /// Its bytes hash to the recorded sha256 (checked while writing). When
    /// nothing is archived for the URL, names the nearby URLs that are (http
    /// vs https, trailing slash, www., escapes spelled otherwise).
    #[command(after_help = "Examples:
  citewatch get URL -o copy.html                 the latest good copy
  citewatch get URL --at 2020-12-26 -o cited.html  the copy nearest a date
  citewatch get URL --headers                    its status line and headers")]
    Get {
        /// The source URL (normalised as cited URLs are).
        url: String,
        /// Nearest to this time: RFC 3339, YYYY-MM-DD or YYYYMMDDhhmmss.
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        /// Write to FILE instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Print the stored status line and headers instead of the body.
        #[arg(long)]
        headers: bool,
    },
    /// See the whole job in a minute, on a simulated web on loopback.
    ///
    /// Starts a small simulated web, writes a briefing store citing it, runs a
    /// first night, lets pages rot (404, 410, homepage redirects, error pages,
    /// moves, rewrites, flaky servers), runs the following nights and prints what
    /// citewatch found. Uses a configuration and data folder of its own (so
    /// `--config` is refused); touches nothing outside loopback.
    Demo {
        /// Keep the demo's briefings, configuration and data in DIR (default: a
        /// temporary folder, removed afterwards).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// The nightly job: sync the briefing store, then check every due source.
    ///
    /// Never-checked sources go first, then failing ones (their confirmation is
    /// waiting), then the longest unchecked; hosts take turns. Each source is
    /// fetched politely, archived, read (main text, soft-404 signs) and given a
    /// verdict: ok, changed, moved, failing, soft_404, dead, unreachable, blocked,
    /// or invalid (the URL cannot be fetched as written).
    /// Broken links are a report matter, not a failure: exit code 0. Exit code 4
    /// when another run holds the lock.
    #[command(after_help = "Examples:
  citewatch check                          the nightly run: what is due
  citewatch check --all --max-duration 2h  everything, at most two hours
  citewatch check --url https://www.example.org/news/1.html
  citewatch check --host www.xinhuanet.com --all --format json")]
    Check {
        /// Check every source, due or not.
        #[arg(long)]
        all: bool,
        /// Only this URL (repeatable), due or not. It must be a source (cited by a briefing, after the sync); `citewatch fetch` takes any URL.
        #[arg(long = "url", value_name = "URL")]
        urls: Vec<String>,
        /// Only sources on this host, as a URL names it: any case, a port or
        /// not, a trailing dot or not (cited either way, it is one host), an
        /// internationalised name as written or in punycode.
        #[arg(long, value_name = "HOST")]
        host: Option<String>,
        /// At most N sources: the first N due in priority order (never checked, then
        /// failing, then the longest unchecked), hosts taking turns among them.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        /// Time budget, e.g. 2h: no new fetch after it, and those in flight 10 s later are
        /// given up; the rest waits for the next run. 0s: no budget, lifting the configured
        /// one [default: [check] max_duration].
        #[arg(long, value_name = "DURATION")]
        max_duration: Option<String>,
        /// Do not sync the briefing store first.
        #[arg(long)]
        no_sync: bool,
        /// Output format of the run summary.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// The verdict on one source and its evidence.
    #[command(after_help = "Examples:
  citewatch status http://www.xinhuanet.com/english/2020-12/26/c_139620475.htm
  citewatch status URL --format json")]
    Status {
        /// The source URL.
        url: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// List sources with their verdicts.
    ///
    /// Every source is listed, also those no document in the briefing store
    /// cites any more (cited 0: only withdrawn documents cite them, or none),
    /// whose verdicts stand but which the report does not count; --cited
    /// leaves them out.
    ///
    /// JSON keys: id, url, status, status_since, suspect, http_status, final_url,
    /// error ({kind, detail} or null), evidence, similarity, last_checked,
    /// next_check, consecutive_failures, citations, baseline_capture_id,
    /// latest_capture_id.
    #[command(after_help = "Examples:
  citewatch sources --status broken --cited
  citewatch sources --status failing,blocked --format json")]
    Sources {
        /// Only these statuses, comma-separated (e.g. dead,soft_404).
        #[arg(long, value_name = "S,…")]
        status: Option<String>,
        /// Only sources some document in the briefing store cites (not those
        /// only withdrawn documents cite).
        #[arg(long)]
        cited: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Broken citations an editor can act on, grouped by document and briefing.
    ///
    /// Lists broken citations (dead, soft_404, unreachable), then changed and
    /// moved ones, then failing ones as a short watch list, each with its
    /// evidence in words, the archived copy (and how to get it) and a Wayback
    /// Machine lookup link; a summary with a per-outlet table comes first.
    /// Exit code 0, or 1 when --fail-on is given and a listed citation matches;
    /// 2 for a bad argument.
    #[command(after_help = "Examples:
  citewatch report                               what is broken, changed, moved, failing
  citewatch report --new                         what broke since last night's run
  citewatch report --format html -o report.html  a page to publish
  citewatch check && citewatch report --document new.txt --fail-on broken,failing
                                                 gate a new briefing in CI")]
    Report {
        /// Output format.
        #[arg(long, value_enum, default_value_t = cli::report::Format::Text)]
        format: cli::report::Format,
        /// Only these statuses, comma-separated (`broken` = dead,soft_404,unreachable)
        /// [default: dead,soft_404,unreachable,changed,moved,failing].
        #[arg(long, value_name = "S,…")]
        status: Option<String>,
        /// Only what became broken, changed, moved or failing since the latest
        /// completed check run started (or since --since).
        #[arg(long)]
        new: bool,
        /// Where "new" starts: RFC 3339, YYYY-MM-DD, 14 digits, or a duration ago (7d).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Only citations of this outlet: its whole name as cited, in any case.
        #[arg(long, value_name = "NAME")]
        outlet: Option<String>,
        /// Only this document, or the documents under this folder: a path as `citations`
        /// shows it, or the file's (folder's) path on disk under a `[briefings] paths` entry.
        #[arg(long, value_name = "PATH")]
        document: Option<std::ffi::OsString>,
        /// Write to FILE (replaced whole when done) instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Exit 1 when a listed citation is broken, changed or failing (comma-separated;
        /// `failing`: a dead link not yet confirmed, as a new citation's is for days).
        #[arg(long, value_enum, value_delimiter = ',', value_name = "WHAT")]
        fail_on: Vec<cli::report::FailOnArg>,
    },
    /// Every check and capture of a source, oldest first.
    #[command(after_help = "Examples:
  citewatch history URL
  citewatch history URL --format json")]
    History {
        /// The source URL.
        url: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Export captures as WARC/1.1 (each record gzipped on its own), for pywb,
    /// warcio and the rest of the web-archive tools.
    ///
    /// Request and response records per capture, a later identical payload as a
    /// revisit (identical-payload-digest), digests as sha256. Bodies are stored
    /// decoded, so response headers describe the decoded payload; the server's
    /// original transfer headers are kept renamed. Memory stays flat however large
    /// the export.
    #[command(after_help = "Examples:
  citewatch export-warc -o archive.warc.gz --cdxj   everything, with an index for pywb
  citewatch export-warc -o all.warc.gz --jobs 1     on one core, leaving the others be
  citewatch export-warc -o week.warc.gz --since 7d  the last week's captures")]
    ExportWarc {
        /// The WARC file to write (e.g. sources.warc.gz).
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        /// Only captures of this source.
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// Only captures at or after TIME (RFC 3339, YYYY-MM-DD, 14 digits) or
        /// within a duration ago (7d).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Also write a CDXJ index beside it (`all.warc.gz` → `all.cdxj`).
        #[arg(long)]
        cdxj: bool,
        /// Compress records on N threads [default: the machine's cores]. The
        /// file is the same whatever N is; 1 leaves the other cores alone.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
        jobs: Option<u16>,
        /// Output format of the summary.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Serve the JSON API, archived copies (with Memento), the web report and
    /// metrics over HTTP, until SIGTERM or Ctrl-C.
    ///
    /// Listens on `[serve] listen` (default 127.0.0.1:8080) or --listen; prints
    /// the address it serves on. Reads work while a check run writes. Archived
    /// copies are served sandboxed, loading nothing (Content-Security-Policy). Write
    /// endpoints (POST /api/check) need `[serve] admin_token` as a bearer token.
    /// Every request is logged to stderr (CITEWATCH_LOG sets the filter;
    /// CITEWATCH_LOG=warn silences the access log).
    #[command(after_help = "Examples:
  citewatch serve                      on [serve] listen (127.0.0.1:8080 by default)
  curl -s 127.0.0.1:8080/api/sources?status=broken")]
    Serve {
        /// Listen on this address instead (port 0: any free port).
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
    },
    /// Re-hash every archived blob, check every capture has its blob, and run
    /// SQLite's integrity check. Exit code 1 when any problem is found.
    Verify {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// First build the pack index (blobs/packs/index.db) again from the
        /// pack files when it is missing, damaged or incomplete (the old
        /// index is kept beside it); then set aside the damaged copies found,
        /// deleting nothing, so the next check of their sources stores them
        /// again. Takes the run lock.
        #[arg(long)]
        repair: bool,
    },
}

fn main() -> ExitCode {
    allocator::configure_sqlite();
    let cli = Cli::parse();
    // A server's access log is its point: `serve` logs requests unless told otherwise.
    let default_filter = match cli.command {
        Command::Serve { .. } => "warn,citewatch::server=info,tower_http=info",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CITEWATCH_LOG")
                .unwrap_or_else(|_| default_filter.into()),
        )
        .with_writer(std::io::stderr)
        // Colour only on a terminal: journald and log files get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    bug::install_hook();
    // A bug that escapes a command has been described by the hook; the
    // command failed at run time.
    let Ok(result) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(cli))) else {
        return ExitCode::from(cli::RUNTIME_FAILURE);
    };
    match result {
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
            eprintln!("citewatch: {}", f.one_line());
            ExitCode::from(f.code)
        }
    }
}

fn load_config(cli: &Cli) -> Result<Config, Failure> {
    // Set but empty names no file: as if unset, as shells and systemd units
    // leave a variable they clear (`CITEWATCH_CONFIG=`).
    let from_env = std::env::var_os(CONFIG_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let file = cli
        .config
        .clone()
        .or(from_env.clone())
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_PATH));
    if cli.config.is_none() && from_env.is_none() && !file.exists() {
        return Err(usage(anyhow::anyhow!(
            "no configuration at {DEFAULT_CONFIG_PATH}; pass --config FILE or set {CONFIG_ENV}"
        )));
    }
    Config::load(&file).map_err(usage)
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    // The demo brings its own configuration.
    if let Command::Demo { dir } = cli.command {
        if let Some(given) = &cli.config {
            // Silently ignored, it would look as if the demo had used it.
            return Err(usage(anyhow::anyhow!(
                "--config {}: the demo writes and uses a configuration of its own \
                 (kept with --dir); leave --config out",
                given.display()
            )));
        }
        return cli::demo::demo(dir);
    }
    let config = load_config(&cli)?;
    match cli.command {
        Command::Sync { format, rehash } => cli::sync::run(&config, format, rehash),
        Command::Citations {
            format,
            include_withdrawn,
            invalid,
        } => cli::citations::run(&config, format, include_withdrawn, invalid),
        Command::Fetch {
            url,
            format,
            save,
            if_none_match,
            if_modified_since,
        } => cli::fetch::run(
            &config,
            cli::fetch::FetchArgs {
                url,
                format,
                if_none_match,
                if_modified_since,
                save,
            },
        ),
        Command::Get {
            url,
            at,
            output,
            headers,
        } => cli::archive::get(&config, &url, at.as_deref(), output, headers),
        Command::Demo { dir } => cli::demo::demo(dir),
        Command::Check {
            all,
            urls,
            host,
            limit,
            max_duration,
            no_sync,
            format,
        } => {
            let max_duration = max_duration
                .map(|d| d.parse::<citewatch::time::Duration>())
                .transpose()
                .map_err(|e| usage(anyhow::anyhow!("--max-duration: {e}")))?
                .map(|d| d.std());
            let options = citewatch::check::run::CheckOptions {
                all,
                urls,
                host,
                limit,
                max_duration,
                no_sync,
                stop: None,
            };
            cli::check::check(&config, options, format)
        }
        Command::Status { url, format } => cli::check::status(&config, &url, format),
        Command::Sources {
            status,
            cited,
            format,
        } => cli::check::sources(&config, status.as_deref(), cited, format),
        Command::Report {
            format,
            status,
            new,
            since,
            outlet,
            document,
            output,
            fail_on,
        } => cli::report::run(
            &config,
            cli::report::ReportArgs {
                format,
                status,
                new,
                since,
                outlet,
                document,
                output,
                fail_on,
            },
        ),
        Command::History { url, format } => cli::archive::history(&config, &url, format),
        Command::ExportWarc {
            output,
            url,
            since,
            cdxj,
            jobs,
            format,
        } => cli::archive::export_warc(
            &config,
            &output,
            url.as_deref(),
            since.as_deref(),
            cdxj,
            jobs.map(usize::from),
            format,
        ),
        Command::Verify { format, repair } => cli::archive::verify(&config, format, repair),
        Command::Serve { listen } => cli::serve::serve(&config, listen),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// The long help of subcommand `name`, words joined across line breaks.
    fn long_help(name: &str) -> String {
        let mut cli = Cli::command();
        let sub = cli.find_subcommand_mut(name).unwrap();
        sub.render_long_help()
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// `citations --help` once left out `status` and `status_since`, and
    /// `check --help` the verdict `invalid`.
    #[test]
    fn help_names_every_json_key_and_verdict() {
        let citations = long_help("citations");
        for key in [
            "id,",
            "root,",
            "document,",
            "title,",
            "outlet,",
            "cited_date,",
            "url,",
            "source_url,",
            "source_id,",
            "invalid_reason,",
            "origin,",
            "context,",
            "withdrawn,",
            "status (",
            "status_since;",
        ] {
            assert!(citations.contains(key), "{key} not in: {citations}");
        }
        let check = long_help("check");
        let verdicts = check
            .split("verdict:")
            .nth(1)
            .and_then(|rest| rest.split('.').next())
            .unwrap_or_default();
        let named: Vec<&str> = verdicts.split([',', ' ']).collect();
        for status in citewatch::check::verdict::Status::ALL {
            let name = status.name();
            if name != "unchecked" {
                assert!(named.contains(&name), "{name} not in: {verdicts}");
            }
        }
    }

    /// Every example a `--help` shows is a command line citewatch accepts.
    #[test]
    fn the_examples_in_help_parse() {
        let mut seen = 0;
        for sub in Cli::command().get_subcommands() {
            let Some(help) = sub.get_after_help() else {
                continue;
            };
            let help = help.to_string();
            for line in help.lines().filter(|l| l.starts_with("  citewatch ")) {
                // The command, not the words explaining it (two spaces or more);
                // each of a shell chain's commands.
                let command = line.trim().split("  ").next().unwrap_or_default();
                for command in command.split("&&") {
                    let args: Vec<&str> = command
                        .split_whitespace()
                        .map(|w| if w == "URL" { "http://a.example/x" } else { w })
                        .collect();
                    if let Err(e) = Cli::try_parse_from(&args) {
                        panic!("`{line}` does not parse: {e}");
                    }
                    seen += 1;
                }
            }
        }
        assert!(seen >= 15, "only {seen} examples");
    }
}
