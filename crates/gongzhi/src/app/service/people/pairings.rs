//! Pairings (结对): a party member or unit paired with households that need them.
use super::*;

// ------------------------------------------------------------------------------- pairings

#[derive(Debug, Serialize, ToSchema, FromQueryResult)]
pub struct Pairing {
    pub org_id: Uuid,
    pub org_name: String,
    pub community_id: Uuid,
    pub community_name: String,
    pub since: String,
}

#[tracing::instrument(name = "service::people::list_pairings", skip_all)]
pub async fn list_pairings(db: &Db, ctx: &Ctx, area_id: Option<Uuid>) -> AppResult<Vec<Pairing>> {
    let (cond, values) = super::super::area_filter(
        db,
        ctx,
        Permission::ReadService,
        area_id,
        "bp.community_id",
        1,
    )
    .await?;
    Ok(store::fetch_all(
        db,
        &format!(
            "SELECT bp.org_id, o.name AS org_name, bp.community_id, a.name AS community_name, bp.since FROM branch_pairings bp \
             JOIN party_orgs o ON o.id = bp.org_id JOIN areas a ON a.id = bp.community_id WHERE {cond} ORDER BY a.name"
        ),
        values,
    )
    .await?)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PairingInput {
    pub org_id: Uuid,
    pub community_id: Uuid,
    pub since: Option<String>,
}

/// Pairs a branch with one community point (replacing the branch's earlier pairing). A community
/// already paired with another branch is refused.
#[tracing::instrument(name = "service::people::put_pairing", skip_all)]
pub async fn put_pairing(db: &Db, ctx: &Ctx, p: PairingInput) -> AppResult<Pairing> {
    let since = match p.since.as_deref() {
        Some(s) => date_field("since", s)?,
        None => today(),
    };
    let tx = store::write_tx(db).await?;
    super::super::require_community(&tx, p.community_id).await?;
    let checked =
        scope::require_permission(&tx, ctx, Permission::ManageService, p.community_id).await?;
    org_kind(&tx, ctx, p.org_id, "org_id").await?;
    store::exec(
        &tx,
        "DELETE FROM branch_pairings WHERE org_id = $1",
        vec![p.org_id.into()],
    )
    .await?;
    let r = store::exec(
        &tx,
        "INSERT INTO branch_pairings (org_id, community_id, since, created_at) VALUES ($1, $2, $3, $4)",
        vec![p.org_id.into(), p.community_id.into(), since.into(), now_ms().into()],
    )
    .await;
    if let Err(e) = r {
        if crate::error::is_unique_violation(&e) {
            return Err(AppError::conflict_on(
                "community_id",
                Msg::new(
                    "这个社区已与另一个支部结对",
                    "This community is paired with another branch already",
                ),
            ));
        }
        return Err(e.into());
    }
    Entry::by(ctx, &checked, "pair", "party_org", p.org_id)
        .area(p.community_id)
        .record(&tx)
        .await?;
    tx.commit().await?;
    list_pairings(db, ctx, Some(p.community_id))
        .await?
        .into_iter()
        .find(|x| x.org_id == p.org_id)
        .ok_or(AppError::NotFound)
}
