//! Reading a fetched page for the verdict, over the pure analysis modules: the
//! title and main text ([`super::page`]), the main-text fingerprint
//! ([`super::fingerprint`]) and soft-404 signs ([`super::soft404`]). What it finds is stored with each capture as
//! JSON, so an unchanged page is never read twice and the baseline's fingerprint
//! is always at hand.

use serde::{Deserialize, Serialize};
use url::Url;

use super::fingerprint::{self, Fingerprint};
use super::{page, soft404};

/// What reading a page found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// `<title>`.
    pub title: Option<String>,
    /// Main-text fingerprint; `None` when the body is not text.
    pub fingerprint: Option<Fingerprint>,
    /// A not-found / removed notice.
    pub error_phrase: Option<String>,
    /// A bot challenge instead of the page.
    pub bot_challenge: bool,
}

/// Titles of the interstitial pages bot defences serve instead of the page.
const CHALLENGES: &[&str] = &[
    "just a moment...",
    "attention required! | cloudflare",
    "checking your browser",
    "ddos-guard",
    "verifying you are human",
    "安全验证",
    "人机验证",
];

/// Reads a body.
pub fn read(body: &[u8], content_type: Option<&str>) -> Reading {
    let p = page::read_page(body, content_type);
    if !p.is_html && p.main_text.is_empty() {
        return Reading::default();
    }
    let lower_title = p.title.as_deref().unwrap_or("").to_lowercase();
    Reading {
        fingerprint: Some(fingerprint::fingerprint(&p.main_text)),
        error_phrase: soft404::error_page_phrase(p.title.as_deref(), &p.main_text)
            .map(str::to_string),
        bot_challenge: CHALLENGES.iter().any(|c| lower_title.contains(c)),
        title: p.title,
    }
}

/// The fingerprint inside a stored reading (JSON).
pub fn fingerprint_of(reading_json: &str) -> Option<Fingerprint> {
    serde_json::from_str::<Reading>(reading_json)
        .ok()?
        .fingerprint
}

/// Similarity of two fingerprints (0..=1); `None` when either page had no text.
pub fn similarity(a: &Fingerprint, b: &Fingerprint) -> Option<f64> {
    (!a.is_empty() && !b.is_empty()).then(|| fingerprint::similarity(a, b))
}

/// A deep link whose redirects ended on the site's root or a section root.
pub fn sent_to_root(requested: &str, final_url: &str) -> bool {
    match (Url::parse(requested), Url::parse(final_url)) {
        (Ok(r), Ok(f)) => soft404::deep_link_sent_to_root(&r, &f),
        _ => false,
    }
}

/// A sibling of `cited` that cannot exist.
pub fn probe_url(cited: &str, token: &str) -> Option<String> {
    Url::parse(cited)
        .ok()
        .map(|u| soft404::probe_url(&u, token).to_string())
}

/// The page is what the host answers for a path that cannot exist.
pub fn like_probe(
    page: &Fingerprint,
    final_url: &str,
    probe: &Fingerprint,
    probe_final: &str,
) -> bool {
    match (Url::parse(final_url), Url::parse(probe_final)) {
        (Ok(f), Ok(p)) => soft404::looks_like_probe(page, &f, probe, &p),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_survives_the_store() {
        let html = b"<html><head><title>Xinhua: a headline</title></head><body><article><p>The committee \
            passed amendments to the national defense law, officials said on Saturday, and the new rules \
            take effect next year across all provinces.</p></article></body></html>";
        let r = read(html, Some("text/html; charset=utf-8"));
        assert_eq!(r.title.as_deref(), Some("Xinhua: a headline"));
        let json = serde_json::to_string(&r).unwrap();
        let back = fingerprint_of(&json).unwrap();
        assert_eq!(
            similarity(&back, r.fingerprint.as_ref().unwrap()),
            Some(1.0)
        );
    }

    #[test]
    fn error_pages_and_challenges_are_named() {
        let r = read(
            "<html><head><title>页面不存在</title></head><body>您访问的页面不存在</body></html>"
                .as_bytes(),
            Some("text/html"),
        );
        assert!(r.error_phrase.is_some());
        let r = read(
            b"<html><head><title>Just a moment...</title></head><body>Checking</body></html>",
            None,
        );
        assert!(r.bot_challenge);
        assert_eq!(
            read(b"%PDF-1.4 binary", Some("application/pdf")),
            Reading::default()
        );
    }

    #[test]
    fn homepage_redirect_versus_a_legitimate_move() {
        assert!(sent_to_root(
            "http://www.xinhuanet.com/local/2020-12/26/c_1126910999.htm",
            "http://www.xinhuanet.com/"
        ));
        assert!(!sent_to_root(
            "http://www.xinhuanet.com/2020/12/26/c_1126910999.htm",
            "http://www.xinhuanet.com/politics/2020-12/26/c_1126910999.htm"
        ));
    }
}
