//! `citewatch serve` over real HTTP on 127.0.0.1:0: every endpoint, the archived
//! copy's bytes and safety headers, Memento TimeGate negotiation and TimeMap,
//! path traversal, the admin token and the run lock, reads during a write, and
//! the binary's start and graceful stop.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::served::{
    self, ARTICLE, GONE, REPORT, Served, T2020, T2021, article_v1, article_v2, client, get, pdf,
    raw_request, sha,
};
use reqwest::StatusCode;
use serde_json::Value;

async fn json(c: &reqwest::Client, url: &str) -> (StatusCode, Value) {
    let r = get(c, url).await;
    let status = r.status();
    let ctype = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(ctype.starts_with("application/json"), "{url}: {ctype}");
    (
        status,
        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap(),
    )
}

/// The body of a GET as text; a transport error fails the test.
async fn get_text(c: &reqwest::Client, url: &str) -> String {
    get(c, url).await.text().await.unwrap()
}

/// `(section, url as written, archived copy URL)` of every citation a report
/// JSON lists, in order.
fn listed(rep: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for section in rep["sections"].as_array().unwrap() {
        for doc in section["documents"].as_array().unwrap() {
            for b in doc["briefings"].as_array().unwrap() {
                for c in b["citations"].as_array().unwrap() {
                    out.push((
                        section["section"].as_str().unwrap().to_string(),
                        c["url"].as_str().unwrap().to_string(),
                        c["archived"]["url"].clone(),
                    ));
                }
            }
        }
    }
    out
}

/// The URLs of a page of `/api/sources`, in its order.
fn source_urls(page: &Value) -> Vec<&str> {
    page["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["url"].as_str().unwrap())
        .collect()
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> &'a str {
    r.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// A small link-format reader of our own (independent of the server's):
/// `<uri>; k="v"; k2=v2, …` → (uri, params).
fn parse_link_format(text: &str) -> Vec<(String, HashMap<String, String>)> {
    let re = regex::Regex::new(
        r#"<([^>]*)>((?:\s*;\s*[a-zA-Z]+\s*=\s*(?:"[^"]*"|[^;,\s]+))*)\s*(?:,|$)"#,
    )
    .unwrap();
    let param = regex::Regex::new(r#";\s*([a-zA-Z]+)\s*=\s*(?:"([^"]*)"|([^;,\s]+))"#).unwrap();
    let mut out = Vec::new();
    let mut consumed = 0;
    for m in re.captures_iter(text) {
        let whole = m.get(0).unwrap();
        assert!(
            text[consumed..whole.start()].trim().is_empty(),
            "unparsed link-format text: {:?}",
            &text[consumed..whole.start()]
        );
        consumed = whole.end();
        let mut params = HashMap::new();
        for p in param.captures_iter(&m[2]) {
            let v = p.get(2).or(p.get(3)).unwrap().as_str().to_string();
            params.insert(p[1].to_ascii_lowercase(), v);
        }
        out.push((m[1].to_string(), params));
    }
    assert!(
        text[consumed..].trim().is_empty(),
        "trailing text: {:?}",
        &text[consumed..]
    );
    out
}

fn rels(params: &HashMap<String, String>) -> Vec<String> {
    params
        .get("rel")
        .map(|r| r.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

/// A page the operator opens can rebind its own name to 127.0.0.1 and read
/// the service as same-origin: such a request names the page's host, and
/// gets 403 unless the configuration names it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_the_service_does_not_know_is_refused() {
    let s = Served::new(
        "[serve]\npublic_url = \"https://citewatch.example.org/\"\nallowed_hosts = [\"briefings.example.org\"]\n",
    );
    let srv = s.start().await;
    let c = client();
    let with_host = |host: &str| {
        c.get(srv.url("/api/citations"))
            .header(reqwest::header::HOST, host)
            .send()
    };
    let r = with_host("evil.example:8080").await.unwrap();
    assert_eq!(r.status(), 403);
    let body: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    let said = body["error"]["message"].as_str().unwrap();
    assert!(
        said.contains("evil.example") && said.contains("allowed_hosts"),
        "{body}"
    );
    for host in [
        srv.addr.to_string(),
        format!("localhost:{}", srv.addr.port()),
        "citewatch.example.org".to_string(),
        "briefings.example.org:8080".to_string(),
    ] {
        let r = with_host(&host).await.unwrap();
        assert_eq!(r.status(), 200, "{host}");
    }
    // The archived copies and the pages are guarded alike.
    for path in ["/", "/archive/1", "/healthz"] {
        let r = c
            .get(srv.url(path))
            .header(reqwest::header::HOST, "evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{path}");
    }
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_read_endpoint_answers() {
    let s = Served::new("");
    let srv = s.start().await;
    let c = client();

    let r = get(&c, srv.url("/healthz")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "ok\n");

    // Sources: paginated with total and next page, filtered by status and host.
    let (st, all) = json(&c, &srv.url("/api/sources")).await;
    assert_eq!(st, 200);
    assert_eq!(all["total"], 3);
    assert_eq!(all["next_page"], Value::Null);
    let urls = source_urls(&all);
    assert_eq!(urls, vec![GONE, REPORT, ARTICLE], "by URL");
    for key in [
        "id",
        "url",
        "host",
        "status",
        "evidence",
        "citations",
        "latest_capture_id",
        "error",
    ] {
        assert!(all["sources"][0].get(key).is_some(), "{key} missing");
    }
    let (_, p1) = json(&c, &srv.url("/api/sources?per_page=2")).await;
    assert_eq!(p1["total"], 3);
    assert_eq!(p1["sources"].as_array().unwrap().len(), 2);
    assert_eq!(p1["next_page"], 2);
    let next = p1["next"].as_str().unwrap();
    // A source a sync adds between two pages, sorting before them: the page
    // `next` names goes on from the last URL shown, so no row repeats (by
    // page number, the last row of page 1 would come again on page 2).
    {
        let mut store = citewatch::store::Store::open(&s.g.path("data/citewatch.db")).unwrap();
        let bulk = store.bulk().unwrap();
        let added = citewatch::store::BulkSource {
            url: "http://0.example/added",
            host: "0.example",
            status: "ok",
            ..Default::default()
        };
        bulk.source(&added, served::T2021).unwrap();
        bulk.commit().unwrap();
    }
    let (_, p2) = json(&c, &srv.url(next)).await;
    let p2_urls = source_urls(&p2);
    assert_eq!(p2_urls, [ARTICLE], "{p1}\n{p2}");
    assert_eq!(p2["next"], Value::Null);
    assert_eq!(p2["next_page"], Value::Null);
    // By page number, as documented, still.
    let (_, by_number) = json(&c, &srv.url("/api/sources?per_page=2&page=2")).await;
    assert_eq!(by_number["page"], 2);
    assert_eq!(by_number["total"], 4);
    // A page size over the largest is served as the largest (documented),
    // and `next` says the size used; a zero, or a flag that is not one, is a
    // 400 naming the parameter rather than quietly replaced.
    let (_, big) = json(&c, &srv.url("/api/sources?per_page=5000")).await;
    assert_eq!(big["per_page"], 1000);
    for (path, names) in [
        ("/api/sources?per_page=0", "per_page"),
        ("/api/sources?page=0", "page"),
        ("/api/runs?limit=0", "limit"),
        ("/api/report?new=on", "new"),
        ("/?new=2", "new"),
        ("/api/runs/-1", "-1"),
        ("/api/runs/+1", "+1"),
    ] {
        let (st, v) = json(&c, &srv.url(path)).await;
        assert_eq!(st, 400, "{path}: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(names),
            "{path}: {v}"
        );
    }
    // The last page number there is: an empty page, not an overflow (a
    // panic answered 500 in a debug build).
    let (st, v) = json(&c, &srv.url("/api/sources?page=18446744073709551615")).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (v["sources"].as_array().unwrap().len(), &v["next_page"]),
        (0, &Value::Null)
    );
    let (st, v) = json(&c, &srv.url("/api/report?new=TRUE")).await;
    assert_eq!(st, 200);
    assert_eq!(v["new_only"], true, "{v}");
    let (_, dead) = json(&c, &srv.url("/api/sources?status=dead,changed")).await;
    assert_eq!(dead["total"], 2);
    let (_, host) = json(&c, &srv.url("/api/sources?host=gov.test")).await;
    assert_eq!(host["total"], 1);
    assert_eq!(host["sources"][0]["url"], REPORT);
    let (_, outlet) = json(&c, &srv.url("/api/sources?outlet=xinhua")).await;
    assert_eq!(outlet["total"], 1);
    assert_eq!(outlet["sources"][0]["url"], REPORT);
    // The whole name, in any case and with spaces around, not a part of it:
    // `times` names neither Epoch Times nor Global Times.
    let (_, outlet) = json(&c, &srv.url("/api/sources?outlet=%20global%20TIMES%20")).await;
    assert_eq!(outlet["total"], 1, "{outlet}");
    assert_eq!(outlet["sources"][0]["url"], GONE);
    for part in ["times", "Xin"] {
        let (_, outlet) = json(&c, &srv.url(&format!("/api/sources?outlet={part}"))).await;
        assert_eq!(outlet["total"], 0, "{part}: {outlet}");
    }
    let (st, broken) = json(&c, &srv.url("/api/sources?status=broken")).await;
    assert_eq!(st, 200, "`broken` as every --status takes it: {broken}");
    let (st, bad) = json(&c, &srv.url("/api/sources?status=gone")).await;
    assert_eq!(st, 400);
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown status"),
        "{bad}"
    );
    assert_eq!(bad["error"]["status"], 400);
    let (st, _) = json(&c, &srv.url("/api/sources?page=x")).await;
    assert_eq!(st, 400);

    // One source: status, evidence, checks, captures with their archived copies.
    let (st, one) = json(&c, &srv.url(&format!("/api/sources/{}", s.ids.article))).await;
    assert_eq!(st, 200);
    assert_eq!(one["source"]["status"], "changed");
    assert_eq!(
        one["source"]["evidence"],
        "main text differs from the copy as cited"
    );
    assert_eq!(one["checks"].as_array().unwrap().len(), 2);
    let caps = one["captures"].as_array().unwrap();
    assert_eq!(caps.len(), 2);
    assert_eq!(caps[0]["id"], s.ids.a2020);
    assert_eq!(caps[0]["captured"], "2020-01-01T00:00:00Z");
    assert_eq!(
        caps[0]["archive_url"],
        srv.url(&format!("/archive/{}", s.ids.a2020))
    );
    assert_eq!(caps[1]["body_sha256"], sha(&article_v2()));
    // The cookies a site set for the fetcher are not handed out.
    assert_eq!(
        caps[0]["headers"],
        serde_json::json!([
            ["content-type", "text/html; charset=utf-8"],
            ["set-cookie", "tracker=(withheld)"]
        ]),
        "{one}"
    );
    let (st, missing) = json(&c, &srv.url("/api/sources/999999")).await;
    assert_eq!(st, 404);
    assert!(
        missing["error"]["message"]
            .as_str()
            .unwrap()
            .contains("999999")
    );
    let (st, _) = json(&c, &srv.url("/api/sources/abc")).await;
    assert_eq!(st, 400);

    // Citations by status.
    let (_, cits) = json(&c, &srv.url("/api/citations?status=dead")).await;
    assert_eq!(cits["total"], 1);
    assert_eq!(cits["citations"][0]["url"], GONE);
    assert_eq!(cits["citations"][0]["outlet"], "Global Times");
    let (_, cits) = json(&c, &srv.url("/api/citations")).await;
    assert_eq!(cits["total"], 3);

    // The report (`citewatch report --format json`): by default what needs
    // attention, by section; filters by status and outlet.
    let (st, rep) = json(&c, &srv.url("/api/report")).await;
    assert_eq!(st, 200);
    assert_eq!(rep["schema"], "citewatch.report/1");
    let l = listed(&rep);
    let urls: Vec<(&str, &str)> = l.iter().map(|(s, u, _)| (s.as_str(), u.as_str())).collect();
    assert_eq!(
        urls,
        vec![("broken", GONE), ("changed", ARTICLE)],
        "dead first, then changed; ok left out"
    );
    assert_eq!(rep["summary"]["sources_by_status"]["ok"], 1);
    assert_eq!(l[1].2, srv.url(&format!("/archive/{}", s.ids.a2020)));
    assert_eq!(
        l[0].2,
        Value::Null,
        "nothing good was archived of the gone page"
    );
    let (_, rep) = json(&c, &srv.url("/api/report?status=ok&outlet=Xinhua")).await;
    let l = listed(&rep);
    assert_eq!(l.len(), 1, "{rep}");
    assert_eq!(l[0].1, REPORT);
    let r = get(&c, srv.url("/api/report?status=nonsense")).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("nonsense"));
    // A filter that names nothing is said, as `citewatch report` exits 2.
    for (query, says) in [
        (
            "outlet=Xinhau",
            "outlet `Xinhau`: no citation names that outlet",
        ),
        (
            "document=nowhere.txt",
            "document `nowhere.txt`: no document",
        ),
    ] {
        // The web report too: an empty page would read as "nothing broken".
        for path in ["/api/report", "/"] {
            let (st, v) = json(&c, &srv.url(&format!("{path}?{query}"))).await;
            assert_eq!(st, 400, "{path}?{query}: {v}");
            assert!(
                v["error"]["message"].as_str().unwrap().contains(says),
                "{v}"
            );
        }
    }
    let (st, _) = json(
        &c,
        &srv.url("/api/report?outlet=xinhua&document=briefings-1.txt"),
    )
    .await;
    assert_eq!(st, 200);

    // Runs: none yet.
    let (st, runs) = json(&c, &srv.url("/api/runs")).await;
    assert_eq!(st, 200);
    assert_eq!(runs["runs"], serde_json::json!([]));

    // The web report and a source's history page.
    let r = get(&c, srv.url("/")).await;
    assert_eq!(r.status(), 200);
    assert!(header(&r, "content-type").starts_with("text/html"));
    assert!(header(&r, "content-security-policy").contains("default-src 'none'"));
    let page = r.text().await.unwrap();
    assert!(page.contains(GONE) && page.contains(ARTICLE), "{page}");
    assert!(
        !page.contains(REPORT),
        "ok sources are not in the default report"
    );
    assert!(page.contains(&format!("/sources/{}", s.ids.gone)));
    // The filter form: plain GET, the default statuses ticked.
    assert!(
        page.contains("<form class=\"filters\" method=\"get\""),
        "{page}"
    );
    assert!(
        page.contains("name=\"status\" value=\"dead\" checked"),
        "{page}"
    );
    assert!(
        !page.contains("name=\"status\" value=\"ok\" checked"),
        "{page}"
    );
    assert!(page.contains(&format!("/archive/{}\"", s.ids.a2020)));
    let page = get_text(&c, &srv.url("/?status=ok&outlet=Xinhua")).await;
    assert!(page.contains(REPORT) && !page.contains(GONE), "{page}");
    let r = get(&c, srv.url(&format!("/sources/{}", s.ids.article))).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("2020-01-01T00:00:00Z") && page.contains("2021-01-01T00:00:00Z"));
    assert!(page.contains(&format!("/archive/{}", s.ids.a2021)));
    assert!(page.contains("timemap/link/http://news.test/politics/article-1.html"));
    // Each check says the verdict it left and why.
    assert!(
        page.contains("<td>ok</td><td>main text as cited</td>"),
        "{page}"
    );
    assert!(!page.contains("disowned"), "{page}");
    // A capture found to be a landing others are sent to says so.
    rusqlite::Connection::open(s.g.path("data/citewatch.db"))
        .unwrap()
        .execute(
            "UPDATE captures SET disowned_at = 1609459200000 WHERE id = ?1",
            [s.ids.a2020],
        )
        .unwrap();
    let page = get_text(&c, &srv.url(&format!("/sources/{}", s.ids.article))).await;
    assert!(
        page.contains(&format!(
            "/archive/{}\">2020-01-01T00:00:00Z</a> <small class=\"disowned\">disowned 2021-01-01T00:00:00Z",
            s.ids.a2020
        )),
        "{page}"
    );

    // Metrics.
    let r = get(&c, srv.url("/metrics")).await;
    assert_eq!(r.status(), 200);
    assert!(header(&r, "content-type").starts_with("text/plain; version=0.0.4"));
    let text = r.text().await.unwrap();
    let samples: HashMap<&str, f64> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap();
            (k, v.parse::<f64>().unwrap())
        })
        .collect();
    assert_eq!(samples["citewatch_sources{status=\"dead\"}"], 1.0);
    assert_eq!(samples["citewatch_checks_total{outcome=\"http\"}"], 3.0);
    assert_eq!(samples["citewatch_captures"], 3.0);
    assert_eq!(samples["citewatch_blobs"], 3.0);
    let bytes = (article_v1().len() + article_v2().len() + pdf().len()) as f64;
    assert_eq!(samples["citewatch_archived_bytes"], bytes);

    // Anything else: a JSON 404.
    let (st, nf) = json(&c, &srv.url("/nope")).await;
    assert_eq!(st, 404);
    assert_eq!(nf["error"]["status"], 404);
    srv.stop().await;
}

/// `?host=gov.test:80` (copied from a URL) and `?host=GOV.test.` once listed
/// no source: the API lower-cased the host and nothing more, where `check
/// --host` takes it as a URL gives it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_filter_takes_a_host_as_copied_from_a_url() {
    let s = Served::new("");
    let srv = s.start().await;
    let c = client();
    for host in ["gov.test", "GOV.test.", "gov.test:80", "Gov.Test.:8080"] {
        let (st, v) = json(&c, &srv.url(&format!("/api/sources?host={host}"))).await;
        assert_eq!(st, 200, "{host}: {v}");
        assert_eq!(v["total"], 1, "{host}: {v}");
        assert_eq!(v["sources"][0]["url"], REPORT, "{host}: {v}");
    }
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_archived_copy_is_an_error_never_served() {
    let s = Served::new("");
    // Replace the PDF's blob with a valid blob of other bytes before serving.
    let blobs = citewatch::archive::FsBlobStore::new(citewatch::archive::blob_dir(&s.g.data()));
    let path = blobs.path(&sha(&pdf()));
    std::fs::write(&path, zstd::bulk::compress(b"not the pdf", 3).unwrap()).unwrap();
    let srv = s.start().await;
    let r = client()
        .get(srv.url(&format!("/archive/{}", s.ids.pdf)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("damaged") && body.contains("citewatch verify"),
        "{body}"
    );
    assert!(!body.contains("not the pdf"));
    srv.stop().await;
}

/// An archived copy over a mebibyte leaves in chunks as it is read from its
/// blob, verified first, never held whole: read whole, each request for a
/// 50 MiB PDF held 50 MiB, however many came at once. The handler's body is
/// read frame by frame, in-process, so that nothing re-chunks it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_archived_copy_is_streamed_not_read_whole() {
    use axum::extract::{Path, State};
    use citewatch::server::archive::{STREAM_CHUNK, WHOLE_BODY_MAX, archived_copy};
    use futures_util::StreamExt;
    let s = Served::new("");
    let body: Vec<u8> = (0..8u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert!(body.len() as u64 > WHOLE_BODY_MAX);
    let id = s.add_article_capture(&body);
    let state = citewatch::server::AppState::new(s.config()).unwrap();
    let resp = archived_copy(
        State(state),
        Path(id.to_string()),
        axum::http::HeaderMap::new(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let length = resp.headers().get("content-length").cloned();
    let mut frames = resp.into_body().into_data_stream();
    let (mut got, mut largest, mut count) = (Vec::new(), 0, 0);
    while let Some(frame) = frames.next().await {
        let frame = frame.unwrap();
        largest = largest.max(frame.len());
        count += 1;
        got.extend_from_slice(&frame);
    }
    assert!(
        largest <= STREAM_CHUNK,
        "a frame of {largest} bytes: the body was held whole"
    );
    assert!(count >= body.len() / STREAM_CHUNK, "{count} frames");
    assert!(got == body, "{} bytes came back, not the copy", got.len());
    // Streamed, yet its length is said: the verified one.
    assert_eq!(
        length.as_ref().map(|v| v.to_str().unwrap()),
        Some(body.len().to_string().as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archived_copies_come_back_byte_for_byte_sandboxed_with_memento_headers() {
    let s = Served::new("");
    let srv = s.start().await;
    let c = client();
    for (id, bytes, ctype, at) in [
        (
            s.ids.a2020,
            article_v1(),
            "text/html; charset=utf-8",
            "Wed, 01 Jan 2020 00:00:00 GMT",
        ),
        (
            s.ids.a2021,
            article_v2(),
            "text/html; charset=utf-8",
            "Fri, 01 Jan 2021 00:00:00 GMT",
        ),
        (
            s.ids.pdf,
            pdf(),
            "application/pdf",
            "Wed, 01 Jan 2020 01:00:00 GMT",
        ),
    ] {
        let r = get(&c, srv.url(&format!("/archive/{id}"))).await;
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "content-type"), ctype);
        assert_eq!(header(&r, "memento-datetime"), at);
        let csp = header(&r, "content-security-policy");
        assert!(csp.split(';').any(|d| d.trim() == "sandbox"), "{csp}");
        assert!(!csp.contains("allow-same-origin") && !csp.contains("allow-scripts"));
        // Sandboxed is not enough: nothing may be loaded, from the cited site
        // (live, and told who reads) or from this service.
        let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
        assert_eq!(
            directives,
            [
                "sandbox",
                "default-src 'none'",
                "img-src data:",
                "style-src 'unsafe-inline'",
                "font-src data:",
                "media-src data:",
                "base-uri 'none'",
                "form-action 'none'",
            ],
            "{csp}"
        );
        assert_eq!(header(&r, "x-content-type-options"), "nosniff");
        assert!(
            r.headers().get("set-cookie").is_none(),
            "stored cookies are never replayed"
        );
        let links = parse_link_format(header(&r, "link"));
        let by_rel: HashMap<String, String> = links
            .iter()
            .flat_map(|(u, p)| rels(p).into_iter().map(move |r| (r, u.clone())))
            .collect();
        let original = if id == s.ids.pdf { REPORT } else { ARTICLE };
        assert_eq!(by_rel["original"], original);
        assert_eq!(
            by_rel["timegate"],
            srv.url(&format!("/timegate/{original}"))
        );
        assert_eq!(
            by_rel["timemap"],
            srv.url(&format!("/timemap/link/{original}"))
        );
        let body = r.bytes().await.unwrap();
        assert_eq!(sha(&body), sha(&bytes), "capture {id}");
    }
    let r = get(&c, srv.url("/archive/424242")).await;
    assert_eq!(r.status(), 404);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archived_copy_cut_at_the_size_cap_says_so() {
    let s = Served::new("");
    let cut = s.add_truncated_article_capture(b"<html><body><p>The first half of");
    let srv = s.start().await;
    let c = client();
    let r = get(&c, srv.url(&format!("/archive/{cut}"))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-citewatch-truncated"), "true");
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        b"<html><body><p>The first half of"
    );
    // A whole copy carries no such header, not even `false`.
    for id in [s.ids.a2020, s.ids.pdf] {
        let r = get(&c, srv.url(&format!("/archive/{id}"))).await;
        assert_eq!(r.status(), 200);
        assert!(r.headers().get("x-citewatch-truncated").is_none(), "{id}");
    }
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timegate_redirects_to_the_memento_nearest_accept_datetime() {
    let s = Served::new("");
    let srv = s.start().await;
    let c = client();
    let gate = srv.url(&format!("/timegate/{ARTICLE}"));
    let ask = |when: Option<&'static str>| {
        let mut req = c.get(&gate);
        if let Some(w) = when {
            req = req.header("accept-datetime", w);
        }
        req.send()
    };
    for (when, want) in [
        (Some("Sun, 01 Mar 2020 00:00:00 GMT"), s.ids.a2020),
        (Some("Sun, 01 Nov 2020 00:00:00 GMT"), s.ids.a2021),
        (Some("Mon, 01 Jan 1990 00:00:00 GMT"), s.ids.a2020),
        (Some("Fri, 01 Jan 2049 00:00:00 GMT"), s.ids.a2021),
        // Before 1970: the first memento, not a 400.
        (Some("Wed, 31 Dec 1969 23:59:59 GMT"), s.ids.a2020),
        (Some("Mon, 01 Jan 1900 00:00:00 GMT"), s.ids.a2020),
        (None, s.ids.a2021),
    ] {
        let r = ask(when).await.unwrap();
        assert_eq!(r.status(), 302, "{when:?}");
        assert_eq!(
            header(&r, "location"),
            srv.url(&format!("/archive/{want}")),
            "{when:?}"
        );
        assert_eq!(header(&r, "vary").to_ascii_lowercase(), "accept-datetime");
        let links = parse_link_format(header(&r, "link"));
        let find = |rel: &str| {
            links
                .iter()
                .find(|(_, p)| rels(p).iter().any(|r| r == rel))
                .unwrap_or_else(|| panic!("no rel={rel}"))
        };
        assert_eq!(find("original").0, ARTICLE);
        assert_eq!(
            find("timemap").0,
            srv.url(&format!("/timemap/link/{ARTICLE}"))
        );
        let chosen = links
            .iter()
            .find(|(u, _)| *u == srv.url(&format!("/archive/{want}")))
            .expect("the chosen memento is linked");
        assert!(rels(&chosen.1).contains(&"memento".to_string()));
        assert!(chosen.1.contains_key("datetime"));
        // The first and the last memento are named whichever is chosen.
        assert_eq!(
            find("first").0,
            srv.url(&format!("/archive/{}", s.ids.a2020)),
            "{when:?}"
        );
        assert_eq!(
            find("last").0,
            srv.url(&format!("/archive/{}", s.ids.a2021)),
            "{when:?}"
        );
        let mementos = links
            .iter()
            .filter(|(_, p)| rels(p).iter().any(|r| r == "memento"))
            .count();
        assert_eq!(mementos, 2, "each memento once: {links:?}");
    }
    // Following the redirect gives that memento's bytes.
    let r = ask(Some("Sun, 01 Mar 2020 00:00:00 GMT")).await.unwrap();
    let loc = header(&r, "location").to_string();
    let body = get(&c, &loc).await.bytes().await.unwrap();
    assert_eq!(sha(&body), sha(&article_v1()));

    let r = ask(Some("the day before yesterday")).await.unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Accept-Datetime")
    );
    let r = get(&c, srv.url("/timegate/http://never.test/archived")).await;
    assert_eq!(r.status(), 404);
    let r = get(&c, srv.url(&format!("/timegate/{GONE}"))).await;
    assert_eq!(r.status(), 404, "cited but nothing archived");
    let r = get(&c, srv.url("/timegate/not a url")).await;
    assert_eq!(r.status(), 400);
    // The URL percent-encoded whole, as some clients send it.
    let r = get(
        &c,
        srv.url("/timegate/http%3A%2F%2Fnews.test%2Fpolitics%2Farticle-1.html"),
    )
    .await;
    assert_eq!(
        header(&r, "location"),
        srv.url(&format!("/archive/{}", s.ids.a2021))
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timemap_is_link_format_with_one_memento_per_capture() {
    let s = Served::new("");
    let srv = s.start().await;
    let c = client();
    let r = get(&c, srv.url(&format!("/timemap/link/{ARTICLE}"))).await;
    assert_eq!(r.status(), 200);
    assert!(header(&r, "content-type").starts_with("application/link-format"));
    let text = r.text().await.unwrap();
    let links = parse_link_format(&text);
    let mementos: Vec<_> = links
        .iter()
        .filter(|(_, p)| rels(p).iter().any(|r| r == "memento"))
        .collect();
    assert_eq!(mementos.len(), 2, "{text}");
    assert_eq!(mementos[0].0, srv.url(&format!("/archive/{}", s.ids.a2020)));
    assert_eq!(mementos[0].1["datetime"], "Wed, 01 Jan 2020 00:00:00 GMT");
    assert!(rels(&mementos[0].1).contains(&"first".to_string()));
    assert_eq!(mementos[1].1["datetime"], "Fri, 01 Jan 2021 00:00:00 GMT");
    assert!(rels(&mementos[1].1).contains(&"last".to_string()));
    let one = |rel: &str| {
        let found: Vec<_> = links
            .iter()
            .filter(|(_, p)| rels(p).iter().any(|r| r == rel))
            .collect();
        assert_eq!(found.len(), 1, "rel={rel}");
        found[0].clone()
    };
    assert_eq!(one("original").0, ARTICLE);
    assert_eq!(one("timegate").0, srv.url(&format!("/timegate/{ARTICLE}")));
    let me = one("self");
    assert_eq!(me.1["type"], "application/link-format");
    assert_eq!(me.1["from"], "Wed, 01 Jan 2020 00:00:00 GMT");
    assert_eq!(me.1["until"], "Fri, 01 Jan 2021 00:00:00 GMT");
    // Each memento's datetime is the capture's, and each link works.
    for (uri, p) in &mementos {
        let r = get(&c, uri).await;
        assert_eq!(header(&r, "memento-datetime"), p["datetime"]);
    }
    let (_, pdf_map) = (
        0,
        get_text(&c, &srv.url(&format!("/timemap/link/{REPORT}"))).await,
    );
    assert_eq!(
        parse_link_format(&pdf_map)
            .iter()
            .filter(|(_, p)| rels(p).iter().any(|r| r == "memento"))
            .count(),
        1
    );
    let r = get(&c, srv.url("/timemap/link/http://never.test/")).await;
    assert_eq!(r.status(), 404);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_traversal_never_reaches_a_file() {
    let s = Served::new("");
    // A file beside the store that a traversal would aim at.
    std::fs::write(s.g.path("data/secret.txt"), "root:x:0:0:SECRET").unwrap();
    let srv = s.start().await;
    for target in [
        "/archive/..",
        "/archive/../../etc/passwd",
        "/archive/%2e%2e",
        "/archive/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/archive/..%2fsecret.txt",
        "/archive//etc/passwd",
        "/archive/%2Fetc%2Fpasswd",
        "/archive/1%00",
        "/archive/-1",
        "/archive/0x10",
        "/sources/..%2f..%2fetc%2fpasswd",
        "/api/sources/%2e%2e",
        "/timegate/../../etc/passwd",
        "/timegate/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/timegate//etc/passwd",
        "/timegate/file:///etc/passwd",
        "/timemap/link/..%2f..%2fdata%2fsecret.txt",
        "/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "//etc/passwd",
    ] {
        let (status, body) = raw_request(srv.addr, target).await;
        assert!(matches!(status, 400 | 404), "{target}: {status} {body}");
        assert!(!body.contains("root:"), "{target} leaked a file");
        assert!(!body.contains("SECRET"), "{target} leaked a file");
    }
    // The real thing still works over the same raw path.
    let (status, body) = raw_request(srv.addr, &format!("/archive/{}", s.ids.a2021)).await;
    assert_eq!(status, 200);
    assert!(body.contains("rewritten"));
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_endpoints_need_a_configured_token() {
    let s = Served::new("");
    let srv = s.start().await;
    let c = client();
    let r = c
        .post(srv.url("/api/check"))
        .bearer_auth("anything")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert!(
        v["error"]["message"].as_str().unwrap().contains("disabled"),
        "{v}"
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_check_is_401_without_token_403_wrong_409_locked_202_started() {
    let s = Served::new(
        "[serve]\nadmin_token = \"correct horse\"\npublic_url = \"https://cw.example.org/base\"\n\
         [fetch]\nallow_networks = [\"127.0.0.1/32\"]\n",
    );
    let srv = s.start().await;
    let c = client();
    let url = srv.url("/api/check");
    let r = c.post(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("www-authenticate").is_some());
    let r = c
        .post(&url)
        .header("authorization", "Basic Y29ycmVjdA==")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .post(&url)
        .bearer_auth("correct hors")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = c
        .post(&url)
        .bearer_auth("correct horse!")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // GET is not a way in; the framework's own answer is JSON like any error.
    let r = c
        .get(&url)
        .bearer_auth("correct horse")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST");
    let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(v["error"]["status"], 405, "{v}");

    // While a run (here: this test) holds the lock, 409 naming the holder.
    {
        let _held = citewatch::check::lock::RunLock::acquire(&s.g.data(), "a test run").unwrap();
        let r = c
            .post(&url)
            .bearer_auth("correct horse")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409);
        let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("a test run"),
            "{v}"
        );
    }
    // An oversized or malformed body is refused before anything starts. One
    // byte over the limit: small enough to sit in the loopback socket's buffer
    // whole, so the client reads the 413 instead of racing the server's close
    // (a 1 MiB body made this test flaky: broken pipe while still sending).
    let r = c
        .post(&url)
        .bearer_auth("correct horse")
        .body(vec![b' '; citewatch::server::BODY_LIMIT + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("length limit"),
        "{v}"
    );
    let r = c
        .post(&url)
        .bearer_auth("correct horse")
        .body("{\"al\": true}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // URLs that cannot be checked are refused up front, not left to fail unseen.
    for (urls, says) in [
        (
            "[\"ftp://x.test/a\"]",
            "urls: `ftp://x.test/a`: scheme `ftp`",
        ),
        (
            "[\"http://never-cited.test/a\"]",
            "urls: not a source yet, no synced briefing cites it: http://never-cited.test/a",
        ),
        // Copied from a browser: the source it likely means is named, as
        // the command line names it.
        (
            "[\"https://www.gone.test/page/\"]",
            "https://www.gone.test/page/ (sources nearby: http://gone.test/page)",
        ),
    ] {
        let r = c
            .post(&url)
            .bearer_auth("correct horse")
            .body(format!("{{\"urls\": {urls}}}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        assert!(
            v["error"]["message"].as_str().unwrap().contains(says),
            "{v}"
        );
    }

    // Released: the run starts in the background (only the gone.test citation
    // is due, and it is limited away), and shows up in /api/runs.
    let r = c
        .post(&url)
        .bearer_auth("correct horse")
        .body("{\"limit\": 0}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    // The answer names the run, so a client can follow the one it started.
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    let id = v["run_id"].as_i64().unwrap_or_else(|| panic!("{v}"));
    // Under the public URL's path, as a proxy serving `/base/` passes it on.
    assert_eq!(location, format!("/base/api/runs/{id}"));
    assert_eq!(v["run"], location.as_str());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (st, run) = json(&c, &srv.url(&format!("/api/runs/{id}"))).await;
        assert_eq!(st, 200, "{run}");
        assert_eq!(run["id"], id);
        if run["state"] == "completed" {
            assert_eq!(run["summary"]["checked"], 0);
            break;
        }
        assert!(Instant::now() < deadline, "run did not complete: {run}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, runs) = json(&c, &srv.url("/api/runs")).await;
    assert_eq!(runs["runs"][0]["id"], id);
    let (st, v) = json(&c, &srv.url(&format!("/api/runs/{}", id + 1))).await;
    assert_eq!(st, 404, "{v}");
    let (st, v) = json(&c, &srv.url("/api/runs/latest")).await;
    assert_eq!(st, 400, "{v}");

    // A run that cannot begin (its sync fails: the briefing folder is gone)
    // is the request's answer, not a line in the server's log; the next
    // request is not refused as "still running".
    std::fs::rename(s.g.path("briefings"), s.g.path("briefings-away")).unwrap();
    for _ in 0..2 {
        let r = c
            .post(&url)
            .bearer_auth("correct horse")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 500);
        let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.contains("briefings"), "{v}");
    }
    std::fs::rename(s.g.path("briefings-away"), s.g.path("briefings")).unwrap();
    let text = get_text(&c, &srv.url("/metrics")).await;
    // The run given a limit is partial: not the nightly job an alert watches.
    assert!(
        text.contains("citewatch_sources{status=") && !text.contains("citewatch_last_run_"),
        "{text}"
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_answer_while_a_writer_holds_a_transaction() {
    let s = Served::new("");
    let srv = s.start().await;
    let c = client();
    let db = rusqlite::Connection::open(s.g.path("data/citewatch.db")).unwrap();
    db.execute_batch("BEGIN IMMEDIATE; UPDATE sources SET status = 'dead' WHERE status = 'ok';")
        .unwrap();
    let t = Instant::now();
    let (st, v) = json(&c, &srv.url("/api/sources?status=dead")).await;
    assert_eq!(st, 200);
    assert_eq!(v["total"], 1, "the uncommitted write is not seen");
    let r = get(&c, srv.url(&format!("/archive/{}", s.ids.pdf))).await;
    assert_eq!(r.status(), 200);
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "reads waited for the writer"
    );
    db.execute_batch("COMMIT").unwrap();
    let (_, v) = json(&c, &srv.url("/api/sources?status=dead")).await;
    assert_eq!(v["total"], 2, "the committed write is");
    srv.stop().await;
}

/// Citations the stalled-reader tests add: a report of them is over 10 MB.
const MANY: usize = 5_000;

/// A GET that must answer within a generous bound (not a benchmark): 10 s.
async fn prompt(c: &reqwest::Client, url: &str) -> reqwest::Response {
    tokio::time::timeout(Duration::from_secs(10), c.get(url).send())
        .await
        .unwrap_or_else(|_| panic!("{url} did not answer within 10 s"))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_never_read_a_report_cannot_starve_the_service() {
    let s = Served::new("");
    served::add_many_citations(&s, MANY);
    let srv = s.start().await;
    let c = client();
    // As many reports as the pool has read connections, none of them read:
    // they once held every connection, and /healthz, /api/sources and
    // /metrics waited behind them for as long as the sockets stayed open.
    let mut stalled = Vec::new();
    for i in 0..8 {
        let target = if i % 2 == 0 {
            "/api/report?status=all"
        } else {
            "/?status=all"
        };
        stalled.push(served::stalled_request(srv.addr, target).await);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    for path in [
        "/healthz",
        "/api/sources?per_page=1",
        "/metrics",
        "/api/runs",
    ] {
        let r = prompt(&c, &srv.url(path)).await;
        assert_eq!(r.status(), 200, "{path}");
    }
    // Another report is turned away while the streams are taken, saying when
    // to come back, rather than queueing without end.
    let r = prompt(&c, &srv.url("/api/report?status=all")).await;
    assert_eq!(r.status(), 503);
    let retry: u64 = header(&r, "retry-after").parse().unwrap();
    assert!(retry > 0);
    let body: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(body["error"]["status"], 503, "{body}");
    // Once the clients go away, reports are served again, whole.
    drop(stalled);
    let t = Instant::now();
    let rep = loop {
        let r = prompt(&c, &srv.url("/api/report?status=all")).await;
        if r.status() == 200 {
            break r.bytes().await.unwrap();
        }
        assert_eq!(r.status(), 503);
        assert!(t.elapsed() < Duration::from_secs(30), "no recovery");
    };
    let rep: Value = serde_json::from_slice(&rep).unwrap();
    assert_eq!(listed(&rep).len(), MANY + 3);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_nobody_reads_is_given_up_and_its_connection_cut() {
    let s = Served::new("");
    served::add_many_citations(&s, MANY);
    let srv = s.start_with_report_stall(Duration::from_millis(1500)).await;
    let c = client();
    let mut stalled = Vec::new();
    for _ in 0..citewatch::server::REPORT_STREAMS {
        stalled.push(served::stalled_request(srv.addr, "/api/report?status=all").await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The stalled clients keep their sockets open, yet their reports give
    // their turns back: a new report is served whole. It may be told to come
    // back (503) while the stalled reports are still being rendered, which on
    // a loaded machine outlasts the queue's wait; never for half a minute.
    let mut r = prompt(&c, &srv.url("/api/report?status=all")).await;
    for _ in 0..5 {
        if r.status() != 503 {
            break;
        }
        r = prompt(&c, &srv.url("/api/report?status=all")).await;
    }
    assert_eq!(r.status(), 200);
    let whole = r.bytes().await.unwrap();
    let rep: Value = serde_json::from_slice(&whole).unwrap();
    assert_eq!(listed(&rep).len(), MANY + 3);
    // What a stalled client gets, once it reads, ends without the last
    // chunk: the connection is cut, so a truncated report never looks whole.
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), stalled[0].read_to_end(&mut got))
        .await
        .expect("the cut connection ends");
    assert!(
        got.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        &got[..got.len().min(200)]
    );
    assert!(
        read.is_err() || !got.ends_with(b"\r\n0\r\n\r\n"),
        "a given-up report ended as if whole ({} bytes)",
        got.len()
    );
    assert!(got.len() < whole.len() / 2, "the whole report was sent");
    // A graceful stop waits for open connections, stalled ones too.
    drop(stalled);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_to_archived_copies_use_the_separate_archive_origin() {
    let s = Served::new(
        "[serve]\narchive_origin = \"http://127.0.0.2:9/\"\npublic_url = \"http://127.0.0.1:8/cw/\"\n",
    );
    let srv = s.start().await;
    let c = client();
    let r = get(&c, srv.url(&format!("/timegate/{ARTICLE}"))).await;
    assert_eq!(
        header(&r, "location"),
        format!("http://127.0.0.2:9/archive/{}", s.ids.a2021)
    );
    assert!(
        header(&r, "link").contains(&format!("<http://127.0.0.1:8/cw/timemap/link/{ARTICLE}>"))
    );
    let (_, rep) = json(&c, &srv.url("/api/report")).await;
    assert_eq!(
        listed(&rep)[1].2,
        format!("http://127.0.0.2:9/archive/{}", s.ids.a2020)
    );
    let page = get_text(&c, &srv.url("/")).await;
    assert!(page.contains(&format!(
        "href=\"http://127.0.0.2:9/archive/{}\"",
        s.ids.a2020
    )));
    assert!(
        page.contains(&format!(
            "href=\"http://127.0.0.1:8/cw/sources/{}\"",
            s.ids.article
        )),
        "{page}"
    );
    // The next page's reference keeps the public URL's path.
    let (_, p1) = json(&c, &srv.url("/api/sources?per_page=2")).await;
    let last = p1["sources"][1]["url"].as_str().unwrap();
    let after: String = url::form_urlencoded::byte_serialize(last.as_bytes()).collect();
    assert_eq!(
        p1["next"],
        format!("/cw/api/sources?per_page=2&after={after}"),
        "{p1}"
    );
    srv.stop().await;
}

/// With a separate archive origin, an archived copy asked for on the main
/// origin is redirected there, not served: it once ran on the report's
/// origin for whoever asked it there. Asked on the archive origin (its Host,
/// sent over loopback to the one server), it is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archived_copies_asked_on_the_main_origin_are_sent_to_the_archive_origin() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = Served::new(
        "[serve]\narchive_origin = \"http://127.0.0.2:9/\"\npublic_url = \"http://127.0.0.1:8/cw/\"\n",
    );
    let srv = s.start().await;
    let id = s.ids.a2020;
    let ask = |host: String| {
        let addr = srv.addr;
        async move {
            let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
            let req =
                format!("GET /archive/{id} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
            c.write_all(req.as_bytes()).await.unwrap();
            let mut got = Vec::new();
            c.read_to_end(&mut got).await.unwrap();
            String::from_utf8_lossy(&got).into_owned()
        }
    };
    for main in [
        srv.addr.to_string(),
        "127.0.0.1:8".to_string(),
        "localhost".to_string(),
    ] {
        let got = ask(main.clone()).await;
        let head = got.split("\r\n\r\n").next().unwrap().to_ascii_lowercase();
        assert!(got.starts_with("HTTP/1.1 302"), "{main}: {got}");
        assert!(
            head.contains(&format!(
                "\r\nlocation: http://127.0.0.2:9/archive/{id}\r\n"
            )),
            "{main}: {got}"
        );
        assert!(
            !got.contains(served::ARCHIVED_TITLE),
            "{main}: served: {got}"
        );
    }
    let got = ask("127.0.0.2:9".to_string()).await;
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    assert!(got.contains(served::ARCHIVED_TITLE), "{got}");
    srv.stop().await;
}

#[test]
fn the_binary_serves_on_the_port_it_prints_and_stops_on_sigterm() {
    let s = Served::new("");
    let (child, base) = s.g.serve();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let body = rt.block_on(async {
        client()
            .get(format!("{base}api/sources/{}", s.ids.gone))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    assert!(body.contains(GONE), "{body}");
    // SIGTERM: a graceful stop, exit code 0, and the access log saw the request.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {log}", out.status);
    assert!(
        log.contains("/api/sources/") && log.contains("status=200"),
        "{log}"
    );

    // No store yet: a clear configuration error, exit 2.
    let g = common::Ground::new();
    let out = g
        .cmd(&["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("sync"));
    let _ = (T2020, T2021, served::required());
}

/// `/api/citations` is streamed row by row, as the report is, never built
/// whole: a large listing comes without a length, in document order, every
/// row whole, and the status filter and total still hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_citations_listing_is_streamed_whole_and_filtered() {
    let s = Served::new("");
    served::add_many_citations(&s, MANY);
    let srv = s.start().await;
    let c = client();
    let r = prompt(&c, &srv.url("/api/citations")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "application/json");
    assert!(
        r.headers().get("content-length").is_none(),
        "streamed, so no length known up front"
    );
    let all: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    let rows = all["citations"].as_array().unwrap();
    assert_eq!(all["total"], rows.len());
    assert_eq!(rows.len(), MANY + 3);
    // As the store lists them, every key in every row.
    let listed = citewatch::store::Store::open_existing(&s.g.path("data/citewatch.db"))
        .unwrap()
        .citations(false)
        .unwrap();
    assert_eq!(
        serde_json::to_value(&listed).unwrap(),
        all["citations"],
        "the rows as the store lists them"
    );
    let (_, dead) = json(&c, &srv.url("/api/citations?status=dead")).await;
    let dead_rows = dead["citations"].as_array().unwrap();
    assert_eq!(dead["total"], dead_rows.len());
    assert!(dead_rows.iter().all(|r| r["status"] == "dead"), "{dead}");
    assert!(!dead_rows.is_empty());
    srv.stop().await;
}

fn query_value(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// `document=` took only a path under a `[briefings] paths` entry, while
/// `report --document` also takes the name `sync` gives, the path on disk and
/// a whole entry: the service reads it as the command does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_filter_takes_what_report_document_takes() {
    let s = Served::new("");
    let srv = s.start().await;
    let c = client();
    let (st, all) = json(&c, &srv.url("/api/report?status=all")).await;
    assert_eq!(st, 200, "{all}");
    let folder = s.g.path("briefings");
    let file = folder.join("briefings-1.txt");
    for (asked, named) in [
        ("briefings-1.txt", "briefings-1.txt"),
        ("../briefings/briefings-1.txt", "briefings-1.txt"),
        (file.to_str().unwrap(), "briefings-1.txt"),
        ("../briefings", "../briefings"),
        ("../briefings/", "../briefings"),
        (folder.to_str().unwrap(), "../briefings"),
    ] {
        let q = format!("status=all&document={}", query_value(asked));
        let (st, rep) = json(&c, &srv.url(&format!("/api/report?{q}"))).await;
        assert_eq!(st, 200, "{asked}: {rep}");
        assert_eq!(rep["document"], named, "{asked}");
        assert_eq!(rep["summary"], all["summary"], "{asked}");
        // The web report reads it alike.
        let r = get(&c, srv.url(&format!("/?{q}"))).await;
        assert_eq!(r.status(), 200, "/ {asked}");
        assert!(header(&r, "content-type").starts_with("text/html"));
    }
    srv.stop().await;
}

/// `document=` resolved whatever path a client sent on the service's disk
/// (`/net/host/x` mounts a share): only a path under a `[briefings] paths`
/// entry by name is looked up there, and a link placed outside the entry
/// that leads into it names nothing, as an unknown document does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_filter_resolves_no_path_outside_the_entries() {
    let s = Served::new("");
    let outside = s.g.path("outside");
    std::os::unix::fs::symlink(s.g.path("briefings"), &outside).unwrap();
    let srv = s.start().await;
    let c = client();
    let through_link = outside.join("briefings-1.txt");
    for asked in [
        through_link.to_str().unwrap(),
        outside.to_str().unwrap(),
        "/outside-every-entry/x",
    ] {
        let q = format!("status=all&document={}", query_value(asked));
        let (st, v) = json(&c, &srv.url(&format!("/api/report?{q}"))).await;
        assert_eq!(st, 400, "{asked}: {v}");
        let says = format!("document `{asked}`: no document");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(&says),
            "{v}"
        );
    }
    srv.stop().await;
}

/// A failing source's page said "failing" and no more, where `status` and
/// the JSON name the verdict it is heading for: a 404 seen once and a
/// timeout call for different patience.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_source_page_names_its_suspect() {
    let s = Served::new("");
    let srv = s.start().await;
    let c = client();
    rusqlite::Connection::open(s.g.path("data/citewatch.db"))
        .unwrap()
        .execute(
            "UPDATE sources SET status = 'failing', suspect = 'dead' WHERE id = ?1",
            [s.ids.article],
        )
        .unwrap();
    let page = get_text(&c, &srv.url(&format!("/sources/{}", s.ids.article))).await;
    assert!(
        page.contains("id=\"status\">failing</strong> (suspect dead)"),
        "{page}"
    );
    srv.stop().await;
}

/// The web report's form shows statuses and outlet only: submitted from a
/// page narrowed to a document or to what is new, it asked for a report of
/// every document and every change, which the page then showed under the
/// same form as if still narrowed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_filter_form_keeps_the_filters_it_does_not_show() {
    let s = Served::new("");
    let srv = s.start().await;
    let c = client();
    let page = get_text(
        &c,
        &srv.url("/?document=briefings-1.txt&new=1&since=2020-06-01"),
    )
    .await;
    for hidden in [
        "<input type=\"hidden\" name=\"document\" value=\"briefings-1.txt\">",
        "<input type=\"hidden\" name=\"new\" value=\"1\">",
        "<input type=\"hidden\" name=\"since\" value=\"2020-06-01T00:00:00Z\">",
    ] {
        assert!(page.contains(hidden), "{hidden}: {page}");
    }
    // Unfiltered, none.
    let page = get_text(&c, &srv.url("/")).await;
    assert!(!page.contains("type=\"hidden\""), "{page}");
    srv.stop().await;
}

/// `?status=dead,,ok` was read as `dead,ok`, as `--status` was; a blank
/// value (a form's empty field) is no filter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_list_with_an_empty_entry_is_a_400() {
    let s = Served::new("");
    let srv = s.start().await;
    let c = client();
    for path in ["/api/report", "/api/sources", "/api/citations", "/"] {
        for list in ["dead,,ok", "dead,", ","] {
            let (st, v) = json(&c, &srv.url(&format!("{path}?status={list}"))).await;
            assert_eq!(st, 400, "{path} {list}: {v}");
            let says = format!("`{list}` has an empty entry");
            assert!(
                v["error"]["message"].as_str().unwrap().contains(&says),
                "{path} {list}: {v}"
            );
        }
        let r = get(&c, srv.url(&format!("{path}?status=&status=dead"))).await;
        assert_eq!(r.status(), 200, "{path}");
    }
    srv.stop().await;
}

/// An error answer quoting a long value names it by its start and length,
/// as the command's error lines do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_bad_value_is_not_echoed_whole_in_an_error() {
    let s = Served::new("");
    let srv = s.start().await;
    let c = client();
    let long = "d".repeat(20_000);
    for q in [format!("document={long}"), format!("outlet={long}")] {
        let (st, v) = json(&c, &srv.url(&format!("/api/report?{q}"))).await;
        assert_eq!(st, 400);
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.len() < 1_000, "{} bytes", message.len());
        assert!(
            message.contains(&format!("`{}…` (20000 characters)", &long[..100])),
            "{message}"
        );
    }
    srv.stop().await;
}
