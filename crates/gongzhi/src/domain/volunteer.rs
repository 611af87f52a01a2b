//! Protection from burnout (避免过度消耗志愿者热情, issue 5, first slice): a sign-up or assignment is
//! refused, with the reason, when it would take a volunteer past their limits — hours in a week,
//! consecutive days of service, rest between shifts. Weeks and days are Asia/Shanghai. No IO.
use crate::domain::calendar::local_date;
use crate::error::Msg;

/// A volunteer's limits (the defaults are configurable; a volunteer may set lower ones).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub hours_per_week: f64,
    pub consecutive_days: u32,
    pub rest_hours: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            hours_per_week: 20.0,
            consecutive_days: 5,
            rest_hours: 8.0,
        }
    }
}

impl Limits {
    /// The stricter of the defaults and the volunteer's own.
    pub fn stricter(self, own: Option<Limits>) -> Limits {
        match own {
            None => self,
            Some(o) => Limits {
                hours_per_week: self.hours_per_week.min(o.hours_per_week),
                consecutive_days: self.consecutive_days.min(o.consecutive_days),
                rest_hours: self.rest_hours.max(o.rest_hours),
            },
        }
    }
}

/// A shift: start and end, Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shift {
    pub start: i64,
    pub end: i64,
}

const HOUR: f64 = 3_600_000.0;

/// The ISO week (year, week) of an instant, in Asia/Shanghai.
fn iso_week(ms: i64) -> (i32, u8) {
    let (y, w, _) = local_date(ms).to_iso_week_date();
    (y, w)
}

/// Whether `new` may be added to a volunteer's `shifts`; the reason when not.
pub fn check(limits: &Limits, shifts: &[Shift], new: Shift) -> Result<(), Msg> {
    if new.end <= new.start {
        return Err(Msg::new(
            "结束时间应晚于开始时间",
            "The end must be after the start",
        ));
    }
    for s in shifts {
        if new.start < s.end && s.start < new.end {
            return Err(Msg::new(
                "与已报名的另一场服务时间重叠",
                "It overlaps another shift the volunteer signed up for",
            ));
        }
        let gap = if s.end <= new.start {
            new.start - s.end
        } else {
            s.start - new.end
        };
        if (gap as f64) < limits.rest_hours * HOUR {
            return Err(Msg::owned(
                format!(
                    "两次服务之间至少休息 {} 小时（这次只隔 {:.1} 小时）",
                    limits.rest_hours,
                    gap as f64 / HOUR
                ),
                format!(
                    "At least {} h of rest between shifts (this leaves {:.1} h)",
                    limits.rest_hours,
                    gap as f64 / HOUR
                ),
            ));
        }
    }
    let week = iso_week(new.start);
    let hours: f64 = shifts
        .iter()
        .filter(|s| iso_week(s.start) == week)
        .map(|s| (s.end - s.start) as f64 / HOUR)
        .sum::<f64>()
        + (new.end - new.start) as f64 / HOUR;
    if hours > limits.hours_per_week + 1e-9 {
        return Err(Msg::owned(
            format!(
                "本周服务将达 {hours:.1} 小时，超过每周 {} 小时的上限",
                limits.hours_per_week
            ),
            format!(
                "This week would reach {hours:.1} h, over the limit of {} h a week",
                limits.hours_per_week
            ),
        ));
    }
    let mut days: Vec<time::Date> = shifts.iter().map(|s| local_date(s.start)).collect();
    let d = local_date(new.start);
    days.push(d);
    days.sort();
    days.dedup();
    let (mut run, mut longest) = (0u32, 0u32);
    let mut prev: Option<time::Date> = None;
    for day in days {
        run = match prev {
            Some(p) if p.next_day() == Some(day) => run + 1,
            _ => 1,
        };
        longest = longest.max(run);
        prev = Some(day);
    }
    if longest > limits.consecutive_days {
        return Err(Msg::owned(
            format!(
                "将连续服务 {longest} 天，超过 {} 天的上限",
                limits.consecutive_days
            ),
            format!(
                "It would make {longest} consecutive days, over the limit of {}",
                limits.consecutive_days
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-06-01 (a Monday) at `h` o'clock Asia/Shanghai, plus `day` days.
    fn at(day: i64, h: i64) -> i64 {
        let monday =
            crate::domain::calendar::local_midnight_ms(time::macros::date!(2026 - 06 - 01));
        monday + day * 86_400_000 + h * 3_600_000
    }
    fn shift(day: i64, from: i64, to: i64) -> Shift {
        Shift {
            start: at(day, from),
            end: at(day, to),
        }
    }

    #[test]
    fn weekly_hours_rest_and_consecutive_days_are_enforced() {
        let l = Limits::default();
        let week: Vec<Shift> = (0..4).map(|d| shift(d, 9, 13)).collect(); // 16 h Mon–Thu
        assert!(check(&l, &week, shift(4, 9, 12)).is_ok()); // 19 h, 5th day
        assert!(check(&l, &week, shift(4, 9, 14))
            .unwrap_err()
            .zh
            .contains("每周"));
        let five: Vec<Shift> = (0..5).map(|d| shift(d, 9, 11)).collect();
        assert!(check(&l, &five, shift(5, 9, 11))
            .unwrap_err()
            .zh
            .contains("连续"));
        assert!(check(&l, &[shift(0, 9, 13)], shift(0, 16, 18))
            .unwrap_err()
            .zh
            .contains("休息"));
        assert!(check(&l, &[shift(0, 9, 13)], shift(0, 12, 14))
            .unwrap_err()
            .zh
            .contains("重叠"));
        // A new week starts the count again.
        let mon_to_thu: Vec<Shift> = (0..4).map(|d| shift(d, 8, 13)).collect();
        assert!(check(&l, &mon_to_thu, shift(9, 8, 13)).is_ok());
    }

    #[test]
    fn a_volunteer_may_only_lower_the_limits() {
        let own = Limits {
            hours_per_week: 40.0,
            consecutive_days: 2,
            rest_hours: 4.0,
        };
        let s = Limits::default().stricter(Some(own));
        assert_eq!(
            s,
            Limits {
                hours_per_week: 20.0,
                consecutive_days: 2,
                rest_hours: 8.0
            }
        );
    }
}
