//! A store with known captures, and `citewatch serve` running on it in-process
//! on 127.0.0.1:0, for the server's tests (tests/serve*.rs).
#![allow(dead_code)]

use std::net::SocketAddr;

use citewatch::archive::{BlobStore, FsBlobStore, blob_dir};
use citewatch::config::Config;
use citewatch::server::{self, AppState};
use citewatch::store::{NewCapture, NewCheck, Store};
use sha2::{Digest, Sha256};

use super::Ground;

/// The article's URL: `.test` never resolves, and nothing here fetches it.
pub const ARTICLE: &str = "http://news.test/politics/article-1.html";
/// A second source, on another host.
pub const REPORT: &str = "http://gov.test/report.pdf";
/// A source cited but never archived.
pub const GONE: &str = "http://gone.test/page";

/// 2020-01-01T00:00:00Z and 2021-01-01T00:00:00Z in unix milliseconds.
pub const T2020: i64 = 1_577_836_800_000;
pub const T2021: i64 = 1_609_459_200_000;

/// The title the archived page carries, and what its script would set.
pub const ARCHIVED_TITLE: &str = "Archived original";
pub const SCRIPT_TITLE: &str = "script ran";

/// The article as first captured: its own script tries to change the title.
pub fn article_v1() -> Vec<u8> {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{ARCHIVED_TITLE}</title>\
         <script>document.title = '{SCRIPT_TITLE}'; document.cookie = 'stolen=1';</script></head>\
         <body><h1 id=\"h\">Provincial standards</h1><p>The article as it was cited.</p></body></html>"
    )
    .into_bytes()
}

/// The article a year later.
pub fn article_v2() -> Vec<u8> {
    b"<!doctype html><html><head><title>Rewritten</title></head><body><p>The article after it was rewritten.</p></body></html>".to_vec()
}

/// A binary body with every byte value.
pub fn pdf() -> Vec<u8> {
    let mut v = b"%PDF-1.7\n".to_vec();
    v.extend((0..4096u32).map(|i| (i * 37 % 256) as u8));
    v
}

pub fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// Ids of what the fixture recorded.
#[derive(Debug, Clone, Copy)]
pub struct Ids {
    pub article: i64,
    pub report: i64,
    pub gone: i64,
    /// Article captures: 2020 and 2021.
    pub a2020: i64,
    pub a2021: i64,
    pub pdf: i64,
}

/// A project whose store holds three cited sources and three captures.
pub struct Served {
    pub g: Ground,
    pub ids: Ids,
}

const BRIEFING: &str = "Provincial Standards for Overseas Technologies\n\n\
Epoch Times obtained an internal document from the provincial authorities.\n\n\
Source: Epoch Times, December 11, 2020\nhttp://news.test/politics/article-1.html\n\n\
A Report on Technology Transfer\n\nThe report lists cooperation projects.\n\n\
Source: Xinhua, December 26, 2020\nhttp://gov.test/report.pdf\n\n\
A Page That Disappeared\n\nThe page is gone.\n\n\
Source: Global Times, December 27, 2020\nhttp://gone.test/page\n";

impl Served {
    /// Builds the store: sync a briefing citing three URLs, archive the article
    /// twice (2020, 2021) and the report once, and give the sources verdicts.
    pub fn new(extra_config: &str) -> Served {
        let g = Ground::new();
        g.write_config(&format!(
            "[briefings]\npaths = [\"../briefings\"]\n[store]\ndir = \"../data\"\n{extra_config}"
        ));
        g.brief("briefings-1.txt", BRIEFING);
        g.sync();
        let mut store = Store::open(&g.path("data/citewatch.db")).unwrap();
        let blobs = FsBlobStore::new(blob_dir(&g.data()));
        let mut capture = |url: &str, at: i64, body: &[u8], ctype: &str| -> i64 {
            record_capture(&mut store, &blobs, url, at, body, ctype)
        };
        let a2020 = capture(ARTICLE, T2020, &article_v1(), "text/html; charset=utf-8");
        let a2021 = capture(ARTICLE, T2021, &article_v2(), "text/html; charset=utf-8");
        let pdf_id = capture(REPORT, T2020 + 3_600_000, &pdf(), "application/pdf");
        drop(store);
        // Verdicts as a check would leave them (the check's own tests cover how).
        let db = rusqlite::Connection::open(g.path("data/citewatch.db")).unwrap();
        db.execute_batch(&format!(
            "UPDATE sources SET status = 'changed', status_since = {T2021}, evidence = 'main text differs from the copy as cited',
                baseline_capture_id = {a2020}, latest_capture_id = {a2021} WHERE url = '{ARTICLE}';
             UPDATE sources SET status = 'ok', status_since = {T2020}, evidence = 'HTTP 200',
                baseline_capture_id = {pdf_id}, latest_capture_id = {pdf_id} WHERE url = '{REPORT}';
             UPDATE sources SET status = 'dead', status_since = {T2021}, evidence = 'HTTP 404 on 3 checks over 3 days',
                http_status = 404 WHERE url = '{GONE}';"
        ))
        .unwrap();
        let id = |u: &str| -> i64 {
            db.query_row("SELECT id FROM sources WHERE url = ?1", [u], |r| r.get(0))
                .unwrap()
        };
        let ids = Ids {
            article: id(ARTICLE),
            report: id(REPORT),
            gone: id(GONE),
            a2020,
            a2021,
            pdf: pdf_id,
        };
        Served { g, ids }
    }

    pub fn config(&self) -> Config {
        Config::load(&self.g.config()).unwrap()
    }

    /// Starts the server in-process on 127.0.0.1:0; it stops when the handle drops.
    pub async fn start(&self) -> Running {
        self.start_state(AppState::new(self.config()).unwrap())
            .await
    }

    /// [`Served::start`], giving up a report its client does not read after `stall`.
    pub async fn start_with_report_stall(&self, stall: std::time::Duration) -> Running {
        self.start_state(AppState::with_report_stall(self.config(), stall).unwrap())
            .await
    }

    /// [`Served::start`] with other time bounds (tests of stalled clients).
    pub async fn start_with_limits(&self, limits: server::Limits) -> Running {
        self.start_state(AppState::with_limits(self.config(), limits).unwrap())
            .await
    }

    /// Archives `body` as a new capture of the article (after the others).
    pub fn add_article_capture(&self, body: &[u8]) -> i64 {
        let mut store = Store::open(&self.g.path("data/citewatch.db")).unwrap();
        let blobs = FsBlobStore::new(blob_dir(&self.g.data()));
        record_capture(&mut store, &blobs, ARTICLE, T2021 + 1000, body, "text/html")
    }

    /// [`Served::add_article_capture`] of a body cut at the size cap, as a
    /// fetch with a `max_body_bytes` smaller than the page records it.
    pub fn add_truncated_article_capture(&self, body: &[u8]) -> i64 {
        let mut store = Store::open(&self.g.path("data/citewatch.db")).unwrap();
        let blobs = FsBlobStore::new(blob_dir(&self.g.data()));
        record_capture_cut(
            &mut store,
            &blobs,
            ARTICLE,
            T2021 + 2000,
            body,
            "text/html",
            true,
        )
    }

    async fn start_state(&self, state: AppState) -> Running {
        let listener = server::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            server::serve(state, listener, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Running {
            addr,
            stop: Some(tx),
            task: Some(task),
        }
    }
}

/// Archives `body` as fetched from `url` (a cited source) at `at`; returns the capture's id.
pub fn record_capture(
    store: &mut Store,
    blobs: &FsBlobStore,
    url: &str,
    at: i64,
    body: &[u8],
    ctype: &str,
) -> i64 {
    record_capture_cut(store, blobs, url, at, body, ctype, false)
}

/// [`record_capture`], of a body cut at the size cap when `truncated`.
fn record_capture_cut(
    store: &mut Store,
    blobs: &FsBlobStore,
    url: &str,
    at: i64,
    body: &[u8],
    ctype: &str,
    truncated: bool,
) -> i64 {
    let sha = sha(body);
    let stored = blobs.put(&sha, &mut &body[..]).unwrap();
    let headers =
        serde_json::json!([["content-type", ctype], ["set-cookie", "tracker=1"]]).to_string();
    let host = url::Url::parse(url)
        .unwrap()
        .host_str()
        .unwrap()
        .to_string();
    let check = NewCheck {
        duration_ms: 12,
        status_after: Some("ok"),
        evidence: Some("main text as cited"),
        ..NewCheck::answered(url, at)
    };
    let cap = NewCapture {
        headers_json: &headers,
        content_type: Some(ctype),
        truncated,
        ..NewCapture::answered(url, at, &sha, body.len() as u64, stored)
    };
    store
        .record_fetch(url, &host, &check, Some(&cap))
        .unwrap()
        .capture_id
        .unwrap()
}

/// A server running in-process.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops gracefully and waits.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// A GET whose transport error fails the test: what a test asks is the
/// answer, not whether sending it could fail.
pub async fn get(c: &reqwest::Client, url: impl reqwest::IntoUrl) -> reqwest::Response {
    c.get(url).send().await.unwrap()
}

/// A client that does not follow redirects (TimeGate answers are checked as sent).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

/// Sends `raw` (a request line and headers) over a plain TCP connection, so no
/// client normalises the path first; returns the status code and the body text.
pub async fn raw_request(addr: SocketAddr, target: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Adds `n` dead sources, each cited once under a title of about 2 KB, so that
/// a report listing them (over 10 MB) cannot fit in the socket buffers and
/// queues between the server and a client that reads nothing.
pub fn add_many_citations(s: &Served, n: usize) {
    use citewatch::store::BulkSource;
    let mut store = Store::open(&s.g.path("data/citewatch.db")).unwrap();
    let bulk = store.bulk().unwrap();
    let doc = bulk.document("../briefings", "bulk.txt", T2021).unwrap();
    let long = "A long briefing title that goes on and on. ".repeat(48);
    for i in 0..n {
        let briefing = bulk
            .briefing(doc, i as i64 + 1, &format!("{i}: {long}"))
            .unwrap();
        let url = format!("http://bulk.test/{i}");
        let source = BulkSource {
            url: &url,
            host: "bulk.test",
            status: "dead",
            status_since: Some(T2021),
            http_status: Some(404),
            evidence: Some("HTTP 404 on 3 checks over 3 days"),
            ..BulkSource::default()
        };
        let id = bulk.source(&source, T2020).unwrap();
        bulk.citation(briefing, 1, Some("Bulk News"), Some("2020-12-01"), &url, id)
            .unwrap();
    }
    bulk.commit().unwrap();
}

/// Connects with a small receive buffer and sends a GET for `target`; the
/// caller then reads nothing, as a stalled or hostile client does.
pub async fn stalled_request(addr: SocketAddr, target: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut s = socket.connect(addr).await.unwrap();
    let req = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    s
}

/// Whether tests needing an outside tool must fail (CI) rather than skip.
pub fn required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}
