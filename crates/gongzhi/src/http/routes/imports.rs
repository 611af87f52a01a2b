//! The sheet imports of `app::service::imports` (volunteers, party members, legal entities,
//! dwellings, party organisations): each kind has an upload (`POST /api/v1/import/<kind>`, dry run
//! by default) and a template (`GET /api/v1/import/templates/<kind>.csv`). The two handlers are
//! the same for every kind, so [`sheet_routes!`] writes them from one line per kind; what differs —
//! path, tag, what the sheet holds — stays in the line and in the OpenAPI document.
use axum::extract::State;
use axum::response::Response;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::J;
use crate::app::service::imports::{self, Kind, SheetReport};
use crate::app::{AppState, Ctx};
use crate::http::attachment::{attachment, CSV};
use crate::http::extract::{Auth, Query};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_volunteers))
        .routes(routes!(volunteers_template))
        .routes(routes!(import_members))
        .routes(routes!(members_template))
        .routes(routes!(import_entities))
        .routes(routes!(entities_template))
        .routes(routes!(import_dwellings))
        .routes(routes!(dwellings_template))
        .routes(routes!(import_party_orgs))
        .routes(routes!(party_orgs_template))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SheetImportQuery {
    /// dry_run (default): check every row as the form would, write nothing; commit: all rows or
    /// none; commit_valid: the good rows.
    pub mode: Option<String>,
}

/// Admits the caller for the kind, then reads the upload (≤ [`imports::MAX_FILE`]) and runs it.
async fn sheet_import(
    s: &AppState,
    ctx: &Ctx,
    kind: Kind,
    mode: Option<&str>,
    body: axum::body::Body,
) -> J<SheetReport> {
    let admitted = imports::admit(ctx, kind)?;
    let mode = imports::Mode::parse(mode)?;
    let bytes = super::cases::read_body(body, imports::MAX_FILE).await?;
    Ok(axum::Json(
        imports::run(s, ctx, admitted, kind, &bytes, mode).await?,
    ))
}

/// For one kind: `$import` uploads a sheet at `$path`, `$template` answers its template at
/// `$template_path` as `$ascii` (for old clients) / `$name` (the Chinese file name).
macro_rules! sheet_routes {
    ($(#[$doc:meta])* $import:ident = $kind:ident, $path:tt, $tag:tt;
     $(#[$template_doc:meta])* $template:ident = $template_path:tt, $ascii:tt, $name:tt) => {
        $(#[$doc])*
        #[utoipa::path(post, path = $path, tag = $tag, params(SheetImportQuery),
            request_body(content = String, content_type = "text/csv"),
            responses((status = 200, body = SheetReport)))]
        async fn $import(
            State(s): State<AppState>,
            Auth(ctx): Auth,
            Query(q): Query<SheetImportQuery>,
            body: axum::body::Body,
        ) -> J<SheetReport> {
            sheet_import(&s, &ctx, Kind::$kind, q.mode.as_deref(), body).await
        }

        $(#[$template_doc])*
        #[utoipa::path(get, path = $template_path, tag = $tag,
            responses((status = 200, content_type = "text/csv", body = String)))]
        async fn $template(Auth(_): Auth) -> Response {
            attachment(CSV, $ascii, $name, Kind::$kind.template())
        }
    };
}

sheet_routes! {
    /// Register volunteers from a sheet (志愿者名册: 姓名, 证件号码, 技能, 愿意服务, 登录账号; .xlsx or CSV
    /// in UTF-8/GBK, ≤ 4 MiB, ≤ 5,000 rows). Each row is found in the registry by its ID number.
    import_volunteers = Volunteers, "/api/v1/import/volunteers", "service";
    /// The volunteer sheet's template (CSV, UTF-8 with BOM).
    volunteers_template = "/api/v1/import/templates/volunteers.csv",
        "volunteers-template.csv", "志愿者导入模板.csv"
}

sheet_routes! {
    /// Register party members from a sheet (党员名册: 姓名, 证件号码, 党组织, 党员类型, 所在单位党组织,
    /// 报到社区, 入党日期, 党员状态, 技能).
    import_members = PartyMembers, "/api/v1/import/party-members", "service";
    /// The party member sheet's template (CSV, UTF-8 with BOM).
    members_template = "/api/v1/import/templates/party-members.csv",
        "party-members-template.csv", "党员导入模板.csv"
}

sheet_routes! {
    /// Register legal entities from a sheet (法人单位名录: 名称, 统一社会信用代码, 类型, 所在楼栋或网格, 联系人,
    /// 联系电话); needs `edit_registry`.
    import_entities = LegalEntities, "/api/v1/import/legal-entities", "registry";
    /// The legal entity sheet's template (CSV, UTF-8 with BOM).
    entities_template = "/api/v1/import/templates/legal-entities.csv",
        "legal-entities-template.csv", "法人单位导入模板.csv"
}

sheet_routes! {
    /// Create dwellings from a sheet (房屋台账: 楼栋, 单元, 楼层, 室号, 用途), empty ones included; the
    /// building by its code, its name ("朝阳社区1号楼") or an address ending in it; needs `edit_registry`.
    import_dwellings = Dwellings, "/api/v1/import/dwellings", "registry";
    /// The dwelling sheet's template (CSV, UTF-8 with BOM).
    dwellings_template = "/api/v1/import/templates/dwellings.csv",
        "dwellings-template.csv", "房屋导入模板.csv"
}

sheet_routes! {
    /// Create the party organisation tree from a sheet (名称, 类型, 上级党组织, 所在区域, 关联区域), parents
    /// before children: street committees, community branches, grid branches, and the work units'
    /// organisations (单位党组织) with the communities they serve; needs `edit_party_orgs`.
    import_party_orgs = PartyOrgs, "/api/v1/import/party-orgs", "party";
    /// The party organisation sheet's template (CSV, UTF-8 with BOM).
    party_orgs_template = "/api/v1/import/templates/party-orgs.csv",
        "party-orgs-template.csv", "党组织导入模板.csv"
}
