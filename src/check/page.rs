//! A fetched body as a reader sees it: its title and main text, whatever the
//! encoding and however much page chrome surrounds the article. Drift and
//! soft-404 analysis work on this, never on raw bytes.
//!
//! Pure: a function of the body and its `Content-Type`, so every page that ever
//! fooled it can become a unit test.

use std::borrow::Cow;

use dom_query::Document;
use dom_smoothie::{Config, Readability, TextMode};
use encoding_rs::Encoding;

use crate::briefing::decode;

/// Only this much of a body is read. Articles are far smaller; a page that is
/// not would cost seconds of parsing for nothing its first bytes do not show.
pub const MAX_READ_BYTES: usize = 4 << 20;

/// Readability gives up on documents with more elements than this, and the
/// visible-text fallback is used instead: its cost grows with the element
/// count, and real articles have a few thousand.
pub const MAX_ELEMENTS: usize = 40_000;

/// Deeper documents are not given to Readability, whose cost grows with the
/// square of the depth; their visible text stands for the main text. Real
/// pages nest a few dozen levels.
pub const MAX_READABILITY_DEPTH: usize = 256;

/// Documents whose elements' depths add up to more than this are not given to
/// Readability either: it walks every element's ancestors. Measured in a
/// release build, 2 million element-levels take about 2 s; a heavy real news
/// page has under 200 000.
pub const READABILITY_BUDGET: usize = 2_000_000;

/// Deeper documents are not parsed into a tree at all: tags are stripped by a
/// linear scan. html5ever checks the stack of open elements on many tags, so
/// parsing slows with depth; WebKit's parser stops nesting at 512 too.
pub const MAX_DOM_DEPTH: usize = 512;

/// Readability output shorter than this (in non-space characters) is taken
/// for a failed extraction: error notices and short pages are better served by
/// the page's whole visible text. Readability's own "probably readable" bar.
/// A CJK character counts `CJK_CHAR_WEIGHT`: the bar is about twenty-five
/// English words, and a three-sentence Chinese brief of 80 characters says
/// as much, yet fell below it and was compared by its menus and related
/// headlines instead.
pub const MIN_MAIN_CHARS: usize = 140;

/// What one character of a script written without spaces counts towards
/// [`MIN_MAIN_CHARS`]: a Chinese word is one or two characters, an English
/// one five letters and a space.
const CJK_CHAR_WEIGHT: usize = 3;

/// Titles longer than this are cut: a title is a label, and hostile pages can
/// make it megabytes long.
const MAX_TITLE_CHARS: usize = 1000;

/// Elements whose text no reader takes for the page's content.
const INVISIBLE_OR_CHROME: &str = concat!(
    "head, script, style, noscript, template, svg, iframe, object, embed, ",
    "nav, footer, aside, select, button"
);

/// What a fetched body says, for drift and soft-404 analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The `<title>`, whitespace collapsed; `None` when absent, empty or not HTML.
    pub title: Option<String>,
    /// The article text (HTML), the text itself (plain text), a PDF's text
    /// (see [`super::pdf`]), or empty (images, anything else). Paragraphs are
    /// separated by blank lines.
    pub main_text: String,
    /// The WHATWG name of the encoding the body was read in, e.g. `UTF-8`,
    /// `GBK`, `Big5`; empty when the body was not read as text.
    pub encoding: &'static str,
    /// The body was read as HTML.
    pub is_html: bool,
    /// The body is a PDF whose text could not be had, and why: unlike a
    /// document without text, one that cannot be read says nothing of
    /// whether it is still the one cited.
    pub unreadable: Option<String>,
}

/// Reads a fetched body. `content_type` is the response's `Content-Type`
/// header, if any; without a usable one the body is sniffed.
///
/// The main text is Readability's: accurate, and at about a millisecond for a
/// 40 KB page the most expensive thing done with a page. [`glance_page`] is
/// the cheap reading; callers use this one only when the glance cannot decide.
pub fn read_page(body: &[u8], content_type: Option<&str>) -> Page {
    decoded(body, content_type, read_html)
}

/// Reads a fetched body without building a document tree: the title and the
/// visible text (scripts, styles, navigation, headers' chrome, footers,
/// asides and sections named as reader comments left out, entities decoded,
/// a line break at every block), from one linear pass over the markup.
/// About twenty times cheaper than [`read_page`]; what it calls `main_text`
/// includes page furniture that Readability would drop, such as lists of
/// related articles, and comments found only by their heading: the scan
/// cannot tell where a heading's container ends.
pub fn glance_page(body: &[u8], content_type: Option<&str>) -> Page {
    decoded(body, content_type, |html| {
        let scan = scan_markup(html, true);
        let title = scan
            .title
            .map(|t| collapse_whitespace(&html_escape::decode_html_entities(&t), MAX_TITLE_CHARS))
            .filter(|t| !t.is_empty());
        (title, trimmed(scan.text))
    })
}

/// Where a page sends its reader at once without an HTTP redirect: a
/// `<meta http-equiv="refresh">` of at most ten seconds, or a script setting
/// `location` to a string. Looked for in the first 16 KiB of the bytes, which
/// in every encoding a page declares its charset in spell markup in ASCII.
/// The target as written (relative or absolute).
pub fn refresh_target(body: &[u8]) -> Option<String> {
    let head = &body[..body.len().min(16 << 10)];
    let lower = head.to_ascii_lowercase();
    let find = |from: usize, what: &[u8]| {
        lower
            .get(from..)?
            .windows(what.len())
            .position(|w| w == what)
            .map(|p| p + from)
    };
    // <meta http-equiv="refresh" content="0; url=/">, attributes in any order.
    let meta = |at: usize| -> Option<String> {
        let start = lower[..at].iter().rposition(|&b| b == b'<')?;
        let end = find(at, b">")?;
        let tag = &lower[start..end];
        if !tag.starts_with(b"<meta") || !tag.windows(10).any(|w| w == b"http-equiv") {
            return None;
        }
        // Inside <noscript>: for readers without scripts only.
        let last = |what: &[u8]| lower[..start].windows(what.len()).rposition(|w| w == what);
        if last(b"<noscript")
            .is_some_and(|open| last(b"</noscript").is_none_or(|close| close < open))
        {
            return None;
        }
        let content = tag.windows(8).position(|w| w == b"content=")? + start + 8;
        let value = quoted_or_bare(&head[content..end]);
        let (delay, rest) = value.split_once([';', ','])?;
        let delay: f64 = delay.trim().parse().ok()?;
        let rest = rest.trim_start();
        let url = rest
            .get(..4)
            .filter(|k| k.eq_ignore_ascii_case("url="))
            .map_or(rest, |_| &rest[4..]);
        let url = url.trim().trim_matches(['\'', '"']).trim();
        (delay <= 10.0 && !url.is_empty()).then(|| url.to_string())
    };
    let mut from = 0;
    while let Some(at) = find(from, b"refresh") {
        from = at + 1;
        if let Some(url) = meta(at) {
            return Some(url);
        }
    }
    // location.href = "/", location.replace('/'), window.location = "/": a
    // statement of its own, setting a whole string; not a comparison, not
    // under a condition, not part of a concatenation.
    let mut from = 0;
    while let Some(at) = find(from, b"location") {
        from = at + 1;
        if let Some(url) = script_assignment(head, &lower, at) {
            return Some(url);
        }
    }
    None
}

/// What says a page is built by its scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptShell {
    /// The empty element a script framework mounts the page in (`<div
    /// id="root"></div>`, `<app-root></app-root>`): strong evidence.
    EmptyMount,
    /// A `<noscript>` asking for JavaScript: weak, since a short video page
    /// or a comment box says the same of one part of a real page.
    NoscriptAsks,
}

/// Whether a page says it is built by its scripts (see [`ScriptShell`]).
/// Looked for in the first 64 KiB; callers ask only of pages with next to
/// no visible text, so a short article with an analytics script is not
/// taken for one.
pub fn needs_scripts(body: &[u8]) -> Option<ScriptShell> {
    let head = body[..body.len().min(64 << 10)].to_ascii_lowercase();
    let squeezed: Vec<u8> = head
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace() && !matches!(b, b'"' | b'\''))
        .collect();
    let has = |hay: &[u8], what: &[u8]| hay.windows(what.len()).any(|w| w == what);
    const MOUNTS: &[&[u8]] = &[
        b"<divid=root></div>",
        b"<divid=app></div>",
        b"<divid=__next></div>",
        b"<divid=__nuxt></div>",
        b"<app-root></app-root>",
    ];
    if MOUNTS.iter().any(|m| has(&squeezed, m)) {
        return Some(ScriptShell::EmptyMount);
    }
    let mut rest = &head[..];
    while let Some(open) = rest.windows(9).position(|w| w == b"<noscript") {
        rest = &rest[open + 9..];
        // An unclosed one does not reach a `type="text/javascript"` below.
        let find = |what: &[u8]| rest.windows(what.len()).position(|w| w == what);
        let end = find(b"</noscript>")
            .or_else(|| find(b"<script"))
            .unwrap_or(rest.len())
            .min(400);
        if has(&rest[..end], b"javascript") {
            return Some(ScriptShell::NoscriptAsks);
        }
        rest = &rest[end..];
    }
    None
}

/// The string `location` at `at` is set to, when it is set unconditionally
/// to one string (see [`refresh_target`]).
fn script_assignment(head: &[u8], lower: &[u8], at: usize) -> Option<String> {
    let statement_start = lower[..at]
        .iter()
        .rposition(|b| matches!(b, b';' | b'{' | b'}' | b'\n' | b'>'))
        .map_or(0, |p| p + 1);
    let before = &lower[statement_start..at];
    let conditional = [&b"if"[..], b"?", b"&&", b"||", b"else"]
        .iter()
        .any(|w| before.windows(w.len()).any(|x| x == *w));
    if conditional {
        return None;
    }
    let mut i = at + b"location".len();
    let mut call = false;
    if lower[i..].starts_with(b".href") {
        i += b".href".len();
    } else if lower[i..].starts_with(b".replace(") || lower[i..].starts_with(b".assign(") {
        i = lower[i..].iter().position(|&b| b == b'(')? + i + 1;
        call = true;
    }
    let skip_spaces = |mut i: usize| {
        while lower.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
            i += 1;
        }
        i
    };
    i = skip_spaces(i);
    if !call {
        // Exactly one `=`: `==` and `===` compare, `!=` is not reached here.
        if lower.get(i) != Some(&b'=') || lower.get(i + 1) == Some(&b'=') {
            return None;
        }
        i = skip_spaces(i + 1);
    }
    let quote = *head.get(i)?;
    if !matches!(quote, b'"' | b'\'') {
        return None;
    }
    let len = head[i + 1..].iter().position(|&b| b == quote)?;
    let after = skip_spaces(i + 1 + len + 1);
    let ends = match lower.get(after) {
        None => true,
        // The other quote closes a string holding the statement:
        // `setTimeout("location.href='/'", 3000)`, as portals' way stations
        // write it.
        Some(&b) if matches!(b, b'"' | b'\'') && b != quote => true,
        Some(b) => {
            matches!(b, b';' | b')' | b'}' | b'<') || lower[i + 1 + len + 1..after].contains(&b'\n')
        }
    };
    let url = String::from_utf8_lossy(&head[i + 1..i + 1 + len])
        .trim()
        .to_string();
    (ends && !url.is_empty()).then_some(url)
}

/// An attribute value: quoted (up to its closing quote) or bare.
fn quoted_or_bare(value: &[u8]) -> String {
    let value = String::from_utf8_lossy(value);
    let value = value.trim();
    match value.chars().next() {
        Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or_default().to_string(),
        _ => value
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}

/// Decodes the body as text and hands HTML to `read_html`.
fn decoded(
    body: &[u8],
    content_type: Option<&str>,
    read_html: impl FnOnce(&str) -> (Option<String>, String),
) -> Page {
    let kind = kind_of(content_type, body);
    if matches!(kind, Kind::Other | Kind::Pdf) {
        // A PDF is read whole: its cross-reference table is at its end.
        let (main_text, unreadable) = match kind {
            Kind::Pdf => match super::pdf::text(body) {
                Ok(text) => (text, None),
                Err(e) => (String::new(), Some(e.to_string())),
            },
            _ => (String::new(), None),
        };
        return Page {
            title: None,
            main_text,
            encoding: "",
            is_html: false,
            unreadable,
        };
    }
    let body = capped(body);
    let is_html = kind == Kind::Html;
    let (text, encoding) = decode_body(body, content_type.and_then(header_charset), is_html);
    if !is_html {
        return Page {
            title: None,
            main_text: text.into_owned(),
            encoding,
            is_html,
            unreadable: None,
        };
    }
    let (title, main_text) = read_html(&text);
    Page {
        title,
        main_text,
        encoding,
        is_html,
        unreadable: None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Html,
    Text,
    Pdf,
    Other,
}

/// The first [`MAX_READ_BYTES`], without a UTF-8 sequence cut in half (which
/// would make a UTF-8 page look like some other encoding to the detector).
fn capped(body: &[u8]) -> &[u8] {
    let Some(head) = body.get(..MAX_READ_BYTES) else {
        return body;
    };
    match std::str::from_utf8(head) {
        Err(e) if e.error_len().is_none() => head.get(..e.valid_up_to()).unwrap_or(head),
        _ => head,
    }
}

fn essence(content_type: Option<&str>) -> String {
    content_type
        .and_then(|ct| ct.split(';').next())
        .map(|e| e.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Types whose bodies are sniffed: servers that do not know what they send,
/// and PDF, so that an error page served under the label of the document it
/// replaces is read as the page it is.
const SNIFFED: &[&str] = &[
    "",
    "application/octet-stream",
    "application/unknown",
    "unknown/unknown",
    "*/*",
    "application/pdf",
    "application/x-pdf",
];

/// Whether a body sent with this `Content-Type` may be read as a PDF: one
/// labelled PDF, or sniffed.
pub fn may_be_pdf(content_type: Option<&str>) -> bool {
    SNIFFED.contains(&essence(content_type).as_str())
}

fn kind_of(content_type: Option<&str>, body: &[u8]) -> Kind {
    let essence = essence(content_type);
    match essence.as_str() {
        "text/html" | "application/xhtml+xml" => Kind::Html,
        e if SNIFFED.contains(&e) => sniff(body),
        e if e.starts_with("text/") => Kind::Text,
        _ => Kind::Other,
    }
}

/// A shortened WHATWG MIME sniff: HTML by its first tag, binary by control
/// bytes, text otherwise.
fn sniff(body: &[u8]) -> Kind {
    let body = body
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(body);
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    let head = body.get(start..).unwrap_or_default();
    let head = head.get(..512).unwrap_or(head);
    if head.starts_with(b"%PDF-") {
        return Kind::Pdf;
    }
    const TAGS: &[&[u8]] = &[
        b"<!doctype html",
        b"<html",
        b"<head",
        b"<body",
        b"<title",
        b"<meta",
        b"<script",
        b"<div",
        b"<p",
        b"<h1",
        b"<table",
        b"<!--",
        b"<a",
        b"<br",
        b"<iframe",
        b"<style",
    ];
    let lower = head.to_ascii_lowercase();
    let tag_end = |after: Option<&u8>| matches!(after, Some(b' ' | b'>' | b'\t' | b'\n' | b'\r'));
    if TAGS
        .iter()
        .any(|t| lower.starts_with(t) && (t.starts_with(b"<!") || tag_end(lower.get(t.len()))))
    {
        return Kind::Html;
    }
    let binary = head
        .iter()
        .any(|&b| matches!(b, 0x00..=0x08 | 0x0B | 0x0E..=0x1A | 0x1C..=0x1F));
    if binary { Kind::Other } else { Kind::Text }
}

/// The `charset` parameter of a `Content-Type`, if it names a known encoding.
fn header_charset(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        let value = value.trim().trim_matches(['"', '\'']).trim();
        Encoding::for_label(value.as_bytes())
    })
}

/// Decodes as a browser would: a byte-order mark, then the header's charset,
/// then [`decode`] (valid UTF-8, `<meta charset>`, statistical detection).
///
/// Deliberate exceptions, for labels that lie (a browser would show
/// mojibake, but the citation was made from a readable page):
/// - a header or `<meta>` claiming UTF-8 for bytes that are not UTF-8 is
///   ignored: misconfigured servers and templates say that of GBK pages, and
///   the detector knows better (a UTF-8 page with a few stray bytes stays
///   UTF-8, as [`crate::briefing::decode_document`] keeps it);
/// - a header naming a legacy charset for a body that is valid UTF-8 with
///   real non-ASCII text in it is ignored: a site moved to UTF-8 while its
///   server still says GBK or ISO-8859-1 (a single such character when the
///   label cannot decode the bytes);
/// - a body that is UTF-8 but for a few stray bytes is UTF-8 whatever its
///   `<meta>` says, as valid UTF-8 is (and as a briefing document is read).
///
/// A change here changes readings: see [`DECODER_VERSION`].
fn decode_body<'a>(
    body: &'a [u8],
    header: Option<&'static Encoding>,
    html: bool,
) -> (Cow<'a, str>, &'static str) {
    if let Some(enc) = header {
        // `Encoding::decode` lets a byte-order mark override the label. A
        // UTF-8 body it found valid is borrowed, not copied: most pages.
        let (text, used, had_errors) = enc.decode(body);
        // Bytes the label cannot decode and UTF-8 can are UTF-8, however
        // few: a GBK server's error template saved in UTF-8.
        let evidence = if had_errors { 0 } else { UTF8_EVIDENCE };
        if used != encoding_rs::UTF_8
            && Encoding::for_bom(body).is_none()
            && let Ok(utf8) = std::str::from_utf8(body)
            && utf8
                .chars()
                .filter(|c| !c.is_ascii())
                .nth(evidence)
                .is_some()
        {
            return (Cow::Borrowed(utf8), encoding_rs::UTF_8.name());
        }
        if !(had_errors && used == encoding_rs::UTF_8) {
            return (text, used.name());
        }
    }
    if html && crate::briefing::meta_claims_utf8_falsely(body) {
        let d = crate::briefing::decode_document(body, false);
        return (Cow::Owned(d.text), d.encoding);
    }
    // A UTF-8 page with an include or an ad in a legacy encoding: the
    // detector, given the whole, took it all for windows-1252.
    if let Some(d) = crate::briefing::utf8_with_strays(body) {
        return (Cow::Owned(d.text), d.encoding);
    }
    let d = decode(body, html);
    (Cow::Owned(d.text), d.encoding)
}

/// Non-ASCII characters a body labelled with a legacy charset must hold, all
/// valid UTF-8, to be read as UTF-8 instead: GBK or Latin-1 text is valid
/// UTF-8 by chance for a character or two, never for a page of them.
const UTF8_EVIDENCE: usize = 20;

/// The version of how bodies become text (`decode_body`). Readings made by
/// another have their lines and fingerprints computed again from the blob
/// when compared (see `analyze::Subject::new`), so that a page whose lying
/// label is now seen through does not compare as rewritten against a copy
/// read as mojibake.
///
/// 2: a UTF-8 body with a few stray bytes is read as UTF-8, not guessed;
/// valid UTF-8 that its legacy label cannot decode is UTF-8.
pub const DECODER_VERSION: u8 = 2;

/// Title and main text of an HTML document.
///
/// Parsing and Readability both slow down with nesting depth faster than
/// linearly (html5ever checks the stack of open elements, Readability walks
/// ancestors), and a hostile page can nest a hundred thousand elements in a
/// few hundred kilobytes. A linear scan measures the document first: past
/// [`MAX_READABILITY_DEPTH`], [`READABILITY_BUDGET`] or [`MAX_ELEMENTS`]
/// Readability is skipped, past [`MAX_DOM_DEPTH`] no DOM is built at all and
/// the tags are simply stripped.
fn read_html(html: &str) -> (Option<String>, String) {
    let scan = scan_markup(html, false);
    if scan.max_depth > MAX_DOM_DEPTH {
        let title = scan
            .title
            .map(|t| collapse_whitespace(&t, MAX_TITLE_CHARS))
            .filter(|t| !t.is_empty());
        return (title, scan_markup(html, true).text);
    }
    let doc = Document::from(html);
    let title = doc
        .try_select("title")
        .map(|s| collapse_whitespace(&s.first().text(), MAX_TITLE_CHARS))
        .filter(|t| !t.is_empty());
    if scan.max_depth > MAX_READABILITY_DEPTH
        || scan.depth_sum > READABILITY_BUDGET
        || scan.elements > MAX_ELEMENTS
    {
        return (title, visible_text(&doc));
    }

    drop_comments(&doc);
    drop_related_links(&doc);
    let cfg = Config {
        max_elements_to_parse: MAX_ELEMENTS,
        text_mode: TextMode::Formatted,
        // Metadata is not used, and JSON-LD parsing is work on untrusted input.
        disable_json_ld: true,
        ..Config::default()
    };
    let extracted = Readability::with_document(doc, None, Some(cfg))
        .ok()
        .and_then(|mut r| r.parse().ok())
        .map(|article| article.text_content.trim().to_string())
        .unwrap_or_default();
    if text_weight(&extracted) >= MIN_MAIN_CHARS {
        return (title, extracted);
    }
    // Readability changed the document it was given; read a fresh one.
    let fallback = visible_text(&Document::from(html));
    let main = if visible_chars(&fallback) > visible_chars(&extracted) {
        fallback
    } else {
        extracted
    };
    (title, main)
}

/// Marks in a `class` or `id` (a word of it, in lower case, starting so)
/// of the lists of other stories that sites put inside the story's own
/// container: "related", "recommend", and the pinyin initials Chinese
/// portals use (相关新闻 `xgxw`, 相关阅读 `xgyd`, 推荐 `tuijian`).
const RELATED_MARKS: &[&str] = &["related", "relate", "recommend", "xgxw", "xgyd", "tuijian"];

/// Removes the lists of links to other stories that sit inside a story's
/// container, which Readability keeps as its text: rotated nightly, their
/// headlines outweighed a short story's paragraphs and made it `changed`.
/// Only an element so marked whose text is mostly its links' text: a
/// story's own text in a box named "related" stays.
fn drop_related_links(doc: &Document) {
    let marked = |value: Option<&str>| {
        value.is_some_and(|v| {
            v.split(|c: char| !c.is_ascii_alphanumeric())
                .map(str::to_ascii_lowercase)
                .any(|word| RELATED_MARKS.iter().any(|m| word.starts_with(m)))
        })
    };
    let Some(candidates) = doc.try_select("[class], [id]") else {
        return;
    };
    for el in candidates.iter() {
        if !(marked(el.attr("class").as_deref()) || marked(el.attr("id").as_deref())) {
            continue;
        }
        let all = visible_chars(&el.text());
        let links = el.try_select("a").map_or(0, |a| visible_chars(&a.text()));
        if all > 0 && 2 * links >= all {
            el.remove();
        }
    }
}

/// Words that, first or last in a `class` token or an `id` (split into words
/// at anything not a letter or digit, and at camelCase), name reader
/// comments or the form to write one: WordPress's `#comments`,
/// `.comment-list`, `#respond`, `.comment-respond`, `.comments-area`,
/// Disqus's `#disqus_thread`, Chinese portals' `pinglun`. First or last
/// only: `no-comment-img` is a story's picture, `commentary` a story. A
/// mark of two words (`a-b`) is the first two or the last two. See
/// [`is_comment_name`], the rule both the tree and the glance use.
///
/// Then the names comment widgets go by, where no word of them says
/// comment: Sohu's Changyan (`#SOHUCS`), Livefyre, Commento, utterances,
/// giscus, Remark42, Hyvor Talk (`#hyvor-talk-view`), NetEase's cloud 跟帖
/// (`.cloud-tie-wrapper`: `tie` alone would take a story's `tie-in`), and
/// Sina's box (`#J_Comment_Wrap`, its comment word in the middle). Only
/// vendors' names, which no story's container is called.
const COMMENT_MARKS: &[&str] = &[
    "comment",
    "comments",
    "commentlist",
    "commentform",
    "disqus",
    "respond",
    "pinglun",
    "sohucs",
    "changyan",
    "livefyre",
    "commento",
    "utterances",
    "giscus",
    "remark42",
    "hyvor-talk",
    "cloud-tie",
    "comment-wrap",
];

/// Words that, anywhere in such a name, say it is a state of the page or a
/// thing without comments, not a comment section: WordPress puts
/// `comments-open` on a story's own container, and themes `giscus-enabled`.
const NOT_COMMENTS: &[&str] = &[
    "no", "open", "closed", "off", "disabled", "enabled", "has", "none",
];

/// Headings (letters only, in lower case: counts, spaces and punctuation
/// dropped, so "3 Comments" and "评论(35)" match) that open a block of
/// reader comments or a form to write one. Those that may also be a
/// story's own label (see [`MAYBE_STORY_TITLES`]) open one only with a
/// count or with what takes comments after them.
const COMMENT_TITLES: &[&str] = &[
    "comment",
    "comments",
    "readercomments",
    "leaveareply",
    "leaveacomment",
    "postacomment",
    "addacomment",
    "jointhediscussion",
    "评论",
    "条评论",
    "网友评论",
    "发表评论",
    "我要评论",
    "读者评论",
    "用户评论",
    "热门评论",
    "最新评论",
    "全部评论",
    "评论区",
    "跟帖",
    "网友跟帖",
    "热门跟帖",
    "最新跟帖",
    "我要跟帖",
];

/// Elements never taken for a comment section, whatever their names say.
const NEVER_COMMENTS: &[&str] = &["html", "body", "main"];

/// Removes reader comments and comment forms, wherever they sit: inside the
/// story's container Readability kept them as its text, and the visible
/// text holds them too, so a page drifted from its baseline as readers
/// wrote and was judged `changed`. A comment section is an element named so
/// (see [`is_comment_name`]), or a heading that reads as one (see
/// [`COMMENT_TITLES`]) with what follows it in its container. Nothing that
/// holds an `<h1>` goes: that is the story, whatever its class says. Nor
/// does a story's own "Comment" section, or an op-ed under its "评论"
/// label (see [`MAYBE_STORY_TITLES`]). The
/// glance leaves out the named sections by the same rule (see [`Cuts`]).
///
/// One walk over the tree, not entering what is removed: a comment section's
/// subtree is never visited, and no element's text is read but a heading's,
/// and that only up to a few words; after a heading that may be the story's
/// own, a bounded number of nodes is looked at by name.
fn drop_comments(doc: &Document) {
    // The `<h1>`s and their ancestors.
    let mut headline = std::collections::HashSet::new();
    if let Some(h1) = doc.try_select("h1") {
        for h in h1.nodes() {
            let mut node = Some(*h);
            while let Some(n) = node.filter(|n| headline.insert(n.id)) {
                node = n.parent();
            }
        }
    }
    let root = doc.root();
    let (mut sections, mut titles) = (Vec::new(), Vec::new());
    let mut node = root.first_child();
    while let Some(n) = node {
        let mut enter = n.is_element();
        if enter && !headline.contains(&n.id) {
            if is_comment_section(&n) {
                sections.push(n);
                enter = false;
            } else if let Some(title) = comment_title(&n) {
                titles.push((n, title));
                enter = false;
            }
        }
        node = enter.then(|| n.first_child()).flatten().or_else(|| {
            // The next node after `n`'s subtree: each node is left once.
            let mut at = n;
            loop {
                if let Some(next) = at.next_sibling() {
                    return Some(next);
                }
                at = at.parent().filter(|p| p.id != root.id)?;
            }
        });
    }
    // A heading that may be the story's own opens comments only when it
    // counts them or what follows takes them; asked before the named
    // sections go.
    let starts: Vec<_> = titles
        .into_iter()
        .map(|(title, heading)| (title_start(title, &headline), heading))
        .filter(|(start, heading)| {
            !MAYBE_STORY_TITLES.contains(&heading.words)
                || heading.counted
                || takes_comments(start, &headline)
        })
        .map(|(start, _)| start)
        .collect();
    for section in sections {
        section.remove_from_parent();
    }
    for start in starts {
        let mut cut = Some(start);
        while let Some(n) = cut.filter(|n| !headline.contains(&n.id)) {
            cut = n.next_sibling();
            n.remove_from_parent();
        }
    }
}

/// Where the cut of a comment heading starts: the heading, or the wrapper
/// holding nothing but it (and so on up), short of the story's headline
/// and of the elements never cut.
fn title_start<'a>(
    title: dom_query::NodeRef<'a>,
    headline: &std::collections::HashSet<dom_query::NodeId>,
) -> dom_query::NodeRef<'a> {
    let mut start = title;
    while let Some(parent) = start.parent().filter(|p| {
        p.is_element()
            && !headline.contains(&p.id)
            && !p
                .node_name()
                .is_some_and(|name| NEVER_COMMENTS.contains(&name.as_ref()))
            && holds_only(p, &start)
    }) {
        start = parent;
    }
    start
}

/// Comment headings that are also a story's own sections or labels: a
/// legal bulletin's or an analysis piece's "Comment" after its facts, and
/// "评论" ("commentary"), the label Chinese outlets put over an opinion
/// column's op-ed, above its text. Cut unconditionally, either took the
/// story's text out of its main text, so a rewrite of it went unseen.
/// Such a heading opens reader comments only when it counts them ("1
/// Comment", "评论(35)": no story labels itself with a number) or when what
/// follows it takes them (see [`takes_comments`]). The longer Chinese
/// headings (网友评论 "netizens' comments", 发表评论 "post a comment",
/// 评论区 "comment area", …) name reader comments only and cut as they are.
const MAYBE_STORY_TITLES: &[&str] = &["comment", "评论"];

/// Most nodes looked at after a heading for what takes comments: one
/// follows the heading at once; a bound keeps a page of ten thousand such
/// headings linear.
const TAKES_COMMENTS_READ: usize = 200;

/// Whether what follows `start` in its container, up to the headline and
/// within [`TAKES_COMMENTS_READ`] nodes, takes reader comments: a form, a
/// text box, an embedded frame (the widget), or a section named as
/// comments.
fn takes_comments(
    start: &dom_query::NodeRef,
    headline: &std::collections::HashSet<dom_query::NodeId>,
) -> bool {
    let mut read = 0;
    let mut sibling = start.next_sibling();
    while let Some(s) = sibling.filter(|s| !headline.contains(&s.id)) {
        for n in std::iter::once(s).chain(s.descendants_it()) {
            read += 1;
            if read > TAKES_COMMENTS_READ {
                return false;
            }
            let takes = n.node_name().is_some_and(|name| {
                matches!(name.as_ref(), "form" | "textarea" | "iframe")
                    || is_comment_name(&name, n.attr("class").as_deref(), n.id_attr().as_deref())
            });
            if takes {
                return true;
            }
        }
        sibling = s.next_sibling();
    }
    false
}

/// `parent` has no child but `only` that shows anything: other elements or
/// text that is not blank. Stops at the first one.
fn holds_only(parent: &dom_query::NodeRef, only: &dom_query::NodeRef) -> bool {
    parent.children_it(false).all(|c| {
        c.id == only.id || !(c.is_element() || (c.is_text() && !c.text().trim().is_empty()))
    })
}

/// Whether `el` is named as a comment section (see [`is_comment_name`]).
fn is_comment_section(el: &dom_query::NodeRef) -> bool {
    el.node_name().is_some_and(|name| {
        is_comment_name(&name, el.attr("class").as_deref(), el.id_attr().as_deref())
    })
}

/// Whether an element `tag` (lower case) with this `class` and `id` is
/// named as a comment section: a class token or the id whose first or last
/// word (or two words, for a mark of two) is one of the [`COMMENT_MARKS`]
/// and none of whose words is one of the [`NOT_COMMENTS`]; never one of the
/// [`NEVER_COMMENTS`]. The one rule of the tree's walk ([`drop_comments`])
/// and of the glance's scan ([`scan_markup`]).
fn is_comment_name(tag: &str, class: Option<&str>, id: Option<&str>) -> bool {
    !NEVER_COMMENTS.contains(&tag)
        && (class.is_some_and(|c| c.split_whitespace().any(names_comments))
            || id.is_some_and(|id| names_comments(id.trim())))
}

/// Whether one class token or id names comments (see [`is_comment_name`]).
/// Allocates nothing: the glance asks it of every named element.
fn names_comments(token: &str) -> bool {
    let mut words = name_words(token);
    let Some(first) = words.next() else {
        return false;
    };
    let is = |list: &[&str], w: &str| list.iter().any(|m| m.eq_ignore_ascii_case(w));
    let mut denied = is(NOT_COMMENTS, first);
    let (mut second, mut before_last, mut last) = (None, None, first);
    for w in words {
        second.get_or_insert(w);
        before_last = Some(last);
        last = w;
        denied |= is(NOT_COMMENTS, w);
    }
    if denied {
        return false;
    }
    // A mark of two words (`cloud-tie`) is the first two or the last two.
    let pair = |a: Option<&str>, b: Option<&str>, mark: &str| {
        let (Some(a), Some(b), Some((x, y))) = (a, b, mark.split_once('-')) else {
            return false;
        };
        a.eq_ignore_ascii_case(x) && b.eq_ignore_ascii_case(y)
    };
    COMMENT_MARKS.iter().any(|m| {
        if m.contains('-') {
            pair(Some(first), second, m) || pair(before_last, Some(last), m)
        } else {
            m.eq_ignore_ascii_case(first) || m.eq_ignore_ascii_case(last)
        }
    })
}

/// The words of a class or id, as slices of it: split at anything not an
/// ASCII letter or digit and where a lower-case letter meets a capital
/// (`commentList`). Compared without regard to case.
fn name_words(token: &str) -> impl Iterator<Item = &str> {
    let bytes = token.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while bytes.get(at).is_some_and(|b| !b.is_ascii_alphanumeric()) {
            at += 1;
        }
        if at >= bytes.len() {
            return None;
        }
        let start = at;
        at += 1;
        while bytes.get(at).is_some_and(|b| {
            b.is_ascii_alphanumeric()
                && !(bytes[at - 1].is_ascii_lowercase() && b.is_ascii_uppercase())
        }) {
            at += 1;
        }
        // Boundaries are ASCII, so the slice is on characters.
        token.get(start..at)
    })
}

/// Most characters of a heading's text read to tell whether it is a
/// [`COMMENT_TITLES`] one; a longer heading is not.
const MAX_TITLE_READ: usize = 40;

/// A heading read as one of the [`COMMENT_TITLES`].
#[derive(Debug, Clone, Copy)]
struct CommentHeading {
    /// The title it reads as.
    words: &'static str,
    /// Whether it holds a digit: a count of comments ("3 Comments",
    /// "评论(35)"), which a story's own label never carries.
    counted: bool,
}

/// Which of the [`COMMENT_TITLES`] `el` reads as, if it is a heading
/// (`<h2>` to `<h6>`). Reads at most [`MAX_TITLE_READ`] characters of it,
/// so that headings nested in headings cost no more than one each.
fn comment_title(el: &dom_query::NodeRef) -> Option<CommentHeading> {
    if !el
        .node_name()
        .is_some_and(|name| matches!(name.as_ref(), "h2" | "h3" | "h4" | "h5" | "h6"))
    {
        return None;
    }
    let mut letters = String::new();
    let mut counted = false;
    let mut read = 0;
    for n in el.descendants_it() {
        // An element counts one; a text its characters, read in place and
        // only as far as the bound.
        read += 1;
        let within = n
            .query(|node| match &node.data {
                dom_query::NodeData::Text { contents } => {
                    for c in contents.chars() {
                        read += 1;
                        if read > MAX_TITLE_READ {
                            return false;
                        }
                        counted |= c.is_numeric();
                        letters.extend(c.to_lowercase().filter(|c| c.is_alphabetic()));
                    }
                    true
                }
                _ => true,
            })
            .unwrap_or(true);
        if !within || read > MAX_TITLE_READ {
            return None;
        }
    }
    COMMENT_TITLES
        .iter()
        .find(|t| **t == letters)
        .map(|&words| CommentHeading { words, counted })
}

/// The text of `<body>` a reader sees, minus scripts, styles, navigation,
/// footers and reader comments, with paragraph breaks kept.
fn visible_text(doc: &Document) -> String {
    if let Some(chrome) = doc.try_select(INVISIBLE_OR_CHROME) {
        chrome.remove();
    }
    drop_comments(doc);
    doc.try_select("body")
        .map(|b| b.first().formatted_text().trim().to_string())
        .unwrap_or_default()
}

/// What a linear pass over the markup finds, without building a tree.
#[derive(Debug, Default)]
struct Scan {
    /// Estimated deepest nesting of elements.
    max_depth: usize,
    /// Start tags seen.
    elements: usize,
    /// The depths of all start tags added up: the work of walking every
    /// element's ancestors.
    depth_sum: usize,
    /// The raw text of the first `<title>`.
    title: Option<String>,
    /// With `want_text`: the visible text (outside tags, scripts, styles,
    /// [`CHROME`] elements and comment sections, see [`Cuts`]), entities
    /// decoded, a line break at every block-level tag.
    text: String,
}

/// Elements whose content is text up to their end tag, not markup.
const RAW_TEXT: &[&str] = &[
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
];

/// Elements outside [`RAW_TEXT`] whose text no reader takes for the page's
/// content (as [`INVISIBLE_OR_CHROME`] for the tree).
const CHROME: &[&str] = &[
    "template", "svg", "object", "nav", "footer", "aside", "select", "button",
];

/// Elements that never have children.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "keygen",
];

/// Elements the parser closes by itself when a sibling starts, so an open tag
/// without an end tag does not nest.
const AUTO_CLOSED: &[&str] = &[
    "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option", "optgroup",
    "colgroup", "rb", "rt", "rp", "html", "head", "body",
];

/// Tags that start a new line in stripped text.
const BREAKING: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "section",
    "article",
    "blockquote",
    "pre",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "hr",
];

/// End tags that the parser would not let close anything beneath them.
const SCOPE_BOUNDARIES: &[&str] = &[
    "applet", "caption", "html", "table", "td", "th", "marquee", "object", "template",
];

/// Formatting elements: the parser closes one of them alone, keeping what was
/// opened inside it (the "adoption agency").
const FORMATTING: &[&str] = &[
    "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
];

/// How far down the open elements an end tag is looked for: past this it is
/// taken to close nothing, which can only overstate the depth.
const END_TAG_REACH: usize = 64;

/// An end tag for `name`: closes the nearest open element of that name (and
/// what is open inside it, unless it is a formatting element), as the parser
/// would. An end tag that matches nothing open closes nothing: counting every
/// end tag let `<div></i>` repeated nest forty thousand levels unseen, and a
/// tree that deep overflows Readability's stack.
fn close(open: &mut Vec<Cow<str>>, name: &str) {
    let below = open.len().saturating_sub(END_TAG_REACH);
    for i in (below..open.len()).rev() {
        if open[i] == name {
            if FORMATTING.contains(&name) {
                open.remove(i);
            } else {
                open.truncate(i);
            }
            return;
        }
        if SCOPE_BOUNDARIES.contains(&open[i].as_ref()) {
            return;
        }
    }
}

/// One pass over the markup: nesting depth, element count, the first title
/// and, when asked, the stripped text, without the sections named as reader
/// comments ([`Cuts`]). Linear in the input whatever it holds.
///
/// It reads the markup as it is: only tag names are compared without regard
/// to case (lower-casing a copy of the whole page first cost a tenth of a
/// glance).
fn scan_markup(html: &str, want_text: bool) -> Scan {
    let bytes = html.as_bytes();
    let mut scan = Scan::default();
    if want_text {
        // The text is a part of the page and lives only as long as one glance:
        // sizing it to the page at once saves the doublings (and their copies)
        // that were a twentieth of a CPU thread's time on a re-check night.
        scan.text.reserve(html.len());
    }
    // The elements open, as the parser would keep them: depth is its length.
    let mut open: Vec<Cow<str>> = Vec::new();
    let mut pos = 0usize;
    // The chrome element being skipped, and how many of that name are open.
    let mut chrome: Option<(&'static str, usize)> = None;
    let mut cuts = Cuts::default();
    let push_text = |scan: &mut Scan, chrome: Option<(&str, usize)>, from: usize, to: usize| {
        if want_text
            && chrome.is_none()
            && let Some(t) = html.get(from..to)
        {
            scan.text.push_str(t);
        }
    };
    while let Some(rel) = html.get(pos..).and_then(|r| r.find('<')) {
        let lt = pos + rel;
        push_text(&mut scan, chrome, pos, lt);
        let rest = html.get(lt..).unwrap_or_default();
        if rest.starts_with("<!--") {
            pos = rest.find("-->").map_or(html.len(), |e| lt + e + 3);
            continue;
        }
        let closing = rest.starts_with("</");
        let name_start = lt + if closing { 2 } else { 1 };
        let name_len = bytes
            .get(name_start..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let starts_with_letter = bytes.get(name_start).is_some_and(u8::is_ascii_alphabetic);
        if !(starts_with_letter || rest.starts_with("<!") || rest.starts_with("<?")) {
            // A lone '<' is text.
            push_text(&mut scan, chrome, lt, lt + 1);
            pos = lt + 1;
            continue;
        }
        let Some(gt) = rest.find('>').map(|e| lt + e) else {
            break;
        };
        pos = gt + 1;
        let written = html
            .get(name_start..name_start + name_len)
            .unwrap_or_default();
        if written.is_empty() {
            continue; // <!doctype>, <?xml?>
        }
        let name: Cow<str> = if written.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(written.to_ascii_lowercase())
        } else {
            Cow::Borrowed(written)
        };
        let tag = name.clone();
        let name = name.as_ref();
        if want_text && BREAKING.contains(&name) {
            scan.text.push('\n');
        }
        let self_closing = bytes.get(gt.wrapping_sub(1)) == Some(&b'/');
        if want_text && !self_closing {
            match &mut chrome {
                Some((open, n)) if *open == name => {
                    if closing {
                        *n -= 1;
                        if *n == 0 {
                            chrome = None;
                        }
                    } else {
                        *n += 1;
                    }
                }
                None if !closing => {
                    if let Some(open) = CHROME.iter().find(|c| **c == name) {
                        chrome = Some((open, 1));
                    }
                }
                _ => {}
            }
        }
        if closing {
            if !VOID.contains(&name) && !AUTO_CLOSED.contains(&name) {
                close(&mut open, name);
            }
            if want_text {
                cuts.end_tag(name, open.len(), scan.text.len());
            }
            continue;
        }
        scan.elements += 1;
        scan.depth_sum = scan.depth_sum.saturating_add(open.len());
        if want_text {
            cuts.start_tag(name, open.len(), scan.text.len());
        }
        if RAW_TEXT.contains(&name) {
            let end = end_tag(html, pos, name);
            if name == "title" && scan.title.is_none() {
                scan.title = html.get(pos..end).map(str::to_string);
            }
            pos = html
                .get(end..)
                .and_then(|r| r.find('>'))
                .map_or(html.len(), |e| end + e + 1);
            continue;
        }
        let pushed = !self_closing && !VOID.contains(&name) && !AUTO_CLOSED.contains(&name);
        if want_text && chrome.is_none() && !self_closing && !VOID.contains(&name) {
            let (class, id) = class_and_id(
                html.get(name_start + name_len..gt.max(name_start + name_len))
                    .unwrap_or_default(),
            );
            if (class.is_some() || id.is_some()) && is_comment_name(name, class, id) {
                // Not pushed: one the parser closes by itself, named in
                // `AUTO_CLOSED`.
                let auto = (!pushed)
                    .then(|| AUTO_CLOSED.iter().find(|a| **a == name).copied())
                    .flatten();
                cuts.open(open.len(), scan.text.len(), auto);
            }
        }
        if pushed {
            open.push(tag);
            scan.max_depth = scan.max_depth.max(open.len());
        }
    }
    if pos < html.len() && !html.get(pos..).unwrap_or_default().contains('<') {
        push_text(&mut scan, chrome, pos, html.len());
    }
    if want_text {
        cuts.apply(&mut scan.text);
    }
    if want_text && scan.text.contains('&') {
        scan.text = html_escape::decode_html_entities(&scan.text).into_owned();
    }
    scan
}

/// The reader comments a scan leaves out of the text: sections named so
/// ([`is_comment_name`]), each from where its start tag leaves the text to
/// where its element ends, as the open elements of [`scan_markup`] tell.
///
/// Whether a section holds an `<h1>` (and is then the story, as
/// [`drop_comments`] keeps it) is known only at its end, so a section is
/// cut when it ends; one still open at the end of the document is kept,
/// since what follows its start cannot be told from comments there, and
/// leaving out the story would hide its rewrite from the lines comparison.
/// Every operation is constant time but for ranges and sections dropped,
/// each once: linear in the markup, however deep or many.
///
/// Comment headings ([`COMMENT_TITLES`]) cut nothing here. Their cut runs
/// to the end of the heading's container, which the scan cannot know:
/// it does not keep the elements the parser closes by itself (a table's
/// cell, a list item), so the cut would run past the cell into the rest of
/// a table-laid-out page. And a wrong cut in the glance is the costly
/// error: the lines comparison settles "unchanged", so story text left out
/// of both copies could be rewritten unseen. Comments found only by their
/// heading cost a Readability pass, as before, where the tree knows the
/// container.
#[derive(Debug, Default)]
struct Cuts {
    /// The sections open, outermost first (their depths never decrease).
    open: Vec<Section>,
    /// How many of `open`, from the outermost, hold an `<h1>`: a section
    /// holding one holds it for all the sections around it.
    headline: usize,
    /// Byte ranges of the text to leave out: ascending and disjoint.
    ranges: Vec<(usize, usize)>,
}

/// A comment section open in the scan.
#[derive(Debug)]
struct Section {
    /// The number of open elements at its start tag: its element's place
    /// among them, or for one not pushed the depth its siblings start at.
    depth: usize,
    /// Where its text starts.
    start: usize,
    /// For an element the parser closes by itself (`<li>`, `<p>`, which
    /// the scan does not push), its name.
    auto: Option<&'static str>,
}

impl Cuts {
    /// A section starts with the text at `start`.
    fn open(&mut self, depth: usize, start: usize, auto: Option<&'static str>) {
        self.open.push(Section { depth, start, auto });
    }

    /// An end tag has left `depth` elements open, the text `len` long.
    fn end_tag(&mut self, name: &str, depth: usize, len: usize) {
        while self.open.last().is_some_and(|s| match s.auto {
            None => depth <= s.depth,
            Some(_) => depth < s.depth,
        }) {
            self.close_innermost(len);
        }
        if self
            .open
            .last()
            .is_some_and(|s| s.auto == Some(name) && depth >= s.depth)
        {
            self.close_innermost(len);
        }
    }

    /// A start tag comes with `depth` elements open, the text `len` long:
    /// it closes a sibling the parser closes by itself, and an `<h1>` is
    /// held by every section open.
    fn start_tag(&mut self, name: &str, depth: usize, len: usize) {
        if self
            .open
            .last()
            .is_some_and(|s| s.depth == depth && s.auto.is_some_and(|a| auto_closes(a, name)))
        {
            self.close_innermost(len);
        }
        if name == "h1" {
            self.headline = self.open.len();
        }
    }

    /// The innermost section ends with the text `len` long: cut, unless it
    /// holds an `<h1>`, along with any cut inside it.
    fn close_innermost(&mut self, len: usize) {
        let Some(section) = self.open.pop() else {
            return;
        };
        let holds_headline = self.headline > self.open.len();
        self.headline = self.headline.min(self.open.len());
        if holds_headline {
            return;
        }
        while self
            .ranges
            .last()
            .is_some_and(|&(from, _)| from >= section.start)
        {
            self.ranges.pop();
        }
        if len > section.start {
            self.ranges.push((section.start, len));
        }
    }

    /// Leaves the cut ranges out of `text`, unless that would leave nothing
    /// to read of a page that has text: a page that is one comment section
    /// says what it says, and a blank reading would call it emptied.
    fn apply(&self, text: &mut String) {
        if self.ranges.is_empty() {
            return;
        }
        let mut kept = String::with_capacity(text.len());
        let mut from = 0;
        for &(start, end) in &self.ranges {
            kept.push_str(text.get(from..start).unwrap_or_default());
            from = end;
        }
        kept.push_str(text.get(from..).unwrap_or_default());
        if kept.chars().any(|c| !c.is_whitespace()) || text.chars().all(char::is_whitespace) {
            *text = kept;
        }
    }
}

/// Whether a start tag `name` closes an open `auto` element (one of
/// [`AUTO_CLOSED`]) it comes beside, as the parser closes it.
fn auto_closes(auto: &str, name: &str) -> bool {
    auto == name
        || match auto {
            "p" => matches!(
                name,
                "address"
                    | "article"
                    | "aside"
                    | "blockquote"
                    | "div"
                    | "dl"
                    | "fieldset"
                    | "figure"
                    | "footer"
                    | "form"
                    | "h1"
                    | "h2"
                    | "h3"
                    | "h4"
                    | "h5"
                    | "h6"
                    | "header"
                    | "hr"
                    | "main"
                    | "nav"
                    | "ol"
                    | "pre"
                    | "section"
                    | "table"
                    | "ul"
                    | "li"
                    | "dd"
                    | "dt"
            ),
            "dd" | "dt" => matches!(name, "dd" | "dt"),
            "td" | "th" => matches!(name, "td" | "th" | "tr" | "tbody" | "thead" | "tfoot"),
            "tr" => matches!(name, "tbody" | "thead" | "tfoot"),
            "option" => name == "optgroup",
            _ => false,
        }
}

/// The values of the `class` and `id` attributes (the first of each, as the
/// parser keeps it) in what a start tag holds after its name.
fn class_and_id(attrs: &str) -> (Option<&str>, Option<&str>) {
    let bytes = attrs.as_bytes();
    let (mut class, mut id) = (None, None);
    let mut at = 0;
    let skip = |at: &mut usize, f: &dyn Fn(u8) -> bool| {
        while bytes.get(*at).is_some_and(|&b| f(b)) {
            *at += 1;
        }
    };
    while at < bytes.len() {
        skip(&mut at, &|b| b.is_ascii_whitespace() || b == b'/');
        let name_start = at;
        skip(&mut at, &|b| {
            !(b.is_ascii_whitespace() || b == b'=' || b == b'/')
        });
        if at == name_start {
            break;
        }
        let name = attrs.get(name_start..at).unwrap_or_default();
        skip(&mut at, &|b| b.is_ascii_whitespace());
        let mut value = "";
        if bytes.get(at) == Some(&b'=') {
            at += 1;
            skip(&mut at, &|b| b.is_ascii_whitespace());
            let value_start;
            match bytes.get(at) {
                Some(&q @ (b'"' | b'\'')) => {
                    value_start = at + 1;
                    at = value_start;
                    skip(&mut at, &|b| b != q);
                    value = attrs.get(value_start..at).unwrap_or_default();
                    at += 1;
                }
                _ => {
                    value_start = at;
                    skip(&mut at, &|b| !b.is_ascii_whitespace());
                    value = attrs.get(value_start..at).unwrap_or_default();
                }
            }
        }
        if name.eq_ignore_ascii_case("class") {
            class.get_or_insert(value);
        } else if name.eq_ignore_ascii_case("id") {
            id.get_or_insert(value);
        }
    }
    (class, id)
}

/// Where the raw text of element `name` (lower case) that starts at `from`
/// ends: at its first `</name`, in any case, or at the end of the markup.
fn end_tag(html: &str, from: usize, name: &str) -> usize {
    let bytes = html.as_bytes();
    let mut at = from;
    while let Some(rel) = html.get(at..).and_then(|r| r.find("</")) {
        let start = at + rel;
        let after = start + 2;
        if bytes
            .get(after..after + name.len())
            .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
        {
            return start;
        }
        at = after;
    }
    html.len()
}

/// `s` without leading and trailing whitespace, reusing its buffer when there
/// is none to cut (a page's text is tens of kilobytes).
fn trimmed(s: String) -> String {
    let t = s.trim();
    if t.len() == s.len() { s } else { t.to_string() }
}

fn visible_chars(s: &str) -> usize {
    s.chars().filter(|c| !c.is_whitespace()).count()
}

/// [`visible_chars`], a CJK character counting [`CJK_CHAR_WEIGHT`].
fn text_weight(s: &str) -> usize {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| {
            if super::fingerprint::is_unspaced_script(c) {
                CJK_CHAR_WEIGHT
            } else {
                1
            }
        })
        .sum()
}

fn collapse_whitespace(s: &str, max_chars: usize) -> String {
    let mut out = String::new();
    for (n, word) in s.split_whitespace().enumerate() {
        if n > 0 {
            out.push(' ');
        }
        out.push_str(word);
        if out.len() >= max_chars * 4 {
            break;
        }
    }
    match out.char_indices().nth(max_chars) {
        Some((cut, _)) => out[..cut].to_string(),
        None => out,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn pages_built_by_scripts_are_known_by_their_shell() {
        for shell in [
            "<html><body><noscript>You need to enable JavaScript to run this app.</noscript><div id=\"root\"></div><script src=\"/static/main.js\"></script></body></html>",
            "<html><body><noscript><strong>We're sorry but this site doesn't work properly without JavaScript enabled.</strong></noscript></body></html>",
            "<html><body><div id='app'>\n </div><script src=app.js></script></body></html>",
            "<html><body><app-root></app-root><script src=main.js></script></body></html>",
            "<html><body><div id=\"__next\"></div></body></html>",
        ] {
            assert!(needs_scripts(shell.as_bytes()).is_some(), "{shell}");
        }
        assert_eq!(
            needs_scripts(b"<body><div id=root></div></body>"),
            Some(ScriptShell::EmptyMount)
        );
        assert_eq!(
            needs_scripts(b"<body><noscript>Enable JavaScript</noscript></body>"),
            Some(ScriptShell::NoscriptAsks)
        );
        for page in [
            "<html><body><p>A photo caption.</p><img src=a.jpg><script src=stats.js></script></body></html>",
            "<html><body><noscript><img src=pixel.gif></noscript><p>Short.</p></body></html>",
            "<html><body><div id=\"root\"><p>Rendered on the server.</p></div></body></html>",
            "<html><body><noscript>no scripts</noscript></body></html>",
            "<html><body><noscript><img src=p.gif><p>A caption.</p>\
             <script type=\"text/javascript\">track()</script></body></html>",
        ] {
            assert_eq!(needs_scripts(page.as_bytes()), None, "{page}");
        }
    }

    use super::*;

    #[test]
    fn a_glance_keeps_the_visible_text_only() {
        let html = "<!doctype html><html><head><title>Tom &amp; Jerry &#8212; news</title>\
            <style>p{}</style><script>var x = '<p>no</p>';</script><body>\
            <nav><ul><li><a href=/>Home</a><nav>inner</nav><li>World</ul></nav>\
            <header>Site name</header><article><h1>Headline</h1><p>First &lt;para&gt; &eacute;t&eacute;.</p>\
            <p>Second<br>line</p><button>Share</button></article>\
            <aside>Related stuff</aside><footer>(c) 2026</footer></body></html>";
        let p = glance_page(html.as_bytes(), Some("text/html"));
        assert_eq!(p.title.as_deref(), Some("Tom & Jerry \u{2014} news"));
        for gone in [
            "Home", "inner", "World", "Share", "Related", "(c)", "var x", "p{}",
        ] {
            assert!(!p.main_text.contains(gone), "{gone:?} in {:?}", p.main_text);
        }
        for kept in ["Site name", "Headline", "First <para> été.", "Second\nline"] {
            assert!(
                p.main_text.contains(kept),
                "{kept:?} not in {:?}",
                p.main_text
            );
        }
    }

    #[test]
    fn a_glance_survives_an_unclosed_head_and_reads_gbk() {
        let html =
            "<html><head><title>页面不存在</title><body><div>您访问的页面不存在</div></body>";
        let (gbk, _, _) = encoding_rs::GBK.encode(html);
        let p = glance_page(&gbk, Some("text/html; charset=gbk"));
        assert_eq!(p.title.as_deref(), Some("页面不存在"));
        assert_eq!(p.main_text, "您访问的页面不存在");
        assert_eq!(p.encoding, "GBK");
    }

    #[test]
    fn a_glance_and_a_full_read_agree_on_plain_text_and_binaries() {
        for (body, ct) in [
            (b"just text".as_slice(), Some("text/plain")),
            (b"%PDF-1.4 \x00\x01", Some("application/pdf")),
        ] {
            assert_eq!(glance_page(body, ct), read_page(body, ct));
        }
    }

    const ARTICLE: &str = r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Shanghai starts vaccinating priority groups | Example News</title>
<script>var nonce = "a8f3e2c91b"; window.ads = [];</script><style>body{font:12px}</style></head>
<body>
<header><a href="/">Example News</a></header>
<nav><ul><li><a href="/world/">World</a></li><li><a href="/china/">China</a></li><li><a href="/business/">Business</a></li></ul></nav>
<div class="ad">Sponsored: luxury apartments</div>
<article>
<h1>Shanghai starts vaccinating priority groups</h1>
<p class="byline">By A Reporter, December 26, 2020</p>
<p>Shanghai has begun vaccinating key groups against the novel coronavirus, the city's disease control centre said on Saturday, in one of the first large urban campaigns since the vaccine received conditional approval.</p>
<p>Officials said the programme would initially cover customs officers, medical workers, transport staff and people who work in cold-chain logistics, where imported infections have repeatedly been traced.</p>
<p>The vaccine being used is an inactivated virus product developed by a state-owned manufacturer. Each person receives two doses about three weeks apart, and recipients are asked to remain at the clinic for half an hour after each injection.</p>
</article>
<aside><h3>Related</h3><ul><li><a href="/1">Beijing tightens checks on imported frozen food</a></li></ul></aside>
<footer>Copyright Example News. All rights reserved. Contact us.</footer>
</body></html>"#;

    #[test]
    fn article_main_text_without_chrome() {
        let p = read_page(ARTICLE.as_bytes(), Some("text/html; charset=UTF-8"));
        assert!(p.is_html);
        assert_eq!(p.encoding, "UTF-8");
        assert_eq!(
            p.title.as_deref(),
            Some("Shanghai starts vaccinating priority groups | Example News")
        );
        assert!(
            p.main_text.contains("Shanghai has begun vaccinating"),
            "{}",
            p.main_text
        );
        assert!(p.main_text.contains("half an hour after each injection"));
        for chrome in ["nonce", "font:12px", "Business", "All rights reserved"] {
            assert!(!p.main_text.contains(chrome), "{chrome}: {}", p.main_text);
        }
        assert!(
            p.main_text.contains("traced.\n\nThe vaccine"),
            "paragraphs stay apart: {}",
            p.main_text
        );
    }

    /// Portals put "相关新闻" (and English sites "Related stories") inside the
    /// story's own container, and Readability kept the list: its headlines,
    /// new every night, made a two-paragraph story `changed`.
    #[test]
    fn a_list_of_related_links_inside_the_story_is_not_its_text() {
        use crate::check::fingerprint::{CHANGED_BELOW, fingerprint, similarity};
        let page = |related: &[&str], class: &str| {
            let related: String = related
                .iter()
                .map(|h| format!("<li><a href='/2020/{}.htm'>{h}</a></li>", h.len()))
                .collect();
            format!(
                "<html><head><meta charset=utf-8><title>国防法修订-人民网</title></head><body>\
                 <div class='nav'><a href='/'>人民网首页</a> <a href='/politics/'>时政</a></div>\
                 <div class='col'><h1>国防法修订</h1><div class='box01'>2020年12月26日08:15 \
                 来源：人民网-人民日报</div><div class='rm_txt_con'>\
                 <p>新华社北京12月26日电 十三届全国人大常委会第二十四次会议26日在北京人民大会堂闭幕。\
                 会议经表决，通过了新修订的国防法，自2021年1月1日起施行。</p>\
                 <p>修订后的国防法共12章73条，明确了国家主席、中央军事委员会在国防领导体制中的职权，\
                 完善了国防动员和战时状态等方面的规定，进一步强化了国防教育和国防科研生产的制度安排。</p>\
                 <div class='{class}'><h3>相关新闻</h3><ul>{related}</ul></div>\
                 <p class='edit'>(责编：王亮)</p></div></div></body></html>"
            )
        };
        let first = [
            "习近平主持召开中央全面深化改革委员会第十七次会议",
            "国务院常务会议部署进一步做好稳就业工作",
            "外交部发言人就美方涉港言论答记者问",
            "中央经济工作会议在北京举行",
            "全国政协召开双周协商座谈会",
            "生态环境部通报重点区域空气质量",
        ];
        let next = [
            "一带一路倡议七周年成果丰硕",
            "国家统计局发布11月份国民经济运行数据",
            "多地出台措施保障春运",
            "嫦娥五号返回器携带月球样品着陆",
            "教育部部署寒假期间疫情防控",
            "商务部：前11月实际使用外资增长",
        ];
        for class in ["related", "xgxw", "relatedNews", "recommend-list"] {
            let (a, b) = (
                read_page(page(&first, class).as_bytes(), Some("text/html")),
                read_page(page(&next, class).as_bytes(), Some("text/html")),
            );
            assert!(a.main_text.contains("国防法共12章73条"), "{}", a.main_text);
            assert!(!a.main_text.contains(first[0]), "{class}: {}", a.main_text);
            let s = similarity(&fingerprint(&a.main_text), &fingerprint(&b.main_text));
            assert!(s >= CHANGED_BELOW, "{class}: {s}");
        }
    }

    /// Reader comments inside the story's container: a WordPress list and
    /// reply form, Disqus, a comments area, a Chinese portal's 网友评论.
    /// Readability kept them as the story's text, so the page drifted from
    /// its baseline as readers wrote. The story's own mentions of comments
    /// (a sentence, an image class) are its text still.
    #[test]
    fn comments_inside_the_story_are_not_its_text() {
        const STORY: &str = "<h1>Ministry withdraws the draft rules on data exports</h1>\
            <p>The ministry withdrew its draft rules on cross-border data transfers on Friday, \
            three weeks after publishing them, and said a revised version would follow after \
            further consultation with industry groups and provincial regulators.</p>\
            <div class='no-comment-img'><img src=a.jpg><p>Officials at the ministry's press \
            office in the capital, where the draft was first presented to reporters.</p></div>\
            <p>Companies had warned that the draft would force them to store customer records \
            locally and to seek approval for routine transfers. The ministry declined to \
            comment.</p>";
        const ZH_STORY: &str = "<h1>国防法修订</h1>\
            <p>新华社北京12月26日电 十三届全国人大常委会第二十四次会议26日在北京人民大会堂闭幕。\
            会议经表决，通过了新修订的国防法，自2021年1月1日起施行。</p>\
            <p>修订后的国防法共12章73条，明确了国家主席、中央军事委员会在国防领导体制中的职权，\
            完善了国防动员和战时状态等方面的规定，进一步强化了国防教育和国防科研生产的制度安排。</p>";
        let wordpress = "<section id='comments' class='comments'><h2>3 Comments</h2>\
            <ol class='comment-list'><li class='comment'><div class='comment-body'>\
            <p>Reader Alpha says this is a disgrace and the government should resign.</p></div></li>\
            <li class='comment'><p>Reader Beta thinks the rules were fine as drafted.</p></li></ol>\
            <div id='respond' class='comment-respond'><h3 id='reply-title'>Leave a Reply</h3>\
            <form id='commentform'><p>Your email address will not be published.</p>\
            <textarea name='comment'></textarea></form></div></section>";
        let disqus = "<div id='disqus_thread'><p>Reader Alpha says this is a disgrace \
            and the government should resign.</p></div>";
        let area = "<div class='comments-area'><h3>Join the discussion</h3><ul>\
            <li><p>Reader Alpha says this is a disgrace and the government should resign.</p></li>\
            </ul></div>";
        let respond = "<div class='comment-respond'><h3>Leave a Reply</h3><p>Reader Alpha says \
            this is a disgrace and the government should resign.</p></div>";
        let zh_comments = [
            "<div class='pl_box'><h3>网友评论</h3><ul><li>网友甲：这是好事，支持国防法修订！早就应该这样了。</li>\
             <li>网友乙：期待配套细则尽快出台。</li></ul></div>",
            "<div class='bottom'><div class='hd'><h3>发表评论</h3></div>\
             <p>网友甲：这是好事，支持国防法修订！早就应该这样了。</p></div>",
            // A bare 评论 may label an op-ed (see the test below): it cuts
            // with a count, or with comment-list markup, a reply form or a
            // named comment container after it.
            "<h3>评论(35)</h3><p>网友甲：这是好事，支持国防法修订！早就应该这样了。</p>",
            "<h3>评论</h3><p>网友甲：这是好事，支持国防法修订！早就应该这样了。</p>\
             <ol class='comment-list'><li>网友乙：期待配套细则尽快出台。</li></ol>",
            "<div class='hd'><h3>评论</h3></div><p>网友甲：这是好事，支持国防法修订！早就应该这样了。</p>\
             <form action='/post'><textarea name='content'></textarea></form>",
            "<h3>评论</h3><p>网友甲：这是好事，支持国防法修订！早就应该这样了。</p>\
             <div id='SOHUCS' sid='20201226'></div>",
        ];
        let page = |story: &str, comments: &str| {
            format!(
                "<html><head><title>Story</title></head><body><nav><a href=/>Home</a></nav>\
                 <article>{story}{comments}</article><footer>Contact us</footer></body></html>"
            )
        };
        for comments in [wordpress, disqus, area, respond] {
            // The story alone, and a story too short for Readability (the
            // visible-text fallback reads it).
            for story in [
                STORY.to_string(),
                STORY.split("<div class='no").next().unwrap().to_string(),
            ] {
                let p = read_page(page(&story, comments).as_bytes(), Some("text/html"));
                assert!(
                    !p.main_text.contains("Reader Alpha"),
                    "{comments}: {}",
                    p.main_text
                );
                for gone in ["Reader Beta", "Leave a Reply", "will not be published"] {
                    assert!(!p.main_text.contains(gone), "{gone}: {}", p.main_text);
                }
                assert!(
                    p.main_text.contains("withdrew its draft rules"),
                    "{}",
                    p.main_text
                );
            }
            let p = read_page(page(STORY, comments).as_bytes(), Some("text/html"));
            for kept in ["press office", "The ministry declined to comment."] {
                assert!(p.main_text.contains(kept), "{kept}: {}", p.main_text);
            }
        }
        for comments in zh_comments {
            let p = read_page(page(ZH_STORY, comments).as_bytes(), Some("text/html"));
            assert!(p.main_text.contains("国防法共12章73条"), "{}", p.main_text);
            assert!(
                !p.main_text.contains("网友甲"),
                "{comments}: {}",
                p.main_text
            );
        }
        // Nothing but a story mentioning comments, a link to its comments
        // and a heading that only mentions them: all of it stays. So does a
        // story under an opinion page's "Comment" label: what follows the
        // label is cut only up to the headline, and nothing holding it goes.
        let story = format!(
            "<div class='meta'><a href='#comments'>Comments</a></div>{STORY}\
             <h2>Public comments on the draft</h2><p>Over two thousand submissions came in.</p>"
        );
        let labelled = format!("<div class='kicker'><h2>Comment</h2></div>{story}");
        let headed =
            format!("<div class='comment'><div class='kicker'><h2>Comment</h2></div>{story}</div>");
        for story in [story, labelled, headed] {
            let p = read_page(page(&story, "").as_bytes(), Some("text/html"));
            for kept in ["press office", "declined to comment", "Over two thousand"] {
                assert!(p.main_text.contains(kept), "{kept}: {}", p.main_text);
            }
        }
    }

    /// A bare "评论" ("commentary") is also how Chinese outlets label an
    /// opinion column: the label above an op-ed's text. As a comment
    /// heading it cut the op-ed from the main text, which left a baseline
    /// fingerprint of next to nothing, so a rewritten op-ed was not seen
    /// as `changed`. With no count and nothing after it that takes
    /// comments, it is the story's label and its text stays.
    #[test]
    fn an_op_ed_under_a_bare_commentary_label_is_its_text() {
        use crate::check::fingerprint::{CHANGED_BELOW, fingerprint, similarity};
        const OP_ED: [&str; 3] = [
            "近日，多地出台措施规范校外培训，引发社会广泛关注。减轻学生过重课业负担，\
             需要学校、家庭和社会形成合力，不能只靠一纸禁令。",
            "校外培训之所以火热，根源在于升学竞争的焦虑。只有让优质教育资源更加均衡，\
             让每个孩子都能在家门口上好学，家长的焦虑才能真正缓解。",
            "规范培训机构只是第一步，更重要的是提升课堂教学质量，让学生在校内学足学好，\
             这样才能从根本上为孩子减负，为家长解忧。",
        ];
        const REWRITTEN: [&str; 3] = [
            "有关部门昨日宣布暂停执行校外培训新规，称将在广泛征求意见后重新发布实施细则，\
             此前的通知同时废止。",
            "多家培训机构表示已恢复周末课程，部分家长则担心政策反复会让孩子无所适从，\
             呼吁尽快明确下一步安排。",
            "专家认为，政策制定应当更加审慎，出台前要充分评估对学生、家长和从业人员的影响，\
             避免朝令夕改损害政府公信力。",
        ];
        let text =
            |paras: &[&str]| -> String { paras.iter().map(|p| format!("<p>{p}</p>")).collect() };
        // The label after the headline in the story's container; above the
        // headline with no <h1> to stop the cut; in a wrapper of its own.
        let layouts: [fn(&str) -> String; 3] = [
            |paras: &str| format!("<h1>为孩子减负需要形成合力</h1><h2>评论</h2>{paras}"),
            |paras: &str| format!("<h3>评论</h3><h2>为孩子减负需要形成合力</h2>{paras}"),
            |paras: &str| {
                format!(
                    "<h1>为孩子减负需要形成合力</h1><div class='column'><h3>评论</h3></div>\
                     <p class='author'>本报评论员</p>{paras}"
                )
            },
        ];
        let page = |article: String| {
            format!(
                "<html><head><meta charset=utf-8><title>为孩子减负需要形成合力</title></head>\
                 <body><nav><a href=/>首页</a></nav><article>{article}</article>\
                 <footer>联系我们</footer></body></html>"
            )
        };
        for layout in layouts {
            let before = read_page(page(layout(&text(&OP_ED))).as_bytes(), Some("text/html"));
            // The glance cuts nothing by a heading (see `Cuts`): it keeps the
            // op-ed as the tree now does.
            let glance = glance_page(page(layout(&text(&OP_ED))).as_bytes(), Some("text/html"));
            for para in OP_ED {
                assert!(before.main_text.contains(para), "{}", before.main_text);
                assert!(glance.main_text.contains(para), "{}", glance.main_text);
            }
            let after = read_page(
                page(layout(&text(&REWRITTEN))).as_bytes(),
                Some("text/html"),
            );
            let s = similarity(
                &fingerprint(&before.main_text),
                &fingerprint(&after.main_text),
            );
            assert!(s < CHANGED_BELOW, "a rewritten op-ed is changed: {s}");
        }
    }

    /// The glance leaves reader comments out by the names the tree's walk
    /// knows them by: their text grew night by night in the lines the cheap
    /// comparison reads, so a story whose readers wrote failed it and cost a
    /// Readability pass. What follows a section, and the lines around it,
    /// stay.
    #[test]
    fn a_glance_leaves_out_comment_sections_by_their_names() {
        const STORY: &str = "<h1>Ministry withdraws the draft rules</h1>\
            <p>The ministry withdrew its draft rules on cross-border data transfers on Friday.</p>";
        let page = |body: &str| {
            format!(
                "<html><head><title>Story</title></head><body><nav><a href=/>Home</a></nav>\
                 <article>{body}</article><footer>Contact us</footer></body></html>"
            )
        };
        for comments in [
            "<section id='comments' class='comments'><h2>3 Comments</h2><ol class='comment-list'>\
             <li class='comment'><p>Reader Alpha says this is a disgrace.</p>\
             <ul class='children'><li class='comment'>Reader Beta disagrees.</li></ul></li></ol>\
             <div id='respond'><h3>Leave a Reply</h3><form><p>Your email address will not be \
             published.</p><textarea name='comment'></textarea></form></div></section>",
            "<div id=disqus_thread><p>Reader Alpha says this is a disgrace.</p></div>",
            "<DIV CLASS=\"Comments-Area\"><div><p>Reader Alpha says this is a disgrace.</p></div></DIV>",
            "<div class='pinglun'><div class='pinglun'><p>Reader Alpha</p></div><p>Reader Beta</p></div>",
            // Items the parser closes by themselves, named one by one.
            "<ul><li class='comment'>Reader Alpha says this is a disgrace.<li class='comment'>\
             Reader Beta disagrees.</ul>",
            "<p class='comment-notes'>Reader Alpha: your email address will not be published.",
        ] {
            let html = page(&format!("{STORY}{comments}<p>Filed from Beijing.</p>"));
            let p = glance_page(html.as_bytes(), Some("text/html"));
            for gone in [
                "Reader Alpha",
                "Reader Beta",
                "Leave a Reply",
                "Home",
                "Contact",
            ] {
                assert!(
                    !p.main_text.contains(gone),
                    "{gone}: {comments}: {:?}",
                    p.main_text
                );
            }
            assert!(
                p.main_text.contains("withdrew its draft rules"),
                "{comments}: {:?}",
                p.main_text
            );
            assert!(
                p.main_text
                    .lines()
                    .any(|l| l.trim() == "Filed from Beijing."),
                "{comments}: {:?}",
                p.main_text
            );
        }
        // A list item beside a comment is not one; a section holding the
        // headline is the story; names the rule does not take stay.
        for (body, kept) in [
            (
                format!("{STORY}<ul><li class='comment'>Reader Alpha<li>Second point.</ul>"),
                "Second point.",
            ),
            (
                format!("<div class='comment'>{STORY}</div>"),
                "withdrew its",
            ),
            (
                format!("<div class='comments'><div class='kicker'>Comment</div>{STORY}</div>"),
                "withdrew its",
            ),
            (
                format!("{STORY}<div class='no-comment-img'><p>A caption.</p></div>"),
                "A caption.",
            ),
            (
                format!("{STORY}<div class='commentary'><p>An analysis.</p></div>"),
                "An analysis.",
            ),
            (
                format!(
                    "<div class='comments-open'>{}<p>Its text.</p></div>",
                    "<p>x</p>"
                ),
                "Its text.",
            ),
        ] {
            let p = glance_page(page(&body).as_bytes(), Some("text/html"));
            assert!(
                p.main_text.contains(kept),
                "{kept}: {body}: {:?}",
                p.main_text
            );
        }
    }

    /// A comment section whose end never comes (a page cut at
    /// [`MAX_READ_BYTES`], a template that forgets a `</div>`) runs, to the
    /// parser, to the end of the document: what follows its start cannot be
    /// told from comments, and leaving it out could hide a rewrite of the
    /// story from the lines comparison. It is kept. So is a page whose only
    /// text is one comment section: it is what the page says, not a blank.
    #[test]
    fn a_glance_keeps_a_comment_section_that_never_closes_and_a_page_of_nothing_else() {
        for html in [
            "<html><body><article><h1>H</h1><p>Story paragraph.</p><div class='comments'>\
             <p>Reader Alpha</p><div><p>Story after the comments</p>",
            "<html><body><p>Story paragraph.</p><ol class=commentlist><li>Reader Alpha\
             <li><p>Story after the comments</p>",
        ] {
            let p = glance_page(html.as_bytes(), Some("text/html"));
            for kept in [
                "Story paragraph.",
                "Reader Alpha",
                "Story after the comments",
            ] {
                assert!(
                    p.main_text.contains(kept),
                    "{kept}: {html}: {:?}",
                    p.main_text
                );
            }
        }
        let only = "<html><body><div class='comment-thread'><p>Reader Alpha says hello.</p>\
                    </div></body></html>";
        let p = glance_page(only.as_bytes(), Some("text/html"));
        assert_eq!(p.main_text, "Reader Alpha says hello.");
        // A closed section is cut though one opened later never closes.
        let html = "<body><p>Story.</p><div class=comments>Reader Alpha</div><p>More story.</p>\
                    <div class=comments>Reader Beta";
        let p = glance_page(html.as_bytes(), Some("text/html"));
        assert!(!p.main_text.contains("Alpha"), "{:?}", p.main_text);
        assert!(p.main_text.contains("More story.") && p.main_text.contains("Beta"));
    }

    /// Comment sections by the hundred thousand, nested, side by side,
    /// holding headlines, never closed or closed out of order: one pass
    /// each, no panic (a quadratic walk would not finish).
    #[test]
    fn comment_sections_by_the_hundred_thousand_stay_linear() {
        let n = 100_000;
        let deep = format!(
            "<p>Story.</p>{}Reader{}<p>After.</p>",
            "<div class=comments>".repeat(n),
            "</div>".repeat(n)
        );
        let p = glance_page(deep.as_bytes(), Some("text/html"));
        assert_eq!(
            p.main_text.split_whitespace().collect::<Vec<_>>(),
            ["Story.", "After."]
        );
        let side = format!(
            "<p>Story.</p>{}<p>After.</p>",
            "<div class=comment><p>Reader</p></div>".repeat(n)
        );
        let p = glance_page(side.as_bytes(), Some("text/html"));
        assert_eq!(
            p.main_text.split_whitespace().collect::<Vec<_>>(),
            ["Story.", "After."]
        );
        let headlines = format!(
            "{}{}",
            "<div class=comments><h1>H</h1><div class=comment>Reader</div>".repeat(n / 2),
            "</div>".repeat(n / 2)
        );
        let p = glance_page(headlines.as_bytes(), Some("text/html"));
        assert_eq!(p.main_text.matches('H').count(), n / 2);
        assert!(!p.main_text.contains("Reader"));
        for junk in [
            "<div class=comments><b>x</div></b>",
            "<li class=comment><div>x</li>",
            "<div class=comments><table><td>x</div>",
            "</div><div class=comment>x",
            "<p class=comment>x<div>y",
            "<div class=comments><h1>x</div></h1>",
        ] {
            let _ = glance_page(junk.repeat(30_000).as_bytes(), Some("text/html"));
        }
    }

    /// Comment widgets known by their vendors' names, which the word rule
    /// missed: Sohu's Changyan (`#SOHUCS`), Livefyre, Commento, utterances,
    /// giscus, Remark42, Hyvor Talk, NetEase's cloud 跟帖
    /// (`.cloud-tie-wrapper`), Sina's comment box (`#J_Comment_Wrap`). Out
    /// of the main text and of the glance alike; and a NetEase 跟帖 heading
    /// ends a story as a comment heading does.
    #[test]
    fn vendor_comment_widgets_are_comment_sections() {
        const STORY: &str = "<h1>Ministry withdraws the draft rules on data exports</h1>\
            <p>The ministry withdrew its draft rules on cross-border data transfers on Friday, \
            three weeks after publishing them, and said a revised version would follow after \
            further consultation with industry groups and provincial regulators.</p>";
        let page = |widget: &str| {
            format!(
                "<html><head><title>Story</title></head><body><article>{STORY}{widget}\
                 </article></body></html>"
            )
        };
        for open in [
            "<div id='SOHUCS' sid='20201226'>",
            "<div id='changyan'>",
            "<div class='livefyre'>",
            "<div id='commento'>",
            "<div class='utterances'>",
            "<div class='giscus'>",
            "<div id='remark42'>",
            "<div id='hyvor-talk-view'>",
            "<div id='cloud-tie-wrapper' class='cloud-tie-wrapper'>",
            "<div id='J_Comment_Wrap' class='blkContainerCommentblk'>",
        ] {
            let html = page(&format!(
                "{open}<p>Reader Alpha says this is a disgrace and the government should \
                 resign at once.</p></div>"
            ));
            for p in [
                read_page(html.as_bytes(), Some("text/html")),
                glance_page(html.as_bytes(), Some("text/html")),
            ] {
                assert!(
                    !p.main_text.contains("Reader Alpha"),
                    "{open}: {}",
                    p.main_text
                );
                assert!(p.main_text.contains("withdrew its draft"), "{open}");
            }
        }
        for title in ["跟帖", "网友跟帖", "热门跟帖"] {
            let html = page(&format!(
                "<h3>{title}</h3><p>网友甲：这是好事，支持国防法修订！早就应该这样了。</p>"
            ));
            let p = read_page(html.as_bytes(), Some("text/html"));
            assert!(!p.main_text.contains("网友甲"), "{title}: {}", p.main_text);
        }
    }

    /// A story's container (no headline inside to protect it) whose class
    /// holds a vendor's name in the middle, or says the widget is there,
    /// is the story still.
    #[test]
    fn a_vendor_name_inside_a_storys_class_is_not_a_comment_section() {
        let story = "<p>The ministry withdrew its draft rules on cross-border data transfers \
            on Friday, three weeks after publishing them.</p>";
        for class in [
            "post-body with-giscus-below",
            "story-cloud-tie-feature",
            "entry has-commento",
            "article giscus-enabled",
            "content story-utterances-theme",
        ] {
            let html = format!(
                "<html><body><div class='{class}'>{story}</div><p>Filed from Beijing.</p>\
                 </body></html>"
            );
            for p in [
                read_page(html.as_bytes(), Some("text/html")),
                glance_page(html.as_bytes(), Some("text/html")),
            ] {
                assert!(
                    p.main_text.contains("withdrew its draft"),
                    "{class}: {}",
                    p.main_text
                );
            }
        }
    }

    /// "Comment" in the singular is also a section of a story: a legal
    /// bulletin's or an analysis piece's facts, then its "Comment". As a
    /// comment heading it cut the story's last paragraphs, so their rewrite
    /// went unseen. It opens reader comments only when what follows it
    /// takes them (a form, a text box, an embedded widget, a section named
    /// as comments) or when it counts them; the plural and the other
    /// headings cut as before.
    #[test]
    fn a_storys_own_comment_section_is_its_text() {
        let page = |tail: &str| {
            format!(
                "<html><head><title>Bulletin</title></head><body><article>\
                 <h1>Court of Appeal rules on limitation in negligence claims</h1>\
                 <p>The claimant sued her former solicitors eight years after the transaction \
                 completed, arguing that the limitation period ran only from the day she \
                 learned of the defect in her title to the property.</p>\
                 <p>The Court of Appeal held that the period ran from the date on which she \
                 had sufficient knowledge to investigate, not from the date of full knowledge, \
                 and dismissed the appeal.</p>{tail}</article></body></html>"
            )
        };
        let own = "<h2>Comment</h2><p>This decision is a welcome clarification of the date \
            from which a claimant's knowledge is counted, and lenders should review the \
            claims they hold against it.</p><p>Practitioners should note that the court \
            declined to follow its earlier dicta on constructive knowledge.</p>";
        let p = read_page(page(own).as_bytes(), Some("text/html"));
        for kept in ["welcome clarification", "Practitioners should note"] {
            assert!(p.main_text.contains(kept), "{kept}: {}", p.main_text);
        }
        for (tail, gone) in [
            (
                "<h3>Comment</h3><form><p>Your email address will not be published.</p>\
                 <textarea name='c'></textarea></form>",
                "will not be published",
            ),
            (
                "<div class='box'><h3>Comment</h3></div><p>Log in to take part.</p>\
                 <iframe src='/comments'></iframe>",
                "Log in to take part",
            ),
            (
                "<h3>Comments</h3><p>Reader Alpha says this is a disgrace.</p>",
                "Reader Alpha",
            ),
            // A count: no story numbers its own "Comment".
            (
                "<h3>1 Comment</h3><p>Reader Alpha says this is a disgrace.</p>",
                "Reader Alpha",
            ),
        ] {
            let p = read_page(page(tail).as_bytes(), Some("text/html"));
            assert!(!p.main_text.contains(gone), "{tail}: {}", p.main_text);
            assert!(
                p.main_text.contains("dismissed the appeal"),
                "{}",
                p.main_text
            );
        }
        // Ten thousand such headings cost a bounded look each, not the page.
        let many = page(&"<h2>Comment</h2><p>Point.</p>".repeat(10_000));
        let p = read_page(many.as_bytes(), Some("text/html"));
        assert_eq!(p.main_text.matches("Point.").count(), 10_000);
    }

    #[test]
    fn the_same_article_in_different_chrome_fingerprints_alike() {
        use crate::check::fingerprint::{CHANGED_BELOW, fingerprint, similarity};
        let later = ARTICLE
            .replace("a8f3e2c91b", "77c0d4e1f2")
            .replace("December 26, 2020", "December 28, 2020, updated 08:02")
            .replace(
                "Sponsored: luxury apartments",
                "Sponsored: learn a language in ten minutes",
            )
            .replace(
                "Beijing tightens checks on imported frozen food",
                "Winter storm brings heavy snow to the northeast",
            );
        let (a, b) = (
            read_page(ARTICLE.as_bytes(), Some("text/html")),
            read_page(later.as_bytes(), Some("text/html")),
        );
        let s = similarity(&fingerprint(&a.main_text), &fingerprint(&b.main_text));
        assert!(
            s >= CHANGED_BELOW,
            "{s}: {:?} vs {:?}",
            a.main_text,
            b.main_text
        );
        let rewritten = ARTICLE.replace(
            "The vaccine being used is an inactivated virus product",
            "Police detained three employees of a cold storage company; the product",
        );
        let c = read_page(rewritten.as_bytes(), Some("text/html"));
        let r = similarity(&fingerprint(&a.main_text), &fingerprint(&c.main_text));
        eprintln!("same article, other chrome {s:.3}; one sentence of three rewritten {r:.3}");
        assert!(r < s);
    }

    #[test]
    fn error_page_falls_back_to_visible_text() {
        let html = "<html><head><title>404 Not Found</title><style>h1{color:red}</style></head>\
                    <body><nav><a href='/'>Home</a> <a href='/news/'>News</a></nav>\
                    <div class='box'><h1>Page not found</h1><p>Sorry, the page you requested \
                    does not exist.</p><p><a href='/'>Back to the homepage</a></p></div>\
                    <script>location.href='/';</script><footer>© Example</footer></body></html>";
        let p = read_page(html.as_bytes(), Some("text/html"));
        assert_eq!(p.title.as_deref(), Some("404 Not Found"));
        assert!(p.main_text.contains("Page not found"), "{}", p.main_text);
        assert!(p.main_text.contains("does not exist"));
        assert!(!p.main_text.contains("location.href"));
        assert!(
            !p.main_text.contains("News"),
            "nav dropped: {}",
            p.main_text
        );
        assert!(!p.main_text.contains("©"));
    }

    fn zh_html(charset: &str) -> String {
        format!(
            "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset={charset}\">\
             <title>上海启动重点人群新冠疫苗接种_新华网</title></head><body><div id=\"content\">\
             <p>新华社上海12月26日电 记者从上海市疾病预防控制中心获悉，上海已陆续启动新冠病毒疫苗接种工作。首批接种对象为海关、边检、冷链物流、交通运输等感染风险较高的重点人群。</p>\
             <p>据介绍，此次使用的是国产新冠病毒灭活疫苗，需要接种两剂次，间隔时间为三至四周。接种后需在现场留观三十分钟，以便医务人员及时处置可能出现的不良反应。</p>\
             <p>上海市卫生健康委员会有关负责人表示，接种遵循知情、同意、自愿的原则。</p></div></body></html>"
        )
    }

    #[test]
    fn labels_that_lie_are_seen_through() {
        // A template says UTF-8; the text is GBK.
        let lying = zh_html("utf-8");
        let (gbk, _, _) = encoding_rs::GBK.encode(&lying);
        for header in [None, Some("text/html"), Some("text/html; charset=utf-8")] {
            let p = read_page(&gbk, header);
            assert!(
                p.encoding == "GBK" || p.encoding == "gb18030",
                "{header:?}: {}",
                p.encoding
            );
            assert!(p.main_text.contains("灭活疫苗"), "{header:?}");
        }
        // A server still says GBK, or Latin-1, of a page moved to UTF-8.
        let utf8 = zh_html("gbk");
        for header in ["text/html; charset=gbk", "text/html; charset=iso-8859-1"] {
            let p = read_page(utf8.as_bytes(), Some(header));
            assert_eq!(p.encoding, "UTF-8", "{header}");
            assert!(p.main_text.contains("灭活疫苗"), "{header}");
        }
        // A UTF-8 page with a stray byte, labelled UTF-8, stays UTF-8.
        let mut stray = zh_html("utf-8").into_bytes();
        stray.extend_from_slice(b"<!-- \x92 -->");
        stray.push(0x92);
        let p = read_page(&stray, Some("text/html"));
        assert_eq!(p.encoding, "UTF-8");
        assert!(p.main_text.contains("灭活疫苗"));
        // A word or two of UTF-8 is no evidence against the label.
        let cafe = "<html><head><title>Café</title></head><body><p>Un café, s'il vous plaît.</p></body></html>";
        let p = read_page(cafe.as_bytes(), Some("text/html; charset=iso-8859-1"));
        assert_eq!(p.encoding, "windows-1252");
    }

    /// A server that says GBK of every answer, and an error template saved
    /// in UTF-8: too few characters to outvote the label, it was read as
    /// mojibake and its "页面不存在" went unseen. Bytes the label cannot
    /// decode, and UTF-8 can, are UTF-8.
    #[test]
    fn a_short_utf8_notice_under_a_gbk_label_is_utf8() {
        let notice = "<html><head><title>页面不存在</title></head><body>\
            <p>抱歉，您访问的页面不存在</p><a href='/'>Home</a></body></html>";
        for header in ["text/html; charset=gbk", "text/html; charset=big5"] {
            let p = glance_page(notice.as_bytes(), Some(header));
            assert_eq!(p.encoding, "UTF-8", "{header}");
            assert_eq!(p.title.as_deref(), Some("页面不存在"), "{header}");
        }
    }

    #[test]
    fn gbk_by_header_meta_and_detection() {
        let html = zh_html("gb2312");
        let (bytes, _, _) = encoding_rs::GBK.encode(&html);
        for ct in [Some("text/html; charset=GBK"), Some("text/html"), None] {
            let p = read_page(&bytes, ct);
            assert_eq!(p.encoding, "GBK", "{ct:?}");
            assert_eq!(
                p.title.as_deref(),
                Some("上海启动重点人群新冠疫苗接种_新华网")
            );
            assert!(p.main_text.contains("灭活疫苗"), "{ct:?}: {}", p.main_text);
        }
        // No declaration anywhere: the detector.
        let html = zh_html("").replace("; charset=", "");
        let (bytes, _, _) = encoding_rs::GBK.encode(&html);
        let p = read_page(&bytes, Some("text/html"));
        assert!(
            p.encoding == "GBK" || p.encoding == "gb18030",
            "{}",
            p.encoding
        );
        assert!(p.main_text.contains("灭活疫苗"));
    }

    #[test]
    fn header_charset_wins_over_meta_but_not_over_a_bom() {
        let html = zh_html("iso-8859-1");
        let (bytes, _, _) = encoding_rs::BIG5.encode(&html);
        let p = read_page(&bytes, Some("text/html;charset=\"big5\""));
        assert_eq!(p.encoding, "Big5");
        assert!(p.main_text.contains("灭活疫苗") || p.main_text.contains("滅活疫苗"));

        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(zh_html("gbk").as_bytes());
        let p = read_page(&bom, Some("text/html; charset=gbk"));
        assert_eq!(p.encoding, "UTF-8");
        assert!(p.main_text.contains("灭活疫苗"));
    }

    #[test]
    fn a_false_utf8_header_is_overruled() {
        let html = zh_html("gb18030");
        let (bytes, _, _) = encoding_rs::GB18030.encode(&html);
        let p = read_page(&bytes, Some("text/html; charset=utf-8"));
        assert_eq!(p.encoding, "gb18030");
        assert!(p.main_text.contains("灭活疫苗"));
    }

    /// A UTF-8 page with one snippet of GBK in it (an ad or an include
    /// saved in the old encoding), without a `<meta charset>`: the detector
    /// read the whole page as windows-1252 mojibake, its header saying
    /// UTF-8 or not, so its Chinese notices went unseen and the night the
    /// snippet changed the page looked rewritten.
    #[test]
    fn a_utf8_page_with_a_stray_legacy_snippet_stays_utf8() {
        let mut body = "<html><head><title>国防法修订草案提请审议-新华网</title></head><body>\
            <p>新华社北京12月26日电 十三届全国人大常委会第二十四次会议26日在北京人民大会堂闭幕。\
            会议经表决，通过了新修订的国防法，自2021年1月1日起施行。</p>\
            <p>修订后的国防法共12章73条，明确了国家主席、中央军事委员会在国防领导体制中的职权，\
            完善了国防动员和战时状态等方面的规定，进一步强化了国防教育和国防科研生产的制度安排。</p>\
            <p>全国人大常委会法工委有关负责人表示，此次修订适应新时代国防和军队建设的需要，\
            将党领导武装力量的制度成果以法律形式固定下来。</p><div class='ad'>"
            .as_bytes()
            .to_vec();
        body.extend_from_slice(&encoding_rs::GBK.encode("广告：买房送车").0);
        body.extend_from_slice("</div><p>责任编辑：王亮</p></body></html>".as_bytes());
        for ct in [Some("text/html; charset=utf-8"), Some("text/html"), None] {
            let p = glance_page(&body, ct);
            assert_eq!(p.encoding, "UTF-8", "{ct:?}");
            assert_eq!(
                p.title.as_deref(),
                Some("国防法修订草案提请审议-新华网"),
                "{ct:?}"
            );
            assert!(p.main_text.contains("通过了新修订的国防法"), "{ct:?}");
        }
    }

    #[test]
    fn plain_text_and_binaries() {
        let p = read_page(
            "Plain statement.\nSecond line.".as_bytes(),
            Some("text/plain"),
        );
        assert_eq!(
            (p.is_html, p.title, p.main_text.as_str(), p.encoding),
            (false, None, "Plain statement.\nSecond line.", "UTF-8")
        );
        let pdf = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj";
        for ct in [
            Some("application/pdf"),
            None,
            Some("application/octet-stream"),
        ] {
            let p = read_page(pdf, ct);
            assert_eq!((p.is_html, p.main_text.as_str()), (false, ""), "{ct:?}");
        }
        let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR";
        assert_eq!(read_page(png, None).main_text, "");
        assert_eq!(read_page(png, Some("image/png")).encoding, "");
    }

    #[test]
    fn a_pdfs_text_is_read_and_an_error_page_labelled_pdf_is_read_as_html() {
        let pdf = crate::simweb::pdf_document(
            "Annual report",
            &["The committee passed amendments to the national defense law."],
            1,
        );
        for ct in [
            Some("application/pdf"),
            None,
            Some("application/octet-stream"),
        ] {
            let p = read_page(&pdf, ct);
            assert!(
                p.main_text.contains("national defense law") && !p.is_html,
                "{ct:?}: {p:?}"
            );
            assert_eq!((p.encoding, p.unreadable), ("", None));
            assert_eq!(glance_page(&pdf, ct).main_text, p.main_text);
        }
        // Under another label, a PDF is not read: it is what the server says.
        assert_eq!(read_page(&pdf, Some("image/png")).main_text, "");
        let notice = glance_page(
            b"<html><head><title>404 Not Found</title></head><body>Not found</body></html>",
            Some("application/pdf"),
        );
        assert!(notice.is_html && notice.title.as_deref() == Some("404 Not Found"));
        let broken = read_page(b"%PDF-1.7\ntruncated", Some("application/pdf"));
        assert!(broken.unreadable.is_some() && broken.main_text.is_empty());
    }

    #[test]
    fn html_is_sniffed_without_a_content_type() {
        let p = read_page(format!("\n  {ARTICLE}").as_bytes(), None);
        assert!(p.is_html);
        assert!(p.main_text.contains("Shanghai has begun"));
        assert!(!read_page(b"<pre>x</pre> is not a page start", None).is_html);
        assert!(read_page(b"<P>short</P>", Some("")).is_html);
    }

    #[test]
    fn huge_bodies_are_cut_on_a_character_boundary() {
        let mut body = "<html><body><p>".to_string();
        while body.len() < MAX_READ_BYTES + 1000 {
            body.push_str("新华社记者报道。");
        }
        let p = read_page(body.as_bytes(), Some("text/html"));
        assert_eq!(
            p.encoding, "UTF-8",
            "a cut sequence must not look like another encoding"
        );
        assert!(p.main_text.len() <= MAX_READ_BYTES);
        assert!(!p.main_text.contains('\u{FFFD}'));
        let plain = "a".repeat(MAX_READ_BYTES * 2);
        assert_eq!(
            read_page(plain.as_bytes(), Some("text/plain"))
                .main_text
                .len(),
            MAX_READ_BYTES
        );
    }

    #[test]
    fn deeply_nested_and_element_heavy_documents() {
        let nested = |n: usize| {
            format!(
                "<title>Deep</title>{}<p>text &amp; more</p>{}",
                "<div>".repeat(n),
                "</div>".repeat(n)
            )
        };
        for depth in [MAX_READABILITY_DEPTH + 10, 100_000] {
            let p = read_page(nested(depth).as_bytes(), Some("text/html"));
            assert_eq!(p.title.as_deref(), Some("Deep"), "{depth}");
            assert!(p.main_text.contains("text &"), "{depth}: {}", p.main_text);
        }
        // Over the Readability budget: visible text, quickly.
        let costly = format!(
            "{}{}{}",
            "<div>".repeat(100),
            "<p>word word word</p>".repeat(READABILITY_BUDGET / 100 + 1),
            "</div>".repeat(100)
        );
        assert!(scan_markup(&costly, false).depth_sum > READABILITY_BUDGET);
        assert!(
            read_page(costly.as_bytes(), None)
                .main_text
                .starts_with("word")
        );
        let many = format!(
            "<body>{}</body>",
            "<span>w</span> ".repeat(MAX_ELEMENTS + 10)
        );
        let p = read_page(many.as_bytes(), Some("text/html"));
        assert!(p.main_text.starts_with("w w"));
        // End tags that close nothing nest nothing less: this page is forty
        // thousand levels deep to a parser, and was once taken for one.
        for hostile in [
            "<div></i>",
            "<div></span>",
            "<i><div></i>",
            "<td><div></td>",
        ] {
            let page = hostile.repeat(40_000);
            let scan = scan_markup(&page, false);
            assert!(
                scan.max_depth > MAX_DOM_DEPTH,
                "{hostile}: {}",
                scan.max_depth
            );
            let p = read_page(page.as_bytes(), Some("text/html"));
            assert!(
                p.main_text.trim().is_empty(),
                "{hostile}: {:?}",
                p.main_text
            );
        }
        // Misnested and unclosed tags by the thousand stay linear.
        for junk in [
            "<a>x",
            "<b><i>",
            "<table><td>",
            "<font>",
            "<p><li>",
            "</div>",
        ] {
            let _ = read_page(junk.repeat(30_000).as_bytes(), Some("text/html"));
        }
    }

    #[test]
    fn the_scan_measures_depth_like_the_parser() {
        let s = scan_markup(
            "<!DOCTYPE html><html><head><title>A <b>t</title><script>if (a<b) x='<div>'</script>\
             </head><body><div><p>one<p>two<br><img src=x><ul><li>a<li>b</ul></div>\
             <!-- <div><div> --></body></html>",
            true,
        );
        assert_eq!(s.max_depth, 2, "div > ul; p, li, br, img do not nest");
        assert_eq!((s.elements, s.depth_sum), (13, 9));
        // An end tag closes what is open inside its element, and a
        // formatting element's end tag that element alone.
        let depth = |html: &str| scan_markup(html, false).max_depth;
        assert_eq!(depth("<div><span></div><div><span></div>"), 2);
        assert_eq!(depth("<b><div></b><b><div></b>"), 3);
        assert_eq!(
            depth("<div><table><span></div><b>"),
            4,
            "a table is a bound"
        );
        assert_eq!(s.title.as_deref(), Some("A <b>t"));
        assert_eq!(
            s.text.split_whitespace().collect::<Vec<_>>(),
            ["one", "two", "a", "b"]
        );
    }

    #[test]
    fn titles_are_collapsed_and_bounded() {
        let p = read_page(
            b"<title>\n  A\t  title \n</title><p>x</p>",
            Some("text/html"),
        );
        assert_eq!(p.title.as_deref(), Some("A title"));
        assert_eq!(
            read_page(b"<title> </title>", Some("text/html")).title,
            None
        );
        let long = format!("<title>{}</title>", "\u{8bcd} ".repeat(5000));
        let t = read_page(long.as_bytes(), Some("text/html"))
            .title
            .unwrap_or_default();
        assert_eq!(t.chars().count(), MAX_TITLE_CHARS);
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(200))]
            #[test]
            fn any_bytes_read(
                body in proptest::collection::vec(any::<u8>(), 0..600),
                ct in proptest::option::of(prop_oneof![
                    Just("text/html".to_string()),
                    Just("text/plain; charset=gbk".to_string()),
                    Just("text/html; charset=big5".to_string()),
                    "[ -~]{0,30}",
                ]),
            ) {
                let _ = read_page(&body, ct.as_deref());
            }

            /// Pieces of refresh tags and scripts in any order and any
            /// truncation: a target or none, never a panic.
            #[test]
            fn any_markup_has_a_refresh_target_or_none(parts in proptest::collection::vec(prop_oneof![
                Just("<meta http-equiv=refresh content=".to_string()),
                Just("location".to_string()),
                Just(".href".to_string()),
                Just(".replace(".to_string()),
                "[ =;,'\"<>/a-zA-Z0-9]{0,8}",
            ], 0..12)) {
                let _ = refresh_target(parts.concat().as_bytes());
            }

            /// Tag names are read without regard to case, and only they: the
            /// scan of a page equals the scan of its lower-cased copy, text
            /// and title aside, which keep the page's own case.
            #[test]
            fn markup_case_changes_nothing_but_the_text(parts in proptest::collection::vec(prop_oneof![
                "<(p|Div|BR|nAv|SCRIPT|Style|tItLe|TEXTAREA|svg|LI|Footer|aside)( [a-zA-Z]{1,5}=[a-zA-Z\"']{0,6})?/?>",
                "</(p|Div|BR|nAv|SCRIPT|Style|tItLe|TEXTAREA|svg|LI|Footer|aside)>",
                "<!--[a-zA-Z <>]{0,12}-->",
                "<![A-Za-z]{0,8}>",
                "[a-zA-Z \n.<]{0,20}",
            ], 0..60)) {
                let s: String = parts.concat();
                let lower = s.to_ascii_lowercase();
                let (a, b) = (scan_markup(&s, true), scan_markup(&lower, true));
                prop_assert_eq!(
                    (a.max_depth, a.elements, a.depth_sum),
                    (b.max_depth, b.elements, b.depth_sum)
                );
                prop_assert_eq!(a.text.to_ascii_lowercase(), b.text);
                prop_assert_eq!(a.title.map(|t| t.to_ascii_lowercase()), b.title);
            }

            /// Comment sections in any nesting, closed or not, out of
            /// order: the glance only ever leaves text out (what it keeps
            /// is, in order, what it keeps of the same markup with the
            /// sections unnamed), and never all of a page's text.
            #[test]
            fn comment_sections_only_leave_text_out(parts in proptest::collection::vec(prop_oneof![
                Just("<div class=comments>"),
                Just("<section id=respond>"),
                Just("<li class=comment>"),
                Just("<p class=comment-meta>"),
                Just("<b class=comments>"),
                Just("</div>"),
                Just("</section>"),
                Just("</li>"),
                Just("</p>"),
                Just("</b>"),
                Just("<ul>"),
                Just("</ul>"),
                Just("<h1>"),
                Just("</h1>"),
                Just("<p>"),
                Just("<table><td>"),
                Just("</table>"),
                Just("word "),
                Just("词"),
            ], 0..40)) {
                let s: String = parts.concat();
                let unnamed = s.replace("comment", "kommenx").replace("respond", "respont");
                let (cut, whole) = (scan_markup(&s, true).text, scan_markup(&unnamed, true).text);
                let mut rest = whole.chars();
                prop_assert!(cut.chars().all(|c| rest.any(|w| w == c)), "{cut:?} of {whole:?}");
                prop_assert_eq!(
                    cut.trim().is_empty(),
                    whole.trim().is_empty(),
                    "{:?} of {:?}",
                    cut,
                    whole
                );
            }

            #[test]
            fn any_markup_reads(s in "(<[a-z/!]{1,8}( [a-z]{1,5}=['\"]?[^>]{0,10})?>|[^<]{0,20}){0,60}") {
                let p = read_page(s.as_bytes(), Some("text/html"));
                prop_assert!(p.is_html);
            }
        }
    }
}
