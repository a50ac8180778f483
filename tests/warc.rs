//! WARC export, checked three ways: our own reader (every record's mandatory
//! fields, digests and payload bytes), the CDXJ index (each line's offset opens
//! the right gzip member), and the real tools others will use on the file:
//! `warcio check` / `warcio index` (Python), `warcat verify` (Rust), and pywb's
//! own `cdxj-indexer`, whose index of our file must equal ours.
//!
//! The store is filled by the real fetcher against a small web of our own on
//! 127.0.0.1 (only loopback traffic), plus one report built by hand for what the
//! fetcher cannot produce (original transfer headers kept as received).

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use citewatch::archive::warc::{self, ExportSummary, WarcError};
use citewatch::archive::{BlobError, BlobStore, FsBlobStore, conditional_request, record};
use citewatch::config::FetchConfig;
use citewatch::fetch::{BodyWriter, FetchReport, Fetcher, Outcome};
use citewatch::store::{CaptureFilter, CaptureRow, Store};
use citewatch::time::Duration as CwDuration;
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------- the test web

const ARTICLE: &str = "<html><head><title>Xinhua: a report</title></head>\
                       <body><p>The article as it was cited.</p></body></html>";
const SAME: &str = "<html><body>Unchanging page, captured twice.</body></html>";
const ENCODED: &str = "<html><body>Served gzip-encoded; archived decoded.</body></html>";
const CACHED: &str = "<html><body>Cacheable page with an ETag.</body></html>";
const MISSING: &str = "<html><body>Not here any more.</body></html>";
const MAX_BODY: u64 = 2 << 20;

/// A PDF-ish binary body past the fetcher's 1 MiB spill point, every byte value
/// present, so the export streams a spilled, many-chunk blob.
fn pdf_bytes() -> Vec<u8> {
    let mut v = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut x: u32 = 0x2545_4f46;
    while v.len() < (3 << 19) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v.push((x >> 11) as u8);
    }
    v.extend_from_slice(b"\n%%EOF\n");
    v
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn html(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn start_web() -> SocketAddr {
    let app = Router::new()
        .route("/article", get(|| async { html(StatusCode::OK, ARTICLE) }))
        .route(
            "/old",
            get(|| async {
                (
                    StatusCode::MOVED_PERMANENTLY,
                    [(header::LOCATION, "/article?from=old")],
                )
                    .into_response()
            }),
        )
        .route("/same", get(|| async { html(StatusCode::OK, SAME) }))
        .route(
            "/report.pdf",
            get(|| async { ([(header::CONTENT_TYPE, "application/pdf")], pdf_bytes()) }),
        )
        .route(
            "/gz",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/html"),
                        (header::CONTENT_ENCODING, "gzip"),
                    ],
                    gzip(ENCODED.as_bytes()),
                )
            }),
        )
        .route(
            "/big",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/octet-stream")],
                    vec![b'z'; (MAX_BODY + (MAX_BODY >> 2)) as usize],
                )
            }),
        )
        .route(
            "/cached",
            get(|headers: HeaderMap| async move {
                if headers.get(header::IF_NONE_MATCH).map(|v| v.as_bytes()) == Some(b"\"v1\"") {
                    return (StatusCode::NOT_MODIFIED, [(header::ETAG, "\"v1\"")]).into_response();
                }
                (
                    [
                        (header::CONTENT_TYPE, "text/html"),
                        (header::ETAG, "\"v1\""),
                    ],
                    CACHED,
                )
                    .into_response()
            }),
        )
        .route("/empty", get(|| async { StatusCode::NO_CONTENT }))
        .route(
            "/missing",
            get(|| async { html(StatusCode::NOT_FOUND, MISSING) }),
        );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

// ------------------------------------------------------------------- the store

struct Fixture {
    dir: tempfile::TempDir,
    store: Store,
    blobs: FsBlobStore,
    port: u16,
}

impl Fixture {
    fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.port)
    }

    fn captures(&self) -> Vec<CaptureRow> {
        let mut rows = Vec::new();
        self.store
            .for_each_capture(&CaptureFilter::default(), |r| {
                rows.push(r);
                Ok::<_, citewatch::store::StoreError>(())
            })
            .unwrap();
        rows
    }

    fn export(&self, name: &str, filter: &CaptureFilter) -> (PathBuf, ExportSummary) {
        let out = self.dir.path().join("out").join(name);
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        let mut told = Vec::new();
        // Three compressing threads, so that every export here goes
        // through them; `one_thread_or_three_write_the_same_file` compares.
        let summary = warc::export_reporting(
            &self.store,
            &self.blobs,
            filter,
            &out,
            true,
            3,
            &mut |done, of| told.push((done, of)),
        )
        .unwrap();
        // Progress is told once a capture, counting up to a total known from the start.
        let n = summary.captures;
        assert_eq!(told, (1..=n).map(|i| (i, n)).collect::<Vec<_>>());
        (out, summary)
    }
}

/// Captures: HTML; a redirect landing on the same HTML (a revisit under another
/// URI); a 1.5 MiB binary; a page twice (revisit); a gzip-encoded page; a body
/// cut at the size cap; a page and its 304 (revisit); a 404; an empty 204 twice
/// (never a revisit: nothing to save); and a hand-built report whose original
/// headers carry Content-Encoding, Content-Length and Transfer-Encoding as a
/// server sent them (the real fetcher cannot: reqwest drops Content-Encoding and
/// Content-Length when it decodes a body).
async fn fixture() -> Fixture {
    let addr = start_web().await;
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("data/citewatch.sqlite")).unwrap();
    let blobs = FsBlobStore::new(dir.path().join("data/blobs"));
    let config = FetchConfig {
        requests_per_second: 0.0,
        respect_robots: false,
        retries: 0,
        max_body_bytes: MAX_BODY,
        allow_networks: vec!["127.0.0.1/32".parse().unwrap()],
        timeout: CwDuration::from_secs(20),
        ..FetchConfig::default()
    };
    let fetcher = Fetcher::builder(config)
        .resolve("news.test", vec![addr])
        .resolve("docs.test", vec![addr])
        .build()
        .unwrap();
    let port = addr.port();
    let url = |host: &str, path: &str| format!("http://{host}:{port}{path}");
    for (host, path) in [
        ("news.test", "/article"),
        ("news.test", "/old"),
        ("docs.test", "/report.pdf"),
        ("news.test", "/same"),
        ("news.test", "/same"),
        ("news.test", "/gz"),
        ("docs.test", "/big"),
        ("news.test", "/cached"),
        ("news.test", "/cached"),
        ("news.test", "/missing"),
        ("news.test", "/empty"),
        ("news.test", "/empty"),
    ] {
        let req = conditional_request(&store, &blobs, &url(host, path)).unwrap();
        let report = fetcher.fetch(&req).await;
        assert!(
            report.outcome.status().is_some(),
            "{path}: {}",
            report.outcome.detail()
        );
        let recorded = record(&mut store, &blobs, &report).unwrap();
        assert!(recorded.capture_id.is_some(), "{path} archived");
    }
    record(&mut store, &blobs, &hand_built_report()).unwrap();
    Fixture {
        dir,
        store,
        blobs,
        port,
    }
}

/// A response whose headers say gzip, a length and chunking (both renames at
/// once), with the body decoded as citewatch archives bodies.
fn hand_built_report() -> FetchReport {
    let mut body = BodyWriter::new();
    body.push(ENCODED.as_bytes()).unwrap();
    body.push(b"<!-- mirror -->").unwrap();
    let started_at = citewatch::time::now_millis();
    FetchReport {
        url: "http://mirror.test/encoded".into(),
        final_url: "http://mirror.test/encoded".into(),
        hops: Vec::new(),
        outcome: Outcome::Response {
            status: 200,
            headers: vec![
                ("content-type".into(), "text/html; charset=utf-8".into()),
                ("content-encoding".into(), "gzip".into()),
                ("content-length".into(), "61".into()),
                ("transfer-encoding".into(), "chunked".into()),
                ("etag".into(), "\"m1\"".into()),
            ],
            body: body.finish(false),
        },
        attempts: 1,
        started_at,
        duration_ms: 3,
    }
}

/// An export with its index, on `jobs` threads, its progress unheeded.
fn export_quietly(
    store: &Store,
    blobs: &dyn BlobStore,
    filter: &CaptureFilter,
    out: &Path,
    jobs: usize,
) -> Result<ExportSummary, WarcError> {
    warc::export_reporting(store, blobs, filter, out, true, jobs, &mut |_, _| {})
}

// ------------------------------------------------------------ our own reader

/// One WARC record as read back from its own gzip member.
#[derive(Debug, Clone)]
struct Rec {
    /// Offset and length of the gzip member in the file.
    offset: u64,
    length: u64,
    fields: Vec<(String, String)>,
    block: Vec<u8>,
}

impl Rec {
    fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn must(&self, name: &str) -> &str {
        self.get(name)
            .unwrap_or_else(|| panic!("{} record lacks {name}: {:?}", self.kind(), self.fields))
    }

    fn kind(&self) -> &str {
        self.get("WARC-Type").unwrap_or("?")
    }

    /// For `application/http` blocks: the header section and what follows it.
    fn http(&self) -> (Vec<(String, String)>, String, &[u8]) {
        let end = self
            .block
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("HTTP header section ends with an empty line")
            + 4;
        let head = std::str::from_utf8(&self.block[..end]).unwrap();
        let mut lines = head.split("\r\n");
        let start = lines.next().unwrap().to_string();
        let headers = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (k, v) = l.split_once(':').expect("name: value");
                (k.to_ascii_lowercase(), v.trim().to_string())
            })
            .collect();
        (headers, start, &self.block[end..])
    }
}

/// Parses one uncompressed record, which must fill `data` exactly.
fn parse_record(data: &[u8]) -> (Vec<(String, String)>, Vec<u8>) {
    let head_end = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("WARC header ends with an empty line");
    let head = std::str::from_utf8(&data[..head_end]).expect("WARC header is UTF-8");
    let mut lines = head.split("\r\n");
    assert_eq!(lines.next(), Some("WARC/1.1"));
    let fields: Vec<(String, String)> = lines
        .map(|l| {
            let (k, v) = l.split_once(": ").expect("`Name: value`");
            (k.to_string(), v.to_string())
        })
        .collect();
    let len: usize = fields
        .iter()
        .find(|(k, _)| k == "Content-Length")
        .expect("Content-Length")
        .1
        .parse()
        .unwrap();
    let block_start = head_end + 4;
    assert_eq!(
        data.len(),
        block_start + len + 4,
        "one record per gzip member, Content-Length exact"
    );
    assert_eq!(&data[block_start + len..], b"\r\n\r\n");
    (fields, data[block_start..block_start + len].to_vec())
}

/// Reads the file gzip member by gzip member, each holding exactly one record.
fn read_warc(path: &Path) -> Vec<Rec> {
    let bytes = std::fs::read(path).unwrap();
    let mut recs = Vec::new();
    let mut pos = 0usize;
    while pos < bytes.len() {
        let (data, used) = inflate_member(&bytes[pos..]);
        let (fields, block) = parse_record(&data);
        recs.push(Rec {
            offset: pos as u64,
            length: used as u64,
            fields,
            block,
        });
        pos += used;
    }
    // The whole file, read as one multi-member gzip stream, is the same records.
    let mut all = Vec::new();
    flate2::read::MultiGzDecoder::new(&bytes[..])
        .read_to_end(&mut all)
        .unwrap();
    let total: usize = recs
        .iter()
        .map(|r| {
            let head: usize = r.fields.iter().map(|(k, v)| k.len() + v.len() + 4).sum();
            "WARC/1.1\r\n".len() + head + 2 + r.block.len() + 4
        })
        .sum();
    assert_eq!(all.len(), total);
    recs
}

/// Inflates the gzip member at the start of `bytes`: (content, bytes it spans).
fn inflate_member(bytes: &[u8]) -> (Vec<u8>, usize) {
    let mut dec = flate2::bufread::GzDecoder::new(bytes);
    let mut data = Vec::new();
    dec.read_to_end(&mut data).expect("a gzip member");
    let rest = dec.into_inner().len();
    (data, bytes.len() - rest)
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn blob_bytes(blobs: &dyn BlobStore, sha: &str) -> Vec<u8> {
    let mut v = Vec::new();
    blobs.open(sha).unwrap().read_to_end(&mut v).unwrap();
    v
}

fn is_rfc3339_z(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

fn is_record_id(s: &str) -> bool {
    s.strip_prefix("<urn:uuid:")
        .and_then(|s| s.strip_suffix('>'))
        .is_some_and(|u| {
            u.len() == 36
                && u.split('-').map(str::len).eq([8, 4, 4, 4, 12])
                && u.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit())
        })
}

/// Checks every record of an export against the WARC 1.1 rules we promise and
/// against the store; returns the records keyed by capture id (request,
/// response-or-revisit, metadata).
fn check_export(f: &Fixture, path: &Path, summary: &ExportSummary) -> HashMap<i64, [Rec; 3]> {
    let recs = read_warc(path);
    assert_eq!(recs.len() as u64, summary.records);
    assert_eq!(summary.bytes, std::fs::metadata(path).unwrap().len());
    assert_eq!(summary.records, 1 + 3 * summary.captures);

    let mut ids = HashSet::new();
    for r in &recs {
        let id = r.must("WARC-Record-ID");
        assert!(is_record_id(id), "{id}");
        assert!(ids.insert(id.to_string()), "record ids are unique: {id}");
        assert!(
            is_rfc3339_z(r.must("WARC-Date")),
            "{:?}",
            r.get("WARC-Date")
        );
        assert_eq!(
            r.must("Content-Length").parse::<usize>().unwrap(),
            r.block.len()
        );
        assert!(
            r.get("Content-Type").is_some(),
            "{} has a Content-Type",
            r.kind()
        );
        assert_eq!(
            r.must("WARC-Block-Digest"),
            format!("sha256:{}", sha256_hex(&r.block)),
            "{} block digest",
            r.kind()
        );
        for (k, v) in &r.fields {
            assert!(!k.is_empty() && !v.contains(['\r', '\n']));
        }
    }

    let info = &recs[0];
    assert_eq!(info.kind(), "warcinfo");
    assert_eq!(info.must("Content-Type"), "application/warc-fields");
    assert_eq!(
        info.must("WARC-Filename"),
        path.file_name().unwrap().to_str().unwrap()
    );
    assert!(info.get("WARC-Target-URI").is_none());
    let info_text = String::from_utf8(info.block.clone()).unwrap();
    assert!(
        info_text.contains(&format!(
            "software: citewatch/{}\r\n",
            env!("CARGO_PKG_VERSION")
        )),
        "{info_text}"
    );
    assert!(info_text.contains("format: WARC File Format 1.1\r\n"));
    let info_id = info.must("WARC-Record-ID").to_string();

    let by_capture: HashMap<i64, CaptureRow> =
        f.captures().into_iter().map(|c| (c.id, c)).collect();
    let mut out = HashMap::new();
    let mut responses: HashMap<String, Rec> = HashMap::new();
    let mut revisits = 0;
    for triple in recs[1..].chunks(3) {
        let [req, resp, meta] = triple else {
            panic!("records come in threes per capture")
        };
        for r in triple {
            assert_eq!(r.must("WARC-Warcinfo-ID"), info_id);
        }
        // metadata: ties the records to their capture.
        assert_eq!(meta.kind(), "metadata");
        assert_eq!(meta.must("Content-Type"), "application/warc-fields");
        assert_eq!(meta.must("WARC-Concurrent-To"), resp.must("WARC-Record-ID"));
        let meta_text = String::from_utf8(meta.block.clone()).unwrap();
        let meta_fields: HashMap<&str, &str> = meta_text
            .split("\r\n")
            .filter(|l| !l.is_empty())
            .map(|l| l.split_once(": ").unwrap())
            .collect();
        let capture_id: i64 = meta_fields["citewatch-capture-id"].parse().unwrap();
        let cap = &by_capture[&capture_id];
        assert_eq!(meta_fields["citewatch-request-url"], cap.request_url);
        assert_eq!(meta_fields["citewatch-redirects"], cap.hops_json);
        let target = cap.final_url.as_str();
        let date = citewatch::time::format_millis(cap.captured_at);
        for r in triple {
            assert_eq!(r.must("WARC-Target-URI"), target);
            assert_eq!(r.must("WARC-Date"), date);
        }

        // request: a GET of the target, concurrent to the response.
        assert_eq!(req.kind(), "request");
        assert_eq!(
            req.must("Content-Type"),
            "application/http; msgtype=request"
        );
        assert_eq!(req.must("WARC-Concurrent-To"), resp.must("WARC-Record-ID"));
        let u = url::Url::parse(target).unwrap();
        let (req_headers, req_line, req_body) = req.http();
        assert_eq!(
            req_line,
            format!(
                "GET {} HTTP/1.1",
                &u[url::Position::BeforePath..url::Position::AfterQuery]
            )
        );
        assert!(req_body.is_empty());
        assert_eq!(req_headers[0].0, "host");

        // response or revisit: HTTP headers that describe the payload as stored.
        assert_eq!(
            resp.must("Content-Type"),
            "application/http; msgtype=response"
        );
        let digest = format!("sha256:{}", cap.body_sha256);
        assert_eq!(resp.must("WARC-Payload-Digest"), digest);
        let (headers, status_line, payload) = resp.http();
        assert!(
            status_line.starts_with(&format!("HTTP/1.1 {} ", cap.status)),
            "{status_line}"
        );
        for banned in ["content-encoding", "transfer-encoding"] {
            assert!(
                headers.iter().all(|(k, _)| k != banned),
                "{banned} must not describe a decoded payload: {headers:?}"
            );
        }
        let lengths: Vec<&str> = headers
            .iter()
            .filter(|(k, _)| k == "content-length")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(
            lengths,
            [cap.body_size.to_string()],
            "one true Content-Length"
        );
        for (k, v) in &cap.headers {
            if ["content-encoding", "transfer-encoding", "content-length"].contains(&k.as_str()) {
                let renamed = format!("x-citewatch-original-{k}");
                assert!(
                    headers.iter().any(|(hk, hv)| *hk == renamed && hv == v),
                    "{renamed}: {v} kept"
                );
            } else {
                assert!(
                    headers.iter().any(|(hk, hv)| hk == k && hv == v),
                    "{k} kept"
                );
            }
        }
        match resp.kind() {
            "response" => {
                assert!(resp.get("WARC-Refers-To").is_none());
                assert_eq!(payload.len() as u64, cap.body_size);
                assert_eq!(sha256_hex(payload), cap.body_sha256, "payload digest true");
                assert!(
                    payload == blob_bytes(&f.blobs, &cap.body_sha256).as_slice(),
                    "payload is the archived bytes"
                );
                assert_eq!(
                    resp.get("WARC-Truncated"),
                    cap.truncated.then_some("length"),
                    "capture {capture_id}"
                );
                responses.insert(digest.clone(), resp.clone());
            }
            "revisit" => {
                revisits += 1;
                assert!(payload.is_empty(), "a revisit carries headers only");
                assert_eq!(resp.must("WARC-Profile"), warc::IDENTICAL_PAYLOAD_PROFILE);
                let earlier = responses
                    .get(&digest)
                    .expect("a revisit refers to an earlier response in the file");
                assert_eq!(resp.must("WARC-Refers-To"), earlier.must("WARC-Record-ID"));
                assert_eq!(
                    resp.must("WARC-Refers-To-Target-URI"),
                    earlier.must("WARC-Target-URI")
                );
                assert_eq!(resp.must("WARC-Refers-To-Date"), earlier.must("WARC-Date"));
                assert!(resp.get("WARC-Truncated").is_none());
            }
            other => panic!("unexpected record type {other}"),
        }
        out.insert(capture_id, [req.clone(), resp.clone(), meta.clone()]);
    }
    assert_eq!(revisits, summary.revisits);
    out
}

fn capture_of<'a>(f: &Fixture, recs: &'a HashMap<i64, [Rec; 3]>, url: &str) -> Vec<&'a [Rec; 3]> {
    let mut ids: Vec<i64> = f
        .captures()
        .into_iter()
        .filter(|c| c.request_url == url)
        .map(|c| c.id)
        .collect();
    ids.sort();
    ids.iter().map(|id| &recs[id]).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_reads_back_with_mandatory_fields_true_digests_and_the_archived_bytes() {
    let f = fixture().await;
    let (path, summary) = f.export("all.warc.gz", &CaptureFilter::default());
    assert_eq!(summary.captures, 13);
    assert_eq!(
        summary.revisits, 3,
        "second /same, /old (=/article) and the 304"
    );
    let recs = check_export(&f, &path, &summary);

    let kind = |url: &str| -> Vec<String> {
        capture_of(&f, &recs, url)
            .iter()
            .map(|t| t[1].kind().to_string())
            .collect()
    };
    assert_eq!(kind(&f.url("news.test", "/same")), ["response", "revisit"]);
    assert_eq!(
        kind(&f.url("news.test", "/cached")),
        ["response", "revisit"]
    );
    let cached = capture_of(&f, &recs, &f.url("news.test", "/cached"))[1];
    let meta = String::from_utf8(cached[2].block.clone()).unwrap();
    assert!(
        meta.contains("citewatch-not-modified: true\r\n"),
        "the second came back 304: {meta}"
    );
    assert_eq!(kind(&f.url("news.test", "/article")), ["response"]);

    // A redirect: the records name the URL that answered, the revisit the
    // earlier URI, and the metadata the URL asked for and the hop.
    let old = capture_of(&f, &recs, &f.url("news.test", "/old"))[0];
    assert_eq!(old[1].kind(), "revisit");
    assert_eq!(
        old[1].must("WARC-Target-URI"),
        f.url("news.test", "/article?from=old")
    );
    assert_eq!(
        old[1].must("WARC-Refers-To-Target-URI"),
        f.url("news.test", "/article")
    );
    let meta = String::from_utf8(old[2].block.clone()).unwrap();
    assert!(meta.contains(&format!(
        "citewatch-request-url: {}\r\n",
        f.url("news.test", "/old")
    )));
    assert!(meta.contains("\"status\":301"), "{meta}");

    // Binary, spilled to disk by the fetcher: streamed through whole.
    let pdf = capture_of(&f, &recs, &f.url("docs.test", "/report.pdf"))[0];
    assert_eq!(pdf[1].http().2, pdf_bytes().as_slice());

    // Served gzip-encoded: archived and exported decoded, readable as is.
    let gz = capture_of(&f, &recs, &f.url("news.test", "/gz"))[0];
    assert_eq!(gz[1].http().2, ENCODED.as_bytes());

    // Original transfer headers survive under their renamed names.
    let hand = capture_of(&f, &recs, "http://mirror.test/encoded")[0];
    let (headers, _, payload) = hand[1].http();
    let h = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(h("x-citewatch-original-content-encoding"), Some("gzip"));
    assert_eq!(h("x-citewatch-original-transfer-encoding"), Some("chunked"));
    assert_eq!(h("x-citewatch-original-content-length"), Some("61"));
    assert_eq!(
        h("content-length"),
        Some(payload.len().to_string().as_str())
    );

    // Cut at the size cap: flagged, and never folded into a revisit.
    let big = capture_of(&f, &recs, &f.url("docs.test", "/big"))[0];
    assert_eq!(big[1].kind(), "response");
    assert_eq!(big[1].must("WARC-Truncated"), "length");
    assert_eq!(big[1].http().2.len() as u64, MAX_BODY);

    // Empty bodies are written whole each time.
    assert_eq!(
        kind(&f.url("news.test", "/empty")),
        ["response", "response"]
    );

    // A 404 is archived with its status and reason.
    let missing = capture_of(&f, &recs, &f.url("news.test", "/missing"))[0];
    assert_eq!(missing[1].http().1, "HTTP/1.1 404 Not Found");

    // Readable by others, like any file one hands on (not the 0600 of a temp file).
    #[cfg(unix)]
    for p in [&path, &warc::cdxj_path(&path)] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644, "{}", p.display());
    }

    // Exporting again gives the same capture records (ids are deterministic).
    let (again, _) = f.export("again.warc.gz", &CaptureFilter::default());
    let ids = |p: &Path| -> Vec<String> {
        read_warc(p)[1..]
            .iter()
            .map(|r| r.must("WARC-Record-ID").to_string())
            .collect()
    };
    assert_eq!(ids(&path), ids(&again));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_select_captures_and_revisits_only_point_inside_the_file() {
    let f = fixture().await;
    let caps = f.captures();
    let same_url = f.url("news.test", "/same");
    let second_same = caps
        .iter()
        .filter(|c| c.request_url == same_url)
        .nth(1)
        .unwrap();

    // From the second /same capture on: its first capture is not in the file, so
    // it must be a full response, not a revisit pointing nowhere.
    let since = CaptureFilter {
        source_id: None,
        since: Some(second_same.captured_at),
    };
    let (path, summary) = f.export("since.warc.gz", &since);
    let expected = caps
        .iter()
        .filter(|c| c.captured_at >= second_same.captured_at)
        .count() as u64;
    assert_eq!(summary.captures, expected);
    let recs = check_export(&f, &path, &summary);
    assert_eq!(recs[&second_same.id][1].kind(), "response");

    // One source only.
    let source = CaptureFilter {
        source_id: Some(second_same.source_id),
        since: None,
    };
    let (path, summary) = f.export("one.warc.gz", &source);
    assert_eq!((summary.captures, summary.revisits), (2, 1));
    check_export(&f, &path, &summary);

    // Nothing selected: a valid file holding only its warcinfo record.
    let none = CaptureFilter {
        source_id: Some(-1),
        since: None,
    };
    let (path, summary) = f.export("none.warc.gz", &none);
    assert_eq!((summary.records, summary.captures), (1, 0));
    check_export(&f, &path, &summary);
    assert_eq!(std::fs::read_to_string(warc::cdxj_path(&path)).unwrap(), "");
}

#[tokio::test]
async fn verify_tells_its_progress_blob_by_blob() {
    let f = fixture().await;
    let mut told = Vec::new();
    let report =
        citewatch::archive::verify::verify_reporting(&f.store, &f.blobs, &mut |done, of| {
            told.push((done, of))
        })
        .unwrap();
    let n = report.blobs_checked as u64;
    assert!(n > 3, "{n} blobs");
    assert_eq!(told, (1..=n).map(|i| (i, n)).collect::<Vec<_>>());
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

/// A blob store whose copy of one blob has rotted, or (`panics`) which
/// panics when asked for it: a bug, as it would be in citewatch.
struct Rotten<'a> {
    inner: &'a FsBlobStore,
    sha256: String,
    panics: bool,
}

impl BlobStore for Rotten<'_> {
    fn put(&self, sha256: &str, content: &mut dyn Read) -> Result<u64, BlobError> {
        self.inner.put(sha256, content)
    }
    fn open(&self, sha256: &str) -> Result<Box<dyn Read + Send>, BlobError> {
        assert!(
            !(self.panics && sha256 == self.sha256),
            "a bug while reading a blob"
        );
        if sha256 == self.sha256 {
            let mut v = Vec::new();
            self.inner.open(sha256)?.read_to_end(&mut v).unwrap();
            v[0] ^= 1;
            Ok(Box::new(std::io::Cursor::new(v)))
        } else {
            self.inner.open(sha256)
        }
    }
    fn stored_size(&self, sha256: &str) -> Result<u64, BlobError> {
        self.inner.stored_size(sha256)
    }
    fn list(&self) -> Result<Vec<String>, BlobError> {
        self.inner.list()
    }
}

/// A rotten blob fails the export, whether its record is compressed on the
/// exporting thread (one thread; or a blob past the in-memory bound, which
/// streams) or on a compressing thread (a page, with three), and the error
/// names that capture even though records after it were compressed already.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_that_no_longer_matches_its_digest_fails_the_export_and_leaves_no_file() {
    let f = fixture().await;
    for (path, jobs) in [
        ("/report.pdf", 1),
        ("/report.pdf", 3),
        ("/article", 1),
        ("/article", 3),
    ] {
        let rotten_capture = f
            .captures()
            .into_iter()
            .find(|c| c.request_url.ends_with(path))
            .unwrap();
        let rotten = Rotten {
            inner: &f.blobs,
            sha256: rotten_capture.body_sha256.clone(),
            panics: false,
        };
        let out = f.dir.path().join("rotten.warc.gz");
        let err =
            export_quietly(&f.store, &rotten, &CaptureFilter::default(), &out, jobs).unwrap_err();
        assert!(
            matches!(&err, WarcError::BlobMismatch { capture_id, .. } if *capture_id == rotten_capture.id),
            "{path}, {jobs} threads: {err}"
        );
        assert!(err.to_string().contains("citewatch verify"), "{err}");
        assert!(!out.exists());
        assert!(!warc::cdxj_path(&out).exists());
        let leftovers: Vec<_> = std::fs::read_dir(f.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
    // The simple entry point (as many threads as cores) fails the same way.
    let pdf = f
        .captures()
        .into_iter()
        .find(|c| c.request_url.ends_with("/report.pdf"))
        .unwrap();
    let rotten = Rotten {
        inner: &f.blobs,
        sha256: pdf.body_sha256.clone(),
        panics: false,
    };
    let out = f.dir.path().join("rotten.warc.gz");
    let err = warc::export(&f.store, &rotten, &CaptureFilter::default(), &out, true).unwrap_err();
    assert!(
        matches!(&err, WarcError::BlobMismatch { capture_id, .. } if *capture_id == pdf.id),
        "{err}"
    );
}

/// Records compressed on three threads come back in any order; the file
/// must not show it: the same records in the same order as on one thread
/// (but for the `warcinfo` record's identity and date, which name the
/// moment of the export and which every record names in turn), and the same
/// index (but for offsets). That each index line points at its own gzip
/// member is `cdxj_lines_are_sorted_and_point_at_their_gzip_members`'s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_thread_or_three_write_the_same_file() {
    let mut f = fixture().await;
    // More captures than the threads hold at once, so that records kept in
    // memory queue up behind the ones that stream.
    for report in std::iter::repeat_with(hand_built_report).take(40) {
        record(&mut f.store, &f.blobs, &report).unwrap();
    }
    let export = |jobs: usize| {
        // One name in two folders: the records name their file.
        let out = f.dir.path().join(format!("jobs{jobs}/all.warc.gz"));
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        export_quietly(&f.store, &f.blobs, &CaptureFilter::default(), &out, jobs).unwrap();
        out
    };
    let (one, three) = (export(1), export(3));
    let records = |out: &Path| {
        let recs = read_warc(out);
        let info = recs[0].must("WARC-Record-ID").to_string();
        let date = recs[0].must("WARC-Date").to_string();
        // The export's date only in its own record: a capture made in the
        // same second as one export and not the other must still compare.
        recs.into_iter()
            .enumerate()
            .map(|(i, r)| {
                let fields: Vec<(String, String)> = r
                    .fields
                    .iter()
                    .map(|(k, v)| {
                        let v = v.replace(&info, "<warcinfo>");
                        (
                            k.clone(),
                            if i == 0 { v.replace(&date, "<now>") } else { v },
                        )
                    })
                    .collect();
                (fields, r.block)
            })
            .collect::<Vec<_>>()
    };
    let (a, b) = (records(&one), records(&three));
    assert!(a.len() > 150, "{} records", a.len());
    assert_eq!(a.len(), b.len());
    for (i, (ra, rb)) in a.iter().zip(&b).enumerate() {
        assert!(ra == rb, "record {i}: {:?} against {:?}", ra.0, rb.0);
    }
    let index = |out: &Path| -> Vec<String> {
        std::fs::read_to_string(warc::cdxj_path(out))
            .unwrap()
            .lines()
            .map(|l| {
                let (key, json) = l.split_at(l.find('{').unwrap());
                let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
                v["offset"].take();
                v["length"].take();
                format!("{key}{v}")
            })
            .collect()
    };
    assert_eq!(index(&one), index(&three));
}

/// A panic on a compressing thread is raised again on the exporting thread
/// (where the binary's hook words it as citewatch's bug), not swallowed into
/// an error or left waiting for an answer that never comes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_while_compressing_reaches_the_caller() {
    let f = fixture().await;
    let article = f
        .captures()
        .into_iter()
        .find(|c| c.request_url.ends_with("/article"))
        .unwrap();
    let (told, answer) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let store = Rotten {
            inner: &f.blobs,
            sha256: article.body_sha256.clone(),
            panics: true,
        };
        let out = f.dir.path().join("panic.warc.gz");
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            export_quietly(&f.store, &store, &CaptureFilter::default(), &out, 3)
        }));
        let _ = told.send((caught.is_err(), out.exists()));
    });
    let (panicked, left_a_file) = answer
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the export came back within a minute");
    assert!(panicked, "the panic reached the caller");
    assert!(!left_a_file);
}

/// The store failing at a capture while the records of one before it are
/// still being compressed: the earlier capture's failure is the one told (as
/// on one thread, where it came first), and its panic is raised, not
/// swallowed by the store's error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capture_that_fails_before_the_store_does_is_the_one_told_whatever_the_threads() {
    let f = fixture().await;
    let captures = f.captures();
    let article = &captures[0];
    assert!(article.request_url.ends_with("/article"), "{article:?}");
    // The second capture's row cannot be read.
    rusqlite::Connection::open(f.dir.path().join("data/citewatch.sqlite"))
        .unwrap()
        .execute(
            "UPDATE captures SET status = 'unreadable' WHERE id = ?1",
            [captures[1].id],
        )
        .unwrap();
    let export = |blobs: &dyn BlobStore, jobs: usize| {
        let out = f.dir.path().join("first.warc.gz");
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            export_quietly(&f.store, blobs, &CaptureFilter::default(), &out, jobs)
        }));
        assert!(!out.exists());
        result
    };
    let rotten = Rotten {
        inner: &f.blobs,
        sha256: article.body_sha256.clone(),
        panics: false,
    };
    let panicking = Rotten {
        inner: &f.blobs,
        sha256: article.body_sha256.clone(),
        panics: true,
    };
    for jobs in [1, 3] {
        match export(&rotten, jobs) {
            Ok(Err(WarcError::BlobMismatch { capture_id, .. })) if capture_id == article.id => {}
            other => panic!("{jobs} threads: {:?}", other.map(|r| r.map(|_| ()))),
        }
        assert!(
            export(&panicking, jobs).is_err(),
            "{jobs} threads: the panic reached the caller"
        );
    }
}

/// A blob store that has lost every blob.
struct Lost<'a>(&'a FsBlobStore);

impl BlobStore for Lost<'_> {
    fn put(&self, sha256: &str, content: &mut dyn Read) -> Result<u64, BlobError> {
        self.0.put(sha256, content)
    }
    fn open(&self, sha256: &str) -> Result<Box<dyn Read + Send>, BlobError> {
        Err(BlobError::Missing(sha256.to_string()))
    }
    fn stored_size(&self, sha256: &str) -> Result<u64, BlobError> {
        self.0.stored_size(sha256)
    }
    fn list(&self) -> Result<Vec<String>, BlobError> {
        self.0.list()
    }
}

/// Several captures compressed at once all fail: the first in the file is
/// told, as on one thread, not one after it that also came back failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_several_captures_failing_at_once_the_first_is_told() {
    let f = fixture().await;
    // From the page after the PDF on: two pages kept in memory (/same, /gz)
    // before a body that streams (/big), so both are out at once.
    let captures = f.captures();
    let pdf = captures
        .iter()
        .position(|c| c.request_url.ends_with("/report.pdf"))
        .unwrap();
    let since = captures[pdf].captured_at + 1;
    let filter = CaptureFilter {
        source_id: None,
        since: Some(since),
    };
    let first = captures.iter().find(|c| c.captured_at >= since).unwrap();
    let out = f.dir.path().join("lost.warc.gz");
    for jobs in [1, 3] {
        let err = export_quietly(&f.store, &Lost(&f.blobs), &filter, &out, jobs).unwrap_err();
        assert!(
            matches!(&err, WarcError::Blob { capture_id, .. } if *capture_id == first.id),
            "{jobs} threads: {err}, not capture {} ({})",
            first.id,
            first.request_url
        );
        assert!(!out.exists());
    }
}

// ----------------------------------------------------------------------- CDXJ

#[derive(serde::Deserialize)]
struct CdxjFields {
    url: String,
    mime: Option<String>,
    status: String,
    digest: String,
    length: String,
    offset: String,
    filename: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cdxj_lines_are_sorted_and_point_at_their_gzip_members() {
    let f = fixture().await;
    let (path, summary) = f.export("index.warc.gz", &CaptureFilter::default());
    let cdxj = warc::cdxj_path(&path);
    assert_eq!(summary.cdxj_file.as_deref(), Some(cdxj.as_path()));
    assert_eq!(cdxj.file_name().unwrap(), "index.cdxj");
    let text = std::fs::read_to_string(&cdxj).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len() as u64, summary.captures);
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted, "lines sorted bytewise");

    let bytes = std::fs::read(&path).unwrap();
    let by_id: HashMap<i64, CaptureRow> = f.captures().into_iter().map(|c| (c.id, c)).collect();
    let mut revisits = 0;
    for line in lines {
        let mut parts = line.splitn(3, ' ');
        let (key, ts, json) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let v: CdxjFields = serde_json::from_str(json).unwrap();
        assert_eq!(key, warc::surt(&v.url));
        assert!(key.contains(')'), "{key}");
        assert!(
            ts.len() == 14 && ts.bytes().all(|b| b.is_ascii_digit()),
            "{ts}"
        );
        assert_eq!(v.filename, "index.warc.gz");
        let offset: usize = v.offset.parse().unwrap();
        let length: usize = v.length.parse().unwrap();

        // The member at that offset inflates alone to the record indexed.
        let (data, used) = inflate_member(&bytes[offset..]);
        assert_eq!(used, length, "length is the whole gzip member");
        let (fields, _) = parse_record(&data);
        let get = |n: &str| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("WARC-Target-URI"), Some(v.url.as_str()));
        assert_eq!(get("WARC-Payload-Digest"), Some(v.digest.as_str()));
        let date = get("WARC-Date").unwrap();
        assert_eq!(ts, date.replace(['-', 'T', ':', 'Z'], ""));
        match get("WARC-Type").unwrap() {
            "response" => assert_ne!(v.mime.as_deref(), Some("warc/revisit")),
            "revisit" => {
                revisits += 1;
                assert_eq!(v.mime.as_deref(), Some("warc/revisit"));
            }
            other => panic!("CDXJ indexes responses and revisits, not {other}"),
        }
        let cap = by_id
            .values()
            .find(|c| format!("sha256:{}", c.body_sha256) == v.digest && c.final_url == v.url)
            .expect("a line per capture");
        assert_eq!(v.status, cap.status.to_string());
        if get("WARC-Type") == Some("response") {
            let mime = cap
                .content_type
                .as_deref()
                .map(|c| c.split(';').next().unwrap().trim().to_string());
            assert_eq!(
                v.mime, mime,
                "the Content-Type's essence, absent without one"
            );
        }
    }
    assert_eq!(revisits, summary.revisits);
}

// ----------------------------------------------------------------- real tools

/// A validator to run: `$ENV`, else on PATH, else where `.ci/run` installs it.
/// Missing: under `CI=true` the test fails; elsewhere it says why and skips.
fn tool(env: &str, name: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(p.exists(), "{env}={} does not exist", p.display());
        return Some(p);
    }
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join(name)).collect())
        .unwrap_or_default();
    let cache = std::env::var_os("CITEWATCH_CI_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/citewatch-ci")));
    if let Some(cache) = cache {
        candidates.push(cache.join("venv/bin").join(name));
        candidates.push(cache.join("cargo/bin").join(name));
    }
    if let Some(found) = candidates.into_iter().find(|p| p.is_file()) {
        return Some(found);
    }
    let why =
        format!("{name} not found (set {env}, put it on PATH, or run .ci/run which installs it)");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true: {why}");
    }
    eprintln!("SKIPPED: {why}");
    None
}

fn run(cmd: &mut Command) -> (String, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    (stdout, stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warcio_checks_every_digest_and_indexes_every_record() {
    let Some(warcio) = tool("WARCIO", "warcio") else {
        return;
    };
    let f = fixture().await;
    let (path, summary) = f.export("warcio.warc.gz", &CaptureFilter::default());
    let ours = read_warc(&path);

    let (stdout, _) = run(Command::new(&warcio).arg("check").arg("-v").arg(&path));
    assert!(!stdout.contains("fail"), "{stdout}");
    assert_eq!(
        stdout.matches("digest pass").count() as u64,
        summary.records - summary.revisits,
        "every record but the revisits has its digests checked and passing:\n{stdout}"
    );
    assert_eq!(
        stdout
            .matches("digest present but not checked (revisit)")
            .count() as u64,
        summary.revisits
    );

    let (stdout, _) = run(Command::new(&warcio)
        .args(["index", "-f", "warc-type,warc-target-uri,offset,length"])
        .arg(&path));
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), ours.len(), "{stdout}");
    for (theirs, ours) in lines.iter().zip(&ours) {
        assert_eq!(theirs["warc-type"], ours.kind());
        assert_eq!(theirs["offset"], ours.offset.to_string());
        assert_eq!(theirs["length"], ours.length.to_string());
        if let Some(uri) = ours.get("WARC-Target-URI") {
            assert_eq!(theirs["warc-target-uri"], uri);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warcat_verifies_the_export() {
    let Some(warcat) = tool("WARCAT", "warcat") else {
        return;
    };
    let f = fixture().await;
    let (path, _) = f.export("warcat.warc.gz", &CaptureFilter::default());
    let (stdout, _) = run(Command::new(&warcat).args(["verify", "--input"]).arg(&path));
    assert!(
        stdout.lines().all(|l| l.trim().is_empty()),
        "warcat reports problems:\n{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_cdxj_equals_what_pywbs_cdxj_indexer_makes_of_the_file() {
    let Some(indexer) = tool("CDXJ_INDEXER", "cdxj-indexer") else {
        return;
    };
    let f = fixture().await;
    let (path, _) = f.export("pywb.warc.gz", &CaptureFilter::default());
    let (stdout, _) = run(Command::new(&indexer).arg(&path));
    // Same keys, timestamps and fields; pywb spaces its JSON differently and
    // leaves sorting to `sort`.
    let parse = |text: &str| -> Vec<(String, String, serde_json::Value)> {
        let mut v: Vec<_> = text
            .lines()
            .map(|l| {
                let mut p = l.splitn(3, ' ');
                let key = p.next().unwrap().to_string();
                let ts = p.next().unwrap().to_string();
                let json: serde_json::Value = serde_json::from_str(p.next().unwrap()).unwrap();
                (key, ts, json)
            })
            .collect();
        v.sort_by(|a, b| (&a.0, &a.1, a.2.to_string()).cmp(&(&b.0, &b.1, b.2.to_string())));
        v
    };
    let ours = std::fs::read_to_string(warc::cdxj_path(&path)).unwrap();
    assert_eq!(parse(&ours), parse(&stdout), "pywb's index:\n{stdout}");
}
