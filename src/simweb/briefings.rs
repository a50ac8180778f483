//! Briefing stores that cite the simulated web, so that end-to-end tests and
//! demos run the real pipeline (sync, fetch, check, report) on citations whose
//! pages they control.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use super::{host_index, pages};

/// What a briefing item says about the URL it cites: outlet, headline, cited day
/// and a summary, taken from the simulated article when the URL is one, so the
/// item reads like a summary of the page it cites.
struct Cited {
    outlet: String,
    headline: String,
    day: u32,
    summary: String,
}

fn cited(url: &str, n: usize) -> Cited {
    let located = url::Url::parse(url).ok().and_then(|u| {
        let host = match u.host()? {
            url::Host::Ipv4(ip) => host_index(ip)?,
            _ => return None,
        };
        let id = u
            .path()
            .strip_prefix("/news/")?
            .strip_suffix(".html")?
            .parse::<u64>()
            .ok()?;
        Some((host, id))
    });
    match located {
        Some((host, id)) => Cited {
            outlet: pages::outlet(host),
            headline: pages::headline(host, id),
            day: pages::published_day(host, id),
            summary: pages::summary(host, id),
        },
        None => Cited {
            outlet: "Outlet unknown".to_string(),
            headline: format!("Item {n} citing an outside page"),
            day: 1 + (n % 31) as u32,
            summary:
                "The report describes an official document published by the provincial authorities."
                    .to_string(),
        },
    }
}

/// Writes `urls` as seed-format `.txt` documents (`briefings-0001.txt`, …) of
/// `items_per_doc` items each into `dir` (created if missing), one citation per
/// item in URL order; returns the files written.
///
/// Each item is the seed page's shape: `Outlet N: headline`, a blank line, a
/// body paragraph, a blank line, `Source: Outlet N, December D, 2020` and the
/// URL on the next line.
pub fn write_briefing_store(
    dir: &Path,
    urls: &[String],
    items_per_doc: usize,
) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let per_doc = items_per_doc.max(1);
    let mut written = Vec::new();
    for (doc, chunk) in urls.chunks(per_doc).enumerate() {
        let page = doc + 1;
        let mut text = format!("Skip to content\n\nBriefings - {page}. page\n\n");
        for (i, url) in chunk.iter().enumerate() {
            let c = cited(url, doc * per_doc + i);
            let _ = write!(
                text,
                "{outlet}: {headline}\n\n\
                 According to {outlet}, {summary}\n\n\
                 Source: {outlet}, December {day}, 2020\n{url}\n\n",
                outlet = c.outlet,
                headline = c.headline,
                summary = lower_first(&c.summary),
                day = c.day,
            );
        }
        let path = dir.join(format!("briefings-{page:04}.txt"));
        std::fs::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
