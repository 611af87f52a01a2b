//! A case's deadlines (时限): the response, handling and verification clocks, computed with the
//! working-day calendar and the working hours of the case's area, and remembered with how they
//! were made (their [`Basis`]) so they can be computed again. A deadline that counted a day of a
//! year without a published holiday schedule is provisional (暂定, by the weekday rule); when
//! that year is loaded, [`recompute_open`] computes the open cases' deadlines again, clears the
//! flag, and notes the change on each case's timeline.
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::query::{self, CaseRow};
use crate::app::{AppState, Ctx};
use crate::domain::calendar::{
    local_date, local_midnight_ms, Calendar, CalendarError, Due, Limit, LimitUnit, WorkHours,
};
use crate::domain::now_ms;
use crate::error::{AppError, AppResult, Msg};
use crate::store;

/// PostgreSQL advisory lock between loading a year (exclusive) and settling a provisional
/// deadline (shared).
const CALENDAR_LOCK: i64 = 4205;

/// The three clocks of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Response,
    Handle,
    Verify,
}

impl Which {
    const ALL: [Which; 3] = [Which::Response, Which::Handle, Which::Verify];

    fn label(self) -> &'static str {
        match self {
            Which::Response => "响应时限",
            Which::Handle => "办理时限",
            Which::Verify => "核查时限",
        }
    }

    /// The case's column for this clock's deadline.
    fn slot(self, r: &mut CaseRow) -> &mut Option<i64> {
        match self {
            Which::Response => &mut r.response_due_at,
            Which::Handle => &mut r.handle_due_at,
            Which::Verify => &mut r.verify_due_at,
        }
    }
}

/// How one deadline was made: `limit` started at `from`, moved by `extra_days` working days of
/// approved extensions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clock {
    pub from: i64,
    /// "2h" or "3d".
    pub limit: String,
    #[serde(default)]
    pub extra_days: u32,
    #[serde(default)]
    pub provisional: bool,
}

impl Clock {
    fn new(from: i64, limit: Limit) -> Clock {
        Clock {
            from,
            limit: limit.to_short(),
            extra_days: 0,
            provisional: false,
        }
    }

    /// This clock's deadline on `cal`.
    fn due(&self, cal: &Calendar) -> Result<Due, CalendarError> {
        let limit = Limit::parse_short(&self.limit).ok_or(CalendarError::InvalidLimit(0))?;
        let due = cal.deadline(self.from, limit)?;
        if self.extra_days == 0 {
            return Ok(due);
        }
        let extra = Limit::new(self.extra_days, LimitUnit::Days)
            .ok_or(CalendarError::InvalidLimit(self.extra_days))?;
        let moved = cal.extend(due.at, extra)?;
        Ok(Due {
            at: moved.at,
            provisional: due.provisional || moved.provisional,
        })
    }
}

/// The basis of a case's running deadlines (stored as JSON in `cases.deadline_basis`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Basis {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Clock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<Clock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<Clock>,
}

impl Basis {
    /// The case's basis (empty for cases from before it was kept).
    pub fn of(r: &CaseRow) -> Basis {
        r.deadline_basis
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default()
    }

    fn clock(&mut self, which: Which) -> &mut Option<Clock> {
        match which {
            Which::Response => &mut self.response,
            Which::Handle => &mut self.handle,
            Which::Verify => &mut self.verify,
        }
    }

    /// Writes the basis and the provisional flag (any clock provisional) to the case.
    fn store(self, r: &mut CaseRow) {
        let clocks = [&self.response, &self.handle, &self.verify];
        r.deadline_provisional = clocks.iter().flat_map(|c| c.iter()).any(|c| c.provisional);
        r.deadline_basis = clocks
            .iter()
            .any(|c| c.is_some())
            .then(|| serde_json::to_string(&self).unwrap_or_default());
    }
}

fn limit_error(_: CalendarError) -> AppError {
    AppError::field(
        "limit",
        Msg::new(
            "时限超出可计算的范围",
            "The limit is out of the range that can be computed",
        ),
    )
}

/// Sets one clock's deadline: `clock` computed on `cal`. Returns the deadline.
fn set(cal: &Calendar, r: &mut CaseRow, which: Which, clock: Clock) -> AppResult<i64> {
    let due = clock.due(cal).map_err(limit_error)?;
    let mut basis = Basis::of(r);
    *basis.clock(which) = Some(Clock {
        provisional: due.provisional,
        ..clock
    });
    basis.store(r);
    *which.slot(r) = Some(due.at);
    Ok(due.at)
}

/// Starts a clock: `limit` from `from`. Returns the deadline.
pub fn start(
    cal: &Calendar,
    r: &mut CaseRow,
    which: Which,
    from: i64,
    limit: Limit,
) -> AppResult<i64> {
    set(cal, r, which, Clock::new(from, limit))
}

/// Moves the handling deadline by `days` working days (an approved extension); without a
/// running handling clock, counts them from `now`. Returns the deadline.
pub fn extend_handling(cal: &Calendar, r: &mut CaseRow, days: u32, now: i64) -> AppResult<i64> {
    let days_limit = Limit::new(days, LimitUnit::Days).ok_or(AppError::field(
        "days",
        Msg::new("天数应为 1–30 个工作日", "Give 1–30 working days"),
    ))?;
    let clock = match (Basis::of(r).handle, r.handle_due_at) {
        (Some(c), Some(_)) => Clock {
            extra_days: c.extra_days.saturating_add(days),
            ..c
        },
        // A deadline kept from before bases were: extend it as it stands.
        (None, Some(due)) => Clock::new(due, days_limit),
        (_, None) => Clock::new(now, days_limit),
    };
    set(cal, r, Which::Handle, clock)
}

/// Stops a clock (its deadline no longer runs).
pub fn stop(r: &mut CaseRow, which: Which) {
    let mut basis = Basis::of(r);
    *basis.clock(which) = None;
    basis.store(r);
    *which.slot(r) = None;
}

/// Computes the case's running deadlines again from their basis on `cal`. The warning moves with
/// the handling deadline; a deadline moved past `now` is no longer overdue. Returns whether a
/// deadline or the provisional flag changed.
pub fn recompute(cal: &Calendar, r: &mut CaseRow, now: i64) -> bool {
    let before = (
        r.response_due_at,
        r.handle_due_at,
        r.verify_due_at,
        r.deadline_provisional,
    );
    let mut basis = Basis::of(r);
    for which in Which::ALL {
        let Some(clock) = basis.clock(which).as_mut() else {
            continue;
        };
        if which.slot(r).is_none() {
            continue; // stopped: the basis is stale
        }
        if let Ok(due) = clock.due(cal) {
            clock.provisional = due.provisional;
            *which.slot(r) = Some(due.at);
        }
    }
    basis.store(r);
    if let (Some(old), Some(new)) = (before.1, r.handle_due_at) {
        r.warn_at = r.warn_at.map(|w| w + (new - old));
        r.overdue = r.overdue && new <= now;
        r.warned = r.warned && r.warn_at.is_some_and(|w| w <= now);
    }
    before
        != (
            r.response_due_at,
            r.handle_due_at,
            r.verify_due_at,
            r.deadline_provisional,
        )
}

/// The working hours of an area: those of the nearest area at or above it that has its own
/// (`GONGZHI_WORK_HOURS_BY_AREA`), else `GONGZHI_WORK_HOURS`.
#[tracing::instrument(name = "cases::deadlines::hours_for", skip_all)]
pub async fn hours_for<C: ConnectionTrait>(
    state: &AppState,
    c: &C,
    area_id: Uuid,
) -> AppResult<WorkHours> {
    let policy = &state.settings.cases;
    if policy.work_hours_by_area.is_empty() {
        return Ok(policy.work_hours.clone());
    }
    #[derive(FromQueryResult)]
    struct A {
        code: String,
    }
    let above: Vec<A> = store::fetch_all(
        c,
        "SELECT a.code FROM area_closure c JOIN areas a ON a.id = c.ancestor_id \
         WHERE c.descendant_id = $1 ORDER BY c.depth",
        vec![area_id.into()],
    )
    .await?;
    let own = above.iter().find_map(|a| {
        policy
            .work_hours_by_area
            .iter()
            .find(|(code, _)| *code == a.code)
    });
    Ok(own.map_or_else(|| policy.work_hours.clone(), |(_, h)| h.clone()))
}

/// The calendar (cached) with the working hours of the area.
#[tracing::instrument(name = "cases::deadlines::calendar_for", skip_all)]
pub async fn calendar_for<C: ConnectionTrait>(
    state: &AppState,
    c: &C,
    area_id: Uuid,
) -> AppResult<Calendar> {
    let base = state.case_caches.calendar(c).await?;
    let hours = hours_for(state, c, area_id).await?;
    Ok((*base).clone().with_hours(hours))
}

/// A provisional deadline may come from a calendar this instance cached before another loaded
/// the year: after any load in progress (PostgreSQL: a shared lock the load takes exclusively),
/// compute it again with the calendar as stored.
#[tracing::instrument(name = "cases::deadlines::settle", skip_all)]
pub async fn settle<C: ConnectionTrait>(state: &AppState, c: &C, r: &mut CaseRow) -> AppResult<()> {
    if !r.deadline_provisional {
        return Ok(());
    }
    if c.get_database_backend() == DbBackend::Postgres {
        let sql = format!("SELECT pg_advisory_xact_lock_shared({CALENDAR_LOCK})");
        store::exec(c, &sql, vec![]).await?;
    }
    let cal = super::calendar::load(c)
        .await?
        .with_hours(hours_for(state, c, r.area_id).await?);
    recompute(&cal, r, now_ms());
    Ok(())
}

/// After a year's schedule was written (in the same transaction): computes the provisional
/// deadlines of open cases again, and notes each change on the case's timeline. Returns how
/// many cases changed.
#[tracing::instrument(name = "cases::deadlines::recompute_open", skip_all)]
pub async fn recompute_open<C: ConnectionTrait>(
    state: &AppState,
    c: &C,
    ctx: &Ctx,
    allowed: &crate::app::scope::Checked,
) -> AppResult<usize> {
    if c.get_database_backend() == DbBackend::Postgres {
        let sql = format!("SELECT pg_advisory_xact_lock({CALENDAR_LOCK})");
        store::exec(c, &sql, vec![]).await?;
    }
    let base = super::calendar::load(c).await?;
    let (mut after, mut changed) = (Uuid::nil(), 0);
    loop {
        let rows: Vec<CaseRow> = store::fetch_all(
            c,
            &format!(
                "SELECT {} FROM cases WHERE deadline_provisional = TRUE AND id > $1 \
                 AND status NOT IN ('closed', 'rejected', 'merged') ORDER BY id LIMIT 500",
                query::COLUMNS
            ),
            vec![after.into()],
        )
        .await?;
        let Some(last) = rows.last() else {
            return Ok(changed);
        };
        after = last.id;
        for row in rows {
            changed += usize::from(recompute_case(state, c, ctx, allowed, &base, row).await?);
        }
    }
}

/// [`recompute`] of one case, written with a timeline event. A case changed meanwhile by
/// someone else is read again (up to three times).
async fn recompute_case<C: ConnectionTrait>(
    state: &AppState,
    c: &C,
    ctx: &Ctx,
    allowed: &crate::app::scope::Checked,
    base: &Calendar,
    mut row: CaseRow,
) -> AppResult<bool> {
    let cal = base
        .clone()
        .with_hours(hours_for(state, c, row.area_id).await?);
    for _ in 0..3 {
        let now = now_ms();
        let mut r = row.clone();
        if !recompute(&cal, &mut r, now) {
            return Ok(false);
        }
        r.version += 1;
        r.updated_at = now;
        if super::lifecycle::update_row(c, &r, row.version).await? == 1 {
            let note = Some(change_note(&row, &r));
            super::lifecycle::event(
                c,
                ctx,
                allowed,
                &r,
                "recompute_deadline",
                None,
                None,
                None,
                note,
                &[],
            )
            .await?;
            super::stats::record(c, Some(&row), &r).await?;
            return Ok(true);
        }
        match query::load(c, row.id).await? {
            Some(again) if again.deadline_provisional => row = again,
            _ => return Ok(false),
        }
    }
    Ok(false)
}

/// "按已发布的节假日安排重新计算：办理时限 2027-01-01 18:00 → 2027-01-04 18:00".
fn change_note(before: &CaseRow, after: &CaseRow) -> String {
    let (mut b, mut a) = (before.clone(), after.clone());
    let moved: Vec<String> = Which::ALL
        .iter()
        .filter_map(|w| match (*w.slot(&mut b), *w.slot(&mut a)) {
            (Some(x), Some(y)) if x != y => Some(format!(
                "{} {} → {}",
                w.label(),
                local_text(x),
                local_text(y)
            )),
            _ => None,
        })
        .collect();
    let tail = if after.deadline_provisional {
        "（仍有年度节假日安排未发布，仍为暂定）"
    } else {
        ""
    };
    if moved.is_empty() {
        format!("按已发布的节假日安排核对时限：不变{tail}")
    } else {
        format!("按已发布的节假日安排重新计算：{}{tail}", moved.join("；"))
    }
}

/// "2027-01-04 18:00" (Asia/Shanghai).
fn local_text(ms: i64) -> String {
    let d = local_date(ms);
    let minutes = (ms - local_midnight_ms(d)).div_euclid(60_000);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        d.year(),
        u8::from(d.month()),
        d.day(),
        minutes / 60,
        minutes % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::shipped;

    /// Unix ms of "YYYY-MM-DD hh:mm" Asia/Shanghai.
    fn at(s: &str) -> i64 {
        let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
        let t = time::PrimitiveDateTime::parse(s, f).expect("test time");
        (t.assume_offset(time::macros::offset!(+8))
            .unix_timestamp_nanos()
            / 1_000_000) as i64
    }

    fn days(n: u32) -> Limit {
        Limit::new(n, LimitUnit::Days).expect("limit")
    }

    #[test]
    fn provisional_until_the_year_is_known_then_recomputed() {
        let mut r = CaseRow::default();
        let cal = shipped();
        let now = at("2026-12-30 10:00");
        start(
            &cal,
            &mut r,
            Which::Response,
            now,
            Limit::parse_short("2h").unwrap(),
        )
        .unwrap();
        start(&cal, &mut r, Which::Handle, now, days(2)).unwrap();
        assert_eq!(r.response_due_at, Some(at("2026-12-30 12:00")));
        assert_eq!(r.handle_due_at, Some(at("2027-01-01 18:00")));
        assert!(r.deadline_provisional);
        r.warn_at = Some(at("2027-01-01 10:00"));
        // An extension counts from the deadline.
        extend_handling(&cal, &mut r, 1, now).unwrap();
        assert_eq!(r.handle_due_at, Some(at("2027-01-04 18:00")));
        // 2027 is published with 1 January off: the deadline moves, and is no longer provisional.
        let known = Calendar::new(
            [2025, 2026, 2027],
            [(
                local_date(at("2027-01-01 00:00")),
                crate::domain::calendar::DayKind::Holiday,
            )],
        );
        let before = r.clone();
        assert!(recompute(&known, &mut r, now));
        assert_eq!(r.handle_due_at, Some(at("2027-01-05 18:00")));
        assert_eq!(r.response_due_at, before.response_due_at);
        assert!(!r.deadline_provisional);
        assert_eq!(r.warn_at, Some(at("2027-01-02 10:00")));
        assert_eq!(
            change_note(&before, &r),
            "按已发布的节假日安排重新计算：办理时限 2027-01-04 18:00 → 2027-01-05 18:00"
        );
        assert!(!recompute(&known, &mut r, now), "nothing left to change");
        // A stopped clock is not brought back.
        stop(&mut r, Which::Handle);
        assert!(!recompute(&known, &mut r, now) && r.handle_due_at.is_none());
    }

    #[test]
    fn cases_from_before_bases_extend_as_they_stand() {
        let cal = shipped();
        let mut r = CaseRow {
            handle_due_at: Some(at("2026-09-30 18:00")),
            ..Default::default()
        };
        extend_handling(&cal, &mut r, 1, 0).unwrap();
        assert_eq!(r.handle_due_at, Some(at("2026-10-08 18:00")));
        assert!(!r.deadline_provisional && r.deadline_basis.is_some());
        let mut none = CaseRow::default();
        assert!(!recompute(&cal, &mut none, 0));
    }
}
