//! The lifecycle: every action is checked against the state machine (`domain::cases::next`) and
//! the caller's part in the case, written with the version it read (one of two concurrent
//! handlers wins, the other gets 409), recorded in the timeline, and counted in the rates, all in
//! one transaction. Also whistles (吹哨报到) and the clock sweep (warnings, overdue).
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::deadlines::{self, Which};
use super::dictionary::CategoryRow;
use super::query::{self, Case, CaseRow};
use super::{stats, units};
use crate::app::{scope, AppState, Ctx};
use crate::domain::calendar::{Calendar, Limit, LimitUnit};
use crate::domain::cases::{self as dc, Action, Outcome, Rating, Status, WhistleKind};
use crate::domain::{new_id, now_ms};
use crate::error::{AppError, AppResult, Msg};
use crate::store;

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    /// The version you read.
    pub version: i32,
    pub note: Option<String>,
    /// reject, return, reopen, request_extension: why.
    pub reason: Option<String>,
    /// dispatch (optional: default the routed unit), arbitrate (required).
    pub unit_id: Option<Uuid>,
    /// handle: what was done.
    pub result: Option<String>,
    /// handle: resolved | explained | unresolvable
    pub outcome: Option<String>,
    /// handle and others: uploaded files as evidence.
    #[serde(default)]
    pub attachments: Vec<Uuid>,
    /// verify: the result holds.
    pub ok: Option<bool>,
    /// rate: satisfied | basic | dissatisfied
    pub rating: Option<String>,
    pub comment: Option<String>,
    /// request_extension, supervise: working days.
    pub days: Option<i32>,
    /// decide_extension
    pub approve: Option<bool>,
    /// merge: the case this one duplicates.
    pub into_id: Option<Uuid>,
}

/// A file attached to an event: its id and name.
#[derive(Debug, Clone, Serialize)]
pub struct Attachment {
    pub id: Uuid,
    pub name: String,
}

/// Checks that the files exist and were uploaded by the caller.
#[tracing::instrument(name = "cases::lifecycle::check_attachments", skip_all)]
pub async fn check_attachments<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    ids: &[Uuid],
) -> AppResult<Vec<Attachment>> {
    if ids.len() > 20 {
        return Err(AppError::field(
            "attachments",
            Msg::new("最多 20 个附件", "At most 20 attachments"),
        ));
    }
    let mut out = vec![];
    for id in ids {
        #[derive(FromQueryResult)]
        struct F {
            name: String,
            created_by: Option<Uuid>,
        }
        let f: Option<F> = store::fetch_opt(
            c,
            "SELECT name, created_by FROM files WHERE id = $1",
            vec![(*id).into()],
        )
        .await?;
        match f {
            Some(f)
                if f.created_by == ctx.principal.actor_id() || ctx.principal.is_system_admin() =>
            {
                out.push(Attachment {
                    id: *id,
                    name: f.name,
                })
            }
            _ => {
                return Err(AppError::field(
                    "attachments",
                    Msg::new(
                        "附件不存在，或不是您上传的",
                        "An attachment does not exist or was not uploaded by you",
                    ),
                ))
            }
        }
    }
    Ok(out)
}

pub const EVENT_COLUMNS: [&str; 12] = [
    "id",
    "case_id",
    "community_id",
    "at",
    "actor_id",
    "actor_name",
    "action",
    "from_status",
    "to_status",
    "unit_id",
    "note",
    "attachments",
];

/// The values of a timeline event in [`EVENT_COLUMNS`] order.
#[allow(clippy::too_many_arguments)]
pub fn event_values(
    ctx: &Ctx,
    _checked: &scope::Checked,
    row: &CaseRow,
    action: &str,
    from: Option<Status>,
    to: Option<Status>,
    unit: Option<Uuid>,
    note: Option<String>,
    attachments: &[Attachment],
) -> Vec<sea_orm::Value> {
    vec![
        new_id().into(),
        row.id.into(),
        row.community_id.into(),
        // The first event happened when the case was received (an imported work order: the
        // hotline's time).
        (if action == "receive" {
            row.received_at
        } else {
            now_ms()
        })
        .into(),
        ctx.principal.actor_id().into(),
        ctx.principal.display_name.clone().into(),
        action.to_string().into(),
        from.map(|s| s.as_str().to_string()).into(),
        to.map(|s| s.as_str().to_string()).into(),
        unit.into(),
        note.into(),
        (if attachments.is_empty() {
            None
        } else {
            serde_json::to_string(attachments).ok()
        })
        .into(),
    ]
}

/// Appends a timeline event. Like an audit entry it takes the proof of the caller's check — the
/// part they play on the case ([`query::Access::proof_for`]), their own case, or the system's — so
/// no step is written without one; the proof itself is not stored.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(name = "cases::lifecycle::event", skip_all)]
pub async fn event<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    _checked: &scope::Checked,
    row: &CaseRow,
    action: &str,
    from: Option<Status>,
    to: Option<Status>,
    unit: Option<Uuid>,
    note: Option<String>,
    attachments: &[Attachment],
) -> AppResult<()> {
    store::insert_many(
        c,
        "case_events",
        &EVENT_COLUMNS,
        vec![event_values(
            ctx,
            _checked,
            row,
            action,
            from,
            to,
            unit,
            note,
            attachments,
        )],
    )
    .await?;
    Ok(())
}

fn text(v: &Option<String>, field: &str, max: usize, required: bool) -> AppResult<Option<String>> {
    let t = v.as_deref().map(str::trim).filter(|s| !s.is_empty());
    match t {
        None if required => Err(AppError::field(field, Msg::new("请填写", "Required"))),
        None => Ok(None),
        Some(s) if s.chars().count() > max => Err(AppError::field(
            field,
            Msg::owned(
                format!("最多 {max} 个字"),
                format!("At most {max} characters"),
            ),
        )),
        Some(s) => Ok(Some(s.to_string())),
    }
}

fn days(v: Option<i32>, field: &str) -> AppResult<u32> {
    match v {
        Some(d) if (1..=30).contains(&d) => Ok(d as u32),
        _ => Err(AppError::field(
            field,
            Msg::new("天数应为 1–30 个工作日", "Give 1–30 working days"),
        )),
    }
}

/// Starts the response and handling clocks at `now` (dispatch, arbitration, reopening).
fn start_clock(
    state: &AppState,
    cal: &Calendar,
    cat: &CategoryRow,
    r: &mut CaseRow,
    now: i64,
) -> AppResult<()> {
    let response = CategoryRow::limit(&cat.response_limit);
    deadlines::start(cal, r, Which::Response, now, response)?;
    let handle = CategoryRow::limit(&cat.handle_limit);
    let due = deadlines::start(cal, r, Which::Handle, now, handle)?;
    r.dispatched_at = Some(now);
    set_due(state, r, due, now);
    Ok(())
}

fn set_due(state: &AppState, r: &mut CaseRow, due: i64, now: i64) {
    let pct = state.settings.cases.warn_percent as i64;
    r.handle_due_at = Some(due);
    r.warn_at = Some(due - (due - now).max(0) * pct / 100);
    r.overdue = false;
    r.warned = false;
}

async fn unit_exists<C: ConnectionTrait>(c: &C, id: Uuid) -> AppResult<()> {
    let n = store::fetch_i64(
        c,
        "SELECT COUNT(*) FROM case_units WHERE id = $1 AND active = TRUE",
        vec![id.into()],
    )
    .await?;
    if n == 0 {
        return Err(AppError::field(
            "unit_id",
            Msg::new(
                "没有这个承办单位（或已停用）",
                "No such unit (or it is inactive)",
            ),
        ));
    }
    Ok(())
}

fn wrong_state(m: Msg) -> AppError {
    AppError::Conflict {
        code: "case.wrong_state",
        msg: m,
    }
}

/// `POST /cases/{id}/actions/{action}`.
#[tracing::instrument(name = "cases::lifecycle::act", skip_all)]
pub async fn act(
    state: &AppState,
    ctx: &Ctx,
    id: Uuid,
    action: &str,
    body: ActionBody,
) -> AppResult<Case> {
    let action = Action::parse(action).ok_or(AppError::NotFound)?;
    let tx = store::write_tx(&state.db).await?;
    let row = query::load(&tx, id).await?.ok_or(AppError::NotFound)?;
    let mine = super::my_units(&tx, ctx).await?;
    let acc = query::access(&tx, ctx, &row, &mine).await?;
    if !acc.visible() {
        return Err(query::hidden(&tx, ctx, &row).await);
    }
    let checked = acc.proof_for(action).ok_or_else(AppError::forbidden)?;
    AppError::stale_unless_same(body.version, row.version)?;
    let cat: CategoryRow = store::fetch_found(
        &tx,
        &format!("{} WHERE id = $1", super::dictionary::SELECT),
        vec![row.category_id.into()],
    )
    .await?;
    let from = row.status();
    let facts = query::facts(state, &row, cat.return_visit_required);
    let to = dc::next(from, action, &facts, body.ok.unwrap_or(true)).map_err(wrong_state)?;
    let now = now_ms();
    let mut r = row.clone();
    r.status = to.as_str().to_string();
    r.version += 1;
    r.updated_at = now;
    let attachments = check_attachments(&tx, ctx, &body.attachments).await?;
    let note = text(&body.note, "note", 2000, false)?;
    let mut s = Step {
        state,
        tx: &tx,
        ctx,
        body: &body,
        row: &row,
        cat: &cat,
        mine: &mine,
        to,
        now,
        r,
        note,
        event_name: action.as_str(),
        event_unit: None,
        merged_target: None,
    };
    s.event_unit = s.r.unit_id;
    match action {
        Action::Register => register(&mut s).await?,
        Action::Reject => reject(&mut s).await?,
        Action::Dispatch => dispatch(&mut s).await?,
        Action::Accept => accept(&mut s).await?,
        Action::Return => give_back(&mut s).await?,
        Action::Arbitrate => arbitrate(&mut s).await?,
        Action::Handle => handle(&mut s).await?,
        Action::Verify => verify(&mut s).await?,
        Action::Rate => rate(&mut s).await?,
        Action::Close => close(&mut s).await?,
        Action::RequestExtension => request_extension(&mut s).await?,
        Action::DecideExtension => decide_extension(&mut s).await?,
        Action::Supervise => supervise(&mut s).await?,
        Action::Merge => merge(&mut s).await?,
        Action::Reopen => reopen(&mut s).await?,
    }
    let Step {
        mut r,
        note,
        event_name,
        event_unit,
        merged_target,
        ..
    } = s;
    if r.deadline_basis != row.deadline_basis {
        deadlines::settle(state, &tx, &mut r).await?;
    }
    let n = update_row(&tx, &r, row.version).await?;
    AppError::stale_unless_changed(n)?;
    let note_for_message = note.clone();
    event(
        &tx,
        ctx,
        &checked,
        &r,
        event_name,
        Some(from),
        Some(to),
        event_unit,
        note,
        &attachments,
    )
    .await?;
    if let Some(t) = merged_target {
        event(
            &tx,
            ctx,
            &checked,
            &t,
            "merge",
            None,
            None,
            None,
            Some(format!("合并了重复诉求 {}", r.no)),
            &[],
        )
        .await?;
    }
    stats::record(&tx, Some(&row), &r).await?;
    // Who hears about it: written with the step or not at all (the outbox).
    let rate_link = (r.status() == Status::Verified && r.rating.is_none())
        .then(|| format!("/rate/{}", rating_token(state, r.id)));
    super::notify::after_step(
        &tx,
        ctx,
        &r,
        action.as_str(),
        row.unit_id,
        note_for_message.as_deref(),
        rate_link,
    )
    .await?;
    let acc = query::access(&tx, ctx, &r, &mine).await?;
    let view = query::view(state, &tx, ctx, &r, &acc).await?;
    tx.commit().await?;
    Ok(view)
}

/// One case action in the making: what it acts on, and what it leaves for the timeline.
struct Step<'a> {
    state: &'a AppState,
    tx: &'a sea_orm::DatabaseTransaction,
    ctx: &'a Ctx,
    body: &'a ActionBody,
    /// The case as it was.
    row: &'a CaseRow,
    cat: &'a CategoryRow,
    /// The caller's units.
    mine: &'a [Uuid],
    to: Status,
    now: i64,
    /// The case as it becomes.
    r: CaseRow,
    /// The timeline note.
    note: Option<String>,
    event_name: &'static str,
    event_unit: Option<Uuid>,
    merged_target: Option<CaseRow>,
}

/// 登记: the case is taken in.
async fn register(s: &mut Step<'_>) -> AppResult<()> {
    s.r.registered_at = Some(s.now);
    Ok(())
}

/// 不予受理: refused, with a reason.
async fn reject(s: &mut Step<'_>) -> AppResult<()> {
    s.note = text(&s.body.reason, "reason", 500, true)?;
    Ok(())
}

/// 派遣: to the unit the power list or the territory names, or the one chosen; the clock starts.
async fn dispatch(s: &mut Step<'_>) -> AppResult<()> {
    let routed = units::route(s.tx, &s.r.category_code, &place_of(&s.r), &s.r.returned()).await?;
    let unit = match s.body.unit_id.or(routed.unit_id) {
        Some(u) => u,
        None => {
            return Err(AppError::field(
                "unit_id",
                Msg::new(
                    "权责清单和属地都没有对应的承办单位，请手动选择",
                    "Neither a power list nor the territory gives a unit; choose one",
                ),
            ))
        }
    };
    unit_exists(s.tx, unit).await?;
    if Some(unit) == routed.unit_id {
        s.r.route_rule = Some(routed.rule.into());
        s.r.route_unit_id = routed.unit_id;
        s.r.route_duty_id = routed.duty_id;
    } else {
        s.r.route_rule = Some("manual".into());
        s.r.route_unit_id = Some(unit);
        s.r.route_duty_id = None;
    }
    s.r.unit_id = Some(unit);
    s.r.first_unit_id.get_or_insert(unit);
    s.r.registered_at.get_or_insert(s.now);
    let cal = deadlines::calendar_for(s.state, s.tx, s.r.area_id).await?;
    start_clock(s.state, &cal, s.cat, &mut s.r, s.now)?;
    s.event_unit = Some(unit);
    Ok(())
}

/// 签收: the unit takes it (the response time stops).
async fn accept(s: &mut Step<'_>) -> AppResult<()> {
    s.r.responded_at.get_or_insert(s.now);
    Ok(())
}

/// Return (退回): the unit gives the case back.
async fn give_back(s: &mut Step<'_>) -> AppResult<()> {
    s.note = text(&s.body.reason, "reason", 500, true)?;
    let me = s.row.unit_id;
    let mut returned = s.r.returned();
    if let Some(u) = me {
        if !returned.contains(&u) {
            returned.push(u);
        }
    }
    s.r.returned_units = returned
        .iter()
        .map(|u| u.to_string())
        .collect::<Vec<_>>()
        .join(",");
    s.r.return_count += 1;
    deadlines::stop(&mut s.r, Which::Handle);
    deadlines::stop(&mut s.r, Which::Response);
    s.r.warn_at = None;
    s.r.overdue = false;
    s.r.warned = false;
    if s.to == Status::Arbitration {
        // 首接负责: the first unit stays responsible until the street decides.
        s.r.unit_id = s.r.first_unit_id;
    } else {
        s.r.unit_id = None;
        let routed = units::route(s.tx, &s.r.category_code, &place_of(&s.r), &returned).await?;
        s.r.route_rule = Some(routed.rule.into());
        s.r.route_unit_id = routed.unit_id;
        s.r.route_duty_id = routed.duty_id;
    }
    Ok(())
}

/// 仲裁: the street decides which unit keeps a returned case; the clock starts again.
async fn arbitrate(s: &mut Step<'_>) -> AppResult<()> {
    s.note = text(&s.body.note, "note", 2000, true)?;
    let unit = s
        .body
        .unit_id
        .ok_or_else(|| AppError::field("unit_id", Msg::new("请选择承办单位", "Choose the unit")))?;
    unit_exists(s.tx, unit).await?;
    s.r.unit_id = Some(unit);
    s.r.bound = true;
    s.r.route_rule = Some("arbitration".into());
    s.r.route_unit_id = Some(unit);
    s.r.route_duty_id = None;
    let cal = deadlines::calendar_for(s.state, s.tx, s.r.area_id).await?;
    start_clock(s.state, &cal, s.cat, &mut s.r, s.now)?;
    s.event_unit = Some(unit);
    Ok(())
}

/// 办结: the unit's result and outcome; the check's clock starts.
async fn handle(s: &mut Step<'_>) -> AppResult<()> {
    let result = text(&s.body.result, "result", 2000, true)?;
    let outcome = s
        .body
        .outcome
        .as_deref()
        .and_then(Outcome::parse)
        .ok_or_else(|| {
            AppError::field(
                "outcome",
                Msg::new(
                    "请选择办理结果：resolved、explained 或 unresolvable",
                    "outcome must be resolved, explained or unresolvable",
                ),
            )
        })?;
    s.r.result = result;
    s.r.outcome = Some(outcome.as_str().into());
    s.r.handled_at = Some(s.now);
    s.r.responded_at.get_or_insert(s.now);
    let cal = deadlines::calendar_for(s.state, s.tx, s.r.area_id).await?;
    let verify = CategoryRow::limit(&s.cat.verify_limit);
    deadlines::start(&cal, &mut s.r, Which::Verify, s.now, verify)?;
    s.note = s.note.take().or(s.r.result.clone());
    Ok(())
}

/// 核查: the result holds, or goes back to the unit.
async fn verify(s: &mut Step<'_>) -> AppResult<()> {
    let ok = s.body.ok.ok_or_else(|| {
        AppError::field(
            "ok",
            Msg::new("请选择核查结论", "Say whether the result holds"),
        )
    })?;
    if ok {
        s.r.verified_at = Some(s.now);
    } else {
        s.note = text(&s.body.note, "note", 2000, true)?;
        s.r.handled_at = None;
        s.r.outcome = None;
        deadlines::stop(&mut s.r, Which::Verify);
    }
    Ok(())
}

/// 评价: the requester's rating.
async fn rate(s: &mut Step<'_>) -> AppResult<()> {
    let rating = s
        .body
        .rating
        .as_deref()
        .and_then(Rating::parse)
        .ok_or_else(|| {
            AppError::field(
                "rating",
                Msg::new(
                    "请选择：满意、基本满意或不满意",
                    "rating must be satisfied, basic or dissatisfied",
                ),
            )
        })?;
    s.r.rating = Some(rating.as_str().into());
    s.r.rating_comment = text(&s.body.comment, "comment", 500, false)?;
    s.r.rated_at = Some(s.now);
    s.note = Some(format!(
        "{}{}",
        rating.label_zh(),
        s.r.rating_comment
            .as_deref()
            .map(|c| format!("：{c}"))
            .unwrap_or_default()
    ));
    Ok(())
}

/// 结案: closed (unrated counts as satisfied where the policy says so).
async fn close(s: &mut Step<'_>) -> AppResult<()> {
    s.r.closed_at = Some(s.now);
    if s.r.rating.is_none() && s.state.settings.cases.unrated_satisfied {
        s.r.rating = Some(Rating::Satisfied.as_str().into());
        s.r.rating_comment = Some("未评价，按规则视为满意".into());
        s.note = s.note.take().or(Some("未评价，按规则视为满意".into()));
    }
    Ok(())
}

/// 申请延期: working days asked for, with a reason.
async fn request_extension(s: &mut Step<'_>) -> AppResult<()> {
    let d = days(s.body.days, "days")?;
    let reason = text(&s.body.reason, "reason", 500, true)?;
    s.r.pending_ext_days = Some(d as i32);
    s.r.pending_ext_reason = reason.clone();
    s.note = Some(format!(
        "申请延期 {d} 个工作日：{}",
        reason.unwrap_or_default()
    ));
    Ok(())
}

/// 审批延期: approved (the deadline moves) or denied.
async fn decide_extension(s: &mut Step<'_>) -> AppResult<()> {
    let approve = s.body.approve.ok_or_else(|| {
        AppError::field("approve", Msg::new("请选择同意或驳回", "Approve or deny"))
    })?;
    let d = s.r.pending_ext_days.unwrap_or(1).max(1) as u32;
    if approve {
        let cal = deadlines::calendar_for(s.state, s.tx, s.r.area_id).await?;
        let due = deadlines::extend_handling(&cal, &mut s.r, d, s.now)?;
        s.r.extension_count += 1;
        let was_overdue = s.r.overdue;
        set_due(s.state, &mut s.r, due, s.now);
        s.r.overdue = was_overdue && due <= s.now;
        s.event_name = "approve_extension";
    } else {
        s.event_name = "deny_extension";
    }
    s.r.pending_ext_days = None;
    s.r.pending_ext_reason = None;
    Ok(())
}

/// 督办: urged, with a new deadline in working days.
async fn supervise(s: &mut Step<'_>) -> AppResult<()> {
    s.note = text(&s.body.note, "note", 2000, true)?;
    let d = days(s.body.days, "days")?;
    s.r.supervise_count += 1;
    if s.r.handle_due_at.is_some() {
        let cal = deadlines::calendar_for(s.state, s.tx, s.r.area_id).await?;
        let limit = Limit {
            value: d,
            unit: LimitUnit::Days,
        };
        let due = deadlines::start(&cal, &mut s.r, Which::Handle, s.now, limit)?;
        set_due(s.state, &mut s.r, due, s.now);
    }
    Ok(())
}

/// 合并: a repeat joins the case it repeats.
async fn merge(s: &mut Step<'_>) -> AppResult<()> {
    let into = s.body.into_id.ok_or_else(|| {
        AppError::field(
            "into_id",
            Msg::new("请选择要合并到的诉求", "Choose the case to merge into"),
        )
    })?;
    if into == s.r.id {
        return Err(AppError::field(
            "into_id",
            Msg::new("不能合并到自身", "A case cannot be merged into itself"),
        ));
    }
    let target = query::load(s.tx, into)
        .await?
        .ok_or_else(|| AppError::field("into_id", Msg::new("没有这个诉求", "No such case")))?;
    let tacc = query::access(s.tx, s.ctx, &target, s.mine).await?;
    if !tacc.visible() || matches!(target.status(), Status::Merged | Status::Rejected) {
        return Err(AppError::field(
            "into_id",
            Msg::new("不能合并到该诉求", "Cannot merge into that case"),
        ));
    }
    s.r.merged_into = Some(into);
    s.note = Some(format!("合并到 {}", target.no));
    s.merged_target = Some(target);
    Ok(())
}

/// 重办: reopened with a reason; the clock starts again.
async fn reopen(s: &mut Step<'_>) -> AppResult<()> {
    s.note = text(&s.body.reason, "reason", 500, true)?;
    s.r.reopen_count += 1;
    s.r.handled_at = None;
    s.r.verified_at = None;
    s.r.rated_at = None;
    s.r.closed_at = None;
    s.r.outcome = None;
    s.r.rating = None;
    s.r.rating_comment = None;
    let cal = deadlines::calendar_for(s.state, s.tx, s.r.area_id).await?;
    start_clock(s.state, &cal, s.cat, &mut s.r, s.now)?;
    Ok(())
}

fn place_of(r: &CaseRow) -> super::Placement {
    super::Placement {
        area_id: r.area_id,
        grid_id: r.grid_id,
        community_id: r.community_id,
        street_id: r.street_id,
    }
}

/// Writes the changeable columns of a case (all but those fixed at intake), if it still has
/// `version`.
#[tracing::instrument(name = "cases::lifecycle::update_row", skip_all)]
pub async fn update_row<C: ConnectionTrait>(c: &C, r: &CaseRow, version: i32) -> AppResult<u64> {
    let set = store::sql::Set::columns(
        super::intake::column_values(r)
            .into_iter()
            .filter(|(name, _)| !super::intake::FIXED_AT_INTAKE.contains(name)),
    );
    let row = store::sql::Cond::new("id = ? AND version = ?", [r.id.into(), version.into()]);
    let (sql, values) = set.update("cases", row);
    Ok(store::exec(c, &sql, values).await?)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWhistle {
    pub version: i32,
    /// daily (日常) | tough (攻坚) | emergency (应急)
    pub kind: String,
    pub unit_ids: Vec<Uuid>,
    /// Minutes to report in (default `case_whistle_minutes`, 30).
    pub minutes: Option<u32>,
    pub note: Option<String>,
}

/// `POST /cases/{id}/whistles`: the street summons units to the case.
#[tracing::instrument(name = "cases::lifecycle::whistle", skip_all)]
pub async fn whistle(state: &AppState, ctx: &Ctx, id: Uuid, w: NewWhistle) -> AppResult<Case> {
    let tx = store::write_tx(&state.db).await?;
    let row = query::load(&tx, id).await?.ok_or(AppError::NotFound)?;
    let mine = super::my_units(&tx, ctx).await?;
    let acc = query::access(&tx, ctx, &row, &mine).await?;
    if !acc.visible() {
        return Err(query::hidden(&tx, ctx, &row).await);
    }
    let Some(checked) = acc.proofs.street else {
        return Err(AppError::forbidden());
    };
    AppError::stale_unless_same(w.version, row.version)?;
    if !matches!(
        row.status(),
        Status::Registered | Status::Dispatched | Status::InProgress | Status::Arbitration
    ) {
        return Err(wrong_state(Msg::owned(
            format!("诉求当前为「{}」，不能吹哨", row.status().label_zh()),
            format!(
                "The case is {}; no whistle now",
                row.status().label_en().to_lowercase()
            ),
        )));
    }
    let kind = WhistleKind::parse(&w.kind).ok_or_else(|| {
        AppError::field(
            "kind",
            Msg::new(
                "吹哨类型应为 daily、tough 或 emergency",
                "kind must be daily, tough or emergency",
            ),
        )
    })?;
    let mut ids = w.unit_ids.clone();
    ids.sort();
    ids.dedup();
    if ids.is_empty() || ids.len() > 20 {
        return Err(AppError::field(
            "unit_ids",
            Msg::new("请选择 1–20 个单位", "Choose 1–20 units"),
        ));
    }
    for u in &ids {
        unit_exists(&tx, *u).await.map_err(|e| match e {
            AppError::Validation(_) => AppError::field(
                "unit_ids",
                Msg::new(
                    "有单位不存在或已停用",
                    "A unit does not exist or is inactive",
                ),
            ),
            other => other,
        })?;
    }
    let minutes = w.minutes.unwrap_or(state.settings.cases.whistle_minutes);
    if !(5..=1440).contains(&minutes) {
        return Err(AppError::field(
            "minutes",
            Msg::new("报到时限应为 5–1440 分钟", "Give 5–1440 minutes"),
        ));
    }
    let note = text(&w.note, "note", 500, false)?;
    let now = now_ms();
    let wid = new_id();
    store::exec(
        &tx,
        "INSERT INTO case_whistles (id, case_id, kind, note, deadline_at, created_at, created_by_name) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        vec![wid.into(), id.into(), kind.as_str().into(), note.clone().into(), (now + minutes as i64 * 60_000).into(), now.into(), ctx.principal.display_name.clone().into()],
    )
    .await?;
    for u in &ids {
        store::exec(
            &tx,
            "INSERT INTO case_whistle_units (whistle_id, unit_id, arrived_at, arrived_by_name) VALUES ($1, $2, NULL, NULL)",
            vec![wid.into(), (*u).into()],
        )
        .await?;
    }
    let mut r = row.clone();
    r.version += 1;
    r.updated_at = now;
    if update_row(&tx, &r, row.version).await? == 0 {
        return Err(AppError::stale_version());
    }
    super::notify::whistle(&tx, ctx, &r, wid, &ids, minutes).await?;
    event(
        &tx,
        ctx,
        &checked,
        &r,
        "whistle",
        None,
        None,
        None,
        Some(format!(
            "{}吹哨：{} 个单位，{minutes} 分钟内报到{}",
            kind.label_zh(),
            ids.len(),
            note.map(|n| format!("（{n}）")).unwrap_or_default()
        )),
        &[],
    )
    .await?;
    let view = query::view(state, &tx, ctx, &r, &acc).await?;
    tx.commit().await?;
    Ok(view)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Arrival {
    /// Your unit that reports in.
    pub unit_id: Uuid,
}

/// `POST /cases/{id}/whistles/{wid}/arrive`: a summoned unit reports in (报到).
#[tracing::instrument(name = "cases::lifecycle::arrive", skip_all)]
pub async fn arrive(
    state: &AppState,
    ctx: &Ctx,
    id: Uuid,
    wid: Uuid,
    a: Arrival,
) -> AppResult<Case> {
    let tx = store::write_tx(&state.db).await?;
    let row = query::load(&tx, id).await?.ok_or(AppError::NotFound)?;
    let mine = super::my_units(&tx, ctx).await?;
    let acc = query::access(&tx, ctx, &row, &mine).await?;
    if !acc.visible() {
        return Err(query::hidden(&tx, ctx, &row).await);
    }
    let Some(checked) = scope::member_of(Some(a.unit_id), &mine) else {
        return Err(AppError::forbidden());
    };
    let now = now_ms();
    let n = store::exec(
        &tx,
        "UPDATE case_whistle_units SET arrived_at = $1, arrived_by_name = $2 WHERE whistle_id = $3 AND unit_id = $4 AND arrived_at IS NULL \
         AND whistle_id IN (SELECT id FROM case_whistles WHERE case_id = $5)",
        vec![now.into(), ctx.principal.display_name.clone().into(), wid.into(), a.unit_id.into(), id.into()],
    )
    .await?;
    if n == 0 {
        return Err(AppError::conflict(
            "case.already_arrived",
            Msg::new(
                "该单位未被召集，或已经报到",
                "The unit was not summoned, or has reported in already",
            ),
        ));
    }
    event(
        &tx,
        ctx,
        &checked,
        &row,
        "arrive",
        None,
        None,
        Some(a.unit_id),
        None,
        &[],
    )
    .await?;
    let view = query::view(state, &tx, ctx, &row, &acc).await?;
    tx.commit().await?;
    Ok(view)
}

/// Sets warnings and overdue flags on running cases whose time has come. Returns (warned,
/// overdue). Runs every 30 s in `serve`; safe on several instances (each change is versioned).
#[tracing::instrument(name = "cases::lifecycle::sweep", skip_all)]
pub async fn sweep(state: &AppState) -> AppResult<(usize, usize)> {
    let ctx = Ctx::system("系统", state.audit_key.clone());
    let checked = crate::app::users::require_system(&ctx)?;
    let now = now_ms();
    let rows: Vec<CaseRow> = store::fetch_all(
        &state.db,
        &format!(
            "SELECT {} FROM cases WHERE status IN ('dispatched', 'in_progress') AND \
             ((warned = FALSE AND warn_at <= $1) OR (overdue = FALSE AND handle_due_at <= $1)) LIMIT 500",
            query::COLUMNS
        ),
        vec![now.into()],
    )
    .await?;
    let (mut warned, mut overdue) = (0, 0);
    for row in rows {
        let tx = store::write_tx(&state.db).await?;
        let mut r = row.clone();
        let action = if row.handle_due_at.map(|d| d <= now).unwrap_or(false) && !row.overdue {
            r.overdue = true;
            r.warned = true;
            overdue += 1;
            "overdue"
        } else {
            r.warned = true;
            warned += 1;
            "warn"
        };
        r.version += 1;
        r.updated_at = now;
        if update_row(&tx, &r, row.version).await? == 0 {
            continue; // someone acted on it meanwhile; the next sweep looks again
        }
        event(
            &tx,
            &ctx,
            &checked,
            &r,
            action,
            None,
            None,
            r.unit_id,
            None,
            &[],
        )
        .await?;
        stats::record(&tx, Some(&row), &r).await?;
        // 即将超期 to the unit; 已超期 to the unit and the street's desk.
        super::notify::after_step(&tx, &ctx, &r, action, None, None, None).await?;
        tx.commit().await?;
    }
    Ok((warned, overdue))
}

/// The rating link's token for a case (sent to the resident, e.g. by SMS): the case id and an
/// HMAC of it, so it cannot be guessed or altered.
pub fn rating_token(state: &AppState, id: Uuid) -> String {
    let mac = state.keys.blind_index("case-rating-link", &id.to_string());
    format!("{}{}", id.simple(), &mac[..20.min(mac.len())])
}

fn case_of_token(state: &AppState, token: &str) -> Option<Uuid> {
    if token.len() != 52 || !token.is_ascii() {
        return None;
    }
    let id = Uuid::parse_str(&token[..32]).ok()?;
    let want = rating_token(state, id);
    // Constant-time comparison.
    let same = want
        .bytes()
        .zip(token.bytes())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0;
    same.then_some(id)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RatingPage {
    pub no: String,
    pub category_name: String,
    pub title: String,
    pub status: String,
    pub status_label: String,
    pub unit_name: Option<String>,
    pub result: Option<String>,
    pub handled_at: Option<String>,
    pub rating: Option<String>,
    /// The case waits for the resident's rating.
    pub can_rate: bool,
}

/// `GET /public/rate/{token}`: what the resident sees behind the link (no personal data).
#[tracing::instrument(name = "cases::lifecycle::rating_page", skip_all)]
pub async fn rating_page(
    state: &AppState,
    lang: crate::error::Lang,
    token: &str,
) -> AppResult<RatingPage> {
    let id = case_of_token(state, token).ok_or(AppError::NotFound)?;
    let row = query::load(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    #[derive(FromQueryResult)]
    struct N {
        category_name: Option<String>,
        unit_name: Option<String>,
    }
    let n: Option<N> = store::fetch_opt(
        &state.db,
        "SELECT (SELECT name FROM case_categories WHERE id = $1) AS category_name, (SELECT name FROM case_units WHERE id = $2) AS unit_name",
        vec![row.category_id.into(), row.unit_id.into()],
    )
    .await?;
    let status = row.status();
    Ok(RatingPage {
        no: row.no.clone(),
        category_name: n
            .as_ref()
            .and_then(|n| n.category_name.clone())
            .unwrap_or_default(),
        title: row.title.clone(),
        status: row.status.clone(),
        status_label: if lang == crate::error::Lang::Zh {
            status.label_zh()
        } else {
            status.label_en()
        }
        .to_string(),
        unit_name: n.and_then(|n| n.unit_name),
        result: row.result.clone(),
        handled_at: row.handled_at.map(crate::domain::ms_to_rfc3339),
        rating: row.rating.clone(),
        can_rate: status == Status::Verified && row.rating.is_none(),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRating {
    /// satisfied | basic | dissatisfied
    pub rating: String,
    pub comment: Option<String>,
}

/// `POST /public/rate/{token}`: the resident rates through the link (once).
#[tracing::instrument(name = "cases::lifecycle::rate_by_link", skip_all)]
pub async fn rate_by_link(
    state: &AppState,
    meta_lang: crate::error::Lang,
    token: &str,
    r: LinkRating,
) -> AppResult<RatingPage> {
    let id = case_of_token(state, token).ok_or(AppError::NotFound)?;
    let row = query::load(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if row.rating.is_some() {
        return Err(AppError::conflict(
            "case.already_rated",
            Msg::new(
                "您已经评价过了，谢谢！",
                "You have rated this case already. Thank you!",
            ),
        ));
    }
    let mut ctx = Ctx::system("居民（回访链接）", state.audit_key.clone());
    ctx.lang = meta_lang;
    act(
        state,
        &ctx,
        id,
        "rate",
        ActionBody {
            version: row.version,
            rating: Some(r.rating),
            comment: r.comment,
            ..Default::default()
        },
    )
    .await?;
    rating_page(state, meta_lang, token).await
}
