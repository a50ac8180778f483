//! Evidence that a 2xx answer is really "this is gone": an error or removal
//! notice served as success, a deep link redirected to the homepage or a
//! section front, or a page indistinguishable from what the same server says
//! for a URL that cannot exist.
//!
//! The probe comparison is the published method (Bar-Yossef et al., "Sic
//! transit gloria telae", 2004; Meneses et al., 2012): fetch a random sibling
//! of the cited URL; if it answers 2xx and the cited page is at least
//! [`PROBE_SIMILAR_AT_LEAST`] similar to it, or both land on the same final URL,
//! the cited page is gone, at about 0.99 precision. Phrases and homepage
//! redirects catch what a probe misses (sites whose unknown URLs really 404,
//! but whose deleted articles show a notice).
//!
//! Every function here is one piece of evidence; the check combines them and
//! the verdict rules confirm over several runs.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use url::Url;

use super::fingerprint::{
    FINGERPRINT_VERSION, Fingerprint, count_tokens, is_unspaced_script, similarity, stable_hash,
};
use super::lines::PARAGRAPH_WEIGHT;

/// A page at least this similar to the probe's page is the server's answer
/// for "no such page" (the literature's threshold for shingle similarity).
pub const PROBE_SIMILAR_AT_LEAST: f64 = 0.9;

/// A page however like the probe's is not the probe's when it has at least
/// this much text the probe's page lacks, in lines of paragraph length (two
/// paragraphs of twenty words, or one of thirty). A short story in a
/// template heavy with boilerplate is as like a site's catch-all page in that
/// template as the threshold asks, but its paragraphs are its own; a catch-all
/// page differs from the probe's by a stamp or a headline.
///
/// Only what the page adds counts, not what it lacks: a catch-all page's own
/// message ("sorry, we could not find that page…") is a paragraph every live
/// story lacks. So a catch-all page that echoes the address asked for in a
/// paragraph-length sentence, or rotates excerpts on every load, escapes the
/// probe (its phrases may still give it away, unless it reads as an article).
pub const OWN_TEXT_AT_LEAST: u64 = 2 * PARAGRAPH_WEIGHT as u64;

/// A text with at least this many words in long lines (see
/// [`ARTICLE_LINE_WORDS`]) reads as an article, and phrases in its body are
/// taken for quotation, not for a notice. A CJK character counts half a word.
pub const ARTICLE_WORDS: usize = 100;

/// Lines of at least this many words are paragraphs rather than menu entries,
/// buttons or notices.
pub const ARTICLE_LINE_WORDS: usize = 20;

/// A page shorter than this (in words, a CJK character counts half) is little
/// more than a notice, so even a generic phrase like "not found" in it counts.
pub const TINY_PAGE_WORDS: usize = 40;

/// A line of the page's text that repeats the title and is at least this
/// many words long (a CJK character counts half) is the story's headline,
/// not a site name that the title ends with.
const HEADLINE_WORDS: usize = 4;

/// Only the start of a long text that is not an article is searched for
/// phrases: a notice is short and comes first.
const NOTICE_SCAN_BYTES: usize = 64 << 10;

/// Phrases only error and removal notices use. Longer, more telling phrases
/// come first so that the one reported is the most specific.
const STRONG: &[&str] = &[
    "the requested url was not found on this server",
    "the resource you are looking for has been removed",
    "page you are looking for",
    "page you were looking for",
    "page you're looking for",
    "page you requested",
    "article you requested",
    "story you requested",
    "page you visited",
    "content you are trying to view",
    "page cannot be found",
    "page could not be found",
    "page can't be found",
    "page is no longer available",
    "article is no longer available",
    "story is no longer available",
    "content is no longer available",
    "this content is unavailable",
    "this article is unavailable",
    "this page is unavailable",
    "this article has expired",
    "this story has expired",
    "this article has been removed",
    "this story has been removed",
    "this content has been removed",
    "page has been removed",
    "page no longer exists",
    "page does not exist",
    "page doesn't exist",
    "this page isn't available",
    "we can't find that page",
    "we couldn't find that page",
    "nothing was found at this location",
    "page not found",
    "article not found",
    "story not found",
    "content not found",
    "file not found",
    "404 not found",
    "error 404",
    "404 error",
    "http 404",
    "410 gone",
    "您访问的页面不存在",
    "您所访问的页面不存在",
    "您要访问的页面不存在",
    "您要查看的页面不存在",
    "指定的主题不存在",
    "该内容已被删除",
    "该信息已被删除",
    "该文章已被删除",
    "已被发布者删除",
    "此内容因违规无法查看",
    "页面已被删除",
    "頁面已被刪除",
    "网页已被删除",
    "網頁已被刪除",
    "内容已下线",
    "文章已下线",
    "稿件已下线",
    "页面已下线",
    "内容已下架",
    "文章已下架",
    "內容已下架",
    "找不到该页面",
    "找不到該頁面",
    "找不到您要的页面",
    "页面不存在",
    "頁面不存在",
    "网页不存在",
    "網頁不存在",
    "页面未找到",
    "頁面未找到",
    "页面没有找到",
    "页面找不到",
    "找不到页面",
    "找不到網頁",
    "找不到网页",
    "页面已删除",
    "网页已删除",
    "網頁已刪除",
    "页面已失效",
    "链接已失效",
    "文章已删除",
    "文章已刪除",
    "文章不存在",
    "稿件已删除",
    "该稿件已撤稿",
    "信息已删除",
    "稿件不存在",
    "新闻不存在",
    "内容已被删除",
    "內容已被刪除",
    "内容不存在",
    "信息不存在",
    "资源不存在",
    "404错误",
    "错误404",
    "ページが見つかりません",
    "お探しのページは見つかりませんでした",
];

/// Phrases that also occur in ordinary news ("the body was not found"): they
/// count in a title that is nothing but an error label, or on a tiny page.
const WEAK: &[&str] = &[
    "no longer available",
    "no longer exists",
    "has been removed",
    "has been deleted",
    "has expired",
    "does not exist",
    "doesn't exist",
    "could not be found",
    "cannot be found",
    "can't find",
    "cannot find",
    "can not find",
    "couldn't find",
    "could not find",
    "not found",
    "404",
    "已被删除",
    "已被刪除",
    "已删除",
    "已刪除",
    "不存在",
    "已失效",
    "已过期",
    "找不到",
    "出错了",
    "出错啦",
];

/// Phrases of the consent and subscription walls served instead of a page:
/// what is behind them is unseen, not gone.
const WALL: &[&str] = &[
    "subscribe to continue reading",
    "subscribe to read the full",
    "to continue reading, subscribe",
    "this article is for subscribers",
    "this content is for subscribers",
    "available to subscribers only",
    "log in to continue reading",
    "sign in to continue reading",
    "before you continue to",
    "we value your privacy",
    "accept all cookies to continue",
    "登录后查看全文",
    "登录后阅读全文",
    "订阅后阅读",
];

/// Words that may stand beside a phrase in a title that is only an error
/// label ("Oops! 404 - Page Not Found").
const FILLER: &[&str] = &[
    "error",
    "oops",
    "whoops",
    "sorry",
    "page",
    "http",
    "the",
    "file",
    "this",
    "status",
    "错误",
    "提示",
    "抱歉",
    "对不起",
    "對不起",
    "页面",
    "網頁",
    "网页",
    "頁面",
    "您",
    "访问的",
    "啦",
    "了",
];

/// Says why a page reads as a not-found or removal notice, naming the phrase
/// found; `None` for an ordinary page.
///
/// The title is the strongest witness. In the body, an error-only phrase
/// counts unless the page reads as an article, and a generic one ("not found",
/// "不存在") only on a tiny page, so a long article that mentions a 404 or a
/// deletion in passing is not taken for a notice.
pub fn error_page_phrase(title: Option<&str>, main_text: &str) -> Option<&'static str> {
    error_page_phrase_of(title, main_text, is_article_like(main_text))
}

/// [`error_page_phrase`] for a text already known to read as an article, or not.
pub fn error_page_phrase_of(
    title: Option<&str>,
    main_text: &str,
    article_like: bool,
) -> Option<&'static str> {
    let title = title.map(Normalised::new);
    // A notice sits near the top; a long list page need not be searched whole.
    let main_text = &main_text[..main_text.floor_char_boundary(NOTICE_SCAN_BYTES)];
    // The headline repeated above the article ("Missing MH370 plane not
    // found" as title and as <h1>) is the title speaking again, not a notice
    // in the body: the body is searched without it. Rarely needed, so only
    // once a phrase is known to be there.
    let echoes = |line: &str| {
        let line = Normalised::new(line);
        !line.compact.is_empty()
            && title
                .as_ref()
                .is_some_and(|t| t.compact.contains(&line.compact))
    };
    // A brief (its headline again, then a paragraph of its own) is too
    // short to read as an article but is a story all the same: its title
    // is a headline, and what follows its paragraph (related headlines,
    // comments) is not its notice, as "网友反映多个政府网站页面不存在 官方回应"
    // in a list under it was taken for. A story emptied but for its headline
    // says so before any paragraph. The lines before its paragraph, if any.
    let story_head = || {
        let mut headline = false;
        main_text.lines().position(|l| {
            let plain = !Normalised::new(l).any_phrase;
            if headline && plain && words(l) >= ARTICLE_LINE_WORDS * 2 {
                return true;
            }
            headline |= words(l) >= HEADLINE_WORDS * 2 && echoes(l);
            false
        })
    };
    if let Some(t) = &title {
        // A title that is nothing but a notice ("页面不存在 - 新华网") speaks
        // for any page. Anywhere else in the title a strong phrase is taken
        // at its word only above a page that does not read as an article: a
        // rumour rebuttal headed "官方：该信息不存在" above paragraphs of
        // reporting is an article, and was condemned on its first night.
        if let Some(p) = t.label_segment() {
            return Some(p);
        }
        if !article_like
            && let Some(p) = t.find(STRONG)
            && story_head().is_none()
        {
            return Some(p);
        }
    }
    if article_like {
        return None;
    }
    let text = Normalised::new(main_text);
    if !text.any_phrase {
        return None;
    }
    let searched: Vec<&str> = main_text
        .lines()
        .take(story_head().unwrap_or(usize::MAX))
        .collect();
    let without_echo = |lines: &mut dyn Iterator<Item = &str>| -> String {
        lines.filter(|l| !echoes(l)).collect::<Vec<_>>().join("\n")
    };
    let whole = without_echo(&mut main_text.lines());
    // Unless the echo is all there is: a notice whose <h1> repeats its title
    // ("Sorry, the story you requested could not be found") and offers a
    // search box says it there only.
    let (body, tiny) = if is_tiny(&whole) {
        (searched.join("\n"), is_tiny(main_text))
    } else {
        (without_echo(&mut searched.into_iter()), is_tiny(&whole))
    };
    let text = Normalised::new(&body);
    if let Some(p) = text.find(STRONG) {
        return Some(p);
    }
    let weak = text.find(WEAK)?;
    let title_agrees = title.as_ref().is_some_and(|t| t.find(WEAK).is_some());
    (tiny || title_agrees).then_some(weak)
}

/// A consent or subscription wall in place of the page: a text that does not
/// read as an article and says it is one (a cookie banner on an article is
/// no wall). The phrase found.
pub fn wall_phrase(
    title: Option<&str>,
    main_text: &str,
    article_like: bool,
) -> Option<&'static str> {
    if article_like {
        return None;
    }
    let main_text = &main_text[..main_text.floor_char_boundary(NOTICE_SCAN_BYTES)];
    let text = format!("{}\n{main_text}", title.unwrap_or_default());
    Normalised::new(&text).find(WALL)
}

/// Every phrase of [`STRONG`], [`WEAK`] and [`WALL`] in one automaton per haystack:
/// Latin phrases over the spaced text, the others over the compact one. A text
/// holding none of them, nearly every page, is settled in one pass instead of
/// a substring search per phrase (the searches were a tenth of a glance).
struct Phrases {
    latin: AhoCorasick,
    other: AhoCorasick,
}

static PHRASES: LazyLock<Phrases> = LazyLock::new(|| {
    let all = || STRONG.iter().chain(WEAK).chain(WALL).copied();
    let build = |phrases: Vec<&str>| {
        AhoCorasick::new(phrases).expect("a few dozen short phrases build an automaton")
    };
    Phrases {
        latin: build(all().filter(|p| p.is_ascii()).collect()),
        other: build(all().filter(|p| !p.is_ascii()).collect()),
    }
});

/// Text prepared for phrase search: lower case, full-width folded, curly
/// apostrophes straightened, whitespace collapsed; and a copy without any
/// whitespace for CJK phrases, which pages sometimes space out.
struct Normalised {
    spaced: String,
    compact: String,
    /// Some phrase occurs, at least as a substring: otherwise no search can
    /// find one.
    any_phrase: bool,
}

impl Normalised {
    fn new(s: &str) -> Normalised {
        let mut spaced = String::with_capacity(s.len());
        for word in s.split_whitespace() {
            if !spaced.is_empty() {
                spaced.push(' ');
            }
            for c in word.chars() {
                let c = match c {
                    '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                    '\u{2018}' | '\u{2019}' | '\u{02BC}' => '\'',
                    _ => c,
                };
                spaced.extend(c.to_lowercase());
            }
        }
        let compact: String = spaced.chars().filter(|c| *c != ' ').collect();
        let any_phrase = PHRASES.latin.is_match(&spaced) || PHRASES.other.is_match(&compact);
        Normalised {
            spaced,
            compact,
            any_phrase,
        }
    }

    /// The first phrase of `list` ([`STRONG`] or [`WEAK`], the lists the
    /// automaton knows) present, at word boundaries for Latin phrases.
    fn find(&self, list: &[&'static str]) -> Option<&'static str> {
        if !self.any_phrase {
            return None;
        }
        list.iter().copied().find(|p| {
            if p.is_ascii() {
                contains_word(&self.spaced, p)
            } else {
                self.compact.contains(p)
            }
        })
    }

    /// A phrase, when one of the title's segments (split at the separators
    /// that set a site name apart) holds nothing but error phrases and filler:
    /// "404 - Not Found | Example" yes, "Missing hiker not found" no. A colon
    /// is no such separator: "Iraq's weapons: not found" is a headline.
    fn label_segment(&self) -> Option<&'static str> {
        // A segment is part of the title: no phrase in the title, none in it.
        if !self.any_phrase {
            return None;
        }
        self.spaced
            .split(['|', '-', '–', '—', '_', '·', '«', '»'])
            .find_map(|segment| {
                let seg = Normalised::new(segment);
                let found = seg.find(STRONG).or_else(|| seg.find(WEAK))?;
                let mut rest = segment.to_string();
                for p in STRONG.iter().chain(WEAK).chain(FILLER) {
                    rest = remove_word(&rest, p);
                }
                let leftover = rest.chars().any(|c| c.is_alphanumeric());
                (!leftover).then_some(found)
            })
    }
}

/// `phrase` in `text` with no letter or digit glued to either end (CJK
/// characters may touch it: "页面404").
fn contains_word(text: &str, phrase: &str) -> bool {
    word_matches(text, phrase).next().is_some()
}

fn word_matches<'a>(text: &'a str, phrase: &'a str) -> impl Iterator<Item = usize> + 'a {
    text.match_indices(phrase).filter_map(move |(at, _)| {
        let before = text.get(..at).and_then(|s| s.chars().next_back());
        let after = text.get(at + phrase.len()..).and_then(|s| s.chars().next());
        let glued = |c: Option<char>, next: Option<char>| {
            c.is_some_and(|c| {
                (c.is_alphanumeric() && !is_unspaced_script(c))
                    // "1.404" and "404,5" are numbers, not a status code.
                    || (matches!(c, '.' | ',') && next.is_some_and(|n| n.is_ascii_digit()))
            })
        };
        let before_prev = text.get(..at).and_then(|s| s.chars().rev().nth(1));
        let after_next = text.get(at + phrase.len()..).and_then(|s| s.chars().nth(1));
        (!glued(before, before_prev) && !glued(after, after_next)).then_some(at)
    })
}

fn remove_word(text: &str, phrase: &str) -> String {
    if !phrase.is_ascii() {
        return text.replace(phrase, " ");
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for at in word_matches(text, phrase).collect::<Vec<_>>() {
        if at < last {
            continue;
        }
        out.push_str(text.get(last..at).unwrap_or_default());
        out.push(' ');
        last = at + phrase.len();
    }
    out.push_str(text.get(last..).unwrap_or_default());
    out
}

/// Next to no text: at most a notice's worth ([`TINY_PAGE_WORDS`]).
/// Stops counting once past it: an article's worth of text is not counted
/// through for every page a check reads.
pub fn is_tiny(text: &str) -> bool {
    let mut seen = 0;
    text.lines().all(|line| {
        seen += words(line);
        seen < TINY_PAGE_WORDS * 2
    })
}

/// Hardly a sentence: at most [`NEARLY_EMPTY_WORDS`] words.
pub fn is_nearly_empty(text: &str) -> bool {
    let mut seen = 0;
    text.lines().all(|line| {
        seen += words(line);
        seen <= NEARLY_EMPTY_WORDS * 2
    })
}

/// See [`is_nearly_empty`]: a "loading…" line, a title echoed, no more.
pub const NEARLY_EMPTY_WORDS: usize = 8;

/// Length in half-words: a word counts two, a CJK character one.
fn words(text: &str) -> usize {
    let (words, chars) = count_tokens(text);
    2 * words as usize + chars as usize
}

/// Enough paragraph-length lines to be an article rather than a notice
/// wrapped in menus and link lists.
pub fn is_article_like(text: &str) -> bool {
    // Stops as soon as it knows: on an article that is within the first
    // paragraphs, and every page a check reads passes through here.
    let mut in_paragraphs = 0;
    text.lines()
        .map(words)
        .filter(|w| *w >= ARTICLE_LINE_WORDS * 2)
        .any(|w| {
            in_paragraphs += w;
            in_paragraphs >= ARTICLE_WORDS * 2
        })
}

/// Index documents that stand for a site's or a section's front page.
const INDEX_FILES: &[&str] = &[
    "index",
    "index.html",
    "index.htm",
    "index.shtml",
    "index.php",
    "index.asp",
    "index.aspx",
    "index.jsp",
    "default.aspx",
    "default.asp",
    "default.htm",
    "default.html",
    "home",
    "home.html",
    "home.htm",
    "main.html",
    "main.htm",
];

/// Query keys that do not make a front page into a different page: trackers
/// and the markers some sites add when they send a dead link home.
const HARMLESS_QUERY_KEYS: &[&str] = &[
    "from", "ref", "source", "src", "spm", "err", "error", "404", "notfound", "reason",
];

/// A query key that names no page: a tracker, or where the reader came from.
pub fn is_harmless_query_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.starts_with("utm_") || HARMLESS_QUERY_KEYS.contains(&k.as_str())
}

/// The site's front page or a section front: `/`, `/index.html`, `/home`, a
/// single short word like `/news/` or `/world`, or such a word with an index
/// document (`/news/index.shtml`). Queries other than trackers make it
/// something else (`/index.php?id=7` is an article).
pub fn is_site_root_or_section(url: &Url) -> bool {
    if let Some(query) = url.query()
        && !query.is_empty()
        && !url.query_pairs().all(|(k, _)| is_harmless_query_key(&k))
    {
        return false;
    }
    let Some(segments) = url.path_segments() else {
        return false;
    };
    let segments: Vec<String> = segments
        .filter(|s| !s.is_empty())
        .map(|s| s.to_ascii_lowercase())
        .collect();
    let is_index = |s: &str| INDEX_FILES.contains(&s);
    match segments.as_slice() {
        [] => true,
        [one] => is_index(one) || is_section_word(one),
        [section, index] => is_section_word(section) && is_index(index),
        _ => false,
    }
}

/// The site's front page itself: `/` or an index document, no section.
pub fn is_front_page(url: &Url) -> bool {
    is_site_root_or_section(url) && front_path(url)
}

/// A path that is `/` or an index document at the top (queries aside).
fn front_path(url: &Url) -> bool {
    url.path_segments().is_none_or(|segments| {
        let segments: Vec<String> = segments
            .filter(|s| !s.is_empty())
            .map(|s| s.to_ascii_lowercase())
            .collect();
        match segments.as_slice() {
            [] => true,
            [one] => INDEX_FILES.contains(&one.as_str()),
            _ => false,
        }
    })
}

/// A one-segment path of two words joined (`/fire-update/`), which names an
/// article as often as a section (`/hong-kong/`): a section only when the
/// page there does not read as an article (see `analyze::sent_to_root`).
pub fn is_slug(url: &Url) -> bool {
    let segments: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    matches!(segments.as_slice(), [one] if one.contains(['-', '_']) && is_section_word(&one.to_ascii_lowercase()))
}

/// A section name: a short word or two, no digits (digits mean an id or a
/// date), no dot (a dot means a document).
fn is_section_word(s: &str) -> bool {
    let separators = s.bytes().filter(|b| matches!(b, b'-' | b'_')).count();
    (1..=20).contains(&s.len())
        && separators <= 1
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || matches!(b, b'-' | b'_'))
}

/// A deep link whose redirects ended on the front page or a section front of
/// the same site (with or without `www.`, over http or https): the article
/// is gone, whatever the status code says.
///
/// A link to a front page is never "deep", and a redirect to another deep URL
/// is a move, not a removal. Another site's front page is left to other
/// evidence (see [`deep_link_sent_to_any_root`]).
pub fn deep_link_sent_to_root(requested: &Url, final_url: &Url) -> bool {
    deep_link_sent_to_any_root(requested, final_url) && same_site(requested, final_url)
}

/// [`deep_link_sent_to_root`] on any host: for a link known to have been an
/// article, a domain that sends every old link to its new homepage.
pub fn deep_link_sent_to_any_root(requested: &Url, final_url: &Url) -> bool {
    let web = |u: &Url| matches!(u.scheme(), "http" | "https") && u.host_str().is_some();
    web(requested)
        && web(final_url)
        && !is_site_root_or_section(requested)
        && is_site_root_or_section(final_url)
}

/// Names of the pages sites keep for "no such page" (`/404.html`,
/// `/error/notfound.htm`), by the last path segment without its extension.
const ERROR_PAGE_NAMES: &[&str] = &[
    "404",
    "404error",
    "error404",
    "404page",
    "error",
    "notfound",
    "not-found",
    "not_found",
    "pagenotfound",
    "page-not-found",
    "nopage",
];

/// An address that names a site's error page: where a removed article's
/// way station sends its reader instead of the front page.
pub fn names_error_page(url: &Url) -> bool {
    url.path_segments()
        .and_then(|mut s| s.rfind(|s| !s.is_empty()))
        .and_then(|last| last.split('.').next())
        .is_some_and(|stem| ERROR_PAGE_NAMES.contains(&stem.to_ascii_lowercase().as_str()))
}

/// A short link: the front page's path with an id in its query
/// (`/?p=123`, `/index.php?id=7`), which a site sends on to the article.
pub fn is_short_link(url: &Url) -> bool {
    url.query().is_some_and(|q| !q.is_empty()) && front_path(url)
}

/// The same host, with or without `www.`, over http or https.
pub fn same_site(a: &Url, b: &Url) -> bool {
    let host = |u: &Url| {
        u.host_str()
            .map(crate::source_url::host_key)
            .map(|h| h.strip_prefix("www.").unwrap_or(&h).to_string())
    };
    let ports_agree = match (a.port(), b.port()) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    };
    host(a).is_some() && host(a) == host(b) && ports_agree
}

/// The site's front page: the cited URL's origin, path `/`.
pub fn front_page_url(cited: &Url) -> Url {
    let mut home = cited.clone();
    home.set_path("/");
    home.set_query(None);
    home.set_fragment(None);
    home
}

/// A sibling of the cited URL that cannot exist, to learn what this server
/// answers for a missing page: same directory, a random-looking last segment
/// derived from `token` (the caller's per-run randomness), same extension.
///
/// When the cited URL names its article by a query value holding digits
/// (`/show.php?id=1234`), those values are replaced instead, by digits, so the
/// probe reaches the same script and its not-found branch.
pub fn probe_url(cited: &Url, token: &str) -> Url {
    let mut probe = cited.clone();
    probe.set_fragment(None);
    let name = probe_name(token);

    let pairs: Vec<(String, String)> = cited
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if pairs
        .iter()
        .any(|(_, v)| v.bytes().any(|b| b.is_ascii_digit()))
    {
        let digits = format!(
            "{:019}",
            stable_hash(name.as_bytes()) % 10_u64.pow(18) + 10_u64.pow(18)
        );
        let mut q = probe.query_pairs_mut();
        q.clear();
        for (k, v) in &pairs {
            let v = if v.bytes().any(|b| b.is_ascii_digit()) {
                digits.as_str()
            } else {
                v.as_str()
            };
            q.append_pair(k, v);
        }
        drop(q);
        return probe;
    }

    probe.set_query(None);
    if probe.cannot_be_a_base() {
        return probe;
    }
    let path = cited.path();
    let (dir, last) = match path.trim_end_matches('/').rsplit_once('/') {
        Some((dir, last)) => (dir, last),
        None => ("", ""),
    };
    let trailing_slash = path.ends_with('/') && !last.is_empty();
    let ext = last
        .rsplit_once('.')
        .filter(|(stem, ext)| {
            !stem.is_empty()
                && (1..=6).contains(&ext.len())
                && ext.bytes().all(|b| b.is_ascii_alphanumeric())
        })
        .map(|(_, ext)| ext);
    let mut new_path = format!("{dir}/{name}");
    if let Some(ext) = ext {
        new_path.push('.');
        new_path.push_str(ext);
    } else if trailing_slash {
        new_path.push('/');
    }
    probe.set_path(&new_path);
    probe
}

/// At least 16 lower-case letters and digits from the token, padded with a
/// hash of it, so even a short or empty token gives an unguessable name.
fn probe_name(token: &str) -> String {
    let mut name: String = token
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .take(40)
        .collect();
    if name.len() < 16 {
        name.push_str(&format!("{:016x}", stable_hash(token.as_bytes())));
    }
    name
}

/// The cited page is what this server shows for a page that does not exist:
/// at least [`PROBE_SIMILAR_AT_LEAST`] similar to the probe's page, or landed
/// on the same final URL.
///
/// Only a deep link can be: a cited front page or section front is where a
/// host that sends missing pages home lands them, and is no less alive for it.
///
/// Pages without usable text (both empty, a PDF, an image) are not similar to
/// anything here: an empty match says nothing. Fingerprints of another
/// [`FINGERPRINT_VERSION`] are not compared either. Nor is a page with
/// `own_text` (the weight of its paragraph-length lines the probe's page
/// lacks, see [`super::lines::own_weight`]) of at least [`OWN_TEXT_AT_LEAST`].
pub fn looks_like_probe(
    cited: &Url,
    page: &Fingerprint,
    final_url: &Url,
    probe: &Fingerprint,
    probe_final_url: &Url,
    own_text: Option<u64>,
) -> bool {
    let without_fragment = |u: &Url| {
        let mut u = u.clone();
        u.set_fragment(None);
        u
    };
    if is_site_root_or_section(cited) {
        return false;
    }
    if without_fragment(final_url) == without_fragment(probe_final_url) {
        return true;
    }
    let comparable = page.version == FINGERPRINT_VERSION
        && probe.version == FINGERPRINT_VERSION
        && !page.is_empty()
        && !probe.is_empty();
    comparable
        && similarity(page, probe) >= PROBE_SIMILAR_AT_LEAST
        && own_text.is_none_or(|own| own < OWN_TEXT_AT_LEAST)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fingerprint::fingerprint;
    use crate::check::page::read_page;

    #[test]
    fn the_phrase_automaton_lets_every_phrase_through_and_settles_the_rest() {
        for list in [STRONG, WEAK] {
            for p in list {
                let text = Normalised::new(&format!("before {p} after"));
                assert!(text.any_phrase, "{p}");
                assert!(text.find(list).is_some(), "{p}");
            }
        }
        let plain = Normalised::new("Parliament passes the budget after a long debate");
        assert!(!plain.any_phrase);
        assert_eq!(plain.find(STRONG).or(plain.find(WEAK)), None);
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn the_front_page_is_the_origins_root() {
        for (cited, home) in [
            (
                "http://a.example/2020/12/26/c_1.htm?x=1#p2",
                "http://a.example/",
            ),
            (
                "https://www.a.example:8443/news/",
                "https://www.a.example:8443/",
            ),
            (
                "http://127.0.1.4:8080/show.php?id=5",
                "http://127.0.1.4:8080/",
            ),
        ] {
            assert_eq!(front_page_url(&url(cited)).as_str(), home);
        }
    }

    fn phrase_of_html(html: &str) -> Option<&'static str> {
        let p = read_page(html.as_bytes(), Some("text/html; charset=utf-8"));
        error_page_phrase(p.title.as_deref(), &p.main_text)
    }

    const NAV: &str = "<header><a href='/'>Example News</a></header><nav><ul>\
        <li><a href='/world/'>World</a></li><li><a href='/china/'>China</a></li>\
        <li><a href='/business/'>Business</a></li><li><a href='/opinion/'>Opinion</a></li></ul></nav>";
    const FOOTER: &str = "<footer><p>About us | Contact | Privacy policy | Terms of use</p>\
        <p>Copyright 2024 Example News Group. All rights reserved.</p></footer>";

    #[test]
    fn live_headlines_that_sound_like_notices_are_not_notices() {
        // Wire copy: short paragraphs, the headline repeated as the <h1>.
        let paras = "<p>Search teams said on Sunday the wreckage was still missing.</p>\
            <p>Officials will brief relatives on Monday.</p><p>The search area covers \
            120,000 square kilometres.</p><p>Ships from four countries take part.</p>";
        for (title, h1) in [
            (
                "Missing MH370 plane not found - Example News",
                "Missing MH370 plane not found",
            ),
            (
                "Iraq's weapons: not found | Example News",
                "Iraq's weapons: not found",
            ),
            (
                "外交部：所谓新疆“强迫劳动”根本不存在",
                "外交部：所谓新疆“强迫劳动”根本不存在",
            ),
        ] {
            let html = format!(
                "<html><head><title>{title}</title></head><body>{NAV}<main><h1>{h1}</h1>\
                 {paras}</main>{FOOTER}</body></html>"
            );
            assert_eq!(phrase_of_html(&html), None, "{title}");
        }
        // A notice whose only words are its title again, and a search box.
        let echo_only = "<html><head><title>Sorry, the story you requested could not be found\
            </title></head><body><main><h1>Sorry, the story you requested could not be found\
            </h1><p>Try our search.</p></main></body></html>";
        assert_eq!(phrase_of_html(echo_only), Some("story you requested"));
        // A notice still speaks through its body when the title agrees, its
        // <h1> echoing the title or not.
        for h1 in ["Sorry", "Sorry, this story could not be found"] {
            let notice = format!(
                "<html><head><title>Sorry, this story could not be found - Example News\
                 </title></head><body><main><h1>{h1}</h1><p>We could not find the story.</p>\
                 </main></body></html>"
            );
            let found = phrase_of_html(&notice);
            assert!(
                found.is_some_and(|p| p.starts_with("could not")),
                "{h1}: {found:?}"
            );
        }
        // A colon does not make a label of a headline, but a label stays one.
        assert_eq!(
            error_page_phrase(Some("Error: Not Found"), ""),
            Some("not found")
        );
    }

    /// Headlines holding a strong phrase above an article: live stories.
    #[test]
    fn an_article_headed_by_an_error_phrase_is_an_article() {
        let para = |i: usize| {
            format!(
                "<p>Paragraph {i} of the report gives the officials' account in full, with the \
                 dates, the places and the names of those who spoke to reporters on the record \
                 about what happened and what comes next.</p>"
            )
        };
        let zh = "<p>新华社记者从有关部门获悉，近日网络流传的所谓封城消息不实，当地交通、商业和生活秩序\
                  一切正常，有关部门提醒广大网民不信谣、不传谣，以官方发布的信息为准，共同维护良好的网络环境。</p>";
        for (title, body) in [
            (
                "网传某市将封城？官方：该信息不存在 - 新华网".to_string(),
                zh.repeat(4),
            ),
            (
                "Route 404 reopens after landslide: page not found in maps".to_string(),
                (0..5).map(para).collect::<String>(),
            ),
            (
                "Sorry, the page you requested does not exist: how censors scrub the web"
                    .to_string(),
                (0..5).map(para).collect::<String>(),
            ),
        ] {
            let html = format!(
                "<html><head><title>{title}</title></head><body>{NAV}<main><h1>{title}</h1>\
                 {body}</main>{FOOTER}</body></html>"
            );
            assert_eq!(phrase_of_html(&html), None, "{title}");
        }
        // The same headlines over a bare notice still condemn it, and a title
        // that is only a notice condemns even a long page under it.
        assert_eq!(
            error_page_phrase(Some("官方：该信息不存在"), "返回首页"),
            Some("信息不存在")
        );
        let long = (0..5).map(para).collect::<String>();
        let listing = format!(
            "<html><head><title>页面不存在 - 新华网</title></head><body>{NAV}<main>{long}</main>\
             {FOOTER}</body></html>"
        );
        assert!(phrase_of_html(&listing).is_some());
    }

    #[test]
    fn english_error_pages() {
        let cms = format!(
            "<html><head><title>Page Not Found | Example News</title></head><body>{NAV}\
             <main><h1>Sorry, we can’t find that page</h1><p>The page may have been moved or \
             deleted.</p><form action='/search'><input name=q><button>Search</button></form>\
             </main><aside><h3>Most read</h3><ul><li><a href='/1'>Markets rally</a></li></ul>\
             </aside>{FOOTER}</body></html>"
        );
        assert_eq!(phrase_of_html(&cms), Some("page not found"));

        let apache = "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\"><html><head>\
            <title>404 Not Found</title></head><body><h1>Not Found</h1><p>The requested URL was \
            not found on this server.</p></body></html>";
        assert_eq!(phrase_of_html(apache), Some("404 not found"));

        // The title is only the site name; the notice is in the body.
        let notice = format!(
            "<html><head><title>Example News</title></head><body>{NAV}<div class='content'>\
             <p>This article is no longer available.</p><p><a href='/'>Return to the \
             homepage</a></p></div>{FOOTER}</body></html>"
        );
        assert_eq!(
            phrase_of_html(&notice),
            Some("article is no longer available")
        );
        // A removal notice inside a long template (too long for a weak
        // phrase to count) and the Chinese ones seen on news sites.
        let links: String = (0..40)
            .map(|i| format!("<li><a href='/{i}'>Story number {i} of the day</a></li>"))
            .collect();
        for (said, phrase) in [
            (
                "This article has been removed at the request of the publisher.",
                "this article has been removed",
            ),
            ("信息已删除", "信息已删除"),
            ("该稿件已撤稿", "该稿件已撤稿"),
        ] {
            let page = format!(
                "<html><head><title>Example News</title></head><body>{NAV}<div class='content'>\
                 <p>{said}</p></div><ul>{links}</ul>{FOOTER}</body></html>"
            );
            assert_eq!(phrase_of_html(&page), Some(phrase), "{said}");
        }

        let oops = "<title>Oops! 404</title><body><div>Something went wrong.</div></body>";
        assert_eq!(phrase_of_html(oops), Some("404"));
    }

    /// Removal notices of news sites in a template of menus and hot-news
    /// lists (too long for a weak phrase to count): WeChat's, the "taken
    /// offline" of Chinese portals, traditional Chinese, and English ones that
    /// name the article rather than the page. Each was read as a live page.
    #[test]
    fn removal_notices_in_a_full_template_are_notices() {
        let hot: String = [
            "习近平主持召开中央全面深化改革委员会第十七次会议",
            "国务院常务会议部署进一步做好稳就业工作",
            "外交部发言人就美方涉港言论答记者问",
            "Central Economic Work Conference held in Beijing",
        ]
        .iter()
        .map(|h| format!("<li><a href='/2020/{}.htm'>{h}</a></li>", h.len()))
        .collect();
        for (title, said, phrase) in [
            ("新华网", "抱歉，您访问的页面已被删除", "页面已被删除"),
            (
                "提示信息-人民网",
                "很抱歉，您要访问的页面已被删除或不存在！",
                "页面已被删除",
            ),
            ("中国日报网", "该内容已下线", "内容已下线"),
            ("微信公众平台", "该内容已被发布者删除", "已被发布者删除"),
            ("聯合新聞網", "抱歉，該頁面已被刪除", "頁面已被刪除"),
            ("香港01", "此文章已下架", "文章已下架"),
            (
                "Reuters",
                "The article you requested has expired.",
                "article you requested",
            ),
            (
                "CGTN",
                "Sorry, the page you visited does not exist.",
                "page you visited",
            ),
            (
                "China Daily",
                "Sorry, this content is unavailable.",
                "this content is unavailable",
            ),
            (
                "CGTN",
                "The content you are trying to view cannot be found.",
                "content you are trying to view",
            ),
        ] {
            let page = format!(
                "<html><head><title>{title}</title></head><body><div class='topnav'>\
                 <a href='/'>首页</a> | <a href='/politics/'>时政</a> | <a href='/world/'>国际</a> | \
                 <a href='/fortune/'>财经</a></div><div class='main'><p>{said}</p>\
                 <p><a href='/'>返回首页 Back to homepage</a></p></div><div class='hot'><h3>热点新闻 \
                 Most read</h3><ul>{hot}</ul></div><div class='footer'>关于我们 | 联系我们 | \
                 Copyright © 2000-2020 All rights reserved.</div></body></html>"
            );
            assert_eq!(phrase_of_html(&page), Some(phrase), "{said}");
        }
    }

    /// A brief (its headline, one paragraph) is too short to read as an
    /// article, so a related headline under it that quotes a notice
    /// ("…页面不存在 官方回应") was taken for the page's own notice.
    #[test]
    fn a_related_headline_under_a_brief_is_not_its_notice() {
        let brief = |title: &str, h1: &str, para: &str, related: &[&str]| {
            let related: String = related
                .iter()
                .map(|h| format!("<li><a href='/2020/{}.htm'>{h}</a></li>", h.len()))
                .collect();
            format!(
                "<html><head><title>{title}</title></head><body><div class='topnav'>\
                 <a href='/'>新华网首页</a> | <a href='/politics/'>时政</a> | <a href='/world/'>国际</a>\
                 </div><div class='header'><h1>{h1}</h1><div class='info'>2020-12-26 18:05:12 \
                 来源：新华网</div></div><div id='detail'><p>{para}</p></div>\
                 <div class='related'><h3>相关新闻 Related</h3><ul>{related}</ul></div>\
                 <div class='footer'>关于我们 | 联系我们 | 网站地图</div></body></html>"
            )
        };
        let zh = "新华社北京12月26日电 十三届全国人大常委会第二十四次会议26日在北京人民大会堂闭幕。\
                  会议经表决，通过了新修订的国防法，自2021年1月1日起施行。";
        let en = "BEIJING, Dec. 26 (Xinhua) -- China's top legislature on Saturday adopted a \
                  revised National Defense Law, which will take effect on January 1, 2021.";
        let related = [
            "网友反映多个政府网站页面不存在 官方回应",
            "官方辟谣：网传“某地封城”信息不存在",
            "Users hit 'page not found' as ticket site crashes",
        ];
        for (title, h1, para) in [
            (
                "国防法修订草案提请审议-新华网",
                "国防法修订草案提请审议",
                zh,
            ),
            (
                "China adopts revised defense law - Xinhua",
                "China adopts revised defense law",
                en,
            ),
        ] {
            let page = brief(title, h1, para, &related);
            assert_eq!(phrase_of_html(&page), None, "{title}");
            // The same story's page emptied, its headline kept above the
            // notice, is a notice still.
            let removed = brief(title, h1, "该文章已被删除", &related);
            assert!(phrase_of_html(&removed).is_some(), "{title}");
        }
        // A brief rumour rebuttal headed by a strong phrase is a story too,
        // as the long one is (see
        // `an_article_headed_by_an_error_phrase_is_an_article`).
        let rebuttal = brief(
            "官方辟谣：网传某市封城信息不存在-新华网",
            "官方辟谣：网传某市封城信息不存在",
            "新华社记者从有关部门获悉，近日网络流传的所谓封城消息不实，当地交通、商业和生活秩序一切正常。",
            &related[..1],
        );
        assert_eq!(phrase_of_html(&rebuttal), None);
        let emptied = brief(
            "官方辟谣：网传某市封城信息不存在-新华网",
            "官方辟谣：网传某市封城信息不存在",
            "",
            &[],
        );
        assert_eq!(phrase_of_html(&emptied), Some("信息不存在"));
    }

    #[test]
    fn chinese_error_pages() {
        let xinhua = "<html><head><meta charset=utf-8><title>新华网</title></head><body>\
            <div class='nav'><a href='/'>首页</a> <a href='/politics/'>时政</a></div>\
            <div class='box'><p>对不起，您访问的页面不存在或已被删除！</p>\
            <p><span id='t'>5</span>秒后自动跳转到 <a href='/'>新华网首页</a></p></div>\
            <script>setTimeout(function(){location.href='/'},5000)</script></body></html>";
        assert_eq!(phrase_of_html(xinhua), Some("您访问的页面不存在"));

        let titled =
            "<html><head><title>页面不存在_人民网</title></head><body><p>404</p></body></html>";
        assert_eq!(phrase_of_html(titled), Some("页面不存在"));

        let deleted = "<html><head><title>提示信息</title></head><body><div id='msg'>\
            <p>抱歉，该内容已被删除</p><p>返回上一页</p></div></body></html>";
        assert_eq!(phrase_of_html(deleted), Some("该内容已被删除"));

        let discuz = "<html><head><title>提示信息 - 某某论坛</title></head><body><div class='alert_error'>\
            <p>抱歉，指定的主题不存在或已被删除或正在被审核</p><p><a href='javascript:history.back()'>\
            [点击这里返回上一页]</a></p></div></body></html>";
        assert_eq!(phrase_of_html(discuz), Some("指定的主题不存在"));

        let traditional = "<html><head><title>網頁不存在 - 自由時報</title></head><body>\
            <p>很抱歉，您要找的網頁不存在。</p></body></html>";
        assert_eq!(phrase_of_html(traditional), Some("網頁不存在"));

        let spaced = "<title>提示</title><body><p>页 面 不 存 在</p></body>";
        assert_eq!(phrase_of_html(spaced), Some("页面不存在"));

        let bare = "<html><head><title>404</title></head><body><p>信息不存在</p></body></html>";
        assert_eq!(phrase_of_html(bare), Some("404"));
    }

    #[test]
    fn articles_mentioning_errors_are_not_notices() {
        let article = "<html><head><title>Why the web forgets: link rot in news archives</title>\
            </head><body><article><h1>Why the web forgets</h1>\
            <p>Researchers who followed two million links cited in news stories found that a \
            quarter of them now lead to a 404 page, and many more point at pages that were \
            rewritten after publication. The page not found message has become a familiar \
            sight for anyone reading old coverage.</p>\
            <p>Some publishers remove stories deliberately. Others lose them when they move to \
            a new content management system and do not keep redirects, so that an article that \
            has been removed by accident looks exactly like one taken down on purpose, and \
            readers are left guessing.</p>\
            <p>Archivists say the answer is to capture every cited page when it is cited, so \
            that the record does not depend on a publisher's server. Libraries and courts have \
            adopted the practice, and several newsrooms are now testing it for their own \
            links.</p></article></body></html>";
        assert_eq!(phrase_of_html(article), None);

        let zh_article = "<html><head><title>网络内容为何消失</title></head><body><article>\
            <p>记者调查发现，许多十年前的新闻链接如今打开后显示“页面不存在”，部分网站在改版时没有保留原有地址，导致大量报道无法访问。专家表示，这种现象被称为链接失效，在学术引用和法律文书中同样普遍存在。</p>\
            <p>一些平台上的文章因违反规定被删除，页面提示“该内容已被删除”。研究人员建议，引用网络资料时应同时保存网页快照，以便日后核对原文内容。图书馆和档案机构也在探索长期保存网页的办法。</p>\
            <p>业内人士指出，网站运营方应当在调整地址时设置跳转，并对已删除内容给出明确说明，而不是简单地跳转到首页。这样既方便读者，也有利于维护引用的可靠性。</p>\
            </article></body></html>";
        assert_eq!(phrase_of_html(zh_article), None);

        let headline = "<html><head><title>Missing hiker not found after three-day search</title>\
            </head><body><p>Rescuers said on Sunday that the search for a hiker missing in the \
            mountains since Thursday would continue, with two helicopters and a team of \
            volunteers combing the area around the lake.</p></body></html>";
        assert_eq!(phrase_of_html(headline), None);

        assert_eq!(
            error_page_phrase(Some("Shares up 1.404% on the day"), "Markets."),
            None
        );
        assert_eq!(error_page_phrase(None, ""), None);
    }

    #[test]
    fn roots_and_sections() {
        for u in [
            "http://www.xinhuanet.com/",
            "http://www.xinhuanet.com",
            "https://example.com/index.html",
            "https://example.com/INDEX.HTM",
            "https://example.com/index.php",
            "https://example.com/default.aspx",
            "https://example.com/home",
            "https://example.com/news/",
            "https://example.com/world",
            "https://example.com/hong-kong/",
            "https://example.com/politics/index.shtml",
            "https://example.com/?utm_source=x&from=404",
        ] {
            assert!(is_site_root_or_section(&url(u)), "{u}");
        }
        for u in [
            "http://www.xinhuanet.com/2020-12/26/c_1126910999.htm",
            "https://example.com/index.php?id=7",
            "https://example.com/news/?page=2",
            "https://example.com/news/2020/story",
            "https://example.com/covid-vaccine-rollout",
            "https://example.com/12345",
            "https://example.com/article.html",
            "mailto:someone@example.com",
        ] {
            assert!(!is_site_root_or_section(&url(u)), "{u}");
        }
    }

    #[test]
    fn deep_links_sent_home() {
        let deep = url("http://www.xinhuanet.com/2020-12/26/c_1126910999.htm");
        for home in [
            "http://www.xinhuanet.com/",
            "https://xinhuanet.com/",
            "https://www.xinhuanet.com/index.htm",
            "https://www.xinhuanet.com/politics/",
        ] {
            assert!(deep_link_sent_to_root(&deep, &url(home)), "{home}");
        }
        let moved = url("http://www.xinhuanet.com/politics/2020-12/26/c_1126910999.htm");
        assert!(
            !deep_link_sent_to_root(&deep, &moved),
            "a move is not a removal"
        );
        let root = url("http://www.xinhuanet.com/");
        assert!(
            !deep_link_sent_to_root(&root, &root),
            "root to root is not a deep link"
        );
        assert!(!deep_link_sent_to_root(
            &url("http://example.com/news/"),
            &root
        ));
        // Another site's front page: a short link to a homepage is a fine
        // citation; for a link known to be an article, see `sent_home`.
        assert!(!deep_link_sent_to_root(&deep, &url("http://www.news.cn/")));
        assert!(deep_link_sent_to_any_root(
            &deep,
            &url("http://www.news.cn/")
        ));
        assert!(!deep_link_sent_to_root(
            &url("http://example.com:8080/a/b.html"),
            &url("http://example.com:9090/")
        ));
        assert!(!deep_link_sent_to_root(
            &deep,
            &url("http://english.news.cn/20201226/c_1126910999.htm")
        ));
        assert!(!deep_link_sent_to_root(&deep, &url("ftp://www.news.cn/")));
    }

    #[test]
    fn probes_are_siblings_that_cannot_exist() {
        let cited = url("http://www.xinhuanet.com/politics/2020-12/26/c_1126910999.htm#top");
        let p = probe_url(&cited, "Q7x-k2M9zT4w_pL8vB3n");
        assert_eq!(
            p.as_str(),
            "http://www.xinhuanet.com/politics/2020-12/26/q7xk2m9zt4wpl8vb3n.htm"
        );
        let p = probe_url(
            &url("https://example.com/news/story-name/"),
            "abcdefghijklmnop",
        );
        assert_eq!(p.as_str(), "https://example.com/news/abcdefghijklmnop/");
        let p = probe_url(&url("https://example.com/a/b"), "x");
        assert!(p.path().starts_with("/a/x"), "{p}");
        assert!(
            p.path().len() >= "/a/".len() + 16,
            "short tokens are padded: {p}"
        );
        assert_eq!(
            p,
            probe_url(&url("https://example.com/a/b"), "x"),
            "deterministic"
        );
        assert_ne!(p, probe_url(&url("https://example.com/a/b"), "y"));
        let p = probe_url(&url("https://example.com/"), "abcdefghijklmnop");
        assert_eq!(p.as_str(), "https://example.com/abcdefghijklmnop");

        let script = url("http://www.gov.cn/show.php?id=1234&lang=zh&utm_source=x");
        let p = probe_url(&script, "abcdefghijklmnop");
        assert_eq!(p.path(), "/show.php");
        let pairs: Vec<(String, String)> =
            p.query_pairs().map(|(k, v)| (k.into(), v.into())).collect();
        assert_eq!(pairs[0].0, "id");
        assert_eq!(pairs[0].1.len(), 19);
        assert!(pairs[0].1.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(pairs[1], ("lang".to_string(), "zh".to_string()));
    }

    #[test]
    fn pages_like_the_probe() {
        let error_page = |path: &str| {
            format!(
                "Page not found\n\nSorry, the page {path} does not exist on Example News. \
                     Try the search box or go back to the homepage.\n\nWorld\nChina\nBusiness"
            )
        };
        let cited_final = url("https://example.com/2020/12/26/story.html");
        let probe_final = url("https://example.com/2020/12/26/q7xk2m9zt4wpl8vb3n.html");
        let gone = fingerprint(&error_page("/2020/12/26/story.html"));
        let probe = fingerprint(&error_page("/2020/12/26/q7xk2m9zt4wpl8vb3n.html"));
        assert!(looks_like_probe(
            &cited_final,
            &gone,
            &cited_final,
            &probe,
            &probe_final,
            None
        ));

        let article = fingerprint(
            "Shanghai starts vaccinating priority groups\n\nShanghai has begun vaccinating key \
             groups against the novel coronavirus, the city's disease control centre said on \
             Saturday, in one of the first large urban campaigns.",
        );
        assert!(!looks_like_probe(
            &cited_final,
            &article,
            &cited_final,
            &probe,
            &probe_final,
            None
        ));

        let home = url("https://example.com/");
        assert!(looks_like_probe(
            &cited_final,
            &article,
            &home,
            &probe,
            &url("https://example.com/#x"),
            None
        ));
        // A cited front page (or section front) landing where missing pages
        // land is the front page, alive.
        for front in ["https://example.com/", "https://www.example.com/world/"] {
            let front = url(front);
            assert!(!looks_like_probe(
                &front, &article, &home, &probe, &home, None
            ));
            assert!(!looks_like_probe(
                &front,
                &gone,
                &front,
                &probe,
                &probe_final,
                None
            ));
        }

        let empty = fingerprint("");
        assert!(!looks_like_probe(
            &cited_final,
            &empty,
            &cited_final,
            &empty,
            &probe_final,
            None
        ));
        let mut old = probe.clone();
        old.version = FINGERPRINT_VERSION.wrapping_add(1);
        assert!(!looks_like_probe(
            &cited_final,
            &gone,
            &cited_final,
            &old,
            &probe_final,
            None
        ));
    }

    #[test]
    fn a_short_story_in_a_heavy_template_is_not_the_catch_all_page() {
        use crate::check::lines::{line_set, own_weight};
        let words = [
            "courier",
            "media",
            "group",
            "radio",
            "station",
            "printing",
            "house",
            "agency",
            "readers",
            "region",
            "founding",
            "weekly",
            "edition",
            "subscribe",
            "archive",
            "letters",
            "editor",
            "weather",
            "markets",
            "sport",
            "culture",
            "travel",
            "opinion",
            "careers",
            "advertise",
            "contact",
            "privacy",
            "terms",
            "cookies",
            "podcast",
            "newsletter",
            "events",
            "awards",
            "photos",
            "video",
            "puzzles",
            "obituaries",
            "notices",
            "property",
            "motoring",
            "schools",
            "health",
            "science",
            "history",
        ];
        let mut x: u64 = 7;
        let template: String = (0..16)
            .map(|_| {
                let line: Vec<&str> = (0..40)
                    .map(|_| {
                        x = x
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        words[(x >> 33) as usize % words.len()]
                    })
                    .collect();
                format!("{}\n", line.join(" "))
            })
            .collect();
        let catch_all = format!("{template}Latest stories from the Courier newsroom.");
        let story = format!(
            "{template}The council met on Tuesday and approved the budget for next year, \
             after a debate that lasted most of the afternoon and evening.\nThe mayor said \
             the new budget would pay for two schools, a bridge and repairs to the harbour \
             wall, which was damaged in the winter storms."
        );
        let one_line =
            format!("{template}Story 1: the council met on Tuesday and approved the budget.");
        let cited = url("https://example.com/news/story-1.html");
        let probe_url = url("https://example.com/news/q7xk2m9zt4wpl8vb3n.html");
        let judge = |text: &str, probe_text: &str| {
            let (page_lines, probe_lines) = (line_set(text), line_set(probe_text));
            let own = own_weight(&page_lines, &probe_lines, PARAGRAPH_WEIGHT);
            let (page, probe) = (fingerprint(text), fingerprint(probe_text));
            let s = similarity(&page, &probe);
            assert!(s >= PROBE_SIMILAR_AT_LEAST, "{s}");
            (
                looks_like_probe(&cited, &page, &cited, &probe, &probe_url, own),
                looks_like_probe(&cited, &page, &cited, &probe, &probe_url, None),
            )
        };
        // Two paragraphs of its own: a story, however heavy its template.
        assert_eq!(judge(&story, &catch_all), (false, true));
        // The catch-all page itself, and one with no paragraph of its own.
        assert_eq!(judge(&catch_all, &catch_all), (true, true));
        assert_eq!(judge(&one_line, &catch_all), (true, true));
        // A catch-all page with a paragraph of its own that a story lacks
        // (its message): what a page lacks does not count.
        let message = format!(
            "{catch_all}\nWe are sorry, but the page you asked for could not be found on the \
             Courier website; it may have been moved or removed, so please try the search box \
             or browse the latest stories from our newsroom."
        );
        assert_eq!(judge(&story, &message), (false, true));
        // Landing where the probe landed still settles it.
        assert!(looks_like_probe(
            &cited,
            &fingerprint(&story),
            &probe_url,
            &fingerprint(&catch_all),
            &probe_url,
            Some(OWN_TEXT_AT_LEAST * 10)
        ));
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(300))]
            #[test]
            fn any_text_is_judged(t in proptest::option::of("\\PC{0,60}"), s in "\\PC{0,400}") {
                let _ = error_page_phrase(t.as_deref(), &s);
            }

            #[test]
            fn any_url_is_judged(path in "[a-zA-Z0-9/._%~-]{0,60}", q in proptest::option::of("[a-z0-9=&%]{0,30}"), token in "\\PC{0,30}") {
                let s = match &q {
                    Some(q) => format!("http://www.example.com/{path}?{q}"),
                    None => format!("http://www.example.com/{path}"),
                };
                if let Ok(u) = Url::parse(&s) {
                    let _ = is_site_root_or_section(&u);
                    let _ = deep_link_sent_to_root(&u, &u);
                    let p = probe_url(&u, &token);
                    prop_assert_eq!(p.host_str(), u.host_str());
                    prop_assert_ne!(p, u);
                }
            }
        }
    }
}
