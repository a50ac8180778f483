//! The Markdown report, for pasting into an issue or an e-mail. Text from the
//! briefings is escaped so a title cannot become markup.

use std::io::Write;

use super::model::{BriefingHead, Citation, DocumentHead, Header, SectionHead, Summary};
use super::select::Section;
use super::text::{
    OUTLETS_SHOWN, movement_line, outlet_name, outlets_not_shown, plural, scope_line, status_rows,
    thousands,
};
use super::{Render, ReportError};

/// Writes the Markdown report.
pub struct Markdown<'w> {
    out: &'w mut dyn Write,
    section: Option<Section>,
}

impl<'w> Markdown<'w> {
    /// A Markdown writer.
    pub fn new(out: &'w mut dyn Write) -> Markdown<'w> {
        Markdown { out, section: None }
    }
}

/// Escapes text so that Markdown shows it as written (CommonMark backslash
/// escapes; line breaks become spaces).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '&' | '~' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

/// A link to `url`: a link when it is an http(s) URL safe as one, else code.
pub fn link(text: &str, url: &str) -> String {
    if autolinkable(url) {
        format!("[{}](<{url}>)", escape(text))
    } else {
        format!("{} {}", escape(text), code(url))
    }
}

/// A URL as an autolink when it may be one, else as code: only http(s)
/// becomes a link, as in the HTML report (`linkable`), since renderers
/// without a sanitiser make a cited `javascript:` URL a live one.
fn url_text(url: &str) -> String {
    if autolinkable(url) {
        format!("<{url}>")
    } else {
        code(url)
    }
}

/// Whether `url` is http(s) and can be written between `<` and `>` as it is.
fn autolinkable(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://"))
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
}

/// `s` as a code span that shows it whole, whatever backticks it holds: the
/// fence is one backtick longer than the longest run inside (CommonMark), so a
/// backtick in a URL cannot end the span and let the rest become markup.
pub fn code(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    // A span's first and last space are stripped when both are there: pad
    // content that starts or ends with a backtick (which would join the
    // fence) or a space (which would be lost).
    let pad = s.starts_with(['`', ' ']) || s.ends_with(['`', ' ']);
    let pad = if pad { " " } else { "" };
    format!("{fence}{pad}{s}{pad}{fence}")
}

impl Render for Markdown<'_> {
    fn start(&mut self, header: &Header, summary: &Summary) -> Result<(), ReportError> {
        let o = &mut self.out;
        writeln!(o, "# citewatch report")?;
        writeln!(o)?;
        writeln!(o, "Generated {}.", header.generated_at)?;
        let scope = scope_line(header);
        if !scope.is_empty() {
            writeln!(o, "Scope: {}.", escape(&scope))?;
        }
        writeln!(o)?;
        writeln!(o, "## Summary")?;
        writeln!(o)?;
        writeln!(
            o,
            "**{}** of {}; **{} broken**.",
            plural(summary.citations, "citation", "citations"),
            plural(summary.sources, "source", "sources"),
            thousands(summary.broken)
        )?;
        writeln!(o, "{}.", escape(&movement_line(summary, header)))?;
        writeln!(o)?;
        writeln!(o, "| status | citations | sources |")?;
        writeln!(o, "| --- | ---: | ---: |")?;
        for (s, c, n) in status_rows(summary) {
            writeln!(o, "| {} | {} | {} |", escape(s), thousands(c), thousands(n))?;
        }
        if !summary.outlets.is_empty() {
            writeln!(o)?;
            writeln!(o, "| outlet | citations | broken | broken % |")?;
            writeln!(o, "| --- | ---: | ---: | ---: |")?;
            for line in summary.outlets.iter().take(OUTLETS_SHOWN) {
                writeln!(
                    o,
                    "| {} | {} | {} | {:.1}% |",
                    escape(outlet_name(&line.outlet)),
                    thousands(line.citations),
                    thousands(line.broken),
                    line.broken_percent
                )?;
            }
            if let Some(more) = outlets_not_shown(summary) {
                writeln!(o)?;
                writeln!(o, "… and {more} more.")?;
            }
        }
        Ok(())
    }

    fn start_section(&mut self, s: &SectionHead) -> Result<(), ReportError> {
        self.section = Some(s.section);
        writeln!(self.out)?;
        writeln!(
            self.out,
            "## {} ({})",
            s.section.title(),
            thousands(s.citations)
        )?;
        writeln!(self.out)?;
        writeln!(self.out, "_{}._", escape(s.section.advice()))?;
        if s.citations == 0 {
            writeln!(self.out)?;
            writeln!(self.out, "None.")?;
        }
        Ok(())
    }

    fn start_document(&mut self, d: &DocumentHead) -> Result<(), ReportError> {
        writeln!(self.out)?;
        writeln!(self.out, "### {}", escape(&d.heading))?;
        Ok(())
    }

    fn start_briefing(&mut self, b: &BriefingHead) -> Result<(), ReportError> {
        writeln!(self.out)?;
        writeln!(self.out, "**\\#{} {}**", b.item, escape(&b.title))?;
        writeln!(self.out)?;
        Ok(())
    }

    fn citation(&mut self, c: &Citation) -> Result<(), ReportError> {
        let o = &mut self.out;
        let new = if c.new { " **new**" } else { "" };
        writeln!(
            o,
            "- **{}**{new}: {}, {}  ",
            escape(&c.status_label()),
            escape(&c.cited()),
            url_text(c.shown_url())
        )?;
        let since = c
            .since_note()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        let watch = self.section == Some(Section::Watch);
        let mut lines = vec![format!("{}{since}", escape(&c.evidence))];
        if !watch {
            if let Some(u) = &c.new_url {
                lines.push(format!("New URL: {}", url_text(u)));
            }
            if let Some(note) = c.as_cited_note() {
                lines.push(crate::report::model::capitalised(&note));
            }
            if let Some(a) = &c.archived {
                let mut s = format!(
                    "Archived {}, sha256 {}: {}",
                    a.captured_at,
                    code(&a.sha256),
                    code(&a.get_command)
                );
                if let Some(u) = &a.url {
                    s.push_str(&format!(" · {}", link("archived copy", u)));
                }
                lines.push(s);
            }
            if let Some(w) = &c.wayback_url {
                lines.push(link("Wayback Machine", w));
            }
        }
        let last = lines.len() - 1;
        for (i, l) in lines.iter().enumerate() {
            let brk = if i < last { "  " } else { "" };
            writeln!(o, "  {l}{brk}")?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ReportError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_titles_is_shown_as_written() {
        assert_eq!(
            escape("<script>*x*</script> | [a](b)"),
            r"\<script\>\*x\*\</script\> \| \[a\](b)"
        );
        assert_eq!(link("w", "http://a/ b"), "w `http://a/ b`");
    }

    #[test]
    fn a_code_span_outlasts_the_backticks_inside() {
        assert_eq!(code("plain"), "`plain`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("a``b`"), "``` a``b` ```");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code(" x "), "`  x  `");
        assert_eq!(code("a\nb"), "`a b`");
    }

    #[test]
    fn only_http_urls_become_links() {
        assert_eq!(url_text("https://a.example/x"), "<https://a.example/x>");
        assert_eq!(url_text("HTTP://A.EXAMPLE/"), "<HTTP://A.EXAMPLE/>");
        assert_eq!(url_text("javascript:alert(1)"), "`javascript:alert(1)`");
        assert_eq!(url_text("data:text/html,x"), "`data:text/html,x`");
        assert_eq!(
            link("copy", "javascript:alert(1)"),
            "copy `javascript:alert(1)`"
        );
    }
}
