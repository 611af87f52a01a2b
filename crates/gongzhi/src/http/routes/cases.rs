//! 接诉即办 (docs/cases.md): categories, units and power lists, the calendar, cases and their
//! lifecycle, files, and the rates.
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{created, Created, J};
use crate::app::cases::calendar::{
    self as calendar, DeadlinePreview, ImportResult, Year, YearInput, YearSummary,
};
use crate::app::cases::dictionary::{self, Category, CategoryImport, CategoryPatch, NewCategory};
use crate::app::cases::intake::{self, NewCase};
use crate::app::cases::lifecycle::{self, ActionBody, Arrival, NewWhistle};
use crate::app::cases::query::{
    self, Case, CaseEvent, CaseMap, CasePage, CaseQuery, MapQuery, QueueCounts,
};
use crate::app::cases::stats::{
    self, Dashboard, Hotspot, HotspotQuery, Ranked, StatsQuery, TrendPoint,
};
use crate::app::cases::units::{
    self, Duty, DutyPatch, Member, NewDuty, NewMember, NewUnit, Routing, RoutingQuery, Unit,
    UnitPatch, UnitQuery,
};
use crate::app::files::{self, FileInfo};
use crate::app::AppState;
use crate::error::{AppError, AppResult, Msg};
use crate::http::attachment::{attachment, inline, CSV};
use crate::http::extract::{Auth, Json, Path, Query};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_categories, create_category))
        .routes(routes!(update_category))
        .routes(routes!(export_categories))
        .routes(routes!(import_categories))
        .routes(routes!(list_units, create_unit))
        .routes(routes!(get_unit, update_unit))
        .routes(routes!(list_members, add_member))
        .routes(routes!(remove_member))
        .routes(routes!(list_duties, create_duty))
        .routes(routes!(update_duty))
        .routes(routes!(routing_preview))
        .routes(routes!(calendar_years))
        .routes(routes!(calendar_year, put_calendar_year))
        .routes(routes!(import_calendar))
        .routes(routes!(deadline_preview))
        .routes(routes!(list_cases, create_case))
        .routes(routes!(case_counts))
        .routes(routes!(export_cases))
        .routes(routes!(export_stats))
        .routes(routes!(import_hotline))
        .routes(routes!(hotline_template))
        .routes(routes!(case_map))
        .routes(routes!(my_cases))
        .routes(routes!(get_case))
        .routes(routes!(case_timeline))
        .routes(routes!(case_action))
        .routes(routes!(blow_whistle))
        .routes(routes!(arrive))
        .routes(routes!(need_to_case))
        .routes(routes!(rating_page, rate_by_link))
        .routes(routes!(public_categories, set_public_categories))
        .routes(routes!(upload_file))
        .routes(routes!(download_file))
        .routes(routes!(stats_dashboard))
        .routes(routes!(stats_trend))
        .routes(routes!(stats_ranking))
        .routes(routes!(stats_hotspots))
}

/// Reads a raw body up to `limit` bytes.
pub async fn read_body(body: axum::body::Body, limit: usize) -> AppResult<Vec<u8>> {
    use futures_util::StreamExt;
    let mut out = vec![];
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| AppError::BadRequest {
            code: "bad_request",
            msg: Msg::new("上传中断", "The upload was interrupted"),
        })?;
        if out.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

// ---- categories ---------------------------------------------------------------------------

/// The category dictionary (flat, ordered by code; `parent_id` links the two levels).
#[utoipa::path(get, path = "/api/v1/case-categories", tag = "cases", responses((status = 200, body = Vec<Category>)))]
async fn list_categories(State(s): State<AppState>, Auth(_): Auth) -> J<Vec<Category>> {
    Ok(axum::Json(dictionary::list(&s.db).await?))
}

#[utoipa::path(post, path = "/api/v1/case-categories", tag = "cases", request_body = NewCategory,
    responses((status = 201, body = Category), (status = 409), (status = 422)))]
async fn create_category(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(b): Json<NewCategory>,
) -> Created<Category> {
    created(dictionary::create(&s, &ctx, b).await?)
}

#[utoipa::path(patch, path = "/api/v1/case-categories/{id}", tag = "cases", request_body = CategoryPatch,
    params(("id" = Uuid, Path)), responses((status = 200, body = Category), (status = 409)))]
async fn update_category(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(b): Json<CategoryPatch>,
) -> J<Category> {
    Ok(axum::Json(dictionary::update(&s, &ctx, id, b).await?))
}

/// The dictionary as CSV (`code,name,parent_code,response,handle,verify,return_visit`).
#[utoipa::path(get, path = "/api/v1/case-categories/export.csv", tag = "cases",
    responses((status = 200, content_type = "text/csv", body = String)))]
async fn export_categories(State(s): State<AppState>, Auth(_): Auth) -> AppResult<Response> {
    let bytes = dictionary::export_csv(&s.db).await?;
    Ok(attachment(
        CSV,
        "case-categories.csv",
        "事项分类.csv",
        bytes,
    ))
}

/// Imports the dictionary CSV (UTF-8 or GBK, up to 5 MiB): new codes are created, existing ones updated.
#[utoipa::path(post, path = "/api/v1/case-categories/import", tag = "cases",
    request_body(content = String, content_type = "text/csv"), responses((status = 200, body = CategoryImport), (status = 422)))]
async fn import_categories(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    body: axum::body::Body,
) -> J<CategoryImport> {
    let bytes = read_body(body, 5 << 20).await?;
    Ok(axum::Json(dictionary::import_csv(&s, &ctx, &bytes).await?))
}

// ---- units and duties -----------------------------------------------------------------------

#[utoipa::path(get, path = "/api/v1/case-units", tag = "cases", params(UnitQuery), responses((status = 200, body = Vec<Unit>)))]
async fn list_units(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<UnitQuery>,
) -> J<Vec<Unit>> {
    Ok(axum::Json(units::list(&s.db, &ctx, q).await?))
}

#[utoipa::path(post, path = "/api/v1/case-units", tag = "cases", request_body = NewUnit, responses((status = 201, body = Unit)))]
async fn create_unit(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(b): Json<NewUnit>,
) -> Created<Unit> {
    created(units::create(&s, &ctx, b).await?)
}

#[utoipa::path(get, path = "/api/v1/case-units/{id}", tag = "cases", params(("id" = Uuid, Path)), responses((status = 200, body = Unit)))]
async fn get_unit(State(s): State<AppState>, Auth(ctx): Auth, Path(id): Path<Uuid>) -> J<Unit> {
    Ok(axum::Json(units::get(&s.db, &ctx, id).await?))
}

#[utoipa::path(patch, path = "/api/v1/case-units/{id}", tag = "cases", params(("id" = Uuid, Path)), request_body = UnitPatch,
    responses((status = 200, body = Unit)))]
async fn update_unit(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(b): Json<UnitPatch>,
) -> J<Unit> {
    Ok(axum::Json(units::update(&s, &ctx, id, b).await?))
}

#[utoipa::path(get, path = "/api/v1/case-units/{id}/members", tag = "cases", params(("id" = Uuid, Path)), responses((status = 200, body = Vec<Member>)))]
async fn list_members(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<Vec<Member>> {
    Ok(axum::Json(units::members(&s.db, &ctx, id).await?))
}

#[utoipa::path(post, path = "/api/v1/case-units/{id}/members", tag = "cases", params(("id" = Uuid, Path)), request_body = NewMember,
    responses((status = 200, body = Vec<Member>)))]
async fn add_member(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(b): Json<NewMember>,
) -> J<Vec<Member>> {
    Ok(axum::Json(units::add_member(&s, &ctx, id, b).await?))
}

#[utoipa::path(delete, path = "/api/v1/case-units/{id}/members/{member_id}", tag = "cases",
    params(("id" = Uuid, Path), ("member_id" = Uuid, Path)), responses((status = 204)))]
async fn remove_member(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path((id, member)): Path<(Uuid, Uuid)>,
) -> AppResult<StatusCode> {
    units::remove_member(&s, &ctx, id, member).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The unit's power list (权责清单).
#[utoipa::path(get, path = "/api/v1/case-units/{id}/duties", tag = "cases", params(("id" = Uuid, Path)), responses((status = 200, body = Vec<Duty>)))]
async fn list_duties(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<Vec<Duty>> {
    Ok(axum::Json(units::duties(&s.db, &ctx, id).await?))
}

#[utoipa::path(post, path = "/api/v1/case-units/{id}/duties", tag = "cases", params(("id" = Uuid, Path)), request_body = NewDuty,
    responses((status = 201, body = Duty)))]
async fn create_duty(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(b): Json<NewDuty>,
) -> Created<Duty> {
    created(units::create_duty(&s, &ctx, id, b).await?)
}

#[utoipa::path(patch, path = "/api/v1/case-duties/{id}", tag = "cases", params(("id" = Uuid, Path)), request_body = DutyPatch,
    responses((status = 200, body = Duty)))]
async fn update_duty(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(b): Json<DutyPatch>,
) -> J<Duty> {
    Ok(axum::Json(units::update_duty(&s, &ctx, id, b).await?))
}

/// Where a case of this category at this area would go, and why.
#[utoipa::path(get, path = "/api/v1/case-routing", tag = "cases", params(RoutingQuery), responses((status = 200, body = Routing)))]
async fn routing_preview(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<RoutingQuery>,
) -> J<Routing> {
    Ok(axum::Json(units::preview(&s.db, &ctx, q).await?))
}

// ---- calendar -----------------------------------------------------------------------------

#[utoipa::path(get, path = "/api/v1/calendar", tag = "cases", responses((status = 200, body = Vec<YearSummary>)))]
async fn calendar_years(State(s): State<AppState>, Auth(_): Auth) -> J<Vec<YearSummary>> {
    Ok(axum::Json(calendar::years(&s.db).await?))
}

#[utoipa::path(get, path = "/api/v1/calendar/{year}", tag = "cases", params(("year" = i32, Path)), responses((status = 200, body = Year)))]
async fn calendar_year(State(s): State<AppState>, Auth(_): Auth, Path(year): Path<i32>) -> J<Year> {
    Ok(axum::Json(calendar::year(&s.db, year).await?))
}

/// Replaces a year's holidays and adjusted working days.
#[utoipa::path(put, path = "/api/v1/calendar/{year}", tag = "cases", params(("year" = i32, Path)), request_body = YearInput,
    responses((status = 200, body = Year)))]
async fn put_calendar_year(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(year): Path<i32>,
    Json(b): Json<YearInput>,
) -> J<Year> {
    Ok(axum::Json(calendar::put_year(&s, &ctx, year, b).await?))
}

/// Imports `date,kind,name` rows (kind 休/班 or holiday/workday); each year in the file is replaced.
#[utoipa::path(post, path = "/api/v1/calendar/import", tag = "cases", request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportResult)))]
async fn import_calendar(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    body: axum::body::Body,
) -> J<ImportResult> {
    let bytes = read_body(body, 1 << 20).await?;
    Ok(axum::Json(calendar::import(&s, &ctx, &bytes).await?))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DeadlineQuery {
    /// RFC 3339
    start: String,
    value: u32,
    /// hours | days
    unit: String,
}

/// When a limit started at `start` runs out on the working-day calendar.
#[utoipa::path(get, path = "/api/v1/calendar/deadline", tag = "cases", params(DeadlineQuery), responses((status = 200, body = DeadlinePreview)))]
async fn deadline_preview(
    State(s): State<AppState>,
    Auth(_): Auth,
    Query(q): Query<DeadlineQuery>,
) -> J<DeadlinePreview> {
    Ok(axum::Json(
        calendar::preview(&s, &q.start, q.value, &q.unit).await?,
    ))
}

// ---- cases --------------------------------------------------------------------------------

/// Submit a case. Send `Idempotency-Key` to make retries safe: the same key returns the same case (200).
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", request_body = NewCase,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Case), (status = 200, body = Case, description = "a replay of the same key"), (status = 422)))]
async fn create_case(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    headers: HeaderMap,
    Json(b): Json<NewCase>,
) -> Created<Case> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (case, new) = intake::create(&s, &ctx, b, key).await?;
    Ok((
        if new {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        axum::Json(case),
    ))
}

#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(CaseQuery), responses((status = 200, body = CasePage)))]
async fn list_cases(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<CaseQuery>,
) -> J<CasePage> {
    Ok(axum::Json(query::list(&s.db, &ctx, q).await?))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ExportLayout {
    /// full (default): every column; hotline: the 12345 import's columns followed by the results.
    layout: Option<String>,
}

/// The cases of any list filter as an Excel workbook (all pages, at most 200,000 rows), newest
/// first. Requesters are shown in full only where the caller may dispatch cases; the export is
/// audited.
#[utoipa::path(get, path = "/api/v1/cases/export.xlsx", tag = "cases", params(CaseQuery, ExportLayout),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = String),
              (status = 422, description = "a bad filter, or more than 200,000 rows (`export.too_many_rows`)")))]
async fn export_cases(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<CaseQuery>,
    Query(l): Query<ExportLayout>,
) -> AppResult<Response> {
    use crate::app::cases::export::{self, Layout};
    let layout = Layout::parse(l.layout.as_deref())?;
    let (spool, _) = export::export(&s, &ctx, &q, layout).await?;
    let (ascii, name) = if layout == Layout::Hotline {
        ("12345-results.xlsx", "12345办理结果.xlsx")
    } else {
        ("cases.xlsx", "诉求清单.xlsx")
    };
    super::stream_spool(spool, XLSX, ascii, name).await
}

use super::XLSX;

/// The statistics page as a workbook: the totals, then the ranking by unit, street, community,
/// grid or category, with every count and rate (audited).
#[utoipa::path(get, path = "/api/v1/case-stats/export.xlsx", tag = "cases", params(StatsQuery),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = String)))]
async fn export_stats(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<StatsQuery>,
) -> AppResult<Response> {
    let (spool, _) = crate::app::cases::export::stats(&s, &ctx, q).await?;
    super::stream_spool(spool, XLSX, "case-stats.xlsx", "接诉即办统计.xlsx").await
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct HotlineQuery {
    /// dry_run (default): check and report; commit: store every row or none.
    mode: Option<String>,
}

/// Imports 12345 hotline work orders (CSV in UTF-8/GBK, or .xlsx; up to 20 MiB, 50,000 rows).
#[utoipa::path(post, path = "/api/v1/cases/import", tag = "cases", params(HotlineQuery),
    request_body(content = String, content_type = "text/csv"), responses((status = 200, body = crate::app::cases::hotline::HotlineReport)))]
async fn import_hotline(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<HotlineQuery>,
    body: axum::body::Body,
) -> J<crate::app::cases::hotline::HotlineReport> {
    let admitted = crate::app::cases::hotline::admit(&ctx)?;
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
    let bytes = read_body(body, crate::app::cases::hotline::MAX_FILE).await?;
    Ok(axum::Json(
        crate::app::cases::hotline::import(&s, &ctx, admitted, &bytes, commit).await?,
    ))
}

/// The hotline import template (CSV, UTF-8 with BOM).
#[utoipa::path(get, path = "/api/v1/cases/import/template.csv", tag = "cases", responses((status = 200, content_type = "text/csv", body = String)))]
async fn hotline_template(Auth(_): Auth) -> Response {
    attachment(
        CSV,
        "hotline-template.csv",
        "12345工单模板.csv",
        crate::app::cases::hotline::template(),
    )
}

/// Counters of the dispatcher's queues.
#[utoipa::path(get, path = "/api/v1/cases/counts", tag = "cases", responses((status = 200, body = QueueCounts)))]
async fn case_counts(State(s): State<AppState>, Auth(ctx): Auth) -> J<QueueCounts> {
    Ok(axum::Json(query::counts(&s.db, &ctx).await?))
}

#[utoipa::path(get, path = "/api/v1/cases/map", tag = "cases", params(MapQuery), responses((status = 200, body = CaseMap)))]
async fn case_map(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<MapQuery>,
) -> J<CaseMap> {
    Ok(axum::Json(query::map(&s.db, &ctx, q).await?))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct MyQuery {
    page: Option<u64>,
    page_size: Option<u64>,
}

/// The cases you submitted (the resident phone page).
#[utoipa::path(get, path = "/api/v1/my/cases", tag = "cases", params(MyQuery), responses((status = 200, body = CasePage)))]
async fn my_cases(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<MyQuery>,
) -> J<CasePage> {
    let q = CaseQuery {
        queue: Some("mine".into()),
        status: None,
        area_id: None,
        unit_id: None,
        category_code: None,
        overdue: None,
        q: None,
        page: q.page,
        page_size: q.page_size,
    };
    Ok(axum::Json(query::list(&s.db, &ctx, q).await?))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = Uuid, Path)), responses((status = 200, body = Case), (status = 404)))]
async fn get_case(State(s): State<AppState>, Auth(ctx): Auth, Path(id): Path<Uuid>) -> J<Case> {
    Ok(axum::Json(query::get(&s, &ctx, id).await?))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/timeline", tag = "cases", params(("id" = Uuid, Path)), responses((status = 200, body = Vec<CaseEvent>)))]
async fn case_timeline(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<Vec<CaseEvent>> {
    Ok(axum::Json(query::timeline(&s, &ctx, id).await?))
}

/// A lifecycle action (docs/cases.md): register, reject, dispatch, accept, return, arbitrate,
/// handle, verify, rate, close, request_extension, decide_extension, supervise, merge, reopen.
#[utoipa::path(post, path = "/api/v1/cases/{id}/actions/{action}", tag = "cases", request_body = ActionBody,
    params(("id" = Uuid, Path), ("action" = String, Path)),
    responses((status = 200, body = Case), (status = 409, description = "stale version or wrong state (case.wrong_state)")))]
async fn case_action(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path((id, action)): Path<(Uuid, String)>,
    Json(b): Json<ActionBody>,
) -> J<Case> {
    Ok(axum::Json(lifecycle::act(&s, &ctx, id, &action, b).await?))
}

/// 吹哨: the street summons units to the case; each must report in within the deadline.
#[utoipa::path(post, path = "/api/v1/cases/{id}/whistles", tag = "cases", params(("id" = Uuid, Path)), request_body = NewWhistle,
    responses((status = 200, body = Case)))]
async fn blow_whistle(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(b): Json<NewWhistle>,
) -> J<Case> {
    Ok(axum::Json(lifecycle::whistle(&s, &ctx, id, b).await?))
}

/// 报到: a summoned unit reports in.
#[utoipa::path(post, path = "/api/v1/cases/{id}/whistles/{wid}/arrive", tag = "cases",
    params(("id" = Uuid, Path), ("wid" = Uuid, Path)), request_body = Arrival, responses((status = 200, body = Case)))]
async fn arrive(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path((id, wid)): Path<(Uuid, Uuid)>,
    Json(b): Json<Arrival>,
) -> J<Case> {
    Ok(axum::Json(lifecycle::arrive(&s, &ctx, id, wid, b).await?))
}

/// A need found on a visit becomes a case (channel `visit`); twice returns the same case.
#[utoipa::path(post, path = "/api/v1/needs/{id}/case", tag = "cases", params(("id" = Uuid, Path)),
    request_body = crate::app::cases::intake::NeedToCase, responses((status = 201, body = Case), (status = 200, body = Case)))]
async fn need_to_case(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(b): Json<crate::app::cases::intake::NeedToCase>,
) -> Created<Case> {
    let (case, new) = intake::from_need(&s, &ctx, id, b).await?;
    Ok((
        if new {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        axum::Json(case),
    ))
}

/// The case categories a street opens to the public: their requests are listed by Open311
/// without a key (with the place reduced to the grid and no personal data).
#[utoipa::path(get, path = "/api/v1/streets/{id}/public-categories", tag = "cases", params(("id" = Uuid, Path)),
    responses((status = 200, body = crate::app::cases::public::PublicCategories)))]
async fn public_categories(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<crate::app::cases::public::PublicCategories> {
    Ok(axum::Json(
        crate::app::cases::public::get(&s.db, &ctx, id).await?,
    ))
}

/// Replaces the street's public categories (`edit_areas` on the street).
#[utoipa::path(put, path = "/api/v1/streets/{id}/public-categories", tag = "cases", params(("id" = Uuid, Path)),
    request_body = crate::app::cases::public::SetPublicCategories,
    responses((status = 200, body = crate::app::cases::public::PublicCategories)))]
async fn set_public_categories(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(b): Json<crate::app::cases::public::SetPublicCategories>,
) -> J<crate::app::cases::public::PublicCategories> {
    Ok(axum::Json(
        crate::app::cases::public::set(&s.db, &ctx, id, b).await?,
    ))
}

/// The resident's rating link (no sign-in: the token is the authority): the case's state.
#[utoipa::path(get, path = "/api/v1/public/rate/{token}", tag = "cases", params(("token" = String, Path)),
    responses((status = 200, body = crate::app::cases::lifecycle::RatingPage), (status = 404)), security(()))]
async fn rating_page(
    State(s): State<AppState>,
    meta: crate::http::extract::ReqMeta,
    Path(token): Path<String>,
) -> J<crate::app::cases::lifecycle::RatingPage> {
    Ok(axum::Json(
        lifecycle::rating_page(&s, meta.lang, &token).await?,
    ))
}

/// The resident rates through the link, once.
#[utoipa::path(post, path = "/api/v1/public/rate/{token}", tag = "cases", params(("token" = String, Path)),
    request_body = crate::app::cases::lifecycle::LinkRating,
    responses((status = 200, body = crate::app::cases::lifecycle::RatingPage), (status = 409)), security(()))]
async fn rate_by_link(
    State(s): State<AppState>,
    meta: crate::http::extract::ReqMeta,
    Path(token): Path<String>,
    Json(b): Json<crate::app::cases::lifecycle::LinkRating>,
) -> J<crate::app::cases::lifecycle::RatingPage> {
    Ok(axum::Json(
        lifecycle::rate_by_link(&s, meta.lang, &token, b).await?,
    ))
}

// ---- files --------------------------------------------------------------------------------

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct FileQuery {
    /// The file name (with its extension).
    name: String,
}

/// Upload a file (the body as is, up to 10 MiB): images (JPG/PNG/GIF/WebP), PDF, Word/Excel
/// (.docx/.xlsx), text (.txt/.csv, UTF-8). The content must be what the name's extension says
/// (magic bytes; for .docx/.xlsx the zip's main part), else 422 naming `file`.
#[utoipa::path(post, path = "/api/v1/files", tag = "cases", params(FileQuery),
    request_body(content = String, content_type = "application/octet-stream"),
    responses((status = 201, body = FileInfo), (status = 413), (status = 422, description = "not an accepted file, or its content does not match its extension")))]
async fn upload_file(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<FileQuery>,
    body: axum::body::Body,
) -> Created<FileInfo> {
    let bytes = read_body(body, files::MAX_FILE).await?;
    created(files::upload(&s, &ctx, &q.name, &bytes).await?)
}

/// A file: images inline, everything else as a download (`Content-Disposition: attachment`),
/// always `X-Content-Type-Options: nosniff`.
#[utoipa::path(get, path = "/api/v1/files/{id}", tag = "cases", params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = String)))]
async fn download_file(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let f = files::download(&s, &ctx, id).await?;
    Ok(if f.inline() {
        inline(&f.content_type, &f.name, f.data)
    } else {
        attachment(&f.content_type, &f.name, &f.name, f.data)
    })
}

// ---- stats --------------------------------------------------------------------------------

/// The three rates (and two more) for an area and period, with their definitions.
#[utoipa::path(get, path = "/api/v1/case-stats", tag = "cases", params(StatsQuery), responses((status = 200, body = Dashboard)))]
async fn stats_dashboard(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<StatsQuery>,
) -> J<Dashboard> {
    Ok(axum::Json(stats::dashboard(&s, &ctx, q).await?))
}

#[utoipa::path(get, path = "/api/v1/case-stats/trend", tag = "cases", params(StatsQuery), responses((status = 200, body = Vec<TrendPoint>)))]
async fn stats_trend(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<StatsQuery>,
) -> J<Vec<TrendPoint>> {
    Ok(axum::Json(stats::trend(&s, &ctx, q).await?))
}

#[utoipa::path(get, path = "/api/v1/case-stats/ranking", tag = "cases", params(StatsQuery), responses((status = 200, body = Vec<Ranked>)))]
async fn stats_ranking(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<StatsQuery>,
) -> J<Vec<Ranked>> {
    Ok(axum::Json(stats::ranking(&s, &ctx, q).await?))
}

/// 未诉先办: category × community combinations rising over the last 7 or 30 days.
#[utoipa::path(get, path = "/api/v1/case-stats/hotspots", tag = "cases", params(HotspotQuery), responses((status = 200, body = Vec<Hotspot>)))]
async fn stats_hotspots(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<HotspotQuery>,
) -> J<Vec<Hotspot>> {
    Ok(axum::Json(stats::hotspots(&s, &ctx, q).await?))
}
