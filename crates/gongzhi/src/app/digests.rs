//! Daily reminders through the hub (issue 15 point 3), run by the startup root's clock:
//! - 走访提醒: once a local day, each grid worker hears how many households of their grids are due a
//!   visit (the same households as their home page's `households_to_visit` to-do);
//! - 报到提醒: once a week, each party member in service whose report-in (报到) is missing or expired is
//!   asked, on their volunteer account, to report in to their community;
//! - 提问超期: those who answer a resident's question hear once when it passes its deadline
//!   (app/questions/).
//!
//! The hub's dedup key (user and day, member and week) makes the runs of every instance, every 30
//! seconds, one message; a day with nothing due writes the key with nobody told, so it is not
//! counted again.
use std::collections::BTreeMap;

use sea_orm::FromQueryResult;
use uuid::Uuid;

use super::messages::{self, Outgoing};
use super::AppState;
use crate::domain::calendar::local_date;
use crate::domain::now_ms;
use crate::error::AppResult;
use crate::store;

/// What one run told: (grid workers, party members).
#[tracing::instrument(name = "digests::run", skip_all)]
pub async fn run(state: &AppState) -> AppResult<(usize, usize)> {
    // 回应关切: answerers hear once of each question past its deadline.
    super::questions::tell_overdue(&state.db).await?;
    Ok((visits_due(state).await?, report_ins_due(state).await?))
}

async fn done<C: sea_orm::ConnectionTrait>(c: &C, key: &str) -> AppResult<bool> {
    Ok(store::fetch_i64(
        c,
        "SELECT COUNT(*) AS n FROM messages WHERE dedup_key = $1",
        vec![key.to_string().into()],
    )
    .await?
        > 0)
}

async fn visits_due(state: &AppState) -> AppResult<usize> {
    let db = &state.db;
    let day = super::service::ymd(local_date(now_ms()));
    #[derive(FromQueryResult)]
    struct G {
        user_id: Uuid,
        area_id: Uuid,
    }
    let grants: Vec<G> = store::fetch_all(
        db,
        "SELECT g.user_id, g.area_id FROM grants g JOIN users u ON u.id = g.user_id AND u.disabled = FALSE \
         WHERE g.role = 'grid_worker' AND g.area_id IS NOT NULL ORDER BY g.user_id",
        vec![],
    )
    .await?;
    let mut by_user: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    for g in grants {
        by_user.entry(g.user_id).or_default().push(g.area_id);
    }
    let mut told = 0;
    for (user, areas) in by_user {
        let key = format!("visit.due:{user}:{day}");
        if done(db, &key).await? {
            continue;
        }
        let mut w = store::sql::Where::new();
        w.and("h.deleted_at IS NULL", [])
            .and_cond(store::sql::Cond::from_numbered(
                &format!(
                    "h.area_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id IN ({}))",
                    store::placeholders(1, areas.len())
                ),
                areas.iter().map(|a| (*a).into()).collect(),
            ))
            .and_cond(state.freshness().stale_cond());
        let (cond, values) = w.build(1);
        let n = store::fetch_i64(
            db,
            &format!(
                "SELECT COUNT(*) AS n FROM households h JOIN dwellings d ON d.id = h.dwelling_id \
                 WHERE {cond}"
            ),
            values,
        )
        .await?;
        let mut vars = serde_json::Map::new();
        vars.insert("count".into(), n.into());
        let tx = store::write_tx(db).await?;
        messages::enqueue(
            &tx,
            Outgoing {
                key: "visit.due",
                dedup: key,
                urgent: false,
                area_id: areas.first().copied(),
                link: Some("/visit".into()),
                vars,
                recipients: if n > 0 { vec![user] } else { vec![] },
            },
        )
        .await?;
        tx.commit().await?;
        if n > 0 {
            told += 1;
        }
    }
    Ok(told)
}

async fn report_ins_due(state: &AppState) -> AppResult<usize> {
    let db = &state.db;
    let today = local_date(now_ms());
    let (year, week, _) = today.to_iso_week_date();
    let ymd = super::service::ymd(today);
    #[derive(FromQueryResult)]
    struct M {
        member_id: Uuid,
        user_id: Uuid,
        community_id: Uuid,
        community_name: String,
    }
    let members: Vec<M> = store::fetch_all(
        db,
        "SELECT m.id AS member_id, v.user_id, m.community_id, a.name AS community_name \
         FROM party_members m JOIN volunteers v ON v.id = m.volunteer_id JOIN users u ON u.id = v.user_id \
         JOIN areas a ON a.id = m.community_id \
         WHERE m.kind = 'in_service' AND u.disabled = FALSE \
         AND (m.report_valid_until IS NULL OR m.report_valid_until < $1) ORDER BY m.id LIMIT 5000",
        vec![ymd.into()],
    )
    .await?;
    let mut told = 0;
    for m in members {
        let key = format!("party.report_in_due:{}:{year}-W{week:02}", m.member_id);
        if done(db, &key).await? {
            continue;
        }
        let mut vars = serde_json::Map::new();
        vars.insert("community".into(), m.community_name.into());
        let tx = store::write_tx(db).await?;
        told += messages::enqueue(
            &tx,
            Outgoing {
                key: "party.report_in_due",
                dedup: key,
                urgent: false,
                area_id: Some(m.community_id),
                link: Some("/m/volunteer".into()),
                vars,
                recipients: vec![m.user_id],
            },
        )
        .await? as usize;
        tx.commit().await?;
    }
    Ok(told)
}
