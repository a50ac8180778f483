//! A simulated web on loopback, so that tests, benchmarks and demos can exercise
//! fetching, archiving and classification against many "sites" without sending a
//! packet off the machine.
//!
//! Each simulated host is its own listener on its own loopback address
//! (`127.0.1.1`, `127.0.1.2`, …; Linux routes all of 127/8 to `lo`), because
//! per-host politeness, robots.txt and connection pooling are keyed by host, and
//! one address with many ports would hide bugs there. Pages are generated
//! deterministically from (host, article id), cached once rendered, and can be
//! switched at run time to any of the ways real pages rot ([`PageKind`]), which
//! is what end-to-end tests play out over simulated "nights".

mod briefings;
mod pages;
mod pdf;
pub mod rot;

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use axum::serve::ListenerExt;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use briefings::write_briefing_store;
use pages::Variant;
pub use pdf::pdf_document;

/// The most hosts [`host_address`] can place (254 per `127.0.x.0/24`, from
/// `127.0.1.0/24` to `127.0.254.0/24`).
pub const MAX_HOSTS: usize = 254 * 254;

/// Rendered articles are cached up to this id per host; beyond it they are
/// rendered per request, so a huge `articles_per_host` cannot allocate a huge
/// cache up front.
const CACHE_IDS: u64 = 100_000;

/// How a [`SimWeb`] is laid out.
#[derive(Debug, Clone)]
pub struct SimWebOptions {
    /// Number of simulated hosts (1 to [`MAX_HOSTS`]).
    pub hosts: usize,
    /// Articles `/news/0.html` … `/news/{n-1}.html` exist on every host; other
    /// ids answer 404 like any unknown path.
    pub articles_per_host: u64,
    /// Share of articles (chosen deterministically by host and id) that are
    /// [`PageKind::Churn`] unless set otherwise, because real sites are full of
    /// pages whose bytes change on every load.
    pub churn_fraction: f64,
    /// Serve gzip to clients that accept it, as most real sites do; off by
    /// default so a benchmark compares fetchers rather than decompressors.
    pub gzip: bool,
}

impl Default for SimWebOptions {
    fn default() -> Self {
        SimWebOptions {
            hosts: 4,
            articles_per_host: 1000,
            churn_fraction: 0.0,
            gzip: false,
        }
    }
}

/// How one path on a simulated host answers: the ways a cited page lives, rots
/// or misleads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageKind {
    /// 200, byte-identical on every load.
    Ok,
    /// 200, the same article, but a generation stamp and a rotating
    /// related-articles list make the bytes differ on every load.
    Churn,
    /// 404 with the site's error page.
    NotFound,
    /// 410 with the site's error page.
    Gone,
    /// 301 to the homepage, as sites do for removed articles.
    RedirectHome,
    /// 200 with an error page ("页面不存在 / Page not found"): a soft 404.
    SoftNotFound,
    /// 301 to this path (or absolute URL) on the same host, which then serves
    /// the same article.
    MovedTo(String),
    /// 301 to this URL, the one page (on this host or another) a site sends
    /// its removed articles to; it lists the latest headlines of its host.
    SentTo(String),
    /// 200, same headline, substantially different text.
    Rewritten,
    /// 503 on the first, third, fifth… request after being set, the article on
    /// the others.
    Flaky503,
    /// 200, the article in Chinese, encoded in GBK and labelled `charset=gbk`.
    Gbk,
    /// The stable article, after a delay.
    Slow(Duration),
    /// 200 with the host's front page, no redirect: how some sites answer
    /// for a removed article while still answering 404 for made-up paths.
    FrontPage,
    /// 200 labelled HTML with an empty body: a backend that answers nothing,
    /// or a removed story's empty template.
    Emptied,
}

/// A request the simulated web cannot carry out.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SimWebError {
    /// The host index is out of range.
    #[error("no simulated host {index} (there are {hosts})")]
    NoSuchHost {
        /// The index asked for.
        index: usize,
        /// How many hosts there are.
        hosts: usize,
    },
    /// The URL does not point at one of this simulated web's hosts.
    #[error("`{url}` is not a URL of this simulated web")]
    NotOurs {
        /// The URL given.
        url: String,
    },
}

/// The loopback address of simulated host `index`: `127.0.1.1` for 0, then
/// upwards, skipping `.0` and `.255` in the last octet.
pub fn host_address(index: usize) -> Option<Ipv4Addr> {
    if index >= MAX_HOSTS {
        return None;
    }
    let third = u8::try_from(1 + index / 254).ok()?;
    let fourth = u8::try_from(1 + index % 254).ok()?;
    Some(Ipv4Addr::new(127, 0, third, fourth))
}

/// The host index whose address is `ip`, the inverse of [`host_address`].
pub fn host_index(ip: Ipv4Addr) -> Option<usize> {
    let [a, b, c, d] = ip.octets();
    if a != 127 || b != 0 || !(1..=254).contains(&c) || !(1..=254).contains(&d) {
        return None;
    }
    Some(usize::from(c - 1) * 254 + usize::from(d - 1))
}

/// The path of article `id` on every host.
pub fn article_path(id: u64) -> String {
    format!("/news/{id}.html")
}

/// The headline article `id` of host `host` carries (in its original text).
pub fn headline(host: usize, id: u64) -> String {
    pages::headline(host, id)
}

/// The outlet name host `host` plays, as briefings cite it.
pub fn outlet(host: usize) -> String {
    pages::outlet(host)
}

/// The bytes host `host` serves for article `id` as first published, without
/// starting a web: for benchmarks of what is done with a page once fetched.
pub fn article_page(host: usize, id: u64) -> Vec<u8> {
    pages::article(
        host,
        id,
        Variant::Original,
        SimWebOptions::default().articles_per_host,
    )
    .stable()
}

/// A running simulated web. Dropping it stops the listeners.
pub struct SimWeb {
    hosts: Vec<Arc<Host>>,
    options: SimWebOptions,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for SimWeb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimWeb")
            .field("hosts", &self.hosts.len())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl SimWeb {
    /// Binds one listener per host (port 0, so every host gets a free port) and
    /// serves them on the current tokio runtime.
    pub async fn start(options: SimWebOptions) -> io::Result<SimWeb> {
        if options.hosts == 0 || options.hosts > MAX_HOSTS {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a simulated web has 1 to {MAX_HOSTS} hosts, not {}",
                    options.hosts
                ),
            ));
        }
        if !(0.0..=1.0).contains(&options.churn_fraction) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "churn_fraction is a share between 0 and 1, not {}",
                    options.churn_fraction
                ),
            ));
        }
        let (stop, _) = watch::channel(false);
        let mut hosts = Vec::with_capacity(options.hosts);
        let mut tasks = Vec::with_capacity(options.hosts);
        for index in 0..options.hosts {
            let ip = host_address(index).ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "host index out of range")
            })?;
            let listener = TcpListener::bind((ip, 0)).await.map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot bind simulated host {index} on {ip}: {e}"),
                )
            })?;
            let addr = listener.local_addr()?;
            let host = Arc::new(Host::new(index, addr, &options));
            let router = Router::new().fallback(answer).with_state(Arc::clone(&host));
            let counted = Arc::clone(&host);
            let listener = listener.tap_io(move |tcp| {
                counted.connections.fetch_add(1, Ordering::Relaxed);
                // Small answers (304, redirects) must not wait on Nagle.
                let _ = tcp.set_nodelay(true);
            });
            let mut stopped = stop.subscribe();
            tasks.push(tokio::spawn(async move {
                let signal = async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                };
                let _ = axum::serve(listener, router)
                    .with_graceful_shutdown(signal)
                    .await;
            }));
            hosts.push(host);
        }
        Ok(SimWeb {
            hosts,
            options,
            stop,
            tasks,
        })
    }

    /// The options it was started with.
    pub fn options(&self) -> &SimWebOptions {
        &self.options
    }

    /// Number of hosts.
    pub fn host_count(&self) -> usize {
        self.hosts.len()
    }

    /// Host `host`'s base URL, `http://127.0.1.7:PORT/`.
    pub fn base_url(&self, host: usize) -> Option<&str> {
        self.hosts.get(host).map(|h| h.base.as_str())
    }

    /// Every host's base URL, in host order.
    pub fn base_urls(&self) -> Vec<&str> {
        self.hosts.iter().map(|h| h.base.as_str()).collect()
    }

    /// Host `host`'s listening address.
    pub fn addr(&self, host: usize) -> Option<SocketAddr> {
        self.hosts.get(host).map(|h| h.addr)
    }

    /// The URL of `path` on host `host`.
    pub fn url(&self, host: usize, path: &str) -> Option<String> {
        let h = self.hosts.get(host)?;
        Some(format!("{}{}", h.origin(), with_slash(path)))
    }

    /// The URL of article `id` on host `host`.
    pub fn article_url(&self, host: usize, id: u64) -> Option<String> {
        self.url(host, &article_path(id))
    }

    /// `n` article URLs spread evenly over the hosts: URL `i` is article
    /// `i / hosts` on host `i % hosts`, so consecutive URLs change host (as a
    /// briefing store's do) and every host gets the same share. Ids past
    /// `articles_per_host` would 404; size the options for `n`.
    pub fn urls(&self, n: usize) -> Vec<String> {
        let hosts = self.hosts.len();
        (0..n)
            .filter_map(|i| self.article_url(i % hosts, (i / hosts) as u64))
            .collect()
    }

    /// The host index and path a URL of this simulated web points at.
    pub fn locate(&self, url: &str) -> Result<(usize, String), SimWebError> {
        let not_ours = || SimWebError::NotOurs {
            url: url.to_string(),
        };
        let parsed = url::Url::parse(url).map_err(|_| not_ours())?;
        let ip = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => ip,
            _ => return Err(not_ours()),
        };
        let index = host_index(ip).ok_or_else(not_ours)?;
        let host = self.hosts.get(index).ok_or_else(not_ours)?;
        if parsed.port() != Some(host.addr.port()) {
            return Err(not_ours());
        }
        Ok((index, parsed.path().to_string()))
    }

    fn host(&self, index: usize) -> Result<&Arc<Host>, SimWebError> {
        self.hosts.get(index).ok_or(SimWebError::NoSuchHost {
            index,
            hosts: self.hosts.len(),
        })
    }

    /// Makes `path` on host `host` answer as `kind` from the next request on.
    pub fn set_kind(&self, host: usize, path: &str, kind: PageKind) -> Result<(), SimWebError> {
        let h = self.host(host)?;
        if let PageKind::SentTo(to) = &kind {
            let (landing_host, landing_path) = self.locate(to)?;
            write(&self.host(landing_host)?.aliases).insert(landing_path, Content::Home);
        }
        h.set_kind(&with_slash(path), kind);
        Ok(())
    }

    /// [`SimWeb::set_kind`] for the page a URL of this simulated web names.
    pub fn set_url_kind(&self, url: &str, kind: PageKind) -> Result<(), SimWebError> {
        let (host, path) = self.locate(url)?;
        self.set_kind(host, &path, kind)
    }

    /// Returns `path` on host `host` to its default behaviour.
    pub fn clear_kind(&self, host: usize, path: &str) -> Result<(), SimWebError> {
        let h = self.host(host)?;
        write(&h.kinds).remove(&with_slash(path));
        Ok(())
    }

    /// How `path` on host `host` answers now: the kind set for it, else `Churn`
    /// or `Ok` for an existing page, else `NotFound` (or `Ok`, the homepage, when
    /// the host answers everything).
    pub fn kind(&self, host: usize, path: &str) -> Result<PageKind, SimWebError> {
        let h = self.host(host)?;
        let path = with_slash(path);
        let content = h.resolve(&path);
        Ok(h.kind_for(&path, content.as_ref()).unwrap_or(
            if h.soft_404_everything.load(Ordering::Relaxed) {
                PageKind::Ok
            } else {
                PageKind::NotFound
            },
        ))
    }

    /// Makes unknown paths on host `host` answer 200 with the homepage, as some
    /// sites do, so that "does a page that cannot exist answer 2xx?" probes have
    /// something to find.
    pub fn set_soft_404_everything(&self, host: usize, on: bool) -> Result<(), SimWebError> {
        self.host(host)?
            .soft_404_everything
            .store(on, Ordering::Relaxed);
        Ok(())
    }

    /// Replaces host `host`'s robots.txt (allow-all by default).
    pub fn set_robots(&self, host: usize, text: &str) -> Result<(), SimWebError> {
        let h = self.host(host)?;
        *write(&h.robots) = Arc::new(Rendered::new(
            text.as_bytes().to_vec(),
            "text/plain; charset=utf-8",
            SystemTime::now(),
        ));
        Ok(())
    }

    /// Requests host `host` has received (0 for an unknown host).
    pub fn requests(&self, host: usize) -> u64 {
        self.hosts
            .get(host)
            .map_or(0, |h| h.requests.load(Ordering::Relaxed))
    }

    /// Requests all hosts have received.
    pub fn total_requests(&self) -> u64 {
        self.hosts
            .iter()
            .map(|h| h.requests.load(Ordering::Relaxed))
            .sum()
    }

    /// TCP connections host `host` has accepted: with [`SimWeb::requests`], how
    /// well a client reuses connections (0 for an unknown host).
    pub fn connections(&self, host: usize) -> u64 {
        self.hosts
            .get(host)
            .map_or(0, |h| h.connections.load(Ordering::Relaxed))
    }

    /// TCP connections all hosts have accepted.
    pub fn total_connections(&self) -> u64 {
        self.hosts
            .iter()
            .map(|h| h.connections.load(Ordering::Relaxed))
            .sum()
    }

    /// Requests for `path` on host `host` (query strings are not part of the
    /// path).
    pub fn path_requests(&self, host: usize, path: &str) -> u64 {
        self.hosts.get(host).map_or(0, |h| {
            lock(&h.per_path)
                .get(&with_slash(path))
                .copied()
                .unwrap_or(0)
        })
    }

    /// Requests for the page a URL of this simulated web names (0 for others).
    pub fn url_requests(&self, url: &str) -> u64 {
        self.locate(url)
            .map_or(0, |(host, path)| self.path_requests(host, &path))
    }

    /// Requests per path on host `host`.
    pub fn request_counts(&self, host: usize) -> BTreeMap<String, u64> {
        self.hosts.get(host).map_or_else(BTreeMap::new, |h| {
            lock(&h.per_path)
                .iter()
                .map(|(p, n)| (p.clone(), *n))
                .collect()
        })
    }

    /// Zeroes every request counter.
    pub fn reset_counters(&self) {
        for h in &self.hosts {
            h.requests.store(0, Ordering::Relaxed);
            h.connections.store(0, Ordering::Relaxed);
            lock(&h.per_path).clear();
        }
    }

    /// Renders articles `0..per_host` of every host now, on blocking threads, so
    /// that a benchmark measures the client and not the first render.
    pub async fn warm(&self, per_host: u64) {
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut jobs = Vec::with_capacity(workers);
        for w in 0..workers {
            let hosts: Vec<Arc<Host>> = self
                .hosts
                .iter()
                .skip(w)
                .step_by(workers)
                .cloned()
                .collect();
            jobs.push(tokio::task::spawn_blocking(move || {
                for h in hosts {
                    for id in 0..per_host.min(h.articles_per_host).min(CACHE_IDS) {
                        let _ = h.article(id);
                    }
                }
            }));
        }
        for job in jobs {
            let _ = job.await;
        }
    }

    /// Stops accepting, lets requests in flight finish (up to 5 s) and waits for
    /// the listeners to close.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for SimWeb {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

fn with_slash(path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

/// A poisoned lock only means a panicking thread held it; the counters and
/// settings behind it are still meaningful, and a test helper must not panic.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn read<T>(m: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(m: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(PoisonError::into_inner)
}

/// A response body prepared once, with the validators a real server sends.
struct Rendered {
    body: Bytes,
    gzipped: OnceLock<Bytes>,
    content_type: HeaderValue,
    etag: HeaderValue,
    last_modified: HeaderValue,
    modified: SystemTime,
}

impl Rendered {
    fn new(body: Vec<u8>, content_type: &'static str, modified: SystemTime) -> Rendered {
        let digest = Sha256::digest(&body);
        let etag = format!("\"{}\"", &hex::encode(digest)[..20]);
        Rendered {
            body: Bytes::from(body),
            gzipped: OnceLock::new(),
            content_type: HeaderValue::from_static(content_type),
            etag: HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"0\"")),
            last_modified: http_date(modified),
            modified,
        }
    }
}

fn http_date(t: SystemTime) -> HeaderValue {
    HeaderValue::from_str(&httpdate::fmt_http_date(t))
        .unwrap_or(HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"))
}

/// What a path shows when it shows something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Content {
    Home,
    Robots,
    Article(u64),
}

/// An original article: its parts (for churning loads) and its stable page.
struct Article {
    parts: pages::ArticleParts,
    page: Rendered,
}

struct Host {
    index: usize,
    addr: SocketAddr,
    base: String,
    articles_per_host: u64,
    churn_fraction: f64,
    gzip: bool,
    articles: Vec<OnceLock<Arc<Article>>>,
    variants: Mutex<HashMap<(u64, Variant), Arc<Rendered>>>,
    home: Rendered,
    robots: RwLock<Arc<Rendered>>,
    kinds: RwLock<HashMap<String, PageKind>>,
    aliases: RwLock<HashMap<String, Content>>,
    soft_404_everything: AtomicBool,
    requests: AtomicU64,
    connections: AtomicU64,
    per_path: Mutex<HashMap<String, u64>>,
    flaky: Mutex<HashMap<String, u64>>,
    loads: AtomicU64,
}

impl Host {
    fn new(index: usize, addr: SocketAddr, options: &SimWebOptions) -> Host {
        let cached = options.articles_per_host.min(CACHE_IDS) as usize;
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_606_780_800);
        Host {
            index,
            addr,
            base: format!("http://{addr}/"),
            articles_per_host: options.articles_per_host,
            churn_fraction: options.churn_fraction,
            gzip: options.gzip,
            articles: (0..cached).map(|_| OnceLock::new()).collect(),
            variants: Mutex::new(HashMap::new()),
            home: Rendered::new(
                pages::homepage(index, options.articles_per_host).into_bytes(),
                "text/html; charset=utf-8",
                start,
            ),
            robots: RwLock::new(Arc::new(Rendered::new(
                b"User-agent: *\nDisallow:\n".to_vec(),
                "text/plain; charset=utf-8",
                start,
            ))),
            kinds: RwLock::new(HashMap::new()),
            aliases: RwLock::new(HashMap::new()),
            soft_404_everything: AtomicBool::new(false),
            requests: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            per_path: Mutex::new(HashMap::new()),
            flaky: Mutex::new(HashMap::new()),
            loads: AtomicU64::new(0),
        }
    }

    /// `http://ip:port`, for building absolute URLs.
    fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn count(&self, path: &str) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut per_path = lock(&self.per_path);
        if let Some(n) = per_path.get_mut(path) {
            *n += 1;
        } else {
            per_path.insert(path.to_string(), 1);
        }
    }

    fn set_kind(&self, path: &str, kind: PageKind) {
        if let PageKind::MovedTo(to) = &kind {
            // The new address serves what the old one did.
            let target = url::Url::parse(to)
                .ok()
                .filter(|u| u.host_str() == Some(&self.addr.ip().to_string()))
                .map_or_else(|| to.clone(), |u| u.path().to_string());
            if target.starts_with('/')
                && let Some(content) = self.resolve(path)
            {
                write(&self.aliases).insert(target, content);
            }
        }
        if kind == PageKind::Flaky503 {
            lock(&self.flaky).remove(path);
        }
        write(&self.kinds).insert(path.to_string(), kind);
    }

    fn resolve(&self, path: &str) -> Option<Content> {
        if let Some(c) = read(&self.aliases).get(path) {
            return Some(*c);
        }
        match path {
            "/" | "/index.html" => return Some(Content::Home),
            "/robots.txt" => return Some(Content::Robots),
            _ => {}
        }
        let id = path
            .strip_prefix("/news/")?
            .strip_suffix(".html")?
            .parse::<u64>()
            .ok()?;
        (id < self.articles_per_host).then_some(Content::Article(id))
    }

    /// The kind set for `path`, else the default for what it shows; `None` for
    /// an unknown path left at its default.
    fn kind_for(&self, path: &str, content: Option<&Content>) -> Option<PageKind> {
        if let Some(kind) = read(&self.kinds).get(path) {
            return Some(kind.clone());
        }
        match content? {
            Content::Article(id) if self.churns_by_default(*id) => Some(PageKind::Churn),
            _ => Some(PageKind::Ok),
        }
    }

    fn churns_by_default(&self, id: u64) -> bool {
        self.churn_fraction > 0.0
            && pages::Rng::new(&[self.index as u64, id, 0xc4u64]).unit() < self.churn_fraction
    }

    fn article(&self, id: u64) -> Arc<Article> {
        let build = || {
            let parts = pages::article(self.index, id, Variant::Original, self.articles_per_host);
            let page = Rendered::new(
                parts.stable(),
                "text/html; charset=utf-8",
                pages::last_modified(self.index, id, Variant::Original),
            );
            Arc::new(Article { parts, page })
        };
        match usize::try_from(id).ok().and_then(|i| self.articles.get(i)) {
            Some(slot) => Arc::clone(slot.get_or_init(build)),
            None => build(),
        }
    }

    fn variant(&self, id: u64, variant: Variant) -> Arc<Rendered> {
        if let Some(r) = lock(&self.variants).get(&(id, variant)) {
            return Arc::clone(r);
        }
        let parts = pages::article(self.index, id, variant, self.articles_per_host);
        let (body, content_type) = if variant == Variant::Gbk {
            let utf8 = String::from_utf8_lossy(&parts.stable()).into_owned();
            let (gbk, _, _) = encoding_rs::GBK.encode(&utf8);
            (gbk.into_owned(), "text/html; charset=gbk")
        } else {
            (parts.stable(), "text/html; charset=utf-8")
        };
        let rendered = Arc::new(Rendered::new(
            body,
            content_type,
            pages::last_modified(self.index, id, variant),
        ));
        lock(&self.variants).insert((id, variant), Arc::clone(&rendered));
        rendered
    }

    /// True on the first, third, … request since the path became flaky.
    fn flaky_fails(&self, path: &str) -> bool {
        let mut flaky = lock(&self.flaky);
        let n = flaky.entry(path.to_string()).or_insert(0);
        *n += 1;
        *n % 2 == 1
    }
}

/// Every request of every host lands here: the path, not a router, decides,
/// because any path (including unknown ones) can be given a [`PageKind`].
async fn answer(State(host): State<Arc<Host>>, req: Request) -> Response {
    let (parts, _body) = req.into_parts();
    let path = parts.uri.path();
    host.count(path);
    if parts.method != Method::GET && parts.method != Method::HEAD {
        let mut resp = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return resp;
    }
    let content = host.resolve(path);
    let Some(kind) = host.kind_for(path, content.as_ref()) else {
        return unknown(&host, &parts.headers);
    };
    let headers = &parts.headers;
    match kind {
        PageKind::Ok => show(&host, content, Variant::Original, false, headers),
        PageKind::Churn => show(&host, content, Variant::Original, true, headers),
        PageKind::Rewritten => show(&host, content, Variant::Rewritten, false, headers),
        PageKind::Gbk => show(&host, content, Variant::Gbk, false, headers),
        PageKind::Slow(delay) => {
            tokio::time::sleep(delay).await;
            show(&host, content, Variant::Original, false, headers)
        }
        PageKind::Flaky503 => {
            if host.flaky_fails(path) {
                let mut resp = plain(StatusCode::SERVICE_UNAVAILABLE, "service unavailable\n");
                resp.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                resp
            } else {
                show(&host, content, Variant::Original, false, headers)
            }
        }
        PageKind::NotFound => error(
            &host,
            StatusCode::NOT_FOUND,
            "404 Not Found",
            "The page you requested could not be found.",
        ),
        PageKind::Gone => error(
            &host,
            StatusCode::GONE,
            "410 Gone",
            "This article has been removed.",
        ),
        PageKind::SoftNotFound => error(
            &host,
            StatusCode::OK,
            "页面不存在 - Page not found",
            "对不起，您访问的页面不存在或已被删除。Sorry, the page you are looking for does not exist or has been removed.",
        ),
        PageKind::FrontPage => rendered(&host, &host.home, headers),
        PageKind::Emptied => {
            let mut resp = plain(StatusCode::OK, "");
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            resp
        }
        PageKind::RedirectHome => redirect(&host.base),
        PageKind::SentTo(to) => redirect(&to),
        PageKind::MovedTo(to) => {
            if to.starts_with('/') {
                redirect(&format!("{}{to}", host.origin()))
            } else {
                redirect(&to)
            }
        }
    }
}

/// An unknown path: 404, or the homepage for a host that answers everything.
fn unknown(host: &Host, headers: &HeaderMap) -> Response {
    if host.soft_404_everything.load(Ordering::Relaxed) {
        return rendered(host, &host.home, headers);
    }
    error(
        host,
        StatusCode::NOT_FOUND,
        "404 Not Found",
        "The page you requested could not be found.",
    )
}

fn show(
    host: &Host,
    content: Option<Content>,
    variant: Variant,
    churn: bool,
    headers: &HeaderMap,
) -> Response {
    match content {
        None => unknown(host, headers),
        Some(Content::Home) => rendered(host, &host.home, headers),
        Some(Content::Robots) => {
            let robots = Arc::clone(&read(&host.robots));
            rendered(host, &robots, headers)
        }
        Some(Content::Article(id)) => match variant {
            Variant::Original if churn => churned(host, id, headers),
            Variant::Original => rendered(host, &host.article(id).page, headers),
            other => rendered(host, &host.variant(id, other), headers),
        },
    }
}

/// A churning load: the article with a fresh stamp and a rotated related list,
/// and validators that never match a previous load's.
fn churned(host: &Host, id: u64, headers: &HeaderMap) -> Response {
    let article = host.article(id);
    let load = host.loads.fetch_add(1, Ordering::Relaxed);
    let now = SystemTime::now();
    let stamp = format!(
        "<p class=\"generated\">Page generated {} &middot; request {load:x}</p>\n",
        httpdate::fmt_http_date(now)
    );
    let rotate = usize::try_from(load % 8).unwrap_or(0) + 1;
    let body = article.parts.assemble(rotate, &stamp);
    let mut resp = body_response(host, Bytes::from(body), None, headers);
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(etag) = HeaderValue::from_str(&format!("\"c{id:x}-{load:x}\"")) {
        h.insert(header::ETAG, etag);
    }
    h.insert(header::LAST_MODIFIED, http_date(now));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// A prepared page, or 304 when the client's validators still match it.
fn rendered(host: &Host, page: &Rendered, headers: &HeaderMap) -> Response {
    if not_modified(page, headers) {
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = StatusCode::NOT_MODIFIED;
        let h = resp.headers_mut();
        h.insert(header::ETAG, page.etag.clone());
        h.insert(header::LAST_MODIFIED, page.last_modified.clone());
        return resp;
    }
    let mut resp = body_response(host, page.body.clone(), Some(&page.gzipped), headers);
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, page.content_type.clone());
    h.insert(header::ETAG, page.etag.clone());
    h.insert(header::LAST_MODIFIED, page.last_modified.clone());
    resp
}

/// If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2); ETags compare
/// weakly, as they must for GET.
fn not_modified(page: &Rendered, headers: &HeaderMap) -> bool {
    let ours = page.etag.to_str().unwrap_or("").trim_start_matches("W/");
    let mut saw_inm = false;
    for value in headers.get_all(header::IF_NONE_MATCH) {
        saw_inm = true;
        let Ok(value) = value.to_str() else { continue };
        if value
            .split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == "*" || t == ours)
        {
            return true;
        }
    }
    if saw_inm {
        return false;
    }
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .is_some_and(|since| page.modified <= since)
}

/// A 200 with `body`, gzipped (from `cache` when given) for clients that accept
/// it on a host that compresses.
fn body_response(
    host: &Host,
    body: Bytes,
    cache: Option<&OnceLock<Bytes>>,
    headers: &HeaderMap,
) -> Response {
    if host.gzip && accepts_gzip(headers) {
        let gz = match cache {
            Some(cell) => cell.get_or_init(|| gzip(&body)).clone(),
            None => gzip(&body),
        };
        let mut resp = Response::new(Body::from(gz));
        let h = resp.headers_mut();
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        return resp;
    }
    let mut resp = Response::new(Body::from(body));
    if host.gzip {
        resp.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    resp
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    == Some(0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

fn gzip(data: &[u8]) -> Bytes {
    use std::io::Write as _;
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 3),
        flate2::Compression::fast(),
    );
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(data);
    Bytes::from(enc.finish().unwrap_or_default())
}

fn error(host: &Host, status: StatusCode, title: &str, message: &str) -> Response {
    let mut resp = Response::new(Body::from(pages::error_page(host.index, title, message)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    resp
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut resp = Response::new(Body::from(text));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

fn redirect(location: &str) -> Response {
    let mut resp = Response::new(Body::from("Moved Permanently\n"));
    *resp.status_mut() = StatusCode::MOVED_PERMANENTLY;
    let h = resp.headers_mut();
    h.insert(
        header::LOCATION,
        HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/")),
    );
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip() {
        for i in [0, 1, 99, 253, 254, 255, 1000, MAX_HOSTS - 1] {
            let ip = host_address(i).unwrap();
            assert_eq!(host_index(ip), Some(i), "{ip}");
        }
        assert_eq!(host_address(0), Some(Ipv4Addr::new(127, 0, 1, 1)));
        assert_eq!(host_address(6), Some(Ipv4Addr::new(127, 0, 1, 7)));
        assert_eq!(host_address(MAX_HOSTS), None);
        assert_eq!(host_index(Ipv4Addr::new(127, 0, 0, 1)), None);
    }

    #[test]
    fn gzip_acceptance() {
        let mut h = HeaderMap::new();
        assert!(!accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("br, gzip;q=0.8"),
        );
        assert!(accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=0"),
        );
        assert!(!accepts_gzip(&h));
    }
}
