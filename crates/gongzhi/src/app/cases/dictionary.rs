//! The two-level category dictionary (事项分类), with its time limits, CSV import and export.
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::audit::Entry;
use crate::app::{scope, AppState, Ctx};
use crate::domain::calendar::{Limit, LimitUnit};
use crate::domain::cases::check_category_code;
use crate::domain::role::Permission;
use crate::domain::{clean_name, new_id, now_ms};
use crate::error::{AppError, AppResult, FieldErrors, Msg};
use crate::store::{self, Db};

/// A limit in the API: `{ "value": 2, "unit": "days" }`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LimitView {
    pub value: u32,
    /// hours (working hours) | days (working days)
    pub unit: String,
}

impl LimitView {
    fn from_short(s: &str) -> LimitView {
        match Limit::parse_short(s) {
            Some(l) => LimitView {
                value: l.value,
                unit: l.unit.as_str().into(),
            },
            None => LimitView {
                value: 0,
                unit: "days".into(),
            },
        }
    }
    fn check(&self, field: &str, errs: &mut FieldErrors) -> Option<Limit> {
        match LimitUnit::parse(&self.unit) {
            Some(unit) if (1..=1000).contains(&self.value) => Some(Limit {
                value: self.value,
                unit,
            }),
            _ => {
                errs.insert(
                    field.into(),
                    Msg::new(
                        "时限应为 1–1000 个工作小时（hours）或工作日（days）",
                        "A limit is 1–1000 working hours or working days",
                    ),
                );
                None
            }
        }
    }
}

#[derive(Debug, Serialize, ToSchema, Clone)]
pub struct Category {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub code: String,
    pub name: String,
    pub level: i32,
    pub response_limit: LimitView,
    pub handle_limit: LimitView,
    pub verify_limit: LimitView,
    pub return_visit_required: bool,
    pub active: bool,
    pub version: i32,
}

#[derive(FromQueryResult, Clone)]
pub struct CategoryRow {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub code: String,
    pub name: String,
    pub level: i32,
    pub response_limit: String,
    pub handle_limit: String,
    pub verify_limit: String,
    pub return_visit_required: bool,
    pub active: bool,
    pub version: i32,
}

pub const SELECT: &str = "SELECT id, parent_id, code, name, CAST(level AS INTEGER) AS level, \
    response_limit, handle_limit, verify_limit, return_visit_required, active, version FROM case_categories";

impl CategoryRow {
    pub fn view(self) -> Category {
        Category {
            response_limit: LimitView::from_short(&self.response_limit),
            handle_limit: LimitView::from_short(&self.handle_limit),
            verify_limit: LimitView::from_short(&self.verify_limit),
            id: self.id,
            parent_id: self.parent_id,
            code: self.code,
            name: self.name,
            level: self.level,
            return_visit_required: self.return_visit_required,
            active: self.active,
            version: self.version,
        }
    }
    pub fn limit(s: &str) -> Limit {
        Limit::parse_short(s).unwrap_or(Limit {
            value: 1,
            unit: LimitUnit::Days,
        })
    }
}

#[tracing::instrument(name = "cases::dictionary::by_code", skip_all)]
pub async fn by_code<C: ConnectionTrait>(c: &C, code: &str) -> AppResult<Option<CategoryRow>> {
    Ok(store::fetch_opt(c, &format!("{SELECT} WHERE code = $1"), vec![code.into()]).await?)
}

#[tracing::instrument(name = "cases::dictionary::list", skip_all)]
pub async fn list(db: &Db) -> AppResult<Vec<Category>> {
    let rows: Vec<CategoryRow> =
        store::fetch_all(db, &format!("{SELECT} ORDER BY code"), vec![]).await?;
    Ok(rows.into_iter().map(CategoryRow::view).collect())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    pub parent_id: Option<Uuid>,
    pub code: String,
    pub name: String,
    pub response_limit: LimitView,
    pub handle_limit: LimitView,
    pub verify_limit: LimitView,
    #[serde(default)]
    pub return_visit_required: bool,
}

#[tracing::instrument(name = "cases::dictionary::create", skip_all)]
pub async fn create(state: &AppState, ctx: &Ctx, input: NewCategory) -> AppResult<Category> {
    let checked = scope::require_global(ctx, Permission::ManageCaseDictionary)?;
    let tx = store::write_tx(&state.db).await?;
    let id = insert(&tx, ctx, &checked, &input).await?;
    tx.commit().await?;
    state.case_caches.clear();
    let row: CategoryRow = store::fetch_found(
        &state.db,
        &format!("{SELECT} WHERE id = $1"),
        vec![id.into()],
    )
    .await?;
    Ok(row.view())
}

async fn insert(
    c: &sea_orm::DatabaseTransaction,
    ctx: &Ctx,
    checked: &scope::Checked,
    input: &NewCategory,
) -> AppResult<Uuid> {
    let mut errs = FieldErrors::new();
    let name = clean_name(&input.name, 100)
        .map_err(|m| errs.insert("name".into(), m))
        .ok();
    let r = input.response_limit.check("response_limit", &mut errs);
    let h = input.handle_limit.check("handle_limit", &mut errs);
    let v = input.verify_limit.check("verify_limit", &mut errs);
    let parent: Option<CategoryRow> = match input.parent_id {
        None => None,
        Some(pid) => {
            let p: Option<CategoryRow> =
                store::fetch_opt(c, &format!("{SELECT} WHERE id = $1"), vec![pid.into()]).await?;
            match p {
                Some(p) if p.level == 1 => Some(p),
                Some(_) => {
                    errs.insert(
                        "parent_id".into(),
                        Msg::new("分类只有两级", "Categories have two levels only"),
                    );
                    None
                }
                None => {
                    errs.insert(
                        "parent_id".into(),
                        Msg::new("上级分类不存在", "The parent category does not exist"),
                    );
                    None
                }
            }
        }
    };
    let code = input.code.trim().to_string();
    if let Err(m) = check_category_code(&code, parent.as_ref().map(|p| p.code.as_str())) {
        errs.insert("code".into(), m);
    }
    let (Some(name), Some(r), Some(h), Some(v), true) = (name, r, h, v, errs.is_empty()) else {
        return Err(AppError::Validation(errs));
    };
    if by_code(c, &code).await?.is_some() {
        return Err(AppError::conflict_on(
            "code",
            Msg::owned(
                format!("编码 {code} 已被使用"),
                format!("The code {code} is taken"),
            ),
        ));
    }
    let id = new_id();
    let now = now_ms();
    store::exec(
        c,
        "INSERT INTO case_categories (id, parent_id, code, name, level, response_limit, handle_limit, \
         verify_limit, return_visit_required, active, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, TRUE, 1, $10, $10)",
        vec![
            id.into(),
            parent.as_ref().map(|p| p.id).into(),
            code.clone().into(),
            name.into(),
            (if parent.is_some() { 2i16 } else { 1i16 }).into(),
            r.to_short().into(),
            h.to_short().into(),
            v.to_short().into(),
            input.return_visit_required.into(),
            now.into(),
        ],
    )
    .await?;
    Entry::by(ctx, checked, "case_category.create", "case_category", id)
        .detail(code)
        .record(c)
        .await?;
    Ok(id)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryPatch {
    pub version: i32,
    pub name: Option<String>,
    pub response_limit: Option<LimitView>,
    pub handle_limit: Option<LimitView>,
    pub verify_limit: Option<LimitView>,
    pub return_visit_required: Option<bool>,
    pub active: Option<bool>,
}

#[tracing::instrument(name = "cases::dictionary::update", skip_all)]
pub async fn update(
    state: &AppState,
    ctx: &Ctx,
    id: Uuid,
    p: CategoryPatch,
) -> AppResult<Category> {
    let checked = scope::require_global(ctx, Permission::ManageCaseDictionary)?;
    let tx = store::write_tx(&state.db).await?;
    let cur: CategoryRow =
        store::fetch_found(&tx, &format!("{SELECT} WHERE id = $1"), vec![id.into()]).await?;
    AppError::stale_unless_same(cur.version, p.version)?;
    let mut errs = FieldErrors::new();
    let mut fields = vec![];
    let name = match &p.name {
        Some(n) => {
            fields.push("name");
            clean_name(n, 100)
                .map_err(|m| errs.insert("name".into(), m))
                .ok()
        }
        None => Some(cur.name.clone()),
    };
    let mut lim = |v: &Option<LimitView>, f: &'static str, cur: &str| match v {
        Some(l) => {
            fields.push(f);
            l.check(f, &mut errs).map(|l| l.to_short())
        }
        None => Some(cur.to_string()),
    };
    let r = lim(&p.response_limit, "response_limit", &cur.response_limit);
    let h = lim(&p.handle_limit, "handle_limit", &cur.handle_limit);
    let v = lim(&p.verify_limit, "verify_limit", &cur.verify_limit);
    let (Some(name), Some(r), Some(h), Some(v), true) = (name, r, h, v, errs.is_empty()) else {
        return Err(AppError::Validation(errs));
    };
    let n = store::exec(
        &tx,
        "UPDATE case_categories SET name = $1, response_limit = $2, handle_limit = $3, verify_limit = $4, \
         return_visit_required = $5, active = $6, version = version + 1, updated_at = $7 \
         WHERE id = $8 AND version = $9",
        vec![
            name.into(),
            r.into(),
            h.into(),
            v.into(),
            p.return_visit_required.unwrap_or(cur.return_visit_required).into(),
            p.active.unwrap_or(cur.active).into(),
            now_ms().into(),
            id.into(),
            p.version.into(),
        ],
    )
    .await?;
    AppError::stale_unless_changed(n)?;
    Entry::by(ctx, &checked, "case_category.update", "case_category", id)
        .fields(&fields)
        .record(&tx)
        .await?;
    let row: CategoryRow =
        store::fetch_found(&tx, &format!("{SELECT} WHERE id = $1"), vec![id.into()]).await?;
    tx.commit().await?;
    state.case_caches.clear();
    Ok(row.view())
}

pub use crate::sheet::decode_text;

/// CSV header of export and import.
pub const CSV_HEADER: &str = "code,name,parent_code,response,handle,verify,return_visit";

/// The dictionary as CSV (UTF-8 with BOM), limits written `2h` / `3d`.
#[tracing::instrument(name = "cases::dictionary::export_csv", skip_all)]
pub async fn export_csv(db: &Db) -> AppResult<Vec<u8>> {
    let rows: Vec<CategoryRow> =
        store::fetch_all(db, &format!("{SELECT} ORDER BY code"), vec![]).await?;
    let codes: std::collections::HashMap<Uuid, String> =
        rows.iter().map(|r| (r.id, r.code.clone())).collect();
    let mut w = crate::sheet::csv_for_excel();
    let _ = w.write_record(CSV_HEADER.split(','));
    for r in &rows {
        let parent = r
            .parent_id
            .and_then(|p| codes.get(&p).cloned())
            .unwrap_or_default();
        let _ = w.write_record([
            r.code.as_str(),
            &crate::app::registry::transfer::safe_cell(&r.name),
            &parent,
            &r.response_limit,
            &r.handle_limit,
            &r.verify_limit,
            if r.return_visit_required { "1" } else { "0" },
        ]);
    }
    w.into_inner().map_err(AppError::internal)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryImport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Imports the CSV of [`export_csv`]: new codes are created, existing ones updated (name and
/// limits). Parents must come before their children or exist already. All or nothing.
#[tracing::instrument(name = "cases::dictionary::import_csv", skip_all)]
pub async fn import_csv(state: &AppState, ctx: &Ctx, bytes: &[u8]) -> AppResult<CategoryImport> {
    let checked = scope::require_global(ctx, Permission::ManageCaseDictionary)?;
    let lines = read_lines(bytes)?;
    let tx = store::write_tx(&state.db).await?;
    let (mut created, mut updated, mut unchanged) = (0, 0, 0);
    for l in lines {
        match by_code(&tx, &l.code).await? {
            Some(cur) if l.same_as(&cur)? => unchanged += 1,
            Some(cur) => {
                l.update(&tx, &cur).await?;
                updated += 1;
            }
            None => {
                l.create(&tx, ctx, &checked).await?;
                created += 1;
            }
        }
    }
    Entry::by(ctx, &checked, "case_category.import", "case_category", None)
        .detail(format!("created {created}, updated {updated}"))
        .record(&tx)
        .await?;
    tx.commit().await?;
    state.case_caches.clear();
    Ok(CategoryImport {
        created,
        updated,
        unchanged,
    })
}

/// An error of the file, at its row.
fn row_err(line: usize, zh: String, en: String) -> AppError {
    AppError::field(
        "file",
        Msg::owned(format!("第 {line} 行：{zh}"), format!("Row {line}: {en}")),
    )
}

/// One row of a dictionary sheet.
struct CategoryLine {
    line: usize,
    code: String,
    name: String,
    parent_code: String,
    /// Response, handling and verification limits.
    limits: (Limit, Limit, Limit),
    return_visit: bool,
}

/// Reads the sheet (UTF-8 or GB18030): the header of [`CSV_HEADER`], then at most 2,000 rows;
/// rows without a code are skipped.
fn read_lines(bytes: &[u8]) -> AppResult<Vec<CategoryLine>> {
    let text = decode_text(bytes)?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = rdr
        .headers()
        .map(|h| h.iter().map(|c| c.trim().to_string()).collect())
        .unwrap_or_default();
    let want: Vec<&str> = CSV_HEADER.split(',').collect();
    if header.len() < want.len() || header.iter().zip(&want).any(|(a, b)| a != b) {
        return Err(AppError::field(
            "file",
            Msg::owned(
                format!("第 1 行应为表头：{CSV_HEADER}（可先导出一份作为模板）"),
                format!("Row 1 must be the header: {CSV_HEADER} (export one to use as a template)"),
            ),
        ));
    }
    let mut parsed = vec![];
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec =
            rec.map_err(|_| row_err(line, "不是有效的 CSV".into(), "not valid CSV".into()))?;
        let get = |k: usize| rec.get(k).unwrap_or("").trim().to_string();
        if get(0).is_empty() {
            continue;
        }
        let lim = |k: usize, what: &str| {
            let s = get(k);
            Limit::parse_short(&s).ok_or_else(|| {
                row_err(
                    line,
                    format!("{what}时限「{s}」应写成 2h（工作小时）或 3d（工作日）"),
                    format!("the {what} limit '{s}' must look like 2h or 3d"),
                )
            })
        };
        parsed.push(CategoryLine {
            line,
            code: get(0),
            name: get(1),
            parent_code: get(2),
            limits: (lim(3, "响应")?, lim(4, "办理")?, lim(5, "核查")?),
            return_visit: matches!(get(6).as_str(), "1" | "是" | "true" | "yes" | "Y" | "y"),
        });
    }
    if parsed.len() > 2000 {
        return Err(AppError::field(
            "file",
            Msg::new("最多 2000 个分类", "At most 2,000 categories"),
        ));
    }
    Ok(parsed)
}

impl CategoryLine {
    fn clean_name(&self) -> AppResult<String> {
        clean_name(&self.name, 100)
            .map_err(|m| row_err(self.line, m.zh.into_owned(), m.en.into_owned()))
    }

    /// Whether the row says what the dictionary already holds.
    fn same_as(&self, cur: &CategoryRow) -> AppResult<bool> {
        let (r, h, v) = self.limits;
        Ok(cur.name == self.clean_name()?
            && cur.response_limit == r.to_short()
            && cur.handle_limit == h.to_short()
            && cur.verify_limit == v.to_short()
            && cur.return_visit_required == self.return_visit)
    }

    /// Name, limits and return visit of an existing category (its code and place stay).
    async fn update<C: ConnectionTrait>(&self, c: &C, cur: &CategoryRow) -> AppResult<()> {
        let (r, h, v) = self.limits;
        store::exec(
            c,
            "UPDATE case_categories SET name = $1, response_limit = $2, handle_limit = $3, \
             verify_limit = $4, return_visit_required = $5, version = version + 1, updated_at = $6 WHERE id = $7",
            vec![
                self.clean_name()?.into(),
                r.to_short().into(),
                h.to_short().into(),
                v.to_short().into(),
                self.return_visit.into(),
                now_ms().into(),
                cur.id.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// A new category under its parent (which must exist already), checked as the API checks one.
    async fn create(
        &self,
        tx: &sea_orm::DatabaseTransaction,
        ctx: &Ctx,
        checked: &scope::Checked,
    ) -> AppResult<()> {
        let line = self.line;
        let parent_id = if self.parent_code.is_empty() {
            None
        } else {
            match by_code(tx, &self.parent_code).await? {
                Some(p) => Some(p.id),
                None => {
                    return Err(row_err(
                        line,
                        format!("上级编码 {} 不存在", self.parent_code),
                        format!("the parent code {} does not exist", self.parent_code),
                    ))
                }
            }
        };
        let lv = |l: Limit| LimitView {
            value: l.value,
            unit: l.unit.as_str().into(),
        };
        let (r, h, v) = self.limits;
        let input = NewCategory {
            parent_id,
            code: self.code.clone(),
            name: self.name.clone(),
            response_limit: lv(r),
            handle_limit: lv(h),
            verify_limit: lv(v),
            return_visit_required: self.return_visit,
        };
        insert(tx, ctx, checked, &input)
            .await
            .map_err(|e| match e {
                AppError::Validation(f) => match f.into_iter().next() {
                    Some((k, m)) => {
                        row_err(line, format!("{k}：{}", m.zh), format!("{k}: {}", m.en))
                    }
                    None => row_err(line, "有误".into(), "invalid".into()),
                },
                AppError::ConflictOn { msg, .. } => {
                    row_err(line, msg.zh.into_owned(), msg.en.into_owned())
                }
                other => other,
            })?;
        Ok(())
    }
}
