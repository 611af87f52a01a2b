//! Extractors: the caller ([`Auth`]), and JSON/path/query readers whose rejections become
//! [`AppError`]s in the API's error shape instead of axum's plain-text ones.
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::app::{auth, AppState, Ctx, Origin};
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
/// too large → 413, wrong content type → 400.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(e) => Err(json_rejection(e)),
        }
    }
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

/// Path parameters; a malformed id is simply "not found".
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(PathRejection::FailedToDeserializePathParams(_)) => Err(AppError::NotFound),
            Err(_) => Err(AppError::NotFound),
        }
    }
}

/// Query parameters; bad ones are a 422 naming the problem.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
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

/// Shared state handle for handlers that need it explicitly.
pub type State = axum::extract::State<AppState>;
