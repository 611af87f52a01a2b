//! Service hours: a volunteer's ledger of confirmed hours and its corrections.
use super::*;

// ------------------------------------------------------------------------------ service hours

#[derive(Debug, Serialize, ToSchema)]
pub struct HoursEntry {
    pub id: Uuid,
    pub activity_id: Option<Uuid>,
    pub activity_title: Option<String>,
    pub day: String,
    pub minutes: i64,
    pub hours: f64,
    /// `service` or `correction`.
    pub kind: String,
    pub reason: Option<String>,
    pub created_by_name: String,
    pub created_at: String,
}

#[derive(FromQueryResult)]
pub(super) struct HoursRow {
    id: Uuid,
    activity_id: Option<Uuid>,
    activity_title: Option<String>,
    day: String,
    minutes: i32,
    kind: String,
    reason: Option<String>,
    created_by_name: String,
    created_at: i64,
}

#[tracing::instrument(name = "service::activities::hours_of", skip_all)]
pub async fn hours_of<C: ConnectionTrait>(
    c: &C,
    vol: Uuid,
    limit: i64,
) -> AppResult<Vec<HoursEntry>> {
    let rows: Vec<HoursRow> = store::fetch_all(
        c,
        "SELECT h.id, h.activity_id, t.title AS activity_title, h.day, h.minutes, h.kind, h.reason, h.created_by_name, h.created_at \
         FROM service_hours h LEFT JOIN activities t ON t.id = h.activity_id WHERE h.volunteer_id = $1 ORDER BY h.day DESC, h.created_at DESC LIMIT $2",
        vec![vol.into(), limit.into()],
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| HoursEntry {
            id: r.id,
            activity_id: r.activity_id,
            activity_title: r.activity_title,
            day: r.day,
            minutes: i64::from(r.minutes),
            hours: hours(i64::from(r.minutes)),
            kind: r.kind,
            reason: r.reason,
            created_by_name: r.created_by_name,
            created_at: ms_to_rfc3339(r.created_at),
        })
        .collect())
}

#[tracing::instrument(name = "service::activities::list_hours", skip_all)]
pub async fn list_hours(db: &Db, ctx: &Ctx, vol: Uuid) -> AppResult<Vec<HoursEntry>> {
    super::super::volunteer_for(db, ctx, Permission::ReadService, vol).await?;
    hours_of(db, vol, 500).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Correction {
    /// Whole minutes to add (positive) or take away (negative), at most a day either way.
    pub minutes: i64,
    pub reason: String,
    pub activity_id: Option<Uuid>,
    /// The day it concerns (`YYYY-MM-DD`); today when omitted.
    pub day: Option<String>,
}

/// A correction is a new entry, never an edit; verified hours never go below zero.
#[tracing::instrument(name = "service::activities::correct", skip_all)]
pub async fn correct(db: &Db, ctx: &Ctx, vol: Uuid, k: Correction) -> AppResult<Vec<HoursEntry>> {
    super::super::volunteer_for(db, ctx, Permission::ManageService, vol).await?;
    if k.minutes == 0 || k.minutes.abs() > 24 * 60 {
        return Err(AppError::field(
            "minutes",
            Msg::new(
                "更正的分钟数应为非零整数，且不超过 1440",
                "Minutes: a non-zero whole number, at most 1,440 either way",
            ),
        ));
    }
    let reason = text_field("reason", &k.reason, 200, true)?;
    let day = match k.day.as_deref() {
        Some(d) => super::super::date_field("day", d)?,
        None => super::super::today(),
    };
    let tx = store::write_tx(db).await?;
    let v = super::super::volunteer_for(&tx, ctx, Permission::ManageService, vol).await?;
    if let Some(a) = k.activity_id {
        activity_row(&tx, a).await.map_err(|e| match e {
            AppError::NotFound => {
                AppError::field("activity_id", Msg::new("没有这个活动", "No such activity"))
            }
            other => other,
        })?;
    }
    let now = now_ms();
    let n = store::exec(
        &tx,
        "UPDATE volunteers SET verified_minutes = verified_minutes + $1, updated_at = $2 WHERE id = $3 AND verified_minutes + $1 >= 0",
        vec![k.minutes.into(), now.into(), vol.into()],
    )
    .await?;
    if n == 0 {
        return Err(AppError::Rule {
            code: "hours.below_zero",
            msg: Msg::new(
                "更正后累计时长不能小于 0",
                "The correction would take the total below zero",
            ),
        });
    }
    store::insert_many(
        &tx,
        "service_hours",
        HOURS_COLUMNS,
        vec![vec![
            new_id().into(),
            vol.into(),
            k.activity_id.into(),
            day.into(),
            (k.minutes as i32).into(),
            "correction".into(),
            Some(reason).into(),
            ctx.principal.actor_id().into(),
            ctx.principal.display_name.clone().into(),
            now.into(),
        ]],
    )
    .await?;
    Entry::by(ctx, &v.checked, "correct", "service_hours", vol)
        .area(v.community_id)
        .detail(format!("minutes={}", k.minutes))
        .record(&tx)
        .await?;
    tx.commit().await?;
    hours_of(db, vol, 500).await
}
