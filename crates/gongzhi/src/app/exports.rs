//! Exports an office hands on: visit logs, volunteer service hours and points ledgers, each an
//! Excel workbook of an area (the caller's scope when none is named) and a date range. The rows
//! are written in constant memory into a spool file that the route streams; every export is one
//! audit row with its filters and row count. (Case lists: `cases/export.rs`.)
use sea_orm::{FromQueryResult, Value};
use serde::Deserialize;
use uuid::Uuid;

use super::audit::{self, Entry};
use super::{scope, AppState, Ctx};
use crate::domain::registry as vocab;
use crate::domain::role::Permission;
use crate::error::{AppError, AppResult, Lang, Msg};
use crate::sheet::{Cell, SheetWriter};
use crate::spool::Spool;
use crate::store;
use crate::store::sql::{Cond, Where};

/// Rows an export holds at most; narrower filters beyond.
pub const MAX_ROWS: u32 = 200_000;

/// An export being written: its spool file and its sheet.
pub struct Export {
    spool: Spool,
    sheet: SheetWriter,
}

impl Export {
    /// A new export whose sheet is named `sheet` with `(zh, en, width)` headers.
    pub fn start(
        state: &AppState,
        lang: Lang,
        sheet: (&str, &str),
        headers: &[(&'static str, &'static str, f64)],
    ) -> AppResult<Export> {
        let data_dir = &state.settings.data_dir;
        let (spool, file) =
            Spool::create(data_dir, "export", "xlsx").map_err(AppError::internal)?;
        drop(file);
        let zh = lang == Lang::Zh;
        let heads: Vec<(&str, f64)> = headers
            .iter()
            .map(|(z, e, w)| (if zh { *z } else { *e }, *w))
            .collect();
        let name = if zh { sheet.0 } else { sheet.1 };
        let sheet = SheetWriter::new(&crate::spool::dir(data_dir), name, &heads)
            .map_err(AppError::internal)?;
        Ok(Export { spool, sheet })
    }

    pub fn row(&mut self, cells: Vec<Cell>) -> AppResult<()> {
        if self.sheet.rows() >= MAX_ROWS {
            return Err(AppError::Rule {
                code: "export.too_many_rows",
                msg: Msg::owned(
                    format!("超过 {MAX_ROWS} 行，请缩小范围（如按月份或社区）"),
                    format!("More than {MAX_ROWS} rows; narrow the range (a month, a community)"),
                ),
            });
        }
        self.sheet.row(cells).map_err(AppError::internal)
    }

    /// Saves the workbook into the spool file and records `entry` with the row count.
    #[tracing::instrument(name = "exports::finish", skip_all)]
    pub async fn finish(mut self, db: &store::Db, entry: Entry) -> AppResult<(Spool, u32)> {
        let rows = self.sheet.rows();
        let tmp = self.spool.derived("out.xlsx");
        self.sheet.save(&tmp).map_err(AppError::internal)?;
        std::fs::rename(&tmp, self.spool.path()).map_err(AppError::internal)?;
        let detail = format!("{rows} rows; {}", entry.detail.clone().unwrap_or_default());
        audit::record_alone(db, entry.detail(detail)).await?;
        Ok((self.spool, rows))
    }
}

/// `area_id`, `from`, `to` (YYYY-MM-DD, Asia/Shanghai, both inclusive).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Range {
    /// An area of the caller's scope (default: all of it).
    pub area_id: Option<Uuid>,
    /// First day, YYYY-MM-DD.
    pub from: Option<String>,
    /// Last day, YYYY-MM-DD.
    pub to: Option<String>,
}

/// The range checked: dates parsed, and the area in scope for `perm`.
struct Bounds {
    /// The proof of the scope check behind these bounds.
    proof: scope::Checked,
    area: Option<Uuid>,
    from: Option<String>,
    to: Option<String>,
}

async fn check(db: &store::Db, ctx: &Ctx, perm: Permission, r: &Range) -> AppResult<Bounds> {
    let mut proof = scope::require_any(ctx, perm)?;
    let date = |name: &str, v: &Option<String>| -> AppResult<Option<String>> {
        match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => vocab::parse_date(s)
                .map(Some)
                .map_err(|m| AppError::field(name, m)),
        }
    };
    let (from, to) = (date("from", &r.from)?, date("to", &r.to)?);
    if let (Some(f), Some(t)) = (&from, &to) {
        if f > t {
            return Err(AppError::field(
                "to",
                Msg::new(
                    "结束日期不能早于开始日期",
                    "The last day is before the first",
                ),
            ));
        }
    }
    if let Some(a) = r.area_id {
        proof = scope::require_permission(db, ctx, perm, a).await?;
    }
    Ok(Bounds {
        proof,
        area: r.area_id,
        from,
        to,
    })
}

/// Conditions on an area column (scope and the chosen area) and on a date column.
fn conditions(
    ctx: &Ctx,
    perm: Permission,
    area_col: &str,
    date_col: &str,
    c: &Bounds,
) -> (String, Vec<Value>) {
    let (scope_sql, scope_values) = scope::filter_sql_for(ctx, perm, area_col, 1);
    let mut w = Where::new();
    w.and_cond(Cond::from_numbered(&scope_sql, scope_values));
    if let Some(a) = c.area {
        w.and(
            &format!(
                "{area_col} IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = ?)"
            ),
            [a.into()],
        );
    }
    if let Some(f) = &c.from {
        w.and(&format!("{date_col} >= ?"), [f.clone().into()]);
    }
    if let Some(t) = &c.to {
        w.and(&format!("{date_col} <= ?"), [t.clone().into()]);
    }
    w.build(1)
}

fn describe(c: &Bounds) -> String {
    format!(
        "area={} from={} to={}",
        c.area
            .map(|a| a.to_string())
            .unwrap_or_else(|| "scope".into()),
        c.from.as_deref().unwrap_or("-"),
        c.to.as_deref().unwrap_or("-")
    )
}

/// Reads rows of `sql` (ordered, with `$n` values) page by page (LIMIT/OFFSET of 5,000).
async fn pages<T: FromQueryResult>(
    db: &store::Db,
    sql: &str,
    values: &[Value],
    mut each: impl FnMut(T) -> AppResult<()>,
) -> AppResult<()> {
    let mut offset: i64 = 0;
    loop {
        let mut v = values.to_vec();
        v.push(5_000i64.into());
        v.push(offset.into());
        let rows: Vec<T> = store::fetch_all(
            db,
            &format!("{sql} LIMIT ${} OFFSET ${}", v.len() - 1, v.len()),
            v,
        )
        .await?;
        let n = rows.len();
        for r in rows {
            each(r)?;
        }
        if n < 5_000 {
            return Ok(());
        }
        offset += 5_000;
    }
}

/// The visit log (走访台账): one row per visit, with the needs it found.
#[tracing::instrument(name = "exports::visits", skip_all)]
pub async fn visits(state: &AppState, ctx: &Ctx, r: &Range) -> AppResult<(Spool, u32)> {
    let c = check(&state.db, ctx, Permission::ReadRegistry, r).await?;
    let (where_sql, values) = conditions(
        ctx,
        Permission::ReadRegistry,
        "v.area_id",
        "v.visited_on",
        &c,
    );
    #[derive(FromQueryResult)]
    struct V {
        visited_on: String,
        community: Option<String>,
        grid: Option<String>,
        address: Option<String>,
        mode: String,
        visitors: String,
        notes: Option<String>,
        needs: i64,
    }
    let mut out = Export::start(
        state,
        ctx.lang,
        ("走访台账", "Visits"),
        &[
            ("走访日期", "Date", 12.0),
            ("社区", "Community", 14.0),
            ("网格", "Grid", 14.0),
            ("地址", "Address", 30.0),
            ("方式", "Mode", 8.0),
            ("走访人", "Visitors", 14.0),
            ("发现需求", "Needs found", 10.0),
            ("记录", "Notes", 50.0),
        ],
    )?;
    let sql = format!(
        "SELECT v.visited_on, cm.name AS community, g.name AS grid, d.address, v.mode, v.visitors, v.notes, \
         (SELECT COUNT(*) FROM needs n WHERE n.visit_id = v.id) AS needs \
         FROM visits v JOIN households h ON h.id = v.household_id JOIN dwellings d ON d.id = h.dwelling_id \
         LEFT JOIN areas cm ON cm.id = v.community_id LEFT JOIN areas g ON g.id = v.grid_id \
         WHERE {where_sql} ORDER BY v.visited_on DESC, v.id DESC"
    );
    let zh = ctx.lang == Lang::Zh;
    pages(&state.db, &sql, &values, |x: V| {
        let mode = vocab::VISIT_MODE
            .label(&x.mode)
            .filter(|_| zh)
            .map(str::to_string)
            .unwrap_or(x.mode);
        out.row(vec![
            Cell::Text(x.visited_on),
            x.community.into(),
            x.grid.into(),
            x.address.into(),
            Cell::Text(mode),
            Cell::Text(x.visitors),
            Cell::Number(x.needs as f64),
            x.notes.into(),
        ])
    })
    .await?;
    let entry = Entry::by(ctx, &c.proof, "visit.export", "visit", None)
        .area(c.area)
        .detail(describe(&c));
    out.finish(&state.db, entry).await
}

/// Volunteer service hours (志愿服务时长): one row per confirmed entry or correction.
#[tracing::instrument(name = "exports::service_hours", skip_all)]
pub async fn service_hours(state: &AppState, ctx: &Ctx, r: &Range) -> AppResult<(Spool, u32)> {
    let c = check(&state.db, ctx, Permission::ReadService, r).await?;
    let (where_sql, values) =
        conditions(ctx, Permission::ReadService, "v.community_id", "h.day", &c);
    #[derive(FromQueryResult)]
    struct H {
        day: String,
        name: String,
        community: Option<String>,
        title: Option<String>,
        minutes: i32,
        kind: String,
        reason: Option<String>,
        created_by_name: String,
    }
    let mut out = Export::start(
        state,
        ctx.lang,
        ("志愿服务时长", "Service hours"),
        &[
            ("日期", "Day", 12.0),
            ("志愿者", "Volunteer", 12.0),
            ("社区", "Community", 14.0),
            ("活动", "Activity", 30.0),
            ("时长（小时）", "Hours", 10.0),
            ("类型", "Kind", 8.0),
            ("原因", "Reason", 24.0),
            ("记录人", "Recorded by", 14.0),
        ],
    )?;
    let sql = format!(
        "SELECT h.day, p.name, cm.name AS community, a.title, h.minutes, h.kind, h.reason, h.created_by_name \
         FROM service_hours h JOIN volunteers v ON v.id = h.volunteer_id JOIN persons p ON p.id = v.person_id \
         LEFT JOIN areas cm ON cm.id = v.community_id LEFT JOIN activities a ON a.id = h.activity_id \
         WHERE {where_sql} ORDER BY h.day DESC, h.id DESC"
    );
    let zh = ctx.lang == Lang::Zh;
    pages(&state.db, &sql, &values, |x: H| {
        let kind = match (x.kind.as_str(), zh) {
            ("activity", true) => "活动".to_string(),
            ("correction", true) => "更正".to_string(),
            (k, _) => k.to_string(),
        };
        out.row(vec![
            Cell::Text(x.day),
            Cell::Text(x.name),
            x.community.into(),
            x.title.into(),
            Cell::Number((x.minutes as f64 / 60.0 * 100.0).round() / 100.0),
            Cell::Text(kind),
            x.reason.into(),
            Cell::Text(x.created_by_name),
        ])
    })
    .await?;
    let entry = Entry::by(ctx, &c.proof, "service_hours.export", "volunteer", None)
        .area(c.area)
        .detail(describe(&c));
    out.finish(&state.db, entry).await
}

/// Points ledgers (积分流水): one row per posting of the accounts of the area.
#[tracing::instrument(name = "exports::postings", skip_all)]
pub async fn postings(state: &AppState, ctx: &Ctx, r: &Range) -> AppResult<(Spool, u32)> {
    let c = check(&state.db, ctx, Permission::ReadService, r).await?;
    // Postings carry times; the range's days are Asia/Shanghai.
    let day_ms = |d: &str, end: bool| {
        crate::domain::rfc3339_to_ms(&format!(
            "{d}T{}+08:00",
            if end { "23:59:59.999" } else { "00:00:00" }
        ))
    };
    let (scope_sql, scope_values) =
        scope::filter_sql_for(ctx, Permission::ReadService, "a.area_id", 1);
    let mut w = Where::new();
    w.and_cond(Cond::from_numbered(&scope_sql, scope_values));
    if let Some(area) = c.area {
        w.and(
            "a.area_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = ?)",
            [area.into()],
        );
    }
    if let Some(t) = c.from.as_deref().and_then(|d| day_ms(d, false)) {
        w.and("p.at >= ?", [t.into()]);
    }
    if let Some(t) = c.to.as_deref().and_then(|d| day_ms(d, true)) {
        w.and("p.at <= ?", [t.into()]);
    }
    let (where_sql, values) = w.build(1);
    #[derive(FromQueryResult)]
    struct P {
        at: i64,
        account: Option<String>,
        person: Option<String>,
        area: Option<String>,
        amount: i64,
        kind: String,
        event: Option<String>,
        note: Option<String>,
        actor_name: String,
    }
    let mut out = Export::start(
        state,
        ctx.lang,
        ("积分流水", "Points ledger"),
        &[
            ("时间", "Time", 18.0),
            ("账户", "Account", 14.0),
            ("区域", "Area", 14.0),
            ("积分", "Points", 8.0),
            ("类型", "Kind", 8.0),
            ("事项", "Event", 12.0),
            ("备注", "Note", 30.0),
            ("记录人", "Recorded by", 14.0),
        ],
    )?;
    let sql = format!(
        "SELECT p.at, a.name AS account, pe.name AS person, ar.name AS area, p.amount, p.kind, p.event, p.note, p.actor_name \
         FROM point_postings p JOIN point_accounts a ON a.id = p.account_id \
         LEFT JOIN volunteers v ON v.id = a.volunteer_id LEFT JOIN persons pe ON pe.id = v.person_id \
         LEFT JOIN areas ar ON ar.id = a.area_id \
         WHERE {} ORDER BY p.at DESC, p.id DESC",
        where_sql
    );
    let en = ctx.lang == Lang::En;
    pages(&state.db, &sql, &values, |x: P| {
        let kind = crate::domain::points::Kind::parse(&x.kind)
            .map(|k| k.label(en).to_string())
            .unwrap_or(x.kind);
        let event = x.event.map(|e| {
            crate::domain::points::Event::parse(&e)
                .map(|v| v.label(en).to_string())
                .unwrap_or(e)
        });
        out.row(vec![
            local_time(x.at),
            x.person.or(x.account).into(),
            x.area.into(),
            Cell::Number(x.amount as f64),
            Cell::Text(kind),
            event.into(),
            x.note.into(),
            Cell::Text(x.actor_name),
        ])
    })
    .await?;
    let entry = Entry::by(ctx, &c.proof, "points.export", "point_account", None)
        .area(c.area)
        .detail(describe(&c));
    out.finish(&state.db, entry).await
}

/// `YYYY-MM-DD HH:MM` in Asia/Shanghai.
pub fn local_time(ms: i64) -> Cell {
    Cell::Text(crate::domain::ms_to_local_minute(ms))
}
