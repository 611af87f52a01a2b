//! Files sent for download — templates, exports, sheets, certificates, case attachments — in one
//! shape: the content type, `Content-Disposition` naming the file twice (an ASCII name for old
//! clients, the Chinese name as percent-encoded UTF-8 per RFC 6266/5987 for the rest) and
//! `X-Content-Type-Options: nosniff`, so a handler names its file once, in the words the user reads.
use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// CSV as gongzhi writes it (UTF-8 with a byte-order mark, so Excel reads it).
pub const CSV: &str = "text/csv; charset=utf-8";
/// The media type of an Excel workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A file to save: `ascii` is the name a client without RFC 5987 shows (other characters become
/// `_`), `name` the one the user reads ("志愿者导入模板.csv").
pub fn attachment(content_type: &str, ascii: &str, name: &str, body: impl Into<Body>) -> Response {
    file("attachment", content_type, ascii, name, body.into())
}

/// A file the browser may show in place (an image or a PDF of a case), named as [`attachment`].
pub fn inline(content_type: &str, name: &str, body: impl Into<Body>) -> Response {
    file("inline", content_type, name, name, body.into())
}

fn file(disposition: &str, content_type: &str, ascii: &str, name: &str, body: Body) -> Response {
    let header_value = format!(
        "{disposition}; filename=\"{}\"; filename*=UTF-8''{}",
        ascii_name(ascii),
        percent_encoded(name)
    );
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, header_value),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        body,
    )
        .into_response()
}

/// Letters, digits, `.`, `-` and `_` stay; anything else (a quote, a Chinese character) is `_`.
fn ascii_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// RFC 5987 `value-chars`: letters, digits, `.`, `-` and `_` as they are, every other byte `%XX`.
fn percent_encoded(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_a_file_for_old_and_new_clients() {
        let r = attachment(CSV, "volunteers-template.csv", "志愿者导入模板.csv", "x");
        let h = r.headers();
        assert_eq!(h[header::CONTENT_TYPE], CSV);
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(
            h[header::CONTENT_DISPOSITION],
            "attachment; filename=\"volunteers-template.csv\"; \
             filename*=UTF-8''%E5%BF%97%E6%84%BF%E8%80%85%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.csv"
        );
        let r = inline("application/pdf", "证明 \"1\".pdf", "x");
        assert_eq!(
            r.headers()[header::CONTENT_DISPOSITION],
            "inline; filename=\"____1_.pdf\"; filename*=UTF-8''%E8%AF%81%E6%98%8E%20%221%22.pdf"
        );
    }
}
