//! The typed account of one fetch. Deciding what it means for a citation (dead,
//! moved, soft 404 …) is the check's business, not the fetcher's.

use serde::Serialize;

use super::body::Body;

/// One response header, name lower-cased, value as received (lossy UTF-8).
pub type Header = (String, String);

/// How a fetch ended.
#[derive(Debug)]
pub enum Outcome {
    /// The server answered (any status, redirects already followed).
    Response {
        /// HTTP status.
        status: u16,
        /// Response headers.
        headers: Vec<Header>,
        /// The body, complete.
        body: Body,
    },
    /// A conditional request came back 304: unchanged, not downloaded again.
    NotModified {
        /// Response headers.
        headers: Vec<Header>,
    },
    /// The host name does not resolve.
    Dns {
        /// Resolver message.
        detail: String,
    },
    /// The resolver failed for now (SERVFAIL, a timeout, "try again", a
    /// non-recoverable failure): it said nothing about the name, either way.
    /// Unlike [`Outcome::Dns`], no evidence that the host is gone; unlike a
    /// connection failure, no evidence that its name resolves.
    DnsUnavailable {
        /// Resolver message.
        detail: String,
    },
    /// The server refused the connection.
    ConnectRefused {
        /// Detail.
        detail: String,
    },
    /// The connection was reset or closed mid-exchange: before the answer's
    /// head, or in its body (short of its Content-Length or last chunk).
    ConnectReset {
        /// Detail.
        detail: String,
    },
    /// Another connection failure.
    Connect {
        /// Detail.
        detail: String,
    },
    /// The TLS handshake failed (certificate, protocol).
    Tls {
        /// Detail.
        detail: String,
    },
    /// The request did not finish within the timeout.
    Timeout {
        /// Which bound was hit.
        detail: String,
    },
    /// More redirects than allowed: a loop, or a chain longer than the limit.
    /// One kind for both (the store and the check know it by that name); the
    /// detail tells them apart, since "a loop" says the chain can never end
    /// and a long chain may end at the page one hop further.
    TooManyRedirects {
        /// The limit.
        limit: usize,
        /// The first URL the chain came back to, when it came back to one.
        repeated: Option<String>,
    },
    /// The body exceeded the size cap; what arrived before is kept, truncated.
    BodyTooLarge {
        /// HTTP status.
        status: u16,
        /// Response headers.
        headers: Vec<Header>,
        /// The first `limit` bytes.
        body: Body,
        /// The cap in bytes.
        limit: u64,
    },
    /// The answer could not be decoded: a broken gzip/brotli/zstd body, or a
    /// response head that is not HTTP we can read (past hyper's size limit,
    /// a status line or header that does not parse). A body the connection
    /// cut short is [`Outcome::ConnectReset`], not this.
    Decoding {
        /// Detail.
        detail: String,
    },
    /// The address guard refused the destination; nothing was sent.
    AddressRefused {
        /// The refused address and its class.
        detail: String,
    },
    /// robots.txt disallows the URL for our user agent; nothing was sent.
    RobotsDisallowed {
        /// The robots.txt consulted.
        robots_url: String,
    },
    /// robots.txt answered a server error (or 429), or the server took the
    /// connection and did not answer, which RFC 9309 reads as "stay away for
    /// now"; or it was not asked for, the host's Retry-After on an earlier
    /// answer still holding. Nothing was sent. The server's failure of the
    /// moment (or its wish to be left alone), not its policy.
    RobotsUnavailable {
        /// The robots.txt asked for (or that would have been).
        robots_url: String,
        /// What happened, after the URL: "answered HTTP 503, which means
        /// …", "was not asked for: … until 2026-12-02T16:00:00Z".
        why: String,
    },
    /// The host asked for a longer pause (Retry-After) than `max_retry_after`.
    RateLimited {
        /// Seconds the host still wanted us to wait.
        retry_after_secs: u64,
        /// The status that asked (429 or 503), this answer's or, when nothing
        /// was sent, that of the earlier answer whose Retry-After still holds
        /// for the host.
        status: Option<u16>,
    },
    /// This machine failed, not the server: a body past 1 MiB could not be
    /// buffered in a temporary file (a full, missing or unwritable temporary
    /// folder). Says nothing about the page; not retried.
    Local {
        /// Detail.
        detail: String,
    },
    /// The URL (or a redirect's Location) cannot be fetched as written.
    InvalidUrl {
        /// Why.
        detail: String,
    },
}

impl Outcome {
    /// A stable snake_case name, for JSON and the store.
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Response { .. } => "http",
            Outcome::NotModified { .. } => "not_modified",
            Outcome::Dns { .. } => "dns",
            Outcome::DnsUnavailable { .. } => "dns_unavailable",
            Outcome::ConnectRefused { .. } => "connect_refused",
            Outcome::ConnectReset { .. } => "connect_reset",
            Outcome::Connect { .. } => "connect",
            Outcome::Tls { .. } => "tls",
            Outcome::Timeout { .. } => "timeout",
            Outcome::TooManyRedirects { .. } => "too_many_redirects",
            Outcome::BodyTooLarge { .. } => "body_too_large",
            Outcome::Decoding { .. } => "decoding",
            Outcome::AddressRefused { .. } => "address_refused",
            Outcome::RobotsDisallowed { .. } => "robots_disallowed",
            Outcome::RobotsUnavailable { .. } => "robots_unavailable",
            Outcome::RateLimited { .. } => "rate_limited",
            Outcome::Local { .. } => "local",
            Outcome::InvalidUrl { .. } => "invalid_url",
        }
    }

    /// A short human-readable account.
    pub fn detail(&self) -> String {
        match self {
            Outcome::Response { status, body, .. } => {
                format!("HTTP {status} {}, {} bytes", reason(*status), body.len())
            }
            Outcome::NotModified { .. } => {
                "304 Not Modified: unchanged, not downloaded again".into()
            }
            Outcome::Dns { detail }
            | Outcome::DnsUnavailable { detail }
            | Outcome::ConnectRefused { detail }
            | Outcome::ConnectReset { detail }
            | Outcome::Connect { detail }
            | Outcome::Tls { detail }
            | Outcome::Timeout { detail }
            | Outcome::Decoding { detail }
            | Outcome::AddressRefused { detail }
            | Outcome::Local { detail }
            | Outcome::InvalidUrl { detail } => detail.clone(),
            Outcome::TooManyRedirects {
                repeated: Some(url),
                ..
            } => format!("redirect loop: {url} was seen before in the chain"),
            Outcome::TooManyRedirects {
                limit,
                repeated: None,
            } => format!("more than {limit} redirects"),
            Outcome::BodyTooLarge { limit, .. } => {
                format!("body larger than {limit} bytes; the first {limit} bytes were kept")
            }
            Outcome::RobotsDisallowed { robots_url } => format!("disallowed by {robots_url}"),
            Outcome::RobotsUnavailable { robots_url, why } => {
                format!("{robots_url} {why}: not fetched")
            }
            Outcome::RateLimited {
                retry_after_secs, ..
            } => {
                format!(
                    "rate-limited: the host asked to wait {retry_after_secs} s, longer than max_retry_after"
                )
            }
        }
    }

    /// The HTTP status, when a response arrived.
    pub fn status(&self) -> Option<u16> {
        match self {
            Outcome::Response { status, .. } | Outcome::BodyTooLarge { status, .. } => {
                Some(*status)
            }
            Outcome::NotModified { .. } => Some(304),
            Outcome::RateLimited { status, .. } => *status,
            _ => None,
        }
    }

    /// The response headers, when a response arrived.
    pub fn headers(&self) -> Option<&[Header]> {
        match self {
            Outcome::Response { headers, .. }
            | Outcome::BodyTooLarge { headers, .. }
            | Outcome::NotModified { headers } => Some(headers),
            _ => None,
        }
    }

    /// The body, complete or truncated.
    pub fn body(&self) -> Option<&Body> {
        match self {
            Outcome::Response { body, .. } | Outcome::BodyTooLarge { body, .. } => Some(body),
            _ => None,
        }
    }
}

fn reason(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

/// One redirect followed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hop {
    /// The URL requested.
    pub url: String,
    /// The redirect status.
    pub status: u16,
    /// The `Location` header as sent.
    pub location: String,
    /// `Location` resolved against `url`.
    pub resolved: String,
}

#[cfg(test)]
mod tests {
    use super::Outcome;

    #[test]
    fn a_redirect_loop_and_a_long_chain_are_told_apart() {
        let long = Outcome::TooManyRedirects {
            limit: 10,
            repeated: None,
        };
        assert_eq!(long.detail(), "more than 10 redirects");
        let looped = Outcome::TooManyRedirects {
            limit: 10,
            repeated: Some("http://a.test/loop/a".into()),
        };
        assert_eq!(
            looped.detail(),
            "redirect loop: http://a.test/loop/a was seen before in the chain"
        );
        assert_eq!(long.kind(), looped.kind());
    }
}
