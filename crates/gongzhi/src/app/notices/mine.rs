//! The caller's own notices: the list with its counts, opening one (the read receipt), and the
//! acknowledgement with the form's answer.
use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, FromQueryResult, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::act::*;
use super::*;
use crate::app::Ctx;
use crate::domain::{ms_to_rfc3339, now_ms};
use crate::error::{AppError, AppResult};
use crate::store::{self, Db, Paging};

#[derive(Debug, Serialize, ToSchema)]
pub struct MyNotice {
    pub id: Uuid,
    pub title: String,
    pub body: String,
    pub area_name: String,
    pub author_name: String,
    pub created_at: String,
    pub urgent: bool,
    pub requires_ack: bool,
    pub form: Vec<FormField>,
    pub read_at: Option<String>,
    /// When the caller's household (or, for staff, the caller) acknowledged it.
    pub acked_at: Option<String>,
    pub acked_by: Option<String>,
    pub answer: Option<BTreeMap<String, String>>,
}

#[derive(FromQueryResult)]
pub(super) struct MineDb {
    id: Uuid,
    title: String,
    body: String,
    area_name: String,
    author_name: String,
    created_at: i64,
    urgent: bool,
    requires_ack: bool,
    form: String,
    status: String,
    household_id: Option<Uuid>,
    read_at: Option<i64>,
    acked_at: Option<i64>,
    acked_by: Option<String>,
    answer: Option<String>,
}

pub(super) const MINE: &str = "SELECT n.id, n.title, n.body, a.name AS area_name, n.author_name, n.created_at, n.urgent, \
     n.requires_ack, n.form, n.status, p.household_id, p.read_at, COALESCE(r.acked_at, p.acked_at) AS acked_at, \
     r.acked_by, r.answer \
     FROM notice_people p JOIN notices n ON n.id = p.notice_id JOIN areas a ON a.id = n.area_id \
     LEFT JOIN notice_receipts r ON r.notice_id = p.notice_id AND r.household_id = p.household_id";

pub(super) fn mine_view(m: MineDb) -> MyNotice {
    MyNotice {
        id: m.id,
        title: m.title,
        body: m.body,
        area_name: m.area_name,
        author_name: m.author_name,
        created_at: ms_to_rfc3339(m.created_at),
        urgent: m.urgent,
        requires_ack: m.requires_ack,
        form: form_of(&m.form),
        read_at: m.read_at.map(ms_to_rfc3339),
        acked_at: m.acked_at.map(ms_to_rfc3339),
        acked_by: m.acked_by,
        answer: m.answer.and_then(|a| serde_json::from_str(&a).ok()),
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MyQuery {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyNoticePage {
    pub items: Vec<MyNotice>,
    pub total: i64,
    /// Not yet opened.
    pub unread: i64,
    /// Asking for an acknowledgement not yet given.
    pub to_ack: i64,
    /// Unread or to acknowledge (the home page's to-do).
    pub waiting: i64,
    pub page: u64,
    pub page_size: u64,
}

#[tracing::instrument(name = "notices::mine::my_list", skip_all)]
pub async fn my_list(db: &Db, ctx: &Ctx, q: &MyQuery) -> AppResult<MyNoticePage> {
    let user = ctx.own_user()?;
    let paging = Paging::new(q.page, q.page_size);
    let (rows, total): (Vec<MineDb>, i64) = store::page(
        db,
        "SELECT COUNT(*) AS n FROM notice_people p JOIN notices n ON n.id = p.notice_id \
         WHERE p.user_id = $1 AND n.status = 'published'",
        &format!(
            "{MINE} WHERE p.user_id = $1 AND n.status = 'published' ORDER BY n.created_at DESC, n.id"
        ),
        vec![user.into()],
        paging,
    )
    .await?;
    let (unread, to_ack, waiting) = my_counts(db, user).await?;
    Ok(MyNoticePage {
        items: rows.into_iter().map(mine_view).collect(),
        total,
        unread,
        to_ack,
        waiting,
        page: paging.page,
        page_size: paging.size,
    })
}

/// (unread, to acknowledge, either) for the caller: the same rows the list shows.
#[tracing::instrument(name = "notices::mine::my_counts", skip_all)]
pub async fn my_counts<C: ConnectionTrait>(c: &C, user: Uuid) -> AppResult<(i64, i64, i64)> {
    #[derive(FromQueryResult)]
    struct N {
        unread: i64,
        to_ack: i64,
        waiting: i64,
    }
    let n: Option<N> = store::fetch_opt(
        c,
        "SELECT COUNT(CASE WHEN p.read_at IS NULL THEN 1 END) AS unread, \
         COUNT(CASE WHEN n.requires_ack AND p.acked_at IS NULL AND r.acked_at IS NULL THEN 1 END) AS to_ack, \
         COUNT(CASE WHEN p.read_at IS NULL OR (n.requires_ack AND p.acked_at IS NULL AND r.acked_at IS NULL) \
         THEN 1 END) AS waiting \
         FROM notice_people p JOIN notices n ON n.id = p.notice_id \
         LEFT JOIN notice_receipts r ON r.notice_id = p.notice_id AND r.household_id = p.household_id \
         WHERE p.user_id = $1 AND n.status = 'published'",
        vec![user.into()],
    )
    .await?;
    Ok(n.map(|n| (n.unread, n.to_ack, n.waiting))
        .unwrap_or((0, 0, 0)))
}

pub(super) async fn mine<C: ConnectionTrait>(c: &C, user: Uuid, id: Uuid) -> AppResult<MineDb> {
    let m: MineDb = store::fetch_found(
        c,
        &format!("{MINE} WHERE p.user_id = $1 AND p.notice_id = $2"),
        vec![user.into(), id.into()],
    )
    .await?;
    if m.status != "published" {
        return Err(AppError::NotFound);
    }
    Ok(m)
}

/// Opens one of the caller's notices: the first opening is the person's read, and the
/// household's.
#[tracing::instrument(name = "notices::mine::my_open", skip_all)]
pub async fn my_open(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<MyNotice> {
    let user = ctx.own_user()?;
    let m = mine(db, user, id).await?;
    if m.read_at.is_none() {
        let now = now_ms();
        let tx = db.begin().await?;
        store::exec(
            &tx,
            "UPDATE notice_people SET read_at = $3 WHERE notice_id = $1 AND user_id = $2 AND read_at IS NULL",
            vec![id.into(), user.into(), now.into()],
        )
        .await?;
        if let Some(h) = m.household_id {
            store::exec(
                &tx,
                "UPDATE notice_receipts SET read_at = $3 WHERE notice_id = $1 AND household_id = $2 AND read_at IS NULL",
                vec![id.into(), h.into(), now.into()],
            )
            .await?;
        }
        tx.commit().await?;
    }
    Ok(mine_view(mine(db, user, id).await?))
}

/// 确认收到, with the form's answer for the household. The household's first acknowledgement
/// stands (a second member, or the same tap twice, changes nothing).
#[tracing::instrument(name = "notices::mine::my_ack", skip_all)]
pub async fn my_ack(db: &Db, ctx: &Ctx, id: Uuid, a: Ack) -> AppResult<MyNotice> {
    let user = ctx.own_user()?;
    let m = mine(db, user, id).await?;
    let answer = check_answer(&form_of(&m.form), &a.answer)?;
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "UPDATE notice_people SET acked_at = $3, read_at = COALESCE(read_at, $3) \
         WHERE notice_id = $1 AND user_id = $2 AND acked_at IS NULL",
        vec![id.into(), user.into(), now.into()],
    )
    .await?;
    if let Some(h) = m.household_id {
        ack_household(&tx, id, h, "app", &ctx.principal.display_name, answer, now).await?;
    }
    tx.commit().await?;
    Ok(mine_view(mine(db, user, id).await?))
}
