//! Users and grants (system and delegated administrators), the role table, and API tokens
//! (system admins).
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::PageQuery;
use super::{created, Created, J};
use crate::app::auth::GrantView;
use crate::app::roles::RoleInfo;
use crate::app::sessions::{Ended, SessionView};
use crate::app::tokens::{self, ApiToken, CreatedToken, NewToken};
use crate::app::user_import::{self, UserImportReport};
use crate::app::users::{
    self, NewGrant, NewUser, PasswordHandover, RevealReason, RevealedPhone, User, UserPatch,
};
use crate::app::AppState;
use crate::error::AppResult;
use crate::http::extract::{Auth, Json, Path, Query};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(reset_password))
        .routes(routes!(reveal_phone))
        .routes(routes!(user_sessions, end_user_sessions))
        .routes(routes!(import_users))
        .routes(routes!(users_template))
        .routes(routes!(list_roles))
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
    /// Users whose home area lies in this area.
    pub area_id: Option<Uuid>,
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
) -> J<UserPage> {
    let pq = PageQuery {
        page: q.page,
        page_size: q.page_size,
    };
    let f = users::UserFilter {
        q: q.q,
        area_id: q.area_id,
    };
    let (items, total) = users::list(&s.db, &ctx, &f, pq.paging()).await?;
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
) -> Created<User> {
    created(users::create(&s, &ctx, input).await?)
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "admin", params(("id" = Uuid, Path)), responses((status = 200, body = User)))]
async fn get_user(State(s): State<AppState>, Auth(ctx): Auth, Path(id): Path<Uuid>) -> J<User> {
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
) -> J<User> {
    Ok(axum::Json(users::update(&s, &ctx, id, p).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    /// Omitted: a password is generated.
    pub password: Option<String>,
}

/// Set a new password (given, or generated) and hand it over once; the user must change it at
/// next login and their sessions end.
#[utoipa::path(post, path = "/api/v1/users/{id}/reset-password", tag = "admin", params(("id" = Uuid, Path)),
    request_body = ResetPassword, responses((status = 200, body = PasswordHandover)))]
async fn reset_password(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(r): Json<ResetPassword>,
) -> J<PasswordHandover> {
    Ok(axum::Json(
        users::reset_password(&s, &ctx, id, r.password).await?,
    ))
}

/// The user's full mobile, with a reason (audited).
#[utoipa::path(post, path = "/api/v1/users/{id}/reveal-phone", tag = "admin", params(("id" = Uuid, Path)),
    request_body = RevealReason, responses((status = 200, body = RevealedPhone)))]
async fn reveal_phone(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(r): Json<RevealReason>,
) -> J<RevealedPhone> {
    Ok(axum::Json(users::reveal_phone(&s, &ctx, id, r).await?))
}

/// A user's live sessions (PC, phone), for their manager.
#[utoipa::path(get, path = "/api/v1/users/{id}/sessions", tag = "admin", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<SessionView>)))]
async fn user_sessions(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<Vec<SessionView>> {
    Ok(axum::Json(users::sessions_of(&s, &ctx, id).await?))
}

/// End every session of a user (a lost phone, a worker who left).
#[utoipa::path(delete, path = "/api/v1/users/{id}/sessions", tag = "admin", params(("id" = Uuid, Path)),
    responses((status = 200, body = Ended)))]
async fn end_user_sessions(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<Ended> {
    Ok(axum::Json(users::end_sessions_of(&s, &ctx, id).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserImportQuery {
    /// dry_run (default): check only; commit: all rows or none; commit_valid: the good rows.
    pub mode: Option<String>,
}

/// Create users in bulk from a sheet (.xlsx, or CSV in UTF-8/GBK; up to 2 MiB, 2,000 rows): 用户名,
/// 姓名, 手机号, 角色, 区域. A commit hands every new user's generated first password over once.
#[utoipa::path(post, path = "/api/v1/users/import", tag = "admin", params(UserImportQuery),
    request_body(content = String, content_type = "text/csv"), responses((status = 200, body = UserImportReport)))]
async fn import_users(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<UserImportQuery>,
    body: axum::body::Body,
) -> J<UserImportReport> {
    users::Manager::of(&ctx)?;
    let mode = match q.mode.as_deref().unwrap_or("dry_run") {
        "dry_run" => user_import::Mode::DryRun,
        "commit" => user_import::Mode::Commit,
        "commit_valid" => user_import::Mode::CommitValid,
        _ => {
            return Err(crate::error::AppError::field(
                "mode",
                crate::error::Msg::new(
                    "mode 应为 dry_run、commit 或 commit_valid",
                    "mode must be dry_run, commit or commit_valid",
                ),
            ))
        }
    };
    let bytes = super::cases::read_body(body, user_import::MAX_FILE).await?;
    Ok(axum::Json(user_import::run(&s, &ctx, &bytes, mode).await?))
}

/// The bulk user sheet's template (.xlsx) with one example row.
#[utoipa::path(get, path = "/api/v1/users/import/template.xlsx", tag = "admin",
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
async fn users_template(
    State(s): State<AppState>,
    Auth(ctx): Auth,
) -> AppResult<axum::response::Response> {
    users::Manager::of(&ctx)?;
    let bytes =
        user_import::template(&s.settings.data_dir).map_err(crate::error::AppError::internal)?;
    Ok(crate::http::attachment::attachment(
        super::XLSX,
        "users-template.xlsx",
        "账号导入模板.xlsx",
        bytes,
    ))
}

/// Every role, highest first, with what it may do in plain words (generated from the permission
/// table) and whether the caller may grant it.
#[utoipa::path(get, path = "/api/v1/roles", tag = "admin", responses((status = 200, body = Vec<RoleInfo>)))]
async fn list_roles(Auth(ctx): Auth) -> J<Vec<RoleInfo>> {
    Ok(axum::Json(crate::app::roles::table(&ctx)))
}

/// Grant a role on an area subtree.
#[utoipa::path(post, path = "/api/v1/users/{id}/grants", tag = "admin", params(("id" = Uuid, Path)), request_body = NewGrant,
    responses((status = 201, body = GrantView)))]
async fn add_grant(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(g): Json<NewGrant>,
) -> Created<GrantView> {
    created(users::add_grant(&s, &ctx, id, g).await?)
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
async fn list_tokens(State(s): State<AppState>, Auth(ctx): Auth) -> J<Vec<ApiToken>> {
    Ok(axum::Json(tokens::list(&s.db, &ctx).await?))
}

/// Create an API token; the secret is in this response only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "admin", request_body = NewToken, responses((status = 201, body = CreatedToken)))]
async fn create_token(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(t): Json<NewToken>,
) -> Created<CreatedToken> {
    created(tokens::create(&s, &ctx, t).await?)
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
