//! The audit trail: what is recorded, the hash chain, and who may read it.
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;
use gongzhi::app::audit::{verify, Verdict};

#[tokio::test]
async fn writes_logins_and_failures_are_recorded_with_who_where_and_request_id() {
    let app = spawn_app().await;
    let a = app.admin().await;
    let _ = app
        .anon()
        .post(
            "/api/v1/auth/login",
            json!({"username": "admin", "password": "Nope#12345"}),
        )
        .await;
    let chaoyang = app.area_id("130602001001").await;
    let v = a.get(&format!("/api/v1/areas/{chaoyang}")).await.body["version"]
        .as_i64()
        .unwrap();
    let r = a
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/areas/{chaoyang}"),
            Some(json!({"version": v, "name": "朝阳社区新"})),
        )
        .await;
    let rid = r
        .headers
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let page = a.get("/api/v1/audit?action=area.update").await;
    assert_eq!(page.status, StatusCode::OK);
    let row = &page.body["items"][0];
    assert_eq!(row["actor_name"], "admin");
    assert_eq!(row["role"], "system_admin");
    assert_eq!(row["object_id"], chaoyang.as_str());
    assert_eq!(row["fields"], json!(["name"]));
    assert_eq!(row["client_addr"], "127.0.0.1");
    assert_eq!(row["result"], "ok");
    assert_eq!(row["request_id"], rid.as_str());
    let fails = a.get("/api/v1/audit?action=auth.login&result=failed").await;
    assert_eq!(fails.body["total"], 1);
    let oks = a.get("/api/v1/audit?action=auth.login&result=ok").await;
    assert!(oks.body["total"].as_i64().unwrap() >= 1);
    let _ = a.post("/api/v1/auth/logout", json!({})).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.logout'")
            .await,
        1
    );
}

#[tokio::test]
async fn the_chain_verifies_and_names_the_first_altered_or_removed_row() {
    let app = spawn_app().await;
    let a = app.admin().await;
    for i in 0..5 {
        let chaoyang = app.area_id("130602001001").await;
        let v = a.get(&format!("/api/v1/areas/{chaoyang}")).await.body["version"]
            .as_i64()
            .unwrap();
        a.patch(
            &format!("/api/v1/areas/{chaoyang}"),
            json!({"version": v, "name": format!("朝阳社区{i}")}),
        )
        .await;
    }
    let n = app.count("SELECT COUNT(*) FROM audit_log").await;
    assert_eq!(
        verify(&app.state.db, &app.state.audit_key, None)
            .await
            .unwrap(),
        Verdict::Intact {
            rows: n,
            checkpoints: 0
        }
    );

    // Alter a row's content.
    let target = app
        .count("SELECT MIN(seq) FROM audit_log WHERE action = 'area.update'")
        .await;
    gongzhi::store::exec(
        &app.state.db,
        "UPDATE audit_log SET actor_name = 'mallory' WHERE seq = $1",
        vec![target.into()],
    )
    .await
    .unwrap();
    match verify(&app.state.db, &app.state.audit_key, None)
        .await
        .unwrap()
    {
        Verdict::Broken { seq, .. } => assert_eq!(seq, target),
        v => panic!("{v:?}"),
    }
    gongzhi::store::exec(
        &app.state.db,
        "UPDATE audit_log SET actor_name = 'admin' WHERE seq = $1",
        vec![target.into()],
    )
    .await
    .unwrap();
    assert!(matches!(
        verify(&app.state.db, &app.state.audit_key, None)
            .await
            .unwrap(),
        Verdict::Intact { .. }
    ));

    // Remove a row.
    gongzhi::store::exec(
        &app.state.db,
        "DELETE FROM audit_log WHERE seq = $1",
        vec![(target + 1).into()],
    )
    .await
    .unwrap();
    match verify(&app.state.db, &app.state.audit_key, None)
        .await
        .unwrap()
    {
        Verdict::Broken { seq, problem } => {
            assert_eq!(seq, target + 1, "{problem}");
        }
        v => panic!("{v:?}"),
    }
}

#[tokio::test]
async fn removing_the_newest_rows_is_detected() {
    let app = spawn_app().await;
    let _ = app.admin().await;
    let last = app.count("SELECT MAX(seq) FROM audit_log").await;
    gongzhi::store::exec(
        &app.state.db,
        "DELETE FROM audit_log WHERE seq = $1",
        vec![last.into()],
    )
    .await
    .unwrap();
    assert!(
        matches!(verify(&app.state.db, &app.state.audit_key, None).await.unwrap(), Verdict::Broken { seq, .. } if seq == last)
    );
}

#[tokio::test]
async fn only_admins_read_the_log_and_street_admins_see_their_scope() {
    let app = spawn_app().await;
    let a = app.admin().await;
    // Something in 东风街道 and something in 新市场街道.
    for code in ["130602001001", "130602002001"] {
        let id = app.area_id(code).await;
        let v = a.get(&format!("/api/v1/areas/{id}")).await.body["version"]
            .as_i64()
            .unwrap();
        a.patch(
            &format!("/api/v1/areas/{id}"),
            json!({"version": v, "name": format!("改名{code}")}),
        )
        .await;
    }
    assert_eq!(
        app.demo_user("shequ")
            .await
            .get("/api/v1/audit")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let j = app.demo_user("jiedao").await;
    let r = j.get("/api/v1/audit?action=area.update").await;
    assert_eq!(r.status, StatusCode::OK);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", r.text);
    assert_eq!(
        items[0]["object_id"].as_str().unwrap(),
        app.area_id("130602001001").await
    );
    let r = j.get("/api/v1/audit?from=yesterday").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn no_route_updates_or_deletes_audit_rows() {
    let app = spawn_app().await;
    let a = app.admin().await;
    for m in [
        reqwest::Method::DELETE,
        reqwest::Method::PUT,
        reqwest::Method::PATCH,
    ] {
        let r = a.send(m.clone(), "/api/v1/audit", Some(json!({}))).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{m}");
    }
    let spec: serde_json::Value = a.get("/api/openapi.json").await.body;
    for (path, item) in spec["paths"].as_object().unwrap() {
        if path.contains("audit") {
            // Signing a checkpoint (POST /audit/checkpoints) reads the head and appends one row.
            assert!(
                item.get("delete").is_none()
                    && item.get("patch").is_none()
                    && item.get("put").is_none()
                    && (item.get("post").is_none() || path == "/api/v1/audit/checkpoints"),
                "{path}"
            );
        }
    }
}
