//! Reading questions as those who answer them: the list with its counters, one question.
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::similar;
use super::*;
use crate::app::{scope, Ctx};
use crate::domain::{ms_to_rfc3339, now_ms};
use crate::error::{AppError, AppResult, Msg};
use crate::store::sql::Where;
use crate::store::{self, Db, Paging};

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuestionQuery {
    /// open (default) | answered | linked | declined | all
    pub status: Option<String>,
    /// Only open questions past their deadline.
    pub overdue: Option<bool>,
    /// Words of the title, or the number.
    pub q: Option<String>,
    /// Questions of the communities at or under this area.
    pub area_id: Option<Uuid>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema, FromQueryResult, Default)]
pub struct QuestionCounts {
    pub open: i64,
    /// Open and past the deadline.
    pub overdue: i64,
    pub answered: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionPage {
    pub items: Vec<QuestionSummary>,
    pub total: i64,
    pub page: u64,
    pub page_size: u64,
    /// Over the caller's questions (and `area_id`), whatever the status filter.
    pub counts: QuestionCounts,
}

#[tracing::instrument(name = "questions::read::list", skip_all)]
pub async fn list(db: &Db, ctx: &Ctx, q: &QuestionQuery) -> AppResult<QuestionPage> {
    let now = now_ms();
    let mut base = Where::new();
    base.and_cond(visible_cond(ctx).0);
    if let Some(a) = q.area_id {
        scope::require_visible(db, ctx, a).await?;
        base.and(
            "q.community_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = ?)",
            [a.into()],
        );
    }
    let mut w = base.clone();
    match q.status.as_deref().unwrap_or("open") {
        "all" => {}
        s @ ("open" | "answered" | "linked" | "declined") => {
            w.and("q.status = ?", [s.to_string().into()]);
        }
        _ => {
            return Err(AppError::field(
                "status",
                Msg::new(
                    "status 应为 open、answered、linked、declined 或 all",
                    "status must be open, answered, linked, declined or all",
                ),
            ))
        }
    }
    if q.overdue == Some(true) {
        w.and("q.status = 'open' AND q.due_at < ?", [now.into()]);
    }
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let like = format!("%{}%", store::like_escape(text));
        w.and(
            "(q.title LIKE ? ESCAPE '\\' OR q.no LIKE ? ESCAPE '\\')",
            [like.clone().into(), like.into()],
        );
    }
    let (cond, values) = w.build(1);
    let paging = Paging::new(q.page, q.page_size);
    // Overdue first, then the nearest deadline; answered ones newest first.
    let (rows, total): (Vec<Row>, i64) = store::page(
        db,
        &format!("SELECT COUNT(*) AS n FROM questions q WHERE {cond}"),
        &format!(
            "{SELECT} WHERE {cond} ORDER BY CASE WHEN q.status = 'open' THEN 0 ELSE 1 END, \
             CASE WHEN q.status = 'open' THEN q.due_at ELSE -q.created_at END, q.id"
        ),
        values,
        paging,
    )
    .await?;
    let (bcond, mut bvalues) = base.build(2);
    bvalues.insert(0, now.into());
    let counts: QuestionCounts = store::fetch_opt(
        db,
        &format!(
            "SELECT COUNT(CASE WHEN q.status = 'open' THEN 1 END) AS open, \
             COUNT(CASE WHEN q.status = 'open' AND q.due_at < $1 THEN 1 END) AS overdue, \
             COUNT(CASE WHEN q.status = 'answered' THEN 1 END) AS answered \
             FROM questions q WHERE {bcond}"
        ),
        bvalues,
    )
    .await?
    .unwrap_or_default();
    Ok(QuestionPage {
        items: rows.iter().map(|r| r.summary(now)).collect(),
        total,
        page: paging.page,
        page_size: paging.size,
        counts,
    })
}

/// One question as its answerers see it.
#[tracing::instrument(name = "questions::read::detail", skip_all)]
pub async fn detail(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<Question> {
    let r = load_visible(db, ctx, id).await?;
    view(db, r.row, true).await
}

/// The view of a question already loaded; `visible`: whether the caller may still see it (after
/// passing it to another unit they may not).
pub(super) async fn view<C: ConnectionTrait>(c: &C, r: Row, visible: bool) -> AppResult<Question> {
    #[derive(FromQueryResult)]
    struct Duty {
        name: String,
        legal_basis: String,
    }
    let route_basis = match r.duty_id {
        Some(d) => store::fetch_opt::<Duty, _>(
            c,
            "SELECT name, legal_basis FROM case_duties WHERE id = $1",
            vec![d.into()],
        )
        .await?
        .map(|d| format!("{}：{}", d.name, d.legal_basis)),
        None => None,
    };
    let linked_to = match r.linked_to {
        Some(to) => {
            let t = load(c, to).await?;
            Some(LinkedTo {
                id: t.id,
                title: t.public_title.unwrap_or(t.title),
            })
        }
        None => None,
    };
    let similar = if r.status == "open" {
        let all: Vec<PublicAnswer> = similar::published(c, r.community_id)
            .await?
            .into_iter()
            .filter(|a| a.id != r.id)
            .collect();
        similar::best(all, &format!("{} {}", r.title, r.body), 0.15, 5)
    } else {
        vec![]
    };
    let now = now_ms();
    Ok(Question {
        summary: r.summary(now),
        can_answer: visible && r.status == "open",
        can_publish: visible && r.status == "answered",
        body: r.body,
        asker_name: r.asker_label,
        route_rule: r.route_rule,
        route_basis,
        answer: r.answer,
        answered_by_name: r.answered_by,
        declined_reason: r.declined_reason,
        public_title: r.public_title,
        public_body: r.public_body,
        published_at: r.published_at.map(ms_to_rfc3339),
        linked_to,
        similar,
    })
}
