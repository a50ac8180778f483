//! Briefings written with Chinese (full-width) punctuation around their
//! URLs and dates, as editors who type in a Chinese input method write them.

use super::super::*;
use super::{flat, row};

const BODY: &str = "Xinhua reported that the provincial committee passed a new regulation on Tuesday, which requires all institutions to report their foreign cooperation projects.";

/// A URL line in full-width brackets (`（URL）`, `【URL】`, `《URL》`): the
/// first kept its `）`, a source that does not exist (later reported dead);
/// the others were no URL at all, and the citation had "no URL given".
#[test]
fn a_url_line_in_full_width_brackets_is_the_url() {
    let url = "http://127.0.0.1/local/2020-12/26/c_1126910999.htm";
    for (open, close) in [
        ("（", "）"),
        ("【", "】"),
        ("《", "》"),
        ("〈", "〉"),
        ("『", "』"),
    ] {
        let text =
            format!("Title A\n\n{BODY}\n\nSource: Xinhua, December 26, 2020\n{open}{url}{close}\n");
        let got = flat(&parse(Format::Text, &text));
        assert_eq!(
            got,
            vec![row("Title A", "Xinhua", "2020-12-26", url)],
            "{open}{close}"
        );
    }
}

/// A bare URL in Chinese prose inside full-width brackets (`详见（URL）。`)
/// took the `）` with it.
#[test]
fn a_bare_url_in_full_width_brackets_ends_before_them() {
    let url = "http://127.0.0.1/local/2020-12/26/c_3.htm";
    for (open, close) in [("（", "）"), ("【", "】"), ("《", "》")] {
        let text = format!(
            "Title A\n\n{BODY} 详见{open}{url}{close}。\n\nSource: Xinhua, December 26, 2020\nhttp://127.0.0.1/a.htm\n"
        );
        let urls: Vec<_> = flat(&parse(Format::Text, &text))
            .into_iter()
            .map(|r| r.3)
            .collect();
        assert_eq!(
            urls,
            [
                Some(url.to_string()),
                Some("http://127.0.0.1/a.htm".to_string())
            ],
            "{open}{close}"
        );
    }
    // Written with no space before the outlet in brackets.
    let text = format!("Title A\n\n{BODY}\n\n来源：{url}（新华社，2020年12月26日）\n");
    assert_eq!(
        flat(&parse(Format::Text, &text)),
        vec![row("Title A", "新华社", "2020-12-26", url)]
    );
    // A pair inside the path is the path's own.
    let wiki = "https://127.0.0.1/wiki/李白（诗人）";
    let text =
        format!("Title A\n\n{BODY} 见（{wiki}）。\n\nSource: Wiki, December 26, 2020\n{wiki}\n");
    let urls: Vec<_> = flat(&parse(Format::Text, &text))
        .into_iter()
        .map(|r| r.3)
        .collect();
    assert_eq!(urls, [Some(wiki.to_string())]);
}

/// A Source line typed in a Chinese input method: full-width colon, comma
/// and digits, a weekday after the date. Its date was left in the outlet.
#[test]
fn a_source_line_typed_in_full_width_gives_its_outlet_and_date() {
    let url = "http://127.0.0.1/world/2020-12/26/c_1126911308.htm";
    for source in [
        "Source：Xinhua，December 26，2020",
        "Source: 新华社，２０２０年１２月２６日",
        "来源：新华社，2020年12月26日（星期六）",
    ] {
        let text = format!("Title A\n\n{BODY}\n\n{source}\n{url}\n");
        let got = flat(&parse(Format::Text, &text));
        let outlet = if source.contains("Xinhua") {
            "Xinhua"
        } else {
            "新华社"
        };
        assert_eq!(
            got,
            vec![row("Title A", outlet, "2020-12-26", url)],
            "{source}"
        );
    }
}

/// A Source line dated in Chinese numerals: the date was left in the
/// outlet, and one that is no date (`十三月`) named nowhere.
#[test]
fn a_source_line_dated_in_chinese_numerals_gives_its_date_or_names_it() {
    let url = "http://127.0.0.1/world/2020-12/26/c_1126911308.htm";
    for source in [
        "来源：新华社，二〇二〇年十二月二十六日",
        "来源：新华社 二零二零年十二月廿六日（星期六）",
    ] {
        let text = format!("Title A\n\n{BODY}\n\n{source}\n{url}\n");
        assert_eq!(
            flat(&parse(Format::Text, &text)),
            vec![row("Title A", "新华社", "2020-12-26", url)],
            "{source}"
        );
    }
    let text = format!("Title A\n\n{BODY}\n\n来源：新华社，二〇二〇年十三月二十六日\n{url}\n");
    let items = parse(Format::Text, &text);
    let cited = &items[0].citations[0];
    assert_eq!(
        (
            cited.outlet.as_deref(),
            cited.cited_date.as_deref(),
            cited.unread_date.as_deref()
        ),
        (Some("新华社"), None, Some("二〇二〇年十三月二十六日"))
    );
}
