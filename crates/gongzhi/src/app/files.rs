//! Uploaded files (evidence photos, documents) kept in the database, up to 10 MiB each. A file
//! may be read by its uploader and by anyone who may see a case it is attached to.
use sea_orm::FromQueryResult;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::cases::query;
use super::{AppState, Ctx};
use crate::domain::{ms_to_rfc3339, new_id, now_ms};
use crate::error::{AppError, AppResult, Msg};
use crate::store;

pub const MAX_FILE: usize = 10 * 1024 * 1024;

#[derive(Debug, Serialize, ToSchema)]
pub struct FileInfo {
    pub id: Uuid,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: String,
}

/// The kinds of file accepted, each checked by its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Jpeg,
    Png,
    Gif,
    Webp,
    Pdf,
    Docx,
    Xlsx,
    Text,
}

impl Kind {
    fn by_extension(name: &str) -> Option<Kind> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        Some(match ext.as_str() {
            "jpg" | "jpeg" => Kind::Jpeg,
            "png" => Kind::Png,
            "gif" => Kind::Gif,
            "webp" => Kind::Webp,
            "pdf" => Kind::Pdf,
            "docx" => Kind::Docx,
            "xlsx" => Kind::Xlsx,
            "txt" | "csv" => Kind::Text,
            _ => return None,
        })
    }

    /// What the bytes are, by their magic numbers (and, for a zip, its main part).
    fn by_content(bytes: &[u8]) -> Option<Kind> {
        let riff_webp = bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP";
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Kind::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Kind::Png)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(Kind::Gif)
        } else if riff_webp {
            Some(Kind::Webp)
        } else if bytes.starts_with(b"%PDF-") {
            Some(Kind::Pdf)
        } else if bytes.starts_with(b"PK\x03\x04") {
            office_kind(bytes)
        } else if std::str::from_utf8(bytes).is_ok() {
            Some(Kind::Text)
        } else {
            None
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Kind::Jpeg => "image/jpeg",
            Kind::Png => "image/png",
            Kind::Gif => "image/gif",
            Kind::Webp => "image/webp",
            Kind::Pdf => "application/pdf",
            Kind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Kind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Kind::Text => "text/plain; charset=utf-8",
        }
    }
}

/// At most this much of `[Content_Types].xml` is read.
const CONTENT_TYPES_MAX: u64 = 256 * 1024;

/// A Word or Excel document: a zip whose `[Content_Types].xml` declares the main part of one and
/// which holds that part. Reads only the central directory and that one small part.
fn office_kind(bytes: &[u8]) -> Option<Kind> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).ok()?;
    let mut types = String::new();
    {
        let part = zip.by_name("[Content_Types].xml").ok()?;
        if part.size() > CONTENT_TYPES_MAX {
            return None;
        }
        part.take(CONTENT_TYPES_MAX)
            .read_to_string(&mut types)
            .ok()?;
    }
    let mains = [
        (
            Kind::Xlsx,
            "xl/workbook.xml",
            "spreadsheetml.sheet.main+xml",
        ),
        (
            Kind::Docx,
            "word/document.xml",
            "wordprocessingml.document.main+xml",
        ),
    ];
    mains.into_iter().find_map(|(kind, part, main_type)| {
        let declared = types.contains(&format!(
            "application/vnd.openxmlformats-officedocument.{main_type}"
        ));
        (declared && zip.index_for_name(part).is_some()).then_some(kind)
    })
}

/// The content type of an upload, from its content, which must agree with its name.
fn content_type_for(name: &str, bytes: &[u8]) -> Result<&'static str, Msg> {
    let named = Kind::by_extension(name).ok_or(Msg::new(
        "只能上传图片（JPG/PNG/GIF/WebP）、PDF、Word/Excel 文档（.docx/.xlsx）或文本文件（.txt/.csv）",
        "Upload an image (JPG/PNG/GIF/WebP), a PDF, a Word/Excel document (.docx/.xlsx) or a text file (.txt/.csv)",
    ))?;
    match Kind::by_content(bytes) {
        Some(found) if found == named => Ok(found.content_type()),
        _ => Err(Msg::new(
            "文件内容与扩展名不符（或文件已损坏），未上传",
            "The file's content does not match its extension (or the file is damaged); it was not uploaded",
        )),
    }
}

#[tracing::instrument(name = "files::upload", skip_all)]
pub async fn upload(state: &AppState, ctx: &Ctx, name: &str, bytes: &[u8]) -> AppResult<FileInfo> {
    if bytes.len() > MAX_FILE {
        return Err(AppError::PayloadTooLarge);
    }
    if bytes.is_empty() {
        return Err(AppError::field(
            "file",
            Msg::new("文件是空的", "The file is empty"),
        ));
    }
    let name = crate::domain::clean_name(name.rsplit(['/', '\\']).next().unwrap_or(name), 200)
        .map_err(|m| AppError::field("name", m))?;
    let ct = content_type_for(&name, bytes).map_err(|m| AppError::field("file", m))?;
    let id = new_id();
    let now = now_ms();
    let sha = crate::crypto::sha256_hex(bytes);
    store::exec(
        &state.db,
        "INSERT INTO files (id, name, content_type, size, sha256, data, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        vec![
            id.into(),
            name.clone().into(),
            ct.into(),
            (bytes.len() as i64).into(),
            sha.clone().into(),
            bytes.to_vec().into(),
            ctx.principal.actor_id().into(),
            now.into(),
        ],
    )
    .await?;
    Ok(FileInfo {
        id,
        name,
        content_type: ct.into(),
        size: bytes.len() as i64,
        sha256: sha,
        created_at: ms_to_rfc3339(now),
    })
}

pub struct FileData {
    pub name: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

impl FileData {
    /// Images (checked by content at upload) may show in the browser; everything else is a
    /// download. Never HTML or SVG: uploads of those are refused.
    pub fn inline(&self) -> bool {
        matches!(
            self.content_type.as_str(),
            "image/jpeg" | "image/png" | "image/gif" | "image/webp"
        )
    }
}

#[tracing::instrument(name = "files::download", skip_all)]
pub async fn download(state: &AppState, ctx: &Ctx, id: Uuid) -> AppResult<FileData> {
    #[derive(FromQueryResult)]
    struct F {
        name: String,
        content_type: String,
        data: Vec<u8>,
        created_by: Option<Uuid>,
    }
    let f: F = store::fetch_found(
        &state.db,
        "SELECT name, content_type, data, created_by FROM files WHERE id = $1",
        vec![id.into()],
    )
    .await?;
    let mut ok = f.created_by.is_some() && f.created_by == ctx.principal.actor_id();
    if !ok {
        #[derive(FromQueryResult)]
        struct C {
            case_id: Uuid,
        }
        let cases: Vec<C> = store::fetch_all(
            &state.db,
            "SELECT DISTINCT case_id FROM case_events WHERE attachments LIKE $1 LIMIT 20",
            vec![format!("%{id}%").into()],
        )
        .await?;
        let mine = super::cases::my_units(&state.db, ctx).await?;
        for c in cases {
            if let Some(row) = query::load(&state.db, c.case_id).await? {
                if query::access(&state.db, ctx, &row, &mine).await?.visible() {
                    ok = true;
                    break;
                }
            }
        }
    }
    if !ok {
        return Err(AppError::NotFound);
    }
    Ok(FileData {
        name: f.name,
        content_type: f.content_type,
        data: f.data,
    })
}
