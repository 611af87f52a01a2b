//! 党员下沉、志愿服务、积分 (issue 5; design in docs/party-volunteers.md): volunteers and party
//! members, report-ins (双报到), activities with QR attendance and service hours, the points ledger
//! with its catalogue (爱心超市), stars, annual ratings, commendations, the work-unit portal,
//! volunteer-service certificates and the burnout panel.
//!
//! Scope: every record carries the community (or area) it belongs to, and every query filters by
//! the caller's `ReadService`/`ManageService` grants. A volunteer reaches their own records through
//! `me` routes (the user is linked to the volunteer row); a work-unit contact only their unit's
//! members (`unit_contacts`).
pub mod activities;
pub mod imports;
pub mod ledger;
pub mod notify;
pub mod pdf;
pub mod people;
pub mod ratings;
pub mod units;

use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{scope, Ctx};
use crate::domain::calendar::local_date;
use crate::domain::role::Permission;
use crate::domain::volunteer::Limits;
use crate::error::{AppError, AppResult, Lang, Msg};
use crate::store;

pub(crate) use super::page_of;

pub fn en(ctx: &Ctx) -> bool {
    ctx.lang == Lang::En
}

/// `YYYY-MM-DD` of a date.
pub fn ymd(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Today in Asia/Shanghai, `YYYY-MM-DD`.
pub fn today() -> String {
    ymd(local_date(crate::domain::now_ms()))
}

/// A date `months` later (the day clamped to the month's length).
pub fn add_months(date: &str, months: u32) -> Option<String> {
    let d = crate::domain::calendar::parse_date(date)?;
    let total = d.year() * 12 + i32::from(u8::from(d.month())) - 1 + months as i32;
    let (y, m) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u8);
    let month = time::Month::try_from(m).ok()?;
    let day = d.day().min(month.length(y));
    time::Date::from_calendar_date(y, month, day).ok().map(ymd)
}

/// A strict `YYYY-MM-DD` date field.
pub fn date_field(field: &str, s: &str) -> AppResult<String> {
    crate::domain::calendar::parse_date(s)
        .filter(|d| (1949..=2200).contains(&d.year()))
        .map(ymd)
        .ok_or_else(|| {
            AppError::field(
                field,
                Msg::new("日期格式应为 YYYY-MM-DD", "A date is written YYYY-MM-DD"),
            )
        })
}

/// Whole years between a `YYYY-MM-DD` birth date and today.
pub fn age(birth: Option<&str>) -> Option<i64> {
    let b = crate::domain::calendar::parse_date(birth?)?;
    let t = local_date(crate::domain::now_ms());
    let mut a = i64::from(t.year() - b.year());
    if (u8::from(t.month()), t.day()) < (u8::from(b.month()), b.day()) {
        a -= 1;
    }
    Some(a)
}

/// Skills as a list from the stored `、`-free comma list.
pub fn skills_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect()
}

/// Cleans a list of skills: each 1–20 characters, at most 10.
pub fn skills_text(field: &str, skills: &[String]) -> AppResult<String> {
    let mut out: Vec<String> = vec![];
    for s in skills {
        let t = s.trim().replace(',', "，");
        if t.is_empty() {
            continue;
        }
        if t.chars().count() > 20 || t.chars().any(|c| c.is_control()) {
            return Err(AppError::field(
                field,
                Msg::new(
                    "每项技能不超过 20 个字",
                    "Each skill is at most 20 characters",
                ),
            ));
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.len() > 10 {
        return Err(AppError::field(
            field,
            Msg::new("最多 10 项技能", "At most 10 skills"),
        ));
    }
    Ok(out.join(","))
}

/// An optional free text of at most `max` characters.
pub fn text_field(field: &str, s: &str, max: usize, required: bool) -> AppResult<String> {
    let t = s.trim();
    if required && t.is_empty() {
        return Err(AppError::field(
            field,
            Msg::new("不能为空", "Must not be empty"),
        ));
    }
    if t.chars().count() > max {
        return Err(AppError::field(
            field,
            Msg::owned(
                format!("不能超过 {max} 个字"),
                format!("At most {max} characters"),
            ),
        ));
    }
    Ok(t.to_string())
}

/// A volunteer's own limits, when set (stored as minutes and days).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct LimitsView {
    pub hours_per_week: f64,
    pub consecutive_days: u32,
    pub rest_hours: f64,
}

impl From<Limits> for LimitsView {
    fn from(l: Limits) -> Self {
        LimitsView {
            hours_per_week: l.hours_per_week,
            consecutive_days: l.consecutive_days,
            rest_hours: l.rest_hours,
        }
    }
}

/// The core facts of a volunteer, for checks.
#[derive(Debug, Clone, FromQueryResult)]
pub struct VolFacts {
    pub id: Uuid,
    pub person_id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub user_id: Option<Uuid>,
    pub name: String,
    pub birth_date: Option<String>,
    pub own_week_minutes: Option<i32>,
    pub own_consecutive_days: Option<i32>,
    pub own_rest_minutes: Option<i32>,
    pub verified_minutes: i64,
    pub account_id: Uuid,
}

impl VolFacts {
    pub fn own_limits(&self) -> Option<Limits> {
        own_limits(
            self.own_week_minutes,
            self.own_consecutive_days,
            self.own_rest_minutes,
        )
    }
}

/// A volunteer's own limits from their stored columns (written all three together).
pub fn own_limits(week: Option<i32>, days: Option<i32>, rest: Option<i32>) -> Option<Limits> {
    match (week, days, rest) {
        (Some(w), Some(d), Some(r)) => Some(Limits {
            hours_per_week: f64::from(w) / 60.0,
            consecutive_days: d.max(1) as u32,
            rest_hours: f64::from(r) / 60.0,
        }),
        _ => None,
    }
}

/// Fails unless the area is a community.
#[tracing::instrument(name = "service::require_community", skip_all)]
pub async fn require_community<C: ConnectionTrait>(c: &C, area_id: Uuid) -> AppResult<()> {
    #[derive(FromQueryResult)]
    struct K {
        kind: String,
    }
    let k: K = store::fetch_found(
        c,
        "SELECT kind FROM areas WHERE id = $1",
        vec![area_id.into()],
    )
    .await?;
    if k.kind != "community" {
        return Err(AppError::field(
            "community_id",
            Msg::new("请选择一个社区", "Choose a community"),
        ));
    }
    Ok(())
}

pub const VOL_FACTS: &str = "SELECT v.id, v.person_id, v.street_id, v.community_id, v.user_id, p.name, p.birth_date, \
    v.own_week_minutes, v.own_consecutive_days, v.own_rest_minutes, v.verified_minutes, pa.id AS account_id \
    FROM volunteers v JOIN persons p ON p.street_id = v.street_id AND p.id = v.person_id \
    JOIN point_accounts pa ON pa.volunteer_id = v.id";

/// A volunteer the caller holds `perm` on (404 outside the scope, 403 without the permission).
#[tracing::instrument(name = "service::volunteer_for", skip_all)]
pub async fn volunteer_for<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    perm: Permission,
    id: Uuid,
) -> AppResult<scope::Scoped<VolFacts>> {
    let v: VolFacts =
        store::fetch_found(c, &format!("{VOL_FACTS} WHERE v.id = $1"), vec![id.into()]).await?;
    let checked = scope::require_permission(c, ctx, perm, v.community_id).await?;
    Ok(scope::Scoped::new(v, checked))
}

/// The volunteer row of the signed-in user.
#[tracing::instrument(name = "service::me", skip_all)]
pub async fn me<C: ConnectionTrait>(c: &C, ctx: &Ctx) -> AppResult<VolFacts> {
    let Some(uid) = ctx.principal.user_id else {
        return Err(not_volunteer());
    };
    store::fetch_opt(
        c,
        &format!("{VOL_FACTS} WHERE v.user_id = $1"),
        vec![uid.into()],
    )
    .await?
    .ok_or_else(not_volunteer)
}

fn not_volunteer() -> AppError {
    AppError::Rule {
        code: "volunteer.not_registered",
        msg: Msg::new(
            "您的账号还没有关联志愿者档案，请联系社区登记",
            "Your account is not linked to a volunteer record; ask your community to register you",
        ),
    }
}

/// The area to list: the given one (which must be in scope), else everything the caller may see.
#[tracing::instrument(name = "service::area_filter", skip_all)]
pub async fn area_filter<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    perm: Permission,
    area_id: Option<Uuid>,
    column: &str,
    next: usize,
) -> AppResult<(String, Vec<Value>)> {
    Ok(area_where(c, ctx, perm, area_id, column).await?.build(next))
}

/// [`area_filter`] as the first condition of a [`store::sql::Where`], to which a list adds its own
/// filters without counting placeholders.
#[tracing::instrument(name = "service::area_where", skip_all)]
pub async fn area_where<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    perm: Permission,
    area_id: Option<Uuid>,
    column: &str,
) -> AppResult<store::sql::Where> {
    scope::require_any(ctx, perm)?;
    let mut w = store::sql::Where::new();
    w.and_cond(scope::area_cond(ctx, perm, column));
    if let Some(a) = area_id {
        scope::require_permission(c, ctx, perm, a).await?;
        w.and(
            &format!("{column} IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = ?)"),
            [a.into()],
        );
    }
    Ok(w)
}

/// Minutes → hours with one decimal.
pub fn hours(minutes: i64) -> f64 {
    (minutes as f64 / 6.0).round() / 10.0
}
