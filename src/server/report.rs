//! The report as the server shows it: `GET /api/report` ([`report_json`]) and the
//! web report at `/` ([`report_html`]).
//!
//! **This is the seam where `citewatch report` (`src/report/`, issue 6) plugs
//! in.** Until it lands, these two functions render a minimal live view: sources
//! grouped by status, filtered by status, host and outlet, each with links to its
//! archived copies and its history. When the report module exists, replace the
//! bodies of [`report_json`] and [`report_html`] with calls into it (its JSON and
//! HTML renderers, given the same [`ReportQuery`] and [`Links`]); the routes,
//! query parsing, headers and tests around them stay as they are.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use super::Links;
use crate::store::{ListedSource, SourceQuery, Store, StoreError};

/// Every status name, in the order reports show them (most urgent first).
pub const STATUSES: [&str; 10] = [
    "dead",
    "soft_404",
    "unreachable",
    "failing",
    "changed",
    "moved",
    "blocked",
    "invalid",
    "unchecked",
    "ok",
];

/// What a report shows by default: every source needing attention.
pub const ATTENTION: [&str; 8] = [
    "dead",
    "soft_404",
    "unreachable",
    "failing",
    "changed",
    "moved",
    "blocked",
    "invalid",
];

/// Sources listed at most in one report (the total is always given).
pub const REPORT_LIMIT: u64 = 1_000;

/// Which sources a report covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportQuery {
    /// Only these statuses; `None`: those needing attention ([`ATTENTION`]).
    pub statuses: Option<Vec<String>>,
    /// Only this host.
    pub host: Option<String>,
    /// Only sources cited from an outlet containing this text.
    pub outlet: Option<String>,
}

impl ReportQuery {
    fn statuses(&self) -> Vec<String> {
        self.statuses
            .clone()
            .unwrap_or_else(|| ATTENTION.iter().map(|s| s.to_string()).collect())
    }
}

/// One source in the report.
#[derive(Debug, Clone, Serialize)]
pub struct ReportSource {
    /// Source id.
    pub id: i64,
    /// Normalised URL.
    pub url: String,
    /// Host.
    pub host: String,
    /// Status.
    pub status: String,
    /// Since when (RFC 3339).
    pub status_since: Option<String>,
    /// Evidence in plain words.
    pub evidence: Option<String>,
    /// Active citations of it.
    pub citations: i64,
    /// The copy as cited (the baseline capture), if archived.
    pub archived_as_cited: Option<String>,
    /// The latest archived copy.
    pub archived_latest: Option<String>,
    /// Its history page.
    pub history: String,
}

/// The report as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Statuses covered.
    pub statuses: Vec<String>,
    /// Host filter.
    pub host: Option<String>,
    /// Outlet filter.
    pub outlet: Option<String>,
    /// Every source in the store by status (unfiltered).
    pub sources_by_status: BTreeMap<String, i64>,
    /// Sources matching the filters.
    pub total: u64,
    /// True when more than [`REPORT_LIMIT`] matched and the list is cut.
    pub truncated: bool,
    /// The matching sources, most urgent status first, then by URL.
    pub sources: Vec<ReportSource>,
}

fn entry(s: ListedSource, links: &Links) -> ReportSource {
    let r = s.source;
    ReportSource {
        history: links.source(r.id),
        archived_as_cited: r.baseline_capture_id.map(|c| links.archive(c)),
        archived_latest: r.latest_capture_id.map(|c| links.archive(c)),
        id: r.id,
        url: r.url,
        host: s.host,
        status: r.status,
        status_since: r.status_since,
        evidence: r.evidence,
        citations: r.citations,
    }
}

/// Builds the report data (the provisional renderer behind both formats).
pub fn build(store: &Store, q: &ReportQuery, links: &Links) -> Result<Report, StoreError> {
    let statuses = q.statuses();
    let page = store.source_page(&SourceQuery {
        statuses: Some(statuses.clone()),
        host: q.host.clone(),
        outlet: q.outlet.clone(),
        offset: 0,
        limit: REPORT_LIMIT,
    })?;
    let rank = |s: &str| {
        STATUSES
            .iter()
            .position(|x| *x == s)
            .unwrap_or(STATUSES.len())
    };
    let mut sources: Vec<ReportSource> =
        page.sources.into_iter().map(|s| entry(s, links)).collect();
    sources.sort_by(|a, b| {
        rank(&a.status)
            .cmp(&rank(&b.status))
            .then(a.url.cmp(&b.url))
    });
    Ok(Report {
        statuses,
        host: q.host.clone(),
        outlet: q.outlet.clone(),
        sources_by_status: store.sources_by_status()?,
        truncated: page.total > REPORT_LIMIT,
        total: page.total,
        sources,
    })
}

/// `GET /api/report`: the report as JSON. (Seam: see the module documentation.)
pub fn report_json(store: &Store, q: &ReportQuery, links: &Links) -> Result<Report, StoreError> {
    build(store, q, links)
}

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page frame shared by the server's HTML pages: no script, inline style only.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>{}</title><style>\
         body{{font:15px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:70em;padding:0 1em}}\
         table{{border-collapse:collapse;width:100%;margin-bottom:1.5em}}\
         td,th{{border-bottom:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}}\
         .dead,.soft_404,.unreachable{{color:#a00}} .failing,.changed,.moved{{color:#a60}} .ok{{color:#070}}\
         form input{{margin-right:.5em}} code{{word-break:break-all}}\
         </style></head><body>\n{}\n</body></html>\n",
        escape(title),
        body
    )
}

/// `GET /`: the report as a web page. (Seam: see the module documentation.)
pub fn report_html(store: &Store, q: &ReportQuery, links: &Links) -> Result<String, StoreError> {
    let r = build(store, q, links)?;
    let mut b = String::new();
    let _ = writeln!(b, "<h1>citewatch: cited sources</h1>");
    let counts: Vec<String> = STATUSES
        .iter()
        .filter_map(|s| {
            r.sources_by_status
                .get(*s)
                .map(|n| format!("<a class=\"{s}\" href=\"?status={s}\">{s}</a> {n}",))
        })
        .collect();
    let _ = writeln!(b, "<p id=\"counts\">All sources: {}</p>", counts.join(", "));
    let _ = writeln!(
        b,
        "<form method=\"get\" action=\"\"><label>status <input name=\"status\" value=\"{}\"></label>\
         <label>host <input name=\"host\" value=\"{}\"></label>\
         <label>outlet <input name=\"outlet\" value=\"{}\"></label>\
         <button type=\"submit\">filter</button></form>",
        escape(&r.statuses.join(",")),
        escape(r.host.as_deref().unwrap_or("")),
        escape(r.outlet.as_deref().unwrap_or(""))
    );
    let _ = writeln!(
        b,
        "<p id=\"total\">{} sources match{}.</p>",
        r.total,
        if r.truncated {
            format!("; the first {REPORT_LIMIT} are listed")
        } else {
            String::new()
        }
    );
    for status in STATUSES {
        let group: Vec<&ReportSource> = r.sources.iter().filter(|s| s.status == status).collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(
            b,
            "<h2 class=\"{status}\" id=\"status-{status}\">{status} ({})</h2>\n<table>\
             <tr><th>source</th><th>since</th><th>evidence</th><th>citations</th><th>archived</th></tr>",
            group.len()
        );
        for s in group {
            let mut archived = Vec::new();
            if let Some(a) = &s.archived_as_cited {
                archived.push(format!("<a href=\"{}\">as cited</a>", escape(a)));
            }
            if let Some(a) = &s.archived_latest
                && Some(a) != s.archived_as_cited.as_ref()
            {
                archived.push(format!("<a href=\"{}\">latest</a>", escape(a)));
            }
            let _ = writeln!(
                b,
                "<tr class=\"source\" data-id=\"{}\"><td><a href=\"{}\"><code>{}</code></a></td>\
                 <td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                s.id,
                escape(&s.history),
                escape(&s.url),
                escape(s.status_since.as_deref().unwrap_or("")),
                escape(s.evidence.as_deref().unwrap_or("")),
                s.citations,
                archived.join(" · ")
            );
        }
        let _ = writeln!(b, "</table>");
    }
    Ok(page("citewatch report", &b))
}
