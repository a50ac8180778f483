//! The text of a cited PDF, so that a report replaced by another document at
//! the same address is found as a rewritten page is, while the same report
//! re-served with other bytes (a new producer stamp, a re-saved file) is not.
//!
//! Pure and bounded: a function of the body alone, whatever a server sent.
//! PDF parsers meet hostile input (decompression bombs, endless page trees,
//! deep nesting), so only the first [`MAX_PDF_BYTES`] of a body are parsed
//! at all, every decompressed stream and the pages' content together are
//! capped, at most [`MAX_PAGES`] pages and [`MAX_TEXT_BYTES`] of text are read,
//! a page naming more than [`MAX_PAGE_FONTS`] fonts is read without them (see
//! `fonts`), and a panic inside the parser is caught here and becomes an
//! error (the page reading's own guard stands behind it, see
//! `check::assess`). The
//! bounds are sizes, not a clock, so the same bytes always give the same text.
//! Only the pages read cost work, however many the document has: its page
//! tree is walked once, not once a page (see `page`).

#[cfg(test)]
mod allocations;
mod fonts;
mod page;

use std::panic::{AssertUnwindSafe, catch_unwind};

use std::collections::HashMap;

use lopdf::{Document, LoadOptions};

pub use fonts::MAX_PAGE_FONTS;

/// The version of how a PDF becomes text. Readings of PDFs made by another
/// (0: before PDFs were read at all, when their readings held no text) are
/// read again from the archived body when compared (see
/// `analyze::Subject::new`), never compared as they are.
pub const PDF_TEXT_VERSION: u8 = 1;

/// Larger PDFs are not parsed: they are judged by their answer alone, as all
/// PDFs were before. A report of a few hundred pages is a few MiB; parsing
/// costs memory several times the file's size.
pub const MAX_PDF_BYTES: usize = 16 << 20;

/// The most any one stream may decompress to while the document is loaded
/// (object and cross-reference streams): a few kilobytes of deflate can
/// otherwise claim gigabytes.
pub const MAX_STREAM_BYTES: usize = 16 << 20;

/// The most the pages' content streams may decompress to, all pages
/// together; pages past it are not read.
pub const MAX_CONTENT_BYTES: usize = 32 << 20;

/// Only the first pages are read: what was cited is the same document when
/// its first hundreds of pages are.
pub const MAX_PAGES: usize = 300;

/// The text kept, at most (cut at a character boundary): far more than the
/// comparison needs to tell two documents apart.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

/// Why a PDF's text could not be had.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PdfError {
    /// The parser gave up on the document (damaged, or encrypted with a
    /// password).
    #[error("the PDF could not be parsed: {0}")]
    Parse(String),
    /// The parser panicked: its bug, caught, costing only this document.
    #[error("the PDF parser failed on it: {0}")]
    Panicked(String),
}

/// The text of a PDF's first pages, one line per line of text as the
/// document draws it; empty for a document with no text (a scan) or one
/// larger than [`MAX_PDF_BYTES`].
pub fn text(body: &[u8]) -> Result<String, PdfError> {
    if body.len() > MAX_PDF_BYTES {
        return Ok(String::new());
    }
    guarded(body, extract)
}

/// `extract` of `body`, its panic an error.
fn guarded(
    body: &[u8],
    extract: fn(&[u8]) -> Result<String, PdfError>,
) -> Result<String, PdfError> {
    match catch_unwind(AssertUnwindSafe(|| extract(body))) {
        Ok(text) => text,
        Err(panic) => Err(PdfError::Panicked(super::assess::panic_message(
            panic.as_ref(),
        ))),
    }
}

fn extract(body: &[u8]) -> Result<String, PdfError> {
    load(body).map(|doc| read(&doc))
}

/// `body` parsed, no stream decompressed past [`MAX_STREAM_BYTES`].
fn load(body: &[u8]) -> Result<Document, PdfError> {
    let options = LoadOptions {
        max_decompressed_size: Some(MAX_STREAM_BYTES),
        ..LoadOptions::default()
    };
    Document::load_mem_with_options(body, options).map_err(|e| PdfError::Parse(e.to_string()))
}

/// The text of `doc`'s first pages, within the bounds.
fn read(doc: &Document) -> String {
    let mut text = String::new();
    let mut budget = MAX_CONTENT_BYTES;
    let mut font_maps = HashMap::new();
    // The page tree is walked once, as far as the pages read. lopdf's walk
    // keeps its own stack, at most 256 deep, and ends after as many steps
    // as the document has objects, however its tree loops.
    for page in doc.page_iter().take(MAX_PAGES) {
        // A page whose fonts cannot be found, or are too many to list,
        // shows no text the parser can read; its content is charged all the
        // same.
        let fonts = fonts::page_fonts(doc, page);
        // Each page decodes its fonts' character maps again: charged to the
        // budget, or a small file of many pages sharing one huge map cost
        // minutes. All its fonts are charged, not only those its text uses,
        // as when lopdf's extractor decoded them all: a document reads as
        // far as it did.
        let maps = fonts.as_ref().map_or(0, |fonts| {
            fonts::font_map_bytes(doc, fonts, budget, &mut font_maps)
        });
        if maps >= budget {
            break;
        }
        budget -= maps;
        // The page's content and maps are decoded within what was left of
        // the budget before the content was charged.
        let allowed = budget;
        let Ok(content) = doc.get_page_content_with_limit(page, allowed) else {
            break;
        };
        budget -= content.len().min(budget);
        if let Some(fonts) = &fonts {
            page::page_text(doc, fonts, &content, allowed, &mut text);
        }
        if !text.ends_with('\n') {
            text.push('\n');
        }
        if text.len() >= MAX_TEXT_BYTES || budget == 0 {
            break;
        }
    }
    if text.len() > MAX_TEXT_BYTES {
        let mut cut = MAX_TEXT_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    if text.trim().is_empty() {
        return String::new();
    }
    // Text drawn with a font that maps no character comes out as control
    // bytes: nothing a reader sees.
    text.chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simweb::pdf_document;
    use lopdf::{Dictionary, Object};

    /// `pages` pages, each drawing "Hi" in a font named twice in the
    /// resources, whose character map decodes to `map_bytes`.
    fn many_pages_sharing_one_font_map(pages: usize, map_bytes: usize) -> Vec<u8> {
        let mut bytes = Vec::new();
        many_pages_document(pages, map_bytes, 2)
            .save_to(&mut bytes)
            .unwrap();
        bytes
    }

    /// The document of [`many_pages_sharing_one_font_map`], its font named
    /// `names` times (`F0`, `F1`, ...) in the resources all its pages share.
    fn many_pages_document(pages: usize, map_bytes: usize, names: usize) -> Document {
        use lopdf::content::{Content, Operation};
        use lopdf::{Stream, dictionary};
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let mut map = Stream::new(dictionary! {}, vec![b' '; map_bytes]);
        map.compress().unwrap();
        let map_id = doc.add_object(map);
        let font_id = doc.add_object(dictionary! {
            "Type" => "Font",
            "Subtype" => "Type1",
            "BaseFont" => "Helvetica",
            "ToUnicode" => map_id,
        });
        let mut fonts = Dictionary::new();
        for n in 0..names {
            fonts.set(format!("F{n}"), font_id);
        }
        let resources_id = doc.add_object(dictionary! { "Font" => fonts });
        let ops = vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F0".into(), 11.into()]),
            Operation::new("Tj", vec![Object::string_literal("Hi")]),
            Operation::new("ET", vec![]),
        ];
        let content = Content { operations: ops }.encode().unwrap();
        let content_id = doc.add_object(Stream::new(dictionary! {}, content));
        let kids: Vec<Object> = (0..pages)
            .map(|_| {
                doc.add_object(dictionary! {
                    "Type" => "Page",
                    "Parent" => pages_id,
                    "Contents" => content_id,
                })
                .into()
            })
            .collect();
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {
                "Type" => "Pages",
                "Kids" => kids,
                "Count" => pages as i64,
                "Resources" => resources_id,
                "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            }),
        );
        let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog_id);
        doc
    }

    #[test]
    fn only_the_pages_read_cost_work_however_many_the_document_has() {
        // Each page read used to walk the whole page tree again to find the
        // page by its number: 80,000 pages cost 10 s. The work is counted in
        // allocations (each walk built a map of every page), not time.
        let work = |pages: usize| {
            let mut pdf = Vec::new();
            // In object streams, as producers write many objects: small.
            many_pages_document(pages, 10, 2)
                .save_modern(&mut pdf)
                .unwrap();
            assert!(pdf.len() < 1 << 20, "{} bytes", pdf.len());
            let doc = load(&pdf).unwrap();
            let before = allocations::made();
            let text = read(&doc);
            let made = allocations::made() - before;
            assert_eq!(text.lines().count(), MAX_PAGES, "{pages} pages");
            assert!(text.lines().all(|line| line == "Hi"), "{text:?}");
            made
        };
        let few = work(MAX_PAGES * 2);
        let many = work(50_000);
        assert!(
            many <= few + few / 10,
            "{many} allocations for the first {MAX_PAGES} of 50,000 pages, {few} of {}",
            MAX_PAGES * 2
        );
    }

    #[test]
    fn pages_naming_thousands_of_fonts_cost_no_more_than_pages_naming_two() {
        // Pages sharing one list of 100,000 font names (245 KB of file) were
        // each given the whole list, and every font on it was looked up for
        // its character maps: 30 s. The work is counted in allocations (the
        // list was built again for each page), not time.
        let work = |names: usize| {
            let mut pdf = Vec::new();
            many_pages_document(MAX_PAGES, 0, names)
                .save_modern(&mut pdf)
                .unwrap();
            let doc = load(&pdf).unwrap();
            let before = allocations::made();
            let text = read(&doc);
            (allocations::made() - before, text)
        };
        let (few, text) = work(2);
        assert_eq!(text.lines().count(), MAX_PAGES, "{text:?}");
        let (many, text) = work(5_000);
        assert!(
            many <= few,
            "{many} allocations for pages naming 5,000 fonts, {few} naming two"
        );
        // Read without their fonts, the pages show no text.
        assert_eq!(text, "");
    }

    #[test]
    fn a_page_naming_as_many_fonts_as_the_bound_is_read_with_them() {
        let read = |names: usize| {
            let mut pdf = Vec::new();
            many_pages_document(3, 10, names).save_to(&mut pdf).unwrap();
            text(&pdf).unwrap()
        };
        assert_eq!(read(MAX_PAGE_FONTS), "Hi\nHi\nHi\n");
        assert_eq!(read(MAX_PAGE_FONTS + 1), "");
    }

    #[test]
    fn fonts_character_maps_are_charged_to_the_budget() {
        // Decoded again for each font name on each page, a 6 MiB map would
        // be 3.6 GB of decoding over 300 pages; charged, the budget stops
        // the reading after two pages.
        let pdf = many_pages_sharing_one_font_map(300, 6 << 20);
        assert!(pdf.len() < 100_000, "{} bytes", pdf.len());
        let read = text(&pdf).map(|t| t.lines().count()).unwrap_or(0);
        assert!(read <= 3, "{read} pages read");
        // A small map costs nothing worth counting: every page is read.
        let pdf = many_pages_sharing_one_font_map(20, 1000);
        let read = text(&pdf).unwrap();
        assert!(read.lines().count() >= 20, "{read:?}");
    }

    #[test]
    fn a_looping_or_deep_page_tree_is_walked_within_bounds() {
        use lopdf::{Stream, dictionary};
        // Two page-tree nodes among their own and each other's kids, and
        // below them a chain of 2,000 nodes, each with a page: the walk
        // neither loops nor recurses for ever, and at most MAX_PAGES pages
        // are read.
        let mut doc = Document::with_version("1.5");
        let font = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
        });
        let content = doc.add_object(Stream::new(
            dictionary! {},
            b"BT /F1 11 Tf (Hi) Tj ET".to_vec(),
        ));
        let (root, other) = (doc.new_object_id(), doc.new_object_id());
        let chain: Vec<_> = (0..2_000).map(|_| doc.new_object_id()).collect();
        let page = |doc: &mut Document, parent| -> Object {
            doc.add_object(dictionary! {
                "Type" => "Page", "Parent" => parent, "Contents" => content,
            })
            .into()
        };
        let node = |kids: Vec<Object>| {
            Object::Dictionary(dictionary! {
                "Type" => "Pages",
                "Kids" => kids,
                "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
            })
        };
        let kids = vec![
            root.into(),
            other.into(),
            page(&mut doc, root),
            chain[0].into(),
        ];
        doc.objects.insert(root, node(kids));
        let kids = vec![other.into(), root.into(), page(&mut doc, other)];
        doc.objects.insert(other, node(kids));
        for (at, &id) in chain.iter().enumerate() {
            let mut kids = vec![page(&mut doc, root)];
            kids.extend(chain.get(at + 1).map(|&next| Object::from(next)));
            doc.objects.insert(id, node(kids));
        }
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => root });
        doc.trailer.set("Root", catalog);
        let mut pdf = Vec::new();
        doc.save_to(&mut pdf).unwrap();
        let text = text(&pdf).unwrap();
        assert!(text.lines().count() <= MAX_PAGES, "{text:?}");
        assert!(text.contains("Hi"), "{text:?}");
    }

    const REPORT: [&str; 2] = [
        "The committee passed amendments to the national defense law on Saturday, and officials said the new rules take effect next year.",
        "Delegates debated the draft for three days before the vote.",
    ];

    #[test]
    fn a_pdfs_text_is_read_line_by_line() {
        let text = text(&pdf_document("Defense law", &REPORT, 1)).unwrap();
        assert!(text.contains("Defense law"), "{text}");
        assert!(
            text.contains("Delegates debated the draft for three days before the vote."),
            "{text}"
        );
        assert!(text.lines().count() >= 3, "{text}");
    }

    #[test]
    fn the_same_document_in_other_bytes_reads_the_same() {
        let (a, b) = (
            pdf_document("Defense law", &REPORT, 1),
            pdf_document("Defense law", &REPORT, 2),
        );
        assert_ne!(a, b);
        assert_eq!(text(&a).unwrap(), text(&b).unwrap());
    }

    #[test]
    fn what_is_no_pdf_or_a_broken_one_is_an_error_not_a_panic() {
        for body in [
            &b"%PDF-1.7\nnot really a pdf at all"[..],
            b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
            b"",
        ] {
            // Whatever the parser makes of it, it says so without panicking;
            // none of it holds text.
            assert!(text(body).is_ok_and(|t| t.trim().is_empty()) || text(body).is_err());
        }
        assert!(matches!(
            text(b"%PDF-1.7\nnot really a pdf at all"),
            Err(PdfError::Parse(_))
        ));
        // Cut short: the cross-reference table at its end is gone.
        let whole = pdf_document("Defense law", &REPORT, 1);
        let cut = &whole[..whole.len() / 3];
        assert!(text(cut).is_ok_and(|t| !t.contains("Delegates")) || text(cut).is_err());
    }

    #[test]
    fn a_pdf_past_the_size_bound_is_not_parsed() {
        let mut big = pdf_document("Defense law", &REPORT, 1);
        big.resize(MAX_PDF_BYTES + 1, b' ');
        assert_eq!(text(&big), Ok(String::new()));
    }

    /// The one-page report with its page's content stream replaced by
    /// `deflated` (zlib, as FlateDecode reads it): how a test gives a page
    /// contents of a size it chooses.
    fn report_with_first_page_deflated(deflated: Vec<u8>) -> Vec<u8> {
        let mut doc = lopdf::Document::load_mem(&pdf_document("Defense law", &REPORT, 1)).unwrap();
        let page = doc.page_iter().next().unwrap();
        let mut dict = lopdf::Dictionary::new();
        dict.set("Filter", lopdf::Object::Name(b"FlateDecode".to_vec()));
        let stream = lopdf::Stream::new(dict, deflated).with_compression(false);
        let id = doc.add_object(stream);
        doc.get_dictionary_mut(page)
            .unwrap()
            .set("Contents", lopdf::Object::Reference(id));
        let mut body = Vec::new();
        doc.save_to(&mut body).unwrap();
        body
    }

    #[test]
    fn a_decompression_bomb_is_refused_within_its_bound() {
        use std::io::Write;
        // A page whose content stream inflates to 64 MiB of spaces: past the
        // content budget, so the page is not read (and never held whole).
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        let spaces = vec![b' '; 1 << 20];
        for _ in 0..64 {
            z.write_all(&spaces).unwrap();
        }
        let body = report_with_first_page_deflated(z.finish().unwrap());
        let text = text(&body).unwrap();
        assert!(!text.contains("Delegates"), "{text}");
    }

    #[test]
    fn a_page_of_most_of_the_content_budget_is_still_read() {
        use std::io::Write;
        // 20 MiB of spaces, then the text: within the budget, though the
        // budget left after charging the page is less than the page.
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        let spaces = vec![b' '; 1 << 20];
        for _ in 0..20 {
            z.write_all(&spaces).unwrap();
        }
        z.write_all(b"BT /F1 11 Tf 50 780 Td (Delegates debated the draft.) Tj ET")
            .unwrap();
        let body = report_with_first_page_deflated(z.finish().unwrap());
        let text = text(&body).unwrap();
        assert!(text.contains("Delegates debated the draft."), "{text:?}");
    }

    #[test]
    fn deep_nesting_is_refused_not_recursed_into() {
        // In an object of the file, and in a page's content stream.
        let deep = |n: usize| {
            let mut v = vec![b'['; n];
            v.extend(std::iter::repeat_n(b']', n));
            v
        };
        let mut raw = b"%PDF-1.4\n1 0 obj\n".to_vec();
        raw.extend(deep(200_000));
        raw.extend_from_slice(b"\nendobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");
        assert!(text(&raw).is_err() || text(&raw).is_ok_and(|t| t.is_empty()));
        let mut doc = lopdf::Document::load_mem(&pdf_document("Defense law", &REPORT, 1)).unwrap();
        let page = doc.page_iter().next().unwrap();
        let mut content = deep(200_000);
        content.extend_from_slice(b" (Delegates) Tj");
        let id = doc.add_object(lopdf::Stream::new(lopdf::Dictionary::new(), content));
        doc.get_dictionary_mut(page)
            .unwrap()
            .set("Contents", lopdf::Object::Reference(id));
        let mut body = Vec::new();
        doc.save_to(&mut body).unwrap();
        assert!(text(&body).is_ok_and(|t| !t.contains("Delegates")));
    }

    #[test]
    fn a_panic_in_the_parser_is_an_error_of_this_document() {
        let panicked = guarded(b"%PDF-1.7", |_| panic!("parser bug"));
        assert_eq!(panicked, Err(PdfError::Panicked("parser bug".into())));
        assert_eq!(
            panicked.unwrap_err().to_string(),
            "the PDF parser failed on it: parser bug"
        );
    }
}
