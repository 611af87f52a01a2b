//! The area tree: browse, guards, move, concurrency, boundaries.
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn admin_browses_from_the_city_down_with_chinese_names() {
    let app = spawn_app().await;
    let a = app.admin().await;
    let roots = a.get("/api/v1/areas/roots").await;
    assert_eq!(roots.status, StatusCode::OK);
    assert_eq!(roots.body[0]["name"], "保定市");
    assert_eq!(roots.body[0]["code"], CITY);
    let city = roots.body[0]["id"].as_str().unwrap();
    let districts = a.get(&format!("/api/v1/areas/{city}/children")).await;
    let names: Vec<&str> = districts
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["竞秀区", "莲池区"]);
    let chaoyang = app.area_id("130602001001").await;
    let r = a.get(&format!("/api/v1/areas/{chaoyang}")).await;
    assert_eq!(r.body["name"], "朝阳社区");
    let path: Vec<&str> = r.body["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(path, vec!["保定市", "竞秀区", "东风街道"]);
    assert_eq!(r.body["boundary"]["type"], "Polygon");
}

#[tokio::test]
async fn search_finds_two_character_names_and_codes_within_scope_only() {
    let app = spawn_app().await;
    let a = app.admin().await;
    let r = a.get("/api/v1/areas?q=%E6%9C%9D%E9%98%B3").await; // 朝阳
    assert!(
        r.body
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["name"] == "朝阳社区"),
        "{}",
        r.text
    );
    let r = a.get("/api/v1/areas?q=130606").await;
    assert!(r
        .body
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["code"].as_str().unwrap().starts_with("130606")));
    assert!(!r.body.as_array().unwrap().is_empty());
    // A community worker of 朝阳 finds nothing of 莲池区.
    let w = app.demo_user("shequ").await;
    let r = w.get("/api/v1/areas?q=130606").await;
    assert_eq!(r.body.as_array().unwrap().len(), 0, "{}", r.text);
    let r = w.get("/api/v1/areas?q=%E8%8E%B2%E6%B1%A0").await; // 莲池
    assert_eq!(r.body.as_array().unwrap().len(), 0);
    let r = w.get("/api/v1/areas?kind=grid").await;
    assert!(r
        .body
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["code"].as_str().unwrap().starts_with("130602001001")));
    let r = w.get("/api/v1/areas?kind=planet").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = w.get("/api/v1/areas?limit=abc").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn create_checks_kind_under_parent_code_and_duplicates() {
    let app = spawn_app().await;
    let a = app.admin().await;
    let chaoyang = app.area_id("130602001001").await;
    // A building cannot sit directly under a community.
    let r = a.post("/api/v1/areas", json!({"parent_id": chaoyang, "kind": "building", "name": "9号楼", "code": "130602001001009"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"]["parent_id"].is_string());
    // A grid code must extend the community's code.
    let r = a.post("/api/v1/areas", json!({"parent_id": chaoyang, "kind": "grid", "name": "第9网格", "code": "130602001002009"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"]["code"].is_string());
    // Good.
    let r = a.post("/api/v1/areas", json!({"parent_id": chaoyang, "kind": "grid", "name": "第9网格", "code": "130602001001099"})).await.expect_status(StatusCode::CREATED);
    assert_eq!(r.body["version"], 1);
    let grid = r.body["id"].as_str().unwrap().to_string();
    // Same code again: 409. Same name under the same parent: 409.
    let r = a.post("/api/v1/areas", json!({"parent_id": chaoyang, "kind": "grid", "name": "第10网格", "code": "130602001001099"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body["error"]["fields"]["code"].is_string(), "{}", r.text);
    let r = a.post("/api/v1/areas", json!({"parent_id": chaoyang, "kind": "grid", "name": "第9网格", "code": "130602001001098"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body["error"]["fields"]["name"].is_string(), "{}", r.text);
    // Search hits carry their path, to tell identically named areas apart.
    let r = a.get("/api/v1/areas?q=%E7%AC%AC9%E7%BD%91%E6%A0%BC").await; // 第9网格
    assert_eq!(r.body[0]["path"][3]["name"], "朝阳社区", "{}", r.text);
    // An edit that changes nothing writes nothing.
    let before = app.count("SELECT COUNT(*) FROM audit_log").await;
    let r = a
        .patch(
            &format!("/api/v1/areas/{grid}"),
            json!({"version": 1, "name": "第9网格"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["version"], 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, before);
    // Parent's child count follows.
    let r = a.get(&format!("/api/v1/areas/{chaoyang}")).await;
    let n = r.body["child_count"].as_i64().unwrap();
    let kids = a.get(&format!("/api/v1/areas/{chaoyang}/children")).await;
    assert_eq!(kids.body.as_array().unwrap().len() as i64, n);
    // Closure rows: the new grid has 5 ancestors plus itself.
    let rows = gongzhi::store::fetch_i64(
        &app.state.db,
        "SELECT COUNT(*) FROM area_closure WHERE descendant_id = $1",
        vec![uuid::Uuid::parse_str(&grid).unwrap().into()],
    )
    .await
    .unwrap();
    assert_eq!(rows, 5);
    // A grid always belongs to a community: no parent is refused.
    let r = a
        .post(
            "/api/v1/areas",
            json!({"kind": "grid", "name": "孤儿网格", "code": "130602001001097"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn move_takes_the_subtree_rewrites_codes_and_refuses_cycles() {
    let app = spawn_app().await;
    let a = app.admin().await;
    let (grid, grid_code) = app.first_under("130602001001", "grid").await;
    let target = app.area_id("130602002001").await; // 春晖社区, another street
                                                    // The target community has its own 第1网格: rename first, as a user would.
    let g = a.get(&format!("/api/v1/areas/{grid}")).await;
    let v0 = g.body["version"].as_i64().unwrap();
    let r = a
        .patch(
            &format!("/api/v1/areas/{grid}"),
            json!({"version": v0, "name": "划转网格"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let version = v0 + 1;
    let buildings_before = a
        .get(&format!("/api/v1/areas/{grid}/children"))
        .await
        .body
        .as_array()
        .unwrap()
        .len();
    assert!(buildings_before > 0);

    // Wrong kind of parent.
    let street = app.area_id(DONGFENG).await;
    let r = a
        .post(
            &format!("/api/v1/areas/{grid}/move"),
            json!({"new_parent_id": street, "version": version}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Stale version.
    let r = a
        .post(
            &format!("/api/v1/areas/{grid}/move"),
            json!({"new_parent_id": target, "version": version + 7}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    let r = a
        .post(
            &format!("/api/v1/areas/{grid}/move"),
            json!({"new_parent_id": target, "version": version}),
        )
        .await
        .expect_status(StatusCode::OK);
    let new_code = r.body["code"].as_str().unwrap().to_string();
    assert!(new_code.starts_with("130602002001"), "{new_code}");
    assert_ne!(new_code, grid_code);
    let path: Vec<&str> = r.body["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(path[2], "新市场街道");
    // Buildings came along and got the new prefix.
    let kids = a.get(&format!("/api/v1/areas/{grid}/children")).await;
    let kids = kids.body.as_array().unwrap();
    assert_eq!(kids.len(), buildings_before);
    assert!(kids
        .iter()
        .all(|b| b["code"].as_str().unwrap().starts_with(&new_code)));
    // The subtree is now under the new street, not the old one.
    let b0 = kids[0]["id"].as_str().unwrap();
    let r = a.get(&format!("/api/v1/areas/{b0}")).await;
    assert_eq!(r.body["path"][2]["name"], "新市场街道");
    let under_old = app.count(&format!(
        "SELECT COUNT(*) FROM area_closure c JOIN areas a ON a.id = c.ancestor_id WHERE a.code = '{DONGFENG}' AND c.descendant_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = (SELECT id FROM areas WHERE code = '{new_code}'))"
    )).await;
    assert_eq!(under_old, 0);
    // A community worker of 春晖 now sees the grid; 朝阳's does not.
    assert_eq!(
        app.demo_user("shequ2")
            .await
            .get(&format!("/api/v1/areas/{grid}"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.demo_user("shequ")
            .await
            .get(&format!("/api/v1/areas/{grid}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // No cycles: a community cannot move under its own grid (wrong kind anyway) nor a street under itself.
    let district = app.area_id(JINGXIU).await;
    let sv = a.get(&format!("/api/v1/areas/{district}")).await.body["version"]
        .as_i64()
        .unwrap();
    let r = a
        .post(
            &format!("/api/v1/areas/{district}/move"),
            json!({"new_parent_id": district, "version": sv}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn concurrent_edits_one_wins_the_other_gets_409() {
    let app = spawn_app().await;
    let a = app.admin().await;
    let chaoyang = app.area_id("130602001001").await;
    let v = a.get(&format!("/api/v1/areas/{chaoyang}")).await.body["version"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/areas/{chaoyang}");
    let (r1, r2) = tokio::join!(
        a.patch(&path, json!({"version": v, "name": "朝阳社区甲"})),
        a.patch(&path, json!({"version": v, "name": "朝阳社区乙"})),
    );
    let mut statuses = [r1.status.as_u16(), r2.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{} / {}", r1.text, r2.text);
    let after = a.get(&format!("/api/v1/areas/{chaoyang}")).await;
    assert_eq!(after.body["version"].as_i64().unwrap(), v + 1);
}

#[tokio::test]
async fn boundaries_must_be_closed_valid_polygons() {
    let app = spawn_app().await;
    let a = app.admin().await;
    let chaoyang = app.area_id("130602001001").await;
    let v = a.get(&format!("/api/v1/areas/{chaoyang}")).await.body["version"]
        .as_i64()
        .unwrap();
    let open = json!({"type": "Polygon", "coordinates": [[[115.4, 38.8], [115.5, 38.8], [115.5, 38.9], [115.4, 38.9]]]});
    let r = a
        .patch(
            &format!("/api/v1/areas/{chaoyang}"),
            json!({"version": v, "boundary": open}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"]["boundary"]
        .as_str()
        .unwrap()
        .contains("闭合"));
    let closed = json!({"type": "Polygon", "coordinates": [[[115.4, 38.8], [115.5, 38.8], [115.5, 38.9], [115.4, 38.8]]]});
    a.patch(
        &format!("/api/v1/areas/{chaoyang}"),
        json!({"version": v, "boundary": closed}),
    )
    .await
    .expect_status(StatusCode::OK);
    let r = a
        .patch(
            &format!("/api/v1/areas/{chaoyang}"),
            json!({"version": v + 1, "boundary": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["boundary"].is_null());
}

#[tokio::test]
async fn delete_only_unreferenced_leaves_and_never_the_code_of_a_parent() {
    let app = spawn_app().await;
    let a = app.admin().await;
    let chaoyang = app.area_id("130602001001").await;
    let r = a.delete(&format!("/api/v1/areas/{chaoyang}")).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let v = a.get(&format!("/api/v1/areas/{chaoyang}")).await.body["version"]
        .as_i64()
        .unwrap();
    let r = a
        .patch(
            &format!("/api/v1/areas/{chaoyang}"),
            json!({"version": v, "code": "130602001077"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "codes of parents stay fixed"
    );
    let r = a.post("/api/v1/areas", json!({"parent_id": chaoyang, "kind": "grid", "name": "临时网格", "code": "130602001001088"})).await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = a.delete(&format!("/api/v1/areas/{id}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        a.get(&format!("/api/v1/areas/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    let rows = gongzhi::store::fetch_i64(
        &app.state.db,
        "SELECT COUNT(*) FROM area_closure WHERE descendant_id = $1",
        vec![uuid::Uuid::parse_str(&id).unwrap().into()],
    )
    .await
    .unwrap();
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn demo_is_deterministic_for_a_seed() {
    // The template was made with seed 7; a second run of the same plan gives the same codes and ids.
    let app = spawn_app().await;
    #[derive(sea_orm::FromQueryResult, PartialEq, Debug)]
    struct A {
        id: uuid::Uuid,
        code: String,
        name: String,
    }
    let first: Vec<A> = gongzhi::store::fetch_all(
        &app.state.db,
        "SELECT id, code, name FROM areas ORDER BY code",
        vec![],
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = crate::auth::fresh_database_empty(dir.path()).await;
    let s = gongzhi::config::Settings::for_database(&url, dir.path());
    let db = gongzhi::store::connect(&s).await.unwrap();
    gongzhi::store::migrate(&db, &url).await.unwrap();
    let keys = gongzhi::crypto::Keys::from_master(&[3u8; 32]);
    gongzhi::demo::run(
        &db,
        &keys,
        &audit_key(),
        &gongzhi::demo::DemoOptions {
            households: TEST_HOUSEHOLDS,
            seed: 7,
        },
    )
    .await
    .unwrap();
    let second: Vec<A> = gongzhi::store::fetch_all(
        &db,
        "SELECT id, code, name FROM areas ORDER BY code",
        vec![],
    )
    .await
    .unwrap();
    assert_eq!(first, second);
    // Grids hold 300–500 households: 6000 households make 12–20 grids.
    let grids = first.iter().filter(|a| a.code.len() == 15).count();
    assert!((12..=20).contains(&grids), "{grids} grids");
    // Running the demo again changes nothing.
    assert!(gongzhi::demo::run(
        &db,
        &keys,
        &audit_key(),
        &gongzhi::demo::DemoOptions::default(),
    )
    .await
    .unwrap()
    .is_none());
}

/// Issue 14: the area tree may start at a province; a city may sit under one (its code within
/// the province's) or stay a root; only the system admin makes roots.
#[tokio::test]
async fn the_tree_may_start_at_a_province() {
    let app = spawn_app().await;
    let a = app.admin().await;
    let r = a
        .post(
            "/api/v1/areas",
            json!({"kind": "province", "name": "河北省", "code": "130000000000"}),
        )
        .await
        .expect_status(StatusCode::CREATED);
    assert_eq!(r.body["kind"], "province");
    let hebei = r.body["id"].as_str().unwrap().to_string();
    let r = a
        .post(
            "/api/v1/areas",
            json!({"parent_id": hebei, "kind": "city", "name": "太原市", "code": "140100000000"}),
        )
        .await
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"]["code"].is_string(), "{}", r.text);
    a.post(
        "/api/v1/areas",
        json!({"parent_id": hebei, "kind": "city", "name": "张家口市", "code": "130700000000"}),
    )
    .await
    .expect_status(StatusCode::CREATED);
    a.post(
        "/api/v1/areas",
        json!({"parent_id": hebei, "kind": "district", "name": "错层", "code": "130702000000"}),
    )
    .await
    .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    a.post(
        "/api/v1/areas",
        json!({"parent_id": hebei, "kind": "province", "name": "省下省", "code": "140000000000"}),
    )
    .await
    .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    let j = app.demo_user("jiedao").await;
    j.post(
        "/api/v1/areas",
        json!({"kind": "province", "name": "山西省", "code": "140000000000"}),
    )
    .await
    .expect_status(StatusCode::FORBIDDEN);
    let roots = a.get("/api/v1/areas/roots").await;
    assert!(
        roots.text.contains("河北省") && roots.text.contains("保定市"),
        "{}",
        roots.text
    );
}

/// The area tree from a sheet: kinds and parents follow from the codes; a sheet without the
/// code column is refused with the columns it lacks.
#[tokio::test]
async fn the_area_tree_comes_from_a_sheet_too() {
    let app = spawn_app().await;
    let a = app.admin().await;
    let sheet =
        "\u{feff}编码,名称,类型\n130602001099,试点社区,社区\n130602001099001,试点一网格,\n\n";
    let r = a
        .send_raw(
            reqwest::Method::POST,
            "/api/v1/import/areas?mode=commit",
            sheet.as_bytes().to_vec(),
            "text/csv",
        )
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(
        (r.body["format"].as_str(), r.body["created"].as_u64()),
        (Some("csv"), Some(2)),
        "{}",
        r.text
    );
    assert_eq!(r.body["by_kind"]["grid"], 1, "{}", r.text);
    let r = a
        .send_raw(
            reqwest::Method::POST,
            "/api/v1/import/areas",
            "名称\n某社区\n".as_bytes().to_vec(),
            "text/csv",
        )
        .await
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("编码"), "{}", r.text);
}
