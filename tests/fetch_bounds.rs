//! Body bounds, alone in their own test binary so the process's memory figures
//! are theirs: an endless body and a gzip bomb stop at the cap, memory stays flat.

mod common;

use citewatch::config::FetchConfig;
use citewatch::fetch::{FetchRequest, Fetcher, Outcome};
use common::web::TestWeb;

fn rss_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test]
async fn endless_body_and_gzip_bomb_stop_at_the_cap_with_flat_memory() {
    let web = TestWeb::start("127.0.0.1").await;
    // Build the bomb before measuring: it is the server's memory, not the fetcher's.
    let bomb = common::web::gzip_bomb(64 << 20);
    assert!(
        bomb.len() < 1 << 20,
        "a real bomb: {} compressed bytes",
        bomb.len()
    );
    let cap: u64 = 4 << 20;
    let cfg = FetchConfig {
        requests_per_second: 0.0,
        respect_robots: false,
        max_body_bytes: cap,
        allow_networks: vec!["127.0.0.1/32".parse().unwrap()],
        ..FetchConfig::default()
    };
    let f = Fetcher::builder(cfg).build().unwrap();
    let _ = f
        .fetch(&FetchRequest::new(web.url("127.0.0.1", "/page/warmup")))
        .await;
    let baseline = rss_kib("VmRSS:");
    for path in ["/endless", "/bomb"] {
        let r = f
            .fetch(&FetchRequest::new(web.url("127.0.0.1", path)))
            .await;
        match &r.outcome {
            Outcome::BodyTooLarge {
                body,
                limit,
                status,
                ..
            } => {
                assert_eq!((*limit, body.len(), *status), (cap, cap, 200), "{path}");
                assert!(body.truncated() && body.is_spilled(), "{path}");
            }
            other => panic!("{path}: {other:?}"),
        }
    }
    let peak = rss_kib("VmHWM:");
    let grown_mib = peak.saturating_sub(baseline) as f64 / 1024.0;
    assert!(
        grown_mib < (cap >> 20) as f64 + 50.0,
        "memory grew {grown_mib:.1} MiB past the baseline for a {} MiB cap",
        cap >> 20
    );
}
