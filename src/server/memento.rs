//! Memento (RFC 7089): the TimeGate (`/timegate/{url}`) and the TimeMap
//! (`/timemap/link/{url}`), built on pure functions — HTTP-date reading and
//! writing, the nearest-memento choice and the link-format text — tested below.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState, Links};
use crate::store::Memento;
use crate::time::Millis;

/// `Accept-Datetime` could not be read as an HTTP date.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("Accept-Datetime `{0}` is not an HTTP date (e.g. Thu, 31 May 2007 20:35:00 GMT)")]
pub struct BadDatetime(pub String);

/// Reads an HTTP date (RFC 7231 IMF-fixdate, and the obsolete RFC 850 and
/// asctime forms) as unix milliseconds, before 1970 too (negative): a client
/// asking for the earliest copy with an old date is owed the first memento,
/// not a 400.
pub fn parse_http_date(value: &str) -> Result<Millis, BadDatetime> {
    let bad = || BadDatetime(shown(value));
    let value = value.trim();
    let (t, years_back) = match httpdate::parse_http_date(value) {
        Ok(t) => (t, 0),
        Err(_) => before_1970(value).ok_or_else(bad)?,
    };
    let secs = match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).map_err(|_| bad())?,
        Err(e) => -i64::try_from(e.duration().as_secs()).map_err(|_| bad())?,
    };
    secs.checked_sub(years_back * SECS_PER_400_YEARS)
        .and_then(|s| s.checked_mul(1000))
        .ok_or_else(bad)
}

/// The start of a value quoted back in an error: a request's header may be
/// 100 KB, and the answer need not repeat it.
fn shown(value: &str) -> String {
    const SHOWN: usize = 64;
    match value.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_string(),
    }
}

/// Seconds in 400 Gregorian years, after which dates fall on the same weekdays.
const SECS_PER_400_YEARS: i64 = 146_097 * 86_400;

/// A date before 1970 (which `httpdate` refuses) read 400 years on, or as many
/// times 400 as it takes, so that `httpdate` checks it whole (the weekday
/// included); returns that time and the years to take back off.
fn before_1970(value: &str) -> Option<(std::time::SystemTime, i64)> {
    // Where the four-digit year is: IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`
    // and asctime `Sun Nov  6 08:49:37 1994` (RFC 850's two digits are 1970 on).
    let at = match value.len() {
        29 => 12..16,
        24 => 20..24,
        _ => return None,
    };
    let digits = value.get(at.clone())?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i64 = digits.parse().ok()?;
    if year >= 1970 {
        return None;
    }
    let years_back = (1970 - year + 399) / 400 * 400;
    let shifted = format!(
        "{}{:04}{}",
        &value[..at.start],
        year + years_back,
        &value[at.end..]
    );
    let t = httpdate::parse_http_date(&shifted).ok()?;
    Some((t, years_back / 400))
}

/// Writes unix milliseconds as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`),
/// as `Memento-Datetime` and link-format `datetime` want. Times before 1970 are
/// written as the epoch.
pub fn format_http_date(ms: Millis) -> String {
    // HTTP dates end with the year 9999 (httpdate panics past it).
    const LAST: u64 = 253_402_300_799;
    let secs = u64::try_from(ms.div_euclid(1000)).unwrap_or(0).min(LAST);
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// The memento a TimeGate redirects to: the one nearest `at` at the precision
/// its datetime is advertised (`Memento-Datetime`, the TimeMap's `datetime`:
/// whole seconds), so asking for a memento's own datetime gets that memento;
/// of several equally near (in one second, or either side of `at`), the
/// earliest. The latest when no datetime was asked for. `mementos` is oldest first.
pub fn nearest(mementos: &[Memento], at: Option<Millis>) -> Option<Memento> {
    match at {
        None => mementos.last().copied(),
        Some(at) => {
            let at = at.div_euclid(1000);
            mementos.iter().copied().min_by_key(|m| {
                let second = m.captured_at.div_euclid(1000);
                (second.abs_diff(at), m.captured_at, m.id)
            })
        }
    }
}

/// One link of a link-format list or `Link` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Target URI.
    pub uri: String,
    /// `rel` value (space-separated relation types).
    pub rel: String,
    /// Other parameters, in order, unquoted.
    pub params: Vec<(String, String)>,
}

impl Link {
    fn new(uri: impl Into<String>, rel: impl Into<String>) -> Link {
        Link {
            uri: uri.into(),
            rel: rel.into(),
            params: Vec::new(),
        }
    }

    fn with(mut self, key: &str, value: impl Into<String>) -> Link {
        self.params.push((key.to_string(), value.into()));
        self
    }
}

/// Writes links as RFC 6690 link-format (also the syntax of a `Link` header):
/// `<uri>; rel="…"; key="…"`, separated by `sep`.
pub fn write_links(links: &[Link], sep: &str) -> String {
    links
        .iter()
        .map(|l| {
            let mut s = format!("<{}>; rel=\"{}\"", l.uri, l.rel);
            for (k, v) in &l.params {
                s.push_str(&format!("; {k}=\"{}\"", v.replace('"', "")));
            }
            s
        })
        .collect::<Vec<_>>()
        .join(sep)
}

/// Reads link-format text back (for tests and clients): URIs in angle brackets,
/// `;`-separated parameters, quoted or bare values, `,` between links.
pub fn parse_links(text: &str) -> Option<Vec<Link>> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        rest = rest.strip_prefix('<')?;
        let end = rest.find('>')?;
        let uri = rest[..end].to_string();
        rest = rest[end + 1..].trim_start();
        let mut link = Link::new(uri, "");
        while let Some(r) = rest.strip_prefix(';') {
            let r = r.trim_start();
            let eq = r.find('=')?;
            let key = r[..eq].trim().to_ascii_lowercase();
            let r = r[eq + 1..].trim_start();
            let (value, after) = if let Some(q) = r.strip_prefix('"') {
                let close = q.find('"')?;
                (q[..close].to_string(), &q[close + 1..])
            } else {
                let stop = r.find([';', ',']).unwrap_or(r.len());
                (r[..stop].trim().to_string(), &r[stop..])
            };
            if key == "rel" {
                link.rel = value;
            } else {
                link.params.push((key, value));
            }
            rest = after.trim_start();
        }
        out.push(link);
        rest = match rest.strip_prefix(',') {
            Some(r) => r.trim_start(),
            None if rest.is_empty() => rest,
            None => return None,
        };
    }
    Some(out)
}

/// The links every Memento response carries for an original resource: the
/// original, its TimeGate and its TimeMap.
pub fn resource_links(links: &Links, original: &str) -> Vec<Link> {
    vec![
        Link::new(original, "original"),
        Link::new(links.timegate(original), "timegate"),
        Link::new(links.timemap(original), "timemap").with("type", "application/link-format"),
    ]
}

/// A TimeMap (RFC 7089 §5.1.1) in link-format: original, timegate, self (with
/// from/until), then one memento per capture, the first and last so named.
pub fn timemap(links: &Links, original: &str, mementos: &[Memento]) -> String {
    let mut out = vec![
        Link::new(original, "original"),
        Link::new(links.timegate(original), "timegate"),
    ];
    let mut me = Link::new(links.timemap(original), "self").with("type", "application/link-format");
    if let (Some(first), Some(last)) = (mementos.first(), mementos.last()) {
        me = me
            .with("from", format_http_date(first.captured_at))
            .with("until", format_http_date(last.captured_at));
    }
    out.push(me);
    let n = mementos.len();
    for (i, m) in mementos.iter().enumerate() {
        let rel = match (i == 0, i + 1 == n) {
            (true, true) => "first last memento",
            (true, false) => "first memento",
            (false, true) => "last memento",
            (false, false) => "memento",
        };
        out.push(
            Link::new(links.archive(m.id), rel).with("datetime", format_http_date(m.captured_at)),
        );
    }
    let mut text = write_links(&out, ",\n");
    text.push('\n');
    text
}

/// The original URL named by a `/timegate/{url}` or `/timemap/link/{url}`
/// request: everything after `prefix`, query included. Clients that merge
/// slashes (`http:/host`) and that percent-encode the whole URL are both understood.
pub fn original_from(uri: &Uri, prefix: &str) -> Option<String> {
    let pq = uri.path_and_query()?.as_str();
    let raw = pq.strip_prefix(prefix)?;
    let decoded = if raw.contains(":/") {
        raw.to_string()
    } else {
        url::form_urlencoded::parse(format!("u={}", raw.replace('+', "%2B")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())?
    };
    for scheme in ["http:", "https:"] {
        if let Some(rest) = decoded.strip_prefix(scheme)
            && !rest.starts_with("//")
        {
            return Some(format!("{scheme}//{}", rest.trim_start_matches('/')));
        }
    }
    Some(decoded)
}

/// Looks up the mementos of the original URL a request names.
async fn mementos_for(
    state: &AppState,
    uri: &Uri,
    prefix: &str,
) -> Result<(String, Vec<Memento>), ApiError> {
    let raw = original_from(uri, prefix)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request("name the original URL after the path"))?;
    let url = crate::source_url::normalize(&raw).map_err(|e| {
        ApiError::bad_request(format!("`{raw}` is not a URL citewatch archives: {e}"))
    })?;
    let key = url.as_str().to_string();
    let found = state
        .with_store(move |store| {
            let Some(id) = store.source_id(&key)? else {
                return Ok(Vec::new());
            };
            Ok(store.mementos(id)?)
        })
        .await?;
    if found.is_empty() {
        return Err(ApiError::not_found(format!(
            "nothing is archived for {url}"
        )));
    }
    Ok((url.as_str().to_string(), found))
}

/// `GET /timegate/{url}`: 302 to the memento nearest `Accept-Datetime`.
pub async fn timegate(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let at = match headers.get("accept-datetime") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .map_err(|_| ApiError::bad_request("Accept-Datetime is not text"))
                .and_then(|s| {
                    parse_http_date(s).map_err(|e| ApiError::bad_request(e.to_string()))
                })?,
        ),
    };
    let (original, mementos) = mementos_for(&state, &uri, "/timegate/").await?;
    let links = state.links(&headers);
    let chosen = nearest(&mementos, at).ok_or_else(|| ApiError::not_found("no memento"))?;
    let mut all = resource_links(&links, &original);
    let dated = |m: &Memento, rel: &str| {
        Link::new(links.archive(m.id), rel).with("datetime", format_http_date(m.captured_at))
    };
    // The first and last mementos always, as the TimeMap names them; the
    // chosen one among them when it is one of them.
    if let (Some(first), Some(last)) = (mementos.first(), mementos.last()) {
        let mut shown = vec![*first, chosen, *last];
        shown.dedup_by_key(|m| m.id);
        for m in &shown {
            let mut rel = Vec::new();
            if m.id == first.id {
                rel.push("first");
            }
            if m.id == last.id {
                rel.push("last");
            }
            rel.push("memento");
            all.push(dated(m, &rel.join(" ")));
        }
    }
    let mut resp = (
        StatusCode::FOUND,
        [
            (header::LOCATION, links.archive(chosen.id)),
            (header::VARY, "accept-datetime".to_string()),
            (header::LINK, write_links(&all, ", ")),
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
        ],
        format!("see {}\n", links.archive(chosen.id)),
    )
        .into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(resp)
}

/// `GET /timemap/link/{url}`: the TimeMap in `application/link-format`.
pub async fn timemap_link(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (original, mementos) = mementos_for(&state, &uri, "/timemap/link/").await?;
    let links = state.links(&headers);
    let body = timemap(&links, &original, &mementos);
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/link-format; charset=utf-8",
        )],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: i64, at: Millis) -> Memento {
        Memento {
            id,
            captured_at: at,
        }
    }

    #[test]
    fn http_dates_round_trip_and_nonsense_is_refused() {
        let t = parse_http_date("Thu, 31 May 2007 20:35:00 GMT").unwrap();
        assert_eq!(t, 1_180_643_700_000);
        assert_eq!(format_http_date(t), "Thu, 31 May 2007 20:35:00 GMT");
        assert_eq!(format_http_date(t + 999), "Thu, 31 May 2007 20:35:00 GMT");
        // A damaged row dated past 9999 is written as HTTP's last date.
        assert_eq!(format_http_date(i64::MAX), "Fri, 31 Dec 9999 23:59:59 GMT");
        // The obsolete forms HTTP still allows.
        assert_eq!(parse_http_date("Thursday, 31-May-07 20:35:00 GMT"), Ok(t));
        assert_eq!(parse_http_date("Thu May 31 20:35:00 2007"), Ok(t));
        for bad in [
            "",
            "yesterday",
            "2007-05-31T20:35:00Z",
            "Thu, 31 May 2007 25:35:00 GMT",
        ] {
            assert!(parse_http_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_nearest_memento_wins_ties_go_earlier_and_none_means_latest() {
        let ms = [m(1, 1_000), m(2, 5_000), m(3, 9_000)];
        assert_eq!(nearest(&ms, None), Some(m(3, 9_000)));
        assert_eq!(nearest(&ms, Some(0)), Some(m(1, 1_000)));
        assert_eq!(nearest(&ms, Some(2_999)), Some(m(1, 1_000)));
        assert_eq!(nearest(&ms, Some(3_000)), Some(m(1, 1_000)), "tie: earlier");
        assert_eq!(nearest(&ms, Some(4_000)), Some(m(2, 5_000)));
        assert_eq!(nearest(&ms, Some(i64::MAX)), Some(m(3, 9_000)));
        assert_eq!(nearest(&ms, Some(i64::MIN)), Some(m(1, 1_000)));
        assert_eq!(nearest(&[], Some(5)), None);
        assert_eq!(nearest(&[], None), None);
    }

    #[test]
    fn a_mementos_own_datetime_gets_that_memento() {
        // Two captures 0.4 s apart across a second boundary, advertised as
        // 72 s and 73 s: asking for 73 s once got the one advertised as 72 s.
        let ms = [m(58, 72_832), m(59, 73_227)];
        assert_eq!(format_http_date(73_227), "Thu, 01 Jan 1970 00:01:13 GMT");
        assert_eq!(nearest(&ms, Some(73_000)), Some(m(59, 73_227)));
        assert_eq!(nearest(&ms, Some(72_000)), Some(m(58, 72_832)));
        // Several in one second: the earliest of them, whichever is asked.
        let ms = [m(1, 10_100), m(2, 10_900), m(3, 11_050)];
        assert_eq!(nearest(&ms, Some(10_000)), Some(m(1, 10_100)));
        assert_eq!(nearest(&ms, Some(11_000)), Some(m(3, 11_050)));
        assert_eq!(nearest(&ms, Some(10_999)), Some(m(1, 10_100)));
    }

    #[test]
    fn a_long_bad_date_is_not_echoed_whole() {
        let long = "x".repeat(100_000);
        let e = parse_http_date(&long).unwrap_err().to_string();
        assert!(e.len() < 200, "{} bytes", e.len());
        assert!(e.contains(&format!("`{}…`", "x".repeat(64))), "{e}");
        let e = parse_http_date("soon").unwrap_err().to_string();
        assert!(e.contains("`soon`"), "{e}");
    }

    #[test]
    fn dates_before_1970_are_read_not_refused() {
        assert_eq!(parse_http_date("Wed, 31 Dec 1969 23:59:59 GMT"), Ok(-1_000));
        assert_eq!(
            parse_http_date("Mon, 01 Jan 1900 00:00:00 GMT"),
            Ok(-2_208_988_800_000)
        );
        assert_eq!(
            parse_http_date("Mon Jan  1 00:00:00 1900"),
            Ok(-2_208_988_800_000)
        );
        assert_eq!(
            parse_http_date("Sat, 01 Jan 0000 00:00:00 GMT"),
            Ok(-62_167_219_200_000)
        );
        // Checked as any date is: the weekday (1 January 1900 was a Monday),
        // the day of the month.
        for bad in [
            "Thu, 01 Jan 1900 00:00:00 GMT",
            "Tue, 30 Feb 1900 00:00:00 GMT",
            "Mon, 01 Jan 19x0 00:00:00 GMT",
        ] {
            assert!(parse_http_date(bad).is_err(), "{bad}");
        }
        let ms = [m(1, 1_000), m(2, 5_000)];
        let old = parse_http_date("Mon, 01 Jan 1900 00:00:00 GMT").ok();
        assert_eq!(nearest(&ms, old), Some(m(1, 1_000)));
    }

    fn links() -> Links {
        Links::new("http://cw.test/", "http://archive.test/")
    }

    #[test]
    fn a_timemap_names_original_timegate_self_and_every_memento() {
        let ms = [
            m(7, 1_180_643_700_000),
            m(9, 1_180_730_100_000),
            m(12, 1_200_000_000_000),
        ];
        let text = timemap(&links(), "http://news.test/a?b=1", &ms);
        let parsed = parse_links(&text).expect("link-format");
        assert_eq!(parsed.len(), 6);
        assert_eq!(parsed[0], Link::new("http://news.test/a?b=1", "original"));
        assert_eq!(
            parsed[1].uri,
            "http://cw.test/timegate/http://news.test/a?b=1"
        );
        assert_eq!(parsed[1].rel, "timegate");
        assert_eq!(parsed[2].rel, "self");
        assert!(
            parsed[2]
                .params
                .contains(&("from".into(), "Thu, 31 May 2007 20:35:00 GMT".into()))
        );
        let mementos: Vec<_> = parsed
            .iter()
            .filter(|l| l.rel.split(' ').any(|r| r == "memento"))
            .collect();
        assert_eq!(mementos.len(), 3);
        assert_eq!(mementos[0].uri, "http://archive.test/archive/7");
        assert_eq!(mementos[0].rel, "first memento");
        assert_eq!(mementos[2].rel, "last memento");
        assert_eq!(
            mementos[1].params,
            vec![(
                "datetime".to_string(),
                "Fri, 01 Jun 2007 20:35:00 GMT".to_string()
            )]
        );
        // One capture is both first and last.
        let one = parse_links(&timemap(&links(), "http://x.test/", &ms[..1])).unwrap();
        assert_eq!(one[3].rel, "first last memento");
    }

    #[test]
    fn link_format_parsing_takes_bare_values_and_refuses_garbage() {
        let l = parse_links("<a>; rel=original, <b> ; rel=\"x y\"; type=t").unwrap();
        assert_eq!(l[0], Link::new("a", "original"));
        assert_eq!(l[1], Link::new("b", "x y").with("type", "t"));
        assert!(parse_links("no brackets").is_none());
        assert!(parse_links("<a>; rel=\"unterminated").is_none());
        assert_eq!(parse_links("").unwrap(), vec![]);
    }

    #[test]
    fn the_original_url_is_read_from_the_path_as_clients_send_it() {
        let u = |s: &str| s.parse::<Uri>().unwrap();
        let p = "/timegate/";
        assert_eq!(
            original_from(&u("/timegate/http://news.test/a?x=1&y=2"), p).as_deref(),
            Some("http://news.test/a?x=1&y=2")
        );
        assert_eq!(
            original_from(&u("/timegate/http:/news.test/a"), p).as_deref(),
            Some("http://news.test/a")
        );
        assert_eq!(
            original_from(&u("/timegate/http%3A%2F%2Fnews.test%2Fa%3Fx%3D1"), p).as_deref(),
            Some("http://news.test/a?x=1")
        );
        assert_eq!(original_from(&u("/other/x"), p), None);
    }
}
