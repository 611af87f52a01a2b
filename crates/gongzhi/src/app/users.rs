//! Users and their grants. A system admin manages everyone; a delegated administrator (a
//! district, street or community admin: [`Permission::ManageUsers`] on an area) manages the users
//! whose home area lies in that area, grants only roles at or below their own there, and sees
//! everyone else as "not found".
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::{self, Entry};
use super::auth::{grants_of, GrantView};
use super::{scope, AppState, Ctx};
use crate::crypto::Keys;
use crate::domain::ids::{mask_mobile, MobileNo};
use crate::domain::role::{Permission, Role};
use crate::domain::{clean_name, ms_to_rfc3339, new_id, now_ms, password};
use crate::error::{map_unique, AppError, AppResult, FieldErrors, Msg};
use crate::store::{self, Db};

#[derive(Debug, Serialize, ToSchema)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    /// The user's home area (the office they belong to): who may manage them.
    pub area_id: Option<Uuid>,
    pub area_name: Option<String>,
    /// `138****5678`; the full number through `reveal-phone`, audited.
    pub phone_masked: Option<String>,
    /// `zh***@example.cn`: where e-mail messages go (stored encrypted).
    pub email_masked: Option<String>,
    /// The user's account id in the office's WeCom (企业微信): where WeCom messages go.
    pub wecom_userid: Option<String>,
    pub disabled: bool,
    pub must_change_password: bool,
    /// Set while the name is under a guessing attack (5 failed logins within 15 minutes): addresses
    /// that failed are refused and new addresses take turns until then; `unlock` ends it.
    pub locked_until: Option<String>,
    pub last_login_at: Option<String>,
    pub created_at: String,
    pub version: i32,
    pub grants: Vec<GrantView>,
    /// Whether the caller may change this user (false: a role above the caller's, or a grant
    /// outside the caller's area).
    pub manageable: bool,
    /// Only in the answer that created the user with a generated password: shown once, never
    /// stored in clear; the user must change it at first login.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_password: Option<String>,
}

/// A password handed to a person once (after a reset or a bulk creation).
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordHandover {
    pub username: String,
    pub display_name: String,
    pub password: String,
}

#[derive(FromQueryResult)]
struct UserRow {
    id: Uuid,
    username: String,
    display_name: String,
    area_id: Option<Uuid>,
    area_name: Option<String>,
    phone_enc: Option<String>,
    phone_masked: Option<String>,
    email_enc: Option<String>,
    email_masked: Option<String>,
    wecom_userid: Option<String>,
    disabled: bool,
    must_change_password: bool,
    locked_until: Option<i64>,
    last_login_at: Option<i64>,
    created_at: i64,
    version: i32,
}

const COLS: &str = "u.id, u.username, u.display_name, u.area_id, a.name AS area_name, u.phone_enc, u.phone_masked, \
    u.email_enc, u.email_masked, u.wecom_userid, u.disabled, u.must_change_password, u.locked_until, u.last_login_at, u.created_at, u.version";
const FROM: &str = "users u LEFT JOIN areas a ON a.id = u.area_id";

async fn view<C: ConnectionTrait>(c: &C, m: &Manager, ctx: &Ctx, r: UserRow) -> AppResult<User> {
    let now = now_ms();
    let grants = grants_of(c, Some(r.id), None).await?;
    let manageable = m.may_manage(c, ctx, r.area_id, &grants).await?;
    Ok(User {
        grants,
        id: r.id,
        username: r.username,
        display_name: r.display_name,
        area_id: r.area_id,
        area_name: r.area_name,
        phone_masked: r.phone_masked,
        email_masked: r.email_masked,
        wecom_userid: r.wecom_userid,
        disabled: r.disabled,
        must_change_password: r.must_change_password,
        locked_until: r.locked_until.filter(|t| *t > now).map(ms_to_rfc3339),
        last_login_at: r.last_login_at.map(ms_to_rfc3339),
        created_at: ms_to_rfc3339(r.created_at),
        version: r.version,
        manageable,
        initial_password: None,
    })
}

async fn load<C: ConnectionTrait>(c: &C, id: Uuid) -> AppResult<UserRow> {
    store::fetch_found(
        c,
        &format!("SELECT {COLS} FROM {FROM} WHERE u.id = $1"),
        vec![id.into()],
    )
    .await
}

/// System-wide administration (API tokens, sharing rules): system admins only (403 for everyone
/// else, before any lookup).
pub fn require_system(ctx: &Ctx) -> AppResult<scope::Checked> {
    scope::require_global(ctx, Permission::ManageSystem)
}

/// The caller as a manager of users: the grants that carry [`Permission::ManageUsers`], each an
/// area and the highest role the caller may hand out there (`None`: a system admin).
pub struct Manager {
    grants: Option<Vec<(Uuid, Role)>>,
    proof: scope::Checked,
}

impl Manager {
    /// 403 unless the caller manages users somewhere.
    pub fn of(ctx: &Ctx) -> AppResult<Manager> {
        let proof = scope::require_any(ctx, Permission::ManageUsers)?;
        if ctx.principal.is_system_admin() {
            return Ok(Manager {
                grants: None,
                proof,
            });
        }
        let grants: Vec<(Uuid, Role)> = ctx
            .principal
            .grants
            .iter()
            .filter(|g| Permission::ManageUsers.roles().contains(&g.role))
            .filter_map(|g| g.area_id.map(|a| (a, g.role)))
            .collect();
        if grants.is_empty() {
            return Err(AppError::forbidden());
        }
        Ok(Manager {
            grants: Some(grants),
            proof,
        })
    }

    /// The proof that the caller manages users somewhere; each user is then checked against it
    /// ([`Manager::manageable`], [`Manager::check_grant`]).
    pub fn proof(&self) -> &scope::Checked {
        &self.proof
    }

    fn is_system(&self) -> bool {
        self.grants.is_none()
    }

    fn roots(&self) -> Option<Vec<Uuid>> {
        self.grants
            .as_ref()
            .map(|g| g.iter().map(|(a, _)| *a).collect())
    }

    /// The highest rank the caller holds over `area` (0: none, the area is outside).
    async fn rank_over<C: ConnectionTrait>(&self, c: &C, ctx: &Ctx, area: Uuid) -> AppResult<u8> {
        let Some(grants) = &self.grants else {
            return Ok(Role::SystemAdmin.rank());
        };
        let anc = scope::ancestors_cached(c, ctx, area).await?;
        Ok(grants
            .iter()
            .filter(|(a, _)| anc.contains(a))
            .map(|(_, r)| r.rank())
            .max()
            .unwrap_or(0))
    }

    /// Whether `area` lies in the caller's scope as a manager (`None`: only a system admin's).
    async fn sees<C: ConnectionTrait>(
        &self,
        c: &C,
        ctx: &Ctx,
        area: Option<Uuid>,
    ) -> AppResult<bool> {
        match (area, self.is_system()) {
            (_, true) => Ok(true),
            (None, false) => Ok(false),
            (Some(a), false) => Ok(self.rank_over(c, ctx, a).await? > 0),
        }
    }

    /// Checks that the caller may grant `role` on `area`: 404 for an area outside their scope, 403
    /// `users.role_above_own` for a role above the one they hold there (or a system-wide grant).
    #[tracing::instrument(name = "users::check_grant", skip_all)]
    pub async fn check_grant<C: ConnectionTrait>(
        &self,
        c: &C,
        ctx: &Ctx,
        role: Role,
        area: Option<Uuid>,
    ) -> AppResult<()> {
        if self.is_system() {
            return Ok(());
        }
        let Some(area) = area else {
            return Err(role_above_own());
        };
        let rank = self.rank_over(c, ctx, area).await?;
        if rank == 0 {
            return Err(AppError::NotFound);
        }
        if role.rank() > rank || role == Role::SystemAdmin {
            return Err(role_above_own());
        }
        Ok(())
    }

    /// Whether the caller may change a user of home area `area` holding `grants`.
    async fn may_manage<C: ConnectionTrait>(
        &self,
        c: &C,
        ctx: &Ctx,
        area: Option<Uuid>,
        grants: &[GrantView],
    ) -> AppResult<bool> {
        if self.is_system() {
            return Ok(true);
        }
        if !self.sees(c, ctx, area).await? {
            return Ok(false);
        }
        for g in grants {
            if self.check_grant(c, ctx, g.role, g.area_id).await.is_err() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Loads a user the caller can see (404 otherwise).
    async fn visible<C: ConnectionTrait>(&self, c: &C, ctx: &Ctx, id: Uuid) -> AppResult<UserRow> {
        let r = load(c, id).await?;
        if self.sees(c, ctx, r.area_id).await? {
            Ok(r)
        } else {
            Err(AppError::NotFound)
        }
    }

    /// Loads a user the caller may change: 404 outside their scope, 403 for one who holds a role
    /// above theirs.
    async fn manageable<C: ConnectionTrait>(
        &self,
        c: &C,
        ctx: &Ctx,
        id: Uuid,
    ) -> AppResult<UserRow> {
        let r = self.visible(c, ctx, id).await?;
        let grants = grants_of(c, Some(id), None).await?;
        if self.may_manage(c, ctx, r.area_id, &grants).await? {
            Ok(r)
        } else {
            Err(AppError::Forbidden {
                code: "users.above_own",
                msg: Msg::new(
                    "该用户拥有高于您的角色或其他区域的授权，只能由上级管理员修改",
                    "This user holds a role above yours or a grant outside your area; a higher administrator must change them",
                ),
            })
        }
    }
}

fn role_above_own() -> AppError {
    AppError::Forbidden {
        code: "users.role_above_own",
        msg: Msg::new(
            "只能授予不高于自己的角色，且须在自己管理的区域内",
            "You can grant only roles up to your own, within the areas you manage",
        ),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    /// Part of the username or display name.
    pub q: Option<String>,
    /// Users whose home area lies in this area.
    pub area_id: Option<Uuid>,
}

#[tracing::instrument(name = "users::list", skip_all)]
pub async fn list(
    db: &Db,
    ctx: &Ctx,
    f: &UserFilter,
    paging: store::Paging,
) -> AppResult<(Vec<User>, i64)> {
    let m = Manager::of(ctx)?;
    let mut w = crate::store::sql::Where::new();
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let like = format!("%{}%", store::like_escape(q));
        w.and(
            "(u.username LIKE ? ESCAPE '\\' OR u.display_name LIKE ? ESCAPE '\\')",
            [like.clone().into(), like.into()],
        );
    }
    if let Some(a) = f.area_id {
        if !m.sees(db, ctx, Some(a)).await? || !scope::can_see(db, ctx, a).await? {
            return Err(AppError::NotFound);
        }
        w.and(
            "u.area_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = ?)",
            [a.into()],
        );
    }
    // Only the users whose home area the caller manages.
    if let Some(roots) = m.roots() {
        w.and_cond(if roots.is_empty() {
            crate::store::sql::Cond::none()
        } else {
            crate::store::sql::Cond::new(
                format!(
                    "u.area_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id IN ({}))",
                    vec!["?"; roots.len()].join(", ")
                ),
                roots.into_iter().map(Value::from),
            )
        });
    }
    let (cond, values) = w.build(1);
    let (rows, total): (Vec<UserRow>, i64) = store::page(
        db,
        &format!("SELECT COUNT(*) FROM {FROM} WHERE {cond}"),
        &format!("SELECT {COLS} FROM {FROM} WHERE {cond} ORDER BY u.username"),
        values,
        paging,
    )
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(view(db, &m, ctx, r).await?);
    }
    Ok((out, total))
}

#[tracing::instrument(name = "users::get", skip_all)]
pub async fn get(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<User> {
    let m = Manager::of(ctx)?;
    let r = m.visible(db, ctx, id).await?;
    view(db, &m, ctx, r).await
}

/// A first password that meets the policy: three groups of four from an alphabet without look-alikes
/// (no 0/O, 1/l/I), e.g. `Kp7m-Xr4t-9wQa`.
pub fn generate_password(username: &str) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    loop {
        let groups: Vec<String> = (0..3)
            .map(|_| {
                (0..4)
                    .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                    .collect()
            })
            .collect();
        let pw = groups.join("-");
        let has = |f: fn(&char) -> bool| pw.chars().any(|c| f(&c));
        if has(char::is_ascii_lowercase)
            && has(char::is_ascii_uppercase)
            && has(char::is_ascii_digit)
            && password::check_policy(username, &pw).is_ok()
        {
            return pw;
        }
    }
}

/// A mobile for a user: `None` for empty, the checked number, or a field error.
fn check_phone(p: Option<&str>) -> Result<Option<String>, Msg> {
    match p.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(m) => MobileNo::parse(m).map(|m| Some(m.as_str().to_string())),
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    /// The user's home area; required for everyone but a system admin, within their scope.
    pub area_id: Option<Uuid>,
    /// A mainland mobile, stored encrypted and shown masked.
    pub phone: Option<String>,
    /// Omitted: a first password is generated and returned once in `initial_password`.
    pub password: Option<String>,
    /// Default true: the user must change the password at first login.
    pub must_change_password: Option<bool>,
    /// Also grants this role on `area_id` in the same step.
    pub role: Option<String>,
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

/// A new user whose fields passed their checks (not yet the caller's rights).
pub(super) struct Checked {
    pub username: String,
    pub display_name: String,
    pub area_id: Option<Uuid>,
    pub phone: Option<String>,
    pub password: String,
    pub generated: bool,
    pub must_change: bool,
    pub role: Option<Role>,
}

pub(super) fn check_new(input: NewUser) -> Result<Checked, FieldErrors> {
    let mut errs = FieldErrors::new();
    let username = check_username(&input.username)
        .map_err(|m| errs.insert("username".into(), m))
        .ok();
    let display = clean_name(&input.display_name, 100)
        .map_err(|m| errs.insert("display_name".into(), m))
        .ok();
    let phone = check_phone(input.phone.as_deref())
        .map_err(|m| errs.insert("phone".into(), m))
        .ok()
        .flatten();
    let role = match input
        .role
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        None => None,
        Some(r) => match Role::parse_loose(r) {
            Some(r) => Some(r),
            None => {
                errs.insert("role".into(), Msg::new("未知的角色", "Unknown role"));
                None
            }
        },
    };
    if role.is_some_and(|r| r != Role::SystemAdmin) && input.area_id.is_none() {
        errs.insert(
            "area_id".into(),
            Msg::new("请选择授权的区域", "Choose the area of the grant"),
        );
    }
    let (password, generated) = match (&username, input.password) {
        (Some(u), Some(pw)) => {
            if let Err(m) = password::check_policy(u, &pw) {
                errs.insert("password".into(), m);
            }
            (pw, false)
        }
        (Some(u), None) => (generate_password(u), true),
        (None, _) => (String::new(), false),
    };
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(Checked {
        username: username.unwrap_or_default(),
        display_name: display.unwrap_or_default(),
        area_id: input.area_id,
        phone,
        password,
        generated,
        must_change: input.must_change_password.unwrap_or(true) || generated,
        role,
    })
}

/// 404 for an area outside the caller's scope as a manager; a delegated admin must name one.
pub(super) async fn check_rights<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    m: &Manager,
    n: &Checked,
) -> AppResult<()> {
    match n.area_id {
        None if !m.is_system() => {
            return Err(AppError::field(
                "area_id",
                Msg::new("请选择所属区域", "Choose the user's area"),
            ))
        }
        None => {}
        Some(a) => {
            if !m.sees(c, ctx, Some(a)).await? || !scope::can_see(c, ctx, a).await? {
                return Err(AppError::NotFound);
            }
        }
    }
    if let Some(role) = n.role {
        m.check_grant(c, ctx, role, n.area_id).await?;
    }
    Ok(())
}

/// Writes a checked user (and its first grant) in `tx`; returns its id.
pub(super) async fn insert(
    tx: &sea_orm::DatabaseTransaction,
    keys: Option<&Keys>,
    ctx: &Ctx,
    allowed: &scope::Checked,
    n: &Checked,
    hash: String,
) -> AppResult<Uuid> {
    let id = new_id();
    let now = now_ms();
    let (phone_enc, phone_masked, phone_bidx) = match (&n.phone, keys) {
        (Some(p), Some(k)) => (
            Some(k.encrypt(p)),
            Some(mask_mobile(p)),
            Some(k.blind_index("mobile", p)),
        ),
        (Some(_), None) => return Err(AppError::internal("a phone without the keys")),
        (None, _) => (None, None, None),
    };
    store::exec(
        tx,
        "INSERT INTO users (id, username, display_name, password_hash, disabled, must_change_password, failed_logins, \
         password_changed_at, created_at, updated_at, version, area_id, phone_enc, phone_masked, phone_bidx) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7, $7, 1, $8, $9, $10, $11)",
        vec![
            id.into(),
            n.username.clone().into(),
            n.display_name.clone().into(),
            hash.into(),
            false.into(),
            n.must_change.into(),
            now.into(),
            n.area_id.into(),
            phone_enc.into(),
            phone_masked.into(),
            phone_bidx.into(),
        ],
    )
    .await
    .map_err(|e| map_unique(e, "username", Msg::new("该用户名已存在", "This username is taken")))?;
    let mut fields = vec!["username", "display_name", "password", "area_id"];
    if n.phone.is_some() {
        fields.push("phone");
    }
    Entry::by(ctx, allowed, "user.create", "user", id)
        .fields(&fields)
        .area(n.area_id)
        .record(tx)
        .await?;
    if let Some(role) = n.role {
        let area = if role == Role::SystemAdmin {
            None
        } else {
            n.area_id
        };
        insert_grant(tx, ctx, allowed, id, role, area).await?;
    }
    Ok(id)
}

#[tracing::instrument(name = "users::create", skip_all)]
pub async fn create(state: &AppState, ctx: &Ctx, input: NewUser) -> AppResult<User> {
    let m = Manager::of(ctx)?;
    let n = check_new(input).map_err(AppError::Validation)?;
    check_rights(&state.db, ctx, &m, &n).await?;
    let hash = super::auth::hash_password(&n.password).await?;
    let tx = store::write_tx(&state.db).await?;
    let id = insert(&tx, Some(&state.keys), ctx, m.proof(), &n, hash).await?;
    let mut u = view(&tx, &m, ctx, load(&tx, id).await?).await?;
    tx.commit().await?;
    if n.generated {
        u.initial_password = Some(n.password);
    }
    Ok(u)
}

/// Creates a user without checking the caller (for the command line and the demo; no phone).
#[tracing::instrument(name = "users::create_unchecked", skip_all)]
pub async fn create_unchecked(db: &Db, ctx: &Ctx, input: NewUser) -> AppResult<User> {
    // The command line's and the demo's contexts are the system's: they manage every user.
    let m = Manager::of(ctx)?;
    let n = check_new(input).map_err(AppError::Validation)?;
    let hash = super::auth::hash_password(&n.password).await?;
    let tx = store::write_tx(db).await?;
    let id = insert(&tx, None, ctx, m.proof(), &n, hash).await?;
    let mut u = view(&tx, &m, ctx, load(&tx, id).await?).await?;
    tx.commit().await?;
    if n.generated {
        u.initial_password = Some(n.password);
    }
    Ok(u)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub disabled: Option<bool>,
    /// Forgets the user's failed logins: addresses barred for the name and the back-off end.
    pub unlock: Option<bool>,
    /// A mainland mobile; "" clears it.
    pub phone: Option<String>,
    /// An e-mail address for messages; "" clears it.
    pub email: Option<String>,
    /// The user's account id in the office's WeCom; "" clears it.
    pub wecom_userid: Option<String>,
    /// Moves the user to another home area within the caller's scope.
    pub area_id: Option<Uuid>,
}

/// An e-mail address: `None` for empty, the checked address, or a field error.
pub fn check_email(e: &str) -> Result<Option<String>, Msg> {
    let e = e.trim();
    if e.is_empty() {
        return Ok(None);
    }
    let ok = e.len() <= 120
        && e.parse::<lettre::Address>().is_ok()
        && !e.chars().any(|c| c.is_control() || c.is_whitespace());
    if ok {
        Ok(Some(e.to_string()))
    } else {
        Err(Msg::new(
            "不是有效的电子邮箱地址",
            "Not a valid e-mail address",
        ))
    }
}

/// `zh***@example.cn`.
pub fn mask_email(e: &str) -> String {
    match e.split_once('@') {
        Some((local, domain)) => {
            let head: String = local.chars().take(2).collect();
            format!("{head}***@{domain}")
        }
        None => "***".into(),
    }
}

/// A WeCom account id: `None` for empty; letters, digits and `_ - . @`, at most 64.
fn check_wecom_userid(w: &str) -> Result<Option<String>, Msg> {
    let w = w.trim();
    if w.is_empty() {
        return Ok(None);
    }
    if w.len() <= 64
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'))
    {
        Ok(Some(w.to_string()))
    } else {
        Err(Msg::new(
            "企业微信账号只能包含字母、数字和 _ - . @，最多 64 个字符",
            "A WeCom account id has letters, digits and _ - . @ only, at most 64",
        ))
    }
}

#[tracing::instrument(name = "users::update", skip_all)]
pub async fn update(state: &AppState, ctx: &Ctx, id: Uuid, p: UserPatch) -> AppResult<User> {
    let db = &state.db;
    let m = Manager::of(ctx)?;
    let cur = m.manageable(db, ctx, id).await?;
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
    // A new phone gets its index too (sign-up looks accounts up by it).
    let mut phone_bidx: Option<Option<String>> = None;
    let (phone_enc, phone_masked) = match &p.phone {
        None => (cur.phone_enc.clone(), cur.phone_masked.clone()),
        Some(raw) => {
            changed.push("phone");
            let ph = check_phone(Some(raw)).map_err(|m| AppError::field("phone", m))?;
            phone_bidx = Some(ph.as_deref().map(|ph| state.keys.blind_index("mobile", ph)));
            match ph {
                Some(ph) => (Some(state.keys.encrypt(&ph)), Some(mask_mobile(&ph))),
                None => (None, None),
            }
        }
    };
    let (email_enc, email_masked) = match &p.email {
        None => (cur.email_enc.clone(), cur.email_masked.clone()),
        Some(raw) => {
            changed.push("email");
            match check_email(raw).map_err(|m| AppError::field("email", m))? {
                Some(e) => (Some(state.keys.encrypt(&e)), Some(mask_email(&e))),
                None => (None, None),
            }
        }
    };
    let wecom_userid = match &p.wecom_userid {
        None => cur.wecom_userid.clone(),
        Some(raw) => {
            changed.push("wecom_userid");
            check_wecom_userid(raw).map_err(|m| AppError::field("wecom_userid", m))?
        }
    };
    let area = match p.area_id {
        None => cur.area_id,
        Some(a) => {
            changed.push("area_id");
            if !m.sees(db, ctx, Some(a)).await? || !scope::can_see(db, ctx, a).await? {
                return Err(AppError::NotFound);
            }
            Some(a)
        }
    };
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "UPDATE users SET display_name = $1, disabled = $2, updated_at = $3, version = version + 1, \
         phone_enc = $4, phone_masked = $5, area_id = $6, email_enc = $7, email_masked = $8, wecom_userid = $9 \
         WHERE id = $10",
        vec![
            display.into(),
            disabled.into(),
            now_ms().into(),
            phone_enc.into(),
            phone_masked.into(),
            area.into(),
            email_enc.into(),
            email_masked.into(),
            wecom_userid.into(),
            id.into(),
        ],
    )
    .await?;
    if let Some(bidx) = phone_bidx {
        store::exec(
            &tx,
            "UPDATE users SET phone_bidx = $1 WHERE id = $2",
            vec![bidx.into(), id.into()],
        )
        .await?;
    }
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
    Entry::by(ctx, m.proof(), "user.update", "user", id)
        .fields(&changed)
        .area(area)
        .record(&tx)
        .await?;
    let u = view(&tx, &m, ctx, load(&tx, id).await?).await?;
    tx.commit().await?;
    state.auth_cache.forget_user(id);
    Ok(u)
}

/// Sets a new password (the one given, or a generated one) and hands it over once; the user must
/// change it at next login, and their sessions end.
#[tracing::instrument(name = "users::reset_password", skip_all)]
pub async fn reset_password(
    state: &AppState,
    ctx: &Ctx,
    id: Uuid,
    new_password: Option<String>,
) -> AppResult<PasswordHandover> {
    let m = Manager::of(ctx)?;
    let cur = m.manageable(&state.db, ctx, id).await?;
    let pw = new_password.unwrap_or_else(|| generate_password(&cur.username));
    reset_password_unchecked(&state.db, ctx, id, &pw).await?;
    state.auth_cache.forget_user(id);
    Ok(PasswordHandover {
        username: cur.username,
        display_name: cur.display_name,
        password: pw,
    })
}

#[tracing::instrument(name = "users::reset_password_unchecked", skip_all)]
pub async fn reset_password_unchecked(
    db: &Db,
    ctx: &Ctx,
    id: Uuid,
    new_password: &str,
) -> AppResult<()> {
    // The command line's (a system context), or a manager's after their check.
    let allowed = scope::require_any(ctx, Permission::ManageUsers)?;
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
    Entry::by(ctx, &allowed, "user.reset_password", "user", id)
        .fields(&["password"])
        .area(cur.area_id)
        .record(&tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealReason {
    /// Why the full number is needed (2–200 characters); written to the audit log.
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevealedPhone {
    pub phone: Option<String>,
}

/// The user's full mobile, for a manager of the user, with a reason; audited.
#[tracing::instrument(name = "users::reveal_phone", skip_all)]
pub async fn reveal_phone(
    state: &AppState,
    ctx: &Ctx,
    id: Uuid,
    r: RevealReason,
) -> AppResult<RevealedPhone> {
    let m = Manager::of(ctx)?;
    let cur = m.manageable(&state.db, ctx, id).await?;
    let reason = r.reason.trim();
    if reason.chars().count() < 2 || reason.chars().count() > 200 {
        return Err(AppError::field(
            "reason",
            Msg::new(
                "请填写查看原因（2–200 字）",
                "Give the reason (2–200 characters)",
            ),
        ));
    }
    audit::record_alone(
        &state.db,
        Entry::by(ctx, m.proof(), "user.reveal", "user", id)
            .area(cur.area_id)
            .fields(&["phone"])
            .detail(reason.to_string()),
    )
    .await?;
    Ok(RevealedPhone {
        phone: cur.phone_enc.as_deref().and_then(|e| state.keys.decrypt(e)),
    })
}

/// A user's live sessions, for their manager.
#[tracing::instrument(name = "users::sessions_of", skip_all)]
pub async fn sessions_of(
    state: &AppState,
    ctx: &Ctx,
    id: Uuid,
) -> AppResult<Vec<super::sessions::SessionView>> {
    let m = Manager::of(ctx)?;
    m.visible(&state.db, ctx, id).await?;
    super::sessions::list_of(state, id, ctx.principal.session_id).await
}

/// Ends every session of a user (a lost phone, a worker who left), for their manager; audited.
#[tracing::instrument(name = "users::end_sessions_of", skip_all)]
pub async fn end_sessions_of(
    state: &AppState,
    ctx: &Ctx,
    id: Uuid,
) -> AppResult<super::sessions::Ended> {
    let m = Manager::of(ctx)?;
    let cur = m.manageable(&state.db, ctx, id).await?;
    let tx = store::write_tx(&state.db).await?;
    let ended = store::exec(
        &tx,
        "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        vec![now_ms().into(), id.into()],
    )
    .await?;
    Entry::by(ctx, m.proof(), "user.end_sessions", "user", id)
        .area(cur.area_id)
        .detail(format!("{ended}"))
        .record(&tx)
        .await?;
    tx.commit().await?;
    state.auth_cache.forget_user(id);
    Ok(super::sessions::Ended { ended })
}

#[derive(Debug, Deserialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct NewGrant {
    pub role: String,
    /// Required for every role but system_admin.
    pub area_id: Option<Uuid>,
}

/// Validates a grant request; returns the role and area.
#[tracing::instrument(name = "users::check_grant", skip_all)]
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

#[tracing::instrument(name = "users::add_grant", skip_all)]
pub async fn add_grant(
    state: &AppState,
    ctx: &Ctx,
    user_id: Uuid,
    g: NewGrant,
) -> AppResult<GrantView> {
    let db = &state.db;
    let m = Manager::of(ctx)?;
    m.manageable(db, ctx, user_id).await?;
    let (role, area) = check_grant(db, &g).await?;
    if let Some(a) = area {
        if !scope::can_see(db, ctx, a).await? {
            return Err(AppError::NotFound);
        }
    }
    m.check_grant(db, ctx, role, area).await?;
    let view = add_grant_unchecked(db, ctx, user_id, g).await?;
    state.auth_cache.forget_user(user_id);
    Ok(view)
}

/// Writes a grant in `tx` (refusing a duplicate) and audits it; the first area granted becomes
/// the user's home area when they have none.
pub(super) async fn insert_grant(
    tx: &sea_orm::DatabaseTransaction,
    ctx: &Ctx,
    allowed: &scope::Checked,
    user_id: Uuid,
    role: Role,
    area: Option<Uuid>,
) -> AppResult<Uuid> {
    let dup = store::fetch_i64(
        tx,
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
        tx,
        "INSERT INTO grants (id, user_id, token_id, role, area_id, created_at, created_by) VALUES ($1, $2, NULL, $3, $4, $5, $6)",
        vec![id.into(), user_id.into(), role.as_str().into(), area.into(), now_ms().into(), ctx.principal.actor_id().into()],
    )
    .await?;
    if let Some(a) = area {
        store::exec(
            tx,
            "UPDATE users SET area_id = $1 WHERE id = $2 AND area_id IS NULL",
            vec![a.into(), user_id.into()],
        )
        .await?;
    }
    Entry::by(ctx, allowed, "grant.create", "grant", id)
        .fields(&["role", "area_id"])
        .area(area)
        .detail(format!("user {user_id}: {}", role.as_str()))
        .record(tx)
        .await?;
    Ok(id)
}

#[tracing::instrument(name = "users::add_grant_unchecked", skip_all)]
pub async fn add_grant_unchecked(
    db: &Db,
    ctx: &Ctx,
    user_id: Uuid,
    g: NewGrant,
) -> AppResult<GrantView> {
    // A manager after `add_grant`'s checks, or the command line's and the demo's system context.
    let m = Manager::of(ctx)?;
    let (role, area) = check_grant(db, &g).await?;
    let tx = store::write_tx(db).await?;
    let id = insert_grant(&tx, ctx, m.proof(), user_id, role, area).await?;
    let v = grants_of(&tx, Some(user_id), None)
        .await?
        .into_iter()
        .find(|g| g.id == id)
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(v)
}

#[tracing::instrument(name = "users::delete_grant", skip_all)]
pub async fn delete_grant(state: &AppState, ctx: &Ctx, grant_id: Uuid) -> AppResult<()> {
    let db = &state.db;
    let m = Manager::of(ctx)?;
    #[derive(FromQueryResult)]
    struct G {
        user_id: Option<Uuid>,
        role: String,
        area_id: Option<Uuid>,
    }
    let g: G = store::fetch_found(
        db,
        "SELECT user_id, role, area_id FROM grants WHERE id = $1",
        vec![grant_id.into()],
    )
    .await?;
    if !m.is_system() {
        // A token's grants are the system admin's; a user's, their manager's.
        let Some(user) = g.user_id else {
            return Err(AppError::NotFound);
        };
        m.manageable(db, ctx, user).await?;
        let role = Role::parse(&g.role).ok_or(AppError::NotFound)?;
        m.check_grant(db, ctx, role, g.area_id).await?;
    }
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
    Entry::by(ctx, m.proof(), "grant.delete", "grant", grant_id)
        .area(g.area_id)
        .detail(g.role)
        .record(&tx)
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
#[tracing::instrument(name = "users::id_by_username", skip_all)]
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
#[tracing::instrument(name = "users::set_disabled", skip_all)]
pub async fn set_disabled(db: &Db, ctx: &Ctx, id: Uuid, disabled: bool) -> AppResult<()> {
    let allowed = scope::require_global(ctx, Permission::ManageUsers)?;
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
    Entry::by(ctx, &allowed, "user.update", "user", id)
        .fields(&["disabled"])
        .record(&tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// All users, for `gongzhi user list`.
#[tracing::instrument(name = "users::list_all", skip_all)]
pub async fn list_all(db: &Db, ctx: &Ctx) -> AppResult<Vec<User>> {
    let rows: Vec<UserRow> = store::fetch_all(
        db,
        &format!("SELECT {COLS} FROM {FROM} ORDER BY u.username"),
        vec![],
    )
    .await?;
    let m = Manager::of(ctx)?;
    let mut out = vec![];
    for r in rows {
        out.push(view(db, &m, ctx, r).await?);
    }
    Ok(out)
}
