//! Party members (党员): their record, organisation and the community they report to.
use super::*;

// ---------------------------------------------------------------------------- party members

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PartyMember)]
pub struct Member {
    pub id: Uuid,
    pub volunteer_id: Uuid,
    pub person_id: Uuid,
    pub name: String,
    pub org_id: Uuid,
    pub org_name: String,
    pub community_id: Uuid,
    pub community_name: String,
    /// `community` (membership in the community) or `in_service` (在职党员, organisation at a work unit).
    pub kind: String,
    pub work_unit_org_id: Option<Uuid>,
    pub work_unit_name: Option<String>,
    pub joined_on: String,
    /// `full` (正式) or `probationary` (预备).
    pub status: String,
    pub exempt_reason: Option<String>,
    pub age: Option<i64>,
    pub last_reported_on: Option<String>,
    pub valid_until: Option<String>,
    /// An in-service member whose report-in is missing or expired.
    pub overdue: bool,
    pub version: i32,
}
page_of!(MemberPage, Member);

#[derive(FromQueryResult)]
pub(super) struct MemberRow {
    id: Uuid,
    volunteer_id: Uuid,
    person_id: Uuid,
    name: String,
    birth_date: Option<String>,
    org_id: Uuid,
    org_name: String,
    community_id: Uuid,
    community_name: String,
    kind: String,
    work_unit_org_id: Option<Uuid>,
    work_unit_name: Option<String>,
    joined_on: String,
    status: String,
    exempt_reason: Option<String>,
    last_reported_on: Option<String>,
    report_valid_until: Option<String>,
    version: i32,
}

pub(super) const MEMBER_FROM: &str = "FROM party_members m JOIN volunteers v ON v.id = m.volunteer_id \
    JOIN persons p ON p.street_id = v.street_id AND p.id = v.person_id JOIN party_orgs o ON o.id = m.org_id \
    JOIN areas a ON a.id = m.community_id LEFT JOIN party_orgs wu ON wu.id = m.work_unit_org_id";
pub(super) const MEMBER_COLS: &str = "SELECT m.id, m.volunteer_id, v.person_id, p.name, p.birth_date, m.org_id, o.name AS org_name, m.community_id, \
    a.name AS community_name, m.kind, m.work_unit_org_id, wu.name AS work_unit_name, m.joined_on, m.status, m.exempt_reason, \
    m.last_reported_on, m.report_valid_until, m.version";

pub(super) fn member_view(r: MemberRow, today: &str) -> Member {
    let overdue = r.kind == "in_service"
        && r.report_valid_until
            .as_deref()
            .map(|v| v < today)
            .unwrap_or(true);
    Member {
        id: r.id,
        volunteer_id: r.volunteer_id,
        person_id: r.person_id,
        name: r.name,
        age: age(r.birth_date.as_deref()),
        org_id: r.org_id,
        org_name: r.org_name,
        community_id: r.community_id,
        community_name: r.community_name,
        kind: r.kind,
        work_unit_org_id: r.work_unit_org_id,
        work_unit_name: r.work_unit_name,
        joined_on: r.joined_on,
        status: r.status,
        exempt_reason: r.exempt_reason,
        last_reported_on: r.last_reported_on,
        valid_until: r.report_valid_until,
        overdue,
        version: r.version,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberQuery {
    pub area_id: Option<Uuid>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub q: Option<String>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

#[tracing::instrument(name = "service::people::list_members", skip_all)]
pub async fn list_members(db: &Db, ctx: &Ctx, q: &MemberQuery) -> AppResult<MemberPage> {
    let mut w = super::super::area_where(
        db,
        ctx,
        Permission::ReadService,
        q.area_id,
        "m.community_id",
    )
    .await?;
    for (cond, v) in [("m.kind = ?", &q.kind), ("m.status = ?", &q.status)] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            w.and(cond, [v.to_string().into()]);
        }
    }
    if let Some(t) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        w.and(
            "p.name LIKE ? ESCAPE '\\'",
            [format!("%{}%", store::like_escape(t)).into()],
        );
    }
    let (cond, values) = w.build(1);
    let paging = store::Paging::new(q.page, q.page_size);
    let (rows, total) = store::page::<MemberRow, _>(
        db,
        &format!("SELECT COUNT(*) {MEMBER_FROM} WHERE {cond}"),
        &format!("{MEMBER_COLS} {MEMBER_FROM} WHERE {cond} ORDER BY a.name, p.name, m.id"),
        values,
        paging,
    )
    .await?;
    let t = today();
    Ok(MemberPage::new(
        rows.into_iter().map(|r| member_view(r, &t)).collect(),
        total,
        paging,
    ))
}

#[tracing::instrument(name = "service::people::member", skip_all)]
pub async fn member<C: ConnectionTrait>(c: &C, id: Uuid) -> AppResult<Member> {
    store::fetch_opt::<MemberRow, _>(
        c,
        &format!("{MEMBER_COLS} {MEMBER_FROM} WHERE m.id = $1"),
        vec![id.into()],
    )
    .await?
    .map(|r| member_view(r, &today()))
    .ok_or(AppError::NotFound)
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NewPartyMember)]
pub struct NewMember {
    pub person_id: Uuid,
    /// The party organisation holding the membership.
    pub org_id: Uuid,
    /// `community` or `in_service`.
    pub kind: String,
    /// For an in-service member: the work unit's party organisation (kind unit).
    pub work_unit_org_id: Option<Uuid>,
    /// The community served (report-in target); defaults to the person's community.
    pub community_id: Option<Uuid>,
    pub joined_on: String,
    /// `full` or `probationary`.
    pub status: String,
    #[serde(default)]
    pub skills: Vec<String>,
}

#[derive(FromQueryResult)]
pub(super) struct OrgFacts {
    kind: String,
}

pub(super) async fn org_kind<C: ConnectionTrait>(
    c: &C,
    ctx: &Ctx,
    id: Uuid,
    field: &str,
) -> AppResult<String> {
    let o: OrgFacts = store::fetch_opt(
        c,
        "SELECT kind FROM party_orgs WHERE id = $1",
        vec![id.into()],
    )
    .await?
    .ok_or_else(|| {
        AppError::field(
            field,
            Msg::new("没有这个党组织", "No such party organisation"),
        )
    })?;
    let _ = ctx;
    Ok(o.kind)
}

pub(super) fn status_ok(s: &str) -> AppResult<()> {
    if matches!(s, "full" | "probationary") {
        Ok(())
    } else {
        Err(AppError::field(
            "status",
            Msg::new(
                "应为 full（正式）或 probationary（预备）",
                "Either full or probationary",
            ),
        ))
    }
}

#[tracing::instrument(name = "service::people::create_member", skip_all)]
pub async fn create_member(state: &AppState, ctx: &Ctx, n: NewMember) -> AppResult<Member> {
    let db = &state.db;
    let tx = store::write_tx(db).await?;
    let id = create_member_in(&tx, ctx, &n).await?;
    tx.commit().await?;
    member(db, id).await
}

/// [`create_member`]'s checks and writes in the caller's transaction.
pub(crate) async fn create_member_in(
    tx: &sea_orm::DatabaseTransaction,
    ctx: &Ctx,
    n: &NewMember,
) -> AppResult<Uuid> {
    status_ok(&n.status)?;
    let joined_on = date_field("joined_on", &n.joined_on)?;
    if joined_on > today() {
        return Err(AppError::field(
            "joined_on",
            Msg::new(
                "入党日期不能晚于今天",
                "The joining date cannot be in the future",
            ),
        ));
    }
    let skills = skills_text("skills", &n.skills)?;
    let p = person(tx, n.person_id).await?;
    let community_id = n.community_id.unwrap_or(p.community_id);
    super::super::require_community(tx, community_id).await?;
    let checked =
        scope::require_permission(tx, ctx, Permission::ManageService, community_id).await?;
    org_kind(tx, ctx, n.org_id, "org_id").await?;
    let work_unit = match n.kind.as_str() {
        "community" => None,
        "in_service" => {
            let wu = n.work_unit_org_id.ok_or_else(|| {
                AppError::field(
                    "work_unit_org_id",
                    Msg::new(
                        "在职党员要选择所在单位党组织",
                        "An in-service member needs the work unit's organisation",
                    ),
                )
            })?;
            if org_kind(tx, ctx, wu, "work_unit_org_id").await? != "unit" {
                return Err(AppError::field(
                    "work_unit_org_id",
                    Msg::new(
                        "所在单位应为单位党组织",
                        "The work unit must be a unit organisation",
                    ),
                ));
            }
            Some(wu)
        }
        _ => {
            return Err(AppError::field(
                "kind",
                Msg::new(
                    "应为 community（社区党员）或 in_service（在职党员）",
                    "Either community or in_service",
                ),
            ))
        }
    };
    #[derive(FromQueryResult)]
    struct Existing {
        id: Uuid,
        party_member: bool,
    }
    let existing: Option<Existing> = store::fetch_opt(
        tx,
        "SELECT id, party_member FROM volunteers WHERE person_id = $1",
        vec![p.id.into()],
    )
    .await?;
    let vid = match existing {
        Some(e) if e.party_member => {
            return Err(AppError::conflict_on(
                "person_id",
                Msg::new(
                    "此人已经在党员名册中",
                    "This person is a party member on the roll already",
                ),
            ));
        }
        Some(e) => {
            store::exec(tx, "UPDATE volunteers SET party_member = TRUE, community_id = $1, version = version + 1, updated_at = $2 WHERE id = $3", vec![community_id.into(), now_ms().into(), e.id.into()]).await?;
            store::exec(
                tx,
                "UPDATE point_accounts SET area_id = $1 WHERE volunteer_id = $2",
                vec![community_id.into(), e.id.into()],
            )
            .await?;
            e.id
        }
        None => insert_volunteer(tx, &p, community_id, &skills, true, true, None).await?,
    };
    let id = new_id();
    let now = now_ms();
    store::exec(
        tx,
        "INSERT INTO party_members (id, volunteer_id, org_id, community_id, kind, work_unit_org_id, joined_on, status, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9)",
        vec![id.into(), vid.into(), n.org_id.into(), community_id.into(), n.kind.clone().into(), work_unit.into(), joined_on.into(), n.status.clone().into(), now.into()],
    )
    .await?;
    Entry::by(ctx, &checked, "create", "party_member", id)
        .area(community_id)
        .record(tx)
        .await?;
    Ok(id)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MemberPatch {
    pub status: Option<String>,
    /// e.g. 患病; `null` clears it.
    #[serde(default, deserialize_with = "crate::app::areas::double_option")]
    #[schema(value_type = Option<String>)]
    pub exempt_reason: Option<Option<String>>,
    pub version: i32,
}

#[tracing::instrument(name = "service::people::update_member", skip_all)]
pub async fn update_member(
    state: &AppState,
    ctx: &Ctx,
    id: Uuid,
    p: MemberPatch,
) -> AppResult<Member> {
    let db = &state.db;
    let cur = member(db, id).await?;
    let checked =
        scope::require_permission(db, ctx, Permission::ManageService, cur.community_id).await?;
    let status = p.status.clone().unwrap_or(cur.status.clone());
    status_ok(&status)?;
    let exempt = match p.exempt_reason {
        Some(Some(r)) => Some(text_field("exempt_reason", &r, 100, true)?),
        Some(None) => None,
        None => cur.exempt_reason.clone(),
    };
    let tx = store::write_tx(db).await?;
    let n = store::exec(
        &tx,
        "UPDATE party_members SET status = $1, exempt_reason = $2, version = version + 1, updated_at = $3 WHERE id = $4 AND version = $5",
        vec![status.into(), exempt.into(), now_ms().into(), id.into(), p.version.into()],
    )
    .await?;
    AppError::stale_unless_changed(n)?;
    Entry::by(ctx, &checked, "update", "party_member", id)
        .area(cur.community_id)
        .record(&tx)
        .await?;
    tx.commit().await?;
    member(db, id).await
}
