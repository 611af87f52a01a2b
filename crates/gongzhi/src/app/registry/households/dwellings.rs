//! Dwellings (房屋): a building's rooms with their owners, the places households live in.
use super::*;

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
pub(super) struct DwellingRow {
    pub(super) street_id: Uuid,
    pub(super) id: Uuid,
    pub(super) community_id: Uuid,
    pub(super) grid_id: Uuid,
    pub(super) building_id: Uuid,
    pub(super) building_name: String,
    pub(super) unit: String,
    pub(super) floor: Option<i32>,
    pub(super) room: String,
    pub(super) usage: String,
    pub(super) address: String,
    pub(super) version: i32,
    pub(super) last_verified_at: Option<i64>,
    pub(super) updated_at: i64,
    pub(super) household_count: i64,
    pub(super) current_owner: Option<String>,
}

pub(super) const DWELLING_SELECT: &str = "SELECT d.street_id, d.id, d.community_id, d.grid_id, d.building_id, b.name AS building_name, \
    d.unit, d.floor, d.room, d.usage, d.address, d.version, d.last_verified_at, d.updated_at, \
    (SELECT COUNT(*) FROM households h WHERE h.dwelling_id = d.id AND h.deleted_at IS NULL) AS household_count, \
    (SELECT o.owner_name FROM dwelling_owners o WHERE o.dwelling_id = d.id AND o.to_date IS NULL ORDER BY o.created_at DESC LIMIT 1) AS current_owner \
    FROM dwellings d JOIN areas b ON b.id = d.building_id";

pub(super) fn dwelling_view(r: DwellingRow, owners: Option<Vec<Owner>>) -> Dwelling {
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

pub(super) async fn load_dwelling<C: ConnectionTrait>(c: &C, id: Uuid) -> AppResult<DwellingRow> {
    store::fetch_found(
        c,
        &format!("{DWELLING_SELECT} WHERE d.id = $1 AND d.deleted_at IS NULL"),
        vec![id.into()],
    )
    .await
}

pub(super) async fn owners_of<C: ConnectionTrait>(c: &C, dwelling: Uuid) -> AppResult<Vec<Owner>> {
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
pub(super) async fn address_of<C: ConnectionTrait>(
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

pub(super) async fn require_building<C: ConnectionTrait>(c: &C, id: Uuid) -> AppResult<()> {
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
    Entry::by(ctx, &checked, "dwelling.create", "dwelling", id)
        .area(at.area_id)
        .record(tx)
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
        Entry::by(ctx, &checked, "dwelling.read", "dwelling", id)
            .area(r.building_id)
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

pub(super) fn paging(q: &ListQuery) -> store::Paging {
    store::Paging::new(q.page, q.page_size)
}

#[tracing::instrument(name = "registry::households::list_dwellings", skip_all)]
pub async fn list_dwellings(db: &Db, ctx: &Ctx, q: &ListQuery) -> AppResult<(Vec<Dwelling>, i64)> {
    scope::require_any(ctx, Permission::ReadRegistry)?;
    let mut w = super::super::list_where(ctx, "d", "building_id", q.area_id);
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
        AppError::stale_unless_same(p.version, cur.version)?;
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
    AppError::stale_unless_changed(n)?;
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
    Entry::by(ctx, &checked, "dwelling.update", "dwelling", id)
        .area(cur.building_id)
        .fields(&f)
        .record(&tx)
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
    Entry::by(ctx, &checked, "dwelling.owner_change", "dwelling", id)
        .area(cur.building_id)
        .fields(&["owner"])
        .record(&tx)
        .await?;
    let row = load_dwelling(&tx, id).await?;
    let owners = owners_of(&tx, id).await?;
    tx.commit().await?;
    Ok(dwelling_view(row, Some(owners)))
}
