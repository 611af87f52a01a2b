//! Demo questions: the resident 孙丽 (`jumin`) has asked her community five questions; the
//! community worker `shequ` answered two of them in public (one asked three times), one is
//! linked to an earlier answer, two wait for an answer (one past its deadline).

use super::as_user;
use crate::app::questions::ask::{write, Community, COMMUNITY};
use crate::app::questions::*;
use crate::app::Ctx;
use crate::domain::now_ms;
use crate::domain::role::Role;
use crate::error::AppResult;
use crate::store::{self, Db};

const DAY: i64 = 86_400_000;

pub async fn demo(db: &Db, ctx: &Ctx) -> AppResult<usize> {
    let Some((resident, worker)) = super::resident_and_worker(db).await? else {
        return Ok(0);
    };
    let (building, community_id) = (resident.area_id, worker.area_id);
    let Some(community) = store::fetch_opt::<Community, _>(
        db,
        &format!("{COMMUNITY} WHERE a.id = $1 AND a.kind = 'community'"),
        vec![community_id.into()],
    )
    .await?
    else {
        return Ok(0);
    };
    let asker = as_user(
        ctx,
        resident.id,
        "jumin",
        &resident.display_name,
        Role::Resident,
        building,
    );
    let answerer = as_user(
        ctx,
        worker.id,
        "shequ",
        &worker.display_name,
        Role::CommunityWorker,
        community_id,
    );
    let now = now_ms();
    let ask = |title: &'static str, body: &'static str, days_ago: i64, due_in: i64| {
        let (asker, community) = (&asker, &community);
        async move {
            write(
                db,
                asker,
                community,
                None,
                title,
                body,
                now + due_in * DAY,
                now - days_ago * DAY,
            )
            .await
        }
    };
    let lift = ask(
        "小区电梯什么时候能修好？",
        "3号楼电梯停了好几天了，家里有老人上下楼很不方便，请问什么时候能修好？",
        20,
        -13,
    )
    .await?;
    answer(
        db,
        &answerer,
        lift,
        AnswerInput {
            answer: "已联系物业和维保公司，更换的主板已到货，本周五前恢复运行。期间行动不便的老人可联系社区，志愿者上门协助。"
                .into(),
            publish: true,
            public_title: Some("小区电梯停运什么时候能修好？".into()),
            public_body: Some("居民反映楼栋电梯停运多日，老人上下楼不便。".into()),
        },
    )
    .await?;
    let heat = ask(
        "暖气不热找谁报修？",
        "家里暖气摸着只是温的，不知道该找物业还是热力公司。",
        12,
        -5,
    )
    .await?;
    answer(
        db,
        &answerer,
        heat,
        AnswerInput {
            answer: "供暖问题请先联系小区物业登记，物业无法解决的由社区转热力公司处理；也可以在“随手拍”中直接报修。"
                .into(),
            publish: true,
            public_title: Some("暖气不热找谁报修？".into()),
            public_body: Some("居民询问暖气不热应联系物业还是热力公司。".into()),
        },
    )
    .await?;
    let again = ask(
        "电梯又停了，多久能修？",
        "电梯这周又不能用了，请问多久能修好？",
        3,
        2,
    )
    .await?;
    link(db, &answerer, again, LinkInput { to: lift }).await?;
    // Asked once more, by the same words: the list counts it too.
    store::exec(
        db,
        "UPDATE questions SET asked_count = asked_count + 1, helped = 12 WHERE id = $1",
        vec![lift.into()],
    )
    .await?;
    ask(
        "楼下垃圾桶满了没人清运",
        "5号楼下的垃圾桶已经满了两天，气味很大，请安排清运。",
        8,
        -1,
    )
    .await?;
    ask(
        "社区老年食堂什么时候开业？",
        "听说社区要开老年食堂，想问一下什么时候开始营业，怎么办卡？",
        1,
        4,
    )
    .await?;
    Ok(5)
}
