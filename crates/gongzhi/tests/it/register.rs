//! Issue 15: 渠道台账 — each community's channels, the rules that flag dead ones (僵尸号/群), and
//! the street's recorded decisions to retire or merge them.
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

const CHAOYANG: &str = "130602001001";

fn by_name<'a>(page: &'a Value, suffix: &str) -> &'a Value {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str().unwrap().ends_with(suffix))
        .unwrap_or_else(|| panic!("a channel named …{suffix}"))
}

#[tokio::test]
async fn the_register_flags_dead_channels_and_the_street_retires_or_merges_them() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let jiedao = app.demo_user("jiedao").await;
    let community = app.area_id(CHAOYANG).await;
    let list = |c: &Client, extra: &str| {
        let (c, path) = (
            c.clone(),
            format!("/api/v1/community-channels?area_id={community}&page_size=200{extra}"),
        );
        async move { c.get(&path).await }
    };
    let l = list(&shequ, "").await;
    assert_eq!(l.status, StatusCode::OK, "{}", l.text);
    // The demo: a clean official account, a residents' group and its dead twin, a video channel
    // nobody answers for.
    let official = by_name(&l.body, "服务号");
    assert_eq!(official["flags"], json!([]), "{official}");
    let twin = by_name(&l.body, "居民二群").clone();
    assert_eq!(
        twin["flags"],
        json!(["inactive", "duplicate", "no_owner"]),
        "{twin}"
    );
    let group = by_name(&l.body, "居民群").clone();
    assert_eq!(group["flags"], json!(["duplicate"]));
    let video = by_name(&l.body, "视频号");
    assert!(video["flags"]
        .as_array()
        .unwrap()
        .contains(&json!("no_owner")));
    assert_eq!(l.body["flagged"], 3);
    let f = list(&shequ, "&flagged=true").await;
    assert_eq!(f.body["total"], 3, "the counter and the flagged list agree");

    // Community workers keep the register; bad input changes nothing.
    let before = app.count("SELECT COUNT(*) FROM community_channels").await;
    for bad in [
        json!({"community_id": community, "kind": "论坛", "name": "x", "audience": "y"}),
        json!({"community_id": community, "kind": "微信群", "name": "", "audience": "y"}),
        json!({"community_id": community, "kind": "微信群", "name": "x", "audience": "y", "last_active_on": "2999-01-01"}),
        json!({"community_id": community, "kind": "微信群", "name": "x", "audience": "y", "members": -1}),
    ] {
        let r = shequ.post("/api/v1/community-channels", bad.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.text
        );
    }
    let outside = app.area_id("130602002001").await;
    let r = shequ
        .post(
            "/api/v1/community-channels",
            json!({"community_id": outside, "kind": "微信群", "name": "x", "audience": "y"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM community_channels").await,
        before
    );
    let r = shequ
        .post(
            "/api/v1/community-channels",
            json!({"community_id": community, "kind": "企业微信群", "name": "朝阳社区楼长群", "audience": "朝阳社区楼长",
                   "owner_name": "王芳", "members": 36, "posts_last_month": 20, "last_active_on": "2026-12-01"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["flags"], json!([]));

    // Only the street decides, with a reason; a merge goes to an active channel of the community.
    let merge = |c: &Client, body: Value| {
        let (c, path) = (
            c.clone(),
            format!(
                "/api/v1/community-channels/{}/merge",
                twin["id"].as_str().unwrap()
            ),
        );
        async move { c.post(&path, body).await }
    };
    let v = twin["version"].as_i64().unwrap();
    let r = merge(
        &shequ,
        json!({"version": v, "reason": "重复建群", "into_id": group["id"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = merge(
        &jiedao,
        json!({"version": v, "reason": " ", "into_id": group["id"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    // Another community of the same street: seen by the street, but not this channel's community.
    let street = app.area_id("130602001000").await;
    let admin = app.admin().await;
    let n = admin
        .post("/api/v1/areas", json!({"parent_id": street, "kind": "community", "name": "向阳社区", "code": "130602001009"}))
        .await;
    assert_eq!(n.status, StatusCode::CREATED, "{}", n.text);
    let e = jiedao
        .post(
            "/api/v1/community-channels",
            json!({"community_id": n.body["id"], "kind": "微信群", "name": "向阳社区居民群", "audience": "向阳社区全体居民"}),
        )
        .await;
    assert_eq!(e.status, StatusCode::CREATED, "{}", e.text);
    let elsewhere = e.body["id"].clone();
    let r = merge(
        &jiedao,
        json!({"version": v, "reason": "重复建群", "into_id": elsewhere}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("同一社区"), "{}", r.text);
    let r = merge(
        &jiedao,
        json!({"version": v, "reason": "重复建群，成员已并入居民群", "into_id": group["id"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "merged");
    assert_eq!(r.body["merged_into"], group["id"]);
    assert_eq!(r.body["decision"], "重复建群，成员已并入居民群");
    // With its twin gone, the group is no longer a duplicate; the count follows.
    let l = list(&shequ, "").await;
    assert_eq!(by_name(&l.body, "居民群")["flags"], json!([]));
    assert_eq!(l.body["flagged"], 1);
    let all = list(&shequ, "&status=merged").await;
    assert_eq!(all.body["total"], 1);
    // Sixteen street admins retire the video channel at once: one decision is recorded.
    let video = by_name(&l.body, "视频号").clone();
    let mut tasks = vec![];
    for k in 0..16 {
        let (c, id, v) = (
            jiedao.clone(),
            video["id"].as_str().unwrap().to_string(),
            video["version"].clone(),
        );
        tasks.push(tokio::spawn(async move {
            c.post(
                &format!("/api/v1/community-channels/{id}/retire"),
                json!({"version": v, "reason": format!("无人负责，停用（{k}）")}),
            )
            .await
            .status
        }));
    }
    let mut ok = 0;
    for t in tasks {
        let s = t.await.unwrap();
        assert!(
            s == StatusCode::OK
                || s == StatusCode::CONFLICT
                || s == StatusCode::UNPROCESSABLE_ENTITY,
            "{s}"
        );
        ok += (s == StatusCode::OK) as i32;
    }
    assert_eq!(ok, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'channel.retire'")
            .await,
        1
    );
    assert_eq!(list(&shequ, "").await.body["flagged"], 0);
    assert!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'channel.merge'")
            .await
            == 1
    );
}
