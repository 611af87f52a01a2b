//! E-mail through an SMTP relay with `lettre`: plain text (Base64, UTF-8), the subject encoded
//! for any mail client, the link at the end. A 4xx answer of the relay (greylisting, a full
//! queue) is tried again later; a 5xx (no such mailbox, refused) is not.
use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::channels::{Outbound, SendError, SmtpSettings};

fn transport(s: &SmtpSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, SendError> {
    let builder = match s.tls.as_str() {
        "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host)
            .map_err(|e| SendError::Permanent(format!("e-mail: {e}")))?,
        "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
        _ => {
            let tls = TlsParameters::new(s.host.clone())
                .map_err(|e| SendError::Permanent(format!("e-mail: {e}")))?;
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host).tls(Tls::Required(tls))
        }
    };
    let mut builder = builder.port(s.port).timeout(Some(Duration::from_secs(15)));
    if let (Some(u), Some(p)) = (&s.username, &s.password) {
        builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
    }
    Ok(builder.build())
}

#[tracing::instrument(name = "messages::email::send", skip_all)]
pub async fn send(s: &SmtpSettings, m: &Outbound<'_>) -> Result<(), SendError> {
    let Some(to) = m.email else {
        return Err(SendError::Permanent("no e-mail address".into()));
    };
    let to: Mailbox = to
        .parse()
        .map_err(|_| SendError::Permanent("e-mail: not an address".into()))?;
    let from: Mailbox = s
        .from
        .parse()
        .map_err(|_| SendError::Permanent("e-mail: GONGZHI_SMTP_FROM is not an address".into()))?;
    let mut text = m.body.to_string();
    if let Some(l) = m.link {
        text.push_str(&format!("\n\n查看：{l}"));
    }
    text.push_str("\n\n—— 共治 · 社区治理平台（此邮件由系统发送，请勿直接回复）");
    let subject = if m.urgent {
        format!("【紧急】{}", m.title)
    } else {
        m.title.to_string()
    };
    let email = Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .message_id(Some(format!("<{}@gongzhi>", m.delivery_id)))
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .header(ContentTransferEncoding::Base64)
                .body(text),
        )
        .map_err(|e| SendError::Permanent(format!("e-mail: {e}")))?;
    match transport(s)?.send(email).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_permanent() => Err(SendError::Permanent(format!("e-mail: {e}"))),
        Err(e) => Err(SendError::Retry(format!("e-mail: {e}"))),
    }
}
