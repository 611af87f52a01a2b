//! The audit trail (个人信息保护法, 网络安全法 Art. 21): append-only, hash-chained and keyed.
//!
//! Each row's hash is an HMAC (key outside the database: `GONGZHI_AUDIT_KEY` or
//! `<data dir>/audit.key`) of its content and the previous row's hash, so someone who can write
//! the database but does not hold the key cannot alter a row and re-hash the rest. The chain head
//! (last sequence number and hash) lives in `audit_head`; an append is one step inside a write
//! transaction: it bumps the head first (the row lock on PostgreSQL, the write lock on SQLite),
//! so any number of concurrent writers, on any number of instances, form one gap-free chain.
//! [`record`] takes a transaction, never a bare connection: two statements on a pool would let two
//! writers read the same head.
//!
//! Signed checkpoints (ed25519 over the head's sequence number and hash) are written to a
//! directory on a schedule and on demand ([`write_checkpoint`]); kept elsewhere, they also reveal
//! a chain cut short or rewritten by someone who holds the key. `gongzhi audit verify
//! [--checkpoints DIR]` walks the chain and names the first altered or missing row.
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Ctx, Origin};
use crate::crypto::AuditKey;
use crate::domain::role::Permission;
use crate::domain::{ms_to_rfc3339, now_ms};
use crate::error::{AppError, AppResult};
use crate::store::{self, Db};

pub const ZERO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// `audit_head.alg` of a keyed chain.
const KEYED: &str = "hmac-sha256";

/// What happened, to be recorded. Made from a [`Ctx`] or an [`Origin`], which carry the chain's
/// key.
#[derive(Debug, Clone)]
pub struct Entry {
    pub actor_id: Option<Uuid>,
    pub actor_name: String,
    pub role: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    pub fields: Vec<String>,
    pub client_addr: String,
    pub result: String,
    pub request_id: String,
    pub area_id: Option<Uuid>,
    pub detail: Option<String>,
    key: Arc<AuditKey>,
}

impl Entry {
    fn new(key: Arc<AuditKey>) -> Entry {
        Entry {
            actor_id: None,
            actor_name: String::new(),
            role: None,
            action: String::new(),
            object_type: String::new(),
            object_id: None,
            fields: vec![],
            client_addr: String::new(),
            result: "ok".into(),
            request_id: String::new(),
            area_id: None,
            detail: None,
            key,
        }
    }
    /// An entry for an action by the caller of `ctx`, result `ok`. It takes the proof of the
    /// caller's scope check ([`crate::app::scope::Checked`]): what is recorded was checked first,
    /// and the entry's area is the one checked (`.area(…)` may name another).
    pub fn by(
        ctx: &Ctx,
        checked: &crate::app::scope::Checked,
        action: &str,
        object_type: &str,
        object_id: impl ObjectId,
    ) -> Entry {
        let object_id = object_id.object_id();
        Entry {
            area_id: checked.area(),
            actor_id: ctx.principal.actor_id(),
            actor_name: ctx.principal.name.clone(),
            role: Some(ctx.principal.roles_label()).filter(|s| !s.is_empty()),
            action: action.into(),
            object_type: object_type.into(),
            object_id,
            client_addr: ctx.client_addr.clone(),
            request_id: ctx.request_id.clone(),
            ..Entry::new(ctx.audit.clone())
        }
    }
    /// An entry for an event without a signed-in caller (login attempts).
    pub fn anonymous(origin: &Origin, actor_name: &str, action: &str) -> Entry {
        Entry {
            actor_name: actor_name.into(),
            action: action.into(),
            object_type: "session".into(),
            client_addr: origin.client_addr.clone(),
            request_id: origin.request_id.clone(),
            ..Entry::new(origin.audit.clone())
        }
    }
    pub fn fields(mut self, fields: &[&str]) -> Entry {
        self.fields = fields.iter().map(|s| s.to_string()).collect();
        self
    }
    pub fn area(mut self, area_id: impl Into<Option<Uuid>>) -> Entry {
        self.area_id = area_id.into();
        self
    }
    pub fn result(mut self, result: &str) -> Entry {
        self.result = result.into();
        self
    }
    pub fn detail(mut self, detail: impl Into<String>) -> Entry {
        self.detail = Some(detail.into());
        self
    }
    /// Appends the entry to the chain inside the write's transaction ([`record`]).
    pub async fn record(self, tx: &DatabaseTransaction) -> AppResult<()> {
        record(tx, self).await
    }
    pub fn actor(mut self, id: Option<Uuid>, name: &str) -> Entry {
        self.actor_id = id;
        self.actor_name = name.into();
        self
    }
}

/// What an entry names as its object: a record's id (a UUID, a number, a key), or `None`.
pub trait ObjectId {
    fn object_id(self) -> Option<String>;
}

impl ObjectId for Option<String> {
    fn object_id(self) -> Option<String> {
        self
    }
}

macro_rules! object_id_by_display {
    ($($t:ty),*) => {$(
        impl ObjectId for $t {
            fn object_id(self) -> Option<String> {
                Some(self.to_string())
            }
        }
    )*};
}
object_id_by_display!(Uuid, &Uuid, String, &String, &str, i32, i64);

/// How a chain's rows are hashed: keyed (HMAC) from the start-up after this version on, plain
/// SHA-256 for a chain written before and not yet re-keyed.
#[derive(Clone, Copy)]
enum Hasher<'a> {
    Keyed(&'a AuditKey),
    Plain,
}

impl<'a> Hasher<'a> {
    fn of(alg: &str, key: &'a AuditKey) -> Hasher<'a> {
        if alg == KEYED {
            Hasher::Keyed(key)
        } else {
            Hasher::Plain
        }
    }
    /// The hash of a row: its canonical content after the previous row's hash.
    fn row(&self, prev_hash: &str, seq: i64, at: i64, e: &EntryView<'_>) -> String {
        let parts = [
            prev_hash.to_string(),
            seq.to_string(),
            at.to_string(),
            e.actor_id.map(|u| u.to_string()).unwrap_or_default(),
            e.actor_name.to_string(),
            e.role.unwrap_or_default().to_string(),
            e.action.to_string(),
            e.object_type.to_string(),
            e.object_id.unwrap_or_default().to_string(),
            e.fields.to_string(),
            e.client_addr.to_string(),
            e.result.to_string(),
            e.request_id.to_string(),
            e.area_id.map(|u| u.to_string()).unwrap_or_default(),
            e.detail.unwrap_or_default().to_string(),
        ];
        let content = parts.join("\u{1f}");
        match self {
            Hasher::Keyed(k) => k.row_hash(content.as_bytes()),
            Hasher::Plain => crate::crypto::sha256_hex(content.as_bytes()),
        }
    }
}

struct EntryView<'a> {
    actor_id: Option<Uuid>,
    actor_name: &'a str,
    role: Option<&'a str>,
    action: &'a str,
    object_type: &'a str,
    object_id: Option<&'a str>,
    fields: &'a str,
    client_addr: &'a str,
    result: &'a str,
    request_id: &'a str,
    area_id: Option<Uuid>,
    detail: Option<&'a str>,
}

impl Row {
    fn view(&self) -> EntryView<'_> {
        EntryView {
            actor_id: self.actor_id,
            actor_name: &self.actor_name,
            role: self.role.as_deref(),
            action: &self.action,
            object_type: &self.object_type,
            object_id: self.object_id.as_deref(),
            fields: &self.fields,
            client_addr: &self.client_addr,
            result: &self.result,
            request_id: &self.request_id,
            area_id: self.area_id,
            detail: self.detail.as_deref(),
        }
    }
}

#[derive(FromQueryResult)]
struct Head {
    seq: i64,
    hash: String,
    alg: String,
}

/// Appends an entry inside the caller's write transaction (the change it records commits with
/// it, or neither does).
#[tracing::instrument(name = "audit::record", skip_all)]
pub async fn record(tx: &DatabaseTransaction, e: Entry) -> AppResult<()> {
    // Bump first: this takes the lock that serialises writers of the chain until commit.
    store::exec(
        tx,
        "UPDATE audit_head SET seq = seq + 1 WHERE id = 1",
        vec![],
    )
    .await?;
    let head: Head = store::fetch_opt(
        tx,
        "SELECT seq, hash, alg FROM audit_head WHERE id = 1",
        vec![],
    )
    .await?
    .ok_or_else(|| AppError::internal("audit_head row missing"))?;
    let at = now_ms();
    let fields = serde_json::to_string(&e.fields).unwrap_or_else(|_| "[]".into());
    let view = EntryView {
        actor_id: e.actor_id,
        actor_name: &e.actor_name,
        role: e.role.as_deref(),
        action: &e.action,
        object_type: &e.object_type,
        object_id: e.object_id.as_deref(),
        fields: &fields,
        client_addr: &e.client_addr,
        result: &e.result,
        request_id: &e.request_id,
        area_id: e.area_id,
        detail: e.detail.as_deref(),
    };
    let hash = Hasher::of(&head.alg, &e.key).row(&head.hash, head.seq, at, &view);
    store::exec(
        tx,
        "INSERT INTO audit_log (seq, at, actor_id, actor_name, role, action, object_type, object_id, \
         fields, client_addr, result, request_id, area_id, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        vec![
            head.seq.into(),
            at.into(),
            e.actor_id.into(),
            e.actor_name.clone().into(),
            e.role.clone().into(),
            e.action.clone().into(),
            e.object_type.clone().into(),
            e.object_id.clone().into(),
            fields.into(),
            e.client_addr.clone().into(),
            e.result.clone().into(),
            e.request_id.clone().into(),
            e.area_id.into(),
            e.detail.clone().into(),
            head.hash.into(),
            hash.clone().into(),
        ],
    )
    .await?;
    store::exec(
        tx,
        "UPDATE audit_head SET hash = $1 WHERE id = 1",
        vec![hash.into()],
    )
    .await?;
    Ok(())
}

/// Records an entry in its own transaction (for reads, denials and failed logins).
#[tracing::instrument(name = "audit::record_alone", skip_all)]
pub async fn record_alone(db: &Db, e: Entry) -> AppResult<()> {
    let tx = store::write_tx(db).await?;
    record(&tx, e).await?;
    tx.commit().await?;
    Ok(())
}

/// Where an entry can be recorded: inside a write transaction (with the change), or on the pool
/// (in a transaction of its own). Lets a read shared by both paths record correctly on either.
pub trait Recorder: ConnectionTrait {
    fn record_entry(&self, e: Entry) -> impl std::future::Future<Output = AppResult<()>> + Send;
}

impl Recorder for DatabaseTransaction {
    async fn record_entry(&self, e: Entry) -> AppResult<()> {
        record(self, e).await
    }
}

impl Recorder for Db {
    async fn record_entry(&self, e: Entry) -> AppResult<()> {
        record_alone(self, e).await
    }
}

#[derive(Debug, Clone, FromQueryResult)]
struct Row {
    seq: i64,
    at: i64,
    actor_id: Option<Uuid>,
    actor_name: String,
    role: Option<String>,
    action: String,
    object_type: String,
    object_id: Option<String>,
    fields: String,
    client_addr: String,
    result: String,
    request_id: String,
    area_id: Option<Uuid>,
    detail: Option<String>,
    prev_hash: String,
    hash: String,
}

const ROW_COLUMNS: &str = "seq, at, actor_id, actor_name, role, action, object_type, object_id, \
     fields, client_addr, result, request_id, area_id, detail, prev_hash, hash";

/// The outcome of `gongzhi audit verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// All `rows` rows chain correctly up to the head; `checkpoints` signed checkpoints matched.
    Intact { rows: i64, checkpoints: usize },
    /// The first row (by sequence) that was altered or is missing, and what is wrong.
    Broken { seq: i64, problem: String },
}

#[derive(FromQueryResult)]
struct HeadFull {
    seq: i64,
    hash: String,
    anchor_seq: i64,
    anchor_hash: String,
    alg: String,
}

async fn head_full<C: ConnectionTrait>(c: &C) -> AppResult<HeadFull> {
    store::fetch_opt(
        c,
        "SELECT seq, hash, anchor_seq, anchor_hash, alg FROM audit_head WHERE id = 1",
        vec![],
    )
    .await?
    .ok_or_else(|| AppError::internal("audit_head row missing"))
}

/// Walks the whole chain in sequence order, and checks it against the signed checkpoints in
/// `checkpoints` (every `*.json` file there), when given.
#[tracing::instrument(name = "audit::verify", skip_all)]
pub async fn verify(db: &Db, key: &AuditKey, checkpoints: Option<&Path>) -> AppResult<Verdict> {
    let head = head_full(db).await?;
    let pinned = match checkpoints {
        Some(dir) => match read_checkpoints(dir, key) {
            Ok(p) => p,
            Err((seq, problem)) => return Ok(Verdict::Broken { seq, problem }),
        },
        None => Default::default(),
    };
    if let Some((&seq, _)) = pinned.range(head.seq + 1..).next() {
        return Ok(Verdict::Broken {
            seq: head.seq + 1,
            problem: format!(
                "the chain ends at row {} but a signed checkpoint vouches for row {seq}: rows were removed",
                head.seq
            ),
        });
    }
    let hasher = Hasher::of(&head.alg, key);
    let mut expected_seq = head.anchor_seq + 1;
    let mut prev = head.anchor_hash.clone();
    let mut count = 0i64;
    let mut matched = pinned.range(..=head.anchor_seq).count();
    let page = 5_000i64;
    loop {
        let rows: Vec<Row> = store::fetch_all(
            db,
            &format!("SELECT {ROW_COLUMNS} FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2"),
            vec![expected_seq.into(), page.into()],
        )
        .await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            if r.seq != expected_seq {
                return Ok(Verdict::Broken {
                    seq: expected_seq,
                    problem: format!("row {expected_seq} is missing (next row is {})", r.seq),
                });
            }
            if r.prev_hash != prev {
                return Ok(Verdict::Broken {
                    seq: r.seq,
                    problem: "its link to the previous row does not match (a row before it was removed or altered)".into(),
                });
            }
            if hasher.row(&prev, r.seq, r.at, &r.view()) != r.hash {
                return Ok(Verdict::Broken {
                    seq: r.seq,
                    problem: "its content does not match its hash (the row was altered)".into(),
                });
            }
            if let Some(h) = pinned.get(&r.seq) {
                if *h != r.hash {
                    return Ok(Verdict::Broken {
                        seq: r.seq,
                        problem: "its hash differs from the signed checkpoint (the chain was rewritten from here or before)".into(),
                    });
                }
                matched += 1;
            }
            prev = r.hash.clone();
            expected_seq += 1;
            count += 1;
        }
    }
    if expected_seq - 1 != head.seq {
        return Ok(Verdict::Broken {
            seq: expected_seq,
            problem: format!(
                "rows {expected_seq}..{} are missing (the chain head is at {})",
                head.seq, head.seq
            ),
        });
    }
    if prev != head.hash {
        return Ok(Verdict::Broken {
            seq: head.seq,
            problem: "the last row does not match the chain head".into(),
        });
    }
    Ok(Verdict::Intact {
        rows: count,
        checkpoints: matched,
    })
}

/// Re-keys a chain written before the chain was keyed: if it verifies as plain SHA-256, every row
/// from the anchor on is re-hashed with the key, in one transaction. A chain that does not verify
/// is left as it is (and `audit verify` keeps reporting where it breaks). Run at start-up.
#[tracing::instrument(name = "audit::upgrade_chain", skip_all)]
pub async fn upgrade_chain(db: &Db, key: &AuditKey) -> AppResult<bool> {
    let head = head_full(db).await?;
    if head.alg == KEYED {
        return Ok(false);
    }
    if let Verdict::Broken { seq, problem } = verify(db, key, None).await? {
        tracing::error!(seq, problem = %problem, "the audit chain is broken; it stays unkeyed");
        return Ok(false);
    }
    let tx = store::write_tx(db).await?;
    let head = head_full(&tx).await?;
    // Taken under the head's lock: a writer that raced us is now in the chain we re-hash.
    store::exec(&tx, "UPDATE audit_head SET alg = alg WHERE id = 1", vec![]).await?;
    let keyed = Hasher::Keyed(key);
    let mut prev = head.anchor_hash.clone();
    let mut after = head.anchor_seq;
    loop {
        let rows: Vec<Row> = store::fetch_all(
            &tx,
            &format!("SELECT {ROW_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 5000"),
            vec![after.into()],
        )
        .await?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for r in &rows {
            let hash = keyed.row(&prev, r.seq, r.at, &r.view());
            store::exec(
                &tx,
                "UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3",
                vec![prev.clone().into(), hash.clone().into(), r.seq.into()],
            )
            .await?;
            prev = hash;
        }
    }
    store::exec(
        &tx,
        "UPDATE audit_head SET hash = $1, alg = $2 WHERE id = 1",
        vec![prev.into(), KEYED.into()],
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// A signed statement that the chain's row `seq` had hash `hash` at `at`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    /// RFC 3339, UTC.
    pub at: String,
    /// The ed25519 verifying key, hex.
    pub public_key: String,
    /// ed25519 over `gongzhi audit checkpoint\n{seq}\n{hash}\n{at}`, hex.
    pub signature: String,
}

fn checkpoint_message(seq: i64, hash: &str, at: &str) -> Vec<u8> {
    format!("gongzhi audit checkpoint\n{seq}\n{hash}\n{at}").into_bytes()
}

/// Signs the chain's current head.
#[tracing::instrument(name = "audit::checkpoint", skip_all)]
pub async fn checkpoint(db: &Db, key: &AuditKey) -> AppResult<Checkpoint> {
    let head = head_full(db).await?;
    let at = ms_to_rfc3339(now_ms());
    Ok(Checkpoint {
        signature: key.sign(&checkpoint_message(head.seq, &head.hash, &at)),
        seq: head.seq,
        hash: head.hash,
        at,
        public_key: key.public_key_hex(),
    })
}

/// Signs the chain's head into `dir/checkpoint-<seq>.json`, unless a checkpoint of that row is
/// there already. Returns the file written.
#[tracing::instrument(name = "audit::write_checkpoint", skip_all)]
pub async fn write_checkpoint(db: &Db, key: &AuditKey, dir: &Path) -> AppResult<Option<PathBuf>> {
    let cp = checkpoint(db, key).await?;
    save_checkpoint(&cp, dir)
}

fn save_checkpoint(cp: &Checkpoint, dir: &Path) -> AppResult<Option<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(AppError::internal)?;
    let path = dir.join(format!("checkpoint-{:012}.json", cp.seq));
    if path.exists() {
        return Ok(None);
    }
    let json = serde_json::to_vec_pretty(cp).map_err(AppError::internal)?;
    std::fs::write(&path, json).map_err(AppError::internal)?;
    Ok(Some(path))
}

/// A checkpoint signed on a user's demand (system admin), written to `dir` and audited.
#[tracing::instrument(name = "audit::sign_checkpoint", skip_all)]
pub async fn sign_checkpoint(db: &Db, ctx: &Ctx, dir: &Path) -> AppResult<Checkpoint> {
    let allowed = super::scope::require_any(ctx, Permission::SignAuditCheckpoints)?;
    let tx = store::write_tx(db).await?;
    record(
        &tx,
        Entry::by(ctx, &allowed, "audit.checkpoint", "audit", None),
    )
    .await?;
    tx.commit().await?;
    let cp = checkpoint(db, &ctx.audit).await?;
    save_checkpoint(&cp, dir)?;
    Ok(cp)
}

/// The rows vouched for by the checkpoints in `dir`, by sequence number. A checkpoint whose
/// signature fails, or that another key signed, is a finding: `Err((seq, problem))`.
fn read_checkpoints(
    dir: &Path,
    key: &AuditKey,
) -> Result<std::collections::BTreeMap<i64, String>, (i64, String)> {
    let mut pinned = std::collections::BTreeMap::new();
    let entries = std::fs::read_dir(dir).map_err(|e| {
        (
            0,
            format!("cannot read checkpoints in {}: {e}", dir.display()),
        )
    })?;
    let public = key.public_key_hex();
    for e in entries.flatten() {
        let path = e.path();
        if path.extension().and_then(|x| x.to_str()) != Some("json") {
            continue;
        }
        let name = path.display().to_string();
        let cp: Checkpoint = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or((0, format!("{name} is not a checkpoint")))?;
        if cp.public_key != public {
            return Err((cp.seq, format!("{name} was signed by another key")));
        }
        let msg = checkpoint_message(cp.seq, &cp.hash, &cp.at);
        if !crate::crypto::verify_ed25519(&cp.public_key, &msg, &cp.signature) {
            return Err((cp.seq, format!("{name}: the signature does not match")));
        }
        pinned.insert(cp.seq, cp.hash);
    }
    Ok(pinned)
}

/// Removes rows older than the retention period, moving the chain's anchor to the last removed
/// row so the rest still verifies. Returns how many rows were removed.
#[tracing::instrument(name = "audit::prune", skip_all)]
pub async fn prune(db: &Db, retention_days: u32) -> AppResult<u64> {
    let cutoff = now_ms() - retention_days as i64 * 86_400_000;
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "UPDATE audit_head SET anchor_seq = anchor_seq WHERE id = 1",
        vec![],
    )
    .await?;
    #[derive(FromQueryResult)]
    struct Last {
        seq: i64,
        hash: String,
    }
    let last: Option<Last> = store::fetch_opt(
        &tx,
        "SELECT seq, hash FROM audit_log WHERE at < $1 ORDER BY seq DESC LIMIT 1",
        vec![cutoff.into()],
    )
    .await?;
    let Some(last) = last else {
        tx.commit().await?;
        return Ok(0);
    };
    let n = store::exec(
        &tx,
        "DELETE FROM audit_log WHERE seq <= $1",
        vec![last.seq.into()],
    )
    .await?;
    store::exec(
        &tx,
        "UPDATE audit_head SET anchor_seq = $1, anchor_hash = $2 WHERE id = 1",
        vec![last.seq.into(), last.hash.into()],
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditRow {
    pub seq: i64,
    /// RFC 3339, UTC.
    pub at: String,
    pub actor_id: Option<Uuid>,
    pub actor_name: String,
    pub role: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    pub fields: Vec<String>,
    pub client_addr: String,
    pub result: String,
    pub request_id: String,
    pub area_id: Option<Uuid>,
    pub detail: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub result: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub paging: store::Paging,
}

/// Lists audit rows, newest first. A system admin sees all; a street admin sees the rows tied to
/// areas in their scope.
#[tracing::instrument(name = "audit::list", skip_all)]
pub async fn list(db: &Db, ctx: &Ctx, f: &Filter) -> AppResult<(Vec<AuditRow>, i64)> {
    super::scope::require_any(ctx, Permission::ReadAudit)?;
    let mut w = store::sql::Where::new();
    w.and_cond(super::scope::area_cond(
        ctx,
        Permission::ReadAudit,
        "area_id",
    ));
    let text = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_string);
    if let Some(a) = text(&f.actor) {
        let like = format!("%{}%", store::like_escape(&a));
        w.and("actor_name LIKE ? ESCAPE '\\'", [like.into()]);
    }
    if let Some(a) = text(&f.action) {
        let like = format!("{}%", store::like_escape(&a));
        w.and("action LIKE ? ESCAPE '\\'", [like.into()]);
    }
    if let Some(a) = text(&f.object_type) {
        w.and("object_type = ?", [a.into()]);
    }
    if let Some(a) = text(&f.result) {
        w.and("result = ?", [a.into()]);
    }
    if let Some(t) = f.from_ms {
        w.and("at >= ?", [t.into()]);
    }
    if let Some(t) = f.to_ms {
        w.and("at < ?", [t.into()]);
    }
    let (cond, values) = w.build(1);
    let where_sql = format!("WHERE {cond}");
    let (rows, total): (Vec<Row>, i64) = store::page(
        db,
        &format!("SELECT COUNT(*) FROM audit_log {where_sql}"),
        &format!(
            "SELECT seq, at, actor_id, actor_name, role, action, object_type, object_id, fields, \
             client_addr, result, request_id, area_id, detail, prev_hash, hash \
             FROM audit_log {where_sql} ORDER BY seq DESC"
        ),
        values,
        f.paging,
    )
    .await?;
    let items = rows
        .into_iter()
        .map(|r| AuditRow {
            seq: r.seq,
            at: ms_to_rfc3339(r.at),
            actor_id: r.actor_id,
            actor_name: r.actor_name,
            role: r.role,
            action: r.action,
            object_type: r.object_type,
            object_id: r.object_id,
            fields: serde_json::from_str(&r.fields).unwrap_or_default(),
            client_addr: r.client_addr,
            result: r.result,
            request_id: r.request_id,
            area_id: r.area_id,
            detail: r.detail,
        })
        .collect();
    Ok((items, total))
}
