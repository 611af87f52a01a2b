//! 12345 hotline work-order import (CSV in UTF-8 or GBK, or an Excel workbook): a dry run reports
//! every problem by row and column; a commit stores every row or none. The hotline's order number
//! makes a re-upload change nothing (`unchanged`).
use serde::Serialize;
use utoipa::ToSchema;

use super::intake::{self, Location, NewCase, RequesterInput};
use crate::app::registry::transfer::RowProblem;
use crate::app::{scope, AppState, Ctx};
use crate::domain::cases::CaseKind;
use crate::domain::now_ms;
use crate::domain::role::Permission;
use crate::error::{AppError, AppResult, Lang, Msg};
use crate::store;

/// Columns: (header in the template, accepted aliases, required).
pub const COLUMNS: &[(&str, &[&str], bool)] = &[
    ("工单号", &["order_no", "工单编号"], true),
    ("受理时间", &["received_at", "来电时间"], false),
    ("诉求类型", &["kind", "类型"], false),
    ("事项分类编码", &["category_code", "分类编码"], true),
    ("诉求内容", &["description", "内容"], true),
    ("区域编码", &["area_code"], false),
    ("经度", &["lon", "longitude"], false),
    ("纬度", &["lat", "latitude"], false),
    ("地址", &["address"], false),
    ("诉求人", &["requester", "来电人"], false),
    ("联系电话", &["phone", "电话"], false),
];

pub const MAX_ROWS: usize = 50_000;
pub const MAX_FILE: usize = 20 * 1024 * 1024;

/// The template (UTF-8 with BOM, one example row).
pub fn template() -> Vec<u8> {
    let mut w = crate::sheet::csv_for_excel();
    let _ = w.write_record(COLUMNS.iter().map(|c| c.0));
    let _ = w.write_record([
        "12345-20261130-0001",
        "2026-11-30 09:15",
        "投诉",
        "0101",
        "小区门口垃圾两天没清运",
        "130602001001001",
        "",
        "",
        "1号楼东侧",
        "王先生",
        "13800000000",
    ]);
    w.into_inner().unwrap_or_default()
}

#[derive(Debug, Serialize, ToSchema, Default)]
pub struct HotlineReport {
    pub committed: bool,
    pub rows: usize,
    /// Rows without problems (new ones).
    pub ok: usize,
    /// Rows whose order number was imported before.
    pub unchanged: usize,
    pub created: usize,
    pub error_rows: usize,
    /// At most 1,000.
    pub problems: Vec<RowProblem>,
}

/// Local time: `2026-11-30 09:15[:00]`, `2026/11/30 09:15`, `2026-11-30`, or RFC 3339.
fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim().replace('/', "-");
    if let Some(ms) = crate::domain::rfc3339_to_ms(&s) {
        return Some(ms);
    }
    let (date, time) = s.split_once([' ', 'T']).unwrap_or((&s, "00:00"));
    let d = crate::domain::calendar::parse_date(&normalise_date(date))?;
    let mut parts = time.split(':').map(|p| p.trim().parse::<i64>().ok());
    let h = parts.next().flatten()?;
    let m = parts.next().flatten().unwrap_or(0);
    let sec = parts.next().flatten().unwrap_or(0);
    if !(0..24).contains(&h) || !(0..60).contains(&m) || !(0..60).contains(&sec) {
        return None;
    }
    Some(crate::domain::calendar::local_midnight_ms(d) + ((h * 60 + m) * 60 + sec) * 1000)
}

/// `2026-1-5` → `2026-01-05`.
fn normalise_date(s: &str) -> String {
    let p: Vec<&str> = s.split('-').collect();
    match p[..] {
        [y, m, d] => format!("{y}-{:0>2}-{:0>2}", m, d),
        _ => s.to_string(),
    }
}

/// The gate an upload passes before its body is read: the caller dispatches cases somewhere (each
/// work order is then placed and checked on its own).
pub fn admit(ctx: &Ctx) -> AppResult<scope::Checked> {
    scope::require_any(ctx, Permission::DispatchCases)
}

#[tracing::instrument(name = "cases::hotline::import", skip_all)]
pub async fn import(
    state: &AppState,
    ctx: &Ctx,
    admitted: scope::Checked,
    bytes: &[u8],
    commit: bool,
) -> AppResult<HotlineReport> {
    let text = crate::sheet::upload_text(&state.settings.data_dir, &state.settings.sheet, bytes)?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = rdr.records();
    let header = Header::read(records.next())?;
    let mut report = HotlineReport::default();
    let mut built = vec![];
    let mut seen = std::collections::HashSet::new();
    for (i, rec) in records.enumerate() {
        let line = i as u64 + 2;
        let Ok(rec) = rec else {
            report.rows += 1;
            report.error_rows += 1;
            let msg = Msg::new("不是有效的 CSV 行", "not a valid CSV row");
            report.problem(line, "", msg.get(ctx.lang).to_string());
            continue;
        };
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        report.rows += 1;
        if report.rows > MAX_ROWS {
            return Err(AppError::field(
                "file",
                Msg::owned(
                    format!("最多 {MAX_ROWS} 行"),
                    format!("At most {MAX_ROWS} rows"),
                ),
            ));
        }
        let row = Row {
            header: &header,
            rec: &rec,
            line,
            lang: ctx.lang,
        };
        if let Some(case) = check_row(state, ctx, &row, &mut seen, &mut report).await? {
            built.push(case);
        }
    }
    if commit && report.error_rows == 0 && !built.is_empty() {
        write(state, ctx, &admitted, &built).await?;
        report.committed = true;
        report.created = built.len();
    }
    Ok(report)
}

impl HotlineReport {
    /// Notes a problem of a row (the first 1,000 are kept).
    fn problem(&mut self, row: u64, column: &str, problem: String) {
        if self.problems.len() < 1000 {
            self.problems.push(RowProblem {
                row,
                column: column.to_string(),
                problem,
            });
        }
    }
}

/// The sheet's header row: which column holds which field.
struct Header(Vec<String>);

impl Header {
    /// Reads the header row; refuses an empty file or one without the required columns.
    fn read(first: Option<Result<csv::StringRecord, csv::Error>>) -> AppResult<Header> {
        let Some(Ok(h)) = first else {
            return Err(AppError::field(
                "file",
                Msg::new("文件是空的", "The file is empty"),
            ));
        };
        let header = Header(
            h.iter()
                .map(|c| {
                    c.trim()
                        .trim_start_matches('\u{feff}')
                        .trim_end_matches('*')
                        .to_string()
                })
                .collect(),
        );
        let missing: Vec<&str> = COLUMNS
            .iter()
            .filter(|c| c.2 && header.col(c.0).is_none())
            .map(|c| c.0)
            .collect();
        if !missing.is_empty() {
            return Err(AppError::field(
                "file",
                Msg::owned(
                    format!("缺少必填列：{}", missing.join("、")),
                    format!("Missing required columns: {}", missing.join(", ")),
                ),
            ));
        }
        Ok(header)
    }

    /// The position of a column, by its template name or one of its aliases.
    fn col(&self, name: &str) -> Option<usize> {
        let (_, aliases, _) = COLUMNS.iter().find(|c| c.0 == name)?;
        self.0
            .iter()
            .position(|h| h == name || aliases.contains(&h.as_str()))
    }
}

/// One data row of the sheet.
struct Row<'a> {
    header: &'a Header,
    rec: &'a csv::StringRecord,
    line: u64,
    lang: Lang,
}

impl Row<'_> {
    /// A cell by column name, trimmed; `None` when empty or absent.
    fn get(&self, name: &str) -> Option<String> {
        self.header
            .col(name)
            .and_then(|k| self.rec.get(k))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }

    /// Notes a problem of this row in the report's language.
    fn problem(&self, report: &mut HotlineReport, column: &str, zh: String, en: String) {
        let text = if self.lang == Lang::Zh { zh } else { en };
        report.problem(self.line, column, text);
    }
}

/// Checks one work order; the case row to write when it is new and without problems. Every field
/// is checked even after a problem, so one pass lists every problem of the row.
async fn check_row(
    state: &AppState,
    ctx: &Ctx,
    row: &Row<'_>,
    seen: &mut std::collections::HashSet<String>,
    report: &mut HotlineReport,
) -> AppResult<Option<super::query::CaseRow>> {
    let mut bad = false;
    let order = row.get("工单号").unwrap_or_default();
    if order.is_empty() || order.chars().count() > 60 {
        row.problem(
            report,
            "工单号",
            "工单号必填，最多 60 个字符".into(),
            "required, at most 60 characters".into(),
        );
        bad = true;
    } else if !seen.insert(order.clone()) {
        row.problem(
            report,
            "工单号",
            "文件中重复".into(),
            "appears twice in the file".into(),
        );
        bad = true;
    }
    let idem = format!("hotline:{order}");
    if !bad {
        let exists = store::fetch_i64(
            &state.db,
            "SELECT COUNT(*) FROM cases WHERE idem_key = $1",
            vec![idem.clone().into()],
        )
        .await?;
        if exists > 0 {
            report.unchanged += 1;
            return Ok(None);
        }
    }
    let received = received_at(row, report, &mut bad);
    let kind = kind_of(row, report, &mut bad);
    let lon = number(row, "经度", report, &mut bad);
    let lat = number(row, "纬度", report, &mut bad);
    let area_id = area_by_code(state, row, report, &mut bad).await?;
    let area_reported = bad && area_id.is_none() && row.get("区域编码").is_some();
    let input = NewCase {
        kind: kind.as_str().into(),
        category_code: row.get("事项分类编码").unwrap_or_default(),
        title: None,
        description: row.get("诉求内容").unwrap_or_default(),
        channel: Some("hotline".into()),
        location: Location {
            area_id,
            dwelling_id: None,
            lat,
            lon,
            address: row.get("地址"),
        },
        requester: RequesterInput {
            name: row.get("诉求人").unwrap_or_else(|| "匿名".into()),
            phone: row.get("联系电话"),
            person_id: None,
        },
        attachments: vec![],
        idempotency_key: None,
    };
    match intake::build(state, ctx, &input, received, Some(idem)).await {
        Ok(case) if !bad => {
            report.ok += 1;
            Ok(Some(case))
        }
        Ok(_) => {
            report.error_rows += 1;
            Ok(None)
        }
        Err(e) => {
            report.error_rows += 1;
            intake_problems(row, report, e, area_reported);
            Ok(None)
        }
    }
}

/// 受理时间: a local time not in the future; now when empty.
fn received_at(row: &Row<'_>, report: &mut HotlineReport, bad: &mut bool) -> i64 {
    let Some(s) = row.get("受理时间") else {
        return now_ms();
    };
    match parse_time(&s) {
        Some(t) if t <= now_ms() + 60_000 => t,
        _ => {
            row.problem(
                report,
                "受理时间",
                format!("「{s}」不是有效的时间（如 2026-11-30 09:15），也不能晚于现在"),
                format!("'{s}' is not a valid time (e.g. 2026-11-30 09:15) or lies in the future"),
            );
            *bad = true;
            now_ms()
        }
    }
}

/// 诉求类型: one of the five kinds (求助 when empty).
fn kind_of(row: &Row<'_>, report: &mut HotlineReport, bad: &mut bool) -> CaseKind {
    let Some(k) = row.get("诉求类型") else {
        return CaseKind::Help;
    };
    CaseKind::parse_any(&k).unwrap_or_else(|| {
        row.problem(
            report,
            "诉求类型",
            format!("「{k}」应为 咨询/求助/投诉/举报/建议"),
            format!("'{k}' must be 咨询/求助/投诉/举报/建议"),
        );
        *bad = true;
        CaseKind::Help
    })
}

/// A number column (经度, 纬度), if given.
fn number(row: &Row<'_>, name: &str, report: &mut HotlineReport, bad: &mut bool) -> Option<f64> {
    let s = row.get(name)?;
    match s.parse::<f64>() {
        Ok(v) => Some(v),
        Err(_) => {
            row.problem(
                report,
                name,
                format!("「{s}」不是数字"),
                format!("'{s}' is not a number"),
            );
            *bad = true;
            None
        }
    }
}

/// 区域编码: the area of that code, if given.
async fn area_by_code(
    state: &AppState,
    row: &Row<'_>,
    report: &mut HotlineReport,
    bad: &mut bool,
) -> AppResult<Option<uuid::Uuid>> {
    let Some(code) = row.get("区域编码") else {
        return Ok(None);
    };
    #[derive(sea_orm::FromQueryResult)]
    struct A {
        id: uuid::Uuid,
    }
    let found = store::fetch_opt::<A, _>(
        &state.db,
        "SELECT id FROM areas WHERE code = $1",
        vec![code.clone().into()],
    )
    .await?;
    if found.is_none() {
        row.problem(
            report,
            "区域编码",
            format!("没有编码为 {code} 的区域"),
            format!("no area has the code {code}"),
        );
        *bad = true;
    }
    Ok(found.map(|a| a.id))
}

/// What intake refused, by the sheet's column (a location problem already reported by its area
/// code is not repeated).
fn intake_problems(row: &Row<'_>, report: &mut HotlineReport, e: AppError, area_reported: bool) {
    let fields = e.fields(row.lang);
    if fields.is_empty() {
        let msg = if matches!(e, AppError::NotFound) {
            Msg::new(
                "位置不在您的管辖范围内",
                "the location is outside your areas",
            )
            .get(row.lang)
            .to_string()
        } else {
            e.message(row.lang)
        };
        report.problem(row.line, "", msg);
    }
    for (k, v) in fields {
        if area_reported && k.starts_with("location") {
            continue;
        }
        let column = match k.as_str() {
            "category_code" => "事项分类编码",
            "description" => "诉求内容",
            "location" | "location.address" => "区域编码",
            "requester.name" => "诉求人",
            "requester.phone" => "联系电话",
            _ => "",
        };
        report.problem(row.line, column, v);
    }
}

/// Stores every checked work order in one transaction, with one audit entry.
async fn write(
    state: &AppState,
    ctx: &Ctx,
    admitted: &scope::Checked,
    built: &[super::query::CaseRow],
) -> AppResult<()> {
    let tx = store::write_tx(&state.db).await?;
    for row in built {
        intake::store_new(&tx, ctx, admitted, row, None, &[]).await?;
    }
    crate::app::audit::record(
        &tx,
        crate::app::audit::Entry::by(ctx, admitted, "case.import_hotline", "case", None)
            .detail(format!("{} work orders", built.len())),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hotline_times_are_local() {
        let t = parse_time("2026/11/30 09:15").unwrap();
        assert_eq!(crate::domain::ms_to_rfc3339(t), "2026-11-30T01:15:00Z");
        assert!(parse_time("2026-1-5").is_some());
        assert!(parse_time("2026-13-01 10:00").is_none());
        assert!(parse_time("昨天").is_none());
    }
}
