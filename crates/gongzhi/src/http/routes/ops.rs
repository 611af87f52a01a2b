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

/// 公开页: a community's or street's public page (app/disclosure.rs), HTML, no login.
pub async fn public_page(
    State(s): State<AppState>,
    axum::extract::Path(code): axum::extract::Path<String>,
) -> Response {
    use crate::app::disclosure;
    let html = |status: StatusCode, body: String, cache: bool| {
        let mut r = (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response();
        if cache {
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_str(&format!(
                    "public, max-age={}",
                    disclosure::MAX_AGE_S
                ))
                .expect("a valid header"),
            );
        }
        r
    };
    match disclosure::page(&s, &code).await {
        Ok(page) => html(StatusCode::OK, page, true),
        Err(crate::error::AppError::NotFound) => {
            html(StatusCode::NOT_FOUND, disclosure::not_found_html(), false)
        }
        Err(e) => e.into_response(),
    }
}
