//! The audit log viewer's API (read only: no route updates or deletes audit rows).
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::PageQuery;
use super::J;
use crate::app::audit::{self, AuditRow, Filter};
use crate::app::AppState;
use crate::domain::rfc3339_to_ms;
use crate::error::{AppError, AppResult, Msg};
use crate::http::extract::{Auth, Query};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(sign_checkpoint))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Part of the actor's name.
    pub actor: Option<String>,
    /// Action prefix, e.g. `auth.` or `area.update`.
    pub action: Option<String>,
    pub object_type: Option<String>,
    /// ok | denied | failed
    pub result: Option<String>,
    /// RFC 3339, inclusive.
    pub from: Option<String>,
    /// RFC 3339, exclusive.
    pub to: Option<String>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditRow>,
    pub total: i64,
    pub page: u64,
    pub page_size: u64,
}

fn time_param(name: &str, v: &Option<String>) -> AppResult<Option<i64>> {
    match v.as_deref().filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => rfc3339_to_ms(s).map(Some).ok_or_else(|| {
            AppError::field(
                name,
                Msg::new("时间格式应为 RFC 3339", "Use an RFC 3339 time"),
            )
        }),
    }
}

/// Signs the audit chain's current head now: the checkpoint is written to
/// `GONGZHI_AUDIT_CHECKPOINT_DIR` and returned, to be kept away from the server (system admin).
/// `gongzhi audit verify --checkpoints DIR` checks the chain against such files.
#[utoipa::path(post, path = "/api/v1/audit/checkpoints", tag = "audit",
    responses((status = 201, body = audit::Checkpoint), (status = 403, description = "not a system admin")))]
async fn sign_checkpoint(
    State(s): State<AppState>,
    Auth(ctx): Auth,
) -> AppResult<(axum::http::StatusCode, axum::Json<audit::Checkpoint>)> {
    let cp = audit::sign_checkpoint(&s.db, &ctx, &s.settings.audit_checkpoint_dir).await?;
    Ok((axum::http::StatusCode::CREATED, axum::Json(cp)))
}

/// Audit rows, newest first (system admin: all; street admin: rows of their areas).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery), responses((status = 200, body = AuditPage)))]
async fn list(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<AuditQuery>,
) -> J<AuditPage> {
    let pq = PageQuery {
        page: q.page,
        page_size: q.page_size,
    };
    let f = Filter {
        actor: q.actor.clone(),
        action: q.action.clone(),
        object_type: q.object_type.clone(),
        result: q.result.clone(),
        from_ms: time_param("from", &q.from)?,
        to_ms: time_param("to", &q.to)?,
        paging: pq.paging(),
    };
    let (items, total) = audit::list(&s.db, &ctx, &f).await?;
    Ok(axum::Json(AuditPage {
        items,
        total,
        page: pq.page(),
        page_size: pq.page_size(),
    }))
}
