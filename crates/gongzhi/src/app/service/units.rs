//! Work units (驻区单位) and certificates. A work-unit contact (a user or an API token linked in
//! `unit_contacts`) sees only the members whose work unit is theirs: report-ins, service, points,
//! rating; and downloads the annual sheet per unit or per member as XLSX or PDF. A volunteer-service
//! certificate (志愿服务记录证明, 民政部令第67号) is a snapshot at issue, checkable by its number.
use rand::RngCore;
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::pdf::{self, Pdf};
use super::{en, hours, page_of, Ctx};
use crate::app::audit::{self, Entry};
use crate::app::scope;
use crate::domain::calendar::{local_date, local_midnight_ms};
use crate::domain::ids::mask_name;
use crate::domain::points::Grade;
use crate::domain::role::Permission;
use crate::domain::{new_id, now_ms};
use crate::error::{AppError, AppResult, Msg};
use crate::store::{self, Db};

#[derive(Debug, Serialize, ToSchema, FromQueryResult, Clone)]
pub struct UnitRef {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ContactInput {
    /// The login of the unit's contact (role work_unit_contact).
    pub username: Option<String>,
    /// Or an API token, for the unit's own systems.
    pub token_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Contact {
    pub id: Uuid,
    pub org_id: Uuid,
    pub user_id: Option<Uuid>,
    pub token_id: Option<Uuid>,
}

/// Links a user or an API token to a unit organisation as its contact (street or system admin).
#[tracing::instrument(name = "service::units::add_contact", skip_all)]
pub async fn add_contact(db: &Db, ctx: &Ctx, org_id: Uuid, c: ContactInput) -> AppResult<Contact> {
    #[derive(FromQueryResult)]
    struct O {
        kind: String,
        area_id: Uuid,
    }
    let o: O = store::fetch_found(
        db,
        "SELECT kind, area_id FROM party_orgs WHERE id = $1",
        vec![org_id.into()],
    )
    .await?;
    let checked = scope::require_permission(db, ctx, Permission::EditPartyOrgs, o.area_id).await?;
    if o.kind != "unit" {
        return Err(AppError::Rule {
            code: "unit.not_unit",
            msg: Msg::new(
                "只有单位党组织可以设置单位联系人",
                "Only a unit organisation has work-unit contacts",
            ),
        });
    }
    #[derive(FromQueryResult)]
    struct U {
        id: Uuid,
    }
    let (user_id, token_id) = match (
        c.username
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty()),
        c.token_id,
    ) {
        (Some(u), None) => {
            let u: U = store::fetch_opt(
                db,
                "SELECT id FROM users WHERE username = $1",
                vec![u.to_string().into()],
            )
            .await?
            .ok_or_else(|| AppError::field("username", Msg::new("没有这个账号", "No such user")))?;
            (Some(u.id), None)
        }
        (None, Some(t)) => {
            if store::fetch_i64(
                db,
                "SELECT COUNT(*) FROM api_tokens WHERE id = $1 AND revoked_at IS NULL",
                vec![t.into()],
            )
            .await?
                == 0
            {
                return Err(AppError::field(
                    "token_id",
                    Msg::new("没有这个有效的接口令牌", "No such active API token"),
                ));
            }
            (None, Some(t))
        }
        _ => {
            return Err(AppError::field(
                "username",
                Msg::new(
                    "请填写账号或接口令牌（二选一）",
                    "Give either a username or a token",
                ),
            ))
        }
    };
    let id = new_id();
    let tx = store::write_tx(db).await?;
    let r = store::exec(
        &tx,
        "INSERT INTO unit_contacts (id, org_id, user_id, token_id, created_at) VALUES ($1, $2, $3, $4, $5)",
        vec![id.into(), org_id.into(), user_id.into(), token_id.into(), now_ms().into()],
    )
    .await;
    if let Err(e) = r {
        if crate::error::is_unique_violation(&e) {
            return Err(AppError::conflict_on(
                "username",
                Msg::new(
                    "这个账号（令牌）已经是某个单位的联系人",
                    "This login (token) is a unit's contact already",
                ),
            ));
        }
        return Err(e.into());
    }
    Entry::by(ctx, &checked, "add_contact", "party_org", org_id)
        .area(o.area_id)
        .record(&tx)
        .await?;
    tx.commit().await?;
    Ok(Contact {
        id,
        org_id,
        user_id,
        token_id,
    })
}

/// The unit whose members the caller may see: their own as a contact, or (for those who hold
/// `ReadService` where the unit's organisation is) the one asked for.
async fn unit_for<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    org_id: Option<Uuid>,
) -> AppResult<scope::Scoped<UnitRef>> {
    let own: Option<UnitRef> = store::fetch_opt(
        c,
        "SELECT o.id, o.name FROM unit_contacts uc JOIN party_orgs o ON o.id = uc.org_id WHERE uc.user_id = $1 OR uc.token_id = $2",
        vec![ctx.principal.user_id.into(), ctx.principal.token_id.into()],
    )
    .await?;
    match (own, org_id) {
        (Some(u), None) => Ok(scope::Scoped::new(u, scope::own(ctx))),
        (Some(u), Some(o)) if u.id == o => Ok(scope::Scoped::new(u, scope::own(ctx))),
        (_, Some(o)) => {
            #[derive(FromQueryResult)]
            struct O {
                id: Uuid,
                name: String,
                area_id: Uuid,
                kind: String,
            }
            let org: O = store::fetch_found(
                c,
                "SELECT id, name, area_id, kind FROM party_orgs WHERE id = $1",
                vec![o.into()],
            )
            .await?;
            let checked =
                scope::require_permission(c, ctx, Permission::ReadService, org.area_id).await?;
            if org.kind != "unit" {
                return Err(AppError::NotFound);
            }
            Ok(scope::Scoped::new(
                UnitRef {
                    id: org.id,
                    name: org.name,
                },
                checked,
            ))
        }
        (None, None) if scope::holds_any(ctx, Permission::ReadService) => Err(AppError::field(
            "org_id",
            Msg::new(
                "请选择要查看的单位党组织",
                "Choose the work unit's party organisation to look at",
            ),
        )),
        (None, None) => Err(AppError::Rule {
            code: "unit.no_unit",
            msg: Msg::new(
                "您的账号还没有关联单位党组织，请联系街道设置",
                "Your login is not linked to a work unit; ask the street office",
            ),
        }),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssessmentQuery {
    /// The year (Asia/Shanghai); the current year when omitted.
    pub year: Option<i32>,
    /// The unit (for street staff; a contact always gets their own).
    pub org_id: Option<Uuid>,
    /// `xlsx` or `pdf` for a download.
    pub format: Option<String>,
}

#[derive(Debug, Serialize, ToSchema, Clone)]
pub struct MemberSheet {
    pub member_id: Uuid,
    pub name: String,
    pub community_name: String,
    pub org_name: String,
    pub status: String,
    /// A report-in valid at the year's end (today, for the current year).
    pub reported_in: bool,
    pub last_reported_on: Option<String>,
    pub valid_until: Option<String>,
    /// Activities served in the year.
    pub activities: i64,
    pub hours: f64,
    /// Points earned in the year (earnings less deductions and reversals).
    pub points: i64,
    pub balance: i64,
    pub grade: Option<String>,
    pub grade_label: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Assessment {
    pub unit: UnitRef,
    pub year: i32,
    pub members: Vec<MemberSheet>,
}

async fn assessment_in<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    unit: UnitRef,
    year: i32,
    member: Option<Uuid>,
) -> AppResult<Assessment> {
    let start = time::Date::from_calendar_date(year, time::Month::January, 1)
        .map_err(|_| AppError::field("year", Msg::new("年度无效", "Invalid year")))?;
    let end = time::Date::from_calendar_date(year + 1, time::Month::January, 1)
        .map_err(|_| AppError::field("year", Msg::new("年度无效", "Invalid year")))?;
    let (t0, t1) = (local_midnight_ms(start), local_midnight_ms(end));
    let (d0, d1) = (format!("{year:04}-01-01"), format!("{year:04}-12-31"));
    #[derive(FromQueryResult)]
    struct R {
        member_id: Uuid,
        name: String,
        community_name: String,
        org_name: String,
        status: String,
        last_reported_on: Option<String>,
        report_valid_until: Option<String>,
        reported: i64,
        activities: i64,
        minutes: Option<i64>,
        points: Option<i64>,
        balance: i64,
        grade: Option<String>,
    }
    let day = super::ratings::rating_day(&d1);
    let mut values = vec![
        unit.id.into(),
        d0.into(),
        d1.into(),
        t0.into(),
        t1.into(),
        year.into(),
        day.into(),
    ];
    let extra = match member {
        Some(m) => {
            values.push(m.into());
            " AND m.id = $8"
        }
        None => "",
    };
    let rows: Vec<R> = store::fetch_all(
        c,
        &format!(
            "SELECT m.id AS member_id, p.name, a.name AS community_name, o.name AS org_name, m.status, m.last_reported_on, m.report_valid_until, \
             (SELECT COUNT(*) FROM report_ins r WHERE r.member_id = m.id AND r.reported_on <= $7 AND r.valid_until >= $7) AS reported, \
             (SELECT COUNT(DISTINCT h.activity_id) FROM service_hours h WHERE h.volunteer_id = v.id AND h.day >= $2 AND h.day <= $3 AND h.kind = 'service') AS activities, \
             (SELECT CAST(SUM(h.minutes) AS BIGINT) FROM service_hours h WHERE h.volunteer_id = v.id AND h.day >= $2 AND h.day <= $3) AS minutes, \
             (SELECT CAST(SUM(pp.amount) AS BIGINT) FROM point_postings pp WHERE pp.account_id = pa.id AND pp.at >= $4 AND pp.at < $5 AND pp.kind IN ('earn', 'deduct', 'reversal')) AS points, \
             pa.balance, (SELECT pr.grade FROM party_ratings pr WHERE pr.member_id = m.id AND pr.year = $6) AS grade \
             FROM party_members m JOIN volunteers v ON v.id = m.volunteer_id JOIN persons p ON p.street_id = v.street_id AND p.id = v.person_id \
             JOIN areas a ON a.id = m.community_id JOIN party_orgs o ON o.id = m.org_id JOIN point_accounts pa ON pa.volunteer_id = v.id \
             WHERE m.work_unit_org_id = $1{extra} ORDER BY p.name, m.id LIMIT 5000"
        ),
        values,
    )
    .await?;
    if member.is_some() && rows.is_empty() {
        return Err(AppError::NotFound);
    }
    let en = en(ctx);
    Ok(Assessment {
        unit,
        year,
        members: rows
            .into_iter()
            .map(|r| MemberSheet {
                member_id: r.member_id,
                name: r.name,
                community_name: r.community_name,
                org_name: r.org_name,
                status: r.status,
                reported_in: r.reported > 0,
                last_reported_on: r.last_reported_on,
                valid_until: r.report_valid_until,
                activities: r.activities,
                hours: hours(r.minutes.unwrap_or(0)),
                points: r.points.unwrap_or(0),
                balance: r.balance,
                grade_label: r
                    .grade
                    .as_deref()
                    .and_then(Grade::parse)
                    .map(|g| g.label(en).to_string()),
                grade: r.grade,
            })
            .collect(),
    })
}

fn year_of(q: &AssessmentQuery) -> AppResult<i32> {
    let y = q.year.unwrap_or(local_date(now_ms()).year());
    super::ratings::year_ok(y)?;
    Ok(y)
}

/// The unit's annual assessment as JSON (the console and the unit's systems). Audited.
#[tracing::instrument(name = "service::units::assessment", skip_all)]
pub async fn assessment(
    db: &Db,
    ctx: &Ctx,
    q: &AssessmentQuery,
    member: Option<Uuid>,
) -> AppResult<Assessment> {
    let year = year_of(q)?;
    let unit = unit_for(db, ctx, q.org_id).await?;
    let checked = unit.checked;
    let a = assessment_in(db, ctx, unit.row, year, member).await?;
    audit::record_alone(
        db,
        Entry::by(ctx, &checked, "read", "work_unit_assessment", a.unit.id)
            .detail(format!("year={year} members={}", a.members.len()))
            .fields(&["name", "hours", "points"]),
    )
    .await?;
    Ok(a)
}

/// A download: (file name, content type, bytes).
pub type Download = (String, &'static str, Vec<u8>);

#[tracing::instrument(name = "service::units::sheet", skip_all)]
pub async fn sheet(
    db: &Db,
    ctx: &Ctx,
    q: &AssessmentQuery,
    member: Option<Uuid>,
) -> AppResult<Download> {
    let a = assessment(db, ctx, q, member).await?;
    let fmt = q.format.as_deref().unwrap_or("xlsx");
    let base = match (member, a.members.first()) {
        (Some(_), Some(m)) => format!("{}-{}-{}年度考核表", a.unit.name, m.name, a.year),
        _ => format!("{}-{}年度党员下沉考核表", a.unit.name, a.year),
    };
    match fmt {
        "xlsx" => Ok((
            format!("{base}.xlsx"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            sheet_xlsx(&a).map_err(AppError::Internal)?,
        )),
        "pdf" => Ok((
            format!("{base}.pdf"),
            "application/pdf",
            sheet_pdf(&a, member.is_some()),
        )),
        _ => Err(AppError::field(
            "format",
            Msg::new("格式应为 xlsx 或 pdf", "The format is xlsx or pdf"),
        )),
    }
}

const HEADERS: [(&str, f32); 10] = [
    ("姓名", 52.0),
    ("报到社区", 70.0),
    ("党组织", 74.0),
    ("报到", 34.0),
    ("最近报到", 64.0),
    ("有效至", 64.0),
    ("活动", 30.0),
    ("时长(h)", 40.0),
    ("积分", 40.0),
    ("评议", 47.0),
];

fn cells(m: &MemberSheet) -> Vec<String> {
    vec![
        m.name.clone(),
        m.community_name.clone(),
        m.org_name.clone(),
        if m.reported_in {
            "已报到".into()
        } else {
            "未报到".into()
        },
        m.last_reported_on.clone().unwrap_or_default(),
        m.valid_until.clone().unwrap_or_default(),
        m.activities.to_string(),
        format!("{:.1}", m.hours),
        m.points.to_string(),
        m.grade_label.clone().unwrap_or_else(|| "未评议".into()),
    ]
}

fn sheet_xlsx(a: &Assessment) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format, Workbook};
    let e = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let mut wb = Workbook::new();
    let head = Format::new().set_bold().set_background_color("#F2F2F2");
    let title = Format::new().set_bold().set_font_size(14);
    let sheet = wb
        .add_worksheet()
        .set_name(format!("{}年度", a.year))
        .map_err(e)?;
    sheet
        .write_string_with_format(
            0,
            0,
            format!("{} {} 年度在职党员下沉社区考核表", a.unit.name, a.year),
            &title,
        )
        .map_err(e)?;
    sheet
        .write_string(
            1,
            0,
            format!("生成时间 {}（北京时间）", super::ymd(local_date(now_ms()))),
        )
        .map_err(e)?;
    for (c, (h, w)) in HEADERS.iter().enumerate() {
        sheet
            .write_string_with_format(3, c as u16, *h, &head)
            .map_err(e)?;
        sheet
            .set_column_width(c as u16, f64::from(*w) / 5.0)
            .map_err(e)?;
    }
    for (i, m) in a.members.iter().enumerate() {
        let row = 4 + i as u32;
        for (c, v) in cells(m).into_iter().enumerate() {
            match c {
                6..=8 => sheet
                    .write_number(row, c as u16, v.parse::<f64>().unwrap_or(0.0))
                    .map_err(e)?,
                _ => sheet.write_string(row, c as u16, v).map_err(e)?,
            };
        }
    }
    sheet.set_freeze_panes(4, 0).map_err(e)?;
    wb.save_to_buffer().map_err(e)
}

fn sheet_pdf(a: &Assessment, one: bool) -> Vec<u8> {
    let mut doc = Pdf::new();
    let rows: Vec<Vec<String>> = a.members.iter().map(cells).collect();
    let title = if one {
        format!("{} 年度在职党员下沉社区考核表（个人）", a.year)
    } else {
        format!("{} 年度在职党员下沉社区考核表", a.year)
    };
    pdf::table(
        &mut doc,
        &title,
        &format!("单位：{}    共 {} 人", a.unit.name, a.members.len()),
        &HEADERS,
        &rows,
        &format!(
            "共治 gongzhi    生成于 {}",
            super::ymd(local_date(now_ms()))
        ),
    );
    doc.finish()
}

// ------------------------------------------------------------------------------ certificates

#[derive(Debug, Serialize, ToSchema)]
pub struct Certificate {
    pub id: Uuid,
    pub number: String,
    pub volunteer_id: Uuid,
    pub name: String,
    pub id_masked: String,
    pub hours: f64,
    pub content: String,
    pub period_from: Option<String>,
    pub period_to: Option<String>,
    pub issuer: String,
    pub issued_on: String,
    pub created_by_name: String,
}
page_of!(CertificatePage, Certificate);

#[derive(FromQueryResult)]
struct CertRow {
    id: Uuid,
    number: String,
    volunteer_id: Uuid,
    name: String,
    id_masked: String,
    minutes: i64,
    content: String,
    period_from: Option<String>,
    period_to: Option<String>,
    issuer: String,
    issued_on: String,
    created_by_name: String,
    community_id: Uuid,
}

const CERT_SELECT: &str = "SELECT id, number, volunteer_id, name, id_masked, minutes, content, period_from, period_to, issuer, issued_on, created_by_name, community_id FROM certificates";

fn cert_view(r: CertRow) -> Certificate {
    Certificate {
        id: r.id,
        number: r.number,
        volunteer_id: r.volunteer_id,
        name: r.name,
        id_masked: r.id_masked,
        hours: hours(r.minutes),
        content: r.content,
        period_from: r.period_from,
        period_to: r.period_to,
        issuer: r.issuer,
        issued_on: r.issued_on,
        created_by_name: r.created_by_name,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewCertificate {
    pub volunteer_id: Uuid,
}

/// A certificate number: `ZYZM-<year>-` and 8 random letters and digits (not guessable, so the
/// public check reveals nothing by enumeration).
fn number(year: i32) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut b = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut b);
    let s: String = b
        .iter()
        .map(|x| ALPHABET[(*x as usize) % ALPHABET.len()] as char)
        .collect();
    format!("ZYZM-{year}-{s}")
}

/// Issues a certificate for a volunteer (a worker of their community, or the volunteer).
#[tracing::instrument(name = "service::units::issue", skip_all)]
pub async fn issue(db: &Db, ctx: &Ctx, volunteer_id: Option<Uuid>) -> AppResult<Certificate> {
    let tx = store::write_tx(db).await?;
    let v = match volunteer_id {
        Some(id) => super::volunteer_for(&tx, ctx, Permission::ManageService, id).await?,
        None => scope::Scoped::new(super::me(&tx, ctx).await?, scope::own(ctx)),
    };
    #[derive(FromQueryResult)]
    struct P {
        id_no_masked: Option<String>,
        community_name: String,
    }
    let p: P = store::fetch_found(
        &tx,
        "SELECT p.id_no_masked, a.name AS community_name FROM persons p JOIN areas a ON a.id = $3 WHERE p.street_id = $1 AND p.id = $2",
        vec![v.street_id.into(), v.person_id.into(), v.community_id.into()],
    )
    .await?;
    if v.verified_minutes <= 0 {
        return Err(AppError::Rule {
            code: "certificate.no_hours",
            msg: Msg::new(
                "还没有经确认的服务时长，不能出具证明",
                "There are no verified service hours to certify yet",
            ),
        });
    }
    #[derive(FromQueryResult)]
    struct S {
        title: String,
        n: i64,
        first: String,
        last: String,
    }
    let served: Vec<S> = store::fetch_all(
        &tx,
        "SELECT t.title, COUNT(*) AS n, MIN(h.day) AS first, MAX(h.day) AS last FROM service_hours h JOIN activities t ON t.id = h.activity_id \
         WHERE h.volunteer_id = $1 AND h.kind = 'service' GROUP BY t.title ORDER BY COUNT(*) DESC, t.title LIMIT 200",
        vec![v.id.into()],
    )
    .await?;
    let total: i64 = served.iter().map(|s| s.n).sum();
    let names: Vec<String> = served
        .iter()
        .take(8)
        .map(|s| {
            if s.n > 1 {
                format!("{}（{} 次）", s.title, s.n)
            } else {
                s.title.clone()
            }
        })
        .collect();
    let content = if served.is_empty() {
        "社区志愿服务".to_string()
    } else {
        format!(
            "参加社区志愿服务活动 {total} 次，主要有：{}{}",
            names.join("、"),
            if served.len() > 8 { " 等" } else { "" }
        )
    };
    let from = served.iter().map(|s| s.first.clone()).min();
    let to = served.iter().map(|s| s.last.clone()).max();
    let issuer = format!("{}居民委员会", p.community_name.trim_end_matches("居委会"));
    let today = super::today();
    let id = new_id();
    let year = local_date(now_ms()).year();
    let mut num = number(year);
    for _ in 0..3 {
        if store::fetch_i64(
            &tx,
            "SELECT COUNT(*) FROM certificates WHERE number = $1",
            vec![num.clone().into()],
        )
        .await?
            == 0
        {
            break;
        }
        num = number(year);
    }
    store::exec(
        &tx,
        "INSERT INTO certificates (id, number, volunteer_id, community_id, name, id_masked, minutes, content, period_from, period_to, issuer, issued_on, created_by_name, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        vec![
            id.into(), num.into(), v.id.into(), v.community_id.into(), v.name.clone().into(), p.id_no_masked.unwrap_or_else(|| "（未登记）".into()).into(),
            v.verified_minutes.into(), content.into(), from.into(), to.into(), issuer.into(), today.into(), ctx.principal.display_name.clone().into(), now_ms().into(),
        ],
    )
    .await?;
    Entry::by(ctx, &v.checked, "issue", "certificate", id)
        .area(v.community_id)
        .fields(&["name", "id_no_masked", "hours"])
        .record(&tx)
        .await?;
    let r: CertRow = store::fetch_found(
        &tx,
        &format!("{CERT_SELECT} WHERE id = $1"),
        vec![id.into()],
    )
    .await?;
    tx.commit().await?;
    Ok(cert_view(r))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CertificateQuery {
    pub area_id: Option<Uuid>,
    pub volunteer_id: Option<Uuid>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

#[tracing::instrument(name = "service::units::list_certificates", skip_all)]
pub async fn list_certificates(
    db: &Db,
    ctx: &Ctx,
    q: &CertificateQuery,
) -> AppResult<CertificatePage> {
    let mut w =
        super::area_where(db, ctx, Permission::ReadService, q.area_id, "community_id").await?;
    if let Some(v) = q.volunteer_id {
        w.and("volunteer_id = ?", [v.into()]);
    }
    let (cond, values) = w.build(1);
    let paging = store::Paging::new(q.page, q.page_size);
    let (rows, total) = store::page::<CertRow, _>(
        db,
        &format!("SELECT COUNT(*) FROM certificates WHERE {cond}"),
        &format!("{CERT_SELECT} WHERE {cond} ORDER BY created_at DESC, id DESC"),
        values,
        paging,
    )
    .await?;
    Ok(CertificatePage::new(
        rows.into_iter().map(cert_view).collect(),
        total,
        paging,
    ))
}

#[tracing::instrument(name = "service::units::mine", skip_all)]
pub async fn mine(db: &Db, volunteer: Uuid) -> AppResult<Vec<Certificate>> {
    let rows: Vec<CertRow> = store::fetch_all(
        db,
        &format!("{CERT_SELECT} WHERE volunteer_id = $1 ORDER BY created_at DESC LIMIT 20"),
        vec![volunteer.into()],
    )
    .await?;
    Ok(rows.into_iter().map(cert_view).collect())
}

/// One certificate (its community's workers, or the volunteer it certifies).
#[tracing::instrument(name = "service::units::get_certificate", skip_all)]
pub async fn get_certificate(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<Certificate> {
    Ok(cert_view(load_certificate(db, ctx, id).await?.row))
}

/// A certificate the caller may see: their own, or one of a community where they read service.
async fn load_certificate(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<scope::Scoped<CertRow>> {
    let r: CertRow =
        store::fetch_found(db, &format!("{CERT_SELECT} WHERE id = $1"), vec![id.into()]).await?;
    let own = super::me(db, ctx)
        .await
        .map(|m| m.id == r.volunteer_id)
        .unwrap_or(false);
    let checked = if own {
        scope::own(ctx)
    } else {
        scope::require_permission(db, ctx, Permission::ReadService, r.community_id).await?
    };
    Ok(scope::Scoped::new(r, checked))
}

/// The printable certificate as PDF.
#[tracing::instrument(name = "service::units::certificate_pdf", skip_all)]
pub async fn certificate_pdf(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<Download> {
    let loaded = load_certificate(db, ctx, id).await?;
    let checked = loaded.checked;
    let c = cert_view(loaded.row);
    audit::record_alone(
        db,
        Entry::by(ctx, &checked, "print", "certificate", id).fields(&["name", "id_no_masked"]),
    )
    .await?;
    Ok((
        format!("志愿服务记录证明-{}.pdf", c.number),
        "application/pdf",
        certificate_document(&c),
    ))
}

pub fn certificate_document(c: &Certificate) -> Vec<u8> {
    let mut doc = Pdf::new();
    let mut p = doc.page();
    p.rect(40.0, 40.0, pdf::A4_W - 80.0, pdf::A4_H - 80.0, 1.5);
    p.rect(46.0, 46.0, pdf::A4_W - 92.0, pdf::A4_H - 92.0, 0.5);
    p.centred(110.0, 24.0, "志愿服务记录证明");
    p.text(
        pdf::A4_W - 260.0,
        150.0,
        10.0,
        &format!("证明编号：{}", c.number),
    );
    let mut y = 200.0;
    let left = 80.0;
    let period = match (&c.period_from, &c.period_to) {
        (Some(a), Some(b)) => format!("{a} 至 {b}"),
        _ => "—".into(),
    };
    for (k, v) in [
        ("志愿者姓名", c.name.clone()),
        ("公民身份号码", c.id_masked.clone()),
        ("服务时间", period),
        ("累计服务时长", format!("{:.1} 小时", c.hours)),
    ] {
        p.text(left, y, 13.0, &format!("{k}："));
        p.text(left + 110.0, y, 13.0, &v);
        p.line(left + 105.0, y + 6.0, pdf::A4_W - 80.0, y + 6.0, 0.3);
        y += 34.0;
    }
    p.text(left, y, 13.0, "服务内容：");
    y = p.paragraph(
        left + 110.0,
        y,
        12.0,
        &c.content,
        pdf::A4_W - 80.0 - left - 110.0,
    );
    y += 30.0;
    y = p.paragraph(
        left,
        y,
        12.0,
        &format!("    兹证明 {} 同志在本组织登记参加志愿服务，以上记录经活动组织者确认属实。本证明依据《志愿服务记录与证明出具办法（试行）》（民政部令第67号）出具。", c.name),
        pdf::A4_W - 2.0 * left,
    );
    y += 50.0;
    p.text(
        pdf::A4_W - 280.0,
        y,
        13.0,
        &format!("出具组织：{}", c.issuer),
    );
    p.text(
        pdf::A4_W - 280.0,
        y + 30.0,
        13.0,
        &format!("出具日期：{}", c.issued_on),
    );
    p.text(pdf::A4_W - 280.0, y + 60.0, 11.0, "（盖章）");
    p.text(
        left,
        pdf::A4_H - 90.0,
        9.0,
        &format!(
            "查验：在共治平台“证明查验”页输入编号 {}，或访问 /verify/{}",
            c.number, c.number
        ),
    );
    doc.finish()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicCertificate {
    pub number: String,
    /// Masked: the family name only.
    pub name: String,
    pub id_masked: String,
    pub hours: f64,
    pub content: String,
    pub issuer: String,
    pub issued_on: String,
    pub valid: bool,
}

/// Anyone can check a certificate by its number; the answer is masked.
#[tracing::instrument(name = "service::units::check", skip_all)]
pub async fn check(db: &Db, number: &str) -> AppResult<PublicCertificate> {
    let n = number.trim().to_uppercase();
    if n.len() > 32 || !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(AppError::NotFound);
    }
    let r: CertRow = store::fetch_found(
        db,
        &format!("{CERT_SELECT} WHERE number = $1"),
        vec![n.into()],
    )
    .await?;
    let id_masked = {
        // Only the first and last characters of the already masked number.
        let chars: Vec<char> = r.id_masked.chars().collect();
        if chars.len() > 4 {
            format!(
                "{}{}{}",
                chars[0],
                "*".repeat(chars.len() - 2),
                chars[chars.len() - 1]
            )
        } else {
            "*".repeat(chars.len())
        }
    };
    Ok(PublicCertificate {
        number: r.number,
        name: mask_name(&r.name),
        id_masked,
        hours: hours(r.minutes),
        content: r.content,
        issuer: r.issuer,
        issued_on: r.issued_on,
        valid: true,
    })
}
