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
    /// How long the system resolver is waited for (see [`bounded`]).
    pub(super) lookup_within: std::time::Duration,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let guard = self.guard.clone();
        let overrides = self.overrides.clone();
        let within = self.lookup_within;
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = match (overrides.get(&host), special_use(&host)) {
                (Some(a), _) => a.clone(),
                (None, Some(answer)) => answer?,
                (None, None) => bounded(&host, within, system_lookup(&host)).await?,
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

/// The answer RFC 6761 fixes for a special-use name, without asking the
/// network: an `.invalid` name never resolves, a `localhost` name is the
/// loopback addresses. Resolvers should answer these themselves; asked of
/// the network, an `.invalid` name sent a query off the machine for a name
/// that cannot exist, and `a.localhost` often came back "not found".
fn special_use(host: &str) -> Option<Result<Vec<SocketAddr>, NotResolved>> {
    let name = host.trim_end_matches('.');
    let last = name.rsplit('.').next().unwrap_or(name);
    if last.eq_ignore_ascii_case("invalid") {
        return Some(Err(NotResolved {
            host: host.to_string(),
            // Worded as the system's "no such name", so it heads for `dead`.
            detail: "Name or service not known (an .invalid name, which never resolves)".into(),
        }));
    }
    last.eq_ignore_ascii_case("localhost").then(|| {
        Ok(vec![
            SocketAddr::from(([127, 0, 0, 1], 0)),
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 0)),
        ])
    })
}

/// `lookup`, waited for at most `limit`, then given up as a resolver that
/// did not answer: a failure for now, no evidence either way of the name.
/// reqwest's connect timeout covers resolution too, and a lookup it cut
/// short read as a connection timed out, an answer from the host that
/// restarted the no-such-host clock (glibc waits 5 s a try, twice, and an
/// unanswered name is asked again as absolute); `limit` is set a little
/// inside it.
async fn bounded(
    host: &str,
    limit: std::time::Duration,
    lookup: impl std::future::Future<Output = Result<Vec<SocketAddr>, NotResolved>>,
) -> Result<Vec<SocketAddr>, NotResolved> {
    tokio::time::timeout(limit, lookup)
        .await
        .unwrap_or_else(|_| {
            Err(NotResolved {
                host: host.to_string(),
                detail: format!(
                    "the resolver did not answer within {} s",
                    limit.as_secs_f64()
                ),
            })
        })
}

/// The system resolver's addresses for `host`.
///
/// A temporary failure is asked again of the name as absolute (`host.`):
/// with search domains configured, glibc tries the name under each of them
/// after the name itself, and one search domain's server failing turns the
/// name's own "no such name" into "temporary failure". A domain gone for good
/// must still read as gone, or it is never found dead.
async fn system_lookup(host: &str) -> Result<Vec<SocketAddr>, NotResolved> {
    let ask = |name: String| async move {
        tokio::net::lookup_host((name.as_str(), 0))
            .await
            .map(Iterator::collect::<Vec<SocketAddr>>)
            .map_err(|e| e.to_string())
    };
    let first = match ask(host.to_string()).await {
        Ok(addrs) => return Ok(addrs),
        Err(e) => e,
    };
    let absolute = if ask_as_absolute(host, &first) {
        Some(ask(format!("{host}.")).await)
    } else {
        None
    };
    settle(host, first, absolute)
}

/// Whether a failed lookup of `host` is worth asking again as an absolute
/// name: a temporary failure, for a name that is not absolute already.
fn ask_as_absolute(host: &str, detail: &str) -> bool {
    let detail = detail.to_ascii_lowercase();
    !host.ends_with('.')
        && host.parse::<std::net::IpAddr>().is_err()
        && (detail.contains("temporary failure in name resolution") || detail.contains("try again"))
}

/// The answer, given the first failure and what asking as an absolute name
/// said, if it was asked: its addresses, or its "no such name" (which then
/// heads for `dead`, see `name_does_not_exist`), else the first failure.
fn settle(
    host: &str,
    first: String,
    absolute: Option<Result<Vec<SocketAddr>, String>>,
) -> Result<Vec<SocketAddr>, NotResolved> {
    let detail = match absolute {
        Some(Ok(addrs)) if !addrs.is_empty() => return Ok(addrs),
        Some(Err(gone)) if super::name_does_not_exist(&gone) => {
            format!("{gone} (asked as the absolute name {host}., after: {first})")
        }
        _ => first,
    };
    Err(NotResolved {
        host: host.to_string(),
        detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const AGAIN: &str =
        "failed to lookup address information: Temporary failure in name resolution";
    const GONE: &str = "failed to lookup address information: Name or service not known";

    /// reqwest's connect timeout covers resolution too: a resolver that did
    /// not answer in time was cut short as a connection timeout, which reads
    /// as an answer from the host and restarted the no-such-host clock.
    #[tokio::test]
    async fn a_resolver_that_does_not_answer_in_time_failed_for_now() {
        let limit = std::time::Duration::from_millis(50);
        let never = std::future::pending::<Result<Vec<SocketAddr>, NotResolved>>();
        let got = tokio::time::timeout(20 * limit, bounded("slow.example", limit, never))
            .await
            .expect("given up at its own limit, before the connect timeout");
        let detail = got.unwrap_err().detail;
        assert!(!super::super::name_does_not_exist(&detail), "{detail}");
        assert_eq!(detail, "the resolver did not answer within 0.05 s");
        // An answer in time is the answer.
        let addr: SocketAddr = "192.0.2.7:0".parse().unwrap();
        let quick = async { Ok(vec![addr]) };
        assert_eq!(bounded("x.example", limit, quick).await.unwrap(), [addr]);
    }

    #[test]
    fn special_use_names_are_answered_without_asking() {
        for gone in ["x.invalid", "a.b.INVALID.", "invalid"] {
            let detail = special_use(gone).unwrap().unwrap_err().detail;
            assert!(
                super::super::name_does_not_exist(&detail),
                "{gone}: {detail}"
            );
        }
        for local in ["localhost", "a.localhost.", "News.LocalHost"] {
            let addrs = special_use(local).unwrap().unwrap();
            assert!(
                !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()),
                "{local}: {addrs:?}"
            );
        }
        for other in [
            "example.com",
            "invalid.example",
            "localhost.example",
            "x.test",
        ] {
            assert!(special_use(other).is_none(), "{other}");
        }
    }

    #[test]
    fn a_temporary_failure_is_asked_again_as_an_absolute_name() {
        assert!(ask_as_absolute("gone.example.com", AGAIN));
        assert!(ask_as_absolute("gone.example.com", "Try again"));
        // Already absolute, an address, or a failure that is no temporary one.
        assert!(!ask_as_absolute("gone.example.com.", AGAIN));
        assert!(!ask_as_absolute("192.0.2.1", AGAIN));
        assert!(!ask_as_absolute("gone.example.com", GONE));
    }

    #[test]
    fn no_such_absolute_name_is_a_name_gone() {
        let got = settle("gone.example.com", AGAIN.into(), Some(Err(GONE.into())));
        let detail = got.unwrap_err().detail;
        assert!(super::super::name_does_not_exist(&detail), "{detail}");
        assert!(detail.contains("gone.example.com.") && detail.contains("Temporary failure"));
    }

    #[test]
    fn otherwise_the_first_failure_stands_or_the_absolute_name_answers() {
        // Failing for now both ways, or not asked: still only a failure for now.
        for absolute in [Some(Err(AGAIN.to_string())), Some(Ok(Vec::new())), None] {
            let detail = settle("x.example", AGAIN.into(), absolute)
                .unwrap_err()
                .detail;
            assert_eq!(detail, AGAIN);
            assert!(!super::super::name_does_not_exist(&detail));
        }
        let addr: SocketAddr = "192.0.2.7:0".parse().unwrap();
        let got = settle("x.example", AGAIN.into(), Some(Ok(vec![addr]))).unwrap();
        assert_eq!(got, [addr]);
    }
}
