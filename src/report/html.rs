//! The HTML report: one self-contained page (inline CSS, no scripts, no external
//! references at all; a Content-Security-Policy says so to the browser),
//! readable on screen and printable. Citation links follow the Robust Links
//! convention: `data-versionurl` / `data-versiondate` name our archived copy
//! when `[serve] public_url` is set.

use std::io::Write;

use super::model::{BriefingHead, Citation, DocumentHead, Header, SectionHead, Summary};
use super::select::{Section, sections};
use super::text::{
    OUTLETS_SHOWN, movement_line, outlet_name, outlets_not_shown, plural, scope_line, status_rows,
    thousands,
};
use super::{Render, ReportError};

const STYLE: &str = "
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d1d1f;max-width:62rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.6rem;margin:0}h2{font-size:1.25rem;border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
h3{font-size:1.05rem;margin:1.2rem 0 .3rem;font-family:ui-monospace,monospace}h4{font-size:1rem;margin:.8rem 0 .3rem}
.meta,.advice{color:#555}.advice{font-style:italic}
table{border-collapse:collapse;margin:.6rem 0}th,td{padding:.2rem .6rem;border-bottom:1px solid #e4e4e4;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
nav a{margin-right:1rem}
.cite{border-left:4px solid #bbb;padding:.2rem .8rem;margin:.4rem 0 .8rem}
.cite p{margin:.15rem 0}.url{word-break:break-all}
.status{font-weight:600;text-transform:uppercase;font-size:.85em}
.broken{border-color:#c62828}.broken .status{color:#c62828}
.changed{border-color:#e6a100}.changed .status{color:#9a6700}
.moved{border-color:#00838f}.moved .status{color:#00838f}
.watch{border-color:#8e24aa}.watch .status{color:#8e24aa}
.new{background:#c62828;color:#fff;border-radius:3px;padding:0 .3rem;font-size:.8em}
code{font-family:ui-monospace,monospace;font-size:.85em;background:#f4f4f4;padding:0 .2rem;word-break:break-all}
@media print{body{margin:0;max-width:none;font-size:10.5pt}nav{display:none}
.cite,tr{break-inside:avoid}h2,h3,h4{break-after:avoid}a{color:inherit;text-decoration:none}
.url a::after{content:''}.new{border:1px solid #000;color:#000;background:none}}
";

/// Writes the HTML report.
pub struct Html<'w> {
    out: &'w mut dyn Write,
    section: Option<Section>,
    served: Option<ServedPage>,
}

/// The live page `citewatch serve` shows at `/`: the same report with a filter
/// form (plain GET, no script) and a link to each source's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedPage {
    /// The service's base URL, ending with `/`: the form submits to it and
    /// history links are `{base}sources/{id}`.
    pub base: String,
    /// The statuses the form shows selected.
    pub statuses: Vec<&'static str>,
    /// The outlet filter as typed.
    pub outlet: Option<String>,
    /// Filters the form has no field for (`document`, `new`, `since`), as
    /// query pairs: kept as hidden fields, so choosing other statuses keeps
    /// the page narrowed as it was rather than widening it unsaid.
    pub kept: Vec<(&'static str, String)>,
}

impl<'w> Html<'w> {
    /// An HTML writer.
    pub fn new(out: &'w mut dyn Write) -> Html<'w> {
        Html {
            out,
            section: None,
            served: None,
        }
    }

    /// An HTML writer for the served page.
    pub fn served(out: &'w mut dyn Write, page: ServedPage) -> Html<'w> {
        Html {
            out,
            section: None,
            served: Some(page),
        }
    }

    fn filter_form(&mut self, page: &ServedPage) -> Result<(), ReportError> {
        let o = &mut self.out;
        writeln!(
            o,
            "<form class=\"filters\" method=\"get\" action=\"{}\"><fieldset><legend>Statuses</legend>",
            escape(&page.base)
        )?;
        for status in crate::report::select::STATUSES {
            let checked = if page.statuses.contains(status) {
                " checked"
            } else {
                ""
            };
            writeln!(
                o,
                "<label><input type=\"checkbox\" name=\"status\" value=\"{status}\"{checked}> {status}</label>"
            )?;
        }
        for (name, value) in &page.kept {
            writeln!(
                o,
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(name),
                escape(value)
            )?;
        }
        writeln!(
            o,
            "</fieldset><label>Outlet <input type=\"text\" name=\"outlet\" value=\"{}\"></label> \
             <button type=\"submit\">Show</button></form>",
            escape(page.outlet.as_deref().unwrap_or(""))
        )?;
        Ok(())
    }
}

/// Escapes text for HTML content and double-quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// Only http(s) URLs become links: a `javascript:` URL in a briefing stays text.
fn linkable(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

fn css_class(section: Option<Section>) -> &'static str {
    match section {
        Some(Section::Broken) => "broken",
        Some(Section::Changed) => "changed",
        Some(Section::Moved) => "moved",
        Some(Section::Watch) => "watch",
        _ => "other",
    }
}

impl Render for Html<'_> {
    fn start(&mut self, header: &Header, summary: &Summary) -> Result<(), ReportError> {
        let o = &mut self.out;
        let title = format!("citewatch report, {}", header.generated_at);
        write!(
            o,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'{}\">\n\
             <meta name=\"referrer\" content=\"no-referrer\">\n\
             <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
            if self.served.is_some() {
                "; form-action 'self'"
            } else {
                ""
            },
            escape(&title)
        )?;
        writeln!(o, "<header><h1>citewatch report</h1>")?;
        writeln!(
            o,
            "<p class=\"meta\">Generated {}.",
            escape(&header.generated_at)
        )?;
        let scope = scope_line(header);
        if !scope.is_empty() {
            write!(o, " Scope: {}.", escape(&scope))?;
        }
        writeln!(o, "</p>")?;
        let links: Vec<String> = sections(&header.statuses)
            .iter()
            .map(|s| format!("<a href=\"#{0}\">{0}</a>", s.name()))
            .collect();
        writeln!(
            o,
            "<nav><a href=\"#summary\">summary</a>{}</nav></header>",
            links.join("")
        )?;
        if let Some(page) = self.served.clone() {
            self.filter_form(&page)?;
        }
        let o = &mut self.out;
        writeln!(o, "<section id=\"summary\"><h2>Summary</h2>")?;
        writeln!(
            o,
            "<p><strong>{}</strong> of {}; <strong>{} broken</strong>.<br>{}.</p>",
            plural(summary.citations, "citation", "citations"),
            plural(summary.sources, "source", "sources"),
            thousands(summary.broken),
            escape(&movement_line(summary, header))
        )?;
        writeln!(
            o,
            "<table><thead><tr><th>status</th><th class=\"n\">citations</th><th class=\"n\">sources</th></tr></thead><tbody>"
        )?;
        for (s, c, n) in status_rows(summary) {
            writeln!(
                o,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                escape(s),
                thousands(c),
                thousands(n)
            )?;
        }
        writeln!(o, "</tbody></table>")?;
        if !summary.outlets.is_empty() {
            writeln!(
                o,
                "<table><thead><tr><th>outlet</th><th class=\"n\">citations</th><th class=\"n\">broken</th><th class=\"n\">broken %</th></tr></thead><tbody>"
            )?;
            for line in summary.outlets.iter().take(OUTLETS_SHOWN) {
                writeln!(
                    o,
                    "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:.1}%</td></tr>",
                    escape(outlet_name(&line.outlet)),
                    thousands(line.citations),
                    thousands(line.broken),
                    line.broken_percent
                )?;
            }
            writeln!(o, "</tbody></table>")?;
            if let Some(more) = outlets_not_shown(summary) {
                writeln!(o, "<p>… and {more} more.</p>")?;
            }
        }
        writeln!(o, "</section>")?;
        Ok(())
    }

    fn start_section(&mut self, s: &SectionHead) -> Result<(), ReportError> {
        self.section = Some(s.section);
        writeln!(
            self.out,
            "<section id=\"{}\"><h2>{} ({})</h2>\n<p class=\"advice\">{}.</p>",
            s.section.name(),
            escape(s.section.title()),
            thousands(s.citations),
            escape(s.section.advice())
        )?;
        if s.citations == 0 {
            writeln!(self.out, "<p>None.</p>")?;
        }
        Ok(())
    }

    fn start_document(&mut self, d: &DocumentHead) -> Result<(), ReportError> {
        writeln!(
            self.out,
            "<article class=\"doc\"><h3>{}</h3>",
            escape(&d.heading)
        )?;
        Ok(())
    }

    fn start_briefing(&mut self, b: &BriefingHead) -> Result<(), ReportError> {
        writeln!(
            self.out,
            "<div class=\"item\"><h4>#{} {}</h4>",
            b.item,
            escape(&b.title)
        )?;
        Ok(())
    }

    fn citation(&mut self, c: &Citation) -> Result<(), ReportError> {
        let o = &mut self.out;
        writeln!(o, "<div class=\"cite {}\">", css_class(self.section))?;
        let new = if c.new {
            " <span class=\"new\">new</span>"
        } else {
            ""
        };
        writeln!(
            o,
            "<p><span class=\"status\">{}</span> {}{new}</p>",
            escape(&c.status_label()),
            escape(&c.cited())
        )?;
        let url = c.shown_url();
        if linkable(url) {
            // Robust Links: the original in href, our archived copy beside it.
            let robust = match c.archived.as_ref().and_then(|a| Some((a, a.url.as_ref()?))) {
                Some((a, v)) => format!(
                    " data-versionurl=\"{}\" data-versiondate=\"{}\"",
                    escape(v),
                    escape(a.captured_at.get(..10).unwrap_or(&a.captured_at))
                ),
                None => String::new(),
            };
            writeln!(
                o,
                "<p class=\"url\"><a href=\"{}\"{robust}>{}</a></p>",
                escape(url),
                escape(url)
            )?;
        } else {
            writeln!(o, "<p class=\"url\"><code>{}</code></p>", escape(url))?;
        }
        let since = c
            .since_note()
            .map(|s| format!(" <span class=\"meta\">({})</span>", escape(&s)))
            .unwrap_or_default();
        writeln!(
            o,
            "<p class=\"evidence\">{}{since}</p>",
            escape(&c.evidence)
        )?;
        if self.section != Some(Section::Watch) {
            if let Some(u) = &c.new_url {
                let shown = if linkable(u) {
                    format!("<a href=\"{}\">{}</a>", escape(u), escape(u))
                } else {
                    format!("<code>{}</code>", escape(u))
                };
                writeln!(o, "<p class=\"url\">New URL: {shown}</p>")?;
            }
            if let Some(note) = c.as_cited_note() {
                writeln!(
                    o,
                    "<p>{}.</p>",
                    escape(&crate::report::model::capitalised(&note))
                )?;
            }
            if let Some(a) = &c.archived {
                write!(
                    o,
                    "<p class=\"archived\">Archived {} · sha256 <code>{}</code><br><code>{}</code>",
                    escape(&a.captured_at),
                    escape(&a.sha256),
                    escape(&a.get_command)
                )?;
                if let Some(u) = &a.url {
                    write!(o, "<br><a href=\"{}\">archived copy</a>", escape(u))?;
                }
                writeln!(o, "</p>")?;
            }
        }
        // The watch list too: a failing source's checks are what tell
        // whether its failure lasts.
        if let (Some(page), Some(id)) = (&self.served, c.source_id) {
            writeln!(
                o,
                "<p class=\"url\"><a href=\"{}sources/{id}\">history of this source</a></p>",
                escape(&page.base)
            )?;
        }
        if self.section != Some(Section::Watch)
            && let Some(w) = &c.wayback_url
        {
            writeln!(
                o,
                "<p class=\"url\"><a href=\"{}\">Wayback Machine snapshots</a></p>",
                escape(w)
            )?;
        }
        writeln!(o, "</div>")?;
        Ok(())
    }

    fn end_briefing(&mut self) -> Result<(), ReportError> {
        writeln!(self.out, "</div>")?;
        Ok(())
    }

    fn end_document(&mut self) -> Result<(), ReportError> {
        writeln!(self.out, "</article>")?;
        Ok(())
    }

    fn end_section(&mut self) -> Result<(), ReportError> {
        writeln!(self.out, "</section>")?;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ReportError> {
        writeln!(self.out, "</body>\n</html>")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failing_citation() -> Citation {
        Citation {
            id: 7,
            outlet: Some("Xinhua".into()),
            cited_date: Some("2020-12-26".into()),
            url: Some("http://a.example/x".into()),
            source_url: Some("http://a.example/x".into()),
            source_id: Some(42),
            status: "failing".into(),
            suspect: Some("dead".into()),
            status_since: Some("2026-11-04T02:00:00Z".into()),
            evidence: "404 Not Found (1 failing check since 2026-11-04)".into(),
            http_status: Some(404),
            new_url: None,
            similarity: None,
            baseline_date: None,
            archived: None,
            archived_after_baseline: false,
            wayback_url: Some(crate::report::model::wayback_url("http://a.example/x")),
            new: true,
        }
    }

    /// The served page's watch list had no link to a failing source's
    /// history, though its checks are what says whether the failure lasts.
    #[test]
    fn the_served_page_links_every_listed_source_to_its_history() {
        let mut out = Vec::new();
        let mut page = Html::served(
            &mut out,
            ServedPage {
                base: "/cw/".into(),
                statuses: crate::report::select::DEFAULT_STATUSES.to_vec(),
                outlet: None,
                kept: Vec::new(),
            },
        );
        page.start_section(&SectionHead {
            section: Section::Watch,
            citations: 1,
        })
        .unwrap();
        page.citation(&failing_citation()).unwrap();
        drop(page);
        let html = String::from_utf8(out).unwrap();
        assert!(html.contains("href=\"/cw/sources/42\""), "{html}");
    }

    #[test]
    fn escaping_covers_text_and_attributes() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert!(!linkable("javascript:alert(1)"));
        assert!(linkable("HTTPS://a.example/"));
    }
}
