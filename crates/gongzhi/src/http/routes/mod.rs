//! HTTP routes, one module per capability. Each handler is registered together with its OpenAPI
//! description (utoipa), so `/api/openapi.json` always covers every route.
pub mod admin;
pub mod areas;
pub mod audit;
pub mod auth;
pub mod cases;
pub mod ops;
pub mod party;
pub mod registry;
pub mod service;

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
}
