//! HTTP routes, one module per capability. Each handler is registered together with its OpenAPI
//! description (utoipa), so `/api/openapi.json` always covers every route.
pub mod admin;
pub mod areas;
pub mod audit;
pub mod auth;
pub mod cases;
pub mod channels;
pub mod exports;
pub mod messages;
pub mod notices;
pub mod ops;
pub mod party;
pub mod questions;
pub mod registry;
pub mod service;
pub mod signup;

use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;

/// Paging query: `?page=1&page_size=20` (page 1–1,000,000, page_size 1–200; larger ones are
/// clamped and the answer says which page it is).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

impl PageQuery {
    /// The clamped page (see [`crate::store::Paging`]).
    pub fn paging(&self) -> crate::store::Paging {
        crate::store::Paging::new(self.page, self.page_size)
    }
    pub fn page(&self) -> u64 {
        self.paging().page
    }
    pub fn page_size(&self) -> u64 {
        self.paging().size
    }
}

/// All `/api/v1` routes with their OpenAPI descriptions.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::router())
        .merge(areas::router())
        .merge(party::router())
        .merge(admin::router())
        .merge(audit::router())
        .merge(registry::router())
        .merge(cases::router())
        .merge(service::router())
        .merge(exports::router())
        .merge(messages::router())
        .merge(channels::router())
        .merge(notices::router())
        .merge(questions::router())
        .merge(signup::router())
}

/// The media type of an Excel workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A workbook made in memory (a template, a report) as an attachment named `ascii_name.xlsx`
/// (and, for browsers that read it, the percent-encoded Chinese `utf8_name.xlsx`).
pub fn xlsx_attachment(
    bytes: Vec<u8>,
    ascii_name: &str,
    utf8_name: &str,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [
            (axum::http::header::CONTENT_TYPE, XLSX.to_string()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{ascii_name}.xlsx\"; filename*=UTF-8''{utf8_name}.xlsx"
                ),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// Streams a finished spool file (an export) as an attachment; the spool file is removed when the
/// stream ends or the client goes away. `utf8_name` is percent-encoded.
pub async fn stream_spool(
    spool: crate::spool::Spool,
    content_type: &'static str,
    ascii_name: &str,
    utf8_name: &str,
    ext: &str,
) -> crate::error::AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    use tokio::io::AsyncReadExt;
    let file = tokio::fs::File::open(spool.path())
        .await
        .map_err(crate::error::AppError::internal)?;
    let stream = futures_util::stream::unfold(Some((file, spool)), |state| async move {
        let (mut file, spool) = state?;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(axum::body::Bytes::from(buf)), Some((file, spool))))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, content_type.to_string()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii_name}.{ext}\"; filename*=UTF-8''{utf8_name}.{ext}"),
            ),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response())
}
