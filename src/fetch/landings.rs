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
//!
//! Fetches that reach a landing while it is being requested wait for that
//! answer rather than ask again: a host's retired articles are usually
//! checked side by side. When it cannot be shared, those that waited go on
//! at once, each on its own; a later fetch may still keep a good answer
//! (the first was a passing 503, say), unless the landing's answers can
//! never be kept (it sets a cookie, it is too large, it redirects): then no
//! later fetch waits for another.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

use super::body::{BodyWriter, SPILL_AT};
use super::outcome::{Header, Outcome};

/// Bytes of kept answers at most: a few large front pages, or many notices.
/// Their heads and URLs count too: an answer with no page (a bare 404) is
/// no less an entry, and heads of tens of kilobytes are common.
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
    /// Landings being requested: a later fetch waits on the lock.
    flights: HashMap<String, Arc<tokio::sync::Mutex<()>>>,
    /// Landings whose answers can never be kept: fetched by each at once.
    declined: HashSet<String>,
}

/// Landings remembered as never kept, at most: past it, fetches of a
/// further one wait on each other's request, which is slower, never wrong.
const MAX_DECLINED: usize = 10_000;

/// What a fetch reaching a landing does.
pub(super) enum Arrival<'a> {
    /// The page, as kept from an earlier request of the run.
    Kept(Outcome),
    /// Request it: with a [`Flight`] that later arrivals wait on, or alone
    /// (a request it waited for brought nothing to share, or none ever
    /// will). Alone, its answer is still offered to [`Landings::keep`].
    Fetch(Option<Flight<'a>>),
}

/// Whether an answer was kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Keeping {
    /// Kept (or one was already).
    Kept,
    /// Not this one: an error, a refusal, a server busy; another may be.
    NotNow,
    /// None will be: the page sets a cookie, is too large or cut.
    Never,
}

/// The request for a landing that later arrivals wait on. Settled with its
/// answer ([`Flight::settle`]) or found to redirect ([`Flight::redirects`]);
/// dropped otherwise (the request failed, or the fetch was abandoned),
/// those waiting go on by themselves.
pub(super) struct Flight<'a> {
    landings: &'a Landings,
    url: String,
    _turn: OwnedMutexGuard<()>,
}

impl Flight<'_> {
    /// Keeps `outcome` as the landing's answer when it may be shared.
    pub(super) fn settle(self, outcome: &Outcome) {
        if self.landings.keep(&self.url, outcome) == Keeping::Never {
            self.landings.decline(&self.url);
        }
    }

    /// The URL redirects: no landing, so no fetch reaching it waits again.
    pub(super) fn redirects(self) {
        self.landings.decline(&self.url);
    }

    /// The landing sets a cookie: none of its answers will be kept, so no
    /// fetch reaching it waits again.
    pub(super) fn never_kept(self) {
        self.landings.decline(&self.url);
    }
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        leave(&mut self.landings.lock(), &self.url);
    }
}

/// A fetch waiting for another's request of a landing. Its fetch may be
/// abandoned mid-wait (a run's stop, a timeout) after the request ended and
/// left the flight to it: it is then the last to know of the flight, and
/// forgets it on its way out, or the entry would stay for the run.
struct Waiting<'a> {
    landings: &'a Landings,
    url: &'a str,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut pages = self.landings.lock();
        // The flight waited on, not a later one under the same URL.
        if pages
            .flights
            .get(self.url)
            .is_some_and(|m| Arc::ptr_eq(m, &self.lock))
        {
            leave(&mut pages, self.url);
        }
    }
}

/// Forgets `url`'s flight lock when the caller, holding it, is the last to:
/// the map's entry and the caller's guard are all that is left of it.
fn leave(pages: &mut Pages, url: &str) {
    if pages
        .flights
        .get(url)
        .is_some_and(|m| Arc::strong_count(m) <= 2)
    {
        pages.flights.remove(url);
    }
}

/// The run's kept landing pages, by URL.
#[derive(Default)]
pub(super) struct Landings {
    pages: Mutex<Pages>,
}

impl Landings {
    /// The kept answer for `url`, or the right to request it: the first to
    /// arrive gets a [`Flight`]; one arriving while it is under way waits
    /// for its answer and, if none was kept, requests it alone.
    pub(super) async fn arrive(&self, url: &str) -> Arrival<'_> {
        if let Some(outcome) = self.get(url) {
            return Arrival::Kept(outcome);
        }
        let lock = {
            let mut pages = self.lock();
            if pages.declined.contains(url) {
                return Arrival::Fetch(None);
            }
            pages.flights.entry(url.to_string()).or_default().clone()
        };
        // The guard holds the lock's only handle here, so that `leave`
        // counts it once.
        let (turn, waiting) = match Arc::clone(&lock).try_lock_owned() {
            Ok(turn) => {
                drop(lock);
                (Some(turn), None)
            }
            Err(_) => {
                let waiting = Waiting {
                    landings: self,
                    url,
                    lock,
                };
                // Only the turn is waited for: the request it waited on is
                // over, and nothing is held while the answer is looked at.
                drop(waiting.lock.lock().await);
                (None, Some(waiting))
            }
        };
        let mut pages = self.lock();
        let kept = pages.by_url.get(url).cloned();
        if let Some(turn) = turn
            && kept.is_none()
            && !pages.declined.contains(url)
        {
            return Arrival::Fetch(Some(Flight {
                landings: self,
                url: url.to_string(),
                _turn: turn,
            }));
        }
        leave(&mut pages, url);
        drop(pages);
        drop(waiting);
        match kept.and_then(|k| fresh(&k)) {
            Some(outcome) => Arrival::Kept(outcome),
            None => Arrival::Fetch(None),
        }
    }

    /// The kept answer for `url`, as a fresh outcome.
    pub(super) fn get(&self, url: &str) -> Option<Outcome> {
        let kept = self.lock().by_url.get(url).cloned()?;
        fresh(&kept)
    }

    /// Keeps `outcome` as `url`'s answer when it may be shared (see the module
    /// doc); the request must have carried no cookie and no validator.
    pub(super) fn keep(&self, url: &str, outcome: &Outcome) -> Keeping {
        let Outcome::Response {
            status,
            headers,
            body,
        } = outcome
        else {
            // Cut at the size cap, as every later answer of it will be.
            if matches!(outcome, Outcome::BodyTooLarge { .. }) {
                return Keeping::Never;
            }
            return Keeping::NotNow;
        };
        if matches!(*status, 401 | 403 | 407 | 408 | 429 | 500..) {
            return Keeping::NotNow;
        }
        let sets_cookie = headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("set-cookie"));
        let Some(bytes) = body
            .as_slice()
            .filter(|b| !sets_cookie && !body.truncated() && b.len() <= SPILL_AT)
        else {
            return Keeping::Never;
        };
        let mut pages = self.lock();
        if pages.by_url.contains_key(url) {
            return Keeping::Kept;
        }
        let cost = url.len()
            + bytes.len()
            + headers
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>();
        if pages.bytes + cost > MAX_BYTES {
            // Nothing kept is let go during a run.
            return Keeping::Never;
        }
        pages.bytes += cost;
        pages.by_url.insert(
            url.to_string(),
            Arc::new(Kept {
                status: *status,
                headers: headers.clone(),
                body: bytes.to_vec(),
            }),
        );
        Keeping::Kept
    }

    /// No fetch reaching `url` waits for another's request of it again.
    fn decline(&self, url: &str) {
        let mut pages = self.lock();
        if pages.declined.len() < MAX_DECLINED {
            pages.declined.insert(url.to_string());
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pages> {
        self.pages.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A kept answer as a fresh outcome of its own.
fn fresh(kept: &Kept) -> Option<Outcome> {
    let mut body = BodyWriter::with_capacity(Some(kept.body.len() as u64));
    // Within SPILL_AT, so this stays in memory and cannot fail.
    body.push(&kept.body).ok()?;
    Some(Outcome::Response {
        status: kept.status,
        headers: kept.headers.clone(),
        body: body.finish(false),
    })
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
                Keeping::Never,
            ),
            (
                "http://a.example/cut",
                answer(200, &[], b"x", true),
                Keeping::Never,
            ),
            (
                "http://a.example/busy",
                answer(503, &[], b"x", false),
                Keeping::NotNow,
            ),
            (
                "http://a.example/slow-down",
                answer(429, &[], b"x", false),
                Keeping::NotNow,
            ),
            (
                "http://a.example/no",
                answer(403, &[], b"x", false),
                Keeping::NotNow,
            ),
        ];
        for (url, outcome, keeping) in &cases {
            assert_eq!(l.keep(url, outcome), *keeping, "{url}");
            assert!(l.get(url).is_none(), "{url}");
        }
        // Past the size cap: cut, as every later answer of it will be.
        let mut cut = BodyWriter::new();
        cut.push(b"x").unwrap();
        let too_large = Outcome::BodyTooLarge {
            status: 200,
            headers: Vec::new(),
            body: cut.finish(true),
            limit: 1,
        };
        assert_eq!(l.keep("http://a.example/huge", &too_large), Keeping::Never);
        l.keep("http://a.example/gone", &answer(404, &[], b"gone", false));
        assert_eq!(l.get("http://a.example/gone").unwrap().status(), Some(404));
    }

    #[tokio::test]
    async fn those_waiting_for_a_request_that_failed_go_on_alone() {
        let l = Landings::default();
        let url = "http://a.example/front";
        let Arrival::Fetch(Some(first)) = l.arrive(url).await else {
            panic!("the first arrival requests it");
        };
        // A second arrival waits for the first's answer.
        let waiting = l.arrive(url);
        tokio::pin!(waiting);
        assert!(futures_util::poll!(waiting.as_mut()).is_pending());
        // The first request failed (a 503, a timeout): nothing to share.
        drop(first);
        assert!(matches!(waiting.await, Arrival::Fetch(None)));
        assert!(l.lock().flights.is_empty());
        // A later one may still bring a page to keep: it is waited for.
        let Arrival::Fetch(Some(later)) = l.arrive(url).await else {
            panic!("a later arrival requests it for the others");
        };
        // This one sets a cookie: no answer of it will be kept, and none
        // is waited for again.
        later.settle(&answer(200, &[("Set-Cookie", "s=1")], b"x", false));
        assert!(matches!(l.arrive(url).await, Arrival::Fetch(None)));
        assert!(l.lock().flights.is_empty());
    }

    #[tokio::test]
    async fn a_waiter_given_up_while_waiting_leaves_no_flight_behind() {
        let l = Landings::default();
        let url = "http://a.example/front";
        let Arrival::Fetch(Some(first)) = l.arrive(url).await else {
            panic!("the first arrival requests it");
        };
        let mut waiting = Box::pin(l.arrive(url));
        assert!(futures_util::poll!(waiting.as_mut()).is_pending());
        // The request ends while the other still waits (so it leaves the
        // flight to the waiter), then the waiting fetch is abandoned (a
        // run's stop, a timeout) before it was polled again.
        drop(first);
        drop(waiting);
        assert!(
            l.lock().flights.is_empty(),
            "the flight of a landing no one requests or waits for is forgotten"
        );
    }

    #[tokio::test]
    async fn a_url_that_redirects_is_not_waited_for() {
        let l = Landings::default();
        let url = "http://a.example/old";
        let Arrival::Fetch(Some(first)) = l.arrive(url).await else {
            panic!("the first arrival requests it");
        };
        first.redirects();
        assert!(matches!(l.arrive(url).await, Arrival::Fetch(None)));
    }

    #[tokio::test]
    async fn those_waiting_for_a_landing_get_its_answer() {
        let l = Landings::default();
        let url = "http://a.example/front";
        let Arrival::Fetch(Some(first)) = l.arrive(url).await else {
            panic!("the first arrival requests it");
        };
        let waiting = l.arrive(url);
        tokio::pin!(waiting);
        assert!(futures_util::poll!(waiting.as_mut()).is_pending());
        first.settle(&answer(200, &[], b"front", false));
        let Arrival::Kept(got) = waiting.await else {
            panic!("the answer is handed on");
        };
        assert_eq!(body_of(&got), b"front");
        assert!(l.lock().flights.is_empty());
    }

    #[test]
    fn kept_answers_without_a_page_are_bounded_by_their_headers() {
        let l = Landings::default();
        // Empty pages (a bare 404, a 204) with a heavy head: a policy header,
        // a row of trackers. The head is kept as the page is.
        let head = [("content-security-policy", "x".repeat(64 * 1024))];
        let head: Vec<(&str, &str)> = head.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let n = MAX_BYTES / (64 * 1024) + 10;
        for i in 0..n {
            l.keep(
                &format!("http://a.example/{i}"),
                &answer(404, &head, b"", false),
            );
        }
        let kept = l.lock().by_url.len();
        assert!(
            kept < MAX_BYTES / (64 * 1024),
            "{kept} heads of 64 KiB kept"
        );
    }

    #[test]
    fn the_kept_pages_are_bounded_in_bytes() {
        let l = Landings::default();
        // Room left in each for its URL.
        let page = vec![b'x'; SPILL_AT - 1024];
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
