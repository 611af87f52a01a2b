//! Rows the schema itself needs, written by the migrations that create their tables: the shipped
//! working-day calendar years and the name-search rows of a person. They live here, below `app`,
//! so that `store` never imports `app` (the services use the same row shapes from here).
use sea_orm::{ConnectionTrait, Value};
use uuid::Uuid;

use crate::domain::calendar as cal;
use crate::domain::now_ms;

/// Writes the shipped calendar years (migration m0007 calls this once).
pub async fn calendar_years<C: ConnectionTrait>(c: &C) -> Result<(), sea_orm::DbErr> {
    let now = now_ms();
    for y in cal::SHIPPED_YEARS {
        super::exec(
            c,
            "INSERT INTO calendar_years (year, updated_at, updated_by) VALUES ($1, $2, 'gongzhi')",
            vec![y.into(), now.into()],
        )
        .await?;
    }
    for (day, kind, name) in cal::SHIPPED {
        let year: i32 = day[..4].parse().unwrap_or(0);
        super::exec(
            c,
            "INSERT INTO calendar_days (day, year, kind, name) VALUES ($1, $2, $3, $4)",
            vec![
                day.to_string().into(),
                year.into(),
                kind.as_str().into(),
                name.to_string().into(),
            ],
        )
        .await?;
    }
    Ok(())
}

/// The columns of [`gram_rows`] in `person_name_grams`.
pub const GRAM_COLUMNS: &[&str] = &["gram", "person_id", "street_id", "community_id"];

/// The name-search rows of one person (domain/search.rs).
pub fn gram_rows(id: Uuid, street_id: Uuid, community_id: Uuid, name: &str) -> Vec<Vec<Value>> {
    crate::domain::search::name_grams(name)
        .into_iter()
        .map(|g| vec![g.into(), id.into(), street_id.into(), community_id.into()])
        .collect()
}
