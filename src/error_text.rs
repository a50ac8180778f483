//! An error and its causes on one line, each said once.
//!
//! Our error types name their cause in their own message, so that one of them
//! logged alone reads whole, and also return it as `source()`. Library errors
//! (reqwest, hyper, io) nest the same way. Printing the chain as it is would say
//! "Connection refused (os error 111)" or "No such file or directory" twice; a
//! cause whose words are already on the line is left out.

use std::error::Error;

/// `e` and the causes that add words, joined by `": "`.
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
    line
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
