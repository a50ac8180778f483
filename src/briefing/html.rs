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
    /// How many `<pre>` elements the walk is inside: there a line break
    /// ends a block, as in a text document.
    pre: usize,
}

impl Builder {
    /// Text nodes join as a browser shows them: with a space only where the
    /// markup has whitespace. Word wraps pieces of a line in tags of their
    /// own (`http://a.example/<span>news</span>/1.html`, `December 2<span>6</span>`):
    /// a space put at every tag cut the URL there and hid the date.
    fn push_text(&mut self, s: &str) {
        if s.starts_with(char::is_whitespace) {
            self.push_space();
        }
        for (n, word) in s.split_whitespace().enumerate() {
            if n > 0 {
                self.text.push(' ');
            }
            self.text.push_str(word);
        }
        if s.ends_with(char::is_whitespace) {
            self.push_space();
        }
    }

    /// Preformatted text keeps its lines: a text briefing pasted into a
    /// `<pre>` was one block, and its items one item titled by its first line.
    fn push_pre_text(&mut self, s: &str) {
        for (n, line) in s.split(['\n', '\r']).enumerate() {
            if n > 0 {
                self.flush(false);
            }
            self.push_text(line);
        }
    }

    fn push_space(&mut self) {
        if !self.text.is_empty() && !self.text.ends_with(' ') {
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
        // URLs typed as text inside the block count as links too, unless an
        // anchor has them (as its target or its text). A set, not a search of
        // the anchors for each: a block of many links was quadratic.
        let mut known: std::collections::HashSet<String> = links
            .iter()
            .flat_map(|l| std::iter::once(l.href.clone()).chain(l.text.clone()))
            .collect();
        for bare in bare_links(&text) {
            if known.insert(bare.href.clone()) {
                links.push(bare);
            }
        }
        self.blocks.push(Block {
            text,
            heading,
            links,
            headline: false,
        });
    }

    /// Walks the tree in reading order with a stack of its own, not the call
    /// stack: a document nesting eight thousand elements overflowed that.
    fn walk(&mut self, root: &NodeRef) {
        let mut todo: Vec<Step> = Vec::new();
        push_children(&mut todo, root);
        while let Some(step) = todo.pop() {
            let child = match step {
                Step::Visit(node) => node,
                Step::Flush(heading) => {
                    self.flush(heading);
                    continue;
                }
                Step::LeavePre => {
                    self.pre -= 1;
                    continue;
                }
                Step::EndAnchor {
                    node,
                    start,
                    flushes,
                } => {
                    let from = if self.flushes == flushes { start } else { 0 };
                    let text = self.text.get(from..).unwrap_or_default().trim().to_string();
                    if let Some(href) = node.attr("href") {
                        // Browsers drop tabs and line breaks from a URL, so a
                        // link an editor wrapped works on the page: it was
                        // cited as invalid ("contains whitespace").
                        let href: String = href
                            .trim()
                            .chars()
                            .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
                            .collect();
                        if !href.is_empty() && !href.starts_with('#') {
                            self.links.push(Link {
                                href,
                                text: Some(text),
                            });
                        }
                    }
                    continue;
                }
            };
            if child.is_text() {
                if self.pre > 0 {
                    self.push_pre_text(&child.text());
                } else {
                    self.push_text(&child.text());
                }
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
            // What follows the children is pushed first: the stack gives it back last.
            match name {
                "br" => {
                    self.flush(false);
                    continue;
                }
                "a" => todo.push(Step::EndAnchor {
                    node: child,
                    start: self.text.len(),
                    flushes: self.flushes,
                }),
                "pre" => {
                    self.flush(false);
                    self.pre += 1;
                    todo.push(Step::Flush(false));
                    todo.push(Step::LeavePre);
                }
                "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                    self.flush(false);
                    todo.push(Step::Flush(true));
                }
                _ if BLOCK.contains(&name) => {
                    self.flush(false);
                    todo.push(Step::Flush(false));
                }
                _ => {}
            }
            push_children(&mut todo, &child);
        }
    }
}

/// One step of [`Builder::walk`].
enum Step<'a> {
    /// Read a node (and then its children).
    Visit(NodeRef<'a>),
    /// End the block an element made.
    Flush(bool),
    /// A `<pre>` element's children are read.
    LeavePre,
    /// An anchor's children are read: keep its link with their text.
    EndAnchor {
        node: NodeRef<'a>,
        start: usize,
        flushes: usize,
    },
}

/// `node`'s children onto the stack, the first on top.
fn push_children<'a>(todo: &mut Vec<Step<'a>>, node: &NodeRef<'a>) {
    let first = todo.len();
    todo.extend(node.children_it(false).map(Step::Visit));
    todo[first..].reverse();
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

    #[test]
    fn a_deeply_nested_page_is_read_without_recursion() {
        // Eight thousand levels overflowed the stack of a recursive walk.
        let depth = 100_000;
        let html = format!(
            "<body><h2>Item</h2>{}<p>Source: X <a href=\"http://a.example/\">link</a></p>{}</body>",
            "<span>".repeat(depth),
            "</span>".repeat(depth)
        );
        let b = std::thread::spawn(move || from_html(&html)).join().unwrap();
        let texts: Vec<_> = b.iter().map(|b| b.text.as_str()).collect();
        assert_eq!(texts, ["Item", "Source: X link"]);
        assert_eq!(b[1].links[0].href, "http://a.example/");
        assert_eq!(b[1].links[0].text.as_deref(), Some("link"));
    }
}
