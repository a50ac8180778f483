//! SIGINT and SIGTERM for the commands that stop cleanly on them: the first
//! asks to stop, a second one stops at once.
//!
//! The handlers are installed when [`StopSignals::install`] returns, not when a
//! future is first polled: a `check` spends its first seconds in synchronous
//! work (the lock, the store, the sync) before its runtime polls anything, and
//! a SIGTERM then killed it outright.

use std::io;

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
