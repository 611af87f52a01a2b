//! 回应关切: residents' questions and public answers (issue 15 point 5).
//!
//! A resident asks a question about their community (`ask.rs`). It is routed like a case: the
//! power list by category, else the community's own unit (属地兜底), and gets an answer deadline of
//! [`ANSWER_DAYS`] working days. The members of that unit, and anyone with `answer_questions` at
//! the community or above, see it and answer it (`act.rs`); they may publish it, reworded without
//! personal data, with its answer on the community's public page (`public.rs`), where anyone can
//! search the answers and say "this helped me". A question asked again is linked to the earlier
//! published one: it is answered with that answer, and the earlier one counts how often it was
//! asked. Lists and one question as staff see them are in `read.rs`.
//!
//! Scope: a question is seen by those who may answer it (its unit's members, `answer_questions`
//! at or above its community); in scope of the community without that, 403; else 404.
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{scope, Ctx};
use crate::domain::ms_to_rfc3339;
use crate::domain::role::Permission;
use crate::error::{AppError, AppResult};
use crate::store;
use crate::store::sql::{Cond, Where};

mod act;
pub(crate) mod ask;
pub mod public;
mod read;
mod similar;

pub use act::{answer, decline, link, publish, reroute, unpublish};
pub use ask::{
    ask, my_list, my_one, my_similar, tell_overdue, HomeCommunity, MyQuery, MyQuestion,
    MyQuestions, NewQuestion, SimilarAnswers, SimilarQuery,
};
pub use read::{detail, list, QuestionCounts, QuestionPage, QuestionQuery};

/// Working days to answer a question.
pub const ANSWER_DAYS: u32 = 5;
/// Questions one resident may ask in a day.
pub const MAX_PER_DAY: i64 = 5;

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionSummary {
    pub id: Uuid,
    pub no: String,
    pub community_id: Uuid,
    pub community_name: String,
    pub title: String,
    /// open | answered | linked | declined
    pub status: String,
    pub category_code: Option<String>,
    pub category_name: Option<String>,
    /// The unit that answers (none: the community's workers).
    pub unit_id: Option<Uuid>,
    pub unit_name: Option<String>,
    pub asked_at: String,
    pub due_at: String,
    pub overdue: bool,
    pub answered_at: Option<String>,
    /// Published on the public page.
    pub public: bool,
    pub helped: i32,
    pub asked_count: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkedTo {
    pub id: Uuid,
    pub title: String,
}

/// A published question with its answer, as the public sees it (its public wording only).
#[derive(Debug, Serialize, ToSchema, FromQueryResult)]
pub struct PublicAnswer {
    pub id: Uuid,
    pub title: String,
    pub body: String,
    pub answer: String,
    pub answered_at: String,
    pub helped: i32,
    pub asked_count: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Question {
    #[serde(flatten)]
    pub summary: QuestionSummary,
    pub body: String,
    /// Masked: 张*.
    pub asker_name: String,
    /// power_list | territorial | manual | none
    pub route_rule: String,
    /// The duty and its legal basis (power list).
    pub route_basis: Option<String>,
    pub answer: Option<String>,
    pub answered_by_name: Option<String>,
    pub declined_reason: Option<String>,
    pub public_title: Option<String>,
    pub public_body: Option<String>,
    pub published_at: Option<String>,
    pub linked_to: Option<LinkedTo>,
    /// Published answers of the community that look alike (to link a repeat).
    pub similar: Vec<PublicAnswer>,
    /// Open and the caller may answer it (answer, link, pass on, decline).
    pub can_answer: bool,
    /// Answered and the caller may publish it, change its public wording or take it back.
    pub can_publish: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerInput {
    pub answer: String,
    /// Publish it on the community's public page (with `public_title` and `public_body`).
    #[serde(default)]
    pub publish: bool,
    #[serde(default)]
    pub public_title: Option<String>,
    #[serde(default)]
    pub public_body: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishInput {
    pub public_title: String,
    pub public_body: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    /// The earlier, published question of the same community this one repeats.
    pub to: Uuid,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteInput {
    pub unit_id: Uuid,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineInput {
    pub reason: String,
}

#[derive(Debug, Clone, FromQueryResult)]
pub(crate) struct Row {
    pub id: Uuid,
    pub no: String,
    pub community_id: Uuid,
    pub community_name: String,
    pub category_code: Option<String>,
    pub category_name: Option<String>,
    pub unit_id: Option<Uuid>,
    pub unit_name: Option<String>,
    pub duty_id: Option<Uuid>,
    pub route_rule: String,
    pub asker_id: Uuid,
    pub asker_label: String,
    pub title: String,
    pub body: String,
    pub status: String,
    pub due_at: i64,
    pub answer: Option<String>,
    pub answered_by: Option<String>,
    pub answered_at: Option<i64>,
    pub declined_reason: Option<String>,
    pub linked_to: Option<Uuid>,
    pub public: bool,
    pub public_title: Option<String>,
    pub public_body: Option<String>,
    pub published_at: Option<i64>,
    pub asked_count: i32,
    pub helped: i32,
    pub created_at: i64,
}

pub(crate) const SELECT: &str = "SELECT q.id, q.no, q.community_id, a.name AS community_name, \
     q.category_code, cat.name AS category_name, q.unit_id, u.name AS unit_name, q.duty_id, q.route_rule, \
     q.asker_id, q.asker_label, q.title, q.body, q.status, q.due_at, q.answer, q.answered_by, q.answered_at, \
     q.declined_reason, q.linked_to, q.public, q.public_title, q.public_body, q.published_at, q.asked_count, \
     q.helped, q.created_at \
     FROM questions q JOIN areas a ON a.id = q.community_id \
     LEFT JOIN case_units u ON u.id = q.unit_id \
     LEFT JOIN case_categories cat ON cat.code = q.category_code";

impl Row {
    pub(crate) fn summary(&self, now: i64) -> QuestionSummary {
        QuestionSummary {
            id: self.id,
            no: self.no.clone(),
            community_id: self.community_id,
            community_name: self.community_name.clone(),
            title: self.title.clone(),
            status: self.status.clone(),
            category_code: self.category_code.clone(),
            category_name: self.category_name.clone(),
            unit_id: self.unit_id,
            unit_name: self.unit_name.clone(),
            asked_at: ms_to_rfc3339(self.created_at),
            due_at: ms_to_rfc3339(self.due_at),
            overdue: self.status == "open" && self.due_at < now,
            answered_at: self.answered_at.map(ms_to_rfc3339),
            public: self.public,
            helped: self.helped,
            asked_count: self.asked_count,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Scope

/// The questions the caller may see and answer: those of communities at or under their
/// `answer_questions` areas, and those routed to a unit they are a member of.
pub(crate) fn visible_cond(ctx: &Ctx) -> (Cond, scope::Checked) {
    let (by_area, checked) = scope::listing(ctx, Permission::AnswerQuestions, "q.community_id");
    let cond = match ctx.principal.user_id.or(ctx.principal.token_id) {
        Some(me) => Cond::or(vec![
            by_area,
            Cond::new(
                "q.unit_id IN (SELECT unit_id FROM case_unit_members WHERE member_id = ?)",
                [me.into()],
            ),
        ]),
        None => by_area,
    };
    (cond, checked)
}

pub(crate) async fn load<C: ConnectionTrait>(c: &C, id: Uuid) -> AppResult<Row> {
    store::fetch_found(c, &format!("{SELECT} WHERE q.id = $1"), vec![id.into()]).await
}

/// The question, if the caller may see (and so answer) it; in scope of its community without
/// that, 403; else 404.
pub(crate) async fn load_visible<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    id: Uuid,
) -> AppResult<scope::Scoped<Row>> {
    let r = load(c, id).await?;
    if let Some(checked) = visible(c, ctx, id).await? {
        Ok(scope::Scoped::new(r, checked))
    } else if scope::can_see(c, ctx, r.community_id).await? {
        Err(AppError::forbidden())
    } else {
        Err(AppError::NotFound)
    }
}

/// Whether the caller may see (and so act on) the question.
/// `Some` with the proof when it may.
pub(crate) async fn visible<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    id: Uuid,
) -> AppResult<Option<scope::Checked>> {
    let mut w = Where::new();
    let (visible, checked) = visible_cond(ctx);
    w.and("q.id = ?", [id.into()]);
    w.and_cond(visible);
    let (cond, values) = w.build(1);
    let n = store::fetch_i64(
        c,
        &format!("SELECT COUNT(*) AS n FROM questions q WHERE {cond}"),
        values,
    )
    .await?;
    Ok((n > 0).then_some(checked))
}
