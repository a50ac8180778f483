//! What text written for people shows of control characters.
//!
//! Titles come from web pages, names from briefing documents and their file
//! names: an escape sequence among them, printed as it is, would move the
//! cursor, clear the screen or retitle the window of whoever reads the
//! output, or hide a line behind a carriage return. Text output shows each
//! control character as text (`\x1b`, `\u{9b}`) instead. When the output is
//! in colour (the report on a terminal), colour sequences pass, since the
//! writer cannot tell the report's own from a title's; but only those made of
//! `VISIBLE_SGR` parameters, so a title can at worst recolour what follows,
//! never hide it (conceal, black or white text, a background of the text's
//! colour). Otherwise none pass. JSON needs none of this: its writer escapes
//! them all.

use std::io::{self, Write};

/// A writer showing control characters as text, but for newlines, tabs and,
/// in colour output, colour sequences. Each buffer is taken on its own: a
/// colour sequence split across two writes is shown as text, never passed in
/// halves.
pub struct Printable<W> {
    inner: W,
    colour: bool,
}

impl<W: Write> Printable<W> {
    /// Wraps `inner`, for output without colour: every control character but
    /// newlines and tabs is shown as text.
    pub fn new(inner: W) -> Printable<W> {
        Printable {
            inner,
            colour: false,
        }
    }

    /// Wraps `inner`, for output in colour: colour sequences pass too.
    pub fn in_colour(inner: W) -> Printable<W> {
        Printable {
            inner,
            colour: true,
        }
    }

    /// The writer wrapped.
    pub fn into_inner(self) -> W {
        self.inner
    }
}

/// The colour parameters (SGR) passed in colour output: reset, bold, dim,
/// normal intensity, and the foreground colours red to cyan and the default,
/// which show text on a light or a dark terminal alike. Among those refused:
/// 8 (conceal), 30 and 37 (black and white text) and every background, with
/// which a page's title could hide the status word printed after it.
const VISIBLE_SGR: &[&[u8]] = &[
    b"", b"0", b"1", b"2", b"22", b"31", b"32", b"33", b"34", b"35", b"36", b"39",
];

/// The length of the colour sequence `bytes` begins with, if it does and
/// holds only [`VISIBLE_SGR`] parameters.
fn colour_sequence(bytes: &[u8]) -> Option<usize> {
    let rest = bytes.strip_prefix(b"\x1b[")?;
    let params = rest
        .iter()
        .take_while(|b| b.is_ascii_digit() || **b == b';')
        .count();
    let visible = rest[..params]
        .split(|b| *b == b';')
        .all(|p| VISIBLE_SGR.contains(&p));
    (visible && rest.get(params) == Some(&b'm')).then_some(2 + params + 1)
}

impl<W: Write> Write for Printable<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let mut shown = 0;
        let mut i = 0;
        while i < buf.len() {
            let b = buf[i];
            // A C1 control, U+0080 to U+009F, in UTF-8: some terminals take
            // U+009B for ESC [.
            let c1 = b == 0xC2 && buf.get(i + 1).is_some_and(|n| (0x80..=0x9F).contains(n));
            let control = (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7F || c1;
            if !control {
                i += 1;
                continue;
            }
            if b == 0x1B
                && self.colour
                && let Some(len) = colour_sequence(&buf[i..])
            {
                i += len;
                continue;
            }
            self.inner.write_all(&buf[shown..i])?;
            if c1 {
                write!(self.inner, "\\u{{{:x}}}", buf[i + 1] & 0x3F | 0x80)?;
                i += 2;
            } else {
                write!(self.inner, "\\x{b:02x}")?;
                i += 1;
            }
            shown = i;
        }
        self.inner.write_all(&buf[shown..])
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(s: &str) -> String {
        let mut p = Printable::in_colour(Vec::new());
        p.write_all(s.as_bytes()).unwrap();
        String::from_utf8(p.into_inner()).unwrap()
    }

    fn shown_plain(s: &str) -> String {
        let mut p = Printable::new(Vec::new());
        p.write_all(s.as_bytes()).unwrap();
        String::from_utf8(p.into_inner()).unwrap()
    }

    #[test]
    fn without_colour_no_colour_sequence_passes() {
        // A title's own colour codes, in output that has none of its own.
        assert_eq!(
            shown_plain("Evil \x1b[31mRed\x1b[0m Title\n"),
            "Evil \\x1b[31mRed\\x1b[0m Title\n"
        );
        assert_eq!(shown_plain("a\x1b[2Jb\tc"), "a\\x1b[2Jb\tc");
    }

    #[test]
    fn control_characters_are_shown_as_text() {
        assert_eq!(shown("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(shown("\x1b]0;owned\x07title"), "\\x1b]0;owned\\x07title");
        assert_eq!(shown("fine\rhidden"), "fine\\x0dhidden");
        assert_eq!(shown("del\x7f nul\0"), "del\\x7f nul\\x00");
        assert_eq!(shown("c1 \u{9b}2J"), "c1 \\u{9b}2J");
        assert_eq!(shown("\x1b"), "\\x1b");
        assert_eq!(shown("\x1b[1"), "\\x1b[1");
    }

    #[test]
    fn a_colour_that_could_hide_what_follows_is_shown_as_text() {
        for hiding in [
            "\x1b[8m",
            "\x1b[30m",
            "\x1b[37m",
            "\x1b[30;40m",
            "\x1b[31;41m",
            "\x1b[38;5;16m",
            "\x1b[1;8m",
        ] {
            let title = format!("Title {hiding}hidden");
            assert_eq!(shown(&title), title.replace('\x1b', "\\x1b"), "{hiding:?}");
        }
    }

    #[test]
    fn text_newlines_tabs_and_colour_pass() {
        for s in [
            "plain text, 中文, é, \u{a0}\n",
            "a\tb\n",
            "\x1b[1mSUMMARY\x1b[0m",
            "\x1b[31;1mdead\x1b[0m",
            "\u{a9} \u{85}",
        ] {
            let expect = s.replace('\u{85}', "\\u{85}");
            assert_eq!(shown(s), expect);
        }
    }
}
