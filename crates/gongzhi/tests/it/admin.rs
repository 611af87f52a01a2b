//! Users and grants.
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn admin_creates_users_grants_roles_and_disables() {
    let app = spawn_app_with(|s| s.auth_cache_ms = 0).await;
    let a = app.admin().await;
    let r = a.post("/api/v1/users", json!({"username": "li.na", "display_name": "李娜", "password": "Lina#2026pw", "must_change_password": false})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
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
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
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
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
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
