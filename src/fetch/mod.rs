//! Polite, safe HTTP: one shared client, per-host pacing, retries, robots.txt, an
//! address guard, bounded bodies, and a complete typed account of each fetch.
//!
//! Redirects are followed here, not inside reqwest, so every hop passes the same
//! guard, robots check and host pacing as a first request. A page that several
//! redirects lead to is fetched once per fetcher (one per run): `landings`.

mod body;
mod cookies;
mod guard;
mod landings;
mod outcome;
pub(crate) mod pace;
mod resolve;
mod retry;
mod robots;

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::SystemTime;

use reqwest::header::{self, HeaderMap, HeaderValue};
use serde::Serialize;
use tokio::time::Instant;
use url::Url;

pub use body::{Body, BodyWriter, SPILL_AT};
pub use guard::{AddressGuard, Refused, refused_class};
pub use outcome::{Header, Hop, Outcome};
pub use robots::agent_token;

use crate::config::{FetchConfig, HostPolicy};
use crate::time::{Millis, now_millis};
use cookies::Jar;
use landings::{Arrival, Landings};
use pace::{Pacer, Permit};
use resolve::{GuardedResolver, HostRefused, NotResolved};
use robots::{Loaded, MAX_ROBOTS_BYTES, RobotsCache, Rules};

/// The fetcher could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client: {0}")]
pub struct FetchError(#[from] reqwest::Error);

/// What to fetch, and what we already have of it.
#[derive(Debug, Clone, Default)]
pub struct FetchRequest {
    /// The URL, as cited or typed; it is normalised first.
    pub url: String,
    /// `ETag` of the copy we have: sent as `If-None-Match`.
    pub etag: Option<String>,
    /// `Last-Modified` of the copy we have: sent as `If-Modified-Since`.
    pub last_modified: Option<String>,
    /// The URL the validators above belong to (the final URL of the copy we
    /// have). They are sent only in a request for that URL, so a redirect to
    /// another page (a homepage, a new address) is fetched in full rather than
    /// answered "not modified" on the old page's validators. `None`: the first hop.
    pub validators_url: Option<String>,
}

impl FetchRequest {
    /// An unconditional request for `url`.
    pub fn new(url: impl Into<String>) -> FetchRequest {
        FetchRequest {
            url: url.into(),
            ..FetchRequest::default()
        }
    }
}

/// The complete account of one fetch.
#[derive(Debug)]
pub struct FetchReport {
    /// The URL asked for, normalised (as written when it could not be).
    pub url: String,
    /// The last URL requested (after redirects).
    pub final_url: String,
    /// Redirects followed, in order.
    pub hops: Vec<Hop>,
    /// How it ended.
    pub outcome: Outcome,
    /// HTTP requests sent for the final hop (1 + retries); 0 when none was sent.
    pub attempts: u32,
    /// When the fetch started.
    pub started_at: Millis,
    /// Wall time, all hops and retries included.
    pub duration_ms: u64,
}

impl FetchReport {
    /// The body, complete or truncated.
    pub fn body(&self) -> Option<&Body> {
        self.outcome.body()
    }

    /// The HTTP status this fetch's own request was answered with: none when
    /// nothing was sent, even for a page held back by an earlier answer's
    /// Retry-After, whose outcome names the status that asked.
    pub fn answered_status(&self) -> Option<u16> {
        self.outcome.status().filter(|_| self.attempts > 0)
    }

    /// Retries spent on the final hop.
    pub fn retries(&self) -> u32 {
        self.attempts.saturating_sub(1)
    }

    /// A JSON-friendly summary: every key present, `null` when unknown.
    pub fn summary(&self) -> FetchSummary<'_> {
        let error = match &self.outcome {
            Outcome::Response { .. } | Outcome::NotModified { .. } => None,
            other => Some(ErrorSummary {
                kind: other.kind(),
                detail: other.detail(),
            }),
        };
        let body = self.body();
        FetchSummary {
            url: &self.url,
            final_url: &self.final_url,
            outcome: self.outcome.kind(),
            status: self.answered_status(),
            error,
            hops: &self.hops,
            headers: self.outcome.headers(),
            size: body.map(Body::len),
            sha256: body.map(Body::sha256_hex),
            truncated: body.map(Body::truncated),
            attempts: self.attempts,
            retries: self.retries(),
            started_at: crate::time::format_millis(self.started_at),
            duration_ms: self.duration_ms,
        }
    }
}

/// `{ "kind": …, "detail": … }`
#[derive(Debug, Serialize)]
pub struct ErrorSummary {
    /// Outcome kind.
    pub kind: &'static str,
    /// Human-readable detail.
    pub detail: String,
}

/// What `citewatch fetch --format json` prints.
#[derive(Debug, Serialize)]
pub struct FetchSummary<'a> {
    /// URL asked for.
    pub url: &'a str,
    /// Last URL requested.
    pub final_url: &'a str,
    /// Outcome kind.
    pub outcome: &'static str,
    /// HTTP status.
    pub status: Option<u16>,
    /// Error, `null` for an HTTP answer.
    pub error: Option<ErrorSummary>,
    /// Redirects.
    pub hops: &'a [Hop],
    /// Response headers.
    pub headers: Option<&'a [Header]>,
    /// Body size.
    pub size: Option<u64>,
    /// Body sha256.
    pub sha256: Option<String>,
    /// Body cut at the size cap.
    pub truncated: Option<bool>,
    /// Requests sent for the final hop.
    pub attempts: u32,
    /// Retries.
    pub retries: u32,
    /// Start time.
    pub started_at: String,
    /// Wall time.
    pub duration_ms: u64,
}

/// Builds a [`Fetcher`].
pub struct FetcherBuilder {
    config: FetchConfig,
    overrides: HashMap<String, Vec<SocketAddr>>,
}

impl FetcherBuilder {
    /// Resolves `host` to `addrs` instead of asking DNS. The addresses still pass
    /// the address guard.
    pub fn resolve(mut self, host: &str, addrs: Vec<SocketAddr>) -> FetcherBuilder {
        self.overrides.insert(host.to_ascii_lowercase(), addrs);
        self
    }

    /// The fetcher.
    pub fn build(self) -> Result<Fetcher, FetchError> {
        let guard = Arc::new(AddressGuard::new(self.config.allow_networks.clone()));
        let resolver = GuardedResolver {
            guard: guard.clone(),
            overrides: Arc::new(self.overrides),
            // reqwest's connect timeout covers resolution too: the resolver
            // gives up a little sooner, so that a resolver that does not
            // answer is told as one, not as a connection timed out.
            lookup_within: self.config.connect_timeout.std().mul_f64(0.9),
        };
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // Retries are ours (retry.rs), counted and paced per host; reqwest's
            // own layer would also copy every request in case it retried.
            .retry(reqwest::retry::never().max_retries_per_request(0))
            .no_proxy()
            .dns_resolver(resolver)
            .connect_timeout(self.config.connect_timeout.std())
            .pool_max_idle_per_host(self.config.per_host_concurrency.min(32))
            .gzip(true)
            .brotli(true)
            .deflate(true)
            .zstd(true)
            .build()?;
        // Validated with the configuration; a hand-built one that cannot be
        // a header is left out rather than sent mangled.
        let from = self
            .config
            .from
            .as_deref()
            .and_then(|f| HeaderValue::from_str(f).ok());
        Ok(Fetcher {
            inner: Arc::new(Inner {
                client,
                from,
                landings: Landings::default(),
                pacer: Pacer::new(self.config.concurrency),
                robots: RobotsCache::default(),
                guard,
                config: self.config,
            }),
        })
    }
}

struct Inner {
    client: reqwest::Client,
    /// `From`, when configured.
    from: Option<HeaderValue>,
    /// Pages redirects led to this run, fetched once.
    landings: Landings,
    config: FetchConfig,
    pacer: Pacer,
    robots: RobotsCache,
    guard: Arc<AddressGuard>,
}

/// The fetcher: cheap to clone; clones share the client, pacing and robots cache
/// (one of each per run).
#[derive(Clone)]
pub struct Fetcher {
    inner: Arc<Inner>,
}

/// A response whose body has not been read yet, with the permits it holds.
struct Exchange {
    response: reqwest::Response,
    deadline: Instant,
    _permit: Permit,
}

impl Fetcher {
    /// A builder with `config`.
    pub fn builder(config: FetchConfig) -> FetcherBuilder {
        FetcherBuilder {
            config,
            overrides: HashMap::new(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &FetchConfig {
        &self.inner.config
    }

    /// Fetches one URL, following redirects, and accounts for everything that happened.
    pub async fn fetch(&self, req: &FetchRequest) -> FetchReport {
        let started = Instant::now();
        let started_at = now_millis();
        let finish = |url: String, final_url: String, hops, outcome, attempts| FetchReport {
            url,
            final_url,
            hops,
            outcome,
            attempts,
            started_at,
            duration_ms: started.elapsed().as_millis() as u64,
        };
        let url = match crate::source_url::normalize(&req.url) {
            Ok(u) => u.url().clone(),
            Err(e) => {
                let outcome = Outcome::InvalidUrl {
                    detail: e.to_string(),
                };
                return finish(req.url.clone(), req.url.clone(), Vec::new(), outcome, 0);
            }
        };
        let (hops, final_url, outcome, attempts) = self.follow(url.clone(), req, true).await;
        finish(
            url.to_string(),
            final_url.to_string(),
            hops,
            outcome,
            attempts,
        )
    }

    /// The redirect loop. `robots` is false for robots.txt itself.
    ///
    /// The cookies this fetch's answers set are kept in a jar of its own and
    /// sent on its later requests (hops and retries), as a browser would:
    /// many sites answer a first visit with a redirect to the same page that
    /// sets a cookie, and without it every hop looks like a first visit.
    /// The jar lives and dies with the fetch, never shared with another fetch
    /// or kept: each check starts without cookies, so no source's verdict
    /// depends on which others were fetched before it.
    async fn follow(
        &self,
        mut url: Url,
        req: &FetchRequest,
        robots: bool,
    ) -> (Vec<Hop>, Url, Outcome, u32) {
        let mut hops = Vec::new();
        let jar = Jar::default();
        loop {
            // The host as pacing and `[fetch.hosts]` know it: `a.example.`
            // (absolute, as a citation or a Location may write it) is
            // `a.example`, not a host with a pace and policy of its own.
            let host = crate::source_url::host_key(url.host_str().unwrap_or_default()).into_owned();
            let mut policy = self.inner.config.policy(&host);
            if !robots {
                // RFC 9309's own bounds (§2.3.1.2, §2.5), whatever pages are
                // given: fewer, and a lowered page limit cut robots.txt short
                // of its groups, or failed an http → https → www chain.
                policy.max_redirects = 5;
                policy.max_body_bytes = MAX_ROBOTS_BYTES;
                policy.retries = 0;
            }
            if let Err(outcome) = self.guard_literal(&url) {
                return (hops, url, outcome, 0);
            }
            if robots && policy.respect_robots {
                let rules = self.robots_for(&url, &policy.user_agent).await;
                if let Some(gap) = rules.crawl_delay() {
                    self.inner.pacer.space(&host, &policy, gap);
                }
                if !rules.allows(&url) {
                    let robots_url = robots_url(&url);
                    let outcome = match &*rules {
                        Rules::Unavailable(why) => Outcome::RobotsUnavailable {
                            robots_url,
                            why: why.clone(),
                        },
                        _ => Outcome::RobotsDisallowed { robots_url },
                    };
                    return (hops, url, outcome, 0);
                }
            }
            let mut attempts = 0;
            let conditional = match &req.validators_url {
                Some(v) => v == url.as_str(),
                None => hops.is_empty(),
            };
            // A page an earlier redirect of this run already reached (see
            // `landings`): a landing many retired articles are sent to.
            // A request of it under way is waited for, not repeated.
            // `Some` when its answer may be kept for the others.
            let landing =
                if robots && !hops.is_empty() && !conditional && jar.cookies(&url).is_none() {
                    match self.inner.landings.arrive(url.as_str()).await {
                        // Answered by a request, earlier in the run.
                        Arrival::Kept(outcome) => return (hops, url, outcome, 1),
                        Arrival::Fetch(flight) => Some(flight),
                    }
                } else {
                    None
                };
            let exchange = match self
                .exchange(&url, &host, &policy, req, conditional, &jar, &mut attempts)
                .await
            {
                Ok(x) => x,
                Err(outcome) => return (hops, url, outcome, attempts),
            };
            let status = exchange.response.status().as_u16();
            let location = exchange
                .response
                .headers()
                .get(header::LOCATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            if let (301 | 302 | 303 | 307 | 308, Some(location)) = (status, location) {
                if let Some(Some(flight)) = landing {
                    flight.redirects();
                }
                drain(exchange.response, exchange.deadline).await;
                // A Location that cannot be followed still ends a hop: the
                // server answered, and the chain shows what it said.
                let unfollowable = |hops: &mut Vec<Hop>, resolved: String, detail: String| {
                    hops.push(Hop {
                        url: url.to_string(),
                        status,
                        location: location.clone(),
                        resolved,
                    });
                    Outcome::InvalidUrl { detail }
                };
                let next = match url.join(location.trim()) {
                    Ok(next)
                        if matches!(next.scheme(), "http" | "https")
                            && next.host_str().is_some() =>
                    {
                        next
                    }
                    Ok(next) => {
                        let detail = format!("redirect to `{next}`, which is not an http(s) URL");
                        let outcome = unfollowable(&mut hops, next.to_string(), detail);
                        return (hops, url, outcome, attempts);
                    }
                    Err(e) => {
                        let detail = format!("redirect to an invalid Location `{location}`: {e}");
                        let outcome = unfollowable(&mut hops, location.clone(), detail);
                        return (hops, url, outcome, attempts);
                    }
                };
                hops.push(Hop {
                    url: url.to_string(),
                    status,
                    location,
                    resolved: next.to_string(),
                });
                // The chain may come back to a URL and go on (a cookie gate
                // sends a first visit back to the page itself), so only the
                // limit stops it; what it saw on the way names the failure.
                if hops.len() > policy.max_redirects {
                    let outcome = Outcome::TooManyRedirects {
                        limit: policy.max_redirects,
                        repeated: first_repeated(&hops),
                    };
                    return (hops, next, outcome, attempts);
                }
                url = next;
                continue;
            }
            let validated = conditional && (req.etag.is_some() || req.last_modified.is_some());
            let outcome = read_response(exchange, policy.max_body_bytes, validated).await;
            // Asked and answered without a cookie: any fetch would get this.
            // A cookie it set (perhaps on an attempt that was retried, so the
            // answer itself need not show it) makes its answers per visitor:
            // none is kept, and those reaching it later go on at once rather
            // than wait for another's request.
            match landing {
                Some(landing) if jar.cookies(&url).is_none() => match landing {
                    Some(flight) => flight.settle(&outcome),
                    None => {
                        self.inner.landings.keep(url.as_str(), &outcome);
                    }
                },
                Some(Some(flight)) => flight.never_kept(),
                _ => {}
            }
            return (hops, url, outcome, attempts);
        }
    }

    /// IP-literal hosts skip the resolver, so the guard checks them here.
    fn guard_literal(&self, url: &Url) -> Result<(), Outcome> {
        let ip: Option<IpAddr> = match url.host() {
            Some(url::Host::Ipv4(v4)) => Some(v4.into()),
            Some(url::Host::Ipv6(v6)) => Some(v6.into()),
            _ => None,
        };
        match ip.map(|ip| self.inner.guard.check(ip)) {
            Some(Err(refused)) => Err(Outcome::AddressRefused {
                detail: refused.to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// The robots.txt rules of `url`'s origin, fetched once per run.
    ///
    /// Read for `user_agent`, the one the host's requests carry: a host given
    /// its own agent in `[fetch.hosts]` is bound by the rules its robots.txt
    /// sets for that agent, not by those for the global one. One origin has one
    /// host, hence one agent, so the cache stays keyed by origin.
    async fn robots_for(&self, url: &Url, user_agent: &str) -> Arc<Rules> {
        let origin = robots_origin(url);
        let agent = agent_token(user_agent).to_string();
        self.inner
            .robots
            .rules(&origin, || async {
                let Ok(robots) = Url::parse(&robots_url(url)) else {
                    return Loaded::Answer(Rules::AllowAll);
                };
                let (hops, _, outcome, attempts) =
                    Box::pin(self.follow(robots, &FetchRequest::default(), false)).await;
                match outcome {
                    Outcome::Timeout { .. }
                    | Outcome::ConnectReset { .. }
                    | Outcome::Decoding { .. } => {
                        return Loaded::Answer(Rules::stay_away(&format!(
                            "could not be read ({})",
                            outcome.detail()
                        )));
                    }
                    // The origin answered with a redirect, and where it led
                    // took no connection: robots.txt is unreachable (§2.3.1.4),
                    // though the page's host is not.
                    Outcome::Dns { .. }
                    | Outcome::DnsUnavailable { .. }
                    | Outcome::ConnectRefused { .. }
                    | Outcome::Connect { .. }
                    | Outcome::Tls { .. }
                        if !hops.is_empty() =>
                    {
                        return Loaded::Answer(Rules::stay_away(&format!(
                            "could not be read ({})",
                            outcome.detail()
                        )));
                    }
                    // Never sent: the host's Retry-After, given an earlier
                    // request, still holds. Nothing was asked of the server,
                    // so the account says that, and the next request after
                    // it asks for robots.txt again.
                    Outcome::RateLimited {
                        retry_after_secs,
                        status: Some(status),
                    } if attempts == 0 => {
                        let until = now_millis().saturating_add(
                            i64::try_from(retry_after_secs)
                                .unwrap_or(i64::MAX)
                                .saturating_mul(1000),
                        );
                        return Loaded::NoAnswer(Rules::deferred(status, until));
                    }
                    _ => {}
                }
                let body = outcome.body().and_then(|b| b.to_vec().ok());
                // Cut at the limit, a last line is a shorter rule than the
                // one written (`Allow: /public/x` read as `Allow: /`).
                let body = match (&outcome, body) {
                    (Outcome::BodyTooLarge { .. }, Some(mut b)) => {
                        b.truncate(b.iter().rposition(|&c| c == b'\n').map_or(0, |n| n + 1));
                        Some(b)
                    }
                    (_, body) => body,
                };
                let rules = Rules::from_answer(outcome.status(), body.as_deref(), &agent);
                // No server took the connection: the page fetch goes on and
                // records the real failure (a host name gone must still
                // become `dead`), but the next request asks for robots.txt
                // again rather than riding on no rules for the run.
                // Nor is a request never sent (the host's Retry-After still
                // holding, without the status that asked) an answer to keep
                // once that time is over.
                let no_answer = (hops.is_empty()
                    && matches!(
                        outcome,
                        Outcome::Dns { .. }
                            | Outcome::DnsUnavailable { .. }
                            | Outcome::ConnectRefused { .. }
                            | Outcome::Connect { .. }
                            | Outcome::Tls { .. }
                            | Outcome::Local { .. }
                    ))
                    || (attempts == 0 && matches!(outcome, Outcome::RateLimited { .. }));
                if no_answer {
                    Loaded::NoAnswer(rules)
                } else {
                    Loaded::Answer(rules)
                }
            })
            .await
    }

    /// One request with retries of transient failures; the body is left unread.
    /// Every answer's cookies go into `jar`, and each attempt sends what the
    /// jar holds for `url` (by the cookies' domain, path, expiry and secure
    /// rules), so a retry carries the cookie the failed attempt was given.
    #[allow(clippy::too_many_arguments)]
    async fn exchange(
        &self,
        url: &Url,
        host: &str,
        policy: &HostPolicy,
        req: &FetchRequest,
        conditional: bool,
        jar: &Jar,
        attempts: &mut u32,
    ) -> Result<Exchange, Outcome> {
        let mut headers = HeaderMap::new();
        // Configuration refuses a User-Agent no header can carry, so this
        // skips nothing a loaded configuration holds.
        if let Ok(ua) = HeaderValue::from_str(&policy.user_agent) {
            headers.insert(header::USER_AGENT, ua);
        }
        if let Some(from) = &self.inner.from {
            headers.insert(header::FROM, from.clone());
        }
        if let Some(etag) = req
            .etag
            .as_deref()
            .filter(|_| conditional)
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            headers.insert(header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = req
            .last_modified
            .as_deref()
            .filter(|_| conditional)
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            headers.insert(header::IF_MODIFIED_SINCE, lm);
        }
        loop {
            let permit =
                self.inner
                    .pacer
                    .acquire(host, policy)
                    .await
                    .map_err(|w| Outcome::RateLimited {
                        retry_after_secs: w.remaining.as_secs().max(1),
                        status: w.status,
                    })?;
            *attempts += 1;
            let retry_left = *attempts <= policy.retries;
            // One deadline for the answer and its body, enforced here (on the
            // send and on each chunk) rather than by reqwest as well: its timer
            // and the body wrapper polling it were a second clock per request.
            let deadline = Instant::now() + policy.timeout.std();
            let mut request = self.inner.client.get(url.clone()).headers(headers.clone());
            if let Some(cookies) = jar.cookies(url) {
                request = request.header(header::COOKIE, cookies);
            }
            let send = request.send();
            let failure = match tokio::time::timeout_at(deadline, send).await {
                Err(_) => Outcome::Timeout {
                    detail: format!("no response within {}", policy.timeout),
                },
                Ok(Err(e)) => classify(e),
                Ok(Ok(response)) => {
                    jar.set_cookies(response.headers().get_all(header::SET_COOKIE).iter(), url);
                    let status = response.status().as_u16();
                    if matches!(status, 429 | 503)
                        && let Some(wait) = response
                            .headers()
                            .get(header::RETRY_AFTER)
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| retry::parse_retry_after(v, SystemTime::now()))
                    {
                        // The host's wish holds for the rest of the run, so
                        // its other pages are not asked for meanwhile: each
                        // would only be refused again (`acquire` now answers
                        // at once that the wait is too long).
                        // Digits may ask for more than the clock can
                        // add to now: that is for ever, not a panic.
                        let until = Instant::now() + wait.min(FOREVER);
                        self.inner.pacer.defer(host, policy, until, Some(status));
                        if wait > policy.max_retry_after.std() {
                            return Err(Outcome::RateLimited {
                                retry_after_secs: wait.as_secs(),
                                status: Some(status),
                            });
                        }
                        if retry_left {
                            drain(response, deadline).await;
                            drop(permit);
                            // `Retry-After: 0` or a date gone by asks for no
                            // wait; the usual backoff still spaces the retry.
                            let backoff = retry::backoff(*attempts - 1);
                            tokio::time::sleep(backoff.saturating_sub(wait)).await;
                            continue;
                        }
                    }
                    if status == 429 {
                        // Too many requests, without saying how long to
                        // wait: the whole host backs off, not this request
                        // alone, or its other pages keep coming at full rate.
                        let backoff = retry::backoff(*attempts - 1);
                        self.inner
                            .pacer
                            .defer(host, policy, Instant::now() + backoff, None);
                        if retry_left {
                            drain(response, deadline).await;
                            drop(permit);
                            continue;
                        }
                    }
                    if retry_left && retry::is_transient_status(status) {
                        drain(response, deadline).await;
                        drop(permit);
                        tokio::time::sleep(retry::backoff(*attempts - 1)).await;
                        continue;
                    }
                    return Ok(Exchange {
                        response,
                        deadline,
                        _permit: permit,
                    });
                }
            };
            let transient = matches!(
                failure,
                Outcome::Timeout { .. }
                    | Outcome::ConnectRefused { .. }
                    | Outcome::ConnectReset { .. }
                    | Outcome::Connect { .. }
                    | Outcome::DnsUnavailable { .. }
            );
            if !(retry_left && transient) {
                return Err(failure);
            }
            drop(permit);
            tokio::time::sleep(retry::backoff(*attempts - 1)).await;
        }
    }
}

/// The longest a host is held back for: far past any run, and within what
/// the clock can add to now.
const FOREVER: std::time::Duration = std::time::Duration::from_secs(30 * 365 * 86_400);

/// The first URL a redirect chain leads back to (the start included), if any.
fn first_repeated(hops: &[Hop]) -> Option<String> {
    let mut seen: HashSet<&str> = hops.first().map(|h| h.url.as_str()).into_iter().collect();
    hops.iter()
        .find(|h| !seen.insert(h.resolved.as_str()))
        .map(|h| h.resolved.clone())
}

/// The origin robots.txt is cached for: `a.example.` is `a.example` written
/// as an absolute name, one host with one robots.txt, as pacing and
/// `[fetch.hosts]` know it, not a second fetch of it each run.
fn robots_origin(url: &Url) -> String {
    match url.host_str().filter(|h| h.ends_with('.')) {
        Some(host) => {
            let mut plain = url.clone();
            // Refused only for a name that cannot be a host: its spelling then.
            let _ = plain.set_host(Some(host.trim_end_matches('.')));
            plain.origin().ascii_serialization()
        }
        None => url.origin().ascii_serialization(),
    }
}

fn robots_url(url: &Url) -> String {
    format!("{}/robots.txt", url.origin().ascii_serialization())
}

fn headers_of(response: &reqwest::Response) -> Vec<Header> {
    response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Reads the body within the deadline and the size cap.
///
/// A 304 means "the copy you hold is current" only in answer to validators
/// (`validated`). Unasked, it is a server sending no page, and taken as
/// "unchanged" it would call a source `ok` with nothing archived; it is kept
/// as the plain HTTP answer it is.
/// The most of an unkept answer's page [`drain`] reads, and how long it waits.
const DRAIN_BYTES: u64 = 64 * 1024;
const DRAIN_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

/// Reads the rest of an answer that is not kept (a redirect's page, or an
/// error about to be retried) so that its connection goes back to the pool.
/// Dropped unread, the connection is closed, and the host's next request,
/// often the very next hop, pays for a new one (a TLS handshake on most
/// sites). Only a small page is read, and briefly: a large or slow one is
/// let go with its connection, as before.
async fn drain(mut response: reqwest::Response, deadline: Instant) {
    if response.content_length().is_some_and(|n| n > DRAIN_BYTES) {
        return;
    }
    let until = deadline.min(Instant::now() + DRAIN_WAIT);
    let mut read = 0u64;
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(until, response.chunk()).await {
        read += chunk.len() as u64;
        if read > DRAIN_BYTES {
            return;
        }
    }
}

async fn read_response(exchange: Exchange, max: u64, validated: bool) -> Outcome {
    let Exchange {
        mut response,
        deadline,
        _permit,
    } = exchange;
    let status = response.status().as_u16();
    let headers = headers_of(&response);
    if status == 304 && validated {
        return Outcome::NotModified { headers };
    }
    let mut writer = body::BodyWriter::with_capacity(response.content_length());
    loop {
        let chunk = match tokio::time::timeout_at(deadline, response.chunk()).await {
            Err(_) => {
                return Outcome::Timeout {
                    detail: format!(
                        "body incomplete at the timeout ({} bytes received)",
                        writer.len()
                    ),
                };
            }
            Ok(Err(e)) if e.is_timeout() => {
                return Outcome::Timeout {
                    detail: format!(
                        "body incomplete at the timeout ({} bytes received)",
                        writer.len()
                    ),
                };
            }
            Ok(Err(e)) => return body_failure(e, writer.len()),
            Ok(Ok(None)) => break,
            Ok(Ok(Some(chunk))) => chunk,
        };
        let room = max - writer.len();
        let (take, over) = if chunk.len() as u64 > room {
            (&chunk[..room as usize], true)
        } else {
            (&chunk[..], false)
        };
        if let Err(e) = writer.push(take) {
            // Our disk, not the server: nothing to hold against the page.
            return Outcome::Local {
                detail: format!("cannot buffer the body on this machine's disk: {e}"),
            };
        }
        if over {
            return Outcome::BodyTooLarge {
                status,
                headers,
                body: writer.finish(true),
                limit: max,
            };
        }
    }
    Outcome::Response {
        status,
        headers,
        body: writer.finish(false),
    }
}

/// Whether a resolver's answer says the name does not exist (NXDOMAIN, or no
/// address of any kind), in the words of glibc, musl and the BSDs'
/// `gai_strerror`, or our own for an empty answer. Anything else it says
/// (a temporary failure, a non-recoverable one, a system error) is no
/// evidence that the host is gone.
fn name_does_not_exist(detail: &str) -> bool {
    const GONE: &[&str] = &[
        "name or service not known",
        "no address associated with hostname",
        "nodename nor servname provided",
        "name does not resolve",
        "name has no usable address",
        "no addresses",
    ];
    let detail = detail.to_ascii_lowercase();
    GONE.iter().any(|g| detail.contains(g))
}

/// A name that did not resolve. Only "no such name" heads for `dead` (after
/// `gone_after`); a resolver that failed for now (SERVFAIL, a timeout, DNSSEC
/// trouble seen from abroad) is a network failure like any other.
fn not_resolved(n: &NotResolved) -> Outcome {
    if name_does_not_exist(&n.detail) {
        return Outcome::Dns {
            detail: n.to_string(),
        };
    }
    Outcome::DnsUnavailable {
        detail: format!("the host name could not be resolved for now: {n}"),
    }
}

/// A body that stopped coming. reqwest calls every failure while reading a
/// body a decode error, the connection's as well as the compression's: one
/// that hyper says was the connection ending early (a reset, a close short of
/// the Content-Length or the last chunk) is a network failure, as a close
/// before the headers is, and only the rest is a body that did not decode.
fn body_failure(e: reqwest::Error, received: u64) -> Outcome {
    let e = e.without_url();
    if let Some(cause) = connection_cut(&e) {
        return Outcome::ConnectReset {
            detail: format!("the connection ended after {received} bytes of the body: {cause}"),
        };
    }
    if e.is_decode() {
        return Outcome::Decoding {
            detail: crate::error_text::one_line(&e),
        };
    }
    classify(e)
}

/// hyper's error among `e`'s causes: the HTTP connection's own account.
fn hyper_cause<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a hyper::Error> {
    let mut src = Some(e);
    while let Some(s) = src {
        if let Some(h) = s.downcast_ref::<hyper::Error>() {
            return Some(h);
        }
        src = s.source();
    }
    None
}

/// How the connection ended early, in its innermost words, when hyper says
/// it did. Only hyper's causes are looked at: a compressed stream that ends
/// early inside a complete body is the body's fault, not the connection's.
fn connection_cut(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let h = hyper_cause(e)?;
    if h.is_incomplete_message() {
        return Some(crate::error_text::one_line(h));
    }
    let mut src = std::error::Error::source(h);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            if matches!(
                io.kind(),
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof
            ) {
                return Some(crate::error_text::one_line(io));
            }
        }
        src = s.source();
    }
    None
}

/// A response head hyper could not read: the server connected and answered,
/// but not in HTTP we take (a head past hyper's size limit, a status line or
/// header that does not parse). There is no page to judge; the answer
/// could not be decoded, so it is told as `Decoding`, with what was wrong.
fn invalid_head(h: &hyper::Error) -> Option<Outcome> {
    if !h.is_parse() {
        return None;
    }
    let cause = crate::error_text::one_line(h);
    let detail = if h.is_parse_too_large() {
        format!("the server answered with a response head too large to read ({cause})")
    } else {
        format!("the server answered with an invalid response head ({cause})")
    };
    Some(Outcome::Decoding { detail })
}

/// rustls's error, when `e` is one or an io::Error carrying one however deeply
/// (hyper-rustls wraps it in two): an io::Error's `source` skips its payload,
/// so the chain alone never shows it.
fn tls_failure<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut e: &'a (dyn std::error::Error + 'static) = e;
    loop {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        e = e.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
}

/// Maps a reqwest error to the outcome taxonomy by looking through its causes.
fn classify(e: reqwest::Error) -> Outcome {
    // The URL is the one being fetched: naming it again in every detail only
    // lengthens the evidence an editor reads next to it.
    let e = e.without_url();
    let detail = crate::error_text::one_line(&e);
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = src {
        if let Some(invalid) = s.downcast_ref::<hyper::Error>().and_then(invalid_head) {
            return invalid;
        }
        if let Some(r) = s.downcast_ref::<HostRefused>() {
            return Outcome::AddressRefused {
                detail: r.to_string(),
            };
        }
        if let Some(n) = s.downcast_ref::<NotResolved>() {
            return not_resolved(n);
        }
        // rustls's own error, however it is wrapped (an io::Error's payload,
        // which that error's `source` skips): a handshake that failed,
        // whether on a certificate or on a server that speaks no TLS at all
        // ("received corrupt message of type InvalidContentType").
        if let Some(tls) = tls_failure(s) {
            // rustls's words alone ("invalid peer certificate: Expired"),
            // as the system's are for the failures below.
            return Outcome::Tls {
                detail: tls.to_string(),
            };
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            // The system's own words say it all; the layers above it
            // ("error sending request: client error (Connect): …") add none.
            let detail = || crate::error_text::one_line(io);
            match io.kind() {
                ConnectionRefused => return Outcome::ConnectRefused { detail: detail() },
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => {
                    return Outcome::ConnectReset { detail: detail() };
                }
                TimedOut => return Outcome::Timeout { detail: detail() },
                _ => {}
            }
        }
        src = s.source();
    }
    let lower = detail.to_ascii_lowercase();
    if e.is_timeout() {
        Outcome::Timeout { detail }
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        Outcome::Tls { detail }
    } else if e.is_decode() {
        Outcome::Decoding { detail }
    } else if lower.contains("connection closed")
        || lower.contains("reset")
        || lower.contains("incomplete message")
    {
        Outcome::ConnectReset { detail }
    } else {
        Outcome::Connect { detail }
    }
}

#[cfg(test)]
mod tests {
    use super::name_does_not_exist;
    use super::*;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A loopback server: `/old/N` is sent for good to `/front`, which sets
    /// a cookie on every visitor.
    async fn retiring_site() -> SocketAddr {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((mut conn, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match conn.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let answer: &[u8] = if head.starts_with(b"GET /old/") {
                        b"HTTP/1.1 301 Moved Permanently\r\nLocation: /front\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    } else {
                        b"HTTP/1.1 200 OK\r\nSet-Cookie: visitor=1; Path=/\r\nContent-Length: 5\r\nConnection: close\r\n\r\nfront"
                    };
                    let _ = conn.write_all(answer).await;
                });
            }
        });
        addr
    }

    /// A landing that sets a cookie can never be shared, so no fetch
    /// reaching it later waits for another's request of it.
    #[tokio::test]
    async fn a_landing_that_sets_a_cookie_is_not_waited_for_again() {
        let addr = retiring_site().await;
        let fetcher = Fetcher::builder(FetchConfig {
            requests_per_second: 0.0,
            respect_robots: false,
            allow_networks: vec!["127.0.0.1/32".parse().unwrap()],
            ..FetchConfig::default()
        })
        .build()
        .unwrap();
        let r = fetcher
            .fetch(&FetchRequest::new(format!("http://{addr}/old/1")))
            .await;
        assert_eq!((r.outcome.status(), r.hops.len()), (Some(200), 1));
        let front = format!("http://{addr}/front");
        assert!(
            matches!(
                fetcher.inner.landings.arrive(&front).await,
                Arrival::Fetch(None)
            ),
            "a later fetch reaching the landing would wait for the others"
        );
    }

    /// A loopback server on `listener` answering `/robots.txt` with
    /// `robots` (a raw answer) and anything else with 200; it records the
    /// request lines it reads.
    fn robots_site(
        listener: tokio::net::TcpListener,
        robots: &'static [u8],
    ) -> std::sync::Arc<std::sync::Mutex<Vec<String>>> {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut conn, _)) = listener.accept().await else {
                    return;
                };
                let log = log.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match conn.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let line = String::from_utf8_lossy(&head)
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    let answer: &[u8] = if line.starts_with("GET /robots.txt ") {
                        robots
                    } else {
                        b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\npage"
                    };
                    log.lock().unwrap().push(line);
                    let _ = conn.write_all(answer).await;
                });
            }
        });
        seen
    }

    fn robots_fetcher(host: &str, addr: SocketAddr) -> Fetcher {
        Fetcher::builder(FetchConfig {
            requests_per_second: 0.0,
            respect_robots: true,
            retries: 0,
            allow_networks: vec!["127.0.0.1/32".parse().unwrap()],
            ..FetchConfig::default()
        })
        .resolve(host, vec![addr])
        .build()
        .unwrap()
    }

    /// No server took robots.txt's connection: the page fetch went ahead,
    /// as it should, but "no rules" was kept for the run, and once the host
    /// answered, its pages were fetched though its robots.txt forbids them.
    #[tokio::test]
    async fn a_robots_txt_no_server_answered_is_asked_for_again() {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let fetcher = robots_fetcher("r.test", addr);
        let port = addr.port();
        let r = fetcher
            .fetch(&FetchRequest::new(format!("http://r.test:{port}/a")))
            .await;
        assert!(
            matches!(r.outcome, Outcome::ConnectRefused { .. }),
            "{:?}",
            r.outcome
        );
        let Ok(listener) = tokio::net::TcpListener::bind(addr).await else {
            // Another process took the port meanwhile: nothing to show here.
            return;
        };
        let seen = robots_site(
            listener,
            b"HTTP/1.1 200 OK\r\nContent-Length: 26\r\nConnection: close\r\n\r\nUser-agent: *\nDisallow: /\n",
        );
        let r = fetcher
            .fetch(&FetchRequest::new(format!("http://r.test:{port}/b")))
            .await;
        assert!(
            matches!(r.outcome, Outcome::RobotsDisallowed { .. }),
            "{:?}",
            r.outcome
        );
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen, ["GET /robots.txt HTTP/1.1"], "{seen:?}");
    }

    /// The page's host answers, but its robots.txt redirects to a host that
    /// takes no connection: robots.txt is unreachable (RFC 9309 §2.3.1.4),
    /// and the page is not asked for.
    #[tokio::test]
    async fn a_robots_txt_redirected_to_no_server_keeps_us_away() {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = robots_site(
            listener,
            b"HTTP/1.1 301 Moved Permanently\r\nLocation: http://127.0.0.1:9/robots.txt\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        let fetcher = robots_fetcher("r.test", addr);
        let r = fetcher
            .fetch(&FetchRequest::new(format!(
                "http://r.test:{}/page",
                addr.port()
            )))
            .await;
        assert!(
            matches!(r.outcome, Outcome::RobotsUnavailable { .. }),
            "{:?}",
            r.outcome
        );
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen, ["GET /robots.txt HTTP/1.1"], "{seen:?}");
    }

    /// A robots.txt request that the host's standing Retry-After kept from
    /// being sent (another origin of the host answered 503 with an hour's
    /// Retry-After) was worded "answered HTTP 503", though nothing was
    /// asked of that server.
    #[tokio::test]
    async fn a_robots_txt_not_asked_for_under_a_retry_after_says_so() {
        let bind = || tokio::net::TcpListener::bind(("127.0.0.1", 0));
        let (busy, other) = (bind().await.unwrap(), bind().await.unwrap());
        let (busy_port, other_port) = (
            busy.local_addr().unwrap().port(),
            other.local_addr().unwrap().port(),
        );
        let busy_seen = robots_site(
            busy,
            b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 3600\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        let other_seen = robots_site(
            other,
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        let fetcher = robots_fetcher("r.test", "127.0.0.1:9".parse().unwrap());
        let why = |r: &FetchReport| match &r.outcome {
            Outcome::RobotsUnavailable { why, .. } => why.clone(),
            other => panic!("{other:?}"),
        };
        let first = fetcher
            .fetch(&FetchRequest::new(format!(
                "http://127.0.0.1:{busy_port}/a"
            )))
            .await;
        assert!(why(&first).starts_with("answered HTTP 503"), "{first:?}");
        let before = crate::time::now_millis();
        let second = fetcher
            .fetch(&FetchRequest::new(format!(
                "http://127.0.0.1:{other_port}/b"
            )))
            .await;
        let said = why(&second);
        let until = said
            .strip_prefix(
                "was not asked for: an earlier HTTP 503 from the host asked, by Retry-After, \
                 for no request until ",
            )
            .unwrap_or_else(|| panic!("{said}"));
        let until = crate::time::parse_time(until).unwrap();
        // An hour from the 503, to the second it was told.
        assert!(
            (before + 3_590_000..=before + 3_601_000).contains(&until),
            "{said}"
        );
        assert!(
            second.outcome.detail().starts_with(&format!(
                "http://127.0.0.1:{other_port}/robots.txt was not asked for: "
            )),
            "{}",
            second.outcome.detail()
        );
        assert!(!second.outcome.detail().contains("answered"));
        assert!(other_seen.lock().unwrap().is_empty(), "{other_seen:?}");
        assert_eq!(busy_seen.lock().unwrap().len(), 1);
    }

    #[test]
    fn a_host_and_its_absolute_name_share_one_robots_origin() {
        let key = |u: &str| robots_origin(&Url::parse(u).unwrap());
        assert_eq!(key("http://a.example./x"), "http://a.example");
        assert_eq!(key("http://a.example/y"), "http://a.example");
        assert_eq!(key("https://A.example.:8443/"), "https://a.example:8443");
        assert_eq!(key("http://127.0.0.1:81/"), "http://127.0.0.1:81");
    }

    /// The check must tell them apart: a resolver failing for now between
    /// two NXDOMAINs must not restart the clock towards `dead`, as a
    /// connection failure (the host's name resolved) does.
    #[test]
    fn a_resolver_failing_for_now_has_its_own_kind() {
        let n = |detail: &str| NotResolved {
            host: "gone.example".into(),
            detail: detail.into(),
        };
        let gone = not_resolved(&n(
            "failed to lookup address information: Name or service not known",
        ));
        assert_eq!(gone.kind(), "dns");
        for for_now in [
            "failed to lookup address information: Temporary failure in name resolution",
            "failed to lookup address information: Non-recoverable failure in name resolution",
            "failed to lookup address information: Try again",
        ] {
            let failed = not_resolved(&n(for_now));
            assert_eq!(failed.kind(), "dns_unavailable", "{for_now}");
            let detail = failed.detail();
            assert!(
                detail.starts_with("the host name could not be resolved for now: ")
                    && detail.contains(for_now),
                "{detail}"
            );
        }
    }

    #[test]
    fn only_no_such_name_is_a_host_gone() {
        for gone in [
            "failed to lookup address information: Name or service not known",
            "failed to lookup address information: No address associated with hostname",
            "failed to lookup address information: nodename nor servname provided, or not known",
            "failed to lookup address information: Name does not resolve",
            "no addresses",
        ] {
            assert!(name_does_not_exist(gone), "{gone}");
        }
        for for_now in [
            "failed to lookup address information: Temporary failure in name resolution",
            "failed to lookup address information: Non-recoverable failure in name resolution",
            "failed to lookup address information: System error",
            "failed to lookup address information: Try again",
        ] {
            assert!(!name_does_not_exist(for_now), "{for_now}");
        }
    }
}
