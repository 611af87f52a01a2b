//! Identity: logins with lockout and rate limits, sessions, API tokens, password changes, and the
//! first `admin` account. Every piece of state lives in the database, so several instances agree.
use std::sync::Arc;

use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::{self, Entry};
use super::login_guard as guard;
use super::{AppState, Ctx, GrantRef, Origin, Principal, PrincipalKind, SessionClock};
use crate::crypto;
use crate::domain::role::Role;
use crate::domain::{new_id, now_ms, password};
use crate::error::{AppError, AppResult, Msg};
use crate::store::{self, Db};

/// Argon2 runs on a small pool of its own, one thread per core, each keeping its 19 MiB of
/// working memory: more at once would only thrash the CPU, and allocating per login would leave
/// the process hundreds of megabytes large.
type HashJob = Box<dyn FnOnce(&mut password::Hasher) + Send>;

fn hash_pool() -> &'static std::sync::Mutex<std::sync::mpsc::Sender<HashJob>> {
    static POOL: std::sync::OnceLock<std::sync::Mutex<std::sync::mpsc::Sender<HashJob>>> =
        std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<HashJob>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        let n = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        for i in 0..n {
            let rx = rx.clone();
            let _ = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    let mut hasher = password::Hasher::new();
                    loop {
                        let job = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(&mut hasher),
                            Err(_) => return,
                        }
                    }
                });
        }
        std::sync::Mutex::new(tx)
    })
}

async fn on_hash_pool<T: Send + 'static>(
    f: impl FnOnce(&mut password::Hasher) -> T + Send + 'static,
) -> AppResult<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: HashJob = Box::new(move |h| {
        let _ = tx.send(f(h));
    });
    hash_pool()
        .lock()
        .map_err(|_| AppError::internal("hash pool poisoned"))?
        .send(job)
        .map_err(|_| AppError::internal("hash pool stopped"))?;
    rx.await.map_err(|_| AppError::internal("hash job lost"))
}

/// Verifies a password against a PHC hash without blocking the async workers.
#[tracing::instrument(name = "auth::verify_password", skip_all)]
pub async fn verify_password(password: &str, phc: &str) -> AppResult<bool> {
    let (p, h) = (password.to_string(), phc.to_string());
    on_hash_pool(move |hasher| hasher.verify(&p, &h)).await
}

/// Hashes a password without blocking the async workers.
#[tracing::instrument(name = "auth::hash_password", skip_all)]
pub async fn hash_password(password: &str) -> AppResult<String> {
    let p = password.to_string();
    on_hash_pool(move |hasher| hasher.hash(&p)).await
}

/// API tokens' `last_used_at` is written at most this often.
const TOUCH_TOKEN_EVERY_MS: i64 = 60_000;

#[derive(Debug, Serialize, ToSchema, Clone)]
pub struct GrantView {
    pub id: Uuid,
    pub role: Role,
    /// `null`: system-wide (system admin only).
    pub area_id: Option<Uuid>,
    pub area_name: Option<String>,
    pub area_kind: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub must_change_password: bool,
    pub grants: Vec<GrantView>,
    /// What the grants allow somewhere (from the one permission table): the console's menus.
    pub permissions: Vec<crate::domain::role::Permission>,
    /// The account belongs to a registry person (a confirmed claim, app/signup.rs).
    pub person_linked: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResult {
    /// Session token; also set as the `gongzhi_session` cookie. Send as `Authorization: Bearer`.
    pub token: String,
    pub user: Me,
}

#[derive(FromQueryResult)]
struct UserAuthRow {
    id: Uuid,
    username: String,
    display_name: String,
    password_hash: String,
    disabled: bool,
    must_change_password: bool,
    person_id: Option<Uuid>,
}

#[derive(FromQueryResult)]
struct GrantRow {
    id: Uuid,
    role: String,
    area_id: Option<Uuid>,
    area_name: Option<String>,
    area_kind: Option<String>,
}

/// The grants of a user or a token, with their areas' names.
#[tracing::instrument(name = "auth::grants_of", skip_all)]
pub async fn grants_of<C: ConnectionTrait>(
    c: &C,
    user_id: Option<Uuid>,
    token_id: Option<Uuid>,
) -> AppResult<Vec<GrantView>> {
    let (col, id) = match (user_id, token_id) {
        (Some(u), _) => ("user_id", u),
        (None, Some(t)) => ("token_id", t),
        _ => return Ok(vec![]),
    };
    let rows: Vec<GrantRow> = store::fetch_all(
        c,
        &format!(
            "SELECT g.id, g.role, g.area_id, a.name AS area_name, a.kind AS area_kind \
             FROM grants g LEFT JOIN areas a ON a.id = g.area_id WHERE g.{col} = $1 ORDER BY g.created_at, g.id"
        ),
        vec![id.into()],
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(GrantView {
                id: r.id,
                role: Role::parse(&r.role)?,
                area_id: r.area_id,
                area_name: r.area_name,
                area_kind: r.area_kind,
            })
        })
        .collect())
}

#[tracing::instrument(name = "auth::me", skip_all)]
pub async fn me(db: &Db, user_id: Uuid) -> AppResult<Me> {
    #[derive(FromQueryResult)]
    struct U {
        id: Uuid,
        username: String,
        display_name: String,
        must_change_password: bool,
        person_id: Option<Uuid>,
    }
    let u: U = store::fetch_found(
        db,
        "SELECT id, username, display_name, must_change_password, person_id FROM users WHERE id = $1",
        vec![user_id.into()],
    )
    .await?;
    let grants = grants_of(db, Some(user_id), None).await?;
    Ok(Me {
        id: u.id,
        username: u.username,
        display_name: u.display_name,
        must_change_password: u.must_change_password,
        permissions: super::roles::held_by(grants.iter().map(|g| g.role)),
        grants,
        person_linked: u.person_id.is_some(),
    })
}

fn invalid_credentials() -> AppError {
    AppError::Unauthenticated {
        code: "auth.invalid_credentials",
        msg: Msg::new(
            "用户名或密码错误；连续失败多次后，请 15 分钟后再试",
            "Wrong username or password; after repeated failures, try again in 15 minutes",
        ),
    }
}

fn clip(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Records a refusal before any password was checked (rate limit, back-off) and returns it.
async fn refuse_early(
    db: &Db,
    origin: &Origin,
    name: &str,
    detail: &str,
    e: AppError,
) -> AppResult<LoginResult> {
    audit::record_alone(
        db,
        Entry::anonymous(origin, name, "auth.login")
            .result("denied")
            .detail(detail),
    )
    .await?;
    Err(e)
}

/// Signs a user in. Returns the new session token and the user.
///
/// A wrong password, an unknown name, a disabled account and an address barred for the name
/// (see [`guard`]) all get the same answer after the same Argon2 work.
#[tracing::instrument(name = "auth::login", skip_all)]
pub async fn login(
    state: &AppState,
    origin: &Origin,
    username: &str,
    pw: &str,
    user_agent: Option<&str>,
) -> AppResult<LoginResult> {
    let db = &state.db;
    let name = clip(username.trim(), 64);
    let now = now_ms();
    let per_minute = state.settings.login_rate_per_minute;
    if let Err(e) = guard::rate_limit(db, per_minute, origin, now).await {
        return refuse_early(db, origin, &name, "rate_limited", e).await;
    }
    let recent = guard::recent(db, &name, &origin.client_addr, now).await?;
    if recent.must_take_turns() {
        if let Err(e) = guard::take_turn(db, &name, now, recent.backoff_ms()).await {
            return refuse_early(db, origin, &name, "throttled", e).await;
        }
    }
    let user: Option<UserAuthRow> = store::fetch_opt(
        db,
        "SELECT id, username, display_name, password_hash, disabled, must_change_password, person_id \
         FROM users WHERE username = $1",
        vec![name.clone().into()],
    )
    .await?;
    let hash = match &user {
        Some(u) if !recent.barred() => u.password_hash.clone(),
        _ => password::dummy_hash().to_string(),
    };
    let verified = verify_password(pw, &hash).await?;
    match user {
        Some(u) if verified && !u.disabled && !recent.barred() => {
            start_session(state, origin, u, user_agent, now).await
        }
        u => {
            refuse_login(db, origin, &name, u.as_ref(), &recent, now).await?;
            Err(invalid_credentials())
        }
    }
}

/// Records a failed sign-in: the attempt, the audit row, and for a real account that is now
/// under attack the time until which the admin sees it as 锁定 (`users.locked_until`).
async fn refuse_login(
    db: &Db,
    origin: &Origin,
    name: &str,
    user: Option<&UserAuthRow>,
    recent: &guard::Recent,
    now: i64,
) -> AppResult<()> {
    let max = guard::MAX_FAILURES;
    let detail = match user {
        None => "unknown_user".to_string(),
        Some(_) if recent.barred() => format!("barred: {max} failures from this address"),
        Some(u) if u.disabled => "disabled".to_string(),
        Some(_) => format!(
            "wrong_password ({}/{max} from this address)",
            recent.from_here + 1
        ),
    };
    let tx = store::write_tx(db).await?;
    guard::note(&tx, origin, name, false, now).await?;
    let mut entry = Entry::anonymous(origin, name, "auth.login")
        .result("failed")
        .detail(detail);
    if let Some(u) = user {
        entry = entry.actor(Some(u.id), name);
        if recent.by_name + 1 >= max {
            store::exec(
                &tx,
                "UPDATE users SET locked_until = $1 WHERE id = $2",
                vec![(now + guard::WINDOW_MS).into(), u.id.into()],
            )
            .await?;
        }
    }
    audit::record(&tx, entry).await?;
    tx.commit().await?;
    Ok(())
}

/// The password was right: a new session (ending the others with `GONGZHI_SINGLE_SESSION`).
async fn start_session(
    state: &AppState,
    origin: &Origin,
    user: UserAuthRow,
    user_agent: Option<&str>,
    now: i64,
) -> AppResult<LoginResult> {
    let token = crypto::new_token("gzs_");
    let session_id = new_id();
    let expires = now + state.settings.session_absolute_hours as i64 * 3_600_000;
    let tx = store::write_tx(&state.db).await?;
    store::exec(
        &tx,
        "UPDATE users SET failed_logins = 0, last_login_at = $1 WHERE id = $2",
        vec![now.into(), user.id.into()],
    )
    .await?;
    if state.settings.single_session {
        store::exec(
            &tx,
            "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
            vec![now.into(), user.id.into()],
        )
        .await?;
        state.auth_cache.forget_user(user.id);
    }
    store::exec(
        &tx,
        "INSERT INTO sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at, revoked_at, client_addr, \
         user_agent) VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8)",
        vec![
            session_id.into(),
            crypto::token_hash(&token).into(),
            user.id.into(),
            now.into(),
            now.into(),
            expires.into(),
            origin.client_addr.clone().into(),
            user_agent.map(|a| clip(a, 200)).into(),
        ],
    )
    .await?;
    guard::clear_here(&tx, &user.username, &origin.client_addr).await?;
    guard::note(&tx, origin, &user.username, true, now).await?;
    let grants = grants_of(&tx, Some(user.id), None).await?;
    let mut e =
        Entry::anonymous(origin, &user.username, "auth.login").actor(Some(user.id), &user.username);
    e.object_id = Some(session_id.to_string());
    e.role = Some(
        grants
            .iter()
            .map(|g| g.role.as_str())
            .collect::<Vec<_>>()
            .join(","),
    )
    .filter(|s| !s.is_empty());
    audit::record(&tx, e).await?;
    tx.commit().await?;

    Ok(LoginResult {
        token,
        user: Me {
            id: user.id,
            username: user.username,
            display_name: user.display_name,
            must_change_password: user.must_change_password,
            permissions: super::roles::held_by(grants.iter().map(|g| g.role)),
            grants,
            person_linked: user.person_id.is_some(),
        },
    })
}

#[derive(FromQueryResult)]
struct SessionRow {
    id: Uuid,
    user_id: Uuid,
    last_seen_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
    username: String,
    display_name: String,
    disabled: bool,
    must_change_password: bool,
}

#[derive(FromQueryResult)]
struct TokenRow {
    id: Uuid,
    name: String,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

fn expired() -> AppError {
    AppError::Unauthenticated {
        code: "auth.session_expired",
        msg: Msg::new(
            "登录已过期，请重新登录",
            "Your session has ended; please sign in again",
        ),
    }
}

fn principal_grants(grants: Vec<GrantView>) -> Vec<GrantRef> {
    grants
        .into_iter()
        .map(|g| GrantRef {
            role: g.role,
            area_id: g.area_id,
        })
        .collect()
}

/// Resolves a bearer token or session cookie to the principal it stands for.
#[tracing::instrument(name = "auth::authenticate", skip_all)]
pub async fn authenticate(state: &AppState, token: &str) -> AppResult<Arc<Principal>> {
    if token.len() > 200 {
        return Err(expired());
    }
    let key = crypto::token_hash(token);
    let now = now_ms();
    let idle_ms = state.settings.session_idle_ms as i64;
    if let Some((p, clock)) = state.auth_cache.get(&key, state.settings.auth_cache_ms) {
        match clock {
            None => return Ok(p),
            Some(c) if c.alive(now, idle_ms) => {
                touch_session(state, &key, &p, c.last_seen, now);
                return Ok(p);
            }
            // Idle as far as this instance knows; another may have seen it since.
            Some(_) => {}
        }
    }
    let (principal, clock) = if token.starts_with("gz_") {
        (token_principal(state, &key, now).await?, None)
    } else {
        let (p, c) = session_principal(state, &key, now).await?;
        (p, Some(c))
    };
    let p = Arc::new(principal);
    state.auth_cache.put(key.clone(), p.clone(), clock);
    if let Some(c) = clock {
        touch_session(state, &key, &p, c.last_seen, now);
    }
    Ok(p)
}

async fn token_principal(state: &AppState, key: &str, now: i64) -> AppResult<Principal> {
    let db = &state.db;
    let t: TokenRow = store::fetch_opt(
        db,
        "SELECT id, name, expires_at, last_used_at, revoked_at FROM api_tokens WHERE token_hash = $1",
        vec![key.to_string().into()],
    )
    .await?
    .ok_or_else(expired)?;
    if t.revoked_at.is_some() || t.expires_at.is_some_and(|e| e <= now) {
        return Err(expired());
    }
    if t.last_used_at
        .is_none_or(|l| now - l > TOUCH_TOKEN_EVERY_MS)
    {
        store::exec(
            db,
            "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2",
            vec![now.into(), t.id.into()],
        )
        .await?;
    }
    Ok(Principal {
        kind: PrincipalKind::ApiToken,
        user_id: None,
        token_id: Some(t.id),
        session_id: None,
        display_name: t.name.clone(),
        name: format!("token:{}", t.name),
        grants: principal_grants(grants_of(db, None, Some(t.id)).await?),
        must_change_password: false,
    })
}

/// A session is refused once `now − last activity > idle timeout`, exactly, or after its
/// absolute end.
async fn session_principal(
    state: &AppState,
    key: &str,
    now: i64,
) -> AppResult<(Principal, SessionClock)> {
    let s: SessionRow = store::fetch_opt(
        &state.db,
        "SELECT s.id, s.user_id, s.last_seen_at, s.expires_at, s.revoked_at, u.username, u.display_name, u.disabled, \
         u.must_change_password FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
        vec![key.to_string().into()],
    )
    .await?
    .ok_or_else(expired)?;
    let clock = SessionClock {
        last_seen: s.last_seen_at,
        expires: s.expires_at,
    };
    let idle_ms = state.settings.session_idle_ms as i64;
    if s.revoked_at.is_some() || s.disabled || !clock.alive(now, idle_ms) {
        return Err(expired());
    }
    let principal = Principal {
        kind: PrincipalKind::User,
        user_id: Some(s.user_id),
        token_id: None,
        session_id: Some(s.id),
        display_name: s.display_name,
        name: s.username,
        grants: principal_grants(grants_of(&state.db, Some(s.user_id), None).await?),
        must_change_password: s.must_change_password,
    };
    Ok((principal, clock))
}

/// Records a session's activity at `now` when the recorded one lags by more than a hundredth of
/// the idle timeout (at most a second), so the idle check is exact to that. The write runs beside
/// the request: a busy database delays the record, never the answer.
fn touch_session(state: &AppState, key: &str, p: &Principal, last_seen: i64, now: i64) {
    let step = (state.settings.session_idle_ms as i64 / 100).clamp(1, 1000);
    let Some(session_id) = p.session_id else {
        return;
    };
    if now - last_seen < step {
        return;
    }
    state.auth_cache.seen(key, now);
    let db = state.db.clone();
    tokio::spawn(async move {
        let r = store::exec(
            &db,
            "UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $1",
            vec![now.into(), session_id.into()],
        )
        .await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "recording a session's activity failed");
        }
    });
}

/// Ends the caller's session.
#[tracing::instrument(name = "auth::logout", skip_all)]
pub async fn logout(state: &AppState, ctx: &Ctx, token: &str) -> AppResult<()> {
    let tx = store::write_tx(&state.db).await?;
    if let Some(sid) = ctx.principal.session_id {
        store::exec(
            &tx,
            "UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            vec![now_ms().into(), sid.into()],
        )
        .await?;
    }
    Entry::by(
        ctx,
        &crate::app::scope::own(ctx),
        "auth.logout",
        "session",
        ctx.principal.session_id.map(|s| s.to_string()),
    )
    .record(&tx)
    .await?;
    tx.commit().await?;
    state.auth_cache.forget(&crypto::token_hash(token));
    Ok(())
}

/// Changes the caller's own password; other sessions of the user end.
#[tracing::instrument(name = "auth::change_password", skip_all)]
pub async fn change_password(state: &AppState, ctx: &Ctx, old: &str, new: &str) -> AppResult<()> {
    let user_id = ctx.principal.user_id.ok_or_else(AppError::forbidden)?;
    let db = &state.db;
    #[derive(FromQueryResult)]
    struct U {
        username: String,
        password_hash: String,
    }
    let u: U = store::fetch_found(
        db,
        "SELECT username, password_hash FROM users WHERE id = $1",
        vec![user_id.into()],
    )
    .await?;
    if !verify_password(old, &u.password_hash).await? {
        audit::record_alone(
            db,
            Entry::by(
                ctx,
                &crate::app::scope::own(ctx),
                "auth.password_change",
                "user",
                user_id,
            )
            .result("failed"),
        )
        .await?;
        return Err(AppError::field(
            "old_password",
            Msg::new("原密码不正确", "The current password is wrong"),
        ));
    }
    password::check_policy(&u.username, new).map_err(|m| AppError::field("new_password", m))?;
    if old == new {
        return Err(AppError::field(
            "new_password",
            Msg::new(
                "新密码不能与原密码相同",
                "The new password must differ from the current one",
            ),
        ));
    }
    let hash = hash_password(new).await?;
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "UPDATE users SET password_hash = $1, must_change_password = $2, password_changed_at = $3, updated_at = $3, \
         version = version + 1 WHERE id = $4",
        vec![hash.into(), false.into(), now.into(), user_id.into()],
    )
    .await?;
    let keep: Value = ctx.principal.session_id.into();
    store::exec(
        &tx,
        "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL AND ($3 IS NULL OR id <> $3)",
        vec![now.into(), user_id.into(), keep],
    )
    .await?;
    Entry::by(
        ctx,
        &crate::app::scope::own(ctx),
        "auth.password_change",
        "user",
        user_id,
    )
    .fields(&["password"])
    .record(&tx)
    .await?;
    tx.commit().await?;
    state.auth_cache.forget_user(user_id);
    Ok(())
}

/// On an empty database, creates `admin` (system admin). With no configured password one is
/// generated and returned, to be printed once; it must be changed at first login.
#[tracing::instrument(name = "auth::ensure_admin", skip_all)]
pub async fn ensure_admin(
    db: &Db,
    audit: &std::sync::Arc<crate::crypto::AuditKey>,
    configured: Option<&str>,
) -> AppResult<Option<String>> {
    if store::fetch_i64(db, "SELECT COUNT(*) FROM users", vec![]).await? > 0 {
        return Ok(None);
    }
    let (pw, generated) = match configured {
        Some(p) => (p.to_string(), false),
        None => (password::generate(), true),
    };
    let hash = hash_password(&pw).await?;
    let now = now_ms();
    let id = new_id();
    let tx = store::write_tx(db).await?;
    let inserted = store::exec(
        &tx,
        "INSERT INTO users (id, username, display_name, password_hash, disabled, must_change_password, failed_logins, \
         password_changed_at, created_at, updated_at, version) \
         VALUES ($1, 'admin', $2, $3, $4, $5, 0, $6, $6, $6, 1) ON CONFLICT (username) DO NOTHING",
        vec![id.into(), "系统管理员".into(), hash.into(), false.into(), generated.into(), now.into()],
    )
    .await?;
    if inserted == 0 {
        // Another instance created it first.
        tx.rollback().await?;
        return Ok(None);
    }
    store::exec(
        &tx,
        "INSERT INTO grants (id, user_id, token_id, role, area_id, created_at, created_by) VALUES ($1, $2, NULL, $3, NULL, $4, NULL)",
        vec![new_id().into(), id.into(), Role::SystemAdmin.as_str().into(), now.into()],
    )
    .await?;
    let ctx = Ctx::system("system", audit.clone());
    Entry::by(
        &ctx,
        &crate::app::scope::require_global(&ctx, crate::domain::role::Permission::ManageUsers)?,
        "user.create",
        "user",
        id,
    )
    .detail("first start: admin")
    .record(&tx)
    .await?;
    tx.commit().await?;
    Ok(generated.then_some(pw))
}

/// Removes what is no longer needed: failed logins older than a day, successful ones older than
/// 30 days (they make an address known), sessions that ended more than a day ago. Runs in every instance every 10 minutes; harmless when several do.
#[tracing::instrument(name = "auth::sweep", skip_all)]
pub async fn sweep(db: &Db) -> AppResult<(u64, u64)> {
    let now = now_ms();
    let day_ago = now - 86_400_000;
    let attempts = guard::sweep(db, now).await?;
    let sessions = store::exec(
        db,
        "DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1 OR last_seen_at < $1",
        vec![day_ago.into()],
    )
    .await?;
    Ok((attempts, sessions))
}
