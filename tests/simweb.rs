//! The simulated web answers as the tests and benchmarks built on it expect:
//! page sizes, stable versus churning bytes, every page kind's status, validators
//! and counters.

use std::time::Duration;

use citewatch::simweb::{self, PageKind, SimWeb, SimWebOptions};
use reqwest::StatusCode;
use reqwest::header;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn web(hosts: usize) -> SimWeb {
    SimWeb::start(SimWebOptions {
        hosts,
        articles_per_host: 50,
        ..SimWebOptions::default()
    })
    .await
    .unwrap()
}

async fn get(c: &reqwest::Client, url: &str) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let resp = c.get(url).send().await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.unwrap().to_vec();
    (status, headers, body)
}

#[tokio::test]
async fn hosts_listen_on_distinct_loopback_addresses() {
    let web = web(3).await;
    let bases = web.base_urls();
    assert_eq!(bases.len(), 3);
    assert!(bases[0].starts_with("http://127.0.1.1:"), "{}", bases[0]);
    assert!(bases[2].starts_with("http://127.0.1.3:"), "{}", bases[2]);
    assert!(bases[0].ends_with('/'));
    let c = client();
    for base in &bases {
        let (status, _, body) = get(&c, base).await;
        assert_eq!(status, StatusCode::OK);
        assert!(String::from_utf8(body).unwrap().contains("/news/0.html"));
    }
    let (status, headers, body) = get(&c, &format!("{}robots.txt", bases[1])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(String::from_utf8(body).unwrap().contains("User-agent: *"));
}

#[tokio::test]
async fn articles_are_realistic_and_stable() {
    let web = web(2).await;
    let c = client();
    let urls = web.urls(6);
    assert_eq!(urls.len(), 6);
    assert!(urls[0].contains("127.0.1.1:") && urls[1].contains("127.0.1.2:"));
    for url in &urls {
        let (status, headers, body) = get(&c, url).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            (20_000..=60_000).contains(&body.len()),
            "{url}: {}",
            body.len()
        );
        assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
        assert!(headers.contains_key(header::ETAG));
        assert!(headers.contains_key(header::LAST_MODIFIED));
        let text = String::from_utf8(body.clone()).unwrap();
        for needle in [
            "<title>",
            "<nav",
            "<article>",
            "<h1>",
            "Related articles",
            "<footer>",
        ] {
            assert!(text.contains(needle), "{url} lacks {needle}");
        }
        let (_, _, again) = get(&c, url).await;
        assert_eq!(
            body, again,
            "an Ok page must be byte-identical across loads"
        );
    }
    let (host, path) = web.locate(&urls[3]).unwrap();
    assert_eq!((host, path.as_str()), (1, "/news/1.html"));
    let (_, _, body) = get(&c, &urls[3]).await;
    assert!(
        String::from_utf8(body)
            .unwrap()
            .contains(&simweb::headline(1, 1))
    );
}

#[tokio::test]
async fn churn_pages_differ_on_every_load() {
    let web = web(1).await;
    let c = client();
    let url = web.article_url(0, 4).unwrap();
    web.set_url_kind(&url, PageKind::Churn).unwrap();
    let (s1, h1, b1) = get(&c, &url).await;
    let (s2, h2, b2) = get(&c, &url).await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK));
    assert_ne!(b1, b2);
    assert_ne!(h1[header::ETAG], h2[header::ETAG]);
    let headline = simweb::headline(0, 4);
    assert!(String::from_utf8(b1).unwrap().contains(&headline));
    assert!(String::from_utf8(b2).unwrap().contains(&headline));
}

#[tokio::test]
async fn default_churn_fraction_applies() {
    let web = SimWeb::start(SimWebOptions {
        hosts: 1,
        articles_per_host: 200,
        churn_fraction: 0.25,
        ..SimWebOptions::default()
    })
    .await
    .unwrap();
    let churning = (0..200)
        .filter(|id| web.kind(0, &simweb::article_path(*id)).unwrap() == PageKind::Churn)
        .count();
    assert!((25..=75).contains(&churning), "{churning} of 200 churn");
}

#[tokio::test]
async fn kinds_answer_with_their_status() {
    let web = web(1).await;
    let c = client();
    let path = |id: u64| simweb::article_path(id);
    let url = |id: u64| web.article_url(0, id).unwrap();
    web.set_kind(0, &path(1), PageKind::NotFound).unwrap();
    web.set_kind(0, &path(2), PageKind::Gone).unwrap();
    web.set_kind(0, &path(3), PageKind::RedirectHome).unwrap();
    web.set_kind(0, &path(4), PageKind::SoftNotFound).unwrap();
    web.set_kind(0, &path(5), PageKind::MovedTo("/archive/5.html".into()))
        .unwrap();
    web.set_kind(0, &path(6), PageKind::Rewritten).unwrap();
    web.set_kind(0, &path(7), PageKind::Flaky503).unwrap();
    web.set_kind(0, &path(8), PageKind::Gbk).unwrap();
    web.set_kind(0, &path(9), PageKind::Slow(Duration::from_millis(200)))
        .unwrap();

    assert_eq!(get(&c, &url(1)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&c, &url(2)).await.0, StatusCode::GONE);

    let (status, headers, _) = get(&c, &url(3)).await;
    assert_eq!(status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(headers[header::LOCATION], web.base_url(0).unwrap());

    let (status, _, body) = get(&c, &url(4)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        String::from_utf8(body)
            .unwrap()
            .contains("<title>页面不存在")
    );

    let (status, headers, _) = get(&c, &url(5)).await;
    assert_eq!(status, StatusCode::MOVED_PERMANENTLY);
    let moved = headers[header::LOCATION].to_str().unwrap().to_string();
    assert_eq!(moved, web.url(0, "/archive/5.html").unwrap());
    let (status, _, moved_body) = get(&c, &moved).await;
    assert_eq!(status, StatusCode::OK);
    web.clear_kind(0, &path(5)).unwrap();
    assert_eq!(
        moved_body,
        get(&c, &url(5)).await.2,
        "moved page is the same article"
    );

    let (status, _, rewritten) = get(&c, &url(6)).await;
    assert_eq!(status, StatusCode::OK);
    web.clear_kind(0, &path(6)).unwrap();
    let original = get(&c, &url(6)).await.2;
    let rewritten = String::from_utf8(rewritten).unwrap();
    let original = String::from_utf8(original).unwrap();
    assert!(rewritten.contains(&simweb::headline(0, 6)));
    let para = |s: &str| s.split("<p>").nth(1).unwrap().to_string();
    assert_ne!(
        para(&rewritten),
        para(&original),
        "rewritten text must differ"
    );

    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(get(&c, &url(7)).await.0);
    }
    assert_eq!(
        seen,
        [
            StatusCode::SERVICE_UNAVAILABLE,
            StatusCode::OK,
            StatusCode::SERVICE_UNAVAILABLE,
            StatusCode::OK
        ]
    );

    let (status, headers, body) = get(&c, &url(8)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=gbk");
    assert!(
        std::str::from_utf8(&body).is_err(),
        "GBK bytes are not UTF-8"
    );
    let (text, _, had_errors) = encoding_rs::GBK.decode(&body);
    assert!(!had_errors);
    assert!(text.contains("charset=\"gbk\"") && text.contains("相关新闻"));
    assert!((20_000..=60_000).contains(&body.len()), "{}", body.len());

    let started = std::time::Instant::now();
    assert_eq!(get(&c, &url(9)).await.0, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(200));

    assert_eq!(web.kind(0, &path(10)).unwrap(), PageKind::Ok);
}

#[tokio::test]
async fn unknown_paths_are_404_unless_the_host_answers_everything() {
    let web = web(2).await;
    let c = client();
    let probe = web.url(1, "/news/no-such-page-7f3a9.html").unwrap();
    let beyond = web.article_url(1, 50).unwrap();
    assert_eq!(get(&c, &probe).await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&c, &beyond).await.0, StatusCode::NOT_FOUND);
    web.set_soft_404_everything(1, true).unwrap();
    let (status, _, body) = get(&c, &probe).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, get(&c, web.base_url(1).unwrap()).await.2);
    // The other host is unaffected.
    let other = web.url(0, "/news/no-such-page-7f3a9.html").unwrap();
    assert_eq!(get(&c, &other).await.0, StatusCode::NOT_FOUND);
    assert!(web.set_kind(2, "/", PageKind::Ok).is_err());
}

#[tokio::test]
async fn validators_give_304() {
    let web = web(1).await;
    let c = client();
    let url = web.article_url(0, 1).unwrap();
    let (_, headers, _) = get(&c, &url).await;
    let etag = headers[header::ETAG].clone();
    let last_modified = headers[header::LAST_MODIFIED].clone();

    let resp = c
        .get(&url)
        .header(header::IF_NONE_MATCH, etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(resp.headers()[header::ETAG], etag);
    assert!(resp.bytes().await.unwrap().is_empty());

    let resp = c
        .get(&url)
        .header(header::IF_NONE_MATCH, "\"something-else\"")
        .header(header::IF_MODIFIED_SINCE, last_modified.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "If-None-Match wins");

    let resp = c
        .get(&url)
        .header(header::IF_MODIFIED_SINCE, last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);

    web.set_kind(0, &simweb::article_path(1), PageKind::Rewritten)
        .unwrap();
    let resp = c
        .get(&url)
        .header(header::IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "a rewritten page has a new ETag"
    );
}

#[tokio::test]
async fn counters_count() {
    let web = web(2).await;
    let c = client();
    let a = web.article_url(0, 3).unwrap();
    let b = web.article_url(1, 3).unwrap();
    for _ in 0..3 {
        get(&c, &a).await;
    }
    get(&c, &b).await;
    get(&c, &format!("{}robots.txt", web.base_url(1).unwrap())).await;
    assert_eq!(web.requests(0), 3);
    assert_eq!(web.requests(1), 2);
    assert_eq!(web.total_requests(), 5);
    assert_eq!(web.path_requests(0, "/news/3.html"), 3);
    assert_eq!(web.url_requests(&b), 1);
    assert_eq!(web.path_requests(1, "/robots.txt"), 1);
    assert_eq!(web.request_counts(1).len(), 2);
    // One pooled client: one connection per host.
    assert_eq!((web.connections(0), web.connections(1)), (1, 1));
    assert_eq!(web.total_connections(), 2);
    web.reset_counters();
    assert_eq!(web.total_requests(), 0);
    assert_eq!(web.url_requests(&a), 0);
}

#[tokio::test]
async fn gzip_when_asked() {
    let web = SimWeb::start(SimWebOptions {
        hosts: 1,
        articles_per_host: 10,
        gzip: true,
        ..SimWebOptions::default()
    })
    .await
    .unwrap();
    let url = web.article_url(0, 2).unwrap();
    let raw = reqwest::Client::builder()
        .no_proxy()
        .no_gzip()
        .build()
        .unwrap()
        .get(&url)
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.headers()[header::CONTENT_ENCODING], "gzip");
    let compressed = raw.bytes().await.unwrap();
    let plain = get(&client(), &url).await.2;
    assert!(compressed.len() < plain.len() / 2);
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&compressed[..]), &mut out)
        .unwrap();
    assert_eq!(out, plain);
}

#[tokio::test]
async fn shutdown_closes_the_listeners() {
    let web = web(1).await;
    let base = web.base_url(0).unwrap().to_string();
    assert_eq!(get(&client(), &base).await.0, StatusCode::OK);
    web.shutdown().await;
    assert!(client().get(&base).send().await.is_err());
}

#[test]
fn briefing_store_cites_the_simulated_web() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let web = rt.block_on(web(3));
    let urls = web.urls(10);
    let dir = tempfile::tempdir().unwrap();
    let files = simweb::write_briefing_store(dir.path(), &urls, 4).unwrap();
    assert_eq!(files.len(), 3);
    let mut cited = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let items = citewatch::briefing::parse(citewatch::briefing::Format::Text, &text);
        for item in items {
            assert_eq!(item.citations.len(), 1, "{item:?}");
            let c = &item.citations[0];
            assert!(c.outlet.as_deref().unwrap().starts_with("Outlet "));
            assert!(c.cited_date.as_deref().unwrap().starts_with("2020-12-"));
            cited.push(c.url.clone().unwrap());
        }
    }
    assert_eq!(cited, urls);
    let first = std::fs::read_to_string(&files[0]).unwrap();
    assert!(first.contains(&format!("Outlet 0: {}", simweb::headline(0, 0))));
}

/// The pieces later end-to-end tests combine: citewatch's own fetcher reads the
/// simulated web as it reads real sites (redirects, validators, robots, GBK,
/// gzip, 5xx).
#[tokio::test]
async fn the_fetcher_reads_the_simulated_web() {
    use citewatch::config::FetchConfig;
    use citewatch::fetch::{FetchRequest, Fetcher, Outcome};

    let web = SimWeb::start(SimWebOptions {
        hosts: 2,
        articles_per_host: 20,
        gzip: true,
        ..SimWebOptions::default()
    })
    .await
    .unwrap();
    let fetcher = Fetcher::builder(FetchConfig {
        requests_per_second: 0.0,
        retries: 0,
        allow_networks: vec!["127.0.0.0/8".parse().unwrap()],
        ..FetchConfig::default()
    })
    .build()
    .unwrap();
    let fetch = |url: String| {
        let fetcher = fetcher.clone();
        async move { fetcher.fetch(&FetchRequest::new(url)).await }
    };
    let header = |outcome: &Outcome, name: &str| {
        outcome
            .headers()
            .unwrap()
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };

    let plain = get(&client(), &web.article_url(0, 1).unwrap()).await.2;
    let ok = fetch(web.article_url(0, 1).unwrap()).await;
    assert_eq!(ok.outcome.status(), Some(200), "{:?}", ok.outcome);
    assert_eq!(ok.body().unwrap().to_vec().unwrap(), plain, "gzip decoded");
    let etag = header(&ok.outcome, "etag").unwrap();
    let again = fetcher
        .fetch(&FetchRequest {
            etag: Some(etag),
            ..FetchRequest::new(web.article_url(0, 1).unwrap())
        })
        .await;
    assert_eq!(again.outcome.kind(), "not_modified");

    web.set_kind(
        0,
        "/news/2.html",
        PageKind::MovedTo("/2021/moved-2.html".into()),
    )
    .unwrap();
    let moved = fetch(web.article_url(0, 2).unwrap()).await;
    assert_eq!(moved.hops.len(), 1);
    assert_eq!(moved.final_url, web.url(0, "/2021/moved-2.html").unwrap());
    assert_eq!(moved.outcome.status(), Some(200));

    web.set_kind(0, "/news/3.html", PageKind::Gbk).unwrap();
    let gbk = fetch(web.article_url(0, 3).unwrap()).await;
    assert_eq!(
        header(&gbk.outcome, "content-type").as_deref(),
        Some("text/html; charset=gbk")
    );

    web.set_kind(0, "/news/4.html", PageKind::Flaky503).unwrap();
    assert_eq!(
        fetch(web.article_url(0, 4).unwrap()).await.outcome.status(),
        Some(503)
    );

    web.set_kind(0, "/news/5.html", PageKind::RedirectHome)
        .unwrap();
    let home = fetch(web.article_url(0, 5).unwrap()).await;
    assert_eq!(home.final_url, web.base_url(0).unwrap());

    web.set_robots(1, "User-agent: *\nDisallow: /news/\n")
        .unwrap();
    let disallowed = fetch(web.article_url(1, 1).unwrap()).await;
    assert_eq!(disallowed.outcome.kind(), "robots_disallowed");
    assert_eq!(web.path_requests(1, "/news/1.html"), 0, "nothing sent");
}
