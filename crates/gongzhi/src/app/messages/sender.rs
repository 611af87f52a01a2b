//! The background sender: takes the outbox's messages out of the server. Every few seconds, on
//! every instance, it
//! 1. fans each new message out to the channels configured here (a queued delivery per recipient
//!    and channel: SMS for those with a mobile number and a template for the kind, e-mail for those
//!    with an address, WeCom for those with a WeCom account, the webhook for everyone), skipping people who turned a channel off unless the message is urgent — one
//!    instance wins each message (`fanned_out` flips once);
//! 2. claims the due deliveries in one statement (a lease: `next_attempt_at` moves a minute ahead,
//!    so two instances never send one twice, and a sender that died mid-send is retried after the
//!    lease), keeps non-urgent SMS to residents for after the quiet hours, sends with up to 32
//!    requests in flight per channel, each channel paced on its own and all channels at once (a
//!    failing or slow provider delays only its own deliveries), and records sent, retry with
//!    back-off (30 s doubling to 1 h, five tries) or failed with the reason, 64 at a time as they
//!    come.
//!
//! Delivery reports (SMS 送达回执) arrive on `POST /channels/sms/tencent/reports` and move a sent
//! delivery to delivered or failed.
use std::sync::OnceLock;
use std::time::Duration;

use sea_orm::FromQueryResult;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::channels::{Channel, ChannelSettings, Outbound, SendError};
use crate::app::AppState;
use crate::domain::{ms_to_rfc3339, new_id, now_ms};
use crate::error::{AppError, AppResult};
use crate::store;

/// Tries before a delivery is failed for good.
pub const MAX_ATTEMPTS: i32 = 5;
/// How long a claimed delivery is ours before another sender may take it again.
const LEASE_MS: i64 = 60_000;
/// Messages older than this are not fanned out to a channel configured after them.
const FAN_OUT_WINDOW_MS: i64 = 24 * 3_600_000;

pub fn http() -> &'static reqwest::Client {
    static HTTP: OnceLock<reqwest::Client> = OnceLock::new();
    HTTP.get_or_init(|| {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .user_agent(concat!("gongzhi/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default()
    })
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub fanned_out: u64,
    pub sent: u64,
    pub retried: u64,
    pub failed: u64,
    pub held: u64,
}

/// Back-off after `attempts` tries: 30 s, 1 min, 2 min, … at most an hour.
pub fn backoff_ms(attempts: i32) -> i64 {
    (30_000i64 << (attempts.clamp(1, 8) - 1)).min(3_600_000)
}

/// The local (Asia/Shanghai) hour of `ms`.
fn local_hour(ms: i64) -> u32 {
    (((ms / 3_600_000) + 8).rem_euclid(24)) as u32
}

/// Whether `hour` lies in the quiet hours `(from, to)` (which may wrap midnight).
pub fn is_quiet(hour: u32, (from, to): (u32, u32)) -> bool {
    if from == to {
        false
    } else if from < to {
        hour >= from && hour < to
    } else {
        hour >= from || hour < to
    }
}

/// The next moment the quiet hours end, after `now`.
fn quiet_end(now: i64, (_, to): (u32, u32)) -> i64 {
    let hour_start = now - now.rem_euclid(3_600_000);
    let mut t = hour_start + 3_600_000;
    while local_hour(t) != to {
        t += 3_600_000;
    }
    t
}

#[derive(FromQueryResult)]
struct Pending {
    id: Uuid,
    template_key: String,
    urgent: bool,
}

#[derive(FromQueryResult)]
struct Recipient {
    user_id: Uuid,
}

async fn fan_out(state: &AppState, cs: &ChannelSettings) -> AppResult<u64> {
    let db = &state.db;
    let names = cs.names();
    let pending: Vec<Pending> = store::fetch_all(
        db,
        "SELECT id, template_key, urgent FROM messages WHERE fanned_out = FALSE AND created_at > $1 \
         ORDER BY created_at LIMIT 200",
        vec![(now_ms() - FAN_OUT_WINDOW_MS).into()],
    )
    .await?;
    let mut written = 0;
    for p in pending {
        let tx = store::write_tx(db).await?;
        let won = store::exec(
            &tx,
            "UPDATE messages SET fanned_out = TRUE WHERE id = $1 AND fanned_out = FALSE",
            vec![p.id.into()],
        )
        .await?;
        if won == 0 {
            tx.rollback().await?;
            continue;
        }
        for ch in &names {
            if *ch == "wecom_robot" {
                // A group channel: one post per message of the kinds it takes.
                if cs
                    .wecom_robot
                    .as_ref()
                    .is_some_and(|w| w.kinds.iter().any(|k| *k == p.template_key))
                {
                    let now = now_ms();
                    written += store::exec(
                        &tx,
                        "INSERT INTO message_deliveries (id, message_id, user_id, channel, state, attempts, next_attempt_at, created_at) \
                         VALUES ($1, $2, NULL, 'wecom_robot', 'queued', 0, $3, $3)",
                        vec![new_id().into(), p.id.into(), now.into()],
                    )
                    .await?;
                }
                continue;
            }
            if *ch == "sms"
                && !cs
                    .sms
                    .as_ref()
                    .is_some_and(|s| s.templates.iter().any(|(k, _)| *k == p.template_key))
            {
                continue;
            }
            // Only those the channel can reach.
            let phone = match *ch {
                "sms" => " AND u.phone_enc IS NOT NULL",
                "email" => " AND u.email_enc IS NOT NULL",
                "wecom_app" => " AND u.wecom_userid IS NOT NULL",
                _ => "",
            };
            let optout = if p.urgent {
                ""
            } else {
                " AND NOT EXISTS (SELECT 1 FROM message_optouts o WHERE o.user_id = d.user_id AND o.channel = $2)"
            };
            let mut values = vec![p.id.into()];
            if !p.urgent {
                values.push(ch.to_string().into());
            }
            let people: Vec<Recipient> = store::fetch_all(
                &tx,
                &format!(
                    "SELECT d.user_id FROM message_deliveries d JOIN users u ON u.id = d.user_id \
                     WHERE d.message_id = $1 AND d.channel = 'inbox' AND u.disabled = FALSE{phone}{optout}"
                ),
                values,
            )
            .await?;
            let now = now_ms();
            for r in people {
                written += store::exec(
                    &tx,
                    "INSERT INTO message_deliveries (id, message_id, user_id, channel, state, attempts, next_attempt_at, created_at) \
                     VALUES ($1, $2, $3, $4, 'queued', 0, $5, $5)",
                    vec![new_id().into(), p.id.into(), r.user_id.into(), ch.to_string().into(), now.into()],
                )
                .await?;
            }
        }
        tx.commit().await?;
    }
    Ok(written)
}

#[derive(FromQueryResult)]
struct Due {
    id: Uuid,
}

#[derive(FromQueryResult, Clone)]
struct Job {
    id: Uuid,
    attempts: i32,
    channel: String,
    template_key: String,
    urgent: bool,
    vars: String,
    link: Option<String>,
    created_at: i64,
    username: Option<String>,
    display_name: Option<String>,
    phone_enc: Option<String>,
    email_enc: Option<String>,
    wecom_userid: Option<String>,
    /// A household reached by SMS without an account (a notice).
    household_id: Option<Uuid>,
    /// Grants other than `resident`: 0 for a resident.
    staff_grants: i64,
}

/// Deliveries claimed in one round (at most).
const BATCH: u64 = 1000;
/// Sends in flight per channel.
const IN_FLIGHT: usize = 32;

/// What became of one send.
enum Outcome {
    Sent(Option<String>),
    Retry(String),
    Failed(String),
    Held(i64),
}

/// One round: fan out, then send what is due. The tests call it directly; `serve` every 2 s.
///
/// The due deliveries are claimed in one statement (`… WHERE next_attempt_at <= now RETURNING
/// id`: a delivery another sender holds has its lease in the future, so sixteen senders claim each
/// once), loaded in one query, then sent with up to [`IN_FLIGHT`] requests in flight per channel,
/// each channel paced on its own and all channels at once — a provider that is slow, failing or
/// rate-limiting delays only its own deliveries. The outcomes are recorded as they come.
#[tracing::instrument(name = "messages::sender::run_once", skip_all)]
pub async fn run_once(state: &AppState) -> AppResult<Round> {
    let cs = &state.settings.channels;
    let mut round = Round::default();
    if cs.names().is_empty() {
        return Ok(round);
    }
    round.fanned_out = fan_out(state, cs).await?;
    let db = &state.db;
    let now = now_ms();
    let due: Vec<Due> = store::fetch_all(
        db,
        &format!(
            "SELECT id FROM message_deliveries WHERE channel <> 'inbox' AND state IN ('queued', 'sending') \
             AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT {BATCH}"
        ),
        vec![now.into()],
    )
    .await?;
    if due.is_empty() {
        return Ok(round);
    }
    let mut claimed: Vec<Uuid> = Vec::with_capacity(due.len());
    for chunk in due.chunks(500) {
        let mut values: Vec<sea_orm::Value> = vec![(now_ms() + LEASE_MS).into(), now.into()];
        values.extend(chunk.iter().map(|d| sea_orm::Value::from(d.id)));
        let got: Vec<Due> = store::fetch_all(
            db,
            &format!(
                "UPDATE message_deliveries SET state = 'sending', attempts = attempts + 1, next_attempt_at = $1 \
                 WHERE id IN ({}) AND state IN ('queued', 'sending') AND next_attempt_at <= $2 RETURNING id",
                store::placeholders(3, chunk.len())
            ),
            values,
        )
        .await?;
        claimed.extend(got.into_iter().map(|d| d.id));
    }
    let mut jobs: Vec<Job> = Vec::with_capacity(claimed.len());
    for chunk in claimed.chunks(500) {
        jobs.extend(
            store::fetch_all::<Job, _>(
                db,
                &format!(
                    "SELECT d.id, d.attempts, d.channel, m.template_key, m.urgent, m.vars, m.link, m.created_at, \
                     u.username, u.display_name, COALESCE(d.phone_enc, u.phone_enc) AS phone_enc, u.email_enc, \
                     u.wecom_userid, d.household_id, \
                     (SELECT COUNT(*) FROM grants g WHERE g.user_id = u.id AND g.role <> 'resident') AS staff_grants \
                     FROM message_deliveries d JOIN messages m ON m.id = d.message_id \
                     LEFT JOIN users u ON u.id = d.user_id WHERE d.id IN ({})",
                    store::placeholders(1, chunk.len())
                ),
                chunk.iter().map(|i| sea_orm::Value::from(*i)).collect(),
            )
            .await?,
        );
    }
    let own = super::wordings(db).await?;
    let mut by_channel: std::collections::BTreeMap<String, Vec<Job>> = Default::default();
    for j in jobs {
        by_channel.entry(j.channel.clone()).or_default().push(j);
    }
    let channels = by_channel.into_iter().map(|(_, jobs)| {
        let own = &own;
        async move {
            // Paced on its own: one start every 1/rate s, up to IN_FLIGHT at once; the outcomes
            // are recorded RECORD_EVERY at a time as they come, so a sender killed mid-round sends
            // again at most the few it had sent and not yet recorded.
            let step = Duration::from_micros(1_000_000 / cs.rate_per_second.max(1) as u64);
            let next = std::sync::Mutex::new(tokio::time::Instant::now());
            let next = &next;
            use futures_util::stream::StreamExt;
            let mut done = futures_util::stream::iter(jobs)
                .map(|job| async move {
                    let slot = {
                        let mut n = next.lock().unwrap_or_else(|e| e.into_inner());
                        let slot = (*n).max(tokio::time::Instant::now());
                        *n = slot + step;
                        slot
                    };
                    tokio::time::sleep_until(slot).await;
                    let outcome = send_one(state, cs, own, &job).await;
                    (job, outcome)
                })
                .buffer_unordered(IN_FLIGHT)
                .ready_chunks(RECORD_EVERY);
            let mut round = Round::default();
            while let Some(chunk) = done.next().await {
                record(db, chunk, &mut round).await?;
            }
            Ok::<Round, AppError>(round)
        }
    });
    for r in futures_util::future::join_all(channels).await {
        let r = r?;
        round.sent += r.sent;
        round.retried += r.retried;
        round.failed += r.failed;
        round.held += r.held;
    }
    Ok(round)
}

/// Outcomes recorded in one transaction at most this many at a time.
const RECORD_EVERY: usize = 64;

/// Writes what became of some sends, in one transaction.
async fn record(db: &store::Db, results: Vec<(Job, Outcome)>, round: &mut Round) -> AppResult<()> {
    let tx = store::write_tx(db).await?;
    // Sent without a provider's reference (webhook, robot): recorded in one statement.
    let mut plain: Vec<Uuid> = vec![];
    for (job, outcome) in results {
        match outcome {
            Outcome::Sent(None) => {
                plain.push(job.id);
                round.sent += 1;
            }
            Outcome::Sent(reference) => {
                store::exec(
                    &tx,
                    "UPDATE message_deliveries SET state = 'sent', sent_at = $1, provider_ref = $2, last_error = NULL, \
                     next_attempt_at = NULL WHERE id = $3",
                    vec![now_ms().into(), reference.into(), job.id.into()],
                )
                .await?;
                round.sent += 1;
            }
            Outcome::Retry(why) => {
                tracing::warn!(delivery = %job.id, channel = %job.channel, attempts = job.attempts, error = %why, "message send failed; will retry");
                store::exec(
                    &tx,
                    "UPDATE message_deliveries SET state = 'queued', last_error = $1, next_attempt_at = $2 WHERE id = $3",
                    vec![why.into(), (now_ms() + backoff_ms(job.attempts)).into(), job.id.into()],
                )
                .await?;
                round.retried += 1;
            }
            Outcome::Failed(why) => {
                tracing::warn!(delivery = %job.id, channel = %job.channel, attempts = job.attempts, error = %why, "message send failed");
                fail(&tx, job.id, &why).await?;
                if job.household_id.is_some() {
                    crate::app::notices::sms_failed(&tx, job.id).await?;
                }
                round.failed += 1;
            }
            Outcome::Held(until) => {
                // 免打扰: wait for the morning without spending a try.
                store::exec(
                    &tx,
                    "UPDATE message_deliveries SET state = 'queued', attempts = attempts - 1, next_attempt_at = $1 WHERE id = $2",
                    vec![until.into(), job.id.into()],
                )
                .await?;
                round.held += 1;
            }
        }
    }
    if !plain.is_empty() {
        let mut values: Vec<sea_orm::Value> = vec![now_ms().into()];
        values.extend(plain.iter().map(|i| sea_orm::Value::from(*i)));
        store::exec(
            &tx,
            &format!(
                "UPDATE message_deliveries SET state = 'sent', sent_at = $1, last_error = NULL, next_attempt_at = NULL \
                 WHERE id IN ({})",
                store::placeholders(2, plain.len())
            ),
            values,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Renders and sends one claimed delivery (or holds it for the quiet hours).
async fn send_one(
    state: &AppState,
    cs: &ChannelSettings,
    own: &std::collections::HashMap<String, super::Wording>,
    job: &Job,
) -> Outcome {
    let now = now_ms();
    // A group channel (no user) is staff's; a household reached without an account is residents'.
    let resident = (job.username.is_some() && job.staff_grants == 0) || job.household_id.is_some();
    if job.channel == "sms" && !job.urgent && resident && is_quiet(local_hour(now), cs.quiet_hours)
    {
        return Outcome::Held(quiet_end(now, cs.quiet_hours));
    }
    let vars = serde_json::from_str::<serde_json::Value>(&job.vars)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    let (title, body) = super::render(
        &job.template_key,
        &vars,
        crate::error::Lang::Zh,
        own.get(&job.template_key),
    );
    let params: Vec<String> = super::template(&job.template_key)
        .map(|t| {
            t.vars
                .iter()
                .map(|v| match vars.get(*v) {
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(serde_json::Value::Null) | None => String::new(),
                    Some(x) => x.to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    let phone = job.phone_enc.as_deref().and_then(|p| state.keys.decrypt(p));
    let email = job.email_enc.as_deref().and_then(|p| state.keys.decrypt(p));
    let created = ms_to_rfc3339(job.created_at);
    // A link people open from outside the console: absolute when the public address is known.
    let link = job
        .link
        .as_deref()
        .map(|l| match &state.settings.public_origin {
            Some(o) if l.starts_with('/') => format!("{o}{l}"),
            _ => l.to_string(),
        });
    let username = job.username.clone().unwrap_or_default();
    let display_name = job.display_name.clone().unwrap_or_default();
    let out = Outbound {
        delivery_id: job.id,
        kind: &job.template_key,
        urgent: job.urgent,
        title: &title,
        body: &body,
        link: link.as_deref(),
        params,
        username: &username,
        display_name: &display_name,
        phone: phone.as_deref(),
        email: email.as_deref(),
        wecom_userid: job.wecom_userid.as_deref(),
        vars: &vars,
        created_at: &created,
    };
    let channel = match job.channel.as_str() {
        "sms" => cs.sms.as_ref().map(Channel::Sms),
        "email" => cs.smtp.as_ref().map(Channel::Email),
        "webhook" => cs.webhook.as_ref().map(Channel::Webhook),
        "wecom_robot" => cs.wecom_robot.as_ref().map(Channel::WecomRobot),
        "wecom_app" => cs.wecom_app.as_ref().map(Channel::WecomApp),
        _ => None,
    };
    let Some(channel) = channel else {
        return Outcome::Failed("channel no longer configured".into());
    };
    match channel.send(http(), &out).await {
        Ok(reference) => Outcome::Sent(reference),
        Err(SendError::Retry(why)) if job.attempts < MAX_ATTEMPTS => Outcome::Retry(why),
        Err(SendError::Retry(why)) | Err(SendError::Permanent(why)) => Outcome::Failed(why),
    }
}

async fn fail<C: sea_orm::ConnectionTrait>(db: &C, id: Uuid, why: &str) -> AppResult<()> {
    store::exec(
        db,
        "UPDATE message_deliveries SET state = 'failed', last_error = $1, next_attempt_at = NULL WHERE id = $2",
        vec![why.to_string().into(), id.into()],
    )
    .await?;
    Ok(())
}

/// One entry of Tencent Cloud SMS's delivery report (短信下发状态回调).
#[derive(Debug, Deserialize, ToSchema)]
pub struct SmsReport {
    /// The `SerialNo` the send answered with.
    pub sid: String,
    /// SUCCESS or FAIL.
    pub report_status: String,
    pub errmsg: Option<String>,
    pub description: Option<String>,
    pub mobile: Option<String>,
    pub nationcode: Option<String>,
    pub user_receive_time: Option<String>,
}

/// What Tencent Cloud expects back from a report callback.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportAnswer {
    pub result: i32,
    pub errmsg: String,
}

/// Applies SMS delivery reports: a sent delivery becomes delivered or failed with the reason.
#[tracing::instrument(name = "messages::sender::sms_reports", skip_all)]
pub async fn sms_reports(
    state: &AppState,
    token: Option<&str>,
    reports: Vec<SmsReport>,
) -> AppResult<ReportAnswer> {
    let Some(sms) = &state.settings.channels.sms else {
        return Err(AppError::NotFound);
    };
    match (&sms.report_token, token) {
        (Some(want), Some(got))
            if crate::crypto::constant_time_eq(want.as_bytes(), got.as_bytes()) => {}
        _ => return Err(AppError::forbidden()),
    }
    for r in reports.into_iter().take(1_000) {
        let ok = r.report_status.eq_ignore_ascii_case("SUCCESS");
        let why = if ok {
            None
        } else {
            Some(format!(
                "{} {}",
                r.errmsg.unwrap_or_default(),
                r.description.unwrap_or_default()
            ))
        };
        let tx = store::write_tx(&state.db).await?;
        store::exec(
            &tx,
            "UPDATE message_deliveries SET state = $1, last_error = $2 WHERE provider_ref = $3 AND channel = 'sms' \
             AND state IN ('sent', 'delivered')",
            vec![
                (if ok { "delivered" } else { "failed" }).into(),
                why.into(),
                r.sid.clone().into(),
            ],
        )
        .await?;
        if !ok {
            // A household's notice SMS that never arrived: back on the door-to-door list.
            #[derive(FromQueryResult)]
            struct D {
                id: Uuid,
            }
            let ds: Vec<D> = store::fetch_all(
                &tx,
                "SELECT id FROM message_deliveries WHERE provider_ref = $1 AND channel = 'sms' \
                 AND household_id IS NOT NULL",
                vec![r.sid.into()],
            )
            .await?;
            for d in ds {
                crate::app::notices::sms_failed(&tx, d.id).await?;
            }
        }
        tx.commit().await?;
    }
    Ok(ReportAnswer {
        result: 0,
        errmsg: "OK".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_wrap_midnight_and_end_in_the_morning() {
        assert!(is_quiet(23, (22, 7)) && is_quiet(3, (22, 7)) && !is_quiet(7, (22, 7)));
        assert!(!is_quiet(12, (22, 7)) && is_quiet(13, (12, 14)) && !is_quiet(5, (0, 0)));
        // 2026-12-04 15:30 UTC is 23:30 in Shanghai; the quiet ends at 07:00 local = 23:00 UTC.
        let now = 1_796_398_200_000;
        assert_eq!(local_hour(now), 23);
        let end = quiet_end(now, (22, 7));
        assert_eq!(local_hour(end), 7);
        assert!(end > now && end - now <= 8 * 3_600_000);
        assert_eq!(backoff_ms(1), 30_000);
        assert_eq!(backoff_ms(3), 120_000);
        assert_eq!(backoff_ms(20), 3_600_000);
    }
}
