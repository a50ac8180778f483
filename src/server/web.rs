//! The web pages: the report at `/` (rendered by [`super::report`]) and each
//! source's history at `/sources/{id}`. Plain HTML, no script; the pages forbid
//! script themselves through their Content-Security-Policy.

use std::fmt::Write;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::api::parse_id;
use super::report::{report_html, report_query, resolve_filters};
use super::{ApiError, AppState};
use crate::report::html::escape;
use crate::time::format_millis;

/// The policy of the service's own pages: nothing but inline style and links.
const PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn html(body: impl IntoResponse) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

/// `GET /?status=&outlet=&document=&new=&since=`: the web report.
pub async fn report_page(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let mut q = report_query(query.as_deref())?;
    resolve_filters(&state, &mut q).await?;
    let links = state.links(&headers);
    Ok(html(report_html(&state, q, links).await?))
}

/// The page frame of the server's other HTML pages: no script, inline style only.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>{}</title><style>\
         body{{font:15px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:70em;padding:0 1em}}\
         table{{border-collapse:collapse;width:100%;margin-bottom:1.5em}}\
         td,th{{border-bottom:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}}\
         .dead,.soft_404,.unreachable{{color:#a00}} .failing,.changed,.moved{{color:#a60}} .ok{{color:#070}}\
         code{{word-break:break-all}}\
         </style></head><body>\n{}\n</body></html>\n",
        escape(title),
        body
    )
}

/// `GET /sources/{id}`: one source's verdict, checks and captures.
pub async fn source_page(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = parse_id(&raw, "source")?;
    let links = state.links(&headers);
    let body = state
        .with_store(move |store| {
            let Some(listed) = store.source_by_id(id)? else {
                return Err(ApiError::not_found(format!("no source {id}")));
            };
            let checks = store.checks_of(id)?;
            let captures = store.captures_of(id)?;
            let s = &listed.source;
            let mut b = String::new();
            let _ = writeln!(
                b,
                "<p><a href=\"{}\">← report</a></p><h1><code>{}</code></h1>",
                escape(&links.path("/")),
                escape(&s.url)
            );
            // As `status` says it: failing alone does not tell a 404 seen
            // once from a timeout.
            let suspect = s
                .suspect
                .as_deref()
                .filter(|_| s.status == "failing")
                .map(|x| format!(" (suspect {})", escape(x)))
                .unwrap_or_default();
            let _ = writeln!(
                b,
                "<p>Status <strong class=\"{0}\" id=\"status\">{0}</strong>{suspect}{1}. {2}</p>",
                escape(&s.status),
                s.status_since
                    .as_deref()
                    .map(|t| format!(" since {}", escape(t)))
                    .unwrap_or_default(),
                escape(s.evidence.as_deref().unwrap_or(""))
            );
            let _ = writeln!(
                b,
                "<p>Mementos: <a href=\"{}\">TimeMap</a> · <a href=\"{}\">TimeGate</a></p>",
                escape(&links.timemap(&s.url)),
                escape(&links.timegate(&s.url))
            );
            let _ = writeln!(
                b,
                "<h2>Captures ({})</h2><table><tr><th>time</th><th>HTTP</th><th>type</th><th>bytes</th><th>sha256</th></tr>",
                captures.len()
            );
            for c in captures.iter().rev() {
                // Kept, and served, but no copy of the page cited.
                let disowned = c.disowned_at.map_or_else(String::new, |at| {
                    format!(
                        " <small class=\"disowned\">disowned {}: a page other cited articles are sent to</small>",
                        format_millis(at)
                    )
                });
                let _ = writeln!(
                    b,
                    "<tr class=\"capture\"><td><a href=\"{}\">{}</a>{disowned}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                    escape(&links.archive(c.id)),
                    format_millis(c.captured_at),
                    c.status,
                    escape(c.content_type.as_deref().unwrap_or("")),
                    c.body_size,
                    c.body_sha256.get(..16).unwrap_or(&c.body_sha256)
                );
            }
            let _ = writeln!(
                b,
                "</table><h2>Checks ({})</h2><table><tr><th>time</th><th>outcome</th><th>HTTP</th><th>verdict</th><th>why</th><th>final URL</th><th>detail</th></tr>",
                checks.len()
            );
            for c in checks.iter().rev() {
                let _ = writeln!(
                    b,
                    "<tr class=\"check\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                    format_millis(c.started_at),
                    escape(&c.outcome),
                    c.http_status.map(|s| s.to_string()).unwrap_or_default(),
                    escape(c.status_after.as_deref().unwrap_or("")),
                    escape(c.evidence.as_deref().unwrap_or("")),
                    escape(c.final_url.as_deref().unwrap_or("")),
                    escape(c.error_detail.as_deref().unwrap_or(""))
                );
            }
            let _ = writeln!(b, "</table>");
            Ok(page(&format!("citewatch: {}", s.url), &b))
        })
        .await?;
    Ok(html(body))
}
