//! The web console, built by Vite into `console/dist` and embedded in the binary.
//! Unknown non-API paths fall back to `index.html` so the app's own router handles them; hashed
//! assets under `/assets/` are cached for a year, everything else is revalidated (`no-cache`).
//! The build writes `name.br` and `name.gz` beside each compressible file; a client that accepts
//! one gets it (brotli first) with `Content-Encoding`, and every answer says `Vary:
//! Accept-Encoding`.
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode, Uri};
use axum::response::IntoResponse;
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../../console/dist"]
struct Assets;

/// Pre-compressed variants, best first: (file suffix, `Content-Encoding`).
const VARIANTS: [(&str, &str); 2] = [(".br", "br"), (".gz", "gzip")];

pub async fn serve(uri: Uri, headers: HeaderMap) -> Response<Body> {
    let path = uri.path().trim_start_matches('/');
    if path.starts_with("api/") || path == "api" || path.starts_with("open311/") {
        return crate::error::AppError::NotFound.into_response();
    }
    let name = match path {
        "" => "index.html",
        p if Assets::get(p).is_some() => p,
        _ => "index.html",
    };
    let Some(file) = Assets::get(name) else {
        let mut r = Response::new(Body::from(
            "控制台尚未构建 / console not built: run `npm ci && npm run build` in console/",
        ));
        *r.status_mut() = StatusCode::NOT_FOUND;
        return r;
    };
    let accepted = accepted_encodings(&headers);
    let variant = VARIANTS
        .iter()
        .filter(|(_, enc)| accepted.contains(enc))
        .find_map(|(suffix, enc)| Assets::get(&format!("{name}{suffix}")).map(|f| (f, *enc)));
    let (data, encoding) = match variant {
        Some((f, enc)) => (f.data, Some(enc)),
        None => (file.data, None),
    };
    let mut r = Response::new(Body::from(data.into_owned()));
    let h = r.headers_mut();
    let mime = mime_guess::from_path(name).first_or_octet_stream();
    if let Ok(v) = HeaderValue::from_str(mime.as_ref()) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Some(enc) = encoding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(enc));
    }
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control(name)),
    );
    r
}

/// Hashed build output never changes under its name; anything else must be revalidated.
fn cache_control(name: &str) -> &'static str {
    if name.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

/// The content codings the client accepts (`q=0` refuses one), lower-case.
fn accepted_encodings(headers: &HeaderMap) -> Vec<&'static str> {
    let mut out = vec![];
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(s) = value.to_str() else { continue };
        for item in s.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            if refused {
                continue;
            }
            match coding.as_str() {
                "br" => out.push("br"),
                "gzip" | "x-gzip" => out.push("gzip"),
                "*" => out.extend(["br", "gzip"]),
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepted(v: &str) -> Vec<&'static str> {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
        accepted_encodings(&h)
    }

    #[test]
    fn accept_encoding() {
        assert_eq!(accepted("gzip, deflate, br, zstd"), ["gzip", "br"]);
        assert_eq!(accepted("br;q=0, GZIP;q=0.5"), ["gzip"]);
        assert_eq!(accepted("identity"), Vec::<&str>::new());
        assert_eq!(accepted("*"), ["br", "gzip"]);
        assert_eq!(accepted("x-gzip;q=1.0,;;,br ; q=0.000"), ["gzip"]);
        assert_eq!(accepted_encodings(&HeaderMap::new()), Vec::<&str>::new());
    }

    #[test]
    fn only_hashed_assets_are_cached_long() {
        assert!(cache_control("assets/index-BzUls3li.js").contains("immutable"));
        assert_eq!(cache_control("index.html"), "no-cache");
        assert_eq!(cache_control("favicon.svg"), "no-cache");
    }
}
