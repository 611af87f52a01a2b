//! Demo notices.

use sea_orm::FromQueryResult;
use uuid::Uuid;

use crate::app::notices::publish::*;
use crate::app::notices::*;
use crate::app::Ctx;
use crate::domain::role::Role;
use crate::error::AppResult;
use crate::store::{self, Db};

/// Demo data: the resident 孙丽 (`jumin`) is the head of a household in her building (her
/// account names that registry person, as a confirmed self-registration would), and the
/// community worker `shequ` has published two notices: one to her grid asking each household
/// for an answer, told to its grid worker and building leader too, and a public one to the
/// community.
pub async fn demo(db: &Db, ctx: &Ctx) -> AppResult<usize> {
    let Some((resident, worker)) = super::resident_and_worker(db).await? else {
        return Ok(0);
    };
    let (building, community) = (resident.area_id, worker.area_id);
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
    let author = super::as_user(
        ctx,
        worker.id,
        "shequ",
        &worker.display_name,
        Role::CommunityWorker,
        community,
    );
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
        false,
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
        false,
    )
    .await?;
    Ok(2)
}
