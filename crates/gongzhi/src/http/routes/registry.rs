//! The registry (一户一档): dwellings, households and their files, persons, visits and needs,
//! legal entities, and data quality.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{created, Created, J};
use crate::app::registry::households::{
    self, Dwelling, DwellingPatch, EndMember, FileQuery, Household, HouseholdFile, HouseholdPatch,
    ListQuery, NewDwelling, NewHousehold, NewMember, NewOwner, VerifyRequest,
};
use crate::app::registry::persons::{
    self, NewPerson, Person, PersonPatch, PersonQuery, RevealRequest, Revealed,
};
use crate::app::registry::quality::{self, Duplicate, EntityQuery, LegalEntity, NewEntity, Stats};
use crate::app::registry::sharing::{self, NewRule, SharedPage, SharedQuery, SharingRule};
use crate::app::registry::transfer::{self, ImportReport};
use crate::app::registry::visits::{self, Need, NeedPatch, NeedQuery, NewVisit, Visit, VisitQuery};
use crate::app::registry::Event;
use crate::app::AppState;
use crate::domain::registry as vocab;
use crate::error::{AppError, AppResult, Msg};
use crate::http::attachment::{attachment, CSV};
use crate::http::extract::{Auth, Json, Path, Query};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_vocab))
        .routes(routes!(get_stats))
        .routes(routes!(get_stale))
        .routes(routes!(get_duplicates))
        .routes(routes!(list_dwellings, create_dwelling))
        .routes(routes!(get_dwelling, update_dwelling))
        .routes(routes!(change_owner))
        .routes(routes!(list_households, create_household))
        .routes(routes!(get_household, update_household))
        .routes(routes!(add_member))
        .routes(routes!(end_member))
        .routes(routes!(verify_household))
        .routes(routes!(household_file))
        .routes(routes!(household_history))
        .routes(routes!(list_persons, create_person))
        .routes(routes!(get_person, update_person, delete_person))
        .routes(routes!(reveal_person))
        .routes(routes!(person_history))
        .routes(routes!(list_visits, create_visit))
        .routes(routes!(list_needs))
        .routes(routes!(update_need))
        .routes(routes!(list_entities, create_entity))
        .routes(routes!(get_entity))
        .routes(routes!(list_rules, create_rule))
        .routes(routes!(revoke_rule))
        .routes(routes!(my_rules))
        .routes(routes!(shared_persons))
        .routes(routes!(person_template))
        .routes(routes!(person_template_xlsx))
        .routes(routes!(import_persons))
        .routes(routes!(export_persons))
}

/// The resident import template (CSV, UTF-8 with BOM; Excel opens it).
#[utoipa::path(get, path = "/api/v1/import/templates/persons.csv", tag = "registry",
    responses((status = 200, content_type = "text/csv", body = String)))]
async fn person_template(Auth(_): Auth) -> axum::response::Response {
    attachment(
        CSV,
        "persons-template.csv",
        "居民导入模板.csv",
        transfer::person_template(),
    )
}

/// The resident import template as an Excel workbook (columns formatted as text, with a help sheet).
#[utoipa::path(get, path = "/api/v1/import/templates/persons.xlsx", tag = "registry",
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = String)))]
async fn person_template_xlsx(Auth(_): Auth) -> AppResult<axum::response::Response> {
    let bytes = transfer::person_template_xlsx().map_err(AppError::internal)?;
    Ok(crate::http::attachment::attachment(
        super::XLSX,
        "persons-template.xlsx",
        "居民导入模板.xlsx",
        bytes,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// dry_run (default): check and report; commit: write everything or nothing; commit_valid:
    /// write the rows without problems and report the others.
    pub mode: Option<String>,
    /// json (default) | xlsx: the report as an Excel workbook (problems and summary sheets) |
    /// rejects: the rows with problems, in the file's own columns plus the problem, to fix and
    /// upload again.
    pub report: Option<String>,
}

/// Import residents from a CSV (UTF-8 or GBK) or an Excel workbook (.xlsx, first sheet), sent as
/// the request body (up to `GONGZHI_IMPORT_MAX_MB`, default 50 MB; a workbook within
/// `GONGZHI_SHEET_LIMITS`).
#[utoipa::path(post, path = "/api/v1/import/persons", tag = "registry", params(ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport, description = "the report (with `report=xlsx`: an .xlsx workbook of it)"), (status = 413, description = "file too large"), (status = 422, description = "a damaged workbook, or one beyond the limits (`import.bad_workbook`)")))]
async fn import_persons(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<ImportQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> AppResult<axum::response::Response> {
    let admitted = transfer::admit(&ctx)?;
    use transfer::Mode;
    let mode = match q.mode.as_deref().unwrap_or("dry_run") {
        "dry_run" => Mode::DryRun,
        "commit" => Mode::Commit,
        "commit_valid" => Mode::CommitValid,
        _ => {
            return Err(AppError::field(
                "mode",
                Msg::new(
                    "mode 应为 dry_run、commit 或 commit_valid",
                    "mode must be dry_run, commit or commit_valid",
                ),
            ))
        }
    };
    #[derive(PartialEq)]
    enum Answer {
        Json,
        Xlsx,
        Rejects,
    }
    let answer = match q.report.as_deref().unwrap_or("json") {
        "json" => Answer::Json,
        "xlsx" => Answer::Xlsx,
        "rejects" => Answer::Rejects,
        _ => {
            return Err(AppError::field(
                "report",
                Msg::new(
                    "report 应为 json、xlsx 或 rejects",
                    "report must be json, xlsx or rejects",
                ),
            ))
        }
    };
    let claimed_utf8 = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.to_ascii_lowercase().contains("charset=utf-8"))
        .unwrap_or(false);
    // Spool to disk (0600, removed on every exit path): a large file never sits in memory.
    let (mut spool, file) = crate::spool::Spool::create(&s.settings.data_dir, "import", "upload")
        .map_err(AppError::internal)?;
    for derived in ["utf8.csv", "xlsx.csv"] {
        spool.derived(derived);
    }
    let size = spool_body(body, file, s.settings.import_max_bytes).await?;
    if size == 0 {
        return Err(AppError::field(
            "file",
            Msg::new("文件为空", "The file is empty"),
        ));
    }
    let rejects = spool.derived("rejects.xlsx");
    let opts = transfer::ImportOptions {
        claimed_utf8,
        mode,
        limits: s.settings.sheet,
        rejects: (answer == Answer::Rejects).then(|| rejects.clone()),
    };
    let report =
        transfer::import_persons(&s.db, &s.keys, &ctx, admitted, spool.path(), &opts).await?;
    match answer {
        Answer::Json => {
            drop(spool);
            return Ok(axum::Json(report).into_response());
        }
        Answer::Rejects => {
            if report.bad_lines.is_empty() {
                return Err(AppError::Rule {
                    code: "import.no_rejects",
                    msg: Msg::new("文件中没有有问题的行", "No row of the file has a problem"),
                });
            }
            // The workbook outlives the upload's spool: moved into a spool of its own.
            let (out, f) = crate::spool::Spool::create(&s.settings.data_dir, "rejects", "xlsx")
                .map_err(AppError::internal)?;
            drop(f);
            std::fs::rename(&rejects, out.path()).map_err(AppError::internal)?;
            drop(spool);
            return super::stream_spool(out, super::XLSX, "rows-to-fix.xlsx", "待修改的行.xlsx")
                .await;
        }
        Answer::Xlsx => drop(spool),
    }
    let bytes = transfer::report_xlsx(&report).map_err(AppError::internal)?;
    Ok(crate::http::attachment::attachment(
        super::XLSX,
        "import-report.xlsx",
        "导入报告.xlsx",
        bytes,
    ))
}

/// Writes a request body into a spool file, refusing it (413) past `limit` bytes. Returns the size.
async fn spool_body(body: axum::body::Body, file: std::fs::File, limit: u64) -> AppResult<u64> {
    use futures_util::StreamExt;
    use std::io::Write;
    let mut file = std::io::BufWriter::new(file);
    let mut size: u64 = 0;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| AppError::BadRequest {
            code: "bad_request",
            msg: Msg::new("上传中断", "The upload was interrupted"),
        })?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(AppError::PayloadTooLarge);
        }
        file.write_all(&chunk).map_err(AppError::internal)?;
    }
    file.flush().map_err(AppError::internal)?;
    Ok(size)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    pub area_id: Option<Uuid>,
}

/// Export residents in scope as CSV: masked values, formulas neutralised, streamed.
#[utoipa::path(get, path = "/api/v1/export/persons.csv", tag = "registry", params(ExportQuery),
    responses((status = 200, content_type = "text/csv", body = String)))]
async fn export_persons(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<ExportQuery>,
) -> AppResult<axum::response::Response> {
    transfer::start_export(&s.db, &ctx, q.area_id).await?;
    let first = transfer::export_header();
    let state = s.clone();
    let stream = futures_util::stream::unfold(
        (Some(first), None::<Uuid>, false),
        move |(head, after, done)| {
            let state = state.clone();
            let ctx = ctx.clone();
            async move {
                if let Some(h) = head {
                    return Some((
                        Ok::<_, std::io::Error>(axum::body::Bytes::from(h)),
                        (None, after, done),
                    ));
                }
                if done {
                    return None;
                }
                match transfer::export_page(&state.db, &state.keys, &ctx, q.area_id, after, 2000)
                    .await
                {
                    Ok((bytes, last, n)) => {
                        let done = n < 2000;
                        if n == 0 {
                            return None;
                        }
                        Some((Ok(axum::body::Bytes::from(bytes)), (None, last, done)))
                    }
                    Err(e) => Some((
                        Err(std::io::Error::other(e.to_string())),
                        (None, after, true),
                    )),
                }
            }
        },
    );
    let body = axum::body::Body::from_stream(stream);
    Ok(attachment(CSV, "persons.csv", "居民.csv", body))
}

/// A page of results.
#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: u64,
    pub page_size: u64,
    /// True when `total` is a lower bound: a name search counts at most 1,000 matches (type
    /// more of the name to narrow it).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub more: bool,
}

fn page<T>(items: Vec<T>, total: i64, page: Option<u64>, size: Option<u64>) -> axum::Json<Page<T>> {
    let paging = crate::store::Paging::new(page, size);
    axum::Json(Page {
        items,
        total,
        page: paging.page,
        page_size: paging.size,
        more: false,
    })
}

#[derive(Serialize, ToSchema)]
pub struct VocabItem {
    pub code: String,
    pub label: String,
    /// For tags: encrypted at rest and shown to fewer roles.
    pub sensitive: bool,
}

/// Every code list of the registry with its Chinese label.
#[utoipa::path(get, path = "/api/v1/registry/vocab", tag = "registry", responses((status = 200, body = Object)))]
async fn get_vocab(Auth(_): Auth) -> axum::Json<serde_json::Value> {
    let list = |v: &vocab::Vocab| {
        v.items
            .iter()
            .map(|(c, l)| VocabItem {
                code: c.to_string(),
                label: l.to_string(),
                sensitive: vocab::is_sensitive_tag(c),
            })
            .collect::<Vec<_>>()
    };
    axum::Json(serde_json::json!({
        "dwelling_usage": list(&vocab::DWELLING_USAGE),
        "household_kind": list(&vocab::HOUSEHOLD_KIND),
        "relation": list(&vocab::RELATION),
        "id_type": list(&vocab::ID_TYPE),
        "gender": list(&vocab::GENDER),
        "political_status": list(&vocab::POLITICAL_STATUS),
        "education": list(&vocab::EDUCATION),
        "residence_type": list(&vocab::RESIDENCE_TYPE),
        "tags": list(&vocab::TAGS),
        "visit_mode": list(&vocab::VISIT_MODE),
        "need_category": list(&vocab::NEED_CATEGORY),
        "urgency": list(&vocab::URGENCY),
        "change_reason": list(&vocab::CHANGE_REASON),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AreaQuery {
    pub area_id: Option<Uuid>,
    /// Window for visit coverage, in days (default 90).
    pub days: Option<i64>,
}

/// The caller's top area when none is given.
async fn area_or_default(
    s: &AppState,
    ctx: &crate::app::Ctx,
    area: Option<Uuid>,
) -> AppResult<Uuid> {
    match area {
        Some(a) => Ok(a),
        None => crate::app::areas::roots(&s.db, ctx)
            .await?
            .first()
            .map(|a| a.id)
            .ok_or_else(|| AppError::field("area_id", Msg::new("请选择区域", "Choose an area"))),
    }
}

/// Counts, visit coverage, never-visited households, needs by category, freshness for an area.
#[utoipa::path(get, path = "/api/v1/registry/stats", tag = "registry", params(AreaQuery), responses((status = 200, body = Stats)))]
async fn get_stats(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<AreaQuery>,
) -> J<Stats> {
    let area = area_or_default(&s, &ctx, q.area_id).await?;
    Ok(axum::Json(
        quality::stats(&s.db, &ctx, &s.freshness(), area, q.days.unwrap_or(90)).await?,
    ))
}

/// Verification tasks: households past the freshness policy, oldest first.
#[utoipa::path(get, path = "/api/v1/registry/stale", tag = "registry", params(ListQuery), responses((status = 200, body = Page<Household>)))]
async fn get_stale(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(mut q): Query<ListQuery>,
) -> J<Page<Household>> {
    q.stale = Some(true);
    let (items, total) = households::list_households(&s.db, &ctx, &s.freshness(), &q).await?;
    Ok(page(items, total, q.page, q.page_size))
}

/// Possible duplicates for a person to decide.
#[utoipa::path(get, path = "/api/v1/registry/duplicates", tag = "registry", params(AreaQuery), responses((status = 200, body = Vec<Duplicate>)))]
async fn get_duplicates(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<AreaQuery>,
) -> J<Vec<Duplicate>> {
    let area = area_or_default(&s, &ctx, q.area_id).await?;
    Ok(axum::Json(quality::duplicates(&s.db, &ctx, area).await?))
}

/// Dwellings in scope.
#[utoipa::path(get, path = "/api/v1/dwellings", tag = "registry", params(ListQuery), responses((status = 200, body = Page<Dwelling>)))]
async fn list_dwellings(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<ListQuery>,
) -> J<Page<Dwelling>> {
    let (items, total) = households::list_dwellings(&s.db, &ctx, &q).await?;
    Ok(page(items, total, q.page, q.page_size))
}

/// Register a dwelling in a building.
#[utoipa::path(post, path = "/api/v1/dwellings", tag = "registry", request_body = NewDwelling, responses((status = 201, body = Dwelling)))]
async fn create_dwelling(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(d): Json<NewDwelling>,
) -> Created<Dwelling> {
    created(households::create_dwelling(&s.db, &ctx, d).await?)
}

/// One dwelling with its owners over time.
#[utoipa::path(get, path = "/api/v1/dwellings/{id}", tag = "registry", params(("id" = Uuid, Path)), responses((status = 200, body = Dwelling)))]
async fn get_dwelling(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<Dwelling> {
    Ok(axum::Json(households::get_dwelling(&s.db, &ctx, id).await?))
}

/// Correct a dwelling (send the version you read).
#[utoipa::path(patch, path = "/api/v1/dwellings/{id}", tag = "registry", params(("id" = Uuid, Path)), request_body = DwellingPatch, responses((status = 200, body = Dwelling)))]
async fn update_dwelling(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(p): Json<DwellingPatch>,
) -> J<Dwelling> {
    Ok(axum::Json(
        households::update_dwelling(&s.db, &ctx, id, p).await?,
    ))
}

/// Owner change (业主变更): the previous ownership ends, both are kept.
#[utoipa::path(post, path = "/api/v1/dwellings/{id}/owners", tag = "registry", params(("id" = Uuid, Path)), request_body = NewOwner, responses((status = 200, body = Dwelling)))]
async fn change_owner(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(o): Json<NewOwner>,
) -> J<Dwelling> {
    Ok(axum::Json(
        households::change_owner(&s.db, &ctx, id, o).await?,
    ))
}

/// Households in scope (`stale=true`: only those due for verification).
#[utoipa::path(get, path = "/api/v1/households", tag = "registry", params(ListQuery), responses((status = 200, body = Page<Household>)))]
async fn list_households(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<ListQuery>,
) -> J<Page<Household>> {
    let (items, total) = households::list_households(&s.db, &ctx, &s.freshness(), &q).await?;
    Ok(page(items, total, q.page, q.page_size))
}

/// Open a household on a dwelling.
#[utoipa::path(post, path = "/api/v1/households", tag = "registry", request_body = NewHousehold, responses((status = 201, body = Household)))]
async fn create_household(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(h): Json<NewHousehold>,
) -> Created<Household> {
    created(households::create_household(&s.db, &ctx, &s.freshness(), h).await?)
}

/// One household.
#[utoipa::path(get, path = "/api/v1/households/{id}", tag = "registry", params(("id" = Uuid, Path)), responses((status = 200, body = Household)))]
async fn get_household(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<Household> {
    Ok(axum::Json(
        households::get_household(&s.db, &ctx, &s.freshness(), id).await?,
    ))
}

/// Change the household type or head (户主变更).
#[utoipa::path(patch, path = "/api/v1/households/{id}", tag = "registry", params(("id" = Uuid, Path)), request_body = HouseholdPatch, responses((status = 200, body = Household)))]
async fn update_household(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(p): Json<HouseholdPatch>,
) -> J<Household> {
    Ok(axum::Json(
        households::update_household(&s.db, &ctx, &s.freshness(), id, p).await?,
    ))
}

/// A person joins the household (入住, 出生).
#[utoipa::path(post, path = "/api/v1/households/{id}/members", tag = "registry", params(("id" = Uuid, Path)), request_body = NewMember, responses((status = 200, body = Household)))]
async fn add_member(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(m): Json<NewMember>,
) -> J<Household> {
    Ok(axum::Json(
        households::add_member(&s.db, &ctx, &s.freshness(), id, m).await?,
    ))
}

/// A member leaves (迁出) or dies (死亡).
#[utoipa::path(post, path = "/api/v1/households/{id}/members/{member_id}/end", tag = "registry",
    params(("id" = Uuid, Path), ("member_id" = Uuid, Path)), request_body = EndMember, responses((status = 200, body = Household)))]
async fn end_member(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path((id, member)): Path<(Uuid, Uuid)>,
    Json(e): Json<EndMember>,
) -> J<Household> {
    Ok(axum::Json(
        households::end_member(&s.db, &ctx, &s.freshness(), id, member, e).await?,
    ))
}

/// One tap when nothing changed: verified now.
#[utoipa::path(post, path = "/api/v1/households/{id}/verify", tag = "registry", params(("id" = Uuid, Path)), request_body = VerifyRequest, responses((status = 200, body = Household)))]
async fn verify_household(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(v): Json<VerifyRequest>,
) -> J<Household> {
    Ok(axum::Json(
        households::verify(&s.db, &ctx, &s.freshness(), id, v).await?,
    ))
}

/// The whole household file (一户一档) in one document, optionally as of a past date.
#[utoipa::path(get, path = "/api/v1/households/{id}/file", tag = "registry", params(("id" = Uuid, Path), FileQuery), responses((status = 200, body = HouseholdFile)))]
async fn household_file(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Query(q): Query<FileQuery>,
) -> J<HouseholdFile> {
    Ok(axum::Json(
        households::file(&s.db, &s.keys, &ctx, &s.freshness(), id, &q).await?,
    ))
}

/// The household's change history.
#[utoipa::path(get, path = "/api/v1/households/{id}/history", tag = "registry", params(("id" = Uuid, Path)), responses((status = 200, body = Vec<Event>)))]
async fn household_history(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<Vec<Event>> {
    Ok(axum::Json(households::history(&s.db, &ctx, id).await?))
}

/// Search persons: part of a name, or an exact ID number or mobile (blind index); filters.
#[utoipa::path(get, path = "/api/v1/persons", tag = "registry", params(PersonQuery), responses((status = 200, body = Page<Person>)))]
async fn list_persons(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<PersonQuery>,
) -> J<Page<Person>> {
    let (items, total, more) = persons::search(&s.db, &s.keys, &ctx, &q).await?;
    let mut p = page(items, total, q.page, q.page_size);
    p.more = more;
    Ok(p)
}

/// Register a person (ID number checked, encrypted, indexed).
#[utoipa::path(post, path = "/api/v1/persons", tag = "registry", request_body = NewPerson,
    responses((status = 201, body = Person), (status = 409, description = "ID number already registered")))]
async fn create_person(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(p): Json<NewPerson>,
) -> Created<Person> {
    created(persons::create(&s.db, &s.keys, &ctx, p).await?)
}

/// One person, masked (the read is audited).
#[utoipa::path(get, path = "/api/v1/persons/{id}", tag = "registry", params(("id" = Uuid, Path)), responses((status = 200, body = Person)))]
async fn get_person(State(s): State<AppState>, Auth(ctx): Auth, Path(id): Path<Uuid>) -> J<Person> {
    Ok(axum::Json(persons::get(&s.db, &s.keys, &ctx, id).await?))
}

/// Change a person (history kept; send the version you read).
#[utoipa::path(patch, path = "/api/v1/persons/{id}", tag = "registry", params(("id" = Uuid, Path)), request_body = PersonPatch, responses((status = 200, body = Person)))]
async fn update_person(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(p): Json<PersonPatch>,
) -> J<Person> {
    Ok(axum::Json(
        persons::update(&s.db, &s.keys, &ctx, id, p).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Why the record is removed (kept in its history and the audit log).
    pub reason: Option<String>,
}

/// Soft-delete a person (audited; history kept).
#[utoipa::path(delete, path = "/api/v1/persons/{id}", tag = "registry", params(("id" = Uuid, Path), DeleteQuery), responses((status = 204)))]
async fn delete_person(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Query(q): Query<DeleteQuery>,
) -> AppResult<StatusCode> {
    persons::delete(&s.db, &ctx, id, q.reason.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Show full ID number or mobile, with a reason (audited).
#[utoipa::path(post, path = "/api/v1/persons/{id}/reveal", tag = "registry", params(("id" = Uuid, Path)), request_body = RevealRequest, responses((status = 200, body = Revealed)))]
async fn reveal_person(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(r): Json<RevealRequest>,
) -> J<Revealed> {
    Ok(axum::Json(
        persons::reveal(&s.db, &s.keys, &ctx, id, r).await?,
    ))
}

/// A person's change history.
#[utoipa::path(get, path = "/api/v1/persons/{id}/history", tag = "registry", params(("id" = Uuid, Path)), responses((status = 200, body = Vec<Event>)))]
async fn person_history(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<Vec<Event>> {
    Ok(axum::Json(persons::history(&s.db, &ctx, id).await?))
}

/// Visits in scope.
#[utoipa::path(get, path = "/api/v1/visits", tag = "registry", params(VisitQuery), responses((status = 200, body = Page<Visit>)))]
async fn list_visits(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<VisitQuery>,
) -> J<Page<Visit>> {
    let (items, total) = visits::list_visits(&s.db, &ctx, &q).await?;
    Ok(page(items, total, q.page, q.page_size))
}

/// Record a door-to-door visit and the needs it found.
#[utoipa::path(post, path = "/api/v1/visits", tag = "registry", request_body = NewVisit, responses((status = 201, body = Visit)))]
async fn create_visit(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(v): Json<NewVisit>,
) -> Created<Visit> {
    created(visits::create_visit(&s.db, &ctx, v).await?)
}

/// Needs to follow up.
#[utoipa::path(get, path = "/api/v1/needs", tag = "registry", params(NeedQuery), responses((status = 200, body = Page<Need>)))]
async fn list_needs(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<NeedQuery>,
) -> J<Page<Need>> {
    let (items, total) = visits::list_needs(&s.db, &ctx, &q).await?;
    Ok(page(items, total, q.page, q.page_size))
}

/// Progress a need (owner, due date, status; closing needs a result).
#[utoipa::path(patch, path = "/api/v1/needs/{id}", tag = "registry", params(("id" = Uuid, Path)), request_body = NeedPatch, responses((status = 200, body = Need)))]
async fn update_need(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(p): Json<NeedPatch>,
) -> J<Need> {
    Ok(axum::Json(visits::update_need(&s.db, &ctx, id, p).await?))
}

/// Legal entities (法人/单位) in scope.
#[utoipa::path(get, path = "/api/v1/legal-entities", tag = "registry", params(EntityQuery), responses((status = 200, body = Page<LegalEntity>)))]
async fn list_entities(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<EntityQuery>,
) -> J<Page<LegalEntity>> {
    let (items, total) = quality::list_entities(&s.db, &ctx, &q).await?;
    Ok(page(items, total, q.page, q.page_size))
}

/// Register a legal entity (USCC checked, GB 32100).
#[utoipa::path(post, path = "/api/v1/legal-entities", tag = "registry", request_body = NewEntity, responses((status = 201, body = LegalEntity)))]
async fn create_entity(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(e): Json<NewEntity>,
) -> Created<LegalEntity> {
    created(quality::create_entity(&s.db, &s.keys, &ctx, e).await?)
}

/// One legal entity.
#[utoipa::path(get, path = "/api/v1/legal-entities/{id}", tag = "registry", params(("id" = Uuid, Path)), responses((status = 200, body = LegalEntity)))]
async fn get_entity(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<LegalEntity> {
    Ok(axum::Json(quality::get_entity(&s.db, &ctx, id).await?))
}

/// The sharing catalogue (system admins).
#[utoipa::path(get, path = "/api/v1/sharing-rules", tag = "registry", responses((status = 200, body = Vec<SharingRule>)))]
async fn list_rules(State(s): State<AppState>, Auth(ctx): Auth) -> J<Vec<SharingRule>> {
    Ok(axum::Json(sharing::list(&s.db, &ctx).await?))
}

/// Share fields of residents under an area (optionally with a tag) with a role or one user, for a stated purpose.
#[utoipa::path(post, path = "/api/v1/sharing-rules", tag = "registry", request_body = NewRule, responses((status = 201, body = SharingRule)))]
async fn create_rule(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(r): Json<NewRule>,
) -> Created<SharingRule> {
    created(sharing::create(&s.db, &ctx, r).await?)
}

/// Stop a sharing rule.
#[utoipa::path(post, path = "/api/v1/sharing-rules/{id}/revoke", tag = "registry", params(("id" = Uuid, Path)), responses((status = 204)))]
async fn revoke_rule(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> AppResult<StatusCode> {
    sharing::revoke(&s.db, &ctx, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The sharing rules that apply to me.
#[utoipa::path(get, path = "/api/v1/shared/rules", tag = "registry", responses((status = 200, body = Vec<SharingRule>)))]
async fn my_rules(State(s): State<AppState>, Auth(ctx): Auth) -> J<Vec<SharingRule>> {
    Ok(axum::Json(sharing::mine(&s.db, &ctx).await?))
}

/// Residents shared with me by a rule: only its fields (audited).
#[utoipa::path(get, path = "/api/v1/shared/rules/{id}/persons", tag = "registry", params(("id" = Uuid, Path), SharedQuery),
    responses((status = 200, body = SharedPage)))]
async fn shared_persons(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Query(q): Query<SharedQuery>,
) -> J<SharedPage> {
    Ok(axum::Json(
        sharing::read(&s.db, &s.keys, &ctx, id, &q).await?,
    ))
}
