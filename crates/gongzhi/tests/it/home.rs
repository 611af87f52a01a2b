//! Issue 14: each home page opens on the user's to-dos, counted like the lists they link to.
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

fn item<'a>(todos: &'a Value, kind: &str) -> Option<&'a Value> {
    todos["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == kind)
}

#[tokio::test]
async fn every_role_gets_its_todos_and_each_counter_agrees_with_its_list() {
    let app = spawn_app().await;
    for user in [
        "admin",
        "jiedao",
        "shequ",
        "wangge",
        "louzhang",
        "shuji",
        "bumen",
        "danwei",
        "zhiyuan",
        "jumin",
        "quji",
        "rexian",
        "shequzhuren",
    ] {
        let c = if user == "admin" {
            app.admin().await
        } else {
            app.demo_user(user).await
        };
        let t = c.get("/api/v1/me/todos").await;
        assert_eq!(t.status, StatusCode::OK, "{user}: {}", t.text);
        let kinds: Vec<&str> = t.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["kind"].as_str().unwrap())
            .collect();
        let expect: &[&str] = match user {
            "shequ" | "jiedao" | "quji" | "shequzhuren" => &[
                "cases_overdue",
                "cases_to_dispatch",
                "households_to_visit",
                "activities_to_confirm",
            ],
            "rexian" => &["cases_overdue", "cases_to_dispatch"],
            "wangge" | "louzhang" => &["households_to_visit"],
            "shuji" => &["activities_to_confirm", "reportins_overdue"],
            "jumin" => &["my_cases_open"],
            _ => &[],
        };
        for k in expect {
            assert!(kinds.contains(k), "{user} lacks {k}: {kinds:?}");
        }
        if user == "rexian" {
            assert!(
                !kinds.contains(&"households_to_visit"),
                "the 12345 centre keeps no registry"
            );
        }
        for i in t.body["items"].as_array().unwrap() {
            assert!(
                i["samples"].as_array().unwrap().len() as i64
                    <= i["count"].as_i64().unwrap().min(5)
            );
        }
        // The counters agree with the lists behind them.
        if let Some(i) = item(&t.body, "cases_to_dispatch") {
            let l = c
                .get("/api/v1/cases?queue=dispatch&status=received&page_size=1")
                .await;
            assert_eq!(i["count"], l.body["total"], "{user}");
        }
        if let Some(i) = item(&t.body, "cases_overdue") {
            let l = c.get("/api/v1/cases?queue=dispatch&status=dispatched,in_progress&overdue=true&page_size=1").await;
            assert_eq!(i["count"], l.body["total"], "{user}");
            let counts = c.get("/api/v1/cases/counts").await;
            if counts.status == StatusCode::OK {
                assert_eq!(
                    i["count"], counts.body["overdue"],
                    "{user}: the 超期 counter: {}",
                    counts.text
                );
            }
        }
        if let Some(i) = item(&t.body, "households_to_visit") {
            let l = c.get("/api/v1/registry/stale?page_size=1").await;
            assert_eq!(i["count"], l.body["total"], "{user}");
        }
        if let Some(i) = item(&t.body, "reportins_overdue") {
            let l = c.get("/api/v1/report-ins/overdue").await;
            assert_eq!(
                i["count"].as_u64(),
                l.body.as_array().map(|a| a.len() as u64),
                "{user}"
            );
        }
        if let Some(i) = item(&t.body, "cases_to_handle") {
            let l = c
                .get("/api/v1/cases?queue=handle&status=dispatched,in_progress&page_size=1")
                .await;
            assert_eq!(i["count"], l.body["total"], "{user}");
        }
    }
}
