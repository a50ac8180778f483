//! Where a briefing item starts and ends, what its title is, and which of its
//! links are citations.
//!
//! Rules, in the order they apply:
//! - With headings (Markdown, HTML), each heading starts an item and is its title,
//!   unless several titled items follow it (a page's title): then its section is
//!   split as a document without headings is.
//! - Without, an item ends at its citation: a `Source:` line (plus the URL lines
//!   after it) or a "Click here to read" link. Its title is the last short line
//!   before the first body paragraph, so a page header before the first item is
//!   passed over. A second `Source:` with nothing between joins the same item.
//!   A title line between two body paragraphs starts an item of its own: the
//!   one before it gave no citation line. An item whose citation line comes
//!   right under its title keeps the body after it (short paragraphs and
//!   lists too), up to the next title (whether that item's body comes
//!   before its citation line or after),
//!   and a further Source line after that body with no title before it.
//! - Short lines right before the body that read "Outlet" then "date" (or
//!   "Outlet, date", after the title or alone under a heading) are the
//!   item's outlet and date for a link-style citation, unless such lines
//!   close the item right before its read link: those win, since the lines
//!   under a title may be a dateline (`Beijing, December 26, 2020`).
//!   An update note ("Updated: December 28, 2020") is neither, nor a title.
//! - Every other http(s) link in the body is a citation too, with its text as context.

use std::collections::HashSet;
use std::sync::LazyLock;

use jiff::civil::Date;
use regex::Regex;

use super::blocks::{Block, Link, is_url_char, url_spans};
use super::cited_date::{
    OutletDate, Words, is_date_line, is_update_note, read_outlet_date, read_outlet_date_line,
    read_unread_date_line, read_words, split_outlet_date,
};
use super::{CitedUrl, Item, Origin};
use crate::source_url::{OPENERS, trim_prose};

/// The label may be bold or italic (`**Source:**`, `*Source*:`) and come
/// after a zero-width space or joiner that web editors leave: either hid
/// the Source line, so its citation had no outlet or date and the item ran
/// into the next.
static SOURCE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^[\s\u{200B}-\u{200D}\u{2060}\u{FEFF}]*[*_]{0,3}\s*(?:sources?|来源|來源|出处|出處)\s*[*_]{0,3}\s*[:：]\s*[*_]{0,3}\s*(.*)$",
    )
    .expect("pattern compiles")
});
static READ_LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:click here|read (?:more|on|the|full|original|it)|full (?:story|article|text|report)|original (?:article|link|source|report)|link to (?:the )?(?:article|source|report))\b|阅读原文|閱讀原文|原文链接|原文鏈接|点击|點擊|查看原文",
    )
    .expect("pattern compiles")
});
/// A line written where a URL goes: any `scheme://`, `www.`, and the schemes
/// that take no `//` (a pasted `javascript:` or `mailto:` link), so that what
/// was written is kept and named invalid rather than lost as "no URL".
static URL_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:[a-z][a-z0-9+.-]{0,15}://|www\.|https?:|(?:javascript|vbscript|data|mailto|tel|file|about|blob):\S)",
    )
    .expect("pattern compiles")
});

/// Titles longer than this are cut (with an ellipsis); they are display text.
const MAX_TITLE_CHARS: usize = 500;
/// Context kept for a link found in body text.
const MAX_CONTEXT_CHARS: usize = 200;

fn is_source_line(b: &Block) -> bool {
    !b.headline && SOURCE_LINE.is_match(&b.text)
}

/// Marks the lines labelled like Source lines that are headlines: their
/// words give no date and link nothing, a body paragraph, not a URL, comes
/// next, and no title comes before. "Sources: Beijing plans new rules" was
/// read as a citation of the outlet "Beijing plans new rules" with no URL,
/// and its item's own citation given to its first paragraph as a title. A
/// Source line with neither date nor URL is still one when a title follows
/// it, or when it is right under one (`Title⏎Source: Xinhua⏎Body.`).
fn mark_headlines(blocks: &mut [Block], dated: Option<Date>) {
    for i in 0..blocks.len() {
        let under_title = i
            .checked_sub(1)
            .is_some_and(|p| blocks[p].heading || is_title_like(&blocks[p]));
        let headline = !under_title
            && blocks.get(i + 1).is_some_and(is_body)
            && is_undated_label(&blocks[i], dated);
        blocks[i].headline = headline;
    }
}

/// A line labelled like a Source line whose words give no date and link nothing.
fn is_undated_label(b: &Block, dated: Option<Date>) -> bool {
    b.links.is_empty()
        && SOURCE_LINE.captures(&b.text).is_some_and(|c| {
            let read = read_words(c.get(1).map_or("", |m| m.as_str()), Words::Citation, dated);
            read.date.is_none() && read.unread.is_none()
        })
}

/// A label some editors put before the URL under a Source line.
static URL_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:link|url|web|online|available at|原文链接|原文鏈接|链接|鏈接|网址|網址)\s*[:：]\s*",
    )
    .expect("pattern compiles")
});

fn is_url_line(b: &Block) -> bool {
    url_of_line(&b.text).is_some()
}

/// What a URL line gives as its URL: the line less a label (`Link: URL`)
/// and the brackets or quotes around it (`<URL>`, `"URL"`, `(URL).`, and
/// full-width ones, `【URL】`), which hid the URL so that the Source line it
/// was under had "no URL given".
fn url_of_line(text: &str) -> Option<&str> {
    let t = text.trim();
    let t = URL_LABEL.find(t).map_or(t, |m| &t[m.end()..]);
    let t = if t.starts_with(OPENERS) {
        trim_prose(t)
    } else {
        t
    };
    URL_LINE.is_match(t).then_some(t)
}

/// A block that is nothing but a link whose text invites the reader to the source.
fn is_read_link(b: &Block) -> bool {
    b.links.len() == 1
        && b.links[0]
            .text
            .as_deref()
            .is_some_and(|t| READ_LINK.is_match(t))
        && b.text.chars().count() <= 120
}

fn is_anchor(b: &Block) -> bool {
    is_source_line(b) || is_read_link(b)
}

/// A paragraph of body text rather than a title, header or metadata line.
fn is_body(b: &Block) -> bool {
    let t = b
        .text
        .trim()
        .trim_end_matches(['"', '\'', '”', '’', ')', '」']);
    // Byte length bounds the character count, so most lines are decided cheaply.
    if t.len() > 250 && (t.len() > 1000 || t.chars().count() > 250) {
        return true;
    }
    let words = || t.split_whitespace().count();
    let cjk = || {
        t.chars()
            .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
            .count()
    };
    if t.ends_with(['.', '。']) {
        words() >= 4 || cjk() >= 10
    } else if t.ends_with(['!', '?', '！', '？']) {
        words() >= 12 || cjk() >= 25
    } else {
        false
    }
}

/// A line that is nothing but links: bare URLs, or one link whose words are
/// the whole line (`[Xinhua](http://…)` under a Source line is its URL).
fn is_link_only(b: &Block) -> bool {
    let bare = !b.links.is_empty() && is_url_line(b) && b.links.iter().all(|l| l.text.is_none());
    bare || is_linked_headline(b)
}

/// Only the first `max + 1` characters are looked at: a body link's context
/// is its whole line, and counting a line of many links once per link was
/// quadratic in the line.
fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((cut, _)) => format!("{}…", &s[..cut]),
    }
}

/// Outlet and date written as short lines before the body: "Outlet" / "date",
/// or "Outlet, date" on one line, the date read or named as unread (see
/// [`read_unread_date_line`]). Returns them and how many lines they took
/// from the end of `lines`.
///
/// `titled` says that `lines` start with the item's title: then an
/// "Outlet, date" line is one only after it, since a line alone is the
/// title. Under a heading, which is the title, a line alone is read as
/// "Outlet, date" when it is exactly that (see [`read_outlet_date_line`]):
/// such an item cited no outlet and no date.
fn meta_lines(lines: &[&Block], titled: bool, dated: Option<Date>) -> (OutletDate, usize) {
    let Some(last) = lines.last() else {
        return (OutletDate::default(), 0);
    };
    let date_line = if is_date_line(&last.text, dated) {
        Some(read_outlet_date(&last.text, dated))
    } else {
        read_unread_date_line(&last.text)
    };
    if let Some(read) = date_line {
        let read = OutletDate {
            outlet: None,
            ..read
        };
        if lines.len() >= 2 {
            let outlet = lines[lines.len() - 2].text.trim();
            if outlet.chars().count() <= 80 && !outlet.contains(':') {
                let outlet = Some(outlet.to_string());
                return (OutletDate { outlet, ..read }, 2);
            }
        }
        return (read, 1);
    }
    let read = read_outlet_date(&last.text, dated);
    if read
        .outlet
        .as_ref()
        .is_some_and(|o| o.chars().count() <= 60 && !o.contains(':'))
        && (read.date.is_some() || read.unread.is_some())
        && lines.len() >= 2
    {
        return (read, 1);
    }
    match lines {
        [only] if !titled => read_outlet_date_line(&only.text, dated)
            .map_or((OutletDate::default(), 0), |read| (read, 1)),
        _ => (OutletDate::default(), 0),
    }
}

/// Splits a document's blocks into items with their citations.
pub fn split(mut blocks: Vec<Block>, dated: Option<Date>) -> Vec<Item> {
    mark_headlines(&mut blocks, dated);
    let blocks = blocks.as_slice();
    let starts: Vec<usize> = (0..blocks.len()).filter(|&i| blocks[i].heading).collect();
    if starts.is_empty() {
        return split_by_citations(blocks, dated);
    }
    let mut items = Vec::new();
    for (n, &start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(blocks.len());
        let section = &blocks[start..end];
        // A heading over several titled items is the page's (`# Briefings -
        // 244. page`, WordPress's `<h1>`), not an item's: taken as one, it
        // folded every item on the page into one titled by it.
        if titled_segments(section, dated) > 1 {
            items.extend(split_by_citations(section, dated));
        } else {
            items.extend(heading_item(section, dated));
        }
    }
    items
}

/// How many of `blocks`' segments have a title-like line of their own
/// before their body. The body of an item cited right under a title line
/// of its own (not under the heading, where a short line after the body is
/// a sub-heading) is passed over as [`split_by_citations`] passes it: it
/// starts the next segment, whose title then came after a body and went
/// uncounted, so a page of such items under a page heading was one item.
fn titled_segments(blocks: &[Block], dated: Option<Date>) -> usize {
    let mut titled = 0;
    let mut cited_under_title = false;
    for (start, end) in segments(blocks, dated) {
        let mut seg = &blocks[start..end];
        if cited_under_title {
            seg = &seg[body_after_citation(seg, dated)..];
        }
        let lead = &seg[..seg.iter().position(is_anchor).unwrap_or(seg.len())];
        let first_body = lead.iter().position(is_body).unwrap_or(lead.len());
        if lead[..first_body].iter().any(is_title_like) {
            titled += 1;
        }
        // A citation with no title or body of its own joins the item before.
        if !lead.is_empty() {
            let under_heading = start == 0 && lead.len() == 1;
            cited_under_title = is_title_then_citation(lead) && !under_heading;
        }
    }
    titled
}

/// The item a heading starts: the heading is its title, and every
/// citation up to the next heading is its.
fn heading_item(section: &[Block], dated: Option<Date>) -> Option<Item> {
    let (heading, body) = section.split_first()?;
    let title = clip(heading.text.trim(), MAX_TITLE_CHARS);
    let before_body: Vec<&Block> = body
        .iter()
        .take_while(|b| !is_body(b) && !is_anchor(b) && !is_url_line(b))
        .filter(|b| !is_update_note(&b.text, dated))
        .collect();
    let (meta, _) = meta_lines(&before_body, false, dated);
    let citations = citations_in(body, &meta, dated);
    (!citations.is_empty()).then_some(Item { title, citations })
}

/// Where items end without headings: each at its citation line (a Source
/// line and what it takes, or a read link), the last at the document's end
/// when links are left after the last citation line.
fn segments(blocks: &[Block], dated: Option<Date>) -> Vec<(usize, usize)> {
    let mut segments: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < blocks.len() {
        if is_anchor(&blocks[i]) {
            let end = if is_source_line(&blocks[i]) {
                source_citations(blocks, i, dated).1
            } else {
                i + 1
            };
            segments.push((start, end));
            start = end;
            i = end;
        } else {
            i += 1;
        }
    }
    if start < blocks.len() && blocks[start..].iter().any(|b| !b.links.is_empty()) {
        segments.push((start, blocks.len()));
    }
    segments
}

fn split_by_citations(blocks: &[Block], dated: Option<Date>) -> Vec<Item> {
    let segments = segments(blocks, dated);
    let mut items: Vec<Item> = Vec::new();
    // The last item gave its citation line right under its title, so its
    // body comes after it, at the start of the next segment.
    let mut cited_under_title = false;
    let mut known = KnownUrls::default();
    for (start, end) in segments {
        let mut seg = &blocks[start..end];
        if cited_under_title && !items.is_empty() {
            let body_end = body_after_citation(seg, dated);
            known.add_body_citations(
                &mut items,
                citations_in(&seg[..body_end], &OutletDate::default(), dated),
            );
            seg = &seg[body_end..];
        }
        let first_anchor = seg.iter().position(is_anchor).unwrap_or(seg.len());
        // A citation with no title or body of its own belongs to the item before it.
        if first_anchor == 0
            && let Some(prev) = items.last_mut()
        {
            prev.citations
                .extend(citations_in(seg, &OutletDate::default(), dated));
            continue;
        }
        cited_under_title = is_title_then_citation(&seg[..first_anchor]);
        // Items that give no citation line of their own end inside this
        // segment; each is an item of its own, or the last one's title
        // would be theirs.
        let mut from = 0;
        for to in untitled_starts(&seg[..first_anchor], dated)
            .into_iter()
            .chain([seg.len()])
        {
            items.extend(titled_item(&seg[from..to], dated));
            from = to;
        }
    }
    items
}

/// Whether `lead`, the blocks before a segment's citation line, ends with
/// the item's title and holds no body: the layout that gives the Source
/// line right under the title and the body after it.
fn is_title_then_citation(lead: &[Block]) -> bool {
    lead.last().is_some_and(is_title_like) && !lead.iter().any(is_body)
}

/// How many of `seg`'s first blocks are the body of the item before, when
/// that item gave its citation line right under its title: all up to the
/// next item's title, a title-like line in the last run of short lines
/// before the citation line, or before the next item's own body when it
/// gives one there (`Title⏎Body⏎Source`); all of a segment that cites
/// nothing of its own (the document's tail), or whose lines before its
/// citation line hold no title (a second Source line of the same item).
/// None when `seg` starts with a line that may be a title: then it is laid
/// out as items usually are. Left to the next segment, that body was taken
/// for the next item's title, and its links for that item's; looked for
/// only after the last body paragraph, the next item's title was not found
/// when that item had a body of its own, and the body became an item of
/// its own.
fn body_after_citation(seg: &[Block], dated: Option<Date>) -> usize {
    let Some(anchor) = seg.iter().position(is_anchor) else {
        return seg.len();
    };
    let lead = &seg[..anchor];
    let Some(first) = lead.first() else {
        return 0;
    };
    if is_title_like(first) {
        return 0;
    }
    // The end of the next item's title lines: its own body starts there.
    let heads_end = lead.iter().rposition(|b| !is_body(b)).map_or(0, |p| p + 1);
    let heads_start = lead[..heads_end]
        .iter()
        .rposition(is_body)
        .map_or(0, |p| p + 1);
    let heads = &lead[heads_start..heads_end];
    if heads_start == 0 && !is_body(first) {
        // Short lines only (a paragraph holding a link, a question, a
        // list) before the next title: theirs only when a title run of
        // its own follows them, or a title holding a link would be taken
        // for the body.
        return title_run(heads, dated).filter(|&p| p > 0).unwrap_or(0);
    }
    // The next item's title is in the last run of short lines between body
    // paragraphs that holds one: its own body may end in short lines too (a
    // list, "More to come."), and those hold no title.
    let mut end = heads_end;
    while end > 0 {
        let start = lead[..end].iter().rposition(is_body).map_or(0, |p| p + 1);
        let run = &lead[start..end];
        if start == 0 {
            // Short lines the segment starts with, as above.
            return title_run(run, dated)
                .filter(|&p| p > 0)
                .map_or(lead.len(), |p| start + p);
        }
        if let Some(p) = run.iter().position(is_title_like) {
            return start + p;
        }
        end = lead[..start]
            .iter()
            .rposition(|b| !is_body(b))
            .map_or(0, |p| p + 1);
    }
    lead.len()
}

/// Where the title of an item starts in `run`, short lines before its
/// body: after any link or list entry, which end the item before, a title
/// line alone or with its outlet and date lines.
fn title_run(run: &[Block], dated: Option<Date>) -> Option<usize> {
    let from = run
        .iter()
        .rposition(|b| !is_title_like(b))
        .map_or(0, |p| p + 1);
    let titled: Vec<&Block> = run[from..].iter().collect();
    let (_, used) = meta_lines(&titled, true, dated);
    (titled.len() == used + 1 && split_outlet_date(&titled[0].text, dated).1.is_none())
        .then_some(from)
}

/// The URLs the last item cites, grown as it grows: one item given body
/// after body, each with a Source line of its own, asked its whole list
/// for each of them, quadratic in its citations (5,000 such paragraphs:
/// 42 s in a debug build, against 1.4 s).
#[derive(Default)]
struct KnownUrls {
    /// Which item, by its place, and how many of its citations are in `urls`.
    item: usize,
    counted: usize,
    urls: HashSet<Option<String>>,
}

impl KnownUrls {
    /// Adds to the last of `items` the citations of body found after its
    /// citation line, but for URLs it cites already.
    fn add_body_citations(&mut self, items: &mut [Item], cited: Vec<CitedUrl>) {
        let Some(last) = items.len().checked_sub(1) else {
            return;
        };
        if self.item != last {
            // Another item now: each is counted from its start once, since
            // an item never becomes the last again once another follows it.
            *self = KnownUrls {
                item: last,
                ..KnownUrls::default()
            };
        }
        let item = &mut items[last];
        self.urls
            .extend(item.citations[self.counted..].iter().map(|c| c.url.clone()));
        self.counted = item.citations.len();
        item.citations
            .extend(cited.into_iter().filter(|c| !self.urls.contains(&c.url)));
    }
}

/// Where items that end with no citation line start inside `lead` (the
/// blocks before a segment's citation line): a title line, perhaps with its
/// outlet and date lines, between two body paragraphs. An item whose editor
/// gave no `Source:` line otherwise lent its title to the next item's
/// citation.
fn untitled_starts(lead: &[Block], dated: Option<Date>) -> Vec<usize> {
    let mut starts = Vec::new();
    let Some(first_body) = lead.iter().position(is_body) else {
        return starts;
    };
    let mut i = first_body + 1;
    while i < lead.len() {
        if is_body(&lead[i]) {
            i += 1;
            continue;
        }
        let run_start = i;
        while i < lead.len() && !is_body(&lead[i]) {
            i += 1;
        }
        if i == lead.len() {
            break;
        }
        if let Some(from) = title_run(&lead[run_start..i], dated) {
            starts.push(run_start + from);
        }
    }
    starts
}

/// A line that may be an item's title: short, not ending a sentence or
/// opening a list, and with no link but the headline's own permalink. A
/// sub-heading can pass for one; a line of a list cannot.
fn is_title_like(b: &Block) -> bool {
    let t = b.text.trim();
    !t.is_empty()
        && !is_body(b)
        && !is_url_line(b)
        && !is_anchor(b)
        && !t.ends_with(['.', '。', ':', '：', ',', '，', ';', '；'])
        && !t.starts_with(['-', '*', '•', '·', '–', '—', '>', '+'])
        && (b.links.is_empty() || is_linked_headline(b))
}

/// One link whose words are the whole line.
fn is_linked_headline(b: &Block) -> bool {
    b.links.len() == 1
        && b.links[0]
            .text
            .as_deref()
            .is_some_and(|t| !t.trim().is_empty() && t.trim() == b.text.trim())
}

/// The item made of `seg`: its title, outlet and date lines, body and
/// citation lines; `None` when it cites nothing.
fn titled_item(seg: &[Block], dated: Option<Date>) -> Option<Item> {
    let first_anchor = seg.iter().position(is_anchor).unwrap_or(seg.len());
    let lead = &seg[..first_anchor];
    let first_body = lead.iter().position(is_body).unwrap_or(lead.len());
    let shorts: Vec<&Block> = lead[..first_body]
        .iter()
        .filter(|b| !is_url_line(b) && !b.text.trim().is_empty() && !is_update_note(&b.text, dated))
        .collect();
    let (meta, used) = meta_lines(&shorts, true, dated);
    // A short paragraph (one with no full stop, one ending in ":" or
    // holding a link) is no title when a title-like line comes before it:
    // taken as the title, it hid the item's title, and its links were dropped.
    let heads = &shorts[..shorts.len().saturating_sub(used)];
    let title_pos = heads
        .iter()
        .rposition(|b| is_title_like(b))
        .or(heads.len().checked_sub(1));
    let (title, body_from) = match title_pos {
        Some(p) => {
            let block = shorts[p];
            let at = lead
                .iter()
                .position(|b| std::ptr::eq(b, block))
                .unwrap_or(0);
            (block.text.trim().to_string(), at + 1)
        }
        None => (
            lead.first()
                .or(seg.first())
                .map(|b| b.text.trim().to_string())
                .unwrap_or_default(),
            0,
        ),
    };
    let citations = citations_in(&seg[body_from..], &meta, dated);
    (!citations.is_empty()).then(|| Item {
        title: clip(&title, MAX_TITLE_CHARS),
        citations,
    })
}

/// The citations a `Source:` line at `blocks[i]` gives, and where the
/// blocks it takes end: the URL lines under it, and each further "Outlet,
/// date" line with its URLs (`Sources: Xinhua, …⏎URL⏎Global Times, …⏎URL`),
/// whose citation was lost when the list stopped at its first source.
fn source_citations(blocks: &[Block], i: usize, dated: Option<Date>) -> (Vec<CitedUrl>, usize) {
    let mut out = Vec::new();
    let Some(c) = SOURCE_LINE.captures(&blocks[i].text) else {
        return (out, i + 1);
    };
    let mut said = c.get(1).map_or("", |m| m.as_str());
    let mut links = blocks[i].links.as_slice();
    let mut words = Words::Citation;
    let mut j = i + 1;
    loop {
        let (sources, mut urls) = read_source(said, links, words, dated);
        // URL lines under a line that has its URL are more of its URLs (a
        // translation, a mirror): they were lost, or cited as an item of their
        // own. A line that is one named link is the URL only where there is
        // none yet: after one, it is the next item's headline linked to its
        // permalink, which was cited as this item's source.
        //
        // An update note ("(Updated December 28, 2020)") under the Source
        // line or its URLs is the source's, and no citation: read as
        // "Outlet, date", it took the URL under it from the source.
        loop {
            while blocks
                .get(j)
                .is_some_and(|b| is_update_note(&b.text, dated))
            {
                j += 1;
            }
            let Some(line) = blocks
                .get(j)
                .filter(|b| is_url_line(b) || (urls.is_empty() && is_link_only(b)))
            else {
                break;
            };
            j += 1;
            urls.extend(urls_of_line(line));
            if line.links.first().is_none_or(|l| l.text.is_none())
                && let Some(url) = urls.last_mut()
            {
                while let Some(tail) = blocks.get(j).and_then(|b| url_tail(url, b)) {
                    url.push_str(tail);
                    j += 1;
                }
            }
        }
        out.extend(pair(sources, urls));
        match blocks.get(j) {
            Some(next) if is_further_source(next, blocks.get(j + 1), dated) => {
                said = &next.text;
                links = &next.links;
                words = Words::MaybeTitle;
                j += 1;
            }
            _ => return (out, j),
        }
    }
}

/// The citations of a source's outlets and its URLs. Several outlets
/// listed on one line (`Sources: Xinhua, …; Global Times, …`) with as many
/// URLs are paired in order, the way they are written; with a different
/// count, which URL is whose cannot be told, so each URL is cited by them
/// all (their names joined, their date when they share one). Without any
/// URL, each outlet is a citation with none.
fn pair(sources: Vec<OutletDate>, urls: Vec<String>) -> Vec<CitedUrl> {
    let cited = |od: &OutletDate, url| CitedUrl {
        origin: Origin::SourceLine,
        outlet: od.outlet.clone(),
        cited_date: od.date.clone(),
        url,
        context: None,
        unread_date: od.unread.clone(),
        ambiguous_date: od.ambiguous,
    };
    if urls.is_empty() {
        return sources.iter().map(|od| cited(od, None)).collect();
    }
    if sources.len() == urls.len() {
        return sources
            .iter()
            .zip(urls)
            .map(|(od, u)| cited(od, Some(u)))
            .collect();
    }
    let all = match &sources[..] {
        [one] => one.clone(),
        many => OutletDate {
            outlet: Some(
                many.iter()
                    .filter_map(|od| od.outlet.as_deref())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            date: many[0]
                .date
                .clone()
                .filter(|d| many.iter().all(|od| od.date.as_ref() == Some(d))),
            unread: None,
            ambiguous: false,
        },
    };
    urls.into_iter().map(|u| cited(&all, Some(u))).collect()
}

/// Separators between URLs written on one line.
static URL_SEPARATOR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\s*[;；]\s*|\s+and\s+|\s+").expect("pattern compiles"));

/// The URLs a URL line gives. Several on one line (`URL URL`, `URL; URL`,
/// `URL and URL`) are each a URL: taken as one, all but the first were
/// lost in a URL that cannot be fetched. The line is split only when every
/// piece is a URL, so a URL with a space inside (`…/a b.htm`) is still
/// taken whole, and shows as invalid.
fn urls_of_line(line: &Block) -> Vec<String> {
    let text = url_of_line(&line.text).unwrap_or(line.text.trim());
    let pieces: Vec<&str> = URL_SEPARATOR
        .split(text)
        .filter(|p| !p.is_empty())
        .collect();
    let several = (pieces.len() > 1)
        .then(|| {
            pieces
                .iter()
                .map(|p| url_of_line(p))
                .collect::<Option<Vec<_>>>()
        })
        .flatten();
    let linked = line.links.first().is_some_and(|l| l.text.is_some());
    match several {
        Some(urls) if !linked => urls.into_iter().map(str::to_string).collect(),
        // Anchors showing their URLs: their targets, one each.
        Some(urls) if line.links.len() == urls.len() => {
            line.links.iter().map(|l| l.href.clone()).collect()
        }
        _ if linked => vec![line.links[0].href.clone()],
        _ => vec![text.to_string()],
    }
}

/// File endings that mark a line as the end of a URL's path.
const PAGE_ENDINGS: &[&str] = &[
    ".htm", ".html", ".shtml", ".php", ".asp", ".aspx", ".jsp", ".cms", ".pdf",
];

/// The rest of `url` when a plain-text export wrapped it onto the line
/// `next` (`…/2020-12/26/` then `c_1126910870.htm`): left apart, the
/// citation was cut short and later reported dead.
///
/// Only a line that cannot be read as anything else is taken, since a title
/// glued onto a URL would be worse than a URL cut short: one word of URL
/// characters, not a URL or a Source line, that reads as a path or a query
/// (`/`, `?`, `=`, `_` beside a digit or `.`, a page's file ending); or a
/// word in lower case when `url` ends where a URL is unfinished (`-`, `_`,
/// `=`, `&`, `?`), or after a `/` when it holds a digit, `-` or `.` too,
/// since a URL ending in `/` is usually whole. Titles and sentences have
/// spaces or capitals: "Summary" or "Q&A" under a URL stays a line of its own.
fn url_tail<'a>(url: &str, next: &'a Block) -> Option<&'a str> {
    let t = next.text.trim();
    if t.is_empty()
        || url.contains(char::is_whitespace)
        || !t.chars().all(is_url_char)
        || !next.links.is_empty()
        || is_url_line(next)
        || is_source_line(next)
    {
        return None;
    }
    let has = |f: fn(char) -> bool| t.contains(f);
    let lower = t.to_ascii_lowercase();
    let path_like = t.contains(['/', '?', '='])
        || (t.contains('_') && has(|c| c.is_ascii_digit() || c == '.'))
        || PAGE_ENDINGS
            .iter()
            .any(|e| lower.ends_with(e) || lower.contains(&format!("{e}?")));
    let lower_word = t.is_ascii() && !has(|c| c.is_ascii_uppercase());
    let unfinished = lower_word
        && (url.ends_with(['-', '_', '=', '&', '?'])
            || (url.ends_with('/') && has(|c| c.is_ascii_digit() || c == '-' || c == '.')));
    (path_like || unfinished).then_some(t)
}

/// A line after a source's URLs that names another outlet and date, with
/// its URL on it or on the next line.
fn is_further_source(b: &Block, next: Option<&Block>, dated: Option<Date>) -> bool {
    if is_source_line(b) || is_body(b) || b.text.chars().count() > 120 {
        return false;
    }
    let (sources, urls) = read_source(&b.text, &b.links, Words::MaybeTitle, dated);
    sources
        .iter()
        .all(|od| od.outlet.as_ref().is_some_and(|o| o.chars().count() <= 80) && od.date.is_some())
        && (!urls.is_empty() || next.is_some_and(is_url_line))
}

/// The outlets and dates a source's words give (one, or each of a list),
/// and the URLs linked from them.
fn read_source(
    said: &str,
    links: &[Link],
    words: Words,
    dated: Option<Date>,
) -> (Vec<OutletDate>, Vec<String>) {
    let urls: Vec<String> = links.iter().map(|l| l.href.clone()).collect();
    let mut rest = without_shown_urls(said, links);
    if let Some(listed) = listed_sources(&rest, words, dated) {
        return (listed, urls);
    }
    let read = read_words(&without_husks(&rest), words, dated);
    if read.date.is_some() || read.unread.is_some() {
        return (vec![read], urls);
    }
    // A link word after the date (`2020 [link](URL)`, `2020 (<a>link</a>)`)
    // is no part of the outlet: read again without it. Links come in
    // reading order, so each is looked for before the one after it: from
    // the end of the whole line each time, a line of many links was read
    // once per link.
    let mut end = rest.len();
    for t in links.iter().rev().filter_map(|l| l.text.as_deref()) {
        if t.trim().is_empty() || URL_LINE.is_match(t) {
            continue;
        }
        if let Some(at) = rest[..end].rfind(t) {
            rest.replace_range(at..at + t.len(), " ");
            end = at;
        }
    }
    let again = read_words(&without_husks(&rest), words, dated);
    (vec![if again.date.is_some() { again } else { read }], urls)
}

/// What may join sources listed on one line: `;`, `、`, a comma, "and", `&`.
static LIST_SEPARATOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\s*[;；、,，]\s*|\s+(?:and|&)\s+|\s*&\s*").expect("pattern compiles")
});

/// The longest part of a list read: an outlet and a date are far shorter,
/// and reading longer parts again at every separator was quadratic in a
/// long line.
const MAX_LISTED_PART: usize = 400;

/// Several sources listed on one line, `Xinhua, December 26, 2020; Global
/// Times, December 27, 2020` (or joined by `、`, a comma, "and" or `&`):
/// read as one, the last date was every URL's and the rest of the list its
/// outlet. The line is cut only after a part that names an outlet and ends
/// with a date, so "Ministry of Commerce and Industry, …" keeps its name,
/// and it is a list only when every part names an outlet and a date;
/// `Xinhua; Global Times, December 27, 2020` is one source as before.
fn listed_sources(rest: &str, words: Words, dated: Option<Date>) -> Option<Vec<OutletDate>> {
    let dated = |part: &str| {
        let od = read_words(&without_husks(part), words, dated);
        (od.outlet.is_some() && (od.date.is_some() || od.unread.is_some())).then_some(od)
    };
    let mut listed = Vec::new();
    let mut from = 0;
    for sep in LIST_SEPARATOR.find_iter(rest) {
        if sep.start() < from {
            continue;
        }
        let part = &rest[from..sep.start()];
        if part.len() > MAX_LISTED_PART {
            return None;
        }
        if part.trim().is_empty() {
            from = sep.end();
        } else if let Some(od) = dated(part) {
            listed.push(od);
            from = sep.end();
        }
    }
    if listed.is_empty() {
        return None;
    }
    let last = &rest[from..];
    if !last.trim().is_empty() {
        listed.push(dated(last).filter(|_| last.len() <= MAX_LISTED_PART)?);
    }
    (listed.len() >= 2).then_some(listed)
}

/// `said` with every URL its links show in it (a bare URL, an anchor whose
/// words are its URL) blanked out. Replacing them one at a time read the
/// whole line once per link (half a minute for a line of 100,000 URLs), and
/// cut the start of `…/10` out of the line as `…/1`, leaving its tail in
/// the outlet; so the URLs in the words are found in one pass, and only
/// the few a link finder does not take for URLs (`www.…` or `javascript:…`
/// as an anchor's words) are looked for, each after the one before it.
fn without_shown_urls(said: &str, links: &[Link]) -> String {
    fn shown(l: &Link) -> Option<&str> {
        match l.text.as_deref() {
            Some(t) => URL_LINE.is_match(t).then_some(t),
            None => Some(l.href.as_str()),
        }
    }
    if links
        .iter()
        .all(|l| shown(l).is_none() && !URL_LINE.is_match(&l.href))
    {
        return said.to_string();
    }
    let known: HashSet<&str> = links
        .iter()
        .flat_map(|l| [Some(l.href.as_str()), shown(l)])
        .flatten()
        .collect();
    let mut out = String::with_capacity(said.len());
    let mut blanked: HashSet<&str> = HashSet::new();
    let mut last = 0;
    for span in url_spans(said) {
        let url = &said[span.clone()];
        if known.contains(url) {
            out.push_str(&said[last..span.start]);
            out.push(' ');
            last = span.end;
            blanked.insert(url);
        }
    }
    out.push_str(&said[last..]);
    let mut from = 0;
    for s in links.iter().filter_map(shown) {
        if blanked.contains(s) {
            continue;
        }
        if let Some(at) = out[from..].find(s).map(|at| from + at) {
            out.replace_range(at..at + s.len(), " ");
            from = at + 1;
        }
    }
    out
}

static EMPTY_BRACKETS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\(\s*\)|\[\s*\]|<\s*>|（\s*）|【\s*】").expect("pattern compiles")
});

/// A Source line's words with what a link taken out of it left behind: its
/// empty brackets and the punctuation before it (`2020, URL`, `2020 (URL)`,
/// `2020: URL.`). Left in, they kept the date from the line's end, so it was
/// read as part of the outlet.
fn without_husks(rest: &str) -> String {
    let mut s = EMPTY_BRACKETS.replace_all(rest, " ").into_owned();
    loop {
        let t = s.trim_end();
        let cut = if t.ends_with([',', '，', ';', '；', ':', '：', '|', '–', '—', '-']) {
            t.char_indices().last().map(|(i, _)| i)
        } else if let Some(before) = t.strip_suffix(['.', '。']) {
            // A full stop of its own ends the sentence; after a word, it
            // may be the date's or an outlet's ("U.S.").
            (before.is_empty() || before.ends_with(char::is_whitespace)).then_some(before.len())
        } else {
            None
        };
        match cut {
            Some(at) => s.truncate(at),
            None => {
                s.truncate(t.len());
                return s;
            }
        }
    }
}

/// The outlet and date an item gives on its own line or lines right before
/// its read link, after its body: `Xinhua, December 27, 2020`, or `Xinhua`
/// then a date. It names who published what the link cites, and so wins
/// over the lines under the title, which may be a dateline (`Beijing,
/// December 26, 2020`, where the story was written): read from those, such
/// an item cited "Beijing". An outlet must be named, and the line be
/// exactly an outlet and a date (see [`read_outlet_date_line`]), so a last
/// short line of the body is not taken for one.
fn closing_meta(before: &[Block], dated: Option<Date>) -> Option<OutletDate> {
    let mut lines: Vec<&Block> = before
        .iter()
        .rev()
        .filter(|b| !is_update_note(&b.text, dated))
        .take_while(|b| {
            b.links.is_empty()
                && !b.text.trim().is_empty()
                && !is_body(b)
                && !is_anchor(b)
                && !is_url_line(b)
        })
        .take(2)
        .collect();
    lines.reverse();
    let read = match lines[..] {
        [outlet, date]
            if is_date_line(&date.text, dated) && is_outlet_line(&outlet.text, dated) =>
        {
            OutletDate {
                outlet: Some(outlet.text.trim().to_string()),
                ..read_outlet_date(&date.text, dated)
            }
        }
        [.., last] => read_outlet_date_line(&last.text, dated)?,
        [] => return None,
    };
    read.outlet.is_some().then_some(read)
}

/// A line that may be an outlet's name alone, before a date line: short,
/// not a list entry, a sentence or a label.
fn is_outlet_line(text: &str, dated: Option<Date>) -> bool {
    let t = text.trim();
    !t.is_empty()
        && t.chars().count() <= 80
        && !t.contains([':', '：'])
        && !t.ends_with(['.', '。', ',', '，', ';', '；'])
        && !t.starts_with(['-', '*', '•', '·', '–', '—', '>', '+'])
        && !is_date_line(t, dated)
}

/// The citations in an item's blocks. `meta`'s outlet and date (or the
/// date it could not read) come from metadata lines and are given to
/// link-style citations, which carry none of their own.
fn citations_in(body: &[Block], meta: &OutletDate, dated: Option<Date>) -> Vec<CitedUrl> {
    let mut out: Vec<CitedUrl> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut seen_upto = 0;
    let mut i = 0;
    while i < body.len() {
        let b = &body[i];
        if is_source_line(b) {
            let (cited, next) = source_citations(body, i, dated);
            out.extend(cited);
            i = next;
            continue;
        }
        if is_read_link(b) {
            let l = &b.links[0];
            let closing = closing_meta(&body[..i], dated);
            let meta = closing.as_ref().unwrap_or(meta);
            out.push(CitedUrl {
                origin: Origin::ReadLink,
                outlet: meta.outlet.clone(),
                cited_date: meta.date.clone(),
                url: Some(l.href.clone()),
                context: l.text.clone(),
                unread_date: meta.unread.clone(),
                ambiguous_date: meta.ambiguous,
            });
            i += 1;
            continue;
        }
        for l in &b.links {
            let href = l.href.trim();
            let is_http = href
                .get(..7)
                .is_some_and(|p| p.eq_ignore_ascii_case("http://"))
                || href
                    .get(..8)
                    .is_some_and(|p| p.eq_ignore_ascii_case("https://"));
            if !is_http {
                continue;
            }
            // A set of the URLs so far, grown as `out` grows: asking `out` for
            // every link was quadratic in an item's links.
            seen.extend(out[seen_upto..].iter().filter_map(|c| c.url.clone()));
            seen_upto = out.len();
            if seen.contains(href) {
                continue;
            }
            let context = match l.text.as_deref() {
                Some(t) if !t.is_empty() && t != href => t,
                _ => b.text.as_str(),
            };
            out.push(CitedUrl {
                origin: Origin::Body,
                outlet: None,
                cited_date: None,
                url: Some(href.to_string()),
                context: Some(clip(context.trim(), MAX_CONTEXT_CHARS)),
                unread_date: None,
                ambiguous_date: false,
            });
        }
        i += 1;
    }
    // A body link that is also the item's cited source is that citation, not a second one.
    // A set: an item may cite as many URLs on its Source line as in its body.
    let cited: HashSet<Option<String>> = out
        .iter()
        .filter(|c| c.origin != Origin::Body)
        .map(|c| c.url.clone())
        .collect();
    out.retain(|c| c.origin != Origin::Body || !cited.contains(&c.url));
    out
}
