//! The terminal report: aligned columns, colour only when asked (a TTY without
//! `NO_COLOR`; the command decides).

use std::io::Write;

use crate::printable::Printable;

use super::model::{BriefingHead, Citation, DocumentHead, Header, SectionHead, Summary};
use super::select::{BROKEN, DEFAULT_STATUSES, STATUSES, Section};
use super::{Render, ReportError};

/// Outlets shown in the summary table; the rest are counted in one line.
pub const OUTLETS_SHOWN: usize = 20;

/// Writes the text report.
pub struct Text<'w> {
    /// Names and titles come from briefings and web pages: shown, never obeyed.
    out: Printable<&'w mut dyn Write>,
    color: bool,
    section: Option<Section>,
}

impl<'w> Text<'w> {
    /// A text writer; `color` adds ANSI colour to status words and headings.
    pub fn new(out: &'w mut dyn Write, color: bool) -> Text<'w> {
        Text {
            out: if color {
                Printable::in_colour(out)
            } else {
                Printable::new(out)
            },
            color,
            section: None,
        }
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

fn status_colour(status: &str) -> &'static str {
    match status {
        "dead" | "soft_404" | "unreachable" => "31",
        "changed" => "33",
        "moved" => "36",
        "failing" => "35",
        _ => "2",
    }
}

/// `n` with thousands separated by commas.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// "1 source" / "2 sources".
pub fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// The sentence about what is new, shared by the text-like formats.
pub fn movement_line(summary: &Summary, header: &Header) -> String {
    let since = match &header.since {
        Some(s) => format!("since {s}"),
        None => "since the first check".to_string(),
    };
    format!(
        "newly broken {since}: {} ({}); recovered: {} ({})",
        plural(summary.newly_broken.sources, "source", "sources"),
        plural(summary.newly_broken.citations, "citation", "citations"),
        plural(summary.recovered.sources, "source", "sources"),
        plural(summary.recovered.citations, "citation", "citations"),
    )
}

/// The scope line ("only what is new …; outlet …"), empty when unfiltered.
pub fn scope_line(header: &Header) -> String {
    let mut parts = Vec::new();
    if header.new_only {
        // Every status `--new` lists, and "since" worded as the summary's
        // line words it: "broken or changed ever" left out moves and the
        // watch list, and read as a typo.
        let since = header
            .since
            .as_deref()
            .map_or("since the first check".to_string(), |s| {
                format!("since {s}")
            });
        parts.push(format!(
            "only what became {} {since}",
            new_groups(&header.statuses)
        ));
    }
    if let Some(o) = &header.outlet {
        parts.push(format!("outlet {o}"));
    }
    if let Some(d) = &header.document {
        parts.push(format!("document {d}"));
    }
    parts.join("; ")
}

/// The status groups `--new` lists, as people read them ("broken, changed,
/// moved or failing"): the listed statuses' own, since `--status ok --new`
/// lists what became ok, which the default's words would deny.
fn new_groups(statuses: &[&str]) -> String {
    let listed = if statuses.is_empty() {
        DEFAULT_STATUSES
    } else {
        statuses
    };
    let mut names: Vec<&str> = Vec::new();
    for s in listed {
        let name = if BROKEN.contains(s) { "broken" } else { *s };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

/// The status rows shown in a summary: every status with a citation or source.
pub fn status_rows(summary: &Summary) -> Vec<(&'static str, i64, i64)> {
    STATUSES
        .iter()
        .map(|s| {
            (
                *s,
                summary.citations_by_status[s],
                summary.sources_by_status[s],
            )
        })
        .filter(|(_, c, s)| *c > 0 || *s > 0)
        .collect()
}

/// The outlets the summary table leaves out, counted ("3 outlets"), or
/// `None` when it shows them all: each text-like format words the line its
/// own way around the same count.
pub(super) fn outlets_not_shown(summary: &Summary) -> Option<String> {
    let more = summary.outlets.len().saturating_sub(OUTLETS_SHOWN);
    (more > 0).then(|| plural(more as i64, "outlet", "outlets"))
}

/// An outlet's name as shown.
pub fn outlet_name(o: &Option<String>) -> &str {
    o.as_deref().unwrap_or("(no outlet)")
}

/// The columns `s` takes on a terminal: two for each wide (CJK) character.
fn columns(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

impl Render for Text<'_> {
    fn start(&mut self, header: &Header, summary: &Summary) -> Result<(), ReportError> {
        let title = self.paint("1", "citewatch report");
        writeln!(self.out, "{title}, {}", header.generated_at)?;
        let scope = scope_line(header);
        if !scope.is_empty() {
            writeln!(self.out, "{scope}")?;
        }
        writeln!(self.out)?;
        writeln!(self.out, "{}", self.paint("1", "SUMMARY"))?;
        writeln!(
            self.out,
            "  {} of {}; {} broken ({:.1}%)",
            plural(summary.citations, "citation", "citations"),
            plural(summary.sources, "source", "sources"),
            thousands(summary.broken),
            super::model::percent(summary.broken, summary.citations)
        )?;
        writeln!(self.out, "  {}", movement_line(summary, header))?;
        writeln!(self.out)?;
        writeln!(
            self.out,
            "  {:<12} {:>10} {:>10}",
            "status", "citations", "sources"
        )?;
        for (s, c, n) in status_rows(summary) {
            let padded = format!("{s:<12}");
            writeln!(
                self.out,
                "  {} {:>10} {:>10}",
                self.paint(status_colour(s), &padded),
                thousands(c),
                thousands(n)
            )?;
        }
        if !summary.outlets.is_empty() {
            let width = summary
                .outlets
                .iter()
                .take(OUTLETS_SHOWN)
                .map(|o| columns(outlet_name(&o.outlet)))
                .max()
                .unwrap_or(6)
                .clamp(6, 40);
            writeln!(self.out)?;
            writeln!(
                self.out,
                "  {:<width$} {:>10} {:>8} {:>9}",
                "outlet", "citations", "broken", "broken %"
            )?;
            for o in summary.outlets.iter().take(OUTLETS_SHOWN) {
                // Whole, past the column if need be: cut to it, two outlets
                // alike that far read as one.
                let name = outlet_name(&o.outlet);
                // Padded by columns on screen, not characters: 新华社 takes six.
                let pad = " ".repeat(width.saturating_sub(columns(name)));
                writeln!(
                    self.out,
                    "  {name}{pad} {:>10} {:>8} {:>8.1}%",
                    thousands(o.citations),
                    thousands(o.broken),
                    o.broken_percent
                )?;
            }
            if let Some(more) = outlets_not_shown(summary) {
                writeln!(self.out, "  … and {more} more")?;
            }
        }
        Ok(())
    }

    fn start_section(&mut self, s: &SectionHead) -> Result<(), ReportError> {
        self.section = Some(s.section);
        writeln!(self.out)?;
        let heading = format!(
            "{} ({})",
            s.section.title().to_uppercase(),
            thousands(s.citations)
        );
        writeln!(self.out, "{}", self.paint("1", &heading))?;
        writeln!(self.out, "  {}", s.section.advice())?;
        if s.citations == 0 {
            writeln!(self.out, "  none")?;
        }
        Ok(())
    }

    fn start_document(&mut self, d: &DocumentHead) -> Result<(), ReportError> {
        writeln!(self.out)?;
        writeln!(self.out, "  {}", self.paint("1", &d.heading))?;
        Ok(())
    }

    fn start_briefing(&mut self, b: &BriefingHead) -> Result<(), ReportError> {
        writeln!(self.out, "    #{} {}", b.item, b.title)?;
        Ok(())
    }

    fn citation(&mut self, c: &Citation) -> Result<(), ReportError> {
        const IND: &str = "                      ";
        let label = format!("{:<15} ", c.status_label());
        let new = if c.new { "  NEW" } else { "" };
        writeln!(
            self.out,
            "      {}{}{}",
            self.paint(status_colour(&c.status), &label),
            c.cited(),
            new
        )?;
        writeln!(self.out, "{IND}{}", c.shown_url())?;
        let since = c
            .since_note()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        writeln!(self.out, "{IND}{}{since}", c.evidence)?;
        if self.section == Some(Section::Watch) {
            return Ok(());
        }
        if let Some(u) = &c.new_url {
            writeln!(self.out, "{IND}new URL: {u}")?;
        }
        if let Some(note) = c.as_cited_note() {
            writeln!(self.out, "{IND}{note}")?;
        }
        if let Some(a) = &c.archived {
            writeln!(
                self.out,
                "{IND}archived {}  sha256 {}",
                a.captured_at, a.sha256
            )?;
            writeln!(self.out, "{IND}  {}", a.get_command)?;
            if let Some(u) = &a.url {
                writeln!(self.out, "{IND}  {u}")?;
            }
        } else if c.source_id.is_some() {
            writeln!(self.out, "{IND}archived: no copy")?;
        }
        if let Some(w) = &c.wayback_url {
            writeln!(self.out, "{IND}wayback  {w}")?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ReportError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header of a report of everything, at a fixed moment.
    fn whole_report_header() -> Header {
        Header {
            schema: crate::report::model::SCHEMA,
            generated_at: "2026-11-05T00:00:00Z".into(),
            since: None,
            new_only: false,
            statuses: Vec::new(),
            outlet: None,
            document: None,
        }
    }

    #[test]
    fn numbers_read_easily() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(plural(1, "source", "sources"), "1 source");
    }

    #[test]
    fn the_scope_of_new_names_what_it_lists_and_since_when() {
        let mut header = Header {
            schema: crate::report::model::SCHEMA,
            generated_at: "2026-11-05T00:00:00Z".into(),
            since: None,
            new_only: true,
            statuses: Vec::new(),
            outlet: None,
            document: None,
        };
        assert_eq!(
            scope_line(&header),
            "only what became broken, changed, moved or failing since the first check"
        );
        header.since = Some("2026-11-04T02:00:00Z".into());
        assert_eq!(
            scope_line(&header),
            "only what became broken, changed, moved or failing since 2026-11-04T02:00:00Z"
        );
    }

    /// `report --new --status ok` listed what became ok under a line
    /// saying it listed only what became broken, changed, moved or failing.
    #[test]
    fn the_scope_of_new_names_the_statuses_listed() {
        let header = |statuses: Vec<&'static str>| Header {
            schema: crate::report::model::SCHEMA,
            generated_at: "2026-11-05T00:00:00Z".into(),
            since: Some("2026-11-04T02:00:00Z".into()),
            new_only: true,
            statuses,
            outlet: None,
            document: None,
        };
        assert_eq!(
            scope_line(&header(vec!["ok"])),
            "only what became ok since 2026-11-04T02:00:00Z"
        );
        assert_eq!(
            scope_line(&header(vec!["dead", "soft_404", "blocked"])),
            "only what became broken or blocked since 2026-11-04T02:00:00Z"
        );
        assert_eq!(
            scope_line(&header(crate::report::select::DEFAULT_STATUSES.to_vec())),
            "only what became broken, changed, moved or failing since 2026-11-04T02:00:00Z"
        );
    }

    /// The summary line formatted the share itself, rounding 6.25 to 6.2
    /// where the outlet table's one decimal gave 6.3 for the same counts.
    #[test]
    fn the_broken_share_is_the_same_in_the_line_and_the_table() {
        use crate::store::{OutletCount, ReportCounts};
        let mut counts = ReportCounts {
            outlets: vec![OutletCount {
                outlet: Some("Xinhua".into()),
                citations: 16,
                broken: 1,
            }],
            ..ReportCounts::default()
        };
        counts.citations_by_status.insert("dead".into(), 1);
        counts.citations_by_status.insert("ok".into(), 15);
        let summary = Summary::from_counts(&counts);
        let header = whole_report_header();
        let mut out = Vec::new();
        Text::new(&mut out, false).start(&header, &summary).unwrap();
        let shown = String::from_utf8(out).unwrap();
        assert!(shown.contains("1 broken (6.3%)"), "{shown}");
        assert!(shown.contains("6.3%\n"), "{shown}");
    }

    /// Names were cut to the column's 40 characters: two outlets alike
    /// that far showed as one outlet twice, with different counts.
    #[test]
    fn long_outlet_names_are_shown_whole() {
        use crate::store::{OutletCount, ReportCounts};
        let long = "Ministry of Foreign Affairs of the People's Republic of China";
        let names = [long.to_string(), format!("{long}, Spokesperson")];
        let summary = Summary::from_counts(&ReportCounts {
            outlets: names
                .iter()
                .map(|n| OutletCount {
                    outlet: Some(n.clone()),
                    citations: 2,
                    broken: 1,
                })
                .collect(),
            ..ReportCounts::default()
        });
        let header = whole_report_header();
        let mut out = Vec::new();
        Text::new(&mut out, false).start(&header, &summary).unwrap();
        let shown = String::from_utf8(out).unwrap();
        for name in &names {
            assert!(
                shown
                    .lines()
                    .any(|l| l.trim_start().starts_with(&format!("{name} "))),
                "{name}: {shown}"
            );
        }
    }

    /// Padded by characters, 新华社 (six columns on screen) pushed its
    /// counts three columns right of every other row's.
    #[test]
    fn wide_outlet_names_line_up_with_the_others_on_screen() {
        use crate::store::{OutletCount, ReportCounts};
        let summary = Summary::from_counts(&ReportCounts {
            outlets: ["新华社", "Reuters", "人民日报 People's Daily"]
                .iter()
                .map(|n| OutletCount {
                    outlet: Some(n.to_string()),
                    citations: 2,
                    broken: 1,
                })
                .collect(),
            ..ReportCounts::default()
        });
        let mut out = Vec::new();
        Text::new(&mut out, false)
            .start(&whole_report_header(), &summary)
            .unwrap();
        let shown = String::from_utf8(out).unwrap();
        let ends: Vec<usize> = shown
            .lines()
            .filter(|l| l.ends_with('%') && !l.contains("broken %"))
            .map(unicode_width::UnicodeWidthStr::width)
            .collect();
        assert_eq!(ends.len(), 3, "{shown}");
        assert!(ends.iter().all(|e| *e == ends[0]), "{ends:?}\n{shown}");
    }

    #[test]
    fn the_outlets_past_the_table_are_counted_in_every_text_like_format() {
        use crate::report::{ReportFormat, renderer};
        use crate::store::{OutletCount, ReportCounts};
        let header = whole_report_header();
        let summary = |outlets: usize| {
            Summary::from_counts(&ReportCounts {
                outlets: (0..outlets)
                    .map(|i| OutletCount {
                        outlet: Some(format!("Outlet {i}")),
                        citations: 1,
                        broken: 0,
                    })
                    .collect(),
                ..ReportCounts::default()
            })
        };
        let start = |format: ReportFormat, outlets: usize| {
            let mut out = Vec::new();
            renderer(format, &mut out, false)
                .start(&header, &summary(outlets))
                .unwrap();
            String::from_utf8(out).unwrap()
        };
        for (format, line) in [
            (ReportFormat::Text, "\n  … and 3 outlets more\n"),
            (ReportFormat::Markdown, "|\n\n… and 3 outlets more.\n"),
            (ReportFormat::Html, "\n<p>… and 3 outlets more.</p>\n"),
        ] {
            let shown = start(format, OUTLETS_SHOWN + 3);
            assert!(shown.contains(line), "{format:?}: {shown}");
            assert!(start(format, OUTLETS_SHOWN + 1).contains("… and 1 outlet more"));
            let all = start(format, OUTLETS_SHOWN);
            assert!(all.contains("Outlet 19") && !all.contains("… and"), "{all}");
        }
    }
}
