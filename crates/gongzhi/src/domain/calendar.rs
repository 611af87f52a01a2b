//! Working-day calendar (工作日历) and deadline arithmetic (办理时限).
//!
//! All domain time is Asia/Shanghai, a fixed UTC+8 with no DST; instants in and out are Unix
//! milliseconds (UTC). A [`Calendar`] is a set of *known* years (whose holiday schedule is
//! published) plus per-day overrides: [`DayKind::Holiday`] (法定节假日, 放假) and
//! [`DayKind::Workday`] (调休上班 on a weekend), and the [`WorkHours`] of a working day (default
//! 09:00–12:00 and 13:00–18:00). A date is a working day iff it is Mon–Fri without a holiday
//! override, or has a workday override.
//!
//! - An *hours* limit is N×60 working minutes from the start; a start outside working time
//!   counts from the next period start, and a count ending exactly at a period's end ends there.
//! - A *days* limit ends at the end of the last period of the N-th working day strictly after the
//!   start's local date (the start day never counts).
//!
//! A date of a year the calendar does not know is never refused: the weekday rule stands in
//! (Monday–Friday), and the result is marked [`Due::provisional`] when such a day was consulted.
//! Every walk over days is bounded by [`MAX_WALK_DAYS`], and nothing here panics.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use time::{Date, Weekday};

/// Asia/Shanghai offset from UTC, in milliseconds.
pub const UTC_OFFSET_MS: i64 = 8 * 3_600_000;
/// Default working periods of a working day, as (start, end) minutes of the local day:
/// 09:00–12:00 and 13:00–18:00 (480 minutes).
pub const DEFAULT_WORK_PERIODS: [(u16, u16); 2] = [(540, 720), (780, 1080)];
/// Largest limit value accepted (hours or days).
pub const MAX_LIMIT_VALUE: u32 = 1000;
/// Bound on any walk over days (5 years: enough for the largest days limit, 1000 working
/// days ≈ 4 years). A walk that reaches it fails with `OutOfRange`.
pub const MAX_WALK_DAYS: i64 = 5 * 366;
/// Most working periods in a day.
pub const MAX_WORK_PERIODS: usize = 4;

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
    /// A limit value outside 1..=[`MAX_LIMIT_VALUE`].
    InvalidLimit(u32),
    /// Negative minutes, an instant outside the supported date range, or a walk longer than
    /// [`MAX_WALK_DAYS`].
    OutOfRange,
}

impl fmt::Display for CalendarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CalendarError::InvalidLimit(v) => {
                write!(f, "limit {v} is outside 1..={MAX_LIMIT_VALUE}")
            }
            CalendarError::OutOfRange => f.write_str("value outside the supported range"),
        }
    }
}

impl std::error::Error for CalendarError {}

/// A computed instant, and whether a day of a year without a published schedule was counted by
/// the weekday rule on the way (暂定: it may move once that year's holidays are loaded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Due {
    pub at: i64,
    pub provisional: bool,
}

/// Unit of a time limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitUnit {
    /// Working hours.
    Hours,
    /// Working days, ending at the end of the working day.
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

/// The working periods of a working day: 1–[`MAX_WORK_PERIODS`] (start, end) minutes of the local
/// day, in order, not overlapping, within 00:00–24:00.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkHours(Vec<(u16, u16)>);

impl Default for WorkHours {
    fn default() -> Self {
        WorkHours(DEFAULT_WORK_PERIODS.to_vec())
    }
}

impl WorkHours {
    /// Checks the periods (see the type).
    pub fn new(periods: Vec<(u16, u16)>) -> Option<WorkHours> {
        let ok = (1..=MAX_WORK_PERIODS).contains(&periods.len())
            && periods.iter().all(|&(s, e)| s < e && e <= 1440)
            && periods.windows(2).all(|w| w[0].1 <= w[1].0);
        ok.then_some(WorkHours(periods))
    }

    /// Parses "09:00-12:00,13:30-17:30" (spaces allowed around the parts).
    pub fn parse(s: &str) -> Option<WorkHours> {
        let periods = s
            .split(',')
            .map(|p| {
                let (a, b) = p.split_once('-')?;
                Some((clock_minute(a)?, clock_minute(b)?))
            })
            .collect::<Option<Vec<_>>>()?;
        WorkHours::new(periods)
    }

    pub fn periods(&self) -> &[(u16, u16)] {
        &self.0
    }

    /// Working minutes in a working day.
    pub fn minutes_per_day(&self) -> i64 {
        self.0.iter().map(|&(s, e)| i64::from(e - s)).sum()
    }

    /// The periods in milliseconds of the day.
    fn periods_ms(&self) -> impl Iterator<Item = (i64, i64)> + '_ {
        self.0
            .iter()
            .map(|&(s, e)| (i64::from(s) * MINUTE_MS, i64::from(e) * MINUTE_MS))
    }

    /// End of the working day in milliseconds of the day.
    fn day_end_ms(&self) -> i64 {
        self.periods_ms().map(|(_, e)| e).max().unwrap_or(0)
    }
}

impl fmt::Display for WorkHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &(s, e)) in self.0.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            write!(
                f,
                "{sep}{:02}:{:02}-{:02}:{:02}",
                s / 60,
                s % 60,
                e / 60,
                e % 60
            )?;
        }
        Ok(())
    }
}

/// "09:00" → 540; "24:00" is the end of the day. Hours may have one digit ("9:00").
fn clock_minute(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    let digits = |x: &str, n: std::ops::RangeInclusive<usize>| {
        n.contains(&x.len()) && x.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(h, 1..=2) || !digits(m, 2..=2) {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 || h == 24 && m == 0).then_some(h * 60 + m)
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

/// Known years, per-day overrides and the working hours.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    years: BTreeSet<i32>,
    overrides: BTreeMap<Date, DayKind>,
    hours: WorkHours,
}

impl Calendar {
    /// A calendar knowing `known_years`, with `days` overriding the weekday rule (later
    /// entries for the same date win), and the default working hours.
    pub fn new(
        known_years: impl IntoIterator<Item = i32>,
        days: impl IntoIterator<Item = (Date, DayKind)>,
    ) -> Calendar {
        Calendar {
            years: known_years.into_iter().collect(),
            overrides: days.into_iter().collect(),
            hours: WorkHours::default(),
        }
    }

    /// The same calendar with other working hours.
    pub fn with_hours(mut self, hours: WorkHours) -> Calendar {
        self.hours = hours;
        self
    }

    pub fn hours(&self) -> &WorkHours {
        &self.hours
    }

    /// Whether the year's schedule is known.
    pub fn knows(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    /// Whether `date` is a working day (by the weekday rule in a year the calendar does not know).
    pub fn is_working_day(&self, date: Date) -> bool {
        match self.overrides.get(&date) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday),
        }
    }

    /// [`Calendar::is_working_day`] of a day index; notes in `guessed` a day of an unknown year.
    fn working(&self, day: i64, guessed: &mut bool) -> Result<bool, CalendarError> {
        let date = date_of(day)?;
        *guessed |= !self.knows(date.year());
        Ok(self.is_working_day(date))
    }

    /// The deadline of `limit` started at `start_ms` (see the module doc).
    pub fn deadline(&self, start_ms: i64, limit: Limit) -> Result<Due, CalendarError> {
        if Limit::new(limit.value, limit.unit).is_none() {
            return Err(CalendarError::InvalidLimit(limit.value));
        }
        match limit.unit {
            LimitUnit::Hours => self.add_working_minutes(start_ms, i64::from(limit.value) * 60),
            LimitUnit::Days => self.nth_working_day_end(start_ms, limit.value),
        }
    }

    /// Moves an existing deadline by `limit` (an approved extension, 延期): hours are added as
    /// working time from the deadline, days end with the N-th working day after the deadline's
    /// local date. This is exactly [`Calendar::deadline`] started at the deadline.
    pub fn extend(&self, deadline_ms: i64, limit: Limit) -> Result<Due, CalendarError> {
        self.deadline(deadline_ms, limit)
    }

    /// The instant `minutes` working minutes after `start_ms`; counting starts at the next
    /// period start when `start_ms` is outside working time. With `minutes == 0` the result is
    /// `start_ms` itself inside working time, else the next period start (so 12:00 gives 13:00):
    /// the result is then the earliest working instant at or after the start, which keeps the
    /// function non-decreasing in both arguments. Negative minutes are `OutOfRange`.
    pub fn add_working_minutes(&self, start_ms: i64, minutes: i64) -> Result<Due, CalendarError> {
        if minutes < 0 {
            return Err(CalendarError::OutOfRange);
        }
        let mut remaining = minutes
            .checked_mul(MINUTE_MS)
            .ok_or(CalendarError::OutOfRange)?;
        let (mut day, mut pos) = split(start_ms)?;
        let mut provisional = false;
        for _ in 0..MAX_WALK_DAYS {
            // A day with no working time left after `pos` is skipped without looking it up.
            if pos < self.hours.day_end_ms() && self.working(day, &mut provisional)? {
                for (s, e) in self.hours.periods_ms().filter(|&(_, e)| pos < e) {
                    let from = pos.max(s);
                    if remaining <= e - from {
                        let at = day_start_ms(day) + from + remaining;
                        return Ok(Due { at, provisional });
                    }
                    remaining -= e - from;
                }
            }
            day += 1;
            pos = 0;
        }
        Err(CalendarError::OutOfRange)
    }

    /// Working minutes in `[a_ms, b_ms)` (0 if `b_ms <= a_ms`), rounded down to whole minutes.
    pub fn working_minutes_between(&self, a_ms: i64, b_ms: i64) -> Result<i64, CalendarError> {
        if b_ms <= a_ms {
            return Ok(0);
        }
        let (day_a, pos_a) = split(a_ms)?;
        let (day_b, pos_b) = split(b_ms)?;
        if day_b - day_a >= MAX_WALK_DAYS {
            return Err(CalendarError::OutOfRange);
        }
        let mut total = 0i64;
        for day in day_a..=day_b {
            let lo = if day == day_a { pos_a } else { 0 };
            let hi = if day == day_b { pos_b } else { DAY_MS };
            let overlap: i64 = self
                .hours
                .periods_ms()
                .map(|(s, e)| (hi.min(e) - lo.max(s)).max(0))
                .sum();
            if overlap > 0 && self.working(day, &mut false)? {
                total += overlap;
            }
        }
        Ok(total / MINUTE_MS)
    }

    /// The end of the `n`-th working day strictly after the local date of `from_ms` (n ≥ 1).
    fn nth_working_day_end(&self, from_ms: i64, n: u32) -> Result<Due, CalendarError> {
        let (mut day, _) = split(from_ms)?;
        let mut left = n;
        let mut provisional = false;
        for _ in 0..MAX_WALK_DAYS {
            day += 1;
            if self.working(day, &mut provisional)? {
                if left <= 1 {
                    let at = day_start_ms(day) + self.hours.day_end_ms();
                    return Ok(Due { at, provisional });
                }
                left -= 1;
            }
        }
        Err(CalendarError::OutOfRange)
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
            assert_eq!(cal.is_working_day(date), workday, "{d}");
            assert_eq!(workday, name.ends_with("调休上班"), "{d}");
            assert!(!workday || weekend, "{d}: an adjusted workday is a weekend");
        }
        assert!(!cal.is_working_day(date!(2026 - 03 - 07))); // plain Saturday
        assert!(cal.is_working_day(date!(2026 - 03 - 09))); // plain Monday
                                                            // A year without a schedule: the weekday rule.
        assert!(!cal.knows(2027) && cal.is_working_day(date!(2027 - 01 - 01)));
        assert!(!cal.is_working_day(date!(2027 - 01 - 02)));
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
                Ok(known(at(want))),
                "{start} + {limit:?}"
            );
        }
        // Seconds and milliseconds are kept.
        let d = cal.deadline(ms(datetime!(2026-03-09 11:59:30.25)), hours(1));
        assert_eq!(d, Ok(known(ms(datetime!(2026-03-09 13:59:30.25)))));
        // Extensions count from the deadline (its date, for days).
        let dl = at("2026-09-30 18:00");
        assert_eq!(cal.extend(dl, days(1)), Ok(known(at("2026-10-08 18:00"))));
        assert_eq!(cal.extend(dl, hours(1)), Ok(known(at("2026-10-08 10:00"))));
    }

    #[test]
    fn zero_minutes_and_between() {
        let cal = shipped();
        let add = |t, m| cal.add_working_minutes(at(t), m).map(|d| d.at);
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
        // Into a year without a schedule: Friday 1 Jan 2027 counts as a working day.
        assert_eq!(between("2026-12-31 17:00", "2027-01-01 08:00"), Ok(60));
        assert_eq!(
            between("2026-12-31 17:00", "2027-01-04 10:00"),
            Ok(60 + 480 + 60)
        );
    }

    /// A deadline of a known year only.
    fn known(at: i64) -> Due {
        Due {
            at,
            provisional: false,
        }
    }

    #[test]
    fn unknown_years_fall_back_to_weekdays() {
        let cal = shipped();
        let due = |t, l| cal.deadline(at(t), l).expect("never refused");
        let guess = |t| Due {
            at: at(t),
            provisional: true,
        };
        // Thursday 31 Dec 2026 + 1 day: Friday 1 Jan 2027 by the weekday rule (元旦 unknown yet).
        assert_eq!(due("2026-12-31 10:00", days(1)), guess("2027-01-01 18:00"));
        assert_eq!(due("2026-12-31 10:00", days(2)), guess("2027-01-04 18:00"));
        // Within 2026 nothing is guessed, even when the start is late in the year.
        assert_eq!(
            due("2026-12-31 10:00", hours(1)),
            known(at("2026-12-31 11:00"))
        );
        assert_eq!(due("2027-03-01 10:00", hours(1)), guess("2027-03-01 11:00"));
        assert_eq!(due("2024-12-31 10:00", hours(1)), guess("2024-12-31 11:00"));
        // A start in an unknown year whose count ends in a known one: still provisional.
        assert_eq!(due("2024-12-31 17:00", hours(2)), guess("2025-01-02 10:00"));
        // Loading the year makes the same deadline exact, and moves it past the holiday.
        let mut with_2027 = shipped();
        with_2027.years.insert(2027);
        with_2027
            .overrides
            .insert(date!(2027 - 01 - 01), DayKind::Holiday);
        let d = with_2027.deadline(at("2026-12-31 10:00"), days(1));
        assert_eq!(d, Ok(known(at("2027-01-04 18:00"))));
    }

    #[test]
    fn bad_input_and_extremes() {
        let cal = shipped();
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
        let far = all.deadline(0, days(1000)).map(|d| local_date(d.at));
        assert_eq!(far.map(|d| d.year()), Ok(1973));
    }

    #[test]
    fn working_hours() {
        let h = WorkHours::parse(" 9:00-12:00 , 13:30-17:30").expect("valid");
        assert_eq!(h.to_string(), "09:00-12:00,13:30-17:30");
        assert_eq!(h.minutes_per_day(), 420);
        assert_eq!(WorkHours::default().to_string(), "09:00-12:00,13:00-18:00");
        assert_eq!(WorkHours::default().minutes_per_day(), 480);
        assert_eq!(
            WorkHours::parse("00:00-24:00").map(|h| h.minutes_per_day()),
            Some(1440)
        );
        for bad in [
            "",
            "09:00",
            "09:00-09:00",
            "12:00-09:00",
            "09:00-12:00,11:00-13:00",
            "13:00-14:00,09:00-12:00",
            "09:00-24:01",
            "25:00-26:00",
            "9:0-12:00",
            "09:00-12:00,,13:00-14:00",
            "1-2,3-4,5-6,7-8,9-10",
            "08:00-09:00,10:00-11:00,12:00-13:00,14:00-15:00,16:00-17:00",
            "０9:00-12:00",
        ] {
            assert_eq!(WorkHours::parse(bad), None, "{bad}");
        }
        // The same start and limits with other hours.
        let cal = shipped().with_hours(h);
        let due = |t, l| cal.deadline(at(t), l).map(|d| d.at);
        assert_eq!(
            due("2026-03-09 11:00", hours(2)),
            Ok(at("2026-03-09 14:30"))
        );
        assert_eq!(
            due("2026-03-09 17:00", hours(1)),
            Ok(at("2026-03-10 09:30"))
        );
        assert_eq!(due("2026-03-09 10:00", days(1)), Ok(at("2026-03-10 17:30")));
        assert_eq!(
            cal.working_minutes_between(at("2026-03-09 00:00"), at("2026-03-10 00:00")),
            Ok(420)
        );
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
            let Due { at: d, provisional } = cal.deadline(start, limit)?;
            prop_assert!(d > start && !provisional);
            prop_assert!(cal.is_working_day(local_date(d)));
            let off = d - local_midnight_ms(local_date(d));
            let inside = |(s, e): (u16, u16)| {
                i64::from(s) * 60_000 < off && off <= i64::from(e) * 60_000
            };
            prop_assert!(DEFAULT_WORK_PERIODS.into_iter().any(inside), "{:?} ends {} ms into the day", limit, off);
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
            prop_assert!(cal.deadline(start, la)?.at <= cal.deadline(start, lb)?.at);
        }

        #[test]
        fn monotonic_in_start(s1 in start_range(), s2 in start_range(), limit in any_limit()) {
            let cal = shipped();
            let (s1, s2) = (s1.min(s2), s1.max(s2));
            // Also a start at most 2 h later: the interesting cases lie within a day.
            let s3 = s1 + (s2 - s1) % 7_200_000;
            let d1 = cal.deadline(s1, limit)?.at;
            prop_assert!(d1 <= cal.deadline(s2, limit)?.at && d1 <= cal.deadline(s3, limit)?.at);
        }

        #[test]
        fn minutes_round_trip(start in start_range(), minutes in 0i64..20_000) {
            let cal = shipped();
            let end = cal.add_working_minutes(start, minutes)?.at;
            prop_assert!(end >= start && cal.add_working_minutes(start, 0)?.at <= end);
            prop_assert_eq!(cal.working_minutes_between(start, end)?, minutes);
        }
    }
}
