//! Every document format becomes the same thing: a list of blocks (a line or a
//! paragraph, its links, whether it is a heading). Splitting into items works on
//! blocks only, so the txt, Markdown and HTML readers share one set of rules.

use std::ops::Range;

use linkify::{LinkFinder, LinkKind};

/// A link inside a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The URL as written (an `href`, a Markdown target or a bare URL in text).
    pub href: String,
    /// The anchor text, for HTML and Markdown links; `None` for a bare URL.
    pub text: Option<String>,
}

/// One line (text, Markdown) or block element (HTML) of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The visible text, whitespace collapsed, links shown by their anchor text.
    pub text: String,
    /// A heading (`#` in Markdown, `<h1>`–`<h6>` in HTML).
    pub heading: bool,
    /// Links in reading order.
    pub links: Vec<Link>,
    /// Labelled like a Source line, but an item's headline ("Sources:
    /// Beijing plans new rules"). Only the lines around it tell, so the
    /// item splitter sets it; readers leave it false.
    pub headline: bool,
}

/// The link finder every reader of bare URLs uses, so that a URL found in a
/// line is found again, the same, in the same words.
pub fn finder() -> LinkFinder {
    let mut f = LinkFinder::new();
    f.kinds(&[LinkKind::Url]);
    f.url_must_have_scheme(true);
    f
}

/// Bare URLs in prose: whitespace ends a URL, trailing punctuation is not part of it.
pub fn bare_links(text: &str) -> Vec<Link> {
    url_spans(text)
        .into_iter()
        .map(|span| Link {
            href: text[span].to_string(),
            text: None,
        })
        .collect()
}

/// Where the bare URLs of `text` are, as byte ranges in order.
///
/// linkify finds them and ends them as a reader would (trailing punctuation,
/// brackets), but it takes a host's last label for a top-level domain only
/// when it starts with two ASCII letters: a URL under an internationalised
/// one, such as `http://新华网.中国/…`, was not found at all. Such a URL is
/// looked at again with its host in ASCII (punycode), and linkify's end for
/// that spelling is mapped back onto the text.
pub fn url_spans(text: &str) -> Vec<Range<usize>> {
    let finder = finder();
    let mut spans = Vec::new();
    // Each stretch between full-width punctuation on its own (see
    // [`is_cjk_punctuation`]); offsets kept in `text`.
    for stretch in stretches(text) {
        let from = stretch.start;
        spans.extend(spans_in(&finder, &text[stretch]).into_iter().map(|s| {
            from + s.start..from + s.start + prose_end(&text[from + s.start..from + s.end])
        }));
    }
    spans
}

/// Where a URL linkify found ends before the full-width brackets of the
/// prose around it: at an opening one it never closes (`URL（新华社）`,
/// written with no space, took `（新华社` with it), less the closing ones
/// after it (see [`wide_closers`]).
fn prose_end(url: &str) -> usize {
    let mut open: Vec<usize> = Vec::new();
    for (at, c) in url.char_indices() {
        match c {
            '（' | '【' | '《' => open.push(at),
            '）' | '】' | '》' => {
                open.pop();
            }
            _ => {}
        }
    }
    let end = open.first().copied().unwrap_or(url.len());
    end - wide_closers(&url[..end])
}

/// How many bytes at the end of `url` are full-width brackets closing the
/// prose around it (`（URL）`, `【URL】`, `《URL》`), not the URL: linkify
/// takes any non-ASCII character for part of a path. A `）` or `】` that
/// closes one the URL opened (`/wiki/李白（诗人）`) is the URL's.
fn wide_closers(url: &str) -> usize {
    let count = |c: char| url.chars().filter(|x| *x == c).count() as isize;
    let mut paren = count('（') - count('）');
    let mut bracket = count('【') - count('】');
    let mut cut = 0;
    for c in url.chars().rev() {
        let prose = match c {
            '》' | '〉' | '』' | '」' => true,
            '）' if paren < 0 => {
                paren += 1;
                true
            }
            '】' if bracket < 0 => {
                bracket += 1;
                true
            }
            _ => false,
        };
        if !prose {
            break;
        }
        cut += c.len_utf8();
    }
    cut
}

/// `text` cut at the full-width punctuation that ends a bare URL, as byte
/// ranges: all of it but a `，` inside a URL's query that more parameters
/// of that query follow (`?wd=李白，杜甫&ie=utf-8`): written unencoded, the
/// link was cut at it.
fn stretches(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    // Whether the word so far (since a space or a cut) is a URL, and is
    // past its `?`; the last two characters, to see its `://`.
    let (mut url, mut query) = (false, false);
    let mut last = ['\0'; 2];
    for (at, c) in text.char_indices() {
        let after = at + c.len_utf8();
        if is_cjk_punctuation(c) && !(c == '，' && query && continues_query(&text[after..])) {
            out.push(start..at);
            start = after;
            (url, query) = (false, false);
        } else if c.is_whitespace() {
            (url, query) = (false, false);
        } else if c == '/' && last == [':', '/'] {
            url = true;
        } else if c == '?' && url {
            query = true;
        }
        last = [last[1], c];
    }
    out.push(start..text.len());
    out
}

/// Whether `rest`, what follows a `，` in a URL's query, is more of that
/// query: up to the next space or full-width punctuation, nothing but a
/// URL's characters, holding a further parameter (`&ie=`, its name in
/// ASCII). Chinese prose after a URL runs on with no space, and may hold
/// an `&` or an `=` (`，AT&T公司表示…`, `，其中x=1…`), but not a parameter:
/// the comma ends the URL there, as it does before a value alone
/// (`?wd=李白，杜甫`, which reads as prose too). Only the stretch up to
/// the next cut is read, so a line is read once.
fn continues_query(rest: &str) -> bool {
    let end = rest
        .find(|c: char| c.is_whitespace() || is_cjk_punctuation(c))
        .unwrap_or(rest.len());
    let more = &rest[..end];
    more.chars().all(is_url_char) && has_parameter(more)
}

/// Whether `s` holds `&name=`, a name of ASCII letters, digits, `_`, `-`,
/// `.`, `[` or `]`.
fn has_parameter(s: &str) -> bool {
    s.split('&').skip(1).any(|p| {
        p.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.[]".contains(c))
        })
    })
}

/// A character a URL may hold as written: ASCII's URL characters, and
/// letters and digits of any script (an IRI's path or query).
pub fn is_url_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || "-._~:/?#[]@!$&'()*+,;=%".contains(c)
        || (!c.is_ascii() && c.is_alphanumeric())
}

/// [`url_spans`] of a stretch without full-width punctuation.
fn spans_in(finder: &LinkFinder, text: &str) -> Vec<Range<usize>> {
    let found: Vec<Range<usize>> = finder.links(text).map(|l| l.start()..l.end()).collect();
    // Only a URL written with a non-ASCII host can be missed; most text has none.
    if text.is_ascii() {
        return found;
    }
    let mut spans = found.clone();
    let mut next_found = found.iter().peekable();
    // The end of the last URL found here: a `://` before it is inside that
    // URL (`…/jump?to=http://…`), neither a URL of its own nor worth another
    // look, which made a line of many such URLs quadratic.
    let mut taken_until = 0;
    for (at, _) in text.match_indices("://") {
        if at < taken_until {
            continue;
        }
        let before = &text[..at];
        let Some(start) = ["https", "http"].iter().find_map(|scheme| {
            let start = before.len().checked_sub(scheme.len())?;
            (before.is_char_boundary(start) && before[start..].eq_ignore_ascii_case(scheme))
                .then_some(start)
        }) else {
            continue;
        };
        // A word ending in "http" is no scheme.
        if before[..start]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        {
            continue;
        }
        while next_found.next_if(|f| f.end <= start).is_some() {}
        if next_found.peek().is_some_and(|f| f.contains(&start)) {
            continue;
        }
        if let Some(span) = idn_url_at(finder, text, start, at + 3) {
            taken_until = span.end;
            spans.push(span);
        }
    }
    spans.sort_by_key(|s| s.start);
    // A URL linkify found inside one found here is part of it: spans never
    // overlap (their readers cut the text at them).
    let mut end = 0;
    spans.retain(|s| {
        let keep = s.start >= end;
        if keep {
            end = s.end;
        }
        keep
    });
    spans
}

/// Full-width sentence punctuation: Chinese prose runs on after a URL with no
/// space, and linkify, which takes any non-ASCII character for part of a
/// path, took the rest of the sentence with it (`http://a.example/1.htm。又见…`).
/// Brackets are not among them: a path such as `/wiki/李白（诗人）` holds a
/// pair. A full-width comma inside a URL's query ends it only where no
/// more of the query follows (see [`stretches`]).
fn is_cjk_punctuation(c: char) -> bool {
    matches!(c, '。' | '，' | '、' | '；' | '：' | '！' | '？')
}

/// The URL starting at `start` whose host, at `host_start`, linkify would
/// refuse for its non-ASCII top-level label (see [`url_spans`]).
fn idn_url_at(
    finder: &LinkFinder,
    text: &str,
    start: usize,
    host_start: usize,
) -> Option<Range<usize>> {
    let rest = &text[host_start..];
    let host_len = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '-' || c == '.'))
        .unwrap_or(rest.len());
    let host = rest[..host_len].trim_end_matches('.');
    if host.is_ascii() {
        // linkify has judged it already.
        return None;
    }
    let ascii = url::Url::parse(&format!("http://{host}/"))
        .ok()?
        .host_str()?
        .to_string();
    let host_end = host_start + host.len();
    // linkify ends a URL at whitespace: it needs no more than that.
    let tail = &text[host_end..];
    let tail = &tail[..tail.find(char::is_whitespace).unwrap_or(tail.len())];
    let prefix = &text[start..host_start];
    let probe = format!("{prefix}{ascii}{tail}");
    let link = finder.links(&probe).next().filter(|l| l.start() == 0)?;
    let past_host = link.end().checked_sub(prefix.len() + ascii.len())?;
    Some(start..host_end + past_host)
}

/// A document's lines, ended by LF, CRLF or a lone CR. Old Mac exports end
/// lines with CR alone: read by LF only, such a document was one line, and
/// its items one item, or none.
pub fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().flat_map(|l| l.split('\r'))
}

/// A plain-text document: one block per non-blank line.
pub fn from_text(text: &str) -> Vec<Block> {
    lines(text)
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| Block {
            text: line.to_string(),
            heading: false,
            links: bare_links(line),
            headline: false,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hrefs(text: &str) -> Vec<String> {
        bare_links(text).into_iter().map(|l| l.href).collect()
    }

    #[test]
    fn a_url_under_an_internationalised_top_level_domain_is_found() {
        assert_eq!(
            hrefs(
                "见 http://新华网.中国/a/1.htm。又见 https://例子.测试/one?q=1, 和 (http://例子.测试:8080/x)."
            ),
            [
                "http://新华网.中国/a/1.htm",
                "https://例子.测试/one?q=1",
                "http://例子.测试:8080/x"
            ]
        );
        // At the end of the text, a host alone; among URLs linkify finds.
        assert_eq!(
            hrefs("a http://a.example/1 b HTTP://新华网.中国 c https://bücher.example/3"),
            [
                "http://a.example/1",
                "HTTP://新华网.中国",
                "https://bücher.example/3"
            ]
        );
        // No host at all.
        assert_eq!(hrefs("http://。/b and http:// c"), Vec::<String>::new());
    }

    #[test]
    fn a_url_inside_a_url_under_an_idn_host_is_part_of_it() {
        assert_eq!(
            hrefs(
                "见http://新华网.中国/jump?to=http://新华网.中国/a/1.htm 和 http://例子.测试/r?u=http://a.example/x"
            ),
            [
                "http://新华网.中国/jump?to=http://新华网.中国/a/1.htm",
                "http://例子.测试/r?u=http://a.example/x"
            ]
        );
        // Many on one line with no space: one URL (quadratic, finding it
        // took seconds and gigabytes; no time bound here, see benches).
        let line = "http://例子.测试/a的".repeat(20_000);
        assert_eq!(bare_links(&line).len(), 1);
    }

    #[test]
    fn brackets_in_a_chinese_path_are_kept() {
        assert_eq!(
            hrefs("见 https://zh.wikipedia.org/wiki/李白（诗人） 一文"),
            ["https://zh.wikipedia.org/wiki/李白（诗人）"]
        );
    }

    #[test]
    fn chinese_prose_after_a_url_is_not_part_of_it() {
        assert_eq!(
            hrefs("详见http://a.example/news/1.htm。又见https://b.example/2，完"),
            ["http://a.example/news/1.htm", "https://b.example/2"]
        );
        // A path in Chinese stays whole.
        assert_eq!(
            hrefs("见 https://zh.wikipedia.org/wiki/新华社 一文"),
            ["https://zh.wikipedia.org/wiki/新华社"]
        );
    }

    /// An unencoded `，` in a query cut the link there; one right after a
    /// URL in Chinese prose still ends it, whatever `&` or `=` the prose holds.
    #[test]
    fn a_full_width_comma_inside_a_query_is_part_of_the_url() {
        assert_eq!(
            hrefs(
                "见 http://127.0.0.1/a?x=1，2&y=3 一文；又见http://127.0.0.1/s?wd=李白，杜甫&ie=utf-8，\
                 和 http://127.0.0.1/b?x=1，2&y=3，4&z=5。完"
            ),
            [
                "http://127.0.0.1/a?x=1，2&y=3",
                "http://127.0.0.1/s?wd=李白，杜甫&ie=utf-8",
                "http://127.0.0.1/b?x=1，2&y=3，4&z=5",
            ]
        );
        // Prose after the URL, no query before the comma, or no parameter
        // of a query after it up to the next space.
        for (text, url) in [
            ("见 http://127.0.0.1/a，并说明x=1&y=2", "http://127.0.0.1/a"),
            (
                "据报道 http://127.0.0.1/news?id=5，AT&T公司表示不予置评。",
                "http://127.0.0.1/news?id=5",
            ),
            (
                "见 http://127.0.0.1/news?id=5，其中x=1表示通过",
                "http://127.0.0.1/news?id=5",
            ),
            (
                "见 http://127.0.0.1/news?id=5，AT&T的x=1",
                "http://127.0.0.1/news?id=5",
            ),
            (
                "见 http://127.0.0.1/a?q=1，详见第2页",
                "http://127.0.0.1/a?q=1",
            ),
            (
                "见 http://127.0.0.1/s?wd=李白，杜甫",
                "http://127.0.0.1/s?wd=李白",
            ),
            (
                "见 http://127.0.0.1/a?q=1，2 and &y=3",
                "http://127.0.0.1/a?q=1",
            ),
        ] {
            assert_eq!(hrefs(text), [url], "{text}");
        }
        // A long line of such commas is read whole (and once: each comma
        // looks ahead only to the next; no time bound here, see benches).
        let line = format!("http://127.0.0.1/a?x=1{}", "，2&y=3".repeat(50_000));
        assert_eq!(hrefs(&line), [line.as_str()]);
    }

    #[test]
    fn text_lines_become_blocks_with_bare_links() {
        let b = from_text("Title\n\n  see http://a.com/x. and (http://b.com/y)\n");
        assert_eq!(b.len(), 2);
        let hrefs: Vec<_> = b[1].links.iter().map(|l| l.href.as_str()).collect();
        assert_eq!(hrefs, ["http://a.com/x", "http://b.com/y"]);
    }
}
