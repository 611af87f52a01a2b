//! Domain rules: newtypes that validate on parse, enums with their labels, pure functions.
//! Nothing here does IO.
pub mod area;
pub mod calendar;
pub mod cases;
pub mod geo;
pub mod ids;
pub mod party;
pub mod password;
pub mod points;
pub mod registry;
pub mod role;
pub mod search;
pub mod text;
pub mod volunteer;

use uuid::Uuid;

/// A new UUIDv7 (time-ordered, made in the application).
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// Current time as Unix milliseconds (UTC). Every `*_at` column stores this.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Unix milliseconds → RFC 3339 UTC string, for JSON.
pub fn ms_to_rfc3339(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Unix milliseconds → `YYYY-MM-DD HH:MM` in Asia/Shanghai, for people (sheets, messages).
pub fn ms_to_local_minute(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).expect("valid offset"));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// RFC 3339 string → Unix milliseconds.
pub fn rfc3339_to_ms(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// Trims a display name and checks its length (1..=max characters, no control characters).
pub fn clean_name(s: &str, max: usize) -> Result<String, crate::error::Msg> {
    use crate::error::Msg;
    let t = s.trim();
    if t.is_empty() {
        return Err(Msg::new("不能为空", "Must not be empty"));
    }
    if t.chars().count() > max {
        return Err(Msg::owned(
            format!("不能超过 {max} 个字符"),
            format!("At most {max} characters"),
        ));
    }
    if t.chars().any(|c| c.is_control()) {
        return Err(Msg::new(
            "不能包含控制字符",
            "Must not contain control characters",
        ));
    }
    Ok(t.to_string())
}
