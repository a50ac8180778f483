//! One page's text, found by the page's object rather than its number.
//!
//! lopdf's extractor takes page numbers and walks the whole page tree to
//! find them on every call, so reading the first pages one by one of a
//! document of 80,000 cost 80,000 steps a page. Here the page tree is walked
//! once, by the caller, and each page is read from its object: the text
//! operators as lopdf's extractor reads them (lopdf 0.47's
//! `extract_text_chunks`), so that the text, and every reading stored of a
//! PDF, stays what it was.

use std::collections::BTreeMap;

use lopdf::content::Content;
use lopdf::{Dictionary, Document, Encoding, Object};

/// Appends the text drawn by `content` (a page's content, decoded) with
/// `fonts` (the page's) to `text`; nothing of a page whose content does not
/// parse. A character map is decoded within `limit`, and only for a font the
/// content selects.
pub(super) fn page_text(
    doc: &Document,
    fonts: &BTreeMap<Vec<u8>, &Dictionary>,
    content: &[u8],
    limit: usize,
    text: &mut String,
) {
    let Ok(content) = Content::decode(content) else {
        return;
    };
    let mut encodings: BTreeMap<&[u8], Option<Encoding>> = BTreeMap::new();
    let mut encoding = None;
    // What lopdf returned as one chunk of text in one font: where a line
    // ends is judged within it.
    let mut chunk = String::new();
    let mut page = String::new();
    for operation in &content.operations {
        match operation.operator.as_str() {
            "Tf" => {
                // lopdf gives up on the whole page there.
                let Some(font) = operation.operands.first() else {
                    return;
                };
                encoding = match font.as_name() {
                    Ok(name) => encodings
                        .entry(name)
                        .or_insert_with(|| {
                            fonts
                                .get(name)
                                .and_then(|font| font.get_font_encoding_with_limit(doc, limit).ok())
                        })
                        .as_ref(),
                    Err(_) => None,
                };
                page.push_str(&chunk);
                chunk.clear();
            }
            "Tj" | "TJ" => {
                if let Some(encoding) = encoding {
                    show(&mut chunk, encoding, &operation.operands);
                }
            }
            // `'` and `"` move to the next line, then show their string.
            "'" => {
                if let Some(encoding) = encoding {
                    end_line(&mut chunk);
                    show(&mut chunk, encoding, &operation.operands);
                }
            }
            "\"" => {
                if let Some(encoding) = encoding {
                    end_line(&mut chunk);
                    show(
                        &mut chunk,
                        encoding,
                        operation.operands.get(2..3).unwrap_or(&[]),
                    );
                }
            }
            "T*" | "ET" => end_line(&mut chunk),
            _ => {}
        }
    }
    page.push_str(&chunk);
    text.push_str(&page);
}

fn end_line(chunk: &mut String) {
    if !chunk.ends_with('\n') {
        chunk.push('\n');
    }
}

/// Appends the strings `operands` show, a space after each array and for
/// each wide gap between glyphs, stopping at the first string the encoding
/// cannot decode (what it decoded of it stays). Arrays in arrays are
/// followed on a stack of their own, not by recursion.
fn show(chunk: &mut String, encoding: &Encoding, operands: &[Object]) {
    let mut arrays = vec![operands.iter()];
    while let Some(array) = arrays.last_mut() {
        match array.next() {
            Some(Object::String(bytes, _)) => {
                if encoding.write_to_string(bytes, chunk).is_err() {
                    return;
                }
            }
            Some(Object::Array(inner)) => arrays.push(inner.iter()),
            Some(Object::Integer(gap)) if *gap < -100 => chunk.push(' '),
            Some(_) => {}
            None => {
                arrays.pop();
                if !arrays.is_empty() {
                    chunk.push(' ');
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::{Stream, dictionary};

    /// A one-page document whose page draws `content` with fonts of each
    /// kind of encoding: a named one, one lopdf cannot decode, a character
    /// map, none at all.
    fn one_page(content: &[u8]) -> (Document, lopdf::ObjectId) {
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let cmap = b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
            /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
            1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n\
            2 beginbfchar\n<0041> <0042>\n<0043> <00E9>\nendbfchar\n\
            endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n";
        let cmap_id = doc.add_object(Stream::new(dictionary! {}, cmap.to_vec()));
        let font = |encoding: Object| {
            dictionary! {
                "Type" => "Font",
                "Subtype" => "Type1",
                "BaseFont" => "Helvetica",
                "Encoding" => encoding,
            }
        };
        let named = doc.add_object(font("WinAnsiEncoding".into()));
        let unknown = doc.add_object(font("NoSuchEncoding".into()));
        let mapped = doc.add_object(dictionary! {
            "Type" => "Font",
            "Subtype" => "Type0",
            "BaseFont" => "Mapped",
            "ToUnicode" => cmap_id,
        });
        let plain = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1" });
        let content_id = doc.add_object(Stream::new(dictionary! {}, content.to_vec()));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
            "Resources" => dictionary! { "Font" => dictionary! {
                "F1" => named, "F2" => unknown, "F3" => mapped, "F4" => plain,
            } },
        });
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {
                "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
            }),
        );
        let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog_id);
        (doc, page_id)
    }

    #[test]
    fn a_page_reads_as_lopdfs_extractor_reads_it() {
        // Stored readings of PDFs were made by lopdf's extractor: the same
        // text, for every operator and font it handles, keeps them current.
        for content in [
            &b"BT /F1 11 Tf (Hello) Tj T* (World) Tj ET"[..],
            b"BT /F1 11 Tf [(A) -200 (B) 50 (C) [(D) -101 (E)]] TJ ET BT /F1 9 Tf ET",
            b"BT /F1 11 Tf (one) Tj /F3 11 Tf <00410043> Tj (two) ' ET /F1 11 Tf (x) Tj",
            b"BT /F2 11 Tf (undecodable) Tj [(a) (b)] TJ /F1 11 Tf (after) Tj ET",
            b"BT (no font yet) Tj (still none) ' /F9 11 Tf (unknown font) Tj ET",
            b"BT /F1 11 Tf (a) Tj T* T* 1 2 (b) \" 1 (c) \" ' ET ET",
            b"BT /F4 11 Tf (plain) Tj 5 Tf (number) Tj /F1 11 Tf (named) Tj ET",
            b"BT /F1 11 Tf (kept?) Tj Tf (lost) Tj ET",
            b"BT /F1 11 Tf (unclosed [array Tj ET",
            b"",
        ] {
            let (doc, page) = one_page(content);
            let theirs: String = doc
                .extract_text_chunks_with_limit(&[1], 1 << 20)
                .into_iter()
                .flatten()
                .collect();
            let fonts = doc.get_page_fonts(page).unwrap();
            let decoded = doc.get_page_content_with_limit(page, 1 << 20).unwrap();
            let mut ours = String::new();
            page_text(&doc, &fonts, &decoded, 1 << 20, &mut ours);
            assert_eq!(ours, theirs, "{}", String::from_utf8_lossy(content));
        }
    }
}
