//! Issue 15 point 2: the channels that reach a person by their own address — e-mail through an
//! SMTP relay (a local SMTP server started by the test checks the login, the envelope and the
//! message), WeCom application messages (a double of WeCom's API issues tokens, expires the first
//! one and checks the payload's shape), and Alibaba Cloud SMS (a double recomputes the RPC
//! signature from the form it received, as the provider does).
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::channels::{dispatched_case, due_now, serve_double, set_phone};
use crate::helpers::*;
use gongzhi::app::messages::channels::{SmsProvider, SmsSettings, SmtpSettings, WecomApp};
use gongzhi::app::messages::sender;

async fn user_id(app: &TestApp, username: &str) -> String {
    #[derive(sea_orm::FromQueryResult)]
    struct U {
        id: uuid::Uuid,
    }
    app.one::<U>(
        "SELECT id FROM users WHERE username = $1",
        vec![username.to_string().into()],
    )
    .await
    .id
    .to_string()
}

// ---------------------------------------------------------------------------------------------
// SMTP

#[derive(Default)]
struct Mailbox {
    /// (MAIL FROM, RCPT TO, the message as received)
    mails: Vec<(String, Vec<String>, String)>,
    logins: Vec<String>,
    /// Recipients answered 451 once (greylisting).
    greylisted: Vec<String>,
}

/// A local SMTP server: ESMTP with AUTH PLAIN/LOGIN (user `gongzhi`, password `smtp-pass`), mail
/// only after a login, 451 the first time it sees a recipient (greylisting), 550 for
/// `nobody@…`, and the DATA kept as received.
async fn smtp_double(state: Arc<Mutex<Mailbox>>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let state = state.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 double ESMTP\r\n").await.unwrap();
                let (mut authed, mut from, mut rcpt) = (false, String::new(), vec![]);
                let b64 = base64::engine::general_purpose::STANDARD;
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let answer = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        "250-double\r\n250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n250 SMTPUTF8"
                            .to_string()
                    } else if upper.starts_with("AUTH PLAIN") {
                        let arg = match line.split_whitespace().nth(2) {
                            Some(a) => a.to_string(),
                            None => {
                                w.write_all(b"334 \r\n").await.unwrap();
                                lines.next_line().await.unwrap().unwrap_or_default()
                            }
                        };
                        let plain = String::from_utf8(b64.decode(arg.trim()).unwrap_or_default())
                            .unwrap_or_default();
                        state.lock().unwrap().logins.push(plain.clone());
                        if plain == "\0gongzhi\0smtp-pass" {
                            authed = true;
                            "235 2.7.0 Authentication successful".into()
                        } else {
                            "535 5.7.8 Authentication credentials invalid".into()
                        }
                    } else if upper.starts_with("AUTH LOGIN") {
                        w.write_all(b"334 VXNlcm5hbWU6\r\n").await.unwrap();
                        let u = lines.next_line().await.unwrap().unwrap_or_default();
                        w.write_all(b"334 UGFzc3dvcmQ6\r\n").await.unwrap();
                        let p = lines.next_line().await.unwrap().unwrap_or_default();
                        let dec = |s: &str| {
                            String::from_utf8(b64.decode(s.trim()).unwrap_or_default())
                                .unwrap_or_default()
                        };
                        let plain = format!("\0{}\0{}", dec(&u), dec(&p));
                        state.lock().unwrap().logins.push(plain.clone());
                        if plain == "\0gongzhi\0smtp-pass" {
                            authed = true;
                            "235 2.7.0 Authentication successful".into()
                        } else {
                            "535 5.7.8 Authentication credentials invalid".into()
                        }
                    } else if upper.starts_with("MAIL FROM:") {
                        if authed {
                            from = line[10..].trim().to_string();
                            rcpt.clear();
                            "250 2.1.0 OK".into()
                        } else {
                            "530 5.7.0 Authentication required".into()
                        }
                    } else if upper.starts_with("RCPT TO:") {
                        let to = line[8..].trim().to_string();
                        let mut st = state.lock().unwrap();
                        if to.contains("nobody@") {
                            "550 5.1.1 No such user".into()
                        } else if !st.greylisted.contains(&to) {
                            st.greylisted.push(to);
                            "451 4.7.1 Greylisted, try again later".into()
                        } else {
                            rcpt.push(to);
                            "250 2.1.5 OK".into()
                        }
                    } else if upper == "DATA" {
                        w.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                            .await
                            .unwrap();
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(l.strip_prefix('.').unwrap_or(&l));
                            data.push('\n');
                        }
                        state
                            .lock()
                            .unwrap()
                            .mails
                            .push((from.clone(), rcpt.clone(), data));
                        "250 2.0.0 Queued".into()
                    } else if upper == "QUIT" {
                        let _ = w.write_all(b"221 2.0.0 Bye\r\n").await;
                        return;
                    } else if upper.starts_with("RSET") || upper.starts_with("NOOP") {
                        "250 OK".into()
                    } else {
                        "502 5.5.2 Command not recognized".into()
                    };
                    if w.write_all(format!("{answer}\r\n").as_bytes())
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// An RFC 2047 encoded word (`=?utf-8?b?…?=`) decoded; other text as it is.
fn decode_words(s: &str) -> String {
    s.split_whitespace()
        .map(|w| {
            let l = w.to_ascii_lowercase();
            if l.starts_with("=?utf-8?b?") && l.ends_with("?=") {
                String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(&w[10..w.len() - 2])
                        .unwrap_or_default(),
                )
                .unwrap_or_default()
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("")
}

#[tokio::test]
async fn email_reaches_a_person_through_an_smtp_relay_checked_by_a_local_server() {
    let mailbox = Arc::new(Mutex::new(Mailbox::default()));
    let port = smtp_double(mailbox.clone()).await;
    let app = spawn_app_with(|s| {
        s.channels.smtp = Some(SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            tls: "none".into(),
            username: Some("gongzhi".into()),
            password: Some("smtp-pass".into()),
            from: "共治平台 <noreply@gz.example.cn>".into(),
        });
        s.channels.rate_per_second = 1000;
        s.channels.background = false;
        s.public_origin = Some("https://gz.example.cn".into());
    })
    .await;
    let admin = app.admin().await;
    let bumen = user_id(&app, "bumen").await;
    // Before an address is on file, the channel says what is missing.
    let me = app
        .demo_user("bumen")
        .await
        .get("/api/v1/me/channels")
        .await;
    let missing = |v: &Value, ch: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|c| c["channel"] == ch)
            .map(|c| c["missing"].clone())
            .unwrap()
    };
    assert_eq!(missing(&me.body, "email"), "address", "{}", me.text);
    assert_eq!(missing(&me.body, "wecom_app"), "service", "{}", me.text);
    // An address is checked, stored encrypted and shown masked.
    for bad in ["not-an-email", "a b@example.cn", "x@"] {
        let r = admin
            .patch(&format!("/api/v1/users/{bumen}"), json!({"email": bad}))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.text
        );
        assert!(r.body["error"]["fields"]["email"].is_string());
    }
    let r = admin
        .patch(
            &format!("/api/v1/users/{bumen}"),
            json!({"email": "yangfan@gz.example.cn"}),
        )
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["email_masked"], "ya***@gz.example.cn");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE email_enc LIKE '%yangfan%'")
            .await,
        0,
        "encrypted at rest"
    );
    let me = app
        .demo_user("bumen")
        .await
        .get("/api/v1/me/channels")
        .await;
    assert!(
        me.text
            .contains(r#""channel":"email","enabled":true,"available":true"#),
        "{}",
        me.text
    );

    // The demo's own messages go first; then a case dispatched to 杨帆's unit.
    sender::run_once(&app.state).await.unwrap();
    due_now(&app).await;
    sender::run_once(&app.state).await.unwrap();
    let before = mailbox.lock().unwrap().mails.len();
    let case = dispatched_case(&app).await;
    let r = sender::run_once(&app.state).await.unwrap();
    assert!(r.retried >= 1, "greylisted first: {r:?}");
    due_now(&app).await;
    sender::run_once(&app.state).await.unwrap();
    let mb = mailbox.lock().unwrap();
    assert!(
        !mb.logins.is_empty() && mb.logins.iter().all(|l| l == "\0gongzhi\0smtp-pass"),
        "{:?}",
        mb.logins
    );
    let mine: Vec<_> = mb.mails[before..]
        .iter()
        .filter(|(_, to, _)| to.iter().any(|t| t.contains("yangfan@gz.example.cn")))
        .collect();
    assert_eq!(mine.len(), 1, "one mail: {:?}", mb.mails);
    let (from, _, data) = mine[0];
    assert_eq!(from, "<noreply@gz.example.cn>");
    let (head, body) = data.split_once("\n\n").unwrap();
    let subject = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("subject:"))
        .unwrap();
    assert!(decode_words(&subject[8..]).contains("新派单"), "{subject}");
    assert!(head.contains("Content-Transfer-Encoding: base64"), "{head}");
    let text = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(body.split_whitespace().collect::<String>())
            .unwrap(),
    )
    .unwrap();
    assert!(
        text.contains(&format!("https://gz.example.cn/cases/{case}")),
        "{text}"
    );
    drop(mb);
    let deliveries = admin
        .get("/api/v1/message-deliveries?channel=email")
        .await
        .expect_status(StatusCode::OK);
    assert!(!deliveries.text.contains("smtp-pass"));
    assert!(
        !deliveries.text.contains("yangfan@"),
        "the address is not listed"
    );

    // A mailbox the relay refuses (5xx) fails for good with the relay's reason.
    let r = admin
        .patch(
            &format!("/api/v1/users/{bumen}"),
            json!({"email": "nobody@gz.example.cn"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    dispatched_case(&app).await;
    let r = sender::run_once(&app.state).await.unwrap();
    assert_eq!(r.failed, 1, "{r:?}");
    let failed = admin
        .get("/api/v1/message-deliveries?channel=email&state=failed")
        .await;
    assert!(failed.text.contains("550"), "{}", failed.text);
}

// ---------------------------------------------------------------------------------------------
// WeCom application messages

#[derive(Default)]
struct WecomLog {
    tokens_issued: usize,
    sends: Vec<(String, Value)>,
    problems: Vec<String>,
}

/// WeCom's `gettoken` and `message/send`: the first token it issues is answered 42001 (expired).
async fn wecom_double(log: Arc<Mutex<WecomLog>>) -> String {
    type Q = axum::extract::Query<std::collections::HashMap<String, String>>;
    let l1 = log.clone();
    let l2 = log.clone();
    let app = axum::Router::new()
        .route(
            "/cgi-bin/gettoken",
            axum::routing::get(move |q: Q| {
                let log = l1.clone();
                async move {
                    let mut l = log.lock().unwrap();
                    if q.get("corpid").map(String::as_str) != Some("ww-corp-1")
                        || q.get("corpsecret").map(String::as_str) != Some("app-secret-1")
                    {
                        return axum::Json(
                            json!({"errcode": 40001, "errmsg": "invalid credential"}),
                        );
                    }
                    l.tokens_issued += 1;
                    axum::Json(json!({"errcode": 0, "errmsg": "ok",
                        "access_token": format!("tok-{}", l.tokens_issued), "expires_in": 7200}))
                }
            }),
        )
        .route(
            "/cgi-bin/message/send",
            axum::routing::post(move |q: Q, body: Bytes| {
                let log = l2.clone();
                async move {
                    let mut l = log.lock().unwrap();
                    let token = q.get("access_token").cloned().unwrap_or_default();
                    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    l.sends.push((token.clone(), v.clone()));
                    if token == "tok-1" {
                        return axum::Json(
                            json!({"errcode": 42001, "errmsg": "access_token expired"}),
                        );
                    }
                    if !token.starts_with("tok-") {
                        return axum::Json(
                            json!({"errcode": 40014, "errmsg": "invalid access_token"}),
                        );
                    }
                    // The shape WeCom checks.
                    let card = &v["textcard"];
                    let ok = v["touser"].is_string()
                        && v["agentid"].as_i64() == Some(1000002)
                        && v["msgtype"] == "textcard"
                        && card["title"]
                            .as_str()
                            .is_some_and(|t| !t.is_empty() && t.len() <= 128)
                        && card["description"]
                            .as_str()
                            .is_some_and(|d| !d.is_empty() && d.len() <= 512)
                        && card["url"]
                            .as_str()
                            .is_some_and(|u| u.starts_with("https://"));
                    if !ok {
                        l.problems.push(v.to_string());
                        return axum::Json(
                            json!({"errcode": 40008, "errmsg": "invalid message type"}),
                        );
                    }
                    if v["touser"] != "YangFan" {
                        return axum::Json(
                            json!({"errcode": 0, "errmsg": "ok", "invaliduser": v["touser"]}),
                        );
                    }
                    axum::Json(
                        json!({"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": "m-1"}),
                    )
                }
            }),
        );
    serve_double(app).await
}

#[tokio::test]
async fn wecom_application_messages_fetch_a_token_and_fetch_it_again_when_stale() {
    let log = Arc::new(Mutex::new(WecomLog::default()));
    let base = wecom_double(log.clone()).await;
    let app = spawn_app_with(|s| {
        s.channels.wecom_app = Some(WecomApp {
            corp_id: "ww-corp-1".into(),
            secret: "app-secret-1".into(),
            agent_id: 1000002,
            api_base: base.clone(),
        });
        s.channels.rate_per_second = 1000;
        s.channels.background = false;
        s.public_origin = Some("https://gz.example.cn".into());
    })
    .await;
    let admin = app.admin().await;
    let bumen = user_id(&app, "bumen").await;
    admin
        .patch(
            &format!("/api/v1/users/{bumen}"),
            json!({"wecom_userid": "杨 帆"}),
        )
        .await
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    let r = admin
        .patch(
            &format!("/api/v1/users/{bumen}"),
            json!({"wecom_userid": "YangFan"}),
        )
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["wecom_userid"], "YangFan");
    sender::run_once(&app.state).await.unwrap();
    let before = log.lock().unwrap().sends.len();
    let case = dispatched_case(&app).await;
    let r = sender::run_once(&app.state).await.unwrap();
    assert_eq!((r.sent, r.failed), (1, 0), "{r:?}");
    {
        let l = log.lock().unwrap();
        assert!(l.problems.is_empty(), "{:?}", l.problems);
        let sends = &l.sends[before..];
        assert_eq!(
            sends.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
            ["tok-1", "tok-2"],
            "the stale token is fetched again and the send tried once more"
        );
        let card = &sends[1].1["textcard"];
        assert!(card["title"].as_str().unwrap().contains("新派单"), "{card}");
        assert_eq!(
            card["url"],
            format!("https://gz.example.cn/cases/{case}").as_str()
        );
    }
    // The next message uses the token it holds.
    dispatched_case(&app).await;
    sender::run_once(&app.state).await.unwrap();
    let l = log.lock().unwrap();
    assert_eq!(l.tokens_issued, 2);
    assert_eq!(l.sends.last().unwrap().0, "tok-2");
    drop(l);
    let list = admin
        .get("/api/v1/message-deliveries?channel=wecom_app")
        .await;
    assert_eq!(list.body["items"][0]["state"], "sent", "{}", list.text);
    assert!(!list.text.contains("app-secret-1") && !list.text.contains("tok-2"));
}

// ---------------------------------------------------------------------------------------------
// Alibaba Cloud SMS

const ALI_ID: &str = "LTAI-gongzhi-test";
const ALI_SECRET: &str = "ali-secret-gongzhi";

/// RFC 3986 encoding, written here from Alibaba Cloud's documentation.
fn ali_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// What the provider computes from the form it received.
fn ali_check(form: &[(String, String)]) -> Result<(), &'static str> {
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if get("AccessKeyId") != Some(ALI_ID) {
        return Err("InvalidAccessKeyId.NotFound");
    }
    let ts = get("Timestamp").ok_or("MissingTimestamp")?;
    let t = time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
        .map_err(|_| "InvalidTimeStamp.Format")?;
    if (time::OffsetDateTime::now_utc() - t).whole_minutes().abs() > 15 {
        return Err("InvalidTimeStamp.Expired");
    }
    let mut rest: Vec<&(String, String)> = form.iter().filter(|(k, _)| k != "Signature").collect();
    rest.sort_by(|a, b| a.0.cmp(&b.0));
    let q = rest
        .iter()
        .map(|(k, v)| format!("{}={}", ali_encode(k), ali_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let to_sign = format!("POST&%2F&{}", ali_encode(&q));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{ALI_SECRET}&").as_bytes()).unwrap();
    mac.update(to_sign.as_bytes());
    let want = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    if get("Signature") == Some(want.as_str()) {
        Ok(())
    } else {
        Err("SignatureDoesNotMatch")
    }
}

#[tokio::test]
async fn alibaba_cloud_sms_is_signed_and_sent_as_the_provider_checks() {
    let seen = Arc::new(Mutex::new(Vec::<Vec<(String, String)>>::new()));
    let s2 = seen.clone();
    let double = axum::Router::new().route(
        "/",
        axum::routing::post(move |body: Bytes| {
            let seen = s2.clone();
            async move {
                let form: Vec<(String, String)> =
                    serde_urlencoded::from_bytes(&body).unwrap_or_default();
                let mut s = seen.lock().unwrap();
                let nonce = form
                    .iter()
                    .find(|(k, _)| k == "SignatureNonce")
                    .map(|(_, v)| v.clone());
                let replay = s.iter().any(|f| {
                    f.iter().any(|(k, v)| k == "SignatureNonce" && Some(v) == nonce.as_ref())
                });
                s.push(form.clone());
                let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                if let Err(code) = ali_check(&form) {
                    return axum::Json(json!({"Code": code, "Message": "Specified signature is not matched", "RequestId": "r"}));
                }
                if replay {
                    return axum::Json(json!({"Code": "SignatureNonceUsed", "Message": "nonce used", "RequestId": "r"}));
                }
                let params: Value = serde_json::from_str(&get("TemplateParam").unwrap_or_default())
                    .unwrap_or(Value::Null);
                let phone = get("PhoneNumbers").unwrap_or_default();
                if get("Action").as_deref() != Some("SendSms")
                    || get("Version").as_deref() != Some("2017-05-25")
                    || get("SignatureMethod").as_deref() != Some("HMAC-SHA1")
                    || get("SignName").as_deref() != Some("共治平台")
                    || phone.len() != 11
                    || !params.is_object()
                {
                    return axum::Json(json!({"Code": "isv.INVALID_PARAMETERS", "Message": "bad", "RequestId": "r"}));
                }
                axum::Json(json!({"Code": "OK", "Message": "OK", "BizId": format!("biz-{}", s.len()), "RequestId": "r"}))
            }
        }),
    );
    let endpoint = serve_double(double).await;
    let app = spawn_app_with(|s| {
        s.channels.sms = Some(SmsSettings {
            provider: SmsProvider::Aliyun,
            secret_id: ALI_ID.into(),
            secret_key: ALI_SECRET.into(),
            sdk_app_id: String::new(),
            sign_name: "共治平台".into(),
            region: "cn-hangzhou".into(),
            endpoint,
            templates: vec![("case.dispatched".into(), "SMS_200000001".into())],
            report_token: None,
        });
        s.channels.rate_per_second = 1000;
        s.channels.background = false;
        s.channels.quiet_hours = (0, 0);
    })
    .await;
    set_phone(&app, "bumen", "13800000001").await;
    sender::run_once(&app.state).await.unwrap();
    let before = seen.lock().unwrap().len();
    dispatched_case(&app).await;
    let r = sender::run_once(&app.state).await.unwrap();
    assert_eq!((r.sent, r.failed), (1, 0), "{r:?}");
    let s = seen.lock().unwrap();
    let form = &s[before];
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(get("PhoneNumbers"), "13800000001");
    assert_eq!(get("TemplateCode"), "SMS_200000001");
    let params: Value = serde_json::from_str(&get("TemplateParam")).unwrap();
    for k in ["no", "category", "title", "due", "street"] {
        assert!(params[k].is_string(), "{k} in {params}");
    }
    drop(s);
    let admin = app.admin().await;
    let list = admin.get("/api/v1/message-deliveries?channel=sms").await;
    assert_eq!(list.body["items"][0]["state"], "sent", "{}", list.text);
    assert!(!list.text.contains(ALI_SECRET));
}

#[tokio::test]
async fn alibaba_cloud_refuses_a_wrong_secret_and_the_delivery_fails_with_its_reason() {
    let endpoint = serve_double(axum::Router::new().route(
        "/",
        axum::routing::post(|body: Bytes| async move {
            let form: Vec<(String, String)> =
                serde_urlencoded::from_bytes(&body).unwrap_or_default();
            axum::Json(match ali_check(&form) {
                Ok(()) => json!({"Code": "OK", "BizId": "b", "Message": "OK"}),
                Err(code) => json!({"Code": code, "Message": "Specified signature is not matched"}),
            })
        }),
    ))
    .await;
    let app = spawn_app_with(|s| {
        s.channels.sms = Some(SmsSettings {
            provider: SmsProvider::Aliyun,
            secret_id: ALI_ID.into(),
            secret_key: "a-wrong-secret".into(),
            sdk_app_id: String::new(),
            sign_name: "共治平台".into(),
            region: "cn-hangzhou".into(),
            endpoint,
            templates: vec![("case.dispatched".into(), "SMS_200000001".into())],
            report_token: None,
        });
        s.channels.rate_per_second = 1000;
        s.channels.background = false;
        s.channels.quiet_hours = (0, 0);
    })
    .await;
    set_phone(&app, "bumen", "13800000001").await;
    sender::run_once(&app.state).await.unwrap();
    dispatched_case(&app).await;
    let r = sender::run_once(&app.state).await.unwrap();
    assert_eq!((r.sent, r.retried), (0, 0), "{r:?}");
    assert!(r.failed >= 1, "{r:?}");
    let failed = app
        .admin()
        .await
        .get("/api/v1/message-deliveries?channel=sms&state=failed")
        .await;
    assert!(
        failed.text.contains("SignatureDoesNotMatch"),
        "{}",
        failed.text
    );
}

// ---------------------------------------------------------------------------------------------
// A notice to households without an account, by SMS

#[tokio::test]
async fn a_notice_reaches_households_without_an_account_by_sms_and_an_undelivered_one_goes_door_to_door(
) {
    use crate::channels::{sms_double, tencent, Double};
    let double = Arc::new(Mutex::new(Double::default()));
    let endpoint = sms_double(double.clone()).await;
    let app = spawn_app_with(|s| {
        let mut sms = tencent(
            endpoint,
            &[("notice.published", "3001"), ("notice.reminder", "3002")],
        );
        sms.report_token = Some("report-token-1".into());
        s.channels.sms = Some(sms);
        s.channels.rate_per_second = 1000;
        s.channels.background = false;
        s.channels.quiet_hours = (0, 0);
    })
    .await;
    sender::run_once(&app.state).await.unwrap();
    let seen_before = double.lock().unwrap().seen.len();
    let shequ = app.demo_user("shequ").await;
    let grid = app.area_id("130602001001001").await;
    let expect_sms = app
        .count(&format!(
            "SELECT COUNT(*) FROM households h WHERE h.deleted_at IS NULL \
             AND h.area_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = \
               (SELECT id FROM areas WHERE code = '130602001001001')) \
             AND NOT EXISTS (SELECT 1 FROM household_members m JOIN users u ON u.person_id = m.person_id \
               WHERE m.household_id = h.id AND m.to_date IS NULL) \
             AND EXISTS (SELECT 1 FROM household_members m JOIN persons p ON p.street_id = m.street_id \
               AND p.id = m.person_id WHERE m.household_id = h.id AND m.to_date IS NULL \
               AND p.mobile_enc IS NOT NULL AND p.deleted_at IS NULL)"
        ))
        .await;
    assert!(
        expect_sms > 5,
        "the demo grid has households with a mobile: {expect_sms}"
    );
    let r = shequ
        .post(
            "/api/v1/notices",
            json!({"area_id": grid, "title": "停水通知", "body": "明天 9:00—12:00 停水检修。"}),
        )
        .await
        .expect_status(StatusCode::CREATED);
    let id = r.body["id"].as_str().unwrap().to_string();
    let cov = &r.body["coverage"];
    assert_eq!(cov["reached_sms"], expect_sms, "{cov}");
    assert_eq!(cov["reached_app"], 1, "{cov}");
    assert_eq!(
        cov["unreachable"].as_i64().unwrap(),
        cov["households"].as_i64().unwrap() - 1 - expect_sms
    );
    // One SMS per household, to a member's mobile, through the provider's signed API.
    let r = sender::run_once(&app.state).await.unwrap();
    assert_eq!(r.sent as i64, expect_sms, "{r:?}");
    {
        let d = double.lock().unwrap();
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        let sent = &d.seen[seen_before..];
        assert_eq!(sent.len() as i64, expect_sms);
        assert!(sent
            .iter()
            .all(|v| v["TemplateId"] == "3001" && v["TemplateParamSet"][0] == "停水通知"));
    }
    // The provider reports one undelivered: that household is not reached and goes door to door.
    #[derive(sea_orm::FromQueryResult)]
    struct Ref {
        provider_ref: String,
    }
    let one: Ref = app.one("SELECT provider_ref FROM message_deliveries WHERE household_id IS NOT NULL AND provider_ref IS NOT NULL \
         ORDER BY provider_ref LIMIT 1",
        vec![]).await;
    let door_before = shequ
        .get(&format!("/api/v1/notices/{id}/households?state=door"))
        .await
        .body["total"]
        .as_i64()
        .unwrap();
    let report = json!([{"user_receive_time": "2026-12-04 10:00:00", "nationcode": "86", "mobile": "13800000001",
                          "report_status": "FAIL", "errmsg": "MK:0001", "description": "空号", "sid": one.provider_ref}]);
    app.anon()
        .post(
            "/api/v1/channels/sms/tencent/reports?token=report-token-1",
            report,
        )
        .await
        .expect_status(StatusCode::OK);
    let d = shequ.get(&format!("/api/v1/notices/{id}")).await;
    assert_eq!(
        d.body["coverage"]["reached_sms"],
        expect_sms - 1,
        "{}",
        d.text
    );
    let door = shequ
        .get(&format!("/api/v1/notices/{id}/households?state=door"))
        .await;
    assert_eq!(door.body["total"], door_before + 1, "{}", door.text);
    // A reminder goes by SMS again to the households reached by SMS that are not done.
    shequ
        .post(&format!("/api/v1/notices/{id}/remind"), json!({}))
        .await
        .expect_status(StatusCode::OK);
    let r = sender::run_once(&app.state).await.unwrap();
    assert_eq!(r.sent as i64, expect_sms - 1, "{r:?}");
    assert!(double.lock().unwrap().seen.last().unwrap()["TemplateId"] == "3002");
    // The deliveries list names no household member's number.
    let list = app
        .admin()
        .await
        .get("/api/v1/message-deliveries?channel=sms&page_size=200")
        .await
        .expect_status(StatusCode::OK);
    assert!(!list.text.contains("+86"), "{}", list.text);
}
