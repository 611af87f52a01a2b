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
use crate::app::audit::Entry;
use crate::app::{scope, AppState};
use crate::domain::points::{capped, Event, Kind, Period, Refusal, MAX_AMOUNT};
use crate::domain::role::Permission;
use crate::domain::{ms_to_rfc3339, new_id, now_ms};
use crate::error::{AppError, AppResult, Msg};
use crate::store::{self, Db};

mod catalogue;
mod rules;
pub use catalogue::*;
pub use rules::*;

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
        let balance = store::fetch_found::<Bal, _>(
            c,
            "SELECT balance FROM point_accounts WHERE id = $1",
            vec![p.account_id.into()],
        )
        .await?
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
    Ok(AccountPage::new(
        rows.into_iter().map(account_view).collect(),
        total,
        paging,
    ))
}

async fn account_row<C: ConnectionTrait>(c: &C, id: Uuid) -> AppResult<AccountRow> {
    store::fetch_found(
        c,
        &format!("{ACCOUNT_COLS} {ACCOUNT_FROM} WHERE pa.id = $1"),
        vec![id.into()],
    )
    .await
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
    Ok(PostingPage::new(
        rows.into_iter().map(|r| posting_view(r, en)).collect(),
        total,
        paging,
    ))
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
    Entry::by(ctx, &checked, kind.as_str(), "point_posting", id)
        .area(acc.community_id)
        .detail(format!("account={} amount={signed}", acc.id))
        .record(&tx)
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
    let r: PostingRow = store::fetch_found(
        c,
        "SELECT pp.id, pp.account_id, pp.amount, pp.kind, pp.event, pp.note, pp.source_kind, pp.source_id, pp.reverses_id, \
         (SELECT COUNT(*) FROM point_postings r WHERE r.reverses_id = pp.id) AS reversed, pp.actor_name, pp.at \
         FROM point_postings pp WHERE pp.id = $1",
        vec![id.into()],
    )
    .await?;
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
    let p: P = store::fetch_found(
        &tx,
        "SELECT pp.account_id, pp.amount, pp.kind, pa.area_id AS community_id FROM point_postings pp \
         JOIN point_accounts pa ON pa.id = pp.account_id WHERE pp.id = $1",
        vec![posting_id.into()],
    )
    .await?;
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
    Entry::by(ctx, &checked, "reverse", "point_posting", posting_id)
        .area(p.community_id)
        .record(&tx)
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
    Entry::by(ctx, &checked, "donate", "point_account", from.id)
        .area(from.community_id)
        .detail(format!("to={} amount={amount}", to.id))
        .record(&tx)
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
