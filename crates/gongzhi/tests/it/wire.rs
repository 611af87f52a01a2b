//! What goes over the wire: compressed answers and assets, cache lifetimes, metrics.
use std::io::Read;

use reqwest::StatusCode;

use crate::helpers::*;

/// A GET with an `Accept-Encoding` (none when empty): status, headers, raw (undecoded) body.
async fn fetch(
    app: &TestApp,
    path: &str,
    encoding: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = reqwest::Client::new().get(format!("{}{path}", app.base));
    if !encoding.is_empty() {
        req = req.header("Accept-Encoding", encoding);
    }
    let r = req.send().await.expect("request");
    let (status, headers) = (r.status(), r.headers().clone());
    (status, headers, r.bytes().await.expect("body").to_vec())
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn decode(encoding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = vec![];
    match encoding {
        "gzip" => flate2::read::GzDecoder::new(body)
            .read_to_end(&mut out)
            .expect("gzip"),
        "br" => brotli_decompressor::Decompressor::new(body, 4096)
            .read_to_end(&mut out)
            .expect("br"),
        _ => return body.to_vec(),
    };
    out
}

/// Fetches `path` plain, then with gzip and with br: each answer is encoded as asked, says
/// `Vary: Accept-Encoding`, and decodes to the plain body. Returns the plain answer's headers.
async fn check_encodings(app: &TestApp, path: &str) -> reqwest::header::HeaderMap {
    let (status, plain_h, plain) = fetch(app, path, "").await;
    assert_eq!(status, StatusCode::OK, "{path}");
    assert_eq!(header(&plain_h, "content-encoding"), "", "{path}");
    assert!(plain.len() > 1024, "{path}: {} bytes", plain.len());
    for enc in ["gzip", "br"] {
        let (status, h, body) = fetch(app, path, &format!("{enc}, deflate")).await;
        assert_eq!(status, StatusCode::OK, "{path} {enc}");
        assert_eq!(header(&h, "content-encoding"), enc, "{path}");
        assert!(
            header(&h, "vary")
                .to_ascii_lowercase()
                .contains("accept-encoding"),
            "{path} {enc}: {h:?}"
        );
        assert!(body.len() < plain.len() / 2, "{path} {enc}: {}", body.len());
        assert!(
            decode(enc, &body) == plain,
            "{path} {enc}: decodes to the plain body"
        );
    }
    plain_h
}

#[tokio::test]
async fn api_answers_and_console_assets_are_compressed_when_asked() {
    let app = spawn_app().await;
    // An API answer (the OpenAPI document), compressed on the fly.
    let h = check_encodings(&app, "/api/openapi.json").await;
    assert_eq!(header(&h, "cache-control"), "no-store");
    // The console's entry script and style sheet, pre-compressed at build.
    let (_, _, index) = fetch(&app, "/", "").await;
    let index = String::from_utf8(index).expect("utf-8");
    for (prefix, suffix) in [("src=\"/assets/", ".js"), ("href=\"/assets/", ".css")] {
        let asset = index
            .split(prefix)
            .filter_map(|s| s.split('"').next())
            .find(|s| s.ends_with(suffix))
            .expect("an asset in index.html");
        let h = check_encodings(&app, &format!("/assets/{asset}")).await;
        assert!(header(&h, "cache-control").contains("max-age=31536000"));
        assert!(header(&h, "cache-control").contains("immutable"));
    }
    // Asking for nothing the server has (or refusing a coding) gets the plain body.
    let (_, h, _) = fetch(&app, "/api/openapi.json", "zstd, br;q=0").await;
    assert_eq!(header(&h, "content-encoding"), "");
    // Small answers are not worth it.
    let (_, h, body) = fetch(&app, "/healthz", "gzip, br").await;
    assert_eq!(header(&h, "content-encoding"), "", "{body:?}");
}

#[tokio::test]
async fn index_html_is_revalidated_and_hashed_assets_are_kept() {
    let app = spawn_app().await;
    for (path, enc) in [
        ("/", ""),
        ("/", "br"),
        ("/login", "gzip"),
        ("/cases/stats", ""),
    ] {
        let (status, h, _) = fetch(&app, path, enc).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header(&h, "cache-control"), "no-cache", "{path} {enc}");
        assert_eq!(header(&h, "content-type"), "text/html", "{path} {enc}");
    }
    let (_, h, _) = fetch(&app, "/favicon.svg", "").await;
    assert_eq!(header(&h, "cache-control"), "no-cache");
}

#[tokio::test]
async fn metrics_name_every_route_and_the_process() {
    let app = spawn_app().await;
    let c = app.anon();
    for path in [
        "/healthz",
        "/readyz",
        "/api/openapi.json",
        "/open311/v2/discovery.json",
        "/login",
    ] {
        c.get(path).await;
    }
    let m = c.get("/metrics").await.text;
    for route in [
        "/healthz",
        "/readyz",
        "/api/openapi.json",
        "/open311/v2/{file}",
        "console",
    ] {
        assert!(
            m.contains(&format!("route=\"{route}\",status=\"200\"")),
            "{route}: {m}"
        );
    }
    // /metrics itself is counted once answered: ask again.
    let m = c.get("/metrics").await.text;
    assert!(m.contains("route=\"/metrics\""), "{m}");
    assert!(!m.contains("route=\"unmatched\""), "{m}");
    let value = |name: &str| -> f64 {
        m.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} in {m}"))
    };
    assert!(value("process_resident_memory_bytes") > 1e6);
    assert!(value("process_open_fds") >= 3.0);
    assert!(value("process_cpu_seconds_total") >= 0.0);
    assert!(value("process_start_time_seconds") > 1.7e9);
    assert!(m.contains("# TYPE process_cpu_seconds counter"), "{m}");
}
