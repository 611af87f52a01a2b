//! 渠道台账: each community's channels (公众号, 微信群, …), the rules that flag dead ones, and the
//! street's recorded decisions (app/channels.rs).
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::app::channels::{
    self, ChannelPage, ChannelPatch, ChannelQuery, CommunityChannel, Decision, NewChannel,
};
use crate::app::AppState;
use crate::error::AppResult;
use crate::http::extract::{Auth, Json, Path, Query};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update))
        .routes(routes!(retire))
        .routes(routes!(merge))
}

/// The channels in the caller's scope (or under `area_id`), with the rules' flags and how many
/// are flagged (inactive 90+ days, a duplicate for the same audience, no accountable owner).
#[utoipa::path(get, path = "/api/v1/community-channels", tag = "registry", params(ChannelQuery),
    responses((status = 200, body = ChannelPage)))]
async fn list(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<ChannelQuery>,
) -> AppResult<axum::Json<ChannelPage>> {
    Ok(axum::Json(channels::list(&s.db, &ctx, &q).await?))
}

/// Registers a channel of a community (`edit_registry`).
#[utoipa::path(post, path = "/api/v1/community-channels", tag = "registry", request_body = NewChannel,
    responses((status = 201, body = CommunityChannel)))]
async fn create(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(n): Json<NewChannel>,
) -> AppResult<(StatusCode, axum::Json<CommunityChannel>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(channels::create(&s.db, &ctx, n).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/community-channels/{id}", tag = "registry", params(("id" = Uuid, Path)),
    responses((status = 200, body = CommunityChannel)))]
async fn get(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> AppResult<axum::Json<CommunityChannel>> {
    Ok(axum::Json(channels::get(&s.db, &ctx, id).await?))
}

/// Updates a channel's owner, audience, members or activity (`edit_registry`; `version` as read).
#[utoipa::path(patch, path = "/api/v1/community-channels/{id}", tag = "registry", params(("id" = Uuid, Path)),
    request_body = ChannelPatch, responses((status = 200, body = CommunityChannel), (status = 409, description = "stale version")))]
async fn update(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(p): Json<ChannelPatch>,
) -> AppResult<axum::Json<CommunityChannel>> {
    Ok(axum::Json(channels::update(&s.db, &ctx, id, p).await?))
}

/// Retires a channel with the recorded reason (the street: `edit_areas`).
#[utoipa::path(post, path = "/api/v1/community-channels/{id}/retire", tag = "registry", params(("id" = Uuid, Path)),
    request_body = Decision, responses((status = 200, body = CommunityChannel), (status = 409, description = "stale version")))]
async fn retire(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(d): Json<Decision>,
) -> AppResult<axum::Json<CommunityChannel>> {
    Ok(axum::Json(
        channels::decide(&s.db, &ctx, id, false, d).await?,
    ))
}

/// Merges a channel into another active one of the same community, with the recorded reason
/// (the street: `edit_areas`).
#[utoipa::path(post, path = "/api/v1/community-channels/{id}/merge", tag = "registry", params(("id" = Uuid, Path)),
    request_body = Decision, responses((status = 200, body = CommunityChannel), (status = 409, description = "stale version")))]
async fn merge(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(d): Json<Decision>,
) -> AppResult<axum::Json<CommunityChannel>> {
    Ok(axum::Json(
        channels::decide(&s.db, &ctx, id, true, d).await?,
    ))
}
