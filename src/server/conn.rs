//! Connections, served by hyper's HTTP/1.1 server itself rather than through
//! `axum::serve`, which gives hyper no timer: without one, hyper's header read
//! timeout never runs, so a client that sent nothing, or half a request head,
//! or went quiet between requests, held its connection for good, and a
//! graceful stop waited for it. Here every connection is bounded (see
//! [`Limits`]) and a stop cuts those still open after [`Limits::stop_grace`].

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;

use super::Limits;

/// Accepts connections, at most [`Limits::connections`] open at once, and
/// serves `router` on each until `shutdown` completes; then closes idle
/// connections, lets the others finish for at most [`Limits::stop_grace`]
/// and cuts what is left.
pub(super) async fn serve_connections(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    let cap = limits.connections.max(1);
    let slots = Arc::new(Semaphore::new(cap));
    // The slot the next connection takes; none while all are held, and then
    // nothing is accepted until a connection ends.
    let mut slot: Option<OwnedSemaphorePermit> = None;
    let mut at_cap = CapWarning::default();
    tokio::pin!(shutdown);
    loop {
        if slot.is_none() {
            slot = Arc::clone(&slots).try_acquire_owned().ok();
            if at_cap.tell(slot.is_some(), slots.available_permits(), cap) {
                tracing::warn!(
                    "reached the cap of {cap} connections open at once: new ones wait in the backlog until one closes"
                );
            }
        }
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept(), if slot.is_some() => match accepted {
                Ok((tcp, _)) => {
                    let service = TowerToHyperService::new(router.clone());
                    let held = slot.take();
                    let stopping = stopping.clone();
                    connections.spawn(async move {
                        connection(tcp, service, limits, stopping).await;
                        drop(held);
                    });
                }
                Err(e) => {
                    if accept_error_passes(&e) {
                        continue;
                    }
                    // Out of descriptors, say: connections closing free
                    // some, so wait a little rather than spin or stop serving.
                    tracing::error!("accepting a connection failed: {e}");
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            },
            // Finished connections are collected as they go, so that the set
            // holds only those open (and a full house learns of a free slot).
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let _ = stop.send(true);
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(limits.stop_grace, drained)
        .await
        .is_err()
    {
        tracing::warn!(
            "{} connection(s) still open {} s after the stop was asked for; cut",
            connections.len(),
            limits.stop_grace.as_secs_f32()
        );
        connections.shutdown().await;
    }
}

/// Whether reaching the connection cap is worth a warning: once each time the
/// server fills up, and again only after a tenth of its slots has been free.
/// At the cap, each connection closing lets the next one in, and a warning
/// each time would flood the log just when it matters most.
#[derive(Default)]
struct CapWarning {
    said: bool,
}

impl CapWarning {
    /// After trying for a slot: whether one was `taken`, and how many of the
    /// `cap` are still free. True when the warning is due.
    fn tell(&mut self, taken: bool, free: usize, cap: usize) -> bool {
        if taken {
            if free > cap / 10 {
                self.said = false;
            }
            return false;
        }
        !std::mem::replace(&mut self.said, true)
    }
}

/// A client that went away while being accepted is no failure of the server.
fn accept_error_passes(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Serves one connection; once `stopping` turns true, it ends after the
/// request in flight (at once when idle).
async fn connection(
    tcp: TcpStream,
    service: TowerToHyperService<Router>,
    limits: Limits,
    mut stopping: watch::Receiver<bool>,
) {
    let io = TokioIo::new(WriteStall::new(tcp, limits.write_stall));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read);
    let conn = http.serve_connection(io, service);
    tokio::pin!(conn);
    let done = tokio::select! {
        done = conn.as_mut() => Some(done),
        _ = stopping.wait_for(|stop| *stop) => None,
    };
    let done = match done {
        Some(done) => done,
        None => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = done {
        // A client's doing (a stalled head, a reset, a response it would
        // not read), not the service's: worth a trace, not a warning.
        tracing::debug!("connection ended: {e}");
    }
}

/// A socket whose writes fail once they have made no progress for `limit`:
/// hyper waits on a client that reads nothing for as long as the socket
/// stays open.
struct WriteStall<T> {
    io: T,
    limit: Duration,
    /// Running while a write waits; reset by any write that goes through.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<T> WriteStall<T> {
    fn new(io: T, limit: Duration) -> WriteStall<T> {
        WriteStall {
            io,
            limit,
            stalled: None,
        }
    }

    /// What a write that could not go through answers: pending, until the
    /// stall has lasted `limit`.
    fn waiting<R>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        let limit = self.limit;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match stalled.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the client read nothing for {} s", self.limit.as_secs_f32()),
            ))),
        }
    }

    fn progressed<R>(
        &mut self,
        done: Poll<io::Result<R>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<R>> {
        match done {
            Poll::Pending => self.waiting(cx),
            ready => {
                self.stalled = None;
                ready
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WriteStall<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteStall<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let done = Pin::new(&mut self.io).poll_write(cx, buf);
        self.progressed(done, cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let done = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.progressed(done, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let done = Pin::new(&mut self.io).poll_flush(cx);
        self.progressed(done, cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::CapWarning;

    #[test]
    fn reaching_the_cap_is_told_once_until_a_tenth_of_it_is_free() {
        let mut w = CapWarning::default();
        // Full: told once, however often a slot frees and is taken again.
        assert!(w.tell(false, 0, 512));
        for _ in 0..20 {
            assert!(!w.tell(true, 0, 512));
            assert!(!w.tell(false, 0, 512));
        }
        // A few slots free is still the same episode.
        assert!(!w.tell(true, 51, 512));
        assert!(!w.tell(false, 0, 512));
        // A tenth free, then full again: a new episode, told again.
        assert!(!w.tell(true, 52, 512));
        assert!(w.tell(false, 0, 512));
        // A cap of one or two: any free slot ends the episode.
        let mut w = CapWarning::default();
        assert!(w.tell(false, 0, 2));
        assert!(!w.tell(true, 0, 2));
        assert!(!w.tell(false, 0, 2));
        assert!(!w.tell(true, 1, 2));
        assert!(w.tell(false, 0, 2));
    }
}
