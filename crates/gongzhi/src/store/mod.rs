//! Storage: one code path over SQLite and PostgreSQL.
//!
//! SeaORM gives the pool, transactions and backend-neutral values; queries are plain SQL that both
//! databases accept (`$1` placeholders work on both), mapped into structs with `FromQueryResult`.
//! See docs/decisions/0001-sql-over-seaorm.md.
pub mod migrations;

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
                .pragma("cache_size", "-16000")
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

/// A statement with `$1…` placeholders for the connection's backend.
pub fn stmt<C: ConnectionTrait>(c: &C, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(c.get_database_backend(), sql, values)
}

pub async fn exec<C: ConnectionTrait>(c: &C, sql: &str, values: Vec<Value>) -> Result<u64, DbErr> {
    Ok(c.execute_raw(stmt(c, sql, values)).await?.rows_affected())
}

pub async fn fetch_all<T: FromQueryResult, C: ConnectionTrait>(
    c: &C,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<T>, DbErr> {
    T::find_by_statement(stmt(c, sql, values)).all(c).await
}

pub async fn fetch_opt<T: FromQueryResult, C: ConnectionTrait>(
    c: &C,
    sql: &str,
    values: Vec<Value>,
) -> Result<Option<T>, DbErr> {
    T::find_by_statement(stmt(c, sql, values)).one(c).await
}

/// One page of a list: `count_sql` counts all matching rows, `rows_sql` (ordered, without LIMIT)
/// selects them; both take `values`. Returns the rows and the total.
pub async fn page<T: FromQueryResult, C: ConnectionTrait>(
    c: &C,
    count_sql: &str,
    rows_sql: &str,
    mut values: Vec<Value>,
    page: u64,
    size: u64,
) -> Result<(Vec<T>, i64), DbErr> {
    let total = fetch_i64(c, count_sql, values.clone()).await?;
    let n = values.len();
    values.push((size as i64).into());
    values.push((((page.max(1) - 1) * size) as i64).into());
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

    #[test]
    fn migrations_render_per_backend() {
        let pg = migrations::render(migrations::MIGRATIONS[0].1, DbBackend::Postgres);
        assert!(pg.contains("id UUID PRIMARY KEY"));
        let lite = migrations::render(migrations::MIGRATIONS[0].1, DbBackend::Sqlite);
        assert!(lite.contains("id BLOB PRIMARY KEY"));
        let n = migrations::statements(&lite).count();
        assert!(n > 20, "{n} statements");
        assert!(migrations::statements(&lite).all(|s| !s.contains("--")));
    }

    #[test]
    fn like_is_escaped() {
        assert_eq!(like_escape("50%_a\\"), "50\\%\\_a\\\\");
        assert_eq!(placeholders(3, 2), "$3, $4");
    }
}

/// Inserts many rows with multi-row `INSERT … VALUES (…), (…)` statements, in chunks that stay
/// under both databases' parameter limits. For bulk loads (demo, import).
pub async fn insert_many<C: ConnectionTrait>(
    c: &C,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
) -> Result<u64, DbErr> {
    if rows.is_empty() {
        return Ok(0);
    }
    let per_row = columns.len();
    let chunk = (250 / per_row).clamp(1, 100);
    let mut n = 0;
    for part in rows.chunks(chunk) {
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut values = Vec::with_capacity(part.len() * per_row);
        for (i, row) in part.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            sql.push_str(&placeholders(i * per_row + 1, per_row));
            sql.push(')');
            values.extend(row.iter().cloned());
        }
        n += exec(c, &sql, values).await?;
    }
    Ok(n)
}
