//! The web console, built by Vite into `console/dist` and embedded in the binary.
//! Unknown non-API paths fall back to `index.html` so the app's own router handles them; hashed
//! assets under `/assets/` are cached for a year.
use axum::body::Body;
use axum::http::{header, HeaderValue, Response, StatusCode, Uri};
use axum::response::IntoResponse;
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../../console/dist"]
struct Assets;

pub async fn serve(uri: Uri) -> Response<Body> {
    let path = uri.path().trim_start_matches('/');
    if path.starts_with("api/") || path == "api" || path.starts_with("open311/") {
        return crate::error::AppError::NotFound.into_response();
    }
    let (file, name) = match Assets::get(path).filter(|_| !path.is_empty()) {
        Some(f) => (Some(f), path.to_string()),
        None => (Assets::get("index.html"), "index.html".to_string()),
    };
    let Some(file) = file else {
        let mut r = Response::new(Body::from(
            "控制台尚未构建 / console not built: run `npm ci && npm run build` in console/",
        ));
        *r.status_mut() = StatusCode::NOT_FOUND;
        return r;
    };
    let mime = mime_guess::from_path(&name).first_or_octet_stream();
    let mut r = Response::new(Body::from(file.data.into_owned()));
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime.as_ref()) {
        h.insert(header::CONTENT_TYPE, v);
    }
    let cache = if name.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}
