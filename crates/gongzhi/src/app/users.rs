//! Users and their grants (system admins only).
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::{self, Entry};
use super::auth::{grants_of, GrantView};
use super::{scope, AppState, Ctx};
use crate::domain::role::{Permission, Role};
use crate::domain::{clean_name, ms_to_rfc3339, new_id, now_ms, password};
use crate::error::{map_unique, AppError, AppResult, FieldErrors, Msg};
use crate::store::{self, Db};

#[derive(Debug, Serialize, ToSchema)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub disabled: bool,
    pub must_change_password: bool,
    /// Set while the name is under a guessing attack (5 failed logins within 15 minutes): addresses
    /// that failed are refused and new addresses take turns until then; `unlock` ends it.
    pub locked_until: Option<String>,
    pub last_login_at: Option<String>,
    pub created_at: String,
    pub version: i32,
    pub grants: Vec<GrantView>,
}

#[derive(FromQueryResult)]
struct UserRow {
    id: Uuid,
    username: String,
    display_name: String,
    disabled: bool,
    must_change_password: bool,
    locked_until: Option<i64>,
    last_login_at: Option<i64>,
    created_at: i64,
    version: i32,
}

const COLS: &str = "id, username, display_name, disabled, must_change_password, locked_until, last_login_at, created_at, version";

async fn view<C: ConnectionTrait>(c: &C, r: UserRow) -> AppResult<User> {
    let now = now_ms();
    Ok(User {
        grants: grants_of(c, Some(r.id), None).await?,
        id: r.id,
        username: r.username,
        display_name: r.display_name,
        disabled: r.disabled,
        must_change_password: r.must_change_password,
        locked_until: r.locked_until.filter(|t| *t > now).map(ms_to_rfc3339),
        last_login_at: r.last_login_at.map(ms_to_rfc3339),
        created_at: ms_to_rfc3339(r.created_at),
        version: r.version,
    })
}

async fn load<C: ConnectionTrait>(c: &C, id: Uuid) -> AppResult<UserRow> {
    store::fetch_opt(
        c,
        &format!("SELECT {COLS} FROM users WHERE id = $1"),
        vec![id.into()],
    )
    .await?
    .ok_or(AppError::NotFound)
}

/// Only system admins manage users (403 for everyone else, before any lookup).
pub fn require_admin(ctx: &Ctx) -> AppResult<()> {
    scope::require_global(ctx, Permission::ManageUsers)
}

pub async fn list(
    db: &Db,
    ctx: &Ctx,
    q: Option<&str>,
    paging: store::Paging,
) -> AppResult<(Vec<User>, i64)> {
    require_admin(ctx)?;
    let mut values: Vec<Value> = vec![];
    let mut cond = String::from("1 = 1");
    if let Some(q) = q.map(str::trim).filter(|s| !s.is_empty()) {
        values.push(format!("%{}%", store::like_escape(q)).into());
        cond = "(username LIKE $1 ESCAPE '\\' OR display_name LIKE $1 ESCAPE '\\')".into();
    }
    let (rows, total): (Vec<UserRow>, i64) = store::page(
        db,
        &format!("SELECT COUNT(*) FROM users WHERE {cond}"),
        &format!("SELECT {COLS} FROM users WHERE {cond} ORDER BY username"),
        values,
        paging,
    )
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(view(db, r).await?);
    }
    Ok((out, total))
}

pub async fn get(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<User> {
    require_admin(ctx)?;
    let r = load(db, id).await?;
    view(db, r).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password: String,
    /// Default true: the user must change the password at first login.
    pub must_change_password: Option<bool>,
}

fn check_username(u: &str) -> Result<String, Msg> {
    let u = u.trim();
    if u.len() < 2 || u.len() > 64 {
        return Err(Msg::new(
            "用户名长度应为 2–64 个字符",
            "The username must be 2–64 characters",
        ));
    }
    if !u
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(Msg::new(
            "用户名只能包含字母、数字、_ - .",
            "The username may contain only letters, digits, _ - .",
        ));
    }
    Ok(u.to_string())
}

pub async fn create(state: &AppState, ctx: &Ctx, input: NewUser) -> AppResult<User> {
    require_admin(ctx)?;
    create_unchecked(&state.db, ctx, input).await
}

/// Creates a user without checking the caller (for the command line and the demo).
pub async fn create_unchecked(db: &Db, ctx: &Ctx, input: NewUser) -> AppResult<User> {
    let mut errs = FieldErrors::new();
    let username = check_username(&input.username)
        .map_err(|m| errs.insert("username".into(), m))
        .ok();
    let display = clean_name(&input.display_name, 100)
        .map_err(|m| errs.insert("display_name".into(), m))
        .ok();
    if let Some(u) = &username {
        if let Err(m) = password::check_policy(u, &input.password) {
            errs.insert("password".into(), m);
        }
    }
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let (username, display) = (username.unwrap_or_default(), display.unwrap_or_default());
    let hash = super::auth::hash_password(&input.password).await?;
    let id = new_id();
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "INSERT INTO users (id, username, display_name, password_hash, disabled, must_change_password, failed_logins, \
         password_changed_at, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7, $7, 1)",
        vec![
            id.into(),
            username.into(),
            display.into(),
            hash.into(),
            false.into(),
            input.must_change_password.unwrap_or(true).into(),
            now.into(),
        ],
    )
    .await
    .map_err(|e| map_unique(e, "username", Msg::new("该用户名已存在", "This username is taken")))?;
    audit::record(
        &tx,
        Entry::by(ctx, "user.create", "user", Some(id.to_string())).fields(&[
            "username",
            "display_name",
            "password",
        ]),
    )
    .await?;
    let u = view(&tx, load(&tx, id).await?).await?;
    tx.commit().await?;
    Ok(u)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub disabled: Option<bool>,
    /// Forgets the user's failed logins: addresses barred for the name and the back-off end.
    pub unlock: Option<bool>,
}

pub async fn update(state: &AppState, ctx: &Ctx, id: Uuid, p: UserPatch) -> AppResult<User> {
    require_admin(ctx)?;
    let db = &state.db;
    let cur = load(db, id).await?;
    let mut changed = vec![];
    let display = match &p.display_name {
        Some(d) => {
            changed.push("display_name");
            clean_name(d, 100).map_err(|m| AppError::field("display_name", m))?
        }
        None => cur.display_name.clone(),
    };
    let disabled = p.disabled.unwrap_or(cur.disabled);
    if p.disabled.is_some() {
        changed.push("disabled");
        if disabled && ctx.principal.user_id == Some(id) {
            return Err(AppError::field(
                "disabled",
                Msg::new("不能停用自己的账号", "You cannot disable your own account"),
            ));
        }
    }
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "UPDATE users SET display_name = $1, disabled = $2, updated_at = $3, version = version + 1 WHERE id = $4",
        vec![display.into(), disabled.into(), now_ms().into(), id.into()],
    )
    .await?;
    if p.unlock == Some(true) {
        changed.push("locked_until");
        store::exec(
            &tx,
            "UPDATE users SET locked_until = NULL, failed_logins = 0 WHERE id = $1",
            vec![id.into()],
        )
        .await?;
        super::login_guard::forgive(&tx, &cur.username).await?;
    }
    if disabled {
        store::exec(
            &tx,
            "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
            vec![now_ms().into(), id.into()],
        )
        .await?;
    }
    audit::record(
        &tx,
        Entry::by(ctx, "user.update", "user", Some(id.to_string())).fields(&changed),
    )
    .await?;
    let u = view(&tx, load(&tx, id).await?).await?;
    tx.commit().await?;
    state.auth_cache.forget_user(id);
    Ok(u)
}

/// Sets a new password chosen by the admin; the user must change it at next login, and their
/// sessions end.
pub async fn reset_password(
    state: &AppState,
    ctx: &Ctx,
    id: Uuid,
    new_password: &str,
) -> AppResult<()> {
    require_admin(ctx)?;
    reset_password_unchecked(&state.db, ctx, id, new_password).await?;
    state.auth_cache.forget_user(id);
    Ok(())
}

pub async fn reset_password_unchecked(
    db: &Db,
    ctx: &Ctx,
    id: Uuid,
    new_password: &str,
) -> AppResult<()> {
    let cur = load(db, id).await?;
    password::check_policy(&cur.username, new_password)
        .map_err(|m| AppError::field("password", m))?;
    let hash = super::auth::hash_password(new_password).await?;
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "UPDATE users SET password_hash = $1, must_change_password = $2, password_changed_at = $3, locked_until = NULL, \
         failed_logins = 0, updated_at = $3, version = version + 1 WHERE id = $4",
        vec![hash.into(), true.into(), now.into(), id.into()],
    )
    .await?;
    super::login_guard::forgive(&tx, &cur.username).await?;
    store::exec(
        &tx,
        "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        vec![now.into(), id.into()],
    )
    .await?;
    audit::record(
        &tx,
        Entry::by(ctx, "user.reset_password", "user", Some(id.to_string())).fields(&["password"]),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct NewGrant {
    pub role: String,
    /// Required for every role but system_admin.
    pub area_id: Option<Uuid>,
}

/// Validates a grant request; returns the role and area.
pub async fn check_grant<C: ConnectionTrait>(
    c: &C,
    g: &NewGrant,
) -> AppResult<(Role, Option<Uuid>)> {
    let role = Role::parse(&g.role)
        .ok_or_else(|| AppError::field("role", Msg::new("未知的角色", "Unknown role")))?;
    match (role, g.area_id) {
        (Role::SystemAdmin, a) => {
            if let Some(a) = a {
                store::fetch_i64(
                    c,
                    "SELECT COUNT(*) FROM areas WHERE id = $1",
                    vec![a.into()],
                )
                .await?
                .gt(&0)
                .then_some(())
                .ok_or(AppError::NotFound)?;
            }
            Ok((role, a))
        }
        (_, None) => Err(AppError::field(
            "area_id",
            Msg::new("请选择授权的区域", "Choose the area of the grant"),
        )),
        (_, Some(a)) => {
            if store::fetch_i64(
                c,
                "SELECT COUNT(*) FROM areas WHERE id = $1",
                vec![a.into()],
            )
            .await?
                == 0
            {
                return Err(AppError::NotFound);
            }
            Ok((role, Some(a)))
        }
    }
}

pub async fn add_grant(
    state: &AppState,
    ctx: &Ctx,
    user_id: Uuid,
    g: NewGrant,
) -> AppResult<GrantView> {
    require_admin(ctx)?;
    let db = &state.db;
    load(db, user_id).await?;
    let view = add_grant_unchecked(db, ctx, user_id, g).await?;
    state.auth_cache.forget_user(user_id);
    Ok(view)
}

pub async fn add_grant_unchecked(
    db: &Db,
    ctx: &Ctx,
    user_id: Uuid,
    g: NewGrant,
) -> AppResult<GrantView> {
    let (role, area) = check_grant(db, &g).await?;
    let tx = store::write_tx(db).await?;
    let dup = store::fetch_i64(
        &tx,
        "SELECT COUNT(*) FROM grants WHERE user_id = $1 AND role = $2 AND (area_id = $3 OR (area_id IS NULL AND $3 IS NULL))",
        vec![user_id.into(), role.as_str().into(), area.into()],
    )
    .await?;
    if dup > 0 {
        return Err(AppError::conflict(
            "conflict",
            Msg::new("该授权已存在", "This grant already exists"),
        ));
    }
    let id = new_id();
    store::exec(
        &tx,
        "INSERT INTO grants (id, user_id, token_id, role, area_id, created_at, created_by) VALUES ($1, $2, NULL, $3, $4, $5, $6)",
        vec![id.into(), user_id.into(), role.as_str().into(), area.into(), now_ms().into(), ctx.principal.actor_id().into()],
    )
    .await?;
    audit::record(
        &tx,
        Entry::by(ctx, "grant.create", "grant", Some(id.to_string()))
            .fields(&["role", "area_id"])
            .area(area)
            .detail(format!("user {user_id}: {}", role.as_str())),
    )
    .await?;
    let v = grants_of(&tx, Some(user_id), None)
        .await?
        .into_iter()
        .find(|g| g.id == id)
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(v)
}

pub async fn delete_grant(state: &AppState, ctx: &Ctx, grant_id: Uuid) -> AppResult<()> {
    require_admin(ctx)?;
    let db = &state.db;
    #[derive(FromQueryResult)]
    struct G {
        user_id: Option<Uuid>,
        role: String,
        area_id: Option<Uuid>,
    }
    let g: G = store::fetch_opt(
        db,
        "SELECT user_id, role, area_id FROM grants WHERE id = $1",
        vec![grant_id.into()],
    )
    .await?
    .ok_or(AppError::NotFound)?;
    if g.role == Role::SystemAdmin.as_str() {
        let admins = store::fetch_i64(
            db,
            "SELECT COUNT(*) FROM grants g JOIN users u ON u.id = g.user_id WHERE g.role = $1 AND u.disabled = $2",
            vec![Role::SystemAdmin.as_str().into(), false.into()],
        )
        .await?;
        if admins <= 1 {
            return Err(AppError::conflict(
                "conflict",
                Msg::new(
                    "不能移除最后一个系统管理员",
                    "The last system admin cannot be removed",
                ),
            ));
        }
    }
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "DELETE FROM grants WHERE id = $1",
        vec![grant_id.into()],
    )
    .await?;
    audit::record(
        &tx,
        Entry::by(ctx, "grant.delete", "grant", Some(grant_id.to_string()))
            .area(g.area_id)
            .detail(g.role),
    )
    .await?;
    tx.commit().await?;
    if let Some(u) = g.user_id {
        state.auth_cache.forget_user(u);
    } else {
        state.auth_cache.clear();
    }
    Ok(())
}

/// Finds a user id by username (command line).
pub async fn id_by_username(db: &Db, username: &str) -> AppResult<Uuid> {
    #[derive(FromQueryResult)]
    struct I {
        id: Uuid,
    }
    store::fetch_opt::<I, _>(
        db,
        "SELECT id FROM users WHERE username = $1",
        vec![username.to_string().into()],
    )
    .await?
    .map(|i| i.id)
    .ok_or(AppError::NotFound)
}

/// Enables or disables a user (command line).
pub async fn set_disabled(db: &Db, ctx: &Ctx, id: Uuid, disabled: bool) -> AppResult<()> {
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "UPDATE users SET disabled = $1, updated_at = $2, version = version + 1 WHERE id = $3",
        vec![disabled.into(), now_ms().into(), id.into()],
    )
    .await?;
    if disabled {
        store::exec(
            &tx,
            "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
            vec![now_ms().into(), id.into()],
        )
        .await?;
    }
    audit::record(
        &tx,
        Entry::by(ctx, "user.update", "user", Some(id.to_string())).fields(&["disabled"]),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// All users, for `gongzhi user list`.
pub async fn list_all(db: &Db) -> AppResult<Vec<User>> {
    let rows: Vec<UserRow> = store::fetch_all(
        db,
        &format!("SELECT {COLS} FROM users ORDER BY username"),
        vec![],
    )
    .await?;
    let mut out = vec![];
    for r in rows {
        out.push(view(db, r).await?);
    }
    Ok(out)
}
