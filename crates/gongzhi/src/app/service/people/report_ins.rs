//! Report-ins (报到): in-service members and unit organisations reporting to a community, and who is overdue.
use super::*;

// -------------------------------------------------------------------------------- report-ins

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportIn {
    pub id: Uuid,
    pub member_id: Option<Uuid>,
    pub member_name: Option<String>,
    pub unit_org_id: Option<Uuid>,
    pub unit_name: Option<String>,
    pub community_id: Uuid,
    pub community_name: String,
    pub reported_on: String,
    pub commitment: String,
    pub file_id: Option<Uuid>,
    pub valid_until: String,
    pub created_by_name: String,
    pub created_at: String,
}
page_of!(ReportInPage, ReportIn);

#[derive(FromQueryResult)]
pub(super) struct ReportInRow {
    id: Uuid,
    member_id: Option<Uuid>,
    member_name: Option<String>,
    unit_org_id: Option<Uuid>,
    unit_name: Option<String>,
    community_id: Uuid,
    community_name: String,
    reported_on: String,
    commitment: String,
    file_id: Option<Uuid>,
    valid_until: String,
    created_by_name: String,
    created_at: i64,
}

pub(super) const REPORT_SELECT: &str = "SELECT r.id, r.member_id, p.name AS member_name, r.unit_org_id, uo.name AS unit_name, r.community_id, \
    a.name AS community_name, r.reported_on, r.commitment, r.file_id, r.valid_until, r.created_by_name, r.created_at \
    FROM report_ins r JOIN areas a ON a.id = r.community_id LEFT JOIN party_members m ON m.id = r.member_id \
    LEFT JOIN volunteers v ON v.id = m.volunteer_id LEFT JOIN persons p ON p.street_id = v.street_id AND p.id = v.person_id \
    LEFT JOIN party_orgs uo ON uo.id = r.unit_org_id";

pub(super) fn report_view(r: ReportInRow) -> ReportIn {
    ReportIn {
        id: r.id,
        member_id: r.member_id,
        member_name: r.member_name,
        unit_org_id: r.unit_org_id,
        unit_name: r.unit_name,
        community_id: r.community_id,
        community_name: r.community_name,
        reported_on: r.reported_on,
        commitment: r.commitment,
        file_id: r.file_id,
        valid_until: r.valid_until,
        created_by_name: r.created_by_name,
        created_at: ms_to_rfc3339(r.created_at),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportInQuery {
    pub area_id: Option<Uuid>,
    pub member_id: Option<Uuid>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

#[tracing::instrument(name = "service::people::list_report_ins", skip_all)]
pub async fn list_report_ins(db: &Db, ctx: &Ctx, q: &ReportInQuery) -> AppResult<ReportInPage> {
    let mut w = super::super::area_where(
        db,
        ctx,
        Permission::ReadService,
        q.area_id,
        "r.community_id",
    )
    .await?;
    if let Some(m) = q.member_id {
        w.and("r.member_id = ?", [m.into()]);
    }
    let (cond, values) = w.build(1);
    let paging = store::Paging::new(q.page, q.page_size);
    let (rows, total) = store::page::<ReportInRow, _>(
        db,
        &format!("SELECT COUNT(*) FROM report_ins r WHERE {cond}"),
        &format!("{REPORT_SELECT} WHERE {cond} ORDER BY r.reported_on DESC, r.id DESC"),
        values,
        paging,
    )
    .await?;
    Ok(ReportInPage::new(
        rows.into_iter().map(report_view).collect(),
        total,
        paging,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewReportIn {
    /// An in-service (or community) member reporting in …
    pub member_id: Option<Uuid>,
    /// … or a unit's party organisation (驻区单位党组织).
    pub unit_org_id: Option<Uuid>,
    pub community_id: Uuid,
    pub reported_on: String,
    /// 承诺事项.
    pub commitment: String,
    /// An uploaded attachment (`POST /files`).
    pub file_id: Option<Uuid>,
}

/// Records a report-in, valid for the configured months; a member's earns the report-in points.
#[tracing::instrument(name = "service::people::create_report_in", skip_all)]
pub async fn create_report_in(state: &AppState, ctx: &Ctx, n: NewReportIn) -> AppResult<ReportIn> {
    let db = &state.db;
    let reported_on = date_field("reported_on", &n.reported_on)?;
    if reported_on > today() {
        return Err(AppError::field(
            "reported_on",
            Msg::new("报到日期不能晚于今天", "The date cannot be in the future"),
        ));
    }
    let commitment = text_field("commitment", &n.commitment, 1000, true)?;
    let valid_until =
        super::super::add_months(&reported_on, state.settings.service.report_in_months)
            .ok_or_else(|| AppError::field("reported_on", Msg::new("日期无效", "Invalid date")))?;
    let tx = store::write_tx(db).await?;
    super::super::require_community(&tx, n.community_id).await?;
    let checked =
        scope::require_permission(&tx, ctx, Permission::ManageService, n.community_id).await?;
    let member = match (n.member_id, n.unit_org_id) {
        (Some(m), None) => {
            let mm = member(&tx, m).await?;
            scope::require_permission(&tx, ctx, Permission::ReadService, mm.community_id).await?;
            Some(mm)
        }
        (None, Some(u)) => {
            if org_kind(&tx, ctx, u, "unit_org_id").await? != "unit" {
                return Err(AppError::field(
                    "unit_org_id",
                    Msg::new(
                        "报到单位应为单位党组织",
                        "A unit report-in is by a unit organisation",
                    ),
                ));
            }
            None
        }
        _ => {
            return Err(AppError::field(
                "member_id",
                Msg::new(
                    "请选择报到的党员或单位党组织（二选一）",
                    "Give either a member or a unit organisation",
                ),
            ))
        }
    };
    if let Some(f) = n.file_id {
        if store::fetch_i64(
            &tx,
            "SELECT COUNT(*) FROM files WHERE id = $1",
            vec![f.into()],
        )
        .await?
            == 0
        {
            return Err(AppError::field(
                "file_id",
                Msg::new(
                    "附件不存在，请重新上传",
                    "The attachment does not exist; upload it again",
                ),
            ));
        }
    }
    let id = new_id();
    let now = now_ms();
    store::exec(
        &tx,
        "INSERT INTO report_ins (id, member_id, unit_org_id, community_id, reported_on, valid_until, commitment, file_id, created_by, created_by_name, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        vec![
            id.into(), n.member_id.into(), n.unit_org_id.into(), n.community_id.into(), reported_on.clone().into(), valid_until.clone().into(),
            commitment.into(), n.file_id.into(), ctx.principal.actor_id().into(), ctx.principal.display_name.clone().into(), now.into(),
        ],
    )
    .await?;
    if let Some(m) = &member {
        // The latest report-in is kept on the member (an older one entered late does not replace it).
        store::exec(
            &tx,
            "UPDATE party_members SET last_reported_on = $1, report_valid_until = $2, community_id = $3, updated_at = $4 \
             WHERE id = $5 AND (last_reported_on IS NULL OR last_reported_on <= $1)",
            vec![reported_on.clone().into(), valid_until.into(), n.community_id.into(), now.into(), m.id.into()],
        )
        .await?;
        let account = store::fetch_found::<AccId, _>(
            &tx,
            "SELECT id FROM point_accounts WHERE volunteer_id = $1",
            vec![m.volunteer_id.into()],
        )
        .await?;
        let rules = ledger::rules_for(&tx, n.community_id).await?;
        let rule = rules[&Event::ReportIn];
        let actor = Actor::of(ctx);
        let postings = ledger::earn_by_rule(
            &tx,
            &actor,
            Event::ReportIn,
            rule,
            vec![(account.id, rule.points, Some(id.to_string()))],
            "report_in",
            now,
        )
        .await?;
        ledger::post_credits(&tx, &actor, postings, now).await?;
    }
    Entry::by(ctx, &checked, "create", "report_in", id)
        .area(n.community_id)
        .record(&tx)
        .await?;
    let row: ReportInRow = store::fetch_found(
        &tx,
        &format!("{REPORT_SELECT} WHERE r.id = $1"),
        vec![id.into()],
    )
    .await?;
    tx.commit().await?;
    Ok(report_view(row))
}

#[derive(FromQueryResult)]
pub(super) struct AccId {
    id: Uuid,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Overdue {
    pub member_id: Option<Uuid>,
    pub unit_org_id: Option<Uuid>,
    pub name: String,
    pub work_unit_name: Option<String>,
    pub community_name: String,
    pub last_reported_on: Option<String>,
    pub valid_until: Option<String>,
    /// Days since the report-in expired; null when there never was one.
    pub days_overdue: Option<i64>,
}

/// In-service members and unit organisations whose report-in is missing or expired.
#[tracing::instrument(name = "service::people::overdue", skip_all)]
pub async fn overdue(db: &Db, ctx: &Ctx, area_id: Option<Uuid>) -> AppResult<Vec<Overdue>> {
    let today = today();
    let mut w =
        super::super::area_where(db, ctx, Permission::ReadService, area_id, "m.community_id")
            .await?;
    w.and(
        "m.kind = 'in_service' AND (m.report_valid_until IS NULL OR m.report_valid_until < ?)",
        [today.clone().into()],
    );
    let (cond, values) = w.build(1);
    #[derive(FromQueryResult)]
    struct Row {
        member_id: Option<Uuid>,
        unit_org_id: Option<Uuid>,
        name: String,
        work_unit_name: Option<String>,
        community_name: String,
        last_reported_on: Option<String>,
        valid_until: Option<String>,
    }
    let mut rows: Vec<Row> = store::fetch_all(
        db,
        &format!(
            "SELECT m.id AS member_id, CAST(NULL AS {uuid}) AS unit_org_id, p.name, wu.name AS work_unit_name, a.name AS community_name, \
             m.last_reported_on, m.report_valid_until AS valid_until {MEMBER_FROM} \
             WHERE {cond} ORDER BY m.report_valid_until, p.name LIMIT 2000",
            uuid = if db.get_database_backend() == sea_orm::DbBackend::Postgres { "UUID" } else { "BLOB" },
        ),
        values,
    )
    .await?;
    // Units: their latest report-in to a community of the scope has expired.
    let w = super::super::area_where(db, ctx, Permission::ReadService, area_id, "r.community_id")
        .await?;
    let (cond, mut values) = w.build(1);
    // The HAVING clause's value comes after the WHERE clause's.
    values.push(today.clone().into());
    let having = values.len();
    let units: Vec<Row> = store::fetch_all(
        db,
        &format!(
            "SELECT CAST(NULL AS {uuid}) AS member_id, r.unit_org_id, o.name, CAST(NULL AS VARCHAR(100)) AS work_unit_name, a.name AS community_name, \
             MAX(r.reported_on) AS last_reported_on, MAX(r.valid_until) AS valid_until \
             FROM report_ins r JOIN party_orgs o ON o.id = r.unit_org_id JOIN areas a ON a.id = r.community_id \
             WHERE {cond} AND r.unit_org_id IS NOT NULL GROUP BY r.unit_org_id, o.name, a.name HAVING MAX(r.valid_until) < ${having}",
            uuid = if db.get_database_backend() == sea_orm::DbBackend::Postgres { "UUID" } else { "BLOB" },
        ),
        values,
    )
    .await?;
    rows.extend(units);
    let t = crate::domain::calendar::parse_date(&today).expect("today");
    Ok(rows
        .into_iter()
        .map(|r| Overdue {
            days_overdue: r
                .valid_until
                .as_deref()
                .and_then(crate::domain::calendar::parse_date)
                .map(|v| (t - v).whole_days()),
            member_id: r.member_id,
            unit_org_id: r.unit_org_id,
            name: r.name,
            work_unit_name: r.work_unit_name,
            community_name: r.community_name,
            last_reported_on: r.last_reported_on,
            valid_until: r.valid_until,
        })
        .collect())
}
