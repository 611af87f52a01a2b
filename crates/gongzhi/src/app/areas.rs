//! The area tree: browse, search, create, edit, move and delete, within the caller's scope.
//!
//! The tree is stored as an adjacency list (`parent_id`) plus a closure table (`area_closure`)
//! holding every ancestor–descendant pair. Subtree and scope checks are index lookups, and moving
//! a node rewrites only the closure rows of its subtree.
use std::sync::Arc;

use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::Entry;
use super::{scope, Ctx};
use crate::domain::area::{check_code, AreaKind};
use crate::domain::role::Permission;
use crate::domain::{clean_name, geo, ms_to_rfc3339, new_id, now_ms};
use crate::error::{map_unique, AppError, AppResult, FieldErrors, Msg};
use crate::store::sql::{Cond, Where};
use crate::store::{self, Db};

/// An area as listed (children, search results).
#[derive(Debug, Clone, Serialize, ToSchema, FromQueryResult)]
pub struct AreaSummary {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    /// city | district | street | community | grid | building
    pub kind: String,
    pub name: String,
    pub code: String,
    pub child_count: i32,
    pub version: i32,
}

/// One step of an area's path from the root.
#[derive(Debug, Clone, Serialize, ToSchema, FromQueryResult)]
pub struct AreaRef {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
}

/// An area with its boundary and path.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Area {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub kind: String,
    pub name: String,
    pub code: String,
    /// GeoJSON Polygon or MultiPolygon, or null.
    #[schema(value_type = Option<Object>)]
    pub boundary: Option<serde_json::Value>,
    pub child_count: i32,
    /// Ancestors from the root down to the parent.
    pub path: Vec<AreaRef>,
    pub version: i32,
    pub updated_at: String,
}

#[derive(Debug, FromQueryResult)]
struct AreaRow {
    id: Uuid,
    parent_id: Option<Uuid>,
    kind: String,
    #[allow(dead_code)]
    level: i16,
    name: String,
    code: String,
    boundary: Option<String>,
    child_count: i32,
    version: i32,
    updated_at: i64,
}

const COLS: &str =
    "id, parent_id, kind, level, name, code, boundary, child_count, version, updated_at";
const SUMMARY_COLS: &str = "id, parent_id, kind, name, code, child_count, version";

async fn load<C: ConnectionTrait>(c: &C, id: Uuid) -> AppResult<AreaRow> {
    store::fetch_found(
        c,
        &format!("SELECT {COLS} FROM areas WHERE id = $1"),
        vec![id.into()],
    )
    .await
}

async fn path_of<C: ConnectionTrait>(c: &C, id: Uuid) -> AppResult<Vec<AreaRef>> {
    Ok(store::fetch_all(
        c,
        "SELECT a.id, a.name, a.kind FROM area_closure c JOIN areas a ON a.id = c.ancestor_id \
         WHERE c.descendant_id = $1 AND c.depth > 0 ORDER BY c.depth DESC",
        vec![id.into()],
    )
    .await?)
}

async fn to_view<C: ConnectionTrait>(c: &C, r: AreaRow) -> AppResult<Area> {
    let path = path_of(c, r.id).await?;
    Ok(Area {
        id: r.id,
        parent_id: r.parent_id,
        kind: r.kind,
        name: r.name,
        code: r.code,
        boundary: r.boundary.and_then(|b| serde_json::from_str(&b).ok()),
        child_count: r.child_count,
        path,
        version: r.version,
        updated_at: ms_to_rfc3339(r.updated_at),
    })
}

/// The top areas the caller may browse: the roots for a system admin, otherwise the granted
/// areas that are not under another granted area.
#[tracing::instrument(name = "areas::roots", skip_all)]
pub async fn roots(db: &Db, ctx: &Ctx) -> AppResult<Vec<AreaSummary>> {
    match scope::granted_areas(ctx) {
        None => Ok(store::fetch_all(
            db,
            &format!("SELECT {SUMMARY_COLS} FROM areas WHERE parent_id IS NULL ORDER BY code"),
            vec![],
        )
        .await?),
        Some(ids) if ids.is_empty() => Ok(vec![]),
        Some(ids) => {
            let n = ids.len();
            let mut values: Vec<Value> = ids.iter().map(|i| Value::from(*i)).collect();
            values.extend(ids.iter().map(|i| Value::from(*i)));
            Ok(store::fetch_all(
                db,
                &format!(
                    "SELECT {SUMMARY_COLS} FROM areas WHERE id IN ({}) AND NOT EXISTS (\
                     SELECT 1 FROM area_closure c WHERE c.descendant_id = areas.id AND c.depth > 0 \
                     AND c.ancestor_id IN ({})) ORDER BY code",
                    store::placeholders(1, n),
                    store::placeholders(n + 1, n)
                ),
                values,
            )
            .await?)
        }
    }
}

#[tracing::instrument(name = "areas::get", skip_all)]
pub async fn get(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<Area> {
    scope::require_visible_read(db, ctx, id).await?;
    let row = load(db, id).await?;
    to_view(db, row).await
}

/// The children of an area (the hottest read of the console): scope from the cached ancestors,
/// the list from the instance's tree cache when fresh.
#[tracing::instrument(name = "areas::children", skip_all)]
pub async fn children(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<Arc<Vec<AreaSummary>>> {
    scope::require_visible_read(db, ctx, id).await?;
    if let Some(v) = ctx.tree.get_children(&id) {
        return Ok(v);
    }
    let rows: Vec<AreaSummary> = store::fetch_all(
        db,
        &format!("SELECT {SUMMARY_COLS} FROM areas WHERE parent_id = $1 ORDER BY code"),
        vec![id.into()],
    )
    .await?;
    if rows.is_empty() {
        load(db, id).await?;
    }
    let v = Arc::new(rows);
    ctx.tree.put_children(id, v.clone());
    Ok(v)
}

#[derive(Debug, Default, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Part of a name, or the beginning of a code.
    pub q: Option<String>,
    pub kind: Option<String>,
    /// Only areas under this one.
    pub under: Option<Uuid>,
    /// At most this many results (1–200, default 50).
    pub limit: Option<u32>,
}

/// A search result: the area and its path from the root.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AreaHit {
    #[serde(flatten)]
    pub area: AreaSummary,
    /// Ancestors from the root down to the parent.
    pub path: Vec<AreaRef>,
}

#[tracing::instrument(name = "areas::search", skip_all)]
pub async fn search(db: &Db, ctx: &Ctx, q: &SearchQuery) -> AppResult<Vec<AreaHit>> {
    let mut w = Where::new();
    let (scope_sql, scope_vals) = scope::filter_sql(ctx, "id", 1);
    w.and_cond(Cond::from_numbered(&scope_sql, scope_vals));
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        if text.chars().count() > 100 {
            return Err(AppError::field(
                "q",
                Msg::new("搜索词过长", "The search text is too long"),
            ));
        }
        let esc = store::like_escape(text);
        w.and(
            "(name LIKE ? ESCAPE '\\' OR code LIKE ? ESCAPE '\\')",
            [format!("%{esc}%").into(), format!("{esc}%").into()],
        );
    }
    if let Some(k) = q.kind.as_deref().filter(|s| !s.is_empty()) {
        let kind = AreaKind::parse(k).ok_or_else(|| {
            AppError::field("kind", Msg::new("未知的区域类型", "Unknown area kind"))
        })?;
        w.and("kind = ?", [kind.as_str().into()]);
    }
    if let Some(under) = q.under {
        w.and(
            "id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = ?)",
            [under.into()],
        );
    }
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let (cond, values) = w.build(1);
    let sql =
        format!("SELECT {SUMMARY_COLS} FROM areas WHERE {cond} ORDER BY level, code LIMIT {limit}");
    let rows: Vec<AreaSummary> = store::fetch_all(db, &sql, values).await?;
    // Each hit's path, so identically named areas (8 × 第2网格) can be told apart.
    let mut paths: std::collections::HashMap<Uuid, Vec<AreaRef>> = Default::default();
    if !rows.is_empty() {
        #[derive(FromQueryResult)]
        struct P {
            descendant_id: Uuid,
            id: Uuid,
            name: String,
            kind: String,
        }
        let ids: Vec<Value> = rows.iter().map(|r| Value::from(r.id)).collect();
        let sql = format!(
            "SELECT c.descendant_id, a.id, a.name, a.kind FROM area_closure c JOIN areas a ON a.id = c.ancestor_id \
             WHERE c.descendant_id IN ({}) AND c.depth > 0 ORDER BY c.descendant_id, c.depth DESC",
            store::placeholders(1, ids.len())
        );
        for p in store::fetch_all::<P, _>(db, &sql, ids).await? {
            paths.entry(p.descendant_id).or_default().push(AreaRef {
                id: p.id,
                name: p.name,
                kind: p.kind,
            });
        }
    }
    Ok(rows
        .into_iter()
        .map(|area| AreaHit {
            path: paths.remove(&area.id).unwrap_or_default(),
            area,
        })
        .collect())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewArea {
    /// Required for every kind but `city`.
    pub parent_id: Option<Uuid>,
    pub kind: String,
    pub name: String,
    pub code: String,
    #[schema(value_type = Option<Object>)]
    pub boundary: Option<serde_json::Value>,
}

fn check_boundary_field(b: &Option<serde_json::Value>, errs: &mut FieldErrors) -> Option<String> {
    match b {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => match geo::check_boundary(v) {
            Ok(norm) => Some(norm.to_string()),
            Err(m) => {
                errs.insert("boundary".into(), m);
                None
            }
        },
    }
}

#[tracing::instrument(name = "areas::create", skip_all)]
pub async fn create(db: &Db, ctx: &Ctx, input: NewArea) -> AppResult<Area> {
    let mut errs = FieldErrors::new();
    let kind = AreaKind::parse(&input.kind);
    if kind.is_none() {
        errs.insert(
            "kind".into(),
            Msg::new("未知的区域类型", "Unknown area kind"),
        );
    }
    let name = clean_name(&input.name, 100)
        .map_err(|m| errs.insert("name".into(), m))
        .ok();
    let code = input.code.trim().to_string();
    let boundary = check_boundary_field(&input.boundary, &mut errs);
    let Some(kind) = kind else {
        return Err(AppError::Validation(errs));
    };

    // The parent decides scope and permission.
    let mut checked = None;
    let parent = match (kind.parent_kind(), input.parent_id) {
        (None, Some(_)) => {
            errs.insert(
                "parent_id".into(),
                Msg::new("省级区域不能有上级", "A province has no parent"),
            );
            None
        }
        (Some(_), None) if kind.may_be_root() => None,
        (Some(_), None) => {
            errs.insert(
                "parent_id".into(),
                Msg::new("请选择上级区域", "Choose the parent area"),
            );
            None
        }
        (None, None) => None,
        (Some(pk), Some(pid)) => {
            checked = Some(scope::require_permission(db, ctx, Permission::EditAreas, pid).await?);
            let p = load(db, pid).await?;
            if p.kind != pk.as_str() {
                errs.insert(
                    "parent_id".into(),
                    Msg::owned(
                        format!("{}只能建在{}之下", kind.label_zh(), pk.label_zh()),
                        format!("A {} must sit under a {}", kind.as_str(), pk.as_str()),
                    ),
                );
            }
            Some(p)
        }
    };
    if parent.is_none() && kind.may_be_root() {
        // A new root (a province, or a city without one) is the system admin's.
        checked = Some(scope::require_global(ctx, Permission::ManageSystem)?);
    }
    if let Err(m) = check_code(kind, &code, parent.as_ref().map(|p| p.code.as_str())) {
        errs.insert("code".into(), m);
    }
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    // Checked above: the parent's area, or a new root's system-wide permission.
    let checked = checked.ok_or_else(AppError::forbidden)?;
    let name = name.unwrap_or_default();

    let id = new_id();
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    if let Some(p) = &parent {
        let dup = store::fetch_i64(
            &tx,
            "SELECT COUNT(*) FROM areas WHERE parent_id = $1 AND name = $2",
            vec![p.id.into(), name.clone().into()],
        )
        .await?;
        if dup > 0 {
            return Err(AppError::conflict_on(
                "name",
                Msg::new(
                    "同一上级下已有同名区域",
                    "An area with this name already exists under the same parent",
                ),
            ));
        }
    }
    store::exec(
        &tx,
        "INSERT INTO areas (id, parent_id, kind, level, name, code, boundary, child_count, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 1, $8, $8)",
        vec![
            id.into(),
            input.parent_id.filter(|_| parent.is_some()).into(),
            kind.as_str().into(),
            (kind.level() as i16).into(),
            name.clone().into(),
            code.clone().into(),
            boundary.into(),
            now.into(),
        ],
    )
    .await
    .map_err(|e| map_unique(e, "code", Msg::new("该编码已被使用", "This code is already in use")))?;
    insert_closure(&tx, id, parent.as_ref().map(|p| p.id)).await?;
    if let Some(p) = &parent {
        store::adjust_child_count(&tx, "areas", p.id, 1).await?;
    }
    Entry::by(ctx, &checked, "area.create", "area", id)
        .fields(&["kind", "name", "code", "boundary"])
        .area(id)
        .record(&tx)
        .await?;
    let row = load(&tx, id).await?;
    let view = to_view(&tx, row).await?;
    tx.commit().await?;
    ctx.tree.clear();
    Ok(view)
}

/// Adds the closure rows of a new leaf.
#[tracing::instrument(name = "areas::insert_closure", skip_all)]
pub async fn insert_closure<C: ConnectionTrait>(
    c: &C,
    id: Uuid,
    parent: Option<Uuid>,
) -> AppResult<()> {
    store::exec(
        c,
        "INSERT INTO area_closure (ancestor_id, descendant_id, depth) VALUES ($1, $1, 0)",
        vec![id.into()],
    )
    .await?;
    if let Some(pid) = parent {
        store::exec(
            c,
            "INSERT INTO area_closure (ancestor_id, descendant_id, depth) \
             SELECT ancestor_id, $1, depth + 1 FROM area_closure WHERE descendant_id = $2",
            vec![id.into(), pid.into()],
        )
        .await?;
    }
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AreaPatch {
    /// The version you read; a stale one gets 409.
    pub version: i32,
    pub name: Option<String>,
    pub code: Option<String>,
    /// A GeoJSON Polygon/MultiPolygon; `null` removes the boundary; absent leaves it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Object>)]
    pub boundary: Option<Option<serde_json::Value>>,
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Some(Option::deserialize(d)?))
}

#[tracing::instrument(name = "areas::update", skip_all)]
pub async fn update(db: &Db, ctx: &Ctx, id: Uuid, patch: AreaPatch) -> AppResult<Area> {
    let checked = scope::require_permission(db, ctx, Permission::EditAreas, id).await?;
    let cur = load(db, id).await?;
    let kind = AreaKind::parse(&cur.kind).ok_or_else(|| AppError::internal("bad kind in db"))?;
    let mut errs = FieldErrors::new();
    let mut changed: Vec<&str> = vec![];
    let name = match &patch.name {
        Some(n) => match clean_name(n, 100) {
            Ok(n) => {
                changed.push("name");
                n
            }
            Err(m) => {
                errs.insert("name".into(), m);
                cur.name.clone()
            }
        },
        None => cur.name.clone(),
    };
    let code = match &patch.code {
        Some(c) if c.trim() != cur.code => {
            let c = c.trim().to_string();
            let parent_code = match cur.parent_id {
                Some(pid) => Some(load(db, pid).await?.code),
                None => None,
            };
            if let Err(m) = check_code(kind, &c, parent_code.as_deref()) {
                errs.insert("code".into(), m);
            } else if cur.child_count > 0 {
                errs.insert(
                    "code".into(),
                    Msg::new(
                        "该区域有下级区域，不能修改编码（可先移动下级）",
                        "This area has sub-areas; its code cannot change",
                    ),
                );
            }
            changed.push("code");
            c
        }
        _ => cur.code.clone(),
    };
    let boundary = match &patch.boundary {
        None => cur.boundary.clone(),
        Some(b) => {
            changed.push("boundary");
            check_boundary_field(b, &mut errs)
        }
    };
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    // Nothing to change: no write, no new version, no audit row.
    if name == cur.name && code == cur.code && boundary == cur.boundary {
        AppError::stale_unless_same(patch.version, cur.version)?;
        return to_view(db, cur).await;
    }
    let tx = store::write_tx(db).await?;
    if name != cur.name {
        if let Some(pid) = cur.parent_id {
            let dup = store::fetch_i64(
                &tx,
                "SELECT COUNT(*) FROM areas WHERE parent_id = $1 AND name = $2 AND id <> $3",
                vec![pid.into(), name.clone().into(), id.into()],
            )
            .await?;
            if dup > 0 {
                return Err(AppError::conflict_on(
                    "name",
                    Msg::new(
                        "同一上级下已有同名区域",
                        "An area with this name already exists under the same parent",
                    ),
                ));
            }
        }
    }
    let n = store::exec(
        &tx,
        "UPDATE areas SET name = $1, code = $2, boundary = $3, version = version + 1, updated_at = $4 \
         WHERE id = $5 AND version = $6",
        vec![name.into(), code.into(), boundary.into(), now_ms().into(), id.into(), patch.version.into()],
    )
    .await
    .map_err(|e| map_unique(e, "code", Msg::new("该编码已被使用", "This code is already in use")))?;
    AppError::stale_unless_changed(n)?;
    Entry::by(ctx, &checked, "area.update", "area", id)
        .fields(&changed)
        .area(id)
        .record(&tx)
        .await?;
    let view = to_view(&tx, load(&tx, id).await?).await?;
    tx.commit().await?;
    ctx.tree.clear();
    Ok(view)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveArea {
    pub new_parent_id: Uuid,
    pub version: i32,
    /// The node's code under its new parent; if absent, the next free code there is assigned.
    /// Codes in the moved subtree are rewritten to the new prefix.
    pub new_code: Option<String>,
}

/// Length of the code prefix a node passes on to its descendants.
fn inherited_prefix_len(kind: AreaKind) -> usize {
    match kind {
        AreaKind::Province => 2,
        AreaKind::City => 4,
        AreaKind::District => 6,
        AreaKind::Street => 9,
        AreaKind::Community => 12,
        AreaKind::Grid => 15,
        AreaKind::Building => 18,
    }
}

/// The next free code for a new child of `kind` under `parent`.
#[tracing::instrument(name = "areas::next_code", skip_all)]
pub async fn next_code<C: ConnectionTrait>(
    c: &C,
    kind: AreaKind,
    parent_code: &str,
) -> AppResult<String> {
    let (start, end) = match kind {
        AreaKind::Province => (0, 2),
        AreaKind::City => (2, 4),
        AreaKind::District => (4, 6),
        AreaKind::Street => (6, 9),
        AreaKind::Community => (9, 12),
        AreaKind::Grid => (12, 15),
        AreaKind::Building => (15, 18),
    };
    let prefix = &parent_code[..start.min(parent_code.len())];
    #[derive(FromQueryResult)]
    struct C1 {
        code: String,
    }
    let rows: Vec<C1> = store::fetch_all(
        c,
        "SELECT code FROM areas WHERE kind = $1 AND code LIKE $2",
        vec![kind.as_str().into(), format!("{prefix}%").into()],
    )
    .await?;
    let max = rows
        .iter()
        .filter_map(|r| r.code.get(start..end).and_then(|s| s.parse::<u32>().ok()))
        .max()
        .unwrap_or(0);
    let width = end - start;
    let next = max + 1;
    if next >= 10u32.pow(width as u32) {
        return Err(AppError::conflict(
            "conflict",
            Msg::new("上级下的编码已用尽", "No free code left under this parent"),
        ));
    }
    let tail_zeros = match kind {
        AreaKind::Province | AreaKind::City | AreaKind::District | AreaKind::Street => 12 - end,
        _ => 0,
    };
    Ok(format!("{prefix}{next:0width$}{}", "0".repeat(tail_zeros)))
}

#[tracing::instrument(name = "areas::move_to", skip_all)]
pub async fn move_to(db: &Db, ctx: &Ctx, id: Uuid, m: MoveArea) -> AppResult<Area> {
    scope::require_permission(db, ctx, Permission::EditAreas, id).await?;
    let checked =
        scope::require_permission(db, ctx, Permission::EditAreas, m.new_parent_id).await?;
    let cur = load(db, id).await?;
    let kind = AreaKind::parse(&cur.kind).ok_or_else(|| AppError::internal("bad kind in db"))?;
    let newp = load(db, m.new_parent_id).await?;
    check_move(db, kind, id, &newp).await?;
    if cur.parent_id == Some(newp.id) {
        return to_view(db, cur).await;
    }
    let tx = store::write_tx(db).await?;
    let new_code = match m
        .new_code
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(c) => {
            check_code(kind, c, Some(&newp.code)).map_err(|e| AppError::field("new_code", e))?;
            c.to_string()
        }
        None => next_code(&tx, kind, &newp.code).await?,
    };
    let dup = store::fetch_i64(
        &tx,
        "SELECT COUNT(*) FROM areas WHERE parent_id = $1 AND name = $2",
        vec![newp.id.into(), cur.name.clone().into()],
    )
    .await?;
    if dup > 0 {
        return Err(AppError::conflict_on(
            "name",
            Msg::new(
                "目标上级下已有同名区域",
                "An area with this name already exists under the new parent",
            ),
        ));
    }
    let n = store::exec(
        &tx,
        "UPDATE areas SET version = version + 1, parent_id = $1, updated_at = $2 WHERE id = $3 AND version = $4",
        vec![newp.id.into(), now_ms().into(), id.into(), m.version.into()],
    )
    .await?;
    AppError::stale_unless_changed(n)?;
    reattach(&tx, id, cur.parent_id, newp.id).await?;
    if new_code != cur.code {
        recode(&tx, id, kind, &cur.code, &new_code).await?;
    }
    Entry::by(ctx, &checked, "area.move", "area", id)
        .fields(&["parent_id", "code"])
        .area(id)
        .detail(format!(
            "{} -> {}",
            cur.parent_id.map(|p| p.to_string()).unwrap_or_default(),
            newp.id
        ))
        .record(&tx)
        .await?;
    let view = to_view(&tx, load(&tx, id).await?).await?;
    tx.commit().await?;
    ctx.tree.clear();
    Ok(view)
}

/// A move is to a parent of the kind just above, and not into the moved subtree.
async fn check_move(db: &Db, kind: AreaKind, id: Uuid, newp: &AreaRow) -> AppResult<()> {
    let Some(pk) = kind.parent_kind() else {
        return Err(AppError::field(
            "new_parent_id",
            Msg::new(
                "市级区域不能移动到其他区域下",
                "A city cannot be moved under another area",
            ),
        ));
    };
    if newp.kind != pk.as_str() {
        return Err(AppError::field(
            "new_parent_id",
            Msg::owned(
                format!("{}只能移动到{}之下", kind.label_zh(), pk.label_zh()),
                format!("A {} can only move under a {}", kind.as_str(), pk.as_str()),
            ),
        ));
    }
    // No cycles: the new parent must not lie in the moved subtree.
    if scope::is_under(db, newp.id, &[id]).await? {
        return Err(AppError::field(
            "new_parent_id",
            Msg::new(
                "不能移动到自身或其下级之下",
                "An area cannot move under itself or its own sub-areas",
            ),
        ));
    }
    Ok(())
}

/// Detaches the subtree of `id` from its old ancestors and attaches it under `new_parent` (the
/// closure rows), and moves one child from the old parent's count to the new one's.
async fn reattach<C: ConnectionTrait>(
    c: &C,
    id: Uuid,
    old_parent: Option<Uuid>,
    new_parent: Uuid,
) -> AppResult<()> {
    store::exec(
        c,
        "DELETE FROM area_closure WHERE descendant_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = $1) \
         AND ancestor_id IN (SELECT ancestor_id FROM area_closure WHERE descendant_id = $1 AND depth > 0)",
        vec![id.into()],
    )
    .await?;
    store::exec(
        c,
        "INSERT INTO area_closure (ancestor_id, descendant_id, depth) \
         SELECT a.ancestor_id, d.descendant_id, a.depth + d.depth + 1 \
         FROM area_closure a CROSS JOIN area_closure d WHERE a.descendant_id = $1 AND d.ancestor_id = $2",
        vec![new_parent.into(), id.into()],
    )
    .await?;
    store::adjust_child_count(c, "areas", old_parent, -1).await?;
    store::adjust_child_count(c, "areas", new_parent, 1).await?;
    Ok(())
}

/// Gives the moved area `new_code` and its subtree the new prefix.
async fn recode<C: ConnectionTrait>(
    c: &C,
    id: Uuid,
    kind: AreaKind,
    old_code: &str,
    new_code: &str,
) -> AppResult<()> {
    let collides = || {
        Msg::new(
            "新编码与已有区域冲突",
            "The new code collides with an existing area",
        )
    };
    let plen = inherited_prefix_len(kind);
    let old_prefix = &old_code[..plen.min(old_code.len())];
    let new_prefix = &new_code[..plen.min(new_code.len())];
    store::exec(
        c,
        "UPDATE areas SET code = $1 || substr(code, $2) \
         WHERE id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = $3) AND code LIKE $4",
        vec![
            new_prefix.to_string().into(),
            ((plen + 1) as i32).into(),
            id.into(),
            format!("{old_prefix}%").into(),
        ],
    )
    .await
    .map_err(|e| map_unique(e, "new_code", collides()))?;
    store::exec(
        c,
        "UPDATE areas SET code = $1 WHERE id = $2",
        vec![new_code.to_string().into(), id.into()],
    )
    .await
    .map_err(|e| map_unique(e, "new_code", collides()))?;
    Ok(())
}

/// Records that name an area without a foreign key (the large tables keyed by area), and why that
/// stops its deletion; the other references are foreign keys (409 `conflict.reference`).
const HOLDING: [(&str, Msg); 5] = [
    (
        "SELECT COUNT(*) FROM (SELECT 1 FROM dwellings WHERE building_id = $1 LIMIT 1) t",
        Msg::new("该区域还有房屋，不能删除", "This area still has dwellings"),
    ),
    (
        "SELECT COUNT(*) FROM (SELECT 1 FROM households WHERE area_id = $1 LIMIT 1) t",
        Msg::new("该区域还有住户，不能删除", "This area still has households"),
    ),
    (
        "SELECT COUNT(*) FROM (SELECT 1 FROM persons WHERE area_id = $1 LIMIT 1) t",
        Msg::new(
            "该区域还有居民档案，不能删除",
            "This area still has residents' records",
        ),
    ),
    (
        "SELECT COUNT(*) FROM (SELECT 1 FROM legal_entities WHERE area_id = $1 LIMIT 1) t",
        Msg::new(
            "该区域还有法人单位，不能删除",
            "This area still has legal entities",
        ),
    ),
    (
        "SELECT COUNT(*) FROM (SELECT 1 FROM cases WHERE area_id = $1 LIMIT 1) t",
        Msg::new("该区域还有诉求，不能删除", "This area still has cases"),
    ),
];

/// 409 with the reason when dwellings, households, residents, entities or cases still lie in the
/// area (deleting it would leave them nowhere).
async fn refuse_if_holding_records<C: ConnectionTrait>(c: &C, id: Uuid) -> AppResult<()> {
    for (sql, msg) in HOLDING {
        if store::fetch_i64(c, sql, vec![id.into()]).await? > 0 {
            return Err(AppError::conflict("conflict", msg));
        }
    }
    Ok(())
}

#[tracing::instrument(name = "areas::delete", skip_all)]
pub async fn delete(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<()> {
    let mut checked = scope::require_permission(db, ctx, Permission::EditAreas, id).await?;
    let cur = load(db, id).await?;
    if cur.parent_id.is_none() {
        checked = scope::require_global(ctx, Permission::ManageSystem)?;
    }
    if cur.child_count > 0 {
        return Err(AppError::conflict(
            "conflict",
            Msg::new(
                "该区域还有下级区域，不能删除",
                "This area still has sub-areas",
            ),
        ));
    }
    let tx = store::write_tx(db).await?;
    let refs = store::fetch_i64(
        &tx,
        "SELECT (SELECT COUNT(*) FROM grants WHERE area_id = $1) + (SELECT COUNT(*) FROM party_orgs WHERE area_id = $1) \
         + (SELECT COUNT(*) FROM party_org_links WHERE area_id = $1)",
        vec![id.into()],
    )
    .await?;
    if refs > 0 {
        return Err(AppError::conflict(
            "conflict",
            Msg::new(
                "该区域仍被授权或党组织引用，不能删除",
                "This area is still used by grants or party organisations",
            ),
        ));
    }
    refuse_if_holding_records(&tx, id).await?;
    store::exec(
        &tx,
        "DELETE FROM area_closure WHERE descendant_id = $1",
        vec![id.into()],
    )
    .await?;
    let n = store::exec(
        &tx,
        "DELETE FROM areas WHERE id = $1 AND child_count = 0",
        vec![id.into()],
    )
    .await?;
    AppError::stale_unless_changed(n)?;
    store::adjust_child_count(&tx, "areas", cur.parent_id, -1).await?;
    Entry::by(ctx, &checked, "area.delete", "area", id)
        .area(cur.parent_id)
        .detail(format!("{} {}", cur.code, cur.name))
        .record(&tx)
        .await?;
    tx.commit().await?;
    ctx.tree.clear();
    Ok(())
}
