//! `gongzhi bench-notices` (issue 15, docs/benchmarks.md): over the demo city (load `gongzhi
//! demo` first) it adds synthetic households (one member each) until the first street holds
//! `households` of them, then times
//! 1. publishing one notice to that street: the notice, a receipt per household (how it is
//!    reached), the accounts told and the hub's message, in one transaction — as
//!    `POST /notices` does;
//! 2. recording `receipts` household acknowledgements, each in its own transaction, from
//!    `writers` concurrent writers — the statement `POST /me/notices/{id}/ack` and the
//!    door-to-door record run.
//!
//! The synthetic households stay (they are marked `kind = 'bench'`); run it on a scratch data
//! directory.
use std::time::Instant;

use sea_orm::{FromQueryResult, Value};
use uuid::Uuid;

use crate::app::notices::{self, NewNotice};
use crate::app::{AppState, Ctx};
use crate::domain::{new_id, now_ms};
use crate::error::{AppError, AppResult};
use crate::store;

pub async fn run(
    state: &AppState,
    households: u64,
    receipts: u64,
    writers: usize,
) -> AppResult<()> {
    let db = &state.db;
    #[derive(FromQueryResult)]
    struct S {
        id: Uuid,
        name: String,
    }
    let street: S = store::fetch_opt(
        db,
        "SELECT id, name FROM areas WHERE kind = 'street' ORDER BY code LIMIT 1",
        vec![],
    )
    .await?
    .ok_or_else(|| AppError::internal("load the demo first: gongzhi demo"))?;
    #[derive(FromQueryResult)]
    struct G {
        grid_id: Uuid,
        community_id: Uuid,
        dwelling_id: Uuid,
        person_id: Uuid,
    }
    // One real dwelling and person per grid of the street, reused by the synthetic households.
    let mut grids: Vec<G> = store::fetch_all(
        db,
        "SELECT h.grid_id, h.community_id, h.dwelling_id, m.person_id FROM households h \
         JOIN household_members m ON m.household_id = h.id \
         WHERE h.street_id = $1 AND h.deleted_at IS NULL AND h.kind <> 'bench' LIMIT 20000",
        vec![street.id.into()],
    )
    .await?;
    let mut seen = std::collections::HashSet::new();
    grids.retain(|g| seen.insert(g.grid_id));
    if grids.is_empty() {
        return Err(AppError::internal(
            "the first street has no households: gongzhi demo",
        ));
    }
    let have = store::fetch_i64(
        db,
        "SELECT COUNT(*) AS n FROM households WHERE street_id = $1 AND deleted_at IS NULL",
        vec![street.id.into()],
    )
    .await?;
    let add = households.saturating_sub(have.max(0) as u64);
    let t = Instant::now();
    let today = crate::app::service::ymd(crate::domain::calendar::local_date(now_ms()));
    let mut left = add;
    let mut k = 0usize;
    while left > 0 {
        let n = left.min(50_000);
        let tx = store::write_tx(db).await?;
        let mut hh: Vec<Vec<Value>> = Vec::with_capacity(n as usize);
        let mut mm: Vec<Vec<Value>> = Vec::with_capacity(n as usize);
        let now = now_ms();
        for _ in 0..n {
            let g = &grids[k % grids.len()];
            k += 1;
            let id = new_id();
            hh.push(vec![
                street.id.into(),
                id.into(),
                g.community_id.into(),
                g.grid_id.into(),
                g.grid_id.into(),
                g.dwelling_id.into(),
                "bench".into(),
                now.into(),
                now.into(),
            ]);
            mm.push(vec![
                street.id.into(),
                new_id().into(),
                id.into(),
                g.person_id.into(),
                "head".into(),
                today.clone().into(),
            ]);
        }
        store::insert_many(
            &tx,
            "households",
            &[
                "street_id",
                "id",
                "community_id",
                "grid_id",
                "area_id",
                "dwelling_id",
                "kind",
                "created_at",
                "updated_at",
            ],
            hh,
        )
        .await?;
        store::insert_many(
            &tx,
            "household_members",
            &[
                "street_id",
                "id",
                "household_id",
                "person_id",
                "relation",
                "from_date",
            ],
            mm,
        )
        .await?;
        tx.commit().await?;
        left -= n;
    }
    if add > 0 {
        store::analyze(db).await?;
        println!(
            "added {add} synthetic households in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    let ctx = Ctx::system("bench", state.audit_key.clone());
    let t = Instant::now();
    let id = notices::publish_only(
        db,
        &ctx,
        NewNotice {
            area_id: street.id,
            title: format!("基准测试通知 {}", now_ms()),
            body: "bench".into(),
            households: true,
            tags: vec![],
            household_ids: vec![],
            roles: vec!["grid_worker".into()],
            requires_ack: true,
            form: vec![],
            public: false,
            urgent: false,
        },
        false,
    )
    .await?;
    let secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let d = notices::detail(db, &ctx, id).await?;
    let read = t.elapsed().as_secs_f64();
    let n = d.notice.coverage.households;
    println!(
        "publish to {} ({n} households), committed: {secs:.2} s ({:.0} receipts/s), {} reachable in the app; \
         its coverage by grid read back in {read:.2} s",
        street.name,
        n as f64 / secs,
        d.notice.coverage.reached_app
    );
    #[derive(FromQueryResult)]
    struct H {
        household_id: Uuid,
    }
    let hs: Vec<H> = store::fetch_all(
        db,
        "SELECT household_id FROM notice_receipts WHERE notice_id = $1 LIMIT $2",
        vec![d.notice.id.into(), (receipts as i64).into()],
    )
    .await?;
    let id = d.notice.id;
    let chunks: Vec<Vec<Uuid>> = hs
        .chunks(hs.len().div_ceil(writers.max(1)).max(1))
        .map(|c| c.iter().map(|h| h.household_id).collect())
        .collect();
    let t = Instant::now();
    let mut tasks = vec![];
    for chunk in chunks {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            for h in chunk {
                let tx = store::write_tx(&db).await?;
                n += notices::ack_household(&tx, id, h, "app", "bench", None, now_ms()).await?;
                tx.commit().await?;
            }
            Ok::<u64, AppError>(n)
        }));
    }
    let mut done = 0;
    for t in tasks {
        done += t.await.map_err(AppError::internal)??;
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{done} household receipts from {writers} writers, each its own transaction: {secs:.2} s ({:.0}/s)",
        done as f64 / secs
    );
    Ok(())
}
