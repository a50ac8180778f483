//! Items laid out Title / Source / Body and Title / Body / Source on one
//! page, in every format and order: each keeps its title, the links of its
//! own body and its citations. An item has no body text of its own to
//! compare, so each body paragraph carries a link: a body given to the
//! wrong item, or made an item of its own, shows as its link's place.

use super::super::*;
use super::{P1, P2};

/// Where an item's first citation line stands.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Layout {
    /// Title, Source line and URL, then the body (and any further Source lines).
    SourceFirst,
    /// Title, body, then the Source lines and URLs.
    BodyFirst,
}
use Layout::{BodyFirst, SourceFirst};

/// How a document marks its titles.
#[derive(Debug, Clone, Copy)]
enum Style {
    /// Under a page's header lines, as the seed page is.
    Text,
    /// Plain lines, perhaps under a page's `#` heading.
    Markdown { page_heading: bool },
    /// Each title a `##` heading.
    MarkdownHeadings,
    /// Titles in `<p><strong>`, perhaps under a page's `<h1>`.
    Html { page_heading: bool },
    /// Each title an `<h2>`.
    HtmlHeadings,
}

/// Styles whose titles are lines of their own or item headings.
const STYLES: [Style; 5] = [
    Style::Text,
    Style::Markdown {
        page_heading: false,
    },
    Style::MarkdownHeadings,
    Style::Html {
        page_heading: false,
    },
    Style::HtmlHeadings,
];

/// Styles with a page heading over items titled by lines of their own.
const PAGE_HEADING_STYLES: [Style; 2] = [
    Style::Markdown { page_heading: true },
    Style::Html { page_heading: true },
];

/// One item as written.
struct Written {
    title: String,
    layout: Layout,
    /// Lines between the title and the rest (outlet, date).
    meta: Vec<String>,
    /// Each Source line and the URLs written on the line under it.
    sources: Vec<(String, Vec<String>)>,
    /// Each body paragraph and the URL it links.
    body: Vec<(String, String)>,
}

/// The `n`th item, with `paragraphs` body paragraphs, each linking a URL
/// of its own, and one Source line with one URL.
fn written(n: usize, layout: Layout, paragraphs: usize) -> Written {
    Written {
        title: format!("Xinhua: Item {n} Passes the Standing Committee"),
        layout,
        meta: Vec::new(),
        sources: vec![(
            format!("Source: Xinhua, December {}, 2020", 10 + n),
            vec![format!("https://cited.example/{n}")],
        )],
        body: (0..paragraphs)
            .map(|p| {
                let url = format!("https://body.example/{n}/{p}");
                (
                    format!(
                        "Xinhua reported that the committee passed measure {n} in its session. See {url}."
                    ),
                    url,
                )
            })
            .collect(),
    }
}

fn render(style: Style, items: &[Written]) -> (Format, String) {
    let (format, html) = match style {
        Style::Text => (Format::Text, false),
        Style::Markdown { .. } | Style::MarkdownHeadings => (Format::Markdown, false),
        Style::Html { .. } | Style::HtmlHeadings => (Format::Html, true),
    };
    let mut out = match style {
        Style::Text => "Skip to content\n\nBriefings - 244. page\n\n",
        Style::Markdown { page_heading: true } => "# Briefings - 244. page\n\n",
        Style::Html { page_heading: true } => "<h1>Briefings - 244. page</h1>\n",
        _ => "",
    }
    .to_string();
    let para = |s: &str| {
        if html {
            format!("<p>{s}</p>\n")
        } else {
            format!("{s}\n\n")
        }
    };
    let source = |(line, urls): &(String, Vec<String>)| {
        if html {
            let anchors: Vec<String> = urls
                .iter()
                .map(|u| format!("<a href=\"{u}\">{u}</a>"))
                .collect();
            format!("<p>{line}<br>{}</p>\n", anchors.join(" "))
        } else {
            format!("{line}\n{}\n\n", urls.join(" "))
        }
    };
    for it in items {
        out.push_str(&match style {
            Style::MarkdownHeadings => format!("## {}\n\n", it.title),
            Style::HtmlHeadings => format!("<h2>{}</h2>\n", it.title),
            Style::Html { .. } => format!("<p><strong>{}</strong></p>\n", it.title),
            _ => format!("{}\n\n", it.title),
        });
        let meta: String = it.meta.iter().map(|m| para(m)).collect();
        let body: String = it.body.iter().map(|(p, _)| para(p)).collect();
        let (before, after) = it.sources.split_at(match it.layout {
            SourceFirst => it.sources.len().min(1),
            BodyFirst => 0,
        });
        out.push_str(&meta);
        out.extend(before.iter().map(source));
        out.push_str(&body);
        out.extend(after.iter().map(source));
    }
    (format, out)
}

/// Each item's title and its citations' origins and URLs, in order.
type Got = Vec<(String, Vec<(Origin, Option<String>)>)>;

fn got(format: Format, doc: &str) -> Got {
    parse(format, doc)
        .into_iter()
        .map(|i| {
            (
                i.title,
                i.citations.into_iter().map(|c| (c.origin, c.url)).collect(),
            )
        })
        .collect()
}

/// What an editor expects of the written items: each its title, and its
/// Source lines' URLs and its body's links in the order written.
fn expected(items: &[Written]) -> Got {
    items
        .iter()
        .map(|it| {
            let cited = |s: &[(String, Vec<String>)]| {
                s.iter()
                    .flat_map(|(_, urls)| urls.iter())
                    .map(|u| (Origin::SourceLine, Some(u.clone())))
                    .collect::<Vec<_>>()
            };
            let body = it.body.iter().map(|(_, u)| (Origin::Body, Some(u.clone())));
            let (before, after) = it.sources.split_at(match it.layout {
                SourceFirst => it.sources.len().min(1),
                BodyFirst => 0,
            });
            let citations = cited(before)
                .into_iter()
                .chain(body)
                .chain(cited(after))
                .collect();
            (it.title.clone(), citations)
        })
        .collect()
}

/// The documents, in every style, whose items are not the written ones:
/// each with what it gave and what was written.
fn misread(items: &[Written], styles: &[Style]) -> Vec<String> {
    let want = expected(items);
    styles
        .iter()
        .filter_map(|&style| {
            let (format, doc) = render(style, items);
            let got = got(format, &doc);
            (got != want).then(|| format!("{style:?}:\n{doc}\ngot:  {got:?}\nwant: {want:?}\n"))
        })
        .collect()
}

fn assert_all_read(wrong: &[String]) {
    assert!(
        wrong.is_empty(),
        "{} misread:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Every sequence of two and three items, each of one of `kinds`.
fn sequences<T: Copy>(kinds: &[T]) -> Vec<Vec<T>> {
    let mut all: Vec<Vec<T>> = vec![Vec::new()];
    let mut out = Vec::new();
    for len in 1..=3 {
        all = all
            .iter()
            .flat_map(|s| {
                kinds.iter().map(move |&k| {
                    let mut s = s.clone();
                    s.push(k);
                    s
                })
            })
            .collect();
        if len >= 2 {
            out.extend(all.iter().cloned());
        }
    }
    out
}

/// Each item's layout and how many body paragraphs it has: none (the
/// Source line right under the title, and nothing after it), one, or two.
const KINDS: [(Layout, usize); 5] = [
    (SourceFirst, 0),
    (SourceFirst, 1),
    (SourceFirst, 2),
    (BodyFirst, 1),
    (BodyFirst, 2),
];

/// One body paragraph or none: enough for the variants below, a fifth of
/// the documents to read.
const FEW_KINDS: [(Layout, usize); 3] = [(SourceFirst, 0), (SourceFirst, 1), (BodyFirst, 1)];

fn items_of(kinds: &[(Layout, usize)]) -> Vec<Written> {
    kinds
        .iter()
        .enumerate()
        .map(|(n, &(layout, paragraphs))| written(n, layout, paragraphs))
        .collect()
}

/// An item cited under its title, followed by one cited after its body,
/// lost its body to an item of its own titled by the body's first
/// paragraph; the reverse order, three-item mixes and items with no body,
/// in every format.
#[test]
fn source_first_and_body_first_items_mixed_keep_their_own_bodies() {
    let mut wrong = Vec::new();
    for kinds in sequences(&KINDS) {
        wrong.extend(misread(&items_of(&kinds), &STYLES));
    }
    assert_all_read(&wrong);
}

/// The same, with outlet and date lines under each title.
#[test]
fn mixed_layouts_with_outlet_and_date_lines_keep_their_bodies() {
    let mut wrong = Vec::new();
    for kinds in sequences(&FEW_KINDS) {
        let mut items = items_of(&kinds);
        for (n, it) in items.iter_mut().enumerate() {
            it.meta = vec!["Xinhua".into(), format!("December {}, 2020", 10 + n)];
        }
        wrong.extend(misread(&items, &STYLES));
    }
    assert_all_read(&wrong);
}

/// Two URLs on the line under a Source line are each the item's, in
/// either layout and beside items of the other.
#[test]
fn mixed_layouts_with_two_urls_under_a_source_line_keep_both() {
    let mut wrong = Vec::new();
    for kinds in sequences(&FEW_KINDS) {
        let mut items = items_of(&kinds);
        for (n, it) in items.iter_mut().enumerate() {
            it.sources[0].1.push(format!("https://mirror.example/{n}"));
        }
        wrong.extend(misread(&items, &STYLES));
    }
    assert_all_read(&wrong);
}

/// An item cited under its title and again after its body: the second
/// Source line was the citation of an item titled by the body's first
/// paragraph, which took the body's links too.
#[test]
fn a_second_source_line_after_the_body_of_an_item_cited_under_its_title_is_its() {
    let mut wrong = Vec::new();
    for kinds in sequences(&FEW_KINDS) {
        for second in 0..kinds.len() {
            if kinds[second] == (SourceFirst, 1) {
                let mut items = items_of(&kinds);
                items[second].sources.push((
                    "Source: Global Times, December 27, 2020".into(),
                    vec![format!("https://second.example/{second}")],
                ));
                wrong.extend(misread(&items, &STYLES));
            }
        }
    }
    assert_all_read(&wrong);
}

/// A page heading over items whose Source lines come right under their
/// title lines: each item after the first starts after a body, and went
/// uncounted as a titled item, so the heading was taken for the only
/// item's title and every citation on the page folded into it.
#[test]
fn a_page_heading_over_items_cited_under_their_titles_is_no_items_title() {
    let mut wrong = Vec::new();
    for kinds in sequences(&KINDS) {
        wrong.extend(misread(&items_of(&kinds), &PAGE_HEADING_STYLES));
    }
    assert_all_read(&wrong);
}

/// Under an item's own heading, a short line between body paragraphs is a
/// sub-heading, and the Source line after them is the item's second: the
/// item is not split there because its first Source line came right
/// under the heading.
#[test]
fn a_sub_heading_in_an_item_cited_under_its_heading_starts_no_item() {
    let second = "Source: Global Times, December 27, 2020\nhttps://second.example/0";
    let md = format!(
        "## Title A\n\nSource: Xinhua, December 26, 2020\nhttps://cited.example/0\n\n\
         {P1} See https://body.example/0.\n\nBackground\n\n{P2} See https://body.example/1.\n\n{second}\n"
    );
    let html = format!(
        "<h2>Title A</h2><p>Source: Xinhua, December 26, 2020<br>https://cited.example/0</p>\
         <p>{P1} See https://body.example/0.</p><p>Background</p><p>{P2} See https://body.example/1.</p>\
         <p>{}</p>",
        second.replace('\n', "<br>")
    );
    let want = vec![(
        "Title A".to_string(),
        [
            (Origin::SourceLine, "https://cited.example/0"),
            (Origin::Body, "https://body.example/0"),
            (Origin::Body, "https://body.example/1"),
            (Origin::SourceLine, "https://second.example/0"),
        ]
        .map(|(o, u)| (o, Some(u.to_string())))
        .to_vec(),
    )];
    for (format, doc) in [(Format::Markdown, md), (Format::Html, html)] {
        assert_eq!(got(format, &doc), want, "{format:?}");
    }
}

/// A short paragraph holding a link (no full stop, a question, a list)
/// right after the Source line of an item cited under its title was
/// passed over as lines before the next item's title, and its link lost.
#[test]
fn a_short_paragraph_after_a_source_line_under_the_title_keeps_its_link() {
    let shorts = [
        "The full text of the law is at https://law.example/1",
        "What did the committee decide about https://law.example/1 this week?",
        "- the law: https://law.example/1",
    ];
    let mut wrong = Vec::new();
    for short in shorts {
        for next in [BodyFirst, SourceFirst] {
            let mut items = vec![written(0, SourceFirst, 0), written(1, next, 1)];
            items[0]
                .body
                .push((short.to_string(), "https://law.example/1".to_string()));
            wrong.extend(misread(&items, &STYLES));
            // Before a body paragraph, and after one.
            for at in [0, 1] {
                let mut items = vec![written(0, SourceFirst, 1), written(1, next, 1)];
                items[0]
                    .body
                    .insert(at, (short.to_string(), "https://law.example/1".to_string()));
                wrong.extend(misread(&items, &STYLES));
            }
        }
    }
    assert_all_read(&wrong);
}

/// A title holding a link, under an item cited under its title, is still
/// the next item's title, with or without outlet and date lines under it.
#[test]
fn a_title_with_a_link_in_it_after_an_item_cited_under_its_title_stays_a_title() {
    let title = "Xinhua: [China](https://china.example/) Passes New Law";
    for meta in ["", "Xinhua\n\nDecember 26, 2020\n\n"] {
        let md = format!(
            "Title A\n\nSource: Xinhua, December 26, 2020\nhttps://a.example/1\n\n\
             {title}\n\n{meta}{P2}\n\nSource: LTN, December 26, 2020\nhttps://b.example/2\n"
        );
        let titles: Vec<String> = parse(Format::Markdown, &md)
            .into_iter()
            .map(|i| i.title)
            .collect();
        assert_eq!(titles, ["Title A", "Xinhua: China Passes New Law"], "{md}");
    }
}

/// An item cited under its title, then one whose body, before its Source
/// line, ends in short lines ("More to come.", a list entry, "The
/// statement said:"): the second item's title is in an earlier run of short
/// lines than the last, and looked for in the last alone, the whole second
/// item, its citation too, was folded into the first.
#[test]
fn short_lines_ending_the_body_of_an_item_cited_after_it_hide_not_its_title() {
    for tail in [
        "More to come.",
        "- a point of the second item",
        "The statement said:\n\nThe second item's last paragraph says more than four words here.",
    ] {
        let doc = format!(
            "Xinhua: Item One Passes the Committee\n\n\
             Source: Xinhua, December 11, 2020\nhttps://cited.example/1\n\n\
             The first item's body paragraph links [one](https://body.example/1/0) here.\n\n\
             Item Two Passes the Standing Committee\n\n\
             The second item's body paragraph links [two](https://body.example/2/0) here.\n\n\
             {tail}\n\n\
             Source: Xinhua, December 12, 2020\nhttps://cited.example/2\n"
        );
        // Markdown's reader keeps no mark of a list entry: a short one
        // reads as a title line there (left as it was).
        let formats: &[Format] = if tail.starts_with('-') {
            &[Format::Text]
        } else {
            &[Format::Text, Format::Markdown]
        };
        for &format in formats {
            let items = got(format, &doc);
            let titles: Vec<&str> = items.iter().map(|(t, _)| t.as_str()).collect();
            assert_eq!(
                titles,
                [
                    "Xinhua: Item One Passes the Committee",
                    "Item Two Passes the Standing Committee"
                ],
                "{format:?} with {tail:?}: {items:?}"
            );
            let urls = |i: usize| -> Vec<&str> {
                items[i]
                    .1
                    .iter()
                    .filter_map(|(_, u)| u.as_deref())
                    .collect()
            };
            assert_eq!(
                urls(0),
                ["https://cited.example/1", "https://body.example/1/0"],
                "{format:?} with {tail:?}"
            );
            assert_eq!(
                urls(1),
                ["https://body.example/2/0", "https://cited.example/2"],
                "{format:?} with {tail:?}"
            );
        }
    }
}
