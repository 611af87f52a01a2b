//! Publishing a notice: the checks, then the notice, its receipts, the people told and their
//! message in one transaction.
use std::collections::BTreeSet;

use sea_orm::{ConnectionTrait, FromQueryResult};
use uuid::Uuid;

use super::read::*;
use super::*;
use crate::app::audit::Entry;
use crate::app::messages::{self, Outgoing};
use crate::app::{scope, Ctx};
use crate::domain::role::{Permission, Role};
use crate::domain::{new_id, now_ms, text};
use crate::error::{AppError, AppResult, FieldErrors, Msg};
use crate::store::sql::Where;
use crate::store::{self, Db};

pub(super) struct Checked {
    title: String,
    body: String,
    tags: Vec<String>,
    roles: Vec<String>,
    form: Vec<FormField>,
    listed: Vec<Uuid>,
}

pub(crate) fn required_text(errs: &mut FieldErrors, field: &str, v: &str, max: usize) -> String {
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

pub(super) fn check_form(errs: &mut FieldErrors, form: &[FormField]) -> Vec<FormField> {
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

pub(super) fn check(n: &NewNotice) -> AppResult<Checked> {
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
/// transaction. With `sms` (an SMS provider with a template for notices), a household no account
/// reaches gets an SMS to a member's mobile on file.
#[tracing::instrument(name = "notices::publish::publish", skip_all)]
pub async fn publish(db: &Db, ctx: &Ctx, n: NewNotice, sms: bool) -> AppResult<NoticeDetail> {
    let id = publish_only(db, ctx, n, sms).await?;
    detail(db, ctx, id).await
}

/// [`publish`] without reading the coverage back: the notice's id once it is committed.
#[tracing::instrument(name = "notices::publish::publish_only", skip_all)]
pub async fn publish_only(db: &Db, ctx: &Ctx, n: NewNotice, sms: bool) -> AppResult<Uuid> {
    // Scope before fields: out of scope is 404 whatever the body says.
    let checked = scope::require_permission(db, ctx, Permission::SendNotices, n.area_id).await?;
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
        write_receipts(&tx, id, n.area_id, &c.tags, &c.listed, sms).await?
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
    if sms {
        sms_households(&tx, id, &format!("notice:{id}"), false).await?;
    }
    Entry::by(ctx, &checked, "notice.publish", "notice", id)
        .area(n.area_id)
        .detail(format!(
            "{} households, {people} accounts; tags [{}], roles [{}]",
            households,
            c.tags.join(","),
            c.roles.join(",")
        ))
        .record(&tx)
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// One receipt per addressed household, with how it can be reached now. One statement, so a
/// notice to a district's million households is written in seconds.
pub(super) async fn write_receipts<C: ConnectionTrait>(
    c: &C,
    id: Uuid,
    area_id: Uuid,
    tags: &[String],
    listed: &[Uuid],
    sms: bool,
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
    // Without an account, a member's mobile on file reaches the household by SMS (when sent).
    let sms_case = if sms {
        "WHEN EXISTS (SELECT 1 FROM household_members m JOIN persons p ON p.street_id = m.street_id \
              AND p.id = m.person_id WHERE m.household_id = h.id AND m.to_date IS NULL \
              AND p.mobile_enc IS NOT NULL AND p.deleted_at IS NULL) THEN 'sms' "
    } else {
        ""
    };
    let n = store::exec(
        c,
        &format!(
            "INSERT INTO notice_receipts (notice_id, household_id, community_id, grid_id, area_id, reach) \
             SELECT $1, h.id, h.community_id, h.grid_id, h.area_id, \
             CASE WHEN EXISTS (SELECT 1 FROM household_members m JOIN users u ON u.person_id = m.person_id \
                  AND u.disabled = FALSE WHERE m.household_id = h.id AND m.to_date IS NULL) THEN 'app' \
             {sms_case}ELSE 'none' END \
             FROM households h WHERE {cond}"
        ),
        values,
    )
    .await?;
    Ok(n)
}

/// SMS deliveries of the hub's message `dedup` to the households of the notice reached by SMS
/// (`only_not_done`: those that have not read or acknowledged it, for a reminder), each to one
/// member's mobile on file (the head's first). The mobile's ciphertext is copied, never
/// decrypted here. Returns how many were written.
pub(super) async fn sms_households<C: ConnectionTrait>(
    c: &C,
    id: Uuid,
    dedup: &str,
    only_not_done: bool,
) -> AppResult<u64> {
    #[derive(FromQueryResult)]
    struct M {
        id: Uuid,
    }
    let Some(message) = store::fetch_opt::<M, _>(
        c,
        "SELECT id FROM messages WHERE dedup_key = $1",
        vec![dedup.to_string().into()],
    )
    .await?
    else {
        return Ok(0);
    };
    #[derive(FromQueryResult)]
    struct H {
        household_id: Uuid,
        mobile_enc: String,
    }
    let not_done = if only_not_done {
        format!(" AND {NOT_DONE}")
    } else {
        String::new()
    };
    let rows: Vec<H> = store::fetch_all(
        c,
        &format!(
            "SELECT r.household_id, (SELECT p.mobile_enc FROM household_members m JOIN persons p \
               ON p.street_id = m.street_id AND p.id = m.person_id \
               WHERE m.household_id = r.household_id AND m.to_date IS NULL AND p.mobile_enc IS NOT NULL \
               AND p.deleted_at IS NULL \
               ORDER BY CASE WHEN m.relation = 'head' THEN 0 ELSE 1 END, m.from_date LIMIT 1) AS mobile_enc \
             FROM notice_receipts r JOIN notices n ON n.id = r.notice_id \
             WHERE r.notice_id = $1 AND r.reach = 'sms'{not_done}"
        ),
        vec![id.into()],
    )
    .await?;
    let now = crate::domain::now_ms();
    let values: Vec<Vec<sea_orm::Value>> = rows
        .into_iter()
        .map(|h| {
            vec![
                crate::domain::new_id().into(),
                message.id.into(),
                "sms".into(),
                "queued".into(),
                0i32.into(),
                now.into(),
                now.into(),
                h.household_id.into(),
                h.mobile_enc.into(),
            ]
        })
        .collect();
    Ok(store::insert_many(
        c,
        "message_deliveries",
        &[
            "id",
            "message_id",
            "channel",
            "state",
            "attempts",
            "next_attempt_at",
            "created_at",
            "household_id",
            "phone_enc",
        ],
        values,
    )
    .await?)
}

/// A household's SMS could not be delivered (the provider refused it or reported it failed): the
/// notice no longer counts it as reached, and it joins the door-to-door list.
#[tracing::instrument(name = "notices::publish::sms_failed", skip_all)]
pub async fn sms_failed<C: ConnectionTrait>(c: &C, delivery_id: Uuid) -> AppResult<()> {
    #[derive(FromQueryResult)]
    struct D {
        household_id: Uuid,
        dedup_key: String,
    }
    let Some(d) = store::fetch_opt::<D, _>(
        c,
        "SELECT d.household_id, m.dedup_key FROM message_deliveries d JOIN messages m ON m.id = d.message_id \
         WHERE d.id = $1 AND d.household_id IS NOT NULL",
        vec![delivery_id.into()],
    )
    .await?
    else {
        return Ok(());
    };
    let Some(notice) = d
        .dedup_key
        .strip_prefix("notice:")
        .and_then(|rest| Uuid::parse_str(rest.get(..36)?).ok())
    else {
        return Ok(());
    };
    store::exec(
        c,
        "UPDATE notice_receipts SET reach = 'none' WHERE notice_id = $1 AND household_id = $2 AND reach = 'sms'",
        vec![notice.into(), d.household_id.into()],
    )
    .await?;
    Ok(())
}

/// The accounts told: residents of the households reached in the app, and staff of the roles
/// at or under the area (the author excepted).
pub(super) async fn write_people<C: ConnectionTrait>(
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
pub(super) async fn tell<C: ConnectionTrait>(
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
pub(super) struct Name {
    name: String,
}
