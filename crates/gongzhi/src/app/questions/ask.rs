//! A resident asks: the checks, the routing (as for a case), the deadline, and the question with
//! its message to those who answer, in one transaction. And what the asker sees of their own.
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::similar;
use super::*;
use crate::app::audit::Entry;
use crate::app::cases::{deadlines, dictionary, units, Placement};
use crate::app::messages::{self, Outgoing};
use crate::app::notices::required_text;
use crate::app::{AppState, Ctx};
use crate::domain::calendar::{day_number, local_date, Limit, LimitUnit};
use crate::domain::cases::case_no;
use crate::domain::ids::mask_name;
use crate::domain::role::Role;
use crate::domain::{ms_to_local_minute, new_id, now_ms};
use crate::error::{AppError, AppResult, FieldErrors, Msg};
use crate::store::{self, Db};

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewQuestion {
    pub title: String,
    pub body: String,
    /// The community asked about (the code of its public page); default: where the asker lives.
    #[serde(default)]
    pub community_code: Option<String>,
    /// A case category, to route it to the unit whose duty it is.
    #[serde(default)]
    pub category_code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyQuestion {
    pub id: Uuid,
    pub no: String,
    pub community_name: String,
    pub title: String,
    pub body: String,
    /// open | answered | linked | declined
    pub status: String,
    pub asked_at: String,
    pub due_at: String,
    pub answer: Option<String>,
    pub answered_at: Option<String>,
    /// Who answered: the unit (or the community) — not a worker's name.
    pub answered_unit: Option<String>,
    pub declined_reason: Option<String>,
    /// Published on the public page.
    pub public: bool,
    /// The earlier published answer this question was linked to.
    pub linked_to: Option<PublicAnswer>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HomeCommunity {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyQuestions {
    pub items: Vec<MyQuestion>,
    /// Where the caller lives, when known: the community a question goes to by default.
    pub community: Option<HomeCommunity>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SimilarQuery {
    /// What the resident typed so far.
    pub q: String,
    /// The community (its public page's code); default: where the caller lives.
    pub community_code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SimilarAnswers {
    pub items: Vec<PublicAnswer>,
}

#[derive(Debug, Clone, FromQueryResult)]
pub(crate) struct Community {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub street_id: Uuid,
}

pub(crate) const COMMUNITY: &str =
    "SELECT a.id, a.code, a.name, a.parent_id AS street_id FROM areas a";

/// The community where the caller lives: that of their resident grant, else of the household of
/// the person their account belongs to.
async fn home<C: ConnectionTrait>(c: &C, ctx: &Ctx) -> AppResult<Option<Community>> {
    let grant = ctx
        .principal
        .grants
        .iter()
        .find(|g| g.role == Role::Resident)
        .and_then(|g| g.area_id);
    if let Some(area) = grant {
        let found: Option<Community> = store::fetch_opt(
            c,
            &format!(
                "{COMMUNITY} JOIN area_closure cl ON cl.ancestor_id = a.id \
                 WHERE cl.descendant_id = $1 AND a.kind = 'community'"
            ),
            vec![area.into()],
        )
        .await?;
        if found.is_some() {
            return Ok(found);
        }
    }
    let Some(me) = ctx.principal.user_id else {
        return Ok(None);
    };
    Ok(store::fetch_opt(
        c,
        &format!(
            "{COMMUNITY} WHERE a.kind = 'community' AND a.id IN (SELECT h.community_id FROM users u \
             JOIN household_members m ON m.person_id = u.person_id AND m.to_date IS NULL \
             JOIN households h ON h.id = m.household_id WHERE u.id = $1)"
        ),
        vec![me.into()],
    )
    .await?)
}

pub(super) async fn by_code<C: ConnectionTrait>(c: &C, code: &str) -> AppResult<Option<Community>> {
    let code = code.trim();
    if code.is_empty() || code.len() > 32 {
        return Ok(None);
    }
    Ok(store::fetch_opt(
        c,
        &format!("{COMMUNITY} WHERE a.code = $1 AND a.kind = 'community'"),
        vec![code.to_string().into()],
    )
    .await?)
}

/// The community a question is about: the one named, else where the caller lives.
async fn community_for<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    code: Option<&str>,
) -> AppResult<Community> {
    match code.filter(|s| !s.trim().is_empty()) {
        Some(code) => by_code(c, code).await?.ok_or_else(|| {
            AppError::field(
                "community_code",
                Msg::new(
                    "没有这个社区，请从社区公开页进入提问",
                    "No community has this code; ask from the community's public page",
                ),
            )
        }),
        None => home(c, ctx).await?.ok_or_else(|| {
            AppError::field(
                "community_code",
                Msg::new(
                    "请选择要提问的社区（从社区公开页进入，或先认领住户信息）",
                    "Choose the community (open its public page, or claim your record first)",
                ),
            )
        }),
    }
}

/// Those who answer: the unit's members, else the community's workers and admins.
pub(super) async fn answerers<C: ConnectionTrait>(
    c: &C,
    unit_id: Option<Uuid>,
    community_id: Uuid,
) -> AppResult<Vec<Uuid>> {
    #[derive(FromQueryResult)]
    struct U {
        id: Uuid,
    }
    let mut found: Vec<U> = vec![];
    if let Some(unit) = unit_id {
        found = store::fetch_all(
            c,
            "SELECT u.id FROM case_unit_members m JOIN users u ON u.id = m.member_id AND u.disabled = FALSE \
             WHERE m.unit_id = $1",
            vec![unit.into()],
        )
        .await?;
    }
    if found.is_empty() {
        found = store::fetch_all(
            c,
            "SELECT DISTINCT g.user_id AS id FROM grants g JOIN users u ON u.id = g.user_id AND u.disabled = FALSE \
             WHERE g.area_id = $1 AND g.role IN ('community_admin', 'community_worker')",
            vec![community_id.into()],
        )
        .await?;
    }
    Ok(found.into_iter().map(|u| u.id).collect())
}

/// The message to those who answer (`question.asked` or `question.routed`).
pub(super) async fn tell_answerers<C: ConnectionTrait>(
    c: &C,
    key: &'static str,
    dedup: String,
    r: &Row,
    note: Option<&str>,
) -> AppResult<()> {
    let mut vars = serde_json::Map::new();
    if let Some(n) = note {
        vars.insert("note".into(), (if n.is_empty() { "无" } else { n }).into());
    }
    vars.insert("no".into(), r.no.clone().into());
    vars.insert("title".into(), r.title.clone().into());
    vars.insert("community".into(), r.community_name.clone().into());
    vars.insert("due".into(), ms_to_local_minute(r.due_at).into());
    messages::enqueue(
        c,
        Outgoing {
            key,
            dedup,
            urgent: false,
            area_id: Some(r.community_id),
            link: Some(format!("/questions/{}", r.id)),
            vars,
            recipients: answerers(c, r.unit_id, r.community_id).await?,
        },
    )
    .await?;
    Ok(())
}

/// Asks a question (a signed-in resident, or anyone signed in, about a community).
#[tracing::instrument(name = "questions::ask::ask", skip_all)]
pub async fn ask(state: &AppState, ctx: &Ctx, n: NewQuestion) -> AppResult<MyQuestion> {
    let me = ctx.own_user()?;
    let db = &state.db;
    let mut errs = FieldErrors::new();
    let title = required_text(&mut errs, "title", &n.title, 100);
    let body = required_text(&mut errs, "body", &n.body, 2000);
    let category = match n.category_code.as_deref().map(str::trim) {
        Some(code) if !code.is_empty() => match dictionary::by_code(db, code).await? {
            Some(cat) if cat.active => Some(cat),
            _ => {
                errs.insert(
                    "category_code".into(),
                    Msg::new("没有这个分类", "No such category"),
                );
                None
            }
        },
        _ => None,
    };
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let community = community_for(db, ctx, n.community_code.as_deref()).await?;
    let now = now_ms();
    let asked_today = store::fetch_i64(
        db,
        "SELECT COUNT(*) AS n FROM questions WHERE asker_id = $1 AND created_at > $2",
        vec![me.into(), (now - DAY_MS).into()],
    )
    .await?;
    if asked_today >= MAX_PER_DAY {
        return Err(AppError::RateLimited {
            retry_after_s: 3600,
        });
    }
    let due = deadlines::calendar_for(state, db, community.id)
        .await?
        .deadline(
            now,
            Limit {
                value: ANSWER_DAYS,
                unit: LimitUnit::Days,
            },
        )
        .map(|d| d.at)
        .unwrap_or(now + 7 * DAY_MS);
    let id = write(
        db,
        ctx,
        &community,
        category.as_ref().map(|c| c.code.as_str()),
        &title,
        &body,
        due,
        now,
    )
    .await?;
    my_one(db, ctx, id).await
}

/// Writes a checked question: routed, with its message to those who answer and its audit entry.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn write(
    db: &Db,
    ctx: &Ctx,
    community: &Community,
    category: Option<&str>,
    title: &str,
    body: &str,
    due: i64,
    now: i64,
) -> AppResult<Uuid> {
    let me = ctx.own_user()?;
    let at = Placement {
        area_id: community.id,
        grid_id: None,
        community_id: community.id,
        street_id: community.street_id,
    };
    let route = units::route(db, category.unwrap_or_default(), &at, &[]).await?;
    let id = new_id();
    let random = u64::from_le_bytes(id.as_bytes()[8..16].try_into().unwrap_or([0; 8]));
    let no = format!("Q{}", case_no(day_number(local_date(now)), random));
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "INSERT INTO questions (id, no, street_id, community_id, category_code, unit_id, duty_id, route_rule, \
         asker_id, asker_label, title, body, status, due_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'open', $13, $14, $14)",
        vec![
            id.into(),
            no.into(),
            community.street_id.into(),
            community.id.into(),
            category.map(str::to_string).into(),
            route.unit_id.into(),
            route.duty_id.into(),
            route.rule.into(),
            me.into(),
            mask_name(&ctx.principal.display_name).into(),
            title.into(),
            body.into(),
            due.into(),
            now.into(),
        ],
    )
    .await?;
    let row = load(&tx, id).await?;
    tell_answerers(
        &tx,
        "question.asked",
        format!("question:{id}:asked"),
        &row,
        None,
    )
    .await?;
    Entry::by(
        ctx,
        &crate::app::scope::own(ctx),
        "question.ask",
        "question",
        id,
    )
    .area(community.id)
    .detail(format!("routed by {} to {:?}", route.rule, route.unit_id))
    .record(&tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

async fn mine_view<C: ConnectionTrait>(c: &C, r: Row) -> AppResult<MyQuestion> {
    let linked_to = match r.linked_to {
        Some(to) => {
            let t = load(c, to).await?;
            Some(PublicAnswer {
                id: t.id,
                title: t.public_title.unwrap_or(t.title),
                body: t.public_body.unwrap_or(t.body),
                answer: t.answer.unwrap_or_default(),
                answered_at: t.answered_at.map(ms_to_rfc3339).unwrap_or_default(),
                helped: t.helped,
                asked_count: t.asked_count,
            })
        }
        None => None,
    };
    let answered_unit = r.answered_at.map(|_| {
        r.unit_name
            .clone()
            .unwrap_or_else(|| r.community_name.clone())
    });
    Ok(MyQuestion {
        answered_unit,
        id: r.id,
        no: r.no,
        community_name: r.community_name,
        title: r.title,
        body: r.body,
        status: r.status,
        asked_at: ms_to_rfc3339(r.created_at),
        due_at: ms_to_rfc3339(r.due_at),
        answer: r.answer,
        answered_at: r.answered_at.map(ms_to_rfc3339),
        declined_reason: r.declined_reason,
        public: r.public,
        linked_to,
    })
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MyQuery {
    /// A community's public code (from its public page): answered as `community` when it exists,
    /// so the ask page can name it.
    pub community_code: Option<String>,
}

/// The caller's own questions, newest first (the last 100), and the community a question goes
/// to: the one named by `community_code`, else where they live.
#[tracing::instrument(name = "questions::ask::my_list", skip_all)]
pub async fn my_list(db: &Db, ctx: &Ctx, q: &MyQuery) -> AppResult<MyQuestions> {
    let me = ctx.own_user()?;
    let rows: Vec<Row> = store::fetch_all(
        db,
        &format!("{SELECT} WHERE q.asker_id = $1 ORDER BY q.created_at DESC LIMIT 100"),
        vec![me.into()],
    )
    .await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        items.push(mine_view(db, r).await?);
    }
    let named = match q.community_code.as_deref() {
        Some(code) => by_code(db, code).await?,
        None => None,
    };
    let community = match named {
        Some(c) => Some(c),
        None => home(db, ctx).await?,
    };
    Ok(MyQuestions {
        items,
        community: community.map(|c| HomeCommunity {
            code: c.code,
            name: c.name,
        }),
    })
}

/// One of the caller's own questions; another's is 404.
#[tracing::instrument(name = "questions::ask::my_one", skip_all)]
pub async fn my_one(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<MyQuestion> {
    let me = ctx.own_user()?;
    let r = load(db, id).await?;
    if r.asker_id != me {
        return Err(AppError::NotFound);
    }
    mine_view(db, r).await
}

/// Published answers like what the resident is typing (up to five), so they may not need to ask.
#[tracing::instrument(name = "questions::ask::my_similar", skip_all)]
pub async fn my_similar(db: &Db, ctx: &Ctx, q: &SimilarQuery) -> AppResult<SimilarAnswers> {
    ctx.own_user()?;
    let community = community_for(db, ctx, q.community_code.as_deref()).await?;
    let text: String = q.q.chars().take(200).collect();
    Ok(SimilarAnswers {
        items: similar::best(similar::published(db, community.id).await?, &text, 0.2, 5),
    })
}

/// 超期提醒: those who answer hear once of each open question past its deadline (run by the clock
/// with the other reminders). Returns how many questions were told of.
#[tracing::instrument(name = "questions::ask::tell_overdue", skip_all)]
pub async fn tell_overdue(db: &Db) -> AppResult<usize> {
    let now = now_ms();
    let due: Vec<Row> = store::fetch_all(
        db,
        &format!(
            "{SELECT} WHERE q.status = 'open' AND q.overdue_told = FALSE AND q.due_at < $1 \
             ORDER BY q.due_at LIMIT 200"
        ),
        vec![now.into()],
    )
    .await?;
    let mut told = 0;
    for r in due {
        let tx = store::write_tx(db).await?;
        // One instance wins each question; the dedup key makes a second message impossible too.
        let won = store::exec(
            &tx,
            "UPDATE questions SET overdue_told = TRUE WHERE id = $1 AND overdue_told = FALSE",
            vec![r.id.into()],
        )
        .await?;
        if won > 0 {
            tell_answerers(
                &tx,
                "question.overdue",
                format!("question:{}:overdue", r.id),
                &r,
                None,
            )
            .await?;
            told += 1;
        }
        tx.commit().await?;
    }
    Ok(told)
}
