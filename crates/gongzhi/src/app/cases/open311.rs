//! Open311 GeoReport v2 over the case model (docs/open311.md): services are the active categories
//! of the second level (or first-level ones without children), requests are cases.
use sea_orm::FromQueryResult;
use serde_json::json;
use uuid::Uuid;

use super::dictionary::{self, CategoryRow};
use super::intake::{self, Location, NewCase, RequesterInput};
use super::query::{self, CaseRow};
use crate::app::{scope, AppState, Ctx};
use crate::domain::cases::{CaseKind, Status};
use crate::error::{AppError, Lang};
use crate::store;

/// An Open311 error: the HTTP status (400, 403, 404) and the description.
#[derive(Debug)]
pub struct O311Error {
    pub status: u16,
    pub description: String,
}

impl O311Error {
    pub fn new(status: u16, d: impl Into<String>) -> O311Error {
        O311Error {
            status,
            description: d.into(),
        }
    }
    /// From the API's error: validation and rules → 400, forbidden/unauthenticated → 403,
    /// not found → 404; the message (and field messages) in the caller's language.
    pub fn from_app(e: AppError, lang: Lang) -> O311Error {
        let status = match e.status().as_u16() {
            401 | 403 => 403,
            404 => 404,
            s if s >= 500 => s,
            _ => 400,
        };
        let mut d = e.message(lang);
        let fields = e.fields(lang);
        if !fields.is_empty() {
            let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            d = format!("{d} ({})", parts.join("; "));
        }
        O311Error::new(status, d)
    }
}

/// Services: categories that take cases (leaves).
async fn leaves(state: &AppState) -> Result<Vec<(CategoryRow, Option<String>)>, AppError> {
    let rows: Vec<CategoryRow> = store::fetch_all(
        &state.db,
        &format!("{} WHERE active = TRUE ORDER BY code", dictionary::SELECT),
        vec![],
    )
    .await?;
    let names: std::collections::HashMap<Uuid, String> =
        rows.iter().map(|r| (r.id, r.name.clone())).collect();
    let parents: std::collections::HashSet<Uuid> =
        rows.iter().filter_map(|r| r.parent_id).collect();
    Ok(rows
        .into_iter()
        .filter(|r| !parents.contains(&r.id))
        .map(|r| {
            let group = r.parent_id.and_then(|p| names.get(&p).cloned());
            (r, group)
        })
        .collect())
}

#[tracing::instrument(name = "cases::open311::services", skip_all)]
pub async fn services(state: &AppState, lang: Lang) -> Result<Vec<serde_json::Value>, AppError> {
    Ok(leaves(state)
        .await?
        .into_iter()
        .map(|(r, group)| {
            let desc = match lang {
                Lang::Zh => format!(
                    "办理时限 {}，响应时限 {}",
                    limit_text(&r.handle_limit, lang),
                    limit_text(&r.response_limit, lang)
                ),
                Lang::En => format!(
                    "Handled within {}, responded within {}",
                    limit_text(&r.handle_limit, lang),
                    limit_text(&r.response_limit, lang)
                ),
            };
            json!({
                "service_code": r.code,
                "service_name": r.name,
                "description": desc,
                "metadata": true,
                "type": "realtime",
                "keywords": group.clone().unwrap_or_default(),
                "group": group.unwrap_or_default(),
            })
        })
        .collect())
}

fn limit_text(s: &str, lang: Lang) -> String {
    let l = CategoryRow::limit(s);
    match (l.unit, lang) {
        (crate::domain::calendar::LimitUnit::Hours, Lang::Zh) => format!("{} 个工作小时", l.value),
        (crate::domain::calendar::LimitUnit::Days, Lang::Zh) => format!("{} 个工作日", l.value),
        (crate::domain::calendar::LimitUnit::Hours, Lang::En) => {
            format!("{} working hours", l.value)
        }
        (crate::domain::calendar::LimitUnit::Days, Lang::En) => format!("{} working days", l.value),
    }
}

/// The attributes every service takes.
fn attributes(lang: Lang) -> serde_json::Value {
    let zh = lang == Lang::Zh;
    json!([
        {
            "variable": true,
            "code": "kind",
            "datatype": "singlevaluelist",
            "required": false,
            "datatype_description": if zh { "诉求类型，默认为求助" } else { "The kind of demand; default help" },
            "order": 1,
            "description": if zh { "类型" } else { "Kind" },
            "values": CaseKind::ALL.iter().map(|k| json!({"key": k.as_str(), "name": if zh { k.label_zh() } else { k.label_en() }})).collect::<Vec<_>>(),
        },
        {
            "variable": true,
            "code": "people_affected",
            "datatype": "number",
            "required": false,
            "datatype_description": if zh { "受影响的人数（整数 1–100000）" } else { "How many people are affected (whole number 1–100000)" },
            "order": 2,
            "description": if zh { "影响人数" } else { "People affected" },
        }
    ])
}

#[tracing::instrument(name = "cases::open311::definition", skip_all)]
pub async fn definition(
    state: &AppState,
    lang: Lang,
    code: &str,
) -> Result<serde_json::Value, O311Error> {
    let all = leaves(state)
        .await
        .map_err(|e| O311Error::from_app(e, lang))?;
    if !all.iter().any(|(r, _)| r.code == code) {
        return Err(not_found_service(lang, code));
    }
    Ok(json!({"service_code": code, "attributes": attributes(lang)}))
}

fn not_found_service(lang: Lang, code: &str) -> O311Error {
    O311Error::new(
        404,
        match lang {
            Lang::Zh => format!("没有服务代码为 {code} 的服务"),
            Lang::En => format!("No service has the code {code}"),
        },
    )
}

fn bad(lang: Lang, zh: String, en: String) -> O311Error {
    O311Error::new(400, if lang == Lang::Zh { zh } else { en })
}

/// `POST /requests`: the form's fields (api_key already checked into `ctx`).
#[tracing::instrument(name = "cases::open311::create", skip_all)]
pub async fn create(
    state: &AppState,
    ctx: &Ctx,
    form: &[(String, String)],
) -> Result<serde_json::Value, O311Error> {
    let lang = ctx.lang;
    let f = Form { fields: form, lang };
    let code = f.get("service_code").ok_or_else(|| {
        bad(
            lang,
            "缺少 service_code".into(),
            "service_code is required".into(),
        )
    })?;
    let services = leaves(state)
        .await
        .map_err(|e| O311Error::from_app(e, lang))?;
    if !services.iter().any(|(r, _)| r.code == code) {
        return Err(bad(
            lang,
            format!("没有服务代码为 {code} 的服务"),
            format!("No service has the code {code}"),
        ));
    }
    let (kind, people) = f.attributes(&code)?;
    let location = f.location(state).await?;
    let mut description = f.get("description").unwrap_or_default();
    if let Some(n) = people {
        description.push_str(&format!("（影响人数：{n}）"));
    }
    if let Some(m) = f.get("media_url") {
        description.push_str(&format!("\n图片：{m}"));
    }
    let name = format!(
        "{}{}",
        f.get("last_name").unwrap_or_default(),
        f.get("first_name").unwrap_or_default()
    );
    let input = NewCase {
        kind: kind.as_str().into(),
        category_code: code,
        title: None,
        description,
        channel: Some("open311".into()),
        location,
        requester: RequesterInput {
            name: if name.is_empty() {
                "匿名".into()
            } else {
                name
            },
            phone: f.get("phone"),
            person_id: None,
        },
        attachments: vec![],
        idempotency_key: f
            .get("device_id")
            .zip(f.get("idempotency_key"))
            .map(|(d, k)| format!("{d}:{k}")),
    };
    let (case, _) = intake::create(state, ctx, input, None)
        .await
        .map_err(|e| O311Error::from_app(e, lang))?;
    Ok(json!([{
        "service_request_id": case.summary.no,
        "service_notice": case.routing.map(|r| r.explanation).unwrap_or_default(),
        "account_id": null,
    }]))
}

/// A GeoReport v2 request form (`application/x-www-form-urlencoded` pairs).
struct Form<'f> {
    fields: &'f [(String, String)],
    lang: Lang,
}

impl Form<'_> {
    /// A field's trimmed value; an empty one counts as not given.
    fn get(&self, k: &str) -> Option<String> {
        self.fields
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    fn num(&self, k: &str) -> Result<Option<f64>, O311Error> {
        match self.get(k) {
            None => Ok(None),
            Some(s) => s.parse::<f64>().map(Some).map_err(|_| {
                bad(
                    self.lang,
                    format!("{k} 不是数字"),
                    format!("{k} is not a number"),
                )
            }),
        }
    }

    /// The `attribute[…]` fields: only those the service defines, with values of their type.
    fn attributes(&self, code: &str) -> Result<(CaseKind, Option<u32>), O311Error> {
        let lang = self.lang;
        let mut kind = CaseKind::Help;
        let mut people: Option<u32> = None;
        for (k, v) in self.fields {
            let Some(attr) = k
                .strip_prefix("attribute[")
                .and_then(|s| s.strip_suffix(']'))
            else {
                continue;
            };
            match attr {
                "kind" => {
                    kind = CaseKind::parse(v.trim()).ok_or_else(|| {
                        bad(lang, format!("属性 kind 的值「{v}」不在可选值中"), format!("attribute kind: '{v}' is not one of its values"))
                    })?
                }
                "people_affected" => {
                    people = Some(v.trim().parse::<u32>().ok().filter(|n| (1..=100_000).contains(n)).ok_or_else(|| {
                        bad(lang, format!("属性 people_affected 应为 1–100000 的整数，而不是「{v}」"), format!("attribute people_affected must be a whole number 1–100000, not '{v}'"))
                    })?)
                }
                other => {
                    return Err(bad(
                        lang,
                        format!("服务 {code} 没有属性 {other}"),
                        format!("Service {code} has no attribute {other}"),
                    ))
                }
            }
        }
        Ok((kind, people))
    }

    /// Where: `lat` and `long`, or `address_id` (an area's or a dwelling's id), or both.
    async fn location(&self, state: &AppState) -> Result<Location, O311Error> {
        let lang = self.lang;
        let (lat, lon) = (self.num("lat")?, self.num("long")?);
        let address_id = match self.get("address_id") {
            None => None,
            Some(s) => Some(Uuid::parse_str(&s).map_err(|_| {
                bad(
                    lang,
                    "address_id 应为区域或房屋的 ID".into(),
                    "address_id must be an area or dwelling id".into(),
                )
            })?),
        };
        let (area_id, dwelling_id) = match address_id {
            Some(id) => {
                let is_area = store::fetch_i64(
                    &state.db,
                    "SELECT COUNT(*) FROM areas WHERE id = $1",
                    vec![id.into()],
                )
                .await
                .map_err(|e| O311Error::from_app(e.into(), lang))?
                    > 0;
                if is_area {
                    (Some(id), None)
                } else {
                    (None, Some(id))
                }
            }
            None => (None, None),
        };
        if lat.is_none() && lon.is_none() && address_id.is_none() {
            return Err(bad(
                lang,
                "缺少位置：请提供 lat 和 long，或 address_id".into(),
                "A location is required: lat and long, or address_id".into(),
            ));
        }
        Ok(Location {
            area_id,
            dwelling_id,
            lat,
            lon,
            address: self.get("address_string"),
        })
    }
}

/// The Open311 view of a case.
async fn request_view(
    state: &AppState,
    lang: Lang,
    r: &CaseRow,
) -> Result<serde_json::Value, AppError> {
    #[derive(FromQueryResult)]
    struct N {
        service_name: Option<String>,
        agency: Option<String>,
        area_name: Option<String>,
    }
    let n: Option<N> = store::fetch_opt(
        &state.db,
        "SELECT (SELECT name FROM case_categories WHERE id = $1) AS service_name, \
         (SELECT name FROM case_units WHERE id = $2) AS agency, (SELECT name FROM areas WHERE id = $3) AS area_name",
        vec![r.category_id.into(), r.unit_id.or(r.route_unit_id).into(), r.area_id.into()],
    )
    .await?;
    let n = n.unwrap_or(N {
        service_name: None,
        agency: None,
        area_name: None,
    });
    let status = r.status();
    let closed = matches!(status, Status::Closed | Status::Rejected | Status::Merged);
    let notes = match status {
        Status::Closed | Status::Handled | Status::Verified | Status::Rated => r.result.clone(),
        _ => None,
    }
    .unwrap_or_else(|| {
        if lang == Lang::Zh {
            status.label_zh()
        } else {
            status.label_en()
        }
        .to_string()
    });
    Ok(json!({
        "service_request_id": r.no,
        "status": if closed { "closed" } else { "open" },
        "status_notes": notes,
        "service_name": n.service_name.unwrap_or_default(),
        "service_code": r.category_code,
        "description": r.description,
        "agency_responsible": n.agency.unwrap_or_default(),
        "service_notice": "",
        "requested_datetime": local_time(r.received_at),
        "updated_datetime": local_time(r.updated_at),
        "expected_datetime": r.handle_due_at.map(local_time),
        "address": r.address.clone().or(n.area_name).unwrap_or_default(),
        "address_id": r.dwelling_id.unwrap_or(r.area_id).to_string(),
        "zipcode": "",
        "lat": r.lat,
        "long": r.lon,
        "media_url": "",
    }))
}

/// W3C date-time in Asia/Shanghai (`2026-12-01T19:20:00+08:00`).
pub fn local_time(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC));
    let f =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]+08:00");
    t.format(&f).unwrap_or_default()
}

fn parse_w3c(s: &str) -> Option<i64> {
    crate::domain::rfc3339_to_ms(s).or_else(|| {
        crate::domain::calendar::parse_date(s).map(crate::domain::calendar::local_midnight_ms)
    })
}

/// `GET /requests` (with an api_key: the cases of its area) and `GET /requests/{id}` (by number:
/// anyone who knows the number may follow it, as on a tracking slip). Without a key every answer
/// is the notice-board view (`public_view`): the public list names numbers, and a number must not
/// open the description or the exact place.
#[tracing::instrument(name = "cases::open311::list", skip_all)]
pub async fn list(
    state: &AppState,
    ctx: Option<&Ctx>,
    lang: Lang,
    q: &[(String, String)],
) -> Result<Vec<serde_json::Value>, O311Error> {
    let get = |k: &str| {
        q.iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let mut w = crate::store::sql::Where::new();
    let ids: Vec<String> = get("service_request_id")
        .map(|s| {
            s.split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .take(100)
                .collect()
        })
        .unwrap_or_default();
    if !ids.is_empty() {
        w.and_in("no", ids.iter().cloned());
    } else {
        match ctx {
            // With a key: the cases of its area.
            Some(ctx) => {
                let (cond, v) = scope::filter_sql(ctx, "area_id", 1);
                w.and_cond(crate::store::sql::Cond::from_numbered(&cond, v));
            }
            // Without one, as GeoReport v2 clients ask: the categories streets opened to the
            // public, shown as a notice board would (`public_view`).
            None => {
                w.and(super::public::PUBLIC_CASE, []);
            }
        }
        let now = crate::domain::now_ms();
        let end = match get("end_date") {
            Some(s) => parse_w3c(&s).ok_or_else(|| {
                bad(
                    lang,
                    "end_date 应为 W3C 日期时间".into(),
                    "end_date must be a W3C date-time".into(),
                )
            })?,
            None => now,
        };
        let start = match get("start_date") {
            Some(s) => parse_w3c(&s).ok_or_else(|| {
                bad(
                    lang,
                    "start_date 应为 W3C 日期时间".into(),
                    "start_date must be a W3C date-time".into(),
                )
            })?,
            None => end - 90 * 86_400_000,
        };
        if start > end || end - start > 366 * 86_400_000 {
            return Err(bad(
                lang,
                "查询区间应在一年以内，且开始不晚于结束".into(),
                "The span must be at most a year, start before end".into(),
            ));
        }
        w.and("received_at BETWEEN ? AND ?", [start.into(), end.into()]);
        if let Some(code) = get("service_code") {
            w.and_in(
                "category_code",
                code.split(',').map(|s| s.trim().to_string()),
            );
        }
        match get("status").as_deref() {
            None => {}
            Some("open") => {
                w.and("status NOT IN ('closed', 'rejected', 'merged')", []);
            }
            Some("closed") => {
                w.and("status IN ('closed', 'rejected', 'merged')", []);
            }
            Some(s) => {
                return Err(bad(
                    lang,
                    format!("status 应为 open 或 closed，而不是 {s}"),
                    format!("status must be open or closed, not {s}"),
                ))
            }
        }
    }
    let (cond, values) = w.build(1);
    let rows: Vec<CaseRow> = store::fetch_all(
        &state.db,
        &format!(
            "SELECT {} FROM cases WHERE {cond} ORDER BY received_at DESC LIMIT 1000",
            query::COLUMNS,
        ),
        values,
    )
    .await
    .map_err(|e| O311Error::from_app(e.into(), lang))?;
    let without_key = ctx.is_none();
    let mut out = vec![];
    for r in &rows {
        let mut v = request_view(state, lang, r)
            .await
            .map_err(|e| O311Error::from_app(e, lang))?;
        if without_key {
            public_view(state, lang, r, &mut v)
                .await
                .map_err(|e| O311Error::from_app(e, lang))?;
        }
        out.push(v);
    }
    Ok(out)
}

/// A request as the public list shows it: no description, no exact place, no photo, no result
/// text (which may name people); the place is the grid (or community) it lies in.
async fn public_view(
    state: &AppState,
    lang: Lang,
    r: &CaseRow,
    v: &mut serde_json::Value,
) -> Result<(), AppError> {
    #[derive(FromQueryResult)]
    struct P {
        name: Option<String>,
    }
    let place: Option<P> = store::fetch_opt(
        &state.db,
        "SELECT (SELECT c.name FROM areas c WHERE c.id = $1) || COALESCE((SELECT g.name FROM areas g WHERE g.id = $2), '') AS name",
        vec![r.community_id.into(), r.grid_id.into()],
    )
    .await?;
    let o = v.as_object_mut().expect("a request is an object");
    for k in [
        "description",
        "media_url",
        "lat",
        "long",
        "address_id",
        "zipcode",
    ] {
        o.remove(k);
    }
    let label = if lang == Lang::Zh {
        r.status().label_zh()
    } else {
        r.status().label_en()
    };
    o.insert("status_notes".into(), label.into());
    o.insert(
        "address".into(),
        place.and_then(|p| p.name).unwrap_or_default().into(),
    );
    Ok(())
}

/// Whether a principal may create Open311 requests: an API token with any grant.
pub fn check_channel(ctx: &Ctx) -> Result<(), AppError> {
    if ctx.principal.kind != crate::app::PrincipalKind::ApiToken {
        return Err(AppError::forbidden());
    }
    Ok(())
}
