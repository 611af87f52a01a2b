//! Reading notices: the list, one notice with its coverage by grid, its households.
use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::*;
use crate::app::Ctx;
use crate::domain::ids::mask_name;
use crate::domain::ms_to_rfc3339;
use crate::error::{AppError, AppResult, Msg};
use crate::store::sql::Where;
use crate::store::{self, Db, Paging};

pub(super) async fn coverage<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    id: Uuid,
) -> AppResult<Coverage> {
    Ok(coverages(c, ctx, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default())
}

/// The coverage of several notices over the caller's part, in two grouped queries (a list page
/// does not count each notice on its own).
pub(super) async fn coverages<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    ids: &[Uuid],
) -> AppResult<std::collections::HashMap<Uuid, Coverage>> {
    let mut out: std::collections::HashMap<Uuid, Coverage> =
        ids.iter().map(|i| (*i, Coverage::default())).collect();
    if ids.is_empty() {
        return Ok(out);
    }
    let mut w = Where::new();
    w.and_in("r.notice_id", ids.iter().copied());
    w.and_cond(receipt_cond(ctx, "r.area_id"));
    let (cond, values) = w.build(1);
    #[derive(FromQueryResult)]
    struct H {
        notice_id: Uuid,
        households: i64,
        reached_app: i64,
        reached_sms: i64,
        unreachable: i64,
        read: i64,
        acked: i64,
    }
    let hs: Vec<H> = store::fetch_all(
        c,
        &format!(
            "SELECT r.notice_id, COUNT(*) AS households, COUNT(CASE WHEN r.reach = 'app' THEN 1 END) AS reached_app, \
             COUNT(CASE WHEN r.reach = 'sms' THEN 1 END) AS reached_sms, \
             COUNT(CASE WHEN r.reach = 'none' THEN 1 END) AS unreachable, \
             COUNT(CASE WHEN r.read_at IS NOT NULL OR r.acked_at IS NOT NULL THEN 1 END) AS read, \
             COUNT(r.acked_at) AS acked FROM notice_receipts r WHERE {cond} GROUP BY r.notice_id"
        ),
        values,
    )
    .await?;
    for h in hs {
        let e = out.entry(h.notice_id).or_default();
        e.households = h.households;
        e.reached_app = h.reached_app;
        e.reached_sms = h.reached_sms;
        e.unreachable = h.unreachable;
        e.read = h.read;
        e.acked = h.acked;
    }
    #[derive(FromQueryResult)]
    struct S {
        notice_id: Uuid,
        staff: i64,
        staff_read: i64,
    }
    let mut w = Where::new();
    w.and_in("notice_id", ids.iter().copied());
    w.and("household_id IS NULL", []);
    let (cond, values) = w.build(1);
    let ss: Vec<S> = store::fetch_all(
        c,
        &format!(
            "SELECT notice_id, COUNT(*) AS staff, COUNT(read_at) AS staff_read FROM notice_people \
             WHERE {cond} GROUP BY notice_id"
        ),
        values,
    )
    .await?;
    for s in ss {
        let e = out.entry(s.notice_id).or_default();
        e.staff = s.staff;
        e.staff_read = s.staff_read;
    }
    Ok(out)
}

#[tracing::instrument(name = "notices::read::detail", skip_all)]
pub async fn detail(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<NoticeDetail> {
    let r = load_visible(db, ctx, id).await?;
    let cov = coverage(db, ctx, id).await?;
    let mut w = Where::new();
    w.and("r.notice_id = ?", [id.into()]);
    w.and_cond(receipt_cond(ctx, "r.area_id"));
    let (cond, values) = w.build(1);
    let by_grid: Vec<GridCoverage> = store::fetch_all(
        db,
        &format!(
            "SELECT r.grid_id, g.name AS grid_name, cm.name AS community_name, COUNT(*) AS households, \
             COUNT(CASE WHEN r.reach <> 'none' THEN 1 END) AS reached, \
             COUNT(CASE WHEN r.reach = 'none' THEN 1 END) AS unreachable, \
             COUNT(CASE WHEN r.read_at IS NOT NULL OR r.acked_at IS NOT NULL THEN 1 END) AS read, \
             COUNT(r.acked_at) AS acked \
             FROM notice_receipts r JOIN areas g ON g.id = r.grid_id JOIN areas cm ON cm.id = r.community_id \
             WHERE {cond} GROUP BY r.grid_id, g.name, g.code, cm.name, cm.code ORDER BY cm.code, g.code LIMIT 2000"
        ),
        values,
    )
    .await?;
    Ok(NoticeDetail {
        notice: view(r, cov),
        by_grid,
    })
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoticeQuery {
    /// Notices addressed at, above or below this area.
    pub area_id: Option<Uuid>,
    /// published (default) | withdrawn | all
    pub status: Option<String>,
    /// Words of the title.
    pub q: Option<String>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

crate::app::page_of!(NoticePage, Notice);

#[tracing::instrument(name = "notices::read::list", skip_all)]
pub async fn list(db: &Db, ctx: &Ctx, q: &NoticeQuery) -> AppResult<NoticePage> {
    let mut w = Where::new();
    w.and_cond(notice_cond(ctx, "n.area_id"));
    if let Some(a) = q.area_id {
        require_related(db, ctx, a).await?;
        w.and(
            "(n.area_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = ?) \
             OR n.area_id IN (SELECT ancestor_id FROM area_closure WHERE descendant_id = ?))",
            [a.into(), a.into()],
        );
    }
    match q.status.as_deref().unwrap_or("published") {
        "all" => {}
        s @ ("published" | "withdrawn") => {
            w.and("n.status = ?", [s.to_string().into()]);
        }
        _ => {
            return Err(AppError::field(
                "status",
                Msg::new(
                    "status 应为 published、withdrawn 或 all",
                    "status must be published, withdrawn or all",
                ),
            ))
        }
    }
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        w.and(
            "n.title LIKE ? ESCAPE '\\'",
            [format!("%{}%", store::like_escape(text)).into()],
        );
    }
    let (cond, values) = w.build(1);
    let paging = Paging::new(q.page, q.page_size);
    let (rows, total): (Vec<Row>, i64) = store::page(
        db,
        &format!("SELECT COUNT(*) AS n FROM notices n WHERE {cond}"),
        &format!("{SELECT} WHERE {cond} ORDER BY n.created_at DESC, n.id"),
        values,
        paging,
    )
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut covs = coverages(db, ctx, &ids).await?;
    let items = rows
        .into_iter()
        .map(|r| {
            let cov = covs.remove(&r.id).unwrap_or_default();
            view(r, cov)
        })
        .collect();
    Ok(NoticePage::new(items, total, paging))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptRow {
    pub household_id: Uuid,
    pub address: String,
    pub grid_name: String,
    /// The head of the household, masked (王*).
    pub head_name: String,
    /// app | sms | none
    pub reach: String,
    pub read_at: Option<String>,
    pub acked_at: Option<String>,
    /// app | visit
    pub acked_via: Option<String>,
    pub acked_by: Option<String>,
    pub answer: Option<BTreeMap<String, String>>,
    pub reminded_at: Option<String>,
}

#[derive(FromQueryResult)]
pub(super) struct ReceiptDb {
    household_id: Uuid,
    address: Option<String>,
    grid_name: String,
    head_name: Option<String>,
    reach: String,
    read_at: Option<i64>,
    acked_at: Option<i64>,
    acked_via: Option<String>,
    acked_by: Option<String>,
    answer: Option<String>,
    reminded_at: Option<i64>,
}

pub(super) const RECEIPTS: &str =
    "SELECT r.household_id, d.address, g.name AS grid_name, p.name AS head_name, \
     r.reach, r.read_at, r.acked_at, r.acked_via, r.acked_by, r.answer, r.reminded_at \
     FROM notice_receipts r JOIN households h ON h.id = r.household_id \
     LEFT JOIN dwellings d ON d.id = h.dwelling_id LEFT JOIN persons p ON p.id = h.head_person_id \
     JOIN areas g ON g.id = r.grid_id";

pub(super) fn receipt_view(r: ReceiptDb) -> ReceiptRow {
    ReceiptRow {
        household_id: r.household_id,
        address: r.address.unwrap_or_default(),
        grid_name: r.grid_name,
        head_name: r.head_name.as_deref().map(mask_name).unwrap_or_default(),
        reach: r.reach,
        read_at: r.read_at.map(ms_to_rfc3339),
        acked_at: r.acked_at.map(ms_to_rfc3339),
        acked_via: r.acked_via,
        acked_by: r.acked_by,
        answer: r.answer.and_then(|a| serde_json::from_str(&a).ok()),
        reminded_at: r.reminded_at.map(ms_to_rfc3339),
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReceiptQuery {
    pub grid_id: Option<Uuid>,
    /// all (default) | unread | unacked | acked | unreachable | door (the door-to-door list: no
    /// channel reaches it, or a reminder did not move it; not yet done)
    pub state: Option<String>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

crate::app::page_of!(ReceiptPage, ReceiptRow);

/// Not done: acknowledged when the notice asks for it, else read.
pub(super) const NOT_DONE: &str = "r.acked_at IS NULL AND (n.requires_ack OR r.read_at IS NULL)";

#[tracing::instrument(name = "notices::read::receipts", skip_all)]
pub async fn receipts(db: &Db, ctx: &Ctx, id: Uuid, q: &ReceiptQuery) -> AppResult<ReceiptPage> {
    load_visible(db, ctx, id).await?;
    let mut w = Where::new();
    w.and("r.notice_id = ?", [id.into()]);
    w.and_cond(receipt_cond(ctx, "r.area_id"));
    if let Some(g) = q.grid_id {
        w.and("r.grid_id = ?", [g.into()]);
    }
    let state = match q.state.as_deref().unwrap_or("all") {
        "all" => None,
        "unread" => Some("r.read_at IS NULL AND r.acked_at IS NULL".to_string()),
        "unacked" => Some("r.acked_at IS NULL".to_string()),
        "acked" => Some("r.acked_at IS NOT NULL".to_string()),
        "unreachable" => Some("r.reach = 'none'".to_string()),
        "door" => Some(format!(
            "{NOT_DONE} AND (r.reach = 'none' OR r.reminded_at IS NOT NULL)"
        )),
        _ => {
            return Err(AppError::field(
                "state",
                Msg::new(
                    "state 应为 all、unread、unacked、acked、unreachable 或 door",
                    "state must be all, unread, unacked, acked, unreachable or door",
                ),
            ))
        }
    };
    if let Some(s) = state {
        w.and(&s, []);
    }
    let (cond, values) = w.build(1);
    let paging = Paging::new(q.page, q.page_size);
    let (rows, total): (Vec<ReceiptDb>, i64) = store::page(
        db,
        &format!(
            "SELECT COUNT(*) AS n FROM notice_receipts r JOIN notices n ON n.id = r.notice_id WHERE {cond}"
        ),
        &format!(
            "{RECEIPTS} JOIN notices n ON n.id = r.notice_id WHERE {cond} ORDER BY g.code, d.address, r.household_id"
        ),
        values,
        paging,
    )
    .await?;
    Ok(ReceiptPage::new(
        rows.into_iter().map(receipt_view).collect(),
        total,
        paging,
    ))
}
