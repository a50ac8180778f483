//! What is worth retrying, and how long to wait first.

use std::time::{Duration, SystemTime};

/// Statuses that say "try again later" rather than "this is the answer".
pub fn is_transient_status(status: u16) -> bool {
    matches!(status, 408 | 429) || (500..=599).contains(&status) && status != 501 && status != 505
}

/// Exponential backoff with jitter: about 0.5 s, 1 s, 2 s … (capped at 30 s),
/// each drawn between half and all of that, so retries from many tasks spread out.
pub fn backoff(attempt: u32) -> Duration {
    let full = Duration::from_millis(500).saturating_mul(1u32 << attempt.min(6));
    let full = full.min(Duration::from_secs(30));
    let factor = 0.5 + rand::random::<f64>() * 0.5;
    full.mul_f64(factor)
}

/// Reads a `Retry-After` value: delay seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        // Past what a u64 holds, it still asks for longer than we wait.
        return Some(Duration::from_secs(v.parse::<u64>().unwrap_or(u64::MAX)));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_statuses() {
        for s in [408, 429, 500, 502, 503, 504, 599] {
            assert!(is_transient_status(s), "{s}");
        }
        for s in [200, 301, 304, 400, 401, 403, 404, 410, 451, 501, 505] {
            assert!(!is_transient_status(s), "{s}");
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 0..10 {
            let full =
                Duration::from_millis(500 * (1u64 << attempt.min(6))).min(Duration::from_secs(30));
            let b = backoff(attempt);
            assert!(b >= full / 2 && b <= full, "{attempt}: {b:?}");
        }
    }

    #[test]
    fn retry_after_in_both_forms() {
        let now = httpdate::parse_http_date("Sun, 29 Nov 2026 03:00:00 GMT").unwrap();
        assert_eq!(parse_retry_after(" 2 ", now), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after("Sun, 29 Nov 2026 03:01:30 GMT", now),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            parse_retry_after("Sun, 29 Nov 2026 02:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
        // More digits than a u64 holds: longer than anyone waits, not nothing.
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
    }
}
