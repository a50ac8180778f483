//! One source's check after its fetch: archive what came back, read the page,
//! compare it with its baseline and its host's probe, and decide the verdict.
//! Blocking work, run on a CPU thread (or on the network thread when there is
//! nothing to read); [`super::run`] schedules it and records the result.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::analyze;
use super::classify::{FetchFacts, PageEvidence, classify};
use super::run::CheckError;
use super::schedule::next_check_at;
use super::verdict::{
    Confirmation, Evidence, Signal, State, Status, Suspect, decide, removal_unconfirmed,
};
use crate::archive::{self, FsBlobStore};
use crate::config::CheckConfig;
use crate::fetch::{FetchReport, FetchRequest, Fetcher, Outcome};
use crate::store::{CaptureRow, DueSource, Store};
use crate::time::{Millis, format_millis};

/// The owned record of one checked source, sent to the writer.
pub(super) struct Checked {
    pub(super) source_id: i64,
    pub(super) url: String,
    pub(super) old_status: String,
    pub(super) started_at: Millis,
    pub(super) duration_ms: u64,
    pub(super) final_url: String,
    pub(super) outcome: &'static str,
    /// The status judged: a 304's stands for the previous capture's.
    pub(super) http_status: Option<u16>,
    /// The status that came (304 for a page not modified), for the check row.
    pub(super) answered_status: Option<u16>,
    pub(super) attempts: u32,
    pub(super) archived: archive::Archived,
    pub(super) title: Option<String>,
    /// The page's reading, when this check made or grew one.
    pub(super) reading: Option<String>,
    /// Otherwise the capture whose stored reading the new capture shares.
    pub(super) reading_from: Option<i64>,
    pub(super) state: State,
    pub(super) evidence: String,
    pub(super) similarity: Option<f64>,
    pub(super) error_detail: Option<String>,
    pub(super) next_check_at: Millis,
    pub(super) capture_is_baseline: bool,
    /// Set by the writer for a host incident (see [`SourceUpdate::verdict_stands`]).
    ///
    /// [`SourceUpdate::verdict_stands`]: crate::store::SourceUpdate::verdict_stands
    pub(super) verdict_stands: bool,
    /// The baseline capture's reading, grown by fingerprints computed for this check.
    pub(super) baseline_update: Option<(i64, String)>,
    /// The host, for incident detection: as [`crate::source_url::host_key`]
    /// spells it, so that `A.example.` and `a.example` are one host's checks.
    pub(super) host: String,
    /// The state before this check, kept in case a host incident voids it.
    pub(super) prev: State,
    /// A network-level failure (connection, TLS, timeout, DNS, 5xx).
    pub(super) network_failure: bool,
    /// Set when the verdict waits on how many others land where this did.
    pub(super) landing_pending: Option<Box<LandingPending>>,
    /// Confirmed a removal by the landing rule: this source's captures taken
    /// at the landing are no copy of the page cited. `Some(true)` when the
    /// copy cited was itself taken there (or there is none), so even those
    /// judged `ok` or `moved` were never compared with the article.
    pub(super) disown_landing: Option<bool>,
    /// Whether the copy cited was taken where this check landed, or there is
    /// none (for [`Checked::reconsider_landing`]).
    landing_is_baseline: bool,
    /// The page could not be compared with the copy cited: the archive did
    /// not give its bytes back.
    pub(super) not_compared: bool,
}

/// The verdict state a due source's row holds, as a check builds on it.
pub(crate) fn state_of(d: &DueSource) -> State {
    State {
        status: Status::from_name(&d.status),
        since: d.status_since,
        suspect: d.suspect.as_deref().and_then(Suspect::from_name),
        consecutive_failures: d.consecutive_failures,
        failing_since: d.failing_since,
        streak_kind: d.streak_kind.as_deref().and_then(Evidence::from_name),
        mixed_failures: d.mixed_failures,
        mixed_since: d.mixed_since,
        no_such_host_since: d.no_such_host_since,
        // A name this version does not know (or no confirmed failure) holds
        // nothing: the failure after the refusals is judged on its streaks.
        held_status: d
            .held_status
            .as_deref()
            .map(Status::from_name)
            .filter(|s| s.is_broken()),
    }
}

/// A page a host answered with 2xx, read to be compared with cited pages.
#[derive(Clone)]
pub(super) struct Probe {
    fingerprint: super::fingerprint::Fingerprint,
    /// Its visible lines, to tell a page with paragraphs of its own.
    lines: Option<super::lines::LineSet>,
    final_url: String,
}

/// What a host answers, this run, for a path that cannot exist and for its
/// front page: a cited deep link answered with either (and no text of its
/// own) is no copy of an article, whatever its status says.
#[derive(Clone, Default)]
pub(super) struct HostAnswers {
    /// For a path that cannot exist, when 2xx.
    missing: Option<Probe>,
    /// The front page, when 2xx. Sites that serve it at a removed article's
    /// address without a redirect often still answer 404 for made-up paths.
    home: Option<Probe>,
}

pub(super) type Probes = Mutex<HashMap<String, Arc<OnceCell<HostAnswers>>>>;

/// Everything a source's task needs, prepared from the read connection.
pub(super) struct Job {
    pub(super) due: DueSource,
    pub(super) request: FetchRequest,
    pub(super) previous: Option<CaptureRow>,
    /// The baseline when it is not the previous capture (see [`Job::baseline`]).
    other_baseline: Option<CaptureRow>,
    baseline_is_previous: bool,
}

impl Job {
    /// The source's baseline capture. Until a page changes it is also its
    /// latest, read once and not copied: a copy per source was a tenth of the
    /// preparer's allocations, freed again on the network thread.
    fn baseline(&self) -> Option<&CaptureRow> {
        if self.baseline_is_previous {
            self.previous.as_ref()
        } else {
            self.other_baseline.as_ref()
        }
    }
}

/// Whether assessing this answer means reading, hashing or storing a body
/// (or loading an archived one): CPU and disk work for the CPU threads.
pub(super) fn needs_cpu(report: &FetchReport, previous: Option<&CaptureRow>) -> bool {
    match &report.outcome {
        Outcome::NotModified { .. } => previous.is_none_or(|p| p.reading.is_none()),
        other => other.body().is_some(),
    }
}

pub(super) fn prepare(
    reader: &Store,
    blobs: &FsBlobStore,
    due: DueSource,
) -> Result<Job, CheckError> {
    let previous = match due.latest_capture_id {
        Some(id) => reader.capture(id)?,
        None => None,
    };
    // Until a page changes, its latest capture is its baseline: read it once.
    let baseline_is_previous = matches!(
        (due.baseline_capture_id, &previous),
        (Some(id), Some(p)) if p.id == id
    );
    let other_baseline = match due.baseline_capture_id {
        Some(id) if !baseline_is_previous => reader.capture(id)?,
        _ => None,
    };
    // A page judged like the host's probe must be compared with this run's
    // probe, so it is asked for whole: a 304 would bring no page to compare.
    // A mixed streak's suspect is `unreachable` whatever its latest failures
    // were, so one whose latest say the page is gone may be an error page too.
    let soft = due.status == Status::Soft404.name()
        || due.suspect.as_deref() == Some(Suspect::Soft404.name())
        || (due.suspect.as_deref() == Some(Suspect::Unreachable.name())
            && due.streak_kind.as_deref() == Some(Evidence::Removed.name()));
    let request = if soft {
        FetchRequest::new(&due.url)
    } else {
        archive::conditional_on(&due.url, previous.as_ref())
    };
    let request = archive::whole_unless_copy_kept(request, previous.as_ref(), blobs);
    Ok(Job {
        due,
        request,
        previous,
        other_baseline,
        baseline_is_previous,
    })
}

/// The host's answers to a path that cannot exist and for its front page,
/// fetched once per host per run (the two at once).
pub(super) async fn probe_for(fetcher: &Fetcher, probes: &Probes, due: &DueSource) -> HostAnswers {
    let cell = {
        let mut map = probes.lock().unwrap_or_else(|e| e.into_inner());
        // By origin, not host name: two ports of one host are two sites,
        // each with its own answer to a made-up path and its own front page.
        let origin = analyze::front_page_url(&due.url).unwrap_or_else(|| due.host.clone());
        map.entry(origin).or_default().clone()
    };
    cell.get_or_init(|| async {
        let token = format!("{:016x}", rand::random::<u64>());
        let (missing, home) = tokio::join!(
            answer(fetcher, analyze::probe_url(&due.url, &token)),
            answer(fetcher, analyze::front_page_url(&due.url)),
        );
        HostAnswers { missing, home }
    })
    .await
    .clone()
}

/// The page at `url`, read, when the host answers it with 2xx.
async fn answer(fetcher: &Fetcher, url: Option<String>) -> Option<Probe> {
    let report = fetcher.fetch(&FetchRequest::new(url?)).await;
    let status = report.outcome.status()?;
    if !(200..300).contains(&status) {
        return None;
    }
    let body = report.body()?.to_vec().ok()?;
    let content_type = header(&report, "content-type");
    let reading = analyze::glance(&body, content_type.as_deref());
    let mut subject =
        analyze::Subject::new(reading, content_type.as_deref(), || Some(body.clone()));
    Some(Probe {
        fingerprint: subject.page_fingerprint()?,
        lines: subject.lines().cloned(),
        final_url: report.final_url.clone(),
    })
}

/// A blob's bytes, or `None` when it cannot be read (`verify` reports that).
/// Whether the copy cited (the baseline) read as an article. Its reading is
/// parsed for this only when the page was redirected, by the server or by
/// itself: rarely.
fn cited_article(job: &Job) -> bool {
    job.baseline()
        .and_then(|b| serde_json::from_str::<analyze::ReadingHead>(b.reading.as_deref()?).ok())
        .is_some_and(|head| head.article)
}

/// An archived copy's bytes, only when they hash to its name: a damaged
/// frame without a checksum (a delta, or one written before frames carried
/// one) decompresses without an error to other bytes, which read as the copy
/// cited were compared with every new copy and their reading kept as its.
fn load_blob(blobs: &FsBlobStore, sha256: &str) -> Option<Vec<u8>> {
    use sha2::{Digest, Sha256};
    let mut bytes = Vec::new();
    archive::blobs::copy_to(blobs, sha256, &mut bytes).ok()?;
    (hex::encode(Sha256::digest(&bytes)) == sha256).then_some(bytes)
}

/// Whether the body of `report` is a bot challenge's page. A challenge is a
/// few kilobytes: a body spilled to disk (over 1 MiB) is not read back for it.
fn bot_challenge_in(report: &FetchReport) -> bool {
    let Some(bytes) = report.outcome.body().and_then(|b| b.as_slice()) else {
        return false;
    };
    let content_type = header(report, "content-type");
    analyze::glance(bytes, content_type.as_deref()).bot_challenge
}

fn header(report: &FetchReport, name: &str) -> Option<String> {
    report
        .outcome
        .headers()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

/// Archives the body, reads the page, and decides the verdict (blocking work).
/// `shared_landing`: how many other cited articles land where this one's
/// redirects did (see [`super::landing::Landings::note`]).
#[allow(clippy::too_many_arguments)]
pub(super) fn assess(
    job: Job,
    report: FetchReport,
    probe: Option<HostAnswers>,
    shared_landing: Option<usize>,
    blobs: &FsBlobStore,
    cfg: &CheckConfig,
    confirmation: &Confirmation,
    run_started: Millis,
) -> Result<Checked, CheckError> {
    // A new copy of a page is kept as its difference from the latest good
    // copy (or from the whole copy that one is a delta against).
    let like = job
        .previous
        .as_ref()
        .filter(|p| (200..300).contains(&p.status))
        .or(job.baseline())
        .map(|c| c.body_sha256.as_str());
    let archived = archive::archive_body(blobs, &report, job.previous.as_ref(), like)?;
    #[cfg(debug_assertions)]
    inject_panic("judging", &report.url);
    let prev = state_of(&job.due);
    let permanent_redirect = super::classify::moved_permanently(
        &report.url,
        report.hops.iter().map(|h| (h.status, h.resolved.as_str())),
    );
    let (outcome_kind, status) = match (&report.outcome, &job.previous) {
        (Outcome::NotModified { .. }, Some(prev_capture)) => ("http", Some(prev_capture.status)),
        _ => (report.outcome.kind(), report.outcome.status()),
    };
    let PageRead {
        mut page,
        title,
        read,
        fresh_json,
        reuse_stored,
        baseline_update,
        unread,
    } = PageInput {
        job: &job,
        report: &report,
        probe: probe.as_ref(),
        status,
        archived_sha: archived.capture.as_ref().map(|c| c.sha256.as_str()),
        blobs,
        changed_below: cfg.changed_below,
    }
    .read();
    // Only 2xx pages are read; a challenge served with a server error (see
    // `classify`) is told by its title, or the source is counted unreachable.
    if status.is_some_and(|s| (500..600).contains(&s)) {
        page.bot_challenge = bot_challenge_in(&report);
    }
    page.shared_landing = shared_landing;
    page.baseline_landed_here = job.baseline().is_some_and(|b| {
        // Bytes first: parsing two URLs for every source showed in a
        // re-check's profile, and nearly every page ends where it did.
        b.final_url == report.final_url
            || crate::source_url::same_address(&b.final_url, &report.final_url)
    });
    // The same bytes as the previous capture: the new capture points at the
    // reading instead of copying it.
    let reading_from = job
        .previous
        .as_ref()
        .filter(|_| reuse_stored)
        .map(|p| p.reading_from.unwrap_or(p.id));
    let detail = archived.error_detail.clone().or_else(|| unread.clone());
    let facts = FetchFacts {
        outcome: outcome_kind,
        status,
        detail: detail.as_deref(),
        url: &report.url,
        final_url: &report.final_url,
        permanent_redirect,
        sent: report.attempts > 0,
    };
    let (signal, evidence) = classify(&facts, &page, prev.status, cfg.changed_below);
    let now = report.started_at + report.duration_ms as i64;
    let state = judged(&prev, signal, unread.is_some(), now, confirmation);
    let good = matches!(state.status, Status::Ok | Status::Changed | Status::Moved);
    let capture_is_baseline = job.due.baseline_capture_id.is_none() && good && read;
    // Judged a move (or a rewrite) only because too few others had landed
    // there yet: the run looks again once all its redirects are in.
    let landing_pending = super::classify::others_needed(&facts, &page, cfg.changed_below)
        .filter(|&need| page.shared_landing.is_some_and(|n| n < need) && good)
        .map(|need| {
            Box::new(LandingPending {
                need,
                now,
                unread: unread.clone(),
            })
        });
    let landing_is_baseline = page.baseline_landed_here || job.baseline().is_none();
    // Only a removal confirmed by the landing rule itself: a wall, an outage
    // or a first suspicion at the landing says nothing about the copies.
    let disown_landing = (signal == Signal::SoftNotFound
        && state.status == Status::Soft404
        && super::classify::landing_removal(&facts, &page, cfg.changed_below).is_some())
    .then_some(landing_is_baseline);
    let not_compared = unread.as_deref() == Some(COPY_UNREADABLE);
    let evidence = described(&state, evidence, unread.as_deref());
    let network_failure = matches!(
        signal,
        Signal::Unreachable | Signal::NoSuchHost | Signal::ResolverFailed
    );
    Ok(Checked {
        host: crate::source_url::host_key(&job.due.host).into_owned(),
        prev,
        network_failure,
        source_id: job.due.id,
        url: job.due.url.clone(),
        old_status: job.due.status.clone(),
        started_at: report.started_at,
        duration_ms: report.duration_ms,
        final_url: report.final_url.clone(),
        outcome: report.outcome.kind(),
        // None for a page not asked for (held by its host's Retry-After):
        // the status that asked is in the evidence, not claimed as this
        // page's.
        http_status: status.filter(|_| report.attempts > 0),
        answered_status: report.answered_status(),
        attempts: report.attempts,
        archived,
        title,
        reading: fresh_json,
        reading_from,
        // From the run's start, as due-ness is: a source checked late in a
        // long run is due again at the same night's start, not the night after.
        next_check_at: next_check_at(state.status, run_started, cfg),
        state,
        evidence,
        similarity: page.similarity,
        error_detail: detail,
        capture_is_baseline,
        baseline_update,
        // A dead page that now also times out is still dead for its 404: the
        // verdict keeps its own evidence, and the check keeps the timeout.
        verdict_stands: network_failure
            && state.status == prev.status
            && matches!(prev.status, Status::Dead | Status::Soft404),
        landing_pending,
        disown_landing,
        landing_is_baseline,
        not_compared,
    })
}

/// The new state. A page that could not be read, or compared with the copy
/// cited (`unread`), says nothing of its text: a rewrite or a move found
/// before stays found rather than turn `ok` on a 200.
fn judged(
    prev: &State,
    signal: Signal,
    unread: bool,
    now: Millis,
    confirmation: &Confirmation,
) -> State {
    if unread && signal == Signal::Ok && matches!(prev.status, Status::Changed | Status::Moved) {
        return *prev;
    }
    decide(prev, signal, now, confirmation)
}

/// How the evidence of a new failure that does not confirm the status kept
/// ends: the sentence then names both streaks, and the report adds none.
pub(crate) const STANDS_UNTIL_CONFIRMED: &str = ", until it is";

/// The evidence in words, with the failing streak and why the page went
/// unread, if it did. A new failure that does not confirm the status kept
/// (a 404 on an `unreachable` source) says that it is new and unconfirmed.
///
/// A failing source counts its mixed streak (failures of either kind since
/// the last good check, what its suspect heads for); a new removal, the
/// streak of its own kind.
fn described(state: &State, evidence: String, unread: Option<&str>) -> String {
    let until = STANDS_UNTIL_CONFIRMED;
    let streak = |n: u32, since: Option<Millis>| {
        format!(
            "{n} failing check{} since {}",
            if n == 1 { "" } else { "s" },
            since
                .map(|t| format_millis(t)[..10].to_string())
                .unwrap_or_default()
        )
    };
    let evidence = match state.status {
        Status::Failing if state.mixed_failures > state.consecutive_failures => format!(
            "{evidence} ({})",
            streak(state.mixed_failures, state.mixed_since)
        ),
        Status::Failing => format!(
            "{evidence} ({})",
            streak(state.consecutive_failures, state.failing_since)
        ),
        // Confirmed during this removal's own streak: by the mixed streak
        // it is part of, which the evidence then names.
        status
            if removal_unconfirmed(state)
                && state.since >= state.failing_since
                && state.mixed_failures > state.consecutive_failures =>
        {
            format!(
                "{evidence}, new and not yet confirmed ({}); {} for {} failing checks of both \
                 kinds since {}{until}",
                streak(state.consecutive_failures, state.failing_since),
                status.name(),
                state.mixed_failures,
                state
                    .mixed_since
                    .map(|t| format_millis(t)[..10].to_string())
                    .unwrap_or_default()
            )
        }
        status if removal_unconfirmed(state) => format!(
            "{evidence}, new and not yet confirmed ({}); {}, as confirmed before{until}",
            streak(state.consecutive_failures, state.failing_since),
            status.name()
        ),
        _ => evidence,
    };
    match unread {
        Some(why) => format!("{evidence}; {why}"),
        None => evidence,
    }
}

/// A redirect judged a move (or a rewrite) because fewer than `need` other
/// cited articles had landed where it did when it was judged.
pub(super) struct LandingPending {
    need: usize,
    now: Millis,
    unread: Option<String>,
}

impl Checked {
    /// Judges again a check whose landing was not yet shared (see
    /// [`LandingPending`]), now that `others` articles land there: a removal
    /// once they are enough.
    pub(super) fn reconsider_landing(
        &mut self,
        others: usize,
        confirmation: &Confirmation,
        cfg: &CheckConfig,
        run_started: Millis,
    ) {
        let Some(pending) = self.landing_pending.take() else {
            return;
        };
        if others < pending.need {
            return;
        }
        let evidence = super::classify::sent_to_shared_landing(&self.final_url, others);
        self.state = decide(&self.prev, Signal::SoftNotFound, pending.now, confirmation);
        self.evidence = described(&self.state, evidence, pending.unread.as_deref());
        self.capture_is_baseline = false;
        self.disown_landing =
            (self.state.status == Status::Soft404).then_some(self.landing_is_baseline);
        self.next_check_at = next_check_at(self.state.status, run_started, cfg);
    }
}

/// What reading a fetched page contributes to its verdict and its capture.
struct PageRead {
    page: PageEvidence,
    title: Option<String>,
    /// The page was read: a stored reading stood, or a new one was made.
    read: bool,
    /// A reading to store with the new capture, when the stored one does not stand.
    fresh_json: Option<String>,
    /// The previous capture's stored reading stands for the new capture.
    reuse_stored: bool,
    /// The baseline's reading, grown by fingerprints this check computed.
    baseline_update: Option<(i64, String)>,
    /// Why the page went unread, if reading it failed.
    unread: Option<String>,
}

/// A fetched page and what reading it needs.
#[derive(Clone, Copy)]
struct PageInput<'a> {
    job: &'a Job,
    report: &'a FetchReport,
    probe: Option<&'a HostAnswers>,
    /// The HTTP status judged (a 304 stands for the previous capture's).
    status: Option<u16>,
    /// The body's sha256, when it was archived.
    archived_sha: Option<&'a str>,
    blobs: &'a FsBlobStore,
    changed_below: f64,
}

/// A page read from its bytes (or its stored reading), not settled by a head.
struct Afresh {
    reading: Option<analyze::Reading>,
    /// The reading gained fingerprints it did not have when stored.
    grew: bool,
    page: PageEvidence,
    baseline_update: Option<(i64, String)>,
    /// The comparison needed an archived copy whose bytes could not be read.
    copy_unreadable: bool,
    /// Why the page itself could not be read (a PDF the parser gave up on).
    unread: Option<String>,
}

/// Why a page went uncompared when the archive failed to give back a copy.
const COPY_UNREADABLE: &str = "not compared with the copy cited: its archived bytes could not be read back (`citewatch verify` names the damage)";

impl PageInput<'_> {
    /// Reads the page behind `report`: the head of its stored reading when the
    /// bytes are those already read and cited (the usual 304), else a reading of
    /// the body compared with the host's probe and with the baseline.
    ///
    /// Reading runs parsers over whatever a server sent. Should one of them panic,
    /// the page goes unread: the capture is kept, the verdict rests on the HTTP
    /// answer, and `unread` says why.
    fn read(&self) -> PageRead {
        let PageInput {
            job,
            report,
            probe,
            status,
            ..
        } = *self;
        // The same body as the latest capture (a 304, or identical bytes): its stored
        // reading stands, and the page is not read again. Redirects are judged anew.
        let same_body = job.previous.as_ref().filter(|p| {
            let identical = match &report.outcome {
                Outcome::NotModified { .. } => true,
                other => other
                    .body()
                    .is_some_and(|b| b.sha256_hex() == p.body_sha256),
            };
            identical && p.reading.is_some()
        });
        let is_2xx = status.is_some_and(|s| (200..300).contains(&s));
        // An unchanged copy of the cited page: the head of its stored reading is
        // all a verdict needs. Parsing the whole reading (its lines and
        // fingerprints) for every 304 was a tenth of the network thread.
        let settled = same_body
            .filter(|p| {
                is_2xx
                    && probe.is_none_or(|p| p.missing.is_none())
                    && job
                        .baseline()
                        .is_none_or(|b| b.body_sha256 == p.body_sha256)
            })
            .and_then(|p| serde_json::from_str::<analyze::ReadingHead>(p.reading.as_deref()?).ok())
            .filter(|head| !head.misread());
        if let Some(head) = settled {
            let mut page = PageEvidence {
                error_phrase: head.error_phrase,
                bot_challenge: head.bot_challenge,
                wall: head.wall,
                article: head.article,
                script_shell: head.script_shell,
                blank: head.blank,
                ..PageEvidence::default()
            };
            page.set_sent_home(analyze::sent_home(
                &report.url,
                &report.final_url,
                head.article,
                head.refresh.as_deref(),
                (report.url != report.final_url || head.refresh.is_some()) && cited_article(job),
            ));
            if let Some(base) = job.baseline() {
                page.baseline_date = Some(format_millis(base.captured_at)[..10].to_string());
                // The very bytes that were cited.
                page.similarity = Some(1.0);
            }
            return PageRead {
                page,
                title: head.title,
                read: true,
                fresh_json: None,
                reuse_stored: true,
                baseline_update: None,
                unread: None,
            };
        }
        let afresh = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            #[cfg(debug_assertions)]
            inject_panic("reading", &report.url);
            self.read_afresh(same_body)
        }));
        match afresh {
            Ok(a) => {
                let reuse_stored = same_body.is_some() && !a.grew && a.reading.is_some();
                let unread = a.unread.or_else(|| {
                    (a.copy_unreadable && a.page.similarity.is_none()).then(|| {
                        tracing::warn!(url = %report.url, "{COPY_UNREADABLE}");
                        COPY_UNREADABLE.to_string()
                    })
                });
                PageRead {
                    title: a.reading.as_ref().and_then(|r| r.title.clone()),
                    read: a.reading.is_some(),
                    fresh_json: a
                        .reading
                        .as_ref()
                        .filter(|_| !reuse_stored)
                        .and_then(|r| serde_json::to_string(r).ok()),
                    reuse_stored,
                    page: a.page,
                    baseline_update: a.baseline_update,
                    unread,
                }
            }
            Err(panic) => {
                let why = format!(
                    "the page could not be read: {}",
                    panic_message(panic.as_ref())
                );
                tracing::warn!(url = %report.url, "{why}");
                PageRead {
                    page: PageEvidence::default(),
                    title: None,
                    read: false,
                    fresh_json: None,
                    reuse_stored: false,
                    baseline_update: None,
                    unread: Some(why),
                }
            }
        }
    }

    /// Reads the page (its stored reading when the bytes are the same, else a
    /// glance at the new body) and compares it with the probe and the baseline.
    fn read_afresh(&self, same_body: Option<&CaptureRow>) -> Afresh {
        let PageInput {
            job,
            report,
            probe,
            status,
            archived_sha,
            blobs,
            changed_below,
        } = *self;
        let content_type = header(report, "content-type");
        let fresh_body = match &report.outcome {
            Outcome::NotModified { .. } => None,
            other => other.body(),
        };
        let mut page = PageEvidence::default();
        let mut baseline_update = None;
        let unreadable = std::cell::Cell::new(false);
        // An archived copy, noting when its bytes cannot be read back.
        let load = |sha256: &str| {
            let bytes = load_blob(blobs, sha256);
            if bytes.is_none() {
                unreadable.set(true);
            }
            bytes
        };
        // The page as a comparison sees it: its reading (stored, or a glance at
        // the new body) and where its bytes are should a fingerprint be missing.
        let subject: Option<analyze::Subject> = match (same_body, status) {
            (_, Some(s)) if !(200..300).contains(&s) => None,
            (Some(p), _) => p
                .reading
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok())
                .map(|r| {
                    analyze::Subject::new(r, p.content_type.as_deref(), || load(&p.body_sha256))
                }),
            (None, Some(_)) => match (&job.previous, fresh_body) {
                // A 304 for a capture read before readings were kept: read its blob.
                (Some(p), None) => load(&p.body_sha256).map(|bytes| {
                    let reading = analyze::glance(&bytes, p.content_type.as_deref());
                    analyze::Subject::new(reading, p.content_type.as_deref(), move || {
                        Some(bytes.clone())
                    })
                }),
                // A body in memory is read where it is, not copied first.
                (_, Some(b)) => match b.as_slice() {
                    Some(bytes) => Some(analyze::Subject::new(
                        analyze::glance(bytes, content_type.as_deref()),
                        content_type.as_deref(),
                        move || Some(bytes.to_vec()),
                    )),
                    None => {
                        let bytes = b.to_vec().unwrap_or_default();
                        let reading = analyze::glance(&bytes, content_type.as_deref());
                        Some(analyze::Subject::new(
                            reading,
                            content_type.as_deref(),
                            move || Some(bytes.clone()),
                        ))
                    }
                },
                (None, None) => None,
            },
            (None, None) => None,
        };
        let Some(mut subject) = subject else {
            return Afresh {
                reading: None,
                grew: false,
                page,
                baseline_update,
                copy_unreadable: unreadable.get(),
                unread: None,
            };
        };
        // A PDF the parser gave up on: recorded unread, as a page whose
        // parser panicked is, so it never becomes the copy cited.
        if let Some(why) = subject.reading.unreadable.take() {
            tracing::warn!(url = %report.url, "the page could not be read: {why}");
            return Afresh {
                reading: None,
                grew: false,
                page,
                baseline_update,
                copy_unreadable: unreadable.get(),
                unread: Some(format!("the page could not be read: {why}")),
            };
        }
        page.error_phrase = subject.reading.error_phrase.clone();
        page.bot_challenge = subject.reading.bot_challenge;
        page.wall = subject.reading.wall.clone();
        page.article = subject.reading.article;
        page.script_shell = subject.reading.script_shell;
        page.blank = subject.reading.blank;
        page.set_sent_home(analyze::sent_home(
            &report.url,
            &report.final_url,
            subject.reading.article,
            subject.reading.refresh.as_deref(),
            (report.url != report.final_url || subject.reading.refresh.is_some())
                && cited_article(job),
        ));
        if let Some(answers) = probe {
            let lines = subject.lines().cloned();
            // Fingerprinted at most once, and only when its own paragraphs do
            // not already tell the page from the host's answers: an article's
            // do, so a first night still only glances at articles.
            let mut fingerprint: Option<Option<super::fingerprint::Fingerprint>> = None;
            let mut like = |p: &Probe| {
                analyze::like_probe(
                    &report.url,
                    lines.as_ref(),
                    || {
                        fingerprint
                            .get_or_insert_with(|| subject.page_fingerprint())
                            .clone()
                    },
                    &report.final_url,
                    (&p.fingerprint, p.lines.as_ref()),
                    &p.final_url,
                )
            };
            page.like_probe = answers.missing.as_ref().is_some_and(&mut like);
            page.like_home = answers.home.as_ref().is_some_and(&mut like);
        }
        if let Some(base) = job.baseline() {
            page.baseline_date = Some(format_millis(base.captured_at)[..10].to_string());
            page.similarity = if archived_sha == Some(base.body_sha256.as_str()) {
                // The very bytes that were cited.
                Some(1.0)
            } else if let Some(base_reading) = base
                .reading
                .as_deref()
                .and_then(|r| serde_json::from_str::<analyze::Reading>(r).ok())
            {
                let mut base_subject =
                    analyze::Subject::new(base_reading, base.content_type.as_deref(), || {
                        load(&base.body_sha256)
                    });
                let similarity = analyze::drift(&mut subject, &mut base_subject, changed_below);
                if base_subject.grew {
                    baseline_update = serde_json::to_string(&base_subject.reading)
                        .ok()
                        .map(|json| (base.id, json));
                }
                similarity
            } else {
                None
            };
        }
        Afresh {
            grew: subject.grew,
            reading: Some(subject.reading),
            page,
            baseline_update,
            copy_unreadable: unreadable.get(),
            unread: None,
        }
    }
}

/// What a caught panic said, for the record (at most 200 characters).
pub(super) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message");
    text.chars().take(200).collect()
}

/// Debug builds only: a test makes one stage of checking a source panic with
/// `CITEWATCH_TEST_PANIC=STAGE:PART-OF-URL` (`reading`, `judging`,
/// `recording` on the network thread, `writing` on the writer), to show what
/// a parser bug, or a bug of ours, costs a run.
#[cfg(debug_assertions)]
pub(super) fn inject_panic(stage: &str, url: &str) {
    let Some(wanted) = std::env::var_os("CITEWATCH_TEST_PANIC") else {
        return;
    };
    let wanted = wanted.to_string_lossy();
    if let Some((s, marker)) = wanted.split_once(':')
        && s == stage
        && url.contains(marker)
    {
        panic!("injected for a test: {stage} {url}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    /// A held status is read by its name when it names a confirmed
    /// failure; any other (a newer version's name, or one never held, such
    /// as `ok`) holds nothing, so the failure after the refusals is judged
    /// on its streaks alone rather than on a verdict the source never had.
    #[test]
    fn only_a_confirmed_failure_is_read_back_as_held() {
        let due = |held: Option<&str>| DueSource {
            id: 1,
            url: "http://h/a".into(),
            host: "h".into(),
            status: "blocked".into(),
            status_since: Some(5),
            suspect: Some("dead".into()),
            consecutive_failures: 3,
            failing_since: Some(0),
            streak_kind: Some("removed".into()),
            mixed_failures: 3,
            mixed_since: Some(0),
            no_such_host_since: None,
            held_status: held.map(str::to_string),
            baseline_capture_id: None,
            latest_capture_id: None,
        };
        for (held, read) in [
            (Some("dead"), Some(Status::Dead)),
            (Some("soft_404"), Some(Status::Soft404)),
            (Some("unreachable"), Some(Status::Unreachable)),
            (Some("ok"), None),
            (Some("blocked"), None),
            (Some("verdict-of-a-newer-version"), None),
            (None, None),
        ] {
            assert_eq!(state_of(&due(held)).held_status, read, "{held:?}");
        }
    }

    #[test]
    fn a_page_not_read_or_compared_leaves_a_rewrite_or_move_found() {
        let c = Confirmation::default();
        for status in [Status::Changed, Status::Moved] {
            let prev = State {
                status,
                since: Some(5),
                ..State::default()
            };
            assert_eq!(judged(&prev, Signal::Ok, true, 10, &c), prev);
            // Read and compared: the page is as cited again.
            assert_eq!(judged(&prev, Signal::Ok, false, 10, &c).status, Status::Ok);
            // What the answer itself says still counts.
            assert_eq!(
                judged(&prev, Signal::Gone, true, 10, &c).status,
                Status::Dead
            );
        }
        let ok = State {
            status: Status::Ok,
            ..State::default()
        };
        assert_eq!(judged(&ok, Signal::Ok, true, 10, &c).status, Status::Ok);
    }

    /// An `unreachable` source whose page now answers 404 stays unreachable
    /// until the 404s are confirmed; its evidence must not read as if the
    /// 404 were what it was found for.
    #[test]
    fn a_new_404_on_an_unreachable_source_says_it_is_not_yet_confirmed() {
        const D: Millis = 86_400_000;
        let c = Confirmation::default();
        let mut state = State::default();
        for day in 0..4 {
            state = decide(&state, Signal::Unreachable, day * D, &c);
        }
        assert_eq!(state.status, Status::Unreachable);
        let network = described(&state, "HTTP 503 server error".into(), None);
        assert_eq!(network, "HTTP 503 server error", "as confirmed: as it is");
        let state = decide(&state, Signal::NotFound, 5 * D, &c);
        assert_eq!(state.status, Status::Unreachable);
        assert_eq!(
            described(&state, "404 Not Found".into(), None),
            "404 Not Found, new and not yet confirmed (1 failing check since 1970-01-06); \
             unreachable, as confirmed before, until it is"
        );
        // An error page served as success, likewise.
        let soft = decide(&state, Signal::SoftNotFound, 6 * D, &c);
        assert_eq!(soft.status, Status::Unreachable);
        assert!(
            described(&soft, "redirects to the site's homepage".into(), None)
                .contains("new and not yet confirmed (2 failing checks since 1970-01-06)")
        );
        // A dead source's new 404 is what it is dead for: nothing to add.
        let mut dead = State::default();
        for day in 0..4 {
            dead = decide(&dead, Signal::NotFound, day * D, &c);
        }
        let dead = decide(&dead, Signal::NotFound, 5 * D, &c);
        assert_eq!(dead.status, Status::Dead);
        assert_eq!(
            described(&dead, "404 Not Found".into(), None),
            "404 Not Found"
        );
    }

    /// A failing source whose failures mix both kinds is suspect
    /// `unreachable` for all of them: its evidence counts them all, not
    /// only the latest kind's, or "1 failing check" read as a first slip.
    #[test]
    fn a_mixed_failing_streak_is_counted_whole_in_its_evidence() {
        const D: Millis = 86_400_000;
        let c = Confirmation::default();
        let state = decide(&State::default(), Signal::Unreachable, 0, &c);
        let state = decide(&state, Signal::NotFound, D, &c);
        assert_eq!(
            (state.status, state.suspect),
            (Status::Failing, Some(Suspect::Unreachable))
        );
        assert_eq!(
            described(&state, "404 Not Found".into(), None),
            "404 Not Found (2 failing checks since 1970-01-01)"
        );
        // Confirmed `unreachable` by this very 404, the fourth failure of
        // both kinds: not "as confirmed before".
        let mut state = State::default();
        for (day, signal) in [Signal::Unreachable, Signal::NotFound, Signal::Unreachable]
            .into_iter()
            .enumerate()
        {
            state = decide(&state, signal, day as Millis * D, &c);
        }
        let state = decide(&state, Signal::NotFound, 3 * D, &c);
        assert_eq!(
            (state.status, state.since),
            (Status::Unreachable, Some(3 * D))
        );
        assert_eq!(
            described(&state, "404 Not Found".into(), None),
            "404 Not Found, new and not yet confirmed (1 failing check since 1970-01-04); \
             unreachable for 4 failing checks of both kinds since 1970-01-01, until it is"
        );
        // Two of one kind: as before.
        let state = decide(&State::default(), Signal::NotFound, 0, &c);
        let state = decide(&state, Signal::NotFound, D, &c);
        assert_eq!(
            described(&state, "404 Not Found".into(), None),
            "404 Not Found (2 failing checks since 1970-01-01)"
        );
    }

    #[test]
    fn a_copy_whose_bytes_are_not_its_blob_is_not_read() {
        // A frame without a checksum (written before frames carried one, or
        // a delta) with a flipped byte decompresses, without an error, to
        // other bytes. Read as the copy cited, they were compared with each
        // new copy and their reading kept as the baseline's.
        let dir = tempfile::tempdir().unwrap();
        let blobs = FsBlobStore::new(dir.path());
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let body: Vec<u8> = (0..4000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let name = hex::encode(sha2::Sha256::digest(&body));
        let mut frame = zstd::bulk::compress(&body, 3).unwrap();
        assert_eq!(frame[4] & 0x04, 0, "a frame without a checksum");
        let path = blobs.path(&name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &frame).unwrap();
        assert_eq!(load_blob(&blobs, &name).as_deref(), Some(&body[..]));
        let mid = frame.len() / 2;
        frame[mid] ^= 0x20;
        std::fs::write(&path, &frame).unwrap();
        assert!(zstd::bulk::decompress(&frame, body.len()).is_ok_and(|b| b != body));
        assert_eq!(load_blob(&blobs, &name), None);
    }
}
