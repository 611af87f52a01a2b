//! Acting on a notice: reminders, withdrawal, the door-to-door record, and the answer checked
//! against the form.
use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::*;
use super::{publish::*, read::*};
use crate::app::audit::Entry;
use crate::app::{scope, Ctx};
use crate::domain::role::Permission;
use crate::domain::{now_ms, text};
use crate::error::{AppError, AppResult, FieldErrors, Msg};
use crate::store::{self, Db};

#[derive(Debug, Serialize, ToSchema)]
pub struct Reminded {
    /// Households not yet done and reached again in the app.
    pub reminded: u64,
    /// Accounts the reminder went to.
    pub people: u64,
}

/// 提醒未读: the accounts of households not yet done (and staff who have not read it) are told
/// again; those households join the door-to-door list. At most once an hour (409 before).
#[tracing::instrument(name = "notices::act::remind", skip_all)]
pub async fn remind(db: &Db, ctx: &Ctx, id: Uuid, sms: bool) -> AppResult<Reminded> {
    let r = load_visible(db, ctx, id).await?;
    let checked = scope::require_permission(db, ctx, Permission::SendNotices, r.area_id).await?;
    if r.status != "published" {
        return Err(withdrawn());
    }
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    // One reminder an hour, however many authors press the button at once.
    let won = store::exec(
        &tx,
        "UPDATE notices SET reminders = reminders + 1, last_reminded_at = $2, updated_at = $2 \
         WHERE id = $1 AND (last_reminded_at IS NULL OR last_reminded_at < $3)",
        vec![id.into(), now.into(), (now - REMIND_EVERY_MS).into()],
    )
    .await?;
    if won == 0 {
        return Err(AppError::conflict(
            "notices.remind_too_soon",
            Msg::new(
                "一小时内已提醒过，请稍后再试",
                "A reminder went out within the hour; try again later",
            ),
        ));
    }
    let k = r.reminders + 1;
    let reminded = store::exec(
        &tx,
        &format!(
            "UPDATE notice_receipts SET reminded_at = $2 WHERE notice_id = $1 AND reach <> 'none' \
             AND household_id IN (SELECT r.household_id FROM notice_receipts r JOIN notices n ON n.id = r.notice_id \
             WHERE r.notice_id = $1 AND {NOT_DONE})"
        ),
        vec![id.into(), now.into()],
    )
    .await?;
    let people = tell(
        &tx,
        id,
        &r.title,
        r.area_id,
        r.urgent,
        "notice.reminder",
        Some(k),
    )
    .await?;
    // Households reached by SMS and not done get the reminder by SMS too (when SMS is on).
    if sms {
        sms_households(&tx, id, &format!("notice:{id}:remind:{k}"), true).await?;
    }
    Entry::by(ctx, &checked, "notice.remind", "notice", id)
        .area(r.area_id)
        .detail(format!(
            "reminder {k}: {reminded} households, {people} accounts"
        ))
        .record(&tx)
        .await?;
    tx.commit().await?;
    Ok(Reminded { reminded, people })
}

pub(super) fn withdrawn() -> AppError {
    AppError::conflict(
        "notices.withdrawn",
        Msg::new("该通知已撤回", "This notice was withdrawn"),
    )
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Withdrawal {
    pub reason: String,
}

#[tracing::instrument(name = "notices::act::withdraw", skip_all)]
pub async fn withdraw(db: &Db, ctx: &Ctx, id: Uuid, w: Withdrawal) -> AppResult<NoticeDetail> {
    let r = load_visible(db, ctx, id).await?;
    let checked = scope::require_permission(db, ctx, Permission::SendNotices, r.area_id).await?;
    let mut errs = FieldErrors::new();
    let reason = required_text(&mut errs, "reason", &w.reason, 500);
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let tx = store::write_tx(db).await?;
    let n = store::exec(
        &tx,
        "UPDATE notices SET status = 'withdrawn', withdrawn_reason = $2, updated_at = $3 \
         WHERE id = $1 AND status = 'published'",
        vec![id.into(), reason.clone().into(), now_ms().into()],
    )
    .await?;
    if n == 0 {
        return Err(withdrawn());
    }
    Entry::by(ctx, &checked, "notice.withdraw", "notice", id)
        .area(r.area_id)
        .detail(reason)
        .record(&tx)
        .await?;
    tx.commit().await?;
    detail(db, ctx, id).await
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ack {
    /// The form's answers by key.
    #[serde(default)]
    pub answer: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitAck {
    #[serde(default)]
    pub answer: BTreeMap<String, String>,
    /// What the household said, for the record (not shown to residents).
    #[serde(default)]
    pub note: String,
}

/// The answer checked against the notice's form: every required field, choices among the
/// options, no unknown keys.
pub(super) fn check_answer(
    form: &[FormField],
    answer: &BTreeMap<String, String>,
) -> AppResult<Option<String>> {
    let mut errs = FieldErrors::new();
    let mut out = BTreeMap::new();
    for (k, _) in answer.iter() {
        if !form.iter().any(|f| &f.key == k) {
            errs.insert(
                format!("answer.{k}"),
                Msg::new("没有这一项", "No such field"),
            );
        }
    }
    for f in form {
        let v = answer.get(&f.key).map(|s| s.trim()).unwrap_or("");
        let at = format!("answer.{}", f.key);
        if v.is_empty() {
            if f.required {
                errs.insert(at, Msg::new("请填写", "Required"));
            }
            continue;
        }
        if v.chars().count() > 500 || text::has_forbidden_control(v) {
            errs.insert(
                at,
                Msg::new(
                    "最多 500 个字符，不含控制字符",
                    "At most 500 characters, no control characters",
                ),
            );
        } else if f.kind == "choice" && !f.options.iter().any(|o| o == v) {
            errs.insert(at, Msg::new("请从选项中选择", "Choose one of the options"));
        } else {
            out.insert(f.key.clone(), v.to_string());
        }
    }
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    Ok(if form.is_empty() {
        None
    } else {
        serde_json::to_string(&out).ok()
    })
}

/// 登记已告知: a grid worker records that a household was told in person, with its answer. A
/// household already acknowledged keeps its first acknowledgement.
#[tracing::instrument(name = "notices::act::ack_visit", skip_all)]
pub async fn ack_visit(
    db: &Db,
    ctx: &Ctx,
    id: Uuid,
    household_id: Uuid,
    a: VisitAck,
) -> AppResult<ReceiptRow> {
    let r = load_visible(db, ctx, id).await?;
    let area: Option<AreaOf> = store::fetch_opt(
        db,
        "SELECT area_id FROM notice_receipts WHERE notice_id = $1 AND household_id = $2",
        vec![id.into(), household_id.into()],
    )
    .await?;
    let area = area.ok_or(AppError::NotFound)?.area_id;
    let checked = scope::require_permission(db, ctx, Permission::EditRegistry, area).await?;
    if r.status != "published" {
        return Err(withdrawn());
    }
    let answer = check_answer(&form_of(&r.form), &a.answer)?;
    if a.note.chars().count() > 500 {
        return Err(AppError::field(
            "note",
            Msg::new("最多 500 个字符", "At most 500 characters"),
        ));
    }
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    let n = ack_household(
        &tx,
        id,
        household_id,
        "visit",
        &ctx.principal.display_name,
        answer,
        now,
    )
    .await?;
    if n > 0 {
        Entry::by(ctx, &checked, "notice.ack_visit", "notice", id)
            .area(area)
            .detail(format!("household {household_id}; {}", a.note.trim()))
            .record(&tx)
            .await?;
    }
    tx.commit().await?;
    let row: ReceiptDb = store::fetch_found(
        db,
        &format!("{RECEIPTS} WHERE r.notice_id = $1 AND r.household_id = $2"),
        vec![id.into(), household_id.into()],
    )
    .await?;
    Ok(receipt_view(row))
}

/// The household's acknowledgement, if it has none yet (the first one stands). Returns 1 when
/// this one was recorded.
#[tracing::instrument(name = "notices::act::ack_household", skip_all)]
pub async fn ack_household<C: ConnectionTrait>(
    c: &C,
    id: Uuid,
    household_id: Uuid,
    via: &str,
    by: &str,
    answer: Option<String>,
    now: i64,
) -> AppResult<u64> {
    Ok(store::exec(
        c,
        "UPDATE notice_receipts SET acked_at = $3, acked_via = $4, acked_by = $5, answer = $6, \
         read_at = COALESCE(read_at, $3) WHERE notice_id = $1 AND household_id = $2 AND acked_at IS NULL",
        vec![
            id.into(),
            household_id.into(),
            now.into(),
            via.to_string().into(),
            by.to_string().into(),
            answer.into(),
        ],
    )
    .await?)
}

#[derive(FromQueryResult)]
pub(super) struct AreaOf {
    area_id: Uuid,
}
