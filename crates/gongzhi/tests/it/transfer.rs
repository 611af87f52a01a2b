//! Import and export of residents.
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

const HEADER: &str = "姓名,证件类型,证件号码,性别,出生日期,民族,手机号码,政治面貌,学历,职业,工作单位,户籍地,居住类型,特殊人群,楼栋编码,单元,室号,与户主关系,户类型,房屋用途";

async fn upload(c: &Client, mode: &str, body: Vec<u8>, content_type: &str) -> (StatusCode, Value) {
    let r = c
        .http
        .post(format!("{}/api/v1/import/persons?mode={mode}", c.base))
        .bearer_auth(c.token.as_deref().unwrap_or(""))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or_default())
}

fn problems_for(report: &Value, row: u64) -> Vec<String> {
    report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["row"] == row)
        .map(|p| {
            format!(
                "{}: {}",
                p["column"].as_str().unwrap(),
                p["problem"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn the_template_imports_and_re_importing_changes_nothing() {
    let app = spawn_app().await;
    let w = app.demo_user("shequ").await;
    let t = w
        .http
        .get(format!("{}/api/v1/import/templates/persons.csv", w.base))
        .bearer_auth(w.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(t.status(), StatusCode::OK);
    let template = t.bytes().await.unwrap().to_vec();
    assert_eq!(&template[..3], &[0xEF, 0xBB, 0xBF]);

    let (s, dry) = upload(&w, "dry_run", template.clone(), "text/csv; charset=utf-8").await;
    assert_eq!(s, StatusCode::OK, "{dry}");
    assert_eq!(dry["status"], "dry_run");
    assert_eq!(dry["rows"], 1);
    assert_eq!(dry["created"], 1, "{dry}");
    let persons_before = app.count("SELECT COUNT(*) FROM persons").await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM persons").await,
        persons_before,
        "a dry run writes nothing"
    );

    let (_, done) = upload(&w, "commit", template.clone(), "text/csv").await;
    assert_eq!(done["status"], "committed", "{done}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM persons").await,
        persons_before + 1
    );
    // The row's room became a dwelling and a household headed by the person.
    let r = w.get("/api/v1/persons?q=130602198805120028").await;
    let p = &r.body["items"][0];
    assert_eq!(p["name"], "王芳");
    // The demo's 1单元301 already has a head, so the imported person joins as 其他.
    assert_eq!(p["relation"], "other");
    assert!(p["address"].as_str().unwrap().contains("1单元301"), "{p}");

    let (_, again) = upload(&w, "commit", template, "text/csv").await;
    assert_eq!(again["status"], "committed");
    assert_eq!(again["unchanged"], 1, "{again}");
    assert_eq!(again["created"], 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM persons").await,
        persons_before + 1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM household_members WHERE to_date IS NULL AND person_id IN (SELECT id FROM persons WHERE name = '王芳' AND id_no_masked = '130***********0028')").await, 1);
}

#[tokio::test]
async fn every_bad_row_is_reported_and_nothing_is_half_written() {
    let app = spawn_app().await;
    let w = app.demo_user("shequ").await;
    let b = app.first_under("130602001001", "building").await.1;
    let ok = "130602199001010039";
    let bad_check = "130602199001010038";
    let lines = [
        HEADER.to_string(),
        format!("赵一,,{ok},,,,13800000001,,,,,,户籍,,{b},1,101,户主,户籍户,自住"),
        format!("赵二,,{bad_check},,,,,,,,,,户籍,,{b},1,102,户主,户籍户,自住"),
        "赵三,,13060219550505001X,,1955-05-06,,,,,,,,户籍,,130602001001001001,1,103,户主,户籍户,自住".to_string(),
        format!("赵四,,{ok},,,,,,,,,,户籍,,{b},1,104,户主,户籍户,自住"),
        format!("赵五,,130602201006060051,,,,,,,,,,外星,,{b},1,105,子女,户籍户,自住"),
        "赵六,,130602201006060051,,,,,,,,,,户籍,,999999999999999999,1,106,户主,户籍户,自住".to_string(),
    ];
    let body = lines.join("\n").into_bytes();
    let before = app.count("SELECT COUNT(*) FROM persons").await;
    let (s, rep) = upload(&w, "commit", body, "text/csv").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(rep["status"], "rejected", "{rep}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM persons").await,
        before,
        "all or nothing"
    );
    assert_eq!(rep["rows"], 6);
    assert!(
        problems_for(&rep, 3)
            .iter()
            .any(|p| p.starts_with("证件号码") && p.contains("校验位")),
        "{rep}"
    );
    assert!(
        problems_for(&rep, 4)
            .iter()
            .any(|p| p.starts_with("出生日期")),
        "{rep}"
    );
    assert!(
        problems_for(&rep, 5).iter().any(|p| p.contains("第 2 行")),
        "duplicate in file: {rep}"
    );
    assert!(
        problems_for(&rep, 6)
            .iter()
            .any(|p| p.starts_with("居住类型")),
        "{rep}"
    );
    assert!(
        problems_for(&rep, 7)
            .iter()
            .any(|p| p.starts_with("楼栋编码")),
        "{rep}"
    );
    assert!(problems_for(&rep, 2).is_empty());
}

#[tokio::test]
async fn missing_columns_broken_files_and_gbk_are_handled() {
    let app = spawn_app().await;
    let w = app.demo_user("shequ").await;
    let (_, rep) = upload(
        &w,
        "dry_run",
        "姓名,证件号码\n王芳,130602198805120028\n"
            .as_bytes()
            .to_vec(),
        "text/csv",
    )
    .await;
    assert_eq!(rep["status"], "rejected");
    let cols: Vec<&str> = rep["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["column"].as_str().unwrap())
        .collect();
    assert!(
        cols.contains(&"居住类型") && cols.contains(&"楼栋编码"),
        "{rep}"
    );

    // A file cut in the middle of a quoted field: a clear report, no 5xx.
    let truncated = format!("{HEADER}\n\"王芳,居民身份证,130602198805120028");
    let (s, rep) = upload(&w, "dry_run", truncated.into_bytes(), "text/csv").await;
    assert_eq!(s, StatusCode::OK, "{rep}");
    assert!(rep["error_rows"].as_u64().unwrap() >= 1, "{rep}");

    // GBK that claims to be UTF-8.
    let b = app.first_under("130602001001", "building").await.1;
    let text = format!(
        "{HEADER}\n钱七,,130602199001010039,,,,,,,,,,户籍,独居老人,{b},2,201,户主,户籍户,出租\n"
    );
    let (gbk, _, _) = encoding_rs::GBK.encode(&text);
    let (s, rep) = upload(&w, "dry_run", gbk.to_vec(), "text/csv; charset=utf-8").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(rep["encoding"], "gb18030", "{rep}");
    assert_eq!(rep["ok_rows"], 1, "{rep}");
    assert!(!rep["notes"].as_array().unwrap().is_empty());

    // Empty body, wrong mode, no rights.
    let (s, _) = upload(&w, "dry_run", vec![], "text/csv").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = upload(&w, "yolo", b"x".to_vec(), "text/csv").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let v = app.demo_user("zhiyuan").await;
    let (s, _) = upload(&v, "dry_run", b"x".to_vec(), "text/csv").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_large_file_is_streamed_and_checked() {
    let app = spawn_app().await;
    let w = app.demo_user("shequ").await;
    let b = app.first_under("130602001001", "building").await.1;
    // 20,000 rows, all valid, distinct numbers.
    let mut s = String::from(HEADER);
    s.push('\n');
    for i in 0..20_000u32 {
        // Beijing numbers: none of the demo residents has one.
        let id = beijing_id_no(i);
        s.push_str(&format!("居民{i},,{id},,,,,,,,,,常住,,{b},,,,,\n"));
    }
    let (st, rep) = upload(&w, "dry_run", s.into_bytes(), "text/csv").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(rep["rows"], 20_000);
    assert_eq!(rep["error_rows"], 0, "{}", rep["problems"]);
}

#[tokio::test]
async fn export_is_masked_scoped_and_formula_safe() {
    let app = spawn_app().await;
    let w = app.demo_user("shequ").await;
    let b = app.first_under("130602001001", "building").await.0;
    w
        .post("/api/v1/persons", serde_json::json!({"area_id": b, "name": "=HYPERLINK(\"http://x\")", "id_no": "130602199001010039", "mobile": "13800138000", "residence_type": "hukou", "tags": ["低保"]}))
        .await.expect_status(StatusCode::CREATED);
    let e = w
        .http
        .get(format!("{}/api/v1/export/persons.csv", w.base))
        .bearer_auth(w.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(e.status(), StatusCode::OK);
    assert!(e
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let bytes = e.bytes().await.unwrap();
    assert_eq!(&bytes[..3], &[0xEF, 0xBB, 0xBF]);
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert!(text.starts_with("姓名,证件类型,证件号码（脱敏）"));
    assert!(
        text.contains("\"'=HYPERLINK(\"\"http://x\"\")\""),
        "formula neutralised"
    );
    assert!(!text.contains("130602199001010039") && !text.contains("13800138000"));
    assert!(text.contains("130***********0039") && text.contains("138****8000"));
    assert!(
        text.contains("低保"),
        "the community worker may see sensitive tags"
    );
    let rows = text.lines().count() - 1;
    let in_scope = app.count("SELECT COUNT(*) FROM persons p WHERE p.deleted_at IS NULL AND p.status = 'active' AND p.community_id = (SELECT id FROM areas WHERE code = '130602001001')").await;
    assert_eq!(rows as i64, in_scope);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'export.persons'")
            .await,
        1
    );
    // Another community's area: 404.
    let other = app.area_id("130602002001").await;
    let r = w
        .get(&format!("/api/v1/export/persons.csv?area_id={other}"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_changed_row_updates_every_field_and_moves_the_person() {
    let app = spawn_app().await;
    let w = app.demo_user("shequ").await;
    let b = app.first_under("130602001001", "building").await.1;
    let row = |edu: &str, room: &str, date: &str| {
        format!("{HEADER}\n吴明,,130602199001010039,,{date},汉族,,群众,{edu},,,,户籍,,{b},1,{room},户主,户籍户,自住\n")
    };
    let (_, r) = upload(
        &w,
        "commit",
        row("本科", "9901", "1990/1/1").into_bytes(),
        "text/csv",
    )
    .await;
    assert_eq!(r["status"], "committed", "{r}");
    assert_eq!(r["created"], 1);
    let (_, r) = upload(
        &w,
        "commit",
        row("研究生", "9902", "1990-01-01").into_bytes(),
        "text/csv",
    )
    .await;
    assert_eq!(r["status"], "committed", "{r}");
    assert_eq!(r["updated"], 1, "{r}");
    let p = w.get("/api/v1/persons?q=130602199001010039").await;
    let p = &p.body["items"][0];
    assert_eq!(p["education"], "postgraduate");
    assert!(p["address"].as_str().unwrap().ends_with("1单元9902"), "{p}");
    let (_, r) = upload(
        &w,
        "commit",
        row("研究生", "9902", "1990-01-01").into_bytes(),
        "text/csv",
    )
    .await;
    assert_eq!(r["unchanged"], 1, "{r}");
    // Excel's scientific notation is explained.
    let bad = format!("{HEADER}\n吴明,,1.30602E+17,,,,,,,,,,户籍,,{b},,,,,\n");
    let (_, r) = upload(&w, "dry_run", bad.into_bytes(), "text/csv").await;
    assert!(
        r["problems"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("科学计数法"),
        "{r}"
    );
}

#[tokio::test]
async fn excel_workbooks_import_and_broken_ones_are_reported() {
    let app = spawn_app().await;
    let w = app.demo_user("shequ").await;
    let t = w
        .http
        .get(format!("{}/api/v1/import/templates/persons.xlsx", w.base))
        .bearer_auth(w.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(t.status(), StatusCode::OK);
    let xlsx = t.bytes().await.unwrap().to_vec();
    assert_eq!(&xlsx[..4], b"PK\x03\x04");
    let (s, rep) = upload(
        &w,
        "dry_run",
        xlsx.clone(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(rep["encoding"], "xlsx", "{rep}");
    assert_eq!(rep["rows"], 1, "{rep}");
    assert_eq!(rep["error_rows"], 0, "{rep}");
    // Cut in half: a clear report, nothing written, no 5xx.
    let before = app.count("SELECT COUNT(*) FROM persons").await;
    let (s, rep) = upload(
        &w,
        "commit",
        xlsx[..xlsx.len() / 2].to_vec(),
        "application/octet-stream",
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{rep}");
    assert_eq!(rep["error"]["code"], "import.bad_workbook", "{rep}");
    assert!(
        rep["error"]["message"].as_str().unwrap().contains("Excel"),
        "{rep}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM persons").await, before);
}

#[tokio::test]
async fn a_100_mb_file_gets_a_capped_report_and_changes_nothing() {
    // Above the default upload limit (50 MB): an office that raised it.
    let app = spawn_app_with(|s| s.import_max_bytes = 128 * 1024 * 1024).await;
    let w = app.demo_user("shequ").await;
    let b = app.first_under("130602001001", "building").await.1;
    // ~100 MB: rows whose occupation is far over its limit (each one an error).
    let long = "职".repeat(330);
    let mut s = String::from(HEADER);
    s.push('\n');
    let mut rows = 0u64;
    while s.len() < 100 * 1024 * 1024 {
        let id = beijing_id_no(rows as u32);
        s.push_str(&format!("居民{rows},,{id},,,,,,,{long},,,常住,,{b},,,,,\n"));
        rows += 1;
    }
    let before = app.count("SELECT COUNT(*) FROM persons").await;
    let (st, rep) = upload(&w, "commit", s.into_bytes(), "text/csv").await;
    assert_eq!(st, StatusCode::OK, "{rep}");
    assert_eq!(rep["status"], "rejected");
    assert_eq!(rep["rows"], rows);
    assert_eq!(rep["error_rows"], rows);
    // The report lists the first 1,000 problems; the counts cover every row.
    assert_eq!(rep["problems"].as_array().unwrap().len(), 1000);
    assert!(
        problems_for(&rep, 2).iter().any(|p| p.starts_with("职业")),
        "{}",
        rep["problems"][0]
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM persons").await, before);
}

#[tokio::test]
async fn the_row_report_downloads_as_a_workbook() {
    use calamine::Reader;
    let app = spawn_app().await;
    let w = app.demo_user("shequ").await;
    let b = app.first_under("130602001001", "building").await.1;
    let body = format!(
        "{HEADER}\n赵二,,130602199001010038,,,,,,,,,,户籍,,{b},1,102,户主,户籍户,自住\n=HYPERLINK(\"x\"),,130602199001010039,,,,,,,,,,外星,,{b},1,103,户主,户籍户,自住\n"
    );
    let r = w
        .http
        .post(format!(
            "{}/api/v1/import/persons?mode=dry_run&report=xlsx",
            w.base
        ))
        .bearer_auth(w.token.as_deref().unwrap())
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let bytes = r.bytes().await.unwrap().to_vec();
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(wb.sheet_names(), vec!["问题 Problems", "摘要 Summary"]);
    let sheet = wb.worksheet_range("问题 Problems").unwrap();
    let cells: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(cells[0], vec!["行号 Row", "列 Column", "问题 Problem"]);
    assert!(
        cells
            .iter()
            .any(|r| r[0] == "2" && r[1] == "证件号码" && r[2].contains("校验位")),
        "{cells:?}"
    );
    assert!(
        cells.iter().any(|r| r[0] == "3" && r[1] == "居住类型"),
        "{cells:?}"
    );
    let summary = wb.worksheet_range("摘要 Summary").unwrap();
    let text: Vec<String> = summary
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect();
    assert!(
        text.iter().any(|l| l == "有误 Rows with errors|2"),
        "{text:?}"
    );
    // An unknown report format is refused.
    let (s, _) = upload(&w, "dry_run&report=pdf", b"x".to_vec(), "text/csv").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn rows_of_one_room_make_one_dwelling_and_household_with_one_head() {
    let app = spawn_app().await;
    let w = app.demo_user("shequ").await;
    let b = app.first_under("130602001001", "building").await.1;
    let ids: Vec<String> = (0..3)
        .map(|i| {
            let first17 = format!("11010119700101{:03}", 10 + i);
            id_no(&first17)
        })
        .collect();
    let body = format!(
        "{HEADER}\n孙一,,{},,,,,,,,,,户籍,,{b},7,9901,户主,户籍户,自住\n孙二,,{},,,,,,,,,,户籍,,{b},7,9901,配偶,户籍户,自住\n孙三,,{},,,,,,,,,,户籍,,{b},7,9901,户主,户籍户,自住\n",
        ids[0], ids[1], ids[2]
    );
    let (s, rep) = upload(&w, "commit", body.clone().into_bytes(), "text/csv").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(rep["status"], "committed", "{rep}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM dwellings WHERE room = '9901' AND unit = '7'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM households h JOIN dwellings d ON d.id = h.dwelling_id WHERE d.room = '9901'").await,
        1
    );
    let heads = app
        .count("SELECT COUNT(*) FROM household_members m JOIN households h ON h.id = m.household_id JOIN dwellings d ON d.id = h.dwelling_id WHERE d.room = '9901' AND m.relation = 'head'")
        .await;
    assert_eq!(
        heads, 1,
        "one head; the second 户主 joins as another member"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM households h JOIN persons p ON p.id = h.head_person_id WHERE p.name = '孙一'").await,
        1
    );
    // The address is the community's, the building's, the unit's and the room's.
    assert!(
        app.count(
            "SELECT COUNT(*) FROM dwellings WHERE room = '9901' AND address LIKE '%7单元9901'"
        )
        .await
            == 1
    );
    // The same file again changes nothing.
    let (_, again) = upload(&w, "dry_run", body.into_bytes(), "text/csv").await;
    assert_eq!(again["unchanged"], 3, "{again}");
}

/// One bad row need not block the file: `commit_valid` writes the good rows and reports the bad
/// ones, and `report=rejects` gives those rows back in the file's own columns to fix.
#[tokio::test]
async fn good_rows_commit_and_bad_rows_come_back_as_a_sheet_to_fix() {
    let app = spawn_app().await;
    let w = app.demo_user("shequ").await;
    let b = app.first_under("130602001001", "building").await.1;
    let id = id_no;
    let (a, c) = (id("11010119800101001"), id("11010119800102001"));
    let csv = format!(
        "{HEADER}\n吴明,,{a},,,,,,,,,,户籍,,{b},1,101,户主,户籍户,自住\n\
         钱七,,{c},,,,,,,,,,户籍,,{b},1,102,户主,户籍户,自住\n\
         赵六,,12345,,,,,,,,,,户籍,,{b},1,103,户主,户籍户,自住\n"
    );
    let before = app.count("SELECT COUNT(*) FROM persons").await;
    // The whole-or-nothing commit refuses the file.
    let (st, rep) = upload(&w, "commit", csv.clone().into_bytes(), "text/csv").await;
    assert_eq!(st, StatusCode::OK, "{rep}");
    assert_eq!(rep["status"], "rejected");
    assert_eq!(app.count("SELECT COUNT(*) FROM persons").await, before);
    // The rows to fix, as a workbook.
    let r = w
        .http
        .post(format!(
            "{}/api/v1/import/persons?mode=dry_run&report=rejects",
            w.base
        ))
        .bearer_auth(w.token.as_deref().unwrap())
        .header("content-type", "text/csv")
        .body(csv.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap().to_vec();
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|x| x.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(rows.len(), 2, "the header and the one bad row: {rows:?}");
    assert_eq!(rows[0][0], "姓名");
    assert_eq!(rows[1][0], "赵六");
    assert!(rows[1].last().unwrap().contains("证件号码"), "{rows:?}");
    // Commit the good rows only.
    let (st, rep) = upload(&w, "commit_valid", csv.into_bytes(), "text/csv").await;
    assert_eq!(st, StatusCode::OK, "{rep}");
    assert_eq!(rep["status"], "committed", "{rep}");
    assert_eq!(rep["created"], 2, "{rep}");
    assert_eq!(rep["skipped_rows"], 1, "{rep}");
    assert_eq!(app.count("SELECT COUNT(*) FROM persons").await, before + 2);
    assert!(
        rep.get("bad_lines").is_none(),
        "internal field not in the answer"
    );
}

/// The spellings offices use in their own sheets are understood: 高中 for 高中/中专, 本人 for
/// 户主, 流动人口 for 流动, 党员 for 中共党员, a full-width space around a value.
#[tokio::test]
async fn common_spellings_are_accepted() {
    let app = spawn_app().await;
    let w = app.demo_user("shequ").await;
    let b = app.first_under("130602001001", "building").await.1;
    let first17 = "11010119800303001";
    let id = id_no(first17);
    let csv = format!(
        "{HEADER}\n孙悟,身份证,{id},男性,,,,党员,高中,,,,流动人口,独居,{b},1,301,本人,户籍户,出租房\n\
         猪八,,,,,,,,　大学本科　,,,,户籍,,{b},1,302,户主,户籍户,自住\n"
    );
    let (st, rep) = upload(&w, "dry_run", csv.into_bytes(), "text/csv").await;
    assert_eq!(st, StatusCode::OK, "{rep}");
    let problems = problems_for(&rep, 2);
    assert!(problems.is_empty(), "{problems:?}");
    // The second row fails only for its missing ID number, not for its education.
    let p3 = problems_for(&rep, 3);
    assert!(p3.iter().all(|p| !p.starts_with("学历")), "{p3:?}");
}

/// A building may be named as an office writes it: community and building, or a whole address.
#[tokio::test]
async fn buildings_may_be_named_instead_of_coded() {
    let app = spawn_app().await;
    let w = app.demo_user("shequ").await;
    #[derive(sea_orm::FromQueryResult)]
    struct B {
        name: String,
        community: String,
        street: String,
    }
    let b: B = app.one("SELECT b.name, c.name AS community, s.name AS street FROM areas b JOIN areas g ON g.id = b.parent_id \
         JOIN areas c ON c.id = g.parent_id JOIN areas s ON s.id = c.parent_id \
         WHERE b.kind = 'building' AND c.code = '130602001001' ORDER BY b.code LIMIT 1",
        vec![]).await;
    let id = id_no;
    let csv = format!(
        "{HEADER}\n甲,,{},,,,,,,,,,户籍,,{}{},,,,,\n乙,,{},,,,,,,,,,户籍,,竞秀区{}{} {},,,,,\n丙,,{},,,,,,,,,,户籍,,火星社区99号楼,,,,,\n",
        id("11010119800404001"),
        b.community,
        b.name,
        id("11010119800404002"),
        b.street,
        b.community,
        b.name,
        id("11010119800404003"),
    );
    let (st, rep) = upload(&w, "dry_run", csv.into_bytes(), "text/csv").await;
    assert_eq!(st, StatusCode::OK, "{rep}");
    assert!(problems_for(&rep, 2).is_empty(), "{rep}");
    assert!(problems_for(&rep, 3).is_empty(), "{rep}");
    assert!(
        problems_for(&rep, 4)
            .iter()
            .any(|p| p.starts_with("楼栋编码")),
        "{rep}"
    );
}

/// Issue 14: volunteers and party members from the sheets an office keeps, through the same
/// wizard: a dry run checks each row as the form would (people found by ID number in the
/// registry) and writes nothing; commit is all or nothing; commit_valid writes the good rows.
#[tokio::test]
async fn volunteers_and_party_members_come_from_sheets() {
    let app = spawn_app().await;
    let w = app.demo_user("shequ").await;
    let chaoyang = app.area_id("130602001001").await;
    #[derive(sea_orm::FromQueryResult)]
    struct P {
        name: String,
        id_no_enc: String,
    }
    let people: Vec<P> = gongzhi::store::fetch_all(
        &app.state.db,
        "SELECT name, id_no_enc FROM persons WHERE community_id = $1 AND status = 'active' AND deleted_at IS NULL \
         AND id_no_enc IS NOT NULL AND id NOT IN (SELECT person_id FROM volunteers) ORDER BY id LIMIT 4",
        vec![uuid::Uuid::parse_str(&chaoyang).unwrap().into()],
    )
    .await
    .unwrap();
    assert_eq!(people.len(), 4);
    let id = |p: &P| app.state.keys.decrypt(&p.id_no_enc).unwrap();
    let post = |path: String, body: String| {
        let w = w.clone();
        async move {
            w.send_raw(reqwest::Method::POST, &path, body.into_bytes(), "text/csv")
                .await
        }
    };
    let sheet = format!(
        "姓名,证件号码,技能,愿意服务\n{},{},助老、理发,是\n{},{},,否\n张冠李戴,{},,\n错号,12345,,\n",
        people[0].name,
        id(&people[0]),
        people[1].name,
        id(&people[1]),
        id(&people[2]),
    );
    let before = app.count("SELECT COUNT(*) FROM volunteers").await;
    let r = post(
        "/api/v1/import/volunteers?mode=dry_run".into(),
        sheet.clone(),
    )
    .await
    .expect_status(StatusCode::OK);
    assert_eq!(
        (r.body["ok_rows"].as_u64(), r.body["error_rows"].as_u64()),
        (Some(2), Some(2)),
        "{}",
        r.text
    );
    assert!(
        r.text.contains("姓名与一户一档不符") && r.text.contains("证件号码不正确"),
        "{}",
        r.text
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM volunteers").await,
        before,
        "a dry run writes nothing"
    );
    let r = post(
        "/api/v1/import/volunteers?mode=commit".into(),
        sheet.clone(),
    )
    .await;
    assert_eq!(r.body["status"], "rejected", "{}", r.text);
    assert_eq!(app.count("SELECT COUNT(*) FROM volunteers").await, before);
    let r = post(
        "/api/v1/import/volunteers?mode=commit_valid".into(),
        sheet.clone(),
    )
    .await;
    assert_eq!(
        (r.body["status"].as_str(), r.body["created"].as_u64()),
        (Some("committed"), Some(2)),
        "{}",
        r.text
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM volunteers").await,
        before + 2
    );
    // Again: the same people are volunteers already, a clear row problem, not a 500.
    let r = post("/api/v1/import/volunteers?mode=dry_run".into(), sheet).await;
    assert_eq!(r.body["ok_rows"], 0, "{}", r.text);

    // Party members: the organisation by name, 社区党员/在职党员, dates as offices write them.
    #[derive(sea_orm::FromQueryResult)]
    struct O {
        name: String,
    }
    let org: O = gongzhi::store::fetch_opt(
        &app.state.db,
        "SELECT name FROM party_orgs WHERE area_id = $1 AND kind <> 'unit' ORDER BY name LIMIT 1",
        vec![uuid::Uuid::parse_str(&chaoyang).unwrap().into()],
    )
    .await
    .unwrap()
    .expect("the community's party organisation");
    let sheet = format!(
        "姓名,证件号码,党组织,党员类型,所在单位党组织,报到社区,入党日期,党员状态,技能\n\
         {},{},{},社区党员,,,2010/7/1,预备,宣讲\n\
         {},{},{},在职党员,,,2012-07-01,正式,\n",
        people[2].name,
        id(&people[2]),
        org.name,
        people[3].name,
        id(&people[3]),
        org.name,
    );
    let members = app.count("SELECT COUNT(*) FROM party_members").await;
    let r = post(
        "/api/v1/import/party-members?mode=dry_run".into(),
        sheet.clone(),
    )
    .await;
    assert_eq!(
        (r.body["ok_rows"].as_u64(), r.body["error_rows"].as_u64()),
        (Some(1), Some(1)),
        "{}",
        r.text
    );
    assert_eq!(
        r.body["problems"][0]["column"], "所在单位党组织",
        "{}",
        r.text
    );
    let r = post(
        "/api/v1/import/party-members?mode=commit_valid".into(),
        sheet,
    )
    .await;
    assert_eq!(r.body["created"], 1, "{}", r.text);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM party_members").await,
        members + 1
    );
    let list = w.get("/api/v1/party-members?page_size=100").await;
    assert!(
        list.text.contains(&people[2].name),
        "{}",
        list.text.chars().take(300).collect::<String>()
    );
    // Templates, and a role without the permission.
    let t = w.get("/api/v1/import/templates/party-members.csv").await;
    assert!(t.text.contains("入党日期"));
    let g = app.demo_user("wangge").await;
    let r = g
        .send_raw(
            reqwest::Method::POST,
            "/api/v1/import/volunteers",
            b"x".to_vec(),
            "text/csv",
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

/// Issue 14: the area's legal entities (法人单位名录) from a sheet, through the same wizard.
#[tokio::test]
async fn legal_entities_come_from_a_sheet() {
    let app = spawn_app().await;
    let w = app.demo_user("shequ").await;
    let building = app.first_under("130602001001", "building").await.1;
    let code = |first17: &str| {
        format!(
            "{first17}{}",
            gongzhi::domain::ids::uscc_check_char(first17).unwrap()
        )
    };
    let (a, b) = (code("91130602MA0AAAAA1"), code("91130602MA0BBBBB2"));
    let sheet = format!(
        "名称,统一社会信用代码,类型,所在楼栋或网格,联系人,联系电话\n\
         朝阳便民超市,{a},商铺,{building},李明,13800138000\n\
         朝阳托育中心,{b},社会组织,{building},,\n\
         错码公司,91130602MA0CXXXXIO,公司,{building},,\n\
         外区公司,{c},公司,130606001001001001,,\n",
        c = code("91130602MA0CCCCC3"),
    );
    let post = |mode: &str| {
        let (w, body) = (w.clone(), sheet.clone());
        let path = format!("/api/v1/import/legal-entities?mode={mode}");
        async move {
            w.send_raw(reqwest::Method::POST, &path, body.into_bytes(), "text/csv")
                .await
        }
    };
    let before = app.count("SELECT COUNT(*) FROM legal_entities").await;
    let r = post("dry_run").await;
    assert_eq!(
        (r.body["ok_rows"].as_u64(), r.body["error_rows"].as_u64()),
        (Some(2), Some(2)),
        "{}",
        r.text
    );
    let cols: Vec<&str> = r.body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["column"].as_str().unwrap())
        .collect();
    assert!(
        cols.contains(&"统一社会信用代码") && cols.contains(&"所在楼栋或网格"),
        "{}",
        r.text
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM legal_entities").await,
        before
    );
    let r = post("commit_valid").await;
    assert_eq!(r.body["created"], 2, "{}", r.text);
    let list = w.get("/api/v1/legal-entities?page_size=100").await;
    assert!(
        list.text.contains("朝阳便民超市") && !list.text.contains("13800138000"),
        "masked"
    );
    let r = post("dry_run").await;
    assert!(
        r.text.contains("已登记"),
        "a second import names the codes already registered: {}",
        r.text
    );
}

/// Issue 14: the party organisation tree and the work units' organisations from a sheet, parents
/// before children (a row may name an organisation of an earlier row).
#[tokio::test]
async fn the_party_organisation_tree_comes_from_a_sheet() {
    let app = spawn_app().await;
    let j = app.demo_user("jiedao").await;
    #[derive(sea_orm::FromQueryResult)]
    struct O {
        name: String,
    }
    // The street's committee exists in the demo: new branches hang under it.
    let top: O = gongzhi::store::fetch_opt(
        &app.state.db,
        "SELECT o.name FROM party_orgs o JOIN areas a ON a.id = o.area_id WHERE a.code = '130602001000' AND o.kind = 'street_committee'",
        vec![],
    )
    .await
    .unwrap()
    .expect("the street committee");
    let sheet = format!(
        "名称,类型,上级党组织,所在区域,关联区域\n\
         保定市第二中学党总支,单位党组织,,130602001000,130602001001、朝阳社区\n\
         朝阳社区第二党总支,社区党总支,{0},130602001001,\n\
         朝阳二网格党支部,网格党支部,朝阳社区第二党总支,130602001001001,\n\
         错类型,党小组,,130602001000,\n\
         外区单位党委,单位党组织,,130606001000,\n\
         {0},街道党工委,,130602001000,\n",
        top.name
    );
    let post = |mode: &str| {
        let (j, body) = (j.clone(), sheet.clone());
        let path = format!("/api/v1/import/party-orgs?mode={mode}");
        async move {
            j.send_raw(reqwest::Method::POST, &path, body.into_bytes(), "text/csv")
                .await
        }
    };
    let before = app.count("SELECT COUNT(*) FROM party_orgs").await;
    let r = post("dry_run").await.expect_status(StatusCode::OK);
    assert_eq!(
        (r.body["ok_rows"].as_u64(), r.body["error_rows"].as_u64()),
        (Some(3), Some(3)),
        "{}",
        r.text
    );
    assert!(r.text.contains("已有同名党组织"), "{}", r.text);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM party_orgs").await,
        before,
        "a dry run writes nothing"
    );
    let r = post("commit").await;
    assert_eq!(r.body["status"], "rejected");
    let r = post("commit_valid").await;
    assert_eq!(r.body["created"], 3, "{}", r.text);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM party_orgs").await,
        before + 3
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM party_orgs c JOIN party_orgs p ON p.id = c.parent_id WHERE c.name = '朝阳二网格党支部' AND p.name = '朝阳社区第二党总支'").await,
        1,
        "the child hangs under the row above it"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM party_org_links l JOIN party_orgs o ON o.id = l.org_id WHERE o.name = '保定市第二中学党总支'").await,
        1,
        "the community it serves (named twice, by code and by name)"
    );
}

/// Issue 14: dwellings on their own (房屋台账, empty ones included), the building by its code or by
/// "社区 + 楼栋" as offices write it; bad rows named, the good ones committed with `commit_valid`.
#[tokio::test]
async fn empty_dwellings_come_from_a_sheet() {
    let app = spawn_app().await;
    let w = app.demo_user("shequ").await;
    let (building_id, code) = app.first_under("130602001001", "building").await;
    #[derive(sea_orm::FromQueryResult)]
    struct N {
        name: String,
        community: String,
    }
    let n: N = app
        .one(
            "SELECT b.name, c.name AS community FROM areas b JOIN areas g ON g.id = b.parent_id \
         JOIN areas c ON c.id = g.parent_id WHERE b.code = $1",
            vec![code.clone().into()],
        )
        .await;
    let by_name = format!("{}{}", n.community, n.name);
    let sheet = format!(
        "楼栋,单元,楼层,室号,用途\n\
         {code},9,30,9301,空置\n\
         {by_name},9,31,9311,\n\
         {code},9,30,9301,空置\n\
         不存在的楼,1,1,101,\n\
         {code},9,高层,9302,\n\
         130606001001001001,1,1,101,\n\
         {code},9,32,9321,别墅\n"
    );
    let post = |mode: &str| {
        let (w, body) = (w.clone(), sheet.clone());
        let path = format!("/api/v1/import/dwellings?mode={mode}");
        async move {
            w.send_raw(reqwest::Method::POST, &path, body.into_bytes(), "text/csv")
                .await
        }
    };
    let before = app.count("SELECT COUNT(*) FROM dwellings").await;
    let r = post("dry_run").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (r.body["ok_rows"].as_u64(), r.body["error_rows"].as_u64()),
        (Some(2), Some(5)),
        "{}",
        r.text
    );
    let cols: Vec<(u64, &str)> = r.body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["row"].as_u64().unwrap(), p["column"].as_str().unwrap()))
        .collect();
    for want in [
        (4, "室号"),
        (5, "楼栋"),
        (6, "楼层"),
        (7, "楼栋"),
        (8, "用途"),
    ] {
        assert!(cols.contains(&want), "{want:?} in {}", r.text);
    }
    let r = post("commit").await;
    assert_eq!(r.body["status"], "rejected", "{}", r.text);
    assert_eq!(app.count("SELECT COUNT(*) FROM dwellings").await, before);
    let r = post("commit_valid").await;
    assert_eq!(r.body["created"], 2, "{}", r.text);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM dwellings").await,
        before + 2
    );
    let list = w
        .get(&format!(
            "/api/v1/dwellings?area_id={building_id}&page_size=200"
        ))
        .await;
    assert!(
        list.text.contains("9301") && list.text.contains("9311"),
        "{}",
        list.text
    );
    assert!(list.text.contains("\"vacant\""), "usage kept");
    // Each dwelling's creation is audited, like the form's.
    assert!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'dwelling.create'")
            .await
            >= 2
    );
    // A second import names the dwellings already there.
    let r = post("dry_run").await;
    assert!(r.text.contains("已有此室号"), "{}", r.text);
    // The template downloads.
    let t = w.get("/api/v1/import/templates/dwellings.csv").await;
    assert!(t.status == 200 && t.text.contains("室号"));
}
