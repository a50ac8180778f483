//! `citewatch serve`: the HTTP service until SIGTERM or Ctrl-C.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use citewatch::config::Config;
use citewatch::server::{self, AppState, ServeError};
use citewatch::signals::StopSignals;

use super::{Failure, runtime, usage};

/// Runs `serve`, on `listen` or `[serve] listen`.
pub fn serve(config: &Config, listen: Option<SocketAddr>) -> Result<ExitCode, Failure> {
    let addr = listen.unwrap_or(config.serve.listen);
    let state = AppState::new(config.clone()).map_err(|e| match e {
        ServeError::Store(citewatch::store::StoreError::Missing { .. }) => usage(e),
        e => runtime(e),
    })?;
    let rt = tokio::runtime::Runtime::new().map_err(runtime)?;
    rt.block_on(async move {
        // SIGINT/SIGTERM: the first stops gracefully, a second at once.
        let mut signals = StopSignals::install()?;
        let (first, told) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            signals.recv().await;
            let _ = first.send(());
            let n = signals.recv().await;
            eprintln!("citewatch: stopped at once (a second signal)");
            std::process::exit(128 + n);
        });
        let listener = server::bind(addr).await?;
        let local = listener.local_addr()?;
        // One line on stdout, so a supervisor or a test learns the port chosen for :0.
        // Not `println!`, which panics when standard output is gone (a
        // reader that took the line and left): the line informs, the
        // service goes on without it.
        if let Err(e) = writeln!(std::io::stdout(), "citewatch: serving http://{local}/") {
            tracing::warn!("serving http://{local}/; standard output: {e}");
        }
        if !local.ip().is_loopback() {
            tracing::warn!("listening on {local}, beyond loopback: put it behind TLS");
        }
        server::serve(state, listener, async {
            let _ = told.await;
        })
        .await
    })
    .map_err(runtime)?;
    eprintln!("citewatch: stopped");
    Ok(ExitCode::SUCCESS)
}
