//! Reading the uploaded sheet (encoding, rows, field checks) and writing workbooks back: the
//! template, the report, the rejected rows.
use super::*;

/// Detects the encoding: valid UTF-8 throughout (with or without BOM), else GB18030 (a superset
/// of GBK, which Excel in China writes).
pub(super) fn detect_utf8(path: &Path) -> std::io::Result<bool> {
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
pub(super) fn transcode_gb18030(path: &Path) -> std::io::Result<PathBuf> {
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

pub(super) fn field_to_header(field: &str) -> String {
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
pub(super) enum Parsed {
    /// A blank line.
    Blank,
    Bad(u64, Vec<(String, String)>),
    Good(Box<Row>),
}

/// Reads the resident sheet row by row from disk.
pub(super) struct SheetReader {
    rdr: csv::Reader<BufReader<std::fs::File>>,
    index: HashMap<&'static str, usize>,
    record: csv::StringRecord,
    line: u64,
}

impl SheetReader {
    /// Opens the file; on a missing required column, returns the columns that are missing.
    pub(super) fn open(path: &Path) -> AppResult<Result<SheetReader, Vec<RowProblem>>> {
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

    pub(super) fn next(
        &mut self,
        keys: &Keys,
        buildings: &HashMap<String, Placement>,
    ) -> Option<Parsed> {
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
    let example = EXAMPLE_ROW;
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
