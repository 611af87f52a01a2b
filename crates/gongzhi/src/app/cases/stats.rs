//! The rates (docs/cases.md "The rates"), kept as cases change.
//!
//! Every change of a case appends the change of its counters to `case_stat_deltas` (one row; no
//! row is ever updated, so concurrent intakes never wait on a counter). [`fold`] moves deltas into
//! `case_stats`, per day and per month, for four dimensions: the case's finest area (grid, else
//! community), its unit × community, its category × community. Readers add the deltas not folded
//! yet, in the same statement, so a dashboard is exact at any moment and reads at most a few
//! thousand rows whatever the number of cases.
use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Value};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::query::CaseRow;
use crate::app::{scope, AppState, Ctx};
use crate::domain::calendar::{day_number, local_date};
use crate::domain::cases::{counters, rate, score, Weights, MEASURES};
use crate::domain::role::Permission;
use crate::domain::{new_id, now_ms};
use crate::error::{AppError, AppResult, Lang, Msg};
use crate::store::{self, Db};

type Counters = [i64; 13];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Dims {
    day: i32,
    area_id: Uuid,
    community_id: Uuid,
    unit_id: Option<Uuid>,
    category_id: Uuid,
}

fn dims(r: &CaseRow) -> Dims {
    Dims {
        day: r.stat_day,
        area_id: r.grid_id.unwrap_or(r.community_id),
        community_id: r.community_id,
        unit_id: r.unit_id,
        category_id: r.category_id,
    }
}

const DELTA_COLUMNS: &str = "id, day, area_id, community_id, unit_id, category_id, received, due, responded_in_time, \
    resolved, handled_in_time, closed, rated, satisfied, basic, dissatisfied, overdue, supervised, returned";

/// The columns of `case_stat_deltas`, for bulk inserts.
pub fn delta_columns() -> Vec<&'static str> {
    DELTA_COLUMNS.split(", ").map(str::trim).collect()
}

/// The delta row of a new case, for bulk inserts (the writer's batches).
pub fn new_case_delta(r: &CaseRow) -> Vec<Value> {
    delta_values(dims(r), counters(&r.counter_facts()))
}

fn delta_values(d: Dims, v: Counters) -> Vec<Value> {
    let mut values: Vec<Value> = vec![
        new_id().into(),
        d.day.into(),
        d.area_id.into(),
        d.community_id.into(),
        d.unit_id.into(),
        d.category_id.into(),
    ];
    values.extend(v.iter().map(|x| Value::from(*x as i32)));
    values
}

async fn insert_delta<C: ConnectionTrait>(c: &C, d: Dims, v: Counters) -> AppResult<()> {
    let mut values: Vec<Value> = vec![
        new_id().into(),
        d.day.into(),
        d.area_id.into(),
        d.community_id.into(),
        d.unit_id.into(),
        d.category_id.into(),
    ];
    values.extend(v.iter().map(|x| Value::from(*x as i32)));
    store::exec(
        c,
        &format!(
            "INSERT INTO case_stat_deltas ({DELTA_COLUMNS}) VALUES ({})",
            store::placeholders(1, values.len())
        ),
        values,
    )
    .await?;
    Ok(())
}

/// Records how a change of a case (`before` → `after`; `None` for a new case) moves the counters.
#[tracing::instrument(name = "cases::stats::record", skip_all)]
pub async fn record<C: ConnectionTrait>(
    c: &C,
    before: Option<&CaseRow>,
    after: &CaseRow,
) -> AppResult<()> {
    let a = (dims(after), counters(&after.counter_facts()));
    match before.map(|r| (dims(r), counters(&r.counter_facts()))) {
        Some((bd, bc)) if bd == a.0 => {
            let mut diff = [0i64; 13];
            for i in 0..13 {
                diff[i] = a.1[i] - bc[i];
            }
            if diff.iter().any(|x| *x != 0) {
                insert_delta(c, bd, diff).await?;
            }
        }
        Some((bd, bc)) => {
            insert_delta(c, bd, bc.map(|x| -x)).await?;
            insert_delta(c, a.0, a.1).await?;
        }
        None => insert_delta(c, a.0, a.1).await?,
    }
    Ok(())
}

#[derive(FromQueryResult)]
struct DeltaRow {
    id: Uuid,
    day: i32,
    area_id: Uuid,
    community_id: Uuid,
    unit_id: Option<Uuid>,
    category_id: Uuid,
    received: i32,
    due: i32,
    responded_in_time: i32,
    resolved: i32,
    handled_in_time: i32,
    closed: i32,
    rated: i32,
    satisfied: i32,
    basic: i32,
    dissatisfied: i32,
    overdue: i32,
    supervised: i32,
    returned: i32,
}

impl DeltaRow {
    fn counters(&self) -> Counters {
        [
            self.received,
            self.due,
            self.responded_in_time,
            self.resolved,
            self.handled_in_time,
            self.closed,
            self.rated,
            self.satisfied,
            self.basic,
            self.dissatisfied,
            self.overdue,
            self.supervised,
            self.returned,
        ]
        .map(|x| x as i64)
    }
}

const FOLD_BATCH: u64 = 5_000;

/// Folds pending deltas into `case_stats`. Returns how many deltas were folded. Safe to run on
/// several instances at once (PostgreSQL: an advisory lock; SQLite: one writer).
#[tracing::instrument(name = "cases::stats::fold", skip_all)]
pub async fn fold(db: &Db) -> AppResult<usize> {
    let total = fold_batches(db).await?;
    // PostgreSQL keeps deleted rows (and their index entries) until a vacuum: a queue table that
    // is emptied every second must be vacuumed as often, or readers wade through dead entries.
    if total > 0 && db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared("VACUUM case_stat_deltas").await?;
    }
    Ok(total)
}

async fn fold_batches(db: &Db) -> AppResult<usize> {
    let mut total = 0;
    loop {
        let tx = store::write_tx(db).await?;
        if tx.get_database_backend() == DbBackend::Postgres {
            store::exec(&tx, "SELECT pg_advisory_xact_lock(4204)", vec![]).await?;
        }
        let rows: Vec<DeltaRow> = store::fetch_all(
            &tx,
            &format!("SELECT {DELTA_COLUMNS} FROM case_stat_deltas ORDER BY id LIMIT {FOLD_BATCH}"),
            vec![],
        )
        .await?;
        if rows.is_empty() {
            tx.rollback().await?;
            return Ok(total);
        }
        let mut acc: HashMap<(&'static str, Uuid, Uuid, i32), Counters> = HashMap::new();
        let mut add = |k: (&'static str, Uuid, Uuid, i32), v: &Counters| {
            let e = acc.entry(k).or_insert([0; 13]);
            for i in 0..13 {
                e[i] += v[i];
            }
        };
        for r in &rows {
            let v = r.counters();
            let month = r.day / 100 * 100;
            for day in [r.day, month] {
                add(("area", r.area_id, Uuid::nil(), day), &v);
                add(("cat", r.category_id, r.community_id, day), &v);
                if let Some(u) = r.unit_id {
                    add(("unit", u, r.community_id, day), &v);
                }
            }
        }
        let cols = MEASURES.join(", ");
        let updates = MEASURES
            .iter()
            .map(|m| format!("{m} = case_stats.{m} + excluded.{m}"))
            .collect::<Vec<_>>()
            .join(", ");
        let entries: Vec<_> = acc.into_iter().collect();
        for chunk in entries.chunks(50) {
            let mut values: Vec<Value> = vec![];
            let mut tuples = vec![];
            for ((dim, id, sub, day), v) in chunk {
                let start = values.len() + 1;
                values.push((*dim).into());
                values.push((*id).into());
                values.push((*sub).into());
                values.push((*day).into());
                values.extend(v.iter().map(|x| Value::from(*x)));
                tuples.push(format!("({})", store::placeholders(start, 17)));
            }
            store::exec(
                &tx,
                &format!(
                    "INSERT INTO case_stats (dim, dim_id, sub_id, day, {cols}) VALUES {} \
                     ON CONFLICT (dim, dim_id, sub_id, day) DO UPDATE SET {updates}",
                    tuples.join(", ")
                ),
                values,
            )
            .await?;
        }
        for chunk in rows.chunks(500) {
            store::exec(
                &tx,
                &format!(
                    "DELETE FROM case_stat_deltas WHERE id IN ({})",
                    store::placeholders(1, chunk.len())
                ),
                chunk.iter().map(|r| Value::from(r.id)).collect(),
            )
            .await?;
        }
        tx.commit().await?;
        total += rows.len();
        if (rows.len() as u64) < FOLD_BATCH {
            return Ok(total);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Periods

/// Parses `from`/`to` (YYYY-MM-DD, Asia/Shanghai) into yyyymmdd numbers. Defaults: 1 January of
/// this year, and today.
pub fn day_range(from: Option<&str>, to: Option<&str>) -> AppResult<(i32, i32)> {
    let today = local_date(now_ms());
    let parse = |s: Option<&str>, field: &str, default: time::Date| -> AppResult<time::Date> {
        match s.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(default),
            Some(s) => crate::domain::calendar::parse_date(s).ok_or_else(|| {
                AppError::field(
                    field,
                    Msg::new("日期格式应为 YYYY-MM-DD", "Use a YYYY-MM-DD date"),
                )
            }),
        }
    };
    let jan1 =
        time::Date::from_calendar_date(today.year(), time::Month::January, 1).unwrap_or(today);
    let f = parse(from, "from", jan1)?;
    let t = parse(to, "to", today)?;
    if f > t {
        return Err(AppError::field(
            "to",
            Msg::new("结束日期不能早于开始日期", "The end is before the start"),
        ));
    }
    if (t - f).whole_days() > 366 * 3 {
        return Err(AppError::field(
            "to",
            Msg::new("统计区间最长 3 年", "A period is at most 3 years"),
        ));
    }
    Ok((day_number(f), day_number(t)))
}

/// The condition selecting `case_stats.day` for [from, to]: month rows for whole months, day
/// rows for the partial ones at either end.
fn period_cond(col: &str, from: i32, to: i32) -> String {
    let mut parts = vec![];
    let (mut y, mut m) = (from / 10000, from / 100 % 100);
    loop {
        let first = y * 10000 + m * 100 + 1;
        let last = y * 10000 + m * 100 + 31;
        let key = y * 10000 + m * 100;
        if key > to {
            break;
        }
        let lo = from.max(first);
        let hi = to.min(last);
        let whole = lo == first && (hi == last || to >= last || month_end(y, m) <= hi);
        if whole {
            parts.push(format!("{col} = {key}"));
        } else {
            parts.push(format!("{col} BETWEEN {lo} AND {hi}"));
        }
        m += 1;
        if m > 12 {
            m = 1;
            y += 1;
        }
    }
    if parts.is_empty() {
        "1 = 0".into()
    } else {
        format!("({})", parts.join(" OR "))
    }
}

fn month_end(y: i32, m: i32) -> i32 {
    let days = time::Month::try_from(m as u8)
        .map(|mm| mm.length(y) as i32)
        .unwrap_or(31);
    y * 10000 + m * 100 + days
}

// ---------------------------------------------------------------------------------------------
// Reading

#[derive(Debug, Serialize, ToSchema, Default, Clone)]
pub struct Rates {
    pub received: i64,
    pub due: i64,
    pub responded_in_time: i64,
    pub resolved: i64,
    pub handled_in_time: i64,
    pub closed: i64,
    pub rated: i64,
    pub satisfied: i64,
    pub basic: i64,
    pub dissatisfied: i64,
    pub overdue: i64,
    pub supervised: i64,
    pub returned: i64,
    pub response_rate: Option<f64>,
    pub resolve_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    pub on_time_rate: Option<f64>,
    pub close_rate: Option<f64>,
    pub score: Option<f64>,
}

impl Rates {
    fn from(c: Counters, w: &Weights) -> Rates {
        let r = |n: i64, d: i64| rate(n, d).map(|x| (x * 10000.0).round() / 10000.0);
        let response = r(c[2], c[1]);
        let resolve = r(c[3], c[1]);
        let sat = r(c[7] + c[8], c[6]);
        Rates {
            received: c[0],
            due: c[1],
            responded_in_time: c[2],
            resolved: c[3],
            handled_in_time: c[4],
            closed: c[5],
            rated: c[6],
            satisfied: c[7],
            basic: c[8],
            dissatisfied: c[9],
            overdue: c[10],
            supervised: c[11],
            returned: c[12],
            response_rate: response,
            resolve_rate: resolve,
            satisfaction_rate: sat,
            on_time_rate: r(c[4], c[1]),
            close_rate: r(c[5], c[1]),
            score: score(w, response, resolve, sat),
        }
    }
}

fn sums(prefix: &str) -> String {
    MEASURES
        .iter()
        .map(|m| format!("CAST(COALESCE(SUM({prefix}{m}), 0) AS BIGINT) AS {m}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn plain(prefix: &str) -> String {
    MEASURES
        .iter()
        .map(|m| format!("{prefix}{m}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(FromQueryResult)]
struct Sums {
    /// A day or month number (trends).
    key_i: Option<i64>,
    /// An area, unit or category (rankings).
    key_u: Option<Uuid>,
    received: i64,
    due: i64,
    responded_in_time: i64,
    resolved: i64,
    handled_in_time: i64,
    closed: i64,
    rated: i64,
    satisfied: i64,
    basic: i64,
    dissatisfied: i64,
    overdue: i64,
    supervised: i64,
    returned: i64,
}

impl Sums {
    fn counters(&self) -> Counters {
        [
            self.received,
            self.due,
            self.responded_in_time,
            self.resolved,
            self.handled_in_time,
            self.closed,
            self.rated,
            self.satisfied,
            self.basic,
            self.dissatisfied,
            self.overdue,
            self.supervised,
            self.returned,
        ]
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// The area (default: your first grant; a system admin: the whole city).
    pub area_id: Option<Uuid>,
    /// YYYY-MM-DD (Asia/Shanghai), default 1 January this year.
    pub from: Option<String>,
    /// YYYY-MM-DD, default today.
    pub to: Option<String>,
    /// trend: day | month (default month).
    pub bucket: Option<String>,
    /// ranking: unit | street | community | grid | category (default unit).
    pub by: Option<String>,
}

/// The area to count, checked against the caller's `ReadCases` grants. `None`: everything (a
/// system admin without an area).
async fn stats_area(db: &Db, ctx: &Ctx, area: Option<Uuid>) -> AppResult<Option<Uuid>> {
    Ok(checked_area(db, ctx, area).await?.0)
}

/// [`stats_area`] with the proof of the check (for the export's audit entry).
pub(crate) async fn checked_area(
    db: &Db,
    ctx: &Ctx,
    area: Option<Uuid>,
) -> AppResult<(Option<Uuid>, scope::Checked)> {
    match area {
        Some(a) => {
            let checked = scope::require_permission(db, ctx, Permission::ReadCases, a).await?;
            Ok((Some(a), checked))
        }
        None => match scope::areas_with_roles(ctx, Permission::ReadCases.roles()) {
            None => Ok((None, scope::require_any(ctx, Permission::ReadCases)?)),
            // The first area granted: no lookup, the grant is the proof.
            Some(ids) => match ids.first() {
                Some(a) => Ok((Some(*a), scope::require_any(ctx, Permission::ReadCases)?)),
                None => Err(AppError::forbidden()),
            },
        },
    }
}

/// How `area_sums` groups: SQL expressions over the stats row `s` / the delta row `d`, and a join
/// (with `{dim}` standing for the row's area).
struct Grouping<'a> {
    key_i: (&'a str, &'a str),
    key_u: (&'a str, &'a str),
    join: &'a str,
}

const NO_GROUPING: Grouping<'static> = Grouping {
    key_i: ("NULL", "NULL"),
    key_u: ("NULL", "NULL"),
    join: "",
};

/// The 'area' dimension under `area` in the period, folded rows and pending deltas together,
/// summed per group.
async fn area_sums(
    db: &Db,
    area: Option<Uuid>,
    from: i32,
    to: i32,
    days_only: bool,
    g: &Grouping<'_>,
) -> AppResult<Vec<Sums>> {
    let (scope_s, scope_d, values): (String, String, Vec<Value>) = match area {
        Some(a) => (
            "JOIN area_closure sc ON sc.descendant_id = s.dim_id AND sc.ancestor_id = $1".into(),
            "JOIN area_closure sc ON sc.descendant_id = d.area_id AND sc.ancestor_id = $1".into(),
            vec![a.into()],
        ),
        None => (String::new(), String::new(), vec![]),
    };
    let period = if days_only {
        format!("s.day BETWEEN {from} AND {to} AND s.day % 100 <> 0")
    } else {
        period_cond("s.day", from, to)
    };
    let sql = format!(
        "SELECT t.key_i AS key_i, t.key_u AS key_u, {sums} FROM (\
           SELECT {ki_s} AS key_i, {ku_s} AS key_u, {ps} FROM case_stats s {scope_s} {join_s} \
             WHERE s.dim = 'area' AND {period} \
           UNION ALL \
           SELECT {ki_d} AS key_i, {ku_d} AS key_u, {pd} FROM case_stat_deltas d {scope_d} {join_d} \
             WHERE d.day BETWEEN {from} AND {to}) t GROUP BY t.key_i, t.key_u",
        sums = sums("t."),
        ps = plain("s."),
        pd = plain("d."),
        ki_s = g.key_i.0,
        ki_d = g.key_i.1,
        ku_s = g.key_u.0,
        ku_d = g.key_u.1,
        join_s = g.join.replace("{dim}", "s.dim_id"),
        join_d = g.join.replace("{dim}", "d.area_id"),
    );
    Ok(store::fetch_all(db, &sql, values).await?)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Definition {
    pub key: String,
    pub name: String,
    pub formula: String,
}

pub fn definitions(lang: Lang) -> Vec<Definition> {
    let d = |key: &str, zh: (&str, &str), en: (&str, &str)| {
        let (name, formula) = if lang == Lang::Zh { zh } else { en };
        Definition {
            key: key.into(),
            name: name.into(),
            formula: formula.into(),
        }
    };
    vec![
        d("period", ("统计口径", "按受理日（北京时间）归入统计期、区域、承办单位和事项分类"), ("Attribution", "A case counts in the period, area, unit and category of the day it was received (Asia/Shanghai)")),
        d("due", ("应办件", "已立案（不含不予立案、已合并）且已办结或已超过办理时限的诉求"), ("Due", "Registered cases (not rejected or merged) that are handled or past their handling deadline")),
        d("response_rate", ("响应率", "在响应时限内签收的应办件 ÷ 应办件"), ("Response rate", "Due cases accepted within the response limit ÷ due cases")),
        d("resolve_rate", ("解决率", "办结结果为「已解决」的应办件 ÷ 应办件"), ("Resolution rate", "Due cases handled with the outcome 'resolved' ÷ due cases")),
        d("satisfaction_rate", ("满意率", "（满意 + 基本满意）÷ 已评价件"), ("Satisfaction rate", "(satisfied + basically satisfied) ÷ rated cases")),
        d("on_time_rate", ("按期办结率", "在办理时限（含批准的延期）内办结的应办件 ÷ 应办件"), ("On-time rate", "Due cases handled within the handling limit (with approved extensions) ÷ due cases")),
        d("close_rate", ("结案率", "已结案的应办件 ÷ 应办件"), ("Close rate", "Closed due cases ÷ due cases")),
        d("score", ("综合得分", "响应率、解决率、满意率按权重加权（默认 30/35/35），满分 100；没有基数的率不计，其权重按比例分给其余各率"), ("Composite score", "Response, resolution and satisfaction rates weighted (default 30/35/35), out of 100; a rate without a base is left out and its weight shared by the others")),
    ]
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Dashboard {
    pub area_id: Option<Uuid>,
    pub from: String,
    pub to: String,
    pub totals: Rates,
    pub weights: Weights,
    pub definitions: Vec<Definition>,
}

fn fmt_day(d: i32) -> String {
    format!("{:04}-{:02}-{:02}", d / 10000, d / 100 % 100, d % 100)
}

/// `GET /case-stats`.
#[tracing::instrument(name = "cases::stats::dashboard", skip_all)]
pub async fn dashboard(state: &AppState, ctx: &Ctx, q: StatsQuery) -> AppResult<Dashboard> {
    let area = stats_area(&state.db, ctx, q.area_id).await?;
    let (from, to) = day_range(q.from.as_deref(), q.to.as_deref())?;
    let rows = area_sums(&state.db, area, from, to, false, &NO_GROUPING).await?;
    let w = state.settings.cases.weights;
    let c = rows.first().map(|r| r.counters()).unwrap_or([0; 13]);
    Ok(Dashboard {
        area_id: area,
        from: fmt_day(from),
        to: fmt_day(to),
        totals: Rates::from(c, &w),
        weights: w,
        definitions: definitions(ctx.lang),
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrendPoint {
    /// YYYY-MM or YYYY-MM-DD
    pub period: String,
    #[serde(flatten)]
    pub rates: Rates,
}

/// `GET /case-stats/trend`.
#[tracing::instrument(name = "cases::stats::trend", skip_all)]
pub async fn trend(state: &AppState, ctx: &Ctx, q: StatsQuery) -> AppResult<Vec<TrendPoint>> {
    let area = stats_area(&state.db, ctx, q.area_id).await?;
    let (from, to) = day_range(q.from.as_deref(), q.to.as_deref())?;
    let by_day = match q.bucket.as_deref().unwrap_or("month") {
        "month" => false,
        "day" => true,
        _ => {
            return Err(AppError::field(
                "bucket",
                Msg::new("bucket 应为 day 或 month", "bucket must be day or month"),
            ))
        }
    };
    if by_day && to - from > 10000 {
        return Err(AppError::field(
            "to",
            Msg::new("按日统计最长一年", "Daily trends cover at most a year"),
        ));
    }
    let key_i = if by_day {
        ("CAST(s.day AS BIGINT)", "CAST(d.day AS BIGINT)")
    } else {
        ("CAST(s.day / 100 AS BIGINT)", "CAST(d.day / 100 AS BIGINT)")
    };
    let g = Grouping {
        key_i,
        ..NO_GROUPING
    };
    let rows = area_sums(&state.db, area, from, to, by_day, &g).await?;
    let w = state.settings.cases.weights;
    let mut out: Vec<TrendPoint> = rows
        .into_iter()
        .filter_map(|r| {
            let k = r.key_i? as i32;
            let period = if by_day {
                fmt_day(k)
            } else {
                format!("{:04}-{:02}", k / 100, k % 100)
            };
            Some(TrendPoint {
                period,
                rates: Rates::from(r.counters(), &w),
            })
        })
        .collect();
    out.sort_by(|a, b| a.period.cmp(&b.period));
    Ok(out)
}

/// Rankings list entries with fewer due cases than this after the others.
pub const MIN_RANKED: i64 = 5;

#[derive(Debug, Serialize, ToSchema)]
pub struct Ranked {
    pub id: Uuid,
    pub name: String,
    pub rank: usize,
    #[serde(flatten)]
    pub rates: Rates,
}

/// `GET /case-stats/ranking`: by score, then received.
#[tracing::instrument(name = "cases::stats::ranking", skip_all)]
pub async fn ranking(state: &AppState, ctx: &Ctx, q: StatsQuery) -> AppResult<Vec<Ranked>> {
    let area = stats_area(&state.db, ctx, q.area_id).await?;
    let (from, to) = day_range(q.from.as_deref(), q.to.as_deref())?;
    let by = q.by.as_deref().unwrap_or("unit");
    let rows: Vec<Sums> = match by {
        "street" | "community" | "grid" => {
            let join = format!(
                "JOIN area_closure kc ON kc.descendant_id = {{dim}} JOIN areas ka ON ka.id = kc.ancestor_id AND ka.kind = '{by}'"
            );
            let g = Grouping {
                key_u: ("ka.id", "ka.id"),
                join: &join,
                ..NO_GROUPING
            };
            area_sums(&state.db, area, from, to, false, &g).await?
        }
        "unit" | "category" => {
            let dim = if by == "unit" { "unit" } else { "cat" };
            let (scope_s, scope_d, values): (String, String, Vec<Value>) = match area {
                Some(a) => (
                    "JOIN area_closure sc ON sc.descendant_id = s.sub_id AND sc.ancestor_id = $1".into(),
                    "JOIN area_closure sc ON sc.descendant_id = d.community_id AND sc.ancestor_id = $1".into(),
                    vec![a.into()],
                ),
                None => (String::new(), String::new(), vec![]),
            };
            let dcol = if by == "unit" {
                "d.unit_id"
            } else {
                "d.category_id"
            };
            let sql = format!(
                "SELECT CAST(NULL AS BIGINT) AS key_i, t.key AS key_u, {sums} FROM (\
                   SELECT s.dim_id AS key, {ps} FROM case_stats s {scope_s} WHERE s.dim = '{dim}' AND {period} \
                   UNION ALL \
                   SELECT {dcol} AS key, {pd} FROM case_stat_deltas d {scope_d} WHERE d.day BETWEEN {from} AND {to} AND {dcol} IS NOT NULL\
                 ) t GROUP BY t.key",
                sums = sums("t."),
                ps = plain("s."),
                pd = plain("d."),
                period = period_cond("s.day", from, to),
            );
            store::fetch_all(&state.db, &sql, values).await?
        }
        _ => {
            return Err(AppError::field(
                "by",
                Msg::new(
                    "by 应为 unit、street、community、grid 或 category",
                    "by must be unit, street, community, grid or category",
                ),
            ))
        }
    };
    let table = match by {
        "unit" => "case_units",
        "category" => "case_categories",
        _ => "areas",
    };
    let w = state.settings.cases.weights;
    let mut out = vec![];
    for r in rows {
        let Some(id) = r.key_u else {
            continue;
        };
        #[derive(FromQueryResult)]
        struct N {
            name: String,
        }
        let name = store::fetch_opt::<N, _>(
            &state.db,
            &format!("SELECT name FROM {table} WHERE id = $1"),
            vec![id.into()],
        )
        .await?
        .map(|n| n.name)
        .unwrap_or_default();
        out.push(Ranked {
            id,
            name,
            rank: 0,
            rates: Rates::from(r.counters(), &w),
        });
    }
    // Fewer than MIN_RANKED due cases: listed after the others (two cases make no champion).
    out.sort_by(|a, b| {
        (b.rates.due >= MIN_RANKED)
            .cmp(&(a.rates.due >= MIN_RANKED))
            .then_with(|| {
                b.rates
                    .score
                    .unwrap_or(-1.0)
                    .partial_cmp(&a.rates.score.unwrap_or(-1.0))
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(b.rates.received.cmp(&a.rates.received))
                    .then(a.name.cmp(&b.name))
            })
    });
    for (i, r) in out.iter_mut().enumerate() {
        r.rank = i + 1;
    }
    Ok(out)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HotspotQuery {
    pub area_id: Option<Uuid>,
    /// 7 or 30 (default 7): the last N days against the N days before.
    pub days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Hotspot {
    pub community_id: Uuid,
    pub community_name: String,
    pub category_id: Uuid,
    pub category_code: String,
    pub category_name: String,
    pub current: i64,
    pub previous: i64,
    /// current − previous
    pub growth: i64,
    /// current ÷ previous (null when previous is 0)
    pub ratio: Option<f64>,
}

/// `GET /case-stats/hotspots` (未诉先办): category × community combinations whose count rose in
/// the last N days against the N days before (at least 3 now and more than before).
#[tracing::instrument(name = "cases::stats::hotspots", skip_all)]
pub async fn hotspots(state: &AppState, ctx: &Ctx, q: HotspotQuery) -> AppResult<Vec<Hotspot>> {
    let area = stats_area(&state.db, ctx, q.area_id).await?;
    let n = match q.days.unwrap_or(7) {
        7 => 7,
        30 => 30,
        _ => {
            return Err(AppError::field(
                "days",
                Msg::new("days 应为 7 或 30", "days must be 7 or 30"),
            ))
        }
    };
    let today = local_date(now_ms());
    let cur_start = day_number(today - time::Duration::days(n - 1));
    let prev_start = day_number(today - time::Duration::days(2 * n - 1));
    let to = day_number(today);
    let (scope_s, scope_d, values): (String, String, Vec<Value>) = match area {
        Some(a) => (
            "JOIN area_closure sc ON sc.descendant_id = s.sub_id AND sc.ancestor_id = $1".into(),
            "JOIN area_closure sc ON sc.descendant_id = d.community_id AND sc.ancestor_id = $1"
                .into(),
            vec![a.into()],
        ),
        None => (String::new(), String::new(), vec![]),
    };
    let sql = format!(
        "SELECT t.cat AS cat, t.com AS com, \
           CAST(COALESCE(SUM(CASE WHEN t.day >= {cur_start} THEN t.n ELSE 0 END), 0) AS BIGINT) AS cur, \
           CAST(COALESCE(SUM(CASE WHEN t.day < {cur_start} THEN t.n ELSE 0 END), 0) AS BIGINT) AS prev FROM (\
           SELECT s.dim_id AS cat, s.sub_id AS com, s.day AS day, s.received AS n FROM case_stats s {scope_s} \
             WHERE s.dim = 'cat' AND s.day BETWEEN {prev_start} AND {to} AND s.day % 100 <> 0 \
           UNION ALL \
           SELECT d.category_id AS cat, d.community_id AS com, d.day AS day, d.received AS n FROM case_stat_deltas d {scope_d} \
             WHERE d.day BETWEEN {prev_start} AND {to}) t GROUP BY t.cat, t.com"
    );
    #[derive(FromQueryResult)]
    struct H {
        cat: Uuid,
        com: Uuid,
        cur: i64,
        prev: i64,
    }
    let mut hs: Vec<H> = store::fetch_all(&state.db, &sql, values).await?;
    hs.retain(|h| h.cur >= 3 && h.cur > h.prev);
    hs.sort_by(|a, b| {
        (b.cur - b.prev)
            .cmp(&(a.cur - a.prev))
            .then(b.cur.cmp(&a.cur))
    });
    hs.truncate(20);
    let mut out = vec![];
    for h in hs {
        #[derive(FromQueryResult)]
        struct N {
            community_name: Option<String>,
            category_code: Option<String>,
            category_name: Option<String>,
        }
        let n: Option<N> = store::fetch_opt(
            &state.db,
            "SELECT (SELECT name FROM areas WHERE id = $1) AS community_name, \
             (SELECT code FROM case_categories WHERE id = $2) AS category_code, \
             (SELECT name FROM case_categories WHERE id = $2) AS category_name",
            vec![h.com.into(), h.cat.into()],
        )
        .await?;
        let n = n.unwrap_or(N {
            community_name: None,
            category_code: None,
            category_name: None,
        });
        out.push(Hotspot {
            community_id: h.com,
            community_name: n.community_name.unwrap_or_default(),
            category_id: h.cat,
            category_code: n.category_code.unwrap_or_default(),
            category_name: n.category_name.unwrap_or_default(),
            current: h.cur,
            previous: h.prev,
            growth: h.cur - h.prev,
            ratio: rate(h.cur, h.prev).map(|r| (r * 100.0).round() / 100.0),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_uses_months_inside_and_days_at_the_ends() {
        assert_eq!(
            period_cond("d", 20260101, 20261231)
                .matches("BETWEEN")
                .count(),
            0
        );
        let c = period_cond("d", 20260115, 20260310);
        assert!(c.contains("d BETWEEN 20260115 AND 20260131"));
        assert!(c.contains("d = 20260200"));
        assert!(c.contains("d BETWEEN 20260301 AND 20260310"));
        let feb = period_cond("d", 20260201, 20260228);
        assert_eq!(feb, "(d = 20260200)");
    }
}
