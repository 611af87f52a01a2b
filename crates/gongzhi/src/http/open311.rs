//! Open311 GeoReport v2 at `/open311/v2/` (docs/open311.md): discovery, services, service
//! definitions, POST requests with an `api_key`, the request list, a request by id, tokens. Each
//! resource in `.json` (application/json) or `.xml` (text/xml); errors as the specification's list
//! with 400, 403 or 404.
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use crate::app::cases::open311::{self as o311, O311Error};
use crate::app::{auth, AppState, Ctx, PrincipalKind};
use crate::domain::text;
use crate::error::Lang;
use crate::http::extract::ReqMeta;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/open311/v2/{file}", get(top_get).post(top_post))
        .route("/open311/v2/services/{file}", get(service_definition))
        .route("/open311/v2/requests/{file}", get(request_by_id))
        .route("/open311/v2/tokens/{file}", get(token))
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Json,
    Xml,
}

/// `requests.json` → ("requests", Json). No extension: JSON.
fn split(file: &str) -> Result<(&str, Format), O311Error> {
    if text::has_forbidden_control(file) {
        return Err(O311Error::new(400, text::control_msg().en.into_owned()));
    }
    match file.rsplit_once('.') {
        Some((name, "json")) => Ok((name, Format::Json)),
        Some((name, "xml")) => Ok((name, Format::Xml)),
        Some((_, ext)) => Err(O311Error::new(
            400,
            format!("unsupported format .{ext}: use .json or .xml"),
        )),
        None => Ok((file, Format::Json)),
    }
}

fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {}
            c => o.push(c),
        }
    }
    o
}

/// The element name of one item of a list element.
fn item_name(list: &str) -> &str {
    match list {
        "services" => "service",
        "service_requests" => "request",
        "errors" => "error",
        "endpoints" => "endpoint",
        "formats" => "format",
        "attributes" => "attribute",
        "values" => "value",
        _ => "item",
    }
}

fn to_xml(name: &str, v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str(&format!("<{name}/>")),
        Value::Array(items) => {
            out.push_str(&format!("<{name}>"));
            for i in items {
                to_xml(item_name(name), i, out);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Object(map) => {
            out.push_str(&format!("<{name}>"));
            for (k, v) in map {
                to_xml(k, v, out);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::String(s) => out.push_str(&format!("<{name}>{}</{name}>", xml_escape(s))),
        other => out.push_str(&format!("<{name}>{other}</{name}>")),
    }
}

/// Renders `v` (for XML: as the `root` element).
fn render(status: StatusCode, fmt: Format, root: &str, v: Value) -> Response {
    match fmt {
        Format::Json => (
            status,
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            v.to_string(),
        )
            .into_response(),
        Format::Xml => {
            let mut s = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
            to_xml(root, &v, &mut s);
            (
                status,
                [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
                s,
            )
                .into_response()
        }
    }
}

fn error(fmt: Format, e: O311Error) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    render(
        status,
        fmt,
        "errors",
        json!([{"code": e.status, "description": e.description}]),
    )
}

/// 400 when a name or value holds a control character (as the API's extractors refuse).
fn refuse_controls(pairs: &[(String, String)], lang: Lang) -> Result<(), O311Error> {
    let bad = pairs
        .iter()
        .any(|(k, v)| text::has_forbidden_control(k) || text::has_forbidden_control(v));
    if bad {
        return Err(O311Error::new(
            400,
            text::control_msg().get(lang).to_string(),
        ));
    }
    Ok(())
}

fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .unwrap_or_default()
}

/// Resolves `api_key` to an API token's context; a session token or an unknown, expired or
/// revoked key is refused with 403.
async fn channel(state: &AppState, meta: &ReqMeta, key: Option<&str>) -> Result<Ctx, O311Error> {
    let lang = meta.lang;
    let refuse = || {
        O311Error::new(
            403,
            if lang == Lang::Zh {
                "api_key 无效、已过期或已吊销"
            } else {
                "The api_key is invalid, expired or revoked"
            },
        )
    };
    let key = key
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            O311Error::new(
                403,
                if lang == Lang::Zh {
                    "缺少 api_key"
                } else {
                    "api_key is required"
                },
            )
        })?;
    if !key.starts_with("gz_") {
        return Err(refuse());
    }
    let principal = auth::authenticate(state, key).await.map_err(|_| refuse())?;
    if principal.kind != PrincipalKind::ApiToken {
        return Err(refuse());
    }
    Ok(Ctx {
        principal,
        client_addr: meta.client_addr.clone(),
        request_id: meta.request_id.clone(),
        lang,
        tree: state.tree_cache.clone(),
        audit: state.audit_key.clone(),
    })
}

async fn top_get(
    State(s): State<AppState>,
    meta: ReqMeta,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let (name, fmt) = match split(&file) {
        Ok(x) => x,
        Err(e) => return error(Format::Json, e),
    };
    let lang = meta.lang;
    match name {
        "discovery" => render(
            StatusCode::OK,
            fmt,
            "discovery",
            json!({
                "changeset": "2026-12-01T00:00:00+08:00",
                "contact": if lang == Lang::Zh { "请联系本街道的系统管理员" } else { "Contact the street's system administrator" },
                "key_service": if lang == Lang::Zh { "api_key 由系统管理员在「API 令牌」页面签发，授权到某个区域" } else { "api_keys are API tokens issued by an administrator, granted on an area" },
                "endpoints": [{
                    "specification": "http://wiki.open311.org/GeoReport_v2",
                    "url": "/open311/v2",
                    "changeset": "2026-12-01T00:00:00+08:00",
                    "type": "production",
                    "formats": ["application/json", "text/xml"],
                }],
            }),
        ),
        "services" => match o311::services(&s, lang).await {
            Ok(v) => render(StatusCode::OK, fmt, "services", Value::Array(v)),
            Err(e) => error(fmt, O311Error::from_app(e, lang)),
        },
        "requests" => {
            let q = pairs(q.as_deref());
            if let Err(e) = refuse_controls(&q, lang) {
                return error(fmt, e);
            }
            let key = q
                .iter()
                .find(|(k, _)| k == "api_key")
                .map(|(_, v)| v.clone());
            let ctx = match key {
                Some(k) => match channel(&s, &meta, Some(&k)).await {
                    Ok(c) => Some(c),
                    Err(e) => return error(fmt, e),
                },
                None => None,
            };
            match o311::list(&s, ctx.as_ref(), lang, &q).await {
                Ok(v) => render(StatusCode::OK, fmt, "service_requests", Value::Array(v)),
                Err(e) => error(fmt, e),
            }
        }
        _ => error(fmt, O311Error::new(404, format!("no resource {name}"))),
    }
}

/// `POST /requests.{fmt}`: form-encoded (as the specification says), or JSON.
async fn top_post(
    State(s): State<AppState>,
    meta: ReqMeta,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let (name, fmt) = match split(&file) {
        Ok(x) => x,
        Err(e) => return error(Format::Json, e),
    };
    if name != "requests" {
        return error(
            fmt,
            O311Error::new(404, format!("no resource {name} to POST to")),
        );
    }
    let lang = meta.lang;
    let body = match crate::http::routes::cases::read_body(body, 64 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            return error(
                fmt,
                O311Error::new(
                    400,
                    if lang == Lang::Zh {
                        "请求体过大（最多 64 KiB）"
                    } else {
                        "The body is too large (at most 64 KiB)"
                    },
                ),
            )
        }
    };
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.starts_with("application/json"))
        .unwrap_or(false);
    let mut form: Vec<(String, String)> = if is_json {
        match serde_json::from_slice::<serde_json::Map<String, Value>>(&body) {
            Ok(m) => m
                .into_iter()
                .map(|(k, v)| {
                    (
                        k,
                        match v {
                            Value::String(s) => s,
                            other => other.to_string(),
                        },
                    )
                })
                .collect(),
            Err(_) => {
                return error(
                    fmt,
                    O311Error::new(
                        400,
                        if lang == Lang::Zh {
                            "请求体不是有效的 JSON 对象"
                        } else {
                            "The body is not a JSON object"
                        },
                    ),
                )
            }
        }
    } else {
        match serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) {
            Ok(f) => f,
            Err(_) => {
                return error(
                    fmt,
                    O311Error::new(
                        400,
                        if lang == Lang::Zh {
                            "请求体应为 application/x-www-form-urlencoded"
                        } else {
                            "The body must be application/x-www-form-urlencoded"
                        },
                    ),
                )
            }
        }
    };
    if let Err(e) = refuse_controls(&form, lang) {
        return error(fmt, e);
    }
    // api_key may come in the query string as well.
    form.extend(
        pairs(q.as_deref())
            .into_iter()
            .filter(|(k, _)| k == "api_key"),
    );
    let key = form
        .iter()
        .find(|(k, _)| k == "api_key")
        .map(|(_, v)| v.clone());
    let ctx = match channel(&s, &meta, key.as_deref()).await {
        Ok(c) => c,
        Err(e) => return error(fmt, e),
    };
    match o311::create(&s, &ctx, &form).await {
        Ok(v) => render(StatusCode::CREATED, fmt, "service_requests", v),
        Err(e) => error(fmt, e),
    }
}

async fn service_definition(
    State(s): State<AppState>,
    meta: ReqMeta,
    Path(file): Path<String>,
) -> Response {
    let (code, fmt) = match split(&file) {
        Ok(x) => x,
        Err(e) => return error(Format::Json, e),
    };
    match o311::definition(&s, meta.lang, code).await {
        Ok(v) => render(StatusCode::OK, fmt, "service_definition", v),
        Err(e) => error(fmt, e),
    }
}

async fn request_by_id(
    State(s): State<AppState>,
    meta: ReqMeta,
    Path(file): Path<String>,
) -> Response {
    let (id, fmt) = match split(&file) {
        Ok(x) => x,
        Err(e) => return error(Format::Json, e),
    };
    let q = vec![("service_request_id".to_string(), id.to_string())];
    match o311::list(&s, None, meta.lang, &q).await {
        Ok(v) if v.is_empty() => error(
            fmt,
            O311Error::new(
                404,
                if meta.lang == Lang::Zh {
                    format!("没有编号为 {id} 的诉求")
                } else {
                    format!("No request has the id {id}")
                },
            ),
        ),
        Ok(v) => render(StatusCode::OK, fmt, "service_requests", Value::Array(v)),
        Err(e) => error(fmt, e),
    }
}

/// Requests are created at once, so a token is the request's number itself.
async fn token(State(s): State<AppState>, meta: ReqMeta, Path(file): Path<String>) -> Response {
    let (id, fmt) = match split(&file) {
        Ok(x) => x,
        Err(e) => return error(Format::Json, e),
    };
    let q = vec![("service_request_id".to_string(), id.to_string())];
    match o311::list(&s, None, meta.lang, &q).await {
        Ok(v) if v.is_empty() => error(fmt, O311Error::new(404, format!("no token {id}"))),
        Ok(_) => render(
            StatusCode::OK,
            fmt,
            "service_requests",
            json!([{"service_request_id": id, "token": id}]),
        ),
        Err(e) => error(fmt, e),
    }
}
