//! A page's fonts, as lopdf lists them, unless listing them would cost more
//! than any document's page does.
//!
//! lopdf builds a page's font list afresh for each page from every `/Font`
//! dictionary the page and its ancestors name, and each font on the list is
//! charged for its character maps (`font_map_bytes`). Pages sharing one
//! resources dictionary of 100,000 font names (a few hundred kilobytes of
//! file, or less in an object stream) cost 300 × 100,000 lookups that way:
//! so a page naming more than [`MAX_PAGE_FONTS`] is read without its fonts,
//! as a page whose fonts cannot be found is, and costs only its count.

use std::collections::{BTreeMap, HashMap};

use lopdf::{Dictionary, Document, Object, ObjectId};

/// The most font names a page's resources may hold, counted as lopdf walks
/// them (the page's and each ancestor's, a dictionary named twice counted
/// twice): far more than any page draws with, few enough that 300 pages
/// cost little.
pub const MAX_PAGE_FONTS: usize = 1_000;

/// The fonts of `page` by name; none when they cannot be found or are more
/// than [`MAX_PAGE_FONTS`].
pub(super) fn page_fonts(doc: &Document, page: ObjectId) -> Option<BTreeMap<Vec<u8>, &Dictionary>> {
    let (nearest, referred) = doc.get_page_resources(page).ok()?;
    let referred = referred
        .iter()
        .filter_map(|&id| doc.get_dictionary(id).ok());
    let named: usize = nearest
        .into_iter()
        .chain(referred)
        .filter_map(|resources| font_names(doc, resources))
        .map(Dictionary::len)
        .sum();
    if named > MAX_PAGE_FONTS {
        return None;
    }
    doc.get_page_fonts(page).ok()
}

/// The `/Font` dictionary of `resources`, found as lopdf finds it.
fn font_names<'a>(doc: &'a Document, resources: &'a Dictionary) -> Option<&'a Dictionary> {
    match resources.get(b"Font").ok()? {
        Object::Reference(id) => doc.get_object(*id).and_then(Object::as_dict).ok(),
        Object::Dictionary(names) => Some(names),
        _ => None,
    }
}

/// What decoding the character maps of a page's `fonts` (`/ToUnicode`, and
/// an `/Encoding` given as a stream) costs, in decoded bytes: each distinct
/// map decoded once per document to learn its size (`sizes`), within
/// `budget`; one past it counts as the whole budget.
pub(super) fn font_map_bytes(
    doc: &Document,
    fonts: &BTreeMap<Vec<u8>, &Dictionary>,
    budget: usize,
    sizes: &mut HashMap<ObjectId, usize>,
) -> usize {
    let mut total = 0usize;
    for font in fonts.values() {
        for key in [&b"ToUnicode"[..], b"Encoding"] {
            let Ok(Object::Reference(id)) = font.get(key) else {
                continue;
            };
            let size = *sizes.entry(*id).or_insert_with(|| {
                match doc.get_object(*id).and_then(Object::as_stream) {
                    Ok(stream) => stream
                        .decompressed_content_with_limit(budget.max(1))
                        .map_or(budget, |c| c.len()),
                    Err(_) => 0,
                }
            });
            total = total.saturating_add(size);
            if total >= budget {
                return total;
            }
        }
    }
    total
}
