//! `citewatch serve`: the HTTP service until SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::process::ExitCode;

use citewatch::config::Config;
use citewatch::server::{self, AppState, ServeError};

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
        let listener = server::bind(addr).await?;
        let local = listener.local_addr()?;
        // One line on stdout, so a supervisor or a test learns the port chosen for :0.
        println!("citewatch: serving http://{local}/");
        if !local.ip().is_loopback() {
            tracing::warn!("listening on {local}, beyond loopback: put it behind TLS");
        }
        server::serve(state, listener, server::shutdown_signal()).await
    })
    .map_err(runtime)?;
    eprintln!("citewatch: stopped");
    Ok(ExitCode::SUCCESS)
}
