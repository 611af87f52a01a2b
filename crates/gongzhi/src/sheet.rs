//! Spreadsheets in bounded memory: every uploaded workbook (.xlsx) is checked before it is parsed
//! and then read cell by cell, never as a whole range.
//!
//! An .xlsx file is a zip archive of XML parts. A tiny file can declare a huge range (two cells,
//! A1 and XFD1048576: a reader that allocates the range asks for hundreds of GB), inflate to
//! gigabytes of XML (a deflate bomb), or hold millions of shared strings. So, before a parser sees
//! it, [`check_xlsx`] walks the archive: how many parts, their declared sizes, and then inflates
//! each XML part through a counter that stops at the limit, measuring the longest text run, the
//! shared strings, the cells and the declared range of the first sheet. Only a workbook within
//! [`Limits`] reaches calamine, and [`xlsx_to_csv`] streams its first sheet row by row into a CSV
//! file (created 0600), so memory does not grow with the sheet.
use std::io::{Read, Write};
use std::path::Path;

use crate::error::Msg;

/// What a workbook may hold. Settings: `GONGZHI_SHEET_MAX_*` (README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Cells in the sheet.
    pub max_cells: u64,
    /// The last row a cell may sit in (1-based).
    pub max_rows: u32,
    /// The last column a cell may sit in (1-based; 26 = Z).
    pub max_cols: u32,
    /// Bytes of XML after inflating, over all parts.
    pub max_inflated: u64,
    /// Entries of the shared-string table.
    pub max_shared_strings: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_cells: 2_000_000,
            max_rows: 1_048_576,
            max_cols: 256,
            max_inflated: 200 * 1024 * 1024,
            max_shared_strings: 1_000_000,
        }
    }
}

/// Parts of an archive: a workbook has a few dozen.
const MAX_PARTS: usize = 2_000;
/// The longest run of bytes between two `<` in any part. Excel holds at most 32,767 characters
/// in a cell, which is at most ~200 KB of escaped UTF-8.
const MAX_RUN: u64 = 1024 * 1024;

fn refuse(zh: String, en: String) -> Msg {
    Msg::owned(zh, en)
}

/// What the walk over the archive found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Survey {
    pub parts: usize,
    pub inflated: u64,
    pub shared_strings: u64,
    pub cells: u64,
    /// The first sheet's declared range (`<dimension ref>`), as written.
    pub dimension: Option<String>,
}

/// Checks a workbook against the limits without parsing it: a refusal says why, in both
/// languages. Memory stays at one read buffer whatever the file holds.
pub fn check_xlsx(path: &Path, limits: &Limits) -> Result<Survey, Msg> {
    let damaged = |e: &dyn std::fmt::Display| {
        refuse(
            format!("无法读取 Excel 文件（可能已损坏或不完整）：{e}"),
            format!("the workbook is damaged or incomplete: {e}"),
        )
    };
    let file = std::fs::File::open(path).map_err(|e| damaged(&e))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| damaged(&e))?;
    let mut survey = Survey {
        parts: zip.len(),
        ..Default::default()
    };
    if zip.len() > MAX_PARTS {
        return Err(refuse(
            format!("Excel 文件包含 {} 个部件，超过上限 {MAX_PARTS}", zip.len()),
            format!(
                "the workbook has {} parts, more than {MAX_PARTS}",
                zip.len()
            ),
        ));
    }
    // Declared sizes first: a refusal before inflating anything.
    let mut declared: u64 = 0;
    for i in 0..zip.len() {
        let f = zip.by_index_raw(i).map_err(|e| damaged(&e))?;
        declared = declared.saturating_add(f.size());
    }
    if declared > limits.max_inflated {
        return Err(too_big(limits));
    }
    let first_sheet = first_sheet_part(&mut zip);
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).map_err(|e| damaged(&e))?;
        let name = f.name().map(|n| n.to_string()).unwrap_or_default();
        if !(name.ends_with(".xml") || name.ends_with(".rels")) {
            continue;
        }
        let kind = if name == "xl/sharedStrings.xml" {
            PartKind::SharedStrings
        } else if Some(&name) == first_sheet.as_ref() {
            PartKind::FirstSheet
        } else {
            PartKind::Other
        };
        let budget = limits.max_inflated - survey.inflated;
        let scan = scan_part(&mut f, budget, kind).map_err(|e| damaged(&e))?;
        survey.inflated += scan.bytes;
        if scan.over_budget {
            return Err(too_big(limits));
        }
        if scan.longest_run > MAX_RUN {
            return Err(refuse(
                format!(
                    "Excel 文件的 {name} 中有超过 {} KB 的单个文本，无法导入",
                    MAX_RUN / 1024
                ),
                format!(
                    "{name} holds a single text of more than {} KB",
                    MAX_RUN / 1024
                ),
            ));
        }
        match kind {
            PartKind::SharedStrings => survey.shared_strings = scan.elements,
            PartKind::FirstSheet => {
                survey.cells = scan.elements;
                survey.dimension = scan.dimension;
            }
            PartKind::Other => {}
        }
    }
    if survey.shared_strings > limits.max_shared_strings {
        return Err(refuse(
            format!(
                "共享字符串 {} 个，超过上限 {}",
                survey.shared_strings, limits.max_shared_strings
            ),
            format!(
                "{} shared strings, more than {}",
                survey.shared_strings, limits.max_shared_strings
            ),
        ));
    }
    if survey.cells > limits.max_cells {
        return Err(too_many_cells(survey.cells, limits));
    }
    if let Some(dim) = &survey.dimension {
        if let Some((rows, cols)) = range_extent(dim) {
            check_extent(rows, cols, limits, dim)?;
        }
    }
    Ok(survey)
}

fn too_big(limits: &Limits) -> Msg {
    let mb = limits.max_inflated / (1024 * 1024);
    refuse(
        format!("Excel 文件解压后超过 {mb} MB，请拆分后再导入"),
        format!("the workbook inflates to more than {mb} MB; split it and try again"),
    )
}

fn too_many_cells(cells: u64, limits: &Limits) -> Msg {
    refuse(
        format!(
            "工作表有 {cells} 个单元格，超过上限 {}，请拆分后再导入",
            limits.max_cells
        ),
        format!(
            "the sheet has {cells} cells, more than {}; split it and try again",
            limits.max_cells
        ),
    )
}

fn check_extent(rows: u32, cols: u32, limits: &Limits, what: &str) -> Result<(), Msg> {
    if cols > limits.max_cols || rows > limits.max_rows {
        return Err(refuse(
            format!(
                "工作表的区域 {what} 超出上限（最多 {} 行、{} 列）",
                limits.max_rows, limits.max_cols
            ),
            format!(
                "the sheet's range {what} is beyond the limit ({} rows, {} columns)",
                limits.max_rows, limits.max_cols
            ),
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PartKind {
    SharedStrings,
    FirstSheet,
    Other,
}

#[derive(Debug, Default)]
struct PartScan {
    bytes: u64,
    over_budget: bool,
    longest_run: u64,
    /// `<si>` in the shared strings, `<c>` in the sheet.
    elements: u64,
    dimension: Option<String>,
}

/// Inflates one part through a fixed buffer, counting; stops once `budget` bytes are exceeded.
fn scan_part(r: &mut impl Read, budget: u64, kind: PartKind) -> std::io::Result<PartScan> {
    let mut scan = PartScan::default();
    let mut buf = vec![0u8; 64 * 1024];
    let mut run: u64 = 0;
    // The bytes right after a '<' (the element name), carried across buffer ends.
    let mut tag = Vec::with_capacity(16);
    let mut in_tag = false;
    // The opening of the <dimension …/> element, kept until its end (bounded).
    let mut dim: Option<Vec<u8>> = None;
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        scan.bytes += n as u64;
        if scan.bytes > budget {
            scan.over_budget = true;
            return Ok(scan);
        }
        for &b in &buf[..n] {
            if let Some(d) = dim.as_mut() {
                if b == b'>' || d.len() > 256 {
                    scan.dimension = dimension_ref(d);
                    dim = None;
                } else {
                    d.push(b);
                }
            }
            if b == b'<' {
                scan.longest_run = scan.longest_run.max(run);
                run = 0;
                in_tag = true;
                tag.clear();
                continue;
            }
            run += 1;
            if in_tag {
                if b.is_ascii_alphanumeric() || b == b':' || b == b'_' {
                    if tag.len() < 16 {
                        tag.push(b);
                    }
                    continue;
                }
                in_tag = false;
                let name = local_name(&tag);
                match kind {
                    PartKind::SharedStrings if name == b"si" => scan.elements += 1,
                    PartKind::FirstSheet if name == b"c" => scan.elements += 1,
                    PartKind::FirstSheet if name == b"dimension" && scan.dimension.is_none() => {
                        dim = Some(vec![b])
                    }
                    _ => {}
                }
            }
        }
    }
    scan.longest_run = scan.longest_run.max(run);
    Ok(scan)
}

fn local_name(tag: &[u8]) -> &[u8] {
    match tag.iter().rposition(|b| *b == b':') {
        Some(i) => &tag[i + 1..],
        None => tag,
    }
}

/// `ref="A1:XFD1048576"` out of the dimension element's attributes.
fn dimension_ref(attrs: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(attrs);
    let at = s.find("ref=")?;
    let rest = &s[at + 4..];
    let quote = rest.chars().next()?;
    let rest = &rest[1..];
    let end = rest.find(quote)?;
    Some(rest[..end].to_string())
}

/// The last row and column (1-based) of a range such as `A1:XFD1048576` or `B3`.
pub fn range_extent(range: &str) -> Option<(u32, u32)> {
    let last = range.rsplit(':').next()?.trim().replace('$', "");
    let letters: String = last
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    let digits = &last[letters.len()..];
    if letters.is_empty() || letters.len() > 3 || digits.is_empty() {
        return None;
    }
    let mut col: u32 = 0;
    for c in letters.chars() {
        col = col * 26 + (c.to_ascii_uppercase() as u32 - 'A' as u32 + 1);
    }
    let row: u32 = digits.parse().ok()?;
    Some((row, col))
}

/// The path of the workbook's first sheet, from `xl/workbook.xml` and its relationships. Falls
/// back to `xl/worksheets/sheet1.xml`. Reads at most 4 MB of each part.
fn first_sheet_part<R: Read + std::io::Seek>(zip: &mut zip::ZipArchive<R>) -> Option<String> {
    let read = |zip: &mut zip::ZipArchive<R>, name: &str| -> Option<String> {
        let f = zip.by_name(name).ok()?;
        let mut s = String::new();
        f.take(4 * 1024 * 1024).read_to_string(&mut s).ok()?;
        Some(s)
    };
    let fallback = Some("xl/worksheets/sheet1.xml".to_string());
    let Some(wb) = read(zip, "xl/workbook.xml") else {
        return fallback;
    };
    let Some(rid) = first_attr_after(&wb, "<sheet ", "r:id=") else {
        return fallback;
    };
    let Some(rels) = read(zip, "xl/_rels/workbook.xml.rels") else {
        return fallback;
    };
    let needle = format!("Id=\"{rid}\"");
    let Some(at) = rels.find(&needle) else {
        return fallback;
    };
    // The relationship element around the id.
    let start = rels[..at].rfind('<').unwrap_or(0);
    let end = rels[at..].find('>').map(|e| at + e).unwrap_or(rels.len());
    let target = first_attr_after(&rels[start..end], "", "Target=")?;
    let target = target.trim_start_matches('/');
    Some(if target.starts_with("xl/") {
        target.to_string()
    } else {
        format!("xl/{target}")
    })
}

fn first_attr_after(text: &str, element: &str, attr: &str) -> Option<String> {
    let from = text.find(element)?;
    let rest = &text[from..];
    let at = rest.find(attr)?;
    let rest = &rest[at + attr.len()..];
    let quote = rest.chars().next()?;
    let rest = &rest[1..];
    Some(rest[..rest.find(quote)?].to_string())
}

/// Converts the first worksheet of a checked workbook into a UTF-8 CSV file at `out` (mode 0600),
/// streaming cell by cell. Rows keep their numbers (gaps become empty rows), so a problem "in
/// row 7" of the report is row 7 in Excel. The header row loses the template's "required" star.
pub fn xlsx_to_csv(path: &Path, out: &Path, limits: &Limits) -> Result<(), Msg> {
    use calamine::{open_workbook, Reader, Xlsx};
    check_xlsx(path, limits)?;
    let damaged = |e: &dyn std::fmt::Display| {
        refuse(
            format!("无法读取 Excel 文件（可能已损坏或不完整）：{e}"),
            format!("the workbook is damaged or incomplete: {e}"),
        )
    };
    let mut wb: Xlsx<_> = open_workbook(path).map_err(|e| damaged(&e))?;
    let Some(name) = wb.sheet_names().first().cloned() else {
        return Err(refuse(
            "文件中没有工作表".into(),
            "the workbook has no worksheet".into(),
        ));
    };
    let mut cells = wb.worksheet_cells_reader(&name).map_err(|e| {
        refuse(
            format!("无法读取第一个工作表：{e}"),
            format!("cannot read the first worksheet: {e}"),
        )
    })?;
    let file = crate::spool::create_private(out).map_err(|e| damaged(&e))?;
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file));
    let mut row_cells: Vec<String> = Vec::new();
    let mut row_at: Option<u32> = None;
    let mut next_row: u32 = 0;
    let mut count: u64 = 0;
    let io = |e: csv::Error| damaged(&e);
    loop {
        let cell = cells.next_cell().map_err(|e| damaged(&e))?;
        let Some(cell) = cell else { break };
        let (r, c) = cell.get_position();
        count += 1;
        if count > limits.max_cells {
            return Err(too_many_cells(count, limits));
        }
        check_extent(r + 1, c + 1, limits, &format!("R{}C{}", r + 1, c + 1))?;
        if row_at != Some(r) {
            if let Some(prev) = row_at {
                if r < prev {
                    return Err(damaged(&"rows out of order"));
                }
                w.write_record(&row_cells).map_err(io)?;
                row_cells.clear();
                next_row = prev + 1;
            }
            // Empty rows in between keep the row numbers (the first row written is row 1's).
            for _ in next_row..r {
                w.write_record([""]).map_err(io)?;
            }
            row_at = Some(r);
        }
        let c = c as usize;
        if row_cells.len() <= c {
            row_cells.resize(c + 1, String::new());
        }
        row_cells[c] = cell_text(cell.get_value(), r == 0);
    }
    if row_at.is_some() {
        w.write_record(&row_cells).map_err(io)?;
    }
    let mut inner = w
        .into_inner()
        .map_err(|e| damaged(&e.error().to_string()))?;
    inner.flush().map_err(|e| damaged(&e))?;
    Ok(())
}

fn cell_text(v: &calamine::DataRef<'_>, header: bool) -> String {
    use calamine::DataRef;
    match v {
        DataRef::Empty => String::new(),
        DataRef::String(s) => header_text(s, header),
        DataRef::SharedString(s) => header_text(s, header),
        DataRef::Int(n) => n.to_string(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        DataRef::Float(f) => format!("{f:E}").replace("E", "E+").replace("E+-", "E-"),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) => excel_date(d.as_f64()),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => format!("#{e:?}"),
    }
}

/// The header may carry the template's "required" star.
fn header_text(s: &str, header: bool) -> String {
    if header {
        s.trim().trim_end_matches('*').to_string()
    } else {
        s.to_string()
    }
}

/// A date cell (Excel serial days since 1899-12-30) as `YYYY-MM-DD`.
pub fn excel_date(serial: f64) -> String {
    let days = serial.floor() as i64;
    let base = time::Date::from_calendar_date(1899, time::Month::December, 30).expect("valid date");
    match base.checked_add(time::Duration::days(days)) {
        Some(d) => format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day()),
        None => serial.to_string(),
    }
}

/// Whether a file starts like a zip archive (an .xlsx).
pub fn looks_like_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04")
}

/// A cell of an exported sheet.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

impl From<Option<String>> for Cell {
    fn from(s: Option<String>) -> Cell {
        s.map(Cell::Text).unwrap_or(Cell::Empty)
    }
}

/// Writes one sheet of an export row by row in constant memory (rows go to temporary files in
/// `tmp`, the spool directory, until [`SheetWriter::save`]). Text is written as text cells, never
/// as formulas, so a value starting with `=` stays a value.
pub struct SheetWriter {
    wb: rust_xlsxwriter::Workbook,
    row: u32,
}

impl SheetWriter {
    /// A workbook with one sheet named `name` and a bold, frozen header row of `(title, width)`.
    pub fn new(tmp: &Path, name: &str, headers: &[(&str, f64)]) -> Result<SheetWriter, String> {
        use rust_xlsxwriter::{Format, Workbook};
        let e = |e: rust_xlsxwriter::XlsxError| e.to_string();
        let mut wb = Workbook::new();
        wb.set_tempdir(tmp).map_err(e)?;
        let ws = wb.add_worksheet_with_constant_memory().map_err(e)?;
        ws.set_name(name).map_err(e)?;
        let bold = Format::new().set_bold();
        for (i, (title, width)) in headers.iter().enumerate() {
            let col = i as u16;
            ws.set_column_width(col, *width).map_err(e)?;
            ws.write_string_with_format(0, col, *title, &bold)
                .map_err(e)?;
        }
        ws.set_freeze_panes(1, 0).map_err(e)?;
        Ok(SheetWriter { wb, row: 1 })
    }

    /// Appends a row.
    pub fn row(&mut self, cells: Vec<Cell>) -> Result<(), String> {
        let e = |e: rust_xlsxwriter::XlsxError| e.to_string();
        let ws = self.wb.worksheet_from_index(0).map_err(e)?;
        for (i, c) in cells.into_iter().enumerate() {
            let col = i as u16;
            match c {
                Cell::Text(s) if !s.is_empty() => {
                    ws.write_string(self.row, col, s).map_err(e)?;
                }
                Cell::Number(n) => {
                    ws.write_number(self.row, col, n).map_err(e)?;
                }
                _ => {}
            }
        }
        self.row += 1;
        Ok(())
    }

    /// Rows written, the header not counted.
    pub fn rows(&self) -> u32 {
        self.row - 1
    }

    pub fn save(mut self, path: &Path) -> Result<(), String> {
        self.wb.save(path).map_err(|e| e.to_string())
    }
}

/// UTF-8 (with or without BOM), else GB18030 (which covers GBK, as Excel in China writes).
pub fn decode_text(bytes: &[u8]) -> crate::error::AppResult<String> {
    if bytes.starts_with(b"PK\x03\x04") {
        return Err(crate::error::AppError::field(
            "file",
            crate::error::Msg::new(
                "请上传 CSV 文件（Excel 请另存为 CSV）",
                "Upload a CSV file (save the workbook as CSV)",
            ),
        ));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => {
            let (t, _, bad) = encoding_rs::GB18030.decode(bytes);
            if bad {
                return Err(crate::error::AppError::field(
                    "file",
                    crate::error::Msg::new(
                        "文件编码无法识别（应为 UTF-8 或 GBK）",
                        "Unknown encoding (use UTF-8 or GBK)",
                    ),
                ));
            }
            t.into_owned()
        }
    };
    if text.contains('\0') {
        return Err(crate::error::AppError::field(
            "file",
            crate::error::Msg::new("文件不是文本文件", "The file is not a text file"),
        ));
    }
    if let Some(i) = text
        .lines()
        .position(crate::domain::text::has_forbidden_control)
    {
        let m = crate::domain::text::control_msg();
        return Err(crate::error::AppError::field(
            "file",
            crate::error::Msg::owned(
                format!("第 {} 行：{}", i + 1, m.zh),
                format!("Line {}: {}", i + 1, m.en),
            ),
        ));
    }
    Ok(text.trim_start_matches('\u{feff}').to_string())
}

/// An uploaded table as UTF-8 CSV text: a workbook's first sheet (checked against `limits`, through
/// a 0600 spool file under `data_dir` removed on every path; a damaged or oversized one is 422
/// `import.bad_workbook`), or a CSV in UTF-8 or GBK/GB18030.
pub fn upload_text(
    data_dir: &Path,
    limits: &Limits,
    bytes: &[u8],
) -> crate::error::AppResult<String> {
    use crate::error::AppError;
    if !looks_like_zip(bytes) {
        return decode_text(bytes);
    }
    let (mut spool, mut file) =
        crate::spool::Spool::create(data_dir, "upload", "xlsx").map_err(AppError::internal)?;
    file.write_all(bytes).map_err(AppError::internal)?;
    drop(file);
    let csv_path = spool.derived("xlsx.csv");
    xlsx_to_csv(spool.path(), &csv_path, limits).map_err(|msg| AppError::Rule {
        code: "import.bad_workbook",
        msg,
    })?;
    let text = std::fs::read(&csv_path).map_err(AppError::internal)?;
    Ok(String::from_utf8_lossy(&text).into_owned())
}

/// One data row of an uploaded table: its 1-based line (the header is line 1) and its cells in
/// the order of the columns asked for, trimmed; or a line the CSV reader could not read.
pub enum TableRow {
    Cells { row: u64, cells: Vec<String> },
    Unreadable { row: u64 },
}

/// The rows of a table (UTF-8 CSV text, as [`upload_text`] gives) under the columns asked for,
/// each `(Chinese header, English name, required)` and found by either name. Blank lines are
/// left out; a missing required column is a 422 naming it.
pub fn read_columns(
    text: &str,
    columns: &[(&str, &str, bool)],
) -> crate::error::AppResult<Vec<TableRow>> {
    use crate::error::{AppError, Msg};
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = rdr.records();
    let header: Vec<String> = match records.next() {
        Some(Ok(h)) => h.iter().map(|c| c.trim().to_string()).collect(),
        _ => {
            return Err(AppError::field(
                "file",
                Msg::new("文件没有表头", "The file has no header row"),
            ))
        }
    };
    let pos: Vec<Option<usize>> = columns
        .iter()
        .map(|(zh, en, _)| {
            header
                .iter()
                .position(|h| h == zh || h.eq_ignore_ascii_case(en))
        })
        .collect();
    let missing: Vec<&str> = columns
        .iter()
        .zip(&pos)
        .filter(|((_, _, required), p)| *required && p.is_none())
        .map(|((zh, _, _), _)| *zh)
        .collect();
    if !missing.is_empty() {
        return Err(AppError::field(
            "file",
            Msg::owned(
                format!("缺少列：{}（请使用模板）", missing.join("、")),
                format!("Missing columns: {} (use the template)", missing.join(", ")),
            ),
        ));
    }
    let mut out = vec![];
    for (i, rec) in records.enumerate() {
        let row = i as u64 + 2;
        let Ok(rec) = rec else {
            out.push(TableRow::Unreadable { row });
            continue;
        };
        let cells: Vec<String> = pos
            .iter()
            .map(|p| {
                p.and_then(|p| rec.get(p))
                    .map(|s| s.trim().to_string())
                    .unwrap_or_default()
            })
            .collect();
        if cells.iter().any(|c| !c.is_empty()) {
            out.push(TableRow::Cells { row, cells });
        }
    }
    Ok(out)
}

/// A one-sheet template workbook: the header (name, column width) and one example row of text,
/// made through a spool file under `data_dir` (removed when done).
pub fn template(
    data_dir: &Path,
    sheet: &str,
    heads: &[(&str, f64)],
    example: &[&str],
) -> Result<Vec<u8>, String> {
    let (spool, f) =
        crate::spool::Spool::create(data_dir, "template", "xlsx").map_err(|e| e.to_string())?;
    drop(f);
    let tmp = crate::spool::dir(data_dir);
    let mut w = SheetWriter::new(&tmp, sheet, heads)?;
    w.row(example.iter().map(|s| Cell::Text((*s).into())).collect())?;
    w.save(spool.path())?;
    std::fs::read(spool.path()).map_err(|e| e.to_string())
}

/// A CSV writer whose output opens correctly in Excel: UTF-8 with a byte-order mark. Every
/// template and CSV export starts here (`w.into_inner()` gives the bytes).
pub fn csv_for_excel() -> csv::Writer<Vec<u8>> {
    csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extents_of_ranges() {
        assert_eq!(range_extent("A1:XFD1048576"), Some((1_048_576, 16_384)));
        assert_eq!(range_extent("B3"), Some((3, 2)));
        assert_eq!(range_extent("$A$1:$C$10"), Some((10, 3)));
        assert_eq!(range_extent("nonsense"), None);
        assert_eq!(range_extent("ABCD1"), None);
    }

    #[test]
    fn dimension_attribute_is_found() {
        assert_eq!(
            dimension_ref(b" ref=\"A1:XFD1048576\"/"),
            Some("A1:XFD1048576".into())
        );
        assert_eq!(dimension_ref(b" ref='B2'"), Some("B2".into()));
    }

    #[test]
    fn scan_counts_cells_and_runs() {
        let xml = b"<worksheet><dimension ref=\"A1:B2\"/><sheetData><row r=\"1\"><c r=\"A1\"><v>1</v></c><c r=\"B1\" t=\"s\"><v>0</v></c></row></sheetData></worksheet>";
        let scan = scan_part(&mut &xml[..], 1 << 20, PartKind::FirstSheet).unwrap();
        assert_eq!(scan.elements, 2);
        assert_eq!(scan.dimension.as_deref(), Some("A1:B2"));
        let over = scan_part(&mut &xml[..], 10, PartKind::FirstSheet).unwrap();
        assert!(over.over_budget);
    }
}
