//! The burnout panel (负荷): volunteers near their limits, and willing ones left idle.
use super::*;

// ---------------------------------------------------------------------------- burnout panel

#[derive(Debug, Serialize, ToSchema)]
pub struct NearLimit {
    pub volunteer_id: Uuid,
    pub name: String,
    pub community_name: String,
    pub week_hours: f64,
    pub hours_per_week: f64,
    pub consecutive_days: u32,
    pub consecutive_limit: u32,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Idle {
    pub volunteer_id: Uuid,
    pub name: String,
    pub community_name: String,
    pub last_asked_at: Option<String>,
    pub days_idle: Option<i64>,
    pub skills: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Load {
    pub near_limits: Vec<NearLimit>,
    pub idle: Vec<Idle>,
    /// Days without a sign-up or assignment after which a willing volunteer is listed as idle.
    pub idle_days: i64,
}

pub const IDLE_DAYS: i64 = 30;

/// People at ≥ 80 % of their weekly hours or at their consecutive-day limit (this week, signed-up
/// shifts included), and willing people not asked for 30 days or more.
#[tracing::instrument(name = "service::people::load", skip_all)]
pub async fn load(state: &AppState, ctx: &Ctx, area_id: Option<Uuid>) -> AppResult<Load> {
    let now = now_ms();
    Ok(Load {
        near_limits: near_limits(state, ctx, area_id, now).await?,
        idle: idle(state, ctx, area_id, now).await?,
        idle_days: IDLE_DAYS,
    })
}

/// A volunteer's signed-up shifts from a week ago to a week ahead.
#[derive(FromQueryResult)]
struct Shift {
    volunteer_id: Uuid,
    name: String,
    community_name: String,
    own_week_minutes: Option<i32>,
    own_consecutive_days: Option<i32>,
    own_rest_minutes: Option<i32>,
    starts_at: i64,
    ends_at: i64,
}

/// Volunteers near their weekly hours or consecutive days (the stricter of the policy and their
/// own limits), most hours first.
async fn near_limits(
    state: &AppState,
    ctx: &Ctx,
    area_id: Option<Uuid>,
    now: i64,
) -> AppResult<Vec<NearLimit>> {
    let db = &state.db;
    let week_start = now - 7 * 86_400_000;
    let mut w =
        super::super::area_where(db, ctx, Permission::ReadService, area_id, "v.community_id")
            .await?;
    w.and(
        "s.status = 'signed' AND s.starts_at >= ? AND s.starts_at < ?",
        [week_start.into(), (now + 7 * 86_400_000).into()],
    );
    let (cond, values) = w.build(1);
    let shifts: Vec<Shift> = store::fetch_all(
        db,
        &format!(
            "SELECT v.id AS volunteer_id, p.name, a.name AS community_name, v.own_week_minutes, v.own_consecutive_days, v.own_rest_minutes, \
             s.starts_at, s.ends_at FROM activity_signups s JOIN volunteers v ON v.id = s.volunteer_id \
             JOIN persons p ON p.street_id = v.street_id AND p.id = v.person_id JOIN areas a ON a.id = v.community_id \
             WHERE {cond} ORDER BY v.id, s.starts_at LIMIT 50000"
        ),
        values,
    )
    .await?;
    let this_week = crate::domain::calendar::local_date(now).to_iso_week_date();
    let mut near: Vec<NearLimit> = shifts
        .chunk_by(|a, b| a.volunteer_id == b.volunteer_id)
        .filter_map(|group| near_limit(group, &state.settings.service, this_week, en(ctx)))
        .collect();
    near.sort_by(|a, b| b.week_hours.total_cmp(&a.week_hours));
    Ok(near)
}

/// One volunteer's shifts (`group`, in time order): near a limit, and why.
fn near_limit(
    group: &[Shift],
    policy: &crate::config::ServicePolicy,
    this_week: (i32, u8, time::Weekday),
    en: bool,
) -> Option<NearLimit> {
    let s0 = group.first()?;
    let own = super::super::own_limits(
        s0.own_week_minutes,
        s0.own_consecutive_days,
        s0.own_rest_minutes,
    );
    let lim = policy.limits.stricter(own);
    let week_minutes: i64 = group
        .iter()
        .filter(|s| {
            let w = crate::domain::calendar::local_date(s.starts_at).to_iso_week_date();
            (w.0, w.1) == (this_week.0, this_week.1)
        })
        .map(|s| (s.ends_at - s.starts_at) / 60_000)
        .sum();
    let mut days: Vec<time::Date> = group
        .iter()
        .map(|s| crate::domain::calendar::local_date(s.starts_at))
        .collect();
    days.dedup();
    let (mut run, mut longest, mut prev) = (0u32, 0u32, None::<time::Date>);
    for d in days {
        run = if prev.and_then(|p| p.next_day()) == Some(d) {
            run + 1
        } else {
            1
        };
        longest = longest.max(run);
        prev = Some(d);
    }
    let wh = hours(week_minutes);
    let hot_hours = wh >= lim.hours_per_week * 0.8;
    let hot_days = longest >= lim.consecutive_days;
    if !hot_hours && !hot_days {
        return None;
    }
    let reason = match (hot_hours, hot_days, en) {
        (true, true, false) => format!(
            "本周 {wh} 小时（上限 {}），已连续 {longest} 天",
            lim.hours_per_week
        ),
        (true, false, false) => {
            format!("本周 {wh} 小时，接近每周 {} 小时上限", lim.hours_per_week)
        }
        (_, _, false) => format!(
            "已连续服务 {longest} 天（上限 {} 天）",
            lim.consecutive_days
        ),
        (true, true, true) => format!(
            "{wh} h this week (limit {}), {longest} days in a row",
            lim.hours_per_week
        ),
        (true, false, true) => format!(
            "{wh} h this week, near the limit of {} h",
            lim.hours_per_week
        ),
        (_, _, true) => format!("{longest} days in a row (limit {})", lim.consecutive_days),
    };
    Some(NearLimit {
        volunteer_id: s0.volunteer_id,
        name: s0.name.clone(),
        community_name: s0.community_name.clone(),
        week_hours: wh,
        hours_per_week: lim.hours_per_week,
        consecutive_days: longest,
        consecutive_limit: lim.consecutive_days,
        reason,
    })
}

/// Willing volunteers nobody has asked for `IDLE_DAYS` days, the longest idle first.
async fn idle(
    state: &AppState,
    ctx: &Ctx,
    area_id: Option<Uuid>,
    now: i64,
) -> AppResult<Vec<Idle>> {
    let db = &state.db;
    let mut w =
        super::super::area_where(db, ctx, Permission::ReadService, area_id, "v.community_id")
            .await?;
    w.and(
        "v.willing = TRUE AND (v.last_asked_at IS NULL OR v.last_asked_at < ?)",
        [(now - IDLE_DAYS * 86_400_000).into()],
    );
    let (cond, values) = w.build(1);
    #[derive(FromQueryResult)]
    struct I {
        volunteer_id: Uuid,
        name: String,
        community_name: String,
        last_asked_at: Option<i64>,
        skills: String,
    }
    let idle: Vec<I> = store::fetch_all(
        db,
        &format!(
            "SELECT v.id AS volunteer_id, p.name, a.name AS community_name, v.last_asked_at, v.skills {VOL_FROM} \
             WHERE {cond} ORDER BY v.last_asked_at, v.id LIMIT 200"
        ),
        values,
    )
    .await?;
    Ok(idle
        .into_iter()
        .map(|r| Idle {
            volunteer_id: r.volunteer_id,
            name: r.name,
            community_name: r.community_name,
            days_idle: r.last_asked_at.map(|t| (now - t) / 86_400_000),
            last_asked_at: r.last_asked_at.map(ms_to_rfc3339),
            skills: skills_list(&r.skills),
        })
        .collect())
}
