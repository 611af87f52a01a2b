//! Operations an administrator runs from the command line: re-encrypting personal data under a
//! new master key, and purging residents who left longer ago than the retention period. Both are
//! single transactions (all or nothing) and both are audited.
use sea_orm::{ConnectionTrait, FromQueryResult};
use uuid::Uuid;

use super::audit::Entry;
use super::registry::persons::sensitive_tag_key;
use super::Ctx;
use crate::crypto::Keys;
use crate::domain::now_ms;
use crate::domain::registry::is_sensitive_tag;
use crate::error::{AppError, AppResult};
use crate::store::sql::{Cond, Set, Where};
use crate::store::{self, Db};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct RotationReport {
    pub persons: u64,
    pub entities: u64,
    /// Rows of the other tables with protected values: case requesters, accounts' phones and
    /// e-mails, SMS deliveries.
    pub others: u64,
}

/// Re-encrypts every protected value from `old` to `new` and recomputes the blind indexes and
/// sensitive-tag keys. Fails without changing anything if a value cannot be decrypted with `old`.
#[tracing::instrument(name = "maintenance::rotate_keys", skip_all)]
pub async fn rotate_keys(
    db: &Db,
    old: &Keys,
    new: &Keys,
    audit: &std::sync::Arc<crate::crypto::AuditKey>,
) -> AppResult<RotationReport> {
    #[derive(FromQueryResult)]
    struct P {
        id: Uuid,
        street_id: Uuid,
        id_no_enc: Option<String>,
        mobile_enc: Option<String>,
        tags: String,
        sensitive_tags_enc: Option<String>,
    }
    let mut report = RotationReport::default();
    let tx = store::write_tx(db).await?;
    let mut after: Option<Uuid> = None;
    loop {
        let rows: Vec<P> = match after {
            None => store::fetch_all(&tx, "SELECT id, street_id, id_no_enc, mobile_enc, tags, sensitive_tags_enc FROM persons ORDER BY id LIMIT 2000", vec![]).await?,
            Some(a) => store::fetch_all(
                &tx,
                "SELECT id, street_id, id_no_enc, mobile_enc, tags, sensitive_tags_enc FROM persons WHERE id > $1 ORDER BY id LIMIT 2000",
                vec![a.into()],
            )
            .await?,
        };
        let Some(last) = rows.last() else { break };
        after = Some(last.id);
        for p in rows {
            let open = |v: &Option<String>| opened(old, v, "person", p.id);
            let id_no = open(&p.id_no_enc)?;
            let mobile = open(&p.mobile_enc)?;
            let sensitive: Vec<String> = open(&p.sensitive_tags_enc)?
                .and_then(|j| serde_json::from_str(&j).ok())
                .unwrap_or_default();
            store::exec(
                &tx,
                "UPDATE persons SET id_no_enc = $1, id_no_bidx = $2, mobile_enc = $3, mobile_bidx = $4, sensitive_tags_enc = $5 WHERE id = $6",
                vec![
                    id_no.as_deref().map(|v| new.encrypt(v)).into(),
                    id_no.as_deref().map(|v| new.blind_index("id_no", v)).into(),
                    mobile.as_deref().map(|v| new.encrypt(v)).into(),
                    mobile.as_deref().map(|v| new.blind_index("mobile", v)).into(),
                    (!sensitive.is_empty()).then(|| new.encrypt(&serde_json::to_string(&sensitive).unwrap_or_default())).into(),
                    p.id.into(),
                ],
            )
            .await?;
            store::exec(
                &tx,
                "DELETE FROM person_tags WHERE person_id = $1",
                vec![p.id.into()],
            )
            .await?;
            let mut keys_: Vec<String> = p
                .tags
                .split(',')
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect();
            keys_.extend(
                sensitive
                    .iter()
                    .filter(|t| is_sensitive_tag(t))
                    .map(|t| sensitive_tag_key(new, t)),
            );
            for k in keys_ {
                store::exec(
                    &tx,
                    "INSERT INTO person_tags (street_id, person_id, tag_key) VALUES ($1, $2, $3)",
                    vec![p.street_id.into(), p.id.into(), k.into()],
                )
                .await?;
            }
            report.persons += 1;
        }
    }
    #[derive(FromQueryResult)]
    struct E {
        id: Uuid,
        contact_mobile_enc: Option<String>,
    }
    let entities: Vec<E> = store::fetch_all(
        &tx,
        "SELECT id, contact_mobile_enc FROM legal_entities WHERE contact_mobile_enc IS NOT NULL",
        vec![],
    )
    .await?;
    for e in entities {
        let Some(m) = opened(old, &e.contact_mobile_enc, "entity", e.id)? else {
            continue;
        };
        store::exec(
            &tx,
            "UPDATE legal_entities SET contact_mobile_enc = $1 WHERE id = $2",
            vec![new.encrypt(&m).into(), e.id.into()],
        )
        .await?;
        report.entities += 1;
    }
    report.others = reseal_others(&tx, old, new).await?;
    let ctx = Ctx::system("cli", audit.clone());
    Entry::by(
        &ctx,
        &crate::app::users::require_system(&ctx)?,
        "keys.rotate",
        "key",
        new.key_id.clone(),
    )
    .detail(format!(
        "{} -> {}: {} persons, {} entities, {} other rows",
        old.key_id, new.key_id, report.persons, report.entities, report.others
    ))
    .record(&tx)
    .await?;
    tx.commit().await?;
    Ok(report)
}

/// A stored value decrypted with the current key; one that does not open stops the rotation
/// (nothing is changed) and names the row.
fn opened(old: &Keys, v: &Option<String>, what: &str, id: Uuid) -> AppResult<Option<String>> {
    match v {
        None => Ok(None),
        Some(e) => old.decrypt(e).map(Some).ok_or_else(|| {
            AppError::internal(format!(
                "{what} {id}: a value is not readable with the current key"
            ))
        }),
    }
}

/// Protected values outside the registry: a table, its one or two encrypted columns, and the
/// blind index (column, domain) kept of the first one, if any.
type Sealed = (
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<(&'static str, &'static str)>,
);
const OTHER_SEALED: &[Sealed] = &[
    ("cases", "requester_name", Some("requester_phone"), None),
    // An account's phone is how a resident's sign-up finds them.
    (
        "users",
        "phone_enc",
        Some("email_enc"),
        Some(("phone_bidx", "mobile")),
    ),
    ("message_deliveries", "phone_enc", None, None),
];

/// Re-encrypts the values of [`OTHER_SEALED`] from `old` to `new`, 2,000 rows at a time, and
/// recomputes their blind indexes. Answers how many rows changed.
async fn reseal_others<C: ConnectionTrait>(c: &C, old: &Keys, new: &Keys) -> AppResult<u64> {
    #[derive(FromQueryResult)]
    struct R {
        id: Uuid,
        a: Option<String>,
        b: Option<String>,
    }
    let mut n = 0;
    for &(table, a, b, index) in OTHER_SEALED {
        let b_sql = b.unwrap_or("CAST(NULL AS TEXT)");
        let mut after: Option<Uuid> = None;
        loop {
            let mut w = Where::new();
            w.and(&format!("({a} IS NOT NULL OR {b_sql} IS NOT NULL)"), []);
            if let Some(x) = after {
                w.and("id > ?", [x.into()]);
            }
            let (cond, values) = w.build(1);
            let rows: Vec<R> = store::fetch_all(
                c,
                &format!("SELECT id, {a} AS a, {b_sql} AS b FROM {table} WHERE {cond} ORDER BY id LIMIT 2000"),
                values,
            )
            .await?;
            let Some(last) = rows.last() else { break };
            after = Some(last.id);
            for r in rows {
                let (pa, pb) = (
                    opened(old, &r.a, table, r.id)?,
                    opened(old, &r.b, table, r.id)?,
                );
                let mut set = Set::new();
                set.to(a, pa.as_deref().map(|v| new.encrypt(v)));
                if let Some(b) = b {
                    set.to(b, pb.as_deref().map(|v| new.encrypt(v)));
                }
                if let Some((column, domain)) = index {
                    set.to(column, pa.as_deref().map(|p| new.blind_index(domain, p)));
                }
                let (sql, values) = set.update(table, Cond::new("id = ?", [r.id.into()]));
                store::exec(c, &sql, values).await?;
                n += 1;
            }
        }
    }
    Ok(n)
}

/// Removes the personal data of residents who moved away or died more than `retention_days`
/// ago: their records, tags and memberships go; their history keeps only that a record was purged.
/// With `dry_run` it only counts.
#[tracing::instrument(name = "maintenance::purge_departed", skip_all)]
pub async fn purge_departed(
    db: &Db,
    ctx: &Ctx,
    retention_days: u32,
    dry_run: bool,
) -> AppResult<u64> {
    let cutoff = now_ms() - retention_days as i64 * 86_400_000;
    let cond = "status IN ('moved_out', 'deceased') AND left_at IS NOT NULL AND left_at < $1";
    if dry_run {
        return Ok(store::fetch_i64(
            db,
            &format!("SELECT COUNT(*) FROM persons WHERE {cond}"),
            vec![cutoff.into()],
        )
        .await?
        .max(0) as u64);
    }
    let tx = store::write_tx(db).await?;
    let sub = format!("SELECT id FROM persons WHERE {cond}");
    store::exec(
        &tx,
        &format!("DELETE FROM person_tags WHERE person_id IN ({sub})"),
        vec![cutoff.into()],
    )
    .await?;
    #[derive(sea_orm::FromQueryResult)]
    struct Gone {
        id: uuid::Uuid,
        name: String,
        community_id: uuid::Uuid,
    }
    let gone: Vec<Gone> = store::fetch_all(
        &tx,
        &format!("SELECT id, name, community_id FROM persons WHERE {cond}"),
        vec![cutoff.into()],
    )
    .await?;
    for p in &gone {
        crate::app::registry::persons::unindex_name(&tx, p.id, &p.name, p.community_id).await?;
    }
    store::exec(
        &tx,
        &format!("DELETE FROM household_members WHERE person_id IN ({sub})"),
        vec![cutoff.into()],
    )
    .await?;
    store::exec(
        &tx,
        &format!("UPDATE households SET head_person_id = NULL WHERE head_person_id IN ({sub})"),
        vec![cutoff.into()],
    )
    .await?;
    store::exec(
        &tx,
        &format!("UPDATE registry_events SET snapshot = '{{\"purged\":true}}', changes = '{{}}' WHERE object_id IN ({sub})"),
        vec![cutoff.into()],
    )
    .await?;
    let n = store::exec(
        &tx,
        &format!("DELETE FROM persons WHERE {cond}"),
        vec![cutoff.into()],
    )
    .await?;
    Entry::by(
        ctx,
        &crate::app::users::require_system(ctx)?,
        "registry.purge",
        "person",
        None,
    )
    .detail(format!(
        "{n} residents who left before the {retention_days}-day retention"
    ))
    .record(&tx)
    .await?;
    tx.commit().await?;
    Ok(n)
}
