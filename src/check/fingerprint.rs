//! Fingerprints of a page's main text, so that "did this source change in
//! substance since it was cited?" can be answered from two small stored values
//! instead of two archived bodies.
//!
//! Raw-byte hashes are useless for this: ads, dates, counters and nonces change
//! on every load. So the text is first normalised (case, width, whitespace, and
//! every URL, path, e-mail address, and every token that carries a digit or
//! names a month, weekday or time zone is dropped), then cut into shingles: word 4-grams for text written with spaces,
//! character 3-grams for Chinese, Japanese, Thai and other scripts written
//! without them. Shingles never cross a line, so a rotating sidebar line cannot
//! disturb the shingles of the paragraph next to it.
//!
//! Lines are weighted by length: a shingle counts once per
//! [`WORDS_PER_WEIGHT`] words of its line (a CJK character counts half a word),
//! at least once and at most [`MAX_LINE_WEIGHT`] times. Boilerplate research
//! (Kohlschütter et al., "Boilerplate detection using shallow text features",
//! 2010) found words-per-block the strongest single signal: related-article
//! lists, bylines, timestamps and ad captions are short lines, article
//! paragraphs long ones. Weighting rather than dropping keeps short pages
//! (error notices, listings) comparable, and a smooth weight avoids a cliff
//! where one word more or less flips how a line counts.
//!
//! The stored [`Fingerprint`] holds a bottom-k MinHash sketch of the weighted
//! shingle set (estimating weighted Jaccard similarity, exact for short texts)
//! and a 64-bit simhash of that sample for cheap near-duplicate lookups.
//!
//! One pass, no table of shingles: each token is hashed once, a shingle's hash
//! combines its tokens' hashes, and a weight-`w` shingle offers its `w` copies
//! straight to the sketch, which ignores values it already holds. Because the
//! copies of a shingle are always the same values, a shingle seen on several
//! lines counts with its largest weight, as the weighted set demands.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// Bumped whenever normalisation, shingling or hashing changes: fingerprints of
/// different versions are not comparable, and the baseline's must then be
/// recomputed from its archived body (the check does so when it finds one).
///
/// 2: shingle hashes combine per-token hashes; the simhash is the sample's;
/// `shingles` counts repeats.
/// 3: the main text of a short CJK page is Readability's, no longer the
/// whole visible text (see `page::MIN_MAIN_CHARS`), and lists of related
/// links inside a story are not part of it: an old fingerprint compared
/// with a new one would make such a page look rewritten.
/// 4: reader comments and comment forms are not part of the main text
/// (see `page::drop_comments`).
/// 5: nor of the glance's visible text, which the page fingerprint is
/// taken of (see `page::scan_markup`), nor of the text of a document too
/// deep for a tree; comment widgets are known by their vendors' names too
/// (`page::COMMENT_MARKS`), and a story's own "Comment" section is its
/// text (`page::MAYBE_STORY_TITLES`).
/// 6: so is an op-ed under a bare "评论" ("commentary") label, which cut
/// the op-ed's text as a comment heading; a counted comment heading ("1
/// Comment", "评论(35)") cuts without more evidence
/// (`page::MAYBE_STORY_TITLES`). A baseline fingerprinted without the
/// op-ed's text, compared with one taken with it, would make the page look
/// rewritten.
pub const FINGERPRINT_VERSION: u8 = 6;

/// Values kept in the sketch. 256 gives a standard error of about 0.02 near a
/// similarity of 0.9 (sqrt(J(1-J)/k)), well inside the gap between churn and
/// rewrites measured in the tests, at about 1 KiB per capture.
pub const SKETCH_SIZE: usize = 256;

/// Words per shingle for space-separated scripts. Four words are specific
/// enough that unrelated pages share almost none, short enough that a changed
/// word disturbs only four shingles.
pub const WORD_SHINGLE: usize = 4;

/// Characters per shingle for scripts written without spaces; a Chinese word is
/// one to three characters, so three characters play the part of a few words.
pub const CHAR_SHINGLE: usize = 3;

/// A line's shingles count once more for every this many words in it (a CJK
/// character counts half a word): a ten-word headline counts 2, a paragraph
/// of forty words or more [`MAX_LINE_WEIGHT`].
pub const WORDS_PER_WEIGHT: usize = 5;

/// The most a shingle counts. Article paragraphs reach it, so all of them
/// weigh the same and the similarity of two articles is about the share of
/// paragraphs they have in common.
pub const MAX_LINE_WEIGHT: u8 = 8;

/// Below this similarity to the baseline a page has changed in substance.
///
/// Measured in the tests (English / Chinese): per-load churn (timestamps, a
/// rotating list of related articles, a different ad and nonce) 0.96 / 1.00;
/// one sentence rewritten 0.92 / 0.91; one paragraph of eight replaced 0.81;
/// half the paragraphs rewritten 0.38 / 0.37; an unrelated page 0.00. 0.85
/// sits between a corrected sentence (not worth an editor's time) and a
/// replaced paragraph (worth a look), about three sketch standard errors from
/// each. The check exposes it as configuration.
pub const CHANGED_BELOW: f64 = 0.85;

/// Simhashes at most this many bits apart are near-duplicates (Manku, Jain and
/// Das Sarma, "Detecting near-duplicates for web crawling", 2007). Useful as a
/// cheap pre-filter; the verdict uses [`similarity`].
pub const NEAR_DUPLICATE_BITS: u32 = 3;

/// Longer texts are fingerprinted from their first this many bytes: enough for
/// any article, and bounded work on hostile input.
pub const MAX_TEXT_BYTES: usize = 4 << 20;

/// Letter-only tokens longer than this are taken for encoded blobs or nonces.
const MAX_WORD_CHARS: usize = 48;

/// A compact summary of a page's main text, stored per capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// [`FINGERPRINT_VERSION`] when it was computed.
    pub version: u8,
    /// 64-bit simhash of the sketch's sample; 0 for an empty text.
    pub simhash: u64,
    /// Shingles seen, repeats included; 0 means there was no usable text.
    pub shingles: u32,
    /// The smallest hashes (upper 32 bits) of the weighted shingle set,
    /// ascending, at most [`SKETCH_SIZE`].
    pub sketch: Vec<u32>,
}

impl Fingerprint {
    /// The fingerprint of no text, of this version.
    pub fn empty() -> Fingerprint {
        Fingerprint {
            version: FINGERPRINT_VERSION,
            simhash: 0,
            shingles: 0,
            sketch: Vec::new(),
        }
    }

    /// No usable text: nothing can be concluded from comparing it.
    pub fn is_empty(&self) -> bool {
        self.shingles == 0 || self.sketch.is_empty()
    }
}

/// Fingerprints a page's main text.
pub fn fingerprint(text: &str) -> Fingerprint {
    let mut bottom = BottomK::default();
    let mut shingles = 0u32;
    for_each_weighted_shingle(text, |h, w| {
        shingles = shingles.saturating_add(1);
        for e in copies(h, w) {
            bottom.offer(e);
        }
    });
    let sample = bottom.0;
    // Simhash of the sample: a bit is set when most sampled values have it.
    let simhash = (0..64)
        .filter(|bit| 2 * sample.iter().filter(|v| *v >> bit & 1 == 1).count() > sample.len())
        .fold(0u64, |s, bit| s | 1 << bit);
    let mut sketch: Vec<u32> = sample.iter().map(|e| (e >> 32) as u32).collect();
    sketch.dedup();
    Fingerprint {
        version: FINGERPRINT_VERSION,
        simhash,
        shingles,
        sketch,
    }
}

/// Calls `f` with every shingle's hash and its line's weight, repeats included.
fn for_each_weighted_shingle(text: &str, mut f: impl FnMut(u64, u8)) {
    for_each_line(text, |line| {
        let weight = u8::try_from(line.units() / (2 * WORDS_PER_WEIGHT))
            .unwrap_or(MAX_LINE_WEIGHT)
            .clamp(1, MAX_LINE_WEIGHT);
        for_each_shingle(line, |h| f(h, weight));
    });
}

/// The [`SKETCH_SIZE`] smallest distinct values offered, ascending. Almost
/// every offer is refused by one comparison with the largest kept value.
#[derive(Debug, Default)]
struct BottomK(Vec<u64>);

impl BottomK {
    fn offer(&mut self, e: u64) {
        if self.0.len() == SKETCH_SIZE && self.0.last().is_some_and(|max| e >= *max) {
            return;
        }
        if let Err(at) = self.0.binary_search(&e) {
            self.0.insert(at, e);
            self.0.truncate(SKETCH_SIZE);
        }
    }
}

/// A weight `w` shingle enters the set as `w` distinct elements, which turns
/// plain Jaccard over the set into weighted Jaccard.
fn copies(h: u64, w: u8) -> impl Iterator<Item = u64> {
    (0..u64::from(w)).map(move |copy| mix(h.wrapping_add(copy.wrapping_mul(GOLDEN))))
}

/// Estimated (weighted) Jaccard similarity of the two texts, in `0.0..=1.0`.
///
/// Two empty texts are identical (1.0); an empty text and a non-empty one share
/// nothing (0.0). Callers deciding a soft 404 should not trust a match between
/// empty fingerprints; see [`Fingerprint::is_empty`].
pub fn similarity(a: &Fingerprint, b: &Fingerprint) -> f64 {
    match (a.sketch.is_empty(), b.sketch.is_empty()) {
        (true, true) => return 1.0,
        (true, false) | (false, true) => return 0.0,
        (false, false) => {}
    }
    // Walk the union of both sketches in order: its first SKETCH_SIZE values
    // are the bottom-k of the union of the full sets, and each of them is in a
    // full set exactly when it is in that set's sketch.
    let (mut i, mut j, mut seen, mut both) = (0usize, 0usize, 0usize, 0usize);
    while seen < SKETCH_SIZE {
        match (a.sketch.get(i), b.sketch.get(j)) {
            (Some(x), Some(y)) if x == y => {
                both += 1;
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => i += 1,
            (Some(_), Some(_)) | (None, Some(_)) => j += 1,
            (Some(_), None) => i += 1,
            (None, None) => break,
        }
        seen += 1;
    }
    if seen == 0 {
        return 1.0;
    }
    both as f64 / seen as f64
}

/// Bits in which the two simhashes differ (0 to 64).
pub fn simhash_distance(a: &Fingerprint, b: &Fingerprint) -> u32 {
    (a.simhash ^ b.simhash).count_ones()
}

/// The text as the fingerprint sees it: one line per input line that kept any
/// token, words separated by a space, CJK characters as they stand. Meant for
/// showing an editor what was compared.
pub fn normalise(text: &str) -> String {
    let mut out = String::new();
    for_each_line(text, |line| {
        if !out.is_empty() {
            out.push('\n');
        }
        let mut prev: Option<Kind> = None;
        for t in &line.tokens {
            if prev == Some(Kind::Word) || (prev.is_some() && t.kind == Kind::Word) {
                out.push(' ');
            }
            out.push_str(line.text(t));
            prev = Some(t.kind);
        }
    });
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A word of a script written with spaces.
    Word,
    /// One character of a script written without spaces.
    Char,
}

/// A token: a range of [`Line::buf`], and the hash of that text.
#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
    hash: u64,
}

/// One line's tokens. The normalised token texts sit end to end in one buffer
/// reused from line to line, so tokenising allocates nothing per token.
#[derive(Debug, Default)]
struct Line {
    buf: String,
    tokens: Vec<Token>,
}

impl Line {
    fn text(&self, t: &Token) -> &str {
        self.buf.get(t.start..t.end).unwrap_or_default()
    }

    /// Length in half-words: a word counts two, a CJK character one.
    fn units(&self) -> usize {
        self.tokens
            .iter()
            .map(|t| match t.kind {
                Kind::Word => 2,
                Kind::Char => 1,
            })
            .sum()
    }

    /// Tokenises `raw` into this line, replacing what it held.
    fn tokenise(&mut self, raw: &str) {
        self.buf.clear();
        self.tokens.clear();
        let mut word = WordState::default();
        for c in without_links(raw).chars().map(fold_width) {
            if c.is_ascii() {
                // Most text is ASCII: the same rules, without Unicode tables.
                if c.is_ascii_alphanumeric() {
                    word.start.get_or_insert(self.buf.len());
                    word.has_digit |= c.is_ascii_digit();
                    self.buf.push(c.to_ascii_lowercase());
                    word.chars += 1;
                } else {
                    self.flush_word(&mut word);
                }
            } else if is_unspaced_script(c) {
                self.flush_word(&mut word);
                let start = self.buf.len();
                self.buf.push(c);
                self.push(Kind::Char, start);
            } else if c.is_alphanumeric() {
                word.start.get_or_insert(self.buf.len());
                word.has_digit |= c.is_numeric();
                for lower in c.to_lowercase() {
                    self.buf.push(lower);
                    word.chars += 1;
                }
            } else {
                self.flush_word(&mut word);
            }
        }
        self.flush_word(&mut word);
    }

    /// Ends the word being read: kept as a token, or dropped when it carries
    /// a digit, is too long to be a word, or names a time.
    fn flush_word(&mut self, word: &mut WordState) {
        let state = std::mem::take(word);
        let Some(start) = state.start else { return };
        let text = self.buf.get(start..).unwrap_or_default();
        if !state.has_digit && state.chars <= MAX_WORD_CHARS && !is_time_word(text) {
            self.push(Kind::Word, start);
        } else {
            self.buf.truncate(start);
        }
    }

    /// Adds the token that ends at the end of the buffer.
    fn push(&mut self, kind: Kind, start: usize) {
        let end = self.buf.len();
        let hash = stable_hash(self.buf.as_bytes().get(start..end).unwrap_or_default());
        self.tokens.push(Token {
            kind,
            start,
            end,
            hash,
        });
    }
}

/// The word being read while tokenising.
#[derive(Debug, Default)]
struct WordState {
    /// Where it starts in [`Line::buf`]; `None` between words.
    start: Option<usize>,
    has_digit: bool,
    chars: usize,
}

fn capped(text: &str) -> &str {
    &text[..text.floor_char_boundary(MAX_TEXT_BYTES)]
}

/// Calls `f` with each line of the text that keeps at least one token.
fn for_each_line(text: &str, mut f: impl FnMut(&Line)) {
    let mut line = Line::default();
    for raw in capped(text).split(['\n', '\r', '\u{2028}', '\u{2029}', '\u{b}', '\u{c}']) {
        line.tokenise(raw);
        if !line.tokens.is_empty() {
            f(&line);
        }
    }
}

/// The line with every URL, path, e-mail address or query string blanked
/// out: runs of non-space ASCII holding `/`, `\\`, `=` or `@`. Error pages
/// echo the requested path, and pages carry session links; neither is
/// substance.
fn without_links(line: &str) -> Cow<'_, str> {
    const LINKISH: [char; 4] = ['/', '\\', '=', '@'];
    if !line.contains(LINKISH) {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len());
    let push_run = |out: &mut String, run: &str| {
        if run.contains(LINKISH) {
            out.push(' ');
        } else {
            out.push_str(run);
        }
    };
    let mut run_start = None;
    for (i, c) in line.char_indices() {
        if c.is_ascii_graphic() {
            run_start.get_or_insert(i);
        } else {
            if let Some(start) = run_start.take() {
                push_run(&mut out, line.get(start..i).unwrap_or_default());
            }
            out.push(c);
        }
    }
    if let Some(start) = run_start {
        push_run(&mut out, line.get(start..).unwrap_or_default());
    }
    Cow::Owned(out)
}

/// Words that change with the clock rather than with the story. A `match`,
/// which compiles to a length switch, because every word passes through here.
fn is_time_word(word: &str) -> bool {
    matches!(
        word,
        "january"
            | "february"
            | "march"
            | "april"
            | "may"
            | "june"
            | "july"
            | "august"
            | "september"
            | "october"
            | "november"
            | "december"
            | "jan"
            | "feb"
            | "mar"
            | "apr"
            | "jun"
            | "jul"
            | "aug"
            | "sep"
            | "sept"
            | "oct"
            | "nov"
            | "dec"
            | "monday"
            | "tuesday"
            | "wednesday"
            | "thursday"
            | "friday"
            | "saturday"
            | "sunday"
            | "mon"
            | "tue"
            | "tues"
            | "wed"
            | "thu"
            | "thur"
            | "thurs"
            | "fri"
            | "sat"
            | "sun"
            | "am"
            | "pm"
            | "ago"
            | "gmt"
            | "utc"
            | "est"
            | "edt"
            | "cst"
            | "cdt"
            | "pst"
            | "pdt"
            | "bst"
            | "cet"
            | "cest"
            | "hkt"
    )
}

/// Full-width ASCII (common in Chinese pages) as ASCII, the ideographic space
/// as a space.
fn fold_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// Words (runs of letters and digits) and unspaced-script characters in
/// `text`, counted as the tokeniser would find them: what a line weighs
/// ([`super::lines`]) and how long a notice is ([`super::soft404`]) both
/// start from these counts, on every line of every page a check reads.
pub(crate) fn count_tokens(text: &str) -> (u32, u32) {
    if text.is_ascii() {
        return (ascii_words(text.as_bytes()), 0);
    }
    let (mut words, mut chars, mut in_word) = (0u32, 0u32, false);
    for c in text.chars() {
        if is_unspaced_script(c) {
            chars += 1;
            in_word = false;
        } else if c.is_alphanumeric() {
            words += u32::from(!in_word);
            in_word = true;
        } else {
            in_word = false;
        }
    }
    (words, chars)
}

/// Words in ASCII: the letters or digits that follow anything else. Written
/// without branches over byte pairs, counted in byte-wide lanes (a block of at
/// most 255 pairs cannot overflow one), so that it compiles to vector code; a
/// byte at a time, this count was a tenth of reading a page.
fn ascii_words(bytes: &[u8]) -> u32 {
    #[inline(always)]
    fn alnum(b: u8) -> u8 {
        u8::from((b | 0x20).wrapping_sub(b'a') < 26) | u8::from(b.wrapping_sub(b'0') < 10)
    }
    let Some(&first) = bytes.first() else {
        return 0;
    };
    let (before, after) = (&bytes[..bytes.len() - 1], &bytes[1..]);
    let mut words = u32::from(alnum(first));
    for (before, after) in before.chunks(255).zip(after.chunks(255)) {
        let starts = before
            .iter()
            .zip(after)
            .fold(0u8, |n, (&p, &b)| n + (alnum(b) & (alnum(p) ^ 1)));
        words += u32::from(starts);
    }
    words
}

/// Scripts whose words are not separated by spaces: shingled by character.
/// Hangul is written with spaces and is left to the word path.
pub(crate) fn is_unspaced_script(c: char) -> bool {
    matches!(c,
        '\u{3005}'..='\u{3007}'          // 々 〆 〇
        | '\u{3040}'..='\u{30FF}'        // Hiragana, Katakana
        | '\u{31F0}'..='\u{31FF}'        // Katakana extensions
        | '\u{3400}'..='\u{4DBF}'        // CJK extension A
        | '\u{4E00}'..='\u{9FFF}'        // CJK unified ideographs
        | '\u{F900}'..='\u{FAFF}'        // CJK compatibility ideographs
        | '\u{20000}'..='\u{323AF}'      // CJK extensions B to H
        | '\u{0E00}'..='\u{0EFF}'        // Thai, Lao
        | '\u{1000}'..='\u{109F}'        // Myanmar
        | '\u{1780}'..='\u{17FF}'        // Khmer
    )
}

/// Calls `f` with the hash of every shingle of one line: n-grams over each run
/// of same-kind tokens, or the whole run when it is shorter than n.
fn for_each_shingle(line: &Line, mut f: impl FnMut(u64)) {
    for run in line.tokens.chunk_by(|a, b| a.kind == b.kind) {
        let Some(first) = run.first() else { continue };
        let n = match first.kind {
            Kind::Word => WORD_SHINGLE,
            Kind::Char => CHAR_SHINGLE,
        };
        if run.len() <= n {
            f(shingle_hash(first.kind, run));
        } else {
            for w in run.windows(n) {
                f(shingle_hash(first.kind, w));
            }
        }
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// Combines the tokens' hashes in order, the kind first. Built on
/// [`stable_hash`] and [`mix`]: stable across platforms, releases and runs
/// (the standard library's hashers promise none of that), which stored
/// fingerprints need.
fn shingle_hash(kind: Kind, tokens: &[Token]) -> u64 {
    let seed = match kind {
        Kind::Word => GOLDEN,
        Kind::Char => !GOLDEN,
    };
    tokens
        .iter()
        .fold(seed, |h, t| mix(h.rotate_left(17) ^ t.hash))
}

/// The same stable hash for any bytes, for callers that need a value that
/// looks random but is a pure function of its input.
pub(crate) fn stable_hash(bytes: &[u8]) -> u64 {
    mix(bytes.iter().fold(FNV_OFFSET, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(FNV_PRIME)
    }))
}

fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADLINE: &str =
        "Shanghai starts vaccinating priority groups with domestic coronavirus vaccine";

    const P: [&str; 8] = [
        "Shanghai has begun vaccinating key groups against the novel coronavirus, the city's \
         disease control centre said on Saturday, in one of the first large urban campaigns since \
         the vaccine received conditional approval. Officials said the programme would initially \
         cover customs officers, medical workers, transport staff and people who work in \
         cold-chain logistics, where imported infections have repeatedly been traced.",
        "The vaccine being used is an inactivated virus product developed by a state-owned \
         manufacturer. Each person receives two doses about three weeks apart, and recipients are \
         asked to remain at the clinic for half an hour after each injection so that staff can \
         watch for allergic reactions or other immediate side effects.",
        "Health officials stressed that taking part is voluntary and that people with fevers, \
         chronic illnesses that are not under control, or a history of severe allergies should \
         postpone their appointments. Employers in the priority sectors were told to collect the \
         names of willing staff and to arrange group visits to designated hospitals and community \
         health centres.",
        "The campaign follows a smaller emergency use programme that began in the summer, under \
         which hundreds of thousands of people travelling abroad for state business or working in \
         high risk settings were vaccinated. Officials said no serious adverse events had been \
         confirmed among those recipients, although independent researchers have asked for the \
         full data to be published.",
        "Experts in the city said the priority was to stop imported cases from spreading rather \
         than to reach herd immunity quickly. With very few local infections, they argued, the \
         country can afford to vaccinate in stages and watch the results closely, unlike places \
         where the virus is circulating widely and hospitals are under heavy pressure.",
        "Manufacturers have been expanding production lines around the country, and the industry \
         ministry said annual capacity could exceed one billion doses by next year. Some of that \
         output has been promised to developing countries in Asia, Africa and Latin America, part \
         of a diplomatic effort that critics describe as an attempt to repair the country's image \
         after the outbreak.",
        "Pricing remains unclear. Officials in several provinces have said the vaccine will \
         eventually be provided free of charge to the public, but the national health authority \
         has not announced a final policy, and the manufacturers have not said how much they will \
         charge the government for each dose.",
        "Residents interviewed outside a community clinic in the Xuhui district gave mixed \
         reactions. A delivery driver said he was glad to be offered protection because he \
         handles parcels from overseas every day, while a retired teacher said she would wait \
         until more information about side effects and effectiveness in older people had been \
         released.",
    ];

    const RELATED_A: [&str; 5] = [
        "Beijing tightens checks on imported frozen food after new cases",
        "Hong Kong extends social distancing rules into the new year",
        "Exporters warn of container shortage as shipping rates soar",
        "Opinion: what the vaccine race means for global health diplomacy",
        "Photos: the city's oldest lane houses get a makeover",
    ];

    const RELATED_B: [&str; 5] = [
        "Stock markets close the year at record highs despite pandemic",
        "New rules for ride-hailing platforms take effect next month",
        "Winter storm brings heavy snow to the northeast",
        "Explainer: how inactivated vaccines train the immune system",
        "Video: volunteers deliver meals to elderly residents in lockdown",
    ];

    /// An article page as extracted: headline, a timestamp line, body
    /// paragraphs, a related list and an ad line with a nonce.
    fn page(updated: &str, paragraphs: &[&str], related: &[&str], ad: &str) -> String {
        let mut s = format!("{HEADLINE}\n{updated}\n\n");
        for p in paragraphs {
            s.push_str(p);
            s.push_str("\n\n");
        }
        s.push_str("Related articles\n");
        for r in related {
            s.push_str(r);
            s.push('\n');
        }
        s.push_str(ad);
        s
    }

    fn cited() -> String {
        page(
            "Published: Saturday, December 26, 2020 10:31 AM | Updated 3 hours ago",
            &P,
            &RELATED_A,
            "Advertisement. Sponsored: luxury apartments for sale in the heart of the city. ref=a8f3e2c91b",
        )
    }

    fn sim(a: &str, b: &str) -> f64 {
        let (fa, fb) = (fingerprint(a), fingerprint(b));
        let s = similarity(&fa, &fb);
        eprintln!(
            "  estimate {s:.3}, exact {:.3}, simhash distance {}",
            exact(a, b),
            simhash_distance(&fa, &fb)
        );
        s
    }

    /// The weighted Jaccard similarity the sketch estimates.
    fn exact(a: &str, b: &str) -> f64 {
        let set = |t| {
            let mut set = std::collections::HashSet::new();
            for_each_weighted_shingle(t, |h, w| set.extend(copies(h, w)));
            set
        };
        let (a, b) = (set(a), set(b));
        let union = a.union(&b).count();
        if union == 0 {
            return 1.0;
        }
        a.intersection(&b).count() as f64 / union as f64
    }

    #[test]
    fn identical_text_is_identical() {
        let a = fingerprint(&cited());
        assert_eq!(similarity(&a, &a), 1.0);
        assert_eq!(simhash_distance(&a, &a), 0);
        assert_eq!(a, fingerprint(&cited()), "deterministic");
        assert_eq!(a.version, FINGERPRINT_VERSION);
        assert!(a.sketch.len() <= SKETCH_SIZE);
        assert!(a.sketch.windows(2).all(|w| w[0] < w[1]), "ascending");
    }

    #[test]
    fn normalising_drops_case_whitespace_digits_dates_and_nonces() {
        assert_eq!(
            normalise("  The   QUICK\tbrown fox, 2020-12-26 10:31:07 x1126910999 a8f3e2"),
            "the quick brown fox"
        );
        assert_eq!(
            normalise("Updated Monday, Dec 28 at 3pm GMT\n\nÉTÉ Straße"),
            "updated at\nété straße"
        );
        assert_eq!(
            normalise("新华社上海１２月２６日电（记者　张三）ＣＯＶＩＤ疫苗"),
            "新华社上海月日电记者张三 covid 疫苗"
        );
        assert_eq!(normalise("2020 12 26\n\n  \n"), "");
        assert_eq!(
            normalise(
                "The URL /news/2020/story.html?id=7 was not found (see https://x.cn/a).详见http://x.cn/b。"
            ),
            "the url was not found see 详见"
        );
    }

    #[test]
    fn churn_is_not_change() {
        let later = page(
            "Published: Saturday, December 26, 2020 10:31 AM | Updated: Monday, December 28, 2020 08:02 PM",
            &P,
            &RELATED_B,
            "Advertisement. Sponsored: learn a new language in ten minutes a day. ref=77c0d4e1f2",
        );
        let s = sim(&cited(), &later);
        eprintln!("churn similarity {s:.3}");
        assert!(s >= 0.9, "{s}");
        assert!(s >= CHANGED_BELOW);
    }

    #[test]
    fn rewrites_are_change() {
        let rephrased3 = "Taking part is voluntary, health officials stressed. Anyone with a \
             fever, an uncontrolled chronic illness or a record of severe allergic reactions has \
             been told to postpone. Companies in the priority industries must list employees who \
             want the vaccine and bring them in groups to designated hospitals.";
        let rephrased5 = "City experts argued that keeping imported infections from spreading \
             matters more than reaching herd immunity fast. Because local transmission is almost \
             nil, the country can vaccinate step by step and study the outcome, something places \
             with widespread outbreaks and overloaded hospitals cannot do.";
        let new7 = "On Monday the city health commission said the campaign had been paused in two \
             districts after a batch of doses was found to have been stored at the wrong \
             temperature. Those who received injections from the batch will be contacted and \
             offered a further dose, the commission said.";
        let new8 = "The commission did not say how many people were affected. Police said they had \
             detained three employees of a cold storage company on suspicion of falsifying \
             temperature records, and an investigation into the distribution chain is under way.";
        let rewritten = [P[0], P[1], rephrased3, P[3], rephrased5, P[5], new7, new8];
        let one_sentence = {
            let mut p = P;
            p[6] = "Pricing remains unclear. Officials in several provinces say the shots will be \
                free for everyone, but the national health authority has not announced a final \
                policy, and the manufacturers have not said how much they will charge the \
                government for each dose.";
            p
        };
        let one_paragraph = {
            let mut p = P;
            p[6] = new7;
            p
        };
        let half = sim(&cited(), &page("", &rewritten, &RELATED_A, ""));
        let sentence = sim(&cited(), &page("", &one_sentence, &RELATED_A, ""));
        let paragraph = sim(&cited(), &page("", &one_paragraph, &RELATED_A, ""));
        eprintln!(
            "one sentence {sentence:.3}, one paragraph {paragraph:.3}, half rewritten {half:.3}"
        );
        assert!(half < 0.7, "{half}");
        assert!(half < CHANGED_BELOW);
        assert!(paragraph < CHANGED_BELOW, "{paragraph}");
        assert!(sentence >= CHANGED_BELOW, "{sentence}");
    }

    #[test]
    fn unrelated_pages_share_nothing() {
        let other = "Club statement\nThe football club announced on Tuesday that its head coach \
             has left by mutual consent after a run of seven league games without a win. An \
             interim coach drawn from the academy staff will take charge of the first team for \
             the weekend fixture while the board looks for a permanent replacement.\n\n\
             Supporters groups welcomed the decision but called on the owners to invest in the \
             squad during the January transfer window, saying the problems went deeper than the \
             manager.";
        let s = sim(&cited(), other);
        eprintln!("unrelated similarity {s:.3}");
        assert!(s < 0.05, "{s}");
    }

    const ZH: [&str; 6] = [
        "新华社上海12月26日电 记者从上海市疾病预防控制中心获悉，上海已陆续启动新冠病毒疫苗接种工作。首批接种对象为海关、边检、冷链物流、交通运输等感染风险较高的重点人群。市疾控中心表示，接种工作将分阶段、有序推进。",
        "据介绍，此次使用的是国产新冠病毒灭活疫苗，需要接种两剂次，间隔时间为三至四周。接种后需在现场留观三十分钟，以便医务人员及时处置可能出现的不良反应。目前全市已设立数十个集中接种点。",
        "上海市卫生健康委员会有关负责人表示，接种遵循知情、同意、自愿的原则。发热、患急性疾病或慢性疾病急性发作期以及有严重过敏史的人员应暂缓接种。孕妇和哺乳期妇女暂不纳入此次接种范围。",
        "重点行业的用人单位负责组织本单位有意愿的人员，统一预约并前往指定的医院和社区卫生服务中心接种。接种点均配备了急救药品和设备，并安排专业人员值守。个人无需自行到医院排队。",
        "专家指出，在本土病例很少的情况下，优先为境外输入风险较高的人群接种，是阻断疫情传播链条的有效手段。这也为后续扩大接种范围积累经验。专家同时提醒，接种疫苗后仍需坚持戴口罩、勤洗手等防护措施。",
        "据了解，国内多家企业正在扩大疫苗产能，预计明年年产量可超过十亿剂。部分疫苗将提供给亚洲、非洲和拉丁美洲的发展中国家。关于疫苗价格，有关部门表示将另行公布。",
    ];

    fn zh_page(time: &str, paragraphs: &[&str], related: &[&str]) -> String {
        let mut s = format!("上海启动重点人群新冠疫苗接种\n{time}\n\n");
        for p in paragraphs {
            s.push_str(p);
            s.push_str("\n\n");
        }
        s.push_str("相关新闻\n");
        for r in related {
            s.push_str(r);
            s.push('\n');
        }
        s
    }

    #[test]
    fn chinese_sentence_edit_stays_high_and_rewrite_drops() {
        let cited = zh_page(
            "2020-12-26 10:31:07 来源：新华网",
            &ZH,
            &[
                "北京加强进口冷链食品检测",
                "香港延长社交距离措施",
                "多地开展冬季爱国卫生运动",
            ],
        );
        let mut edited = ZH;
        edited[3] = "重点行业的用人单位负责组织本单位有意愿的人员，统一预约并前往指定的医院和社区卫生服务中心接种。各接种点已备好抢救药品和器械，由医护人员全天候值守。个人无需自行到医院排队。";
        let churned = zh_page(
            "2020-12-28 08:02:45 来源：新华网",
            &edited,
            &[
                "全国铁路元旦假期运输启动",
                "冬季到来如何科学防疫",
                "多地开展冬季爱国卫生运动",
            ],
        );
        let churned_only = zh_page(
            "2020-12-28 08:02:45 来源：新华网",
            &ZH,
            &[
                "全国铁路元旦假期运输启动",
                "冬季到来如何科学防疫",
                "多地开展冬季爱国卫生运动",
            ],
        );
        let rewritten = [
            ZH[0],
            ZH[1],
            "市卫健委称，截至目前已有数万名重点人员完成第一剂接种，未发现严重不良反应。后续将根据疫苗供应情况逐步扩大接种人群。老年人和慢性病患者何时接种，将在进一步评估后确定。",
            "部分区已开设夜间接种门诊，方便倒班工作的冷链和口岸人员。市民可通过社区统一登记，不需要个人自行预约。浦东新区还在机场附近增设了临时接种点，每天可接种数千人。",
            "对于近期网传的疫苗收费标准，有关部门回应称相关政策尚未出台，请以官方发布的信息为准。有律师提醒，冒充卫生部门收取接种费用涉嫌诈骗，市民如遇此类情况应及时报警。",
            ZH[5],
        ];
        let rewritten = zh_page("2020-12-28 08:02:45 来源：新华网", &rewritten, &[]);
        let unrelated = "国足今晚迎战叙利亚\n\n中国男足将在世界杯预选赛中对阵叙利亚队，主教练表示球队已经做好充分准备，力争拿下关键三分。";
        let c = sim(&cited, &churned_only);
        assert!(c >= 0.9, "{c}");
        let (e, r, u) = (
            sim(&cited, &churned),
            sim(&cited, &rewritten),
            sim(&cited, unrelated),
        );
        eprintln!(
            "zh: churn {c:.3}, one sentence + churn {e:.3}, half rewritten {r:.3}, unrelated {u:.3}"
        );
        assert!(e >= CHANGED_BELOW, "{e}");
        assert!(r < 0.7, "{r}");
        assert!(u < 0.05, "{u}");
    }

    #[test]
    fn empty_and_mixed_texts() {
        let empty = fingerprint("");
        assert!(empty.is_empty());
        assert_eq!(empty.simhash, 0);
        assert_eq!(similarity(&empty, &fingerprint("2020-12-26")), 1.0);
        assert_eq!(similarity(&empty, &fingerprint(&cited())), 0.0);
        let mixed =
            "据路透社报道 Reuters reported that the talks ended without agreement 双方同意继续磋商";
        let f = fingerprint(mixed);
        assert!(!f.is_empty());
        assert!(similarity(&f, &fingerprint(&mixed.to_uppercase())) == 1.0);
        assert!(similarity(&f, &fingerprint("双方同意继续磋商")) < 0.5);
    }

    #[test]
    fn huge_text_is_capped() {
        let big = "word ".repeat(MAX_TEXT_BYTES / 5 + 1);
        let f = fingerprint(&big);
        assert_eq!(
            f.sketch.len(),
            usize::from(MAX_LINE_WEIGHT),
            "one repeated 4-gram on one long line: its copies only"
        );
        let more = format!(
            "{big}{}",
            " entirely different words past the cap".repeat(100)
        );
        assert_eq!(
            fingerprint(&more).sketch,
            f.sketch,
            "text past the cap is not read"
        );
    }

    /// Stored fingerprints are compared across releases, so the values of
    /// version [`FINGERPRINT_VERSION`] must not move: a change here without a
    /// version bump would make every stored baseline look rewritten. (Versions
    /// 3 to 6 fingerprint text as version 2 did; what text a page gives
    /// changed.)
    #[test]
    fn version_6_values_do_not_move() {
        let mixed = "上海启动重点人群新冠疫苗接种\n2020-12-26 10:31:07 来源：新华网\n\n\
            据了解，国内多家企业正在扩大疫苗产能，预计明年年产量可超过十亿剂。\
            部分疫苗将提供给亚洲、非洲和拉丁美洲的发展中国家。\n\n\
            ＡＢＣ full width Ｔｅｓｔ ÄÖÜ straße İstanbul http://x.y/z a@b.c café naïve ΣΊΣΥΦΟΣ\n";
        let page = String::from_utf8(crate::simweb::article_page(3, 7)).unwrap();
        for (text, simhash, shingles, sketch_hash) in [
            (
                mixed,
                0x0e78_3098_9313_6a0e_u64,
                73,
                0x7775_da9d_9eff_46fc_u64,
            ),
            (&page, 0x008e_4601_0ae2_d983, 3143, 0xd776_93ef_aad6_ada4),
        ] {
            let f = fingerprint(text);
            let sketch: Vec<u8> = f.sketch.iter().flat_map(|v| v.to_le_bytes()).collect();
            assert_eq!(
                (f.version, f.simhash, f.shingles, stable_hash(&sketch)),
                (6, simhash, shingles, sketch_hash)
            );
        }
    }

    #[test]
    fn serde_round_trip() {
        let f = fingerprint(&cited());
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(serde_json::from_str::<Fingerprint>(&json).unwrap(), f);
    }

    #[test]
    fn tokens_are_counted_alike_on_both_paths() {
        assert_eq!(count_tokens(""), (0, 0));
        assert_eq!(count_tokens("a"), (1, 0));
        assert_eq!(count_tokens("  The 2020 plan, re-drawn: 3 [x]  "), (7, 0));
        assert_eq!(
            count_tokens("A@Z`a{z/0:9"),
            (6, 0),
            "neighbours of the ranges"
        );
        // Non-ASCII takes the char path: ideographs one each, words as runs.
        assert_eq!(count_tokens("上海 vaccine 接种 plan"), (2, 4));
        assert_eq!(count_tokens("Café au lait"), (3, 0));
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(300))]
            #[test]
            fn any_text_fingerprints(s in "\\PC{0,400}", t in "\\PC{0,400}") {
                let (a, b) = (fingerprint(&s), fingerprint(&t));
                let x = similarity(&a, &b);
                prop_assert!((0.0..=1.0).contains(&x));
                prop_assert_eq!(similarity(&a, &a), 1.0);
                prop_assert!(simhash_distance(&a, &b) <= 64);
                let _ = normalise(&s);
            }

            #[test]
            fn any_sketch_compares(a in proptest::collection::vec(any::<u32>(), 0..300),
                                   b in proptest::collection::vec(any::<u32>(), 0..300)) {
                let f = |sketch| Fingerprint { version: 0, simhash: 0, shingles: 1, sketch };
                let x = similarity(&f(a), &f(b));
                prop_assert!((0.0..=1.0).contains(&x));
            }
        }
    }

    mod token_props {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(500))]
            /// The vector-friendly ASCII count equals a byte at a time.
            #[test]
            fn ascii_words_equal_the_plain_loop(bytes in proptest::collection::vec(0u8..128, 0..300)) {
                let (mut words, mut in_word) = (0u32, false);
                for &b in &bytes {
                    let alnum = b.is_ascii_alphanumeric();
                    words += u32::from(alnum && !in_word);
                    in_word = alnum;
                }
                prop_assert_eq!(ascii_words(&bytes), words);
            }
        }
    }
}
