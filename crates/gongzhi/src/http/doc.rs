//! The error answers of the OpenAPI document, added by construction rather than annotation by
//! annotation: every operation documents the 4xx it can give (400 always; 401 and 403 unless
//! public; 404 where it names something by id; 409 for writes; 413 and 422 for bodies; 422 for
//! parameters; 503 when the database is busy), each answering the one `Error` schema. What an
//! annotation already documents is kept; a bare one gets the `Error` body.
use std::collections::BTreeMap;

use utoipa::openapi::path::Operation;
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{PartialSchema, ToSchema};

/// The body of every error answer (docs/api.md, “Errors”).
#[derive(ToSchema)]
#[schema(as = Error)]
#[allow(dead_code)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct ErrorDetail {
    /// Machine-readable: `validation`, `not_found`, `conflict`, `auth.required`, `busy`, …
    code: String,
    /// For people: zh-CN by default, English with `Accept-Language: en`.
    message: String,
    /// Field → what is wrong with it (validation, or a conflict on one field); often empty.
    fields: BTreeMap<String, String>,
    /// The request's id, as in the `x-request-id` header and the server log.
    request_id: String,
}

/// (status, component name, description) of every error answer the document names.
const ANSWERS: [(&str, &str, &str); 9] = [
    (
        "400",
        "BadRequest",
        "请求无法读取 Bad request: not JSON, wrong content type",
    ),
    (
        "401",
        "Unauthorized",
        "未登录或凭据无效 Not signed in, or bad credentials",
    ),
    (
        "403",
        "Forbidden",
        "无权执行 Your role may not do this (or change your password first)",
    ),
    (
        "404",
        "NotFound",
        "不存在，或不在您的管辖范围内 Unknown id, or outside your scope",
    ),
    (
        "409",
        "Conflict",
        "冲突 Stale version, duplicate, wrong state, or still in use",
    ),
    (
        "413",
        "PayloadTooLarge",
        "内容过大 The body is over the limit",
    ),
    (
        "422",
        "Unprocessable",
        "输入有误 Wrong type or value (fields says which)",
    ),
    ("429", "TooManyRequests", "尝试过多 Too many attempts"),
    (
        "503",
        "Busy",
        "系统繁忙 The database is busy; retry (Retry-After)",
    ),
];

/// Adds the `Error` schema, one response component per status, and the error answers of every
/// operation.
pub fn document_errors(api: &mut OpenApi) {
    let components = api.components.get_or_insert_with(Default::default);
    components
        .schemas
        .insert(ErrorBody::name().into_owned(), ErrorBody::schema());
    components
        .schemas
        .insert(ErrorDetail::name().into_owned(), ErrorDetail::schema());
    for (_, name, description) in ANSWERS {
        components
            .responses
            .insert(name.to_string(), RefOr::T(error_response(description)));
    }
    for (path, item) in api.paths.paths.iter_mut() {
        let ops = [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("patch", &mut item.patch),
        ];
        for (method, op) in ops {
            if let Some(op) = op.as_mut() {
                add_errors(path, method, op);
            }
        }
    }
}

fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name("Error"))),
        )
        .build()
}

/// Whether an operation answers without a signed-in caller.
pub fn is_public(path: &str) -> bool {
    path == "/api/v1/auth/login" || path.starts_with("/api/v1/public/")
}

/// The error statuses an operation can answer (see the module's comment).
fn statuses(path: &str, method: &str, op: &Operation) -> Vec<&'static str> {
    let public = is_public(path);
    let body = op.request_body.is_some();
    let params = path.contains('{') || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let rules = [
        ("400", true),
        ("401", !public),
        ("403", !public),
        ("404", params || body),
        ("409", method != "get"),
        ("413", body),
        ("422", params || body),
        ("503", true),
    ];
    rules.into_iter().filter(|r| r.1).map(|r| r.0).collect()
}

fn add_errors(path: &str, method: &str, op: &mut Operation) {
    for status in statuses(path, method, op) {
        let name = ANSWERS
            .iter()
            .find(|a| a.0 == status)
            .map(|a| a.1)
            .unwrap_or("BadRequest");
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
    }
    // Error answers the annotations name without a body answer the `Error` body.
    for (status, resp) in op.responses.responses.iter_mut() {
        if let RefOr::T(r) = resp {
            let error = status.starts_with('4') || status.starts_with('5');
            if error && r.content.is_empty() {
                r.content.insert(
                    "application/json".into(),
                    RefOr::T(Content::new(Some(Ref::from_schema_name("Error")))),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    /// The schema names a file declares: each `ToSchema` type's name, or its `#[schema(as = …)]`,
    /// and the pages made by `page_of!`.
    fn schema_names(src: &str) -> Vec<String> {
        let mut names = vec![];
        let mut pending: Option<Option<String>> = None;
        let mut in_vocab = false;
        for line in src.lines().map(str::trim) {
            if line == "vocab!(" {
                in_vocab = true;
            } else if in_vocab && !line.starts_with("///") && !line.starts_with("#[") {
                in_vocab = false;
                names.push(line.split_whitespace().next().unwrap_or("").to_string());
            } else if line.starts_with("#[derive(") && line.contains("ToSchema") {
                pending = Some(None);
            } else if let Some(alias) = line.strip_prefix("#[schema(as = ") {
                if let Some(p) = pending.as_mut() {
                    let alias = alias
                        .trim_end_matches(")]")
                        .rsplit("::")
                        .next()
                        .unwrap_or("");
                    *p = Some(alias.to_string());
                }
            } else if let Some(p) = pending.take_if(|_| {
                line.starts_with("pub struct ")
                    || line.starts_with("pub enum ")
                    || line.starts_with("struct ")
                    || line.starts_with("enum ")
            }) {
                let declared =
                    line.split_whitespace()
                        .nth(if line.starts_with("pub") { 2 } else { 1 });
                let declared = declared
                    .unwrap_or("")
                    .split(['<', '{', '(', ';'])
                    .next()
                    .unwrap_or("");
                if !declared.starts_with('$') {
                    names.push(p.unwrap_or_else(|| declared.to_string()));
                }
            } else if let Some(rest) = line.strip_prefix("page_of!(") {
                let head = rest.split(',').next().unwrap_or("");
                if !head.starts_with('$') {
                    names.push(
                        head.rsplit(" as ")
                            .next()
                            .unwrap_or(head)
                            .trim()
                            .to_string(),
                    );
                }
            }
        }
        names
    }

    /// utoipa keeps only the last of two schemas with one name, so a collision silently documents
    /// one type with another's fields (as `Member`, `NewMember` and `RatingPage` once did).
    #[test]
    fn schema_names_are_unique() {
        let mut files = vec![];
        rust_files(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let mut seen: HashMap<String, PathBuf> = HashMap::new();
        let mut clashes = vec![];
        for f in files {
            let src = std::fs::read_to_string(&f).unwrap();
            for name in schema_names(&src) {
                if let Some(first) = seen.insert(name.clone(), f.clone()) {
                    clashes.push(format!("{name}: {} and {}", first.display(), f.display()));
                }
            }
        }
        assert!(clashes.is_empty(), "schema names used twice: {clashes:#?}");
        assert!(seen.len() > 100, "found only {} schema names", seen.len());
    }
}
