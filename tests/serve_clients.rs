//! `citewatch serve` against clients that misbehave, over raw TCP on
//! 127.0.0.1: a connection that sends nothing, half a request head, goes
//! quiet between requests or reads nothing of its answer is closed within a
//! bound; a graceful stop ends within its grace whatever is still open; a
//! report read too slowly is given up at its deadline; what hyper answers by
//! itself, before any of the service runs.

mod common;

use std::time::{Duration, Instant};

use citewatch::server::Limits;
use common::served::{self, Served};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Bounds of a fraction of a second, so that nothing here waits for long;
/// those a test is not about stay long enough never to fire in it.
fn limits() -> Limits {
    Limits {
        request: Duration::from_secs(60),
        report_stall: Duration::from_secs(60),
        report_deadline: Duration::from_secs(60),
        header_read: Duration::from_secs(60),
        write_stall: Duration::from_secs(60),
        stop_grace: Duration::from_secs(60),
        connections: 64,
    }
}

/// How a connection ended, read until it did or `within` passed.
#[derive(Debug)]
enum Ended {
    /// Closed by the server (EOF or a reset), after what it sent.
    Closed(Vec<u8>),
    /// Still open when the wait ran out.
    Open(Vec<u8>),
}

async fn read_until_closed(s: &mut TcpStream, within: Duration) -> Ended {
    let deadline = tokio::time::Instant::now() + within;
    let mut got = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return Ended::Open(got),
            Ok(Ok(0)) | Ok(Err(_)) => return Ended::Closed(got),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Whether the server keeps `s` open for `quiet` (reading anything it sends).
async fn stays_open(s: &mut TcpStream, quiet: Duration) -> bool {
    matches!(read_until_closed(s, quiet).await, Ended::Open(_))
}

async fn healthz(s: &mut TcpStream) -> String {
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).await.unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// Three clients that hold a connection without finishing a request: one
/// that sent nothing, one that sent half a request head, and one connected
/// for a kept-alive request it has not sent yet.
async fn stalled_clients(addr: std::net::SocketAddr) -> (TcpStream, TcpStream, TcpStream) {
    let silent = TcpStream::connect(addr).await.unwrap();
    let mut half = TcpStream::connect(addr).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    let idle = TcpStream::connect(addr).await.unwrap();
    (silent, half, idle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_connection_is_closed_after_the_header_read_timeout() {
    let s = Served::new("");
    let header_read = Duration::from_millis(400);
    let srv = s
        .start_with_limits(Limits {
            header_read,
            ..limits()
        })
        .await;
    // Nothing sent; half a request head; a kept-alive connection after its
    // first answer. Each once stayed open for as long as its client liked.
    let (mut silent, mut half, mut idle) = stalled_clients(srv.addr).await;
    let t = Instant::now();
    assert!(healthz(&mut idle).await.starts_with("HTTP/1.1 200"));
    // A kept-alive connection used again within the bound is served again.
    tokio::time::sleep(header_read / 4).await;
    assert!(healthz(&mut idle).await.starts_with("HTTP/1.1 200"));
    for (name, conn) in [
        ("sent nothing", &mut silent),
        ("half a head", &mut half),
        ("idle after an answer", &mut idle),
    ] {
        match read_until_closed(conn, Duration::from_secs(5)).await {
            Ended::Closed(got) => assert!(got.is_empty(), "{name}: {got:?}"),
            Ended::Open(_) => panic!("{name}: still open after {:?}", t.elapsed()),
        }
    }
    assert!(t.elapsed() >= header_read, "closed before the bound");
    srv.stop().await;
}

/// Sends the head of a GET for `path` and reads nothing of the answer, with a
/// small receive buffer, so the answer queues in the server.
async fn stalled_get(srv: &served::Running, path: &str) -> TcpStream {
    served::stalled_request(srv.addr, path).await
}

/// An archived copy of 16 MB, far more than socket buffers hold.
fn large_capture(s: &Served) -> (i64, usize) {
    let body: Vec<u8> = (0..16u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    (s.add_article_capture(&body), body.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_nobody_reads_is_cut_after_the_write_stall() {
    let s = Served::new("");
    let (id, size) = large_capture(&s);
    let srv = s
        .start_with_limits(Limits {
            write_stall: Duration::from_millis(500),
            ..limits()
        })
        .await;
    let path = format!("/archive/{id}");
    // A client that reads goes on getting it all, however the stalled one fares.
    let mut stalled = stalled_get(&srv, &path).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let whole = served::get(&served::client(), srv.url(&path))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(whole.len(), size);
    // The stalled one's connection was cut: reading now finds its end,
    // short of the whole body, rather than waiting on the server.
    match read_until_closed(&mut stalled, Duration::from_secs(10)).await {
        Ended::Closed(got) => {
            assert!(
                got.starts_with(b"HTTP/1.1 200"),
                "{:?}",
                &got[..got.len().min(100)]
            );
            assert!(
                got.len() < size,
                "the whole copy was sent ({} bytes)",
                got.len()
            );
        }
        Ended::Open(got) => panic!(
            "not cut: still open, {} of {size} bytes sent once read",
            got.len()
        ),
    }
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_ends_within_its_grace_whatever_clients_hold_open() {
    let s = Served::new("");
    let (id, _) = large_capture(&s);
    let grace = Duration::from_millis(500);
    let srv = s
        .start_with_limits(Limits {
            stop_grace: grace,
            ..limits()
        })
        .await;
    let (mut silent, mut half, mut idle) = stalled_clients(srv.addr).await;
    assert!(healthz(&mut idle).await.starts_with("HTTP/1.1 200"));
    let mut unread = stalled_get(&srv, &format!("/archive/{id}")).await;
    // Every bound of their own is a minute here: only the stop's grace ends
    // them. A half-sent head, or an answer nobody reads, once kept a
    // graceful stop waiting for good.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let t = Instant::now();
    tokio::time::timeout(Duration::from_secs(10), srv.stop())
        .await
        .expect("the stop ended within 10 s");
    assert!(
        t.elapsed() < grace + Duration::from_secs(3),
        "{:?}",
        t.elapsed()
    );
    for (name, conn) in [
        ("sent nothing", &mut silent),
        ("half a head", &mut half),
        ("idle after an answer", &mut idle),
        ("reads nothing", &mut unread),
    ] {
        assert!(
            !stays_open(conn, Duration::from_secs(2)).await,
            "{name}: still open after the stop"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_closes_idle_connections_at_once_and_finishes_a_request_in_flight() {
    let s = Served::new("");
    let srv = s.start_with_limits(limits()).await;
    let mut idle = TcpStream::connect(srv.addr).await.unwrap();
    assert!(healthz(&mut idle).await.starts_with("HTTP/1.1 200"));
    // A request whose head is in and whose body is still coming.
    let mut busy = TcpStream::connect(srv.addr).await.unwrap();
    let body = b"{\"urls\": []}";
    busy.write_all(
        format!(
            "POST /api/check HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t = Instant::now();
    let stopped = tokio::spawn(srv.stop());
    // The idle connection is closed at once, the busy one answered, then closed.
    assert!(!stays_open(&mut idle, Duration::from_secs(2)).await);
    busy.write_all(body).await.unwrap();
    let got = match read_until_closed(&mut busy, Duration::from_secs(5)).await {
        Ended::Closed(got) => String::from_utf8_lossy(&got).into_owned(),
        Ended::Open(got) => panic!("left open after its answer: {got:?}"),
    };
    // No admin token is configured: the request is refused, in JSON.
    assert!(got.starts_with("HTTP/1.1 403"), "{got}");
    assert!(got.contains("\"error\""), "{got}");
    tokio::time::timeout(Duration::from_secs(10), stopped)
        .await
        .expect("the stop ended within 10 s")
        .unwrap();
    // No grace was waited out: nothing was left open.
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_whose_body_stalls_is_answered_408_in_json() {
    let s = Served::new("");
    let srv = s
        .start_with_limits(Limits {
            request: Duration::from_millis(400),
            ..limits()
        })
        .await;
    let mut c = TcpStream::connect(srv.addr).await.unwrap();
    c.write_all(
        b"POST /api/check HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"urls\":",
    )
    .await
    .unwrap();
    let t = Instant::now();
    let got = match read_until_closed(&mut c, Duration::from_secs(5)).await {
        Ended::Closed(got) | Ended::Open(got) => String::from_utf8_lossy(&got).into_owned(),
    };
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(t.elapsed() < Duration::from_secs(5));
    let (head, body) = got.split_once("\r\n\r\n").unwrap();
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    let body: Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["error"]["status"], 408, "{body}");
    srv.stop().await;
}

/// Requests hyper refuses while reading the head, before any of the service
/// runs: it answers the status alone (no body, so no JSON) and closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_hyper_refuses_get_their_status_with_no_body() {
    let s = Served::new("");
    let srv = s.start_with_limits(limits()).await;
    let long_uri = format!(
        "GET /{} HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "a".repeat(70_000)
    );
    let many_headers = format!(
        "GET / HTTP/1.1\r\nHost: localhost\r\n{}\r\n",
        "X-A: b\r\n".repeat(200)
    );
    let huge_header = format!(
        "GET / HTTP/1.1\r\nHost: localhost\r\nX-A: {}\r\n\r\n",
        "b".repeat(500_000)
    );
    for (name, request, status) in [
        ("a URI over 64 KiB", long_uri, 414),
        ("over 100 headers", many_headers, 431),
        ("a head over 400 KiB", huge_header, 431),
        ("no request line", "NONSENSE\r\n\r\n".to_string(), 400),
        (
            "a header name with a space",
            "GET / HTTP/1.1\r\nHost: localhost\r\nBad Name: x\r\n\r\n".to_string(),
            400,
        ),
    ] {
        let mut c = TcpStream::connect(srv.addr).await.unwrap();
        let _ = c.write_all(request.as_bytes()).await;
        let got = match read_until_closed(&mut c, Duration::from_secs(5)).await {
            Ended::Closed(got) => String::from_utf8_lossy(&got).into_owned(),
            Ended::Open(got) => panic!("{name}: left open, {got:?}"),
        };
        assert!(
            got.starts_with(&format!("HTTP/1.1 {status} ")),
            "{name}: {got}"
        );
        let head = got.to_ascii_lowercase();
        assert!(head.contains("content-length: 0\r\n"), "{name}: {got}");
        assert!(head.ends_with("\r\n\r\n"), "{name}: {got}");
    }
    // The service goes on answering.
    let mut c = TcpStream::connect(srv.addr).await.unwrap();
    assert!(healthz(&mut c).await.starts_with("HTTP/1.1 200"));
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_connection_cap_a_client_waits_for_a_slot() {
    let s = Served::new("");
    let srv = s
        .start_with_limits(Limits {
            connections: 2,
            ..limits()
        })
        .await;
    // Two clients hold every slot, sending nothing (within the header bound).
    let silent = TcpStream::connect(srv.addr).await.unwrap();
    let mut served_one = TcpStream::connect(srv.addr).await.unwrap();
    assert!(healthz(&mut served_one).await.starts_with("HTTP/1.1 200"));
    // A third gets through the kernel's backlog but is not served ...
    let mut third = TcpStream::connect(srv.addr).await.unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let early = tokio::time::timeout(Duration::from_millis(600), third.read(&mut buf)).await;
    assert!(early.is_err(), "answered past the cap: {early:?}");
    // ... until a slot is let go.
    drop(silent);
    let n = tokio::time::timeout(Duration::from_secs(10), third.read(&mut buf))
        .await
        .expect("still waiting after a slot was freed")
        .unwrap();
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    srv.stop().await;
}

/// `[serve] max_connections` sets the cap `serve` runs with: at 1, a client
/// holding the one slot keeps a second waiting, served once the slot is let go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_cap_is_the_configured_one() {
    let s = Served::new("[serve]\nmax_connections = 1\n");
    assert_eq!(s.config().serve.max_connections, 1);
    let srv = s.start().await;
    let mut first = TcpStream::connect(srv.addr).await.unwrap();
    assert!(healthz(&mut first).await.starts_with("HTTP/1.1 200"));
    let mut second = TcpStream::connect(srv.addr).await.unwrap();
    second
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let early = tokio::time::timeout(Duration::from_millis(600), second.read(&mut buf)).await;
    assert!(early.is_err(), "answered past the cap: {early:?}");
    drop(first);
    let n = tokio::time::timeout(Duration::from_secs(10), second.read(&mut buf))
        .await
        .expect("still waiting after the slot was freed")
        .unwrap();
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    srv.stop().await;
}

/// Reads `s` a little at a time (2 KiB every 50 ms: a chunk of the report
/// well within any stall bound) until `fast` is set, then reads what is left
/// at once until the server closes it or `within` passes.
async fn read_slowly(
    mut s: TcpStream,
    fast: std::sync::Arc<std::sync::atomic::AtomicBool>,
    within: Duration,
) -> Ended {
    let mut got = Vec::new();
    let mut buf = vec![0u8; 2048];
    while !fast.load(std::sync::atomic::Ordering::Acquire) {
        match tokio::time::timeout(Duration::from_millis(50), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Ended::Closed(got),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    match read_until_closed(&mut s, within).await {
        Ended::Closed(rest) => {
            got.extend(rest);
            Ended::Closed(got)
        }
        Ended::Open(rest) => {
            got.extend(rest);
            Ended::Open(got)
        }
    }
}

/// Clients that read every report stream slowly, each chunk well within the
/// stall bound, once held every stream's turn for as long as they liked:
/// past the stream's deadline their reports are given up, their turns
/// freed for another report, and their connections cut short of the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_read_slowly_are_given_up_at_their_deadline() {
    let s = Served::new("");
    // Over 10 MB of report: far more than the slow readers get through.
    served::add_many_citations(&s, 5_000);
    let deadline = Duration::from_secs(2);
    let srv = s
        .start_with_limits(Limits {
            report_deadline: deadline,
            ..limits()
        })
        .await;
    let fast = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..citewatch::server::REPORT_STREAMS {
        let conn = served::stalled_request(srv.addr, "/api/report?status=all").await;
        readers.push(tokio::spawn(read_slowly(
            conn,
            fast.clone(),
            Duration::from_secs(20),
        )));
    }
    tokio::time::sleep(deadline + Duration::from_secs(1)).await;
    // Every turn was taken by a slow reader; past the deadline a new report
    // gets one (each try waits for a turn for a few seconds before its 503).
    let c = served::client();
    let mut status = 0;
    for _ in 0..3 {
        let r = tokio::time::timeout(
            Duration::from_secs(20),
            c.get(srv.url("/api/report?status=all")).send(),
        )
        .await
        .expect("a report request answered within 20 s")
        .unwrap();
        status = r.status().as_u16();
        if status != 503 {
            break;
        }
    }
    assert_eq!(status, 200, "the slow readers still hold every turn");
    // Each slow reader's report ended short of its end, the connection cut:
    // never a truncated report that reads as whole.
    fast.store(true, std::sync::atomic::Ordering::Release);
    for reader in readers {
        match reader.await.unwrap() {
            Ended::Closed(got) => {
                assert!(
                    got.starts_with(b"HTTP/1.1 200"),
                    "{:?}",
                    &got[..got.len().min(200)]
                );
                assert!(
                    !got.ends_with(b"\r\n0\r\n\r\n"),
                    "a given-up report ended as if whole ({} bytes)",
                    got.len()
                );
            }
            Ended::Open(got) => panic!("not cut: still open after {} bytes", got.len()),
        }
    }
    srv.stop().await;
}
