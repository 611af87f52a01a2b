//! The volunteer's phone page: their hours, points, activities and certificates in one read.
use super::*;

// ------------------------------------------------------------------- the volunteer's phone page

#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    pub volunteer: Volunteer,
    /// Hours still needed for the next star; null at five stars.
    pub next_star_hours: Option<f64>,
    /// Hours signed up for in this ISO week (Asia/Shanghai).
    pub week_hours: f64,
    pub upcoming: Vec<super::super::activities::Activity>,
    pub open: Vec<super::super::activities::Activity>,
    pub certificates: Vec<super::super::units::Certificate>,
    pub recent_postings: Vec<ledger::PostingView>,
}

#[tracing::instrument(name = "service::people::me_view", skip_all)]
pub async fn me_view(state: &AppState, ctx: &Ctx) -> AppResult<MeView> {
    let db = &state.db;
    let me = super::super::me(db, ctx).await?;
    let volunteer = volunteer_view(db, state, me.id).await?;
    let (upcoming, open) = super::super::activities::mine(db, ctx, &me).await?;
    let now = now_ms();
    let week = crate::domain::calendar::local_date(now).to_iso_week_date();
    #[derive(FromQueryResult)]
    struct S {
        starts_at: i64,
        ends_at: i64,
    }
    let shifts: Vec<S> = store::fetch_all(
        db,
        "SELECT starts_at, ends_at FROM activity_signups WHERE volunteer_id = $1 AND status = 'signed' AND starts_at >= $2 AND starts_at < $3",
        vec![me.id.into(), (now - 8 * 86_400_000).into(), (now + 8 * 86_400_000).into()],
    )
    .await?;
    let week_minutes: i64 = shifts
        .iter()
        .filter(|s| {
            let w = crate::domain::calendar::local_date(s.starts_at).to_iso_week_date();
            (w.0, w.1) == (week.0, week.1)
        })
        .map(|s| (s.ends_at - s.starts_at) / 60_000)
        .sum();
    let postings = ledger::postings_of(
        db,
        ctx,
        me.account_id,
        &ledger::PageParams {
            page: Some(1),
            page_size: Some(10),
        },
    )
    .await?;
    Ok(MeView {
        next_star_hours: crate::domain::points::next_star_hours(
            me.verified_minutes as f64 / 60.0,
            &state.settings.service.star_hours,
        )
        .map(|h| (h * 10.0).ceil() / 10.0),
        week_hours: hours(week_minutes),
        volunteer,
        upcoming,
        open,
        certificates: super::super::units::mine(db, me.id).await?,
        recent_postings: postings.items,
    })
}

#[tracing::instrument(name = "service::people::my_postings", skip_all)]
pub async fn my_postings(
    state: &AppState,
    ctx: &Ctx,
    page: &ledger::PageParams,
) -> AppResult<ledger::PostingPage> {
    let me = super::super::me(&state.db, ctx).await?;
    ledger::postings_of(&state.db, ctx, me.account_id, page).await
}
