//! Acting on a question: answer (and publish), publish or take back the public wording, link a
//! repeat to an earlier answer, pass it to another unit, decline it. Each is one transaction
//! whose `UPDATE … WHERE status = 'open'` decides a race: of many answerers pressing at once, one
//! wins and the others get 409.
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::ask::tell_answerers;
use super::read::view;
use super::*;
use crate::app::audit::{self, Entry};
use crate::app::disclosure;
use crate::app::messages::{self, Outgoing};
use crate::app::notices::required_text;
use crate::app::Ctx;
use crate::domain::now_ms;
use crate::error::{AppError, AppResult, FieldErrors, Msg};
use crate::store::{self, Db};

fn not_open() -> AppError {
    AppError::conflict(
        "questions.not_open",
        Msg::new(
            "该提问已答复、关联或谢绝，请刷新查看",
            "This question was already answered, linked or declined; reload it",
        ),
    )
}

fn not_answered() -> AppError {
    AppError::conflict(
        "questions.not_answered",
        Msg::new(
            "只有已答复的提问才能公开",
            "Only an answered question can be published",
        ),
    )
}

/// The public wording, checked: both parts are required when publishing.
fn public_text(
    errs: &mut FieldErrors,
    title: Option<&str>,
    body: Option<&str>,
) -> (String, String) {
    (
        required_text(errs, "public_title", title.unwrap_or_default(), 100),
        required_text(errs, "public_body", body.unwrap_or_default(), 2000),
    )
}

/// Records the action in the audit log, commits, and answers the question as it now is; a change
/// to what the public sees forgets the cached public pages.
async fn finish(
    db: &Db,
    tx: sea_orm::DatabaseTransaction,
    ctx: &Ctx,
    r: &scope::Scoped<Row>,
    action: &str,
    detail: Option<String>,
    public_changed: bool,
) -> AppResult<Question> {
    let mut e = Entry::by(ctx, &r.checked, action, "question", r.id).area(r.community_id);
    if let Some(d) = detail {
        e = e.detail(d);
    }
    audit::record(&tx, e).await?;
    tx.commit().await?;
    if public_changed {
        disclosure::forget();
    }
    let visible = visible(db, ctx, r.id).await?.is_some();
    view(db, load(db, r.id).await?, visible).await
}

/// Tells the asker (`question.answered` or `question.declined`).
async fn tell_asker<C: ConnectionTrait>(
    c: &C,
    r: &Row,
    key: &'static str,
    reason: Option<&str>,
) -> AppResult<()> {
    let mut vars = serde_json::Map::new();
    vars.insert("title".into(), r.title.clone().into());
    if let Some(reason) = reason {
        vars.insert("reason".into(), reason.into());
    }
    messages::enqueue(
        c,
        Outgoing {
            key,
            dedup: format!("question:{}:{key}", r.id),
            urgent: false,
            area_id: Some(r.community_id),
            link: Some(format!("/m/questions/{}", r.id)),
            vars,
            recipients: vec![r.asker_id],
        },
    )
    .await?;
    Ok(())
}

/// 答复: the answer, optionally published at once with its public wording; the asker is told.
#[tracing::instrument(name = "questions::act::answer", skip_all)]
pub async fn answer(db: &Db, ctx: &Ctx, id: Uuid, a: AnswerInput) -> AppResult<Question> {
    let r = load_visible(db, ctx, id).await?;
    let mut errs = FieldErrors::new();
    let text = required_text(&mut errs, "answer", &a.answer, 5000);
    let (title, body) = if a.publish {
        let (t, b) = public_text(
            &mut errs,
            a.public_title.as_deref(),
            a.public_body.as_deref(),
        );
        (Some(t), Some(b))
    } else {
        (None, None)
    };
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    let won = store::exec(
        &tx,
        "UPDATE questions SET status = 'answered', answer = $2, answered_by = $3, answered_at = $4, \
         public = $5, public_title = $6, public_body = $7, published_at = $8, updated_at = $4 \
         WHERE id = $1 AND status = 'open'",
        vec![
            id.into(),
            text.into(),
            ctx.principal.display_name.clone().into(),
            now.into(),
            a.publish.into(),
            title.into(),
            body.into(),
            a.publish.then_some(now).into(),
        ],
    )
    .await?;
    if won == 0 {
        return Err(not_open());
    }
    tell_asker(&tx, &r, "question.answered", None).await?;
    let detail = if a.publish {
        "published"
    } else {
        "not published"
    };
    finish(
        db,
        tx,
        ctx,
        &r,
        "question.answer",
        Some(detail.into()),
        a.publish,
    )
    .await
}

/// 公开: publishes an answered question with the given wording (or changes the wording).
#[tracing::instrument(name = "questions::act::publish", skip_all)]
pub async fn publish(db: &Db, ctx: &Ctx, id: Uuid, p: PublishInput) -> AppResult<Question> {
    let r = load_visible(db, ctx, id).await?;
    let mut errs = FieldErrors::new();
    let (title, body) = public_text(&mut errs, Some(&p.public_title), Some(&p.public_body));
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    let n = store::exec(
        &tx,
        "UPDATE questions SET public = TRUE, public_title = $2, public_body = $3, \
         published_at = COALESCE(published_at, $4), updated_at = $4 WHERE id = $1 AND status = 'answered'",
        vec![id.into(), title.into(), body.into(), now.into()],
    )
    .await?;
    if n == 0 {
        return Err(not_answered());
    }
    finish(db, tx, ctx, &r, "question.publish", None, true).await
}

/// 撤回公开: the question leaves the public page (its repeats stay linked to its answer).
#[tracing::instrument(name = "questions::act::unpublish", skip_all)]
pub async fn unpublish(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<Question> {
    let r = load_visible(db, ctx, id).await?;
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "UPDATE questions SET public = FALSE, updated_at = $2 WHERE id = $1",
        vec![id.into(), now_ms().into()],
    )
    .await?;
    finish(db, tx, ctx, &r, "question.unpublish", None, true).await
}

/// 关联: an open question repeats an earlier published one of its community; it is answered
/// with that answer, and the earlier one counts one more asking.
#[tracing::instrument(name = "questions::act::link", skip_all)]
pub async fn link(db: &Db, ctx: &Ctx, id: Uuid, l: LinkInput) -> AppResult<Question> {
    let r = load_visible(db, ctx, id).await?;
    let bad = || {
        AppError::field(
            "to",
            Msg::new(
                "只能关联本社区已公开的答复",
                "Link to a published answer of the same community",
            ),
        )
    };
    if l.to == id {
        return Err(bad());
    }
    let to = match load(db, l.to).await {
        Ok(t) if t.public && t.community_id == r.community_id => t,
        Ok(_) | Err(AppError::NotFound) => return Err(bad()),
        Err(e) => return Err(e),
    };
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    let won = store::exec(
        &tx,
        "UPDATE questions SET status = 'linked', linked_to = $2, answer = $3, answered_by = $4, \
         answered_at = $5, updated_at = $5 WHERE id = $1 AND status = 'open'",
        vec![
            id.into(),
            to.id.into(),
            to.answer.clone().into(),
            ctx.principal.display_name.clone().into(),
            now.into(),
        ],
    )
    .await?;
    if won == 0 {
        return Err(not_open());
    }
    store::exec(
        &tx,
        "UPDATE questions SET asked_count = asked_count + 1 WHERE id = $1",
        vec![to.id.into()],
    )
    .await?;
    tell_asker(&tx, &r, "question.answered", None).await?;
    let detail = format!("repeats {}", to.no);
    finish(db, tx, ctx, &r, "question.link", Some(detail), true).await
}

/// 转办: passes an open question to another active unit at or above its community; its members
/// are told. The deadline stays.
#[tracing::instrument(name = "questions::act::reroute", skip_all)]
pub async fn reroute(db: &Db, ctx: &Ctx, id: Uuid, p: RouteInput) -> AppResult<Question> {
    let r = load_visible(db, ctx, id).await?;
    let note = p.note.trim().to_string();
    if note.chars().count() > 500 || crate::domain::text::has_forbidden_control(&note) {
        return Err(AppError::field(
            "note",
            Msg::new("最多 500 个字符", "At most 500 characters"),
        ));
    }
    let fits = store::fetch_i64(
        db,
        "SELECT COUNT(*) AS n FROM case_units u WHERE u.id = $1 AND u.active = TRUE \
         AND u.area_id IN (SELECT ancestor_id FROM area_closure WHERE descendant_id = $2)",
        vec![p.unit_id.into(), r.community_id.into()],
    )
    .await?;
    if fits == 0 || r.unit_id == Some(p.unit_id) {
        return Err(AppError::field(
            "unit_id",
            Msg::new(
                "请选择本社区或其上级的另一个在用单位",
                "Choose another active unit of the community or above it",
            ),
        ));
    }
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    let won = store::exec(
        &tx,
        "UPDATE questions SET unit_id = $2, duty_id = NULL, route_rule = 'manual', updated_at = $3 \
         WHERE id = $1 AND status = 'open'",
        vec![id.into(), p.unit_id.into(), now.into()],
    )
    .await?;
    if won == 0 {
        return Err(not_open());
    }
    let moved = load(&tx, id).await?;
    tell_answerers(
        &tx,
        "question.routed",
        format!("question:{id}:routed:{}:{now}", p.unit_id),
        &moved,
        Some(&note),
    )
    .await?;
    let detail = format!("to unit {}: {note}", p.unit_id);
    finish(db, tx, ctx, &r, "question.route", Some(detail), false).await
}

/// 谢绝: not a question for the community to answer (or abusive); the asker is told why.
#[tracing::instrument(name = "questions::act::decline", skip_all)]
pub async fn decline(db: &Db, ctx: &Ctx, id: Uuid, d: DeclineInput) -> AppResult<Question> {
    let r = load_visible(db, ctx, id).await?;
    let mut errs = FieldErrors::new();
    let reason = required_text(&mut errs, "reason", &d.reason, 500);
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    let won = store::exec(
        &tx,
        "UPDATE questions SET status = 'declined', declined_reason = $2, answered_by = $3, answered_at = $4, \
         updated_at = $4 WHERE id = $1 AND status = 'open'",
        vec![
            id.into(),
            reason.clone().into(),
            ctx.principal.display_name.clone().into(),
            now.into(),
        ],
    )
    .await?;
    if won == 0 {
        return Err(not_open());
    }
    tell_asker(&tx, &r, "question.declined", Some(&reason)).await?;
    finish(db, tx, ctx, &r, "question.decline", None, false).await
}
