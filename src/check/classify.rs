//! From one fetch (and what reading its page found) to a [`Signal`] and the
//! evidence in plain words. Pure; the rules are unit-tested one by one.

use super::verdict::{Signal, Status};
use crate::source_url::same_address;

/// What reading the page found (filled by the page analysis; all false/None
/// when the fetch brought no page).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageEvidence {
    /// A not-found / removed notice in the title or a short page.
    pub error_phrase: Option<String>,
    /// A deep link whose redirects landed on the site's root or a section root.
    pub sent_to_root: bool,
    /// …by the page's own redirect (a meta refresh or a script), to this.
    pub sent_by_page_to: Option<String>,
    /// A consent or subscription wall answered instead of the page (the
    /// phrase that says so).
    pub wall: Option<String>,
    /// The page is near-identical to (or lands where) the host's answer for a
    /// path that cannot exist.
    pub like_probe: bool,
    /// The page is near-identical to (or lands where) the host's front page,
    /// fetched this run: a deep link answered with the homepage.
    pub like_home: bool,
    /// A bot challenge (captcha, "checking your browser").
    pub bot_challenge: bool,
    /// The page reads as an article (not a list, a form or a notice).
    pub article: bool,
    /// The page is the shell of a script application: no text without a
    /// browser running its scripts.
    pub script_shell: bool,
    /// Nothing to read: an empty body, or markup without a visible word (see
    /// [`super::analyze::Reading::blank`]).
    pub blank: bool,
    /// A redirect that landed where this many other cited articles land
    /// (see [`super::landing`]); `None` when the page was not redirected.
    pub shared_landing: Option<usize>,
    /// The baseline was taken where this fetch landed: of the landing, when
    /// the source was already redirected there at its first check.
    pub baseline_landed_here: bool,
    /// Similarity of the main text to the baseline, when both exist.
    pub similarity: Option<f64>,
    /// Date of the baseline copy, for the evidence text.
    pub baseline_date: Option<String>,
}

impl PageEvidence {
    /// Records how the page was sent home, if it was.
    pub fn set_sent_home(&mut self, how: super::analyze::SentHome) {
        use super::analyze::SentHome;
        self.sent_to_root = how != SentHome::No;
        self.sent_by_page_to = match how {
            SentHome::ByPage(to) => Some(to),
            _ => None,
        };
    }
}

/// The fetch facts classification needs.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchFacts<'a> {
    /// Outcome kind (`http`, `not_modified`, `timeout`, …).
    pub outcome: &'a str,
    /// HTTP status, when one came.
    pub status: Option<u16>,
    /// Error detail for failures.
    pub detail: Option<&'a str>,
    /// The URL asked for.
    pub url: &'a str,
    /// The URL that answered.
    pub final_url: &'a str,
    /// Whether a permanent redirect (301/308) was followed.
    pub permanent_redirect: bool,
    /// Whether a request went out: an address that cannot be fetched is the
    /// citation's fault only when it is the cited one, before any request.
    pub sent: bool,
}

/// Similarity to the copy cited at which a landing is that story rewritten
/// rather than a front page or section front it was sent to.
pub const SAME_STORY_AT_LEAST: f64 = 0.3;

/// The signal and its evidence.
pub fn classify(
    f: &FetchFacts,
    page: &PageEvidence,
    previous: Status,
    changed_below: f64,
) -> (Signal, String) {
    let detail = f.detail.unwrap_or("");
    match f.outcome {
        // The server sent us to an address no one can fetch (`mailto:`, a
        // broken Location): its fault, not the briefing's, and a failure to
        // confirm like a server error, never `invalid` ("fix the briefing").
        "invalid_url" if f.sent => {
            return (
                Signal::Unreachable,
                format!("the server's redirect cannot be followed: {detail}"),
            );
        }
        "invalid_url" => {
            return (
                Signal::Invalid,
                format!("cannot be fetched as written: {detail}"),
            );
        }
        "robots_disallowed" => return (Signal::Blocked, "robots.txt disallows fetching it".into()),
        // A server error on robots.txt is the host failing for now, not its
        // policy: a network-class failure, so a confirmed verdict stands
        // through it (a dead page stays dead) and a host incident excuses it.
        "robots_unavailable" => return (Signal::Unreachable, format!("not fetched: {detail}")),
        // A 503 asking for hours is a server down for maintenance, on the
        // 5xx road to `unreachable`; a 429 is a refusal of us.
        "rate_limited" if f.status == Some(503) => {
            return (
                Signal::Unreachable,
                format!("HTTP 503 server error, {detail}"),
            );
        }
        "rate_limited" => return (Signal::Blocked, detail.to_string()),
        "address_refused" => return (Signal::Blocked, format!("not fetched: {detail}")),
        "dns" => {
            return (
                Signal::NoSuchHost,
                format!("the host name does not resolve ({detail})"),
            );
        }
        // Its detail says "could not be resolved for now" already.
        "dns_unavailable" => return (Signal::ResolverFailed, detail.to_string()),
        "connect_refused" | "connect_reset" | "connect" | "tls" | "timeout" | "decoding" => {
            return (Signal::Unreachable, network_failure(f.outcome, detail));
        }
        // The fetch says which: a loop (an address seen before) or a chain
        // longer than `max_redirects` that may well end at the article.
        "too_many_redirects" if !detail.is_empty() => {
            return (Signal::Unreachable, detail.to_string());
        }
        "too_many_redirects" => return (Signal::Unreachable, "redirect loop".into()),
        "not_modified" => {
            // Unchanged since the last capture: the last verdict on content stands.
            let signal = match previous {
                Status::Changed => Signal::Changed,
                Status::Moved => Signal::Moved,
                _ => Signal::Ok,
            };
            return (
                signal,
                "304 Not Modified: unchanged since the last capture".into(),
            );
        }
        _ => {}
    }
    let status = f.status.unwrap_or(0);
    match status {
        410 => return (Signal::Gone, "410 Gone".into()),
        404 => return (Signal::NotFound, "404 Not Found".into()),
        401 | 403 | 429 | 451 => {
            return (
                Signal::Blocked,
                format!("HTTP {status}: access refused to us"),
            );
        }
        // Never asked for by what we send (no content negotiation, no
        // If-Match): the answers of web application firewalls and their
        // script challenges (412 is common on Chinese government sites).
        406 | 412 => {
            return (
                Signal::Blocked,
                format!("HTTP {status}: refused to us, most likely by a firewall's challenge"),
            );
        }
        // A challenge comes with whatever status its vendor chose,
        // Cloudflare's "Just a moment..." with a 503: a refusal of us, not
        // a server down.
        500..=599 if page.bot_challenge => {
            return (
                Signal::Blocked,
                format!("HTTP {status} with a bot challenge instead of the page"),
            );
        }
        408 | 500..=599 => return (Signal::Unreachable, format!("HTTP {status} server error")),
        // Only 404 and 410 say a page is gone. 400, 405, 418, 431 … are
        // refusals of the request (firewalls answer so): not verifiable, and
        // never counted towards `dead`.
        400..=499 => {
            return (
                Signal::Blocked,
                format!(
                    "HTTP {status}: the server refused the request, which says nothing of the page being gone"
                ),
            );
        }
        200..=299 => {}
        // Asked with validators, a 304 is `not_modified` above; this one came
        // unasked, so the server sent no page at all.
        304 => {
            return (
                Signal::Unreachable,
                "HTTP 304 Not Modified to a request that named no copy: the server sends no page"
                    .into(),
            );
        }
        _ => return (Signal::Unreachable, format!("unexpected HTTP {status}")),
    }
    if page.bot_challenge {
        return (
            Signal::Blocked,
            "a bot challenge answered instead of the page".into(),
        );
    }
    // A landing whose text is the cited article's is a move, whatever its URL
    // looks like (WordPress sends `/?p=123` to `/lockdown-lifted/`).
    let matches_baseline = page.similarity.is_some_and(|s| s >= changed_below);
    if let Some(phrase) = page.wall.as_ref().filter(|_| !matches_baseline) {
        return (
            Signal::Blocked,
            format!("a consent or subscription wall answered instead of the page (\"{phrase}\")"),
        );
    }
    // A sign-in or subscription wall says nothing about the article behind
    // it: we cannot see it, as with a 401. Only a redirect that leads into
    // one: an article filed under `/passport/` is no wall.
    if !matches_baseline
        && !same_address(f.url, f.final_url)
        && is_sign_in_page(f.final_url)
        && !is_sign_in_page(f.url)
    {
        return (
            Signal::Blocked,
            format!(
                "redirects to a sign-in or subscription page ({})",
                f.final_url
            ),
        );
    }
    // A landing that still holds a good part of the cited text is the story
    // rewritten under a new address, not a front page: a section front shares
    // a teaser with it at most, a sliver of its words.
    let same_story = page.similarity.is_some_and(|s| s >= SAME_STORY_AT_LEAST);
    if page.sent_to_root && !matches_baseline && !same_story {
        if let Some(to) = &page.sent_by_page_to {
            return (
                Signal::SoftNotFound,
                format!(
                    "the page sends its reader to the site's homepage, a section page or its error page ({to})"
                ),
            );
        }
        return (
            Signal::SoftNotFound,
            format!(
                "redirects to the site's homepage or a section page ({})",
                f.final_url
            ),
        );
    }
    // Distinct articles do not move to one address: where others land too,
    // and the page is not the one cited (nor, with nothing to compare, an
    // article at all), is a page for removed articles. A baseline taken at
    // the landing itself is no copy of the article to compare with.
    if let Some(others) = landing_removal(f, page, changed_below) {
        return (
            Signal::SoftNotFound,
            sent_to_shared_landing(f.final_url, others),
        );
    }
    // A phrase is weaker evidence than the text itself: a page that still
    // reads as the copy that was cited (which was judged good) is not a
    // notice because its headline says "not found".
    if let Some(phrase) = page.error_phrase.as_ref().filter(|_| !matches_baseline) {
        return (
            Signal::SoftNotFound,
            format!("HTTP {status} but the page says \"{phrase}\""),
        );
    }
    // An empty page where the cited copy had text is no copy of it, whatever
    // its status says: a story's empty template, or a backend that answers
    // nothing. Only against a copy with text: a page cited empty (an embed,
    // an image) is judged as it was, never a notice for having no words.
    if page.blank && page.similarity.is_some_and(|s| s < changed_below) {
        return (
            Signal::SoftNotFound,
            format!("HTTP {status} but the page is empty where the copy cited had text"),
        );
    }
    // A script application answers every address with one shell, for a live
    // article as for a removed one: matching the copy cited (the same shell)
    // proves nothing, and matching the probe nothing either. We cannot see
    // which it is, as behind a wall.
    if page.script_shell && (page.like_probe || !matches_baseline) {
        return (
            Signal::Blocked,
            "the page is built by scripts in a browser; without them it has no text to check"
                .into(),
        );
    }
    // The homepage served at a deep link, with a 200 and no redirect: what
    // sites answer for a removed article. Weaker than the text, as the probe.
    if page.like_home && !matches_baseline {
        return (
            Signal::SoftNotFound,
            "the page is the site's front page, not the page cited".into(),
        );
    }
    // Like the phrase, the probe is weaker evidence than the text: a short
    // article in a heavy template can be as like the host's answer for a
    // made-up path as that answer's own template is, yet still read as the
    // copy cited (which was judged good, so was no such answer).
    if page.like_probe && !matches_baseline {
        return (
            Signal::SoftNotFound,
            "the page is what the site answers for a page that cannot exist".into(),
        );
    }
    let since = page
        .baseline_date
        .as_deref()
        .map(|d| format!(" archived on {d}"))
        .unwrap_or_default();
    // A permanent redirect to another page: a move, unless it only spells the
    // same address another way (https, `www.`, a trailing slash). Without a
    // baseline yet, this capture becomes it, so the content matches by
    // definition: the first check says `moved` as every later one would. A
    // page without text to compare (an image, a scanned PDF, a PDF the parser
    // could not read) is judged by its redirect alone; a PDF's text is
    // compared as a page's is.
    // The site's front page is no article's new address, even while it still
    // shows the text cited (a blog's front page holds its latest post whole):
    // tomorrow it shows another post, and the link would cite that.
    let to_front_page = deep_link_sent_to_front_page(f.url, f.final_url);
    let moved = f.permanent_redirect
        && f.final_url != f.url
        && !same_address(f.url, f.final_url)
        && !to_front_page;
    match page.similarity {
        Some(sim) if sim < changed_below => (
            Signal::Changed,
            format!(
                "main text {:.0}% different from the copy{since}",
                (1.0 - sim) * 100.0
            ),
        ),
        Some(_) if moved => (
            Signal::Moved,
            format!("moved permanently to {}", f.final_url),
        ),
        None if moved => (
            Signal::Moved,
            format!("moved permanently to {}", f.final_url),
        ),
        Some(_) if to_front_page => (
            Signal::Ok,
            format!(
                "HTTP {status} at the site's front page ({}), which still shows the text cited; no move",
                f.final_url
            ),
        ),
        _ => (Signal::Ok, format!("HTTP {status}")),
    }
}

/// A deep link whose redirects ended on its own site's front page (not a
/// section front: a slug that holds the article may look like one).
fn deep_link_sent_to_front_page(url: &str, final_url: &str) -> bool {
    // Not sent anywhere (most answers): no need to parse either address.
    if url == final_url {
        return false;
    }
    matches!(
        (url::Url::parse(url), url::Url::parse(final_url)),
        (Ok(r), Ok(t)) if super::soft404::deep_link_sent_to_root(&r, &t)
            && super::soft404::is_front_page(&t)
    )
}

/// How many other cited articles must land where this redirect did for the
/// page to be a removal (see [`super::landing`]); `None` when no count would
/// make it one.
///
/// Only a permanent redirect: a site sends every address for a while to its
/// maintenance page, or to a cookie check, by a temporary one. A baseline
/// taken at the landing itself is no copy of the article to compare with.
pub fn others_needed(f: &FetchFacts, page: &PageEvidence, changed_below: f64) -> Option<usize> {
    if !f.permanent_redirect || page.shared_landing.is_none() {
        return None;
    }
    match page.similarity.filter(|_| !page.baseline_landed_here) {
        Some(s) => (s < changed_below).then_some(super::landing::OTHERS),
        None => (!page.article && same_site_urls(f.url, f.final_url))
            .then_some(super::landing::OTHERS_UNSEEN),
    }
}

/// How many other cited articles landed where this redirect did, when that
/// makes it a removal: the landing is no copy of the page cited, nor is any
/// earlier capture of this source taken there (see `disowned_at` in the
/// store).
pub fn landing_removal(f: &FetchFacts, page: &PageEvidence, changed_below: f64) -> Option<usize> {
    page.shared_landing
        .filter(|&n| others_needed(f, page, changed_below).is_some_and(|need| n >= need))
}

/// The evidence for a page other cited articles are sent to as well.
pub fn sent_to_shared_landing(final_url: &str, others: usize) -> String {
    format!(
        "redirects to {final_url}, where {others} other cited page{} land{} too",
        if others == 1 { "" } else { "s" },
        if others == 1 { "s" } else { "" },
    )
}

fn same_site_urls(a: &str, b: &str) -> bool {
    matches!((url::Url::parse(a), url::Url::parse(b)), (Ok(a), Ok(b)) if super::soft404::same_site(&a, &b))
}

/// Path segments of sign-in and subscription walls.
const SIGN_IN_SEGMENTS: &[&str] = &[
    "login",
    "log-in",
    "signin",
    "sign-in",
    "sign_in",
    "logon",
    "sso",
    "passport",
    "subscribe",
    "paywall",
];

/// A page whose path says it asks the reader to sign in or subscribe.
fn is_sign_in_page(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| {
        u.path_segments().is_some_and(|mut segments| {
            segments.any(|s| {
                let s = s.to_ascii_lowercase();
                let stem = s.split('.').next().unwrap_or_default();
                SIGN_IN_SEGMENTS.contains(&stem)
            })
        })
    })
}

/// Whether a redirect chain (each hop's status and resolved target) moved
/// `url` for good: a permanent hop to another address. One that only
/// respells it (a trailing slash, https), followed by a temporary one to
/// `?edition=intl`, is no move.
pub fn moved_permanently<'a>(url: &str, hops: impl IntoIterator<Item = (u16, &'a str)>) -> bool {
    hops.into_iter()
        .any(|(status, to)| matches!(status, 301 | 308) && !same_address(url, to))
}

/// A network failure in words: what kind, then the system's account, unless
/// that account already begins by saying it ("Connection refused (os error
/// 111)" needs no "connect refused:" in front).
fn network_failure(kind: &str, detail: &str) -> String {
    let phrase = match kind {
        "connect_refused" => "connection refused",
        "connect_reset" => "connection reset",
        "tls" => "TLS failed",
        "timeout" => "timed out",
        // A body that did not decode, or a response head that could not be
        // read (too large, malformed): the answer, not the connection.
        "decoding" => "the answer could not be read",
        _ => "could not connect",
    };
    if detail.is_empty() {
        return phrase.to_string();
    }
    if detail.to_lowercase().starts_with(&phrase.to_lowercase()) {
        let mut chars = detail.chars();
        return chars
            .next()
            .map(|c| c.to_lowercase().chain(chars).collect())
            .unwrap_or_default();
    }
    format!("{phrase}: {detail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_network_failure_says_its_kind_once() {
        assert_eq!(
            network_failure("connect_refused", "Connection refused (os error 111)"),
            "connection refused (os error 111)"
        );
        assert_eq!(
            network_failure(
                "timeout",
                "body incomplete at the timeout (512 bytes received)"
            ),
            "timed out: body incomplete at the timeout (512 bytes received)"
        );
        assert_eq!(
            network_failure("tls", "invalid peer certificate: UnknownIssuer"),
            "TLS failed: invalid peer certificate: UnknownIssuer"
        );
        assert_eq!(network_failure("connect", ""), "could not connect");
    }

    fn facts(outcome: &'static str, status: Option<u16>) -> FetchFacts<'static> {
        FetchFacts {
            outcome,
            status,
            detail: Some("detail"),
            url: "http://a.example/2020/12/26/c_1.htm",
            final_url: "http://a.example/2020/12/26/c_1.htm",
            permanent_redirect: false,
            sent: true,
        }
    }

    fn sig(f: &FetchFacts, p: &PageEvidence) -> Signal {
        classify(f, p, Status::Ok, 0.8).0
    }

    #[test]
    fn the_front_page_served_at_a_deep_link_is_a_soft_404() {
        let f = facts("http", Some(200));
        for similarity in [None, Some(0.1)] {
            let home = PageEvidence {
                like_home: true,
                similarity,
                ..Default::default()
            };
            let (s, why) = classify(&f, &home, Status::Ok, 0.8);
            assert_eq!(s, Signal::SoftNotFound, "{similarity:?}");
            assert!(why.contains("front page"), "{why}");
        }
        // Still the copy cited: the text outweighs the likeness.
        let cited = PageEvidence {
            like_home: true,
            similarity: Some(0.95),
            ..Default::default()
        };
        assert_eq!(sig(&f, &cited), Signal::Ok);
        // Both the front page and the answer for a made-up path: named as the
        // front page, the more telling of the two.
        let both = PageEvidence {
            like_home: true,
            like_probe: true,
            ..Default::default()
        };
        assert!(
            classify(&f, &both, Status::Ok, 0.8)
                .1
                .contains("front page")
        );
    }

    #[test]
    fn an_empty_page_where_the_copy_cited_had_text_is_a_soft_404() {
        for status in [200, 204] {
            let f = facts("http", Some(status));
            let emptied = PageEvidence {
                blank: true,
                similarity: Some(0.0),
                ..Default::default()
            };
            let (s, why) = classify(&f, &emptied, Status::Ok, 0.8);
            assert_eq!(s, Signal::SoftNotFound, "{status}");
            assert!(why.contains("empty"), "{why}");
        }
        let f = facts("http", Some(200));
        // Cited empty (an embed, an image page): still as it was.
        let cited_empty = PageEvidence {
            blank: true,
            similarity: Some(1.0),
            ..Default::default()
        };
        assert_eq!(sig(&f, &cited_empty), Signal::Ok);
        // Nothing to compare with: no notice on the strength of no words.
        let first = PageEvidence {
            blank: true,
            ..Default::default()
        };
        assert_eq!(sig(&f, &first), Signal::Ok);
        // A page with text that differs is a rewrite, not a notice.
        let rewritten = PageEvidence {
            similarity: Some(0.1),
            ..Default::default()
        };
        assert_eq!(sig(&f, &rewritten), Signal::Changed);
    }

    #[test]
    fn a_wall_in_place_of_the_page_is_blocked_unless_the_page_is_the_copy_cited() {
        let f = facts("http", Some(200));
        let wall = PageEvidence {
            wall: Some("subscribe to continue reading".into()),
            similarity: Some(0.2),
            ..Default::default()
        };
        let (s, why) = classify(&f, &wall, Status::Ok, 0.8);
        assert_eq!(s, Signal::Blocked);
        assert!(why.contains("subscribe to continue reading"), "{why}");
        let cited_so = PageEvidence {
            similarity: Some(0.95),
            ..wall
        };
        assert_eq!(sig(&f, &cited_so), Signal::Ok);
    }

    #[test]
    fn a_redirect_to_a_sign_in_wall_is_blocked_not_a_removal() {
        let mut f = facts("http", Some(200));
        // The wall's path looks like a section front, and was read as "sent
        // home"; the article behind it is unseen, not gone.
        let home = PageEvidence {
            sent_to_root: true,
            ..Default::default()
        };
        for wall in [
            "http://a.example/login",
            "https://a.example/account/sign-in?next=/2020/12/26/c_1.htm",
            "https://sso.a.example/passport/login.html",
            "https://a.example/subscribe/",
        ] {
            f.final_url = wall;
            let (s, why) = classify(&f, &home, Status::Ok, 0.8);
            assert_eq!(s, Signal::Blocked, "{wall}");
            assert!(why.contains("sign-in or subscription"), "{why}");
        }
        // Not walls: a cited page that is itself at such a path (respelled
        // by the redirect, or not redirected), an article whose slug only
        // contains the word, or a landing that reads as the copy cited.
        f.final_url = f.url;
        assert_eq!(sig(&f, &PageEvidence::default()), Signal::Ok);
        f.final_url = "http://a.example/2020/12/26/login-rules-tightened.htm";
        assert_ne!(sig(&f, &PageEvidence::default()), Signal::Blocked);
        f.url = "http://a.example/passport/new-rules-2020";
        f.final_url = "https://a.example/passport/new-rules-2020/";
        assert_eq!(sig(&f, &PageEvidence::default()), Signal::Ok);
        f.url = "http://a.example/2020/12/26/c_1.htm";
        f.final_url = "http://a.example/login";
        let same = PageEvidence {
            similarity: Some(0.97),
            ..Default::default()
        };
        assert_ne!(sig(&f, &same), Signal::Blocked);
    }

    #[test]
    fn only_a_permanent_hop_to_another_address_is_a_move() {
        let url = "http://a.example/story/123";
        assert!(!moved_permanently(
            url,
            [
                (301, "http://a.example/story/123/"),
                (302, "http://a.example/story/123/?edition=intl"),
            ]
        ));
        assert!(!moved_permanently(url, [(302, "http://a.example/story/9")]));
        assert!(moved_permanently(
            url,
            [
                (301, "https://a.example/story/123"),
                (308, "https://a.example/2021/story-123.html"),
            ]
        ));
    }

    #[test]
    fn fetch_failures() {
        let p = PageEvidence::default();
        assert_eq!(sig(&facts("dns", None), &p), Signal::NoSuchHost);
        // No answer about the name: a network failure, but not one that says
        // the name resolved (see `verdict::decide`).
        let (s, why) = classify(
            &FetchFacts {
                detail: Some(
                    "the host name could not be resolved for now: cannot resolve a.example: Temporary failure in name resolution",
                ),
                ..facts("dns_unavailable", None)
            },
            &p,
            Status::Failing,
            0.8,
        );
        assert_eq!(s, Signal::ResolverFailed);
        assert_eq!(
            why,
            "the host name could not be resolved for now: cannot resolve a.example: Temporary failure in name resolution"
        );
        assert_eq!(sig(&facts("timeout", None), &p), Signal::Unreachable);
        assert_eq!(sig(&facts("tls", None), &p), Signal::Unreachable);
        assert_eq!(sig(&facts("robots_disallowed", None), &p), Signal::Blocked);
        assert_eq!(
            sig(&facts("robots_unavailable", None), &p),
            Signal::Unreachable
        );
        // As cited, before any request: the briefing's to fix.
        let as_cited = FetchFacts {
            sent: false,
            ..facts("invalid_url", None)
        };
        assert_eq!(sig(&as_cited, &p), Signal::Invalid);
        // Where a server's redirect led: a failure of the server's.
        let (s, why) = classify(&facts("invalid_url", None), &p, Status::Dead, 0.8);
        assert_eq!(s, Signal::Unreachable);
        assert!(
            why.starts_with("the server's redirect cannot be followed"),
            "{why}"
        );
        assert_eq!(
            sig(&facts("too_many_redirects", None), &p),
            Signal::Unreachable
        );
        // A long chain is told from a loop, as the fetch told them apart.
        let long = FetchFacts {
            detail: Some("more than 10 redirects"),
            ..facts("too_many_redirects", None)
        };
        let (_, why) = classify(&long, &p, Status::Ok, 0.8);
        assert_eq!(why, "more than 10 redirects");
        let head = FetchFacts {
            detail: Some("the server answered with a response head too large to read"),
            ..facts("decoding", None)
        };
        let (s, why) = classify(&head, &p, Status::Ok, 0.8);
        assert_eq!(s, Signal::Unreachable);
        assert!(
            why.starts_with("the answer could not be read: the server answered"),
            "{why}"
        );
    }

    #[test]
    fn http_statuses() {
        let p = PageEvidence::default();
        for (s, want) in [
            (410, Signal::Gone),
            (404, Signal::NotFound),
            (403, Signal::Blocked),
            (401, Signal::Blocked),
            (429, Signal::Blocked),
            (451, Signal::Blocked),
            (503, Signal::Unreachable),
            (500, Signal::Unreachable),
            // A refusal of the request is not a page gone.
            (400, Signal::Blocked),
            (405, Signal::Blocked),
            (418, Signal::Blocked),
            (431, Signal::Blocked),
            (406, Signal::Blocked),
            (412, Signal::Blocked),
            // Unasked (asked, it is `not_modified`): no page was sent.
            (304, Signal::Unreachable),
            (200, Signal::Ok),
        ] {
            assert_eq!(sig(&facts("http", Some(s)), &p), want, "{s}");
        }
    }

    /// Issue 5: bot challenges are `blocked`. Cloudflare's "Just a moment..."
    /// (and DDoS-Guard's) comes with a 503: taken for a server error, a
    /// challenged site was confirmed `unreachable`, a broken link.
    #[test]
    fn a_bot_challenge_served_with_a_server_error_is_blocked() {
        let challenge = PageEvidence {
            bot_challenge: true,
            ..Default::default()
        };
        for status in [503, 500, 200, 403] {
            let (s, why) = classify(&facts("http", Some(status)), &challenge, Status::Ok, 0.8);
            assert_eq!(s, Signal::Blocked, "{status}: {why}");
        }
        let (_, why) = classify(&facts("http", Some(503)), &challenge, Status::Ok, 0.8);
        assert!(why.contains("bot challenge"), "{why}");
        // Without one, a 503 is a server error as before.
        assert_eq!(
            sig(&facts("http", Some(503)), &PageEvidence::default()),
            Signal::Unreachable
        );
    }

    #[test]
    fn a_long_retry_after_is_blocked_on_a_429_and_unreachable_on_a_503() {
        let p = PageEvidence::default();
        assert_eq!(sig(&facts("rate_limited", Some(429)), &p), Signal::Blocked);
        assert_eq!(sig(&facts("rate_limited", None), &p), Signal::Blocked);
        let (s, why) = classify(&facts("rate_limited", Some(503)), &p, Status::Ok, 0.8);
        assert_eq!(s, Signal::Unreachable);
        assert!(why.starts_with("HTTP 503 server error, detail"), "{why}");
    }

    #[test]
    fn soft_404_evidence_beats_a_200() {
        let f = facts("http", Some(200));
        let home = PageEvidence {
            sent_to_root: true,
            ..Default::default()
        };
        assert_eq!(sig(&f, &home), Signal::SoftNotFound);
        let phrase = PageEvidence {
            error_phrase: Some("页面不存在".into()),
            ..Default::default()
        };
        let (s, why) = classify(&f, &phrase, Status::Ok, 0.8);
        assert_eq!(s, Signal::SoftNotFound);
        assert!(why.contains("页面不存在"), "{why}");
        let probe = PageEvidence {
            like_probe: true,
            ..Default::default()
        };
        assert_eq!(sig(&f, &probe), Signal::SoftNotFound);
        // Nor by looking like the probe.
        let still_cited = PageEvidence {
            like_probe: true,
            similarity: Some(0.97),
            ..Default::default()
        };
        assert_eq!(sig(&f, &still_cited), Signal::Ok);
        let gone = PageEvidence {
            similarity: Some(0.2),
            ..still_cited
        };
        assert_eq!(sig(&f, &gone), Signal::SoftNotFound);
        // A page that still reads as the copy cited is not made a notice by a
        // phrase in it.
        let unchanged = PageEvidence {
            error_phrase: Some("not found".into()),
            similarity: Some(0.97),
            ..Default::default()
        };
        assert_eq!(sig(&f, &unchanged), Signal::Ok);
    }

    #[test]
    fn a_landing_holding_much_of_the_cited_text_is_the_story_rewritten() {
        let f = facts("http", Some(200));
        let landed = |similarity| PageEvidence {
            sent_to_root: true,
            similarity,
            ..Default::default()
        };
        // A front page shares a teaser at most; the story rewritten, much more.
        assert_eq!(sig(&f, &landed(Some(0.05))), Signal::SoftNotFound);
        assert_eq!(sig(&f, &landed(None)), Signal::SoftNotFound);
        assert_eq!(sig(&f, &landed(Some(SAME_STORY_AT_LEAST))), Signal::Changed);
        assert_eq!(sig(&f, &landed(Some(0.9))), Signal::Ok);
    }

    #[test]
    fn a_script_shell_cannot_be_judged_by_its_text() {
        let f = facts("http", Some(200));
        let shell = |like_probe, similarity| PageEvidence {
            script_shell: true,
            like_probe,
            similarity,
            ..Default::default()
        };
        // The same shell for any address, the cited copy included.
        assert_eq!(sig(&f, &shell(true, Some(1.0))), Signal::Blocked);
        // The first night, or a site that became a script application.
        assert_eq!(sig(&f, &shell(false, None)), Signal::Blocked);
        assert_eq!(sig(&f, &shell(false, Some(0.0))), Signal::Blocked);
        // The shell that was cited, not answered for made-up paths: as it was.
        assert_eq!(sig(&f, &shell(false, Some(1.0))), Signal::Ok);
        // A notice still says what it says.
        let notice = PageEvidence {
            error_phrase: Some("页面不存在".into()),
            ..shell(true, None)
        };
        assert_eq!(sig(&f, &notice), Signal::SoftNotFound);
        // Without the shell, the probe decides as before.
        let probe = PageEvidence {
            like_probe: true,
            ..Default::default()
        };
        assert_eq!(sig(&f, &probe), Signal::SoftNotFound);
    }

    #[test]
    fn a_page_other_articles_are_sent_to_is_no_move() {
        let mut f = facts("http", Some(200));
        f.final_url = "http://a.example/expired.html";
        f.permanent_redirect = true;
        let shared = |similarity, article| PageEvidence {
            shared_landing: Some(1),
            similarity,
            article,
            ..Default::default()
        };
        // Later nights: not the copy cited, whatever the page is.
        let (s, why) = classify(&f, &shared(Some(0.1), true), Status::Ok, 0.8);
        assert_eq!(s, Signal::SoftNotFound);
        assert_eq!(
            why,
            "redirects to http://a.example/expired.html, where 1 other cited page lands too"
        );
        // The first night: a notice or a list, not an article, of the same
        // site, where more land: two short links to one short document are
        // not two articles sent away.
        assert_eq!(sig(&f, &shared(None, false)), Signal::Moved);
        let more = |article| PageEvidence {
            shared_landing: Some(2),
            ..shared(None, article)
        };
        assert_eq!(sig(&f, &more(false)), Signal::SoftNotFound);
        let mut elsewhere = f.clone();
        elsewhere.final_url = "http://b.example/expired.html";
        assert_eq!(sig(&elsewhere, &more(false)), Signal::Moved);
        // An article there, with nothing to compare, may be the one cited.
        assert_eq!(sig(&f, &more(true)), Signal::Moved);
        // A temporary redirect (a maintenance page, a cookie check): no.
        let mut temporary = f.clone();
        temporary.permanent_redirect = false;
        assert_ne!(sig(&temporary, &more(false)), Signal::SoftNotFound);
        assert_ne!(
            sig(&temporary, &shared(Some(0.1), false)),
            Signal::SoftNotFound
        );
        // The copy cited is there: a move, wherever else others land.
        assert_eq!(sig(&f, &shared(Some(0.95), false)), Signal::Moved);
        // Its baseline was taken there (the first night judged it alone):
        // the landing compared with itself proves nothing.
        let landed = PageEvidence {
            baseline_landed_here: true,
            shared_landing: Some(2),
            ..shared(Some(1.0), false)
        };
        assert_eq!(sig(&f, &landed), Signal::SoftNotFound);
        let article_there = PageEvidence {
            baseline_landed_here: true,
            ..shared(Some(1.0), true)
        };
        assert_eq!(sig(&f, &article_there), Signal::Moved);
        // Alone there: a move (or a rewrite) as before.
        let alone = PageEvidence {
            shared_landing: Some(0),
            ..Default::default()
        };
        assert_eq!(sig(&f, &alone), Signal::Moved);
    }

    #[test]
    fn drift_and_moves() {
        let mut f = facts("http", Some(200));
        let same = PageEvidence {
            similarity: Some(0.97),
            ..Default::default()
        };
        assert_eq!(sig(&f, &same), Signal::Ok);
        let rewritten = PageEvidence {
            similarity: Some(0.38),
            baseline_date: Some("2020-12-27".into()),
            ..Default::default()
        };
        let (s, why) = classify(&f, &rewritten, Status::Ok, 0.8);
        assert_eq!(s, Signal::Changed);
        assert_eq!(
            why,
            "main text 62% different from the copy archived on 2020-12-27"
        );
        f.permanent_redirect = true;
        f.final_url = "http://a.example/politics/2020-12/26/c_1.htm";
        assert_eq!(sig(&f, &same), Signal::Moved);
        // A move whose content no longer matches is a change, not a move.
        assert_eq!(sig(&f, &rewritten), Signal::Changed);
        // A permanent redirect to the homepage is never a move.
        let home = PageEvidence {
            sent_to_root: true,
            similarity: Some(0.2),
            baseline_date: Some("2020-12-27".into()),
            ..Default::default()
        };
        assert_eq!(sig(&f, &home), Signal::SoftNotFound);
        let first_check_home = PageEvidence {
            sent_to_root: true,
            ..Default::default()
        };
        assert_eq!(sig(&f, &first_check_home), Signal::SoftNotFound);
        // But a landing that looks like a section and holds the cited text is
        // the article under a short slug.
        f.url = "https://blog.example/?p=123";
        f.final_url = "https://blog.example/lockdown-lifted/";
        let slug = PageEvidence {
            sent_to_root: true,
            similarity: Some(0.99),
            baseline_date: Some("2020-12-27".into()),
            ..Default::default()
        };
        assert_eq!(sig(&f, &slug), Signal::Moved);
    }

    /// Issue 5: "a deep link sent to the homepage is never `moved`". A
    /// blog's front page shows its latest post in full, so for a while it
    /// matches the article a retired deep link was sent away from; "update
    /// the link" to the homepage would cite another post tomorrow.
    #[test]
    fn a_deep_link_sent_to_the_homepage_is_never_moved_even_while_it_shows_the_text() {
        let mut f = facts("http", Some(200));
        f.permanent_redirect = true;
        for home in [
            "http://a.example/",
            "http://a.example/index.html",
            "https://www.a.example/",
        ] {
            f.final_url = home;
            let page = PageEvidence {
                sent_to_root: true,
                like_home: true,
                similarity: Some(0.97),
                baseline_date: Some("2020-12-27".into()),
                ..Default::default()
            };
            let (s, why) = classify(&f, &page, Status::Ok, 0.8);
            assert_eq!(s, Signal::Ok, "{home}: {why}");
            assert!(why.contains("front page"), "{home}: {why}");
        }
        // Another page of the site holding the text is still a move.
        f.final_url = "http://a.example/politics/2020-12/26/c_1.htm";
        let same = PageEvidence {
            similarity: Some(0.97),
            ..Default::default()
        };
        assert_eq!(sig(&f, &same), Signal::Moved);
    }

    #[test]
    fn a_first_check_already_redirected_is_moved_as_later_ones_would_be() {
        let mut f = facts("http", Some(200));
        f.permanent_redirect = true;
        f.url = "http://a.example/2020/12/26/c_1.htm";
        f.final_url = "http://a.example/politics/2020-12/26/c_1.htm";
        let first = PageEvidence::default();
        assert_eq!(sig(&f, &first), Signal::Moved);
        let later = PageEvidence {
            similarity: Some(1.0),
            baseline_date: Some("2020-12-27".into()),
            ..Default::default()
        };
        assert_eq!(sig(&f, &later), Signal::Moved);
        // A temporary redirect is not a move, first check or not.
        f.permanent_redirect = false;
        assert_eq!(sig(&f, &first), Signal::Ok);
    }

    #[test]
    fn the_same_address_spelled_another_way_is_not_a_move() {
        let mut f = facts("http", Some(200));
        f.permanent_redirect = true;
        let same = PageEvidence {
            similarity: Some(1.0),
            baseline_date: Some("2020-12-27".into()),
            ..Default::default()
        };
        for (from, to) in [
            ("http://www.gov.cn/a/b.htm", "https://www.gov.cn/a/b.htm"),
            ("http://gov.cn/a/b.htm", "https://www.gov.cn/a/b.htm"),
            ("https://x.example/a/b", "https://x.example/a/b/"),
            ("http://x.example:80/a?id=1", "https://x.example/a?id=1"),
            ("http://x.example./a/b", "http://x.example/a/b"),
            ("http://x.example/a/b", "https://x.example./a/b"),
        ] {
            f.url = from;
            f.final_url = to;
            assert_eq!(sig(&f, &same), Signal::Ok, "{from} -> {to}");
            assert_eq!(sig(&f, &PageEvidence::default()), Signal::Ok, "{from}");
        }
        for (from, to) in [
            ("http://xinhuanet.com/a.htm", "https://news.cn/a.htm"),
            ("https://x.example/a?id=1", "https://x.example/a?id=2"),
            ("http://x.example:8080/a", "http://x.example/a"),
        ] {
            f.url = from;
            f.final_url = to;
            assert_eq!(sig(&f, &same), Signal::Moved, "{from} -> {to}");
        }
    }

    #[test]
    fn not_modified_keeps_the_content_verdict() {
        let f = facts("not_modified", Some(304));
        let p = PageEvidence::default();
        assert_eq!(classify(&f, &p, Status::Changed, 0.8).0, Signal::Changed);
        assert_eq!(classify(&f, &p, Status::Ok, 0.8).0, Signal::Ok);
        assert_eq!(classify(&f, &p, Status::Failing, 0.8).0, Signal::Ok);
    }
}
