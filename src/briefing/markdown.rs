//! Markdown briefings to blocks: `#` and setext headings, links with their
//! text, bare URLs; fences, thematic breaks and images are no part of any
//! item's words.

use std::sync::LazyLock;

use regex::Regex;

use super::blocks::{Block, Link, bare_links, lines};

static MD_LINK: LazyLock<Regex> = LazyLock::new(|| {
    // A destination in angle brackets may hold spaces (CommonMark): taken
    // whole, so that a URL with a space is cited as written, and invalid.
    // One without may hold parentheses in pairs (`…/wiki/Foo_(bar)`): the
    // first `)` cut it short. A `(` alone is kept as before.
    Regex::new(r#"(!?)\[([^\]]*)\]\(\s*(?:<([^<>\n]*)>|((?:[^\s()<>]|\([^\s()<>]*\)|\()*))(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)|<((?i:https?|ftp)://[^\s>]+)>"#)
        .expect("markdown link pattern compiles")
});
static THEMATIC_BREAK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")
        .expect("thematic break pattern compiles")
});
static MD_LIST_MARK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:[-*+]|\d{1,3}[.)])\s+").expect("list pattern compiles"));

/// A Markdown document: one block per non-blank line; `#` and setext headings are
/// headings; `[text](url)` and `<url>` are links with their text; bare URLs too.
pub fn from_markdown(text: &str) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::new();
    let mut in_fence = false;
    let mut after_blank = true;
    for raw in lines(text) {
        let line = raw.trim();
        if line.starts_with("```") || line.starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        if line.is_empty() {
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
        let mut links = Vec::new();
        let mut plain = String::with_capacity(body.len());
        let mut last = 0;
        for c in MD_LINK.captures_iter(body) {
            let whole = c.get(0).expect("group 0");
            plain.push_str(&body[last..whole.start()]);
            last = whole.end();
            if let Some(auto) = c.get(5) {
                plain.push_str(auto.as_str());
                links.push(Link {
                    href: auto.as_str().to_string(),
                    text: None,
                });
                continue;
            }
            let text = c.get(2).map_or("", |m| m.as_str());
            plain.push_str(text);
            let is_image = c.get(1).is_some_and(|m| !m.as_str().is_empty());
            let href = c.get(3).or(c.get(4)).map_or("", |m| m.as_str());
            if !is_image {
                links.push(Link {
                    href: href.to_string(),
                    text: Some(strip_emphasis(text).to_string()),
                });
            }
        }
        plain.push_str(&body[last..]);
        // Bare URLs outside Markdown links.
        let linked: std::collections::HashSet<String> =
            links.iter().map(|l| l.href.clone()).collect();
        let mut bare: Vec<Link> = bare_links(&body_without_links(body))
            .into_iter()
            .filter(|l| !linked.contains(&l.href))
            .collect();
        links.append(&mut bare);
        blocks.push(Block {
            text: strip_emphasis(plain.trim()).to_string(),
            heading,
            links,
        });
    }
    blocks
}

fn body_without_links(body: &str) -> String {
    MD_LINK.replace_all(body, " ").into_owned()
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
}
