//! Which `Host` the service answers to: a guard against DNS rebinding. A
//! web page its operator opens can rebind its own name to 127.0.0.1 and,
//! its scripts now "same-origin" with the service, read every report,
//! citation, capture header and archived body. Such a request names the
//! attacker's host, so only names the service knows are answered: an IP
//! address, `localhost`, the hosts of `[serve] public_url` and
//! `archive_origin`, and those listed in `[serve] allowed_hosts`.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};
use crate::config::ServeConfig;

/// Whether a request whose `Host` header is `host` (a name or address and
/// perhaps a port, as sent) is answered.
pub fn allowed(host: &str, serve: &ServeConfig) -> bool {
    let host = host.trim();
    // `[::1]:8080`: an address, which no rebinding can send.
    if host.starts_with('[') {
        return true;
    }
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name.parse::<std::net::Ipv4Addr>().is_ok()
        || name == "localhost"
        || name.ends_with(".localhost")
    {
        return true;
    }
    let known = [serve.public_url(), serve.archive_origin()];
    known
        .iter()
        .flatten()
        .filter_map(|u| u.host_str())
        .chain(serve.allowed_hosts.iter().map(String::as_str))
        .any(|h| h == "*" || h.trim_end_matches('.').eq_ignore_ascii_case(&name))
}

/// Whether a request whose `Host` header is `host` was sent to `origin` (the
/// `[serve] archive_origin`): the same name, and the same port where both
/// say one. Lenient on ports, since a proxy in front may add or drop one: a
/// request taken for the main origin is redirected to `origin`, and one that
/// was sent there already would be redirected to itself for good.
pub fn names_origin(host: &str, origin: &url::Url) -> bool {
    let host = host.trim();
    let (name, port) = match host.rsplit_once(':') {
        // `[::1]` alone ends with its bracket; `[::1]:8080` with a port.
        Some((name, port))
            if !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && (!name.starts_with('[') || name.ends_with(']')) =>
        {
            (name, port.parse::<u16>().ok())
        }
        _ => (host, None),
    };
    let Some(want) = origin.host_str() else {
        return false;
    };
    let same_name = name
        .trim_end_matches('.')
        .eq_ignore_ascii_case(want.trim_end_matches('.'));
    let same_port = match (port, origin.port()) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    };
    same_name && same_port
}

/// Answers 403 to a request naming a host the service does not know (see
/// [`allowed`]), before any route runs. A request with no `Host` (HTTP/1.0)
/// is answered: no browser sends one.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned());
    match host {
        Some(host) if !allowed(&host, &state.config().serve) => ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "Host `{host}` is not one this service answers to (a guard against DNS \
                 rebinding): set [serve] public_url to the address people use, or add the \
                 name to [serve] allowed_hosts"
            ),
        )
        .into_response(),
        _ => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(extra: &str) -> ServeConfig {
        let mut s = ServeConfig::default();
        if !extra.is_empty() {
            s.allowed_hosts = vec![extra.to_string()];
        }
        s
    }

    #[test]
    fn a_request_names_the_archive_origin_by_its_name_and_port() {
        let origin = url::Url::parse("https://archive.example.org/").unwrap();
        for host in [
            "archive.example.org",
            "ARCHIVE.example.org.",
            "archive.example.org:443",
            // A proxy's port: the origin says none, so any is taken for it.
            "archive.example.org:8443",
        ] {
            assert!(names_origin(host, &origin), "{host}");
        }
        for host in [
            "citewatch.example.org",
            "archive.example.org.evil.example",
            "example.org",
            "127.0.0.1:8080",
            "",
        ] {
            assert!(!names_origin(host, &origin), "{host}");
        }
        let ported = url::Url::parse("http://127.0.0.2:9/").unwrap();
        assert!(names_origin("127.0.0.2:9", &ported));
        assert!(names_origin("127.0.0.2", &ported));
        assert!(!names_origin("127.0.0.2:8080", &ported));
        assert!(!names_origin("127.0.0.1:9", &ported));
        let v6 = url::Url::parse("http://[::2]:9/").unwrap();
        assert!(names_origin("[::2]:9", &v6));
        assert!(names_origin("[::2]", &v6));
        assert!(!names_origin("[::1]:9", &v6));
    }

    #[test]
    fn addresses_and_localhost_are_answered() {
        let s = serve("");
        for host in [
            "127.0.0.1:8080",
            "127.0.0.1",
            "10.1.2.3:80",
            "[::1]:8080",
            "localhost:8080",
            "LOCALHOST",
            "localhost.",
            "app.localhost:3000",
        ] {
            assert!(allowed(host, &s), "{host}");
        }
    }

    #[test]
    fn another_name_is_refused_unless_the_configuration_names_it() {
        let s = serve("");
        for host in [
            "evil.example",
            "evil.example:8080",
            "127.0.0.1.evil.example",
            "localhost.evil.example",
        ] {
            assert!(!allowed(host, &s), "{host}");
        }
        let mut s = serve("Briefings.Example.org");
        assert!(allowed("briefings.example.org:8080", &s));
        assert!(allowed("briefings.example.org.", &s));
        assert!(!allowed("evil.example", &s));
        s.public_url = "https://citewatch.example.org/".into();
        s.archive_origin = "https://archive.example.org/".into();
        assert!(allowed("citewatch.example.org", &s));
        assert!(allowed("archive.example.org:443", &s));
        assert!(!allowed("evil.example", &s));
        assert!(allowed("evil.example", &serve("*")));
    }
}
