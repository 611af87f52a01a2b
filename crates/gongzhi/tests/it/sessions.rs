//! Issue 12, sign-in and sessions: one answer for every failed login, failures counted per name
//! and per address, proxies believed only when trusted, `Secure` cookies and HSTS, same-origin
//! cookie writes, several sessions per user, an exact idle timeout, uploads checked by content.
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

/// A request with headers of our choosing (addresses, origins, cookies).
async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Resp {
    let mut req = reqwest::Client::new().request(method, format!("{}{path}", app.base));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("request");
    let (status, headers) = (r.status(), r.headers().clone());
    let text = r.text().await.unwrap_or_default();
    Resp {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    }
}

fn header<'a>(r: &'a Resp, name: &str) -> &'a str {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// A server behind a reverse proxy at 127.0.0.1 (the test client), so a test may call "from" any
/// address with `X-Forwarded-For`.
async fn behind_proxy() -> TestApp {
    spawn_app_with(|s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        s.auth_cache_ms = 0;
    })
    .await
}

async fn login_from(app: &TestApp, addr: &str, username: &str, password: &str) -> Resp {
    raw(
        app,
        Method::POST,
        "/api/v1/auth/login",
        &[("x-forwarded-for", addr)],
        Some(json!({"username": username, "password": password})),
    )
    .await
}

const WRONG: &str = "Wrong#pass1";

#[tokio::test]
async fn unknown_name_wrong_password_and_a_barred_address_get_one_answer() {
    let app = behind_proxy().await;
    let attacker = "203.0.113.7";
    let unknown = login_from(&app, attacker, "nobody", WRONG).await;
    let mut wrong = vec![];
    for _ in 0..5 {
        wrong.push(login_from(&app, attacker, "shequ", WRONG).await);
    }
    // The right password from an address that failed five times: the same answer.
    let barred = login_from(&app, attacker, "shequ", DEMO_PASSWORD).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED, "{}", unknown.text);
    assert_eq!(unknown.code(), "auth.invalid_credentials");
    for r in wrong.iter().chain([&barred]) {
        assert_eq!(r.status, unknown.status, "{}", r.text);
        // The same answer: code, message and fields (each carries its own request id).
        for k in ["code", "message", "fields"] {
            assert_eq!(r.body["error"][k], unknown.body["error"][k], "{k}");
        }
        assert!(r.headers.get("retry-after").is_none());
    }
    // Nothing was signed in, and the audit log knows why.
    let barred_rows = app
        .count(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login' AND detail LIKE 'barred%'",
        )
        .await;
    assert_eq!(barred_rows, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);
}

#[tokio::test]
async fn failures_from_other_addresses_never_lock_the_owner_out() {
    let app = behind_proxy().await;
    let (office, attacker, cafe) = ("198.51.100.10", "203.0.113.7", "192.0.2.55");
    // The owner signs in at the office: that address is known for the name.
    assert_eq!(
        login_from(&app, office, "shequ", DEMO_PASSWORD)
            .await
            .status,
        StatusCode::OK
    );
    for _ in 0..5 {
        login_from(&app, attacker, "shequ", WRONG)
            .await
            .expect_status(StatusCode::UNAUTHORIZED);
    }
    // More failures from a botnet: the name is under attack (back-off 32 s).
    for i in 0..5 {
        gongzhi::store::exec(
            &app.state.db,
            "INSERT INTO login_attempts (id, client_addr, username, at, success) VALUES ($1, $2, 'shequ', $3, $4)",
            vec![
                uuid::Uuid::now_v7().into(),
                format!("203.0.113.{}", 100 + i).into(),
                gongzhi::domain::now_ms().into(),
                false.into(),
            ],
        )
        .await
        .unwrap();
    }
    // The attacker's address is barred for the name; its next try waits its turn.
    let r = login_from(&app, attacker, "shequ", DEMO_PASSWORD).await;
    assert_eq!(r.code(), "auth.invalid_credentials");
    let r = login_from(&app, attacker, "shequ", WRONG)
        .await
        .expect_status(StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = header(&r, "retry-after").parse().unwrap();
    assert!((1..=32).contains(&wait), "{wait}");
    // The owner at the office: straight in.
    login_from(&app, office, "shequ", DEMO_PASSWORD)
        .await
        .expect_status(StatusCode::OK);
    // The owner at a new address: a delay, not a lock.
    let r = login_from(&app, cafe, "shequ", DEMO_PASSWORD)
        .await
        .expect_status(StatusCode::TOO_MANY_REQUESTS);
    assert!(header(&r, "retry-after").parse::<u64>().is_ok());
    gongzhi::store::exec(
        &app.state.db,
        "UPDATE login_throttle SET next_at = $1",
        vec![gongzhi::domain::now_ms().into()],
    )
    .await
    .unwrap();
    login_from(&app, cafe, "shequ", DEMO_PASSWORD)
        .await
        .expect_status(StatusCode::OK);
}

#[tokio::test]
async fn secure_cookies_and_hsts_only_when_a_trusted_proxy_says_https() {
    let https = [
        ("x-forwarded-proto", "https"),
        ("x-forwarded-for", "198.51.100.20"),
    ];
    let body = || Some(json!({"username": "shequ", "password": DEMO_PASSWORD}));
    let login = "/api/v1/auth/login";

    let proxied = behind_proxy().await;
    let r = raw(&proxied, Method::POST, login, &https, body())
        .await
        .expect_status(StatusCode::OK);
    assert!(
        header(&r, "set-cookie").ends_with("; Secure"),
        "{}",
        header(&r, "set-cookie")
    );
    assert_eq!(header(&r, "strict-transport-security"), "max-age=31536000");
    let addr = "SELECT COUNT(*) FROM sessions WHERE client_addr = '198.51.100.20'";
    assert_eq!(proxied.count(addr).await, 1);
    let r = raw(&proxied, Method::POST, login, &[], body()).await;
    assert!(!header(&r, "set-cookie").contains("Secure"));
    assert!(r.headers.get("strict-transport-security").is_none());

    // The same headers from a peer that is not a trusted proxy count for nothing.
    let direct = spawn_app().await;
    let r = raw(&direct, Method::POST, login, &https, body())
        .await
        .expect_status(StatusCode::OK);
    assert!(!header(&r, "set-cookie").contains("Secure"));
    assert!(r.headers.get("strict-transport-security").is_none());
    assert_eq!(direct.count(addr).await, 0);

    // GONGZHI_PUBLIC_URL=https://… : always.
    let public = spawn_app_with(|s| s.public_origin = Some("https://gongzhi.example".into())).await;
    let r = raw(&public, Method::POST, login, &[], body()).await;
    assert!(header(&r, "set-cookie").ends_with("; Secure"));
    let r = raw(&public, Method::GET, "/healthz", &[], None).await;
    assert_eq!(header(&r, "strict-transport-security"), "max-age=31536000");
}

/// A grid under 朝阳社区 with this code.
fn grid(parent: &str, code: &str) -> Option<Value> {
    Some(json!({"parent_id": parent, "kind": "grid", "name": format!("网格{code}"), "code": code}))
}

#[tokio::test]
async fn cross_origin_cookie_writes_are_refused_and_change_nothing() {
    let app = spawn_app_with(|s| s.auth_cache_ms = 0).await;
    let admin = app.admin().await;
    let token = admin.token.clone().unwrap();
    let cookie = format!("gongzhi_session={token}");
    let bearer = format!("Bearer {token}");
    let (own, evil) = (app.base.as_str(), "https://evil.example");
    let parent = app.area_id("130602001001").await;
    let areas = "/api/v1/areas";
    let created = |code: &str| format!("SELECT COUNT(*) FROM areas WHERE code = '{code}'");

    // Logout from another site's page: refused, the session goes on.
    let logout = "/api/v1/auth/logout";
    let r = raw(
        &app,
        Method::POST,
        logout,
        &[("cookie", &cookie), ("origin", evil)],
        None,
    )
    .await
    .expect_status(StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "csrf.origin");
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("本系统"));
    assert_eq!(admin.get("/api/v1/me").await.status, StatusCode::OK);

    // Another write: by Origin, by Referer, or naming no site at all — refused, nothing made.
    for named in [
        vec![("origin", evil)],
        vec![("origin", "null")],
        vec![("referer", "https://evil.example/page")],
        vec![],
    ] {
        let mut h = vec![("cookie", cookie.as_str())];
        h.extend(named);
        let r = raw(
            &app,
            Method::POST,
            areas,
            &h,
            grid(&parent, "130602001001301"),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{h:?}: {}", r.text);
    }
    assert_eq!(app.count(&created("130602001001301")).await, 0);

    // The console's own page passes; so does a Bearer token whatever the Origin.
    let h = [("cookie", cookie.as_str()), ("origin", own)];
    raw(
        &app,
        Method::POST,
        areas,
        &h,
        grid(&parent, "130602001001302"),
    )
    .await
    .expect_status(StatusCode::CREATED);
    let h = [("authorization", bearer.as_str()), ("origin", evil)];
    raw(
        &app,
        Method::POST,
        areas,
        &h,
        grid(&parent, "130602001001303"),
    )
    .await
    .expect_status(StatusCode::CREATED);

    // A login started by another site's page (login CSRF) is refused.
    let body = Some(json!({"username": "shequ", "password": DEMO_PASSWORD}));
    let r = raw(
        &app,
        Method::POST,
        "/api/v1/auth/login",
        &[("origin", evil)],
        body,
    )
    .await;
    assert_eq!(r.code(), "csrf.origin");

    raw(
        &app,
        Method::POST,
        logout,
        &[("cookie", &cookie), ("origin", own)],
        None,
    )
    .await
    .expect_status(StatusCode::NO_CONTENT);
    assert_eq!(
        admin.get("/api/v1/me").await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn login_with_agent(app: &TestApp, username: &str, agent: &str) -> Client {
    let h = [("user-agent", agent)];
    let body = json!({"username": username, "password": DEMO_PASSWORD});
    let r = raw(app, Method::POST, "/api/v1/auth/login", &h, Some(body))
        .await
        .expect_status(StatusCode::OK);
    Client {
        token: r.body["token"].as_str().map(str::to_string),
        ..app.anon()
    }
}

#[tokio::test]
async fn a_user_holds_two_sessions_lists_them_and_ends_one_or_all_others() {
    let app = spawn_app_with(|s| s.auth_cache_ms = 0).await;
    let pc = login_with_agent(&app, "shequ", "Mozilla/5.0 (Windows NT 10.0) 办公电脑").await;
    let phone = login_with_agent(&app, "shequ", "Mozilla/5.0 (iPhone) 手机").await;
    assert_eq!(pc.get("/api/v1/me").await.status, StatusCode::OK);
    assert_eq!(phone.get("/api/v1/me").await.status, StatusCode::OK);

    let list = pc
        .get("/api/v1/me/sessions")
        .await
        .expect_status(StatusCode::OK);
    let items = list.body.as_array().unwrap();
    assert_eq!(items.len(), 2);
    let current: Vec<&Value> = items.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert!(current[0]["user_agent"]
        .as_str()
        .unwrap()
        .contains("办公电脑"));
    let phone_id = items.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    for s in items {
        assert!(s["created_at"].is_string() && s["last_seen_at"].is_string());
        assert_eq!(s["client_addr"], "127.0.0.1");
    }
    for t in [&pc, &phone] {
        assert!(!list.text.contains(t.token.as_deref().unwrap()));
    }

    // Someone else's session is not there to end.
    let other = app.demo_user("jiedao").await;
    let theirs = other.get("/api/v1/me/sessions").await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = pc.delete(&format!("/api/v1/me/sessions/{theirs}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(other.get("/api/v1/me").await.status, StatusCode::OK);

    pc.delete(&format!("/api/v1/me/sessions/{phone_id}"))
        .await
        .expect_status(StatusCode::NO_CONTENT);
    assert_eq!(
        phone.get("/api/v1/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        pc.get("/api/v1/me/sessions")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let tablet = login_with_agent(&app, "shequ", "平板").await;
    let r = pc.post("/api/v1/me/sessions/end-others", json!({})).await;
    assert_eq!(r.body["ended"], 1, "{}", r.text);
    assert_eq!(
        tablet.get("/api/v1/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(pc.get("/api/v1/me").await.status, StatusCode::OK);
    let ends = "SELECT COUNT(*) FROM audit_log WHERE action IN ('auth.session_end', 'auth.sessions_end_others')";
    assert_eq!(app.count(ends).await, 2);
}

#[tokio::test]
async fn the_idle_timeout_counts_from_the_last_request_exactly() {
    let app = spawn_app_with(|s| s.session_idle_ms = 3000).await;
    let c = app.demo_user("shequ").await;
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(c.get("/api/v1/me").await.status, StatusCode::OK);
    // 4 s after login, 2 s after the last request: still alive.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(c.get("/api/v1/me").await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(3300)).await;
    let r = c.get("/api/v1/me").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "auth.session_expired");

    // A long in-memory cache never keeps an idle session alive.
    let app = spawn_app_with(|s| {
        s.session_idle_ms = 1500;
        s.auth_cache_ms = 60_000;
    })
    .await;
    let c = app.demo_user("shequ").await;
    assert_eq!(c.get("/api/v1/me").await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1800)).await;
    assert_eq!(c.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
}
