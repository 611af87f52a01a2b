//! The area tree.
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{created, Created, J};
use crate::app::areas::{
    self, Area, AreaHit, AreaPatch, AreaSummary, MoveArea, NewArea, SearchQuery,
};
use crate::app::AppState;
use crate::error::AppResult;
use crate::http::attachment::{attachment, CSV};
use crate::http::extract::{Auth, Json, Path, Query};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(roots))
        .routes(routes!(search, create))
        .routes(routes!(get, update, delete))
        .routes(routes!(children))
        .routes(routes!(move_area))
        .routes(routes!(import_areas))
        .routes(routes!(areas_template))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AreaImportQuery {
    /// dry_run (default): check only; commit: the whole tree or nothing.
    pub mode: Option<String>,
}

/// Import the area tree: a GeoJSON FeatureCollection (properties code/编码, name/名称, optional
/// kind/类型 and parent_code/上级编码; Polygon or MultiPolygon boundaries), or a sheet with the
/// columns 编码, 名称, 类型, 上级编码 (.xlsx, CSV in UTF-8/GBK). Up to 32 MiB and 50,000 areas.
#[utoipa::path(post, path = "/api/v1/import/areas", tag = "areas", params(AreaImportQuery),
    request_body(content = String, content_type = "application/geo+json"),
    responses((status = 200, body = crate::app::area_import::AreaImportReport)))]
async fn import_areas(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<AreaImportQuery>,
    body: axum::body::Body,
) -> J<crate::app::area_import::AreaImportReport> {
    use crate::error::{AppError, Msg};
    let admitted = crate::app::area_import::admit(&ctx)?;
    let commit = match q.mode.as_deref().unwrap_or("dry_run") {
        "dry_run" => false,
        "commit" => true,
        _ => {
            return Err(AppError::field(
                "mode",
                Msg::new(
                    "mode 应为 dry_run 或 commit",
                    "mode must be dry_run or commit",
                ),
            ))
        }
    };
    let bytes = super::cases::read_body(body, crate::app::area_import::MAX_FILE).await?;
    Ok(axum::Json(
        crate::app::area_import::run(&s, &ctx, admitted, &bytes, commit).await?,
    ))
}

/// The area sheet's template (CSV, UTF-8 with BOM); GeoJSON files need no template.
#[utoipa::path(get, path = "/api/v1/import/templates/areas.csv", tag = "areas",
    responses((status = 200, content_type = "text/csv", body = String)))]
async fn areas_template(Auth(ctx): Auth) -> AppResult<axum::response::Response> {
    let body = crate::app::area_import::template(&ctx)?;
    Ok(attachment(
        CSV,
        "areas-template.csv",
        "区域导入模板.csv",
        body,
    ))
}

/// The top areas you may browse.
#[utoipa::path(get, path = "/api/v1/areas/roots", tag = "areas", responses((status = 200, body = Vec<AreaSummary>)))]
async fn roots(State(s): State<AppState>, Auth(ctx): Auth) -> J<Vec<AreaSummary>> {
    Ok(axum::Json(areas::roots(&s.db, &ctx).await?))
}

/// Search areas by name or code within your scope.
#[utoipa::path(get, path = "/api/v1/areas", tag = "areas", params(SearchQuery),
    responses((status = 200, body = Vec<AreaHit>)))]
async fn search(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<SearchQuery>,
) -> J<Vec<AreaHit>> {
    Ok(axum::Json(areas::search(&s.db, &ctx, &q).await?))
}

/// Create an area under a parent (system or street admin).
#[utoipa::path(post, path = "/api/v1/areas", tag = "areas", request_body = NewArea,
    responses((status = 201, body = Area), (status = 409, description = "code in use"), (status = 422)))]
async fn create(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(input): Json<NewArea>,
) -> Created<Area> {
    created(areas::create(&s.db, &ctx, input).await?)
}

/// One area with its boundary and path.
#[utoipa::path(get, path = "/api/v1/areas/{id}", tag = "areas", params(("id" = Uuid, Path)),
    responses((status = 200, body = Area), (status = 404)))]
async fn get(State(s): State<AppState>, Auth(ctx): Auth, Path(id): Path<Uuid>) -> J<Area> {
    Ok(axum::Json(areas::get(&s.db, &ctx, id).await?))
}

/// Edit name, code or boundary (send the version you read).
#[utoipa::path(patch, path = "/api/v1/areas/{id}", tag = "areas", params(("id" = Uuid, Path)), request_body = AreaPatch,
    responses((status = 200, body = Area), (status = 409, description = "stale version")))]
async fn update(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(p): Json<AreaPatch>,
) -> J<Area> {
    Ok(axum::Json(areas::update(&s.db, &ctx, id, p).await?))
}

/// Delete a leaf area nobody refers to.
#[utoipa::path(delete, path = "/api/v1/areas/{id}", tag = "areas", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 409, description = "has children or references")))]
async fn delete(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> AppResult<StatusCode> {
    areas::delete(&s.db, &ctx, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The children of an area.
#[utoipa::path(get, path = "/api/v1/areas/{id}/children", tag = "areas", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<AreaSummary>)))]
async fn children(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<std::sync::Arc<Vec<AreaSummary>>> {
    Ok(axum::Json(areas::children(&s.db, &ctx, id).await?))
}

/// Move an area (and its subtree) under a new parent of the right kind.
#[utoipa::path(post, path = "/api/v1/areas/{id}/move", tag = "areas", params(("id" = Uuid, Path)), request_body = MoveArea,
    responses((status = 200, body = Area)))]
async fn move_area(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(m): Json<MoveArea>,
) -> J<Area> {
    Ok(axum::Json(areas::move_to(&s.db, &ctx, id, m).await?))
}
