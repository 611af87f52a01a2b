//! Issue 15 point 5: 回应关切 — a resident asks, the question is routed like a case to whoever
//! answers, the answer is published on the community's public page (no personal data), found by
//! search, marked as helpful once per browser, and a repeat is linked to the earlier answer.
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

const COMMUNITY: &str = "130602001001";
const LIFT_PUBLIC: &str = "小区电梯停运什么时候能修好？";

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a page: {page}"))
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

async fn ask(c: &Client, title: &str, body: &str) -> String {
    let r = c
        .post(
            "/api/v1/me/questions",
            json!({"title": title, "body": body}),
        )
        .await
        .expect_status(StatusCode::CREATED);
    assert_eq!(r.body["status"], "open");
    r.body["id"].as_str().unwrap().to_string()
}

/// A client that does not follow redirects and keeps no cookies unless given one.
fn browser(cookie: Option<&str>) -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    if let Some(c) = cookie {
        h.insert(reqwest::header::COOKIE, c.parse().unwrap());
    }
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(h)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_resident_asks_the_community_answers_in_public_and_a_repeat_is_linked() {
    let app = spawn_app().await;
    let jumin = app.demo_user("jumin").await;
    let shequ = app.demo_user("shequ").await;
    let anon = app.anon();

    // Her questions and her community; the demo's five are hers.
    let mine = jumin
        .get("/api/v1/me/questions")
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(mine.body["community"]["code"], COMMUNITY, "{}", mine.text);
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 5);
    // From another community's public page: the ask page can name it.
    let named = jumin
        .get("/api/v1/me/questions?community_code=130602002001")
        .await;
    assert_eq!(
        named.body["community"]["code"], "130602002001",
        "{}",
        named.text
    );
    assert!(named.body["community"]["name"].is_string());

    // Bad input changes nothing.
    let before = app.count("SELECT COUNT(*) FROM questions").await;
    for (bad, field) in [
        (json!({"title": "", "body": "内容"}), "title"),
        (json!({"title": "标题", "body": " "}), "body"),
        (
            json!({"title": "标题", "body": "内容", "community_code": "999999999999"}),
            "community_code",
        ),
        (
            json!({"title": "标题", "body": "内容", "category_code": "zz"}),
            "category_code",
        ),
        (json!({"title": "标".repeat(101), "body": "内容"}), "title"),
    ] {
        let r = jumin.post("/api/v1/me/questions", bad.clone()).await;
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
    let r = jumin
        .post("/api/v1/me/questions", json!({"title": 1, "extra": true}))
        .await;
    assert!(r.status.is_client_error(), "{}", r.text);
    assert_eq!(app.count("SELECT COUNT(*) FROM questions").await, before);

    // While she types, the published answer to the same concern is offered.
    let sim = jumin
        .get("/api/v1/me/questions/similar?q=%E7%94%B5%E6%A2%AF%E5%81%9C%E8%BF%90%E5%A4%9A%E4%B9%85%E4%BF%AE%E5%A5%BD")
        .await; // 电梯停运多久修好
    assert_eq!(sim.status, StatusCode::OK, "{}", sim.text);
    assert_eq!(sim.body["items"][0]["title"], LIFT_PUBLIC, "{}", sim.text);

    // She asks anyway; the community's workers are told and see it with its deadline.
    let repeat = ask(&jumin, "电梯停运多久修好", "我们楼的电梯还是不能用。").await;
    let l = shequ
        .get("/api/v1/questions")
        .await
        .expect_status(StatusCode::OK);
    assert!(ids(&l.body).contains(&repeat));
    assert!(
        l.body["counts"]["overdue"].as_i64().unwrap() >= 1,
        "{}",
        l.text
    );
    assert_eq!(l.body["counts"]["open"], l.body["total"]);
    let told = app
        .count(&format!(
            "SELECT COUNT(*) FROM message_deliveries d JOIN messages m ON m.id = d.message_id \
             JOIN users u ON u.id = d.user_id WHERE m.template_key = 'question.asked' \
             AND m.link = '/questions/{repeat}' AND u.username = 'shequ'"
        ))
        .await;
    assert_eq!(told, 1, "the community worker is told");
    let todos = shequ.get("/api/v1/me/todos").await;
    let todo = todos.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "questions_to_answer")
        .unwrap_or_else(|| panic!("{}", todos.text))
        .clone();
    assert_eq!(
        todo["count"], l.body["counts"]["open"],
        "the to-do agrees with the list"
    );

    // Scope: another community's worker 404, the party secretary of the community 403.
    let other = app.demo_user("shequ2").await;
    assert_eq!(
        other
            .get(&format!("/api/v1/questions/{repeat}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    other
        .post(
            &format!("/api/v1/questions/{repeat}/answer"),
            json!({"answer": "不是我们社区的"}),
        )
        .await
        .expect_status(StatusCode::NOT_FOUND);
    assert!(!ids(&other.get("/api/v1/questions?status=all").await.body).contains(&repeat));
    let shuji = app.demo_user("shuji").await;
    assert_eq!(
        shuji
            .get(&format!("/api/v1/questions/{repeat}"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        jumin
            .get(&format!("/api/v1/me/questions/{repeat}"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        other
            .get(&format!("/api/v1/me/questions/{repeat}"))
            .await
            .status,
        StatusCode::NOT_FOUND,
        "another's question is not theirs"
    );

    // The worker sees the earlier answer as alike and links the repeat to it.
    let d = shequ
        .get(&format!("/api/v1/questions/{repeat}"))
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(d.body["can_answer"], true);
    let asker = d.body["asker_name"].as_str().unwrap();
    assert!(
        asker.starts_with('孙') && !asker.contains('丽'),
        "masked: {asker}"
    );
    let earlier = d.body["similar"][0].clone();
    assert_eq!(earlier["title"], LIFT_PUBLIC, "{}", d.text);
    let earlier_id = earlier["id"].as_str().unwrap().to_string();
    let count_before = earlier["asked_count"].as_i64().unwrap();
    let r = shequ
        .post(
            &format!("/api/v1/questions/{repeat}/link"),
            json!({"to": repeat}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "itself: {}",
        r.text
    );
    let r = shequ
        .post(
            &format!("/api/v1/questions/{repeat}/link"),
            json!({"to": earlier_id}),
        )
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["status"], "linked");
    assert_eq!(r.body["linked_to"]["id"], earlier_id.as_str());
    let r = shequ
        .post(
            &format!("/api/v1/questions/{repeat}/answer"),
            json!({"answer": "再答一次"}),
        )
        .await
        .expect_status(StatusCode::CONFLICT);
    assert_eq!(r.code(), "questions.not_open");
    let hers = jumin.get(&format!("/api/v1/me/questions/{repeat}")).await;
    assert_eq!(hers.body["status"], "linked", "{}", hers.text);
    assert_eq!(hers.body["linked_to"]["title"], LIFT_PUBLIC);
    assert!(hers.body["answer"].as_str().unwrap().contains("周五"));
    assert!(hers.body["answered_unit"].is_string(), "{}", hers.text);
    assert!(jumin
        .get("/api/v1/me/messages")
        .await
        .text
        .contains(&format!("/m/questions/{repeat}")));

    // A question answered in public: the public wording is required and is all the page shows.
    let lamp = ask(
        &jumin,
        "3号楼2单元楼道灯坏了",
        "我是孙丽，电话13800138000，楼道灯一直不亮，晚上很危险。",
    )
    .await;
    let r = shequ
        .post(
            &format!("/api/v1/questions/{lamp}/answer"),
            json!({"answer": "已安排电工明天更换。", "publish": true}),
        )
        .await
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"]["public_title"].is_string());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM questions WHERE title = '3号楼2单元楼道灯坏了' AND status = 'open'")
            .await,
        1,
        "a refused answer changes nothing"
    );
    let r = shequ
        .post(
            &format!("/api/v1/questions/{lamp}/answer"),
            json!({"answer": "已安排电工明天更换楼道灯，并检查其他单元。", "publish": true,
                   "public_title": "楼道灯坏了多久能修？", "public_body": "居民反映楼道灯不亮，夜间不安全。"}),
        )
        .await.expect_status(StatusCode::OK);
    assert_eq!(r.body["public"], true);
    assert_eq!(
        (
            r.body["can_answer"].as_bool(),
            r.body["can_publish"].as_bool()
        ),
        (Some(false), Some(true))
    );
    let page = anon.get(&format!("/p/{COMMUNITY}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text.contains("楼道灯坏了多久能修？"),
        "published at once"
    );
    assert!(page.text.contains("已安排电工明天更换楼道灯"));
    assert!(page.text.contains(LIFT_PUBLIC));
    assert!(page.text.contains("同类提问"), "the repeat is counted");
    for private in ["13800138000", "孙丽", "3号楼2单元楼道灯坏了"] {
        assert!(!page.text.contains(private), "{private} on the public page");
    }
    // The street's page shows its communities' answers too.
    let street = anon.get("/p/130602001000").await;
    assert!(street.text.contains("楼道灯坏了多久能修？"));

    // Search: by other words of the same concern; nothing for an unrelated one.
    let found = anon
        .get(&format!(
            "/p/{COMMUNITY}?q=%E6%A5%BC%E9%81%93%E7%81%AF%E4%B8%8D%E4%BA%AE"
        )) // 楼道灯不亮
        .await;
    assert!(
        found.text.contains("楼道灯坏了多久能修？"),
        "{}",
        found.text
    );
    assert!(!found.text.contains(LIFT_PUBLIC));
    let none = anon
        .get(&format!(
            "/p/{COMMUNITY}?q=%E8%B6%B3%E7%90%83%E6%AF%94%E8%B5%9B"
        )) // 足球比赛
        .await;
    assert!(none.text.contains("没有找到相关的答复"));

    // The earlier answer counts one more asking.
    let e = shequ.get(&format!("/api/v1/questions/{earlier_id}")).await;
    assert_eq!(e.body["asked_count"], count_before + 1, "{}", e.text);

    // Declining needs a reason; the asker is told why.
    let junk = ask(&jumin, "广告", "出租房屋，价格优惠。").await;
    let r = shequ
        .post(
            &format!("/api/v1/questions/{junk}/decline"),
            json!({"reason": ""}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    shequ
        .post(
            &format!("/api/v1/questions/{junk}/decline"),
            json!({"reason": "与社区事务无关"}),
        )
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(
        jumin
            .get(&format!("/api/v1/me/questions/{junk}"))
            .await
            .body["declined_reason"],
        "与社区事务无关"
    );

    // Passed to a department's unit: its handler sees and answers it; the community still sees it.
    let road = ask(
        &jumin,
        "小区门口道路破损",
        "门口的路面有个大坑，电动车容易摔。",
    )
    .await;
    let bumen = app.demo_user("bumen").await;
    assert_eq!(
        bumen.get(&format!("/api/v1/questions/{road}")).await.status,
        StatusCode::FORBIDDEN,
        "not yet theirs"
    );
    let unit = unit_of(&app, "bumen").await;
    shequ
        .post(
            &format!("/api/v1/questions/{road}/route"),
            json!({"unit_id": uuid::Uuid::nil()}),
        )
        .await
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    let r = shequ
        .post(
            &format!("/api/v1/questions/{road}/route"),
            json!({"unit_id": unit, "note": "道路养护归区住建"}),
        )
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["route_rule"], "manual");
    assert!(ids(&bumen.get("/api/v1/questions").await.body).contains(&road));
    assert!(
        bumen
            .get("/api/v1/me/messages")
            .await
            .text
            .contains("道路养护归区住建"),
        "the unit is told why"
    );
    bumen
        .post(
            &format!("/api/v1/questions/{road}/answer"),
            json!({"answer": "已列入本周道路修补计划。"}),
        )
        .await
        .expect_status(StatusCode::OK);

    // Unpublished: off the page (a page cached on this instance is forgotten).
    shequ
        .post(&format!("/api/v1/questions/{lamp}/unpublish"), json!({}))
        .await
        .expect_status(StatusCode::OK);
    assert!(!anon
        .get(&format!("/p/{COMMUNITY}"))
        .await
        .text
        .contains("楼道灯坏了多久能修？"));

    // Five a day: the sixth is 429 and writes nothing.
    let asked = app
        .count(
            "SELECT COUNT(*) FROM questions q JOIN users u ON u.id = q.asker_id WHERE u.username = 'jumin' \
             AND q.title IN ('电梯停运多久修好', '3号楼2单元楼道灯坏了', '广告', '小区门口道路破损')",
        )
        .await;
    assert_eq!(asked, 4);
    ask(&jumin, "第五个问题", "内容").await;
    let n = app.count("SELECT COUNT(*) FROM questions").await;
    let r = jumin
        .post(
            "/api/v1/me/questions",
            json!({"title": "第六个问题", "body": "内容"}),
        )
        .await
        .expect_status(StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers.get("retry-after").is_some());
    assert_eq!(app.count("SELECT COUNT(*) FROM questions").await, n);

    // Past its deadline: those who answer hear of it once, however often the clock runs.
    gongzhi::app::digests::run(&app.state).await.unwrap();
    gongzhi::app::digests::run(&app.state).await.unwrap();
    let overdue = app
        .count(
            "SELECT COUNT(*) FROM messages WHERE template_key = 'question.overdue' \
             AND vars LIKE '%楼下垃圾桶满了没人清运%'",
        )
        .await;
    assert_eq!(overdue, 1);

    // Every write was audited.
    for action in [
        "question.ask",
        "question.link",
        "question.answer",
        "question.decline",
        "question.route",
        "question.unpublish",
    ] {
        assert!(
            app.count(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = '{action}'"
            ))
            .await
                > 0,
            "{action} audited"
        );
    }
}

#[tokio::test]
async fn sixteen_answerers_and_sixteen_helpful_taps_at_once_count_right() {
    let app = spawn_app().await;
    let jumin = app.demo_user("jumin").await;
    let shequ = app.demo_user("shequ").await;
    let zhuren = app.demo_user("shequzhuren").await;
    let id = ask(
        &jumin,
        "社区核酸点还开吗",
        "想知道社区的便民服务点还开不开。",
    )
    .await;

    // Sixteen answers at once: one wins, fifteen are told it is no longer open; one message.
    let mut tasks = vec![];
    for i in 0..16 {
        let c = if i % 2 == 0 {
            shequ.clone()
        } else {
            zhuren.clone()
        };
        let path = format!("/api/v1/questions/{id}/answer");
        tasks.push(tokio::spawn(async move {
            c.post(
                &path,
                json!({"answer": format!("答复{i}"), "publish": true,
                       "public_title": "便民服务点还开吗？", "public_body": "居民询问便民服务点。"}),
            )
            .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        let r = t.await.unwrap();
        match r.status {
            StatusCode::OK => ok += 1,
            StatusCode::CONFLICT => assert_eq!(r.code(), "questions.not_open"),
            s => panic!("{s}: {}", r.text),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM messages WHERE template_key = 'question.answered' AND link = '/m/questions/{id}'"
        ))
        .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'question.answer'")
            .await,
        1 + 2,
        "the demo's two answers and this one"
    );

    // "对我有帮助": sixteen browsers at once count sixteen; one browser tapping again counts once.
    let base = app.anon().base.clone();
    let url = format!("{base}/p/{COMMUNITY}/q/{id}/helped");
    let first = browser(None).post(&url).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        first.headers()["location"].to_str().unwrap(),
        format!("/p/{COMMUNITY}?h={id}#q-{id}")
    );
    let cookie = first.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("gz_voter=v_"), "{cookie}");
    let mut tasks = vec![];
    for i in 0..16 {
        let url = url.clone();
        let cookie = cookie.clone();
        tasks.push(tokio::spawn(async move {
            // Half of them new browsers, half the first one again.
            let c = if i % 2 == 0 {
                browser(None)
            } else {
                browser(Some(&cookie))
            };
            c.post(&url).send().await.unwrap().status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::SEE_OTHER);
    }
    let helped = app
        .count("SELECT CAST(helped AS BIGINT) AS n FROM questions WHERE title = '社区核酸点还开吗'")
        .await;
    assert_eq!(helped, 1 + 8, "the first browser once, eight new ones");
    let page = app.anon().get(&format!("/p/{COMMUNITY}?h={id}")).await;
    assert!(page.text.contains("谢谢您的反馈"));
    assert!(page.text.contains("对我有帮助 · 9"), "{}", page.text);
    // An unknown or unpublished question, a bad id: a page with a hint, nothing counted.
    for bad in [
        format!("{base}/p/{COMMUNITY}/q/{}/helped", uuid::Uuid::nil()),
        format!("{base}/p/{COMMUNITY}/q/not-an-id/helped"),
        format!("{base}/p/999999999999/q/{id}/helped"),
    ] {
        let r = browser(None).post(&bad).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{bad}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM question_helped").await, 9);
}
