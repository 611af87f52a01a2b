//! Issue 12: the audit chain under concurrent readers and against someone holding the database,
//! and hostile spreadsheets (range bombs, deflate bombs, huge shared-string tables).
use std::io::Write;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;
use gongzhi::app::audit::{verify, write_checkpoint, Verdict};

const CHAOYANG_GRID: &str = "130602001001001";

/// 16 clients read one case at once (each read of the requester is audited), while others write:
/// no answer is a 5xx and the chain stays gap-free and verifies.
#[tokio::test]
async fn sixteen_concurrent_readers_and_writers_keep_the_audit_chain_intact() {
    let app = spawn_app().await;
    let shequ = app.demo_user("shequ").await;
    let jiedao = app.demo_user("jiedao").await;
    let admin = app.admin().await;
    let grid = app.area_id(CHAOYANG_GRID).await;
    let c = shequ
        .post(
            "/api/v1/cases",
            json!({
                "kind": "help",
                "category_code": "0602",
                "description": "楼道灯坏了",
                "location": {"area_id": grid},
                "requester": {"name": "孙丽", "phone": "13912345678"}
            }),
        )
        .await
        .expect_status(StatusCode::CREATED);
    let id = c.body["id"].as_str().unwrap().to_string();
    let before = app
        .count("SELECT COUNT(*) FROM audit_log WHERE action = 'case.read_requester'")
        .await;
    let community = app.area_id("130602001001").await;
    let mut tasks = vec![];
    for i in 0..16 {
        let reader = jiedao.clone();
        let writer = admin.clone();
        let path = format!("/api/v1/cases/{id}");
        let area = community.clone();
        tasks.push(tokio::spawn(async move {
            let mut statuses = vec![];
            for round in 0..6 {
                statuses.push(reader.get(&path).await.status);
                if i % 4 == 0 {
                    // A write that is audited too: renaming a tag-free area field back and forth.
                    let v = writer.get(&format!("/api/v1/areas/{area}")).await;
                    let version = v.body["version"].as_i64().unwrap_or(0);
                    let r = writer
                        .patch(
                            &format!("/api/v1/areas/{area}"),
                            json!({"version": version, "name": format!("朝阳社区{i}-{round}")}),
                        )
                        .await;
                    statuses.push(r.status);
                }
            }
            statuses
        }));
    }
    let mut reads_ok = 0i64;
    for t in tasks {
        for s in t.await.unwrap() {
            assert!(!s.is_server_error(), "an answer was {s}");
            // A concurrent rename may lose its optimistic lock (409); a read is always 200.
            if s == StatusCode::OK {
                reads_ok += 1;
            }
        }
    }
    assert!(reads_ok >= 96, "{reads_ok} answers 200");
    let audited = app
        .count("SELECT COUNT(*) FROM audit_log WHERE action = 'case.read_requester'")
        .await;
    assert_eq!(
        audited - before,
        96,
        "every read of the requester is audited once"
    );
    // Gap-free and intact.
    let (max, n) = (
        app.count("SELECT MAX(seq) FROM audit_log").await,
        app.count("SELECT COUNT(*) FROM audit_log").await,
    );
    assert_eq!(max, n, "sequence numbers have no gaps");
    assert!(matches!(
        verify(&app.state.db, &app.state.audit_key, None)
            .await
            .unwrap(),
        Verdict::Intact { .. }
    ));
}

/// What someone holding the database but not the key can do: alter a row and re-hash the rest
/// with plain SHA-256 (the old chain), or cut the newest rows and move the head back. Both are
/// found: the first by the key, the second by a signed checkpoint kept elsewhere.
#[tokio::test]
async fn a_rewritten_or_shortened_chain_is_detected_by_the_key_and_the_checkpoints() {
    let app = spawn_app().await;
    let a = app.admin().await;
    let area = app.area_id("130602001001").await;
    for i in 0..4 {
        let v = a.get(&format!("/api/v1/areas/{area}")).await.body["version"]
            .as_i64()
            .unwrap();
        a.patch(
            &format!("/api/v1/areas/{area}"),
            json!({"version": v, "name": format!("朝阳社区{i}")}),
        )
        .await;
    }
    let db = &app.state.db;
    let key = &app.state.audit_key;
    let dir = tempfile::tempdir().unwrap();
    let written = write_checkpoint(db, key, dir.path()).await.unwrap();
    assert!(written.is_some());
    assert!(matches!(
        verify(db, key, Some(dir.path())).await.unwrap(),
        Verdict::Intact { checkpoints: 1, .. }
    ));

    // 1. Alter a row, then re-hash it and every later row as an attacker without the key can.
    let target = app
        .count("SELECT MIN(seq) FROM audit_log WHERE action = 'area.update'")
        .await;
    gongzhi::store::exec(
        db,
        "UPDATE audit_log SET actor_name = 'mallory' WHERE seq = $1",
        vec![target.into()],
    )
    .await
    .unwrap();
    rehash_without_key(&app, target).await;
    match verify(db, key, None).await.unwrap() {
        Verdict::Broken { seq, .. } => assert_eq!(seq, target),
        v => panic!("a re-hashed chain verified: {v:?}"),
    }
}

#[tokio::test]
async fn a_chain_cut_short_is_found_by_a_signed_checkpoint() {
    let app = spawn_app().await;
    let _ = app.admin().await;
    let _ = app.admin().await;
    let db = &app.state.db;
    let key = &app.state.audit_key;
    let dir = tempfile::tempdir().unwrap();
    // The command line signs a checkpoint of the head into a directory kept elsewhere.
    let cli = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_gongzhi"))
            .args(args)
            .env("GONGZHI_DATABASE_URL", &app.state.settings.database_url)
            .env("GONGZHI_DATA_DIR", &app.state.settings.data_dir)
            .env("GONGZHI_MASTER_KEY", "11".repeat(32))
            .env("GONGZHI_AUDIT_KEY", AUDIT_KEY_HEX)
            .env("GONGZHI_LOG", "warn")
            .output()
            .unwrap()
    };
    let dir_s = dir.path().to_str().unwrap().to_string();
    let out = cli(&["audit", "checkpoint", "--dir", &dir_s]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ok = cli(&["audit", "verify", "--checkpoints", &dir_s]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    // Remove the newest row and move the head back to the row before: the keyed chain that is
    // left verifies on its own.
    let last = app.count("SELECT MAX(seq) FROM audit_log").await;
    #[derive(sea_orm::FromQueryResult)]
    struct H {
        hash: String,
    }
    let prev: H = gongzhi::store::fetch_opt(
        db,
        "SELECT hash FROM audit_log WHERE seq = $1",
        vec![(last - 1).into()],
    )
    .await
    .unwrap()
    .unwrap();
    gongzhi::store::exec(
        db,
        "DELETE FROM audit_log WHERE seq = $1",
        vec![last.into()],
    )
    .await
    .unwrap();
    gongzhi::store::exec(
        db,
        "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1",
        vec![(last - 1).into(), prev.hash.into()],
    )
    .await
    .unwrap();
    assert!(matches!(
        verify(db, key, None).await.unwrap(),
        Verdict::Intact { .. }
    ));
    match verify(db, key, Some(dir.path())).await.unwrap() {
        Verdict::Broken { problem, .. } => assert!(problem.contains("checkpoint"), "{problem}"),
        v => panic!("{v:?}"),
    }
    // `gongzhi audit verify --checkpoints` says so too, with exit code 1.
    let broken = cli(&["audit", "verify", "--checkpoints", &dir_s]);
    assert_eq!(
        broken.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&broken.stdout)
    );
    assert!(String::from_utf8_lossy(&broken.stdout).contains("checkpoint"));
    // A forged checkpoint (another key) is refused.
    let other = gongzhi::crypto::AuditKey::from_secret(&[9u8; 32]);
    let forged_dir = tempfile::tempdir().unwrap();
    write_checkpoint(db, &other, forged_dir.path())
        .await
        .unwrap();
    assert!(matches!(
        verify(db, key, Some(forged_dir.path())).await.unwrap(),
        Verdict::Broken { .. }
    ));
}

/// Re-hashes rows from `from` on with plain SHA-256 and moves the head, as the old, unkeyed
/// chain allowed.
async fn rehash_without_key(app: &TestApp, from: i64) {
    #[derive(sea_orm::FromQueryResult)]
    struct R {
        seq: i64,
        at: i64,
        actor_id: Option<uuid::Uuid>,
        actor_name: String,
        role: Option<String>,
        action: String,
        object_type: String,
        object_id: Option<String>,
        fields: String,
        client_addr: String,
        result: String,
        request_id: String,
        area_id: Option<uuid::Uuid>,
        detail: Option<String>,
        prev_hash: String,
    }
    let db = &app.state.db;
    let rows: Vec<R> = gongzhi::store::fetch_all(
        db,
        "SELECT seq, at, actor_id, actor_name, role, action, object_type, object_id, fields, \
         client_addr, result, request_id, area_id, detail, prev_hash FROM audit_log \
         WHERE seq >= $1 ORDER BY seq",
        vec![from.into()],
    )
    .await
    .unwrap();
    let mut prev = rows[0].prev_hash.clone();
    for r in &rows {
        let parts = [
            prev.clone(),
            r.seq.to_string(),
            r.at.to_string(),
            r.actor_id.map(|u| u.to_string()).unwrap_or_default(),
            r.actor_name.clone(),
            r.role.clone().unwrap_or_default(),
            r.action.clone(),
            r.object_type.clone(),
            r.object_id.clone().unwrap_or_default(),
            r.fields.clone(),
            r.client_addr.clone(),
            r.result.clone(),
            r.request_id.clone(),
            r.area_id.map(|u| u.to_string()).unwrap_or_default(),
            r.detail.clone().unwrap_or_default(),
        ];
        let hash = gongzhi::crypto::sha256_hex(parts.join("\u{1f}").as_bytes());
        gongzhi::store::exec(
            db,
            "UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3",
            vec![prev.clone().into(), hash.clone().into(), r.seq.into()],
        )
        .await
        .unwrap();
        prev = hash;
    }
    gongzhi::store::exec(
        db,
        "UPDATE audit_head SET hash = $1 WHERE id = 1",
        vec![prev.into()],
    )
    .await
    .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Hostile spreadsheets.

/// A workbook whose first sheet is `sheet`, deflated.
pub fn workbook(sheet: &[u8], shared: Option<&[u8]>) -> Vec<u8> {
    workbook_with(|w| w.write_all(sheet).unwrap(), shared)
}

/// A workbook whose first sheet's XML is written by `write_sheet`, streaming into the archive.
pub fn workbook_with(write_sheet: impl FnOnce(&mut dyn Write), shared: Option<&[u8]>) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut out);
        let opt = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1))
            .large_file(true);
        let ct = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>{}</Types>"#,
            if shared.is_some() {
                r#"<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>"#
            } else {
                ""
            }
        );
        let parts: Vec<(&str, Vec<u8>)> = vec![
            ("[Content_Types].xml", ct.into_bytes()),
            ("_rels/.rels", br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_vec()),
            ("xl/workbook.xml", br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_vec()),
            ("xl/_rels/workbook.xml.rels", format!(r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>{}</Relationships>"#, if shared.is_some() { r#"<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>"# } else { "" }).into_bytes()),
        ];
        for (name, content) in parts {
            z.start_file(name, opt).unwrap();
            z.write_all(&content).unwrap();
        }
        z.start_file("xl/worksheets/sheet1.xml", opt).unwrap();
        write_sheet(&mut z);
        if let Some(s) = shared {
            z.start_file("xl/sharedStrings.xml", opt).unwrap();
            z.write_all(s).unwrap();
        }
        z.finish().unwrap();
    }
    out.into_inner()
}

const SHEET_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#;

/// Two cells, A1 and XFD1048576: 1.5 KB that asks a range reader for the whole sheet.
pub fn range_bomb() -> Vec<u8> {
    let sheet = format!(
        r#"{SHEET_HEAD}<dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>"#
    );
    workbook(sheet.as_bytes(), None)
}

/// The same two cells without a declared range: the cell itself is beyond the limits.
pub fn range_bomb_undeclared() -> Vec<u8> {
    let sheet = format!(
        r#"{SHEET_HEAD}<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>"#
    );
    workbook(sheet.as_bytes(), None)
}

/// A sheet whose XML inflates to `mb` megabytes of padding.
pub fn deflate_bomb(mb: usize) -> Vec<u8> {
    let mut sheet = Vec::with_capacity(mb * 1024 * 1024 + 1024);
    sheet.extend_from_slice(SHEET_HEAD.as_bytes());
    sheet.extend_from_slice(b"<sheetData>");
    let row = b"<row><c><v>1</v></c></row>                                                      ";
    while sheet.len() < mb * 1024 * 1024 {
        sheet.extend_from_slice(row);
    }
    sheet.extend_from_slice(b"</sheetData></worksheet>");
    workbook(&sheet, None)
}

/// The same, written into the archive as it is made (1 GiB of XML never sits in memory).
pub fn deflate_bomb_streamed(mb: usize) -> Vec<u8> {
    workbook_with(
        |w| {
            w.write_all(SHEET_HEAD.as_bytes()).unwrap();
            w.write_all(b"<sheetData>").unwrap();
            let row =
                b"<row><c><v>1</v></c></row>                                                      ";
            let chunk: Vec<u8> = row.iter().cycle().take(row.len() * 8192).copied().collect();
            let mut written = 0;
            while written < mb * 1024 * 1024 {
                w.write_all(&chunk).unwrap();
                written += chunk.len();
            }
            w.write_all(b"</sheetData></worksheet>").unwrap();
        },
        None,
    )
}

/// A shared-string table of `n` entries.
pub fn shared_strings_bomb(n: usize) -> Vec<u8> {
    let mut s = Vec::with_capacity(n * 16 + 256);
    s.extend_from_slice(br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#);
    for _ in 0..n {
        s.extend_from_slice(b"<si><t>a</t></si>");
    }
    s.extend_from_slice(b"</sst>");
    let sheet = format!(
        r#"{SHEET_HEAD}<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>"#
    );
    workbook(sheet.as_bytes(), Some(&s))
}

async fn upload_persons(c: &Client, body: Vec<u8>) -> Resp {
    c.send_raw(
        reqwest::Method::POST,
        "/api/v1/import/persons?mode=dry_run",
        body,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    .await
}

#[tokio::test]
async fn hostile_workbooks_are_refused_with_a_reason_and_leave_no_spool_file() {
    let app = spawn_app().await;
    // A building head may import residents of the building: the weakest role that reaches it.
    let w = app.demo_user("shequ").await;
    let cases = [
        ("range bomb", range_bomb(), "XFD1048576"),
        (
            "undeclared range",
            range_bomb_undeclared(),
            "R1048576C16384",
        ),
        ("deflate bomb", deflate_bomb(210), "200 MB"),
        ("shared strings", shared_strings_bomb(1_000_001), "1000001"),
        (
            "not a workbook",
            b"PK\x03\x04 this is not a zip archive".to_vec(),
            "Excel",
        ),
    ];
    for (what, bytes, says) in cases {
        assert!(
            bytes.len() < 40 * 1024 * 1024,
            "{what}: {} bytes",
            bytes.len()
        );
        let r = upload_persons(&w, bytes.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{what}: {}",
            r.text
        );
        assert_eq!(r.body["error"]["code"], "import.bad_workbook", "{what}");
        assert!(
            r.text.contains(says),
            "{what}: the reason should name {says}: {}",
            r.text
        );
        // The same file through the 12345 import.
        let jiedao = app.demo_user("jiedao").await;
        if bytes.len() < 20 * 1024 * 1024 {
            let r = jiedao
                .send_raw(
                    reqwest::Method::POST,
                    "/api/v1/cases/import",
                    bytes,
                    "application/octet-stream",
                )
                .await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{what}: {}",
                r.text
            );
        }
    }
    let spool = gongzhi::spool::dir(&app.state.settings.data_dir);
    let left: Vec<_> = std::fs::read_dir(&spool)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "spool files left: {left:?}");
}

#[tokio::test]
async fn an_upload_above_the_import_limit_is_413_and_leaves_nothing() {
    let app = spawn_app_with(|s| s.import_max_bytes = 2 * 1024 * 1024).await;
    let w = app.demo_user("shequ").await;
    let r = w
        .send_raw(
            reqwest::Method::POST,
            "/api/v1/import/persons?mode=dry_run",
            vec![b'a'; 3 * 1024 * 1024],
            "text/csv",
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
    let spool = gongzhi::spool::dir(&app.state.settings.data_dir);
    let left = std::fs::read_dir(&spool).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0);
}
