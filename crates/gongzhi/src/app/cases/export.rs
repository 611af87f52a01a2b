//! Case lists as Excel workbooks: any filter of the list, written row by row in constant memory
//! into a spool file that the route streams. Two layouts:
//! - `full`: every column an office reads (deadlines, unit, result, rating);
//! - `hotline`: the columns of the 12345 work-order import (工单号 … 联系电话) followed by the
//!   results (状态, 办理结果, 办结时间, 满意度), so a hotline centre takes its orders back in the
//!   form it sent them.
//!
//! The requester's name and phone are shown in full only to those who may dispatch cases of the
//! case's area (they see them in the case too); everyone else gets them masked. Each export is
//! one audit row: filters, rows, and whether requesters were shown.
use sea_orm::{FromQueryResult, Value};
use uuid::Uuid;

use super::query::{self, CaseQuery};
use crate::app::audit::Entry;
use crate::app::exports::Export;
use crate::app::{scope, AppState, Ctx};
use crate::domain::cases::{CaseKind, Channel, Rating, Status};
use crate::domain::ids::{mask_mobile, mask_name};
use crate::domain::role::Permission;
use crate::error::{AppError, AppResult, Lang, Msg};
use crate::sheet::Cell;
use crate::spool::Spool;
use crate::store;

const PAGE: i64 = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Full,
    Hotline,
}

impl Layout {
    pub fn parse(s: Option<&str>) -> AppResult<Layout> {
        match s.unwrap_or("full") {
            "full" => Ok(Layout::Full),
            "hotline" => Ok(Layout::Hotline),
            _ => Err(AppError::field(
                "layout",
                Msg::new(
                    "layout 应为 full 或 hotline",
                    "layout must be full or hotline",
                ),
            )),
        }
    }
}

#[derive(FromQueryResult)]
struct Row {
    id: Uuid,
    no: String,
    idem_key: Option<String>,
    received_at: i64,
    channel: String,
    kind: String,
    category_code: String,
    category_name: Option<String>,
    title: String,
    description: String,
    address: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    area_id: Uuid,
    area_code: Option<String>,
    area_name: Option<String>,
    community_name: Option<String>,
    unit_name: Option<String>,
    status: String,
    response_due_at: Option<i64>,
    handle_due_at: Option<i64>,
    overdue: bool,
    handled_at: Option<i64>,
    closed_at: Option<i64>,
    result: Option<String>,
    rating: Option<String>,
    requester_name: String,
    requester_phone: Option<String>,
}

/// (zh, en, width) of each column.
fn headers(layout: Layout) -> Vec<(&'static str, &'static str, f64)> {
    match layout {
        Layout::Hotline => {
            // The import's own headers, in Chinese whatever the caller's language.
            let mut v: Vec<(&'static str, &'static str, f64)> = super::hotline::COLUMNS
                .iter()
                .map(|c| (c.0, c.0, 16.0))
                .collect();
            v.extend([
                ("状态", "状态", 10.0),
                ("办理结果", "办理结果", 40.0),
                ("办结时间", "办结时间", 18.0),
                ("满意度", "满意度", 10.0),
                ("共治编号", "共治编号", 20.0),
            ]);
            v
        }
        Layout::Full => vec![
            ("编号", "No.", 20.0),
            ("受理时间", "Received", 18.0),
            ("渠道", "Channel", 10.0),
            ("类型", "Kind", 8.0),
            ("事项分类", "Category", 16.0),
            ("标题", "Title", 30.0),
            ("诉求内容", "Description", 50.0),
            ("地址", "Address", 24.0),
            ("社区", "Community", 14.0),
            ("区域", "Area", 14.0),
            ("承办单位", "Unit", 18.0),
            ("状态", "Status", 10.0),
            ("响应期限", "Respond by", 18.0),
            ("办理期限", "Handle by", 18.0),
            ("超期", "Overdue", 6.0),
            ("办结时间", "Closed at", 18.0),
            ("办理结果", "Result", 40.0),
            ("满意度", "Rating", 10.0),
            ("诉求人", "Requester", 10.0),
            ("联系电话", "Phone", 14.0),
        ],
    }
}

/// `YYYY-MM-DD HH:MM` in Asia/Shanghai, or an empty cell.
fn local(ms: Option<i64>) -> Cell {
    ms.map(crate::app::exports::local_time)
        .unwrap_or(Cell::Empty)
}

fn status_label(s: &str, lang: Lang) -> String {
    match (Status::parse(s), lang) {
        (Some(st), Lang::Zh) => st.label_zh().into(),
        (Some(st), Lang::En) => st.label_en().into(),
        (None, _) => s.into(),
    }
}

/// Exports the cases the list would show for `q` (all pages) into a spool file. Returns the
/// spool (removed when dropped) and the number of rows.
#[tracing::instrument(name = "cases::export::export", skip_all)]
pub async fn export(
    state: &AppState,
    ctx: &Ctx,
    q: &CaseQuery,
    layout: Layout,
) -> AppResult<(Spool, u32)> {
    // Whoever may list cases may export the same list: the filter is the list's.
    let (where_sql, values, checked) = query::list_filter(&state.db, ctx, q).await?;
    let mut out = Export::start(state, ctx.lang, ("诉求", "Cases"), &headers(layout))?;
    let dispatch_roots = scope::areas_with_roles(ctx, Permission::DispatchCases.roles());
    let mut revealed = false;
    let mut after: Option<(i64, Uuid)> = None;
    loop {
        let rows = page(&state.db, &where_sql, &values, after).await?;
        let Some(last) = rows.last() else { break };
        after = Some((last.received_at, last.id));
        for r in rows {
            let full = may_see_requester(&state.db, &dispatch_roots, r.area_id).await?;
            revealed |= full;
            out.row(cells(state, &r, layout, ctx.lang, full))?;
        }
    }
    let mut entry = Entry::by(ctx, &checked, "case.export", "case", None).detail(format!(
        "layout {}; filters: {}",
        if layout == Layout::Full {
            "full"
        } else {
            "hotline"
        },
        describe(q)
    ));
    if revealed {
        entry = entry.fields(&["requester_name", "requester_phone"]);
    }
    out.finish(&state.db, entry).await
}

/// The statistics page as a workbook: the totals of the area and period, then the ranking
/// (`by` unit, street, community, grid or category) with every count and rate.
#[tracing::instrument(name = "cases::export::stats", skip_all)]
pub async fn stats(
    state: &AppState,
    ctx: &Ctx,
    q: super::stats::StatsQuery,
) -> AppResult<(Spool, u32)> {
    use super::stats::{self, Rates, StatsQuery};
    let copy = |q: &StatsQuery| StatsQuery {
        area_id: q.area_id,
        from: q.from.clone(),
        to: q.to.clone(),
        bucket: None,
        by: q.by.clone(),
    };
    let (_, checked) = stats::checked_area(&state.db, ctx, q.area_id).await?;
    let dash = stats::dashboard(state, ctx, copy(&q)).await?;
    let by = q.by.clone().unwrap_or_else(|| "unit".into());
    let ranked = stats::ranking(state, ctx, q).await?;
    let pct = |r: Option<f64>| {
        r.map(|x| Cell::Number((x * 10000.0).round() / 100.0))
            .unwrap_or(Cell::Empty)
    };
    let n = |x: i64| Cell::Number(x as f64);
    let line = |rank: Cell, name: String, r: &Rates| -> Vec<Cell> {
        vec![
            rank,
            Cell::Text(name),
            n(r.received),
            n(r.due),
            n(r.responded_in_time),
            n(r.resolved),
            n(r.handled_in_time),
            n(r.closed),
            n(r.rated),
            n(r.satisfied),
            n(r.basic),
            n(r.dissatisfied),
            n(r.overdue),
            n(r.supervised),
            n(r.returned),
            pct(r.response_rate),
            pct(r.resolve_rate),
            pct(r.satisfaction_rate),
            pct(r.on_time_rate),
            pct(r.close_rate),
            r.score
                .map(|s| Cell::Number((s * 100.0).round() / 100.0))
                .unwrap_or(Cell::Empty),
        ]
    };
    let mut out = Export::start(
        state,
        ctx.lang,
        ("接诉即办统计", "Case statistics"),
        &[
            ("排名", "Rank", 6.0),
            ("名称", "Name", 20.0),
            ("受理", "Received", 8.0),
            ("应响应", "Due", 8.0),
            ("按时响应", "Responded in time", 10.0),
            ("已解决", "Resolved", 8.0),
            ("按时办结", "Handled in time", 10.0),
            ("已结案", "Closed", 8.0),
            ("已评价", "Rated", 8.0),
            ("满意", "Satisfied", 8.0),
            ("基本满意", "Basically satisfied", 10.0),
            ("不满意", "Dissatisfied", 8.0),
            ("超期", "Overdue", 8.0),
            ("督办", "Supervised", 8.0),
            ("退单", "Returned", 8.0),
            ("响应率 %", "Response rate %", 10.0),
            ("解决率 %", "Resolve rate %", 10.0),
            ("满意率 %", "Satisfaction rate %", 10.0),
            ("按时办结率 %", "On-time rate %", 12.0),
            ("结案率 %", "Close rate %", 10.0),
            ("综合得分", "Score", 10.0),
        ],
    )?;
    let total = if ctx.lang == Lang::Zh {
        format!("合计（{} 至 {}）", dash.from, dash.to)
    } else {
        format!("Total ({} to {})", dash.from, dash.to)
    };
    out.row(line(Cell::Empty, total, &dash.totals))?;
    for r in &ranked {
        out.row(line(Cell::Number(r.rank as f64), r.name.clone(), &r.rates))?;
    }
    let entry = Entry::by(ctx, &checked, "case_stats.export", "case", None)
        .area(dash.area_id)
        .detail(format!("by {by}, {} to {}", dash.from, dash.to));
    out.finish(&state.db, entry).await
}

/// One page of rows after `after` (keyset on received_at, id; newest first).
async fn page(
    db: &store::Db,
    where_sql: &str,
    values: &[Value],
    after: Option<(i64, Uuid)>,
) -> AppResult<Vec<Row>> {
    let mut w = crate::store::sql::Where::new();
    w.and_cond(crate::store::sql::Cond::from_numbered(
        where_sql,
        values.to_vec(),
    ));
    if let Some((at, id)) = after {
        w.and(
            "(c.received_at < ? OR (c.received_at = ? AND c.id < ?))",
            [at.into(), at.into(), id.into()],
        );
    }
    let (cond, values) = w.build(1);
    let sql = format!(
        "SELECT c.id, c.no, c.idem_key, c.received_at, c.channel, c.kind, c.category_code, \
         k.name AS category_name, c.title, c.description, c.address, c.lat, c.lon, c.area_id, \
         a.code AS area_code, a.name AS area_name, m.name AS community_name, u.name AS unit_name, \
         c.status, c.response_due_at, c.handle_due_at, c.overdue, c.handled_at, c.closed_at, \
         c.result, c.rating, c.requester_name, c.requester_phone \
         FROM cases c \
         LEFT JOIN case_categories k ON k.id = c.category_id \
         LEFT JOIN areas a ON a.id = c.area_id \
         LEFT JOIN areas m ON m.id = c.community_id \
         LEFT JOIN case_units u ON u.id = c.unit_id \
         WHERE {cond} ORDER BY c.received_at DESC, c.id DESC LIMIT {PAGE}"
    );
    Ok(store::fetch_all(db, &sql, values).await?)
}

/// Whether the caller may dispatch cases in the area (and so sees requesters in full).
async fn may_see_requester(
    db: &store::Db,
    roots: &Option<Vec<Uuid>>,
    area: Uuid,
) -> AppResult<bool> {
    match roots {
        None => Ok(true),
        Some(r) if r.is_empty() => Ok(false),
        Some(r) => Ok(store::fetch_i64(
            db,
            &format!(
                "SELECT COUNT(*) FROM area_closure WHERE descendant_id = $1 AND ancestor_id IN ({})",
                store::placeholders(2, r.len())
            ),
            std::iter::once(Value::from(area))
                .chain(r.iter().map(|u| Value::from(*u)))
                .collect(),
        )
        .await?
            > 0),
    }
}

fn cells(state: &AppState, r: &Row, layout: Layout, lang: Lang, full: bool) -> Vec<Cell> {
    let name = state.keys.decrypt(&r.requester_name).unwrap_or_default();
    let phone = r
        .requester_phone
        .as_deref()
        .and_then(|p| state.keys.decrypt(p))
        .unwrap_or_default();
    let (name, phone) = if full {
        (name, phone)
    } else {
        (
            mask_name(&name),
            if phone.is_empty() {
                phone
            } else {
                mask_mobile(&phone)
            },
        )
    };
    let kind = CaseKind::parse(&r.kind)
        .map(|k| {
            if lang == Lang::Zh {
                k.label_zh()
            } else {
                k.label_en()
            }
        })
        .unwrap_or_default()
        .to_string();
    let status = status_label(&r.status, lang);
    let rating = r.rating.as_deref().map(|x| match (Rating::parse(x), lang) {
        (Some(v), Lang::Zh) => v.label_zh().to_string(),
        (Some(v), Lang::En) => v.label_en().to_string(),
        (None, _) => x.to_string(),
    });
    match layout {
        Layout::Hotline => vec![
            Cell::Text(
                r.idem_key
                    .as_deref()
                    .and_then(|k| k.strip_prefix("hotline:"))
                    .unwrap_or(&r.no)
                    .to_string(),
            ),
            local(Some(r.received_at)),
            Cell::Text(kind),
            Cell::Text(r.category_code.clone()),
            Cell::Text(r.description.clone()),
            r.area_code.clone().into(),
            r.lon.map(Cell::Number).unwrap_or(Cell::Empty),
            r.lat.map(Cell::Number).unwrap_or(Cell::Empty),
            r.address.clone().into(),
            Cell::Text(name),
            Cell::Text(phone),
            Cell::Text(status),
            r.result.clone().into(),
            local(r.closed_at.or(r.handled_at)),
            rating.into(),
            Cell::Text(r.no.clone()),
        ],
        Layout::Full => vec![
            Cell::Text(r.no.clone()),
            local(Some(r.received_at)),
            Cell::Text(match (Channel::parse(&r.channel), lang) {
                (Some(v), Lang::Zh) => v.label_zh().to_string(),
                (Some(v), Lang::En) => v.label_en().to_string(),
                (None, _) => r.channel.clone(),
            }),
            Cell::Text(kind),
            Cell::Text(format!(
                "{} {}",
                r.category_code,
                r.category_name.clone().unwrap_or_default()
            )),
            Cell::Text(r.title.clone()),
            Cell::Text(r.description.clone()),
            r.address.clone().into(),
            r.community_name.clone().into(),
            r.area_name.clone().into(),
            r.unit_name.clone().into(),
            Cell::Text(status),
            local(r.response_due_at),
            local(r.handle_due_at),
            Cell::Text(
                if r.overdue {
                    if lang == Lang::Zh {
                        "是"
                    } else {
                        "yes"
                    }
                } else {
                    ""
                }
                .into(),
            ),
            local(r.closed_at),
            r.result.clone().into(),
            rating.into(),
            Cell::Text(name),
            Cell::Text(phone),
        ],
    }
}

/// The filters in words, for the audit row (never personal data: the free-text search is
/// reported by its length only).
fn describe(q: &CaseQuery) -> String {
    let mut parts = vec![format!("queue={}", q.queue.as_deref().unwrap_or("all"))];
    if let Some(s) = &q.status {
        parts.push(format!("status={s}"));
    }
    if let Some(a) = q.area_id {
        parts.push(format!("area={a}"));
    }
    if let Some(u) = q.unit_id {
        parts.push(format!("unit={u}"));
    }
    if let Some(c) = &q.category_code {
        parts.push(format!("category={c}"));
    }
    if q.overdue == Some(true) {
        parts.push("overdue".into());
    }
    if let Some(t) = &q.q {
        parts.push(format!("search ({} characters)", t.chars().count()));
    }
    parts.join(", ")
}
