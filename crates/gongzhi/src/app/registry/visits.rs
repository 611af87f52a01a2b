//! Door-to-door visits (进万家门、访万家情) and the needs they find, each followed up until closed.
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{date_after_days, opt_text, today};
use crate::app::audit::Entry;
use crate::app::{scope, Ctx};
use crate::domain::registry as vocab;
use crate::domain::role::Permission;
use crate::domain::{ms_to_rfc3339, new_id, now_ms};
use crate::error::{AppError, AppResult, FieldErrors, Msg};
use crate::store::sql::{Cond, Where};
use crate::store::{self, Db};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Need {
    pub id: Uuid,
    pub household_id: Uuid,
    pub address: String,
    pub visit_id: Option<Uuid>,
    pub category: String,
    pub urgency: String,
    pub description: String,
    pub owner_user_id: Option<Uuid>,
    pub owner_name: Option<String>,
    /// open | in_progress | closed
    pub status: String,
    pub due_on: String,
    pub overdue: bool,
    pub result: Option<String>,
    pub version: i32,
    pub created_at: String,
}

#[derive(Debug, Clone, FromQueryResult)]
struct NeedRow {
    id: Uuid,
    household_id: Uuid,
    area_id: Uuid,
    address: String,
    visit_id: Option<Uuid>,
    category: String,
    urgency: String,
    description: String,
    owner_user_id: Option<Uuid>,
    owner_name: Option<String>,
    status: String,
    due_on: String,
    result: Option<String>,
    version: i32,
    created_at: i64,
}

const NEED_SELECT: &str = "SELECT n.id, n.household_id, n.area_id, d.address, n.visit_id, n.category, n.urgency, n.description, \
    n.owner_user_id, u.display_name AS owner_name, n.status, n.due_on, n.result, n.version, n.created_at \
    FROM needs n JOIN households h ON h.id = n.household_id JOIN dwellings d ON d.id = h.dwelling_id \
    LEFT JOIN users u ON u.id = n.owner_user_id";

fn need_view(r: NeedRow, today: &str) -> Need {
    Need {
        overdue: r.status != "closed" && r.due_on.as_str() < today,
        id: r.id,
        household_id: r.household_id,
        address: r.address,
        visit_id: r.visit_id,
        category: r.category,
        urgency: r.urgency,
        description: r.description,
        owner_user_id: r.owner_user_id,
        owner_name: r.owner_name,
        status: r.status,
        due_on: r.due_on,
        result: r.result,
        version: r.version,
        created_at: ms_to_rfc3339(r.created_at),
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Visit {
    pub id: Uuid,
    pub household_id: Uuid,
    pub address: String,
    pub visited_on: String,
    pub visitors: String,
    /// in_person | phone | online
    pub mode: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub notes: Option<String>,
    pub created_at: String,
    pub needs: Vec<Need>,
}

#[derive(Debug, Clone, FromQueryResult)]
struct VisitRow {
    id: Uuid,
    household_id: Uuid,
    address: String,
    visited_on: String,
    visitors: String,
    mode: String,
    lat: Option<f64>,
    lon: Option<f64>,
    notes: Option<String>,
    created_at: i64,
}

const VISIT_SELECT: &str = "SELECT v.id, v.household_id, d.address, v.visited_on, v.visitors, v.mode, v.lat, v.lon, v.notes, v.created_at \
    FROM visits v JOIN households h ON h.id = v.household_id JOIN dwellings d ON d.id = h.dwelling_id";

async fn attach_needs<C: ConnectionTrait>(c: &C, rows: Vec<VisitRow>) -> AppResult<Vec<Visit>> {
    let today = today();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let needs: Vec<NeedRow> = store::fetch_all(
            c,
            &format!("{NEED_SELECT} WHERE n.visit_id = $1 ORDER BY n.created_at"),
            vec![r.id.into()],
        )
        .await?;
        out.push(Visit {
            id: r.id,
            household_id: r.household_id,
            address: r.address,
            visited_on: r.visited_on,
            visitors: r.visitors,
            mode: r.mode,
            lat: r.lat,
            lon: r.lon,
            notes: r.notes,
            created_at: ms_to_rfc3339(r.created_at),
            needs: needs.into_iter().map(|n| need_view(n, &today)).collect(),
        });
    }
    Ok(out)
}

/// The household's visits, newest first (for the file).
#[tracing::instrument(name = "registry::visits::visits_of", skip_all)]
pub async fn visits_of<C: ConnectionTrait>(c: &C, household: Uuid) -> AppResult<Vec<Visit>> {
    let rows: Vec<VisitRow> = store::fetch_all(
        c,
        &format!("{VISIT_SELECT} WHERE v.household_id = $1 ORDER BY v.visited_on DESC, v.created_at DESC LIMIT 100"),
        vec![household.into()],
    )
    .await?;
    attach_needs(c, rows).await
}

/// The household's needs, open first (for the file).
#[tracing::instrument(name = "registry::visits::needs_of", skip_all)]
pub async fn needs_of<C: ConnectionTrait>(c: &C, household: Uuid) -> AppResult<Vec<Need>> {
    let today = today();
    let rows: Vec<NeedRow> = store::fetch_all(
        c,
        &format!("{NEED_SELECT} WHERE n.household_id = $1 ORDER BY n.status = 'closed', n.due_on LIMIT 200"),
        vec![household.into()],
    )
    .await?;
    Ok(rows.into_iter().map(|r| need_view(r, &today)).collect())
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNeed {
    pub category: String,
    pub urgency: String,
    pub description: String,
    /// Default by urgency: high 3 days, medium 7, low 30.
    pub due_on: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVisit {
    pub household_id: Uuid,
    /// `YYYY-MM-DD`, default today; not in the future.
    pub visited_on: Option<String>,
    /// Default: the signed-in user.
    pub visitors: Option<String>,
    pub mode: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub notes: Option<String>,
    #[serde(default)]
    pub needs: Vec<NewNeed>,
}

struct CleanNeed {
    category: &'static str,
    urgency: &'static str,
    description: String,
    due_on: String,
}

fn clean_needs(needs: &[NewNeed], errs: &mut FieldErrors) -> Vec<CleanNeed> {
    if needs.len() > 20 {
        errs.insert(
            "needs".into(),
            Msg::new("一次走访最多登记 20 项需求", "At most 20 needs per visit"),
        );
        return vec![];
    }
    let mut out = vec![];
    for (i, n) in needs.iter().enumerate() {
        let f = |k: &str| format!("needs[{i}].{k}");
        let category = vocab::NEED_CATEGORY
            .parse(&n.category)
            .map_err(|m| errs.insert(f("category"), m))
            .ok();
        let urgency = vocab::URGENCY
            .parse(&n.urgency)
            .map_err(|m| errs.insert(f("urgency"), m))
            .ok();
        let description = n.description.trim().to_string();
        if description.is_empty() || description.chars().count() > 1000 {
            errs.insert(
                f("description"),
                Msg::new(
                    "请描述需求（最多 1000 字）",
                    "Describe the need (at most 1000 characters)",
                ),
            );
        }
        let due_on = match n.due_on.as_deref().filter(|s| !s.is_empty()) {
            Some(d) => vocab::parse_date(d)
                .map_err(|m| errs.insert(f("due_on"), m))
                .ok(),
            None => Some(date_after_days(match urgency {
                Some("high") => 3,
                Some("medium") => 7,
                _ => 30,
            })),
        };
        if let (Some(category), Some(urgency), Some(due_on)) = (category, urgency, due_on) {
            out.push(CleanNeed {
                category,
                urgency,
                description,
                due_on,
            });
        }
    }
    out
}

#[tracing::instrument(name = "registry::visits::create_visit", skip_all)]
pub async fn create_visit(db: &Db, ctx: &Ctx, v: NewVisit) -> AppResult<Visit> {
    let h: VisitedHome = store::fetch_found(
        db,
        "SELECT street_id, community_id, grid_id, area_id, dwelling_id FROM households WHERE id = $1 AND deleted_at IS NULL",
        vec![v.household_id.into()],
    )
    .await?;
    let checked = scope::require_permission(db, ctx, Permission::EditRegistry, h.area_id).await?;
    let today = today();
    let c = CleanVisit::check(ctx, &v, &today)?;
    let id = new_id();
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "INSERT INTO visits (street_id, id, community_id, grid_id, area_id, household_id, visited_on, visitors, mode, lat, lon, notes, \
         created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        vec![
            h.street_id.into(),
            id.into(),
            h.community_id.into(),
            h.grid_id.into(),
            h.area_id.into(),
            v.household_id.into(),
            c.visited_on.clone().into(),
            c.visitors.into(),
            c.mode.into(),
            v.lat.into(),
            v.lon.into(),
            c.notes.into(),
            ctx.principal.user_id.into(),
            now.into(),
        ],
    )
    .await?;
    insert_needs(&tx, ctx, &h, v.household_id, id, &c.needs, now).await?;
    // A visit is a verification: the household leaves the 待核实 / 久未走访 lists.
    let visited_at = verified_at(&c.visited_on, &today, now);
    super::households::mark_verified(&tx, ctx, v.household_id, h.dwelling_id, visited_at).await?;
    super::record_change(
        &tx,
        ctx,
        super::Change {
            street_id: h.street_id,
            object_type: "household",
            object_id: v.household_id,
            household_id: Some(v.household_id),
            reason: "verify",
            note: Some(format!("走访核实（{}）", c.visited_on)),
            changes: serde_json::json!({}),
            snapshot: serde_json::json!({"verified_at": visited_at, "visit_id": id}),
        },
    )
    .await?;
    Entry::by(ctx, &checked, "visit.create", "visit", id)
        .area(h.area_id)
        .detail(format!("{} needs", c.needs.len()))
        .record(&tx)
        .await?;
    let rows: Vec<VisitRow> = store::fetch_all(
        &tx,
        &format!("{VISIT_SELECT} WHERE v.id = $1"),
        vec![id.into()],
    )
    .await?;
    let out = attach_needs(&tx, rows)
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Where the visited household lives.
#[derive(FromQueryResult)]
struct VisitedHome {
    street_id: Uuid,
    community_id: Uuid,
    grid_id: Uuid,
    area_id: Uuid,
    dwelling_id: Uuid,
}

/// A new visit as checked: every field valid, defaults filled in.
struct CleanVisit {
    /// `YYYY-MM-DD`, not in the future.
    visited_on: String,
    visitors: String,
    mode: &'static str,
    notes: Option<String>,
    needs: Vec<CleanNeed>,
}

impl CleanVisit {
    /// Checks every field and reports all that are wrong at once.
    fn check(ctx: &Ctx, v: &NewVisit, today: &str) -> AppResult<CleanVisit> {
        let mut errs = FieldErrors::new();
        let visited_on = match v.visited_on.as_deref().filter(|s| !s.is_empty()) {
            Some(d) => match vocab::parse_date(d) {
                Ok(d) if d.as_str() > today => {
                    errs.insert(
                        "visited_on".into(),
                        Msg::new(
                            "走访日期不能晚于今天",
                            "The visit date cannot be in the future",
                        ),
                    );
                    None
                }
                Ok(d) => Some(d),
                Err(m) => {
                    errs.insert("visited_on".into(), m);
                    None
                }
            },
            None => Some(today.to_string()),
        };
        let mode = vocab::VISIT_MODE
            .parse(&v.mode)
            .map_err(|m| errs.insert("mode".into(), m))
            .ok();
        match (v.lat, v.lon) {
            (None, None) => {}
            (Some(lat), Some(lon))
                if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) => {}
            _ => {
                errs.insert(
                    "lat".into(),
                    Msg::new(
                        "位置坐标无效（纬度 ±90，经度 ±180，成对填写）",
                        "Invalid location (latitude ±90, longitude ±180, both or neither)",
                    ),
                );
            }
        }
        let visitors = opt_text(&v.visitors, 200, "visitors", &mut errs)
            .unwrap_or_else(|| ctx.principal.name.clone());
        let notes = opt_text(&v.notes, 2000, "notes", &mut errs);
        let needs = clean_needs(&v.needs, &mut errs);
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        Ok(CleanVisit {
            visited_on: visited_on.unwrap_or_default(),
            visitors,
            mode: mode.unwrap_or("in_person"),
            notes,
            needs,
        })
    }
}

/// The needs a visit found, each open and owned by the visitor.
async fn insert_needs<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    h: &VisitedHome,
    household_id: Uuid,
    visit_id: Uuid,
    needs: &[CleanNeed],
    now: i64,
) -> AppResult<()> {
    for n in needs {
        store::exec(
            c,
            "INSERT INTO needs (street_id, id, community_id, grid_id, area_id, household_id, visit_id, category, urgency, description, \
             owner_user_id, status, due_on, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'open', $12, 1, $13, $13)",
            vec![
                h.street_id.into(),
                new_id().into(),
                h.community_id.into(),
                h.grid_id.into(),
                h.area_id.into(),
                household_id.into(),
                visit_id.into(),
                n.category.into(),
                n.urgency.into(),
                n.description.clone().into(),
                ctx.principal.user_id.into(),
                n.due_on.clone().into(),
                now.into(),
            ],
        )
        .await?;
    }
    Ok(())
}

/// When a visit on `visited_on` (YYYY-MM-DD, Asia/Shanghai) verified its household: now for a
/// visit today, else noon of that day.
fn verified_at(visited_on: &str, today: &str, now: i64) -> i64 {
    if visited_on == today || visited_on.is_empty() {
        return now;
    }
    let parsed = time::Date::parse(
        visited_on,
        time::macros::format_description!("[year]-[month]-[day]"),
    );
    match parsed {
        Ok(d) => {
            let noon = d
                .with_hms(12, 0, 0)
                .expect("valid time")
                .assume_offset(time::UtcOffset::from_hms(8, 0, 0).expect("valid offset"));
            ((noon.unix_timestamp_nanos() / 1_000_000) as i64).min(now)
        }
        Err(_) => now,
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VisitQuery {
    pub household_id: Option<Uuid>,
    pub area_id: Option<Uuid>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

#[tracing::instrument(name = "registry::visits::list_visits", skip_all)]
pub async fn list_visits(db: &Db, ctx: &Ctx, q: &VisitQuery) -> AppResult<(Vec<Visit>, i64)> {
    scope::require_any(ctx, Permission::ReadRegistry)?;
    let (s, scope_values) = scope::filter_sql_for(ctx, Permission::ReadRegistry, "v.area_id", 1);
    let mut cond = Where::new();
    cond.and_cond(Cond::from_numbered(&s, scope_values));
    if let Some(h) = q.household_id {
        cond.and("v.household_id = ?", [h.into()]);
    }
    if let Some(a) = q.area_id {
        cond.and(
            "v.area_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = ?)",
            [a.into()],
        );
    }
    let (w, values) = cond.build(1);
    let paging = store::Paging::new(q.page, q.page_size);
    let (rows, total): (Vec<VisitRow>, i64) = store::page(
        db,
        &format!("SELECT COUNT(*) FROM visits v WHERE {w}"),
        &format!("{VISIT_SELECT} WHERE {w} ORDER BY v.visited_on DESC, v.created_at DESC"),
        values,
        paging,
    )
    .await?;
    Ok((attach_needs(db, rows).await?, total))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NeedQuery {
    pub area_id: Option<Uuid>,
    /// open | in_progress | closed | unclosed
    pub status: Option<String>,
    pub category: Option<String>,
    pub overdue: Option<bool>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

#[tracing::instrument(name = "registry::visits::list_needs", skip_all)]
pub async fn list_needs(db: &Db, ctx: &Ctx, q: &NeedQuery) -> AppResult<(Vec<Need>, i64)> {
    scope::require_any(ctx, Permission::ReadRegistry)?;
    let (s, scope_values) = scope::filter_sql_for(ctx, Permission::ReadRegistry, "n.area_id", 1);
    let mut cond = Where::new();
    cond.and_cond(Cond::from_numbered(&s, scope_values));
    if let Some(a) = q.area_id {
        cond.and(
            "n.area_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = ?)",
            [a.into()],
        );
    }
    match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => {}
        Some("unclosed") => {
            cond.and("n.status <> 'closed'", []);
        }
        Some(s @ ("open" | "in_progress" | "closed")) => {
            cond.and("n.status = ?", [s.to_string().into()]);
        }
        Some(_) => {
            return Err(AppError::field(
                "status",
                Msg::new(
                    "状态应为 open、in_progress、closed 或 unclosed",
                    "Status must be open, in_progress, closed or unclosed",
                ),
            ))
        }
    }
    if let Some(c) = q.category.as_deref().filter(|s| !s.is_empty()) {
        let code = vocab::NEED_CATEGORY
            .parse(c)
            .map_err(|m| AppError::field("category", m))?;
        cond.and("n.category = ?", [code.into()]);
    }
    let today = today();
    if q.overdue == Some(true) {
        cond.and(
            "n.status <> 'closed' AND n.due_on < ?",
            [today.clone().into()],
        );
    }
    let (w, values) = cond.build(1);
    let paging = store::Paging::new(q.page, q.page_size);
    let (rows, total): (Vec<NeedRow>, i64) = store::page(
        db,
        &format!("SELECT COUNT(*) FROM needs n WHERE {w}"),
        &format!("{NEED_SELECT} WHERE {w} ORDER BY n.status = 'closed', n.due_on, n.id"),
        values,
        paging,
    )
    .await?;
    Ok((
        rows.into_iter().map(|r| need_view(r, &today)).collect(),
        total,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedPatch {
    pub version: i32,
    /// open | in_progress | closed (closing needs a result)
    pub status: Option<String>,
    pub owner_user_id: Option<Uuid>,
    pub due_on: Option<String>,
    pub result: Option<String>,
}

#[tracing::instrument(name = "registry::visits::update_need", skip_all)]
pub async fn update_need(db: &Db, ctx: &Ctx, id: Uuid, p: NeedPatch) -> AppResult<Need> {
    let cur: NeedRow = store::fetch_found(
        db,
        &format!("{NEED_SELECT} WHERE n.id = $1"),
        vec![id.into()],
    )
    .await?;
    let checked = scope::require_permission(db, ctx, Permission::EditRegistry, cur.area_id).await?;
    let mut errs = FieldErrors::new();
    let status = match p.status.as_deref() {
        None => cur.status.clone(),
        Some(s @ ("open" | "in_progress" | "closed")) => s.to_string(),
        Some(_) => {
            errs.insert(
                "status".into(),
                Msg::new(
                    "状态应为 open、in_progress 或 closed",
                    "Status must be open, in_progress or closed",
                ),
            );
            cur.status.clone()
        }
    };
    let result = opt_text(&p.result, 1000, "result", &mut errs).or(cur.result.clone());
    if status == "closed" && result.is_none() {
        errs.insert(
            "result".into(),
            Msg::new("办结时请填写处理结果", "Give the result when closing"),
        );
    }
    let due_on = match p.due_on.as_deref().filter(|s| !s.is_empty()) {
        Some(d) => vocab::parse_date(d)
            .map_err(|m| errs.insert("due_on".into(), m))
            .unwrap_or_else(|_| cur.due_on.clone()),
        None => cur.due_on.clone(),
    };
    if let Some(u) = p.owner_user_id {
        if store::fetch_i64(
            db,
            "SELECT COUNT(*) FROM users WHERE id = $1 AND disabled = $2",
            vec![u.into(), false.into()],
        )
        .await?
            == 0
        {
            errs.insert(
                "owner_user_id".into(),
                Msg::new(
                    "负责人不存在或已停用",
                    "The owner does not exist or is disabled",
                ),
            );
        }
    }
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let owner = p.owner_user_id.or(cur.owner_user_id);
    let closed_at: Option<i64> = (status == "closed").then(now_ms);
    let tx = store::write_tx(db).await?;
    let n = store::exec(
        &tx,
        "UPDATE needs SET status = $1, owner_user_id = $2, due_on = $3, result = $4, closed_at = $5, version = version + 1, updated_at = $6 \
         WHERE id = $7 AND version = $8",
        vec![status.clone().into(), owner.into(), due_on.into(), result.into(), closed_at.into(), now_ms().into(), id.into(), p.version.into()],
    )
    .await?;
    AppError::stale_unless_changed(n)?;
    Entry::by(ctx, &checked, "need.update", "need", id)
        .area(cur.area_id)
        .detail(status)
        .record(&tx)
        .await?;
    let row: NeedRow = store::fetch_found(
        &tx,
        &format!("{NEED_SELECT} WHERE n.id = $1"),
        vec![id.into()],
    )
    .await?;
    tx.commit().await?;
    Ok(need_view(row, &today()))
}
