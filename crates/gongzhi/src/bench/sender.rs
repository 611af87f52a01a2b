//! `gongzhi bench-sender` (issue 15, docs/benchmarks.md): the message sender's drain rate. It
//! starts a webhook endpoint on a loopback port (answers 200 to each signed post, counting them),
//! adds `people` synthetic accounts, writes one message to all of them through the hub, and runs
//! the sender's rounds — fan-out to the webhook, claim, send, record — until nothing is left.
//! The synthetic accounts stay (disabled afterwards); run it on a scratch data directory.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use sea_orm::Value;
use uuid::Uuid;

use crate::app::messages::channels::WebhookSettings;
use crate::app::messages::{self, sender, Outgoing};
use crate::app::AppState;
use crate::domain::{new_id, now_ms};
use crate::error::{AppError, AppResult};
use crate::store;

/// `n` active accounts named `{prefix}-{i}` that cannot sign in (no password hash verifies),
/// for benchmarks and tests of the message hub.
pub async fn synthetic_accounts<C: sea_orm::ConnectionTrait>(
    c: &C,
    prefix: &str,
    n: usize,
) -> AppResult<Vec<Uuid>> {
    let now = now_ms();
    let ids: Vec<Uuid> = (0..n).map(|_| new_id()).collect();
    let rows: Vec<Vec<Value>> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            vec![
                (*id).into(),
                format!("{prefix}-{i}").into(),
                format!("基准{i}").into(),
                "!".into(),
                false.into(),
                false.into(),
                0i32.into(),
                now.into(),
                now.into(),
                now.into(),
            ]
        })
        .collect();
    store::insert_many(
        c,
        "users",
        &[
            "id",
            "username",
            "display_name",
            "password_hash",
            "disabled",
            "must_change_password",
            "failed_logins",
            "password_changed_at",
            "created_at",
            "updated_at",
        ],
        rows,
    )
    .await?;
    Ok(ids)
}

pub async fn run(state: &AppState, people: usize) -> AppResult<()> {
    let seen = Arc::new(AtomicU64::new(0));
    let counter = seen.clone();
    let double = axum::Router::new().route(
        "/",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let counter = counter.clone();
            async move {
                if headers.contains_key("x-gongzhi-signature") {
                    counter.fetch_add(1, Ordering::Relaxed);
                    axum::http::StatusCode::OK
                } else {
                    axum::http::StatusCode::UNAUTHORIZED
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(AppError::internal)?;
    let url = format!(
        "http://{}/",
        listener.local_addr().map_err(AppError::internal)?
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, double).await;
    });

    let db = &state.db;
    let t = Instant::now();
    let now = now_ms();
    let tag = now.to_string();
    let tx = store::write_tx(db).await?;
    let ids = synthetic_accounts(&tx, &format!("bench-{tag}"), people).await?;
    let mut vars = serde_json::Map::new();
    vars.insert("amount".into(), "+10".into());
    vars.insert("note".into(), "基准测试".into());
    vars.insert("balance".into(), "10".into());
    messages::enqueue(
        &tx,
        Outgoing {
            key: "points.posted",
            dedup: format!("bench-sender:{tag}"),
            urgent: false,
            area_id: None,
            link: None,
            vars,
            recipients: ids,
        },
    )
    .await?;
    tx.commit().await?;
    println!(
        "{people} accounts and one message to them written in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let mut settings = (*state.settings).clone();
    settings.channels.webhook = Some(WebhookSettings {
        url,
        secret: "bench-secret".into(),
    });
    settings.channels.sms = None;
    settings.channels.wecom_robot = None;
    settings.channels.rate_per_second = 100_000;
    let st = AppState {
        settings: Arc::new(settings),
        ..state.clone()
    };
    let t = Instant::now();
    let (mut fanned, mut sent, mut other) = (0u64, 0u64, 0u64);
    loop {
        let r = sender::run_once(&st).await?;
        fanned += r.fanned_out;
        sent += r.sent;
        other += r.retried + r.failed + r.held;
        if r.fanned_out + r.sent + r.retried + r.failed + r.held == 0 {
            break;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "sender: {fanned} webhook deliveries fanned out, {sent} sent ({other} retried, failed or held) in {secs:.2} s \
         ({:.0} messages/s); the endpoint counted {}",
        sent as f64 / secs,
        seen.load(Ordering::Relaxed)
    );
    store::exec(
        db,
        "UPDATE users SET disabled = TRUE WHERE username LIKE $1",
        vec![format!("bench-{tag}-%").into()],
    )
    .await?;
    Ok(())
}
