//! Handling units (承办单位), their members and their power lists (权责清单), and routing: a case goes
//! to the unit whose duty covers its category and serves its area; where none does, 属地兜底 gives
//! it to the community or street office of its location.
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::Placement;
use crate::app::audit::Entry;
use crate::app::{scope, AppState, Ctx};
use crate::domain::cases::{pick_duty, DutyMatch, UnitKind};
use crate::domain::role::Permission;
use crate::domain::{clean_name, new_id, now_ms};
use crate::error::{AppError, AppResult, FieldErrors, Lang, Msg};
use crate::store::sql::{Cond, Where};
use crate::store::{self, Db};

#[derive(Debug, Serialize, ToSchema)]
pub struct Unit {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub kind_label: String,
    pub area_id: Uuid,
    pub area_name: String,
    pub contact: Option<String>,
    pub active: bool,
    pub duty_count: i64,
    pub member_count: i64,
    pub version: i32,
}

#[derive(FromQueryResult)]
struct UnitRow {
    id: Uuid,
    name: String,
    kind: String,
    area_id: Uuid,
    area_name: String,
    contact: Option<String>,
    active: bool,
    duty_count: i64,
    member_count: i64,
    version: i32,
}

const UNIT_SELECT: &str =
    "SELECT u.id, u.name, u.kind, u.area_id, a.name AS area_name, u.contact, u.active, u.version, \
    (SELECT COUNT(*) FROM case_duties d WHERE d.unit_id = u.id AND d.active = TRUE) AS duty_count, \
    (SELECT COUNT(*) FROM case_unit_members m WHERE m.unit_id = u.id) AS member_count \
    FROM case_units u JOIN areas a ON a.id = u.area_id";

fn unit_view(r: UnitRow, lang: Lang) -> Unit {
    let kind_label = UnitKind::parse(&r.kind)
        .map(|k| match lang {
            Lang::Zh => k.label_zh(),
            Lang::En => k.label_en(),
        })
        .unwrap_or("")
        .to_string();
    Unit {
        id: r.id,
        name: r.name,
        kind: r.kind,
        kind_label,
        area_id: r.area_id,
        area_name: r.area_name,
        contact: r.contact,
        active: r.active,
        duty_count: r.duty_count,
        member_count: r.member_count,
        version: r.version,
    }
}

/// Units a caller may see: those serving an area above or below one of the caller's grants (a
/// community worker dispatches to district departments too), and the caller's own units.
fn unit_scope(ctx: &Ctx, mine: &[Uuid]) -> Cond {
    let Some(ids) = scope::granted_areas(ctx) else {
        return Cond::all();
    };
    let marks = |n: usize| vec!["?"; n].join(", ");
    let mut any = vec![];
    if !ids.is_empty() {
        let values = || ids.iter().copied().map(Value::from);
        any.push(Cond::new(
            format!(
                "u.area_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id IN ({}))",
                marks(ids.len())
            ),
            values(),
        ));
        any.push(Cond::new(
            format!(
                "u.area_id IN (SELECT ancestor_id FROM area_closure WHERE descendant_id IN ({}))",
                marks(ids.len())
            ),
            values(),
        ));
    }
    if !mine.is_empty() {
        any.push(Cond::any_of("u.id", mine.iter().copied()));
    }
    Cond::or(any)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitQuery {
    /// Units serving this area or an area above it.
    pub area_id: Option<Uuid>,
    /// Part of the name.
    pub q: Option<String>,
}

#[tracing::instrument(name = "cases::units::list", skip_all)]
pub async fn list(db: &Db, ctx: &Ctx, q: UnitQuery) -> AppResult<Vec<Unit>> {
    let mine = super::my_units(db, ctx).await?;
    let mut w = Where::new();
    w.and_cond(unit_scope(ctx, &mine));
    if let Some(a) = q.area_id {
        // Units at, above or below the area.
        w.and(
            "u.area_id IN (SELECT ancestor_id FROM area_closure WHERE descendant_id = ? \
             UNION SELECT descendant_id FROM area_closure WHERE ancestor_id = ?)",
            [a.into(), a.into()],
        );
    }
    if let Some(s) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        w.and(
            "u.name LIKE ? ESCAPE '\\'",
            [format!("%{}%", store::like_escape(s)).into()],
        );
    }
    let (cond, values) = w.build(1);
    let sql = format!("{UNIT_SELECT} WHERE {cond} ORDER BY a.level, u.kind, u.name LIMIT 500");
    let rows: Vec<UnitRow> = store::fetch_all(db, &sql, values).await?;
    Ok(rows.into_iter().map(|r| unit_view(r, ctx.lang)).collect())
}

async fn get_row<C: ConnectionTrait>(c: &C, id: Uuid) -> AppResult<UnitRow> {
    store::fetch_found(
        c,
        &format!("{UNIT_SELECT} WHERE u.id = $1"),
        vec![id.into()],
    )
    .await
}

#[tracing::instrument(name = "cases::units::get", skip_all)]
pub async fn get(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<Unit> {
    let mine = super::my_units(db, ctx).await?;
    let mut w = Where::new();
    w.and("u.id = ?", [id.into()])
        .and_cond(unit_scope(ctx, &mine));
    let (cond, values) = w.build(1);
    let row: UnitRow =
        store::fetch_found(db, &format!("{UNIT_SELECT} WHERE {cond}"), values).await?;
    Ok(unit_view(row, ctx.lang))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUnit {
    pub name: String,
    /// department | street_office | community | property | utility | other
    pub kind: String,
    pub area_id: Uuid,
    pub contact: Option<String>,
}

fn check_contact(c: &Option<String>, errs: &mut FieldErrors) -> Option<String> {
    let s = c.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    match clean_name(s, 100) {
        Ok(s) => Some(s),
        Err(m) => {
            errs.insert("contact".into(), m);
            None
        }
    }
}

#[tracing::instrument(name = "cases::units::create", skip_all)]
pub async fn create(state: &AppState, ctx: &Ctx, input: NewUnit) -> AppResult<Unit> {
    scope::require_permission(&state.db, ctx, Permission::ManageCaseUnits, input.area_id).await?;
    let mut errs = FieldErrors::new();
    let name = clean_name(&input.name, 100)
        .map_err(|m| errs.insert("name".into(), m))
        .ok();
    if UnitKind::parse(&input.kind).is_none() {
        errs.insert(
            "kind".into(),
            Msg::new("单位类型不正确", "Unknown unit kind"),
        );
    }
    let contact = check_contact(&input.contact, &mut errs);
    let (Some(name), true) = (name, errs.is_empty()) else {
        return Err(AppError::Validation(errs));
    };
    let tx = store::write_tx(&state.db).await?;
    let checked =
        scope::require_permission(&tx, ctx, Permission::ManageCaseUnits, input.area_id).await?;
    let id = new_id();
    let now = now_ms();
    store::exec(
        &tx,
        "INSERT INTO case_units (id, name, kind, area_id, contact, active, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, TRUE, 1, $6, $6)",
        vec![id.into(), name.into(), input.kind.clone().into(), input.area_id.into(), contact.into(), now.into()],
    )
    .await
    .map_err(|e| crate::error::map_unique(e, "name", Msg::new("该区域已有同名单位", "A unit of this name serves this area already")))?;
    Entry::by(ctx, &checked, "case_unit.create", "case_unit", id)
        .area(input.area_id)
        .record(&tx)
        .await?;
    let row = get_row(&tx, id).await?;
    tx.commit().await?;
    state.case_caches.clear();
    Ok(unit_view(row, ctx.lang))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitPatch {
    pub version: i32,
    pub name: Option<String>,
    pub kind: Option<String>,
    /// Empty string clears it.
    pub contact: Option<String>,
    pub active: Option<bool>,
}

#[tracing::instrument(name = "cases::units::update", skip_all)]
pub async fn update(state: &AppState, ctx: &Ctx, id: Uuid, p: UnitPatch) -> AppResult<Unit> {
    let tx = store::write_tx(&state.db).await?;
    let cur = get_row(&tx, id).await?;
    let checked =
        scope::require_permission(&tx, ctx, Permission::ManageCaseUnits, cur.area_id).await?;
    AppError::stale_unless_same(cur.version, p.version)?;
    let mut errs = FieldErrors::new();
    let name = match &p.name {
        Some(n) => clean_name(n, 100)
            .map_err(|m| errs.insert("name".into(), m))
            .ok(),
        None => Some(cur.name.clone()),
    };
    let kind = p.kind.clone().unwrap_or(cur.kind.clone());
    if UnitKind::parse(&kind).is_none() {
        errs.insert(
            "kind".into(),
            Msg::new("单位类型不正确", "Unknown unit kind"),
        );
    }
    let contact = match &p.contact {
        Some(_) => check_contact(&p.contact, &mut errs),
        None => cur.contact.clone(),
    };
    let (Some(name), true) = (name, errs.is_empty()) else {
        return Err(AppError::Validation(errs));
    };
    let n = store::exec(
        &tx,
        "UPDATE case_units SET name = $1, kind = $2, contact = $3, active = $4, version = version + 1, updated_at = $5 \
         WHERE id = $6 AND version = $7",
        vec![name.into(), kind.into(), contact.into(), p.active.unwrap_or(cur.active).into(), now_ms().into(), id.into(), p.version.into()],
    )
    .await
    .map_err(|e| crate::error::map_unique(e, "name", Msg::new("该区域已有同名单位", "A unit of this name serves this area already")))?;
    AppError::stale_unless_changed(n)?;
    Entry::by(ctx, &checked, "case_unit.update", "case_unit", id)
        .area(cur.area_id)
        .record(&tx)
        .await?;
    let row = get_row(&tx, id).await?;
    tx.commit().await?;
    state.case_caches.clear();
    Ok(unit_view(row, ctx.lang))
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UnitMember)]
pub struct Member {
    pub member_id: Uuid,
    pub name: String,
    /// user | token
    pub kind: String,
}

#[tracing::instrument(name = "cases::units::members", skip_all)]
pub async fn members(db: &Db, ctx: &Ctx, unit_id: Uuid) -> AppResult<Vec<Member>> {
    get(db, ctx, unit_id).await?;
    #[derive(FromQueryResult)]
    struct R {
        member_id: Uuid,
        user_name: Option<String>,
        token_name: Option<String>,
    }
    let rows: Vec<R> = store::fetch_all(
        db,
        "SELECT m.member_id, u.display_name AS user_name, t.name AS token_name FROM case_unit_members m \
         LEFT JOIN users u ON u.id = m.member_id LEFT JOIN api_tokens t ON t.id = m.member_id \
         WHERE m.unit_id = $1 ORDER BY m.created_at",
        vec![unit_id.into()],
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Member {
            member_id: r.member_id,
            kind: if r.user_name.is_some() {
                "user"
            } else {
                "token"
            }
            .into(),
            name: r.user_name.or(r.token_name).unwrap_or_default(),
        })
        .collect())
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NewUnitMember)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    /// A user's id, or an API token's id (the unit's own system).
    pub member_id: Uuid,
}

#[tracing::instrument(name = "cases::units::add_member", skip_all)]
pub async fn add_member(
    state: &AppState,
    ctx: &Ctx,
    unit_id: Uuid,
    m: NewMember,
) -> AppResult<Vec<Member>> {
    let tx = store::write_tx(&state.db).await?;
    let cur = get_row(&tx, unit_id).await?;
    let checked =
        scope::require_permission(&tx, ctx, Permission::ManageCaseUnits, cur.area_id).await?;
    let exists = store::fetch_i64(
        &tx,
        "SELECT (SELECT COUNT(*) FROM users WHERE id = $1) + (SELECT COUNT(*) FROM api_tokens WHERE id = $1 AND revoked_at IS NULL)",
        vec![m.member_id.into()],
    )
    .await?;
    if exists == 0 {
        return Err(AppError::field(
            "member_id",
            Msg::new("没有这个用户或令牌", "No such user or token"),
        ));
    }
    let already = store::fetch_i64(
        &tx,
        "SELECT COUNT(*) FROM case_unit_members WHERE unit_id = $1 AND member_id = $2",
        vec![unit_id.into(), m.member_id.into()],
    )
    .await?;
    if already == 0 {
        store::exec(
            &tx,
            "INSERT INTO case_unit_members (unit_id, member_id, created_at) VALUES ($1, $2, $3)",
            vec![unit_id.into(), m.member_id.into(), now_ms().into()],
        )
        .await?;
        Entry::by(ctx, &checked, "case_unit.add_member", "case_unit", unit_id)
            .area(cur.area_id)
            .detail(m.member_id.to_string())
            .record(&tx)
            .await?;
    }
    tx.commit().await?;
    members(&state.db, ctx, unit_id).await
}

#[tracing::instrument(name = "cases::units::remove_member", skip_all)]
pub async fn remove_member(
    state: &AppState,
    ctx: &Ctx,
    unit_id: Uuid,
    member: Uuid,
) -> AppResult<()> {
    let tx = store::write_tx(&state.db).await?;
    let cur = get_row(&tx, unit_id).await?;
    let checked =
        scope::require_permission(&tx, ctx, Permission::ManageCaseUnits, cur.area_id).await?;
    let n = store::exec(
        &tx,
        "DELETE FROM case_unit_members WHERE unit_id = $1 AND member_id = $2",
        vec![unit_id.into(), member.into()],
    )
    .await?;
    if n == 0 {
        return Err(AppError::NotFound);
    }
    Entry::by(
        ctx,
        &checked,
        "case_unit.remove_member",
        "case_unit",
        unit_id,
    )
    .area(cur.area_id)
    .detail(member.to_string())
    .record(&tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Duties (权责清单)

#[derive(Debug, Serialize, ToSchema)]
pub struct Duty {
    pub id: Uuid,
    pub unit_id: Uuid,
    pub name: String,
    pub legal_basis: String,
    pub category_codes: Vec<String>,
    pub area_id: Uuid,
    pub area_name: String,
    pub active: bool,
    pub version: i32,
}

#[derive(FromQueryResult)]
struct DutyRow {
    id: Uuid,
    unit_id: Uuid,
    name: String,
    legal_basis: String,
    area_id: Uuid,
    area_name: String,
    active: bool,
    version: i32,
}

const DUTY_SELECT: &str = "SELECT d.id, d.unit_id, d.name, d.legal_basis, d.area_id, a.name AS area_name, d.active, d.version \
    FROM case_duties d JOIN areas a ON a.id = d.area_id";

async fn duty_views<C: ConnectionTrait>(c: &C, rows: Vec<DutyRow>) -> AppResult<Vec<Duty>> {
    let mut out = vec![];
    for r in rows {
        #[derive(FromQueryResult)]
        struct Code {
            category_code: String,
        }
        let codes: Vec<Code> = store::fetch_all(
            c,
            "SELECT category_code FROM case_duty_categories WHERE duty_id = $1 ORDER BY category_code",
            vec![r.id.into()],
        )
        .await?;
        out.push(Duty {
            id: r.id,
            unit_id: r.unit_id,
            name: r.name,
            legal_basis: r.legal_basis,
            category_codes: codes.into_iter().map(|c| c.category_code).collect(),
            area_id: r.area_id,
            area_name: r.area_name,
            active: r.active,
            version: r.version,
        });
    }
    Ok(out)
}

async fn duty_by_id<C: ConnectionTrait>(c: &C, id: Uuid) -> AppResult<Duty> {
    let rows: Vec<DutyRow> = store::fetch_all(
        c,
        &format!("{DUTY_SELECT} WHERE d.id = $1"),
        vec![id.into()],
    )
    .await?;
    duty_views(c, rows).await?.pop().ok_or(AppError::NotFound)
}

#[tracing::instrument(name = "cases::units::duties", skip_all)]
pub async fn duties(db: &Db, ctx: &Ctx, unit_id: Uuid) -> AppResult<Vec<Duty>> {
    get(db, ctx, unit_id).await?;
    let rows: Vec<DutyRow> = store::fetch_all(
        db,
        &format!("{DUTY_SELECT} WHERE d.unit_id = $1 ORDER BY d.created_at"),
        vec![unit_id.into()],
    )
    .await?;
    duty_views(db, rows).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDuty {
    pub name: String,
    pub legal_basis: String,
    /// Category codes; a top-level code covers its second-level categories.
    pub category_codes: Vec<String>,
    /// The area the duty serves (the unit's own area or one below it).
    pub area_id: Uuid,
}

async fn check_codes<C: ConnectionTrait>(
    c: &C,
    codes: &[String],
    errs: &mut FieldErrors,
) -> AppResult<Vec<String>> {
    let mut out: Vec<String> = codes
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    out.sort();
    out.dedup();
    if out.is_empty() || out.len() > 200 {
        errs.insert(
            "category_codes".into(),
            Msg::new("请选择 1–200 个事项分类", "Choose 1–200 categories"),
        );
        return Ok(out);
    }
    for code in &out {
        if super::dictionary::by_code(c, code).await?.is_none() {
            errs.insert(
                "category_codes".into(),
                Msg::owned(
                    format!("没有编码为 {code} 的事项分类"),
                    format!("No category has the code {code}"),
                ),
            );
            break;
        }
    }
    Ok(out)
}

fn check_basis(s: &str, errs: &mut FieldErrors) -> String {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > 500 {
        errs.insert(
            "legal_basis".into(),
            Msg::new(
                "请填写法定依据（最多 500 字）",
                "Give the legal basis (at most 500 characters)",
            ),
        );
    }
    t.to_string()
}

#[tracing::instrument(name = "cases::units::create_duty", skip_all)]
pub async fn create_duty(
    state: &AppState,
    ctx: &Ctx,
    unit_id: Uuid,
    input: NewDuty,
) -> AppResult<Duty> {
    let tx = store::write_tx(&state.db).await?;
    let unit = get_row(&tx, unit_id).await?;
    let checked =
        scope::require_permission(&tx, ctx, Permission::ManageCaseUnits, unit.area_id).await?;
    let mut errs = FieldErrors::new();
    let name = clean_name(&input.name, 200)
        .map_err(|m| errs.insert("name".into(), m))
        .ok();
    let basis = check_basis(&input.legal_basis, &mut errs);
    let codes = check_codes(&tx, &input.category_codes, &mut errs).await?;
    if !scope::is_under(&tx, input.area_id, &[unit.area_id]).await? {
        errs.insert(
            "area_id".into(),
            Msg::new(
                "服务区域应为本单位所在区域或其下级",
                "The area must be the unit's own area or below it",
            ),
        );
    }
    let (Some(name), true) = (name, errs.is_empty()) else {
        return Err(AppError::Validation(errs));
    };
    let id = new_id();
    let now = now_ms();
    store::exec(
        &tx,
        "INSERT INTO case_duties (id, unit_id, name, legal_basis, area_id, active, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, TRUE, 1, $6, $6)",
        vec![id.into(), unit_id.into(), name.into(), basis.into(), input.area_id.into(), now.into()],
    )
    .await?;
    for code in &codes {
        store::exec(
            &tx,
            "INSERT INTO case_duty_categories (category_code, duty_id) VALUES ($1, $2)",
            vec![code.clone().into(), id.into()],
        )
        .await?;
    }
    Entry::by(ctx, &checked, "case_duty.create", "case_duty", id)
        .area(input.area_id)
        .record(&tx)
        .await?;
    let out = duty_by_id(&tx, id).await?;
    tx.commit().await?;
    state.case_caches.clear();
    Ok(out)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DutyPatch {
    pub version: i32,
    pub name: Option<String>,
    pub legal_basis: Option<String>,
    pub category_codes: Option<Vec<String>>,
    pub area_id: Option<Uuid>,
    pub active: Option<bool>,
}

#[tracing::instrument(name = "cases::units::update_duty", skip_all)]
pub async fn update_duty(state: &AppState, ctx: &Ctx, id: Uuid, p: DutyPatch) -> AppResult<Duty> {
    let tx = store::write_tx(&state.db).await?;
    let cur: DutyRow = store::fetch_found(
        &tx,
        &format!("{DUTY_SELECT} WHERE d.id = $1"),
        vec![id.into()],
    )
    .await?;
    let unit = get_row(&tx, cur.unit_id).await?;
    let checked =
        scope::require_permission(&tx, ctx, Permission::ManageCaseUnits, unit.area_id).await?;
    AppError::stale_unless_same(cur.version, p.version)?;
    let mut errs = FieldErrors::new();
    let name = match &p.name {
        Some(n) => clean_name(n, 200)
            .map_err(|m| errs.insert("name".into(), m))
            .ok(),
        None => Some(cur.name.clone()),
    };
    let basis = match &p.legal_basis {
        Some(b) => check_basis(b, &mut errs),
        None => cur.legal_basis.clone(),
    };
    let codes = match &p.category_codes {
        Some(c) => Some(check_codes(&tx, c, &mut errs).await?),
        None => None,
    };
    let area_id = p.area_id.unwrap_or(cur.area_id);
    if !scope::is_under(&tx, area_id, &[unit.area_id]).await? {
        errs.insert(
            "area_id".into(),
            Msg::new(
                "服务区域应为本单位所在区域或其下级",
                "The area must be the unit's own area or below it",
            ),
        );
    }
    let (Some(name), true) = (name, errs.is_empty()) else {
        return Err(AppError::Validation(errs));
    };
    let n = store::exec(
        &tx,
        "UPDATE case_duties SET name = $1, legal_basis = $2, area_id = $3, active = $4, version = version + 1, updated_at = $5 \
         WHERE id = $6 AND version = $7",
        vec![name.into(), basis.into(), area_id.into(), p.active.unwrap_or(cur.active).into(), now_ms().into(), id.into(), p.version.into()],
    )
    .await?;
    AppError::stale_unless_changed(n)?;
    if let Some(codes) = codes {
        store::exec(
            &tx,
            "DELETE FROM case_duty_categories WHERE duty_id = $1",
            vec![id.into()],
        )
        .await?;
        for code in &codes {
            store::exec(
                &tx,
                "INSERT INTO case_duty_categories (category_code, duty_id) VALUES ($1, $2)",
                vec![code.clone().into(), id.into()],
            )
            .await?;
        }
    }
    Entry::by(ctx, &checked, "case_duty.update", "case_duty", id)
        .area(area_id)
        .record(&tx)
        .await?;
    let out = duty_by_id(&tx, id).await?;
    tx.commit().await?;
    state.case_caches.clear();
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Routing

/// How a case was (or would be) routed, explained in the caller's language.
#[derive(Debug, Serialize, ToSchema, Clone)]
pub struct Routing {
    pub unit_id: Option<Uuid>,
    pub unit_name: Option<String>,
    pub duty_id: Option<Uuid>,
    pub duty_name: Option<String>,
    /// power_list (权责清单) | territorial (属地兜底) | arbitration (街道仲裁) | manual (人工指定) | none
    pub rule: String,
    pub explanation: String,
}

/// The routing decision as stored on the case.
#[derive(Debug, Clone, Copy, Default)]
pub struct Route {
    pub rule: &'static str,
    pub unit_id: Option<Uuid>,
    pub duty_id: Option<Uuid>,
}

/// A routing decision with the names that explain it.
#[derive(Debug, Clone, Default)]
pub struct RouteInfo {
    pub route: Route,
    pub unit_name: Option<String>,
    /// (duty name, legal basis, the duty's area name)
    pub duty: Option<(String, String, String)>,
}

/// Routes by category × location, skipping `excluded` units (those that returned the case).
#[tracing::instrument(name = "cases::units::route", skip_all)]
pub async fn route<C: ConnectionTrait>(
    c: &C,
    code: &str,
    at: &Placement,
    excluded: &[Uuid],
) -> AppResult<Route> {
    Ok(route_info(c, code, at, excluded).await?.route)
}

/// Like [`route`], with the names for the explanation.
#[tracing::instrument(name = "cases::units::route_info", skip_all)]
pub async fn route_info<C: ConnectionTrait>(
    c: &C,
    code: &str,
    at: &Placement,
    excluded: &[Uuid],
) -> AppResult<RouteInfo> {
    let parent = if code.len() > 2 { &code[..2] } else { code };
    #[derive(FromQueryResult)]
    struct M {
        duty_id: Uuid,
        duty_name: String,
        legal_basis: String,
        unit_id: Uuid,
        unit_name: String,
        matched_code: String,
        area_level: i32,
        area_name: String,
        created_at: i64,
    }
    let rows: Vec<M> = store::fetch_all(
        c,
        "SELECT d.id AS duty_id, d.name AS duty_name, d.legal_basis, u.id AS unit_id, u.name AS unit_name, \
         dc.category_code AS matched_code, CAST(a.level AS INTEGER) AS area_level, a.name AS area_name, d.created_at \
         FROM case_duty_categories dc \
         JOIN case_duties d ON d.id = dc.duty_id AND d.active = TRUE \
         JOIN case_units u ON u.id = d.unit_id AND u.active = TRUE \
         JOIN areas a ON a.id = d.area_id \
         JOIN area_closure cl ON cl.ancestor_id = d.area_id AND cl.descendant_id = $1 \
         WHERE dc.category_code IN ($2, $3)",
        vec![at.area_id.into(), code.into(), parent.into()],
    )
    .await?;
    let matches: Vec<DutyMatch> = rows
        .into_iter()
        .map(|m| DutyMatch {
            duty_id: m.duty_id,
            duty_name: m.duty_name,
            legal_basis: m.legal_basis,
            unit_id: m.unit_id,
            unit_name: m.unit_name,
            matched_code: m.matched_code,
            area_level: m.area_level,
            area_name: m.area_name,
            created_at: m.created_at,
        })
        .collect();
    if let Some(m) = pick_duty(&matches, code, excluded) {
        return Ok(RouteInfo {
            route: Route {
                rule: "power_list",
                unit_id: Some(m.unit_id),
                duty_id: Some(m.duty_id),
            },
            unit_name: Some(m.unit_name.clone()),
            duty: Some((
                m.duty_name.clone(),
                m.legal_basis.clone(),
                m.area_name.clone(),
            )),
        });
    }
    // 属地兜底: the community's own unit, else the street office.
    #[derive(FromQueryResult)]
    struct U {
        id: Uuid,
        name: String,
    }
    let units: Vec<U> = store::fetch_all(
        c,
        "SELECT u.id, u.name FROM case_units u JOIN areas a ON a.id = u.area_id \
         WHERE u.active = TRUE AND u.kind IN ('community', 'street_office') AND u.area_id IN ($1, $2) \
         ORDER BY a.level DESC, u.created_at",
        vec![at.community_id.into(), at.street_id.into()],
    )
    .await?;
    Ok(
        match units.into_iter().find(|u| !excluded.contains(&u.id)) {
            Some(u) => RouteInfo {
                route: Route {
                    rule: "territorial",
                    unit_id: Some(u.id),
                    duty_id: None,
                },
                unit_name: Some(u.name),
                duty: None,
            },
            None => RouteInfo {
                route: Route {
                    rule: "none",
                    unit_id: None,
                    duty_id: None,
                },
                unit_name: None,
                duty: None,
            },
        },
    )
}

/// Explains a stored route in the caller's language (reads the unit's and duty's names).
#[tracing::instrument(name = "cases::units::explain", skip_all)]
pub async fn explain<C: ConnectionTrait>(
    c: &C,
    lang: Lang,
    route: Route,
    category_code: &str,
) -> AppResult<Routing> {
    #[derive(FromQueryResult)]
    struct N {
        name: String,
    }
    #[derive(FromQueryResult)]
    struct D {
        name: String,
        legal_basis: String,
        area_name: String,
    }
    let unit_name = match route.unit_id {
        Some(id) => store::fetch_opt::<N, _>(
            c,
            "SELECT name FROM case_units WHERE id = $1",
            vec![id.into()],
        )
        .await?
        .map(|n| n.name),
        None => None,
    };
    let duty: Option<D> = match route.duty_id {
        Some(id) => store::fetch_opt(
            c,
            "SELECT d.name, d.legal_basis, a.name AS area_name FROM case_duties d JOIN areas a ON a.id = d.area_id WHERE d.id = $1",
            vec![id.into()],
        )
        .await?,
        None => None,
    };
    let info = RouteInfo {
        route,
        unit_name,
        duty: duty.map(|d| (d.name, d.legal_basis, d.area_name)),
    };
    Ok(explain_info(lang, &info, category_code))
}

/// The explanation of a routing decision (no IO).
pub fn explain_info(lang: Lang, info: &RouteInfo, category_code: &str) -> Routing {
    let u = info.unit_name.clone().unwrap_or_default();
    let explanation = match (info.route.rule, &info.duty, lang) {
        ("power_list", Some((name, basis, area)), Lang::Zh) => format!(
            "按权责清单：{u}的「{name}」覆盖事项 {category_code}，服务区域 {area}（依据：{basis}）"
        ),
        ("power_list", Some((name, basis, area)), Lang::En) => format!(
            "By power list: {u}'s duty \"{name}\" covers category {category_code} in {area} (basis: {basis})"
        ),
        ("territorial", _, Lang::Zh) => format!("权责清单未覆盖事项 {category_code}，按属地兜底由{u}承办"),
        ("territorial", _, Lang::En) => format!(
            "No power list covers category {category_code}; by territorial default (属地兜底) {u} takes it"
        ),
        ("arbitration", _, Lang::Zh) => format!("街道仲裁确定由{u}承办（不得再退单）"),
        ("arbitration", _, Lang::En) => format!("The street's arbitration made {u} responsible (no further returns)"),
        ("manual", _, Lang::Zh) => format!("派遣员指定由{u}承办"),
        ("manual", _, Lang::En) => format!("The dispatcher chose {u}"),
        (_, _, Lang::Zh) => "没有找到承办单位：请为该事项配置权责清单，或为所在社区、街道设立承办单位".into(),
        (_, _, Lang::En) => "No unit found: add a power-list duty for this category, or a unit for the community or street".into(),
    };
    Routing {
        unit_id: info.route.unit_id,
        unit_name: info.unit_name.clone(),
        duty_id: info.route.duty_id,
        duty_name: info.duty.as_ref().map(|d| d.0.clone()),
        rule: info.route.rule.to_string(),
        explanation,
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoutingQuery {
    pub category_code: String,
    pub area_id: Uuid,
}

/// `GET /case-routing`: where a case of this category at this area would go.
#[tracing::instrument(name = "cases::units::preview", skip_all)]
pub async fn preview(db: &Db, ctx: &Ctx, q: RoutingQuery) -> AppResult<Routing> {
    scope::require_permission(db, ctx, Permission::DispatchCases, q.area_id).await?;
    if super::dictionary::by_code(db, &q.category_code)
        .await?
        .is_none()
    {
        return Err(AppError::field(
            "category_code",
            Msg::new("没有这个事项分类", "No such category"),
        ));
    }
    let at = super::place(db, q.area_id).await?.ok_or_else(|| {
        AppError::field(
            "area_id",
            Msg::new(
                "请选择街道及以下的区域",
                "Choose a street or an area below one",
            ),
        )
    })?;
    let r = route(db, &q.category_code, &at, &[]).await?;
    explain(db, ctx.lang, r, &q.category_code).await
}
