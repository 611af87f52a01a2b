//! Sheets an office already keeps: its volunteers (志愿者名册), party members (党员名册), the
//! legal entities of its area (法人单位名录), its party organisations and its dwellings (房屋台账,
//! empty ones included). Each row is the same request as the console's form
//! (`people::register_volunteer_in`, `people::create_member_in`, `quality::create_entity_in`), run
//! in a savepoint of one transaction, so a dry run checks every
//! rule the API checks and then rolls back; a commit writes every row or none; `commit_valid`
//! writes the good rows. People are found in the registry by ID number (blind index), never
//! created here: import residents first.
use std::collections::HashSet;

use sea_orm::{FromQueryResult, TransactionTrait};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::people::{self, NewMember, NewVolunteer};
use crate::app::registry::quality::{self, NewEntity};
use crate::app::registry::transfer::RowProblem;
use crate::app::{scope, AppState, Ctx};
use crate::domain::ids::IdCardNo;
use crate::domain::role::Permission;
use crate::error::{AppError, AppResult, Msg};
use crate::store;

/// The largest sheet accepted (bytes).
pub const MAX_FILE: usize = 4 << 20;
/// Rows per sheet.
pub const MAX_ROWS: usize = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    DryRun,
    Commit,
    CommitValid,
}

impl Mode {
    pub fn parse(s: Option<&str>) -> AppResult<Mode> {
        match s.unwrap_or("dry_run") {
            "dry_run" => Ok(Mode::DryRun),
            "commit" => Ok(Mode::Commit),
            "commit_valid" => Ok(Mode::CommitValid),
            _ => Err(AppError::field(
                "mode",
                Msg::new(
                    "mode 应为 dry_run、commit 或 commit_valid",
                    "mode must be dry_run, commit or commit_valid",
                ),
            )),
        }
    }
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct SheetReport {
    /// dry_run | committed | rejected
    pub status: String,
    pub rows: u64,
    pub ok_rows: u64,
    pub error_rows: u64,
    pub created: u64,
    /// Rows left out of a `commit_valid` import.
    pub skipped_rows: u64,
    pub problems: Vec<RowProblem>,
}

/// What a sheet holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Volunteers,
    PartyMembers,
    LegalEntities,
    /// The party organisation tree with its work units (单位党组织), parents before children.
    PartyOrgs,
    /// Dwellings on their own (房屋台账), empty ones included: the building by code, name or address.
    Dwellings,
}

impl Kind {
    /// (header, field, required)
    fn columns(self) -> &'static [(&'static str, &'static str, bool)] {
        match self {
            Kind::Volunteers => &[
                ("姓名", "name", true),
                ("证件号码", "id_no", true),
                ("技能", "skills", false),
                ("愿意服务", "willing", false),
                ("登录账号", "username", false),
            ],
            Kind::PartyMembers => &[
                ("姓名", "name", true),
                ("证件号码", "id_no", true),
                ("党组织", "org", true),
                ("党员类型", "kind", true),
                ("所在单位党组织", "work_unit_org", false),
                ("报到社区", "community", false),
                ("入党日期", "joined_on", true),
                ("党员状态", "status", false),
                ("技能", "skills", false),
            ],
            Kind::PartyOrgs => &[
                ("名称", "name", true),
                ("类型", "kind", true),
                ("上级党组织", "parent", false),
                ("所在区域", "area", true),
                ("关联区域", "links", false),
            ],
            Kind::LegalEntities => &[
                ("名称", "name", true),
                ("统一社会信用代码", "uscc", true),
                ("类型", "kind", true),
                ("所在楼栋或网格", "area", true),
                ("联系人", "contact_name", false),
                ("联系电话", "contact_mobile", false),
            ],
            Kind::Dwellings => &[
                ("楼栋", "building_id", true),
                ("单元", "unit", false),
                ("楼层", "floor", false),
                ("室号", "room", true),
                ("用途", "usage", false),
            ],
        }
    }

    /// The permission a sheet of this kind needs.
    pub fn permission(self) -> Permission {
        match self {
            Kind::Volunteers | Kind::PartyMembers => Permission::ManageService,
            Kind::LegalEntities | Kind::Dwellings => Permission::EditRegistry,
            Kind::PartyOrgs => Permission::EditPartyOrgs,
        }
    }

    /// The template: the header and one example row (CSV, UTF-8 with BOM for Excel).
    pub fn template(self) -> Vec<u8> {
        let mut w = crate::sheet::csv_for_excel();
        let _ = w.write_record(self.columns().iter().map(|c| c.0));
        let example: &[&str] = match self {
            Kind::Volunteers => &["王芳", "130602198805120028", "助老、理发", "是", ""],
            Kind::PartyMembers => &[
                "王芳",
                "130602198805120028",
                "朝阳社区党总支",
                "在职党员",
                "保定市第一中心医院党委",
                "朝阳社区",
                "2010-07-01",
                "正式",
                "义诊",
            ],
            Kind::PartyOrgs => &[
                "保定市第一中心医院党委",
                "单位党组织",
                "",
                "先锋街道",
                "朝阳社区、红旗社区",
            ],
            Kind::LegalEntities => &[
                "保定市朝阳便民超市有限公司",
                "91130602MA0XXXXXXX",
                "商铺",
                "130602001001001001",
                "李明",
                "13800138000",
            ],
            Kind::Dwellings => &["朝阳社区1号楼", "1", "3", "301", "空置"],
        };
        let _ = w.write_record(example);
        w.into_inner().unwrap_or_default()
    }
}

fn split_skills(s: &str) -> Vec<String> {
    s.split(['、', ',', '，', ';', '；', '/'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect()
}

/// 是/否 and their usual spellings.
fn yes_no(s: &str) -> Option<bool> {
    match s.trim() {
        "" => None,
        "是" | "愿意" | "Y" | "y" | "yes" | "Yes" | "1" | "true" | "√" => Some(true),
        "否" | "不愿意" | "N" | "n" | "no" | "No" | "0" | "false" | "×" => Some(false),
        _ => Some(true),
    }
}

/// `2010-07-01`, `2010/7/1`, `2010.7.1`, `2010年7月1日` → `2010-07-01`.
fn normal_date(s: &str) -> String {
    let t: String = s
        .trim()
        .replace(['/', '.', '年', '月'], "-")
        .replace('日', "");
    let p: Vec<&str> = t.split('-').filter(|x| !x.is_empty()).collect();
    match p[..] {
        [y, m, d] => format!("{y}-{m:0>2}-{d:0>2}"),
        _ => t,
    }
}

#[derive(FromQueryResult)]
struct Found {
    id: Uuid,
    name: String,
}

/// A resident of the registry by ID number, with the name the sheet gives.
async fn find_person<C: sea_orm::ConnectionTrait>(
    c: &C,
    state: &AppState,
    id_no: &str,
    name: &str,
) -> AppResult<Result<Uuid, Msg>> {
    let Ok(id) = IdCardNo::parse(id_no) else {
        return Ok(Err(Msg::new(
            "证件号码不正确",
            "The ID number is not valid",
        )));
    };
    let found: Option<Found> = store::fetch_opt(
        c,
        "SELECT id, name FROM persons WHERE id_no_bidx = $1 AND deleted_at IS NULL AND status = 'active'",
        vec![state.keys.blind_index("id_no", id.as_str()).into()],
    )
    .await?;
    Ok(match found {
        None => Err(Msg::new(
            "一户一档中没有此人，请先导入或登记居民",
            "No such resident in the registry; import or register them first",
        )),
        Some(f) if !name.is_empty() && f.name != name => Err(Msg::owned(
            format!(
                "姓名与一户一档不符（档案中为 {}）",
                crate::domain::ids::mask_name(&f.name)
            ),
            "The name differs from the registry's".to_string(),
        )),
        Some(f) => Ok(f.id),
    })
}

#[derive(FromQueryResult)]
struct Hit {
    id: Uuid,
    /// The area that decides whether the caller may see the row (an area's own id).
    area_id: Uuid,
    kind: String,
}

/// The one row of `sql` (selecting `id, area_id, kind` by `$1`) that the caller can see, or why
/// there is none (`none`) or no single one (`many`).
async fn one_visible<C: sea_orm::ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    sql: &str,
    text: &str,
    none: Msg,
    many: Msg,
) -> AppResult<Result<(Uuid, String), Msg>> {
    let rows: Vec<Hit> = store::fetch_all(c, sql, vec![text.to_string().into()]).await?;
    let mut seen = vec![];
    for h in rows {
        if scope::can_see(c, ctx, h.area_id).await? {
            seen.push((h.id, h.kind));
        }
    }
    Ok(match seen.len() {
        1 => Ok(seen.remove(0)),
        0 => Err(none),
        _ => Err(many),
    })
}

/// A party organisation by its exact name, among those the caller can see; with its kind.
async fn find_org<C: sea_orm::ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    name: &str,
) -> AppResult<Result<(Uuid, String), Msg>> {
    one_visible(
        c,
        ctx,
        "SELECT id, area_id, kind FROM party_orgs WHERE name = $1 ORDER BY id LIMIT 20",
        name,
        Msg::new("找不到这个党组织", "No such party organisation"),
        Msg::new(
            "有多个同名党组织，请写全称",
            "Several organisations have this name",
        ),
    )
    .await
}

/// An area by code, or by a name only one visible area of the kinds `kinds` (an SQL list) has.
async fn find_area_of<C: sea_orm::ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    kinds: &str,
    text: &str,
    none: Msg,
    many: Msg,
) -> AppResult<Result<Uuid, Msg>> {
    let sql = format!(
        "SELECT id, id AS area_id, kind FROM areas WHERE kind IN ({kinds}) AND (code = $1 OR name = $1) \
         ORDER BY code LIMIT 20"
    );
    Ok(one_visible(c, ctx, &sql, text, none, many)
        .await?
        .map(|(id, _)| id))
}

/// A community by code or name, among those the caller can see.
async fn find_community<C: sea_orm::ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    text: &str,
) -> AppResult<Result<Uuid, Msg>> {
    find_area_of(
        c,
        ctx,
        "'community'",
        text,
        Msg::new("找不到这个社区", "No such community"),
        Msg::new(
            "有多个同名社区，请填社区编码",
            "Several communities have this name; give the code",
        ),
    )
    .await
}

/// An area of any kind by code, or by a name only one visible area has.
async fn find_area<C: sea_orm::ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    text: &str,
) -> AppResult<Result<Uuid, Msg>> {
    find_area_of(
        c,
        ctx,
        "'province', 'city', 'district', 'street', 'community', 'grid', 'building'",
        text,
        Msg::new("找不到这个区域", "No such area"),
        Msg::new(
            "有多个同名区域，请改填区域编码",
            "Several areas have this name; give the code",
        ),
    )
    .await
}

/// A building or grid by code, or by a name only one visible building or grid has.
async fn find_place<C: sea_orm::ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    text: &str,
) -> AppResult<Result<Uuid, Msg>> {
    find_area_of(
        c,
        ctx,
        "'building', 'grid'",
        text,
        Msg::new(
            "找不到这个楼栋或网格（请填编码）",
            "No such building or grid (give its code)",
        ),
        Msg::new(
            "有多个同名楼栋或网格，请改填编码",
            "Several buildings or grids have this name; give the code",
        ),
    )
    .await
}

/// The column a field's error belongs to.
fn column_of(kind: Kind, field: &str) -> String {
    let f = match field {
        "person_id" => "id_no",
        "area_id" => "area",
        "parent_id" => "parent",
        "linked_area_ids" => "links",
        "org_id" => "org",
        "work_unit_org_id" => "work_unit_org",
        "community_id" => "community",
        f => f,
    };
    kind.columns()
        .iter()
        .find(|c| c.1 == f)
        .map(|c| c.0.to_string())
        .unwrap_or_default()
}

/// An error of a row's request as problems: field errors by column, others on the row.
fn problems_of(kind: Kind, e: AppError) -> AppResult<Vec<(String, Msg)>> {
    Ok(match e {
        AppError::Validation(errs) => errs
            .into_iter()
            .map(|(f, m)| (column_of(kind, &f), m))
            .collect(),
        AppError::Conflict { msg, .. } => vec![(String::new(), msg)],
        AppError::ConflictOn { field, msg } => vec![(column_of(kind, field), msg)],
        AppError::Rule { msg, .. } => vec![(String::new(), msg)],
        AppError::NotFound => vec![(
            String::new(),
            Msg::new("此人不在您负责的区域内", "This person is outside your area"),
        )],
        AppError::Forbidden { msg, .. } => vec![(String::new(), msg)],
        other => return Err(other),
    })
}

/// One party organisation row: its parent and areas by name or code (an earlier row of the same
/// file counts), then the form's own request.
async fn party_org_row(
    sp: &sea_orm::DatabaseTransaction,
    ctx: &Ctx,
    cells: &[String],
    problems: &mut Vec<(String, Msg)>,
) -> AppResult<()> {
    let kind = crate::domain::party::PartyOrgKind::ALL
        .into_iter()
        .find(|k| k.label_zh() == cells[1] || k.as_str() == cells[1])
        .map(|k| k.as_str().to_string())
        .unwrap_or_else(|| cells[1].clone());
    if let Ok((_, _)) = find_org(sp, ctx, &cells[0]).await? {
        problems.push((
            "名称".into(),
            Msg::new("已有同名党组织", "An organisation of this name exists"),
        ));
        return Ok(());
    }
    let parent = if cells[2].is_empty() {
        None
    } else {
        match find_org(sp, ctx, &cells[2]).await? {
            Ok((id, _)) => Some(id),
            Err(m) => {
                problems.push(("上级党组织".into(), m));
                None
            }
        }
    };
    let area = match find_area(sp, ctx, &cells[3]).await? {
        Ok(a) => Some(a),
        Err(m) => {
            problems.push(("所在区域".into(), m));
            None
        }
    };
    let mut links = vec![];
    for l in split_skills(&cells[4]) {
        match find_area(sp, ctx, &l).await? {
            Ok(a) => links.push(a),
            Err(m) => problems.push((
                "关联区域".into(),
                Msg::owned(format!("{l}：{}", m.zh), format!("{l}: {}", m.en)),
            )),
        }
    }
    let Some(area_id) = area else { return Ok(()) };
    if !problems.is_empty() {
        return Ok(());
    }
    let n = crate::app::party::NewPartyOrg {
        parent_id: parent,
        kind,
        name: cells[0].clone(),
        area_id,
        linked_area_ids: links,
    };
    crate::app::party::create_in(sp, ctx, &n).await.map(|_| ())
}

/// One dwelling row: the building by code, name or address, then the console form's request.
async fn dwelling_row(
    sp: &sea_orm::DatabaseTransaction,
    ctx: &Ctx,
    buildings: &std::collections::HashMap<String, crate::app::registry::Placement>,
    cells: &[String],
    problems: &mut Vec<(String, Msg)>,
) -> AppResult<()> {
    let Some(at) = crate::app::registry::transfer::find_building(buildings, &cells[0]) else {
        problems.push((
            "楼栋".into(),
            Msg::new(
                "找不到这个楼栋（请填楼栋编码、名称或地址）",
                "No such building (give its code, name or address)",
            ),
        ));
        return Ok(());
    };
    let floor = match cells[2].trim().trim_end_matches(['层', '楼', 'F', 'f']) {
        "" => None,
        f => match f.parse::<i32>() {
            Ok(n) => Some(n),
            Err(_) => {
                problems.push((
                    "楼层".into(),
                    Msg::new("楼层应为整数", "The floor must be a whole number"),
                ));
                return Ok(());
            }
        },
    };
    // Unit and room as written, like the residents' sheet, so both name a dwelling alike.
    let unit = cells[1].trim().to_string();
    let n = crate::app::registry::households::NewDwelling {
        building_id: at.area_id,
        unit,
        floor,
        room: cells[3].trim().to_string(),
        usage: if cells[4].trim().is_empty() {
            "other".into()
        } else {
            cells[4].clone()
        },
    };
    crate::app::registry::households::create_dwelling_in(sp, ctx, n)
        .await
        .map(|_| ())
}

/// The row's own problems: required cells, and a row naming the same thing as an earlier one.
fn row_problems(
    kind: Kind,
    cols: &[(&str, &str, bool)],
    cells: &[String],
    seen: &mut HashSet<String>,
) -> Vec<(String, Msg)> {
    let mut problems: Vec<(String, Msg)> = vec![];
    for (k, (zh, _, req)) in cols.iter().enumerate() {
        if *req && cells[k].is_empty() {
            problems.push((zh.to_string(), Msg::new("必填", "Required")));
        }
    }
    // The column that names the row: an ID number, a credit code, an organisation's name.
    let (key, name) = match kind {
        Kind::PartyOrgs => (cells[0].clone(), cols[0].0),
        // A dwelling is named by its building, unit and room.
        Kind::Dwellings => (
            format!("{}\u{1f}{}\u{1f}{}", cells[0], cells[1], cells[3]),
            cols[3].0,
        ),
        _ => (cells[1].clone(), cols[1].0),
    };
    let named = match kind {
        Kind::PartyOrgs => !cells[0].is_empty(),
        Kind::Dwellings => !cells[0].is_empty() && !cells[3].is_empty(),
        _ => !cells[1].is_empty(),
    };
    if named && !seen.insert(key.to_uppercase()) {
        problems.push((
            name.into(),
            Msg::new("与前面的行重复", "Repeats an earlier row"),
        ));
    }
    problems
}

/// Writes one row in a savepoint of its own (rolled back when the row turns out to have a problem).
#[allow(clippy::too_many_arguments)]
async fn write_row(
    tx: &sea_orm::DatabaseTransaction,
    state: &AppState,
    ctx: &Ctx,
    kind: Kind,
    buildings: &std::collections::HashMap<String, crate::app::registry::Placement>,
    cells: &[String],
    problems: &mut Vec<(String, Msg)>,
) -> AppResult<()> {
    // A volunteer or a party member is someone of the registry, found by ID number first.
    let person = match kind {
        Kind::Volunteers | Kind::PartyMembers => {
            match find_person(tx, state, &cells[1], &cells[0]).await? {
                Ok(p) => Some(p),
                Err(m) => {
                    problems.push(("证件号码".into(), m));
                    return Ok(());
                }
            }
        }
        _ => None,
    };
    let sp = tx.begin().await?;
    let done = match (kind, person) {
        (Kind::PartyOrgs, _) => party_org_row(&sp, ctx, cells, problems).await,
        (Kind::Dwellings, _) => dwelling_row(&sp, ctx, buildings, cells, problems).await,
        (Kind::LegalEntities, _) => entity_row(&sp, state, ctx, cells, problems).await?,
        (Kind::Volunteers, Some(person_id)) => {
            let n = NewVolunteer {
                person_id,
                skills: split_skills(&cells[2]),
                willing: yes_no(&cells[3]),
                username: Some(cells[4].clone()).filter(|u| !u.is_empty()),
            };
            people::register_volunteer_in(&sp, ctx, &n)
                .await
                .map(|_| ())
        }
        (Kind::PartyMembers, Some(person_id)) => {
            member_row(&sp, ctx, person_id, cells, problems).await?
        }
        (Kind::Volunteers | Kind::PartyMembers, None) => Ok(()),
    };
    settle(sp, done, kind, problems).await
}

/// A legal entity (法人/单位) in its building or grid.
async fn entity_row(
    sp: &sea_orm::DatabaseTransaction,
    state: &AppState,
    ctx: &Ctx,
    cells: &[String],
    problems: &mut Vec<(String, Msg)>,
) -> AppResult<AppResult<()>> {
    Ok(match find_place(sp, ctx, &cells[3]).await? {
        Err(m) => {
            problems.push(("所在楼栋或网格".into(), m));
            Ok(())
        }
        Ok(area_id) => {
            let e = NewEntity {
                area_id,
                dwelling_id: None,
                name: cells[0].clone(),
                uscc: cells[1].to_uppercase(),
                kind: entity_kind(&cells[2]).to_string(),
                contact_name: Some(cells[4].clone()).filter(|x| !x.is_empty()),
                contact_mobile: Some(cells[5].clone()).filter(|x| !x.is_empty()),
            };
            quality::create_entity_in(sp, &state.keys, ctx, &e)
                .await
                .map(|_| ())
        }
    })
}

/// A party member with their organisation, work unit and the community they report to.
async fn member_row(
    sp: &sea_orm::DatabaseTransaction,
    ctx: &Ctx,
    person_id: Uuid,
    cells: &[String],
    problems: &mut Vec<(String, Msg)>,
) -> AppResult<AppResult<()>> {
    let org = find_org(sp, ctx, &cells[2]).await?;
    let kind_code = match cells[3].as_str() {
        "在职党员" | "在职" | "in_service" => "in_service",
        "社区党员" | "社区" | "community" => "community",
        other => other,
    };
    let unit = if cells[4].is_empty() {
        Ok(None)
    } else {
        find_org(sp, ctx, &cells[4]).await?.map(|o| Some(o.0))
    };
    let community = if cells[5].is_empty() {
        Ok(None)
    } else {
        find_community(sp, ctx, &cells[5]).await?.map(Some)
    };
    let status = match cells[7].as_str() {
        "" | "正式" | "正式党员" | "full" => "full",
        "预备" | "预备党员" | "probationary" => "probationary",
        other => other,
    };
    Ok(match (org, unit, community) {
        (Ok((org_id, _)), Ok(work_unit_org_id), Ok(community_id)) => {
            let n = NewMember {
                person_id,
                org_id,
                kind: kind_code.to_string(),
                work_unit_org_id,
                community_id,
                joined_on: normal_date(&cells[6]),
                status: status.to_string(),
                skills: split_skills(&cells[8]),
            };
            people::create_member_in(sp, ctx, &n).await.map(|_| ())
        }
        (org, unit, community) => {
            if let Err(m) = org {
                problems.push(("党组织".into(), m));
            }
            if let Err(m) = unit {
                problems.push(("所在单位党组织".into(), m));
            }
            if let Err(m) = community {
                problems.push(("报到社区".into(), m));
            }
            Ok(())
        }
    })
}

/// Ends a row's savepoint: kept when the row's request went through without problems, rolled
/// back otherwise, the request's error turned into the row's problems.
async fn settle(
    sp: sea_orm::DatabaseTransaction,
    done: AppResult<()>,
    kind: Kind,
    problems: &mut Vec<(String, Msg)>,
) -> AppResult<()> {
    match done {
        Ok(()) if problems.is_empty() => sp.commit().await?,
        Ok(()) => sp.rollback().await?,
        Err(e) => {
            sp.rollback().await?;
            problems.extend(problems_of(kind, e)?);
        }
    }
    Ok(())
}

/// Counts a row and keeps its problems (at most 1,000 listed).
fn tally(report: &mut SheetReport, row: u64, problems: Vec<(String, Msg)>) {
    if problems.is_empty() {
        report.ok_rows += 1;
        return;
    }
    report.error_rows += 1;
    for (column, m) in problems {
        if report.problems.len() < 1_000 {
            report.problems.push(RowProblem {
                row,
                column,
                problem: format!("{} / {}", m.zh, m.en),
            });
        }
    }
}

/// 公司/商铺/… or the ids themselves.
fn entity_kind(s: &str) -> &str {
    match s.trim() {
        "公司" | "企业" => "company",
        "商铺" | "个体工商户" | "门店" => "shop",
        "学校" => "school",
        "医院" | "诊所" => "hospital",
        "社会组织" => "social_org",
        "机关" | "事业单位" | "机关事业单位" => "government",
        "其他" => "other",
        other => other,
    }
}

/// The gate an upload passes before its body is read: the caller holds the sheet's permission
/// somewhere (each row is then written through the service that checks and audits it).
pub fn admit(ctx: &Ctx, kind: Kind) -> AppResult<scope::Checked> {
    scope::require_any(ctx, kind.permission())
}

/// Checks (and with a commit mode, writes) a sheet; `_admitted` is [`admit`]'s proof.
#[tracing::instrument(name = "service::imports::run", skip_all)]
pub async fn run(
    state: &AppState,
    ctx: &Ctx,
    _admitted: scope::Checked,
    kind: Kind,
    bytes: &[u8],
    mode: Mode,
) -> AppResult<SheetReport> {
    if bytes.is_empty() {
        return Err(AppError::field(
            "file",
            Msg::new("文件为空", "The file is empty"),
        ));
    }
    let text = crate::sheet::upload_text(&state.settings.data_dir, &state.settings.sheet, bytes)?;
    let cols = kind.columns();
    let table = crate::sheet::read_columns(&text, cols)?;
    let mut report = SheetReport {
        status: "dry_run".into(),
        ..Default::default()
    };
    // The dwelling sheet names buildings by code, name or address: read them once.
    let buildings = if kind == Kind::Dwellings {
        crate::app::registry::transfer::editable_buildings(&state.db, ctx).await?
    } else {
        Default::default()
    };
    let bulk = store::Bulk::open(&state.db).await?;
    let r = async {
        let tx = store::write_tx(&bulk.db).await?;
        let mut seen: HashSet<String> = HashSet::new();
        for line in table {
            let (row, cells) = match line {
                crate::sheet::TableRow::Cells { row, cells } => (row, cells),
                crate::sheet::TableRow::Unreadable { row } => {
                    report.rows += 1;
                    report.error_rows += 1;
                    report.problems.push(RowProblem {
                        row,
                        column: String::new(),
                        problem: "这一行无法读取 / This row cannot be read".into(),
                    });
                    continue;
                }
            };
            report.rows += 1;
            if report.rows as usize > MAX_ROWS {
                return Err(AppError::field(
                    "file",
                    Msg::owned(
                        format!("一次最多导入 {MAX_ROWS} 行"),
                        format!("At most {MAX_ROWS} rows per sheet"),
                    ),
                ));
            }
            let mut problems = row_problems(kind, cols, &cells, &mut seen);
            if problems.is_empty() {
                write_row(&tx, state, ctx, kind, &buildings, &cells, &mut problems).await?;
            }
            tally(&mut report, row, problems);
        }
        if report.rows == 0 {
            return Err(AppError::field(
                "file",
                Msg::new("文件中没有数据行", "The file has no data rows"),
            ));
        }
        let write = match mode {
            Mode::DryRun => false,
            Mode::Commit => report.error_rows == 0,
            Mode::CommitValid => report.ok_rows > 0,
        };
        if write {
            tx.commit().await?;
            report.created = report.ok_rows;
            report.skipped_rows = report.error_rows;
            report.status = "committed".into();
        } else {
            tx.rollback().await?;
            if mode == Mode::Commit {
                report.status = "rejected".into();
            }
        }
        Ok::<(), AppError>(())
    }
    .await;
    bulk.finish().await;
    r?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn office_spellings() {
        assert_eq!(normal_date("2010/7/1"), "2010-07-01");
        assert_eq!(normal_date("2010年7月1日"), "2010-07-01");
        assert_eq!(normal_date("2010.07.01"), "2010-07-01");
        assert_eq!(
            split_skills("助老、理发,义诊"),
            vec!["助老", "理发", "义诊"]
        );
        assert_eq!(yes_no("否"), Some(false));
        assert_eq!(yes_no(""), None);
    }
}
