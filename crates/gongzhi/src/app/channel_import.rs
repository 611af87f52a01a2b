//! 渠道台账 from a sheet (issue 15 point 7): each community's channels and their activity (成员数,
//! 上月发帖数, 最近活跃日期), as a community keeps them in Excel or exports them from the platforms.
//! A row names a channel by its community and its name: a channel already in the register gets the
//! row's activity (and any other column filled in); a new one is added (its type and audience
//! required). A dry run names every problem by row; a commit writes all rows or none
//! (`commit_valid`: the good rows). Each row is checked as one channel typed in by hand would be,
//! with `edit_registry` at its community.
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::Entry;
use super::channels::{check, kind_of, Fields};
use super::registry::transfer::RowProblem;
use super::user_import::Mode;
use super::{scope, AppState, Ctx};
use crate::domain::role::Permission;
use crate::domain::{new_id, now_ms};
use crate::error::{AppError, AppResult, FieldErrors, Msg};
use crate::sheet::TableRow;
use crate::store::{self, Db};

/// The largest sheet accepted (bytes) and its rows: a street has a few hundred channels.
pub const MAX_FILE: usize = 2 << 20;
pub const MAX_ROWS: usize = 5_000;

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ChannelImportReport {
    /// dry_run | committed | rejected
    pub status: String,
    pub rows: u64,
    pub ok_rows: u64,
    pub error_rows: u64,
    /// Channels added to the register.
    pub created: u64,
    /// Channels of the register whose activity (or other columns) the sheet changed.
    pub updated: u64,
    /// Rows left out of a `commit_valid` import.
    pub skipped_rows: u64,
    pub problems: Vec<RowProblem>,
}

/// (Chinese header, English name, required, width)
const COLUMNS: [(&str, &str, bool, f64); 9] = [
    ("社区", "community", true, 22.0),
    ("渠道名称", "name", true, 24.0),
    ("类型", "kind", false, 12.0),
    ("服务对象", "audience", false, 20.0),
    ("用途", "purpose", false, 24.0),
    ("负责人", "owner_name", false, 10.0),
    ("成员数", "members", false, 10.0),
    ("上月发帖数", "posts_last_month", false, 12.0),
    ("最近活跃日期", "last_active_on", false, 14.0),
];

/// The template: the header and one example row.
pub fn template(data_dir: &std::path::Path) -> Result<Vec<u8>, String> {
    let heads: Vec<(&str, f64)> = COLUMNS.iter().map(|(h, _, _, w)| (*h, *w)).collect();
    crate::sheet::template(
        data_dir,
        "渠道台账",
        &heads,
        &[
            "130602001001",
            "朝阳社区居民群",
            "微信群",
            "朝阳社区全体居民",
            "通知、答疑",
            "王芳",
            "486",
            "32",
            "2026-11-28",
        ],
    )
}

#[derive(FromQueryResult)]
struct Community {
    id: Uuid,
    street_id: Uuid,
}

#[derive(FromQueryResult, Clone)]
struct Existing {
    id: Uuid,
    kind: String,
    audience: String,
    purpose: String,
    owner_name: String,
    members: Option<i32>,
    posts_last_month: Option<i32>,
    last_active_on: Option<String>,
}

/// A checked row: the channel to update (its id) or to add.
struct Good {
    row: u64,
    community: Uuid,
    street: Uuid,
    existing: Option<Uuid>,
    kind: &'static str,
    f: Fields,
}

fn number(s: &str) -> Result<Option<i32>, ()> {
    let s = s.trim().replace([',', '，'], "");
    if s.is_empty() {
        return Ok(None);
    }
    // A workbook may give 486.0.
    let s = s.strip_suffix(".0").unwrap_or(&s);
    s.parse::<i32>().map(Some).map_err(|_| ())
}

/// Checks one row against the register (read-only).
async fn check_row(
    db: &store::Db,
    ctx: &Ctx,
    row: u64,
    cells: &[String],
    problems: &mut Vec<RowProblem>,
) -> AppResult<Option<Good>> {
    let problem = |column: &str, m: Msg| RowProblem {
        row,
        column: column.into(),
        problem: m.get(ctx.lang).to_string(),
    };
    let cell = |i: usize| cells.get(i).map(String::as_str).unwrap_or("");
    let mut found = false;
    let community: Option<Community> = if cell(0).bytes().all(|b| b.is_ascii_digit()) {
        store::fetch_opt(
            db,
            "SELECT id, parent_id AS street_id FROM areas WHERE code = $1 AND kind = 'community'",
            vec![cell(0).to_string().into()],
        )
        .await?
    } else {
        let all: Vec<Community> = store::fetch_all(
            db,
            "SELECT id, parent_id AS street_id FROM areas WHERE name = $1 AND kind = 'community' LIMIT 2",
            vec![cell(0).to_string().into()],
        )
        .await?;
        if all.len() > 1 {
            found = true;
            problems.push(problem(
                "社区",
                Msg::new(
                    "有多个同名社区，请改填社区编码",
                    "Several communities have this name; give the code",
                ),
            ));
        }
        all.into_iter().next().filter(|_| !found)
    };
    let community = match community {
        Some(c) if scope::has_permission(db, ctx, Permission::EditRegistry, c.id).await? => c,
        _ => {
            if !found {
                // Not there, or not the caller's: the same words (nothing learned of others).
                problems.push(problem(
                    "社区",
                    Msg::new(
                        "找不到该社区，或您无权维护它的渠道",
                        "No such community, or not yours to keep",
                    ),
                ));
            }
            return Ok(None);
        }
    };
    let existing: Option<Existing> = store::fetch_opt(
        db,
        "SELECT id, kind, audience, purpose, owner_name, members, posts_last_month, last_active_on \
         FROM community_channels WHERE community_id = $1 AND name = $2 AND status = 'active' \
         ORDER BY created_at LIMIT 1",
        vec![community.id.into(), cell(1).trim().to_string().into()],
    )
    .await?;
    let before = problems.len();
    let kind = match (kind_of(cell(2)), &existing) {
        (Some(k), _) => k,
        (None, Some(e)) if cell(2).is_empty() => kind_of(&e.kind).unwrap_or("other"),
        (None, _) => {
            problems.push(problem(
                "类型",
                Msg::new(
                    "类型应为公众号、微信群、企业微信群、视频号、热线电话或其他",
                    "Type must be 公众号, 微信群, 企业微信群, 视频号, 热线电话 or 其他",
                ),
            ));
            "other"
        }
    };
    let text = |i: usize, cur: Option<&String>| -> String {
        if cell(i).is_empty() {
            cur.cloned().unwrap_or_default()
        } else {
            cell(i).to_string()
        }
    };
    let mut nums = [None, None];
    for (k, i) in [6usize, 7].into_iter().enumerate() {
        match number(cell(i)) {
            Ok(n) => nums[k] = n,
            Err(()) => problems.push(problem(
                COLUMNS[i].0,
                Msg::new("应为 0 或正整数", "A whole number from 0"),
            )),
        }
    }
    let e = existing.as_ref();
    let mut f = Fields {
        name: cell(1).to_string(),
        audience: text(3, e.map(|e| &e.audience)),
        purpose: text(4, e.map(|e| &e.purpose)),
        owner_name: text(5, e.map(|e| &e.owner_name)),
        members: nums[0].or(e.and_then(|e| e.members)),
        posts: nums[1].or(e.and_then(|e| e.posts_last_month)),
        last: if cell(8).is_empty() {
            e.and_then(|e| e.last_active_on.clone())
        } else {
            Some(cell(8).to_string())
        },
    };
    let mut errs = FieldErrors::new();
    check(&mut f, &mut errs);
    for (field, m) in errs {
        let column = COLUMNS
            .iter()
            .find(|(_, en, _, _)| *en == field)
            .map(|(zh, _, _, _)| *zh)
            .unwrap_or("");
        problems.push(problem(column, m));
    }
    if problems.len() > before {
        return Ok(None);
    }
    Ok(Some(Good {
        row,
        community: community.id,
        street: community.street_id,
        existing: existing.map(|e| e.id),
        kind,
        f,
    }))
}

/// The gate an upload passes before its body is read: the caller edits the registry somewhere
/// (each row is then checked against its community).
pub fn admit(ctx: &Ctx) -> AppResult<scope::Checked> {
    scope::require_any(ctx, Permission::EditRegistry)
}

#[tracing::instrument(name = "channel_import::run", skip_all)]
pub async fn run(
    state: &AppState,
    ctx: &Ctx,
    admitted: scope::Checked,
    bytes: &[u8],
    mode: Mode,
) -> AppResult<ChannelImportReport> {
    if bytes.is_empty() {
        return Err(AppError::field(
            "file",
            Msg::new("文件为空", "The file is empty"),
        ));
    }
    let text = crate::sheet::upload_text(&state.settings.data_dir, &state.settings.sheet, bytes)?;
    let wanted: Vec<(&str, &str, bool)> = COLUMNS.iter().map(|(z, e, r, _)| (*z, *e, *r)).collect();
    let table = crate::sheet::read_columns(&text, &wanted)?;
    if table.len() > MAX_ROWS {
        return Err(AppError::field(
            "file",
            Msg::owned(
                format!("一次最多导入 {MAX_ROWS} 行"),
                format!("At most {MAX_ROWS} rows at a time"),
            ),
        ));
    }
    let db = &state.db;
    let mut report = ChannelImportReport {
        rows: table.len() as u64,
        ..Default::default()
    };
    let good = check_all(db, ctx, table, &mut report).await?;
    match mode {
        Mode::DryRun => {
            report.status = "dry_run".into();
            return Ok(report);
        }
        Mode::Commit if report.error_rows > 0 => {
            report.status = "rejected".into();
            return Ok(report);
        }
        _ => {}
    }
    report.skipped_rows = report.error_rows;
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    for g in good {
        if g.write(&tx, now).await? {
            report.created += 1;
        } else {
            report.updated += 1;
        }
    }
    Entry::by(ctx, &admitted, "channel.import", "community_channel", None)
        .detail(format!(
            "{} added, {} updated, {} rows skipped",
            report.created, report.updated, report.skipped_rows
        ))
        .record(&tx)
        .await?;
    tx.commit().await?;
    report.status = "committed".into();
    Ok(report)
}

/// Checks every row; answers the good ones that no row repeats, the problems going to `report`.
async fn check_all(
    db: &Db,
    ctx: &Ctx,
    table: Vec<TableRow>,
    report: &mut ChannelImportReport,
) -> AppResult<Vec<Good>> {
    let mut good: Vec<Good> = vec![];
    let mut seen = std::collections::HashSet::new();
    for t in table {
        match t {
            TableRow::Unreadable { row } => report.problems.push(RowProblem {
                row,
                column: String::new(),
                problem: Msg::new("这一行无法读取", "This row cannot be read")
                    .get(ctx.lang)
                    .to_string(),
            }),
            TableRow::Cells { row, cells } => {
                if let Some(g) = check_row(db, ctx, row, &cells, &mut report.problems).await? {
                    if seen.insert((g.community, g.f.name.clone())) {
                        good.push(g);
                    } else {
                        report.problems.push(RowProblem {
                            row,
                            column: "渠道名称".into(),
                            problem: Msg::new(
                                "与前面一行是同一个渠道",
                                "The same channel as an earlier row",
                            )
                            .get(ctx.lang)
                            .to_string(),
                        });
                    }
                }
            }
        }
    }
    let bad_rows: std::collections::BTreeSet<u64> = report.problems.iter().map(|p| p.row).collect();
    report.error_rows = bad_rows.len() as u64;
    report.ok_rows = report.rows - report.error_rows;
    Ok(good
        .into_iter()
        .filter(|g| !bad_rows.contains(&g.row))
        .collect())
}

impl Good {
    /// Updates the channel the row names, or adds it; answers whether it was added.
    async fn write<C: ConnectionTrait>(self, c: &C, now: i64) -> AppResult<bool> {
        let g = self;
        match g.existing {
            Some(id) => {
                store::exec(
                    c,
                    "UPDATE community_channels SET kind = $1, audience = $2, purpose = $3, owner_name = $4, \
                     members = $5, posts_last_month = $6, last_active_on = $7, version = version + 1, updated_at = $8 \
                     WHERE id = $9",
                    vec![
                        g.kind.into(),
                        g.f.audience.into(),
                        g.f.purpose.into(),
                        g.f.owner_name.into(),
                        g.f.members.into(),
                        g.f.posts.into(),
                        g.f.last.into(),
                        now.into(),
                        id.into(),
                    ],
                )
                .await?;
                Ok(false)
            }
            None => {
                store::exec(
                    c,
                    "INSERT INTO community_channels (id, street_id, community_id, kind, name, audience, purpose, owner_name, \
                     members, posts_last_month, last_active_on, status, version, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'active', 1, $12, $12)",
                    vec![
                        new_id().into(),
                        g.street.into(),
                        g.community.into(),
                        g.kind.into(),
                        g.f.name.into(),
                        g.f.audience.into(),
                        g.f.purpose.into(),
                        g.f.owner_name.into(),
                        g.f.members.into(),
                        g.f.posts.into(),
                        g.f.last.into(),
                        now.into(),
                    ],
                )
                .await?;
                Ok(true)
            }
        }
    }
}
