//! Issue 15 point 4: 通知公告 with receipts — a notice reaches the households under an area and
//! the staff of some roles, receipts are kept per person and per household, the author sees
//! coverage by grid and reminds those not done, and a grid worker gets the door-to-door list.
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

const LIFT: &str = "关于电梯年度检修停用的通知";
const GAS: &str = "冬季燃气安全与供暖报修提示";

fn item<'a>(page: &'a Value, title: &str) -> &'a Value {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a page: {page}"))
        .iter()
        .find(|n| n["title"] == title)
        .unwrap_or_else(|| panic!("{title} in {page}"))
}

#[tokio::test]
async fn a_notice_reaches_its_households_and_the_author_sees_who_read_and_answered() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let jumin = app.demo_user("jumin").await;
    let wangge = app.demo_user("wangge").await;

    // The demo notice to the resident's grid: every household under it has a receipt.
    let addressed = app
        .count(&format!(
            "SELECT COUNT(*) FROM households h WHERE h.deleted_at IS NULL AND h.area_id IN \
             (SELECT descendant_id FROM area_closure WHERE ancestor_id = \
             (SELECT area_id FROM notices WHERE title = '{LIFT}'))"
        ))
        .await;
    assert!(addressed > 10, "the demo grid has households: {addressed}");
    let l = shequ
        .get("/api/v1/notices")
        .await
        .expect_status(StatusCode::OK);
    let lift = item(&l.body, LIFT).clone();
    let id = lift["id"].as_str().unwrap().to_string();
    let cov = &lift["coverage"];
    assert_eq!(cov["households"], addressed, "{cov}");
    assert_eq!(
        cov["reached_app"], 1,
        "the resident's household has an account: {cov}"
    );
    assert_eq!(cov["unreachable"], addressed - 1);
    assert_eq!(cov["read"], 0);
    assert_eq!(
        cov["staff"], 2,
        "the grid worker and the building leader: {cov}"
    );

    // The resident: in her notices, unread and to acknowledge; a message in her inbox.
    let mine = jumin
        .get("/api/v1/me/notices")
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(mine.body["unread"], 2, "{}", mine.text);
    assert_eq!(mine.body["to_ack"], 1);
    let inbox = jumin.get("/api/v1/me/messages").await;
    assert!(
        inbox.text.contains(&format!("/m/notices/{id}")),
        "{}",
        inbox.text
    );
    let open = jumin
        .get(&format!("/api/v1/me/notices/{id}"))
        .await
        .expect_status(StatusCode::OK);
    assert!(open.body["read_at"].is_string());
    assert_eq!(open.body["form"][0]["key"], "needs_help");
    let d = shequ.get(&format!("/api/v1/notices/{id}")).await;
    assert_eq!(d.body["coverage"]["read"], 1, "{}", d.text);

    // Her answer is checked against the form; a refused one changes nothing.
    for (bad, field) in [
        (json!({"answer": {}}), "answer.needs_help"),
        (
            json!({"answer": {"needs_help": "也许"}}),
            "answer.needs_help",
        ),
        (
            json!({"answer": {"needs_help": "需要", "pet": "猫"}}),
            "answer.pet",
        ),
    ] {
        let r = jumin
            .post(&format!("/api/v1/me/notices/{id}/ack"), bad.clone())
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.text
        );
        assert!(
            r.body["error"]["fields"][field].is_string(),
            "{field}: {}",
            r.text
        );
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM notice_receipts WHERE acked_at IS NOT NULL")
            .await,
        0
    );
    let ack = jumin
        .post(
            &format!("/api/v1/me/notices/{id}/ack"),
            json!({"answer": {"needs_help": "需要", "note": "老人腿脚不便"}}),
        )
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(ack.body["answer"]["needs_help"], "需要");
    assert!(ack.body["acked_at"].is_string());
    let mine = jumin.get("/api/v1/me/notices").await;
    assert_eq!(mine.body["to_ack"], 0, "{}", mine.text);
    assert_eq!(
        mine.body["unread"], 1,
        "the community's notice is still unread"
    );

    // Coverage by grid agrees with the totals; the acknowledged household shows its answer.
    let d = shequ.get(&format!("/api/v1/notices/{id}")).await;
    assert_eq!(d.body["coverage"]["acked"], 1, "{}", d.text);
    let grids = d.body["by_grid"].as_array().unwrap();
    assert_eq!(grids.len(), 1);
    assert_eq!(grids[0]["households"], addressed);
    assert_eq!(grids[0]["acked"], 1);
    let acked = shequ
        .get(&format!("/api/v1/notices/{id}/households?state=acked"))
        .await;
    assert_eq!(acked.body["total"], 1, "{}", acked.text);
    let row = &acked.body["items"][0];
    assert_eq!(row["acked_via"], "app");
    assert_eq!(row["answer"]["note"], "老人腿脚不便");
    assert!(
        row["head_name"].as_str().unwrap().contains('*'),
        "names are masked: {row}"
    );

    // The door-to-door list: households no channel reaches, for the grid worker, who records
    // an answer given in person.
    let door = wangge
        .get(&format!(
            "/api/v1/notices/{id}/households?state=door&page_size=200"
        ))
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(door.body["total"], addressed - 1, "{}", door.text);
    let hh = door.body["items"][0]["household_id"]
        .as_str()
        .unwrap()
        .to_string();
    wangge
        .post(
            &format!("/api/v1/notices/{id}/households/{hh}/ack"),
            json!({"answer": {"needs_help": "也许"}}),
        )
        .await
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    let r = wangge
        .post(
            &format!("/api/v1/notices/{id}/households/{hh}/ack"),
            json!({"answer": {"needs_help": "不需要"}, "note": "敲门告知"}),
        )
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["acked_via"], "visit");
    assert_eq!(r.body["acked_by"], "张伟（网格员）");
    let door = wangge
        .get(&format!("/api/v1/notices/{id}/households?state=door"))
        .await;
    assert_eq!(door.body["total"], addressed - 2, "the list shrinks");

    // Staff told by role read it in their own notices.
    let staff = wangge.get("/api/v1/me/notices").await;
    let n = item(&staff.body, LIFT);
    assert!(n["read_at"].is_null());
    wangge.get(&format!("/api/v1/me/notices/{id}")).await;
    let d = shequ.get(&format!("/api/v1/notices/{id}")).await;
    assert_eq!(d.body["coverage"]["staff_read"], 1, "{}", d.text);
    assert_eq!(d.body["coverage"]["acked"], 2);

    // A reminder goes to those not done: the resident's household is done, so nobody in the
    // app is told, but the building leader who has not read it is; an hour must pass before
    // the next one.
    let r = shequ
        .post(&format!("/api/v1/notices/{id}/remind"), json!({}))
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["reminded"], 0, "{}", r.text);
    assert_eq!(r.body["people"], 1, "the building leader: {}", r.text);
    let again = shequ
        .post(&format!("/api/v1/notices/{id}/remind"), json!({}))
        .await
        .expect_status(StatusCode::CONFLICT);
    assert_eq!(again.code(), "notices.remind_too_soon");
    let louzhang = app.demo_user("louzhang").await;
    let inbox = louzhang.get("/api/v1/me/messages").await;
    assert!(inbox.text.contains("提醒"), "{}", inbox.text);

    // Withdrawn: residents no longer see it; acting on it is refused.
    let gas = item(&shequ.get("/api/v1/notices").await.body, GAS)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let w = shequ
        .post(
            &format!("/api/v1/notices/{gas}/withdraw"),
            json!({"reason": "内容有误，重新发布"}),
        )
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(w.body["status"], "withdrawn");
    let mine = jumin.get("/api/v1/me/notices").await;
    assert_eq!(mine.body["total"], 1, "{}", mine.text);
    let r = jumin
        .post(&format!("/api/v1/me/notices/{gas}/ack"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = shequ
        .post(&format!("/api/v1/notices/{gas}/remind"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_notice_by_tag_or_list_is_addressed_in_scope_and_bad_ones_change_nothing() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let community = app.area_id("130602001001").await;
    let outside = app.area_id("130602002001").await;

    // To the elderly living alone of the community: exactly the households with such a member.
    let expected = app
        .count(
            "SELECT COUNT(*) FROM households h WHERE h.deleted_at IS NULL AND h.community_id = \
             (SELECT id FROM areas WHERE code = '130602001001') AND EXISTS (SELECT 1 FROM household_members m \
             JOIN person_tags t ON t.person_id = m.person_id WHERE m.household_id = h.id AND m.to_date IS NULL \
             AND t.tag_key = 'living_alone_elderly')",
        )
        .await;
    assert!(expected > 0, "the demo has elderly living alone");
    let r = shequ
        .post(
            "/api/v1/notices",
            json!({"area_id": community, "title": "重阳节慰问登记", "body": "请告知是否在家。",
                   "tags": ["独居老人"], "requires_ack": true}),
        )
        .await
        .expect_status(StatusCode::CREATED);
    assert_eq!(r.body["coverage"]["households"], expected, "{}", r.text);
    assert_eq!(r.body["tags"], json!(["living_alone_elderly"]));

    // A list of two households of the community.
    let l = shequ
        .get(&format!(
            "/api/v1/notices/{}/households?page_size=2",
            r.body["id"].as_str().unwrap()
        ))
        .await;
    let two: Vec<Value> = l.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["household_id"].clone())
        .collect();
    let r = shequ
        .post(
            "/api/v1/notices",
            json!({"area_id": community, "title": "楼道堆物清理", "body": "请于周五前清理。", "household_ids": two}),
        )
        .await.expect_status(StatusCode::CREATED);
    assert_eq!(r.body["coverage"]["households"], 2);
    assert_eq!(r.body["listed"], true);

    // Bad ones: each names its field, nothing is written.
    let before = app.count("SELECT COUNT(*) FROM notices").await;
    let receipts = app.count("SELECT COUNT(*) FROM notice_receipts").await;
    for (bad, field) in [
        (
            json!({"area_id": community, "title": "", "body": "x"}),
            "title",
        ),
        (
            json!({"area_id": community, "title": "x", "body": "x", "tags": ["低保"]}),
            "tags",
        ),
        (
            json!({"area_id": community, "title": "x", "body": "x", "tags": ["宠物"]}),
            "tags",
        ),
        (
            json!({"area_id": community, "title": "x", "body": "x", "roles": ["system_admin"]}),
            "roles",
        ),
        (
            json!({"area_id": community, "title": "x", "body": "x", "households": false}),
            "households",
        ),
        (
            json!({"area_id": community, "title": "x", "body": "x",
                   "form": [{"label": "选一个", "kind": "choice", "options": ["只有一个"]}]}),
            "form.0.options",
        ),
        (
            json!({"area_id": community, "title": "x", "body": "x", "household_ids": [community]}),
            "household_ids",
        ),
    ] {
        let r = shequ.post("/api/v1/notices", bad.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.text
        );
        assert!(
            r.body["error"]["fields"][field].is_string(),
            "{field}: {}",
            r.text
        );
    }
    shequ
        .send_raw(
            reqwest::Method::POST,
            "/api/v1/notices",
            b"{\"title\": \"x\",".to_vec(),
            "application/json",
        )
        .await
        .expect_status(StatusCode::BAD_REQUEST);
    assert_eq!(app.count("SELECT COUNT(*) FROM notices").await, before);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM notice_receipts").await,
        receipts
    );

    // Scope: another community's area is 404, a grid worker may not publish (403), and the
    // other community's worker does not see this community's notices.
    shequ
        .post(
            "/api/v1/notices",
            json!({"area_id": outside, "title": "x", "body": "x"}),
        )
        .await
        .expect_status(StatusCode::NOT_FOUND);
    let wangge = app.demo_user("wangge").await;
    let grid = app.first_under("130602001001", "grid").await.0;
    wangge
        .post(
            "/api/v1/notices",
            json!({"area_id": grid, "title": "x", "body": "x"}),
        )
        .await
        .expect_status(StatusCode::FORBIDDEN);
    let shequ2 = app.demo_user("shequ2").await;
    let theirs = shequ2.get("/api/v1/notices").await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(!theirs.text.contains(LIFT), "{}", theirs.text);
    let lift = item(&shequ.get("/api/v1/notices").await.body, LIFT)["id"]
        .as_str()
        .unwrap()
        .to_string();
    for path in [
        format!("/api/v1/notices/{lift}"),
        format!("/api/v1/notices/{lift}/households"),
        format!("/api/v1/notices?area_id={community}"),
    ] {
        let r = shequ2.get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text);
    }
    let r = shequ2
        .post(&format!("/api/v1/notices/{lift}/remind"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The building leader sees the grid's notice cut to their building.
    let louzhang = app.demo_user("louzhang").await;
    let d = louzhang
        .get(&format!("/api/v1/notices/{lift}"))
        .await
        .expect_status(StatusCode::OK);
    let mine = d.body["coverage"]["households"].as_i64().unwrap();
    let all = shequ.get(&format!("/api/v1/notices/{lift}")).await.body["coverage"]["households"]
        .as_i64()
        .unwrap();
    assert!(mine > 0 && mine < all, "{mine} of {all}");
}

#[tokio::test]
async fn sixteen_clients_acknowledge_and_remind_at_once_and_one_of_each_counts() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let jumin = app.demo_user("jumin").await;
    let wangge = app.demo_user("wangge").await;
    let id = item(&shequ.get("/api/v1/notices").await.body, LIFT)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let hh = {
        let r = shequ
            .get(&format!(
                "/api/v1/notices/{id}/households?state=all&page_size=200"
            ))
            .await;
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["reach"] == "app")
            .unwrap()["household_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // Eight taps of the resident and eight door-to-door records for her household, at once.
    let mut tasks = vec![];
    for i in 0..16 {
        let (c, path, body) = if i % 2 == 0 {
            (
                jumin.clone(),
                format!("/api/v1/me/notices/{id}/ack"),
                json!({"answer": {"needs_help": "需要"}}),
            )
        } else {
            (
                wangge.clone(),
                format!("/api/v1/notices/{id}/households/{hh}/ack"),
                json!({"answer": {"needs_help": "不需要"}}),
            )
        };
        tasks.push(tokio::spawn(async move { c.post(&path, body).await }));
    }
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let acked = shequ
        .get(&format!("/api/v1/notices/{id}/households?state=acked"))
        .await;
    assert_eq!(acked.body["total"], 1, "{}", acked.text);
    let row = &acked.body["items"][0];
    let via = row["acked_via"].as_str().unwrap();
    let want = if via == "app" { "需要" } else { "不需要" };
    assert_eq!(
        row["answer"]["needs_help"], want,
        "the first answer stands: {row}"
    );
    // Sixteen authors remind at once: one reminder.
    let mut tasks = vec![];
    for _ in 0..16 {
        let (c, path) = (shequ.clone(), format!("/api/v1/notices/{id}/remind"));
        tasks.push(tokio::spawn(async move { c.post(&path, json!({})).await }));
    }
    let mut ok = 0;
    for t in tasks {
        let r = t.await.unwrap();
        match r.status {
            StatusCode::OK => ok += 1,
            StatusCode::CONFLICT => assert_eq!(r.code(), "notices.remind_too_soon"),
            s => panic!("{s}: {}", r.text),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE template_key = 'notice.reminder'")
            .await,
        1
    );
    // The audit chain holds after all of it.
    assert!(matches!(
        gongzhi::app::audit::verify(&app.state.db, &app.state.audit_key, None)
            .await
            .unwrap(),
        gongzhi::app::audit::Verdict::Intact { .. }
    ));
}

/// Issue 15 point 6: the public page of a community and of its street, without a login: the
/// notices marked public, the three rates, the activities open to sign-up — and nothing personal
/// (the page is crawled for ID numbers, mobiles and the registry's names).
#[tokio::test]
async fn the_public_page_shows_public_notices_rates_and_activities_and_nothing_personal() {
    let app = spawn_app().await;
    let anon = app.anon();
    for code in ["130602001001", "130602001000"] {
        let r = anon.get(&format!("/p/{code}")).await;
        assert_eq!(r.status, StatusCode::OK, "{code}: {}", r.text);
        assert!(r.text.contains(GAS), "the public notice on {code}");
        assert!(
            !r.text.contains(LIFT),
            "a notice not marked public is not on {code}"
        );
        assert!(r.text.contains("响应率") && r.text.contains("满意率"));
        assert!(r.text.contains("可报名活动"));
        let id_no = regex_like(&r.text, |w| {
            w.len() == 18
                && w[..17].bytes().all(|b| b.is_ascii_digit())
                && (w.as_bytes()[17].is_ascii_digit() || w.ends_with('X'))
        });
        assert!(id_no.is_none(), "an ID number on {code}: {id_no:?}");
        let mobile = regex_like(&r.text, |w| {
            w.len() == 11 && w.starts_with('1') && w.bytes().all(|b| b.is_ascii_digit())
        });
        assert!(mobile.is_none(), "a mobile on {code}: {mobile:?}");
    }
    // Not a single resident's name from the registry.
    #[derive(sea_orm::FromQueryResult)]
    struct N {
        name: String,
    }
    let names: Vec<N> = gongzhi::store::fetch_all(
        &app.state.db,
        "SELECT DISTINCT name FROM persons WHERE community_id = (SELECT id FROM areas WHERE code = '130602001001') \
         AND LENGTH(name) >= 3",
        vec![],
    )
    .await
    .unwrap();
    assert!(names.len() > 50);
    let page = anon.get("/p/130602001001").await.text;
    for n in names {
        assert!(!page.contains(&n.name), "{} on the public page", n.name);
    }
    // A grid, an unknown code or rubbish: a page with a hint, 404.
    for code in ["130602001001001", "999999999999", "%3Cscript%3E"] {
        let r = anon.get(&format!("/p/{code}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{code}");
        assert!(r.text.contains("未找到"), "{}", r.text);
    }
}

/// The first whitespace- or tag-separated run of ASCII alphanumerics that `f` accepts.
fn regex_like(text: &str, f: impl Fn(&str) -> bool) -> Option<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| f(w))
        .map(str::to_string)
}
