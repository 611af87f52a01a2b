//! 通知公告 with receipts: publishing, coverage by grid, reminders, the door-to-door list, and
//! the caller's own notices (app/notices.rs).
use axum::extract::State;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{created, Created, J};
use crate::app::notices::{
    self, Ack, MyNotice, MyNoticePage, MyQuery, NewNotice, NoticeDetail, NoticePage, NoticeQuery,
    ReceiptPage, ReceiptQuery, ReceiptRow, Reminded, VisitAck, Withdrawal,
};
use crate::app::AppState;
use crate::http::extract::{Auth, Json, Path, Query};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, publish))
        .routes(routes!(get))
        .routes(routes!(households))
        .routes(routes!(remind))
        .routes(routes!(ack_visit))
        .routes(routes!(withdraw))
        .routes(routes!(my_list))
        .routes(routes!(my_open))
        .routes(routes!(my_ack))
}

/// Notices at, above or below the caller's areas (or `area_id`), newest first, each with its
/// coverage over the caller's part.
#[utoipa::path(get, path = "/api/v1/notices", tag = "notices", params(NoticeQuery),
    responses((status = 200, body = NoticePage)))]
async fn list(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<NoticeQuery>,
) -> J<NoticePage> {
    Ok(axum::Json(notices::list(&s.db, &ctx, &q).await?))
}

/// Publishes a notice to the households under an area (all, those with some registry tags, or
/// a list) and to staff roles (`send_notices` at the area). Receipts and messages are written
/// with it.
#[utoipa::path(post, path = "/api/v1/notices", tag = "notices", request_body = NewNotice,
    responses((status = 201, body = NoticeDetail)))]
async fn publish(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(n): Json<NewNotice>,
) -> Created<NoticeDetail> {
    created(
        notices::publish(
            &s.db,
            &ctx,
            n,
            s.settings.channels.sms_for("notice.published"),
        )
        .await?,
    )
}

/// A notice with its coverage, overall and by grid (the caller's part).
#[utoipa::path(get, path = "/api/v1/notices/{id}", tag = "notices", params(("id" = Uuid, Path)),
    responses((status = 200, body = NoticeDetail)))]
async fn get(State(s): State<AppState>, Auth(ctx): Auth, Path(id): Path<Uuid>) -> J<NoticeDetail> {
    Ok(axum::Json(notices::detail(&s.db, &ctx, id).await?))
}

/// The addressed households (the caller's part) with their receipts; `state=door` is the
/// door-to-door list.
#[utoipa::path(get, path = "/api/v1/notices/{id}/households", tag = "notices",
    params(("id" = Uuid, Path), ReceiptQuery), responses((status = 200, body = ReceiptPage)))]
async fn households(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Query(q): Query<ReceiptQuery>,
) -> J<ReceiptPage> {
    Ok(axum::Json(notices::receipts(&s.db, &ctx, id, &q).await?))
}

/// Reminds those not yet done (at most once an hour: 409 `notices.remind_too_soon`).
#[utoipa::path(post, path = "/api/v1/notices/{id}/remind", tag = "notices", params(("id" = Uuid, Path)),
    responses((status = 200, body = Reminded)))]
async fn remind(State(s): State<AppState>, Auth(ctx): Auth, Path(id): Path<Uuid>) -> J<Reminded> {
    Ok(axum::Json(
        notices::remind(
            &s.db,
            &ctx,
            id,
            s.settings.channels.sms_for("notice.reminder"),
        )
        .await?,
    ))
}

/// Records that a household was told in person, with its answer (`edit_registry` at the
/// household).
#[utoipa::path(post, path = "/api/v1/notices/{id}/households/{household_id}/ack", tag = "notices",
    params(("id" = Uuid, Path), ("household_id" = Uuid, Path)), request_body = VisitAck,
    responses((status = 200, body = ReceiptRow)))]
async fn ack_visit(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path((id, household_id)): Path<(Uuid, Uuid)>,
    Json(a): Json<VisitAck>,
) -> J<ReceiptRow> {
    Ok(axum::Json(
        notices::ack_visit(&s.db, &ctx, id, household_id, a).await?,
    ))
}

/// Withdraws a notice with a reason; residents no longer see it.
#[utoipa::path(post, path = "/api/v1/notices/{id}/withdraw", tag = "notices", params(("id" = Uuid, Path)),
    request_body = Withdrawal, responses((status = 200, body = NoticeDetail)))]
async fn withdraw(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(w): Json<Withdrawal>,
) -> J<NoticeDetail> {
    Ok(axum::Json(notices::withdraw(&s.db, &ctx, id, w).await?))
}

/// The notices addressed to the caller (their household, or their role), with unread and
/// to-acknowledge counts.
#[utoipa::path(get, path = "/api/v1/me/notices", tag = "notices", params(MyQuery),
    responses((status = 200, body = MyNoticePage)))]
async fn my_list(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<MyQuery>,
) -> J<MyNoticePage> {
    Ok(axum::Json(notices::my_list(&s.db, &ctx, &q).await?))
}

/// Opens one of the caller's notices (the first opening is the read receipt).
#[utoipa::path(get, path = "/api/v1/me/notices/{id}", tag = "notices", params(("id" = Uuid, Path)),
    responses((status = 200, body = MyNotice)))]
async fn my_open(State(s): State<AppState>, Auth(ctx): Auth, Path(id): Path<Uuid>) -> J<MyNotice> {
    Ok(axum::Json(notices::my_open(&s.db, &ctx, id).await?))
}

/// 确认收到, with the form's answer for the caller's household.
#[utoipa::path(post, path = "/api/v1/me/notices/{id}/ack", tag = "notices", params(("id" = Uuid, Path)),
    request_body = Ack, responses((status = 200, body = MyNotice)))]
async fn my_ack(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(a): Json<Ack>,
) -> J<MyNotice> {
    Ok(axum::Json(notices::my_ack(&s.db, &ctx, id, a).await?))
}
