//! Signing up for an activity: by the volunteer, or assigned by the organiser; insurance.
use super::*;

// ---------------------------------------------------------------------------------- sign-ups

#[derive(Debug, Serialize, ToSchema)]
pub struct Signup {
    pub volunteer_id: Uuid,
    pub name: String,
    pub mobile_masked: Option<String>,
    /// `self` or `assigned`.
    pub via: String,
    /// `signed` or `cancelled`.
    pub status: String,
    pub insurer: Option<String>,
    pub policy_no: Option<String>,
    pub insured: bool,
    pub checkin_at: Option<String>,
    pub checkout_at: Option<String>,
    pub minutes: Option<i32>,
}

#[derive(FromQueryResult)]
pub(super) struct SignupRow {
    volunteer_id: Uuid,
    name: String,
    mobile_masked: Option<String>,
    via: String,
    status: String,
    insurer: Option<String>,
    policy_no: Option<String>,
    checkin_at: Option<i64>,
    checkout_at: Option<i64>,
    minutes: Option<i32>,
}

#[tracing::instrument(name = "service::activities::signups", skip_all)]
pub async fn signups(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<Vec<Signup>> {
    let r = activity_row(db, id).await?;
    scope::require_permission(db, ctx, Permission::ReadService, r.area_id).await?;
    let rows: Vec<SignupRow> = store::fetch_all(
        db,
        "SELECT s.volunteer_id, p.name, p.mobile_masked, s.via, s.status, s.insurer, s.policy_no, s.checkin_at, \
         s.checkout_at, s.minutes FROM activity_signups s JOIN volunteers v ON v.id = s.volunteer_id \
         JOIN persons p ON p.street_id = v.street_id AND p.id = v.person_id WHERE s.activity_id = $1 ORDER BY s.status DESC, p.name LIMIT 20000",
        vec![id.into()],
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|s| Signup {
            insured: s.policy_no.is_some(),
            checkin_at: s.checkin_at.map(ms_to_rfc3339),
            checkout_at: s.checkout_at.map(ms_to_rfc3339),
            volunteer_id: s.volunteer_id,
            name: s.name,
            mobile_masked: s.mobile_masked,
            via: s.via,
            status: s.status,
            insurer: s.insurer,
            policy_no: s.policy_no,
            minutes: s.minutes,
        })
        .collect())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignInput {
    pub volunteer_id: Uuid,
}

/// The volunteer's shifts near `new` (for the limits).
pub(super) async fn shifts_near<C: ConnectionTrait>(
    c: &C,
    vol: Uuid,
    activity: Uuid,
    new: Shift,
    days: u32,
) -> AppResult<Vec<Shift>> {
    #[derive(FromQueryResult)]
    struct S {
        starts_at: i64,
        ends_at: i64,
    }
    let span = i64::from(days.max(8) + 1) * 86_400_000;
    let rows: Vec<S> = store::fetch_all(
        c,
        "SELECT starts_at, ends_at FROM activity_signups WHERE volunteer_id = $1 AND status = 'signed' AND activity_id <> $2 \
         AND starts_at >= $3 AND starts_at < $4",
        vec![vol.into(), activity.into(), (new.start - span).into(), (new.end + span).into()],
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|s| Shift {
            start: s.starts_at,
            end: s.ends_at,
        })
        .collect())
}

/// Signs a volunteer up (inside the caller's transaction): capacity, time, and the limits.
pub(super) async fn sign_up<C: ConnectionTrait>(
    c: &C,
    state: &AppState,
    r: &ActivityRow,
    v: &VolFacts,
    via: &str,
) -> AppResult<()> {
    open_for_attendance(r)?;
    let now = now_ms();
    if r.ends_at < now {
        return Err(AppError::Rule {
            code: "activity.ended",
            msg: Msg::new("活动已结束，不能再报名", "The activity has ended"),
        });
    }
    #[derive(FromQueryResult)]
    struct Ex {
        status: String,
    }
    let ex: Option<Ex> = store::fetch_opt(
        c,
        "SELECT status FROM activity_signups WHERE activity_id = $1 AND volunteer_id = $2",
        vec![r.id.into(), v.id.into()],
    )
    .await?;
    if ex.as_ref().map(|e| e.status == "signed").unwrap_or(false) {
        return Err(AppError::conflict(
            "activity.already_signed_up",
            Msg::new("已经报名了这个活动", "Already signed up for this activity"),
        ));
    }
    let lim = state.settings.service.limits.stricter(v.own_limits());
    let new = Shift {
        start: r.starts_at,
        end: r.ends_at,
    };
    let shifts = shifts_near(c, v.id, r.id, new, lim.consecutive_days).await?;
    volunteer::check(&lim, &shifts, new).map_err(|msg| AppError::Rule {
        code: "volunteer.limit",
        msg,
    })?;
    let n = store::exec(
        c,
        "UPDATE activities SET signed_up = signed_up + 1, updated_at = $1 WHERE id = $2 AND signed_up < capacity",
        vec![now.into(), r.id.into()],
    )
    .await?;
    if n == 0 {
        return Err(AppError::Rule {
            code: "activity.full",
            msg: Msg::owned(
                format!("名额已满（{} 人）", r.capacity),
                format!("The activity is full ({} places)", r.capacity),
            ),
        });
    }
    if ex.is_some() {
        store::exec(
            c,
            "UPDATE activity_signups SET status = 'signed', via = $1, starts_at = $2, ends_at = $3, updated_at = $4 WHERE activity_id = $5 AND volunteer_id = $6",
            vec![via.to_string().into(), r.starts_at.into(), r.ends_at.into(), now.into(), r.id.into(), v.id.into()],
        )
        .await?;
    } else {
        store::exec(
            c,
            "INSERT INTO activity_signups (activity_id, volunteer_id, via, status, starts_at, ends_at, created_at, updated_at) VALUES ($1, $2, $3, 'signed', $4, $5, $6, $6)",
            vec![r.id.into(), v.id.into(), via.to_string().into(), r.starts_at.into(), r.ends_at.into(), now.into()],
        )
        .await?;
    }
    store::exec(
        c,
        "UPDATE volunteers SET last_asked_at = $1 WHERE id = $2",
        vec![now.into(), v.id.into()],
    )
    .await?;
    Ok(())
}

/// Assigns a volunteer (by the organiser), refused with the reason beyond a limit.
#[tracing::instrument(name = "service::activities::assign", skip_all)]
pub async fn assign(
    state: &AppState,
    ctx: &Ctx,
    id: Uuid,
    a: AssignInput,
) -> AppResult<Vec<Signup>> {
    let db = &state.db;
    let r = managed(db, ctx, id).await?;
    let tx = store::write_tx(db).await?;
    let v = super::super::volunteer_for(&tx, ctx, Permission::ReadService, a.volunteer_id).await?;
    let row = activity_row(&tx, id).await?;
    sign_up(&tx, state, &row, &v, "assigned").await?;
    super::super::notify::signed_up(&tx, &row, v.id).await?;
    Entry::by(ctx, &r.checked, "assign", "activity", id)
        .area(r.area_id)
        .detail(format!("volunteer={}", v.id))
        .record(&tx)
        .await?;
    tx.commit().await?;
    signups(db, ctx, id).await
}

/// The signed-in volunteer signs up.
#[tracing::instrument(name = "service::activities::sign_up_me", skip_all)]
pub async fn sign_up_me(state: &AppState, ctx: &Ctx, id: Uuid) -> AppResult<Activity> {
    let db = &state.db;
    let tx = store::write_tx(db).await?;
    let me = super::super::me(&tx, ctx).await?;
    let r = activity_row(&tx, id).await?;
    if !volunteer_reaches(&tx, &me, r.area_id).await? {
        return Err(AppError::NotFound);
    }
    sign_up(&tx, state, &r, &me, "self").await?;
    super::super::notify::signed_up(&tx, &r, me.id).await?;
    Entry::by(ctx, &scope::own(ctx), "sign_up", "activity", id)
        .area(r.area_id)
        .record(&tx)
        .await?;
    tx.commit().await?;
    let st = my_status(db, id, me.id).await?;
    Ok(act_view(activity_row(db, id).await?, en(ctx), st))
}

pub(super) async fn withdraw<C: ConnectionTrait>(
    c: &C,
    r: &ActivityRow,
    vol: Uuid,
) -> AppResult<()> {
    open_for_attendance(r)?;
    let n = store::exec(
        c,
        "UPDATE activity_signups SET status = 'cancelled', updated_at = $1 WHERE activity_id = $2 AND volunteer_id = $3 AND status = 'signed' AND checkin_at IS NULL",
        vec![now_ms().into(), r.id.into(), vol.into()],
    )
    .await?;
    if n == 0 {
        return Err(AppError::Rule {
            code: "activity.not_withdrawable",
            msg: Msg::new(
                "没有可取消的报名（未报名或已签到）",
                "No sign-up to withdraw (none, or already checked in)",
            ),
        });
    }
    store::exec(
        c,
        "UPDATE activities SET signed_up = signed_up - 1 WHERE id = $1",
        vec![r.id.into()],
    )
    .await?;
    Ok(())
}

#[tracing::instrument(name = "service::activities::withdraw_me", skip_all)]
pub async fn withdraw_me(state: &AppState, ctx: &Ctx, id: Uuid) -> AppResult<Activity> {
    let db = &state.db;
    let tx = store::write_tx(db).await?;
    let me = super::super::me(&tx, ctx).await?;
    let r = activity_row(&tx, id).await?;
    if !volunteer_reaches(&tx, &me, r.area_id).await? {
        return Err(AppError::NotFound);
    }
    withdraw(&tx, &r, me.id).await?;
    Entry::by(ctx, &scope::own(ctx), "withdraw", "activity", id)
        .area(r.area_id)
        .record(&tx)
        .await?;
    tx.commit().await?;
    Ok(act_view(activity_row(db, id).await?, en(ctx), None))
}

#[tracing::instrument(name = "service::activities::remove_signup", skip_all)]
pub async fn remove_signup(
    state: &AppState,
    ctx: &Ctx,
    id: Uuid,
    vol: Uuid,
) -> AppResult<Vec<Signup>> {
    let db = &state.db;
    let r = managed(db, ctx, id).await?;
    let tx = store::write_tx(db).await?;
    withdraw(&tx, &r, vol).await?;
    Entry::by(ctx, &r.checked, "unassign", "activity", id)
        .area(r.area_id)
        .detail(format!("volunteer={vol}"))
        .record(&tx)
        .await?;
    tx.commit().await?;
    signups(db, ctx, id).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct InsuranceInput {
    pub insurer: String,
    pub policy_no: String,
}

/// Records a participant's insurance (《志愿服务条例》第十七条: before a risky activity).
#[tracing::instrument(name = "service::activities::insure", skip_all)]
pub async fn insure(
    state: &AppState,
    ctx: &Ctx,
    id: Uuid,
    vol: Uuid,
    i: InsuranceInput,
) -> AppResult<Vec<Signup>> {
    let db = &state.db;
    let r = managed(db, ctx, id).await?;
    let insurer = text_field("insurer", &i.insurer, 100, true)?;
    let policy = text_field("policy_no", &i.policy_no, 64, true)?;
    let tx = store::write_tx(db).await?;
    let n = store::exec(
        &tx,
        "UPDATE activity_signups SET insurer = $1, policy_no = $2, updated_at = $3 WHERE activity_id = $4 AND volunteer_id = $5 AND status = 'signed'",
        vec![insurer.into(), policy.into(), now_ms().into(), id.into(), vol.into()],
    )
    .await?;
    if n == 0 {
        return Err(AppError::NotFound);
    }
    Entry::by(ctx, &r.checked, "insure", "activity", id)
        .area(r.area_id)
        .detail(format!("volunteer={vol}"))
        .record(&tx)
        .await?;
    tx.commit().await?;
    signups(db, ctx, id).await
}
