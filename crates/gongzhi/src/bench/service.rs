//! `gongzhi bench-service` (docs/benchmarks.md, issue 5): over the demo city (load `gongzhi demo`
//! first) it adds N synthetic members (persons, volunteers, accounts, party members) in one
//! community, then times
//! 1. checking out an activity of `people` participants and confirming it, with every posting it
//!    triggers, in one transaction, as `POST /activities/{id}/checkout-all` + `/confirm` do;
//! 2. reading a balance of an account with one posting and of one with `history` postings;
//! 3. the annual ratings of all the members (`POST /party-ratings/compute`).
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{FromQueryResult, Value};
use uuid::Uuid;

use crate::app::service::activities::{activity_row, checkout_all_in, confirm_in};
use crate::app::service::ledger::{self, Actor, POSTING_COLUMNS};
use crate::app::AppState;
use crate::domain::calendar::local_date;
use crate::domain::{new_id, now_ms};
use crate::error::{AppError, AppResult};
use crate::store;

pub async fn run(state: &AppState, people: usize, members: usize, history: usize) -> AppResult<()> {
    let db = &state.db;
    let policy = &state.settings.service;
    #[derive(FromQueryResult)]
    struct C {
        community: Uuid,
        street: Uuid,
        grid: Uuid,
    }
    let c: C = store::fetch_opt(
        db,
        "SELECT c.id AS community, c.parent_id AS street, g.id AS grid FROM areas c JOIN areas g ON g.parent_id = c.id \
         WHERE c.kind = 'community' ORDER BY c.code DESC, g.code LIMIT 1",
        vec![],
    )
    .await?
    .ok_or_else(|| AppError::internal("load the demo first: gongzhi demo"))?;
    #[derive(FromQueryResult)]
    struct O {
        id: Uuid,
    }
    let org: O = store::fetch_opt(db, "SELECT id FROM party_orgs ORDER BY id LIMIT 1", vec![])
        .await?
        .ok_or_else(|| AppError::internal("no party organisation"))?;
    let n = members.max(people);
    let now = now_ms();
    let year = local_date(now).year();
    let mut rng = ChaCha8Rng::seed_from_u64(5005);
    println!(
        "setting up {n} members (persons, volunteers, accounts, party members) in one community …"
    );
    let t = Instant::now();
    let mut vols: Vec<(Uuid, Uuid, Uuid)> = Vec::with_capacity(n); // (volunteer, account, member)
    let tx = store::write_tx(db).await?;
    for chunk_start in (0..n).step_by(5_000) {
        let k = 5_000.min(n - chunk_start);
        let (mut persons, mut vs, mut accs, mut ms, mut posts, mut reviews) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        for i in 0..k {
            let (pid, vid, aid, mid) = (new_id(), new_id(), new_id(), new_id());
            let birth = format!(
                "{}-0{}-1{}",
                rng.gen_range(1950..2004),
                rng.gen_range(1..10),
                rng.gen_range(0..9)
            );
            persons.push(vec![
                c.street.into(),
                pid.into(),
                c.community.into(),
                c.grid.into(),
                c.grid.into(),
                format!("压测{}", chunk_start + i).into(),
                "none".into(),
                Some(birth).into(),
                "hukou".into(),
                "".into(),
                "active".into(),
                1i32.into(),
                now.into(),
                now.into(),
            ]);
            vs.push(vec![
                vid.into(),
                pid.into(),
                c.street.into(),
                c.community.into(),
                "".into(),
                true.into(),
                true.into(),
                0i64.into(),
                1i32.into(),
                now.into(),
                now.into(),
            ]);
            let pts: i64 = (0..3).map(|_| rng.gen_range(1..40i64)).sum();
            accs.push(vec![
                aid.into(),
                "person".into(),
                vid.into(),
                c.community.into(),
                pts.into(),
                now.into(),
            ]);
            let in_service = i % 3 == 0;
            ms.push(vec![
                mid.into(),
                vid.into(),
                org.id.into(),
                c.community.into(),
                (if in_service {
                    "in_service"
                } else {
                    "community"
                })
                .into(),
                (if in_service { Some(org.id) } else { None }).into(),
                "2010-07-01".into(),
                "full".into(),
                (if in_service && i % 2 == 0 {
                    Some(format!("{year}-06-01"))
                } else {
                    None
                })
                .into(),
                (if in_service && i % 2 == 0 {
                    Some(format!("{year}-12-01"))
                } else {
                    None
                })
                .into(),
                1i32.into(),
                now.into(),
                now.into(),
            ]);
            // Three postings in the year, summing to the balance.
            let mut left = pts;
            for j in 0..3 {
                let a = if j == 2 {
                    left
                } else {
                    (left / 3).max(1).min(left)
                };
                left -= a;
                if a > 0 {
                    posts.push(vec![
                        new_id().into(),
                        aid.into(),
                        a.into(),
                        "earn".into(),
                        Some("attendance".to_string()).into(),
                        Option::<Uuid>::None.into(),
                        "activity".into(),
                        Option::<String>::None.into(),
                        Option::<Uuid>::None.into(),
                        Option::<Uuid>::None.into(),
                        Option::<String>::None.into(),
                        Option::<Uuid>::None.into(),
                        "压测".into(),
                        (now - rng.gen_range(1..300) * 86_400_000).into(),
                    ]);
                }
            }
            reviews.push(vec![
                mid.into(),
                year.into(),
                rng.gen_range(55..100i32).into(),
                "压测".into(),
                now.into(),
            ]);
            vols.push((vid, aid, mid));
        }
        store::insert_many(
            &tx,
            "persons",
            &[
                "street_id",
                "id",
                "community_id",
                "grid_id",
                "area_id",
                "name",
                "id_type",
                "birth_date",
                "residence_type",
                "tags",
                "status",
                "version",
                "created_at",
                "updated_at",
            ],
            persons,
        )
        .await?;
        store::insert_many(
            &tx,
            "volunteers",
            &[
                "id",
                "person_id",
                "street_id",
                "community_id",
                "skills",
                "willing",
                "party_member",
                "verified_minutes",
                "version",
                "created_at",
                "updated_at",
            ],
            vs,
        )
        .await?;
        store::insert_many(
            &tx,
            "point_accounts",
            &[
                "id",
                "kind",
                "volunteer_id",
                "area_id",
                "balance",
                "updated_at",
            ],
            accs,
        )
        .await?;
        store::insert_many(
            &tx,
            "party_members",
            &[
                "id",
                "volunteer_id",
                "org_id",
                "community_id",
                "kind",
                "work_unit_org_id",
                "joined_on",
                "status",
                "last_reported_on",
                "report_valid_until",
                "version",
                "created_at",
                "updated_at",
            ],
            ms,
        )
        .await?;
        store::insert_many(&tx, "point_postings", POSTING_COLUMNS, posts).await?;
        store::insert_many(
            &tx,
            "party_reviews",
            &[
                "member_id",
                "year",
                "score",
                "updated_by_name",
                "updated_at",
            ],
            reviews,
        )
        .await?;
    }
    // Report-ins for the in-service members whose membership row says they reported in.
    store::exec(
        &tx,
        "INSERT INTO report_ins (id, member_id, unit_org_id, community_id, reported_on, valid_until, commitment, file_id, created_by, created_by_name, created_at) \
         SELECT m.id, m.id, NULL, m.community_id, m.last_reported_on, m.report_valid_until, '压测', NULL, NULL, '压测', m.created_at \
         FROM party_members m WHERE m.last_reported_on IS NOT NULL AND m.community_id = $1 AND NOT EXISTS (SELECT 1 FROM report_ins r WHERE r.id = m.id)",
        vec![c.community.into()],
    )
    .await?;
    // Three activities of `people` participants each, all checked in (the same day: within the
    // day's cap of counted hours).
    let mut acts = vec![];
    for k in 0..3i64 {
        let act = new_id();
        let starts = now - (9 - 3 * k) * 3_600_000;
        let ends = starts + 2 * 3_600_000;
        store::exec(
            &tx,
            "INSERT INTO activities (id, area_id, kind, title, place, description, starts_at, ends_at, capacity, skills, risky, status, signed_up, checked_in, checked_out, organiser_id, organiser_name, version, created_at, updated_at) \
             VALUES ($1, $2, 'community_event', '压测：万人健步走', '体育场', '', $3, $4, $5, '', FALSE, 'open', $5, $5, 0, NULL, '压测', 1, $6, $6)",
            vec![act.into(), c.community.into(), starts.into(), ends.into(), (people as i32).into(), now.into()],
        )
        .await?;
        let signups: Vec<Vec<Value>> = vols
            .iter()
            .take(people)
            .map(|(v, _, _)| {
                vec![
                    act.into(),
                    (*v).into(),
                    "self".into(),
                    "signed".into(),
                    starts.into(),
                    ends.into(),
                    (starts + rng.gen_range(0..1_800_000i64)).into(),
                    now.into(),
                    now.into(),
                ]
            })
            .collect();
        store::insert_many(
            &tx,
            "activity_signups",
            &[
                "activity_id",
                "volunteer_id",
                "via",
                "status",
                "starts_at",
                "ends_at",
                "checkin_at",
                "created_at",
                "updated_at",
            ],
            signups,
        )
        .await?;
        acts.push((act, ends));
    }
    // One account with a long history.
    let long = vols[n - 1].1;
    let mut written = 0;
    while written < history {
        let k = 10_000.min(history - written);
        let rows: Vec<Vec<Value>> = (0..k)
            .map(|i| {
                vec![
                    new_id().into(),
                    long.into(),
                    1i64.into(),
                    "earn".into(),
                    Some("hour".to_string()).into(),
                    Option::<Uuid>::None.into(),
                    "manual".into(),
                    Option::<String>::None.into(),
                    Option::<Uuid>::None.into(),
                    Option::<Uuid>::None.into(),
                    Option::<String>::None.into(),
                    Option::<Uuid>::None.into(),
                    "压测".into(),
                    (now - 400 * 86_400_000 - (written + i) as i64 * 1000).into(),
                ]
            })
            .collect();
        store::insert_many(&tx, "point_postings", POSTING_COLUMNS, rows).await?;
        written += k;
    }
    store::exec(
        &tx,
        "UPDATE point_accounts SET balance = balance + $1 WHERE id = $2",
        vec![(history as i64).into(), long.into()],
    )
    .await?;
    tx.commit().await?;
    store::analyze(db).await?;
    println!("  set up in {:.1} s", t.elapsed().as_secs_f64());

    if sea_orm::ConnectionTrait::get_database_backend(db) == sea_orm::DbBackend::Postgres {
        // Flush the set-up's writes first, so a checkpoint does not land in the measurement.
        store::exec(db, "CHECKPOINT", vec![]).await?;
    }

    // 1. Check-out and confirmation of each big activity, as the two routes do (one transaction).
    let mut times = vec![];
    for (act, ends) in &acts {
        let row = activity_row(db, *act).await?;
        let before = store::fetch_i64(db, "SELECT COUNT(*) FROM point_postings", vec![]).await?;
        let t = Instant::now();
        let tx = store::write_tx(db).await?;
        let at = (*ends - 60_000).min(now);
        let out = checkout_all_in(&tx, &row, at).await?;
        let actor = Actor {
            id: None,
            name: "压测".into(),
        };
        let conf = confirm_in(&tx, policy, &actor, &row, at).await?;
        tx.commit().await?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let after = store::fetch_i64(db, "SELECT COUNT(*) FROM point_postings", vec![]).await?;
        println!(
            "1. check-out of a {people}-person activity + confirmation: {out} checked out, {} hours entries, {} postings, in {ms:.0} ms (target ≤ 2000 ms)",
            conf.entries,
            after - before
        );
        times.push(ms);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "   median of {}: {:.0} ms",
        times.len(),
        times[times.len() / 2]
    );

    // 2. Balance reads.
    let short = vols[0].1;
    let reads = 2_000;
    for (label, id) in [("1 posting… a few", short), ("long history", long)] {
        let count = store::fetch_i64(
            db,
            "SELECT COUNT(*) FROM point_postings WHERE account_id = $1",
            vec![id.into()],
        )
        .await?;
        let t = Instant::now();
        for _ in 0..reads {
            store::fetch_i64(
                db,
                "SELECT balance FROM point_accounts WHERE id = $1",
                vec![id.into()],
            )
            .await?;
        }
        let us = t.elapsed().as_secs_f64() * 1e6 / reads as f64;
        let _ = label;
        println!(
            "2. balance read of an account with {count} postings: {us:.0} µs (mean of {reads})"
        );
    }
    let t = Instant::now();
    store::fetch_i64(
        db,
        "SELECT CAST(SUM(amount) AS BIGINT) FROM point_postings WHERE account_id = $1",
        vec![long.into()],
    )
    .await?;
    println!(
        "   (summing that history instead would take {:.1} ms)",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let (mismatched, negative, stock) = ledger::verify(db).await?;
    println!("   ledger check: {mismatched} balances differ from their postings, {negative} negative, {stock} negative stock");

    // 3. Annual ratings.
    let t = Instant::now();
    let r = crate::app::service::ratings::compute_in(db, policy, c.community, year).await?;
    println!(
        "3. annual ratings of {} members: {:.2} s (target ≤ 10 s) — 优秀 {}, 合格 {}, 基本合格 {}, 不合格 {}; held by the report-in rule {}",
        r.rated,
        t.elapsed().as_secs_f64(),
        r.by_grade.excellent,
        r.by_grade.qualified,
        r.by_grade.basic,
        r.by_grade.unqualified,
        r.capped
    );
    Ok(())
}
