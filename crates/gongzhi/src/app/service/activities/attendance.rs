//! Attendance: the signed QR code, check-in and check-out, and confirming the hours served.
use super::*;

// -------------------------------------------------------------------------------- attendance

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
}

impl Direction {
    pub fn parse(s: &str) -> AppResult<Direction> {
        match s {
            "in" => Ok(Direction::In),
            "out" => Ok(Direction::Out),
            _ => Err(AppError::field(
                "direction",
                Msg::new("应为 in（签到）或 out（签退）", "Either in or out"),
            )),
        }
    }
    fn byte(self) -> u8 {
        match self {
            Direction::In => b'i',
            Direction::Out => b'o',
        }
    }
    fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

pub(super) const QR_PURPOSE: &str = "activity attendance";

/// A signed, time-limited token: base64url(activity ‖ direction ‖ expiry ‖ signature).
pub fn make_token(
    keys: &crate::crypto::Keys,
    activity: Uuid,
    dir: Direction,
    expires: i64,
) -> String {
    let mut data = activity.as_bytes().to_vec();
    data.push(dir.byte());
    data.extend_from_slice(&expires.to_be_bytes());
    let sig = keys.sign(QR_PURPOSE, &data);
    data.extend_from_slice(&sig);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

pub(super) fn forged() -> AppError {
    AppError::BadRequest {
        code: "attendance.qr_invalid",
        msg: Msg::new(
            "签到码无效（不是本系统生成的二维码）",
            "This check-in code is not valid",
        ),
    }
}

/// The activity and direction of a token, if it is ours and not expired.
pub fn read_token(
    keys: &crate::crypto::Keys,
    token: &str,
    now: i64,
) -> AppResult<(Uuid, Direction)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim().as_bytes())
        .map_err(|_| forged())?;
    if raw.len() != 16 + 1 + 8 + 16 {
        return Err(forged());
    }
    let (data, sig) = raw.split_at(25);
    if !keys.verify(QR_PURPOSE, data, sig) {
        return Err(forged());
    }
    let activity = Uuid::from_slice(&data[..16]).map_err(|_| forged())?;
    let dir = match data[16] {
        b'i' => Direction::In,
        b'o' => Direction::Out,
        _ => return Err(forged()),
    };
    let expires = i64::from_be_bytes(data[17..25].try_into().map_err(|_| forged())?);
    if now > expires {
        return Err(AppError::Rule {
            code: "attendance.qr_expired",
            msg: Msg::new(
                "二维码已过期，请扫描屏幕上最新的二维码",
                "The code has expired; scan the current one on the screen",
            ),
        });
    }
    Ok((activity, dir))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Qr {
    pub token: String,
    /// What the QR code encodes: the phone page that checks the volunteer in or out.
    pub url: String,
    pub svg: String,
    pub direction: String,
    pub expires_at: String,
    pub refresh_seconds: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QrQuery {
    /// `in` or `out`.
    pub direction: Option<String>,
    /// The console's origin (e.g. `https://gongzhi.example.cn`), so the code opens the phone page.
    pub origin: Option<String>,
}

#[tracing::instrument(name = "service::activities::qr", skip_all)]
pub async fn qr(state: &AppState, ctx: &Ctx, id: Uuid, q: &QrQuery) -> AppResult<Qr> {
    let r = managed(&state.db, ctx, id).await?;
    open_for_attendance(&r)?;
    let dir = Direction::parse(q.direction.as_deref().unwrap_or("in"))?;
    let expires = now_ms() + QR_TTL_MS;
    let token = make_token(&state.keys, id, dir, expires);
    let origin = q
        .origin
        .as_deref()
        .map(str::trim)
        .filter(|o| {
            (o.starts_with("http://") || o.starts_with("https://"))
                && o.len() < 200
                && o.split_once("://")
                    .is_some_and(|(_, host)| !host.contains('/'))
                && !o.contains(['?', '#', ' ', '"', '<'])
        })
        .unwrap_or("");
    let url = format!("{origin}/m/checkin?t={token}");
    let svg = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| AppError::Internal(format!("qr: {e}")))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(360, 360)
        .build();
    Ok(Qr {
        token,
        url,
        svg,
        direction: dir.as_str().into(),
        expires_at: ms_to_rfc3339(expires),
        refresh_seconds: QR_REFRESH_SECONDS,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceResult {
    pub activity_id: Uuid,
    pub activity_title: String,
    pub volunteer_id: Uuid,
    pub name: String,
    /// `in` or `out`.
    pub direction: String,
    pub at: String,
    /// Minutes counted, on check-out.
    pub minutes: Option<i64>,
}

/// Minutes of service between check-in and check-out, clipped to the activity's time.
pub fn served_minutes(r: &ActivityRow, checkin: i64, checkout: i64) -> i64 {
    let from = checkin.max(r.starts_at);
    let to = checkout.min(r.ends_at);
    ((to - from) / 60_000).max(0)
}

pub(super) fn already_in() -> AppError {
    AppError::Rule {
        code: "attendance.already_in",
        msg: Msg::new("已经签到过了，不能重复签到", "Already checked in"),
    }
}

pub(super) fn already_out() -> AppError {
    AppError::Rule {
        code: "attendance.already_out",
        msg: Msg::new("已经签退过了", "Already checked out"),
    }
}

pub(super) async fn record_attendance<C: ConnectionTrait>(
    c: &C,
    r: &ActivityRow,
    v: &VolFacts,
    dir: Direction,
    at: i64,
) -> AppResult<Option<i64>> {
    open_for_attendance(r)?;
    #[derive(FromQueryResult)]
    struct S {
        status: String,
        policy_no: Option<String>,
        checkin_at: Option<i64>,
        checkout_at: Option<i64>,
    }
    let s: S = store::fetch_opt::<S, _>(c, "SELECT status, policy_no, checkin_at, checkout_at FROM activity_signups WHERE activity_id = $1 AND volunteer_id = $2", vec![r.id.into(), v.id.into()])
        .await?
        .filter(|s| s.status == "signed")
        .ok_or_else(|| AppError::Rule { code: "attendance.not_signed_up", msg: Msg::new("还没有报名这个活动", "Not signed up for this activity") })?;
    match dir {
        Direction::In => {
            if s.checkin_at.is_some() {
                return Err(already_in());
            }
            if r.risky && s.policy_no.is_none() {
                return Err(AppError::Rule {
                    code: "attendance.no_insurance",
                    msg: Msg::new("这是有风险的活动，须先为参加者登记保险（《志愿服务条例》第十七条）", "A risky activity needs the participant's insurance recorded first (Volunteer Service Regulations, Art. 17)"),
                });
            }
            if at < r.starts_at - EARLY_MS || at > r.ends_at {
                return Err(AppError::Rule {
                    code: "attendance.outside_time",
                    msg: Msg::new(
                        "不在签到时间内（开始前 1 小时至结束）",
                        "Check-in is open from an hour before the start to the end",
                    ),
                });
            }
            let n = store::exec(c, "UPDATE activity_signups SET checkin_at = $1, updated_at = $1 WHERE activity_id = $2 AND volunteer_id = $3 AND checkin_at IS NULL", vec![at.into(), r.id.into(), v.id.into()]).await?;
            if n == 0 {
                return Err(already_in());
            }
            store::exec(
                c,
                "UPDATE activities SET checked_in = checked_in + 1 WHERE id = $1",
                vec![r.id.into()],
            )
            .await?;
            Ok(None)
        }
        Direction::Out => {
            let Some(cin) = s.checkin_at else {
                return Err(AppError::Rule {
                    code: "attendance.not_in",
                    msg: Msg::new("还没有签到，不能签退", "Not checked in yet; check in first"),
                });
            };
            if s.checkout_at.is_some() {
                return Err(already_out());
            }
            if at > r.ends_at + LATE_MS {
                return Err(AppError::Rule {
                    code: "attendance.outside_time",
                    msg: Msg::new(
                        "已超过签退时间，请联系组织者",
                        "Check-out has closed; ask the organiser",
                    ),
                });
            }
            let minutes = served_minutes(r, cin, at);
            let n = store::exec(
                c,
                "UPDATE activity_signups SET checkout_at = $1, minutes = $2, updated_at = $1 WHERE activity_id = $3 AND volunteer_id = $4 AND checkin_at IS NOT NULL AND checkout_at IS NULL",
                vec![at.into(), (minutes as i32).into(), r.id.into(), v.id.into()],
            )
            .await?;
            if n == 0 {
                return Err(already_out());
            }
            store::exec(
                c,
                "UPDATE activities SET checked_out = checked_out + 1 WHERE id = $1",
                vec![r.id.into()],
            )
            .await?;
            Ok(Some(minutes))
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ScanInput {
    pub token: String,
}

/// The volunteer's phone scanned the organiser's code. Someone not signed up is signed up on the
/// spot when a place and the limits allow.
#[tracing::instrument(name = "service::activities::scan", skip_all)]
pub async fn scan(state: &AppState, ctx: &Ctx, s: ScanInput) -> AppResult<AttendanceResult> {
    let now = now_ms();
    let (id, dir) = read_token(&state.keys, &s.token, now)?;
    let db = &state.db;
    let tx = store::write_tx(db).await?;
    let me = super::super::me(&tx, ctx).await?;
    let r = activity_row(&tx, id).await?;
    if dir == Direction::In && my_status(&tx, id, me.id).await?.is_none() {
        sign_up(&tx, state, &r, &me, "self").await?;
    }
    let r = activity_row(&tx, id).await?;
    let result = attendance_in(
        &tx,
        ctx,
        &scope::own(ctx),
        &r,
        &me,
        dir,
        now,
        "qr".to_string(),
    )
    .await?;
    tx.commit().await?;
    Ok(result)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ManualAttendance {
    pub volunteer_id: Uuid,
    /// `in` or `out`.
    pub direction: String,
}

/// The organiser checks someone in or out.
#[tracing::instrument(name = "service::activities::attend", skip_all)]
pub async fn attend(
    state: &AppState,
    ctx: &Ctx,
    id: Uuid,
    m: ManualAttendance,
) -> AppResult<AttendanceResult> {
    let db = &state.db;
    let r = managed(db, ctx, id).await?;
    let dir = Direction::parse(&m.direction)?;
    let tx = store::write_tx(db).await?;
    let v: VolFacts = store::fetch_found(
        &tx,
        &format!("{} WHERE v.id = $1", super::super::VOL_FACTS),
        vec![m.volunteer_id.into()],
    )
    .await?;
    let how = format!("volunteer={} by organiser", v.id);
    let result = attendance_in(&tx, ctx, &r.checked, &r, &v, dir, now_ms(), how).await?;
    tx.commit().await?;
    Ok(result)
}

/// Records a check-in or check-out with its audit entry (inside the caller's transaction).
pub(super) async fn attendance_in(
    c: &sea_orm::DatabaseTransaction,
    ctx: &Ctx,
    checked: &scope::Checked,
    r: &ActivityRow,
    v: &VolFacts,
    dir: Direction,
    at: i64,
    how: String,
) -> AppResult<AttendanceResult> {
    let minutes = record_attendance(c, r, v, dir, at).await?;
    let action = if dir == Direction::In {
        "check_in"
    } else {
        "check_out"
    };
    Entry::by(ctx, checked, action, "activity", r.id)
        .area(r.area_id)
        .detail(how)
        .record(c)
        .await?;
    Ok(AttendanceResult {
        activity_id: r.id,
        activity_title: r.title.clone(),
        volunteer_id: v.id,
        name: v.name.clone(),
        direction: dir.as_str().into(),
        at: ms_to_rfc3339(at),
        minutes,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckoutAll {
    pub checked_out: u64,
}

/// Checks out everyone still checked in, now (or at the end, if it has passed).
#[tracing::instrument(name = "service::activities::checkout_all", skip_all)]
pub async fn checkout_all(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<CheckoutAll> {
    let r = managed(db, ctx, id).await?;
    open_for_attendance(&r)?;
    let tx = store::write_tx(db).await?;
    let n = checkout_all_in(&tx, &r, now_ms()).await?;
    Entry::by(ctx, &r.checked, "check_out_all", "activity", id)
        .area(r.area_id)
        .detail(format!("{n} checked out"))
        .record(&tx)
        .await?;
    tx.commit().await?;
    Ok(CheckoutAll { checked_out: n })
}

/// One statement for the whole activity: minutes clipped to the activity's time.
#[tracing::instrument(name = "service::activities::checkout_all_in", skip_all)]
pub async fn checkout_all_in<C: ConnectionTrait>(
    c: &C,
    r: &ActivityRow,
    now: i64,
) -> AppResult<u64> {
    let at = now.min(r.ends_at);
    let n = store::exec(
        c,
        "UPDATE activity_signups SET checkout_at = $1, updated_at = $1, \
         minutes = CAST(CASE WHEN $1 > (CASE WHEN checkin_at > $2 THEN checkin_at ELSE $2 END) \
                        THEN ($1 - (CASE WHEN checkin_at > $2 THEN checkin_at ELSE $2 END)) / 60000 ELSE 0 END AS INTEGER) \
         WHERE activity_id = $3 AND status = 'signed' AND checkin_at IS NOT NULL AND checkout_at IS NULL",
        vec![at.into(), r.starts_at.into(), r.id.into()],
    )
    .await?;
    store::exec(
        c,
        "UPDATE activities SET checked_out = checked_out + $1 WHERE id = $2",
        vec![(n as i64).into(), r.id.into()],
    )
    .await?;
    Ok(n)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Confirmation {
    /// Service-hours entries written.
    pub entries: u64,
    pub minutes: i64,
    /// Points postings written (attendance, hours, deductions).
    pub postings: u64,
    /// Signed up but never checked in.
    pub absent: u64,
    pub deducted: u64,
    pub elapsed_ms: u64,
}

/// Confirms the activity's hours: checks out whoever is still in, writes one service-hours entry
/// per participant (actual minutes, capped per day), and the postings the area's rules give —
/// attendance, hours, deductions for unexcused absence (not for the exempt). Once.
#[tracing::instrument(name = "service::activities::confirm", skip_all)]
pub async fn confirm(state: &AppState, ctx: &Ctx, id: Uuid) -> AppResult<Confirmation> {
    let db = &state.db;
    let r = managed(db, ctx, id).await?;
    open_for_attendance(&r)?;
    let started = std::time::Instant::now();
    let tx = store::write_tx(db).await?;
    let mut c = confirm_in(&tx, &state.settings.service, &Actor::of(ctx), &r, now_ms()).await?;
    // 工时已确认: those who came, in the confirmation's own transaction (the demo's history and
    // the benchmark call `confirm_in` alone and tell nobody).
    #[derive(FromQueryResult)]
    struct Came {
        volunteer_id: Uuid,
    }
    let came: Vec<Came> = store::fetch_all(
        &tx,
        "SELECT volunteer_id FROM activity_signups WHERE activity_id = $1 AND status = 'signed' AND checkin_at IS NOT NULL",
        vec![id.into()],
    )
    .await?;
    let came: Vec<Uuid> = came.into_iter().map(|c| c.volunteer_id).collect();
    super::super::notify::hours_confirmed(&tx, &r, &came).await?;
    Entry::by(ctx, &r.checked, "confirm", "activity", id)
        .area(r.area_id)
        .detail(format!("{} entries, {} postings", c.entries, c.postings))
        .record(&tx)
        .await?;
    tx.commit().await?;
    c.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(c)
}

#[tracing::instrument(name = "service::activities::confirm_in", skip_all)]
pub async fn confirm_in<C: ConnectionTrait>(
    c: &C,
    policy: &crate::config::ServicePolicy,
    actor: &Actor,
    r: &ActivityRow,
    now: i64,
) -> AppResult<Confirmation> {
    mark_confirmed(c, r, now).await?;
    checkout_all_in(c, r, now).await?;
    let people = participants(c, r).await?;
    let rules = ledger::rules_for(c, r.area_id).await?;
    let (attended, absent): (Vec<&Participant>, Vec<&Participant>) =
        people.iter().partition(|p| p.checkin_at.is_some());
    let mut done = credit_attendance(c, policy, actor, r, &rules, &attended, now).await?;
    let deducted = deduct_absences(c, actor, r, &rules, &absent, now).await?;
    done.postings += deducted;
    done.absent = absent.len() as u64;
    done.deducted = deducted;
    Ok(done)
}

/// Marks the activity's hours confirmed, once, and not before it starts.
async fn mark_confirmed<C: ConnectionTrait>(c: &C, r: &ActivityRow, now: i64) -> AppResult<()> {
    if now < r.starts_at {
        return Err(AppError::Rule {
            code: "activity.not_started",
            msg: Msg::new("活动还没开始，不能确认工时", "The activity has not started"),
        });
    }
    let n = store::exec(c, "UPDATE activities SET confirmed_at = $1, version = version + 1, updated_at = $1 WHERE id = $2 AND confirmed_at IS NULL AND status = 'open'", vec![now.into(), r.id.into()]).await?;
    if n == 0 {
        return Err(AppError::Rule {
            code: "activity.confirmed",
            msg: Msg::new("工时已经确认过了", "The hours are confirmed already"),
        });
    }
    Ok(())
}

/// One signed-up volunteer, with what the confirmation needs to know of them.
#[derive(FromQueryResult)]
struct Participant {
    volunteer_id: Uuid,
    account_id: Uuid,
    checkin_at: Option<i64>,
    minutes: Option<i32>,
    birth_date: Option<String>,
    exempt_reason: Option<String>,
}

async fn participants<C: ConnectionTrait>(c: &C, r: &ActivityRow) -> AppResult<Vec<Participant>> {
    Ok(store::fetch_all(
        c,
        "SELECT s.volunteer_id, pa.id AS account_id, s.checkin_at, s.minutes, p.birth_date, m.exempt_reason \
         FROM activity_signups s JOIN volunteers v ON v.id = s.volunteer_id JOIN point_accounts pa ON pa.volunteer_id = v.id \
         JOIN persons p ON p.street_id = v.street_id AND p.id = v.person_id LEFT JOIN party_members m ON m.volunteer_id = v.id \
         WHERE s.activity_id = $1 AND s.status = 'signed'",
        vec![r.id.into()],
    )
    .await?)
}

/// Those who came: their service hours (within the day's cap, counting what each already has
/// that day) and their points for attending and for each hour.
async fn credit_attendance<C: ConnectionTrait>(
    c: &C,
    policy: &crate::config::ServicePolicy,
    actor: &Actor,
    r: &ActivityRow,
    rules: &HashMap<Event, ledger::RuleValue>,
    attended: &[&Participant],
    now: i64,
) -> AppResult<Confirmation> {
    let day = super::super::ymd(local_date(r.starts_at));
    #[derive(FromQueryResult)]
    struct D {
        volunteer_id: Uuid,
        m: i64,
    }
    // One statement for the whole activity: the participants' service earlier that day.
    let earlier: HashMap<Uuid, i64> = store::fetch_all::<D, _>(
        c,
        "SELECT h.volunteer_id, CAST(SUM(h.minutes) AS BIGINT) AS m FROM service_hours h \
         WHERE h.day = $1 AND h.volunteer_id IN (SELECT s.volunteer_id FROM activity_signups s WHERE s.activity_id = $2 AND s.checkin_at IS NOT NULL) \
         GROUP BY h.volunteer_id",
        vec![day.clone().into(), r.id.into()],
    )
    .await?
    .into_iter()
    .map(|d| (d.volunteer_id, d.m))
    .collect();
    let cap = policy.day_minutes;
    let mut hour_rows: Vec<Vec<Value>> = vec![];
    let mut minute_updates: Vec<(Uuid, i64)> = vec![];
    let mut total = 0i64;
    let (mut att, mut hrs) = (vec![], vec![]);
    for p in attended {
        let m = i64::from(p.minutes.unwrap_or(0));
        let allowed = m.min((cap - earlier.get(&p.volunteer_id).copied().unwrap_or(0)).max(0));
        att.push((
            p.account_id,
            rules[&Event::Attendance].points,
            Some(r.id.to_string()),
        ));
        if allowed <= 0 {
            continue;
        }
        total += allowed;
        hour_rows.push(vec![
            new_id().into(),
            p.volunteer_id.into(),
            r.id.into(),
            day.clone().into(),
            (allowed as i32).into(),
            "service".into(),
            Option::<String>::None.into(),
            actor.id.into(),
            actor.name.clone().into(),
            now.into(),
        ]);
        minute_updates.push((p.volunteer_id, allowed));
        hrs.push((
            p.account_id,
            rules[&Event::Hour].points * allowed / 60,
            Some(r.id.to_string()),
        ));
    }
    let entries =
        store::insert_many_with(c, "service_hours", HOURS_COLUMNS, hour_rows, 30_000).await?;
    add_minutes(c, minute_updates, now).await?;
    let mut postings = vec![];
    for (event, credits) in [(Event::Attendance, att), (Event::Hour, hrs)] {
        let rule = rules[&event];
        postings
            .extend(ledger::earn_by_rule(c, actor, event, rule, credits, "activity", now).await?);
    }
    let postings = ledger::post_credits(c, actor, postings, now).await?;
    Ok(Confirmation {
        entries,
        minutes: total,
        postings,
        absent: 0,
        deducted: 0,
        elapsed_ms: 0,
    })
}

/// Deductions for unexcused absence: never below zero, not for the exempt (by status or age).
/// Answers how many were deducted (one posting each).
async fn deduct_absences<C: ConnectionTrait>(
    c: &C,
    actor: &Actor,
    r: &ActivityRow,
    rules: &HashMap<Event, ledger::RuleValue>,
    absent: &[&Participant],
    now: i64,
) -> AppResult<u64> {
    let absence = rules[&Event::Absence];
    let exempt_age = rules[&Event::ExemptOverAge].points;
    let mut deducted = 0u64;
    for p in absent {
        let exempt = p.exempt_reason.is_some()
            || super::super::age(p.birth_date.as_deref())
                .map(|a| a >= exempt_age)
                .unwrap_or(false);
        if exempt || absence.points <= 0 {
            continue;
        }
        let balance = store::fetch_i64(
            c,
            "SELECT balance FROM point_accounts WHERE id = $1",
            vec![p.account_id.into()],
        )
        .await?;
        let amount = absence.points.min(balance);
        if amount <= 0 {
            continue;
        }
        ledger::post(
            c,
            actor,
            NewPosting {
                event: Some(Event::Absence),
                rule_area_id: absence.area_id,
                source_id: Some(r.id.to_string()),
                note: Some(r.title.clone()),
                ..NewPosting::new(p.account_id, -amount, Kind::Deduct, "activity")
            },
            now,
        )
        .await?;
        deducted += 1;
    }
    Ok(deducted)
}

pub const HOURS_COLUMNS: &[&str] = &[
    "id",
    "volunteer_id",
    "activity_id",
    "day",
    "minutes",
    "kind",
    "reason",
    "created_by",
    "created_by_name",
    "created_at",
];

/// `verified_minutes += m` for many volunteers, in chunks.
pub(super) async fn add_minutes<C: ConnectionTrait>(
    c: &C,
    items: Vec<(Uuid, i64)>,
    at: i64,
) -> AppResult<()> {
    for chunk in items.chunks(400) {
        let mut sql = String::from("WITH v(id, m) AS (VALUES ");
        let mut values: Vec<Value> = vec![];
        for (i, (id, m)) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(${}, CAST(${} AS BIGINT))", i * 2 + 1, i * 2 + 2));
            values.push((*id).into());
            values.push((*m).into());
        }
        sql.push_str(&format!(
            "{}",
            ledger::bulk_update_tail("volunteers", "verified_minutes", "m", values.len() + 1)
        ));
        values.push(at.into());
        store::exec(c, &sql, values).await?;
    }
    Ok(())
}
