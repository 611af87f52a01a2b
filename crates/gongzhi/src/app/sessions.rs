//! A user's own sessions (PC and phone at once): list them, end one, end all others. Token
//! values never leave the server; only their hashes are stored.
use sea_orm::FromQueryResult;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::{self, Entry};
use super::{AppState, Ctx};
use crate::domain::{ms_to_rfc3339, now_ms};
use crate::error::{AppError, AppResult};
use crate::store;

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub id: Uuid,
    /// When the user signed in.
    pub created_at: String,
    /// The last request seen (to within a hundredth of the idle timeout, at most a second).
    pub last_seen_at: String,
    /// The absolute end; it ends earlier after the idle timeout.
    pub expires_at: String,
    /// The address the user signed in from.
    pub client_addr: String,
    /// The browser or app that signed in, as it named itself.
    pub user_agent: Option<String>,
    /// The session of this request.
    pub current: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Ended {
    /// How many sessions ended.
    pub ended: u64,
}

#[derive(FromQueryResult)]
struct Row {
    id: Uuid,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    client_addr: String,
    user_agent: Option<String>,
}

/// The signed-in user and the session of the request; API tokens have no sessions.
fn caller(ctx: &Ctx) -> AppResult<(Uuid, Option<Uuid>)> {
    let user = ctx.principal.user_id.ok_or_else(AppError::forbidden)?;
    Ok((user, ctx.principal.session_id))
}

/// The caller's live sessions, the most recently used first.
#[tracing::instrument(name = "sessions::list_mine", skip_all)]
pub async fn list_mine(state: &AppState, ctx: &Ctx) -> AppResult<Vec<SessionView>> {
    let (user, current) = caller(ctx)?;
    list_of(state, user, current).await
}

/// A user's live sessions, the most recently used first (`current`: the caller's session).
#[tracing::instrument(name = "sessions::list_of", skip_all)]
pub async fn list_of(
    state: &AppState,
    user: Uuid,
    current: Option<Uuid>,
) -> AppResult<Vec<SessionView>> {
    let now = now_ms();
    let rows: Vec<Row> = store::fetch_all(
        &state.db,
        "SELECT id, created_at, last_seen_at, expires_at, client_addr, user_agent FROM sessions \
         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND last_seen_at >= $3 \
         ORDER BY last_seen_at DESC, id",
        vec![
            user.into(),
            now.into(),
            (now - state.settings.session_idle_ms as i64).into(),
        ],
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SessionView {
            current: Some(r.id) == current,
            id: r.id,
            created_at: ms_to_rfc3339(r.created_at),
            last_seen_at: ms_to_rfc3339(r.last_seen_at),
            expires_at: ms_to_rfc3339(r.expires_at),
            client_addr: r.client_addr,
            user_agent: r.user_agent,
        })
        .collect())
}

/// Ends one of the caller's sessions (a phone left behind); 404 when it is not theirs or over.
#[tracing::instrument(name = "sessions::end_mine", skip_all)]
pub async fn end_mine(state: &AppState, ctx: &Ctx, id: Uuid) -> AppResult<()> {
    let (user, _) = caller(ctx)?;
    let tx = store::write_tx(&state.db).await?;
    let n = store::exec(
        &tx,
        "UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        vec![now_ms().into(), id.into(), user.into()],
    )
    .await?;
    if n == 0 {
        return Err(AppError::NotFound);
    }
    let entry = Entry::by(
        ctx,
        &crate::app::scope::own(ctx),
        "auth.session_end",
        "session",
        id,
    );
    audit::record(&tx, entry).await?;
    tx.commit().await?;
    state.auth_cache.forget_session(id);
    Ok(())
}

/// Ends every session of the caller but the one of this request.
#[tracing::instrument(name = "sessions::end_others", skip_all)]
pub async fn end_others(state: &AppState, ctx: &Ctx) -> AppResult<Ended> {
    let (user, current) = caller(ctx)?;
    let tx = store::write_tx(&state.db).await?;
    let ended = store::exec(
        &tx,
        "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL AND ($3 IS NULL OR id <> $3)",
        vec![now_ms().into(), user.into(), current.into()],
    )
    .await?;
    let entry = Entry::by(
        ctx,
        &crate::app::scope::own(ctx),
        "auth.sessions_end_others",
        "user",
        user,
    )
    .detail(format!("{ended} ended"));
    audit::record(&tx, entry).await?;
    tx.commit().await?;
    state.auth_cache.forget_user(user);
    Ok(Ended { ended })
}
