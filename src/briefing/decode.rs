//! Bytes of a briefing document to text, whatever encoding it was saved in.
//!
//! Order of evidence: a byte-order mark, valid UTF-8, an HTML `<meta charset>`,
//! then a statistical guess (chardetng), which handles GBK, GB18030, Big5 and
//! Windows-1252, the encodings this store meets.

use encoding_rs::Encoding;

/// Decoded text and the name of the encoding it was read as.
pub struct Decoded {
    /// The document's text.
    pub text: String,
    /// The WHATWG name of the encoding used, e.g. `UTF-8` or `GBK`.
    pub encoding: &'static str,
}

/// Decodes a document. `html` enables the `<meta charset>` sniff.
pub fn decode(bytes: &[u8], html: bool) -> Decoded {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return Decoded {
            text: text.into_owned(),
            encoding: enc.name(),
        };
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Decoded {
            text: text.to_string(),
            encoding: encoding_rs::UTF_8.name(),
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
    }
}

/// The charset an HTML document declares in its first 2 KiB, if any.
fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
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

    #[test]
    fn bom_wins() {
        let d = decode(b"\xEF\xBB\xBFhello", false);
        assert_eq!((d.text.as_str(), d.encoding), ("hello", "UTF-8"));
    }
}
