//! The sharing catalogue (共享目录): which role — or one user — may read which fields of which
//! residents, for a stated purpose. Default deny: departments and work units read registry data
//! only through a rule, only the rule's fields, and every read is audited with the rule.
use std::collections::HashSet;

use sea_orm::FromQueryResult;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::persons::{self, PersonRow};
use crate::app::audit::{self, Entry};
use crate::app::users::require_system;
use crate::app::{scope, Ctx};
use crate::crypto::Keys;
use crate::domain::registry::{self as vocab, is_sensitive_tag};
use crate::domain::role::Role;
use crate::domain::{clean_name, ms_to_rfc3339, new_id, now_ms};
use crate::error::{AppError, AppResult, FieldErrors, Msg};
use crate::store::{self, Db};

/// Fields a rule may share (never full ID numbers or mobiles).
pub const SHAREABLE: &[&str] = &[
    "name",
    "gender",
    "age",
    "birth_date",
    "address",
    "residence_type",
    "tags",
    "sensitive_tags",
    "id_no_masked",
    "mobile_masked",
];

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SharingRule {
    pub id: Uuid,
    pub name: String,
    pub role: String,
    pub user_id: Option<Uuid>,
    pub area_id: Uuid,
    pub area_name: String,
    pub tag: Option<String>,
    pub fields: Vec<String>,
    pub purpose: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

#[derive(FromQueryResult)]
struct RuleRow {
    id: Uuid,
    name: String,
    role: String,
    user_id: Option<Uuid>,
    area_id: Uuid,
    area_name: String,
    tag: Option<String>,
    fields: String,
    purpose: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

const SELECT: &str = "SELECT r.id, r.name, r.role, r.user_id, r.area_id, a.name AS area_name, r.tag, r.fields, r.purpose, \
    r.created_at, r.revoked_at FROM sharing_rules r JOIN areas a ON a.id = r.area_id";

fn view(r: RuleRow) -> SharingRule {
    SharingRule {
        id: r.id,
        name: r.name,
        role: r.role,
        user_id: r.user_id,
        area_id: r.area_id,
        area_name: r.area_name,
        tag: r.tag,
        fields: serde_json::from_str(&r.fields).unwrap_or_default(),
        purpose: r.purpose,
        created_at: ms_to_rfc3339(r.created_at),
        revoked_at: r.revoked_at.map(ms_to_rfc3339),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRule {
    pub name: String,
    /// department_handler | work_unit_contact | party_secretary | volunteer
    pub role: String,
    /// Only this user (who must hold the role); absent: everyone holding it.
    pub user_id: Option<Uuid>,
    /// Residents under this area.
    pub area_id: Uuid,
    /// Only residents with this tag (e.g. `subsistence` for 民政 and 低保).
    pub tag: Option<String>,
    /// Any of: name, gender, age, birth_date, address, residence_type, tags, sensitive_tags, id_no_masked, mobile_masked.
    pub fields: Vec<String>,
    /// The purpose or legal basis (minimum necessary).
    pub purpose: String,
}

const SHARE_ROLES: &[Role] = &[
    Role::DepartmentHandler,
    Role::WorkUnitContact,
    Role::PartySecretary,
    Role::Volunteer,
];

#[tracing::instrument(name = "registry::sharing::create", skip_all)]
pub async fn create(db: &Db, ctx: &Ctx, r: NewRule) -> AppResult<SharingRule> {
    let checked = require_system(ctx)?;
    let mut errs = FieldErrors::new();
    let name = clean_name(&r.name, 100)
        .map_err(|m| errs.insert("name".into(), m))
        .ok();
    let role = Role::parse(&r.role).filter(|x| SHARE_ROLES.contains(x));
    if role.is_none() {
        errs.insert(
            "role".into(),
            Msg::new("共享对象角色应为部门承办人、单位联系人、党组织书记或志愿者", "The role must be department_handler, work_unit_contact, party_secretary or volunteer"),
        );
    }
    let tag = match r.tag.as_deref().filter(|s| !s.is_empty()) {
        Some(t) => vocab::TAGS
            .parse(t)
            .map_err(|m| errs.insert("tag".into(), m))
            .ok(),
        None => None,
    };
    let mut fields: Vec<String> = vec![];
    for f in &r.fields {
        if !SHAREABLE.contains(&f.as_str()) {
            errs.insert(
                "fields".into(),
                Msg::owned(
                    format!("不可共享的字段：{f}"),
                    format!("Not a shareable field: {f}"),
                ),
            );
        } else if !fields.contains(f) {
            fields.push(f.clone());
        }
    }
    if fields.is_empty() && !errs.contains_key("fields") {
        errs.insert(
            "fields".into(),
            Msg::new("请至少选择一个字段", "Choose at least one field"),
        );
    }
    let purpose = r.purpose.trim().to_string();
    if purpose.chars().count() < 2 || purpose.chars().count() > 200 {
        errs.insert(
            "purpose".into(),
            Msg::new(
                "请写明共享目的或依据（2–200 字）",
                "State the purpose or legal basis (2–200 characters)",
            ),
        );
    }
    if store::fetch_i64(
        db,
        "SELECT COUNT(*) FROM areas WHERE id = $1",
        vec![r.area_id.into()],
    )
    .await?
        == 0
    {
        return Err(AppError::NotFound);
    }
    if let Some(u) = r.user_id {
        if store::fetch_i64(
            db,
            "SELECT COUNT(*) FROM users WHERE id = $1",
            vec![u.into()],
        )
        .await?
            == 0
        {
            return Err(AppError::NotFound);
        }
    }
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let id = new_id();
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "INSERT INTO sharing_rules (id, name, role, user_id, area_id, tag, fields, purpose, created_by, created_at, revoked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL)",
        vec![
            id.into(),
            name.unwrap_or_default().into(),
            role.map(|x| x.as_str()).unwrap_or_default().into(),
            r.user_id.into(),
            r.area_id.into(),
            tag.map(str::to_string).into(),
            serde_json::to_string(&fields).unwrap_or_default().into(),
            purpose.into(),
            ctx.principal.actor_id().into(),
            now_ms().into(),
        ],
    )
    .await?;
    Entry::by(ctx, &checked, "sharing.create", "sharing_rule", id)
        .area(r.area_id)
        .detail(fields.join(","))
        .record(&tx)
        .await?;
    let row: RuleRow =
        store::fetch_found(&tx, &format!("{SELECT} WHERE r.id = $1"), vec![id.into()]).await?;
    tx.commit().await?;
    Ok(view(row))
}

#[tracing::instrument(name = "registry::sharing::list", skip_all)]
pub async fn list(db: &Db, ctx: &Ctx) -> AppResult<Vec<SharingRule>> {
    require_system(ctx)?;
    let rows: Vec<RuleRow> =
        store::fetch_all(db, &format!("{SELECT} ORDER BY r.created_at DESC"), vec![]).await?;
    Ok(rows.into_iter().map(view).collect())
}

#[tracing::instrument(name = "registry::sharing::revoke", skip_all)]
pub async fn revoke(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<()> {
    let checked = require_system(ctx)?;
    let tx = store::write_tx(db).await?;
    let n = store::exec(
        &tx,
        "UPDATE sharing_rules SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        vec![now_ms().into(), id.into()],
    )
    .await?;
    if n == 0
        && store::fetch_i64(
            &tx,
            "SELECT COUNT(*) FROM sharing_rules WHERE id = $1",
            vec![id.into()],
        )
        .await?
            == 0
    {
        return Err(AppError::NotFound);
    }
    Entry::by(ctx, &checked, "sharing.revoke", "sharing_rule", id)
        .record(&tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The rules that apply to the caller: their role, to them or to everyone with it, not revoked.
#[tracing::instrument(name = "registry::sharing::mine", skip_all)]
pub async fn mine(db: &Db, ctx: &Ctx) -> AppResult<Vec<SharingRule>> {
    let roles: HashSet<&str> = ctx
        .principal
        .grants
        .iter()
        .map(|g| g.role.as_str())
        .collect();
    let rows: Vec<RuleRow> = store::fetch_all(
        db,
        &format!("{SELECT} WHERE r.revoked_at IS NULL ORDER BY r.name"),
        vec![],
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter(|r| {
            roles.contains(r.role.as_str())
                && r.user_id
                    .map(|u| Some(u) == ctx.principal.user_id)
                    .unwrap_or(true)
        })
        .map(view)
        .collect())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SharedQuery {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SharedPage {
    pub rule: SharingRule,
    /// Each resident with only the rule's fields.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<serde_json::Value>,
    pub total: i64,
    pub page: u64,
    pub page_size: u64,
}

/// Residents a rule shares with the caller: under the rule's area and one of the caller's grants for
/// the rule's role, with the rule's tag, showing only the rule's fields. Audited with the rule.
#[tracing::instrument(name = "registry::sharing::read", skip_all)]
pub async fn read(
    db: &Db,
    keys: &Keys,
    ctx: &Ctx,
    rule_id: Uuid,
    q: &SharedQuery,
) -> AppResult<SharedPage> {
    let rule = mine(db, ctx).await?.into_iter().find(|r| r.id == rule_id);
    let Some(rule) = rule else {
        // No rule of the caller's: nothing to read, and no hint whether the rule exists.
        return Err(AppError::NotFound);
    };
    let role = Role::parse(&rule.role).ok_or(AppError::NotFound)?;
    let (cond, checked) = scope::listing_roles(ctx, &[role], "p.area_id");
    let mut w = crate::store::sql::Where::new();
    w.and_cond(cond)
        .and("p.deleted_at IS NULL AND p.status = 'active'", [])
        .and(
            "p.area_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = ?)",
            [rule.area_id.into()],
        );
    if let Some(t) = &rule.tag {
        let key = if is_sensitive_tag(t) {
            persons::sensitive_tag_key(keys, t)
        } else {
            t.clone()
        };
        w.and(
            "p.id IN (SELECT person_id FROM person_tags WHERE tag_key = ?)",
            [key.into()],
        );
    }
    let (w, values) = w.build(1);
    let paging = store::Paging::new(q.page, q.page_size);
    let (rows, total): (Vec<PersonRow>, i64) = store::page(
        db,
        &format!("SELECT COUNT(*) FROM persons p WHERE {w}"),
        &format!("{} WHERE {w} ORDER BY p.name, p.id", persons::SELECT),
        values,
        paging,
    )
    .await?;
    let items: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|r| {
            let full = serde_json::to_value(persons::view(
                r,
                keys,
                rule.fields.iter().any(|f| f == "sensitive_tags"),
            ))
            .unwrap_or_default();
            let mut out = serde_json::Map::new();
            for f in &rule.fields {
                out.insert(
                    f.clone(),
                    full.get(f).cloned().unwrap_or(serde_json::Value::Null),
                );
            }
            serde_json::Value::Object(out)
        })
        .collect();
    let fields: Vec<&str> = rule.fields.iter().map(String::as_str).collect();
    audit::record_alone(
        db,
        Entry::by(ctx, &checked, "person.shared_read", "sharing_rule", rule.id)
            .area(rule.area_id)
            .fields(&fields)
            .detail(format!(
                "{} of {total} shown under rule “{}”",
                items.len(),
                rule.name
            )),
    )
    .await?;
    Ok(SharedPage {
        rule,
        items,
        total,
        page: paging.page,
        page_size: paging.size,
    })
}
