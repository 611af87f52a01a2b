//! The HTTP server: routes, middleware, the console, and start-up.
pub mod console;
pub mod extract;
pub mod metrics;
pub mod middleware;
pub mod routes;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::OpenApi;

use crate::app::{auth, AppState, AuthCache};
use crate::config::Settings;
use crate::crypto::Keys;
use crate::store;

/// Request bodies above this are refused with 413.
pub const BODY_LIMIT: usize = 1024 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(title = "gongzhi 共治 API", description = "Urban community governance. Conventions: docs/api.md."),
    tags(
        (name = "auth", description = "登录与会话 Sign-in and sessions"),
        (name = "areas", description = "区域树 The area tree"),
        (name = "party", description = "党组织 Party organisations"),
        (name = "admin", description = "用户、授权与令牌 Users, grants and API tokens"),
        (name = "audit", description = "审计日志 Audit log"),
    )
)]
struct ApiDoc;

/// The OpenAPI document for every `/api/v1` route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, api) = utoipa_axum::router::OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi())
        .merge(routes::api())
        .split_for_parts();
    api
}

/// Builds the application state: connects, migrates, loads keys, creates `admin` on an empty
/// database. Returns the generated admin password, if one was made, for printing once.
pub async fn build_state(settings: Settings) -> Result<(AppState, Option<String>), String> {
    let db = store::connect(&settings)
        .await
        .map_err(|e| format!("database: {e}"))?;
    store::migrate(&db, &settings.database_url)
        .await
        .map_err(|e| format!("migrations: {e}"))?;
    let (keys, _) = Keys::load_or_create(settings.master_key.as_deref(), &settings.data_dir)?;
    let generated = auth::ensure_admin(&db, settings.admin_password.as_deref())
        .await
        .map_err(|e| format!("creating admin: {e}"))?;
    let openapi_json = openapi().to_json().map_err(|e| e.to_string())?;
    Ok((
        AppState {
            db,
            settings: Arc::new(settings),
            keys: Arc::new(keys),
            metrics: Arc::new(metrics::Metrics::new()),
            auth_cache: Arc::new(AuthCache::default()),
            openapi_json: Arc::new(openapi_json),
        },
        generated,
    ))
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let (api, _) = utoipa_axum::router::OpenApiRouter::<AppState>::new()
        .merge(routes::api())
        .split_for_parts();
    let api = api
        .route_layer(axum::middleware::from_fn(middleware::remember_route))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .method_not_allowed_fallback(middleware::method_not_allowed);
    Router::new()
        .merge(api)
        .route("/api/openapi.json", get(routes::ops::openapi))
        .route("/healthz", get(routes::ops::healthz))
        .route("/readyz", get(routes::ops::readyz))
        .route("/metrics", get(routes::ops::metrics))
        .fallback(console::serve)
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::request_context,
        ))
        .with_state(state)
}

/// Binds and serves until Ctrl-C or SIGTERM. `on_bound` learns the actual address (port 0).
pub async fn serve(
    state: AppState,
    addr: SocketAddr,
    on_bound: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    on_bound(listener.local_addr()?);
    let app = router(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
