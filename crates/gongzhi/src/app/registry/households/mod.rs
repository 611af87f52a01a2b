//! Dwellings (房屋) with their owners over time, households (户) with their members over time,
//! the household file (一户一档), and one-tap verification.
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::persons::{self, Person};
use super::visits::{self, Need, Visit};
use super::{diff, opt_text, place, record_change, today, Change, Event, Placement};
use crate::app::audit::{self, Entry};
use crate::app::{scope, Ctx};
use crate::crypto::Keys;
use crate::domain::registry::{self as vocab, freshness_days};
use crate::domain::role::Permission;
use crate::domain::{ms_to_rfc3339, new_id, now_ms};
use crate::error::{AppError, AppResult, FieldErrors, Msg};
use crate::store::sql::{Cond, Where};
use crate::store::{self, Db};

mod dwellings;
mod file;
pub use dwellings::*;
pub use file::*;

/// Freshness policy: days after which a household must be verified again.
#[derive(Debug, Clone, Copy)]
pub struct Freshness {
    pub rented_days: i64,
    pub other_days: i64,
}

impl Default for Freshness {
    fn default() -> Self {
        Freshness {
            rented_days: freshness_days("rented"),
            other_days: freshness_days("self_occupied"),
        }
    }
}

impl Freshness {
    /// SQL condition "household `h` on dwelling `d` is stale", with its two values.
    /// Households `h` (of dwellings `d`) due a check.
    pub fn stale_cond(&self) -> store::sql::Cond {
        let now = now_ms();
        store::sql::Cond::new(
            "(h.last_verified_at IS NULL OR (d.usage = 'rented' AND h.last_verified_at < ?) \
             OR (d.usage <> 'rented' AND h.last_verified_at < ?))",
            [
                (now - self.rented_days * 86_400_000).into(),
                (now - self.other_days * 86_400_000).into(),
            ],
        )
    }
    pub fn is_stale(&self, usage: &str, last_verified_at: Option<i64>) -> bool {
        let days = if usage == "rented" {
            self.rented_days
        } else {
            self.other_days
        };
        last_verified_at
            .map(|t| now_ms() - t > days * 86_400_000)
            .unwrap_or(true)
    }
}

// ---------------------------------------------------------------- households

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Household {
    pub id: Uuid,
    pub dwelling_id: Uuid,
    pub address: String,
    /// registered | resident | floating | collective
    pub kind: String,
    pub head_person_id: Option<Uuid>,
    pub head_name: Option<String>,
    pub member_count: i64,
    pub area_id: Uuid,
    pub grid_id: Uuid,
    pub community_id: Uuid,
    pub version: i32,
    pub last_verified_at: Option<String>,
    pub last_verified_by: Option<String>,
    /// Past the freshness policy: needs verifying.
    pub stale: bool,
    pub updated_at: String,
}

#[derive(Debug, Clone, FromQueryResult)]
struct HouseholdRow {
    street_id: Uuid,
    id: Uuid,
    community_id: Uuid,
    grid_id: Uuid,
    area_id: Uuid,
    dwelling_id: Uuid,
    kind: String,
    head_person_id: Option<Uuid>,
    version: i32,
    last_verified_at: Option<i64>,
    last_verified_by: Option<String>,
    updated_at: i64,
    address: String,
    usage: String,
    head_name: Option<String>,
    member_count: i64,
}

const HOUSEHOLD_SELECT: &str = "SELECT h.street_id, h.id, h.community_id, h.grid_id, h.area_id, h.dwelling_id, h.kind, h.head_person_id, \
    h.version, h.last_verified_at, h.last_verified_by, h.updated_at, d.address, d.usage, \
    (SELECT p.name FROM persons p WHERE p.id = h.head_person_id) AS head_name, \
    (SELECT COUNT(*) FROM household_members m WHERE m.household_id = h.id AND m.to_date IS NULL) AS member_count \
    FROM households h JOIN dwellings d ON d.id = h.dwelling_id";

fn household_view(r: HouseholdRow, f: &Freshness) -> Household {
    Household {
        stale: f.is_stale(&r.usage, r.last_verified_at),
        id: r.id,
        dwelling_id: r.dwelling_id,
        address: r.address,
        kind: r.kind,
        head_person_id: r.head_person_id,
        head_name: r.head_name,
        member_count: r.member_count,
        area_id: r.area_id,
        grid_id: r.grid_id,
        community_id: r.community_id,
        version: r.version,
        last_verified_at: r.last_verified_at.map(ms_to_rfc3339),
        last_verified_by: r.last_verified_by,
        updated_at: ms_to_rfc3339(r.updated_at),
    }
}

async fn load_household<C: ConnectionTrait>(c: &C, id: Uuid) -> AppResult<HouseholdRow> {
    store::fetch_found(
        c,
        &format!("{HOUSEHOLD_SELECT} WHERE h.id = $1 AND h.deleted_at IS NULL"),
        vec![id.into()],
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHousehold {
    pub dwelling_id: Uuid,
    pub kind: String,
}

#[tracing::instrument(name = "registry::households::create_household", skip_all)]
pub async fn create_household(
    db: &Db,
    ctx: &Ctx,
    f: &Freshness,
    input: NewHousehold,
) -> AppResult<Household> {
    let d = load_dwelling(db, input.dwelling_id).await?;
    let checked =
        scope::require_permission(db, ctx, Permission::EditRegistry, d.building_id).await?;
    let kind = vocab::HOUSEHOLD_KIND
        .parse(&input.kind)
        .map_err(|m| AppError::field("kind", m))?;
    let at = Placement {
        street_id: d.street_id,
        community_id: d.community_id,
        grid_id: d.grid_id,
        area_id: d.building_id,
    };
    let id = new_id();
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    insert_household(&tx, id, &at, d.id, kind, None, now).await?;
    record_change(
        &tx,
        ctx,
        Change {
            street_id: at.street_id,
            object_type: "household",
            object_id: id,
            household_id: Some(id),
            reason: "create",
            note: None,
            changes: serde_json::json!({}),
            snapshot: serde_json::json!({"kind": kind, "dwelling_id": d.id, "head_person_id": null}),
        },
    )
    .await?;
    Entry::by(ctx, &checked, "household.create", "household", id)
        .area(at.area_id)
        .record(&tx)
        .await?;
    let row = load_household(&tx, id).await?;
    tx.commit().await?;
    Ok(household_view(row, f))
}

/// The columns of a bulk insert into `households` (importer, demo).
pub(crate) const HOUSEHOLD_COLUMNS: &[&str] = &[
    "street_id",
    "id",
    "community_id",
    "grid_id",
    "area_id",
    "dwelling_id",
    "kind",
    "head_person_id",
    "last_verified_at",
    "created_at",
    "updated_at",
];

/// The columns of a bulk insert into `household_members` (importer, demo).
pub(crate) const MEMBER_COLUMNS: &[&str] = &[
    "street_id",
    "id",
    "household_id",
    "person_id",
    "relation",
    "from_date",
];

pub(crate) async fn insert_household<C: ConnectionTrait>(
    c: &C,
    id: Uuid,
    at: &Placement,
    dwelling: Uuid,
    kind: &str,
    verified_at: Option<i64>,
    now: i64,
) -> AppResult<()> {
    store::exec(
        c,
        "INSERT INTO households (street_id, id, community_id, grid_id, area_id, dwelling_id, kind, head_person_id, version, \
         last_verified_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, 1, $8, $9, $9)",
        vec![at.street_id.into(), id.into(), at.community_id.into(), at.grid_id.into(), at.area_id.into(), dwelling.into(), kind.into(), verified_at.into(), now.into()],
    )
    .await?;
    Ok(())
}

#[tracing::instrument(name = "registry::households::get_household", skip_all)]
pub async fn get_household(db: &Db, ctx: &Ctx, f: &Freshness, id: Uuid) -> AppResult<Household> {
    let r = load_household(db, id).await?;
    scope::require_permission(db, ctx, Permission::ReadRegistry, r.area_id).await?;
    Ok(household_view(r, f))
}

#[tracing::instrument(name = "registry::households::list_households", skip_all)]
pub async fn list_households(
    db: &Db,
    ctx: &Ctx,
    f: &Freshness,
    q: &ListQuery,
) -> AppResult<(Vec<Household>, i64)> {
    let checked = scope::require_any(ctx, Permission::ReadRegistry)?;
    let mut w = super::list_where(ctx, "h", "area_id", q.area_id);
    if let Some(t) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let like = format!("%{}%", store::like_escape(t));
        let address = Cond::new("d.address LIKE ? ESCAPE '\\'", [like.into()]);
        // The head's name through the name index.
        let mut by_name = Where::new();
        super::persons::name_conds(t, "hp", &mut by_name);
        let by_name = by_name.into_cond();
        let head = Cond::new(
            format!(
                "h.head_person_id IN (SELECT hp.id FROM persons hp WHERE {})",
                by_name.text()
            ),
            by_name.into_values(),
        );
        w.and_cond(Cond::or(vec![address, head]));
    }
    if q.stale == Some(true) {
        w.and_cond(f.stale_cond());
    }
    let (w, values) = w.build(1);
    let paging = paging(q);
    let order = if q.stale == Some(true) {
        "h.last_verified_at IS NOT NULL, h.last_verified_at, d.address"
    } else {
        "d.address, h.id"
    };
    let (rows, total): (Vec<HouseholdRow>, i64) = store::page(
        db,
        &format!(
            "SELECT COUNT(*) FROM households h JOIN dwellings d ON d.id = h.dwelling_id WHERE {w}"
        ),
        &format!("{HOUSEHOLD_SELECT} WHERE {w} ORDER BY {order}"),
        values,
        paging,
    )
    .await?;
    audit::record_alone(
        db,
        Entry::by(ctx, &checked, "household.list", "household", None)
            .area(q.area_id)
            .fields(&["address", "head_name"])
            .detail(format!("{} of {total} shown", rows.len())),
    )
    .await?;
    Ok((
        rows.into_iter().map(|r| household_view(r, f)).collect(),
        total,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HouseholdPatch {
    pub version: i32,
    pub kind: Option<String>,
    /// Must be a current member; becomes 户主, the previous head becomes 其他.
    pub head_person_id: Option<Uuid>,
    pub note: Option<String>,
}

#[tracing::instrument(name = "registry::households::update_household", skip_all)]
pub async fn update_household(
    db: &Db,
    ctx: &Ctx,
    f: &Freshness,
    id: Uuid,
    p: HouseholdPatch,
) -> AppResult<Household> {
    let cur = load_household(db, id).await?;
    let checked = scope::require_permission(db, ctx, Permission::EditRegistry, cur.area_id).await?;
    let kind = match &p.kind {
        Some(k) => vocab::HOUSEHOLD_KIND
            .parse(k)
            .map_err(|m| AppError::field("kind", m))?
            .to_string(),
        None => cur.kind.clone(),
    };
    let mut errs = FieldErrors::new();
    let note = opt_text(&p.note, 500, "note", &mut errs);
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let head = p.head_person_id.or(cur.head_person_id);
    if head == cur.head_person_id && kind == cur.kind {
        AppError::stale_unless_same(p.version, cur.version)?;
        return Ok(household_view(cur, f));
    }
    let tx = store::write_tx(db).await?;
    if let Some(h) = p.head_person_id.filter(|h| Some(*h) != cur.head_person_id) {
        let member = store::fetch_i64(&tx, "SELECT COUNT(*) FROM household_members WHERE household_id = $1 AND person_id = $2 AND to_date IS NULL", vec![id.into(), h.into()]).await?;
        if member == 0 {
            return Err(AppError::field(
                "head_person_id",
                Msg::new(
                    "户主必须是本户现有成员",
                    "The head must be a current member",
                ),
            ));
        }
        store::exec(&tx, "UPDATE household_members SET relation = 'other' WHERE household_id = $1 AND relation = 'head' AND to_date IS NULL", vec![id.into()]).await?;
        store::exec(&tx, "UPDATE household_members SET relation = 'head' WHERE household_id = $1 AND person_id = $2 AND to_date IS NULL", vec![id.into(), h.into()]).await?;
    }
    let n = store::exec(
        &tx,
        "UPDATE households SET kind = $1, head_person_id = $2, version = version + 1, updated_at = $3 WHERE id = $4 AND version = $5",
        vec![kind.clone().into(), head.into(), now_ms().into(), id.into(), p.version.into()],
    )
    .await?;
    AppError::stale_unless_changed(n)?;
    let mut ch = serde_json::Map::new();
    diff(
        &mut ch,
        "kind",
        &Some(cur.kind.clone()),
        &Some(kind.clone()),
    );
    diff(
        &mut ch,
        "head",
        &cur.head_name.clone(),
        &head_name(&tx, head).await?,
    );
    let reason = if head != cur.head_person_id {
        "head_change"
    } else {
        "correction"
    };
    record_change(
        &tx,
        ctx,
        Change {
            street_id: cur.street_id,
            object_type: "household",
            object_id: id,
            household_id: Some(id),
            reason,
            note,
            changes: serde_json::Value::Object(ch),
            snapshot: serde_json::json!({"kind": kind, "dwelling_id": cur.dwelling_id, "head_person_id": head}),
        },
    )
    .await?;
    Entry::by(ctx, &checked, "household.update", "household", id)
        .area(cur.area_id)
        .detail(reason)
        .record(&tx)
        .await?;
    let row = load_household(&tx, id).await?;
    tx.commit().await?;
    Ok(household_view(row, f))
}

async fn head_name<C: ConnectionTrait>(c: &C, id: Option<Uuid>) -> AppResult<Option<String>> {
    let Some(id) = id else { return Ok(None) };
    #[derive(FromQueryResult)]
    struct N {
        name: String,
    }
    Ok(
        store::fetch_opt::<N, _>(c, "SELECT name FROM persons WHERE id = $1", vec![id.into()])
            .await?
            .map(|n| n.name),
    )
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    pub person_id: Uuid,
    pub relation: String,
    /// `YYYY-MM-DD`, default today.
    pub from_date: Option<String>,
    /// move_in (default) | birth | correction
    pub reason: Option<String>,
}

/// A person joins a household (入住, 出生); they now live at its dwelling.
#[tracing::instrument(name = "registry::households::add_member", skip_all)]
pub async fn add_member(
    db: &Db,
    ctx: &Ctx,
    f: &Freshness,
    id: Uuid,
    m: NewMember,
) -> AppResult<Household> {
    let h = load_household(db, id).await?;
    let checked = scope::require_permission(db, ctx, Permission::EditRegistry, h.area_id).await?;
    let person = persons::require_editable(db, ctx, m.person_id).await?;
    let relation = vocab::RELATION
        .parse(&m.relation)
        .map_err(|e| AppError::field("relation", e))?;
    let from = match m.from_date.as_deref().filter(|s| !s.is_empty()) {
        Some(d) => vocab::parse_date(d).map_err(|e| AppError::field("from_date", e))?,
        None => today(),
    };
    let reason = match m.reason.as_deref().filter(|s| !s.is_empty()) {
        Some(r) => vocab::CHANGE_REASON
            .parse(r)
            .map_err(|e| AppError::field("reason", e))?,
        None => "move_in",
    };
    if person.status != "active" {
        return Err(AppError::field(
            "person_id",
            Msg::new("该居民已迁出或已故", "This person has moved away or died"),
        ));
    }
    let tx = store::write_tx(db).await?;
    let already = store::fetch_i64(&tx, "SELECT COUNT(*) FROM household_members WHERE household_id = $1 AND person_id = $2 AND to_date IS NULL", vec![id.into(), m.person_id.into()]).await?;
    if already > 0 {
        return Err(AppError::conflict_on(
            "person_id",
            Msg::new("该居民已是本户成员", "This person is already a member"),
        ));
    }
    if relation == "head" && h.head_person_id.is_some() {
        return Err(AppError::conflict_on(
            "relation",
            Msg::new(
                "本户已有户主，请先变更户主",
                "The household already has a head; change the head instead",
            ),
        ));
    }
    store::exec(
        &tx,
        "INSERT INTO household_members (street_id, id, household_id, person_id, relation, from_date, to_date) VALUES ($1, $2, $3, $4, $5, $6, NULL)",
        vec![h.street_id.into(), new_id().into(), id.into(), m.person_id.into(), relation.into(), from.clone().into()],
    )
    .await?;
    if relation == "head" {
        store::exec(
            &tx,
            "UPDATE households SET head_person_id = $1 WHERE id = $2",
            vec![m.person_id.into(), id.into()],
        )
        .await?;
    }
    store::exec(
        &tx,
        "UPDATE households SET version = version + 1, updated_at = $1 WHERE id = $2",
        vec![now_ms().into(), id.into()],
    )
    .await?;
    // The person now lives here (the name index moves along).
    let before = store::fetch_all::<NameOnly, _>(
        &tx,
        "SELECT name, community_id FROM persons WHERE id = $1",
        vec![m.person_id.into()],
    )
    .await?
    .pop();
    store::exec(
        &tx,
        "UPDATE persons SET street_id = $1, community_id = $2, grid_id = $3, area_id = $4, updated_at = $5 WHERE id = $6",
        vec![h.street_id.into(), h.community_id.into(), h.grid_id.into(), h.area_id.into(), now_ms().into(), m.person_id.into()],
    )
    .await?;
    store::exec(
        &tx,
        "UPDATE person_tags SET street_id = $1 WHERE person_id = $2",
        vec![h.street_id.into(), m.person_id.into()],
    )
    .await?;
    if let Some(b) = before {
        super::persons::reindex_name(
            &tx,
            m.person_id,
            (&b.name, b.community_id),
            h.street_id,
            h.community_id,
            &b.name,
        )
        .await?;
    }
    record_change(
        &tx,
        ctx,
        Change {
            street_id: h.street_id,
            object_type: "household",
            object_id: id,
            household_id: Some(id),
            reason,
            note: None,
            changes: serde_json::json!({"member": [null, person.name], "relation": [null, relation], "from_date": [null, from]}),
            snapshot: serde_json::json!({"person_id": m.person_id, "relation": relation, "from_date": from}),
        },
    )
    .await?;
    Entry::by(ctx, &checked, "household.member_add", "household", id)
        .area(h.area_id)
        .detail(reason)
        .record(&tx)
        .await?;
    let row = load_household(&tx, id).await?;
    tx.commit().await?;
    Ok(household_view(row, f))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndMember {
    /// `YYYY-MM-DD`, default today.
    pub to_date: Option<String>,
    /// move_out | death
    pub reason: String,
    pub note: Option<String>,
}

/// A member leaves (迁出) or dies (死亡): the membership ends; the person's status follows.
#[tracing::instrument(name = "registry::households::end_member", skip_all)]
pub async fn end_member(
    db: &Db,
    ctx: &Ctx,
    f: &Freshness,
    id: Uuid,
    member_id: Uuid,
    e: EndMember,
) -> AppResult<Household> {
    let h = load_household(db, id).await?;
    let checked = scope::require_permission(db, ctx, Permission::EditRegistry, h.area_id).await?;
    #[derive(FromQueryResult)]
    struct M {
        person_id: Uuid,
        from_date: String,
        name: String,
    }
    let m: M = store::fetch_found(
        db,
        "SELECT m.person_id, m.from_date, p.name FROM household_members m JOIN persons p ON p.id = m.person_id \
         WHERE m.id = $1 AND m.household_id = $2 AND m.to_date IS NULL",
        vec![member_id.into(), id.into()],
    )
    .await?;
    let reason = match e.reason.trim() {
        "move_out" | "迁出" => "move_out",
        "death" | "死亡" => "death",
        _ => {
            return Err(AppError::field(
                "reason",
                Msg::new(
                    "原因应为迁出（move_out）或死亡（death）",
                    "The reason is move_out or death",
                ),
            ))
        }
    };
    let to = match e.to_date.as_deref().filter(|s| !s.is_empty()) {
        Some(d) => vocab::parse_date(d).map_err(|x| AppError::field("to_date", x))?,
        None => today(),
    };
    if to < m.from_date {
        return Err(AppError::field(
            "to_date",
            Msg::new(
                "结束日期不能早于入户日期",
                "The end date cannot be before the start",
            ),
        ));
    }
    let mut errs = FieldErrors::new();
    let note = opt_text(&e.note, 500, "note", &mut errs);
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "UPDATE household_members SET to_date = $1 WHERE id = $2",
        vec![to.clone().into(), member_id.into()],
    )
    .await?;
    if h.head_person_id == Some(m.person_id) {
        store::exec(
            &tx,
            "UPDATE households SET head_person_id = NULL WHERE id = $1",
            vec![id.into()],
        )
        .await?;
    }
    store::exec(
        &tx,
        "UPDATE households SET version = version + 1, updated_at = $1 WHERE id = $2",
        vec![now.into(), id.into()],
    )
    .await?;
    let others = store::fetch_i64(
        &tx,
        "SELECT COUNT(*) FROM household_members WHERE person_id = $1 AND to_date IS NULL",
        vec![m.person_id.into()],
    )
    .await?;
    let status = if reason == "death" {
        Some("deceased")
    } else if others == 0 {
        Some("moved_out")
    } else {
        None
    };
    if let Some(s) = status {
        store::exec(
            &tx,
            "UPDATE persons SET status = $1, left_at = $2, version = version + 1, updated_at = $2 WHERE id = $3",
            vec![s.into(), now.into(), m.person_id.into()],
        )
        .await?;
    }
    record_change(
        &tx,
        ctx,
        Change {
            street_id: h.street_id,
            object_type: "household",
            object_id: id,
            household_id: Some(id),
            reason,
            note,
            changes: serde_json::json!({"member": [m.name, null], "to_date": [null, to]}),
            snapshot: serde_json::json!({"person_id": m.person_id, "to_date": to, "status": status}),
        },
    )
    .await?;
    Entry::by(ctx, &checked, "household.member_end", "household", id)
        .area(h.area_id)
        .detail(reason)
        .record(&tx)
        .await?;
    let row = load_household(&tx, id).await?;
    tx.commit().await?;
    Ok(household_view(row, f))
}

/// Marks a household, its dwelling and its present members verified at `at` by the caller (a
/// later verification is never moved back). Used by the one-tap verify and by a recorded visit.
pub(crate) async fn mark_verified<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    household_id: Uuid,
    dwelling_id: Uuid,
    at: i64,
) -> AppResult<()> {
    let by = ctx.principal.name.clone();
    store::exec(
        c,
        "UPDATE households SET last_verified_at = $1, last_verified_by = $2 \
         WHERE id = $3 AND (last_verified_at IS NULL OR last_verified_at < $1)",
        vec![at.into(), by.clone().into(), household_id.into()],
    )
    .await?;
    store::exec(
        c,
        "UPDATE dwellings SET last_verified_at = $1, last_verified_by = $2 \
         WHERE id = $3 AND (last_verified_at IS NULL OR last_verified_at < $1)",
        vec![at.into(), by.clone().into(), dwelling_id.into()],
    )
    .await?;
    store::exec(
        c,
        "UPDATE persons SET last_verified_at = $1, last_verified_by = $2 WHERE id IN \
         (SELECT person_id FROM household_members WHERE household_id = $3 AND to_date IS NULL) \
         AND (last_verified_at IS NULL OR last_verified_at < $1)",
        vec![at.into(), by.into(), household_id.into()],
    )
    .await?;
    Ok(())
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    pub note: Option<String>,
}

/// One tap when nothing changed: the household, its dwelling and its members are verified now.
#[tracing::instrument(name = "registry::households::verify", skip_all)]
pub async fn verify(
    db: &Db,
    ctx: &Ctx,
    f: &Freshness,
    id: Uuid,
    v: VerifyRequest,
) -> AppResult<Household> {
    let h = load_household(db, id).await?;
    let checked = scope::require_permission(db, ctx, Permission::EditRegistry, h.area_id).await?;
    let mut errs = FieldErrors::new();
    let note = opt_text(&v.note, 500, "note", &mut errs);
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    mark_verified(&tx, ctx, id, h.dwelling_id, now).await?;
    record_change(
        &tx,
        ctx,
        Change {
            street_id: h.street_id,
            object_type: "household",
            object_id: id,
            household_id: Some(id),
            reason: "verify",
            note,
            changes: serde_json::json!({}),
            snapshot: serde_json::json!({"verified_at": now}),
        },
    )
    .await?;
    Entry::by(ctx, &checked, "household.verify", "household", id)
        .area(h.area_id)
        .record(&tx)
        .await?;
    let row = load_household(&tx, id).await?;
    tx.commit().await?;
    Ok(household_view(row, f))
}

/// A person's name and community (for the name index when they move).
#[derive(FromQueryResult)]
struct NameOnly {
    name: String,
    community_id: Uuid,
}
