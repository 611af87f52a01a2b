//! 公开页 (issue 15 point 6): one public page per community and street, at `/p/<area code>`,
//! rendered on the server (no script, a few kilobytes, fast on a phone): the notices marked
//! public at, above or below the area, the three rates (响应率、解决率、满意率) of the last
//! months, and the volunteer activities open to sign-up. Nothing personal is on it: notices by
//! their author's choice, rates as counts, activities by title and place. Each page is kept for a
//! minute on each instance (and the browser may keep it as long).
use std::sync::OnceLock;
use std::time::Duration;

use sea_orm::FromQueryResult;
use uuid::Uuid;

use super::cache::Ttl;
use super::cases::stats::{self, StatsQuery};
use super::{AppState, Ctx};
use crate::domain::calendar::local_date;
use crate::domain::{ms_to_local_minute, now_ms};
use crate::error::{AppError, AppResult};
use crate::store;

pub const MAX_AGE_S: u64 = 60;

fn cache() -> &'static Ttl<String, String> {
    static C: OnceLock<Ttl<String, String>> = OnceLock::new();
    C.get_or_init(|| Ttl::new(Duration::from_secs(MAX_AGE_S)))
}

/// What the page is asked for beyond its code: a search of the answers, the question just
/// marked as helpful (a thank-you line). Such pages are not cached.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct PageQuery {
    pub q: Option<String>,
    /// The question just marked as helpful.
    pub h: Option<Uuid>,
}

/// The page of the street or community with this code; 404 for any other.
#[tracing::instrument(name = "disclosure::page", skip_all)]
pub async fn page(state: &AppState, code: &str, pq: &PageQuery) -> AppResult<String> {
    if code.len() > 32 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(AppError::NotFound);
    }
    let plain = pq.q.as_deref().is_none_or(|q| q.trim().is_empty()) && pq.h.is_none();
    if plain {
        if let Some(html) = cache().get(&code.to_string()) {
            return Ok(html);
        }
    }
    let html = render(state, code, pq).await?;
    if plain {
        cache().put(code.to_string(), html.clone());
    }
    Ok(html)
}

/// Forgets the pages this instance keeps (an answer was published or marked as helpful).
pub fn forget() {
    cache().clear();
}

#[derive(FromQueryResult)]
struct Area {
    id: Uuid,
    kind: String,
    name: String,
    parent_name: Option<String>,
}

#[derive(FromQueryResult)]
struct PublicNotice {
    title: String,
    body: String,
    area_name: String,
    created_at: i64,
}

#[derive(FromQueryResult)]
struct OpenActivity {
    title: String,
    place: String,
    starts_at: i64,
    capacity: i32,
    signed_up: i32,
}

/// `column` lies at, above or below the area `$1`.
fn related(column: &str) -> String {
    format!(
        "({column} IN (SELECT ancestor_id FROM area_closure WHERE descendant_id = $1) \
         OR {column} IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = $1))"
    )
}

async fn render(state: &AppState, code: &str, pq: &PageQuery) -> AppResult<String> {
    let db = &state.db;
    let area: Area = store::fetch_found(
        db,
        "SELECT a.id, a.kind, a.name, p.name AS parent_name FROM areas a LEFT JOIN areas p ON p.id = a.parent_id \
         WHERE a.code = $1 AND a.kind IN ('street', 'community')",
        vec![code.to_string().into()],
    )
    .await?;
    let notices: Vec<PublicNotice> = store::fetch_all(
        db,
        &format!(
            "SELECT n.title, n.body, a.name AS area_name, n.created_at FROM notices n JOIN areas a ON a.id = n.area_id \
             WHERE n.public AND n.status = 'published' AND {} ORDER BY n.created_at DESC LIMIT 20",
            related("n.area_id")
        ),
        vec![area.id.into()],
    )
    .await?;
    let activities: Vec<OpenActivity> = store::fetch_all(
        db,
        &format!(
            "SELECT t.title, t.place, t.starts_at, t.capacity, t.signed_up FROM activities t \
             WHERE t.status = 'open' AND t.starts_at > $2 AND {} ORDER BY t.starts_at LIMIT 10",
            related("t.area_id")
        ),
        vec![area.id.into(), now_ms().into()],
    )
    .await?;
    // The rates of this month and the two before, as the dashboard counts them.
    let today = local_date(now_ms());
    let mut first = today.replace_day(1).unwrap_or(today);
    for _ in 0..2 {
        first = first
            .previous_day()
            .and_then(|d| d.replace_day(1).ok())
            .unwrap_or(first);
    }
    let ctx = Ctx::system("public-page", state.audit_key.clone());
    let months = stats::trend(
        state,
        &ctx,
        StatsQuery {
            area_id: Some(area.id),
            from: Some(super::service::ymd(first)),
            to: Some(super::service::ymd(today)),
            bucket: Some("month".into()),
            by: None,
        },
    )
    .await?;

    let mut h = String::with_capacity(8 * 1024);
    let title = match &area.parent_name {
        Some(p) if area.kind == "community" => format!("{p} · {}", area.name),
        _ => area.name.clone(),
    };
    h.push_str(&format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t} · 公开信息</title><style>{CSS}</style></head><body>\
         <header><h1>{t}</h1><p>公开信息 · 更新于 {now}</p></header><main>",
        t = esc(&title),
        now = ms_to_local_minute(now_ms()),
    ));
    h.push_str("<section><h2>通知公告</h2>");
    if notices.is_empty() {
        h.push_str("<p class=\"empty\">暂无公开通知。</p>");
    }
    for n in &notices {
        h.push_str(&format!(
            "<article><h3>{}</h3><p class=\"meta\">{} · {}</p><p>{}</p></article>",
            esc(&n.title),
            esc(&n.area_name),
            ms_to_local_minute(n.created_at),
            esc(&n.body).replace('\n', "<br>")
        ));
    }
    h.push_str("</section>");
    h.push_str(
        &super::questions::public::section(
            db,
            area.id,
            code,
            area.kind == "community",
            pq.q.as_deref(),
            pq.h,
        )
        .await?,
    );
    h.push_str("<section><h2>接诉即办 · 三率</h2>");
    if months.is_empty() {
        h.push_str("<p class=\"empty\">近三个月暂无诉求。</p>");
    } else {
        h.push_str(
            "<table><thead><tr><th>月份</th><th>受理</th><th>响应率</th><th>解决率</th><th>满意率</th></tr></thead><tbody>",
        );
        for m in &months {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&m.period),
                m.rates.received,
                pct(m.rates.response_rate),
                pct(m.rates.resolve_rate),
                pct(m.rates.satisfaction_rate)
            ));
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("</section><section><h2>志愿服务 · 可报名活动</h2>");
    if activities.is_empty() {
        h.push_str("<p class=\"empty\">暂无可报名的活动。</p>");
    }
    for a in &activities {
        h.push_str(&format!(
            "<article><h3>{}</h3><p class=\"meta\">{} · {}</p><p>已报名 {} / {} 人</p></article>",
            esc(&a.title),
            ms_to_local_minute(a.starts_at),
            esc(&a.place),
            a.signed_up,
            a.capacity
        ));
    }
    h.push_str(
        "</section></main><footer>共治 · 社区治理平台 · 本页不含个人信息</footer></body></html>",
    );
    Ok(h)
}

fn pct(r: Option<f64>) -> String {
    match r {
        Some(x) => format!("{:.1}%", x * 100.0),
        None => "—".into(),
    }
}

/// HTML text: the five characters that matter escaped.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// The page for an unknown code: a hint, not a bare 404.
pub fn not_found_html() -> String {
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>未找到</title>\
         <style>{CSS}</style></head><body><header><h1>未找到这个社区或街道</h1></header><main><section>\
         <p>请检查链接中的区域代码（社区或街道的 12 位代码），或向社区工作人员索取公开页的二维码。</p>\
         <p><a href=\"/\">进入共治平台</a></p></section></main></body></html>"
    )
}

const CSS: &str = "body{margin:0;font:16px/1.6 system-ui,-apple-system,'PingFang SC','Noto Sans CJK SC',sans-serif;\
background:#f3f4f7;color:#222}header{background:#c0392b;color:#fff;padding:16px 20px}header h1{margin:0;font-size:20px}\
header p{margin:4px 0 0;opacity:.85;font-size:13px}main{max-width:760px;margin:0 auto;padding:8px 12px}\
section{background:#fff;border-radius:10px;margin:12px 0;padding:12px 16px}h2{font-size:17px;margin:4px 0 8px}\
h3{font-size:16px;margin:8px 0 2px}article{border-top:1px solid #eee;padding:4px 0}article:first-of-type{border:0}\
.meta{color:#888;font-size:13px;margin:0}.empty{color:#888}table{width:100%;border-collapse:collapse;font-size:14px}\
th,td{text-align:right;padding:6px 4px;border-bottom:1px solid #eee}th:first-child,td:first-child{text-align:left}\
footer{text-align:center;color:#999;font-size:12px;padding:16px}a{color:#c0392b}\
form.search{display:flex;gap:8px;margin:4px 0 8px}form.search input{flex:1;min-width:0;font-size:16px;padding:8px;\
border:1px solid #ccc;border-radius:6px}button{font-size:15px;padding:6px 14px;border:1px solid #c0392b;border-radius:6px;\
background:#fff;color:#c0392b}form.search button{background:#c0392b;color:#fff}.answer{background:#f7f7f9;\
padding:8px;border-radius:6px}.ask{margin:4px 0}.thanks{color:#2e7d32}article form{margin:4px 0 8px}";

#[cfg(test)]
mod tests {
    #[test]
    fn text_is_escaped() {
        assert_eq!(
            super::esc("<script>\"x\" & 'y'</script>"),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }
}
