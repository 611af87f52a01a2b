//! 渠道台账: each community's channels to its residents — 公众号, 微信群, 企业微信群, 视频号,
//! hotlines — with owner, audience, members and activity, and the rules that find the dead ones
//! (僵尸号/群): no activity for `INACTIVE_DAYS`, two active channels of one kind for one audience,
//! nobody accountable. Community workers keep the register; the street (those who may edit its
//! areas) retires or merges channels, each with a recorded decision. Scope as everywhere: a
//! channel outside the caller's area is 404.
use sea_orm::FromQueryResult;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::Entry;
use super::{scope, Ctx};
use crate::domain::role::Permission;
use crate::domain::{calendar, ms_to_rfc3339, new_id, now_ms};
use crate::error::{AppError, AppResult, FieldErrors, Msg};
use crate::store::sql::Where;
use crate::store::{self, Db, Paging};

/// A channel without a post for this long is flagged inactive.
pub const INACTIVE_DAYS: i64 = 90;

pub const KINDS: &[(&str, &str, &str)] = &[
    ("wechat_official", "公众号", "WeChat official account"),
    ("wechat_group", "微信群", "WeChat group"),
    ("wecom_group", "企业微信群", "WeCom group"),
    ("video", "视频号", "Video channel"),
    ("hotline", "热线电话", "Hotline"),
    ("other", "其他", "Other"),
];

pub(crate) fn kind_of(s: &str) -> Option<&'static str> {
    KINDS
        .iter()
        .find(|(k, zh, _)| *k == s.trim() || *zh == s.trim())
        .map(|(k, _, _)| *k)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommunityChannel {
    pub id: Uuid,
    pub community_id: Uuid,
    pub community_name: String,
    pub kind: String,
    pub kind_label: String,
    pub name: String,
    pub audience: String,
    pub purpose: String,
    pub owner_name: String,
    pub members: Option<i32>,
    pub posts_last_month: Option<i32>,
    /// `YYYY-MM-DD` of the last post, as entered.
    pub last_active_on: Option<String>,
    /// active | retired | merged
    pub status: String,
    pub merged_into: Option<Uuid>,
    pub decision: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    /// Why the rules flag it: inactive | duplicate | no_owner (active channels only).
    pub flags: Vec<&'static str>,
    pub version: i32,
    pub updated_at: String,
}

#[derive(Debug, Clone, FromQueryResult)]
struct Row {
    id: Uuid,
    community_id: Uuid,
    community_name: String,
    kind: String,
    name: String,
    audience: String,
    purpose: String,
    owner_name: String,
    members: Option<i32>,
    posts_last_month: Option<i32>,
    last_active_on: Option<String>,
    status: String,
    merged_into: Option<Uuid>,
    decision: Option<String>,
    decided_by: Option<String>,
    decided_at: Option<i64>,
    version: i32,
    updated_at: i64,
    /// Other active channels of this kind for the same audience in the community.
    twins: i64,
}

const SELECT: &str = "SELECT c.id, c.community_id, a.name AS community_name, c.kind, c.name, c.audience, c.purpose, \
     c.owner_name, c.members, c.posts_last_month, c.last_active_on, c.status, c.merged_into, c.decision, c.decided_by, \
     c.decided_at, c.version, c.updated_at, \
     (SELECT COUNT(*) FROM community_channels t WHERE t.community_id = c.community_id AND t.kind = c.kind \
      AND t.audience = c.audience AND t.status = 'active' AND t.id <> c.id) AS twins \
     FROM community_channels c JOIN areas a ON a.id = c.community_id";

fn view(r: Row, en: bool) -> CommunityChannel {
    let mut flags = vec![];
    if r.status == "active" {
        let today = calendar::local_date(now_ms());
        let stale = match r.last_active_on.as_deref().and_then(calendar::parse_date) {
            Some(d) => (today - d).whole_days() > INACTIVE_DAYS,
            None => true,
        };
        if stale || r.posts_last_month == Some(0) {
            flags.push("inactive");
        }
        if r.twins > 0 {
            flags.push("duplicate");
        }
        if r.owner_name.trim().is_empty() {
            flags.push("no_owner");
        }
    }
    let label = KINDS
        .iter()
        .find(|k| k.0 == r.kind)
        .map(|k| if en { k.2 } else { k.1 })
        .unwrap_or("")
        .to_string();
    CommunityChannel {
        id: r.id,
        community_id: r.community_id,
        community_name: r.community_name,
        kind: r.kind,
        kind_label: label,
        name: r.name,
        audience: r.audience,
        purpose: r.purpose,
        owner_name: r.owner_name,
        members: r.members,
        posts_last_month: r.posts_last_month,
        last_active_on: r.last_active_on,
        status: r.status,
        merged_into: r.merged_into,
        decision: r.decision,
        decided_by: r.decided_by,
        decided_at: r.decided_at.map(ms_to_rfc3339),
        flags,
        version: r.version,
        updated_at: ms_to_rfc3339(r.updated_at),
    }
}

fn en(ctx: &Ctx) -> bool {
    ctx.lang == crate::error::Lang::En
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChannelQuery {
    /// A street, community or grid: its channels.
    pub area_id: Option<Uuid>,
    /// active (default) | retired | merged | all
    pub status: Option<String>,
    /// Only channels the rules flag (inactive, duplicate or no_owner).
    pub flagged: Option<bool>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelPage {
    pub items: Vec<CommunityChannel>,
    pub total: i64,
    /// Active channels flagged by the rules, in the same scope and area.
    pub flagged: i64,
    pub page: u64,
    pub page_size: u64,
}

#[tracing::instrument(name = "channels::list", skip_all)]
pub async fn list(db: &Db, ctx: &Ctx, q: &ChannelQuery) -> AppResult<ChannelPage> {
    let mut w = Where::new();
    w.and_cond(scope::area_cond(
        ctx,
        Permission::ReadRegistry,
        "c.community_id",
    ));
    if let Some(a) = q.area_id {
        scope::require_visible(db, ctx, a).await?;
        w.and(
            "c.community_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = ?)",
            [a.into()],
        );
    }
    match q.status.as_deref().unwrap_or("active") {
        "all" => {}
        s @ ("active" | "retired" | "merged") => {
            w.and("c.status = ?", [s.to_string().into()]);
        }
        _ => {
            return Err(AppError::field(
                "status",
                Msg::new(
                    "status 应为 active、retired、merged 或 all",
                    "status must be active, retired, merged or all",
                ),
            ))
        }
    }
    let (cond, values) = w.build(1);
    // The rules are few and the register is small (a street keeps hundreds): flag in Rust, then
    // page, so the counter and the filtered list agree.
    let rows: Vec<Row> = store::fetch_all(
        db,
        &format!("{SELECT} WHERE {cond} ORDER BY a.code, c.kind, c.name, c.id LIMIT 10000"),
        values,
    )
    .await?;
    let all: Vec<CommunityChannel> = rows.into_iter().map(|r| view(r, en(ctx))).collect();
    let flagged = all.iter().filter(|c| !c.flags.is_empty()).count() as i64;
    let shown: Vec<CommunityChannel> = if q.flagged == Some(true) {
        all.into_iter().filter(|c| !c.flags.is_empty()).collect()
    } else {
        all
    };
    let paging = Paging::new(q.page, q.page_size);
    let total = shown.len() as i64;
    let items = shown
        .into_iter()
        .skip(paging.offset() as usize)
        .take(paging.size as usize)
        .collect();
    Ok(ChannelPage {
        items,
        total,
        flagged,
        page: paging.page,
        page_size: paging.size,
    })
}

async fn load<C: sea_orm::ConnectionTrait>(c: &C, id: Uuid) -> AppResult<Row> {
    store::fetch_found(c, &format!("{SELECT} WHERE c.id = $1"), vec![id.into()]).await
}

#[tracing::instrument(name = "channels::get", skip_all)]
pub async fn get(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<CommunityChannel> {
    let r = load(db, id).await?;
    scope::require_permission(db, ctx, Permission::ReadRegistry, r.community_id).await?;
    Ok(view(r, en(ctx)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChannel {
    pub community_id: Uuid,
    /// wechat_official | wechat_group | wecom_group | video | hotline | other (or 公众号, 微信群, …)
    pub kind: String,
    pub name: String,
    /// Whom it serves, e.g. 朝阳社区全体居民, 3号楼.
    pub audience: String,
    #[serde(default)]
    pub purpose: String,
    /// Who is accountable (empty: flagged no_owner).
    #[serde(default)]
    pub owner_name: String,
    pub members: Option<i32>,
    pub posts_last_month: Option<i32>,
    pub last_active_on: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelPatch {
    pub version: i32,
    pub name: Option<String>,
    pub audience: Option<String>,
    pub purpose: Option<String>,
    pub owner_name: Option<String>,
    pub members: Option<i32>,
    pub posts_last_month: Option<i32>,
    pub last_active_on: Option<String>,
}

pub(crate) struct Fields {
    pub name: String,
    pub audience: String,
    pub purpose: String,
    pub owner_name: String,
    pub members: Option<i32>,
    pub posts: Option<i32>,
    pub last: Option<String>,
}

pub(crate) fn check(f: &mut Fields, errs: &mut FieldErrors) {
    for (field, v, max, required) in [
        ("name", &mut f.name, 100, true),
        ("audience", &mut f.audience, 100, true),
        ("purpose", &mut f.purpose, 500, false),
        ("owner_name", &mut f.owner_name, 50, false),
    ] {
        *v = v.trim().to_string();
        let n = v.chars().count();
        if (required && n == 0) || n > max || crate::domain::text::has_forbidden_control(v) {
            errs.insert(
                field.into(),
                Msg::owned(
                    format!(
                        "{}（最多 {max} 个字符）",
                        if required { "请填写" } else { "过长" }
                    ),
                    format!(
                        "{} (at most {max} characters)",
                        if required { "Required" } else { "Too long" }
                    ),
                ),
            );
        }
    }
    for (field, v) in [("members", f.members), ("posts_last_month", f.posts)] {
        if v.is_some_and(|n| !(0..=10_000_000).contains(&n)) {
            errs.insert(
                field.into(),
                Msg::new("应为 0 或正整数", "A whole number from 0"),
            );
        }
    }
    if let Some(d) = f.last.as_deref().filter(|d| !d.trim().is_empty()) {
        match calendar::parse_date(d.trim()) {
            Some(day) if day <= calendar::local_date(now_ms()) => {
                f.last = Some(crate::app::service::ymd(day));
            }
            _ => {
                errs.insert(
                    "last_active_on".into(),
                    Msg::new(
                        "应为不晚于今天的日期 YYYY-MM-DD",
                        "A date YYYY-MM-DD, not in the future",
                    ),
                );
            }
        }
    } else {
        f.last = None;
    }
}

#[tracing::instrument(name = "channels::create", skip_all)]
pub async fn create(db: &Db, ctx: &Ctx, n: NewChannel) -> AppResult<CommunityChannel> {
    let checked =
        scope::require_permission(db, ctx, Permission::EditRegistry, n.community_id).await?;
    #[derive(FromQueryResult)]
    struct A {
        kind: String,
        parent_id: Option<Uuid>,
    }
    let a: A = store::fetch_found(
        db,
        "SELECT kind, parent_id FROM areas WHERE id = $1",
        vec![n.community_id.into()],
    )
    .await?;
    let mut errs = FieldErrors::new();
    if a.kind != "community" {
        errs.insert(
            "community_id".into(),
            Msg::new("请选择一个社区", "Choose a community"),
        );
    }
    let kind = kind_of(&n.kind);
    if kind.is_none() {
        errs.insert(
            "kind".into(),
            Msg::new(
                "类型应为公众号、微信群、企业微信群、视频号、热线电话或其他",
                "kind must be wechat_official, wechat_group, wecom_group, video, hotline or other",
            ),
        );
    }
    let mut f = Fields {
        name: n.name,
        audience: n.audience,
        purpose: n.purpose,
        owner_name: n.owner_name,
        members: n.members,
        posts: n.posts_last_month,
        last: n.last_active_on,
    };
    check(&mut f, &mut errs);
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let id = new_id();
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "INSERT INTO community_channels (id, street_id, community_id, kind, name, audience, purpose, owner_name, members, \
         posts_last_month, last_active_on, status, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'active', 1, $12, $12)",
        vec![
            id.into(),
            a.parent_id.into(),
            n.community_id.into(),
            kind.unwrap_or("other").into(),
            f.name.into(),
            f.audience.into(),
            f.purpose.into(),
            f.owner_name.into(),
            f.members.into(),
            f.posts.into(),
            f.last.into(),
            now.into(),
        ],
    )
    .await?;
    Entry::by(ctx, &checked, "channel.create", "community_channel", id)
        .area(n.community_id)
        .record(&tx)
        .await?;
    let r = load(&tx, id).await?;
    tx.commit().await?;
    Ok(view(r, en(ctx)))
}

#[tracing::instrument(name = "channels::update", skip_all)]
pub async fn update(db: &Db, ctx: &Ctx, id: Uuid, p: ChannelPatch) -> AppResult<CommunityChannel> {
    let cur = load(db, id).await?;
    let checked =
        scope::require_permission(db, ctx, Permission::EditRegistry, cur.community_id).await?;
    let mut errs = FieldErrors::new();
    let mut f = Fields {
        name: p.name.unwrap_or(cur.name.clone()),
        audience: p.audience.unwrap_or(cur.audience.clone()),
        purpose: p.purpose.unwrap_or(cur.purpose.clone()),
        owner_name: p.owner_name.unwrap_or(cur.owner_name.clone()),
        members: p.members.or(cur.members),
        posts: p.posts_last_month.or(cur.posts_last_month),
        last: p.last_active_on.or(cur.last_active_on.clone()),
    };
    check(&mut f, &mut errs);
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let tx = store::write_tx(db).await?;
    let n = store::exec(
        &tx,
        "UPDATE community_channels SET name = $1, audience = $2, purpose = $3, owner_name = $4, members = $5, \
         posts_last_month = $6, last_active_on = $7, version = version + 1, updated_at = $8 WHERE id = $9 AND version = $10",
        vec![
            f.name.into(),
            f.audience.into(),
            f.purpose.into(),
            f.owner_name.into(),
            f.members.into(),
            f.posts.into(),
            f.last.into(),
            now_ms().into(),
            id.into(),
            p.version.into(),
        ],
    )
    .await?;
    AppError::stale_unless_changed(n)?;
    Entry::by(ctx, &checked, "channel.update", "community_channel", id)
        .area(cur.community_id)
        .record(&tx)
        .await?;
    let r = load(&tx, id).await?;
    tx.commit().await?;
    Ok(view(r, en(ctx)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub version: i32,
    /// The recorded reason (required), e.g. 一年无更新，已通知群主解散.
    pub reason: String,
    /// For a merge: the active channel that takes over its audience (same community).
    pub into_id: Option<Uuid>,
}

/// Retires (`merge` false) or merges a channel, with the decision recorded: the street's, i.e.
/// those who may edit the community's areas.
#[tracing::instrument(name = "channels::decide", skip_all)]
pub async fn decide(
    db: &Db,
    ctx: &Ctx,
    id: Uuid,
    merge: bool,
    d: Decision,
) -> AppResult<CommunityChannel> {
    let cur = load(db, id).await?;
    let checked =
        scope::require_permission(db, ctx, Permission::EditAreas, cur.community_id).await?;
    let reason = d.reason.trim().to_string();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::field(
            "reason",
            Msg::new(
                "请写明处理理由（最多 500 字）",
                "Give the reason (at most 500 characters)",
            ),
        ));
    }
    if cur.status != "active" {
        return Err(AppError::Rule {
            code: "channel.not_active",
            msg: Msg::new(
                "该渠道已停用或已合并",
                "The channel is retired or merged already",
            ),
        });
    }
    let into = if merge {
        let Some(into) = d.into_id else {
            return Err(AppError::field(
                "into_id",
                Msg::new("请选择合并到的渠道", "Choose the channel to merge into"),
            ));
        };
        let target = load(db, into).await.map_err(|_| {
            AppError::field("into_id", Msg::new("找不到这个渠道", "No such channel"))
        })?;
        if target.id == cur.id
            || target.community_id != cur.community_id
            || target.status != "active"
        {
            return Err(AppError::field(
                "into_id",
                Msg::new(
                    "只能合并到同一社区另一个在用的渠道",
                    "Merge into another active channel of the same community",
                ),
            ));
        }
        Some(into)
    } else {
        None
    };
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    let n = store::exec(
        &tx,
        "UPDATE community_channels SET status = $1, merged_into = $2, decision = $3, decided_by = $4, decided_at = $5, \
         version = version + 1, updated_at = $5 WHERE id = $6 AND version = $7 AND status = 'active'",
        vec![
            (if merge { "merged" } else { "retired" }).into(),
            into.into(),
            reason.clone().into(),
            ctx.principal.display_name.clone().into(),
            now.into(),
            id.into(),
            d.version.into(),
        ],
    )
    .await?;
    AppError::stale_unless_changed(n)?;
    Entry::by(
        ctx,
        &checked,
        if merge {
            "channel.merge"
        } else {
            "channel.retire"
        },
        "community_channel",
        id,
    )
    .area(cur.community_id)
    .detail(reason)
    .record(&tx)
    .await?;
    let r = load(&tx, id).await?;
    tx.commit().await?;
    Ok(view(r, en(ctx)))
}
