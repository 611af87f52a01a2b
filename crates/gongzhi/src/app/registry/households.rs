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

// ---------------------------------------------------------------- dwellings

#[derive(Debug, Clone, Serialize, ToSchema, FromQueryResult)]
pub struct Owner {
    pub id: Uuid,
    pub owner_name: String,
    pub person_id: Option<Uuid>,
    pub entity_id: Option<Uuid>,
    pub from_date: Option<String>,
    pub to_date: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Dwelling {
    pub id: Uuid,
    pub building_id: Uuid,
    pub building_name: String,
    pub grid_id: Uuid,
    pub community_id: Uuid,
    pub unit: String,
    pub floor: Option<i32>,
    pub room: String,
    /// self_occupied | rented | vacant | commercial | other
    pub usage: String,
    pub address: String,
    pub current_owner: Option<String>,
    /// Only in the detail and the household file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owners: Option<Vec<Owner>>,
    pub household_count: i64,
    pub version: i32,
    pub last_verified_at: Option<String>,
    pub updated_at: String,
}

#[derive(Debug, Clone, FromQueryResult)]
struct DwellingRow {
    street_id: Uuid,
    id: Uuid,
    community_id: Uuid,
    grid_id: Uuid,
    building_id: Uuid,
    building_name: String,
    unit: String,
    floor: Option<i32>,
    room: String,
    usage: String,
    address: String,
    version: i32,
    last_verified_at: Option<i64>,
    updated_at: i64,
    household_count: i64,
    current_owner: Option<String>,
}

const DWELLING_SELECT: &str = "SELECT d.street_id, d.id, d.community_id, d.grid_id, d.building_id, b.name AS building_name, \
    d.unit, d.floor, d.room, d.usage, d.address, d.version, d.last_verified_at, d.updated_at, \
    (SELECT COUNT(*) FROM households h WHERE h.dwelling_id = d.id AND h.deleted_at IS NULL) AS household_count, \
    (SELECT o.owner_name FROM dwelling_owners o WHERE o.dwelling_id = d.id AND o.to_date IS NULL ORDER BY o.created_at DESC LIMIT 1) AS current_owner \
    FROM dwellings d JOIN areas b ON b.id = d.building_id";

fn dwelling_view(r: DwellingRow, owners: Option<Vec<Owner>>) -> Dwelling {
    Dwelling {
        id: r.id,
        building_id: r.building_id,
        building_name: r.building_name,
        grid_id: r.grid_id,
        community_id: r.community_id,
        unit: r.unit,
        floor: r.floor,
        room: r.room,
        usage: r.usage,
        address: r.address,
        current_owner: r.current_owner,
        owners,
        household_count: r.household_count,
        version: r.version,
        last_verified_at: r.last_verified_at.map(ms_to_rfc3339),
        updated_at: ms_to_rfc3339(r.updated_at),
    }
}

async fn load_dwelling<C: ConnectionTrait>(c: &C, id: Uuid) -> AppResult<DwellingRow> {
    store::fetch_opt(
        c,
        &format!("{DWELLING_SELECT} WHERE d.id = $1 AND d.deleted_at IS NULL"),
        vec![id.into()],
    )
    .await?
    .ok_or(AppError::NotFound)
}

async fn owners_of<C: ConnectionTrait>(c: &C, dwelling: Uuid) -> AppResult<Vec<Owner>> {
    Ok(store::fetch_all(
        c,
        "SELECT id, owner_name, person_id, entity_id, from_date, to_date FROM dwelling_owners WHERE dwelling_id = $1 \
         ORDER BY created_at DESC",
        vec![dwelling.into()],
    )
    .await?)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDwelling {
    pub building_id: Uuid,
    #[serde(default)]
    pub unit: String,
    pub floor: Option<i32>,
    pub room: String,
    pub usage: String,
}

/// The address of a dwelling: 社区 + 楼栋 + 单元 + 室.
async fn address_of<C: ConnectionTrait>(
    c: &C,
    building: Uuid,
    unit: &str,
    room: &str,
) -> AppResult<String> {
    Ok(address_in(&address_prefix(c, building).await?, unit, room))
}

/// The part of an address a building gives: 社区 + 楼栋.
pub(crate) async fn address_prefix<C: ConnectionTrait>(c: &C, building: Uuid) -> AppResult<String> {
    #[derive(FromQueryResult)]
    struct N {
        name: String,
        kind: String,
    }
    let names: Vec<N> = store::fetch_all(
        c,
        "SELECT a.name, a.kind FROM area_closure c JOIN areas a ON a.id = c.ancestor_id WHERE c.descendant_id = $1 ORDER BY c.depth DESC",
        vec![building.into()],
    )
    .await?;
    let pick = |k: &str| {
        names
            .iter()
            .find(|n| n.kind == k)
            .map(|n| n.name.clone())
            .unwrap_or_default()
    };
    Ok(format!("{}{}", pick("community"), pick("building")))
}

/// A building's address part + 单元 + 室.
pub(crate) fn address_in(prefix: &str, unit: &str, room: &str) -> String {
    let unit = if unit.is_empty() {
        String::new()
    } else if unit.ends_with('单') || unit.ends_with("单元") {
        unit.to_string()
    } else {
        format!("{unit}单元")
    };
    format!("{prefix}{unit}{room}")
}

pub(crate) fn check_dwelling_fields(
    unit: &str,
    floor: Option<i32>,
    room: &str,
    usage: &str,
    errs: &mut FieldErrors,
) -> (String, String, Option<&'static str>) {
    let unit = unit.trim().to_string();
    let room = room.trim().to_string();
    if unit.chars().count() > 16 {
        errs.insert(
            "unit".into(),
            Msg::new(
                "单元不能超过 16 个字符",
                "The unit has at most 16 characters",
            ),
        );
    }
    if room.is_empty() || room.chars().count() > 32 {
        errs.insert(
            "room".into(),
            Msg::new(
                "请填写室号（最多 32 个字符）",
                "Give the room (at most 32 characters)",
            ),
        );
    }
    if let Some(f) = floor {
        if !(-5..=200).contains(&f) {
            errs.insert(
                "floor".into(),
                Msg::new(
                    "楼层应在 -5 到 200 之间",
                    "The floor must be between -5 and 200",
                ),
            );
        }
    }
    let usage = vocab::DWELLING_USAGE
        .parse(usage)
        .map_err(|m| errs.insert("usage".into(), m))
        .ok();
    (unit, room, usage)
}

async fn require_building<C: ConnectionTrait>(c: &C, id: Uuid) -> AppResult<()> {
    let k = store::fetch_i64(
        c,
        "SELECT COUNT(*) FROM areas WHERE id = $1 AND kind = 'building'",
        vec![id.into()],
    )
    .await?;
    if k == 0 {
        return Err(AppError::field(
            "building_id",
            Msg::new("请选择一个楼栋", "Choose a building"),
        ));
    }
    Ok(())
}

#[tracing::instrument(name = "registry::households::create_dwelling", skip_all)]
pub async fn create_dwelling(db: &Db, ctx: &Ctx, input: NewDwelling) -> AppResult<Dwelling> {
    let tx = store::write_tx(db).await?;
    let d = create_dwelling_in(&tx, ctx, input).await?;
    tx.commit().await?;
    Ok(d)
}

/// Creates a dwelling inside the caller's transaction (the console's form and each row of the
/// dwelling sheet): the building in scope, the fields checked, one dwelling per address.
pub(crate) async fn create_dwelling_in(
    tx: &sea_orm::DatabaseTransaction,
    ctx: &Ctx,
    input: NewDwelling,
) -> AppResult<Dwelling> {
    let checked =
        scope::require_permission(tx, ctx, Permission::EditRegistry, input.building_id).await?;
    require_building(tx, input.building_id).await?;
    let at = place(tx, input.building_id, "building_id").await?;
    let mut errs = FieldErrors::new();
    let (unit, room, usage) = check_dwelling_fields(
        &input.unit,
        input.floor,
        &input.room,
        &input.usage,
        &mut errs,
    );
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let taken = store::fetch_i64(
        tx,
        "SELECT COUNT(*) FROM dwellings WHERE street_id = $1 AND building_id = $2 AND unit = $3 AND room = $4 \
         AND deleted_at IS NULL",
        vec![at.street_id.into(), input.building_id.into(), unit.clone().into(), room.clone().into()],
    )
    .await?;
    if taken > 0 {
        return Err(AppError::ConflictOn {
            field: "room",
            msg: Msg::new(
                "这个楼栋单元里已有此室号的房屋",
                "This building and unit already has a dwelling with this room",
            ),
        });
    }
    let address = address_of(tx, input.building_id, &unit, &room).await?;
    let id = new_id();
    let now = now_ms();
    insert_dwelling(
        tx,
        id,
        &at,
        &unit,
        input.floor,
        &room,
        usage.unwrap_or("other"),
        &address,
        now,
    )
    .await?;
    record_change(
        tx,
        ctx,
        Change {
            street_id: at.street_id,
            object_type: "dwelling",
            object_id: id,
            household_id: None,
            reason: "create",
            note: None,
            changes: serde_json::json!({}),
            snapshot: serde_json::json!({"unit": unit, "floor": input.floor, "room": room, "usage": usage, "address": address}),
        },
    )
    .await?;
    audit::record(
        tx,
        Entry::by(
            ctx,
            &checked,
            "dwelling.create",
            "dwelling",
            Some(id.to_string()),
        )
        .area(Some(at.area_id)),
    )
    .await?;
    let row = load_dwelling(tx, id).await?;
    Ok(dwelling_view(row, Some(vec![])))
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_dwelling<C: ConnectionTrait>(
    c: &C,
    id: Uuid,
    at: &Placement,
    unit: &str,
    floor: Option<i32>,
    room: &str,
    usage: &str,
    address: &str,
    now: i64,
) -> AppResult<()> {
    store::exec(
        c,
        "INSERT INTO dwellings (street_id, id, community_id, grid_id, building_id, unit, floor, room, usage, address, version, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11)",
        vec![
            at.street_id.into(),
            id.into(),
            at.community_id.into(),
            at.grid_id.into(),
            at.area_id.into(),
            unit.to_string().into(),
            floor.into(),
            room.to_string().into(),
            usage.to_string().into(),
            address.to_string().into(),
            now.into(),
        ],
    )
    .await
    .map_err(|e| crate::error::map_unique(e, "room", Msg::new("该楼栋单元下已有此房屋", "This building and unit already have this room")))?;
    Ok(())
}

#[tracing::instrument(name = "registry::households::get_dwelling", skip_all)]
pub async fn get_dwelling(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<Dwelling> {
    let r = load_dwelling(db, id).await?;
    let checked =
        scope::require_permission(db, ctx, Permission::ReadRegistry, r.building_id).await?;
    let owners = owners_of(db, id).await?;
    audit::record_alone(
        db,
        Entry::by(
            ctx,
            &checked,
            "dwelling.read",
            "dwelling",
            Some(id.to_string()),
        )
        .area(Some(r.building_id))
        .fields(&["owners"]),
    )
    .await?;
    Ok(dwelling_view(r, Some(owners)))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub area_id: Option<Uuid>,
    /// Part of the address.
    pub q: Option<String>,
    /// Only households due for verification.
    pub stale: Option<bool>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

fn paging(q: &ListQuery) -> store::Paging {
    store::Paging::new(q.page, q.page_size)
}

#[tracing::instrument(name = "registry::households::list_dwellings", skip_all)]
pub async fn list_dwellings(db: &Db, ctx: &Ctx, q: &ListQuery) -> AppResult<(Vec<Dwelling>, i64)> {
    scope::require_any(ctx, Permission::ReadRegistry)?;
    let mut w = super::list_where(ctx, "d", "building_id", q.area_id);
    if let Some(t) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let like = format!("%{}%", store::like_escape(t));
        w.and("d.address LIKE ? ESCAPE '\\'", [like.into()]);
    }
    let (w, values) = w.build(1);
    let paging = paging(q);
    let (rows, total): (Vec<DwellingRow>, i64) = store::page(
        db,
        &format!("SELECT COUNT(*) FROM dwellings d WHERE {w}"),
        &format!("{DWELLING_SELECT} WHERE {w} ORDER BY d.address, d.id"),
        values,
        paging,
    )
    .await?;
    Ok((
        rows.into_iter().map(|r| dwelling_view(r, None)).collect(),
        total,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DwellingPatch {
    pub version: i32,
    pub unit: Option<String>,
    pub floor: Option<i32>,
    pub room: Option<String>,
    pub usage: Option<String>,
}

#[tracing::instrument(name = "registry::households::update_dwelling", skip_all)]
pub async fn update_dwelling(
    db: &Db,
    ctx: &Ctx,
    id: Uuid,
    p: DwellingPatch,
) -> AppResult<Dwelling> {
    let cur = load_dwelling(db, id).await?;
    let checked =
        scope::require_permission(db, ctx, Permission::EditRegistry, cur.building_id).await?;
    let mut errs = FieldErrors::new();
    let (unit, room, usage) = check_dwelling_fields(
        p.unit.as_deref().unwrap_or(&cur.unit),
        p.floor.or(cur.floor),
        p.room.as_deref().unwrap_or(&cur.room),
        p.usage.as_deref().unwrap_or(&cur.usage),
        &mut errs,
    );
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let usage = usage.unwrap_or("other").to_string();
    let floor = p.floor.or(cur.floor);
    let mut ch = serde_json::Map::new();
    diff(
        &mut ch,
        "unit",
        &Some(cur.unit.clone()),
        &Some(unit.clone()),
    );
    diff(
        &mut ch,
        "room",
        &Some(cur.room.clone()),
        &Some(room.clone()),
    );
    diff(
        &mut ch,
        "floor",
        &cur.floor.map(|f| f.to_string()),
        &floor.map(|f| f.to_string()),
    );
    diff(
        &mut ch,
        "usage",
        &Some(cur.usage.clone()),
        &Some(usage.clone()),
    );
    if ch.is_empty() {
        if p.version != cur.version {
            return Err(AppError::stale_version());
        }
        return Ok(dwelling_view(cur, None));
    }
    let address = address_of(db, cur.building_id, &unit, &room).await?;
    let tx = store::write_tx(db).await?;
    let n = store::exec(
        &tx,
        "UPDATE dwellings SET unit = $1, floor = $2, room = $3, usage = $4, address = $5, version = version + 1, updated_at = $6 \
         WHERE id = $7 AND version = $8",
        vec![unit.clone().into(), floor.into(), room.clone().into(), usage.clone().into(), address.clone().into(), now_ms().into(), id.into(), p.version.into()],
    )
    .await
    .map_err(|e| crate::error::map_unique(e, "room", Msg::new("该楼栋单元下已有此房屋", "This building and unit already have this room")))?;
    if n == 0 {
        return Err(AppError::stale_version());
    }
    let fields: Vec<String> = ch.keys().cloned().collect();
    record_change(
        &tx,
        ctx,
        Change {
            street_id: cur.street_id,
            object_type: "dwelling",
            object_id: id,
            household_id: None,
            reason: "correction",
            note: None,
            changes: serde_json::Value::Object(ch),
            snapshot: serde_json::json!({"unit": unit, "floor": floor, "room": room, "usage": usage, "address": address}),
        },
    )
    .await?;
    let f: Vec<&str> = fields.iter().map(String::as_str).collect();
    audit::record(
        &tx,
        Entry::by(
            ctx,
            &checked,
            "dwelling.update",
            "dwelling",
            Some(id.to_string()),
        )
        .area(Some(cur.building_id))
        .fields(&f),
    )
    .await?;
    let row = load_dwelling(&tx, id).await?;
    tx.commit().await?;
    Ok(dwelling_view(row, None))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOwner {
    pub owner_name: String,
    pub person_id: Option<Uuid>,
    pub entity_id: Option<Uuid>,
    /// `YYYY-MM-DD`, default today. The previous owner's period ends on this date.
    pub from_date: Option<String>,
}

/// An owner change (业主变更): the previous ownership ends, the new one starts; both are kept.
#[tracing::instrument(name = "registry::households::change_owner", skip_all)]
pub async fn change_owner(db: &Db, ctx: &Ctx, id: Uuid, o: NewOwner) -> AppResult<Dwelling> {
    let cur = load_dwelling(db, id).await?;
    let checked =
        scope::require_permission(db, ctx, Permission::EditRegistry, cur.building_id).await?;
    let name = crate::domain::clean_name(&o.owner_name, 100)
        .map_err(|m| AppError::field("owner_name", m))?;
    let from = match o.from_date.as_deref().filter(|s| !s.is_empty()) {
        Some(d) => vocab::parse_date(d).map_err(|m| AppError::field("from_date", m))?,
        None => today(),
    };
    if let Some(p) = o.person_id {
        persons::require_editable(db, ctx, p).await?;
    }
    let tx = store::write_tx(db).await?;
    let prev = store::fetch_opt::<Owner, _>(
        &tx,
        "SELECT id, owner_name, person_id, entity_id, from_date, to_date FROM dwelling_owners WHERE dwelling_id = $1 AND to_date IS NULL \
         ORDER BY created_at DESC LIMIT 1",
        vec![id.into()],
    )
    .await?;
    store::exec(
        &tx,
        "UPDATE dwelling_owners SET to_date = $1 WHERE dwelling_id = $2 AND to_date IS NULL",
        vec![from.clone().into(), id.into()],
    )
    .await?;
    store::exec(
        &tx,
        "INSERT INTO dwelling_owners (street_id, id, dwelling_id, person_id, entity_id, owner_name, from_date, to_date, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8)",
        vec![cur.street_id.into(), new_id().into(), id.into(), o.person_id.into(), o.entity_id.into(), name.clone().into(), from.clone().into(), now_ms().into()],
    )
    .await?;
    store::exec(
        &tx,
        "UPDATE dwellings SET version = version + 1, updated_at = $1 WHERE id = $2",
        vec![now_ms().into(), id.into()],
    )
    .await?;
    record_change(
        &tx,
        ctx,
        Change {
            street_id: cur.street_id,
            object_type: "dwelling",
            object_id: id,
            household_id: None,
            reason: "owner_change",
            note: None,
            changes: serde_json::json!({"owner": [prev.map(|p| p.owner_name), name], "from_date": [null, from]}),
            snapshot: serde_json::json!({"owner": name}),
        },
    )
    .await?;
    audit::record(
        &tx,
        Entry::by(
            ctx,
            &checked,
            "dwelling.owner_change",
            "dwelling",
            Some(id.to_string()),
        )
        .area(Some(cur.building_id))
        .fields(&["owner"]),
    )
    .await?;
    let row = load_dwelling(&tx, id).await?;
    let owners = owners_of(&tx, id).await?;
    tx.commit().await?;
    Ok(dwelling_view(row, Some(owners)))
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
    store::fetch_opt(
        c,
        &format!("{HOUSEHOLD_SELECT} WHERE h.id = $1 AND h.deleted_at IS NULL"),
        vec![id.into()],
    )
    .await?
    .ok_or(AppError::NotFound)
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
    audit::record(
        &tx,
        Entry::by(
            ctx,
            &checked,
            "household.create",
            "household",
            Some(id.to_string()),
        )
        .area(Some(at.area_id)),
    )
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
        if p.version != cur.version {
            return Err(AppError::stale_version());
        }
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
    if n == 0 {
        return Err(AppError::stale_version());
    }
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
    audit::record(
        &tx,
        Entry::by(
            ctx,
            &checked,
            "household.update",
            "household",
            Some(id.to_string()),
        )
        .area(Some(cur.area_id))
        .detail(reason),
    )
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
    audit::record(
        &tx,
        Entry::by(
            ctx,
            &checked,
            "household.member_add",
            "household",
            Some(id.to_string()),
        )
        .area(Some(h.area_id))
        .detail(reason),
    )
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
    let m: M = store::fetch_opt(
        db,
        "SELECT m.person_id, m.from_date, p.name FROM household_members m JOIN persons p ON p.id = m.person_id \
         WHERE m.id = $1 AND m.household_id = $2 AND m.to_date IS NULL",
        vec![member_id.into(), id.into()],
    )
    .await?
    .ok_or(AppError::NotFound)?;
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
    audit::record(
        &tx,
        Entry::by(
            ctx,
            &checked,
            "household.member_end",
            "household",
            Some(id.to_string()),
        )
        .area(Some(h.area_id))
        .detail(reason),
    )
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
    audit::record(
        &tx,
        Entry::by(
            ctx,
            &checked,
            "household.verify",
            "household",
            Some(id.to_string()),
        )
        .area(Some(h.area_id)),
    )
    .await?;
    let row = load_household(&tx, id).await?;
    tx.commit().await?;
    Ok(household_view(row, f))
}

// ---------------------------------------------------------------- the file

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Member {
    pub id: Uuid,
    pub person_id: Uuid,
    pub relation: String,
    pub from_date: String,
    pub to_date: Option<String>,
    pub person: Person,
}

/// The whole household file in one document.
#[derive(Debug, Serialize, ToSchema)]
pub struct HouseholdFile {
    pub household: Household,
    pub dwelling: Dwelling,
    pub members: Vec<Member>,
    pub past_members: Vec<Member>,
    pub visits: Vec<Visit>,
    pub needs: Vec<Need>,
    pub events: Vec<Event>,
    /// The household's cases (接诉即办): raised by a member or at its dwelling, newest first (at
    /// most 50). Empty for a reader who may not read cases here.
    pub cases: Vec<FileCase>,
    /// Service the members gave as volunteers (confirmed hours), newest first (at most 50).
    /// Empty for a reader who may not read service records here.
    pub services: Vec<FileService>,
    /// The date the file was read as of, if not today.
    pub as_of: Option<String>,
}

/// A case in a household's file.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileCase {
    pub id: Uuid,
    pub no: String,
    /// RFC 3339, UTC.
    pub received_at: String,
    pub category_code: String,
    pub title: String,
    pub status: String,
    pub status_label: String,
}

/// A member's service in a household's file.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileService {
    pub person_id: Uuid,
    pub person_name: String,
    pub activity_id: Option<Uuid>,
    pub activity_title: Option<String>,
    /// YYYY-MM-DD (Asia/Shanghai).
    pub day: String,
    pub minutes: i32,
    /// `activity` or `correction`.
    pub kind: String,
}

/// The cases raised by the members (as requesters) or at the dwelling.
async fn cases_of(
    db: &Db,
    lang: crate::error::Lang,
    persons: &[Uuid],
    dwelling_id: Uuid,
) -> AppResult<Vec<FileCase>> {
    #[derive(FromQueryResult)]
    struct R {
        id: Uuid,
        no: String,
        received_at: i64,
        category_code: String,
        title: String,
        status: String,
    }
    let mut values: Vec<Value> = vec![dwelling_id.into()];
    let mut cond = "dwelling_id = $1".to_string();
    if !persons.is_empty() {
        cond.push_str(&format!(
            " OR requester_person_id IN ({})",
            store::placeholders(2, persons.len())
        ));
        values.extend(persons.iter().map(|p| Value::from(*p)));
    }
    let rows: Vec<R> = store::fetch_all(
        db,
        &format!(
            "SELECT id, no, received_at, category_code, title, status FROM cases \
             WHERE {cond} ORDER BY received_at DESC LIMIT 50"
        ),
        values,
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let st = crate::domain::cases::Status::parse(&r.status);
            FileCase {
                id: r.id,
                no: r.no,
                received_at: ms_to_rfc3339(r.received_at),
                category_code: r.category_code,
                title: r.title,
                status_label: match (st, lang) {
                    (Some(s), crate::error::Lang::Zh) => s.label_zh().to_string(),
                    (Some(s), crate::error::Lang::En) => s.label_en().to_string(),
                    (None, _) => r.status.clone(),
                },
                status: r.status,
            }
        })
        .collect())
}

/// The confirmed service hours of the members who are volunteers.
async fn services_of(db: &Db, members: &[(Uuid, String)]) -> AppResult<Vec<FileService>> {
    if members.is_empty() {
        return Ok(vec![]);
    }
    #[derive(FromQueryResult)]
    struct R {
        person_id: Uuid,
        activity_id: Option<Uuid>,
        title: Option<String>,
        day: String,
        minutes: i32,
        kind: String,
    }
    let rows: Vec<R> = store::fetch_all(
        db,
        &format!(
            "SELECT v.person_id, h.activity_id, a.title, h.day, h.minutes, h.kind \
             FROM service_hours h JOIN volunteers v ON v.id = h.volunteer_id \
             LEFT JOIN activities a ON a.id = h.activity_id \
             WHERE v.person_id IN ({}) ORDER BY h.day DESC, h.created_at DESC LIMIT 50",
            store::placeholders(1, members.len())
        ),
        members.iter().map(|(p, _)| Value::from(*p)).collect(),
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| FileService {
            person_name: members
                .iter()
                .find(|(p, _)| *p == r.person_id)
                .map(|(_, n)| n.clone())
                .unwrap_or_default(),
            person_id: r.person_id,
            activity_id: r.activity_id,
            activity_title: r.title,
            day: r.day,
            minutes: r.minutes,
            kind: r.kind,
        })
        .collect())
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileQuery {
    /// `YYYY-MM-DD`: members, household type and head as they were on that date.
    pub as_of: Option<String>,
}

#[tracing::instrument(name = "registry::households::file", skip_all)]
pub async fn file(
    db: &Db,
    keys: &Keys,
    ctx: &Ctx,
    f: &Freshness,
    id: Uuid,
    q: &FileQuery,
) -> AppResult<HouseholdFile> {
    let row = load_household(db, id).await?;
    let checked = scope::require_permission(db, ctx, Permission::ReadRegistry, row.area_id).await?;
    let sensitive = scope::has_permission(db, ctx, Permission::RevealPersonal, row.area_id).await?;
    let as_of = match q.as_of.as_deref().filter(|s| !s.is_empty()) {
        Some(d) => Some(vocab::parse_date(d).map_err(|m| AppError::field("as_of", m))?),
        None => None,
    };
    let mut household = household_view(row.clone(), f);
    // The household as it was: the last snapshot on or before the date.
    if let Some(d) = &as_of {
        let end_of_day =
            crate::domain::rfc3339_to_ms(&format!("{d}T23:59:59+08:00")).unwrap_or(i64::MAX);
        #[derive(FromQueryResult)]
        struct S {
            snapshot: String,
        }
        let snap: Option<S> = store::fetch_opt(
            db,
            "SELECT snapshot FROM registry_events WHERE object_id = $1 AND object_type = 'household' AND at <= $2 \
             AND reason IN ('create', 'head_change', 'correction') ORDER BY at DESC LIMIT 1",
            vec![id.into(), end_of_day.into()],
        )
        .await?;
        if let Some(v) =
            snap.and_then(|s| serde_json::from_str::<serde_json::Value>(&s.snapshot).ok())
        {
            if let Some(k) = v["kind"].as_str() {
                household.kind = k.to_string();
            }
            household.head_person_id = v["head_person_id"]
                .as_str()
                .and_then(|s| Uuid::parse_str(s).ok());
            household.head_name = head_name(db, household.head_person_id).await?;
        }
    }
    let d = load_dwelling(db, row.dwelling_id).await?;
    let owners = owners_of(db, d.id).await?;
    #[derive(FromQueryResult)]
    struct MRow {
        id: Uuid,
        person_id: Uuid,
        relation: String,
        from_date: String,
        to_date: Option<String>,
    }
    let mrows: Vec<MRow> = store::fetch_all(
        db,
        "SELECT id, person_id, relation, from_date, to_date FROM household_members WHERE household_id = $1 ORDER BY from_date, id",
        vec![id.into()],
    )
    .await?;
    let mut members = vec![];
    let mut past = vec![];
    for m in mrows {
        let p: Option<persons::PersonRow> = store::fetch_opt(
            db,
            &format!("{} WHERE p.id = $1", persons::SELECT),
            vec![m.person_id.into()],
        )
        .await?;
        let Some(p) = p else { continue };
        let current = match &as_of {
            Some(d) => {
                m.from_date <= *d && m.to_date.as_deref().map(|t| t > d.as_str()).unwrap_or(true)
            }
            None => m.to_date.is_none(),
        };
        let started = as_of.as_ref().map(|d| m.from_date <= *d).unwrap_or(true);
        let member = Member {
            id: m.id,
            person_id: m.person_id,
            relation: m.relation,
            from_date: m.from_date,
            to_date: m.to_date,
            person: persons::view(p, keys, sensitive),
        };
        if current {
            members.push(member);
        } else if started {
            past.push(member);
        }
    }
    let visits = visits::visits_of(db, id).await?;
    let needs = visits::needs_of(db, id).await?;
    let people: Vec<(Uuid, String)> = members
        .iter()
        .chain(past.iter())
        .map(|m| (m.person_id, m.person.name.clone()))
        .collect();
    let person_ids: Vec<Uuid> = people.iter().map(|(p, _)| *p).collect();
    let cases = if scope::has_permission(db, ctx, Permission::ReadCases, row.area_id).await? {
        cases_of(db, ctx.lang, &person_ids, row.dwelling_id).await?
    } else {
        vec![]
    };
    let services = if scope::has_permission(db, ctx, Permission::ReadService, row.area_id).await? {
        services_of(db, &people).await?
    } else {
        vec![]
    };
    let mut events = super::history(db, id, true).await?;
    if let Some(d) = &as_of {
        // Events up to the end of that day (Asia/Shanghai).
        let end =
            crate::domain::rfc3339_to_ms(&format!("{d}T23:59:59.999+08:00")).unwrap_or(i64::MAX);
        events.retain(|e| {
            crate::domain::rfc3339_to_ms(&e.at)
                .map(|t| t <= end)
                .unwrap_or(true)
        });
    }
    audit::record_alone(
        db,
        Entry::by(
            ctx,
            &checked,
            "household.file",
            "household",
            Some(id.to_string()),
        )
        .area(Some(row.area_id))
        .fields(&[
            "members",
            "id_no_masked",
            "mobile_masked",
            "tags",
            "visits",
            "needs",
        ])
        .detail(
            as_of
                .clone()
                .map(|d| format!("as of {d}"))
                .unwrap_or_default(),
        ),
    )
    .await?;
    Ok(HouseholdFile {
        household,
        dwelling: dwelling_view(d, Some(owners)),
        members,
        past_members: past,
        visits,
        needs,
        events,
        cases,
        services,
        as_of,
    })
}

#[tracing::instrument(name = "registry::households::history", skip_all)]
pub async fn history(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<Vec<Event>> {
    let row = load_household(db, id).await?;
    scope::require_permission(db, ctx, Permission::ReadRegistry, row.area_id).await?;
    super::history(db, id, true).await
}

#[derive(FromQueryResult)]
struct NameOnly {
    name: String,
    community_id: Uuid,
}
