//! Extractors: the caller ([`Auth`]), and JSON/path/query readers whose rejections become
//! [`AppError`]s in the API's error shape instead of axum's plain-text ones.
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::app::{auth, AppState, Ctx, Origin};
use crate::domain::text;
use crate::error::{AppError, Lang, Msg};

pub const SESSION_COOKIE: &str = "gongzhi_session";

/// Per-request facts set by the outermost middleware.
#[derive(Debug, Clone)]
pub struct ReqMeta {
    pub request_id: String,
    pub lang: Lang,
    pub client_addr: String,
    /// The user's connection is https (see `http::forwarded`): cookies get `Secure`.
    pub https: bool,
}

impl ReqMeta {
    pub fn from_parts(parts: &Parts) -> ReqMeta {
        parts
            .extensions
            .get::<ReqMeta>()
            .cloned()
            .unwrap_or_else(|| ReqMeta {
                request_id: crate::domain::new_id().to_string(),
                lang: Lang::Zh,
                client_addr: "unknown".into(),
                https: false,
            })
    }
    pub fn origin(&self, state: &AppState) -> Origin {
        Origin {
            client_addr: self.client_addr.clone(),
            request_id: self.request_id.clone(),
            audit: state.audit_key.clone(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ReqMeta {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ReqMeta::from_parts(parts))
    }
}

/// The credential of a request: `Authorization: Bearer …`, else the session cookie.
pub fn credential(parts: &Parts) -> Option<String> {
    bearer(&parts.headers).or_else(|| session_cookie(&parts.headers))
}

/// The token of `Authorization: Bearer …`.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let t = v
        .strip_prefix("Bearer ")
        .or_else(|| v.strip_prefix("bearer "))?
        .trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// The value of the `gongzhi_session` cookie.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|s| s.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, v)| *k == SESSION_COOKIE && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

async fn resolve(parts: &Parts, state: &AppState) -> Result<(Ctx, String), AppError> {
    let meta = ReqMeta::from_parts(parts);
    let token = credential(parts).ok_or_else(AppError::unauthenticated)?;
    let principal = auth::authenticate(state, &token).await?;
    // The request's span (http/middleware.rs) names the caller: a user's or token's id, no name.
    if let Some(id) = principal.user_id.or(principal.token_id) {
        tracing::Span::current().record("user", tracing::field::display(id));
    }
    Ok((
        Ctx {
            principal,
            client_addr: meta.client_addr,
            request_id: meta.request_id,
            lang: meta.lang,
            tree: state.tree_cache.clone(),
            audit: state.audit_key.clone(),
        },
        token,
    ))
}

/// A signed-in caller whose password is in order. Users who must change their password get
/// `403 auth.password_change_required` everywhere except [`AuthAny`] routes.
pub struct Auth(pub Ctx);

impl FromRequestParts<AppState> for Auth {
    type Rejection = AppError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (ctx, _) = resolve(parts, state).await?;
        if ctx.principal.must_change_password {
            return Err(AppError::Forbidden {
                code: "auth.password_change_required",
                msg: Msg::new(
                    "请先修改初始密码",
                    "Please change your initial password first",
                ),
            });
        }
        Ok(Auth(ctx))
    }
}

/// Any signed-in caller, also one who must still change the password (for `/me`, the password
/// change and logout). Carries the raw credential for logout.
pub struct AuthAny(pub Ctx, pub String);

impl FromRequestParts<AppState> for AuthAny {
    type Rejection = AppError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (ctx, token) = resolve(parts, state).await?;
        Ok(AuthAny(ctx, token))
    }
}

/// JSON body whose errors are ours: malformed JSON → 400, wrong types → 422 naming the field,
/// too large → 413, wrong content type → 400, a control character in any string → 422 naming
/// the field (see [`crate::domain::text`]).
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        // Read once (within the body limit), then let axum parse it as before.
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(|e| json_rejection(JsonRejection::BytesRejection(e)))?;
        let again = Request::from_parts(parts, axum::body::Body::from(bytes.clone()));
        let value = match axum::Json::<T>::from_request(again, state).await {
            Ok(axum::Json(v)) => v,
            Err(e) => return Err(json_rejection(e)),
        };
        if json_has_control_escape(&bytes) {
            return Err(AppError::field(
                &json_control_field(&bytes),
                text::control_msg(),
            ));
        }
        Ok(Json(value))
    }
}

/// Whether valid JSON text holds a string with a forbidden control character. Raw ones are not
/// valid JSON, so only escapes can carry them: `\u0000`…`\u001f` (but tab, LF, CR), `\b`, `\f`.
/// A backslash occurs only inside strings, so a linear walk over escapes is exact.
fn json_has_control_escape(b: &[u8]) -> bool {
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        match b.get(i + 1) {
            Some(b'b' | b'f') => return true,
            Some(b'u') => {
                let code = b
                    .get(i + 2..i + 6)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u32::from_str_radix(h, 16).ok());
                if code
                    .and_then(char::from_u32)
                    .is_some_and(text::is_forbidden_control)
                {
                    return true;
                }
                i += 6;
            }
            _ => i += 2,
        }
    }
    false
}

/// The path of the first string (or key) with a control character, e.g. `needs[0].description`.
fn json_control_field(bytes: &[u8]) -> String {
    fn walk(v: &serde_json::Value, path: &str) -> Option<String> {
        let at = |p: &str| {
            if p.is_empty() {
                "body".to_string()
            } else {
                p.to_string()
            }
        };
        match v {
            serde_json::Value::String(s) if text::has_forbidden_control(s) => Some(at(path)),
            serde_json::Value::Array(a) => a
                .iter()
                .enumerate()
                .find_map(|(i, x)| walk(x, &format!("{path}[{i}]"))),
            serde_json::Value::Object(o) => o.iter().find_map(|(k, x)| {
                if text::has_forbidden_control(k) {
                    return Some(at(path));
                }
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(x, &p)
            }),
            _ => None,
        }
    }
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| walk(&v, ""))
        .unwrap_or_else(|| "body".into())
}

fn json_rejection(e: JsonRejection) -> AppError {
    match e {
        JsonRejection::JsonDataError(err) => {
            // serde's message names the field and the problem, e.g. "name: invalid type: integer".
            let text = err.body_text();
            let detail = text
                .split_once(": ")
                .map(|(_, d)| d.to_string())
                .unwrap_or(text);
            let field = detail
                .split(':')
                .next()
                .unwrap_or("body")
                .trim()
                .to_string();
            let field = if field.contains(' ') || field.is_empty() {
                "body".to_string()
            } else {
                field
            };
            AppError::field(
                &field,
                Msg::owned(
                    format!("字段类型或取值不正确：{detail}"),
                    format!("Wrong type or value: {detail}"),
                ),
            )
        }
        JsonRejection::JsonSyntaxError(_) => AppError::BadRequest {
            code: "malformed_json",
            msg: Msg::new(
                "请求体不是合法的 JSON",
                "The request body is not valid JSON",
            ),
        },
        JsonRejection::MissingJsonContentType(_) => AppError::BadRequest {
            code: "bad_request",
            msg: Msg::new(
                "请求须使用 Content-Type: application/json",
                "Send the body as Content-Type: application/json",
            ),
        },
        JsonRejection::BytesRejection(b) if b.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::PayloadTooLarge
        }
        _ => AppError::BadRequest {
            code: "bad_request",
            msg: Msg::new("无法读取请求体", "The request body could not be read"),
        },
    }
}

/// Path parameters; a malformed id is simply "not found", a control character in a segment is a
/// 422 naming the parameter.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Ok(raw) = RawPathParams::from_request_parts(parts, state).await {
            if let Some((name, _)) = raw.iter().find(|(_, v)| text::has_forbidden_control(v)) {
                return Err(AppError::field(name, text::control_msg()));
            }
        }
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(_) => Err(AppError::NotFound),
        }
    }
}

/// Query parameters; bad ones are a 422 naming the problem, and so is a control character in a
/// name or value.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(field) = parts.uri.query().and_then(query_control_field) {
            return Err(AppError::field(&field, text::control_msg()));
        }
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                let detail = e.body_text();
                Err(AppError::field(
                    "query",
                    Msg::owned(
                        format!("查询参数不正确：{detail}"),
                        format!("Bad query parameter: {detail}"),
                    ),
                ))
            }
            Err(_) => Err(AppError::field(
                "query",
                Msg::new("查询参数不正确", "Bad query parameters"),
            )),
        }
    }
}

/// The name of the first query parameter whose name or value decodes to a control character
/// (`query` when the name itself carries one). Raw control bytes cannot be in a URI, so only a
/// query with `%` escapes is decoded.
pub fn query_control_field(q: &str) -> Option<String> {
    if !q.contains('%') {
        return None;
    }
    let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok()?;
    pairs.into_iter().find_map(|(k, v)| {
        if text::has_forbidden_control(&k) {
            Some("query".to_string())
        } else if text::has_forbidden_control(&v) {
            Some(k)
        } else {
            None
        }
    })
}

/// Shared state handle for handlers that need it explicitly.
pub type State = axum::extract::State<AppState>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_escapes_are_found_in_strings_only_when_forbidden() {
        assert!(json_has_control_escape(br#"{"name":"a\u0000b"}"#));
        assert!(json_has_control_escape(br#"{"name":"\u001B[31m"}"#));
        assert!(json_has_control_escape(br#"["\b"]"#));
        assert!(!json_has_control_escape(
            br#"{"note":"line\nnext\ttab\r\u000a"}"#
        ));
        // An escaped backslash followed by the letters u0000 is text, not a NUL.
        assert!(!json_has_control_escape(br#"{"path":"C:\\u0000"}"#));
        assert!(!json_has_control_escape(br#"{"name":"\u4e2d\\"}"#));
        assert_eq!(
            json_control_field(br#"{"ok":"x","needs":[{"d":"y"},{"d":"\u0000"}]}"#),
            "needs[1].d"
        );
        assert_eq!(json_control_field(br#""\u0001""#), "body");
    }

    #[test]
    fn control_characters_in_a_query_name_the_parameter() {
        assert_eq!(query_control_field("q=%00&page=1").as_deref(), Some("q"));
        assert_eq!(query_control_field("q=a%1Fb").as_deref(), Some("q"));
        assert_eq!(query_control_field("%00=1").as_deref(), Some("query"));
        assert_eq!(query_control_field("q=%09%0A%0D%E7%94%B5"), None);
        assert_eq!(query_control_field("q=%2500"), None);
        assert_eq!(query_control_field("page=2"), None);
    }
}
