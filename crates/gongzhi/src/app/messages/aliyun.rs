//! Alibaba Cloud SMS (`SendSms`, API 2017-05-25) with its RPC signature: the parameters sorted by
//! name, each name and value percent-encoded (RFC 3986: only `A–Z a–z 0–9 - _ . ~` kept), joined
//! with `&`; the string to sign is `POST&%2F&` + that, encoded again; the signature is
//! Base64(HMAC-SHA1(AccessKeySecret + "&", string to sign)). The parameters go as a form body.
//! Templates take named variables (`TemplateParam` is a JSON object), which are ours as they are.
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::channels::{classify, Outbound, SendError, SmsSettings};

/// RFC 3986 percent-encoding as Alibaba Cloud's signature wants it (space is `%20`, `~` kept).
pub fn percent(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The signature of `params` (without `Signature`) for `method` (GET or POST).
pub fn signature(method: &str, params: &[(String, String)], secret: &str) -> String {
    use base64::Engine;
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let query = sorted
        .iter()
        .map(|(k, v)| format!("{}={}", percent(k), percent(v)))
        .collect::<Vec<_>>()
        .join("&");
    let to_sign = format!("{method}&{}&{}", percent("/"), percent(&query));
    let mut mac = Hmac::<Sha1>::new_from_slice(format!("{secret}&").as_bytes())
        .expect("HMAC takes any key length");
    mac.update(to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// UTC `yyyy-MM-ddTHH:mm:ssZ`.
fn timestamp() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[tracing::instrument(name = "messages::aliyun::send", skip_all)]
pub async fn send(
    http: &reqwest::Client,
    s: &SmsSettings,
    m: &Outbound<'_>,
) -> Result<Option<String>, SendError> {
    let (template, phone) = super::channels::sms_target(s, m)?;
    // Only the variables the template names, as strings (Alibaba Cloud refuses numbers).
    let vars: serde_json::Map<String, serde_json::Value> = m
        .vars
        .iter()
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => String::new(),
                x => x.to_string(),
            };
            (k.clone(), serde_json::Value::String(v))
        })
        .collect();
    let mut params: Vec<(String, String)> = vec![
        ("AccessKeyId".into(), s.secret_id.clone()),
        ("Action".into(), "SendSms".into()),
        ("Format".into(), "JSON".into()),
        ("RegionId".into(), s.region.clone()),
        ("SignatureMethod".into(), "HMAC-SHA1".into()),
        ("SignatureNonce".into(), crate::domain::new_id().to_string()),
        ("SignatureVersion".into(), "1.0".into()),
        ("Timestamp".into(), timestamp()),
        ("Version".into(), "2017-05-25".into()),
        (
            "PhoneNumbers".into(),
            phone.trim_start_matches("+86").to_string(),
        ),
        ("SignName".into(), s.sign_name.clone()),
        ("TemplateCode".into(), template.clone()),
        (
            "TemplateParam".into(),
            serde_json::Value::Object(vars).to_string(),
        ),
        ("OutId".into(), m.delivery_id.to_string()),
    ];
    let sig = signature("POST", &params, &s.secret_key);
    params.push(("Signature".into(), sig));
    let body = params
        .iter()
        .map(|(k, v)| format!("{}={}", percent(k), percent(v)))
        .collect::<Vec<_>>()
        .join("&");
    let r = http
        .post(&s.endpoint)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| SendError::Retry(format!("SMS: {}", e.without_url())))?;
    let status = r.status();
    let v: serde_json::Value = match r.json().await {
        Ok(v) => v,
        Err(_) if !status.is_success() => return Err(classify(status, "SMS")),
        Err(_) => return Err(SendError::Retry("SMS: unreadable answer".into())),
    };
    let code = v["Code"].as_str().unwrap_or("");
    let msg = format!("SMS: {code} {}", v["Message"].as_str().unwrap_or(""));
    match code {
        "OK" => Ok(v["BizId"].as_str().map(String::from)),
        // Flow control, throttling and the provider's own faults pass; anything else will not.
        c if c.starts_with("isv.BUSINESS_LIMIT_CONTROL")
            || c.starts_with("Throttling")
            || c.starts_with("isp.")
            || c == "ServiceUnavailable"
            || c == "InternalError" =>
        {
            Err(SendError::Retry(msg))
        }
        "" if !status.is_success() => Err(classify(status, "SMS")),
        _ => Err(SendError::Permanent(msg)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of Alibaba Cloud SMS's signature documentation (GET, Format=XML).
    #[test]
    fn signature_matches_the_providers_documented_example() {
        let p = |k: &str, v: &str| (k.to_string(), v.to_string());
        let params = vec![
            p("AccessKeyId", "testId"),
            p("Timestamp", "2017-07-12T02:42:19Z"),
            p("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"),
            p("PhoneNumbers", "15300000001"),
            p("SignName", "阿里云短信测试专用"),
            p("TemplateParam", "{\"customer\":\"test\"}"),
            p("TemplateCode", "SMS_71390007"),
            p("OutId", "123"),
            p("RegionId", "cn-hangzhou"),
            p("Action", "SendSms"),
            p("Version", "2017-05-25"),
            p("SignatureMethod", "HMAC-SHA1"),
            p("SignatureVersion", "1.0"),
            p("Format", "XML"),
        ];
        assert_eq!(
            signature("GET", &params, "testSecret"),
            "zJDF+Lrzhj/ThnlvIToysFRq6t4="
        );
        assert_eq!(percent("a b*~"), "a%20b%2A~");
    }
}
