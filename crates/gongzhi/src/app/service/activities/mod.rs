//! Activities (三会一课, 主题党日, volunteer service, community events), sign-ups by the person or by
//! assignment within the burnout limits, insurance for risky activities, attendance by signed QR
//! token or by the organiser, and service hours confirmed by the organiser.
use std::collections::HashMap;

use base64::Engine;
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::ledger::{self, Actor, NewPosting};
use super::{en, hours, page_of, skills_list, skills_text, text_field, Ctx, VolFacts};
use crate::app::audit::Entry;
use crate::app::{scope, AppState};
use crate::domain::calendar::local_date;
use crate::domain::points::{Event, Kind};
use crate::domain::role::Permission;
use crate::domain::volunteer::{self, Shift};
use crate::domain::{ms_to_rfc3339, new_id, now_ms, rfc3339_to_ms};
use crate::error::{AppError, AppResult, Msg};
use crate::store::{self, Db};

mod attendance;
mod hours;
mod signups;
pub use attendance::*;
pub use hours::*;
pub use signups::*;

pub const KINDS: [(&str, &str, &str); 4] = [
    ("party_meeting", "三会一课", "Party meeting"),
    ("theme_day", "主题党日", "Party theme day"),
    ("volunteer", "志愿服务", "Volunteer service"),
    ("community_event", "社区活动", "Community event"),
];

fn kind_label(kind: &str, en: bool) -> String {
    KINDS
        .iter()
        .find(|k| k.0 == kind)
        .map(|k| if en { k.2 } else { k.1 })
        .unwrap_or("")
        .to_string()
}

/// A QR token is valid this long; the full-screen view refreshes well before.
pub const QR_TTL_MS: i64 = 60_000;
pub const QR_REFRESH_SECONDS: i64 = 20;
/// Check-in opens this long before the start.
const EARLY_MS: i64 = 3_600_000;
/// Check-out stays open this long after the end.
const LATE_MS: i64 = 2 * 3_600_000;

#[derive(Debug, Serialize, ToSchema)]
pub struct Activity {
    pub id: Uuid,
    pub kind: String,
    pub kind_label: String,
    pub title: String,
    pub area_id: Uuid,
    pub area_name: String,
    pub place: String,
    pub starts_at: String,
    pub ends_at: String,
    pub capacity: i32,
    pub skills: Vec<String>,
    pub risky: bool,
    /// `open` or `cancelled`.
    pub status: String,
    pub description: String,
    pub signed_up: i32,
    pub checked_in: i32,
    pub checked_out: i32,
    /// When the organiser confirmed the hours (then attendance is closed).
    pub confirmed_at: Option<String>,
    pub organiser_name: String,
    pub version: i32,
    /// For the signed-in volunteer: `signed`, `in`, `out`, or null.
    pub my_status: Option<String>,
}
page_of!(ActivityPage, Activity);

#[derive(FromQueryResult, Clone)]
pub struct ActivityRow {
    pub id: Uuid,
    pub kind: String,
    pub title: String,
    pub area_id: Uuid,
    pub area_name: String,
    pub place: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub capacity: i32,
    pub skills: String,
    pub risky: bool,
    pub status: String,
    pub description: String,
    pub signed_up: i32,
    pub checked_in: i32,
    pub checked_out: i32,
    pub confirmed_at: Option<i64>,
    pub organiser_name: String,
    pub version: i32,
}

const ACT_SELECT: &str = "SELECT t.id, t.kind, t.title, t.area_id, a.name AS area_name, t.place, t.starts_at, t.ends_at, t.capacity, \
    t.skills, t.risky, t.status, t.description, t.signed_up, t.checked_in, t.checked_out, t.confirmed_at, t.organiser_name, t.version \
    FROM activities t JOIN areas a ON a.id = t.area_id";

pub fn act_view(r: ActivityRow, en: bool, my_status: Option<String>) -> Activity {
    Activity {
        kind_label: kind_label(&r.kind, en),
        id: r.id,
        kind: r.kind,
        title: r.title,
        area_id: r.area_id,
        area_name: r.area_name,
        place: r.place,
        starts_at: ms_to_rfc3339(r.starts_at),
        ends_at: ms_to_rfc3339(r.ends_at),
        capacity: r.capacity,
        skills: skills_list(&r.skills),
        risky: r.risky,
        status: r.status,
        description: r.description,
        signed_up: r.signed_up,
        checked_in: r.checked_in,
        checked_out: r.checked_out,
        confirmed_at: r.confirmed_at.map(ms_to_rfc3339),
        organiser_name: r.organiser_name,
        version: r.version,
        my_status,
    }
}

#[tracing::instrument(name = "service::activities::activity_row", skip_all)]
pub async fn activity_row<C: ConnectionTrait>(c: &C, id: Uuid) -> AppResult<ActivityRow> {
    store::fetch_found(c, &format!("{ACT_SELECT} WHERE t.id = $1"), vec![id.into()]).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    pub area_id: Option<Uuid>,
    pub kind: Option<String>,
    /// `open`, `cancelled`, `upcoming`, `past`, `unconfirmed` (ended, hours not confirmed).
    pub status: Option<String>,
    /// RFC 3339: starting at or after.
    pub from: Option<String>,
    /// RFC 3339: starting before.
    pub to: Option<String>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

#[tracing::instrument(name = "service::activities::list", skip_all)]
pub async fn list(db: &Db, ctx: &Ctx, q: &ActivityQuery) -> AppResult<ActivityPage> {
    let mut w = super::area_where(db, ctx, Permission::ReadService, q.area_id, "t.area_id").await?;
    if let Some(k) = q.kind.as_deref().filter(|k| !k.is_empty()) {
        w.and("t.kind = ?", [k.to_string().into()]);
    }
    let now = now_ms();
    match q.status.as_deref().unwrap_or("") {
        "" => {}
        s @ ("open" | "cancelled") => {
            w.and("t.status = ?", [s.to_string().into()]);
        }
        "upcoming" => {
            w.and("t.status = 'open' AND t.ends_at >= ?", [now.into()]);
        }
        "past" => {
            w.and("t.ends_at < ?", [now.into()]);
        }
        "unconfirmed" => {
            w.and(
                "t.status = 'open' AND t.confirmed_at IS NULL AND t.ends_at < ?",
                [now.into()],
            );
        }
        _ => {
            return Err(AppError::field(
                "status",
                Msg::new(
                    "状态应为 open、cancelled、upcoming、past 或 unconfirmed",
                    "Unknown status",
                ),
            ))
        }
    }
    for (field, v, op) in [("from", &q.from, ">="), ("to", &q.to, "<")] {
        if let Some(s) = v.as_deref().filter(|s| !s.is_empty()) {
            let ms = rfc3339_to_ms(s).ok_or_else(|| {
                AppError::field(
                    field,
                    Msg::new("时间格式应为 RFC 3339", "A time is written in RFC 3339"),
                )
            })?;
            w.and(&format!("t.starts_at {op} ?"), [ms.into()]);
        }
    }
    let (cond, values) = w.build(1);
    let paging = store::Paging::new(q.page, q.page_size);
    let (rows, total) = store::page::<ActivityRow, _>(
        db,
        &format!("SELECT COUNT(*) FROM activities t WHERE {cond}"),
        &format!("{ACT_SELECT} WHERE {cond} ORDER BY t.starts_at DESC, t.id"),
        values,
        paging,
    )
    .await?;
    let en = en(ctx);
    Ok(ActivityPage::new(
        rows.into_iter().map(|r| act_view(r, en, None)).collect(),
        total,
        paging,
    ))
}

#[tracing::instrument(name = "service::activities::get", skip_all)]
pub async fn get(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<Activity> {
    let r = activity_row(db, id).await?;
    if let Ok(me) = super::me(db, ctx).await {
        if volunteer_reaches(db, &me, r.area_id).await? {
            let st = my_status(db, id, me.id).await?;
            return Ok(act_view(r, en(ctx), st));
        }
    }
    scope::require_permission(db, ctx, Permission::ReadService, r.area_id).await?;
    Ok(act_view(r, en(ctx), None))
}

async fn my_status<C: ConnectionTrait>(
    c: &C,
    activity: Uuid,
    vol: Uuid,
) -> AppResult<Option<String>> {
    #[derive(FromQueryResult)]
    struct S {
        status: String,
        checkin_at: Option<i64>,
        checkout_at: Option<i64>,
    }
    let s: Option<S> = store::fetch_opt(c, "SELECT status, checkin_at, checkout_at FROM activity_signups WHERE activity_id = $1 AND volunteer_id = $2", vec![activity.into(), vol.into()]).await?;
    Ok(
        s.and_then(|s| match (s.status.as_str(), s.checkin_at, s.checkout_at) {
            ("signed", _, Some(_)) => Some("out".to_string()),
            ("signed", Some(_), None) => Some("in".to_string()),
            ("signed", None, None) => Some("signed".to_string()),
            _ => None,
        }),
    )
}

/// Whether an activity's area is the volunteer's community, above it or inside it.
async fn volunteer_reaches<C: ConnectionTrait>(
    c: &C,
    v: &VolFacts,
    area_id: Uuid,
) -> AppResult<bool> {
    Ok(store::fetch_i64(
        c,
        "SELECT COUNT(*) FROM area_closure WHERE (ancestor_id = $1 AND descendant_id = $2) OR (ancestor_id = $2 AND descendant_id = $1)",
        vec![area_id.into(), v.community_id.into()],
    )
    .await?
        > 0)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewActivity {
    /// `party_meeting` | `theme_day` | `volunteer` | `community_event`.
    pub kind: String,
    pub title: String,
    pub area_id: Uuid,
    pub place: String,
    /// RFC 3339.
    pub starts_at: String,
    pub ends_at: String,
    pub capacity: i32,
    #[serde(default)]
    pub skills: Vec<String>,
    #[serde(default)]
    pub risky: bool,
    pub description: Option<String>,
}

#[tracing::instrument(name = "service::activities::create", skip_all)]
pub async fn create(db: &Db, ctx: &Ctx, n: NewActivity) -> AppResult<Activity> {
    let mut errors = crate::error::FieldErrors::new();
    if !KINDS.iter().any(|k| k.0 == n.kind) {
        errors.insert(
            "kind".into(),
            Msg::new(
                "活动类型应为三会一课、主题党日、志愿服务或社区活动",
                "Unknown kind of activity",
            ),
        );
    }
    let title = crate::domain::clean_name(&n.title, 100)
        .map_err(|m| errors.insert("title".into(), m))
        .ok();
    let place = text_field("place", &n.place, 200, true)
        .map_err(|e| {
            if let AppError::Validation(f) = e {
                errors.extend(f)
            }
        })
        .ok();
    let description = text_field(
        "description",
        n.description.as_deref().unwrap_or(""),
        2000,
        false,
    )
    .unwrap_or_default();
    let starts = rfc3339_to_ms(&n.starts_at);
    let ends = rfc3339_to_ms(&n.ends_at);
    if starts.is_none() {
        errors.insert(
            "starts_at".into(),
            Msg::new("时间格式应为 RFC 3339", "A time is written in RFC 3339"),
        );
    }
    match (starts, ends) {
        (_, None) => {
            errors.insert(
                "ends_at".into(),
                Msg::new("时间格式应为 RFC 3339", "A time is written in RFC 3339"),
            );
        }
        (Some(s), Some(e)) if e <= s => {
            errors.insert(
                "ends_at".into(),
                Msg::new("结束时间应晚于开始时间", "The end must be after the start"),
            );
        }
        (Some(s), Some(e)) if e - s > 24 * 3_600_000 => {
            errors.insert(
                "ends_at".into(),
                Msg::new(
                    "一次活动不超过 24 小时",
                    "An activity lasts at most 24 hours",
                ),
            );
        }
        _ => {}
    }
    if !(1..=100_000).contains(&n.capacity) {
        errors.insert(
            "capacity".into(),
            Msg::new("人数上限应为 1–100000", "Capacity from 1 to 100,000"),
        );
    }
    let skills = skills_text("skills", &n.skills)
        .map_err(|e| {
            if let AppError::Validation(f) = e {
                errors.extend(f)
            }
        })
        .ok();
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let checked = scope::require_permission(db, ctx, Permission::ManageService, n.area_id).await?;
    let id = new_id();
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "INSERT INTO activities (id, area_id, kind, title, place, description, starts_at, ends_at, capacity, skills, risky, status, signed_up, checked_in, checked_out, organiser_id, organiser_name, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'open', 0, 0, 0, $12, $13, 1, $14, $14)",
        vec![
            id.into(), n.area_id.into(), n.kind.clone().into(), title.unwrap_or_default().into(), place.unwrap_or_default().into(), description.into(),
            starts.unwrap_or(0).into(), ends.unwrap_or(0).into(), n.capacity.into(), skills.unwrap_or_default().into(), n.risky.into(),
            ctx.principal.actor_id().into(), ctx.principal.display_name.clone().into(), now.into(),
        ],
    )
    .await?;
    Entry::by(ctx, &checked, "create", "activity", id)
        .area(n.area_id)
        .record(&tx)
        .await?;
    tx.commit().await?;
    Ok(act_view(activity_row(db, id).await?, en(ctx), None))
}

/// An activity the caller manages (404 outside the scope, 403 without the permission).
async fn managed(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<scope::Scoped<ActivityRow>> {
    let r = activity_row(db, id).await?;
    let checked = scope::require_permission(db, ctx, Permission::ManageService, r.area_id).await?;
    Ok(scope::Scoped::new(r, checked))
}

fn open_for_attendance(r: &ActivityRow) -> AppResult<()> {
    if r.status != "open" {
        return Err(AppError::Rule {
            code: "activity.cancelled",
            msg: Msg::new("活动已取消", "The activity is cancelled"),
        });
    }
    if r.confirmed_at.is_some() {
        return Err(AppError::Rule {
            code: "activity.confirmed",
            msg: Msg::new(
                "工时已确认，签到签退已关闭",
                "Hours are confirmed; attendance is closed",
            ),
        });
    }
    Ok(())
}

#[tracing::instrument(name = "service::activities::cancel", skip_all)]
pub async fn cancel(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<Activity> {
    let r = managed(db, ctx, id).await?;
    open_for_attendance(&r)?;
    if r.checked_in > 0 {
        return Err(AppError::Rule {
            code: "activity.started",
            msg: Msg::new(
                "已有人签到，不能取消；请确认工时",
                "People have checked in; confirm the hours instead",
            ),
        });
    }
    let tx = store::write_tx(db).await?;
    store::exec(&tx, "UPDATE activities SET status = 'cancelled', version = version + 1, updated_at = $1 WHERE id = $2", vec![now_ms().into(), id.into()]).await?;
    Entry::by(ctx, &r.checked, "cancel", "activity", id)
        .area(r.area_id)
        .record(&tx)
        .await?;
    tx.commit().await?;
    Ok(act_view(activity_row(db, id).await?, en(ctx), None))
}

/// The signed-in volunteer's activities: upcoming ones they signed up for, and open ones of their
/// community they could sign up for.
#[tracing::instrument(name = "service::activities::mine", skip_all)]
pub async fn mine(db: &Db, ctx: &Ctx, me: &VolFacts) -> AppResult<(Vec<Activity>, Vec<Activity>)> {
    let now = now_ms();
    #[derive(FromQueryResult)]
    struct R {
        id: Uuid,
        kind: String,
        title: String,
        area_id: Uuid,
        area_name: String,
        place: String,
        starts_at: i64,
        ends_at: i64,
        capacity: i32,
        skills: String,
        risky: bool,
        status: String,
        description: String,
        signed_up: i32,
        checked_in: i32,
        checked_out: i32,
        confirmed_at: Option<i64>,
        organiser_name: String,
        version: i32,
        checkin_at: Option<i64>,
        checkout_at: Option<i64>,
    }
    let rows: Vec<R> = store::fetch_all(
        db,
        "SELECT t.id, t.kind, t.title, t.area_id, a.name AS area_name, t.place, t.starts_at, t.ends_at, t.capacity, t.skills, t.risky, t.status, \
         t.description, t.signed_up, t.checked_in, t.checked_out, t.confirmed_at, t.organiser_name, t.version, s.checkin_at, s.checkout_at \
         FROM activity_signups s JOIN activities t ON t.id = s.activity_id JOIN areas a ON a.id = t.area_id \
         WHERE s.volunteer_id = $1 AND s.status = 'signed' AND t.ends_at >= $2 ORDER BY t.starts_at LIMIT 50",
        vec![me.id.into(), (now - 86_400_000).into()],
    )
    .await?;
    let en = en(ctx);
    let upcoming = rows
        .into_iter()
        .map(|r| {
            let st = match (r.checkin_at, r.checkout_at) {
                (_, Some(_)) => "out",
                (Some(_), None) => "in",
                _ => "signed",
            };
            act_view(
                ActivityRow {
                    id: r.id,
                    kind: r.kind,
                    title: r.title,
                    area_id: r.area_id,
                    area_name: r.area_name,
                    place: r.place,
                    starts_at: r.starts_at,
                    ends_at: r.ends_at,
                    capacity: r.capacity,
                    skills: r.skills,
                    risky: r.risky,
                    status: r.status,
                    description: r.description,
                    signed_up: r.signed_up,
                    checked_in: r.checked_in,
                    checked_out: r.checked_out,
                    confirmed_at: r.confirmed_at,
                    organiser_name: r.organiser_name,
                    version: r.version,
                },
                en,
                Some(st.into()),
            )
        })
        .collect();
    let open: Vec<ActivityRow> = store::fetch_all(
        db,
        &format!(
            "{ACT_SELECT} WHERE t.status = 'open' AND t.confirmed_at IS NULL AND t.ends_at >= $1 AND t.signed_up < t.capacity \
             AND (t.area_id IN (SELECT ancestor_id FROM area_closure WHERE descendant_id = $2) OR t.area_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = $2)) \
             AND NOT EXISTS (SELECT 1 FROM activity_signups s WHERE s.activity_id = t.id AND s.volunteer_id = $3 AND s.status = 'signed') \
             ORDER BY t.starts_at LIMIT 30"
        ),
        vec![now.into(), me.community_id.into(), me.id.into()],
    )
    .await?;
    Ok((
        upcoming,
        open.into_iter().map(|r| act_view(r, en, None)).collect(),
    ))
}
