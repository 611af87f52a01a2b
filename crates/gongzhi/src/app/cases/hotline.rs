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
    let header: Vec<String> = match records.next() {
        Some(Ok(h)) => h
            .iter()
            .map(|c| {
                c.trim()
                    .trim_start_matches('\u{feff}')
                    .trim_end_matches('*')
                    .to_string()
            })
            .collect(),
        _ => {
            return Err(AppError::field(
                "file",
                Msg::new("文件是空的", "The file is empty"),
            ))
        }
    };
    let col = |name: &str| -> Option<usize> {
        let (_, aliases, _) = COLUMNS.iter().find(|c| c.0 == name)?;
        header
            .iter()
            .position(|h| h == name || aliases.contains(&h.as_str()))
    };
    let missing: Vec<&str> = COLUMNS
        .iter()
        .filter(|c| c.2 && col(c.0).is_none())
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
    let lang = ctx.lang;
    let mut report = HotlineReport::default();
    let problem = |report: &mut HotlineReport, row: u64, column: &str, p: String| {
        if report.problems.len() < 1000 {
            report.problems.push(RowProblem {
                row,
                column: column.to_string(),
                problem: p,
            });
        }
    };
    let mut built = vec![];
    let mut seen = std::collections::HashSet::new();
    for (i, rec) in records.enumerate() {
        let line = i as u64 + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(_) => {
                report.rows += 1;
                report.error_rows += 1;
                problem(
                    &mut report,
                    line,
                    "",
                    if lang == Lang::Zh {
                        "不是有效的 CSV 行".into()
                    } else {
                        "not a valid CSV row".into()
                    },
                );
                continue;
            }
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
        let get = |name: &str| {
            col(name)
                .and_then(|k| rec.get(k))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let mut bad = false;
        let order = get("工单号").unwrap_or_default();
        if order.is_empty() || order.chars().count() > 60 {
            problem(
                &mut report,
                line,
                "工单号",
                if lang == Lang::Zh {
                    "工单号必填，最多 60 个字符".into()
                } else {
                    "required, at most 60 characters".into()
                },
            );
            bad = true;
        } else if !seen.insert(order.clone()) {
            problem(
                &mut report,
                line,
                "工单号",
                if lang == Lang::Zh {
                    "文件中重复".into()
                } else {
                    "appears twice in the file".into()
                },
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
                continue;
            }
        }
        let received = match get("受理时间") {
            None => now_ms(),
            Some(s) => match parse_time(&s) {
                Some(t) if t <= now_ms() + 60_000 => t,
                _ => {
                    problem(
                        &mut report,
                        line,
                        "受理时间",
                        if lang == Lang::Zh {
                            format!("「{s}」不是有效的时间（如 2026-11-30 09:15），也不能晚于现在")
                        } else {
                            format!("'{s}' is not a valid time (e.g. 2026-11-30 09:15) or lies in the future")
                        },
                    );
                    bad = true;
                    now_ms()
                }
            },
        };
        let kind = match get("诉求类型") {
            None => CaseKind::Help,
            Some(k) => match CaseKind::parse_any(&k) {
                Some(k) => k,
                None => {
                    problem(
                        &mut report,
                        line,
                        "诉求类型",
                        if lang == Lang::Zh {
                            format!("「{k}」应为 咨询/求助/投诉/举报/建议")
                        } else {
                            format!("'{k}' must be 咨询/求助/投诉/举报/建议")
                        },
                    );
                    bad = true;
                    CaseKind::Help
                }
            },
        };
        let num = |name: &str, report: &mut HotlineReport, bad: &mut bool| -> Option<f64> {
            let s = get(name)?;
            match s.parse::<f64>() {
                Ok(v) => Some(v),
                Err(_) => {
                    problem(
                        report,
                        line,
                        name,
                        if lang == Lang::Zh {
                            format!("「{s}」不是数字")
                        } else {
                            format!("'{s}' is not a number")
                        },
                    );
                    *bad = true;
                    None
                }
            }
        };
        let lon = num("经度", &mut report, &mut bad);
        let lat = num("纬度", &mut report, &mut bad);
        let area_id = match get("区域编码") {
            None => None,
            Some(code) => {
                #[derive(sea_orm::FromQueryResult)]
                struct A {
                    id: uuid::Uuid,
                }
                match store::fetch_opt::<A, _>(
                    &state.db,
                    "SELECT id FROM areas WHERE code = $1",
                    vec![code.clone().into()],
                )
                .await?
                {
                    Some(a) => Some(a.id),
                    None => {
                        problem(
                            &mut report,
                            line,
                            "区域编码",
                            if lang == Lang::Zh {
                                format!("没有编码为 {code} 的区域")
                            } else {
                                format!("no area has the code {code}")
                            },
                        );
                        bad = true;
                        None
                    }
                }
            }
        };
        // The row's other fields are still checked, so one pass lists every problem of the row.
        let area_reported = bad && area_id.is_none() && get("区域编码").is_some();
        let input = NewCase {
            kind: kind.as_str().into(),
            category_code: get("事项分类编码").unwrap_or_default(),
            title: None,
            description: get("诉求内容").unwrap_or_default(),
            channel: Some("hotline".into()),
            location: Location {
                area_id,
                dwelling_id: None,
                lat,
                lon,
                address: get("地址"),
            },
            requester: RequesterInput {
                name: get("诉求人").unwrap_or_else(|| "匿名".into()),
                phone: get("联系电话"),
                person_id: None,
            },
            attachments: vec![],
            idempotency_key: None,
        };
        match intake::build(state, ctx, &input, received, Some(idem)).await {
            Ok(row) if !bad => {
                report.ok += 1;
                built.push(row);
            }
            Ok(_) => report.error_rows += 1,
            Err(e) => {
                report.error_rows += 1;
                let fields = e.fields(lang);
                if fields.is_empty() {
                    let msg = if matches!(e, AppError::NotFound) {
                        if lang == Lang::Zh {
                            "位置不在您的管辖范围内".to_string()
                        } else {
                            "the location is outside your areas".to_string()
                        }
                    } else {
                        e.message(lang)
                    };
                    problem(&mut report, line, "", msg);
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
                    problem(&mut report, line, column, v);
                }
            }
        }
    }
    if commit && report.error_rows == 0 && !built.is_empty() {
        let tx = store::write_tx(&state.db).await?;
        for row in &built {
            intake::store_new(&tx, ctx, row, None, &[]).await?;
        }
        crate::app::audit::record(
            &tx,
            crate::app::audit::Entry::by(ctx, &admitted, "case.import_hotline", "case", None)
                .detail(format!("{} work orders", built.len())),
        )
        .await?;
        tx.commit().await?;
        report.committed = true;
        report.created = built.len();
    }
    Ok(report)
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
