//! Users and grants.
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn admin_creates_users_grants_roles_and_disables() {
    let app = spawn_app_with(|s| s.auth_cache_ms = 0).await;
    let a = app.admin().await;
    let r = a.post("/api/v1/users", json!({"username": "li.na", "display_name": "李娜", "password": "Lina#2026pw", "must_change_password": false})).await.expect_status(StatusCode::CREATED);
    let id = r.body["id"].as_str().unwrap().to_string();
    let dup = a
        .post(
            "/api/v1/users",
            json!({"username": "li.na", "display_name": "李娜", "password": "Lina#2026pw"}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let bad = a
        .post(
            "/api/v1/users",
            json!({"username": "名字", "display_name": "x", "password": "short"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body["error"]["fields"]["username"].is_string());

    let chaoyang = app.area_id("130602001001").await;
    let r = a
        .post(
            &format!("/api/v1/users/{id}/grants"),
            json!({"role": "grid_worker", "area_id": chaoyang}),
        )
        .await
        .expect_status(StatusCode::CREATED);
    assert_eq!(r.body["area_name"], "朝阳社区");
    let grant = r.body["id"].as_str().unwrap().to_string();
    let r = a
        .post(
            &format!("/api/v1/users/{id}/grants"),
            json!({"role": "grid_worker", "area_id": chaoyang}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = a
        .post(
            &format!("/api/v1/users/{id}/grants"),
            json!({"role": "emperor", "area_id": chaoyang}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = a
        .post(
            &format!("/api/v1/users/{id}/grants"),
            json!({"role": "volunteer"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    let u = app.login("li.na", "Lina#2026pw").await;
    assert_eq!(
        u.get(&format!("/api/v1/areas/{chaoyang}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        a.delete(&format!("/api/v1/grants/{grant}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        u.get(&format!("/api/v1/areas/{chaoyang}")).await.status,
        StatusCode::NOT_FOUND
    );

    // Disabling ends sessions and blocks login.
    let r = a
        .patch(&format!("/api/v1/users/{id}"), json!({"disabled": true}))
        .await;
    assert_eq!(r.body["disabled"], true);
    assert_eq!(u.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    let r = app
        .anon()
        .post(
            "/api/v1/auth/login",
            json!({"username": "li.na", "password": "Lina#2026pw"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Reset password: forced change next time.
    a.patch(&format!("/api/v1/users/{id}"), json!({"disabled": false}))
        .await;
    let r = a
        .post(
            &format!("/api/v1/users/{id}/reset-password"),
            json!({"password": "Reset#2026pw"}),
        )
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["password"], "Reset#2026pw");
    let u = app.login("li.na", "Reset#2026pw").await;
    assert_eq!(u.get("/api/v1/me").await.body["must_change_password"], true);

    let list = a.get("/api/v1/users?page=1&page_size=5").await;
    assert_eq!(list.body["page_size"], 5);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 5);
    assert!(list.body["total"].as_i64().unwrap() >= 12);
    // No password hash ever leaves the server.
    assert!(!list.text.contains("argon2"));
}

#[tokio::test]
async fn the_last_system_admin_cannot_lose_the_role_nor_disable_themself() {
    let app = spawn_app().await;
    let a = app.admin().await;
    let me = a.get("/api/v1/me").await;
    let grant = me.body["grants"][0]["id"].as_str().unwrap().to_string();
    let id = me.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        a.delete(&format!("/api/v1/grants/{grant}")).await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        a.patch(&format!("/api/v1/users/{id}"), json!({"disabled": true}))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

/// Issue 14: a street administrator runs their own people — accounts in their street only, roles
/// up to their own, first passwords handed over once, sessions seen and ended, phones masked and
/// revealed with a reason, bulk creation from a sheet with the bad rows named.
#[tokio::test]
async fn a_street_admin_manages_the_people_of_their_street_only() {
    let app = spawn_app_with(|s| s.auth_cache_ms = 0).await;
    let admin = app.admin().await;
    let j = app.demo_user("jiedao").await;
    let me = j.get("/api/v1/me").await;
    let perms = me.body["permissions"].as_array().unwrap();
    assert!(perms.contains(&json!("manage_users")), "{}", me.text);
    assert!(!perms.contains(&json!("manage_system")), "{}", me.text);

    // The role page: generated from the permission table; a street admin grants up to their own.
    let roles = j.get("/api/v1/roles").await.expect_status(StatusCode::OK);
    let role = |id: &str| {
        roles
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["role"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(role("street_admin")["grantable"], true);
    assert_eq!(role("grid_worker")["grantable"], true);
    assert_eq!(role("district_admin")["grantable"], false);
    assert_eq!(role("system_admin")["grantable"], false);
    assert!(role("grid_worker")["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["permission"] == "edit_registry" && p["label_zh"] == "维护一户一档"));

    let chaoyang = app.area_id("130602001001").await; // a community of 先锋街道
    let heping = app.area_id("130606001000").await; // 和平街道, another district
                                                    // A delegated admin names the user's area; one outside is not found; a role above is refused.
    let r = j
        .post(
            "/api/v1/users",
            json!({"username": "wg.a", "display_name": "甲"}),
        )
        .await
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body["error"]["fields"]["area_id"].is_string(),
        "{}",
        r.text
    );
    j.post(
        "/api/v1/users",
        json!({"username": "wg.a", "display_name": "甲", "area_id": heping}),
    )
    .await
    .expect_status(StatusCode::NOT_FOUND);
    let r = j.post("/api/v1/users", json!({"username": "wg.a", "display_name": "甲", "area_id": chaoyang, "role": "district_admin"})).await.expect_status(StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "users.role_above_own");
    assert_eq!(
        admin.get("/api/v1/users?q=wg.a").await.body["total"],
        0,
        "nothing written by refused requests"
    );

    // Created with a generated first password, shown once; phone masked.
    let r = j.post("/api/v1/users", json!({"username": "wg.a", "display_name": "甲", "area_id": chaoyang, "phone": "13800138000", "role": "grid_worker"})).await.expect_status(StatusCode::CREATED);
    let id = r.body["id"].as_str().unwrap().to_string();
    let first = r.body["initial_password"].as_str().unwrap().to_string();
    assert_eq!(r.body["phone_masked"], "138****8000");
    assert_eq!(r.body["area_name"], "朝阳社区");
    assert_eq!(r.body["manageable"], true);
    assert_eq!(r.body["grants"][0]["role"], "grid_worker");
    assert!(!r.text.contains("13800138000"));
    let got = j.get(&format!("/api/v1/users/{id}")).await;
    assert!(
        got.body.get("initial_password").is_none(),
        "shown once: {}",
        got.text
    );
    let w = app.login("wg.a", &first).await;
    assert_eq!(w.get("/api/v1/me").await.body["must_change_password"], true);
    // A changed phone moves its index (sign-up finds accounts by it); a cleared one drops it.
    let indexed = |phone: &str| {
        format!(
            "SELECT COUNT(*) FROM users WHERE username = 'wg.a' AND phone_bidx = '{}'",
            app.state.keys.blind_index("mobile", phone)
        )
    };
    assert_eq!(app.count(&indexed("13800138000")).await, 1);
    j.patch(
        &format!("/api/v1/users/{id}"),
        json!({"phone": "13900139000"}),
    )
    .await
    .expect_status(StatusCode::OK);
    assert_eq!(app.count(&indexed("13800138000")).await, 0);
    assert_eq!(app.count(&indexed("13900139000")).await, 1);
    j.patch(&format!("/api/v1/users/{id}"), json!({"phone": ""}))
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE username = 'wg.a' AND phone_bidx IS NULL")
            .await,
        1
    );
    j.patch(
        &format!("/api/v1/users/{id}"),
        json!({"phone": "13800138000"}),
    )
    .await
    .expect_status(StatusCode::OK);
    assert_eq!(app.count(&indexed("13800138000")).await, 1);

    // The list holds the street's users only; others are not found.
    let list = j.get("/api/v1/users?page_size=100").await;
    let names: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"wg.a") && names.contains(&"shequ"),
        "{names:?}"
    );
    assert!(
        !names.contains(&"admin") && !names.contains(&"quji"),
        "{names:?}"
    );
    let admin_id = admin.get("/api/v1/me").await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        j.get(&format!("/api/v1/users/{admin_id}")).await.status,
        StatusCode::NOT_FOUND
    );
    let r = j
        .post(
            &format!("/api/v1/users/{admin_id}/reset-password"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Reset hands a new password over; the old sessions end.
    let r = j
        .post(&format!("/api/v1/users/{id}/reset-password"), json!({}))
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["username"], "wg.a");
    let second = r.body["password"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    assert_eq!(w.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    let w = app.login("wg.a", &second).await;
    let s = j
        .get(&format!("/api/v1/users/{id}/sessions"))
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(s.body.as_array().unwrap().len(), 1, "{}", s.text);
    let e = j.delete(&format!("/api/v1/users/{id}/sessions")).await;
    assert_eq!(e.body["ended"], 1, "{}", e.text);
    assert_eq!(w.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);

    // The full phone with a reason, audited.
    let r = j
        .post(
            &format!("/api/v1/users/{id}/reveal-phone"),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = j
        .post(
            &format!("/api/v1/users/{id}/reveal-phone"),
            json!({"reason": "核对身份"}),
        )
        .await;
    assert_eq!(r.body["phone"], "13800138000", "{}", r.text);
    let audit = admin.get("/api/v1/audit?action=user.reveal").await;
    assert!(audit.text.contains(&id), "{}", audit.text);

    // Grants: only within the street, only up to a street admin.
    j.post(
        &format!("/api/v1/users/{id}/grants"),
        json!({"role": "volunteer", "area_id": heping}),
    )
    .await
    .expect_status(StatusCode::NOT_FOUND);
    j.post(
        &format!("/api/v1/users/{id}/grants"),
        json!({"role": "hotline_centre", "area_id": chaoyang}),
    )
    .await
    .expect_status(StatusCode::FORBIDDEN);
    let r = j
        .post(
            &format!("/api/v1/users/{id}/grants"),
            json!({"role": "community_worker", "area_id": chaoyang}),
        )
        .await
        .expect_status(StatusCode::CREATED);
    let grant = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        j.delete(&format!("/api/v1/grants/{grant}")).await.status,
        StatusCode::NO_CONTENT
    );

    // A community admin manages the community, not the street above it.
    let c = app.demo_user("shequzhuren").await;
    let jiedao_id = j.get("/api/v1/me").await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        c.get(&format!("/api/v1/users/{jiedao_id}")).await.status,
        StatusCode::NOT_FOUND
    );
    let r = c.get(&format!("/api/v1/users/{id}")).await;
    assert_eq!(r.body["manageable"], true, "{}", r.text);
    // The district admin sees the street admin and may manage them.
    let q = app.demo_user("quji").await;
    let r = q
        .get(&format!("/api/v1/users/{jiedao_id}"))
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["manageable"], true, "{}", r.text);
    // …and the street admin sees the district admin's account as not found.
    let quji_id = q.get("/api/v1/me").await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        j.get(&format!("/api/v1/users/{quji_id}")).await.status,
        StatusCode::NOT_FOUND
    );

    // Bulk creation: the template, a dry run naming the bad rows, all-or-nothing, then the good rows.
    let t = j.get("/api/v1/users/import/template.xlsx").await;
    assert_eq!(t.status, StatusCode::OK);
    assert!(t.text.starts_with("PK"));
    let sheet = "用户名,姓名,手机号,角色,区域\n\
                 wg.b,乙,13900139000,网格员,130602001001\n\
                 wg.c,丙,,区级管理员,130602001001\n\
                 wg.d,丁,123,网格员,130606001000\n\
                 wg.b,重复,,网格员,朝阳社区\n";
    let up = |mode: &str| {
        let j = &j;
        let path = format!("/api/v1/users/import?mode={mode}");
        async move {
            j.send_raw(
                reqwest::Method::POST,
                &path,
                sheet.as_bytes().to_vec(),
                "text/csv",
            )
            .await
        }
    };
    let r = up("dry_run").await.expect_status(StatusCode::OK);
    assert_eq!(
        (
            r.body["rows"].as_u64(),
            r.body["ok_rows"].as_u64(),
            r.body["error_rows"].as_u64()
        ),
        (Some(4), Some(1), Some(3)),
        "{}",
        r.text
    );
    let rows: Vec<u64> = r.body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["row"].as_u64().unwrap())
        .collect();
    assert!(
        rows.contains(&3) && rows.contains(&4) && rows.contains(&5),
        "{}",
        r.text
    );
    assert!(r.text.contains("手机号"), "{}", r.text);
    let r = up("commit").await;
    assert_eq!(r.body["status"], "rejected", "{}", r.text);
    assert_eq!(admin.get("/api/v1/users?q=wg.b").await.body["total"], 0);
    let r = up("commit_valid").await;
    assert_eq!(r.body["status"], "committed", "{}", r.text);
    assert_eq!(r.body["created"], 1);
    assert_eq!(r.body["handover"][0]["username"], "wg.b");
    let pw = r.body["handover"][0]["password"]
        .as_str()
        .unwrap()
        .to_string();
    let b = app.login("wg.b", &pw).await;
    let me = b.get("/api/v1/me").await;
    assert_eq!(me.body["must_change_password"], true);
    let r = j.get("/api/v1/users?q=wg.b").await;
    assert_eq!(
        r.body["items"][0]["grants"][0]["role"], "grid_worker",
        "{}",
        r.text
    );
    assert_eq!(
        r.body["items"][0]["phone_masked"], "139****9000",
        "{}",
        r.text
    );
    // A broken workbook is a 422 with its reason, never a 500.
    j.send_raw(
        reqwest::Method::POST,
        "/api/v1/users/import?mode=dry_run",
        b"PK\x03\x04broken".to_vec(),
        "application/octet-stream",
    )
    .await
    .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    // Someone without the permission gets 403.
    let g = app.demo_user("wangge").await;
    assert_eq!(g.get("/api/v1/users").await.status, StatusCode::FORBIDDEN);
    assert_eq!(g.get("/api/v1/roles").await.status, StatusCode::OK);
}
