//! The message hub's API: the caller's own inbox, and the templates an office may reword.
use axum::extract::State;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::registry::Page;
use super::J;
use crate::app::messages::sender::{self, ReportAnswer, SmsReport};
use crate::app::messages::{
    self, ChannelChoice, ChannelSwitch, DeliveryQuery, DeliveryRow, InboxItem, InboxQuery,
    TemplateView, TemplateWording, Unread,
};
use crate::app::AppState;
use crate::http::extract::{Auth, Json, Path, Query};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(inbox))
        .routes(routes!(unread))
        .routes(routes!(read_one))
        .routes(routes!(read_all))
        .routes(routes!(list_templates))
        .routes(routes!(save_template, reset_template))
        .routes(routes!(my_channels))
        .routes(routes!(set_my_channel))
        .routes(routes!(list_deliveries))
        .routes(routes!(sms_reports))
}

/// The channels the caller's messages come by, and whether each is on.
#[utoipa::path(get, path = "/api/v1/me/channels", tag = "messages", responses((status = 200, body = Vec<ChannelChoice>)))]
async fn my_channels(State(s): State<AppState>, Auth(ctx): Auth) -> J<Vec<ChannelChoice>> {
    Ok(axum::Json(
        messages::my_channels(&s.db, &ctx, &s.settings.channels).await?,
    ))
}

/// Turns SMS or the webhook off (or on again) for the caller's non-urgent messages; urgent ones
/// always come, and the inbox cannot be turned off.
#[utoipa::path(put, path = "/api/v1/me/channels/{channel}", tag = "messages", params(("channel" = String, Path)),
    request_body = ChannelSwitch, responses((status = 200, body = Vec<ChannelChoice>)))]
async fn set_my_channel(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(channel): Path<String>,
    Json(b): Json<ChannelSwitch>,
) -> J<Vec<ChannelChoice>> {
    Ok(axum::Json(
        messages::set_my_channel(&s.db, &ctx, &s.settings.channels, &channel, b).await?,
    ))
}

/// Deliveries by SMS and webhook with their state and the reason of a failure (`manage_system`).
#[utoipa::path(get, path = "/api/v1/message-deliveries", tag = "messages", params(DeliveryQuery),
    responses((status = 200, body = Page<DeliveryRow>)))]
async fn list_deliveries(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<DeliveryQuery>,
) -> J<Page<DeliveryRow>> {
    let (items, total) = messages::deliveries(&s.db, &ctx, &q).await?;
    let paging = crate::store::Paging::new(q.page, q.page_size);
    Ok(axum::Json(Page {
        items,
        total,
        page: paging.page,
        page_size: paging.size,
        more: false,
    }))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `GONGZHI_SMS_REPORT_TOKEN`, set in the provider's callback address.
    pub token: Option<String>,
}

/// Tencent Cloud SMS delivery reports (短信下发状态回调; no login: the token in the address is the
/// key). A sent message becomes delivered, or failed with the provider's reason.
#[utoipa::path(post, path = "/api/v1/channels/sms/tencent/reports", tag = "messages", params(ReportQuery),
    request_body = Vec<SmsReport>, security(()),
    responses((status = 200, body = ReportAnswer), (status = 403, description = "wrong or missing token")))]
async fn sms_reports(
    State(s): State<AppState>,
    Query(q): Query<ReportQuery>,
    Json(b): Json<Vec<SmsReport>>,
) -> J<ReportAnswer> {
    Ok(axum::Json(
        sender::sms_reports(&s, q.token.as_deref(), b).await?,
    ))
}

/// The caller's messages, newest first (`unread=true` for the unread ones).
#[utoipa::path(get, path = "/api/v1/me/messages", tag = "messages", params(InboxQuery),
    responses((status = 200, body = Page<InboxItem>)))]
async fn inbox(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<InboxQuery>,
) -> J<Page<InboxItem>> {
    let (items, total) = messages::inbox(&s.db, &ctx, &q).await?;
    let paging = crate::store::Paging::new(q.page, q.page_size);
    Ok(axum::Json(Page {
        items,
        total,
        page: paging.page,
        page_size: paging.size,
        more: false,
    }))
}

/// How many of the caller's messages are unread (the bell's badge).
#[utoipa::path(get, path = "/api/v1/me/messages/unread", tag = "messages", responses((status = 200, body = Unread)))]
async fn unread(State(s): State<AppState>, Auth(ctx): Auth) -> J<Unread> {
    Ok(axum::Json(messages::unread(&s.db, &ctx).await?))
}

/// Marks one of the caller's messages read (another's is 404); answers the unread count.
#[utoipa::path(post, path = "/api/v1/me/messages/{id}/read", tag = "messages", params(("id" = Uuid, Path)),
    responses((status = 200, body = Unread), (status = 404, description = "not the caller's message")))]
async fn read_one(State(s): State<AppState>, Auth(ctx): Auth, Path(id): Path<Uuid>) -> J<Unread> {
    Ok(axum::Json(messages::mark_read(&s.db, &ctx, id).await?))
}

/// Marks all of the caller's messages read.
#[utoipa::path(post, path = "/api/v1/me/messages/read-all", tag = "messages", responses((status = 200, body = Unread)))]
async fn read_all(State(s): State<AppState>, Auth(ctx): Auth) -> J<Unread> {
    Ok(axum::Json(messages::mark_all_read(&s.db, &ctx).await?))
}

/// Every message gongzhi sends, with its variables and the wording in use (`manage_system`).
#[utoipa::path(get, path = "/api/v1/message-templates", tag = "messages", responses((status = 200, body = Vec<TemplateView>)))]
async fn list_templates(State(s): State<AppState>, Auth(ctx): Auth) -> J<Vec<TemplateView>> {
    Ok(axum::Json(messages::templates(&s.db, &ctx).await?))
}

/// Rewords a message (both languages; only the template's `{variables}`; `manage_system`).
#[utoipa::path(put, path = "/api/v1/message-templates/{key}", tag = "messages", params(("key" = String, Path)),
    request_body = TemplateWording,
    responses((status = 200, body = TemplateView), (status = 409, description = "stale version")))]
async fn save_template(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(key): Path<String>,
    Json(w): Json<TemplateWording>,
) -> J<TemplateView> {
    Ok(axum::Json(
        messages::save_template(&s.db, &ctx, &key, w).await?,
    ))
}

/// Back to the shipped wording (`manage_system`).
#[utoipa::path(delete, path = "/api/v1/message-templates/{key}", tag = "messages", params(("key" = String, Path)),
    responses((status = 200, body = TemplateView)))]
async fn reset_template(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(key): Path<String>,
) -> J<TemplateView> {
    Ok(axum::Json(
        messages::reset_template(&s.db, &ctx, &key).await?,
    ))
}
