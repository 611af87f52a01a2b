//! The resident export: masked, scoped, formula-safe CSV, page by page.
use super::*;

/// Neutralises spreadsheet formulas: a cell starting with = + - @ or a control character is
/// prefixed with an apostrophe.
pub fn safe_cell(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

pub const EXPORT_COLUMNS: &[&str] = &[
    "姓名",
    "证件类型",
    "证件号码（脱敏）",
    "性别",
    "出生日期",
    "民族",
    "手机号码（脱敏）",
    "政治面貌",
    "学历",
    "职业",
    "工作单位",
    "户籍地",
    "居住类型",
    "特殊人群",
    "地址",
    "与户主关系",
    "最近核实",
];

/// One page of the export (keyset by id), as CSV lines. Masked; sensitive tags only where the
/// caller may see them.
#[tracing::instrument(name = "registry::transfer::export_page", skip_all)]
pub async fn export_page(
    db: &Db,
    keys: &Keys,
    ctx: &Ctx,
    area: Option<Uuid>,
    after: Option<Uuid>,
    limit: u64,
) -> AppResult<(Vec<u8>, Option<Uuid>, usize)> {
    let mut w = super::super::list_where(ctx, "p", "area_id", area);
    w.and("p.status = 'active'", []);
    if let Some(a) = after {
        w.and("p.id > ?", [a.into()]);
    }
    let (cond, values) = w.build(1);
    let rows: Vec<persons::PersonRow> = store::fetch_all(
        db,
        &format!(
            "{} WHERE {cond} ORDER BY p.id LIMIT {limit}",
            persons::SELECT
        ),
        values,
    )
    .await?;
    let last = rows.last().map(|r| r.id);
    let n = rows.len();
    let mut out = Vec::with_capacity(n * 200);
    {
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(&mut out);
        let mut sensitive: HashMap<Uuid, bool> = HashMap::new();
        for r in rows {
            let see = match sensitive.get(&r.area_id) {
                Some(s) => *s,
                None => {
                    let s = scope::has_permission(db, ctx, Permission::RevealPersonal, r.area_id)
                        .await?;
                    sensitive.insert(r.area_id, s);
                    s
                }
            };
            let p = persons::view(r, keys, see);
            let label = |v: &vocab::Vocab, c: &Option<String>| {
                c.as_deref()
                    .and_then(|c| v.label(c))
                    .unwrap_or("")
                    .to_string()
            };
            let mut tags: Vec<String> = p
                .tags
                .iter()
                .filter_map(|t| vocab::TAGS.label(t))
                .map(str::to_string)
                .collect();
            if let Some(st) = &p.sensitive_tags {
                tags.extend(
                    st.iter()
                        .filter_map(|t| vocab::TAGS.label(t))
                        .map(str::to_string),
                );
            }
            let rec = [
                p.name.clone(),
                vocab::ID_TYPE.label(&p.id_type).unwrap_or("").to_string(),
                p.id_no_masked.clone().unwrap_or_default(),
                label(&vocab::GENDER, &p.gender),
                p.birth_date.clone().unwrap_or_default(),
                p.ethnicity.clone().unwrap_or_default(),
                p.mobile_masked.clone().unwrap_or_default(),
                label(&vocab::POLITICAL_STATUS, &p.political_status),
                label(&vocab::EDUCATION, &p.education),
                p.occupation.clone().unwrap_or_default(),
                p.work_unit.clone().unwrap_or_default(),
                p.hukou_place.clone().unwrap_or_default(),
                vocab::RESIDENCE_TYPE
                    .label(&p.residence_type)
                    .unwrap_or("")
                    .to_string(),
                tags.join("、"),
                p.address.clone().unwrap_or_default(),
                label(&vocab::RELATION, &p.relation),
                p.last_verified_at
                    .as_deref()
                    .and_then(crate::domain::rfc3339_to_ms)
                    .map(super::super::shanghai_date)
                    .unwrap_or_default(),
            ];
            let _ = w.write_record(rec.iter().map(|c| safe_cell(c)));
        }
        let _ = w.flush();
    }
    Ok((out, last, n))
}

/// The export's first bytes: BOM and header.
pub fn export_header() -> Vec<u8> {
    let mut w = crate::sheet::csv_for_excel();
    let _ = w.write_record(EXPORT_COLUMNS);
    w.into_inner().unwrap_or_default()
}

/// Checks the caller may export at all (and the area, when given), and audits the export.
#[tracing::instrument(name = "registry::transfer::start_export", skip_all)]
pub async fn start_export(db: &Db, ctx: &Ctx, area: Option<Uuid>) -> AppResult<()> {
    let mut checked = scope::require_any(ctx, Permission::ReadRegistry)?;
    if let Some(a) = area {
        checked = scope::require_permission(db, ctx, Permission::ReadRegistry, a).await?;
    }
    audit::record_alone(
        db,
        Entry::by(ctx, &checked, "export.persons", "person", None)
            .area(area)
            .fields(&EXPORT_COLUMNS.iter().copied().collect::<Vec<_>>()),
    )
    .await?;
    Ok(())
}
