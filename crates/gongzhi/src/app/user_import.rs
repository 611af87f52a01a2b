//! Creating users in bulk from a sheet (用户名, 姓名, 手机号, 角色, 区域): a dry run that names
//! every problem by row, then a commit of all rows (or of the good rows only). Every created user
//! gets a generated first password, handed over once in the answer and never stored in clear.
//! The caller's rights are checked row by row exactly as for one user (`users::check_rights`).
use std::collections::HashSet;

use sea_orm::FromQueryResult;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::registry::transfer::RowProblem;
use super::users::{self, Manager, NewUser};
use super::{AppState, Ctx};
use crate::error::{AppError, AppResult, Msg};
use crate::store;

/// The largest sheet accepted (bytes); a street office has hundreds of workers, not thousands.
pub const MAX_FILE: usize = 2 << 20;
/// Rows per sheet.
pub const MAX_ROWS: usize = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    DryRun,
    Commit,
    CommitValid,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Handover {
    pub username: String,
    pub display_name: String,
    pub area_name: Option<String>,
    pub role: Option<String>,
    /// The first password: shown once, must be changed at first login.
    pub password: String,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct UserImportReport {
    /// dry_run | committed | rejected
    pub status: String,
    pub rows: u64,
    pub ok_rows: u64,
    pub error_rows: u64,
    pub created: u64,
    /// Rows left out of a `commit_valid` import.
    pub skipped_rows: u64,
    pub problems: Vec<RowProblem>,
    /// Filled by a commit: the new users and their first passwords, in sheet order.
    pub handover: Vec<Handover>,
}

const COLUMNS: [(&str, &str, f64); 5] = [
    ("用户名", "username", 16.0),
    ("姓名", "display_name", 14.0),
    ("手机号", "phone", 16.0),
    ("角色", "role", 16.0),
    ("区域", "area", 30.0),
];

/// The template: the header and one example row.
pub fn template(data_dir: &std::path::Path) -> Result<Vec<u8>, String> {
    let heads: Vec<(&str, f64)> = COLUMNS.iter().map(|(h, _, w)| (*h, *w)).collect();
    crate::sheet::template(
        data_dir,
        "账号",
        &heads,
        &[
            "wangge01",
            "张伟",
            "13800138000",
            "网格员",
            "130602001001001",
        ],
    )
}

/// Finds an area by its code, or by a name that only one area has.
async fn resolve_area(db: &store::Db, text: &str) -> AppResult<Result<(Uuid, String), Msg>> {
    #[derive(FromQueryResult)]
    struct A {
        id: Uuid,
        name: String,
    }
    let by_code = text.bytes().all(|b| b.is_ascii_digit());
    let rows: Vec<A> = store::fetch_all(
        db,
        if by_code {
            "SELECT id, name FROM areas WHERE code = $1"
        } else {
            "SELECT id, name FROM areas WHERE name = $1 LIMIT 2"
        },
        vec![text.to_string().into()],
    )
    .await?;
    Ok(match &rows[..] {
        [a] => Ok((a.id, a.name.clone())),
        [] => Err(Msg::new(
            "找不到该区域（请填区域编码或名称）",
            "No such area (give its code or name)",
        )),
        _ => Err(Msg::new(
            "有多个同名区域，请改填区域编码",
            "Several areas have this name; give the code instead",
        )),
    })
}

struct Good {
    row: u64,
    checked: users::Checked,
    area_name: String,
}

/// The sheet's column header for a field of [`NewUser`].
fn label(field: &str) -> String {
    COLUMNS
        .iter()
        .find(|(_, en, _)| *en == field || (field == "area_id" && *en == "area"))
        .map(|(zh, _, _)| zh.to_string())
        .unwrap_or_default()
}

/// Checks one row: the user as checked, the area it names (id and name), and the row's problems
/// (an empty list: the row may be written).
async fn check_row(
    state: &AppState,
    ctx: &Ctx,
    m: &Manager,
    cells: &[String],
    seen: &mut HashSet<String>,
) -> AppResult<(
    Option<users::Checked>,
    Option<(Uuid, String)>,
    Vec<(String, Msg)>,
)> {
    let mut problems: Vec<(String, Msg)> = vec![];
    if cells[3].is_empty() {
        problems.push((label("role"), Msg::new("请填写角色", "Give the role")));
    }
    let area = if cells[4].is_empty() {
        problems.push((label("area"), Msg::new("请填写区域", "Give the area")));
        None
    } else {
        match resolve_area(&state.db, &cells[4]).await? {
            Ok(a) => Some(a),
            Err(msg) => {
                problems.push((label("area"), msg));
                None
            }
        }
    };
    let input = NewUser {
        username: cells[0].clone(),
        display_name: cells[1].clone(),
        phone: Some(cells[2].clone()),
        role: Some(cells[3].clone()),
        area_id: area.as_ref().map(|a| a.0),
        ..Default::default()
    };
    let checked = match users::check_new(input) {
        Ok(c) => Some(c),
        Err(errs) => {
            for (field, msg) in errs {
                // An area that is missing is already named above.
                if field != "area_id" || area.is_some() {
                    problems.push((label(&field), msg));
                }
            }
            None
        }
    };
    if let Some(c) = &checked {
        if !seen.insert(c.username.to_lowercase()) {
            problems.push((
                label("username"),
                Msg::new("与前面的行重复", "Repeats an earlier row"),
            ));
        } else if store::fetch_i64(
            &state.db,
            "SELECT COUNT(*) FROM users WHERE username = $1",
            vec![c.username.clone().into()],
        )
        .await?
            > 0
        {
            problems.push((
                label("username"),
                Msg::new("该用户名已存在", "This username is taken"),
            ));
        }
        if area.is_some() {
            match users::check_rights(&state.db, ctx, m, c).await {
                Ok(()) => {}
                Err(AppError::NotFound) => problems.push((
                    label("area"),
                    Msg::new(
                        "该区域不在您管理的范围内",
                        "This area is outside the areas you manage",
                    ),
                )),
                Err(AppError::Forbidden { msg, .. }) => problems.push((label("role"), msg)),
                Err(AppError::Validation(errs)) => {
                    for (f, msg) in errs {
                        problems.push((label(&f), msg));
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok((checked, area, problems))
}

/// Writes every checked user in one transaction (passwords hashed first, on the hashing pool).
async fn write(state: &AppState, ctx: &Ctx, m: &Manager, good: &[Good]) -> AppResult<()> {
    let mut hashes = Vec::with_capacity(good.len());
    for g in good {
        hashes.push(super::auth::hash_password(&g.checked.password).await?);
    }
    let tx = store::write_tx(&state.db).await?;
    for (g, hash) in good.iter().zip(hashes) {
        users::insert(&tx, Some(&state.keys), ctx, m.proof(), &g.checked, hash)
            .await
            .map_err(|e| match e {
                AppError::Validation(errs) => AppError::Rule {
                    code: "conflict",
                    msg: Msg::owned(
                        format!(
                            "第 {} 行：{}",
                            g.row,
                            errs.values()
                                .next()
                                .map(|m| m.zh.clone())
                                .unwrap_or_default()
                        ),
                        format!(
                            "Row {}: {}",
                            g.row,
                            errs.values()
                                .next()
                                .map(|m| m.en.clone())
                                .unwrap_or_default()
                        ),
                    ),
                },
                e => e,
            })?;
    }
    tx.commit().await?;
    Ok(())
}

#[tracing::instrument(name = "user_import::run", skip_all)]
pub async fn run(
    state: &AppState,
    ctx: &Ctx,
    bytes: &[u8],
    mode: Mode,
) -> AppResult<UserImportReport> {
    let m = Manager::of(ctx)?;
    if bytes.is_empty() {
        return Err(AppError::field(
            "file",
            Msg::new("文件为空", "The file is empty"),
        ));
    }
    let text = crate::sheet::upload_text(&state.settings.data_dir, &state.settings.sheet, bytes)?;
    // Every column but the phone is required; each found by its Chinese header or English name.
    let wanted: Vec<(&str, &str, bool)> = COLUMNS
        .iter()
        .map(|(zh, en, _)| (*zh, *en, *en != "phone"))
        .collect();
    let table = crate::sheet::read_columns(&text, &wanted)?;
    let mut report = UserImportReport {
        status: "dry_run".into(),
        ..Default::default()
    };
    let mut good: Vec<Good> = vec![];
    let mut seen: HashSet<String> = HashSet::new();
    for line in table {
        let (row, cells) = match line {
            crate::sheet::TableRow::Cells { row, cells } => (row, cells),
            crate::sheet::TableRow::Unreadable { row } => {
                report.problems.push(RowProblem {
                    row,
                    column: String::new(),
                    problem: "这一行无法读取 / This row cannot be read".into(),
                });
                report.rows += 1;
                report.error_rows += 1;
                continue;
            }
        };
        report.rows += 1;
        if report.rows as usize > MAX_ROWS {
            return Err(AppError::field(
                "file",
                Msg::owned(
                    format!("一次最多导入 {MAX_ROWS} 个账号"),
                    format!("At most {MAX_ROWS} users per sheet"),
                ),
            ));
        }
        let (checked, area, problems) = check_row(state, ctx, &m, &cells, &mut seen).await?;
        if problems.is_empty() {
            if let (Some(checked), Some((_, area_name))) = (checked, area) {
                report.ok_rows += 1;
                good.push(Good {
                    row,
                    checked,
                    area_name,
                });
            }
        } else {
            report.error_rows += 1;
            for (column, msg) in problems {
                if report.problems.len() < 1_000 {
                    report.problems.push(RowProblem {
                        row,
                        column,
                        problem: format!("{} / {}", msg.zh, msg.en),
                    });
                }
            }
        }
    }
    if report.rows == 0 {
        return Err(AppError::field(
            "file",
            Msg::new("文件中没有账号行", "The file has no user rows"),
        ));
    }
    match mode {
        Mode::DryRun => return Ok(report),
        Mode::Commit if report.error_rows > 0 => {
            report.status = "rejected".into();
            return Ok(report);
        }
        _ => {}
    }
    report.skipped_rows = report.error_rows;
    write(state, ctx, &m, &good).await?;
    report.created = good.len() as u64;
    report.status = "committed".into();
    report.handover = good
        .into_iter()
        .map(|g| Handover {
            username: g.checked.username,
            display_name: g.checked.display_name,
            area_name: Some(g.area_name),
            role: g.checked.role.map(|r| r.label_zh().to_string()),
            password: g.checked.password,
        })
        .collect();
    Ok(report)
}
