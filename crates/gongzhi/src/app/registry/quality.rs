//! Data quality: visit coverage, needs, freshness and possible duplicates per area; and the
//! registry's legal entities (法人/单位).
use sea_orm::{FromQueryResult, Value};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::households::Freshness;
use super::{date_after_days, opt_text, place, record_change, today, Change};
use crate::app::audit::{self, Entry};
use crate::app::{scope, Ctx};
use crate::crypto::Keys;
use crate::domain::ids::{mask_mobile, MobileNo, Uscc};
use crate::domain::role::Permission;
use crate::domain::{clean_name, new_id, now_ms};
use crate::error::{AppError, AppResult, FieldErrors, Msg};
use crate::store::{self, Db};

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryCount {
    pub category: String,
    pub open: i64,
    pub overdue: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    pub area_id: Uuid,
    pub days: i64,
    pub dwellings: i64,
    pub households: i64,
    pub persons: i64,
    /// Households visited in the last `days` days.
    pub visited_households: i64,
    pub never_visited_households: i64,
    /// visited_households / households (0–1).
    pub visit_coverage: f64,
    pub open_needs: i64,
    pub overdue_needs: i64,
    pub needs_by_category: Vec<CategoryCount>,
    /// Households verified within the policy (rented 90 days, others 365).
    pub fresh_households: i64,
    /// fresh_households / households (0–1).
    pub freshness_rate: f64,
}

/// Figures for one area (inside the caller's scope).
#[tracing::instrument(name = "registry::quality::stats", skip_all)]
pub async fn stats(
    db: &Db,
    ctx: &Ctx,
    f: &Freshness,
    area_id: Uuid,
    days: i64,
) -> AppResult<Stats> {
    scope::require_permission(db, ctx, Permission::ReadRegistry, area_id).await?;
    if !(1..=3650).contains(&days) {
        return Err(AppError::field(
            "days",
            Msg::new("天数应在 1–3650 之间", "Days must be 1–3650"),
        ));
    }
    let under = |col: &str| {
        format!("{col} IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = $1)")
    };
    let a: Value = area_id.into();
    let count = |sql: String, extra: Vec<Value>| {
        let mut v = vec![a.clone()];
        v.extend(extra);
        async move { store::fetch_i64(db, &sql, v).await }
    };
    let dwellings = count(
        format!(
            "SELECT COUNT(*) FROM dwellings d WHERE {} AND d.deleted_at IS NULL",
            under("d.building_id")
        ),
        vec![],
    )
    .await?;
    let households = count(
        format!(
            "SELECT COUNT(*) FROM households h WHERE {} AND h.deleted_at IS NULL",
            under("h.area_id")
        ),
        vec![],
    )
    .await?;
    let persons = count(format!("SELECT COUNT(*) FROM persons p WHERE {} AND p.deleted_at IS NULL AND p.status = 'active'", under("p.area_id")), vec![]).await?;
    let since = date_after_days(-days);
    let visited = count(
        format!(
            "SELECT COUNT(DISTINCT v.household_id) FROM visits v WHERE {} AND v.visited_on >= $2",
            under("v.area_id")
        ),
        vec![since.into()],
    )
    .await?;
    let never = count(
        format!(
            "SELECT COUNT(*) FROM households h WHERE {} AND h.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM visits v WHERE v.household_id = h.id)",
            under("h.area_id")
        ),
        vec![],
    )
    .await?;
    let today = today();
    #[derive(FromQueryResult)]
    struct C {
        category: String,
        open: i64,
        overdue: i64,
    }
    let by_cat: Vec<C> = store::fetch_all(
        db,
        &format!(
            "SELECT n.category, COUNT(*) AS open, SUM(CASE WHEN n.due_on < $2 THEN 1 ELSE 0 END) AS overdue FROM needs n \
             WHERE {} AND n.status <> 'closed' GROUP BY n.category ORDER BY COUNT(*) DESC",
            under("n.area_id")
        ),
        vec![a.clone(), today.into()],
    )
    .await?;
    let mut w = store::sql::Where::new();
    w.and_cond(store::sql::Cond::from_numbered(
        &under("h.area_id"),
        vec![a.clone()],
    ))
    .and("h.deleted_at IS NULL", [])
    .and_cond(f.stale_cond());
    let (cond, v) = w.build(1);
    let stale = store::fetch_i64(
        db,
        &format!("SELECT COUNT(*) FROM households h JOIN dwellings d ON d.id = h.dwelling_id WHERE {cond}"),
        v,
    )
    .await?;
    let ratio = |a: i64, b: i64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let open: i64 = by_cat.iter().map(|c| c.open).sum();
    let overdue: i64 = by_cat.iter().map(|c| c.overdue).sum();
    Ok(Stats {
        area_id,
        days,
        dwellings,
        households,
        persons,
        visited_households: visited,
        never_visited_households: never,
        visit_coverage: ratio(visited, households),
        open_needs: open,
        overdue_needs: overdue,
        needs_by_category: by_cat
            .into_iter()
            .map(|c| CategoryCount {
                category: c.category,
                open: c.open,
                overdue: c.overdue,
            })
            .collect(),
        fresh_households: households - stale,
        freshness_rate: ratio(households - stale, households),
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicatePerson {
    pub id: Uuid,
    pub name: String,
    pub id_no_masked: Option<String>,
    pub address: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Duplicate {
    /// same_id_no: two records share an ID number; two_households: one person is a current member of two households.
    pub kind: String,
    pub persons: Vec<DuplicatePerson>,
}

/// Possible duplicates in an area, for a person to decide.
#[tracing::instrument(name = "registry::quality::duplicates", skip_all)]
pub async fn duplicates(db: &Db, ctx: &Ctx, area_id: Uuid) -> AppResult<Vec<Duplicate>> {
    let checked = scope::require_permission(db, ctx, Permission::ReadRegistry, area_id).await?;
    #[derive(FromQueryResult)]
    struct R {
        id: Uuid,
        name: String,
        id_no_masked: Option<String>,
        address: Option<String>,
        grp: String,
    }
    let under = "p.area_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = $1)";
    let same_id: Vec<R> = store::fetch_all(
        db,
        &format!(
            "SELECT p.id, p.name, p.id_no_masked, NULL AS address, p.id_no_bidx AS grp FROM persons p WHERE {under} AND p.deleted_at IS NULL \
             AND p.id_no_bidx IN (SELECT q.id_no_bidx FROM persons q WHERE q.deleted_at IS NULL \
             AND q.area_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = $1) GROUP BY q.id_no_bidx HAVING COUNT(*) > 1) \
             ORDER BY p.id_no_bidx LIMIT 200"
        ),
        vec![area_id.into()],
    )
    .await?;
    let two_households: Vec<R> = store::fetch_all(
        db,
        &format!(
            "SELECT p.id, p.name, p.id_no_masked, d.address, p.id_no_bidx AS grp FROM persons p JOIN household_members m ON m.person_id = p.id \
             AND m.to_date IS NULL JOIN households h ON h.id = m.household_id JOIN dwellings d ON d.id = h.dwelling_id \
             WHERE {under} AND p.deleted_at IS NULL AND p.id IN (SELECT person_id FROM household_members WHERE to_date IS NULL \
             GROUP BY person_id HAVING COUNT(*) > 1) ORDER BY p.id_no_bidx, p.id LIMIT 200"
        ),
        vec![area_id.into()],
    )
    .await?;
    let mut out: Vec<Duplicate> = vec![];
    for (kind, rows) in [("same_id_no", same_id), ("two_households", two_households)] {
        let mut last: Option<String> = None;
        for r in rows {
            if last.as_deref() != Some(r.grp.as_str()) {
                out.push(Duplicate {
                    kind: kind.into(),
                    persons: vec![],
                });
                last = Some(r.grp.clone());
            }
            if let Some(d) = out.last_mut() {
                d.persons.push(DuplicatePerson {
                    id: r.id,
                    name: r.name,
                    id_no_masked: r.id_no_masked,
                    address: r.address,
                });
            }
        }
    }
    audit::record_alone(
        db,
        Entry::by(ctx, &checked, "registry.duplicates", "person", None)
            .area(area_id)
            .fields(&["name", "id_no_masked"]),
    )
    .await?;
    Ok(out)
}

// ---------------------------------------------------------------- legal entities

#[derive(Debug, Serialize, ToSchema, FromQueryResult)]
pub struct LegalEntity {
    pub id: Uuid,
    pub name: String,
    pub uscc: String,
    pub kind: String,
    pub area_id: Uuid,
    pub dwelling_id: Option<Uuid>,
    pub contact_name: Option<String>,
    pub contact_mobile_masked: Option<String>,
    pub version: i32,
}

const ENTITY_SELECT: &str = "SELECT id, name, uscc, kind, area_id, dwelling_id, contact_name, contact_mobile_masked, version FROM legal_entities";

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEntity {
    /// The building or grid.
    pub area_id: Uuid,
    pub dwelling_id: Option<Uuid>,
    pub name: String,
    /// 18 characters, GB 32100 check character.
    pub uscc: String,
    /// company | shop | school | hospital | social_org | government | other
    pub kind: String,
    pub contact_name: Option<String>,
    pub contact_mobile: Option<String>,
}

const ENTITY_KINDS: &[&str] = &[
    "company",
    "shop",
    "school",
    "hospital",
    "social_org",
    "government",
    "other",
];

#[tracing::instrument(name = "registry::quality::create_entity", skip_all)]
pub async fn create_entity(
    db: &Db,
    keys: &Keys,
    ctx: &Ctx,
    e: NewEntity,
) -> AppResult<LegalEntity> {
    let tx = store::write_tx(db).await?;
    let id = create_entity_in(&tx, keys, ctx, &e).await?;
    let row: LegalEntity = store::fetch_found(
        &tx,
        &format!("{ENTITY_SELECT} WHERE id = $1"),
        vec![id.into()],
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// [`create_entity`]'s checks and writes in the caller's transaction (the sheet import runs each
/// row in a savepoint of one transaction).
pub(crate) async fn create_entity_in(
    tx: &sea_orm::DatabaseTransaction,
    keys: &Keys,
    ctx: &Ctx,
    e: &NewEntity,
) -> AppResult<Uuid> {
    let checked = scope::require_permission(tx, ctx, Permission::EditRegistry, e.area_id).await?;
    let at = place(tx, e.area_id, "area_id").await?;
    let mut errs = FieldErrors::new();
    let name = clean_name(&e.name, 200)
        .map_err(|m| errs.insert("name".into(), m))
        .ok();
    let uscc = Uscc::parse(&e.uscc)
        .map_err(|m| errs.insert("uscc".into(), m))
        .ok();
    if !ENTITY_KINDS.contains(&e.kind.as_str()) {
        errs.insert(
            "kind".into(),
            Msg::new(
                "类型应为 company、shop、school、hospital、social_org、government、other",
                "Kind must be company, shop, school, hospital, social_org, government or other",
            ),
        );
    }
    let contact_name = opt_text(&e.contact_name, 64, "contact_name", &mut errs);
    let mobile = match e.contact_mobile.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(m) => MobileNo::parse(m)
            .map(|m| m.as_str().to_string())
            .map_err(|x| errs.insert("contact_mobile".into(), x))
            .ok(),
        None => None,
    };
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let uscc = uscc.map(|u| u.as_str().to_string()).unwrap_or_default();
    let id = new_id();
    let now = now_ms();
    if store::fetch_i64(
        tx,
        "SELECT COUNT(*) FROM legal_entities WHERE uscc = $1 AND deleted_at IS NULL",
        vec![uscc.clone().into()],
    )
    .await?
        > 0
    {
        return Err(AppError::conflict_on(
            "uscc",
            Msg::new(
                "该统一社会信用代码已登记",
                "This code is already registered",
            ),
        ));
    }
    store::exec(
        tx,
        "INSERT INTO legal_entities (street_id, id, community_id, area_id, dwelling_id, name, uscc, kind, contact_name, contact_mobile_enc, \
         contact_mobile_masked, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $12)",
        vec![
            at.street_id.into(),
            id.into(),
            at.community_id.into(),
            at.area_id.into(),
            e.dwelling_id.into(),
            name.clone().unwrap_or_default().into(),
            uscc.clone().into(),
            e.kind.clone().into(),
            contact_name.into(),
            mobile.as_deref().map(|m| keys.encrypt(m)).into(),
            mobile.as_deref().map(mask_mobile).into(),
            now.into(),
        ],
    )
    .await?;
    record_change(
        tx,
        ctx,
        Change {
            street_id: at.street_id,
            object_type: "legal_entity",
            object_id: id,
            household_id: None,
            reason: "create",
            note: None,
            changes: serde_json::json!({}),
            snapshot: serde_json::json!({"name": name, "uscc": uscc, "kind": e.kind}),
        },
    )
    .await?;
    Entry::by(ctx, &checked, "legal_entity.create", "legal_entity", id)
        .area(at.area_id)
        .record(tx)
        .await?;
    Ok(id)
}

#[tracing::instrument(name = "registry::quality::get_entity", skip_all)]
pub async fn get_entity(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<LegalEntity> {
    let row: LegalEntity = store::fetch_found(
        db,
        &format!("{ENTITY_SELECT} WHERE id = $1 AND deleted_at IS NULL"),
        vec![id.into()],
    )
    .await?;
    scope::require_permission(db, ctx, Permission::ReadRegistry, row.area_id).await?;
    Ok(row)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntityQuery {
    /// Part of the name, or the code.
    pub q: Option<String>,
    pub area_id: Option<Uuid>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

#[tracing::instrument(name = "registry::quality::list_entities", skip_all)]
pub async fn list_entities(
    db: &Db,
    ctx: &Ctx,
    q: &EntityQuery,
) -> AppResult<(Vec<LegalEntity>, i64)> {
    scope::require_any(ctx, Permission::ReadRegistry)?;
    let mut w = super::list_where(ctx, "", "area_id", q.area_id);
    if let Some(t) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let like = format!("%{}%", store::like_escape(t));
        w.and(
            "(name LIKE ? ESCAPE '\\' OR uscc = ?)",
            [like.into(), t.to_ascii_uppercase().into()],
        );
    }
    let (w, values) = w.build(1);
    let paging = store::Paging::new(q.page, q.page_size);
    let (rows, total): (Vec<LegalEntity>, i64) = store::page(
        db,
        &format!("SELECT COUNT(*) FROM legal_entities WHERE {w}"),
        &format!("{ENTITY_SELECT} WHERE {w} ORDER BY name, id"),
        values,
        paging,
    )
    .await?;
    Ok((rows, total))
}
