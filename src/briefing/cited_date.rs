//! Reading the outlet and date out of a citation line such as
//! `Source: U.S. Department of Home Security, December 22, 2020`.
//!
//! The date is found at the end of the line; everything before it is the outlet,
//! which may itself hold commas and full stops ("U.S. Department …").

use std::borrow::Cow;
use std::sync::LazyLock;

use jiff::civil::Date;
use regex::Regex;

/// A weekday after a date, in Chinese (`星期六`, `（周六）`) or in English
/// in brackets (`(Saturday)`, `(Sat.)`): part of the date's end, as a
/// time after it is.
const WEEKDAY_AFTER: &str = r"(?: \s* [（(]? \s* (?:星期|礼拜|禮拜|周|週) [一二三四五六日天] \s* [）)]?
    | \s* [(（] \s* (?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?\.? \s* [)）] )?";

/// A time after a date (`08:15`, `, 08:15:30`), with the time zone a wire
/// story gives (`08:15 GMT`, `UTC+8`): a named zone only, so a word after
/// the time ("08:15 Shanghai") is no date's.
const TIME_AFTER: &str = r"(?: [,，]? \s+ \d{1,2} : \d{2} (?: : \d{2} )?
    (?: \s* (?:gmt|utc|bst|cet|cest|est|edt|cst|cdt|pst|pdt|jst|kst|hkt|sgt) (?: \s* [+-] \s* \d{1,2} (?: :? \d{2} )? )? )? )?";

/// What joins the first and last day of a Chinese range (`26日至27日`,
/// `26日到27日`, `26－27日`, with a full-width dash or tilde as a Chinese
/// input method types them).
const CN_TO: &str = r"(?:至|到|[-–—－~～])";

/// A date at the end of a citation. A range of days ("December 26-27,
/// 2020", "26–27 December 2020", `2020年12月26日至27日`) is read as its
/// first day, the day the source was first out: a citation dates what was
/// published, and the report or conference the range spans was out from
/// its first day, never before it. A month and year with no day ("December 2020")
/// is read as the month (`2020-12`): ISO 8601 writes a date known to the
/// month that way, and the first of the month would claim a day nobody cited.
///
/// A date starts at a word's start (an ASCII one, so that `新华网2020年…`
/// still has its date): inside `2020 – 2 January 2021` the pattern found
/// the "range" `20 – 2 January 2021`, a mistyped date.
///
/// A numeric date with the year last (`12/26/2020`, `26.12.2020`) is read
/// in the one order, month/day or day/month, that makes it a date (see
/// [`numeric_date`]).
///
/// A date in Chinese numerals (`二〇二〇年十二月二十六日`, `廿六日`,
/// `二十六号`) is read too (see [`chinese_date`]); it needs no word's start.
///
/// A month and day with no year (`December 26`, `26 Dec`, `12月26日`,
/// `十二月二十六日`), as a daily briefing cites the days just before it,
/// is matched too, a month by its own name only ("Decision 2" is no
/// date); it is read only in a document whose date is known (see
/// [`yearless_date`]).
///
/// A weekday after the date, Chinese (`2020年12月26日星期六`, `（周六）`)
/// or English in brackets (`(Saturday)`), and a time after that (`08:15
/// GMT`), are part of it (see [`WEEKDAY_AFTER`], [`TIME_AFTER`]); a comma
/// typed in full width (`December 26，2020`) is a comma.
static DATE_AT_END: LazyLock<Regex> = LazyLock::new(|| {
    let month = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?";
    // Without a day, only a month's own name or abbreviation: "Decision
    // 2020" is a title, not December.
    let month_name = r"\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?";
    let ord = r"(?:st|nd|rd|th)?";
    let to = r"\s*[-–—]\s*";
    let cn_to = CN_TO;
    // A comma typed in full width (`December 26，2020`) is a comma.
    let comma = r"(?:[,，]\s*|\s+)";
    let cn_digit = "〇零○一二三四五六七八九";
    let cn_count = format!("[{cn_digit}十廿卅]{{1,3}}");
    Regex::new(&format!(
        r"(?ix)
        [(（]? \s*
        (?: (?P<y8>[{cn_digit}]{{4}} | (?-u:\b)\d{{4}}) \s* 年 \s* (?P<m8>{cn_count}) \s* 月
          (?: \s* (?P<d8>{cn_count}) \s* [日号號]? (?: \s* {cn_to} \s* (?P<e8>{cn_count}) \s* )? [日号號] )?
        | (?-u:\b)
        (?: (?P<m1>{month}) \s+ (?P<d1>\d{{1,2}}){ord} (?:{to}(?P<e1>\d{{1,2}}){ord})? {comma} (?P<y1>\d{{4}})
          | (?P<d2>\d{{1,2}}){ord} (?:{to}(?P<e2>\d{{1,2}}){ord})? \s+ (?P<m2>{month}) {comma} (?P<y2>\d{{4}})
          | (?P<y3>\d{{4}}) [-/.] (?P<m3>\d{{1,2}}) [-/.] (?P<d3>\d{{1,2}})
          | (?P<a7>\d{{1,2}}) [-/.] (?P<b7>\d{{1,2}}) [-/.] (?P<y7>\d{{4}})
          | (?P<y4>\d{{4}}) \s* 年 \s* (?P<m4>\d{{1,2}}) \s* 月 \s* (?P<d4>\d{{1,2}}) \s* 日?
            (?: \s* {cn_to} \s* (?P<e4>\d{{1,2}}) \s* )? 日
          | (?P<m5>{month_name}) {comma} (?P<y5>\d{{4}})
          | (?P<y6>\d{{4}}) \s* 年 \s* (?P<m6>\d{{1,2}}) \s* 月
          | (?P<m9>{month_name}) \s+ (?P<d9>\d{{1,2}}){ord} (?:{to}(?P<e9>\d{{1,2}}){ord})?
          | (?P<d10>\d{{1,2}}){ord} (?:{to}(?P<e10>\d{{1,2}}){ord})? \s+ (?P<m10>{month_name})
          | (?P<m11>\d{{1,2}}) \s* 月 \s* (?P<d11>\d{{1,2}}) \s* 日?
            (?: \s* {cn_to} \s* (?P<e11>\d{{1,2}}) \s* )? 日
        )
        | (?P<m12>{cn_count}) \s* 月 \s* (?P<d12>{cn_count}) \s* [日号號]?
          (?: \s* {cn_to} \s* (?P<e12>{cn_count}) \s* )? [日号號]
        )
        {WEEKDAY_AFTER}
        {TIME_AFTER}
        \s* [)）]? \s* [.。]? \s* $"
    ))
    .expect("date pattern compiles")
});

/// A weekday written between the outlet and its date ("Xinhua, Saturday,
/// December 26, 2020"): part of the date, not of the outlet's name. Only
/// after a comma, so "The Sun" keeps its name.
static WEEKDAY_AT_END: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)[,，]\s*(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?\.?\s*[,，]?\s*$",
    )
    .expect("weekday pattern compiles")
});

/// `text` with its full-width digits (`２０２０年１２月２６日`, as a Chinese
/// input method types them) as ASCII ones: the date pattern starts a date
/// at an ASCII word's start and its numbers are read as ASCII, so such a
/// date was left in the outlet. An outlet's own full-width digits read as
/// ASCII too, which names it no less.
fn ascii_digits(text: &str) -> Cow<'_, str> {
    let wide = |c: char| ('０'..='９').contains(&c);
    if !text.contains(wide) {
        return Cow::Borrowed(text);
    }
    text.chars()
        .map(|c| match c {
            '０'..='９' => char::from_digit(c as u32 - '０' as u32, 10).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Month number from an English month name or abbreviation.
fn month_number(name: &str) -> Option<i8> {
    let key = name.trim_end_matches('.').to_ascii_lowercase();
    let months = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let n = months.iter().position(|m| key.starts_with(m))?;
    Some(n as i8 + 1)
}

fn iso(year: &str, month: i8, day: &str) -> Option<String> {
    let date = jiff::civil::Date::new(year.parse().ok()?, month, day.parse().ok()?).ok()?;
    Some(date.to_string())
}

/// The first day of a range, when the range is one: its last day is a
/// later day of the same month ("December 26-40, 2020" is a mistyped date).
fn first_of_range(year: &str, month: i8, first: &str, last: Option<&str>) -> Option<String> {
    let date = iso(year, month, first)?;
    match last {
        None => Some(date),
        Some(last) => {
            let later = last.parse::<u8>().ok()? > first.parse::<u8>().ok()?;
            (later && iso(year, month, last).is_some()).then_some(date)
        }
    }
}

/// How a numeric date with the year last reads.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Numeric {
    /// One date, ISO: the only order that makes it one (`12/26/2020`,
    /// `26/12/2020`), or both orders giving the same (`04/04/2020`).
    Date(String),
    /// Two dates, month/day and day/month (`03/04/2020`). The US writes
    /// month first, most of the world day first, and nothing in a briefing
    /// says which its editor meant: guessed, it would be a month off.
    Ambiguous,
    /// No date either way (`02/30/2020`, `13/13/2020`).
    Unreadable,
}

/// `first/second/year` read as month/day and as day/month: a number over
/// 12 can only be the day, and so forces the order.
fn numeric_date(first: &str, second: &str, year: &str) -> Numeric {
    let as_month = |m: &str| m.parse::<i8>().ok();
    let month_day = as_month(first).and_then(|m| iso(year, m, second));
    let day_month = as_month(second).and_then(|m| iso(year, m, first));
    match (month_day, day_month) {
        (Some(a), Some(b)) if a != b => Numeric::Ambiguous,
        (Some(date), _) | (None, Some(date)) => Numeric::Date(date),
        (None, None) => Numeric::Unreadable,
    }
}

/// A numeric date ending `text` that reads two ways, as written, and where
/// it starts: named as ambiguous, not read, and no part of the outlet.
fn ambiguous_at_end(text: &str) -> Option<(usize, String)> {
    let c = DATE_AT_END.captures(text)?;
    let (a, b, y) = (c.name("a7")?, c.name("b7")?, c.name("y7")?);
    (numeric_date(a.as_str(), b.as_str(), y.as_str()) == Numeric::Ambiguous).then(|| {
        (
            c.get(0).map_or(a.start(), |m| m.start()),
            text[a.start()..y.end()].to_string(),
        )
    })
}

/// The value of a Chinese digit: `〇` (or `零`, or the `○` often typed for
/// it) to `九`.
fn chinese_digit(c: char) -> Option<u8> {
    let n = match c {
        '〇' | '零' | '○' => 0,
        '一' => 1,
        '二' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    };
    Some(n)
}

/// A year in Chinese numerals, written digit by digit (`二〇二〇`).
fn chinese_digits(text: &str) -> Option<i16> {
    if text.is_empty() {
        return None;
    }
    text.chars().try_fold(0i16, |n, c| {
        n.checked_mul(10)?.checked_add(i16::from(chinese_digit(c)?))
    })
}

/// A month or day in Chinese numerals: one digit (`五`), or tens (`十`,
/// `二十`, or `廿` = 20, `卅` = 30) then at most one digit that is not zero
/// (`十二`, `二十六`, `廿六`). Anything else (`十〇`, `一二`) is no count a
/// date writes, and is not guessed at. The count may be no month or day
/// (`十三`): the date is checked after.
fn chinese_count(text: &str) -> Option<i8> {
    let chars: Vec<char> = text.chars().collect();
    let (tens, units) = match chars.as_slice() {
        [one] if chinese_digit(*one).is_some() => return chinese_digit(*one).map(|n| n as i8),
        ['十', units @ ..] => (1, units),
        ['廿', units @ ..] => (2, units),
        ['卅', units @ ..] => (3, units),
        [tens, '十', units @ ..] => (chinese_digit(*tens).filter(|&n| n > 0)?, units),
        _ => return None,
    };
    let units = match units {
        [] => 0,
        [one] => chinese_digit(*one).filter(|&n| n > 0)?,
        _ => return None,
    };
    Some((tens * 10 + units) as i8)
}

/// A date in Chinese numerals (`二〇二〇年十二月二十六日`), ISO; to the
/// month when it gives no day, and the first day of a range of days
/// (`二十六日至二十七日`, see [`first_of_range`]). The year may be in
/// Arabic digits (`2020年十二月二十六日`): each part still reads one way
/// only.
fn chinese_date(year: &str, month: &str, day: Option<&str>, last: Option<&str>) -> Option<String> {
    let year = chinese_digits(year).or_else(|| year.parse().ok())?;
    let month = chinese_count(month)?;
    let count = |n: &str| chinese_count(n).map(|n| n.to_string());
    match (day, last) {
        (Some(day), None) => first_of_range(&year.to_string(), month, &count(day)?, None),
        (Some(day), Some(last)) => {
            first_of_range(&year.to_string(), month, &count(day)?, Some(&count(last)?))
        }
        (None, _) => iso_month(&year.to_string(), month),
    }
}

/// `YYYY-MM`, for a date given to the month only.
fn iso_month(year: &str, month: i8) -> Option<String> {
    let date = jiff::civil::Date::new(year.parse().ok()?, month, 1).ok()?;
    Some(date.strftime("%Y-%m").to_string())
}

/// Something shaped like a date after the last comma but one of a citation
/// ("…, Decembr 40, 2020", "…, 2020-13-45", a year of one key too many or
/// too few), or like a Chinese date at its end (`二〇二〇年十三月`,
/// `2020年13月26日`): a date the editor meant and mistyped, which is not part
/// of the outlet's name.
///
/// A weekday or a time after it, as after a good date ("…, December 32,
/// 2020 08:15", "…, 2020-13-45 (Monday)", `（周六）`), is no part of it: the
/// date was left unnamed in the outlet.
static DATE_SHAPED_END: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?ix)
        (?: [,，] \s* (?P<tail>
            [a-z]{{3,}}\.? \s+ \d{{1,2}}(?:st|nd|rd|th)? (?:\s*[-–—]\s*\d{{1,2}}(?:st|nd|rd|th)?)? (?:[,，]\s*|\s+) \d{{2,6}}
          | \d{{1,2}}(?:st|nd|rd|th)? (?:\s*[-–—]\s*\d{{1,2}}(?:st|nd|rd|th)?)? \s+ [a-z]{{3,}}\.? (?:[,，]\s*|\s+) \d{{2,6}}
          | \d{{4}} [-/.] \d{{1,2}} [-/.] \d{{1,2}}
          | \d{{1,2}} [-/.] \d{{1,2}} [-/.] \d{{2,4}}
        )
        # `年…月…日`, in digits or Chinese numerals, after anything: its
        # shape is a date's, whatever comes before it.
        | (?P<cn> [\d〇零○一二三四五六七八九十廿卅]{{2,6}} \s* 年 \s* [\d〇零○一二三四五六七八九十廿卅]{{1,4}} \s* 月
          (?: \s* [\d〇零○一二三四五六七八九十廿卅]{{1,4}} \s* [日号號]?
            (?: \s* {CN_TO} \s* [\d〇零○一二三四五六七八九十廿卅]{{1,4}} \s* )? [日号號] )? )
        )
        {WEEKDAY_AFTER}
        {TIME_AFTER}
        \s* [.。]? \s* $",
    ))
    .expect("date-shaped pattern compiles")
});

/// The start of a date-shaped tail (see [`DATE_SHAPED_END`]) and its date
/// as written, without a weekday or time after it; asked only of text
/// whose end [`date_at_end`] could not read.
fn date_shaped_end(text: &str) -> Option<(usize, String)> {
    let c = DATE_SHAPED_END.captures(text)?;
    let whole = c.get(0)?;
    let written = c.name("tail").or(c.name("cn"))?.as_str();
    // A month and year that reads, but only as a title's words
    // (`出口下降2020年12月`), is no mistyped date; nor is a good date with
    // a weekday after it that the date pattern does not take.
    let good = is_date_line_as(written, Words::Citation, None);
    (!good).then(|| (whole.start(), written.trim().to_string()))
}

/// A whole date in a file name (`briefings-2020-12-28.txt`, `2020_12_28.md`,
/// `briefing_20201228.html`): the date of a daily briefing, which its
/// citations of a month and day alone are read against (see
/// [`super::parse_dated`]). Of several, the last: a briefing of a week
/// (`2020-12-28_to_2021-01-03.md`) cites days up to its end, and read
/// against its first day, its later days would fall a year back. A run of
/// digits longer than a date (a timestamp, a serial number) holds none, nor
/// does a year outside 1900–2100.
pub fn document_date(file_name: &str) -> Option<Date> {
    DOCUMENT_DATE
        .captures_iter(file_name)
        .filter_map(|c| {
            let (y, m, d) = match (c.name("y"), c.name("m"), c.name("d")) {
                // One separator throughout: `2020-12_28` is no date written.
                (Some(y), Some(m), Some(d)) => {
                    (c.name("s1")?.as_str() == c.name("s2")?.as_str()).then_some((y, m, d))?
                }
                _ => (c.name("y2")?, c.name("m2")?, c.name("d2")?),
            };
            // The pattern cannot look past its match, so a digit next to
            // it is looked for here: `120201228` holds no date.
            let digit_at = |i: usize| file_name[i..].starts_with(|c: char| c.is_ascii_digit());
            let before = file_name[..y.start()].ends_with(|c: char| c.is_ascii_digit());
            if before || digit_at(d.end()) {
                return None;
            }
            let year: i16 = y.as_str().parse().ok()?;
            (1900..=2100).contains(&year).then_some(())?;
            Date::new(year, m.as_str().parse().ok()?, d.as_str().parse().ok()?).ok()
        })
        .last()
}

/// A date in a file name: `YYYY-MM-DD` or `YYYY_MM_DD`, or `YYYYMMDD`.
static DOCUMENT_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?P<y>\d{4})(?P<s1>[-_])(?P<m>\d{2})(?P<s2>[-_])(?P<d>\d{2})|(?P<y2>\d{4})(?P<m2>\d{2})(?P<d2>\d{2})",
    )
    .expect("pattern compiles")
});

/// A citation's outlet and date, read from text such as `Xinhua, December 26,
/// 2020`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutletDate {
    /// The outlet, when the text names one.
    pub outlet: Option<String>,
    /// The ISO date (`YYYY-MM-DD`, or `YYYY-MM` for a month), when one can be read.
    pub date: Option<String>,
    /// A date given but unreadable ("Decembr 40, 2020"), as written.
    pub unread: Option<String>,
    /// Whether `unread` is a numeric date that reads two ways
    /// (`03/04/2020`: March 4 or 3 April), rather than no way at all.
    pub ambiguous: bool,
}

/// What the words being read are known to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Words {
    /// A citation's, after a `Source:` label: a month and year at their end
    /// is the date however it is set off ("Xinhua December 2020").
    Citation,
    /// A short line that may be a title as well: a month and year is a date
    /// only set apart ("Xinhua, December 2020"), since "Exports Fell in
    /// December 2020" is a title.
    MaybeTitle,
}

/// Reads outlet and date: a line with no date is all outlet; a line that is
/// only a date has no outlet; a mistyped date is no part of the outlet.
pub fn read_outlet_date(text: &str, dated: Option<Date>) -> OutletDate {
    read_words(text, Words::MaybeTitle, dated)
}

/// Reads outlet and date as [`read_outlet_date`] does, from `words` known
/// to be what they are.
pub fn read_words(text: &str, words: Words, dated: Option<Date>) -> OutletDate {
    let text = ascii_digits(text);
    let text = text.trim();
    let text = text[..update_note(text, dated).map_or(text.len(), |(start, _)| start)].trim();
    let read = read_dated(text, words, dated);
    if read.date.is_some() || read.unread.is_some() {
        return read;
    }
    // A note after the date, "(in Chinese)", is neither date nor outlet.
    let Some(note) = NOTE_AT_END.find(text) else {
        return read;
    };
    let again = read_dated(text[..note.start()].trim(), words, dated);
    if again.date.is_some() || again.unread.is_some() {
        again
    } else {
        read
    }
}

/// A bracketed note with no digit ending a citation: "(in Chinese)",
/// "[English]", "（中文）". After a date, it hid the date, which was left
/// in the outlet.
static NOTE_AT_END: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\s*[(（\[【][^()（）\[\]【】\d]{1,40}[)）\]】]\s*[.。]?\s*$")
        .expect("note pattern compiles")
});

/// [`read_words`] of `text` as it ends, a date or none.
fn read_dated(text: &str, words: Words, dated: Option<Date>) -> OutletDate {
    let (outlet, date, unread, ambiguous) = match cited_date_at_end(text, words, dated) {
        Some((start, date)) => (&text[..start], Some(date), None, false),
        None => match ambiguous_at_end(text) {
            Some((start, written)) => (&text[..start], None, Some(written), true),
            None => match date_shaped_end(text) {
                Some((start, written)) => (&text[..start], None, Some(written), false),
                None => (text, None, None, false),
            },
        },
    };
    let outlet = match (date.is_some() || ambiguous, WEEKDAY_AT_END.find(outlet)) {
        (true, Some(weekday)) => &outlet[..weekday.start()],
        _ => outlet,
    };
    let outlet = outlet
        .trim()
        .trim_end_matches([',', '，', ';', '/', '|', '-', '–', '—', ':'])
        .trim();
    // The bracket a whole citation was written in (`URL (Xinhua, December
    // 26, 2020)`), whose closer went with the date: "(Xinhua" is no outlet.
    let outlet = match outlet.strip_prefix(['(', '（']) {
        Some(inner) if !inner.contains([')', '）']) => inner.trim(),
        _ => outlet,
    };
    OutletDate {
        outlet: (!outlet.is_empty()).then(|| outlet.to_string()),
        date,
        unread,
        ambiguous,
    }
}

/// The date a citation ends with, and where it starts: of a range across
/// months or years ("December 30, 2020 - January 2, 2021"), its first date,
/// as of a range of days. Read as the last, it left the first in the outlet.
fn cited_date_at_end(text: &str, words: Words, dated: Option<Date>) -> Option<(usize, String)> {
    let (start, last) = date_at_end(text, words, dated)?;
    match range_start(&text[..start], words, dated) {
        // ISO dates of four-digit years sort as they fall.
        Some((from, first)) if first < last => Some((from, first)),
        _ => Some((start, last)),
    }
}

/// The date `before` ends with when a dash (or `至`, `到`, a full-width
/// dash or tilde: `2020年12月30日至2021年1月2日`) then joins it to the date
/// after it (one dash only: "Xinhua – December 26, 2020" names no range).
fn range_start(before: &str, words: Words, dated: Option<Date>) -> Option<(usize, String)> {
    let rest = before
        .trim_end()
        .strip_suffix(['-', '–', '—', '至', '到', '－', '~', '～'])?;
    date_at_end(rest.trim_end(), words, dated)
}

/// The ISO date at the end of `text`, and where it starts.
fn date_at_end(text: &str, words: Words, dated: Option<Date>) -> Option<(usize, String)> {
    let c = DATE_AT_END.captures(text)?;
    let get = |n: &str| c.name(n).map(|m| m.as_str());
    let date = if let Some(yearless) = yearless_date(&c) {
        let (month, first, last) = yearless?;
        let whole = c.get(0)?;
        // The year is the document's, so a year written just before the
        // month (`二〇二〇年12月26日`, `2020 December 26`) is none the
        // reader knows: read as the document's, it would be a guess.
        let year_before = text[..whole.start()]
            .trim_end()
            .ends_with(|c: char| c.is_ascii_digit() || c == '年' || chinese_digit(c).is_some());
        if year_before || !(words == Words::Citation || set_apart(text, &c)) {
            return None;
        }
        let year = year_of(dated?, month, first)?;
        let (first, last) = (first.to_string(), last.map(|d| d.to_string()));
        first_of_range(&year.to_string(), month, &first, last.as_deref())
    } else if let (Some(m), Some(d), Some(y)) = (get("m1"), get("d1"), get("y1")) {
        first_of_range(y, month_number(m)?, d, get("e1"))
    } else if let (Some(d), Some(m), Some(y)) = (get("d2"), get("m2"), get("y2")) {
        first_of_range(y, month_number(m)?, d, get("e2"))
    } else if let (Some(m), Some(y)) = (get("m5"), get("y5")) {
        iso_month(y, month_number(m)?).filter(|_| words == Words::Citation || set_apart(text, &c))
    } else if let (Some(y), Some(m)) = (get("y8"), get("m8")) {
        chinese_date(y, m, get("d8"), get("e8"))
            .filter(|_| get("d8").is_some() || words == Words::Citation || set_apart(text, &c))
    } else if let (Some(y), Some(m)) = (get("y6"), get("m6")) {
        iso_month(y, m.parse().ok()?).filter(|_| words == Words::Citation || set_apart(text, &c))
    } else if let (Some(y), Some(m), Some(d)) = (get("y3"), get("m3"), get("d3")) {
        iso(y, m.parse().ok()?, d)
    } else if let (Some(a), Some(b), Some(y)) = (get("a7"), get("b7"), get("y7")) {
        match numeric_date(a, b, y) {
            Numeric::Date(date) => Some(date),
            Numeric::Ambiguous | Numeric::Unreadable => None,
        }
    } else if let (Some(y), Some(m), Some(d)) = (get("y4"), get("m4"), get("d4")) {
        first_of_range(y, m.parse().ok()?, d, get("e4"))
    } else {
        None
    }?;
    Some((c.get(0)?.start(), date))
}

/// A month, its first day, and the last day of a range.
type MonthDay = (i8, i8, Option<i8>);

/// The month and day of a date matched without a year (see
/// [`DATE_AT_END`]); `Some(None)` when it was matched so but names no
/// month or day (`十三月`).
fn yearless_date(c: &regex::Captures) -> Option<Option<MonthDay>> {
    let get = |n: &str| c.name(n).map(|m| m.as_str());
    let number = |n: &str| n.parse::<i8>().ok();
    let read = if let (Some(m), Some(d)) = (get("m9"), get("d9")) {
        (month_number(m), number(d), get("e9").map(number))
    } else if let (Some(d), Some(m)) = (get("d10"), get("m10")) {
        (month_number(m), number(d), get("e10").map(number))
    } else if let (Some(m), Some(d)) = (get("m11"), get("d11")) {
        (number(m), number(d), get("e11").map(number))
    } else if let (Some(m), Some(d)) = (get("m12"), get("d12")) {
        (
            chinese_count(m),
            chinese_count(d),
            get("e12").map(chinese_count),
        )
    } else {
        return None;
    };
    Some(match read {
        (Some(m), Some(d), None) => Some((m, d, None)),
        (Some(m), Some(d), Some(Some(e))) => Some((m, d, Some(e))),
        _ => None,
    })
}

/// The year a month and day with no year fall in, cited in a document of
/// the date `dated`: its year, or the year before when that day comes
/// after the document's (a briefing of January 3, 2021 citing "December
/// 30" cites the December just gone). A day that is no day in that year
/// (February 29 of 2021, February 30) is no date.
fn year_of(dated: Date, month: i8, day: i8) -> Option<i16> {
    let year = if (month, day) > (dated.month(), dated.day()) {
        dated.year().checked_sub(1)?
    } else {
        dated.year()
    };
    Date::new(year, month, day).ok().map(|_| year)
}

/// A month and year without a day is a date only as a citation's own,
/// set apart from the outlet: "Exports Fell in December 2020" is a title,
/// not an outlet and a date.
fn set_apart(text: &str, c: &regex::Captures) -> bool {
    let Some(whole) = c.get(0) else {
        return false;
    };
    let before = text[..whole.start()].trim_end();
    before.is_empty()
        || before.ends_with([
            ',', '，', '、', ';', '；', '/', '|', '-', '–', '—', ':', '：', '(',
        ])
        || whole.as_str().starts_with('(')
}

/// A note of when the page was last changed, at the end of a citation or
/// on a line of its own: "(Updated December 28, 2020)", "Updated: 28 Dec
/// 2020", "; last modified December 28, 2020 10:15". Its date is not the
/// cited date; read as one, the citation's own date became part of the
/// outlet, and a note line was taken for another outlet citing the URL.
static UPDATE_NOTE_AT_END: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        (?: ^ | [\s,，;；.|–—-] ) [\s,，;；.|–—-]*
        [(\[（]? \s* (?: last \s+ )? (?: updated | modified | revised ) (?: \s+ on )? \s* [:：]? \s*
        (?P<when> [^()\[\]（）]*? )
        \s* [)\]）]? \s* [.。]? \s* $",
    )
    .expect("update note pattern compiles")
});

/// Where an update note ending `text` starts, and whether it gives a date;
/// a note whose words after "Updated" are no date ("Updated Daily, …") is
/// none.
fn update_note(text: &str, dated: Option<Date>) -> Option<(usize, bool)> {
    let c = UPDATE_NOTE_AT_END.captures(text)?;
    let when = c.name("when").map_or("", |m| m.as_str().trim());
    let has_date = is_date_line(when, dated);
    (when.is_empty() || has_date).then(|| (c.get(0).map_or(0, |m| m.start()), has_date))
}

/// True when the whole of `text` is an update note with its date: a line
/// that is only "Updated" or "Revised" may be a title.
pub fn is_update_note(text: &str, dated: Option<Date>) -> bool {
    update_note(text.trim(), dated) == Some((0, true))
}

/// True when the whole of `text` is a date ("December 26, 2020").
pub fn is_date_line(text: &str, dated: Option<Date>) -> bool {
    is_date_line_as(text, Words::MaybeTitle, dated)
}

/// True when the whole of `text` is a date, read as `words`.
fn is_date_line_as(text: &str, words: Words, dated: Option<Date>) -> bool {
    let text = ascii_digits(text);
    let text = text.as_ref();
    cited_date_at_end(text, words, dated).is_some_and(|(start, _)| text[..start].trim().is_empty())
}

/// A short line that is exactly an outlet then its date, the date set apart
/// by a comma, a slash, a dash or a bracket as a citation sets it apart
/// (`Xinhua, December 26, 2020`, `新华网，2020年12月26日`, `Global Times
/// (December 26, 2020)`): the line an HTML item may give under its heading
/// instead of an outlet line and a date line. The date is read, or named as
/// a `Source:` line names it.
///
/// A line of prose that ends in a date is none: with no mark setting the
/// date apart ("takes effect on January 1, 2021"), or with a word before
/// it in lower case of four letters or more ("Vaccinations began across
/// the city, December 26, 2020"), which a name does not hold but in a
/// domain (`xinhuanet.com`).
pub fn read_outlet_date_line(text: &str, dated: Option<Date>) -> Option<OutletDate> {
    const MAX_OUTLET_CHARS: usize = 60;
    let read = read_outlet_date(text, dated);
    let outlet = read.outlet.as_deref()?;
    if read.date.is_none() && read.unread.is_none()
        || outlet.chars().count() > MAX_OUTLET_CHARS
        || outlet.contains([':', '：'])
    {
        return None;
    }
    let prose = outlet.split_whitespace().any(|word| {
        let word = word.trim_matches(|c: char| !c.is_alphanumeric());
        word.len() >= 4 && word.chars().all(|c| c.is_ascii_lowercase())
    });
    // What follows the outlet as read: the outlet is the line's start, less
    // the bracket a whole citation may be written in.
    let line = ascii_digits(text);
    let line = line.trim();
    let rest = line.strip_prefix(outlet).or_else(|| {
        line.strip_prefix(['(', '（'])
            .and_then(|l| l.trim_start().strip_prefix(outlet))
    })?;
    let set_apart = rest.trim_start().starts_with([
        ',', '，', '、', ';', '；', '/', '|', '-', '–', '—', '(', '（',
    ]);
    (set_apart && !prose).then_some(read)
}

/// A line that is only a date the reader cannot read, named as a citation
/// line names it (`unread`, `ambiguous`): mistyped ("December 32, 2020",
/// "2020-13-45") or numeric both ways ("03/04/2020"). An outlet and date
/// line under a headline read only the dates it could read, and dropped
/// these unnamed. Its word, if any, names a month: "Apollo 11, 1969" is a
/// title.
pub fn read_unread_date_line(text: &str) -> Option<OutletDate> {
    // After a comma, as after an outlet, where a mistyped date is looked for.
    let read = read_outlet_date(&format!(", {}", text.trim()), None);
    let written = read.unread.as_deref()?;
    let month_named = written
        .split(|c: char| !c.is_ascii_alphabetic())
        .find(|w| w.len() >= 3)
        .is_none_or(|w| month_number(w).is_some());
    (read.outlet.is_none() && read.date.is_none() && month_named).then_some(read)
}

/// Splits `Xinhua, December 26, 2020` into outlet and ISO date (see
/// [`read_outlet_date`]).
pub fn split_outlet_date(text: &str, dated: Option<Date>) -> (Option<String>, Option<String>) {
    let OutletDate { outlet, date, .. } = read_outlet_date(text, dated);
    (outlet, date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> (Option<&str>, Option<&str>) {
        let (o, d) = split_outlet_date(s, None);
        (
            o.map(|o| &*Box::leak(o.into_boxed_str())),
            d.map(|d| &*Box::leak(d.into_boxed_str())),
        )
    }

    #[test]
    fn a_mistyped_date_is_named_and_kept_out_of_the_outlet() {
        for (line, written) in [
            ("Fourth Outlet, Decembr 40, 2020", "Decembr 40, 2020"),
            ("Xinhua, December 32, 2020.", "December 32, 2020"),
            ("People's Daily, 2020-13-45", "2020-13-45"),
            ("Global Times, 40 Dec 2020", "40 Dec 2020"),
            ("Reuters, December 3, 99999", "December 3, 99999"),
            ("AP, 3 December 202", "3 December 202"),
        ] {
            let (outlet, date) = split_outlet_date(line, None);
            assert_eq!(
                outlet.as_deref(),
                Some(line.split(',').next().unwrap()),
                "{line}"
            );
            assert_eq!(date, None, "{line}");
            assert_eq!(
                read_outlet_date(line, None).unread.as_deref(),
                Some(written),
                "{line}"
            );
        }
        // A good date, or none at all, is nothing to report.
        for line in [
            "Xinhua, December 26, 2020",
            "Xinhua",
            "Radio Free Asia, Cantonese Service",
        ] {
            assert_eq!(read_outlet_date(line, None).unread, None, "{line}");
        }
    }

    /// A mistyped date followed by a time or a weekday, as a good date may
    /// be, was no date-shaped end: it went unnamed, left in the outlet,
    /// while an ambiguous date with a time was named.
    #[test]
    fn a_mistyped_date_with_a_time_or_a_weekday_is_named() {
        for (line, outlet, written) in [
            // A time.
            (
                "Xinhua, December 32, 2020 08:15",
                "Xinhua",
                "December 32, 2020",
            ),
            (
                "People's Daily, 2020-13-45, 08:15:30",
                "People's Daily",
                "2020-13-45",
            ),
            // A weekday.
            (
                "People's Daily, 2020-13-45 (Monday)",
                "People's Daily",
                "2020-13-45",
            ),
            ("新华网，2020年13月26日星期六", "新华网", "2020年13月26日"),
            // Both.
            (
                "Xinhua, December 32, 2020 (Monday) 08:15",
                "Xinhua",
                "December 32, 2020",
            ),
            (
                "新华网，2020年13月26日（周六） 08:15",
                "新华网",
                "2020年13月26日",
            ),
        ] {
            let read = read_outlet_date(line, None);
            assert_eq!(
                (read.outlet.as_deref(), read.date, read.unread.as_deref()),
                (Some(outlet), None, Some(written)),
                "{line}"
            );
            assert!(!read.ambiguous, "{line}");
        }
        // Good dates so followed are read as before.
        for line in [
            "Xinhua, December 26, 2020 08:15",
            "People's Daily, 2020-12-26 (Saturday)",
            "新华网，2020年12月26日（周六） 08:15",
        ] {
            let read = read_outlet_date(line, None);
            assert_eq!(
                (read.date.as_deref(), read.unread),
                (Some("2020-12-26"), None),
                "{line}"
            );
        }
        // One the date pattern does not take whole is not named as mistyped.
        let line = "Xinhua, December 26, 2020 (Saturday) 08:15";
        assert_eq!(read_outlet_date(line, None).unread, None);
    }

    fn date(y: i16, m: i8, d: i8) -> Date {
        Date::new(y, m, d).unwrap()
    }

    #[test]
    fn a_file_name_gives_the_documents_date() {
        for (name, want) in [
            ("briefings-2020-12-28.txt", Some(date(2020, 12, 28))),
            ("2020-12-28.md", Some(date(2020, 12, 28))),
            ("briefing_20201228.html", Some(date(2020, 12, 28))),
            ("2020_12_28 briefing.txt", Some(date(2020, 12, 28))),
            // Of a week's, its last day.
            ("2020-12-28_to_2021-01-03.md", Some(date(2021, 1, 3))),
            // No date, or none that is one.
            ("briefings-244.txt", None),
            ("briefings.txt", None),
            ("", None),
            ("2020-13-28.txt", None),
            ("2021-02-29.txt", None),
            ("20201232.txt", None),
            ("2020-12_28.txt", None),
            ("1820-12-28.txt", None),
            ("3020-12-28.txt", None),
            // A run of digits longer than a date is a number, not a date.
            ("1609113600.txt", None),
            ("120201228.txt", None),
            ("202012281.txt", None),
            ("2020-12-281.txt", None),
            // Two digits of a year alone are not read as one.
            ("20-12-28.txt", None),
            ("日报2020-12-28.txt", Some(date(2020, 12, 28))),
        ] {
            assert_eq!(document_date(name), want, "{name}");
        }
    }

    fn dated_read(line: &str, on: Option<Date>) -> (Option<String>, Option<String>) {
        let read = read_words(line, Words::Citation, on);
        (read.outlet, read.date)
    }

    fn owned(outlet: &str, date: Option<&str>) -> (Option<String>, Option<String>) {
        (Some(outlet.to_string()), date.map(str::to_string))
    }

    #[test]
    fn a_date_without_a_year_is_read_in_the_documents_year() {
        let on = Some(date(2020, 12, 28));
        for (line, outlet, want) in [
            ("Xinhua, December 26", "Xinhua", "2020-12-26"),
            ("Xinhua, Dec. 26", "Xinhua", "2020-12-26"),
            ("Xinhua December 26", "Xinhua", "2020-12-26"),
            ("Xinhua, 26 December", "Xinhua", "2020-12-26"),
            ("Xinhua, December 26th.", "Xinhua", "2020-12-26"),
            ("Xinhua, Saturday, December 26", "Xinhua", "2020-12-26"),
            ("Xinhua, December 26 08:15", "Xinhua", "2020-12-26"),
            ("新华网，12月26日", "新华网", "2020-12-26"),
            ("新华网 １２月２６日", "新华网", "2020-12-26"),
            ("新华网，十二月二十六日", "新华网", "2020-12-26"),
            // The document's own day is its year's.
            ("Xinhua, December 28", "Xinhua", "2020-12-28"),
            // A range is its first day, as with a year.
            ("Xinhua, December 26-27", "Xinhua", "2020-12-26"),
            ("新华网，12月26日至27日", "新华网", "2020-12-26"),
        ] {
            assert_eq!(dated_read(line, on), owned(outlet, Some(want)), "{line}");
        }
        // A year written is the year: the document's date changes nothing.
        assert_eq!(
            dated_read("Xinhua, December 26, 2019", on),
            owned("Xinhua", Some("2019-12-26"))
        );
        assert_eq!(
            dated_read("新华网，2019年12月26日", on),
            owned("新华网", Some("2019-12-26"))
        );
    }

    #[test]
    fn a_day_after_the_documents_is_in_the_year_before() {
        let on = Some(date(2021, 1, 3));
        for (line, want) in [
            ("Xinhua, December 30", "2020-12-30"),
            ("Xinhua, January 2", "2021-01-02"),
            ("Xinhua, January 3", "2021-01-03"),
            ("Xinhua, January 4", "2020-01-04"),
            ("新华网，12月30日", "2020-12-30"),
            // A range across the new year is its first day.
            ("Xinhua, December 30 - January 2", "2020-12-30"),
            // February 29 of 2020, the year before's, is a day.
            ("Xinhua, February 29", "2020-02-29"),
        ] {
            let outlet = line.split([',', '，']).next().unwrap();
            assert_eq!(dated_read(line, on), owned(outlet, Some(want)), "{line}");
        }
    }

    #[test]
    fn an_impossible_day_or_no_documents_date_leaves_it_unread() {
        // As read before: no date, and the words left in the outlet.
        let unread = |line: &str| owned(line, None);
        let on = Some(date(2021, 3, 1));
        for line in [
            "Xinhua, February 30",
            // In the document's year, 2021, there is no February 29.
            "Xinhua, February 29",
            "Xinhua, December 32",
            "Xinhua, December 27-26",
            "新华网，13月26日",
        ] {
            assert_eq!(dated_read(line, on), unread(line), "{line}");
            assert_eq!(read_words(line, Words::Citation, on).unread, None, "{line}");
        }
        for line in ["Xinhua, December 26", "新华网，12月26日", "Xinhua, 26 Dec"] {
            assert_eq!(dated_read(line, None), unread(line), "{line}");
            assert!(!is_date_line(
                &line[line.find([',', '，']).unwrap() + 3..],
                None
            ));
        }
    }

    #[test]
    fn a_date_without_a_year_is_read_only_where_a_date_is_meant() {
        let on = Some(date(2020, 12, 28));
        // A title's words, not set apart from the rest.
        assert_eq!(
            read_outlet_date("Exports Fell on December 26", on).date,
            None
        );
        assert!(!is_date_line("Exports Fell on December 26", on));
        // Set apart, or the whole line.
        assert!(is_date_line("December 26", on));
        assert!(is_date_line("12月26日", on));
        assert_eq!(
            read_outlet_date_line("Xinhua, December 26", on).and_then(|r| r.date),
            Some("2020-12-26".into())
        );
        // Only a month's own name: "Decision 2" is none.
        assert_eq!(dated_read("Xinhua, Decision 2", on).1, None);
        // A year written before the month is no year the reader knows.
        assert_eq!(dated_read("Xinhua 2019 December 26", on).1, None);
        assert_eq!(dated_read("新华网二〇一九年12月26日", on).1, None);
        // An update note without a year is the note's, not the citation's.
        assert_eq!(
            dated_read("Xinhua, December 26 (Updated December 27)", on),
            owned("Xinhua", Some("2020-12-26"))
        );
    }

    #[test]
    fn seed_forms() {
        assert_eq!(
            split("Xinhua, December 26, 2020"),
            (Some("Xinhua"), Some("2020-12-26"))
        );
        assert_eq!(
            split("U.S. Department of Home Security, December 22, 2020"),
            (Some("U.S. Department of Home Security"), Some("2020-12-22"))
        );
    }

    #[test]
    fn other_date_forms() {
        assert_eq!(
            split("RFA, Dec. 3, 2021"),
            (Some("RFA"), Some("2021-12-03"))
        );
        assert_eq!(
            split("BBC, 3 September 2021"),
            (Some("BBC"), Some("2021-09-03"))
        );
        assert_eq!(
            split("Sina / 2021-09-03"),
            (Some("Sina"), Some("2021-09-03"))
        );
        assert_eq!(
            split("人民日报，2021年9月3日"),
            (Some("人民日报"), Some("2021-09-03"))
        );
        assert_eq!(split("December 26, 2020"), (None, Some("2020-12-26")));
    }

    #[test]
    fn a_weekday_a_time_brackets_or_a_missing_space_are_part_of_the_date() {
        for (line, outlet, date) in [
            (
                "Xinhua, Saturday, December 26, 2020",
                Some("Xinhua"),
                "2020-12-26",
            ),
            ("Xinhua, Sat., Dec. 26, 2020", Some("Xinhua"), "2020-12-26"),
            ("Xinhua, December 26,2020", Some("Xinhua"), "2020-12-26"),
            ("Xinhua (December 26, 2020)", Some("Xinhua"), "2020-12-26"),
            ("Xinhua, (26 December 2020).", Some("Xinhua"), "2020-12-26"),
            (
                "Xinhua, December 26, 2020 08:15",
                Some("Xinhua"),
                "2020-12-26",
            ),
            (
                "Xinhua, December 26, 2020, 08:15:30",
                Some("Xinhua"),
                "2020-12-26",
            ),
            ("新华网，2020年12月26日 08:15", Some("新华网"), "2020-12-26"),
            ("Sina / 2021-09-03 10:02", Some("Sina"), "2021-09-03"),
            // A name that ends like a weekday, after no comma, keeps it.
            ("The Sun, December 26, 2020", Some("The Sun"), "2020-12-26"),
            (
                "Radio Free Asia, Cantonese Service, December 26, 2020",
                Some("Radio Free Asia, Cantonese Service"),
                "2020-12-26",
            ),
        ] {
            assert_eq!(split(line), (outlet, Some(date)), "{line}");
            assert_eq!(read_outlet_date(line, None).unread, None, "{line}");
        }
        // With no date, a weekday-like word is the outlet's own.
        assert_eq!(
            split("Daily News, Sunday"),
            (Some("Daily News, Sunday"), None)
        );
    }

    /// Dates typed with a Chinese input method: a weekday after the date
    /// (`2020年12月26日星期六`, `（周六）`), full-width commas or digits.
    /// None was read: the date was left in the outlet, which became an
    /// outlet of its own in reports, and the citation undated.
    #[test]
    fn a_date_typed_in_full_width_or_with_a_chinese_weekday_is_read() {
        for (line, outlet, date) in [
            ("BBC, 2020年12月26日星期六", "BBC", "2020-12-26"),
            ("新华网，2020年12月26日（星期六）", "新华网", "2020-12-26"),
            ("新华网，2020年12月26日 周六 08:15", "新华网", "2020-12-26"),
            ("联合报，2020-12-26 (週六)", "联合报", "2020-12-26"),
            ("Xinhua， December 26， 2020", "Xinhua", "2020-12-26"),
            ("Xinhua，December 26，2020。", "Xinhua", "2020-12-26"),
            ("Xinhua, ２０２０年１２月２６日", "Xinhua", "2020-12-26"),
            ("人民日报，２０２０年１２月", "人民日报", "2020-12"),
            ("Xinhua, December ２６, ２０２０", "Xinhua", "2020-12-26"),
        ] {
            assert_eq!(split(line), (Some(outlet), Some(date)), "{line}");
            assert_eq!(read_outlet_date(line, None).unread, None, "{line}");
        }
        // A mistyped one is still named, without its full-width comma.
        assert_eq!(
            read_outlet_date("Xinhua， Decembr 40， 2020", None)
                .unread
                .as_deref(),
            Some("Decembr 40， 2020")
        );
    }

    /// A note after the date ("(in Chinese)", "[English]") hid the date,
    /// which was left in the outlet; a citation written in brackets after
    /// its URL (`URL (Xinhua, December 26, 2020)`) kept the bracket in the
    /// outlet, "(Xinhua", an outlet of its own in reports.
    #[test]
    fn a_note_after_the_date_or_brackets_around_the_citation_are_no_outlet() {
        for (line, outlet, date) in [
            (
                "Xinhua, December 26, 2020 (in Chinese)",
                "Xinhua",
                "2020-12-26",
            ),
            ("Xinhua, Dec 26, 2020 [English].", "Xinhua", "2020-12-26"),
            ("新华网，2020年12月26日（中文）", "新华网", "2020-12-26"),
            ("(Xinhua, December 26, 2020)", "Xinhua", "2020-12-26"),
            ("（新华网，2020年12月26日）", "新华网", "2020-12-26"),
            // Brackets of the outlet's own stay.
            (
                "Xinhua (Chinese), December 26, 2020",
                "Xinhua (Chinese)",
                "2020-12-26",
            ),
            (
                "(RFA) Radio Free Asia, December 26, 2020",
                "(RFA) Radio Free Asia",
                "2020-12-26",
            ),
        ] {
            assert_eq!(split(line), (Some(outlet), Some(date)), "{line}");
        }
        // Without a date before it, a bracket is the outlet's.
        assert_eq!(
            split("Radio Free Asia (Mandarin)"),
            (Some("Radio Free Asia (Mandarin)"), None)
        );
        assert_eq!(
            read_outlet_date("Xinhua, Decembr 40, 2020 (in Chinese)", None)
                .unread
                .as_deref(),
            Some("Decembr 40, 2020")
        );
    }

    #[test]
    fn impossible_or_missing_dates_leave_no_date() {
        // The impossible date is named by sync (`unread_date`), not folded
        // into the outlet, where it made an outlet of its own in reports.
        assert_eq!(split("Xinhua, February 30, 2020"), (Some("Xinhua"), None));
        assert_eq!(split("Xinhua"), (Some("Xinhua"), None));
        assert_eq!(split("Xinhua,"), (Some("Xinhua"), None));
        assert_eq!(split(""), (None, None));
    }

    /// "December 2020" and "December 26-27, 2020" were no dates: each was
    /// left in the outlet, which became an outlet of its own in reports.
    #[test]
    fn a_month_and_year_is_the_month_and_a_range_its_first_day() {
        for (line, outlet, date) in [
            ("Xinhua, December 2020", Some("Xinhua"), "2020-12"),
            ("Xinhua, Dec. 2020", Some("Xinhua"), "2020-12"),
            ("Xinhua (September 2021).", Some("Xinhua"), "2021-09"),
            ("新华网，2020年12月", Some("新华网"), "2020-12"),
            ("December 2020", None, "2020-12"),
            ("Xinhua, December 26-27, 2020", Some("Xinhua"), "2020-12-26"),
            ("Xinhua, Dec. 26 – 27, 2020", Some("Xinhua"), "2020-12-26"),
            ("Xinhua, 26–27 December 2020", Some("Xinhua"), "2020-12-26"),
            (
                "Xinhua, December 30th-31st, 2020",
                Some("Xinhua"),
                "2020-12-30",
            ),
        ] {
            assert_eq!(split(line), (outlet, Some(date)), "{line}");
            assert_eq!(read_outlet_date(line, None).unread, None, "{line}");
        }
        assert!(is_date_line("December 2020", None));
        // A month and year inside a title, or a word that merely starts
        // like a month, is no date.
        for line in ["Exports Fell in December 2020", "Decision 2020"] {
            assert_eq!(split(line), (Some(line), None), "{line}");
        }
        // A range that ends before it starts, or past the month's end, is
        // a mistyped date.
        for (line, written) in [
            ("Xinhua, December 26-40, 2020", "December 26-40, 2020"),
            ("Xinhua, December 27-26, 2020", "December 27-26, 2020"),
        ] {
            assert_eq!(split(line), (Some("Xinhua"), None), "{line}");
            assert_eq!(
                read_outlet_date(line, None).unread.as_deref(),
                Some(written)
            );
        }
    }

    /// The date of an update note was read as the cited date, and the
    /// cited one left in the outlet.
    #[test]
    fn an_update_note_is_not_the_cited_date() {
        for line in [
            "Xinhua, December 26, 2020 (Updated December 28, 2020)",
            "Xinhua, December 26, 2020; last updated: December 28, 2020 10:15",
            "Xinhua, December 26, 2020. Updated: 28 Dec 2020.",
            "Xinhua, December 26, 2020 [updated]",
        ] {
            assert_eq!(split(line), (Some("Xinhua"), Some("2020-12-26")), "{line}");
        }
        assert_eq!(
            split("Updated Daily, December 26, 2020"),
            (Some("Updated Daily"), Some("2020-12-26"))
        );
        for note in [
            "(Updated December 28, 2020)",
            "Updated: December 28, 2020",
            "Last modified on 2020-12-28 10:15",
        ] {
            assert!(is_update_note(note, None), "{note}");
        }
        for line in [
            "Updated guidance on vaccines",
            "Xinhua, December 28, 2020",
            "Revised",
        ] {
            assert!(!is_update_note(line, None), "{line}");
        }
    }

    /// Numeric dates were named as unreadable: `12/26/2020` is month,
    /// day and year, `26/12/2020` day, month and year, each order forced by
    /// a number over 12. One that reads both ways (`03/04/2020`) is named
    /// as ambiguous: nothing in a briefing says which convention it keeps.
    #[test]
    fn a_numeric_date_is_read_in_the_one_order_it_can_have() {
        for (line, date) in [
            ("Reuters, 2020-12-26", "2020-12-26"),
            ("Reuters, 2020/12/26", "2020-12-26"),
            ("Reuters, 2020/1/5", "2020-01-05"),
            ("Reuters, 12/26/2020", "2020-12-26"),
            ("Reuters, 26/12/2020", "2020-12-26"),
            ("Reuters, 12-26-2020", "2020-12-26"),
            ("Reuters, 26.12.2020", "2020-12-26"),
            ("Reuters, 1/13/2021", "2021-01-13"),
            ("Reuters, 13/1/2021", "2021-01-13"),
            // The same either way is no ambiguity.
            ("Reuters, 04/04/2020", "2020-04-04"),
            ("Reuters, 12/26/2020 08:15", "2020-12-26"),
            ("Reuters (12/26/2020)", "2020-12-26"),
        ] {
            let read = read_words(line, Words::Citation, None);
            assert_eq!(
                (read.outlet.as_deref(), read.date.as_deref()),
                (Some("Reuters"), Some(date)),
                "{line}"
            );
            assert_eq!((read.unread, read.ambiguous), (None, false), "{line}");
        }
        assert!(is_date_line("12/26/2020", None));
        // Two readings: named as ambiguous, undated, the outlet clean.
        for (line, written) in [
            ("Reuters, 03/04/2020", "03/04/2020"),
            ("Reuters, 3/4/2020.", "3/4/2020"),
            ("Reuters, 12/11/2020 08:15", "12/11/2020"),
            ("Reuters, 03.04.2020", "03.04.2020"),
        ] {
            let read = read_words(line, Words::Citation, None);
            assert_eq!(
                (read.outlet.as_deref(), read.date.as_deref()),
                (Some("Reuters"), None),
                "{line}"
            );
            assert_eq!(read.unread.as_deref(), Some(written), "{line}");
            assert!(read.ambiguous, "{line}");
        }
        // No reading at all: unreadable, as before, and not ambiguous.
        for (line, written) in [
            ("Reuters, 02/30/2020", "02/30/2020"),
            ("Reuters, 30/02/2020", "30/02/2020"),
            ("Reuters, 13/13/2020", "13/13/2020"),
            ("Reuters, 00/12/2020", "00/12/2020"),
            ("Reuters, 2020-13-45", "2020-13-45"),
        ] {
            let read = read_words(line, Words::Citation, None);
            assert_eq!(
                (read.outlet.as_deref(), read.date.as_deref()),
                (Some("Reuters"), None),
                "{line}"
            );
            assert_eq!(read.unread.as_deref(), Some(written), "{line}");
            assert!(!read.ambiguous, "{line}");
        }
    }

    #[test]
    fn chinese_numerals_count_as_written() {
        for (year, n) in [("二〇二〇", 2020), ("二零二一", 2021), ("二○二○", 2020)] {
            assert_eq!(chinese_digits(year), Some(n), "{year}");
        }
        for year in ["", "二十", "二〇二〇年", "2020"] {
            assert_eq!(chinese_digits(year), None, "{year}");
        }
        for (count, n) in [
            ("一", 1),
            ("九", 9),
            ("十", 10),
            ("十二", 12),
            ("十三", 13),
            ("二十", 20),
            ("二十六", 26),
            ("廿", 20),
            ("廿六", 26),
            ("三十", 30),
            ("卅", 30),
            ("卅一", 31),
            ("三十二", 32),
        ] {
            assert_eq!(chinese_count(count), Some(n), "{count}");
        }
        // Not a count as dates write one: no guess is made.
        for count in [
            "",
            "十〇",
            "二十零",
            "十十",
            "廿十",
            "一二",
            "二〇二〇",
            "12",
        ] {
            assert_eq!(chinese_count(count), None, "{count}");
        }
    }

    /// A date in Chinese numerals (`二〇二〇年十二月二十六日`) was neither
    /// read nor named: it was left in the outlet, and one that is no date
    /// (`十三月`) went unnoticed, as `2020年13月26日` did.
    #[test]
    fn a_date_in_chinese_numerals_is_read_and_a_wrong_one_named() {
        for (line, outlet, date) in [
            ("新华社，二〇二〇年十二月二十六日", "新华社", "2020-12-26"),
            ("新华社，二零二零年十二月廿六日", "新华社", "2020-12-26"),
            ("新华社 二○二○年十二月廿六日", "新华社", "2020-12-26"),
            ("新华社二〇二一年一月五日", "新华社", "2021-01-05"),
            ("新华社，二〇二〇年十二月十日。", "新华社", "2020-12-10"),
            (
                "人民日报，二〇二〇年十二月三十一日（星期四）",
                "人民日报",
                "2020-12-31",
            ),
            ("人民日报，二〇二〇年十二月卅一日", "人民日报", "2020-12-31"),
            (
                "人民日报，二〇二〇年十二月二十六号",
                "人民日报",
                "2020-12-26",
            ),
            ("人民日报，二〇二〇年十二月", "人民日报", "2020-12"),
            ("Xinhua, 二〇二〇年十二月二十六日", "Xinhua", "2020-12-26"),
        ] {
            let read = read_words(line, Words::Citation, None);
            assert_eq!(
                (read.outlet.as_deref(), read.date.as_deref()),
                (Some(outlet), Some(date)),
                "{line}"
            );
            assert_eq!(read.unread, None, "{line}");
        }
        assert!(is_date_line("二〇二〇年十二月二十六日", None));
        // A month and year in a title's words is neither date nor mistyped.
        for line in ["出口下降2020年12月", "出口下降二〇二〇年十二月"] {
            let read = read_outlet_date(line, None);
            assert_eq!(
                (read.outlet.as_deref(), read.date, read.unread),
                (Some(line), None, None),
                "{line}"
            );
        }
        for (line, written) in [
            (
                "新华社，二〇二〇年十三月二十六日",
                "二〇二〇年十三月二十六日",
            ),
            ("新华社，二〇二〇年十三月", "二〇二〇年十三月"),
            ("新华社，二〇二一年二月三十日", "二〇二一年二月三十日"),
            (
                "新华社，二〇二〇年十二月三十二日",
                "二〇二〇年十二月三十二日",
            ),
            ("新华社，二〇二〇年十〇月五日", "二〇二〇年十〇月五日"),
            ("新华社二〇二〇年〇月五日", "二〇二〇年〇月五日"),
            ("新华社，2020年13月26日", "2020年13月26日"),
        ] {
            let read = read_words(line, Words::Citation, None);
            assert_eq!(
                (read.outlet.as_deref(), read.date.as_deref()),
                (Some("新华社"), None),
                "{line}"
            );
            assert_eq!(read.unread.as_deref(), Some(written), "{line}");
        }
    }

    /// A weekday in English in brackets then a time after a good date
    /// (`December 26, 2020 (Saturday) 08:15`) was no date's end: the whole
    /// was left in the outlet, while either alone was read.
    #[test]
    fn an_english_weekday_in_brackets_then_a_time_is_part_of_the_date() {
        for line in [
            "Xinhua, December 26, 2020 (Saturday) 08:15",
            "Xinhua, 26 December 2020 (Sat.) 08:15 GMT",
            "Xinhua, Dec. 26, 2020 (Sat) 08:15:30 UTC",
            "Xinhua, December 26, 2020 （Saturday） 08:15",
            "Xinhua, 2020-12-26 (Saturday), 08:15",
            "Xinhua, December 26, 2020 08:15 GMT",
            "Xinhua, December 26, 2020 (Saturday) 08:15 GMT+8",
        ] {
            let read = read_words(line, Words::Citation, None);
            assert_eq!(
                (read.outlet.as_deref(), read.date.as_deref(), read.unread),
                (Some("Xinhua"), Some("2020-12-26"), None),
                "{line}"
            );
        }
        // A mistyped date so followed is still named.
        for (line, written) in [
            (
                "Xinhua, December 32, 2020 (Saturday) 08:15",
                "December 32, 2020",
            ),
            (
                "Xinhua, 32 December 2020 (Sat.) 08:15 GMT",
                "32 December 2020",
            ),
        ] {
            let read = read_outlet_date(line, None);
            assert_eq!(
                (read.outlet.as_deref(), read.date, read.unread.as_deref()),
                (Some("Xinhua"), None, Some(written)),
                "{line}"
            );
        }
        // A word after the time that names no time zone is no date's.
        let line = "Xinhua, December 26, 2020 08:15 Shanghai";
        assert_eq!(read_outlet_date(line, None).date, None);
    }

    /// Chinese ranges of days (`2020年12月26日至27日`, `26－27日`) were
    /// no date's end and stayed in the outlet; an Arabic year with a month
    /// and day in Chinese numerals (`2020年十二月二十六日`) was named as
    /// unread, though it reads one way only.
    #[test]
    fn a_chinese_range_is_its_first_day_and_a_mixed_year_is_read() {
        for (line, date) in [
            ("新华社，2020年12月26日至27日", "2020-12-26"),
            ("新华社，2020年12月26日－27日", "2020-12-26"),
            ("新华社，2020年12月26-27日", "2020-12-26"),
            ("新华社，2020年12月26日到27日（星期日）", "2020-12-26"),
            ("新华社，二〇二〇年十二月二十六日至二十七日", "2020-12-26"),
            ("新华社，二〇二〇年十二月二十六至二十七日", "2020-12-26"),
            ("新华社，2020年12月30日至2021年1月2日", "2020-12-30"),
            ("新华社，2020年十二月二十六日", "2020-12-26"),
            ("新华社，2020年十二月廿六号", "2020-12-26"),
            ("新华社，2020年十二月", "2020-12"),
            ("新华社，2020年十二月二十六日至二十七日", "2020-12-26"),
        ] {
            let read = read_words(line, Words::Citation, None);
            assert_eq!(
                (read.outlet.as_deref(), read.date.as_deref(), read.unread),
                (Some("新华社"), Some(date), None),
                "{line}"
            );
        }
        assert!(is_date_line("2020年12月26日至27日", None));
        // A range whose days make no date, or a count no date writes, is
        // named as written.
        for (line, written) in [
            ("新华社，2020年12月26日至40日", "2020年12月26日至40日"),
            ("新华社，2020年12月27日至26日", "2020年12月27日至26日"),
            ("新华社，2020年2月28日－30日", "2020年2月28日－30日"),
            (
                "新华社，二〇二〇年十二月二十六日至三十二日",
                "二〇二〇年十二月二十六日至三十二日",
            ),
            ("新华社，2020年十三月二十六日", "2020年十三月二十六日"),
            ("新华社，2020年十〇月五日", "2020年十〇月五日"),
        ] {
            let read = read_words(line, Words::Citation, None);
            assert_eq!(
                (read.outlet.as_deref(), read.date, read.unread.as_deref()),
                (Some("新华社"), None, Some(written)),
                "{line}"
            );
        }
    }

    #[test]
    fn an_outlet_date_line_is_an_outlet_then_a_date_set_apart() {
        for (line, outlet) in [
            ("Xinhua, December 26, 2020", "Xinhua"),
            ("(Xinhua, December 26, 2020)", "Xinhua"),
            (
                "(RFA) Radio Free Asia, December 26, 2020",
                "(RFA) Radio Free Asia",
            ),
            (
                "U.S. Department of Home Security, December 22, 2020",
                "U.S. Department of Home Security",
            ),
            ("xinhuanet.com / 2020-12-26", "xinhuanet.com"),
            ("新华网，２０２０年１２月２６日", "新华网"),
        ] {
            let read = read_outlet_date_line(line, None);
            assert_eq!(
                read.as_ref().and_then(|r| r.outlet.as_deref()),
                Some(outlet),
                "{line}"
            );
        }
        for line in [
            "Xinhua December 26, 2020",
            "新华网2020年12月26日",
            "Shanghai begins vaccinations, December 26, 2020",
            "Xinhua",
            "December 26, 2020",
            "Published: Xinhua, December 26, 2020",
        ] {
            assert_eq!(read_outlet_date_line(line, None), None, "{line}");
        }
    }

    #[test]
    fn date_lines_are_recognised() {
        assert!(is_date_line("December 26, 2020", None));
        assert!(is_date_line("December 30, 2020 - January 2, 2021", None));
        assert!(!is_date_line("Xinhua, December 26, 2020", None));
        assert!(!is_date_line("Shanghai begins vaccinations", None));
    }
}
