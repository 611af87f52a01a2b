//! Case intake (受理): from the console, a resident's phone, a patrol, a visit, the hotline, a
//! department's system or Open311. A case is acknowledged only after it is committed; a retry
//! with the same idempotency key returns the same case.
use sea_orm::ConnectionTrait;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::query::{self, Case, CaseRow};
use super::{stats, units};
use crate::app::{scope, AppState, Ctx};
use crate::domain::calendar::{day_number, local_date};
use crate::domain::cases::{case_no, CaseKind, Channel, Status};
use crate::domain::role::Permission;
use crate::domain::{new_id, now_ms};
use crate::error::{AppError, AppResult, FieldErrors, Msg};
use crate::store;

/// A description may be this long (characters).
pub const MAX_DESCRIPTION: usize = 4000;

#[derive(Debug, Deserialize, ToSchema, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// An area (a grid, building, community…), or
    pub area_id: Option<Uuid>,
    /// a dwelling of the registry, or
    pub dwelling_id: Option<Uuid>,
    /// a point (WGS 84), placed in its grid by the grids' boundaries.
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// Free text, shown to handlers (with one of the above).
    pub address: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct RequesterInput {
    pub name: String,
    pub phone: Option<String>,
    /// The resident in the registry, when known.
    pub person_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    /// consult | help | complaint | report | suggestion
    pub kind: String,
    pub category_code: String,
    /// Default: the first 40 characters of the description.
    pub title: Option<String>,
    pub description: String,
    /// console | phone_page | patrol | visit | hotline | api | open311 (default: console for a
    /// user, api for an API token).
    pub channel: Option<String>,
    pub location: Location,
    pub requester: RequesterInput,
    /// Uploaded files (`POST /files`).
    #[serde(default)]
    pub attachments: Vec<Uuid>,
    /// Same as the `Idempotency-Key` header.
    pub idempotency_key: Option<String>,
}

/// The checked parts of a new case.
struct Checked {
    kind: CaseKind,
    channel: Channel,
    title: String,
    description: String,
    address: Option<String>,
    phone: Option<String>,
    name: String,
}

fn check_phone(p: &str) -> bool {
    let digits = p.chars().filter(|c| c.is_ascii_digit()).count();
    (5..=20).contains(&digits)
        && p.chars().all(|c| c.is_ascii_digit() || "+- ()".contains(c))
        && p.len() <= 30
}

fn check(ctx: &Ctx, input: &NewCase, errs: &mut FieldErrors) -> Option<Checked> {
    let kind = CaseKind::parse(&input.kind);
    if kind.is_none() {
        errs.insert(
            "kind".into(),
            Msg::new(
                "类型应为 consult、help、complaint、report 或 suggestion",
                "kind must be consult, help, complaint, report or suggestion",
            ),
        );
    }
    let default_channel = if ctx.principal.kind == crate::app::PrincipalKind::ApiToken {
        Channel::Api
    } else {
        Channel::Console
    };
    let channel = match input.channel.as_deref() {
        None | Some("") => Some(default_channel),
        Some(c) => Channel::parse(c),
    };
    if channel.is_none() {
        errs.insert("channel".into(), Msg::new("渠道不正确", "Unknown channel"));
    }
    let description = input.description.trim().to_string();
    let n = description.chars().count();
    if n == 0 {
        errs.insert(
            "description".into(),
            Msg::new("请描述诉求内容", "Describe the demand"),
        );
    } else if n > MAX_DESCRIPTION {
        errs.insert(
            "description".into(),
            Msg::owned(
                format!("诉求内容最多 {MAX_DESCRIPTION} 个字（现有 {n} 个）"),
                format!("At most {MAX_DESCRIPTION} characters (this has {n})"),
            ),
        );
    }
    if description
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        errs.insert(
            "description".into(),
            Msg::new("内容含有控制字符", "The text contains control characters"),
        );
    }
    let title = match input
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        Some(t) => match crate::domain::clean_name(t, 200) {
            Ok(t) => t,
            Err(m) => {
                errs.insert("title".into(), m);
                String::new()
            }
        },
        None => description
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(40)
            .collect(),
    };
    let name = match crate::domain::clean_name(&input.requester.name, 50) {
        Ok(n) => n,
        Err(m) => {
            errs.insert("requester.name".into(), m);
            String::new()
        }
    };
    let phone = input
        .requester
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    if let Some(p) = phone {
        if !check_phone(p) {
            errs.insert(
                "requester.phone".into(),
                Msg::new("电话号码格式不正确", "The phone number is malformed"),
            );
        }
    }
    let address = input
        .location
        .address
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    if let Some(a) = address {
        if a.chars().count() > 300 {
            errs.insert(
                "location.address".into(),
                Msg::new("地址最多 300 个字", "At most 300 characters"),
            );
        }
    }
    let l = &input.location;
    match (l.lat, l.lon) {
        (Some(lat), Some(lon)) => {
            if !lat.is_finite()
                || !lon.is_finite()
                || !(-90.0..=90.0).contains(&lat)
                || !(-180.0..=180.0).contains(&lon)
            {
                errs.insert(
                    "location".into(),
                    Msg::new(
                        "坐标超出范围（纬度 ±90，经度 ±180）",
                        "Coordinates out of range (latitude ±90, longitude ±180)",
                    ),
                );
            }
        }
        (None, None) => {
            if l.area_id.is_none() && l.dwelling_id.is_none() {
                errs.insert(
                    "location".into(),
                    Msg::new(
                        "请指明位置：区域、房屋或坐标",
                        "Give a location: an area, a dwelling or coordinates",
                    ),
                );
            }
        }
        _ => {
            errs.insert(
                "location".into(),
                Msg::new("经度和纬度要一起填写", "Give both latitude and longitude"),
            );
        }
    }
    if input.attachments.len() > 20 {
        errs.insert(
            "attachments".into(),
            Msg::new("最多 20 个附件", "At most 20 attachments"),
        );
    }
    if !errs.is_empty() {
        return None;
    }
    Some(Checked {
        kind: kind?,
        channel: channel?,
        title,
        description,
        address: address.map(str::to_string),
        phone: phone.map(str::to_string),
        name,
    })
}

/// Resolves the location to a placement (area → dwelling's building → point in a grid). A point
/// that lies in no grid or community is `Ok(None)`.
async fn locate<C: ConnectionTrait>(
    state: &AppState,
    c: &C,
    l: &Location,
) -> AppResult<Option<std::sync::Arc<super::Placed>>> {
    let bad = |zh: &'static str, en: &'static str| AppError::field("location", Msg::new(zh, en));
    let area = if let Some(a) = l.area_id {
        Some(a)
    } else if let Some(d) = l.dwelling_id {
        #[derive(sea_orm::FromQueryResult)]
        struct B {
            building_id: Uuid,
        }
        let b: Option<B> = store::fetch_opt(
            c,
            "SELECT building_id FROM dwellings WHERE id = $1 AND deleted_at IS NULL",
            vec![d.into()],
        )
        .await?;
        Some(
            b.ok_or_else(|| bad("没有这个房屋", "No such dwelling"))?
                .building_id,
        )
    } else {
        None
    };
    let area = match (area, l.lat, l.lon) {
        (Some(a), _, _) => a,
        (None, Some(lat), Some(lon)) => {
            let shapes = state.case_caches.shapes(c).await?;
            match shapes.iter().find(|s| s.shape.contains(lon, lat)) {
                Some(s) => s.id,
                None => return Ok(None),
            }
        }
        _ => {
            return Err(bad(
                "请指明位置：区域、房屋或坐标",
                "Give a location: an area, a dwelling or coordinates",
            ))
        }
    };
    let placed = state.case_caches.placed(c, area).await?.ok_or_else(|| {
        bad(
            "位置应在某个街道之内（请选择街道、社区、网格或楼栋）",
            "The location must lie within a street",
        )
    })?;
    Ok(Some(placed))
}

/// Where a new case lies, and a note for its timeline when that is not where the caller is.
///
/// Anyone granted on the location (or above it) may report there: a resident on their community,
/// a grid worker on their grid, a department's token on its district. A point (coordinates) may
/// also lie outside the caller's own area — a resident's 随手拍 on the way to work, a grid worker
/// helping next door: the case is received by the area that contains the point, or by the
/// caller's own street when no grid or community does. An area or dwelling named by id outside
/// the caller's scope stays 404: ids are not facts to confirm to strangers.
async fn place_case(
    state: &AppState,
    ctx: &Ctx,
    l: &Location,
) -> AppResult<(std::sync::Arc<super::Placed>, Option<String>)> {
    let by_point = l.area_id.is_none() && l.dwelling_id.is_none();
    let found = locate(state, &state.db, l).await?;
    if let Some(placed) = &found {
        if scope::visible_among(ctx, &placed.ids()) {
            return Ok((placed.clone(), None));
        }
    }
    if !by_point {
        return Err(AppError::NotFound);
    }
    if let Some(placed) = found {
        let name = placed.name_of(placed.at.area_id).unwrap_or_default();
        return Ok((
            placed,
            Some(format!(
                "位置在提交人所属区域之外，按坐标所在区域「{name}」受理"
            )),
        ));
    }
    let home = home_street(state, ctx).await?.ok_or_else(|| {
        AppError::field(
            "location",
            Msg::new(
                "该坐标不在任何网格或社区范围内",
                "The point lies in no grid or community",
            ),
        )
    })?;
    Ok((
        home,
        Some("坐标不在任何网格或社区范围内，由提交人所在街道受理".into()),
    ))
}

/// The street of the caller's first grant that lies within a street (a resident's community, a
/// grid worker's grid), placed at the street itself.
async fn home_street(
    state: &AppState,
    ctx: &Ctx,
) -> AppResult<Option<std::sync::Arc<super::Placed>>> {
    for g in &ctx.principal.grants {
        let Some(area) = g.area_id else { continue };
        if let Some(p) = state.case_caches.placed(&state.db, area).await? {
            return state.case_caches.placed(&state.db, p.at.street_id).await;
        }
    }
    Ok(None)
}

/// Checks a new case and builds its row: fields, category, location, scope, routing. Writes
/// nothing. `received_at`: now, or the hotline's time for imported work orders.
#[tracing::instrument(name = "cases::intake::build", skip_all)]
pub async fn build(
    state: &AppState,
    ctx: &Ctx,
    input: &NewCase,
    received_at: i64,
    idem: Option<String>,
) -> AppResult<CaseRow> {
    Ok(build_fresh(state, ctx, input, received_at, idem).await?.0)
}

/// What intake learnt while building a case, so its answer needs no further reads.
pub struct Fresh {
    pub placed: std::sync::Arc<super::Placed>,
    /// Said on the first timeline event: why the case is received where it is.
    pub note: Option<String>,
    pub category_name: String,
    pub return_visit_required: bool,
    pub route: units::RouteInfo,
}

async fn build_fresh(
    state: &AppState,
    ctx: &Ctx,
    input: &NewCase,
    received_at: i64,
    idem: Option<String>,
) -> AppResult<(CaseRow, Fresh)> {
    let mut errs = FieldErrors::new();
    let checked = check(ctx, input, &mut errs);
    let category = state
        .case_caches
        .category(&state.db, input.category_code.trim())
        .await?;
    let category = match category {
        Some(c) if c.active => Some(c),
        _ => {
            errs.insert(
                "category_code".into(),
                Msg::owned(
                    format!("没有编码为「{}」的事项分类", input.category_code.trim()),
                    format!("No category has the code '{}'", input.category_code.trim()),
                ),
            );
            None
        }
    };
    let (Some(c), Some(category)) = (checked, category) else {
        return Err(AppError::Validation(errs));
    };
    let (placed, intake_note) = place_case(state, ctx, &input.location).await?;
    let at = placed.at;
    let info = state
        .case_caches
        .route(&state.db, &category.code, &at)
        .await?;
    let route = info.route;
    let now = now_ms();
    let day = day_number(local_date(received_at));
    let id = new_id();
    let random = u64::from_le_bytes(id.as_bytes()[8..16].try_into().unwrap_or([0; 8]));
    let fresh = Fresh {
        placed: placed.clone(),
        note: intake_note,
        category_name: category.name.clone(),
        return_visit_required: category.return_visit_required,
        route: info,
    };
    let row = CaseRow {
        id,
        no: case_no(day, random),
        street_id: at.street_id,
        community_id: at.community_id,
        grid_id: at.grid_id,
        area_id: at.area_id,
        kind: c.kind.as_str().into(),
        channel: c.channel.as_str().into(),
        category_id: category.id,
        category_code: category.code.clone(),
        title: c.title,
        description: c.description,
        address: c.address,
        dwelling_id: input.location.dwelling_id,
        lat: input.location.lat,
        lon: input.location.lon,
        requester_name: state.keys.encrypt(&c.name),
        requester_phone: c.phone.as_deref().map(|p| state.keys.encrypt(p)),
        requester_person_id: input.requester.person_id,
        submitted_by: ctx.principal.actor_id(),
        route_rule: Some(route.rule.into()),
        route_duty_id: route.duty_id,
        route_unit_id: route.unit_id,
        idem_key: idem,
        updated_at: now,
        ..CaseRow::received(received_at, day)
    };
    Ok((row, fresh))
}

/// Stores a built case with its first timeline event and its counters, in the caller's
/// transaction.
#[tracing::instrument(name = "cases::intake::store_new", skip_all)]
pub async fn store_new<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    checked: &scope::Checked,
    row: &CaseRow,
    note: Option<String>,
    attachments: &[super::lifecycle::Attachment],
) -> AppResult<()> {
    insert_row(c, row).await?;
    super::lifecycle::event(
        c,
        ctx,
        checked,
        row,
        "receive",
        None,
        Some(Status::Received),
        None,
        note,
        attachments,
    )
    .await?;
    stats::record(c, None, row).await?;
    Ok(())
}

/// `POST /cases`. Returns the case and whether it is new (`false`: a replay of the same key).
#[tracing::instrument(name = "cases::intake::create", skip_all)]
pub async fn create(
    state: &AppState,
    ctx: &Ctx,
    input: NewCase,
    header_key: Option<String>,
) -> AppResult<(Case, bool)> {
    let key = header_key
        .or(input.idempotency_key.clone())
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty());
    if let Some(k) = &key {
        if k.len() > 100 {
            return Err(AppError::field(
                "idempotency_key",
                Msg::new("幂等键最多 100 个字符", "At most 100 characters"),
            ));
        }
    }
    let idem = key
        .as_ref()
        .map(|k| format!("{}:{k}", ctx.principal.actor_id().unwrap_or_default()));
    if let Some(idem) = &idem {
        if let Some(case) = replay(state, ctx, idem).await? {
            return Ok((case, false));
        }
    }
    let (row, fresh) = build_fresh(state, ctx, &input, now_ms(), idem.clone()).await?;
    let attachments =
        super::lifecycle::check_attachments(&state.db, ctx, &input.attachments).await?;
    let queue = state.case_caches.writer(&state.db).await;
    if let Err(e) = super::writer::submit(
        &queue,
        ctx,
        scope::own(ctx),
        row.clone(),
        fresh.note.clone(),
        attachments,
    )
    .await
    {
        // Two retries with one key raced: the other one stored the case.
        if let (Some(idem), AppError::Db(db)) = (&idem, &e) {
            if crate::error::is_unique_violation(db) {
                if let Some(case) = replay(state, ctx, idem).await? {
                    return Ok((case, false));
                }
            }
        }
        return Err(e);
    }
    // The answer is built from what intake already knows: no further reads.
    let ids = fresh.placed.ids();
    let proofs = query::Proofs {
        dispatch: scope::permitted_proof_among(ctx, Permission::DispatchCases, row.area_id, &ids),
        street: scope::permitted_proof_among(ctx, Permission::ArbitrateCases, row.area_id, &ids),
        unit: None,
        requester: Some(scope::own(ctx)),
    };
    let acc = query::Access {
        read: scope::permitted_among(ctx, Permission::ReadCases, &ids),
        dispatch: proofs.dispatch.is_some(),
        street: proofs.street.is_some(),
        unit: false,
        summoned: false,
        requester: true,
        proofs,
    };
    let parts = query::Parts {
        names: query::Names {
            category_name: Some(fresh.category_name),
            area_name: fresh.placed.name_of(row.area_id),
            community_name: fresh.placed.name_of(row.community_id),
            unit_name: None,
        },
        first_unit_name: None,
        routing: Some(units::explain_info(
            ctx.lang,
            &fresh.route,
            &row.category_code,
        )),
        return_visit_required: fresh.return_visit_required,
        whistles: vec![],
        may_arrive: false,
    };
    Ok((query::assemble(state, ctx, &row, &acc, parts), true))
}

async fn replay(state: &AppState, ctx: &Ctx, idem: &str) -> AppResult<Option<Case>> {
    let row: Option<CaseRow> = store::fetch_opt(
        &state.db,
        &format!("SELECT {} FROM cases WHERE idem_key = $1", query::COLUMNS),
        vec![idem.to_string().into()],
    )
    .await?;
    match row {
        Some(row) => {
            let mine = super::my_units(&state.db, ctx).await?;
            let acc = query::access(&state.db, ctx, &row, &mine).await?;
            Ok(Some(query::view(state, &state.db, ctx, &row, &acc).await?))
        }
        None => Ok(None),
    }
}

/// Writes a new case row (intake, imports).
#[tracing::instrument(name = "cases::intake::insert_row", skip_all)]
pub async fn insert_row<C: ConnectionTrait>(c: &C, r: &CaseRow) -> Result<u64, sea_orm::DbErr> {
    let values = row_values(r);
    store::exec(
        c,
        &format!(
            "INSERT INTO cases ({}) VALUES ({})",
            query::COLUMNS,
            store::placeholders(1, values.len())
        ),
        values,
    )
    .await
}

/// Every column of a case with its value, in the order of [`query::COLUMNS`]: the one list
/// inserts and updates are built from.
pub fn column_values(r: &CaseRow) -> Vec<(&'static str, sea_orm::Value)> {
    vec![
        ("id", r.id.into()),
        ("no", r.no.clone().into()),
        ("street_id", r.street_id.into()),
        ("community_id", r.community_id.into()),
        ("grid_id", r.grid_id.into()),
        ("area_id", r.area_id.into()),
        ("kind", r.kind.clone().into()),
        ("channel", r.channel.clone().into()),
        ("category_id", r.category_id.into()),
        ("category_code", r.category_code.clone().into()),
        ("title", r.title.clone().into()),
        ("description", r.description.clone().into()),
        ("address", r.address.clone().into()),
        ("dwelling_id", r.dwelling_id.into()),
        ("lat", r.lat.into()),
        ("lon", r.lon.into()),
        ("requester_name", r.requester_name.clone().into()),
        ("requester_phone", r.requester_phone.clone().into()),
        ("requester_person_id", r.requester_person_id.into()),
        ("submitted_by", r.submitted_by.into()),
        ("status", r.status.clone().into()),
        ("unit_id", r.unit_id.into()),
        ("first_unit_id", r.first_unit_id.into()),
        ("route_rule", r.route_rule.clone().into()),
        ("route_duty_id", r.route_duty_id.into()),
        ("route_unit_id", r.route_unit_id.into()),
        ("returned_units", r.returned_units.clone().into()),
        ("bound", r.bound.into()),
        ("return_count", r.return_count.into()),
        ("extension_count", r.extension_count.into()),
        ("reopen_count", r.reopen_count.into()),
        ("supervise_count", r.supervise_count.into()),
        ("warned", r.warned.into()),
        ("overdue", r.overdue.into()),
        ("received_at", r.received_at.into()),
        ("registered_at", r.registered_at.into()),
        ("dispatched_at", r.dispatched_at.into()),
        ("responded_at", r.responded_at.into()),
        ("handled_at", r.handled_at.into()),
        ("verified_at", r.verified_at.into()),
        ("rated_at", r.rated_at.into()),
        ("closed_at", r.closed_at.into()),
        ("response_due_at", r.response_due_at.into()),
        ("handle_due_at", r.handle_due_at.into()),
        ("verify_due_at", r.verify_due_at.into()),
        ("warn_at", r.warn_at.into()),
        ("deadline_provisional", r.deadline_provisional.into()),
        ("deadline_basis", r.deadline_basis.clone().into()),
        ("result", r.result.clone().into()),
        ("outcome", r.outcome.clone().into()),
        ("rating", r.rating.clone().into()),
        ("rating_comment", r.rating_comment.clone().into()),
        ("pending_ext_days", r.pending_ext_days.into()),
        ("pending_ext_reason", r.pending_ext_reason.clone().into()),
        ("merged_into", r.merged_into.into()),
        ("idem_key", r.idem_key.clone().into()),
        ("stat_day", r.stat_day.into()),
        ("version", r.version.into()),
        ("updated_at", r.updated_at.into()),
    ]
}

/// Columns fixed at intake; updates write all the others.
pub const FIXED_AT_INTAKE: &[&str] = &[
    "id",
    "no",
    "street_id",
    "community_id",
    "grid_id",
    "area_id",
    "kind",
    "channel",
    "category_id",
    "category_code",
    "title",
    "description",
    "address",
    "dwelling_id",
    "lat",
    "lon",
    "requester_name",
    "requester_phone",
    "requester_person_id",
    "submitted_by",
    "received_at",
    "idem_key",
    "stat_day",
];

/// A case row's values in the order of [`query::COLUMNS`] (bulk inserts).
pub fn row_values(r: &CaseRow) -> Vec<sea_orm::Value> {
    column_values(r).into_iter().map(|(_, v)| v).collect()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedToCase {
    pub category_code: String,
    /// Default: help (求助).
    pub kind: Option<String>,
}

/// `POST /needs/{id}/case`: a need found on a visit becomes a case (channel `visit`), located at
/// the household's building; the need is marked in progress with the case number. Done twice, it
/// returns the same case.
#[tracing::instrument(name = "cases::intake::from_need", skip_all)]
pub async fn from_need(
    state: &AppState,
    ctx: &Ctx,
    need_id: Uuid,
    input: NeedToCase,
) -> AppResult<(Case, bool)> {
    #[derive(sea_orm::FromQueryResult)]
    struct N {
        area_id: Uuid,
        description: String,
        address: String,
        dwelling_id: Uuid,
        street_id: Uuid,
    }
    let n: N = store::fetch_found(
        &state.db,
        "SELECT n.area_id, n.description, d.address, d.id AS dwelling_id, n.street_id FROM needs n \
         JOIN households h ON h.id = n.household_id JOIN dwellings d ON d.id = h.dwelling_id WHERE n.id = $1",
        vec![need_id.into()],
    )
    .await?;
    let checked =
        scope::require_permission(&state.db, ctx, Permission::EditRegistry, n.area_id).await?;
    let idem = format!("need:{need_id}");
    if let Some(case) = replay(state, ctx, &idem).await? {
        return Ok((case, false));
    }
    let new = NewCase {
        kind: input.kind.unwrap_or_else(|| "help".into()),
        category_code: input.category_code,
        title: None,
        description: n.description.clone(),
        channel: Some("visit".into()),
        location: Location {
            area_id: None,
            dwelling_id: Some(n.dwelling_id),
            lat: None,
            lon: None,
            address: Some(n.address.clone()),
        },
        requester: RequesterInput {
            name: format!("{}住户", n.address.chars().take(40).collect::<String>()),
            phone: None,
            person_id: None,
        },
        attachments: vec![],
        idempotency_key: None,
    };
    let row = build(state, ctx, &new, now_ms(), Some(idem)).await?;
    let tx = store::write_tx(&state.db).await?;
    store_new(&tx, ctx, &checked, &row, None, &[]).await?;
    store::exec(
        &tx,
        "UPDATE needs SET status = 'in_progress', result = $1, version = version + 1, updated_at = $2 \
         WHERE street_id = $3 AND id = $4",
        vec![format!("已转为诉求 {}", row.no).into(), now_ms().into(), n.street_id.into(), need_id.into()],
    )
    .await?;
    tx.commit().await?;
    let mine = super::my_units(&state.db, ctx).await?;
    let acc = query::access(&state.db, ctx, &row, &mine).await?;
    Ok((query::view(state, &state.db, ctx, &row, &acc).await?, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_column_list_matches_the_select() {
        let r = CaseRow::default();
        let names: Vec<&str> = column_values(&r).into_iter().map(|(n, _)| n).collect();
        let cols: Vec<&str> = query::COLUMNS.split(", ").map(str::trim).collect();
        assert_eq!(names, cols);
        assert!(FIXED_AT_INTAKE.iter().all(|c| cols.contains(c)));
    }
}
