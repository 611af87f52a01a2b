//! The channels that leave the server, behind one interface ([`Channel::send`]):
//! - SMS through Tencent Cloud (`SendSms`, API 2021-01-11, signed with TC3-HMAC-SHA256) or Alibaba
//!   Cloud (`SendSms`, API 2017-05-25, RPC signature HMAC-SHA1), as `GONGZHI_SMS_PROVIDER` says;
//! - e-mail through an SMTP relay (`lettre`; STARTTLS, TLS, or plain for a relay on the host);
//! - WeCom (企业微信) application messages to a person (`gettoken`, then `message/send`, the token
//!   kept until it expires and fetched again when WeCom says it is stale) and group robots;
//! - a generic signed webhook (a city platform, DingTalk or anything that takes JSON).
//!
//! Each speaks its provider's real wire format; the tests run them against local doubles that
//! check the signing and the payload the way the provider does. Credentials come from settings
//! (environment), are never logged, and never leave through the API.
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// `GONGZHI_WEBHOOK_*`: every message is POSTed as JSON, signed with HMAC-SHA256.
#[derive(Clone)]
pub struct WebhookSettings {
    pub url: String,
    pub secret: String,
}

/// `GONGZHI_WECOM_ROBOT_URL`: a WeCom (企业微信) group robot; the kinds it posts (one post per
/// message, to the group) in `GONGZHI_WECOM_ROBOT_KINDS`.
#[derive(Clone)]
pub struct WecomRobot {
    /// `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…` (the key is the credential).
    pub url: String,
    pub kinds: Vec<String>,
}

/// Which SMS provider's API `GONGZHI_SMS_*` speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmsProvider {
    /// Tencent Cloud SMS (`sms.tencentcloudapi.com`).
    Tencent,
    /// Alibaba Cloud SMS (`dysmsapi.aliyuncs.com`).
    Aliyun,
}

/// `GONGZHI_SMS_*`: the SMS provider's account. For Alibaba Cloud the secret id and key are the
/// AccessKey id and secret, and `sdk_app_id` is unused.
#[derive(Clone)]
pub struct SmsSettings {
    pub provider: SmsProvider,
    pub secret_id: String,
    pub secret_key: String,
    pub sdk_app_id: String,
    pub sign_name: String,
    pub region: String,
    /// `https://sms.tencentcloudapi.com` or `https://dysmsapi.aliyuncs.com` (a test double
    /// elsewhere).
    pub endpoint: String,
    /// Message kind → the provider's approved template id (SMS in China only sends approved
    /// templates); kinds without one are not sent by SMS.
    pub templates: Vec<(String, String)>,
    /// The token the delivery-report callback must carry (`?token=`).
    pub report_token: Option<String>,
}

/// `GONGZHI_SMTP_*`: an SMTP relay for e-mail.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// starttls (default, port 587) | tls (port 465) | none (a relay on the host or a test)
    pub tls: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// `共治 <noreply@example.gov.cn>`
    pub from: String,
}

/// `GONGZHI_WECOM_*`: a WeCom (企业微信) self-built application that sends messages to a person
/// (the user's WeCom account id, `users.wecom_userid`).
#[derive(Clone)]
pub struct WecomApp {
    pub corp_id: String,
    pub secret: String,
    pub agent_id: i64,
    /// `https://qyapi.weixin.qq.com` (a test double elsewhere).
    pub api_base: String,
}

/// The channels configured on this instance.
#[derive(Clone, Default)]
pub struct ChannelSettings {
    pub webhook: Option<WebhookSettings>,
    pub wecom_robot: Option<WecomRobot>,
    pub wecom_app: Option<WecomApp>,
    pub sms: Option<SmsSettings>,
    pub smtp: Option<SmtpSettings>,
    /// Local hours (Asia/Shanghai) in which non-urgent SMS to residents wait: (from, to).
    pub quiet_hours: (u32, u32),
    /// Sends per second per channel on this instance.
    pub rate_per_second: u32,
    /// Whether `serve` runs the sender every 2 s (tests run rounds themselves).
    pub background: bool,
}

impl std::fmt::Debug for ChannelSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secrets.
        f.debug_struct("ChannelSettings")
            .field("webhook", &self.webhook.as_ref().map(|w| &w.url))
            .field("wecom_robot", &self.wecom_robot.as_ref().map(|w| &w.kinds))
            .field("sms", &self.sms.as_ref().map(|s| (s.provider, &s.endpoint)))
            .field(
                "smtp",
                &self.smtp.as_ref().map(|s| (&s.host, s.port, &s.tls)),
            )
            .field(
                "wecom_app",
                &self.wecom_app.as_ref().map(|w| (&w.api_base, w.agent_id)),
            )
            .field("quiet_hours", &self.quiet_hours)
            .finish()
    }
}

impl ChannelSettings {
    /// From the environment: `GONGZHI_WEBHOOK_URL` + `_SECRET`; `GONGZHI_SMS_SECRET_ID`, `_SECRET_KEY`,
    /// `_SDK_APP_ID`, `_SIGN_NAME`, `_REGION` (ap-guangzhou), `_ENDPOINT`, `_TEMPLATES`
    /// (`case.dispatched=1234567,case.whistle=7654321`), `_REPORT_TOKEN`; `GONGZHI_QUIET_HOURS`
    /// (`22-7`). A channel half configured is an error naming what is missing.
    pub fn from_env() -> Result<ChannelSettings, String> {
        let webhook = match (var("GONGZHI_WEBHOOK_URL"), var("GONGZHI_WEBHOOK_SECRET")) {
            (None, None) => None,
            (Some(url), Some(secret)) => Some(WebhookSettings { url, secret }),
            _ => return Err("GONGZHI_WEBHOOK_URL and GONGZHI_WEBHOOK_SECRET go together".into()),
        };
        // Read in this order, so that of two half-configured services the same one is named.
        let sms = sms_from_env()?;
        let quiet_hours = quiet_hours_from_env()?;
        let wecom_robot = wecom_robot_from_env()?;
        let smtp = smtp_from_env()?;
        let wecom_app = wecom_app_from_env()?;
        let rate_per_second = rate_from_env()?;
        Ok(ChannelSettings {
            webhook,
            wecom_robot,
            wecom_app,
            sms,
            smtp,
            quiet_hours,
            rate_per_second,
            background: true,
        })
    }

    /// Whether messages of `kind` can go by SMS here (a provider with a template for it).
    pub fn sms_for(&self, kind: &str) -> bool {
        self.sms
            .as_ref()
            .is_some_and(|s| s.templates.iter().any(|(k, _)| k == kind))
    }

    /// The channels that leave the server, by name.
    pub fn names(&self) -> Vec<&'static str> {
        let mut v = vec![];
        if self.sms.is_some() {
            v.push("sms");
        }
        if self.webhook.is_some() {
            v.push("webhook");
        }
        if self.wecom_robot.is_some() {
            v.push("wecom_robot");
        }
        if self.smtp.is_some() {
            v.push("email");
        }
        if self.wecom_app.is_some() {
            v.push("wecom_app");
        }
        v
    }
}

/// A setting from the environment; an empty one counts as not given.
fn var(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.trim().is_empty())
}

/// SMS through Tencent Cloud or Alibaba Cloud, given `GONGZHI_SMS_SECRET_ID` and the rest.
fn sms_from_env() -> Result<Option<SmsSettings>, String> {
    Ok(match var("GONGZHI_SMS_SECRET_ID") {
        None => None,
        Some(secret_id) => {
            let need =
                |k: &str| var(k).ok_or_else(|| format!("{k} is needed with GONGZHI_SMS_SECRET_ID"));
            let provider = match var("GONGZHI_SMS_PROVIDER").as_deref() {
                None | Some("tencent") => SmsProvider::Tencent,
                Some("aliyun") => SmsProvider::Aliyun,
                Some(p) => {
                    return Err(format!(
                        "GONGZHI_SMS_PROVIDER is tencent or aliyun, not {p}"
                    ))
                }
            };
            let tencent = provider == SmsProvider::Tencent;
            Some(SmsSettings {
                provider,
                secret_id,
                secret_key: need("GONGZHI_SMS_SECRET_KEY")?,
                sdk_app_id: if tencent {
                    need("GONGZHI_SMS_SDK_APP_ID")?
                } else {
                    String::new()
                },
                sign_name: need("GONGZHI_SMS_SIGN_NAME")?,
                region: var("GONGZHI_SMS_REGION").unwrap_or_else(|| {
                    if tencent {
                        "ap-guangzhou"
                    } else {
                        "cn-hangzhou"
                    }
                    .into()
                }),
                endpoint: var("GONGZHI_SMS_ENDPOINT").unwrap_or_else(|| {
                    if tencent {
                        "https://sms.tencentcloudapi.com"
                    } else {
                        "https://dysmsapi.aliyuncs.com"
                    }
                    .into()
                }),
                templates: parse_templates(&need("GONGZHI_SMS_TEMPLATES")?)?,
                report_token: var("GONGZHI_SMS_REPORT_TOKEN"),
            })
        }
    })
}

/// The hours (Asia/Shanghai) when only urgent messages go out, `GONGZHI_QUIET_HOURS` (22-7).
fn quiet_hours_from_env() -> Result<(u32, u32), String> {
    Ok(match var("GONGZHI_QUIET_HOURS") {
        None => (22, 7),
        Some(s) => {
            let (a, b) = s
                .split_once('-')
                .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)))
                .filter(|(a, b): &(u32, u32)| *a < 24 && *b < 24)
                .ok_or("GONGZHI_QUIET_HOURS is from-to in whole hours, e.g. 22-7")?;
            (a, b)
        }
    })
}

/// A WeCom group robot, and the kinds of message it posts.
fn wecom_robot_from_env() -> Result<Option<WecomRobot>, String> {
    Ok(var("GONGZHI_WECOM_ROBOT_URL").map(|url| WecomRobot {
        url,
        kinds: var("GONGZHI_WECOM_ROBOT_KINDS")
            .unwrap_or_else(|| "case.whistle,case.overdue,case.returned".into())
            .split(',')
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty())
            .collect(),
    }))
}

/// E-mail through an SMTP server, given `GONGZHI_SMTP_HOST` and `GONGZHI_SMTP_FROM`.
fn smtp_from_env() -> Result<Option<SmtpSettings>, String> {
    Ok(match var("GONGZHI_SMTP_HOST") {
        None => None,
        Some(host) => {
            let tls = var("GONGZHI_SMTP_TLS").unwrap_or_else(|| "starttls".into());
            let port = match var("GONGZHI_SMTP_PORT") {
                Some(p) => p
                    .trim()
                    .parse::<u16>()
                    .map_err(|_| "GONGZHI_SMTP_PORT is a port number".to_string())?,
                None => match tls.as_str() {
                    "tls" => 465,
                    "none" => 25,
                    _ => 587,
                },
            };
            if !matches!(tls.as_str(), "starttls" | "tls" | "none") {
                return Err("GONGZHI_SMTP_TLS is starttls, tls or none".into());
            }
            let username = var("GONGZHI_SMTP_USERNAME");
            let password = var("GONGZHI_SMTP_PASSWORD");
            if username.is_some() != password.is_some() {
                return Err("GONGZHI_SMTP_USERNAME and GONGZHI_SMTP_PASSWORD go together".into());
            }
            let from = var("GONGZHI_SMTP_FROM")
                .ok_or("GONGZHI_SMTP_FROM is needed with GONGZHI_SMTP_HOST")?;
            if from.parse::<lettre::message::Mailbox>().is_err() {
                return Err(format!("GONGZHI_SMTP_FROM is not an address: {from}"));
            }
            Some(SmtpSettings {
                host,
                port,
                tls,
                username,
                password,
                from,
            })
        }
    })
}

/// A WeCom application (messages to members by their WeCom id).
fn wecom_app_from_env() -> Result<Option<WecomApp>, String> {
    Ok(match var("GONGZHI_WECOM_CORP_ID") {
        None => None,
        Some(corp_id) => {
            let need =
                |k: &str| var(k).ok_or_else(|| format!("{k} is needed with GONGZHI_WECOM_CORP_ID"));
            Some(WecomApp {
                corp_id,
                secret: need("GONGZHI_WECOM_SECRET")?,
                agent_id: need("GONGZHI_WECOM_AGENT_ID")?
                    .trim()
                    .parse()
                    .map_err(|_| "GONGZHI_WECOM_AGENT_ID is a number".to_string())?,
                api_base: var("GONGZHI_WECOM_API")
                    .unwrap_or_else(|| "https://qyapi.weixin.qq.com".into()),
            })
        }
    })
}

/// Sends a second per channel (providers limit it; 10 unless told).
fn rate_from_env() -> Result<u32, String> {
    Ok(match std::env::var("GONGZHI_CHANNEL_RATE") {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=100_000).contains(n))
            .ok_or_else(|| {
                "GONGZHI_CHANNEL_RATE: sends a second per channel, 1 to 100000".to_string()
            })?,
        _ => 10,
    })
}

fn parse_templates(s: &str) -> Result<Vec<(String, String)>, String> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| format!("GONGZHI_SMS_TEMPLATES: {p} is not kind=template_id"))
        })
        .collect()
}

/// What a channel sends: one message to one person.
pub struct Outbound<'a> {
    pub delivery_id: uuid::Uuid,
    pub kind: &'a str,
    pub urgent: bool,
    pub title: &'a str,
    pub body: &'a str,
    pub link: Option<&'a str>,
    /// The template's variables, in the template's order (SMS sends these, not text).
    pub params: Vec<String>,
    pub username: &'a str,
    pub display_name: &'a str,
    /// For SMS: the recipient's mobile number (decrypted just for this call).
    pub phone: Option<&'a str>,
    /// For e-mail: the recipient's address (decrypted just for this call).
    pub email: Option<&'a str>,
    /// For WeCom application messages: the recipient's WeCom account id.
    pub wecom_userid: Option<&'a str>,
    /// The template's variables by name (Alibaba Cloud SMS sends these).
    pub vars: &'a serde_json::Map<String, serde_json::Value>,
    pub created_at: &'a str,
}

/// Why a send did not go through.
#[derive(Debug)]
pub enum SendError {
    /// Try again later (network, 5xx, rate limits).
    Retry(String),
    /// Trying again will not help (a refused number, a bad template, 4xx).
    Permanent(String),
}

/// A channel that leaves the server.
pub enum Channel<'a> {
    Sms(&'a SmsSettings),
    Email(&'a SmtpSettings),
    Webhook(&'a WebhookSettings),
    WecomRobot(&'a WecomRobot),
    WecomApp(&'a WecomApp),
}

impl Channel<'_> {
    /// Sends one message; `Ok` carries the provider's reference (for delivery reports).
    #[tracing::instrument(name = "messages::channels::send", skip_all)]
    pub async fn send(
        &self,
        http: &reqwest::Client,
        m: &Outbound<'_>,
    ) -> Result<Option<String>, SendError> {
        match self {
            Channel::Sms(s) => match s.provider {
                SmsProvider::Tencent => send_sms(http, s, m).await,
                SmsProvider::Aliyun => super::aliyun::send(http, s, m).await,
            },
            Channel::Email(s) => super::email::send(s, m).await.map(|_| None),
            Channel::Webhook(w) => send_webhook(http, w, m).await.map(|_| None),
            Channel::WecomRobot(w) => send_wecom_robot(http, w, m).await.map(|_| None),
            Channel::WecomApp(w) => super::wecom::send(http, w, m).await.map(|_| None),
        }
    }
}

fn hex_sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// Tencent Cloud API v3 signing (TC3-HMAC-SHA256) of a POST with a JSON body, signed headers
/// `content-type;host`: returns the `Authorization` header.
pub fn tc3_authorization(
    secret_id: &str,
    secret_key: &str,
    service: &str,
    host: &str,
    content_type: &str,
    payload: &str,
    timestamp: i64,
) -> String {
    let date = time::OffsetDateTime::from_unix_timestamp(timestamp)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .date();
    let date = format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        date.month() as u8,
        date.day()
    );
    let canonical = format!(
        "POST\n/\n\ncontent-type:{content_type}\nhost:{host}\n\ncontent-type;host\n{}",
        hex_sha256(payload.as_bytes())
    );
    let scope = format!("{date}/{service}/tc3_request");
    let to_sign = format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{}",
        hex_sha256(canonical.as_bytes())
    );
    let k_date = hmac(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let k_service = hmac(&k_date, service.as_bytes());
    let k_signing = hmac(&k_service, b"tc3_request");
    let signature = hex::encode(hmac(&k_signing, to_sign.as_bytes()));
    format!(
        "TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host, Signature={signature}"
    )
}

pub(super) fn classify(status: reqwest::StatusCode, what: &str) -> SendError {
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        SendError::Retry(format!("{what}: HTTP {status}"))
    } else {
        SendError::Permanent(format!("{what}: HTTP {status}"))
    }
}

/// The provider's template for the message's kind and the recipient's mobile, or why not.
pub(super) fn sms_target<'a>(
    s: &'a SmsSettings,
    m: &Outbound<'a>,
) -> Result<(&'a String, &'a str), SendError> {
    let template = s
        .templates
        .iter()
        .find(|(k, _)| k == m.kind)
        .map(|(_, t)| t)
        .ok_or_else(|| SendError::Permanent(format!("no SMS template for {}", m.kind)))?;
    let phone = m
        .phone
        .ok_or_else(|| SendError::Permanent("no mobile number".into()))?;
    Ok((template, phone))
}

async fn send_sms(
    http: &reqwest::Client,
    s: &SmsSettings,
    m: &Outbound<'_>,
) -> Result<Option<String>, SendError> {
    let (template, phone) = sms_target(s, m)?;
    let e164 = if phone.starts_with('+') {
        phone.to_string()
    } else {
        format!("+86{phone}")
    };
    let body = serde_json::json!({
        "PhoneNumberSet": [e164],
        "SmsSdkAppId": s.sdk_app_id,
        "SignName": s.sign_name,
        "TemplateId": template,
        "TemplateParamSet": m.params,
        "SessionContext": m.delivery_id.to_string(),
    })
    .to_string();
    let host = s
        .endpoint
        .split("://")
        .nth(1)
        .unwrap_or(&s.endpoint)
        .trim_end_matches('/')
        .to_string();
    let ts = time::OffsetDateTime::now_utc().unix_timestamp();
    let ct = "application/json; charset=utf-8";
    let auth = tc3_authorization(&s.secret_id, &s.secret_key, "sms", &host, ct, &body, ts);
    let r = http
        .post(&s.endpoint)
        .header("Authorization", auth)
        .header("Content-Type", ct)
        .header("Host", &host)
        .header("X-TC-Action", "SendSms")
        .header("X-TC-Version", "2021-01-11")
        .header("X-TC-Timestamp", ts.to_string())
        .header("X-TC-Region", &s.region)
        .body(body)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| SendError::Retry(format!("SMS: {}", e.without_url())))?;
    if !r.status().is_success() {
        return Err(classify(r.status(), "SMS"));
    }
    let v: serde_json::Value = r
        .json()
        .await
        .map_err(|_| SendError::Retry("SMS: unreadable answer".into()))?;
    let resp = &v["Response"];
    if let Some(e) = resp.get("Error") {
        let code = e["Code"].as_str().unwrap_or("");
        let msg = format!("SMS: {code} {}", e["Message"].as_str().unwrap_or(""));
        // Signature or credential problems, rate limits and internal errors may pass; a bad
        // parameter will not.
        return Err(
            if code.starts_with("InternalError") || code.starts_with("RequestLimitExceeded") {
                SendError::Retry(msg)
            } else {
                SendError::Permanent(msg)
            },
        );
    }
    let st = &resp["SendStatusSet"][0];
    match st["Code"].as_str() {
        Some("Ok") => Ok(st["SerialNo"].as_str().map(String::from)),
        Some(code) if code.starts_with("LimitExceeded") => Err(SendError::Retry(format!(
            "SMS: {code} {}",
            st["Message"].as_str().unwrap_or("")
        ))),
        Some(code) => Err(SendError::Permanent(format!(
            "SMS: {code} {}",
            st["Message"].as_str().unwrap_or("")
        ))),
        None => Err(SendError::Retry("SMS: no send status".into())),
    }
}

/// `sha256=` + hex(HMAC-SHA256(secret, "{timestamp}.{body}")): what `X-Gongzhi-Signature` carries.
pub fn webhook_signature(secret: &str, timestamp: i64, body: &str) -> String {
    format!(
        "sha256={}",
        hex::encode(hmac(
            secret.as_bytes(),
            format!("{timestamp}.{body}").as_bytes()
        ))
    )
}

async fn send_webhook(
    http: &reqwest::Client,
    w: &WebhookSettings,
    m: &Outbound<'_>,
) -> Result<(), SendError> {
    let body = serde_json::json!({
        "id": m.delivery_id,
        "kind": m.kind,
        "urgent": m.urgent,
        "title": m.title,
        "body": m.body,
        "link": m.link,
        "recipient": {"username": m.username, "display_name": m.display_name},
        "created_at": m.created_at,
    })
    .to_string();
    let ts = time::OffsetDateTime::now_utc().unix_timestamp();
    let r = http
        .post(&w.url)
        .header("Content-Type", "application/json")
        .header("X-Gongzhi-Event", m.kind)
        .header("X-Gongzhi-Delivery", m.delivery_id.to_string())
        .header("X-Gongzhi-Timestamp", ts.to_string())
        .header(
            "X-Gongzhi-Signature",
            webhook_signature(&w.secret, ts, &body),
        )
        .body(body)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| SendError::Retry(format!("webhook: {}", e.without_url())))?;
    if r.status().is_success() {
        Ok(())
    } else {
        Err(classify(r.status(), "webhook"))
    }
}

/// A WeCom group robot message: markdown, at most 4,096 bytes, answered `{"errcode": 0}`.
async fn send_wecom_robot(
    http: &reqwest::Client,
    w: &WecomRobot,
    m: &Outbound<'_>,
) -> Result<(), SendError> {
    let mut content = format!(
        "**{}{}**\n{}",
        if m.urgent {
            "<font color=\"warning\">【紧急】</font>"
        } else {
            ""
        },
        m.title,
        m.body
    );
    if let Some(l) = m.link {
        content.push_str(&format!("\n[查看]({l})"));
    }
    while content.len() > 4096 {
        content.pop();
    }
    let body = serde_json::json!({"msgtype": "markdown", "markdown": {"content": content}});
    let v = super::wecom::call(http.post(&w.url).json(&body)).await?;
    super::wecom::outcome(&v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of Tencent Cloud's "Signature v3" documentation (CVM DescribeInstances,
    /// POST with a JSON body, signed headers content-type;host).
    #[test]
    fn tc3_matches_the_providers_documented_example() {
        let auth = tc3_authorization(
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            "cvm",
            "cvm.tencentcloudapi.com",
            "application/json; charset=utf-8",
            r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#,
            1551113065,
        );
        assert_eq!(
            auth,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, \
             SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
    }

    #[test]
    fn settings_never_print_secrets() {
        let s = ChannelSettings {
            webhook: Some(WebhookSettings {
                url: "https://example.org/hook".into(),
                secret: "s3cret-value".into(),
            }),
            ..Default::default()
        };
        assert!(!format!("{s:?}").contains("s3cret"));
        assert_eq!(parse_templates("a=1, b=2").unwrap().len(), 2);
        assert!(parse_templates("a").is_err());
    }
}
