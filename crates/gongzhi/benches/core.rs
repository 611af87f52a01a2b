//! Criterion benches for the foundation (results in docs/benchmarks.md):
//! - the area tree at 100,000 nodes: children, detail with path, scope check, search, move;
//! - Argon2id password hashing at the configured cost;
//! - appending to the audit chain.
//!
//! SQLite by default; PostgreSQL with `GONGZHI_BENCH_DATABASE_URL=postgres://…/db` (a scratch
//! database: its tables are dropped and recreated).
//! Run: `cargo bench -p gongzhi --bench core`
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use gongzhi::app::{audit, scope, Ctx, GrantRef, Principal, PrincipalKind};
use gongzhi::domain::role::Role;
use gongzhi::store::{self, Db};
use sea_orm::{ConnectionTrait, Value};
use uuid::Uuid;

struct Tree {
    db: Db,
    city: Uuid,
    /// A community with its grids.
    community: Uuid,
    /// A building deep in the tree.
    building: Uuid,
    /// A street and another district, for the move.
    street: Uuid,
    other_district: Uuid,
    nodes: usize,
}

async fn open() -> (Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = match std::env::var("GONGZHI_BENCH_DATABASE_URL") {
        Ok(u) if !u.is_empty() => {
            let db = store::connect_url(&u, 4).await.unwrap();
            for t in [
                "audit_head",
                "audit_log",
                "login_attempts",
                "sessions",
                "grants",
                "api_tokens",
                "users",
                "party_org_links",
                "party_orgs",
                "area_closure",
                "areas",
                "seaql_migrations",
            ] {
                db.execute_unprepared(&format!("DROP TABLE IF EXISTS {t} CASCADE"))
                    .await
                    .unwrap();
            }
            db.close().await.ok();
            u
        }
        _ => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        ),
    };
    let db = store::connect_url(&url, 4).await.unwrap();
    store::migrate(&db, &url).await.unwrap();
    (db, dir)
}

/// 1 city → 10 districts → 100 streets → 1,000 communities → 10,000 grids → 89,000 buildings.
async fn build_tree(db: Db) -> Tree {
    let now = gongzhi::domain::now_ms();
    let mut rows: Vec<(Uuid, Option<Uuid>, &str, i16, String, String)> = vec![];
    let mut closure: Vec<(Uuid, Uuid, i16)> = vec![];
    let mut ancestors: std::collections::HashMap<Uuid, Vec<Uuid>> = Default::default();
    let mut add = |rows: &mut Vec<_>,
                   closure: &mut Vec<(Uuid, Uuid, i16)>,
                   parent: Option<Uuid>,
                   kind: &'static str,
                   level: i16,
                   name: String,
                   code: String| {
        let id = Uuid::now_v7();
        let mut anc = parent.map(|p| ancestors[&p].clone()).unwrap_or_default();
        anc.push(id);
        for (i, a) in anc.iter().enumerate() {
            closure.push((*a, id, (anc.len() - 1 - i) as i16));
        }
        ancestors.insert(id, anc);
        rows.push((id, parent, kind, level, name, code));
        id
    };
    let city = add(
        &mut rows,
        &mut closure,
        None,
        "city",
        0,
        "基准市".into(),
        "130600000000".into(),
    );
    let mut community = city;
    let mut building = city;
    let mut street0 = city;
    let mut other_district = city;
    for d in 1..=10u32 {
        let did = add(
            &mut rows,
            &mut closure,
            Some(city),
            "district",
            1,
            format!("{d}区"),
            format!("1306{d:02}000000"),
        );
        if d == 2 {
            other_district = did;
        }
        for s in 1..=10u32 {
            let sid = add(
                &mut rows,
                &mut closure,
                Some(did),
                "street",
                2,
                format!("{d}区{s}街道"),
                format!("1306{d:02}{s:03}000"),
            );
            if d == 1 && s == 1 {
                street0 = sid;
            }
            for c in 1..=10u32 {
                let ccode = format!("1306{d:02}{s:03}{c:03}");
                let cid = add(
                    &mut rows,
                    &mut closure,
                    Some(sid),
                    "community",
                    3,
                    format!("{d}-{s}-{c}社区"),
                    ccode.clone(),
                );
                if d == 5 && s == 5 && c == 5 {
                    community = cid;
                }
                for g in 1..=10u32 {
                    let gcode = format!("{ccode}{g:03}");
                    let gid = add(
                        &mut rows,
                        &mut closure,
                        Some(cid),
                        "grid",
                        4,
                        format!("第{g}网格"),
                        gcode.clone(),
                    );
                    for b in 1..=9u32 {
                        let bid = add(
                            &mut rows,
                            &mut closure,
                            Some(gid),
                            "building",
                            5,
                            format!("{b}号楼"),
                            format!("{gcode}{b:03}"),
                        );
                        if d == 5 && s == 5 && c == 5 && g == 5 && b == 5 {
                            building = bid;
                        }
                    }
                }
            }
        }
    }
    let mut child_count: std::collections::HashMap<Uuid, i32> = Default::default();
    for r in &rows {
        if let Some(p) = r.1 {
            *child_count.entry(p).or_default() += 1;
        }
    }
    let nodes = rows.len();
    let tx = store::write_tx(&db).await.unwrap();
    for chunk in rows.chunks(500) {
        let mut sql = String::from(
            "INSERT INTO areas (id, parent_id, kind, level, name, code, boundary, child_count, version, created_at, updated_at) VALUES ",
        );
        let mut values: Vec<Value> = vec![];
        for (i, r) in chunk.iter().enumerate() {
            let b = i * 8;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, NULL, ${}, 1, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8,
                b + 8
            ));
            values.extend([
                r.0.into(),
                r.1.into(),
                r.2.into(),
                r.3.into(),
                r.4.clone().into(),
                r.5.clone().into(),
                child_count.get(&r.0).copied().unwrap_or(0).into(),
                now.into(),
            ]);
        }
        store::exec(&tx, &sql, values).await.unwrap();
    }
    for chunk in closure.chunks(1000) {
        let mut sql =
            String::from("INSERT INTO area_closure (ancestor_id, descendant_id, depth) VALUES ");
        let mut values: Vec<Value> = vec![];
        for (i, c) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!("(${}, ${}, ${})", i * 3 + 1, i * 3 + 2, i * 3 + 3));
            values.extend([c.0.into(), c.1.into(), c.2.into()]);
        }
        store::exec(&tx, &sql, values).await.unwrap();
    }
    tx.commit().await.unwrap();
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.execute_unprepared("ANALYZE").await.unwrap();
    } else {
        db.execute_unprepared("ANALYZE").await.unwrap();
    }
    Tree {
        db,
        city,
        community,
        building,
        street: street0,
        other_district,
        nodes,
    }
}

fn ctx_for(area: Option<Uuid>, role: Role) -> Ctx {
    Ctx {
        principal: Arc::new(Principal {
            kind: PrincipalKind::User,
            user_id: Some(Uuid::now_v7()),
            token_id: None,
            session_id: None,
            name: "bench".into(),
            grants: vec![GrantRef {
                role,
                area_id: area,
            }],
            must_change_password: false,
        }),
        client_addr: "127.0.0.1".into(),
        request_id: "bench".into(),
        lang: gongzhi::error::Lang::Zh,
        tree: Arc::new(gongzhi::app::TreeCache::disabled()),
    }
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (db, _dir) = rt.block_on(open());
    let started = std::time::Instant::now();
    let tree = rt.block_on(build_tree(db));
    eprintln!(
        "area tree: {} nodes on {:?}, built in {:.1} s",
        tree.nodes,
        tree.db.get_database_backend(),
        started.elapsed().as_secs_f64()
    );
    let worker = ctx_for(Some(tree.community), Role::CommunityWorker);
    let admin = ctx_for(None, Role::SystemAdmin);

    let mut g = c.benchmark_group("area_tree_100k");
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("children_of_community (scoped)", |b| {
        b.iter(|| {
            rt.block_on(gongzhi::app::areas::children(
                &tree.db,
                &worker,
                tree.community,
            ))
            .unwrap()
        })
    });
    g.bench_function("children_of_city (admin)", |b| {
        b.iter(|| {
            rt.block_on(gongzhi::app::areas::children(&tree.db, &admin, tree.city))
                .unwrap()
        })
    });
    g.bench_function("get_building_with_path (scoped)", |b| {
        b.iter(|| {
            rt.block_on(gongzhi::app::areas::get(&tree.db, &worker, tree.building))
                .unwrap()
        })
    });
    g.bench_function("scope_check_out_of_scope", |b| {
        b.iter(|| {
            assert!(!rt
                .block_on(scope::can_see(&tree.db, &worker, tree.street))
                .unwrap())
        })
    });
    g.bench_function("search_name_in_scope", |b| {
        let q = gongzhi::app::areas::SearchQuery {
            q: Some("号楼".into()),
            kind: None,
            under: None,
            limit: Some(50),
        };
        b.iter(|| {
            rt.block_on(gongzhi::app::areas::search(&tree.db, &worker, &q))
                .unwrap()
        })
    });
    g.bench_function("search_code_prefix_admin", |b| {
        let q = gongzhi::app::areas::SearchQuery {
            q: Some("130605005".into()),
            kind: None,
            under: None,
            limit: Some(50),
        };
        b.iter(|| {
            rt.block_on(gongzhi::app::areas::search(&tree.db, &admin, &q))
                .unwrap()
        })
    });
    g.finish();

    // Moving a street with its 1,000+ descendants between districts, there and back.
    let mut g = c.benchmark_group("area_move");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(10));
    let home = rt
        .block_on(gongzhi::app::areas::get(&tree.db, &admin, tree.street))
        .unwrap()
        .parent_id
        .unwrap();
    let mut there = true;
    g.bench_function("move_street_1111_nodes", |b| {
        b.iter(|| {
            let v = rt
                .block_on(gongzhi::app::areas::get(&tree.db, &admin, tree.street))
                .unwrap()
                .version;
            let to = if there { tree.other_district } else { home };
            there = !there;
            rt.block_on(gongzhi::app::areas::move_to(
                &tree.db,
                &admin,
                tree.street,
                gongzhi::app::areas::MoveArea {
                    new_parent_id: to,
                    version: v,
                    new_code: None,
                },
            ))
            .unwrap()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("security");
    g.sample_size(20);
    g.bench_function("argon2id_hash_19MiB_t2", |b| {
        b.iter(|| gongzhi::domain::password::hash("Bench#Pass2026"))
    });
    let h = gongzhi::domain::password::hash("Bench#Pass2026");
    g.bench_function("argon2id_verify_19MiB_t2", |b| {
        b.iter(|| gongzhi::domain::password::verify("Bench#Pass2026", &h))
    });
    g.bench_function("audit_append", |b| {
        b.iter(|| {
            rt.block_on(audit::record_alone(
                &tree.db,
                audit::Entry::by(&admin, "bench.write", "bench", None),
            ))
            .unwrap()
        })
    });
    g.finish();
}

criterion_group!(core, benches);
criterion_main!(core);
