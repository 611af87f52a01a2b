//! Storage: one code path over SQLite and PostgreSQL.
//!
//! SeaORM gives the pool, transactions and backend-neutral values; queries are plain SQL that both
//! databases accept (`$1` placeholders work on both), mapped into structs with `FromQueryResult`.
//! See docs/decisions/0001-sql-over-seaorm.md.
pub mod migrations;
pub mod seed;
pub mod sql;

use std::time::Duration;

use sea_orm::sqlx;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, FromQueryResult, Statement, TransactionOptions, TransactionTrait, Value,
};
use sea_orm_migration::MigratorTrait;

use crate::config::Settings;

pub type Db = DatabaseConnection;

/// Opens the configured database. SQLite: WAL, `synchronous=NORMAL`, foreign keys on, 5 s busy
/// timeout; the file and its directory are created on first run.
pub async fn connect(settings: &Settings) -> Result<Db, DbErr> {
    connect_url(&settings.database_url, settings.db_max_connections).await
}

pub async fn connect_url(url: &str, max_connections: u32) -> Result<Db, DbErr> {
    if let Some(path) = sqlite_path(url) {
        if let Some(dir) = std::path::Path::new(&path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| DbErr::Custom(format!("{}: {e}", dir.display())))?;
            }
        }
    }
    let mut opts = ConnectOptions::new(url.to_string());
    opts.max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
                .pragma("cache_size", "-16000") // imports: see Bulk
                .pragma("temp_store", "memory")
        });
    Database::connect(opts).await
}

fn sqlite_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path == ":memory:" {
        None
    } else {
        Some(path.to_string())
    }
}

/// Runs pending migrations. On PostgreSQL an advisory lock makes instances that start together
/// take turns.
pub async fn migrate(db: &Db, url: &str) -> Result<(), DbErr> {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            // A one-connection pool, so the lock and the migrations share a session.
            let one = connect_url(url, 1).await?;
            one.execute_unprepared("SELECT pg_advisory_lock(7202026)")
                .await?;
            let res = migrations::Migrator::up(&one, None).await;
            one.execute_unprepared("SELECT pg_advisory_unlock(7202026)")
                .await?;
            one.close().await.ok();
            res
        }
        _ => migrations::Migrator::up(db, None).await,
    }
}

/// Starts a transaction that will write. On SQLite it takes the write lock at `BEGIN`
/// (`BEGIN IMMEDIATE`), so a read-then-write transaction never fails half-way on a busy database.
pub async fn write_tx(db: &Db) -> Result<DatabaseTransaction, DbErr> {
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            db.begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
        }
        _ => db.begin().await,
    }
}

/// A connection for one bulk write (an import). On SQLite: a connection of its own to the same
/// file with a 128 MB page cache, since the random-order inserts into the blind indexes miss a
/// small cache on most rows and spill dirty pages mid-transaction; closed by [`Bulk::finish`], so
/// its memory goes back. On PostgreSQL: the pool.
pub struct Bulk {
    pub db: Db,
    own: bool,
}

impl Bulk {
    pub async fn open(db: &Db) -> Result<Bulk, DbErr> {
        if db.get_database_backend() != DbBackend::Sqlite {
            return Ok(Bulk {
                db: db.clone(),
                own: false,
            });
        }
        let file = db
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT file FROM pragma_database_list WHERE name = 'main'",
            ))
            .await?
            .and_then(|r| r.try_get_by_index::<String>(0).ok())
            .filter(|f| !f.is_empty());
        let Some(file) = file else {
            // An in-memory database has no second connection: use the pool.
            return Ok(Bulk {
                db: db.clone(),
                own: false,
            });
        };
        let own = connect_url(&format!("sqlite://{file}"), 1).await?;
        own.execute_unprepared("PRAGMA cache_size = -163840")
            .await?;
        Ok(Bulk { db: own, own: true })
    }

    pub async fn finish(self) {
        if self.own {
            let _ = self.db.close().await;
            release_freed_memory();
        }
    }
}

/// Gives memory freed by a closed bulk connection back to the system. glibc keeps freed memory
/// in the allocating thread's arena, and every bulk connection has a thread of its own, so without
/// this each import would leave its page cache behind in the process (measured: 370 → 542 MB peak
/// over three imports).
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns unused memory to the system; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// After a bulk load (demo, import) on PostgreSQL: refresh the planner's statistics of the
/// registry's tables. Autovacuum would get there within a minute or so, but until then a table
/// that grew from nothing is planned as empty (sequential scans instead of index lookups: a 1M-row
/// import's check took 160 s instead of seconds). SQLite needs no statistics for these plans.
pub async fn analyze(db: &Db) -> Result<(), DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(
            "ANALYZE persons, person_tags, person_name_grams, households, household_members, \
             dwellings, dwelling_owners, registry_events, visits, needs",
        )
        .await?;
    }
    Ok(())
}

/// A statement with `$1…` placeholders for the connection's backend.
pub fn stmt<C: ConnectionTrait>(c: &C, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(c.get_database_backend(), sql, values)
}

pub async fn exec<C: ConnectionTrait>(c: &C, sql: &str, values: Vec<Value>) -> Result<u64, DbErr> {
    Ok(c.execute_raw(stmt(c, sql, values)).await?.rows_affected())
}

/// One child more (`delta` 1) or fewer (-1) under `parent` in a tree that keeps its children's
/// count (`areas`, `party_orgs`); nothing for no parent (a root).
pub async fn adjust_child_count<C: ConnectionTrait>(
    c: &C,
    tree: &'static str,
    parent: impl Into<Option<uuid::Uuid>>,
    delta: i32,
) -> Result<(), DbErr> {
    debug_assert!(
        matches!(tree, "areas" | "party_orgs"),
        "not a counted tree: {tree}"
    );
    if let Some(p) = parent.into() {
        let sql = format!("UPDATE {tree} SET child_count = child_count + $1 WHERE id = $2");
        exec(c, &sql, vec![delta.into(), p.into()]).await?;
    }
    Ok(())
}

pub async fn fetch_all<T: FromQueryResult, C: ConnectionTrait>(
    c: &C,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<T>, DbErr> {
    T::find_by_statement(stmt(c, sql, values)).all(c).await
}

/// The one row the query finds, or [`AppError::NotFound`] (404) when there is none: a record read by
/// its id.
pub async fn fetch_found<T: FromQueryResult, C: ConnectionTrait>(
    c: &C,
    sql: &str,
    values: Vec<Value>,
) -> Result<T, crate::error::AppError> {
    fetch_opt(c, sql, values)
        .await?
        .ok_or(crate::error::AppError::NotFound)
}

pub async fn fetch_opt<T: FromQueryResult, C: ConnectionTrait>(
    c: &C,
    sql: &str,
    values: Vec<Value>,
) -> Result<Option<T>, DbErr> {
    T::find_by_statement(stmt(c, sql, values)).one(c).await
}

/// A page of a list as asked for (`?page=&page_size=`), clamped in this one place for every
/// list: page 1–[`MAX_PAGE`], size 1–[`MAX_PAGE_SIZE`] (20 when not given). Answers echo these
/// clamped values, so a client asking for page 10⁹ sees that it got page 1,000,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: u64,
    pub size: u64,
}

pub const MAX_PAGE: u64 = 1_000_000;
pub const MAX_PAGE_SIZE: u64 = 200;

impl Default for Paging {
    fn default() -> Paging {
        Paging::new(None, None)
    }
}

impl Paging {
    pub fn new(page: Option<u64>, size: Option<u64>) -> Paging {
        Paging {
            page: page.unwrap_or(1).clamp(1, MAX_PAGE),
            size: size.unwrap_or(20).clamp(1, MAX_PAGE_SIZE),
        }
    }
    /// Rows to skip: at most (10⁶ − 1) × 200, far inside `i64`.
    pub fn offset(&self) -> i64 {
        ((self.page - 1) * self.size) as i64
    }
}

/// One page of a list: `count_sql` counts all matching rows, `rows_sql` (ordered, without LIMIT)
/// selects them; both take `values`. Returns the rows and the total.
pub async fn page<T: FromQueryResult, C: ConnectionTrait>(
    c: &C,
    count_sql: &str,
    rows_sql: &str,
    mut values: Vec<Value>,
    paging: Paging,
) -> Result<(Vec<T>, i64), DbErr> {
    let total = fetch_i64(c, count_sql, values.clone()).await?;
    let n = values.len();
    values.push((paging.size as i64).into());
    values.push(paging.offset().into());
    let rows = fetch_all(
        c,
        &format!("{rows_sql} LIMIT ${} OFFSET ${}", n + 1, n + 2),
        values,
    )
    .await?;
    Ok((rows, total))
}

/// A single number from `SELECT COUNT(*) AS n …` or similar.
pub async fn fetch_i64<C: ConnectionTrait>(
    c: &C,
    sql: &str,
    values: Vec<Value>,
) -> Result<i64, DbErr> {
    let row = c.query_one_raw(stmt(c, sql, values)).await?;
    match row {
        Some(r) => r.try_get_by_index::<i64>(0),
        None => Ok(0),
    }
}

/// `$n, $n+1, …` for an IN list starting at placeholder `start`.
pub fn placeholders(start: usize, count: usize) -> String {
    (start..start + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Pool statistics for /metrics: (size, idle).
pub fn pool_stats(db: &Db) -> (u32, u32) {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let p = db.get_postgres_connection_pool();
            (p.size(), p.num_idle() as u32)
        }
        _ => {
            let p = db.get_sqlite_connection_pool();
            (p.size(), p.num_idle() as u32)
        }
    }
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13: the layers point one way (http → app → store → domain); `store` never reaches up.
    #[test]
    fn store_does_not_import_app_or_http() {
        let up = [["crate", "::app"].concat(), ["crate", "::http"].concat()];
        for (file, text) in [
            ("mod.rs", include_str!("mod.rs")),
            ("migrations.rs", include_str!("migrations.rs")),
            ("seed.rs", include_str!("seed.rs")),
        ] {
            for u in &up {
                assert!(!text.contains(u.as_str()), "store/{file} uses {u}");
            }
        }
    }

    #[test]
    fn migrations_render_per_backend() {
        let pg = migrations::render(migrations::MIGRATIONS[0].sql, DbBackend::Postgres);
        assert!(pg.contains("id UUID PRIMARY KEY"));
        let lite = migrations::render(migrations::MIGRATIONS[0].sql, DbBackend::Sqlite);
        assert!(lite.contains("id BLOB PRIMARY KEY"));
        let n = migrations::statements(&lite).len();
        assert!(n > 20, "{n} statements");
        assert!(migrations::statements(&lite)
            .iter()
            .all(|s| !s.contains("--")));
    }

    /// Every file in `migrations/` is applied, in the order of its number, and nothing else is.
    #[test]
    fn every_migration_file_is_listed_in_order() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter_map(|f| f.strip_suffix(".sql").map(str::to_string))
            .collect();
        files.sort();
        let listed: Vec<String> = migrations::MIGRATIONS
            .iter()
            .map(|m| m.name.to_string())
            .collect();
        assert_eq!(listed, files);
        for m in migrations::MIGRATIONS {
            assert!(
                m.sql.starts_with("--"),
                "{} starts with a comment saying what it is for",
                m.name
            );
        }
    }

    #[test]
    fn paging_is_clamped() {
        assert_eq!(Paging::new(None, None), Paging { page: 1, size: 20 });
        let huge = Paging::new(Some(u64::MAX), Some(u64::MAX));
        assert_eq!(
            huge,
            Paging {
                page: MAX_PAGE,
                size: MAX_PAGE_SIZE
            }
        );
        assert_eq!(huge.offset(), 199_999_800);
        assert_eq!(Paging::new(Some(0), Some(0)), Paging { page: 1, size: 1 });
    }

    #[test]
    fn like_is_escaped() {
        assert_eq!(like_escape("50%_a\\"), "50\\%\\_a\\\\");
        assert_eq!(placeholders(3, 2), "$3, $4");
    }
}

/// Inserts many rows with multi-row `INSERT … VALUES (…), (…)` statements, in chunks that stay
/// under both databases' parameter limits. For bulk loads (demo, import).
///
/// On SQLite the placeholders are anonymous `?`: binding a numbered `$n` makes SQLite look its
/// name up in a list (`sqlite3_bind_parameter_name` is linear), so a statement with n numbered
/// parameters costs O(n²) — that, not SQLite, capped large statements (decision 0007).
pub async fn insert_many<C: ConnectionTrait>(
    c: &C,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
) -> Result<u64, DbErr> {
    insert_many_with(c, table, columns, rows, INSERT_PARAMS).await
}

/// Like [`insert_many`], with statements of up to `pg_params` parameters on PostgreSQL (where a
/// statement's cost is mostly its round trip, so wider ones write faster; an activity's
/// confirmation writes tens of thousands of rows in one transaction). SQLite keeps its chunks.
pub async fn insert_many_with<C: ConnectionTrait>(
    c: &C,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
    pg_params: usize,
) -> Result<u64, DbErr> {
    if rows.is_empty() {
        return Ok(0);
    }
    let per_row = columns.len();
    let sqlite = c.get_database_backend() == DbBackend::Sqlite;
    let chunk = if sqlite {
        (INSERT_PARAMS / per_row).clamp(1, 500)
    } else {
        (pg_params.min(60_000) / per_row).clamp(1, 5_000)
    };
    let mut n = 0;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut values = Vec::with_capacity(chunk * per_row);
        for (i, row) in rows.by_ref().take(chunk).enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            if sqlite {
                sql.push_str(&vec!["?"; per_row].join(", "));
            } else {
                sql.push_str(&placeholders(i * per_row + 1, per_row));
            }
            sql.push(')');
            values.extend(row);
        }
        n += exec(c, &sql, values).await?;
    }
    Ok(n)
}

/// Parameters per multi-row `INSERT` (see [`insert_many`]).
const INSERT_PARAMS: usize = 1000;

/// The database's raw insert rate for resident-shaped rows through [`insert_many`], in one
/// transaction, into a scratch table dropped afterwards: (rows per second, seconds).
/// The database's rate of committed one-row transactions (each like a case intake's commit),
/// from `writers` concurrent writers: (transactions per second, seconds).
pub async fn commit_ceiling(db: &Db, rows: u32, writers: u32) -> Result<(f64, f64), DbErr> {
    let ddl = migrations::render(
        "CREATE TABLE bench_commit_ceiling (id {uuid} PRIMARY KEY, area_id {uuid} NOT NULL, \
         body TEXT NOT NULL, created_at BIGINT NOT NULL)",
        db.get_database_backend(),
    );
    db.execute_unprepared("DROP TABLE IF EXISTS bench_commit_ceiling")
        .await?;
    db.execute_unprepared(&ddl).await?;
    let t = std::time::Instant::now();
    let per = rows / writers.max(1);
    let mut tasks = vec![];
    for w in 0..writers.max(1) {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per {
                let tx = write_tx(&db).await?;
                exec(
                    &tx,
                    "INSERT INTO bench_commit_ceiling (id, area_id, body, created_at) VALUES ($1, $2, $3, $4)",
                    vec![
                        uuid::Uuid::now_v7().into(),
                        uuid::Uuid::nil().into(),
                        format!("压测诉求 {w}-{i}：小区门口垃圾两天没有清运").into(),
                        (i as i64).into(),
                    ],
                )
                .await?;
                tx.commit().await?;
            }
            Ok::<_, DbErr>(())
        }));
    }
    for t in tasks {
        t.await.map_err(|e| DbErr::Custom(e.to_string()))??;
    }
    let secs = t.elapsed().as_secs_f64();
    db.execute_unprepared("DROP TABLE bench_commit_ceiling")
        .await?;
    Ok(((per * writers.max(1)) as f64 / secs, secs))
}

pub async fn insert_ceiling(db: &Db, rows: u32) -> Result<(f64, f64), DbErr> {
    let ddl = migrations::render(
        "CREATE TABLE bench_insert_ceiling (street_id {uuid} NOT NULL, id {uuid} NOT NULL, \
         area_id {uuid} NOT NULL, name VARCHAR(64) NOT NULL, id_no_enc TEXT NULL, id_no_bidx VARCHAR(32) NULL, \
         id_no_masked VARCHAR(32) NULL, mobile_enc TEXT NULL, mobile_bidx VARCHAR(32) NULL, birth_date VARCHAR(10) NULL, \
         residence_type VARCHAR(16) NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (street_id, id))",
        db.get_database_backend(),
    );
    db.execute_unprepared("DROP TABLE IF EXISTS bench_insert_ceiling")
        .await?;
    db.execute_unprepared(&ddl).await?;
    db.execute_unprepared("CREATE INDEX ix_bench_ic_bidx ON bench_insert_ceiling(id_no_bidx)")
        .await?;
    let street = uuid::Uuid::now_v7();
    let cols = [
        "street_id",
        "id",
        "area_id",
        "name",
        "id_no_enc",
        "id_no_bidx",
        "id_no_masked",
        "mobile_enc",
        "mobile_bidx",
        "birth_date",
        "residence_type",
        "created_at",
    ];
    let t = std::time::Instant::now();
    let tx = write_tx(db).await?;
    let mut batch = Vec::with_capacity(500);
    for i in 0..rows {
        let bidx = format!(
            "{:032x}",
            (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
        );
        batch.push(vec![
            street.into(),
            uuid::Uuid::now_v7().into(),
            street.into(),
            format!("王{}", i % 1000).into(),
            format!("v1:abcd1234:{bidx}{bidx}").into(),
            bidx.clone().into(),
            "110***********1234".into(),
            format!("v1:abcd1234:{bidx}").into(),
            bidx[..30].to_string().into(),
            "1980-01-01".into(),
            "changzhu".into(),
            (i as i64).into(),
        ]);
        if batch.len() == 500 || i + 1 == rows {
            insert_many(
                &tx,
                "bench_insert_ceiling",
                &cols,
                std::mem::take(&mut batch),
            )
            .await?;
        }
    }
    tx.commit().await?;
    let secs = t.elapsed().as_secs_f64();
    db.execute_unprepared("DROP TABLE bench_insert_ceiling")
        .await?;
    Ok((rows as f64 / secs, secs))
}
