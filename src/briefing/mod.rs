//! The briefing store: finding documents, reading them in any encoding, and
//! pulling out briefing items and their citations. Pure functions of the
//! document's bytes and of the date its file name gives; nothing here
//! touches the database or the network.

mod blocks;
mod cited_date;
mod decode;
mod html;
mod items;
mod markdown;
mod mounts;
mod walk;

use jiff::civil::Date;

pub use cited_date::document_date;
pub use decode::{
    Decoded, NotText, decode, decode_document, meta_charset, meta_claims_utf8_falsely,
    read_document, utf8_with_strays,
};
pub use mounts::unmounted_points;
pub use walk::{
    DocumentFile, WalkError, entry_named, find_documents, name_after_root, name_on_disk,
};

/// The version of the reading of documents into items and citations. Raise
/// it with every change that reads different items, citations, outlets or
/// dates out of the same bytes: sync reads again each document an older
/// version read, though its bytes are unchanged, so the mended reading
/// reaches the store (see the `reader` column of `documents`).
///
/// 6: a short UTF-8 document with a stray byte is UTF-8, not mojibake;
/// UTF-16 that is mostly Chinese is read as UTF-16; bytes that are no text
/// are named, not read as a document of no items.
pub const READER_VERSION: i64 = 6;

/// The document formats the briefing store may hold, chosen by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.txt`: the seed format, one item after another, `Source:` lines.
    Text,
    /// `.md`: the same, with Markdown headings and links.
    Markdown,
    /// `.html`, `.htm`: the same structure in markup.
    Html,
}

impl Format {
    /// The format for a file name, or `None` when the file is not a briefing document.
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "txt" => Some(Format::Text),
            "md" | "markdown" => Some(Format::Markdown),
            "html" | "htm" => Some(Format::Html),
            _ => None,
        }
    }

    /// Short name stored with the document.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "txt",
            Format::Markdown => "md",
            Format::Html => "html",
        }
    }
}

/// Where in an item a citation was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A `Source: Outlet, date` line and the URL with or after it.
    SourceLine,
    /// A "Click here to read" style link closing the item.
    ReadLink,
    /// Any other http(s) link in the item's body.
    Body,
}

impl Origin {
    /// Short name stored with the citation.
    pub fn name(self) -> &'static str {
        match self {
            Origin::SourceLine => "source_line",
            Origin::ReadLink => "read_link",
            Origin::Body => "body",
        }
    }
}

/// One citation as found in the document, before normalisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitedUrl {
    /// Where it was found.
    pub origin: Origin,
    /// The cited outlet, when the document names one.
    pub outlet: Option<String>,
    /// The cited date, ISO `YYYY-MM-DD`, when the document gives one; ISO
    /// `YYYY-MM` when it gives only the month ("December 2020"): a day
    /// would be made up. A month and day cited alone take their year from
    /// the document's date (see [`parse_dated`]).
    pub cited_date: Option<String>,
    /// The URL exactly as written; `None` when a `Source:` line had no URL.
    pub url: Option<String>,
    /// For links in body text: the link text or the sentence around it.
    pub context: Option<String>,
    /// A date the citation gives that cannot be read ("Decembr 40, 2020"), as
    /// written: the citation stays undated, and sync names it.
    pub unread_date: Option<String>,
    /// Whether `unread_date` is a numeric date that reads two ways
    /// (`03/04/2020`, month/day or day/month) rather than none: sync names
    /// it as ambiguous, so the editor knows to write the month out.
    pub ambiguous_date: bool,
}

/// One briefing item and its citations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The item's whole title line.
    pub title: String,
    /// Its citations in document order.
    pub citations: Vec<CitedUrl>,
}

/// Extracts the items of a decoded document whose date is not known: a
/// cited date without a year (`December 26`) is left unread.
pub fn parse(format: Format, text: &str) -> Vec<Item> {
    parse_dated(format, text, None)
}

/// Extracts the items of a decoded document of the date `dated` (see
/// [`document_date`]). A daily briefing often cites the days just before it
/// by month and day alone (`Source: Xinhua, December 26`, `12月26日`): with
/// the document's date, that is a day in its year, or in the year before
/// when the day would come after the document's (a briefing of January 3,
/// 2021 citing "December 30"). Without it, the year would be a guess.
pub fn parse_dated(format: Format, text: &str, dated: Option<Date>) -> Vec<Item> {
    let blocks = match format {
        Format::Text => blocks::from_text(text),
        Format::Markdown => markdown::from_markdown(text),
        Format::Html => html::from_html(text),
    };
    items::split(blocks, dated)
}

#[cfg(test)]
mod tests;
