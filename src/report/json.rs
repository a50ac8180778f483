//! The JSON report (schema `citewatch.report/1`, documented in the README):
//! written as it streams, one citation object per line, so memory stays flat.
//!
//! ```text
//! { header keys…, "summary": {…},
//!   "sections": [ { "section", "title", "citations", "documents": [
//!       { "root", "document", "briefings": [
//!           { "item", "title", "citations": [ {citation}, … ] } ] } ] } ] }
//! ```

use std::io::Write;

use serde::Serialize;

use super::model::{BriefingHead, Citation, DocumentHead, Header, SectionHead, Summary};
use super::{Render, ReportError};

/// Writes the JSON report.
pub struct Json<'w> {
    out: &'w mut dyn Write,
    /// Whether the next element at each open array level is its first.
    first: Vec<bool>,
    /// One citation's JSON, reused: output errors then come from `write_all`
    /// as plain I/O errors (a closed pipe stays recognisable).
    buf: Vec<u8>,
}

impl<'w> Json<'w> {
    /// A JSON writer.
    pub fn new(out: &'w mut dyn Write) -> Json<'w> {
        Json {
            out,
            first: Vec::new(),
            buf: Vec::with_capacity(1024),
        }
    }

    /// Writes the separator before an element of the innermost open array.
    fn element(&mut self) -> Result<(), ReportError> {
        if let Some(first) = self.first.last_mut() {
            if !*first {
                self.out.write_all(b",")?;
            }
            *first = false;
        }
        self.out.write_all(b"\n")?;
        Ok(())
    }

    /// Writes `value`'s object without its closing brace, then `,"key":[`.
    fn open<T: Serialize>(&mut self, value: &T, key: &str) -> Result<(), ReportError> {
        let mut text = serde_json::to_string(value).map_err(std::io::Error::other)?;
        // Every head serializes to a non-empty object: drop its `}` to add the list.
        text.pop();
        write!(self.out, "{text},\"{key}\":[")?;
        self.first.push(true);
        Ok(())
    }

    fn close(&mut self) -> Result<(), ReportError> {
        self.first.pop();
        self.out.write_all(b"]}")?;
        Ok(())
    }
}

#[derive(Serialize)]
struct SectionJson {
    section: &'static str,
    title: &'static str,
    citations: i64,
}

#[derive(Serialize)]
struct Top<'a> {
    #[serde(flatten)]
    header: &'a Header,
    summary: &'a Summary,
}

impl Render for Json<'_> {
    fn start(&mut self, header: &Header, summary: &Summary) -> Result<(), ReportError> {
        self.open(&Top { header, summary }, "sections")
    }

    fn start_section(&mut self, s: &SectionHead) -> Result<(), ReportError> {
        self.element()?;
        self.open(
            &SectionJson {
                section: s.section.name(),
                title: s.section.title(),
                citations: s.citations,
            },
            "documents",
        )
    }

    fn start_document(&mut self, d: &DocumentHead) -> Result<(), ReportError> {
        self.element()?;
        self.open(d, "briefings")
    }

    fn start_briefing(&mut self, b: &BriefingHead) -> Result<(), ReportError> {
        self.element()?;
        self.open(b, "citations")
    }

    fn citation(&mut self, c: &Citation) -> Result<(), ReportError> {
        self.element()?;
        self.buf.clear();
        serde_json::to_writer(&mut self.buf, c).map_err(std::io::Error::other)?;
        self.out.write_all(&self.buf)?;
        Ok(())
    }

    fn end_briefing(&mut self) -> Result<(), ReportError> {
        self.close()
    }

    fn end_document(&mut self) -> Result<(), ReportError> {
        self.close()
    }

    fn end_section(&mut self) -> Result<(), ReportError> {
        self.close()
    }

    fn finish(&mut self) -> Result<(), ReportError> {
        self.close()?;
        self.out.write_all(b"\n")?;
        Ok(())
    }
}
