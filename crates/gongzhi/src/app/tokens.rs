//! API tokens for other systems (a department's system, a resident mini-program, an Open311
//! channel). Shown once, stored as a SHA-256 hash, scoped by grants like users, revocable.
use sea_orm::FromQueryResult;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::Entry;
use super::auth::{grants_of, GrantView};
use super::users::{check_grant, require_system, NewGrant};
use super::{AppState, Ctx};
use crate::crypto;
use crate::domain::{clean_name, ms_to_rfc3339, new_id, now_ms, rfc3339_to_ms};
use crate::error::{AppError, AppResult, Msg};
use crate::store::{self, Db};

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    /// The first characters of the token, to recognise it.
    pub prefix: String,
    pub grants: Vec<GrantView>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    pub created_by_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// The secret, shown this once. Send it as `Authorization: Bearer <token>`.
    pub token: String,
    #[serde(flatten)]
    pub info: ApiToken,
}

#[derive(FromQueryResult)]
struct Row {
    id: Uuid,
    name: String,
    prefix: String,
    created_at: i64,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
    created_by_name: Option<String>,
}

const SELECT: &str =
    "SELECT t.id, t.name, t.prefix, t.created_at, t.expires_at, t.last_used_at, t.revoked_at, \
    u.username AS created_by_name FROM api_tokens t LEFT JOIN users u ON u.id = t.created_by";

async fn view<C: sea_orm::ConnectionTrait>(c: &C, r: Row) -> AppResult<ApiToken> {
    Ok(ApiToken {
        grants: grants_of(c, None, Some(r.id)).await?,
        id: r.id,
        name: r.name,
        prefix: r.prefix,
        created_at: ms_to_rfc3339(r.created_at),
        expires_at: r.expires_at.map(ms_to_rfc3339),
        last_used_at: r.last_used_at.map(ms_to_rfc3339),
        revoked_at: r.revoked_at.map(ms_to_rfc3339),
        created_by_name: r.created_by_name,
    })
}

#[tracing::instrument(name = "tokens::list", skip_all)]
pub async fn list(db: &Db, ctx: &Ctx) -> AppResult<Vec<ApiToken>> {
    require_system(ctx)?;
    let rows: Vec<Row> =
        store::fetch_all(db, &format!("{SELECT} ORDER BY t.created_at DESC"), vec![]).await?;
    let mut out = vec![];
    for r in rows {
        out.push(view(db, r).await?);
    }
    Ok(out)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
    pub grants: Vec<NewGrant>,
    /// RFC 3339; absent: no expiry.
    pub expires_at: Option<String>,
}

#[tracing::instrument(name = "tokens::create", skip_all)]
pub async fn create(state: &AppState, ctx: &Ctx, input: NewToken) -> AppResult<CreatedToken> {
    require_system(ctx)?;
    create_unchecked(&state.db, ctx, input).await
}

#[tracing::instrument(name = "tokens::create_unchecked", skip_all)]
pub async fn create_unchecked(db: &Db, ctx: &Ctx, input: NewToken) -> AppResult<CreatedToken> {
    // The command line's context is the system's; the API's caller passed `create`'s check.
    let allowed = require_system(ctx)?;
    let name = clean_name(&input.name, 100).map_err(|m| AppError::field("name", m))?;
    if input.grants.is_empty() || input.grants.len() > 50 {
        return Err(AppError::field(
            "grants",
            Msg::new("请给令牌 1–50 个授权", "Give the token 1–50 grants"),
        ));
    }
    let expires = match input.expires_at.as_deref() {
        None | Some("") => None,
        Some(s) => match rfc3339_to_ms(s) {
            Some(t) if t > now_ms() => Some(t),
            Some(_) => {
                return Err(AppError::field(
                    "expires_at",
                    Msg::new("过期时间必须在将来", "The expiry must be in the future"),
                ))
            }
            None => {
                return Err(AppError::field(
                    "expires_at",
                    Msg::new("时间格式应为 RFC 3339", "Use an RFC 3339 time"),
                ))
            }
        },
    };
    let mut checked = vec![];
    for g in &input.grants {
        checked.push(check_grant(db, g).await?);
    }
    let token = crypto::new_token("gz_");
    let id = new_id();
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "INSERT INTO api_tokens (id, name, prefix, token_hash, created_by, created_at, expires_at, last_used_at, revoked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL)",
        vec![
            id.into(),
            name.into(),
            token[..10].to_string().into(),
            crypto::token_hash(&token).into(),
            ctx.principal.user_id.into(),
            now.into(),
            expires.into(),
        ],
    )
    .await?;
    for (role, area) in checked {
        store::exec(
            &tx,
            "INSERT INTO grants (id, user_id, token_id, role, area_id, created_at, created_by) VALUES ($1, NULL, $2, $3, $4, $5, $6)",
            vec![new_id().into(), id.into(), role.as_str().into(), area.into(), now.into(), ctx.principal.actor_id().into()],
        )
        .await?;
    }
    Entry::by(ctx, &allowed, "token.create", "api_token", id)
        .fields(&["name", "grants", "expires_at"])
        .record(&tx)
        .await?;
    let row: Row =
        store::fetch_found(&tx, &format!("{SELECT} WHERE t.id = $1"), vec![id.into()]).await?;
    let info = view(&tx, row).await?;
    tx.commit().await?;
    Ok(CreatedToken { token, info })
}

#[tracing::instrument(name = "tokens::revoke", skip_all)]
pub async fn revoke(state: &AppState, ctx: &Ctx, id: Uuid) -> AppResult<()> {
    require_system(ctx)?;
    revoke_unchecked(&state.db, ctx, id).await?;
    state.auth_cache.clear();
    Ok(())
}

#[tracing::instrument(name = "tokens::revoke_unchecked", skip_all)]
pub async fn revoke_unchecked(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<()> {
    let allowed = require_system(ctx)?;
    let tx = store::write_tx(db).await?;
    let exists = store::fetch_i64(
        &tx,
        "SELECT COUNT(*) FROM api_tokens WHERE id = $1",
        vec![id.into()],
    )
    .await?;
    if exists == 0 {
        return Err(AppError::NotFound);
    }
    store::exec(
        &tx,
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        vec![now_ms().into(), id.into()],
    )
    .await?;
    Entry::by(ctx, &allowed, "token.revoke", "api_token", id)
        .record(&tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// All tokens, for `gongzhi token list`.
#[tracing::instrument(name = "tokens::list_all", skip_all)]
pub async fn list_all(db: &Db, ctx: &Ctx) -> AppResult<Vec<ApiToken>> {
    list(db, ctx).await
}
