//! Reading a fetched page for the verdict, over the pure analysis modules: the
//! title and text ([`super::page`]), fingerprints ([`super::fingerprint`]) and
//! soft-404 signs ([`super::soft404`]). What it finds is stored with each
//! capture as JSON, so a page is never read twice for the same question.
//!
//! Reading is lazy and tiered, because a first night reads every page and a
//! Readability pass costs about a millisecond: a new page is only *glanced at*
//! (title, visible text, error notices: one linear pass). Fingerprints are
//! computed when a comparison first needs them — against the baseline when the
//! bytes differ from it, against the host's probe when the host answers 2xx
//! for anything — cheapest first: the visible text, and Readability's main
//! text only when the visible texts are not near-identical. The baseline's
//! fingerprints are computed once from its archived body and kept with it.

use serde::{Deserialize, Serialize};
use url::Url;

use super::fingerprint::{self, Fingerprint};
use super::lines::{self, LineSet};
use super::{page, pdf, soft404};

/// What reading a page found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// `<title>`.
    pub title: Option<String>,
    /// Main-text (Readability) fingerprint, once computed; `None` when the body
    /// is not text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Fingerprint>,
    /// Fingerprint of the whole visible text, once computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_fingerprint: Option<Fingerprint>,
    /// The visible text's lines, taken at the glance (cheap, and what settles
    /// churn); `None` in readings stored before lines were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<LineSet>,
    /// A not-found / removed notice.
    pub error_phrase: Option<String>,
    /// A bot challenge instead of the page.
    pub bot_challenge: bool,
    /// The visible text reads as an article (paragraphs, not a list of
    /// links): a landing like this is no section front, whatever its URL.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub article: bool,
    /// A consent or subscription wall answered instead of the page: the
    /// phrase that says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall: Option<String>,
    /// Where a page with next to no text sends its reader at once, by a meta
    /// refresh or a script (as written): the redirect of sites that answer
    /// 200 for a removed article.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<String>,
    /// Next to no text, and the shell of a page its scripts build (see
    /// [`page::needs_scripts`]): what it says cannot be seen without a browser.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub script_shell: bool,
    /// Nothing to read at all: an empty body (or one of whitespace and NUL
    /// bytes), or markup without a visible word that is neither a script's
    /// shell nor a way station. What a broken backend, or a removed story's
    /// empty template, answers with a 200.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub blank: bool,
    /// The body is text whose missing fingerprints can still be computed from
    /// it. False for bodies that are not text, and for readings stored before
    /// reading became lazy (they hold every fingerprint they will have).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lazy: bool,
    /// The [`page::DECODER_VERSION`] the text was read with; 0 before it
    /// was kept.
    #[serde(default)]
    pub decoder: u8,
    /// The [`pdf::PDF_TEXT_VERSION`] of the reader that read a body which is
    /// not text: a PDF's text, or none. 0 for HTML and text, and for
    /// readings made before PDFs were read, which hold no text even of a
    /// PDF (see [`Reading::pdf_stale`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pdf: u8,
    /// Why a PDF's text could not be had: the page goes unread, and this
    /// reading is not stored (an unread capture has none).
    #[serde(skip)]
    pub unreadable: Option<String>,
}

fn is_zero(v: &u8) -> bool {
    *v == 0
}

impl Reading {
    /// Made by another PDF reader than this one, or before PDFs were read
    /// (a reading without any text, of a body that may be a PDF by its
    /// `Content-Type`): its text, if any, is to be had from the body again.
    pub fn pdf_stale(&self, content_type: Option<&str>) -> bool {
        if self.pdf == pdf::PDF_TEXT_VERSION {
            return false;
        }
        self.pdf != 0
            || (!self.lazy
                && self.lines.is_none()
                && self.fingerprint.is_none()
                && self.page_fingerprint.is_none()
                && self.title.is_none()
                && page::may_be_pdf(content_type))
    }
}

/// What a verdict reads from a stored reading when the page is known to be
/// the same bytes as the one the reading was taken of: the rest (lines,
/// fingerprints) is skipped unparsed.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ReadingHead {
    /// `<title>`.
    pub title: Option<String>,
    /// A not-found / removed notice.
    pub error_phrase: Option<String>,
    /// A bot challenge instead of the page.
    pub bot_challenge: bool,
    /// See [`Reading::article`].
    #[serde(default)]
    pub article: bool,
    /// See [`Reading::refresh`].
    #[serde(default)]
    pub refresh: Option<String>,
    /// See [`Reading::wall`].
    #[serde(default)]
    pub wall: Option<String>,
    /// See [`Reading::script_shell`].
    #[serde(default)]
    pub script_shell: bool,
    /// See [`Reading::blank`].
    #[serde(default)]
    pub blank: bool,
    /// See [`Reading::decoder`].
    #[serde(default)]
    pub decoder: u8,
}

impl ReadingHead {
    /// Made by an older decoder from text it could not read: a title with
    /// U+FFFD in it, as GBK read as UTF-8 under a lying label gives. Such a
    /// page is read again even when its bytes have not changed (its phrase
    /// may have been hidden); others keep their stored head, since reading
    /// every unchanged page again would cost a first night's reading.
    pub fn misread(&self) -> bool {
        self.decoder != page::DECODER_VERSION
            && self
                .title
                .as_deref()
                .is_some_and(|t| t.contains('\u{FFFD}'))
    }
}

/// Titles of the interstitial pages bot defences serve instead of the page.
const CHALLENGES: &[&str] = &[
    "just a moment...",
    "attention required! | cloudflare",
    "checking your browser",
    "ddos-guard",
    "verifying you are human",
    "安全验证",
    "人机验证",
];

/// Glances at a body: title, error notices and bot challenges from its visible
/// text, no fingerprint yet ([`Subject`] adds them when needed).
pub fn glance(body: &[u8], content_type: Option<&str>) -> Reading {
    let p = page::glance_page(body, content_type);
    let no_bytes = body.iter().all(|&b| b.is_ascii_whitespace() || b == 0);
    // Not text: the body was looked at by this PDF reader.
    let not_text = p.encoding.is_empty();
    if !p.is_html && p.main_text.is_empty() {
        return Reading {
            blank: no_bytes,
            pdf: if not_text { pdf::PDF_TEXT_VERSION } else { 0 },
            unreadable: p.unreadable,
            ..Reading::default()
        };
    }
    if not_text {
        // A PDF with text: a document, never a server's notice, wall or
        // way station, whatever its words say.
        return Reading {
            lines: Some(lines::line_set(&p.main_text)),
            article: soft404::is_article_like(&p.main_text),
            lazy: true,
            decoder: page::DECODER_VERSION,
            pdf: pdf::PDF_TEXT_VERSION,
            ..Reading::default()
        };
    }
    let lower_title = p.title.as_deref().unwrap_or("").to_lowercase();
    let article = soft404::is_article_like(&p.main_text);
    // Only a page with next to no text of its own is a way station, or a
    // script application's shell.
    let tiny = p.is_html && !article && soft404::is_tiny(&p.main_text);
    let refresh = tiny.then(|| page::refresh_target(body)).flatten();
    // A noscript's plea alone also comes with a short video page or a
    // comment box: only a page with nothing else to read is taken for a
    // shell on its word.
    let script_shell = tiny
        && refresh.is_none()
        && match page::needs_scripts(body) {
            Some(page::ScriptShell::EmptyMount) => true,
            Some(page::ScriptShell::NoscriptAsks) => soft404::is_nearly_empty(&p.main_text),
            None => false,
        };
    let blank = no_bytes
        || (p.is_html
            && !script_shell
            && refresh.is_none()
            && p.main_text.chars().all(|c| c.is_whitespace() || c == '\0'));
    Reading {
        refresh,
        script_shell,
        blank,
        wall: soft404::wall_phrase(p.title.as_deref(), &p.main_text, article).map(str::to_string),
        lines: Some(lines::line_set(&p.main_text)),
        error_phrase: soft404::error_page_phrase_of(p.title.as_deref(), &p.main_text, article)
            .map(str::to_string),
        bot_challenge: CHALLENGES.iter().any(|c| lower_title.contains(c)),
        article,
        title: p.title,
        fingerprint: None,
        page_fingerprint: None,
        lazy: true,
        decoder: page::DECODER_VERSION,
        pdf: 0,
        unreadable: None,
    }
}

/// Reads a body completely: [`glance`] plus both fingerprints.
pub fn read(body: &[u8], content_type: Option<&str>) -> Reading {
    let mut subject = Subject::new(glance(body, content_type), content_type, || {
        Some(body.to_vec())
    });
    subject.page_fingerprint();
    subject.main_fingerprint();
    subject.reading
}

/// A page under comparison: its reading, and the way to its body should a
/// fingerprint be missing. The body is loaded at most once, and only when
/// needed (for a baseline that means decompressing its archived copy).
pub struct Subject<'a> {
    /// The reading, with any fingerprint computed so far.
    pub reading: Reading,
    /// A fingerprint was computed: the stored reading is worth updating.
    pub grew: bool,
    content_type: Option<&'a str>,
    body: Option<Option<Vec<u8>>>,
    load: Box<dyn FnMut() -> Option<Vec<u8>> + 'a>,
    /// A PDF's text, once extracted: both readings of a PDF give the same,
    /// and extracting it is the costly part.
    pdf_text: Option<String>,
}

impl<'a> Subject<'a> {
    /// A page whose body `load` returns when a fingerprint must be computed.
    ///
    /// A lazy reading made by another decoder is read again from the body
    /// at once, whole (title, phrases, lines; fingerprints as needed): its
    /// text may have been mojibake. Should the body not load, it stands as
    /// it was. Readings from before laziness hold every fingerprint they
    /// will have and are used as they are, but for readings that may be of
    /// a PDF made before PDFs were read ([`Reading::pdf_stale`]): those are
    /// read again from the body, so a cited PDF is compared by its text
    /// rather than taken for changed, or left uncompared.
    pub fn new(
        reading: Reading,
        content_type: Option<&'a str>,
        load: impl FnMut() -> Option<Vec<u8>> + 'a,
    ) -> Subject<'a> {
        let mut subject = Subject {
            reading,
            grew: false,
            content_type,
            body: None,
            load: Box::new(load),
            pdf_text: None,
        };
        let stale = (subject.reading.decoder != page::DECODER_VERSION
            && (subject.reading.lazy || subject.reading.lines.is_some()))
            || subject.reading.pdf_stale(content_type);
        if stale {
            let load = &mut subject.load;
            if let Some(body) = subject.body.get_or_insert_with(load).as_deref() {
                subject.reading = glance(body, content_type);
                subject.grew = true;
            }
        }
        subject
    }

    /// A page compared only by the fingerprints its reading already holds.
    pub fn stored(reading: Reading) -> Subject<'a> {
        Subject {
            reading,
            grew: false,
            content_type: None,
            body: None,
            load: Box::new(|| None),
            pdf_text: None,
        }
    }

    /// The body's text as `read` sees it, if the body can be had.
    fn text(&mut self, read: fn(&[u8], Option<&str>) -> page::Page) -> Option<String> {
        if let Some(text) = &self.pdf_text {
            return Some(text.clone());
        }
        let load = &mut self.load;
        let body = self.body.get_or_insert_with(load).as_deref()?;
        let page = read(body, self.content_type);
        // Text of a body that is not text: a PDF's.
        if page.encoding.is_empty() && !page.main_text.is_empty() {
            self.pdf_text = Some(page.main_text.clone());
        }
        Some(page.main_text)
    }

    /// A fingerprint of the current version, computed (with `read`) when it is
    /// missing from a lazy reading or was stored by another version.
    fn current(
        &mut self,
        slot: fn(&mut Reading) -> &mut Option<Fingerprint>,
        read: fn(&[u8], Option<&str>) -> page::Page,
    ) -> Option<Fingerprint> {
        let stale = slot(&mut self.reading)
            .as_ref()
            .map(|f| f.version != fingerprint::FINGERPRINT_VERSION);
        // Missing from a lazy reading, or stale (so the body was text).
        if stale.unwrap_or(self.reading.lazy) {
            let fresh = self.text(read).map(|t| fingerprint::fingerprint(&t));
            self.grew |= fresh.is_some();
            *slot(&mut self.reading) = fresh;
        }
        slot(&mut self.reading).clone()
    }

    /// The visible text's lines, computed if missing from a lazy reading or
    /// stale.
    pub fn lines(&mut self) -> Option<&LineSet> {
        let stale = self
            .reading
            .lines
            .as_ref()
            .map(|l| l.version != lines::LINES_VERSION);
        if stale.unwrap_or(self.reading.lazy) {
            let fresh = self.text(page::glance_page).map(|t| lines::line_set(&t));
            self.grew |= fresh.is_some();
            self.reading.lines = fresh;
        }
        self.reading.lines.as_ref()
    }

    /// The visible-text fingerprint, computed if missing.
    pub fn page_fingerprint(&mut self) -> Option<Fingerprint> {
        self.current(|r| &mut r.page_fingerprint, page::glance_page)
    }

    /// The main-text fingerprint, computed (with Readability) if missing.
    pub fn main_fingerprint(&mut self) -> Option<Fingerprint> {
        self.current(|r| &mut r.fingerprint, page::read_page)
    }
}

/// Similarity of a page's text to its baseline's (0..=1), cheapest evidence
/// first; 0 when the baseline had text and the page has none; `None` when
/// the baseline had no text (or both were made by other fingerprint versions).
///
/// Visible texts at least [`quick_bar`] alike settle it: whatever changed is
/// too small a share of the page to move the main text below `changed_below`
/// (article paragraphs carry most of a page's weight in the fingerprint, see
/// [`fingerprint`]). Their lines are compared first ([`lines`]: they err low,
/// so passing the bar on lines means passing it on shingles), then, unless
/// both fingerprints are already at hand, their fingerprints. Anything less
/// is decided on Readability's main text.
pub fn drift(new: &mut Subject, base: &mut Subject, changed_below: f64) -> Option<f64> {
    let bar = quick_bar(changed_below);
    let fingerprints_at_hand =
        new.reading.page_fingerprint.is_some() && base.reading.page_fingerprint.is_some();
    if !fingerprints_at_hand
        && let (Some(a), Some(b)) = (new.lines(), base.lines())
        && let Some(s) = lines::similarity(a, b)
        && s >= bar
    {
        return Some(s);
    }
    if let (Some(a), Some(b)) = (new.page_fingerprint(), base.page_fingerprint())
        && let Some(s) = similarity(&a, &b)
        && s >= bar
    {
        return Some(s);
    }
    let (now, then) = (new.main_fingerprint()?, base.main_fingerprint()?);
    // A page whose text is gone (blank, a script that sends readers away, a
    // body that is no longer text) keeps nothing of what was cited.
    if now.is_empty() && !then.is_empty() && now.version == then.version {
        return Some(0.0);
    }
    similarity(&now, &then)
}

/// Visible-text similarity above which the main text is taken to be unchanged:
/// two thirds of the way from `changed_below` to identical (0.95 for the
/// default 0.85).
pub fn quick_bar(changed_below: f64) -> f64 {
    1.0 - (1.0 - changed_below) / 3.0
}

/// Similarity of two fingerprints (0..=1); `None` when either page had no
/// text, or they were made by different versions (not comparable).
pub fn similarity(a: &Fingerprint, b: &Fingerprint) -> Option<f64> {
    (!a.is_empty() && !b.is_empty() && a.version == b.version)
        .then(|| fingerprint::similarity(a, b))
}

/// How a cited page ended on a front page or section front, if it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SentHome {
    /// It did not.
    No,
    /// By the server's redirects.
    ByRedirect,
    /// By the page itself (a meta refresh or a script), to this address.
    ByPage(String),
}

/// Whether the cited page was sent to a front page or section front:
/// [`sent_to_root`] over the server's redirects, then over the page's own
/// (see [`Reading::refresh`]), which may also send it to an error page.
/// When the copy cited read as an article (`cited_article`), a landing on
/// another host's front counts too (a domain that sends every old link to
/// its new homepage), as does a short
/// slug (`/covid-vaccines/`, a section by its URL) sent to the front page.
/// Without that knowledge, another host's homepage is left to the probe:
/// a short link to a homepage is a fine citation.
pub fn sent_home(
    requested: &str,
    final_url: &str,
    landing_is_article: bool,
    refresh: Option<&str>,
    cited_article: bool,
) -> SentHome {
    let judged = |to: &str, landing_is_article: bool| {
        sent_to_root(requested, to, landing_is_article)
            || (cited_article
                && requested != to
                && matches!(
                    (Url::parse(requested), Url::parse(to)),
                    (Ok(r), Ok(t)) if !soft404::is_front_page(&r) && soft404::is_front_page(&t)
                        || soft404::deep_link_sent_to_any_root(&r, &t)
                ))
    };
    if judged(final_url, landing_is_article) {
        return SentHome::ByRedirect;
    }
    // A way station may send its reader to the site's error page instead:
    // as gone, where a redirect that lands there is judged by the page it
    // lands on.
    let to_error_page =
        |t: &Url| soft404::names_error_page(t) && Url::parse(requested).is_ok_and(|r| r != *t);
    match refresh.and_then(|r| Url::parse(final_url).ok()?.join(r).ok()) {
        Some(t) if judged(t.as_str(), false) || to_error_page(&t) => {
            SentHome::ByPage(t.to_string())
        }
        _ => SentHome::No,
    }
}

/// A deep link whose redirects ended on its site's root or a section root.
/// A landing that reads as an article (`landing_is_article`) is a section
/// front only at the root or an index document when reached from a short
/// link (`/?p=123`: WordPress sends it to `/lockdown-lifted/`, one word like
/// `/world/`), and never at a slug of two words (`/fire-update`): a section
/// front with long teasers reads as an article too, but is named by a word.
pub fn sent_to_root(requested: &str, final_url: &str, landing_is_article: bool) -> bool {
    if requested == final_url {
        return false;
    }
    match (Url::parse(requested), Url::parse(final_url)) {
        (Ok(r), Ok(f)) => {
            soft404::deep_link_sent_to_root(&r, &f)
                && (!landing_is_article
                    || soft404::is_front_page(&f)
                    || (!soft404::is_short_link(&r) && !soft404::is_slug(&f)))
        }
        _ => false,
    }
}

/// The front page of the cited URL's site (its origin's `/`); `None` when
/// the URL does not parse or has no host.
pub fn front_page_url(cited: &str) -> Option<String> {
    let url = Url::parse(cited).ok()?;
    url.host()?;
    Some(soft404::front_page_url(&url).to_string())
}

/// A sibling of `cited` that cannot exist.
pub fn probe_url(cited: &str, token: &str) -> Option<String> {
    Url::parse(cited)
        .ok()
        .map(|u| soft404::probe_url(&u, token).to_string())
}

/// The page cited as `requested` is what the host answered for another
/// address (a path that cannot exist, its front page). The pages' lines, when
/// both are at hand, tell whether the page has paragraphs of its own (see
/// [`soft404::OWN_TEXT_AT_LEAST`]); only when they do not is the page's
/// fingerprint asked for. A page without one (not text) is like nothing.
pub fn like_probe(
    requested: &str,
    page_lines: Option<&LineSet>,
    page_fingerprint: impl FnOnce() -> Option<Fingerprint>,
    final_url: &str,
    probe: (&Fingerprint, Option<&LineSet>),
    probe_final: &str,
) -> bool {
    let own_text = match (page_lines, probe.1) {
        (Some(a), Some(b)) => lines::own_weight(a, b, lines::PARAGRAPH_WEIGHT),
        _ => None,
    };
    let (Ok(r), Ok(f), Ok(p)) = (
        Url::parse(requested),
        Url::parse(final_url),
        Url::parse(probe_final),
    ) else {
        return false;
    };
    // Text of its own settles the comparison; an empty fingerprint leaves
    // only where the two landed to compare.
    let fingerprint = if own_text.is_some_and(|own| own >= soft404::OWN_TEXT_AT_LEAST) {
        Fingerprint::empty()
    } else {
        match page_fingerprint() {
            Some(fp) => fp,
            None => return false,
        }
    };
    soft404::looks_like_probe(&r, &fingerprint, &f, probe.0, &p, own_text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_survives_the_store() {
        let html = b"<html><head><title>Xinhua: a headline</title></head><body><article><p>The committee \
            passed amendments to the national defense law, officials said on Saturday, and the new rules \
            take effect next year across all provinces.</p></article></body></html>";
        let r = read(html, Some("text/html; charset=utf-8"));
        assert_eq!(r.title.as_deref(), Some("Xinhua: a headline"));
        let back: Reading = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        assert!(r.fingerprint.is_some() && r.page_fingerprint.is_some());
    }

    #[test]
    fn a_reading_head_is_read_from_a_whole_stored_reading() {
        let html = "<html><head><title>页面不存在</title></head><body><p>对不起，您访问的页面不存在或已被删除。</p>\
            <p>The committee passed amendments to the national defense law, officials said on Saturday.</p></body></html>";
        let mut r = read(html.as_bytes(), Some("text/html; charset=utf-8"));
        r.bot_challenge = true;
        r.script_shell = true;
        r.blank = true;
        assert!(r.lines.is_some() && r.error_phrase.is_some());
        let head: ReadingHead = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(
            head,
            ReadingHead {
                title: r.title.clone(),
                error_phrase: r.error_phrase.clone(),
                bot_challenge: true,
                article: r.article,
                refresh: None,
                wall: None,
                script_shell: true,
                blank: true,
                decoder: page::DECODER_VERSION,
            }
        );
    }

    #[test]
    fn readings_stored_before_laziness_are_used_as_they_are() {
        let current = fingerprint::FINGERPRINT_VERSION;
        let old = format!(
            r#"{{"title":"t","fingerprint":{{"version":{current},"simhash":5,"shingles":1,"sketch":[7]}},"error_phrase":null,"bot_challenge":false}}"#
        );
        let reading: Reading = serde_json::from_str(&old).unwrap();
        assert!(!reading.lazy);
        let mut s = Subject::new(reading, None, || panic!("an old reading is never re-read"));
        assert_eq!(s.main_fingerprint().unwrap().sketch, vec![7]);
        assert_eq!(s.page_fingerprint(), None);
        assert!(!s.grew);
        // A reading of a body that was not text stays without fingerprints.
        let mut s = Subject::new(Reading::default(), Some("image/png"), || {
            panic!("not text: never re-read")
        });
        assert_eq!(s.main_fingerprint(), None);
    }

    #[test]
    fn a_pdf_read_before_pdfs_were_is_read_again_from_its_body() {
        let body = crate::simweb::pdf_document("Defense law", &PARAGRAPHS, 1);
        // What a store kept for a PDF before: no text at all.
        let old: Reading = serde_json::from_str(
            r#"{"title":null,"error_phrase":null,"bot_challenge":false,"decoder":0}"#,
        )
        .unwrap();
        for ct in [
            Some("application/pdf"),
            None,
            Some("application/octet-stream"),
        ] {
            let loads = std::cell::Cell::new(0);
            let s = Subject::new(old.clone(), ct, || {
                loads.set(loads.get() + 1);
                Some(body.clone())
            });
            assert!(s.grew && s.reading.lines.is_some(), "{ct:?}");
            assert_eq!(s.reading.pdf, pdf::PDF_TEXT_VERSION);
            assert_eq!(loads.get(), 1);
            // Read now, it is not read again.
            let again: Reading =
                serde_json::from_str(&serde_json::to_string(&s.reading).unwrap()).unwrap();
            let s = Subject::new(again, ct, || panic!("read once is enough"));
            assert!(!s.grew);
        }
        // Of a body that turns out to be no PDF, the mark that it was looked
        // at is kept too, so it is not loaded again the next night.
        let s = Subject::new(old.clone(), None, || Some(b"\x89PNG\r\n\x1a\n".to_vec()));
        assert!(s.grew && s.reading.lines.is_none());
        assert!(!s.reading.pdf_stale(None));
        // Labelled as something else, an old reading without text is no PDF.
        let s = Subject::new(old, Some("text/html"), || panic!("not a PDF"));
        assert!(!s.grew);
    }

    #[test]
    fn a_replaced_pdf_drifts_and_a_re_served_one_does_not() {
        let ct = Some("application/pdf");
        let subject =
            |body: Vec<u8>| Subject::new(glance(&body, ct), ct, move || Some(body.clone()));
        let pdf = |paragraphs: &[&str], stamp| {
            crate::simweb::pdf_document("Defense law", paragraphs, stamp)
        };
        let mut base = subject(pdf(&PARAGRAPHS, 1));
        assert!(base.reading.lazy && base.reading.lines.is_some());
        let mut same = subject(pdf(&PARAGRAPHS, 2));
        let s = drift(&mut same, &mut base, 0.85).unwrap();
        assert!(s >= quick_bar(0.85), "{s}");
        let mut replaced = subject(pdf(&REWRITTEN, 3));
        let s = drift(&mut replaced, &mut base, 0.85).unwrap();
        assert!(s < 0.85, "{s}");
        // A PDF is a document, not a server's notice, whatever it says.
        let notice = glance(&pdf(&["Page not found"], 1), ct);
        assert_eq!((notice.error_phrase, notice.wall), (None, None));
        // Its text is extracted once for both fingerprints.
        let mut counted = Subject::new(glance(&pdf(&PARAGRAPHS, 1), ct), ct, || {
            Some(pdf(&PARAGRAPHS, 1))
        });
        assert!(counted.page_fingerprint().is_some());
        assert!(counted.pdf_text.is_some());
        assert_eq!(counted.main_fingerprint(), counted.page_fingerprint());
    }

    #[test]
    fn a_shell_is_known_by_its_mount_or_by_a_plea_with_nothing_else_to_read() {
        let glanced = |html: &str| glance(html.as_bytes(), Some("text/html")).script_shell;
        assert!(glanced(
            "<html><body><noscript>You need to enable JavaScript to run this app.</noscript>\
             <script src=/main.js></script></body></html>"
        ));
        assert!(glanced(
            "<html><body><p>Loading the latest stories, please wait.</p><div id=root></div></body></html>"
        ));
        // A short video page with a comment box asking for JavaScript.
        assert!(!glanced(
            "<html><body><h1>Premier meets visiting delegation</h1><p>Video: the premier met the \
             delegation in Beijing on Tuesday to discuss trade.</p><video src=v.mp4></video>\
             <div id=disqus_thread></div><noscript>Please enable JavaScript to view the comments.\
             </noscript></body></html>"
        ));
    }

    #[test]
    fn a_blank_page_is_one_without_a_word_to_read() {
        let blank = |body: &[u8], ct: Option<&str>| glance(body, ct).blank;
        for (body, ct) in [
            (&b""[..], Some("text/html")),
            (b"", None),
            (b"", Some("application/pdf")),
            (b"  \r\n\t ", Some("text/plain")),
            (&[0u8; 4096][..], Some("text/html")),
            (b"<html><head><title>Lockdown lifted</title></head><body></body></html>", Some("text/html")),
            (b"<!doctype html><html><body><div class=article>\n</div><img src=a.png></body></html>", None),
        ] {
            assert!(blank(body, ct), "{:?}", String::from_utf8_lossy(body));
        }
        for (body, ct) in [
            (&b"%PDF-1.7 binary"[..], Some("application/pdf")),
            (b"GIF89a\x01\x00", Some("image/gif")),
            (b"Lockdown lifted.", Some("text/plain")),
            (b"<html><body><p>Lockdown lifted.</p></body></html>", Some("text/html")),
            // A shell and a way station are named for what they are.
            (b"<html><body><div id=root></div><script src=/app.js></script></body></html>", Some("text/html")),
            (b"<html><head><meta http-equiv=refresh content=\"0; url=/\"></head><body></body></html>", Some("text/html")),
        ] {
            assert!(!blank(body, ct), "{:?}", String::from_utf8_lossy(body));
        }
        // Stored and read back, also by the head a 304 uses.
        let reading = glance(b"", Some("text/html"));
        let json = serde_json::to_string(&reading).unwrap();
        assert!(
            serde_json::from_str::<ReadingHead>(&json).unwrap().blank,
            "{json}"
        );
        let full = glance(b"<p>Lockdown lifted.</p>", Some("text/html"));
        assert!(!serde_json::to_string(&full).unwrap().contains("blank"));
    }

    #[test]
    fn readings_of_another_decoder_are_read_again_from_the_body() {
        let body = article(&PARAGRAPHS, &[]);
        let current = read(&body, Some("text/html"));
        assert_eq!(current.decoder, page::DECODER_VERSION);
        // As stored before decoders were versioned: read as mojibake, say.
        let mut old = current.clone();
        old.lines = Some(lines::line_set("Ã©Â¡ÂµÃ©Â¢ mojibake"));
        old.title = Some("Ã©Â¡Âµ".into());
        old.fingerprint = None;
        let mut json: serde_json::Value = serde_json::to_value(&old).unwrap();
        json.as_object_mut().unwrap().remove("decoder");
        let old: Reading = serde_json::from_value(json).unwrap();
        assert_eq!(old.decoder, 0);
        // The body cannot be had: the old reading stands, all of it.
        let mut s = Subject::new(old.clone(), Some("text/html"), || None);
        assert_eq!(s.lines(), old.lines.as_ref());
        assert!(!s.grew);
        let mut s = Subject::new(old, Some("text/html"), || Some(body.clone()));
        assert_eq!(s.reading.title, current.title, "read again whole");
        assert_eq!(s.lines(), current.lines.as_ref());
        assert_eq!(s.main_fingerprint(), current.fingerprint);
        assert!(s.grew, "the baseline's new reading is kept");
        assert_eq!(s.reading.decoder, page::DECODER_VERSION);
        // Of this decoder: used as stored.
        let mut s = Subject::new(current.clone(), Some("text/html"), || {
            panic!("a current reading is never read again")
        });
        assert_eq!(s.lines(), current.lines.as_ref());
        assert_eq!(s.main_fingerprint(), current.fingerprint);
        assert!(!s.grew);
    }

    #[test]
    fn fingerprints_of_another_version_are_recomputed_from_the_body() {
        let stale = r#"{"title":"t","fingerprint":{"version":1,"simhash":5,"shingles":1,"sketch":[7]},"error_phrase":null,"bot_challenge":false}"#;
        let body = article(&PARAGRAPHS, &[]);
        let mut s = Subject::new(
            serde_json::from_str(stale).unwrap(),
            Some("text/html"),
            || Some(body.clone()),
        );
        let fresh = s.main_fingerprint().unwrap();
        assert_eq!(fresh.version, fingerprint::FINGERPRINT_VERSION);
        assert_ne!(fresh.sketch, vec![7]);
        assert!(s.grew);
        let one = Fingerprint {
            version: 1,
            ..fresh.clone()
        };
        assert_eq!(similarity(&one, &fresh), None, "versions are not compared");
        // Stale, and the body is gone: no fingerprint rather than a wrong one.
        let mut s = Subject::stored(serde_json::from_str(stale).unwrap());
        assert_eq!(s.main_fingerprint(), None);
    }

    fn article(paragraphs: &[&str], related: &[&str]) -> Vec<u8> {
        let mut html = String::from(
            "<html><head><title>Shanghai starts vaccinating</title></head><body>\
             <nav><a href=/>Home</a> <a href=/world>World</a></nav><article><h1>Shanghai starts vaccinating</h1>",
        );
        for p in paragraphs {
            html.push_str(&format!("<p>{p}</p>"));
        }
        html.push_str("</article><aside><ul>");
        for r in related {
            html.push_str(&format!("<li><a href=/x>{r}</a></li>"));
        }
        html.push_str(
            "</ul></aside><footer>Generated 2026-11-29 06:31:07 nonce=8f2a</footer></body></html>",
        );
        html.into_bytes()
    }

    const PARAGRAPHS: [&str; 4] = [
        "Shanghai has begun vaccinating key groups against the novel coronavirus, the city's disease control centre said on Saturday, in one of the first large urban campaigns since the vaccine received conditional approval from the regulator.",
        "The vaccine being used is an inactivated virus product developed by a state-owned manufacturer, and each person receives two doses about three weeks apart at designated clinics across the city.",
        "Health officials stressed that taking part is voluntary and that people with fevers or chronic illnesses that are not under control should postpone their appointments until they have recovered.",
        "Experts in the city said the priority was to stop imported cases from spreading rather than to reach herd immunity quickly, since there are very few local infections at the moment.",
    ];

    const REWRITTEN: [&str; 4] = [
        "The city government announced a new plan on Monday to expand its metro network by six lines over the next decade, with construction starting in the northern districts first.",
        "Planners said the new lines would connect the airport, the high-speed rail stations and several new residential areas that are currently served only by buses and private cars.",
        "Residents welcomed the announcement but asked whether fares would rise to pay for the work, and the transport bureau said pricing would be reviewed separately next year.",
        "Engineers expect tunnelling under the river to be the hardest part of the project, and a pilot section will be built first to test the soil conditions and the boring machines.",
    ];

    /// A story with a WordPress comment section inside its `<article>`, as
    /// it stood with `comments` readers' comments.
    fn commented(paragraphs: &[&str], comments: usize) -> Vec<u8> {
        let mut html = String::from(
            "<html><head><title>Shanghai starts vaccinating</title></head><body>\
             <nav><a href=/>Home</a></nav><article><h1>Shanghai starts vaccinating</h1>",
        );
        for p in paragraphs {
            html.push_str(&format!("<p>{p}</p>"));
        }
        html.push_str(&format!(
            "<section id='comments' class='comments'><h2>{comments} Comments</h2><ol class='comment-list'>"
        ));
        for (i, said) in READERS_SAY.iter().cycle().take(comments).enumerate() {
            html.push_str(&format!(
                "<li class='comment'><p class='author'>reader{i}</p><p>{said}</p></li>"
            ));
        }
        html.push_str(
            "</ol><div id='respond' class='comment-respond'><h3>Leave a Reply</h3>\
             <form id='commentform'><textarea></textarea></form></div></section></article>\
             <footer>Generated 2026-11-29 06:31:07</footer></body></html>",
        );
        html.into_bytes()
    }

    /// What readers wrote, one comment each.
    const READERS_SAY: [&str; 12] = [
        "My mother got her first dose yesterday and the queue at the district clinic was shorter than we feared.",
        "Why are teachers not on the priority list when they meet hundreds of children every single day?",
        "Does anyone know whether the clinics in Pudong take walk-in appointments on weekends as well?",
        "I work in cold-chain logistics and nobody at my company has told us anything about this so far.",
        "Two doses three weeks apart means the holiday travel plans of many families will have to change.",
        "Good news at last, though I would like to see the trial data published before I sign up myself.",
        "The registration app crashed three times this morning; please fix it before the next group starts.",
        "Our neighbourhood committee posted a notice in the lobby but it says nothing about side effects.",
        "Voluntary is the right approach, people should decide for themselves after talking to a doctor.",
        "Will foreigners living in the city be able to register, or is it only for residents with hukou?",
        "The nurse at the Xuhui clinic was kind and the whole visit took forty minutes including waiting.",
        "Compared with other countries the roll-out seems slow, but there are very few local cases here.",
    ];

    /// Readers' comments under a short story grow night by night: the
    /// story is the same, and was judged `changed` when its comments counted
    /// as its text (Readability strips comment sections only from a story
    /// long enough without them). A rewritten story under the same comments
    /// is a change still.
    #[test]
    fn a_story_whose_comments_grow_is_unchanged_and_a_rewrite_under_them_is_not() {
        let loads = std::cell::Cell::new(0);
        let mut base = subject(commented(&PARAGRAPHS[..2], 2), &loads);
        let mut grown = subject(commented(&PARAGRAPHS[..2], 12), &loads);
        let s = drift(&mut grown, &mut base, 0.85).unwrap();
        assert!(s >= 0.85, "new comments made the story changed: {s}");
        let mut rewritten = subject(commented(&REWRITTEN[..2], 2), &loads);
        let s = drift(&mut rewritten, &mut base, 0.85).unwrap();
        assert!(s < 0.85, "{s}");
    }

    /// Copies of a story that differ only in their readers' comments have
    /// the same visible lines: the glance settles them, without a
    /// fingerprint or a second look at either body (a Readability pass each
    /// while the comments were in the lines). A rewrite under the same
    /// comments fails the lines and is found on the main text.
    #[test]
    fn comments_that_grow_are_settled_by_the_lines_alone() {
        let loads = std::cell::Cell::new(0);
        let mut base = subject(commented(&PARAGRAPHS[..2], 2), &loads);
        let mut grown = subject(commented(&PARAGRAPHS[..2], 12), &loads);
        let (a, b) = (grown.reading.lines.clone(), base.reading.lines.clone());
        assert_eq!(
            lines::similarity(&a.unwrap(), &b.unwrap()),
            Some(1.0),
            "the comments are not in the lines"
        );
        let s = drift(&mut grown, &mut base, 0.85).unwrap();
        assert!(s >= quick_bar(0.85), "{s}");
        for r in [&grown.reading, &base.reading] {
            assert!(
                r.page_fingerprint.is_none() && r.fingerprint.is_none(),
                "fingerprinted for new comments"
            );
        }
        assert_eq!(loads.get(), 0, "a second look at a body");

        let mut rewritten = subject(commented(&REWRITTEN[..2], 12), &loads);
        let s = drift(&mut rewritten, &mut base, 0.85).unwrap();
        assert!(s < 0.85, "{s}");
        assert!(rewritten.reading.fingerprint.is_some());
    }

    fn subject(body: Vec<u8>, loads: &std::cell::Cell<u32>) -> Subject<'_> {
        let reading = glance(&body, Some("text/html"));
        Subject::new(reading, Some("text/html"), move || {
            loads.set(loads.get() + 1);
            Some(body.clone())
        })
    }

    #[test]
    fn a_glance_computes_no_fingerprint_and_a_subject_loads_its_body_once() {
        let loads = std::cell::Cell::new(0);
        let mut s = subject(article(&PARAGRAPHS, &["a", "b"]), &loads);
        assert!(
            s.reading.lazy
                && s.reading.fingerprint.is_none()
                && s.reading.page_fingerprint.is_none()
        );
        assert_eq!(
            s.reading.title.as_deref(),
            Some("Shanghai starts vaccinating")
        );
        assert!(s.page_fingerprint().is_some());
        assert!(s.main_fingerprint().is_some());
        assert!(s.grew);
        assert_eq!(loads.get(), 1);
    }

    #[test]
    fn churn_is_settled_by_the_glance_and_a_rewrite_by_the_main_text() {
        let loads = std::cell::Cell::new(0);
        let related = [
            "Beijing tightens checks on imported frozen food",
            "Hong Kong extends social distancing rules",
        ];
        let rotated = [related[1], related[0]];
        let mut base = subject(article(&PARAGRAPHS, &related), &loads);

        let mut churned = subject(article(&PARAGRAPHS, &rotated), &loads);
        let s = drift(&mut churned, &mut base, 0.85).unwrap();
        assert!(s >= quick_bar(0.85), "{s}");
        assert!(
            churned.reading.fingerprint.is_none() && base.reading.fingerprint.is_none(),
            "Readability ran for churn"
        );
        assert!(
            churned.reading.page_fingerprint.is_none() && base.reading.page_fingerprint.is_none(),
            "the lines settle churn without a fingerprint"
        );
        assert_eq!(loads.get(), 0, "nor a second look at either body");

        let mut rewritten = subject(article(&REWRITTEN, &related), &loads);
        let s = drift(&mut rewritten, &mut base, 0.85).unwrap();
        assert!(s < 0.85, "{s}");
        assert!(rewritten.reading.fingerprint.is_some() && base.reading.fingerprint.is_some());

        let mut one_replaced = subject(
            article(
                &[PARAGRAPHS[0], PARAGRAPHS[1], PARAGRAPHS[2], REWRITTEN[3]],
                &related,
            ),
            &loads,
        );
        let s = drift(&mut one_replaced, &mut base, 0.85).unwrap();
        assert!(s < 0.85, "a replaced paragraph of four is a change: {s}");
    }

    /// A three-sentence Chinese brief in a portal's template: Readability
    /// finds its paragraph, but under 140 characters it was taken for a
    /// failed extraction and the whole visible text (menus, related
    /// headlines, comment box) stood for the main text, so a night's new
    /// related headlines and time stamp made the brief `changed`.
    #[test]
    fn a_chinese_brief_with_new_related_headlines_is_unchanged() {
        let brief = |stamp: &str, related: &[&str], para: &str| {
            let related: String = related
                .iter()
                .map(|h| format!("<li><a href='/2020-12/{}.htm'>{h}</a></li>", h.len()))
                .collect();
            format!(
                "<!DOCTYPE html><html><head><meta charset='utf-8'><title>国防法修订草案提请审议-新华网\
                 </title><script>var _hmt=_hmt||[];</script></head><body><div class='topbar'>\
                 <a href='/'>新华网首页</a> | <a href='/politics/'>时政</a> | <a href='/world/'>国际</a>\
                 </div><div class='header'><h1>国防法修订草案提请审议</h1><div class='info'>{stamp} \
                 来源：新华网 【字号 大 中 小】 分享到：微信 微博</div></div><div id='detail'><p>{para}</p>\
                 <p class='editor'>【责任编辑:王亮】</p></div><div class='related'><h3>相关新闻</h3>\
                 <ul>{related}</ul></div><div class='comment'><h3>网友评论</h3>已有 35 人参与\
                 <a>登录</a><a>注册</a></div><div class='footer'>关于我们 | 联系我们 | 网站地图</div>\
                 </body></html>"
            )
            .into_bytes()
        };
        let para = "新华社北京12月26日电 十三届全国人大常委会第二十四次会议26日在北京人民大会堂闭幕。\
                    会议经表决，通过了新修订的国防法，自2021年1月1日起施行。";
        let loads = std::cell::Cell::new(0);
        let mut base = subject(
            brief(
                "2020-12-26 18:05:12",
                &[
                    "习近平主持召开中央全面深化改革委员会第十七次会议",
                    "国务院常务会议部署进一步做好稳就业工作",
                    "外交部发言人就美方涉港言论答记者问",
                    "中央经济工作会议在北京举行",
                ],
                para,
            ),
            &loads,
        );
        let mut churned = subject(
            brief(
                "2020-12-27 09:15:40",
                &[
                    "中央经济工作会议在北京举行",
                    "一带一路倡议七周年成果丰硕",
                    "国家统计局发布11月份国民经济运行数据",
                    "多地出台措施保障春运",
                ],
                para,
            ),
            &loads,
        );
        let s = drift(&mut churned, &mut base, 0.85).unwrap();
        assert!(
            s >= 0.85,
            "new related headlines made the brief changed: {s}"
        );
        // The brief rewritten is a change still.
        let mut rewritten = subject(
            brief(
                "2020-12-26 18:05:12",
                &["中央经济工作会议在北京举行"],
                "新华社北京12月27日电 国务院新闻办公室27日发布《新时代的中国国防》白皮书，\
                 全面介绍中国国防政策和军队建设成就。",
            ),
            &loads,
        );
        let s = drift(&mut rewritten, &mut base, 0.85).unwrap();
        assert!(s < 0.85, "{s}");
    }

    #[test]
    fn a_page_whose_text_is_gone_keeps_nothing_of_the_baseline() {
        let loads = std::cell::Cell::new(0);
        let mut base = subject(article(&PARAGRAPHS, &[]), &loads);
        let stub = "<html><head><title>Xinhua</title><script>location.href='/'</script></head><body></body></html>";
        let mut blank = subject(stub.as_bytes().to_vec(), &loads);
        assert_eq!(drift(&mut blank, &mut base, 0.85), Some(0.0));
        // A baseline without text is nothing to compare with.
        let mut blank_base = subject(stub.as_bytes().to_vec(), &loads);
        let mut page = subject(article(&PARAGRAPHS, &[]), &loads);
        assert_eq!(drift(&mut page, &mut blank_base, 0.85), None);
    }

    #[test]
    fn a_baseline_read_before_lines_were_kept_gets_them_from_its_body() {
        let loads = std::cell::Cell::new(0);
        let related = ["Beijing tightens checks on imported frozen food"];
        let mut base = subject(article(&PARAGRAPHS, &related), &loads);
        base.reading.lines = None;
        let mut churned = subject(article(&PARAGRAPHS, &related), &loads);
        let s = drift(&mut churned, &mut base, 0.85).unwrap();
        assert!(s >= quick_bar(0.85), "{s}");
        assert!(base.grew && base.reading.lines.is_some());
        assert_eq!(loads.get(), 1, "the baseline's body, once");
        // Both fingerprints already at hand: they decide, the lines are not read.
        let mut old = Subject::stored(Reading {
            page_fingerprint: Some(fingerprint::fingerprint("one two three four five")),
            ..Reading::default()
        });
        let mut new = Subject::stored(Reading {
            page_fingerprint: Some(fingerprint::fingerprint("one two three four five")),
            ..Reading::default()
        });
        assert_eq!(drift(&mut new, &mut old, 0.85), Some(1.0));
        assert!(new.reading.lines.is_none() && old.reading.lines.is_none());
    }

    #[test]
    fn the_quick_bar_sits_between_the_threshold_and_identity() {
        assert!((quick_bar(0.85) - 0.95).abs() < 1e-9);
        assert!((quick_bar(1.0) - 1.0).abs() < 1e-9);
        for t in [0.0, 0.5, 0.85, 0.99] {
            assert!(quick_bar(t) > t && quick_bar(t) <= 1.0);
        }
    }

    #[test]
    fn error_pages_and_challenges_are_named() {
        let r = read(
            "<html><head><title>页面不存在</title></head><body>您访问的页面不存在</body></html>"
                .as_bytes(),
            Some("text/html"),
        );
        assert!(r.error_phrase.is_some());
        let r = read(
            b"<html><head><title>Just a moment...</title></head><body>Checking</body></html>",
            None,
        );
        assert!(r.bot_challenge);
        // A PDF the parser gives up on says so, and holds nothing else.
        let broken = read(b"%PDF-1.4 binary", Some("application/pdf"));
        assert!(broken.unreadable.is_some());
        assert_eq!(
            Reading {
                unreadable: None,
                pdf: 0,
                ..broken
            },
            Reading::default()
        );
    }

    #[test]
    fn homepage_redirect_versus_a_legitimate_move() {
        for article in [false, true] {
            assert!(sent_to_root(
                "http://www.xinhuanet.com/local/2020-12/26/c_1126910999.htm",
                "http://www.xinhuanet.com/",
                article
            ));
            assert!(!sent_to_root(
                "http://www.xinhuanet.com/2020/12/26/c_1126910999.htm",
                "http://www.xinhuanet.com/politics/2020-12/26/c_1126910999.htm",
                article
            ));
        }
        // A WordPress short link to its article's slug: a section front by
        // its URL, but not when the landing reads as an article.
        let (short, slug) = (
            "https://example.org/?p=123",
            "https://example.org/lockdown-lifted/",
        );
        assert!(sent_to_root(short, slug, false));
        assert!(!sent_to_root(short, slug, true));
        // A front page stays one, whatever its text.
        assert!(sent_to_root(short, "https://example.org/index.html", true));
        // A deep link sent to a section front with long teasers (it reads as
        // an article) is sent home all the same: only short links, and slugs
        // of two words, are spared.
        assert!(sent_to_root(
            "https://example.org/2020/12/26/story-123.html",
            "https://example.org/world/",
            true
        ));
        let deep = "https://example.org/2020/12/26/story-123.html";
        assert!(!sent_to_root(deep, "https://example.org/fire-update", true));
        assert!(sent_to_root(deep, "https://example.org/fire-update", false));
        assert!(sent_to_root(deep, "https://example.org/index.html", true));
    }

    #[test]
    fn what_is_sent_home_and_by_whom() {
        use SentHome::*;
        let deep = "http://www.xinhuanet.com/2020-12/26/c_1126910999.htm";
        let home = |to: &str, refresh: Option<&str>, cited_article: bool| {
            sent_home(deep, to, false, refresh, cited_article)
        };
        assert_eq!(home("http://www.xinhuanet.com/", None, false), ByRedirect);
        // Another host's homepage: for a link known to be an article (a
        // domain that moved), not otherwise (a short link to a homepage).
        assert_eq!(home("http://www.news.cn/", None, false), No);
        assert_eq!(home("http://www.news.cn/", None, true), ByRedirect);
        let short = "https://t.example/s/Ab3xYz";
        assert_eq!(
            sent_home(short, "https://lab.example/", false, None, false),
            No
        );
        // By the page itself, named with where it sends its reader.
        assert_eq!(
            home(deep, Some("/"), false),
            ByPage("http://www.xinhuanet.com/".into())
        );
        // A cited article at a one-word slug, sent to the front page: gone,
        // though its URL reads as a section's. Not when it was no article.
        let slug = "https://example.org/covid-vaccines/";
        assert_eq!(
            sent_home(slug, "https://example.org/", false, None, false),
            No
        );
        assert_eq!(
            sent_home(slug, "https://example.org/", false, None, true),
            ByRedirect
        );
        assert_eq!(
            sent_home(slug, slug, false, Some("/index.html"), true),
            ByPage("https://example.org/index.html".into())
        );
        assert_eq!(
            sent_home(slug, "https://example.org/world/", false, None, true),
            No
        );
    }

    #[test]
    fn a_page_that_sends_its_reader_home_by_itself_is_sent_home() {
        let cited = "http://www.xinhuanet.com/2020-12/26/c_1126910999.htm";
        for page in [
            "<html><head><meta http-equiv=\"refresh\" content=\"0;url=/\"></head><body></body></html>",
            "<html><head><META CONTENT='3; URL=http://www.xinhuanet.com/index.htm' HTTP-EQUIV='Refresh'></head></html>",
            "<html><body><script>window.location.href = '/';</script></body></html>",
            "<html><body><script>location.replace(\"/\")</script>Redirecting…</body></html>",
            // A script in a string, as Chinese portals' way stations write it.
            "<html><head><title>提示</title><script>setTimeout(\"window.location.href='http://www.xinhuanet.com/'\",3000);</script></head><body><p>正在跳转...</p></body></html>",
            // Sent to the site's error page rather than its front page.
            "<html><head><title>新华网</title><script>window.location.href='/404.html';</script></head><body></body></html>",
            "<html><head><meta http-equiv=\"refresh\" content=\"0;url=http://www.xinhuanet.com/error/notfound.htm\"></head></html>",
        ] {
            let r = glance(page.as_bytes(), Some("text/html"));
            let head: ReadingHead =
                serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
            assert!(
                matches!(
                    sent_home(cited, cited, head.article, head.refresh.as_deref(), false),
                    SentHome::ByPage(_)
                ),
                "{page}: {:?}",
                r.refresh
            );
        }
        // To another article (a move by script), a slow refresh, an app
        // shell's conditional, concatenation or comparison, a refresh for
        // readers without scripts only: not sent home.
        for page in [
            "<html><head><meta http-equiv=\"refresh\" content=\"0;url=/2021/c_2.htm\"></head></html>",
            "<html><head><meta http-equiv=\"refresh\" content=\"300\"></head><body>Live blog</body></html>",
            "<html><body><div id=app></div><script>if (lang !== 'en') { window.location.href = '/' + lang + location.pathname; }</script></body></html>",
            "<html><body><script>var home = location.href == \"/\";</script></body></html>",
            "<html><body><script>window.location.href = '/' + path;</script></body></html>",
            "<html><head><noscript><meta http-equiv=\"refresh\" content=\"0; url=/\"></noscript></head><body><div id=app></div></body></html>",
        ] {
            let r = glance(page.as_bytes(), Some("text/html"));
            assert_eq!(
                sent_home(cited, cited, r.article, r.refresh.as_deref(), false),
                SentHome::No,
                "{page}: {:?}",
                r.refresh
            );
        }
        let para = "<p>The committee passed amendments to the national defense law on Saturday, \
            officials said, after a second reading that took most of the week.</p>";
        let long = format!(
            "<html><body><script>location.href = '/';</script>{}</body></html>",
            para.repeat(6)
        );
        assert_eq!(glance(long.as_bytes(), Some("text/html")).refresh, None);
    }

    #[test]
    fn a_wall_in_place_of_the_page_is_noted_a_cookie_banner_on_an_article_is_not() {
        let consent = "<html><head><title>Before you continue to Example News</title></head>\
            <body><p>We use cookies and data to deliver our services.</p>\
            <button>Accept all</button><button>Reject all</button></body></html>";
        assert_eq!(
            glance(consent.as_bytes(), Some("text/html"))
                .wall
                .as_deref(),
            Some("before you continue to")
        );
        let paywall = "<html><body><h1>Lockdown lifted</h1><p>The committee met on Saturday.</p>\
            <div class=wall>Subscribe to continue reading.</div></body></html>";
        assert_eq!(
            glance(paywall.as_bytes(), Some("text/html"))
                .wall
                .as_deref(),
            Some("subscribe to continue reading")
        );
        let para = "<p>The committee passed amendments to the national defense law on \
            Saturday, officials said, after a second reading that took most of the week.</p>";
        let article = format!(
            "<html><body><div class=banner>We value your privacy. Accept all cookies to \
             continue.</div><h1>Lockdown lifted</h1>{}</body></html>",
            para.repeat(6)
        );
        assert_eq!(glance(article.as_bytes(), Some("text/html")).wall, None);
    }

    #[test]
    fn a_glance_says_whether_the_text_reads_as_an_article() {
        let para = "<p>The committee passed amendments to the national defense law on \
            Saturday, officials said, after a second reading that took most of the week.</p>";
        let article = format!(
            "<html><body><h1>Lockdown lifted</h1>{}</body></html>",
            para.repeat(6)
        );
        assert!(glance(article.as_bytes(), Some("text/html")).article);
        let front = "<html><body><ul><li><a href=/a>Lockdown lifted</a></li>\
            <li><a href=/b>Markets rally</a></li></ul></body></html>";
        assert!(!glance(front.as_bytes(), Some("text/html")).article);
    }
}
