//! 待办: what waits for the caller, for the home page. Each item is counted with the same list
//! query (and scope) as the page it links to, so the counter and the list behind it agree.
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::cases::query::{self, CaseQuery, CaseSummary};
use super::registry::households::{self, ListQuery};
use super::service::activities::{self, ActivityQuery};
use super::{scope, AppState, Ctx};
use crate::domain::role::{Permission, Role};
use crate::error::AppResult;
use crate::store::Db;

#[derive(Debug, Serialize, ToSchema)]
pub struct TodoSample {
    pub id: Uuid,
    pub title: String,
    /// A second line: the deadline, the address, the time.
    pub detail: Option<String>,
    /// The console path that opens it.
    pub link: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Todo {
    /// cases_overdue | cases_to_dispatch | cases_to_handle | my_cases_open | households_to_visit |
    /// activities_to_confirm | reportins_overdue | my_activities | my_notices | questions_to_answer
    pub kind: &'static str,
    pub count: i64,
    pub label_zh: &'static str,
    pub label_en: &'static str,
    /// danger | warning | info
    pub severity: &'static str,
    /// The console path of the whole list.
    pub link: String,
    /// Up to five, most urgent first.
    pub samples: Vec<TodoSample>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Todos {
    pub items: Vec<Todo>,
}

const SAMPLES: u64 = 5;

fn case_query(queue: &str, status: Option<&str>, overdue: Option<bool>) -> CaseQuery {
    CaseQuery {
        queue: Some(queue.into()),
        status: status.map(str::to_string),
        area_id: None,
        unit_id: None,
        category_code: None,
        overdue,
        q: None,
        page: Some(1),
        page_size: Some(SAMPLES),
    }
}

fn case_sample(c: CaseSummary) -> TodoSample {
    TodoSample {
        link: format!("/cases/{}", c.id),
        id: c.id,
        title: format!("{} {}", c.no, c.title),
        detail: c.handle_due_at.or(c.response_due_at).map(|d| d.to_string()),
    }
}

#[tracing::instrument(name = "todos::mine", skip_all)]
pub async fn mine(state: &AppState, ctx: &Ctx) -> AppResult<Todos> {
    let db = &state.db;
    let mut items = vec![];
    let my_units = !super::cases::my_units(db, ctx).await?.is_empty();
    if scope::holds_any(ctx, Permission::DispatchCases) {
        cases_to_dispatch(db, ctx, &mut items).await?;
    }
    if my_units {
        cases_to_handle(db, ctx, &mut items).await?;
    }
    if scope::holds_any(ctx, Permission::AnswerQuestions) || my_units {
        questions_to_answer(db, ctx, &mut items).await?;
    }
    if scope::holds_any(ctx, Permission::EditRegistry) {
        households_to_visit(state, ctx, &mut items).await?;
    }
    if scope::holds_any(ctx, Permission::ManageService) {
        activities_to_confirm(db, ctx, &mut items).await?;
        reportins_overdue(db, ctx, &mut items).await?;
    }
    // A volunteer's next activities.
    if let Ok(v) = super::service::people::me_view(state, ctx).await {
        items.push(Todo {
            kind: "my_activities",
            count: v.upcoming.len() as i64,
            label_zh: "我报名的活动",
            label_en: "My upcoming activities",
            severity: "info",
            link: "/m/volunteer".into(),
            samples: v
                .upcoming
                .into_iter()
                .take(SAMPLES as usize)
                .map(|a| TodoSample {
                    link: format!("/service/activities/{}", a.id),
                    id: a.id,
                    title: a.title,
                    detail: Some(a.starts_at),
                })
                .collect(),
        });
    }
    if ctx.principal.user_id.is_some() {
        my_notices(db, ctx, &mut items).await?;
    }
    my_cases_open(db, ctx, &mut items).await?;
    Ok(Todos { items })
}

/// Overdue cases and cases waiting to be dispatched, for a dispatcher.
async fn cases_to_dispatch(db: &Db, ctx: &Ctx, items: &mut Vec<Todo>) -> AppResult<()> {
    let over = query::list(
        db,
        ctx,
        case_query("dispatch", Some("dispatched,in_progress"), Some(true)),
    )
    .await?;
    items.push(Todo {
        kind: "cases_overdue",
        count: over.total,
        label_zh: "超期诉求",
        label_en: "Overdue cases",
        severity: "danger",
        link: "/cases/dispatch?overdue=1".into(),
        samples: over.items.into_iter().map(case_sample).collect(),
    });
    let new = query::list(db, ctx, case_query("dispatch", Some("received"), None)).await?;
    items.push(Todo {
        kind: "cases_to_dispatch",
        count: new.total,
        label_zh: "待派遣诉求",
        label_en: "Cases to dispatch",
        severity: "warning",
        link: "/cases/dispatch".into(),
        samples: new.items.into_iter().map(case_sample).collect(),
    });
    Ok(())
}

/// The running cases of the caller's units.
async fn cases_to_handle(db: &Db, ctx: &Ctx, items: &mut Vec<Todo>) -> AppResult<()> {
    let mine = query::list(
        db,
        ctx,
        case_query("handle", Some("dispatched,in_progress"), None),
    )
    .await?;
    items.push(Todo {
        kind: "cases_to_handle",
        count: mine.total,
        label_zh: "待办理诉求",
        label_en: "Cases to handle",
        severity: if mine.items.iter().any(|c| c.overdue) {
            "danger"
        } else {
            "warning"
        },
        link: "/cases/handle".into(),
        samples: mine.items.into_iter().map(case_sample).collect(),
    });
    Ok(())
}

/// 回应关切: the questions the caller answers (their unit's, or their communities').
async fn questions_to_answer(db: &Db, ctx: &Ctx, items: &mut Vec<Todo>) -> AppResult<()> {
    let q = super::questions::QuestionQuery {
        status: Some("open".into()),
        page: Some(1),
        page_size: Some(SAMPLES),
        ..Default::default()
    };
    let page = super::questions::list(db, ctx, &q).await?;
    items.push(Todo {
        kind: "questions_to_answer",
        count: page.total,
        label_zh: "待答复的居民提问",
        label_en: "Questions to answer",
        severity: if page.counts.overdue > 0 {
            "danger"
        } else {
            "warning"
        },
        link: "/questions".into(),
        samples: page
            .items
            .into_iter()
            .map(|q| TodoSample {
                link: format!("/questions/{}", q.id),
                id: q.id,
                title: q.title,
                detail: Some(q.due_at),
            })
            .collect(),
    });
    Ok(())
}

/// Households due a visit (the stale ones), for those who keep the registry.
async fn households_to_visit(state: &AppState, ctx: &Ctx, items: &mut Vec<Todo>) -> AppResult<()> {
    let db = &state.db;
    let phone_role = !ctx.principal.grants.iter().any(|g| {
        !matches!(
            g.role,
            Role::GridWorker | Role::BuildingLeader | Role::Volunteer | Role::Resident
        )
    });
    let q = ListQuery {
        stale: Some(true),
        page: Some(1),
        page_size: Some(SAMPLES),
        ..Default::default()
    };
    let (rows, total) = households::list_households(db, ctx, &state.freshness(), &q).await?;
    let visit = if phone_role { "/visit" } else { "/registry" };
    items.push(Todo {
        kind: "households_to_visit",
        count: total,
        label_zh: "待走访核实的户",
        label_en: "Households due a visit",
        severity: "info",
        link: visit.into(),
        samples: rows
            .into_iter()
            .map(|h| TodoSample {
                link: format!("/households/{}", h.id),
                id: h.id,
                title: h.address,
                detail: h.head_name,
            })
            .collect(),
    });
    Ok(())
}

/// Activities whose hours wait to be confirmed.
async fn activities_to_confirm(db: &Db, ctx: &Ctx, items: &mut Vec<Todo>) -> AppResult<()> {
    let q = ActivityQuery {
        area_id: None,
        kind: None,
        status: Some("unconfirmed".into()),
        from: None,
        to: None,
        page: Some(1),
        page_size: Some(SAMPLES),
    };
    let page = activities::list(db, ctx, &q).await?;
    items.push(Todo {
        kind: "activities_to_confirm",
        count: page.total,
        label_zh: "待确认时长的活动",
        label_en: "Activities to confirm",
        severity: "warning",
        link: "/service/activities?status=unconfirmed".into(),
        samples: page
            .items
            .into_iter()
            .map(|a| TodoSample {
                link: format!("/service/activities/{}", a.id),
                id: a.id,
                title: a.title,
                detail: Some(a.ends_at),
            })
            .collect(),
    });
    Ok(())
}

/// Party members and units whose report-in is missing or expired.
async fn reportins_overdue(db: &Db, ctx: &Ctx, items: &mut Vec<Todo>) -> AppResult<()> {
    let late = super::service::people::overdue(db, ctx, None).await?;
    items.push(Todo {
        kind: "reportins_overdue",
        count: late.len() as i64,
        label_zh: "报到逾期的党员和单位",
        label_en: "Report-ins overdue",
        severity: "warning",
        link: "/party/report-ins?tab=overdue".into(),
        samples: late
            .into_iter()
            .take(SAMPLES as usize)
            .map(|o| TodoSample {
                link: "/party/report-ins?tab=overdue".into(),
                id: o.member_id.or(o.unit_org_id).unwrap_or_default(),
                title: match o.work_unit_name {
                    Some(u) => format!("{}（{u}）", o.name),
                    None => o.name,
                },
                detail: Some(o.community_name),
            })
            .collect(),
    });
    Ok(())
}

/// Notices to the caller (their household or their role) not yet read or acknowledged: the same
/// rows and counts as /me/notices.
async fn my_notices(db: &Db, ctx: &Ctx, items: &mut Vec<Todo>) -> AppResult<()> {
    let mine = super::notices::my_list(
        db,
        ctx,
        &super::notices::MyQuery {
            page: Some(1),
            page_size: Some(50),
        },
    )
    .await?;
    let waiting: Vec<_> = mine
        .items
        .into_iter()
        .filter(|n| n.read_at.is_none() || (n.requires_ack && n.acked_at.is_none()))
        .collect();
    let count = mine.waiting;
    if count > 0 {
        items.push(Todo {
            kind: "my_notices",
            count,
            label_zh: "待阅读或确认的通知",
            label_en: "Notices to read or acknowledge",
            severity: if mine.to_ack > 0 { "warning" } else { "info" },
            link: "/m/notices".into(),
            samples: waiting
                .into_iter()
                .take(SAMPLES as usize)
                .map(|n| TodoSample {
                    link: format!("/m/notices/{}", n.id),
                    id: n.id,
                    title: n.title,
                    detail: Some(n.area_name),
                })
                .collect(),
        });
    }
    Ok(())
}

/// Everyone who submitted requests: those still open (always shown to a resident).
async fn my_cases_open(db: &Db, ctx: &Ctx, items: &mut Vec<Todo>) -> AppResult<()> {
    let open = query::list(
        db,
        ctx,
        case_query(
            "mine",
            Some("received,registered,dispatched,in_progress,arbitration,handled,verified"),
            None,
        ),
    )
    .await?;
    if open.total > 0
        || ctx
            .principal
            .grants
            .iter()
            .any(|g| g.role == Role::Resident)
    {
        items.push(Todo {
            kind: "my_cases_open",
            count: open.total,
            label_zh: "我提交的未结诉求",
            label_en: "My open requests",
            severity: "info",
            link: "/my/cases".into(),
            samples: open.items.into_iter().map(case_sample).collect(),
        });
    }
    Ok(())
}
