//! A local test web on loopback: one axum server answering for several host
//! names (told apart by the Host header) with the misbehaviours the fetcher must
//! survive. Every request is logged with its arrival time.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

/// One logged request.
#[derive(Debug, Clone)]
pub struct Hit {
    pub at: Instant,
    pub host: String,
    pub path: String,
    /// The request's `Cookie` header, when it sent one.
    pub cookie: Option<String>,
    /// The client's end of the connection: requests on one connection share it.
    pub peer: Option<SocketAddr>,
    /// The request's headers.
    pub headers: HeaderMap,
}

#[derive(Default)]
pub struct WebState {
    pub hits: Mutex<Vec<Hit>>,
    pub robots: Mutex<HashMap<String, String>>,
    counters: Mutex<HashMap<String, usize>>,
    pub forbidden_port: AtomicUsize,
    /// Every answer is a 503: the whole host is down.
    pub down: AtomicBool,
    /// Unknown paths under `/heavy/` answer 200 with the template's
    /// "latest stories" page instead of 404.
    pub heavy_catch_all: AtomicBool,
    /// While set, `/gated/KIND/N` waits before it answers as `/slow/KIND/N`
    /// would: a test orders a run's results by opening the gate.
    pub gate_closed: AtomicBool,
}

/// A running test web.
pub struct TestWeb {
    pub addr: SocketAddr,
    pub state: Arc<WebState>,
}

impl TestWeb {
    /// Serves on `ip:0` (use 127.0.0.1, or 127.0.0.2 for the forbidden side).
    pub async fn start(ip: &str) -> TestWeb {
        let state = Arc::new(WebState::default());
        let app = Router::new().fallback(handle).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, app).await.unwrap();
        });
        TestWeb { addr, state }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://HOST:PORT/PATH` on this server.
    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.addr.port())
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.state.hits.lock().unwrap().clone()
    }

    pub fn hits_for(&self, host: &str, path: &str) -> Vec<Hit> {
        self.hits()
            .into_iter()
            .filter(|h| h.host == host && h.path == path)
            .collect()
    }

    pub fn set_robots(&self, host: &str, text: &str) {
        self.state
            .robots
            .lock()
            .unwrap()
            .insert(host.to_string(), text.to_string());
    }
}

fn count(state: &WebState, key: &str) -> usize {
    let mut c = state.counters.lock().unwrap();
    let n = c.entry(key.to_string()).or_insert(0);
    *n += 1;
    *n
}

fn redirect(status: StatusCode, to: &str) -> Response {
    (status, [(header::LOCATION, to.to_string())]).into_response()
}

/// Bytes served at `/files/NAME`: an article, a PDF and binary data large enough
/// to spill to disk, so archive round trips cover each kind of body.
pub fn file_body(name: &str) -> Option<(&'static str, Vec<u8>)> {
    match name {
        "page.html" => {
            let mut html = String::from(
                "<!doctype html><html><head><meta charset=utf-8><title>Xinhua: article</title></head><body><article>",
            );
            for i in 0..300 {
                html.push_str(&format!("<p>Paragraph {i}: the committee passed amendments to the national defense law; 新华社报道。</p>"));
            }
            html.push_str("</article></body></html>");
            Some(("text/html; charset=utf-8", html.into_bytes()))
        }
        "doc.pdf" => {
            let mut pdf =
                b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
            pdf.extend((0..20_000u32).map(|i| (i * 7 % 256) as u8));
            pdf.extend_from_slice(b"\n%%EOF\n");
            Some(("application/pdf", pdf))
        }
        "blob.bin" => {
            let mut x: u32 = 12345;
            let bytes = (0..1_500_000).map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x & 0xff) as u8
            });
            Some(("application/octet-stream", bytes.collect()))
        }
        _ => None,
    }
}

/// A gzip stream that inflates to `size` zero bytes.
pub fn gzip_bomb(size: usize) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..size / zeros.len() {
        enc.write_all(&zeros).unwrap();
    }
    enc.finish().unwrap()
}

static BOMB: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();

const PARAGRAPHS: [&str; 3] = [
    "The committee passed amendments to the national defense law on Saturday, and officials said the new rules would take effect next year across all provinces and regions of the country.",
    "Delegates debated the draft for three days before the vote, and several of them asked for clearer limits on how the armed forces may be used in emergencies at home.",
    "Analysts said the changes give the central military commission more control over mobilisation and over defence industries that also serve civilian markets.",
];

const REWRITTEN: [&str; 3] = [
    "The city opened a new metro line on Monday that links the airport with the high-speed rail station, cutting the journey between them to under half an hour.",
    "Transport officials said trains would run every four minutes at peak times, and that fares would stay the same as on the rest of the network until the end of next year.",
    "Residents of the northern districts welcomed the line, which had been delayed twice by flooding in the tunnels under the river during construction.",
];

/// An article page with chrome, a related list rotated by `load` and a stamp.
fn article_page(paragraphs: &[&str], load: usize) -> String {
    let related = [
        "Markets close higher",
        "Winter storm hits the north",
        "New rules for ride-hailing",
    ];
    let mut html = String::from(
        "<html><head><title>Defense law amended</title></head><body><nav><a href=/>Home</a></nav><article><h1>Defense law amended</h1>",
    );
    for p in paragraphs {
        html.push_str(&format!("<p>{p}</p>"));
    }
    html.push_str("</article><ul class=related>");
    for i in 0..related.len() {
        html.push_str(&format!("<li>{}</li>", related[(i + load) % related.len()]));
    }
    html.push_str(&format!(
        "</ul><footer>generated at load {load}</footer></body></html>"
    ));
    html
}

/// What readers wrote under a story, one comment each.
const READERS_SAY: [&str; 12] = [
    "My uncle served for twenty years and he says these rules should have been written long ago.",
    "Why was the draft never published in full before the vote? Citizens deserve to read it first.",
    "Does anyone know whether the mobilisation rules also apply to private shipping companies?",
    "Three days of debate is not much for a law of this size, but at least some delegates spoke up.",
    "The part about defence industries serving civilian markets worries me as a small supplier.",
    "Good article, though I would like to see the voting numbers and which provinces objected.",
    "This website loads so slowly on my phone; please fix the pictures before the next big story.",
    "Our village committee posted nothing about this, and most of the farmers here never heard of it.",
    "Emergencies at home should be handled by the police and firemen, not by soldiers in trucks.",
    "Will reservists working abroad be called back, or is it only for those living in the country?",
    "My daughter studies law at the provincial university and her teacher discussed it in class today.",
    "Compared with the old law the new one is clearer, but the details will matter more than the text.",
];

/// A short story (two paragraphs, as wire briefs are) with a WordPress
/// comment section inside its `<article>`: `comments` readers' comments,
/// a count, and the reply form.
pub fn commented_page(paragraphs: &[&str], comments: usize) -> String {
    let mut html = String::from(
        "<html><head><title>Defense law amended</title></head><body><nav><a href=/>Home</a></nav><article><h1>Defense law amended</h1>",
    );
    for p in paragraphs {
        html.push_str(&format!("<p>{p}</p>"));
    }
    html.push_str(&format!(
        "<section id=\"comments\" class=\"comments\"><h2>{comments} Comments</h2><ol class=\"comment-list\">"
    ));
    for (i, said) in READERS_SAY.iter().cycle().take(comments).enumerate() {
        html.push_str(&format!(
            "<li class=\"comment\"><div class=\"comment-author\">reader{i}</div><p>{said}</p></li>"
        ));
    }
    html.push_str(
        "</ol><div id=\"respond\" class=\"comment-respond\"><h3>Leave a Reply</h3><form id=\"commentform\">\
         <textarea name=\"comment\"></textarea></form></div></section></article></body></html>",
    );
    html
}

/// The story of `/article/comments` as load `n` of it shows it: two
/// comments at first, all twelve later.
pub fn comments_load(n: usize, rewritten: bool) -> String {
    let story = if rewritten && n > 1 {
        &REWRITTEN
    } else {
        &PARAGRAPHS
    };
    commented_page(&story[..2], if n == 1 { 2 } else { 12 })
}

async fn handle(State(state): State<Arc<WebState>>, req: Request) -> Response {
    let host_port = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_string();
    let host = host_port.split(':').next().unwrap_or("").to_string();
    let path = req.uri().path().to_string();
    let cookie = req
        .headers()
        .get(header::COOKIE)
        .map(|c| String::from_utf8_lossy(c.as_bytes()).into_owned());
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    state.hits.lock().unwrap().push(Hit {
        at: Instant::now(),
        host: host.clone(),
        path: path.clone(),
        cookie: cookie.clone(),
        peer,
        headers: req.headers().clone(),
    });
    if state.down.load(Ordering::Relaxed) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let headers: HeaderMap = req.headers().clone();
    let key = format!("{host}{path}");
    // `/slow/KIND/N`: a page of KIND after 20 ms, so a run lasts long enough
    // to be killed; `/slower/KIND/N` after 300 ms, so a fetch is surely still
    // in flight a moment after a signal; `/gated/KIND/N` once the test opens
    // its gate (`gate_closed`).
    let slow = path
        .strip_prefix("/slow/")
        .map(|rest| (rest, 20))
        .or_else(|| path.strip_prefix("/slower/").map(|rest| (rest, 300)))
        .or_else(|| path.strip_prefix("/gated/").map(|rest| (rest, 0)));
    if path.starts_with("/gated/") {
        while state.gate_closed.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    if let Some((rest, ms)) = slow {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        return match rest.split('/').next().unwrap_or("") {
            "ok" => format!("<html><title>{path}</title><body>article {path}</body></html>")
                .into_response(),
            "gone" => StatusCode::GONE.into_response(),
            "soft" => {
                "<html><head><title>页面不存在</title></head><body>您访问的页面不存在</body></html>"
                    .into_response()
            }
            _ => StatusCode::NOT_FOUND.into_response(),
        };
    }
    // `/heavy/story-N.html`: a short story in a heavy template (paragraphs
    // of boilerplate in plain `div`s, as many sites have them).
    // `/heavy/brief-N.html` is a story of two paragraphs in the same template.
    if let Some(rest) = path.strip_prefix("/heavy/") {
        let number = |prefix: &str| {
            rest.strip_prefix(prefix)
                .and_then(|r| r.strip_suffix(".html"))
                .filter(|n| n.len() <= 3 && n.bytes().all(|b| b.is_ascii_digit()))
        };
        let mut html = String::from("<html><head><title>The Daily Courier</title></head><body>");
        for k in 0..12 {
            html.push_str(&format!(
                "<div class=boilerplate>Courier notice {k}: the Daily Courier is published by the \
                 Courier Media Group, which also runs radio stations, a printing house and a \
                 news agency serving readers across the region since its founding.</div>"
            ));
        }
        for line in HEAVY_BOILERPLATE {
            html.push_str(&format!("<div class=boilerplate>{line}</div>"));
        }
        match (number("story-"), number("brief-")) {
            (Some(n), _) => html.push_str(&format!(
                "<p>Story {n}: the council met on Tuesday and approved the budget.</p>"
            )),
            (_, Some(n)) => html.push_str(&format!(
                "<p>Brief {n}: the council met on Tuesday and approved the budget for next year, \
                 after a debate that lasted most of the afternoon.</p><p>The mayor said the \
                 budget pays for two schools, a bridge and repairs to the harbour wall that the \
                 winter storms damaged.</p>"
            )),
            _ if state.heavy_catch_all.load(Ordering::Relaxed) => {
                html.push_str("<p>Latest stories from the Courier newsroom.</p>")
            }
            _ => return StatusCode::NOT_FOUND.into_response(),
        }
        html.push_str("</body></html>");
        return axum::response::Html(html).into_response();
    }
    let robots = if path == "/robots.txt" {
        state.robots.lock().unwrap().get(&host).cloned()
    } else {
        None
    };
    match path.as_str() {
        "/robots.txt" => match robots {
            // `set_robots(host, "!500")`: the server fails to serve it.
            Some(text) if text == "!500" => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            // `set_robots(host, "!hang")`: takes the connection, never answers.
            Some(text) if text == "!hang" => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                StatusCode::OK.into_response()
            }
            Some(text) => text.into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        },
        "/ratelimited" => {
            if count(&state, &key) == 1 {
                (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "2")]).into_response()
            } else {
                "finally".into_response()
            }
        }
        // Asks for a minute's patience, which a fetch grants (up to
        // `max_retry_after`).
        "/ratelimited-minute" => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "60")],
        )
            .into_response(),
        "/ratelimited-long" => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "86400")],
        )
            .into_response(),
        // Asks for longer than any clock can count: the largest delay a
        // header's digits can say.
        "/ratelimited-forever" => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "18446744073709551615")],
        )
            .into_response(),
        "/flaky" => {
            if count(&state, &key) == 1 {
                StatusCode::SERVICE_UNAVAILABLE.into_response()
            } else {
                "recovered".into_response()
            }
        }
        "/always503" => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        // Never served, failing by turns: 404, 503, 404, 503 …
        "/by-turns-404-503" => {
            if count(&state, &key) % 2 == 1 {
                StatusCode::NOT_FOUND.into_response()
            } else {
                StatusCode::SERVICE_UNAVAILABLE.into_response()
            }
        }
        // Gone, then refused, then failing on the server: 410, 403, 503 …
        "/gone-403-503" => match count(&state, &key) {
            1 => StatusCode::GONE.into_response(),
            2 => StatusCode::FORBIDDEN.into_response(),
            _ => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        },
        // Cloudflare's challenge to a client it takes for a bot: a 503.
        "/challenge503" => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::response::Html(
                "<!DOCTYPE html><html><head><title>Just a moment...</title></head>\
                 <body><noscript>Enable JavaScript and cookies to continue</noscript></body></html>",
            ),
        )
            .into_response(),
        // Answers that come with a page of their own, as most servers' do:
        // a redirect, and a first 503 before the page. 30 KB each: more than
        // arrives with the head, so a client must read on to keep the
        // connection.
        "/moved-with-page" => (
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, "/flaky-with-page")],
            axum::response::Html(format!("<p>{}</p>", "This page has moved. ".repeat(1500))),
        )
            .into_response(),
        "/flaky-with-page" => {
            if count(&state, &key) == 1 {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    axum::response::Html(format!("<p>{}</p>", "Busy, try later. ".repeat(1500))),
                )
                    .into_response()
            } else {
                "recovered".into_response()
            }
        }
        // Too many requests, with no word on how long to wait.
        "/ratelimited-bare" => StatusCode::TOO_MANY_REQUESTS.into_response(),
        // "Not modified", asked or not.
        "/always-304" => StatusCode::NOT_MODIFIED.into_response(),
        // Busy, yet asks for no wait at all.
        "/busy-retry-now" => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "0")],
        )
            .into_response(),
        "/trickle" => {
            let stream = futures_util::stream::unfold(0u32, |n| async move {
                if n > 0 {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                (n < 120).then(|| (Ok::<_, std::io::Error>(Bytes::from_static(b"x")), n + 1))
            });
            Response::new(Body::from_stream(stream))
        }
        "/endless" => {
            let chunk = Bytes::from(vec![b'a'; 64 * 1024]);
            let stream =
                futures_util::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
            Response::new(Body::from_stream(stream))
        }
        "/bomb" => {
            let bomb = BOMB.get_or_init(|| gzip_bomb(64 << 20)).clone();
            (
                [
                    (header::CONTENT_ENCODING, "gzip"),
                    (header::CONTENT_TYPE, "text/html"),
                ],
                bomb,
            )
                .into_response()
        }
        "/broken-gzip" => (
            [(header::CONTENT_ENCODING, "gzip")],
            b"this is not gzip at all, but says it is".to_vec(),
        )
            .into_response(),
        _ if path.starts_with("/files/") => match file_body(&path["/files/".len()..]) {
            Some((mime, bytes)) => ([(header::CONTENT_TYPE, mime)], bytes).into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        },
        "/counter" => format!("version {}", count(&state, &key)).into_response(),
        // Cited reports: after their first load, one is re-issued (the same
        // text in other bytes on every load), one replaced by another
        // document, one by the site's notice page, one by a file no parser
        // reads.
        "/pdf/reissued.pdf" | "/pdf/replaced.pdf" | "/pdf/to-notice.pdf" | "/pdf/broken.pdf" => {
            let n = count(&state, &key);
            let pdf = |paragraphs: &[&str]| {
                (
                    [(header::CONTENT_TYPE, "application/pdf")],
                    citewatch::simweb::pdf_document("Defense law amended", paragraphs, n as u64),
                )
                    .into_response()
            };
            match path.as_str() {
                "/pdf/reissued.pdf" => pdf(&PARAGRAPHS),
                _ if n == 1 => pdf(&PARAGRAPHS),
                "/pdf/replaced.pdf" => pdf(&REWRITTEN),
                "/pdf/to-notice.pdf" => axum::response::Html(
                    "<html><head><title>页面不存在</title></head><body>您访问的页面不存在</body></html>",
                )
                .into_response(),
                _ => (
                    [(header::CONTENT_TYPE, "application/pdf")],
                    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog".to_vec(),
                )
                    .into_response(),
            }
        }
        // An article whose related list rotates and whose footer changes on every
        // load (churn), and one whose text is replaced after its first load.
        "/article/churn" => {
            axum::response::Html(article_page(&PARAGRAPHS, count(&state, &key))).into_response()
        }
        // A short story whose readers' comments grow after its first load;
        // and one rewritten after it, under growing comments too.
        "/article/comments" | "/article/comments-rewritten" => axum::response::Html(comments_load(
            count(&state, &key),
            path == "/article/comments-rewritten",
        ))
        .into_response(),
        "/article/rewritten" => {
            let n = count(&state, &key);
            axum::response::Html(article_page(
                if n == 1 { &PARAGRAPHS } else { &REWRITTEN },
                n,
            ))
            .into_response()
        }
        // The front page, also served (200, no redirect) at a removed article's address.
        "/" | "/news/2020/12/27/front.htm" => axum::response::Html(
            "<html><head><title>Home</title></head><body><h1>Welcome to the front page of the site</h1>\
             <ul><li><a href=/a>Premier meets visiting delegation</a></li>\
             <li><a href=/b>Markets close higher on trade hopes</a></li></ul></body></html>",
        )
        .into_response(),
        "/gone" => (StatusCode::GONE, "gone").into_response(),
        "/news/2020/12/26/removed.htm" => redirect(StatusCode::MOVED_PERMANENTLY, "/"),
        "/soft" => {
            "<html><head><title>页面不存在</title></head><body>您访问的页面不存在</body></html>"
                .into_response()
        }
        // Removed articles, all sent to one page of the latest headlines.
        _ if path
            .strip_prefix("/retired/")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) =>
        {
            redirect(StatusCode::MOVED_PERMANENTLY, "/topics/latest.html")
        }
        // Articles sent there for now (a 302): an edit, a maintenance window.
        _ if path
            .strip_prefix("/paused/")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) =>
        {
            redirect(StatusCode::FOUND, "/topics/latest.html")
        }
        "/topics/latest.html" => {
            let mut html =
                String::from("<html><head><title>Latest headlines</title></head><body><ul>");
            for i in 0..30 {
                html.push_str(&format!(
                    "<li><a href=\"/page/{i}\">Headline number {i} of the day</a></li>"
                ));
            }
            html.push_str("</ul></body></html>");
            axum::response::Html(html).into_response()
        }
        // Script applications: one shell for every address under them, with
        // no text, or with a line saying it is loading.
        _ if path.starts_with("/app/") => axum::response::Html(
            "<!doctype html><html><head><title>News</title></head><body>\
             <noscript>You need to enable JavaScript to run this app.</noscript>\
             <div id=\"root\"></div><script src=\"/static/js/main.3f9a.js\"></script></body></html>",
        )
        .into_response(),
        _ if path.starts_with("/spa/") => axum::response::Html(
            "<!doctype html><html><head><title>Daily News</title></head><body>\
             <p>Daily News is loading the latest stories, please wait.</p>\
             <app-root></app-root><script src=\"/main.js\"></script></body></html>",
        )
        .into_response(),
        // A removal notice in GBK under a template's lying UTF-8 label.
        "/gbk-lying-notice" => {
            let html = "<html><head><meta charset=\"utf-8\"><title>页面不存在 - 新华网</title></head>\
                        <body><p>对不起，您访问的页面不存在或已被删除。</p></body></html>";
            let (gbk, _, _) = encoding_rs::GBK.encode(html);
            ([(header::CONTENT_TYPE, "text/html")], gbk.into_owned()).into_response()
        }
        // Two addresses of one article, both sent to where it lives now.
        "/mobile/c_77.htm" | "/desktop/c_77.htm" => {
            redirect(StatusCode::MOVED_PERMANENTLY, "/story/c_77.htm")
        }
        "/story/c_77.htm" => {
            axum::response::Html(
                "<html><head><title>Short story</title></head><body><p>A short story.</p></body></html>",
            )
            .into_response()
        }
        // A cookie gate: a visitor without the cookie is sent back to the same
        // address with it, as many sites check that a browser keeps cookies.
        "/cookie-gate" if cookie.as_deref().is_some_and(|c| c.contains("ck=1")) => {
            "<html><title>Gated</title><body>the article behind the gate</body></html>"
                .into_response()
        }
        "/cookie-gate" => (
            StatusCode::FOUND,
            [
                (header::LOCATION, "/cookie-gate"),
                (header::SET_COOKIE, "ck=1; Path=/"),
            ],
        )
            .into_response(),
        // The same gate answering 503 (which a fetch retries) to a visitor
        // without the cookie.
        "/cookie-busy" if cookie.as_deref().is_some_and(|c| c.contains("ck=1")) => {
            "the page after the busy gate".into_response()
        }
        "/cookie-busy" => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::SET_COOKIE, "ck=1; Path=/")],
        )
            .into_response(),
        // Retired articles, all sent to one page; under `/pensioned-ck/` to a
        // page that sets a cookie.
        _ if path.starts_with("/pensioned/") => redirect(StatusCode::MOVED_PERMANENTLY, "/front"),
        _ if path.starts_with("/pensioned-ck/") => {
            redirect(StatusCode::MOVED_PERMANENTLY, "/front-ck")
        }
        // Retired articles sent to a landing that answers after 300 ms, so
        // that fetches reach it while it is still being requested.
        _ if path.starts_with("/retired-slow/") => {
            redirect(StatusCode::MOVED_PERMANENTLY, "/slower/ok/front")
        }
        // Retired articles sent to `/flaky`, busy at its first request.
        _ if path.starts_with("/retired-flaky/") => redirect(StatusCode::MOVED_PERMANENTLY, "/flaky"),
        _ if path.starts_with("/retired-slow-ck/") => {
            redirect(StatusCode::MOVED_PERMANENTLY, "/front-ck-slow")
        }
        "/front-ck-slow" => {
            tokio::time::sleep(Duration::from_millis(300)).await;
            (
                [(header::SET_COOKIE, "visit=1; Path=/")],
                axum::response::Html("<title>Front</title><p>Today's news</p>"),
            )
                .into_response()
        }
        "/front" => axum::response::Html("<title>Front</title><p>Today's news</p>").into_response(),
        "/front-ck" => (
            [(header::SET_COOKIE, "visit=1; Path=/")],
            axum::response::Html("<title>Front</title><p>Today's news</p>"),
        )
            .into_response(),
        "/to-mailto" => redirect(StatusCode::FOUND, "mailto:desk@example.org"),
        "/loop/a" => redirect(StatusCode::FOUND, "/loop/b"),
        // Twelve hops, no loop, then the page.
        "/long/12" => "<html><title>Far</title><body>the page at the end</body></html>"
            .into_response(),
        _ if path.starts_with("/long/") => {
            let n: usize = path["/long/".len()..].parse().unwrap_or(0);
            redirect(StatusCode::FOUND, &format!("/long/{}", n + 1))
        }
        "/loop/b" => redirect(StatusCode::FOUND, "/loop/a"),
        "/chain/1" => redirect(StatusCode::MOVED_PERMANENTLY, "/chain/2"),
        // An absolute Location, as many servers send.
        "/chain/2" => redirect(
            StatusCode::MOVED_PERMANENTLY,
            &format!("http://{host_port}/chain/3"),
        ),
        "/chain/3" => redirect(StatusCode::MOVED_PERMANENTLY, "end"),
        "/chain/end" => "arrived".into_response(),
        // A permanent hop that only adds a slash, then a temporary one.
        "/respelled" => redirect(StatusCode::MOVED_PERMANENTLY, "/respelled/"),
        "/respelled/" => redirect(StatusCode::FOUND, "/respelled/today"),
        "/respelled/today" => {
            "<html><title>Today</title><body>the story of the day</body></html>".into_response()
        }
        "/to-forbidden-ip" => {
            let port = state.forbidden_port.load(Ordering::SeqCst);
            redirect(
                StatusCode::FOUND,
                &format!("http://127.0.0.2:{port}/secret"),
            )
        }
        "/to-forbidden-name" => {
            let port = state.forbidden_port.load(Ordering::SeqCst);
            redirect(
                StatusCode::FOUND,
                &format!("http://forbidden.test:{port}/secret"),
            )
        }
        "/to-ftp" => redirect(StatusCode::FOUND, "ftp://example.test/file"),
        // A header a terminal would obey: C1 CSI (U+009B in UTF-8), clear screen.
        "/hostile-header" => {
            let mut r = "plain body".into_response();
            r.headers_mut().insert(
                "x-evil",
                HeaderValue::from_bytes(b"\xc2\x9b2J\xc2\x9b8mhidden").unwrap(),
            );
            r
        }
        "/cached" => {
            let etag = "\"v1\"";
            let last_modified = "Wed, 21 Oct 2015 07:28:00 GMT";
            let inm = headers
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok());
            let ims = headers
                .get(header::IF_MODIFIED_SINCE)
                .and_then(|v| v.to_str().ok());
            if inm == Some(etag) || ims == Some(last_modified) {
                return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
            }
            let mut r = "cacheable body".into_response();
            r.headers_mut()
                .insert(header::ETAG, HeaderValue::from_static("\"v1\""));
            r.headers_mut().insert(
                header::LAST_MODIFIED,
                HeaderValue::from_static(last_modified),
            );
            r
        }
        // Only numbered pages exist: a sibling that cannot exist must 404, or the
        // check's per-host probe rightly calls every page a soft 404.
        _ if path.strip_prefix("/page/").is_some_and(|n| {
            n == "warmup"
                || (!n.is_empty() && n.len() <= 6 && n.bytes().all(|b| b.is_ascii_digit()))
        }) || path == "/secret"
            || path.starts_with("/private/") =>
        {
            format!("<html><title>{path}</title><body>page {path} on {host}</body></html>")
                .into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The rest of the heavy template: paragraphs about the publisher, its
/// services and its policies, as a site's footer and sidebars carry them.
const HEAVY_BOILERPLATE: [&str; 14] = [
    "The Courier newsroom works from offices in the harbour district and from bureaus in three \
     provincial towns, with correspondents reporting on politics, business, farming and sport.",
    "Readers who subscribe to the weekly edition receive the printed paper on Saturday mornings, \
     full access to the digital archive going back to 1952, and the daily morning newsletter.",
    "Our corrections policy: when we get something wrong we say so, in print and online, and we \
     note the change at the foot of the article with the date on which it was made.",
    "Advertising enquiries, classified notices, obituaries and public announcements can be placed \
     through the front desk or the online form, which is staffed on weekdays until six.",
    "The Courier Media Group also publishes the regional farming quarterly, a children's magazine \
     and the annual guide to schools, and runs two community radio stations on the coast.",
    "Cookies help us understand how the site is used; you can change your choices at any time in \
     the privacy centre, where our full privacy notice and terms of use are also available.",
    "Letters to the editor should be under three hundred words, carry the writer's full name and \
     town, and may be shortened; we regret that we cannot reply to every letter we receive.",
    "The Courier is a member of the regional press council and follows its code of practice; \
     complaints about our journalism go first to the readers' editor, then to the council.",
    "Our photographers' pictures can be bought as prints in three sizes from the online shop, \
     and the picture desk also licenses archive photographs for books, exhibitions and films.",
    "Every Thursday the events guide lists concerts, markets, exhibitions and sports fixtures in \
     the towns and villages we serve, together with the tide tables and the ferry timetable.",
    "Young reporters can apply for the Courier's summer placement scheme, which offers eight \
     weeks of paid work in the newsroom, training in law and ethics and a mentor for a year.",
    "The Courier Trust, a registered charity founded by the paper's readers in 1987, gives small \
     grants each spring to local clubs, libraries, food banks and youth music groups.",
    "Delivery problems with the printed edition should be reported to the circulation office \
     before ten in the morning, so that a replacement copy can be sent out the same day.",
    "Podcasts from the newsroom appear on Mondays and Fridays, with interviews, a look back at \
     the week's news and a monthly programme on the history of the harbour and its people.",
];
