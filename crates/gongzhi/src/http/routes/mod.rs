//! HTTP routes, one module per capability. Each handler is registered together with its OpenAPI
//! description (utoipa), so `/api/openapi.json` always covers every route.
pub mod admin;
pub mod areas;
pub mod audit;
pub mod auth;
pub mod cases;
pub mod channels;
pub mod exports;
pub mod imports;
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
        .merge(imports::router())
        .merge(exports::router())
        .merge(messages::router())
        .merge(channels::router())
        .merge(notices::router())
        .merge(questions::router())
        .merge(signup::router())
}

pub use super::attachment::XLSX;

/// What a handler answers: a JSON body, or 201 Created with one.
pub type J<T> = crate::error::AppResult<axum::Json<T>>;
pub type Created<T> = crate::error::AppResult<(axum::http::StatusCode, axum::Json<T>)>;
/// 202 Accepted with a JSON body: taken, finished later (a code on its way, a claim to review).
pub type Accepted<T> = Created<T>;

pub fn created<T>(t: T) -> Created<T> {
    Ok((axum::http::StatusCode::CREATED, axum::Json(t)))
}

/// Streams a finished spool file (an export) as an attachment; the spool file is removed when the
/// stream ends or the client goes away; named as [`super::attachment::attachment`].
pub async fn stream_spool(
    spool: crate::spool::Spool,
    content_type: &'static str,
    ascii: &str,
    name: &str,
) -> crate::error::AppResult<axum::response::Response> {
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
    let body = axum::body::Body::from_stream(stream);
    Ok(crate::http::attachment::attachment(
        content_type,
        ascii,
        name,
        body,
    ))
}
