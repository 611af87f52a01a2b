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
use crate::app::audit::{self, Entry};
use crate::app::{scope, AppState};
use crate::domain::calendar::local_date;
use crate::domain::points::{Event, Kind};
use crate::domain::role::Permission;
use crate::domain::volunteer::{self, Shift};
use crate::domain::{ms_to_rfc3339, new_id, now_ms, rfc3339_to_ms};
use crate::error::{AppError, AppResult, Msg};
use crate::store::{self, Db};

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
    store::fetch_opt(c, &format!("{ACT_SELECT} WHERE t.id = $1"), vec![id.into()])
        .await?
        .ok_or(AppError::NotFound)
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
    Ok(ActivityPage {
        items: rows.into_iter().map(|r| act_view(r, en, None)).collect(),
        total,
        page: paging.page,
        page_size: paging.size,
    })
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
    audit::record(
        &tx,
        Entry::by(ctx, &checked, "create", "activity", Some(id.to_string())).area(Some(n.area_id)),
    )
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
    audit::record(
        &tx,
        Entry::by(ctx, &r.checked, "cancel", "activity", Some(id.to_string()))
            .area(Some(r.area_id)),
    )
    .await?;
    tx.commit().await?;
    Ok(act_view(activity_row(db, id).await?, en(ctx), None))
}

// ---------------------------------------------------------------------------------- sign-ups

#[derive(Debug, Serialize, ToSchema)]
pub struct Signup {
    pub volunteer_id: Uuid,
    pub name: String,
    pub mobile_masked: Option<String>,
    /// `self` or `assigned`.
    pub via: String,
    /// `signed` or `cancelled`.
    pub status: String,
    pub insurer: Option<String>,
    pub policy_no: Option<String>,
    pub insured: bool,
    pub checkin_at: Option<String>,
    pub checkout_at: Option<String>,
    pub minutes: Option<i32>,
}

#[derive(FromQueryResult)]
struct SignupRow {
    volunteer_id: Uuid,
    name: String,
    mobile_masked: Option<String>,
    via: String,
    status: String,
    insurer: Option<String>,
    policy_no: Option<String>,
    checkin_at: Option<i64>,
    checkout_at: Option<i64>,
    minutes: Option<i32>,
}

#[tracing::instrument(name = "service::activities::signups", skip_all)]
pub async fn signups(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<Vec<Signup>> {
    let r = activity_row(db, id).await?;
    scope::require_permission(db, ctx, Permission::ReadService, r.area_id).await?;
    let rows: Vec<SignupRow> = store::fetch_all(
        db,
        "SELECT s.volunteer_id, p.name, p.mobile_masked, s.via, s.status, s.insurer, s.policy_no, s.checkin_at, \
         s.checkout_at, s.minutes FROM activity_signups s JOIN volunteers v ON v.id = s.volunteer_id \
         JOIN persons p ON p.street_id = v.street_id AND p.id = v.person_id WHERE s.activity_id = $1 ORDER BY s.status DESC, p.name LIMIT 20000",
        vec![id.into()],
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|s| Signup {
            insured: s.policy_no.is_some(),
            checkin_at: s.checkin_at.map(ms_to_rfc3339),
            checkout_at: s.checkout_at.map(ms_to_rfc3339),
            volunteer_id: s.volunteer_id,
            name: s.name,
            mobile_masked: s.mobile_masked,
            via: s.via,
            status: s.status,
            insurer: s.insurer,
            policy_no: s.policy_no,
            minutes: s.minutes,
        })
        .collect())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignInput {
    pub volunteer_id: Uuid,
}

/// The volunteer's shifts near `new` (for the limits).
async fn shifts_near<C: ConnectionTrait>(
    c: &C,
    vol: Uuid,
    activity: Uuid,
    new: Shift,
    days: u32,
) -> AppResult<Vec<Shift>> {
    #[derive(FromQueryResult)]
    struct S {
        starts_at: i64,
        ends_at: i64,
    }
    let span = i64::from(days.max(8) + 1) * 86_400_000;
    let rows: Vec<S> = store::fetch_all(
        c,
        "SELECT starts_at, ends_at FROM activity_signups WHERE volunteer_id = $1 AND status = 'signed' AND activity_id <> $2 \
         AND starts_at >= $3 AND starts_at < $4",
        vec![vol.into(), activity.into(), (new.start - span).into(), (new.end + span).into()],
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|s| Shift {
            start: s.starts_at,
            end: s.ends_at,
        })
        .collect())
}

/// Signs a volunteer up (inside the caller's transaction): capacity, time, and the limits.
async fn sign_up<C: ConnectionTrait>(
    c: &C,
    state: &AppState,
    r: &ActivityRow,
    v: &VolFacts,
    via: &str,
) -> AppResult<()> {
    open_for_attendance(r)?;
    let now = now_ms();
    if r.ends_at < now {
        return Err(AppError::Rule {
            code: "activity.ended",
            msg: Msg::new("活动已结束，不能再报名", "The activity has ended"),
        });
    }
    #[derive(FromQueryResult)]
    struct Ex {
        status: String,
    }
    let ex: Option<Ex> = store::fetch_opt(
        c,
        "SELECT status FROM activity_signups WHERE activity_id = $1 AND volunteer_id = $2",
        vec![r.id.into(), v.id.into()],
    )
    .await?;
    if ex.as_ref().map(|e| e.status == "signed").unwrap_or(false) {
        return Err(AppError::conflict(
            "activity.already_signed_up",
            Msg::new("已经报名了这个活动", "Already signed up for this activity"),
        ));
    }
    let lim = state.settings.service.limits.stricter(v.own_limits());
    let new = Shift {
        start: r.starts_at,
        end: r.ends_at,
    };
    let shifts = shifts_near(c, v.id, r.id, new, lim.consecutive_days).await?;
    volunteer::check(&lim, &shifts, new).map_err(|msg| AppError::Rule {
        code: "volunteer.limit",
        msg,
    })?;
    let n = store::exec(
        c,
        "UPDATE activities SET signed_up = signed_up + 1, updated_at = $1 WHERE id = $2 AND signed_up < capacity",
        vec![now.into(), r.id.into()],
    )
    .await?;
    if n == 0 {
        return Err(AppError::Rule {
            code: "activity.full",
            msg: Msg::owned(
                format!("名额已满（{} 人）", r.capacity),
                format!("The activity is full ({} places)", r.capacity),
            ),
        });
    }
    if ex.is_some() {
        store::exec(
            c,
            "UPDATE activity_signups SET status = 'signed', via = $1, starts_at = $2, ends_at = $3, updated_at = $4 WHERE activity_id = $5 AND volunteer_id = $6",
            vec![via.to_string().into(), r.starts_at.into(), r.ends_at.into(), now.into(), r.id.into(), v.id.into()],
        )
        .await?;
    } else {
        store::exec(
            c,
            "INSERT INTO activity_signups (activity_id, volunteer_id, via, status, starts_at, ends_at, created_at, updated_at) VALUES ($1, $2, $3, 'signed', $4, $5, $6, $6)",
            vec![r.id.into(), v.id.into(), via.to_string().into(), r.starts_at.into(), r.ends_at.into(), now.into()],
        )
        .await?;
    }
    store::exec(
        c,
        "UPDATE volunteers SET last_asked_at = $1 WHERE id = $2",
        vec![now.into(), v.id.into()],
    )
    .await?;
    Ok(())
}

/// Assigns a volunteer (by the organiser), refused with the reason beyond a limit.
#[tracing::instrument(name = "service::activities::assign", skip_all)]
pub async fn assign(
    state: &AppState,
    ctx: &Ctx,
    id: Uuid,
    a: AssignInput,
) -> AppResult<Vec<Signup>> {
    let db = &state.db;
    let r = managed(db, ctx, id).await?;
    let tx = store::write_tx(db).await?;
    let v = super::volunteer_for(&tx, ctx, Permission::ReadService, a.volunteer_id).await?;
    let row = activity_row(&tx, id).await?;
    sign_up(&tx, state, &row, &v, "assigned").await?;
    super::notify::signed_up(&tx, &row, v.id).await?;
    audit::record(
        &tx,
        Entry::by(ctx, &r.checked, "assign", "activity", Some(id.to_string()))
            .area(Some(r.area_id))
            .detail(format!("volunteer={}", v.id)),
    )
    .await?;
    tx.commit().await?;
    signups(db, ctx, id).await
}

/// The signed-in volunteer signs up.
#[tracing::instrument(name = "service::activities::sign_up_me", skip_all)]
pub async fn sign_up_me(state: &AppState, ctx: &Ctx, id: Uuid) -> AppResult<Activity> {
    let db = &state.db;
    let tx = store::write_tx(db).await?;
    let me = super::me(&tx, ctx).await?;
    let r = activity_row(&tx, id).await?;
    if !volunteer_reaches(&tx, &me, r.area_id).await? {
        return Err(AppError::NotFound);
    }
    sign_up(&tx, state, &r, &me, "self").await?;
    super::notify::signed_up(&tx, &r, me.id).await?;
    audit::record(
        &tx,
        Entry::by(
            ctx,
            &scope::own(ctx),
            "sign_up",
            "activity",
            Some(id.to_string()),
        )
        .area(Some(r.area_id)),
    )
    .await?;
    tx.commit().await?;
    let st = my_status(db, id, me.id).await?;
    Ok(act_view(activity_row(db, id).await?, en(ctx), st))
}

async fn withdraw<C: ConnectionTrait>(c: &C, r: &ActivityRow, vol: Uuid) -> AppResult<()> {
    open_for_attendance(r)?;
    let n = store::exec(
        c,
        "UPDATE activity_signups SET status = 'cancelled', updated_at = $1 WHERE activity_id = $2 AND volunteer_id = $3 AND status = 'signed' AND checkin_at IS NULL",
        vec![now_ms().into(), r.id.into(), vol.into()],
    )
    .await?;
    if n == 0 {
        return Err(AppError::Rule {
            code: "activity.not_withdrawable",
            msg: Msg::new(
                "没有可取消的报名（未报名或已签到）",
                "No sign-up to withdraw (none, or already checked in)",
            ),
        });
    }
    store::exec(
        c,
        "UPDATE activities SET signed_up = signed_up - 1 WHERE id = $1",
        vec![r.id.into()],
    )
    .await?;
    Ok(())
}

#[tracing::instrument(name = "service::activities::withdraw_me", skip_all)]
pub async fn withdraw_me(state: &AppState, ctx: &Ctx, id: Uuid) -> AppResult<Activity> {
    let db = &state.db;
    let tx = store::write_tx(db).await?;
    let me = super::me(&tx, ctx).await?;
    let r = activity_row(&tx, id).await?;
    if !volunteer_reaches(&tx, &me, r.area_id).await? {
        return Err(AppError::NotFound);
    }
    withdraw(&tx, &r, me.id).await?;
    audit::record(
        &tx,
        Entry::by(
            ctx,
            &scope::own(ctx),
            "withdraw",
            "activity",
            Some(id.to_string()),
        )
        .area(Some(r.area_id)),
    )
    .await?;
    tx.commit().await?;
    Ok(act_view(activity_row(db, id).await?, en(ctx), None))
}

#[tracing::instrument(name = "service::activities::remove_signup", skip_all)]
pub async fn remove_signup(
    state: &AppState,
    ctx: &Ctx,
    id: Uuid,
    vol: Uuid,
) -> AppResult<Vec<Signup>> {
    let db = &state.db;
    let r = managed(db, ctx, id).await?;
    let tx = store::write_tx(db).await?;
    withdraw(&tx, &r, vol).await?;
    audit::record(
        &tx,
        Entry::by(
            ctx,
            &r.checked,
            "unassign",
            "activity",
            Some(id.to_string()),
        )
        .area(Some(r.area_id))
        .detail(format!("volunteer={vol}")),
    )
    .await?;
    tx.commit().await?;
    signups(db, ctx, id).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct InsuranceInput {
    pub insurer: String,
    pub policy_no: String,
}

/// Records a participant's insurance (《志愿服务条例》第十七条: before a risky activity).
#[tracing::instrument(name = "service::activities::insure", skip_all)]
pub async fn insure(
    state: &AppState,
    ctx: &Ctx,
    id: Uuid,
    vol: Uuid,
    i: InsuranceInput,
) -> AppResult<Vec<Signup>> {
    let db = &state.db;
    let r = managed(db, ctx, id).await?;
    let insurer = text_field("insurer", &i.insurer, 100, true)?;
    let policy = text_field("policy_no", &i.policy_no, 64, true)?;
    let tx = store::write_tx(db).await?;
    let n = store::exec(
        &tx,
        "UPDATE activity_signups SET insurer = $1, policy_no = $2, updated_at = $3 WHERE activity_id = $4 AND volunteer_id = $5 AND status = 'signed'",
        vec![insurer.into(), policy.into(), now_ms().into(), id.into(), vol.into()],
    )
    .await?;
    if n == 0 {
        return Err(AppError::NotFound);
    }
    audit::record(
        &tx,
        Entry::by(ctx, &r.checked, "insure", "activity", Some(id.to_string()))
            .area(Some(r.area_id))
            .detail(format!("volunteer={vol}")),
    )
    .await?;
    tx.commit().await?;
    signups(db, ctx, id).await
}

// -------------------------------------------------------------------------------- attendance

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
}

impl Direction {
    pub fn parse(s: &str) -> AppResult<Direction> {
        match s {
            "in" => Ok(Direction::In),
            "out" => Ok(Direction::Out),
            _ => Err(AppError::field(
                "direction",
                Msg::new("应为 in（签到）或 out（签退）", "Either in or out"),
            )),
        }
    }
    fn byte(self) -> u8 {
        match self {
            Direction::In => b'i',
            Direction::Out => b'o',
        }
    }
    fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

const QR_PURPOSE: &str = "activity attendance";

/// A signed, time-limited token: base64url(activity ‖ direction ‖ expiry ‖ signature).
pub fn make_token(
    keys: &crate::crypto::Keys,
    activity: Uuid,
    dir: Direction,
    expires: i64,
) -> String {
    let mut data = activity.as_bytes().to_vec();
    data.push(dir.byte());
    data.extend_from_slice(&expires.to_be_bytes());
    let sig = keys.sign(QR_PURPOSE, &data);
    data.extend_from_slice(&sig);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

fn forged() -> AppError {
    AppError::BadRequest {
        code: "attendance.qr_invalid",
        msg: Msg::new(
            "签到码无效（不是本系统生成的二维码）",
            "This check-in code is not valid",
        ),
    }
}

/// The activity and direction of a token, if it is ours and not expired.
pub fn read_token(
    keys: &crate::crypto::Keys,
    token: &str,
    now: i64,
) -> AppResult<(Uuid, Direction)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim().as_bytes())
        .map_err(|_| forged())?;
    if raw.len() != 16 + 1 + 8 + 16 {
        return Err(forged());
    }
    let (data, sig) = raw.split_at(25);
    if !keys.verify(QR_PURPOSE, data, sig) {
        return Err(forged());
    }
    let activity = Uuid::from_slice(&data[..16]).map_err(|_| forged())?;
    let dir = match data[16] {
        b'i' => Direction::In,
        b'o' => Direction::Out,
        _ => return Err(forged()),
    };
    let expires = i64::from_be_bytes(data[17..25].try_into().map_err(|_| forged())?);
    if now > expires {
        return Err(AppError::Rule {
            code: "attendance.qr_expired",
            msg: Msg::new(
                "二维码已过期，请扫描屏幕上最新的二维码",
                "The code has expired; scan the current one on the screen",
            ),
        });
    }
    Ok((activity, dir))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Qr {
    pub token: String,
    /// What the QR code encodes: the phone page that checks the volunteer in or out.
    pub url: String,
    pub svg: String,
    pub direction: String,
    pub expires_at: String,
    pub refresh_seconds: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QrQuery {
    /// `in` or `out`.
    pub direction: Option<String>,
    /// The console's origin (e.g. `https://gongzhi.example.cn`), so the code opens the phone page.
    pub origin: Option<String>,
}

#[tracing::instrument(name = "service::activities::qr", skip_all)]
pub async fn qr(state: &AppState, ctx: &Ctx, id: Uuid, q: &QrQuery) -> AppResult<Qr> {
    let r = managed(&state.db, ctx, id).await?;
    open_for_attendance(&r)?;
    let dir = Direction::parse(q.direction.as_deref().unwrap_or("in"))?;
    let expires = now_ms() + QR_TTL_MS;
    let token = make_token(&state.keys, id, dir, expires);
    let origin = q
        .origin
        .as_deref()
        .map(str::trim)
        .filter(|o| {
            (o.starts_with("http://") || o.starts_with("https://"))
                && o.len() < 200
                && o.split_once("://")
                    .is_some_and(|(_, host)| !host.contains('/'))
                && !o.contains(['?', '#', ' ', '"', '<'])
        })
        .unwrap_or("");
    let url = format!("{origin}/m/checkin?t={token}");
    let svg = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| AppError::Internal(format!("qr: {e}")))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(360, 360)
        .build();
    Ok(Qr {
        token,
        url,
        svg,
        direction: dir.as_str().into(),
        expires_at: ms_to_rfc3339(expires),
        refresh_seconds: QR_REFRESH_SECONDS,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceResult {
    pub activity_id: Uuid,
    pub activity_title: String,
    pub volunteer_id: Uuid,
    pub name: String,
    /// `in` or `out`.
    pub direction: String,
    pub at: String,
    /// Minutes counted, on check-out.
    pub minutes: Option<i64>,
}

/// Minutes of service between check-in and check-out, clipped to the activity's time.
pub fn served_minutes(r: &ActivityRow, checkin: i64, checkout: i64) -> i64 {
    let from = checkin.max(r.starts_at);
    let to = checkout.min(r.ends_at);
    ((to - from) / 60_000).max(0)
}

fn already_in() -> AppError {
    AppError::Rule {
        code: "attendance.already_in",
        msg: Msg::new("已经签到过了，不能重复签到", "Already checked in"),
    }
}

fn already_out() -> AppError {
    AppError::Rule {
        code: "attendance.already_out",
        msg: Msg::new("已经签退过了", "Already checked out"),
    }
}

async fn record_attendance<C: ConnectionTrait>(
    c: &C,
    r: &ActivityRow,
    v: &VolFacts,
    dir: Direction,
    at: i64,
) -> AppResult<Option<i64>> {
    open_for_attendance(r)?;
    #[derive(FromQueryResult)]
    struct S {
        status: String,
        policy_no: Option<String>,
        checkin_at: Option<i64>,
        checkout_at: Option<i64>,
    }
    let s: S = store::fetch_opt::<S, _>(c, "SELECT status, policy_no, checkin_at, checkout_at FROM activity_signups WHERE activity_id = $1 AND volunteer_id = $2", vec![r.id.into(), v.id.into()])
        .await?
        .filter(|s| s.status == "signed")
        .ok_or_else(|| AppError::Rule { code: "attendance.not_signed_up", msg: Msg::new("还没有报名这个活动", "Not signed up for this activity") })?;
    match dir {
        Direction::In => {
            if s.checkin_at.is_some() {
                return Err(already_in());
            }
            if r.risky && s.policy_no.is_none() {
                return Err(AppError::Rule {
                    code: "attendance.no_insurance",
                    msg: Msg::new("这是有风险的活动，须先为参加者登记保险（《志愿服务条例》第十七条）", "A risky activity needs the participant's insurance recorded first (Volunteer Service Regulations, Art. 17)"),
                });
            }
            if at < r.starts_at - EARLY_MS || at > r.ends_at {
                return Err(AppError::Rule {
                    code: "attendance.outside_time",
                    msg: Msg::new(
                        "不在签到时间内（开始前 1 小时至结束）",
                        "Check-in is open from an hour before the start to the end",
                    ),
                });
            }
            let n = store::exec(c, "UPDATE activity_signups SET checkin_at = $1, updated_at = $1 WHERE activity_id = $2 AND volunteer_id = $3 AND checkin_at IS NULL", vec![at.into(), r.id.into(), v.id.into()]).await?;
            if n == 0 {
                return Err(already_in());
            }
            store::exec(
                c,
                "UPDATE activities SET checked_in = checked_in + 1 WHERE id = $1",
                vec![r.id.into()],
            )
            .await?;
            Ok(None)
        }
        Direction::Out => {
            let Some(cin) = s.checkin_at else {
                return Err(AppError::Rule {
                    code: "attendance.not_in",
                    msg: Msg::new("还没有签到，不能签退", "Not checked in yet; check in first"),
                });
            };
            if s.checkout_at.is_some() {
                return Err(already_out());
            }
            if at > r.ends_at + LATE_MS {
                return Err(AppError::Rule {
                    code: "attendance.outside_time",
                    msg: Msg::new(
                        "已超过签退时间，请联系组织者",
                        "Check-out has closed; ask the organiser",
                    ),
                });
            }
            let minutes = served_minutes(r, cin, at);
            let n = store::exec(
                c,
                "UPDATE activity_signups SET checkout_at = $1, minutes = $2, updated_at = $1 WHERE activity_id = $3 AND volunteer_id = $4 AND checkin_at IS NOT NULL AND checkout_at IS NULL",
                vec![at.into(), (minutes as i32).into(), r.id.into(), v.id.into()],
            )
            .await?;
            if n == 0 {
                return Err(already_out());
            }
            store::exec(
                c,
                "UPDATE activities SET checked_out = checked_out + 1 WHERE id = $1",
                vec![r.id.into()],
            )
            .await?;
            Ok(Some(minutes))
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ScanInput {
    pub token: String,
}

/// The volunteer's phone scanned the organiser's code. Someone not signed up is signed up on the
/// spot when a place and the limits allow.
#[tracing::instrument(name = "service::activities::scan", skip_all)]
pub async fn scan(state: &AppState, ctx: &Ctx, s: ScanInput) -> AppResult<AttendanceResult> {
    let now = now_ms();
    let (id, dir) = read_token(&state.keys, &s.token, now)?;
    let db = &state.db;
    let tx = store::write_tx(db).await?;
    let me = super::me(&tx, ctx).await?;
    let r = activity_row(&tx, id).await?;
    if dir == Direction::In && my_status(&tx, id, me.id).await?.is_none() {
        sign_up(&tx, state, &r, &me, "self").await?;
    }
    let r = activity_row(&tx, id).await?;
    let result = attendance_in(
        &tx,
        ctx,
        &scope::own(ctx),
        &r,
        &me,
        dir,
        now,
        "qr".to_string(),
    )
    .await?;
    tx.commit().await?;
    Ok(result)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ManualAttendance {
    pub volunteer_id: Uuid,
    /// `in` or `out`.
    pub direction: String,
}

/// The organiser checks someone in or out.
#[tracing::instrument(name = "service::activities::attend", skip_all)]
pub async fn attend(
    state: &AppState,
    ctx: &Ctx,
    id: Uuid,
    m: ManualAttendance,
) -> AppResult<AttendanceResult> {
    let db = &state.db;
    let r = managed(db, ctx, id).await?;
    let dir = Direction::parse(&m.direction)?;
    let tx = store::write_tx(db).await?;
    let v: VolFacts = store::fetch_opt(
        &tx,
        &format!("{} WHERE v.id = $1", super::VOL_FACTS),
        vec![m.volunteer_id.into()],
    )
    .await?
    .ok_or(AppError::NotFound)?;
    let how = format!("volunteer={} by organiser", v.id);
    let result = attendance_in(&tx, ctx, &r.checked, &r, &v, dir, now_ms(), how).await?;
    tx.commit().await?;
    Ok(result)
}

/// Records a check-in or check-out with its audit entry (inside the caller's transaction).
async fn attendance_in(
    c: &sea_orm::DatabaseTransaction,
    ctx: &Ctx,
    checked: &scope::Checked,
    r: &ActivityRow,
    v: &VolFacts,
    dir: Direction,
    at: i64,
    how: String,
) -> AppResult<AttendanceResult> {
    let minutes = record_attendance(c, r, v, dir, at).await?;
    let action = if dir == Direction::In {
        "check_in"
    } else {
        "check_out"
    };
    audit::record(
        c,
        Entry::by(ctx, checked, action, "activity", Some(r.id.to_string()))
            .area(Some(r.area_id))
            .detail(how),
    )
    .await?;
    Ok(AttendanceResult {
        activity_id: r.id,
        activity_title: r.title.clone(),
        volunteer_id: v.id,
        name: v.name.clone(),
        direction: dir.as_str().into(),
        at: ms_to_rfc3339(at),
        minutes,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckoutAll {
    pub checked_out: u64,
}

/// Checks out everyone still checked in, now (or at the end, if it has passed).
#[tracing::instrument(name = "service::activities::checkout_all", skip_all)]
pub async fn checkout_all(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<CheckoutAll> {
    let r = managed(db, ctx, id).await?;
    open_for_attendance(&r)?;
    let tx = store::write_tx(db).await?;
    let n = checkout_all_in(&tx, &r, now_ms()).await?;
    audit::record(
        &tx,
        Entry::by(
            ctx,
            &r.checked,
            "check_out_all",
            "activity",
            Some(id.to_string()),
        )
        .area(Some(r.area_id))
        .detail(format!("{n} checked out")),
    )
    .await?;
    tx.commit().await?;
    Ok(CheckoutAll { checked_out: n })
}

/// One statement for the whole activity: minutes clipped to the activity's time.
#[tracing::instrument(name = "service::activities::checkout_all_in", skip_all)]
pub async fn checkout_all_in<C: ConnectionTrait>(
    c: &C,
    r: &ActivityRow,
    now: i64,
) -> AppResult<u64> {
    let at = now.min(r.ends_at);
    let n = store::exec(
        c,
        "UPDATE activity_signups SET checkout_at = $1, updated_at = $1, \
         minutes = CAST(CASE WHEN $1 > (CASE WHEN checkin_at > $2 THEN checkin_at ELSE $2 END) \
                        THEN ($1 - (CASE WHEN checkin_at > $2 THEN checkin_at ELSE $2 END)) / 60000 ELSE 0 END AS INTEGER) \
         WHERE activity_id = $3 AND status = 'signed' AND checkin_at IS NOT NULL AND checkout_at IS NULL",
        vec![at.into(), r.starts_at.into(), r.id.into()],
    )
    .await?;
    store::exec(
        c,
        "UPDATE activities SET checked_out = checked_out + $1 WHERE id = $2",
        vec![(n as i64).into(), r.id.into()],
    )
    .await?;
    Ok(n)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Confirmation {
    /// Service-hours entries written.
    pub entries: u64,
    pub minutes: i64,
    /// Points postings written (attendance, hours, deductions).
    pub postings: u64,
    /// Signed up but never checked in.
    pub absent: u64,
    pub deducted: u64,
    pub elapsed_ms: u64,
}

/// Confirms the activity's hours: checks out whoever is still in, writes one service-hours entry
/// per participant (actual minutes, capped per day), and the postings the area's rules give —
/// attendance, hours, deductions for unexcused absence (not for the exempt). Once.
#[tracing::instrument(name = "service::activities::confirm", skip_all)]
pub async fn confirm(state: &AppState, ctx: &Ctx, id: Uuid) -> AppResult<Confirmation> {
    let db = &state.db;
    let r = managed(db, ctx, id).await?;
    open_for_attendance(&r)?;
    let started = std::time::Instant::now();
    let tx = store::write_tx(db).await?;
    let mut c = confirm_in(&tx, &state.settings.service, &Actor::of(ctx), &r, now_ms()).await?;
    // 工时已确认: those who came, in the confirmation's own transaction (the demo's history and
    // the benchmark call `confirm_in` alone and tell nobody).
    #[derive(FromQueryResult)]
    struct Came {
        volunteer_id: Uuid,
    }
    let came: Vec<Came> = store::fetch_all(
        &tx,
        "SELECT volunteer_id FROM activity_signups WHERE activity_id = $1 AND status = 'signed' AND checkin_at IS NOT NULL",
        vec![id.into()],
    )
    .await?;
    let came: Vec<Uuid> = came.into_iter().map(|c| c.volunteer_id).collect();
    super::notify::hours_confirmed(&tx, &r, &came).await?;
    audit::record(
        &tx,
        Entry::by(ctx, &r.checked, "confirm", "activity", Some(id.to_string()))
            .area(Some(r.area_id))
            .detail(format!("{} entries, {} postings", c.entries, c.postings)),
    )
    .await?;
    tx.commit().await?;
    c.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(c)
}

#[tracing::instrument(name = "service::activities::confirm_in", skip_all)]
pub async fn confirm_in<C: ConnectionTrait>(
    c: &C,
    policy: &crate::config::ServicePolicy,
    actor: &Actor,
    r: &ActivityRow,
    now: i64,
) -> AppResult<Confirmation> {
    if now < r.starts_at {
        return Err(AppError::Rule {
            code: "activity.not_started",
            msg: Msg::new("活动还没开始，不能确认工时", "The activity has not started"),
        });
    }
    let n = store::exec(c, "UPDATE activities SET confirmed_at = $1, version = version + 1, updated_at = $1 WHERE id = $2 AND confirmed_at IS NULL AND status = 'open'", vec![now.into(), r.id.into()]).await?;
    if n == 0 {
        return Err(AppError::Rule {
            code: "activity.confirmed",
            msg: Msg::new("工时已经确认过了", "The hours are confirmed already"),
        });
    }
    checkout_all_in(c, r, now).await?;
    #[derive(FromQueryResult)]
    struct P {
        volunteer_id: Uuid,
        account_id: Uuid,
        checkin_at: Option<i64>,
        minutes: Option<i32>,
        birth_date: Option<String>,
        exempt_reason: Option<String>,
    }
    let people: Vec<P> = store::fetch_all(
        c,
        "SELECT s.volunteer_id, pa.id AS account_id, s.checkin_at, s.minutes, p.birth_date, m.exempt_reason \
         FROM activity_signups s JOIN volunteers v ON v.id = s.volunteer_id JOIN point_accounts pa ON pa.volunteer_id = v.id \
         JOIN persons p ON p.street_id = v.street_id AND p.id = v.person_id LEFT JOIN party_members m ON m.volunteer_id = v.id \
         WHERE s.activity_id = $1 AND s.status = 'signed'",
        vec![r.id.into()],
    )
    .await?;
    // The day's cap counts what each participant already has that day.
    let day = super::ymd(local_date(r.starts_at));
    let attended: Vec<&P> = people.iter().filter(|p| p.checkin_at.is_some()).collect();
    #[derive(FromQueryResult)]
    struct D {
        volunteer_id: Uuid,
        m: i64,
    }
    // One statement for the whole activity: the participants' service earlier that day.
    let earlier: HashMap<Uuid, i64> = store::fetch_all::<D, _>(
        c,
        "SELECT h.volunteer_id, CAST(SUM(h.minutes) AS BIGINT) AS m FROM service_hours h \
         WHERE h.day = $1 AND h.volunteer_id IN (SELECT s.volunteer_id FROM activity_signups s WHERE s.activity_id = $2 AND s.checkin_at IS NOT NULL) \
         GROUP BY h.volunteer_id",
        vec![day.clone().into(), r.id.into()],
    )
    .await?
    .into_iter()
    .map(|d| (d.volunteer_id, d.m))
    .collect();
    let cap = policy.day_minutes;
    let mut hour_rows: Vec<Vec<Value>> = vec![];
    let mut minute_updates: Vec<(Uuid, i64)> = vec![];
    let mut total = 0i64;
    let rules = ledger::rules_for(c, r.area_id).await?;
    let (mut att, mut hrs) = (vec![], vec![]);
    for p in &attended {
        let m = i64::from(p.minutes.unwrap_or(0));
        let allowed = m.min((cap - earlier.get(&p.volunteer_id).copied().unwrap_or(0)).max(0));
        att.push((
            p.account_id,
            rules[&Event::Attendance].points,
            Some(r.id.to_string()),
        ));
        if allowed <= 0 {
            continue;
        }
        total += allowed;
        hour_rows.push(vec![
            new_id().into(),
            p.volunteer_id.into(),
            r.id.into(),
            day.clone().into(),
            (allowed as i32).into(),
            "service".into(),
            Option::<String>::None.into(),
            actor.id.into(),
            actor.name.clone().into(),
            now.into(),
        ]);
        minute_updates.push((p.volunteer_id, allowed));
        hrs.push((
            p.account_id,
            rules[&Event::Hour].points * allowed / 60,
            Some(r.id.to_string()),
        ));
    }
    let entries =
        store::insert_many_with(c, "service_hours", HOURS_COLUMNS, hour_rows, 30_000).await?;
    add_minutes(c, minute_updates, now).await?;
    let mut postings = ledger::earn_by_rule(
        c,
        actor,
        Event::Attendance,
        rules[&Event::Attendance],
        att,
        "activity",
        now,
    )
    .await?;
    postings.extend(
        ledger::earn_by_rule(
            c,
            actor,
            Event::Hour,
            rules[&Event::Hour],
            hrs,
            "activity",
            now,
        )
        .await?,
    );
    let mut written = ledger::post_credits(c, actor, postings, now).await?;
    // Deductions for unexcused absence: never below zero, not for the exempt.
    let absence = rules[&Event::Absence];
    let exempt_age = rules[&Event::ExemptOverAge].points;
    let mut absent = 0u64;
    let mut deducted = 0u64;
    for p in people.iter().filter(|p| p.checkin_at.is_none()) {
        absent += 1;
        let exempt = p.exempt_reason.is_some()
            || super::age(p.birth_date.as_deref())
                .map(|a| a >= exempt_age)
                .unwrap_or(false);
        if exempt || absence.points <= 0 {
            continue;
        }
        let balance = store::fetch_i64(
            c,
            "SELECT balance FROM point_accounts WHERE id = $1",
            vec![p.account_id.into()],
        )
        .await?;
        let amount = absence.points.min(balance);
        if amount <= 0 {
            continue;
        }
        ledger::post(
            c,
            actor,
            NewPosting {
                event: Some(Event::Absence),
                rule_area_id: absence.area_id,
                source_id: Some(r.id.to_string()),
                note: Some(r.title.clone()),
                ..NewPosting::new(p.account_id, -amount, Kind::Deduct, "activity")
            },
            now,
        )
        .await?;
        written += 1;
        deducted += 1;
    }
    Ok(Confirmation {
        entries,
        minutes: total,
        postings: written,
        absent,
        deducted,
        elapsed_ms: 0,
    })
}

pub const HOURS_COLUMNS: &[&str] = &[
    "id",
    "volunteer_id",
    "activity_id",
    "day",
    "minutes",
    "kind",
    "reason",
    "created_by",
    "created_by_name",
    "created_at",
];

/// `verified_minutes += m` for many volunteers, in chunks.
async fn add_minutes<C: ConnectionTrait>(c: &C, items: Vec<(Uuid, i64)>, at: i64) -> AppResult<()> {
    for chunk in items.chunks(400) {
        let mut sql = String::from("WITH v(id, m) AS (VALUES ");
        let mut values: Vec<Value> = vec![];
        for (i, (id, m)) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(${}, CAST(${} AS BIGINT))", i * 2 + 1, i * 2 + 2));
            values.push((*id).into());
            values.push((*m).into());
        }
        sql.push_str(&format!(
            "{}",
            ledger::bulk_update_tail("volunteers", "verified_minutes", "m", values.len() + 1)
        ));
        values.push(at.into());
        store::exec(c, &sql, values).await?;
    }
    Ok(())
}

// ------------------------------------------------------------------------------ service hours

#[derive(Debug, Serialize, ToSchema)]
pub struct HoursEntry {
    pub id: Uuid,
    pub activity_id: Option<Uuid>,
    pub activity_title: Option<String>,
    pub day: String,
    pub minutes: i64,
    pub hours: f64,
    /// `service` or `correction`.
    pub kind: String,
    pub reason: Option<String>,
    pub created_by_name: String,
    pub created_at: String,
}

#[derive(FromQueryResult)]
struct HoursRow {
    id: Uuid,
    activity_id: Option<Uuid>,
    activity_title: Option<String>,
    day: String,
    minutes: i32,
    kind: String,
    reason: Option<String>,
    created_by_name: String,
    created_at: i64,
}

#[tracing::instrument(name = "service::activities::hours_of", skip_all)]
pub async fn hours_of<C: ConnectionTrait>(
    c: &C,
    vol: Uuid,
    limit: i64,
) -> AppResult<Vec<HoursEntry>> {
    let rows: Vec<HoursRow> = store::fetch_all(
        c,
        "SELECT h.id, h.activity_id, t.title AS activity_title, h.day, h.minutes, h.kind, h.reason, h.created_by_name, h.created_at \
         FROM service_hours h LEFT JOIN activities t ON t.id = h.activity_id WHERE h.volunteer_id = $1 ORDER BY h.day DESC, h.created_at DESC LIMIT $2",
        vec![vol.into(), limit.into()],
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| HoursEntry {
            id: r.id,
            activity_id: r.activity_id,
            activity_title: r.activity_title,
            day: r.day,
            minutes: i64::from(r.minutes),
            hours: hours(i64::from(r.minutes)),
            kind: r.kind,
            reason: r.reason,
            created_by_name: r.created_by_name,
            created_at: ms_to_rfc3339(r.created_at),
        })
        .collect())
}

#[tracing::instrument(name = "service::activities::list_hours", skip_all)]
pub async fn list_hours(db: &Db, ctx: &Ctx, vol: Uuid) -> AppResult<Vec<HoursEntry>> {
    super::volunteer_for(db, ctx, Permission::ReadService, vol).await?;
    hours_of(db, vol, 500).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Correction {
    /// Whole minutes to add (positive) or take away (negative), at most a day either way.
    pub minutes: i64,
    pub reason: String,
    pub activity_id: Option<Uuid>,
    /// The day it concerns (`YYYY-MM-DD`); today when omitted.
    pub day: Option<String>,
}

/// A correction is a new entry, never an edit; verified hours never go below zero.
#[tracing::instrument(name = "service::activities::correct", skip_all)]
pub async fn correct(db: &Db, ctx: &Ctx, vol: Uuid, k: Correction) -> AppResult<Vec<HoursEntry>> {
    super::volunteer_for(db, ctx, Permission::ManageService, vol).await?;
    if k.minutes == 0 || k.minutes.abs() > 24 * 60 {
        return Err(AppError::field(
            "minutes",
            Msg::new(
                "更正的分钟数应为非零整数，且不超过 1440",
                "Minutes: a non-zero whole number, at most 1,440 either way",
            ),
        ));
    }
    let reason = text_field("reason", &k.reason, 200, true)?;
    let day = match k.day.as_deref() {
        Some(d) => super::date_field("day", d)?,
        None => super::today(),
    };
    let tx = store::write_tx(db).await?;
    let v = super::volunteer_for(&tx, ctx, Permission::ManageService, vol).await?;
    if let Some(a) = k.activity_id {
        activity_row(&tx, a).await.map_err(|e| match e {
            AppError::NotFound => {
                AppError::field("activity_id", Msg::new("没有这个活动", "No such activity"))
            }
            other => other,
        })?;
    }
    let now = now_ms();
    let n = store::exec(
        &tx,
        "UPDATE volunteers SET verified_minutes = verified_minutes + $1, updated_at = $2 WHERE id = $3 AND verified_minutes + $1 >= 0",
        vec![k.minutes.into(), now.into(), vol.into()],
    )
    .await?;
    if n == 0 {
        return Err(AppError::Rule {
            code: "hours.below_zero",
            msg: Msg::new(
                "更正后累计时长不能小于 0",
                "The correction would take the total below zero",
            ),
        });
    }
    store::insert_many(
        &tx,
        "service_hours",
        HOURS_COLUMNS,
        vec![vec![
            new_id().into(),
            vol.into(),
            k.activity_id.into(),
            day.into(),
            (k.minutes as i32).into(),
            "correction".into(),
            Some(reason).into(),
            ctx.principal.actor_id().into(),
            ctx.principal.display_name.clone().into(),
            now.into(),
        ]],
    )
    .await?;
    audit::record(
        &tx,
        Entry::by(
            ctx,
            &v.checked,
            "correct",
            "service_hours",
            Some(vol.to_string()),
        )
        .area(Some(v.community_id))
        .detail(format!("minutes={}", k.minutes)),
    )
    .await?;
    tx.commit().await?;
    hours_of(db, vol, 500).await
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
