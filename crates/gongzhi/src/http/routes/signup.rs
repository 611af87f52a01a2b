//! 居民自助注册: codes by SMS, sign-up, claims of a registry record and their confirmation
//! (app/signup.rs).
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{created, Accepted, Created, J};
use crate::app::signup::{
    self, Claim, ClaimConfirmation, ClaimPage, ClaimQuery, CodeRequest, CodeSent, MyClaim,
    NewClaim, Rejection, SignUp, SignedUp,
};
use crate::app::AppState;
use crate::http::extract::{Auth, Json, Path, Query, ReqMeta};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(send_code))
        .routes(routes!(sign_up))
        .routes(routes!(my_claims, submit_claim))
        .routes(routes!(list_claims))
        .routes(routes!(confirm_claim))
        .routes(routes!(reject_claim))
}

/// Sends a one-time sign-up code by SMS (no login). The same answer whether or not the number
/// has an account; 429 with `Retry-After` past the limits; 409 `signup.sms_unavailable` without SMS.
#[utoipa::path(post, path = "/api/v1/public/signup/code", tag = "auth", request_body = CodeRequest,
    responses((status = 202, body = CodeSent), (status = 429)), security(()))]
async fn send_code(
    State(s): State<AppState>,
    meta: ReqMeta,
    Json(r): Json<CodeRequest>,
) -> Accepted<CodeSent> {
    let origin = meta.origin(&s);
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(signup::send_code(&s, &origin, r).await?),
    ))
}

/// Makes a resident's account with the code (no login); then sign in as usual.
#[utoipa::path(post, path = "/api/v1/public/signup", tag = "auth", request_body = SignUp,
    responses((status = 201, body = SignedUp)), security(()))]
async fn sign_up(
    State(s): State<AppState>,
    meta: ReqMeta,
    Json(b): Json<SignUp>,
) -> Created<SignedUp> {
    let origin = meta.origin(&s);
    created(signup::sign_up(&s, &origin, b).await?)
}

/// The caller's claims of a registry record.
#[utoipa::path(get, path = "/api/v1/me/claims", tag = "auth", responses((status = 200, body = Vec<MyClaim>)))]
async fn my_claims(State(s): State<AppState>, Auth(ctx): Auth) -> J<Vec<MyClaim>> {
    Ok(axum::Json(signup::my_claims(&s.db, &ctx).await?))
}

/// Claims a registry record by name and ID number; `submitted` whether or not it matched.
#[utoipa::path(post, path = "/api/v1/me/claims", tag = "auth", request_body = NewClaim,
    responses((status = 202, body = MyClaim)))]
async fn submit_claim(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(c): Json<NewClaim>,
) -> Accepted<MyClaim> {
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(signup::claim(&s, &ctx, c).await?),
    ))
}

/// The claims that matched a person of the caller's area (`edit_registry`).
#[utoipa::path(get, path = "/api/v1/resident-claims", tag = "registry", params(ClaimQuery),
    responses((status = 200, body = ClaimPage)))]
async fn list_claims(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<ClaimQuery>,
) -> J<ClaimPage> {
    Ok(axum::Json(signup::list(&s.db, &ctx, &q).await?))
}

/// Confirms a claim: the account is linked to the person and made a resident of their building
/// or grid.
#[utoipa::path(post, path = "/api/v1/resident-claims/{id}/confirm", tag = "registry",
    params(("id" = Uuid, Path)), request_body = ClaimConfirmation, responses((status = 200, body = Claim)))]
async fn confirm_claim(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(_): Json<ClaimConfirmation>,
) -> J<Claim> {
    Ok(axum::Json(signup::confirm(&s.db, &ctx, id).await?))
}

/// Rejects a claim with a reason the resident sees.
#[utoipa::path(post, path = "/api/v1/resident-claims/{id}/reject", tag = "registry",
    params(("id" = Uuid, Path)), request_body = Rejection, responses((status = 200, body = Claim)))]
async fn reject_claim(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(r): Json<Rejection>,
) -> J<Claim> {
    Ok(axum::Json(signup::reject(&s.db, &ctx, id, r).await?))
}
