//! `spawn_app()`: a migrated database with the demo city (small), and a real server on port 0.
use std::path::PathBuf;
use std::sync::OnceLock;

use gongzhi::app::AppState;
use gongzhi::config::Settings;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub const DEMO_PASSWORD: &str = gongzhi::demo::DEMO_PASSWORD;
pub const ADMIN_PASSWORD: &str = "Guanli#Test2026";
/// The audit key of every test instance (the template's rows are chained with it).
pub const AUDIT_KEY_HEX: &str = "3333333333333333333333333333333333333333333333333333333333333333";

pub fn audit_key() -> std::sync::Arc<gongzhi::crypto::AuditKey> {
    let secret = gongzhi::crypto::parse_master_key(AUDIT_KEY_HEX).unwrap();
    std::sync::Arc::new(gongzhi::crypto::AuditKey::from_secret(&secret))
}
/// Small demo: enough for two districts' streets and several communities.
pub const TEST_HOUSEHOLDS: u32 = 6000;

/// A valid ID number (its check character computed) from its first seventeen characters.
pub fn id_no(first17: &str) -> String {
    format!(
        "{first17}{}",
        gongzhi::domain::ids::id_check_char(first17).unwrap()
    )
}

/// The `i`-th of a series of valid Beijing ID numbers (born in 1980): none of the demo residents
/// has one, so a test can register thousands without a clash.
pub fn beijing_id_no(i: u32) -> String {
    id_no(&format!(
        "1101011980{:02}{:02}{:03}",
        1 + i % 12,
        1 + (i / 12) % 28,
        (i / 336) % 1000
    ))
}

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    _dir: tempfile::TempDir,
}

pub fn pg_admin_url() -> Option<String> {
    std::env::var("GONGZHI_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

pub fn with_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let cut = base
        .rfind('/')
        .filter(|i| *i > "postgres://".len())
        .unwrap_or(base.len());
    format!("{}/{name}{query}", &base[..cut])
}

/// What the template was built from, so tests can copy it.
enum Template {
    Sqlite(PathBuf),
    Postgres(String),
}

static TEMPLATE: OnceLock<Template> = OnceLock::new();
static TEMPLATE_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn base_settings(url: &str, dir: &std::path::Path) -> Settings {
    let mut s = Settings::for_database(url, dir);
    s.admin_password = Some(ADMIN_PASSWORD.into());
    s.master_key = Some("11".repeat(32));
    s.audit_key = Some(AUDIT_KEY_HEX.into());
    s.db_max_connections = if url.starts_with("sqlite") { 4 } else { 5 };
    s
}

/// Builds the template once per process, on a thread of its own (it needs its own runtime).
fn template() -> &'static Template {
    if let Some(t) = TEMPLATE.get() {
        return t;
    }
    let _g = TEMPLATE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(t) = TEMPLATE.get() {
        return t;
    }
    let t = std::thread::spawn(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            match pg_admin_url() {
                Some(admin) => {
                    let name = format!("gz_tpl_{}", std::process::id());
                    let db = gongzhi::store::connect_url(&admin, 1)
                        .await
                        .expect("connect to GONGZHI_TEST_DATABASE_URL");
                    use sea_orm::ConnectionTrait;
                    // Leftovers of earlier runs.
                    #[derive(sea_orm::FromQueryResult)]
                    struct N {
                        datname: String,
                    }
                    let old: Vec<N> = gongzhi::store::fetch_all(
                        &db,
                        "SELECT datname FROM pg_database WHERE datname LIKE 'gz\\_t%'",
                        vec![],
                    )
                    .await
                    .unwrap_or_default();
                    // Only those of test processes that have ended: several suites (other
                    // checkouts) may share one server. Names carry the creating process's id.
                    for n in old.into_iter().filter(|n| !owner_alive(&n.datname)) {
                        let _ = db
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                                n.datname
                            ))
                            .await;
                    }
                    db.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                        .await
                        .expect("create template db");
                    let url = with_db_name(&admin, &name);
                    build_template(&url).await;
                    Template::Postgres(name)
                }
                None => {
                    let dir = std::env::temp_dir()
                        .join(format!("gongzhi-test-tpl-{}", std::process::id()));
                    let _ = std::fs::remove_dir_all(&dir);
                    std::fs::create_dir_all(&dir).unwrap();
                    let file = dir.join("template.db");
                    build_template(&format!("sqlite://{}?mode=rwc", file.display())).await;
                    Template::Sqlite(file)
                }
            }
        })
    })
    .join()
    .expect("template thread");
    let _ = TEMPLATE.set(t);
    TEMPLATE.get().unwrap()
}

async fn build_template(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let settings = base_settings(url, dir.path());
    let (state, _) = gongzhi::startup::build_state(settings)
        .await
        .expect("template state");
    gongzhi::demo::run(
        &state.db,
        &state.keys,
        &state.audit_key,
        &gongzhi::demo::DemoOptions {
            households: TEST_HOUSEHOLDS,
            seed: 7,
        },
    )
    .await
    .expect("demo");
    if url.starts_with("sqlite") {
        use sea_orm::ConnectionTrait;
        state
            .db
            .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await
            .unwrap();
    }
    state.db.close_by_ref().await.ok();
}

/// Whether the test process that created database `name` (`gz_tpl_<pid>` or `gz_t_<pid>_<id>`)
/// still runs. Names of another form are leftovers of older runs.
fn owner_alive(name: &str) -> bool {
    let rest = name
        .strip_prefix("gz_tpl_")
        .or_else(|| name.strip_prefix("gz_t_"))
        .unwrap_or("");
    match rest.split('_').next().and_then(|p| p.parse::<u32>().ok()) {
        Some(pid) if rest.contains('_') || name.starts_with("gz_tpl_") => {
            pid == std::process::id() || std::path::Path::new(&format!("/proc/{pid}")).exists()
        }
        _ => false,
    }
}

/// A fresh database copied from the template, and its URL.
pub async fn fresh_database(dir: &std::path::Path) -> String {
    match template() {
        Template::Sqlite(file) => {
            let target = dir.join("gongzhi.db");
            std::fs::copy(file, &target).unwrap();
            format!("sqlite://{}?mode=rwc", target.display())
        }
        Template::Postgres(tpl) => {
            let admin = pg_admin_url().unwrap();
            let name = format!(
                "gz_t_{}_{}",
                std::process::id(),
                uuid::Uuid::now_v7().simple()
            );
            let db = gongzhi::store::connect_url(&admin, 1).await.unwrap();
            use sea_orm::ConnectionTrait;
            db.execute_unprepared(&format!("CREATE DATABASE \"{name}\" TEMPLATE \"{tpl}\""))
                .await
                .expect("create test db");
            db.close().await.ok();
            with_db_name(&admin, &name)
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A server with settings adjusted by `f`.
pub async fn spawn_app_with(f: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(dir.path()).await;
    spawn_app_on(&url, dir, f).await
}

/// A server on the database at `url`, with its data directory in `dir`.
pub async fn spawn_app_on(
    url: &str,
    dir: tempfile::TempDir,
    f: impl FnOnce(&mut Settings),
) -> TestApp {
    let mut settings = base_settings(url, dir.path());
    f(&mut settings);
    let (state, _) = gongzhi::startup::build_state(settings)
        .await
        .expect("state");
    let (tx, rx) = tokio::sync::oneshot::channel();
    let st = state.clone();
    tokio::spawn(async move {
        gongzhi::startup::serve(st, "127.0.0.1:0".parse().unwrap(), |a| {
            let _ = tx.send(a);
        })
        .await
        .unwrap();
    });
    let addr = rx.await.unwrap();
    TestApp {
        base: format!("http://{addr}"),
        state,
        _dir: dir,
    }
}

/// A new, empty database (PostgreSQL: created on the test server; SQLite: a file in `dir` that
/// does not exist yet).
pub async fn empty_database_url(dir: &std::path::Path) -> String {
    match pg_admin_url() {
        None => format!("sqlite://{}?mode=rwc", dir.join("gongzhi.db").display()),
        Some(admin) => {
            let name = format!(
                "gz_t_{}_{}",
                std::process::id(),
                uuid::Uuid::now_v7().simple()
            );
            let db = gongzhi::store::connect_url(&admin, 1).await.unwrap();
            use sea_orm::ConnectionTrait;
            db.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create empty db");
            db.close().await.ok();
            with_db_name(&admin, &name)
        }
    }
}

/// A client for one user (bearer token) or anonymous.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    pub token: Option<String>,
    pub lang: &'static str,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
    /// Asserts the status (showing the body when it differs) and passes the answer on.
    #[track_caller]
    pub fn expect_status(self, status: StatusCode) -> Resp {
        assert_eq!(self.status, status, "{}", self.text);
        self
    }
}

impl Client {
    /// A request to `path` as this client: its language and, when signed in, its token.
    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("Accept-Language", self.lang);
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }
    async fn answer(req: reqwest::RequestBuilder) -> Resp {
        let r = req.send().await.expect("request");
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
            text,
        }
    }
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let req = self.request(method, path);
        Self::answer(match body {
            Some(b) => req.json(&b),
            None => req,
        })
        .await
    }
    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None).await
    }
    /// Sends raw bytes with a content type (CSV uploads, files).
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Resp {
        let req = self
            .request(method, path)
            .header("Content-Type", content_type);
        Self::answer(req.body(body)).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(Method::POST, path, Some(body)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.send(Method::PATCH, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.send(Method::DELETE, path, None).await
    }
}

impl TestApp {
    pub fn anon(&self) -> Client {
        Client {
            base: self.base.clone(),
            http: reqwest::Client::new(),
            token: None,
            lang: "zh-CN",
        }
    }

    /// Signs in and returns a client carrying the token.
    pub async fn login(&self, username: &str, password: &str) -> Client {
        let c = self.anon();
        let r = c
            .post(
                "/api/v1/auth/login",
                json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "login {username}: {}", r.text);
        Client {
            token: r.body["token"].as_str().map(str::to_string),
            ..c
        }
    }

    pub async fn admin(&self) -> Client {
        self.login("admin", ADMIN_PASSWORD).await
    }

    pub async fn demo_user(&self, username: &str) -> Client {
        self.login(username, DEMO_PASSWORD).await
    }

    /// The id of the area with this code.
    pub async fn area_id(&self, code: &str) -> String {
        #[derive(sea_orm::FromQueryResult)]
        struct I {
            id: uuid::Uuid,
        }
        gongzhi::store::fetch_opt::<I, _>(
            &self.state.db,
            "SELECT id FROM areas WHERE code = $1",
            vec![code.to_string().into()],
        )
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no area {code}"))
        .id
        .to_string()
    }

    /// The first area of a kind under the area with this code (inclusive search by code order).
    pub async fn first_under(&self, code: &str, kind: &str) -> (String, String) {
        #[derive(sea_orm::FromQueryResult)]
        struct I {
            id: uuid::Uuid,
            code: String,
        }
        let r = gongzhi::store::fetch_opt::<I, _>(
            &self.state.db,
            "SELECT id, code FROM areas WHERE kind = $1 AND code LIKE $2 ORDER BY code LIMIT 1",
            vec![
                kind.to_string().into(),
                format!("{}%", code.trim_end_matches('0')).into(),
            ],
        )
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no {kind} under {code}"));
        (r.id.to_string(), r.code)
    }

    /// The one row `sql` finds; the test fails when there is none.
    pub async fn one<T: sea_orm::FromQueryResult>(
        &self,
        sql: &str,
        values: Vec<sea_orm::Value>,
    ) -> T {
        gongzhi::store::fetch_opt(&self.state.db, sql, values)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no row: {sql}"))
    }
    /// The name and the (decrypted) ID number of the person `sql` finds
    /// (`SELECT p.name, p.id_no_enc …`).
    pub async fn person_and_id_no(&self, sql: &str) -> (String, String) {
        #[derive(sea_orm::FromQueryResult)]
        struct P {
            name: String,
            id_no_enc: String,
        }
        let p: P = self.one(sql, vec![]).await;
        (p.name, self.state.keys.decrypt(&p.id_no_enc).unwrap())
    }
    /// A resident of the demo's first grid with an ID number and no account yet: who claims their
    /// file in the sign-up tests. (name, ID number)
    pub async fn unclaimed_resident(&self) -> (String, String) {
        self.person_and_id_no(
            "SELECT p.name, p.id_no_enc FROM persons p JOIN household_members m ON m.person_id = p.id \
             AND m.to_date IS NULL WHERE p.grid_id = (SELECT id FROM areas WHERE code = '130602001001001') \
             AND p.id_no_enc IS NOT NULL AND p.deleted_at IS NULL AND p.id NOT IN \
             (SELECT person_id FROM users WHERE person_id IS NOT NULL) ORDER BY p.name LIMIT 1",
        )
        .await
    }
    pub async fn count(&self, sql: &str) -> i64 {
        gongzhi::store::fetch_i64(&self.state.db, sql, vec![])
            .await
            .unwrap()
    }
}

/// Codes of the small demo city (seed 7).
pub const CITY: &str = "130600000000";
pub const JINGXIU: &str = "130602000000";
pub const DONGFENG: &str = "130602001000";

/// The handling unit a demo user belongs to.
pub async fn unit_of(app: &TestApp, username: &str) -> String {
    #[derive(sea_orm::FromQueryResult)]
    struct U {
        unit_id: uuid::Uuid,
    }
    gongzhi::store::fetch_opt::<U, _>(
        &app.state.db,
        "SELECT m.unit_id FROM case_unit_members m JOIN users u ON u.id = m.member_id WHERE u.username = $1",
        vec![username.to_string().into()],
    )
    .await
    .unwrap()
    .expect("a unit")
    .unit_id
    .to_string()
}
