//! Party organisations: the four-level chain tied to areas, and unit/industry/regional
//! organisations linked across to the areas they serve. A caller sees an organisation when its
//! area, or one of its linked areas, is in scope.
use std::collections::HashMap;

use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::areas::{double_option, AreaRef};
use super::audit::Entry;
use super::{scope, Ctx};
use crate::domain::party::PartyOrgKind;
use crate::domain::role::Permission;
use crate::domain::{clean_name, ms_to_rfc3339, new_id, now_ms};
use crate::error::{AppError, AppResult, FieldErrors, Msg};
use crate::store::sql::{Cond, Where};
use crate::store::{self, Db};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PartyOrg {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub kind: String,
    pub name: String,
    pub area_id: Uuid,
    pub area_name: String,
    /// Areas a unit/industry/regional organisation serves (横向互联互通).
    pub linked_areas: Vec<AreaRef>,
    pub child_count: i32,
    pub version: i32,
    pub updated_at: String,
}

#[derive(Debug, FromQueryResult)]
struct OrgRow {
    id: Uuid,
    parent_id: Option<Uuid>,
    kind: String,
    name: String,
    area_id: Uuid,
    area_name: String,
    child_count: i32,
    version: i32,
    updated_at: i64,
}

const COLS: &str = "o.id, o.parent_id, o.kind, o.name, o.area_id, a.name AS area_name, o.child_count, o.version, o.updated_at";

#[derive(FromQueryResult)]
struct LinkRow {
    org_id: Uuid,
    id: Uuid,
    name: String,
    kind: String,
}

async fn views<C: ConnectionTrait>(c: &C, rows: Vec<OrgRow>) -> AppResult<Vec<PartyOrg>> {
    let mut links: HashMap<Uuid, Vec<AreaRef>> = HashMap::new();
    if !rows.is_empty() {
        let ids: Vec<Value> = rows.iter().map(|r| Value::from(r.id)).collect();
        let sql = format!(
            "SELECT l.org_id, a.id, a.name, a.kind FROM party_org_links l JOIN areas a ON a.id = l.area_id \
             WHERE l.org_id IN ({}) ORDER BY a.code",
            store::placeholders(1, ids.len())
        );
        for l in store::fetch_all::<LinkRow, _>(c, &sql, ids).await? {
            links.entry(l.org_id).or_default().push(AreaRef {
                id: l.id,
                name: l.name,
                kind: l.kind,
            });
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| PartyOrg {
            linked_areas: links.remove(&r.id).unwrap_or_default(),
            id: r.id,
            parent_id: r.parent_id,
            kind: r.kind,
            name: r.name,
            area_id: r.area_id,
            area_name: r.area_name,
            child_count: r.child_count,
            version: r.version,
            updated_at: ms_to_rfc3339(r.updated_at),
        })
        .collect())
}

/// SQL condition: organisation `o` is visible to the caller. Placeholders from `next`.
fn visible_sql(ctx: &Ctx, alias: &str, next: usize) -> (String, Vec<Value>) {
    match scope::granted_areas(ctx) {
        None => ("1 = 1".into(), vec![]),
        Some(ids) if ids.is_empty() => ("1 = 0".into(), vec![]),
        Some(ids) => {
            let ph = store::placeholders(next, ids.len());
            (
                format!(
                    "({alias}.area_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id IN ({ph})) \
                     OR EXISTS (SELECT 1 FROM party_org_links l JOIN area_closure c ON c.descendant_id = l.area_id \
                     WHERE l.org_id = {alias}.id AND c.ancestor_id IN ({ph})))"
                ),
                ids.into_iter().map(Value::from).collect(),
            )
        }
    }
}

async fn load<C: ConnectionTrait>(c: &C, ctx: &Ctx, id: Uuid) -> AppResult<OrgRow> {
    let (vis, mut values) = visible_sql(ctx, "o", 2);
    values.insert(0, id.into());
    store::fetch_found(
        c,
        &format!("SELECT {COLS} FROM party_orgs o JOIN areas a ON a.id = o.area_id WHERE o.id = $1 AND {vis}"),
        values,
    )
    .await
}

#[tracing::instrument(name = "party::get", skip_all)]
pub async fn get(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<PartyOrg> {
    let row = load(db, ctx, id).await?;
    Ok(views(db, vec![row]).await?.remove(0))
}

#[tracing::instrument(name = "party::roots", skip_all)]
pub async fn roots(db: &Db, ctx: &Ctx) -> AppResult<Vec<PartyOrg>> {
    // Visible organisations whose parent is not visible (or that have none).
    let (vis_o, v1) = visible_sql(ctx, "o", 1);
    let (vis_p, v2) = visible_sql(ctx, "p", 1);
    let mut w = Where::new();
    w.and_cond(Cond::from_numbered(&vis_o, v1));
    w.and_cond(Cond::from_numbered(
        &format!("(o.parent_id IS NULL OR NOT {vis_p})"),
        v2,
    ));
    let (cond, values) = w.build(1);
    let rows: Vec<OrgRow> = store::fetch_all(
        db,
        &format!(
            "SELECT {COLS} FROM party_orgs o JOIN areas a ON a.id = o.area_id \
             LEFT JOIN party_orgs p ON p.id = o.parent_id WHERE {cond} ORDER BY a.code, o.name"
        ),
        values,
    )
    .await?;
    views(db, rows).await
}

#[tracing::instrument(name = "party::children", skip_all)]
pub async fn children(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<Vec<PartyOrg>> {
    load(db, ctx, id).await?;
    let (vis, mut values) = visible_sql(ctx, "o", 2);
    values.insert(0, id.into());
    let rows: Vec<OrgRow> = store::fetch_all(
        db,
        &format!(
            "SELECT {COLS} FROM party_orgs o JOIN areas a ON a.id = o.area_id WHERE o.parent_id = $1 AND {vis} \
             ORDER BY a.code, o.name"
        ),
        values,
    )
    .await?;
    views(db, rows).await
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Part of the name.
    pub q: Option<String>,
    pub kind: Option<String>,
    /// Organisations tied to this area or below it.
    pub area_id: Option<Uuid>,
    /// 1–200, default 50.
    pub limit: Option<u32>,
}

#[tracing::instrument(name = "party::search", skip_all)]
pub async fn search(db: &Db, ctx: &Ctx, q: &SearchQuery) -> AppResult<Vec<PartyOrg>> {
    let (vis, vis_values) = visible_sql(ctx, "o", 1);
    let mut w = Where::new();
    w.and_cond(Cond::from_numbered(&vis, vis_values));
    if let Some(t) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        if t.chars().count() > 100 {
            return Err(AppError::field(
                "q",
                Msg::new("搜索词过长", "The search text is too long"),
            ));
        }
        w.and(
            "o.name LIKE ? ESCAPE '\\'",
            [format!("%{}%", store::like_escape(t)).into()],
        );
    }
    if let Some(k) = q.kind.as_deref().filter(|s| !s.is_empty()) {
        let k = PartyOrgKind::parse(k).ok_or_else(|| {
            AppError::field(
                "kind",
                Msg::new("未知的党组织类型", "Unknown organisation kind"),
            )
        })?;
        w.and("o.kind = ?", [k.as_str().into()]);
    }
    if let Some(a) = q.area_id {
        w.and(
            "o.area_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = ?)",
            [a.into()],
        );
    }
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let (cond, values) = w.build(1);
    let rows: Vec<OrgRow> = store::fetch_all(
        db,
        &format!(
            "SELECT {COLS} FROM party_orgs o JOIN areas a ON a.id = o.area_id WHERE {cond} ORDER BY a.code, o.name LIMIT {limit}"
        ),
        values,
    )
    .await?;
    views(db, rows).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPartyOrg {
    pub parent_id: Option<Uuid>,
    pub kind: String,
    pub name: String,
    pub area_id: Uuid,
    #[serde(default)]
    pub linked_area_ids: Vec<Uuid>,
}

#[derive(FromQueryResult)]
struct AreaKindRow {
    kind: String,
}

/// Checks kind ↔ area, kind ↔ parent and linked areas; returns field errors.
async fn check_shape<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    kind: PartyOrgKind,
    area_id: Uuid,
    parent: Option<&OrgRow>,
    links: &[Uuid],
    errs: &mut FieldErrors,
) -> AppResult<()> {
    scope::require_permission(c, ctx, Permission::EditPartyOrgs, area_id).await?;
    let area: AreaKindRow = store::fetch_found(
        c,
        "SELECT kind FROM areas WHERE id = $1",
        vec![area_id.into()],
    )
    .await?;
    if let Some(ak) = kind.area_kind() {
        if area.kind != ak.as_str() {
            errs.insert(
                "area_id".into(),
                Msg::owned(
                    format!("{}应对应一个{}", kind.label_zh(), ak.label_zh()),
                    format!("A {} belongs to a {}", kind.as_str(), ak.as_str()),
                ),
            );
        }
    }
    let parent_kind = parent.and_then(|p| PartyOrgKind::parse(&p.kind));
    if !kind.allowed_parents().contains(&parent_kind) {
        errs.insert(
            "parent_id".into(),
            match kind.allowed_parents().iter().flatten().next() {
                Some(pk) if !kind.allowed_parents().contains(&None) => Msg::owned(
                    format!("{}的上级应为{}", kind.label_zh(), pk.label_zh()),
                    format!("A {}'s parent must be a {}", kind.as_str(), pk.as_str()),
                ),
                _ => Msg::new(
                    "上级党组织类型不符",
                    "The parent organisation has the wrong kind",
                ),
            },
        );
    }
    if !links.is_empty() && !kind.links_across() {
        errs.insert(
            "linked_area_ids".into(),
            Msg::new(
                "只有单位、行业、区域化党组织可关联其他区域",
                "Only unit, industry and regional organisations link to other areas",
            ),
        );
    }
    if links.len() > 100 {
        errs.insert(
            "linked_area_ids".into(),
            Msg::new(
                "关联区域过多（最多 100 个）",
                "Too many linked areas (at most 100)",
            ),
        );
    }
    for l in links {
        scope::require_visible(c, ctx, *l).await?;
    }
    Ok(())
}

async fn write_links<C: ConnectionTrait>(c: &C, org: Uuid, links: &[Uuid]) -> AppResult<()> {
    store::exec(
        c,
        "DELETE FROM party_org_links WHERE org_id = $1",
        vec![org.into()],
    )
    .await?;
    let mut seen = std::collections::HashSet::new();
    for l in links {
        if seen.insert(*l) {
            store::exec(
                c,
                "INSERT INTO party_org_links (org_id, area_id) VALUES ($1, $2)",
                vec![org.into(), (*l).into()],
            )
            .await?;
        }
    }
    Ok(())
}

#[tracing::instrument(name = "party::create", skip_all)]
pub async fn create(db: &Db, ctx: &Ctx, input: NewPartyOrg) -> AppResult<PartyOrg> {
    let tx = store::write_tx(db).await?;
    let id = create_in(&tx, ctx, &input).await?;
    let row = load(&tx, &ctx.as_system("system"), id).await?;
    let v = views(&tx, vec![row]).await?.remove(0);
    tx.commit().await?;
    Ok(v)
}

/// [`create`]'s checks and writes in the caller's transaction (the sheet import runs each row in
/// a savepoint of one transaction, so a row may name an organisation of an earlier row).
pub(crate) async fn create_in(
    tx: &sea_orm::DatabaseTransaction,
    ctx: &Ctx,
    input: &NewPartyOrg,
) -> AppResult<Uuid> {
    // Scope and permission first: an area outside the caller's is 404 whatever else the body says.
    let checked =
        scope::require_permission(tx, ctx, Permission::EditPartyOrgs, input.area_id).await?;
    let mut errs = FieldErrors::new();
    let kind = PartyOrgKind::parse(&input.kind);
    let name = clean_name(&input.name, 100)
        .map_err(|m| errs.insert("name".into(), m))
        .ok();
    let Some(kind) = kind else {
        errs.insert(
            "kind".into(),
            Msg::new("未知的党组织类型", "Unknown organisation kind"),
        );
        return Err(AppError::Validation(errs));
    };
    let parent = match input.parent_id {
        Some(pid) => Some(load(tx, ctx, pid).await?),
        None => None,
    };
    check_shape(
        tx,
        ctx,
        kind,
        input.area_id,
        parent.as_ref(),
        &input.linked_area_ids,
        &mut errs,
    )
    .await?;
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let id = new_id();
    let now = now_ms();
    store::exec(
        tx,
        "INSERT INTO party_orgs (id, parent_id, kind, name, area_id, child_count, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 0, 1, $6, $6)",
        vec![id.into(), input.parent_id.into(), kind.as_str().into(), name.unwrap_or_default().into(), input.area_id.into(), now.into()],
    )
    .await?;
    write_links(tx, id, &input.linked_area_ids).await?;
    if let Some(p) = &parent {
        store::adjust_child_count(tx, "party_orgs", p.id, 1).await?;
    }
    Entry::by(ctx, &checked, "party_org.create", "party_org", id)
        .fields(&["kind", "name", "area_id", "linked_area_ids"])
        .area(input.area_id)
        .record(tx)
        .await?;
    Ok(id)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyOrgPatch {
    pub version: i32,
    pub name: Option<String>,
    pub area_id: Option<Uuid>,
    /// Replaces the linked areas when present.
    #[serde(default, deserialize_with = "double_option")]
    pub linked_area_ids: Option<Option<Vec<Uuid>>>,
}

#[tracing::instrument(name = "party::update", skip_all)]
pub async fn update(db: &Db, ctx: &Ctx, id: Uuid, patch: PartyOrgPatch) -> AppResult<PartyOrg> {
    let cur = load(db, ctx, id).await?;
    let checked =
        scope::require_permission(db, ctx, Permission::EditPartyOrgs, cur.area_id).await?;
    let kind =
        PartyOrgKind::parse(&cur.kind).ok_or_else(|| AppError::internal("bad kind in db"))?;
    let mut errs = FieldErrors::new();
    let mut changed = vec![];
    let name = match &patch.name {
        Some(n) => {
            changed.push("name");
            clean_name(n, 100)
                .map_err(|m| errs.insert("name".into(), m))
                .unwrap_or_else(|_| cur.name.clone())
        }
        None => cur.name.clone(),
    };
    let area_id = patch.area_id.unwrap_or(cur.area_id);
    if area_id != cur.area_id {
        changed.push("area_id");
    }
    let links: Option<Vec<Uuid>> = patch.linked_area_ids.clone().map(|l| l.unwrap_or_default());
    if links.is_some() {
        changed.push("linked_area_ids");
    }
    let parent = match cur.parent_id {
        Some(pid) => {
            store::fetch_opt::<OrgRow, _>(
                db,
                &format!(
                "SELECT {COLS} FROM party_orgs o JOIN areas a ON a.id = o.area_id WHERE o.id = $1"
            ),
                vec![pid.into()],
            )
            .await?
        }
        None => None,
    };
    check_shape(
        db,
        ctx,
        kind,
        area_id,
        parent.as_ref(),
        links.as_deref().unwrap_or(&[]),
        &mut errs,
    )
    .await?;
    if changed.is_empty() || (name == cur.name && area_id == cur.area_id && links.is_none()) {
        AppError::stale_unless_same(patch.version, cur.version)?;
        if errs.is_empty() {
            return Ok(views(db, vec![cur]).await?.remove(0));
        }
    }
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let tx = store::write_tx(db).await?;
    let n = store::exec(
        &tx,
        "UPDATE party_orgs SET name = $1, area_id = $2, version = version + 1, updated_at = $3 WHERE id = $4 AND version = $5",
        vec![name.into(), area_id.into(), now_ms().into(), id.into(), patch.version.into()],
    )
    .await?;
    AppError::stale_unless_changed(n)?;
    if let Some(l) = &links {
        write_links(&tx, id, l).await?;
    }
    Entry::by(ctx, &checked, "party_org.update", "party_org", id)
        .fields(&changed)
        .area(area_id)
        .record(&tx)
        .await?;
    let row = load(&tx, &ctx.as_system("system"), id).await?;
    let v = views(&tx, vec![row]).await?.remove(0);
    tx.commit().await?;
    Ok(v)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MovePartyOrg {
    /// `null` makes it a root (only for kinds that may be roots).
    pub new_parent_id: Option<Uuid>,
    pub version: i32,
}

#[tracing::instrument(name = "party::move_to", skip_all)]
pub async fn move_to(db: &Db, ctx: &Ctx, id: Uuid, m: MovePartyOrg) -> AppResult<PartyOrg> {
    let cur = load(db, ctx, id).await?;
    let checked =
        scope::require_permission(db, ctx, Permission::EditPartyOrgs, cur.area_id).await?;
    let kind =
        PartyOrgKind::parse(&cur.kind).ok_or_else(|| AppError::internal("bad kind in db"))?;
    let newp = match m.new_parent_id {
        Some(p) => Some(load(db, ctx, p).await?),
        None => None,
    };
    if let Some(p) = &newp {
        scope::require_permission(db, ctx, Permission::EditPartyOrgs, p.area_id).await?;
        // No cycles: walk up from the new parent.
        let mut at = Some(p.id);
        let mut steps = 0;
        while let Some(x) = at {
            if x == id {
                return Err(AppError::field(
                    "new_parent_id",
                    Msg::new(
                        "不能移动到自身或其下级之下",
                        "An organisation cannot move under itself or its own sub-organisations",
                    ),
                ));
            }
            #[derive(FromQueryResult)]
            struct P {
                parent_id: Option<Uuid>,
            }
            at = store::fetch_opt::<P, _>(
                db,
                "SELECT parent_id FROM party_orgs WHERE id = $1",
                vec![x.into()],
            )
            .await?
            .and_then(|p| p.parent_id);
            steps += 1;
            if steps > 64 {
                break;
            }
        }
    }
    let pk = newp.as_ref().and_then(|p| PartyOrgKind::parse(&p.kind));
    if !kind.allowed_parents().contains(&pk) {
        return Err(AppError::field(
            "new_parent_id",
            Msg::new(
                "上级党组织类型不符",
                "The parent organisation has the wrong kind",
            ),
        ));
    }
    let tx = store::write_tx(db).await?;
    let n = store::exec(
        &tx,
        "UPDATE party_orgs SET parent_id = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4",
        vec![m.new_parent_id.into(), now_ms().into(), id.into(), m.version.into()],
    )
    .await?;
    AppError::stale_unless_changed(n)?;
    store::adjust_child_count(&tx, "party_orgs", cur.parent_id, -1).await?;
    if let Some(p) = &newp {
        store::adjust_child_count(&tx, "party_orgs", p.id, 1).await?;
    }
    Entry::by(ctx, &checked, "party_org.move", "party_org", id)
        .fields(&["parent_id"])
        .area(cur.area_id)
        .record(&tx)
        .await?;
    let row = load(&tx, &ctx.as_system("system"), id).await?;
    let v = views(&tx, vec![row]).await?.remove(0);
    tx.commit().await?;
    Ok(v)
}

/// What still names a party organisation, and why that stops its deletion.
const IN_USE: [(&str, Msg); 4] = [
    (
        "SELECT COUNT(*) FROM party_members WHERE org_id = $1 OR work_unit_org_id = $1",
        Msg::new(
            "该党组织还有党员，不能删除",
            "This organisation still has party members",
        ),
    ),
    (
        "SELECT COUNT(*) FROM report_ins WHERE unit_org_id = $1",
        Msg::new(
            "该党组织有报到记录，不能删除",
            "This organisation has report-in records",
        ),
    ),
    (
        "SELECT COUNT(*) FROM branch_pairings WHERE org_id = $1",
        Msg::new(
            "该党组织有结对共建社区，不能删除",
            "This organisation is paired with a community",
        ),
    ),
    (
        "SELECT COUNT(*) FROM unit_contacts WHERE org_id = $1",
        Msg::new(
            "该单位党组织还有联系人，不能删除",
            "This organisation still has work-unit contacts",
        ),
    ),
];

/// 409 with the reason when members, report-ins, a pairing or contacts still name the
/// organisation.
async fn refuse_if_in_use<C: ConnectionTrait>(c: &C, id: Uuid) -> AppResult<()> {
    for (sql, msg) in IN_USE {
        if store::fetch_i64(c, sql, vec![id.into()]).await? > 0 {
            return Err(AppError::conflict("conflict", msg));
        }
    }
    Ok(())
}

#[tracing::instrument(name = "party::delete", skip_all)]
pub async fn delete(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<()> {
    let cur = load(db, ctx, id).await?;
    let checked =
        scope::require_permission(db, ctx, Permission::EditPartyOrgs, cur.area_id).await?;
    if cur.child_count > 0 {
        return Err(AppError::conflict(
            "conflict",
            Msg::new(
                "该党组织还有下级组织，不能删除",
                "This organisation still has sub-organisations",
            ),
        ));
    }
    let tx = store::write_tx(db).await?;
    refuse_if_in_use(&tx, id).await?;
    store::exec(
        &tx,
        "DELETE FROM party_org_links WHERE org_id = $1",
        vec![id.into()],
    )
    .await?;
    store::exec(&tx, "DELETE FROM party_orgs WHERE id = $1", vec![id.into()]).await?;
    store::adjust_child_count(&tx, "party_orgs", cur.parent_id, -1).await?;
    Entry::by(ctx, &checked, "party_org.delete", "party_org", id)
        .area(cur.area_id)
        .detail(cur.name)
        .record(&tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
