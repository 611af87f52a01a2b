//! Several `gongzhi serve` processes on one database, and the binary's own behaviour.
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

pub struct Proc(pub Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn start(url: &str, dir: &std::path::Path, port: u16) -> Proc {
    Proc(
        Command::new(env!("CARGO_BIN_EXE_gongzhi"))
            .arg("serve")
            .env("GONGZHI_DATABASE_URL", url)
            .env("GONGZHI_DATA_DIR", dir)
            .env("GONGZHI_ADDR", format!("127.0.0.1:{port}"))
            .env("GONGZHI_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("GONGZHI_MASTER_KEY", "22".repeat(32))
            .env("GONGZHI_AUDIT_KEY", AUDIT_KEY_HEX)
            .env("GONGZHI_AUTH_CACHE_MS", "0")
            .env("GONGZHI_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start gongzhi"),
    )
}

pub async fn wait_ready(base: &str) {
    for _ in 0..200 {
        if let Ok(r) = reqwest::get(format!("{base}/readyz")).await {
            if r.status() == StatusCode::OK {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{base} did not become ready");
}

#[tokio::test]
async fn two_instances_share_sessions_lockouts_and_the_audit_chain() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(dir.path()).await;
    let (p1, p2) = (free_port(), free_port());
    let _a = start(&url, dir.path(), p1);
    let _b = start(&url, dir.path(), p2);
    let (a, b) = (
        format!("http://127.0.0.1:{p1}"),
        format!("http://127.0.0.1:{p2}"),
    );
    wait_ready(&a).await;
    wait_ready(&b).await;
    let http = reqwest::Client::new();

    // Log in on A, use the token on B.
    let r: serde_json::Value = http
        .post(format!("{a}/api/v1/auth/login"))
        .json(&json!({"username": "shequ", "password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = r["token"].as_str().unwrap().to_string();
    let me = http
        .get(format!("{b}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    // Log out on B; A no longer accepts it.
    http.post(format!("{b}/api/v1/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let me = http
        .get(format!("{a}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);

    // Failed logins spread over both instances bar this address for the name on both: even the
    // right password gets the wrong-password answer (the owner elsewhere is not affected).
    for i in 0..5 {
        let base = if i % 2 == 0 { &a } else { &b };
        http.post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": "jiedao", "password": "Wrong#pass1"}))
            .send()
            .await
            .unwrap();
    }
    let r = http
        .post(format!("{b}/api/v1/auth/login"))
        .json(&json!({"username": "jiedao", "password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Concurrent writes through both instances form one intact audit chain.
    let admin: serde_json::Value = http
        .post(format!("{a}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let at = admin["token"].as_str().unwrap().to_string();
    let mut tasks = vec![];
    for i in 0..20 {
        let (http, at) = (http.clone(), at.clone());
        let base = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let parent = http.get(format!("{base}/api/v1/areas?q=130602001001&kind=community")).bearer_auth(&at).send().await.unwrap();
            let parent: serde_json::Value = parent.json().await.unwrap();
            let pid = parent[0]["id"].as_str().unwrap().to_string();
            http.post(format!("{base}/api/v1/areas"))
                .bearer_auth(&at)
                .json(&json!({"parent_id": pid, "kind": "grid", "name": format!("并发网格{i}"), "code": format!("130602001001{:03}", 200 + i)}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::CREATED);
    }
    let s = gongzhi::config::Settings::for_database(&url, dir.path());
    let db = gongzhi::store::connect(&s).await.unwrap();
    assert!(matches!(
        gongzhi::app::audit::verify(&db, &audit_key(), None)
            .await
            .unwrap(),
        gongzhi::app::audit::Verdict::Intact { .. }
    ));
    let n = gongzhi::store::fetch_i64(
        &db,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'area.create'",
        vec![],
    )
    .await
    .unwrap();
    assert_eq!(n, 20);
}

#[test]
fn an_invalid_setting_is_one_line_naming_it_and_exit_code_2() {
    for (var, value, name) in [
        ("GONGZHI_ADDR", "not-an-address", "GONGZHI_ADDR"),
        ("GONGZHI_DATABASE_URL", "mysql://x", "GONGZHI_DATABASE_URL"),
        ("GONGZHI_MASTER_KEY", "abc", "GONGZHI_MASTER_KEY"),
        (
            "GONGZHI_SESSION_IDLE_MINUTES",
            "soon",
            "GONGZHI_SESSION_IDLE_MINUTES",
        ),
        (
            "GONGZHI_ADMIN_PASSWORD",
            "password",
            "GONGZHI_ADMIN_PASSWORD",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_gongzhi"))
            .arg("migrate")
            .env(var, value)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{var}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(name), "{err}");
    }
}

#[test]
fn serve_help_documents_every_setting() {
    let out = Command::new(env!("CARGO_BIN_EXE_gongzhi"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for v in [
        "GONGZHI_ADDR",
        "GONGZHI_DATABASE_URL",
        "GONGZHI_DATA_DIR",
        "GONGZHI_ADMIN_PASSWORD",
        "GONGZHI_MASTER_KEY",
        "GONGZHI_SESSION_IDLE_MINUTES",
    ] {
        assert!(help.contains(v), "{v} missing from serve --help");
    }
}

#[tokio::test]
async fn cli_commands_manage_users_tokens_and_verify_the_audit_chain() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(dir.path()).await;
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_gongzhi"))
            .args(args)
            .env("GONGZHI_DATABASE_URL", &url)
            .env("GONGZHI_DATA_DIR", dir.path())
            .env("GONGZHI_NEW_PASSWORD", "Cli#Pass2026")
            .env("GONGZHI_AUDIT_KEY", AUDIT_KEY_HEX)
            .env("GONGZHI_LOG", "warn")
            .output()
            .unwrap()
    };
    let out = run(&[
        "user",
        "add",
        "cli.user",
        "--grant",
        "community_worker@130602001001",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["user", "list"]);
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(
        list.contains("cli.user") && list.contains("community_worker@朝阳社区"),
        "{list}"
    );
    let out = run(&["user", "disable", "cli.user"]);
    assert!(out.status.success());
    let out = run(&[
        "token",
        "create",
        "热线",
        "--grant",
        "department_handler@130602000000",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("gz_"), "{text}");
    let out = run(&["audit", "verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("intact"));
    // Tamper, and verify fails naming the row.
    let s = gongzhi::config::Settings::for_database(&url, dir.path());
    let db = gongzhi::store::connect(&s).await.unwrap();
    gongzhi::store::exec(
        &db,
        "UPDATE audit_log SET detail = 'x' WHERE seq = 3",
        vec![],
    )
    .await
    .unwrap();
    let out = run(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("row 3"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
