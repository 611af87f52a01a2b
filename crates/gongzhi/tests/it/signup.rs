//! Issue 15 point 8: a resident signs up with a mobile and an SMS code (sent through Tencent
//! Cloud's signed API to the local double), claims their registry record by name and ID number
//! without learning whether it matched, and a community worker confirms it; notices then reach
//! the household in the app.
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::channels::{sms_double, Double};
use crate::helpers::*;

/// The code in the last SMS the double received for this number.
fn last_code(d: &Arc<Mutex<Double>>, phone: &str) -> String {
    let d = d.lock().unwrap();
    let m: &Value = d
        .seen
        .iter()
        .rev()
        .find(|v| v["PhoneNumberSet"][0] == format!("+86{phone}"))
        .unwrap_or_else(|| panic!("no SMS to {phone}"));
    assert_eq!(m["TemplateId"], "2001", "{m}");
    m["TemplateParamSet"][0].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_resident_signs_up_by_sms_code_claims_the_record_and_a_worker_confirms_it() {
    let double = Arc::new(Mutex::new(Double::default()));
    let endpoint = sms_double(double.clone()).await;
    let app = spawn_app_with(|s| {
        s.channels.sms = Some(crate::channels::tencent(
            endpoint,
            &[("signup.code", "2001")],
        ));
        s.channels.background = false;
    })
    .await;
    let anon = app.anon();
    let phone = "13912345678";

    // A code: sent through the signed API (the double checks the signature as the provider does).
    let r = anon
        .post("/api/v1/public/signup/code", json!({"phone": phone}))
        .await
        .expect_status(StatusCode::ACCEPTED);
    assert_eq!(r.body["resend_after_s"], 60);
    assert!(double.lock().unwrap().errors.is_empty());
    let code = last_code(&double, phone);
    assert_eq!(code.len(), 6);
    // Asked again at once: 429 with Retry-After. A bad number: its field.
    let again = anon
        .post("/api/v1/public/signup/code", json!({"phone": phone}))
        .await
        .expect_status(StatusCode::TOO_MANY_REQUESTS);
    assert!(again.headers.get("retry-after").is_some());
    let bad = anon
        .post("/api/v1/public/signup/code", json!({"phone": "1234"}))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body["error"]["fields"]["phone"].is_string(),
        "{}",
        bad.text
    );

    // Signing up: a wrong code, a weak password (which does not spend the code), then right.
    let body = |code: &str, password: &str, username: &str| json!({"phone": phone, "code": code, "username": username, "display_name": "钱多多", "password": password});
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = anon
        .post(
            "/api/v1/public/signup",
            body(wrong, "Good#Pass123", "qianduo"),
        )
        .await
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"]["code"].is_string());
    let r = anon
        .post("/api/v1/public/signup", body(&code, "123", "qianduo"))
        .await
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"]["password"].is_string());
    anon.post(
        "/api/v1/public/signup",
        body(&code, "Good#Pass123", "qianduo"),
    )
    .await
    .expect_status(StatusCode::CREATED);
    // The code is spent; the phone is stored encrypted, never in clear.
    anon.post(
        "/api/v1/public/signup",
        body(&code, "Good#Pass123", "qianduo2"),
    )
    .await
    .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM users WHERE phone_enc LIKE '%{phone}%' OR phone_bidx = '{phone}'"
        ))
        .await,
        0
    );
    // One number, one account.
    gongzhi::store::exec(
        &app.state.db,
        "UPDATE signup_codes SET created_at = created_at - 120000",
        vec![],
    )
    .await
    .unwrap();
    anon.post("/api/v1/public/signup/code", json!({"phone": phone}))
        .await
        .expect_status(StatusCode::ACCEPTED);
    let r = anon
        .post(
            "/api/v1/public/signup",
            body(&last_code(&double, phone), "Good#Pass123", "qianduo3"),
        )
        .await
        .expect_status(StatusCode::CONFLICT);
    assert_eq!(r.code(), "signup.phone_taken");
    // Five wrong tries kill a code.
    let other = "13712345678";
    anon.post("/api/v1/public/signup/code", json!({"phone": other}))
        .await;
    let good = last_code(&double, other);
    let bad = if good == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        anon.post(
            "/api/v1/public/signup",
            json!({"phone": other, "code": bad, "username": "zhao9", "display_name": "赵九", "password": "Good#Pass123"}),
        )
        .await;
    }
    anon
        .post(
            "/api/v1/public/signup",
            json!({"phone": other, "code": good, "username": "zhao9", "display_name": "赵九", "password": "Good#Pass123"}),
        )
        .await.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    // Ten codes an hour from one address.
    let mut statuses = vec![];
    for i in 0..8 {
        let r = anon
            .post(
                "/api/v1/public/signup/code",
                json!({"phone": format!("1350000{i:04}")}),
            )
            .await;
        statuses.push(r.status.as_u16());
    }
    assert_eq!(
        statuses,
        vec![202, 202, 202, 202, 202, 202, 202, 429],
        "the address's limit"
    );

    // The new resident: no grants yet, not linked; a claim that matches nobody and one that
    // matches answer alike.
    let me = app.login("qianduo", "Good#Pass123").await;
    let m = me.get("/api/v1/me").await;
    assert_eq!(m.body["person_linked"], false, "{}", m.text);
    let (person_name, id_no) = app.unclaimed_resident().await;
    let r = me
        .post(
            "/api/v1/me/claims",
            json!({"name": "不存在", "id_no": "11010519491231002X"}),
        )
        .await
        .expect_status(StatusCode::ACCEPTED);
    assert_eq!(r.body["status"], "submitted");
    let r2 = me
        .post(
            "/api/v1/me/claims",
            json!({"name": person_name, "id_no": id_no}),
        )
        .await
        .expect_status(StatusCode::ACCEPTED);
    let strip = |v: &Value| {
        let mut v = v.clone();
        for k in ["id", "name", "created_at"] {
            v.as_object_mut().unwrap().remove(k);
        }
        v
    };
    assert_eq!(
        strip(&r.body),
        strip(&r2.body),
        "matched or not, the same answer"
    );
    let bad = me
        .post("/api/v1/me/claims", json!({"name": "x", "id_no": "123"}))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body["error"]["fields"]["id_no"].is_string());

    // The worker of the person's community sees the matched claim only; another community's
    // sees nothing and cannot act on it.
    let shequ = app.demo_user("shequ").await;
    let l = shequ
        .get("/api/v1/resident-claims")
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(l.body["total"], 1, "{}", l.text);
    let c = &l.body["items"][0];
    assert_eq!(c["claimed_name"], person_name.as_str());
    assert!(c["person_name_masked"].as_str().unwrap().contains('*'));
    assert!(c["user_phone_masked"].as_str().unwrap().contains('*'));
    let id = c["id"].as_str().unwrap().to_string();
    let shequ2 = app.demo_user("shequ2").await;
    assert_eq!(shequ2.get("/api/v1/resident-claims").await.body["total"], 0);
    let r = shequ2
        .post(&format!("/api/v1/resident-claims/{id}/confirm"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = shequ
        .post(
            &format!("/api/v1/resident-claims/{id}/reject"),
            json!({"reason": ""}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Confirmed: linked, a resident of the person's building, told in the inbox.
    let r = shequ
        .post(&format!("/api/v1/resident-claims/{id}/confirm"), json!({}))
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["status"], "confirmed");
    let again = shequ
        .post(&format!("/api/v1/resident-claims/{id}/confirm"), json!({}))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let me = app.login("qianduo", "Good#Pass123").await;
    let m = me.get("/api/v1/me").await;
    assert_eq!(m.body["person_linked"], true, "{}", m.text);
    assert!(m.text.contains("\"resident\""), "{}", m.text);
    let claims = me.get("/api/v1/me/claims").await;
    let statuses: Vec<&str> = claims
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, vec!["confirmed", "submitted"], "{}", claims.text);
    assert!(me
        .get("/api/v1/me/messages")
        .await
        .text
        .contains("住户信息已关联"));
    let r = me
        .post(
            "/api/v1/me/claims",
            json!({"name": person_name, "id_no": id_no}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "claims.already_linked");

    // A notice to the grid now reaches her household in the app.
    let grid = app.area_id("130602001001001").await;
    shequ
        .post(
            "/api/v1/notices",
            json!({"area_id": grid, "title": "楼道消防检查", "body": "周三上午入户检查。"}),
        )
        .await
        .expect_status(StatusCode::CREATED);
    let mine = me.get("/api/v1/me/notices").await;
    assert!(mine.text.contains("楼道消防检查"), "{}", mine.text);
}

#[tokio::test]
async fn without_sms_sign_up_says_so_and_writes_nothing() {
    let app = spawn_app().await;
    let r = app
        .anon()
        .post(
            "/api/v1/public/signup/code",
            json!({"phone": "13912345678"}),
        )
        .await
        .expect_status(StatusCode::CONFLICT);
    assert_eq!(r.code(), "signup.sms_unavailable");
    assert_eq!(app.count("SELECT COUNT(*) FROM signup_codes").await, 0);
}
