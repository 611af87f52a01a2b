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
use std::collections::{BTreeMap, BTreeSet};

use sea_orm::{ConnectionTrait, FromQueryResult, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::{self, Entry};
use super::messages::{self, Outgoing};
use super::{scope, Ctx};
use crate::domain::ids::mask_name;
use crate::domain::role::{Permission, Role};
use crate::domain::{ms_to_rfc3339, new_id, now_ms, text};
use crate::error::{AppError, AppResult, FieldErrors, Msg};
use crate::store::sql::{Cond, Where};
use crate::store::{self, Db, Paging};

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
    store::fetch_opt(c, &format!("{SELECT} WHERE n.id = $1"), vec![id.into()])
        .await?
        .ok_or(AppError::NotFound)
}

/// The notice, if the caller may see it; else 404 (403 in scope without a reading role).
async fn load_visible<C: ConnectionTrait>(c: &C, ctx: &Ctx, id: Uuid) -> AppResult<Row> {
    let r = load(c, id).await?;
    require_related(c, ctx, r.area_id).await?;
    Ok(r)
}

// ---------------------------------------------------------------------------------------------
// Publishing

struct Checked {
    title: String,
    body: String,
    tags: Vec<String>,
    roles: Vec<String>,
    form: Vec<FormField>,
    listed: Vec<Uuid>,
}

fn required_text(errs: &mut FieldErrors, field: &str, v: &str, max: usize) -> String {
    let v = v.trim().to_string();
    let n = v.chars().count();
    if n == 0 {
        errs.insert(field.into(), Msg::new("请填写", "Required"));
    } else if n > max {
        errs.insert(
            field.into(),
            Msg::owned(
                format!("最多 {max} 个字符"),
                format!("At most {max} characters"),
            ),
        );
    } else if text::has_forbidden_control(&v) {
        errs.insert(
            field.into(),
            Msg::new("含有不可见的控制字符", "Contains control characters"),
        );
    }
    v
}

fn check_form(errs: &mut FieldErrors, form: &[FormField]) -> Vec<FormField> {
    if form.len() > 10 {
        errs.insert(
            "form".into(),
            Msg::new("回执表单最多 10 项", "At most 10 fields"),
        );
        return vec![];
    }
    let mut keys = BTreeSet::new();
    let mut out = vec![];
    for (i, f) in form.iter().enumerate() {
        let at = format!("form.{i}");
        let label = required_text(errs, &format!("{at}.label"), &f.label, 50);
        let key = if f.key.trim().is_empty() {
            format!("f{}", i + 1)
        } else {
            f.key.trim().to_string()
        };
        if key.len() > 32
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            errs.insert(
                format!("{at}.key"),
                Msg::new(
                    "只能用字母、数字、下划线",
                    "Letters, digits and underscores only",
                ),
            );
        } else if !keys.insert(key.clone()) {
            errs.insert(
                format!("{at}.key"),
                Msg::new("与另一项重复", "Used by another field"),
            );
        }
        let mut options = vec![];
        match f.kind.as_str() {
            "text" => {}
            "choice" => {
                for o in &f.options {
                    let o = o.trim();
                    if !o.is_empty() && !options.iter().any(|x: &String| x == o) {
                        options.push(o.to_string());
                    }
                }
                if options.len() < 2
                    || options.len() > 20
                    || options.iter().any(|o| o.chars().count() > 50)
                {
                    errs.insert(
                        format!("{at}.options"),
                        Msg::new(
                            "选择题需要 2 到 20 个选项，每项最多 50 字",
                            "A choice needs 2 to 20 options of at most 50 characters",
                        ),
                    );
                }
            }
            _ => {
                errs.insert(
                    format!("{at}.kind"),
                    Msg::new("应为 text 或 choice", "Must be text or choice"),
                );
            }
        }
        out.push(FormField {
            key,
            label,
            kind: f.kind.clone(),
            options,
            required: f.required,
        });
    }
    out
}

fn check(n: &NewNotice) -> AppResult<Checked> {
    let mut errs = FieldErrors::new();
    let title = required_text(&mut errs, "title", &n.title, 100);
    let body = required_text(&mut errs, "body", &n.body, 5000);
    let mut tags = vec![];
    for t in &n.tags {
        let code: &str = match crate::domain::registry::TAGS.parse(t) {
            Ok(c) => c,
            Err(_) => t.trim(),
        };
        if crate::domain::registry::is_sensitive_tag(code) {
            errs.insert(
                "tags".into(),
                Msg::new(
                    "敏感标签不能用于群发通知",
                    "A notice cannot be addressed by a sensitive tag",
                ),
            );
        } else if !TAGS.contains(&code) {
            errs.insert(
                "tags".into(),
                Msg::owned(format!("未知标签：{t}"), format!("Unknown tag: {t}")),
            );
        } else if !tags.iter().any(|x| x == code) {
            tags.push(code.to_string());
        }
    }
    let mut roles = vec![];
    for r in &n.roles {
        match Role::parse_loose(r.trim()).filter(|r| ROLES.contains(r)) {
            Some(role) => {
                if !roles.iter().any(|x| x == role.as_str()) {
                    roles.push(role.as_str().to_string());
                }
            }
            None => {
                errs.insert(
                    "roles".into(),
                    Msg::owned(
                        format!("不能向此角色发通知：{r}"),
                        format!("Not a role a notice goes to: {r}"),
                    ),
                );
            }
        }
    }
    let listed: Vec<Uuid> = n
        .household_ids
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if listed.len() > MAX_LISTED {
        errs.insert(
            "household_ids".into(),
            Msg::owned(
                format!("名单最多 {MAX_LISTED} 户"),
                format!("At most {MAX_LISTED} households"),
            ),
        );
    }
    if !n.households && listed.is_empty() && roles.is_empty() {
        errs.insert(
            "households".into(),
            Msg::new(
                "请选择通知对象：住户、名单或工作人员",
                "Choose whom to tell: households, a list or staff",
            ),
        );
    }
    let form = check_form(&mut errs, &n.form);
    if errs.is_empty() {
        Ok(Checked {
            title,
            body,
            tags,
            roles,
            form,
            listed,
        })
    } else {
        Err(AppError::Validation(errs))
    }
}

/// Publishes a notice: the notice, its receipts, the people told and their message, in one
/// transaction.
pub async fn publish(db: &Db, ctx: &Ctx, n: NewNotice) -> AppResult<NoticeDetail> {
    // Scope before fields: out of scope is 404 whatever the body says.
    scope::require_permission(db, ctx, Permission::SendNotices, n.area_id).await?;
    let c = check(&n)?;
    let requires_ack = n.requires_ack || !c.form.is_empty();
    let id = new_id();
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    if !c.listed.is_empty() {
        // Every listed household exists and lies under the area (else the list names it).
        let mut w = Where::new();
        w.and_in("h.id", c.listed.iter().copied());
        w.and("h.deleted_at IS NULL", []);
        w.and(
            "h.area_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = ?)",
            [n.area_id.into()],
        );
        let (cond, values) = w.build(1);
        let found = store::fetch_i64(
            &tx,
            &format!("SELECT COUNT(*) AS n FROM households h WHERE {cond}"),
            values,
        )
        .await?;
        if found != c.listed.len() as i64 {
            return Err(AppError::field(
                "household_ids",
                Msg::owned(
                    format!(
                        "名单中有 {} 户不在所选区域内或已注销",
                        c.listed.len() as i64 - found
                    ),
                    format!(
                        "{} listed households are not in the area or no longer exist",
                        c.listed.len() as i64 - found
                    ),
                ),
            ));
        }
    }
    store::exec(
        &tx,
        "INSERT INTO notices (id, area_id, title, body, households, tags, roles, listed, requires_ack, form, \
         public, urgent, status, reminders, author_id, author_name, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'published', 0, $13, $14, $15, $15)",
        vec![
            id.into(),
            n.area_id.into(),
            c.title.clone().into(),
            c.body.clone().into(),
            (n.households && c.listed.is_empty()).into(),
            c.tags.join(",").into(),
            c.roles.join(",").into(),
            (!c.listed.is_empty()).into(),
            requires_ack.into(),
            serde_json::to_string(&c.form).unwrap_or_else(|_| "[]".into()).into(),
            n.public.into(),
            n.urgent.into(),
            ctx.principal.user_id.into(),
            ctx.principal.display_name.clone().into(),
            now.into(),
        ],
    )
    .await?;
    let households = if !c.listed.is_empty() || n.households {
        write_receipts(&tx, id, n.area_id, &c.tags, &c.listed).await?
    } else {
        0
    };
    let people = write_people(&tx, ctx, id, n.area_id, &c.roles).await?;
    tell(
        &tx,
        id,
        &c.title,
        n.area_id,
        n.urgent,
        "notice.published",
        None,
    )
    .await?;
    audit::record(
        &tx,
        Entry::by(ctx, "notice.publish", "notice", Some(id.to_string()))
            .area(Some(n.area_id))
            .detail(format!(
                "{} households, {people} accounts; tags [{}], roles [{}]",
                households,
                c.tags.join(","),
                c.roles.join(",")
            )),
    )
    .await?;
    tx.commit().await?;
    detail(db, ctx, id).await
}

/// One receipt per addressed household, with how it can be reached now. One statement, so a
/// notice to a district's million households is written in seconds.
async fn write_receipts<C: ConnectionTrait>(
    c: &C,
    id: Uuid,
    area_id: Uuid,
    tags: &[String],
    listed: &[Uuid],
) -> AppResult<u64> {
    let mut w = Where::new();
    w.and("h.deleted_at IS NULL", []);
    w.and(
        "h.area_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = ?)",
        [area_id.into()],
    );
    if !tags.is_empty() {
        let marks = vec!["?"; tags.len()].join(", ");
        w.and(
            &format!(
                "EXISTS (SELECT 1 FROM household_members m JOIN person_tags t ON t.street_id = m.street_id \
                 AND t.person_id = m.person_id WHERE m.household_id = h.id AND m.to_date IS NULL \
                 AND t.tag_key IN ({marks}))"
            ),
            tags.iter().map(|t| t.clone().into()),
        );
    }
    if !listed.is_empty() {
        w.and_in("h.id", listed.iter().copied());
    }
    let (cond, mut values) = w.build(2);
    values.insert(0, id.into());
    let n = store::exec(
        c,
        &format!(
            "INSERT INTO notice_receipts (notice_id, household_id, community_id, grid_id, area_id, reach) \
             SELECT $1, h.id, h.community_id, h.grid_id, h.area_id, \
             CASE WHEN EXISTS (SELECT 1 FROM household_members m JOIN users u ON u.person_id = m.person_id \
                  AND u.disabled = FALSE WHERE m.household_id = h.id AND m.to_date IS NULL) THEN 'app' \
             ELSE 'none' END \
             FROM households h WHERE {cond}"
        ),
        values,
    )
    .await?;
    Ok(n)
}

/// The accounts told: residents of the households reached in the app, and staff of the roles
/// at or under the area (the author excepted).
async fn write_people<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    id: Uuid,
    area_id: Uuid,
    roles: &[String],
) -> AppResult<u64> {
    let mut n = store::exec(
        c,
        "INSERT INTO notice_people (notice_id, user_id, household_id) \
         SELECT r.notice_id, u.id, r.household_id FROM notice_receipts r \
         JOIN household_members m ON m.household_id = r.household_id AND m.to_date IS NULL \
         JOIN users u ON u.person_id = m.person_id AND u.disabled = FALSE \
         WHERE r.notice_id = $1 AND r.reach = 'app' \
         ON CONFLICT (notice_id, user_id) DO NOTHING",
        vec![id.into()],
    )
    .await?;
    if !roles.is_empty() {
        let mut w = Where::new();
        w.and_in("g.role", roles.iter().cloned());
        w.and(
            "g.area_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = ?)",
            [area_id.into()],
        );
        if let Some(me) = ctx.principal.user_id {
            w.and("g.user_id <> ?", [me.into()]);
        }
        let (cond, mut values) = w.build(2);
        values.insert(0, id.into());
        n += store::exec(
            c,
            &format!(
                "INSERT INTO notice_people (notice_id, user_id) \
                 SELECT $1, g.user_id FROM grants g JOIN users u ON u.id = g.user_id AND u.disabled = FALSE \
                 WHERE {cond} ON CONFLICT (notice_id, user_id) DO NOTHING"
            ),
            values,
        )
        .await?;
    }
    Ok(n)
}

/// The hub's message to the accounts told (`only`: those of these households and the staff who
/// have not read it, for a reminder).
async fn tell<C: ConnectionTrait>(
    c: &C,
    id: Uuid,
    title: &str,
    area_id: Uuid,
    urgent: bool,
    key: &'static str,
    reminder: Option<i32>,
) -> AppResult<u64> {
    #[derive(FromQueryResult)]
    struct U {
        user_id: Uuid,
    }
    let people: Vec<U> = if reminder.is_some() {
        store::fetch_all(
            c,
            "SELECT p.user_id FROM notice_people p JOIN notices n ON n.id = p.notice_id \
             LEFT JOIN notice_receipts r ON r.notice_id = p.notice_id AND r.household_id = p.household_id \
             WHERE p.notice_id = $1 AND p.acked_at IS NULL \
             AND ((p.household_id IS NULL AND p.read_at IS NULL) \
                  OR (p.household_id IS NOT NULL AND r.acked_at IS NULL \
                      AND (n.requires_ack OR r.read_at IS NULL)))",
            vec![id.into()],
        )
        .await?
    } else {
        store::fetch_all(
            c,
            "SELECT user_id FROM notice_people WHERE notice_id = $1",
            vec![id.into()],
        )
        .await?
    };
    let area: Option<String> = store::fetch_opt::<Name, _>(
        c,
        "SELECT name FROM areas WHERE id = $1",
        vec![area_id.into()],
    )
    .await?
    .map(|a| a.name);
    let mut vars = serde_json::Map::new();
    vars.insert("title".into(), title.into());
    vars.insert("area".into(), area.unwrap_or_default().into());
    let n = people.len() as u64;
    messages::enqueue(
        c,
        Outgoing {
            key,
            dedup: match reminder {
                Some(k) => format!("notice:{id}:remind:{k}"),
                None => format!("notice:{id}"),
            },
            urgent,
            area_id: Some(area_id),
            link: Some(format!("/m/notices/{id}")),
            vars,
            recipients: people.into_iter().map(|p| p.user_id).collect(),
        },
    )
    .await?;
    Ok(n)
}

#[derive(FromQueryResult)]
struct Name {
    name: String,
}

// ---------------------------------------------------------------------------------------------
// Reading

async fn coverage<C: ConnectionTrait>(c: &C, ctx: &Ctx, id: Uuid) -> AppResult<Coverage> {
    let mut w = Where::new();
    w.and("r.notice_id = ?", [id.into()]);
    w.and_cond(receipt_cond(ctx, "r.area_id"));
    let (cond, values) = w.build(1);
    #[derive(FromQueryResult)]
    struct H {
        households: i64,
        reached_app: i64,
        reached_sms: i64,
        unreachable: i64,
        read: i64,
        acked: i64,
    }
    let h: Option<H> = store::fetch_opt(
        c,
        &format!(
            "SELECT COUNT(*) AS households, COUNT(CASE WHEN r.reach = 'app' THEN 1 END) AS reached_app, \
             COUNT(CASE WHEN r.reach = 'sms' THEN 1 END) AS reached_sms, \
             COUNT(CASE WHEN r.reach = 'none' THEN 1 END) AS unreachable, \
             COUNT(CASE WHEN r.read_at IS NOT NULL OR r.acked_at IS NOT NULL THEN 1 END) AS read, \
             COUNT(r.acked_at) AS acked FROM notice_receipts r WHERE {cond}"
        ),
        values,
    )
    .await?;
    #[derive(FromQueryResult)]
    struct S {
        staff: i64,
        staff_read: i64,
    }
    let s: Option<S> = store::fetch_opt(
        c,
        "SELECT COUNT(*) AS staff, COUNT(read_at) AS staff_read FROM notice_people \
         WHERE notice_id = $1 AND household_id IS NULL",
        vec![id.into()],
    )
    .await?;
    let h = h.unwrap_or(H {
        households: 0,
        reached_app: 0,
        reached_sms: 0,
        unreachable: 0,
        read: 0,
        acked: 0,
    });
    let s = s.unwrap_or(S {
        staff: 0,
        staff_read: 0,
    });
    Ok(Coverage {
        households: h.households,
        reached_app: h.reached_app,
        reached_sms: h.reached_sms,
        unreachable: h.unreachable,
        read: h.read,
        acked: h.acked,
        staff: s.staff,
        staff_read: s.staff_read,
    })
}

pub async fn detail(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<NoticeDetail> {
    let r = load_visible(db, ctx, id).await?;
    let cov = coverage(db, ctx, id).await?;
    let mut w = Where::new();
    w.and("r.notice_id = ?", [id.into()]);
    w.and_cond(receipt_cond(ctx, "r.area_id"));
    let (cond, values) = w.build(1);
    let by_grid: Vec<GridCoverage> = store::fetch_all(
        db,
        &format!(
            "SELECT r.grid_id, g.name AS grid_name, cm.name AS community_name, COUNT(*) AS households, \
             COUNT(CASE WHEN r.reach <> 'none' THEN 1 END) AS reached, \
             COUNT(CASE WHEN r.reach = 'none' THEN 1 END) AS unreachable, \
             COUNT(CASE WHEN r.read_at IS NOT NULL OR r.acked_at IS NOT NULL THEN 1 END) AS read, \
             COUNT(r.acked_at) AS acked \
             FROM notice_receipts r JOIN areas g ON g.id = r.grid_id JOIN areas cm ON cm.id = r.community_id \
             WHERE {cond} GROUP BY r.grid_id, g.name, g.code, cm.name, cm.code ORDER BY cm.code, g.code LIMIT 2000"
        ),
        values,
    )
    .await?;
    Ok(NoticeDetail {
        notice: view(r, cov),
        by_grid,
    })
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoticeQuery {
    /// Notices addressed at, above or below this area.
    pub area_id: Option<Uuid>,
    /// published (default) | withdrawn | all
    pub status: Option<String>,
    /// Words of the title.
    pub q: Option<String>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoticePage {
    pub items: Vec<Notice>,
    pub total: i64,
    pub page: u64,
    pub page_size: u64,
}

pub async fn list(db: &Db, ctx: &Ctx, q: &NoticeQuery) -> AppResult<NoticePage> {
    let mut w = Where::new();
    w.and_cond(notice_cond(ctx, "n.area_id"));
    if let Some(a) = q.area_id {
        require_related(db, ctx, a).await?;
        w.and(
            "(n.area_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = ?) \
             OR n.area_id IN (SELECT ancestor_id FROM area_closure WHERE descendant_id = ?))",
            [a.into(), a.into()],
        );
    }
    match q.status.as_deref().unwrap_or("published") {
        "all" => {}
        s @ ("published" | "withdrawn") => {
            w.and("n.status = ?", [s.to_string().into()]);
        }
        _ => {
            return Err(AppError::field(
                "status",
                Msg::new(
                    "status 应为 published、withdrawn 或 all",
                    "status must be published, withdrawn or all",
                ),
            ))
        }
    }
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        w.and(
            "n.title LIKE ? ESCAPE '\\'",
            [format!("%{}%", store::like_escape(text)).into()],
        );
    }
    let (cond, values) = w.build(1);
    let paging = Paging::new(q.page, q.page_size);
    let (rows, total): (Vec<Row>, i64) = store::page(
        db,
        &format!("SELECT COUNT(*) AS n FROM notices n WHERE {cond}"),
        &format!("{SELECT} WHERE {cond} ORDER BY n.created_at DESC, n.id"),
        values,
        paging,
    )
    .await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        let cov = coverage(db, ctx, r.id).await?;
        items.push(view(r, cov));
    }
    Ok(NoticePage {
        items,
        total,
        page: paging.page,
        page_size: paging.size,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptRow {
    pub household_id: Uuid,
    pub address: String,
    pub grid_name: String,
    /// The head of the household, masked (王*).
    pub head_name: String,
    /// app | sms | none
    pub reach: String,
    pub read_at: Option<String>,
    pub acked_at: Option<String>,
    /// app | visit
    pub acked_via: Option<String>,
    pub acked_by: Option<String>,
    pub answer: Option<BTreeMap<String, String>>,
    pub reminded_at: Option<String>,
}

#[derive(FromQueryResult)]
struct ReceiptDb {
    household_id: Uuid,
    address: Option<String>,
    grid_name: String,
    head_name: Option<String>,
    reach: String,
    read_at: Option<i64>,
    acked_at: Option<i64>,
    acked_via: Option<String>,
    acked_by: Option<String>,
    answer: Option<String>,
    reminded_at: Option<i64>,
}

const RECEIPTS: &str =
    "SELECT r.household_id, d.address, g.name AS grid_name, p.name AS head_name, \
     r.reach, r.read_at, r.acked_at, r.acked_via, r.acked_by, r.answer, r.reminded_at \
     FROM notice_receipts r JOIN households h ON h.id = r.household_id \
     LEFT JOIN dwellings d ON d.id = h.dwelling_id LEFT JOIN persons p ON p.id = h.head_person_id \
     JOIN areas g ON g.id = r.grid_id";

fn receipt_view(r: ReceiptDb) -> ReceiptRow {
    ReceiptRow {
        household_id: r.household_id,
        address: r.address.unwrap_or_default(),
        grid_name: r.grid_name,
        head_name: r.head_name.as_deref().map(mask_name).unwrap_or_default(),
        reach: r.reach,
        read_at: r.read_at.map(ms_to_rfc3339),
        acked_at: r.acked_at.map(ms_to_rfc3339),
        acked_via: r.acked_via,
        acked_by: r.acked_by,
        answer: r.answer.and_then(|a| serde_json::from_str(&a).ok()),
        reminded_at: r.reminded_at.map(ms_to_rfc3339),
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReceiptQuery {
    pub grid_id: Option<Uuid>,
    /// all (default) | unread | unacked | acked | unreachable | door (the door-to-door list: no
    /// channel reaches it, or a reminder did not move it; not yet done)
    pub state: Option<String>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptPage {
    pub items: Vec<ReceiptRow>,
    pub total: i64,
    pub page: u64,
    pub page_size: u64,
}

/// Not done: acknowledged when the notice asks for it, else read.
const NOT_DONE: &str = "r.acked_at IS NULL AND (n.requires_ack OR r.read_at IS NULL)";

pub async fn receipts(db: &Db, ctx: &Ctx, id: Uuid, q: &ReceiptQuery) -> AppResult<ReceiptPage> {
    load_visible(db, ctx, id).await?;
    let mut w = Where::new();
    w.and("r.notice_id = ?", [id.into()]);
    w.and_cond(receipt_cond(ctx, "r.area_id"));
    if let Some(g) = q.grid_id {
        w.and("r.grid_id = ?", [g.into()]);
    }
    let state = match q.state.as_deref().unwrap_or("all") {
        "all" => None,
        "unread" => Some("r.read_at IS NULL AND r.acked_at IS NULL".to_string()),
        "unacked" => Some("r.acked_at IS NULL".to_string()),
        "acked" => Some("r.acked_at IS NOT NULL".to_string()),
        "unreachable" => Some("r.reach = 'none'".to_string()),
        "door" => Some(format!(
            "{NOT_DONE} AND (r.reach = 'none' OR r.reminded_at IS NOT NULL)"
        )),
        _ => {
            return Err(AppError::field(
                "state",
                Msg::new(
                    "state 应为 all、unread、unacked、acked、unreachable 或 door",
                    "state must be all, unread, unacked, acked, unreachable or door",
                ),
            ))
        }
    };
    if let Some(s) = state {
        w.and(&s, []);
    }
    let (cond, values) = w.build(1);
    let paging = Paging::new(q.page, q.page_size);
    let (rows, total): (Vec<ReceiptDb>, i64) = store::page(
        db,
        &format!(
            "SELECT COUNT(*) AS n FROM notice_receipts r JOIN notices n ON n.id = r.notice_id WHERE {cond}"
        ),
        &format!(
            "{RECEIPTS} JOIN notices n ON n.id = r.notice_id WHERE {cond} ORDER BY g.code, d.address, r.household_id"
        ),
        values,
        paging,
    )
    .await?;
    Ok(ReceiptPage {
        items: rows.into_iter().map(receipt_view).collect(),
        total,
        page: paging.page,
        page_size: paging.size,
    })
}

// ---------------------------------------------------------------------------------------------
// Acting on a notice

#[derive(Debug, Serialize, ToSchema)]
pub struct Reminded {
    /// Households not yet done and reached again in the app.
    pub reminded: u64,
    /// Accounts the reminder went to.
    pub people: u64,
}

/// 提醒未读: the accounts of households not yet done (and staff who have not read it) are told
/// again; those households join the door-to-door list. At most once an hour (409 before).
pub async fn remind(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<Reminded> {
    let r = load_visible(db, ctx, id).await?;
    scope::require_permission(db, ctx, Permission::SendNotices, r.area_id).await?;
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
    audit::record(
        &tx,
        Entry::by(ctx, "notice.remind", "notice", Some(id.to_string()))
            .area(Some(r.area_id))
            .detail(format!(
                "reminder {k}: {reminded} households, {people} accounts"
            )),
    )
    .await?;
    tx.commit().await?;
    Ok(Reminded { reminded, people })
}

fn withdrawn() -> AppError {
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

pub async fn withdraw(db: &Db, ctx: &Ctx, id: Uuid, w: Withdrawal) -> AppResult<NoticeDetail> {
    let r = load_visible(db, ctx, id).await?;
    scope::require_permission(db, ctx, Permission::SendNotices, r.area_id).await?;
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
    audit::record(
        &tx,
        Entry::by(ctx, "notice.withdraw", "notice", Some(id.to_string()))
            .area(Some(r.area_id))
            .detail(reason),
    )
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
fn check_answer(
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
    scope::require_permission(db, ctx, Permission::EditRegistry, area).await?;
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
        audit::record(
            &tx,
            Entry::by(ctx, "notice.ack_visit", "notice", Some(id.to_string()))
                .area(Some(area))
                .detail(format!("household {household_id}; {}", a.note.trim())),
        )
        .await?;
    }
    tx.commit().await?;
    let row: ReceiptDb = store::fetch_opt(
        db,
        &format!("{RECEIPTS} WHERE r.notice_id = $1 AND r.household_id = $2"),
        vec![id.into(), household_id.into()],
    )
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(receipt_view(row))
}

/// The household's acknowledgement, if it has none yet (the first one stands). Returns 1 when
/// this one was recorded.
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
struct AreaOf {
    area_id: Uuid,
}

// ---------------------------------------------------------------------------------------------
// The caller's own notices

#[derive(Debug, Serialize, ToSchema)]
pub struct MyNotice {
    pub id: Uuid,
    pub title: String,
    pub body: String,
    pub area_name: String,
    pub author_name: String,
    pub created_at: String,
    pub urgent: bool,
    pub requires_ack: bool,
    pub form: Vec<FormField>,
    pub read_at: Option<String>,
    /// When the caller's household (or, for staff, the caller) acknowledged it.
    pub acked_at: Option<String>,
    pub acked_by: Option<String>,
    pub answer: Option<BTreeMap<String, String>>,
}

#[derive(FromQueryResult)]
struct MineDb {
    id: Uuid,
    title: String,
    body: String,
    area_name: String,
    author_name: String,
    created_at: i64,
    urgent: bool,
    requires_ack: bool,
    form: String,
    status: String,
    household_id: Option<Uuid>,
    read_at: Option<i64>,
    acked_at: Option<i64>,
    acked_by: Option<String>,
    answer: Option<String>,
}

const MINE: &str = "SELECT n.id, n.title, n.body, a.name AS area_name, n.author_name, n.created_at, n.urgent, \
     n.requires_ack, n.form, n.status, p.household_id, p.read_at, COALESCE(r.acked_at, p.acked_at) AS acked_at, \
     r.acked_by, r.answer \
     FROM notice_people p JOIN notices n ON n.id = p.notice_id JOIN areas a ON a.id = n.area_id \
     LEFT JOIN notice_receipts r ON r.notice_id = p.notice_id AND r.household_id = p.household_id";

fn mine_view(m: MineDb) -> MyNotice {
    MyNotice {
        id: m.id,
        title: m.title,
        body: m.body,
        area_name: m.area_name,
        author_name: m.author_name,
        created_at: ms_to_rfc3339(m.created_at),
        urgent: m.urgent,
        requires_ack: m.requires_ack,
        form: form_of(&m.form),
        read_at: m.read_at.map(ms_to_rfc3339),
        acked_at: m.acked_at.map(ms_to_rfc3339),
        acked_by: m.acked_by,
        answer: m.answer.and_then(|a| serde_json::from_str(&a).ok()),
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MyQuery {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyNoticePage {
    pub items: Vec<MyNotice>,
    pub total: i64,
    /// Not yet opened.
    pub unread: i64,
    /// Asking for an acknowledgement not yet given.
    pub to_ack: i64,
    /// Unread or to acknowledge (the home page's to-do).
    pub waiting: i64,
    pub page: u64,
    pub page_size: u64,
}

fn me(ctx: &Ctx) -> AppResult<Uuid> {
    ctx.principal.user_id.ok_or(AppError::NotFound)
}

pub async fn my_list(db: &Db, ctx: &Ctx, q: &MyQuery) -> AppResult<MyNoticePage> {
    let user = me(ctx)?;
    let paging = Paging::new(q.page, q.page_size);
    let (rows, total): (Vec<MineDb>, i64) = store::page(
        db,
        "SELECT COUNT(*) AS n FROM notice_people p JOIN notices n ON n.id = p.notice_id \
         WHERE p.user_id = $1 AND n.status = 'published'",
        &format!(
            "{MINE} WHERE p.user_id = $1 AND n.status = 'published' ORDER BY n.created_at DESC, n.id"
        ),
        vec![user.into()],
        paging,
    )
    .await?;
    let (unread, to_ack, waiting) = my_counts(db, user).await?;
    Ok(MyNoticePage {
        items: rows.into_iter().map(mine_view).collect(),
        total,
        unread,
        to_ack,
        waiting,
        page: paging.page,
        page_size: paging.size,
    })
}

/// (unread, to acknowledge, either) for the caller: the same rows the list shows.
pub async fn my_counts<C: ConnectionTrait>(c: &C, user: Uuid) -> AppResult<(i64, i64, i64)> {
    #[derive(FromQueryResult)]
    struct N {
        unread: i64,
        to_ack: i64,
        waiting: i64,
    }
    let n: Option<N> = store::fetch_opt(
        c,
        "SELECT COUNT(CASE WHEN p.read_at IS NULL THEN 1 END) AS unread, \
         COUNT(CASE WHEN n.requires_ack AND p.acked_at IS NULL AND r.acked_at IS NULL THEN 1 END) AS to_ack, \
         COUNT(CASE WHEN p.read_at IS NULL OR (n.requires_ack AND p.acked_at IS NULL AND r.acked_at IS NULL) \
         THEN 1 END) AS waiting \
         FROM notice_people p JOIN notices n ON n.id = p.notice_id \
         LEFT JOIN notice_receipts r ON r.notice_id = p.notice_id AND r.household_id = p.household_id \
         WHERE p.user_id = $1 AND n.status = 'published'",
        vec![user.into()],
    )
    .await?;
    Ok(n.map(|n| (n.unread, n.to_ack, n.waiting))
        .unwrap_or((0, 0, 0)))
}

async fn mine<C: ConnectionTrait>(c: &C, user: Uuid, id: Uuid) -> AppResult<MineDb> {
    let m: MineDb = store::fetch_opt(
        c,
        &format!("{MINE} WHERE p.user_id = $1 AND p.notice_id = $2"),
        vec![user.into(), id.into()],
    )
    .await?
    .ok_or(AppError::NotFound)?;
    if m.status != "published" {
        return Err(AppError::NotFound);
    }
    Ok(m)
}

/// Opens one of the caller's notices: the first opening is the person's read, and the
/// household's.
pub async fn my_open(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<MyNotice> {
    let user = me(ctx)?;
    let m = mine(db, user, id).await?;
    if m.read_at.is_none() {
        let now = now_ms();
        let tx = db.begin().await?;
        store::exec(
            &tx,
            "UPDATE notice_people SET read_at = $3 WHERE notice_id = $1 AND user_id = $2 AND read_at IS NULL",
            vec![id.into(), user.into(), now.into()],
        )
        .await?;
        if let Some(h) = m.household_id {
            store::exec(
                &tx,
                "UPDATE notice_receipts SET read_at = $3 WHERE notice_id = $1 AND household_id = $2 AND read_at IS NULL",
                vec![id.into(), h.into(), now.into()],
            )
            .await?;
        }
        tx.commit().await?;
    }
    Ok(mine_view(mine(db, user, id).await?))
}

/// 确认收到, with the form's answer for the household. The household's first acknowledgement
/// stands (a second member, or the same tap twice, changes nothing).
pub async fn my_ack(db: &Db, ctx: &Ctx, id: Uuid, a: Ack) -> AppResult<MyNotice> {
    let user = me(ctx)?;
    let m = mine(db, user, id).await?;
    let answer = check_answer(&form_of(&m.form), &a.answer)?;
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "UPDATE notice_people SET acked_at = $3, read_at = COALESCE(read_at, $3) \
         WHERE notice_id = $1 AND user_id = $2 AND acked_at IS NULL",
        vec![id.into(), user.into(), now.into()],
    )
    .await?;
    if let Some(h) = m.household_id {
        ack_household(&tx, id, h, "app", &ctx.principal.display_name, answer, now).await?;
    }
    tx.commit().await?;
    Ok(mine_view(mine(db, user, id).await?))
}

// ---------------------------------------------------------------------------------------------
// Demo

/// Demo data: the resident 孙丽 (`jumin`) is the head of a household in her building (her
/// account names that registry person, as a confirmed self-registration would), and the
/// community worker `shequ` has published two notices: one to her grid asking each household
/// for an answer, told to its grid worker and building leader too, and a public one to the
/// community.
pub async fn demo(db: &Db, ctx: &Ctx) -> AppResult<usize> {
    #[derive(FromQueryResult)]
    struct U {
        id: Uuid,
        display_name: String,
        area_id: Option<Uuid>,
        role: String,
    }
    let users: Vec<U> = store::fetch_all(
        db,
        "SELECT u.id, u.display_name, g.area_id, g.role FROM users u JOIN grants g ON g.user_id = u.id \
         WHERE u.username IN ('jumin', 'shequ') ORDER BY u.username",
        vec![],
    )
    .await?;
    let (Some(resident), Some(worker)) = (
        users.iter().find(|u| u.role == "resident"),
        users.iter().find(|u| u.role == "community_worker"),
    ) else {
        return Ok(0);
    };
    let (Some(building), Some(community)) = (resident.area_id, worker.area_id) else {
        return Ok(0);
    };
    #[derive(FromQueryResult)]
    struct H {
        head_person_id: Uuid,
        grid_id: Uuid,
    }
    let Some(h) = store::fetch_opt::<H, _>(
        db,
        "SELECT h.head_person_id, h.grid_id FROM households h WHERE h.deleted_at IS NULL \
         AND h.head_person_id IS NOT NULL \
         AND h.area_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = $1) \
         ORDER BY h.id LIMIT 1",
        vec![building.into()],
    )
    .await?
    else {
        return Ok(0);
    };
    store::exec(
        db,
        "UPDATE users SET person_id = $2 WHERE id = $1",
        vec![resident.id.into(), h.head_person_id.into()],
    )
    .await?;
    let author = Ctx {
        principal: std::sync::Arc::new(super::Principal {
            kind: super::PrincipalKind::User,
            user_id: Some(worker.id),
            token_id: None,
            session_id: None,
            name: "shequ".into(),
            display_name: worker.display_name.clone(),
            grants: vec![super::GrantRef {
                role: Role::CommunityWorker,
                area_id: Some(community),
            }],
            must_change_password: false,
        }),
        ..ctx.clone()
    };
    publish(
        db,
        &author,
        NewNotice {
            area_id: h.grid_id,
            title: "关于电梯年度检修停用的通知".into(),
            body: "各位居民：本网格各楼电梯将于下周二 9:00—17:00 进行年度检修，检修期间停止使用。\
                   家中有行动不便的老人或需要帮助的，请在回执中说明，社区将安排志愿者上门协助。"
                .into(),
            households: true,
            tags: vec![],
            household_ids: vec![],
            roles: vec!["grid_worker".into(), "building_leader".into()],
            requires_ack: true,
            form: vec![
                FormField {
                    key: "needs_help".into(),
                    label: "检修期间是否需要上门协助".into(),
                    kind: "choice".into(),
                    options: vec!["需要".into(), "不需要".into()],
                    required: true,
                },
                FormField {
                    key: "note".into(),
                    label: "其他需要说明的情况".into(),
                    kind: "text".into(),
                    options: vec![],
                    required: false,
                },
            ],
            public: false,
            urgent: false,
        },
    )
    .await?;
    publish(
        db,
        &author,
        NewNotice {
            area_id: community,
            title: "冬季燃气安全与供暖报修提示".into(),
            body: "进入供暖季，请注意燃气使用安全，离家前关闭燃气阀门；暖气不热可拨打社区服务电话或在“随手拍”中报修。"
                .into(),
            households: true,
            tags: vec![],
            household_ids: vec![],
            roles: vec![],
            requires_ack: false,
            form: vec![],
            public: true,
            urgent: false,
        },
    )
    .await?;
    Ok(2)
}
