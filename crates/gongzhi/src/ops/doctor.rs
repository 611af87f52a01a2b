//! `gongzhi doctor`: checks an installation and says, in Chinese and English, what is in order
//! and what needs attention — settings, database, keys, disk space, clock, the working-day
//! calendar, the audit chain and its checkpoints, spool files, TLS.
use std::path::Path;

use sea_orm::DbBackend;

use crate::config::Settings;
use crate::store;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Warn,
    Error,
}

/// One finding.
#[derive(Debug, Clone)]
pub struct Check {
    pub level: Level,
    pub what: &'static str,
    pub said: String,
}

impl Check {
    fn new(level: Level, what: &'static str, said: impl Into<String>) -> Check {
        Check {
            level,
            what,
            said: said.into(),
        }
    }
    /// One line: `✓ 数据库 / database: …`.
    pub fn line(&self) -> String {
        let mark = match self.level {
            Level::Ok => "✓",
            Level::Warn => "!",
            Level::Error => "✗",
        };
        format!("{mark} {}: {}", self.what, self.said)
    }
}

/// Runs every check. Never fails itself: what it cannot check is a finding.
pub async fn run(settings: &Settings) -> Vec<Check> {
    let mut out = vec![Check::new(
        Level::Ok,
        "设置 / settings",
        format!(
            "valid; listening on {}, data in {}",
            settings.addr,
            settings.data_dir.display()
        ),
    )];
    out.extend(keys(settings));
    out.push(disk(&settings.data_dir));
    out.push(spool(&settings.data_dir));
    match store::connect(settings).await {
        Err(e) => out.push(Check::new(
            Level::Error,
            "数据库 / database",
            format!("cannot connect: {e}"),
        )),
        Ok(db) => {
            out.extend(database(&db).await);
            out.push(clock(&db).await);
            out.push(calendar(&db).await);
            out.push(audit(settings, &db).await);
            db.close().await.ok();
        }
    }
    out.push(tls(settings));
    out
}

/// https: served directly (the certificate must load and not be near its end), or by a proxy,
/// which gongzhi must know to trust.
fn tls(settings: &Settings) -> Check {
    if let Some(files) = &settings.tls {
        if let Err(e) = crate::http::tls::load(files) {
            return Check::new(
                Level::Error,
                "TLS",
                format!("the certificate does not load: {e}"),
            );
        }
        return match crate::http::tls::not_after(&files.cert) {
            Err(e) => Check::new(Level::Error, "TLS", e),
            Ok(end) => {
                let days = (end - crate::domain::now_ms() / 1000) / 86_400;
                let when = crate::domain::ms_to_rfc3339(end * 1000);
                let level = if days < 0 {
                    Level::Error
                } else if days < 21 {
                    Level::Warn
                } else {
                    Level::Ok
                };
                let said = if days < 0 {
                    format!("the certificate expired on {when}")
                } else {
                    format!("served directly; the certificate ends in {days} days ({when}); reloaded when renewed")
                };
                Check::new(level, "TLS", said)
            }
        };
    }
    let https = settings
        .public_origin
        .as_deref()
        .is_some_and(|o| o.starts_with("https://"));
    match (https, settings.trusted_proxies.is_empty()) {
        (true, false) => Check::new(
            Level::Ok,
            "TLS",
            format!(
                "served as {} through {} trusted prox(ies); Secure cookies and HSTS on",
                settings.public_origin.as_deref().unwrap_or_default(),
                settings.trusted_proxies.len()
            ),
        ),
        (true, true) => Check::new(
            Level::Warn,
            "TLS",
            "GONGZHI_PUBLIC_URL is https but GONGZHI_TRUSTED_PROXIES is empty: client addresses are the proxy's",
        ),
        (false, _) => Check::new(
            Level::Warn,
            "TLS",
            "plain HTTP: put it behind a TLS proxy and set GONGZHI_PUBLIC_URL and GONGZHI_TRUSTED_PROXIES (docs/operations.md)",
        ),
    }
}

fn keys(settings: &Settings) -> Vec<Check> {
    let mut out = vec![];
    for (file, configured, what) in [
        (
            "master.key",
            settings.master_key.is_some(),
            "主密钥 / master key",
        ),
        (
            "audit.key",
            settings.audit_key.is_some(),
            "审计密钥 / audit key",
        ),
    ] {
        if configured {
            out.push(Check::new(Level::Ok, what, "from the settings"));
            continue;
        }
        let path = settings.data_dir.join(file);
        out.push(match std::fs::metadata(&path) {
            Err(_) => Check::new(
                Level::Warn,
                what,
                format!(
                    "{} does not exist yet (made at first start)",
                    path.display()
                ),
            ),
            Ok(m) => key_file_mode(&path, &m),
        });
    }
    out
}

fn key_file_mode(path: &Path, m: &std::fs::Metadata) -> Check {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = m.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Check::new(
                Level::Error,
                "密钥文件 / key file",
                format!(
                    "{} is readable by others (mode {mode:o}); chmod 600 it",
                    path.display()
                ),
            );
        }
    }
    let _ = m;
    Check::new(
        Level::Ok,
        "密钥文件 / key file",
        format!("{} (owner only)", path.display()),
    )
}

fn disk(dir: &Path) -> Check {
    let what = "磁盘空间 / disk space";
    match free_bytes(dir) {
        None => Check::new(Level::Warn, what, "cannot be measured here"),
        Some(b) => {
            let mb = b / (1024 * 1024);
            let level = if mb < 200 {
                Level::Error
            } else if mb < 1024 {
                Level::Warn
            } else {
                Level::Ok
            };
            Check::new(level, what, format!("{mb} MB free in {}", dir.display()))
        }
    }
}

/// Free bytes on the file system holding `dir` (or its nearest existing parent).
fn free_bytes(dir: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        let mut p = dir.to_path_buf();
        while !p.exists() {
            p = p.parent()?.to_path_buf();
            if p.as_os_str().is_empty() {
                p = std::path::PathBuf::from(".");
            }
        }
        let c = std::ffi::CString::new(p.to_string_lossy().as_bytes()).ok()?;
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: `c` is a valid NUL-terminated path and `st` a writable statvfs.
        if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
            return None;
        }
        Some(st.f_bavail as u64 * st.f_frsize as u64)
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        None
    }
}

fn spool(data_dir: &Path) -> Check {
    let n = std::fs::read_dir(crate::spool::dir(data_dir))
        .map(|d| d.count())
        .unwrap_or(0);
    if n == 0 {
        Check::new(Level::Ok, "临时文件 / spool", "empty")
    } else {
        Check::new(
            Level::Warn,
            "临时文件 / spool",
            format!(
                "{n} files (an import under way, or left by a crash: removed at the next start)"
            ),
        )
    }
}

async fn database(db: &store::Db) -> Vec<Check> {
    let what = "数据库 / database";
    let started = std::time::Instant::now();
    let version_sql = match db.get_database_backend() {
        DbBackend::Sqlite => "SELECT 'SQLite ' || sqlite_version() AS v",
        _ => "SELECT 'PostgreSQL ' || current_setting('server_version') AS v",
    };
    #[derive(sea_orm::FromQueryResult)]
    struct V {
        v: String,
    }
    let version: Option<V> = match store::fetch_opt(db, version_sql, vec![]).await {
        Ok(v) => v,
        Err(e) => {
            return vec![Check::new(
                Level::Error,
                what,
                format!("does not answer: {e}"),
            )]
        }
    };
    let ms = started.elapsed().as_millis();
    let mut out = vec![Check::new(
        if ms > 500 { Level::Warn } else { Level::Ok },
        what,
        format!(
            "{} answers in {ms} ms",
            version.map(|v| v.v).unwrap_or_default()
        ),
    )];
    let known = crate::store::migrations::MIGRATIONS.len() as i64;
    let applied = store::fetch_i64(db, "SELECT COUNT(*) FROM seaql_migrations", vec![])
        .await
        .unwrap_or(0);
    out.push(if applied >= known {
        Check::new(Level::Ok, "数据库结构 / schema", format!("{applied} migrations, up to date"))
    } else {
        Check::new(
            Level::Warn,
            "数据库结构 / schema",
            format!(
                "{applied} of {known} migrations applied: `gongzhi migrate` (or the next start) applies the rest"
            ),
        )
    });
    out
}

async fn clock(db: &store::Db) -> Check {
    let what = "时钟 / clock";
    if db.get_database_backend() == DbBackend::Sqlite {
        return Check::new(Level::Ok, what, "the database shares this machine's clock");
    }
    let local = crate::domain::now_ms();
    let server = store::fetch_i64(
        db,
        "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
        vec![],
    )
    .await;
    match server {
        Err(e) => Check::new(
            Level::Warn,
            what,
            format!("cannot read the database's clock: {e}"),
        ),
        Ok(s) => {
            let skew = (s - local).abs();
            let level = if skew > 5_000 { Level::Warn } else { Level::Ok };
            Check::new(
                level,
                what,
                format!("{skew} ms apart from the database server"),
            )
        }
    }
}

/// The working-day calendar: this year must be loaded; next year from October on.
async fn calendar(db: &store::Db) -> Check {
    let what = "工作日历 / calendar";
    #[derive(sea_orm::FromQueryResult)]
    struct Y {
        year: i32,
    }
    let years: Vec<i32> =
        match store::fetch_all::<Y, _>(db, "SELECT year FROM calendar_years ORDER BY year", vec![])
            .await
        {
            Ok(y) => y.into_iter().map(|y| y.year).collect(),
            Err(e) => return Check::new(Level::Warn, what, format!("cannot be read: {e}")),
        };
    let today = crate::domain::calendar::local_date(crate::domain::now_ms());
    let (this, next) = (today.year(), today.year() + 1);
    let list = years
        .iter()
        .map(|y| y.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if !years.contains(&this) {
        Check::new(
            Level::Warn,
            what,
            format!("{this} is not loaded (years: {list}); deadlines count Monday–Friday and are provisional until the State Council schedule is imported"),
        )
    } else if !years.contains(&next) && today.month() as u8 >= 10 {
        Check::new(
            Level::Warn,
            what,
            format!("{next} is not loaded yet (years: {list}); import it once published"),
        )
    } else {
        Check::new(Level::Ok, what, format!("years loaded: {list}"))
    }
}

async fn audit(settings: &Settings, db: &store::Db) -> Check {
    let what = "审计链 / audit chain";
    let key = match crate::crypto::AuditKey::load_or_create(
        settings.audit_key.as_deref(),
        &settings.data_dir,
    ) {
        Ok(k) => k,
        Err(e) => return Check::new(Level::Error, what, format!("no audit key: {e}")),
    };
    let verdict = match crate::app::audit::verify(db, &key, None).await {
        Ok(v) => v,
        Err(e) => return Check::new(Level::Error, what, format!("cannot be walked: {e}")),
    };
    let newest = newest_checkpoint_age_minutes(&settings.audit_checkpoint_dir);
    match verdict {
        crate::app::audit::Verdict::Broken { seq, problem } => Check::new(
            Level::Error,
            what,
            format!("broken at row {seq}: {problem}"),
        ),
        crate::app::audit::Verdict::Intact { rows, .. } => {
            let interval = settings.audit_checkpoint_minutes as u64;
            let stale = interval > 0 && newest.map(|m| m > 2 * interval + 5).unwrap_or(rows > 0);
            let cp = match newest {
                Some(m) => format!("newest checkpoint {m} min old"),
                None => "no checkpoint yet".into(),
            };
            Check::new(
                if stale { Level::Warn } else { Level::Ok },
                what,
                format!(
                    "intact, {rows} rows; {cp} in {}",
                    settings.audit_checkpoint_dir.display()
                ),
            )
        }
    }
}

fn newest_checkpoint_age_minutes(dir: &Path) -> Option<u64> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter_map(|e| e.metadata().ok()?.modified().ok())
        .max()
        .and_then(|t| t.elapsed().ok())
        .map(|d| d.as_secs() / 60)
}
