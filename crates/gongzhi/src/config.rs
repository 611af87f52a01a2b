//! Settings: defaults ← optional `gongzhi.toml` ← environment (`GONGZHI_*`) ← command-line flags.
//!
//! Every setting is declared once, on [`SettingsArgs`]: clap reads it from the flag and the
//! environment and shows it in `gongzhi serve --help`; the TOML file's keys are its field names
//! (read into the same struct); [`Settings::load`] turns the text into typed values and checks them.
//! An invalid setting is reported as one line naming it, and the process exits with code 2.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::{Deserialize, Serialize};

use crate::domain::calendar::WorkHours;

/// Settings given on the command line or in the environment. All optional: unset ones come from
/// `gongzhi.toml` (see `GONGZHI_CONFIG`) or the defaults.
#[derive(Args, Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "GONGZHI_ADDR", global = true)]
    pub addr: Option<String>,
    /// Database URL: `sqlite://path/file.db` or `postgres://user@host:5432/db`
    /// [default: SQLite file `<data dir>/gongzhi.db`]
    #[arg(
        long,
        env = "GONGZHI_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Data directory for the SQLite file and the generated master key [default: ./data]
    #[arg(long, env = "GONGZHI_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Password for the `admin` account created on first start; if unset, one is generated,
    /// printed once, and must be changed at first login
    #[arg(
        long,
        env = "GONGZHI_ADMIN_PASSWORD",
        global = true,
        hide_env_values = true
    )]
    pub admin_password: Option<String>,
    /// Master key for field encryption: 64 hex characters (32 bytes). If unset it is generated
    /// into `<data dir>/master.key` with mode 0600
    #[arg(
        long,
        env = "GONGZHI_MASTER_KEY",
        global = true,
        hide_env_values = true
    )]
    pub master_key: Option<String>,
    /// Path of an optional TOML settings file [default: ./gongzhi.toml if present]
    #[arg(long, env = "GONGZHI_CONFIG", global = true)]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Minutes of inactivity after which a session ends [default: 30]
    #[arg(long, env = "GONGZHI_SESSION_IDLE_MINUTES", global = true)]
    pub session_idle_minutes: Option<String>,
    /// Hours after login after which a session ends regardless of activity [default: 12]
    #[arg(long, env = "GONGZHI_SESSION_ABSOLUTE_HOURS", global = true)]
    pub session_absolute_hours: Option<String>,
    /// One session per user: a new login ends the user's other sessions (true/false); by default a
    /// user may be signed in on several devices and ends them under 「我的会话」 [default: false]
    #[arg(long, env = "GONGZHI_SINGLE_SESSION", global = true)]
    pub single_session: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host` are
    /// believed: IP addresses or CIDR blocks, comma-separated, e.g. `127.0.0.1,10.0.0.0/8`.
    /// Nobody else's are [default: none]
    #[arg(long, env = "GONGZHI_TRUSTED_PROXIES", global = true)]
    pub trusted_proxies: Option<String>,
    /// The address users open, e.g. `https://gongzhi.example.gov.cn`. Its origin is accepted for
    /// cookie-authenticated writes; when it is https, cookies are `Secure` and HSTS is sent on
    /// every response [default: none: the request's own Host, https only via a trusted proxy]
    #[arg(long, env = "GONGZHI_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// Serve https directly: the certificate chain (PEM), with `GONGZHI_TLS_KEY`. Reloaded when
    /// the file changes. Cookies are `Secure` and HSTS is sent [default: none: plain http, for a
    /// reverse proxy in front]
    #[arg(long, env = "GONGZHI_TLS_CERT", global = true)]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `GONGZHI_TLS_CERT` [default: none]
    #[arg(long, env = "GONGZHI_TLS_KEY", global = true)]
    pub tls_key: Option<PathBuf>,
    /// Login attempts allowed per client address per minute [default: 30]
    #[arg(long, env = "GONGZHI_LOGIN_RATE_PER_MINUTE", global = true)]
    pub login_rate_per_minute: Option<String>,
    /// Days the audit log is kept at least; never below 180 [default: 180]
    #[arg(long, env = "GONGZHI_AUDIT_RETENTION_DAYS", global = true)]
    pub audit_retention_days: Option<String>,
    /// Days messages and their delivery records are kept (inboxes, the delivery log); older ones
    /// are removed by the background sweep; at least 30 [default: 365]
    #[arg(long, env = "GONGZHI_MESSAGE_RETENTION_DAYS", global = true)]
    pub message_retention_days: Option<String>,
    /// Maximum database connections per process [default: 16 on PostgreSQL, 8 on SQLite]
    #[arg(long, env = "GONGZHI_DB_MAX_CONNECTIONS", global = true)]
    pub db_max_connections: Option<String>,
    /// Requests slower than this many milliseconds are logged at warn level with their route,
    /// status, request id and user (0 disables) [default: 1000]
    #[arg(long, env = "GONGZHI_SLOW_REQUEST_MS", global = true)]
    pub slow_request_ms: Option<String>,
    /// Milliseconds a verified session may be reused from this process's cache before it is
    /// checked against the database again (0 disables) [default: 1000]
    #[arg(long, env = "GONGZHI_AUTH_CACHE_MS", global = true)]
    pub auth_cache_ms: Option<String>,
    /// Milliseconds this instance may reuse area-tree reads (children, ancestors) before reading
    /// the database again; its own changes clear them at once (0 disables) [default: 1000]
    #[arg(long, env = "GONGZHI_TREE_CACHE_MS", global = true)]
    pub tree_cache_ms: Option<String>,
    /// Days after which a household on a rented dwelling must be verified again [default: 90]
    #[arg(long, env = "GONGZHI_FRESHNESS_RENTED_DAYS", global = true)]
    pub freshness_rented_days: Option<String>,
    /// Days after which any other household must be verified again [default: 365]
    #[arg(long, env = "GONGZHI_FRESHNESS_OTHER_DAYS", global = true)]
    pub freshness_other_days: Option<String>,
    /// Returns after which a case goes to the street for arbitration [default: 2]
    #[arg(long, env = "GONGZHI_CASE_MAX_RETURNS", global = true)]
    pub case_max_returns: Option<String>,
    /// Approved extensions a case may get [default: 1]
    #[arg(long, env = "GONGZHI_CASE_MAX_EXTENSIONS", global = true)]
    pub case_max_extensions: Option<String>,
    /// Times a case may be reopened when the resident is dissatisfied [default: 1]
    #[arg(long, env = "GONGZHI_CASE_MAX_REOPENS", global = true)]
    pub case_max_reopens: Option<String>,
    /// Percent of the handling time left when the deadline warning is set [default: 20]
    #[arg(long, env = "GONGZHI_CASE_WARN_PERCENT", global = true)]
    pub case_warn_percent: Option<String>,
    /// Minutes a summoned unit has to report in to a whistle (吹哨报到) [default: 30]
    #[arg(long, env = "GONGZHI_CASE_WHISTLE_MINUTES", global = true)]
    pub case_whistle_minutes: Option<String>,
    /// Working hours of a working day, for case deadlines [default: 09:00-12:00,13:00-18:00]
    #[arg(long, env = "GONGZHI_WORK_HOURS", global = true)]
    pub work_hours: Option<String>,
    /// Working hours of some areas (and the areas below them), by area code:
    /// `110105001=08:30-12:00,13:30-17:30;110106=09:00-17:00` [default: none]
    #[arg(long, env = "GONGZHI_WORK_HOURS_BY_AREA", global = true)]
    pub work_hours_by_area: Option<String>,
    /// Weights of the composite score: response/resolve/satisfaction, adding up to 100 [default: 30/35/35]
    #[arg(long, env = "GONGZHI_CASE_SCORE_WEIGHTS", global = true)]
    pub case_score_weights: Option<String>,
    /// Months a report-in (双报到) stays valid before it must be renewed [default: 6]
    #[arg(long, env = "GONGZHI_REPORT_IN_MONTHS", global = true)]
    pub report_in_months: Option<String>,
    /// Verified hours for 1–5 volunteer stars [default: 100/300/600/1000/1500]
    #[arg(long, env = "GONGZHI_STAR_HOURS", global = true)]
    pub star_hours: Option<String>,
    /// Default volunteer limits: hours per week / consecutive days / rest hours between shifts [default: 20/5/8]
    #[arg(long, env = "GONGZHI_VOLUNTEER_LIMITS", global = true)]
    pub volunteer_limits: Option<String>,
    /// Service hours counted per volunteer and day at most [default: 8]
    #[arg(long, env = "GONGZHI_SERVICE_DAY_HOURS", global = true)]
    pub service_day_hours: Option<String>,
    /// Points a party member needs in a year for the full points half of the rating [default: 100]
    #[arg(long, env = "GONGZHI_RATING_POINTS_TARGET", global = true)]
    pub rating_points_target: Option<String>,
    /// A member who did not report in is rated at most 基本合格: on or off [default: on]
    #[arg(long, env = "GONGZHI_RATING_REPORT_IN_RULE", global = true)]
    pub rating_report_in_rule: Option<String>,
    /// A case closed without a rating: `exclude` it from the satisfaction rate, or count it
    /// `satisfied` (默认满意) [default: exclude]
    #[arg(long, env = "GONGZHI_CASE_UNRATED", global = true)]
    pub case_unrated: Option<String>,
    /// Key of the audit chain's HMAC and of its signed checkpoints: 64 hex characters. If unset
    /// it is generated into `<data dir>/audit.key` with mode 0600. Keep it outside the database
    /// (and the same on every instance)
    #[arg(long, env = "GONGZHI_AUDIT_KEY", global = true, hide_env_values = true)]
    pub audit_key: Option<String>,
    /// Directory where signed checkpoints of the audit chain are written
    /// [default: `<data dir>/audit-checkpoints`]
    #[arg(long, env = "GONGZHI_AUDIT_CHECKPOINT_DIR", global = true)]
    pub audit_checkpoint_dir: Option<PathBuf>,
    /// Minutes between signed checkpoints of the audit chain written by `serve`; 0 = only on
    /// demand [default: 60]
    #[arg(long, env = "GONGZHI_AUDIT_CHECKPOINT_MINUTES", global = true)]
    pub audit_checkpoint_minutes: Option<String>,
    /// Largest import upload in MB (residents, hotline work orders) [default: 50]
    #[arg(long, env = "GONGZHI_IMPORT_MAX_MB", global = true)]
    pub import_max_mb: Option<String>,
    /// Limits of an uploaded workbook: cells / last row / last column / MB after inflating /
    /// shared strings [default: 2000000/1048576/256/200/1000000]
    #[arg(long, env = "GONGZHI_SHEET_LIMITS", global = true)]
    pub sheet_limits: Option<String>,
    /// Log format: `json` or `text` [default: json]
    #[arg(long, env = "GONGZHI_LOG_FORMAT", global = true)]
    pub log_format: Option<String>,
    /// Log filter, e.g. `info` or `gongzhi=debug` [default: info]
    #[arg(long, env = "GONGZHI_LOG", global = true)]
    pub log: Option<String>,
}

/// The configurable rules of 接诉即办 (docs/cases.md).
#[derive(Debug, Clone)]
pub struct CasePolicy {
    pub max_returns: u32,
    pub max_extensions: u32,
    pub max_reopens: u32,
    pub warn_percent: u32,
    pub whistle_minutes: u32,
    pub weights: crate::domain::cases::Weights,
    /// Closed without a rating counts as satisfied.
    pub unrated_satisfied: bool,
    /// Working hours of a working day (`GONGZHI_WORK_HOURS`).
    pub work_hours: WorkHours,
    /// Working hours of areas by area code (`GONGZHI_WORK_HOURS_BY_AREA`); the nearest area
    /// above a case that has its own wins.
    pub work_hours_by_area: Vec<(String, WorkHours)>,
}

/// The configurable rules of 党员下沉、志愿服务、积分 (docs/party-volunteers.md).
#[derive(Debug, Clone)]
pub struct ServicePolicy {
    pub report_in_months: u32,
    pub star_hours: [f64; 5],
    pub limits: crate::domain::volunteer::Limits,
    pub day_minutes: i64,
    pub points_target: i64,
    pub report_in_rule: bool,
}

impl Default for ServicePolicy {
    fn default() -> Self {
        ServicePolicy {
            report_in_months: 6,
            star_hours: crate::domain::points::DEFAULT_STAR_HOURS,
            limits: crate::domain::volunteer::Limits::default(),
            day_minutes: 8 * 60,
            points_target: 100,
            report_in_rule: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub addr: SocketAddr,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub admin_password: Option<String>,
    /// Explicit master key (hex). `None` means: use or create `<data_dir>/master.key`.
    pub master_key: Option<String>,
    /// The idle timeout in milliseconds (set in minutes; tests use less).
    pub session_idle_ms: u64,
    pub session_absolute_hours: u32,
    pub single_session: bool,
    /// Peers whose `X-Forwarded-*` headers are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `scheme://host[:port]` of `GONGZHI_PUBLIC_URL`, lower-case, without a default port.
    pub public_origin: Option<String>,
    /// Direct https: the certificate and key files.
    pub tls: Option<crate::http::tls::TlsFiles>,
    /// The message channels that leave the server (`GONGZHI_SMS_*`, `GONGZHI_WEBHOOK_*`,
    /// `GONGZHI_QUIET_HOURS`; app/messages/channels.rs). Read from the environment only: these
    /// are credentials, kept out of files and flags.
    pub channels: crate::app::messages::channels::ChannelSettings,
    pub login_rate_per_minute: u32,
    pub audit_retention_days: u32,
    /// Messages older than this many days are removed.
    pub message_retention_days: u32,
    pub db_max_connections: u32,
    pub auth_cache_ms: u64,
    /// Requests slower than this are logged (0: never).
    pub slow_request_ms: u64,
    pub tree_cache_ms: u64,
    pub freshness_rented_days: u32,
    pub freshness_other_days: u32,
    pub cases: CasePolicy,
    pub service: ServicePolicy,
    /// Explicit audit key (hex). `None` means: use or create `<data_dir>/audit.key`.
    pub audit_key: Option<String>,
    pub audit_checkpoint_dir: PathBuf,
    pub audit_checkpoint_minutes: u32,
    /// Largest import upload, in bytes.
    pub import_max_bytes: u64,
    pub sheet: crate::sheet::Limits,
    pub log_format: LogFormat,
    pub log: String,
}

/// One invalid setting: the name a user would type (`GONGZHI_ADDR`) and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting {name} (设置无效): {problem}")]
pub struct SettingError {
    pub name: String,
    pub problem: String,
}

fn bad(name: &str, problem: impl Into<String>) -> SettingError {
    SettingError {
        name: name.to_string(),
        problem: problem.into(),
    }
}

fn parse_num<T: std::str::FromStr>(
    name: &str,
    value: &Option<String>,
    default: T,
) -> Result<T, SettingError> {
    match value {
        Some(s) => s
            .trim()
            .parse()
            .map_err(|_| bad(name, format!("'{s}' is not a valid number"))),
        None => Ok(default),
    }
}

fn parse_bool(name: &str, value: &Option<String>, default: bool) -> Result<bool, SettingError> {
    match value.as_deref().map(|s| s.trim().to_ascii_lowercase()) {
        Some(s) => match s.as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(bad(name, format!("'{s}' is not true or false"))),
        },
        None => Ok(default),
    }
}

impl Settings {
    /// Builds settings from flags/environment and the optional TOML file.
    pub fn load(given: &SettingsArgs) -> Result<Settings, SettingError> {
        let file = match &given.config {
            Some(path) => read_file(path, true)?,
            None => read_file(Path::new("gongzhi.toml"), false)?,
        };
        let args = &under(given, file);

        let addr_s = args.addr.clone().unwrap_or_else(|| "127.0.0.1:8080".into());
        let addr: SocketAddr = addr_s.trim().parse().map_err(|_| {
            bad(
                "GONGZHI_ADDR",
                format!("'{addr_s}' is not host:port, e.g. 127.0.0.1:8080"),
            )
        })?;

        let data_dir = args
            .data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("./data"));
        if data_dir.as_os_str().is_empty() {
            return Err(bad("GONGZHI_DATA_DIR", "must not be empty"));
        }

        let database_url = match args.database_url.clone() {
            Some(url) if !url.trim().is_empty() => {
                let url = url.trim().to_string();
                if !(url.starts_with("sqlite:")
                    || url.starts_with("postgres://")
                    || url.starts_with("postgresql://"))
                {
                    return Err(bad(
                        "GONGZHI_DATABASE_URL",
                        "must start with sqlite: or postgres://",
                    ));
                }
                url
            }
            _ => format!(
                "sqlite://{}?mode=rwc",
                data_dir.join("gongzhi.db").to_string_lossy()
            ),
        };

        let master_key = args.master_key.clone();
        if let Some(k) = &master_key {
            crate::crypto::parse_master_key(k).map_err(|p| bad("GONGZHI_MASTER_KEY", p))?;
        }

        let admin_password = args.admin_password.clone();
        if let Some(p) = &admin_password {
            if let Err(e) = crate::domain::password::check_policy("admin", p) {
                return Err(bad("GONGZHI_ADMIN_PASSWORD", e.en));
            }
        }

        let session_idle_minutes = ranged(
            "GONGZHI_SESSION_IDLE_MINUTES",
            &args.session_idle_minutes,
            30u32,
            1..=24 * 60,
        )?;
        let session_absolute_hours = ranged(
            "GONGZHI_SESSION_ABSOLUTE_HOURS",
            &args.session_absolute_hours,
            12u32,
            1..=24 * 30,
        )?;
        let single_session = parse_bool("GONGZHI_SINGLE_SESSION", &args.single_session, false)?;
        let trusted_proxies = parse_proxies(args.trusted_proxies.as_deref().unwrap_or(""))?;
        let public_origin = match args.public_url.clone() {
            Some(u) if !u.trim().is_empty() => Some(parse_public_url(&u)?),
            _ => None,
        };
        let tls = match (args.tls_cert.clone(), args.tls_key.clone()) {
            (None, None) => None,
            (Some(cert), Some(key)) => Some(crate::http::tls::TlsFiles { cert, key }),
            _ => {
                return Err(bad(
                    "GONGZHI_TLS_CERT",
                    "GONGZHI_TLS_CERT and GONGZHI_TLS_KEY go together: set both, or neither",
                ))
            }
        };
        let login_rate_per_minute = ranged(
            "GONGZHI_LOGIN_RATE_PER_MINUTE",
            &args.login_rate_per_minute,
            30u32,
            1..,
        )?;
        let audit_retention_days = ranged(
            "GONGZHI_AUDIT_RETENTION_DAYS",
            &args.audit_retention_days,
            180u32,
            180..,
        )
        // The law behind the bound, on the range error only.
        .map_err(|e| match e.problem.starts_with("must") {
            true => bad(
                &e.name,
                format!("{} (six months, 网络安全法 Art. 21)", e.problem),
            ),
            false => e,
        })?;
        let message_retention_days = ranged(
            "GONGZHI_MESSAGE_RETENTION_DAYS",
            &args.message_retention_days,
            365u32,
            30..,
        )?;
        let is_sqlite = database_url.starts_with("sqlite:");
        let db_max_connections = ranged(
            "GONGZHI_DB_MAX_CONNECTIONS",
            &args.db_max_connections,
            if is_sqlite { 8u32 } else { 16 },
            1..=1000,
        )?;
        let slow_request_ms =
            parse_num::<u64>("GONGZHI_SLOW_REQUEST_MS", &args.slow_request_ms, 1000)?;
        let cache_ms = |name, value| ranged(name, value, 1000u64, ..=60_000);
        let auth_cache_ms = cache_ms("GONGZHI_AUTH_CACHE_MS", &args.auth_cache_ms)?;
        let tree_cache_ms = cache_ms("GONGZHI_TREE_CACHE_MS", &args.tree_cache_ms)?;
        // Both read before either is checked (a bad number is named before a bad range).
        let freshness_rented_days = parse_num::<u32>(
            "GONGZHI_FRESHNESS_RENTED_DAYS",
            &args.freshness_rented_days,
            90,
        )?;
        let freshness_other_days = parse_num::<u32>(
            "GONGZHI_FRESHNESS_OTHER_DAYS",
            &args.freshness_other_days,
            365,
        )?;
        for (name, v) in [
            ("GONGZHI_FRESHNESS_RENTED_DAYS", freshness_rented_days),
            ("GONGZHI_FRESHNESS_OTHER_DAYS", freshness_other_days),
        ] {
            ranged(name, &Some(v.to_string()), v, 1..=3650)?;
        }
        let cases = CasePolicy::load(args)?;
        let service = ServicePolicy::load(args)?;
        let audit_key = args.audit_key.clone();
        if let Some(k) = &audit_key {
            crate::crypto::parse_master_key(k).map_err(|p| bad("GONGZHI_AUDIT_KEY", p))?;
        }
        let audit_checkpoint_dir = args
            .audit_checkpoint_dir
            .clone()
            .unwrap_or_else(|| data_dir.join("audit-checkpoints"));
        let audit_checkpoint_minutes = ranged(
            "GONGZHI_AUDIT_CHECKPOINT_MINUTES",
            &args.audit_checkpoint_minutes,
            60u32,
            0..=7 * 24 * 60,
        )?;
        let import_max_mb = ranged(
            "GONGZHI_IMPORT_MAX_MB",
            &args.import_max_mb,
            50u64,
            1..=4096,
        )?;
        let sheet = match args.sheet_limits.clone() {
            None => crate::sheet::Limits::default(),
            Some(text) => parse_sheet_limits(&text).ok_or_else(|| {
                bad(
                    "GONGZHI_SHEET_LIMITS",
                    "cells/rows/columns/MB/shared strings, e.g. 2000000/1048576/256/200/1000000",
                )
            })?,
        };
        let log_format = match args.log_format.clone().as_deref().unwrap_or("json") {
            "json" => LogFormat::Json,
            "text" => LogFormat::Text,
            other => {
                return Err(bad(
                    "GONGZHI_LOG_FORMAT",
                    format!("'{other}' is not json or text"),
                ))
            }
        };
        let log = args.log.clone().unwrap_or_else(|| "info".into());

        Ok(Settings {
            addr,
            database_url,
            data_dir,
            admin_password,
            master_key,
            session_idle_ms: u64::from(session_idle_minutes) * 60_000,
            session_absolute_hours,
            single_session,
            trusted_proxies,
            public_origin,
            tls,
            channels: crate::app::messages::channels::ChannelSettings::from_env()
                .map_err(|e| bad("GONGZHI_SMS_* / GONGZHI_WEBHOOK_*", e))?,
            login_rate_per_minute,
            audit_retention_days,
            message_retention_days,
            db_max_connections,
            auth_cache_ms,
            slow_request_ms,
            tree_cache_ms,
            freshness_rented_days,
            freshness_other_days,
            cases,
            service,
            audit_key,
            audit_checkpoint_dir,
            audit_checkpoint_minutes,
            import_max_bytes: import_max_mb * 1024 * 1024,
            sheet,
            log_format,
            log,
        })
    }

    /// Whether users reach the server over https whatever the request says (`GONGZHI_PUBLIC_URL`).
    pub fn public_https(&self) -> bool {
        self.tls.is_some()
            || self
                .public_origin
                .as_deref()
                .is_some_and(|o| o.starts_with("https://"))
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }

    /// Settings for tests and tools: everything default except the database and data dir.
    pub fn for_database(database_url: &str, data_dir: &Path) -> Settings {
        let args = SettingsArgs {
            database_url: Some(database_url.to_string()),
            data_dir: Some(data_dir.to_path_buf()),
            config: Some(PathBuf::new()),
            ..Default::default()
        };
        Settings::load(&args).expect("default settings are valid")
    }
}

/// A number within `range` (`1..=1000`, `30..`, `..=60_000`), or `default` when the setting is
/// not given; out of range, the message says the bounds ("must be between 1 and 1000", "must be
/// at least 30", "must be at most 60000").
fn ranged<T, R>(name: &str, value: &Option<String>, default: T, range: R) -> Result<T, SettingError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
    R: std::ops::RangeBounds<T>,
{
    use std::ops::Bound::Included;
    let v = parse_num(name, value, default)?;
    if range.contains(&v) {
        return Ok(v);
    }
    let problem = match (range.start_bound(), range.end_bound()) {
        (Included(lo), Included(hi)) => format!("must be between {lo} and {hi}"),
        (Included(lo), _) => format!("must be at least {lo}"),
        (_, Included(hi)) => format!("must be at most {hi}"),
        _ => "is out of range".to_string(),
    };
    Err(bad(name, problem))
}

impl CasePolicy {
    /// The case rules of the settings (docs/cases.md).
    fn load(args: &SettingsArgs) -> Result<CasePolicy, SettingError> {
        let weights_s = args
            .case_score_weights
            .clone()
            .unwrap_or_else(|| "30/35/35".into());
        Ok(CasePolicy {
            max_returns: ranged(
                "GONGZHI_CASE_MAX_RETURNS",
                &args.case_max_returns,
                2u32,
                1..=10,
            )?,
            max_extensions: ranged(
                "GONGZHI_CASE_MAX_EXTENSIONS",
                &args.case_max_extensions,
                1u32,
                0..=10,
            )?,
            max_reopens: ranged(
                "GONGZHI_CASE_MAX_REOPENS",
                &args.case_max_reopens,
                1u32,
                0..=10,
            )?,
            warn_percent: ranged(
                "GONGZHI_CASE_WARN_PERCENT",
                &args.case_warn_percent,
                20u32,
                1..=90,
            )?,
            whistle_minutes: ranged(
                "GONGZHI_CASE_WHISTLE_MINUTES",
                &args.case_whistle_minutes,
                30u32,
                5..=1440,
            )?,
            weights: crate::domain::cases::Weights::parse(&weights_s).ok_or_else(|| {
                bad(
                    "GONGZHI_CASE_SCORE_WEIGHTS",
                    "three whole percentages adding up to 100, e.g. 30/35/35",
                )
            })?,
            work_hours: work_hours(args.work_hours.clone())?,
            work_hours_by_area: work_hours_by_area(args.work_hours_by_area.clone())?,
            unrated_satisfied: match args.case_unrated.clone().as_deref().unwrap_or("exclude") {
                "exclude" => false,
                "satisfied" => true,
                other => {
                    return Err(bad(
                        "GONGZHI_CASE_UNRATED",
                        format!("'{other}' is not exclude or satisfied"),
                    ))
                }
            },
        })
    }
}

impl ServicePolicy {
    /// The party and volunteer service rules of the settings (docs/party-volunteers.md).
    fn load(args: &SettingsArgs) -> Result<ServicePolicy, SettingError> {
        let stars_s = args
            .star_hours
            .clone()
            .unwrap_or_else(|| "100/300/600/1000/1500".into());
        let stars: Vec<f64> = stars_s
            .split('/')
            .filter_map(|p| p.trim().parse::<f64>().ok())
            .collect();
        let star_hours: [f64; 5] = stars
            .clone()
            .try_into()
            .ok()
            .filter(|a: &[f64; 5]| a[0] > 0.0 && a.windows(2).all(|w| w[0] < w[1]))
            .ok_or_else(|| {
                bad(
                    "GONGZHI_STAR_HOURS",
                    "five rising hour counts, e.g. 100/300/600/1000/1500",
                )
            })?;
        let lim_s = args
            .volunteer_limits
            .clone()
            .unwrap_or_else(|| "20/5/8".into());
        let lim: Vec<f64> = lim_s
            .split('/')
            .filter_map(|p| p.trim().parse::<f64>().ok())
            .collect();
        let limits = match lim.as_slice() {
            [h, d, r]
                if *h > 0.0
                    && *h <= 168.0
                    && *d >= 1.0
                    && *d <= 31.0
                    && d.fract() == 0.0
                    && *r >= 0.0
                    && *r <= 72.0 =>
            {
                crate::domain::volunteer::Limits {
                    hours_per_week: *h,
                    consecutive_days: *d as u32,
                    rest_hours: *r,
                }
            }
            _ => {
                return Err(bad(
                    "GONGZHI_VOLUNTEER_LIMITS",
                    "hours per week / consecutive days / rest hours, e.g. 20/5/8",
                ))
            }
        };
        Ok(ServicePolicy {
            report_in_months: ranged(
                "GONGZHI_REPORT_IN_MONTHS",
                &args.report_in_months,
                6u32,
                1..=36,
            )?,
            star_hours,
            limits,
            day_minutes: i64::from(ranged(
                "GONGZHI_SERVICE_DAY_HOURS",
                &args.service_day_hours,
                8u32,
                1..=24,
            )?) * 60,
            points_target: i64::from(ranged(
                "GONGZHI_RATING_POINTS_TARGET",
                &args.rating_points_target,
                100u32,
                1..=100_000,
            )?),
            report_in_rule: match args
                .rating_report_in_rule
                .clone()
                .as_deref()
                .unwrap_or("on")
            {
                "on" => true,
                "off" => false,
                other => {
                    return Err(bad(
                        "GONGZHI_RATING_REPORT_IN_RULE",
                        format!("'{other}' is not on or off"),
                    ))
                }
            },
        })
    }
}

fn parse_sheet_limits(text: &str) -> Option<crate::sheet::Limits> {
    let n: Vec<u64> = text
        .split('/')
        .map(|p| p.trim().parse::<u64>().ok().filter(|v| *v > 0))
        .collect::<Option<_>>()?;
    let [cells, rows, cols, mb, shared] = n[..] else {
        return None;
    };
    Some(crate::sheet::Limits {
        max_cells: cells,
        max_rows: u32::try_from(rows).ok()?,
        max_cols: u32::try_from(cols).ok()?,
        max_inflated: mb.checked_mul(1024 * 1024)?,
        max_shared_strings: shared,
    })
}

/// `127.0.0.1, 10.0.0.0/8, ::1` → networks (a bare address is a network of one).
fn parse_proxies(list: &str) -> Result<Vec<ipnet::IpNet>, SettingError> {
    list.split([',', ' '])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<ipnet::IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map(|n| n.trunc())
                .map_err(|_| {
                    bad(
                        "GONGZHI_TRUSTED_PROXIES",
                        format!("'{p}' is not an IP address or CIDR block, e.g. 10.0.0.0/8"),
                    )
                })
        })
        .collect()
}

/// `https://Example.gov.cn:443/console/` → `https://example.gov.cn`.
fn parse_public_url(url: &str) -> Result<String, SettingError> {
    let problem = || {
        bad(
            "GONGZHI_PUBLIC_URL",
            format!("'{url}' is not http(s)://host[:port], e.g. https://gongzhi.example.gov.cn"),
        )
    };
    let url = url.trim().to_ascii_lowercase();
    let (scheme, rest) = url.split_once("://").ok_or_else(problem)?;
    if scheme != "http" && scheme != "https" {
        return Err(problem());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return Err(problem());
    }
    Ok(crate::http::forwarded::origin_of(scheme, authority))
}

fn work_hours(s: Option<String>) -> Result<WorkHours, SettingError> {
    let Some(s) = s.filter(|s| !s.trim().is_empty()) else {
        return Ok(WorkHours::default());
    };
    WorkHours::parse(&s).ok_or_else(|| {
        bad(
            "GONGZHI_WORK_HOURS",
            format!("'{s}': 1–4 periods like 09:00-12:00,13:00-18:00, in order, not overlapping"),
        )
    })
}

/// `code=hours;code=hours` (codes of areas, hours as `GONGZHI_WORK_HOURS`).
fn work_hours_by_area(s: Option<String>) -> Result<Vec<(String, WorkHours)>, SettingError> {
    let name = "GONGZHI_WORK_HOURS_BY_AREA";
    let mut out: Vec<(String, WorkHours)> = vec![];
    for entry in s
        .unwrap_or_default()
        .split(';')
        .filter(|e| !e.trim().is_empty())
    {
        let (code, hours) = entry.split_once('=').ok_or_else(|| {
            bad(
                name,
                format!("'{entry}' is not area-code=09:00-12:00,13:00-18:00"),
            )
        })?;
        let code = code.trim();
        let code_ok = !code.is_empty()
            && code.len() <= 32
            && code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !code_ok || out.iter().any(|(c, _)| c == code) {
            return Err(bad(
                name,
                format!("'{code}' is not an area code, or appears twice"),
            ));
        }
        let hours = WorkHours::parse(hours).ok_or_else(|| {
            bad(
                name,
                format!(
                    "{code}: '{}' is not like 09:00-12:00,13:00-18:00",
                    hours.trim()
                ),
            )
        })?;
        out.push((code.to_string(), hours));
    }
    Ok(out)
}

/// `given` (flags and environment), with the file's values where it has none.
fn under(given: &SettingsArgs, file: SettingsArgs) -> SettingsArgs {
    let (Ok(serde_json::Value::Object(mut merged)), Ok(serde_json::Value::Object(file))) =
        (serde_json::to_value(given), serde_json::to_value(file))
    else {
        return given.clone();
    };
    for (key, value) in file {
        let slot = merged.entry(key).or_insert(serde_json::Value::Null);
        if slot.is_null() {
            *slot = value;
        }
    }
    let mut out: SettingsArgs =
        serde_json::from_value(serde_json::Value::Object(merged)).unwrap_or_else(|_| given.clone());
    out.config = given.config.clone();
    out
}

fn read_file(path: &Path, required: bool) -> Result<SettingsArgs, SettingError> {
    if path.as_os_str().is_empty() {
        return Ok(SettingsArgs::default());
    }
    match std::fs::read_to_string(path) {
        Ok(text) => toml_from_str(&text)
            .map_err(|e| bad("GONGZHI_CONFIG", format!("{}: {e}", path.display()))),
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
            Ok(SettingsArgs::default())
        }
        Err(e) => Err(bad("GONGZHI_CONFIG", format!("{}: {e}", path.display()))),
    }
}

/// The file's settings: keys are the field names of [`SettingsArgs`]; numbers and booleans are
/// read as their text, to be checked like a flag's.
fn toml_from_str(text: &str) -> Result<SettingsArgs, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut as_text = toml::Table::new();
    for (key, value) in table {
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(n) => n.to_string(),
            toml::Value::Float(x) => x.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            _ => return Err(format!("{key}: expected a single value")),
        };
        as_text.insert(key, toml::Value::String(text));
    }
    toml::Value::Table(as_text)
        .try_into::<SettingsArgs>()
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The TOML file fills what flags and environment leave unset, with the same checks and names.
    #[test]
    fn the_file_fills_in_under_flags_and_is_checked_like_them() {
        let dir = std::env::temp_dir().join(format!("gongzhi-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("gongzhi.toml");
        let load = |text: &str, args: SettingsArgs| {
            std::fs::write(&path, text).unwrap();
            Settings::load(&SettingsArgs {
                config: Some(path.clone()),
                ..args
            })
        };
        let file = "addr = \"127.0.0.1:9090\"\nsession_idle_minutes = 45\nsingle_session = true\n";
        let s = load(file, SettingsArgs::default()).unwrap();
        assert_eq!(s.addr.to_string(), "127.0.0.1:9090");
        assert_eq!(s.session_idle_ms, 45 * 60_000);
        assert!(s.single_session);
        // A flag (or the environment) wins over the file.
        let flag = SettingsArgs {
            session_idle_minutes: Some("20".into()),
            ..Default::default()
        };
        assert_eq!(load(file, flag).unwrap().session_idle_ms, 20 * 60_000);
        // A bad value in the file is named like the flag's; an unknown key is refused.
        let err = load("session_idle_minutes = 0\n", SettingsArgs::default()).unwrap_err();
        assert_eq!(err.name, "GONGZHI_SESSION_IDLE_MINUTES");
        let err = load("session_idle = 5\n", SettingsArgs::default()).unwrap_err();
        assert_eq!(err.name, "GONGZHI_CONFIG");
        assert!(err.problem.contains("session_idle"), "{}", err.problem);
        let err = load("log = [\"a\"]\n", SettingsArgs::default()).unwrap_err();
        assert_eq!(err.name, "GONGZHI_CONFIG");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_addr_names_the_setting() {
        let args = SettingsArgs {
            addr: Some("nonsense".into()),
            config: Some(PathBuf::new()),
            ..Default::default()
        };
        let err = Settings::load(&args).unwrap_err();
        assert_eq!(err.name, "GONGZHI_ADDR");
    }

    #[test]
    fn retention_below_six_months_is_refused() {
        let args = SettingsArgs {
            audit_retention_days: Some("30".into()),
            config: Some(PathBuf::new()),
            ..Default::default()
        };
        assert_eq!(
            Settings::load(&args).unwrap_err().name,
            "GONGZHI_AUDIT_RETENTION_DAYS"
        );
    }

    #[test]
    fn defaults_use_sqlite_in_data_dir() {
        let args = SettingsArgs {
            config: Some(PathBuf::new()),
            ..Default::default()
        };
        let s = Settings::load(&args).unwrap();
        assert!(s.is_sqlite());
        assert_eq!(s.addr.to_string(), "127.0.0.1:8080");
        assert!(!s.single_session);
        assert!(s.trusted_proxies.is_empty() && s.public_origin.is_none());
    }

    #[test]
    fn proxies_and_public_url_are_parsed_or_named() {
        let args = SettingsArgs {
            trusted_proxies: Some("127.0.0.1, 10.1.2.3/8 ::1".into()),
            public_url: Some("HTTPS://Gongzhi.Example.gov.cn:443/console/".into()),
            config: Some(PathBuf::new()),
            ..Default::default()
        };
        let s = Settings::load(&args).unwrap();
        let nets: Vec<String> = s.trusted_proxies.iter().map(|n| n.to_string()).collect();
        assert_eq!(nets, ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]);
        assert_eq!(
            s.public_origin.as_deref(),
            Some("https://gongzhi.example.gov.cn")
        );
        assert!(s.public_https());
        for (proxies, url, name) in [
            ("10.0.0.0/33", "", "GONGZHI_TRUSTED_PROXIES"),
            ("proxy.local", "", "GONGZHI_TRUSTED_PROXIES"),
            ("", "gongzhi.example.gov.cn", "GONGZHI_PUBLIC_URL"),
            ("", "ftp://x", "GONGZHI_PUBLIC_URL"),
        ] {
            let args = SettingsArgs {
                trusted_proxies: Some(proxies.into()),
                public_url: Some(url.into()),
                config: Some(PathBuf::new()),
                ..Default::default()
            };
            assert_eq!(
                Settings::load(&args).unwrap_err().name,
                name,
                "{proxies} {url}"
            );
        }
    }

    #[test]
    fn working_hours_settings() {
        let load = |hours: &str, by_area: &str| {
            Settings::load(&SettingsArgs {
                work_hours: Some(hours.into()),
                work_hours_by_area: Some(by_area.into()),
                config: Some(PathBuf::new()),
                ..Default::default()
            })
        };
        let s = load("", "").unwrap();
        assert_eq!(s.cases.work_hours, WorkHours::default());
        assert!(s.cases.work_hours_by_area.is_empty());
        let s = load(
            "08:30-12:00,13:30-17:30",
            " 130602001 = 09:00-17:00 ;130603=8:00-12:00;",
        )
        .unwrap();
        assert_eq!(s.cases.work_hours.to_string(), "08:30-12:00,13:30-17:30");
        let codes: Vec<_> = s
            .cases
            .work_hours_by_area
            .iter()
            .map(|(c, h)| format!("{c}={h}"))
            .collect();
        assert_eq!(codes, ["130602001=09:00-17:00", "130603=08:00-12:00"]);
        assert_eq!(load("9-17", "").unwrap_err().name, "GONGZHI_WORK_HOURS");
        for bad in [
            "130602001",
            "=09:00-17:00",
            "a b=09:00-17:00",
            "1=09:00-17:00;1=10:00-11:00",
            "1=17:00-09:00",
        ] {
            assert_eq!(
                load("", bad).unwrap_err().name,
                "GONGZHI_WORK_HOURS_BY_AREA",
                "{bad}"
            );
        }
    }
}
