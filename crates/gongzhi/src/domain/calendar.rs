//! Working-day calendar (工作日历) and deadline arithmetic (办理时限).
//!
//! All domain time is Asia/Shanghai, a fixed UTC+8 with no DST; instants in and out are Unix
//! milliseconds (UTC). A [`Calendar`] is a set of *known* years plus per-day overrides:
//! [`DayKind::Holiday`] (法定节假日, 放假) and [`DayKind::Workday`] (调休上班 on a weekend).
//! A date is a working day iff it is Mon–Fri without a holiday override, or has a workday
//! override. Working time is 09:00–12:00 and 13:00–18:00 ([`WORK_PERIODS`], 480 minutes a day).
//!
//! - An *hours* limit is N×60 working minutes from the start; a start outside working time
//!   counts from the next period start, and a count ending exactly at 12:00 or 18:00 ends there.
//! - A *days* limit ends at 18:00 of the N-th working day strictly after the start's local date
//!   (the start day never counts).
//!
//! Only the dates whose kind is actually consulted must lie in known years; otherwise the
//! result is [`CalendarError::UnknownYear`]. Every walk over days is bounded by
//! [`MAX_WALK_DAYS`], and nothing here panics.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use time::{Date, Weekday};

/// Asia/Shanghai offset from UTC, in milliseconds.
pub const UTC_OFFSET_MS: i64 = 8 * 3_600_000;
/// Working periods of a working day, as (start, end) minutes of the local day.
pub const WORK_PERIODS: [(u16, u16); 2] = [(540, 720), (780, 1080)];
/// Working minutes in one working day (sum of [`WORK_PERIODS`]).
pub const WORK_MINUTES_PER_DAY: i64 = 480;
/// Largest limit value accepted (hours or days).
pub const MAX_LIMIT_VALUE: u32 = 1000;
/// Bound on any walk over days (5 years: enough for the largest days limit, 1000 working
/// days ≈ 4 years). A walk that reaches it fails with `UnknownYear` for the year reached.
pub const MAX_WALK_DAYS: i64 = 5 * 366;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

/// A per-day override of the weekday rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DayKind {
    /// Statutory holiday (放假): not a working day even on Mon–Fri.
    Holiday,
    /// Adjusted working day (调休上班): a working day even on a weekend.
    Workday,
}

impl DayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }
}

/// Parses "休"/"假"/"holiday" and "班"/"workday" (trimmed; ASCII case-insensitive).
pub fn parse_day_kind(s: &str) -> Option<DayKind> {
    match s.trim().to_ascii_lowercase().as_str() {
        "休" | "假" | "holiday" => Some(DayKind::Holiday),
        "班" | "workday" => Some(DayKind::Workday),
        _ => None,
    }
}

/// Why a calendar computation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CalendarError {
    /// The computation needed a date of a year the calendar does not know.
    UnknownYear(i32),
    /// A limit value outside 1..=[`MAX_LIMIT_VALUE`].
    InvalidLimit(u32),
    /// Negative minutes, or an instant outside the supported date range.
    OutOfRange,
}

impl fmt::Display for CalendarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CalendarError::UnknownYear(y) => write!(f, "no working-day calendar for year {y}"),
            CalendarError::InvalidLimit(v) => {
                write!(f, "limit {v} is outside 1..={MAX_LIMIT_VALUE}")
            }
            CalendarError::OutOfRange => f.write_str("value outside the supported range"),
        }
    }
}

impl std::error::Error for CalendarError {}

/// Unit of a time limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitUnit {
    /// Working hours.
    Hours,
    /// Working days, ending 18:00.
    Days,
}

impl LimitUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            LimitUnit::Hours => "hours",
            LimitUnit::Days => "days",
        }
    }

    /// Parses "hours" / "days" (trimmed, ASCII case-insensitive).
    pub fn parse(s: &str) -> Option<LimitUnit> {
        match s.trim().to_ascii_lowercase().as_str() {
            "hours" => Some(LimitUnit::Hours),
            "days" => Some(LimitUnit::Days),
            _ => None,
        }
    }
}

/// A time limit (时限) such as 2 working hours or 3 working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limit {
    pub value: u32,
    pub unit: LimitUnit,
}

impl Limit {
    /// A limit whose value is in 1..=[`MAX_LIMIT_VALUE`].
    pub fn new(value: u32, unit: LimitUnit) -> Option<Limit> {
        (1..=MAX_LIMIT_VALUE)
            .contains(&value)
            .then_some(Limit { value, unit })
    }

    /// Parses "2h", "3d", "2小时", "3天", "3工作日" (trimmed; `h`/`d` in either case).
    pub fn parse_short(s: &str) -> Option<Limit> {
        use LimitUnit::{Days, Hours};
        const SUFFIXES: [(&str, LimitUnit); 5] = [
            ("工作日", Days),
            ("小时", Hours),
            ("天", Days),
            ("h", Hours),
            ("d", Days),
        ];
        let t = s.trim().to_ascii_lowercase();
        let (num, unit) = SUFFIXES
            .iter()
            .find_map(|&(suffix, unit)| t.strip_suffix(suffix).map(|n| (n.trim(), unit)))?;
        if num.is_empty() || num.len() > 4 || !num.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Limit::new(num.parse().ok()?, unit)
    }

    /// "2h" or "3d".
    pub fn to_short(&self) -> String {
        let suffix = match self.unit {
            LimitUnit::Hours => 'h',
            LimitUnit::Days => 'd',
        };
        format!("{}{suffix}", self.value)
    }
}

/// The Asia/Shanghai date of an instant (clamped to the supported date range).
pub fn local_date(ms: i64) -> Date {
    let day = ms.saturating_add(UTC_OFFSET_MS).div_euclid(DAY_MS);
    date_of(day).unwrap_or(if day < 0 { Date::MIN } else { Date::MAX })
}

/// The instant of 00:00 Asia/Shanghai on `date`.
pub fn local_midnight_ms(date: Date) -> i64 {
    day_start_ms(i64::from(date.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY)
}

/// The date as a yyyymmdd integer, e.g. 20261201.
pub fn day_number(date: Date) -> i32 {
    let md = i32::from(u8::from(date.month())) * 100 + i32::from(date.day());
    date.year().saturating_mul(10_000).saturating_add(md)
}

/// Local day index (days since 1970-01-01 local) and milliseconds into that day.
fn split(ms: i64) -> Result<(i64, i64), CalendarError> {
    let local = ms
        .checked_add(UTC_OFFSET_MS)
        .ok_or(CalendarError::OutOfRange)?;
    Ok((local.div_euclid(DAY_MS), local.rem_euclid(DAY_MS)))
}

/// The date of a local day index; fails outside `time`'s date range.
fn date_of(day: i64) -> Result<Date, CalendarError> {
    i32::try_from(day + UNIX_EPOCH_JULIAN_DAY)
        .ok()
        .and_then(|jd| Date::from_julian_day(jd).ok())
        .ok_or(CalendarError::OutOfRange)
}

/// UTC instant of local midnight of a day index (only called for indices `date_of` accepts).
fn day_start_ms(day: i64) -> i64 {
    day * DAY_MS - UTC_OFFSET_MS
}

/// [`WORK_PERIODS`] in milliseconds of the day.
fn periods_ms() -> impl Iterator<Item = (i64, i64)> {
    WORK_PERIODS
        .iter()
        .map(|&(s, e)| (i64::from(s) * MINUTE_MS, i64::from(e) * MINUTE_MS))
}

/// End of the working day (18:00) in milliseconds of the day.
fn day_end_ms() -> i64 {
    periods_ms().map(|(_, e)| e).max().unwrap_or(0)
}

/// The error for a walk that hit [`MAX_WALK_DAYS`] at `day`.
fn walk_exhausted(day: i64) -> CalendarError {
    date_of(day).map_or(CalendarError::OutOfRange, |d| {
        CalendarError::UnknownYear(d.year())
    })
}

/// Known years plus per-day overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    years: BTreeSet<i32>,
    overrides: BTreeMap<Date, DayKind>,
}

impl Calendar {
    /// A calendar knowing `known_years`, with `days` overriding the weekday rule (later
    /// entries for the same date win).
    pub fn new(
        known_years: impl IntoIterator<Item = i32>,
        days: impl IntoIterator<Item = (Date, DayKind)>,
    ) -> Calendar {
        Calendar {
            years: known_years.into_iter().collect(),
            overrides: days.into_iter().collect(),
        }
    }

    /// Whether `date` is a working day.
    pub fn is_working_day(&self, date: Date) -> Result<bool, CalendarError> {
        if !self.years.contains(&date.year()) {
            return Err(CalendarError::UnknownYear(date.year()));
        }
        Ok(match self.overrides.get(&date) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday),
        })
    }

    /// The deadline of `limit` started at `start_ms` (see the module doc).
    pub fn deadline(&self, start_ms: i64, limit: Limit) -> Result<i64, CalendarError> {
        if Limit::new(limit.value, limit.unit).is_none() {
            return Err(CalendarError::InvalidLimit(limit.value));
        }
        match limit.unit {
            LimitUnit::Hours => self.add_working_minutes(start_ms, i64::from(limit.value) * 60),
            LimitUnit::Days => self.nth_working_day_end(start_ms, limit.value),
        }
    }

    /// Moves an existing deadline by `limit` (an approved extension, 延期): hours are added as
    /// working time from the deadline, days end at 18:00 of the N-th working day after the
    /// deadline's local date. This is exactly [`Calendar::deadline`] started at the deadline.
    pub fn extend(&self, deadline_ms: i64, limit: Limit) -> Result<i64, CalendarError> {
        self.deadline(deadline_ms, limit)
    }

    /// The instant `minutes` working minutes after `start_ms`; counting starts at the next
    /// period start when `start_ms` is outside working time. With `minutes == 0` the result is
    /// `start_ms` itself inside working time, else the next period start (so 12:00 gives 13:00):
    /// the result is then the earliest working instant at or after the start, which keeps the
    /// function non-decreasing in both arguments. Negative minutes are `OutOfRange`.
    pub fn add_working_minutes(&self, start_ms: i64, minutes: i64) -> Result<i64, CalendarError> {
        if minutes < 0 {
            return Err(CalendarError::OutOfRange);
        }
        let mut remaining = minutes
            .checked_mul(MINUTE_MS)
            .ok_or(CalendarError::OutOfRange)?;
        let (mut day, mut pos) = split(start_ms)?;
        for _ in 0..MAX_WALK_DAYS {
            let date = date_of(day)?;
            // A day with no working time left after `pos` is skipped without looking it up.
            if pos < day_end_ms() && self.is_working_day(date)? {
                for (s, e) in periods_ms().filter(|&(_, e)| pos < e) {
                    let from = pos.max(s);
                    if remaining <= e - from {
                        return Ok(day_start_ms(day) + from + remaining);
                    }
                    remaining -= e - from;
                }
            }
            day += 1;
            pos = 0;
        }
        Err(walk_exhausted(day))
    }

    /// Working minutes in `[a_ms, b_ms)` (0 if `b_ms <= a_ms`), rounded down to whole minutes.
    /// Only days that overlap working hours within the interval are looked up.
    pub fn working_minutes_between(&self, a_ms: i64, b_ms: i64) -> Result<i64, CalendarError> {
        if b_ms <= a_ms {
            return Ok(0);
        }
        let (day_a, pos_a) = split(a_ms)?;
        let (day_b, pos_b) = split(b_ms)?;
        let mut total = 0i64;
        for day in day_a..=day_b {
            if day - day_a >= MAX_WALK_DAYS {
                return Err(walk_exhausted(day));
            }
            let lo = if day == day_a { pos_a } else { 0 };
            let hi = if day == day_b { pos_b } else { DAY_MS };
            let overlap: i64 = periods_ms()
                .map(|(s, e)| (hi.min(e) - lo.max(s)).max(0))
                .sum();
            if overlap > 0 && self.is_working_day(date_of(day)?)? {
                total += overlap;
            }
        }
        Ok(total / MINUTE_MS)
    }

    /// 18:00 of the `n`-th working day strictly after the local date of `from_ms` (n ≥ 1).
    fn nth_working_day_end(&self, from_ms: i64, n: u32) -> Result<i64, CalendarError> {
        let (mut day, _) = split(from_ms)?;
        let mut left = n;
        for _ in 0..MAX_WALK_DAYS {
            day += 1;
            if self.is_working_day(date_of(day)?)? {
                if left <= 1 {
                    return Ok(day_start_ms(day) + day_end_ms());
                }
                left -= 1;
            }
        }
        Err(walk_exhausted(day))
    }
}

/// Years covered by [`SHIPPED`].
pub const SHIPPED_YEARS: [i32; 2] = [2025, 2026];

/// The State Council (国务院办公厅) holiday schedules for [`SHIPPED_YEARS`]:
/// (date YYYY-MM-DD, kind, name), one line per holiday with its adjusted workdays (调休上班).
#[rustfmt::skip]
pub const SHIPPED: &[(&str, DayKind, &str)] = {
    use DayKind::{Holiday as H, Workday as W};
    &[
        // 2025
        ("2025-01-01", H, "元旦"),
        ("2025-01-26", W, "春节调休上班"), ("2025-02-08", W, "春节调休上班"),
        ("2025-01-28", H, "春节"), ("2025-01-29", H, "春节"), ("2025-01-30", H, "春节"), ("2025-01-31", H, "春节"),
        ("2025-02-01", H, "春节"), ("2025-02-02", H, "春节"), ("2025-02-03", H, "春节"), ("2025-02-04", H, "春节"),
        ("2025-04-04", H, "清明节"), ("2025-04-05", H, "清明节"), ("2025-04-06", H, "清明节"),
        ("2025-04-27", W, "劳动节调休上班"),
        ("2025-05-01", H, "劳动节"), ("2025-05-02", H, "劳动节"), ("2025-05-03", H, "劳动节"),
        ("2025-05-04", H, "劳动节"), ("2025-05-05", H, "劳动节"),
        ("2025-05-31", H, "端午节"), ("2025-06-01", H, "端午节"), ("2025-06-02", H, "端午节"),
        ("2025-09-28", W, "国庆节、中秋节调休上班"), ("2025-10-11", W, "国庆节、中秋节调休上班"),
        ("2025-10-01", H, "国庆节、中秋节"), ("2025-10-02", H, "国庆节、中秋节"), ("2025-10-03", H, "国庆节、中秋节"),
        ("2025-10-04", H, "国庆节、中秋节"), ("2025-10-05", H, "国庆节、中秋节"), ("2025-10-06", H, "国庆节、中秋节"),
        ("2025-10-07", H, "国庆节、中秋节"), ("2025-10-08", H, "国庆节、中秋节"),
        // 2026
        ("2026-01-01", H, "元旦"), ("2026-01-02", H, "元旦"), ("2026-01-03", H, "元旦"),
        ("2026-01-04", W, "元旦调休上班"),
        ("2026-02-14", W, "春节调休上班"), ("2026-02-28", W, "春节调休上班"),
        ("2026-02-15", H, "春节"), ("2026-02-16", H, "春节"), ("2026-02-17", H, "春节"), ("2026-02-18", H, "春节"),
        ("2026-02-19", H, "春节"), ("2026-02-20", H, "春节"), ("2026-02-21", H, "春节"), ("2026-02-22", H, "春节"),
        ("2026-02-23", H, "春节"),
        ("2026-04-04", H, "清明节"), ("2026-04-05", H, "清明节"), ("2026-04-06", H, "清明节"),
        ("2026-05-01", H, "劳动节"), ("2026-05-02", H, "劳动节"), ("2026-05-03", H, "劳动节"),
        ("2026-05-04", H, "劳动节"), ("2026-05-05", H, "劳动节"),
        ("2026-05-09", W, "劳动节调休上班"),
        ("2026-06-19", H, "端午节"), ("2026-06-20", H, "端午节"), ("2026-06-21", H, "端午节"),
        ("2026-09-25", H, "中秋节"), ("2026-09-26", H, "中秋节"), ("2026-09-27", H, "中秋节"),
        ("2026-09-20", W, "国庆节调休上班"), ("2026-10-10", W, "国庆节调休上班"),
        ("2026-10-01", H, "国庆节"), ("2026-10-02", H, "国庆节"), ("2026-10-03", H, "国庆节"), ("2026-10-04", H, "国庆节"),
        ("2026-10-05", H, "国庆节"), ("2026-10-06", H, "国庆节"), ("2026-10-07", H, "国庆节"),
    ]
};

/// Parses a YYYY-MM-DD date.
pub fn parse_date(s: &str) -> Option<Date> {
    Date::parse(
        s.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// The calendar of [`SHIPPED_YEARS`] with the [`SHIPPED`] overrides.
pub fn shipped() -> Calendar {
    Calendar::new(
        SHIPPED_YEARS,
        SHIPPED
            .iter()
            .filter_map(|&(d, kind, _)| parse_date(d).map(|date| (date, kind))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::{date, datetime, offset};
    use time::PrimitiveDateTime;

    /// Local Asia/Shanghai wall time → Unix ms.
    fn ms(t: PrimitiveDateTime) -> i64 {
        (t.assume_offset(offset!(+8)).unix_timestamp_nanos() / 1_000_000) as i64
    }

    fn hours(v: u32) -> Limit {
        Limit::new(v, LimitUnit::Hours).expect("valid")
    }

    fn days(v: u32) -> Limit {
        Limit::new(v, LimitUnit::Days).expect("valid")
    }

    #[test]
    fn shipped_table_is_consistent() {
        let cal = shipped();
        assert_eq!(cal.overrides.len(), SHIPPED.len(), "all parse, none twice");
        for &(d, kind, name) in SHIPPED {
            let date = parse_date(d).expect("date");
            assert!(SHIPPED_YEARS.contains(&date.year()), "{d}");
            let weekend = matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday);
            let workday = kind == DayKind::Workday;
            assert_eq!(cal.is_working_day(date), Ok(workday), "{d}");
            assert_eq!(workday, name.ends_with("调休上班"), "{d}");
            assert!(!workday || weekend, "{d}: an adjusted workday is a weekend");
        }
        assert_eq!(cal.is_working_day(date!(2026 - 03 - 07)), Ok(false)); // plain Saturday
        assert_eq!(cal.is_working_day(date!(2026 - 03 - 09)), Ok(true)); // plain Monday
        let e = cal.is_working_day(date!(2027 - 01 - 04));
        assert_eq!(e, Err(CalendarError::UnknownYear(2027)));
    }

    /// "YYYY-MM-DD hh:mm" local → Unix ms.
    fn at(s: &str) -> i64 {
        let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
        ms(PrimitiveDateTime::parse(s, f).expect("test time"))
    }

    #[test]
    fn deadlines() {
        let cal = shipped();
        let cases = [
            // Thu 24 Sep 2026; 中秋 Fri 25–Sun 27; Mon 28, Tue 29, Wed 30.
            ("2026-09-24 10:00", "3d", "2026-09-30 18:00"),
            // … then 国庆 1–7, Thu 8, Fri 9, adjusted Sat 10.
            ("2026-09-24 10:00", "6d", "2026-10-10 18:00"),
            // Spring Festival: Fri 13 Feb, adjusted Sat 14, holidays 15–23, Tue 24 … Sat 28.
            ("2026-02-12 23:59", "2d", "2026-02-14 18:00"),
            ("2026-02-12 23:59", "3d", "2026-02-24 18:00"),
            ("2026-02-26 08:00", "2d", "2026-02-28 18:00"),
            // 2025: 国庆、中秋 1–8 Oct, adjusted Sat 11 Oct.
            ("2025-09-30 17:00", "2h", "2025-10-09 10:00"),
            ("2025-10-09 12:00", "2d", "2025-10-11 18:00"),
            // The start day never counts, even from 00:00 of a working day.
            ("2026-03-09 00:00", "1d", "2026-03-10 18:00"),
            ("2026-03-09 11:30", "2h", "2026-03-09 14:30"),
            // Ending exactly at a period end stays there.
            ("2026-03-09 10:00", "2h", "2026-03-09 12:00"),
            ("2026-03-09 09:00", "3h", "2026-03-09 12:00"),
            ("2026-03-09 16:00", "2h", "2026-03-09 18:00"),
            ("2026-03-09 12:30", "2h", "2026-03-09 15:00"),
            ("2026-03-09 17:00", "2h", "2026-03-10 10:00"),
            // Sunday evening → Monday; Friday evening before an adjusted Saturday → Saturday.
            ("2026-03-08 20:00", "1h", "2026-03-09 10:00"),
            ("2026-02-13 20:00", "1h", "2026-02-14 10:00"),
            // Holiday Sat 3 Jan → adjusted Sun 4 Jan; Friday 09:00 + 9 h → Monday 10:00.
            ("2026-01-03 08:00", "1h", "2026-01-04 10:00"),
            ("2026-03-13 09:00", "9h", "2026-03-16 10:00"),
        ];
        for (start, limit, want) in cases {
            let limit = Limit::parse_short(limit).expect("limit");
            assert_eq!(
                cal.deadline(at(start), limit),
                Ok(at(want)),
                "{start} + {limit:?}"
            );
        }
        // Seconds and milliseconds are kept.
        let d = cal.deadline(ms(datetime!(2026-03-09 11:59:30.25)), hours(1));
        assert_eq!(d, Ok(ms(datetime!(2026-03-09 13:59:30.25))));
        // Extensions count from the deadline (its date, for days).
        let dl = at("2026-09-30 18:00");
        assert_eq!(cal.extend(dl, days(1)), Ok(at("2026-10-08 18:00")));
        assert_eq!(cal.extend(dl, hours(1)), Ok(at("2026-10-08 10:00")));
    }

    #[test]
    fn zero_minutes_and_between() {
        let cal = shipped();
        let add = |t, m| cal.add_working_minutes(at(t), m);
        assert_eq!(add("2026-03-09 10:15", 0), Ok(at("2026-03-09 10:15")));
        assert_eq!(add("2026-03-09 12:00", 0), Ok(at("2026-03-09 13:00")));
        assert_eq!(add("2026-03-09 18:00", 0), Ok(at("2026-03-10 09:00")));
        assert_eq!(add("2026-03-09 18:00", 481), Ok(at("2026-03-11 09:01")));
        assert_eq!(add("2026-03-09 10:00", -1), Err(CalendarError::OutOfRange));
        assert_eq!(
            add("2026-03-09 10:00", i64::MAX),
            Err(CalendarError::OutOfRange)
        );
        let between = |a, b| cal.working_minutes_between(at(a), at(b));
        assert_eq!(between("2026-03-09 08:00", "2026-03-10 08:00"), Ok(480));
        assert_eq!(between("2026-03-09 11:00", "2026-03-09 14:00"), Ok(120));
        assert_eq!(between("2026-03-09 14:00", "2026-03-09 11:00"), Ok(0));
        // A week with 中秋 on Fri 25 Sep: Mon–Thu only.
        assert_eq!(between("2026-09-21 00:00", "2026-09-28 00:00"), Ok(4 * 480));
        // The evening of 31 Dec 2026 needs no 2027 calendar; the next working time does.
        assert_eq!(between("2026-12-31 17:00", "2027-01-01 08:00"), Ok(60));
        let e = between("2026-12-31 17:00", "2027-01-04 10:00");
        assert_eq!(e, Err(CalendarError::UnknownYear(2027)));
    }

    #[test]
    fn unknown_years_and_bad_input() {
        let cal = shipped();
        let unknown = |t, l| cal.deadline(at(t), l).err();
        let e2027 = Some(CalendarError::UnknownYear(2027));
        assert_eq!(unknown("2027-03-01 10:00", hours(1)), e2027);
        assert_eq!(unknown("2027-03-01 10:00", days(1)), e2027);
        assert_eq!(unknown("2026-12-31 10:00", days(1)), e2027);
        assert_eq!(unknown("2026-12-31 10:00", hours(1)), None);
        let e2024 = Some(CalendarError::UnknownYear(2024));
        assert_eq!(unknown("2024-12-31 10:00", hours(1)), e2024);
        let mut zero = days(1);
        zero.value = 0;
        assert_eq!(cal.deadline(0, zero), Err(CalendarError::InvalidLimit(0)));
        // Extreme instants fail cleanly, even when every year is known.
        let all = Calendar::new(-9999..=9999, []);
        for x in [i64::MIN, i64::MAX, i64::MIN / 2, i64::MAX / 2] {
            for l in [hours(1000), days(1000)] {
                assert!(cal.deadline(x, l).is_err() && all.deadline(x, l).is_err());
            }
            assert!(x == i64::MAX || all.working_minutes_between(x, i64::MAX).is_err());
            let _ = local_date(x);
        }
        // Walks are bounded; the largest days limit still fits the bound.
        assert!(all.add_working_minutes(0, i64::MAX / 60_000).is_err());
        let far = all.deadline(0, days(1000)).map(local_date);
        assert_eq!(far.map(|d| d.year()), Ok(1973));
    }

    #[test]
    fn parsing_and_helpers() {
        let good = "2h=2h| 3D =3d|2小时=2h|3天=3d|3工作日=3d| 12 h=12h|1000d=1000d";
        for (s, short) in good.split('|').filter_map(|c| c.split_once('=')) {
            let l = Limit::parse_short(s).expect(s);
            assert_eq!(
                (l.to_short(), Limit::new(l.value, l.unit)),
                (short.into(), Some(l))
            );
        }
        for bad in "0h|1001d|h||3|-1d|+2h|2.5h|2w|3 days|99999999999h".split('|') {
            assert_eq!(Limit::parse_short(bad), None, "{bad}");
        }
        assert_eq!(LimitUnit::parse(" Hours"), Some(LimitUnit::Hours));
        assert_eq!(LimitUnit::parse("days"), Some(LimitUnit::Days));
        assert_eq!(LimitUnit::parse("weeks"), None);
        assert_eq!(LimitUnit::Hours.as_str(), "hours");
        assert_eq!(LimitUnit::Days.as_str(), "days");
        for s in ["休", " 假", "HOLIDAY", "holiday"] {
            assert_eq!(parse_day_kind(s), Some(DayKind::Holiday), "{s}");
        }
        for s in ["班 ", "Workday"] {
            assert_eq!(parse_day_kind(s), Some(DayKind::Workday), "{s}");
        }
        assert_eq!(parse_day_kind("work"), None);
        assert_eq!(DayKind::Holiday.as_str(), "holiday");
        assert_eq!(DayKind::Workday.as_str(), "workday");
        assert_eq!(day_number(date!(2026 - 12 - 01)), 20261201);
        let mid = local_midnight_ms(date!(2026 - 12 - 01));
        assert_eq!(mid, at("2026-12-01 00:00"));
        assert_eq!(local_date(mid), date!(2026 - 12 - 01));
        assert_eq!(local_date(mid - 1), date!(2026 - 11 - 30));
    }

    fn start_range() -> std::ops::Range<i64> {
        at("2025-01-01 00:00")..at("2026-10-31 00:00")
    }

    fn any_limit() -> impl Strategy<Value = Limit> {
        prop_oneof![(1u32..=40).prop_map(hours), (1u32..=20).prop_map(days)]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn deadline_is_in_working_time(start in start_range(), limit in any_limit()) {
            let cal = shipped();
            let d = cal.deadline(start, limit)?;
            prop_assert!(d > start);
            prop_assert_eq!(cal.is_working_day(local_date(d)), Ok(true));
            let off = d - local_midnight_ms(local_date(d));
            let inside = |(s, e): (u16, u16)| {
                i64::from(s) * 60_000 < off && off <= i64::from(e) * 60_000
            };
            prop_assert!(WORK_PERIODS.into_iter().any(inside), "{:?} ends {} ms into the day", limit, off);
            if limit.unit == LimitUnit::Hours {
                let worked = cal.working_minutes_between(start, d);
                prop_assert_eq!(worked, Ok(i64::from(limit.value) * 60));
            }
        }

        #[test]
        fn monotonic_in_limit(start in start_range(), a in 1u32..=40, b in 1u32..=40, h: bool) {
            let cal = shipped();
            let (a, b) = (a.min(b), a.max(b));
            let (la, lb) = if h { (hours(a), hours(b)) } else { (days(a.div_ceil(2)), days(b.div_ceil(2))) };
            prop_assert!(cal.deadline(start, la)? <= cal.deadline(start, lb)?);
        }

        #[test]
        fn monotonic_in_start(s1 in start_range(), s2 in start_range(), limit in any_limit()) {
            let cal = shipped();
            let (s1, s2) = (s1.min(s2), s1.max(s2));
            // Also a start at most 2 h later: the interesting cases lie within a day.
            let s3 = s1 + (s2 - s1) % 7_200_000;
            let d1 = cal.deadline(s1, limit)?;
            prop_assert!(d1 <= cal.deadline(s2, limit)? && d1 <= cal.deadline(s3, limit)?);
        }

        #[test]
        fn minutes_round_trip(start in start_range(), minutes in 0i64..20_000) {
            let cal = shipped();
            let end = cal.add_working_minutes(start, minutes)?;
            prop_assert!(end >= start && cal.add_working_minutes(start, 0)? <= end);
            prop_assert_eq!(cal.working_minutes_between(start, end)?, minutes);
        }
    }
}
