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
use crate::store::{self, Db};

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

/// The template: header and one example row, UTF-8 with a BOM so Excel opens it correctly.
pub fn person_template() -> Vec<u8> {
    let mut w = crate::sheet::csv_for_excel();
    let _ = w.write_record(PERSON_COLUMNS.iter().map(|c| c.0));
    let _ = w.write_record([
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
    ]);
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

/// Detects the encoding: valid UTF-8 throughout (with or without BOM), else GB18030 (a superset
/// of GBK, which Excel in China writes).
fn detect_utf8(path: &Path) -> std::io::Result<bool> {
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut carry: Vec<u8> = vec![];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(carry.is_empty());
        }
        let mut chunk = std::mem::take(&mut carry);
        chunk.extend_from_slice(&buf[..n]);
        match std::str::from_utf8(&chunk) {
            Ok(_) => {}
            Err(e) if e.error_len().is_none() => carry = chunk[e.valid_up_to()..].to_vec(),
            Err(_) => return Ok(false),
        }
    }
}

/// Transcodes a GB18030 file into a UTF-8 one beside it, in chunks.
fn transcode_gb18030(path: &Path) -> std::io::Result<PathBuf> {
    let out_path = path.with_extension("utf8.csv");
    let mut input = std::fs::File::open(path)?;
    let mut out = std::io::BufWriter::new(crate::spool::create_private(&out_path)?);
    let mut decoder = encoding_rs::GB18030.new_decoder();
    let mut buf = vec![0u8; 1 << 20];
    let mut text = String::with_capacity(2 << 20);
    loop {
        let n = input.read(&mut buf)?;
        let last = n == 0;
        text.clear();
        let (_, _, _) = decoder.decode_to_string(&buf[..n], &mut text, last);
        out.write_all(text.as_bytes())?;
        if last {
            break;
        }
    }
    out.flush()?;
    Ok(out_path)
}

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

fn field_to_header(field: &str) -> String {
    let key = match field {
        "area_id" => "building_code",
        f => f,
    };
    PERSON_COLUMNS
        .iter()
        .find(|c| c.1 == key)
        .map(|c| c.0.to_string())
        .unwrap_or_else(|| field.to_string())
}

/// What reading one line gave.
enum Parsed {
    /// A blank line.
    Blank,
    Bad(u64, Vec<(String, String)>),
    Good(Box<Row>),
}

/// Reads the resident sheet row by row from disk.
struct SheetReader {
    rdr: csv::Reader<BufReader<std::fs::File>>,
    index: HashMap<&'static str, usize>,
    record: csv::StringRecord,
    line: u64,
}

impl SheetReader {
    /// Opens the file; on a missing required column, returns the columns that are missing.
    fn open(path: &Path) -> AppResult<Result<SheetReader, Vec<RowProblem>>> {
        let reader = BufReader::with_capacity(
            1 << 20,
            std::fs::File::open(path).map_err(AppError::internal)?,
        );
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        let headers = match rdr.headers() {
            Ok(h) => h.clone(),
            Err(e) => {
                return Ok(Err(vec![RowProblem {
                    row: 1,
                    column: String::new(),
                    problem: format!("无法读取表头：{e} / cannot read the header"),
                }]))
            }
        };
        let mut index: HashMap<&'static str, usize> = HashMap::new();
        for (i, h) in headers.iter().enumerate() {
            let h = h.trim().trim_start_matches('\u{feff}');
            if let Some(c) = PERSON_COLUMNS.iter().find(|c| c.0 == h || c.1 == h) {
                index.insert(c.1, i);
            }
        }
        let missing: Vec<RowProblem> = PERSON_COLUMNS
            .iter()
            .filter(|c| c.2 && !index.contains_key(c.1))
            .map(|c| RowProblem {
                row: 1,
                column: c.0.to_string(),
                problem: "缺少必需的列 / required column missing".into(),
            })
            .collect();
        if !missing.is_empty() {
            return Ok(Err(missing));
        }
        Ok(Ok(SheetReader {
            rdr,
            index,
            record: csv::StringRecord::new(),
            line: 1,
        }))
    }

    /// The sheet's name of column `i` (empty for a column the importer does not read).
    fn header_of(&self, i: usize) -> String {
        let key = self.index.iter().find(|(_, c)| **c == i).map(|(k, _)| *k);
        PERSON_COLUMNS
            .iter()
            .find(|c| Some(c.1) == key)
            .map(|c| c.0.to_string())
            .unwrap_or_default()
    }

    fn next(&mut self, keys: &Keys, buildings: &HashMap<String, Placement>) -> Option<Parsed> {
        match self.rdr.read_record(&mut self.record) {
            Ok(false) => return None,
            Ok(true) => {}
            Err(e) => {
                self.line += 1;
                return Some(Parsed::Bad(
                    self.line,
                    vec![(String::new(), format!("无法解析此行：{e} / unreadable row"))],
                ));
            }
        }
        self.line += 1;
        let line = self.line;
        if self.record.iter().all(|f| f.trim().is_empty()) {
            return Some(Parsed::Blank);
        }
        if let Some(i) = self.record.iter().position(text::has_forbidden_control) {
            let m = text::control_msg();
            return Some(Parsed::Bad(
                line,
                vec![(self.header_of(i), format!("{} / {}", m.zh, m.en))],
            ));
        }
        let record = &self.record;
        let index = &self.index;
        let get = |k: &str| {
            index
                .get(k)
                .and_then(|i| record.get(*i))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let mut errs: Vec<(String, String)> = vec![];
        let at = match get("building_code") {
            Some(code) => match find_building(buildings, &code) {
                Some(p) => Some(*p),
                None => {
                    errs.push(("楼栋编码".into(), format!("楼栋 {code} 不存在、不在您的管辖范围内或名称不唯一（可填 18 位楼栋编码，或“社区名+楼栋名”） / building {code} is unknown, outside your scope or ambiguous (give its code, or community and building name)")));
                    None
                }
            },
            None => {
                errs.push(("楼栋编码".into(), "不能为空 / required".into()));
                None
            }
        };
        let input = NewPerson {
            area_id: at.map(|a| a.area_id).unwrap_or_default(),
            name: get("name").unwrap_or_default(),
            id_type: get("id_type"),
            id_no: get("id_no").unwrap_or_default(),
            gender: get("gender"),
            birth_date: get("birth_date"),
            ethnicity: get("ethnicity"),
            mobile: get("mobile"),
            political_status: get("political_status"),
            education: get("education"),
            occupation: get("occupation"),
            work_unit: get("work_unit"),
            hukou_place: get("hukou_place"),
            residence_type: get("residence_type").unwrap_or_default(),
            tags: get("tags")
                .map(|t| {
                    t.split(['、', ',', '，', ';', '；', ' '])
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        };
        let person = match persons::validate(&input) {
            Ok(p) => Some(p),
            Err(fe) => {
                for (f, m) in fe {
                    errs.push((field_to_header(&f), format!("{} / {}", m.zh, m.en)));
                }
                None
            }
        };
        let mut pick = |k: &str, header: &str, v: &vocab::Vocab, default: &'static str| match get(k)
        {
            Some(x) => v
                .parse(&x)
                .map_err(|m| errs.push((header.into(), format!("{} / {}", m.zh, m.en))))
                .unwrap_or(default),
            None => default,
        };
        let relation = pick("relation", "与户主关系", &vocab::RELATION, "other");
        let household_kind = pick(
            "household_kind",
            "户类型",
            &vocab::HOUSEHOLD_KIND,
            "resident",
        );
        let usage = pick("usage", "房屋用途", &vocab::DWELLING_USAGE, "self_occupied");
        let unit = get("unit").unwrap_or_default();
        let room = get("room");
        if unit.chars().count() > 16
            || room
                .as_deref()
                .map(|r| r.chars().count() > 32)
                .unwrap_or(false)
        {
            errs.push((
                "室号".into(),
                "单元或室号过长 / unit or room too long".into(),
            ));
        }
        match (person, at) {
            (Some(person), Some(at)) if errs.is_empty() => {
                let bidx = keys.blind_index("id_no", &person.id_no);
                Some(Parsed::Good(Box::new(Row {
                    line,
                    person,
                    at,
                    unit,
                    room,
                    relation,
                    household_kind,
                    usage,
                    bidx,
                })))
            }
            _ => Some(Parsed::Bad(line, errs)),
        }
    }
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
    let add_problem = |report: &mut ImportReport, row: u64, column: &str, p: String| {
        report
            .bad_lines
            .entry(row)
            .or_insert_with(|| format!("{column}：{p}"));
        if report.problems.len() < MAX_PROBLEMS {
            report.problems.push(RowProblem {
                row,
                column: column.to_string(),
                problem: p,
            });
        }
    };

    // Pass 1: check every row.
    let mut sheet = match SheetReader::open(csv_path)? {
        Ok(s) => s,
        Err(problems) => {
            report.problems = problems;
            report.status = "rejected".into();
            return Ok(report);
        }
    };
    let mut seen: HashMap<u128, u64> = HashMap::new();
    // Rows that match a stored record (by blind index): the write pass looks only these up again.
    let mut stored: HashSet<u128> = HashSet::new();
    let mut batch: Vec<Row> = Vec::with_capacity(BATCH);
    let mut scope_cache: HashMap<Uuid, bool> = HashMap::new();
    loop {
        let parsed = sheet.next(keys, &buildings);
        let end = parsed.is_none();
        match parsed {
            None | Some(Parsed::Blank) => {}
            Some(Parsed::Bad(line, errs)) => {
                report.rows += 1;
                report.error_rows += 1;
                for (c, p) in errs {
                    add_problem(&mut report, line, &c, p);
                }
            }
            Some(Parsed::Good(row)) => {
                report.rows += 1;
                let key = bidx_key(&row.bidx);
                if let Some(first) = seen.get(&key) {
                    report.error_rows += 1;
                    add_problem(
                        &mut report,
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
            let refs: Vec<&Row> = batch.iter().collect();
            let existing = match &tx {
                Some(t) => existing_for(t, &refs).await?,
                None => existing_for(db, &refs).await?,
            };
            for r in batch.drain(..) {
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
                                let m = scope::has_permission(
                                    db,
                                    ctx,
                                    Permission::EditRegistry,
                                    e.area_id,
                                )
                                .await?;
                                scope_cache.insert(e.area_id, m);
                                m
                            }
                        };
                        if !may {
                            // Registered elsewhere: never touched from here; the row is reported.
                            report.error_rows += 1;
                            add_problem(
                                &mut report,
                                r.line,
                                "证件号码",
                                "该证件号码已在您管辖范围以外登记 / registered outside your scope"
                                    .into(),
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
        }
        if end {
            break;
        }
    }
    drop(seen);
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

    // Pass 2: write, all or nothing. A thread of its own reads, seals (encrypts, indexes) and
    // shapes the rows of each batch while this task writes the previous batch: on two cores the
    // database's writer and the preparation run side by side (docs/benchmarks.md).
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
            store::insert_many(&tx, "persons", &persons::new_row_columns(), b.persons).await?;
            store::insert_many(
                &tx,
                "person_tags",
                &["street_id", "person_id", "tag_key"],
                b.tags,
            )
            .await?;
            store::insert_many(&tx, "person_name_grams", persons::GRAM_COLUMNS, b.grams).await?;
            store::insert_many(&tx, "registry_events", EVENT_COLUMNS, b.events).await?;
            // Rows of stored records: compared again and updated where they differ.
            let olds: Vec<&Row> = b
                .rows
                .iter()
                .zip(&b.ids)
                .filter(|(_, id)| id.is_none())
                .map(|(r, _)| r)
                .collect();
            let existing = existing_for(&tx, &olds).await?;
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
                            update_existing(
                                &tx,
                                keys,
                                ctx,
                                e.id,
                                (&e.name, e.community_id),
                                r,
                                now,
                            )
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
            place_in_households(&tx, &mut households, &b.rows, &ids, &fresh, now).await?;
        }
        Ok(())
    }
    .await;
    // On an error the receiver is dropped first, so the producer stops at its next send.
    drop(batches);
    let _ = producer.await;
    written?;
    audit::record(
        &tx,
        Entry::by(ctx, admitted, "import.persons", "person", None)
            .fields(&["all"])
            .detail(format!(
                "{} rows: {} created, {} updated, {} unchanged, {} skipped",
                report.rows, report.created, report.updated, report.unchanged, report.error_rows
            )),
    )
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
    let mut values = persons::data_values(&r.at, &r.person, &s);
    let next = values.len() + 1;
    values.extend([now.into(), id.into()]);
    store::exec(
        c,
        &format!(
            "UPDATE persons SET {}, version = version + 1, updated_at = ${next} WHERE id = ${}",
            persons::data_set_sql(1),
            next + 1
        ),
        values,
    )
    .await?;
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

/// Rows with a room go into the household of that dwelling (both made when missing).
/// Households found or made so far in this import: (building, unit, room) → (household, has head).
#[derive(Default)]
struct HouseholdCache {
    homes: HashMap<(Uuid, String, String), (Uuid, bool)>,
    /// A building's address part (社区 + 楼栋).
    prefixes: HashMap<Uuid, String>,
}

/// Places a batch's rows that name a room. The dwellings and households the batch needs are
/// found with one query per building and the missing ones inserted in bulk; a new household's head
/// is written with it. Only records that already lived somewhere cost statements of their own.
async fn place_in_households<C: ConnectionTrait>(
    c: &C,
    cache: &mut HouseholdCache,
    rows: &[Row],
    ids: &[Uuid],
    fresh: &HashSet<Uuid>,
    now: i64,
) -> AppResult<()> {
    let found = find_homes(c, cache, rows).await?;
    let (new_dwellings, new_households) = plan_homes(c, cache, rows, &found, now).await?;
    let new_set: HashSet<Uuid> = new_households.iter().map(|h| h.0).collect();
    let (member_rows, heads_of_new) = memberships(c, cache, rows, ids, fresh, &new_set).await?;
    write_homes(c, new_dwellings, new_households, &heads_of_new, member_rows).await
}

/// A dwelling of a batch's rooms as stored, with its first household and that household's head.
#[derive(FromQueryResult)]
struct Found {
    dwelling: Uuid,
    unit: String,
    room: String,
    household: Option<Uuid>,
    head: Option<Uuid>,
}

/// Household rows to insert: (id, the row without its head, unused).
type NewHouseholds = Vec<(Uuid, Vec<Value>, Option<Uuid>)>;

/// 1. The homes this batch needs that the import has not met yet, by building and unit (the
///    index on dwellings is (building, unit, room): a query per unit reads only those rooms).
async fn find_homes<C: ConnectionTrait>(
    c: &C,
    cache: &HouseholdCache,
    rows: &[Row],
) -> AppResult<HashMap<(Uuid, String, String), Found>> {
    let mut wanted: HashMap<(Uuid, String), Vec<String>> = HashMap::new();
    for r in rows {
        if let Some(room) = &r.room {
            let key = (r.at.area_id, r.unit.clone(), room.clone());
            if !cache.homes.contains_key(&key) {
                let rooms = wanted.entry((r.at.area_id, r.unit.clone())).or_default();
                if !rooms.contains(room) {
                    rooms.push(room.clone());
                }
            }
        }
    }
    let mut found: HashMap<(Uuid, String, String), Found> = HashMap::new();
    for ((building, unit), rooms) in &wanted {
        for part in rooms.chunks(400) {
            let mut values: Vec<Value> = vec![(*building).into(), unit.clone().into()];
            values.extend(part.iter().cloned().map(Value::from));
            let list: Vec<Found> = store::fetch_all(
                c,
                &format!(
                    "SELECT d.id AS dwelling, d.unit, d.room, \
                     (SELECT h.id FROM households h WHERE h.dwelling_id = d.id AND h.deleted_at IS NULL ORDER BY h.created_at LIMIT 1) AS household, \
                     (SELECT h.head_person_id FROM households h WHERE h.dwelling_id = d.id AND h.deleted_at IS NULL ORDER BY h.created_at LIMIT 1) AS head \
                     FROM dwellings d WHERE d.building_id = $1 AND d.unit = $2 AND d.deleted_at IS NULL AND d.room IN ({})",
                    store::placeholders(3, part.len())
                ),
                values,
            )
            .await?;
            for f in list {
                found.insert((*building, f.unit.clone(), f.room.clone()), f);
            }
        }
    }
    Ok(found)
}

/// 2. Dwellings and households to make, in the order the rows need them; every row's home is then
///    in the cache.
async fn plan_homes<C: ConnectionTrait>(
    c: &C,
    cache: &mut HouseholdCache,
    rows: &[Row],
    found: &HashMap<(Uuid, String, String), Found>,
    now: i64,
) -> AppResult<(Vec<Vec<Value>>, NewHouseholds)> {
    let mut new_dwellings: Vec<Vec<Value>> = vec![];
    // household id → its row (the head is filled in below before the insert)
    let mut new_households: NewHouseholds = vec![];
    for r in rows {
        let Some(room) = &r.room else { continue };
        let key = (r.at.area_id, r.unit.clone(), room.clone());
        if cache.homes.contains_key(&key) {
            continue;
        }
        let household_row = |h: Uuid, d: Uuid| {
            vec![
                r.at.street_id.into(),
                h.into(),
                r.at.community_id.into(),
                r.at.grid_id.into(),
                r.at.area_id.into(),
                d.into(),
                r.household_kind.into(),
                Some(now).into(),
                now.into(),
                now.into(),
            ]
        };
        let home = match found.get(&key) {
            Some(Found {
                household: Some(h),
                head,
                ..
            }) => (*h, head.is_some()),
            Some(f) => {
                let h = new_id();
                new_households.push((h, household_row(h, f.dwelling), None));
                (h, false)
            }
            None => {
                let d = new_id();
                let prefix = match cache.prefixes.get(&r.at.area_id) {
                    Some(p) => p.clone(),
                    None => {
                        let p = super::households::address_prefix(c, r.at.area_id).await?;
                        cache.prefixes.insert(r.at.area_id, p.clone());
                        p
                    }
                };
                new_dwellings.push(vec![
                    r.at.street_id.into(),
                    d.into(),
                    r.at.community_id.into(),
                    r.at.grid_id.into(),
                    r.at.area_id.into(),
                    r.unit.clone().into(),
                    room.clone().into(),
                    r.usage.into(),
                    super::households::address_in(&prefix, &r.unit, room).into(),
                    now.into(),
                    now.into(),
                ]);
                let h = new_id();
                new_households.push((h, household_row(h, d), None));
                (h, false)
            }
        };
        cache.homes.insert(key, home);
    }
    Ok((new_dwellings, new_households))
}

/// 3. Memberships: a new record joins; a stored one may move here or change its relation. The
///    member rows to insert, and the heads of the households being made.
async fn memberships<C: ConnectionTrait>(
    c: &C,
    cache: &mut HouseholdCache,
    rows: &[Row],
    ids: &[Uuid],
    fresh: &HashSet<Uuid>,
    new_set: &HashSet<Uuid>,
) -> AppResult<(Vec<Vec<Value>>, HashMap<Uuid, Uuid>)> {
    let from = today();
    let mut member_rows: Vec<Vec<Value>> = vec![];
    let mut already: HashSet<(Uuid, Uuid)> = HashSet::new();
    let mut heads_of_new: HashMap<Uuid, Uuid> = HashMap::new();
    for (r, pid) in rows.iter().zip(ids) {
        let Some(room) = &r.room else { continue };
        let key = (r.at.area_id, r.unit.clone(), room.clone());
        let (household, has_head) = cache.homes[&key];
        let current = if fresh.contains(pid) {
            0
        } else {
            store::fetch_i64(
                c,
                "SELECT COUNT(*) FROM household_members WHERE household_id = $1 AND person_id = $2 AND to_date IS NULL",
                vec![household.into(), (*pid).into()],
            )
            .await?
        };
        if current > 0 {
            // Already living here: only the relation may have changed (never a second head).
            if r.relation != "head" {
                store::exec(
                    c,
                    "UPDATE household_members SET relation = $1 WHERE household_id = $2 AND person_id = $3 AND to_date IS NULL",
                    vec![r.relation.into(), household.into(), (*pid).into()],
                )
                .await?;
            } else if !has_head {
                store::exec(
                    c,
                    "UPDATE household_members SET relation = 'head' WHERE household_id = $1 AND person_id = $2 AND to_date IS NULL",
                    vec![household.into(), (*pid).into()],
                )
                .await?;
                store::exec(
                    c,
                    "UPDATE households SET head_person_id = $1 WHERE id = $2",
                    vec![(*pid).into(), household.into()],
                )
                .await?;
                cache.homes.insert(key, (household, true));
            }
            continue;
        }
        if !already.insert((household, *pid)) {
            continue;
        }
        // Moving here from another household: that membership ends today (a new record has none).
        if !fresh.contains(pid) {
            store::exec(
                c,
                "UPDATE household_members SET to_date = $1 WHERE person_id = $2 AND to_date IS NULL",
                vec![from.clone().into(), (*pid).into()],
            )
            .await?;
            store::exec(
                c,
                "UPDATE households SET head_person_id = NULL WHERE head_person_id = $1",
                vec![(*pid).into()],
            )
            .await?;
        }
        let relation = if r.relation == "head" && has_head {
            "other"
        } else {
            r.relation
        };
        if relation == "head" {
            if new_set.contains(&household) {
                heads_of_new.insert(household, *pid);
            } else {
                store::exec(
                    c,
                    "UPDATE households SET head_person_id = $1 WHERE id = $2",
                    vec![(*pid).into(), household.into()],
                )
                .await?;
            }
            cache.homes.insert(key, (household, true));
        }
        member_rows.push(vec![
            r.at.street_id.into(),
            new_id().into(),
            household.into(),
            (*pid).into(),
            relation.into(),
            from.clone().into(),
        ]);
    }

    Ok((member_rows, heads_of_new))
}

/// 4. Write: dwellings, households (with their heads), memberships.
async fn write_homes<C: ConnectionTrait>(
    c: &C,
    new_dwellings: Vec<Vec<Value>>,
    new_households: NewHouseholds,
    heads_of_new: &HashMap<Uuid, Uuid>,
    member_rows: Vec<Vec<Value>>,
) -> AppResult<()> {
    store::insert_many(
        c,
        "dwellings",
        &[
            "street_id",
            "id",
            "community_id",
            "grid_id",
            "building_id",
            "unit",
            "room",
            "usage",
            "address",
            "created_at",
            "updated_at",
        ],
        new_dwellings,
    )
    .await?;
    let households: Vec<Vec<Value>> = new_households
        .into_iter()
        .map(|(h, mut row, _)| {
            row.insert(7, heads_of_new.get(&h).copied().into());
            row
        })
        .collect();
    store::insert_many(
        c,
        "households",
        super::households::HOUSEHOLD_COLUMNS,
        households,
    )
    .await?;
    store::insert_many(
        c,
        "household_members",
        super::households::MEMBER_COLUMNS,
        member_rows,
    )
    .await?;
    Ok(())
}

/// Neutralises spreadsheet formulas: a cell starting with = + - @ or a control character is
/// prefixed with an apostrophe.
pub fn safe_cell(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

pub const EXPORT_COLUMNS: &[&str] = &[
    "姓名",
    "证件类型",
    "证件号码（脱敏）",
    "性别",
    "出生日期",
    "民族",
    "手机号码（脱敏）",
    "政治面貌",
    "学历",
    "职业",
    "工作单位",
    "户籍地",
    "居住类型",
    "特殊人群",
    "地址",
    "与户主关系",
    "最近核实",
];

/// One page of the export (keyset by id), as CSV lines. Masked; sensitive tags only where the
/// caller may see them.
#[tracing::instrument(name = "registry::transfer::export_page", skip_all)]
pub async fn export_page(
    db: &Db,
    keys: &Keys,
    ctx: &Ctx,
    area: Option<Uuid>,
    after: Option<Uuid>,
    limit: u64,
) -> AppResult<(Vec<u8>, Option<Uuid>, usize)> {
    let mut w = super::list_where(ctx, "p", "area_id", area);
    w.and("p.status = 'active'", []);
    if let Some(a) = after {
        w.and("p.id > ?", [a.into()]);
    }
    let (cond, values) = w.build(1);
    let rows: Vec<persons::PersonRow> = store::fetch_all(
        db,
        &format!(
            "{} WHERE {cond} ORDER BY p.id LIMIT {limit}",
            persons::SELECT
        ),
        values,
    )
    .await?;
    let last = rows.last().map(|r| r.id);
    let n = rows.len();
    let mut out = Vec::with_capacity(n * 200);
    {
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(&mut out);
        let mut sensitive: HashMap<Uuid, bool> = HashMap::new();
        for r in rows {
            let see = match sensitive.get(&r.area_id) {
                Some(s) => *s,
                None => {
                    let s = scope::has_permission(db, ctx, Permission::RevealPersonal, r.area_id)
                        .await?;
                    sensitive.insert(r.area_id, s);
                    s
                }
            };
            let p = persons::view(r, keys, see);
            let label = |v: &vocab::Vocab, c: &Option<String>| {
                c.as_deref()
                    .and_then(|c| v.label(c))
                    .unwrap_or("")
                    .to_string()
            };
            let mut tags: Vec<String> = p
                .tags
                .iter()
                .filter_map(|t| vocab::TAGS.label(t))
                .map(str::to_string)
                .collect();
            if let Some(st) = &p.sensitive_tags {
                tags.extend(
                    st.iter()
                        .filter_map(|t| vocab::TAGS.label(t))
                        .map(str::to_string),
                );
            }
            let rec = [
                p.name.clone(),
                vocab::ID_TYPE.label(&p.id_type).unwrap_or("").to_string(),
                p.id_no_masked.clone().unwrap_or_default(),
                label(&vocab::GENDER, &p.gender),
                p.birth_date.clone().unwrap_or_default(),
                p.ethnicity.clone().unwrap_or_default(),
                p.mobile_masked.clone().unwrap_or_default(),
                label(&vocab::POLITICAL_STATUS, &p.political_status),
                label(&vocab::EDUCATION, &p.education),
                p.occupation.clone().unwrap_or_default(),
                p.work_unit.clone().unwrap_or_default(),
                p.hukou_place.clone().unwrap_or_default(),
                vocab::RESIDENCE_TYPE
                    .label(&p.residence_type)
                    .unwrap_or("")
                    .to_string(),
                tags.join("、"),
                p.address.clone().unwrap_or_default(),
                label(&vocab::RELATION, &p.relation),
                p.last_verified_at
                    .as_deref()
                    .and_then(crate::domain::rfc3339_to_ms)
                    .map(super::shanghai_date)
                    .unwrap_or_default(),
            ];
            let _ = w.write_record(rec.iter().map(|c| safe_cell(c)));
        }
        let _ = w.flush();
    }
    Ok((out, last, n))
}

/// The export's first bytes: BOM and header.
pub fn export_header() -> Vec<u8> {
    let mut w = crate::sheet::csv_for_excel();
    let _ = w.write_record(EXPORT_COLUMNS);
    w.into_inner().unwrap_or_default()
}

/// Checks the caller may export at all (and the area, when given), and audits the export.
#[tracing::instrument(name = "registry::transfer::start_export", skip_all)]
pub async fn start_export(db: &Db, ctx: &Ctx, area: Option<Uuid>) -> AppResult<()> {
    let mut checked = scope::require_any(ctx, Permission::ReadRegistry)?;
    if let Some(a) = area {
        checked = scope::require_permission(db, ctx, Permission::ReadRegistry, a).await?;
    }
    audit::record_alone(
        db,
        Entry::by(ctx, &checked, "export.persons", "person", None)
            .area(area)
            .fields(&EXPORT_COLUMNS.iter().copied().collect::<Vec<_>>()),
    )
    .await?;
    Ok(())
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

/// The template as an Excel workbook: every column formatted as text (so Excel keeps 18-digit
/// numbers and codes intact), an example row, and a sheet explaining each column.
/// An import report as an Excel workbook: a sheet of problems (row, column, problem) and a
/// summary sheet. Every cell is written as text, so nothing in it can run as a formula.
pub fn report_xlsx(r: &ImportReport) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format, Workbook};
    let e = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let mut wb = Workbook::new();
    let head = Format::new().set_bold().set_background_color("#F2F2F2");
    let sheet = wb.add_worksheet().set_name("问题 Problems").map_err(e)?;
    for (c, (title, width)) in [
        ("行号 Row", 10.0),
        ("列 Column", 16.0),
        ("问题 Problem", 80.0),
    ]
    .into_iter()
    .enumerate()
    {
        sheet
            .write_string_with_format(0, c as u16, title, &head)
            .map_err(e)?;
        sheet.set_column_width(c as u16, width).map_err(e)?;
    }
    for (i, p) in r.problems.iter().enumerate() {
        let row = i as u32 + 1;
        if p.row == 0 {
            sheet
                .write_string(row, 0, "整个文件 whole file")
                .map_err(e)?;
        } else {
            sheet.write_number(row, 0, p.row as f64).map_err(e)?;
        }
        sheet.write_string(row, 1, &p.column).map_err(e)?;
        sheet.write_string(row, 2, &p.problem).map_err(e)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(e)?;
    let sum = wb.add_worksheet().set_name("摘要 Summary").map_err(e)?;
    sum.set_column_width(0, 28.0).map_err(e)?;
    sum.set_column_width(1, 60.0).map_err(e)?;
    let status = match r.status.as_str() {
        "dry_run" => "检查（未写入）dry run, nothing written",
        "committed" => "已导入 committed",
        _ => "已拒绝（未写入）rejected, nothing written",
    };
    let lines: Vec<(&str, String)> = vec![
        ("结果 Status", status.to_string()),
        ("编码 Encoding", r.encoding.clone()),
        ("行数 Rows", r.rows.to_string()),
        ("无误 OK rows", r.ok_rows.to_string()),
        ("有误 Rows with errors", r.error_rows.to_string()),
        ("将新增 Created", r.created.to_string()),
        ("将更新 Updated", r.updated.to_string()),
        ("无变化 Unchanged", r.unchanged.to_string()),
        (
            "列出的问题 Problems listed",
            format!("{} (最多 at most {MAX_PROBLEMS})", r.problems.len()),
        ),
    ];
    for (i, (k, v)) in lines.iter().enumerate() {
        sum.write_string_with_format(i as u32, 0, *k, &head)
            .map_err(e)?;
        sum.write_string(i as u32, 1, v).map_err(e)?;
    }
    for (i, n) in r.notes.iter().enumerate() {
        let row = (lines.len() + i) as u32;
        sum.write_string_with_format(row, 0, "说明 Note", &head)
            .map_err(e)?;
        sum.write_string(row, 1, n).map_err(e)?;
    }
    wb.save_to_buffer().map_err(e)
}

pub fn person_template_xlsx() -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let text = Format::new().set_num_format("@");
    let head = Format::new()
        .set_bold()
        .set_num_format("@")
        .set_background_color("#F2F2F2");
    let sheet = wb
        .add_worksheet()
        .set_name("居民")
        .map_err(|e| e.to_string())?;
    for (i, (zh, _, required)) in PERSON_COLUMNS.iter().enumerate() {
        let col = i as u16;
        sheet
            .set_column_format(col, &text)
            .map_err(|e| e.to_string())?;
        sheet
            .set_column_width(
                col,
                if *zh == "证件号码" || *zh == "楼栋编码" {
                    22
                } else {
                    12
                },
            )
            .map_err(|e| e.to_string())?;
        let title = if *required {
            format!("{zh}*")
        } else {
            zh.to_string()
        };
        sheet
            .write_string_with_format(0, col, &title, &head)
            .map_err(|e| e.to_string())?;
    }
    let example = [
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
    for (i, v) in example.iter().enumerate() {
        sheet
            .write_string_with_format(1, i as u16, *v, &text)
            .map_err(|e| e.to_string())?;
    }
    sheet.set_freeze_panes(1, 0).map_err(|e| e.to_string())?;
    let help = wb
        .add_worksheet()
        .set_name("填写说明")
        .map_err(|e| e.to_string())?;
    help.set_column_width(0, 14).map_err(|e| e.to_string())?;
    help.set_column_width(1, 90).map_err(|e| e.to_string())?;
    let rows: Vec<(&str, String)> = vec![
        ("带 * 的列", "必填：姓名、证件号码、居住类型、楼栋编码".into()),
        ("证件号码", "18 位居民身份证号（最后一位可为 X），或护照/通行证号；本模板已把各列设为文本，请勿改为数字格式".into()),
        ("楼栋编码", "区域树中楼栋的 18 位编码".into()),
        ("出生日期", "1988-05-12、1988/5/12 或 1988年5月12日；身份证号已含出生日期，可不填".into()),
        ("证件类型", vocab::ID_TYPE.items.iter().map(|i| i.1).collect::<Vec<_>>().join("、")),
        ("居住类型", vocab::RESIDENCE_TYPE.items.iter().map(|i| i.1).collect::<Vec<_>>().join("、")),
        ("政治面貌", vocab::POLITICAL_STATUS.items.iter().map(|i| i.1).collect::<Vec<_>>().join("、")),
        ("学历", vocab::EDUCATION.items.iter().map(|i| i.1).collect::<Vec<_>>().join("、")),
        ("特殊人群", format!("{}（多个用顿号分隔）", vocab::TAGS.items.iter().map(|i| i.1).collect::<Vec<_>>().join("、"))),
        ("与户主关系", vocab::RELATION.items.iter().map(|i| i.1).collect::<Vec<_>>().join("、")),
        ("户类型", vocab::HOUSEHOLD_KIND.items.iter().map(|i| i.1).collect::<Vec<_>>().join("、")),
        ("房屋用途", vocab::DWELLING_USAGE.items.iter().map(|i| i.1).collect::<Vec<_>>().join("、")),
        ("单元、室号", "填写后，该居民归入这套房屋的户；同一房屋的多行归入同一户".into()),
    ];
    for (i, (k, v)) in rows.iter().enumerate() {
        help.write_string(i as u32, 0, *k)
            .map_err(|e| e.to_string())?;
        help.write_string(i as u32, 1, v)
            .map_err(|e| e.to_string())?;
    }
    wb.save_to_buffer().map_err(|e| e.to_string())
}

/// The rows of an import that had problems, as a workbook to fix and upload again: the file's
/// own header and cells, then the row number and its first problem. Written in constant memory
/// to `out` (a spool path).
pub fn rejects_xlsx(csv_path: &Path, report: &ImportReport, out: &Path) -> Result<(), String> {
    let file = std::fs::File::open(csv_path).map_err(|e| e.to_string())?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(BufReader::new(file));
    let mut records = rdr.records();
    let header: Vec<String> = match records.next() {
        Some(Ok(h)) => h
            .iter()
            .map(|c| c.trim_start_matches('\u{feff}').to_string())
            .collect(),
        _ => vec![],
    };
    let mut heads: Vec<(&str, f64)> = header.iter().map(|h| (h.as_str(), 14.0)).collect();
    heads.push(("原行号 / row", 10.0));
    heads.push(("问题 / problem", 50.0));
    let tmp = out.parent().unwrap_or(Path::new("."));
    let mut w = crate::sheet::SheetWriter::new(tmp, "待修改", &heads)?;
    for (i, rec) in records.enumerate() {
        let line = i as u64 + 2;
        let Some(problem) = report.bad_lines.get(&line) else {
            continue;
        };
        let Ok(rec) = rec else { continue };
        let mut cells: Vec<crate::sheet::Cell> = rec
            .iter()
            .map(|c| crate::sheet::Cell::Text(c.to_string()))
            .collect();
        cells.resize(header.len(), crate::sheet::Cell::Empty);
        cells.push(crate::sheet::Cell::Number(line as f64));
        cells.push(crate::sheet::Cell::Text(problem.clone()));
        w.row(cells)?;
    }
    w.save(out)
}

/// Whether a spooled upload is an Excel workbook (a zip file).
pub fn is_xlsx(path: &Path) -> bool {
    let mut head = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .map(|_| crate::sheet::looks_like_zip(&head))
        .unwrap_or(false)
}
