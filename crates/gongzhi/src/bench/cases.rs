//! `gongzhi bench-cases`: fills the database with synthetic cases (a year, spread over the demo
//! city's grids, categories and units, in their final states), folds their counters the way the
//! server does, then times the rate dashboard, trend and ranking for the city, a street, a
//! community and a grid over a year, a quarter and a month (docs/benchmarks.md).
use std::time::Instant;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::FromQueryResult;
use uuid::Uuid;

use crate::app::cases::query::CaseRow;
use crate::app::cases::stats::{self, StatsQuery};
use crate::app::{AppState, Ctx};
use crate::domain::calendar::{day_number, local_date};
use crate::domain::cases::{case_no, Status};
use crate::domain::now_ms;
use crate::error::{AppError, AppResult};
use crate::store;

pub async fn run(state: &AppState, n: u64, queries: usize) -> AppResult<()> {
    let db = &state.db;
    #[derive(FromQueryResult)]
    struct G {
        id: Uuid,
        community: Uuid,
        street: Uuid,
    }
    let grids: Vec<G> = store::fetch_all(
        db,
        "SELECT g.id, c.id AS community, c.parent_id AS street FROM areas g JOIN areas c ON c.id = g.parent_id \
         WHERE g.kind = 'grid' ORDER BY g.code",
        vec![],
    )
    .await?;
    #[derive(FromQueryResult)]
    struct K {
        id: Uuid,
        code: String,
    }
    let cats: Vec<K> = store::fetch_all(
        db,
        "SELECT id, code FROM case_categories WHERE level = 2",
        vec![],
    )
    .await?;
    #[derive(FromQueryResult)]
    struct U {
        id: Uuid,
    }
    let units: Vec<U> = store::fetch_all(db, "SELECT id FROM case_units", vec![]).await?;
    if grids.is_empty() || cats.is_empty() || units.is_empty() {
        return Err(AppError::internal("load the demo first: gongzhi demo"));
    }
    let requester = state.keys.encrypt("压测");
    let mut rng = ChaCha8Rng::seed_from_u64(4204);
    let now = now_ms();
    let cols: Vec<&str> = crate::app::cases::query::COLUMNS
        .split(", ")
        .map(str::trim)
        .collect();
    let t = Instant::now();
    let mut done: u64 = 0;
    const BATCH: u64 = 20_000;
    while done < n {
        let take = BATCH.min(n - done);
        let mut rows = Vec::with_capacity(take as usize);
        let mut deltas = Vec::with_capacity(take as usize);
        for _ in 0..take {
            let g = &grids[rng.gen_range(0..grids.len())];
            let k = cats.choose(&mut rng).expect("categories");
            let unit = units.choose(&mut rng).expect("units").id;
            let received = now - rng.gen_range(0..365 * 86_400_000i64);
            let day = day_number(local_date(received));
            let dispatched = received + 3_600_000;
            let due = dispatched + 3 * 86_400_000;
            let x: f64 = rng.gen();
            let handled = if x < 0.9 {
                Some(dispatched + rng.gen_range(3_600_000..4 * 86_400_000))
            } else {
                None
            };
            let closed = handled.is_some() && received < now - 10 * 86_400_000;
            let id = Uuid::now_v7();
            let r = CaseRow {
                id,
                no: case_no(day, rng.gen()),
                street_id: g.street,
                community_id: g.community,
                grid_id: Some(g.id),
                area_id: g.id,
                kind: "complaint".into(),
                channel: "hotline".into(),
                category_id: k.id,
                category_code: k.code.clone(),
                title: "压测诉求".into(),
                description: "压测诉求：小区门口垃圾两天没有清运".into(),
                requester_name: requester.clone(),
                status: if closed {
                    Status::Closed
                } else if handled.is_some() {
                    Status::Handled
                } else {
                    Status::InProgress
                }
                .as_str()
                .into(),
                unit_id: Some(unit),
                first_unit_id: Some(unit),
                route_rule: Some("power_list".into()),
                route_unit_id: Some(unit),
                overdue: handled.map(|h| h > due).unwrap_or(due < now),
                registered_at: Some(dispatched),
                dispatched_at: Some(dispatched),
                responded_at: Some(dispatched + 1_800_000),
                handled_at: handled,
                closed_at: closed.then_some(now),
                response_due_at: Some(dispatched + 7_200_000),
                handle_due_at: Some(due),
                warn_at: Some(due - 86_400_000),
                result: handled.map(|_| "已处置".to_string()),
                outcome: handled.map(|_| {
                    if rng.gen_bool(0.85) {
                        "resolved"
                    } else {
                        "explained"
                    }
                    .to_string()
                }),
                rating: closed
                    .then(|| {
                        ["satisfied", "satisfied", "basic", "dissatisfied"]
                            .choose(&mut rng)
                            .map(|s| s.to_string())
                    })
                    .flatten(),
                updated_at: now,
                ..CaseRow::received(received, day)
            };
            deltas.push(stats::new_case_delta(&r));
            rows.push(crate::app::cases::intake::row_values(&r));
        }
        let tx = store::write_tx(db).await?;
        store::insert_many(&tx, "cases", &cols, rows).await?;
        store::insert_many(&tx, "case_stat_deltas", &stats::delta_columns(), deltas).await?;
        tx.commit().await?;
        stats::fold(db).await?;
        done += take;
        if done % 500_000 == 0 || done == n {
            println!(
                "  {done} cases written and folded ({:.0} s)",
                t.elapsed().as_secs_f64()
            );
        }
    }
    store::analyze(db).await?;
    let total = store::fetch_i64(db, "SELECT COUNT(*) FROM cases", vec![]).await?;
    let stat_rows = store::fetch_i64(db, "SELECT COUNT(*) FROM case_stats", vec![]).await?;
    println!(
        "{total} cases in the database, {stat_rows} aggregate rows; loaded in {:.0} s",
        t.elapsed().as_secs_f64()
    );

    // Time the reads.
    let ctx = Ctx::system("bench", state.audit_key.clone());
    let first = |kind: &str| {
        let kind = kind.to_string();
        async move {
            #[derive(FromQueryResult)]
            struct A {
                id: Uuid,
            }
            store::fetch_opt::<A, _>(
                db,
                "SELECT id FROM areas WHERE kind = $1 ORDER BY code LIMIT 1",
                vec![kind.into()],
            )
            .await
            .ok()
            .flatten()
            .map(|a| a.id)
        }
    };
    let today = local_date(now);
    let fmt = |d: time::Date| format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day());
    let periods = [
        ("year", fmt(today - time::Duration::days(364)), fmt(today)),
        ("quarter", fmt(today - time::Duration::days(90)), fmt(today)),
        ("month", fmt(today - time::Duration::days(29)), fmt(today)),
    ];
    let areas = [
        ("city", first("city").await),
        ("street", first("street").await),
        ("community", first("community").await),
        ("grid", first("grid").await),
    ];
    println!(
        "{:<10} {:<8} {:>10} {:>10} {:>10}   (dashboard, {queries} queries each)",
        "area", "period", "p50 ms", "p99 ms", "max ms"
    );
    for (aname, area) in &areas {
        for (pname, from, to) in &periods {
            let mut ms = vec![];
            for _ in 0..queries {
                let q = StatsQuery {
                    area_id: *area,
                    from: Some(from.clone()),
                    to: Some(to.clone()),
                    bucket: None,
                    by: None,
                };
                let t = Instant::now();
                let d = stats::dashboard(state, &ctx, q).await?;
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
                std::hint::black_box(d);
            }
            ms.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            let p = |f: f64| ms[((ms.len() as f64 - 1.0) * f).round() as usize];
            println!(
                "{aname:<10} {pname:<8} {:>10.2} {:>10.2} {:>10.2}",
                p(0.5),
                p(0.99),
                p(1.0)
            );
        }
    }
    for (what, by) in [
        ("trend by month", None),
        ("ranking by community", Some("community")),
        ("ranking by unit", Some("unit")),
    ] {
        let mut ms = vec![];
        for _ in 0..queries.min(20) {
            let q = StatsQuery {
                area_id: None,
                from: Some(periods[0].1.clone()),
                to: Some(periods[0].2.clone()),
                bucket: Some("month".into()),
                by: by.map(str::to_string),
            };
            let t = Instant::now();
            if by.is_some() {
                std::hint::black_box(stats::ranking(state, &ctx, q).await?);
            } else {
                std::hint::black_box(stats::trend(state, &ctx, q).await?);
            }
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        ms.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        println!(
            "city, year, {what}: p50 {:.2} ms, max {:.2} ms",
            ms[ms.len() / 2],
            ms[ms.len() - 1]
        );
    }
    Ok(())
}
