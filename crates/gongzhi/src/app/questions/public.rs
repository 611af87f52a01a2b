//! The public side of questions: the 回应关切 section of a community's (or street's) public page
//! (published wording and answers only, searchable), and "this helped me" from anyone.
//!
//! A tap counts once per browser: the browser gets a random cookie (`gz_voter`), kept only as its
//! hash with the question. One address may tap [`PER_ADDRESS_AN_HOUR`] times an hour (429 after),
//! so a script without cookies cannot inflate the counts.
use uuid::Uuid;

use super::similar;
use super::PublicAnswer;
use crate::app::disclosure::{self, esc};
use crate::app::AppState;
use crate::crypto::{new_token, token_hash};
use crate::domain::now_ms;
use crate::error::{AppError, AppResult};
use crate::store::{self, Db};

pub const PER_ADDRESS_AN_HOUR: i64 = 60;
pub const VOTER_COOKIE: &str = "gz_voter";
/// Answers on the page without a search.
const SHOWN: usize = 20;

/// An RFC 3339 time as its day in Asia/Shanghai.
fn local_day(rfc3339: &str) -> String {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .map(|t| {
            let ms = (t.unix_timestamp_nanos() / 1_000_000) as i64;
            crate::domain::ms_to_local_minute(ms)
                .get(..10)
                .unwrap_or_default()
                .to_string()
        })
        .unwrap_or_default()
}

fn valid_voter(v: &str) -> bool {
    v.len() <= 64
        && v.starts_with("v_")
        && v[2..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Records "this helped me" for a published question shown on the page `code`. Returns the
/// voter cookie to set when the browser had none (or a broken one).
#[tracing::instrument(name = "questions::public::helped", skip_all)]
pub async fn helped(
    state: &AppState,
    code: &str,
    id: Uuid,
    voter: Option<&str>,
    client_addr: &str,
) -> AppResult<Option<String>> {
    let db = &state.db;
    let shown = store::fetch_i64(
        db,
        "SELECT COUNT(*) AS n FROM questions q JOIN areas a ON a.code = $2 AND a.kind IN ('street', 'community') \
         WHERE q.id = $1 AND q.public = TRUE \
         AND q.community_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = a.id)",
        vec![id.into(), code.to_string().into()],
    )
    .await?;
    if shown == 0 {
        return Err(AppError::NotFound);
    }
    let (cookie, fresh) = match voter.filter(|v| valid_voter(v)) {
        Some(v) => (v.to_string(), None),
        None => {
            let v = new_token("v_");
            (v.clone(), Some(v))
        }
    };
    let addr = state.keys.blind_index("helped-addr", client_addr);
    let now = now_ms();
    let recent = store::fetch_i64(
        db,
        "SELECT COUNT(*) AS n FROM question_helped WHERE addr = $1 AND created_at > $2",
        vec![addr.clone().into(), (now - 3_600_000).into()],
    )
    .await?;
    if recent >= PER_ADDRESS_AN_HOUR {
        return Err(AppError::RateLimited {
            retry_after_s: 3600,
        });
    }
    let tx = store::write_tx(db).await?;
    let new = store::exec(
        &tx,
        "INSERT INTO question_helped (question_id, voter, addr, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (question_id, voter) DO NOTHING",
        vec![id.into(), token_hash(&cookie).into(), addr.into(), now.into()],
    )
    .await?;
    if new > 0 {
        store::exec(
            &tx,
            "UPDATE questions SET helped = helped + 1 WHERE id = $1",
            vec![id.into()],
        )
        .await?;
    }
    tx.commit().await?;
    if new > 0 {
        disclosure::forget();
    }
    Ok(fresh)
}

/// The 回应关切 section of the public page of `area` (its code `code`): the newest published
/// answers, or those matching `q`; `thanked` is the question just marked as helpful.
#[tracing::instrument(name = "questions::public::section", skip_all)]
pub async fn section(
    db: &Db,
    area: Uuid,
    code: &str,
    is_community: bool,
    q: Option<&str>,
    thanked: Option<Uuid>,
) -> AppResult<String> {
    let all = similar::published(db, area).await?;
    let q = q.map(str::trim).filter(|s| !s.is_empty());
    let shown: Vec<PublicAnswer> = match q {
        Some(q) => similar::best(all, q, 0.3, SHOWN),
        None => all.into_iter().take(SHOWN).collect(),
    };
    let mut h = String::with_capacity(4096);
    h.push_str("<section id=\"questions\"><h2>回应关切</h2>");
    h.push_str(&format!(
        "<form class=\"search\" method=\"get\" action=\"/p/{code}#questions\">\
         <input type=\"search\" name=\"q\" value=\"{v}\" placeholder=\"搜索已答复的问题\" maxlength=\"50\" aria-label=\"搜索\">\
         <button type=\"submit\">搜索</button></form>",
        code = esc(code),
        v = esc(q.unwrap_or_default())
    ));
    if is_community {
        h.push_str(&format!(
            "<p class=\"ask\"><a href=\"/m/questions/new?c={}\">我要提问</a>（需登录；没有账号可先注册）</p>",
            esc(code)
        ));
    }
    if thanked.is_some() {
        h.push_str("<p class=\"thanks\">谢谢您的反馈。</p>");
    }
    if shown.is_empty() {
        h.push_str(match q {
            Some(_) => "<p class=\"empty\">没有找到相关的答复。</p>",
            None => "<p class=\"empty\">暂无公开的答复。</p>",
        });
    }
    for a in &shown {
        h.push_str(&format!(
            "<article id=\"q-{id}\"><h3>{t}</h3><p>{b}</p><p class=\"answer\"><b>答复：</b>{ans}</p>\
             <p class=\"meta\">{when}{times}</p>\
             <form method=\"post\" action=\"/p/{code}/q/{id}/helped\"><button type=\"submit\">对我有帮助 · {n}</button></form></article>",
            id = a.id,
            t = esc(&a.title),
            b = esc(&a.body).replace('\n', "<br>"),
            ans = esc(&a.answer).replace('\n', "<br>"),
            when = local_day(&a.answered_at),
            times = if a.asked_count > 1 {
                format!(" · 同类提问 {} 次", a.asked_count)
            } else {
                String::new()
            },
            code = esc(code),
            n = a.helped,
        ));
    }
    h.push_str("</section>");
    Ok(h)
}
