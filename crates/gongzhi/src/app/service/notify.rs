//! Who hears about a volunteer's activity, through the message hub (`app/messages`), in the
//! step's own transaction: the volunteer when signed up (by themselves or by the organiser), and
//! every participant when the hours are confirmed and the points posted; a day before an
//! activity, those signed up (the reminder sweep).
use sea_orm::{ConnectionTrait, FromQueryResult};
use uuid::Uuid;

use super::activities::ActivityRow;
use crate::app::messages::{self, Outgoing};
use crate::domain::{ms_to_local_minute, now_ms};
use crate::error::AppResult;
use crate::store;

#[derive(FromQueryResult)]
struct U {
    user_id: Option<Uuid>,
}

/// The volunteer's account, if they have one.
async fn account_of<C: ConnectionTrait>(c: &C, volunteer: Uuid) -> AppResult<Option<Uuid>> {
    Ok(store::fetch_opt::<U, _>(
        c,
        "SELECT user_id FROM volunteers WHERE id = $1",
        vec![volunteer.into()],
    )
    .await?
    .and_then(|u| u.user_id))
}

fn vars(r: &ActivityRow) -> serde_json::Map<String, serde_json::Value> {
    let mut v = serde_json::Map::new();
    v.insert("title".into(), r.title.clone().into());
    v.insert("starts".into(), ms_to_local_minute(r.starts_at).into());
    v.insert("place".into(), r.place.clone().into());
    v
}

/// 报名成功: the volunteer, whoever signed them up.
#[tracing::instrument(name = "service::notify::signed_up", skip_all)]
pub async fn signed_up<C: ConnectionTrait>(
    c: &C,
    r: &ActivityRow,
    volunteer: Uuid,
) -> AppResult<()> {
    let Some(user) = account_of(c, volunteer).await? else {
        return Ok(());
    };
    messages::enqueue(
        c,
        Outgoing {
            key: "activity.signed_up",
            // A new sign-up after a withdrawal is a new message.
            dedup: format!("activity.signed_up:{}:{volunteer}:{}", r.id, now_ms()),
            urgent: false,
            area_id: Some(r.area_id),
            link: Some("/m/volunteer".into()),
            vars: vars(r),
            recipients: vec![user],
        },
    )
    .await?;
    Ok(())
}

/// 工时已确认: every participant with an account, in one message.
#[tracing::instrument(name = "service::notify::hours_confirmed", skip_all)]
pub async fn hours_confirmed<C: ConnectionTrait>(
    c: &C,
    r: &ActivityRow,
    volunteers: &[Uuid],
) -> AppResult<()> {
    if volunteers.is_empty() {
        return Ok(());
    }
    #[derive(FromQueryResult)]
    struct A {
        user_id: Uuid,
    }
    let mut users = vec![];
    for chunk in volunteers.chunks(500) {
        let rows: Vec<A> = store::fetch_all(
            c,
            &format!(
                "SELECT user_id FROM volunteers WHERE user_id IS NOT NULL AND id IN ({})",
                store::placeholders(1, chunk.len())
            ),
            chunk.iter().map(|v| (*v).into()).collect(),
        )
        .await?;
        users.extend(rows.into_iter().map(|a| a.user_id));
    }
    messages::enqueue(
        c,
        Outgoing {
            key: "activity.hours_confirmed",
            dedup: format!("activity.hours_confirmed:{}", r.id),
            urgent: false,
            area_id: Some(r.area_id),
            link: Some("/m/volunteer".into()),
            vars: vars(r),
            recipients: users,
        },
    )
    .await?;
    Ok(())
}

/// 活动提醒: for each open activity starting within the next 24 hours, once, everyone signed up
/// with an account. Run by the startup root's clock; returns the activities reminded.
#[tracing::instrument(name = "service::notify::remind", skip_all)]
pub async fn remind(db: &store::Db) -> AppResult<usize> {
    #[derive(FromQueryResult)]
    struct A {
        id: Uuid,
    }
    let now = now_ms();
    let due: Vec<A> = store::fetch_all(
        db,
        "SELECT a.id FROM activities a WHERE a.status = 'open' AND a.starts_at > $1 AND a.starts_at <= $2 \
         ORDER BY a.starts_at LIMIT 500",
        vec![now.into(), (now + 24 * 3_600_000).into()],
    )
    .await?;
    let mut n = 0;
    for a in due {
        let dedup = format!("activity.reminder:{}", a.id);
        let done = store::fetch_i64(
            db,
            "SELECT COUNT(*) FROM messages WHERE dedup_key = $1",
            vec![dedup.clone().into()],
        )
        .await?;
        if done > 0 {
            continue;
        }
        let tx = store::write_tx(db).await?;
        let r = super::activities::activity_row(&tx, a.id).await?;
        #[derive(FromQueryResult)]
        struct P {
            user_id: Uuid,
        }
        let people: Vec<P> = store::fetch_all(
            &tx,
            "SELECT v.user_id FROM activity_signups s JOIN volunteers v ON v.id = s.volunteer_id \
             WHERE s.activity_id = $1 AND s.status = 'signed' AND v.user_id IS NOT NULL",
            vec![a.id.into()],
        )
        .await?;
        messages::enqueue(
            &tx,
            Outgoing {
                key: "activity.reminder",
                dedup,
                urgent: false,
                area_id: Some(r.area_id),
                link: Some("/m/volunteer".into()),
                vars: vars(&r),
                recipients: people.into_iter().map(|p| p.user_id).collect(),
            },
        )
        .await?;
        tx.commit().await?;
        n += 1;
    }
    Ok(n)
}

/// 积分变动: the account's volunteer, when a worker posts or deducts by hand (postings by rule
/// arrive with the message of their cause, e.g. confirmed hours).
#[tracing::instrument(name = "service::notify::points_posted", skip_all)]
pub async fn points_posted<C: ConnectionTrait>(
    c: &C,
    posting: Uuid,
    volunteer: Option<Uuid>,
    amount: i64,
    note: &str,
) -> AppResult<()> {
    let Some(v) = volunteer else { return Ok(()) };
    let Some(user) = account_of(c, v).await? else {
        return Ok(());
    };
    let balance = store::fetch_i64(
        c,
        "SELECT balance FROM point_accounts WHERE volunteer_id = $1",
        vec![v.into()],
    )
    .await?;
    let mut vars = serde_json::Map::new();
    vars.insert(
        "amount".into(),
        (if amount > 0 {
            format!("+{amount}")
        } else {
            amount.to_string()
        })
        .into(),
    );
    vars.insert("note".into(), note.to_string().into());
    vars.insert("balance".into(), balance.to_string().into());
    messages::enqueue(
        c,
        Outgoing {
            key: "points.posted",
            dedup: format!("points.posted:{posting}"),
            urgent: false,
            area_id: None,
            link: Some("/m/volunteer".into()),
            vars,
            recipients: vec![user],
        },
    )
    .await?;
    Ok(())
}
