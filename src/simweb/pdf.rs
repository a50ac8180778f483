//! Small PDFs of a title and paragraphs, as reports are cited: written here
//! rather than shipped, so tests and demos can make the same document in
//! other bytes (another `stamp`) or another document at will.

use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, dictionary};

/// Characters on one drawn line: paragraphs are wrapped at words.
const LINE_CHARS: usize = 80;

/// A one-page PDF (compressed, as producers write them) drawing `title` and
/// then `paragraphs` in Helvetica. `stamp` goes into its document
/// information only: two stamps give two files of one text, as a report
/// saved again by its producer does.
pub fn pdf_document(title: &str, paragraphs: &[&str], stamp: u64) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let resources_id = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => font_id },
    });
    let mut ops = vec![
        Operation::new("BT", vec![]),
        Operation::new("Tf", vec!["F1".into(), 11.into()]),
        Operation::new("TL", vec![14.into()]),
        Operation::new("Td", vec![50.into(), 780.into()]),
    ];
    let mut line = |text: &str| {
        ops.push(Operation::new("Tj", vec![Object::string_literal(text)]));
        ops.push(Operation::new("T*", vec![]));
    };
    line(title);
    for paragraph in paragraphs {
        let mut current = String::new();
        for word in paragraph.split_whitespace() {
            if !current.is_empty() && current.len() + 1 + word.len() > LINE_CHARS {
                line(&current);
                current.clear();
            }
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
        }
        if !current.is_empty() {
            line(&current);
        }
    }
    ops.push(Operation::new("ET", vec![]));
    let content = Content { operations: ops }.encode().unwrap_or_default();
    let content_id = doc.add_object(Stream::new(dictionary! {}, content));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "Contents" => content_id,
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![page_id.into()],
            "Count" => 1,
            "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
    });
    let info_id = doc.add_object(dictionary! {
        "Producer" => Object::string_literal(format!("simweb report writer, run {stamp}")),
    });
    doc.trailer.set("Root", catalog_id);
    doc.trailer.set("Info", info_id);
    doc.compress();
    let mut bytes = Vec::new();
    // Writing to memory fails only on a bug of ours; an empty body then
    // reads as no PDF at all.
    let _ = doc.save_to(&mut bytes);
    bytes
}
