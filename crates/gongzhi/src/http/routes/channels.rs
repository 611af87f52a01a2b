//! 渠道台账: each community's channels (公众号, 微信群, …), the rules that flag dead ones, and the
//! street's recorded decisions (app/channels.rs).
use axum::extract::State;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{created, Created, J};
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
        .routes(routes!(import_channels))
        .routes(routes!(channels_template))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChannelImportQuery {
    /// dry_run (default): check only; commit: all rows or none; commit_valid: the good rows.
    pub mode: Option<String>,
}

/// The register and its activity from a sheet (.xlsx, or CSV in UTF-8/GBK; up to 2 MiB, 5,000
/// rows): 社区, 渠道名称, 类型, 服务对象, 用途, 负责人, 成员数, 上月发帖数, 最近活跃日期. A channel
/// already in the register (same community and name) gets the row's activity; a new one is added.
#[utoipa::path(post, path = "/api/v1/community-channels/import", tag = "registry", params(ChannelImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = crate::app::channel_import::ChannelImportReport)))]
async fn import_channels(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<ChannelImportQuery>,
    body: axum::body::Body,
) -> J<crate::app::channel_import::ChannelImportReport> {
    use crate::app::{channel_import, user_import::Mode};
    let admitted = channel_import::admit(&ctx)?;
    let mode = match q.mode.as_deref().unwrap_or("dry_run") {
        "dry_run" => Mode::DryRun,
        "commit" => Mode::Commit,
        "commit_valid" => Mode::CommitValid,
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
    let bytes = super::cases::read_body(body, channel_import::MAX_FILE).await?;
    Ok(axum::Json(
        channel_import::run(&s, &ctx, admitted, &bytes, mode).await?,
    ))
}

/// The sheet template of the channel register (header and one example row).
#[utoipa::path(get, path = "/api/v1/community-channels/import/template.xlsx", tag = "registry",
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
async fn channels_template(
    State(s): State<AppState>,
    Auth(_ctx): Auth,
) -> AppResult<axum::response::Response> {
    let bytes = crate::app::channel_import::template(&s.settings.data_dir)
        .map_err(crate::error::AppError::internal)?;
    Ok(crate::http::attachment::attachment(
        super::XLSX,
        "channels-template.xlsx",
        "渠道台账模板.xlsx",
        bytes,
    ))
}

/// The channels in the caller's scope (or under `area_id`), with the rules' flags and how many
/// are flagged (inactive 90+ days, a duplicate for the same audience, no accountable owner).
#[utoipa::path(get, path = "/api/v1/community-channels", tag = "registry", params(ChannelQuery),
    responses((status = 200, body = ChannelPage)))]
async fn list(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<ChannelQuery>,
) -> J<ChannelPage> {
    Ok(axum::Json(channels::list(&s.db, &ctx, &q).await?))
}

/// Registers a channel of a community (`edit_registry`).
#[utoipa::path(post, path = "/api/v1/community-channels", tag = "registry", request_body = NewChannel,
    responses((status = 201, body = CommunityChannel)))]
async fn create(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(n): Json<NewChannel>,
) -> Created<CommunityChannel> {
    created(channels::create(&s.db, &ctx, n).await?)
}

#[utoipa::path(get, path = "/api/v1/community-channels/{id}", tag = "registry", params(("id" = Uuid, Path)),
    responses((status = 200, body = CommunityChannel)))]
async fn get(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<CommunityChannel> {
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
) -> J<CommunityChannel> {
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
) -> J<CommunityChannel> {
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
) -> J<CommunityChannel> {
    Ok(axum::Json(
        channels::decide(&s.db, &ctx, id, true, d).await?,
    ))
}
