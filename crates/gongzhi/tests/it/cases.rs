//! 接诉即办: intake, routing, the lifecycle, deadlines, the rates, bad input, scope.
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

/// 朝阳社区 (the demo's first community, where `shequ` works) and its first grid.
const CHAOYANG: &str = "130602001001";
const CHAOYANG_GRID: &str = "130602001001001";

fn new_case(area: &str, code: &str) -> Value {
    json!({
        "kind": "help",
        "category_code": code,
        "description": "需要开具居住证明，请社区帮忙",
        "location": {"area_id": area},
        "requester": {"name": "孙丽", "phone": "13912345678"}
    })
}

async fn act(c: &Client, id: &str, action: &str, mut body: Value, version: i64) -> Resp {
    body["version"] = json!(version);
    c.post(&format!("/api/v1/cases/{id}/actions/{action}"), body)
        .await
}

async fn totals(c: &Client, area: &str) -> Value {
    let r = c
        .get(&format!(
            "/api/v1/case-stats?area_id={area}&from=2025-01-01&to=2026-12-31"
        ))
        .await
        .expect_status(StatusCode::OK);
    r.body["totals"].clone()
}

#[tokio::test]
async fn a_case_runs_from_intake_to_closed_and_counts_in_the_rates() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let grid = app.area_id(CHAOYANG_GRID).await;
    let community = app.area_id(CHAOYANG).await;
    let before = totals(&shequ, &community).await;

    let r = shequ
        .post("/api/v1/cases", new_case(&grid, "0602"))
        .await
        .expect_status(StatusCode::CREATED);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["status"], "received");
    assert!(r.body["no"].as_str().unwrap().len() == 17);
    // Routed by the community committee's power list, and explained.
    assert_eq!(
        r.body["routing"]["rule"], "power_list",
        "{}",
        r.body["routing"]
    );
    assert!(r.body["routing"]["explanation"]
        .as_str()
        .unwrap()
        .contains("居委会"));
    assert_eq!(r.body["requester"]["masked"], false);

    let r = act(&shequ, &id, "dispatch", json!({}), 1)
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["status"], "dispatched");
    assert!(r.body["handle_due_at"].is_string());
    assert!(r.body["due_in_minutes"].as_i64().unwrap() > 0);
    act(&shequ, &id, "accept", json!({}), 2)
        .await
        .expect_status(StatusCode::OK);
    act(
        &shequ,
        &id,
        "handle",
        json!({"result": "已开具证明", "outcome": "resolved"}),
        3,
    )
    .await
    .expect_status(StatusCode::OK);
    act(&shequ, &id, "verify", json!({"ok": true}), 4)
        .await
        .expect_status(StatusCode::OK);
    // 证明开具 needs no return visit: it can be closed now.
    let r = act(&shequ, &id, "close", json!({}), 5)
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["status"], "closed");

    let tl = shequ.get(&format!("/api/v1/cases/{id}/timeline")).await;
    let actions: Vec<&str> = tl
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["receive", "dispatch", "accept", "handle", "verify", "close"]
    );

    let after = totals(&shequ, &community).await;
    for (k, d) in [
        ("received", 1),
        ("due", 1),
        ("resolved", 1),
        ("handled_in_time", 1),
        ("closed", 1),
        ("responded_in_time", 1),
    ] {
        assert_eq!(
            after[k].as_i64().unwrap() - before[k].as_i64().unwrap(),
            d,
            "{k}: {before} → {after}"
        );
    }
    // Folding moves the deltas without changing the totals.
    gongzhi::app::cases::stats::fold(&app.state.db)
        .await
        .unwrap();
    assert_eq!(totals(&shequ, &community).await, after);
    let defs = shequ
        .get(&format!("/api/v1/case-stats?area_id={community}"))
        .await;
    assert!(defs.body["definitions"].as_array().unwrap().len() >= 6);
    for by in ["unit", "category", "grid", "street"] {
        let r = shequ
            .get(&format!("/api/v1/case-stats/ranking?by={by}&area_id={community}&from=2025-01-01&to=2026-12-31"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{by}: {}", r.text);
        let items = r.body.as_array().unwrap();
        assert!(
            !items.is_empty() && items[0]["rank"] == 1 && items[0]["name"].is_string(),
            "{by}: {}",
            r.text
        );
    }
    let t = shequ
        .get(&format!(
            "/api/v1/case-stats/trend?area_id={community}&bucket=month"
        ))
        .await;
    assert!(
        t.body.as_array().map(|a| !a.is_empty()).unwrap_or(false),
        "{}",
        t.text
    );
}

#[tokio::test]
async fn retries_with_one_idempotency_key_return_one_case() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let grid = app.area_id(CHAOYANG_GRID).await;
    let mut body = new_case(&grid, "0602");
    body["idempotency_key"] = json!("retry-1");
    let a = shequ.post("/api/v1/cases", body.clone()).await;
    let b = shequ.post("/api/v1/cases", body).await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(b.status, StatusCode::OK);
    assert_eq!(a.body["id"], b.body["id"]);
}

#[tokio::test]
async fn bad_input_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let grid = app.area_id(CHAOYANG_GRID).await;
    let n = app.count("SELECT COUNT(*) FROM cases").await;
    let mut far = new_case(&grid, "0602");
    far["location"] = json!({"lat": 95.0, "lon": 200.0});
    let mut unknown = new_case(&grid, "0602");
    unknown["category_code"] = json!("9999");
    let mut nowhere = new_case(&grid, "0602");
    nowhere["location"] = json!({"address": "某处"});
    let mut long = new_case(&grid, "0602");
    long["description"] = json!("长".repeat(4001));
    let mut wrong_type = new_case(&grid, "0602");
    wrong_type["location"] = json!({"lat": "north", "lon": 1});
    for (body, field) in [
        (far, "location"),
        (unknown, "category_code"),
        (nowhere, "location"),
        (long, "description"),
    ] {
        let r = shequ
            .post("/api/v1/cases", body)
            .await
            .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.body["error"]["fields"][field].is_string(),
            "{field}: {}",
            r.text
        );
    }
    let r = shequ.post("/api/v1/cases", wrong_type).await;
    assert!(
        r.status == StatusCode::UNPROCESSABLE_ENTITY || r.status == StatusCode::BAD_REQUEST,
        "{}",
        r.text
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM cases").await, n);

    // A transition from the wrong state, and a stale version.
    let c = shequ.post("/api/v1/cases", new_case(&grid, "0602")).await;
    let id = c.body["id"].as_str().unwrap();
    let r = act(
        &shequ,
        id,
        "handle",
        json!({"result": "x", "outcome": "resolved"}),
        1,
    )
    .await;
    // Handling belongs to the unit the case is with.
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = act(&shequ, id, "close", json!({}), 1).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "case.wrong_state");
    let r = act(&shequ, id, "register", json!({}), 7).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "conflict");
    // A deadline in a year whose holidays are not published: Monday–Friday, provisional.
    let r = shequ
        .get("/api/v1/calendar/deadline?start=2031-03-03T02:00:00Z&value=3&unit=days")
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["due_at"], "2031-03-06T10:00:00Z", "{}", r.text);
    assert_eq!(r.body["provisional"], true);
    let r = shequ
        .get("/api/v1/calendar/deadline?start=2026-09-24T02:00:00Z&value=3&unit=days")
        .await;
    assert_eq!(r.body["due_at"], "2026-09-30T10:00:00Z", "{}", r.text);
    assert_eq!(r.body["provisional"], false);
}

#[tokio::test]
async fn two_handlers_at_once_one_wins() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let grid = app.area_id(CHAOYANG_GRID).await;
    let c = shequ.post("/api/v1/cases", new_case(&grid, "0602")).await;
    let id = c.body["id"].as_str().unwrap().to_string();
    act(&shequ, &id, "dispatch", json!({}), 1).await;
    // The same worker on two devices (one session per user: the same token).
    let other = shequ.clone();
    let (a, b) = tokio::join!(
        act(&shequ, &id, "accept", json!({}), 2),
        act(&other, &id, "accept", json!({}), 2)
    );
    let mut st = [a.status.as_u16(), b.status.as_u16()];
    st.sort();
    assert_eq!(st, [200, 409], "{} / {}", a.text, b.text);
}

#[tokio::test]
async fn routing_prefers_the_street_office_and_falls_back_to_the_community() {
    let app = spawn_app().await;
    let jiedao = app.demo_user("jiedao").await;
    let grid = app.area_id(CHAOYANG_GRID).await;
    let r = jiedao
        .get(&format!(
            "/api/v1/case-routing?category_code=0102&area_id={grid}"
        ))
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["rule"], "power_list");
    assert!(
        r.body["unit_name"].as_str().unwrap().ends_with("城管科"),
        "{}",
        r.body
    );
    let r = jiedao
        .get(&format!(
            "/api/v1/case-routing?category_code=0901&area_id={grid}"
        ))
        .await;
    assert_eq!(r.body["rule"], "territorial", "{}", r.body);
    assert!(r.body["explanation"].as_str().unwrap().contains("属地"));
}

#[tokio::test]
async fn returns_go_to_arbitration_and_the_street_decision_binds() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let jiedao = app.demo_user("jiedao").await;
    let grid = app.area_id(CHAOYANG_GRID).await;
    let c = shequ.post("/api/v1/cases", new_case(&grid, "0602")).await;
    let id = c.body["id"].as_str().unwrap().to_string();
    let community_unit = c.body["routing"]["unit_id"].as_str().unwrap().to_string();
    act(&shequ, &id, "dispatch", json!({}), 1)
        .await
        .expect_status(StatusCode::OK);
    let r = act(&shequ, &id, "return", json!({}), 2).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a reason is required: {}",
        r.text
    );
    let r = act(&shequ, &id, "return", json!({"reason": "不属于本社区"}), 2).await;
    assert_eq!(r.body["status"], "registered", "{}", r.text);
    // Dispatched again to the same unit by hand, and returned again: the street arbitrates.
    act(
        &shequ,
        &id,
        "dispatch",
        json!({"unit_id": community_unit}),
        3,
    )
    .await
    .expect_status(StatusCode::OK);
    let r = act(
        &shequ,
        &id,
        "return",
        json!({"reason": "仍不属于本社区"}),
        4,
    )
    .await;
    assert_eq!(r.body["status"], "arbitration", "{}", r.text);
    assert_eq!(r.body["first_unit_id"], community_unit.as_str());
    let r = act(
        &shequ,
        &id,
        "arbitrate",
        json!({"unit_id": community_unit, "note": "x"}),
        5,
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "only the street arbitrates"
    );
    let r = act(
        &jiedao,
        &id,
        "arbitrate",
        json!({"unit_id": community_unit, "note": "属地社区牵头"}),
        5,
    )
    .await
    .expect_status(StatusCode::OK);
    assert_eq!(r.body["bound"], true);
    assert_eq!(r.body["routing"]["rule"], "arbitration");
    act(&shequ, &id, "return", json!({"reason": "再退"}), 6)
        .await
        .expect_status(StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_requester_is_masked_for_those_not_handling_and_reads_are_audited() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let wangge = app.demo_user("wangge").await;
    let shequ2 = app.demo_user("shequ2").await;
    let grid = app.area_id(CHAOYANG_GRID).await;
    let c = shequ.post("/api/v1/cases", new_case(&grid, "0602")).await;
    let id = c.body["id"].as_str().unwrap().to_string();
    let seen = wangge
        .get(&format!("/api/v1/cases/{id}"))
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(seen.body["requester"]["masked"], true);
    assert_eq!(seen.body["requester"]["phone"], "139****5678");
    assert_ne!(seen.body["requester"]["name"], "孙丽");
    let audited = app
        .count("SELECT COUNT(*) FROM audit_log WHERE action = 'case.read_requester'")
        .await;
    let jiedao = app.demo_user("jiedao").await;
    let full = jiedao.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(full.body["requester"]["name"], "孙丽");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'case.read_requester'")
            .await,
        audited + 1
    );
    // Another community sees nothing.
    assert_eq!(
        shequ2.get(&format!("/api/v1/cases/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    // …and cannot report into this one.
    assert_eq!(
        shequ2
            .post("/api/v1/cases", new_case(&grid, "0602"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        shequ2
            .get(&format!("/api/v1/cases/{id}/timeline"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let list = shequ2.get("/api/v1/cases?page_size=200").await;
    assert!(list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["id"] != id.as_str()));
}

#[tokio::test]
async fn a_point_is_placed_in_its_grid_and_deadlines_warn_then_expire() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let grid = app.area_id(CHAOYANG_GRID).await;
    #[derive(sea_orm::FromQueryResult)]
    struct B {
        boundary: String,
    }
    let b: B = app
        .one(
            "SELECT boundary FROM areas WHERE code = $1",
            vec![CHAOYANG_GRID.into()],
        )
        .await;
    let v: Value = serde_json::from_str(&b.boundary).unwrap();
    let ring = v["coordinates"][0].as_array().unwrap();
    let lon = (ring[0][0].as_f64().unwrap() + ring[2][0].as_f64().unwrap()) / 2.0;
    let lat = (ring[0][1].as_f64().unwrap() + ring[2][1].as_f64().unwrap()) / 2.0;
    let mut body = new_case(&grid, "0602");
    body["location"] = json!({"lat": lat, "lon": lon, "address": "1号楼下"});
    let c = shequ
        .post("/api/v1/cases", body)
        .await
        .expect_status(StatusCode::CREATED);
    assert_eq!(c.body["area_id"], grid.as_str());
    let id = c.body["id"].as_str().unwrap().to_string();
    act(&shequ, &id, "dispatch", json!({}), 1).await;
    // Move the clock: the deadline passed an hour ago.
    let past = gongzhi::domain::now_ms() - 3_600_000;
    gongzhi::store::exec(
        &app.state.db,
        "UPDATE cases SET handle_due_at = $1, warn_at = $2 WHERE id = $3",
        vec![
            past.into(),
            (past - 1000).into(),
            uuid::Uuid::parse_str(&id).unwrap().into(),
        ],
    )
    .await
    .unwrap();
    let (_, overdue) = gongzhi::app::cases::lifecycle::sweep(&app.state)
        .await
        .unwrap();
    assert!(overdue >= 1);
    let r = shequ.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(r.body["overdue"], true);
    assert!(r.body["due_in_minutes"].as_i64().unwrap() < 0);
    let tl = shequ.get(&format!("/api/v1/cases/{id}/timeline")).await;
    assert!(tl
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "overdue"));
    // An approved extension moves the deadline and lifts the flag.
    act(
        &shequ,
        &id,
        "request_extension",
        json!({"days": 2, "reason": "需等待材料"}),
        3,
    )
    .await
    .expect_status(StatusCode::OK);
    let r = act(&shequ, &id, "decide_extension", json!({"approve": true}), 4)
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["extension_count"], 1);
    let r = act(
        &shequ,
        &id,
        "request_extension",
        json!({"days": 2, "reason": "再延"}),
        5,
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "one extension only: {}",
        r.text
    );
}

#[tokio::test]
async fn the_street_whistles_and_summoned_units_report_in() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let jiedao = app.demo_user("jiedao").await;
    let bumen = app.demo_user("bumen").await;
    let grid = app.area_id(CHAOYANG_GRID).await;
    let c = shequ.post("/api/v1/cases", new_case(&grid, "0602")).await;
    let id = c.body["id"].as_str().unwrap().to_string();
    act(&shequ, &id, "dispatch", json!({}), 1).await;
    let units = bumen.get("/api/v1/case-units?q=城管委").await;
    let dept = units
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["member_count"].as_i64() > Some(0))
        .unwrap()["id"]
        .clone();
    let r = shequ
        .post(
            &format!("/api/v1/cases/{id}/whistles"),
            json!({"version": 2, "kind": "tough", "unit_ids": [dept]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = jiedao
        .post(
            &format!("/api/v1/cases/{id}/whistles"),
            json!({"version": 2, "kind": "tough", "unit_ids": [dept]}),
        )
        .await
        .expect_status(StatusCode::OK);
    let wid = r.body["whistles"][0]["id"].as_str().unwrap().to_string();
    // The summoned department now sees the case and reports in, once.
    let seen = bumen
        .get(&format!("/api/v1/cases/{id}"))
        .await
        .expect_status(StatusCode::OK);
    assert!(seen.body["allowed_actions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a == "arrive"));
    let r = bumen
        .post(
            &format!("/api/v1/cases/{id}/whistles/{wid}/arrive"),
            json!({"unit_id": dept}),
        )
        .await
        .expect_status(StatusCode::OK);
    assert!(r.body["whistles"][0]["units"][0]["arrived_at"].is_string());
    let r = bumen
        .post(
            &format!("/api/v1/cases/{id}/whistles/{wid}/arrive"),
            json!({"unit_id": dept}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_dictionary_and_calendar_import_and_export() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let shequ = app.demo_user("shequ").await;
    let csv = "code,name,parent_code,response,handle,verify,return_visit\n10,交通出行,,2h,3d,1d,1\n1001,公交站点,10,4h,5d,2d,0\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(csv);
    let r = shequ
        .send_raw(
            reqwest::Method::POST,
            "/api/v1/case-categories/import",
            gbk.to_vec(),
            "text/csv",
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = admin
        .send_raw(
            reqwest::Method::POST,
            "/api/v1/case-categories/import",
            gbk.to_vec(),
            "text/csv",
        )
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["created"], 2);
    let r = admin
        .send_raw(
            reqwest::Method::POST,
            "/api/v1/case-categories/import",
            gbk.to_vec(),
            "text/csv",
        )
        .await;
    assert_eq!(r.body["unchanged"], 2, "{}", r.text);
    let bad = "code,name,parent_code,response,handle,verify,return_visit\n11,坏的,,2x,3d,1d,1\n";
    admin
        .send_raw(
            reqwest::Method::POST,
            "/api/v1/case-categories/import",
            bad.as_bytes().to_vec(),
            "text/csv",
        )
        .await
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    let export = admin.get("/api/v1/case-categories/export.csv").await;
    assert!(
        export.text.contains("1001,公交站点,10,4h,5d,2d,0"),
        "{}",
        export.text
    );

    admin
        .send_raw(
            reqwest::Method::POST,
            "/api/v1/calendar/import",
            "date,kind,name\n2027-01-01,休,元旦\n2027-02-07,班,春节调休上班\n"
                .as_bytes()
                .to_vec(),
            "text/csv",
        )
        .await
        .expect_status(StatusCode::OK);
    let r = shequ
        .get("/api/v1/calendar/deadline?start=2026-12-31T02:00:00Z&value=1&unit=days")
        .await;
    assert_eq!(r.body["due_at"], "2027-01-04T10:00:00Z", "{}", r.text);
    let r = admin
        .patch(
            "/api/v1/case-categories/00000000-0000-0000-0000-000000000000",
            json!({"version": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// An Open311 channel's key, granted on 朝阳社区.
async fn open311_key(app: &TestApp) -> (String, String) {
    let admin = app.admin().await;
    let community = app.area_id(CHAOYANG).await;
    let r = admin
        .post(
            "/api/v1/tokens",
            json!({"name": "随手拍小程序", "grants": [{"role": "resident", "area_id": community}]}),
        )
        .await
        .expect_status(StatusCode::CREATED);
    (
        r.body["token"].as_str().unwrap().to_string(),
        r.body["id"].as_str().unwrap().to_string(),
    )
}

async fn form_post(app: &TestApp, path: &str, form: &[(&str, String)]) -> Resp {
    let body = serde_urlencoded::to_string(form).unwrap();
    app.anon()
        .send_raw(
            reqwest::Method::POST,
            path,
            body.into_bytes(),
            "application/x-www-form-urlencoded",
        )
        .await
}

#[tokio::test]
async fn open311_clients_discover_post_and_follow_requests() {
    let app = spawn_app().await;
    let anon = app.anon();
    let (key, token_id) = open311_key(&app).await;
    let d = anon.get("/open311/v2/discovery.json").await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(
        d.body["endpoints"][0]["specification"],
        "http://wiki.open311.org/GeoReport_v2"
    );
    let s = anon.get("/open311/v2/services.json").await;
    assert!(s.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    assert!(s
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["service_code"] == "0602" && x["metadata"] == true));
    let x = anon.get("/open311/v2/services.xml").await;
    assert!(x.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/xml"));
    assert!(
        x.text.starts_with("<?xml")
            && x.text.contains("<services><service>")
            && x.text.contains("<service_code>0602</service_code>"),
        "{}",
        x.text
    );
    let def = anon.get("/open311/v2/services/0602.json").await;
    assert_eq!(def.body["attributes"][0]["code"], "kind");
    assert_eq!(
        anon.get("/open311/v2/services/9999.json").await.status,
        StatusCode::NOT_FOUND
    );

    let grid = app.area_id(CHAOYANG_GRID).await;
    let ok = [
        ("api_key", key.clone()),
        ("service_code", "0602".to_string()),
        ("address_id", grid.clone()),
        ("description", "想开具居住证明".to_string()),
        ("first_name", "丽".to_string()),
        ("last_name", "孙".to_string()),
        ("phone", "13912345678".to_string()),
        ("attribute[kind]", "consult".to_string()),
        ("attribute[people_affected]", "1".to_string()),
    ];
    let n = app.count("SELECT COUNT(*) FROM cases").await;
    // Each bad request gets the specification's error list and stores nothing.
    let with = |k: &str, v: &str| -> Vec<(&str, String)> {
        let mut f: Vec<(&str, String)> = ok.iter().filter(|(a, _)| *a != k).cloned().collect();
        if !v.is_empty() {
            f.push((Box::leak(k.to_string().into_boxed_str()), v.to_string()));
        }
        f
    };
    for (form, status) in [
        (with("api_key", "gz_wrong"), 403),
        (with("api_key", ""), 403),
        (with("service_code", "9999"), 400),
        (with("attribute[kind]", "party"), 400),
        (with("attribute[people_affected]", "many"), 400),
        (with("attribute[colour]", "red"), 400),
        (with("address_id", ""), 400),
        (with("description", &"长".repeat(4001)), 400),
    ] {
        let r = form_post(&app, "/open311/v2/requests.json", &form).await;
        assert_eq!(r.status.as_u16(), status, "{form:?}: {}", r.text);
        assert_eq!(r.body[0]["code"], status, "{}", r.text);
        assert!(r.body[0]["description"].is_string());
    }
    let mut far = with("address_id", "");
    far.push(("lat", "95".into()));
    far.push(("long", "200".into()));
    let r = form_post(&app, "/open311/v2/requests.xml", &far).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.text.contains("<errors><error><code>400</code>"),
        "{}",
        r.text
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM cases").await, n);

    let r = form_post(&app, "/open311/v2/requests.json", &ok)
        .await
        .expect_status(StatusCode::CREATED);
    let no = r.body[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();
    let one = anon
        .get(&format!("/open311/v2/requests/{no}.json"))
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(one.body[0]["status"], "open");
    assert_eq!(one.body[0]["service_code"], "0602");
    assert!(one.body[0]["agency_responsible"]
        .as_str()
        .unwrap()
        .contains("居委会"));
    assert!(one.body[0]["expected_datetime"].is_null());
    // Followed by its number without a key, it shows as on a notice board: no description, no
    // exact place.
    assert!(one.body[0].get("description").is_none(), "{}", one.text);
    assert!(one.body[0].get("lat").is_none() && one.body[0].get("address_id").is_none());
    // Dispatched: the handling deadline becomes the expected time.
    let shequ = app.demo_user("shequ").await;
    let list = shequ.get(&format!("/api/v1/cases?q={no}")).await;
    let id = list.body["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(list.body["items"][0]["channel"], "open311");
    act(&shequ, &id, "dispatch", json!({}), 1).await;
    let one = anon.get(&format!("/open311/v2/requests/{no}.xml")).await;
    assert!(one.text.contains("<expected_datetime>20"), "{}", one.text);
    assert!(one.text.contains("+08:00</expected_datetime>"));
    // Without a key the list answers, with only the categories streets opened to the public
    // (none yet here: this case is not among them); with a key it shows the key's area.
    let open = anon
        .get("/open311/v2/requests.json")
        .await
        .expect_status(StatusCode::OK);
    assert!(!open.text.contains(&no), "{}", open.text);
    let l = anon
        .get(&format!(
            "/open311/v2/requests.json?api_key={key}&status=open"
        ))
        .await
        .expect_status(StatusCode::OK);
    assert!(l
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["service_request_id"] == no.as_str()));
    assert_eq!(
        anon.get("/open311/v2/requests.json?api_key=x&status=maybe")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        anon.get(&format!(
            "/open311/v2/requests.json?api_key={key}&status=maybe"
        ))
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        anon.get(&format!("/open311/v2/tokens/{no}.json"))
            .await
            .body[0]["service_request_id"],
        no.as_str()
    );
    // A revoked key is refused.
    let admin = app.admin().await;
    admin
        .post(&format!("/api/v1/tokens/{token_id}/revoke"), json!({}))
        .await;
    form_post(&app, "/open311/v2/requests.json", &ok)
        .await
        .expect_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn hotline_work_orders_import_all_or_nothing_and_once() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let wangge = app.demo_user("wangge").await;
    let header =
        "工单号,受理时间,诉求类型,事项分类编码,诉求内容,区域编码,经度,纬度,地址,诉求人,联系电话\n";
    let good = format!(
        "{header}H-001,2026-11-30 09:15,投诉,0602,需要开具证明,{CHAOYANG_GRID},,,1号楼,王先生,13800000000\n\
         H-002,2026/11/30 10:00,求助,0101,垃圾没清运,{CHAOYANG},,,,李女士,\n"
    );
    let (gbk, _, _) = encoding_rs::GBK.encode(&good);
    let post = |c: &Client, mode: &str, body: Vec<u8>| {
        let c = c.clone();
        let mode = mode.to_string();
        async move {
            c.send_raw(
                reqwest::Method::POST,
                &format!("/api/v1/cases/import?mode={mode}"),
                body,
                "text/csv",
            )
            .await
        }
    };
    assert_eq!(
        post(&wangge, "dry_run", gbk.to_vec()).await.status,
        StatusCode::FORBIDDEN
    );
    let n = app.count("SELECT COUNT(*) FROM cases").await;
    let bad = format!(
        "{header}H-003,明天,投诉,0602,内容,{CHAOYANG_GRID},,,,,\nH-004,,投诉,9999,内容,{CHAOYANG_GRID},,,,,\nH-005,,投诉,0602,内容,130606001001,,,,,\nH-005,,投诉,0602,内容,{CHAOYANG_GRID},,,,,\n"
    );
    let r = post(&shequ, "commit", bad.into_bytes())
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["committed"], false);
    assert_eq!(r.body["error_rows"], 4, "{}", r.text);
    let cols: Vec<&str> = r.body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["column"].as_str().unwrap())
        .collect();
    assert!(
        cols.contains(&"受理时间")
            && cols.contains(&"事项分类编码")
            && cols.contains(&"区域编码")
            && cols.contains(&"工单号"),
        "{cols:?}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM cases").await, n);

    let r = post(&shequ, "dry_run", gbk.to_vec()).await;
    assert_eq!(r.body["ok"], 2, "{}", r.text);
    assert_eq!(app.count("SELECT COUNT(*) FROM cases").await, n);
    let r = post(&shequ, "commit", gbk.to_vec()).await;
    assert_eq!(r.body["created"], 2, "{}", r.text);
    assert_eq!(app.count("SELECT COUNT(*) FROM cases").await, n + 2);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM cases WHERE channel = 'hotline' AND idem_key = 'hotline:H-001'"
        )
        .await,
        1
    );
    let r = post(&shequ, "commit", gbk.to_vec()).await;
    assert_eq!(r.body["unchanged"], 2, "{}", r.text);
    assert_eq!(app.count("SELECT COUNT(*) FROM cases").await, n + 2);
}

#[tokio::test]
async fn residents_rate_through_the_link_once_and_needs_become_cases() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let grid = app.area_id(CHAOYANG_GRID).await;
    let c = shequ.post("/api/v1/cases", new_case(&grid, "0602")).await;
    let id = c.body["id"].as_str().unwrap().to_string();
    for (i, (action, body)) in [
        ("dispatch", json!({})),
        ("accept", json!({})),
        ("handle", json!({"result": "已开具", "outcome": "resolved"})),
        ("verify", json!({"ok": true})),
    ]
    .into_iter()
    .enumerate()
    {
        let r = act(&shequ, &id, action, body, i as i64 + 1).await;
        assert_eq!(r.status, StatusCode::OK, "{action}: {}", r.text);
    }
    let case = shequ.get(&format!("/api/v1/cases/{id}")).await;
    let link = case.body["rating_link"]
        .as_str()
        .expect("a rating link")
        .to_string();
    let token = link.trim_start_matches("/rate/");
    let anon = app.anon();
    let page = anon
        .get(&format!("/api/v1/public/rate/{token}"))
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(page.body["can_rate"], true);
    assert!(page.text.find("孙丽").is_none() && page.text.find("13912345678").is_none());
    let mut forged = token.to_string();
    forged.replace_range(40..41, if &token[40..41] == "0" { "1" } else { "0" });
    assert_eq!(
        anon.get(&format!("/api/v1/public/rate/{forged}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    anon.post(
        &format!("/api/v1/public/rate/{token}"),
        json!({"rating": "great"}),
    )
    .await
    .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    let r = anon
        .post(
            &format!("/api/v1/public/rate/{token}"),
            json!({"rating": "basic", "comment": "还可以"}),
        )
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["status"], "rated");
    let r = anon
        .post(
            &format!("/api/v1/public/rate/{token}"),
            json!({"rating": "satisfied"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    // A need found on a visit becomes a case, once.
    #[derive(sea_orm::FromQueryResult)]
    struct N {
        id: uuid::Uuid,
    }
    let community = app.area_id(CHAOYANG).await;
    let need: N = gongzhi::store::fetch_opt(
        &app.state.db,
        "SELECT n.id FROM needs n WHERE n.community_id = $1 ORDER BY n.id LIMIT 1",
        vec![uuid::Uuid::parse_str(&community).unwrap().into()],
    )
    .await
    .unwrap()
    .expect("a need in 朝阳");
    let shequ2 = app.demo_user("shequ2").await;
    let path = format!("/api/v1/needs/{}/case", need.id);
    assert_eq!(
        shequ2
            .post(&path, json!({"category_code": "0601"}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let a = shequ
        .post(&path, json!({"category_code": "0601"}))
        .await
        .expect_status(StatusCode::CREATED);
    assert_eq!(a.body["channel"], "visit");
    let b = shequ.post(&path, json!({"category_code": "0601"})).await;
    assert_eq!(b.status, StatusCode::OK);
    assert_eq!(a.body["id"], b.body["id"]);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM needs WHERE status = 'in_progress' AND result LIKE '已转为诉求%'"
        ))
        .await,
        1
    );
}

#[tokio::test]
async fn hotline_work_orders_come_as_excel_workbooks_too() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let header = [
        "工单号",
        "受理时间",
        "诉求类型",
        "事项分类编码",
        "诉求内容",
        "区域编码",
    ];
    let row = [
        "X-001",
        "2026-11-29 15:30",
        "求助",
        "0602",
        "需要开具证明",
        CHAOYANG_GRID,
    ];
    for (c, v) in header.iter().enumerate() {
        ws.write_string(0, c as u16, *v).unwrap();
    }
    for (c, v) in row.iter().enumerate() {
        ws.write_string(1, c as u16, *v).unwrap();
    }
    let bytes = wb.save_to_buffer().unwrap();
    let r = shequ
        .send_raw(
            reqwest::Method::POST,
            "/api/v1/cases/import?mode=commit",
            bytes,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["created"], 1, "{}", r.text);
    // A truncated workbook is refused clearly.
    shequ
        .send_raw(
            reqwest::Method::POST,
            "/api/v1/cases/import",
            b"PK\x03\x04broken".to_vec(),
            "application/octet-stream",
        )
        .await
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
}

/// 随手拍 on the way to work: a resident's point outside their own area is received by the area
/// containing it (or by their street when none does), with the reason on the timeline; an area
/// id outside their scope stays 404.
#[tokio::test]
async fn a_point_outside_the_submitters_own_area_is_received_where_it_lies() {
    let app = spawn_app().await;
    let jumin = app.demo_user("jumin").await;
    #[derive(sea_orm::FromQueryResult)]
    struct G {
        code: String,
        boundary: String,
    }
    // A grid of another street, away from the resident's building.
    let g: G = app.one("SELECT code, boundary FROM areas WHERE kind = 'grid' AND code LIKE '130602002%' AND boundary IS NOT NULL ORDER BY code LIMIT 1",
        vec![]).await;
    let v: Value = serde_json::from_str(&g.boundary).unwrap();
    let ring = v["coordinates"][0].as_array().unwrap();
    let lon = (ring[0][0].as_f64().unwrap() + ring[2][0].as_f64().unwrap()) / 2.0;
    let lat = (ring[0][1].as_f64().unwrap() + ring[2][1].as_f64().unwrap()) / 2.0;
    let other_grid = app.area_id(&g.code).await;
    let mut body = new_case(&other_grid, "0602");
    body["location"] = json!({"lat": lat, "lon": lon, "address": "上班路上"});
    let c = jumin
        .post("/api/v1/cases", body)
        .await
        .expect_status(StatusCode::CREATED);
    assert_eq!(c.body["area_id"], other_grid.as_str());
    let note = |id: String| {
        let db = app.state.db.clone();
        async move {
            #[derive(sea_orm::FromQueryResult)]
            struct N {
                note: Option<String>,
            }
            let n: N = gongzhi::store::fetch_opt(
                &db,
                "SELECT note FROM case_events WHERE case_id = $1 AND action = 'receive'",
                vec![uuid::Uuid::parse_str(&id).unwrap().into()],
            )
            .await
            .unwrap()
            .unwrap();
            n.note.unwrap_or_default()
        }
    };
    let first = c.body["id"].as_str().unwrap().to_string();
    assert!(note(first.clone()).await.contains("所属区域之外"));
    // The resident finds it among their own cases.
    let mine = jumin.get("/api/v1/my/cases").await;
    assert!(mine.text.contains(&first), "{}", mine.text);

    // A point in no grid or community: the resident's own street receives it.
    let mut body = new_case(&other_grid, "0602");
    body["location"] = json!({"lat": 10.0, "lon": 10.0});
    let c = jumin
        .post("/api/v1/cases", body)
        .await
        .expect_status(StatusCode::CREATED);
    let id = c.body["id"].as_str().unwrap().to_string();
    assert!(note(id).await.contains("所在街道受理"));
    // Placed at the street itself (东风街道), which is also its area key.
    assert_eq!(c.body["area_name"], c.body["community_name"], "{}", c.text);
    assert!(
        c.body["area_name"].as_str().unwrap().ends_with("街道"),
        "{}",
        c.text
    );

    // Naming the other grid by id is still out of scope.
    jumin
        .post("/api/v1/cases", new_case(&other_grid, "0602"))
        .await
        .expect_status(StatusCode::NOT_FOUND);
}

/// Reads the first sheet of an .xlsx answer into rows of text.
fn xlsx_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("an xlsx");
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

/// Exports: any filter of the list as a workbook, requesters masked for those who may not
/// dispatch, audited; the hotline layout goes back through the 12345 import unchanged.
#[tokio::test]
async fn case_lists_export_as_workbooks_and_hotline_results_go_back() {
    let app = spawn_app().await;
    let jiedao = app.demo_user("jiedao").await;
    let grid = app.area_id(CHAOYANG_GRID).await;
    let c = jiedao
        .post("/api/v1/cases", new_case(&grid, "0602"))
        .await
        .expect_status(StatusCode::CREATED);
    let no = c.body["no"].as_str().unwrap().to_string();
    let get = |who: Client, path: String| async move {
        let r = who
            .http
            .get(format!("{}{path}", who.base))
            .bearer_auth(who.token.as_deref().unwrap())
            .send()
            .await
            .unwrap();
        let status = r.status();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, ct, r.bytes().await.unwrap().to_vec())
    };
    let listed = jiedao
        .get("/api/v1/cases?status=received&page_size=1")
        .await;
    let total = listed.body["total"].as_i64().unwrap();
    let (st, ct, bytes) = get(
        jiedao.clone(),
        "/api/v1/cases/export.xlsx?status=received".into(),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(ct.contains("spreadsheetml"), "{ct}");
    let rows = xlsx_rows(&bytes);
    assert_eq!(rows[0][0], "编号");
    assert_eq!(rows.len() as i64 - 1, total, "one row per listed case");
    let mine = rows.iter().find(|r| r[0] == no).expect("the new case");
    assert!(mine.contains(&"孙丽".to_string()), "{mine:?}");
    assert!(mine.contains(&"13912345678".to_string()), "{mine:?}");
    // A grid worker reads cases but does not dispatch: requesters masked.
    let wangge = app.demo_user("wangge").await;
    let (st, _, bytes) = get(wangge, "/api/v1/cases/export.xlsx?status=received".into()).await;
    assert_eq!(st, StatusCode::OK);
    let rows = xlsx_rows(&bytes);
    let row = rows
        .iter()
        .find(|r| r[0] == no)
        .expect("the case in the grid");
    assert!(row.contains(&"139****5678".to_string()), "{row:?}");
    assert!(!row.contains(&"13912345678".to_string()));
    // Audited, with the filters but not the requester.
    assert!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'case.export'")
            .await
            >= 2
    );
    // The statistics page: totals, then the ranking.
    let ranking = jiedao
        .get("/api/v1/case-stats/ranking?by=community")
        .await
        .expect_status(StatusCode::OK);
    let (st, _, bytes) = get(
        jiedao.clone(),
        "/api/v1/case-stats/export.xlsx?by=community".into(),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let rows = xlsx_rows(&bytes);
    assert_eq!(rows[0][0], "排名");
    assert!(rows[1][1].starts_with("合计"), "{:?}", rows[1]);
    assert_eq!(rows.len() - 2, ranking.body.as_array().unwrap().len());
    // A bad layout is refused.
    let (st, _, _) = get(
        jiedao.clone(),
        "/api/v1/cases/export.xlsx?layout=pdf".into(),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);

    // 12345: import work orders, export them in the hotline layout, import that file again.
    let csv = "工单号,受理时间,诉求类型,事项分类编码,诉求内容,区域编码,经度,纬度,地址,诉求人,联系电话\n\
               12345-20261201-0007,2026-12-01 09:00,投诉,0602,楼道灯坏了,130602001001001,,,1号楼,王先生,13800000000\n";
    jiedao
        .send_raw(
            reqwest::Method::POST,
            "/api/v1/cases/import?mode=commit",
            csv.as_bytes().to_vec(),
            "text/csv",
        )
        .await
        .expect_status(StatusCode::OK);
    let (st, _, bytes) = get(
        jiedao.clone(),
        "/api/v1/cases/export.xlsx?layout=hotline&q=%E6%A5%BC%E9%81%93".into(),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let rows = xlsx_rows(&bytes);
    let head: Vec<&str> = gongzhi::app::cases::hotline::COLUMNS
        .iter()
        .map(|c| c.0)
        .collect();
    assert_eq!(&rows[0][..head.len()], &head[..]);
    assert!(
        rows.iter().any(|r| r[0] == "12345-20261201-0007"),
        "{rows:?}"
    );
    let again = jiedao
        .send_raw(
            reqwest::Method::POST,
            "/api/v1/cases/import?mode=dry_run",
            bytes,
            "application/octet-stream",
        )
        .await
        .expect_status(StatusCode::OK);
    assert!(
        again.body["unchanged"].as_i64().unwrap() >= 1,
        "{}",
        again.text
    );
}

/// 超期 means past the deadline and still being handled (what the counter counts); a case handled
/// after its deadline is 逾期办结 instead. Lists carry the response deadline.
#[tokio::test]
async fn overdue_tags_agree_with_the_counter_and_late_cases_say_so() {
    let app = spawn_app().await;
    let jiedao = app.demo_user("jiedao").await;
    let grid = app.area_id(CHAOYANG_GRID).await;
    let c = jiedao.post("/api/v1/cases", new_case(&grid, "0602")).await;
    let id = c.body["id"].as_str().unwrap().to_string();
    act(&jiedao, &id, "dispatch", json!({}), 1)
        .await
        .expect_status(StatusCode::OK);
    let uid = uuid::Uuid::parse_str(&id).unwrap();
    let past = gongzhi::domain::now_ms() - 3_600_000;
    gongzhi::store::exec(
        &app.state.db,
        "UPDATE cases SET handle_due_at = $1, warn_at = $2 WHERE id = $3",
        vec![past.into(), (past - 1000).into(), uid.into()],
    )
    .await
    .unwrap();
    gongzhi::app::cases::lifecycle::sweep(&app.state)
        .await
        .unwrap();
    let find = |body: &Value| {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == id.as_str())
            .cloned()
            .unwrap()
    };
    let list = jiedao.get("/api/v1/cases?queue=all&page_size=200").await;
    let row = find(&list.body);
    assert_eq!(row["overdue"], true);
    assert_eq!(row["late"], false);
    assert!(row["response_due_at"].is_string(), "{row}");
    let overdue_rows = jiedao
        .get("/api/v1/cases?queue=all&status=dispatched,in_progress&overdue=true&page_size=1")
        .await
        .body["total"]
        .as_i64()
        .unwrap();
    let counted = jiedao.get("/api/v1/cases/counts").await.body["overdue"]
        .as_i64()
        .unwrap();
    assert_eq!(
        counted, overdue_rows,
        "the counter counts what the 超期 tab lists"
    );
    // Handled after the deadline: no longer 超期, but 逾期办结.
    gongzhi::store::exec(
        &app.state.db,
        "UPDATE cases SET status = 'handled' WHERE id = $1",
        vec![uid.into()],
    )
    .await
    .unwrap();
    let list = jiedao.get("/api/v1/cases?queue=all&page_size=200").await;
    let row = find(&list.body);
    assert_eq!(row["overdue"], false);
    assert_eq!(row["late"], true);
    let after = jiedao.get("/api/v1/cases/counts").await.body["overdue"]
        .as_i64()
        .unwrap();
    assert_eq!(after, counted - 1);
}

/// Issue 15: a GeoReport v2 client lists requests without a key, as the standard clients do: only
/// the categories a street opened to the public, with the place reduced to the grid and nothing
/// personal; opening them is the street administrator's, audited.
#[tokio::test]
async fn open311_lists_the_public_categories_without_a_key_and_nothing_personal() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let jiedao = app.demo_user("jiedao").await;
    let grid = app.area_id(CHAOYANG_GRID).await;
    let street = app.area_id("130602001000").await;
    let outside = app.area_id("130606001000").await;
    let mut nos = vec![];
    for code in ["0301", "0602"] {
        let r = shequ
            .post(
                "/api/v1/cases",
                json!({"kind": "complaint", "category_code": code, "description": "孙丽 13912345678 反映：3号楼前路灯不亮",
                       "location": {"area_id": grid, "lat": 38.87, "lon": 115.46, "address": "朝阳社区3号楼101"},
                       "requester": {"name": "孙丽", "phone": "13912345678"}}),
            )
            .await.expect_status(StatusCode::CREATED);
        nos.push(r.body["no"].as_str().unwrap().to_string());
    }
    let anon = app.anon();
    let before = anon.get("/open311/v2/requests.json").await;
    assert_eq!(before.status, StatusCode::OK);
    assert!(!before.text.contains(&nos[0]));

    // Only the street's administrator opens categories, only known ones, only on their street.
    let path = format!("/api/v1/streets/{street}/public-categories");
    let put = |c: &Client, body: Value| {
        let (c, path) = (c.clone(), path.clone());
        async move { c.send(reqwest::Method::PUT, &path, Some(body)).await }
    };
    // A community worker's grant lies below the street: the street is not theirs to see.
    assert_eq!(
        put(&shequ, json!({"codes": ["03"]})).await.status,
        StatusCode::NOT_FOUND
    );
    put(&jiedao, json!({"codes": ["03", "9999"]}))
        .await
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    jiedao
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/streets/{outside}/public-categories"),
            Some(json!({"codes": ["03"]})),
        )
        .await
        .expect_status(StatusCode::NOT_FOUND);
    let r = put(&jiedao, json!({"codes": ["03"]}))
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["categories"][0]["name"], "市政设施");
    assert_eq!(jiedao.get(&path).await.body["codes"], json!(["03"]));

    for fmt in ["json", "xml"] {
        let l = anon
            .get(&format!("/open311/v2/requests.{fmt}?status=open"))
            .await
            .expect_status(StatusCode::OK);
        assert!(
            l.text.contains(&nos[0]),
            "the public category is listed: {}",
            l.text
        );
        assert!(!l.text.contains(&nos[1]), "证明开具 is not public");
        for secret in ["13912345678", "孙丽", "3号楼", "101", "115.46", "38.87"] {
            assert!(
                !l.text.contains(secret),
                "{secret} leaked in {fmt}: {}",
                l.text
            );
        }
    }
    let l = anon.get("/open311/v2/requests.json").await;
    let mine = l
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["service_request_id"] == nos[0].as_str())
        .unwrap()
        .clone();
    assert_eq!(mine["service_name"], "路灯不亮");
    assert!(mine["address"].as_str().unwrap().contains("网格"), "{mine}");
    assert!(mine.get("description").is_none() && mine.get("lat").is_none());
    // Its number, listed publicly, opens no more than the list shows.
    let one = anon
        .get(&format!("/open311/v2/requests/{}.json", nos[0]))
        .await
        .expect_status(StatusCode::OK);
    assert!(one.body[0].get("description").is_none() && one.body[0].get("lat").is_none());
    assert!(!one.text.contains("13912345678") && !one.text.contains("孙丽"));
    assert!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'case.public_categories'")
            .await
            >= 1
    );
}
