//! The redemption catalogue (积分兑换): items, stock and redeeming points for them.
use super::*;

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
pub(super) struct ItemRow {
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

pub(super) const ITEM_SELECT: &str = "SELECT i.id, i.community_id, a.name AS community_name, i.name, i.description, i.price, i.stock, i.active, i.version \
    FROM catalog_items i JOIN areas a ON a.id = i.community_id";

pub(super) fn item_view(r: ItemRow) -> CatalogItem {
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
        let me = super::super::me(db, ctx).await?;
        store::fetch_all(db, &format!("{ITEM_SELECT} WHERE i.community_id = $1 AND i.active = TRUE ORDER BY i.price, i.name"), vec![me.community_id.into()]).await?
    } else {
        let (cond, values) = super::super::area_filter(
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

pub(super) fn stock_field(s: i64) -> AppResult<i64> {
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
    super::super::require_community(db, n.community_id).await?;
    let name = crate::domain::clean_name(&n.name, 100).map_err(|m| AppError::field("name", m))?;
    let description = super::super::text_field(
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
    Entry::by(ctx, &checked, "create", "catalog_item", id)
        .area(n.community_id)
        .record(&tx)
        .await?;
    tx.commit().await?;
    item(db, id).await
}

pub(super) async fn item<C: ConnectionTrait>(c: &C, id: Uuid) -> AppResult<CatalogItem> {
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
        Some(d) => super::super::text_field("description", d, 500, false)?,
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
    AppError::stale_unless_changed(n)?;
    Entry::by(ctx, &checked, "update", "catalog_item", id)
        .area(cur.community_id)
        .record(&tx)
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
pub(super) struct RedemptionRow {
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

pub(super) const REDEMPTION_SELECT: &str = "SELECT r.id, r.item_id, i.name AS item_name, r.account_id, COALESCE(p.name, pa.name, '') AS owner_name, \
    a.name AS community_name, r.qty, r.points, r.at, r.actor_name FROM redemptions r JOIN catalog_items i ON i.id = r.item_id \
    JOIN point_accounts pa ON pa.id = r.account_id JOIN areas a ON a.id = r.community_id \
    LEFT JOIN volunteers v ON v.id = pa.volunteer_id LEFT JOIN persons p ON p.street_id = v.street_id AND p.id = v.person_id";

pub(super) fn redemption_view(r: RedemptionRow) -> Redemption {
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
    let it: ItemRow = store::fetch_found(
        &tx,
        &format!("{ITEM_SELECT} WHERE i.id = $1"),
        vec![item_id.into()],
    )
    .await?;
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
            let me = super::super::me(&tx, ctx).await?;
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
    Entry::by(ctx, &checked, "redeem", "catalog_item", item_id)
        .area(it.community_id)
        .detail(format!(
            "account={} qty={} points={cost}",
            account.id, r.qty
        ))
        .record(&tx)
        .await?;
    let row: RedemptionRow = store::fetch_found(
        &tx,
        &format!("{REDEMPTION_SELECT} WHERE r.id = $1"),
        vec![rid.into()],
    )
    .await?;
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
    let (cond, values) = super::super::area_filter(
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
    Ok(RedemptionPage::new(
        rows.into_iter().map(redemption_view).collect(),
        total,
        paging,
    ))
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
