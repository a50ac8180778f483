//! Reading a fetched page for the verdict: title, main-text fingerprint, error
//! phrases, bot challenges, and the soft-404 tests that need URLs.
//!
//! Interim implementation: a plain-text reading and word shingles. The page
//! analysis modules replace the internals; this interface stays.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};

/// What reading a page found.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Reading {
    /// `<title>`.
    pub title: Option<String>,
    /// Main-text fingerprint, serialised for the store.
    pub fingerprint: Option<String>,
    /// A not-found / removed notice.
    pub error_phrase: Option<String>,
    /// A bot challenge instead of the page.
    pub bot_challenge: bool,
}

const PHRASES: &[&str] = &[
    "页面不存在",
    "您访问的页面不存在",
    "page not found",
    "404 not found",
    "not found",
];
const CHALLENGES: &[&str] = &[
    "just a moment...",
    "attention required! | cloudflare",
    "checking your browser",
];

fn text_of(html: &str) -> (Option<String>, String) {
    let doc = dom_query::Document::from(html);
    let title = doc.select("title").text().trim().to_string();
    doc.select("script, style, noscript, nav, footer, header, aside")
        .remove();
    let body = doc.select("body").text().to_string();
    ((!title.is_empty()).then_some(title), body)
}

fn shingles(text: &str) -> Vec<u64> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| w.to_lowercase())
        .filter(|w| {
            !w.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_punctuation())
        })
        .collect();
    let mut set = BTreeSet::new();
    for win in words.windows(4) {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        win.hash(&mut h);
        set.insert(h.finish());
    }
    set.into_iter().take(512).collect()
}

/// Reads a body.
pub fn read(body: &[u8], content_type: Option<&str>) -> Reading {
    let html = content_type.is_none_or(|c| c.contains("html"));
    if !html && !content_type.is_some_and(|c| c.starts_with("text/")) {
        return Reading::default();
    }
    let text = crate::briefing::decode(&body[..body.len().min(4 << 20)], html).text;
    let (title, main) = if html { text_of(&text) } else { (None, text) };
    let lower_title = title.as_deref().unwrap_or("").to_lowercase();
    let short = main.chars().count() < 2000;
    let error_phrase = PHRASES
        .iter()
        .find(|p| lower_title.contains(*p) || (short && main.to_lowercase().contains(*p)))
        .map(|p| p.to_string());
    let bot_challenge = CHALLENGES.iter().any(|c| lower_title.contains(c));
    Reading {
        fingerprint: serde_json::to_string(&shingles(&main)).ok(),
        title,
        error_phrase,
        bot_challenge,
    }
}

/// The fingerprint inside a stored reading (JSON).
pub fn fingerprint_of(reading_json: &str) -> Option<String> {
    serde_json::from_str::<Reading>(reading_json)
        .ok()?
        .fingerprint
}

/// Similarity of two stored fingerprints (0..=1).
pub fn similarity(a: &str, b: &str) -> Option<f64> {
    let a: BTreeSet<u64> = serde_json::from_str::<Vec<u64>>(a)
        .ok()?
        .into_iter()
        .collect();
    let b: BTreeSet<u64> = serde_json::from_str::<Vec<u64>>(b)
        .ok()?
        .into_iter()
        .collect();
    if a.is_empty() && b.is_empty() {
        return Some(1.0);
    }
    let inter = a.intersection(&b).count() as f64;
    Some(inter / a.union(&b).count() as f64)
}

/// A deep link whose redirects ended on the site's root or a section root.
pub fn sent_to_root(requested: &str, final_url: &str) -> bool {
    let (Ok(req), Ok(fin)) = (url::Url::parse(requested), url::Url::parse(final_url)) else {
        return false;
    };
    let segments = |u: &url::Url| {
        u.path_segments()
            .map_or(0, |s| s.filter(|x| !x.is_empty()).count())
    };
    segments(&req) >= 2 && segments(&fin) <= 1 && req.path() != fin.path()
}

/// A sibling of `cited` that cannot exist.
pub fn probe_url(cited: &str, token: &str) -> Option<String> {
    let u = url::Url::parse(cited).ok()?;
    u.join(&format!("citewatch-probe-{token}.html"))
        .ok()
        .map(|u| u.to_string())
}

/// The page is what the host answers for a path that cannot exist.
pub fn like_probe(page: &str, final_url: &str, probe: &str, probe_final: &str) -> bool {
    final_url == probe_final || similarity(page, probe).is_some_and(|s| s >= 0.9)
}
