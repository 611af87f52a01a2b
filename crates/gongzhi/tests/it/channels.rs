//! Issue 15: the channels that leave the server, against local doubles that check what the
//! providers check — Tencent Cloud SMS's TC3-HMAC-SHA256 signature, headers and body, and a
//! webhook receiver checking the HMAC signature — with retries, delivery reports, opt-outs, quiet
//! hours and sixteen senders at once.
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode as HttpStatus};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::*;
use gongzhi::app::messages::channels::{SmsProvider, SmsSettings, WebhookSettings};
use gongzhi::app::messages::sender;

const SECRET_ID: &str = "AKIDgongzhitest000000000000000000000";
const SECRET_KEY: &str = "gongzhi-test-secret-key-000000000";

/// Tencent Cloud SMS settings pointing at the double, with these kinds' templates.
pub(crate) fn tencent(endpoint: String, templates: &[(&str, &str)]) -> SmsSettings {
    SmsSettings {
        provider: SmsProvider::Tencent,
        secret_id: SECRET_ID.into(),
        secret_key: SECRET_KEY.into(),
        sdk_app_id: "1400000001".into(),
        sign_name: "共治平台".into(),
        region: "ap-guangzhou".into(),
        endpoint,
        templates: templates
            .iter()
            .map(|(k, t)| (k.to_string(), t.to_string()))
            .collect(),
        report_token: None,
    }
}

fn hmac256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// What the provider would compute from the request it received (written here from Tencent
/// Cloud's documentation, independently of the server's signer).
fn provider_signature(headers: &HeaderMap, body: &[u8]) -> Result<(), String> {
    let h = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let auth = h("authorization");
    let ts: i64 = h("x-tc-timestamp").parse().map_err(|_| "no timestamp")?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if (now - ts).abs() > 300 {
        return Err("AuthFailure.SignatureExpire".into());
    }
    let date = time::OffsetDateTime::from_unix_timestamp(ts)
        .unwrap()
        .date();
    let date = format!(
        "{}-{:02}-{:02}",
        date.year(),
        date.month() as u8,
        date.day()
    );
    let prefix =
        format!("TC3-HMAC-SHA256 Credential={SECRET_ID}/{date}/sms/tc3_request, SignedHeaders=");
    let rest = auth
        .strip_prefix(&prefix)
        .ok_or("AuthFailure.SecretIdNotFound")?;
    let (signed, sig) = rest
        .split_once(", Signature=")
        .ok_or("AuthFailure.InvalidAuthorization")?;
    let canonical_headers: String = signed
        .split(';')
        .map(|k| format!("{k}:{}\n", h(k).to_lowercase()))
        .collect();
    let canonical = format!(
        "POST\n/\n\n{canonical_headers}\n{signed}\n{}",
        hex::encode(Sha256::digest(body))
    );
    let to_sign = format!(
        "TC3-HMAC-SHA256\n{ts}\n{date}/sms/tc3_request\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let k = hmac256(format!("TC3{SECRET_KEY}").as_bytes(), date.as_bytes());
    let k = hmac256(&k, b"sms");
    let k = hmac256(&k, b"tc3_request");
    if hex::encode(hmac256(&k, to_sign.as_bytes())) == sig {
        Ok(())
    } else {
        Err("AuthFailure.SignatureFailure".into())
    }
}

#[derive(Default)]
pub(crate) struct Double {
    /// Answer 500 to this many requests first.
    pub(crate) fail_first: usize,
    pub(crate) seen: Vec<Value>,
    pub(crate) errors: Vec<String>,
}

/// A Tencent Cloud SMS endpoint on a local port.
pub(crate) async fn sms_double(state: Arc<Mutex<Double>>) -> String {
    let app = axum::Router::new().route(
        "/",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move {
                let mut d = state.lock().unwrap();
                let h = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                let mut problems = vec![];
                if h("x-tc-action") != "SendSms" || h("x-tc-version") != "2021-01-11" || h("x-tc-region").is_empty() {
                    problems.push(format!("headers {:?}", headers));
                }
                if let Err(e) = provider_signature(&headers, &body) {
                    problems.push(e.clone());
                    d.errors.push(e.clone());
                    return (
                        HttpStatus::OK,
                        json!({"Response": {"Error": {"Code": e, "Message": "signature"}, "RequestId": "r"}}).to_string(),
                    );
                }
                let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let phone = v["PhoneNumberSet"][0].as_str().unwrap_or("");
                if !phone.starts_with("+86") || phone.len() != 14 || v["SmsSdkAppId"] != "1400000001"
                    || v["SignName"] != "共治平台" || !v["TemplateParamSet"].is_array()
                {
                    problems.push(format!("body {v}"));
                }
                d.errors.extend(problems);
                d.seen.push(v.clone());
                if d.seen.len() <= d.fail_first {
                    return (HttpStatus::INTERNAL_SERVER_ERROR, "{}".to_string());
                }
                let n = d.seen.len();
                (
                    HttpStatus::OK,
                    json!({"Response": {"SendStatusSet": [{"SerialNo": format!("sn-{n}"), "PhoneNumber": phone,
                        "Fee": 1, "SessionContext": v["SessionContext"], "Code": "Ok", "Message": "send success", "IsoCode": "CN"}],
                        "RequestId": format!("req-{n}")}})
                    .to_string(),
                )
            }
        }),
    );
    serve_double(app).await
}

pub(crate) async fn serve_double(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{addr}")
}

pub(crate) async fn set_phone(app: &TestApp, username: &str, phone: &str) {
    let enc = app.state.keys.encrypt(phone);
    gongzhi::store::exec(
        &app.state.db,
        "UPDATE users SET phone_enc = $1, phone_masked = $2 WHERE username = $3",
        vec![
            enc.into(),
            "138****0001".into(),
            username.to_string().into(),
        ],
    )
    .await
    .unwrap();
}

/// A new case dispatched by the street to `bumen`'s unit; its id.
pub(crate) async fn dispatched_case(app: &TestApp) -> String {
    let shequ = app.demo_user("shequ").await;
    let jiedao = app.demo_user("jiedao").await;
    let grid = app.area_id("130602001001001").await;
    let r = shequ
        .post(
            "/api/v1/cases",
            json!({"kind": "complaint", "category_code": "0101", "description": "路灯不亮",
                   "location": {"area_id": grid}, "requester": {"name": "孙丽"}}),
        )
        .await
        .expect_status(StatusCode::CREATED);
    let id = r.body["id"].as_str().unwrap().to_string();
    let unit = unit_of(app, "bumen").await;
    jiedao
        .post(
            &format!("/api/v1/cases/{id}/actions/dispatch"),
            json!({"version": 1, "unit_id": unit}),
        )
        .await
        .expect_status(StatusCode::OK);
    id
}

/// Makes every queued delivery due now (instead of waiting out the back-off).
pub(crate) async fn due_now(app: &TestApp) {
    gongzhi::store::exec(
        &app.state.db,
        "UPDATE message_deliveries SET next_attempt_at = 0 WHERE state = 'queued'",
        vec![],
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn sms_goes_through_tencent_clouds_signed_api_retries_and_takes_delivery_reports() {
    let double = Arc::new(Mutex::new(Double {
        fail_first: 1,
        ..Default::default()
    }));
    let endpoint = sms_double(double.clone()).await;
    let app = spawn_app_with(|s| {
        let mut sms = tencent(
            endpoint,
            &[("case.dispatched", "1001"), ("case.whistle", "1002")],
        );
        sms.report_token = Some("report-token-1".into());
        s.channels.sms = Some(sms);
        s.channels.rate_per_second = 1000;
        s.channels.background = false;
        s.channels.quiet_hours = (0, 0);
    })
    .await;
    set_phone(&app, "bumen", "13800000001").await;
    let admin = app.admin().await;
    let bumen = app.demo_user("bumen").await;
    // The demo's own messages went out first; count from here.
    sender::run_once(&app.state).await.unwrap();
    due_now(&app).await;
    sender::run_once(&app.state).await.unwrap();
    let base = double.lock().unwrap().seen.len();
    double.lock().unwrap().fail_first = base + 1;

    let case = dispatched_case(&app).await;
    let r = sender::run_once(&app.state).await.unwrap();
    assert_eq!((r.fanned_out, r.sent, r.retried), (1, 0, 1), "{r:?}");
    due_now(&app).await;
    let r = sender::run_once(&app.state).await.unwrap();
    assert_eq!((r.sent, r.failed), (1, 0), "{r:?}");
    {
        let d = double.lock().unwrap();
        assert!(d.errors.is_empty(), "the provider found: {:?}", d.errors);
        let last = d.seen.last().unwrap();
        assert_eq!(last["TemplateId"], "1001");
        assert_eq!(last["PhoneNumberSet"][0], "+8613800000001");
        // The template's variables in order: no, category, title, due, street.
        assert_eq!(last["TemplateParamSet"].as_array().unwrap().len(), 5);
    }
    let list = admin
        .get("/api/v1/message-deliveries?channel=sms")
        .await
        .expect_status(StatusCode::OK);
    let mine = &list.body["items"][0];
    assert_eq!(mine["state"], "sent", "{}", list.text);
    assert_eq!(mine["attempts"], 2);
    assert!(!list.text.contains(SECRET_KEY) && !list.text.contains("13800000001"));
    assert_eq!(
        bumen.get("/api/v1/message-deliveries").await.status,
        StatusCode::FORBIDDEN
    );

    // The provider's delivery report: without the token refused, with it applied.
    let sid = format!("sn-{}", double.lock().unwrap().seen.len());
    let report = json!([{"user_receive_time": "2026-12-04 10:00:00", "nationcode": "86", "mobile": "13800000001",
                          "report_status": "SUCCESS", "errmsg": "DELIVRD", "description": "用户短信送达成功", "sid": sid}]);
    let anon = app.anon();
    anon.post(
        "/api/v1/channels/sms/tencent/reports?token=wrong",
        report.clone(),
    )
    .await
    .expect_status(StatusCode::FORBIDDEN);
    let r = anon
        .post(
            "/api/v1/channels/sms/tencent/reports?token=report-token-1",
            report,
        )
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["result"], 0);
    let list = admin.get("/api/v1/message-deliveries?channel=sms").await;
    assert_eq!(list.body["items"][0]["state"], "delivered", "{}", list.text);

    // Turned off: the next ordinary message stays in the inbox; an urgent whistle still comes.
    let r = bumen
        .send(
            reqwest::Method::PUT,
            "/api/v1/me/channels/sms",
            Some(json!({"enabled": false})),
        )
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body[1]["enabled"], false);
    assert_eq!(
        bumen
            .send(
                reqwest::Method::PUT,
                "/api/v1/me/channels/inbox",
                Some(json!({"enabled": false}))
            )
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let before = double.lock().unwrap().seen.len();
    dispatched_case(&app).await;
    let r = sender::run_once(&app.state).await.unwrap();
    assert_eq!(r.fanned_out, 0, "{r:?}");
    let jiedao = app.demo_user("jiedao").await;
    let v = jiedao.get(&format!("/api/v1/cases/{case}")).await.body["version"]
        .as_i64()
        .unwrap();
    let unit = unit_of(&app, "bumen").await;
    jiedao
        .post(
            &format!("/api/v1/cases/{case}/whistles"),
            json!({"version": v, "kind": "daily", "unit_ids": [unit]}),
        )
        .await
        .expect_status(StatusCode::OK);
    let r = sender::run_once(&app.state).await.unwrap();
    assert_eq!((r.fanned_out, r.sent), (1, 1), "{r:?}");
    assert_eq!(double.lock().unwrap().seen.len(), before + 1);
    assert_eq!(
        double.lock().unwrap().seen.last().unwrap()["TemplateId"],
        "1002"
    );
}

#[tokio::test]
async fn a_wrong_secret_fails_with_the_providers_reason_and_is_not_retried() {
    let double = Arc::new(Mutex::new(Double::default()));
    let endpoint = sms_double(double.clone()).await;
    let app = spawn_app_with(|s| {
        let mut sms = tencent(endpoint, &[("case.dispatched", "1001")]);
        sms.secret_key = "not-the-key".into();
        s.channels.sms = Some(sms);
        s.channels.rate_per_second = 1000;
        s.channels.background = false;
    })
    .await;
    set_phone(&app, "bumen", "13800000001").await;
    sender::run_once(&app.state).await.unwrap();
    dispatched_case(&app).await;
    let r = sender::run_once(&app.state).await.unwrap();
    assert!(r.failed >= 1 && r.sent == 0, "{r:?}");
    let admin = app.admin().await;
    let list = admin.get("/api/v1/message-deliveries?state=failed").await;
    assert!(
        list.text.contains("AuthFailure.SignatureFailure"),
        "{}",
        list.text
    );
    assert!(!list.text.contains("not-the-key"));
}

#[derive(Default)]
struct Hooks {
    ids: Vec<String>,
    errors: Vec<String>,
}

#[tokio::test]
async fn the_webhook_is_signed_and_sixteen_senders_send_each_message_once() {
    const SECRET: &str = "webhook-secret-for-tests";
    let hooks = Arc::new(Mutex::new(Hooks::default()));
    let h2 = hooks.clone();
    let double = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let hooks = h2.clone();
            async move {
                let h = |k: &str| {
                    headers
                        .get(k)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string()
                };
                let ts = h("x-gongzhi-timestamp");
                let want = format!(
                    "sha256={}",
                    hex::encode(hmac256(
                        SECRET.as_bytes(),
                        format!("{ts}.{}", String::from_utf8_lossy(&body)).as_bytes()
                    ))
                );
                let mut d = hooks.lock().unwrap();
                if h("x-gongzhi-signature") != want {
                    d.errors.push("bad signature".into());
                    return HttpStatus::UNAUTHORIZED;
                }
                let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                if v["title"].as_str().unwrap_or("").is_empty()
                    || v["recipient"]["username"].is_null()
                {
                    d.errors.push(format!("payload {v}"));
                }
                d.ids.push(h("x-gongzhi-delivery"));
                HttpStatus::NO_CONTENT
            }
        }),
    );
    let url = format!("{}/hook", serve_double(double).await);
    let app = spawn_app_with(|s| {
        s.channels.webhook = Some(WebhookSettings {
            url,
            secret: SECRET.into(),
        });
        s.channels.rate_per_second = 1000;
        s.channels.background = false;
    })
    .await;
    for _ in 0..3 {
        dispatched_case(&app).await;
    }
    let mut tasks = vec![];
    for _ in 0..16 {
        let st = app.state.clone();
        tasks.push(tokio::spawn(
            async move { sender::run_once(&st).await.unwrap() },
        ));
    }
    let mut sent = 0;
    for t in tasks {
        sent += t.await.unwrap().sent;
    }
    let queued = app
        .count(
            "SELECT COUNT(*) FROM message_deliveries WHERE channel = 'webhook' AND state <> 'sent'",
        )
        .await;
    let total = app
        .count("SELECT COUNT(*) FROM message_deliveries WHERE channel = 'webhook'")
        .await;
    assert_eq!(queued, 0);
    assert!(total >= 3, "{total}");
    let d = hooks.lock().unwrap();
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    let mut ids = d.ids.clone();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), d.ids.len(), "a delivery was sent twice");
    assert_eq!(d.ids.len() as i64, total);
    assert_eq!(sent as i64, total);
}

/// Without anyone calling it, `serve`'s sender takes a new message out within seconds.
#[tokio::test]
async fn the_background_sender_delivers_without_being_asked() {
    let got = Arc::new(Mutex::new(0usize));
    let g2 = got.clone();
    let double = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let got = g2.clone();
            async move {
                *got.lock().unwrap() += 1;
                HttpStatus::OK
            }
        }),
    );
    let url = format!("{}/hook", serve_double(double).await);
    let app = spawn_app_with(|s| {
        s.channels.webhook = Some(WebhookSettings {
            url,
            secret: "x".into(),
        });
    })
    .await;
    let before = app
        .count(
            "SELECT COUNT(*) FROM message_deliveries WHERE channel = 'webhook' AND state = 'sent'",
        )
        .await;
    dispatched_case(&app).await;
    for _ in 0..50 {
        let now = app.count("SELECT COUNT(*) FROM message_deliveries WHERE channel = 'webhook' AND state = 'sent'").await;
        if now > before {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!(
        "nothing was sent within 10 s ({} requests seen)",
        got.lock().unwrap()
    );
}

/// A WeCom group robot gets one markdown post per message of the kinds it takes (not one per
/// person), with the case's link made absolute; its rate limit (errcode 45009) is retried.
#[tokio::test]
async fn a_wecom_group_robot_gets_one_post_per_urgent_message() {
    let posts = Arc::new(Mutex::new(Vec::<(String, Value)>::new()));
    let p2 = posts.clone();
    let double = axum::Router::new().route(
        "/cgi-bin/webhook/send",
        axum::routing::post(
            move |q: axum::extract::Query<std::collections::HashMap<String, String>>,
                  body: Bytes| {
                let posts = p2.clone();
                async move {
                    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let key = q.get("key").cloned().unwrap_or_default();
                    let mut p = posts.lock().unwrap();
                    p.push((key.clone(), v.clone()));
                    let answer = if key != "robot-key-1" {
                        json!({"errcode": 93000, "errmsg": "invalid webhook url"})
                    } else if v["msgtype"] != "markdown"
                        || v["markdown"]["content"].as_str().unwrap_or("").is_empty()
                    {
                        json!({"errcode": 40008, "errmsg": "invalid message type"})
                    } else if p.len() == 1 {
                        json!({"errcode": 45009, "errmsg": "api freq out of limit"})
                    } else {
                        json!({"errcode": 0, "errmsg": "ok"})
                    };
                    axum::Json(answer)
                }
            },
        ),
    );
    let base = serve_double(double).await;
    let app = spawn_app_with(|s| {
        s.channels.wecom_robot = Some(gongzhi::app::messages::channels::WecomRobot {
            url: format!("{base}/cgi-bin/webhook/send?key=robot-key-1"),
            kinds: vec!["case.whistle".into()],
        });
        s.channels.rate_per_second = 1000;
        s.channels.background = false;
        s.public_origin = Some("https://gz.example.cn".into());
    })
    .await;
    sender::run_once(&app.state).await.unwrap();
    let seen = posts.lock().unwrap().len();
    // A dispatch is not a kind the robot takes; a whistle is.
    let case = dispatched_case(&app).await;
    let r = sender::run_once(&app.state).await.unwrap();
    assert_eq!(r.fanned_out, 0, "{r:?}");
    let jiedao = app.demo_user("jiedao").await;
    let v = jiedao.get(&format!("/api/v1/cases/{case}")).await.body["version"]
        .as_i64()
        .unwrap();
    let unit = unit_of(&app, "bumen").await;
    jiedao
        .post(
            &format!("/api/v1/cases/{case}/whistles"),
            json!({"version": v, "kind": "tough", "unit_ids": [unit]}),
        )
        .await
        .expect_status(StatusCode::OK);
    let r = sender::run_once(&app.state).await.unwrap();
    assert_eq!(
        (r.fanned_out, r.retried),
        (1, 1),
        "one post for the group, rate-limited first: {r:?}"
    );
    due_now(&app).await;
    let r = sender::run_once(&app.state).await.unwrap();
    assert_eq!(r.sent, 1, "{r:?}");
    let p = posts.lock().unwrap();
    assert_eq!(p.len(), seen + 2);
    let content = p.last().unwrap().1["markdown"]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        content.contains("吹哨报到") && content.contains("【紧急】"),
        "{content}"
    );
    assert!(
        content.contains(&format!("https://gz.example.cn/cases/{case}")),
        "{content}"
    );
    let admin = app.admin().await;
    let list = admin
        .get("/api/v1/message-deliveries?channel=wecom_robot")
        .await;
    assert_eq!(list.body["items"][0]["state"], "sent", "{}", list.text);
    assert!(!list.text.contains("robot-key-1"));
}

/// A provider that answers 500 to everything does not hold up the other channels: in the same
/// round the webhook's deliveries are sent and the SMS ones wait for their retry.
#[tokio::test]
async fn a_failing_sms_provider_does_not_hold_up_the_webhook() {
    let double = Arc::new(Mutex::new(Double {
        fail_first: usize::MAX,
        ..Default::default()
    }));
    let endpoint = sms_double(double.clone()).await;
    let hooked = Arc::new(Mutex::new(0usize));
    let h2 = hooked.clone();
    let hook = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let h = h2.clone();
            async move {
                *h.lock().unwrap() += 1;
                HttpStatus::NO_CONTENT
            }
        }),
    );
    let url = format!("{}/hook", serve_double(hook).await);
    let app = spawn_app_with(|s| {
        s.channels.sms = Some(tencent(endpoint, &[("case.dispatched", "1001")]));
        s.channels.webhook = Some(WebhookSettings {
            url,
            secret: "x".into(),
        });
        s.channels.rate_per_second = 1000;
        s.channels.background = false;
    })
    .await;
    set_phone(&app, "bumen", "13800000001").await;
    dispatched_case(&app).await;
    let r = sender::run_once(&app.state).await.unwrap();
    assert!(r.sent >= 1, "the webhook went out: {r:?}");
    assert!(r.retried >= 1, "the SMS waits for a retry: {r:?}");
    assert_eq!(*hooked.lock().unwrap() as u64, r.sent);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM message_deliveries WHERE channel = 'sms' AND state = 'queued' AND attempts = 1")
            .await,
        r.retried as i64
    );
}
