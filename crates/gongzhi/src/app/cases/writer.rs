//! Group commit for case intake. Concurrent intakes are queued to one writer task, which stores
//! whatever has queued up (up to [`MAX_BATCH`]) in one transaction and answers each intake only
//! after that transaction has committed. One commit then serves many cases, and writers never
//! wait on one another's locks (SQLite has a single writer; on PostgreSQL fewer commits mean
//! fewer WAL flushes). If a batch fails, its cases are retried one by one, so one bad case (a
//! racing duplicate idempotency key) fails alone.
use tokio::sync::{mpsc, oneshot};

use super::lifecycle::Attachment;
use super::query::CaseRow;
use crate::app::Ctx;
use crate::domain::cases::Status;
use crate::error::{AppError, AppResult};
use crate::store::{self, Db};

pub const MAX_BATCH: usize = 256;

pub struct Job {
    pub ctx: Ctx,
    /// The proof of the submitter's check (their own case, or an import's gate).
    pub checked: crate::app::scope::Checked,
    pub row: CaseRow,
    /// The first timeline event's note (why the case is received where it is).
    pub note: Option<String>,
    pub attachments: Vec<Attachment>,
    pub reply: oneshot::Sender<AppResult<()>>,
}

/// Starts the writer task for `db`; returns its queue.
pub fn start(db: Db) -> mpsc::Sender<Job> {
    let (tx, mut rx) = mpsc::channel::<Job>(4 * MAX_BATCH);
    tokio::spawn(async move {
        let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
        while let Some(first) = rx.recv().await {
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(j) => batch.push(j),
                    Err(_) => break,
                }
            }
            write(&db, std::mem::take(&mut batch)).await;
        }
    });
    tx
}

/// Stores a batch: its cases, their first events and their counters, three multi-row inserts.
async fn write_all(db: &Db, jobs: &[Job]) -> AppResult<()> {
    let cols: Vec<&str> = super::query::COLUMNS.split(", ").map(str::trim).collect();
    let cases = jobs
        .iter()
        .map(|j| super::intake::row_values(&j.row))
        .collect();
    let events = jobs
        .iter()
        .map(|j| {
            super::lifecycle::event_values(
                &j.ctx,
                &j.checked,
                &j.row,
                "receive",
                None,
                Some(Status::Received),
                None,
                j.note.clone(),
                &j.attachments,
            )
        })
        .collect();
    let deltas = jobs
        .iter()
        .map(|j| super::stats::new_case_delta(&j.row))
        .collect();
    let tx = store::write_tx(db).await?;
    store::insert_many(&tx, "cases", &cols, cases).await?;
    store::insert_many(&tx, "case_events", &super::lifecycle::EVENT_COLUMNS, events).await?;
    store::insert_many(
        &tx,
        "case_stat_deltas",
        &super::stats::delta_columns(),
        deltas,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn write(db: &Db, jobs: Vec<Job>) {
    if write_all(db, &jobs).await.is_ok() {
        for j in jobs {
            let _ = j.reply.send(Ok(()));
        }
        return;
    }
    for j in jobs {
        let r = write_all(db, std::slice::from_ref(&j)).await;
        let _ = j.reply.send(r);
    }
}

/// Queues a case and waits until it is committed.
#[tracing::instrument(name = "cases::writer::submit", skip_all)]
pub async fn submit(
    queue: &mpsc::Sender<Job>,
    ctx: &Ctx,
    checked: crate::app::scope::Checked,
    row: CaseRow,
    note: Option<String>,
    attachments: Vec<Attachment>,
) -> AppResult<()> {
    let (reply, wait) = oneshot::channel();
    queue
        .send(Job {
            ctx: ctx.clone(),
            checked,
            row,
            note,
            attachments,
            reply,
        })
        .await
        .map_err(|_| AppError::internal("the intake writer has stopped"))?;
    wait.await
        .map_err(|_| AppError::internal("the intake writer dropped a case"))?
}
