//! Sign-in, sessions, lockout, password policy and API tokens.
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn login_sets_an_httponly_strict_cookie_and_returns_token_and_user() {
    let app = spawn_app().await;
    let r = app
        .anon()
        .post(
            "/api/v1/auth/login",
            json!({"username": "shequ", "password": DEMO_PASSWORD}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["token"].as_str().unwrap().starts_with("gzs_"));
    assert_eq!(r.body["user"]["username"], "shequ");
    assert_eq!(r.body["user"]["grants"][0]["role"], "community_worker");
    assert_eq!(r.body["user"]["grants"][0]["area_name"], "朝阳社区");
    let cookie = r.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.starts_with("gongzhi_session=gzs_"));
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));

    // The cookie alone authenticates.
    let token = r.body["token"].as_str().unwrap();
    let me = reqwest::Client::new()
        .get(format!("{}/api/v1/me", app.base))
        .header("Cookie", format!("gongzhi_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
}

#[tokio::test]
async fn five_failures_bar_the_address_for_the_name_until_an_admin_unlocks() {
    let app = spawn_app().await;
    let c = app.anon();
    let attempt = |pw: &'static str| {
        let c = c.clone();
        async move {
            c.post(
                "/api/v1/auth/login",
                json!({"username": "shequ", "password": pw}),
            )
            .await
        }
    };
    for i in 1..=5 {
        let r = attempt("Wrong#pass1").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
        assert_eq!(r.code(), "auth.invalid_credentials");
    }
    // Even the right password gets the same answer from this address now.
    let r = attempt(DEMO_PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "auth.invalid_credentials");
    // The admin sees the account under attack for 15 minutes, in the database.
    let until = app
        .count("SELECT locked_until FROM users WHERE username = 'shequ'")
        .await;
    let now = gongzhi::domain::now_ms();
    assert!(until > now + 14 * 60_000 && until <= now + 15 * 60_000);
    // An admin's unlock forgets the failures.
    let admin = app.admin().await;
    let users = admin.get("/api/v1/users?q=shequ").await;
    let id = users.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "shequ")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = admin
        .patch(&format!("/api/v1/users/{id}"), json!({"unlock": true}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["locked_until"].is_null());
    app.demo_user("shequ").await;
}

#[tokio::test]
async fn unknown_user_gets_the_same_answer_as_a_wrong_password() {
    let app = spawn_app().await;
    let r = app
        .anon()
        .post(
            "/api/v1/auth/login",
            json!({"username": "nobody", "password": "Whatever#1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "auth.invalid_credentials");
    let failed = app
        .count("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login' AND result = 'failed'")
        .await;
    assert_eq!(failed, 1);
}

#[tokio::test]
async fn logins_are_rate_limited_per_client_address() {
    let app = spawn_app_with(|s| s.login_rate_per_minute = 3).await;
    let c = app.anon();
    for _ in 0..3 {
        let r = c
            .post(
                "/api/v1/auth/login",
                json!({"username": "nobody", "password": "x"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = c
        .post(
            "/api/v1/auth/login",
            json!({"username": "shequ", "password": DEMO_PASSWORD}),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.code(), "rate_limited");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app_with(|s| s.auth_cache_ms = 0).await;
    let c = app.demo_user("shequ").await;
    assert_eq!(c.get("/api/v1/me").await.status, StatusCode::OK);
    let r = c.post("/api/v1/auth/logout", json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = c.get("/api/v1/me").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "auth.session_expired");
}

#[tokio::test]
async fn a_new_login_keeps_the_other_sessions_unless_single_session_is_set() {
    let app = spawn_app_with(|s| s.auth_cache_ms = 0).await;
    let first = app.demo_user("shequ").await;
    let _second = app.demo_user("shequ").await;
    assert_eq!(first.get("/api/v1/me").await.status, StatusCode::OK);

    let app = spawn_app_with(|s| {
        s.auth_cache_ms = 0;
        s.single_session = true;
    })
    .await;
    let first = app.demo_user("shequ").await;
    let second = app.demo_user("shequ").await;
    assert_eq!(
        first.get("/api/v1/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(second.get("/api/v1/me").await.status, StatusCode::OK);
}

#[tokio::test]
async fn idle_sessions_expire() {
    let app = spawn_app_with(|s| s.auth_cache_ms = 0).await;
    let c = app.demo_user("shequ").await;
    // Pretend the session was last used 31 minutes ago.
    let past = gongzhi::domain::now_ms() - 31 * 60_000;
    gongzhi::store::exec(
        &app.state.db,
        "UPDATE sessions SET last_seen_at = $1",
        vec![past.into()],
    )
    .await
    .unwrap();
    assert_eq!(c.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn absolute_timeout_ends_sessions() {
    let app = spawn_app_with(|s| s.auth_cache_ms = 0).await;
    let c = app.demo_user("shequ").await;
    let past = gongzhi::domain::now_ms() - 1;
    gongzhi::store::exec(
        &app.state.db,
        "UPDATE sessions SET expires_at = $1",
        vec![past.into()],
    )
    .await
    .unwrap();
    assert_eq!(c.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn forced_password_change_blocks_everything_else_until_done() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let r = admin
        .post(
            "/api/v1/users",
            json!({"username": "newbie", "display_name": "新人", "password": "First#Pass1"}),
        )
        .await
        .expect_status(StatusCode::CREATED);
    assert_eq!(r.body["must_change_password"], true);
    let c = app.login("newbie", "First#Pass1").await;
    let r = c.get("/api/v1/areas/roots").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "auth.password_change_required");
    assert_eq!(c.get("/api/v1/me").await.body["must_change_password"], true);

    // Policy: too short, too few classes, containing the username, same as the old one.
    for bad in ["Sh0rt!", "alllowercase1", "Newbie#2026x", "First#Pass1"] {
        let r = c
            .post(
                "/api/v1/me/password",
                json!({"old_password": "First#Pass1", "new_password": bad}),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.text
        );
        assert!(r.body["error"]["fields"]["new_password"].is_string());
    }
    let r = c
        .post(
            "/api/v1/me/password",
            json!({"old_password": "Wrong#Pass1", "new_password": "Better#Pass2"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"]["old_password"].is_string());
    c.post(
        "/api/v1/me/password",
        json!({"old_password": "First#Pass1", "new_password": "Better#Pass2"}),
    )
    .await
    .expect_status(StatusCode::NO_CONTENT);
    // The same session goes on; the new password works.
    let c2 = app.login("newbie", "Better#Pass2").await;
    assert_eq!(
        c2.get("/api/v1/me").await.body["must_change_password"],
        false
    );
    assert_eq!(c2.get("/api/v1/areas/roots").await.status, StatusCode::OK);
}

#[tokio::test]
async fn generated_admin_password_must_be_changed_and_is_never_a_default() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_empty(dir.path()).await;
    let mut s = gongzhi::config::Settings::for_database(&url, dir.path());
    s.admin_password = None;
    let db = gongzhi::store::connect(&s).await.unwrap();
    gongzhi::store::migrate(&db, &url).await.unwrap();
    let pw = gongzhi::app::auth::ensure_admin(&db, &audit_key(), None)
        .await
        .unwrap()
        .expect("generated");
    assert!(gongzhi::domain::password::check_policy("admin", &pw).is_ok());
    assert_eq!(
        gongzhi::app::auth::ensure_admin(&db, &audit_key(), None)
            .await
            .unwrap(),
        None,
        "only once"
    );
    let must = gongzhi::store::fetch_i64(
        &db,
        "SELECT COUNT(*) FROM users WHERE username = 'admin' AND must_change_password = $1",
        vec![true.into()],
    )
    .await
    .unwrap();
    assert_eq!(must, 1);
}

/// An empty migrated-nothing database (not the demo template).
pub async fn fresh_database_empty(dir: &std::path::Path) -> String {
    match pg_admin_url() {
        None => format!("sqlite://{}?mode=rwc", dir.join("empty.db").display()),
        Some(admin) => {
            use sea_orm::ConnectionTrait;
            let name = format!("gz_t_{}", uuid::Uuid::now_v7().simple());
            let db = gongzhi::store::connect_url(&admin, 1).await.unwrap();
            db.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .unwrap();
            let base = admin.rsplit_once('/').unwrap().0;
            format!("{base}/{name}")
        }
    }
}

#[tokio::test]
async fn api_tokens_are_shown_once_scoped_and_revocable() {
    let app = spawn_app_with(|s| s.auth_cache_ms = 0).await;
    let admin = app.admin().await;
    let chaoyang = app.area_id("130602001001").await;
    let r = admin
        .post("/api/v1/tokens", json!({"name": "12345 热线", "grants": [{"role": "department_handler", "area_id": chaoyang}]}))
        .await.expect_status(StatusCode::CREATED);
    let token = r.body["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("gz_"));
    let id = r.body["id"].as_str().unwrap().to_string();
    // Stored only as a hash.
    let plain = gongzhi::store::fetch_i64(
        &app.state.db,
        "SELECT COUNT(*) FROM api_tokens WHERE token_hash = $1",
        vec![token.clone().into()],
    )
    .await
    .unwrap();
    assert_eq!(plain, 0);
    // Listing never shows the secret.
    let list = admin.get("/api/v1/tokens").await;
    assert!(!list.text.contains(&token));

    let t = Client {
        token: Some(token.clone()),
        ..app.anon()
    };
    assert_eq!(
        t.get(&format!("/api/v1/areas/{chaoyang}")).await.status,
        StatusCode::OK
    );
    let other = app.area_id("130602002000").await;
    assert_eq!(
        t.get(&format!("/api/v1/areas/{other}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(t.get("/api/v1/users").await.status, StatusCode::FORBIDDEN);

    let r = admin
        .post(&format!("/api/v1/tokens/{id}/revoke"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        t.get(&format!("/api/v1/areas/{chaoyang}")).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn passwords_are_argon2id_hashes() {
    let app = spawn_app().await;
    #[derive(sea_orm::FromQueryResult)]
    struct H {
        password_hash: String,
    }
    let rows: Vec<H> =
        gongzhi::store::fetch_all(&app.state.db, "SELECT password_hash FROM users", vec![])
            .await
            .unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r
        .password_hash
        .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")));
}
