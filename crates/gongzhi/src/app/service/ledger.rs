//! The points ledger (积分): rules per area, accounts with their balance, append-only postings,
//! reversals, donations, and the community catalogue (爱心超市) with its redemptions.
//!
//! Every change runs in one transaction: the posting is inserted and the account's balance moved
//! by an `UPDATE … WHERE balance + amount >= 0`, so the balance always equals the sum of the
//! postings, never goes below zero, and reading it is one row whatever the history.
use std::collections::HashMap;

use sea_orm::{ConnectionTrait, FromQueryResult, TransactionTrait, Value};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{en, page_of, Ctx};
use crate::app::audit::{self, Entry};
use crate::app::{scope, AppState};
use crate::domain::points::{capped, Event, Kind, Period, Refusal, MAX_AMOUNT};
use crate::domain::role::Permission;
use crate::domain::{ms_to_rfc3339, new_id, now_ms};
use crate::error::{AppError, AppResult, Msg};
use crate::store::{self, Db};

/// Who wrote a posting.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<Uuid>,
    pub name: String,
}

impl Actor {
    pub fn of(ctx: &Ctx) -> Actor {
        Actor {
            id: ctx.principal.actor_id(),
            name: ctx.principal.display_name.clone(),
        }
    }
}

fn refusal(r: Refusal) -> AppError {
    let code = match r {
        Refusal::BadAmount => "points.bad_amount",
        Refusal::NotEnoughPoints { .. } => "points.not_enough",
        Refusal::NotEnoughStock { .. } => "catalog.not_enough_stock",
        Refusal::UnknownPosting => "points.unknown_posting",
        Refusal::AlreadyReversed => "points.already_reversed",
        Refusal::NotReversible => "points.not_reversible",
        Refusal::SameAccount => "points.same_account",
        Refusal::UnknownItem => "catalog.unknown_item",
    };
    AppError::Rule { code, msg: r.msg() }
}

fn amount_field(field: &str, a: i64) -> AppResult<i64> {
    if (1..=MAX_AMOUNT).contains(&a) {
        Ok(a)
    } else {
        Err(AppError::field(field, Refusal::BadAmount.msg()))
    }
}

/// A posting to write.
#[derive(Debug, Clone)]
pub struct NewPosting {
    pub account_id: Uuid,
    pub amount: i64,
    pub kind: Kind,
    pub event: Option<Event>,
    pub rule_area_id: Option<Uuid>,
    pub source_kind: &'static str,
    pub source_id: Option<String>,
    pub reverses_id: Option<Uuid>,
    pub counterpart_id: Option<Uuid>,
    pub note: Option<String>,
}

impl NewPosting {
    pub fn new(account_id: Uuid, amount: i64, kind: Kind, source_kind: &'static str) -> NewPosting {
        NewPosting {
            account_id,
            amount,
            kind,
            event: None,
            rule_area_id: None,
            source_kind,
            source_id: None,
            reverses_id: None,
            counterpart_id: None,
            note: None,
        }
    }
}

pub const POSTING_COLUMNS: &[&str] = &[
    "id",
    "account_id",
    "amount",
    "kind",
    "event",
    "rule_area_id",
    "source_kind",
    "source_id",
    "reverses_id",
    "counterpart_id",
    "note",
    "actor_id",
    "actor_name",
    "at",
];

fn posting_row(id: Uuid, p: NewPosting, actor: &Actor, at: i64) -> Vec<Value> {
    vec![
        id.into(),
        p.account_id.into(),
        p.amount.into(),
        p.kind.as_str().into(),
        p.event.map(|e| e.as_str().to_string()).into(),
        p.rule_area_id.into(),
        p.source_kind.into(),
        p.source_id.into(),
        p.reverses_id.into(),
        p.counterpart_id.into(),
        p.note.into(),
        actor.id.into(),
        actor.name.clone().into(),
        at.into(),
    ]
}

/// Writes one posting and moves the balance; refuses a debit larger than the balance.
#[tracing::instrument(name = "service::ledger::post", skip_all)]
pub async fn post<C: ConnectionTrait>(
    c: &C,
    actor: &Actor,
    p: NewPosting,
    at: i64,
) -> AppResult<Uuid> {
    let n = store::exec(
        c,
        "UPDATE point_accounts SET balance = balance + $1, \
         updated_at = CASE WHEN updated_at > $2 THEN updated_at ELSE $2 END \
         WHERE id = $3 AND balance + $1 >= 0",
        vec![p.amount.into(), at.into(), p.account_id.into()],
    )
    .await?;
    if n == 0 {
        let balance = store::fetch_opt::<Bal, _>(
            c,
            "SELECT balance FROM point_accounts WHERE id = $1",
            vec![p.account_id.into()],
        )
        .await?
        .ok_or(AppError::NotFound)?
        .balance;
        return Err(refusal(Refusal::NotEnoughPoints {
            balance,
            needed: -p.amount,
        }));
    }
    let id = new_id();
    let reverses = p.reverses_id;
    let r = store::insert_many(
        c,
        "point_postings",
        POSTING_COLUMNS,
        vec![posting_row(id, p, actor, at)],
    )
    .await;
    match r {
        Err(e) if reverses.is_some() && crate::error::is_unique_violation(&e) => {
            Err(refusal(Refusal::AlreadyReversed))
        }
        Err(e) => Err(e.into()),
        Ok(_) => Ok(id),
    }
}

#[derive(FromQueryResult)]
struct Bal {
    balance: i64,
}

/// Writes many credits at once (an activity's confirmation): multi-row inserts and one balance
/// update per chunk of accounts. Amounts must be positive.
#[tracing::instrument(name = "service::ledger::post_credits", skip_all)]
pub async fn post_credits<C: ConnectionTrait>(
    c: &C,
    actor: &Actor,
    postings: Vec<NewPosting>,
    at: i64,
) -> AppResult<u64> {
    let mut per_account: HashMap<Uuid, i64> = HashMap::new();
    let mut rows = Vec::with_capacity(postings.len());
    for p in postings {
        debug_assert!(p.amount > 0);
        if p.amount <= 0 {
            continue;
        }
        *per_account.entry(p.account_id).or_default() += p.amount;
        rows.push(posting_row(new_id(), p, actor, at));
    }
    let n = store::insert_many_with(c, "point_postings", POSTING_COLUMNS, rows, 30_000).await?;
    add_to_accounts(c, per_account.into_iter().collect(), at).await?;
    Ok(n)
}

/// The tail of `WITH v(id, <val>) AS (VALUES …) UPDATE <table> SET <col> = <col> + v.<val>`: a
/// correlated subquery over the chunk, which both databases run through the primary key (an
/// `UPDATE … FROM v` join measured slower on both: SQLite scans the table for each chunk).
/// `updated_at` never moves back: a backdated entry (carried over from paper) leaves a later
/// change's time.
pub fn bulk_update_tail(table: &str, col: &str, val: &str, at_param: usize) -> String {
    format!(
        ") UPDATE {table} SET {col} = {col} + (SELECT v.{val} FROM v WHERE v.id = {table}.id), \
         updated_at = CASE WHEN updated_at > ${at_param} THEN updated_at ELSE ${at_param} END \
         WHERE id IN (SELECT id FROM v)"
    )
}

/// `balance += amount` for many accounts, in chunks (credits only).
async fn add_to_accounts<C: ConnectionTrait>(
    c: &C,
    items: Vec<(Uuid, i64)>,
    at: i64,
) -> AppResult<()> {
    for chunk in items.chunks(400) {
        let mut sql = String::from("WITH v(id, amt) AS (VALUES ");
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 2 + 1);
        for (i, (id, amt)) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(${}, CAST(${} AS BIGINT))", i * 2 + 1, i * 2 + 2));
            values.push((*id).into());
            values.push((*amt).into());
        }
        let n = values.len();
        sql.push_str(&format!(
            "{}",
            bulk_update_tail("point_accounts", "balance", "amt", n + 1)
        ));
        values.push(at.into());
        store::exec(c, &sql, values).await?;
    }
    Ok(())
}

// ------------------------------------------------------------------------------------ rules

/// One effective rule.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rule {
    /// The area that sets it; null for the code default.
    pub area_id: Option<Uuid>,
    pub area_name: Option<String>,
    pub event: String,
    pub event_label: String,
    pub points: i64,
    pub cap: Option<i64>,
    pub cap_period: Option<String>,
    /// Set by an area above the one asked about (or the default).
    pub inherited: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct RuleValue {
    pub points: i64,
    pub cap: Option<i64>,
    pub period: Option<Period>,
    pub area_id: Option<Uuid>,
}

#[derive(FromQueryResult)]
struct RuleRow {
    area_id: Uuid,
    area_name: String,
    event: String,
    points: i64,
    cap: Option<i64>,
    cap_period: Option<String>,
    depth: i32,
}

async fn rule_rows<C: ConnectionTrait>(c: &C, area_id: Uuid) -> AppResult<Vec<RuleRow>> {
    Ok(store::fetch_all(
        c,
        "SELECT r.area_id, a.name AS area_name, r.event, r.points, r.cap, r.cap_period, CAST(ac.depth AS INTEGER) AS depth \
         FROM point_rules r JOIN area_closure ac ON ac.ancestor_id = r.area_id JOIN areas a ON a.id = r.area_id \
         WHERE ac.descendant_id = $1 ORDER BY ac.depth ASC",
        vec![area_id.into()],
    )
    .await?)
}

/// The rules that apply in an area: the nearest area up the tree that sets each, else the default.
#[tracing::instrument(name = "service::ledger::rules_for", skip_all)]
pub async fn rules_for<C: ConnectionTrait>(
    c: &C,
    area_id: Uuid,
) -> AppResult<HashMap<Event, RuleValue>> {
    let mut out = HashMap::new();
    for r in rule_rows(c, area_id).await? {
        if let Some(e) = Event::parse(&r.event) {
            out.entry(e).or_insert(RuleValue {
                points: r.points,
                cap: r.cap,
                period: r.cap_period.as_deref().and_then(Period::parse),
                area_id: Some(r.area_id),
            });
        }
    }
    for e in Event::ALL {
        out.entry(e).or_insert_with(|| {
            let (points, cap, period) = e.default_rule();
            RuleValue {
                points,
                cap,
                period,
                area_id: None,
            }
        });
    }
    Ok(out)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AreaQuery {
    pub area_id: Option<Uuid>,
}

#[tracing::instrument(name = "service::ledger::list_rules", skip_all)]
pub async fn list_rules(db: &Db, ctx: &Ctx, area_id: Uuid) -> AppResult<Vec<Rule>> {
    scope::require_permission(db, ctx, Permission::ReadService, area_id).await?;
    let rows = rule_rows(db, area_id).await?;
    let en = en(ctx);
    Ok(Event::ALL
        .into_iter()
        .map(|e| match rows.iter().find(|r| r.event == e.as_str()) {
            Some(r) => Rule {
                area_id: Some(r.area_id),
                area_name: Some(r.area_name.clone()),
                event: e.as_str().into(),
                event_label: e.label(en).into(),
                points: r.points,
                cap: r.cap,
                cap_period: r.cap_period.clone(),
                inherited: r.depth > 0,
            },
            None => {
                let (points, cap, period) = e.default_rule();
                Rule {
                    area_id: None,
                    area_name: None,
                    event: e.as_str().into(),
                    event_label: e.label(en).into(),
                    points,
                    cap,
                    cap_period: period.map(|p| p.as_str().into()),
                    inherited: true,
                }
            }
        })
        .collect())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RuleInput {
    pub area_id: Uuid,
    pub event: String,
    pub points: i64,
    pub cap: Option<i64>,
    pub cap_period: Option<String>,
}

#[tracing::instrument(name = "service::ledger::put_rule", skip_all)]
pub async fn put_rule(db: &Db, ctx: &Ctx, r: RuleInput) -> AppResult<Vec<Rule>> {
    let checked = scope::require_permission(db, ctx, Permission::ManageService, r.area_id).await?;
    let event = Event::parse(&r.event)
        .ok_or_else(|| AppError::field("event", Msg::new("没有这种积分事项", "No such event")))?;
    let max = if event == Event::ExemptOverAge {
        120
    } else {
        10_000
    };
    if !(0..=max).contains(&r.points) {
        return Err(AppError::field(
            "points",
            Msg::owned(
                format!("应为 0–{max} 的整数"),
                format!("A whole number from 0 to {max}"),
            ),
        ));
    }
    let period = match (&r.cap, r.cap_period.as_deref()) {
        (None, None) => None,
        (Some(c), Some(p)) if (1..=1_000_000).contains(c) => {
            Some(Period::parse(p).ok_or_else(|| {
                AppError::field(
                    "cap_period",
                    Msg::new(
                        "周期应为 day、month 或 year",
                        "The period is day, month or year",
                    ),
                )
            })?)
        }
        (Some(_), Some(_)) => {
            return Err(AppError::field(
                "cap",
                Msg::new(
                    "上限应为 1–1000000 的整数",
                    "A cap is a whole number from 1 to 1,000,000",
                ),
            ))
        }
        _ => {
            return Err(AppError::field(
                "cap_period",
                Msg::new(
                    "上限和周期要同时填写",
                    "A cap needs its period and a period its cap",
                ),
            ))
        }
    };
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "DELETE FROM point_rules WHERE area_id = $1 AND event = $2",
        vec![r.area_id.into(), event.as_str().into()],
    )
    .await?;
    store::exec(
        &tx,
        "INSERT INTO point_rules (area_id, event, points, cap, cap_period, updated_by_name, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        vec![
            r.area_id.into(),
            event.as_str().into(),
            r.points.into(),
            r.cap.into(),
            period.map(|p| p.as_str().to_string()).into(),
            ctx.principal.display_name.clone().into(),
            now_ms().into(),
        ],
    )
    .await?;
    audit::record(
        &tx,
        Entry::by(
            ctx,
            &checked,
            "update",
            "point_rule",
            Some(format!("{}:{}", r.area_id, event.as_str())),
        )
        .area(Some(r.area_id))
        .detail(format!(
            "points={} cap={:?} period={:?}",
            r.points,
            r.cap,
            period.map(|p| p.as_str())
        )),
    )
    .await?;
    tx.commit().await?;
    list_rules(db, ctx, r.area_id).await
}

#[derive(FromQueryResult)]
struct Usage {
    account_id: Uuid,
    used: i64,
}

/// Credits under a rule for many accounts (base amount each, before caps), as postings. Applies
/// the rule's cap for the period holding `at`, recording the usage. Zero amounts are dropped.
#[tracing::instrument(name = "service::ledger::earn_by_rule", skip_all)]
pub async fn earn_by_rule<C: ConnectionTrait>(
    c: &C,
    actor: &Actor,
    event: Event,
    rule: RuleValue,
    items: Vec<(Uuid, i64, Option<String>)>,
    source_kind: &'static str,
    at: i64,
) -> AppResult<Vec<NewPosting>> {
    let mut items: Vec<(Uuid, i64, Option<String>)> =
        items.into_iter().filter(|i| i.1 > 0).collect();
    if let (Some(cap), Some(period)) = (rule.cap, rule.period) {
        let key = period.key(at);
        let mut used: HashMap<Uuid, i64> = HashMap::new();
        for chunk in items.chunks(500) {
            let mut values: Vec<Value> = vec![event.as_str().into(), key.clone().into()];
            values.extend(chunk.iter().map(|i| Value::from(i.0)));
            let sql = format!(
                "SELECT account_id, used FROM point_usage WHERE event = $1 AND period = $2 AND account_id IN ({})",
                store::placeholders(3, chunk.len())
            );
            for u in store::fetch_all::<Usage, _>(c, &sql, values).await? {
                used.insert(u.account_id, u.used);
            }
        }
        let mut upserts: Vec<Vec<Value>> = vec![];
        for i in items.iter_mut() {
            let u = used.entry(i.0).or_insert(0);
            let allowed = capped(i.1, Some(cap), *u);
            *u += allowed;
            i.1 = allowed;
        }
        for (acc, u) in used {
            upserts.push(vec![
                acc.into(),
                event.as_str().into(),
                key.clone().into(),
                u.into(),
            ]);
        }
        for chunk in upserts.chunks(200) {
            let mut sql =
                String::from("INSERT INTO point_usage (account_id, event, period, used) VALUES ");
            let mut values = vec![];
            for (i, row) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("({})", store::placeholders(i * 4 + 1, 4)));
                values.extend(row.iter().cloned());
            }
            sql.push_str(
                " ON CONFLICT (account_id, event, period) DO UPDATE SET used = excluded.used",
            );
            store::exec(c, &sql, values).await?;
        }
        items.retain(|i| i.1 > 0);
    }
    let _ = actor;
    Ok(items
        .into_iter()
        .map(|(acc, amount, source_id)| NewPosting {
            event: Some(event),
            rule_area_id: rule.area_id,
            source_id,
            ..NewPosting::new(acc, amount, Kind::Earn, source_kind)
        })
        .collect())
}

// --------------------------------------------------------------------------------- accounts

#[derive(Debug, Serialize, ToSchema)]
pub struct Account {
    pub id: Uuid,
    /// `person` or `fund` (a community's fund).
    pub kind: String,
    pub owner_name: String,
    pub community_id: Uuid,
    pub community_name: String,
    pub volunteer_id: Option<Uuid>,
    pub balance: i64,
    pub updated_at: String,
}
page_of!(AccountPage, Account);

#[derive(FromQueryResult)]
struct AccountRow {
    id: Uuid,
    kind: String,
    owner_name: String,
    community_id: Uuid,
    community_name: String,
    volunteer_id: Option<Uuid>,
    balance: i64,
    updated_at: i64,
}

const ACCOUNT_FROM: &str = "FROM point_accounts pa JOIN areas a ON a.id = pa.area_id \
    LEFT JOIN volunteers v ON v.id = pa.volunteer_id \
    LEFT JOIN persons p ON p.street_id = v.street_id AND p.id = v.person_id";
const ACCOUNT_COLS: &str = "SELECT pa.id, pa.kind, COALESCE(p.name, pa.name, '') AS owner_name, pa.area_id AS community_id, \
    a.name AS community_name, pa.volunteer_id, pa.balance, pa.updated_at";

fn account_view(r: AccountRow) -> Account {
    Account {
        id: r.id,
        kind: r.kind,
        owner_name: r.owner_name,
        community_id: r.community_id,
        community_name: r.community_name,
        volunteer_id: r.volunteer_id,
        balance: r.balance,
        updated_at: ms_to_rfc3339(r.updated_at),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountQuery {
    pub area_id: Option<Uuid>,
    pub q: Option<String>,
    /// `person` or `fund`.
    pub kind: Option<String>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

#[tracing::instrument(name = "service::ledger::list_accounts", skip_all)]
pub async fn list_accounts(db: &Db, ctx: &Ctx, q: &AccountQuery) -> AppResult<AccountPage> {
    let mut w =
        super::area_where(db, ctx, Permission::ReadService, q.area_id, "pa.area_id").await?;
    if let Some(k) = q.kind.as_deref().filter(|k| !k.is_empty()) {
        w.and("pa.kind = ?", [k.to_string().into()]);
    }
    if let Some(t) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let like = format!("%{}%", store::like_escape(t));
        w.and(
            "COALESCE(p.name, pa.name) LIKE ? ESCAPE '\\'",
            [like.into()],
        );
    }
    let (cond, values) = w.build(1);
    let paging = store::Paging::new(q.page, q.page_size);
    let (rows, total) = store::page::<AccountRow, _>(
        db,
        &format!("SELECT COUNT(*) {ACCOUNT_FROM} WHERE {cond}"),
        &format!("{ACCOUNT_COLS} {ACCOUNT_FROM} WHERE {cond} ORDER BY pa.balance DESC, pa.id"),
        values,
        paging,
    )
    .await?;
    Ok(AccountPage {
        items: rows.into_iter().map(account_view).collect(),
        total,
        page: paging.page,
        page_size: paging.size,
    })
}

async fn account_row<C: ConnectionTrait>(c: &C, id: Uuid) -> AppResult<AccountRow> {
    store::fetch_opt(
        c,
        &format!("{ACCOUNT_COLS} {ACCOUNT_FROM} WHERE pa.id = $1"),
        vec![id.into()],
    )
    .await?
    .ok_or(AppError::NotFound)
}

/// Whether the caller may read an account: `ReadService` on its community, or it is their own.
async fn readable_account<C: ConnectionTrait>(c: &C, ctx: &Ctx, id: Uuid) -> AppResult<AccountRow> {
    let r = account_row(c, id).await?;
    if let Ok(me) = super::me(c, ctx).await {
        if me.account_id == id {
            return Ok(r);
        }
    }
    scope::require_permission(c, ctx, Permission::ReadService, r.community_id).await?;
    Ok(r)
}

/// One account with its balance (one row, whatever the length of its history).
#[tracing::instrument(name = "service::ledger::get_account", skip_all)]
pub async fn get_account(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<Account> {
    Ok(account_view(readable_account(db, ctx, id).await?))
}

/// The community fund's account, created on first use.
#[tracing::instrument(name = "service::ledger::fund_account", skip_all)]
pub async fn fund_account<C: ConnectionTrait>(c: &C, community_id: Uuid) -> AppResult<Uuid> {
    #[derive(FromQueryResult)]
    struct Id {
        id: Uuid,
    }
    if let Some(r) = store::fetch_opt::<Id, _>(
        c,
        "SELECT id FROM point_accounts WHERE area_id = $1 AND kind = 'fund'",
        vec![community_id.into()],
    )
    .await?
    {
        return Ok(r.id);
    }
    let id = new_id();
    store::exec(
        c,
        "INSERT INTO point_accounts (id, kind, volunteer_id, area_id, name, balance, updated_at) \
         SELECT $1, 'fund', NULL, a.id, a.name || '公益积分基金', 0, $2 FROM areas a WHERE a.id = $3",
        vec![id.into(), now_ms().into(), community_id.into()],
    )
    .await?;
    Ok(id)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PostingView {
    pub id: Uuid,
    pub account_id: Uuid,
    pub amount: i64,
    pub kind: String,
    pub kind_label: String,
    pub event: Option<String>,
    pub event_label: Option<String>,
    pub note: Option<String>,
    pub source_kind: String,
    pub source_id: Option<String>,
    pub reverses_id: Option<Uuid>,
    /// A later posting reverses this one.
    pub reversed: bool,
    pub actor_name: String,
    pub at: String,
}
page_of!(PostingPage, PostingView);

#[derive(FromQueryResult)]
struct PostingRow {
    id: Uuid,
    account_id: Uuid,
    amount: i64,
    kind: String,
    event: Option<String>,
    note: Option<String>,
    source_kind: String,
    source_id: Option<String>,
    reverses_id: Option<Uuid>,
    reversed: i64,
    actor_name: String,
    at: i64,
}

fn posting_view(r: PostingRow, en: bool) -> PostingView {
    PostingView {
        kind_label: Kind::parse(&r.kind)
            .map(|k| k.label(en))
            .unwrap_or("")
            .into(),
        event_label: r
            .event
            .as_deref()
            .and_then(Event::parse)
            .map(|e| e.label(en).to_string()),
        id: r.id,
        account_id: r.account_id,
        amount: r.amount,
        kind: r.kind,
        event: r.event,
        note: r.note,
        source_kind: r.source_kind,
        source_id: r.source_id,
        reverses_id: r.reverses_id,
        reversed: r.reversed > 0,
        actor_name: r.actor_name,
        at: ms_to_rfc3339(r.at),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

#[tracing::instrument(name = "service::ledger::postings_of", skip_all)]
pub async fn postings_of<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    account_id: Uuid,
    page: &PageParams,
) -> AppResult<PostingPage> {
    let paging = store::Paging::new(page.page, page.page_size);
    let (rows, total) = store::page::<PostingRow, _>(
        c,
        "SELECT COUNT(*) FROM point_postings WHERE account_id = $1",
        "SELECT pp.id, pp.account_id, pp.amount, pp.kind, pp.event, pp.note, pp.source_kind, pp.source_id, pp.reverses_id, \
         (SELECT COUNT(*) FROM point_postings r WHERE r.reverses_id = pp.id) AS reversed, pp.actor_name, pp.at \
         FROM point_postings pp WHERE pp.account_id = $1 ORDER BY pp.at DESC, pp.id DESC",
        vec![account_id.into()],
        paging,
    )
    .await?;
    let en = en(ctx);
    Ok(PostingPage {
        items: rows.into_iter().map(|r| posting_view(r, en)).collect(),
        total,
        page: paging.page,
        page_size: paging.size,
    })
}

#[tracing::instrument(name = "service::ledger::list_postings", skip_all)]
pub async fn list_postings(
    db: &Db,
    ctx: &Ctx,
    account_id: Uuid,
    page: &PageParams,
) -> AppResult<PostingPage> {
    readable_account(db, ctx, account_id).await?;
    postings_of(db, ctx, account_id, page).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ManualPosting {
    pub account_id: Uuid,
    /// `earn` or `deduct`.
    pub direction: String,
    /// Whole points, 1–1,000,000.
    pub amount: i64,
    pub note: String,
}

/// A manual earning or deduction by a worker, with a note (audited).
#[tracing::instrument(name = "service::ledger::manual_post", skip_all)]
pub async fn manual_post(db: &Db, ctx: &Ctx, m: ManualPosting) -> AppResult<PostingView> {
    let amount = amount_field("amount", m.amount)?;
    let note = super::text_field("note", &m.note, 200, true)?;
    let kind = match m.direction.as_str() {
        "earn" => Kind::Earn,
        "deduct" => Kind::Deduct,
        _ => {
            return Err(AppError::field(
                "direction",
                Msg::new(
                    "应为 earn（增加）或 deduct（扣减）",
                    "Either earn or deduct",
                ),
            ))
        }
    };
    let tx = store::write_tx(db).await?;
    let acc = account_row(&tx, m.account_id).await?;
    let checked =
        scope::require_permission(&tx, ctx, Permission::ManageService, acc.community_id).await?;
    let signed = if kind == Kind::Earn { amount } else { -amount };
    let id = post(
        &tx,
        &Actor::of(ctx),
        NewPosting {
            note: Some(note),
            ..NewPosting::new(acc.id, signed, kind, "manual")
        },
        now_ms(),
    )
    .await?;
    audit::record(
        &tx,
        Entry::by(
            ctx,
            &checked,
            kind.as_str(),
            "point_posting",
            Some(id.to_string()),
        )
        .area(Some(acc.community_id))
        .detail(format!("account={} amount={signed}", acc.id)),
    )
    .await?;
    let v = one_posting(&tx, ctx, id).await?;
    super::notify::points_posted(
        &tx,
        id,
        acc.volunteer_id,
        signed,
        &v.note.clone().unwrap_or_default(),
    )
    .await?;
    tx.commit().await?;
    Ok(v)
}

async fn one_posting<C: ConnectionTrait>(c: &C, ctx: &Ctx, id: Uuid) -> AppResult<PostingView> {
    let r: PostingRow = store::fetch_opt(
        c,
        "SELECT pp.id, pp.account_id, pp.amount, pp.kind, pp.event, pp.note, pp.source_kind, pp.source_id, pp.reverses_id, \
         (SELECT COUNT(*) FROM point_postings r WHERE r.reverses_id = pp.id) AS reversed, pp.actor_name, pp.at \
         FROM point_postings pp WHERE pp.id = $1",
        vec![id.into()],
    )
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(posting_view(r, en(ctx)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReverseInput {
    pub reason: String,
}

/// Reverses an earning or a deduction once, by a posting of the opposite amount.
#[tracing::instrument(name = "service::ledger::reverse", skip_all)]
pub async fn reverse(
    db: &Db,
    ctx: &Ctx,
    posting_id: Uuid,
    r: ReverseInput,
) -> AppResult<PostingView> {
    #[derive(FromQueryResult)]
    struct P {
        account_id: Uuid,
        amount: i64,
        kind: String,
        community_id: Uuid,
    }
    let tx = store::write_tx(db).await?;
    let p: P = store::fetch_opt(
        &tx,
        "SELECT pp.account_id, pp.amount, pp.kind, pa.area_id AS community_id FROM point_postings pp \
         JOIN point_accounts pa ON pa.id = pp.account_id WHERE pp.id = $1",
        vec![posting_id.into()],
    )
    .await?
    .ok_or(AppError::NotFound)?;
    let checked =
        scope::require_permission(&tx, ctx, Permission::ManageService, p.community_id).await?;
    let reason = super::text_field("reason", &r.reason, 200, true)?;
    if !matches!(Kind::parse(&p.kind), Some(Kind::Earn | Kind::Deduct)) {
        return Err(refusal(Refusal::NotReversible));
    }
    if store::fetch_i64(
        &tx,
        "SELECT COUNT(*) FROM point_postings WHERE reverses_id = $1",
        vec![posting_id.into()],
    )
    .await?
        > 0
    {
        return Err(refusal(Refusal::AlreadyReversed));
    }
    let id = post(
        &tx,
        &Actor::of(ctx),
        NewPosting {
            reverses_id: Some(posting_id),
            note: Some(reason),
            ..NewPosting::new(p.account_id, -p.amount, Kind::Reversal, "reversal")
        },
        now_ms(),
    )
    .await?;
    audit::record(
        &tx,
        Entry::by(
            ctx,
            &checked,
            "reverse",
            "point_posting",
            Some(posting_id.to_string()),
        )
        .area(Some(p.community_id)),
    )
    .await?;
    let v = one_posting(&tx, ctx, id).await?;
    tx.commit().await?;
    Ok(v)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DonationInput {
    pub from_account_id: Uuid,
    pub to_account_id: Uuid,
    pub amount: i64,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Donation {
    pub out_posting_id: Uuid,
    pub in_posting_id: Uuid,
    pub from: Account,
    pub to: Account,
}

/// Donates points (转赠) to a person or a community fund: two postings in one transaction, audited.
/// A volunteer donates from their own account within their community; a worker records a donation
/// between accounts of their scope.
#[tracing::instrument(name = "service::ledger::donate", skip_all)]
pub async fn donate(db: &Db, ctx: &Ctx, d: DonationInput) -> AppResult<Donation> {
    let tx = store::write_tx(db).await?;
    let from = account_row(&tx, d.from_account_id).await?;
    let to = account_row(&tx, d.to_account_id).await?;
    let own = super::me(&tx, ctx)
        .await
        .map(|m| m.account_id == from.id)
        .unwrap_or(false);
    let checked = if own {
        if to.community_id != from.community_id {
            return Err(AppError::Rule {
                code: "points.other_community",
                msg: Msg::new(
                    "只能转赠给本社区的志愿者或公益积分基金",
                    "Points can only be donated within your community",
                ),
            });
        }
        scope::own(ctx)
    } else {
        scope::require_permission(&tx, ctx, Permission::ManageService, from.community_id).await?;
        scope::require_permission(&tx, ctx, Permission::ManageService, to.community_id).await?
    };
    let amount = amount_field("amount", d.amount)?;
    let note = super::text_field("note", d.note.as_deref().unwrap_or(""), 200, false)?;
    if d.from_account_id == d.to_account_id {
        return Err(refusal(Refusal::SameAccount));
    }
    let actor = Actor::of(ctx);
    let at = now_ms();
    let note = Some(note).filter(|n| !n.is_empty());
    let out_id = post(
        &tx,
        &actor,
        NewPosting {
            counterpart_id: Some(to.id),
            note: note.clone(),
            ..NewPosting::new(from.id, -amount, Kind::TransferOut, "donation")
        },
        at,
    )
    .await?;
    let in_id = post(
        &tx,
        &actor,
        NewPosting {
            counterpart_id: Some(from.id),
            reverses_id: None,
            source_id: Some(out_id.to_string()),
            note,
            ..NewPosting::new(to.id, amount, Kind::TransferIn, "donation")
        },
        at,
    )
    .await?;
    audit::record(
        &tx,
        Entry::by(
            ctx,
            &checked,
            "donate",
            "point_account",
            Some(from.id.to_string()),
        )
        .area(Some(from.community_id))
        .detail(format!("to={} amount={amount}", to.id)),
    )
    .await?;
    let (from, to) = (
        account_view(account_row(&tx, from.id).await?),
        account_view(account_row(&tx, to.id).await?),
    );
    tx.commit().await?;
    Ok(Donation {
        out_posting_id: out_id,
        in_posting_id: in_id,
        from,
        to,
    })
}

// -------------------------------------------------------------------------------- catalogue

#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogItem {
    pub id: Uuid,
    pub community_id: Uuid,
    pub community_name: String,
    pub name: String,
    pub description: String,
    pub price: i64,
    pub stock: i64,
    pub active: bool,
    pub version: i32,
}

#[derive(FromQueryResult)]
struct ItemRow {
    id: Uuid,
    community_id: Uuid,
    community_name: String,
    name: String,
    description: String,
    price: i64,
    stock: i64,
    active: bool,
    version: i32,
}

const ITEM_SELECT: &str = "SELECT i.id, i.community_id, a.name AS community_name, i.name, i.description, i.price, i.stock, i.active, i.version \
    FROM catalog_items i JOIN areas a ON a.id = i.community_id";

fn item_view(r: ItemRow) -> CatalogItem {
    CatalogItem {
        id: r.id,
        community_id: r.community_id,
        community_name: r.community_name,
        name: r.name,
        description: r.description,
        price: r.price,
        stock: r.stock,
        active: r.active,
        version: r.version,
    }
}

/// The catalogue of the area (workers), or of the volunteer's own community (a volunteer).
#[tracing::instrument(name = "service::ledger::list_catalog", skip_all)]
pub async fn list_catalog(
    db: &Db,
    ctx: &Ctx,
    area_id: Option<Uuid>,
) -> AppResult<Vec<CatalogItem>> {
    let rows: Vec<ItemRow> = if !scope::holds_any(ctx, Permission::ReadService) {
        let me = super::me(db, ctx).await?;
        store::fetch_all(db, &format!("{ITEM_SELECT} WHERE i.community_id = $1 AND i.active = TRUE ORDER BY i.price, i.name"), vec![me.community_id.into()]).await?
    } else {
        let (cond, values) = super::area_filter(
            db,
            ctx,
            Permission::ReadService,
            area_id,
            "i.community_id",
            1,
        )
        .await?;
        store::fetch_all(
            db,
            &format!("{ITEM_SELECT} WHERE {cond} ORDER BY a.name, i.price, i.name LIMIT 500"),
            values,
        )
        .await?
    };
    Ok(rows.into_iter().map(item_view).collect())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewItem {
    pub community_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub price: i64,
    pub stock: i64,
}

fn stock_field(s: i64) -> AppResult<i64> {
    if (0..=1_000_000).contains(&s) {
        Ok(s)
    } else {
        Err(AppError::field(
            "stock",
            Msg::new(
                "库存应为 0–1000000 的整数",
                "Stock is a whole number from 0 to 1,000,000",
            ),
        ))
    }
}

#[tracing::instrument(name = "service::ledger::create_item", skip_all)]
pub async fn create_item(db: &Db, ctx: &Ctx, n: NewItem) -> AppResult<CatalogItem> {
    let checked =
        scope::require_permission(db, ctx, Permission::ManageService, n.community_id).await?;
    super::require_community(db, n.community_id).await?;
    let name = crate::domain::clean_name(&n.name, 100).map_err(|m| AppError::field("name", m))?;
    let description = super::text_field(
        "description",
        n.description.as_deref().unwrap_or(""),
        500,
        false,
    )?;
    let price = amount_field("price", n.price)?;
    let stock = stock_field(n.stock)?;
    let id = new_id();
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "INSERT INTO catalog_items (id, community_id, name, description, price, stock, active, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, TRUE, 1, $7, $7)",
        vec![id.into(), n.community_id.into(), name.into(), description.into(), price.into(), stock.into(), now.into()],
    )
    .await?;
    audit::record(
        &tx,
        Entry::by(
            ctx,
            &checked,
            "create",
            "catalog_item",
            Some(id.to_string()),
        )
        .area(Some(n.community_id)),
    )
    .await?;
    tx.commit().await?;
    item(db, id).await
}

async fn item<C: ConnectionTrait>(c: &C, id: Uuid) -> AppResult<CatalogItem> {
    store::fetch_opt::<ItemRow, _>(
        c,
        &format!("{ITEM_SELECT} WHERE i.id = $1"),
        vec![id.into()],
    )
    .await?
    .map(item_view)
    .ok_or(AppError::NotFound)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ItemPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub price: Option<i64>,
    pub stock: Option<i64>,
    pub active: Option<bool>,
    pub version: i32,
}

#[tracing::instrument(name = "service::ledger::update_item", skip_all)]
pub async fn update_item(db: &Db, ctx: &Ctx, id: Uuid, p: ItemPatch) -> AppResult<CatalogItem> {
    let cur = item(db, id).await?;
    let checked =
        scope::require_permission(db, ctx, Permission::ManageService, cur.community_id).await?;
    let name = match &p.name {
        Some(n) => crate::domain::clean_name(n, 100).map_err(|m| AppError::field("name", m))?,
        None => cur.name.clone(),
    };
    let description = match &p.description {
        Some(d) => super::text_field("description", d, 500, false)?,
        None => cur.description.clone(),
    };
    let price = p
        .price
        .map(|x| amount_field("price", x))
        .transpose()?
        .unwrap_or(cur.price);
    let stock = p.stock.map(stock_field).transpose()?.unwrap_or(cur.stock);
    let tx = store::write_tx(db).await?;
    let n = store::exec(
        &tx,
        "UPDATE catalog_items SET name = $1, description = $2, price = $3, stock = $4, active = $5, version = version + 1, updated_at = $6 \
         WHERE id = $7 AND version = $8",
        vec![name.into(), description.into(), price.into(), stock.into(), p.active.unwrap_or(cur.active).into(), now_ms().into(), id.into(), p.version.into()],
    )
    .await?;
    if n == 0 {
        return Err(AppError::stale_version());
    }
    audit::record(
        &tx,
        Entry::by(
            ctx,
            &checked,
            "update",
            "catalog_item",
            Some(id.to_string()),
        )
        .area(Some(cur.community_id)),
    )
    .await?;
    tx.commit().await?;
    item(db, id).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RedeemInput {
    /// The account to charge (a worker at the counter); omitted: the signed-in volunteer's own.
    pub account_id: Option<Uuid>,
    /// How many, 1–100.
    pub qty: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Redemption {
    pub id: Uuid,
    pub item_id: Uuid,
    pub item_name: String,
    pub account_id: Uuid,
    pub owner_name: String,
    pub community_name: String,
    pub qty: i64,
    pub points: i64,
    pub at: String,
    pub actor_name: String,
    /// The balance after the redemption (in a redemption's answer).
    pub balance: Option<i64>,
    pub stock: Option<i64>,
}
page_of!(RedemptionPage, Redemption);

#[derive(FromQueryResult)]
struct RedemptionRow {
    id: Uuid,
    item_id: Uuid,
    item_name: String,
    account_id: Uuid,
    owner_name: String,
    community_name: String,
    qty: i32,
    points: i64,
    at: i64,
    actor_name: String,
}

const REDEMPTION_SELECT: &str = "SELECT r.id, r.item_id, i.name AS item_name, r.account_id, COALESCE(p.name, pa.name, '') AS owner_name, \
    a.name AS community_name, r.qty, r.points, r.at, r.actor_name FROM redemptions r JOIN catalog_items i ON i.id = r.item_id \
    JOIN point_accounts pa ON pa.id = r.account_id JOIN areas a ON a.id = r.community_id \
    LEFT JOIN volunteers v ON v.id = pa.volunteer_id LEFT JOIN persons p ON p.street_id = v.street_id AND p.id = v.person_id";

fn redemption_view(r: RedemptionRow) -> Redemption {
    Redemption {
        id: r.id,
        item_id: r.item_id,
        item_name: r.item_name,
        account_id: r.account_id,
        owner_name: r.owner_name,
        community_name: r.community_name,
        qty: i64::from(r.qty),
        points: r.points,
        at: ms_to_rfc3339(r.at),
        actor_name: r.actor_name,
        balance: None,
        stock: None,
    }
}

/// Stock and balance fall together (inside the caller's transaction), or the call fails and the
/// transaction is dropped. Returns the redemption's id and its cost.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(name = "service::ledger::redeem_in", skip_all)]
pub async fn redeem_in<C: ConnectionTrait>(
    tx: &C,
    actor: &Actor,
    item_id: Uuid,
    price: i64,
    item_name: &str,
    community_id: Uuid,
    account_id: Uuid,
    qty: i64,
    now: i64,
) -> AppResult<(Uuid, i64)> {
    let cost = price
        .checked_mul(qty)
        .ok_or_else(|| refusal(Refusal::BadAmount))?;
    let n = store::exec(
        tx,
        "UPDATE catalog_items SET stock = stock - $1, updated_at = $2 WHERE id = $3 AND active = TRUE AND stock >= $1",
        vec![qty.into(), now.into(), item_id.into()],
    )
    .await?;
    if n == 0 {
        let stock = store::fetch_i64(
            tx,
            "SELECT stock FROM catalog_items WHERE id = $1",
            vec![item_id.into()],
        )
        .await?;
        return Err(refusal(Refusal::NotEnoughStock { stock }));
    }
    let rid = new_id();
    let pid = post(
        tx,
        actor,
        NewPosting {
            source_id: Some(rid.to_string()),
            note: Some(format!("{item_name} × {qty}")),
            ..NewPosting::new(account_id, -cost, Kind::Redeem, "redemption")
        },
        now,
    )
    .await?;
    store::exec(
        tx,
        "INSERT INTO redemptions (id, item_id, account_id, community_id, qty, points, posting_id, actor_name, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        vec![rid.into(), item_id.into(), account_id.into(), community_id.into(), (qty as i32).into(), cost.into(), pid.into(), actor.name.clone().into(), now.into()],
    )
    .await?;
    Ok((rid, cost))
}

/// Redeems an item: stock and balance fall in one transaction, or neither. The item must be of
/// the account's community; the last item goes to exactly one of two people redeeming it.
#[tracing::instrument(name = "service::ledger::redeem", skip_all)]
pub async fn redeem(
    state: &AppState,
    ctx: &Ctx,
    item_id: Uuid,
    r: RedeemInput,
) -> AppResult<Redemption> {
    let db = &state.db;
    let tx = store::write_tx(db).await?;
    let it: ItemRow = store::fetch_opt(
        &tx,
        &format!("{ITEM_SELECT} WHERE i.id = $1"),
        vec![item_id.into()],
    )
    .await?
    .ok_or(AppError::NotFound)?;
    let (account, checked) = match r.account_id {
        Some(a) => {
            scope::require_permission(&tx, ctx, Permission::ManageService, it.community_id).await?;
            let acc = account_row(&tx, a).await?;
            let checked =
                scope::require_permission(&tx, ctx, Permission::ManageService, acc.community_id)
                    .await?;
            (acc, checked)
        }
        None => {
            let me = super::me(&tx, ctx).await?;
            if me.community_id != it.community_id
                && !scope::can_see(&tx, ctx, it.community_id).await?
            {
                // An item the volunteer cannot see at all is not found.
                return Err(AppError::NotFound);
            }
            (account_row(&tx, me.account_id).await?, scope::own(ctx))
        }
    };
    if !(1..=100).contains(&r.qty) {
        return Err(AppError::field(
            "qty",
            Msg::new(
                "数量应为 1–100 的整数",
                "The quantity is a whole number from 1 to 100",
            ),
        ));
    }
    if account.community_id != it.community_id {
        return Err(AppError::Rule {
            code: "catalog.other_community",
            msg: Msg::owned(
                format!("这件物品属于{}的爱心超市，只能用本社区的积分兑换", it.community_name),
                format!("This item belongs to the catalogue of {}; it is redeemed with points of that community only", it.community_name),
            ),
        });
    }
    if !it.active {
        return Err(AppError::Rule {
            code: "catalog.inactive",
            msg: Msg::new("这件物品已下架", "This item is no longer offered"),
        });
    }
    let actor = Actor::of(ctx);
    let (rid, cost) = redeem_in(
        &tx,
        &actor,
        item_id,
        it.price,
        &it.name,
        it.community_id,
        account.id,
        r.qty,
        now_ms(),
    )
    .await?;
    audit::record(
        &tx,
        Entry::by(
            ctx,
            &checked,
            "redeem",
            "catalog_item",
            Some(item_id.to_string()),
        )
        .area(Some(it.community_id))
        .detail(format!(
            "account={} qty={} points={cost}",
            account.id, r.qty
        )),
    )
    .await?;
    let row: RedemptionRow = store::fetch_opt(
        &tx,
        &format!("{REDEMPTION_SELECT} WHERE r.id = $1"),
        vec![rid.into()],
    )
    .await?
    .ok_or(AppError::NotFound)?;
    let balance = store::fetch_i64(
        &tx,
        "SELECT balance FROM point_accounts WHERE id = $1",
        vec![account.id.into()],
    )
    .await?;
    let stock = store::fetch_i64(
        &tx,
        "SELECT stock FROM catalog_items WHERE id = $1",
        vec![item_id.into()],
    )
    .await?;
    tx.commit().await?;
    Ok(Redemption {
        balance: Some(balance),
        stock: Some(stock),
        ..redemption_view(row)
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RedemptionQuery {
    pub area_id: Option<Uuid>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

#[tracing::instrument(name = "service::ledger::list_redemptions", skip_all)]
pub async fn list_redemptions(
    db: &Db,
    ctx: &Ctx,
    q: &RedemptionQuery,
) -> AppResult<RedemptionPage> {
    let (cond, values) = super::area_filter(
        db,
        ctx,
        Permission::ReadService,
        q.area_id,
        "r.community_id",
        1,
    )
    .await?;
    let paging = store::Paging::new(q.page, q.page_size);
    let (rows, total) = store::page::<RedemptionRow, _>(
        db,
        &format!("SELECT COUNT(*) FROM redemptions r WHERE {cond}"),
        &format!("{REDEMPTION_SELECT} WHERE {cond} ORDER BY r.at DESC, r.id DESC"),
        values,
        paging,
    )
    .await?;
    Ok(RedemptionPage {
        items: rows.into_iter().map(redemption_view).collect(),
        total,
        page: paging.page,
        page_size: paging.size,
    })
}

/// Checks the ledger's invariants over the whole database (tests and `gongzhi bench-points`):
/// accounts whose balance differs from the sum of their postings, negative balances, negative
/// stock. Returns the number of violations of each.
#[tracing::instrument(name = "service::ledger::verify", skip_all)]
pub async fn verify<C: ConnectionTrait + TransactionTrait>(c: &C) -> AppResult<(i64, i64, i64)> {
    let mismatched = store::fetch_i64(
        c,
        "SELECT COUNT(*) FROM point_accounts pa WHERE pa.balance <> COALESCE((SELECT SUM(pp.amount) FROM point_postings pp WHERE pp.account_id = pa.id), 0)",
        vec![],
    )
    .await?;
    let negative = store::fetch_i64(
        c,
        "SELECT COUNT(*) FROM point_accounts WHERE balance < 0",
        vec![],
    )
    .await?;
    let stock = store::fetch_i64(
        c,
        "SELECT COUNT(*) FROM catalog_items WHERE stock < 0",
        vec![],
    )
    .await?;
    Ok((mismatched, negative, stock))
}
