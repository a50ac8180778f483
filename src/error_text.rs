//! An error and its causes on one line, each said once.
//!
//! Our error types name their cause in their own message, so that one of them
//! logged alone reads whole, and also return it as `source()`. Library errors
//! (reqwest, hyper, io) nest the same way. Printing the chain as it is would say
//! "Connection refused (os error 111)" or "No such file or directory" twice; a
//! cause whose words are already on the line is left out.
//!
//! Errors quote what they were given, and what they were given may be 100 KB
//! (a URL pasted with the page after it, a file's contents in `--host`): a
//! line that repeats it whole buries its own words and floods a terminal or a
//! log. Every error line goes through [`one_line`] (the binary's, a fetch's
//! detail) or [`clipped`] (the server's answers), which shorten any long
//! value to its start and its length, so no message need clip its own.

use std::borrow::Cow;
use std::error::Error;

/// Values longer than this, in characters, are clipped: cited URLs run to a few
/// hundred characters and are shown whole.
const SHOWN_WHOLE: usize = 400;

/// The characters kept of a clipped value: its start, which is what a reader
/// recognises it by.
const SHOWN_START: usize = 100;

/// `e` and the causes that add words, joined by `": "`, long values clipped.
pub fn one_line(e: &(dyn Error + 'static)) -> String {
    let mut line = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let words = c.to_string();
        // SQLite's own error under rusqlite's says it again after its
        // number: "Error code 11: database disk image is malformed".
        let said = words
            .strip_prefix("Error code ")
            .and_then(|rest| rest.split_once(": "))
            .is_some_and(|(code, text)| {
                code.bytes().all(|b| b.is_ascii_digit()) && line.contains(text)
            });
        if !said && !line.contains(&words) {
            line.push_str(": ");
            line.push_str(&words);
        }
        cause = c.source();
    }
    match clipped(&line) {
        Cow::Borrowed(_) => line,
        Cow::Owned(shorter) => shorter,
    }
}

/// `line` with each value quoted between backticks (spaces and all), and
/// each other word, longer than `SHOWN_WHOLE` (400) characters cut to its start
/// and followed by its length: "`http://a.example/aaaa…` (100000 characters)".
pub fn clipped(line: &str) -> Cow<'_, str> {
    // No character is shorter than a byte.
    if line.len() <= SHOWN_WHOLE {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(SHOWN_WHOLE);
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if c.is_whitespace() {
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        if c == '`'
            && let Some(end) = rest[1..].find('`')
        {
            push_value(&mut out, &rest[1..1 + end], "`");
            rest = &rest[end + 2..];
            continue;
        }
        let first = c.len_utf8();
        let end = rest[first..]
            .find(|c: char| c.is_whitespace() || c == '`')
            .map_or(rest.len(), |e| e + first);
        let word = &rest[..end];
        // The punctuation after a word belongs to the sentence.
        let bare = word.trim_end_matches([':', ';', ',', '.', ')']);
        push_value(&mut out, bare, "");
        out.push_str(&word[bare.len()..]);
        rest = &rest[end..];
    }
    Cow::Owned(out)
}

/// Writes `value` between `quote`s, clipped when it is too long to show whole.
fn push_value(out: &mut String, value: &str, quote: &str) {
    out.push_str(quote);
    match value.char_indices().nth(SHOWN_WHOLE) {
        None => {
            out.push_str(value);
            out.push_str(quote);
        }
        Some(_) => {
            let cut = value
                .char_indices()
                .nth(SHOWN_START)
                .map_or(value.len(), |(at, _)| at);
            let n = value.chars().count();
            out.push_str(&value[..cut]);
            out.push('…');
            out.push_str(quote);
            out.push_str(&format!(" ({n} characters)"));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    #[derive(Debug, thiserror::Error)]
    #[error("{file}: cannot read it: {source}")]
    struct Named {
        file: String,
        source: io::Error,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("loading the configuration")]
    struct Context {
        #[source]
        inner: Named,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct Coded(&'static str, #[source] Option<io::Error>);

    #[test]
    fn sqlites_error_code_line_repeating_the_message_is_left_out() {
        let inner = io::Error::other("Error code 11: database disk image is malformed");
        let e = Named {
            file: "citewatch.db".into(),
            source: io::Error::other(Coded("database disk image is malformed", Some(inner))),
        };
        assert_eq!(
            super::one_line(&e),
            "citewatch.db: cannot read it: database disk image is malformed"
        );
        // A code whose words are new is kept.
        let new = Coded(
            "busy",
            Some(io::Error::other("Error code 5: database is locked")),
        );
        assert_eq!(
            super::one_line(&new),
            "busy: Error code 5: database is locked"
        );
    }

    /// `citewatch status`, `fetch`, `check --url` and `--host` once repeated
    /// a 100 KB argument whole in their error line.
    #[test]
    fn a_long_value_is_shown_by_its_start_and_its_length() {
        let url = format!("http://a.example/{} b", "a".repeat(100_000));
        let e = Named {
            file: format!("`{url}`"),
            source: io::Error::other(format!("--host {}: no source", "h".repeat(5_000))),
        };
        let line = super::one_line(&e);
        assert!(line.len() < 400, "{} bytes: {}", line.len(), &line[..400]);
        let start = &url[..super::SHOWN_START];
        assert!(
            line.starts_with(&format!("`{start}…` (100019 characters): cannot read it")),
            "{line}"
        );
        let host = "h".repeat(super::SHOWN_START);
        assert!(
            line.ends_with(&format!("--host {host}… (5000 characters): no source")),
            "{line}"
        );
        // Values of a few hundred characters, and a line of many, stay whole.
        let cited = format!("`http://a.example/{}`", "b".repeat(300));
        let many = format!("{cited} {cited} {cited}: unknown");
        assert_eq!(super::clipped(&many), many);
        // Clipped on characters, not bytes.
        let wide = "字".repeat(SHOWN);
        assert!(super::clipped(&wide).starts_with(&"字".repeat(super::SHOWN_START)));
    }

    const SHOWN: usize = super::SHOWN_WHOLE + 1;

    #[test]
    fn each_cause_is_said_once_and_new_words_are_kept() {
        let named = || Named {
            file: "a.toml".into(),
            source: io::Error::new(io::ErrorKind::NotFound, "no such file"),
        };
        assert_eq!(
            super::one_line(&named()),
            "a.toml: cannot read it: no such file"
        );
        assert_eq!(
            super::one_line(&Context { inner: named() }),
            "loading the configuration: a.toml: cannot read it: no such file"
        );
    }
}
