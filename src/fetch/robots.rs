//! robots.txt: fetched once per origin per run, cached, obeyed for our agent.
//!
//! Following RFC 9309: a 4xx robots.txt means no rules; a 5xx (or 429), or a
//! server that takes the connection and then fails to answer (a timeout, a
//! reset, an answer that cannot be read), means "disallow everything for
//! now", which is the server's failure of the moment, not its policy
//! ([`Rules::Unavailable`]: a page not fetched for it is a network-class
//! failure, never "robots.txt disallows"), and so is a robots.txt that
//! redirects somewhere that takes no connection. When no server of the
//! origin takes the connection at all (DNS, refused, no route, TLS), the
//! page fetch itself is let through: it can load no one, and it records the
//! real failure (a host name gone must still become `dead`) rather than a
//! robots verdict; robots.txt is then asked for again by the origin's next
//! request, not taken as "no rules" for the run ([`Loaded::NoAnswer`]).
//! What the parser reads otherwise than the RFC is mended before it reads
//! it ([`prepared`]), and a request is matched by its path and query alone,
//! escapes spelled as the rules' are, its own `*` and `$` escaped as the
//! characters they are (a rule names them so: `%2A`, `%24`).

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
    /// robots.txt could not be had: the server failed to serve it (what it
    /// did, as "answered HTTP 503, which means …"), or it was not asked for
    /// at all while the host's Retry-After holds ([`Rules::deferred`]). The
    /// text is the whole account, after the robots.txt URL: stay away.
    Unavailable(String),
    /// Parsed rules.
    Parsed(Box<texting_robots::Robot>),
}

impl Rules {
    /// Whether `url` may be fetched. What is matched is the path and query
    /// the request sends, escapes spelled one way ([`canonical_escapes`]) as
    /// the rules' are, and never the fragment, which no server sees: a
    /// redirect to `/r.pdf#page=3` asks for `/r.pdf`. The request's `*` and
    /// `$` are characters, spelled `%2A` and `%24` as a rule names them,
    /// never read as a rule's wildcard and end.
    pub fn allows(&self, url: &url::Url) -> bool {
        match self {
            Rules::AllowAll => true,
            Rules::Unavailable(_) => false,
            Rules::Parsed(robot) => {
                let asked = match url.query() {
                    Some(q) => format!("{}?{q}", url.path()),
                    None => url.path().to_string(),
                };
                robot.allowed(&canonical_escapes(&asked, Spelled::Request))
            }
        }
    }

    /// [`Rules::allows`] of a URL written out, as the tests name them.
    #[cfg(test)]
    pub fn allowed(&self, url: &str) -> bool {
        self.allows(&url::Url::parse(url).expect("a test's URL"))
    }

    /// The `Crawl-delay` our agent's group asks for, at most
    /// [`MAX_CRAWL_DELAY`]. RFC 9309 leaves the field out, but sites that set
    /// it are saying how hard they can be asked, and a nightly check has
    /// nights to spare.
    pub fn crawl_delay(&self) -> Option<std::time::Duration> {
        let Rules::Parsed(robot) = self else {
            return None;
        };
        // An f32: `1e40`, `inf` or forty digits read as infinity, which asks
        // for the most delay there is, not for none.
        let secs = robot.delay.filter(|d| !d.is_nan() && *d > 0.0)?;
        // Capped before it becomes a Duration: `1e30` parses, and a
        // Duration of it would panic.
        Some(std::time::Duration::from_secs_f32(
            secs.min(MAX_CRAWL_DELAY.as_secs_f32()),
        ))
    }

    /// Rules from the answer to a robots.txt request: `None` when no answer came.
    pub fn from_answer(status: Option<u16>, body: Option<&[u8]>, agent: &str) -> Rules {
        match status {
            Some(200..=299) => parsed(&prepared(body.unwrap_or_default()), agent),
            Some(s @ (429 | 500..=599)) => Rules::stay_away(&format!("answered HTTP {s}")),
            _ => Rules::AllowAll,
        }
    }

    /// The server's failure to serve robots.txt (`what` it did: "answered
    /// HTTP 503", "could not be read (…)"), which RFC 9309 reads as "stay
    /// away for now".
    pub fn stay_away(what: &str) -> Rules {
        Rules::Unavailable(format!(
            "{what}, which means \"stay away for now\" (RFC 9309)"
        ))
    }

    /// Rules when robots.txt was never asked for: an earlier answer of
    /// `status` (429 or 503) from the host asked, by Retry-After, for no
    /// request before `until` (unix milliseconds), longer than we wait.
    /// Nothing was asked of the server, so the account says so and when
    /// the host may be asked again, not that it "answered HTTP 503": read
    /// that way, a site whose robots.txt never failed was told it had.
    pub fn deferred(status: u16, until: crate::time::Millis) -> Rules {
        Rules::Unavailable(format!(
            "was not asked for: an earlier HTTP {status} from the host asked, by Retry-After, \
             for no request until {}",
            crate::time::format_millis(until)
        ))
    }
}

/// The rules of a prepared robots.txt ([`prepared`]). The parser refuses a
/// whole file for one rule it cannot compile (a pattern past its size
/// limit); taken as no rules, a `Disallow: /` beside it let the whole site
/// be crawled. RFC 9309 §2.2 asks for the rules that can be parsed: the
/// file is read again without the rules the parser refuses alone, and only
/// when that fails too is the site left alone for the run.
fn parsed(txt: &[u8], agent: &str) -> Rules {
    if let Ok(robot) = texting_robots::Robot::new(agent, txt) {
        return Rules::Parsed(Box::new(robot));
    }
    let kept: Vec<&[u8]> = txt
        .split(|&b| b == b'\n')
        .filter(|line| {
            rule_value(line).is_none() || {
                let mut alone = b"User-agent: *\n".to_vec();
                alone.extend_from_slice(line);
                texting_robots::Robot::new("*", &alone).is_ok()
            }
        })
        .collect();
    match texting_robots::Robot::new(agent, &kept.join(&b'\n')) {
        Ok(robot) => Rules::Parsed(Box::new(robot)),
        Err(e) => Rules::stay_away(&format!("could not be parsed ({e})")),
    }
}

/// The value of an `Allow` or `Disallow` line (its key in any case, a
/// comment cut off), if `line` is one.
fn rule_value(line: &[u8]) -> Option<&[u8]> {
    let (key, value) = line.split_at(line.iter().position(|&b| b == b':')?);
    let key = key.trim_ascii();
    (key.eq_ignore_ascii_case(b"allow") || key.eq_ignore_ascii_case(b"disallow")).then(|| {
        let value = &value[1..];
        let value = &value[..value.iter().position(|&b| b == b'#').unwrap_or(value.len())];
        value.trim_ascii()
    })
}

/// A robots.txt as the parser is given it, mended where the parser reads
/// otherwise than RFC 9309:
/// - a rule's escapes are spelled as a request's are ([`canonical_escapes`]),
///   so `Disallow: /~joe/` stops `/%7Ejoe/` and `/%62%61%7A` is `/baz`;
/// - an empty `Disallow:` (or `Allow:`) matches nothing and goes: the
///   parser took it for `Allow: /`, which overrode a `Disallow: /` in a
///   group merged with it;
/// - a `User-agent` is its product token (`citewatch/1.0` names
///   `citewatch`), as §2.2.1 matches it: the parser compared the whole
///   value and fell back to `*`.
fn prepared(txt: &[u8]) -> Vec<u8> {
    let txt = txt.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(txt);
    let mut out = Vec::with_capacity(txt.len());
    for line in txt.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(value) = rule_value(line) {
            if value.is_empty() {
                continue;
            }
            let key_end = line.iter().position(|&b| b == b':').unwrap_or(0);
            out.extend_from_slice(&line[..=key_end]);
            out.push(b' ');
            out.extend_from_slice(
                canonical_escapes(&String::from_utf8_lossy(value), Spelled::Rule).as_bytes(),
            );
        } else if let Some(token) = agent_line_token(line) {
            out.extend_from_slice(b"User-agent: ");
            out.extend_from_slice(token);
        } else {
            out.extend_from_slice(line);
        }
        out.push(b'\n');
    }
    out
}

/// The product token of a `User-agent` line, when the line is one and its
/// value holds more than the token: `citewatch/1.0 (+https://…)` is
/// `citewatch`; `*` is kept.
fn agent_line_token(line: &[u8]) -> Option<&[u8]> {
    let colon = line.iter().position(|&b| b == b':')?;
    if !line[..colon]
        .trim_ascii()
        .eq_ignore_ascii_case(b"user-agent")
    {
        return None;
    }
    let value = line[colon + 1..].trim_ascii();
    let end = value
        .iter()
        .position(|&b| !(b.is_ascii_alphabetic() || b == b'_' || b == b'-'))
        .unwrap_or(value.len());
    (end > 0 && end < value.len()).then(|| &value[..end])
}

/// What a path spelled by [`canonical_escapes`] is: a rule's, whose `*`
/// and `$` are the wildcard and the end, or a request's, whose `*` and `$`
/// are characters.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Spelled {
    /// An `Allow` or `Disallow` value.
    Rule,
    /// The path and query a request sends.
    Request,
}

/// A path's escapes spelled one way, for matching a rule against a
/// request (RFC 9309 §2.2.2): an escaped unreserved character (`%7E`,
/// `%62`) as itself, any other escape in upper case (`%c3` as `%C3`), and
/// a character outside ASCII escaped as its UTF-8 bytes. A request's `*`
/// and `$` are escaped (`%2A`, `%24`), as §2.2.3 has a rule name them:
/// left bare, `Disallow: /file-%2A.html` never matched `/file-*.html`. A
/// rule's `*` and `$` are its wildcard and end, and stay; its `%2A` and
/// `%24` stay escapes, so they never become operators. Everything else
/// stays as written.
pub fn canonical_escapes(path: &str, spelled: Spelled) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let hex = |at: usize| bytes.get(at).and_then(|h| (*h as char).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                let c = (hi * 16 + lo) as u8;
                if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
                    out.push(c as char);
                } else {
                    out.push_str(&format!("%{c:02X}"));
                }
                i += 3;
            }
            (b @ (b'*' | b'$'), _, _) if spelled == Spelled::Request => {
                out.push_str(&format!("%{b:02X}"));
                i += 1;
            }
            (b, _, _) if b.is_ascii() => {
                out.push(b as char);
                i += 1;
            }
            (b, _, _) => {
                out.push_str(&format!("%{b:02X}"));
                i += 1;
            }
        }
    }
    out
}

/// The product token robots.txt groups are matched against: the user agent's
/// first word, without its version.
pub fn agent_token(user_agent: &str) -> &str {
    let first = user_agent.split_whitespace().next().unwrap_or(user_agent);
    first.split('/').next().unwrap_or(first)
}

/// What loading an origin's robots.txt gave.
pub enum Loaded {
    /// The origin's answer, kept for the run.
    Answer(Rules),
    /// No answer from the origin itself (no server took the connection):
    /// the rules for the request that asked, and asked again by the next.
    /// Kept for the run, a refused connection or a name failing to resolve
    /// for a moment let every later page of the origin be fetched with no
    /// rules at all, though the host answered them.
    NoAnswer(Rules),
}

/// How long an origin's answer is kept: RFC 9309 §2.4 asks for no more
/// than a day, and a run over a large store at a slow pace can last longer.
pub const ROBOTS_KEPT: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// One origin's rules and when they were loaded.
type Entry = Arc<OnceCell<(tokio::time::Instant, Arc<Rules>)>>;

/// One fetch of robots.txt per origin, shared by every request to it.
#[derive(Default)]
pub struct RobotsCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl RobotsCache {
    /// The rules for `origin`, calling `load` until it gives an answer
    /// (concurrent askers wait for the load under way), and again once
    /// that answer is [`ROBOTS_KEPT`] old.
    pub async fn rules<F, Fut>(&self, origin: &str, load: F) -> Arc<Rules>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Loaded>,
    {
        let cell = {
            let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            let cell = entries.entry(origin.to_string()).or_default();
            if cell
                .get()
                .is_some_and(|(at, _)| at.elapsed() >= ROBOTS_KEPT)
            {
                *cell = Entry::default();
            }
            cell.clone()
        };
        let loaded = cell
            .get_or_try_init(|| async {
                match load().await {
                    Loaded::Answer(rules) => Ok((tokio::time::Instant::now(), Arc::new(rules))),
                    Loaded::NoAnswer(rules) => Err(Arc::new(rules)),
                }
            })
            .await;
        match loaded {
            Ok((_, rules)) => rules.clone(),
            Err(for_now) => for_now,
        }
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
        for huge in [
            "99999999999999999999999",
            "1e30",
            "1e40",
            "inf",
            &"9".repeat(50),
        ] {
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

    /// A robots.txt request the host's standing Retry-After kept from being
    /// sent was worded "answered HTTP 503", as if the server had failed it.
    #[test]
    fn a_deferred_robots_txt_says_it_was_not_asked_for_and_until_when() {
        // 2026-12-02T16:00:00Z
        let r = Rules::deferred(503, 1_796_227_200_000);
        assert!(!r.allowed("http://a.example/x"));
        let Rules::Unavailable(why) = r else {
            panic!("deferred rules keep us away");
        };
        assert_eq!(
            why,
            "was not asked for: an earlier HTTP 503 from the host asked, by Retry-After, \
             for no request until 2026-12-02T16:00:00Z"
        );
        let Rules::Unavailable(answered) = Rules::from_answer(Some(503), None, "citewatch") else {
            panic!("a 503 keeps us away");
        };
        assert_eq!(
            answered,
            "answered HTTP 503, which means \"stay away for now\" (RFC 9309)"
        );
    }

    fn allows(txt: &str, url: &str) -> bool {
        Rules::from_answer(Some(200), Some(txt.as_bytes()), "citewatch").allowed(url)
    }

    #[test]
    fn a_rule_the_parser_cannot_compile_leaves_the_other_rules_in_force() {
        // The parser refused the whole file for the pattern past its size
        // limit, and the site was crawled as if it had no rules.
        let mut txt = String::from("User-agent: *\nDisallow: /\nDisallow: /*");
        txt.push_str(&"A".repeat(8192));
        txt.push_str("*$\n");
        assert!(texting_robots::Robot::new("citewatch", txt.as_bytes()).is_err());
        assert!(!allows(&txt, "http://a.example/page"));
        assert!(matches!(
            Rules::from_answer(Some(200), Some(txt.as_bytes()), "citewatch"),
            Rules::Parsed(_)
        ));
    }

    #[test]
    fn escapes_are_matched_spelled_one_way() {
        assert!(!allows(
            "User-agent: *\nDisallow: /~joe/\n",
            "http://a.example/%7Ejoe/x.html"
        ));
        assert!(!allows(
            "User-agent: *\nDisallow: /%7ejoe/\n",
            "http://a.example/~joe/x.html"
        ));
        assert!(!allows(
            "User-agent: *\nDisallow: /foo/bar/%62%61%7A\n",
            "http://a.example/foo/bar/baz"
        ));
        assert!(!allows(
            "User-agent: *\nDisallow: /caf%c3%a9/\n",
            "http://a.example/caf%C3%A9/menu"
        ));
        assert!(!allows(
            "User-agent: *\nDisallow: /café/\n",
            "http://a.example/caf%C3%A9/menu"
        ));
        assert!(allows(
            "User-agent: *\nDisallow: /\nAllow: /~joe/\n",
            "http://a.example/%7Ejoe/x"
        ));
        // A reserved character escaped is another path than the character.
        assert!(allows(
            "User-agent: *\nDisallow: /a%2Fb\n",
            "http://a.example/a/b"
        ));
        // The query is part of what is matched.
        assert!(!allows(
            "User-agent: *\nDisallow: /*?print=1\n",
            "http://a.example/x?print=1"
        ));
        assert!(allows(
            "User-agent: *\nDisallow: /*?print=1\n",
            "http://a.example/x"
        ));
    }

    #[test]
    fn canonical_escapes_spell_each_byte_one_way() {
        for spelled in [Spelled::Rule, Spelled::Request] {
            assert_eq!(
                canonical_escapes("/%7e%7E~%41%2f%2F%c3%A9é", spelled),
                "/~~~A%2F%2F%C3%A9%C3%A9"
            );
            // Not an escape: kept as written.
            assert_eq!(canonical_escapes("/100%/%zz/%4", spelled), "/100%/%zz/%4");
            assert_eq!(canonical_escapes("/a%2a%24", spelled), "/a%2A%24");
        }
        // A rule's wildcard and end are operators; a request's are characters.
        assert_eq!(canonical_escapes("/*.pdf$", Spelled::Rule), "/*.pdf$");
        assert_eq!(
            canonical_escapes("/*.pdf$", Spelled::Request),
            "/%2A.pdf%24"
        );
    }

    /// RFC 9309 §2.2.3: a rule names a literal `*` or `$` as `%2A` or
    /// `%24`. The request's own `*` was left bare, so `%2A` in a rule never
    /// matched it.
    #[test]
    fn an_escaped_star_or_dollar_in_a_rule_matches_the_character() {
        let star = "User-agent: *\nDisallow: /file-%2A.html\n";
        assert!(!allows(star, "http://a.example/file-*.html"));
        assert!(!allows(star, "http://a.example/file-%2A.html"));
        assert!(!allows(star, "http://a.example/file-%2a.html"));
        // Not a wildcard.
        assert!(allows(star, "http://a.example/file-x.html"));
        let dollar = "User-agent: *\nDisallow: /foo-%24\n";
        assert!(!allows(dollar, "http://a.example/foo-$"));
        assert!(!allows(dollar, "http://a.example/foo-%24"));
        assert!(!allows(dollar, "http://a.example/foo-$/more"));
        // Not an end.
        assert!(allows(dollar, "http://a.example/foo-"));
        // In the query too.
        assert!(!allows(
            "User-agent: *\nDisallow: /*?q=%2A\n",
            "http://a.example/s?q=*"
        ));
    }

    /// A rule's bare `*` and `$` stay its wildcard and end, whatever `*`
    /// or `$` the request holds.
    #[test]
    fn a_rules_wildcard_and_end_still_work() {
        let wild = "User-agent: *\nDisallow: /a*b\n";
        assert!(!allows(wild, "http://a.example/axyzb"));
        assert!(!allows(wild, "http://a.example/a*b"));
        assert!(!allows(wild, "http://a.example/a%2Ab"));
        assert!(allows(wild, "http://a.example/ax"));
        let end = "User-agent: *\nDisallow: /*.pdf$\n";
        assert!(!allows(end, "http://a.example/r.pdf"));
        assert!(allows(end, "http://a.example/r.pdf?x=1"));
        // A request's `$` is no end of the rule's.
        assert!(allows(
            "User-agent: *\nDisallow: /a$\n",
            "http://a.example/a$"
        ));
        assert!(!allows(
            "User-agent: *\nDisallow: /a$\n",
            "http://a.example/a"
        ));
        // A `*` in the request is no wildcard either.
        assert!(allows(
            "User-agent: *\nDisallow: /ab\n",
            "http://a.example/a*b"
        ));
    }

    #[test]
    fn an_empty_disallow_allows_nothing_over_a_merged_disallow_all() {
        // Read as `Allow: /`, the empty rule won its tie with `Disallow: /`.
        assert!(!allows(
            "User-agent: *\nDisallow:\n\nUser-agent: *\nDisallow: /\n",
            "http://a.example/x"
        ));
        assert!(allows("User-agent: *\nDisallow:\n", "http://a.example/x"));
        assert!(allows(
            "User-agent: *\nDisallow: # nothing\n",
            "http://a.example/x"
        ));
    }

    #[test]
    fn a_fragment_is_never_matched() {
        assert!(!allows(
            "User-agent: *\nDisallow: /*.pdf$\n",
            "http://a.example/r.pdf#page=3"
        ));
    }

    #[test]
    fn a_user_agent_with_a_version_names_its_product() {
        let txt = "User-agent: citewatch/0.1\nDisallow: /\n\nUser-agent: *\nAllow: /\n";
        assert!(!allows(txt, "http://a.example/x"));
        assert!(allows(
            "User-agent: otherbot/2.0 (+https://o.example)\nDisallow: /\n",
            "http://a.example/x"
        ));
        // CRLF line ends and a BOM are still read.
        assert!(!allows(
            "\u{feff}User-agent: citewatch/1.0\r\nDisallow: /private\r\n",
            "http://a.example/private/x"
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_is_kept_a_day_and_then_asked_for_again() {
        let cache = RobotsCache::default();
        let loads = std::sync::atomic::AtomicUsize::new(0);
        let ask = || {
            cache.rules("http://a.example", || async {
                loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Loaded::Answer(Rules::AllowAll)
            })
        };
        ask().await;
        tokio::time::advance(ROBOTS_KEPT - Duration::from_secs(1)).await;
        ask().await;
        assert_eq!(loads.load(std::sync::atomic::Ordering::SeqCst), 1);
        tokio::time::advance(Duration::from_secs(1)).await;
        ask().await;
        ask().await;
        assert_eq!(loads.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn no_answer_is_asked_for_again_and_an_answer_kept() {
        let cache = RobotsCache::default();
        let loads = std::sync::atomic::AtomicUsize::new(0);
        for n in 0..4 {
            let r = cache
                .rules("http://a.example", || async {
                    let load = loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if load < 2 {
                        Loaded::NoAnswer(Rules::AllowAll)
                    } else {
                        Loaded::Answer(Rules::from_answer(
                            Some(200),
                            Some(b"User-agent: *\nDisallow: /\n"),
                            "citewatch",
                        ))
                    }
                })
                .await;
            assert_eq!(r.allowed("http://a.example/x"), n < 2, "request {n}");
        }
        assert_eq!(loads.load(std::sync::atomic::Ordering::SeqCst), 3);
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
                    Loaded::Answer(Rules::Unavailable("answered HTTP 503".into()))
                })
                .await;
            assert!(!r.allowed("http://a.example/"));
        }
        assert_eq!(loads.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
