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
    Ok(VolunteerPage {
        items: rows.into_iter().map(|r| vol_view(state, r)).collect(),
        total,
        page: paging.page,
        page_size: paging.size,
    })
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
        Entry::by(ctx, &f.checked, "read", "volunteer", Some(id.to_string()))
            .area(Some(f.community_id))
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
    store::fetch_opt(
        c,
        "SELECT street_id, id, community_id, name, birth_date FROM persons WHERE id = $1 AND deleted_at IS NULL AND status = 'active'",
        vec![id.into()],
    )
    .await?
    .ok_or(AppError::NotFound)
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
    audit::record(
        tx,
        Entry::by(ctx, &checked, "create", "volunteer", Some(id.to_string()))
            .area(Some(p.community_id)),
    )
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
    audit::record(
        &tx,
        Entry::by(ctx, &f.checked, "update", "volunteer", Some(id.to_string()))
            .area(Some(f.community_id)),
    )
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
    audit::record(
        &tx,
        Entry::by(
            ctx,
            &scope::own(ctx),
            "update",
            "volunteer_limits",
            Some(me.id.to_string()),
        )
        .area(Some(me.community_id)),
    )
    .await?;
    tx.commit().await?;
    volunteer_view(&state.db, state, me.id).await
}

// ---------------------------------------------------------------------------- party members

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PartyMember)]
pub struct Member {
    pub id: Uuid,
    pub volunteer_id: Uuid,
    pub person_id: Uuid,
    pub name: String,
    pub org_id: Uuid,
    pub org_name: String,
    pub community_id: Uuid,
    pub community_name: String,
    /// `community` (membership in the community) or `in_service` (在职党员, organisation at a work unit).
    pub kind: String,
    pub work_unit_org_id: Option<Uuid>,
    pub work_unit_name: Option<String>,
    pub joined_on: String,
    /// `full` (正式) or `probationary` (预备).
    pub status: String,
    pub exempt_reason: Option<String>,
    pub age: Option<i64>,
    pub last_reported_on: Option<String>,
    pub valid_until: Option<String>,
    /// An in-service member whose report-in is missing or expired.
    pub overdue: bool,
    pub version: i32,
}
page_of!(MemberPage, Member);

#[derive(FromQueryResult)]
struct MemberRow {
    id: Uuid,
    volunteer_id: Uuid,
    person_id: Uuid,
    name: String,
    birth_date: Option<String>,
    org_id: Uuid,
    org_name: String,
    community_id: Uuid,
    community_name: String,
    kind: String,
    work_unit_org_id: Option<Uuid>,
    work_unit_name: Option<String>,
    joined_on: String,
    status: String,
    exempt_reason: Option<String>,
    last_reported_on: Option<String>,
    report_valid_until: Option<String>,
    version: i32,
}

const MEMBER_FROM: &str = "FROM party_members m JOIN volunteers v ON v.id = m.volunteer_id \
    JOIN persons p ON p.street_id = v.street_id AND p.id = v.person_id JOIN party_orgs o ON o.id = m.org_id \
    JOIN areas a ON a.id = m.community_id LEFT JOIN party_orgs wu ON wu.id = m.work_unit_org_id";
const MEMBER_COLS: &str = "SELECT m.id, m.volunteer_id, v.person_id, p.name, p.birth_date, m.org_id, o.name AS org_name, m.community_id, \
    a.name AS community_name, m.kind, m.work_unit_org_id, wu.name AS work_unit_name, m.joined_on, m.status, m.exempt_reason, \
    m.last_reported_on, m.report_valid_until, m.version";

fn member_view(r: MemberRow, today: &str) -> Member {
    let overdue = r.kind == "in_service"
        && r.report_valid_until
            .as_deref()
            .map(|v| v < today)
            .unwrap_or(true);
    Member {
        id: r.id,
        volunteer_id: r.volunteer_id,
        person_id: r.person_id,
        name: r.name,
        age: age(r.birth_date.as_deref()),
        org_id: r.org_id,
        org_name: r.org_name,
        community_id: r.community_id,
        community_name: r.community_name,
        kind: r.kind,
        work_unit_org_id: r.work_unit_org_id,
        work_unit_name: r.work_unit_name,
        joined_on: r.joined_on,
        status: r.status,
        exempt_reason: r.exempt_reason,
        last_reported_on: r.last_reported_on,
        valid_until: r.report_valid_until,
        overdue,
        version: r.version,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberQuery {
    pub area_id: Option<Uuid>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub q: Option<String>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

#[tracing::instrument(name = "service::people::list_members", skip_all)]
pub async fn list_members(db: &Db, ctx: &Ctx, q: &MemberQuery) -> AppResult<MemberPage> {
    let mut w = super::area_where(
        db,
        ctx,
        Permission::ReadService,
        q.area_id,
        "m.community_id",
    )
    .await?;
    for (cond, v) in [("m.kind = ?", &q.kind), ("m.status = ?", &q.status)] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            w.and(cond, [v.to_string().into()]);
        }
    }
    if let Some(t) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        w.and(
            "p.name LIKE ? ESCAPE '\\'",
            [format!("%{}%", store::like_escape(t)).into()],
        );
    }
    let (cond, values) = w.build(1);
    let paging = store::Paging::new(q.page, q.page_size);
    let (rows, total) = store::page::<MemberRow, _>(
        db,
        &format!("SELECT COUNT(*) {MEMBER_FROM} WHERE {cond}"),
        &format!("{MEMBER_COLS} {MEMBER_FROM} WHERE {cond} ORDER BY a.name, p.name, m.id"),
        values,
        paging,
    )
    .await?;
    let t = today();
    Ok(MemberPage {
        items: rows.into_iter().map(|r| member_view(r, &t)).collect(),
        total,
        page: paging.page,
        page_size: paging.size,
    })
}

#[tracing::instrument(name = "service::people::member", skip_all)]
pub async fn member<C: ConnectionTrait>(c: &C, id: Uuid) -> AppResult<Member> {
    store::fetch_opt::<MemberRow, _>(
        c,
        &format!("{MEMBER_COLS} {MEMBER_FROM} WHERE m.id = $1"),
        vec![id.into()],
    )
    .await?
    .map(|r| member_view(r, &today()))
    .ok_or(AppError::NotFound)
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NewPartyMember)]
pub struct NewMember {
    pub person_id: Uuid,
    /// The party organisation holding the membership.
    pub org_id: Uuid,
    /// `community` or `in_service`.
    pub kind: String,
    /// For an in-service member: the work unit's party organisation (kind unit).
    pub work_unit_org_id: Option<Uuid>,
    /// The community served (report-in target); defaults to the person's community.
    pub community_id: Option<Uuid>,
    pub joined_on: String,
    /// `full` or `probationary`.
    pub status: String,
    #[serde(default)]
    pub skills: Vec<String>,
}

#[derive(FromQueryResult)]
struct OrgFacts {
    kind: String,
}

async fn org_kind<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    id: Uuid,
    field: &str,
) -> AppResult<String> {
    let o: OrgFacts = store::fetch_opt(
        c,
        "SELECT kind FROM party_orgs WHERE id = $1",
        vec![id.into()],
    )
    .await?
    .ok_or_else(|| {
        AppError::field(
            field,
            Msg::new("没有这个党组织", "No such party organisation"),
        )
    })?;
    let _ = ctx;
    Ok(o.kind)
}

fn status_ok(s: &str) -> AppResult<()> {
    if matches!(s, "full" | "probationary") {
        Ok(())
    } else {
        Err(AppError::field(
            "status",
            Msg::new(
                "应为 full（正式）或 probationary（预备）",
                "Either full or probationary",
            ),
        ))
    }
}

#[tracing::instrument(name = "service::people::create_member", skip_all)]
pub async fn create_member(state: &AppState, ctx: &Ctx, n: NewMember) -> AppResult<Member> {
    let db = &state.db;
    let tx = store::write_tx(db).await?;
    let id = create_member_in(&tx, ctx, &n).await?;
    tx.commit().await?;
    member(db, id).await
}

/// [`create_member`]'s checks and writes in the caller's transaction.
pub(crate) async fn create_member_in(
    tx: &sea_orm::DatabaseTransaction,
    ctx: &Ctx,
    n: &NewMember,
) -> AppResult<Uuid> {
    status_ok(&n.status)?;
    let joined_on = date_field("joined_on", &n.joined_on)?;
    if joined_on > today() {
        return Err(AppError::field(
            "joined_on",
            Msg::new(
                "入党日期不能晚于今天",
                "The joining date cannot be in the future",
            ),
        ));
    }
    let skills = skills_text("skills", &n.skills)?;
    let p = person(tx, n.person_id).await?;
    let community_id = n.community_id.unwrap_or(p.community_id);
    super::require_community(tx, community_id).await?;
    let checked =
        scope::require_permission(tx, ctx, Permission::ManageService, community_id).await?;
    org_kind(tx, ctx, n.org_id, "org_id").await?;
    let work_unit = match n.kind.as_str() {
        "community" => None,
        "in_service" => {
            let wu = n.work_unit_org_id.ok_or_else(|| {
                AppError::field(
                    "work_unit_org_id",
                    Msg::new(
                        "在职党员要选择所在单位党组织",
                        "An in-service member needs the work unit's organisation",
                    ),
                )
            })?;
            if org_kind(tx, ctx, wu, "work_unit_org_id").await? != "unit" {
                return Err(AppError::field(
                    "work_unit_org_id",
                    Msg::new(
                        "所在单位应为单位党组织",
                        "The work unit must be a unit organisation",
                    ),
                ));
            }
            Some(wu)
        }
        _ => {
            return Err(AppError::field(
                "kind",
                Msg::new(
                    "应为 community（社区党员）或 in_service（在职党员）",
                    "Either community or in_service",
                ),
            ))
        }
    };
    #[derive(FromQueryResult)]
    struct Existing {
        id: Uuid,
        party_member: bool,
    }
    let existing: Option<Existing> = store::fetch_opt(
        tx,
        "SELECT id, party_member FROM volunteers WHERE person_id = $1",
        vec![p.id.into()],
    )
    .await?;
    let vid = match existing {
        Some(e) if e.party_member => {
            return Err(AppError::conflict_on(
                "person_id",
                Msg::new(
                    "此人已经在党员名册中",
                    "This person is a party member on the roll already",
                ),
            ));
        }
        Some(e) => {
            store::exec(tx, "UPDATE volunteers SET party_member = TRUE, community_id = $1, version = version + 1, updated_at = $2 WHERE id = $3", vec![community_id.into(), now_ms().into(), e.id.into()]).await?;
            store::exec(
                tx,
                "UPDATE point_accounts SET area_id = $1 WHERE volunteer_id = $2",
                vec![community_id.into(), e.id.into()],
            )
            .await?;
            e.id
        }
        None => insert_volunteer(tx, &p, community_id, &skills, true, true, None).await?,
    };
    let id = new_id();
    let now = now_ms();
    store::exec(
        tx,
        "INSERT INTO party_members (id, volunteer_id, org_id, community_id, kind, work_unit_org_id, joined_on, status, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9)",
        vec![id.into(), vid.into(), n.org_id.into(), community_id.into(), n.kind.clone().into(), work_unit.into(), joined_on.into(), n.status.clone().into(), now.into()],
    )
    .await?;
    audit::record(
        tx,
        Entry::by(
            ctx,
            &checked,
            "create",
            "party_member",
            Some(id.to_string()),
        )
        .area(Some(community_id)),
    )
    .await?;
    Ok(id)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MemberPatch {
    pub status: Option<String>,
    /// e.g. 患病; `null` clears it.
    #[serde(default, deserialize_with = "crate::app::areas::double_option")]
    #[schema(value_type = Option<String>)]
    pub exempt_reason: Option<Option<String>>,
    pub version: i32,
}

#[tracing::instrument(name = "service::people::update_member", skip_all)]
pub async fn update_member(
    state: &AppState,
    ctx: &Ctx,
    id: Uuid,
    p: MemberPatch,
) -> AppResult<Member> {
    let db = &state.db;
    let cur = member(db, id).await?;
    let checked =
        scope::require_permission(db, ctx, Permission::ManageService, cur.community_id).await?;
    let status = p.status.clone().unwrap_or(cur.status.clone());
    status_ok(&status)?;
    let exempt = match p.exempt_reason {
        Some(Some(r)) => Some(text_field("exempt_reason", &r, 100, true)?),
        Some(None) => None,
        None => cur.exempt_reason.clone(),
    };
    let tx = store::write_tx(db).await?;
    let n = store::exec(
        &tx,
        "UPDATE party_members SET status = $1, exempt_reason = $2, version = version + 1, updated_at = $3 WHERE id = $4 AND version = $5",
        vec![status.into(), exempt.into(), now_ms().into(), id.into(), p.version.into()],
    )
    .await?;
    if n == 0 {
        return Err(AppError::stale_version());
    }
    audit::record(
        &tx,
        Entry::by(
            ctx,
            &checked,
            "update",
            "party_member",
            Some(id.to_string()),
        )
        .area(Some(cur.community_id)),
    )
    .await?;
    tx.commit().await?;
    member(db, id).await
}

// -------------------------------------------------------------------------------- report-ins

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportIn {
    pub id: Uuid,
    pub member_id: Option<Uuid>,
    pub member_name: Option<String>,
    pub unit_org_id: Option<Uuid>,
    pub unit_name: Option<String>,
    pub community_id: Uuid,
    pub community_name: String,
    pub reported_on: String,
    pub commitment: String,
    pub file_id: Option<Uuid>,
    pub valid_until: String,
    pub created_by_name: String,
    pub created_at: String,
}
page_of!(ReportInPage, ReportIn);

#[derive(FromQueryResult)]
struct ReportInRow {
    id: Uuid,
    member_id: Option<Uuid>,
    member_name: Option<String>,
    unit_org_id: Option<Uuid>,
    unit_name: Option<String>,
    community_id: Uuid,
    community_name: String,
    reported_on: String,
    commitment: String,
    file_id: Option<Uuid>,
    valid_until: String,
    created_by_name: String,
    created_at: i64,
}

const REPORT_SELECT: &str = "SELECT r.id, r.member_id, p.name AS member_name, r.unit_org_id, uo.name AS unit_name, r.community_id, \
    a.name AS community_name, r.reported_on, r.commitment, r.file_id, r.valid_until, r.created_by_name, r.created_at \
    FROM report_ins r JOIN areas a ON a.id = r.community_id LEFT JOIN party_members m ON m.id = r.member_id \
    LEFT JOIN volunteers v ON v.id = m.volunteer_id LEFT JOIN persons p ON p.street_id = v.street_id AND p.id = v.person_id \
    LEFT JOIN party_orgs uo ON uo.id = r.unit_org_id";

fn report_view(r: ReportInRow) -> ReportIn {
    ReportIn {
        id: r.id,
        member_id: r.member_id,
        member_name: r.member_name,
        unit_org_id: r.unit_org_id,
        unit_name: r.unit_name,
        community_id: r.community_id,
        community_name: r.community_name,
        reported_on: r.reported_on,
        commitment: r.commitment,
        file_id: r.file_id,
        valid_until: r.valid_until,
        created_by_name: r.created_by_name,
        created_at: ms_to_rfc3339(r.created_at),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportInQuery {
    pub area_id: Option<Uuid>,
    pub member_id: Option<Uuid>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

#[tracing::instrument(name = "service::people::list_report_ins", skip_all)]
pub async fn list_report_ins(db: &Db, ctx: &Ctx, q: &ReportInQuery) -> AppResult<ReportInPage> {
    let mut w = super::area_where(
        db,
        ctx,
        Permission::ReadService,
        q.area_id,
        "r.community_id",
    )
    .await?;
    if let Some(m) = q.member_id {
        w.and("r.member_id = ?", [m.into()]);
    }
    let (cond, values) = w.build(1);
    let paging = store::Paging::new(q.page, q.page_size);
    let (rows, total) = store::page::<ReportInRow, _>(
        db,
        &format!("SELECT COUNT(*) FROM report_ins r WHERE {cond}"),
        &format!("{REPORT_SELECT} WHERE {cond} ORDER BY r.reported_on DESC, r.id DESC"),
        values,
        paging,
    )
    .await?;
    Ok(ReportInPage {
        items: rows.into_iter().map(report_view).collect(),
        total,
        page: paging.page,
        page_size: paging.size,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewReportIn {
    /// An in-service (or community) member reporting in …
    pub member_id: Option<Uuid>,
    /// … or a unit's party organisation (驻区单位党组织).
    pub unit_org_id: Option<Uuid>,
    pub community_id: Uuid,
    pub reported_on: String,
    /// 承诺事项.
    pub commitment: String,
    /// An uploaded attachment (`POST /files`).
    pub file_id: Option<Uuid>,
}

/// Records a report-in, valid for the configured months; a member's earns the report-in points.
#[tracing::instrument(name = "service::people::create_report_in", skip_all)]
pub async fn create_report_in(state: &AppState, ctx: &Ctx, n: NewReportIn) -> AppResult<ReportIn> {
    let db = &state.db;
    let reported_on = date_field("reported_on", &n.reported_on)?;
    if reported_on > today() {
        return Err(AppError::field(
            "reported_on",
            Msg::new("报到日期不能晚于今天", "The date cannot be in the future"),
        ));
    }
    let commitment = text_field("commitment", &n.commitment, 1000, true)?;
    let valid_until = super::add_months(&reported_on, state.settings.service.report_in_months)
        .ok_or_else(|| AppError::field("reported_on", Msg::new("日期无效", "Invalid date")))?;
    let tx = store::write_tx(db).await?;
    super::require_community(&tx, n.community_id).await?;
    let checked =
        scope::require_permission(&tx, ctx, Permission::ManageService, n.community_id).await?;
    let member = match (n.member_id, n.unit_org_id) {
        (Some(m), None) => {
            let mm = member(&tx, m).await?;
            scope::require_permission(&tx, ctx, Permission::ReadService, mm.community_id).await?;
            Some(mm)
        }
        (None, Some(u)) => {
            if org_kind(&tx, ctx, u, "unit_org_id").await? != "unit" {
                return Err(AppError::field(
                    "unit_org_id",
                    Msg::new(
                        "报到单位应为单位党组织",
                        "A unit report-in is by a unit organisation",
                    ),
                ));
            }
            None
        }
        _ => {
            return Err(AppError::field(
                "member_id",
                Msg::new(
                    "请选择报到的党员或单位党组织（二选一）",
                    "Give either a member or a unit organisation",
                ),
            ))
        }
    };
    if let Some(f) = n.file_id {
        if store::fetch_i64(
            &tx,
            "SELECT COUNT(*) FROM files WHERE id = $1",
            vec![f.into()],
        )
        .await?
            == 0
        {
            return Err(AppError::field(
                "file_id",
                Msg::new(
                    "附件不存在，请重新上传",
                    "The attachment does not exist; upload it again",
                ),
            ));
        }
    }
    let id = new_id();
    let now = now_ms();
    store::exec(
        &tx,
        "INSERT INTO report_ins (id, member_id, unit_org_id, community_id, reported_on, valid_until, commitment, file_id, created_by, created_by_name, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        vec![
            id.into(), n.member_id.into(), n.unit_org_id.into(), n.community_id.into(), reported_on.clone().into(), valid_until.clone().into(),
            commitment.into(), n.file_id.into(), ctx.principal.actor_id().into(), ctx.principal.display_name.clone().into(), now.into(),
        ],
    )
    .await?;
    if let Some(m) = &member {
        // The latest report-in is kept on the member (an older one entered late does not replace it).
        store::exec(
            &tx,
            "UPDATE party_members SET last_reported_on = $1, report_valid_until = $2, community_id = $3, updated_at = $4 \
             WHERE id = $5 AND (last_reported_on IS NULL OR last_reported_on <= $1)",
            vec![reported_on.clone().into(), valid_until.into(), n.community_id.into(), now.into(), m.id.into()],
        )
        .await?;
        let account = store::fetch_opt::<AccId, _>(
            &tx,
            "SELECT id FROM point_accounts WHERE volunteer_id = $1",
            vec![m.volunteer_id.into()],
        )
        .await?
        .ok_or(AppError::NotFound)?;
        let rules = ledger::rules_for(&tx, n.community_id).await?;
        let rule = rules[&Event::ReportIn];
        let actor = Actor::of(ctx);
        let postings = ledger::earn_by_rule(
            &tx,
            &actor,
            Event::ReportIn,
            rule,
            vec![(account.id, rule.points, Some(id.to_string()))],
            "report_in",
            now,
        )
        .await?;
        ledger::post_credits(&tx, &actor, postings, now).await?;
    }
    audit::record(
        &tx,
        Entry::by(ctx, &checked, "create", "report_in", Some(id.to_string()))
            .area(Some(n.community_id)),
    )
    .await?;
    let row: ReportInRow = store::fetch_opt(
        &tx,
        &format!("{REPORT_SELECT} WHERE r.id = $1"),
        vec![id.into()],
    )
    .await?
    .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(report_view(row))
}

#[derive(FromQueryResult)]
struct AccId {
    id: Uuid,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Overdue {
    pub member_id: Option<Uuid>,
    pub unit_org_id: Option<Uuid>,
    pub name: String,
    pub work_unit_name: Option<String>,
    pub community_name: String,
    pub last_reported_on: Option<String>,
    pub valid_until: Option<String>,
    /// Days since the report-in expired; null when there never was one.
    pub days_overdue: Option<i64>,
}

/// In-service members and unit organisations whose report-in is missing or expired.
#[tracing::instrument(name = "service::people::overdue", skip_all)]
pub async fn overdue(db: &Db, ctx: &Ctx, area_id: Option<Uuid>) -> AppResult<Vec<Overdue>> {
    let today = today();
    let mut w =
        super::area_where(db, ctx, Permission::ReadService, area_id, "m.community_id").await?;
    w.and(
        "m.kind = 'in_service' AND (m.report_valid_until IS NULL OR m.report_valid_until < ?)",
        [today.clone().into()],
    );
    let (cond, values) = w.build(1);
    #[derive(FromQueryResult)]
    struct Row {
        member_id: Option<Uuid>,
        unit_org_id: Option<Uuid>,
        name: String,
        work_unit_name: Option<String>,
        community_name: String,
        last_reported_on: Option<String>,
        valid_until: Option<String>,
    }
    let mut rows: Vec<Row> = store::fetch_all(
        db,
        &format!(
            "SELECT m.id AS member_id, CAST(NULL AS {uuid}) AS unit_org_id, p.name, wu.name AS work_unit_name, a.name AS community_name, \
             m.last_reported_on, m.report_valid_until AS valid_until {MEMBER_FROM} \
             WHERE {cond} ORDER BY m.report_valid_until, p.name LIMIT 2000",
            uuid = if db.get_database_backend() == sea_orm::DbBackend::Postgres { "UUID" } else { "BLOB" },
        ),
        values,
    )
    .await?;
    // Units: their latest report-in to a community of the scope has expired.
    let w = super::area_where(db, ctx, Permission::ReadService, area_id, "r.community_id").await?;
    let (cond, mut values) = w.build(1);
    // The HAVING clause's value comes after the WHERE clause's.
    values.push(today.clone().into());
    let having = values.len();
    let units: Vec<Row> = store::fetch_all(
        db,
        &format!(
            "SELECT CAST(NULL AS {uuid}) AS member_id, r.unit_org_id, o.name, CAST(NULL AS VARCHAR(100)) AS work_unit_name, a.name AS community_name, \
             MAX(r.reported_on) AS last_reported_on, MAX(r.valid_until) AS valid_until \
             FROM report_ins r JOIN party_orgs o ON o.id = r.unit_org_id JOIN areas a ON a.id = r.community_id \
             WHERE {cond} AND r.unit_org_id IS NOT NULL GROUP BY r.unit_org_id, o.name, a.name HAVING MAX(r.valid_until) < ${having}",
            uuid = if db.get_database_backend() == sea_orm::DbBackend::Postgres { "UUID" } else { "BLOB" },
        ),
        values,
    )
    .await?;
    rows.extend(units);
    let t = crate::domain::calendar::parse_date(&today).expect("today");
    Ok(rows
        .into_iter()
        .map(|r| Overdue {
            days_overdue: r
                .valid_until
                .as_deref()
                .and_then(crate::domain::calendar::parse_date)
                .map(|v| (t - v).whole_days()),
            member_id: r.member_id,
            unit_org_id: r.unit_org_id,
            name: r.name,
            work_unit_name: r.work_unit_name,
            community_name: r.community_name,
            last_reported_on: r.last_reported_on,
            valid_until: r.valid_until,
        })
        .collect())
}

// ------------------------------------------------------------------------------- pairings

#[derive(Debug, Serialize, ToSchema, FromQueryResult)]
pub struct Pairing {
    pub org_id: Uuid,
    pub org_name: String,
    pub community_id: Uuid,
    pub community_name: String,
    pub since: String,
}

#[tracing::instrument(name = "service::people::list_pairings", skip_all)]
pub async fn list_pairings(db: &Db, ctx: &Ctx, area_id: Option<Uuid>) -> AppResult<Vec<Pairing>> {
    let (cond, values) = super::area_filter(
        db,
        ctx,
        Permission::ReadService,
        area_id,
        "bp.community_id",
        1,
    )
    .await?;
    Ok(store::fetch_all(
        db,
        &format!(
            "SELECT bp.org_id, o.name AS org_name, bp.community_id, a.name AS community_name, bp.since FROM branch_pairings bp \
             JOIN party_orgs o ON o.id = bp.org_id JOIN areas a ON a.id = bp.community_id WHERE {cond} ORDER BY a.name"
        ),
        values,
    )
    .await?)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PairingInput {
    pub org_id: Uuid,
    pub community_id: Uuid,
    pub since: Option<String>,
}

/// Pairs a branch with one community point (replacing the branch's earlier pairing). A community
/// already paired with another branch is refused.
#[tracing::instrument(name = "service::people::put_pairing", skip_all)]
pub async fn put_pairing(db: &Db, ctx: &Ctx, p: PairingInput) -> AppResult<Pairing> {
    let since = match p.since.as_deref() {
        Some(s) => date_field("since", s)?,
        None => today(),
    };
    let tx = store::write_tx(db).await?;
    super::require_community(&tx, p.community_id).await?;
    let checked =
        scope::require_permission(&tx, ctx, Permission::ManageService, p.community_id).await?;
    org_kind(&tx, ctx, p.org_id, "org_id").await?;
    store::exec(
        &tx,
        "DELETE FROM branch_pairings WHERE org_id = $1",
        vec![p.org_id.into()],
    )
    .await?;
    let r = store::exec(
        &tx,
        "INSERT INTO branch_pairings (org_id, community_id, since, created_at) VALUES ($1, $2, $3, $4)",
        vec![p.org_id.into(), p.community_id.into(), since.into(), now_ms().into()],
    )
    .await;
    if let Err(e) = r {
        if crate::error::is_unique_violation(&e) {
            return Err(AppError::conflict_on(
                "community_id",
                Msg::new(
                    "这个社区已与另一个支部结对",
                    "This community is paired with another branch already",
                ),
            ));
        }
        return Err(e.into());
    }
    audit::record(
        &tx,
        Entry::by(
            ctx,
            &checked,
            "pair",
            "party_org",
            Some(p.org_id.to_string()),
        )
        .area(Some(p.community_id)),
    )
    .await?;
    tx.commit().await?;
    list_pairings(db, ctx, Some(p.community_id))
        .await?
        .into_iter()
        .find(|x| x.org_id == p.org_id)
        .ok_or(AppError::NotFound)
}

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
    let db = &state.db;
    let now = now_ms();
    let week_start = now - 7 * 86_400_000;
    let mut w =
        super::area_where(db, ctx, Permission::ReadService, area_id, "v.community_id").await?;
    w.and(
        "s.status = 'signed' AND s.starts_at >= ? AND s.starts_at < ?",
        [week_start.into(), (now + 7 * 86_400_000).into()],
    );
    let (cond, values) = w.build(1);
    #[derive(FromQueryResult)]
    struct S {
        volunteer_id: Uuid,
        name: String,
        community_name: String,
        own_week_minutes: Option<i32>,
        own_consecutive_days: Option<i32>,
        own_rest_minutes: Option<i32>,
        starts_at: i64,
        ends_at: i64,
    }
    let shifts: Vec<S> = store::fetch_all(
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
    let policy = &state.settings.service;
    let mut near = vec![];
    let this_week = crate::domain::calendar::local_date(now).to_iso_week_date();
    let mut i = 0;
    while i < shifts.len() {
        let j = shifts[i..]
            .iter()
            .position(|s| s.volunteer_id != shifts[i].volunteer_id)
            .map(|p| i + p)
            .unwrap_or(shifts.len());
        let group = &shifts[i..j];
        let s0 = &group[0];
        let own = super::own_limits(
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
        if hot_hours || hot_days {
            let en = en(ctx);
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
            near.push(NearLimit {
                volunteer_id: s0.volunteer_id,
                name: s0.name.clone(),
                community_name: s0.community_name.clone(),
                week_hours: wh,
                hours_per_week: lim.hours_per_week,
                consecutive_days: longest,
                consecutive_limit: lim.consecutive_days,
                reason,
            });
        }
        i = j;
    }
    near.sort_by(|a, b| b.week_hours.total_cmp(&a.week_hours));
    let mut w =
        super::area_where(db, ctx, Permission::ReadService, area_id, "v.community_id").await?;
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
    Ok(Load {
        near_limits: near,
        idle: idle
            .into_iter()
            .map(|r| Idle {
                volunteer_id: r.volunteer_id,
                name: r.name,
                community_name: r.community_name,
                days_idle: r.last_asked_at.map(|t| (now - t) / 86_400_000),
                last_asked_at: r.last_asked_at.map(ms_to_rfc3339),
                skills: skills_list(&r.skills),
            })
            .collect(),
        idle_days: IDLE_DAYS,
    })
}

// ------------------------------------------------------------------- the volunteer's phone page

#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    pub volunteer: Volunteer,
    /// Hours still needed for the next star; null at five stars.
    pub next_star_hours: Option<f64>,
    /// Hours signed up for in this ISO week (Asia/Shanghai).
    pub week_hours: f64,
    pub upcoming: Vec<super::activities::Activity>,
    pub open: Vec<super::activities::Activity>,
    pub certificates: Vec<super::units::Certificate>,
    pub recent_postings: Vec<ledger::PostingView>,
}

#[tracing::instrument(name = "service::people::me_view", skip_all)]
pub async fn me_view(state: &AppState, ctx: &Ctx) -> AppResult<MeView> {
    let db = &state.db;
    let me = super::me(db, ctx).await?;
    let volunteer = volunteer_view(db, state, me.id).await?;
    let (upcoming, open) = super::activities::mine(db, ctx, &me).await?;
    let now = now_ms();
    let week = crate::domain::calendar::local_date(now).to_iso_week_date();
    #[derive(FromQueryResult)]
    struct S {
        starts_at: i64,
        ends_at: i64,
    }
    let shifts: Vec<S> = store::fetch_all(
        db,
        "SELECT starts_at, ends_at FROM activity_signups WHERE volunteer_id = $1 AND status = 'signed' AND starts_at >= $2 AND starts_at < $3",
        vec![me.id.into(), (now - 8 * 86_400_000).into(), (now + 8 * 86_400_000).into()],
    )
    .await?;
    let week_minutes: i64 = shifts
        .iter()
        .filter(|s| {
            let w = crate::domain::calendar::local_date(s.starts_at).to_iso_week_date();
            (w.0, w.1) == (week.0, week.1)
        })
        .map(|s| (s.ends_at - s.starts_at) / 60_000)
        .sum();
    let postings = ledger::postings_of(
        db,
        ctx,
        me.account_id,
        &ledger::PageParams {
            page: Some(1),
            page_size: Some(10),
        },
    )
    .await?;
    Ok(MeView {
        next_star_hours: crate::domain::points::next_star_hours(
            me.verified_minutes as f64 / 60.0,
            &state.settings.service.star_hours,
        )
        .map(|h| (h * 10.0).ceil() / 10.0),
        week_hours: hours(week_minutes),
        volunteer,
        upcoming,
        open,
        certificates: super::units::mine(db, me.id).await?,
        recent_postings: postings.items,
    })
}

#[tracing::instrument(name = "service::people::my_postings", skip_all)]
pub async fn my_postings(
    state: &AppState,
    ctx: &Ctx,
    page: &ledger::PageParams,
) -> AppResult<ledger::PostingPage> {
    let me = super::me(&state.db, ctx).await?;
    ledger::postings_of(&state.db, ctx, me.account_id, page).await
}
