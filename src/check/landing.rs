//! Pages that several cited articles are sent to.
//!
//! A site that removes an article often redirects it, with a 301 or 308 like
//! a real move, to one page it keeps for all of them: "this content has expired", a
//! topic index, the latest headlines. Followed one at a time, each such
//! redirect looks like a move (the first night) or a rewrite (later nights).
//! Seen together they are not: distinct articles do not move to one address.
//! The probe finds such a page when a made-up path is sent there too; this
//! finds it when only real, removed paths are.
//!
//! The count spans the run and the store: what each source's latest check
//! landed on is read at the run's start, and every redirect of the run is
//! added as it comes. A source judged a move before enough others had landed
//! there is held back and judged again once the run's fetches are in.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use url::Url;

use super::soft404;

/// How many distinct cited articles must land on one page, besides the one
/// judged, for that page to be taken for a landing of removed articles, when
/// the copy cited was taken elsewhere and does not match it.
pub const OTHERS: usize = 1;

/// The same, when there is no copy cited to compare with (the source was
/// already sent there at its first check): only a page of the same site that
/// does not read as an article, and more of them, since two short links to
/// one short document would otherwise look like two articles sent away.
pub const OTHERS_UNSEEN: usize = 2;

/// Landing page → the distinct cited articles known to be redirected there.
#[derive(Debug, Default)]
pub struct Landings {
    by_landing: Mutex<HashMap<String, HashSet<String>>>,
}

impl Landings {
    /// The landings of the store: each source's URL, where its latest check
    /// ended, and that check's redirect chain (as stored, JSON). As in a run,
    /// only a chain that moved the source for good counts: a temporary
    /// redirect to a maintenance page, or a sign-in, says nothing of the
    /// article.
    pub fn seeded<'a>(
        redirects: impl IntoIterator<Item = (&'a str, &'a str, Option<&'a str>)>,
    ) -> Self {
        let landings = Landings::default();
        for (url, final_url, hops) in redirects {
            if hops.is_some_and(|h| moved_permanently_as_stored(url, h)) {
                landings.note(url, final_url);
            }
        }
        landings
    }

    /// Records that `url` was redirected to `final_url`, and returns how many
    /// other distinct articles are known to land there. `None` when this is
    /// not a deep link sent to another document.
    pub fn note(&self, url: &str, final_url: &str) -> Option<usize> {
        let (key, landing) = article_and_landing(url, final_url)?;
        let mut map = self.by_landing.lock().unwrap_or_else(|e| e.into_inner());
        let articles = map.entry(landing).or_default();
        articles.insert(key.clone());
        Some(articles.len() - 1)
    }

    /// How many other distinct articles are known to land where `url` was
    /// redirected (after [`Landings::note`] of it): at a run's end, the count
    /// its first redirects there were judged without.
    pub fn others(&self, url: &str, final_url: &str) -> Option<usize> {
        let (key, landing) = article_and_landing(url, final_url)?;
        let map = self.by_landing.lock().unwrap_or_else(|e| e.into_inner());
        let articles = map.get(&landing)?;
        Some(articles.len() - usize::from(articles.contains(&key)))
    }

    /// How many distinct articles are known to land on `final_url`.
    #[cfg(test)]
    fn landed(&self, final_url: &str) -> usize {
        let Ok(landing) = Url::parse(final_url) else {
            return 0;
        };
        let map = self.by_landing.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&landing_key(&landing)).map_or(0, HashSet::len)
    }
}

/// The article a deep link names (its last path segment and query, so that
/// `m.` and `www.` addresses of one article count once) and the landing it
/// was sent to. `None` for a link to a front or section page, and for a
/// redirect to the same document name (a canonical address of the article
/// itself).
fn article_and_landing(url: &str, final_url: &str) -> Option<(String, String)> {
    let (url, landing) = (Url::parse(url).ok()?, Url::parse(final_url).ok()?);
    if soft404::is_site_root_or_section(&url) {
        return None;
    }
    let key = article_key(&url)?;
    if article_key(&landing).as_deref() == Some(key.as_str()) {
        return None;
    }
    Some((key, landing_key(&landing)))
}

/// Trackers and pagination are left out of the query: `?utm_source=a` and
/// `?page=2` name the same article as the bare address.
fn article_key(url: &Url) -> Option<String> {
    let last = url.path_segments()?.rev().find(|s| !s.is_empty())?;
    let query: Vec<String> = url
        .query_pairs()
        .filter(|(k, _)| !soft404::is_harmless_query_key(k) && !k.eq_ignore_ascii_case("page"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    Some(format!("{}?{}", last.to_ascii_lowercase(), query.join("&")))
}

/// [`super::classify::moved_permanently`] of a redirect chain as the store
/// keeps it; false when it cannot be read.
fn moved_permanently_as_stored(url: &str, hops_json: &str) -> bool {
    /// The part of a stored hop (`fetch::Hop`) that says where it went and how.
    #[derive(serde::Deserialize)]
    struct StoredHop {
        status: u16,
        resolved: String,
    }
    serde_json::from_str::<Vec<StoredHop>>(hops_json).is_ok_and(|hops| {
        super::classify::moved_permanently(
            url,
            hops.iter().map(|h| (h.status, h.resolved.as_str())),
        )
    })
}

/// A landing by its address, whatever its spelling (http or https, `www.`, a
/// trailing slash, a fragment, which the server never sees).
fn landing_key(landing: &Url) -> String {
    crate::source_url::address_key(landing.as_str()).unwrap_or_else(|| {
        let mut landing = landing.clone();
        landing.set_fragment(None);
        landing.into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_articles_sent_to_one_page_share_it() {
        let l = Landings::default();
        let expired = "https://a.example/expired.html";
        assert_eq!(l.note("https://a.example/news/1.html", expired), Some(0));
        assert_eq!(l.landed(expired), 1);
        assert_eq!(l.others("https://a.example/news/1.html", expired), Some(0));
        assert_eq!(l.note("https://b.example/world/2.html", expired), Some(1));
        assert_eq!(l.landed(expired), 2);
        // The first, asked again at the run's end.
        assert_eq!(l.others("https://a.example/news/1.html", expired), Some(1));
        assert_eq!(
            l.others("https://a.example/news/1.html", "https://x.example/a.html"),
            None
        );
        // Noting one again counts it once.
        assert_eq!(l.note("https://a.example/news/1.html", expired), Some(1));
        // The fragment is the reader's, not the server's.
        assert_eq!(l.landed("https://a.example/expired.html#top"), 2);
        assert_eq!(l.landed("https://a.example/other.html"), 0);
        // Nor does the spelling of the page's address count: a third article
        // sent there over http, with `www.`, is the page's third.
        assert_eq!(
            l.note(
                "https://c.example/news/3.html",
                "http://www.a.example/expired.html"
            ),
            Some(2)
        );
        assert_eq!(l.landed(expired), 3);
        assert_eq!(l.landed("https://a.example/expired.html?v=2"), 0);
    }

    #[test]
    fn addresses_of_one_article_count_once() {
        let l = Landings::default();
        let to = "https://www.news.example/politics/c_11269.htm";
        assert_eq!(l.note("http://m.news.example/c_99.htm", to), Some(0));
        assert_eq!(l.note("http://www.news.example/x/C_99.htm", to), Some(0));
        assert_eq!(l.landed(to), 1);
    }

    #[test]
    fn a_canonical_address_of_the_article_itself_is_no_landing() {
        let l = Landings::default();
        let canonical = "https://news.example/2020/c_99.htm";
        assert_eq!(l.note("http://m.news.example/c_99.htm", canonical), None);
        assert_eq!(
            l.note("https://news.example/2021/c_99.htm", canonical),
            None
        );
        assert_eq!(l.landed(canonical), 0);
    }

    #[test]
    fn trackers_and_pages_name_the_same_article() {
        let l = Landings::default();
        let to = "https://a.example/files/report.pdf";
        for from in [
            "https://a.example/files/report.pdf?utm_source=newsletter",
            "https://a.example/files/report.pdf?utm_source=twitter&from=groupmessage",
        ] {
            assert_eq!(l.note(from, to), None, "{from}");
        }
        let thread = "https://a.example/thread/123";
        assert_eq!(l.note("https://b.example/t/123?page=2", thread), None);
        let expired = "https://a.example/expired";
        assert_eq!(
            l.note("https://a.example/a.php?id=1&utm_medium=x", expired),
            Some(0)
        );
        assert_eq!(l.note("https://a.example/a.php?id=1", expired), Some(0));
        assert_eq!(l.note("https://a.example/a.php?id=2", expired), Some(1));
    }

    #[test]
    fn links_to_front_pages_are_not_articles() {
        let l = Landings::default();
        let to = "https://news.example/portal/welcome.html";
        assert_eq!(l.note("https://news.example/", to), None);
        assert_eq!(l.note("https://news.example/world/", to), None);
        assert_eq!(l.note("not a url", to), None);
        assert_eq!(l.landed(to), 0);
    }

    /// A stored chain of one hop from `url` to `to`.
    fn chain(url: &str, status: u16, to: &str) -> String {
        serde_json::to_string(&[crate::fetch::Hop {
            url: url.into(),
            status,
            location: to.into(),
            resolved: to.into(),
        }])
        .unwrap()
    }

    #[test]
    fn the_store_seeds_the_count() {
        let expired = "https://a.example/expired.html";
        let (n1, n2) = (
            "https://a.example/news/1.html",
            "https://a.example/news/2.html",
        );
        let (c1, c2) = (chain(n1, 301, expired), chain(n2, 308, expired));
        let l = Landings::seeded([
            (n1, expired, Some(c1.as_str())),
            (n2, expired, Some(c2.as_str())),
        ]);
        assert_eq!(l.note("https://a.example/news/3.html", expired), Some(2));
    }

    #[test]
    fn a_temporary_redirect_in_the_store_does_not_count() {
        let latest = "https://a.example/latest.html";
        let urls = [
            "https://a.example/news/1.html",
            "https://a.example/news/2.html",
            "https://a.example/news/3.html",
            "https://a.example/news/4.html",
        ];
        let chains = [
            chain(urls[0], 302, latest),
            chain(urls[1], 307, latest),
            // A permanent hop that only respells the address, then a
            // temporary one: no move either.
            format!(
                "[{},{}]",
                chain(urls[2], 301, "http://a.example/news/3.html/").trim_matches(['[', ']']),
                chain("http://a.example/news/3.html/", 302, latest).trim_matches(['[', ']'])
            ),
            "not json".to_string(),
        ];
        let l = Landings::seeded(
            urls.iter()
                .zip(&chains)
                .map(|(u, c)| (*u, latest, Some(c.as_str())))
                .chain([("https://a.example/news/5.html", latest, None)]),
        );
        assert_eq!(l.note("https://a.example/news/9.html", latest), Some(0));
    }
}
