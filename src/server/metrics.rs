//! `GET /metrics` in the Prometheus text format (0.0.4), written by hand: the
//! figures are a handful of gauges and counters read from the store per scrape
//! (checks by outcome from the counts the store keeps as it writes them, not
//! by counting every check ever recorded).

use std::fmt::Write;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};
use crate::store::MetricsSnapshot;

/// Escapes a label value (backslash, quote, newline).
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Renders a snapshot as Prometheus text.
pub fn render(m: &MetricsSnapshot) -> String {
    let mut o = String::new();
    family(&mut o, "citewatch_sources", "gauge", "Sources by status.");
    // Every status, 0 included: an alert on `status="dead"` needs its series
    // before the first dead source.
    let sources = crate::check::verdict::Status::count_every(m.sources_by_status.clone());
    for (status, n) in &sources {
        let _ = writeln!(o, "citewatch_sources{{status=\"{}\"}} {n}", label(status));
    }
    family(
        &mut o,
        "citewatch_checks_total",
        "counter",
        "Checks recorded, by fetch outcome.",
    );
    for (outcome, n) in &m.checks_by_outcome {
        let _ = writeln!(
            o,
            "citewatch_checks_total{{outcome=\"{}\"}} {n}",
            label(outcome)
        );
    }
    family(&mut o, "citewatch_captures", "gauge", "Captures archived.");
    let _ = writeln!(o, "citewatch_captures {}", m.captures);
    family(
        &mut o,
        "citewatch_blobs",
        "gauge",
        "Distinct archived bodies (blobs).",
    );
    let _ = writeln!(o, "citewatch_blobs {}", m.blobs);
    family(
        &mut o,
        "citewatch_archived_bytes",
        "gauge",
        "Body bytes of the distinct archived bodies.",
    );
    let _ = writeln!(o, "citewatch_archived_bytes {}", m.blob_bytes);
    family(
        &mut o,
        "citewatch_archive_stored_bytes",
        "gauge",
        "Bytes the compressed blobs take on disk.",
    );
    let _ = writeln!(o, "citewatch_archive_stored_bytes {}", m.blob_stored_bytes);
    if let Some(run) = &m.last_completed_run {
        let summary = run.summary.as_ref();
        let num = |k: &str| summary.and_then(|s| s.get(k)).and_then(|v| v.as_f64());
        family(
            &mut o,
            "citewatch_last_run_timestamp_seconds",
            "gauge",
            "When the last completed full check run finished (unix seconds; runs given --url, --host or --limit aside).",
        );
        let end = run.finished_at.unwrap_or(run.started_at);
        let _ = writeln!(
            o,
            "citewatch_last_run_timestamp_seconds {:.3}",
            end as f64 / 1000.0
        );
        if let Some(ms) = num("duration_ms") {
            family(
                &mut o,
                "citewatch_last_run_duration_seconds",
                "gauge",
                "Wall time of the last completed full check run.",
            );
            let _ = writeln!(o, "citewatch_last_run_duration_seconds {:.3}", ms / 1000.0);
        }
        if let Some(n) = num("checked") {
            family(
                &mut o,
                "citewatch_last_run_checked",
                "gauge",
                "Sources checked by the last completed full check run.",
            );
            let _ = writeln!(o, "citewatch_last_run_checked {n}");
        }
        if let Some(r) = num("urls_per_second") {
            family(
                &mut o,
                "citewatch_last_run_urls_per_second",
                "gauge",
                "URLs checked per second in the last completed full check run.",
            );
            let _ = writeln!(o, "citewatch_last_run_urls_per_second {r:.3}");
        }
    }
    o
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let snapshot = state.with_store(|s| Ok(s.metrics_snapshot()?)).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(&snapshot),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RunRow;

    #[test]
    fn every_sample_line_is_name_labels_value_and_families_are_typed() {
        let mut m = MetricsSnapshot::default();
        m.sources_by_status.insert("ok".into(), 3);
        m.sources_by_status.insert("dead".into(), 1);
        m.checks_by_outcome.insert("http".into(), 9);
        m.checks_by_outcome.insert("we\"ird".into(), 1);
        m.captures = 8;
        m.blobs = 5;
        m.blob_bytes = 1000;
        m.blob_stored_bytes = 300;
        m.last_completed_run = Some(RunRow {
            id: 1,
            started_at: 1_000_000,
            finished_at: Some(1_010_000),
            state: "completed".into(),
            summary: Some(
                serde_json::json!({"duration_ms": 10000, "checked": 4, "urls_per_second": 0.4}),
            ),
        });
        let text = render(&m);
        assert!(
            text.contains("citewatch_sources{status=\"dead\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("citewatch_sources{status=\"unreachable\"} 0\n"));
        assert!(text.contains("citewatch_checks_total{outcome=\"we\\\"ird\"} 1\n"));
        assert!(text.contains("citewatch_last_run_duration_seconds 10.000\n"));
        assert!(text.contains("citewatch_last_run_timestamp_seconds 1010.000\n"));
        assert!(text.contains("citewatch_last_run_urls_per_second 0.400\n"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (name, value) = line.rsplit_once(' ').unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
            let bare = name.split('{').next().unwrap();
            assert!(text.contains(&format!("# TYPE {bare} ")), "{line}");
        }
    }
}
