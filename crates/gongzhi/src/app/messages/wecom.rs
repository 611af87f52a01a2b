//! WeCom (企业微信) application messages to a person: an access token from
//! `GET /cgi-bin/gettoken?corpid=…&corpsecret=…` (kept until shortly before `expires_in`, on
//! this instance), then `POST /cgi-bin/message/send?access_token=…` with the application's
//! `agentid` and the person's WeCom account id. A `textcard` when there is a link (WeCom opens it),
//! else `text`. A token WeCom calls invalid or expired (40014, 42001) is fetched again and the
//! send tried once more; 45009 (too many calls) and -1 (busy) are tried again later.
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::channels::{classify, Outbound, SendError, WecomApp};

fn tokens() -> &'static Mutex<HashMap<String, (String, Instant)>> {
    static T: OnceLock<Mutex<HashMap<String, (String, Instant)>>> = OnceLock::new();
    T.get_or_init(Default::default)
}

fn key(w: &WecomApp) -> String {
    format!("{}|{}|{}", w.api_base, w.corp_id, w.agent_id)
}

async fn token(http: &reqwest::Client, w: &WecomApp, fresh: bool) -> Result<String, SendError> {
    if !fresh {
        let held = tokens()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key(w))
            .filter(|(_, until)| *until > Instant::now())
            .map(|(t, _)| t.clone());
        if let Some(t) = held {
            return Ok(t);
        }
    }
    let v = call(
        http.get(format!(
            "{}/cgi-bin/gettoken",
            w.api_base.trim_end_matches('/')
        ))
        .query(&[("corpid", &w.corp_id), ("corpsecret", &w.secret)]),
    )
    .await?;
    match (
        v["errcode"].as_i64().unwrap_or(0),
        v["access_token"].as_str(),
    ) {
        (0, Some(t)) => {
            // Kept a little shorter than WeCom says (7200 s), so it is never used stale.
            let ttl = v["expires_in"].as_u64().unwrap_or(7200).saturating_sub(300);
            tokens().lock().unwrap_or_else(|e| e.into_inner()).insert(
                key(w),
                (t.to_string(), Instant::now() + Duration::from_secs(ttl)),
            );
            Ok(t.to_string())
        }
        (-1, _) => Err(SendError::Retry("WeCom token: busy".into())),
        (code, _) => Err(SendError::Permanent(format!(
            "WeCom token: {code} {}",
            v["errmsg"].as_str().unwrap_or("")
        ))),
    }
}

/// At most `max` bytes of `s`, cut at a character.
fn cut(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(max.min(s.len()));
    for c in s.chars() {
        if out.len() + c.len_utf8() > max {
            break;
        }
        out.push(c);
    }
    out
}

/// The body WeCom takes: a text card (title ≤ 128 bytes, description ≤ 512) with the link, or a
/// text (≤ 2048 bytes).
pub fn payload(w: &WecomApp, to: &str, m: &Outbound<'_>) -> serde_json::Value {
    let title = if m.urgent {
        format!("【紧急】{}", m.title)
    } else {
        m.title.to_string()
    };
    match m.link {
        Some(url) => serde_json::json!({
            "touser": to,
            "msgtype": "textcard",
            "agentid": w.agent_id,
            "textcard": {
                "title": cut(&title, 128),
                "description": cut(m.body, 512),
                "url": url,
                "btntxt": "详情",
            },
            "enable_duplicate_check": 1,
            "duplicate_check_interval": 1800,
        }),
        None => serde_json::json!({
            "touser": to,
            "msgtype": "text",
            "agentid": w.agent_id,
            "text": {"content": cut(&format!("{title}\n{}", m.body), 2048)},
            "enable_duplicate_check": 1,
            "duplicate_check_interval": 1800,
        }),
    }
}

#[tracing::instrument(name = "messages::wecom::send", skip_all)]
pub async fn send(http: &reqwest::Client, w: &WecomApp, m: &Outbound<'_>) -> Result<(), SendError> {
    let Some(to) = m.wecom_userid else {
        return Err(SendError::Permanent("no WeCom account".into()));
    };
    let body = payload(w, to, m);
    let mut fresh = false;
    loop {
        let t = token(http, w, fresh).await?;
        let v = call(
            http.post(format!(
                "{}/cgi-bin/message/send",
                w.api_base.trim_end_matches('/')
            ))
            .query(&[("access_token", &t)])
            .json(&body),
        )
        .await?;
        match v["errcode"].as_i64() {
            // The person is not in the application's visible range: WeCom answers 0 and names them.
            Some(0) => {
                if let Some(u) = v["invaliduser"].as_str().filter(|s| !s.is_empty()) {
                    return Err(SendError::Permanent(format!("WeCom: invalid user {u}")));
                }
                return Ok(());
            }
            // A stale token: fetched again and the send tried once more.
            Some(40014) | Some(42001) if !fresh => fresh = true,
            _ => return outcome(&v),
        }
    }
}

/// Sends a WeCom API request and reads its JSON answer (an HTTP error or an unreadable answer is
/// the `SendError` it calls for).
pub(super) async fn call(req: reqwest::RequestBuilder) -> Result<serde_json::Value, SendError> {
    let r = req
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| SendError::Retry(format!("WeCom: {}", e.without_url())))?;
    if !r.status().is_success() {
        return Err(classify(r.status(), "WeCom"));
    }
    r.json()
        .await
        .map_err(|_| SendError::Retry("WeCom: unreadable answer".into()))
}

/// What a WeCom answer's `errcode` means for a send: 0 sent; 45009 (too many calls) and -1 (busy)
/// try again later; anything else will not pass.
pub(super) fn outcome(v: &serde_json::Value) -> Result<(), SendError> {
    let msg = || {
        format!(
            "WeCom: {} {}",
            v["errcode"],
            v["errmsg"].as_str().unwrap_or("")
        )
    };
    match v["errcode"].as_i64() {
        Some(0) => Ok(()),
        Some(45009) | Some(-1) => Err(SendError::Retry(msg())),
        Some(_) => Err(SendError::Permanent(msg())),
        None => Err(SendError::Retry("WeCom: no errcode".into())),
    }
}
