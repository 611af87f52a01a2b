//! Reading cases: the stored row, who may see it, the views, lists by queue, the timeline and
//! the map.
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::units::{explain, Route, Routing};
use crate::app::audit::Entry;
use crate::app::{scope, AppState, Ctx};
use crate::domain::cases::{self as dc, Action, Actor, CaseKind, Facts, Outcome, Rating, Status};
use crate::domain::ids::mask_name;
use crate::domain::role::Permission;
use crate::domain::{ms_to_rfc3339, now_ms};
use crate::error::{AppError, AppResult, Lang};
use crate::store::{self, Db};

/// A case as stored.
#[derive(Debug, Clone, Default, FromQueryResult)]
pub struct CaseRow {
    pub id: Uuid,
    pub no: String,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub grid_id: Option<Uuid>,
    pub area_id: Uuid,
    pub kind: String,
    pub channel: String,
    pub category_id: Uuid,
    pub category_code: String,
    pub title: String,
    pub description: String,
    pub address: Option<String>,
    pub dwelling_id: Option<Uuid>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub requester_name: String,
    pub requester_phone: Option<String>,
    pub requester_person_id: Option<Uuid>,
    pub submitted_by: Option<Uuid>,
    pub status: String,
    pub unit_id: Option<Uuid>,
    pub first_unit_id: Option<Uuid>,
    pub route_rule: Option<String>,
    pub route_duty_id: Option<Uuid>,
    pub route_unit_id: Option<Uuid>,
    pub returned_units: String,
    pub bound: bool,
    pub return_count: i32,
    pub extension_count: i32,
    pub reopen_count: i32,
    pub supervise_count: i32,
    pub warned: bool,
    pub overdue: bool,
    pub received_at: i64,
    pub registered_at: Option<i64>,
    pub dispatched_at: Option<i64>,
    pub responded_at: Option<i64>,
    pub handled_at: Option<i64>,
    pub verified_at: Option<i64>,
    pub rated_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub response_due_at: Option<i64>,
    pub handle_due_at: Option<i64>,
    pub verify_due_at: Option<i64>,
    pub warn_at: Option<i64>,
    /// A running deadline counted a day of a year without a published schedule (暂定).
    pub deadline_provisional: bool,
    /// How the running deadlines were made (JSON of `deadlines::Basis`).
    pub deadline_basis: Option<String>,
    pub result: Option<String>,
    pub outcome: Option<String>,
    pub rating: Option<String>,
    pub rating_comment: Option<String>,
    pub pending_ext_days: Option<i32>,
    pub pending_ext_reason: Option<String>,
    pub merged_into: Option<Uuid>,
    pub idem_key: Option<String>,
    pub stat_day: i32,
    pub version: i32,
    pub updated_at: i64,
}

pub const COLUMNS: &str = "id, no, street_id, community_id, grid_id, area_id, kind, channel, category_id, \
    category_code, title, description, address, dwelling_id, lat, lon, requester_name, requester_phone, \
    requester_person_id, submitted_by, status, unit_id, first_unit_id, route_rule, route_duty_id, route_unit_id, \
    returned_units, bound, return_count, extension_count, reopen_count, supervise_count, warned, overdue, \
    received_at, registered_at, dispatched_at, responded_at, handled_at, verified_at, rated_at, closed_at, \
    response_due_at, handle_due_at, verify_due_at, warn_at, deadline_provisional, deadline_basis, result, outcome, rating, rating_comment, \
    pending_ext_days, pending_ext_reason, merged_into, idem_key, stat_day, version, updated_at";

impl CaseRow {
    /// A case just received at `received_at` (its statistics day `stat_day`): status received,
    /// version 1, no unit yet, no clock running, nothing counted; intake (and the demo and bench
    /// loaders) fill in the rest with `..CaseRow::received(…)`.
    pub fn received(received_at: i64, stat_day: i32) -> CaseRow {
        CaseRow {
            status: Status::Received.as_str().into(),
            received_at,
            stat_day,
            version: 1,
            updated_at: received_at,
            ..Default::default()
        }
    }
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Received)
    }
    pub fn returned(&self) -> Vec<Uuid> {
        self.returned_units
            .split(',')
            .filter_map(|s| Uuid::parse_str(s.trim()).ok())
            .collect()
    }
    pub fn route(&self) -> Route {
        Route {
            rule: match self.route_rule.as_deref() {
                Some("power_list") => "power_list",
                Some("territorial") => "territorial",
                Some("arbitration") => "arbitration",
                Some("manual") => "manual",
                _ => "none",
            },
            unit_id: self.route_unit_id,
            duty_id: self.route_duty_id,
        }
    }
    pub fn counter_facts(&self) -> dc::CounterFacts {
        dc::CounterFacts {
            status: Some(self.status()),
            overdue: self.overdue,
            responded_at: self.responded_at,
            response_due_at: self.response_due_at,
            handled_at: self.handled_at,
            handle_due_at: self.handle_due_at,
            outcome: self.outcome.as_deref().and_then(Outcome::parse),
            rating: self.rating.as_deref().and_then(Rating::parse),
            supervise_count: self.supervise_count,
            return_count: self.return_count,
        }
    }
}

/// The error for a case the caller may not see: 403 when its area is inside the caller's grants
/// (they may know it is there), 404 otherwise (no hint that it exists).
#[tracing::instrument(name = "cases::query::hidden", skip_all)]
pub async fn hidden<C: ConnectionTrait>(c: &C, ctx: &Ctx, row: &CaseRow) -> AppError {
    match scope::can_see(c, ctx, row.area_id).await {
        Ok(true) => AppError::forbidden(),
        Ok(false) => AppError::NotFound,
        Err(e) => e,
    }
}

#[tracing::instrument(name = "cases::query::load", skip_all)]
pub async fn load<C: ConnectionTrait>(c: &C, id: Uuid) -> AppResult<Option<CaseRow>> {
    Ok(store::fetch_opt(
        c,
        &format!("SELECT {COLUMNS} FROM cases WHERE id = $1"),
        vec![id.into()],
    )
    .await?)
}

/// What the caller may do with one case.
#[derive(Debug, Clone, Copy, Default)]
pub struct Access {
    pub read: bool,
    pub dispatch: bool,
    pub street: bool,
    /// A member of the unit the case is with.
    pub unit: bool,
    /// A member of a unit a whistle summoned.
    pub summoned: bool,
    pub requester: bool,
    /// The proofs behind `dispatch`, `street`, `unit` and `requester`: what a step takes to be
    /// written in the timeline ([`super::lifecycle::event`]) or a requester read to be audited.
    pub proofs: Proofs,
}

/// The scope proofs of one caller on one case, by the part they may play.
#[derive(Debug, Clone, Copy, Default)]
pub struct Proofs {
    pub dispatch: Option<scope::Checked>,
    pub street: Option<scope::Checked>,
    pub unit: Option<scope::Checked>,
    pub requester: Option<scope::Checked>,
}

impl Access {
    pub fn visible(&self) -> bool {
        self.read || self.dispatch || self.unit || self.summoned || self.requester
    }
    /// Those handling the case see the requester.
    pub fn sees_requester(&self) -> bool {
        self.dispatch || self.unit || self.requester
    }
    pub fn may(&self, a: Action) -> bool {
        self.proof_for(a).is_some()
    }
    /// The proof that lets the caller take `a`, if any.
    pub fn proof_for(&self, a: Action) -> Option<scope::Checked> {
        let p = &self.proofs;
        match a.actor() {
            Actor::Dispatcher => p.dispatch,
            Actor::Street => p.street,
            Actor::Unit => p.unit,
            Actor::RequesterOrDispatcher => p.requester.or(p.dispatch),
        }
    }
    /// The proof behind seeing the requester as a handler (a dispatcher or the handling unit).
    pub fn handler(&self) -> Option<scope::Checked> {
        self.proofs.dispatch.or(self.proofs.unit)
    }
}

#[tracing::instrument(name = "cases::query::access", skip_all)]
pub async fn access<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    row: &CaseRow,
    mine: &[Uuid],
) -> AppResult<Access> {
    let summoned = if mine.is_empty() {
        false
    } else {
        let mut values: Vec<Value> = vec![row.id.into()];
        values.extend(mine.iter().copied().map(Value::from));
        store::fetch_i64(
            c,
            &format!(
                "SELECT COUNT(*) FROM case_whistle_units wu JOIN case_whistles w ON w.id = wu.whistle_id \
                 WHERE w.case_id = $1 AND wu.unit_id IN ({})",
                store::placeholders(2, mine.len())
            ),
            values,
        )
        .await?
            > 0
    };
    let requester = row.submitted_by.is_some() && row.submitted_by == ctx.principal.actor_id();
    let proofs = Proofs {
        dispatch: scope::permission(c, ctx, Permission::DispatchCases, row.area_id).await?,
        street: scope::permission(c, ctx, Permission::ArbitrateCases, row.area_id).await?,
        unit: scope::member_of(row.unit_id, mine),
        requester: requester.then(|| scope::own(ctx)),
    };
    Ok(Access {
        read: scope::has_permission(c, ctx, Permission::ReadCases, row.area_id).await?,
        dispatch: proofs.dispatch.is_some(),
        street: proofs.street.is_some(),
        unit: proofs.unit.is_some(),
        summoned,
        requester,
        proofs,
    })
}

/// The state machine's facts about a case.
pub fn facts(state: &AppState, row: &CaseRow, return_visit_required: bool) -> Facts {
    let p = &state.settings.cases;
    Facts {
        return_visit_required,
        return_count: row.return_count,
        max_returns: p.max_returns as i32,
        bound: row.bound,
        extension_pending: row.pending_ext_days.is_some(),
        extension_count: row.extension_count,
        max_extensions: p.max_extensions as i32,
        reopen_count: row.reopen_count,
        max_reopens: p.max_reopens as i32,
        rating: row.rating.as_deref().and_then(Rating::parse),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseSummary {
    pub id: Uuid,
    pub no: String,
    pub kind: String,
    pub kind_label: String,
    pub category_code: String,
    pub category_name: String,
    pub title: String,
    pub status: String,
    pub status_label: String,
    pub channel: String,
    pub area_id: Uuid,
    pub area_name: String,
    pub community_name: String,
    pub unit_id: Option<Uuid>,
    pub unit_name: Option<String>,
    pub received_at: String,
    pub handle_due_at: Option<String>,
    /// Minutes until the handling deadline (negative once overdue); null without a running clock.
    pub due_in_minutes: Option<i64>,
    /// RFC 3339: when the unit must respond (签收), once dispatched.
    pub response_due_at: Option<String>,
    /// A running deadline counted a day of a year whose holiday schedule is not published yet,
    /// Monday–Friday (暂定); it is computed again when that year is loaded.
    pub deadline_provisional: bool,
    /// Past its handling deadline and still being handled (what the 超期 counter counts).
    pub overdue: bool,
    /// Handled after its deadline (no longer running: 逾期办结).
    pub late: bool,
    pub warned: bool,
    pub supervised: bool,
    pub return_count: i32,
    pub rating: Option<String>,
    pub version: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Requester {
    pub name: String,
    pub phone: Option<String>,
    /// true: shown masked (you are not handling this case).
    pub masked: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PendingExtension {
    pub days: i32,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WhistleUnit {
    pub unit_id: Uuid,
    pub unit_name: String,
    pub arrived_at: Option<String>,
    pub arrived_by: Option<String>,
    /// Arrived after the deadline, or the deadline passed without arrival.
    pub late: bool,
    /// One of your units (you may report in for it).
    pub mine: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Whistle {
    pub id: Uuid,
    pub kind: String,
    pub kind_label: String,
    pub note: Option<String>,
    pub deadline_at: String,
    pub created_at: String,
    pub created_by: String,
    pub units: Vec<WhistleUnit>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Case {
    #[serde(flatten)]
    pub summary: CaseSummary,
    pub description: String,
    pub address: Option<String>,
    pub dwelling_id: Option<Uuid>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub requester: Requester,
    pub routing: Option<Routing>,
    pub first_unit_id: Option<Uuid>,
    pub first_unit_name: Option<String>,
    pub bound: bool,
    pub verify_due_at: Option<String>,
    pub dispatched_at: Option<String>,
    pub responded_at: Option<String>,
    pub handled_at: Option<String>,
    pub verified_at: Option<String>,
    pub closed_at: Option<String>,
    pub result: Option<String>,
    pub outcome: Option<String>,
    pub rating_comment: Option<String>,
    pub extension_count: i32,
    pub reopen_count: i32,
    pub supervise_count: i32,
    pub merged_into: Option<Uuid>,
    pub pending_extension: Option<PendingExtension>,
    pub whistles: Vec<Whistle>,
    /// What you may do now.
    pub allowed_actions: Vec<String>,
    /// For dispatchers, once verified and unrated: the console path of the resident's rating link
    /// (`/rate/<token>`), to send by SMS.
    pub rating_link: Option<String>,
}

#[derive(FromQueryResult)]
pub struct Names {
    pub category_name: Option<String>,
    pub area_name: Option<String>,
    pub community_name: Option<String>,
    pub unit_name: Option<String>,
}

async fn names<C: ConnectionTrait>(c: &C, row: &CaseRow) -> AppResult<Names> {
    Ok(store::fetch_opt(
        c,
        "SELECT (SELECT name FROM case_categories WHERE id = $1) AS category_name, \
         (SELECT name FROM areas WHERE id = $2) AS area_name, \
         (SELECT name FROM areas WHERE id = $3) AS community_name, \
         (SELECT name FROM case_units WHERE id = $4) AS unit_name",
        vec![
            row.category_id.into(),
            row.area_id.into(),
            row.community_id.into(),
            row.unit_id.into(),
        ],
    )
    .await?
    .unwrap_or(Names {
        category_name: None,
        area_name: None,
        community_name: None,
        unit_name: None,
    }))
}

fn label<T: Copy>(
    v: Option<T>,
    lang: Lang,
    zh: fn(T) -> &'static str,
    en: fn(T) -> &'static str,
) -> String {
    v.map(|v| if lang == Lang::Zh { zh(v) } else { en(v) })
        .unwrap_or("")
        .to_string()
}

fn running(status: Status) -> bool {
    matches!(status, Status::Dispatched | Status::InProgress)
}

fn summary_of(row: &CaseRow, n: Names, lang: Lang, now: i64) -> CaseSummary {
    let status = row.status();
    CaseSummary {
        id: row.id,
        no: row.no.clone(),
        kind: row.kind.clone(),
        kind_label: label(
            CaseKind::parse(&row.kind),
            lang,
            CaseKind::label_zh,
            CaseKind::label_en,
        ),
        category_code: row.category_code.clone(),
        category_name: n.category_name.unwrap_or_default(),
        title: row.title.clone(),
        status: row.status.clone(),
        status_label: label(Some(status), lang, Status::label_zh, Status::label_en),
        channel: row.channel.clone(),
        area_id: row.area_id,
        area_name: n.area_name.unwrap_or_default(),
        community_name: n.community_name.unwrap_or_default(),
        unit_id: row.unit_id,
        unit_name: n.unit_name,
        received_at: ms_to_rfc3339(row.received_at),
        handle_due_at: row.handle_due_at.map(ms_to_rfc3339),
        due_in_minutes: row
            .handle_due_at
            .filter(|_| running(status))
            .map(|d| (d - now).div_euclid(60_000)),
        response_due_at: row.response_due_at.map(ms_to_rfc3339),
        overdue: row.overdue && running(status),
        late: row.overdue && !running(status),
        deadline_provisional: row.deadline_provisional,
        warned: row.warned,
        supervised: row.supervise_count > 0,
        return_count: row.return_count,
        rating: row.rating.clone(),
        version: row.version,
    }
}

/// The full view. Decrypts and shows the requester to those handling the case (audited).
#[tracing::instrument(name = "cases::query::view", skip_all)]
pub async fn view<C: crate::app::audit::Recorder>(
    state: &AppState,
    c: &C,
    ctx: &Ctx,
    row: &CaseRow,
    acc: &Access,
) -> AppResult<Case> {
    let now = now_ms();
    let n = names(c, row).await?;
    let first_unit_name = match row.first_unit_id {
        Some(id) => {
            #[derive(FromQueryResult)]
            struct N {
                name: String,
            }
            store::fetch_opt::<N, _>(
                c,
                "SELECT name FROM case_units WHERE id = $1",
                vec![id.into()],
            )
            .await?
            .map(|n| n.name)
        }
        None => None,
    };
    let routing = match row.route_rule {
        Some(_) => Some(explain(c, ctx.lang, row.route(), &row.category_code).await?),
        None => None,
    };
    let rv = {
        #[derive(FromQueryResult)]
        struct C2 {
            return_visit_required: bool,
        }
        store::fetch_opt::<C2, _>(
            c,
            "SELECT return_visit_required FROM case_categories WHERE id = $1",
            vec![row.category_id.into()],
        )
        .await?
        .map(|c| c.return_visit_required)
        .unwrap_or(true)
    };
    let mut whistles = whistles(c, ctx.lang, row.id, now).await?;
    let mine_summoned = if acc.summoned || acc.unit {
        let mine = super::my_units(c, ctx).await?;
        for u in whistles.iter_mut().flat_map(|w| w.units.iter_mut()) {
            u.mine = mine.contains(&u.unit_id);
        }
        whistles
            .iter()
            .any(|w| w.units.iter().any(|u| u.arrived_at.is_none() && u.mine))
    } else {
        false
    };
    if let (true, false, Some(checked)) = (acc.sees_requester(), acc.requester, acc.handler()) {
        c.record_entry(
            Entry::by(ctx, &checked, "case.read_requester", "case", row.id)
                .area(row.community_id)
                .fields(&["requester_name", "requester_phone"]),
        )
        .await?;
    }
    Ok(assemble(
        state,
        ctx,
        row,
        acc,
        Parts {
            names: n,
            first_unit_name,
            routing,
            return_visit_required: rv,
            whistles,
            may_arrive: mine_summoned,
        },
    ))
}

/// What a view needs besides the row.
pub struct Parts {
    pub names: Names,
    pub first_unit_name: Option<String>,
    pub routing: Option<Routing>,
    pub return_visit_required: bool,
    pub whistles: Vec<Whistle>,
    /// One of the caller's units was summoned and has not reported in.
    pub may_arrive: bool,
}

/// Builds the view from the row and its parts (no IO; the caller audits a requester read).
pub fn assemble(state: &AppState, ctx: &Ctx, row: &CaseRow, acc: &Access, p: Parts) -> Case {
    let now = now_ms();
    let name = state.keys.decrypt(&row.requester_name).unwrap_or_default();
    let phone = row
        .requester_phone
        .as_deref()
        .and_then(|p| state.keys.decrypt(p));
    let requester = if acc.sees_requester() {
        Requester {
            name,
            phone,
            masked: false,
        }
    } else {
        Requester {
            name: mask_name(&name),
            phone: phone.as_deref().map(mask_phone),
            masked: true,
        }
    };
    let f = facts(state, row, p.return_visit_required);
    let mut allowed: Vec<String> = dc::possible(row.status(), &f)
        .into_iter()
        .filter(|a| acc.may(*a))
        .map(|a| a.as_str().to_string())
        .collect();
    if acc.street
        && matches!(
            row.status(),
            Status::Registered | Status::Dispatched | Status::InProgress | Status::Arbitration
        )
    {
        allowed.push("whistle".into());
    }
    if p.may_arrive {
        allowed.push("arrive".into());
    }
    let summary = summary_of(row, p.names, ctx.lang, now);
    Case {
        summary,
        description: row.description.clone(),
        address: row.address.clone(),
        dwelling_id: row.dwelling_id,
        lat: row.lat,
        lon: row.lon,
        requester,
        routing: p.routing,
        first_unit_id: row.first_unit_id,
        first_unit_name: p.first_unit_name,
        bound: row.bound,
        verify_due_at: row.verify_due_at.map(ms_to_rfc3339),
        dispatched_at: row.dispatched_at.map(ms_to_rfc3339),
        responded_at: row.responded_at.map(ms_to_rfc3339),
        handled_at: row.handled_at.map(ms_to_rfc3339),
        verified_at: row.verified_at.map(ms_to_rfc3339),
        closed_at: row.closed_at.map(ms_to_rfc3339),
        result: row.result.clone(),
        outcome: row.outcome.clone(),
        rating_comment: row.rating_comment.clone(),
        extension_count: row.extension_count,
        reopen_count: row.reopen_count,
        supervise_count: row.supervise_count,
        merged_into: row.merged_into,
        pending_extension: row.pending_ext_days.map(|d| PendingExtension {
            days: d,
            reason: row.pending_ext_reason.clone().unwrap_or_default(),
        }),
        whistles: p.whistles,
        allowed_actions: allowed,
        rating_link: (acc.dispatch && row.status() == Status::Verified && row.rating.is_none())
            .then(|| format!("/rate/{}", super::lifecycle::rating_token(state, row.id))),
    }
}

/// A phone number masked to its last four digits.
pub fn mask_phone(p: &str) -> String {
    let digits: Vec<char> = p.chars().collect();
    if digits.len() <= 4 {
        return "****".into();
    }
    let keep = if digits.len() >= 11 { 3 } else { 0 };
    let head: String = digits[..keep].iter().collect();
    let tail: String = digits[digits.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

async fn whistles<C: ConnectionTrait>(
    c: &C,
    lang: Lang,
    case_id: Uuid,
    now: i64,
) -> AppResult<Vec<Whistle>> {
    #[derive(FromQueryResult)]
    struct W {
        id: Uuid,
        kind: String,
        note: Option<String>,
        deadline_at: i64,
        created_at: i64,
        created_by_name: String,
    }
    #[derive(FromQueryResult)]
    struct U {
        unit_id: Uuid,
        unit_name: String,
        arrived_at: Option<i64>,
        arrived_by_name: Option<String>,
    }
    let ws: Vec<W> = store::fetch_all(
        c,
        "SELECT id, kind, note, deadline_at, created_at, created_by_name FROM case_whistles WHERE case_id = $1 ORDER BY created_at",
        vec![case_id.into()],
    )
    .await?;
    let mut out = vec![];
    for w in ws {
        let units: Vec<U> = store::fetch_all(
            c,
            "SELECT wu.unit_id, u.name AS unit_name, wu.arrived_at, wu.arrived_by_name FROM case_whistle_units wu \
             JOIN case_units u ON u.id = wu.unit_id WHERE wu.whistle_id = $1 ORDER BY u.name",
            vec![w.id.into()],
        )
        .await?;
        out.push(Whistle {
            id: w.id,
            kind_label: label(
                dc::WhistleKind::parse(&w.kind),
                lang,
                dc::WhistleKind::label_zh,
                dc::WhistleKind::label_en,
            ),
            kind: w.kind,
            note: w.note,
            deadline_at: ms_to_rfc3339(w.deadline_at),
            created_at: ms_to_rfc3339(w.created_at),
            created_by: w.created_by_name,
            units: units
                .into_iter()
                .map(|u| WhistleUnit {
                    late: match u.arrived_at {
                        Some(a) => a > w.deadline_at,
                        None => now > w.deadline_at,
                    },
                    mine: false,
                    unit_id: u.unit_id,
                    unit_name: u.unit_name,
                    arrived_at: u.arrived_at.map(ms_to_rfc3339),
                    arrived_by: u.arrived_by_name,
                })
                .collect(),
        });
    }
    Ok(out)
}

/// `GET /cases/{id}`.
#[tracing::instrument(name = "cases::query::get", skip_all)]
pub async fn get(state: &AppState, ctx: &Ctx, id: Uuid) -> AppResult<Case> {
    let row = load(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let mine = super::my_units(&state.db, ctx).await?;
    let acc = access(&state.db, ctx, &row, &mine).await?;
    if !acc.visible() {
        return Err(hidden(&state.db, ctx, &row).await);
    }
    view(state, &state.db, ctx, &row, &acc).await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    /// dispatch (the dispatcher's queues) | handle (your units' cases) | mine (submitted by you) | all (default)
    pub queue: Option<String>,
    /// One status, or several comma-separated.
    pub status: Option<String>,
    pub area_id: Option<Uuid>,
    pub unit_id: Option<Uuid>,
    pub category_code: Option<String>,
    /// true: only overdue cases.
    pub overdue: Option<bool>,
    /// Part of the number or the title.
    pub q: Option<String>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

// `GET /cases`.
crate::app::page_of!(CasePage, CaseSummary);

/// The WHERE clause (over `cases c`) and its values for a list's filters, within what the
/// caller may see: used by the list and by the export.
#[tracing::instrument(name = "cases::query::list_filter", skip_all)]
/// The case list's filter — the cases the caller may see, narrowed by the query — and the proof
/// that it was so filtered.
pub async fn list_filter(
    db: &Db,
    ctx: &Ctx,
    q: &CaseQuery,
) -> AppResult<(String, Vec<Value>, scope::Checked)> {
    use crate::store::sql::{Cond, Where};
    let mine = super::my_units(db, ctx).await?;
    let me = ctx.principal.actor_id();
    let mut w = Where::new();
    let my_units = || Cond::any_of("c.unit_id", mine.iter().copied());
    let submitted_by_me = || match me {
        Some(me) => Cond::new("c.submitted_by = ?", [me.into()]),
        None => Cond::none(),
    };
    let checked = match q.queue.as_deref().unwrap_or("all") {
        "dispatch" => {
            let (cond, checked) = scope::listing(ctx, Permission::DispatchCases, "c.area_id");
            w.and_cond(cond);
            checked
        }
        "handle" => {
            w.and_cond(my_units());
            scope::own(ctx)
        }
        "mine" => {
            w.and_cond(submitted_by_me());
            scope::own(ctx)
        }
        "all" => {
            let (cond, checked) = scope::listing(ctx, Permission::ReadCases, "c.area_id");
            w.and_cond(Cond::or(vec![cond, my_units(), submitted_by_me()]));
            checked
        }
        _ => {
            return Err(AppError::field(
                "queue",
                crate::error::Msg::new(
                    "queue 应为 dispatch、handle、mine 或 all",
                    "queue must be dispatch, handle, mine or all",
                ),
            ))
        }
    };
    if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
        let mut sts = vec![];
        for p in s.split(',') {
            match Status::parse(p.trim()) {
                Some(st) => sts.push(st.as_str()),
                None => {
                    return Err(AppError::field(
                        "status",
                        crate::error::Msg::owned(
                            format!("未知状态「{p}」"),
                            format!("Unknown status '{p}'"),
                        ),
                    ))
                }
            }
        }
        w.and_in("c.status", sts);
    }
    if let Some(a) = q.area_id {
        w.and(
            "c.area_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = ?)",
            [a.into()],
        );
    }
    if let Some(u) = q.unit_id {
        w.and("c.unit_id = ?", [u.into()]);
    }
    if let Some(code) = q.category_code.as_deref().filter(|s| !s.is_empty()) {
        w.and(
            "(c.category_code = ? OR c.category_code LIKE ? ESCAPE '\\')",
            [
                code.to_string().into(),
                format!("{}%", store::like_escape(code)).into(),
            ],
        );
    }
    if q.overdue == Some(true) {
        w.and("c.overdue = TRUE", []);
    }
    if let Some(s) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let like = format!("%{}%", store::like_escape(s));
        w.and(
            "(c.no LIKE ? ESCAPE '\\' OR c.title LIKE ? ESCAPE '\\')",
            [like.clone().into(), like.into()],
        );
    }
    let (sql, values) = w.build(1);
    Ok((sql, values, checked))
}

#[tracing::instrument(name = "cases::query::list", skip_all)]
pub async fn list(db: &Db, ctx: &Ctx, q: CaseQuery) -> AppResult<CasePage> {
    let (where_sql, values, _) = list_filter(db, ctx, &q).await?;
    let paging = store::Paging::new(q.page, q.page_size);
    let cols = COLUMNS
        .split(", ")
        .map(|c| format!("c.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    // A unit's open cases by deadline; everything else (handled, closed, all) newest first.
    let running_only = q
        .status
        .as_deref()
        .map(|s| {
            s.split(',')
                .all(|p| matches!(p.trim(), "dispatched" | "in_progress"))
        })
        .unwrap_or(false);
    let order = if q.queue.as_deref() == Some("handle") && running_only {
        "ORDER BY c.overdue DESC, c.handle_due_at IS NULL, c.handle_due_at, c.received_at DESC"
    } else {
        "ORDER BY c.received_at DESC, c.id DESC"
    };
    let (rows, total): (Vec<CaseRow>, i64) = store::page(
        db,
        &format!("SELECT COUNT(*) FROM cases c WHERE {where_sql}"),
        &format!("SELECT {cols} FROM cases c WHERE {where_sql} {order}"),
        values,
        paging,
    )
    .await?;
    let now = now_ms();
    let mut items = vec![];
    for row in &rows {
        let n = names(db, row).await?;
        items.push(summary_of(row, n, ctx.lang, now));
    }
    Ok(CasePage::new(items, total, paging))
}

/// Queue counters for the dispatcher workbench: cases per status in the caller's dispatch scope,
/// and how many are overdue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueCounts {
    pub by_status: std::collections::BTreeMap<String, i64>,
    pub overdue: i64,
    /// Cases with your units that wait for you (dispatched or in progress).
    pub handle: i64,
}

#[tracing::instrument(name = "cases::query::counts", skip_all)]
pub async fn counts(db: &Db, ctx: &Ctx) -> AppResult<QueueCounts> {
    let (cond, values) = scope::filter_sql_for(ctx, Permission::DispatchCases, "area_id", 1);
    #[derive(FromQueryResult)]
    struct R {
        status: String,
        n: i64,
    }
    let rows: Vec<R> = store::fetch_all(
        db,
        &format!(
            "SELECT status, COUNT(*) AS n FROM cases WHERE {cond} AND status NOT IN ('closed', 'rejected', 'merged') GROUP BY status"
        ),
        values.clone(),
    )
    .await?;
    let overdue = store::fetch_i64(
        db,
        &format!("SELECT COUNT(*) FROM cases WHERE {cond} AND overdue = TRUE AND status IN ('dispatched', 'in_progress')"),
        values,
    )
    .await?;
    let mine = super::my_units(db, ctx).await?;
    let handle = if mine.is_empty() {
        0
    } else {
        store::fetch_i64(
            db,
            &format!(
                "SELECT COUNT(*) FROM cases WHERE unit_id IN ({}) AND status IN ('dispatched', 'in_progress')",
                store::placeholders(1, mine.len())
            ),
            mine.into_iter().map(Value::from).collect(),
        )
        .await?
    };
    Ok(QueueCounts {
        by_status: rows.into_iter().map(|r| (r.status, r.n)).collect(),
        overdue,
        handle,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseEvent {
    pub id: Uuid,
    pub at: String,
    pub actor_name: String,
    pub action: String,
    pub action_label: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub unit_name: Option<String>,
    pub note: Option<String>,
    pub attachments: Vec<serde_json::Value>,
}

/// Event names that are not lifecycle actions.
fn event_label(action: &str, lang: Lang) -> String {
    if let Some(a) = Action::parse(action) {
        return if lang == Lang::Zh {
            a.label_zh()
        } else {
            a.label_en()
        }
        .to_string();
    }
    let (zh, en) = match action {
        "receive" => ("受理", "Received"),
        "whistle" => ("吹哨", "Whistle"),
        "arrive" => ("报到", "Reported in"),
        "warn" => ("临期预警", "Deadline warning"),
        "overdue" => ("超期", "Overdue"),
        "approve_extension" => ("同意延期", "Extension approved"),
        "recompute_deadline" => ("重新计算时限", "Deadline recomputed"),
        "deny_extension" => ("驳回延期", "Extension denied"),
        _ => (action, action),
    };
    if lang == Lang::Zh { zh } else { en }.to_string()
}

#[tracing::instrument(name = "cases::query::timeline", skip_all)]
pub async fn timeline(state: &AppState, ctx: &Ctx, id: Uuid) -> AppResult<Vec<CaseEvent>> {
    let row = load(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let mine = super::my_units(&state.db, ctx).await?;
    if !access(&state.db, ctx, &row, &mine).await?.visible() {
        return Err(hidden(&state.db, ctx, &row).await);
    }
    #[derive(FromQueryResult)]
    struct E {
        id: Uuid,
        at: i64,
        actor_name: String,
        action: String,
        from_status: Option<String>,
        to_status: Option<String>,
        unit_name: Option<String>,
        note: Option<String>,
        attachments: Option<String>,
    }
    let rows: Vec<E> = store::fetch_all(
        &state.db,
        "SELECT e.id, e.at, e.actor_name, e.action, e.from_status, e.to_status, u.name AS unit_name, e.note, e.attachments \
         FROM case_events e LEFT JOIN case_units u ON u.id = e.unit_id WHERE e.case_id = $1 ORDER BY e.at, e.id",
        vec![id.into()],
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|e| CaseEvent {
            action_label: event_label(&e.action, ctx.lang),
            id: e.id,
            at: ms_to_rfc3339(e.at),
            actor_name: e.actor_name,
            action: e.action,
            from_status: e.from_status,
            to_status: e.to_status,
            unit_name: e.unit_name,
            note: e.note,
            attachments: e
                .attachments
                .and_then(|a| serde_json::from_str::<Vec<serde_json::Value>>(&a).ok())
                .unwrap_or_default(),
        })
        .collect())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MapQuery {
    /// The area to draw (its grids or communities with their boundaries); default: your first grant.
    pub area_id: Option<Uuid>,
    /// Only cases received on or after this date (YYYY-MM-DD, Asia/Shanghai).
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MapArea {
    pub id: Uuid,
    pub name: String,
    /// The parent's name (a grid's community), to tell apart areas of one name on the map.
    pub parent_name: Option<String>,
    pub kind: String,
    pub boundary: Option<serde_json::Value>,
    /// Open cases in the area.
    pub open: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MapCase {
    pub id: Uuid,
    pub no: String,
    pub lat: f64,
    pub lon: f64,
    pub status: String,
    pub overdue: bool,
    pub category_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseMap {
    pub area_id: Uuid,
    pub areas: Vec<MapArea>,
    pub cases: Vec<MapCase>,
}

/// `GET /cases/map`: the grids (or communities) under an area with their boundaries, and up to
/// 5,000 located cases.
#[tracing::instrument(name = "cases::query::map", skip_all)]
pub async fn map(db: &Db, ctx: &Ctx, q: MapQuery) -> AppResult<CaseMap> {
    let area_id = match q.area_id {
        Some(a) => a,
        None => match scope::granted_areas(ctx) {
            Some(v) => v.first().copied().ok_or(AppError::NotFound)?,
            // A system admin: the first root of the tree.
            None => {
                #[derive(FromQueryResult)]
                struct R {
                    id: Uuid,
                }
                store::fetch_found::<R, _>(
                    db,
                    "SELECT id FROM areas WHERE parent_id IS NULL ORDER BY code LIMIT 1",
                    vec![],
                )
                .await?
                .id
            }
        },
    };
    scope::require_visible(db, ctx, area_id).await?;
    if !scope::has_permission(db, ctx, Permission::ReadCases, area_id).await? {
        return Err(AppError::forbidden());
    }
    let (from, to) = super::stats::day_range(q.from.as_deref(), q.to.as_deref())?;
    #[derive(FromQueryResult)]
    struct A {
        id: Uuid,
        name: String,
        parent_name: Option<String>,
        kind: String,
        boundary: Option<String>,
    }
    // The finest level with boundaries under the area: grids, else communities, else the area.
    let mut areas: Vec<A> = vec![];
    for kind in ["grid", "community"] {
        areas = store::fetch_all(
            db,
            "SELECT a.id, a.name, p.name AS parent_name, a.kind, a.boundary FROM areas a \
             JOIN area_closure c ON c.descendant_id = a.id LEFT JOIN areas p ON p.id = a.parent_id \
             WHERE c.ancestor_id = $1 AND a.kind = $2 AND a.boundary IS NOT NULL ORDER BY a.code LIMIT 2000",
            vec![area_id.into(), kind.into()],
        )
        .await?;
        if !areas.is_empty() {
            break;
        }
    }
    #[derive(FromQueryResult)]
    struct Open {
        area_id: Uuid,
        n: i64,
    }
    let open: Vec<Open> = store::fetch_all(
        db,
        "SELECT cl.ancestor_id AS area_id, COUNT(*) AS n FROM cases c JOIN area_closure cl ON cl.descendant_id = c.area_id \
         JOIN area_closure top ON top.descendant_id = c.area_id AND top.ancestor_id = $1 \
         JOIN areas a ON a.id = cl.ancestor_id AND a.kind IN ('grid', 'community') \
         WHERE c.status NOT IN ('closed', 'rejected', 'merged') AND c.stat_day BETWEEN $2 AND $3 GROUP BY cl.ancestor_id",
        vec![area_id.into(), from.into(), to.into()],
    )
    .await?;
    let open: std::collections::HashMap<Uuid, i64> =
        open.into_iter().map(|o| (o.area_id, o.n)).collect();
    #[derive(FromQueryResult)]
    struct M {
        id: Uuid,
        no: String,
        lat: f64,
        lon: f64,
        status: String,
        overdue: bool,
        category_name: String,
    }
    let cases: Vec<M> = store::fetch_all(
        db,
        "SELECT c.id, c.no, c.lat, c.lon, c.status, c.overdue, k.name AS category_name FROM cases c \
         JOIN case_categories k ON k.id = c.category_id \
         WHERE c.area_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = $1) \
         AND c.lat IS NOT NULL AND c.lon IS NOT NULL AND c.stat_day BETWEEN $2 AND $3 \
         ORDER BY c.received_at DESC LIMIT 5000",
        vec![area_id.into(), from.into(), to.into()],
    )
    .await?;
    Ok(CaseMap {
        area_id,
        areas: areas
            .into_iter()
            .map(|a| MapArea {
                open: open.get(&a.id).copied().unwrap_or(0),
                id: a.id,
                name: a.name,
                parent_name: a.parent_name,
                kind: a.kind,
                boundary: a.boundary.and_then(|b| serde_json::from_str(&b).ok()),
            })
            .collect(),
        cases: cases
            .into_iter()
            .map(|m| MapCase {
                id: m.id,
                no: m.no,
                lat: m.lat,
                lon: m.lon,
                status: m.status,
                overdue: m.overdue,
                category_name: m.category_name,
            })
            .collect(),
    })
}
