//! Bytes of a briefing document to text, whatever encoding it was saved in.
//!
//! Order of evidence: a byte-order mark, (for briefing documents) UTF-16
//! without one (by its NUL bytes, or by decoding cleanly to Chinese text
//! with line breaks), NUL bytes in anything else (a briefing document's:
//! not text, see [`read_document`]), valid UTF-8 (or UTF-8 but for a few
//! stray bytes), an HTML `<meta charset>` (for briefing documents, unless
//! it claims UTF-8 of bytes that are not), then a statistical guess
//! (chardetng), which handles GBK, GB18030, Big5 and Windows-1252, the
//! encodings this store meets.

use encoding_rs::Encoding;

/// Decoded text and the name of the encoding it was read as.
#[derive(Debug)]
pub struct Decoded {
    /// The document's text.
    pub text: String,
    /// The WHATWG name of the encoding used, e.g. `UTF-8` or `GBK`.
    pub encoding: &'static str,
    /// Bytes of a UTF-8 document that were not UTF-8, read as U+FFFD.
    pub replaced: usize,
    /// The offset in the file of the first of those bytes, so the editor
    /// can find it.
    pub first_replaced: Option<usize>,
}

/// A briefing document whose bytes are no text (a picture or a PDF saved
/// under a `.txt` name): read as text it gave no items, and its citations
/// were taken for withdrawn without a word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "not text: byte {offset} is NUL, which no text in an encoding citewatch reads holds \
     (a picture, a PDF or another binary file under a document's name?)"
)]
pub struct NotText {
    /// The offset of the first NUL byte.
    pub offset: usize,
}

/// How far into a document NUL bytes are looked for: as git and GNU diff
/// judge a file binary, by its start.
const NOT_TEXT_WINDOW: usize = 8000;

/// A document is UTF-8 with a few stray bytes when it holds at least this
/// many valid non-ASCII characters for each run of invalid bytes. In GBK or
/// Big5 text, pairs that happen to be valid UTF-8 are under a tenth of the
/// characters, so runs of invalid bytes outnumber them many times (but in a
/// text of two or three Chinese characters, chance alone gives one valid
/// pair now and then: hence a wide margin); in UTF-8 briefings, one byte
/// pasted from a Windows-1252 editor sits among hundreds of curly quotes,
/// dashes and names.
const CHARS_PER_STRAY: usize = 20;

/// For a briefing document, a run of invalid bytes is a stray too when
/// there are at least this many valid characters of three bytes or more
/// (U+0800 up: Chinese, curly quotes, dashes) for each run. A short
/// document naming one Chinese outlet (新华社) holds far fewer than
/// [`CHARS_PER_STRAY`], and one stray byte made a legacy encoding's guess
/// of it, every Chinese name mojibake. By chance, GBK or Big5 text makes a
/// valid three-byte sequence about once in thirty characters, while
/// nearly every one of its characters is a run of invalid bytes.
const WIDE_PER_STRAY: usize = 3;

/// How many of `bytes` are not UTF-8 and where the first is, when the rest
/// is UTF-8 with enough non-ASCII text in it to tell (also by
/// [`WIDE_PER_STRAY`] when `wide` is set); `None` when the bytes are
/// another encoding (or too little is UTF-8 to say: then only a guess can
/// tell).
fn stray_bytes(bytes: &[u8], wide: bool) -> Option<(usize, Option<usize>)> {
    let (mut invalid_runs, mut multibyte, mut three_or_more) = (0usize, 0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars().filter(|c| !c.is_ascii()) {
            multibyte += 1;
            three_or_more += usize::from(c.len_utf8() >= 3);
        }
        invalid_runs += usize::from(!chunk.invalid().is_empty());
    }
    let enough = multibyte >= CHARS_PER_STRAY * invalid_runs
        || (wide && three_or_more >= WIDE_PER_STRAY * invalid_runs);
    enough.then(|| invalid_bytes(bytes))
}

/// UTF-16 saved without a byte-order mark (Windows "Unicode" exports
/// stripped of it), told by its NUL bytes: every character below U+0100,
/// which the outlets, dates and URLs of a briefing are, has one in the
/// same half of its two bytes, and no text in another encoding holds NULs.
/// Read as UTF-8 (it is valid UTF-8 when all ASCII) or guessed, such a
/// document was text with a NUL between letters, and no Source line in it.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    let units = bytes.len() / 2;
    if units < 2 {
        return None;
    }
    let (mut first, mut second) = (0usize, 0usize);
    for unit in bytes.chunks_exact(2) {
        first += usize::from(unit[0] == 0);
        second += usize::from(unit[1] == 0);
    }
    let (nuls, elsewhere, encoding) = if second >= first {
        (second, first, encoding_rs::UTF_16LE)
    } else {
        (first, second, encoding_rs::UTF_16BE)
    };
    // A quarter of the text below U+0100 leaves room for a Chinese briefing
    // with English citations; NULs in the other half are the few characters
    // such as 一 (U+4E00) whose low byte is zero.
    (nuls * 4 >= units && elsewhere * 8 <= nuls).then_some(encoding)
}

/// UTF-16 without a byte-order mark that is mostly Chinese, which
/// [`utf16_without_bom`] cannot tell by its NULs (under a quarter of its
/// characters are ASCII). It is so when the bytes are not UTF-8, and read
/// as UTF-16 in one byte order they decode cleanly (no unpaired surrogate)
/// to text with a line break that is nearly all ASCII, Chinese and their
/// punctuation. A line break read so is a NUL byte and its neighbour, and
/// no text in a legacy encoding holds a NUL; GBK or Big5 read as UTF-16 is
/// Hangul, surrogates and private-use characters, and a binary file's
/// bytes anything at all. The byte order that reads more such characters
/// wins.
fn utf16_mostly_chinese(bytes: &[u8]) -> Option<&'static Encoding> {
    if bytes.len() < 4 || !bytes.len().is_multiple_of(2) || std::str::from_utf8(bytes).is_ok() {
        return None;
    }
    [encoding_rs::UTF_16LE, encoding_rs::UTF_16BE]
        .into_iter()
        .filter_map(|enc| {
            let text = enc.decode_without_bom_handling_and_without_replacement(bytes)?;
            let (mut total, mut plausible, mut breaks) = (0usize, 0usize, 0usize);
            for c in text.chars() {
                total += 1;
                plausible += usize::from(chinese_text_char(c));
                breaks += usize::from(c == '\n' || c == '\r');
            }
            (breaks > 0 && plausible * 20 >= total * 19).then_some((plausible, enc))
        })
        .max_by_key(|(plausible, _)| *plausible)
        .map(|(_, enc)| enc)
}

/// A character a Chinese briefing is written in: printable ASCII and line
/// breaks, Latin-1 letters, general and CJK punctuation, CJK ideographs,
/// full-width forms.
fn chinese_text_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='~')
        || matches!(
            c,
            '\u{A0}'..='\u{FF}'
                | '\u{2000}'..='\u{206F}'
                | '\u{3000}'..='\u{303F}'
                | '\u{3400}'..='\u{4DBF}'
                | '\u{4E00}'..='\u{9FFF}'
                | '\u{FF00}'..='\u{FFEF}'
        )
}

/// Reads a briefing document: as [`decode_document`], and besides, UTF-16
/// without a byte-order mark that is mostly Chinese is read as UTF-16
/// (`utf16_mostly_chinese`), a document with NUL bytes that is not
/// UTF-16 is [`NotText`], and a stray byte in a short UTF-8 document
/// stays a stray (`WIDE_PER_STRAY`).
///
/// Sync's alone: fetched pages read through [`decode_document`] and
/// [`utf8_with_strays`], whose readings stay as they were (a change there
/// is `check::page::DECODER_VERSION`'s).
pub fn read_document(bytes: &[u8], html: bool) -> Result<Decoded, NotText> {
    let bom = Encoding::for_bom(bytes);
    if bom.is_none()
        && let Some(enc) = utf16_without_bom(bytes).or_else(|| utf16_mostly_chinese(bytes))
    {
        let (text, _) = enc.decode_without_bom_handling(bytes);
        return Ok(Decoded {
            text: text.into_owned(),
            encoding: enc.name(),
            replaced: 0,
            first_replaced: None,
        });
    }
    let utf16 = bom.is_some_and(|(enc, _)| enc != encoding_rs::UTF_8);
    if !utf16
        && let Some(offset) = bytes[..bytes.len().min(NOT_TEXT_WINDOW)]
            .iter()
            .position(|b| *b == 0)
    {
        return Err(NotText { offset });
    }
    if bom.is_none()
        && std::str::from_utf8(bytes).is_err()
        && let Some((replaced, first_replaced)) = stray_bytes(bytes, true)
    {
        return Ok(Decoded {
            text: String::from_utf8_lossy(bytes).into_owned(),
            encoding: encoding_rs::UTF_8.name(),
            replaced,
            first_replaced,
        });
    }
    Ok(decode_document(bytes, html))
}

/// Decodes a document of text: as [`decode`], but a UTF-8 document with a
/// few stray bytes stays UTF-8 (those bytes read as U+FFFD) instead of
/// being guessed another encoding whole, UTF-16 without a byte-order
/// mark is read as UTF-16, and a `<meta>` claiming UTF-8 of other bytes
/// is not believed (see [`meta_claims_utf8_falsely`]).
///
/// Fetched pages use it only when their `<meta>` claims UTF-8 for bytes
/// that are not (see `check::page`). A UTF-16 page's `<meta>` cannot be
/// read byte by byte, so fetched pages are never read as UTF-16 here, and
/// their readings stay as they were.
pub fn decode_document(bytes: &[u8], html: bool) -> Decoded {
    if Encoding::for_bom(bytes).is_none()
        && let Some(enc) = utf16_without_bom(bytes)
    {
        let (text, _) = enc.decode_without_bom_handling(bytes);
        return Decoded {
            text: text.into_owned(),
            encoding: enc.name(),
            replaced: 0,
            first_replaced: None,
        };
    }
    if let Some(d) = utf8_with_strays(bytes) {
        return d;
    }
    // A UTF-8 byte-order mark settles the encoding: bytes after it that
    // are not UTF-8 are strays, named as they are without the mark.
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes)
        && enc == encoding_rs::UTF_8
    {
        let rest = &bytes[bom_len..];
        let (replaced, first) = invalid_bytes(rest);
        let first_replaced = first.map(|at| bom_len + at);
        return Decoded {
            text: String::from_utf8_lossy(rest).into_owned(),
            encoding: encoding_rs::UTF_8.name(),
            replaced,
            first_replaced,
        };
    }
    decode(bytes, html && !meta_claims_utf8_falsely(bytes))
}

/// How many of `bytes` are not UTF-8, and the offset of the first.
fn invalid_bytes(bytes: &[u8]) -> (usize, Option<usize>) {
    let (mut count, mut first, mut at) = (0usize, None, 0usize);
    for chunk in bytes.utf8_chunks() {
        at += chunk.valid().len();
        if !chunk.invalid().is_empty() {
            count += chunk.invalid().len();
            first = first.or(Some(at));
        }
        at += chunk.invalid().len();
    }
    (count, first)
}

/// Bytes that are UTF-8 but for a few stray bytes (see `CHARS_PER_STRAY`),
/// read as UTF-8 with those bytes as U+FFFD; `None` for valid UTF-8, bytes
/// with a byte-order mark, and bytes of another encoding.
pub fn utf8_with_strays(bytes: &[u8]) -> Option<Decoded> {
    if std::str::from_utf8(bytes).is_ok() || Encoding::for_bom(bytes).is_some() {
        return None;
    }
    // One stray byte must not make a guess of the whole document: read
    // as Windows-1252, every Chinese outlet and URL path in it became
    // mojibake, and the citations new sources.
    let (replaced, first_replaced) = stray_bytes(bytes, false)?;
    Some(Decoded {
        text: String::from_utf8_lossy(bytes).into_owned(),
        encoding: encoding_rs::UTF_8.name(),
        replaced,
        first_replaced,
    })
}

/// True when an HTML document's `<meta>` says UTF-8 of bytes that are not
/// UTF-8, with no byte-order mark to settle it. Templates say that of GBK
/// pages and briefings saved from them: believed, every Chinese character
/// was read as U+FFFD. The bytes then go to the detector, which knows better.
pub fn meta_claims_utf8_falsely(bytes: &[u8]) -> bool {
    Encoding::for_bom(bytes).is_none()
        && meta_charset(bytes) == Some(encoding_rs::UTF_8)
        && std::str::from_utf8(bytes).is_err()
}

/// Decodes a document. `html` enables the `<meta charset>` sniff.
pub fn decode(bytes: &[u8], html: bool) -> Decoded {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return Decoded {
            text: text.into_owned(),
            encoding: enc.name(),
            replaced: 0,
            first_replaced: None,
        };
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Decoded {
            text: text.to_string(),
            encoding: encoding_rs::UTF_8.name(),
            replaced: 0,
            first_replaced: None,
        };
    }
    let enc = html
        .then(|| meta_charset(bytes))
        .flatten()
        .unwrap_or_else(|| {
            let mut detector =
                chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
            detector.feed(bytes, true);
            detector.guess(None, chardetng::Utf8Detection::Allow)
        });
    let (text, _, _) = enc.decode(bytes);
    Decoded {
        text: text.into_owned(),
        encoding: enc.name(),
        replaced: 0,
        first_replaced: None,
    }
}

/// The charset an HTML document declares in its first 2 KiB, if any.
pub fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(2048)];
    let lower: Vec<u8> = head.to_ascii_lowercase();
    let pos = lower.windows(8).position(|w| w == b"charset=")?;
    let rest = &head[pos + 8..];
    let rest = rest
        .strip_prefix(b"\"")
        .or_else(|| rest.strip_prefix(b"'"))
        .unwrap_or(rest);
    let end = rest
        .iter()
        .position(|b| matches!(b, b'"' | b'\'' | b';' | b'>' | b' ' | b'/'))
        .unwrap_or(rest.len());
    Encoding::for_label(&rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A UTF-8 document saved with a byte-order mark (as Windows editors
    /// save it) and a stray byte pasted in: the byte was read as U+FFFD
    /// but not named, so the editor was never told to fix it.
    #[test]
    fn a_stray_byte_after_a_utf8_bom_is_named() {
        let mut bytes = b"\xEF\xBB\xBFTitle\nBeijing".to_vec();
        bytes.push(0x92);
        bytes.extend_from_slice(b"s plan\nSource: Xinhua, December 26, 2020\n");
        let d = decode_document(&bytes, false);
        assert_eq!((d.encoding, d.replaced), ("UTF-8", 1));
        assert_eq!(
            d.text,
            "Title\nBeijing\u{FFFD}s plan\nSource: Xinhua, December 26, 2020\n"
        );
        // Valid UTF-8 after the mark replaces nothing.
        let d = decode_document("\u{FEFF}Title 新华社\n".as_bytes(), false);
        assert_eq!(
            (d.encoding, d.replaced, d.text.as_str()),
            ("UTF-8", 0, "Title 新华社\n")
        );
    }

    #[test]
    fn a_stray_byte_in_utf8_is_replaced_not_a_reason_to_guess() {
        let text = "新华社：上海已陆续启动新冠病毒疫苗接种工作。\nSource: 新华社, December 26, 2020\n\
                    http://127.0.0.1/新闻/p1.html\nChina’s vaccines.\n";
        let mut bytes = text.as_bytes().to_vec();
        bytes.push(0x92); // a Windows-1252 apostrophe, pasted
        let d = decode_document(&bytes, false);
        assert_eq!(d.encoding, "UTF-8");
        assert_eq!(d.replaced, 1);
        assert_eq!(d.text, format!("{text}\u{FFFD}"));
        // English with curly quotes as UTF-8 and one as Windows-1252.
        let mut bytes = "China’s vaccines, ".repeat(20).into_bytes();
        bytes.extend_from_slice(b"Beijing\x92s plan");
        let d = decode_document(&bytes, false);
        assert_eq!((d.encoding, d.replaced), ("UTF-8", 1));
        assert!(d.text.contains("China’s") && d.text.contains("Beijing\u{FFFD}s"));
        // Fetched pages keep the plain rule (their stored readings do).
        assert_eq!(decode(&bytes, false).replaced, 0);
    }

    #[test]
    fn other_encodings_are_not_taken_for_utf8_with_stray_bytes() {
        // GBK and Big5 pairs are sometimes valid UTF-8 by chance.
        let text = "新华社：上海市疾病预防控制中心透露，上海已陆续启动新冠病毒疫苗接种工作，使用的是灭活疫苗。\
                    国务院联防联控机制新闻发布会介绍，重点人群接种工作正在有序开展。";
        for enc in [encoding_rs::GBK, encoding_rs::BIG5] {
            let (bytes, _, _) = enc.encode(text);
            assert_eq!(stray_bytes(&bytes, false), None, "{}", enc.name());
            assert_eq!(decode_document(&bytes, false).replaced, 0);
        }
        // A mostly English document naming one Chinese outlet in GBK: runs
        // of common characters, however many happen to be valid UTF-8, are
        // read as before (a lone 一, D2 BB, is valid UTF-8 whole: no rule
        // can tell, and none changed).
        let common: Vec<char> = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严".chars().collect();
        for n in 1..=6 {
            for start in 0..common.len() - n {
                let s: String = common[start..start + n].iter().collect();
                let text = format!("Source: {s}, December 26, 2020\nhttps://a.example/x\n");
                let (bytes, _, _) = encoding_rs::GBK.encode(&text);
                let (new, old) = (decode_document(&bytes, false), decode(&bytes, false));
                assert_eq!((new.encoding, new.replaced), (old.encoding, 0), "{s}");
            }
        }
        // Windows-1252 without any valid UTF-8 sequence is guessed as before.
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode("Beijing’s café");
        let d = decode(&bytes, false);
        assert_eq!(d.text, "Beijing’s café");
        assert_eq!(d.replaced, 0);
    }

    #[test]
    fn gbk_is_detected_without_a_declaration() {
        let text = "新华社：上海市疾病预防控制中心透露，上海已陆续启动新冠病毒疫苗接种工作，使用的是灭活疫苗。";
        let (bytes, _, _) = encoding_rs::GBK.encode(text);
        let d = decode(&bytes, false);
        assert_eq!(d.text, text);
        assert!(
            d.encoding == "GBK" || d.encoding == "gb18030",
            "{}",
            d.encoding
        );
    }

    #[test]
    fn big5_is_detected() {
        let text =
            "自由時報報導，國際移民組織發布全球報告，二〇一九年約有一千零七十萬中國人移居海外。";
        let (bytes, _, _) = encoding_rs::BIG5.encode(text);
        assert_eq!(decode(&bytes, false).text, text);
    }

    #[test]
    fn html_meta_charset_is_honoured() {
        let (body, _, _) = encoding_rs::WINDOWS_1252.encode("Caf\u{e9} r\u{e9}sum\u{e9}");
        let mut html = b"<html><head><meta charset=\"windows-1252\"></head><body>".to_vec();
        html.extend_from_slice(&body);
        let d = decode(&html, true);
        assert!(d.text.contains("Café résumé"), "{}", d.text);
        assert_eq!(d.encoding, "windows-1252");
    }

    /// UTF-16 without a byte-order mark read as UTF-8 was a NUL between
    /// every two letters, and no citation found in it.
    #[test]
    fn utf16_without_a_bom_is_read_as_utf16() {
        let english = "Title\r\n\r\nA body sentence.\r\n\r\nSource: Xinhua, December 26, 2020\r\n\
                       http://www.xinhuanet.com/local/2020-12/26/c_1126910999.htm\r\n";
        let chinese = "上海已陆续启动新冠病毒疫苗接种工作，一是重点人群。\nSource: 新华社, December 26, 2020\n\
                       http://127.0.0.1/新闻/p1.html\n";
        for text in [english, chinese] {
            let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
            let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
            for (bytes, name) in [(le, "UTF-16LE"), (be, "UTF-16BE")] {
                let d = decode_document(&bytes, false);
                assert_eq!((d.text.as_str(), d.encoding), (text, name));
                let d = decode_document(&bytes, true);
                assert_eq!((d.text.as_str(), d.encoding), (text, name));
            }
        }
        // Without NULs, nothing is taken for UTF-16.
        assert_eq!(decode_document(english.as_bytes(), false).encoding, "UTF-8");
        let (gbk, _, _) = encoding_rs::GBK.encode(chinese);
        assert_ne!(decode_document(&gbk, false).encoding, "UTF-16LE");
        assert_eq!(utf16_without_bom(b"a\0"), None);
    }

    /// A short UTF-8 briefing (English, one Chinese outlet) with one byte
    /// pasted from a Windows-1252 editor was guessed a legacy encoding
    /// whole: every Chinese name in it mojibake, and nothing said.
    #[test]
    fn a_stray_byte_in_a_short_utf8_document_is_replaced_and_placed() {
        let text = "Title\n\nShanghai began vaccinating people at risk.\n\n\
                    Source: 新华社, December 26, 2020\nhttp://127.0.0.1/1\n";
        let mut bytes = b"Beijing".to_vec();
        bytes.push(0x92);
        bytes.extend_from_slice(b"s plan. ");
        bytes.extend_from_slice(text.as_bytes());
        let d = read_document(&bytes, false).unwrap();
        assert_eq!(
            (d.encoding, d.replaced, d.first_replaced),
            ("UTF-8", 1, Some(7))
        );
        assert_eq!(d.text, format!("Beijing\u{FFFD}s plan. {text}"));
        // After a UTF-8 byte-order mark, the offset counts the mark.
        let mut marked = b"\xEF\xBB\xBF".to_vec();
        marked.extend_from_slice(&bytes);
        let d = read_document(&marked, false).unwrap();
        assert_eq!((d.replaced, d.first_replaced), (1, Some(10)));
        // Fetched pages keep their rule: too little UTF-8 to tell.
        assert_ne!(decode_document(&bytes, false).encoding, "UTF-8");
    }

    /// The same in GBK, Big5 and GB18030: runs of common characters,
    /// however many of their pairs happen to be valid UTF-8, are never
    /// taken for UTF-8 with stray bytes.
    #[test]
    fn short_legacy_text_is_not_taken_for_utf8_with_a_stray_byte() {
        let common: Vec<char> = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严".chars().collect();
        for enc in [encoding_rs::GBK, encoding_rs::GB18030, encoding_rs::BIG5] {
            for n in 1..=8 {
                for start in 0..common.len() - n {
                    let s: String = common[start..start + n].iter().collect();
                    let text = format!("Source: {s}, December 26, 2020\nhttps://a.example/x\n");
                    let (bytes, _, _) = enc.encode(&text);
                    let (new, old) = (read_document(&bytes, false).unwrap(), decode(&bytes, false));
                    assert_eq!(
                        (new.encoding, new.replaced),
                        (old.encoding, 0),
                        "{s} in {}",
                        enc.name()
                    );
                }
            }
        }
    }

    /// A picture or a PDF saved under a `.txt` name was read as text of
    /// no items, without a word.
    #[test]
    fn bytes_with_nuls_that_are_not_utf16_are_not_text() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0\0\0\x01\0\x08\x02\0\0\0\x90wS\xde";
        assert_eq!(read_document(png, false).err(), Some(NotText { offset: 8 }));
        let mut text = "Title\n\nBody.\n".repeat(10).into_bytes();
        text.extend_from_slice(b"\0\x01\x02\x03\xff\xfe\0");
        let e = read_document(&text, true).unwrap_err();
        assert_eq!(e.offset, 130);
        assert!(
            e.to_string().starts_with("not text: byte 130 is NUL"),
            "{e}"
        );
        // UTF-16, with a byte-order mark or without, holds NULs and is text.
        let english = "Title\r\nSource: Xinhua, December 26, 2020\r\n";
        let le: Vec<u8> = english.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let mut marked = vec![0xFF, 0xFE];
        marked.extend_from_slice(&le);
        for bytes in [le, marked] {
            assert_eq!(read_document(&bytes, false).unwrap().text, english);
        }
        // Text without NULs is text, whatever else it holds.
        assert!(read_document(b"Title\x0c\x1b[1m\n", false).is_ok());
    }

    /// UTF-16 without a byte-order mark that is mostly Chinese has too few
    /// NULs for [`utf16_without_bom`]: it was guessed some legacy encoding,
    /// mojibake throughout.
    #[test]
    fn mostly_chinese_utf16_without_a_bom_is_read_as_utf16() {
        let text = "上海启动重点人群新冠疫苗接种\n\n\
                    新华社上海电，记者从上海市疾病预防控制中心获悉，上海已陆续启动新冠病毒疫苗接种工作，\
                    使用的是国药集团中国生物北京生物制品研究所生产的灭活疫苗。首批接种对象为海关、边检、\
                    冷链物流、交通运输等感染风险较高的重点人群。国务院联防联控机制新闻发布会介绍，\
                    重点人群接种工作正在有序开展，接种者须签署知情同意书。\n\n\
                    来源：新华社，十二月二十六日\nhttp://127.0.0.1/1\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        for (bytes, name) in [(le, "UTF-16LE"), (be, "UTF-16BE")] {
            assert_eq!(utf16_without_bom(&bytes), None, "the NUL rule cannot tell");
            for html in [false, true] {
                let d = read_document(&bytes, html).unwrap();
                assert_eq!((d.text.as_str(), d.encoding), (text, name));
            }
        }
        // The same text in GBK or Big5 (one of the two spellings is of even
        // length) is not UTF-16, and reads as before.
        for enc in [encoding_rs::GBK, encoding_rs::BIG5] {
            for text in [text.to_string(), format!("{text}x")] {
                let (bytes, _, _) = enc.encode(&text);
                assert_eq!(utf16_mostly_chinese(&bytes), None, "{}", enc.name());
                let (new, old) = (read_document(&bytes, false).unwrap(), decode(&bytes, false));
                assert_eq!((new.text, new.encoding), (old.text, old.encoding));
            }
        }
        // Nor is English in a legacy encoding, nor a binary file's bytes.
        let (latin, _, _) = encoding_rs::WINDOWS_1252.encode("Beijing’s café plans.\n");
        assert_eq!(latin.len() % 2, 0);
        assert_eq!(utf16_mostly_chinese(&latin), None);
        let noise: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert_eq!(utf16_mostly_chinese(&noise), None);
    }

    #[test]
    fn bom_wins() {
        let d = decode(b"\xEF\xBB\xBFhello", false);
        assert_eq!((d.text.as_str(), d.encoding), ("hello", "UTF-8"));
    }
}
