//! Pages that redirects lead to, kept for the rest of a run so that each is
//! fetched once.
//!
//! A site that retires its old articles sends them all to one page: its front
//! page, a section, a "this content has been removed" notice. Every cited
//! article there would fetch that page again: one more request per source to
//! a host that is usually paced at one a second, and the same bytes
//! downloaded each time. The first answer is kept and handed to the later
//! redirects, which still pass the address guard and robots.txt hop by hop.
//!
//! Only an answer that could not have differed for another fetch is shared:
//! to a request that carried no cookie and no validator, setting no cookie,
//! complete, held in memory, and not a server error or a refusal (those may
//! be gone by the next request, and each source should meet them itself).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::body::{BodyWriter, SPILL_AT};
use super::outcome::{Header, Outcome};

/// Bytes of kept pages at most: a few large front pages, or many notices.
const MAX_BYTES: usize = 8 * 1024 * 1024;

/// One kept answer.
struct Kept {
    status: u16,
    headers: Vec<Header>,
    body: Vec<u8>,
}

#[derive(Default)]
struct Pages {
    by_url: HashMap<String, Arc<Kept>>,
    bytes: usize,
}

/// The run's kept landing pages, by URL.
#[derive(Default)]
pub(super) struct Landings {
    pages: Mutex<Pages>,
}

impl Landings {
    /// The kept answer for `url`, as a fresh outcome.
    pub(super) fn get(&self, url: &str) -> Option<Outcome> {
        let kept = self.lock().by_url.get(url).cloned()?;
        let mut body = BodyWriter::with_capacity(Some(kept.body.len() as u64));
        // Within SPILL_AT, so this stays in memory and cannot fail.
        body.push(&kept.body).ok()?;
        Some(Outcome::Response {
            status: kept.status,
            headers: kept.headers.clone(),
            body: body.finish(false),
        })
    }

    /// Keeps `outcome` as `url`'s answer when it may be shared (see the module
    /// doc); the request must have carried no cookie and no validator.
    pub(super) fn keep(&self, url: &str, outcome: &Outcome) {
        let Outcome::Response {
            status,
            headers,
            body,
        } = outcome
        else {
            return;
        };
        let shareable = !matches!(*status, 401 | 403 | 407 | 408 | 429 | 500..)
            && !body.truncated()
            && !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("set-cookie"));
        let Some(bytes) = body.as_slice().filter(|b| shareable && b.len() <= SPILL_AT) else {
            return;
        };
        let mut pages = self.lock();
        if pages.bytes + bytes.len() > MAX_BYTES || pages.by_url.contains_key(url) {
            return;
        }
        pages.bytes += bytes.len();
        pages.by_url.insert(
            url.to_string(),
            Arc::new(Kept {
                status: *status,
                headers: headers.clone(),
                body: bytes.to_vec(),
            }),
        );
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pages> {
        self.pages.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, headers: &[(&str, &str)], body: &[u8], truncated: bool) -> Outcome {
        let mut w = BodyWriter::new();
        w.push(body).unwrap();
        Outcome::Response {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: w.finish(truncated),
        }
    }

    fn body_of(o: &Outcome) -> Vec<u8> {
        o.body().unwrap().to_vec().unwrap()
    }

    #[test]
    fn a_kept_page_comes_back_whole_under_its_url_only() {
        let l = Landings::default();
        l.keep(
            "http://a.example/",
            &answer(200, &[("etag", "\"1\"")], b"front", false),
        );
        let got = l.get("http://a.example/").unwrap();
        assert_eq!(got.status(), Some(200));
        assert_eq!(body_of(&got), b"front");
        assert!(l.get("http://a.example/other").is_none());
        // The first answer stands.
        l.keep("http://a.example/", &answer(200, &[], b"second", false));
        assert_eq!(body_of(&l.get("http://a.example/").unwrap()), b"front");
    }

    #[test]
    fn answers_another_fetch_might_not_get_are_not_kept() {
        let l = Landings::default();
        let cases = [
            (
                "http://a.example/ck",
                answer(200, &[("Set-Cookie", "s=1")], b"x", false),
            ),
            ("http://a.example/cut", answer(200, &[], b"x", true)),
            ("http://a.example/busy", answer(503, &[], b"x", false)),
            ("http://a.example/slow-down", answer(429, &[], b"x", false)),
            ("http://a.example/no", answer(403, &[], b"x", false)),
        ];
        for (url, outcome) in &cases {
            l.keep(url, outcome);
            assert!(l.get(url).is_none(), "{url}");
        }
        l.keep("http://a.example/gone", &answer(404, &[], b"gone", false));
        assert_eq!(l.get("http://a.example/gone").unwrap().status(), Some(404));
    }

    #[test]
    fn the_kept_pages_are_bounded_in_bytes() {
        let l = Landings::default();
        let page = vec![b'x'; SPILL_AT];
        for i in 0..(MAX_BYTES / SPILL_AT) + 2 {
            l.keep(
                &format!("http://a.example/{i}"),
                &answer(200, &[], &page, false),
            );
        }
        let kept = (0..(MAX_BYTES / SPILL_AT) + 2)
            .filter(|i| l.get(&format!("http://a.example/{i}")).is_some())
            .count();
        assert_eq!(kept, MAX_BYTES / SPILL_AT);
        assert!(l.lock().bytes <= MAX_BYTES);
    }
}
