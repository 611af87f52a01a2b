//! Cross-cutting HTTP concerns: request id, language, error rendering, security headers,
//! metrics and the access log line.
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use axum::middleware::Next;
use axum::response::IntoResponse;

use super::extract::ReqMeta;
use crate::app::AppState;
use crate::error::{AppError, Lang};

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// An error travelling in a response until [`request_context`] renders it in the caller's language.
#[derive(Clone)]
pub struct ErrorBox(pub Arc<AppError>);

impl IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        let status = self.status();
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = status;
        if let AppError::RateLimited { retry_after_s } = &self {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_s));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // Busy or locked: worth retrying shortly.
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        resp.extensions_mut().insert(ErrorBox(Arc::new(self)));
        resp
    }
}

/// The route template a response came from (copied from the request by [`remember_route`]).
#[derive(Clone)]
struct RouteTemplate(String);

/// Runs inside the router for matched routes: keeps the route template for metrics and logs.
pub async fn remember_route(req: Request, next: Next) -> Response<Body> {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let mut resp = next.run(req).await;
    if let Some(r) = route {
        resp.extensions_mut().insert(RouteTemplate(r));
    }
    resp
}

fn valid_request_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The outermost layer.
pub async fn request_context(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response<Body> {
    let started = Instant::now();
    let request_id = request_id_of(req.headers());
    let lang = Lang::from_accept_language(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let tcp_peer = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let peer = super::forwarded::peer(&state.settings, tcp_peer, req.headers());
    let method = req.method().as_str().to_string();
    let is_api = is_api_path(req.uri().path());
    req.extensions_mut().insert(ReqMeta {
        request_id: request_id.clone(),
        lang,
        client_addr: peer.client_addr.clone(),
        https: peer.https,
    });

    let same_origin = super::csrf::check(
        req.method(),
        req.uri().path(),
        req.headers(),
        &peer,
        &state.settings,
    );
    // One span per request: every log line of the handler and the services it calls carries the
    // request id, and the caller once `Auth` has resolved them (never personal data).
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %method,
        path = %req.uri().path(),
        user = tracing::field::Empty,
    );
    let mut resp = match same_origin {
        Ok(()) => {
            use tracing::Instrument;
            next.run(req).instrument(span.clone()).await
        }
        Err(e) => e.into_response(),
    };

    render_error(&mut resp, lang, &request_id);
    secure_headers(resp.headers_mut(), &request_id, is_api, peer.https);

    observe(
        &state,
        &span,
        &request_id,
        &method,
        &resp,
        is_api,
        started.elapsed(),
    );
    resp
}

/// The caller's `X-Request-Id` when it is a sensible one, else a new id.
fn request_id_of(headers: &HeaderMap) -> String {
    headers
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|s| valid_request_id(s))
        .map(str::to_string)
        .unwrap_or_else(|| crate::domain::new_id().simple().to_string())
}

/// Paths answered by the API (not the console's pages).
fn is_api_path(p: &str) -> bool {
    p.starts_with("/api/")
        || p.starts_with("/open311/")
        || p == "/metrics"
        || p == "/healthz"
        || p == "/readyz"
}

/// Renders a pending error (an [`ErrorBox`] left by the handler) in the caller's language.
fn render_error(resp: &mut Response<Body>, lang: Lang, request_id: &str) {
    let Some(ErrorBox(err)) = resp.extensions_mut().remove::<ErrorBox>() else {
        return;
    };
    if resp.status().is_server_error() {
        tracing::error!(request_id = %request_id, error = %err, "request failed");
    }
    let body = serde_json::to_vec(&err.to_json_for(lang, request_id)).unwrap_or_default();
    *resp.body_mut() = Body::from(body);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    resp.headers_mut().remove(header::CONTENT_LENGTH);
}

/// The request id and the security headers every answer carries; API answers are not cached;
/// over https, HSTS.
fn secure_headers(h: &mut HeaderMap, request_id: &str, is_api: bool, https: bool) {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert(X_REQUEST_ID.clone(), v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; \
             font-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; \
             form-action 'self'",
        ),
    );
    if is_api {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
}

/// Counts the request in the metrics by its route template, and logs it: a 5xx or a request
/// slower than `GONGZHI_SLOW_REQUEST_MS` as a warning, the rest at debug level.
fn observe(
    state: &AppState,
    span: &tracing::Span,
    request_id: &str,
    method: &str,
    resp: &Response<Body>,
    is_api: bool,
    elapsed: std::time::Duration,
) {
    let status = resp.status().as_u16();
    let route = resp
        .extensions()
        .get::<RouteTemplate>()
        .map(|r| r.0.clone())
        .unwrap_or_else(|| {
            if is_api {
                "unmatched".into()
            } else {
                "console".into()
            }
        });
    state
        .metrics
        .observe(method, &route, status, elapsed.as_secs_f64());
    let slow = state.settings.slow_request_ms;
    if status >= 500 {
        tracing::warn!(parent: span, method = %method, route = %route, status, latency_ms = elapsed.as_secs_f64() * 1000.0, "request");
    } else if slow > 0 && elapsed.as_millis() as u64 >= slow {
        tracing::warn!(parent: span, method = %method, route = %route, status, latency_ms = elapsed.as_secs_f64() * 1000.0, "slow request");
    } else {
        tracing::debug!(request_id = %request_id, method = %method, route = %route, status, latency_ms = elapsed.as_secs_f64() * 1000.0, "request");
    }
}

/// Turns a panic into a 500 in the API's shape (the panic message is not shown to the client).
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    AppError::internal("panic").into_response()
}

/// 404 for unknown API paths.
pub async fn api_not_found() -> AppError {
    AppError::NotFound
}

pub async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}

pub fn status_error(status: StatusCode) -> AppError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
        StatusCode::METHOD_NOT_ALLOWED => AppError::MethodNotAllowed,
        _ => AppError::NotFound,
    }
}
