//! HTML briefing pages to blocks: block elements and `<br>` end a block, headings
//! are marked, anchors keep their `href` and text. Navigation, scripts and styles
//! are not part of any briefing.

use dom_query::{Document, NodeRef};

use super::blocks::{Block, Link, bare_links};

const SKIP: &[&str] = &[
    "head", "script", "style", "noscript", "template", "nav", "footer", "svg", "iframe", "button",
    "select", "form",
];
const BLOCK: &[&str] = &[
    "p",
    "div",
    "li",
    "ul",
    "ol",
    "blockquote",
    "pre",
    "section",
    "article",
    "main",
    "header",
    "aside",
    "table",
    "tr",
    "td",
    "th",
    "dd",
    "dt",
    "dl",
    "hr",
    "figure",
    "figcaption",
    "body",
    "center",
    "address",
];

#[derive(Default)]
struct Builder {
    blocks: Vec<Block>,
    text: String,
    links: Vec<Link>,
    /// Bumped on every flush, so an anchor spanning blocks knows its start is gone.
    flushes: usize,
}

impl Builder {
    fn push_text(&mut self, s: &str) {
        for word in s.split_whitespace() {
            if !self.text.is_empty() && !self.text.ends_with(' ') {
                self.text.push(' ');
            }
            self.text.push_str(word);
        }
        if s.ends_with(char::is_whitespace) && !self.text.is_empty() {
            self.text.push(' ');
        }
    }

    fn flush(&mut self, heading: bool) {
        self.flushes += 1;
        let text = self.text.trim().to_string();
        self.text.clear();
        let mut links = std::mem::take(&mut self.links);
        if text.is_empty() && links.is_empty() {
            return;
        }
        // URLs typed as text inside the block count as links too.
        for bare in bare_links(&text) {
            if !links
                .iter()
                .any(|l| l.href == bare.href || l.text.as_deref() == Some(&bare.href))
            {
                links.push(bare);
            }
        }
        self.blocks.push(Block {
            text,
            heading,
            links,
        });
    }

    fn walk(&mut self, node: &NodeRef) {
        for child in node.children_it(false) {
            if child.is_text() {
                self.push_text(&child.text());
                continue;
            }
            if !child.is_element() {
                continue;
            }
            let name = child
                .node_name()
                .map(|n| n.to_ascii_lowercase())
                .unwrap_or_default();
            let name = name.as_str();
            if SKIP.contains(&name) {
                continue;
            }
            match name {
                "br" => self.flush(false),
                "a" => {
                    let (start, flushes) = (self.text.len(), self.flushes);
                    self.walk(&child);
                    let from = if self.flushes == flushes { start } else { 0 };
                    let text = self.text.get(from..).unwrap_or_default().trim().to_string();
                    if let Some(href) = child.attr("href") {
                        let href = href.trim();
                        if !href.is_empty() && !href.starts_with('#') {
                            self.links.push(Link {
                                href: href.to_string(),
                                text: Some(text),
                            });
                        }
                    }
                }
                "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                    self.flush(false);
                    self.walk(&child);
                    self.flush(true);
                }
                _ if BLOCK.contains(&name) => {
                    self.flush(false);
                    self.walk(&child);
                    self.flush(false);
                }
                _ => self.walk(&child),
            }
        }
    }
}

/// Blocks of an HTML document in reading order.
pub fn from_html(html: &str) -> Vec<Block> {
    let doc = Document::from(html);
    let mut b = Builder::default();
    b.walk(&doc.root());
    b.flush(false);
    b.blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_headings_and_anchors() {
        let b = from_html(
            "<html><head><title>x</title></head><body><nav><a href='/'>Home</a></nav>\
             <h2>Xinhua: Title</h2><p>Body <b>bold</b>\n text.</p>\
             <p>Source: <a href=\"http://x.cn/1\">Xinhua, December 26, 2020</a></p>\
             <p>line one<br>http://y.cn/2</p><script>var u='http://z.cn'</script></body></html>",
        );
        let texts: Vec<_> = b.iter().map(|b| b.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Xinhua: Title",
                "Body bold text.",
                "Source: Xinhua, December 26, 2020",
                "line one",
                "http://y.cn/2"
            ]
        );
        assert!(b[0].heading);
        assert_eq!(b[2].links[0].href, "http://x.cn/1");
        assert_eq!(b[4].links[0].href, "http://y.cn/2");
    }
}
