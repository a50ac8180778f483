//! Several sources listed on one Source line, joined the ways editors
//! join them.

use super::super::*;
use super::{flat, row};

const BODY: &str = "Xinhua reported that the provincial committee passed a new regulation on Tuesday, which requires all institutions to report their foreign cooperation projects.";

/// Sources joined by "and", "&", a comma or `、` rather than `;`: read as
/// one source, the last date was every URL's and the rest of the list,
/// first date and all, became one outlet.
#[test]
fn sources_joined_by_and_or_a_comma_are_each_a_citation() {
    let (a, b) = ("http://127.0.0.1/a.htm", "http://127.0.0.1/b.shtml");
    for line in [
        "Sources: Xinhua, December 26, 2020 and Global Times, December 27, 2020",
        "Sources: Xinhua, December 26, 2020 & Global Times, December 27, 2020",
        "Sources: Xinhua, December 26, 2020, Global Times, December 27, 2020",
        "Sources: Xinhua, December 26, 2020、Global Times, December 27, 2020",
        "Sources: Xinhua (December 26, 2020) and Global Times (December 27, 2020)",
    ] {
        let text = format!("Title A\n\n{BODY}\n\n{line}\n{a}\n{b}\n");
        assert_eq!(
            flat(&parse(Format::Text, &text)),
            vec![
                row("Title A", "Xinhua", "2020-12-26", a),
                row("Title A", "Global Times", "2020-12-27", b)
            ],
            "{line}"
        );
    }
    let text = format!(
        "Title A\n\n{BODY}\n\n来源：新华社，2020年12月26日、环球时报，2020年12月27日\n{a}\n{b}\n"
    );
    assert_eq!(
        flat(&parse(Format::Text, &text)),
        vec![
            row("Title A", "新华社", "2020-12-26", a),
            row("Title A", "环球时报", "2020-12-27", b)
        ]
    );
}

/// An outlet with "and" or a comma in its name, or outlets sharing one
/// date, are one source as before.
#[test]
fn an_outlet_named_with_and_or_a_comma_stays_one_source() {
    let a = "http://127.0.0.1/a.htm";
    for (line, outlet) in [
        (
            "Source: Ministry of Commerce and Industry, December 26, 2020",
            "Ministry of Commerce and Industry",
        ),
        (
            "Source: Radio Free Asia, Mandarin Service, December 26, 2020",
            "Radio Free Asia, Mandarin Service",
        ),
        (
            "Source: Xinhua and Global Times, December 26, 2020",
            "Xinhua and Global Times",
        ),
        ("Source: Xinhua, Saturday, December 26, 2020", "Xinhua"),
        ("Source: Xinhua, December 26, 2020, 08:15", "Xinhua"),
    ] {
        let text = format!("Title A\n\n{BODY}\n\n{line}\n{a}\n");
        assert_eq!(
            flat(&parse(Format::Text, &text)),
            vec![row("Title A", outlet, "2020-12-26", a)],
            "{line}"
        );
    }
    // Commerce "and" Industry after a first source's date.
    let b = "http://127.0.0.1/b.htm";
    let text = format!(
        "Title A\n\n{BODY}\n\nSources: Xinhua, December 26, 2020 and Ministry of Commerce and Industry, December 27, 2020\n{a}\n{b}\n"
    );
    assert_eq!(
        flat(&parse(Format::Text, &text)),
        vec![
            row("Title A", "Xinhua", "2020-12-26", a),
            row(
                "Title A",
                "Ministry of Commerce and Industry",
                "2020-12-27",
                b
            )
        ]
    );
}

/// A Source line giving its URL first, its outlet and date in brackets
/// after it, or a note after the date: the outlet was "(Xinhua", or the
/// date was left in it.
#[test]
fn a_citation_in_brackets_after_its_url_or_before_a_note_reads_whole() {
    let a = "http://127.0.0.1/c.htm";
    for line in [
        format!("Source: {a} (Xinhua, December 26, 2020)"),
        format!("Source: Xinhua, December 26, 2020 (in Chinese)\n{a}"),
        format!("来源：{a} （Xinhua，2020年12月26日）"),
        format!("来源：{a}（Xinhua，2020年12月26日）"),
    ] {
        let text = format!("Title A\n\n{BODY}\n\n{line}\n");
        assert_eq!(
            flat(&parse(Format::Text, &text)),
            vec![row("Title A", "Xinhua", "2020-12-26", a)],
            "{line}"
        );
    }
}
