//! The working-day calendar as data: statutory holidays and adjusted working days per year.
//! 2025 and 2026 ship with the migration; admins edit a year or import a CSV. A year without a
//! schedule counts Monday–Friday (provisional deadlines); loading it computes the provisional
//! deadlines of open cases again (`deadlines::recompute_open`) in the same transaction.
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::audit::{self, Entry};
use crate::app::{scope, AppState, Ctx};
use crate::domain::calendar::{self as cal, Calendar, DayKind, Limit};
use crate::domain::role::Permission;
use crate::domain::{ms_to_rfc3339, now_ms, rfc3339_to_ms};
use crate::error::{AppError, AppResult, FieldErrors, Msg};
use crate::store::{self, Db};

#[derive(FromQueryResult)]
struct DayRow {
    day: String,
    kind: String,
    name: String,
}

/// Reads the whole calendar (a few dozen rows a year).
#[tracing::instrument(name = "cases::calendar::load", skip_all)]
pub async fn load<C: ConnectionTrait>(c: &C) -> AppResult<Calendar> {
    #[derive(FromQueryResult)]
    struct Y {
        year: i32,
    }
    let years: Vec<Y> = store::fetch_all(c, "SELECT year FROM calendar_years", vec![]).await?;
    let days: Vec<DayRow> =
        store::fetch_all(c, "SELECT day, kind, name FROM calendar_days", vec![]).await?;
    Ok(Calendar::new(
        years.into_iter().map(|y| y.year),
        days.into_iter().filter_map(|d| {
            let date = parse_date(&d.day)?;
            Some((date, cal::parse_day_kind(&d.kind)?))
        }),
    ))
}

/// [`super::deadlines::recompute_open`], with one audit entry saying how many cases changed.
async fn recompute_open(
    state: &AppState,
    c: &sea_orm::DatabaseTransaction,
    ctx: &Ctx,
    allowed: &scope::Checked,
) -> AppResult<usize> {
    let n = super::deadlines::recompute_open(state, c, ctx, allowed).await?;
    if n > 0 {
        let entry = Entry::by(
            ctx,
            allowed,
            "calendar.recompute_deadlines",
            "calendar_year",
            None,
        );
        audit::record(c, entry.detail(format!("{n} cases"))).await?;
    }
    Ok(n)
}

fn parse_date(s: &str) -> Option<time::Date> {
    cal::parse_date(s.trim())
}

fn format_date(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct YearSummary {
    pub year: i32,
    pub holidays: i64,
    pub workdays: i64,
    pub updated_at: String,
    pub updated_by: String,
}

#[tracing::instrument(name = "cases::calendar::years", skip_all)]
pub async fn years(db: &Db) -> AppResult<Vec<YearSummary>> {
    #[derive(FromQueryResult)]
    struct R {
        year: i32,
        updated_at: i64,
        updated_by: String,
        holidays: i64,
        workdays: i64,
    }
    let rows: Vec<R> = store::fetch_all(
        db,
        "SELECT y.year, y.updated_at, y.updated_by, \
         (SELECT COUNT(*) FROM calendar_days d WHERE d.year = y.year AND d.kind = 'holiday') AS holidays, \
         (SELECT COUNT(*) FROM calendar_days d WHERE d.year = y.year AND d.kind = 'workday') AS workdays \
         FROM calendar_years y ORDER BY y.year",
        vec![],
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| YearSummary {
            year: r.year,
            holidays: r.holidays,
            workdays: r.workdays,
            updated_at: ms_to_rfc3339(r.updated_at),
            updated_by: r.updated_by,
        })
        .collect())
}

#[derive(Debug, Serialize, Deserialize, ToSchema, Clone)]
pub struct CalendarDay {
    /// YYYY-MM-DD
    pub date: String,
    /// holiday (放假) | workday (调休上班)
    pub kind: String,
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Year {
    pub year: i32,
    pub days: Vec<CalendarDay>,
}

#[tracing::instrument(name = "cases::calendar::year", skip_all)]
pub async fn year(db: &Db, year: i32) -> AppResult<Year> {
    let known = store::fetch_i64(
        db,
        "SELECT COUNT(*) FROM calendar_years WHERE year = $1",
        vec![year.into()],
    )
    .await?;
    if known == 0 {
        return Err(AppError::NotFound);
    }
    let rows: Vec<DayRow> = store::fetch_all(
        db,
        "SELECT day, kind, name FROM calendar_days WHERE year = $1 ORDER BY day",
        vec![year.into()],
    )
    .await?;
    Ok(Year {
        year,
        days: rows
            .into_iter()
            .map(|r| CalendarDay {
                date: r.day,
                kind: r.kind,
                name: r.name,
            })
            .collect(),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct YearInput {
    pub days: Vec<CalendarDay>,
}

/// Checks a year's days: dates of that year, once each, holidays not already days off… in short,
/// what an admin can get wrong typing them in.
fn check_days(
    year: i32,
    days: &[CalendarDay],
) -> Result<Vec<(time::Date, DayKind, String)>, AppError> {
    if !(2000..=2100).contains(&year) {
        return Err(AppError::field(
            "year",
            Msg::new("年份应在 2000–2100 之间", "The year must be 2000–2100"),
        ));
    }
    if days.len() > 366 {
        return Err(AppError::field(
            "days",
            Msg::new("一年最多 366 天", "A year has at most 366 days"),
        ));
    }
    let mut errs = FieldErrors::new();
    let mut out = vec![];
    let mut seen = std::collections::HashSet::new();
    for (i, d) in days.iter().enumerate() {
        let key = format!("days[{i}]");
        let Some(date) = parse_date(&d.date) else {
            errs.insert(
                key,
                Msg::owned(
                    format!("日期「{}」格式应为 YYYY-MM-DD", d.date),
                    format!("Date '{}' must be YYYY-MM-DD", d.date),
                ),
            );
            continue;
        };
        if date.year() != year {
            errs.insert(
                key,
                Msg::owned(
                    format!("{} 不在 {year} 年", d.date),
                    format!("{} is not in {year}", d.date),
                ),
            );
            continue;
        }
        let Some(kind) = cal::parse_day_kind(&d.kind) else {
            errs.insert(
                key,
                Msg::new(
                    "类型应为 holiday（休）或 workday（班）",
                    "The kind must be holiday (休) or workday (班)",
                ),
            );
            continue;
        };
        if !seen.insert(date) {
            errs.insert(
                key,
                Msg::owned(
                    format!("{} 重复", d.date),
                    format!("{} appears twice", d.date),
                ),
            );
            continue;
        }
        let name = d.name.trim().chars().take(50).collect::<String>();
        out.push((date, kind, name));
    }
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    Ok(out)
}

/// Replaces one year's days (creates the year when new).
#[tracing::instrument(name = "cases::calendar::put_year", skip_all)]
pub async fn put_year(state: &AppState, ctx: &Ctx, year: i32, input: YearInput) -> AppResult<Year> {
    let allowed = scope::require_global(ctx, Permission::ManageCaseDictionary)?;
    let days = check_days(year, &input.days)?;
    let tx = store::write_tx(&state.db).await?;
    write_year(&tx, ctx, &allowed, year, &days).await?;
    recompute_open(state, &tx, ctx, &allowed).await?;
    tx.commit().await?;
    state.case_caches.clear();
    self::year(&state.db, year).await
}

async fn write_year(
    c: &sea_orm::DatabaseTransaction,
    ctx: &Ctx,
    allowed: &scope::Checked,
    year: i32,
    days: &[(time::Date, DayKind, String)],
) -> AppResult<()> {
    store::exec(
        c,
        "DELETE FROM calendar_days WHERE year = $1",
        vec![year.into()],
    )
    .await?;
    store::exec(
        c,
        "DELETE FROM calendar_years WHERE year = $1",
        vec![year.into()],
    )
    .await?;
    store::exec(
        c,
        "INSERT INTO calendar_years (year, updated_at, updated_by) VALUES ($1, $2, $3)",
        vec![
            year.into(),
            now_ms().into(),
            ctx.principal.display_name.clone().into(),
        ],
    )
    .await?;
    for (date, kind, name) in days {
        store::exec(
            c,
            "INSERT INTO calendar_days (day, year, kind, name) VALUES ($1, $2, $3, $4)",
            vec![
                format_date(*date).into(),
                year.into(),
                kind.as_str().into(),
                name.clone().into(),
            ],
        )
        .await?;
    }
    Entry::by(ctx, allowed, "calendar.put_year", "calendar_year", year)
        .detail(format!("{} days", days.len()))
        .record(c)
        .await?;
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    pub years: Vec<i32>,
    pub days: usize,
    /// Open cases whose provisional deadlines were computed again.
    pub recomputed_cases: usize,
}

/// Imports `date,kind,name` rows (a header row is optional; UTF-8 or GBK). Each year in the file
/// replaces that year. All or nothing.
#[tracing::instrument(name = "cases::calendar::import", skip_all)]
pub async fn import(state: &AppState, ctx: &Ctx, bytes: &[u8]) -> AppResult<ImportResult> {
    let allowed = scope::require_global(ctx, Permission::ManageCaseDictionary)?;
    let text = super::dictionary::decode_text(bytes)?;
    let mut by_year: std::collections::BTreeMap<i32, Vec<CalendarDay>> = Default::default();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|_| {
            AppError::field(
                "file",
                Msg::owned(
                    format!("第 {} 行不是有效的 CSV", i + 1),
                    format!("Row {} is not valid CSV", i + 1),
                ),
            )
        })?;
        let date = rec
            .get(0)
            .unwrap_or("")
            .trim()
            .trim_start_matches('\u{feff}');
        if i == 0 && parse_date(date).is_none() {
            continue; // header
        }
        if date.is_empty() {
            continue;
        }
        let Some(d) = parse_date(date) else {
            return Err(AppError::field(
                "file",
                Msg::owned(
                    format!("第 {} 行：日期「{date}」格式应为 YYYY-MM-DD", i + 1),
                    format!("Row {}: date '{date}' must be YYYY-MM-DD", i + 1),
                ),
            ));
        };
        by_year.entry(d.year()).or_default().push(CalendarDay {
            date: date.to_string(),
            kind: rec.get(1).unwrap_or("").trim().to_string(),
            name: rec.get(2).unwrap_or("").trim().to_string(),
        });
    }
    if by_year.is_empty() {
        return Err(AppError::field(
            "file",
            Msg::new("文件中没有日期", "The file has no dates"),
        ));
    }
    let mut checked = vec![];
    for (y, days) in &by_year {
        checked.push((*y, check_days(*y, days)?));
    }
    let tx = store::write_tx(&state.db).await?;
    let mut n = 0;
    for (y, days) in &checked {
        write_year(&tx, ctx, &allowed, *y, days).await?;
        n += days.len();
    }
    let recomputed_cases = recompute_open(state, &tx, ctx, &allowed).await?;
    tx.commit().await?;
    state.case_caches.clear();
    Ok(ImportResult {
        years: by_year.keys().copied().collect(),
        days: n,
        recomputed_cases,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadlinePreview {
    pub start: String,
    pub due_at: String,
    /// A day of a year without a published holiday schedule was counted Monday–Friday (暂定).
    pub provisional: bool,
}

/// `GET /calendar/deadline`: when a limit started at `start` runs out.
#[tracing::instrument(name = "cases::calendar::preview", skip_all)]
pub async fn preview(
    state: &AppState,
    start: &str,
    value: u32,
    unit: &str,
) -> AppResult<DeadlinePreview> {
    let start_ms = rfc3339_to_ms(start).ok_or_else(|| {
        AppError::field(
            "start",
            Msg::new("时间格式应为 RFC 3339", "Use an RFC 3339 time"),
        )
    })?;
    let limit = Limit::parse_short(&format!(
        "{value}{}",
        if unit == "hours" {
            "h"
        } else if unit == "days" {
            "d"
        } else {
            "?"
        }
    ))
    .ok_or_else(|| {
        AppError::field(
            "value",
            Msg::new(
                "时限应为 1–1000 个工作小时（hours）或工作日（days）",
                "The limit must be 1–1000 working hours or days",
            ),
        )
    })?;
    let calendar = state.case_caches.calendar(&state.db).await?;
    let hours = state.settings.cases.work_hours.clone();
    let due = (*calendar)
        .clone()
        .with_hours(hours)
        .deadline(start_ms, limit)
        .map_err(|_| {
            AppError::field(
                "start",
                Msg::new(
                    "时间超出可计算的范围",
                    "The time is out of the range that can be computed",
                ),
            )
        })?;
    Ok(DeadlinePreview {
        start: ms_to_rfc3339(start_ms),
        due_at: ms_to_rfc3339(due.at),
        provisional: due.provisional,
    })
}
