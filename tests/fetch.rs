//! The fetcher against a local test web: pacing, retries, Retry-After, bounds,
//! redirects, the address guard, robots.txt and conditional requests.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use citewatch::config::{FetchConfig, HostOverride};
use citewatch::fetch::{FetchReport, FetchRequest, Fetcher, Outcome};
use citewatch::time::Duration as CwDuration;
use common::web::TestWeb;

const NAMES: &[&str] = &[
    "a.test",
    "b.test",
    "c.test",
    "slow.test",
    "robots.test",
    "www.test",
];

fn config() -> FetchConfig {
    FetchConfig {
        requests_per_second: 0.0,
        respect_robots: false,
        allow_networks: vec!["127.0.0.1/32".parse().unwrap()],
        timeout: CwDuration::from_secs(10),
        ..FetchConfig::default()
    }
}

/// A fetcher whose test host names all resolve to `web`.
fn fetcher(web: &TestWeb, config: FetchConfig) -> Fetcher {
    let mut b = Fetcher::builder(config);
    for name in NAMES {
        b = b.resolve(name, vec![web.addr]);
    }
    b.build().unwrap()
}

async fn get(f: &Fetcher, url: &str) -> FetchReport {
    f.fetch(&FetchRequest::new(url)).await
}

fn status(r: &FetchReport) -> Option<u16> {
    match &r.outcome {
        Outcome::Response { status, .. } => Some(*status),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_host_pacing_is_measured_at_the_server_and_hosts_do_not_slow_each_other() {
    let web = TestWeb::start("127.0.0.1").await;
    let mut cfg = config();
    cfg.requests_per_second = 2.0;
    cfg.burst = 1;
    cfg.hosts.insert(
        "slow.test".into(),
        HostOverride {
            requests_per_second: Some(0.25),
            ..HostOverride::default()
        },
    );
    let f = fetcher(&web, cfg);
    let mut urls: Vec<String> = Vec::new();
    for i in 0..10 {
        for host in ["a.test", "b.test", "c.test"] {
            urls.push(web.url(host, &format!("/page/{i}")));
        }
    }
    for i in 0..3 {
        urls.push(web.url("slow.test", &format!("/page/{i}")));
    }
    let t0 = Instant::now();
    let reports = futures_util::future::join_all(urls.iter().map(|u| get(&f, u))).await;
    assert!(
        reports.iter().all(|r| status(r) == Some(200)),
        "all fetched"
    );
    let hits = web.hits();
    let mut fast_done = Duration::ZERO;
    for host in ["a.test", "b.test", "c.test", "slow.test"] {
        let mut times: Vec<Instant> = hits
            .iter()
            .filter(|h| h.host == host)
            .map(|h| h.at)
            .collect();
        times.sort();
        let interval = if host == "slow.test" { 4.0 } else { 0.5 };
        for pair in times.windows(2) {
            let gap = (pair[1] - pair[0]).as_secs_f64();
            assert!(
                gap >= interval * 0.9,
                "{host}: two requests {gap:.3}s apart"
            );
        }
        if host != "slow.test" {
            assert_eq!(times.len(), 10);
            fast_done = fast_done.max(*times.last().unwrap() - t0);
        }
    }
    let all = t0.elapsed();
    assert!(
        fast_done >= Duration::from_secs_f64(4.5 * 0.9),
        "30 URLs took {fast_done:?}"
    );
    assert!(
        fast_done < Duration::from_secs_f64(6.5),
        "fast hosts were held up: {fast_done:?}"
    );
    assert!(
        all >= Duration::from_secs_f64(8.0 * 0.9),
        "slow host paced: {all:?}"
    );
}

/// `localhost.` is `localhost` written as an absolute name: the same host,
/// so the same `[fetch.hosts]` entry and the same pace, whichever spelling a
/// citation or a redirect uses. (`localhost` names need no lookup.)
#[tokio::test]
async fn a_host_written_with_a_trailing_dot_is_paced_and_configured_as_itself() {
    let web = TestWeb::start("127.0.0.1").await;
    let mut cfg = config();
    cfg.retries = 2;
    cfg.hosts.insert(
        "localhost".into(),
        HostOverride {
            requests_per_second: Some(1.0),
            retries: Some(0),
            ..HostOverride::default()
        },
    );
    let f = Fetcher::builder(cfg).build().unwrap();
    let urls = [
        web.url("localhost", "/page/1"),
        web.url("localhost.", "/page/2"),
    ];
    let (plain, dotted) = tokio::join!(get(&f, &urls[0]), get(&f, &urls[1]));
    assert_eq!((status(&plain), status(&dotted)), (Some(200), Some(200)));
    let mut times: Vec<Instant> = web.hits().iter().map(|h| h.at).collect();
    times.sort();
    assert_eq!(times.len(), 2);
    assert!(
        times[1] - times[0] >= Duration::from_millis(900),
        "the host's two spellings were asked {:?} apart",
        times[1] - times[0]
    );
    // The host's own `retries = 0`, not the global 2.
    let busy = get(&f, &web.url("localhost.", "/always503")).await;
    assert_eq!((status(&busy), busy.attempts), (Some(503), 1));
}

#[tokio::test]
async fn retry_after_is_honoured_then_the_retry_succeeds() {
    let web = TestWeb::start("127.0.0.1").await;
    let f = fetcher(&web, config());
    let r = get(&f, &web.url("a.test", "/ratelimited")).await;
    assert_eq!(status(&r), Some(200), "{:?}", r.outcome);
    assert_eq!(r.retries(), 1);
    let hits = web.hits_for("a.test", "/ratelimited");
    assert_eq!(hits.len(), 2);
    let gap = hits[1].at - hits[0].at;
    assert!(gap >= Duration::from_millis(1990), "retried after {gap:?}");
}

#[tokio::test]
async fn retry_after_for_one_url_holds_the_whole_host_but_no_other() {
    let web = TestWeb::start("127.0.0.1").await;
    let f = fetcher(&web, config());
    let limited = web.url("a.test", "/ratelimited");
    let first = get(&f, &limited);
    let sibling = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        get(&f, &web.url("a.test", "/page/1")).await
    };
    let other = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        get(&f, &web.url("b.test", "/page/1")).await
    };
    let (_, s, o) = tokio::join!(first, sibling, other);
    assert_eq!((status(&s), status(&o)), (Some(200), Some(200)));
    let t429 = web.hits_for("a.test", "/ratelimited")[0].at;
    let sib = web.hits_for("a.test", "/page/1")[0].at;
    let oth = web.hits_for("b.test", "/page/1")[0].at;
    assert!(
        sib - t429 >= Duration::from_millis(1990),
        "sibling waited only {:?}",
        sib - t429
    );
    assert!(
        oth - t429 < Duration::from_millis(1500),
        "other host held up {:?}",
        oth - t429
    );
}

#[tokio::test]
async fn retry_after_beyond_the_cap_is_recorded_as_rate_limited() {
    let web = TestWeb::start("127.0.0.1").await;
    let f = fetcher(&web, config());
    let t = Instant::now();
    let r = get(&f, &web.url("a.test", "/ratelimited-long")).await;
    assert!(
        matches!(
            r.outcome,
            Outcome::RateLimited {
                retry_after_secs: 86400,
                status: Some(429)
            }
        ),
        "{:?}",
        r.outcome
    );
    assert!(t.elapsed() < Duration::from_secs(2), "did not wait");
    // The host's other pages are not asked for while its wish stands: each
    // would only be refused again. Other hosts are untouched.
    let sibling = get(&f, &web.url("a.test", "/page/1")).await;
    assert!(
        matches!(
            sibling.outcome,
            Outcome::RateLimited {
                status: Some(429),
                ..
            }
        ),
        "{:?}",
        sibling.outcome
    );
    assert!(web.hits_for("a.test", "/page/1").is_empty());
    // Answered 429 itself, the first; the sibling was answered nothing.
    assert_eq!(
        (r.answered_status(), sibling.answered_status()),
        (Some(429), None)
    );
    assert_eq!(
        status(&get(&f, &web.url("b.test", "/page/1")).await),
        Some(200)
    );
    assert!(t.elapsed() < Duration::from_secs(2), "did not wait");
}

/// A Retry-After past what the clock can add is a wait too long like any
/// other, not a panic that ends the run.
#[tokio::test]
async fn a_retry_after_beyond_any_clock_is_rate_limited() {
    let web = TestWeb::start("127.0.0.1").await;
    let f = fetcher(&web, config());
    let r = get(&f, &web.url("a.test", "/ratelimited-forever")).await;
    assert!(
        matches!(
            r.outcome,
            Outcome::RateLimited {
                retry_after_secs: u64::MAX,
                status: Some(503)
            }
        ),
        "{:?}",
        r.outcome
    );
    let sibling = get(&f, &web.url("a.test", "/page/1")).await;
    assert!(
        matches!(sibling.outcome, Outcome::RateLimited { .. }),
        "{:?}",
        sibling.outcome
    );
    assert!(web.hits_for("a.test", "/page/1").is_empty());
}

#[tokio::test]
async fn a_429_without_retry_after_slows_the_whole_host() {
    let web = TestWeb::start("127.0.0.1").await;
    // No retry of its own, whose backoff would space the next page anyway.
    let mut cfg = config();
    cfg.retries = 0;
    let f = fetcher(&web, cfg);
    let limited = get(&f, &web.url("a.test", "/ratelimited-bare")).await;
    assert_eq!(status(&limited), Some(429));
    let sibling = get(&f, &web.url("a.test", "/page/1")).await;
    let other = get(&f, &web.url("b.test", "/page/1")).await;
    assert_eq!((status(&sibling), status(&other)), (Some(200), Some(200)));
    let t429 = web.hits_for("a.test", "/ratelimited-bare")[0].at;
    let sib = web.hits_for("a.test", "/page/1")[0].at;
    // The first backoff is at least half of 0.5 s.
    assert!(
        sib - t429 >= Duration::from_millis(240),
        "the host's next page came {:?} after its 429",
        sib - t429
    );
}

#[tokio::test]
async fn retry_after_zero_still_spaces_the_retries_by_the_backoff() {
    let web = TestWeb::start("127.0.0.1").await;
    let mut cfg = config();
    cfg.retries = 2;
    let f = fetcher(&web, cfg);
    let r = get(&f, &web.url("a.test", "/busy-retry-now")).await;
    assert_eq!((status(&r), r.attempts), (Some(503), 3));
    let hits = web.hits_for("a.test", "/busy-retry-now");
    assert_eq!(hits.len(), 3);
    // The backoff is at least half of 0.5 s, then of 1 s.
    let gaps = [hits[1].at - hits[0].at, hits[2].at - hits[1].at];
    assert!(
        gaps[0] >= Duration::from_millis(240) && gaps[1] >= Duration::from_millis(490),
        "retried after {gaps:?}"
    );
}

#[tokio::test]
async fn a_503_then_200_is_one_success_with_the_retry_counted() {
    let web = TestWeb::start("127.0.0.1").await;
    let f = fetcher(&web, config());
    let r = get(&f, &web.url("a.test", "/flaky")).await;
    assert_eq!(status(&r), Some(200));
    assert_eq!((r.attempts, r.retries()), (2, 1));
    assert_eq!(r.body().unwrap().to_vec().unwrap(), b"recovered");
    let mut cfg = config();
    cfg.retries = 2;
    let f = fetcher(&web, cfg);
    let r = get(&f, &web.url("a.test", "/always503")).await;
    assert_eq!(
        (status(&r), r.attempts),
        (Some(503), 3),
        "retries exhausted, the answer stands"
    );
}

#[tokio::test]
async fn every_request_says_who_to_write_to_when_from_is_set() {
    let web = TestWeb::start("127.0.0.1").await;
    let mut cfg = config();
    cfg.respect_robots = true;
    cfg.from = Some("ops@example.org".into());
    let f = fetcher(&web, cfg);
    assert_eq!(
        status(&get(&f, &web.url("a.test", "/chain/1")).await),
        Some(200)
    );
    let hits = web.hits();
    assert_eq!(hits.len(), 5, "robots.txt, three hops and the page");
    for h in &hits {
        assert_eq!(
            h.headers.get("from").map(|v| v.to_str().unwrap()),
            Some("ops@example.org"),
            "{}",
            h.path
        );
    }
    let f = fetcher(&web, config());
    get(&f, &web.url("b.test", "/chain/end")).await;
    assert!(
        web.hits_for("b.test", "/chain/end")[0]
            .headers
            .get("from")
            .is_none()
    );
}

#[tokio::test]
async fn a_page_many_redirects_lead_to_is_fetched_once() {
    let web = TestWeb::start("127.0.0.1").await;
    let f = fetcher(&web, config());
    for i in 0..3 {
        let r = get(&f, &web.url("a.test", &format!("/pensioned/{i}"))).await;
        assert_eq!((status(&r), r.hops.len(), r.attempts), (Some(200), 1, 1));
        assert!(r.final_url.ends_with("/front"), "{}", r.final_url);
        assert!(
            String::from_utf8(r.body().unwrap().to_vec().unwrap())
                .unwrap()
                .contains("Today's news")
        );
    }
    assert_eq!(web.hits_for("a.test", "/front").len(), 1);
    // Asked for itself, the page is fetched as usual.
    get(&f, &web.url("a.test", "/front")).await;
    assert_eq!(web.hits_for("a.test", "/front").len(), 2);
    // A page that sets a cookie may answer each visitor differently.
    for i in 0..2 {
        let r = get(&f, &web.url("a.test", &format!("/pensioned-ck/{i}"))).await;
        assert_eq!(status(&r), Some(200));
    }
    assert_eq!(web.hits_for("a.test", "/front-ck").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetches_reaching_a_landing_while_it_is_requested_wait_for_its_answer() {
    let web = TestWeb::start("127.0.0.1").await;
    let f = fetcher(&web, config());
    let urls: Vec<String> = (0..4)
        .map(|i| web.url("a.test", &format!("/retired-slow/{i}")))
        .collect();
    let reports = futures_util::future::join_all(urls.iter().map(|u| get(&f, u))).await;
    for r in &reports {
        assert_eq!((status(r), r.hops.len()), (Some(200), 1), "{:?}", r.outcome);
        assert!(r.final_url.ends_with("/slower/ok/front"), "{}", r.final_url);
    }
    assert_eq!(web.hits_for("a.test", "/slower/ok/front").len(), 1);
    // A landing whose answer cannot be shared is fetched by each: those
    // that waited for the first go on by themselves.
    let urls: Vec<String> = (0..3)
        .map(|i| web.url("a.test", &format!("/retired-slow-ck/{i}")))
        .collect();
    let reports = futures_util::future::join_all(urls.iter().map(|u| get(&f, u))).await;
    for r in &reports {
        assert_eq!(status(r), Some(200), "{:?}", r.outcome);
    }
    assert_eq!(web.hits_for("a.test", "/front-ck-slow").len(), 3);
}

#[tokio::test]
async fn a_landing_busy_at_first_is_kept_once_it_answers() {
    let web = TestWeb::start("127.0.0.1").await;
    let mut cfg = config();
    cfg.retries = 0;
    let f = fetcher(&web, cfg);
    let mut statuses = Vec::new();
    for i in 0..5 {
        let r = get(&f, &web.url("a.test", &format!("/retired-flaky/{i}"))).await;
        statuses.push(status(&r));
    }
    assert_eq!(
        statuses,
        [Some(503), Some(200), Some(200), Some(200), Some(200)]
    );
    // The 503 was not kept, nor did it stop the page that came next from
    // being kept for the rest.
    assert_eq!(web.hits_for("a.test", "/flaky").len(), 2);
}

#[tokio::test]
async fn a_redirect_and_a_retried_error_keep_their_connection() {
    // Both unkept answers come with a page; read, the connection is used
    // again, so the three requests of one fetch cost the host one connection.
    let web = TestWeb::start("127.0.0.1").await;
    let f = fetcher(&web, config());
    let r = get(&f, &web.url("a.test", "/moved-with-page")).await;
    assert_eq!(status(&r), Some(200));
    assert_eq!(r.body().unwrap().to_vec().unwrap(), b"recovered");
    let hits = web.hits();
    let paths: Vec<&str> = hits.iter().map(|h| h.path.as_str()).collect();
    assert_eq!(
        paths,
        ["/moved-with-page", "/flaky-with-page", "/flaky-with-page"]
    );
    let peers: std::collections::BTreeSet<_> = hits.iter().map(|h| h.peer.unwrap()).collect();
    assert_eq!(peers.len(), 1, "connections used: {peers:?}");
}

#[tokio::test]
async fn a_trickling_server_hits_the_total_timeout() {
    let web = TestWeb::start("127.0.0.1").await;
    let mut cfg = config();
    cfg.timeout = CwDuration::from_secs(3);
    let f = fetcher(&web, cfg);
    let t = Instant::now();
    let r = get(&f, &web.url("a.test", "/trickle")).await;
    let took = t.elapsed();
    assert!(
        matches!(r.outcome, Outcome::Timeout { .. }),
        "{:?}",
        r.outcome
    );
    assert!(
        took >= Duration::from_secs(2) && took <= Duration::from_secs(4),
        "{took:?}"
    );
    assert_eq!(r.attempts, 1, "a body cut by the timeout is not retried");
}

#[tokio::test]
async fn redirect_loop_and_chain() {
    let web = TestWeb::start("127.0.0.1").await;
    let f = fetcher(&web, config());
    let r = get(&f, &web.url("a.test", "/loop/a")).await;
    let start = web.url("a.test", "/loop/a");
    assert!(
        matches!(&r.outcome, Outcome::TooManyRedirects { limit: 10, repeated: Some(u) } if *u == start),
        "{:?}",
        r.outcome
    );
    assert_eq!(
        r.outcome.detail(),
        format!("redirect loop: {start} was seen before in the chain")
    );
    assert_eq!(r.hops.len(), 11);
    let r = get(&f, &web.url("a.test", "/chain/1")).await;
    assert_eq!(status(&r), Some(200));
    let hops: Vec<(u16, &str, &str)> = r
        .hops
        .iter()
        .map(|h| (h.status, h.location.as_str(), h.resolved.as_str()))
        .collect();
    let p = web.port();
    assert_eq!(
        hops,
        vec![
            (
                301,
                "/chain/2",
                format!("http://a.test:{p}/chain/2").as_str()
            ),
            (
                301,
                format!("http://a.test:{p}/chain/3").as_str(),
                format!("http://a.test:{p}/chain/3").as_str()
            ),
            (301, "end", format!("http://a.test:{p}/chain/end").as_str()),
        ]
    );
    assert_eq!(r.final_url, format!("http://a.test:{p}/chain/end"));
    let r = get(&f, &web.url("a.test", "/to-ftp")).await;
    assert!(
        matches!(r.outcome, Outcome::InvalidUrl { .. }),
        "{:?}",
        r.outcome
    );
}

/// A chain longer than the limit that would end at the page was told as a
/// redirect loop: it is "more than N redirects", and no loop.
#[tokio::test]
async fn a_long_chain_is_too_many_redirects_not_a_loop() {
    let web = TestWeb::start("127.0.0.1").await;
    let f = fetcher(&web, config());
    let r = get(&f, &web.url("a.test", "/long/0")).await;
    assert!(
        matches!(
            r.outcome,
            Outcome::TooManyRedirects {
                limit: 10,
                repeated: None
            }
        ),
        "{:?}",
        r.outcome
    );
    assert_eq!(r.outcome.detail(), "more than 10 redirects");
    // Allowed its twelve hops, it arrives.
    let mut cfg = config();
    cfg.max_redirects = 12;
    let r = get(&fetcher(&web, cfg), &web.url("a.test", "/long/0")).await;
    assert_eq!(status(&r), Some(200), "{:?}", r.outcome);
    assert_eq!(r.hops.len(), 12);
}

/// The forbidden side: a loopback address outside `allow_networks`, so that a
/// guard bug could only ever reach this test's own server.
async fn forbidden_pair() -> (TestWeb, TestWeb, Fetcher) {
    let web = TestWeb::start("127.0.0.1").await;
    let forbidden = TestWeb::start("127.0.0.2").await;
    web.state.forbidden_port.store(
        forbidden.port() as usize,
        std::sync::atomic::Ordering::SeqCst,
    );
    let f = Fetcher::builder(config())
        .resolve("a.test", vec![web.addr])
        .resolve("forbidden.test", vec![forbidden.addr])
        .resolve("mixed.test", vec![forbidden.addr, web.addr])
        .build()
        .unwrap();
    (web, forbidden, f)
}

#[tokio::test]
async fn the_address_guard_refuses_before_connecting() {
    let (web, forbidden, f) = forbidden_pair().await;
    let p = forbidden.port();
    for url in [
        web.url("a.test", "/to-forbidden-ip"),
        web.url("a.test", "/to-forbidden-name"),
        format!("http://127.0.0.2:{p}/secret"),
        format!("http://forbidden.test:{p}/secret"),
        format!("http://[::ffff:127.0.0.2]:{p}/secret"),
    ] {
        let r = get(&f, &url).await;
        match &r.outcome {
            Outcome::AddressRefused { detail } => assert!(detail.contains("127.0.0.2"), "{detail}"),
            other => panic!("{url}: {other:?}"),
        }
    }
    assert_eq!(
        forbidden.hits().len(),
        0,
        "the forbidden server saw a request"
    );
    // A host resolving to both: only the allowed address is used.
    let r = get(&f, &format!("http://mixed.test:{}/page/1", web.port())).await;
    assert_eq!(status(&r), Some(200));
    assert_eq!(forbidden.hits().len(), 0);
    // And with the address allowed, the same URL goes through: the refusal was the guard's.
    let mut cfg = config();
    cfg.allow_networks.push("127.0.0.2/32".parse().unwrap());
    let f = Fetcher::builder(cfg).build().unwrap();
    let r = get(&f, &format!("http://127.0.0.2:{p}/secret")).await;
    assert_eq!(status(&r), Some(200));
    assert_eq!(forbidden.hits().len(), 1);
}

/// `localhost.` is `localhost` written as an absolute name: one host, so one
/// robots.txt, asked once a run and obeyed under either spelling.
#[tokio::test]
async fn a_host_written_with_a_trailing_dot_has_one_robots_txt() {
    let web = TestWeb::start("127.0.0.1").await;
    web.set_robots("localhost", "User-agent: *\nDisallow: /private/\n");
    let mut cfg = config();
    cfg.respect_robots = true;
    let f = Fetcher::builder(cfg).build().unwrap();
    let r = get(&f, &web.url("localhost", "/page/1")).await;
    assert_eq!(status(&r), Some(200));
    let r = get(&f, &web.url("localhost.", "/page/2")).await;
    assert_eq!(status(&r), Some(200));
    let r = get(&f, &web.url("localhost.", "/private/doc")).await;
    assert!(
        matches!(r.outcome, Outcome::RobotsDisallowed { .. }),
        "{:?}",
        r.outcome
    );
    let robots: Vec<String> = web
        .hits()
        .into_iter()
        .filter(|h| h.path == "/robots.txt")
        .map(|h| h.host)
        .collect();
    assert_eq!(robots, ["localhost"], "robots.txt asked once for the host");
}

#[tokio::test]
async fn robots_disallow_means_no_request() {
    let web = TestWeb::start("127.0.0.1").await;
    web.set_robots(
        "robots.test",
        "User-agent: citewatch\nDisallow: /private/\n\nUser-agent: *\nAllow: /\n",
    );
    let mut cfg = config();
    cfg.respect_robots = true;
    let f = fetcher(&web, cfg);
    let r = get(&f, &web.url("robots.test", "/private/doc")).await;
    assert!(
        matches!(r.outcome, Outcome::RobotsDisallowed { .. }),
        "{:?}",
        r.outcome
    );
    assert_eq!(r.attempts, 0);
    let r = get(&f, &web.url("robots.test", "/page/1")).await;
    assert_eq!(status(&r), Some(200));
    assert!(web.hits_for("robots.test", "/private/doc").is_empty());
    assert_eq!(
        web.hits_for("robots.test", "/robots.txt").len(),
        1,
        "robots.txt fetched once"
    );
    let mut cfg = config();
    cfg.respect_robots = false;
    let r = get(&fetcher(&web, cfg), &web.url("robots.test", "/private/doc")).await;
    assert_eq!(status(&r), Some(200), "respect_robots = false ignores it");
}

#[tokio::test]
async fn a_crawl_delay_spaces_the_hosts_requests_and_no_other() {
    let web = TestWeb::start("127.0.0.1").await;
    web.set_robots("robots.test", "User-agent: *\nCrawl-delay: 1\nAllow: /\n");
    let mut cfg = config();
    cfg.respect_robots = true;
    let f = fetcher(&web, cfg);
    let urls: Vec<String> = (0..3)
        .map(|i| web.url("robots.test", &format!("/page/{i}")))
        .chain((0..3).map(|i| web.url("a.test", &format!("/page/{i}"))))
        .collect();
    let reports = futures_util::future::join_all(urls.iter().map(|u| get(&f, u))).await;
    assert!(reports.iter().all(|r| status(r) == Some(200)));
    let times = |host: &str| {
        let mut t: Vec<Instant> = web
            .hits()
            .iter()
            .filter(|h| h.host == host && h.path != "/robots.txt")
            .map(|h| h.at)
            .collect();
        t.sort();
        t
    };
    let spaced = times("robots.test");
    assert_eq!(spaced.len(), 3);
    for pair in spaced.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(990),
            "two requests {:?} apart",
            pair[1] - pair[0]
        );
    }
    // Another host's robots.txt says nothing of the kind: spaced as the
    // first host is, its third request would come 2 s after its first.
    let free = times("a.test");
    assert!(free[2] - free[0] < Duration::from_millis(1900), "{free:?}");
}

#[tokio::test]
async fn a_robots_txt_the_server_takes_and_never_answers_keeps_us_away() {
    let web = TestWeb::start("127.0.0.1").await;
    web.set_robots("robots.test", "!hang");
    let mut cfg = config();
    cfg.respect_robots = true;
    cfg.timeout = CwDuration::from_secs(1);
    let f = fetcher(&web, cfg);
    let r = get(&f, &web.url("robots.test", "/page/1")).await;
    match &r.outcome {
        Outcome::RobotsUnavailable { why, .. } => {
            assert!(why.contains("could not be read"), "{why}")
        }
        other => panic!("{other:?}"),
    }
    assert!(web.hits_for("robots.test", "/page/1").is_empty());
    // No server at all: the page fetch goes ahead and records that.
    let mut cfg = config();
    cfg.respect_robots = true;
    let f = Fetcher::builder(cfg)
        .resolve("robots.test", vec!["127.0.0.1:9".parse().unwrap()])
        .build()
        .unwrap();
    let r = get(&f, "http://robots.test/page/1").await;
    assert!(
        matches!(r.outcome, Outcome::ConnectRefused { .. }),
        "{:?}",
        r.outcome
    );
}

/// Lowered page limits shrank the robots.txt fetch with them, below RFC
/// 9309's 500 KiB: a group past the cut went unread.
#[tokio::test]
async fn robots_txt_is_read_whole_whatever_the_page_limit() {
    let web = TestWeb::start("127.0.0.1").await;
    web.set_robots(
        "robots.test",
        &format!("{}User-agent: *\nDisallow: /\n", "# padding\n".repeat(300)),
    );
    let mut cfg = config();
    cfg.respect_robots = true;
    cfg.max_body_bytes = 1024;
    let f = fetcher(&web, cfg);
    let r = get(&f, &web.url("robots.test", "/page/1")).await;
    assert!(
        matches!(r.outcome, Outcome::RobotsDisallowed { .. }),
        "{:?}",
        r.outcome
    );
    assert!(web.hits_for("robots.test", "/page/1").is_empty());
}

/// A robots.txt past 512 KiB is read up to its last whole line: the line
/// the limit cut, read as written so far, was a broader rule
/// (`Allow: /public/` cut to `Allow: /`, which beat `Disallow: /`).
#[tokio::test]
async fn a_robots_txt_cut_at_the_limit_ends_at_its_last_whole_line() {
    let web = TestWeb::start("127.0.0.1").await;
    let head = "User-agent: *\nDisallow: /\n";
    let limit = 512 * 1024;
    let pad = "#".repeat(limit - 8 - head.len() - 1);
    let txt = format!("{head}{pad}\nAllow: /public/\n");
    assert_eq!(&txt[limit - 8..limit], "Allow: /");
    web.set_robots("robots.test", &txt);
    let mut cfg = config();
    cfg.respect_robots = true;
    let f = fetcher(&web, cfg);
    let r = get(&f, &web.url("robots.test", "/page/1")).await;
    assert!(
        matches!(r.outcome, Outcome::RobotsDisallowed { .. }),
        "{:?}",
        r.outcome
    );
}

#[tokio::test]
async fn robots_txt_is_read_for_the_agent_the_host_is_sent() {
    let web = TestWeb::start("127.0.0.1").await;
    let rules = "User-agent: SpecialBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n";
    web.set_robots("robots.test", rules);
    web.set_robots("a.test", rules);
    let mut cfg = config();
    cfg.respect_robots = true;
    cfg.hosts.insert(
        "robots.test".into(),
        HostOverride {
            user_agent: Some("SpecialBot/1.0 (+https://example.org/bot)".into()),
            ..HostOverride::default()
        },
    );
    let f = fetcher(&web, cfg);
    let r = get(&f, &web.url("robots.test", "/page/1")).await;
    assert!(
        matches!(r.outcome, Outcome::RobotsDisallowed { .. }),
        "the host's own agent is disallowed: {:?}",
        r.outcome
    );
    assert!(web.hits_for("robots.test", "/page/1").is_empty());
    // Hosts sent the global agent still fall under `*`.
    assert_eq!(
        status(&get(&f, &web.url("a.test", "/page/1")).await),
        Some(200)
    );
}

#[tokio::test]
async fn a_304_is_not_modified_only_in_answer_to_validators() {
    let web = TestWeb::start("127.0.0.1").await;
    let f = fetcher(&web, config());
    let url = web.url("a.test", "/always-304");
    // Unasked: the server sent no page, which must never read as "unchanged".
    let r = get(&f, &url).await;
    assert_eq!(status(&r), Some(304), "{:?}", r.outcome);
    let mut req = FetchRequest::new(url.as_str());
    req.etag = Some("\"v1\"".into());
    let r = f.fetch(&req).await;
    assert!(
        matches!(r.outcome, Outcome::NotModified { .. }),
        "{:?}",
        r.outcome
    );
}

#[tokio::test]
async fn etag_and_last_modified_round_trip_to_304() {
    let web = TestWeb::start("127.0.0.1").await;
    let f = fetcher(&web, config());
    let first = get(&f, &web.url("a.test", "/cached")).await;
    let headers = first.outcome.headers().unwrap().to_vec();
    let find = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let etag = find("etag");
    let last_modified = find("last-modified");
    assert!(etag.is_some() && last_modified.is_some());
    for (etag, last_modified) in [(etag.clone(), None), (None, last_modified.clone())] {
        let req = FetchRequest {
            url: web.url("a.test", "/cached"),
            etag,
            last_modified,
            ..FetchRequest::default()
        };
        let r = f.fetch(&req).await;
        assert!(
            matches!(r.outcome, Outcome::NotModified { .. }),
            "{:?}",
            r.outcome
        );
        assert!(r.body().is_none());
    }
}

#[tokio::test]
async fn malformed_urls_are_an_outcome_not_a_panic() {
    let f = Fetcher::builder(config()).build().unwrap();
    for url in [
        "htp://example.com",
        "http://",
        "not a url",
        "",
        "http://exa mple.com/",
        "https:///x",
        "javascript:alert(1)",
    ] {
        let r = get(&f, url).await;
        assert!(
            matches!(r.outcome, Outcome::InvalidUrl { .. }),
            "{url}: {:?}",
            r.outcome
        );
        assert_eq!(r.attempts, 0);
    }
}

#[tokio::test]
async fn dns_failure_and_refused_connection_are_typed() {
    // A name the override table maps nowhere, and a loopback port nobody listens on.
    let f = Fetcher::builder(config())
        .resolve("nowhere.test", Vec::<SocketAddr>::new())
        .build()
        .unwrap();
    let r = get(&f, "http://nowhere.test/x").await;
    assert!(matches!(r.outcome, Outcome::Dns { .. }), "{:?}", r.outcome);
    // An `.invalid` name is answered "no such name" at once (RFC 6761),
    // never asked of the network's resolver; worded so that it heads for dead.
    let r = get(&f, "http://gone.invalid/x").await;
    match &r.outcome {
        Outcome::Dns { detail } => {
            assert!(detail.contains("Name or service not known"), "{detail}")
        }
        other => panic!("{other:?}"),
    }
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut cfg = config();
    cfg.retries = 0;
    let f = Fetcher::builder(cfg).build().unwrap();
    let r = get(&f, &format!("http://{closed}/x")).await;
    assert!(
        matches!(r.outcome, Outcome::ConnectRefused { .. }),
        "{:?}",
        r.outcome
    );
    // Its account, which becomes evidence next to the URL, names neither the
    // URL again nor the cause twice.
    let detail = r.outcome.detail();
    assert!(!detail.contains(&closed.to_string()), "{detail}");
    assert!(detail.starts_with("Connection refused"), "{detail}");
}

/// A `localhost` name is the loopback addresses (RFC 6761), whatever the
/// system resolver makes of `news.localhost`: no query leaves the machine.
#[tokio::test]
async fn a_localhost_name_reaches_loopback_without_a_lookup() {
    let web = TestWeb::start("127.0.0.1").await;
    let f = Fetcher::builder(config()).build().unwrap();
    let r = get(&f, &web.url("news.localhost", "/article/churn")).await;
    assert_eq!(r.outcome.status(), Some(200), "{:?}", r.outcome);
}

#[tokio::test]
async fn a_body_that_does_not_decode_is_a_decoding_outcome() {
    let web = TestWeb::start("127.0.0.1").await;
    let f = fetcher(&web, config());
    let r = get(&f, &web.url("a.test", "/broken-gzip")).await;
    assert!(
        matches!(r.outcome, Outcome::Decoding { .. }),
        "{:?}",
        r.outcome
    );
}

/// A site that sends a first visit back to the same page with a cookie was
/// followed without the cookie until the redirect limit: a live page read as
/// a redirect loop.
#[tokio::test]
async fn a_cookie_gate_is_passed_and_the_next_fetch_starts_without_its_cookie() {
    let web = TestWeb::start("127.0.0.1").await;
    let f = fetcher(&web, config());
    let url = web.url("a.test", "/cookie-gate");
    for round in 1..=2 {
        let r = get(&f, &url).await;
        assert_eq!(status(&r), Some(200), "round {round}: {:?}", r.outcome);
        assert_eq!(r.final_url, url);
        assert_eq!(r.hops.len(), 1, "round {round}");
    }
    let cookies: Vec<Option<String>> = web
        .hits_for("a.test", "/cookie-gate")
        .into_iter()
        .map(|h| h.cookie)
        .collect();
    let gated = Some("ck=1".to_string());
    assert_eq!(
        cookies,
        [None, gated.clone(), None, gated],
        "each fetch starts without cookies and keeps what its answers set"
    );
}

#[tokio::test]
async fn a_retry_sends_the_cookie_the_failed_attempt_was_given() {
    let web = TestWeb::start("127.0.0.1").await;
    let f = fetcher(&web, config());
    let r = get(&f, &web.url("a.test", "/cookie-busy")).await;
    assert_eq!(status(&r), Some(200), "{:?}", r.outcome);
    assert_eq!(r.attempts, 2);
}

/// A loopback server that misbehaves below HTTP, as no framework lets one:
/// each connection's request path picks what it does wrong.
async fn raw_server() -> SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let line = String::from_utf8_lossy(&request);
                let path = line.split(' ').nth(1).unwrap_or("").to_string();
                let promised = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n";
                let half = [b'a'; 500];
                // Write errors are the client hanging up, which some modes expect.
                match path.as_str() {
                    // Half the promised body, then a clean close.
                    "/short-body" => {
                        let _ = conn.write_all(promised).await;
                        let _ = conn.write_all(&half).await;
                        let _ = conn.shutdown().await;
                    }
                    // Half the promised body, then a reset.
                    "/reset-mid-body" => {
                        let _ = conn.write_all(promised).await;
                        let _ = conn.write_all(&half).await;
                        let _ = conn.flush().await;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        let _ = conn.set_zero_linger();
                    }
                    // A response head of 3 MB.
                    "/huge-head" => {
                        let mut head = b"HTTP/1.1 200 OK\r\nX-Big: ".to_vec();
                        head.resize(head.len() + (3 << 20), b'a');
                        head.extend_from_slice(
                            b"\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                        );
                        let _ = conn.write_all(&head).await;
                    }
                    // Not a status line.
                    _ => {
                        let _ = conn.write_all(b"HTTP/1.1 abc nonsense\r\n\r\n").await;
                    }
                }
            });
        }
    });
    addr
}

/// A body cut short by the connection (a reset, or a close before its
/// Content-Length) was told as a body that did not decode: it is the network
/// failing mid-transfer, as a close before the headers is.
#[tokio::test]
async fn a_body_cut_short_by_the_connection_is_a_reset_not_a_decoding_failure() {
    let addr = raw_server().await;
    let f = Fetcher::builder(config()).build().unwrap();
    for path in ["/short-body", "/reset-mid-body"] {
        let r = get(&f, &format!("http://{addr}{path}")).await;
        assert!(
            matches!(r.outcome, Outcome::ConnectReset { .. }),
            "{path}: {:?}",
            r.outcome
        );
        let detail = r.outcome.detail();
        assert!(detail.contains("500 bytes of the body"), "{path}: {detail}");
    }
}

/// A 3 MB response head was told as "could not connect" (and retried as
/// one): the server connected and answered, with something not HTTP.
#[tokio::test]
async fn an_oversized_or_malformed_response_head_is_an_invalid_answer_not_a_connect_failure() {
    let addr = raw_server().await;
    let f = Fetcher::builder(config()).build().unwrap();
    for (path, says) in [
        ("/huge-head", "response head too large"),
        ("/bad-status", "invalid response head"),
    ] {
        let r = get(&f, &format!("http://{addr}{path}")).await;
        assert!(
            matches!(r.outcome, Outcome::Decoding { .. }),
            "{path}: {:?}",
            r.outcome
        );
        let detail = r.outcome.detail();
        assert!(detail.contains(says), "{path}: {detail}");
        assert_eq!(r.attempts, 1, "{path}: no retry of an answer");
    }
}

/// A TLS server on loopback presenting `certified`'s certificate, answering
/// every request it completes with a small page.
async fn tls_server(certified: rcgen::CertifiedKey<rcgen::KeyPair>) -> SocketAddr {
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key.into())
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake here.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = [0u8; 4096];
                let _ = tls.read(&mut buf).await;
                let _ = tls
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                    )
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    addr
}

/// State media often serve an expired or self-signed certificate. The
/// fetcher tells that from a refused or reset connection by rustls's own
/// words ("invalid peer certificate"), which a dependency upgrade could
/// change: this pins them against a real handshake, and its verdict class
/// (a network failure, never a page gone).
#[tokio::test]
async fn a_certificate_no_authority_vouches_for_is_a_tls_failure() {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap();
    let addr = tls_server(certified).await;
    let mut cfg = config();
    cfg.retries = 0;
    let f = Fetcher::builder(cfg).build().unwrap();
    let r = get(&f, &format!("https://{addr}/article")).await;
    match &r.outcome {
        Outcome::Tls { detail } => {
            assert_eq!(detail, "invalid peer certificate: UnknownIssuer")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(r.outcome.kind(), "tls");
    // An https URL whose server speaks plain HTTP fails the handshake too.
    let web = TestWeb::start("127.0.0.1").await;
    let mut cfg = config();
    cfg.retries = 0;
    let f = fetcher(&web, cfg);
    let plain = web
        .url("a.test", "/article/churn")
        .replacen("http://", "https://", 1);
    let r = get(&f, &plain).await;
    match &r.outcome {
        Outcome::Tls { detail } => {
            assert_eq!(
                detail,
                "received corrupt message of type InvalidContentType"
            )
        }
        other => panic!("{other:?}"),
    }
}
