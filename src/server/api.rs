//! The JSON API: sources (paged, filtered), one source with its history,
//! citations, the report, check runs, and `POST /api/check` to start a run.
//! Errors are JSON with a message and the fitting status code.

use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::report::{report_json, report_query};
use super::{ApiError, AppState, auth};
use crate::check::lock::{LockError, RunLock};
use crate::check::run::{CheckError, CheckOptions};
use crate::store::{CaptureRow, CheckRow, ListedSource, SourceQuery};
use crate::time::{format_millis, now_millis};

/// Sources per page unless `per_page` says otherwise.
pub const PER_PAGE: u64 = 100;
/// The largest `per_page` accepted.
pub const MAX_PER_PAGE: u64 = 1_000;

/// The pairs of a query string, decoded.
pub fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// The last non-empty value of `key`.
pub fn param<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.trim())
        .find(|v| !v.is_empty())
}

/// Reads `status=a,b` (repeatable): `None` when absent; `all` means every status;
/// an unknown name is a 400 naming the known ones.
pub fn parse_statuses(pairs: &[(String, String)]) -> Result<Option<Vec<String>>, ApiError> {
    let mut out: Vec<String> = status_lists(pairs)?
        .into_iter()
        .map(str::to_string)
        .collect();
    out.sort();
    out.dedup();
    Ok((!out.is_empty()).then_some(out))
}

/// The statuses of every `status=` value, each read as `--status` reads its
/// list (`dead,,ok` is a 400, as it is exit 2), in section order without
/// repeats; none when no value names any. A value left empty (a form's blank
/// field) is no list.
pub fn status_lists(pairs: &[(String, String)]) -> Result<Vec<&'static str>, ApiError> {
    let mut out: Vec<&'static str> = Vec::new();
    for (_, v) in pairs
        .iter()
        .filter(|(k, v)| k == "status" && !v.trim().is_empty())
    {
        let names = crate::report::select::parse_statuses(v)
            .map_err(|e| ApiError::bad_request(format!("status: {e}")))?;
        for n in names {
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out.sort_by_key(|s| crate::report::select::rank(s));
    Ok(out)
}

/// Reads a count or page number: 0 is a 400 naming the key, as a value that is
/// not a number is, rather than quietly served as 1.
fn parse_number(pairs: &[(String, String)], key: &str, default: u64) -> Result<u64, ApiError> {
    match param(pairs, key) {
        None => Ok(default),
        Some(v) => match v.parse() {
            Ok(0) | Err(_) => Err(ApiError::bad_request(format!(
                "`{key}={v}` is not a positive integer"
            ))),
            Ok(n) => Ok(n),
        },
    }
}

/// Reads a yes-or-no flag (`1`/`true`/`yes` or `0`/`false`/`no`, any case):
/// anything else is a 400 naming the key, where `new=TRUE` once meant "no".
pub fn parse_flag(pairs: &[(String, String)], key: &str) -> Result<bool, ApiError> {
    match param(pairs, key).map(str::to_ascii_lowercase).as_deref() {
        None | Some("0" | "false" | "no") => Ok(false),
        Some("1" | "true" | "yes") => Ok(true),
        Some(_) => Err(ApiError::bad_request(format!(
            "`{key}` is 1, true or yes (or 0, false or no), not `{}`",
            param(pairs, key).unwrap_or_default()
        ))),
    }
}

/// Reads an integer id from a path segment: digits only, else 400.
pub fn parse_id(raw: &str, what: &str) -> Result<i64, ApiError> {
    if !raw.is_empty()
        && raw.len() <= 18
        && raw.bytes().all(|b| b.is_ascii_digit())
        && let Ok(id) = raw.parse()
    {
        return Ok(id);
    }
    Err(ApiError::bad_request(format!(
        "`{raw}` is not a {what} id (a positive integer)"
    )))
}

/// A page of sources.
#[derive(Debug, Serialize)]
pub struct SourcesPage {
    /// Sources matching, all pages together.
    pub total: u64,
    /// This page (1-based).
    pub page: u64,
    /// Page size.
    pub per_page: u64,
    /// The next page's number, or null on the last page.
    pub next_page: Option<u64>,
    /// The next page's URL, or null.
    pub next: Option<String>,
    /// The sources of this page, by URL.
    pub sources: Vec<ListedSource>,
}

/// `GET /api/sources?status=&host=&outlet=&page=&per_page=`.
pub async fn sources(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Json<SourcesPage>, ApiError> {
    let pairs = query_pairs(raw.as_deref());
    let statuses = parse_statuses(&pairs)?;
    let host = param(&pairs, "host").map(crate::source_url::host_as_given);
    let outlet = param(&pairs, "outlet").map(str::to_string);
    let page = parse_number(&pairs, "page", 1)?;
    // Documented: a larger page size is served as the largest.
    let per_page = parse_number(&pairs, "per_page", PER_PAGE)?.min(MAX_PER_PAGE);
    let after = param(&pairs, "after").map(str::to_string);
    let query = SourceQuery {
        statuses,
        host,
        outlet,
        offset: (page - 1).saturating_mul(per_page),
        after: after.clone(),
        // One more than shown: whether a next page exists, whatever a sync
        // added meanwhile.
        limit: per_page + 1,
    };
    let mut result = state
        .with_store(move |s| Ok(s.source_page(&query)?))
        .await?;
    let more = result.sources.len() as u64 > per_page;
    result.sources.truncate(per_page as usize);
    // Page numbers count from the start; after `after`, they mean nothing.
    // Lazily: `page=18446744073709551615` has no next page, and adding one
    // to it eagerly was an overflow, a panic answered as a 500.
    let next_page = (more && after.is_none()).then(|| page.saturating_add(1));
    // `next` goes on from the last URL shown, so a source a sync adds
    // between two pages neither repeats a row nor hides one.
    let next = more.then(|| result.sources.last()).flatten().map(|last| {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs
            .iter()
            .filter(|(k, _)| k != "page" && k != "per_page" && k != "after")
        {
            ser.append_pair(k, v);
        }
        // The page size used, not as asked: `per_page=5000` is served as 1000.
        ser.append_pair("per_page", &per_page.to_string());
        ser.append_pair("after", &last.source.url);
        state
            .links(&headers)
            .local(&format!("api/sources?{}", ser.finish()))
    });
    Ok(Json(SourcesPage {
        total: result.total,
        page,
        per_page,
        next_page,
        next,
        sources: result.sources,
    }))
}

/// A capture with the URL of its archived copy.
#[derive(Debug, Serialize)]
pub struct ServedCapture {
    /// The capture row.
    #[serde(flatten)]
    pub capture: CaptureRow,
    /// Captured at, RFC 3339.
    pub captured: String,
    /// Where the archived copy is served.
    pub archive_url: String,
}

/// Replaces the values of the cookies a site set for citewatch's fetcher by a
/// mark, keeping their names.
///
/// Those cookies are the crawler's sessions and anti-bot passes, not part of
/// the page cited: handed to anyone who reads the API they would let another
/// client pass for citewatch. The names stay, since which cookies a site
/// insists on can explain a `blocked`. `citewatch get --headers` and
/// WARC exports, which only the store's owner runs, keep them whole.
fn withhold_cookies(headers: &mut [(String, String)]) {
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("set-cookie") || name.eq_ignore_ascii_case("set-cookie2") {
            let cookie = value.split_once('=').map_or("", |(n, _)| n.trim());
            *value = format!("{cookie}=(withheld)");
        }
    }
}

/// One source with its whole history.
#[derive(Debug, Serialize)]
pub struct SourceDetail {
    /// The source: status, evidence and the rest.
    pub source: ListedSource,
    /// Every check, oldest first.
    pub checks: Vec<CheckRow>,
    /// Every capture, oldest first.
    pub captures: Vec<ServedCapture>,
    /// The TimeMap of its URL.
    pub timemap: String,
}

/// `GET /api/sources/{id}`.
pub async fn source(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Result<Json<SourceDetail>, ApiError> {
    let id = parse_id(&raw, "source")?;
    let links = state.links(&headers);
    let detail = state
        .with_store(move |s| {
            let Some(source) = s.source_by_id(id)? else {
                return Err(ApiError::not_found(format!("no source {id}")));
            };
            let checks = s.checks_of(id)?;
            let captures = s
                .captures_of(id)?
                .into_iter()
                .map(|mut c| {
                    withhold_cookies(&mut c.headers);
                    ServedCapture {
                        captured: format_millis(c.captured_at),
                        archive_url: links.archive(c.id),
                        capture: c,
                    }
                })
                .collect();
            Ok(SourceDetail {
                timemap: links.timemap(&source.source.url),
                source,
                checks,
                captures,
            })
        })
        .await?;
    Ok(Json(detail))
}

/// `GET /api/citations?status=`: active citations, in document order.
pub async fn citations(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(raw.as_deref());
    let statuses = parse_statuses(&pairs)?;
    // Streamed as the report is, row by row: built whole, a store of 20,000
    // citations took 90 MB of the server's memory per request, and a
    // million would take gigabytes.
    let body = super::report::stream(&state, move |store, out| {
        out.write_all(b"{\"citations\":[")?;
        let mut total = 0usize;
        store.for_each_citation(false, |row| -> Result<(), crate::report::ReportError> {
            if statuses
                .as_ref()
                .is_some_and(|st| !st.contains(&row.status))
            {
                return Ok(());
            }
            if total > 0 {
                out.write_all(b",")?;
            }
            serde_json::to_writer(&mut *out, &row).map_err(std::io::Error::from)?;
            total += 1;
            Ok(())
        })?;
        write!(out, "],\"total\":{total}}}")?;
        out.flush()?;
        Ok(())
    })
    .await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

/// `GET /api/report?status=&outlet=&document=&new=&since=`: `citewatch report --format json`.
pub async fn report(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let mut q = report_query(raw.as_deref())?;
    super::report::resolve_filters(&state, &mut q).await?;
    let links = state.links(&headers);
    let body = report_json(&state, q, links).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

/// `GET /api/runs?limit=`: check runs, newest first.
pub async fn runs(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(raw.as_deref());
    let limit = parse_number(&pairs, "limit", 20)?.min(1_000) as usize;
    let runs = state.with_store(move |s| Ok(s.runs(limit)?)).await?;
    let out: Vec<serde_json::Value> = runs.into_iter().map(run_json).collect();
    Ok(Json(serde_json::json!({ "runs": out })).into_response())
}

/// `GET /api/runs/{id}`: one run, as listed by `/api/runs`; where
/// `POST /api/check` points.
pub async fn run(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    // Digits only, as every other id: `-1` was a 404 and `+1` run 1.
    let id = parse_id(&id, "run")?;
    match state.with_store(move |s| Ok(s.run(id)?)).await? {
        Some(r) => Ok(Json(run_json(r)).into_response()),
        None => Err(ApiError::not_found(format!("no run {id}"))),
    }
}

fn run_json(r: crate::store::RunRow) -> serde_json::Value {
    serde_json::json!({
        "id": r.id,
        "started_at": format_millis(r.started_at),
        "finished_at": r.finished_at.map(format_millis),
        "state": r.state,
        "summary": r.summary,
    })
}

/// What `POST /api/check` may ask for (all optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CheckRequest {
    /// Check every source, due or not.
    pub all: bool,
    /// Only these URLs.
    pub urls: Vec<String>,
    /// Only this host.
    pub host: Option<String>,
    /// At most this many sources.
    pub limit: Option<usize>,
}

/// The body of `POST /api/check`: nothing, or a JSON object. serde would
/// also take an array for the struct, by position (`[true]` checking every
/// source): a body nobody means, refused as the object the docs name.
fn check_request(body: &[u8]) -> Result<CheckRequest, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(CheckRequest::default());
    }
    let bad = |e: serde_json::Error| ApiError::bad_request(format!("the request body: {e}"));
    let value: serde_json::Value = serde_json::from_slice(body).map_err(bad)?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "the request body: a JSON object is expected, such as {\"all\": true} or {\"urls\": [\"…\"]}",
        ));
    }
    serde_json::from_value(value).map_err(bad)
}

/// How long `POST /api/check` waits for its run to be recorded (the run
/// syncs the briefing store first) before answering 202 without its id.
const BEGIN_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// `POST /api/check`: starts a check run in the background. 202 once the run
/// is recorded, with its id and where to follow it; 400 for `urls` that are
/// malformed or not sources (yet: the run's sync may add one, so sync first),
/// 409 while a run holds the lock, 503 once the service is stopping, 500
/// when the run cannot begin (its sync failed, say), with the reason; needs
/// the admin token.
pub async fn start_check(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth::authorize(&state.config().serve.admin_token, &headers)?;
    // A run begun now would only be stopped again: say so instead.
    if state.stopping() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the service is stopping: start the check once it is back",
        ));
    }
    let request = check_request(&body)?;
    // Refused now rather than failing the run in the background, unseen.
    let mut urls = Vec::with_capacity(request.urls.len());
    for u in &request.urls {
        let n = crate::source_url::normalize(u)
            .map_err(|e| ApiError::bad_request(format!("urls: `{u}`: {e}")))?;
        urls.push(n.to_string());
    }
    if let Some(host) = request.host.clone() {
        let known = state
            .with_store(move |s| Ok(s.has_host(&crate::source_url::host_as_given(&host))?))
            .await?;
        if !known {
            return Err(ApiError::bad_request(format!(
                "host: no source is on host `{}`",
                request.host.as_deref().unwrap_or_default()
            )));
        }
    }
    if !urls.is_empty() {
        // With the sources each might mean, as the command line names them:
        // a URL copied from a browser often differs from the one cited by its
        // scheme, a `www.`, a slash or its escapes.
        let unknown = state
            .with_store(move |s| {
                let mut unknown = Vec::new();
                for url in s.not_sources(&urls)? {
                    let near = crate::source_url::normalize(&url)
                        .map(|n| crate::source_url::near_misses(&n))
                        .unwrap_or_default();
                    let absent = s.not_sources(&near)?;
                    let near: Vec<String> =
                        near.into_iter().filter(|u| !absent.contains(u)).collect();
                    unknown.push(if near.is_empty() {
                        url
                    } else {
                        format!("{url} (sources nearby: {})", near.join(", "))
                    });
                }
                Ok(unknown)
            })
            .await?;
        if !unknown.is_empty() {
            return Err(ApiError::bad_request(format!(
                "urls: not a source yet, no synced briefing cites it: {}",
                unknown.join(", ")
            )));
        }
    }
    if state
        .check_running()
        .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "a check run started by this server is still running",
        ));
    }
    let started = format_millis(now_millis());
    let lock = match RunLock::acquire(&state.config().store.dir, &started) {
        Ok(lock) => lock,
        Err(e) => {
            state.check_running().store(false, Ordering::Release);
            return Err(match e {
                LockError::Held { .. } => ApiError::new(StatusCode::CONFLICT, e.to_string()),
                LockError::Folder { .. } | LockError::Io { .. } => {
                    ApiError::internal(e.to_string())
                }
            });
        }
    };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let options = CheckOptions {
        all: request.all,
        urls: request.urls,
        host: request.host,
        limit: request.limit,
        max_duration: None,
        no_sync: false,
        stop: Some(stop.clone()),
    };
    let bg = state.clone();
    let (begun_tx, begun_rx) = tokio::sync::oneshot::channel();
    // The run gets a runtime and threads of its own: serving stays responsive, and
    // a run's failure is logged, never a crash of the server.
    let spawned = std::thread::Builder::new()
        .name("citewatch-check".into())
        .spawn(move || {
            // Declared first, dropped last: should the run panic, the mark is
            // cleared before the request hears of it, so a retry is not a 409.
            let handshake = Handshake(std::sync::Mutex::new(Some(begun_tx)));
            let mark = RunningMark(bg.clone());
            let config = bg.config().clone();
            let outcome = crate::fetch::Fetcher::builder(config.fetch.clone())
                .build()
                .map_err(|e| ApiError::internal(e.to_string()))
                .and_then(|fetcher| {
                    let rt = tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(2)
                        .enable_all()
                        .build()
                        .map_err(|e| ApiError::internal(e.to_string()))?;
                    rt.block_on(crate::check::run::run_holding(
                        lock, &config, &options, fetcher, &handshake,
                    ))
                    .map_err(|e| {
                        let status = match e {
                            CheckError::BadUrl(..)
                            | CheckError::NotSources { .. }
                            | CheckError::UnknownHost { .. } => StatusCode::BAD_REQUEST,
                            CheckError::Locked(_) => StatusCode::CONFLICT,
                            _ => StatusCode::INTERNAL_SERVER_ERROR,
                        };
                        ApiError::new(status, e.to_string())
                    })
                });
            // A client told of a failure may ask again at once: not a 409.
            drop(mark);
            match outcome {
                Ok(s) => tracing::info!(
                    run = s.run_id,
                    checked = s.checked,
                    "check run started through the API finished"
                ),
                Err(e) => {
                    tracing::error!("check run started through the API failed: {}", e.message);
                    // Unheard when the run had begun: then the run's row says it.
                    handshake.answer(Err(e));
                }
            }
        });
    let thread = match spawned {
        Ok(thread) => thread,
        Err(e) => {
            state.check_running().store(false, Ordering::Release);
            return Err(ApiError::internal(format!("cannot start a check run: {e}")));
        }
    };
    state.track_check_run(stop, thread);
    let links = state.links(&headers);
    let (status, body) = match tokio::time::timeout(BEGIN_WAIT, begun_rx).await {
        Ok(Ok(Ok(id))) => {
            let run = links.local(&format!("api/runs/{id}"));
            (
                StatusCode::ACCEPTED,
                serde_json::json!({
                    "started": true,
                    "started_at": started,
                    "run_id": id,
                    "message": format!("check run {id} started; follow it at {run}"),
                    "run": run,
                }),
            )
        }
        Ok(Ok(Err(e))) => return Err(e),
        Ok(Err(_)) => {
            return Err(ApiError::internal(
                "the check run failed on a bug before it began (see the server's log)",
            ));
        }
        Err(_) => (
            StatusCode::ACCEPTED,
            serde_json::json!({
                "started": true,
                "started_at": started,
                "run_id": null,
                "run": null,
                "message": format!(
                    "check run started and still syncing the briefing store; follow it at {}",
                    links.local("api/runs")
                ),
            }),
        ),
    };
    let mut response = (status, Json(body.clone())).into_response();
    if let Some(run) = body["run"].as_str()
        && let Ok(value) = axum::http::HeaderValue::from_str(run)
    {
        response
            .headers_mut()
            .insert(axum::http::header::LOCATION, value);
    }
    Ok(response)
}

/// Tells the request that started a run the run's id once it is recorded, or
/// why it never was.
struct Handshake(std::sync::Mutex<Option<tokio::sync::oneshot::Sender<Result<i64, ApiError>>>>);

impl Handshake {
    fn answer(&self, answer: Result<i64, ApiError>) {
        let sender = self.0.lock().ok().and_then(|mut s| s.take());
        if let Some(sender) = sender {
            // The request may have stopped waiting; the run goes on regardless.
            let _ = sender.send(answer);
        }
    }
}

impl crate::check::run::Progress for Handshake {
    fn begun(&self, run_id: i64) {
        self.answer(Ok(run_id));
    }
    fn start(&self, _: usize) {}
    fn advance(&self, _: &str, _: &str) {}
    fn finish(&self) {}
}

/// Clears the server's "a check is running" mark when the run's thread ends,
/// however it ends: a bug panicking on the run's network thread once left it
/// set, and every later `POST /api/check` answered 409 until a restart.
struct RunningMark(AppState);

impl Drop for RunningMark {
    fn drop(&mut self) {
        self.0.check_running().store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_check_request_is_an_object_or_nothing() {
        assert!(!check_request(b"").unwrap().all);
        assert!(!check_request(b" \n").unwrap().all);
        assert!(!check_request(b"{}").unwrap().all);
        let r = check_request(br#"{"all": true, "limit": 2}"#).unwrap();
        assert!(r.all && r.limit == Some(2));
        for bad in [
            &br#"[false, ["http://a.example/"], null, 1]"#[..],
            b"[]",
            b"[true]",
            b"true",
            b"null",
            br#"{"everything": true}"#,
            b"{",
        ] {
            let e = check_request(bad).unwrap_err();
            assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST, "{bad:?}");
            assert!(e.message.starts_with("the request body"), "{}", e.message);
        }
    }

    use super::*;

    #[test]
    fn a_run_that_panics_still_clears_the_running_mark() {
        let dir = tempfile::tempdir().unwrap();
        let config =
            crate::config::Config::from_toml("", &dir.path().join("config/citewatch.toml"))
                .unwrap();
        drop(crate::store::Store::open(&config.store.database()).unwrap());
        let state = AppState::new(config).unwrap();
        state.check_running().store(true, Ordering::Release);
        let run = state.clone();
        let ended = std::thread::spawn(move || {
            let _mark = RunningMark(run);
            panic!("a bug in the run (this panic is the test's)");
        })
        .join();
        assert!(ended.is_err());
        assert!(!state.check_running().load(Ordering::Acquire));
    }

    /// The review's gap: a request read just as the service was told to stop
    /// began a run that was asked to stop only after the connections' grace.
    #[tokio::test]
    async fn no_check_run_starts_once_the_service_is_stopping() {
        let dir = tempfile::tempdir().unwrap();
        let config = crate::config::Config::from_toml(
            "[serve]\nadmin_token = \"t\"\n",
            &dir.path().join("config/citewatch.toml"),
        )
        .unwrap();
        drop(crate::store::Store::open(&config.store.database()).unwrap());
        let state = AppState::new(config).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::AUTHORIZATION,
            "Bearer t".parse().unwrap(),
        );
        state.ask_check_run_to_stop();
        let e = start_check(State(state.clone()), headers, Bytes::new())
            .await
            .unwrap_err();
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE, "{}", e.message);
        assert!(!state.check_running().load(Ordering::Acquire));
        // One tracked after the stop was asked for is told to stop at once.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        state.track_check_run(stop.clone(), std::thread::spawn(|| {}));
        assert!(stop.load(Ordering::Acquire));
    }

    fn pairs(q: &str) -> Vec<(String, String)> {
        query_pairs(Some(q))
    }

    /// A blank repeat (`outlet=Xinhua&outlet=`, a form's empty field after
    /// a link's value) dropped the value given, and with it the filter.
    #[test]
    fn a_parameter_is_its_last_non_empty_value() {
        assert_eq!(
            param(&pairs("outlet=Xinhua&outlet="), "outlet"),
            Some("Xinhua")
        );
        assert_eq!(param(&pairs("page=3&page=%20"), "page"), Some("3"));
        assert_eq!(param(&pairs("page=3&page=4"), "page"), Some("4"));
        assert_eq!(param(&pairs("page="), "page"), None);
    }

    #[test]
    fn statuses_are_validated_merged_and_all_expands() {
        assert_eq!(parse_statuses(&pairs("")).unwrap(), None);
        assert_eq!(
            parse_statuses(&pairs("status=dead,soft_404&status=dead")).unwrap(),
            Some(vec!["dead".to_string(), "soft_404".to_string()])
        );
        assert_eq!(
            parse_statuses(&pairs("status=all")).unwrap().unwrap().len(),
            10
        );
        // The words every --status takes.
        assert_eq!(
            parse_statuses(&pairs("status=broken")).unwrap(),
            Some(vec![
                "dead".to_string(),
                "soft_404".to_string(),
                "unreachable".to_string()
            ])
        );
        // A blank value is none; an empty entry in a list is refused, as
        // `--status dead,,ok` is.
        assert_eq!(parse_statuses(&pairs("status=&status=%20")).unwrap(), None);
        for bad in ["status=dead,,ok", "status=dead,", "status=,"] {
            let e = parse_statuses(&pairs(bad)).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{bad}");
            assert!(
                e.message.contains("has an empty entry"),
                "{bad}: {}",
                e.message
            );
        }
        let e = parse_statuses(&pairs("status=gone")).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(
            e.message.contains("soft_404") && e.message.contains("`all`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn ids_and_numbers_refuse_anything_but_digits() {
        assert_eq!(parse_id("7", "source").unwrap(), 7);
        for bad in ["", "-7", "..", "7a", "%2e", "99999999999999999999"] {
            assert!(parse_id(bad, "source").is_err(), "{bad}");
        }
        assert_eq!(parse_number(&pairs("page=3"), "page", 1).unwrap(), 3);
        assert_eq!(parse_number(&pairs(""), "page", 1).unwrap(), 1);
        assert!(parse_number(&pairs("page=-1"), "page", 1).is_err());
        let zero = parse_number(&pairs("per_page=0"), "per_page", 1).unwrap_err();
        assert!(zero.message.contains("`per_page=0`"), "{}", zero.message);
        for (q, want) in [
            ("", false),
            ("new=TRUE", true),
            ("new=1", true),
            ("new=No", false),
        ] {
            assert_eq!(parse_flag(&pairs(q), "new").unwrap(), want, "{q}");
        }
        for q in ["new=on", "new=2", "new=y"] {
            let e = parse_flag(&pairs(q), "new").unwrap_err();
            assert!(e.message.starts_with("`new`"), "{}", e.message);
        }
    }
}
