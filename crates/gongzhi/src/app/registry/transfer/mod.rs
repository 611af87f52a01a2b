//! Import and export (communities live in Excel).
//!
//! Import reads a CSV of residents — UTF-8 or GBK/GB18030, detected from the content whatever the
//! file claims — spooled to disk, never held whole in memory. A dry run checks every row and
//! reports row, column and problem; a commit writes everything in one transaction or nothing.
//! Records match on natural keys (ID number; dwelling = building + unit + room), so uploading the
//! same file twice changes nothing. Export writes masked values and neutralises spreadsheet
//! formulas.
use std::collections::{HashMap, HashSet};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult, Value};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::persons::{self, CleanPerson, NewPerson};
use super::{record_change, today, Change, Placement};
use crate::app::audit::{self, Entry};
use crate::app::{scope, Ctx};
use crate::crypto::Keys;
use crate::domain::registry as vocab;
use crate::domain::role::Permission;
use crate::domain::{new_id, now_ms, text};
use crate::error::{AppError, AppResult};
use crate::store::sql::Cond;
use crate::store::{self, Db};

mod export;
mod homes;
mod sheet;
pub use export::*;
use homes::*;
pub use sheet::*;

/// The resident sheet: (Chinese header, key, required).
pub const PERSON_COLUMNS: &[(&str, &str, bool)] = &[
    ("姓名", "name", true),
    ("证件类型", "id_type", false),
    ("证件号码", "id_no", true),
    ("性别", "gender", false),
    ("出生日期", "birth_date", false),
    ("民族", "ethnicity", false),
    ("手机号码", "mobile", false),
    ("政治面貌", "political_status", false),
    ("学历", "education", false),
    ("职业", "occupation", false),
    ("工作单位", "work_unit", false),
    ("户籍地", "hukou_place", false),
    ("居住类型", "residence_type", true),
    ("特殊人群", "tags", false),
    ("楼栋编码", "building_code", true),
    ("单元", "unit", false),
    ("室号", "room", false),
    ("与户主关系", "relation", false),
    ("户类型", "household_kind", false),
    ("房屋用途", "usage", false),
];

/// The templates' example row, one cell per [`PERSON_COLUMNS`].
const EXAMPLE_ROW: [&str; 20] = [
    "王芳",
    "居民身份证",
    "130602198805120028",
    "女",
    "1988-05-12",
    "汉族",
    "13812345678",
    "群众",
    "本科",
    "教师",
    "保定市第一中学",
    "保定市",
    "户籍",
    "独居老人",
    "130602001001001001",
    "1",
    "301",
    "户主",
    "户籍户",
    "自住",
];

/// The template: header and one example row, UTF-8 with a BOM so Excel opens it correctly.
pub fn person_template() -> Vec<u8> {
    let mut w = crate::sheet::csv_for_excel();
    let _ = w.write_record(PERSON_COLUMNS.iter().map(|c| c.0));
    let _ = w.write_record(EXAMPLE_ROW);
    w.into_inner().unwrap_or_default()
}

/// One problem in an uploaded file.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowProblem {
    /// 1-based line in the file (the header is row 1).
    pub row: u64,
    /// The column's header as in the template, or "" for the whole row.
    pub column: String,
    pub problem: String,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ImportReport {
    /// dry_run | committed | rejected
    pub status: String,
    /// utf-8 | gb18030
    pub encoding: String,
    pub rows: u64,
    pub ok_rows: u64,
    pub error_rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// At most 1,000 problems are listed; `error_rows` counts them all.
    pub problems: Vec<RowProblem>,
    pub notes: Vec<String>,
    /// Rows left out of a `commit_valid` import (they had problems; see `problems`).
    pub skipped_rows: u64,
    /// The first problem of every row that has one, by row (for the sheet of rows to fix).
    #[serde(skip)]
    pub bad_lines: std::collections::BTreeMap<u64, String>,
}

/// How to run an import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The upload said it is UTF-8 (a note when it is not).
    pub claimed_utf8: bool,
    pub mode: Mode,
    pub limits: crate::sheet::Limits,
    /// Where to write the workbook of rows to fix, when there are any.
    pub rejects: Option<PathBuf>,
}

/// How an import treats a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Check and report; write nothing.
    DryRun,
    /// Write every row, or none when any row has a problem.
    Commit,
    /// Write the rows without problems; report the others (to fix and upload again).
    CommitValid,
}

const MAX_PROBLEMS: usize = 1000;

/// One parsed row, ready to write.
struct Row {
    line: u64,
    person: CleanPerson,
    at: Placement,
    unit: String,
    room: Option<String>,
    relation: &'static str,
    household_kind: &'static str,
    usage: &'static str,
    bidx: String,
}

#[derive(FromQueryResult)]
struct BuildingPlace {
    id: Uuid,
    code: String,
    name: String,
    community_name: String,
    grid_id: Uuid,
    community_id: Uuid,
    street_id: Uuid,
}

/// Buildings the caller may edit, already placed in their grid, community and street: by code,
/// and by name as offices write it in their sheets — "朝阳社区1号楼" (community and building), or
/// "1号楼" alone where only one building of the caller's scope has that name.
pub(crate) async fn editable_buildings(
    db: &Db,
    ctx: &Ctx,
) -> AppResult<HashMap<String, Placement>> {
    let (s, v) = scope::filter_sql_for(ctx, Permission::EditRegistry, "b.id", 1);
    let rows: Vec<BuildingPlace> = store::fetch_all(
        db,
        &format!(
            "SELECT b.id, b.code, b.name, c.name AS community_name, g.id AS grid_id, c.id AS community_id, c.parent_id AS street_id FROM areas b \
             JOIN areas g ON g.id = b.parent_id JOIN areas c ON c.id = g.parent_id WHERE b.kind = 'building' AND {s}"
        ),
        v,
    )
    .await?;
    let mut by_key: HashMap<String, Placement> = HashMap::new();
    let mut ambiguous: HashSet<String> = HashSet::new();
    for b in rows {
        let at = Placement {
            street_id: b.street_id,
            community_id: b.community_id,
            grid_id: b.grid_id,
            area_id: b.id,
        };
        let compact = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        for key in [
            compact(&format!("{}{}", b.community_name, b.name)),
            compact(&b.name),
        ] {
            if by_key.insert(key.clone(), at).is_some_and(|old| old != at) {
                ambiguous.insert(key);
            }
        }
        by_key.insert(b.code, at);
    }
    for k in ambiguous {
        by_key.remove(&k);
    }
    Ok(by_key)
}

/// A building by its code, its name ("朝阳社区1号楼", "1号楼"), or an address ending in them
/// ("竞秀区东风街道朝阳社区1号楼": what follows the street is looked up).
pub(crate) fn find_building<'a>(
    buildings: &'a HashMap<String, Placement>,
    text: &str,
) -> Option<&'a Placement> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    buildings
        .get(text)
        .or_else(|| buildings.get(&compact))
        .or_else(|| {
            ["街道", "镇", "乡"]
                .iter()
                .filter_map(|w| compact.rfind(w).map(|i| &compact[i + w.len()..]))
                .find_map(|rest| buildings.get(rest))
        })
}

/// The comparable part of an existing record.
#[derive(FromQueryResult)]
struct Existing {
    id: Uuid,
    id_no_bidx: Option<String>,
    area_id: Uuid,
    community_id: Uuid,
    name: String,
    id_type: String,
    gender: Option<String>,
    birth_date: Option<String>,
    ethnicity: Option<String>,
    mobile_bidx: Option<String>,
    political_status: Option<String>,
    education: Option<String>,
    occupation: Option<String>,
    work_unit: Option<String>,
    hukou_place: Option<String>,
    residence_type: String,
    tags: String,
    sensitive_tags_enc: Option<String>,
    /// The current household's dwelling and the relation in it.
    cur_unit: Option<String>,
    cur_room: Option<String>,
    cur_building: Option<Uuid>,
    cur_relation: Option<String>,
}

async fn existing_for<C: ConnectionTrait>(
    c: &C,
    rows: &[&Row],
) -> AppResult<HashMap<String, Existing>> {
    let mut out = HashMap::new();
    if rows.is_empty() {
        return Ok(out);
    }
    let vals: Vec<Value> = rows.iter().map(|r| Value::from(r.bidx.clone())).collect();
    let cur = |col: &str| {
        format!(
            "(SELECT {col} FROM household_members m JOIN households h ON h.id = m.household_id JOIN dwellings d ON d.id = h.dwelling_id \
             WHERE m.person_id = p.id AND m.to_date IS NULL ORDER BY m.from_date DESC LIMIT 1)"
        )
    };
    let sql = format!(
        "SELECT p.id, p.id_no_bidx, p.area_id, p.community_id, p.name, p.id_type, p.gender, p.birth_date, p.ethnicity, p.mobile_bidx, p.political_status, \
         p.education, p.occupation, p.work_unit, p.hukou_place, p.residence_type, p.tags, p.sensitive_tags_enc, {} AS cur_unit, \
         {} AS cur_room, {} AS cur_building, {} AS cur_relation FROM persons p WHERE p.deleted_at IS NULL AND p.id_no_bidx IN ({})",
        cur("d.unit"),
        cur("d.room"),
        cur("d.building_id"),
        cur("m.relation"),
        store::placeholders(1, vals.len())
    );
    for e in store::fetch_all::<Existing, _>(c, &sql, vals).await? {
        if let Some(b) = e.id_no_bidx.clone() {
            out.insert(b, e);
        }
    }
    Ok(out)
}

fn unchanged(keys: &Keys, e: &Existing, r: &Row) -> bool {
    let s = persons::seal(keys, &r.person);
    let mut old_sensitive: Vec<String> = e
        .sensitive_tags_enc
        .as_deref()
        .and_then(|v| keys.decrypt(v))
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default();
    old_sensitive.sort();
    let mut new_sensitive: Vec<String> = r
        .person
        .tags
        .iter()
        .filter(|t| crate::domain::registry::is_sensitive_tag(t))
        .map(|t| t.to_string())
        .collect();
    new_sensitive.sort();
    let person_same = e.name == r.person.name
        && e.id_type == r.person.id_type
        && e.gender.as_deref() == r.person.gender
        && e.birth_date == r.person.birth_date
        && e.ethnicity == r.person.ethnicity
        && e.mobile_bidx == s.mobile_bidx
        && e.political_status.as_deref() == r.person.political_status
        && e.education.as_deref() == r.person.education
        && e.occupation == r.person.occupation
        && e.work_unit == r.person.work_unit
        && e.hukou_place == r.person.hukou_place
        && e.residence_type == r.person.residence_type
        && e.tags == s.tags
        && old_sensitive == new_sensitive
        && e.area_id == r.at.area_id;
    // A row with a room places the person in that dwelling's household.
    let home_same = match &r.room {
        None => true,
        Some(room) => {
            e.cur_building == Some(r.at.area_id)
                && e.cur_unit.as_deref() == Some(r.unit.as_str())
                && e.cur_room.as_deref() == Some(room.as_str())
                // A requested 户主 where the household already has one stays as it is.
                && (e.cur_relation.as_deref() == Some(r.relation) || r.relation == "head")
        }
    };
    person_same && home_same
}

/// Rows are handled this many at a time: one query finds the existing records of a batch.
const BATCH: usize = 500;

/// The gate an upload passes before its body is read: the caller edits the registry somewhere.
pub fn admit(ctx: &Ctx) -> AppResult<scope::Checked> {
    scope::require_any(ctx, Permission::EditRegistry)
}

/// Runs an import from a spooled file in two streaming passes: check everything, then (for a
/// commit without errors) write everything in one transaction. Memory stays bounded: only each
/// row's blind index is remembered across the file, to find duplicates.
///
/// `admitted` is [`admit`]'s proof, taken before the upload was read; each row is then checked
/// against its building's area.
#[tracing::instrument(name = "registry::transfer::import_persons", skip_all)]
pub async fn import_persons(
    db: &Db,
    keys: &Keys,
    ctx: &Ctx,
    admitted: scope::Checked,
    file: &Path,
    opts: &ImportOptions,
) -> AppResult<ImportReport> {
    let (claimed_utf8, mode, limits) = (opts.claimed_utf8, opts.mode, &opts.limits);
    let mut report = ImportReport {
        status: "dry_run".into(),
        ..Default::default()
    };
    if is_xlsx(file) {
        let csv_file = file.with_extension("xlsx.csv");
        let converted = crate::sheet::xlsx_to_csv(file, &csv_file, limits);
        return match converted {
            Ok(()) => {
                let inner = ImportOptions {
                    claimed_utf8: false,
                    ..opts.clone()
                };
                let r = Box::pin(import_persons(db, keys, ctx, admitted, &csv_file, &inner)).await;
                let _ = std::fs::remove_file(&csv_file);
                r.map(|r| ImportReport {
                    encoding: "xlsx".into(),
                    ..r
                })
            }
            Err(problem) => {
                let _ = std::fs::remove_file(&csv_file);
                Err(AppError::Rule {
                    code: "import.bad_workbook",
                    msg: problem,
                })
            }
        };
    }
    let utf8 = detect_utf8(file).map_err(AppError::internal)?;
    let csv_path = if utf8 {
        report.encoding = "utf-8".into();
        file.to_path_buf()
    } else {
        report.encoding = "gb18030".into();
        if claimed_utf8 {
            report.notes.push("文件声明为 UTF-8，但内容是 GBK/GB18030 编码，已按 GBK 读取 / The file claimed UTF-8 but is GBK; read as GBK".into());
        }
        transcode_gb18030(file).map_err(AppError::internal)?
    };
    let buildings = editable_buildings(db, ctx).await?;
    // A commit checks inside its write transaction, so nothing can change between the passes.
    let bulk = if mode != Mode::DryRun {
        Some(store::Bulk::open(db).await?)
    } else {
        None
    };
    let tx = match &bulk {
        Some(b) => Some(store::write_tx(&b.db).await?),
        None => None,
    };
    let r = check_and_write(
        db, keys, ctx, &admitted, report, &csv_path, buildings, tx, mode,
    )
    .await;
    if let Some(b) = bulk {
        b.finish().await;
    }
    let report = r?;
    if let (Some(out), false) = (&opts.rejects, report.bad_lines.is_empty()) {
        rejects_xlsx(&csv_path, &report, out).map_err(AppError::internal)?;
    }
    Ok(report)
}

/// The two passes of [`import_persons`] over a UTF-8 CSV; `tx` is the write transaction of a
/// commit (none for a dry run).
#[allow(clippy::too_many_arguments)]
async fn check_and_write(
    db: &Db,
    keys: &Keys,
    ctx: &Ctx,
    admitted: &scope::Checked,
    mut report: ImportReport,
    csv_path: &Path,
    buildings: HashMap<String, Placement>,
    tx: Option<DatabaseTransaction>,
    mode: Mode,
) -> AppResult<ImportReport> {
    let Some(stored) = check_pass(
        db,
        keys,
        ctx,
        &mut report,
        csv_path,
        &buildings,
        tx.as_ref(),
    )
    .await?
    else {
        return Ok(report);
    };
    if report.error_rows > 0 && mode != Mode::CommitValid {
        if tx.is_some() {
            report.status = "rejected".into();
            report.notes.push(
                "文件中有错误，未写入任何数据 / the file has errors; nothing was written".into(),
            );
        }
        return Ok(report);
    }
    let Some(tx) = tx else {
        return Ok(report);
    };
    write_pass(keys, ctx, &report, csv_path, buildings, stored, &tx).await?;
    Entry::by(ctx, admitted, "import.persons", "person", None)
        .fields(&["all"])
        .detail(format!(
            "{} rows: {} created, {} updated, {} unchanged, {} skipped",
            report.rows, report.created, report.updated, report.unchanged, report.error_rows
        ))
        .record(&tx)
        .await?;
    tx.commit().await?;
    if report.error_rows > 0 {
        report.skipped_rows = report.error_rows;
        report.notes.push(format!(
            "已写入没有问题的 {} 行，跳过 {} 行有问题的行；请下载问题行表格修改后重新导入 / wrote the {} rows without problems and skipped {}; download the rows to fix and import them again",
            report.ok_rows, report.error_rows, report.ok_rows, report.error_rows
        ));
    }
    // PostgreSQL plans by its statistics, which a large import makes stale at once.
    store::analyze(db).await?;
    report.status = "committed".into();
    Ok(report)
}

impl ImportReport {
    /// Notes a problem of a row (the first problem of each row is kept for the rejects sheet;
    /// the first 1,000 problems are listed).
    fn problem(&mut self, row: u64, column: &str, p: String) {
        self.bad_lines
            .entry(row)
            .or_insert_with(|| format!("{column}：{p}"));
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(RowProblem {
                row,
                column: column.to_string(),
                problem: p,
            });
        }
    }
}

/// Pass 1: checks every row, counting what a commit would create, update or leave. The blind
/// indexes of rows that match a stored record (the write pass looks only these up again); `None`
/// when the sheet itself is unreadable (the report says why).
async fn check_pass(
    db: &Db,
    keys: &Keys,
    ctx: &Ctx,
    report: &mut ImportReport,
    csv_path: &Path,
    buildings: &HashMap<String, Placement>,
    tx: Option<&DatabaseTransaction>,
) -> AppResult<Option<HashSet<u128>>> {
    let mut sheet = match SheetReader::open(csv_path)? {
        Ok(s) => s,
        Err(problems) => {
            report.problems = problems;
            report.status = "rejected".into();
            return Ok(None);
        }
    };
    let mut seen: HashMap<u128, u64> = HashMap::new();
    // Rows that match a stored record (by blind index): the write pass looks only these up again.
    let mut stored: HashSet<u128> = HashSet::new();
    let mut batch: Vec<Row> = Vec::with_capacity(BATCH);
    let mut scope_cache: HashMap<Uuid, bool> = HashMap::new();
    loop {
        let parsed = sheet.next(keys, buildings);
        let end = parsed.is_none();
        match parsed {
            None | Some(Parsed::Blank) => {}
            Some(Parsed::Bad(line, errs)) => {
                report.rows += 1;
                report.error_rows += 1;
                for (c, p) in errs {
                    report.problem(line, &c, p);
                }
            }
            Some(Parsed::Good(row)) => {
                report.rows += 1;
                let key = bidx_key(&row.bidx);
                if let Some(first) = seen.get(&key) {
                    report.error_rows += 1;
                    report.problem(
                        row.line,
                        "证件号码",
                        format!("与第 {first} 行的证件号码重复 / duplicate of row {first}"),
                    );
                } else {
                    seen.insert(key, row.line);
                    batch.push(*row);
                }
            }
        }
        if batch.len() >= BATCH || (end && !batch.is_empty()) {
            let rows: Vec<Row> = batch.drain(..).collect();
            tally_batch(
                db,
                keys,
                ctx,
                report,
                rows,
                tx,
                &mut stored,
                &mut scope_cache,
            )
            .await?;
        }
        if end {
            break;
        }
    }
    Ok(Some(stored))
}

/// Counts a batch of good rows: new, unchanged or changed, or refused when the record they match
/// is registered outside the caller's scope.
#[allow(clippy::too_many_arguments)]
async fn tally_batch(
    db: &Db,
    keys: &Keys,
    ctx: &Ctx,
    report: &mut ImportReport,
    rows: Vec<Row>,
    tx: Option<&DatabaseTransaction>,
    stored: &mut HashSet<u128>,
    scope_cache: &mut HashMap<Uuid, bool>,
) -> AppResult<()> {
    let refs: Vec<&Row> = rows.iter().collect();
    let existing = match tx {
        Some(t) => existing_for(t, &refs).await?,
        None => existing_for(db, &refs).await?,
    };
    for r in rows {
        match existing.get(&r.bidx) {
            None => {
                report.ok_rows += 1;
                report.created += 1;
            }
            Some(e) => {
                stored.insert(bidx_key(&r.bidx));
                let may = match scope_cache.get(&e.area_id) {
                    Some(m) => *m,
                    None => {
                        let m = scope::has_permission(db, ctx, Permission::EditRegistry, e.area_id)
                            .await?;
                        scope_cache.insert(e.area_id, m);
                        m
                    }
                };
                if !may {
                    // Registered elsewhere: never touched from here; the row is reported.
                    report.error_rows += 1;
                    report.problem(
                        r.line,
                        "证件号码",
                        "该证件号码已在您管辖范围以外登记 / registered outside your scope".into(),
                    );
                } else if unchanged(keys, e, &r) {
                    report.ok_rows += 1;
                    report.unchanged += 1;
                } else {
                    report.ok_rows += 1;
                    report.updated += 1;
                }
            }
        }
    }
    Ok(())
}

/// Pass 2: writes, all or nothing. A thread of its own reads, seals (encrypts, indexes) and shapes
/// the rows of each batch while this task writes the previous batch: on two cores the database's
/// writer and the preparation run side by side (docs/benchmarks.md).
async fn write_pass(
    keys: &Keys,
    ctx: &Ctx,
    report: &ImportReport,
    csv_path: &Path,
    buildings: HashMap<String, Placement>,
    stored: HashSet<u128>,
    tx: &DatabaseTransaction,
) -> AppResult<()> {
    let now = now_ms();
    let sheet = match SheetReader::open(csv_path)? {
        Ok(s) => s,
        Err(_) => {
            return Err(AppError::internal(
                "the spooled file changed between passes",
            ))
        }
    };
    let (send, mut batches) = tokio::sync::mpsc::channel::<Result<Prepared, String>>(3);
    let producer = {
        let keys = keys.clone();
        let actor = (ctx.principal.actor_id(), ctx.principal.name.clone());
        let skip: HashSet<u64> = report.bad_lines.keys().copied().collect();
        tokio::task::spawn_blocking(move || {
            prepare_batches(sheet, keys, buildings, stored, skip, actor, now, send)
        })
    };
    let mut households = HouseholdCache::default();
    let written: AppResult<()> = async {
        while let Some(b) = batches.recv().await {
            let b = b.map_err(AppError::internal)?;
            store::insert_many(tx, "persons", &persons::new_row_columns(), b.persons).await?;
            store::insert_many(
                tx,
                "person_tags",
                &["street_id", "person_id", "tag_key"],
                b.tags,
            )
            .await?;
            store::insert_many(tx, "person_name_grams", persons::GRAM_COLUMNS, b.grams).await?;
            store::insert_many(tx, "registry_events", EVENT_COLUMNS, b.events).await?;
            // Rows of stored records: compared again and updated where they differ.
            let olds: Vec<&Row> = b
                .rows
                .iter()
                .zip(&b.ids)
                .filter(|(_, id)| id.is_none())
                .map(|(r, _)| r)
                .collect();
            let existing = existing_for(tx, &olds).await?;
            let mut ids = Vec::with_capacity(b.rows.len());
            let mut fresh: HashSet<Uuid> = HashSet::new();
            for (r, id) in b.rows.iter().zip(&b.ids) {
                match (id, existing.get(&r.bidx)) {
                    (Some(id), _) => {
                        fresh.insert(*id);
                        ids.push(*id);
                    }
                    (None, Some(e)) => {
                        ids.push(e.id);
                        if !unchanged(keys, e, r) {
                            update_existing(tx, keys, ctx, e.id, (&e.name, e.community_id), r, now)
                                .await?;
                        }
                    }
                    (None, None) => {
                        return Err(AppError::internal(
                            "a stored record vanished during the import",
                        ))
                    }
                }
            }
            place_in_households(tx, &mut households, &b.rows, &ids, &fresh, now).await?;
        }
        Ok(())
    }
    .await;
    // On an error the receiver is dropped first, so the producer stops at its next send.
    drop(batches);
    let _ = producer.await;
    written?;
    Ok(())
}

fn bidx_key(bidx: &str) -> u128 {
    u128::from_str_radix(bidx, 16).unwrap_or(0)
}

const EVENT_COLUMNS: &[&str] = &[
    "street_id",
    "id",
    "at",
    "actor_id",
    "actor_name",
    "object_type",
    "object_id",
    "reason",
    "note",
    "changes",
    "snapshot",
];

/// One batch of the write pass, shaped for the database: new records as rows to insert; stored
/// records (`ids[i] == None`) are compared and updated by the writer.
struct Prepared {
    rows: Vec<Row>,
    ids: Vec<Option<Uuid>>,
    persons: Vec<Vec<Value>>,
    tags: Vec<Vec<Value>>,
    grams: Vec<Vec<Value>>,
    events: Vec<Vec<Value>>,
}

/// The write pass's reader (runs on a blocking thread): reads the checked file again, seals each
/// new record and sends batches of [`BATCH`] rows until the file ends or the writer stops.
#[allow(clippy::too_many_arguments)]
fn prepare_batches(
    mut sheet: SheetReader,
    keys: Keys,
    buildings: HashMap<String, Placement>,
    stored: HashSet<u128>,
    skip: HashSet<u64>,
    (actor_id, actor_name): (Option<Uuid>, String),
    now: i64,
    send: tokio::sync::mpsc::Sender<Result<Prepared, String>>,
) {
    let empty = || Prepared {
        rows: Vec::with_capacity(BATCH),
        ids: Vec::with_capacity(BATCH),
        persons: Vec::with_capacity(BATCH),
        tags: vec![],
        grams: Vec::with_capacity(BATCH * 3),
        events: Vec::with_capacity(BATCH),
    };
    let mut b = empty();
    loop {
        let parsed = sheet.next(&keys, &buildings);
        let end = parsed.is_none();
        match parsed {
            // Rows the check found a problem in (a `commit_valid` import leaves them out).
            Some(Parsed::Good(r)) if skip.contains(&r.line) => {}
            Some(Parsed::Bad(line, _)) if skip.contains(&line) => {}
            Some(Parsed::Good(r)) => {
                if stored.contains(&bidx_key(&r.bidx)) {
                    b.ids.push(None);
                } else {
                    let id = new_id();
                    let s = persons::seal(&keys, &r.person);
                    for k in &s.tag_keys {
                        b.tags
                            .push(vec![r.at.street_id.into(), id.into(), k.clone().into()]);
                    }
                    b.events.push(vec![
                        r.at.street_id.into(),
                        new_id().into(),
                        now.into(),
                        actor_id.into(),
                        actor_name.clone().into(),
                        "person".into(),
                        id.into(),
                        "create".into(),
                        format!("导入第 {} 行", r.line).into(),
                        "{}".into(),
                        serde_json::json!({"imported": true, "id_no_masked": s.id_no_masked})
                            .to_string()
                            .into(),
                    ]);
                    b.grams.extend(persons::gram_rows(
                        id,
                        r.at.street_id,
                        r.at.community_id,
                        &r.person.name,
                    ));
                    b.persons
                        .push(persons::new_row(id, &r.at, &r.person, &s, None, now));
                    b.ids.push(Some(id));
                }
                b.rows.push(*r);
            }
            Some(Parsed::Bad(line, _)) => {
                let _ = send.blocking_send(Err(format!(
                    "row {line} changed between the check and the write"
                )));
                return;
            }
            None | Some(Parsed::Blank) => {}
        }
        if b.rows.len() >= BATCH || (end && !b.rows.is_empty()) {
            if send
                .blocking_send(Ok(std::mem::replace(&mut b, empty())))
                .is_err()
            {
                return;
            }
        }
        if end {
            return;
        }
    }
}

async fn update_existing<C: ConnectionTrait>(
    c: &C,
    keys: &Keys,
    ctx: &Ctx,
    id: Uuid,
    old: (&str, Uuid),
    r: &Row,
    now: i64,
) -> AppResult<()> {
    let s = persons::seal(keys, &r.person);
    let mut set = persons::data_set(&r.at, &r.person, &s);
    set.expr("version = version + 1", []).to("updated_at", now);
    let (sql, values) = set.update("persons", Cond::new("id = ?", [id.into()]));
    store::exec(c, &sql, values).await?;
    persons::reindex_name(
        c,
        id,
        old,
        r.at.street_id,
        r.at.community_id,
        &r.person.name,
    )
    .await?;
    store::exec(
        c,
        "DELETE FROM person_tags WHERE person_id = $1",
        vec![id.into()],
    )
    .await?;
    for k in &s.tag_keys {
        store::exec(
            c,
            "INSERT INTO person_tags (street_id, person_id, tag_key) VALUES ($1, $2, $3)",
            vec![r.at.street_id.into(), id.into(), k.clone().into()],
        )
        .await?;
    }
    record_change(
        c,
        ctx,
        Change {
            street_id: r.at.street_id,
            object_type: "person",
            object_id: id,
            household_id: None,
            reason: "correction",
            note: Some(format!("导入第 {} 行", r.line)),
            changes: serde_json::json!({"imported": [null, true]}),
            snapshot: serde_json::json!({"imported": true}),
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(safe_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(safe_cell("+86"), "'+86");
        assert_eq!(safe_cell("-1"), "'-1");
        assert_eq!(safe_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(safe_cell("王芳"), "王芳");
    }

    #[test]
    fn template_has_every_column_and_a_bom() {
        let t = person_template();
        assert_eq!(&t[..3], &[0xEF, 0xBB, 0xBF]);
        let s = String::from_utf8(t[3..].to_vec()).unwrap();
        let header = s.lines().next().unwrap();
        assert_eq!(header.split(',').count(), PERSON_COLUMNS.len());
    }

    #[test]
    fn gbk_is_detected_and_transcoded() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("gbk.csv");
        let (bytes, _, _) = encoding_rs::GBK.encode("姓名,证件号码\n王芳,1\n");
        std::fs::write(&p, &bytes).unwrap();
        assert!(!detect_utf8(&p).unwrap());
        let out = transcode_gb18030(&p).unwrap();
        assert_eq!(
            std::fs::read_to_string(out).unwrap(),
            "姓名,证件号码\n王芳,1\n"
        );
        let u = dir.path().join("utf8.csv");
        std::fs::write(&u, "姓名\n王芳\n").unwrap();
        assert!(detect_utf8(&u).unwrap());
    }
}
