//! Excel exports of what an office keeps: visit logs, volunteer service hours, points ledgers
//! (`app/exports.rs`). Case lists export from `/cases/export.xlsx`.
use axum::extract::State;
use axum::response::Response;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::exports::{self, Range};
use crate::app::AppState;
use crate::error::AppResult;
use crate::http::extract::{Auth, Query};

use super::XLSX;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_visits))
        .routes(routes!(export_service_hours))
        .routes(routes!(export_postings))
}

/// The visit log (走访台账) of an area and a date range, as a workbook (audited).
#[utoipa::path(get, path = "/api/v1/exports/visits.xlsx", tag = "registry", params(Range),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = String)))]
async fn export_visits(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(r): Query<Range>,
) -> AppResult<Response> {
    let (spool, _) = exports::visits(&s, &ctx, &r).await?;
    super::stream_spool(spool, XLSX, "visits.xlsx", "走访台账.xlsx").await
}

/// Volunteer service hours of an area and a date range, as a workbook (audited).
#[utoipa::path(get, path = "/api/v1/exports/service-hours.xlsx", tag = "service", params(Range),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = String)))]
async fn export_service_hours(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(r): Query<Range>,
) -> AppResult<Response> {
    let (spool, _) = exports::service_hours(&s, &ctx, &r).await?;
    super::stream_spool(spool, XLSX, "service-hours.xlsx", "志愿服务时长.xlsx").await
}

/// Points postings of the accounts of an area in a date range, as a workbook (audited).
#[utoipa::path(get, path = "/api/v1/exports/postings.xlsx", tag = "service", params(Range),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = String)))]
async fn export_postings(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(r): Query<Range>,
) -> AppResult<Response> {
    let (spool, _) = exports::postings(&s, &ctx, &r).await?;
    super::stream_spool(spool, XLSX, "points.xlsx", "积分流水.xlsx").await
}
