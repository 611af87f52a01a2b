//! Who hears about a case's step, through the message hub (`app/messages.rs`), in the step's own
//! transaction: the unit a case is dispatched to (its members), the street's desk when a unit
//! returns it, the unit when the street urges it (督办) or blows the whistle (吹哨), and the person
//! who submitted it when it is closed (with the way to rate it). The one who acts is not told.
use sea_orm::{ConnectionTrait, FromQueryResult};
use uuid::Uuid;

use super::query::CaseRow;
use crate::app::messages::{self, Outgoing};
use crate::app::Ctx;
use crate::domain::role::{Permission, Role};
use crate::error::AppResult;
use crate::store;

#[derive(FromQueryResult)]
struct Id {
    id: Uuid,
}

#[derive(FromQueryResult)]
struct Name {
    name: String,
}

/// The users of a handling unit (an API token member has no inbox).
#[tracing::instrument(name = "cases::notify::unit_members", skip_all)]
pub async fn unit_members<C: ConnectionTrait>(c: &C, unit: Uuid) -> AppResult<Vec<Uuid>> {
    let rows: Vec<Id> = store::fetch_all(
        c,
        "SELECT u.id FROM case_unit_members m JOIN users u ON u.id = m.member_id WHERE m.unit_id = $1",
        vec![unit.into()],
    )
    .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// The street's desk: users who may dispatch, granted on the street itself.
async fn desk<C: ConnectionTrait>(c: &C, street: Uuid) -> AppResult<Vec<Uuid>> {
    let mut w = store::sql::Where::new();
    w.and("g.area_id = ?", [street.into()]).and_in(
        "g.role",
        Permission::DispatchCases
            .roles()
            .iter()
            .filter(|r| **r != Role::SystemAdmin)
            .map(|r| r.as_str()),
    );
    let (cond, values) = w.build(1);
    let rows: Vec<Id> = store::fetch_all(
        c,
        &format!(
            "SELECT DISTINCT g.user_id AS id FROM grants g JOIN users u ON u.id = g.user_id WHERE {cond}"
        ),
        values,
    )
    .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

async fn name_of<C: ConnectionTrait>(c: &C, sql: &str, id: Option<Uuid>) -> AppResult<String> {
    let Some(id) = id else {
        return Ok(String::new());
    };
    Ok(store::fetch_opt::<Name, _>(c, sql, vec![id.into()])
        .await?
        .map(|n| n.name)
        .unwrap_or_default())
}

fn due_text(ms: Option<i64>) -> String {
    ms.map_or_else(|| "—".into(), crate::domain::ms_to_local_minute)
}

/// Writes the messages a case's step causes. `from_unit` is the unit that held the case before
/// the step (the one that returns it).
#[tracing::instrument(name = "cases::notify::after_step", skip_all)]
pub async fn after_step<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    r: &CaseRow,
    step: &str,
    from_unit: Option<Uuid>,
    note: Option<&str>,
    rate_link: Option<String>,
) -> AppResult<()> {
    let (key, recipients, link) = match step {
        "dispatch" | "arbitrate" | "reopen" if r.unit_id.is_some() => (
            "case.dispatched",
            unit_members(c, r.unit_id.unwrap_or_default()).await?,
            format!("/cases/{}", r.id),
        ),
        // To the desk, whether it goes back to the queue or to the street's arbitration (the
        // first unit stays responsible meanwhile and needs no message for that).
        "return" => (
            "case.returned",
            desk(c, r.street_id).await?,
            format!("/cases/{}", r.id),
        ),
        "supervise" if r.unit_id.is_some() => (
            "case.supervised",
            unit_members(c, r.unit_id.unwrap_or_default()).await?,
            format!("/cases/{}", r.id),
        ),
        "close" => (
            "case.closed",
            r.submitted_by.into_iter().collect(),
            "/my/cases".to_string(),
        ),
        // Handled and checked, waiting for the resident's rating: the link to rate it.
        "verify" if rate_link.is_some() => (
            "case.rate",
            r.submitted_by.into_iter().collect(),
            rate_link.clone().unwrap_or_default(),
        ),
        "warn" if r.unit_id.is_some() => (
            "case.due_soon",
            unit_members(c, r.unit_id.unwrap_or_default()).await?,
            format!("/cases/{}", r.id),
        ),
        "overdue" => {
            let mut people = match r.unit_id {
                Some(u) => unit_members(c, u).await?,
                None => vec![],
            };
            people.extend(desk(c, r.street_id).await?);
            ("case.overdue", people, format!("/cases/{}", r.id))
        }
        _ => return Ok(()),
    };
    let me = ctx.principal.user_id;
    let recipients: Vec<Uuid> = recipients.into_iter().filter(|u| Some(*u) != me).collect();
    if recipients.is_empty() {
        return Ok(());
    }
    let mut vars = serde_json::Map::new();
    vars.insert("no".into(), r.no.clone().into());
    vars.insert("title".into(), r.title.clone().into());
    vars.insert(
        "category".into(),
        name_of(
            c,
            "SELECT name FROM case_categories WHERE id = $1",
            Some(r.category_id),
        )
        .await?
        .into(),
    );
    vars.insert(
        "street".into(),
        name_of(c, "SELECT name FROM areas WHERE id = $1", Some(r.street_id))
            .await?
            .into(),
    );
    vars.insert(
        "due".into(),
        due_text(r.response_due_at.or(r.handle_due_at)).into(),
    );
    if matches!(key, "case.supervised" | "case.due_soon" | "case.overdue") {
        vars.insert("due".into(), due_text(r.handle_due_at).into());
    }
    vars.insert(
        "unit".into(),
        name_of(
            c,
            "SELECT name FROM case_units WHERE id = $1",
            if key == "case.overdue" {
                r.unit_id
            } else {
                from_unit
            },
        )
        .await?
        .into(),
    );
    if let Some(l) = &rate_link {
        vars.insert("rate_link".into(), l.clone().into());
    }
    vars.insert("note".into(), note.unwrap_or("—").to_string().into());
    messages::enqueue(
        c,
        Outgoing {
            key,
            dedup: format!("{key}:{}:{}", r.id, r.version),
            urgent: matches!(key, "case.supervised" | "case.overdue"),
            area_id: Some(r.area_id),
            link: Some(link),
            vars,
            recipients,
        },
    )
    .await?;
    Ok(())
}

/// 吹哨: the members of each summoned unit, urgent.
#[tracing::instrument(name = "cases::notify::whistle", skip_all)]
pub async fn whistle<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    r: &CaseRow,
    whistle_id: Uuid,
    units: &[Uuid],
    minutes: u32,
) -> AppResult<()> {
    let mut recipients = vec![];
    for u in units {
        recipients.extend(unit_members(c, *u).await?);
    }
    let me = ctx.principal.user_id;
    recipients.retain(|u| Some(*u) != me);
    let mut vars = serde_json::Map::new();
    vars.insert("no".into(), r.no.clone().into());
    vars.insert("title".into(), r.title.clone().into());
    vars.insert("minutes".into(), minutes.into());
    messages::enqueue(
        c,
        Outgoing {
            key: "case.whistle",
            dedup: format!("case.whistle:{whistle_id}"),
            urgent: true,
            area_id: Some(r.area_id),
            link: Some(format!("/cases/{}", r.id)),
            vars,
            recipients,
        },
    )
    .await?;
    Ok(())
}
