//! Users, grants and API tokens (system admins).
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::PageQuery;
use crate::app::auth::GrantView;
use crate::app::tokens::{self, ApiToken, CreatedToken, NewToken};
use crate::app::users::{self, NewGrant, NewUser, User, UserPatch};
use crate::app::AppState;
use crate::error::AppResult;
use crate::http::extract::{Auth, Json, Path, Query};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(reset_password))
        .routes(routes!(add_grant))
        .routes(routes!(delete_grant))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Part of the username or display name.
    pub q: Option<String>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<User>,
    pub total: i64,
    pub page: u64,
    pub page_size: u64,
}

/// Users, paged.
#[utoipa::path(get, path = "/api/v1/users", tag = "admin", params(UserQuery), responses((status = 200, body = UserPage)))]
async fn list_users(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<UserQuery>,
) -> AppResult<axum::Json<UserPage>> {
    let pq = PageQuery {
        page: q.page,
        page_size: q.page_size,
    };
    let (items, total) = users::list(&s.db, &ctx, q.q.as_deref(), pq.paging()).await?;
    Ok(axum::Json(UserPage {
        items,
        total,
        page: pq.page(),
        page_size: pq.page_size(),
    }))
}

/// Create a user (they change the password at first login unless told otherwise).
#[utoipa::path(post, path = "/api/v1/users", tag = "admin", request_body = NewUser,
    responses((status = 201, body = User), (status = 409, description = "username taken"), (status = 422)))]
async fn create_user(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(input): Json<NewUser>,
) -> AppResult<(StatusCode, axum::Json<User>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(users::create(&s, &ctx, input).await?),
    ))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "admin", params(("id" = Uuid, Path)), responses((status = 200, body = User)))]
async fn get_user(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> AppResult<axum::Json<User>> {
    Ok(axum::Json(users::get(&s.db, &ctx, id).await?))
}

/// Rename, disable/enable or unlock a user.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "admin", params(("id" = Uuid, Path)), request_body = UserPatch,
    responses((status = 200, body = User)))]
async fn update_user(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(p): Json<UserPatch>,
) -> AppResult<axum::Json<User>> {
    Ok(axum::Json(users::update(&s, &ctx, id, p).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    pub password: String,
}

/// Set a new password; the user must change it at next login.
#[utoipa::path(post, path = "/api/v1/users/{id}/reset-password", tag = "admin", params(("id" = Uuid, Path)),
    request_body = ResetPassword, responses((status = 204)))]
async fn reset_password(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(r): Json<ResetPassword>,
) -> AppResult<StatusCode> {
    users::reset_password(&s, &ctx, id, &r.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Grant a role on an area subtree.
#[utoipa::path(post, path = "/api/v1/users/{id}/grants", tag = "admin", params(("id" = Uuid, Path)), request_body = NewGrant,
    responses((status = 201, body = GrantView)))]
async fn add_grant(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(g): Json<NewGrant>,
) -> AppResult<(StatusCode, axum::Json<GrantView>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(users::add_grant(&s, &ctx, id, g).await?),
    ))
}

/// Remove a grant.
#[utoipa::path(delete, path = "/api/v1/grants/{id}", tag = "admin", params(("id" = Uuid, Path)), responses((status = 204)))]
async fn delete_grant(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> AppResult<StatusCode> {
    users::delete_grant(&s, &ctx, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// API tokens.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "admin", responses((status = 200, body = Vec<ApiToken>)))]
async fn list_tokens(
    State(s): State<AppState>,
    Auth(ctx): Auth,
) -> AppResult<axum::Json<Vec<ApiToken>>> {
    Ok(axum::Json(tokens::list(&s.db, &ctx).await?))
}

/// Create an API token; the secret is in this response only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "admin", request_body = NewToken, responses((status = 201, body = CreatedToken)))]
async fn create_token(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(t): Json<NewToken>,
) -> AppResult<(StatusCode, axum::Json<CreatedToken>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(tokens::create(&s, &ctx, t).await?),
    ))
}

/// Revoke an API token.
#[utoipa::path(post, path = "/api/v1/tokens/{id}/revoke", tag = "admin", params(("id" = Uuid, Path)), responses((status = 204)))]
async fn revoke_token(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> AppResult<StatusCode> {
    tokens::revoke(&s, &ctx, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
