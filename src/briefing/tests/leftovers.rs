//! The layouts the reader still read wrongly after its first rounds: one
//! test (or a few) for each, beside the review's pages in `review`, which
//! these rules must leave as they were.

use super::super::*;
use super::{flat, row};

const R1: &str = "Xinhua reported that the provincial committee passed a new regulation on Tuesday, which requires all institutions to report their foreign cooperation projects.";

/// An unencoded full-width comma inside a URL's query, before more of its
/// parameters, ended a bare URL there: in the body the link was cut short,
/// and on a Source line the query's rest was left in the outlet, hiding
/// the date.
#[test]
fn a_full_width_comma_inside_a_query_keeps_the_bare_url_whole() {
    let url = "http://127.0.0.1/s?wd=李白，杜甫&ie=utf-8";
    let text = format!(
        "Title A\n\n{R1} 见{url}，完。\n\n\
         Source: Baidu, December 26, 2020 http://127.0.0.1/s?wd=杜甫，李白&ie=utf-8\n"
    );
    assert_eq!(
        flat(&parse(Format::Text, &text)),
        vec![
            (
                "Title A".to_string(),
                None,
                None,
                Some(url.to_string()),
                Origin::Body
            ),
            row(
                "Title A",
                "Baidu",
                "2020-12-26",
                "http://127.0.0.1/s?wd=杜甫，李白&ie=utf-8"
            ),
        ]
    );
}
