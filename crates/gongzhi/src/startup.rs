//! The composition root: settings → pool → migrations → keys → state → background jobs →
//! router. `cli` starts gongzhi through here; `http` only serves, `store` only stores, and the
//! background jobs (session sweep, case clock, message sender, audit checkpoints) are listed in
//! one place.
use std::net::SocketAddr;
use std::sync::Arc;

use crate::app::{auth, AppState, AuthCache, TreeCache};
use crate::config::Settings;
use crate::crypto::Keys;
use crate::store;

/// Builds the application state: connects, migrates, loads keys, creates `admin` on an empty
/// database. Returns the generated admin password, if one was made, for printing once.
pub async fn build_state(settings: Settings) -> Result<(AppState, Option<String>), String> {
    let db = store::connect(&settings)
        .await
        .map_err(|e| format!("database: {e}"))?;
    store::migrate(&db, &settings.database_url)
        .await
        .map_err(|e| format!("migrations: {e}"))?;
    let (keys, _) = Keys::load_or_create(settings.master_key.as_deref(), &settings.data_dir)?;
    let audit_key = Arc::new(crate::crypto::AuditKey::load_or_create(
        settings.audit_key.as_deref(),
        &settings.data_dir,
    )?);
    crate::app::audit::upgrade_chain(&db, &audit_key)
        .await
        .map_err(|e| format!("re-keying the audit chain: {e}"))?;
    // Spool files of processes that died (kill -9) hold personal data: remove them.
    let swept = crate::spool::sweep(&settings.data_dir);
    if swept > 0 {
        tracing::info!(
            files = swept,
            "removed spool files left by an earlier process"
        );
    }
    let generated = auth::ensure_admin(&db, &audit_key, settings.admin_password.as_deref())
        .await
        .map_err(|e| format!("creating admin: {e}"))?;
    let openapi_json = crate::http::openapi()
        .to_json()
        .map_err(|e| e.to_string())?;
    let tree_cache_ms = settings.tree_cache_ms;
    Ok((
        AppState {
            db,
            settings: Arc::new(settings),
            keys: Arc::new(keys),
            audit_key,
            metrics: Arc::new(crate::ops::metrics::Metrics::new()),
            auth_cache: Arc::new(AuthCache::default()),
            tree_cache: Arc::new(TreeCache::new(tree_cache_ms)),
            case_caches: Arc::new(crate::app::cases::Caches::default()),
            openapi_json: Arc::new(openapi_json),
        },
        generated,
    ))
}

/// The background jobs of one process; dropping it stops them.
pub struct Background(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Background {
    fn drop(&mut self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

/// Starts the background jobs: the session and message sweep (every 10 min), the case clock (rates folded
/// every second, deadline warnings, activity reminders and the daily visit and report-in reminders every 30 s), the message sender (every 2 s, when a channel
/// leaves the server) and the audit checkpoints (when configured). Each may run on every
/// instance at once.
pub fn spawn_background(state: &AppState) -> Background {
    let mut jobs = vec![];
    let db = state.db.clone();
    let retention = state.settings.message_retention_days;
    jobs.push(tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            if let Err(e) = auth::sweep(&db).await {
                tracing::warn!(error = %e, "sweeping old sessions failed");
            }
            if let Err(e) = crate::app::messages::sweep(&db, retention).await {
                tracing::warn!(error = %e, "sweeping old messages failed");
            }
            if let Err(e) = crate::app::signup::sweep(&db).await {
                tracing::warn!(error = %e, "sweeping old sign-up codes failed");
            }
        }
    }));
    let clock_state = state.clone();
    jobs.push(tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
        let mut ticks: u64 = 0;
        loop {
            every.tick().await;
            if let Err(e) = crate::app::cases::stats::fold(&clock_state.db).await {
                tracing::warn!(error = %e, "folding case rates failed");
            }
            if ticks % 30 == 0 {
                if let Err(e) = crate::app::cases::lifecycle::sweep(&clock_state).await {
                    tracing::warn!(error = %e, "case deadline sweep failed");
                }
                if let Err(e) = crate::app::service::notify::remind(&clock_state.db).await {
                    tracing::warn!(error = %e, "activity reminders failed");
                }
                if let Err(e) = crate::app::digests::run(&clock_state).await {
                    tracing::warn!(error = %e, "daily reminders failed");
                }
            }
            ticks += 1;
        }
    }));
    let cs = &state.settings.channels;
    if !cs.names().is_empty() && cs.background {
        let sender_state = state.clone();
        jobs.push(tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(2));
            loop {
                every.tick().await;
                if let Err(e) = crate::app::messages::sender::run_once(&sender_state).await {
                    tracing::warn!(error = %e, "sending messages failed");
                }
            }
        }));
    }
    jobs.extend(spawn_audit_checkpoints(state));
    Background(jobs)
}

/// Serves until Ctrl-C or SIGTERM with the background jobs running; `on_bound` learns the
/// address.
pub async fn serve(
    state: AppState,
    addr: SocketAddr,
    on_bound: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let _jobs = spawn_background(&state);
    crate::http::serve(state, addr, on_bound).await
}

/// Signs the audit chain's head into `GONGZHI_AUDIT_CHECKPOINT_DIR` every
/// `GONGZHI_AUDIT_CHECKPOINT_MINUTES` (none when 0), when it moved since the last one.
fn spawn_audit_checkpoints(state: &AppState) -> Option<tokio::task::JoinHandle<()>> {
    let minutes = state.settings.audit_checkpoint_minutes;
    if minutes == 0 {
        return None;
    }
    let (db, key) = (state.db.clone(), state.audit_key.clone());
    let dir = state.settings.audit_checkpoint_dir.clone();
    Some(tokio::spawn(async move {
        let mut every =
            tokio::time::interval(std::time::Duration::from_secs(u64::from(minutes) * 60));
        loop {
            every.tick().await;
            match crate::app::audit::write_checkpoint(&db, &key, &dir).await {
                Ok(Some(path)) => {
                    tracing::info!(path = %path.display(), "audit checkpoint written")
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "writing an audit checkpoint failed"),
            }
        }
    }))
}
