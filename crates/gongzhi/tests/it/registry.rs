//! The registry (一户一档): identity checks, encryption and masking, reveal with reason, audited
//! reads, history, households over time, visits and needs, freshness, data quality.
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

async fn first_building(app: &TestApp, community_code: &str) -> String {
    app.first_under(community_code, "building").await.0
}

async fn new_person(c: &Client, area: &str, name: &str, id: &str, extra: Value) -> Value {
    let mut body = json!({"area_id": area, "name": name, "id_no": id, "residence_type": "hukou"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    let r = c
        .post("/api/v1/persons", body)
        .await
        .expect_status(StatusCode::CREATED);
    r.body
}

#[tokio::test]
async fn identity_is_checked_and_stored_encrypted_and_masked() {
    let app = spawn_app().await;
    let w = app.demo_user("shequ").await;
    let b = first_building(&app, "130602001001").await;
    let good = id_no("13060219880512002");
    // Wrong check digit, disagreeing birth date, bad mobile: all reported at once by field.
    let bad_check = format!(
        "{}{}",
        &good[..17],
        if good.ends_with('0') { '1' } else { '0' }
    );
    let r = w
        .post("/api/v1/persons", json!({"area_id": b, "name": "王芳", "id_no": bad_check, "mobile": "12345", "residence_type": "hukou"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body["error"]["fields"]["id_no"]
            .as_str()
            .unwrap()
            .contains("校验位"),
        "{}",
        r.text
    );
    assert!(r.body["error"]["fields"]["mobile"].is_string());
    let r = w
        .post("/api/v1/persons", json!({"area_id": b, "name": "王芳", "id_no": good, "birth_date": "1988-05-13", "residence_type": "hukou"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"]["birth_date"].is_string());

    let p = new_person(
        &w,
        &b,
        "王芳",
        &good,
        json!({"mobile": "13812345678", "tags": ["独居老人", "subsistence"]}),
    )
    .await;
    assert_eq!(p["id_no_masked"], format!("130***********{}", &good[14..]));
    assert_eq!(p["mobile_masked"], "138****5678");
    assert_eq!(p["birth_date"], "1988-05-12");
    assert_eq!(p["gender"], "female", "the 17th digit is even");
    assert_eq!(p["tags"], json!(["living_alone_elderly"]));
    assert_eq!(p["sensitive_tags"], json!(["subsistence"]));
    assert!(!p.to_string().contains(&good) && !p.to_string().contains("13812345678"));

    // Nothing readable at rest.
    #[derive(sea_orm::FromQueryResult)]
    struct Raw {
        id_no_enc: Option<String>,
        mobile_enc: Option<String>,
        tags: String,
        sensitive_tags_enc: Option<String>,
    }
    let raw: Raw = app.one("SELECT id_no_enc, mobile_enc, tags, sensitive_tags_enc FROM persons WHERE name = '王芳' AND deleted_at IS NULL AND id_no_masked LIKE $1", vec![format!("%{}", &good[14..]).into()]).await;
    assert!(raw.id_no_enc.unwrap().starts_with("v1:"));
    assert!(raw.mobile_enc.unwrap().starts_with("v1:"));
    assert!(!raw.tags.contains("subsistence"));
    assert!(!raw.sensitive_tags_enc.unwrap().contains("subsistence"));

    // The same ID number again: 409 on the field.
    let r = w.post("/api/v1/persons", json!({"area_id": b, "name": "王芳芳", "id_no": good.to_lowercase(), "residence_type": "hukou"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body["error"]["fields"]["id_no"].is_string());
}

#[tokio::test]
async fn search_by_two_character_name_exact_id_and_mobile_within_scope() {
    let app = spawn_app().await;
    let w = app.demo_user("shequ").await;
    let b = first_building(&app, "130602001001").await;
    let id = id_no("13060219750101003");
    let p = new_person(&w, &b, "欧阳电梯", &id, json!({"mobile": "13912341234"})).await;
    let pid = p["id"].as_str().unwrap();
    for q in [
        "%E7%94%B5%E6%A2%AF",
        id.as_str(),
        "13912341234",
        "139 1234 1234",
    ] {
        let r = w
            .get(&format!("/api/v1/persons?q={}", q.replace(' ', "%20")))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.text);
        assert!(
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["id"] == pid),
            "{q}: {}",
            r.text
        );
    }
    // Age, residence type and area filters; paging shape.
    let r = w
        .get("/api/v1/persons?age_min=50&age_max=51&residence_type=hukou&page_size=5")
        .await;
    assert_eq!(r.body["page_size"], 5);
    assert!(
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| (50..=51).contains(&x["age"].as_i64().unwrap())),
        "{}",
        r.text
    );
    // Another community's worker finds nothing of it, and gets 404 on it.
    let w2 = app.demo_user("shequ2").await;
    let r = w2.get(&format!("/api/v1/persons?q={id}")).await;
    assert_eq!(r.body["total"], 0);
    assert_eq!(
        w2.get(&format!("/api/v1/persons/{pid}")).await.status,
        StatusCode::NOT_FOUND
    );
    // A volunteer of the same community has no registry rights.
    let v = app.demo_user("zhiyuan").await;
    assert_eq!(
        v.get(&format!("/api/v1/persons/{pid}")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(v.get("/api/v1/persons").await.status, StatusCode::FORBIDDEN);
    // Every list and read was audited, never with the searched number in clear.
    assert!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'person.list'")
            .await
            >= 5
    );
    let leaked = gongzhi::store::fetch_i64(
        &app.state.db,
        "SELECT COUNT(*) FROM audit_log WHERE detail LIKE $1",
        vec![format!("%{}%", &id[6..14]).into()],
    )
    .await
    .unwrap();
    assert_eq!(leaked, 0);
}

fn enc(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

async fn names_found(c: &Client, q: &str) -> Vec<String> {
    let r = c
        .get(&format!("/api/v1/persons?q={}&page_size=200", enc(q)))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.text);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn names_are_found_by_index_anywhere_in_the_name_and_follow_renames() {
    let app = spawn_app().await;
    let w = app.demo_user("shequ").await;
    let b = first_building(&app, "130602001001").await;
    let p = new_person(&w, &b, "欧阳晓芳", &id_no("13060219800101002"), json!({})).await;
    new_person(&w, &b, "芳草地", &id_no("13060219800101010"), json!({})).await;
    // Any two or more consecutive characters, the surname alone, and nothing that is not there.
    for q in ["晓芳", "阳晓", "欧阳晓芳", "阳晓芳", "欧"] {
        assert!(
            names_found(&w, q).await.contains(&"欧阳晓芳".to_string()),
            "{q}"
        );
    }
    for q in ["芳晓", "欧芳", "晓欧阳"] {
        assert!(
            !names_found(&w, q).await.contains(&"欧阳晓芳".to_string()),
            "{q}"
        );
    }
    // One character is a surname search: 芳草地 starts with 芳, 欧阳晓芳 does not.
    let one = names_found(&w, "芳").await;
    assert!(one.contains(&"芳草地".to_string()) && !one.contains(&"欧阳晓芳".to_string()));
    // A common surname over the whole city: the count stops at 1,000 and says there are more.
    let admin = app.admin().await;
    let total_wang = app
        .count("SELECT COUNT(*) FROM persons WHERE name LIKE '王%' AND status = 'active'")
        .await;
    let r = admin
        .get(&format!("/api/v1/persons?q={}", enc("王")))
        .await
        .expect_status(StatusCode::OK);
    if total_wang > 1000 {
        assert_eq!(r.body["total"], 1000, "{}", r.text);
        assert_eq!(r.body["more"], true);
    } else {
        assert_eq!(r.body["total"], total_wang);
        assert!(r.body.get("more").is_none());
    }
    assert_eq!(r.body["items"].as_array().unwrap().len(), 20);
    // A rename moves the index with it.
    w.patch(
        &format!("/api/v1/persons/{}", p["id"].as_str().unwrap()),
        json!({"version": p["version"], "name": "司马光明"}),
    )
    .await
    .expect_status(StatusCode::OK);
    assert!(names_found(&w, "晓芳")
        .await
        .iter()
        .all(|n| n != "司马光明"));
    assert!(names_found(&w, "马光")
        .await
        .contains(&"司马光明".to_string()));
    // Households are found by their head's name the same way (the demo's heads are indexed).
    let head: String = gongzhi::store::fetch_all::<NameRow, _>(
        &app.state.db,
        "SELECT p.name FROM households h JOIN persons p ON p.id = h.head_person_id \
         WHERE h.community_id = (SELECT id FROM areas WHERE code = '130602001001') LIMIT 1",
        vec![],
    )
    .await
    .unwrap()
    .remove(0)
    .name;
    let tail: String = head.chars().skip(head.chars().count() - 2).collect();
    let r = w
        .get(&format!("/api/v1/households?q={}", enc(&tail)))
        .await
        .expect_status(StatusCode::OK);
    assert!(r.body["total"].as_i64().unwrap() >= 1, "{tail}: {}", r.text);
    // The index is in scope like everything else: the other community's worker finds none of it.
    let w2 = app.demo_user("shequ2").await;
    assert!(names_found(&w2, "马光").await.is_empty());
    // Residents stored before the index existed are indexed by the migration's backfill.
    let n = app.count("SELECT COUNT(*) FROM person_name_grams").await;
    gongzhi::store::exec(&app.state.db, "DELETE FROM person_name_grams", vec![])
        .await
        .unwrap();
    assert!(names_found(&w, "马光").await.is_empty());
    gongzhi::store::migrations::backfill_search_grams(&app.state.db)
        .await
        .unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM person_name_grams").await, n);
    assert!(names_found(&w, "马光")
        .await
        .contains(&"司马光明".to_string()));
}

#[derive(sea_orm::FromQueryResult)]
struct NameRow {
    name: String,
}

#[tokio::test]
async fn reveal_needs_a_permitted_role_and_a_reason_and_is_audited() {
    let app = spawn_app_with(|s| s.auth_cache_ms = 0).await;
    let w = app.demo_user("shequ").await;
    let b = first_building(&app, "130602001001").await;
    let id = id_no("13060219600707004");
    let p = new_person(
        &w,
        &b,
        "刘洋",
        &id,
        json!({"mobile": "13700001111", "tags": ["disabled"]}),
    )
    .await;
    let pid = p["id"].as_str().unwrap();
    let r = w
        .post(
            &format!("/api/v1/persons/{pid}/reveal"),
            json!({"fields": ["id_no"], "reason": ""}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = w
        .post(
            &format!("/api/v1/persons/{pid}/reveal"),
            json!({"fields": ["id_no", "mobile"], "reason": "办理残疾人补贴核对"}),
        )
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["id_no"], id);
    assert_eq!(r.body["mobile"], "13700001111");
    let a = app.admin().await;
    let log = a.get("/api/v1/audit?action=person.reveal").await;
    assert_eq!(log.body["items"][0]["detail"], "办理残疾人补贴核对");
    assert_eq!(log.body["items"][0]["fields"], json!(["id_no", "mobile"]));
    // A building leader reads masked data of their building but may not reveal nor see sensitive tags.
    let l = app.demo_user("louzhang").await;
    let r = l.get(&format!("/api/v1/persons/{pid}")).await;
    if r.status == StatusCode::OK {
        assert!(r.body.get("sensitive_tags").is_none(), "{}", r.text);
        let r = l
            .post(
                &format!("/api/v1/persons/{pid}/reveal"),
                json!({"fields": ["id_no"], "reason": "想看看"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = l.get("/api/v1/persons?tag=disabled").await;
        assert_eq!(r.body["total"], 0, "{}", r.text);
    } else {
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "the person is in another building"
        );
    }
    // The community worker filters by the sensitive tag.
    let r = w
        .get("/api/v1/persons?tag=disabled&q=%E5%88%98%E6%B4%8B")
        .await; // 刘洋
    assert!(
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == pid),
        "{}",
        r.text
    );
    assert!(r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["sensitive_tags"]
            .as_array()
            .unwrap()
            .contains(&json!("disabled"))));
    assert!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'person.read'")
            .await
            >= 1
    );
}

#[tokio::test]
async fn edits_keep_history_and_concurrent_edits_conflict() {
    let app = spawn_app().await;
    let w = app.demo_user("shequ").await;
    let b = first_building(&app, "130602001001").await;
    let p = new_person(
        &w,
        &b,
        "赵磊",
        &id_no("13060219900101005"),
        json!({"mobile": "13600000000"}),
    )
    .await;
    let pid = p["id"].as_str().unwrap().to_string();
    let v = p["version"].as_i64().unwrap();
    let path = format!("/api/v1/persons/{pid}");
    let (r1, r2) = tokio::join!(
        w.patch(
            &path,
            json!({"version": v, "mobile": "13600001111", "reason": "correction"})
        ),
        w.patch(&path, json!({"version": v, "occupation": "教师"})),
    );
    let mut s = [r1.status.as_u16(), r2.status.as_u16()];
    s.sort();
    assert_eq!(s, [200, 409], "{} / {}", r1.text, r2.text);
    let h = w.get(&format!("/api/v1/persons/{pid}/history")).await;
    let events = h.body.as_array().unwrap();
    assert_eq!(events.last().unwrap()["reason"], "create");
    let change = &events[0];
    assert!(
        change["changes"]["mobile"] == json!(["136****0000", "136****1111"])
            || change["changes"]["occupation"].is_array(),
        "{}",
        h.text
    );
    assert!(!h.text.contains("13600001111"));
    // Soft delete needs a reason and hides the person; the history stays.
    assert_eq!(
        w.delete(&path).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        w.delete(&format!(
            "{path}?reason=%E9%87%8D%E5%A4%8D%E5%BD%95%E5%85%A5"
        ))
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(w.get(&path).await.status, StatusCode::NOT_FOUND);
    let kept = gongzhi::store::fetch_i64(
        &app.state.db,
        "SELECT COUNT(*) FROM registry_events WHERE object_id = $1",
        vec![uuid::Uuid::parse_str(&pid).unwrap().into()],
    )
    .await
    .unwrap();
    assert!(kept >= 2);
}

#[tokio::test]
async fn a_household_over_time_in_one_file() {
    let app = spawn_app().await;
    let w = app.demo_user("shequ").await;
    let b = first_building(&app, "130602001001").await;
    let r = w
        .post(
            "/api/v1/dwellings",
            json!({"building_id": b, "unit": "9", "floor": 9, "room": "901", "usage": "出租"}),
        )
        .await
        .expect_status(StatusCode::CREATED);
    let d = r.body["id"].as_str().unwrap().to_string();
    assert!(r.body["address"].as_str().unwrap().contains("9单元901"));
    let dup = w
        .post(
            "/api/v1/dwellings",
            json!({"building_id": b, "unit": "9", "room": "901", "usage": "rented"}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert!(dup.body["error"]["fields"]["room"].is_string());
    w.post(
        &format!("/api/v1/dwellings/{d}/owners"),
        json!({"owner_name": "张三", "from_date": "2020-01-01"}),
    )
    .await
    .expect_status(StatusCode::OK);
    let r = w
        .post(
            &format!("/api/v1/dwellings/{d}/owners"),
            json!({"owner_name": "李四", "from_date": "2024-06-01"}),
        )
        .await;
    assert_eq!(r.body["current_owner"], "李四");
    assert_eq!(r.body["owners"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["owners"][1]["to_date"], "2024-06-01");

    let r = w
        .post(
            "/api/v1/households",
            json!({"dwelling_id": d, "kind": "floating"}),
        )
        .await
        .expect_status(StatusCode::CREATED);
    let h = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["stale"], true, "never verified");
    let head = new_person(
        &w,
        &b,
        "孙伟",
        &id_no("41010219850303007"),
        json!({"residence_type": "floating"}),
    )
    .await;
    let spouse = new_person(
        &w,
        &b,
        "周娜",
        &id_no("41010219860404008"),
        json!({"residence_type": "floating"}),
    )
    .await;
    let r = w
        .post(
            &format!("/api/v1/households/{h}/members"),
            json!({"person_id": head["id"], "relation": "户主", "from_date": "2023-01-01"}),
        )
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["head_name"], "孙伟");
    let r = w
        .post(
            &format!("/api/v1/households/{h}/members"),
            json!({"person_id": spouse["id"], "relation": "head"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "only one head");
    w.post(
        &format!("/api/v1/households/{h}/members"),
        json!({"person_id": spouse["id"], "relation": "spouse", "from_date": "2023-01-01"}),
    )
    .await;

    let file = w.get(&format!("/api/v1/households/{h}/file")).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.body["members"].as_array().unwrap().len(), 2);
    assert_eq!(file.body["dwelling"]["owners"].as_array().unwrap().len(), 2);
    let member_id = file.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["relation"] == "spouse")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Move out, then read the file as it was before.
    w.post(
        &format!("/api/v1/households/{h}/members/{member_id}/end"),
        json!({"to_date": "2025-03-01", "reason": "迁出"}),
    )
    .await
    .expect_status(StatusCode::OK);
    let file = w.get(&format!("/api/v1/households/{h}/file")).await;
    assert_eq!(file.body["members"].as_array().unwrap().len(), 1);
    assert_eq!(file.body["past_members"].as_array().unwrap().len(), 1);
    assert_eq!(
        file.body["past_members"][0]["person"]["status"],
        "moved_out"
    );
    let then = w
        .get(&format!("/api/v1/households/{h}/file?as_of=2024-12-31"))
        .await;
    assert_eq!(
        then.body["members"].as_array().unwrap().len(),
        2,
        "{}",
        then.text
    );
    let before = w
        .get(&format!("/api/v1/households/{h}/file?as_of=2022-12-31"))
        .await;
    assert_eq!(before.body["members"].as_array().unwrap().len(), 0);
    assert!(file.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["reason"] == "move_out"));
    assert_eq!(file.body["cases"], json!([]));
    // One tap: verified.
    let r = w
        .post(&format!("/api/v1/households/{h}/verify"), json!({}))
        .await;
    assert_eq!(r.body["stale"], false);
    assert_eq!(r.body["last_verified_by"], "shequ");
    assert!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'household.file'")
            .await
            >= 4
    );
}

#[tokio::test]
async fn visits_find_needs_that_are_followed_up() {
    let app = spawn_app().await;
    let g = app.demo_user("wangge").await;
    let list = g.get("/api/v1/households?page_size=1").await;
    let h = list.body["items"][0]["id"].as_str().unwrap().to_string();
    let r = g
        .post(
            "/api/v1/visits",
            json!({"household_id": h, "mode": "入户", "lat": 38.87, "lon": 115.46, "notes": "独居老人，精神不错",
                   "needs": [{"category": "维修", "urgency": "high", "description": "卫生间漏水"}, {"category": "medical", "urgency": "low", "description": "想签约家庭医生"}]}),
        )
        .await.expect_status(StatusCode::CREATED);
    assert_eq!(r.body["needs"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["visitors"], "wangge");
    let need = r.body["needs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["urgency"] == "high")
        .unwrap()
        .clone();
    assert_eq!(
        need["due_on"].as_str().unwrap(),
        gongzhi::app::registry::date_after_days(3)
    );
    // Bad input changes nothing.
    let before = app.count("SELECT COUNT(*) FROM visits").await;
    for bad in [
        json!({"household_id": h, "mode": "飞鸽传书"}),
        json!({"household_id": h, "mode": "phone", "visited_on": "2999-01-01"}),
        json!({"household_id": h, "mode": "phone", "lat": 95.0, "lon": 1.0}),
        json!({"household_id": h, "mode": "phone", "needs": [{"category": "x", "urgency": "high", "description": ""}]}),
    ] {
        assert_eq!(
            g.post("/api/v1/visits", bad).await.status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM visits").await, before);
    // Close the need: a result is required.
    let nid = need["id"].as_str().unwrap();
    let r = g
        .patch(
            &format!("/api/v1/needs/{nid}"),
            json!({"version": 1, "status": "closed"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    g.patch(
        &format!("/api/v1/needs/{nid}"),
        json!({"version": 1, "status": "closed", "result": "已联系物业修复"}),
    )
    .await
    .expect_status(StatusCode::OK);
    let r = g
        .get("/api/v1/needs?status=unclosed&category=medical")
        .await;
    assert!(r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["category"] == "medical" && n["status"] != "closed"));
    let r = g.get("/api/v1/needs?overdue=true").await;
    assert!(r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["overdue"] == true));
}

#[tokio::test]
async fn data_quality_per_area_from_the_demo() {
    let app = spawn_app().await;
    let w = app.demo_user("shequ").await;
    let chaoyang = app.area_id("130602001001").await;
    let s = w
        .get(&format!("/api/v1/registry/stats?area_id={chaoyang}"))
        .await
        .expect_status(StatusCode::OK);
    let hh = s.body["households"].as_i64().unwrap();
    assert!(hh >= 900, "{}", s.text);
    assert!(s.body["persons"].as_i64().unwrap() > hh);
    let cov = s.body["visit_coverage"].as_f64().unwrap();
    assert!(cov > 0.3 && cov < 0.9, "{cov}");
    assert!(s.body["never_visited_households"].as_i64().unwrap() > 0);
    let fresh = s.body["freshness_rate"].as_f64().unwrap();
    assert!(fresh > 0.3 && fresh < 1.0, "{fresh}");
    assert!(!s.body["needs_by_category"].as_array().unwrap().is_empty());
    // The stale households are the verification tasks; verifying one removes it.
    let stale = w.get("/api/v1/registry/stale?page_size=1").await;
    let total = stale.body["total"].as_i64().unwrap();
    assert!(total > 0);
    let h = stale.body["items"][0]["id"].as_str().unwrap();
    w.post(
        &format!("/api/v1/households/{h}/verify"),
        json!({"note": "电话确认无变化"}),
    )
    .await;
    assert_eq!(
        w.get("/api/v1/registry/stale?page_size=1").await.body["total"]
            .as_i64()
            .unwrap(),
        total - 1
    );
    // Out of scope: 404.
    let other = app.area_id("130602002001").await;
    assert_eq!(
        w.get(&format!("/api/v1/registry/stats?area_id={other}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Vocabularies.
    let v = w.get("/api/v1/registry/vocab").await;
    assert!(v.body["tags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["code"] == "subsistence" && t["sensitive"] == true));
}

#[tokio::test]
async fn duplicates_are_flagged_for_a_decision() {
    let app = spawn_app().await;
    let w = app.demo_user("shequ").await;
    let h1 = w.get("/api/v1/households?page_size=2").await;
    let (a, b) = (
        h1.body["items"][0]["id"].as_str().unwrap().to_string(),
        h1.body["items"][1]["id"].as_str().unwrap().to_string(),
    );
    let bld = first_building(&app, "130602001001").await;
    let p = new_person(&w, &bld, "钱多", &id_no("13060219700101009"), json!({})).await;
    for h in [&a, &b] {
        w.post(
            &format!("/api/v1/households/{h}/members"),
            json!({"person_id": p["id"], "relation": "other"}),
        )
        .await
        .expect_status(StatusCode::OK);
    }
    let d = w
        .get("/api/v1/registry/duplicates")
        .await
        .expect_status(StatusCode::OK);
    assert!(
        d.body
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["kind"] == "two_households" && x["persons"].as_array().unwrap().len() == 2),
        "{}",
        d.text
    );
}

#[tokio::test]
async fn legal_entities_check_the_credit_code() {
    let app = spawn_app().await;
    let w = app.demo_user("shequ").await;
    let b = first_building(&app, "130602001001").await;
    let first = "91130602MA0CABCD1";
    let code = format!(
        "{first}{}",
        gongzhi::domain::ids::uscc_check_char(first).unwrap()
    );
    let r = w.post("/api/v1/legal-entities", json!({"area_id": b, "name": "保定市朝阳便民超市", "uscc": "91130602MA0CABCD10", "kind": "shop"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = w.post("/api/v1/legal-entities", json!({"area_id": b, "name": "保定市朝阳便民超市", "uscc": code, "kind": "shop", "contact_mobile": "13311112222"})).await.expect_status(StatusCode::CREATED);
    assert_eq!(r.body["contact_mobile_masked"], "133****2222");
    let r = w
        .post(
            "/api/v1/legal-entities",
            json!({"area_id": b, "name": "另一家", "uscc": code, "kind": "shop"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = w.get(&format!("/api/v1/legal-entities?q={code}")).await;
    assert_eq!(r.body["total"], 1);
}

#[tokio::test]
async fn key_rotation_re_encrypts_everything_or_nothing() {
    let app = spawn_app().await;
    let w = app.demo_user("shequ").await;
    let b = first_building(&app, "130602001001").await;
    let id = id_no("13060219660606001");
    new_person(
        &w,
        &b,
        "钱学",
        &id,
        json!({"mobile": "13500135000", "tags": ["subsistence"]}),
    )
    .await;
    let old = gongzhi::crypto::Keys::from_master(&[0x11; 32]);
    let new = gongzhi::crypto::Keys::from_master(&[0x33; 32]);
    // Protected values outside the registry: an account's phone and e-mail, a case's requester.
    gongzhi::store::exec(
        &app.state.db,
        "UPDATE users SET phone_enc = $1, phone_bidx = $2, email_enc = $3 WHERE username = 'jumin'",
        vec![
            old.encrypt("13800138000").into(),
            old.blind_index("mobile", "13800138000").into(),
            old.encrypt("jumin@example.cn").into(),
        ],
    )
    .await
    .unwrap();
    let cases = app.count("SELECT COUNT(*) FROM cases").await;
    assert!(cases > 0, "the demo has cases");
    // A wrong "current" key fails and changes nothing.
    let wrong = gongzhi::crypto::Keys::from_master(&[0x44; 32]);
    assert!(gongzhi::app::maintenance::rotate_keys(
        &app.state.db,
        &wrong,
        &new,
        &app.state.audit_key
    )
    .await
    .is_err());
    let r = gongzhi::app::maintenance::rotate_keys(&app.state.db, &old, &new, &app.state.audit_key)
        .await
        .unwrap();
    assert!(r.persons > 1000, "{r:?}");
    assert!(r.others > cases as u64, "every case and the account: {r:?}");
    #[derive(sea_orm::FromQueryResult)]
    struct C {
        requester_name: String,
        requester_phone: Option<String>,
    }
    let all: Vec<C> = gongzhi::store::fetch_all(
        &app.state.db,
        "SELECT requester_name, requester_phone FROM cases",
        vec![],
    )
    .await
    .unwrap();
    assert!(
        all.iter().all(|c| new.decrypt(&c.requester_name).is_some()
            && c.requester_phone
                .as_ref()
                .is_none_or(|p| new.decrypt(p).is_some())),
        "every requester readable with the new key"
    );
    #[derive(sea_orm::FromQueryResult)]
    struct U {
        phone_enc: Option<String>,
        phone_bidx: Option<String>,
        email_enc: Option<String>,
    }
    let u: U = app
        .one(
            "SELECT phone_enc, phone_bidx, email_enc FROM users WHERE username = 'jumin'",
            vec![],
        )
        .await;
    assert_eq!(
        new.decrypt(&u.phone_enc.unwrap()).as_deref(),
        Some("13800138000")
    );
    assert_eq!(u.phone_bidx, Some(new.blind_index("mobile", "13800138000")));
    assert_eq!(
        new.decrypt(&u.email_enc.unwrap()).as_deref(),
        Some("jumin@example.cn")
    );
    #[derive(sea_orm::FromQueryResult)]
    struct P {
        id_no_enc: Option<String>,
        sensitive_tags_enc: Option<String>,
        id: uuid::Uuid,
    }
    let p: P = gongzhi::store::fetch_opt(
        &app.state.db,
        "SELECT id, id_no_enc, sensitive_tags_enc FROM persons WHERE id_no_bidx = $1",
        vec![new.blind_index("id_no", &id).into()],
    )
    .await
    .unwrap()
    .expect("found through the new blind index");
    let enc = p.id_no_enc.unwrap();
    assert!(enc.starts_with(&format!("v1:{}:", new.key_id)));
    assert_eq!(new.decrypt(&enc).as_deref(), Some(id.as_str()));
    assert_eq!(old.decrypt(&enc), None);
    assert!(new
        .decrypt(&p.sensitive_tags_enc.unwrap())
        .unwrap()
        .contains("subsistence"));
    let tag = gongzhi::store::fetch_i64(
        &app.state.db,
        "SELECT COUNT(*) FROM person_tags WHERE person_id = $1 AND tag_key = $2",
        vec![
            p.id.into(),
            gongzhi::app::registry::persons::sensitive_tag_key(&new, "subsistence").into(),
        ],
    )
    .await
    .unwrap();
    assert_eq!(tag, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'keys.rotate'")
            .await,
        1
    );
}

#[tokio::test]
async fn departed_residents_are_purged_explicitly_after_retention() {
    let app = spawn_app().await;
    let w = app.demo_user("shequ").await;
    let b = first_building(&app, "130602001001").await;
    let p = new_person(&w, &b, "孙离", &id_no("13060219770707001"), json!({})).await;
    let pid = p["id"].as_str().unwrap();
    let v = p["version"].as_i64().unwrap();
    w.patch(
        &format!("/api/v1/persons/{pid}"),
        json!({"version": v, "status": "moved_out"}),
    )
    .await
    .expect_status(StatusCode::OK);
    let ctx = gongzhi::app::Ctx::system("test", app.state.audit_key.clone());
    let before = gongzhi::app::maintenance::purge_departed(&app.state.db, &ctx, 1095, true)
        .await
        .unwrap();
    // Pretend they left four years ago.
    let long_ago = gongzhi::domain::now_ms() - 4 * 365 * 86_400_000;
    gongzhi::store::exec(
        &app.state.db,
        "UPDATE persons SET left_at = $1 WHERE id = $2",
        vec![long_ago.into(), uuid::Uuid::parse_str(pid).unwrap().into()],
    )
    .await
    .unwrap();
    let n = gongzhi::app::maintenance::purge_departed(&app.state.db, &ctx, 1095, true)
        .await
        .unwrap();
    assert_eq!(n, before + 1);
    let done = gongzhi::app::maintenance::purge_departed(&app.state.db, &ctx, 1095, false)
        .await
        .unwrap();
    assert_eq!(done, n);
    assert_eq!(
        w.get(&format!("/api/v1/persons/{pid}")).await.status,
        StatusCode::NOT_FOUND
    );
    let snap = gongzhi::store::fetch_i64(&app.state.db, "SELECT COUNT(*) FROM registry_events WHERE object_id = $1 AND snapshot <> '{\"purged\":true}'", vec![uuid::Uuid::parse_str(pid).unwrap().into()]).await.unwrap();
    assert_eq!(snap, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'registry.purge'")
            .await,
        1
    );
}

#[tokio::test]
async fn departments_read_only_what_a_sharing_rule_gives_them() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let bumen = app.demo_user("bumen").await; // department handler of 竞秀区
                                              // Default deny: no rule, no registry data.
    assert_eq!(
        bumen.get("/api/v1/persons").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(bumen.get("/api/v1/shared/rules").await.body, json!([]));
    let district = app.area_id(JINGXIU).await;
    let bad = admin
        .post("/api/v1/sharing-rules", json!({"name": "x", "role": "department_handler", "area_id": district, "fields": ["id_no"], "purpose": "x"}))
        .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "full ID numbers are never shareable: {}",
        bad.text
    );
    let r = admin
        .post(
            "/api/v1/sharing-rules",
            json!({"name": "民政低保核查", "role": "department_handler", "area_id": district, "tag": "低保",
                   "fields": ["name", "address", "sensitive_tags"], "purpose": "《社会救助暂行办法》低保动态管理"}),
        )
        .await.expect_status(StatusCode::CREATED);
    let rule = r.body["id"].as_str().unwrap().to_string();
    assert!(bumen.get(&format!("/api/v1/sharing-rules")).await.status == StatusCode::FORBIDDEN);
    let mine = bumen.get("/api/v1/shared/rules").await;
    assert_eq!(mine.body[0]["id"], rule.as_str());
    let page = bumen
        .get(&format!(
            "/api/v1/shared/rules/{rule}/persons?page_size=200"
        ))
        .await
        .expect_status(StatusCode::OK);
    let items = page.body["items"].as_array().unwrap();
    assert!(!items.is_empty());
    for p in items {
        let keys: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 3, "{p}");
        assert!(p["sensitive_tags"]
            .as_array()
            .unwrap()
            .contains(&json!("subsistence")));
    }
    let audited = app
        .count("SELECT COUNT(*) FROM audit_log WHERE action = 'person.shared_read'")
        .await;
    assert_eq!(audited, 1);
    // Another role, or after revocation: nothing (404, no hint).
    let w = app.demo_user("zhiyuan").await;
    assert_eq!(
        w.get(&format!("/api/v1/shared/rules/{rule}/persons"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        admin
            .post(&format!("/api/v1/sharing-rules/{rule}/revoke"), json!({}))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        bumen
            .get(&format!("/api/v1/shared/rules/{rule}/persons"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// A recorded visit verifies its household: it leaves the 待核实 list and its file says when.
#[tokio::test]
async fn a_visit_takes_the_household_off_the_verification_list() {
    let app = spawn_app().await;
    let w = app.demo_user("wangge").await;
    let stale = w
        .get("/api/v1/registry/stale?page_size=1")
        .await
        .expect_status(StatusCode::OK);
    let total = stale.body["total"].as_i64().unwrap();
    assert!(total > 0);
    let h = stale.body["items"][0]["id"].as_str().unwrap().to_string();
    w.post(
        "/api/v1/visits",
        json!({"household_id": h, "mode": "入户", "notes": "一切正常"}),
    )
    .await
    .expect_status(StatusCode::CREATED);
    let after = w.get("/api/v1/registry/stale?page_size=1").await;
    assert_eq!(after.body["total"].as_i64().unwrap(), total - 1);
    let hh = w.get(&format!("/api/v1/households/{h}")).await;
    assert_eq!(hh.body["stale"], false, "{}", hh.text);
    assert!(hh.body["last_verified_at"].is_string(), "{}", hh.text);
    // An older visit entered later never moves a newer verification back.
    let verified = hh.body["last_verified_at"].clone();
    w
        .post(
            "/api/v1/visits",
            json!({"household_id": h, "mode": "phone", "visited_on": gongzhi::app::registry::date_after_days(-30)}),
        )
        .await.expect_status(StatusCode::CREATED);
    let hh = w.get(&format!("/api/v1/households/{h}")).await;
    assert_eq!(hh.body["last_verified_at"], verified);
}

/// The household file lists the household's cases (raised by a member or at its dwelling) and
/// the service its members gave, for readers who may see them.
#[tokio::test]
async fn the_household_file_shows_its_cases_and_services() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    #[derive(sea_orm::FromQueryResult)]
    struct H {
        id: uuid::Uuid,
        dwelling_id: uuid::Uuid,
        person_id: uuid::Uuid,
    }
    // A household of 朝阳社区 with a volunteer who served.
    let h: H = gongzhi::store::fetch_opt(
        &app.state.db,
        "SELECT h.id, h.dwelling_id, m.person_id FROM households h \
         JOIN household_members m ON m.household_id = h.id AND m.to_date IS NULL \
         JOIN volunteers v ON v.person_id = m.person_id \
         JOIN service_hours s ON s.volunteer_id = v.id \
         JOIN areas a ON a.id = h.community_id \
         WHERE a.code = '130602001001' AND h.deleted_at IS NULL ORDER BY h.id LIMIT 1",
        vec![],
    )
    .await
    .unwrap()
    .expect("a household with a volunteer who served");
    let c = shequ
        .post(
            "/api/v1/cases",
            json!({"kind": "help", "category_code": "0602", "description": "家里水管漏水",
                   "location": {"dwelling_id": h.dwelling_id},
                   "requester": {"name": "孙丽", "phone": "13912345678", "person_id": h.person_id}}),
        )
        .await.expect_status(StatusCode::CREATED);
    let file = shequ
        .get(&format!("/api/v1/households/{}/file", h.id))
        .await
        .expect_status(StatusCode::OK);
    let cases = file.body["cases"].as_array().unwrap();
    assert!(
        cases.iter().any(|x| x["id"] == c.body["id"]),
        "{}",
        file.text
    );
    assert_eq!(cases[0]["status_label"], "已受理");
    let services = file.body["services"].as_array().unwrap();
    assert!(!services.is_empty(), "{}", file.text);
    assert!(services[0]["minutes"].as_i64().unwrap() != 0);
    // A building head reads the registry but not cases or service records: both stay empty.
    let louzhang = app.demo_user("louzhang").await;
    let f = louzhang
        .get(&format!("/api/v1/households/{}/file", h.id))
        .await;
    if f.status == StatusCode::OK {
        assert_eq!(f.body["cases"], json!([]));
        assert_eq!(f.body["services"], json!([]));
    }
}
