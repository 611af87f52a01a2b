//! Uploaded files: checked by content (magic bytes; a Word/Excel document's zip must hold its
//! main part), refused with 422 otherwise, and served as downloads with `nosniff`.
use reqwest::{Method, StatusCode};

use crate::helpers::*;

fn header<'a>(r: &'a Resp, name: &str) -> &'a str {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in parts {
        z.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap().into_inner()
}

fn workbook() -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    wb.add_worksheet().write_string(0, 0, "台账").unwrap();
    wb.save_to_buffer().unwrap()
}

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

async fn upload(c: &Client, name: &str, bytes: Vec<u8>) -> Resp {
    let path = format!("/api/v1/files?name={}", urlencode(name));
    c.send_raw(Method::POST, &path, bytes, "application/octet-stream")
        .await
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn uploads_are_checked_by_content_and_served_as_downloads() {
    let app = spawn_app().await;
    let c = app.demo_user("shequ").await;
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let no_main = zip_of(&[("[Content_Types].xml", b"<Types/>"), ("a.txt", b"x")]);
    let refused: [(&str, Vec<u8>); 7] = [
        ("台账.xlsx", noise),
        (
            "photo.png",
            b"<html><script>alert(1)</script></html>".to_vec(),
        ),
        ("报告.docx", no_main),
        ("报告.docx", workbook()),
        ("scan.png", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec()),
        ("page.html", b"<html></html>".to_vec()),
        (
            "logo.svg",
            b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(),
        ),
    ];
    for (name, bytes) in refused {
        let r = upload(&c, name, bytes).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: {}",
            r.text
        );
        assert!(
            r.body["error"]["fields"]["file"].is_string(),
            "{name}: {}",
            r.text
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM files").await, 0);

    let accepted = [
        ("photo.png", PNG.to_vec(), "image/png", "inline"),
        ("台账.xlsx", workbook(), "spreadsheetml.sheet", "attachment"),
        (
            "notes.txt",
            "走访记录".as_bytes().to_vec(),
            "text/plain",
            "attachment",
        ),
    ];
    for (name, bytes, ct, disposition) in accepted {
        let r = upload(&c, name, bytes).await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.text);
        assert!(r.body["content_type"].as_str().unwrap().contains(ct));
        let f = c
            .get(&format!("/api/v1/files/{}", r.body["id"].as_str().unwrap()))
            .await;
        assert_eq!(f.status, StatusCode::OK);
        assert!(header(&f, "content-type").contains(ct));
        assert!(
            header(&f, "content-disposition").starts_with(disposition),
            "{name}"
        );
        assert_eq!(header(&f, "x-content-type-options"), "nosniff");
    }
}
