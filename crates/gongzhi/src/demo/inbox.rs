//! Demo inboxes: messages as if cases had just been dispatched (app/cases/notify.rs).
use sea_orm::{ConnectionTrait, FromQueryResult};
use uuid::Uuid;

use crate::app::Ctx;
use crate::error::AppResult;
use crate::store;

#[derive(FromQueryResult)]
struct Id {
    id: Uuid,
}

/// Demo: the open cases of units with people in them tell those people, as if just dispatched,
/// and cases awaiting arbitration tell the desk (at most 40 messages), so a newcomer's inbox is
/// not empty.
pub async fn demo_inbox<C: ConnectionTrait>(c: &C, ctx: &Ctx) -> AppResult<usize> {
    let rows: Vec<Id> = store::fetch_all(
        c,
        "SELECT id FROM cases WHERE status IN ('dispatched', 'in_progress') AND unit_id IN \
         (SELECT m.unit_id FROM case_unit_members m JOIN users u ON u.id = m.member_id) \
         ORDER BY dispatched_at DESC, id LIMIT 30",
        vec![],
    )
    .await?;
    let back: Vec<Id> = store::fetch_all(
        c,
        "SELECT id FROM cases WHERE status = 'arbitration' ORDER BY updated_at DESC, id LIMIT 10",
        vec![],
    )
    .await?;
    let mut n = 0;
    for (ids, step) in [(rows, "dispatch"), (back, "return")] {
        for i in ids {
            if let Some(r) = crate::app::cases::query::load(c, i.id).await? {
                crate::app::cases::notify::after_step(
                    c,
                    ctx,
                    &r,
                    step,
                    r.first_unit_id,
                    Some("演示数据"),
                    None,
                )
                .await?;
                n += 1;
            }
        }
    }
    Ok(n)
}
