//! `gongzhi backup` and `gongzhi restore`: a consistent copy of the database (uploaded files
//! live in it) and the signed audit checkpoints, in one directory with a manifest.
//!
//! - SQLite: `VACUUM INTO`, an online, consistent copy taken while the server runs.
//! - PostgreSQL: `pg_dump --format=custom` (and `pg_restore` into an empty database).
//!
//! The keys (master key, audit key) are not in a backup unless asked (`--include-keys`): a backup
//! that holds them can decrypt every ID number in it, so they are better kept apart. The
//! manifest names the master key's id, and restore refuses a configured key that does not match.
use std::path::{Path, PathBuf};
use std::process::Command;

use sea_orm::{ConnectionTrait, DbBackend};
use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::store::{self, Db};

const FORMAT: u32 = 1;
const SQLITE_FILE: &str = "database.sqlite";
const PG_FILE: &str = "database.pgdump";

/// `manifest.json` of a backup.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: u32,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub gongzhi_version: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// The last migration applied.
    pub schema: String,
    /// Rows of the main tables when the copy was taken (restore checks them).
    pub counts: Vec<(String, i64)>,
    /// The audit chain's head: sequence number and hash.
    pub audit_head: (i64, String),
    /// The id of the master key the personal data is encrypted with.
    pub master_key_id: String,
    pub includes_keys: bool,
}

/// Tables whose row counts a manifest records.
const COUNTED: &[&str] = &[
    "areas",
    "users",
    "persons",
    "households",
    "cases",
    "case_events",
    "files",
    "audit_log",
    "point_postings",
];

fn fail(what: &str, e: impl std::fmt::Display) -> String {
    format!("{what}: {e}")
}

async fn counts<C: ConnectionTrait>(db: &C) -> Result<Vec<(String, i64)>, String> {
    let mut out = vec![];
    for t in COUNTED {
        let n = store::fetch_i64(db, &format!("SELECT COUNT(*) FROM {t}"), vec![])
            .await
            .map_err(|e| fail(t, e))?;
        out.push((t.to_string(), n));
    }
    Ok(out)
}

async fn last_migration(db: &Db) -> Result<String, String> {
    #[derive(sea_orm::FromQueryResult)]
    struct M {
        version: String,
    }
    let m: Option<M> = store::fetch_opt(
        db,
        "SELECT version FROM seaql_migrations ORDER BY version DESC LIMIT 1",
        vec![],
    )
    .await
    .map_err(|e| fail("migrations", e))?;
    Ok(m.map(|m| m.version).unwrap_or_default())
}

async fn audit_head(db: &Db) -> Result<(i64, String), String> {
    #[derive(sea_orm::FromQueryResult)]
    struct H {
        seq: i64,
        hash: String,
    }
    let h: Option<H> =
        store::fetch_opt(db, "SELECT seq, hash FROM audit_head WHERE id = 1", vec![])
            .await
            .map_err(|e| fail("audit head", e))?;
    Ok(h.map(|h| (h.seq, h.hash)).unwrap_or_default())
}

/// A backup directory's default name: `gongzhi-backup-YYYYMMDD-HHMMSS` (Asia/Shanghai).
pub fn default_dir() -> PathBuf {
    let now = time::OffsetDateTime::now_utc()
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC));
    PathBuf::from(format!(
        "gongzhi-backup-{:04}{:02}{:02}-{:02}{:02}{:02}",
        now.year(),
        now.month() as u8,
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    ))
}

/// Writes a backup of the configured database into `out`, which must not exist yet.
pub async fn backup(
    settings: &Settings,
    db: &Db,
    out: &Path,
    include_keys: bool,
) -> Result<Manifest, String> {
    if out.exists() {
        return Err(format!(
            "{} exists already; name a new directory",
            out.display()
        ));
    }
    std::fs::create_dir_all(out).map_err(|e| fail(&out.display().to_string(), e))?;
    restrict_dir(out);
    // The key id only: a backup never makes a key (an installation without one holds no data).
    let key_id = if settings.master_key.is_some() || settings.data_dir.join("master.key").exists() {
        crate::crypto::Keys::load_or_create(settings.master_key.as_deref(), &settings.data_dir)?
            .0
            .key_id
    } else {
        String::new()
    };
    // Counted before the copy: rows written meanwhile make the copy larger, never smaller.
    let head = audit_head(db).await?;
    let counts = counts(db).await?;
    let database = match db.get_database_backend() {
        DbBackend::Sqlite => {
            let file = out.join(SQLITE_FILE);
            let path = file.to_string_lossy().replace('\'', "''");
            db.execute_unprepared(&format!("VACUUM INTO '{path}'"))
                .await
                .map_err(|e| fail("VACUUM INTO", e))?;
            "sqlite"
        }
        _ => {
            run(Command::new("pg_dump")
                .arg("--format=custom")
                .arg("--no-owner")
                .arg("--file")
                .arg(out.join(PG_FILE))
                .arg("--dbname")
                .arg(&settings.database_url))?;
            "postgres"
        }
    };
    copy_dir(
        &settings.audit_checkpoint_dir,
        &out.join("audit-checkpoints"),
    )?;
    if include_keys {
        let keys_dir = out.join("keys");
        std::fs::create_dir_all(&keys_dir).map_err(|e| fail("keys", e))?;
        restrict_dir(&keys_dir);
        write_key(
            &keys_dir.join("master.key"),
            settings.master_key.as_deref(),
            &settings.data_dir.join("master.key"),
        )?;
        write_key(
            &keys_dir.join("audit.key"),
            settings.audit_key.as_deref(),
            &settings.data_dir.join("audit.key"),
        )?;
    }
    let manifest = Manifest {
        format: FORMAT,
        created_at: crate::domain::ms_to_rfc3339(crate::domain::now_ms()),
        gongzhi_version: env!("CARGO_PKG_VERSION").into(),
        database: database.into(),
        schema: last_migration(db).await?,
        counts,
        audit_head: head,
        master_key_id: key_id,
        includes_keys: include_keys,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| fail("manifest", e))?;
    std::fs::write(out.join("manifest.json"), json).map_err(|e| fail("manifest", e))?;
    Ok(manifest)
}

/// Restores a backup into the configured database, which must be empty (a SQLite file that
/// does not exist yet, or a PostgreSQL database without tables). Keys: the configured ones, or
/// those in the data directory, or — when neither exists — those in the backup.
pub async fn restore(settings: &Settings, from: &Path) -> Result<Manifest, String> {
    let manifest: Manifest = std::fs::read(from.join("manifest.json"))
        .map_err(|e| fail("manifest.json", e))
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| fail("manifest.json", e)))?;
    if manifest.format != FORMAT {
        return Err(format!(
            "backup format {} is not known to this version",
            manifest.format
        ));
    }
    restore_keys(settings, from, &manifest)?;
    let keys =
        crate::crypto::Keys::load_or_create(settings.master_key.as_deref(), &settings.data_dir)?.0;
    if !manifest.master_key_id.is_empty() && keys.key_id != manifest.master_key_id {
        return Err(format!(
            "the configured master key (id {}) is not the backup's (id {}): the personal data would be unreadable",
            keys.key_id, manifest.master_key_id
        ));
    }
    match (manifest.database.as_str(), settings.is_sqlite()) {
        ("sqlite", true) => restore_sqlite(settings, from)?,
        ("postgres", false) => restore_postgres(settings, from).await?,
        (kind, _) => {
            return Err(format!(
                "the backup holds a {kind} database; set GONGZHI_DATABASE_URL to one of that kind"
            ))
        }
    }
    copy_dir(
        &from.join("audit-checkpoints"),
        &settings.audit_checkpoint_dir,
    )?;
    // Check what arrived.
    let db = store::connect(settings)
        .await
        .map_err(|e| fail("database", e))?;
    let found = counts(&db).await?;
    let head = audit_head(&db).await?;
    db.close().await.ok();
    for ((table, want), (_, got)) in manifest.counts.iter().zip(found.iter()) {
        if got < want {
            return Err(format!(
                "{table}: {got} rows restored, the backup counted {want}"
            ));
        }
    }
    if head.0 < manifest.audit_head.0 {
        return Err("the restored audit chain is shorter than the backup's".into());
    }
    Ok(manifest)
}

fn restore_sqlite(settings: &Settings, from: &Path) -> Result<(), String> {
    let target =
        sqlite_file(&settings.database_url).ok_or("GONGZHI_DATABASE_URL names no SQLite file")?;
    if target.exists()
        && std::fs::metadata(&target)
            .map(|m| m.len() > 0)
            .unwrap_or(false)
    {
        return Err(format!(
            "{} exists: restore only into an empty data directory (move it away first)",
            target.display()
        ));
    }
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir).map_err(|e| fail("data directory", e))?;
    }
    std::fs::copy(from.join(SQLITE_FILE), &target).map_err(|e| fail("database.sqlite", e))?;
    Ok(())
}

async fn restore_postgres(settings: &Settings, from: &Path) -> Result<(), String> {
    let db = store::connect(settings)
        .await
        .map_err(|e| fail("database", e))?;
    let tables = store::fetch_i64(
        &db,
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'",
        vec![],
    )
    .await
    .map_err(|e| fail("database", e))?;
    db.close().await.ok();
    if tables > 0 {
        return Err("the database has tables already: restore only into an empty database".into());
    }
    run(Command::new("pg_restore")
        .arg("--no-owner")
        .arg("--exit-on-error")
        .arg("--dbname")
        .arg(&settings.database_url)
        .arg(from.join(PG_FILE)))
}

/// Puts the backup's keys in the data directory when the settings name none and the data
/// directory has none.
fn restore_keys(settings: &Settings, from: &Path, manifest: &Manifest) -> Result<(), String> {
    for (file, configured) in [
        ("master.key", settings.master_key.is_some()),
        ("audit.key", settings.audit_key.is_some()),
    ] {
        let target = settings.data_dir.join(file);
        if configured || target.exists() {
            continue;
        }
        if !manifest.includes_keys {
            if file == "master.key" {
                return Err(
                    "the backup holds no keys: set GONGZHI_MASTER_KEY (and GONGZHI_AUDIT_KEY) or put master.key and audit.key in the data directory".into(),
                );
            }
            continue;
        }
        std::fs::create_dir_all(&settings.data_dir).map_err(|e| fail("data directory", e))?;
        let text = std::fs::read(from.join("keys").join(file)).map_err(|e| fail(file, e))?;
        crate::crypto::write_private(&target, &text).map_err(|e| fail(file, e))?;
    }
    Ok(())
}

fn write_key(to: &Path, setting: Option<&str>, file: &Path) -> Result<(), String> {
    let text = match setting {
        Some(s) => s.trim().to_string(),
        None => std::fs::read_to_string(file).map_err(|e| fail(&file.display().to_string(), e))?,
    };
    crate::crypto::write_private(to, text.trim().as_bytes()).map_err(|e| fail("key", e))
}

fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    let Ok(entries) = std::fs::read_dir(from) else {
        return Ok(());
    };
    std::fs::create_dir_all(to).map_err(|e| fail(&to.display().to_string(), e))?;
    for e in entries.flatten() {
        if e.file_type().map(|t| t.is_file()).unwrap_or(false) {
            std::fs::copy(e.path(), to.join(e.file_name()))
                .map_err(|err| fail(&e.path().display().to_string(), err))?;
        }
    }
    Ok(())
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let name = cmd.get_program().to_string_lossy().to_string();
    let out = cmd.output().map_err(|e| {
        format!("{name} could not be started (is the PostgreSQL client installed?): {e}")
    })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{name} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn restrict_dir(dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
}
