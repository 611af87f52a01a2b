//! Volunteers and party members: registration, members' report-ins (双报到) with their renewal
//! and overdue list, branch–community pairing, and the burnout panel.
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::ledger::{self, Actor};
use super::{
    age, date_field, en, hours, page_of, skills_list, skills_text, text_field, today, Ctx,
    LimitsView,
};
use crate::app::audit::{self, Entry};
use crate::app::{scope, AppState};
use crate::domain::points::{stars, Event};
use crate::domain::role::Permission;
use crate::domain::volunteer::Limits;
use crate::domain::{ms_to_rfc3339, new_id, now_ms};
use crate::error::{AppError, AppResult, Msg};
use crate::store::{self, Db};

mod load;
mod members;
mod pairings;
mod phone;
mod report_ins;
pub use load::*;
pub use members::*;
pub use pairings::*;
pub use phone::*;
pub use report_ins::*;

// ------------------------------------------------------------------------------- volunteers

#[derive(Debug, Serialize, ToSchema)]
pub struct Volunteer {
    pub id: Uuid,
    pub person_id: Uuid,
    pub name: String,
    pub mobile_masked: Option<String>,
    pub community_id: Uuid,
    pub community_name: String,
    pub skills: Vec<String>,
    pub willing: bool,
    pub party_member: bool,
    /// Verified service hours, all time.
    pub hours: f64,
    pub stars: u8,
    pub account_id: Uuid,
    pub balance: i64,
    /// The limits that apply (the stricter of the defaults and the volunteer's own).
    pub limits: LimitsView,
    pub own_limits: Option<LimitsView>,
    pub last_asked_at: Option<String>,
    pub user_id: Option<Uuid>,
    pub version: i32,
}
page_of!(VolunteerPage, Volunteer);

#[derive(FromQueryResult)]
struct VolRow {
    id: Uuid,
    person_id: Uuid,
    name: String,
    mobile_masked: Option<String>,
    community_id: Uuid,
    community_name: String,
    skills: String,
    willing: bool,
    party_member: bool,
    verified_minutes: i64,
    own_week_minutes: Option<i32>,
    own_consecutive_days: Option<i32>,
    own_rest_minutes: Option<i32>,
    last_asked_at: Option<i64>,
    user_id: Option<Uuid>,
    version: i32,
    account_id: Uuid,
    balance: i64,
}

const VOL_FROM: &str =
    "FROM volunteers v JOIN persons p ON p.street_id = v.street_id AND p.id = v.person_id \
    JOIN areas a ON a.id = v.community_id JOIN point_accounts pa ON pa.volunteer_id = v.id";
const VOL_COLS: &str = "SELECT v.id, v.person_id, p.name, p.mobile_masked, v.community_id, a.name AS community_name, v.skills, v.willing, \
    v.party_member, v.verified_minutes, v.own_week_minutes, v.own_consecutive_days, v.own_rest_minutes, v.last_asked_at, v.user_id, \
    v.version, pa.id AS account_id, pa.balance";

fn vol_view(state: &AppState, r: VolRow) -> Volunteer {
    let policy = &state.settings.service;
    let own = super::own_limits(
        r.own_week_minutes,
        r.own_consecutive_days,
        r.own_rest_minutes,
    );
    let h = hours(r.verified_minutes);
    Volunteer {
        id: r.id,
        person_id: r.person_id,
        name: r.name,
        mobile_masked: r.mobile_masked,
        community_id: r.community_id,
        community_name: r.community_name,
        skills: skills_list(&r.skills),
        willing: r.willing,
        party_member: r.party_member,
        hours: h,
        stars: stars(r.verified_minutes as f64 / 60.0, &policy.star_hours),
        account_id: r.account_id,
        balance: r.balance,
        limits: policy.limits.stricter(own).into(),
        own_limits: own.map(LimitsView::from),
        last_asked_at: r.last_asked_at.map(ms_to_rfc3339),
        user_id: r.user_id,
        version: r.version,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VolunteerQuery {
    pub area_id: Option<Uuid>,
    /// Name contains.
    pub q: Option<String>,
    pub party_member: Option<bool>,
    /// Has this skill.
    pub skill: Option<String>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

#[tracing::instrument(name = "service::people::list_volunteers", skip_all)]
pub async fn list_volunteers(
    state: &AppState,
    ctx: &Ctx,
    q: &VolunteerQuery,
) -> AppResult<VolunteerPage> {
    let db = &state.db;
    let mut w = super::area_where(
        db,
        ctx,
        Permission::ReadService,
        q.area_id,
        "v.community_id",
    )
    .await?;
    if let Some(t) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        w.and(
            "p.name LIKE ? ESCAPE '\\'",
            [format!("%{}%", store::like_escape(t)).into()],
        );
    }
    if let Some(pm) = q.party_member {
        w.and("v.party_member = ?", [pm.into()]);
    }
    if let Some(s) = q.skill.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        w.and(
            "v.skills LIKE ? ESCAPE '\\'",
            [format!("%{}%", store::like_escape(s)).into()],
        );
    }
    let (cond, values) = w.build(1);
    let paging = store::Paging::new(q.page, q.page_size);
    let (rows, total) = store::page::<VolRow, _>(
        db,
        &format!("SELECT COUNT(*) {VOL_FROM} WHERE {cond}"),
        &format!("{VOL_COLS} {VOL_FROM} WHERE {cond} ORDER BY v.verified_minutes DESC, v.id"),
        values,
        paging,
    )
    .await?;
    Ok(VolunteerPage::new(
        rows.into_iter().map(|r| vol_view(state, r)).collect(),
        total,
        paging,
    ))
}

#[tracing::instrument(name = "service::people::volunteer_view", skip_all)]
pub async fn volunteer_view<C: ConnectionTrait>(
    c: &C,
    state: &AppState,
    id: Uuid,
) -> AppResult<Volunteer> {
    store::fetch_opt::<VolRow, _>(
        c,
        &format!("{VOL_COLS} {VOL_FROM} WHERE v.id = $1"),
        vec![id.into()],
    )
    .await?
    .map(|r| vol_view(state, r))
    .ok_or(AppError::NotFound)
}

/// One volunteer (a read of personal data: audited).
#[tracing::instrument(name = "service::people::get_volunteer", skip_all)]
pub async fn get_volunteer(state: &AppState, ctx: &Ctx, id: Uuid) -> AppResult<Volunteer> {
    let f = super::volunteer_for(&state.db, ctx, Permission::ReadService, id).await?;
    let v = volunteer_view(&state.db, state, id).await?;
    audit::record_alone(
        &state.db,
        Entry::by(ctx, &f.checked, "read", "volunteer", id)
            .area(f.community_id)
            .fields(&["name", "mobile_masked"]),
    )
    .await?;
    Ok(v)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewVolunteer {
    /// A person of the registry.
    pub person_id: Uuid,
    #[serde(default)]
    pub skills: Vec<String>,
    pub willing: Option<bool>,
    /// Links a login (role volunteer) to the record, for the phone page.
    pub username: Option<String>,
}

#[derive(FromQueryResult)]
pub struct PersonFacts {
    pub street_id: Uuid,
    pub id: Uuid,
    pub community_id: Uuid,
    pub name: String,
    pub birth_date: Option<String>,
}

async fn person<C: ConnectionTrait>(c: &C, id: Uuid) -> AppResult<PersonFacts> {
    store::fetch_found(
        c,
        "SELECT street_id, id, community_id, name, birth_date FROM persons WHERE id = $1 AND deleted_at IS NULL AND status = 'active'",
        vec![id.into()],
    )
    .await
}

async fn user_by_name<C: ConnectionTrait>(c: &C, username: &str) -> AppResult<Uuid> {
    #[derive(FromQueryResult)]
    struct U {
        id: Uuid,
    }
    store::fetch_opt::<U, _>(
        c,
        "SELECT id FROM users WHERE username = $1",
        vec![username.trim().to_string().into()],
    )
    .await?
    .map(|u| u.id)
    .ok_or_else(|| AppError::field("username", Msg::new("没有这个账号", "No such user")))
}

/// Creates the volunteer row and its points account (inside the caller's transaction).
#[tracing::instrument(name = "service::people::insert_volunteer", skip_all)]
pub async fn insert_volunteer<C: ConnectionTrait>(
    c: &C,
    p: &PersonFacts,
    community_id: Uuid,
    skills: &str,
    willing: bool,
    party_member: bool,
    user_id: Option<Uuid>,
) -> AppResult<Uuid> {
    let id = new_id();
    let now = now_ms();
    let r = store::exec(
        c,
        "INSERT INTO volunteers (id, person_id, street_id, community_id, user_id, skills, willing, party_member, verified_minutes, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 1, $9, $9)",
        vec![id.into(), p.id.into(), p.street_id.into(), community_id.into(), user_id.into(), skills.to_string().into(), willing.into(), party_member.into(), now.into()],
    )
    .await;
    if let Err(e) = r {
        if crate::error::is_unique_violation(&e) {
            return Err(AppError::conflict_on(
                if user_id.is_some() {
                    "username"
                } else {
                    "person_id"
                },
                Msg::new(
                    "此人（或此账号）已经登记为志愿者",
                    "This person (or this login) is registered as a volunteer already",
                ),
            ));
        }
        return Err(e.into());
    }
    store::exec(
        c,
        "INSERT INTO point_accounts (id, kind, volunteer_id, area_id, name, balance, updated_at) VALUES ($1, 'person', $2, $3, NULL, 0, $4)",
        vec![new_id().into(), id.into(), community_id.into(), now.into()],
    )
    .await?;
    Ok(id)
}

#[tracing::instrument(name = "service::people::register_volunteer", skip_all)]
pub async fn register_volunteer(
    state: &AppState,
    ctx: &Ctx,
    n: NewVolunteer,
) -> AppResult<Volunteer> {
    let db = &state.db;
    let tx = store::write_tx(db).await?;
    let id = register_volunteer_in(&tx, ctx, &n).await?;
    tx.commit().await?;
    volunteer_view(db, state, id).await
}

/// [`register_volunteer`]'s checks and writes in the caller's transaction (the sheet import runs
/// each row in a savepoint of one transaction).
pub(crate) async fn register_volunteer_in(
    tx: &sea_orm::DatabaseTransaction,
    ctx: &Ctx,
    n: &NewVolunteer,
) -> AppResult<Uuid> {
    let skills = skills_text("skills", &n.skills)?;
    let p = person(tx, n.person_id).await?;
    let checked =
        scope::require_permission(tx, ctx, Permission::ManageService, p.community_id).await?;
    let user_id = match n.username.as_deref().filter(|u| !u.trim().is_empty()) {
        Some(u) => Some(user_by_name(tx, u).await?),
        None => None,
    };
    let id = insert_volunteer(
        tx,
        &p,
        p.community_id,
        &skills,
        n.willing.unwrap_or(true),
        false,
        user_id,
    )
    .await?;
    Entry::by(ctx, &checked, "create", "volunteer", id)
        .area(p.community_id)
        .record(tx)
        .await?;
    Ok(id)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VolunteerPatch {
    pub skills: Option<Vec<String>>,
    pub willing: Option<bool>,
    /// The volunteer's own limits; `null` clears them.
    #[serde(default, deserialize_with = "crate::app::areas::double_option")]
    #[schema(value_type = Option<LimitsView>)]
    pub limits: Option<Option<LimitsView>>,
}

/// Checks own limits: each no looser than the defaults.
fn own_limits_values(policy: &Limits, l: &LimitsView) -> AppResult<(i32, i32, i32)> {
    if !(l.hours_per_week.is_finite()
        && l.hours_per_week >= 1.0
        && l.hours_per_week <= policy.hours_per_week)
    {
        return Err(AppError::field(
            "limits.hours_per_week",
            Msg::owned(
                format!("每周时长应在 1–{} 小时之间", policy.hours_per_week),
                format!("Hours per week from 1 to {}", policy.hours_per_week),
            ),
        ));
    }
    if l.consecutive_days < 1 || l.consecutive_days > policy.consecutive_days {
        return Err(AppError::field(
            "limits.consecutive_days",
            Msg::owned(
                format!("连续天数应在 1–{} 天之间", policy.consecutive_days),
                format!("Consecutive days from 1 to {}", policy.consecutive_days),
            ),
        ));
    }
    if !(l.rest_hours.is_finite() && l.rest_hours >= policy.rest_hours && l.rest_hours <= 72.0) {
        return Err(AppError::field(
            "limits.rest_hours",
            Msg::owned(
                format!("两次服务间休息应在 {}–72 小时之间", policy.rest_hours),
                format!("Rest between shifts from {} to 72 hours", policy.rest_hours),
            ),
        ));
    }
    Ok((
        (l.hours_per_week * 60.0).round() as i32,
        l.consecutive_days as i32,
        (l.rest_hours * 60.0).round() as i32,
    ))
}

async fn write_limits<C: ConnectionTrait>(
    c: &C,
    state: &AppState,
    id: Uuid,
    l: Option<LimitsView>,
) -> AppResult<()> {
    let (w, d, r) = match l {
        Some(l) => {
            let (w, d, r) = own_limits_values(&state.settings.service.limits, &l)?;
            (Some(w), Some(d), Some(r))
        }
        None => (None, None, None),
    };
    store::exec(
        c,
        "UPDATE volunteers SET own_week_minutes = $1, own_consecutive_days = $2, own_rest_minutes = $3, version = version + 1, updated_at = $4 WHERE id = $5",
        vec![w.into(), d.into(), r.into(), now_ms().into(), id.into()],
    )
    .await?;
    Ok(())
}

#[tracing::instrument(name = "service::people::update_volunteer", skip_all)]
pub async fn update_volunteer(
    state: &AppState,
    ctx: &Ctx,
    id: Uuid,
    p: VolunteerPatch,
) -> AppResult<Volunteer> {
    let db = &state.db;
    let f = super::volunteer_for(db, ctx, Permission::ManageService, id).await?;
    let tx = store::write_tx(db).await?;
    if let Some(s) = &p.skills {
        let s = skills_text("skills", s)?;
        store::exec(&tx, "UPDATE volunteers SET skills = $1, version = version + 1, updated_at = $2 WHERE id = $3", vec![s.into(), now_ms().into(), id.into()]).await?;
    }
    if let Some(w) = p.willing {
        store::exec(&tx, "UPDATE volunteers SET willing = $1, version = version + 1, updated_at = $2 WHERE id = $3", vec![w.into(), now_ms().into(), id.into()]).await?;
    }
    if let Some(l) = p.limits {
        write_limits(&tx, state, id, l).await?;
    }
    Entry::by(ctx, &f.checked, "update", "volunteer", id)
        .area(f.community_id)
        .record(&tx)
        .await?;
    tx.commit().await?;
    volunteer_view(db, state, id).await
}

/// The volunteer sets their own (lower) limits.
#[tracing::instrument(name = "service::people::set_my_limits", skip_all)]
pub async fn set_my_limits(
    state: &AppState,
    ctx: &Ctx,
    l: Option<LimitsView>,
) -> AppResult<Volunteer> {
    let me = super::me(&state.db, ctx).await?;
    let tx = store::write_tx(&state.db).await?;
    write_limits(&tx, state, me.id, l).await?;
    Entry::by(ctx, &scope::own(ctx), "update", "volunteer_limits", me.id)
        .area(me.community_id)
        .record(&tx)
        .await?;
    tx.commit().await?;
    volunteer_view(&state.db, state, me.id).await
}
