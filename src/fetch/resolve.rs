//! Name resolution that passes every address through the guard.
//!
//! reqwest asks this resolver for every connection it opens, so a refused address
//! is never connected to, even for a host name the test suite (or a user's
//! `/etc/hosts`) maps to loopback. Overrides given to the builder are resolved
//! here too, for the same reason.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::guard::{AddressGuard, Refused};

/// Resolution failed: the name does not resolve, or to no address.
#[derive(Debug, thiserror::Error)]
#[error("cannot resolve {host}: {detail}")]
pub struct NotResolved {
    /// The host name.
    pub host: String,
    /// What the system resolver said.
    pub detail: String,
}

/// The guard refused every address the host resolved to.
#[derive(Debug, thiserror::Error)]
#[error("{host}: {refused}")]
pub struct HostRefused {
    /// The host name.
    pub host: String,
    /// The first refused address.
    pub refused: Refused,
}

/// The resolver reqwest is built with.
pub struct GuardedResolver {
    pub(super) guard: Arc<AddressGuard>,
    pub(super) overrides: Arc<HashMap<String, Vec<SocketAddr>>>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let guard = self.guard.clone();
        let overrides = self.overrides.clone();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = match overrides.get(&host) {
                Some(a) => a.clone(),
                None => tokio::net::lookup_host((host.as_str(), 0))
                    .await
                    .map_err(|e| NotResolved {
                        host: host.clone(),
                        detail: e.to_string(),
                    })?
                    .collect(),
            };
            if addrs.is_empty() {
                return Err(NotResolved {
                    host,
                    detail: "no addresses".into(),
                }
                .into());
            }
            let mut first_refusal = None;
            let allowed: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| match guard.check(a.ip()) {
                    Ok(()) => true,
                    Err(r) => {
                        first_refusal.get_or_insert(r);
                        false
                    }
                })
                .collect();
            match (allowed.is_empty(), first_refusal) {
                (true, Some(refused)) => Err(HostRefused { host, refused }.into()),
                _ => Ok(Box::new(allowed.into_iter()) as Addrs),
            }
        })
    }
}
