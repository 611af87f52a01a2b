//! The household file (一户一档): one household with its members, visits, needs, cases and
//! service, as one read; and its history.
use super::*;

// ---------------------------------------------------------------- the file

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Member {
    pub id: Uuid,
    pub person_id: Uuid,
    pub relation: String,
    pub from_date: String,
    pub to_date: Option<String>,
    pub person: Person,
}

/// The whole household file in one document.
#[derive(Debug, Serialize, ToSchema)]
pub struct HouseholdFile {
    pub household: Household,
    pub dwelling: Dwelling,
    pub members: Vec<Member>,
    pub past_members: Vec<Member>,
    pub visits: Vec<Visit>,
    pub needs: Vec<Need>,
    pub events: Vec<Event>,
    /// The household's cases (接诉即办): raised by a member or at its dwelling, newest first (at
    /// most 50). Empty for a reader who may not read cases here.
    pub cases: Vec<FileCase>,
    /// Service the members gave as volunteers (confirmed hours), newest first (at most 50).
    /// Empty for a reader who may not read service records here.
    pub services: Vec<FileService>,
    /// The date the file was read as of, if not today.
    pub as_of: Option<String>,
}

/// A case in a household's file.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileCase {
    pub id: Uuid,
    pub no: String,
    /// RFC 3339, UTC.
    pub received_at: String,
    pub category_code: String,
    pub title: String,
    pub status: String,
    pub status_label: String,
}

/// A member's service in a household's file.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileService {
    pub person_id: Uuid,
    pub person_name: String,
    pub activity_id: Option<Uuid>,
    pub activity_title: Option<String>,
    /// YYYY-MM-DD (Asia/Shanghai).
    pub day: String,
    pub minutes: i32,
    /// `activity` or `correction`.
    pub kind: String,
}

/// The cases raised by the members (as requesters) or at the dwelling.
pub(super) async fn cases_of(
    db: &Db,
    lang: crate::error::Lang,
    persons: &[Uuid],
    dwelling_id: Uuid,
) -> AppResult<Vec<FileCase>> {
    #[derive(FromQueryResult)]
    struct R {
        id: Uuid,
        no: String,
        received_at: i64,
        category_code: String,
        title: String,
        status: String,
    }
    let mut values: Vec<Value> = vec![dwelling_id.into()];
    let mut cond = "dwelling_id = $1".to_string();
    if !persons.is_empty() {
        cond.push_str(&format!(
            " OR requester_person_id IN ({})",
            store::placeholders(2, persons.len())
        ));
        values.extend(persons.iter().map(|p| Value::from(*p)));
    }
    let rows: Vec<R> = store::fetch_all(
        db,
        &format!(
            "SELECT id, no, received_at, category_code, title, status FROM cases \
             WHERE {cond} ORDER BY received_at DESC LIMIT 50"
        ),
        values,
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let st = crate::domain::cases::Status::parse(&r.status);
            FileCase {
                id: r.id,
                no: r.no,
                received_at: ms_to_rfc3339(r.received_at),
                category_code: r.category_code,
                title: r.title,
                status_label: match (st, lang) {
                    (Some(s), crate::error::Lang::Zh) => s.label_zh().to_string(),
                    (Some(s), crate::error::Lang::En) => s.label_en().to_string(),
                    (None, _) => r.status.clone(),
                },
                status: r.status,
            }
        })
        .collect())
}

/// The confirmed service hours of the members who are volunteers.
pub(super) async fn services_of(
    db: &Db,
    members: &[(Uuid, String)],
) -> AppResult<Vec<FileService>> {
    if members.is_empty() {
        return Ok(vec![]);
    }
    #[derive(FromQueryResult)]
    struct R {
        person_id: Uuid,
        activity_id: Option<Uuid>,
        title: Option<String>,
        day: String,
        minutes: i32,
        kind: String,
    }
    let rows: Vec<R> = store::fetch_all(
        db,
        &format!(
            "SELECT v.person_id, h.activity_id, a.title, h.day, h.minutes, h.kind \
             FROM service_hours h JOIN volunteers v ON v.id = h.volunteer_id \
             LEFT JOIN activities a ON a.id = h.activity_id \
             WHERE v.person_id IN ({}) ORDER BY h.day DESC, h.created_at DESC LIMIT 50",
            store::placeholders(1, members.len())
        ),
        members.iter().map(|(p, _)| Value::from(*p)).collect(),
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| FileService {
            person_name: members
                .iter()
                .find(|(p, _)| *p == r.person_id)
                .map(|(_, n)| n.clone())
                .unwrap_or_default(),
            person_id: r.person_id,
            activity_id: r.activity_id,
            activity_title: r.title,
            day: r.day,
            minutes: r.minutes,
            kind: r.kind,
        })
        .collect())
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileQuery {
    /// `YYYY-MM-DD`: members, household type and head as they were on that date.
    pub as_of: Option<String>,
}

#[tracing::instrument(name = "registry::households::file", skip_all)]
pub async fn file(
    db: &Db,
    keys: &Keys,
    ctx: &Ctx,
    f: &Freshness,
    id: Uuid,
    q: &FileQuery,
) -> AppResult<HouseholdFile> {
    let row = load_household(db, id).await?;
    let checked = scope::require_permission(db, ctx, Permission::ReadRegistry, row.area_id).await?;
    let sensitive = scope::has_permission(db, ctx, Permission::RevealPersonal, row.area_id).await?;
    let as_of = match q.as_of.as_deref().filter(|s| !s.is_empty()) {
        Some(d) => Some(vocab::parse_date(d).map_err(|m| AppError::field("as_of", m))?),
        None => None,
    };
    let mut household = household_view(row.clone(), f);
    // The household as it was: the last snapshot on or before the date.
    if let Some(d) = &as_of {
        as_it_was(db, &mut household, d).await?;
    }
    let d = load_dwelling(db, row.dwelling_id).await?;
    let owners = owners_of(db, d.id).await?;
    let (members, past) = members_of(db, keys, id, as_of.as_deref(), sensitive).await?;
    let visits = visits::visits_of(db, id).await?;
    let needs = visits::needs_of(db, id).await?;
    let people: Vec<(Uuid, String)> = members
        .iter()
        .chain(past.iter())
        .map(|m| (m.person_id, m.person.name.clone()))
        .collect();
    let person_ids: Vec<Uuid> = people.iter().map(|(p, _)| *p).collect();
    let cases = if scope::has_permission(db, ctx, Permission::ReadCases, row.area_id).await? {
        cases_of(db, ctx.lang, &person_ids, row.dwelling_id).await?
    } else {
        vec![]
    };
    let services = if scope::has_permission(db, ctx, Permission::ReadService, row.area_id).await? {
        services_of(db, &people).await?
    } else {
        vec![]
    };
    let events = events_until(db, id, as_of.as_deref()).await?;
    audit::record_alone(
        db,
        Entry::by(ctx, &checked, "household.file", "household", id)
            .area(row.area_id)
            .fields(&[
                "members",
                "id_no_masked",
                "mobile_masked",
                "tags",
                "visits",
                "needs",
            ])
            .detail(
                as_of
                    .clone()
                    .map(|d| format!("as of {d}"))
                    .unwrap_or_default(),
            ),
    )
    .await?;
    Ok(HouseholdFile {
        household,
        dwelling: dwelling_view(d, Some(owners)),
        members,
        past_members: past,
        visits,
        needs,
        events,
        cases,
        services,
        as_of,
    })
}

/// Sets kind, head and head's name as the last snapshot on or before `day` had them.
async fn as_it_was(db: &Db, household: &mut Household, day: &str) -> AppResult<()> {
    let end_of_day =
        crate::domain::rfc3339_to_ms(&format!("{day}T23:59:59+08:00")).unwrap_or(i64::MAX);
    #[derive(FromQueryResult)]
    struct S {
        snapshot: String,
    }
    let snap: Option<S> = store::fetch_opt(
        db,
        "SELECT snapshot FROM registry_events WHERE object_id = $1 AND object_type = 'household' AND at <= $2 \
         AND reason IN ('create', 'head_change', 'correction') ORDER BY at DESC LIMIT 1",
        vec![household.id.into(), end_of_day.into()],
    )
    .await?;
    if let Some(v) = snap.and_then(|s| serde_json::from_str::<serde_json::Value>(&s.snapshot).ok())
    {
        if let Some(k) = v["kind"].as_str() {
            household.kind = k.to_string();
        }
        household.head_person_id = v["head_person_id"]
            .as_str()
            .and_then(|s| Uuid::parse_str(s).ok());
        household.head_name = head_name(db, household.head_person_id).await?;
    }
    Ok(())
}

/// The household's members now (or on `as_of`), and those who had left by then.
async fn members_of(
    db: &Db,
    keys: &Keys,
    id: Uuid,
    as_of: Option<&str>,
    sensitive: bool,
) -> AppResult<(Vec<Member>, Vec<Member>)> {
    #[derive(FromQueryResult)]
    struct MRow {
        id: Uuid,
        person_id: Uuid,
        relation: String,
        from_date: String,
        to_date: Option<String>,
    }
    let mrows: Vec<MRow> = store::fetch_all(
        db,
        "SELECT id, person_id, relation, from_date, to_date FROM household_members WHERE household_id = $1 ORDER BY from_date, id",
        vec![id.into()],
    )
    .await?;
    let mut members = vec![];
    let mut past = vec![];
    for m in mrows {
        let p: Option<persons::PersonRow> = store::fetch_opt(
            db,
            &format!("{} WHERE p.id = $1", persons::SELECT),
            vec![m.person_id.into()],
        )
        .await?;
        let Some(p) = p else { continue };
        let current = match as_of {
            Some(d) => {
                m.from_date.as_str() <= d && m.to_date.as_deref().map(|t| t > d).unwrap_or(true)
            }
            None => m.to_date.is_none(),
        };
        let started = as_of.map(|d| m.from_date.as_str() <= d).unwrap_or(true);
        let member = Member {
            id: m.id,
            person_id: m.person_id,
            relation: m.relation,
            from_date: m.from_date,
            to_date: m.to_date,
            person: persons::view(p, keys, sensitive),
        };
        if current {
            members.push(member);
        } else if started {
            past.push(member);
        }
    }
    Ok((members, past))
}

/// The household's history, up to the end of `as_of` (Asia/Shanghai) when given.
async fn events_until(db: &Db, id: Uuid, as_of: Option<&str>) -> AppResult<Vec<Event>> {
    let mut events = super::super::history(db, id, true).await?;
    if let Some(d) = as_of {
        let end =
            crate::domain::rfc3339_to_ms(&format!("{d}T23:59:59.999+08:00")).unwrap_or(i64::MAX);
        events.retain(|e| {
            crate::domain::rfc3339_to_ms(&e.at)
                .map(|t| t <= end)
                .unwrap_or(true)
        });
    }
    Ok(events)
}

#[tracing::instrument(name = "registry::households::history", skip_all)]
pub async fn history(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<Vec<Event>> {
    let row = load_household(db, id).await?;
    scope::require_permission(db, ctx, Permission::ReadRegistry, row.area_id).await?;
    super::super::history(db, id, true).await
}
