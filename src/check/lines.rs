//! Which visible lines two pages share: a similarity cheap enough to settle
//! churn without computing a fingerprint of either page.
//!
//! Churn — a generation stamp, a rotating list of related articles, an ad with
//! a nonce — replaces whole short lines or only reorders them, while the
//! article's paragraphs come back byte for byte. So comparing the *sets* of
//! visible lines, weighted as [`fingerprint`](super::fingerprint) weighs them,
//! tells a churning page from a rewritten one for the cost of hashing its text
//! once, where a fingerprint costs tokenising it and hashing every shingle
//! several times (about ten times more, measured).
//!
//! The measure errs low: a line that differs in a single character counts as
//! wholly different, where shingles would still find most of it shared; short
//! lines are compared only as a group. It is therefore used in one direction
//! only: a page whose lines are at least the quick bar alike is unchanged
//! ([`super::analyze::drift`]); anything less goes on to the fingerprints.

use serde::{Deserialize, Serialize};

use super::fingerprint::{
    CHAR_SHINGLE, MAX_LINE_WEIGHT, WORD_SHINGLE, WORDS_PER_WEIGHT, count_tokens,
};

/// Bumped whenever line splitting, hashing or weighting changes, or the
/// glance's visible text the lines are cut from: sets of different versions
/// are not compared, and a stale one is recomputed.
///
/// 2: lines are hashed with XXH3.
/// 3: the visible text leaves out reader comments (see
/// `page::scan_markup`), and comment widgets known by their vendors' names:
/// a set taken with them, compared with one taken without, would make a
/// page with comments look rewritten.
pub const LINES_VERSION: u8 = 3;

/// Lines weighing less (about eight words or fewer: menu items, related
/// headlines, captions) are compared only as one group, which keeps a
/// stored set to the lines that carry the page, a few dozen on an article.
pub const MIN_OWN_WEIGHT: u32 = 12;

/// At most this many lines are kept one by one; lighter ones join the group.
pub const MAX_LINES: usize = 256;

/// The weight of a line of twenty words (or of thirty CJK characters): a
/// paragraph, where menus, headlines and captions weigh less.
pub const PARAGRAPH_WEIGHT: u32 = 68;

/// A page's visible lines, as stored with its reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineSet {
    /// [`LINES_VERSION`] when it was computed.
    pub version: u8,
    /// `[hash, weight]` of each distinct heavy line, ascending by hash (XXH3,
    /// 64 bits: that two of a page's few hundred lines share a hash has a
    /// chance of about one in 10^14).
    pub lines: Vec<(u64, u32)>,
    /// Total weight of the lighter lines.
    pub rest: u64,
    /// Order-free digest of the lighter lines (the sum of their hashes), so a
    /// reordered list of short lines is still the same group.
    pub rest_digest: u64,
}

/// The line set of a visible text (lines as [`super::page::glance_page`] cuts
/// them: one per block).
pub fn line_set(text: &str) -> LineSet {
    let mut lines: Vec<(u64, u32)> = Vec::new();
    let (mut rest, mut rest_digest) = (0u64, 0u64);
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let weight = weight(line);
        let hash = line_hash(line);
        if weight >= MIN_OWN_WEIGHT {
            lines.push((hash, weight));
        } else {
            rest += u64::from(weight);
            rest_digest = rest_digest.wrapping_add(hash);
        }
    }
    // A line repeated counts once, as in a set.
    lines.sort_unstable();
    lines.dedup_by_key(|(h, _)| *h);
    if lines.len() > MAX_LINES {
        lines.sort_unstable_by_key(|&(h, w)| (std::cmp::Reverse(w), h));
        for (h, w) in lines.drain(MAX_LINES..) {
            rest += u64::from(w);
            rest_digest = rest_digest.wrapping_add(h);
        }
        lines.sort_unstable();
    }
    LineSet {
        version: LINES_VERSION,
        lines,
        rest,
        rest_digest,
    }
}

/// Weighted Jaccard similarity of the two pages' lines (0..=1): the weight of
/// the lines both have over the weight of the lines either has, the lighter
/// lines counting as shared only when their whole group is the same. `None`
/// when neither page has a line, or the sets were made by different versions.
pub fn similarity(a: &LineSet, b: &LineSet) -> Option<f64> {
    if a.version != b.version {
        return None;
    }
    let (mut both, mut either) = (0u64, 0u64);
    let (mut i, mut j) = (0, 0);
    loop {
        match (a.lines.get(i), b.lines.get(j)) {
            (Some(&(x, wx)), Some(&(y, wy))) if x == y => {
                both += u64::from(wx.min(wy));
                either += u64::from(wx.max(wy));
                i += 1;
                j += 1;
            }
            (Some(&(x, wx)), Some(&(y, _))) if x < y => {
                either += u64::from(wx);
                i += 1;
            }
            (_, Some(&(_, wy))) => {
                either += u64::from(wy);
                j += 1;
            }
            (Some(&(_, wx)), None) => {
                either += u64::from(wx);
                i += 1;
            }
            (None, None) => break,
        }
    }
    if a.rest == b.rest && a.rest_digest == b.rest_digest {
        both += a.rest;
        either += a.rest;
    } else {
        either += a.rest + b.rest;
    }
    (either > 0).then(|| both as f64 / either as f64)
}

/// The weight of `page`'s lines weighing at least `min_weight` that `other`
/// does not have: what `page` says that `other` does not. `None` when the
/// sets were made by different versions.
///
/// Lines beyond [`MAX_LINES`] of either set were folded into its group and
/// are not compared one by one: `page`'s are not counted, and those of
/// `other`'s count as lacking. Either happens only on pages of hundreds of
/// heavy lines.
pub fn own_weight(page: &LineSet, other: &LineSet, min_weight: u32) -> Option<u64> {
    if page.version != other.version {
        return None;
    }
    let mut own = 0u64;
    let mut theirs = other.lines.iter().map(|&(h, _)| h).peekable();
    for &(hash, weight) in &page.lines {
        while theirs.next_if(|&h| h < hash).is_some() {}
        if theirs.peek() != Some(&hash) && weight >= min_weight {
            own += u64::from(weight);
        }
    }
    Some(own)
}

/// XXH3: a specified, stable 64-bit hash, an order of magnitude cheaper than
/// the SHA-256 it replaced (version 1), which was a twelfth of reading a page.
fn line_hash(line: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(line.as_bytes())
}

/// A line's weight as the fingerprint gives it: its shingles (word 4-grams,
/// CJK character 3-grams) times a factor growing with its length. Tokens are
/// counted on the raw line, digits and all; near enough for a weight.
fn weight(line: &str) -> u32 {
    let (words, chars) = count_tokens(line);
    let shingles = |n: u32, size: usize| match n {
        0 => 0,
        n => n.saturating_sub(size as u32 - 1).max(1),
    };
    let units = (2 * words + chars) as usize;
    let factor = (units / (2 * WORDS_PER_WEIGHT)).clamp(1, usize::from(MAX_LINE_WEIGHT)) as u32;
    (shingles(words, WORD_SHINGLE) + shingles(chars, CHAR_SHINGLE)) * factor
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fingerprint::{fingerprint, similarity as fp_similarity};

    const PARAGRAPHS: [&str; 4] = [
        "Shanghai has begun vaccinating key groups against the novel coronavirus, the city's disease control centre said on Saturday, in one of the first large urban campaigns since the vaccine received conditional approval.",
        "The vaccine being used is an inactivated virus product developed by a state-owned manufacturer, and each person receives two doses about three weeks apart at designated clinics across the city.",
        "Health officials stressed that taking part is voluntary and that people with fevers or chronic illnesses that are not under control should postpone their appointments until they have recovered.",
        "Experts in the city said the priority was to stop imported cases from spreading rather than to reach herd immunity quickly, since there are very few local infections at the moment.",
    ];

    const RELATED: [&str; 3] = [
        "Beijing tightens checks on imported frozen food",
        "Hong Kong extends social distancing rules",
        "Exporters warn of container shortage",
    ];

    fn page(paragraphs: &[&str], related: &[&str], stamp: &str) -> String {
        let mut lines = vec!["Shanghai starts vaccinating priority groups with domestic vaccine"];
        lines.extend_from_slice(paragraphs);
        lines.extend_from_slice(related);
        lines.push(stamp);
        lines.join("\n")
    }

    fn sim(a: &str, b: &str) -> f64 {
        similarity(&line_set(a), &line_set(b)).unwrap()
    }

    #[test]
    fn churn_is_near_identical() {
        let base = page(
            &PARAGRAPHS,
            &RELATED,
            "Page generated Sat, 26 Dec 2020 08:00:00 GMT",
        );
        let rotated = [RELATED[2], RELATED[0], RELATED[1]];
        let churned = page(
            &PARAGRAPHS,
            &rotated,
            "Page generated Sun, 29 Nov 2026 06:31:07 GMT · request 8f2a",
        );
        let s = sim(&base, &churned);
        assert!((0.95..1.0).contains(&s), "{s}");
        assert_eq!(sim(&base, &base), 1.0);
    }

    #[test]
    fn rewrites_are_far_below_and_never_above_the_fingerprint() {
        let base = page(&PARAGRAPHS, &RELATED, "");
        let one_sentence = PARAGRAPHS[0].replace("on Saturday", "on Sunday");
        let cases = [
            vec![
                one_sentence.as_str(),
                PARAGRAPHS[1],
                PARAGRAPHS[2],
                PARAGRAPHS[3],
            ],
            vec![PARAGRAPHS[0], PARAGRAPHS[1], PARAGRAPHS[2]],
            vec![PARAGRAPHS[3], PARAGRAPHS[2]],
        ];
        for paragraphs in &cases {
            let new = page(paragraphs, &RELATED, "");
            let lines = sim(&base, &new);
            let shingles = fp_similarity(&fingerprint(&base), &fingerprint(&new));
            assert!(lines < 0.95, "{lines}");
            // The sketch estimates within about 0.03 (two standard errors).
            assert!(
                lines <= shingles + 0.03,
                "lines {lines} > shingles {shingles}"
            );
        }
        assert!(sim(&base, &page(&[], &[], "Page not found")) < 0.05);
    }

    #[test]
    fn short_lines_count_as_a_group_and_long_pages_are_capped() {
        let a = page(&PARAGRAPHS, &RELATED, "");
        let b = page(&PARAGRAPHS, &RELATED[..2], "");
        let (sa, sb) = (line_set(&a), line_set(&b));
        assert_eq!(sa.lines, sb.lines, "related headlines are light lines");
        assert_ne!(sa.rest_digest, sb.rest_digest);
        let s = similarity(&sa, &sb).unwrap();
        assert!(s < 1.0 && s > 0.9, "{s}");

        let many: Vec<String> = (0..600)
            .map(|i| format!("{} number {i}", PARAGRAPHS[i % 4]))
            .collect();
        let set = line_set(&many.join("\n"));
        assert_eq!(set.lines.len(), MAX_LINES);
        assert!(set.lines.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(set.rest > 0);
    }

    #[test]
    fn a_paragraph_weighs_paragraph_weight_and_a_headline_less() {
        let words = |n: usize| vec!["word"; n].join(" ");
        assert_eq!(weight(&words(20)), PARAGRAPH_WEIGHT);
        assert!(weight(&words(19)) < PARAGRAPH_WEIGHT);
        assert!(weight(RELATED[0]) < PARAGRAPH_WEIGHT);
        assert!(weight(&"中".repeat(30)) >= PARAGRAPH_WEIGHT);
        assert!(weight(&"中".repeat(20)) < PARAGRAPH_WEIGHT);
    }

    #[test]
    fn own_weight_counts_the_heavy_lines_the_other_page_lacks() {
        let base = line_set(&page(&PARAGRAPHS, &RELATED, ""));
        let two = line_set(&page(&PARAGRAPHS[..2], &RELATED, ""));
        assert_eq!(own_weight(&base, &base, PARAGRAPH_WEIGHT), Some(0));
        let expected: u64 = PARAGRAPHS[2..].iter().map(|p| u64::from(weight(p))).sum();
        assert_eq!(own_weight(&base, &two, PARAGRAPH_WEIGHT), Some(expected));
        assert_eq!(own_weight(&two, &base, PARAGRAPH_WEIGHT), Some(0));
        // The headline (heavy enough to be kept, too light for a paragraph)
        // is not counted when the other page lacks it.
        let headline = "Shanghai starts vaccinating priority groups with a domestic vaccine, city officials say";
        let without = line_set(&PARAGRAPHS.join("\n"));
        let with_headline = line_set(&format!("{headline}\n{}", PARAGRAPHS.join("\n")));
        assert_eq!(with_headline.lines.len(), without.lines.len() + 1);
        assert_eq!(
            own_weight(&with_headline, &without, PARAGRAPH_WEIGHT),
            Some(0)
        );
        assert_eq!(
            own_weight(&with_headline, &without, MIN_OWN_WEIGHT),
            Some(u64::from(weight(headline)))
        );
        let other_version = LineSet {
            version: LINES_VERSION + 1,
            ..two
        };
        assert_eq!(own_weight(&base, &other_version, PARAGRAPH_WEIGHT), None);
    }

    #[test]
    fn chinese_lines_are_weighed_by_characters() {
        let line = "上海市疾病预防控制中心表示，新冠疫苗接种工作已在重点人群中有序展开，接种者需在现场留观半小时。";
        assert!(weight(line) >= MIN_OWN_WEIGHT, "{}", weight(line));
        assert!(weight("首页") < MIN_OWN_WEIGHT);
    }

    #[test]
    fn nothing_to_compare_and_other_versions_give_none() {
        assert_eq!(similarity(&line_set(""), &line_set("  \n ")), None);
        let a = line_set(PARAGRAPHS[0]);
        let b = LineSet {
            version: LINES_VERSION + 1,
            ..a.clone()
        };
        assert_eq!(similarity(&a, &b), None);
        let back: LineSet = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(back, a);
    }
}
