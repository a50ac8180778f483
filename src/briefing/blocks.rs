//! Every document format becomes the same thing: a list of blocks (a line or a
//! paragraph, its links, whether it is a heading). Splitting into items works on
//! blocks only, so the txt, Markdown and HTML readers share one set of rules.

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
    finder()
        .links(text)
        .map(|l| Link {
            href: l.as_str().to_string(),
            text: None,
        })
        .collect()
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

    #[test]
    fn text_lines_become_blocks_with_bare_links() {
        let b = from_text("Title\n\n  see http://a.com/x. and (http://b.com/y)\n");
        assert_eq!(b.len(), 2);
        let hrefs: Vec<_> = b[1].links.iter().map(|l| l.href.as_str()).collect();
        assert_eq!(hrefs, ["http://a.com/x", "http://b.com/y"]);
    }
}
