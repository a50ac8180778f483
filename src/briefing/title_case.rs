//! Whether a line ending in a full stop is written as a headline: in title
//! case, every word capitalised but the small ones. Only a line's words are
//! read here; where the line stands is for the item splitter to judge.

/// The words a headline in title case leaves in lower case.
const MINOR_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "across",
    "after",
    "against",
    "amid",
    "among",
    "an",
    "and",
    "around",
    "as",
    "at",
    "before",
    "behind",
    "below",
    "beneath",
    "beside",
    "between",
    "beyond",
    "but",
    "by",
    "despite",
    "down",
    "during",
    "for",
    "from",
    "in",
    "inside",
    "into",
    "near",
    "nor",
    "of",
    "off",
    "on",
    "onto",
    "or",
    "out",
    "outside",
    "over",
    "past",
    "per",
    "since",
    "so",
    "than",
    "the",
    "through",
    "throughout",
    "to",
    "toward",
    "towards",
    "under",
    "until",
    "up",
    "upon",
    "via",
    "vs",
    "with",
    "within",
    "without",
    "yet",
];

/// The fewest words of such a line: one of fewer, full stop and all, was
/// never read as body.
const MIN_WORDS: usize = 4;
/// The most: a headline is a line, not a paragraph.
const MAX_WORDS: usize = 20;

/// A line of 4 to 20 words in title case ending in one full stop
/// ("China Announces New Export Controls."), not opening a list. Its
/// first word and every word but the small ones start with a capital,
/// and at least three do: "The law takes effect in March." and "Beijing
/// has not commented." are sentences.
pub fn reads_as_title(text: &str) -> bool {
    let t = text.trim();
    let Some(words) = t.strip_suffix('.') else {
        return false;
    };
    if words.ends_with(['.', ' ']) || is_list_entry(words) {
        return false;
    }
    let mut count = 0;
    let mut capitals = 0;
    for (n, word) in words.split_whitespace().enumerate() {
        count += 1;
        if count > MAX_WORDS {
            return false;
        }
        let word = word.trim_matches(|c: char| !c.is_alphanumeric());
        let Some(first) = word.chars().next() else {
            continue;
        };
        if first.is_uppercase() {
            capitals += 1;
        } else if first.is_lowercase() && (n == 0 || !MINOR_WORDS.contains(&word)) {
            return false;
        }
    }
    count >= MIN_WORDS && capitals >= 3
}

/// A paragraph no headline could be: more than 20 words, or more than one
/// sentence. A stop after a word ending in three lower-case letters or
/// two digits, then a capital, ends a sentence; after an abbreviation
/// ("U.S. Report", "Mr. Li") it does not. A `。` with more after it ends
/// one too.
pub fn reads_as_paragraph(text: &str) -> bool {
    let t = text.trim();
    if t.split_whitespace().nth(MAX_WORDS).is_some() {
        return true;
    }
    if t.trim_end_matches('。').contains('。') {
        return true;
    }
    let mut words = t.split_whitespace().peekable();
    while let Some(word) = words.next() {
        let Some(next) = words.peek() else {
            break;
        };
        let word = word.trim_end_matches(['"', '\'', '”', '’', ')']);
        let Some(stem) = word.strip_suffix(['.', '!', '?']) else {
            continue;
        };
        let ends_with = |f: fn(&char) -> bool| stem.chars().rev().take_while(f).count();
        let capital_next = next
            .trim_start_matches(['"', '\'', '“', '‘', '('])
            .starts_with(char::is_uppercase);
        let ends_a_word = ends_with(char::is_ascii_lowercase) >= 3;
        let ends_a_number = ends_with(char::is_ascii_digit) >= 2;
        if (ends_a_word || ends_a_number) && capital_next {
            return true;
        }
    }
    false
}

/// A line opening with a list's mark: `- `, `• `, `1. `, `2) `.
fn is_list_entry(t: &str) -> bool {
    if t.starts_with(['-', '*', '•', '·', '–', '—', '>', '+']) {
        return true;
    }
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    (1..=3).contains(&digits)
        && t[digits..].starts_with(['.', ')'])
        && t[digits + 1..].starts_with(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headlines_in_title_case_read_as_titles_and_sentences_do_not() {
        for title in [
            "China Announces New Export Controls.",
            "Xinhua: UK Faces Major Challenges Even under the New Agreement with EU.",
            "LTN: Over 10 Million Chinese Emigrated in 2019.",
            "Internal Document: CCP Uses “Military-Civil Fusion” to Gain Access to Advanced Technology.",
            "China’s Provincial Authorities Set Standards for Overseas Technologies.",
        ] {
            assert!(reads_as_title(title), "{title}");
        }
        for line in [
            "China Announces New Export Controls",
            "China Announces New Export Controls...",
            "More to Come.",
            "The law takes effect in March.",
            "Beijing has not commented on the report.",
            "the Committee Passed the Law.",
            "1. Biotech Genomic Data and Medical Test Data.",
            "- Biotech Genomic Data and Medical Test Data.",
            "中国宣布新的出口管制措施，涉及多种关键技术和材料。",
            "A Title That Goes On and On Far Longer Than Any Headline Would Ever Go, \
             Word After Word After Word After Word.",
        ] {
            assert!(!reads_as_title(line), "{line}");
        }
    }

    #[test]
    fn paragraphs_are_long_or_of_several_sentences_and_headlines_are_not() {
        for paragraph in [
            "Xinhua reported that the committee passed the law. See https://a.example/1.",
            "The law passed! Officials said more would follow.",
            "Around 10.7 million Chinese emigrated in 2019. See https://a.example/1.",
            "One two three four five six seven eight nine ten eleven twelve thirteen \
             fourteen fifteen sixteen seventeen eighteen nineteen twenty twenty-one.",
            "委员会通过了法律。官员表示还会有更多。",
        ] {
            assert!(reads_as_paragraph(paragraph), "{paragraph}");
        }
        for line in [
            "China announces new export controls.",
            "U.S. Report to Congress on Human Trafficking in the Seafood Supply Chain",
            "Mr. Li Meets Dr. Wang in Beijing.",
            "Liberty Times reported that around 10.7 million Chinese emigrated in 2019.",
            "委员会通过了法律。",
        ] {
            assert!(!reads_as_paragraph(line), "{line}");
        }
    }
}
