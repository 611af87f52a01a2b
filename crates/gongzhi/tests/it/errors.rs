//! HTTP conventions: one error shape in two languages, no 5xx on bad input, headers, ops routes.
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

fn assert_shape(r: &Resp) {
    assert!(r.body["error"]["code"].is_string(), "{}", r.text);
    assert!(r.body["error"]["message"].is_string(), "{}", r.text);
    assert!(r.body["error"]["fields"].is_object(), "{}", r.text);
}

#[tokio::test]
async fn bad_input_gets_a_4xx_in_one_shape_never_a_5xx() {
    let app = spawn_app().await;
    let a = app.admin().await;
    let http = reqwest::Client::new();
    let tok = a.token.clone().unwrap();
    let send = |method: reqwest::Method, path: &str, ctype: Option<&str>, body: Vec<u8>| {
        let mut req = http
            .request(method, format!("{}{path}", app.base))
            .bearer_auth(&tok)
            .body(body);
        if let Some(c) = ctype {
            req = req.header("content-type", c.to_string());
        }
        req.send()
    };
    let cases: Vec<(reqwest::Method, &str, Option<&str>, Vec<u8>, u16, &str)> = vec![
        (
            reqwest::Method::POST,
            "/api/v1/areas",
            Some("application/json"),
            b"{not json".to_vec(),
            400,
            "malformed_json",
        ),
        (
            reqwest::Method::POST,
            "/api/v1/areas",
            Some("application/json"),
            br#"{"kind": 5, "name": []}"#.to_vec(),
            422,
            "validation",
        ),
        (
            reqwest::Method::POST,
            "/api/v1/areas",
            Some("application/json"),
            br#"{"kind":"grid","name":"x","code":"1","surprise":1}"#.to_vec(),
            422,
            "validation",
        ),
        (
            reqwest::Method::POST,
            "/api/v1/areas",
            Some("text/plain"),
            b"hello".to_vec(),
            400,
            "bad_request",
        ),
        (
            reqwest::Method::POST,
            "/api/v1/areas",
            None,
            vec![],
            400,
            "bad_request",
        ),
        (
            reqwest::Method::POST,
            "/api/v1/areas",
            Some("application/json"),
            vec![b' '; 2 * 1024 * 1024],
            413,
            "payload_too_large",
        ),
        (
            reqwest::Method::GET,
            "/api/v1/areas/00000000-0000-0000-0000-000000000000",
            None,
            vec![],
            404,
            "not_found",
        ),
        (
            reqwest::Method::GET,
            "/api/v1/areas/%E4%BD%A0%E5%A5%BD",
            None,
            vec![],
            404,
            "not_found",
        ),
        (
            reqwest::Method::GET,
            "/api/v1/no/such/route",
            None,
            vec![],
            404,
            "not_found",
        ),
        (
            reqwest::Method::DELETE,
            "/api/v1/areas/roots",
            None,
            vec![],
            405,
            "method_not_allowed",
        ),
        (
            reqwest::Method::GET,
            "/api/v1/users?page=-1",
            None,
            vec![],
            422,
            "validation",
        ),
        (
            reqwest::Method::POST,
            "/api/v1/auth/login",
            Some("application/json"),
            br#"{"username":"admin"}"#.to_vec(),
            422,
            "validation",
        ),
        (
            reqwest::Method::POST,
            "/api/v1/auth/login",
            Some("application/json"),
            br#"{"username":"","password":""}"#.to_vec(),
            422,
            "validation",
        ),
    ];
    for (m, path, ctype, body, status, code) in cases {
        let r = send(m.clone(), path, ctype, body).await.unwrap();
        let got = r.status().as_u16();
        let text = r.text().await.unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(got, status, "{m} {path}: {text}");
        assert_eq!(v["error"]["code"], code, "{m} {path}: {text}");
    }
    // Nothing was created by any of that.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'area.create'")
            .await,
        0
    );
}

#[tokio::test]
async fn messages_are_chinese_by_default_and_english_on_request() {
    let app = spawn_app().await;
    let zh = app.anon().get("/api/v1/me").await;
    assert_eq!(zh.status, StatusCode::UNAUTHORIZED);
    assert_shape(&zh);
    assert_eq!(zh.body["error"]["message"], "请先登录");
    let en = Client {
        lang: "en",
        ..app.anon()
    }
    .get("/api/v1/me")
    .await;
    assert_eq!(en.body["error"]["message"], "Please sign in");
    let a = Client {
        lang: "en-US,en;q=0.9",
        ..app.admin().await
    };
    let chaoyang = app.area_id("130602001001").await;
    let r = a
        .post(
            "/api/v1/areas",
            json!({"parent_id": chaoyang, "kind": "grid", "name": "", "code": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"]["fields"]["name"], "Must not be empty");
    assert_eq!(
        r.body["error"]["fields"]["code"],
        "The code must be digits only"
    );
}

#[tokio::test]
async fn html_is_stored_as_text() {
    let app = spawn_app().await;
    let a = app.admin().await;
    let chaoyang = app.area_id("130602001001").await;
    let name = "<script>alert(1)</script>网格";
    let r = a
        .post(
            "/api/v1/areas",
            json!({"parent_id": chaoyang, "kind": "grid", "name": name, "code": "130602001001066"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["name"], name);
    assert!(r
        .headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("application/json"));
}

#[tokio::test]
async fn every_response_has_a_request_id_and_security_headers() {
    let app = spawn_app().await;
    let c = app.anon();
    for path in ["/api/v1/me", "/healthz", "/", "/areas/some/deep/link"] {
        let r = c.get(path).await;
        let h = &r.headers;
        assert!(h.get("x-request-id").is_some(), "{path}");
        assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
        assert_eq!(h.get("x-frame-options").unwrap(), "DENY");
        assert!(h
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'"));
    }
    let r = c.get("/api/v1/me").await;
    assert_eq!(r.headers.get("cache-control").unwrap(), "no-store");
    // A caller's own request id is echoed.
    let r = reqwest::Client::new()
        .get(format!("{}/healthz", app.base))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers().get("x-request-id").unwrap(), "abc-123");
}

#[tokio::test]
async fn console_is_served_with_spa_fallback_and_immutable_assets() {
    let app = spawn_app().await;
    let c = app.anon();
    let r = c.get("/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text.contains("<div id=\"app\""),
        "{}",
        &r.text[..r.text.len().min(300)]
    );
    let deep = c.get("/areas").await;
    assert_eq!(deep.status, StatusCode::OK);
    assert_eq!(deep.text, r.text);
    let asset = r
        .text
        .split("src=\"/assets/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("an asset");
    let a = reqwest::get(format!("{}/assets/{asset}", app.base))
        .await
        .unwrap();
    assert_eq!(a.status(), StatusCode::OK);
    assert!(a
        .headers()
        .get("cache-control")
        .unwrap()
        .to_str()
        .unwrap()
        .contains("immutable"));
}

#[tokio::test]
async fn health_readiness_metrics_and_openapi() {
    let app = spawn_app().await;
    let c = app.anon();
    assert_eq!(c.get("/healthz").await.status, StatusCode::OK);
    let r = c.get("/readyz").await;
    assert_eq!(r.body["database"], "ok");
    let _ = app.admin().await.get("/api/v1/areas/roots").await;
    let m = c.get("/metrics").await;
    assert!(
        m.text.contains("gongzhi_http_requests_total{"),
        "{}",
        m.text
    );
    assert!(m.text.contains("route=\"/api/v1/areas/roots\""));
    assert!(m
        .text
        .contains("gongzhi_http_request_duration_seconds_bucket"));
    assert!(m.text.contains("gongzhi_db_pool_connections"));

    let spec = c.get("/api/openapi.json").await.body;
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = spec["paths"].as_object().unwrap();
    for p in [
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/me/password",
        "/api/v1/me/sessions",
        "/api/v1/me/sessions/{id}",
        "/api/v1/me/sessions/end-others",
        "/api/v1/areas",
        "/api/v1/areas/roots",
        "/api/v1/areas/{id}",
        "/api/v1/areas/{id}/children",
        "/api/v1/areas/{id}/move",
        "/api/v1/party-orgs",
        "/api/v1/party-orgs/roots",
        "/api/v1/party-orgs/{id}",
        "/api/v1/party-orgs/{id}/children",
        "/api/v1/party-orgs/{id}/move",
        "/api/v1/users",
        "/api/v1/users/{id}",
        "/api/v1/users/{id}/reset-password",
        "/api/v1/users/{id}/grants",
        "/api/v1/grants/{id}",
        "/api/v1/tokens",
        "/api/v1/tokens/{id}/revoke",
        "/api/v1/audit",
        "/api/v1/registry/vocab",
        "/api/v1/registry/stats",
        "/api/v1/registry/stale",
        "/api/v1/registry/duplicates",
        "/api/v1/dwellings",
        "/api/v1/dwellings/{id}",
        "/api/v1/dwellings/{id}/owners",
        "/api/v1/households",
        "/api/v1/households/{id}",
        "/api/v1/households/{id}/members",
        "/api/v1/households/{id}/members/{member_id}/end",
        "/api/v1/households/{id}/verify",
        "/api/v1/households/{id}/file",
        "/api/v1/households/{id}/history",
        "/api/v1/persons",
        "/api/v1/persons/{id}",
        "/api/v1/persons/{id}/reveal",
        "/api/v1/persons/{id}/history",
        "/api/v1/visits",
        "/api/v1/needs",
        "/api/v1/needs/{id}",
        "/api/v1/legal-entities",
        "/api/v1/legal-entities/{id}",
        "/api/v1/import/templates/persons.csv",
        "/api/v1/import/templates/persons.xlsx",
        "/api/v1/sharing-rules",
        "/api/v1/sharing-rules/{id}/revoke",
        "/api/v1/shared/rules",
        "/api/v1/shared/rules/{id}/persons",
        "/api/v1/import/persons",
        "/api/v1/export/persons.csv",
        "/api/v1/calendar",
        "/api/v1/calendar/deadline",
        "/api/v1/calendar/import",
        "/api/v1/calendar/{year}",
        "/api/v1/case-categories",
        "/api/v1/case-categories/export.csv",
        "/api/v1/case-categories/import",
        "/api/v1/case-categories/{id}",
        "/api/v1/case-duties/{id}",
        "/api/v1/case-routing",
        "/api/v1/case-stats",
        "/api/v1/case-stats/hotspots",
        "/api/v1/case-stats/ranking",
        "/api/v1/case-stats/trend",
        "/api/v1/case-units",
        "/api/v1/case-units/{id}",
        "/api/v1/case-units/{id}/duties",
        "/api/v1/case-units/{id}/members",
        "/api/v1/case-units/{id}/members/{member_id}",
        "/api/v1/cases",
        "/api/v1/cases/counts",
        "/api/v1/cases/map",
        "/api/v1/cases/{id}",
        "/api/v1/cases/{id}/actions/{action}",
        "/api/v1/cases/{id}/timeline",
        "/api/v1/cases/{id}/whistles",
        "/api/v1/cases/{id}/whistles/{wid}/arrive",
        "/api/v1/files",
        "/api/v1/files/{id}",
        "/api/v1/my/cases",
        "/api/v1/cases/import",
        "/api/v1/cases/import/template.csv",
        "/api/v1/needs/{id}/case",
        "/api/v1/public/rate/{token}",
        "/api/v1/activities/{id}/qr",
        "/api/v1/attendance/scan",
        "/api/v1/catalog/{id}/redeem",
        "/api/v1/points/postings/{id}/reverse",
        "/api/v1/work-unit/sheet",
        "/api/v1/public/certificates/{number}",
        "/api/v1/me/volunteer",
        "/api/v1/audit/checkpoints",
        "/api/v1/cases/export.xlsx",
        "/api/v1/case-stats/export.xlsx",
        "/api/v1/exports/visits.xlsx",
        "/api/v1/exports/service-hours.xlsx",
        "/api/v1/exports/postings.xlsx",
        "/api/v1/roles",
        "/api/v1/me/todos",
        "/api/v1/users/import",
        "/api/v1/users/import/template.xlsx",
        "/api/v1/users/{id}/reveal-phone",
        "/api/v1/users/{id}/sessions",
        "/api/v1/import/areas",
        "/api/v1/import/templates/areas.csv",
        "/api/v1/import/volunteers",
        "/api/v1/import/party-members",
        "/api/v1/import/templates/volunteers.csv",
        "/api/v1/import/templates/party-members.csv",
        "/api/v1/import/legal-entities",
        "/api/v1/import/templates/legal-entities.csv",
        "/api/v1/import/party-orgs",
        "/api/v1/import/templates/party-orgs.csv",
        "/api/v1/import/dwellings",
        "/api/v1/import/templates/dwellings.csv",
        "/api/v1/me/messages",
        "/api/v1/me/messages/unread",
        "/api/v1/me/messages/{id}/read",
        "/api/v1/me/messages/read-all",
        "/api/v1/message-templates",
        "/api/v1/message-templates/{key}",
        "/api/v1/me/channels",
        "/api/v1/me/channels/{channel}",
        "/api/v1/message-deliveries",
        "/api/v1/channels/sms/tencent/reports",
        "/api/v1/streets/{id}/public-categories",
        "/api/v1/community-channels",
        "/api/v1/community-channels/{id}",
        "/api/v1/community-channels/{id}/retire",
        "/api/v1/community-channels/{id}/merge",
        "/api/v1/notices",
        "/api/v1/notices/{id}/households/{household_id}/ack",
        "/api/v1/me/notices/{id}/ack",
        "/api/v1/public/signup/code",
        "/api/v1/resident-claims/{id}/confirm",
    ] {
        assert!(paths.contains_key(p), "OpenAPI lacks {p}");
    }
    assert_eq!(
        paths.len(),
        206,
        "every /api/v1 route is documented here: {:?}",
        paths.keys().collect::<Vec<_>>()
    );
    // A document client generators accept: unique operation ids, described responses, path
    // parameters only where the path has them, and the security schemes.
    let mut ids = std::collections::HashSet::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                ids.insert(op["operationId"].as_str().unwrap().to_string()),
                "duplicate operationId at {method} {path}"
            );
            for (status, r) in op["responses"].as_object().unwrap() {
                let r = resolve(&spec, r);
                assert!(
                    r["description"]
                        .as_str()
                        .map(|d| !d.is_empty())
                        .unwrap_or(false),
                    "{method} {path} {status}"
                );
            }
            assert_error_answers(&spec, path, method, op);
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["in"] == "path" {
                    assert!(
                        path.contains(&format!("{{{}}}", p["name"].as_str().unwrap())),
                        "{method} {path}: {p}"
                    );
                }
            }
        }
    }
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());
}

/// A response, following a `$ref` into `components.responses`.
fn resolve<'a>(spec: &'a serde_json::Value, r: &'a serde_json::Value) -> &'a serde_json::Value {
    match r["$ref"].as_str() {
        Some(name) => &spec["components"]["responses"][name.rsplit('/').next().unwrap()],
        None => r,
    }
}

/// Every operation documents the errors it can answer, each with the one `Error` body: 400
/// always, 401 and 403 unless public, 404 and 422 where it takes parameters, 422 and 413 with a
/// body, 409 for writes.
fn assert_error_answers(
    spec: &serde_json::Value,
    path: &str,
    method: &str,
    op: &serde_json::Value,
) {
    let public = path == "/api/v1/auth/login" || path.starts_with("/api/v1/public/");
    let body = op.get("requestBody").is_some();
    let params = path.contains('{') || op["parameters"].as_array().is_some_and(|p| !p.is_empty());
    let mut want = vec!["400"];
    if !public {
        want.extend(["401", "403"]);
    }
    if params || body {
        want.extend(["404", "422"]);
    }
    if body {
        want.push("413");
    }
    if method != "get" {
        want.push("409");
    }
    for status in want {
        let r = &op["responses"][status];
        assert!(r.is_object(), "{method} {path} does not document {status}");
        let schema = &resolve(spec, r)["content"]["application/json"]["schema"]["$ref"];
        assert_eq!(
            schema, "#/components/schemas/Error",
            "{method} {path} {status}"
        );
    }
    let error = &spec["components"]["schemas"]["Error"];
    assert_eq!(error["required"], json!(["error"]));
}

/// A string with a NUL (and one with an escape sequence's ESC) in each of these reaches no
/// database: it is refused at the edge with 422 naming the parameter or field, on both databases
/// (PostgreSQL cannot store NUL at all and used to answer 500).
#[tokio::test]
async fn control_characters_are_refused_at_the_edge() {
    let app = spawn_app().await;
    let a = Client {
        lang: "en",
        ..app.admin().await
    };
    const WRITTEN: &str = "SELECT (SELECT COUNT(*) FROM areas) + (SELECT COUNT(*) FROM users) + \
        (SELECT COUNT(*) FROM legal_entities) + (SELECT COUNT(*) FROM visits) + \
        (SELECT COUNT(*) FROM api_tokens) + (SELECT COUNT(*) FROM case_categories)";
    let before = app.count(WRITTEN).await;
    for path in [
        "/api/v1/areas?q=%00",
        "/api/v1/party-orgs?q=a%00b",
        "/api/v1/users?q=%00",
        "/api/v1/audit?actor=%00",
        "/api/v1/persons?q=%E7%8E%8B%00",
        "/api/v1/dwellings?q=%00",
        "/api/v1/households?q=%00",
        "/api/v1/legal-entities?q=%00",
        "/api/v1/cases?q=%1B%5B31m",
        "/api/v1/cases?page=1&category_code=01%00",
        "/api/v1/case-units?q=%00",
        "/api/v1/volunteers?q=%00",
        "/api/v1/party-members?q=%00",
        "/api/v1/points/accounts?q=%00",
    ] {
        let r = a.get(path).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            r.text
        );
        assert_eq!(r.code(), "validation", "{path}");
        let field = path.split('?').nth(1).unwrap().split('&').last().unwrap();
        let field = field.split('=').next().unwrap();
        assert!(
            r.body["error"]["fields"][field]
                .as_str()
                .unwrap()
                .contains("control characters"),
            "{path}: {}",
            r.text
        );
    }
    // Path segments.
    for path in [
        "/api/v1/calendar/20%0026",
        "/api/v1/public/certificates/ZYZM%00",
    ] {
        let r = a.get(path).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            r.text
        );
    }
    // JSON text fields, nested ones named by their path.
    let chaoyang = app.area_id("130602001001").await;
    let household = first_id(&app, "SELECT id FROM households").await;
    let bodies = [
        (
            "/api/v1/areas",
            json!({"parent_id": chaoyang, "kind": "grid", "name": "网格\u{0}", "code": "130602001001077"}),
            "name",
        ),
        (
            "/api/v1/users",
            json!({"username": "nul", "display_name": "a\u{0}b", "password": "Long#Enough2026"}),
            "display_name",
        ),
        (
            "/api/v1/legal-entities",
            json!({"area_id": chaoyang, "name": "某公司", "uscc": "91130600MA0000000X", "kind": "company", "contact_name": "\u{0}"}),
            "contact_name",
        ),
        (
            "/api/v1/visits",
            json!({"household_id": household, "mode": "in_person", "notes": "ok",
                   "needs": [{"category": "other", "urgency": "low", "description": "漏水\u{0}"}]}),
            "needs[0].description",
        ),
        (
            "/api/v1/tokens",
            json!({"name": "\u{7}", "grants": []}),
            "name",
        ),
    ];
    for (path, body, field) in bodies {
        let r = a.post(path, body).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            r.text
        );
        assert!(
            r.body["error"]["fields"][field].is_string(),
            "{path}: {}",
            r.text
        );
    }
    // Tabs and line breaks are text.
    a.post(
        "/api/v1/visits",
        json!({"household_id": household, "mode": "in_person", "notes": "第一行\n\t第二行"}),
    )
    .await
    .expect_status(StatusCode::CREATED);
    // A sheet with a control character is refused too.
    let csv = "一级编码,名称\n01\u{1b},x\n".as_bytes().to_vec();
    let r = a
        .send_raw(
            reqwest::Method::POST,
            "/api/v1/case-categories/import",
            csv,
            "text/csv",
        )
        .await
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text
            .contains("Line 2: Must not contain control characters"),
        "{}",
        r.text
    );
    // Only the one good visit was written.
    assert_eq!(app.count(WRITTEN).await, before + 1);
}

/// The id in the first row of `sql`.
async fn first_id(app: &TestApp, sql: &str) -> String {
    #[derive(sea_orm::FromQueryResult)]
    struct I {
        id: uuid::Uuid,
    }
    gongzhi::store::fetch_opt::<I, _>(&app.state.db, sql, vec![])
        .await
        .unwrap()
        .expect(sql)
        .id
        .to_string()
}

/// `?page=` beyond the last page is clamped (to 1,000,000) and the answer says so; a page that
/// would overflow the offset used to answer 500 on PostgreSQL.
#[tokio::test]
async fn a_huge_page_is_clamped_and_echoed() {
    let app = spawn_app().await;
    let a = app.admin().await;
    for path in [
        "/api/v1/cases",
        "/api/v1/my/cases",
        "/api/v1/users",
        "/api/v1/persons",
        "/api/v1/activities",
        "/api/v1/audit",
    ] {
        let r = a
            .get(&format!("{path}?page=92233720368547758&page_size=100000"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        assert_eq!(r.body["page"], 1_000_000, "{path}");
        assert_eq!(r.body["page_size"], 200, "{path}");
        assert_eq!(r.body["items"], json!([]), "{path}");
    }
    let r = a.get("/api/v1/cases?page=0&page_size=0").await;
    assert_eq!(
        (r.body["page"].as_u64(), r.body["page_size"].as_u64()),
        (Some(1), Some(1))
    );
}

/// A party organisation that members, report-ins, a pairing or contacts still name is not
/// deleted: 409 with the reason (it used to be a foreign-key 500).
#[tokio::test]
async fn a_party_org_with_members_is_not_deleted() {
    let app = spawn_app().await;
    let a = Client {
        lang: "en",
        ..app.admin().await
    };
    // A leaf organisation that one member now belongs to.
    let org = first_id(
        &app,
        "SELECT o.id FROM party_orgs o WHERE o.child_count = 0 AND o.id NOT IN \
         (SELECT org_id FROM branch_pairings) ORDER BY o.name",
    )
    .await;
    let member = first_id(&app, "SELECT id FROM party_members ORDER BY id").await;
    gongzhi::store::exec(
        &app.state.db,
        "UPDATE party_members SET org_id = $1 WHERE id = $2",
        vec![
            uuid::Uuid::parse_str(&org).unwrap().into(),
            uuid::Uuid::parse_str(&member).unwrap().into(),
        ],
    )
    .await
    .unwrap();
    let r = a
        .delete(&format!("/api/v1/party-orgs/{org}"))
        .await
        .expect_status(StatusCode::CONFLICT);
    assert_eq!(r.code(), "conflict");
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("party members"));
    assert_eq!(
        r.body["error"]["request_id"],
        r.headers["x-request-id"].to_str().unwrap()
    );
    assert_eq!(
        a.get(&format!("/api/v1/party-orgs/{org}")).await.status,
        StatusCode::OK
    );
}

/// An area that does not exist is "not found" for a system admin too, before anything is written
/// against it (`PUT /points/rules` used to answer 500).
#[tokio::test]
async fn an_unknown_area_is_not_found_for_the_admin_too() {
    let app = spawn_app().await;
    let a = app.admin().await;
    let nobody = uuid::Uuid::now_v7();
    a.send(
        reqwest::Method::PUT,
        "/api/v1/points/rules",
        Some(json!({"area_id": nobody, "event": "report_in", "points": 1})),
    )
    .await
    .expect_status(StatusCode::NOT_FOUND);
    a.get(&format!("/api/v1/points/rules?area_id={nobody}"))
        .await
        .expect_status(StatusCode::NOT_FOUND);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM point_rules WHERE area_id NOT IN (SELECT id FROM areas)")
            .await,
        0
    );
}

/// Database errors are classified from the driver's code on both databases, never from text.
#[tokio::test]
async fn database_errors_are_classified_by_their_codes() {
    use gongzhi::error::{db_fault, AppError, DbFault};
    let app = spawn_app().await;
    let db = &app.state.db;
    let run = |sql: &'static str, values: Vec<sea_orm::Value>| async move {
        gongzhi::store::exec(db, sql, values).await.unwrap_err()
    };
    let year = app
        .count("SELECT CAST(MIN(year) AS BIGINT) FROM calendar_years")
        .await;
    let e = run(
        "INSERT INTO calendar_years (year, updated_at, updated_by) VALUES ($1, 0, 'x')",
        vec![(year as i32).into()],
    )
    .await;
    assert_eq!(db_fault(&e), DbFault::Unique, "{e}");
    assert_eq!(AppError::Db(e).status(), StatusCode::CONFLICT);
    let e = run(
        "INSERT INTO party_org_links (org_id, area_id) VALUES ($1, $2)",
        vec![uuid::Uuid::now_v7().into(), uuid::Uuid::now_v7().into()],
    )
    .await;
    assert_eq!(db_fault(&e), DbFault::ForeignKey, "{e}");
    assert_eq!(AppError::Db(e).code(), "conflict.reference");
    let e = run(
        "INSERT INTO calendar_years (year, updated_at, updated_by) VALUES (1900, NULL, 'x')",
        vec![],
    )
    .await;
    assert_eq!(db_fault(&e), DbFault::Constraint, "{e}");
    assert_eq!(AppError::Db(e).status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e = run("SELECT * FROM no_such_table", vec![]).await;
    assert_eq!(db_fault(&e), DbFault::Other, "{e}");
    assert_eq!(AppError::Db(e).status(), StatusCode::INTERNAL_SERVER_ERROR);
}

/// An area is not deleted while records lie in it: dwellings, households, residents, entities or
/// cases (they have no foreign key: 409 with the reason), or anything with a foreign key to it
/// (409 `conflict.reference`, from the database's code; it used to be a 500).
#[tokio::test]
async fn an_area_in_use_is_not_deleted() {
    let app = spawn_app().await;
    let a = Client {
        lang: "en",
        ..app.admin().await
    };
    let building = first_id(
        &app,
        "SELECT d.building_id AS id FROM dwellings d WHERE d.building_id NOT IN \
         (SELECT area_id FROM grants WHERE area_id IS NOT NULL) AND d.building_id NOT IN \
         (SELECT area_id FROM party_orgs) AND d.building_id NOT IN (SELECT area_id FROM party_org_links) \
         ORDER BY d.building_id",
    )
    .await;
    let r = a
        .delete(&format!("/api/v1/areas/{building}"))
        .await
        .expect_status(StatusCode::CONFLICT);
    assert!(r.text.contains("dwellings"), "{}", r.text);
    assert_eq!(
        a.get(&format!("/api/v1/areas/{building}")).await.status,
        StatusCode::OK
    );

    // A new grid that only a points rule names.
    let chaoyang = app.area_id("130602001001").await;
    let grid = a
        .post(
            "/api/v1/areas",
            json!({"parent_id": chaoyang, "kind": "grid", "name": "新网格", "code": "130602001001067"}),
        )
        .await.expect_status(StatusCode::CREATED);
    let grid = grid.body["id"].as_str().unwrap().to_string();
    a.send(
        reqwest::Method::PUT,
        "/api/v1/points/rules",
        Some(json!({"area_id": grid, "event": "report_in", "points": 3})),
    )
    .await
    .expect_status(StatusCode::OK);
    let r = a
        .delete(&format!("/api/v1/areas/{grid}"))
        .await
        .expect_status(StatusCode::CONFLICT);
    assert_eq!(r.code(), "conflict.reference", "{}", r.text);
    assert_eq!(
        a.get(&format!("/api/v1/areas/{grid}")).await.status,
        StatusCode::OK
    );
}
