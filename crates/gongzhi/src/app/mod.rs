//! Application services, one module per capability. Every service function takes a [`Ctx`]
//! (who is calling, from where, with which grants) and checks scope before touching data.
pub mod area_import;
pub mod areas;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod cases;
pub mod channel_import;
pub mod channels;
pub mod digests;
pub mod disclosure;
pub mod exports;
pub mod files;
pub mod login_guard;
pub mod maintenance;
pub mod messages;
pub mod notices;
pub mod party;
pub mod questions;
pub mod registry;
pub mod roles;
pub mod scope;
pub mod service;
pub mod sessions;
pub mod signup;
pub mod todos;
pub mod tokens;
pub mod user_import;
pub mod users;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use uuid::Uuid;

use crate::config::Settings;
use crate::crypto::Keys;
use crate::domain::role::Role;
use crate::error::Lang;
use crate::store::Db;

/// Shared, cheap-to-clone application state. Nothing here is the source of truth: the database
/// is. The auth cache only spares a lookup for `auth_cache_ms` (default 1 s).
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub keys: Arc<Keys>,
    /// The audit chain's key (kept outside the database).
    pub audit_key: Arc<crate::crypto::AuditKey>,
    pub metrics: Arc<crate::ops::metrics::Metrics>,
    pub auth_cache: Arc<AuthCache>,
    pub tree_cache: Arc<TreeCache>,
    /// The working-day calendar and grid shapes (接诉即办).
    pub case_caches: Arc<cases::Caches>,
    pub openapi_json: Arc<String>,
}

impl AppState {
    /// The freshness policy from the settings.
    pub fn freshness(&self) -> registry::households::Freshness {
        registry::households::Freshness {
            rented_days: self.settings.freshness_rented_days as i64,
            other_days: self.settings.freshness_other_days as i64,
        }
    }
}

/// When a session ends by itself: its last recorded activity and its absolute end (ms).
#[derive(Debug, Clone, Copy)]
pub struct SessionClock {
    pub last_seen: i64,
    pub expires: i64,
}

impl SessionClock {
    /// Alive at `now` with this idle timeout: idle for at most `idle_ms`, before the absolute end.
    pub fn alive(&self, now: i64, idle_ms: i64) -> bool {
        now < self.expires && now - self.last_seen <= idle_ms
    }
}

struct Cached {
    at: Instant,
    principal: Arc<Principal>,
    clock: Option<SessionClock>,
}

/// token hash → the principal verified at some instant, with its session's clock (none for API
/// tokens). An entry spares the lookup for `auth_cache_ms`; it never outlives its session's clock.
#[derive(Default)]
pub struct AuthCache {
    map: Mutex<HashMap<String, Cached>>,
}

impl AuthCache {
    pub fn get(&self, key: &str, ttl_ms: u64) -> Option<(Arc<Principal>, Option<SessionClock>)> {
        if ttl_ms == 0 {
            return None;
        }
        let map = self.map.lock().ok()?;
        let c = map.get(key)?;
        (c.at.elapsed().as_millis() as u64 <= ttl_ms).then(|| (c.principal.clone(), c.clock))
    }
    pub fn put(&self, key: String, principal: Arc<Principal>, clock: Option<SessionClock>) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() > 50_000 {
                map.clear();
            }
            let at = Instant::now();
            map.insert(
                key,
                Cached {
                    at,
                    principal,
                    clock,
                },
            );
        }
    }
    /// Moves a cached session's last activity forward (it was just recorded).
    pub fn seen(&self, key: &str, at_ms: i64) {
        if let Ok(mut map) = self.map.lock() {
            if let Some(clock) = map.get_mut(key).and_then(|c| c.clock.as_mut()) {
                clock.last_seen = clock.last_seen.max(at_ms);
            }
        }
    }
    /// Forgets every cached session of a user (logout, password change, disable).
    pub fn forget_user(&self, user_id: Uuid) {
        if let Ok(mut map) = self.map.lock() {
            map.retain(|_, c| c.principal.user_id != Some(user_id));
        }
    }
    /// Forgets one session (ended from another device).
    pub fn forget_session(&self, session_id: Uuid) {
        if let Ok(mut map) = self.map.lock() {
            map.retain(|_, c| c.principal.session_id != Some(session_id));
        }
    }
    pub fn forget(&self, key: &str) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(key);
        }
    }
    pub fn clear(&self) {
        if let Ok(mut map) = self.map.lock() {
            map.clear();
        }
    }
}

/// One role on one area subtree (`area_id` `None`: system-wide, only for system admins).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRef {
    pub role: Role,
    pub area_id: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    User,
    ApiToken,
}

/// Who is calling: a signed-in user or an API token, with their grants.
#[derive(Debug, Clone)]
pub struct Principal {
    pub kind: PrincipalKind,
    /// The user, for a user session.
    pub user_id: Option<Uuid>,
    /// The API token, for a token.
    pub token_id: Option<Uuid>,
    /// The session, for a user session.
    pub session_id: Option<Uuid>,
    pub name: String,
    /// The name people know (a user's display name, a token's name), for timelines.
    pub display_name: String,
    pub grants: Vec<GrantRef>,
    pub must_change_password: bool,
}

impl Principal {
    pub fn is_system_admin(&self) -> bool {
        self.grants.iter().any(|g| g.role == Role::SystemAdmin)
    }
    /// The principal's id as written in the audit log.
    pub fn actor_id(&self) -> Option<Uuid> {
        self.user_id.or(self.token_id)
    }
    /// The roles, comma-separated, for the audit log.
    pub fn roles_label(&self) -> String {
        let mut roles: Vec<&str> = self.grants.iter().map(|g| g.role.as_str()).collect();
        roles.sort_unstable();
        roles.dedup();
        roles.join(",")
    }
}

/// The context of one call: who, from where, which request, which language.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub principal: Arc<Principal>,
    pub client_addr: String,
    pub request_id: String,
    pub lang: Lang,
    /// The instance's short-lived cache of area-tree reads (see [`TreeCache`]).
    pub tree: Arc<TreeCache>,
    /// The audit chain's key, for the entries this call records.
    pub audit: Arc<crate::crypto::AuditKey>,
}

/// The context of a call that has no signed-in principal (login) or comes from the command line.
#[derive(Debug, Clone)]
pub struct Origin {
    pub client_addr: String,
    pub request_id: String,
    pub audit: Arc<crate::crypto::AuditKey>,
}

impl Origin {
    pub fn cli(audit: Arc<crate::crypto::AuditKey>) -> Origin {
        Origin {
            client_addr: "cli".into(),
            request_id: crate::domain::new_id().simple().to_string(),
            audit,
        }
    }
}

impl Ctx {
    /// A system context for command-line tools (`gongzhi demo`, `gongzhi user`): full rights,
    /// audited as `system`.
    /// The caller's own account, for what is theirs (an inbox, their notices, their claims): an
    /// API token has none, and anything of "theirs" is 404 to it.
    pub fn own_user(&self) -> crate::error::AppResult<Uuid> {
        self.principal
            .user_id
            .ok_or(crate::error::AppError::NotFound)
    }

    pub fn system(name: &str, audit: Arc<crate::crypto::AuditKey>) -> Ctx {
        Ctx {
            principal: Arc::new(Principal {
                kind: PrincipalKind::User,
                user_id: None,
                token_id: None,
                session_id: None,
                name: name.to_string(),
                display_name: name.to_string(),
                grants: vec![GrantRef {
                    role: Role::SystemAdmin,
                    area_id: None,
                }],
                must_change_password: false,
            }),
            client_addr: "cli".into(),
            request_id: crate::domain::new_id().simple().to_string(),
            lang: Lang::Zh,
            tree: Arc::new(TreeCache::disabled()),
            audit,
        }
    }

    /// A system context that records with this call's audit key (for reads on the system's
    /// behalf inside a service).
    pub fn as_system(&self, name: &str) -> Ctx {
        Ctx::system(name, self.audit.clone())
    }
}

/// A short-lived cache of the area tree's hot reads: an area's ancestors (for scope checks on
/// read routes) and an area's children. The database stays the source of truth: entries live
/// `ttl` (`GONGZHI_TREE_CACHE_MS`, default 1 s), and this instance clears the cache on every
/// change it makes to the tree, so another instance's change shows here within `ttl`. Write
/// routes never use it: their scope checks always read the database.
pub struct TreeCache {
    ttl_ms: u64,
    inner: Mutex<TreeCacheInner>,
}

#[derive(Default)]
struct TreeCacheInner {
    ancestors: HashMap<Uuid, (Instant, Arc<Vec<Uuid>>)>,
    children: HashMap<Uuid, (Instant, Arc<Vec<areas::AreaSummary>>)>,
}

impl std::fmt::Debug for TreeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TreeCache")
            .field("ttl_ms", &self.ttl_ms)
            .finish_non_exhaustive()
    }
}

impl TreeCache {
    pub fn new(ttl_ms: u64) -> TreeCache {
        TreeCache {
            ttl_ms,
            inner: Mutex::new(TreeCacheInner::default()),
        }
    }
    pub fn disabled() -> TreeCache {
        TreeCache::new(0)
    }
    pub fn clear(&self) {
        if let Ok(mut i) = self.inner.lock() {
            i.ancestors.clear();
            i.children.clear();
        }
    }
    fn fresh(&self, at: &Instant) -> bool {
        (at.elapsed().as_millis() as u64) < self.ttl_ms
    }
    pub fn get_ancestors(&self, id: &Uuid) -> Option<Arc<Vec<Uuid>>> {
        let i = self.inner.lock().ok()?;
        i.ancestors
            .get(id)
            .filter(|(at, _)| self.fresh(at))
            .map(|(_, v)| v.clone())
    }
    pub fn put_ancestors(&self, id: Uuid, v: Arc<Vec<Uuid>>) {
        if self.ttl_ms == 0 {
            return;
        }
        if let Ok(mut i) = self.inner.lock() {
            if i.ancestors.len() > 200_000 {
                i.ancestors.clear();
            }
            i.ancestors.insert(id, (Instant::now(), v));
        }
    }
    pub fn get_children(&self, id: &Uuid) -> Option<Arc<Vec<areas::AreaSummary>>> {
        let i = self.inner.lock().ok()?;
        i.children
            .get(id)
            .filter(|(at, _)| self.fresh(at))
            .map(|(_, v)| v.clone())
    }
    pub fn put_children(&self, id: Uuid, v: Arc<Vec<areas::AreaSummary>>) {
        if self.ttl_ms == 0 {
            return;
        }
        if let Ok(mut i) = self.inner.lock() {
            if i.children.len() > 50_000 {
                i.children.clear();
            }
            i.children.insert(id, (Instant::now(), v));
        }
    }
}

/// A page of a list, with the page and size it is (clamped by [`crate::store::Paging`]).
macro_rules! page_of {
    ($name:ident, $item:ty) => {
        $crate::app::page_of!($name as $name, $item);
    };
    ($name:ident as $schema:ident, $item:ty) => {
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        #[schema(as = $schema)]
        pub struct $name {
            pub items: Vec<$item>,
            pub total: i64,
            pub page: u64,
            pub page_size: u64,
        }
        impl $name {
            pub fn new(items: Vec<$item>, total: i64, paging: crate::store::Paging) -> $name {
                $name {
                    items,
                    total,
                    page: paging.page,
                    page_size: paging.size,
                }
            }
        }
    };
}
pub(crate) use page_of;
