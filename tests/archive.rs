//! The archive through the real binary: capture → get round trips, dedup,
//! crash safety between blob and row, history, and verify catching damage.

mod common;

use std::path::{Path, PathBuf};

use common::Ground;
use common::web::{TestWeb, file_body};
use serde_json::Value;
use sha2::{Digest, Sha256};

struct Setup {
    g: Ground,
    web: TestWeb,
}

async fn setup() -> Setup {
    let web = TestWeb::start("127.0.0.1").await;
    let g = Ground::new();
    g.write_config(
        "[store]\ndir = \"../data\"\n[fetch]\nrespect_robots = false\nrequests_per_second = 0.0\nallow_networks = [\"127.0.0.1/32\"]\n",
    );
    Setup { g, web }
}

impl Setup {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.web.port())
    }

    async fn run(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = self.g.cmd(args);
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap()
    }

    async fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args).await;
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    async fn save(&self, path: &str) -> Value {
        self.json(&["fetch", &self.url(path), "--save", "--format", "json"])
            .await
    }

    fn blob_files(&self) -> Vec<PathBuf> {
        walkdir::WalkDir::new(self.g.path("data/blobs"))
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| e.into_path())
            .collect()
    }

    fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.g.path("data/citewatch.db")).unwrap()
    }

    /// `/cached` was asked for since its `before`th hit, each time without
    /// validators, and the archive is whole again.
    async fn asked_whole_since(&self, before: usize) {
        let hits = self.web.hits_for("127.0.0.1", "/cached");
        let asked = &hits[before..];
        assert!(!asked.is_empty());
        for hit in asked {
            assert!(
                hit.headers.get("if-none-match").is_none()
                    && hit.headers.get("if-modified-since").is_none(),
                "asked conditionally for a copy the archive lost: {:?}",
                hit.headers
            );
        }
        let out = self.run(&["verify"]).await;
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }

    /// Flips a bit in the middle of the packed record of blob `sha256`;
    /// the pack's file.
    fn damage_packed(&self, sha256: &str) -> PathBuf {
        let index = rusqlite::Connection::open(self.g.path("data/blobs/packs/index.db")).unwrap();
        let (pack, offset, length): (i64, i64, i64) = index
            .query_row(
                "SELECT pack, offset, length FROM packed WHERE sha256 = ?1",
                [hex::decode(sha256).unwrap()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        drop(index);
        let pack_file = self
            .g
            .path(&format!("data/blobs/packs/pack-{pack:06}.cwpack"));
        flip(&pack_file, (offset + length / 2) as usize);
        pack_file
    }
}

/// Flips a bit of the byte at `at` in the file at `path`.
fn flip(path: &Path, at: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[at] ^= 0x10;
    std::fs::write(path, bytes).unwrap();
}

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn blob_path(root: &Path, sha: &str) -> PathBuf {
    citewatch::archive::FsBlobStore::new(root.join("data/blobs")).path(sha)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_pdf_and_binary_bodies_come_back_byte_for_byte() {
    let s = setup().await;
    for name in ["page.html", "doc.pdf", "blob.bin"] {
        let (mime, bytes) = file_body(name).unwrap();
        let saved = s.save(&format!("/files/{name}")).await;
        assert_eq!(saved["sha256"], sha(&bytes), "{name}");
        assert!(saved["capture_id"].as_i64().is_some(), "{name}: {saved}");
        let out = s.g.path(&format!("{name}.out"));
        let got = s
            .run(&[
                "get",
                &s.url(&format!("/files/{name}")),
                "-o",
                out.to_str().unwrap(),
            ])
            .await;
        assert!(
            got.status.success(),
            "{}",
            String::from_utf8_lossy(&got.stderr)
        );
        assert_eq!(std::fs::read(&out).unwrap(), bytes, "{name} round trip");
        // To stdout as well, and the stored headers.
        let stdout = s.run(&["get", &s.url(&format!("/files/{name}"))]).await;
        assert_eq!(sha(&stdout.stdout), sha(&bytes));
        let headers = s
            .run(&["get", &s.url(&format!("/files/{name}")), "--headers"])
            .await;
        let headers = String::from_utf8(headers.stdout).unwrap();
        assert!(headers.starts_with("HTTP/1.1 200 OK"), "{headers}");
        assert!(
            headers.contains(&format!("content-type: {mime}")),
            "{headers}"
        );
        // -o takes the headers too, as it takes the body.
        let to_file = s.g.path("headers.txt");
        let quiet = s
            .run(&[
                "get",
                &s.url(&format!("/files/{name}")),
                "--headers",
                "-o",
                to_file.to_str().unwrap(),
            ])
            .await;
        assert!(quiet.stdout.is_empty(), "{name}: headers went to stdout");
        assert_eq!(std::fs::read_to_string(&to_file).unwrap(), headers);
    }
    let (_, html) = file_body("page.html").unwrap();
    let stored = std::fs::metadata(blob_path(s.g.dir.path(), &sha(&html)))
        .unwrap()
        .len();
    assert!(
        stored * 4 <= html.len() as u64,
        "compressed {stored} of {}",
        html.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_bytes_are_stored_once_and_a_304_points_at_the_same_blob() {
    let s = setup().await;
    let a = s.save("/files/page.html").await;
    let b = s.save("/files/page.html").await;
    assert_ne!(a["capture_id"], b["capture_id"], "two captures");
    // The source's latest copy is the one just saved.
    let status = s
        .json(&["status", &s.url("/files/page.html"), "--format", "json"])
        .await;
    assert_eq!(status["latest_capture_id"], b["capture_id"], "{status}");
    assert_eq!(s.blob_files().len(), 1, "one blob");
    let first = s.save("/cached").await;
    let second = s.save("/cached").await;
    assert_eq!(second["outcome"], "not_modified", "{second}");
    assert!(second["capture_id"].as_i64().is_some());
    assert_eq!(s.blob_files().len(), 2);
    let third = s.save("/cached").await;
    assert_eq!(third["outcome"], "not_modified", "{third}");
    let history = s
        .json(&["history", &s.url("/cached"), "--format", "json"])
        .await;
    let captures = history["captures"].as_array().unwrap();
    assert_eq!(captures.len(), 3);
    assert_eq!(captures[0]["body_sha256"], captures[1]["body_sha256"]);
    assert_eq!(captures[1]["not_modified"], true);
    assert_eq!(history["checks"].as_array().unwrap().len(), 3);
    assert_eq!(first["sha256"], sha(b"cacheable body"));
    // A 304 repeats its first capture's response: it reads with that
    // response's headers and content type, though it stores them not again.
    for c in &captures[1..] {
        assert_eq!(c["status"], captures[0]["status"], "{c}");
        assert_eq!(c["headers"], captures[0]["headers"], "{c}");
        assert_eq!(c["content_type"], captures[0]["content_type"], "{c}");
    }
    assert!(
        captures[0]["headers"]
            .as_array()
            .is_some_and(|h| !h.is_empty()),
        "{history}"
    );
    let stored: Vec<(i64, String, Option<String>, Option<i64>)> = s
        .db()
        .prepare("SELECT id, headers, content_type, response_from FROM captures c WHERE request_url LIKE '%/cached' ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let first_id = stored[0].0;
    assert_eq!(stored[0].3, None);
    // Both 304s name the capture that holds the headers, not the one before.
    for (_, headers, content_type, from) in &stored[1..] {
        assert_eq!(
            (headers.as_str(), content_type, from),
            ("[]", &None, &Some(first_id))
        );
    }
    let got = s.run(&["get", &s.url("/cached")]).await;
    assert_eq!(got.stdout, b"cacheable body");
    let headers = s.run(&["get", &s.url("/cached"), "--headers"]).await;
    let headers = String::from_utf8_lossy(&headers.stdout).to_ascii_lowercase();
    assert!(headers.contains("etag"), "{headers}");
}

/// A server's header is the server's to write: to a terminal, `--headers`
/// shows its control characters as text, as every text output does; to a
/// file, the header is kept as it came.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_headers_reach_a_terminal_with_their_control_characters_shown_as_text() {
    let s = setup().await;
    s.save("/hostile-header").await;
    let url = s.url("/hostile-header");
    let out = s.run(&["get", &url, "--headers"]).await;
    let shown = String::from_utf8(out.stdout).unwrap();
    assert!(
        shown.contains("x-evil: \\u{9b}2J\\u{9b}8mhidden"),
        "{shown}"
    );
    assert!(!shown.contains('\u{9b}'), "{shown:?}");
    let file = s.g.path("headers.txt");
    let quiet = s
        .run(&["get", &url, "--headers", "-o", file.to_str().unwrap()])
        .await;
    assert!(quiet.status.success());
    let kept = std::fs::read_to_string(&file).unwrap();
    assert!(kept.contains("x-evil: \u{9b}2J\u{9b}8mhidden"), "{kept:?}");
}

/// `fetch --save` took no run lock, so it stored copies while `verify
/// --repair` set copies aside and rebuilt the pack index. While another run
/// holds the lock it is refused, exit 4 naming the holder, and asks and
/// stores nothing; a fetch that saves nothing needs no lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_save_takes_the_run_lock_and_a_plain_fetch_does_not() {
    let s = setup().await;
    s.save("/files/doc.pdf").await; // creates the store
    let page = s.url("/files/page.html");
    let held =
        citewatch::check::lock::RunLock::acquire(&s.g.data(), "2026-12-02T03:00:00Z").unwrap();
    let before = common::snapshot(&s.g.data());
    let out = s.run(&["fetch", &page, "--save", "--format", "json"]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("holds") && err.contains("2026-12-02T03:00:00Z"),
        "{err}"
    );
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        common::snapshot(&s.g.data()) == before,
        "a refused fetch --save changed the data folder"
    );
    assert!(s.web.hits_for("127.0.0.1", "/files/page.html").is_empty());
    // Without --save, nothing to lock.
    let out = s.run(&["fetch", &page, "--format", "json"]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(held);
    let saved = s.save("/files/page.html").await;
    assert!(saved["capture_id"].as_i64().is_some(), "{saved}");
    let captures: i64 = s
        .db()
        .query_row("SELECT count(*) FROM captures", [], |r| r.get(0))
        .unwrap();
    assert_eq!(captures, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_row_write_leaves_no_dangling_row() {
    let s = setup().await;
    s.save("/files/doc.pdf").await; // creates the store
    // Make the next capture row fail after its blob is written, as a crash would.
    s.db()
        .execute_batch("CREATE TRIGGER crash BEFORE INSERT ON captures BEGIN SELECT RAISE(ABORT, 'simulated crash'); END;")
        .unwrap();
    let out = s
        .run(&["fetch", &s.url("/files/page.html"), "--save"])
        .await;
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let db = s.db();
    let count = |sql: &str| db.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(
        count("SELECT count(*) FROM captures"),
        1,
        "no row for the failed capture"
    );
    assert_eq!(count("SELECT count(*) FROM checks"), 1, "nor its check");
    assert_eq!(count("SELECT count(*) FROM blobs"), 1);
    let (_, html) = file_body("page.html").unwrap();
    assert!(
        blob_path(s.g.dir.path(), &sha(&html)).exists(),
        "the blob was written first"
    );
    let v = s.json(&["verify", "--format", "json"]).await;
    assert_eq!(v["problems"].as_array().unwrap().len(), 0, "{v}");
    assert_eq!(v["unreferenced_blobs"].as_array().unwrap().len(), 1);
    db.execute_batch("DROP TRIGGER crash").unwrap();
    s.save("/files/page.html").await;
    let v = s.json(&["verify", "--format", "json"]).await;
    assert_eq!(
        v["unreferenced_blobs"].as_array().unwrap().len(),
        0,
        "the retry adopted the blob"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_finds_a_flipped_byte_and_a_missing_blob() {
    let s = setup().await;
    s.save("/files/page.html").await;
    s.save("/files/doc.pdf").await;
    let clean = s.run(&["verify"]).await;
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );
    let (_, html) = file_body("page.html").unwrap();
    let (_, pdf) = file_body("doc.pdf").unwrap();
    let html_blob = blob_path(s.g.dir.path(), &sha(&html));
    let mut bytes = std::fs::read(&html_blob).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&html_blob, bytes).unwrap();
    std::fs::remove_file(blob_path(s.g.dir.path(), &sha(&pdf))).unwrap();
    let out = s.run(&["verify", "--format", "json"]).await;
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<(String, String)> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["kind"].as_str().unwrap().to_string(),
                p["sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(kinds.contains(&("corrupt_blob".into(), sha(&html))), "{v}");
    assert!(kinds.contains(&("missing_blob".into(), sha(&pdf))), "{v}");
    // Each problem names the sources whose copies it costs, not only the
    // capture ids a reader must look up: what to fetch again or restore.
    for (sha256, path) in [
        (sha(&html), "/files/page.html"),
        (sha(&pdf), "/files/doc.pdf"),
    ] {
        let problem = v["problems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["sha256"] == sha256.as_str())
            .unwrap();
        assert_eq!(problem["sources"], serde_json::json!([s.url(path)]), "{v}");
    }
    let text = String::from_utf8(s.run(&["verify"]).await.stdout).unwrap();
    for path in ["/files/page.html", "/files/doc.pdf"] {
        assert!(
            text.lines()
                .any(|l| l.starts_with("PROBLEM") && l.contains(&s.url(path))),
            "{text}"
        );
    }
    let got = s.run(&["get", &s.url("/files/page.html")]).await;
    assert_eq!(
        got.status.code(),
        Some(3),
        "a damaged copy is not handed out silently"
    );
    // Nor does a failed `get -o` spoil the file it was to replace: not with
    // the damaged bytes, nor by leaving it empty when the blob is gone.
    let keep = s.g.path("keep.html");
    for path in ["/files/page.html", "/files/doc.pdf"] {
        std::fs::write(&keep, "precious").unwrap();
        let got = s
            .run(&["get", &s.url(path), "-o", keep.to_str().unwrap()])
            .await;
        assert_eq!(got.status.code(), Some(3), "{path}");
        // The error says where to look next, whatever the blob's fault.
        let err = String::from_utf8_lossy(&got.stderr);
        assert!(err.contains("run `citewatch verify`"), "{path}: {err}");
        assert_eq!(
            std::fs::read_to_string(&keep).unwrap(),
            "precious",
            "{path}"
        );
    }
    let left: Vec<_> = std::fs::read_dir(s.g.dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".citewatch-get-"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_blames_the_output_not_the_archive_when_writing_fails() {
    let s = setup().await;
    s.save("/files/page.html").await;
    let got = s
        .run(&["get", &s.url("/files/page.html"), "-o", "/dev/full"])
        .await;
    let err = String::from_utf8_lossy(&got.stderr);
    assert_eq!(got.status.code(), Some(3), "{err}");
    assert!(
        err.contains("-o /dev/full: No space left on device") && !err.contains("blob "),
        "{err}"
    );
}

/// `get -o FOLDER` wrote the whole copy, then failed to rename it over the
/// folder with exit 3 and "Is a directory (os error 21)"; `export-warc -o`
/// a folder named `….warc.gz` too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_output_that_is_a_folder_is_a_usage_error_named_as_such() {
    let s = setup().await;
    s.save("/files/page.html").await;
    let folder = s.g.path("copies.warc.gz");
    std::fs::create_dir(&folder).unwrap();
    let folder = folder.to_str().unwrap();
    let page = s.url("/files/page.html");
    for args in [
        vec!["get", &page, "-o", folder],
        vec!["get", &page, "--headers", "-o", folder],
        vec!["export-warc", "-o", folder],
    ] {
        let out = s.run(&args).await;
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&format!("{folder}: a folder, not a file")),
            "{args:?}: {err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_of_a_source_never_captured_is_no_good_copy_not_a_bad_url() {
    let s = setup().await;
    // Nothing listens on port 1: the check is recorded, nothing captured.
    let refused = "http://127.0.0.1:1/gone.html";
    let saved = s
        .run(&["fetch", refused, "--save", "--format", "json"])
        .await;
    assert!(saved.status.code().is_some(), "{saved:?}");
    let got = s.run(&["get", refused]).await;
    let err = String::from_utf8_lossy(&got.stderr);
    assert_eq!(got.status.code(), Some(3), "{err}");
    assert!(
        err.contains("nothing is archived for http://127.0.0.1:1/gone.html: no check of it"),
        "{err}"
    );
    // The command it suggests runs as shown when pasted into a shell: a
    // query's `&` once cut it and sent the rest to the background.
    let query = "http://127.0.0.1:1/gone.html?a=1&b=2";
    s.run(&["fetch", query, "--save"]).await;
    let got = s.run(&["get", query]).await;
    let err = String::from_utf8_lossy(&got.stderr);
    assert_eq!(got.status.code(), Some(3), "{err}");
    assert!(
        err.contains(&format!("`citewatch status '{query}'`")),
        "{err}"
    );
    // A URL that is no source at all is still bad input.
    let typo = s.run(&["get", "http://127.0.0.1:1/other.html"]).await;
    assert_eq!(typo.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_picks_the_capture_nearest_the_time_and_names_near_misses() {
    let s = setup().await;
    s.save("/counter").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    s.save("/counter").await;
    let history = s
        .json(&["history", &s.url("/counter"), "--format", "json"])
        .await;
    // The conventions every JSON output keeps: RFC 3339 times, `id`, arrays
    // as arrays, and an error as {kind, detail} or null.
    assert!(history["id"].is_i64(), "{history}");
    for c in history["checks"].as_array().unwrap() {
        assert!(c["started_at"].as_str().unwrap().ends_with('Z'), "{c}");
        assert!(c["hops"].is_array() && c["error"].is_null(), "{c}");
    }
    assert!(history["captures"][0]["hops"].is_array(), "{history}");
    // Whole seconds: at or before the first capture, over a second from the second.
    let at = history["captures"][0]["captured_at"]
        .as_str()
        .unwrap()
        .to_string();
    let old = s.run(&["get", &s.url("/counter"), "--at", &at]).await;
    assert_eq!(old.stdout, b"version 1");
    let latest = s.run(&["get", &s.url("/counter")]).await;
    assert_eq!(latest.stdout, b"version 2");
    let miss = s.run(&["get", &s.url("/counter/")]).await;
    assert_eq!(
        miss.status.code(),
        Some(2),
        "a URL nothing was kept of is bad input"
    );
    let err = String::from_utf8_lossy(&miss.stderr);
    assert!(
        err.contains("nothing is archived") && err.contains(&s.url("/counter")),
        "{err}"
    );
    let bad = s
        .run(&["get", &s.url("/counter"), "--at", "yesterday"])
        .await;
    assert_eq!(bad.status.code(), Some(2));
    // A time before 1970 is refused, as `--since` refuses it, rather than
    // read as the earliest capture.
    let early = s
        .run(&["get", &s.url("/counter"), "--at", "1969-12-31"])
        .await;
    let err = String::from_utf8_lossy(&early.stderr);
    assert_eq!(early.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "--at: `1969-12-31` is before 1970-01-01; nothing citewatch keeps is that old"
        ),
        "{err}"
    );
    assert!(early.stdout.is_empty());
    let text = s.run(&["history", &s.url("/counter")]).await;
    let text = String::from_utf8(text.stdout).unwrap();
    assert_eq!(text.matches("HTTP 200").count(), 2, "{text}");
    // The history of a URL that is no source said "nothing is archived for",
    // as if the source were there with nothing kept. It is not a source, as
    // `status` says, with the same exit code and the source it may mean.
    let typo = s.url("/counter/");
    let status = s.run(&["status", &typo]).await;
    let history = s.run(&["history", &typo]).await;
    let err = String::from_utf8_lossy(&history.stderr);
    assert_eq!(history.status.code(), Some(2), "{err}");
    assert_eq!(history.status.code(), status.status.code(), "{err}");
    assert!(
        err.contains(&format!(
            "{typo} is not a source: no briefing cites it and it was never fetched; \
             sources nearby: {}",
            s.url("/counter")
        )),
        "{err}"
    );
    assert!(!err.contains("nothing is archived"), "{err}");
}

/// A compressing thread the system refuses (its limit on threads, or on
/// memory for their stacks: here a stack no memory holds) ends the export
/// as an ordinary failure naming the cause, exit 3, not as "a bug in
/// citewatch"; and nothing is left at the destination.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_thread_is_an_ordinary_export_failure() {
    let s = setup().await;
    s.save("/files/page.html").await;
    let out = s.g.path("all.warc.gz");
    let mut cmd =
        s.g.cmd(&["export-warc", "-o", out.to_str().unwrap(), "--jobs", "2"]);
    // Every thread spawned without a size of its own asks for a stack of
    // this size: a petabyte, more than a process can address.
    cmd.env("RUST_MIN_STACK", "1000000000000000");
    let run = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(3), "{err}");
    assert!(
        !err.contains("internal error") && !err.contains("bug"),
        "{err}"
    );
    assert!(err.contains("could not start a thread"), "{err}");
    assert!(!out.exists(), "{err}");
    let left: Vec<_> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains("citewatch-export"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_warc_through_the_binary() {
    let s = setup().await;
    s.save("/files/page.html").await;
    s.save("/files/page.html").await;
    s.save("/files/doc.pdf").await;
    let out = s.g.path("all.warc.gz");
    let all = s
        .json(&[
            "export-warc",
            "-o",
            out.to_str().unwrap(),
            "--cdxj",
            "--format",
            "json",
        ])
        .await;
    assert_eq!(
        (all["captures"].as_u64(), all["revisits"].as_u64()),
        (Some(3), Some(1)),
        "{all}"
    );
    assert!(out.exists() && s.g.path("all.cdxj").exists());
    let one = s.g.path("one.warc.gz");
    let pdf = s
        .json(&[
            "export-warc",
            "-o",
            one.to_str().unwrap(),
            "--url",
            &s.url("/files/doc.pdf"),
            "--format",
            "json",
        ])
        .await;
    assert_eq!(pdf["captures"], 1);
    // One compressing thread or four: the same summary (that the records
    // are the same, in the same order, is tests/warc.rs's
    // `one_thread_or_three_write_the_same_file`).
    let mut sizes = Vec::new();
    for jobs in ["1", "4"] {
        let out = s.g.path(&format!("jobs{jobs}")).join("all.warc.gz");
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        let summary = s
            .json(&[
                "export-warc",
                "-o",
                out.to_str().unwrap(),
                "--jobs",
                jobs,
                "--format",
                "json",
            ])
            .await;
        assert_eq!(summary["captures"], 3, "{summary}");
        sizes.push((summary["records"].clone(), summary["revisits"].clone()));
    }
    assert_eq!(sizes[0], sizes[1]);
    let zero = s
        .run(&["export-warc", "-o", one.to_str().unwrap(), "--jobs", "0"])
        .await;
    let err = String::from_utf8_lossy(&zero.stderr);
    assert_eq!(zero.status.code(), Some(2), "{err}");
    assert!(err.contains("--jobs"), "{err}");
    let future = s
        .json(&[
            "export-warc",
            "-o",
            one.to_str().unwrap(),
            "--since",
            "2100-01-01",
            "--format",
            "json",
        ])
        .await;
    assert_eq!(future["captures"], 0);
    let bad = s
        .run(&[
            "export-warc",
            "-o",
            one.to_str().unwrap(),
            "--since",
            "soon",
        ])
        .await;
    assert_eq!(bad.status.code(), Some(2));
    let nowhere = s.g.path("no-such-folder/out.warc.gz");
    let out = s
        .run(&["export-warc", "-o", nowhere.to_str().unwrap()])
        .await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("out.warc.gz: there is no folder ") && !err.contains(".citewatch-export-"),
        "{err}"
    );
    // Gzipped records in a file named otherwise would mislead the tools.
    let plain = s.g.path("out.warc");
    let out = s.run(&["export-warc", "-o", plain.to_str().unwrap()]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("name the file FILE.warc.gz"), "{err}");
    assert!(!plain.exists());
    // The ending is the tools' to read, and they read it in any case.
    let upper = s.g.path("OUT.WARC.GZ");
    let out = s
        .run(&["export-warc", "-o", upper.to_str().unwrap(), "--cdxj"])
        .await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(upper.exists() && s.g.path("OUT.cdxj").exists(), "{err}");
}

/// `-o /dev/stdout` gives the records alone on standard output, in a pipe
/// or in a file the shell opened; the summary goes to stderr.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_warc_to_standard_output_writes_nothing_else_there() {
    let s = setup().await;
    s.save("/files/page.html").await;
    s.save("/files/doc.pdf").await;
    let gunzip = |bytes: &[u8]| {
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(bytes), &mut text)
            .map(|_| text)
    };
    let records = |text: &[u8]| {
        String::from_utf8_lossy(text)
            .matches("WARC-Type: response")
            .count()
    };
    for format in ["text", "json"] {
        let out = s
            .run(&["export-warc", "-o", "/dev/stdout", "--format", format])
            .await;
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{err}");
        // Trailing text after the last record fails the gzip stream.
        let text = gunzip(&out.stdout).unwrap_or_else(|e| panic!("{format}: {e}"));
        assert_eq!(records(&text), 2, "{format}");
        assert!(
            err.contains("\"captures\": 2") || err.contains("wrote /dev/stdout (2 captures"),
            "{err}"
        );
    }
    let file = s.g.path("shell.warc.gz");
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("citewatch"));
    cmd.arg("--config")
        .arg(s.g.config())
        .args(["export-warc", "-o", "/dev/stdout"])
        .env_remove("CITEWATCH_CONFIG")
        .stdout(std::fs::File::create(&file).unwrap());
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(records(&gunzip(&std::fs::read(&file).unwrap()).unwrap()), 2);
    let cdxj = s.run(&["export-warc", "-o", "/dev/stdout", "--cdxj"]).await;
    assert_eq!(cdxj.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_lists_the_temporary_files_of_interrupted_writes() {
    let s = setup().await;
    let saved = s.save("/files/page.html").await;
    let sha = saved["sha256"].as_str().unwrap();
    // What a write killed between writing and renaming leaves: a `tempfile`
    // beside where the blob would have gone.
    let folder = blob_path(s.g.dir.path(), sha)
        .parent()
        .unwrap()
        .to_path_buf();
    let left = folder.join(".tmpK1lled");
    std::fs::write(&left, vec![7u8; 1234]).unwrap();
    let v = s.json(&["verify", "--format", "json"]).await;
    assert_eq!(v["problems"].as_array().unwrap().len(), 0, "{v}");
    assert_eq!(v["unreferenced_blobs"], serde_json::json!([]), "{v}");
    let listed = std::path::Path::new(v["interrupted_writes"][0]["path"].as_str().unwrap());
    assert_eq!(listed.canonicalize().unwrap(), left.canonicalize().unwrap());
    assert_eq!(v["interrupted_writes"][0]["bytes"], 1234, "{v}");
    let out = s.run(&["verify"]).await;
    assert_eq!(out.status.code(), Some(0), "space only, not a problem");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("1 temporary file of interrupted writes (1234 bytes;")
            && text.contains(&format!("blobs/{}/.tmpK1lled", &sha[..2])),
        "{text}"
    );
    // While a run is going, such files may be its writes: not listed.
    let held = citewatch::check::lock::RunLock::acquire(&s.g.data(), "a nightly check").unwrap();
    let v = s.json(&["verify", "--format", "json"]).await;
    assert_eq!(v["interrupted_writes"], serde_json::json!([]), "{v}");
    assert!(
        v["run_in_progress"]
            .as_str()
            .unwrap()
            .contains("a nightly check"),
        "{v}"
    );
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_only_fetch_save_made_is_not_said_to_be_due() {
    let s = setup().await;
    s.save("/files/page.html").await;
    let out = s.run(&["status", &s.url("/files/page.html")]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("next due: none, no active citation (the nightly check leaves it alone)")
            && text.contains("cited 0 times"),
        "{text}"
    );
    // `history` lists the check `fetch --save` made: `status` says so too.
    assert!(
        text.contains("last checked: never by `check` (fetched by `fetch --save` at "),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_of_a_store_citing_nothing_says_so() {
    let s = setup().await;
    s.g.write_config("[briefings]\npaths = [\"../briefings\"]\n[store]\ndir = \"../data\"\n");
    std::fs::create_dir_all(s.g.path("briefings")).unwrap();
    let out = s.run(&["check"]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("sources by status: none yet (no briefing cites a URL)"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_says_when_the_copy_is_only_the_start_of_a_larger_page() {
    let s = setup().await;
    s.g.write_config(
        "[store]\ndir = \"../data\"\n[fetch]\nrespect_robots = false\nrequests_per_second = 0.0\n\
         max_body_bytes = 1024\nallow_networks = [\"127.0.0.1/32\"]\n",
    );
    let saved = s.save("/files/page.html").await;
    assert_eq!(saved["truncated"], true, "{saved}");
    let out = s.run(&["get", &s.url("/files/page.html")]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(out.stdout.len(), 1024);
    assert!(
        err.contains("note: this copy is the page's first 1024 bytes only"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_or_damaged_store_is_named_and_never_used_as_a_new_one() {
    let s = setup().await;
    let db = s.g.path("data/citewatch.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    // An empty file (a `touch`, a copy cut short) is no store.
    std::fs::write(&db, "").unwrap();
    for args in [&["sources"][..], &["verify"], &["check", "--no-sync"]] {
        let out = s.run(args).await;
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("no store here yet; run `citewatch sync` first"),
            "{err}"
        );
        assert_eq!(
            std::fs::metadata(&db).unwrap().len(),
            0,
            "{args:?} wrote a store"
        );
    }
    // Nor does `check --no-sync` make one where there is none.
    std::fs::remove_file(&db).unwrap();
    let out = s.run(&["check", "--no-sync"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(!db.exists(), "check --no-sync created a store");

    // A damaged database: `verify` reports it (exit 1), the rest fail (exit
    // 3) saying what to do, and SQLite's words come once.
    s.save("/files/page.html").await;
    let whole = std::fs::read(&db).unwrap();
    std::fs::write(&db, &whole[..8192.min(whole.len() / 2)]).unwrap();
    for f in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(s.g.path(&format!("data/citewatch.db{f}")));
    }
    let v = s.run(&["verify", "--format", "json"]).await;
    assert_eq!(
        v.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&v.stderr)
    );
    let report: Value = serde_json::from_slice(&v.stdout).unwrap();
    assert_eq!(report["problems"][0]["kind"], "sqlite", "{report}");
    assert!(
        report["problems"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("restore it from a backup"),
        "{report}"
    );
    let out = s.run(&["sources"]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("restore it from a backup"), "{err}");
    assert_eq!(err.matches("malformed").count(), 1, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_reports_a_damaged_database_page_and_still_checks_the_blobs() {
    let s = setup().await;
    s.save("/files/page.html").await;
    s.save("/files/doc.pdf").await;
    let db = s.g.path("data/citewatch.db");
    // A page SQLite's integrity check cannot even read makes the pragma fail
    // rather than list it: still a finding (exit 1, JSON printed), and the
    // blobs, whose rows are intact, are still checked.
    common::damage_root_page(&db, "checks");
    let out = s.run(&["verify", "--format", "json"]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems = v["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["kind"] == "sqlite" && p["detail"].as_str().unwrap().contains("malformed")),
        "{v}"
    );
    assert_eq!(v["blobs_checked"], 2, "{v}");
    assert!(problems.iter().all(|p| p["kind"] == "sqlite"), "{v}");
    let text = s.run(&["verify"]).await;
    assert_eq!(text.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains("PROBLEM sqlite") && stdout.contains("verified 2 blobs"),
        "{stdout}"
    );

    // With the blob rows themselves unreadable, every blob is still checked
    // against its own name, and a damaged one is named.
    common::damage_root_page(&db, "blobs");
    let (_, html) = file_body("page.html").unwrap();
    let html_blob = blob_path(s.g.dir.path(), &sha(&html));
    std::fs::write(
        &html_blob,
        zstd::encode_all(&b"not the page"[..], 3).unwrap(),
    )
    .unwrap();
    let out = s.run(&["verify", "--format", "json"]).await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems = v["problems"].as_array().unwrap();
    assert!(
        problems.iter().any(|p| p["kind"] == "sqlite"
            && p["detail"]
                .as_str()
                .unwrap()
                .contains("the blob rows cannot be read")),
        "{v}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p["kind"] == "corrupt_blob" && p["sha256"] == sha(&html)),
        "{v}"
    );
    assert_eq!(v["blobs_checked"], 2, "{v}");
    assert_eq!(v["unreferenced_blobs"], serde_json::json!([]), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_to_standard_output_writes_nothing_of_a_damaged_copy() {
    let s = setup().await;
    s.save("/files/page.html").await;
    let (_, html) = file_body("page.html").unwrap();
    // Damage that decompresses without any error, as a bit flip inside a
    // frame without zstd's checksum often does: only the sha256 tells.
    let blob = blob_path(s.g.dir.path(), &sha(&html));
    let other = html
        .iter()
        .map(|b| b.to_ascii_uppercase())
        .collect::<Vec<u8>>();
    std::fs::write(&blob, zstd::encode_all(&other[..], 3).unwrap()).unwrap();
    let got = s.run(&["get", &s.url("/files/page.html")]).await;
    let err = String::from_utf8_lossy(&got.stderr);
    assert_eq!(got.status.code(), Some(3), "{err}");
    assert!(err.contains("the archived copy is damaged"), "{err}");
    assert!(
        got.stdout.is_empty(),
        "{} damaged bytes handed out",
        got.stdout.len()
    );
}

/// `path` made unwritable for as long as this lives: by its permission bits,
/// or, where those do not stop this user (root passes them), by the
/// immutable attribute (`chattr +i`), which stops root too.
struct Unwritable {
    path: PathBuf,
    mode: u32,
    immutable: bool,
}

impl Unwritable {
    /// `None` when neither takes effect here (root, and a file system or
    /// a container without `chattr`): the caller cannot test the case.
    fn make(path: &Path) -> Option<Unwritable> {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o555)).unwrap();
        let mut held = Unwritable {
            path: path.to_path_buf(),
            mode,
            immutable: false,
        };
        if !held.writable() {
            return Some(held);
        }
        held.immutable = std::process::Command::new("chattr")
            .arg("+i")
            .arg(path)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        (held.immutable && !held.writable()).then_some(held)
    }

    /// Whether a write is let through: a file opened for writing, a file
    /// made in a folder.
    fn writable(&self) -> bool {
        if self.path.is_dir() {
            let probe = self.path.join(".write-probe");
            let made = std::fs::File::create(&probe).is_ok();
            let _ = std::fs::remove_file(probe);
            made
        } else {
            std::fs::OpenOptions::new()
                .append(true)
                .open(&self.path)
                .is_ok()
        }
    }
}

impl Drop for Unwritable {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        if self.immutable {
            let _ = std::process::Command::new("chattr")
                .arg("-i")
                .arg(&self.path)
                .status();
        }
        let _ = std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(self.mode));
    }
}

/// `fetch --save` into a store it may not write said only SQLite's "unable
/// to open database file" (the data folder read-only), or fetched, wrote the
/// body's blob and then failed with "attempt to write a readonly database"
/// (the database file read-only). It names the file and says it cannot be
/// written, before anything is fetched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_save_into_a_read_only_store_names_it_before_fetching() {
    let s = setup().await;
    s.save("/files/page.html").await; // creates the store
    let blobs_before = s.blob_files().len();
    let url = s.url("/files/doc.pdf");
    for unwritable in ["data", "data/citewatch.db"] {
        let Some(held) = Unwritable::make(&s.g.path(unwritable)) else {
            // CI must run it: a run that skipped it would pass unseen.
            assert!(
                !common::served::required(),
                "{unwritable} cannot be made unwritable here (neither permission \
                 bits nor chattr +i take effect), and CI must run this test"
            );
            eprintln!(
                "skipped: {unwritable} cannot be made unwritable for this user here \
                 (neither permission bits nor chattr +i take effect)"
            );
            return;
        };
        let out = s.run(&["fetch", &url, "--save"]).await;
        drop(held);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{unwritable}: {err}");
        assert!(
            err.contains("citewatch.db: cannot be written (read-only"),
            "{unwritable}: {err}"
        );
        assert!(
            s.web.hits_for("127.0.0.1", "/files/doc.pdf").is_empty(),
            "{unwritable}: fetched for nothing"
        );
        assert_eq!(s.blob_files().len(), blobs_before, "{unwritable}: {err}");
    }
    let saved = s.save("/files/doc.pdf").await;
    assert!(saved["capture_id"].is_i64(), "{saved}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_copies_set_aside_by_repair_are_stored_again_by_the_next_check() {
    // A flipped byte in a packed record (a check's copy) or in a loose file
    // (`fetch --save`'s): the index or the file named the blob, so every
    // later check of the same page stored nothing and the copy stayed
    // unreadable for good, though each check had the right bytes in hand.
    let s = setup().await;
    s.g.write_config(
        "[briefings]\npaths = [\"../briefings\"]\n[store]\ndir = \"../data\"\n[fetch]\nrespect_robots = false\nrequests_per_second = 0.0\nretries = 0\nallow_networks = [\"127.0.0.1/32\"]\n",
    );
    let (page, pdf) = (s.url("/files/page.html"), s.url("/files/doc.pdf"));
    let mut doc = String::from("Briefings - test page\n\n");
    for (i, url) in [&page, &pdf].into_iter().enumerate() {
        doc += &format!(
            "Outlet {i}: Headline {i}\n\nA body paragraph for item {i} that is long enough.\n\nSource: Outlet {i}, December 1, 2020\n{url}\n\n"
        );
    }
    s.g.brief("b.txt", doc);
    s.save("/files/doc.pdf").await;
    let first = s.json(&["check", "--format", "json"]).await;
    assert_eq!(first["checked"], 2, "{first}");
    let (_, html) = file_body("page.html").unwrap();
    let (_, pdf_body) = file_body("doc.pdf").unwrap();
    let (packed, loose) = (sha(&html), sha(&pdf_body));
    assert!(!blob_path(s.g.dir.path(), &packed).exists(), "packed");
    let loose_file = blob_path(s.g.dir.path(), &loose);
    assert!(loose_file.exists(), "the check found it loose");
    let pack_file = s.damage_packed(&packed);
    flip(
        &loose_file,
        std::fs::metadata(&loose_file).unwrap().len() as usize / 2,
    );

    let out = s.run(&["verify"]).await;
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    for (name, url) in [(&packed, &page), (&loose, &pdf)] {
        assert!(
            text.lines().any(|l| l.starts_with("PROBLEM corrupt_blob")
                && l.contains(name.as_str())
                && l.contains(url.as_str())),
            "{text}"
        );
    }
    assert!(
        text.contains("`citewatch verify --repair` sets damaged copies aside"),
        "{text}"
    );

    let pack_len = std::fs::metadata(&pack_file).unwrap().len();
    let out = s.run(&["verify", "--repair", "--format", "json"]).await;
    assert_eq!(out.status.code(), Some(1), "still lost until fetched again");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut aside: Vec<(String, Value)> = v["set_aside"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["sha256"].as_str().unwrap().to_string(),
                c["sources"].clone(),
            )
        })
        .collect();
    aside.sort_by(|a, b| a.0.cmp(&b.0));
    let mut want = vec![
        (packed.clone(), serde_json::json!([page])),
        (loose.clone(), serde_json::json!([pdf])),
    ];
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(aside, want, "{v}");
    // Nothing deleted: the record's bytes are still in the pack, the loose
    // file renamed beside where it was.
    assert_eq!(std::fs::metadata(&pack_file).unwrap().len(), pack_len);
    assert!(!loose_file.exists());
    let kept: Vec<String> = std::fs::read_dir(loose_file.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!("{loose}.damaged-")))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let out = s.run(&["verify", "--format", "json"]).await;
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["missing_blob", "missing_blob"], "{v}");
    let listed: Vec<PathBuf> = v["damaged_copies_kept"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| std::fs::canonicalize(l["path"].as_str().unwrap()).unwrap())
        .collect();
    let kept_path = std::fs::canonicalize(loose_file.with_file_name(&kept[0])).unwrap();
    assert_eq!(listed, [kept_path], "{v}");
    let out = s.run(&["verify"]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("1 damaged copy set aside by an earlier `verify --repair`")
            && text.contains(&kept[0]),
        "{text}"
    );

    let again = s.json(&["check", "--all", "--format", "json"]).await;
    assert_eq!(again["checked"], 2, "{again}");
    let out = s.run(&["verify"]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    for (url, body) in [(&page, &html), (&pdf, &pdf_body)] {
        let got = s.run(&["get", url]).await;
        assert_eq!(got.status.code(), Some(0), "{url}");
        assert_eq!(&got.stdout, body, "{url}");
        // Every capture names the one sha256: the first, taken before the
        // damage, now reads the new copy too.
        let oldest = s.run(&["get", url, "--at", "2000-01-01"]).await;
        assert_eq!(oldest.status.code(), Some(0), "{url}");
        assert_eq!(&oldest.stdout, body, "{url}");
    }
    let captures: i64 = s
        .db()
        .query_row(
            "SELECT count(*) FROM captures WHERE body_sha256 = ?1",
            [&packed],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(captures, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_aside_copy_of_a_page_answering_304_is_fetched_whole_and_stored_again() {
    // The check asked with the lost copy's validators, the page said 304
    // Not Modified, no bytes came back and the copy stayed lost for good.
    let s = setup().await;
    s.g.write_config(
        "[briefings]\npaths = [\"../briefings\"]\n[store]\ndir = \"../data\"\n[fetch]\nrespect_robots = false\nrequests_per_second = 0.0\nretries = 0\nallow_networks = [\"127.0.0.1/32\"]\n",
    );
    let page = s.url("/cached");
    s.g.brief(
        "b.txt",
        format!(
            "Briefings - cached page\n\nOutlet: Headline\n\nA body paragraph for the item that is long enough.\n\nSource: Outlet, December 1, 2020\n{page}\n\n"
        ),
    );
    let first = s.json(&["check", "--format", "json"]).await;
    assert_eq!(first["checked"], 1, "{first}");
    let body = b"cacheable body";
    let packed = sha(body);
    s.damage_packed(&packed);

    let out = s.run(&["verify", "--repair", "--format", "json"]).await;
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["set_aside"][0]["sha256"], packed.as_str(), "{v}");

    // Without the fix this check asks with the validators and gets a 304.
    let before = s.web.hits_for("127.0.0.1", "/cached").len();
    let again = s.json(&["check", "--all", "--format", "json"]).await;
    assert_eq!(again["checked"], 1, "{again}");
    s.asked_whole_since(before).await;
    let got = s.run(&["get", &page]).await;
    assert_eq!(got.status.code(), Some(0));
    assert_eq!(got.stdout, body);
    let oldest = s.run(&["get", &page, "--at", "2000-01-01"]).await;
    assert_eq!(oldest.stdout, body);

    // The copy whole again, the next check asks with its validators.
    let before = s.web.hits_for("127.0.0.1", "/cached").len();
    s.json(&["check", "--all", "--format", "json"]).await;
    let hits = s.web.hits_for("127.0.0.1", "/cached");
    assert!(
        hits[before..]
            .iter()
            .any(|h| h.headers.get("if-none-match").is_some()),
        "the 304 path is kept for a sound copy"
    );
}

#[tokio::test]
async fn fetch_save_asks_whole_for_a_page_whose_copy_was_set_aside() {
    // `fetch --save` asked with the lost copy's validators, as the check
    // once did: the page said 304 and the copy stayed lost.
    let s = setup().await;
    let page = s.url("/cached");
    let body = b"cacheable body";
    s.save("/cached").await;
    let loose_file = blob_path(s.g.dir.path(), &sha(body));
    flip(
        &loose_file,
        std::fs::metadata(&loose_file).unwrap().len() as usize / 2,
    );
    let out = s.run(&["verify", "--repair", "--format", "json"]).await;
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["set_aside"][0]["sha256"], sha(body).as_str(), "{v}");

    let before = s.web.hits_for("127.0.0.1", "/cached").len();
    let saved = s.save("/cached").await;
    assert_eq!(saved["status"], 200, "asked whole: {saved}");
    assert!(saved["capture_id"].is_i64(), "{saved}");
    s.asked_whole_since(before).await;
    let got = s.run(&["get", &page, "--at", "2000-01-01"]).await;
    assert_eq!(got.stdout, body, "the first capture reads its copy again");

    // The copy whole again, the next save asks with its validators.
    let saved = s.save("/cached").await;
    assert_eq!(saved["status"], 304, "{saved}");
}
