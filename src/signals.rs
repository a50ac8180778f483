//! SIGINT and SIGTERM for the commands that stop cleanly on them: the first
//! asks to stop, a second one stops at once.
//!
//! The handlers are installed when [`StopSignals::install`] (or
//! [`stop_on_signals`]) returns, not when a future is first polled: a `check`
//! spends its first seconds in synchronous work (the lock, the store, the
//! sync) before its runtime polls anything, and a SIGTERM then killed it
//! outright.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::signal::unix::{Signal, SignalKind, signal};

/// SIGINT and SIGTERM, listened for from creation on.
pub struct StopSignals {
    interrupt: Signal,
    terminate: Signal,
}

impl StopSignals {
    /// Installs the handlers; must be called within a tokio runtime.
    pub fn install() -> io::Result<StopSignals> {
        Ok(StopSignals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// The next signal's number (2 or 15).
    pub async fn recv(&mut self) -> i32 {
        tokio::select! {
            _ = self.interrupt.recv() => libc::SIGINT,
            _ = self.terminate.recv() => libc::SIGTERM,
        }
    }
}

/// Sets `stop` on the first SIGINT or SIGTERM, saying `asked`, and ends the
/// process on the second, saying `at_once`, with the shell's code for it.
///
/// The signals are read on a thread of their own, with a runtime of its own:
/// read by a task of the caller's runtime, they waited for that runtime's
/// next pause, and a `check` makes none while it syncs, opens a large store
/// or reads its due list. A Ctrl-C then did nothing for as long, and the
/// second, coalesced with the first, never stopped it at once. The store
/// takes an exit at any moment as it takes a kill.
pub fn stop_on_signals(
    stop: Arc<AtomicBool>,
    asked: &'static str,
    at_once: &'static str,
) -> io::Result<()> {
    let (ready, installed) = std::sync::mpsc::channel::<io::Result<()>>();
    // A thread the system refuses is a panic worded as std words it, which
    // the binary's hook names as the limit it is, as for every other thread.
    std::thread::Builder::new()
        .name("citewatch-signals".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return;
                }
            };
            rt.block_on(async move {
                let mut signals = match StopSignals::install() {
                    Ok(signals) => signals,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                let _ = ready.send(Ok(()));
                signals.recv().await;
                stop.store(true, Ordering::Release);
                eprintln!("{asked}");
                let n = signals.recv().await;
                eprintln!("{at_once}");
                std::process::exit(128 + n);
            });
        })
        .expect("failed to spawn thread");
    installed
        .recv()
        .unwrap_or_else(|_| Err(io::Error::other("the signal thread ended before listening")))
}
