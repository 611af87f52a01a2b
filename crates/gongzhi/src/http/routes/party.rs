//! Party organisations.
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{created, Created, J};
use crate::app::party::{self, MovePartyOrg, NewPartyOrg, PartyOrg, PartyOrgPatch, SearchQuery};
use crate::app::AppState;
use crate::error::AppResult;
use crate::http::extract::{Auth, Json, Path, Query};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(roots))
        .routes(routes!(search, create))
        .routes(routes!(get, update, delete))
        .routes(routes!(children))
        .routes(routes!(move_org))
}

/// The top party organisations you may browse.
#[utoipa::path(get, path = "/api/v1/party-orgs/roots", tag = "party", responses((status = 200, body = Vec<PartyOrg>)))]
async fn roots(State(s): State<AppState>, Auth(ctx): Auth) -> J<Vec<PartyOrg>> {
    Ok(axum::Json(party::roots(&s.db, &ctx).await?))
}

/// Search party organisations by name, kind or area within your scope.
#[utoipa::path(get, path = "/api/v1/party-orgs", tag = "party", params(SearchQuery),
    responses((status = 200, body = Vec<PartyOrg>)))]
async fn search(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<SearchQuery>,
) -> J<Vec<PartyOrg>> {
    Ok(axum::Json(party::search(&s.db, &ctx, &q).await?))
}

/// Create a party organisation (system/street admin, party secretary).
#[utoipa::path(post, path = "/api/v1/party-orgs", tag = "party", request_body = NewPartyOrg,
    responses((status = 201, body = PartyOrg), (status = 404, description = "area out of scope"), (status = 422)))]
async fn create(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(input): Json<NewPartyOrg>,
) -> Created<PartyOrg> {
    created(party::create(&s.db, &ctx, input).await?)
}

/// One party organisation with its linked areas.
#[utoipa::path(get, path = "/api/v1/party-orgs/{id}", tag = "party", params(("id" = Uuid, Path)),
    responses((status = 200, body = PartyOrg), (status = 404)))]
async fn get(State(s): State<AppState>, Auth(ctx): Auth, Path(id): Path<Uuid>) -> J<PartyOrg> {
    Ok(axum::Json(party::get(&s.db, &ctx, id).await?))
}

/// Edit name, area or linked areas (send the version you read).
#[utoipa::path(patch, path = "/api/v1/party-orgs/{id}", tag = "party", params(("id" = Uuid, Path)), request_body = PartyOrgPatch,
    responses((status = 200, body = PartyOrg), (status = 409, description = "stale version")))]
async fn update(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(p): Json<PartyOrgPatch>,
) -> J<PartyOrg> {
    Ok(axum::Json(party::update(&s.db, &ctx, id, p).await?))
}

/// Delete an organisation without sub-organisations.
#[utoipa::path(delete, path = "/api/v1/party-orgs/{id}", tag = "party", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 409, description = "has sub-organisations")))]
async fn delete(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> AppResult<StatusCode> {
    party::delete(&s.db, &ctx, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The sub-organisations of an organisation.
#[utoipa::path(get, path = "/api/v1/party-orgs/{id}/children", tag = "party", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<PartyOrg>)))]
async fn children(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<Vec<PartyOrg>> {
    Ok(axum::Json(party::children(&s.db, &ctx, id).await?))
}

/// Move an organisation under a new parent of the right kind.
#[utoipa::path(post, path = "/api/v1/party-orgs/{id}/move", tag = "party", params(("id" = Uuid, Path)), request_body = MovePartyOrg,
    responses((status = 200, body = PartyOrg)))]
async fn move_org(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(m): Json<MovePartyOrg>,
) -> J<PartyOrg> {
    Ok(axum::Json(party::move_to(&s.db, &ctx, id, m).await?))
}
