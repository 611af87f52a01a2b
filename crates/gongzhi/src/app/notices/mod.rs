//! 通知公告 with receipts (issue 15 point 4). An author addresses a notice to the households under
//! an area (down to a building), optionally only those with a member of some registry tags, or to
//! a list of households, and to staff roles of the area. Publishing writes, in one transaction,
//! the notice, one receipt per addressed household (`notice_receipts`: how it can be reached, read,
//! acknowledged, its answer) by one `INSERT … SELECT`, one row per account told (`notice_people`)
//! and the message hub's message to those accounts (app/messages). The author sees coverage by
//! grid, reminds those who have not read or acknowledged it, and a grid worker gets the
//! door-to-door list of households that no channel reaches and records their answer in person.
//!
//! Scope: a notice is seen by those who may read the registry or send notices at its area, above
//! it or below it (a grid worker sees the community's notice), and every count and list is cut to
//! the caller's own part of it. Out of scope is 404, as everywhere.
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{scope, Ctx};
use crate::domain::ms_to_rfc3339;
use crate::domain::role::{Permission, Role};
use crate::error::{AppError, AppResult};
use crate::store::sql::{Cond, Where};
use crate::store::{self};

mod act;
mod mine;
pub(crate) mod publish;
mod read;

pub use act::{ack_household, ack_visit, remind, withdraw, Ack, Reminded, VisitAck, Withdrawal};
pub use mine::{my_ack, my_counts, my_list, my_open, MyNotice, MyNoticePage, MyQuery};
pub(crate) use publish::required_text;
pub use publish::{publish, publish_only, sms_failed};
pub use read::{
    detail, list, receipts, NoticePage, NoticeQuery, ReceiptPage, ReceiptQuery, ReceiptRow,
};

/// Registry tags a notice may be addressed by. The sensitive ones (低保, 残疾, …) are not: a
/// notice to them would tell the neighbours who they are.
pub const TAGS: &[&str] = &[
    "living_alone_elderly",
    "empty_nest_elderly",
    "left_behind_child",
    "entitled_group",
];

/// Staff roles a notice may be addressed to.
pub const ROLES: &[Role] = &[
    Role::StreetAdmin,
    Role::CommunityAdmin,
    Role::CommunityWorker,
    Role::GridWorker,
    Role::BuildingLeader,
    Role::PartySecretary,
    Role::Volunteer,
];

/// At most this many households in a list.
pub const MAX_LISTED: usize = 5_000;
/// A reminder at most this often.
pub const REMIND_EVERY_MS: i64 = 3_600_000;

/// Who may see a notice (at, above or below its area).
const READERS: &[Permission] = &[Permission::ReadRegistry, Permission::SendNotices];

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FormField {
    /// Made from the label's position when empty.
    #[serde(default)]
    pub key: String,
    pub label: String,
    /// text | choice
    pub kind: String,
    /// The choices (choice only).
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub required: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNotice {
    pub area_id: Uuid,
    pub title: String,
    pub body: String,
    /// Address the households under the area (default true).
    #[serde(default = "yes")]
    pub households: bool,
    /// Only households with a current member having any of these tags (empty: every household).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Or these households (each under the area), at most 5,000.
    #[serde(default)]
    pub household_ids: Vec<Uuid>,
    /// Staff roles told in the area: grid_worker, building_leader, …
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub requires_ack: bool,
    /// An answer to collect per household (implies `requires_ack`).
    #[serde(default)]
    pub form: Vec<FormField>,
    #[serde(default)]
    pub public: bool,
    #[serde(default)]
    pub urgent: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Default, Serialize, ToSchema, FromQueryResult)]
pub struct Coverage {
    /// Households addressed.
    pub households: i64,
    /// Of them, reachable in the app (a member has an account).
    pub reached_app: i64,
    /// Reachable by SMS only (a mobile on file).
    pub reached_sms: i64,
    /// Reachable by no channel: door to door.
    pub unreachable: i64,
    pub read: i64,
    pub acked: i64,
    /// Staff told by role, and how many of them read it.
    pub staff: i64,
    pub staff_read: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Notice {
    pub id: Uuid,
    pub area_id: Uuid,
    pub area_name: String,
    pub title: String,
    pub body: String,
    pub households: bool,
    pub tags: Vec<String>,
    pub roles: Vec<String>,
    /// Addressed to a list of households.
    pub listed: bool,
    pub requires_ack: bool,
    pub form: Vec<FormField>,
    pub public: bool,
    pub urgent: bool,
    /// published | withdrawn
    pub status: String,
    pub withdrawn_reason: Option<String>,
    pub author_name: String,
    pub created_at: String,
    pub reminders: i32,
    pub last_reminded_at: Option<String>,
    /// Counted over the caller's part of the notice.
    pub coverage: Coverage,
}

#[derive(Debug, Serialize, ToSchema, FromQueryResult)]
pub struct GridCoverage {
    pub grid_id: Uuid,
    pub grid_name: String,
    pub community_name: String,
    pub households: i64,
    pub reached: i64,
    pub unreachable: i64,
    pub read: i64,
    pub acked: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeDetail {
    #[serde(flatten)]
    pub notice: Notice,
    pub by_grid: Vec<GridCoverage>,
}

#[derive(Debug, Clone, FromQueryResult)]
struct Row {
    id: Uuid,
    area_id: Uuid,
    area_name: String,
    title: String,
    body: String,
    households: bool,
    tags: String,
    roles: String,
    listed: bool,
    requires_ack: bool,
    form: String,
    public: bool,
    urgent: bool,
    status: String,
    withdrawn_reason: Option<String>,
    author_name: String,
    created_at: i64,
    reminders: i32,
    last_reminded_at: Option<i64>,
}

const SELECT: &str = "SELECT n.id, n.area_id, a.name AS area_name, n.title, n.body, n.households, n.tags, \
     n.roles, n.listed, n.requires_ack, n.form, n.public, n.urgent, n.status, n.withdrawn_reason, n.author_name, \
     n.created_at, n.reminders, n.last_reminded_at FROM notices n JOIN areas a ON a.id = n.area_id";

fn split(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

fn form_of(s: &str) -> Vec<FormField> {
    serde_json::from_str(s).unwrap_or_default()
}

fn view(r: Row, coverage: Coverage) -> Notice {
    Notice {
        id: r.id,
        area_id: r.area_id,
        area_name: r.area_name,
        title: r.title,
        body: r.body,
        households: r.households,
        tags: split(&r.tags),
        roles: split(&r.roles),
        listed: r.listed,
        requires_ack: r.requires_ack,
        form: form_of(&r.form),
        public: r.public,
        urgent: r.urgent,
        status: r.status,
        withdrawn_reason: r.withdrawn_reason,
        author_name: r.author_name,
        created_at: ms_to_rfc3339(r.created_at),
        reminders: r.reminders,
        last_reminded_at: r.last_reminded_at.map(ms_to_rfc3339),
        coverage,
    }
}

// ---------------------------------------------------------------------------------------------
// Scope

/// The areas where the caller may read notices (`None`: everywhere).
fn reader_roots(ctx: &Ctx) -> Option<Vec<Uuid>> {
    let roles: Vec<Role> = READERS
        .iter()
        .flat_map(|p| p.roles().iter().copied())
        .collect();
    scope::areas_with_roles(ctx, &roles)
}

/// Notices whose area lies above or below one of the caller's reading areas.
fn notice_cond(ctx: &Ctx, column: &str) -> Cond {
    match reader_roots(ctx) {
        None => Cond::all(),
        Some(ids) if ids.is_empty() => Cond::none(),
        Some(ids) => {
            let marks = vec!["?"; ids.len()].join(", ");
            let mut values: Vec<sea_orm::Value> = ids.iter().map(|i| (*i).into()).collect();
            values.extend(ids.iter().map(|i| sea_orm::Value::from(*i)));
            Cond::new(
                format!(
                    "({column} IN (SELECT descendant_id FROM area_closure WHERE ancestor_id IN ({marks})) \
                     OR {column} IN (SELECT ancestor_id FROM area_closure WHERE descendant_id IN ({marks})))"
                ),
                values,
            )
        }
    }
}

/// The caller's part of a notice's receipts: households where they may read the registry or
/// send notices.
fn receipt_cond(ctx: &Ctx, column: &str) -> Cond {
    match reader_roots(ctx) {
        None => Cond::all(),
        Some(ids) if ids.is_empty() => Cond::none(),
        Some(ids) => {
            let marks = vec!["?"; ids.len()].join(", ");
            Cond::new(
                format!(
                    "{column} IN (SELECT descendant_id FROM area_closure WHERE ancestor_id IN ({marks}))"
                ),
                ids.into_iter().map(sea_orm::Value::from),
            )
        }
    }
}

/// 404 unless the area lies at, above or below one of the caller's reading areas.
async fn require_related<C: ConnectionTrait>(c: &C, ctx: &Ctx, area_id: Uuid) -> AppResult<()> {
    let mut w = Where::new();
    w.and("a.id = ?", [area_id.into()]);
    w.and_cond(notice_cond(ctx, "a.id"));
    let (cond, values) = w.build(1);
    let n = store::fetch_i64(
        c,
        &format!("SELECT COUNT(*) AS n FROM areas a WHERE {cond}"),
        values,
    )
    .await?;
    if n > 0 {
        Ok(())
    } else if scope::can_see(c, ctx, area_id).await? {
        // In scope without a role that reads notices: 403, as everywhere.
        Err(AppError::forbidden())
    } else {
        Err(AppError::NotFound)
    }
}

async fn load<C: ConnectionTrait>(c: &C, id: Uuid) -> AppResult<Row> {
    store::fetch_found(c, &format!("{SELECT} WHERE n.id = $1"), vec![id.into()]).await
}

/// The notice, if the caller may see it; else 404 (403 in scope without a reading role).
async fn load_visible<C: ConnectionTrait>(c: &C, ctx: &Ctx, id: Uuid) -> AppResult<Row> {
    let r = load(c, id).await?;
    require_related(c, ctx, r.area_id).await?;
    Ok(r)
}
