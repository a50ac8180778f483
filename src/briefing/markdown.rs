//! Markdown briefings to blocks: `#` and setext headings, links with their
//! text, bare URLs; fences, thematic breaks and images are no part of any
//! item's words.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use super::blocks::{Block, Link, bare_links, lines};

/// A link: inline (`[text](url "title")`), by reference (`[text][label]`,
/// `[text][]`, or `[text]` alone, each looked up in the document's
/// definitions), or an autolink (`<url>`).
static MD_LINK: LazyLock<Regex> = LazyLock::new(|| {
    // A destination in angle brackets may hold spaces (CommonMark): taken
    // whole, so that a URL with a space is cited as written, and invalid.
    // One without may hold parentheses in pairs (`…/wiki/Foo_(bar)`): the
    // first `)` cut it short. A `(` alone is kept as before.
    Regex::new(
        r#"(?x)
        (?P<bang>!?) \[ (?P<text>[^\]]*) \]
        (?: \( \s* (?: < (?P<angle>[^<>\n]*) > | (?P<dest>(?:[^\s()<>] | \([^\s()<>]*\) | \( )*) )
               (?: \s+ (?: "[^"]*" | '[^']*' ) )? \s* \)
          | \[ (?P<label>[^\]]*) \]
        )?
        | < (?P<auto>(?i:https?|ftp)://[^\s>]+) >"#,
    )
    .expect("markdown link pattern compiles")
});
/// A link reference definition, `[label]: URL "title"` (CommonMark). A
/// footnote (`[^1]: …`) is none: its words, and a URL among them, are the
/// document's own.
static REFERENCE_DEFINITION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"^\[(?P<label>[^\]^][^\]]*)\]:\s*(?:<(?P<angle>[^<>\n]*)>|(?P<dest>\S+))(?:\s+(?:"[^"]*"|'[^']*'|\([^()]*\)))?\s*$"#,
    )
    .expect("reference definition pattern compiles")
});
static THEMATIC_BREAK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")
        .expect("thematic break pattern compiles")
});
static MD_LIST_MARK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:[-*+]|\d{1,3}[.)])\s+").expect("list pattern compiles"));

/// A Markdown document: one block per non-blank line; `#` and setext headings are
/// headings; `[text](url)`, `[text][label]` and `<url>` are links with their
/// text; bare URLs too.
pub fn from_markdown(text: &str) -> Vec<Block> {
    let references = reference_definitions(text);
    let mut blocks: Vec<Block> = Vec::new();
    let mut in_fence = false;
    let mut after_blank = true;
    for raw in lines(text) {
        let line = raw.trim();
        if is_fence(line) {
            in_fence = !in_fence;
            continue;
        }
        // A definition is not shown: nothing of it is an item's words.
        if line.is_empty() || (!in_fence && reference_definition(line).is_some()) {
            after_blank = true;
            continue;
        }
        let follows_text = !std::mem::replace(&mut after_blank, false);
        let is_setext =
            line.chars().all(|c| c == '=') || (line.len() >= 2 && line.chars().all(|c| c == '-'));
        // Only a line right under text underlines it; after a blank line
        // `---` is a thematic break between items. Read as an underline, it
        // made a heading of the URL line above and every item after it one.
        if !in_fence && is_setext && follows_text {
            if let Some(prev) = blocks
                .last_mut()
                .filter(|b| !b.heading && raw.starts_with(['=', '-']))
            {
                prev.heading = true;
            }
            continue;
        }
        if !in_fence && (is_setext || THEMATIC_BREAK.is_match(line)) {
            continue;
        }
        let (heading, body) = match line.strip_prefix('#') {
            Some(_) if !in_fence => {
                let rest = line.trim_start_matches('#');
                if rest.is_empty() || rest.starts_with(' ') {
                    (true, rest.trim().trim_end_matches('#').trim())
                } else {
                    (false, line)
                }
            }
            _ => (false, line),
        };
        // A backslash ending a line is a hard line break (pandoc writes one
        // for every `<br>`): left in, it hid the date of the Source line it ended.
        let body = body.trim_start_matches('>').trim();
        let body = body.strip_suffix('\\').map_or(body, str::trim_end);
        let body = MD_LIST_MARK.find(body).map_or(body, |m| &body[m.end()..]);
        let (plain, links) = read_links(body, &references);
        blocks.push(Block {
            text: strip_emphasis(plain.trim()).to_string(),
            heading,
            links,
            headline: false,
        });
    }
    blocks
}

/// A line's visible words and its links, those written as Markdown links
/// first, then the bare URLs outside them.
fn read_links(body: &str, references: &References) -> (String, Vec<Link>) {
    let mut links = Vec::new();
    let mut plain = String::with_capacity(body.len());
    // The words outside links, where bare URLs are looked for.
    let mut outside = String::with_capacity(body.len());
    let mut last = 0;
    for c in MD_LINK.captures_iter(body) {
        let whole = c.get(0).expect("group 0");
        let words = unescape(&body[last..whole.start()]);
        plain.push_str(&words);
        outside.push_str(&words);
        last = whole.end();
        if let Some(auto) = c.name("auto") {
            plain.push_str(auto.as_str());
            outside.push(' ');
            links.push(Link {
                href: auto.as_str().to_string(),
                text: None,
            });
            continue;
        }
        let text = c.name("text").map_or("", |m| m.as_str());
        let Some(href) = link_target(&c, text, references) else {
            // `[words]` that no definition names is just words.
            let words = unescape(whole.as_str());
            plain.push_str(&words);
            outside.push_str(&words);
            continue;
        };
        let text = unescape(text);
        plain.push_str(&text);
        outside.push(' ');
        if c.name("bang").is_none_or(|m| m.as_str().is_empty()) {
            links.push(Link {
                href: unescape(href).into_owned(),
                text: Some(strip_emphasis(&text).to_string()),
            });
        }
    }
    let words = unescape(&body[last..]);
    plain.push_str(&words);
    outside.push_str(&words);
    let linked: std::collections::HashSet<String> = links.iter().map(|l| l.href.clone()).collect();
    let mut bare: Vec<Link> = bare_links(&outside)
        .into_iter()
        .filter(|l| !linked.contains(&l.href))
        .collect();
    links.append(&mut bare);
    (plain, links)
}

/// `\_` → `_`: a backslash before ASCII punctuation is Markdown's escape,
/// not a character (CommonMark), and pandoc writes one before every `_`
/// and `*`, inside bare URLs too: left in, the cited URL named another
/// page. Autolinks (`<url>`) take no escapes, so they are never given here.
fn unescape(s: &str) -> Cow<'_, str> {
    if !s.contains('\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match chars.peek() {
            Some(&next) if c == '\\' && next.is_ascii_punctuation() => {
                out.push(next);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Where a link matched by [`MD_LINK`] points: its own destination, or the
/// one its label (or, for `[text][]` and `[text]`, its text) is defined as.
fn link_target<'a>(
    c: &regex::Captures<'a>,
    text: &str,
    references: &'a References,
) -> Option<&'a str> {
    if let Some(dest) = c.name("angle").or(c.name("dest")) {
        return Some(dest.as_str());
    }
    let label = c
        .name("label")
        .map(|m| m.as_str())
        .filter(|l| !l.trim().is_empty())
        .unwrap_or(text);
    references.get(&label_key(label)).map(String::as_str)
}

/// Reference definitions by label: written anywhere in a document (pandoc
/// puts them at its end), they give the URLs of `[text][label]` links,
/// which were no links at all: the Source line had "no URL given", and each
/// definition's URL became a body link of the last item.
type References = std::collections::HashMap<String, String>;

/// The document's reference definitions, outside code fences; the first of
/// a label counts (CommonMark).
fn reference_definitions(text: &str) -> References {
    let mut references = References::new();
    let mut in_fence = false;
    for line in lines(text).map(str::trim) {
        if is_fence(line) {
            in_fence = !in_fence;
        } else if !in_fence && let Some((label, dest)) = reference_definition(line) {
            references.entry(label).or_insert_with(|| dest.to_string());
        }
    }
    references
}

/// The label (as looked up) and destination a definition line gives.
fn reference_definition(line: &str) -> Option<(String, &str)> {
    let c = REFERENCE_DEFINITION.captures(line)?;
    let dest = c.name("angle").or(c.name("dest"))?.as_str();
    Some((label_key(c.name("label")?.as_str()), dest))
}

/// Labels match without regard to case or runs of spaces (CommonMark).
fn label_key(label: &str) -> String {
    label
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn is_fence(line: &str) -> bool {
    line.starts_with("```") || line.starts_with("~~~")
}

/// `**Title**` → `Title`: emphasis around a whole line carries no meaning here.
fn strip_emphasis(s: &str) -> &str {
    let t = s.trim();
    for mark in ["**", "__", "*", "_"] {
        if let Some(inner) = t.strip_prefix(mark).and_then(|r| r.strip_suffix(mark)) {
            return inner.trim();
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_links_headings_and_lists() {
        let b = from_markdown(
            "# Briefings\n\n## Xinhua: Title\n\nBody with [a link](https://a.com/p \"t\") and https://b.com/q.\n\n- Source: [Xinhua, December 26, 2020](http://x.cn/1)\n![img](http://i.com/i.png)\nSetext\n------\n",
        );
        assert!(b[0].heading && b[1].heading);
        assert_eq!(b[1].text, "Xinhua: Title");
        assert_eq!(b[2].text, "Body with a link and https://b.com/q.");
        let hrefs: Vec<_> = b[2].links.iter().map(|l| l.href.as_str()).collect();
        assert_eq!(hrefs, ["https://a.com/p", "https://b.com/q"]);
        assert_eq!(b[3].text, "Source: Xinhua, December 26, 2020");
        assert_eq!(
            b[3].links[0].text.as_deref(),
            Some("Xinhua, December 26, 2020")
        );
        assert!(b[4].links.is_empty(), "images are not citations");
        assert!(b[5].heading);
    }

    #[test]
    fn reference_links_resolve_and_other_brackets_stay_words() {
        let b = from_markdown(
            "See [Xinhua] and [not defined] and [LTN][L  T].\n\n\
             [^1]: https://fn.example/1\n\n\
             ```\n[x]: https://code.example/\n```\n\n\
             [xinhua]: https://a.example/1\n[l t]: https://b.example/2\n[Xinhua]: https://c.example/3\n",
        );
        let texts: Vec<_> = b.iter().map(|b| b.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "See Xinhua and [not defined] and LTN.",
                "[^1]: https://fn.example/1",
                "[x]: https://code.example/",
            ]
        );
        let hrefs: Vec<_> = b[0].links.iter().map(|l| l.href.as_str()).collect();
        assert_eq!(hrefs, ["https://a.example/1", "https://b.example/2"]);
        assert_eq!(b[1].links[0].href, "https://fn.example/1");
    }
}
