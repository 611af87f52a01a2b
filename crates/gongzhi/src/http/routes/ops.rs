//! Liveness, readiness, metrics and the OpenAPI document.
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use sea_orm::ConnectionTrait;

use crate::app::AppState;
use crate::store;

/// Liveness: the process answers.
pub async fn healthz() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"status":"ok"}"#,
    )
        .into_response()
}

/// Readiness: the database answers.
pub async fn readyz(State(s): State<AppState>) -> Response {
    match s.db.execute_unprepared("SELECT 1").await {
        Ok(_) => (
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"status":"ready","database":"ok"}"#,
        )
            .into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"status":"not_ready","database":"unreachable"}"#,
        )
            .into_response(),
    }
}

/// Prometheus text format.
pub async fn metrics(State(s): State<AppState>) -> Response {
    let body = s.metrics.render(store::pool_stats(&s.db));
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// The OpenAPI 3.1 document, generated from the code.
pub async fn openapi(State(s): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        s.openapi_json.as_str().to_string(),
    )
        .into_response()
}

/// 公开页: a community's or street's public page (app/disclosure.rs), HTML, no login; `?q=`
/// searches its answered questions.
pub async fn public_page(
    State(s): State<AppState>,
    axum::extract::Path(code): axum::extract::Path<String>,
    q: Result<
        axum::extract::Query<crate::app::disclosure::PageQuery>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Response {
    use crate::app::disclosure;
    let pq = q.map(|q| q.0).unwrap_or_default();
    // The server keeps each page a minute (forgotten when an answer is published or marked
    // helpful); browsers ask again each time, so a resident who just acted sees it (2–3 KB).
    let html = |status: StatusCode, body: String| {
        let mut r = (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response();
        r.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("public, no-cache"),
        );
        r
    };
    match disclosure::page(&s, &code, &pq).await {
        Ok(page) => html(StatusCode::OK, page),
        Err(crate::error::AppError::NotFound) => {
            html(StatusCode::NOT_FOUND, disclosure::not_found_html())
        }
        Err(e) => e.into_response(),
    }
}

/// "对我有帮助" on a public page's answer (a plain form, no script): counted once per browser
/// (a random cookie), then back to the page with a thank-you line.
pub async fn public_helped(
    State(s): State<AppState>,
    axum::extract::Path((code, id)): axum::extract::Path<(String, String)>,
    meta: crate::http::extract::ReqMeta,
    headers: axum::http::HeaderMap,
) -> Response {
    use crate::app::disclosure;
    use crate::app::questions::public::{self, VOTER_COOKIE};
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            disclosure::not_found_html(),
        )
            .into_response();
    };
    let voter = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == VOTER_COOKIE)
        .map(|(_, v)| v.to_string());
    match public::helped(&s, &code, id, voter.as_deref(), &meta.client_addr).await {
        Ok(fresh) => {
            let mut r = (
                StatusCode::SEE_OTHER,
                [(header::LOCATION, format!("/p/{code}?h={id}#q-{id}"))],
            )
                .into_response();
            if let Some(v) = fresh {
                if let Ok(c) = header::HeaderValue::from_str(&format!(
                    "{VOTER_COOKIE}={v}; Path=/p/; Max-Age=31536000; HttpOnly; SameSite=Lax"
                )) {
                    r.headers_mut().insert(header::SET_COOKIE, c);
                }
            }
            r
        }
        Err(crate::error::AppError::NotFound) => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            disclosure::not_found_html(),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}
