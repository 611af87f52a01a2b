//! Demo channels register (渠道台账, app/channels.rs).
use sea_orm::FromQueryResult;
use uuid::Uuid;

use crate::domain::{calendar, new_id, now_ms};
use crate::error::AppResult;
use crate::store;

/// Demo: each community's register — its official account and residents' group, a second group
/// for the same residents that nobody posts in, and a video channel nobody answers for.
pub async fn demo<C: sea_orm::ConnectionTrait>(c: &C) -> AppResult<usize> {
    #[derive(FromQueryResult)]
    struct A {
        id: Uuid,
        parent_id: Option<Uuid>,
        name: String,
    }
    let communities: Vec<A> = store::fetch_all(
        c,
        "SELECT id, parent_id, name FROM areas WHERE kind = 'community' ORDER BY code",
        vec![],
    )
    .await?;
    let now = now_ms();
    let day =
        |days_ago: i64| crate::app::service::ymd(calendar::local_date(now - days_ago * 86_400_000));
    let mut n = 0;
    for (i, a) in communities.iter().enumerate() {
        let everyone = format!("{}全体居民", a.name);
        let rows: [(
            &str,
            String,
            &str,
            &str,
            Option<i32>,
            Option<i32>,
            Option<String>,
        ); 4] = [
            (
                "wechat_official",
                format!("{}服务号", a.name),
                "社区通知、办事指南",
                "社区党委书记",
                Some(3200 + i as i32 * 37),
                Some(12),
                Some(day(3)),
            ),
            (
                "wechat_group",
                format!("{}居民群", a.name),
                "邻里互助、通知转发",
                "网格员",
                Some(480),
                Some(95),
                Some(day(1)),
            ),
            (
                "wechat_group",
                format!("{}居民二群", a.name),
                "（建群后无人维护）",
                "",
                Some(57),
                Some(0),
                Some(day(200 + i as i64)),
            ),
            (
                "video",
                format!("{}视频号", a.name),
                "活动宣传",
                "",
                Some(120),
                None,
                None,
            ),
        ];
        for (kind, name, purpose, owner, members, posts, last) in rows {
            store::exec(
                c,
                "INSERT INTO community_channels (id, street_id, community_id, kind, name, audience, purpose, owner_name, \
                 members, posts_last_month, last_active_on, status, version, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'active', 1, $12, $12)",
                vec![
                    new_id().into(),
                    a.parent_id.into(),
                    a.id.into(),
                    kind.into(),
                    name.into(),
                    everyone.clone().into(),
                    purpose.into(),
                    owner.into(),
                    members.into(),
                    posts.into(),
                    last.into(),
                    now.into(),
                ],
            )
            .await?;
            n += 1;
        }
    }
    Ok(n)
}
