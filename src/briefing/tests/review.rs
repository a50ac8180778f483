//! Pages that read right before an attempt at the reader's leftover layouts
//! (reverted in 4535d5b) read them wrongly: a review's hand-made cases,
//! pinned so that no later rule breaks them again.

use super::super::*;
use super::{flat, row};

/// A paragraph as the review's pages write one.
const R1: &str = "Xinhua reported that the provincial committee passed a new regulation on Tuesday, which requires all institutions to report their foreign cooperation projects.";
const R2: &str = "The regulation takes effect in March and applies to every university and research institute in the province, according to the notice.";

/// (title, origin, url) of each citation.
fn cited(format: Format, text: &str) -> Vec<(String, Origin, String)> {
    flat(&parse(format, text))
        .into_iter()
        .map(|r| (r.0, r.4, r.3.unwrap_or_default()))
        .collect()
}

fn c(title: &str, origin: Origin, url: &str) -> (String, Origin, String) {
    (title.into(), origin, url.into())
}

const SOURCE: Origin = Origin::SourceLine;
const BODY: Origin = Origin::Body;

/// Numbered titles (`1. Xinhua: …`) under a page's `#` heading, and
/// without one, Source line under the title: a rule that made every list
/// entry no title left the page one item under its heading holding every
/// citation, or the second item's citation the first's.
#[test]
fn numbered_markdown_titles_stay_titles() {
    let md = format!(
        "# Briefings - 244. page\n\n\
         1. Epoch Times: Hebei Sets Quantitative Standards\n\n{R1}\n\n\
         Source: Epoch Times, December 11, 2020\nhttp://127.0.0.1/a3\n\n\
         2. Xinhua: Shanghai Begins Vaccinations\n\n{R2}\n\n\
         Source: Xinhua, December 26, 2020\nhttp://127.0.0.1/b3\n\n\
         3. Xinhua: UK Faces Major Challenges\n\n{R1}\n\n\
         Source: Xinhua, December 26, 2020\nhttp://127.0.0.1/c3\n"
    );
    assert_eq!(
        flat(&parse(Format::Markdown, &md)),
        vec![
            row(
                "Epoch Times: Hebei Sets Quantitative Standards",
                "Epoch Times",
                "2020-12-11",
                "http://127.0.0.1/a3"
            ),
            row(
                "Xinhua: Shanghai Begins Vaccinations",
                "Xinhua",
                "2020-12-26",
                "http://127.0.0.1/b3"
            ),
            row(
                "Xinhua: UK Faces Major Challenges",
                "Xinhua",
                "2020-12-26",
                "http://127.0.0.1/c3"
            ),
        ]
    );
    let md = format!(
        "1. Epoch Times: Hebei Sets Quantitative Standards\n\
         Source: Epoch Times, December 11, 2020\nhttp://127.0.0.1/a3\n\n\
         {R1} See http://127.0.0.1/body-a.\n\n\
         2. Xinhua: Shanghai Begins Vaccinations\n\
         Source: Xinhua, December 26, 2020\nhttp://127.0.0.1/b3\n\n\
         {R2} See http://127.0.0.1/body-b.\n"
    );
    let a = "Epoch Times: Hebei Sets Quantitative Standards";
    let b = "Xinhua: Shanghai Begins Vaccinations";
    assert_eq!(
        cited(Format::Markdown, &md),
        vec![
            c(a, SOURCE, "http://127.0.0.1/a3"),
            c(a, BODY, "http://127.0.0.1/body-a"),
            c(b, SOURCE, "http://127.0.0.1/b3"),
            c(b, BODY, "http://127.0.0.1/body-b"),
        ]
    );
}

/// Items each wrapped in an `<li>` under a page's `<h1>`: with list
/// entries made no titles, the page heading titled every citation.
#[test]
fn items_wrapped_in_list_entries_keep_their_titles() {
    let li = |title: &str, body: &str, source: &str, url: &str| {
        format!(
            "<li><p><strong>{title}</strong></p><p>{body}</p><p>Source: {source}<br>{url}</p></li>\n"
        )
    };
    let html = format!(
        "<html><body><h1>Briefings - 244. page</h1>\n<ul class=\"posts\">\n{}{}{}</ul></body></html>",
        li(
            "Epoch Times: Hebei Sets Quantitative Standards",
            R1,
            "Epoch Times, December 11, 2020",
            "http://127.0.0.1/a4"
        ),
        li(
            "Xinhua: Shanghai Begins Vaccinations",
            R2,
            "Xinhua, December 26, 2020",
            "http://127.0.0.1/b4"
        ),
        li(
            "Xinhua: UK Faces Major Challenges",
            R1,
            "Xinhua, December 26, 2020",
            "http://127.0.0.1/c4"
        ),
    );
    assert_eq!(
        flat(&parse(Format::Html, &html)),
        vec![
            row(
                "Epoch Times: Hebei Sets Quantitative Standards",
                "Epoch Times",
                "2020-12-11",
                "http://127.0.0.1/a4"
            ),
            row(
                "Xinhua: Shanghai Begins Vaccinations",
                "Xinhua",
                "2020-12-26",
                "http://127.0.0.1/b4"
            ),
            row(
                "Xinhua: UK Faces Major Challenges",
                "Xinhua",
                "2020-12-26",
                "http://127.0.0.1/c4"
            ),
        ]
    );
}

/// A sentence in title case inside a body (a photo credit, an unmarked
/// list of goals) is body: taken for a title, it split the item there and
/// took the item's citation.
#[test]
fn a_title_case_sentence_inside_a_body_is_no_title() {
    let credit = format!(
        "Xinhua: Hebei Sets Standards for Overseas Technology\n\n{R1}\n\nPhoto by Getty Images.\n\n{R2}\n\n\
         Source: Xinhua, December 26, 2020\nhttp://127.0.0.1/a1\n\n\
         Global Times: Shanghai Begins Vaccinations\n\n{R1}\n\n\
         Source: Global Times, December 27, 2020\nhttp://127.0.0.1/b1\n"
    );
    assert_eq!(
        flat(&parse(Format::Text, &credit)),
        vec![
            row(
                "Xinhua: Hebei Sets Standards for Overseas Technology",
                "Xinhua",
                "2020-12-26",
                "http://127.0.0.1/a1"
            ),
            row(
                "Global Times: Shanghai Begins Vaccinations",
                "Global Times",
                "2020-12-27",
                "http://127.0.0.1/b1"
            ),
        ]
    );
    let goals = format!(
        "Epoch Times: Hebei Sets Quantitative Standards\n\n{R1} See http://127.0.0.1/body1.\n\n\
         The document lists three goals:\n\nExpand International Cooperation Channels.\n\n\
         Introduce Foreign Advanced Technologies.\n\nRecruit High-End Talent Teams.\n\n{R2}\n\n\
         Source: Epoch Times, December 11, 2020\nhttp://127.0.0.1/a2\n\n\
         Xinhua: Shanghai Begins Vaccinations\n\n{R1}\n\n\
         Source: Xinhua, December 26, 2020\nhttp://127.0.0.1/b2\n"
    );
    let a = "Epoch Times: Hebei Sets Quantitative Standards";
    let b = "Xinhua: Shanghai Begins Vaccinations";
    for format in [Format::Text, Format::Markdown] {
        assert_eq!(
            cited(format, &goals),
            vec![
                c(a, BODY, "http://127.0.0.1/body1"),
                c(a, SOURCE, "http://127.0.0.1/a2"),
                c(b, SOURCE, "http://127.0.0.1/b2"),
            ],
            "{format:?}"
        );
    }
}

/// A title of two sentences, each ending in a full stop, is still its
/// item's title where a title stands.
#[test]
fn a_title_of_two_sentences_stays_a_title() {
    let text = format!(
        "Xinhua: Hebei Sets Standards for Overseas Technology\n\n{R1}\n\n\
         Source: Xinhua, December 26, 2020\nhttp://127.0.0.1/a5\n\n\
         Beijing Warns Washington. Taiwan Issue Is a Red Line.\n\n{R2}\n\n\
         Source: Global Times, December 27, 2020\nhttp://127.0.0.1/b5\n"
    );
    assert_eq!(
        flat(&parse(Format::Text, &text)),
        vec![
            row(
                "Xinhua: Hebei Sets Standards for Overseas Technology",
                "Xinhua",
                "2020-12-26",
                "http://127.0.0.1/a5"
            ),
            row(
                "Beijing Warns Washington. Taiwan Issue Is a Red Line.",
                "Global Times",
                "2020-12-27",
                "http://127.0.0.1/b5"
            ),
        ]
    );
}

/// Entries with no title line, each a paragraph and its Source line: each
/// is an item titled by its own words, not the one before it's.
#[test]
fn untitled_entries_are_each_titled_by_their_own_paragraph() {
    let text = format!(
        "{R1}\n\nSource: Xinhua, December 26, 2020\nhttp://127.0.0.1/a6\n\n\
         {R2}\n\nSource: Global Times, December 27, 2020\nhttp://127.0.0.1/b6\n"
    );
    assert_eq!(
        flat(&parse(Format::Text, &text)),
        vec![
            row(R1, "Xinhua", "2020-12-26", "http://127.0.0.1/a6"),
            row(R2, "Global Times", "2020-12-27", "http://127.0.0.1/b6"),
        ]
    );
}

/// Under an item cited right under its title, a title line followed by a
/// body and then another title is an item of its own, as the title after
/// it is: the lines are written alike, and nothing marks the first a
/// sub-heading.
#[test]
fn a_title_after_a_source_line_under_the_title_then_body_then_a_title_is_an_item() {
    let text = format!(
        "Title One\nSource: Xinhua, December 26, 2020\nhttp://127.0.0.1/a7\n\n\
         Title Two\n\n{R1} See http://127.0.0.1/body-two.\n\n\
         Title Three\n\n{R2}\n\nSource: Global Times, December 27, 2020\nhttp://127.0.0.1/c7\n"
    );
    assert_eq!(
        cited(Format::Text, &text),
        vec![
            c("Title One", SOURCE, "http://127.0.0.1/a7"),
            c("Title Two", BODY, "http://127.0.0.1/body-two"),
            c("Title Three", SOURCE, "http://127.0.0.1/c7"),
        ]
    );
}

/// A bare URL before a full-width comma ends there, even when the Chinese
/// prose after it holds `&` or `=`, as a query's rest would.
#[test]
fn a_bare_url_before_a_full_width_comma_ends_there_before_prose() {
    for (prose, url) in [
        (
            "据报道 http://127.0.0.1/news?id=5，AT&T公司表示不予置评。",
            "http://127.0.0.1/news?id=5",
        ),
        (
            "见 http://127.0.0.1/news?id=5，其中x=1表示通过。",
            "http://127.0.0.1/news?id=5",
        ),
        (
            "见 http://127.0.0.1/news，AT&T表示。",
            "http://127.0.0.1/news",
        ),
    ] {
        let text = format!(
            "Title A\n\n{R1} {prose}\n\nSource: Xinhua, December 26, 2020\nhttp://127.0.0.1/a\n"
        );
        assert_eq!(
            cited(Format::Text, &text),
            vec![
                c("Title A", BODY, url),
                c("Title A", SOURCE, "http://127.0.0.1/a"),
            ],
            "{prose}"
        );
    }
}

/// Long runs of Source lines read right at size: 8,000 items each cited
/// after its body, and one item cited under its title with 8,000 more
/// bodies and Source lines after it (an attempt at the reader's layouts
/// made the latter quadratic: 38 s in a debug build, against 2.4 s).
#[test]
fn long_runs_of_source_lines_read_right_at_size() {
    let n = 8_000;
    let mut doc = String::new();
    for i in 0..n {
        doc.push_str(&format!(
            "Item {i} Passes the Committee\n\n{R1}\n\nSource: Xinhua, December 26, 2020\n\
             http://127.0.0.1/a/{i}\n\n"
        ));
    }
    let items = parse(Format::Text, &doc);
    assert_eq!(items.len(), n);
    for (i, item) in items.iter().enumerate() {
        assert_eq!(item.title, format!("Item {i} Passes the Committee"));
        let urls: Vec<_> = item.citations.iter().map(|c| c.url.as_deref()).collect();
        assert_eq!(urls, [Some(format!("http://127.0.0.1/a/{i}").as_str())]);
    }

    let mut doc = String::from(
        "One Item of Many Sources\nSource: Xinhua, December 26, 2020\nhttp://127.0.0.1/a/0\n\n",
    );
    for i in 1..=n {
        doc.push_str(&format!(
            "{R2}\n\nSource: Global Times, December 27, 2020\nhttp://127.0.0.1/a/{i}\n\n"
        ));
    }
    let items = parse(Format::Text, &doc);
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].title, "One Item of Many Sources");
    let urls: Vec<String> = items[0]
        .citations
        .iter()
        .filter_map(|c| c.url.clone())
        .collect();
    let want: Vec<String> = (0..=n).map(|i| format!("http://127.0.0.1/a/{i}")).collect();
    assert_eq!(urls, want);
}

/// Items whose titles are bold bullet entries, under a page's heading, and
/// plain ones without a heading: a rule that made a bulleted entry no title
/// (so that a short entry inside a body started no item) left the first page
/// one item under its heading holding both citations.
#[test]
fn bulleted_titles_stay_titles() {
    let bold = format!(
        "# Briefings - 12. page\n\n\
         - **Xinhua: Shanghai Begins Vaccinations**\n\n  {R1}\n\n\
         \x20 Source: Xinhua, December 26, 2020\n  http://127.0.0.1/a1\n\n\
         - **Global Times: Hebei Sets Quantitative Standards**\n\n  {R2}\n\n\
         \x20 Source: Global Times, December 11, 2020\n  http://127.0.0.1/a2\n"
    );
    let plain = bold
        .replace("# Briefings - 12. page\n\n", "")
        .replace("- **", "* ")
        .replace("**", "");
    for md in [bold, plain] {
        assert_eq!(
            cited(Format::Markdown, &md),
            vec![
                c(
                    "Xinhua: Shanghai Begins Vaccinations",
                    SOURCE,
                    "http://127.0.0.1/a1"
                ),
                c(
                    "Global Times: Hebei Sets Quantitative Standards",
                    SOURCE,
                    "http://127.0.0.1/a2"
                ),
            ],
            "{md}"
        );
    }
}

/// A digest of untitled entries under a page header: each entry is an item
/// of its own. A rule folding a paragraph and Source line after an item's
/// citation into that item (for `Title⏎Body⏎Source⏎Body⏎Source`) made the
/// whole page one item titled by its header.
#[test]
fn a_digest_of_untitled_entries_under_a_header_keeps_each_entry() {
    let text = format!(
        "Daily digest - December 27, 2020\n\n\
         {R1}\n\nSource: Xinhua, December 26, 2020\nhttp://127.0.0.1/d1\n\n\
         {R2}\n\nSource: Global Times, December 11, 2020\nhttp://127.0.0.1/d2\n\n\
         {R1} Exports rose.\n\nSource: Caixin, December 7, 2020\nhttp://127.0.0.1/d3\n"
    );
    let items = parse(Format::Text, &text);
    let urls: Vec<Vec<&str>> = items
        .iter()
        .map(|i| {
            i.citations
                .iter()
                .map(|c| c.url.as_deref().unwrap_or(""))
                .collect()
        })
        .collect();
    assert_eq!(
        urls,
        [
            ["http://127.0.0.1/d1"],
            ["http://127.0.0.1/d2"],
            ["http://127.0.0.1/d3"]
        ]
    );
}
