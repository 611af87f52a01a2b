//! The message hub (decision 0016): one way for every capability to tell a person something.
//!
//! A capability calls [`enqueue`] inside the transaction of the event that causes the message
//! (a case dispatched, returned, urged, summoned, closed): the message and one delivery per
//! recipient and channel are written with the event or not at all (the outbox), once per
//! `dedup_key`. The in-app inbox is always on and delivered at once; channels that leave the
//! server (SMS, WeCom, e-mail, webhooks) take their queued rows from the same table through a
//! background sender. What a message says comes from its template — data, in Chinese and
//! English, checked when saved — rendered in the reader's language when it is read or sent, so
//! an office's new wording applies to what is still unread.
use std::collections::{BTreeSet, HashMap};

pub mod aliyun;
pub mod channels;
pub mod email;
pub mod sender;
pub mod wecom;

use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::Entry;
use super::{scope, Ctx};
use crate::domain::role::Permission;
use crate::domain::{ms_to_rfc3339, new_id, now_ms};
use crate::error::{AppError, AppResult, FieldErrors, Lang, Msg};
use crate::store::{self, Db, Paging};

/// A kind of message: its key, the variables its text may use, and the wording it ships with.
pub struct Template {
    pub key: &'static str,
    pub about_zh: &'static str,
    pub about_en: &'static str,
    pub vars: &'static [&'static str],
    pub title_zh: &'static str,
    pub body_zh: &'static str,
    pub title_en: &'static str,
    pub body_en: &'static str,
}

/// Every message gongzhi sends. A new event adds a row here and calls [`enqueue`].
pub const TEMPLATES: &[Template] = &[
    Template {
        key: "case.dispatched",
        about_zh: "诉求派给本单位（派单、改派、仲裁、退回后重派）",
        about_en: "A case dispatched to your unit (dispatch, arbitration, re-dispatch)",
        vars: &["no", "category", "title", "due", "street"],
        title_zh: "新派单 {no}",
        body_zh: "{street}派来一件{category}诉求：{title}。请于 {due} 前响应。",
        title_en: "New case {no}",
        body_en: "{street} dispatched a {category} case to your unit: {title}. Respond by {due}.",
    },
    Template {
        key: "case.returned",
        about_zh: "承办单位退回诉求，等待街道重新派遣",
        about_en: "A unit returned a case to the street's desk",
        vars: &["no", "unit", "note", "title"],
        title_zh: "诉求被退回 {no}",
        body_zh: "{unit}退回了诉求「{title}」，理由：{note}。请重新派遣。",
        title_en: "Case {no} returned",
        body_en: "{unit} returned the case \"{title}\": {note}. Please dispatch it again.",
    },
    Template {
        key: "case.supervised",
        about_zh: "街道对本单位承办的诉求督办",
        about_en: "The street urges your unit on a case (督办)",
        vars: &["no", "title", "note", "due"],
        title_zh: "督办 {no}",
        body_zh: "诉求「{title}」被督办：{note}。办理期限 {due}。",
        title_en: "Urged: case {no}",
        body_en: "The case \"{title}\" is urged: {note}. Due {due}.",
    },
    Template {
        key: "case.whistle",
        about_zh: "街道吹哨，本单位须在时限内报到",
        about_en: "The street blows the whistle: your unit reports in",
        vars: &["no", "title", "minutes"],
        title_zh: "吹哨报到 {no}",
        body_zh: "街道就「{title}」吹哨，请在 {minutes} 分钟内到场报到。",
        title_en: "Whistle: case {no}",
        body_en: "The street blew the whistle on \"{title}\": report in within {minutes} minutes.",
    },
    Template {
        key: "case.due_soon",
        about_zh: "本单位承办的诉求临近办理期限",
        about_en: "A case of your unit is near its deadline",
        vars: &["no", "title", "due"],
        title_zh: "即将超期 {no}",
        body_zh: "诉求「{title}」将于 {due} 到期，请抓紧办理。",
        title_en: "Due soon: case {no}",
        body_en: "The case \"{title}\" is due {due}. Please finish it.",
    },
    Template {
        key: "case.overdue",
        about_zh: "诉求已超期（告知承办单位和街道）",
        about_en: "A case is overdue (the unit and the street's desk)",
        vars: &["no", "title", "due", "unit"],
        title_zh: "已超期 {no}",
        body_zh: "{unit}承办的诉求「{title}」已于 {due} 超期。",
        title_en: "Overdue: case {no}",
        body_en: "The case \"{title}\" handled by {unit} was due {due}.",
    },
    Template {
        key: "case.rate",
        about_zh: "您提交的诉求已办理并核实，请评价",
        about_en: "A case you submitted was handled and checked; rate it",
        vars: &["no", "title", "rate_link"],
        title_zh: "请评价 {no}",
        body_zh: "您反映的「{title}」已办理完毕。请打开 {rate_link} 评价办理结果。",
        title_en: "Rate case {no}",
        body_en: "Your case \"{title}\" has been handled. Rate it at {rate_link}.",
    },
    Template {
        key: "activity.signed_up",
        about_zh: "志愿者报名（或被安排）参加活动成功",
        about_en: "A volunteer is signed up for an activity",
        vars: &["title", "starts", "place"],
        title_zh: "报名成功：{title}",
        body_zh: "您已报名「{title}」，{starts} 在 {place}，请准时参加。",
        title_en: "Signed up: {title}",
        body_en: "You are signed up for \"{title}\" at {place}, {starts}. Please be on time.",
    },
    Template {
        key: "activity.reminder",
        about_zh: "报名的活动将在一天内开始",
        about_en: "An activity you signed up for starts within a day",
        vars: &["title", "starts", "place"],
        title_zh: "活动提醒：{title}",
        body_zh: "您报名的「{title}」将于 {starts} 在 {place} 开始，请准时参加；如不能参加请提前取消报名。",
        title_en: "Reminder: {title}",
        body_en: "\"{title}\" starts at {place}, {starts}. If you cannot come, withdraw your sign-up in time.",
    },
    Template {
        key: "activity.hours_confirmed",
        about_zh: "活动工时已确认，积分已到账",
        about_en: "An activity's hours are confirmed and the points posted",
        vars: &["title"],
        title_zh: "工时已确认：{title}",
        body_zh: "您参加「{title}」的服务工时已确认，积分已记入您的账户。",
        title_en: "Hours confirmed: {title}",
        body_en: "Your hours at \"{title}\" are confirmed and the points are in your account.",
    },
    Template {
        key: "points.posted",
        about_zh: "工作人员为您手工记分或扣分",
        about_en: "A worker posted points to or deducted points from your account",
        vars: &["amount", "note", "balance"],
        title_zh: "积分变动 {amount}",
        body_zh: "您的积分账户变动 {amount} 分（{note}），当前余额 {balance} 分。",
        title_en: "Points {amount}",
        body_en: "Your points account changed by {amount} ({note}); the balance is {balance}.",
    },
    Template {
        key: "signup.code",
        about_zh: "居民注册的短信验证码（仅短信）",
        about_en: "The SMS code of a resident's sign-up (SMS only)",
        vars: &["code", "minutes"],
        title_zh: "注册验证码",
        body_zh: "您的注册验证码为 {code}，{minutes} 分钟内有效。请勿告诉他人。",
        title_en: "Sign-up code",
        body_en: "Your sign-up code is {code}, valid for {minutes} minutes. Do not share it.",
    },
    Template {
        key: "claim.confirmed",
        about_zh: "社区已核实居民认领的住户信息",
        about_en: "The community confirmed a resident's claim of their record",
        vars: &["community"],
        title_zh: "住户信息已关联",
        body_zh: "{community}已核实您的身份，您的账号已关联住户信息，今后的通知将直接发给您。",
        title_en: "Your record is linked",
        body_en: "{community} confirmed who you are; your account is linked to your household and notices now reach you here.",
    },
    Template {
        key: "visit.due",
        about_zh: "网格员每日走访提醒：待走访核实的户数",
        about_en: "A grid worker's daily reminder: households due a visit",
        vars: &["count"],
        title_zh: "今日待走访 {count} 户",
        body_zh: "您负责的网格有 {count} 户超过核实周期，请安排走访核实。",
        title_en: "{count} households due a visit",
        body_en: "{count} households of your grids are past their check; plan your visits.",
    },
    Template {
        key: "party.report_in_due",
        about_zh: "在职党员报到提醒（每周一次）",
        about_en: "A party member's weekly reminder to report in",
        vars: &["community"],
        title_zh: "请到社区报到",
        body_zh: "您的在职党员社区报到尚未完成或已过期，请到{community}报到并参加服务。",
        title_en: "Please report in",
        body_en: "Your report-in as a party member in service is missing or expired; please report in to {community}.",
    },
    Template {
        key: "notice.published",
        about_zh: "发给您或您家的通知公告",
        about_en: "A notice to you or your household",
        vars: &["title", "area"],
        title_zh: "通知：{title}",
        body_zh: "{area}发布了通知「{title}」，请打开查看；如需回执，请点击“确认收到”。",
        title_en: "Notice: {title}",
        body_en: "{area} published the notice \"{title}\". Open it; if it asks, tap \"Acknowledge\".",
    },
    Template {
        key: "notice.reminder",
        about_zh: "尚未阅读或确认的通知提醒",
        about_en: "A reminder of a notice not yet read or acknowledged",
        vars: &["title", "area"],
        title_zh: "提醒：请查看通知「{title}」",
        body_zh: "{area}的通知「{title}」您尚未查看或确认，请打开查看。",
        title_en: "Reminder: notice \"{title}\"",
        body_en: "You have not yet read or acknowledged the notice \"{title}\" from {area}.",
    },
    Template {
        key: "question.asked",
        about_zh: "居民提出了问题，请在期限内答复",
        about_en: "A resident asked a question; answer it in time",
        vars: &["no", "title", "community", "due"],
        title_zh: "居民提问 {no}",
        body_zh: "{community}居民提问「{title}」，请于 {due} 前答复。",
        title_en: "Question {no}",
        body_en: "A resident of {community} asked \"{title}\". Answer by {due}.",
    },
    Template {
        key: "question.routed",
        about_zh: "居民问题转给您的单位答复",
        about_en: "A resident's question was passed to your unit",
        vars: &["no", "title", "community", "due", "note"],
        title_zh: "转来的居民提问 {no}",
        body_zh: "{community}居民的提问「{title}」已转给您的单位，请于 {due} 前答复。转办说明：{note}",
        title_en: "Question {no} passed to you",
        body_en: "The question \"{title}\" from {community} was passed to your unit. Answer by {due}. Note: {note}",
    },
    Template {
        key: "question.overdue",
        about_zh: "居民提问已超过答复期限",
        about_en: "A resident's question is past its answer deadline",
        vars: &["no", "title", "community"],
        title_zh: "提问超期未答复 {no}",
        body_zh: "{community}居民的提问「{title}」已超过答复期限，请尽快答复。",
        title_en: "Question {no} overdue",
        body_en: "The question \"{title}\" from {community} is past its deadline. Please answer it.",
    },
    Template {
        key: "question.answered",
        about_zh: "您的提问有了答复",
        about_en: "Your question was answered",
        vars: &["title"],
        title_zh: "您的提问已答复",
        body_zh: "您提出的「{title}」已有答复，请打开查看。",
        title_en: "Your question was answered",
        body_en: "Your question \"{title}\" has an answer. Open it to read.",
    },
    Template {
        key: "question.declined",
        about_zh: "您的提问未被受理及原因",
        about_en: "Your question was declined, and why",
        vars: &["title", "reason"],
        title_zh: "您的提问未受理",
        body_zh: "您提出的「{title}」未受理：{reason}",
        title_en: "Your question was declined",
        body_en: "Your question \"{title}\" was declined: {reason}",
    },
    Template {
        key: "case.closed",
        about_zh: "您提交的诉求已办结，请评价",
        about_en: "A case you submitted is closed; rate it",
        vars: &["no", "title"],
        title_zh: "诉求已办结 {no}",
        body_zh: "您反映的「{title}」已办结。欢迎对办理结果进行评价。",
        title_en: "Case {no} closed",
        body_en: "Your case \"{title}\" is closed. Please rate how it was handled.",
    },
];

pub fn template(key: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.key == key)
}

/// A message to write with the event that causes it.
pub struct Outgoing {
    pub key: &'static str,
    /// The same key twice is one message (a retried request, two instances).
    pub dedup: String,
    pub urgent: bool,
    pub area_id: Option<Uuid>,
    /// The console path that opens what the message is about.
    pub link: Option<String>,
    pub vars: serde_json::Map<String, serde_json::Value>,
    pub recipients: Vec<Uuid>,
}

/// Writes the message and its deliveries in the caller's transaction. Recipients that are not
/// active users are skipped; nobody is told twice. Returns how many deliveries were written (0
/// when the message was already written under this `dedup`).
#[tracing::instrument(name = "messages::enqueue", skip_all)]
pub async fn enqueue<C: ConnectionTrait>(c: &C, m: Outgoing) -> AppResult<u64> {
    debug_assert!(template(m.key).is_some(), "unknown message {}", m.key);
    // With nobody to tell, the message is still written: its dedup key records that the event
    // was handled (a reminder is not looked at again).
    let recipients: BTreeSet<Uuid> = m.recipients.iter().copied().collect();
    let id = new_id();
    let now = now_ms();
    let inserted = store::exec(
        c,
        "INSERT INTO messages (id, template_key, dedup_key, urgent, area_id, link, vars, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (dedup_key) DO NOTHING",
        vec![
            id.into(),
            m.key.into(),
            m.dedup.clone().into(),
            m.urgent.into(),
            m.area_id.into(),
            m.link.clone().into(),
            serde_json::Value::Object(m.vars).to_string().into(),
            now.into(),
        ],
    )
    .await?;
    if inserted == 0 || recipients.is_empty() {
        return Ok(0);
    }
    // Only active users; the inbox is always on and delivered at once. Batched: an activity's
    // confirmation tells thousands of volunteers in its own transaction.
    #[derive(FromQueryResult)]
    struct Active {
        id: Uuid,
    }
    let all: Vec<Uuid> = recipients.into_iter().collect();
    let mut rows: Vec<Vec<sea_orm::Value>> = vec![];
    for chunk in all.chunks(500) {
        let active: Vec<Active> = store::fetch_all(
            c,
            &format!(
                "SELECT id FROM users WHERE disabled = FALSE AND id IN ({})",
                store::placeholders(1, chunk.len())
            ),
            chunk.iter().map(|u| (*u).into()).collect(),
        )
        .await?;
        rows.extend(active.into_iter().map(|a| {
            vec![
                new_id().into(),
                id.into(),
                a.id.into(),
                "inbox".into(),
                "delivered".into(),
                1i32.into(),
                now.into(),
                now.into(),
            ]
        }));
    }
    let written = store::insert_many(
        c,
        "message_deliveries",
        &[
            "id",
            "message_id",
            "user_id",
            "channel",
            "state",
            "attempts",
            "sent_at",
            "created_at",
        ],
        rows,
    )
    .await?;
    Ok(written)
}

/// 消息保存期限: removes the messages older than `days` with their deliveries, a batch at a time
/// (so a sweep never holds a long lock). Returns how many messages went.
#[tracing::instrument(name = "messages::sweep", skip_all)]
pub async fn sweep(db: &Db, days: u32) -> AppResult<u64> {
    let cutoff = now_ms() - i64::from(days) * 86_400_000;
    let mut removed = 0;
    loop {
        #[derive(FromQueryResult)]
        struct M {
            id: Uuid,
        }
        let old: Vec<M> = store::fetch_all(
            db,
            "SELECT id FROM messages WHERE created_at < $1 ORDER BY created_at LIMIT 500",
            vec![cutoff.into()],
        )
        .await?;
        if old.is_empty() {
            break;
        }
        let ids: Vec<sea_orm::Value> = old.iter().map(|m| m.id.into()).collect();
        let marks = store::placeholders(1, ids.len());
        let tx = store::write_tx(db).await?;
        store::exec(
            &tx,
            &format!("DELETE FROM message_deliveries WHERE message_id IN ({marks})"),
            ids.clone(),
        )
        .await?;
        removed += store::exec(
            &tx,
            &format!("DELETE FROM messages WHERE id IN ({marks})"),
            ids,
        )
        .await?;
        tx.commit().await?;
    }
    Ok(removed)
}

/// `{name}` → the variable's value; an unknown name stays as written.
pub fn fill(text: &str, vars: &serde_json::Map<String, serde_json::Value>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after.find('}') {
            Some(j)
                if after[..j]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                let name = &after[..j];
                match vars.get(name) {
                    Some(serde_json::Value::String(s)) => out.push_str(s),
                    Some(serde_json::Value::Null) | None => out.push_str(&rest[i..i + j + 2]),
                    Some(v) => out.push_str(&v.to_string()),
                }
                rest = &after[j + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `{names}` a text uses.
fn names_in(text: &str) -> Vec<String> {
    let mut out = vec![];
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        let after = &rest[i + 1..];
        let Some(j) = after.find('}') else { break };
        out.push(after[..j].to_string());
        rest = &after[j + 1..];
    }
    out
}

/// An office's own wording of a template.
#[derive(Debug, Clone, FromQueryResult)]
struct Wording {
    template_key: String,
    title_zh: String,
    body_zh: String,
    title_en: String,
    body_en: String,
    version: i32,
    updated_at: i64,
    updated_by: String,
}

async fn wordings<C: ConnectionTrait>(c: &C) -> AppResult<HashMap<String, Wording>> {
    let rows: Vec<Wording> = store::fetch_all(
        c,
        "SELECT template_key, title_zh, body_zh, title_en, body_en, version, updated_at, updated_by FROM message_templates",
        vec![],
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|w| (w.template_key.clone(), w))
        .collect())
}

/// Title and body of a message in `lang`, with the office's wording where it has one.
fn render(
    key: &str,
    vars: &serde_json::Map<String, serde_json::Value>,
    lang: Lang,
    own: Option<&Wording>,
) -> (String, String) {
    let Some(t) = template(key) else {
        return (key.to_string(), String::new());
    };
    let (title, body) = match (lang, own) {
        (Lang::Zh, Some(w)) => (w.title_zh.as_str(), w.body_zh.as_str()),
        (Lang::En, Some(w)) => (w.title_en.as_str(), w.body_en.as_str()),
        (Lang::Zh, None) => (t.title_zh, t.body_zh),
        (Lang::En, None) => (t.title_en, t.body_en),
    };
    (fill(title, vars), fill(body, vars))
}

// --- The inbox ---

#[derive(Debug, Serialize, ToSchema)]
pub struct InboxItem {
    /// The delivery's id (what `POST /me/messages/{id}/read` takes).
    pub id: Uuid,
    /// The template: case.dispatched, case.returned, …
    pub kind: String,
    pub title: String,
    pub body: String,
    /// The console path that opens what it is about.
    pub link: Option<String>,
    pub urgent: bool,
    pub created_at: String,
    pub read_at: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// Only unread messages.
    pub unread: Option<bool>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

#[derive(FromQueryResult)]
struct InboxRow {
    id: Uuid,
    template_key: String,
    vars: String,
    link: Option<String>,
    urgent: bool,
    created_at: i64,
    read_at: Option<i64>,
}

/// The caller's own inbox, newest first (an API token has none).
#[tracing::instrument(name = "messages::inbox", skip_all)]
pub async fn inbox(db: &Db, ctx: &Ctx, q: &InboxQuery) -> AppResult<(Vec<InboxItem>, i64)> {
    let Some(user) = ctx.principal.user_id else {
        return Ok((vec![], 0));
    };
    let unread = if q.unread.unwrap_or(false) {
        " AND d.read_at IS NULL"
    } else {
        ""
    };
    let from = format!(
        "FROM message_deliveries d JOIN messages m ON m.id = d.message_id \
         WHERE d.user_id = $1 AND d.channel = 'inbox'{unread}"
    );
    let (rows, total): (Vec<InboxRow>, i64) = store::page(
        db,
        &format!("SELECT COUNT(*) {from}"),
        &format!(
            "SELECT d.id, m.template_key, m.vars, m.link, m.urgent, d.created_at, d.read_at {from} \
             ORDER BY d.created_at DESC, d.id DESC"
        ),
        vec![user.into()],
        Paging::new(q.page, q.page_size),
    )
    .await?;
    let own = wordings(db).await?;
    let items = rows
        .into_iter()
        .map(|r| {
            let vars = serde_json::from_str::<serde_json::Value>(&r.vars)
                .ok()
                .and_then(|v| v.as_object().cloned())
                .unwrap_or_default();
            let (title, body) = render(&r.template_key, &vars, ctx.lang, own.get(&r.template_key));
            InboxItem {
                id: r.id,
                kind: r.template_key,
                title,
                body,
                link: r.link,
                urgent: r.urgent,
                created_at: ms_to_rfc3339(r.created_at),
                read_at: r.read_at.map(ms_to_rfc3339),
            }
        })
        .collect();
    Ok((items, total))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Unread {
    pub unread: i64,
}

#[tracing::instrument(name = "messages::unread", skip_all)]
pub async fn unread(db: &Db, ctx: &Ctx) -> AppResult<Unread> {
    let Some(user) = ctx.principal.user_id else {
        return Ok(Unread { unread: 0 });
    };
    Ok(Unread {
        unread: store::fetch_i64(
            db,
            "SELECT COUNT(*) FROM message_deliveries WHERE user_id = $1 AND channel = 'inbox' AND read_at IS NULL",
            vec![user.into()],
        )
        .await?,
    })
}

/// Marks one of the caller's messages read (another's is 404); reading twice keeps the first time.
#[tracing::instrument(name = "messages::mark_read", skip_all)]
pub async fn mark_read(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<Unread> {
    let user = ctx.own_user()?;
    let mine = store::fetch_i64(
        db,
        "SELECT COUNT(*) FROM message_deliveries WHERE id = $1 AND user_id = $2 AND channel = 'inbox'",
        vec![id.into(), user.into()],
    )
    .await?;
    if mine == 0 {
        return Err(AppError::NotFound);
    }
    store::exec(
        db,
        "UPDATE message_deliveries SET read_at = $1, state = 'read' WHERE id = $2 AND user_id = $3 AND read_at IS NULL",
        vec![now_ms().into(), id.into(), user.into()],
    )
    .await?;
    unread(db, ctx).await
}

/// Marks all of the caller's messages read.
#[tracing::instrument(name = "messages::mark_all_read", skip_all)]
pub async fn mark_all_read(db: &Db, ctx: &Ctx) -> AppResult<Unread> {
    if let Some(user) = ctx.principal.user_id {
        store::exec(
            db,
            "UPDATE message_deliveries SET read_at = $1, state = 'read' WHERE user_id = $2 AND channel = 'inbox' AND read_at IS NULL",
            vec![now_ms().into(), user.into()],
        )
        .await?;
    }
    unread(db, ctx).await
}

// --- Templates as data ---

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateView {
    pub key: &'static str,
    pub about_zh: &'static str,
    pub about_en: &'static str,
    /// The variables its text may use, as `{name}`.
    pub vars: &'static [&'static str],
    pub title_zh: String,
    pub body_zh: String,
    pub title_en: String,
    pub body_en: String,
    /// Whether the office changed the shipped wording.
    pub customised: bool,
    /// 0 while the shipped wording is used; give it back when saving.
    pub version: i32,
    pub updated_at: Option<String>,
    pub updated_by: Option<String>,
}

fn view(t: &'static Template, own: Option<&Wording>) -> TemplateView {
    TemplateView {
        key: t.key,
        about_zh: t.about_zh,
        about_en: t.about_en,
        vars: t.vars,
        title_zh: own.map_or(t.title_zh.to_string(), |w| w.title_zh.clone()),
        body_zh: own.map_or(t.body_zh.to_string(), |w| w.body_zh.clone()),
        title_en: own.map_or(t.title_en.to_string(), |w| w.title_en.clone()),
        body_en: own.map_or(t.body_en.to_string(), |w| w.body_en.clone()),
        customised: own.is_some(),
        version: own.map_or(0, |w| w.version),
        updated_at: own.map(|w| ms_to_rfc3339(w.updated_at)),
        updated_by: own.map(|w| w.updated_by.clone()),
    }
}

fn require_manage(ctx: &Ctx) -> AppResult<scope::Checked> {
    scope::require_any(ctx, Permission::ManageSystem)
}

#[tracing::instrument(name = "messages::templates", skip_all)]
pub async fn templates(db: &Db, ctx: &Ctx) -> AppResult<Vec<TemplateView>> {
    require_manage(ctx)?;
    let own = wordings(db).await?;
    Ok(TEMPLATES.iter().map(|t| view(t, own.get(t.key))).collect())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateWording {
    /// The version read (0 for the shipped wording).
    pub version: i32,
    pub title_zh: String,
    pub body_zh: String,
    pub title_en: String,
    pub body_en: String,
}

/// Saves an office's wording: each text non-empty, within its length, using only the template's
/// variables.
#[tracing::instrument(name = "messages::save_template", skip_all)]
pub async fn save_template(
    db: &Db,
    ctx: &Ctx,
    key: &str,
    w: TemplateWording,
) -> AppResult<TemplateView> {
    let checked = require_manage(ctx)?;
    let t = template(key).ok_or(AppError::NotFound)?;
    let mut errs = FieldErrors::new();
    for (field, text, max) in [
        ("title_zh", &w.title_zh, 60),
        ("body_zh", &w.body_zh, 500),
        ("title_en", &w.title_en, 120),
        ("body_en", &w.body_en, 1000),
    ] {
        let n = text.trim().chars().count();
        if n == 0 || n > max {
            errs.insert(
                field.into(),
                Msg::owned(
                    format!("请填写（最多 {max} 个字符）"),
                    format!("Required, at most {max} characters"),
                ),
            );
            continue;
        }
        let unknown: Vec<String> = names_in(text)
            .into_iter()
            .filter(|v| !t.vars.contains(&v.as_str()))
            .collect();
        if !unknown.is_empty() {
            errs.insert(
                field.into(),
                Msg::owned(
                    format!(
                        "不认识的变量：{}（可用：{}）",
                        unknown.join("、"),
                        t.vars
                            .iter()
                            .map(|v| format!("{{{v}}}"))
                            .collect::<Vec<_>>()
                            .join("、")
                    ),
                    format!(
                        "Unknown variables: {} (available: {})",
                        unknown.join(", "),
                        t.vars
                            .iter()
                            .map(|v| format!("{{{v}}}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
            );
        }
    }
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    let n = if w.version == 0 {
        store::exec(
            &tx,
            "INSERT INTO message_templates (template_key, title_zh, body_zh, title_en, body_en, version, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, 1, $6, $7) ON CONFLICT (template_key) DO NOTHING",
            vec![
                key.into(),
                w.title_zh.trim().into(),
                w.body_zh.trim().into(),
                w.title_en.trim().into(),
                w.body_en.trim().into(),
                now.into(),
                ctx.principal.display_name.clone().into(),
            ],
        )
        .await?
    } else {
        store::exec(
            &tx,
            "UPDATE message_templates SET title_zh = $1, body_zh = $2, title_en = $3, body_en = $4, version = version + 1, \
             updated_at = $5, updated_by = $6 WHERE template_key = $7 AND version = $8",
            vec![
                w.title_zh.trim().into(),
                w.body_zh.trim().into(),
                w.title_en.trim().into(),
                w.body_en.trim().into(),
                now.into(),
                ctx.principal.display_name.clone().into(),
                key.into(),
                w.version.into(),
            ],
        )
        .await?
    };
    AppError::stale_unless_changed(n)?;
    Entry::by(
        ctx,
        &checked,
        "message_template.update",
        "message_template",
        key,
    )
    .fields(&["title_zh", "body_zh", "title_en", "body_en"])
    .record(&tx)
    .await?;
    let own = wordings(&tx).await?;
    tx.commit().await?;
    Ok(view(t, own.get(key)))
}

/// Back to the shipped wording.
#[tracing::instrument(name = "messages::reset_template", skip_all)]
pub async fn reset_template(db: &Db, ctx: &Ctx, key: &str) -> AppResult<TemplateView> {
    let checked = require_manage(ctx)?;
    let t = template(key).ok_or(AppError::NotFound)?;
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "DELETE FROM message_templates WHERE template_key = $1",
        vec![key.into()],
    )
    .await?;
    Entry::by(
        ctx,
        &checked,
        "message_template.reset",
        "message_template",
        key,
    )
    .record(&tx)
    .await?;
    tx.commit().await?;
    Ok(view(t, None))
}

// --- Which channels a person accepts ---

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelChoice {
    /// inbox | sms | email | wecom_app | webhook
    pub channel: &'static str,
    /// Whether non-urgent messages come this way (urgent ones always do).
    pub enabled: bool,
    /// Whether this instance has the channel configured (and, for SMS, the caller a number).
    pub available: bool,
    /// The inbox cannot be turned off.
    pub fixed: bool,
    /// Why it is not available: `service` (not set up on this instance) or `address` (no
    /// mobile, e-mail or WeCom account on file for the caller).
    pub missing: Option<&'static str>,
}

#[tracing::instrument(name = "messages::my_channels", skip_all)]
pub async fn my_channels(
    db: &Db,
    ctx: &Ctx,
    cs: &channels::ChannelSettings,
) -> AppResult<Vec<ChannelChoice>> {
    let Some(user) = ctx.principal.user_id else {
        return Ok(vec![]);
    };
    #[derive(FromQueryResult)]
    struct O {
        channel: String,
    }
    let off: Vec<O> = store::fetch_all(
        db,
        "SELECT channel FROM message_optouts WHERE user_id = $1",
        vec![user.into()],
    )
    .await?;
    #[derive(FromQueryResult)]
    struct Has {
        phone: i64,
        email: i64,
        wecom: i64,
    }
    let has: Has = store::fetch_opt(
        db,
        "SELECT CAST(CASE WHEN phone_enc IS NULL THEN 0 ELSE 1 END AS BIGINT) AS phone, \
         CAST(CASE WHEN email_enc IS NULL THEN 0 ELSE 1 END AS BIGINT) AS email, \
         CAST(CASE WHEN wecom_userid IS NULL THEN 0 ELSE 1 END AS BIGINT) AS wecom FROM users WHERE id = $1",
        vec![user.into()],
    )
    .await?
    .unwrap_or(Has {
        phone: 0,
        email: 0,
        wecom: 0,
    });
    let mut out = vec![ChannelChoice {
        channel: "inbox",
        enabled: true,
        available: true,
        fixed: true,
        missing: None,
    }];
    for (channel, service, address) in [
        ("sms", cs.sms.is_some(), has.phone > 0),
        ("email", cs.smtp.is_some(), has.email > 0),
        ("wecom_app", cs.wecom_app.is_some(), has.wecom > 0),
        ("webhook", cs.webhook.is_some(), true),
    ] {
        out.push(ChannelChoice {
            channel,
            enabled: !off.iter().any(|o| o.channel == channel),
            available: service && address,
            fixed: false,
            missing: if !service {
                Some("service")
            } else if !address {
                Some("address")
            } else {
                None
            },
        });
    }
    Ok(out)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelSwitch {
    pub enabled: bool,
}

/// Turns a channel on or off for the caller's non-urgent messages (urgent ones still come).
#[tracing::instrument(name = "messages::set_my_channel", skip_all)]
pub async fn set_my_channel(
    db: &Db,
    ctx: &Ctx,
    cs: &channels::ChannelSettings,
    channel: &str,
    s: ChannelSwitch,
) -> AppResult<Vec<ChannelChoice>> {
    let user = ctx.principal.user_id.ok_or_else(AppError::forbidden)?;
    match channel {
        "sms" | "email" | "wecom_app" | "webhook" => {}
        "inbox" => {
            return Err(AppError::field(
                "channel",
                Msg::new("站内消息不能关闭", "The inbox cannot be turned off"),
            ))
        }
        _ => return Err(AppError::NotFound),
    }
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "DELETE FROM message_optouts WHERE user_id = $1 AND channel = $2",
        vec![user.into(), channel.into()],
    )
    .await?;
    if !s.enabled {
        store::exec(
            &tx,
            "INSERT INTO message_optouts (user_id, channel, created_at) VALUES ($1, $2, $3)",
            vec![user.into(), channel.into(), now_ms().into()],
        )
        .await?;
    }
    Entry::by(
        ctx,
        &scope::own(ctx),
        "message_channel.update",
        "user",
        user,
    )
    .detail(format!(
        "{channel} {}",
        if s.enabled { "on" } else { "off" }
    ))
    .record(&tx)
    .await?;
    tx.commit().await?;
    my_channels(db, ctx, cs).await
}

// --- Delivery state, for those who run the instance ---

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryRow {
    pub id: Uuid,
    pub kind: String,
    pub channel: String,
    /// queued | sending | sent | delivered | read | failed
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    /// Empty for a group channel (a WeCom group robot).
    pub username: String,
    pub created_at: String,
    pub sent_at: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    pub channel: Option<String>,
    pub state: Option<String>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

/// Deliveries of the channels that leave the server, newest first (`manage_system`).
#[tracing::instrument(name = "messages::deliveries", skip_all)]
pub async fn deliveries(
    db: &Db,
    ctx: &Ctx,
    q: &DeliveryQuery,
) -> AppResult<(Vec<DeliveryRow>, i64)> {
    require_manage(ctx)?;
    #[derive(FromQueryResult)]
    struct R {
        id: Uuid,
        template_key: String,
        channel: String,
        state: String,
        attempts: i32,
        last_error: Option<String>,
        username: String,
        created_at: i64,
        sent_at: Option<i64>,
    }
    let mut w = store::sql::Where::new();
    w.and("d.channel <> 'inbox'", []);
    for (cond, v) in [("d.channel = ?", &q.channel), ("d.state = ?", &q.state)] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            w.and(cond, [v.to_string().into()]);
        }
    }
    let (filter, values) = w.build(1);
    let from = format!(
        "FROM message_deliveries d JOIN messages m ON m.id = d.message_id LEFT JOIN users u ON u.id = d.user_id WHERE {filter}"
    );
    let (rows, total): (Vec<R>, i64) = store::page(
        db,
        &format!("SELECT COUNT(*) {from}"),
        &format!(
            "SELECT d.id, m.template_key, d.channel, d.state, d.attempts, d.last_error, \
             COALESCE(u.username, '') AS username, d.created_at, d.sent_at {from} \
             ORDER BY d.created_at DESC, d.id DESC"
        ),
        values,
        Paging::new(q.page, q.page_size),
    )
    .await?;
    Ok((
        rows.into_iter()
            .map(|r| DeliveryRow {
                id: r.id,
                kind: r.template_key,
                channel: r.channel,
                state: r.state,
                attempts: r.attempts,
                last_error: r.last_error,
                username: r.username,
                created_at: ms_to_rfc3339(r.created_at),
                sent_at: r.sent_at.map(ms_to_rfc3339),
            })
            .collect(),
        total,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_filled_and_unknown_ones_kept() {
        let mut v = serde_json::Map::new();
        v.insert("no".into(), "GZ-1".into());
        v.insert("minutes".into(), 30.into());
        assert_eq!(
            fill("新派单 {no}，{minutes} 分钟", &v),
            "新派单 GZ-1，30 分钟"
        );
        assert_eq!(fill("{other} {", &v), "{other} {");
        assert_eq!(fill("{ no }", &v), "{ no }");
        assert_eq!(names_in("{a}x{b}"), vec!["a", "b"]);
    }

    #[test]
    fn every_shipped_text_uses_only_its_variables() {
        for t in TEMPLATES {
            for text in [t.title_zh, t.body_zh, t.title_en, t.body_en] {
                for n in names_in(text) {
                    assert!(t.vars.contains(&n.as_str()), "{}: {{{n}}}", t.key);
                }
            }
        }
    }
}
