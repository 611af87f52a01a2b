//! Importing the area tree (省/市/区/街道/社区/网格/楼栋) from a GeoJSON FeatureCollection with
//! boundaries, or from a sheet (编码, 名称, 类型, 上级编码) without. Kinds and parents may be left
//! out: both follow from the statistical code (12 digits down to the community, then 3 more per
//! grid and building). A dry run names every problem by row; a commit writes the whole tree in one
//! transaction, parents first, or nothing. An existing code is updated (name, boundary) when it
//! changed, so the same file can be imported again after an edit.
use std::collections::{HashMap, HashSet};

use sea_orm::FromQueryResult;
use serde::Serialize;
use serde_json::Value as Json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::Entry;
use super::registry::transfer::RowProblem;
use super::{scope, AppState, Ctx};
use crate::domain::area::{check_code, AreaKind};
use crate::domain::role::Permission;
use crate::domain::{clean_name, geo, new_id, now_ms};
use crate::error::{AppError, AppResult, Msg};
use crate::store;

/// The largest file accepted: a street's buildings with boundaries fit in a few MiB.
pub const MAX_FILE: usize = 32 << 20;
/// Areas per file.
pub const MAX_ROWS: usize = 50_000;

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct AreaImportReport {
    /// dry_run | committed | rejected
    pub status: String,
    /// geojson | csv | xlsx
    pub format: String,
    pub rows: u64,
    pub ok_rows: u64,
    pub error_rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// New areas by kind, e.g. {"community": 12, "grid": 40}.
    pub by_kind: std::collections::BTreeMap<String, u64>,
    pub problems: Vec<RowProblem>,
}

/// One area as read from the file.
struct Item {
    row: u64,
    code: String,
    name: String,
    kind: Option<String>,
    parent_code: Option<String>,
    boundary: Option<Json>,
}

/// The kind a statistical code stands for.
pub fn kind_of_code(code: &str) -> Option<AreaKind> {
    let zeros = |from: usize| code[from..].bytes().all(|b| b == b'0');
    match code.len() {
        18 => Some(AreaKind::Building),
        15 => Some(AreaKind::Grid),
        12 if zeros(2) => Some(AreaKind::Province),
        12 if zeros(4) => Some(AreaKind::City),
        12 if zeros(6) => Some(AreaKind::District),
        12 if zeros(9) => Some(AreaKind::Street),
        12 => Some(AreaKind::Community),
        _ => None,
    }
}

/// The code of the parent a code implies (`None` for a province).
pub fn parent_code_of(kind: AreaKind, code: &str) -> Option<String> {
    let keep = |n: usize| format!("{}{}", &code[..n], "0".repeat(12 - n));
    match kind {
        AreaKind::Province => None,
        AreaKind::City => Some(keep(2)),
        AreaKind::District => Some(keep(4)),
        AreaKind::Street => Some(keep(6)),
        AreaKind::Community => Some(keep(9)),
        AreaKind::Grid => Some(code[..12].to_string()),
        AreaKind::Building => Some(code[..15].to_string()),
    }
}

fn kind_by_word(s: &str) -> Option<AreaKind> {
    let s = s.trim();
    AreaKind::ALL
        .into_iter()
        .find(|k| k.as_str().eq_ignore_ascii_case(s) || k.label_zh() == s)
}

fn text(v: Option<&Json>) -> Option<String> {
    match v? {
        Json::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads the features of a GeoJSON FeatureCollection.
fn read_geojson(bytes: &[u8]) -> AppResult<Vec<Item>> {
    let v: Json = serde_json::from_slice(bytes).map_err(|e| {
        AppError::field(
            "file",
            Msg::owned(
                format!("GeoJSON 无法解析：第 {} 行第 {} 列", e.line(), e.column()),
                format!(
                    "The GeoJSON cannot be read: line {}, column {}",
                    e.line(),
                    e.column()
                ),
            ),
        )
    })?;
    let Some(features) = v
        .get("features")
        .and_then(Json::as_array)
        .filter(|_| v.get("type").and_then(Json::as_str) == Some("FeatureCollection"))
    else {
        return Err(AppError::field(
            "file",
            Msg::new(
                "应为 GeoJSON FeatureCollection（features 数组）",
                "Expected a GeoJSON FeatureCollection (a features array)",
            ),
        ));
    };
    let mut out = Vec::with_capacity(features.len());
    for (i, f) in features.iter().enumerate() {
        let p = f.get("properties").cloned().unwrap_or(Json::Null);
        let get = |keys: &[&str]| keys.iter().find_map(|k| text(p.get(*k)));
        out.push(Item {
            row: i as u64 + 1,
            code: get(&["code", "编码", "区划代码"]).unwrap_or_default(),
            name: get(&["name", "名称"]).unwrap_or_default(),
            kind: get(&["kind", "类型"]),
            parent_code: get(&["parent_code", "上级编码"]),
            boundary: f.get("geometry").filter(|g| !g.is_null()).cloned(),
        });
    }
    Ok(out)
}

/// Reads a sheet with the columns 编码, 名称, and optionally 类型, 上级编码.
fn read_sheet(text: &str) -> AppResult<Vec<Item>> {
    use crate::sheet::TableRow;
    let columns = [
        ("编码", "code", true),
        ("名称", "name", true),
        ("类型", "kind", false),
        ("上级编码", "parent_code", false),
    ];
    let some = |s: &String| Some(s.clone()).filter(|s| !s.is_empty());
    Ok(crate::sheet::read_columns(text, &columns)?
        .into_iter()
        .filter_map(|line| match line {
            TableRow::Cells { row, cells } => Some(Item {
                row,
                code: cells[0].clone(),
                name: cells[1].clone(),
                kind: some(&cells[2]),
                parent_code: some(&cells[3]),
                boundary: None,
            }),
            TableRow::Unreadable { .. } => None,
        })
        .collect())
}

#[derive(FromQueryResult, Clone)]
struct Existing {
    id: Uuid,
    kind: String,
    name: String,
    boundary: Option<String>,
    parent_id: Option<Uuid>,
}

/// A row that passed its checks.
struct Good {
    row: u64,
    code: String,
    name: String,
    kind: AreaKind,
    parent_code: Option<String>,
    boundary: Option<String>,
    /// The existing area of this code, if any.
    existing: Option<Existing>,
}

/// The gate an upload passes before its body is read: the caller edits areas somewhere (each row
/// is then checked against its own area).
pub fn admit(ctx: &Ctx) -> AppResult<scope::Checked> {
    scope::require_any(ctx, Permission::EditAreas)
}

/// The area sheet's template (CSV, UTF-8 with BOM), for those who may import areas.
pub fn template(ctx: &Ctx) -> AppResult<&'static str> {
    admit(ctx)?;
    Ok("\u{feff}编码,名称,类型,上级编码\n130602001003,向阳社区,社区,130602001000\n130602001003001,第一网格,网格,\n")
}

#[tracing::instrument(name = "area_import::run", skip_all)]
pub async fn run(
    state: &AppState,
    ctx: &Ctx,
    admitted: scope::Checked,
    bytes: &[u8],
    commit: bool,
) -> AppResult<AreaImportReport> {
    let mut report = AreaImportReport {
        status: "dry_run".into(),
        ..Default::default()
    };
    let items = read_items(state, bytes, &mut report)?;
    report.rows = items.len() as u64;
    let existing = existing_areas(&state.db, &items).await?;
    let file_kinds: HashMap<String, AreaKind> = items
        .iter()
        .filter_map(|i| {
            let k = i
                .kind
                .as_deref()
                .and_then(kind_by_word)
                .or_else(|| kind_of_code(&i.code))?;
            Some((i.code.clone(), k))
        })
        .collect();
    let mut seen: HashSet<String> = HashSet::new();
    let mut good: Vec<Good> = vec![];
    let mut bad_codes: HashSet<String> = HashSet::new();
    let mut problems: Vec<(u64, &str, Msg)> = vec![];
    for it in &items {
        match check_item(state, ctx, it, &file_kinds, &existing, &mut seen).await? {
            Ok(g) => good.push(g),
            Err(p) => {
                bad_codes.insert(it.code.clone());
                problems.extend(p.into_iter().map(|(c, m)| (it.row, c, m)));
            }
        }
    }
    drop_orphans(&mut good, &mut bad_codes, &mut problems);
    same_name_twice(&good, &mut problems);
    tally(&mut report, &good, problems);
    if !commit {
        return Ok(report);
    }
    if report.error_rows > 0 {
        report.status = "rejected".into();
        return Ok(report);
    }
    write(state, ctx, &admitted, good, &existing).await?;
    ctx.tree.clear();
    report.status = "committed".into();
    Ok(report)
}

/// The file's areas (GeoJSON, or a sheet), with the format noted in the report.
fn read_items(
    state: &AppState,
    bytes: &[u8],
    report: &mut AreaImportReport,
) -> AppResult<Vec<Item>> {
    let trimmed = {
        let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let start = b
            .iter()
            .position(|c| !c.is_ascii_whitespace())
            .unwrap_or(b.len());
        &b[start..]
    };
    if trimmed.is_empty() {
        return Err(AppError::field(
            "file",
            Msg::new("文件为空", "The file is empty"),
        ));
    }
    let items = if trimmed.starts_with(b"{") {
        report.format = "geojson".into();
        read_geojson(trimmed)?
    } else {
        report.format = if crate::sheet::looks_like_zip(bytes) {
            "xlsx"
        } else {
            "csv"
        }
        .into();
        let text =
            crate::sheet::upload_text(&state.settings.data_dir, &state.settings.sheet, bytes)?;
        read_sheet(&text)?
    };
    if items.is_empty() {
        return Err(AppError::field(
            "file",
            Msg::new("文件中没有区域", "The file has no areas"),
        ));
    }
    if items.len() > MAX_ROWS {
        return Err(AppError::field(
            "file",
            Msg::owned(
                format!("一次最多导入 {MAX_ROWS} 个区域"),
                format!("At most {MAX_ROWS} areas per file"),
            ),
        ));
    }
    Ok(items)
}

/// The areas the file names (by code) and those it implies as parents, as they are now.
async fn existing_areas(db: &store::Db, items: &[Item]) -> AppResult<HashMap<String, Existing>> {
    let mut wanted: Vec<String> = items.iter().map(|i| i.code.clone()).collect();
    wanted.extend(items.iter().filter_map(|i| i.parent_code.clone()));
    wanted.extend(
        items
            .iter()
            .filter_map(|i| kind_of_code(&i.code).and_then(|k| parent_code_of(k, &i.code))),
    );
    wanted.sort();
    wanted.dedup();
    let mut existing: HashMap<String, Existing> = HashMap::new();
    for chunk in wanted.chunks(500) {
        #[derive(FromQueryResult)]
        struct E {
            code: String,
            id: Uuid,
            kind: String,
            name: String,
            boundary: Option<String>,
            parent_id: Option<Uuid>,
        }
        let rows: Vec<E> = store::fetch_all(
            db,
            &format!(
                "SELECT code, id, kind, name, boundary, parent_id FROM areas WHERE code IN ({})",
                store::placeholders(1, chunk.len())
            ),
            chunk.iter().map(|c| c.clone().into()).collect(),
        )
        .await?;
        for e in rows {
            existing.insert(
                e.code,
                Existing {
                    id: e.id,
                    kind: e.kind,
                    name: e.name,
                    boundary: e.boundary,
                    parent_id: e.parent_id,
                },
            );
        }
    }
    Ok(existing)
}

/// Checks one row: the area to create or update, or the row's problems by column. The parent must
/// be in the file or the tree, of the kind above, and in the caller's scope; a root (a province, a
/// city standing alone) is the system admin's.
async fn check_item(
    state: &AppState,
    ctx: &Ctx,
    it: &Item,
    file_kinds: &HashMap<String, AreaKind>,
    existing: &HashMap<String, Existing>,
    seen: &mut HashSet<String>,
) -> AppResult<Result<Good, Vec<(&'static str, Msg)>>> {
    let mut p: Vec<(&str, Msg)> = vec![];
    let name = clean_name(&it.name, 100)
        .map_err(|m| p.push(("名称", m)))
        .ok();
    let code = it.code.clone();
    if code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit()) {
        p.push(("编码", Msg::new("编码应为数字", "The code must be digits")));
    } else if !seen.insert(code.clone()) {
        p.push(("编码", Msg::new("与前面的行重复", "Repeats an earlier row")));
    }
    let kind = match &it.kind {
        Some(k) => match kind_by_word(k) {
            Some(k) => Some(k),
            None => {
                p.push(("类型", Msg::new("未知的区域类型（省、市、区、街道、社区、网格、楼栋）", "Unknown kind (province, city, district, street, community, grid, building)")));
                None
            }
        },
        None if p.is_empty() => match kind_of_code(&code) {
            Some(k) => Some(k),
            None => {
                p.push(("编码", Msg::new("编码应为 12 位（社区及以上）、15 位（网格）或 18 位（楼栋）", "The code must have 12 digits (community and above), 15 (grid) or 18 (building)")));
                None
            }
        },
        None => None,
    };
    let boundary = match &it.boundary {
        None => None,
        Some(g) => match geo::check_boundary(g) {
            Ok(v) => Some(v.to_string()),
            Err(m) => {
                p.push(("边界", m));
                None
            }
        },
    };
    let mut parent_code = None;
    if let (Some(kind), true) = (kind, p.is_empty()) {
        parent_code = it
            .parent_code
            .clone()
            .or_else(|| parent_code_of(kind, &code));
        // A city may stand alone when the file and the tree have no province above it.
        if kind == AreaKind::City
            && it.parent_code.is_none()
            && parent_code
                .as_ref()
                .is_some_and(|pc| !file_kinds.contains_key(pc) && !existing.contains_key(pc))
        {
            parent_code = None;
        }
        if let Err(m) = check_code(kind, &code, parent_code.as_deref()) {
            p.push(("编码", m));
        }
        check_parent(
            state,
            ctx,
            kind,
            parent_code.as_deref(),
            file_kinds,
            existing,
            &mut p,
        )
        .await;
    }
    let ex = existing.get(&code).cloned();
    if let (Some(e), Some(kind)) = (&ex, kind) {
        if e.kind != kind.as_str() {
            p.push((
                "编码",
                Msg::new(
                    "该编码已属于另一类型的区域",
                    "This code belongs to an area of another kind",
                ),
            ));
        } else if scope::require_permission(&state.db, ctx, Permission::EditAreas, e.id)
            .await
            .is_err()
        {
            p.push((
                "编码",
                Msg::new(
                    "该区域不在您可维护的范围内",
                    "This area is outside the areas you may edit",
                ),
            ));
        }
    }
    Ok(match (p.is_empty(), name, kind) {
        (true, Some(name), Some(kind)) => Ok(Good {
            row: it.row,
            code,
            name,
            kind,
            parent_code,
            boundary,
            existing: ex,
        }),
        _ => Err(p),
    })
}

/// The row's parent: needed unless the kind may be a root (and then only a system admin may
/// create it), in the file or the system, of the kind just above, and within the areas the
/// caller may edit.
async fn check_parent(
    state: &AppState,
    ctx: &Ctx,
    kind: AreaKind,
    parent_code: Option<&str>,
    file_kinds: &HashMap<String, AreaKind>,
    existing: &HashMap<String, Existing>,
    p: &mut Vec<(&'static str, Msg)>,
) {
    match parent_code {
        None if !kind.may_be_root() => p.push((
            "上级编码",
            Msg::owned(
                format!("{}需要上级区域", kind.label_zh()),
                format!("A {} needs a parent", kind.as_str()),
            ),
        )),
        None => {
            if scope::require_global(ctx, Permission::ManageSystem).is_err() {
                p.push((
                    "编码",
                    Msg::new(
                        "只有系统管理员可以建立省、市根区域",
                        "Only a system admin can create root areas",
                    ),
                ));
            }
        }
        Some(pc) => {
            let parent_kind = file_kinds
                .get(pc)
                .copied()
                .or_else(|| existing.get(pc).and_then(|e| AreaKind::parse(&e.kind)));
            match parent_kind {
                None => p.push((
                    "上级编码",
                    Msg::owned(
                        format!("上级区域 {pc} 既不在文件中也不在系统中"),
                        format!("The parent {pc} is neither in the file nor in the system"),
                    ),
                )),
                Some(pk) if Some(pk) != kind.parent_kind() => p.push((
                    "上级编码",
                    Msg::owned(
                        format!(
                            "{}只能建在{}之下",
                            kind.label_zh(),
                            kind.parent_kind().map(|k| k.label_zh()).unwrap_or("")
                        ),
                        format!(
                            "A {} must sit under a {}",
                            kind.as_str(),
                            kind.parent_kind().map(|k| k.as_str()).unwrap_or("")
                        ),
                    ),
                )),
                Some(_) => {
                    if let Some(e) = existing.get(pc) {
                        if scope::require_permission(&state.db, ctx, Permission::EditAreas, e.id)
                            .await
                            .is_err()
                        {
                            p.push((
                                "上级编码",
                                Msg::new(
                                    "上级区域不在您可维护的范围内",
                                    "The parent is outside the areas you may edit",
                                ),
                            ));
                        }
                    }
                }
            }
        }
    }
}

/// A row under a bad row cannot be placed either.
fn drop_orphans(
    good: &mut Vec<Good>,
    bad_codes: &mut HashSet<String>,
    problems: &mut Vec<(u64, &str, Msg)>,
) {
    loop {
        let before = bad_codes.len();
        good.retain(|g| {
            let orphan = g
                .parent_code
                .as_ref()
                .is_some_and(|pc| bad_codes.contains(pc));
            if orphan {
                bad_codes.insert(g.code.clone());
                problems.push((
                    g.row,
                    "上级编码",
                    Msg::new("上级区域这一行有问题", "The parent's row has a problem"),
                ));
            }
            !orphan
        });
        if bad_codes.len() == before {
            break;
        }
    }
}

/// Two new areas of one name under one parent are a mistake.
fn same_name_twice(good: &[Good], problems: &mut Vec<(u64, &str, Msg)>) {
    // Two new areas of one name under one parent are a mistake.
    let mut names: HashSet<(String, String)> = HashSet::new();
    for g in good {
        if g.existing.is_none() {
            if let Some(pc) = &g.parent_code {
                if !names.insert((pc.clone(), g.name.clone())) {
                    problems.push((
                        g.row,
                        "名称",
                        Msg::new(
                            "同一上级下已有同名区域",
                            "An area with this name already exists under the same parent",
                        ),
                    ));
                }
            }
        }
    }
}

/// The report's counts and problems (the first 1,000, by row).
fn tally(report: &mut AreaImportReport, good: &[Good], mut problems: Vec<(u64, &str, Msg)>) {
    problems.sort_by_key(|(r, _, _)| *r);
    let bad_rows: HashSet<u64> = problems.iter().map(|(r, _, _)| *r).collect();
    report.error_rows = bad_rows.len() as u64;
    report.ok_rows = report.rows - report.error_rows;
    report.problems = problems
        .into_iter()
        .take(1_000)
        .map(|(row, column, m)| RowProblem {
            row,
            column: column.to_string(),
            problem: format!("{} / {}", m.zh, m.en),
        })
        .collect();
    for g in good {
        match &g.existing {
            None => {
                report.created += 1;
                *report
                    .by_kind
                    .entry(g.kind.as_str().to_string())
                    .or_default() += 1;
            }
            Some(e) if e.name != g.name || (g.boundary.is_some() && e.boundary != g.boundary) => {
                report.updated += 1
            }
            Some(_) => report.unchanged += 1,
        }
    }
}

/// Writes the checked areas, parents first, in one transaction with an audit entry each.
async fn write(
    state: &AppState,
    ctx: &Ctx,
    admitted: &scope::Checked,
    mut good: Vec<Good>,
    existing: &HashMap<String, Existing>,
) -> AppResult<()> {
    good.sort_by_key(|g| (g.kind.level(), g.code.clone()));
    let mut ids: HashMap<String, Uuid> = existing.iter().map(|(c, e)| (c.clone(), e.id)).collect();
    let now = now_ms();
    let bulk = store::Bulk::open(&state.db).await?;
    let r = async {
        let tx = store::write_tx(&bulk.db).await?;
        for g in &good {
            match &g.existing {
                Some(e) => {
                    let changed_name = e.name != g.name;
                    let changed_boundary = g.boundary.is_some() && e.boundary != g.boundary;
                    if !changed_name && !changed_boundary {
                        continue;
                    }
                    store::exec(
                        &tx,
                        "UPDATE areas SET name = $1, boundary = $2, version = version + 1, updated_at = $3 WHERE id = $4",
                        vec![
                            g.name.clone().into(),
                            g.boundary.clone().or_else(|| e.boundary.clone()).into(),
                            now.into(),
                            e.id.into(),
                        ],
                    )
                    .await?;
                    let mut fields = vec![];
                    if changed_name {
                        fields.push("name");
                    }
                    if changed_boundary {
                        fields.push("boundary");
                    }
                    Entry::by(ctx, admitted, "area.update", "area", e.id)
                        .fields(&fields)
                        .area(e.id)
                        .detail("import".to_string())
                        .record(&tx)
                        .await?;
                    let _ = e.parent_id;
                }
                None => {
                    let id = new_id();
                    let parent = g.parent_code.as_ref().and_then(|pc| ids.get(pc).copied());
                    store::exec(
                        &tx,
                        "INSERT INTO areas (id, parent_id, kind, level, name, code, boundary, child_count, version, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 1, $8, $8)",
                        vec![
                            id.into(),
                            parent.into(),
                            g.kind.as_str().into(),
                            (g.kind.level() as i16).into(),
                            g.name.clone().into(),
                            g.code.clone().into(),
                            g.boundary.clone().into(),
                            now.into(),
                        ],
                    )
                    .await?;
                    super::areas::insert_closure(&tx, id, parent).await?;
                    store::adjust_child_count(&tx, "areas", parent, 1).await?;
                    Entry::by(ctx, admitted, "area.create", "area", id)
                        .fields(&["kind", "name", "code", "boundary"])
                        .area(id)
                        .detail("import".to_string())
                        .record(&tx)
                        .await?;
                    ids.insert(g.code.clone(), id);
                }
            }
        }
        tx.commit().await?;
        Ok::<(), AppError>(())
    }
    .await;
    bulk.finish().await;
    r?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_parents_follow_from_the_code() {
        assert_eq!(kind_of_code("130000000000"), Some(AreaKind::Province));
        assert_eq!(kind_of_code("130600000000"), Some(AreaKind::City));
        assert_eq!(kind_of_code("130602000000"), Some(AreaKind::District));
        assert_eq!(kind_of_code("130602001000"), Some(AreaKind::Street));
        assert_eq!(kind_of_code("130602001001"), Some(AreaKind::Community));
        assert_eq!(kind_of_code("130602001001001"), Some(AreaKind::Grid));
        assert_eq!(kind_of_code("130602001001001001"), Some(AreaKind::Building));
        assert_eq!(kind_of_code("1306"), None);
        assert_eq!(
            parent_code_of(AreaKind::Community, "130602001001").as_deref(),
            Some("130602001000")
        );
        assert_eq!(
            parent_code_of(AreaKind::Building, "130602001001001001").as_deref(),
            Some("130602001001001")
        );
        assert_eq!(
            parent_code_of(AreaKind::City, "130600000000").as_deref(),
            Some("130000000000")
        );
        assert_eq!(kind_by_word("社区"), Some(AreaKind::Community));
        assert_eq!(kind_by_word("grid"), Some(AreaKind::Grid));
        assert_eq!(kind_by_word("村"), None);
    }
}
