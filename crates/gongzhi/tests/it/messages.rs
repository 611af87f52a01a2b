//! Issue 15: the message hub — a case's steps reach the people who must act, in the step's own
//! transaction, once; the inbox is each user's own; templates are data checked when saved.
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

const CHAOYANG_GRID: &str = "130602001001001";

async fn act(c: &Client, id: &str, action: &str, mut body: Value, version: i64) -> Resp {
    body["version"] = json!(version);
    c.post(&format!("/api/v1/cases/{id}/actions/{action}"), body)
        .await
}

async fn new_case(app: &TestApp, c: &Client) -> String {
    let grid = app.area_id(CHAOYANG_GRID).await;
    let r = c
        .post(
            "/api/v1/cases",
            json!({"kind": "complaint", "category_code": "0101", "description": "楼道里堆满杂物，消防通道堵了",
                   "location": {"area_id": grid}, "requester": {"name": "孙丽"}}),
        )
        .await.expect_status(StatusCode::CREATED);
    r.body["id"].as_str().unwrap().to_string()
}

async fn unread(c: &Client) -> i64 {
    let r = c
        .get("/api/v1/me/messages/unread")
        .await
        .expect_status(StatusCode::OK);
    r.body["unread"].as_i64().unwrap()
}

#[tokio::test]
async fn a_cases_steps_reach_the_unit_and_the_desk_once_and_each_inbox_is_its_owners() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let jiedao = app.demo_user("jiedao").await;
    let bumen = app.demo_user("bumen").await;
    let unit = unit_of(&app, "bumen").await;
    let id = new_case(&app, &shequ).await;
    let (b0, j0) = (unread(&bumen).await, unread(&jiedao).await);
    let messages_before = app.count("SELECT COUNT(*) FROM messages").await;

    // A refused step writes nothing.
    act(&jiedao, &id, "dispatch", json!({"unit_id": unit}), 99)
        .await
        .expect_status(StatusCode::CONFLICT);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages").await,
        messages_before
    );

    let r = act(&jiedao, &id, "dispatch", json!({"unit_id": unit}), 1)
        .await
        .expect_status(StatusCode::OK);
    let no = r.body["no"].as_str().unwrap().to_string();
    assert_eq!(unread(&bumen).await, b0 + 1, "the unit's member is told");
    assert_eq!(unread(&jiedao).await, j0, "the one who dispatched is not");
    let list = bumen
        .get("/api/v1/me/messages?unread=true")
        .await
        .expect_status(StatusCode::OK);
    let first = &list.body["items"][0];
    assert_eq!(first["kind"], "case.dispatched");
    assert_eq!(first["title"], format!("新派单 {no}"), "{}", list.text);
    assert!(first["body"].as_str().unwrap().contains("请于"), "{first}");
    assert_eq!(first["link"], format!("/cases/{id}"));
    assert_eq!(
        list.body["total"].as_i64().unwrap(),
        unread(&bumen).await,
        "counter = list"
    );
    let mut en = bumen.clone();
    en.lang = "en";
    let list_en = en.get("/api/v1/me/messages?unread=true").await;
    assert_eq!(list_en.body["items"][0]["title"], format!("New case {no}"));

    // Another's message is not there for you; reading your own moves the counter.
    let mid = first["id"].as_str().unwrap().to_string();
    jiedao
        .post(&format!("/api/v1/me/messages/{mid}/read"), json!({}))
        .await
        .expect_status(StatusCode::NOT_FOUND);
    let r = bumen
        .post(&format!("/api/v1/me/messages/{mid}/read"), json!({}))
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["unread"].as_i64().unwrap(), b0);
    let r = bumen
        .post(&format!("/api/v1/me/messages/{mid}/read"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "reading twice is fine");

    // The unit returns it: the street's desk hears, with the reason.
    act(
        &bumen,
        &id,
        "return",
        json!({"reason": "不属于本单位职责"}),
        2,
    )
    .await
    .expect_status(StatusCode::OK);
    assert_eq!(unread(&jiedao).await, j0 + 1);
    let l = jiedao.get("/api/v1/me/messages?unread=true").await;
    assert_eq!(l.body["items"][0]["kind"], "case.returned");
    assert!(
        l.body["items"][0]["body"]
            .as_str()
            .unwrap()
            .contains("不属于本单位职责"),
        "{}",
        l.text
    );
    let r = jiedao.post("/api/v1/me/messages/read-all", json!({})).await;
    assert_eq!(r.body["unread"], 0);
    // Each step is one message; deliveries name real users only.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages").await,
        messages_before + 2
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM message_deliveries d LEFT JOIN users u ON u.id = d.user_id WHERE u.id IS NULL")
            .await,
        0
    );
}

/// Sixteen dispatchers on one case at once: one step wins, one message is written.
#[tokio::test]
async fn sixteen_concurrent_dispatches_write_one_message() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let jiedao = app.demo_user("jiedao").await;
    let bumen = app.demo_user("bumen").await;
    let unit = unit_of(&app, "bumen").await;
    let id = new_case(&app, &shequ).await;
    let before = unread(&bumen).await;
    let mut tasks = vec![];
    for _ in 0..16 {
        let (c, id, unit) = (jiedao.clone(), id.clone(), unit.clone());
        tasks.push(tokio::spawn(async move {
            act(&c, &id, "dispatch", json!({"unit_id": unit}), 1)
                .await
                .status
        }));
    }
    let mut ok = 0;
    for t in tasks {
        let s = t.await.unwrap();
        assert!(s == StatusCode::OK || s == StatusCode::CONFLICT, "{s}");
        ok += (s == StatusCode::OK) as i32;
    }
    assert_eq!(ok, 1);
    assert_eq!(unread(&bumen).await, before + 1);
    // Sixteen readers of that inbox at once agree with the list.
    let mut tasks = vec![];
    for _ in 0..16 {
        let c = bumen.clone();
        tasks.push(tokio::spawn(async move {
            let n = unread(&c).await;
            let l = c.get("/api/v1/me/messages?unread=true&page_size=200").await;
            (n, l.body["total"].as_i64().unwrap())
        }));
    }
    for t in tasks {
        let (n, total) = t.await.unwrap();
        assert_eq!(n, total);
        assert_eq!(n, before + 1);
    }
}

/// A resident's own report, closed: they are told, with the way to rate it.
#[tokio::test]
async fn the_requester_hears_when_their_case_is_closed() {
    let app = spawn_app().await;
    let jumin = app.demo_user("jumin").await;
    let shequ = app.demo_user("shequ").await;
    #[derive(sea_orm::FromQueryResult)]
    struct A {
        area_id: uuid::Uuid,
    }
    // The resident reports where they live.
    let grid = app.one::<A>("SELECT g.area_id FROM grants g JOIN users u ON u.id = g.user_id WHERE u.username = 'jumin'",
        vec![]).await
    .area_id;
    let r = jumin
        .post(
            "/api/v1/cases",
            json!({"kind": "help", "category_code": "0602", "description": "需要开具居住证明",
                   "location": {"area_id": grid}, "requester": {"name": "孙丽"}}),
        )
        .await
        .expect_status(StatusCode::CREATED);
    let id = r.body["id"].as_str().unwrap().to_string();
    let before = unread(&jumin).await;
    for (v, (action, body)) in [
        ("dispatch", json!({})),
        ("accept", json!({})),
        (
            "handle",
            json!({"result": "已开具证明", "outcome": "resolved"}),
        ),
        ("verify", json!({"ok": true})),
        ("close", json!({})),
    ]
    .into_iter()
    .enumerate()
    {
        let r = act(&shequ, &id, action, body, v as i64 + 1).await;
        assert_eq!(r.status, StatusCode::OK, "{action}: {}", r.text);
    }
    // Checked: the link to rate it; closed: word of it.
    assert_eq!(unread(&jumin).await, before + 2);
    let l = jumin.get("/api/v1/me/messages?unread=true").await;
    assert_eq!(l.body["items"][0]["kind"], "case.closed");
    assert_eq!(l.body["items"][0]["link"], "/my/cases");
    assert_eq!(l.body["items"][1]["kind"], "case.rate");
    let link = l.body["items"][1]["link"].as_str().unwrap();
    assert!(link.starts_with("/rate/"), "{link}");
    assert!(l.body["items"][1]["body"].as_str().unwrap().contains(link));
    // The link is the public rating page's.
    app.anon()
        .get(&format!("/api/v1/public{link}"))
        .await
        .expect_status(StatusCode::OK);
}

/// The deadline sweep: near the deadline the unit hears; past it, the unit and the desk, urgently.
#[tokio::test]
async fn deadlines_near_and_past_reach_the_unit_and_the_desk() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let jiedao = app.demo_user("jiedao").await;
    let bumen = app.demo_user("bumen").await;
    let unit = unit_of(&app, "bumen").await;
    let id = new_case(&app, &shequ).await;
    act(&jiedao, &id, "dispatch", json!({"unit_id": unit}), 1)
        .await
        .expect_status(StatusCode::OK);
    let (b0, j0) = (unread(&bumen).await, unread(&jiedao).await);
    let uid = uuid::Uuid::parse_str(&id).unwrap();
    let past = gongzhi::domain::now_ms() - 60_000;
    gongzhi::store::exec(
        &app.state.db,
        "UPDATE cases SET warn_at = $1 WHERE id = $2",
        vec![past.into(), uid.into()],
    )
    .await
    .unwrap();
    gongzhi::app::cases::lifecycle::sweep(&app.state)
        .await
        .unwrap();
    assert_eq!(unread(&bumen).await, b0 + 1);
    assert_eq!(
        unread(&jiedao).await,
        j0,
        "the desk is not told before the deadline"
    );
    let l = bumen.get("/api/v1/me/messages?unread=true").await;
    assert_eq!(l.body["items"][0]["kind"], "case.due_soon", "{}", l.text);
    gongzhi::store::exec(
        &app.state.db,
        "UPDATE cases SET handle_due_at = $1 WHERE id = $2",
        vec![past.into(), uid.into()],
    )
    .await
    .unwrap();
    gongzhi::app::cases::lifecycle::sweep(&app.state)
        .await
        .unwrap();
    assert_eq!(unread(&bumen).await, b0 + 2);
    assert_eq!(unread(&jiedao).await, j0 + 1);
    let l = jiedao.get("/api/v1/me/messages?unread=true").await;
    assert_eq!(l.body["items"][0]["kind"], "case.overdue");
    assert_eq!(l.body["items"][0]["urgent"], true);
    // A second sweep tells nobody again.
    gongzhi::app::cases::lifecycle::sweep(&app.state)
        .await
        .unwrap();
    assert_eq!(unread(&bumen).await, b0 + 2);
}

#[tokio::test]
async fn templates_are_data_checked_when_saved_and_apply_to_unread_messages() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let shequ = app.demo_user("shequ").await;
    let jiedao = app.demo_user("jiedao").await;
    let bumen = app.demo_user("bumen").await;
    let unit = unit_of(&app, "bumen").await;
    let id = new_case(&app, &shequ).await;
    act(&jiedao, &id, "dispatch", json!({"unit_id": unit}), 1)
        .await
        .expect_status(StatusCode::OK);

    let r = admin
        .get("/api/v1/message-templates")
        .await
        .expect_status(StatusCode::OK);
    let t = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == "case.dispatched")
        .unwrap()
        .clone();
    assert_eq!(t["customised"], false);
    assert!(t["vars"].as_array().unwrap().contains(&json!("due")));
    assert_eq!(
        shequ.get("/api/v1/message-templates").await.status,
        StatusCode::FORBIDDEN
    );

    let path = "/api/v1/message-templates/case.dispatched";
    let wording = |title: &str, version: i64| {
        json!({"version": version, "title_zh": title, "body_zh": "请尽快处理 {title}，期限 {due}",
               "title_en": "Case {no}", "body_en": "Handle {title} by {due}"})
    };
    let r = admin
        .send(
            reqwest::Method::PUT,
            path,
            Some(wording("派单 {no} {手机号}", 0)),
        )
        .await
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text.contains("手机号"),
        "names the unknown variable: {}",
        r.text
    );
    let r = shequ
        .send(reqwest::Method::PUT, path, Some(wording("派单 {no}", 0)))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = admin
        .send(reqwest::Method::PUT, path, Some(wording("【派单】{no}", 0)))
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["customised"], true);
    assert_eq!(r.body["version"], 1);
    let r = admin
        .send(reqwest::Method::PUT, path, Some(wording("again", 0)))
        .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "a second first save is stale: {}",
        r.text
    );
    let l = bumen.get("/api/v1/me/messages?unread=true").await;
    assert!(
        l.body["items"][0]["title"]
            .as_str()
            .unwrap()
            .starts_with("【派单】"),
        "{}",
        l.text
    );
    let r = admin
        .send(reqwest::Method::DELETE, path, None)
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["customised"], false);
    let l = bumen.get("/api/v1/me/messages?unread=true").await;
    assert!(
        l.body["items"][0]["title"]
            .as_str()
            .unwrap()
            .starts_with("新派单"),
        "{}",
        l.text
    );
    assert_eq!(
        admin
            .send(
                reqwest::Method::PUT,
                "/api/v1/message-templates/no.such",
                Some(wording("x", 0))
            )
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'message_template.%'")
            .await
            >= 2
    );
}

/// A newcomer's demo has messages waiting: the open cases of units with people in them.
#[tokio::test]
async fn the_demo_has_messages_waiting() {
    let app = spawn_app().await;
    let open_with_people = app
        .count(
            "SELECT COUNT(*) FROM cases WHERE status IN ('dispatched', 'in_progress') AND unit_id IN \
             (SELECT m.unit_id FROM case_unit_members m JOIN users u ON u.id = m.member_id)",
        )
        .await;
    assert!(open_with_people > 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE template_key = 'case.dispatched'")
            .await,
        open_with_people.min(30)
    );
}

/// A volunteer who signs up hears it confirmed, with the time and the place.
#[tokio::test]
async fn a_volunteer_hears_the_sign_up_confirmed() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let zhiyuan = app.demo_user("zhiyuan").await;
    let community = app.area_id("130602001001").await;
    let at = |h: i64| gongzhi::domain::ms_to_rfc3339(gongzhi::domain::now_ms() + h * 3_600_000);
    let r = shequ
        .post(
            "/api/v1/activities",
            json!({"kind": "volunteer", "title": "周末助老探访", "area_id": community, "place": "社区活动室",
                   "starts_at": at(72), "ends_at": at(74), "capacity": 20, "skills": [], "risky": false}),
        )
        .await.expect_status(StatusCode::CREATED);
    let id = r.body["id"].as_str().unwrap().to_string();
    let before = unread(&zhiyuan).await;
    zhiyuan
        .post(&format!("/api/v1/activities/{id}/signup"), json!({}))
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(unread(&zhiyuan).await, before + 1);
    let l = zhiyuan.get("/api/v1/me/messages?unread=true").await;
    assert_eq!(l.body["items"][0]["kind"], "activity.signed_up");
    assert!(
        l.body["items"][0]["body"]
            .as_str()
            .unwrap()
            .contains("社区活动室"),
        "{}",
        l.text
    );
    assert_eq!(l.body["items"][0]["link"], "/m/volunteer");

    // A day before, the reminder; once, however often the clock looks.
    let r = shequ
        .post(
            "/api/v1/activities",
            json!({"kind": "volunteer", "title": "今晚义务巡逻", "area_id": community, "place": "社区北门",
                   "starts_at": at(30), "ends_at": at(32), "capacity": 20, "skills": [], "risky": false}),
        )
        .await;
    let soon = r.body["id"].as_str().unwrap().to_string();
    zhiyuan
        .post(&format!("/api/v1/activities/{soon}/signup"), json!({}))
        .await
        .expect_status(StatusCode::OK);
    // 30 hours ahead: not yet. Then the activity moves to 3 hours ahead.
    gongzhi::app::service::notify::remind(&app.state.db)
        .await
        .unwrap();
    let before = unread(&zhiyuan).await;
    let three_hours = gongzhi::domain::now_ms() + 3 * 3_600_000;
    gongzhi::store::exec(
        &app.state.db,
        "UPDATE activities SET starts_at = $1, ends_at = $2 WHERE id = $3",
        vec![
            three_hours.into(),
            (three_hours + 7_200_000).into(),
            uuid::Uuid::parse_str(&soon).unwrap().into(),
        ],
    )
    .await
    .unwrap();
    gongzhi::app::service::notify::remind(&app.state.db)
        .await
        .unwrap();
    gongzhi::app::service::notify::remind(&app.state.db)
        .await
        .unwrap();
    assert_eq!(unread(&zhiyuan).await, before + 1);
    let l = zhiyuan.get("/api/v1/me/messages?unread=true").await;
    assert_eq!(
        l.body["items"][0]["kind"], "activity.reminder",
        "{}",
        l.text
    );
    assert!(l.body["items"][0]["title"]
        .as_str()
        .unwrap()
        .contains("今晚义务巡逻"));
}

/// Points posted by hand reach the volunteer, with the amount and the balance.
#[tokio::test]
async fn a_volunteer_hears_of_points_posted_by_hand() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let zhiyuan = app.demo_user("zhiyuan").await;
    #[derive(sea_orm::FromQueryResult)]
    struct A {
        id: uuid::Uuid,
    }
    let account = gongzhi::store::fetch_opt::<A, _>(
        &app.state.db,
        "SELECT pa.id FROM point_accounts pa JOIN volunteers v ON v.id = pa.volunteer_id \
         JOIN users u ON u.id = v.user_id WHERE u.username = 'zhiyuan'",
        vec![],
    )
    .await
    .unwrap()
    .expect("zhiyuan's account")
    .id;
    let before = unread(&zhiyuan).await;
    shequ
        .post(
            "/api/v1/points/postings",
            json!({"account_id": account, "amount": 5, "direction": "earn", "note": "协助疫苗接种点引导"}),
        )
        .await.expect_status(StatusCode::CREATED);
    assert_eq!(unread(&zhiyuan).await, before + 1);
    let l = zhiyuan.get("/api/v1/me/messages?unread=true").await;
    assert_eq!(l.body["items"][0]["kind"], "points.posted");
    assert_eq!(l.body["items"][0]["title"], "积分变动 +5");
    assert!(l.body["items"][0]["body"]
        .as_str()
        .unwrap()
        .contains("协助疫苗接种点引导"));
}

/// Issue 15 point 3: each grid worker hears once a day how many households are due a visit (the
/// same number as the home page's to-do), and a party member in service whose report-in expired is
/// asked once a week — however often the clock runs.
#[tokio::test]
async fn grid_workers_hear_of_visits_due_daily_and_members_are_asked_to_report_in_weekly() {
    let app = spawn_app().await;
    // 吴强 (zhiyuan), a volunteer with an account, is a party member in service who never reported in.
    gongzhi::store::exec(
        &app.state.db,
        "INSERT INTO party_members (id, volunteer_id, org_id, community_id, kind, joined_on, status, created_at, updated_at) \
         SELECT $1, v.id, (SELECT id FROM party_orgs ORDER BY name LIMIT 1), v.community_id, 'in_service', '2020-07-01', \
         'active', 0, 0 FROM volunteers v JOIN users u ON u.id = v.user_id WHERE u.username = 'zhiyuan'",
        vec![gongzhi::domain::new_id().into()],
    )
    .await
    .unwrap();
    for _ in 0..3 {
        gongzhi::app::digests::run(&app.state).await.unwrap();
    }
    let wangge = app.demo_user("wangge").await;
    let todos = wangge.get("/api/v1/me/todos").await;
    let due = todos.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "households_to_visit")
        .unwrap()["count"]
        .as_i64()
        .unwrap();
    assert!(due > 0, "the demo grid has households due: {}", todos.text);
    let inbox = wangge.get("/api/v1/me/messages").await;
    let visits: Vec<&Value> = inbox.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "visit.due")
        .collect();
    assert_eq!(visits.len(), 1, "once a day: {}", inbox.text);
    assert!(
        visits[0]["title"]
            .as_str()
            .unwrap()
            .contains(&due.to_string()),
        "the to-do's number: {} vs {due}",
        visits[0]
    );
    let zhiyuan = app.demo_user("zhiyuan").await;
    let inbox = zhiyuan.get("/api/v1/me/messages").await;
    let asks = inbox.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "party.report_in_due")
        .count();
    assert_eq!(asks, 1, "once a week: {}", inbox.text);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE template_key = 'party.report_in_due'")
            .await,
        1
    );
}

/// Messages are kept `GONGZHI_MESSAGE_RETENTION_DAYS` (365 unless told): the sweep removes older
/// ones with their deliveries, and nothing newer.
#[tokio::test]
async fn old_messages_are_swept_with_their_deliveries_and_new_ones_stay() {
    let app = spawn_app().await;
    let total = app.count("SELECT COUNT(*) FROM messages").await;
    assert!(total > 3, "the demo has messages: {total}");
    // Age all but the newest three by two years (the server's clock may write more meanwhile).
    let aged = gongzhi::store::exec(
        &app.state.db,
        "UPDATE messages SET created_at = created_at - 63072000000 WHERE id NOT IN \
         (SELECT id FROM messages ORDER BY created_at DESC LIMIT 3)",
        vec![],
    )
    .await
    .unwrap();
    let removed =
        gongzhi::app::messages::sweep(&app.state.db, app.state.settings.message_retention_days)
            .await
            .unwrap();
    // The server's own sweep may have run first (it starts with the server).
    assert!(removed <= aged, "{removed} of {aged}");
    assert!(aged as i64 >= total - 3, "{aged} of {total}");
    let year_ago = gongzhi::domain::now_ms() - 365 * 86_400_000;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM messages WHERE created_at < {year_ago}"
        ))
        .await,
        0
    );
    assert!(app.count("SELECT COUNT(*) FROM messages").await >= 3);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM message_deliveries d WHERE NOT EXISTS \
             (SELECT 1 FROM messages m WHERE m.id = d.message_id)"
        )
        .await,
        0,
        "no delivery left without its message"
    );
    // Inboxes still answer, counters agree.
    let jumin = app.demo_user("jumin").await;
    let unread = jumin.get("/api/v1/me/messages/unread").await;
    assert_eq!(unread.status, reqwest::StatusCode::OK);
}
