//! Stars (星级), the annual party ratings (年度评议: points and 民主评议), commendations (表彰) and
//! the people due for one, so thanks come on time.
use std::collections::HashMap;

use sea_orm::{FromQueryResult, Value};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::ledger::{self, Actor};
use super::{age, date_field, en, hours, page_of, text_field, Ctx};
use crate::app::audit::{self, Entry};
use crate::app::{scope, AppState};
use crate::domain::calendar::{local_date, local_midnight_ms};
use crate::domain::points::{rate, stars, Event, Grade};
use crate::domain::role::Permission;
use crate::domain::{ms_to_rfc3339, new_id, now_ms};
use crate::error::{AppError, AppResult, Msg};
use crate::store::{self, Db};

#[derive(Debug, Serialize, ToSchema)]
pub struct StarSummary {
    /// Verified hours for 1–5 stars.
    pub thresholds: Vec<f64>,
    /// Volunteers with 0, 1, … 5 stars.
    pub counts: Vec<i64>,
}

#[tracing::instrument(name = "service::ratings::star_summary", skip_all)]
pub async fn star_summary(
    state: &AppState,
    ctx: &Ctx,
    area_id: Option<Uuid>,
) -> AppResult<StarSummary> {
    let db = &state.db;
    let t = state.settings.service.star_hours;
    let (cond, values) = super::area_filter(
        db,
        ctx,
        Permission::ReadService,
        area_id,
        "v.community_id",
        1,
    )
    .await?;
    // The thresholds are the instance's settings (whole minutes), written into the statement.
    let [m1, m2, m3, m4, m5] = t.map(|h| (h * 60.0).ceil() as i64);
    #[derive(FromQueryResult)]
    struct S {
        s: i32,
        n: i64,
    }
    let rows: Vec<S> = store::fetch_all(
        db,
        &format!(
            "SELECT CAST(CASE WHEN v.verified_minutes >= {m5} THEN 5 WHEN v.verified_minutes >= {m4} THEN 4 WHEN v.verified_minutes >= {m3} THEN 3 \
             WHEN v.verified_minutes >= {m2} THEN 2 WHEN v.verified_minutes >= {m1} THEN 1 ELSE 0 END AS INTEGER) AS s, COUNT(*) AS n \
             FROM volunteers v WHERE {cond} GROUP BY 1"
        ),
        values,
    )
    .await?;
    let mut counts = vec![0i64; 6];
    for r in rows {
        counts[r.s.clamp(0, 5) as usize] += r.n;
    }
    Ok(StarSummary {
        thresholds: t.to_vec(),
        counts,
    })
}

// ------------------------------------------------------------------------------------ reviews

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReviewInput {
    pub member_id: Uuid,
    pub year: i32,
    /// 民主评议 score, 0–100.
    pub score: i64,
}

#[tracing::instrument(name = "service::ratings::put_review", skip_all)]
pub async fn put_review(db: &Db, ctx: &Ctx, r: ReviewInput) -> AppResult<()> {
    year_ok(r.year)?;
    if !(0..=100).contains(&r.score) {
        return Err(AppError::field(
            "score",
            Msg::new(
                "评议分应为 0–100 的整数",
                "A score is a whole number from 0 to 100",
            ),
        ));
    }
    let m = super::people::member(db, r.member_id).await?;
    let checked =
        scope::require_permission(db, ctx, Permission::ManageService, m.community_id).await?;
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "DELETE FROM party_reviews WHERE member_id = $1 AND year = $2",
        vec![r.member_id.into(), r.year.into()],
    )
    .await?;
    store::exec(
        &tx,
        "INSERT INTO party_reviews (member_id, year, score, updated_by_name, updated_at) VALUES ($1, $2, $3, $4, $5)",
        vec![r.member_id.into(), r.year.into(), (r.score as i32).into(), ctx.principal.display_name.clone().into(), now_ms().into()],
    )
    .await?;
    Entry::by(ctx, &checked, "review", "party_member", r.member_id)
        .area(m.community_id)
        .detail(format!("year={} score={}", r.year, r.score))
        .record(&tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A rating or assessment year: from 2000 to this year.
pub fn year_ok(y: i32) -> AppResult<()> {
    let now = local_date(now_ms()).year();
    if (2000..=now).contains(&y) {
        Ok(())
    } else {
        Err(AppError::field(
            "year",
            Msg::owned(
                format!("年度应在 2000–{now} 之间"),
                format!("The year is from 2000 to {now}"),
            ),
        ))
    }
}

// ------------------------------------------------------------------------------------ ratings

#[derive(Debug, Deserialize, ToSchema)]
pub struct ComputeInput {
    pub area_id: Uuid,
    pub year: i32,
}

#[derive(Debug, Serialize, ToSchema, Default)]
pub struct ByGrade {
    pub excellent: i64,
    pub qualified: i64,
    pub basic: i64,
    pub unqualified: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComputeResult {
    pub rated: i64,
    pub by_grade: ByGrade,
    /// Members held at 基本合格 by the report-in rule.
    pub capped: i64,
    pub elapsed_ms: u64,
}

/// The first and last instant (ms) and dates of a year in Asia/Shanghai.
fn year_bounds(year: i32) -> (i64, i64, String, String) {
    let start = time::Date::from_calendar_date(year, time::Month::January, 1).expect("year");
    let end = time::Date::from_calendar_date(year + 1, time::Month::January, 1).expect("year");
    (
        local_midnight_ms(start),
        local_midnight_ms(end),
        format!("{year:04}-01-01"),
        format!("{year:04}-12-31"),
    )
}

/// The day a report-in must be valid on for the year: its last day, or today for the current year.
pub fn rating_day(last_day: &str) -> String {
    let today = super::today();
    if today.as_str() < last_day {
        today
    } else {
        last_day.to_string()
    }
}

/// Rates every member of the area for the year, set-based: members, the year's points, reviews and
/// report-ins are each read in one statement; the ratings are replaced in one transaction.
#[tracing::instrument(name = "service::ratings::compute", skip_all)]
pub async fn compute(state: &AppState, ctx: &Ctx, c: ComputeInput) -> AppResult<ComputeResult> {
    year_ok(c.year)?;
    let checked =
        scope::require_permission(&state.db, ctx, Permission::ManageService, c.area_id).await?;
    let started = std::time::Instant::now();
    let r = compute_in(&state.db, &state.settings.service, c.area_id, c.year).await?;
    audit::record_alone(
        &state.db,
        Entry::by(ctx, &checked, "rate", "party_members", None)
            .area(c.area_id)
            .detail(format!("year={} rated={}", c.year, r.rated)),
    )
    .await?;
    Ok(ComputeResult {
        elapsed_ms: started.elapsed().as_millis() as u64,
        ..r
    })
}

#[tracing::instrument(name = "service::ratings::compute_in", skip_all)]
pub async fn compute_in(
    db: &Db,
    policy: &crate::config::ServicePolicy,
    area_id: Uuid,
    year: i32,
) -> AppResult<ComputeResult> {
    let facts = YearFacts::gather(db, area_id, year).await?;
    let mut exempt_age: HashMap<Uuid, i64> = HashMap::new();
    let now = now_ms();
    let mut rows: Vec<Vec<Value>> = Vec::with_capacity(facts.members.len());
    let mut by = ByGrade::default();
    let mut capped_n = 0;
    for m in &facts.members {
        let ea = match exempt_age.get(&m.community_id) {
            Some(a) => *a,
            None => {
                let a = ledger::rules_for(db, m.community_id).await?[&Event::ExemptOverAge].points;
                exempt_age.insert(m.community_id, a);
                a
            }
        };
        let (row, grade, capped) = facts.rate(m, ea, policy, year, now);
        match grade {
            Grade::Excellent => by.excellent += 1,
            Grade::Qualified => by.qualified += 1,
            Grade::Basic => by.basic += 1,
            Grade::Unqualified => by.unqualified += 1,
        }
        capped_n += i64::from(capped);
        rows.push(row);
    }
    let rated = rows.len() as i64;
    replace_ratings(db, area_id, year, rows).await?;
    Ok(ComputeResult {
        rated,
        by_grade: by,
        capped: capped_n,
        elapsed_ms: 0,
    })
}

/// The communities below an area (the members rated are theirs).
const BELOW: &str = "SELECT descendant_id FROM area_closure WHERE ancestor_id = $1";

/// A party member to rate.
#[derive(FromQueryResult)]
struct Member {
    id: Uuid,
    community_id: Uuid,
    kind: String,
    exempt_reason: Option<String>,
    birth_date: Option<String>,
    account_id: Uuid,
}

/// What the year's ratings of an area's members rest on, read in four statements.
struct YearFacts {
    members: Vec<Member>,
    /// The year's points of each account (earned, deducted, reversed).
    points: HashMap<Uuid, i64>,
    /// The democratic review score of each member.
    reviews: HashMap<Uuid, i64>,
    /// Members whose report-in was valid on the rating day.
    reported: std::collections::HashSet<Uuid>,
}

impl YearFacts {
    async fn gather(db: &Db, area_id: Uuid, year: i32) -> AppResult<YearFacts> {
        let (t0, t1, _d0, d1) = year_bounds(year);
        let members: Vec<Member> = store::fetch_all(
            db,
            &format!(
                "SELECT m.id, m.community_id, m.kind, m.exempt_reason, p.birth_date, pa.id AS account_id FROM party_members m \
                 JOIN volunteers v ON v.id = m.volunteer_id JOIN persons p ON p.street_id = v.street_id AND p.id = v.person_id \
                 JOIN point_accounts pa ON pa.volunteer_id = v.id WHERE m.community_id IN ({BELOW})"
            ),
            vec![area_id.into()],
        )
        .await?;
        #[derive(FromQueryResult)]
        struct Pts {
            account_id: Uuid,
            points: i64,
        }
        let points = store::fetch_all::<Pts, _>(
            db,
            &format!(
                "SELECT pp.account_id, CAST(SUM(pp.amount) AS BIGINT) AS points FROM point_postings pp \
                 JOIN point_accounts pa ON pa.id = pp.account_id JOIN party_members m ON m.volunteer_id = pa.volunteer_id \
                 WHERE m.community_id IN ({BELOW}) AND pp.at >= $2 AND pp.at < $3 AND pp.kind IN ('earn', 'deduct', 'reversal') \
                 GROUP BY pp.account_id"
            ),
            vec![area_id.into(), t0.into(), t1.into()],
        )
        .await?
        .into_iter()
        .map(|p| (p.account_id, p.points))
        .collect();
        #[derive(FromQueryResult)]
        struct Rv {
            member_id: Uuid,
            score: i32,
        }
        let reviews = store::fetch_all::<Rv, _>(
            db,
            &format!("SELECT r.member_id, r.score FROM party_reviews r JOIN party_members m ON m.id = r.member_id WHERE r.year = $2 AND m.community_id IN ({BELOW})"),
            vec![area_id.into(), year.into()],
        )
        .await?
        .into_iter()
        .map(|r| (r.member_id, i64::from(r.score)))
        .collect();
        #[derive(FromQueryResult)]
        struct Rep {
            member_id: Uuid,
        }
        let reported = store::fetch_all::<Rep, _>(
            db,
            &format!(
                "SELECT DISTINCT r.member_id FROM report_ins r JOIN party_members m ON m.id = r.member_id \
                 WHERE m.community_id IN ({BELOW}) AND r.reported_on <= $2 AND r.valid_until >= $2"
            ),
            vec![area_id.into(), rating_day(&d1).into()],
        )
        .await?
        .into_iter()
        .map(|r| r.member_id)
        .collect();
        Ok(YearFacts {
            members,
            points,
            reviews,
            reported,
        })
    }

    /// One member's rating as a `party_ratings` row, with its grade and whether points were capped.
    fn rate(
        &self,
        m: &Member,
        exempt_age: i64,
        policy: &crate::config::ServicePolicy,
        year: i32,
        now: i64,
    ) -> (Vec<Value>, Grade, bool) {
        let exempt = m.exempt_reason.is_some()
            || age(m.birth_date.as_deref())
                .map(|a| a >= exempt_age)
                .unwrap_or(false);
        let reported_in = m.kind != "in_service" || self.reported.contains(&m.id);
        let pts = self.points.get(&m.account_id).copied().unwrap_or(0);
        let review = self.reviews.get(&m.id).copied();
        let (score, grade, capped) = rate(
            pts,
            policy.points_target,
            review,
            reported_in,
            exempt,
            policy.report_in_rule,
        );
        let row = vec![
            m.id.into(),
            year.into(),
            m.community_id.into(),
            pts.into(),
            review.map(|r| r as i32).into(),
            reported_in.into(),
            exempt.into(),
            (score as i32).into(),
            grade.as_str().into(),
            capped.into(),
            now.into(),
        ];
        (row, grade, capped)
    }
}

/// Replaces the area's ratings of `year` with `rows`, in one transaction.
async fn replace_ratings(
    db: &Db,
    area_id: Uuid,
    year: i32,
    rows: Vec<Vec<Value>>,
) -> AppResult<()> {
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        &format!("DELETE FROM party_ratings WHERE year = $2 AND (community_id IN ({BELOW}) OR member_id IN (SELECT m.id FROM party_members m WHERE m.community_id IN ({BELOW})))"),
        vec![area_id.into(), year.into()],
    )
    .await?;
    store::insert_many(
        &tx,
        "party_ratings",
        &[
            "member_id",
            "year",
            "community_id",
            "points",
            "review_score",
            "reported_in",
            "exempt",
            "score_x10",
            "grade",
            "capped",
            "computed_at",
        ],
        rows,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PartyRating)]
pub struct Rating {
    pub member_id: Uuid,
    pub name: String,
    pub org_name: String,
    pub community_name: String,
    pub work_unit_name: Option<String>,
    pub year: i32,
    pub points: i64,
    pub review_score: Option<i32>,
    pub reported_in: bool,
    pub exempt: bool,
    pub score: f64,
    pub grade: String,
    pub grade_label: String,
    /// Held at 基本合格 because the member did not report in.
    pub capped: bool,
    pub computed_at: String,
}
page_of!(RatingPage as PartyRatingPage, Rating);

#[derive(FromQueryResult)]
pub struct RatingRow {
    pub member_id: Uuid,
    pub name: String,
    pub org_name: String,
    pub community_name: String,
    pub work_unit_name: Option<String>,
    pub year: i32,
    pub points: i64,
    pub review_score: Option<i32>,
    pub reported_in: bool,
    pub exempt: bool,
    pub score_x10: i32,
    pub grade: String,
    pub capped: bool,
    pub computed_at: i64,
}

pub const RATING_SELECT: &str = "SELECT r.member_id, p.name, o.name AS org_name, a.name AS community_name, wu.name AS work_unit_name, r.year, r.points, \
    r.review_score, r.reported_in, r.exempt, r.score_x10, r.grade, r.capped, r.computed_at \
    FROM party_ratings r JOIN party_members m ON m.id = r.member_id JOIN volunteers v ON v.id = m.volunteer_id \
    JOIN persons p ON p.street_id = v.street_id AND p.id = v.person_id JOIN party_orgs o ON o.id = m.org_id \
    JOIN areas a ON a.id = r.community_id LEFT JOIN party_orgs wu ON wu.id = m.work_unit_org_id";

pub fn rating_view(r: RatingRow, en: bool) -> Rating {
    Rating {
        grade_label: Grade::parse(&r.grade)
            .map(|g| g.label(en))
            .unwrap_or("")
            .into(),
        member_id: r.member_id,
        name: r.name,
        org_name: r.org_name,
        community_name: r.community_name,
        work_unit_name: r.work_unit_name,
        year: r.year,
        points: r.points,
        review_score: r.review_score,
        reported_in: r.reported_in,
        exempt: r.exempt,
        score: f64::from(r.score_x10) / 10.0,
        grade: r.grade,
        capped: r.capped,
        computed_at: ms_to_rfc3339(r.computed_at),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RatingQuery {
    pub area_id: Option<Uuid>,
    pub year: Option<i32>,
    pub grade: Option<String>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

#[tracing::instrument(name = "service::ratings::list_ratings", skip_all)]
pub async fn list_ratings(db: &Db, ctx: &Ctx, q: &RatingQuery) -> AppResult<RatingPage> {
    let mut w = super::area_where(
        db,
        ctx,
        Permission::ReadService,
        q.area_id,
        "r.community_id",
    )
    .await?;
    let year = q.year.unwrap_or(local_date(now_ms()).year());
    w.and("r.year = ?", [year.into()]);
    if let Some(g) = q.grade.as_deref().filter(|g| !g.is_empty()) {
        if Grade::parse(g).is_none() {
            return Err(AppError::field(
                "grade",
                Msg::new(
                    "等次应为 excellent、qualified、basic 或 unqualified",
                    "Unknown grade",
                ),
            ));
        }
        w.and("r.grade = ?", [g.to_string().into()]);
    }
    let (cond, values) = w.build(1);
    let paging = store::Paging::new(q.page, q.page_size);
    let (rows, total) = store::page::<RatingRow, _>(
        db,
        &format!("SELECT COUNT(*) FROM party_ratings r WHERE {cond}"),
        &format!("{RATING_SELECT} WHERE {cond} ORDER BY r.score_x10 DESC, p.name, r.member_id"),
        values,
        paging,
    )
    .await?;
    let en = en(ctx);
    Ok(RatingPage::new(
        rows.into_iter().map(|r| rating_view(r, en)).collect(),
        total,
        paging,
    ))
}

// ------------------------------------------------------------------------------ commendations

#[derive(Debug, Serialize, ToSchema, FromQueryResult)]
pub struct Commendation {
    pub id: Uuid,
    pub volunteer_id: Uuid,
    pub name: String,
    pub community_name: String,
    pub title: String,
    pub level: String,
    pub star_level: Option<i16>,
    pub year: Option<i32>,
    pub awarded_on: String,
    pub reason: String,
    pub created_by_name: String,
}
page_of!(CommendationPage, Commendation);

const COMM_SELECT: &str = "SELECT c.id, c.volunteer_id, p.name, a.name AS community_name, c.title, c.level, c.star_level, c.year, c.awarded_on, c.reason, c.created_by_name \
    FROM commendations c JOIN volunteers v ON v.id = c.volunteer_id JOIN persons p ON p.street_id = v.street_id AND p.id = v.person_id \
    JOIN areas a ON a.id = c.community_id";

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommendationQuery {
    pub area_id: Option<Uuid>,
    pub volunteer_id: Option<Uuid>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

#[tracing::instrument(name = "service::ratings::list_commendations", skip_all)]
pub async fn list_commendations(
    db: &Db,
    ctx: &Ctx,
    q: &CommendationQuery,
) -> AppResult<CommendationPage> {
    let mut w = super::area_where(
        db,
        ctx,
        Permission::ReadService,
        q.area_id,
        "c.community_id",
    )
    .await?;
    if let Some(v) = q.volunteer_id {
        w.and("c.volunteer_id = ?", [v.into()]);
    }
    let (cond, values) = w.build(1);
    let paging = store::Paging::new(q.page, q.page_size);
    let (items, total) = store::page::<Commendation, _>(
        db,
        &format!("SELECT COUNT(*) FROM commendations c WHERE {cond}"),
        &format!("{COMM_SELECT} WHERE {cond} ORDER BY c.awarded_on DESC, c.id DESC"),
        values,
        paging,
    )
    .await?;
    Ok(CommendationPage::new(items, total, paging))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewCommendation {
    pub volunteer_id: Uuid,
    pub title: String,
    /// e.g. 社区级, 街道级, 区级, 市级.
    pub level: String,
    /// The star level it thanks (clears that entry of the due list).
    pub star_level: Option<i16>,
    /// The rating year it thanks (an 优秀 member).
    pub year: Option<i32>,
    pub awarded_on: String,
    pub reason: String,
}

/// Records a commendation; it earns the commendation points of the area's rules.
#[tracing::instrument(name = "service::ratings::commend", skip_all)]
pub async fn commend(db: &Db, ctx: &Ctx, n: NewCommendation) -> AppResult<Commendation> {
    let title =
        crate::domain::clean_name(&n.title, 100).map_err(|m| AppError::field("title", m))?;
    let level = text_field("level", &n.level, 32, true)?;
    let reason = text_field("reason", &n.reason, 500, true)?;
    let awarded_on = date_field("awarded_on", &n.awarded_on)?;
    if let Some(s) = n.star_level {
        if !(1..=5).contains(&s) {
            return Err(AppError::field(
                "star_level",
                Msg::new("星级应为 1–5", "Stars from 1 to 5"),
            ));
        }
    }
    if let Some(y) = n.year {
        year_ok(y)?;
    }
    let tx = store::write_tx(db).await?;
    let v = super::volunteer_for(&tx, ctx, Permission::ManageService, n.volunteer_id).await?;
    let id = new_id();
    let now = now_ms();
    store::exec(
        &tx,
        "INSERT INTO commendations (id, volunteer_id, community_id, title, level, star_level, year, awarded_on, reason, created_by_name, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        vec![
            id.into(), v.id.into(), v.community_id.into(), title.into(), level.into(), n.star_level.into(), n.year.into(), awarded_on.into(),
            reason.into(), ctx.principal.display_name.clone().into(), now.into(),
        ],
    )
    .await?;
    let rules = ledger::rules_for(&tx, v.community_id).await?;
    let actor = Actor::of(ctx);
    let postings = ledger::earn_by_rule(
        &tx,
        &actor,
        Event::Commendation,
        rules[&Event::Commendation],
        vec![(
            v.account_id,
            rules[&Event::Commendation].points,
            Some(id.to_string()),
        )],
        "commendation",
        now,
    )
    .await?;
    ledger::post_credits(&tx, &actor, postings, now).await?;
    Entry::by(ctx, &v.checked, "commend", "volunteer", v.id)
        .area(v.community_id)
        .record(&tx)
        .await?;
    let c: Commendation = store::fetch_found(
        &tx,
        &format!("{COMM_SELECT} WHERE c.id = $1"),
        vec![id.into()],
    )
    .await?;
    tx.commit().await?;
    Ok(c)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Due {
    pub volunteer_id: Uuid,
    pub name: String,
    pub community_name: String,
    /// `stars` (a star level reached and not yet commended) or `excellent` (rated 优秀).
    pub reason: String,
    pub stars: u8,
    pub hours: f64,
    pub year: Option<i32>,
    pub detail: String,
}

/// The people due for a commendation.
#[tracing::instrument(name = "service::ratings::due", skip_all)]
pub async fn due(state: &AppState, ctx: &Ctx, area_id: Option<Uuid>) -> AppResult<Vec<Due>> {
    let db = &state.db;
    let t = state.settings.service.star_hours;
    let en = en(ctx);
    let mut w =
        super::area_where(db, ctx, Permission::ReadService, area_id, "v.community_id").await?;
    w.and(
        "v.verified_minutes >= ?",
        [((t[0] * 60.0).ceil() as i64).into()],
    );
    let (cond, values) = w.build(1);
    #[derive(FromQueryResult)]
    struct S {
        volunteer_id: Uuid,
        name: String,
        community_name: String,
        verified_minutes: i64,
        commended: Option<i16>,
    }
    let rows: Vec<S> = store::fetch_all(
        db,
        &format!(
            "SELECT v.id AS volunteer_id, p.name, a.name AS community_name, v.verified_minutes, \
             (SELECT MAX(c.star_level) FROM commendations c WHERE c.volunteer_id = v.id) AS commended \
             FROM volunteers v JOIN persons p ON p.street_id = v.street_id AND p.id = v.person_id JOIN areas a ON a.id = v.community_id \
             WHERE {cond} ORDER BY v.verified_minutes DESC LIMIT 1000"
        ),
        values,
    )
    .await?;
    let mut out = vec![];
    for r in rows {
        let h = r.verified_minutes as f64 / 60.0;
        let s = stars(h, &t);
        if s as i16 > r.commended.unwrap_or(0) {
            out.push(Due {
                volunteer_id: r.volunteer_id,
                name: r.name,
                community_name: r.community_name,
                reason: "stars".into(),
                stars: s,
                hours: hours(r.verified_minutes),
                year: None,
                detail: if en {
                    format!(
                        "{} h of verified service: {s} stars, not yet commended",
                        hours(r.verified_minutes)
                    )
                } else {
                    format!(
                        "累计服务 {} 小时，达到{}星，尚未表彰",
                        hours(r.verified_minutes),
                        s
                    )
                },
            });
        }
    }
    let mut w =
        super::area_where(db, ctx, Permission::ReadService, area_id, "r.community_id").await?;
    let year = local_date(now_ms()).year() - 1;
    w.and("r.year >= ?", [year.into()]);
    let (cond, values) = w.build(1);
    #[derive(FromQueryResult)]
    struct E {
        volunteer_id: Uuid,
        name: String,
        community_name: String,
        verified_minutes: i64,
        year: i32,
    }
    let ex: Vec<E> = store::fetch_all(
        db,
        &format!(
            "SELECT v.id AS volunteer_id, p.name, a.name AS community_name, v.verified_minutes, r.year FROM party_ratings r \
             JOIN party_members m ON m.id = r.member_id JOIN volunteers v ON v.id = m.volunteer_id \
             JOIN persons p ON p.street_id = v.street_id AND p.id = v.person_id JOIN areas a ON a.id = r.community_id \
             WHERE {cond} AND r.grade = 'excellent' \
             AND NOT EXISTS (SELECT 1 FROM commendations c WHERE c.volunteer_id = v.id AND c.year = r.year) ORDER BY r.score_x10 DESC LIMIT 1000"
        ),
        values,
    )
    .await?;
    for e in ex {
        out.push(Due {
            volunteer_id: e.volunteer_id,
            name: e.name,
            community_name: e.community_name,
            reason: "excellent".into(),
            stars: stars(e.verified_minutes as f64 / 60.0, &t),
            hours: hours(e.verified_minutes),
            year: Some(e.year),
            detail: if en {
                format!("Rated excellent for {}, not yet commended", e.year)
            } else {
                format!("{} 年度评议为优秀，尚未表彰", e.year)
            },
        });
    }
    Ok(out)
}
