//! One error type for the whole application, rendered as
//! `{"error":{"code","message","fields"}}` in zh-CN (default) or English.
//!
//! Errors are created without knowing the caller's language; the HTTP layer renders them with the
//! request's `Accept-Language` (see `http::middleware::render_errors`).
use std::borrow::Cow;
use std::collections::BTreeMap;

use axum::http::StatusCode;

/// A message in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    pub zh: Cow<'static, str>,
    pub en: Cow<'static, str>,
}

impl Msg {
    pub const fn new(zh: &'static str, en: &'static str) -> Msg {
        Msg {
            zh: Cow::Borrowed(zh),
            en: Cow::Borrowed(en),
        }
    }
    pub fn owned(zh: String, en: String) -> Msg {
        Msg {
            zh: Cow::Owned(zh),
            en: Cow::Owned(en),
        }
    }
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// Picks the language from an `Accept-Language` header: English only when `en` is preferred
    /// over `zh`; everything else is Chinese.
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let Some(h) = header else { return Lang::Zh };
        let mut best: Option<(f32, Lang)> = None;
        for part in h.split(',') {
            let mut it = part.trim().split(';');
            let tag = it.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = it
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|v| v.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let lang = if tag.starts_with("en") {
                Lang::En
            } else if tag.starts_with("zh") {
                Lang::Zh
            } else {
                continue;
            };
            if best.map(|(bq, _)| q > bq).unwrap_or(true) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::Zh)
    }
}

/// Field errors of a validation failure, by field name.
pub type FieldErrors = BTreeMap<String, Msg>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("validation failed")]
    Validation(FieldErrors),
    #[error("bad request: {code}")]
    BadRequest { code: &'static str, msg: Msg },
    /// Well-formed, but a rule refuses it (422 with its own code, e.g. `calendar.unknown_year`).
    #[error("unprocessable: {code}")]
    Rule { code: &'static str, msg: Msg },
    #[error("authentication required")]
    Unauthenticated { code: &'static str, msg: Msg },
    #[error("forbidden")]
    Forbidden { code: &'static str, msg: Msg },
    #[error("not found")]
    NotFound,
    #[error("conflict: {code}")]
    Conflict { code: &'static str, msg: Msg },
    /// A conflict caused by one field's value (a code or name already in use).
    #[error("conflict on {field}")]
    ConflictOn { field: &'static str, msg: Msg },
    #[error("payload too large")]
    PayloadTooLarge,
    /// 429 with `Retry-After`.
    #[error("rate limited")]
    RateLimited { retry_after_s: u64 },
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn field(field: &str, msg: Msg) -> AppError {
        let mut m = FieldErrors::new();
        m.insert(field.to_string(), msg);
        AppError::Validation(m)
    }
    pub fn forbidden() -> AppError {
        AppError::Forbidden {
            code: "forbidden",
            msg: Msg::new("您没有执行此操作的权限", "You are not allowed to do this"),
        }
    }
    pub fn conflict_on(field: &'static str, msg: Msg) -> AppError {
        AppError::ConflictOn { field, msg }
    }
    pub fn conflict(code: &'static str, msg: Msg) -> AppError {
        AppError::Conflict { code, msg }
    }
    /// After an update guarded by `WHERE … AND version = $n`: no row changed means someone changed
    /// the record since it was read.
    pub fn stale_unless_changed(rows: u64) -> AppResult<()> {
        if rows == 0 {
            return Err(AppError::stale_version());
        }
        Ok(())
    }
    /// The version the client read against the one stored.
    pub fn stale_unless_same<T: PartialEq>(sent: T, stored: T) -> AppResult<()> {
        if sent != stored {
            return Err(AppError::stale_version());
        }
        Ok(())
    }
    pub fn stale_version() -> AppError {
        AppError::Conflict {
            code: "conflict",
            msg: Msg::new(
                "该记录已被他人修改，请刷新后重试",
                "Someone else changed this record; reload and try again",
            ),
        }
    }
    pub fn unauthenticated() -> AppError {
        AppError::Unauthenticated {
            code: "auth.required",
            msg: Msg::new("请先登录", "Please sign in"),
        }
    }
    pub fn internal(e: impl std::fmt::Display) -> AppError {
        AppError::Internal(e.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Rule { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } | AppError::ConflictOn { .. } => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Db(e) => db_answer(db_fault(e)).0,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "validation",
            AppError::BadRequest { code, .. }
            | AppError::Rule { code, .. }
            | AppError::Unauthenticated { code, .. }
            | AppError::Forbidden { code, .. }
            | AppError::Conflict { code, .. } => code,
            AppError::ConflictOn { .. } => "conflict",
            AppError::NotFound => "not_found",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::Db(e) => db_answer(db_fault(e)).1,
            AppError::Internal(_) => "internal",
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        let m = match self {
            AppError::Validation(_) => {
                Msg::new("输入有误，请检查标出的字段", "Some fields are invalid")
            }
            AppError::BadRequest { msg, .. }
            | AppError::Rule { msg, .. }
            | AppError::Unauthenticated { msg, .. }
            | AppError::Forbidden { msg, .. }
            | AppError::Conflict { msg, .. }
            | AppError::ConflictOn { msg, .. } => msg.clone(),
            AppError::NotFound => Msg::new("未找到该资源", "Not found"),
            AppError::PayloadTooLarge => {
                Msg::new("提交的内容过大", "The request body is too large")
            }
            AppError::RateLimited { retry_after_s } => Msg::owned(
                format!("尝试次数过多，请 {retry_after_s} 秒后再试"),
                format!("Too many attempts; try again in {retry_after_s} s"),
            ),
            AppError::MethodNotAllowed => {
                Msg::new("不支持该请求方法", "This method is not allowed here")
            }
            AppError::Db(e) => db_answer(db_fault(e)).2,
            AppError::Internal(_) => INTERNAL,
        };
        m.get(lang).to_string()
    }

    pub fn fields(&self, lang: Lang) -> BTreeMap<String, String> {
        match self {
            AppError::Validation(f) => f
                .iter()
                .map(|(k, v)| (k.clone(), v.get(lang).to_string()))
                .collect(),
            AppError::ConflictOn { field, msg } => {
                BTreeMap::from([(field.to_string(), msg.get(lang).to_string())])
            }
            _ => BTreeMap::new(),
        }
    }

    pub fn to_json(&self, lang: Lang) -> serde_json::Value {
        serde_json::json!({
            "error": {
                "code": self.code(),
                "message": self.message(lang),
                "fields": self.fields(lang),
            }
        })
    }

    /// The body of an answer: [`AppError::to_json`] with the request's id, which the server log
    /// carries too (so a 500 can be traced).
    pub fn to_json_for(&self, lang: Lang, request_id: &str) -> serde_json::Value {
        let mut v = self.to_json(lang);
        v["error"]["request_id"] = request_id.into();
        v
    }
}

const INTERNAL: Msg = Msg::new(
    "服务器内部错误，请稍后重试",
    "Internal error; please try again later",
);

/// What a database error means for the caller, read from the driver's error code — SQLite's
/// extended result code or PostgreSQL's SQLSTATE — never from the message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbFault {
    /// A unique or primary-key constraint.
    Unique,
    /// A foreign key: the row refers to one that does not exist, or is still referred to.
    ForeignKey,
    /// A CHECK or NOT NULL constraint.
    Constraint,
    /// PostgreSQL refused a value: too long for its column, out of range, or a character it
    /// cannot store (NUL).
    BadValue,
    /// Busy or locked, a serialisation failure, a deadlock, a lock not available, no connection
    /// in time: worth retrying.
    Busy,
    /// Anything else: a bug or an outage (500).
    Other,
}

/// Classifies a database error (see [`DbFault`]).
pub fn db_fault(e: &sea_orm::DbErr) -> DbFault {
    use sea_orm::{sqlx, ConnAcquireErr, DbErr, RuntimeErr};
    let rt = match e {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout) => return DbFault::Busy,
        DbErr::Exec(rt) | DbErr::Query(rt) | DbErr::Conn(rt) => rt,
        _ => return DbFault::Other,
    };
    let RuntimeErr::SqlxError(e) = rt else {
        return DbFault::Other;
    };
    match &**e {
        sqlx::Error::PoolTimedOut => DbFault::Busy,
        sqlx::Error::Database(d) => match d.code() {
            Some(code)
                if d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .is_some() =>
            {
                pg_fault(&code)
            }
            Some(code) => sqlite_fault(code.parse().unwrap_or(0)),
            None => DbFault::Other,
        },
        _ => DbFault::Other,
    }
}

/// PostgreSQL SQLSTATE → fault.
fn pg_fault(sqlstate: &str) -> DbFault {
    match sqlstate {
        "23505" => DbFault::Unique,
        "23503" => DbFault::ForeignKey,
        "23514" | "23502" => DbFault::Constraint,
        // serialization_failure, deadlock_detected, lock_not_available, query_canceled (timeout)
        "40001" | "40P01" | "55P03" | "57014" => DbFault::Busy,
        // string too long, numeric out of range, character not in repertoire (NUL), untranslatable
        "22001" | "22003" | "22021" | "22P05" => DbFault::BadValue,
        _ => DbFault::Other,
    }
}

/// SQLite extended result code → fault.
fn sqlite_fault(code: i32) -> DbFault {
    match code {
        2067 | 1555 => DbFault::Unique, // SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY
        787 => DbFault::ForeignKey,     // SQLITE_CONSTRAINT_FOREIGNKEY
        275 | 1299 => DbFault::Constraint, // SQLITE_CONSTRAINT_CHECK, _NOTNULL
        c if c & 0xff == 5 || c & 0xff == 6 => DbFault::Busy, // SQLITE_BUSY*, SQLITE_LOCKED*
        _ => DbFault::Other,
    }
}

/// The answer for a database fault: status, code, message.
fn db_answer(f: DbFault) -> (StatusCode, &'static str, Msg) {
    match f {
        DbFault::Unique => (
            StatusCode::CONFLICT,
            "conflict",
            Msg::new("与已有记录重复", "This duplicates an existing record"),
        ),
        DbFault::ForeignKey => (
            StatusCode::CONFLICT,
            "conflict.reference",
            Msg::new(
                "引用的记录不存在，或该记录仍被其他记录引用",
                "A record it refers to does not exist, or other records still refer to it",
            ),
        ),
        DbFault::Constraint => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Msg::new("有取值不符合要求", "A value is not allowed"),
        ),
        DbFault::BadValue => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Msg::new(
                "有取值过长、超出范围或含有不允许的字符",
                "A value is too long, out of range or has a character that is not allowed",
            ),
        ),
        DbFault::Busy => (
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            Msg::new("系统繁忙，请稍后重试", "The system is busy; please retry"),
        ),
        DbFault::Other => (StatusCode::INTERNAL_SERVER_ERROR, "internal", INTERNAL),
    }
}

/// Whether an error is a unique-constraint violation.
pub fn is_unique_violation(e: &sea_orm::DbErr) -> bool {
    db_fault(e) == DbFault::Unique
}

/// Translates a unique-constraint violation into a 409 naming the field.
pub fn map_unique(e: sea_orm::DbErr, field: &'static str, msg: Msg) -> AppError {
    if is_unique_violation(&e) {
        AppError::ConflictOn { field, msg }
    } else {
        AppError::Db(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_faults_come_from_codes() {
        assert_eq!(sqlite_fault(2067), DbFault::Unique);
        assert_eq!(sqlite_fault(1555), DbFault::Unique);
        assert_eq!(sqlite_fault(787), DbFault::ForeignKey);
        assert_eq!(sqlite_fault(275), DbFault::Constraint);
        assert_eq!(sqlite_fault(1299), DbFault::Constraint);
        assert_eq!(sqlite_fault(5), DbFault::Busy);
        assert_eq!(sqlite_fault(517), DbFault::Busy);
        assert_eq!(sqlite_fault(262), DbFault::Busy);
        assert_eq!(sqlite_fault(1), DbFault::Other);
        assert_eq!(pg_fault("23505"), DbFault::Unique);
        assert_eq!(pg_fault("23503"), DbFault::ForeignKey);
        assert_eq!(pg_fault("23514"), DbFault::Constraint);
        assert_eq!(pg_fault("23502"), DbFault::Constraint);
        for busy in ["40001", "40P01", "55P03"] {
            assert_eq!(pg_fault(busy), DbFault::Busy);
        }
        assert_eq!(pg_fault("22021"), DbFault::BadValue);
        assert_eq!(pg_fault("42P01"), DbFault::Other);
        // Not a driver error at all: a 500, never a 404.
        let e = AppError::Db(sea_orm::DbErr::Custom("boom".into()));
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(e.to_json_for(Lang::En, "r1")["error"]["request_id"] == "r1");
    }

    #[test]
    fn accept_language_picks_english_only_when_preferred() {
        assert_eq!(Lang::from_accept_language(None), Lang::Zh);
        assert_eq!(Lang::from_accept_language(Some("en")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("zh-CN,en;q=0.8")), Lang::Zh);
        assert_eq!(Lang::from_accept_language(Some("fr")), Lang::Zh);
        assert_eq!(
            Lang::from_accept_language(Some("zh;q=0.5, en;q=0.9")),
            Lang::En
        );
    }
}
