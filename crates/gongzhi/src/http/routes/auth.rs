//! Sign-in, sign-out, the current user and password changes.
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::J;
use crate::app::auth::{self, LoginResult, Me};
use crate::app::sessions::{self, Ended, SessionView};
use crate::app::AppState;
use crate::error::{AppError, AppResult, Msg};
use crate::http::extract::{Auth, AuthAny, Json, Path, ReqMeta, SESSION_COOKIE};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(my_sessions))
        .routes(routes!(my_todos))
        .routes(routes!(end_my_session))
        .routes(routes!(end_my_other_sessions))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// The session cookie; `Secure` when the user's connection is https (see `http::forwarded`).
fn session_cookie(token: &str, max_age_s: i64, https: bool) -> HeaderValue {
    let secure = if https { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Sign in with username and password. Sets the session cookie and returns the token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResult),
              (status = 401, description = "wrong name or password, or this address failed too often for the name"),
              (status = 403, description = "csrf.origin: the page of another site"),
              (status = 429, description = "rate limited; see Retry-After")))]
async fn login(
    State(state): State<AppState>,
    meta: ReqMeta,
    headers: HeaderMap,
    Json(req): Json<LoginRequest>,
) -> AppResult<Response> {
    if req.username.trim().is_empty() || req.password.is_empty() {
        let mut errs = crate::error::FieldErrors::new();
        if req.username.trim().is_empty() {
            errs.insert(
                "username".into(),
                Msg::new("请输入用户名", "Enter the username"),
            );
        }
        if req.password.is_empty() {
            errs.insert(
                "password".into(),
                Msg::new("请输入密码", "Enter the password"),
            );
        }
        return Err(AppError::Validation(errs));
    }
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok());
    let origin = meta.origin(&state);
    let res = auth::login(&state, &origin, &req.username, &req.password, agent).await?;
    let max_age = state.settings.session_absolute_hours as i64 * 3600;
    let mut resp = axum::Json(&res).into_response();
    let cookie = session_cookie(&res.token, max_age, meta.https);
    resp.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(resp)
}

/// Sign out: the session ends and the cookie is cleared.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204), (status = 403, description = "csrf.origin: the page of another site")))]
async fn logout(
    State(state): State<AppState>,
    meta: ReqMeta,
    AuthAny(ctx, token): AuthAny,
) -> AppResult<Response> {
    auth::logout(&state, &ctx, &token).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, session_cookie("", 0, meta.https));
    Ok(resp)
}

/// What waits for you (待办), for the home page: each item counted like the list it links to.
#[utoipa::path(get, path = "/api/v1/me/todos", tag = "auth", responses((status = 200, body = crate::app::todos::Todos)))]
async fn my_todos(State(state): State<AppState>, Auth(ctx): Auth) -> J<crate::app::todos::Todos> {
    Ok(axum::Json(crate::app::todos::mine(&state, &ctx).await?))
}

/// The signed-in user with their grants.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = Me)))]
async fn me(State(state): State<AppState>, AuthAny(ctx, _): AuthAny) -> J<Me> {
    match ctx.principal.user_id {
        Some(id) => Ok(axum::Json(auth::me(&state.db, id).await?)),
        None => {
            let grants = auth::grants_of(&state.db, None, ctx.principal.token_id).await?;
            Ok(axum::Json(Me {
                id: ctx.principal.token_id.unwrap_or_default(),
                username: ctx.principal.name.clone(),
                display_name: ctx.principal.name.clone(),
                must_change_password: false,
                permissions: crate::app::roles::held_by(grants.iter().map(|g| g.role)),
                grants,
                person_linked: false,
            }))
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub old_password: String,
    pub new_password: String,
}

/// Change your own password (also the forced change after first login).
#[utoipa::path(post, path = "/api/v1/me/password", tag = "auth", request_body = PasswordChange,
    responses((status = 204), (status = 422, description = "policy not met or wrong current password")))]
async fn change_password(
    State(state): State<AppState>,
    AuthAny(ctx, _): AuthAny,
    Json(req): Json<PasswordChange>,
) -> AppResult<StatusCode> {
    auth::change_password(&state, &ctx, &req.old_password, &req.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Your sessions that have not ended (PC, phone, …), the most recently used first. No token values.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "auth",
    responses((status = 200, body = Vec<SessionView>), (status = 403, description = "API tokens have no sessions")))]
async fn my_sessions(State(state): State<AppState>, Auth(ctx): Auth) -> J<Vec<SessionView>> {
    Ok(axum::Json(sessions::list_mine(&state, &ctx).await?))
}

/// End one of your sessions (e.g. on a phone left behind).
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "auth", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, description = "not your session, or already ended")))]
async fn end_my_session(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> AppResult<StatusCode> {
    sessions::end_mine(&state, &ctx, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// End all your sessions except this one.
#[utoipa::path(post, path = "/api/v1/me/sessions/end-others", tag = "auth",
    responses((status = 200, body = Ended)))]
async fn end_my_other_sessions(State(state): State<AppState>, Auth(ctx): Auth) -> J<Ended> {
    Ok(axum::Json(sessions::end_others(&state, &ctx).await?))
}
