//! Versioned schema migrations, one code path for both databases.
//!
//! The DDL is written once; the few type names that differ are placeholders replaced per
//! database: `{uuid}` (PostgreSQL `UUID`, SQLite `BLOB` — 16 bytes, as the driver binds it).
//! Every `*_at` column is BIGINT Unix milliseconds UTC (see docs/decisions/0002-time-as-ms.md).
//! Each migration is a readable SQL file in `crates/gongzhi/migrations/`, included at build time;
//! a migration that must also write rows names its [`DataStep`] beside it. Add a migration by
//! adding its file and a line to [`MIGRATIONS`]; never edit an applied one.
use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

/// One migration: its name (recorded once applied), its SQL, and the rows it writes, if any.
pub struct Migration {
    pub name: &'static str,
    pub sql: &'static str,
    pub data: Option<DataStep>,
}

impl Migration {
    const fn sql(name: &'static str, sql: &'static str) -> Migration {
        Migration {
            name,
            sql,
            data: None,
        }
    }
    const fn then(self, step: DataStep) -> Migration {
        Migration {
            data: Some(step),
            ..self
        }
    }
}

/// Rows a migration writes after its DDL, in the same transaction.
#[derive(Debug, Clone, Copy)]
pub enum DataStep {
    /// `person_name_grams` for the residents stored before the table existed.
    BackfillSearchGrams,
    /// The shipped working-day calendar years.
    CalendarYears,
}

impl DataStep {
    async fn run<C: ConnectionTrait>(self, db: &C) -> Result<(), DbErr> {
        match self {
            DataStep::BackfillSearchGrams => backfill_search_grams(db).await,
            DataStep::CalendarYears => super::seed::calendar_years(db).await,
        }
    }
}

pub const MIGRATIONS: &[Migration] = &[
    Migration::sql(
        "m0001_foundation",
        include_str!("../../migrations/m0001_foundation.sql"),
    ),
    Migration::sql(
        "m0002_registry",
        include_str!("../../migrations/m0002_registry.sql"),
    ),
    Migration::sql(
        "m0003_registry_indexes",
        include_str!("../../migrations/m0003_registry_indexes.sql"),
    ),
    Migration::sql(
        "m0004_sharing",
        include_str!("../../migrations/m0004_sharing.sql"),
    ),
    Migration::sql(
        "m0005_search_grams",
        include_str!("../../migrations/m0005_search_grams.sql"),
    )
    .then(DataStep::BackfillSearchGrams),
    Migration::sql(
        "m0006_events_household_partial",
        include_str!("../../migrations/m0006_events_household_partial.sql"),
    ),
    Migration::sql(
        "m0007_cases",
        include_str!("../../migrations/m0007_cases.sql"),
    )
    .then(DataStep::CalendarYears),
    Migration::sql(
        "m0008_service",
        include_str!("../../migrations/m0008_service.sql"),
    ),
    Migration::sql(
        "m0009_audit_keyed",
        include_str!("../../migrations/m0009_audit_keyed.sql"),
    ),
    Migration::sql(
        "m0010_household_file_cases",
        include_str!("../../migrations/m0010_household_file_cases.sql"),
    ),
    Migration::sql(
        "m0011_login_sessions",
        include_str!("../../migrations/m0011_login_sessions.sql"),
    ),
    Migration::sql(
        "m0012_provisional_deadlines",
        include_str!("../../migrations/m0012_provisional_deadlines.sql"),
    ),
    Migration::sql(
        "m0013_delegated_admin",
        include_str!("../../migrations/m0013_delegated_admin.sql"),
    ),
    Migration::sql(
        "m0014_messages",
        include_str!("../../migrations/m0014_messages.sql"),
    ),
    Migration::sql(
        "m0015_public_categories",
        include_str!("../../migrations/m0015_public_categories.sql"),
    ),
    Migration::sql(
        "m0016_community_channels",
        include_str!("../../migrations/m0016_community_channels.sql"),
    ),
    Migration::sql(
        "m0017_notices",
        include_str!("../../migrations/m0017_notices.sql"),
    ),
    Migration::sql(
        "m0018_self_registration",
        include_str!("../../migrations/m0018_self_registration.sql"),
    ),
    Migration::sql(
        "m0019_questions",
        include_str!("../../migrations/m0019_questions.sql"),
    ),
    Migration::sql(
        "m0020_reach",
        include_str!("../../migrations/m0020_reach.sql"),
    ),
];

/// Replaces the type placeholders for one database: `{uuid}`, and `{without_rowid}` (SQLite
/// stores such a table as its primary-key b-tree alone; PostgreSQL has no such option).
pub fn render(sql: &str, backend: DbBackend) -> String {
    let (uuid, without_rowid, blob) = match backend {
        DbBackend::Postgres => ("UUID", "", "BYTEA"),
        _ => ("BLOB", "WITHOUT ROWID", "BLOB"),
    };
    sql.replace("{uuid}", uuid)
        .replace("{without_rowid}", without_rowid)
        .replace("{blob}", blob)
}

/// Splits a script into statements on `;` at line ends (no `;` inside our DDL strings), after
/// dropping `--` comment lines (a comment may end in `;`).
pub fn statements(sql: &str) -> Vec<String> {
    let code: String = sql
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .map(|l| format!("{l}\n"))
        .collect();
    code.split(";\n")
        .map(|s| s.trim().trim_end_matches(';').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

pub struct Migrator;

struct SqlMigration(&'static Migration);

impl MigrationName for SqlMigration {
    fn name(&self) -> &str {
        self.0.name
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for SqlMigration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let sql = render(self.0.sql, db.get_database_backend());
        for stmt in statements(&sql) {
            db.execute_unprepared(&stmt).await?;
        }
        match self.0.data {
            Some(step) => step.run(db).await,
            None => Ok(()),
        }
    }
}

/// Fills `person_name_grams` for residents stored before it existed, a thousand at a time.
pub async fn backfill_search_grams<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    #[derive(sea_orm::FromQueryResult)]
    struct P {
        id: uuid::Uuid,
        street_id: uuid::Uuid,
        community_id: uuid::Uuid,
        name: String,
    }
    let mut after = uuid::Uuid::nil();
    loop {
        let batch: Vec<P> = super::fetch_all(
            db,
            "SELECT id, street_id, community_id, name FROM persons WHERE id > $1 ORDER BY id LIMIT 1000",
            vec![after.into()],
        )
        .await?;
        let Some(last) = batch.last() else {
            return Ok(());
        };
        after = last.id;
        let rows = batch
            .iter()
            .flat_map(|p| super::seed::gram_rows(p.id, p.street_id, p.community_id, &p.name))
            .collect();
        super::insert_many(db, "person_name_grams", super::seed::GRAM_COLUMNS, rows).await?;
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        MIGRATIONS
            .iter()
            .map(|m| Box::new(SqlMigration(m)) as Box<dyn MigrationTrait>)
            .collect()
    }
}
