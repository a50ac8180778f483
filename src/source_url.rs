//! What a cited URL means as a source: the one normalised form under which it is
//! fetched, stored and looked up.
//!
//! Sync and every command that takes a URL go through [`normalize`], so a URL typed
//! on the command line finds the source a briefing cites however either was written.

use url::{Host, Url};

/// Why a cited URL cannot be fetched as written. The text is shown to editors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidUrl {
    /// Nothing was written where a URL was expected.
    #[error("no URL given")]
    Empty,
    /// A URL line or link holds whitespace inside it.
    #[error("contains whitespace")]
    Whitespace,
    /// No scheme at all: a bare address (`www.example.com/a`,
    /// `example.com:8080/a`).
    #[error("no scheme (http:// or https://) before the address")]
    NoScheme,
    /// `//host/path`: an address meant to take the scheme of the page it is
    /// in, which a citation does not have.
    #[error("no scheme (http: or https:) before the `//` (a scheme-relative URL)")]
    SchemeRelative,
    /// A scheme other than http or https (often a typo such as `htp`, or
    /// `javascript:`, `data:`, `mailto:`).
    #[error("scheme `{0}` is not http or https")]
    Scheme(String),
    /// `http:` or `https:` (as written) not followed by `//`: `http:/host`,
    /// `http:host`.
    #[error("`{0}:` is not followed by `//`")]
    NoSlashes(String),
    /// `http://` with nothing, or nothing usable, after it.
    #[error("no host name")]
    NoHost,
    /// The URL parser refused it.
    #[error("malformed URL: {0}")]
    Malformed(String),
}

/// A cited URL in its normalised form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceUrl(Url);

impl SourceUrl {
    /// The normalised URL as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The host (lower case, punycode), for per-host pacing and grouping.
    pub fn host(&self) -> &str {
        self.0.host_str().unwrap_or_default()
    }

    /// The parsed URL.
    pub fn url(&self) -> &Url {
        &self.0
    }
}

impl std::fmt::Display for SourceUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// URLs that are easily confused with `url`: the other scheme, the path with
/// or without a trailing slash, the host with or without `www.`, escapes
/// spelled otherwise (`%7E` or `~`, `%c3` or `%C3`). Used to suggest what the
/// archive does have when a lookup misses.
pub fn near_misses(url: &SourceUrl) -> Vec<String> {
    let base = url.url();
    let mut out: Vec<String> = Vec::new();
    let mut schemes = vec![base.clone()];
    let mut other = base.clone();
    if other
        .set_scheme(if base.scheme() == "http" {
            "https"
        } else {
            "http"
        })
        .is_ok()
    {
        schemes.push(other);
    }
    for u in schemes {
        let mut hosts = vec![u.clone()];
        if let Some(host) = u.host_str() {
            let flipped = match host.strip_prefix("www.") {
                Some(bare) => bare.to_string(),
                None => format!("www.{host}"),
            };
            let mut h = u.clone();
            if h.set_host(Some(&flipped)).is_ok() {
                hosts.push(h);
            }
        }
        for h in hosts {
            let path = h.path().to_string();
            let mut slash = h.clone();
            if path.ends_with('/') && path.len() > 1 {
                slash.set_path(path.trim_end_matches('/'));
            } else if !path.ends_with('/') {
                slash.set_path(&format!("{path}/"));
            }
            for cand in [h, slash] {
                let s = cand.to_string();
                for s in percent_spellings(&s).into_iter().chain([s]) {
                    if s != base.as_str() && !out.contains(&s) {
                        out.push(s);
                    }
                }
            }
        }
    }
    out
}

/// `url` with its percent escapes spelled as others write them: hex digits
/// in upper and in lower case, unreserved characters (`~`, letters, digits,
/// `-._`) unescaped, and `~` escaped. Normalisation keeps escapes as cited
/// (a server may tell them apart), so a URL copied from a browser or another
/// page can miss the source by its escapes alone.
fn percent_spellings(url: &str) -> Vec<String> {
    let bytes = url.as_bytes();
    let (mut upper, mut lower, mut plain) = (String::new(), String::new(), String::new());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit));
        match (bytes[i], hex) {
            (b'%', Some(h)) => {
                let h = std::str::from_utf8(h).unwrap_or_default();
                upper.push('%');
                upper.push_str(&h.to_ascii_uppercase());
                lower.push('%');
                lower.push_str(&h.to_ascii_lowercase());
                match u8::from_str_radix(h, 16) {
                    Ok(b) if b.is_ascii_alphanumeric() || b"-._~".contains(&b) => {
                        plain.push(char::from(b))
                    }
                    _ => {
                        plain.push('%');
                        plain.push_str(&h.to_ascii_uppercase());
                    }
                }
                i += 3;
            }
            _ => {
                // Whole characters: `url` is text, and `%` starts none but itself.
                let c = url[i..].chars().next().unwrap_or_default();
                for s in [&mut upper, &mut lower, &mut plain] {
                    s.push(c);
                }
                i += c.len_utf8();
            }
        }
    }
    let (upper_tilde, lower_tilde) = (upper.replace('~', "%7E"), lower.replace('~', "%7e"));
    let mut out = Vec::new();
    for s in [upper, lower, plain, upper_tilde, lower_tilde] {
        if s != url && !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// Two spellings of one address: http or https, with or without `www.`, with
/// or without a trailing slash, the host in any case and absolute or not
/// (`a.example.`). A redirect between them is the site's
/// housekeeping, not a move an editor should act on, and a page reached
/// under either is one page. A fragment never counts: the server never sees it.
pub fn same_address(a: &str, b: &str) -> bool {
    matches!((address_key(a), address_key(b)), (Some(a), Some(b)) if a == b)
}

/// The address a web URL names, one string for all its spellings (see
/// [`same_address`]), so that pages can be counted by address. `None` for a
/// string that is not an http or https URL.
pub fn address_key(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = host_key(url.host_str()?);
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let port = url
        .port_or_known_default()
        .filter(|p| !matches!(p, 80 | 443))
        .map_or(String::new(), |p| format!(":{p}"));
    let path = url.path().trim_end_matches('/');
    let query = url.query().map_or(String::new(), |q| format!("?{q}"));
    Some(format!("{host}{port}{path}{query}"))
}

/// A host as people give one (`--host`, the API's `host`): copied from a URL
/// or a briefing, so any case, a trailing dot, perhaps a port, an
/// internationalised name as people read it; as sources record it (punycode),
/// or no source would ever be found on `新华网.中国`.
pub fn host_as_given(host: &str) -> String {
    let h = host.trim();
    let name = match h.rsplit_once(':') {
        Some((name, port))
            // An empty port too (`example.com:`), as a URL's parser takes it.
            if (!name.contains(':') || name.ends_with(']'))
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            name
        }
        _ => h,
    };
    let name = host_key(name);
    let name = name.as_ref();
    // What a URL's parser makes of it, as it made the recorded host; a name
    // it refuses names no source, and is kept as given to be named back.
    Host::parse(name).map_or_else(|_| name.to_ascii_lowercase(), |h| h.to_string())
}

/// The one spelling of a host that tells hosts apart, for grouping sources
/// by host (scheduling turns, host incidents): letter case folded and a
/// trailing dot dropped, since `A.example.` is `a.example` written in
/// capitals as an absolute name, one host, as pacing and `[fetch.hosts]`
/// know it. The store's SQL matches a recorded host to it as
/// `rtrim(lower(host), '.')`. Borrowed when the host is spelled so already,
/// as nearly every recorded one is: the scheduler asks for every due source.
pub fn host_key(host: &str) -> std::borrow::Cow<'_, str> {
    let host = host.trim_end_matches('.');
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(host.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(host)
    }
}

/// Brackets and quotes prose opens before a URL: ASCII, and the full-width
/// ones of Chinese prose (`（URL）`, `【URL】`, `《URL》`), which were kept
/// as part of the URL (`）` became `%EF%BC%89`, a page that does not exist).
pub const OPENERS: [char; 14] = [
    '<', '(', '[', '"', '\'', '“', '‘', '«', '「', '（', '【', '《', '〈', '『',
];

/// Removes what prose wraps around a URL: surrounding quotes and brackets, and
/// trailing punctuation that ends the sentence rather than the URL. A closing
/// parenthesis stays when the URL opened one (Wikipedia-style links, and
/// `/wiki/李白（诗人）` in full width).
pub fn trim_prose(raw: &str) -> &str {
    let mut s = raw.trim();
    s = s.trim_start_matches(OPENERS);
    // Brackets are counted once and kept in step as the end is cut: counting
    // them again at every cut was quadratic (seconds for a URL padded with
    // tens of thousands of `)`).
    let count = |c: char| s.chars().filter(|x| *x == c).count() as isize;
    let mut paren = count('(') - count(')');
    let mut bracket = count('[') - count(']');
    let mut wide_paren = count('（') - count('）');
    let mut wide_bracket = count('【') - count('】');
    while let Some(last) = s.chars().last() {
        let strip = match last {
            '.' | ',' | ';' | ':' | '!' | '?' | '"' | '\'' | '”' | '’' | '»' | '>' | '」'
            | '。' | '，' | '》' | '〉' | '』' => true,
            // More closed than opened: this one closes the prose's bracket.
            ')' if paren < 0 => {
                paren += 1;
                true
            }
            ']' if bracket < 0 => {
                bracket += 1;
                true
            }
            '）' if wide_paren < 0 => {
                wide_paren += 1;
                true
            }
            '】' if wide_bracket < 0 => {
                wide_bracket += 1;
                true
            }
            _ => false,
        };
        if !strip {
            break;
        }
        s = &s[..s.len() - last.len_utf8()];
    }
    s
}

/// Normalises a cited URL: prose punctuation trimmed, scheme and host lower-cased,
/// IDN hosts in punycode, default port and fragment dropped, query kept.
pub fn normalize(raw: &str) -> Result<SourceUrl, InvalidUrl> {
    let s = trim_prose(raw);
    if s.is_empty() {
        return Err(InvalidUrl::Empty);
    }
    if s.chars().any(char::is_whitespace) {
        return Err(InvalidUrl::Whitespace);
    }
    if s.starts_with("//") {
        return Err(InvalidUrl::SchemeRelative);
    }
    let Some((scheme, rest)) = s.split_once(':') else {
        return Err(InvalidUrl::NoScheme);
    };
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return Err(InvalidUrl::NoScheme);
    }
    let lower = scheme.to_ascii_lowercase();
    if lower == "http" || lower == "https" {
        if !rest.starts_with("//") {
            return Err(InvalidUrl::NoSlashes(scheme.to_string()));
        }
    } else if is_host_and_port(scheme, rest) {
        return Err(InvalidUrl::NoScheme);
    } else {
        return Err(InvalidUrl::Scheme(scheme.to_string()));
    }
    // `https:///path` parses (extra slashes are skipped) but is a typo for a missing host.
    if rest.trim_start_matches('/').is_empty() || rest.starts_with("///") {
        return Err(InvalidUrl::NoHost);
    }
    let mut url = Url::parse(s).map_err(|e| match e {
        url::ParseError::EmptyHost => InvalidUrl::NoHost,
        other => InvalidUrl::Malformed(other.to_string()),
    })?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(InvalidUrl::NoHost);
    }
    url.set_fragment(None);
    Ok(SourceUrl(url))
}

/// Whether `name:rest` reads as an address with a port and no scheme
/// (`www.example.com:8080/a`, `localhost:8080`) rather than as a scheme: a
/// dotted name is a host, and so is a name followed by a port. Called a
/// scheme, it would send an editor looking for a typo that is not there.
fn is_host_and_port(name: &str, rest: &str) -> bool {
    let port_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    let after_port = rest[port_len..].chars().next();
    name.contains('.') || (port_len > 0 && matches!(after_port, None | Some('/' | '?' | '#')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        normalize(s).unwrap().as_str().to_string()
    }

    #[test]
    fn one_address_has_many_spellings_but_not_another_page() {
        let landing = "https://www.scmp.com/topics/latest";
        for same in [
            "https://www.scmp.com/topics/latest",
            "http://scmp.com/topics/latest/",
            "https://WWW.SCMP.COM/topics/latest#top",
            "http://www.scmp.com:80/topics/latest",
            // An absolute name: the one host.
            "https://www.scmp.com./topics/latest",
            "https://SCMP.com./topics/latest",
        ] {
            assert!(same_address(landing, same), "{same}");
            assert!(same_address(same, landing), "{same}");
        }
        for other in [
            "https://www.scmp.com/topics/latest?page=2",
            "https://www.scmp.com/topics/Latest",
            "https://www.scmp.com/topics",
            "https://www.scmp.com:8443/topics/latest",
            "https://m.scmp.com/topics/latest",
            "ftp://www.scmp.com/topics/latest",
            "not a url",
        ] {
            assert!(!same_address(landing, other), "{other}");
        }
        // A query is not a path: `/a?b` and `/a%3Fb` are two addresses.
        assert!(!same_address(
            "https://x.example/a?b",
            "https://x.example/a%3Fb"
        ));
        assert!(same_address(
            "https://x.example/?q=1",
            "http://x.example?q=1"
        ));
    }

    #[test]
    fn case_ports_fragments_and_idn_are_normalised() {
        assert_eq!(
            norm("HTTP://WWW.Example.COM/Path?q=A#frag"),
            "http://www.example.com/Path?q=A"
        );
        assert_eq!(norm("https://example.com:443/a"), "https://example.com/a");
        assert_eq!(norm("http://example.com:80"), "http://example.com/");
        assert_eq!(
            norm("http://example.com:8080/a"),
            "http://example.com:8080/a"
        );
        assert_eq!(
            norm("http://例子.测试/路径"),
            "http://xn--fsqu00a.xn--0zwm56d/%E8%B7%AF%E5%BE%84"
        );
        assert_eq!(
            norm("https://bücher.de/?a=1&b=2"),
            "https://xn--bcher-kva.de/?a=1&b=2"
        );
    }

    #[test]
    fn prose_punctuation_is_not_part_of_the_url() {
        assert_eq!(norm("http://a.com/x."), "http://a.com/x");
        assert_eq!(norm("http://a.com/x,"), "http://a.com/x");
        assert_eq!(norm("(http://a.com/x)"), "http://a.com/x");
        assert_eq!(norm("\"http://a.com/x\""), "http://a.com/x");
        assert_eq!(norm("“http://a.com/x”."), "http://a.com/x");
        assert_eq!(
            norm("http://en.wikipedia.org/wiki/Foo_(bar)"),
            "http://en.wikipedia.org/wiki/Foo_(bar)"
        );
        assert_eq!(
            norm("http://en.wikipedia.org/wiki/Foo_(bar))."),
            "http://en.wikipedia.org/wiki/Foo_(bar)"
        );
    }

    /// Full-width brackets around a URL (`（URL）`, `【URL】`, `《URL》`)
    /// were kept: `）` became `%EF%BC%89`, a page that does not exist.
    #[test]
    fn full_width_brackets_around_a_url_are_prose() {
        for raw in [
            "（http://a.com/x）",
            "http://a.com/x）。",
            "【http://a.com/x】",
            "《http://a.com/x》",
            "〈http://a.com/x〉",
            "『http://a.com/x』",
        ] {
            assert_eq!(norm(raw), "http://a.com/x", "{raw}");
        }
        // A pair inside the path is the path's own.
        assert_eq!(
            trim_prose("（http://a.com/wiki/李白（诗人））"),
            "http://a.com/wiki/李白（诗人）"
        );
    }

    /// The rule as first written, recounting at every cut: the oracle.
    fn trim_prose_by_recounting(raw: &str) -> &str {
        let mut s = raw.trim();
        s = s.trim_start_matches(['<', '(', '[', '"', '\'', '“', '‘', '«', '「']);
        while let Some(last) = s.chars().last() {
            let strip = match last {
                '.' | ',' | ';' | ':' | '!' | '?' | '"' | '\'' | '”' | '’' | '»' | '>' | '」'
                | '。' | '，' => true,
                ')' => s.matches('(').count() < s.matches(')').count(),
                ']' => s.matches('[').count() < s.matches(']').count(),
                _ => false,
            };
            if !strip {
                break;
            }
            s = &s[..s.len() - last.len_utf8()];
        }
        s
    }

    #[test]
    fn a_host_is_taken_as_copied_from_a_url() {
        for given in [
            "WWW.Example.COM",
            "www.example.com.",
            "www.example.com:8080",
            "www.example.com.:8080",
            "www.example.com:",
        ] {
            assert_eq!(host_as_given(given), "www.example.com", "{given}");
        }
        // An IPv6 literal keeps its colons, and loses its port.
        assert_eq!(host_as_given("[::1]"), "[::1]");
        assert_eq!(host_as_given("[::1]:8080"), "[::1]");
    }

    /// `check --host 新华网.中国` once found no source: sources record the
    /// host in punycode, as a cited URL's parser leaves it.
    #[test]
    fn an_internationalised_host_is_the_one_its_urls_record() {
        let url = normalize("http://Bücher.Example/a").unwrap();
        for given in [
            "bücher.example",
            "BÜCHER.example.",
            "xn--bcher-kva.example:80",
        ] {
            assert_eq!(host_as_given(given), url.host(), "{given}");
        }
        let cn = normalize("http://新华网.中国/").unwrap();
        assert_eq!(host_as_given("新华网.中国"), cn.host());
        assert!(cn.host().starts_with("xn--"), "{cn}");
    }

    #[test]
    fn a_url_padded_with_brackets_is_trimmed_in_linear_time() {
        // Recounting at every cut took seconds for this; it now is one pass.
        let url = format!("http://a.example/x_(y){}", ")].".repeat(200_000));
        assert_eq!(trim_prose(&url), "http://a.example/x_(y)");
    }

    proptest::proptest! {
        #[test]
        fn trimming_keeps_the_rule_as_first_written(s in "[(\\[]{0,3}[a-z:/.]{0,8}[()\\[\\].,;!'\"]{0,12}") {
            proptest::prop_assert_eq!(trim_prose(&s), trim_prose_by_recounting(&s));
        }
    }

    #[test]
    fn unfetchable_urls_say_why() {
        assert_eq!(
            normalize("htp://example.com"),
            Err(InvalidUrl::Scheme("htp".into()))
        );
        assert_eq!(
            normalize("ftp://example.com/f"),
            Err(InvalidUrl::Scheme("ftp".into()))
        );
        assert_eq!(normalize("http://"), Err(InvalidUrl::NoHost));
        assert_eq!(normalize("https:///path"), Err(InvalidUrl::NoHost));
        assert_eq!(
            normalize("http://exa mple.com/a"),
            Err(InvalidUrl::Whitespace)
        );
        assert_eq!(normalize("www.example.com/a"), Err(InvalidUrl::NoScheme));
        assert_eq!(normalize("   "), Err(InvalidUrl::Empty));
        assert!(matches!(
            normalize("http://exa_mple[.com/"),
            Err(InvalidUrl::Malformed(_))
        ));
        assert!(matches!(
            normalize("http://1.2.3.4.5.6/"),
            Err(InvalidUrl::Malformed(_))
        ));
    }

    #[test]
    fn each_missing_part_of_a_url_is_named_truly() {
        // These all once read "no scheme (http:// or https://) before the
        // address", though the first two have one and the last is relative.
        for (raw, want) in [
            (
                "javascript:alert(1)",
                InvalidUrl::Scheme("javascript".into()),
            ),
            ("data:text/html,hi", InvalidUrl::Scheme("data".into())),
            (
                "mailto:desk@example.com",
                InvalidUrl::Scheme("mailto".into()),
            ),
            ("http:/127.0.0.1/x", InvalidUrl::NoSlashes("http".into())),
            ("http:127.0.0.1", InvalidUrl::NoSlashes("http".into())),
            ("HTTPS:/a.example/x", InvalidUrl::NoSlashes("HTTPS".into())),
            ("//127.0.0.1/x", InvalidUrl::SchemeRelative),
            ("//127.0.0.1:8080/x", InvalidUrl::SchemeRelative),
            // A host with a port is an address without a scheme, not a scheme.
            ("www.example.com:8080/a", InvalidUrl::NoScheme),
            ("localhost:8080/a", InvalidUrl::NoScheme),
            ("localhost:8080", InvalidUrl::NoScheme),
            ("www.example.com/a", InvalidUrl::NoScheme),
        ] {
            assert_eq!(normalize(raw), Err(want), "{raw}");
        }
        assert_eq!(
            InvalidUrl::NoSlashes("http".into()).to_string(),
            "`http:` is not followed by `//`"
        );
        assert_eq!(
            InvalidUrl::Scheme("javascript".into()).to_string(),
            "scheme `javascript` is not http or https"
        );
        assert_eq!(
            InvalidUrl::SchemeRelative.to_string(),
            "no scheme (http: or https:) before the `//` (a scheme-relative URL)"
        );
    }

    #[test]
    fn near_misses_cover_scheme_slash_and_www() {
        let n = near_misses(&normalize("http://example.com/a").unwrap());
        for want in [
            "https://example.com/a",
            "http://example.com/a/",
            "http://www.example.com/a",
            "https://www.example.com/a/",
        ] {
            assert!(n.contains(&want.to_string()), "{want} not in {n:?}");
        }
        assert!(!n.contains(&"http://example.com/a".to_string()));
    }

    /// `status http://h/caf%c3%a9/~u` named no source though one was cited
    /// as `http://h/caf%C3%A9/%7Eu`: escapes are kept as cited.
    #[test]
    fn near_misses_cover_escapes_spelled_otherwise() {
        let cited = "http://h.example/caf%C3%A9/%7Euser?q=a%20b";
        for typed in [
            "http://h.example/caf%c3%a9/~user?q=a%20b",
            "http://h.example/caf%C3%A9/~user?q=a%20b",
            "http://h.example/café/%7euser?q=a%20b",
        ] {
            let n = near_misses(&normalize(typed).unwrap());
            assert!(n.contains(&cited.to_string()), "{typed}: {n:?}");
        }
        // And the other way round: cited unescaped, typed escaped.
        let n = near_misses(&normalize("http://h.example/%7Euser/%41").unwrap());
        assert!(n.contains(&"http://h.example/~user/A".to_string()), "{n:?}");
        // A reserved character's escape stays one: `%2F` is no `/`.
        let n = near_misses(&normalize("http://h.example/a%2Fb").unwrap());
        assert!(!n.iter().any(|u| u.contains("a/b")), "{n:?}");
    }

    #[test]
    fn a_host_spelled_otherwise_has_one_key() {
        for host in [
            "a.example",
            "A.Example",
            "a.example.",
            "A.EXAMPLE.",
            "a.example..",
        ] {
            assert_eq!(host_key(host), "a.example", "{host}");
        }
        assert!(matches!(
            host_key("a.example."),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_ne!(host_key("b.example"), host_key("a.example"));
        assert_eq!(host_key("xn--fiqs8s"), "xn--fiqs8s");
        assert_eq!(host_key("[::1]"), "[::1]");
        assert_eq!(host_key("127.0.0.1"), "127.0.0.1");
    }

    #[test]
    fn host_is_exposed_for_pacing() {
        assert_eq!(
            normalize("https://News.LTN.com.tw/x").unwrap().host(),
            "news.ltn.com.tw"
        );
    }
}
