//! robots.txt: fetched once per origin per run, cached, obeyed for our agent.
//!
//! Following RFC 9309: a 4xx robots.txt means no rules; a 5xx (or 429), or a
//! server that takes the connection and then fails to answer (a timeout, a
//! reset, an answer that cannot be read), means "disallow everything for
//! now", which is the server's failure of the moment, not its policy
//! ([`Rules::Unavailable`]: a page not fetched for it is a network-class
//! failure, never "robots.txt disallows"). When no server takes the
//! connection at all (DNS, refused, no route, TLS), the page fetch itself is
//! let through: it can load no one, and it records the real failure (a host
//! name gone must still become `dead`) rather than a robots verdict.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

/// Bytes of robots.txt parsed at most (RFC 9309 asks for at least 500 KiB).
pub const MAX_ROBOTS_BYTES: u64 = 512 * 1024;

/// The longest `Crawl-delay` honoured: a host asking for more still gets a
/// request every half minute, and a source there waits for later nights when
/// the time budget ends the run, rather than the host going unchecked.
pub const MAX_CRAWL_DELAY: std::time::Duration = std::time::Duration::from_secs(30);

/// The rules for one origin.
pub enum Rules {
    /// No robots.txt, or one that restricts nothing we can read.
    AllowAll,
    /// The server failed to serve robots.txt (what it did, as "answered
    /// HTTP 503" or "timed out: …"): stay away for this run.
    Unavailable(String),
    /// Parsed rules.
    Parsed(Box<texting_robots::Robot>),
}

impl Rules {
    /// Whether `url` may be fetched.
    pub fn allowed(&self, url: &str) -> bool {
        match self {
            Rules::AllowAll => true,
            Rules::Unavailable(_) => false,
            Rules::Parsed(robot) => robot.allowed(url),
        }
    }

    /// The `Crawl-delay` our agent's group asks for, at most
    /// [`MAX_CRAWL_DELAY`]. RFC 9309 leaves the field out, but sites that set
    /// it are saying how hard they can be asked, and a nightly check has
    /// nights to spare.
    pub fn crawl_delay(&self) -> Option<std::time::Duration> {
        let Rules::Parsed(robot) = self else {
            return None;
        };
        let secs = robot.delay.filter(|d| d.is_finite() && *d > 0.0)?;
        // Capped before it becomes a Duration: `1e30` parses, and a
        // Duration of it would panic.
        Some(std::time::Duration::from_secs_f32(
            secs.min(MAX_CRAWL_DELAY.as_secs_f32()),
        ))
    }

    /// Rules from the answer to a robots.txt request: `None` when no answer came.
    pub fn from_answer(status: Option<u16>, body: Option<&[u8]>, agent: &str) -> Rules {
        match status {
            Some(200..=299) => match texting_robots::Robot::new(agent, body.unwrap_or_default()) {
                Ok(robot) => Rules::Parsed(Box::new(robot)),
                Err(_) => Rules::AllowAll,
            },
            Some(s @ (429 | 500..=599)) => Rules::Unavailable(format!("answered HTTP {s}")),
            _ => Rules::AllowAll,
        }
    }
}

/// The product token robots.txt groups are matched against: the user agent's
/// first word, without its version.
pub fn agent_token(user_agent: &str) -> &str {
    let first = user_agent.split_whitespace().next().unwrap_or(user_agent);
    first.split('/').next().unwrap_or(first)
}

/// One fetch of robots.txt per origin, shared by every request to it.
#[derive(Default)]
pub struct RobotsCache {
    entries: Mutex<HashMap<String, Arc<OnceCell<Arc<Rules>>>>>,
}

impl RobotsCache {
    /// The rules for `origin`, calling `load` only the first time it is asked for
    /// (concurrent askers wait for that one load).
    pub async fn rules<F, Fut>(&self, origin: &str, load: F) -> Arc<Rules>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Rules>,
    {
        let cell = {
            let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            entries.entry(origin.to_string()).or_default().clone()
        };
        cell.get_or_init(|| async { Arc::new(load().await) })
            .await
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_crawl_delay_is_our_groups_and_capped() {
        let delay = |txt: &str| {
            Rules::from_answer(Some(200), Some(txt.as_bytes()), "citewatch").crawl_delay()
        };
        assert_eq!(
            delay("User-agent: *\nCrawl-delay: 2.5\n"),
            Some(Duration::from_millis(2500))
        );
        assert_eq!(
            delay("User-agent: *\nCrawl-delay: 86400\n"),
            Some(MAX_CRAWL_DELAY)
        );
        // Past what a Duration holds: still the cap, not a panic.
        for huge in ["99999999999999999999999", "1e30"] {
            assert_eq!(
                delay(&format!("User-agent: *\nCrawl-delay: {huge}\n")),
                Some(MAX_CRAWL_DELAY),
                "{huge}"
            );
        }
        assert_eq!(delay("User-agent: *\nCrawl-delay: 0\n"), None);
        assert_eq!(delay("User-agent: *\nDisallow: /x\n"), None);
        assert_eq!(
            delay(
                "User-agent: otherbot\nCrawl-delay: 9\n\nUser-agent: citewatch\nCrawl-delay: 1\n"
            ),
            Some(Duration::from_secs(1))
        );
        assert_eq!(Rules::AllowAll.crawl_delay(), None);
    }

    #[test]
    fn answers_become_rules() {
        let txt = b"User-agent: citewatch\nDisallow: /private/\n\nUser-agent: *\nDisallow: /\n";
        let r = Rules::from_answer(Some(200), Some(txt), "citewatch");
        assert!(r.allowed("http://a.example/news/1.html"));
        assert!(!r.allowed("http://a.example/private/x"));
        let other = Rules::from_answer(Some(200), Some(txt), "otherbot");
        assert!(!other.allowed("http://a.example/news/1.html"));
        assert!(Rules::from_answer(Some(404), None, "citewatch").allowed("http://a.example/x"));
        assert!(!Rules::from_answer(Some(503), None, "citewatch").allowed("http://a.example/x"));
        assert!(Rules::from_answer(None, None, "citewatch").allowed("http://a.example/x"));
    }

    #[test]
    fn agent_token_is_the_product_name() {
        assert_eq!(agent_token("citewatch/0.1.0 (+https://x)"), "citewatch");
        assert_eq!(agent_token("MyBot"), "MyBot");
    }

    #[tokio::test]
    async fn loads_once_per_origin() {
        let cache = RobotsCache::default();
        let loads = std::sync::atomic::AtomicUsize::new(0);
        for _ in 0..3 {
            let r = cache
                .rules("http://a.example", || async {
                    loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    Rules::Unavailable("answered HTTP 503".into())
                })
                .await;
            assert!(!r.allowed("http://a.example/"));
        }
        assert_eq!(loads.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
