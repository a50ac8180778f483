//! `citewatch fetch URL [--save]`

use std::io::Write;
use std::process::ExitCode;

use citewatch::archive::{self, FsBlobStore, blob_dir};
use citewatch::check::lock::RunLock;
use citewatch::config::Config;
use citewatch::fetch::{FetchReport, FetchRequest, Fetcher, Outcome};
use citewatch::store::Store;
use citewatch::time::{format_millis, now_millis};

use super::{Failure, Format, lock_failure, output_failed, print_json, runtime, usage};

/// What `fetch` was asked to do besides fetching.
pub struct FetchArgs {
    /// The URL as typed.
    pub url: String,
    /// Output format.
    pub format: Format,
    /// `If-None-Match`.
    pub if_none_match: Option<String>,
    /// `If-Modified-Since`.
    pub if_modified_since: Option<String>,
    /// Archive what came back.
    pub save: bool,
}

/// Runs `fetch`.
pub fn run(config: &Config, args: FetchArgs) -> Result<ExitCode, Failure> {
    // A URL that cannot be fetched as written (an ftp:// one, say) is no
    // request: text says so as an error rather than as a `GET` with no
    // attempt; JSON keeps the fetcher's `invalid_url` account of it. Exit 2.
    let normalized = match citewatch::source_url::normalize(&args.url) {
        Ok(n) => Some(n),
        Err(e) if args.format == Format::Text => {
            return Err(usage(anyhow::anyhow!(
                "`{}` cannot be fetched as written, so nothing was requested: {e}",
                args.url
            )));
        }
        Err(_) => None,
    };
    // Read before the store is opened (`--save` makes one): a wrong value
    // is a usage error that leaves nothing behind.
    let etag = args
        .if_none_match
        .as_deref()
        .map(if_none_match)
        .transpose()?;
    let last_modified = args
        .if_modified_since
        .as_deref()
        .map(http_date)
        .transpose()
        .map_err(usage)?;
    let saving = args.save && normalized.is_some();
    // `--save` writes the archive as a check does, so it holds the run lock
    // that `check`, `sync` and `verify --repair` hold (exit 4 naming the
    // holder while one runs), from before the store is opened until its
    // capture is recorded: a repair setting a damaged copy aside, or
    // rebuilding the pack index, while this fetch found the copy stored
    // (and so asked conditionally, or wrote no blob of those bytes) left a
    // capture naming a copy stored nowhere. Only `--save` writes: a plain
    // fetch takes no lock and runs beside anything.
    let lock = if saving {
        Some(
            RunLock::acquire(&config.store.dir, &format_millis(now_millis()))
                .map_err(lock_failure)?,
        )
    } else {
        None
    };
    let mut store = if saving {
        Some(Store::open(&config.store.database()).map_err(runtime)?)
    } else {
        None
    };
    let blobs = FsBlobStore::new(blob_dir(&config.store.dir));
    let mut req = match (&store, &normalized) {
        // Conditional on the latest capture, so an unchanged page is not
        // downloaded again (unless that capture's copy is lost).
        (Some(s), Some(url)) => {
            archive::conditional_request(s, &blobs, url.as_str()).map_err(runtime)?
        }
        _ => FetchRequest::new(args.url.as_str()),
    };
    req.etag = etag.or(req.etag);
    if last_modified.is_some() {
        req.last_modified = last_modified;
    }
    let rt = tokio::runtime::Runtime::new().map_err(runtime)?;
    let fetcher = Fetcher::builder(config.fetch.clone())
        .build()
        .map_err(runtime)?;
    let report = rt.block_on(fetcher.fetch(&req));
    let saved = match store.as_mut() {
        Some(store) => Some(archive::record(store, &blobs, &report).map_err(runtime)?),
        None => None,
    };
    drop(store);
    drop(lock);
    print(&report, saved.and_then(|r| r.capture_id), args.format).map_err(output_failed)?;
    Ok(match report.outcome {
        // The URL as written; a redirect to one no one can fetch is below.
        Outcome::InvalidUrl { .. } if report.hops.is_empty() => ExitCode::from(2),
        // The server answered, whatever it said: a status, a redirect loop or
        // too long a chain, a redirect that cannot be followed, a Retry-After
        // longer than we wait.
        Outcome::InvalidUrl { .. }
        | Outcome::Response { .. }
        | Outcome::NotModified { .. }
        | Outcome::BodyTooLarge { .. }
        | Outcome::TooManyRedirects { .. }
        | Outcome::RateLimited {
            status: Some(_), ..
        } => ExitCode::SUCCESS,
        _ => ExitCode::from(3),
    })
}

#[derive(serde::Serialize)]
struct Saved<'a> {
    #[serde(flatten)]
    fetch: citewatch::fetch::FetchSummary<'a>,
    /// The capture archived by `--save`; null when nothing was archived or not asked.
    capture_id: Option<i64>,
}

fn print(r: &FetchReport, capture_id: Option<i64>, format: Format) -> anyhow::Result<()> {
    let s = r.summary();
    if format == Format::Json {
        return print_json(&Saved {
            fetch: s,
            capture_id,
        });
    }
    let mut out = citewatch::printable::Printable::new(std::io::stdout().lock());
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
    writeln!(out, "final URL: {}", s.final_url)?;
    writeln!(
        out,
        "attempts: {} ({} retries), {} ms",
        s.attempts, s.retries, s.duration_ms
    )?;
    if let Some(id) = capture_id {
        writeln!(out, "saved as capture {id}")?;
    }
    Ok(())
}

/// An ETag as `If-None-Match` wants it: quoted (`"abc"`, `W/"abc"`, `*` stay),
/// a weak one's quotes after its `W/`.
fn quoted_etag(etag: &str) -> String {
    let etag = etag.trim();
    if etag == "*" || etag.starts_with('"') || etag.starts_with("W/\"") {
        etag.to_string()
    } else if let Some(weak) = etag.strip_prefix("W/") {
        format!("W/\"{weak}\"")
    } else {
        format!("\"{etag}\"")
    }
}

/// `--if-none-match` as the header will carry it. The fetcher leaves out a
/// value no header can carry, so a line break or other control character
/// sent the request unconditional without a word; an empty value is an
/// unset variable (`--if-none-match "$ETAG"`), not an ETag.
fn if_none_match(value: &str) -> Result<String, Failure> {
    let quoted = quoted_etag(value);
    if value.trim().is_empty() {
        return Err(usage(anyhow::anyhow!(
            "--if-none-match: the ETag is empty; give the one the server sent, e.g. \"abc\""
        )));
    }
    if reqwest::header::HeaderValue::from_str(&quoted).is_err() {
        return Err(usage(anyhow::anyhow!(
            "--if-none-match: {value:?} cannot be sent as an HTTP header: line breaks, \
             NUL and other control characters are not allowed"
        )));
    }
    Ok(quoted)
}

/// `--if-modified-since` as an HTTP date: one already, or any time the other
/// commands take (RFC 3339, a date, 14 digits).
fn http_date(value: &str) -> anyhow::Result<String> {
    if httpdate::parse_http_date(value.trim()).is_ok() {
        return Ok(value.trim().to_string());
    }
    let ms = citewatch::time::parse_time(value).map_err(|_| {
        anyhow::anyhow!(
            "--if-modified-since: `{value}` is not a time: use an HTTP date \
             (Sun, 06 Nov 1994 08:49:37 GMT), RFC 3339 (2020-12-26T08:00:00Z), \
             a date (2020-12-26) or 14 digits (20201226080000)"
        )
    })?;
    Ok(citewatch::server::memento::format_http_date(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditional_values_are_sent_as_http_wants_them() {
        assert_eq!(quoted_etag("abc"), "\"abc\"");
        for kept in ["\"abc\"", "W/\"abc\"", "*"] {
            assert_eq!(quoted_etag(kept), kept);
        }
        // A weak ETag typed without its quotes was sent as `"W/abc"`, a
        // strong tag that matches nothing the server ever sent.
        assert_eq!(quoted_etag("W/abc"), "W/\"abc\"");
        assert_eq!(
            http_date("2030-01-01").unwrap(),
            "Tue, 01 Jan 2030 00:00:00 GMT"
        );
        assert_eq!(
            http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap(),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
        let e = http_date("yesterday").unwrap_err().to_string();
        assert!(e.contains("`yesterday` is not a time"), "{e}");
    }
}
