//! 党员下沉、志愿服务、积分: activities with QR attendance and confirmed hours, the points ledger
//! (rules, reversals, donations, the catalogue, concurrent redemption), burnout limits, report-ins,
//! ratings, the work-unit portal, certificates, and a randomised run over the real store.
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;
use gongzhi::app::service::ledger::{self, Actor, NewPosting};
use gongzhi::domain::points::Kind;

const CHAOYANG: &str = "130602001001";

fn at(offset_min: i64) -> String {
    gongzhi::domain::ms_to_rfc3339(gongzhi::domain::now_ms() + offset_min * 60_000)
}

async fn new_activity(
    c: &Client,
    area: &str,
    title: &str,
    from_min: i64,
    to_min: i64,
    risky: bool,
) -> Value {
    let r = c
        .post(
            "/api/v1/activities",
            json!({"kind": "volunteer", "title": title, "area_id": area, "place": "社区广场", "starts_at": at(from_min),
                   "ends_at": at(to_min), "capacity": 50, "skills": ["助老"], "risky": risky}),
        )
        .await.expect_status(StatusCode::CREATED);
    r.body
}

/// Volunteers of the community (id, account id) without a login and free today (no shift from
/// 12 hours ago to 12 hours ahead), so the limits do not get in the way.
async fn volunteers(app: &TestApp, area: &str, n: usize) -> Vec<(String, String)> {
    #[derive(sea_orm::FromQueryResult)]
    struct V {
        id: uuid::Uuid,
        account_id: uuid::Uuid,
    }
    let now = gongzhi::domain::now_ms();
    let rows: Vec<V> = gongzhi::store::fetch_all(
        &app.state.db,
        "SELECT v.id, pa.id AS account_id FROM volunteers v JOIN point_accounts pa ON pa.volunteer_id = v.id \
         WHERE v.community_id = $1 AND v.user_id IS NULL AND NOT EXISTS (SELECT 1 FROM activity_signups s WHERE s.volunteer_id = v.id \
         AND s.status = 'signed' AND s.ends_at > $2 AND s.starts_at < $3) ORDER BY v.id LIMIT $4",
        vec![uuid::Uuid::parse_str(area).unwrap().into(), (now - 43_200_000).into(), (now + 43_200_000).into(), (n as i64).into()],
    )
    .await
    .unwrap();
    assert!(rows.len() >= n.min(10), "enough free volunteers");
    rows.into_iter()
        .map(|v| (v.id.to_string(), v.account_id.to_string()))
        .collect()
}

/// zhiyuan withdraws from the demo's shifts of today, so a test shift fits the limits.
async fn free_today(zhiyuan: &Client) {
    let me = zhiyuan.get("/api/v1/me/volunteer").await;
    let soon = gongzhi::domain::now_ms() + 12 * 3_600_000;
    for a in me.body["upcoming"].as_array().unwrap() {
        let starts = gongzhi::domain::rfc3339_to_ms(a["starts_at"].as_str().unwrap()).unwrap();
        if starts < soon && a["my_status"] == "signed" {
            zhiyuan
                .delete(&format!(
                    "/api/v1/activities/{}/signup",
                    a["id"].as_str().unwrap()
                ))
                .await
                .expect_status(StatusCode::OK);
        }
    }
}

/// One number from a query taking one id.
async fn scalar(app: &TestApp, sql: &str, id: &str) -> i64 {
    gongzhi::store::fetch_i64(
        &app.state.db,
        sql,
        vec![uuid::Uuid::parse_str(id).unwrap().into()],
    )
    .await
    .unwrap()
}

async fn invariants(app: &TestApp) {
    let (mismatched, negative, stock) = ledger::verify(&app.state.db).await.unwrap();
    assert_eq!(
        (mismatched, negative, stock),
        (0, 0, 0),
        "balances = sums of postings, none negative"
    );
}

#[tokio::test]
async fn an_activity_runs_from_sign_up_to_confirmed_hours_and_points() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let zhiyuan = app.demo_user("zhiyuan").await;
    let area = app.area_id(CHAOYANG).await;
    free_today(&zhiyuan).await;
    let a = new_activity(&shequ, &area, "测试：楼道清洁", -30, 30, false).await;
    let id = a["id"].as_str().unwrap();
    let vols = volunteers(&app, &area, 3).await;
    for (v, _) in &vols {
        shequ
            .post(
                &format!("/api/v1/activities/{id}/signups"),
                json!({"volunteer_id": v}),
            )
            .await
            .expect_status(StatusCode::CREATED);
    }
    // Assigning the same person twice is refused.
    shequ
        .post(
            &format!("/api/v1/activities/{id}/signups"),
            json!({"volunteer_id": vols[0].0}),
        )
        .await
        .expect_status(StatusCode::CONFLICT);

    // The organiser's QR code; the volunteer's phone scans it (a walk-in is signed up on the spot).
    let qr = shequ
        .get(&format!(
            "/api/v1/activities/{id}/qr?direction=in&origin=https://gz.example.cn"
        ))
        .await
        .expect_status(StatusCode::OK);
    assert!(
        qr.body["svg"].as_str().unwrap().starts_with("<?xml")
            || qr.body["svg"].as_str().unwrap().contains("<svg")
    );
    assert!(qr.body["url"]
        .as_str()
        .unwrap()
        .starts_with("https://gz.example.cn/m/checkin?t="));
    let token = qr.body["token"].as_str().unwrap().to_string();
    let me_before = zhiyuan
        .get("/api/v1/me/volunteer")
        .await
        .expect_status(StatusCode::OK);
    let r = zhiyuan
        .post("/api/v1/attendance/scan", json!({"token": token}))
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["direction"], "in");
    // A double check-in changes nothing.
    let before = scalar(
        &app,
        "SELECT CAST(checked_in AS BIGINT) FROM activities WHERE id = $1",
        id,
    )
    .await;
    let r = zhiyuan
        .post("/api/v1/attendance/scan", json!({"token": token}))
        .await
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.code(), "attendance.already_in");
    assert_eq!(
        scalar(
            &app,
            "SELECT CAST(checked_in AS BIGINT) FROM activities WHERE id = $1",
            id
        )
        .await,
        before
    );
    // A forged token (one byte changed) and garbage are 400; an expired one is 422.
    let mut forged = token.clone().into_bytes();
    let k = forged.len() - 3;
    forged[k] = if forged[k] == b'A' { b'B' } else { b'A' };
    let r = zhiyuan
        .post(
            "/api/v1/attendance/scan",
            json!({"token": String::from_utf8(forged).unwrap()}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "attendance.qr_invalid"),
        "{}",
        r.text
    );
    zhiyuan
        .post("/api/v1/attendance/scan", json!({"token": "not-a-token"}))
        .await
        .expect_status(StatusCode::BAD_REQUEST);
    let expired = gongzhi::app::service::activities::make_token(
        &app.state.keys,
        uuid::Uuid::parse_str(id).unwrap(),
        gongzhi::app::service::activities::Direction::Out,
        gongzhi::domain::now_ms() - 1,
    );
    let r = zhiyuan
        .post("/api/v1/attendance/scan", json!({"token": expired}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "attendance.qr_expired"),
        "{}",
        r.text
    );
    // Check-out before check-in is refused; the organiser checks people in by hand.
    let r = shequ
        .post(
            &format!("/api/v1/activities/{id}/attendance"),
            json!({"volunteer_id": vols[0].0, "direction": "out"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "attendance.not_in"),
        "{}",
        r.text
    );
    for (v, _) in &vols[..2] {
        shequ
            .post(
                &format!("/api/v1/activities/{id}/attendance"),
                json!({"volunteer_id": v, "direction": "in"}),
            )
            .await
            .expect_status(StatusCode::OK);
    }
    // vols[2] never comes: an unexcused absence. Half an hour passes (the check-ins move back).
    gongzhi::store::exec(&app.state.db, "UPDATE activity_signups SET checkin_at = checkin_at - 1800000 WHERE activity_id = $1 AND checkin_at IS NOT NULL", vec![uuid::Uuid::parse_str(id).unwrap().into()]).await.unwrap();
    let qr_out = shequ
        .get(&format!("/api/v1/activities/{id}/qr?direction=out"))
        .await;
    let r = zhiyuan
        .post(
            "/api/v1/attendance/scan",
            json!({"token": qr_out.body["token"]}),
        )
        .await
        .expect_status(StatusCode::OK);
    assert!(r.body["minutes"].as_i64().unwrap() >= 29, "{}", r.text);
    let r = shequ
        .post(&format!("/api/v1/activities/{id}/checkout-all"), json!({}))
        .await;
    assert_eq!(
        (r.status, r.body["checked_out"].as_i64()),
        (StatusCode::OK, Some(2)),
        "{}",
        r.text
    );
    let postings_before = app.count("SELECT COUNT(*) FROM point_postings").await;
    let r = shequ
        .post(&format!("/api/v1/activities/{id}/confirm"), json!({}))
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["absent"], 1, "{}", r.text);
    assert_eq!(
        r.body["entries"], 3,
        "every participant who came has an entry (30 minutes so far): {}",
        r.text
    );
    assert!(app.count("SELECT COUNT(*) FROM point_postings").await > postings_before);
    // Issue 15: the volunteer heard of the confirmed hours (message hub).
    let inbox = zhiyuan.get("/api/v1/me/messages?page_size=200").await;
    let kinds: Vec<&str> = inbox.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"activity.hours_confirmed"), "{kinds:?}");
    // Once only; attendance is closed afterwards.
    let r = shequ
        .post(&format!("/api/v1/activities/{id}/confirm"), json!({}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "activity.confirmed")
    );
    let r = shequ.get(&format!("/api/v1/activities/{id}/qr")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The volunteer's page shows the earned points; hours are entries, corrected by new entries.
    let me = zhiyuan.get("/api/v1/me/volunteer").await;
    assert!(
        me.body["volunteer"]["balance"].as_i64().unwrap()
            > me_before.body["volunteer"]["balance"].as_i64().unwrap(),
        "{}",
        me.text
    );
    let h = shequ
        .get(&format!("/api/v1/volunteers/{}/hours", vols[0].0))
        .await;
    let n = h.body.as_array().unwrap().len();
    let r = shequ
        .post(
            &format!("/api/v1/volunteers/{}/hours", vols[0].0),
            json!({"minutes": 15, "reason": "签到晚录", "activity_id": id}),
        )
        .await
        .expect_status(StatusCode::CREATED);
    assert_eq!(r.body.as_array().unwrap().len(), n + 1);
    shequ
        .post(
            &format!("/api/v1/volunteers/{}/hours", vols[0].0),
            json!({"minutes": -100000, "reason": "x"}),
        )
        .await
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    invariants(&app).await;
}

#[tokio::test]
async fn risky_activities_need_insurance_and_limits_refuse_with_the_reason() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let area = app.area_id(CHAOYANG).await;
    let a = new_activity(&shequ, &area, "测试：高处清理", -10, 120, true).await;
    let id = a["id"].as_str().unwrap();
    let vols = volunteers(&app, &area, 12).await;
    let v = &vols[5].0;
    shequ
        .post(
            &format!("/api/v1/activities/{id}/signups"),
            json!({"volunteer_id": v}),
        )
        .await
        .expect_status(StatusCode::CREATED);
    let r = shequ
        .post(
            &format!("/api/v1/activities/{id}/attendance"),
            json!({"volunteer_id": v, "direction": "in"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "attendance.no_insurance"),
        "{}",
        r.text
    );
    assert!(r.text.contains("第十七条"));
    shequ
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/activities/{id}/signups/{v}/insurance"),
            Some(json!({"insurer": "中国人寿", "policy_no": "ZY123"})),
        )
        .await
        .expect_status(StatusCode::OK);
    shequ
        .post(
            &format!("/api/v1/activities/{id}/attendance"),
            json!({"volunteer_id": v, "direction": "in"}),
        )
        .await
        .expect_status(StatusCode::OK);

    // Burnout: three 8-hour shifts in one week break the 20 h limit; the third is refused, with why.
    let w = &vols[6].0;
    let base = 7 * 24 * 60 * 2; // two weeks ahead: a week with nothing else
    let mut last = None;
    for d in 0..3 {
        let from = base + d * 24 * 60 * 2;
        let s = new_activity(
            &shequ,
            &area,
            &format!("测试：长班{d}"),
            from,
            from + 8 * 60,
            false,
        )
        .await;
        last = Some(
            shequ
                .post(
                    &format!("/api/v1/activities/{}/signups", s["id"].as_str().unwrap()),
                    json!({"volunteer_id": w}),
                )
                .await,
        );
        if d < 2 {
            assert_eq!(last.as_ref().unwrap().status, StatusCode::CREATED);
        }
    }
    let r = last.unwrap();
    // The two-day gaps cross a week boundary at most once; either limit is a refusal with a reason.
    if r.status != StatusCode::CREATED {
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "volunteer.limit"),
            "{}",
            r.text
        );
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("小时"),
            "{}",
            r.text
        );
    }
    // Rest between shifts: a shift 2 hours after another is refused.
    let x = &vols[7].0;
    let s1 = new_activity(&shequ, &area, "测试：早班", base + 60, base + 120, false).await;
    let s2 = new_activity(&shequ, &area, "测试：紧接", base + 240, base + 300, false).await;
    assert_eq!(
        shequ
            .post(
                &format!("/api/v1/activities/{}/signups", s1["id"].as_str().unwrap()),
                json!({"volunteer_id": x})
            )
            .await
            .status,
        StatusCode::CREATED
    );
    let r = shequ
        .post(
            &format!("/api/v1/activities/{}/signups", s2["id"].as_str().unwrap()),
            json!({"volunteer_id": x}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "volunteer.limit"),
        "{}",
        r.text
    );
    assert!(r.text.contains("休息"), "{}", r.text);
    // The volunteer may set lower limits, not higher ones.
    let zhiyuan = app.demo_user("zhiyuan").await;
    zhiyuan
        .patch(
            "/api/v1/me/volunteer/limits",
            json!({"hours_per_week": 40, "consecutive_days": 5, "rest_hours": 8}),
        )
        .await
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    let r = zhiyuan
        .patch(
            "/api/v1/me/volunteer/limits",
            json!({"hours_per_week": 6, "consecutive_days": 2, "rest_hours": 12}),
        )
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["limits"]["hours_per_week"], 6.0);
    // The panel lists people near their limits and idle ones.
    let r = shequ
        .get(&format!("/api/v1/volunteers/load?area_id={area}"))
        .await
        .expect_status(StatusCode::OK);
    assert!(r.body["near_limits"].is_array() && r.body["idle"].is_array());
}

#[tokio::test]
async fn the_ledger_refuses_bad_amounts_reverses_once_conserves_donations_and_guards_the_catalogue()
{
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let area = app.area_id(CHAOYANG).await;
    let vols = volunteers(&app, &area, 12).await;
    let (a, b) = (&vols[8].1, &vols[9].1);
    let bal = |v: Value| v["balance"].as_i64().unwrap();
    let a0 = bal(shequ
        .get(&format!("/api/v1/points/accounts/{a}"))
        .await
        .body);
    // Negative, zero and non-integer amounts are refused and change nothing.
    for amount in [json!(-5), json!(0), json!(1.5), json!("10")] {
        let r = shequ
            .post(
                "/api/v1/points/postings",
                json!({"account_id": a, "direction": "earn", "amount": amount, "note": "x"}),
            )
            .await;
        assert!(
            r.status == StatusCode::UNPROCESSABLE_ENTITY || r.status == StatusCode::BAD_REQUEST,
            "{amount}: {}",
            r.text
        );
    }
    assert_eq!(
        bal(shequ
            .get(&format!("/api/v1/points/accounts/{a}"))
            .await
            .body),
        a0
    );
    let r = shequ.post("/api/v1/points/postings", json!({"account_id": a, "direction": "earn", "amount": 500, "note": "补录：防疫志愿服务"})).await.expect_status(StatusCode::CREATED);
    let earn_id = r.body["id"].as_str().unwrap().to_string();
    // A deduction beyond the balance is refused.
    let r = shequ
        .post(
            "/api/v1/points/postings",
            json!({"account_id": a, "direction": "deduct", "amount": a0 + 501, "note": "x"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "points.not_enough"),
        "{}",
        r.text
    );
    // Reversed once.
    shequ
        .post(
            &format!("/api/v1/points/postings/{earn_id}/reverse"),
            json!({"reason": "录错了"}),
        )
        .await
        .expect_status(StatusCode::CREATED);
    let r = shequ
        .post(
            &format!("/api/v1/points/postings/{earn_id}/reverse"),
            json!({"reason": "再冲一次"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "points.already_reversed"),
        "{}",
        r.text
    );
    assert_eq!(
        bal(shequ
            .get(&format!("/api/v1/points/accounts/{a}"))
            .await
            .body),
        a0
    );
    // A donation moves points and keeps the total.
    shequ
        .post(
            "/api/v1/points/postings",
            json!({"account_id": a, "direction": "earn", "amount": 100, "note": "奖励"}),
        )
        .await;
    let total = |app: &TestApp| {
        let db = app.state.db.clone();
        async move {
            gongzhi::store::fetch_i64(
                &db,
                "SELECT CAST(SUM(balance) AS BIGINT) FROM point_accounts",
                vec![],
            )
            .await
            .unwrap()
        }
    };
    let t0 = total(&app).await;
    shequ
        .post(
            "/api/v1/points/donations",
            json!({"from_account_id": a, "to_account_id": b, "amount": 30, "note": "转赠"}),
        )
        .await
        .expect_status(StatusCode::CREATED);
    assert_eq!(total(&app).await, t0);
    let r = shequ
        .post(
            "/api/v1/points/donations",
            json!({"from_account_id": a, "to_account_id": a, "amount": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The catalogue: stock 1, two people redeem it at once, exactly one succeeds.
    let item = shequ
        .post(
            "/api/v1/catalog",
            json!({"community_id": area, "name": "测试：最后一袋米", "price": 10, "stock": 1}),
        )
        .await
        .expect_status(StatusCode::CREATED);
    let iid = item.body["id"].as_str().unwrap().to_string();
    shequ
        .post(
            "/api/v1/points/postings",
            json!({"account_id": b, "direction": "earn", "amount": 100, "note": "奖励"}),
        )
        .await;
    let redeem_path = format!("/api/v1/catalog/{iid}/redeem");
    let (r1, r2) = tokio::join!(
        shequ.post(&redeem_path, json!({"account_id": a, "qty": 1})),
        shequ.post(&redeem_path, json!({"account_id": b, "qty": 1}))
    );
    let ok = [&r1, &r2]
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    assert_eq!(ok, 1, "{} / {}", r1.text, r2.text);
    let loser = if r1.status == StatusCode::CREATED {
        &r2
    } else {
        &r1
    };
    assert_eq!(loser.code(), "catalog.not_enough_stock", "{}", loser.text);
    assert_eq!(
        scalar(&app, "SELECT stock FROM catalog_items WHERE id = $1", &iid).await,
        0
    );
    // Not enough points.
    let big = shequ
        .post(
            "/api/v1/catalog",
            json!({"community_id": area, "name": "测试：电视机", "price": 1000000, "stock": 5}),
        )
        .await;
    let r = shequ
        .post(
            &format!(
                "/api/v1/catalog/{}/redeem",
                big.body["id"].as_str().unwrap()
            ),
            json!({"account_id": a, "qty": 1}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "points.not_enough"),
        "{}",
        r.text
    );
    assert_eq!(
        scalar(
            &app,
            "SELECT stock FROM catalog_items WHERE id = $1",
            big.body["id"].as_str().unwrap()
        )
        .await,
        5,
        "stock unchanged"
    );
    // Another community's item: 春晖社区's worker (shequ2) sets one up; 朝阳's account cannot redeem it.
    let shequ2 = app.demo_user("shequ2").await;
    let c2 = app.area_id("130602002001").await;
    let other = shequ2
        .post(
            "/api/v1/catalog",
            json!({"community_id": c2, "name": "测试：春晖的油", "price": 1, "stock": 5}),
        )
        .await
        .expect_status(StatusCode::CREATED);
    let r = shequ
        .post(
            &format!(
                "/api/v1/catalog/{}/redeem",
                other.body["id"].as_str().unwrap()
            ),
            json!({"account_id": a, "qty": 1}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "out of the worker's scope: {}",
        r.text
    );
    let admin = app.admin().await;
    let r = admin
        .post(
            &format!(
                "/api/v1/catalog/{}/redeem",
                other.body["id"].as_str().unwrap()
            ),
            json!({"account_id": a, "qty": 1}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "catalog.other_community"),
        "{}",
        r.text
    );
    let zhiyuan = app.demo_user("zhiyuan").await;
    let r = zhiyuan
        .post(
            &format!(
                "/api/v1/catalog/{}/redeem",
                other.body["id"].as_str().unwrap()
            ),
            json!({"qty": 1}),
        )
        .await;
    assert!(
        r.status == StatusCode::NOT_FOUND || r.code() == "catalog.other_community",
        "{}",
        r.text
    );
    for q in [json!(0), json!(-1), json!(1.5)] {
        let r = shequ
            .post(
                &format!("/api/v1/catalog/{iid}/redeem"),
                json!({"account_id": a, "qty": q}),
            )
            .await;
        assert!(
            r.status == StatusCode::UNPROCESSABLE_ENTITY || r.status == StatusCode::BAD_REQUEST,
            "{}",
            r.text
        );
    }
    // A page number past any offset is clamped, not an overflow.
    for path in [
        "/api/v1/volunteers?page=18446744073709551615",
        "/api/v1/points/accounts?page=18446744073709551615&page_size=100000",
    ] {
        let r = shequ.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        assert!(r.body["items"].as_array().unwrap().is_empty());
    }
    invariants(&app).await;
}

#[tokio::test]
async fn random_postings_reversals_redemptions_and_donations_keep_the_ledger_sound() {
    let app = spawn_app().await;
    let db = &app.state.db;
    let actor = Actor {
        id: None,
        name: "测试".into(),
    };
    #[derive(sea_orm::FromQueryResult)]
    struct A {
        id: uuid::Uuid,
        area_id: uuid::Uuid,
    }
    let accounts: Vec<A> = gongzhi::store::fetch_all(
        db,
        "SELECT id, area_id FROM point_accounts WHERE kind = 'person' ORDER BY id LIMIT 12",
        vec![],
    )
    .await
    .unwrap();
    let community = accounts[0].area_id;
    let accounts: Vec<uuid::Uuid> = accounts
        .iter()
        .filter(|a| a.area_id == community)
        .map(|a| a.id)
        .collect();
    let item = uuid::Uuid::now_v7();
    gongzhi::store::exec(
        db,
        "INSERT INTO catalog_items (id, community_id, name, description, price, stock, active, version, created_at, updated_at) VALUES ($1, $2, '测试', '', 7, 20, TRUE, 1, 0, 0)",
        vec![item.into(), community.into()],
    )
    .await
    .unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20261201);
    let mut earned: Vec<uuid::Uuid> = vec![];
    let t0 = gongzhi::store::fetch_i64(
        db,
        "SELECT CAST(COALESCE(SUM(balance), 0) AS BIGINT) FROM point_accounts",
        vec![],
    )
    .await
    .unwrap();
    let mut expected_delta = 0i64;
    let (mut refused, mut done) = (0, 0);
    for _ in 0..300 {
        let a = accounts[rng.gen_range(0..accounts.len())];
        let b = accounts[rng.gen_range(0..accounts.len())];
        let tx = gongzhi::store::write_tx(db).await.unwrap();
        let r: Result<i64, gongzhi::error::AppError> = match rng.gen_range(0..5) {
            0 => {
                let n = rng.gen_range(1..50);
                let r =
                    ledger::post(&tx, &actor, NewPosting::new(a, n, Kind::Earn, "manual"), 1).await;
                if let Ok(id) = &r {
                    earned.push(*id);
                }
                r.map(|_| n)
            }
            1 => {
                let n = rng.gen_range(1..60);
                ledger::post(
                    &tx,
                    &actor,
                    NewPosting::new(a, -n, Kind::Deduct, "manual"),
                    1,
                )
                .await
                .map(|_| -n)
            }
            2 if !earned.is_empty() => {
                let p = earned[rng.gen_range(0..earned.len())];
                #[derive(sea_orm::FromQueryResult)]
                struct P {
                    account_id: uuid::Uuid,
                    amount: i64,
                }
                let orig: P = gongzhi::store::fetch_opt(
                    &tx,
                    "SELECT account_id, amount FROM point_postings WHERE id = $1",
                    vec![p.into()],
                )
                .await
                .unwrap()
                .unwrap();
                ledger::post(
                    &tx,
                    &actor,
                    NewPosting {
                        reverses_id: Some(p),
                        ..NewPosting::new(orig.account_id, -orig.amount, Kind::Reversal, "reversal")
                    },
                    1,
                )
                .await
                .map(|_| -orig.amount)
            }
            3 => ledger::redeem_in(
                &tx,
                &actor,
                item,
                7,
                "测试",
                community,
                a,
                rng.gen_range(1..3),
                1,
            )
            .await
            .map(|(_, c)| -c),
            _ if a != b => {
                let n = rng.gen_range(1..30);
                match ledger::post(
                    &tx,
                    &actor,
                    NewPosting::new(a, -n, Kind::TransferOut, "donation"),
                    1,
                )
                .await
                {
                    Ok(_) => ledger::post(
                        &tx,
                        &actor,
                        NewPosting::new(b, n, Kind::TransferIn, "donation"),
                        1,
                    )
                    .await
                    .map(|_| 0),
                    Err(e) => Err(e),
                }
            }
            _ => Ok(0),
        };
        match r {
            Ok(d) => {
                tx.commit().await.unwrap();
                expected_delta += d;
                done += 1;
            }
            Err(_) => {
                drop(tx); // rolled back: nothing of a refused change stays
                refused += 1;
            }
        }
        invariants(&app).await;
    }
    assert!(
        done > 100 && refused > 5,
        "a mix of accepted ({done}) and refused ({refused}) changes"
    );
    let t1 = gongzhi::store::fetch_i64(
        db,
        "SELECT CAST(COALESCE(SUM(balance), 0) AS BIGINT) FROM point_accounts",
        vec![],
    )
    .await
    .unwrap();
    assert_eq!(t1 - t0, expected_delta, "transfers conserve points; only earnings, deductions, reversals and redemptions change the total");
    let stock = scalar(
        &app,
        "SELECT stock FROM catalog_items WHERE id = $1",
        &item.to_string(),
    )
    .await;
    let sold = scalar(
        &app,
        "SELECT CAST(COALESCE(SUM(qty), 0) AS BIGINT) FROM redemptions WHERE item_id = $1",
        &item.to_string(),
    )
    .await;
    assert_eq!(stock + sold, 20, "stock falls exactly by what was redeemed");
}

#[tokio::test]
async fn report_ins_ratings_work_units_and_certificates() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let area = app.area_id(CHAOYANG).await;
    // The overdue list holds in-service members whose report-in expired; a new report-in clears one.
    let r = shequ
        .get(&format!("/api/v1/report-ins/overdue?area_id={area}"))
        .await
        .expect_status(StatusCode::OK);
    let overdue = r.body.as_array().unwrap().clone();
    let m = overdue
        .iter()
        .find(|o| !o["member_id"].is_null())
        .expect("an overdue member in the demo");
    let mid = m["member_id"].as_str().unwrap();
    let r = shequ.post("/api/v1/report-ins", json!({"member_id": mid, "community_id": area, "reported_on": "2026-11-30", "commitment": "每月参加一次志愿服务"})).await.expect_status(StatusCode::CREATED);
    assert_eq!(r.body["valid_until"], "2027-05-30");
    let r = shequ
        .get(&format!("/api/v1/report-ins/overdue?area_id={area}"))
        .await;
    assert!(!r
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["member_id"] == mid));
    for bad in [
        json!({"member_id": mid, "community_id": area, "reported_on": "2026-13-40", "commitment": "x"}),
        json!({"community_id": area, "reported_on": "2026-11-30", "commitment": "x"}),
    ] {
        assert_eq!(
            shequ.post("/api/v1/report-ins", bad).await.status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    // Ratings: the rule holds an overdue in-service member at 基本合格 at most.
    let year = gongzhi::domain::calendar::local_date(gongzhi::domain::now_ms()).year();
    let roll = shequ
        .get(&format!(
            "/api/v1/party-members?area_id={area}&kind=in_service&page_size=200"
        ))
        .await;
    let still = roll.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| {
            m["overdue"] == true
                && m["id"] != mid
                && m["exempt_reason"].is_null()
                && m["age"].as_i64().unwrap_or(0) < 70
        })
        .map(|m| m["id"].as_str().unwrap().to_string());
    assert!(
        still.is_some(),
        "the demo has an overdue, not exempt member: {}",
        roll.text
    );
    if let Some(other) = &still {
        // A top review score: without the rule this member would be rated well.
        shequ
            .send(
                reqwest::Method::PUT,
                "/api/v1/party-reviews",
                Some(json!({"member_id": other, "year": year, "score": 100})),
            )
            .await
            .expect_status(StatusCode::NO_CONTENT);
        shequ.post("/api/v1/points/postings", json!({"account_id": member_account(&app, other).await, "direction": "earn", "amount": 200, "note": "测试"})).await;
    }
    let r = shequ
        .post(
            "/api/v1/party-ratings/compute",
            json!({"area_id": area, "year": year}),
        )
        .await
        .expect_status(StatusCode::OK);
    assert!(r.body["rated"].as_i64().unwrap() > 10);
    let r = shequ
        .get(&format!(
            "/api/v1/party-ratings?area_id={area}&year={year}&page_size=200"
        ))
        .await;
    // Filtered by grade: only that grade, and no more than all of them.
    let basic = shequ
        .get(&format!(
            "/api/v1/party-ratings?area_id={area}&year={year}&grade=basic&page_size=200"
        ))
        .await
        .expect_status(StatusCode::OK);
    assert!(basic.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["grade"] == "basic"));
    assert!(basic.body["total"].as_i64() <= r.body["total"].as_i64());
    let none = shequ
        .get(&format!(
            "/api/v1/commendations?volunteer_id={}",
            uuid::Uuid::nil()
        ))
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(none.body["total"], 0);
    if let Some(other) = &still {
        let row = r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["member_id"] == other.as_str())
            .expect("rated")
            .clone();
        assert_eq!(
            (row["grade"].as_str(), row["capped"].as_bool()),
            (Some("basic"), Some(true)),
            "{row}"
        );
    }
    assert_eq!(
        shequ
            .post(
                "/api/v1/party-ratings/compute",
                json!({"area_id": area, "year": year + 1})
            )
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // The work unit's contact sees its own members only, as JSON, XLSX and PDF.
    let danwei = app.demo_user("danwei").await;
    let r = danwei
        .get("/api/v1/work-unit/assessment")
        .await
        .expect_status(StatusCode::OK);
    let members = r.body["members"].as_array().unwrap();
    assert!(!members.is_empty());
    let hospital_members = app
        .count("SELECT COUNT(*) FROM party_members WHERE work_unit_org_id IS NOT NULL")
        .await;
    assert_eq!(members.len() as i64, hospital_members);
    for fmt in ["xlsx", "pdf"] {
        let r = danwei
            .send_raw(
                reqwest::Method::GET,
                &format!("/api/v1/work-unit/sheet?format={fmt}"),
                vec![],
                "application/octet-stream",
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let magic = if fmt == "pdf" { "%PDF" } else { "PK" };
        assert!(
            r.text.starts_with(magic)
                || r.headers["content-type"]
                    .to_str()
                    .unwrap()
                    .contains(if fmt == "pdf" { "pdf" } else { "sheet" })
        );
    }
    let one = members[0]["member_id"].as_str().unwrap();
    let r = danwei
        .get(&format!("/api/v1/work-unit/members/{one}/sheet?format=pdf"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // Not one of the unit's members: not found. Other routes: forbidden.
    let r = danwei
        .get(&format!("/api/v1/work-unit/members/{mid}/sheet?format=pdf"))
        .await;
    if !members.iter().any(|x| x["member_id"] == mid) {
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(
        danwei.get("/api/v1/volunteers").await.status,
        StatusCode::FORBIDDEN
    );
    // A worker without a unit of their own is asked to choose one; a volunteer is told there is none.
    assert_eq!(
        shequ.get("/api/v1/work-unit/assessment").await.code(),
        "validation"
    );
    assert_eq!(
        app.demo_user("jumin")
            .await
            .get("/api/v1/work-unit/assessment")
            .await
            .code(),
        "unit.no_unit"
    );
    assert_eq!(
        danwei
            .get("/api/v1/work-unit/sheet?format=doc")
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Certificates: issued, printable, checkable by number without signing in (masked).
    let zhiyuan = app.demo_user("zhiyuan").await;
    let r = zhiyuan
        .post("/api/v1/me/certificate", json!({}))
        .await
        .expect_status(StatusCode::CREATED);
    let number = r.body["number"].as_str().unwrap().to_string();
    assert!(number.starts_with("ZYZM-"));
    let pdf = zhiyuan
        .get(&format!(
            "/api/v1/certificates/{}/pdf",
            r.body["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(pdf.status, StatusCode::OK);
    let name = r.body["name"].as_str().unwrap().to_string();
    let c = app
        .anon()
        .get(&format!("/api/v1/public/certificates/{number}"))
        .await
        .expect_status(StatusCode::OK);
    assert_ne!(c.body["name"], name.as_str(), "masked");
    assert!(c.body["name"]
        .as_str()
        .unwrap()
        .starts_with(name.chars().next().unwrap()));
    assert_eq!(
        app.anon()
            .get("/api/v1/public/certificates/ZYZM-2026-NOTREAL1")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.anon()
            .get("/api/v1/public/certificates/%27%20OR%201%3D1")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    invariants(&app).await;
}

async fn member_account(app: &TestApp, member: &str) -> String {
    #[derive(sea_orm::FromQueryResult)]
    struct I {
        id: uuid::Uuid,
    }
    app.one::<I>("SELECT pa.id FROM point_accounts pa JOIN party_members m ON m.volunteer_id = pa.volunteer_id WHERE m.id = $1",
        vec![uuid::Uuid::parse_str(member).unwrap().into()]).await
    .id
    .to_string()
}

/// Exports of an area and a date range: the visit log, service hours and points ledgers, each a
/// workbook with a row per record; another community's area is 404; each export audited.
#[tokio::test]
async fn visit_logs_service_hours_and_ledgers_export_as_workbooks() {
    use calamine::{Reader, Xlsx};
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let community = app.area_id("130602001001").await;
    let other = app.area_id("130602002001").await;
    let fetch = |path: String| {
        let c = shequ.clone();
        async move {
            let r = c
                .http
                .get(format!("{}{path}", c.base))
                .bearer_auth(c.token.as_deref().unwrap())
                .send()
                .await
                .unwrap();
            (r.status(), r.bytes().await.unwrap().to_vec())
        }
    };
    let rows_of = |bytes: &[u8]| -> Vec<Vec<String>> {
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let r = wb.worksheet_range_at(0).unwrap().unwrap();
        r.rows()
            .map(|x| x.iter().map(|c| c.to_string()).collect())
            .collect()
    };
    for (path, head, table) in [
        ("visits", "走访日期", "visits v JOIN areas a ON a.id = v.community_id WHERE a.code = '130602001001'"),
        ("service-hours", "日期", "service_hours h JOIN volunteers v ON v.id = h.volunteer_id JOIN areas a ON a.id = v.community_id WHERE a.code = '130602001001'"),
        ("postings", "时间", "point_postings p JOIN point_accounts c ON c.id = p.account_id WHERE c.area_id IN (SELECT descendant_id FROM area_closure x JOIN areas a ON a.id = x.ancestor_id WHERE a.code = '130602001001')"),
    ] {
        let (st, bytes) = fetch(format!("/api/v1/exports/{path}.xlsx?area_id={community}")).await;
        assert_eq!(st, StatusCode::OK, "{path}: {}", String::from_utf8_lossy(&bytes));
        let rows = rows_of(&bytes);
        assert_eq!(rows[0][0], head, "{path}");
        let n = app.count(&format!("SELECT COUNT(*) FROM {table}")).await;
        assert!(n > 0, "{path}: the demo has records");
        assert_eq!(rows.len() as i64 - 1, n, "{path}: one row per record");
        // Another community: not found.
        let (st, _) = fetch(format!("/api/v1/exports/{path}.xlsx?area_id={other}")).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
    }
    // A date range narrows; a reversed one is refused.
    let (st, bytes) = fetch("/api/v1/exports/visits.xlsx?to=2000-01-01".into()).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(rows_of(&bytes).len(), 1, "only the header");
    let (st, _) = fetch("/api/v1/exports/visits.xlsx?from=2026-02-01&to=2026-01-01".into()).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    for action in ["visit.export", "service_hours.export", "points.export"] {
        assert!(
            app.count(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = '{action}'"
            ))
            .await
                >= 1,
            "{action}"
        );
    }
}

/// A points account's update time is its latest change: points carried over from the paper
/// ledger (backdated) do not move it back, so accounts show when they really changed.
#[tokio::test]
async fn an_accounts_update_time_never_moves_back() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let r = shequ
        .get("/api/v1/points/accounts?kind=person&page_size=100")
        .await
        .expect_status(StatusCode::OK);
    let times: std::collections::BTreeSet<String> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["updated_at"].as_str().map(str::to_string))
        .collect();
    assert!(
        times.len() > 1,
        "every account shows the same time: {times:?}"
    );
    // Every account's time is that of its latest posting.
    let stale = app
        .count(
            "SELECT COUNT(*) FROM point_accounts a WHERE EXISTS (SELECT 1 FROM point_postings p \
             WHERE p.account_id = a.id AND p.at > a.updated_at)",
        )
        .await;
    assert_eq!(stale, 0);
}

/// The activity list's filters (status, kind, a time window) each narrow the list as they say.
#[tokio::test]
async fn the_activity_list_filters_by_status_kind_and_time() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let all = shequ
        .get("/api/v1/activities?page_size=200")
        .await
        .expect_status(StatusCode::OK);
    let total = all.body["total"].as_i64().unwrap();
    assert!(total > 0, "the demo has activities");
    let now = time::OffsetDateTime::now_utc();
    let mut parts = 0;
    for status in ["upcoming", "past", "unconfirmed", "open", "cancelled"] {
        let r = shequ
            .get(&format!("/api/v1/activities?status={status}&page_size=200"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{status}: {}", r.text);
        let n = r.body["total"].as_i64().unwrap();
        assert!(n <= total, "{status}");
        for a in r.body["items"].as_array().unwrap() {
            let ends = time::OffsetDateTime::parse(
                a["ends_at"].as_str().unwrap(),
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap();
            match status {
                "upcoming" => assert!(ends >= now && a["status"] == "open", "{a}"),
                "past" | "unconfirmed" => assert!(ends < now, "{a}"),
                s => assert_eq!(a["status"], s, "{a}"),
            }
        }
        if matches!(status, "upcoming" | "past") {
            parts += n;
        }
    }
    assert!(parts <= total);
    let kind = all.body["items"][0]["kind"].as_str().unwrap().to_string();
    let by_kind = shequ
        .get(&format!("/api/v1/activities?kind={kind}&page_size=200"))
        .await;
    assert!(by_kind.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["kind"] == kind.as_str()));
    let from = "2026-01-01T00:00:00%2B08:00";
    let window = shequ
        .get(&format!("/api/v1/activities?from={from}&page_size=200"))
        .await
        .expect_status(StatusCode::OK);
    assert!(window.body["total"].as_i64().unwrap() <= total);
    shequ
        .get("/api/v1/activities?from=yesterday")
        .await
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
}
