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

/// The content types accepted: images, PDF, office documents, text.
fn content_type_for(name: &str, bytes: &[u8]) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let ext = lower.rsplit('.').next().unwrap_or("");
    let by_magic = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"GIF8") {
        Some("image/gif")
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if bytes.starts_with(b"%PDF") {
        Some("application/pdf")
    } else {
        None
    };
    by_magic.or(match ext {
        "docx" => Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        "xlsx" => Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        "txt" | "csv" if std::str::from_utf8(bytes).is_ok() => Some("text/plain; charset=utf-8"),
        _ => None,
    })
}

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
    let ct = content_type_for(&name, bytes).ok_or_else(|| {
        AppError::field(
            "file",
            Msg::new(
                "只能上传图片（JPG/PNG/GIF/WebP）、PDF、Word/Excel 文档或文本文件",
                "Upload an image (JPG/PNG/GIF/WebP), a PDF, a Word/Excel document or a text file",
            ),
        )
    })?;
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

pub async fn download(state: &AppState, ctx: &Ctx, id: Uuid) -> AppResult<FileData> {
    #[derive(FromQueryResult)]
    struct F {
        name: String,
        content_type: String,
        data: Vec<u8>,
        created_by: Option<Uuid>,
    }
    let f: F = store::fetch_opt(
        &state.db,
        "SELECT name, content_type, data, created_by FROM files WHERE id = $1",
        vec![id.into()],
    )
    .await?
    .ok_or(AppError::NotFound)?;
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
