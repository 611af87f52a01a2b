//! The audit trail (个人信息保护法, 网络安全法 Art. 21): append-only and hash-chained.
//!
//! Each row's hash covers its content and the previous row's hash. The chain head (last sequence
//! number and hash) lives in `audit_head`; a writer first bumps the head (taking its row lock on
//! PostgreSQL, the write lock on SQLite), so rows from several instances form one chain.
//! `gongzhi audit verify` walks the chain and names the first altered or missing row.
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Ctx, Origin};
use crate::domain::role::Permission;
use crate::domain::{ms_to_rfc3339, now_ms};
use crate::error::{AppError, AppResult};
use crate::store::{self, Db};

pub const ZERO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, to be recorded.
#[derive(Debug, Clone, Default)]
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
}

impl Entry {
    /// An entry for an action by the caller of `ctx`, result `ok`.
    pub fn by(ctx: &Ctx, action: &str, object_type: &str, object_id: Option<String>) -> Entry {
        Entry {
            actor_id: ctx.principal.actor_id(),
            actor_name: ctx.principal.name.clone(),
            role: Some(ctx.principal.roles_label()).filter(|s| !s.is_empty()),
            action: action.into(),
            object_type: object_type.into(),
            object_id,
            client_addr: ctx.client_addr.clone(),
            result: "ok".into(),
            request_id: ctx.request_id.clone(),
            ..Default::default()
        }
    }
    /// An entry for an event without a signed-in caller (login attempts).
    pub fn anonymous(origin: &Origin, actor_name: &str, action: &str) -> Entry {
        Entry {
            actor_name: actor_name.into(),
            action: action.into(),
            object_type: "session".into(),
            client_addr: origin.client_addr.clone(),
            result: "ok".into(),
            request_id: origin.request_id.clone(),
            ..Default::default()
        }
    }
    pub fn fields(mut self, fields: &[&str]) -> Entry {
        self.fields = fields.iter().map(|s| s.to_string()).collect();
        self
    }
    pub fn area(mut self, area_id: Option<Uuid>) -> Entry {
        self.area_id = area_id;
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
    pub fn actor(mut self, id: Option<Uuid>, name: &str) -> Entry {
        self.actor_id = id;
        self.actor_name = name.into();
        self
    }
}

/// The canonical content a row's hash covers.
fn row_hash(prev_hash: &str, seq: i64, at: i64, e: &EntryView<'_>) -> String {
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
    crate::crypto::sha256_hex(parts.join("\u{1f}").as_bytes())
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

#[derive(FromQueryResult)]
struct Head {
    seq: i64,
    hash: String,
}

/// Appends an entry inside the caller's transaction (or connection, for a single write).
pub async fn record<C: ConnectionTrait>(c: &C, e: Entry) -> AppResult<()> {
    // Bump first: this takes the lock that serialises writers of the chain.
    store::exec(
        c,
        "UPDATE audit_head SET seq = seq + 1 WHERE id = 1",
        vec![],
    )
    .await?;
    let head: Head = store::fetch_opt(c, "SELECT seq, hash FROM audit_head WHERE id = 1", vec![])
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
    let hash = row_hash(&head.hash, head.seq, at, &view);
    store::exec(
        c,
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
        c,
        "UPDATE audit_head SET hash = $1 WHERE id = 1",
        vec![hash.into()],
    )
    .await?;
    Ok(())
}

/// Records an entry in its own transaction (for reads, denials and failed logins).
pub async fn record_alone(db: &Db, e: Entry) -> AppResult<()> {
    let tx = store::write_tx(db).await?;
    record(&tx, e).await?;
    tx.commit().await?;
    Ok(())
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

/// The outcome of `gongzhi audit verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// All `rows` rows chain correctly up to the head.
    Intact { rows: i64 },
    /// The first row (by sequence) that was altered or is missing, and what is wrong.
    Broken { seq: i64, problem: String },
}

/// Walks the whole chain in sequence order.
pub async fn verify(db: &Db) -> AppResult<Verdict> {
    #[derive(FromQueryResult)]
    struct HeadFull {
        seq: i64,
        hash: String,
        anchor_seq: i64,
        anchor_hash: String,
    }
    let head: HeadFull = store::fetch_opt(
        db,
        "SELECT seq, hash, anchor_seq, anchor_hash FROM audit_head WHERE id = 1",
        vec![],
    )
    .await?
    .ok_or_else(|| AppError::internal("audit_head row missing"))?;

    let mut expected_seq = head.anchor_seq + 1;
    let mut prev = head.anchor_hash.clone();
    let mut count = 0i64;
    let page = 5_000i64;
    loop {
        let rows: Vec<Row> = store::fetch_all(
            db,
            "SELECT seq, at, actor_id, actor_name, role, action, object_type, object_id, fields, \
             client_addr, result, request_id, area_id, detail, prev_hash, hash \
             FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2",
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
            let view = EntryView {
                actor_id: r.actor_id,
                actor_name: &r.actor_name,
                role: r.role.as_deref(),
                action: &r.action,
                object_type: &r.object_type,
                object_id: r.object_id.as_deref(),
                fields: &r.fields,
                client_addr: &r.client_addr,
                result: &r.result,
                request_id: &r.request_id,
                area_id: r.area_id,
                detail: r.detail.as_deref(),
            };
            if r.prev_hash != prev {
                return Ok(Verdict::Broken {
                    seq: r.seq,
                    problem: "its link to the previous row does not match (a row before it was removed or altered)".into(),
                });
            }
            if row_hash(&prev, r.seq, r.at, &view) != r.hash {
                return Ok(Verdict::Broken {
                    seq: r.seq,
                    problem: "its content does not match its hash (the row was altered)".into(),
                });
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
    Ok(Verdict::Intact { rows: count })
}

/// Removes rows older than the retention period, moving the chain's anchor to the last removed
/// row so the rest still verifies. Returns how many rows were removed.
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
pub async fn list(db: &Db, ctx: &Ctx, f: &Filter) -> AppResult<(Vec<AuditRow>, i64)> {
    if !super::scope::holds_any(ctx, Permission::ReadAudit) {
        return Err(AppError::forbidden());
    }
    let mut conds: Vec<String> = vec![];
    let mut values: Vec<Value> = vec![];
    if let Some(roots) = super::scope::areas_with_roles(ctx, Permission::ReadAudit.roles()) {
        let (sql, v) = {
            let start = values.len() + 1;
            (
                format!(
                    "area_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id IN ({}))",
                    store::placeholders(start, roots.len())
                ),
                roots.into_iter().map(Value::from).collect::<Vec<_>>(),
            )
        };
        conds.push(sql);
        values.extend(v);
    }
    let add = |cond: &str, v: Value, values: &mut Vec<Value>, conds: &mut Vec<String>| {
        values.push(v);
        conds.push(cond.replace("?", &format!("${}", values.len())));
    };
    if let Some(a) = f.actor.as_deref().filter(|s| !s.is_empty()) {
        add(
            "actor_name LIKE ? ESCAPE '\\'",
            format!("%{}%", store::like_escape(a)).into(),
            &mut values,
            &mut conds,
        );
    }
    if let Some(a) = f.action.as_deref().filter(|s| !s.is_empty()) {
        add(
            "action LIKE ? ESCAPE '\\'",
            format!("{}%", store::like_escape(a)).into(),
            &mut values,
            &mut conds,
        );
    }
    if let Some(a) = f.object_type.as_deref().filter(|s| !s.is_empty()) {
        add(
            "object_type = ?",
            a.to_string().into(),
            &mut values,
            &mut conds,
        );
    }
    if let Some(a) = f.result.as_deref().filter(|s| !s.is_empty()) {
        add("result = ?", a.to_string().into(), &mut values, &mut conds);
    }
    if let Some(t) = f.from_ms {
        add("at >= ?", t.into(), &mut values, &mut conds);
    }
    if let Some(t) = f.to_ms {
        add("at < ?", t.into(), &mut values, &mut conds);
    }
    let where_sql = if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    };
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
