//! Time and duration conventions shared by every command (see DESIGN.md).
//!
//! Instants are stored as UTC unix milliseconds (`i64`) so the store never depends
//! on a date library's SQL bindings; they are printed as RFC 3339 with `Z`.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

/// Milliseconds since the unix epoch, UTC.
pub type Millis = i64;

/// The current instant in unix milliseconds.
pub fn now_millis() -> Millis {
    Timestamp::now().as_millisecond()
}

/// Formats an instant as RFC 3339 in UTC with a `Z`, to whole seconds.
///
/// A report formats a few instants per listed citation, so instants from 1970
/// to 9999 take a direct path (the civil date computed from the day number)
/// that costs a fraction of strftime's; the rest go through jiff. Both write
/// the same text (tested).
pub fn format_millis(ms: Millis) -> String {
    // jiff's range ends late on 9999-12-30 (past it the text is `@…ms`); its
    // last second is left to jiff too.
    if !(0..Timestamp::MAX.as_second() * 1000).contains(&ms) {
        return format_millis_jiff(ms);
    }
    let secs = ms / 1000;
    let (y, m, d) = civil_from_days(secs / 86_400);
    let s = secs % 86_400;
    let mut text = *b"0000-00-00T00:00:00Z";
    let mut put = |at: usize, width: usize, mut n: i64| {
        for digit in text[at..at + width].iter_mut().rev() {
            *digit = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, y);
    put(5, 2, m);
    put(8, 2, d);
    put(11, 2, s / 3600);
    put(14, 2, s / 60 % 60);
    put(17, 2, s % 60);
    // ASCII digits and separators: always UTF-8, copied once.
    String::from_utf8_lossy(&text).into_owned()
}

fn format_millis_jiff(ms: Millis) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(ts) => ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Err(_) => format!("@{ms}ms"),
    }
}

/// (year, month, day) of a day number counted from 1970-01-01 (Howard
/// Hinnant's `civil_from_days`), for days from 0 on.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Why a time given by a user could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BadTime {
    /// Not in any form a time is written in.
    #[error(
        "`{0}` is not a time: use RFC 3339 (2020-12-26T08:00:00Z), a date (2020-12-26) or 14 digits (20201226080000)"
    )]
    Form(String),
    /// Neither a time nor a duration (`--since`).
    #[error(
        "`{0}` is neither a time nor a duration: use RFC 3339 (2020-12-26T08:00:00Z), a date (2020-12-26), 14 digits (20201226080000) or a duration meaning that long ago (7d, 12h)"
    )]
    SinceForm(String),
    /// A date and time of day with no zone: which day's 08:00 is meant
    /// depends on it, and midnight UTC of the date would be a guess.
    #[error("`{0}` has no time zone: add `Z` for UTC (2020-12-26T08:00:00Z) or an offset (+08:00)")]
    NoZone(String),
    /// A duration reaching back before 1970.
    #[error("`{0}` ago is before 1970; nothing citewatch keeps is that old")]
    TooLongAgo(String),
    /// A time before 1970 (`--since`, `--at`), as a duration reaching back before it is.
    #[error("`{0}` is before 1970-01-01; nothing citewatch keeps is that old")]
    BeforeEpoch(String),
}

/// Serialises a time as [`format_millis`] prints it (`serialize_with`), so
/// JSON says times in RFC 3339 as everything else does.
pub fn serialize_rfc3339<S: Serializer>(ms: &Millis, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_millis(*ms))
}

/// [`serialize_rfc3339`] for a time that may be missing (`null`).
pub fn serialize_rfc3339_opt<S: Serializer>(ms: &Option<Millis>, s: S) -> Result<S::Ok, S::Error> {
    match ms {
        Some(ms) => serialize_rfc3339(ms, s),
        None => s.serialize_none(),
    }
}

/// Parses a time as accepted by `--at` and `--since`: RFC 3339, `YYYY-MM-DD`
/// (midnight UTC) or the 14-digit `YYYYMMDDhhmmss` of web archives.
pub fn parse_time(input: &str) -> Result<Millis, BadTime> {
    let s = input.trim();
    let bad = || BadTime::Form(input.to_string());
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Ok(ts.as_millisecond().min(last_instant()));
    }
    let civil = if s.len() == 14 && s.bytes().all(|b| b.is_ascii_digit()) {
        jiff::civil::DateTime::strptime("%Y%m%d%H%M%S", s).map_err(|_| bad())?
    } else if s.len() == 10
        && let Ok(date) = s.parse::<jiff::civil::Date>()
    {
        date.to_datetime(jiff::civil::Time::midnight())
    } else if let Some(ms) = zoned_past_the_end(s) {
        return Ok(ms);
    } else if s.contains(['T', 't', ' ']) && s.parse::<jiff::civil::DateTime>().is_ok() {
        // jiff reads a date out of a date and time, dropping the time. A
        // date alone in another form (`20201226`) has no time to be zoned:
        // it is not a time at all, as the message listing the forms says.
        return Err(BadTime::NoZone(input.to_string()));
    } else {
        return Err(bad());
    };
    instant(civil, jiff::tz::Offset::UTC).ok_or_else(bad)
}

/// The last instant a time given is read as: jiff's last whole second
/// (9999-12-30T22:00:00Z), the last it turns milliseconds back into.
fn last_instant() -> Millis {
    Timestamp::MAX.as_second() * 1000
}

/// The instant of `civil` at `offset`. jiff's instants end late on
/// 9999-12-30 (UTC), a day before its calendar does: a later time on a date
/// that calendar has (`--since 9999-12-31`, "as late as can be") is read as
/// [`last_instant`], which nothing recorded comes after, rather than refused
/// as "not a time".
fn instant(civil: jiff::civil::DateTime, offset: jiff::tz::Offset) -> Option<Millis> {
    match offset.to_timestamp(civil) {
        Ok(ts) => Some(ts.as_millisecond().min(last_instant())),
        Err(_) if civil > offset.to_datetime(Timestamp::MAX) => Some(last_instant()),
        Err(_) => None,
    }
}

/// An RFC 3339 time past jiff's last instant (`9999-12-31T08:00:00Z`), which
/// `Timestamp` does not parse, read as [`instant`] reads it.
fn zoned_past_the_end(s: &str) -> Option<Millis> {
    let pieces = jiff::fmt::temporal::Pieces::parse(s).ok()?;
    let offset = pieces.offset()?.to_numeric_offset();
    let civil = pieces.date().to_datetime(pieces.time()?);
    instant(civil, offset).filter(|ms| *ms == last_instant())
}

/// Parses an `--at` value: a time as [`parse_time`] accepts, from 1970 on.
/// A time before it (`get --at 1969-12-31`) was read as the earliest
/// capture, where `--since` refuses it: nothing citewatch keeps is that old,
/// and such a time is a slip worth naming, in the words `--since` uses.
pub fn parse_at(input: &str) -> Result<Millis, BadTime> {
    match parse_time(input)? {
        at if at < 0 => Err(BadTime::BeforeEpoch(input.trim().to_string())),
        at => Ok(at),
    }
}

/// Parses a `--since` value: a time as [`parse_time`] accepts, or a duration
/// (`7d`, `12h`) meaning that long before now.
pub fn parse_since(input: &str) -> Result<Millis, BadTime> {
    match input.trim().parse::<Duration>() {
        Ok(d) => {
            let at = now_millis().saturating_sub(d.as_millis());
            if at < 0 {
                return Err(BadTime::TooLongAgo(input.trim().to_string()));
            }
            Ok(at)
        }
        Err(BadDuration::TooLong(_)) => Err(BadTime::TooLongAgo(input.trim().to_string())),
        Err(BadDuration::Unreadable(_)) => match parse_time(input) {
            // A time before 1970 is refused as a duration reaching there is.
            Ok(at) if at < 0 => Err(BadTime::BeforeEpoch(input.trim().to_string())),
            Ok(at) => Ok(at),
            Err(e @ BadTime::NoZone(_)) => Err(e),
            Err(_) => Err(BadTime::SinceForm(input.to_string())),
        },
    }
}

/// A length of time written as an integer and a unit: `ms`, `s`, `m`, `h`, `d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(std::time::Duration);

impl Duration {
    /// A duration of `secs` seconds.
    pub const fn from_secs(secs: u64) -> Self {
        Duration(std::time::Duration::from_secs(secs))
    }

    /// A duration of `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        Duration(std::time::Duration::from_millis(ms))
    }

    /// The standard-library form.
    pub const fn std(self) -> std::time::Duration {
        self.0
    }

    /// Whole milliseconds, saturating.
    pub fn as_millis(self) -> i64 {
        i64::try_from(self.0.as_millis()).unwrap_or(i64::MAX)
    }

    /// True for `0s`.
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }
}

/// Why a duration could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BadDuration {
    /// Not an integer and a unit.
    #[error(
        "`{0}` is not a duration: write an integer and a unit (ms, s, m, h, d), e.g. \"30s\" or \"7d\""
    )]
    Unreadable(String),
    /// Written as one, but past what a duration can hold: told as such, not
    /// as a spelling mistake the user would look for in vain.
    #[error("`{0}` is longer than any duration citewatch counts (at most {MAX_DAYS}d)")]
    TooLong(String),
}

/// The most days a [`Duration`] holds: its milliseconds fit in 64 bits.
const MAX_DAYS: u64 = u64::MAX / 86_400_000;

impl FromStr for Duration {
    type Err = BadDuration;

    fn from_str(input: &str) -> Result<Self, BadDuration> {
        let bad = || BadDuration::Unreadable(input.to_string());
        let too_long = || BadDuration::TooLong(input.to_string());
        let s = input.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (digits, unit) = s.split_at(split);
        // The unit first: `99999999999999999999x` is misspelt, not too long.
        let ms_per_unit: u64 = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(bad()),
        };
        let n: u64 = match digits.parse() {
            Ok(n) => n,
            // Only digits: too many of them.
            Err(_) if !digits.is_empty() => return Err(too_long()),
            Err(_) => return Err(bad()),
        };
        n.checked_mul(ms_per_unit)
            .map(Duration::from_millis)
            .ok_or_else(too_long)
    }
}

impl fmt::Display for Duration {
    /// The largest unit that expresses the duration exactly, so it reads back the same.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        for (unit, size) in [
            ("d", 86_400_000),
            ("h", 3_600_000),
            ("m", 60_000),
            ("s", 1_000),
        ] {
            if ms != 0 && ms.is_multiple_of(size) {
                return write!(f, "{}{unit}", ms / size);
            }
        }
        if ms == 0 {
            write!(f, "0s")
        } else {
            write!(f, "{ms}ms")
        }
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(
                    f,
                    "a duration string such as \"30s\", \"10m\", \"72h\" or \"7d\""
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_direct_format_writes_what_jiff_writes() {
        let mut cases = vec![
            0,
            999,
            1_000,
            951_782_400_000,     // 2000-02-29
            4_107_542_400_000,   // 2100-03-01
            1_793_577_600_000,   // 2026-11-02
            253_402_300_799_999, // 9999-12-31T23:59:59.999
            Timestamp::MAX.as_millisecond(),
            Timestamp::MAX.as_millisecond() + 1,
            Timestamp::MAX.as_second() * 1000 - 1,
            Timestamp::MAX.as_second() * 1000,
            -1,
            -86_400_001,
            i64::MIN,
            i64::MAX,
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            cases.push((x % 260_000_000_000_000) as i64 - 1_000_000_000_000);
        }
        for ms in cases {
            assert_eq!(format_millis(ms), format_millis_jiff(ms), "{ms}");
        }
    }

    #[test]
    fn durations_read_every_unit() {
        assert_eq!("30s".parse(), Ok(Duration::from_secs(30)));
        assert_eq!("250ms".parse(), Ok(Duration::from_millis(250)));
        assert_eq!("10m".parse(), Ok(Duration::from_secs(600)));
        assert_eq!("72h".parse(), Ok(Duration::from_secs(72 * 3600)));
        assert_eq!("7d".parse(), Ok(Duration::from_secs(7 * 86400)));
        assert_eq!("0s".parse(), Ok(Duration::from_secs(0)));
    }

    #[test]
    fn durations_reject_what_is_not_written_as_the_convention() {
        for bad in [
            "",
            "30",
            "s",
            "1.5h",
            "-1s",
            "30 s",
            "3w",
            "99999999999999999999d",
        ] {
            assert!(bad.parse::<Duration>().is_err(), "{bad:?} was accepted");
        }
        // Too long is said as such, not as a spelling to correct; the
        // longest one still reads.
        for long in [
            "99999999999999999999d",
            "213503982335d",
            "18446744073709551616ms",
        ] {
            assert_eq!(
                long.parse::<Duration>(),
                Err(BadDuration::TooLong(long.into())),
                "{long}"
            );
        }
        assert!("213503982334d".parse::<Duration>().is_ok());
        assert_eq!(
            "99999999999999999999x".parse::<Duration>(),
            Err(BadDuration::Unreadable("99999999999999999999x".into()))
        );
        assert_eq!(
            parse_since("999999999999d"),
            Err(BadTime::TooLongAgo("999999999999d".into()))
        );
    }

    #[test]
    fn durations_print_in_the_form_they_are_read() {
        for s in ["30s", "10m", "7d", "0s", "1500ms"] {
            assert_eq!(s.parse::<Duration>().unwrap().to_string(), s);
        }
        let d: Duration = "72h".parse().unwrap();
        assert_eq!(d.to_string(), "3d");
        assert_eq!(d.to_string().parse::<Duration>().unwrap(), d);
    }

    #[test]
    fn times_read_the_three_accepted_forms() {
        let want = 1_608_969_600_000; // 2020-12-26T08:00:00Z
        assert_eq!(parse_time("2020-12-26T08:00:00Z"), Ok(want));
        assert_eq!(parse_time("2020-12-26T09:00:00+01:00"), Ok(want));
        assert_eq!(parse_time("20201226080000"), Ok(want));
        assert_eq!(parse_time("2020-12-26"), Ok(want - 8 * 3_600_000));
        assert!(parse_time("26/12/2020").is_err());
        // A time of day without a zone was read as the date's midnight.
        for no_zone in [
            "2020-12-26T15:00:00",
            "2020-12-26 15:00",
            "2020-12-26T15:00",
        ] {
            assert_eq!(
                parse_time(no_zone),
                Err(BadTime::NoZone(no_zone.into())),
                "{no_zone}"
            );
            assert_eq!(parse_since(no_zone), Err(BadTime::NoZone(no_zone.into())));
        }
        assert!(parse_time("2020-13-01").is_err());
        // A date in a form not taken was told to add a zone, which cannot help.
        for date in ["20201226", "2020-12"] {
            assert_eq!(parse_time(date), Err(BadTime::Form(date.into())), "{date}");
            assert_eq!(parse_since(date), Err(BadTime::SinceForm(date.into())));
        }
    }

    /// `--since 9999-12-31` was "not a time": jiff's instants end a day
    /// before its calendar.
    #[test]
    fn the_last_days_of_9999_are_the_last_instant() {
        let last = last_instant();
        for late in [
            "9999-12-30T22:00:00.5Z",
            "9999-12-31",
            "99991231235959",
            "9999-12-31T00:00:00Z",
            "9999-12-30T23:00:00Z",
            "9999-12-31T12:00:00+05:00",
        ] {
            assert_eq!(parse_time(late), Ok(last), "{late}");
            assert_eq!(parse_since(late), Ok(last), "{late}");
        }
        // Within jiff's range, as written; past the calendar, refused.
        assert!(parse_time("9999-12-30").unwrap() < last);
        assert_eq!(format_millis(last), "9999-12-30T22:00:00Z");
        for beyond in ["10000-01-01", "9999-12-32", "99991232000000"] {
            assert!(parse_time(beyond).is_err(), "{beyond}");
        }
        // A time of day with no zone stays refused, however late.
        assert_eq!(
            parse_time("9999-12-31T12:00:00"),
            Err(BadTime::NoZone("9999-12-31T12:00:00".into()))
        );
    }

    #[test]
    fn since_takes_a_time_or_a_duration_ago() {
        assert_eq!(parse_since("2020-12-26T08:00:00Z"), Ok(1_608_969_600_000));
        // The clock is read on both sides of the parse: reading it once, before,
        // made the test fail whenever the millisecond turned in between.
        let week = 7 * 86_400_000;
        let before = now_millis();
        let since = parse_since("7d").unwrap();
        let after = now_millis();
        assert!(
            (before - week..=after - week).contains(&since),
            "{since} not within [{}, {}]",
            before - week,
            after - week
        );
        let e = parse_since("last week").unwrap_err().to_string();
        assert!(e.contains("or a duration meaning that long ago (7d"), "{e}");
        assert!(
            !parse_time("7d")
                .unwrap_err()
                .to_string()
                .contains("duration")
        );
        assert_eq!(
            parse_since("99999999d"),
            Err(BadTime::TooLongAgo("99999999d".into()))
        );
    }

    /// `--since 1969-12-31` was taken (as a negative instant), where a
    /// duration reaching back before 1970 is refused: nothing citewatch
    /// keeps is that old, and every form of a time before it says so alike.
    #[test]
    fn a_time_before_1970_is_refused_as_since() {
        for early in [
            "1969-12-31",
            "1969-12-31T23:59:59Z",
            "19691231235959",
            "1970-01-01T08:00:00+09:00",
            "0001-01-01",
        ] {
            assert_eq!(
                parse_since(early),
                Err(BadTime::BeforeEpoch(early.into())),
                "{early}"
            );
        }
        let e = parse_since("1969-12-31").unwrap_err().to_string();
        assert!(
            e.contains("`1969-12-31`") && e.contains("before 1970"),
            "{e}"
        );
        assert_eq!(parse_since("1970-01-01"), Ok(0));
        assert_eq!(parse_since("1970-01-01T00:00:00Z"), Ok(0));
    }

    /// `--at` refuses a time before 1970 as `--since` does, in its words,
    /// and reads every other time as [`parse_time`] does.
    #[test]
    fn a_time_before_1970_is_refused_as_at() {
        for early in ["1969-12-31", " 1969-12-31T23:59:59Z ", "19691231235959"] {
            assert_eq!(
                parse_at(early),
                Err(BadTime::BeforeEpoch(early.trim().into())),
                "{early}"
            );
            assert_eq!(
                parse_at(early).unwrap_err().to_string(),
                parse_since(early).unwrap_err().to_string()
            );
        }
        assert_eq!(parse_at("1970-01-01"), Ok(0));
        assert_eq!(parse_at("2020-12-26"), parse_time("2020-12-26"));
        assert_eq!(parse_at("soon"), Err(BadTime::Form("soon".into())));
    }

    #[test]
    fn times_print_as_rfc3339_utc() {
        assert_eq!(format_millis(1_608_969_600_123), "2020-12-26T08:00:00Z");
    }
}
