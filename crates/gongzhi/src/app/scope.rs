//! Access by area. Deny by default: a caller sees an area only when one of their grants is on it
//! or on one of its ancestors. Anything outside is reported as "not found", never "forbidden", so
//! a user of community A learns nothing about community B.
use sea_orm::{ConnectionTrait, Value};
use uuid::Uuid;

use super::Ctx;
use crate::domain::role::{Permission, Role};
use crate::error::{AppError, AppResult};
use crate::store;

/// Proof that the caller's scope was checked for what follows. Only the checks of this module make
/// one (its fields are private), and an audit entry — which every write and every read of personal
/// data records — cannot be made without one ([`crate::app::audit::Entry::by`]): a service that
/// forgets its scope check does not compile. Reads that record nothing are held to their scope by
/// the route test instead (`tests/it/scope.rs`, derived from the OpenAPI document).
///
/// What a proof covers follows from the check that made it: one area (`require_permission` and its
/// siblings; [`Checked::area`] names it), the rows a list's filter or an upload's per-row checks let
/// through (`require_any`, `listing`), the whole instance (`require_global`), or the caller's own
/// account, inbox and unit (`own`, `member_of`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    area: Option<Uuid>,
}

impl Checked {
    /// The area the check was made for, when it was made for one.
    pub fn area(&self) -> Option<Uuid> {
        self.area
    }
    fn area_of(area_id: Uuid) -> Checked {
        Checked {
            area: Some(area_id),
        }
    }
    /// A proof that names no single area.
    fn unplaced() -> Checked {
        Checked { area: None }
    }
}

/// A record loaded through its scope check, with the proof ([`Checked`]); reads as the record.
#[derive(Debug, Clone)]
pub struct Scoped<T> {
    pub row: T,
    pub checked: Checked,
}

impl<T> std::ops::Deref for Scoped<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.row
    }
}

impl<T> Scoped<T> {
    /// `row`, found in `checked`'s area.
    pub fn new(row: T, checked: Checked) -> Scoped<T> {
        Scoped { row, checked }
    }
}

/// The caller acting on their own account, session, tokens or inbox: nothing of anyone else's is
/// touched, so the proof needs no query. Its name is what a reviewer looks for.
pub fn own(_ctx: &Ctx) -> Checked {
    Checked::unplaced()
}

/// Fails with 403 unless the caller holds `perm` on some area (or everywhere). For lists and
/// imports whose rows are then filtered ([`listing`]) or checked one by one: it is the gate that
/// refuses an upload before its body is read.
pub fn require_any(ctx: &Ctx, perm: Permission) -> AppResult<Checked> {
    if holds_any(ctx, perm) || ctx.principal.is_system_admin() {
        Ok(Checked::unplaced())
    } else {
        Err(AppError::forbidden())
    }
}

/// A list's area filter on `column` for `perm` and the proof that the list was so filtered: a
/// caller without the permission anywhere gets an empty list (`1 = 0`), not an error.
pub fn listing(ctx: &Ctx, perm: Permission, column: &str) -> (store::sql::Cond, Checked) {
    (area_cond(ctx, perm, column), Checked::unplaced())
}

/// Like [`listing`] for the grants of the given roles (a sharing rule's role).
pub fn listing_roles(ctx: &Ctx, roles: &[Role], column: &str) -> (store::sql::Cond, Checked) {
    let (text, values) = roles_filter(ctx, roles, column, 1);
    (
        store::sql::Cond::from_numbered(&text, values),
        Checked::unplaced(),
    )
}

/// The area ids granted to the caller (for any role), or `None` when the caller sees everything.
pub fn granted_areas(ctx: &Ctx) -> Option<Vec<Uuid>> {
    if ctx.principal.is_system_admin() {
        return None;
    }
    let mut ids: Vec<Uuid> = ctx
        .principal
        .grants
        .iter()
        .filter_map(|g| g.area_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    Some(ids)
}

/// Areas granted with one of the given roles, or `None` for a system admin.
pub fn areas_with_roles(ctx: &Ctx, roles: &[Role]) -> Option<Vec<Uuid>> {
    if ctx.principal.is_system_admin() {
        return None;
    }
    let mut ids: Vec<Uuid> = ctx
        .principal
        .grants
        .iter()
        .filter(|g| roles.contains(&g.role))
        .filter_map(|g| g.area_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    Some(ids)
}

/// An SQL condition restricting `column` (an area id) to the caller's scope, with its values.
/// Placeholders are numbered from `next`. A system admin gets `TRUE`; a caller with no grants
/// gets `FALSE`.
pub fn filter_sql(ctx: &Ctx, column: &str, next: usize) -> (String, Vec<Value>) {
    match granted_areas(ctx) {
        None => ("1 = 1".into(), vec![]),
        Some(ids) if ids.is_empty() => ("1 = 0".into(), vec![]),
        Some(ids) => (
            format!(
                "{column} IN (SELECT descendant_id FROM area_closure WHERE ancestor_id IN ({}))",
                store::placeholders(next, ids.len())
            ),
            ids.into_iter().map(|id| Value::from(id)).collect(),
        ),
    }
}

/// Whether `area_id` lies under one of `roots` (inclusive).
#[tracing::instrument(name = "scope::is_under", skip_all)]
pub async fn is_under<C: ConnectionTrait>(c: &C, area_id: Uuid, roots: &[Uuid]) -> AppResult<bool> {
    if roots.is_empty() {
        return Ok(false);
    }
    let mut values = vec![Value::from(area_id)];
    values.extend(roots.iter().map(|id| Value::from(*id)));
    let sql = format!(
        "SELECT COUNT(*) FROM area_closure WHERE descendant_id = $1 AND ancestor_id IN ({})",
        store::placeholders(2, roots.len())
    );
    Ok(store::fetch_i64(c, &sql, values).await? > 0)
}

/// Whether the caller may see `area_id`. A system admin sees every area that exists: an unknown
/// id is "not found" for them too, before anything is written against it.
#[tracing::instrument(name = "scope::can_see", skip_all)]
pub async fn can_see<C: ConnectionTrait>(c: &C, ctx: &Ctx, area_id: Uuid) -> AppResult<bool> {
    match granted_areas(ctx) {
        None => area_exists(c, area_id).await,
        Some(roots) => is_under(c, area_id, &roots).await,
    }
}

async fn area_exists<C: ConnectionTrait>(c: &C, area_id: Uuid) -> AppResult<bool> {
    let sql = "SELECT COUNT(*) FROM areas WHERE id = $1";
    Ok(store::fetch_i64(c, sql, vec![area_id.into()]).await? > 0)
}

/// The ancestors of an area, itself included, through the instance's tree cache. Empty when the
/// area does not exist.
#[tracing::instrument(name = "scope::ancestors_cached", skip_all)]
pub async fn ancestors_cached<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    area_id: Uuid,
) -> AppResult<std::sync::Arc<Vec<Uuid>>> {
    if let Some(v) = ctx.tree.get_ancestors(&area_id) {
        return Ok(v);
    }
    #[derive(sea_orm::FromQueryResult)]
    struct A {
        ancestor_id: Uuid,
    }
    let rows: Vec<A> = store::fetch_all(
        c,
        "SELECT ancestor_id FROM area_closure WHERE descendant_id = $1",
        vec![area_id.into()],
    )
    .await?;
    let v = std::sync::Arc::new(rows.into_iter().map(|a| a.ancestor_id).collect::<Vec<_>>());
    if !v.is_empty() {
        // An unknown id is not remembered: it may be created later.
        ctx.tree.put_ancestors(area_id, v.clone());
    }
    Ok(v)
}

/// Like [`require_visible`], for read routes: may answer from the instance's tree cache.
#[tracing::instrument(name = "scope::require_visible_read", skip_all)]
pub async fn require_visible_read<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    area_id: Uuid,
) -> AppResult<Checked> {
    match granted_areas(ctx) {
        None if ancestors_cached(c, ctx, area_id).await?.is_empty() => Err(AppError::NotFound),
        None => Ok(Checked::area_of(area_id)),
        Some(roots) => {
            let anc = ancestors_cached(c, ctx, area_id).await?;
            if anc.iter().any(|a| roots.contains(a)) {
                Ok(Checked::area_of(area_id))
            } else {
                Err(AppError::NotFound)
            }
        }
    }
}

/// Fails with 404 unless the caller may see `area_id`.
#[tracing::instrument(name = "scope::require_visible", skip_all)]
pub async fn require_visible<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    area_id: Uuid,
) -> AppResult<Checked> {
    if can_see(c, ctx, area_id).await? {
        Ok(Checked::area_of(area_id))
    } else {
        Err(AppError::NotFound)
    }
}

/// Fails with 404 if `area_id` is outside the caller's scope, and with 403 if it is inside but
/// none of the grants covering it carries `perm`.
#[tracing::instrument(name = "scope::require_permission", skip_all)]
pub async fn require_permission<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    perm: Permission,
    area_id: Uuid,
) -> AppResult<Checked> {
    let checked = require_visible(c, ctx, area_id).await?;
    match areas_with_roles(ctx, perm.roles()) {
        None => Ok(checked),
        Some(roots) if is_under(c, area_id, &roots).await? => Ok(checked),
        Some(_) => Err(AppError::forbidden()),
    }
}

/// Fails with 403 unless the caller holds `perm` somewhere (for system-wide actions, only a
/// system admin).
pub fn require_global(ctx: &Ctx, perm: Permission) -> AppResult<Checked> {
    let ok = ctx.principal.grants.iter().any(|g| {
        perm.roles().contains(&g.role) && (g.area_id.is_none() || g.role == Role::SystemAdmin)
    });
    if ok {
        Ok(Checked::unplaced())
    } else {
        Err(AppError::forbidden())
    }
}

/// Whether the caller holds any role of `perm` on any area.
pub fn holds_any(ctx: &Ctx, perm: Permission) -> bool {
    ctx.principal
        .grants
        .iter()
        .any(|g| perm.roles().contains(&g.role))
}

/// The rows whose `column` lies where the caller holds `perm`, as a condition of a
/// [`store::sql::Where`] (placeholders numbered when the statement is built).
pub fn area_cond(ctx: &Ctx, perm: Permission, column: &str) -> store::sql::Cond {
    let (text, values) = filter_sql_for(ctx, perm, column, 1);
    store::sql::Cond::from_numbered(&text, values)
}

/// Like [`filter_sql`], but only grants whose role carries `perm` count (a volunteer granted on a
/// community does not thereby read its registry).
pub fn filter_sql_for(
    ctx: &Ctx,
    perm: Permission,
    column: &str,
    next: usize,
) -> (String, Vec<Value>) {
    roles_filter(ctx, perm.roles(), column, next)
}

fn roles_filter(ctx: &Ctx, roles: &[Role], column: &str, next: usize) -> (String, Vec<Value>) {
    match areas_with_roles(ctx, roles) {
        None => ("1 = 1".into(), vec![]),
        Some(ids) if ids.is_empty() => ("1 = 0".into(), vec![]),
        Some(ids) => (
            format!(
                "{column} IN (SELECT descendant_id FROM area_closure WHERE ancestor_id IN ({}))",
                store::placeholders(next, ids.len())
            ),
            ids.into_iter().map(Value::from).collect(),
        ),
    }
}

/// The communities a caller's `perm` grants reach: those under the grants and, for grants below a
/// community (a grid, a building), the community above. `None` for a system admin or when there are
/// more than `max` (then prefiltering by community would not narrow much). For prefiltering index
/// rows that carry a community before the exact check on the record itself.
#[tracing::instrument(name = "scope::communities_for", skip_all)]
pub async fn communities_for<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    perm: Permission,
    max: usize,
) -> AppResult<Option<Vec<Uuid>>> {
    let Some(ids) = areas_with_roles(ctx, perm.roles()) else {
        return Ok(None);
    };
    if ids.is_empty() {
        return Ok(Some(vec![]));
    }
    #[derive(sea_orm::FromQueryResult)]
    struct Id {
        id: Uuid,
    }
    let n = ids.len();
    let mut values: Vec<Value> = ids.iter().copied().map(Value::from).collect();
    values.extend(ids.into_iter().map(Value::from));
    let rows: Vec<Id> = store::fetch_all(
        c,
        &format!(
            "SELECT a.id FROM areas a WHERE a.kind = 'community' AND (\
             a.id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id IN ({})) OR \
             a.id IN (SELECT ancestor_id FROM area_closure WHERE descendant_id IN ({}))) LIMIT {}",
            store::placeholders(1, n),
            store::placeholders(n + 1, n),
            max + 1
        ),
        values,
    )
    .await?;
    if rows.len() > max {
        return Ok(None);
    }
    Ok(Some(rows.into_iter().map(|r| r.id).collect()))
}

/// Whether the caller sees an area, given the area's ancestors (itself included): no IO.
pub fn visible_among(ctx: &Ctx, ancestors: &[Uuid]) -> bool {
    match granted_areas(ctx) {
        None => true,
        Some(roots) => ancestors.iter().any(|a| roots.contains(a)),
    }
}

/// Whether the caller holds `perm` on an area, given its ancestors (itself included): no IO.
pub fn permitted_among(ctx: &Ctx, perm: Permission, ancestors: &[Uuid]) -> bool {
    match areas_with_roles(ctx, perm.roles()) {
        None => true,
        Some(roots) => ancestors.iter().any(|a| roots.contains(a)),
    }
}

/// Whether the caller holds `perm` on `area_id` (without failing).
#[tracing::instrument(name = "scope::has_permission", skip_all)]
pub async fn has_permission<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    perm: Permission,
    area_id: Uuid,
) -> AppResult<bool> {
    match areas_with_roles(ctx, perm.roles()) {
        None => Ok(true),
        Some(roots) => is_under(c, area_id, &roots).await,
    }
}

/// [`has_permission`] as a proof: `Some` when the caller holds `perm` on `area_id`.
#[tracing::instrument(name = "scope::permission", skip_all)]
pub async fn permission<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    perm: Permission,
    area_id: Uuid,
) -> AppResult<Option<Checked>> {
    Ok(has_permission(c, ctx, perm, area_id)
        .await?
        .then(|| Checked::area_of(area_id)))
}

/// [`permitted_among`] as a proof for `area_id`, given its ancestors (itself included).
pub fn permitted_proof_among(
    ctx: &Ctx,
    perm: Permission,
    area_id: Uuid,
    ancestors: &[Uuid],
) -> Option<Checked> {
    permitted_among(ctx, perm, ancestors).then(|| Checked::area_of(area_id))
}

/// The caller is a member of `unit_id` (one of `mine`, the caller's units): a proof for what that
/// unit handles, wherever it lies.
pub fn member_of(unit_id: Option<Uuid>, mine: &[Uuid]) -> Option<Checked> {
    unit_id
        .filter(|u| mine.contains(u))
        .map(|_| Checked::unplaced())
}

#[cfg(test)]
mod tests {
    /// Scope is decided in the services (decision 0019): no file of the HTTP layer names a scope
    /// check or a permission, so a route cannot let a caller through that its service would not.
    #[test]
    fn the_http_layer_decides_no_scope() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
        let mut stack = vec![dir];
        let mut seen = 0;
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                let text = std::fs::read_to_string(&p).unwrap();
                seen += 1;
                for (i, line) in text.lines().enumerate() {
                    for word in ["scope::", "Permission::", "holds_any", "is_system_admin"] {
                        assert!(
                            !line.contains(word),
                            "{}:{}: `{word}` in the HTTP layer; check scope in the service",
                            p.display(),
                            i + 1
                        );
                    }
                }
            }
        }
        assert!(seen > 20, "read {seen} files of src/http");
    }
}
