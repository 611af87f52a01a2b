//! The case categories a street opens to the public (公开类别): requests about public space —
//! street lights, roads, litter — that anyone may follow without a key, as GeoReport v2 clients
//! expect of `GET /requests`. Only these are listed without a key, and only with what a notice
//! board could show: the category, the state, the unit, the times and the grid; never the
//! description, the requester, the exact place or photos.
use sea_orm::FromQueryResult;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::audit::Entry;
use crate::app::{scope, Ctx};
use crate::domain::now_ms;
use crate::domain::role::Permission;
use crate::error::{AppError, AppResult, Msg};
use crate::store::{self, Db};

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicCategory {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicCategories {
    pub street_id: Uuid,
    /// The codes the street opened (a top-level code opens its second-level categories).
    pub codes: Vec<String>,
    pub categories: Vec<PublicCategory>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPublicCategories {
    /// Category codes, e.g. `["01", "0301"]`; an empty list closes them all.
    pub codes: Vec<String>,
}

async fn street_of<C: sea_orm::ConnectionTrait>(c: &C, id: Uuid) -> AppResult<()> {
    let n = store::fetch_i64(
        c,
        "SELECT COUNT(*) FROM areas WHERE id = $1 AND kind = 'street'",
        vec![id.into()],
    )
    .await?;
    if n == 0 {
        return Err(AppError::field(
            "street_id",
            Msg::new("请选择一个街道", "Choose a street"),
        ));
    }
    Ok(())
}

#[tracing::instrument(name = "cases::public::get", skip_all)]
pub async fn get(db: &Db, ctx: &Ctx, street: Uuid) -> AppResult<PublicCategories> {
    scope::require_permission(db, ctx, Permission::ReadCases, street).await?;
    street_of(db, street).await?;
    read(db, street).await
}

async fn read<C: sea_orm::ConnectionTrait>(c: &C, street: Uuid) -> AppResult<PublicCategories> {
    #[derive(FromQueryResult)]
    struct R {
        code: String,
        name: Option<String>,
    }
    let rows: Vec<R> = store::fetch_all(
        c,
        "SELECT p.category_code AS code, (SELECT name FROM case_categories k WHERE k.code = p.category_code) AS name \
         FROM public_case_categories p WHERE p.street_id = $1 ORDER BY p.category_code",
        vec![street.into()],
    )
    .await?;
    Ok(PublicCategories {
        street_id: street,
        codes: rows.iter().map(|r| r.code.clone()).collect(),
        categories: rows
            .into_iter()
            .map(|r| PublicCategory {
                name: r.name.unwrap_or_default(),
                code: r.code,
            })
            .collect(),
    })
}

/// Replaces the street's public categories (`edit_areas` on the street: its administrator).
#[tracing::instrument(name = "cases::public::set", skip_all)]
pub async fn set(
    db: &Db,
    ctx: &Ctx,
    street: Uuid,
    s: SetPublicCategories,
) -> AppResult<PublicCategories> {
    let checked = scope::require_permission(db, ctx, Permission::EditAreas, street).await?;
    street_of(db, street).await?;
    let mut codes: Vec<String> = s.codes.iter().map(|c| c.trim().to_string()).collect();
    codes.sort();
    codes.dedup();
    if codes.len() > 200 {
        return Err(AppError::field(
            "codes",
            Msg::new("最多 200 个类别", "At most 200 categories"),
        ));
    }
    let mut unknown = vec![];
    for c in &codes {
        let n = store::fetch_i64(
            db,
            "SELECT COUNT(*) FROM case_categories WHERE code = $1 AND active = TRUE",
            vec![c.clone().into()],
        )
        .await?;
        if n == 0 {
            unknown.push(c.clone());
        }
    }
    if !unknown.is_empty() {
        return Err(AppError::field(
            "codes",
            Msg::owned(
                format!("没有这些类别：{}", unknown.join("、")),
                format!("No such categories: {}", unknown.join(", ")),
            ),
        ));
    }
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "DELETE FROM public_case_categories WHERE street_id = $1",
        vec![street.into()],
    )
    .await?;
    let now = now_ms();
    for c in &codes {
        store::exec(
            &tx,
            "INSERT INTO public_case_categories (street_id, category_code, created_at, created_by) VALUES ($1, $2, $3, $4)",
            vec![street.into(), c.clone().into(), now.into(), ctx.principal.display_name.clone().into()],
        )
        .await?;
    }
    Entry::by(ctx, &checked, "case.public_categories", "area", street)
        .area(street)
        .detail(codes.join(","))
        .record(&tx)
        .await?;
    let out = read(&tx, street).await?;
    tx.commit().await?;
    Ok(out)
}

/// The SQL condition (on `cases`) of a case in a category its street opened.
pub const PUBLIC_CASE: &str = "EXISTS (SELECT 1 FROM public_case_categories p WHERE p.street_id = cases.street_id \
     AND (p.category_code = cases.category_code OR p.category_code = SUBSTR(cases.category_code, 1, 2)))";
