//! 回应关切: residents' questions, answered by the unit they are routed to and published on the
//! community's public page (app/questions/).
use axum::extract::State;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{created, Created, J};
use crate::app::questions::{
    self, AnswerInput, DeclineInput, LinkInput, MyQuery, MyQuestion, MyQuestions, NewQuestion,
    PublishInput, Question, QuestionPage, QuestionQuery, RouteInput, SimilarAnswers, SimilarQuery,
};
use crate::app::AppState;
use crate::http::extract::{Auth, Json, Path, Query};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_questions))
        .routes(routes!(get_question))
        .routes(routes!(answer_question))
        .routes(routes!(publish_question))
        .routes(routes!(unpublish_question))
        .routes(routes!(link_question))
        .routes(routes!(route_question))
        .routes(routes!(decline_question))
        .routes(routes!(my_questions, ask_question))
        .routes(routes!(similar_answers))
        .routes(routes!(my_question))
}

/// The questions the caller answers (their unit's, or the communities where they may answer),
/// open ones first by deadline, with the counters of the tabs.
#[utoipa::path(get, path = "/api/v1/questions", tag = "questions", params(QuestionQuery),
    responses((status = 200, body = QuestionPage)))]
async fn list_questions(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<QuestionQuery>,
) -> J<QuestionPage> {
    Ok(axum::Json(questions::list(&s.db, &ctx, &q).await?))
}

/// One question, with the published answers that look like it (to link a repeat).
#[utoipa::path(get, path = "/api/v1/questions/{id}", tag = "questions", params(("id" = Uuid, Path)),
    responses((status = 200, body = Question)))]
async fn get_question(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<Question> {
    Ok(axum::Json(questions::detail(&s.db, &ctx, id).await?))
}

/// 答复: answers an open question, optionally publishing it with a wording free of personal
/// data; the asker is told (409 `questions.not_open` when it is no longer open).
#[utoipa::path(post, path = "/api/v1/questions/{id}/answer", tag = "questions", params(("id" = Uuid, Path)),
    request_body = AnswerInput, responses((status = 200, body = Question)))]
async fn answer_question(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(a): Json<AnswerInput>,
) -> J<Question> {
    Ok(axum::Json(questions::answer(&s.db, &ctx, id, a).await?))
}

/// 公开: publishes an answered question on the public page (or changes its public wording).
#[utoipa::path(post, path = "/api/v1/questions/{id}/publish", tag = "questions", params(("id" = Uuid, Path)),
    request_body = PublishInput, responses((status = 200, body = Question)))]
async fn publish_question(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(p): Json<PublishInput>,
) -> J<Question> {
    Ok(axum::Json(questions::publish(&s.db, &ctx, id, p).await?))
}

/// 撤回公开: takes the question off the public page.
#[utoipa::path(post, path = "/api/v1/questions/{id}/unpublish", tag = "questions", params(("id" = Uuid, Path)),
    responses((status = 200, body = Question)))]
async fn unpublish_question(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<Question> {
    Ok(axum::Json(questions::unpublish(&s.db, &ctx, id).await?))
}

/// 关联: answers an open question with an earlier published answer of its community, which
/// counts one more asking.
#[utoipa::path(post, path = "/api/v1/questions/{id}/link", tag = "questions", params(("id" = Uuid, Path)),
    request_body = LinkInput, responses((status = 200, body = Question)))]
async fn link_question(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(l): Json<LinkInput>,
) -> J<Question> {
    Ok(axum::Json(questions::link(&s.db, &ctx, id, l).await?))
}

/// 转办: passes an open question to another unit of the community or above it.
#[utoipa::path(post, path = "/api/v1/questions/{id}/route", tag = "questions", params(("id" = Uuid, Path)),
    request_body = RouteInput, responses((status = 200, body = Question)))]
async fn route_question(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(r): Json<RouteInput>,
) -> J<Question> {
    Ok(axum::Json(questions::reroute(&s.db, &ctx, id, r).await?))
}

/// 谢绝: declines an open question with a reason the asker is told.
#[utoipa::path(post, path = "/api/v1/questions/{id}/decline", tag = "questions", params(("id" = Uuid, Path)),
    request_body = DeclineInput, responses((status = 200, body = Question)))]
async fn decline_question(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(d): Json<DeclineInput>,
) -> J<Question> {
    Ok(axum::Json(questions::decline(&s.db, &ctx, id, d).await?))
}

/// The caller's own questions and the community a question goes to (the one named by
/// `community_code`, else where they live).
#[utoipa::path(get, path = "/api/v1/me/questions", tag = "questions", params(MyQuery),
    responses((status = 200, body = MyQuestions)))]
async fn my_questions(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<MyQuery>,
) -> J<MyQuestions> {
    Ok(axum::Json(questions::my_list(&s.db, &ctx, &q).await?))
}

/// Asks a question about a community (where the caller lives, or `community_code`); routed like
/// a case, answered within five working days. At most five a day (429).
#[utoipa::path(post, path = "/api/v1/me/questions", tag = "questions", request_body = NewQuestion,
    responses((status = 201, body = MyQuestion)))]
async fn ask_question(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(n): Json<NewQuestion>,
) -> Created<MyQuestion> {
    created(questions::ask(&s, &ctx, n).await?)
}

/// Published answers like what the resident is typing (up to five).
#[utoipa::path(get, path = "/api/v1/me/questions/similar", tag = "questions", params(SimilarQuery),
    responses((status = 200, body = SimilarAnswers)))]
async fn similar_answers(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<SimilarQuery>,
) -> J<SimilarAnswers> {
    Ok(axum::Json(questions::my_similar(&s.db, &ctx, &q).await?))
}

/// One of the caller's own questions with its answer.
#[utoipa::path(get, path = "/api/v1/me/questions/{id}", tag = "questions", params(("id" = Uuid, Path)),
    responses((status = 200, body = MyQuestion)))]
async fn my_question(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<MyQuestion> {
    Ok(axum::Json(questions::my_one(&s.db, &ctx, id).await?))
}
