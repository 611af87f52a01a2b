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
    let l = list(&shequ, "").await.expect_status(StatusCode::OK);
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
    shequ
        .post(
            "/api/v1/community-channels",
            json!({"community_id": outside, "kind": "微信群", "name": "x", "audience": "y"}),
        )
        .await
        .expect_status(StatusCode::NOT_FOUND);
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
        .await.expect_status(StatusCode::CREATED);
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
    merge(
        &shequ,
        json!({"version": v, "reason": "重复建群", "into_id": group["id"]}),
    )
    .await
    .expect_status(StatusCode::FORBIDDEN);
    merge(
        &jiedao,
        json!({"version": v, "reason": " ", "into_id": group["id"]}),
    )
    .await
    .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    // Another community of the same street: seen by the street, but not this channel's community.
    let street = app.area_id("130602001000").await;
    let admin = app.admin().await;
    let n = admin
        .post("/api/v1/areas", json!({"parent_id": street, "kind": "community", "name": "向阳社区", "code": "130602001009"}))
        .await.expect_status(StatusCode::CREATED);
    let e = jiedao
        .post(
            "/api/v1/community-channels",
            json!({"community_id": n.body["id"], "kind": "微信群", "name": "向阳社区居民群", "audience": "向阳社区全体居民"}),
        )
        .await.expect_status(StatusCode::CREATED);
    let elsewhere = e.body["id"].clone();
    let r = merge(
        &jiedao,
        json!({"version": v, "reason": "重复建群", "into_id": elsewhere}),
    )
    .await
    .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("同一社区"), "{}", r.text);
    let r = merge(
        &jiedao,
        json!({"version": v, "reason": "重复建群，成员已并入居民群", "into_id": group["id"]}),
    )
    .await
    .expect_status(StatusCode::OK);
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

/// Issue 15 point 7: the register's activity from a sheet — the template, a dry run naming the
/// bad rows, all-or-nothing, a GBK file from Excel, another community's rows refused, and the
/// rules seeing the new activity.
#[tokio::test]
async fn channel_activity_is_imported_from_a_sheet_and_the_rules_see_it() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let community = app.area_id(CHAOYANG).await;
    let t = shequ
        .get("/api/v1/community-channels/import/template.xlsx")
        .await;
    assert_eq!(t.status, StatusCode::OK);
    assert!(t.text.starts_with("PK"));
    let before = shequ
        .get(&format!(
            "/api/v1/community-channels?area_id={community}&page_size=200"
        ))
        .await;
    let twin = by_name(&before.body, "居民二群").clone();
    assert!(twin["flags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "inactive"));
    let twin_name = twin["name"].as_str().unwrap().to_string();
    let today = time::OffsetDateTime::now_utc().date();
    let up = |mode: &str, body: Vec<u8>| {
        let (c, path) = (
            shequ.clone(),
            format!("/api/v1/community-channels/import?mode={mode}"),
        );
        async move {
            c.send_raw(reqwest::Method::POST, &path, body, "text/csv")
                .await
        }
    };
    let sheet = format!(
        "社区,渠道名称,类型,服务对象,用途,负责人,成员数,上月发帖数,最近活跃日期\n\
         {CHAOYANG},{twin_name},,,,,312,45,{today}\n\
         {CHAOYANG},朝阳社区志愿者群,微信群,社区志愿者,活动召集,吴强,88,12,{today}\n\
         {CHAOYANG},没有类型的群,,某楼,,,,,\n\
         {CHAOYANG},成员数不对,微信群,某楼,,,很多,,\n\
         130606001001,外区的群,微信群,和平社区,,,10,1,{today}\n\
         {CHAOYANG},朝阳社区志愿者群,微信群,社区志愿者,,,1,1,\n"
    );
    let rows_before = app.count("SELECT COUNT(*) FROM community_channels").await;
    let r = up("dry_run", sheet.clone().into_bytes())
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["status"], "dry_run");
    assert_eq!(r.body["rows"], 6);
    assert_eq!(r.body["error_rows"], 4, "{}", r.text);
    let problem_rows: Vec<i64> = r.body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["row"].as_i64().unwrap())
        .collect();
    for row in [4, 5, 6, 7] {
        assert!(problem_rows.contains(&row), "row {row}: {}", r.text);
    }
    assert!(
        r.text.contains("无权维护"),
        "another community's row: {}",
        r.text
    );
    let r = up("commit", sheet.clone().into_bytes()).await;
    assert_eq!(r.body["status"], "rejected", "{}", r.text);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM community_channels").await,
        rows_before,
        "all or nothing"
    );
    // The good rows, saved by Excel in GBK.
    let (gbk, _, _) = encoding_rs::GBK.encode(&sheet);
    let r = up("commit_valid", gbk.into_owned())
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["status"], "committed", "{}", r.text);
    assert_eq!(
        (r.body["created"].as_i64(), r.body["updated"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(r.body["skipped_rows"], 4);
    let after = shequ
        .get(&format!(
            "/api/v1/community-channels?area_id={community}&page_size=200"
        ))
        .await;
    let twin = by_name(&after.body, "居民二群");
    assert_eq!(twin["posts_last_month"], 45);
    assert_eq!(twin["members"], 312);
    assert!(
        !twin["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "inactive"),
        "active again: {twin}"
    );
    let added = by_name(&after.body, "志愿者群");
    assert_eq!(added["kind"], "wechat_group");
    assert_eq!(added["owner_name"], "吴强");
    // Not a sheet, not the caller's: refused.
    up("dry_run", b"PK\x03\x04broken".to_vec())
        .await
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    // A grid worker keeps the registry of a grid, not a community's channels.
    let n = app.count("SELECT COUNT(*) FROM community_channels").await;
    let wangge = app.demo_user("wangge").await;
    let r = wangge
        .send_raw(
            reqwest::Method::POST,
            "/api/v1/community-channels/import?mode=commit",
            sheet.into_bytes(),
            "text/csv",
        )
        .await;
    assert_eq!(r.body["status"], "rejected", "{}", r.text);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM community_channels").await,
        n
    );
    assert!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'channel.import'")
            .await
            == 1
    );
}
