//! The CSV report: one row per listed citation, for spreadsheets. No summary
//! rows, so every row has the same columns ([`HEADER`]). A cell that a
//! spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or
//! carriage return) is prefixed with `'`, and every cell is quoted: a
//! spreadsheet whose locale separates lists with `;` splits an unquoted
//! `News;=cmd` into two cells, the second a formula.

use std::io::Write;

use super::model::{BriefingHead, Citation, DocumentHead, Header, SectionHead, Summary};
use super::select::Section;
use super::{Render, ReportError};

/// The columns, in order.
pub const HEADER: &[&str] = &[
    "section",
    "status",
    "suspect",
    "new",
    "root",
    "document",
    "item",
    "title",
    "outlet",
    "cited_date",
    "url",
    "source_url",
    "status_since",
    "evidence",
    "http_status",
    "new_url",
    "baseline_date",
    "archived_capture_id",
    "archived_at",
    "archived_sha256",
    "archived_url",
    "get_command",
    "wayback_url",
    // Last, so that the columns scripts read by position before it came stay put.
    "citation_id",
];

/// Writes the CSV report.
pub struct Csv<'w> {
    out: ::csv::Writer<&'w mut dyn Write>,
    section: Section,
    document: DocumentHead,
    briefing: BriefingHead,
}

impl<'w> Csv<'w> {
    /// A CSV writer.
    pub fn new(out: &'w mut dyn Write) -> Csv<'w> {
        Csv {
            out: writer(out),
            section: Section::Broken,
            document: DocumentHead {
                root: String::new(),
                document: String::new(),
                heading: String::new(),
            },
            briefing: BriefingHead {
                item: 0,
                title: String::new(),
            },
        }
    }
}

/// The CSV writer: every cell quoted (see the module's note on `;`).
fn writer(out: &mut dyn Write) -> ::csv::Writer<&mut dyn Write> {
    ::csv::WriterBuilder::new()
        .quote_style(::csv::QuoteStyle::Always)
        .from_writer(out)
}

/// Makes a cell inert in spreadsheets: a leading `=`, `+`, `-`, `@`, tab or
/// carriage return gets a `'` in front (OWASP's advice for CSV injection).
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

impl Render for Csv<'_> {
    fn start(&mut self, _: &Header, _: &Summary) -> Result<(), ReportError> {
        self.out.write_record(HEADER)?;
        Ok(())
    }

    fn start_section(&mut self, s: &SectionHead) -> Result<(), ReportError> {
        self.section = s.section;
        Ok(())
    }

    fn start_document(&mut self, d: &DocumentHead) -> Result<(), ReportError> {
        self.document = d.clone();
        Ok(())
    }

    fn start_briefing(&mut self, b: &BriefingHead) -> Result<(), ReportError> {
        self.briefing = b.clone();
        Ok(())
    }

    fn citation(&mut self, c: &Citation) -> Result<(), ReportError> {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let a = c.archived.as_ref();
        let cells: [String; 24] = [
            self.section.name().to_string(),
            c.status.clone(),
            opt(&c.suspect),
            c.new.to_string(),
            self.document.root.clone(),
            self.document.document.clone(),
            self.briefing.item.to_string(),
            self.briefing.title.clone(),
            opt(&c.outlet),
            opt(&c.cited_date),
            opt(&c.url),
            opt(&c.source_url),
            opt(&c.status_since),
            c.evidence.clone(),
            c.http_status.map(|s| s.to_string()).unwrap_or_default(),
            opt(&c.new_url),
            opt(&c.baseline_date),
            a.map(|a| a.capture_id.to_string()).unwrap_or_default(),
            a.map(|a| a.captured_at.clone()).unwrap_or_default(),
            a.map(|a| a.sha256.clone()).unwrap_or_default(),
            a.and_then(|a| a.url.clone()).unwrap_or_default(),
            a.map(|a| a.get_command.clone()).unwrap_or_default(),
            opt(&c.wayback_url),
            c.id.to_string(),
        ];
        self.out
            .write_record(cells.iter().map(|c| neutralise(c).into_owned()))?;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ReportError> {
        self.out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        for bad in ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "\tx"] {
            assert!(neutralise(bad).starts_with('\''), "{bad}");
        }
        assert_eq!(neutralise("Xinhua"), "Xinhua");
        assert_eq!(neutralise(""), "");
    }

    #[test]
    fn a_cell_holding_the_other_list_separator_stays_one_cell() {
        let mut buf = Vec::new();
        let mut w = writer(&mut buf);
        w.write_record(["Semi;=HYPERLINK(\"http://evil.example/\")", "News", "7"])
            .unwrap();
        drop(w);
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "\"Semi;=HYPERLINK(\"\"http://evil.example/\"\")\",\"News\",\"7\"\n"
        );
    }
}
