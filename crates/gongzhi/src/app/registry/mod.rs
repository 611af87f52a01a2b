//! The registry (一户一档): dwellings, households, persons, legal entities, their history, visits
//! and needs, freshness and data quality.
//!
//! Every record is placed in the area tree (street, community, grid, and the building when known)
//! and every query is filtered by the caller's grants for [`Permission::ReadRegistry`]. Personal
//! values are encrypted at rest, masked by default, and every read is audited.
pub mod households;
pub mod persons;
pub mod quality;
pub mod sharing;
pub mod transfer;
pub mod visits;

use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Ctx;
use crate::domain::{new_id, now_ms};
use crate::error::{AppError, AppResult, Msg};
use crate::store;

/// Where a record sits: its street (the distribution key), community, grid, and the area used for
/// scope checks (the building when known, else the grid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub grid_id: Uuid,
    pub area_id: Uuid,
}

/// Resolves a grid or building into its placement.
#[tracing::instrument(name = "registry::place", skip_all)]
pub async fn place<C: ConnectionTrait>(
    c: &C,
    area_id: Uuid,
    field: &'static str,
) -> AppResult<Placement> {
    #[derive(FromQueryResult)]
    struct A {
        id: Uuid,
        kind: String,
    }
    let rows: Vec<A> = store::fetch_all(
        c,
        "SELECT a.id, a.kind FROM area_closure c JOIN areas a ON a.id = c.ancestor_id WHERE c.descendant_id = $1",
        vec![area_id.into()],
    )
    .await?;
    let find = |k: &str| rows.iter().find(|a| a.kind == k).map(|a| a.id);
    match (find("street"), find("community"), find("grid")) {
        (Some(street_id), Some(community_id), Some(grid_id)) => Ok(Placement {
            street_id,
            community_id,
            grid_id,
            area_id,
        }),
        _ if rows.is_empty() => Err(AppError::NotFound),
        _ => Err(AppError::field(
            field,
            Msg::new("请选择网格或楼栋", "Choose a grid or a building"),
        )),
    }
}

/// Today in Asia/Shanghai as `YYYY-MM-DD`.
/// A registry list's first conditions: the rows of `column` (an area id) where the caller reads the
/// registry, not deleted (`alias.deleted_at`), and under `area_id` when one is asked for.
pub(crate) fn list_where(
    ctx: &Ctx,
    alias: &str,
    column: &str,
    area_id: Option<Uuid>,
) -> store::sql::Where {
    let mut w = store::sql::Where::new();
    let dot = if alias.is_empty() { "" } else { "." };
    w.and_cond(super::scope::area_cond(
        ctx,
        crate::domain::role::Permission::ReadRegistry,
        &format!("{alias}{dot}{column}"),
    ))
    .and(&format!("{alias}{dot}deleted_at IS NULL"), []);
    if let Some(a) = area_id {
        w.and(
            &format!(
                "{alias}{dot}{column} IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = ?)"
            ),
            [a.into()],
        );
    }
    w
}

pub fn today() -> String {
    date_after_days(0)
}

/// The date `days` from today (Asia/Shanghai), as `YYYY-MM-DD` (negative: in the past).
pub fn date_after_days(days: i64) -> String {
    let shanghai = time::UtcOffset::from_hms(8, 0, 0).expect("valid offset");
    let d = time::OffsetDateTime::now_utc().to_offset(shanghai).date() + time::Duration::days(days);
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

/// The Asia/Shanghai date of a UTC instant (Unix ms), as `YYYY-MM-DD`.
pub fn shanghai_date(ms: i64) -> String {
    let shanghai = time::UtcOffset::from_hms(8, 0, 0).expect("valid offset");
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let d = t.to_offset(shanghai).date();
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

/// Age in whole years on `on` (both `YYYY-MM-DD`).
pub fn age_on(birth: &str, on: &str) -> Option<i32> {
    let p = |s: &str| -> Option<(i32, i32, i32)> {
        Some((
            s.get(0..4)?.parse().ok()?,
            s.get(5..7)?.parse().ok()?,
            s.get(8..10)?.parse().ok()?,
        ))
    };
    let (by, bm, bd) = p(birth)?;
    let (y, m, d) = p(on)?;
    let mut age = y - by;
    if (m, d) < (bm, bd) {
        age -= 1;
    }
    (age >= 0).then_some(age)
}

/// The date `years` before `on`, for age-range filters.
pub fn years_before(on: &str, years: i32) -> String {
    let y: i32 = on.get(0..4).and_then(|s| s.parse().ok()).unwrap_or(2000);
    let md = on.get(4..).unwrap_or("-01-01");
    // 29 February becomes 28 February in a common year.
    let md = if md == "-02-29" { "-02-28" } else { md };
    format!("{:04}{md}", y - years)
}

/// One entry of a record's history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Event {
    pub id: Uuid,
    /// RFC 3339 UTC.
    pub at: String,
    pub actor_name: String,
    pub object_type: String,
    pub object_id: Uuid,
    pub reason: String,
    pub note: Option<String>,
    /// field → [old, new]; personal values appear masked.
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
}

#[derive(FromQueryResult)]
struct EventRow {
    id: Uuid,
    at: i64,
    actor_name: String,
    object_type: String,
    object_id: Uuid,
    reason: String,
    note: Option<String>,
    changes: String,
}

impl From<EventRow> for Event {
    fn from(r: EventRow) -> Event {
        Event {
            id: r.id,
            at: crate::domain::ms_to_rfc3339(r.at),
            actor_name: r.actor_name,
            object_type: r.object_type,
            object_id: r.object_id,
            reason: r.reason,
            note: r.note,
            changes: serde_json::from_str(&r.changes).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// A change to record in the registry's history (in the caller's transaction).
pub struct Change<'a> {
    pub street_id: Uuid,
    pub object_type: &'a str,
    pub object_id: Uuid,
    pub household_id: Option<Uuid>,
    pub reason: &'a str,
    pub note: Option<String>,
    pub changes: serde_json::Value,
    pub snapshot: serde_json::Value,
}

#[tracing::instrument(name = "registry::record_change", skip_all)]
pub async fn record_change<C: ConnectionTrait>(c: &C, ctx: &Ctx, ch: Change<'_>) -> AppResult<()> {
    store::exec(
        c,
        "INSERT INTO registry_events (street_id, id, at, actor_id, actor_name, object_type, object_id, household_id, \
         reason, note, changes, snapshot) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        vec![
            ch.street_id.into(),
            new_id().into(),
            now_ms().into(),
            ctx.principal.actor_id().into(),
            ctx.principal.name.clone().into(),
            ch.object_type.to_string().into(),
            ch.object_id.into(),
            ch.household_id.into(),
            ch.reason.to_string().into(),
            ch.note.into(),
            ch.changes.to_string().into(),
            ch.snapshot.to_string().into(),
        ],
    )
    .await?;
    Ok(())
}

/// History of one record (or of a household and everything in it), newest first.
#[tracing::instrument(name = "registry::history", skip_all)]
pub async fn history<C: ConnectionTrait>(
    c: &C,
    object_id: Uuid,
    household: bool,
) -> AppResult<Vec<Event>> {
    let col = if household {
        "(household_id = $1 OR object_id = $1)"
    } else {
        "object_id = $1"
    };
    let rows: Vec<EventRow> = store::fetch_all(
        c,
        &format!(
            "SELECT id, at, actor_name, object_type, object_id, reason, note, changes FROM registry_events \
             WHERE {col} ORDER BY at DESC, id DESC LIMIT 500"
        ),
        vec![object_id.into()],
    )
    .await?;
    Ok(rows.into_iter().map(Event::from).collect())
}

/// Optional free text: trimmed, empty → None, at most `max` characters.
pub fn opt_text(
    v: &Option<String>,
    max: usize,
    field: &str,
    errs: &mut crate::error::FieldErrors,
) -> Option<String> {
    let t = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    if t.chars().count() > max {
        errs.insert(
            field.to_string(),
            Msg::owned(
                format!("不能超过 {max} 个字符"),
                format!("At most {max} characters"),
            ),
        );
        return None;
    }
    Some(t.to_string())
}

/// `[old, new]` when different.
pub fn diff(
    changes: &mut serde_json::Map<String, serde_json::Value>,
    field: &str,
    old: &Option<String>,
    new: &Option<String>,
) {
    if old != new {
        changes.insert(field.to_string(), serde_json::json!([old, new]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_dates() {
        assert_eq!(age_on("1990-03-07", "2026-03-06"), Some(35));
        assert_eq!(age_on("1990-03-07", "2026-03-07"), Some(36));
        assert_eq!(age_on("2030-01-01", "2026-03-07"), None);
        assert_eq!(years_before("2026-11-27", 70), "1956-11-27");
        assert_eq!(years_before("2024-02-29", 1), "2023-02-28");
        assert_eq!(today().len(), 10);
    }
}
