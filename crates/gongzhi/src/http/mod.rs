//! The HTTP server: routes, middleware, the console, and start-up.
pub mod attachment;
pub mod console;
pub mod csrf;
mod doc;
pub mod extract;
pub mod forwarded;
pub mod middleware;
pub mod open311;
pub mod routes;
pub mod tls;

use std::net::SocketAddr;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::predicate::{Predicate, SizeAbove};
use tower_http::compression::CompressionLayer;
use utoipa::OpenApi;

use crate::app::AppState;

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
        (name = "registry", description = "一户一档 The registry: dwellings, households, persons, visits"),
        (name = "cases", description = "接诉即办 Cases: categories, units and power lists, the calendar, the lifecycle, the rates"),
        (name = "messages", description = "消息 Messages: the caller's inbox, and the templates of what gongzhi tells people"),
        (name = "notices", description = "通知公告 Notices with receipts: to households and staff of an area, coverage by grid, reminders, the door-to-door list"),
        (name = "questions", description = "回应关切 Residents' questions: routed like cases, answered in five working days, published on the community's public page, repeats linked"),
    )
)]
struct ApiDoc;

/// The OpenAPI document for every `/api/v1` route, completed with what the annotations leave
/// out: unique operation ids (`<tag>_<handler>`), a description for every response, the error
/// answers of every operation (`doc`), and the two ways to authenticate.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::openapi::security::{
        ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
    };
    use utoipa::openapi::RefOr;
    let (_, mut api) =
        utoipa_axum::router::OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi())
            .merge(routes::api())
            .split_for_parts();
    for (path, item) in api.paths.paths.iter_mut() {
        let public = doc::is_public(path);
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            let tag = op
                .tags
                .as_ref()
                .and_then(|t| t.first().cloned())
                .unwrap_or_default();
            if let Some(id) = op.operation_id.as_mut() {
                if !tag.is_empty() && !id.starts_with(&format!("{tag}_")) {
                    *id = format!("{tag}_{id}");
                }
            }
            for (status, resp) in op.responses.responses.iter_mut() {
                if let RefOr::T(r) = resp {
                    if r.description.is_empty() {
                        r.description = status
                            .parse::<u16>()
                            .ok()
                            .and_then(|c| axum::http::StatusCode::from_u16(c).ok())
                            .and_then(|c| c.canonical_reason())
                            .unwrap_or("Response")
                            .to_string();
                    }
                }
            }
            if public {
                op.security = Some(vec![SecurityRequirement::default()]);
            }
        }
    }
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("gzs_… session or gz_… API token")
                .build(),
        ),
    );
    components.add_security_scheme(
        "session_cookie",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("gongzhi_session"))),
    );
    doc::document_errors(&mut api);
    api.security = Some(vec![
        SecurityRequirement::new("bearer", Vec::<String>::new()),
        SecurityRequirement::new("session_cookie", Vec::<String>::new()),
    ]);
    api
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
        .merge(open311::router())
        .route("/api/openapi.json", get(routes::ops::openapi))
        .route("/healthz", get(routes::ops::healthz))
        .route("/readyz", get(routes::ops::readyz))
        .route("/metrics", get(routes::ops::metrics))
        .route("/p/{code}", get(routes::ops::public_page))
        .route(
            "/p/{code}/q/{id}/helped",
            axum::routing::post(routes::ops::public_helped),
        )
        // Every route is named in the metrics (the API's routes again: harmless).
        .route_layer(axum::middleware::from_fn(middleware::remember_route))
        .fallback(console::serve)
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::request_context,
        ))
        .layer(compression())
        .with_state(state)
}

/// gzip or brotli for answers of 1 KiB and more, as the client asks (`Accept-Encoding`), except
/// what is compressed already ([`Compressible`]). Console assets come pre-compressed
/// (`http/console.rs`) and are passed through.
fn compression() -> CompressionLayer<Compressible> {
    CompressionLayer::new()
        .no_deflate()
        .no_zstd()
        .compress_when(Compressible)
}

/// Worth compressing: 1 KiB or more (or of unknown length), and not of a type that is compressed
/// already (images but SVG, audio, video, fonts, PDF, archives, Office files) or streamed.
#[derive(Clone, Copy)]
pub struct Compressible;

impl Predicate for Compressible {
    fn should_compress<B: axum::body::HttpBody>(&self, r: &axum::http::Response<B>) -> bool {
        const SKIP: [&str; 10] = [
            "audio/",
            "video/",
            "font/",
            "text/event-stream",
            "application/pdf",
            "application/zip",
            "application/gzip",
            "application/x-7z-compressed",
            "application/vnd.openxmlformats-officedocument",
            "application/vnd.ms-excel",
        ];
        let ct = r
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let image = ct.starts_with("image/") && !ct.starts_with("image/svg+xml");
        SizeAbove::new(1024).should_compress(r) && !image && !SKIP.iter().any(|t| ct.starts_with(t))
    }
}

/// Binds and serves HTTP until Ctrl-C or SIGTERM. `on_bound` learns the actual address (port 0).
/// Only the serving: the background jobs are the startup root's (`crate::startup::serve`).
pub async fn serve(
    state: AppState,
    addr: SocketAddr,
    on_bound: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    on_bound(listener.local_addr()?);
    let tls = state.settings.tls.clone();
    let app = router(state);
    match tls {
        None => {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown_signal())
            .await?
        }
        Some(files) => serve_tls(listener, app, &files).await?,
    }
    Ok(())
}

/// Serves https on `listener` until the shutdown signal, then lets open requests finish (10 s).
async fn serve_tls(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    files: &tls::TlsFiles,
) -> std::io::Result<()> {
    use hyper_util::rt::TokioIo;
    let config = tls::server_config(files).map_err(std::io::Error::other)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            // A client that never finishes its handshake does not hold a task for long.
            let stream = match tokio::time::timeout(
                std::time::Duration::from_secs(10),
                acceptor.accept(tcp),
            )
            .await
            {
                Ok(Ok(s)) => s,
                _ => return,
            };
            let svc = tower::service_fn(
                move |mut req: axum::extract::Request<hyper::body::Incoming>| {
                    req.extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    let mut app = app.clone();
                    async move {
                        use tower::Service;
                        app.call(req.map(axum::body::Body::new)).await
                    }
                },
            );
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(std::time::Duration::from_secs(30))
                .serve_connection(
                    TokioIo::new(stream),
                    hyper_util::service::TowerToHyperService::new(svc),
                );
            let _ = watcher.watch(conn).await;
        });
    }
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), graceful.shutdown()).await;
    Ok(())
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
