//! The cookies of one fetch: what its answers set, sent on its later hops and
//! retries, as a browser would, and dropped with the fetch.
//!
//! A jar of our own over `cookie_store` (the store reqwest's `Jar` wraps),
//! not reqwest's cookie feature: that feature puts a layer in front of every
//! request of the shared client, which parsed each request's URL again to look
//! for a store the client never has (a few percent of the network thread on a
//! night of 304s). Most fetches never meet a cookie, so the store is made only
//! when the first one arrives.

use std::sync::Mutex;

use cookie_store::{CookieStore, RawCookie};
use reqwest::header::HeaderValue;
use url::Url;

/// One fetch's cookies. A mutex, not a cell, because a fetch is a future the
/// service may move between threads; it is never contended.
#[derive(Debug, Default)]
pub(super) struct Jar(Mutex<Option<CookieStore>>);

impl Jar {
    /// Keeps the cookies set by `set_cookie` headers of an answer from `url`
    /// (domain, path, expiry and secure rules as `cookie_store` applies them;
    /// a header that does not parse is skipped, as a browser skips it).
    pub(super) fn set_cookies<'a>(
        &self,
        set_cookie: impl Iterator<Item = &'a HeaderValue>,
        url: &Url,
    ) {
        let mut parsed = set_cookie
            .filter_map(|v| std::str::from_utf8(v.as_bytes()).ok())
            .filter_map(|v| RawCookie::parse(v.to_owned()).ok())
            .peekable();
        if parsed.peek().is_none() {
            return;
        }
        let mut store = self.0.lock().unwrap_or_else(|e| e.into_inner());
        store
            .get_or_insert_with(CookieStore::default)
            .store_response_cookies(parsed, url);
    }

    /// The `Cookie` header a request to `url` carries, if any cookie applies.
    pub(super) fn cookies(&self, url: &Url) -> Option<HeaderValue> {
        let store = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let line = store
            .as_ref()?
            .get_request_values(url)
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        if line.is_empty() {
            return None;
        }
        HeaderValue::from_str(&line).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn set(jar: &Jar, at: &str, headers: &[&str]) {
        let values: Vec<HeaderValue> = headers
            .iter()
            .map(|h| HeaderValue::from_str(h).unwrap())
            .collect();
        jar.set_cookies(values.iter(), &url(at));
    }

    #[test]
    fn an_empty_jar_sends_nothing() {
        let jar = Jar::default();
        assert_eq!(jar.cookies(&url("http://a.example/x")), None);
        set(&jar, "http://a.example/x", &[]);
        assert_eq!(jar.cookies(&url("http://a.example/x")), None);
    }

    #[test]
    fn cookies_go_back_to_their_site_and_path_only() {
        let jar = Jar::default();
        set(
            &jar,
            "http://a.example/news/1",
            &["sid=abc; Path=/", "seen=1; Path=/news", "not a cookie"],
        );
        let sent = jar.cookies(&url("http://a.example/news/2")).unwrap();
        let mut pairs: Vec<&str> = sent.to_str().unwrap().split("; ").collect();
        pairs.sort();
        assert_eq!(pairs, ["seen=1", "sid=abc"]);
        assert_eq!(
            jar.cookies(&url("http://a.example/other")).unwrap(),
            "sid=abc"
        );
        assert_eq!(jar.cookies(&url("http://b.example/news/2")), None);
    }

    #[test]
    fn a_cookie_whose_value_is_not_ascii_goes_back_as_it_came() {
        // Such values come as raw UTF-8 bytes, which a header may carry
        // (obs-text), as reqwest's own jar sent them back.
        let jar = Jar::default();
        let value = HeaderValue::from_bytes("city=北京; Path=/".as_bytes()).unwrap();
        jar.set_cookies(std::iter::once(&value), &url("http://a.example/"));
        let sent = jar.cookies(&url("http://a.example/x")).unwrap();
        assert_eq!(sent.as_bytes(), "city=北京".as_bytes());
    }

    #[test]
    fn an_expired_cookie_is_dropped() {
        let jar = Jar::default();
        set(&jar, "http://a.example/", &["sid=abc"]);
        set(&jar, "http://a.example/", &["sid=gone; Max-Age=0"]);
        assert_eq!(jar.cookies(&url("http://a.example/")), None);
    }

    #[test]
    fn a_secure_cookie_is_not_sent_over_plain_http() {
        let jar = Jar::default();
        set(&jar, "https://a.example/", &["sid=abc; Secure"]);
        assert_eq!(jar.cookies(&url("https://a.example/")).unwrap(), "sid=abc");
        assert_eq!(jar.cookies(&url("http://a.example/")), None);
    }
}
