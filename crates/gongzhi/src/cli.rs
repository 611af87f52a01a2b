//! The command line: `gongzhi [serve] | migrate | demo | user … | token … | audit …`.
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use uuid::Uuid;

use crate::app::{self, Ctx};
use crate::config::{LogFormat, Settings, SettingsArgs};
use crate::error::AppError;
use crate::store;

#[derive(Parser, Debug)]
#[command(
    name = "gongzhi",
    version,
    about = "共治 gongzhi — urban community governance (城市社区治理平台)"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server with its console (the default command)
    Serve {
        /// Load the demo city first if the database has none
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit
    Migrate,
    /// Fill the database with a demo city (Baoding-style) and demo users
    Demo {
        /// Number of households to plan for (grids hold 300–500 each)
        #[arg(long, default_value_t = 20_000)]
        households: u32,
        /// Random seed: the same seed always gives the same data
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
    /// Manage users
    #[command(subcommand)]
    User(UserCmd),
    /// Manage API tokens for other systems
    #[command(subcommand)]
    Token(TokenCmd),
    /// The audit trail
    #[command(subcommand)]
    Audit(AuditCmd),
    /// The master key
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Copy the database (uploaded files included) and the audit checkpoints into a new
    /// directory with a manifest, while the server runs (docs/operations.md)
    Backup {
        /// The directory to create [default: ./gongzhi-backup-YYYYMMDD-HHMMSS]
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// Also copy the master and audit keys (whoever holds such a backup can read every ID
        /// number in it; keep the keys apart instead when you can)
        #[arg(long)]
        include_keys: bool,
    },
    /// Restore a backup into an empty database (a new data directory, or an empty PostgreSQL
    /// database), then check its row counts and audit chain
    Restore {
        /// The backup directory
        from: std::path::PathBuf,
    },
    /// Check this installation: settings, database, keys, disk space, clock, calendar, audit
    /// chain, spool files; exit code 1 when something must be fixed
    Doctor,
    /// Registry maintenance
    #[command(subcommand)]
    Registry(RegistryCmd),
    /// Benchmark the rate dashboard: write N synthetic cases (a year, over the demo city; load
    /// `gongzhi demo` first), fold their counters, and time dashboards, trends and rankings
    BenchCases {
        #[arg(long, default_value_t = 5_000_000)]
        cases: u64,
        #[arg(long, default_value_t = 50)]
        queries: usize,
    },
    /// Benchmark 党员下沉、志愿服务、积分 over the demo city (load `gongzhi demo` first): add N
    /// members, then time a big activity's check-out and confirmation, balance reads, and the
    /// annual ratings (docs/benchmarks.md)
    BenchService {
        /// Participants of the activity checked out
        #[arg(long, default_value_t = 10_000)]
        people: usize,
        /// Party members rated
        #[arg(long, default_value_t = 100_000)]
        members: usize,
        /// Postings of the account with a long history
        #[arg(long, default_value_t = 200_000)]
        history: usize,
    },
    /// Benchmark notices with receipts over the demo city (load `gongzhi demo` first): grow the
    /// first street to N households (synthetic ones, one member each), time one notice's fan-out
    /// to all of them, then household receipts recorded by concurrent writers (docs/benchmarks.md)
    BenchNotices {
        #[arg(long, default_value_t = 1_000_000)]
        households: u64,
        #[arg(long, default_value_t = 20_000)]
        receipts: u64,
        #[arg(long, default_value_t = 8)]
        writers: usize,
    },
    /// Benchmark the message sender (load `gongzhi demo` first): N synthetic accounts, one message
    /// to them, drained to a webhook endpoint on a loopback port (docs/benchmarks.md)
    BenchSender {
        #[arg(long, default_value_t = 20_000)]
        people: usize,
    },
    /// Measure the configured database's raw insert rate (the ceiling benchmarks compare with):
    /// rows shaped like a resident (ids, names, ciphertext-sized text) into a scratch table, in one
    /// transaction, with the statements the importer uses; the table is dropped afterwards
    InsertCeiling {
        #[arg(long, default_value_t = 200_000)]
        rows: u32,
        /// Also measure committed one-row transactions with this many concurrent writers (the
        /// ceiling for case intake, which commits each case on its own)
        #[arg(long)]
        commit_writers: Option<u32>,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysCmd {
    /// Re-encrypt all personal data under a new master key (all or nothing)
    Rotate {
        /// The new key, 64 hex characters; generated when absent
        #[arg(long)]
        new_key: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum RegistryCmd {
    /// Remove the personal data of residents who moved away or died before the retention period
    Purge {
        /// Days a departed resident's record is kept [default: 1095, at least 180]
        #[arg(long, default_value_t = 1095)]
        retention_days: u32,
        /// Only count
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCmd {
    /// Add a user (password from GONGZHI_NEW_PASSWORD or generated and printed)
    Add {
        username: String,
        #[arg(long)]
        display_name: Option<String>,
        /// Grant a role, as ROLE or ROLE@AREA_CODE (e.g. community_worker@130602001001)
        #[arg(long = "grant")]
        grants: Vec<String>,
    },
    /// List users and their grants
    List,
    /// Set a new password (from GONGZHI_NEW_PASSWORD or generated); it must be changed at next login
    ResetPassword { username: String },
    /// Disable a user and end their sessions
    Disable { username: String },
    /// Enable a disabled user
    Enable { username: String },
}

#[derive(Subcommand, Debug)]
pub enum TokenCmd {
    /// Create a token; it is printed once
    Create {
        name: String,
        /// ROLE@AREA_CODE, repeatable
        #[arg(long = "grant", required = true)]
        grants: Vec<String>,
    },
    /// List tokens
    List,
    /// Revoke a token by id
    Revoke { id: Uuid },
}

#[derive(Subcommand, Debug)]
pub enum AuditCmd {
    /// Walk the keyed hash chain and name the first altered or missing row; with
    /// `--checkpoints DIR`, also check it against the signed checkpoints kept there
    Verify {
        /// A directory of signed checkpoints (`checkpoint-*.json`), e.g. a copy kept off the
        /// server
        #[arg(long)]
        checkpoints: Option<std::path::PathBuf>,
    },
    /// Sign the chain's head into a checkpoint file (GONGZHI_AUDIT_CHECKPOINT_DIR, or --dir);
    /// `serve` also does this every GONGZHI_AUDIT_CHECKPOINT_MINUTES
    Checkpoint {
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
    },
    /// Remove rows older than the retention period (GONGZHI_AUDIT_RETENTION_DAYS, at least 180)
    Prune,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(&cli.settings) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gongzhi: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&settings);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gongzhi: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(
        cli.command.unwrap_or(Command::Serve { demo: false }),
        settings,
    )) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("gongzhi: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(s: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_new(&s.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match s.log_format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

fn new_password() -> String {
    std::env::var("GONGZHI_NEW_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(crate::domain::password::generate)
}

async fn area_by_code(db: &store::Db, code: &str) -> Result<Uuid, String> {
    #[derive(sea_orm::FromQueryResult)]
    struct I {
        id: Uuid,
    }
    store::fetch_opt::<I, _>(
        db,
        "SELECT id FROM areas WHERE code = $1",
        vec![code.to_string().into()],
    )
    .await
    .map_err(|e| e.to_string())?
    .map(|i| i.id)
    .ok_or_else(|| format!("no area with code {code}"))
}

async fn parse_grant(db: &store::Db, g: &str) -> Result<app::users::NewGrant, String> {
    let (role, code) = match g.split_once('@') {
        Some((r, c)) => (r, Some(c)),
        None => (g, None),
    };
    let area_id = match code {
        Some(c) => Some(area_by_code(db, c).await?),
        None => None,
    };
    Ok(app::users::NewGrant {
        role: role.to_string(),
        area_id,
    })
}

fn show(e: AppError) -> String {
    match &e {
        AppError::Validation(f) => f
            .iter()
            .map(|(k, v)| format!("{k}: {} / {}", v.zh, v.en))
            .collect::<Vec<_>>()
            .join("; "),
        _ => format!(
            "{} / {}",
            e.message(crate::error::Lang::Zh),
            e.message(crate::error::Lang::En)
        ),
    }
}

async fn run(cmd: Command, settings: Settings) -> Result<ExitCode, String> {
    match cmd {
        Command::Serve { demo } => serve(settings, demo).await,
        Command::Migrate => {
            migrated_db(&settings).await?;
            println!("数据库已是最新 / database is up to date");
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { households, seed } => demo(settings, households, seed).await,
        Command::Keys(KeysCmd::Rotate { new_key }) => rotate_keys(settings, new_key).await,
        Command::BenchCases { cases, queries } => {
            let (state, _) = crate::startup::build_state(settings).await?;
            bench_done(crate::bench::cases::run(&state, cases, queries.max(1)).await)
        }
        Command::BenchService {
            people,
            members,
            history,
        } => {
            let (state, _) = crate::startup::build_state(settings).await?;
            bench_done(
                crate::bench::service::run(&state, people.max(1), members.max(1), history.max(1))
                    .await,
            )
        }
        Command::BenchNotices {
            households,
            receipts,
            writers,
        } => {
            let (state, _) = crate::startup::build_state(settings).await?;
            bench_done(
                crate::bench::notices::run(&state, households, receipts.max(1), writers.max(1))
                    .await,
            )
        }
        Command::BenchSender { people } => {
            let (state, _) = crate::startup::build_state(settings).await?;
            bench_done(crate::bench::sender::run(&state, people.max(1)).await)
        }
        Command::InsertCeiling {
            rows,
            commit_writers,
        } => insert_ceiling(settings, rows, commit_writers).await,
        Command::Registry(RegistryCmd::Purge {
            retention_days,
            dry_run,
        }) => purge(settings, retention_days, dry_run).await,
        Command::Backup { out, include_keys } => backup(settings, out, include_keys).await,
        Command::Restore { from } => restore(settings, from).await,
        Command::Doctor => doctor(settings).await,
        Command::User(u) => user_cmd(u, settings).await,
        Command::Token(t) => token_cmd(t, settings).await,
        Command::Audit(a) => audit_cmd(a, settings).await,
    }
}

/// `serve`: the server (with `--demo`, the demo city loaded first when the database has none).
async fn serve(settings: Settings, demo: bool) -> Result<ExitCode, String> {
    let addr = settings.addr;
    let (state, generated) = crate::startup::build_state(settings).await?;
    if let Some(pw) = generated {
        println!("已创建管理员账号 admin，初始密码（只显示这一次，首次登录须修改）：{pw}");
        println!(
            "Created the admin account; its one-time password (change it at first login): {pw}"
        );
    }
    if demo && !crate::demo::exists(&state.db).await.map_err(show)? {
        let city = crate::demo::run(
            &state.db,
            &state.keys,
            &state.audit_key,
            &crate::demo::DemoOptions::default(),
        )
        .await
        .map_err(show)?;
        if let Some(city) = city {
            print_demo_summary(&city);
        }
    }
    crate::startup::serve(state, addr, |a| {
        println!("gongzhi 已启动 / listening on http://{a}");
        tracing::info!(addr = %a, "listening");
    })
    .await
    .map_err(|e| format!("cannot listen on {addr} (GONGZHI_ADDR): {e}"))?;
    Ok(ExitCode::SUCCESS)
}

/// `demo`: the demo city, once.
async fn demo(settings: Settings, households: u32, seed: u64) -> Result<ExitCode, String> {
    let (state, generated) = crate::startup::build_state(settings).await?;
    if let Some(pw) = generated {
        println!("已创建管理员账号 admin，初始密码（只显示这一次）：{pw}");
        println!("Created the admin account; its one-time password: {pw}");
    }
    let started = std::time::Instant::now();
    match crate::demo::run(
        &state.db,
        &state.keys,
        &state.audit_key,
        &crate::demo::DemoOptions { households, seed },
    )
    .await
    .map_err(show)?
    {
        None => {
            println!("演示数据已存在，未做改动 / the demo city is already there; nothing changed")
        }
        Some(city) => {
            print_demo_summary(&city);
            println!("用时 / took {:.1} s", started.elapsed().as_secs_f64());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `insert-ceiling`: what the database itself can take, raw, for the benchmarks' comparisons.
async fn insert_ceiling(
    settings: Settings,
    rows: u32,
    commit_writers: Option<u32>,
) -> Result<ExitCode, String> {
    let db = store::connect(&settings).await.map_err(|e| e.to_string())?;
    let (rate, secs) = store::insert_ceiling(&db, rows)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "raw insert ceiling ({:?}): {rows} rows in {secs:.2} s = {rate:.0} rows/s",
        sea_orm::ConnectionTrait::get_database_backend(&db)
    );
    if let Some(w) = commit_writers {
        let n = (rows / 4).max(w);
        let (rate, secs) = store::commit_ceiling(&db, n, w)
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "raw commit ceiling ({:?}): {n} one-row transactions from {w} writers in {secs:.2} s = {rate:.0} commits/s",
            sea_orm::ConnectionTrait::get_database_backend(&db)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `registry purge`: residents who left more than `retention_days` ago (at least 180).
async fn purge(settings: Settings, retention_days: u32, dry_run: bool) -> Result<ExitCode, String> {
    if retention_days < 180 {
        eprintln!("gongzhi: --retention-days must be at least 180");
        return Ok(ExitCode::from(2));
    }
    let (state, _) = crate::startup::build_state(settings).await?;
    let n = app::maintenance::purge_departed(
        &state.db,
        &Ctx::system("cli", state.audit_key.clone()),
        retention_days,
        dry_run,
    )
    .await
    .map_err(show)?;
    if dry_run {
        println!("将清除 {n} 名离开超过 {retention_days} 天的居民 / would purge {n} residents");
    } else {
        println!("已清除 {n} 名离开超过 {retention_days} 天的居民 / purged {n} residents");
    }
    Ok(ExitCode::SUCCESS)
}

async fn backup(
    settings: Settings,
    out: Option<std::path::PathBuf>,
    include_keys: bool,
) -> Result<ExitCode, String> {
    let db = store::connect(&settings)
        .await
        .map_err(|e| format!("database: {e}"))?;
    let out = out.unwrap_or_else(crate::ops::backup::default_dir);
    let m = crate::ops::backup::backup(&settings, &db, &out, include_keys).await?;
    println!(
        "备份完成 / backup written: {} ({} database, schema {}, audit row {})",
        out.display(),
        m.database,
        m.schema,
        m.audit_head.0
    );
    if !include_keys {
        println!("密钥未包含在备份中，请另行妥善保管 master.key 与 audit.key / keys are not in the backup: keep master.key and audit.key safe elsewhere");
    }
    Ok(ExitCode::SUCCESS)
}

async fn restore(settings: Settings, from: std::path::PathBuf) -> Result<ExitCode, String> {
    let m = crate::ops::backup::restore(&settings, &from).await?;
    migrated_db(&settings).await?;
    println!(
        "已恢复 / restored the backup of {} (schema {}, audit row {})",
        m.created_at, m.schema, m.audit_head.0
    );
    Ok(ExitCode::SUCCESS)
}

/// `doctor`: each check on a line; exit 1 when one is an error.
async fn doctor(settings: Settings) -> Result<ExitCode, String> {
    let checks = crate::ops::doctor::run(&settings).await;
    for c in &checks {
        println!("{}", c.line());
    }
    let worst = checks.iter().map(|c| c.level).max();
    Ok(if worst == Some(crate::ops::doctor::Level::Error) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `audit checkpoint | verify | prune`.
async fn audit_cmd(a: AuditCmd, settings: Settings) -> Result<ExitCode, String> {
    let db = migrated_db(&settings).await?;
    let key =
        crate::crypto::AuditKey::load_or_create(settings.audit_key.as_deref(), &settings.data_dir)?;
    match a {
        AuditCmd::Checkpoint { dir } => {
            let dir = dir.unwrap_or_else(|| settings.audit_checkpoint_dir.clone());
            match app::audit::write_checkpoint(&db, &key, &dir)
                .await
                .map_err(show)?
            {
                Some(p) => println!("已写入检查点 / checkpoint written: {}", p.display()),
                None => {
                    println!("该位置已有检查点 / a checkpoint of this head exists already")
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCmd::Verify { checkpoints } => {
            match app::audit::verify(&db, &key, checkpoints.as_deref())
                .await
                .map_err(show)?
            {
                app::audit::Verdict::Intact { rows, checkpoints } => {
                    println!("审计链完整，共 {rows} 行，{checkpoints} 个签名检查点相符 / audit chain intact: {rows} rows, {checkpoints} signed checkpoints match");
                    Ok(ExitCode::SUCCESS)
                }
                app::audit::Verdict::Broken { seq, problem } => {
                    println!(
                        "审计链在第 {seq} 行断开 / audit chain broken at row {seq}: {problem}"
                    );
                    Ok(ExitCode::from(1))
                }
            }
        }
        AuditCmd::Prune => {
            let n = app::audit::prune(&db, settings.audit_retention_days)
                .await
                .map_err(show)?;
            println!(
                "已清理 {n} 行（保留 {} 天）/ removed {n} rows older than {} days",
                settings.audit_retention_days, settings.audit_retention_days
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A benchmark's end: its own report is printed; an error ends the command.
fn bench_done<E: std::fmt::Display>(r: Result<(), E>) -> Result<ExitCode, String> {
    r.map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

/// The configured database with every migration applied.
async fn migrated_db(settings: &Settings) -> Result<store::Db, String> {
    let db = store::connect(settings)
        .await
        .map_err(|e| format!("database: {e}"))?;
    store::migrate(&db, &settings.database_url)
        .await
        .map_err(|e| format!("migrations: {e}"))?;
    Ok(db)
}

fn print_demo_summary(city: &crate::demo::DemoCity) {
    use crate::domain::area::AreaKind;
    let count = |k| city.of_kind(k).count();
    println!(
        "演示城市已生成 / demo city loaded: {} 区, {} 街道, {} 社区, {} 网格, {} 楼栋, {} 党组织",
        count(AreaKind::District),
        count(AreaKind::Street),
        count(AreaKind::Community),
        count(AreaKind::Grid),
        count(AreaKind::Building),
        city.party_orgs
    );
    let (d, h, p, v, n) = city.registry;
    println!("一户一档 / registry: {d} 房屋, {h} 户, {p} 居民, {v} 次走访, {n} 项需求");
    let (k, u, c) = city.cases;
    println!("接诉即办 / cases: {k} 个事项分类, {u} 个承办单位, {c} 件诉求");
    let (vo, me, ac, po) = city.service;
    println!("志愿服务 / service: {vo} 名志愿者, {me} 名党员, {ac} 场活动, {po} 条积分流水");
    println!(
        "演示账号（密码均为 {}）/ demo users (password {}):",
        crate::demo::DEMO_PASSWORD,
        crate::demo::DEMO_PASSWORD
    );
    for (u, role, area) in &city.users {
        println!("  {u:<10} {:<8} {area}", role.label_zh());
    }
}

async fn user_cmd(cmd: UserCmd, settings: Settings) -> Result<ExitCode, String> {
    let (state, _) = crate::startup::build_state(settings).await?;
    let db = &state.db;
    let ctx = Ctx::system("cli", state.audit_key.clone());
    match cmd {
        UserCmd::Add {
            username,
            display_name,
            grants,
        } => {
            let pw = new_password();
            let mut parsed = vec![];
            for g in &grants {
                parsed.push(parse_grant(db, g).await?);
            }
            let u = app::users::create_unchecked(
                db,
                &ctx,
                app::users::NewUser {
                    display_name: display_name.unwrap_or_else(|| username.clone()),
                    username: username.clone(),
                    password: Some(pw.clone()),
                    must_change_password: Some(true),
                    ..Default::default()
                },
            )
            .await
            .map_err(show)?;
            for g in parsed {
                app::users::add_grant_unchecked(db, &ctx, u.id, g)
                    .await
                    .map_err(show)?;
            }
            println!("已创建用户 {username}，初始密码（首次登录须修改）/ created; initial password: {pw}");
        }
        UserCmd::List => {
            for u in app::users::list_all(db, &ctx).await.map_err(show)? {
                let grants: Vec<String> = u
                    .grants
                    .iter()
                    .map(|g| {
                        format!(
                            "{}@{}",
                            g.role.as_str(),
                            g.area_name.clone().unwrap_or_else(|| "*".into())
                        )
                    })
                    .collect();
                println!(
                    "{:<16} {:<16} {:<8} {}",
                    u.username,
                    u.display_name,
                    if u.disabled { "disabled" } else { "active" },
                    grants.join(", ")
                );
            }
        }
        UserCmd::ResetPassword { username } => {
            let id = app::users::id_by_username(db, &username)
                .await
                .map_err(|_| format!("no user {username}"))?;
            let pw = new_password();
            app::users::reset_password_unchecked(db, &ctx, id, &pw)
                .await
                .map_err(show)?;
            println!("新密码（下次登录须修改）/ new password (change at next login): {pw}");
        }
        UserCmd::Disable { username } => {
            let id = app::users::id_by_username(db, &username)
                .await
                .map_err(|_| format!("no user {username}"))?;
            app::users::set_disabled(db, &ctx, id, true)
                .await
                .map_err(show)?;
            println!("已停用 / disabled {username}");
        }
        UserCmd::Enable { username } => {
            let id = app::users::id_by_username(db, &username)
                .await
                .map_err(|_| format!("no user {username}"))?;
            app::users::set_disabled(db, &ctx, id, false)
                .await
                .map_err(show)?;
            println!("已启用 / enabled {username}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn token_cmd(cmd: TokenCmd, settings: Settings) -> Result<ExitCode, String> {
    let (state, _) = crate::startup::build_state(settings).await?;
    let db = &state.db;
    let ctx = Ctx::system("cli", state.audit_key.clone());
    match cmd {
        TokenCmd::Create { name, grants } => {
            let mut parsed = vec![];
            for g in &grants {
                parsed.push(parse_grant(db, g).await?);
            }
            let t = app::tokens::create_unchecked(
                db,
                &ctx,
                app::tokens::NewToken {
                    name,
                    grants: parsed,
                    expires_at: None,
                },
            )
            .await
            .map_err(show)?;
            println!("令牌（只显示这一次）/ token (shown once): {}", t.token);
            println!("id: {}", t.info.id);
        }
        TokenCmd::List => {
            for t in app::tokens::list_all(db, &ctx).await.map_err(show)? {
                println!(
                    "{} {:<24} {}… {}",
                    t.id,
                    t.name,
                    t.prefix,
                    if t.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    }
                );
            }
        }
        TokenCmd::Revoke { id } => {
            app::tokens::revoke_unchecked(db, &ctx, id)
                .await
                .map_err(show)?;
            println!("已吊销 / revoked {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn rotate_keys(settings: Settings, new_key: Option<String>) -> Result<ExitCode, String> {
    use crate::crypto::{parse_master_key, Keys};
    let from_file = settings.master_key.is_none();
    let key_file = settings.data_dir.join("master.key");
    if from_file && !key_file.exists() {
        return Err(format!(
            "no master key to rotate: {} does not exist and GONGZHI_MASTER_KEY is unset",
            key_file.display()
        ));
    }
    let (old, _) = Keys::load_or_create(settings.master_key.as_deref(), &settings.data_dir)?;
    let new_hex = match new_key {
        Some(k) => {
            parse_master_key(&k).map_err(|e| format!("--new-key {e}"))?;
            k.trim().to_string()
        }
        None => {
            use rand::RngCore;
            let mut b = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut b);
            hex::encode(b)
        }
    };
    let new = Keys::from_master(&parse_master_key(&new_hex)?);
    if new.key_id == old.key_id {
        return Err("the new key is the current key".into());
    }
    let db = migrated_db(&settings).await?;
    // Keep the new key on disk before any data depends on it.
    let staged = settings.data_dir.join("master.key.new");
    if from_file {
        let _ = std::fs::remove_file(&staged);
        crate::crypto::write_private(&staged, new_hex.as_bytes())
            .map_err(|e| format!("{}: {e}", staged.display()))?;
    }
    let audit = std::sync::Arc::new(crate::crypto::AuditKey::load_or_create(
        settings.audit_key.as_deref(),
        &settings.data_dir,
    )?);
    match app::maintenance::rotate_keys(&db, &old, &new, &audit).await {
        Ok(r) => {
            if from_file {
                let backup = settings
                    .data_dir
                    .join(format!("master.key.{}.old", crate::domain::now_ms()));
                std::fs::rename(&key_file, &backup)
                    .map_err(|e| format!("{}: {e}", backup.display()))?;
                std::fs::rename(&staged, &key_file)
                    .map_err(|e| format!("{}: {e}", key_file.display()))?;
                println!(
                    "已轮换密钥 {} → {}：{} 名居民，{} 个单位，{} 条其他记录（诉求人、账号电话和邮箱、短信投递）；旧密钥备份于 {}",
                    old.key_id,
                    new.key_id,
                    r.persons,
                    r.entities,
                    r.others,
                    backup.display()
                );
                println!(
                    "Rotated {} → {}: {} persons, {} entities, {} other rows (case requesters, account phones and e-mails, SMS deliveries); old key kept in {}",
                    old.key_id,
                    new.key_id,
                    r.persons,
                    r.entities,
                    r.others,
                    backup.display()
                );
            } else {
                println!(
                    "已轮换密钥 {} → {}：{} 名居民，{} 个单位，{} 条其他记录。",
                    old.key_id, new.key_id, r.persons, r.entities, r.others
                );
                println!("Rotated {} → {}. Set GONGZHI_MASTER_KEY to the new key before starting gongzhi again:", old.key_id, new.key_id);
                println!("{new_hex}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&staged);
            Err(format!("rotation failed, nothing changed: {}", show(e)))
        }
    }
}
