//! Access by area, route × role × in-scope/out-of-scope.
//!
//! Every route that takes an id joins [`ROUTES`]; every role is a demo user with one grant. For
//! each pair the test calls the route on an object inside the user's grant and on one outside it
//! (in 莲池区, where no demo user but admin has a grant), and checks:
//! - outside: always 404 — no data and no hint that it exists;
//! - inside: the route's expected answer for that role (allowed → the route's own status;
//!   not allowed → 403).
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;
use gongzhi::domain::role::{Permission, Role};

/// What a route acts on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Target {
    Area,
    PartyOrg,
    Person,
    Household,
    /// A case located at the area (made by admin for each user).
    Case,
    /// A handling unit serving the area (made by admin for each user).
    Unit,
    /// A dwelling in a building of the area.
    Dwelling,
    /// A legal entity of the area (made by admin where the demo has none).
    Entity,
    /// A need found on a visit to a household of the area (made by admin).
    Need,
    /// A duty (权责清单 line) of the unit made for the user.
    Duty,
    /// A channel of a community under the user's area (none for a grid or a building: skipped).
    Channel,
    /// A notice to the user's area (published by admin).
    Notice,
    /// A resident's question to a community at or under the user's area (none for a grid or a
    /// building: a question belongs to a community above them; skipped).
    Question,
}

struct RouteCase {
    method: Method,
    /// `{id}` is replaced by the target's id.
    path: &'static str,
    target: Target,
    body: fn(&Ids) -> Option<Value>,
    /// `None`: every role with a grant may do it.
    permission: Option<Permission>,
    /// The status an allowed caller gets (the bodies are built to stop just after the checks).
    allowed: u16,
}

struct Ids {
    target: String,
    version_bad: i64,
}

const ROUTES: &[RouteCase] = &[
    RouteCase {
        method: Method::GET,
        path: "/api/v1/areas/{id}",
        target: Target::Area,
        body: |_| None,
        permission: None,
        allowed: 200,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/areas/{id}/children",
        target: Target::Area,
        body: |_| None,
        permission: None,
        allowed: 200,
    },
    RouteCase {
        method: Method::PATCH,
        path: "/api/v1/areas/{id}",
        target: Target::Area,
        body: |i| Some(json!({"version": i.version_bad})),
        permission: Some(Permission::EditAreas),
        allowed: 409,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/areas/{id}/move",
        target: Target::Area,
        body: |i| Some(json!({"new_parent_id": i.target, "version": i.version_bad})),
        permission: Some(Permission::EditAreas),
        allowed: 422,
    },
    RouteCase {
        method: Method::DELETE,
        path: "/api/v1/areas/{id}",
        target: Target::Area,
        body: |_| None,
        permission: Some(Permission::EditAreas),
        allowed: 409,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/areas",
        target: Target::Area,
        body: |i| Some(json!({"parent_id": i.target, "kind": "building", "name": "", "code": "x"})),
        permission: Some(Permission::EditAreas),
        allowed: 422,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/areas?under={id}",
        target: Target::Area,
        body: |_| None,
        permission: None,
        allowed: 200,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/party-orgs/{id}",
        target: Target::PartyOrg,
        body: |_| None,
        permission: None,
        allowed: 200,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/party-orgs/{id}/children",
        target: Target::PartyOrg,
        body: |_| None,
        permission: None,
        allowed: 200,
    },
    RouteCase {
        method: Method::PATCH,
        path: "/api/v1/party-orgs/{id}",
        target: Target::PartyOrg,
        body: |i| Some(json!({"version": i.version_bad})),
        permission: Some(Permission::EditPartyOrgs),
        allowed: 409,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/party-orgs/{id}/move",
        target: Target::PartyOrg,
        body: |i| Some(json!({"new_parent_id": i.target, "version": i.version_bad})),
        permission: Some(Permission::EditPartyOrgs),
        allowed: 422,
    },
    RouteCase {
        method: Method::DELETE,
        path: "/api/v1/party-orgs/{id}",
        target: Target::PartyOrg,
        body: |_| None,
        permission: Some(Permission::EditPartyOrgs),
        allowed: 409,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/persons/{id}",
        target: Target::Person,
        body: |_| None,
        permission: Some(Permission::ReadRegistry),
        allowed: 200,
    },
    RouteCase {
        method: Method::PATCH,
        path: "/api/v1/persons/{id}",
        target: Target::Person,
        body: |i| Some(json!({"version": i.version_bad})),
        permission: Some(Permission::EditRegistry),
        allowed: 409,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/persons/{id}/reveal",
        target: Target::Person,
        body: |_| Some(json!({"fields": ["id_no"], "reason": ""})),
        permission: Some(Permission::RevealPersonal),
        allowed: 422,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/persons/{id}/history",
        target: Target::Person,
        body: |_| None,
        permission: Some(Permission::ReadRegistry),
        allowed: 200,
    },
    RouteCase {
        method: Method::DELETE,
        path: "/api/v1/persons/{id}",
        target: Target::Person,
        body: |_| None,
        permission: Some(Permission::EditRegistry),
        allowed: 422,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/households/{id}",
        target: Target::Household,
        body: |_| None,
        permission: Some(Permission::ReadRegistry),
        allowed: 200,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/households/{id}/file",
        target: Target::Household,
        body: |_| None,
        permission: Some(Permission::ReadRegistry),
        allowed: 200,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/households/{id}/history",
        target: Target::Household,
        body: |_| None,
        permission: Some(Permission::ReadRegistry),
        allowed: 200,
    },
    RouteCase {
        method: Method::PATCH,
        path: "/api/v1/households/{id}",
        target: Target::Household,
        body: |i| Some(json!({"version": i.version_bad})),
        permission: Some(Permission::EditRegistry),
        allowed: 409,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/households/{id}/verify",
        target: Target::Household,
        body: |_| Some(json!({"note": "很长".repeat(300)})),
        permission: Some(Permission::EditRegistry),
        allowed: 422,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/households/{id}/members",
        target: Target::Household,
        body: |_| {
            Some(json!({"person_id": "00000000-0000-7000-8000-000000000000", "relation": "other"}))
        },
        permission: Some(Permission::EditRegistry),
        allowed: 404,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/visits",
        target: Target::Household,
        body: |i| Some(json!({"household_id": i.target, "mode": "no-such-mode"})),
        permission: Some(Permission::EditRegistry),
        allowed: 422,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/registry/stats?area_id={id}",
        target: Target::Area,
        body: |_| None,
        permission: Some(Permission::ReadRegistry),
        allowed: 200,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/dwellings",
        target: Target::Area,
        body: |i| Some(json!({"building_id": i.target, "room": "", "usage": "rented"})),
        permission: Some(Permission::EditRegistry),
        allowed: 422,
    },
    // 接诉即办
    RouteCase {
        method: Method::GET,
        path: "/api/v1/cases/{id}",
        target: Target::Case,
        body: |_| None,
        permission: Some(Permission::ReadCases),
        allowed: 200,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/cases/{id}/timeline",
        target: Target::Case,
        body: |_| None,
        permission: Some(Permission::ReadCases),
        allowed: 200,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/cases/{id}/actions/register",
        target: Target::Case,
        body: |i| Some(json!({"version": i.version_bad})),
        permission: Some(Permission::DispatchCases),
        allowed: 409,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/cases/{id}/whistles",
        target: Target::Case,
        body: |i| Some(json!({"version": i.version_bad, "kind": "daily", "unit_ids": []})),
        permission: Some(Permission::ArbitrateCases),
        allowed: 409,
    },
    // Only members of a summoned unit report in; nobody here is one.
    RouteCase {
        method: Method::POST,
        path: "/api/v1/cases/{id}/whistles/00000000-0000-7000-8000-000000000000/arrive",
        target: Target::Case,
        body: |_| Some(json!({"unit_id": "00000000-0000-7000-8000-000000000000"})),
        permission: None,
        allowed: 403,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/cases/map?area_id={id}",
        target: Target::Area,
        body: |_| None,
        permission: Some(Permission::ReadCases),
        allowed: 200,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/case-stats?area_id={id}",
        target: Target::Area,
        body: |_| None,
        permission: Some(Permission::ReadCases),
        allowed: 200,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/case-stats/trend?area_id={id}",
        target: Target::Area,
        body: |_| None,
        permission: Some(Permission::ReadCases),
        allowed: 200,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/case-stats/ranking?by=community&area_id={id}",
        target: Target::Area,
        body: |_| None,
        permission: Some(Permission::ReadCases),
        allowed: 200,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/case-stats/hotspots?area_id={id}",
        target: Target::Area,
        body: |_| None,
        permission: Some(Permission::ReadCases),
        allowed: 200,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/case-routing?category_code=0602&area_id={id}",
        target: Target::Area,
        body: |_| None,
        permission: Some(Permission::DispatchCases),
        allowed: 200,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/case-units",
        target: Target::Area,
        body: |i| Some(json!({"name": "", "kind": "department", "area_id": i.target})),
        permission: Some(Permission::ManageCaseUnits),
        allowed: 422,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/case-units/{id}",
        target: Target::Unit,
        body: |_| None,
        permission: None,
        allowed: 200,
    },
    RouteCase {
        method: Method::PATCH,
        path: "/api/v1/case-units/{id}",
        target: Target::Unit,
        body: |i| Some(json!({"version": i.version_bad})),
        permission: Some(Permission::ManageCaseUnits),
        allowed: 409,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/case-units/{id}/duties",
        target: Target::Unit,
        body: |_| None,
        permission: None,
        allowed: 200,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/case-units/{id}/duties",
        target: Target::Unit,
        body: |i| {
            Some(json!({"name": "", "legal_basis": "", "category_codes": [], "area_id": i.target}))
        },
        permission: Some(Permission::ManageCaseUnits),
        allowed: 422,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/case-units/{id}/members",
        target: Target::Unit,
        body: |_| None,
        permission: None,
        allowed: 200,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/case-units/{id}/members",
        target: Target::Unit,
        body: |_| Some(json!({"member_id": "00000000-0000-7000-8000-000000000000"})),
        permission: Some(Permission::ManageCaseUnits),
        allowed: 422,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/dwellings/{id}",
        target: Target::Dwelling,
        body: |_| None,
        permission: Some(Permission::ReadRegistry),
        allowed: 200,
    },
    RouteCase {
        method: Method::PATCH,
        path: "/api/v1/dwellings/{id}",
        target: Target::Dwelling,
        body: |i| Some(json!({"version": i.version_bad})),
        permission: Some(Permission::EditRegistry),
        allowed: 409,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/dwellings/{id}/owners",
        target: Target::Dwelling,
        body: |_| Some(json!({"owner_name": ""})),
        permission: Some(Permission::EditRegistry),
        allowed: 422,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/legal-entities/{id}",
        target: Target::Entity,
        body: |_| None,
        permission: Some(Permission::ReadRegistry),
        allowed: 200,
    },
    RouteCase {
        method: Method::PATCH,
        path: "/api/v1/needs/{id}",
        target: Target::Need,
        body: |i| Some(json!({"version": i.version_bad})),
        permission: Some(Permission::EditRegistry),
        allowed: 409,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/needs/{id}/case",
        target: Target::Need,
        body: |_| Some(json!({"category_code": "no-such-category"})),
        permission: Some(Permission::EditRegistry),
        allowed: 422,
    },
    RouteCase {
        method: Method::POST,
        // In scope: 403 without edit_registry, else 404 for a member the household does not have.
        path: "/api/v1/households/{id}/members/00000000-0000-7000-8000-000000000000/end",
        target: Target::Household,
        body: |_| Some(json!({"reason": "bad-reason"})),
        permission: Some(Permission::EditRegistry),
        allowed: 404,
    },
    RouteCase {
        method: Method::PATCH,
        path: "/api/v1/case-duties/{id}",
        target: Target::Duty,
        body: |i| Some(json!({"version": i.version_bad})),
        permission: Some(Permission::ManageCaseUnits),
        allowed: 409,
    },
    RouteCase {
        method: Method::DELETE,
        path: "/api/v1/case-units/{id}/members/00000000-0000-7000-8000-000000000000",
        target: Target::Unit,
        body: |_| None,
        permission: Some(Permission::ManageCaseUnits),
        allowed: 404,
    },
    // Creating under an area named in the body: out of scope is 404 like any other id.
    RouteCase {
        method: Method::POST,
        path: "/api/v1/persons",
        target: Target::Area,
        body: |i| {
            Some(json!({"area_id": i.target, "name": "", "id_no": "x", "residence_type": "hukou"}))
        },
        permission: Some(Permission::EditRegistry),
        allowed: 422,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/households",
        target: Target::Dwelling,
        body: |i| Some(json!({"dwelling_id": i.target, "kind": "no-such-kind"})),
        permission: Some(Permission::EditRegistry),
        allowed: 422,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/legal-entities",
        target: Target::Area,
        body: |i| Some(json!({"area_id": i.target, "name": "", "uscc": "x", "kind": "company"})),
        permission: Some(Permission::EditRegistry),
        allowed: 422,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/party-orgs",
        target: Target::Area,
        body: |i| Some(json!({"area_id": i.target, "kind": "no-such-kind", "name": ""})),
        permission: Some(Permission::EditPartyOrgs),
        allowed: 422,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/community-channels/{id}",
        target: Target::Channel,
        body: |_| None,
        permission: Some(Permission::ReadRegistry),
        allowed: 200,
    },
    RouteCase {
        method: Method::PATCH,
        path: "/api/v1/community-channels/{id}",
        target: Target::Channel,
        body: |i| Some(json!({"version": i.version_bad})),
        permission: Some(Permission::EditRegistry),
        allowed: 409,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/community-channels/{id}/retire",
        target: Target::Channel,
        body: |i| Some(json!({"version": i.version_bad, "reason": "范围测试"})),
        permission: Some(Permission::EditAreas),
        allowed: 409,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/community-channels/{id}/merge",
        target: Target::Channel,
        // Into itself: refused by its field, after scope and permission.
        body: |i| {
            Some(json!({"version": i.version_bad, "reason": "范围测试", "into_id": i.target}))
        },
        permission: Some(Permission::EditAreas),
        allowed: 422,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/community-channels?area_id={id}",
        target: Target::Area,
        body: |_| None,
        permission: None,
        allowed: 200,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/community-channels",
        target: Target::Area,
        body: |i| {
            Some(
                json!({"community_id": i.target, "kind": "no-such-kind", "name": "", "audience": ""}),
            )
        },
        permission: Some(Permission::EditRegistry),
        allowed: 422,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/notices/{id}",
        target: Target::Notice,
        body: |_| None,
        permission: Some(Permission::ReadRegistry),
        allowed: 200,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/notices/{id}/households",
        target: Target::Notice,
        body: |_| None,
        permission: Some(Permission::ReadRegistry),
        allowed: 200,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/notices/{id}/withdraw",
        target: Target::Notice,
        body: |_| Some(json!({"reason": ""})),
        permission: Some(Permission::SendNotices),
        allowed: 422,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/notices/{id}/remind",
        target: Target::Notice,
        body: |_| Some(json!({})),
        permission: Some(Permission::SendNotices),
        allowed: 200,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/notices?area_id={id}",
        target: Target::Area,
        body: |_| None,
        permission: Some(Permission::ReadRegistry),
        allowed: 200,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/notices",
        target: Target::Area,
        body: |i| Some(json!({"area_id": i.target, "title": "", "body": ""})),
        permission: Some(Permission::SendNotices),
        allowed: 422,
    },
    RouteCase {
        method: Method::GET,
        path: "/api/v1/questions/{id}",
        target: Target::Question,
        body: |_| None,
        permission: Some(Permission::AnswerQuestions),
        allowed: 200,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/questions/{id}/answer",
        target: Target::Question,
        body: |_| Some(json!({"answer": ""})),
        permission: Some(Permission::AnswerQuestions),
        allowed: 422,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/questions/{id}/publish",
        target: Target::Question,
        body: |_| Some(json!({"public_title": "", "public_body": ""})),
        permission: Some(Permission::AnswerQuestions),
        allowed: 422,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/questions/{id}/unpublish",
        target: Target::Question,
        body: |_| Some(json!({})),
        permission: Some(Permission::AnswerQuestions),
        allowed: 200,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/questions/{id}/link",
        target: Target::Question,
        body: |_| Some(json!({"to": uuid::Uuid::nil()})),
        permission: Some(Permission::AnswerQuestions),
        allowed: 422,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/questions/{id}/route",
        target: Target::Question,
        body: |_| Some(json!({"unit_id": uuid::Uuid::nil()})),
        permission: Some(Permission::AnswerQuestions),
        allowed: 422,
    },
    RouteCase {
        method: Method::POST,
        path: "/api/v1/questions/{id}/decline",
        target: Target::Question,
        body: |_| Some(json!({"reason": ""})),
        permission: Some(Permission::AnswerQuestions),
        allowed: 422,
    },
];

/// Routes without an area target: (method, path, body, permission, allowed status).
const GLOBAL_ROUTES: &[(&str, &str, Option<Permission>, u16)] = &[
    ("GET", "/api/v1/me", None, 200),
    ("GET", "/api/v1/areas/roots", None, 200),
    ("GET", "/api/v1/notices", None, 200),
    ("GET", "/api/v1/questions", None, 200),
    (
        "GET",
        "/api/v1/questions?status=all&overdue=true",
        None,
        200,
    ),
    ("GET", "/api/v1/resident-claims", None, 200),
    ("GET", "/api/v1/party-orgs/roots", None, 200),
    ("GET", "/api/v1/areas?q=1306", None, 200),
    ("GET", "/api/v1/party-orgs?q=%E5%85%9A", None, 200),
    ("GET", "/api/v1/audit", Some(Permission::ReadAudit), 200),
    ("GET", "/api/v1/cases/export.xlsx", None, 200),
    (
        "GET",
        "/api/v1/case-stats/export.xlsx",
        Some(Permission::ReadCases),
        200,
    ),
    (
        "GET",
        "/api/v1/exports/visits.xlsx",
        Some(Permission::ReadRegistry),
        200,
    ),
    (
        "GET",
        "/api/v1/exports/service-hours.xlsx",
        Some(Permission::ReadService),
        200,
    ),
    (
        "GET",
        "/api/v1/exports/postings.xlsx",
        Some(Permission::ReadService),
        200,
    ),
    (
        "POST",
        "/api/v1/audit/checkpoints",
        Some(Permission::SignAuditCheckpoints),
        201,
    ),
    ("GET", "/api/v1/users", Some(Permission::ManageUsers), 200),
    ("GET", "/api/v1/roles", None, 200),
    (
        "POST",
        "/api/v1/import/volunteers?mode=dry_run",
        Some(Permission::ManageService),
        422,
    ),
    (
        "POST",
        "/api/v1/import/party-members?mode=dry_run",
        Some(Permission::ManageService),
        422,
    ),
    ("GET", "/api/v1/import/templates/volunteers.csv", None, 200),
    (
        "POST",
        "/api/v1/import/legal-entities?mode=dry_run",
        Some(Permission::EditRegistry),
        422,
    ),
    (
        "GET",
        "/api/v1/import/templates/legal-entities.csv",
        None,
        200,
    ),
    (
        "GET",
        "/api/v1/import/templates/party-members.csv",
        None,
        200,
    ),
    (
        "POST",
        "/api/v1/import/areas?mode=dry_run",
        Some(Permission::EditAreas),
        422,
    ),
    (
        "GET",
        "/api/v1/import/templates/areas.csv",
        Some(Permission::EditAreas),
        200,
    ),
    (
        "GET",
        "/api/v1/users/import/template.xlsx",
        Some(Permission::ManageUsers),
        200,
    ),
    (
        "GET",
        "/api/v1/community-channels/import/template.xlsx",
        None,
        200,
    ),
    (
        "POST",
        "/api/v1/community-channels/import?mode=dry_run",
        Some(Permission::EditRegistry),
        422,
    ),
    (
        "POST",
        "/api/v1/users/import?mode=dry_run",
        Some(Permission::ManageUsers),
        422,
    ),
    (
        "GET",
        "/api/v1/users/00000000-0000-7000-8000-000000000000/sessions",
        Some(Permission::ManageUsers),
        404,
    ),
    (
        "DELETE",
        "/api/v1/users/00000000-0000-7000-8000-000000000000/sessions",
        Some(Permission::ManageUsers),
        404,
    ),
    (
        "POST",
        "/api/v1/users/00000000-0000-7000-8000-000000000000/reveal-phone",
        Some(Permission::ManageUsers),
        404,
    ),
    (
        "GET",
        "/api/v1/users/00000000-0000-7000-8000-000000000000",
        Some(Permission::ManageUsers),
        404,
    ),
    (
        "PATCH",
        "/api/v1/users/00000000-0000-7000-8000-000000000000",
        Some(Permission::ManageUsers),
        404,
    ),
    ("POST", "/api/v1/users", Some(Permission::ManageUsers), 422),
    (
        "POST",
        "/api/v1/users/00000000-0000-7000-8000-000000000000/reset-password",
        Some(Permission::ManageUsers),
        404,
    ),
    (
        "POST",
        "/api/v1/users/00000000-0000-7000-8000-000000000000/grants",
        Some(Permission::ManageUsers),
        404,
    ),
    (
        "DELETE",
        "/api/v1/grants/00000000-0000-7000-8000-000000000000",
        Some(Permission::ManageUsers),
        404,
    ),
    ("GET", "/api/v1/tokens", Some(Permission::ManageSystem), 200),
    (
        "POST",
        "/api/v1/tokens",
        Some(Permission::ManageSystem),
        422,
    ),
    (
        "POST",
        "/api/v1/tokens/00000000-0000-7000-8000-000000000000/revoke",
        Some(Permission::ManageSystem),
        404,
    ),
    ("GET", "/api/v1/registry/vocab", None, 200),
    (
        "GET",
        "/api/v1/persons",
        Some(Permission::ReadRegistry),
        200,
    ),
    (
        "GET",
        "/api/v1/households",
        Some(Permission::ReadRegistry),
        200,
    ),
    (
        "GET",
        "/api/v1/dwellings",
        Some(Permission::ReadRegistry),
        200,
    ),
    ("GET", "/api/v1/visits", Some(Permission::ReadRegistry), 200),
    ("GET", "/api/v1/needs", Some(Permission::ReadRegistry), 200),
    (
        "GET",
        "/api/v1/legal-entities",
        Some(Permission::ReadRegistry),
        200,
    ),
    (
        "GET",
        "/api/v1/registry/stale",
        Some(Permission::ReadRegistry),
        200,
    ),
    (
        "POST",
        "/api/v1/import/persons?mode=yolo",
        Some(Permission::EditRegistry),
        422,
    ),
    ("GET", "/api/v1/import/templates/persons.csv", None, 200),
    (
        "GET",
        "/api/v1/export/persons.csv",
        Some(Permission::ReadRegistry),
        200,
    ),
    (
        "GET",
        "/api/v1/sharing-rules",
        Some(Permission::ManageSystem),
        200,
    ),
    (
        "POST",
        "/api/v1/sharing-rules/00000000-0000-7000-8000-000000000000/revoke",
        Some(Permission::ManageSystem),
        404,
    ),
    ("GET", "/api/v1/shared/rules", None, 200),
    ("GET", "/api/v1/case-categories", None, 200),
    (
        "POST",
        "/api/v1/case-categories",
        Some(Permission::ManageCaseDictionary),
        422,
    ),
    ("GET", "/api/v1/case-categories/export.csv", None, 200),
    ("GET", "/api/v1/calendar", None, 200),
    ("GET", "/api/v1/calendar/2026", None, 200),
    (
        "PUT",
        "/api/v1/calendar/2031",
        Some(Permission::ManageCaseDictionary),
        422,
    ),
    ("GET", "/api/v1/cases", None, 200),
    ("GET", "/api/v1/cases/counts", None, 200),
    ("GET", "/api/v1/my/cases", None, 200),
    ("GET", "/api/v1/cases/import/template.csv", None, 200),
    ("GET", "/api/v1/public/rate/not-a-token", None, 404),
    (
        "POST",
        "/api/v1/needs/00000000-0000-7000-8000-000000000000/case",
        None,
        404,
    ),
    (
        "POST",
        "/api/v1/cases/import?mode=yolo",
        Some(Permission::DispatchCases),
        422,
    ),
    ("GET", "/api/v1/case-units", None, 200),
    (
        "GET",
        "/api/v1/files/00000000-0000-7000-8000-000000000000",
        None,
        404,
    ),
    (
        "GET",
        "/api/v1/shared/rules/00000000-0000-7000-8000-000000000000/persons",
        None,
        404,
    ),
];

/// Demo users, one per role, and the area code of their grant.
const USERS: &[(&str, Role)] = &[
    ("admin", Role::SystemAdmin),
    ("jiedao", Role::StreetAdmin),
    ("shequ", Role::CommunityWorker),
    ("wangge", Role::GridWorker),
    ("louzhang", Role::BuildingLeader),
    ("shuji", Role::PartySecretary),
    ("bumen", Role::DepartmentHandler),
    ("danwei", Role::WorkUnitContact),
    ("zhiyuan", Role::Volunteer),
    ("jumin", Role::Resident),
    ("quji", Role::DistrictAdmin),
    ("rexian", Role::HotlineCentre),
    ("shequzhuren", Role::CommunityAdmin),
];

async fn grant_area(app: &TestApp, username: &str) -> Option<uuid::Uuid> {
    #[derive(sea_orm::FromQueryResult)]
    struct A {
        area_id: Option<uuid::Uuid>,
    }
    gongzhi::store::fetch_opt::<A, _>(
        &app.state.db,
        "SELECT g.area_id FROM grants g JOIN users u ON u.id = g.user_id WHERE u.username = $1",
        vec![username.to_string().into()],
    )
    .await
    .unwrap()
    .and_then(|a| a.area_id)
}

/// A party organisation tied to the area or below it.
/// A person and a household living under the area.
async fn registry_under(app: &TestApp, area: uuid::Uuid) -> (String, String) {
    #[derive(sea_orm::FromQueryResult)]
    struct I {
        id: uuid::Uuid,
    }
    let q = |table: &str| {
        format!(
            "SELECT t.id FROM {table} t JOIN area_closure c ON c.descendant_id = t.area_id WHERE c.ancestor_id = $1 \
             AND t.deleted_at IS NULL ORDER BY t.id LIMIT 1"
        )
    };
    let p = gongzhi::store::fetch_opt::<I, _>(&app.state.db, &q("persons"), vec![area.into()])
        .await
        .unwrap()
        .expect("a person");
    let h = gongzhi::store::fetch_opt::<I, _>(&app.state.db, &q("households"), vec![area.into()])
        .await
        .unwrap()
        .expect("a household");
    (p.id.to_string(), h.id.to_string())
}

/// Somewhere no demo user but admin may see: a community in 莲池区 with a resident.
async fn outside_registry(app: &TestApp) -> (String, String) {
    let a = app.admin().await;
    let street = app.area_id("130606001000").await;
    let c = a.post("/api/v1/areas", json!({"parent_id": street, "kind": "community", "name": "和平社区", "code": "130606001001"})).await;
    let g = a.post("/api/v1/areas", json!({"parent_id": c.body["id"], "kind": "grid", "name": "第1网格", "code": "130606001001001"})).await;
    let b = a.post("/api/v1/areas", json!({"parent_id": g.body["id"], "kind": "building", "name": "1号楼", "code": "130606001001001001"})).await;
    let d = a
        .post(
            "/api/v1/dwellings",
            json!({"building_id": b.body["id"], "room": "101", "usage": "self_occupied"}),
        )
        .await;
    let h = a
        .post(
            "/api/v1/households",
            json!({"dwelling_id": d.body["id"], "kind": "registered"}),
        )
        .await;
    let first17 = "13060619700101001";
    let id = id_no(first17);
    let p = a.post("/api/v1/persons", json!({"area_id": b.body["id"], "name": "外区居民", "id_no": id, "residence_type": "hukou"})).await;
    assert_eq!(p.status, reqwest::StatusCode::CREATED, "{}", p.text);
    (
        p.body["id"].as_str().unwrap().to_string(),
        h.body["id"].as_str().unwrap().to_string(),
    )
}

async fn org_under(app: &TestApp, area: uuid::Uuid) -> String {
    #[derive(sea_orm::FromQueryResult)]
    struct I {
        id: uuid::Uuid,
    }
    gongzhi::store::fetch_opt::<I, _>(
        &app.state.db,
        "SELECT o.id FROM party_orgs o JOIN area_closure c ON c.descendant_id = o.area_id WHERE c.ancestor_id = $1 \
         ORDER BY c.depth, o.name LIMIT 1",
        vec![area.into()],
    )
    .await
    .unwrap()
    .expect("an organisation under the area")
    .id
    .to_string()
}

/// A case at the area, submitted by admin (so no demo user is its requester).
async fn case_at(app: &TestApp, a: &Client, area: &str) -> String {
    // A district grant: the case lies in a grid below it.
    #[derive(sea_orm::FromQueryResult)]
    struct I {
        id: uuid::Uuid,
    }
    let grid = gongzhi::store::fetch_opt::<I, _>(
        &app.state.db,
        "SELECT a.id FROM areas a JOIN area_closure c ON c.descendant_id = a.id \
         WHERE c.ancestor_id = $1 AND a.kind = 'grid' AND (SELECT kind FROM areas WHERE id = $1) = 'district' \
         ORDER BY a.code LIMIT 1",
        vec![uuid::Uuid::parse_str(area).unwrap().into()],
    )
    .await
    .unwrap()
    .map(|g| g.id.to_string());
    let area = grid.as_deref().unwrap_or(area);
    let r = a
        .post(
            "/api/v1/cases",
            json!({"kind": "help", "category_code": "0602", "description": "范围测试",
                   "location": {"area_id": area}, "requester": {"name": "测试"}}),
        )
        .await;
    assert_eq!(r.status, reqwest::StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

/// A handling unit serving the area.
async fn unit_at(a: &Client, area: &str, name: &str) -> String {
    let r = a
        .post(
            "/api/v1/case-units",
            json!({"name": name, "kind": "other", "area_id": area}),
        )
        .await;
    assert_eq!(r.status, reqwest::StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

/// The first row of `table` whose `col` lies under the area.
async fn row_under(app: &TestApp, table: &str, col: &str, area: &str) -> Option<String> {
    #[derive(sea_orm::FromQueryResult)]
    struct I {
        id: uuid::Uuid,
    }
    gongzhi::store::fetch_opt::<I, _>(
        &app.state.db,
        &format!(
            "SELECT t.id FROM {table} t JOIN area_closure c ON c.descendant_id = t.{col} WHERE c.ancestor_id = $1 \
             ORDER BY t.id LIMIT 1"
        ),
        vec![uuid::Uuid::parse_str(area).unwrap().into()],
    )
    .await
    .unwrap()
    .map(|i| i.id.to_string())
}

/// A dwelling, a legal entity, a need and a duty of the area; admin makes the ones the demo lacks.
async fn registry_targets(
    app: &TestApp,
    a: &Client,
    area: &str,
    household: &str,
    unit: &str,
    tag: &str,
) -> (String, String, String, String) {
    let dwelling = row_under(app, "dwellings", "building_id", area)
        .await
        .expect("a dwelling under the area");
    let entity = match row_under(app, "legal_entities", "area_id", area).await {
        Some(e) => e,
        None => {
            let building = row_under(app, "areas", "id", area).await;
            #[derive(sea_orm::FromQueryResult)]
            struct I {
                id: uuid::Uuid,
            }
            let b = gongzhi::store::fetch_opt::<I, _>(
                &app.state.db,
                "SELECT a.id FROM areas a JOIN area_closure c ON c.descendant_id = a.id WHERE c.ancestor_id = $1 \
                 AND a.kind = 'building' ORDER BY a.code LIMIT 1",
                vec![uuid::Uuid::parse_str(area).unwrap().into()],
            )
            .await
            .unwrap()
            .map(|i| i.id.to_string())
            .or(building)
            .unwrap();
            let n = tag.bytes().fold(2_166_136_261u32, |h, b| {
                (h ^ b as u32).wrapping_mul(16_777_619)
            });
            let first17 = format!("91130602MA0{:0>6}", n % 1_000_000);
            let uscc = format!(
                "{first17}{}",
                gongzhi::domain::ids::uscc_check_char(&first17).unwrap()
            );
            let r = a
                .post(
                    "/api/v1/legal-entities",
                    json!({"area_id": b, "name": format!("范围测试单位{tag}"), "uscc": uscc, "kind": "company"}),
                )
                .await;
            assert_eq!(r.status, reqwest::StatusCode::CREATED, "{}", r.text);
            r.body["id"].as_str().unwrap().to_string()
        }
    };
    let r = a
        .post(
            "/api/v1/visits",
            json!({"household_id": household, "mode": "phone",
                   "needs": [{"category": "medical", "urgency": "low", "description": "范围测试"}]}),
        )
        .await;
    assert_eq!(r.status, reqwest::StatusCode::CREATED, "{}", r.text);
    let need = row_under(app, "needs", "area_id", area)
        .await
        .expect("the need just recorded");
    #[derive(sea_orm::FromQueryResult)]
    struct U {
        area_id: uuid::Uuid,
    }
    let u = app
        .one::<U>(
            "SELECT area_id FROM case_units WHERE id = $1",
            vec![uuid::Uuid::parse_str(unit).unwrap().into()],
        )
        .await;
    let r = a
        .post(
            &format!("/api/v1/case-units/{unit}/duties"),
            json!({"name": "范围测试职责", "legal_basis": "《测试条例》第一条", "category_codes": ["06"], "area_id": u.area_id}),
        )
        .await;
    assert_eq!(r.status, reqwest::StatusCode::CREATED, "{}", r.text);
    let duty = r.body["id"].as_str().unwrap().to_string();
    (dwelling, entity, need, duty)
}

/// A resident's question to the first community at or under the area (asked in admin's name,
/// written directly: the daily limit of five is not what this test is about); `""` under a
/// community.
async fn question_under(app: &TestApp, area: &str) -> String {
    #[derive(sea_orm::FromQueryResult)]
    struct C {
        id: uuid::Uuid,
        street_id: uuid::Uuid,
    }
    let Some(c) = gongzhi::store::fetch_opt::<C, _>(
        &app.state.db,
        "SELECT a.id, a.parent_id AS street_id FROM areas a JOIN area_closure c ON c.descendant_id = a.id \
         WHERE c.ancestor_id = $1 AND a.kind = 'community' ORDER BY a.code LIMIT 1",
        vec![uuid::Uuid::parse_str(area).unwrap().into()],
    )
    .await
    .unwrap() else {
        return String::new();
    };
    let id = uuid::Uuid::now_v7();
    gongzhi::store::exec(
        &app.state.db,
        "INSERT INTO questions (id, no, street_id, community_id, route_rule, asker_id, asker_label, title, body, \
         status, due_at, created_at, updated_at) SELECT $1, 'Q-SCOPE', $2, $3, 'none', u.id, '管*', '范围测试', \
         '范围测试', 'open', 0, 0, 0 FROM users u WHERE u.username = 'admin'",
        vec![id.into(), c.street_id.into(), c.id.into()],
    )
    .await
    .unwrap();
    id.to_string()
}

/// A notice to an area, published by admin, told to nobody's role.
async fn notice_at(setup: &Client, area: &str) -> String {
    let r = setup
        .post(
            "/api/v1/notices",
            json!({"area_id": area, "title": "范围测试通知", "body": "范围测试"}),
        )
        .await;
    assert_eq!(r.status, reqwest::StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

fn holds(role: Role, perm: Option<Permission>) -> bool {
    perm.map(|p| p.roles().contains(&role)).unwrap_or(true)
}

#[tokio::test]
async fn every_route_for_every_role_in_and_out_of_scope() {
    let app = spawn_app().await;
    let outside_area = app.area_id("130606001000").await; // 和平里街道, 莲池区
    let outside_org = org_under(&app, uuid::Uuid::parse_str(&outside_area).unwrap()).await;
    let (outside_person, outside_household) = outside_registry(&app).await;
    let outside_grid = app.area_id("130606001001001").await;
    let setup = app.admin().await;
    let outside_case = case_at(&app, &setup, &outside_grid).await;
    let outside_unit = unit_at(&setup, &outside_area, "外区单位").await;
    let outside_channel = {
        let community = app.area_id("130606001001").await;
        let r = setup
            .post(
                "/api/v1/community-channels",
                json!({"community_id": community, "kind": "微信群", "name": "和平社区居民群", "audience": "和平社区全体居民"}),
            )
            .await;
        assert_eq!(r.status, reqwest::StatusCode::CREATED, "{}", r.text);
        r.body["id"].as_str().unwrap().to_string()
    };
    let outside_notice = notice_at(&setup, &outside_area).await;
    let outside_question = question_under(&app, &outside_area).await;
    let (outside_dwelling, outside_entity, outside_need, outside_duty) = registry_targets(
        &app,
        &setup,
        &outside_area,
        &outside_household,
        &outside_unit,
        "外区",
    )
    .await;
    let mut failures = vec![];
    let mut checked = 0;
    for (username, role) in USERS {
        let client = if *username == "admin" {
            setup.clone()
        } else {
            app.demo_user(username).await
        };
        let inside_area = match grant_area(&app, username).await {
            Some(a) => a,
            None => uuid::Uuid::parse_str(&app.area_id("130602001001").await).unwrap(),
        };
        let inside_org = org_under(&app, inside_area).await;
        let (inside_person, inside_household) = registry_under(&app, inside_area).await;
        let inside_case = case_at(&app, &setup, &inside_area.to_string()).await;
        let inside_unit = unit_at(
            &setup,
            &inside_area.to_string(),
            &format!("测试单位{username}"),
        )
        .await;
        let inside_channel = row_under(
            &app,
            "community_channels",
            "community_id",
            &inside_area.to_string(),
        )
        .await;
        let inside_notice = notice_at(&setup, &inside_area.to_string()).await;
        let inside_question = question_under(&app, &inside_area.to_string()).await;
        let (inside_dwelling, inside_entity, inside_need, inside_duty) = registry_targets(
            &app,
            &setup,
            &inside_area.to_string(),
            &inside_household,
            &inside_unit,
            username,
        )
        .await;
        for route in ROUTES {
            let pick = |inside: bool| match (route.target, inside) {
                (Target::Area, true) => inside_area.to_string(),
                (Target::Area, false) => outside_area.clone(),
                (Target::PartyOrg, true) => inside_org.clone(),
                (Target::PartyOrg, false) => outside_org.clone(),
                (Target::Person, true) => inside_person.clone(),
                (Target::Person, false) => outside_person.clone(),
                (Target::Household, true) => inside_household.clone(),
                (Target::Household, false) => outside_household.clone(),
                (Target::Case, true) => inside_case.clone(),
                (Target::Case, false) => outside_case.clone(),
                (Target::Unit, true) => inside_unit.clone(),
                (Target::Unit, false) => outside_unit.clone(),
                (Target::Dwelling, true) => inside_dwelling.clone(),
                (Target::Dwelling, false) => outside_dwelling.clone(),
                (Target::Entity, true) => inside_entity.clone(),
                (Target::Entity, false) => outside_entity.clone(),
                (Target::Need, true) => inside_need.clone(),
                (Target::Need, false) => outside_need.clone(),
                (Target::Duty, true) => inside_duty.clone(),
                (Target::Duty, false) => outside_duty.clone(),
                (Target::Channel, true) => inside_channel.clone().unwrap_or_default(),
                (Target::Channel, false) => outside_channel.clone(),
                (Target::Notice, true) => inside_notice.clone(),
                (Target::Notice, false) => outside_notice.clone(),
                (Target::Question, true) => inside_question.clone(),
                (Target::Question, false) => outside_question.clone(),
            };
            for (inside, target) in [(true, pick(true)), (false, pick(false))] {
                if !inside && *role == Role::SystemAdmin {
                    continue; // nothing is outside a system admin's scope
                }
                if target.is_empty() {
                    continue; // no channel lies under a grid or a building
                }
                let ids = Ids {
                    target: target.clone(),
                    version_bad: 999_999,
                };
                let path = route.path.replace("{id}", &target);
                let r = client
                    .send(route.method.clone(), &path, (route.body)(&ids))
                    .await;
                let expected = if !inside {
                    if route.path.contains("?under=") {
                        200
                    } else {
                        404
                    }
                } else if holds(*role, route.permission) {
                    // Routing explains a case at a street or below; a district user's own
                    // area is above that, which is a field error, not a scope one.
                    if route.path.starts_with("/api/v1/case-routing")
                        && matches!(role, Role::DistrictAdmin | Role::HotlineCentre)
                    {
                        422
                    } else {
                        route.allowed
                    }
                } else {
                    403
                };
                checked += 1;
                let mut ok = r.status.as_u16() == expected;
                // Out of scope, a search answers 200 with nothing in it.
                if ok && !inside && route.path.contains("?under=") {
                    ok = r.body.as_array().map(|a| a.is_empty()).unwrap_or(false);
                }
                if !ok {
                    failures.push(format!(
                        "{username} ({role:?}) {} {} [{}]: expected {expected}, got {} {}",
                        route.method,
                        route.path,
                        if inside { "in scope" } else { "out of scope" },
                        r.status,
                        r.text.chars().take(160).collect::<String>()
                    ));
                }
            }
        }
        for (method, path, perm, allowed) in GLOBAL_ROUTES {
            let body = if *method == "GET" || *method == "DELETE" {
                None
            } else {
                Some(json!({}))
            };
            let body = match *path {
                "/api/v1/users" => {
                    Some(json!({"username": "x", "display_name": "", "password": "p"}))
                }
                "/api/v1/tokens" => Some(json!({"name": "", "grants": []})),
                p if p.ends_with("/grants") => {
                    Some(json!({"role": "volunteer", "area_id": inside_area}))
                }
                p if p.ends_with("/reset-password") => Some(json!({"password": "Good#Pass123"})),
                p if p.ends_with("/reveal-phone") => Some(json!({"reason": "核对身份"})),
                "/api/v1/case-categories" => Some(json!({"code": "x", "name": "",
                    "response_limit": {"value": 0, "unit": "days"}, "handle_limit": {"value": 1, "unit": "days"},
                    "verify_limit": {"value": 1, "unit": "days"}})),
                p if p.ends_with("/case") => Some(json!({"category_code": "0601"})),
                p if p.starts_with("/api/v1/calendar/") => {
                    Some(json!({"days": [{"date": "bad", "kind": "holiday"}]}))
                }
                _ => body,
            };
            let r = client.send(method.parse().unwrap(), path, body).await;
            let expected = if holds(*role, *perm) { *allowed } else { 403 };
            checked += 1;
            if r.status.as_u16() != expected {
                failures.push(format!(
                    "{username} ({role:?}) {method} {path}: expected {expected}, got {} {}",
                    r.status,
                    r.text.chars().take(160).collect::<String>()
                ));
            }
        }
        // What a user can find is inside their grant.
        let r = client
            .get("/api/v1/areas?q=%E5%92%8C%E5%B9%B3%E9%87%8C")
            .await; // 和平里
        if *role != Role::SystemAdmin && !r.body.as_array().map(|a| a.is_empty()).unwrap_or(false) {
            failures.push(format!("{username} found 和平里 by search: {}", r.text));
        }
        let roots = client.get("/api/v1/areas/roots").await;
        if *role != Role::SystemAdmin
            && roots.body[0]["id"].as_str() != Some(&inside_area.to_string())
        {
            failures.push(format!(
                "{username}'s roots should be their grant area: {}",
                roots.text
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 500, "{checked}");
}

#[tokio::test]
async fn a_user_without_grants_sees_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    admin.post("/api/v1/users", json!({"username": "lonely", "display_name": "无授权", "password": "Solo#2026pw", "must_change_password": false})).await.expect_status(StatusCode::CREATED);
    let c = app.login("lonely", "Solo#2026pw").await;
    assert_eq!(c.get("/api/v1/areas/roots").await.body, json!([]));
    assert_eq!(c.get("/api/v1/areas?q=1").await.body, json!([]));
    let city = app.area_id(CITY).await;
    assert_eq!(
        c.get(&format!("/api/v1/areas/{city}")).await.status,
        StatusCode::NOT_FOUND
    );
}

// ---- 党员下沉、志愿服务、积分 (issue 5) ------------------------------------------------------

/// What a service route acts on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum S {
    /// The user's grant area.
    Area,
    /// The community of (or above, or first below) the grant.
    Community,
    Volunteer,
    Member,
    Activity,
    Account,
    Posting,
    Item,
    Certificate,
    /// A party organisation under the grant (for the work-unit contact route).
    Org,
    /// A registry person of the community who is not yet a volunteer.
    FreePerson,
}

struct ServiceRoute {
    method: &'static str,
    /// `{id}` is the target; `{vol}` the user's volunteer, `{year}` this year.
    path: &'static str,
    target: S,
    body: fn(&SIds) -> Option<Value>,
    permission: Option<Permission>,
    allowed: u16,
}

struct SIds {
    target: String,
    area: String,
    community: String,
    volunteer: String,
    account: String,
    account2: String,
    member: String,
    org: String,
    year: i32,
}

/// Each allowed answer is the route's own, for a body built to pass the checks of scope first.
const SERVICE_ROUTES: &[ServiceRoute] = &[
    ServiceRoute {
        method: "GET",
        path: "/api/v1/volunteers/{id}",
        target: S::Volunteer,
        body: |_| None,
        permission: Some(Permission::ReadService),
        allowed: 200,
    },
    ServiceRoute {
        method: "PATCH",
        path: "/api/v1/volunteers/{id}",
        target: S::Volunteer,
        body: |_| Some(json!({"skills": ["这项技能的名字实在是太长了超过了二十个字的上限"]})),
        permission: Some(Permission::ManageService),
        allowed: 422,
    },
    ServiceRoute {
        method: "GET",
        path: "/api/v1/volunteers/{id}/hours",
        target: S::Volunteer,
        body: |_| None,
        permission: Some(Permission::ReadService),
        allowed: 200,
    },
    ServiceRoute {
        method: "POST",
        path: "/api/v1/volunteers/{id}/hours",
        target: S::Volunteer,
        body: |_| Some(json!({"minutes": 0, "reason": "x"})),
        permission: Some(Permission::ManageService),
        allowed: 422,
    },
    ServiceRoute {
        method: "POST",
        path: "/api/v1/volunteers",
        target: S::FreePerson,
        body: |i| Some(json!({"person_id": i.target, "skills": ["助老"]})),
        permission: Some(Permission::ManageService),
        allowed: 201,
    },
    ServiceRoute {
        method: "POST",
        path: "/api/v1/party-members",
        target: S::FreePerson,
        body: |i| {
            Some(
                json!({"person_id": i.target, "org_id": i.org, "kind": "community", "joined_on": "2020-07-01", "status": "full"}),
            )
        },
        permission: Some(Permission::ManageService),
        allowed: 201,
    },
    ServiceRoute {
        method: "PATCH",
        path: "/api/v1/party-members/{id}",
        target: S::Member,
        body: |_| Some(json!({"status": "full", "version": 999999})),
        permission: Some(Permission::ManageService),
        allowed: 409,
    },
    ServiceRoute {
        method: "POST",
        path: "/api/v1/report-ins",
        target: S::Member,
        body: |i| {
            Some(
                json!({"member_id": i.target, "community_id": i.community, "reported_on": "2026-11-01", "commitment": "范围测试"}),
            )
        },
        permission: Some(Permission::ManageService),
        allowed: 201,
    },
    ServiceRoute {
        method: "PUT",
        path: "/api/v1/pairings",
        target: S::Community,
        body: |i| Some(json!({"org_id": i.org, "community_id": i.target})),
        permission: Some(Permission::ManageService),
        allowed: 409,
    },
    ServiceRoute {
        method: "POST",
        path: "/api/v1/activities",
        target: S::Area,
        body: |i| {
            Some(
                json!({"kind": "volunteer", "title": "范围测试", "area_id": i.target, "place": "广场", "starts_at": "2027-03-01T01:00:00Z", "ends_at": "2027-03-01T03:00:00Z", "capacity": 5}),
            )
        },
        permission: Some(Permission::ManageService),
        allowed: 201,
    },
    ServiceRoute {
        method: "GET",
        path: "/api/v1/activities/{id}",
        target: S::Activity,
        body: |_| None,
        permission: Some(Permission::ReadService),
        allowed: 200,
    },
    ServiceRoute {
        method: "GET",
        path: "/api/v1/activities/{id}/signups",
        target: S::Activity,
        body: |_| None,
        permission: Some(Permission::ReadService),
        allowed: 200,
    },
    ServiceRoute {
        method: "POST",
        path: "/api/v1/activities/{id}/signups",
        target: S::Activity,
        body: |i| Some(json!({"volunteer_id": i.volunteer})),
        permission: Some(Permission::ManageService),
        allowed: 201,
    },
    ServiceRoute {
        method: "PUT",
        path: "/api/v1/activities/{id}/signups/{vol}/insurance",
        target: S::Activity,
        body: |_| Some(json!({"insurer": "", "policy_no": ""})),
        permission: Some(Permission::ManageService),
        allowed: 422,
    },
    ServiceRoute {
        method: "POST",
        path: "/api/v1/activities/{id}/attendance",
        target: S::Activity,
        body: |i| Some(json!({"volunteer_id": i.volunteer, "direction": "sideways"})),
        permission: Some(Permission::ManageService),
        allowed: 422,
    },
    ServiceRoute {
        method: "DELETE",
        path: "/api/v1/activities/{id}/signups/{vol}",
        target: S::Activity,
        body: |_| None,
        permission: Some(Permission::ManageService),
        allowed: 200,
    },
    ServiceRoute {
        method: "GET",
        path: "/api/v1/activities/{id}/qr?direction=in",
        target: S::Activity,
        body: |_| None,
        permission: Some(Permission::ManageService),
        allowed: 200,
    },
    ServiceRoute {
        method: "POST",
        path: "/api/v1/activities/{id}/checkout-all",
        target: S::Activity,
        body: |_| Some(json!({})),
        permission: Some(Permission::ManageService),
        allowed: 200,
    },
    ServiceRoute {
        method: "POST",
        path: "/api/v1/activities/{id}/confirm",
        target: S::Activity,
        body: |_| Some(json!({})),
        permission: Some(Permission::ManageService),
        allowed: 422,
    },
    ServiceRoute {
        method: "POST",
        path: "/api/v1/activities/{id}/signup",
        target: S::Activity,
        body: |_| Some(json!({})),
        permission: None,
        allowed: 0,
    },
    ServiceRoute {
        method: "DELETE",
        path: "/api/v1/activities/{id}/signup",
        target: S::Activity,
        body: |_| None,
        permission: None,
        allowed: 0,
    },
    ServiceRoute {
        method: "POST",
        path: "/api/v1/activities/{id}/cancel",
        target: S::Activity,
        body: |_| Some(json!({})),
        permission: Some(Permission::ManageService),
        allowed: 200,
    },
    ServiceRoute {
        method: "GET",
        path: "/api/v1/points/rules?area_id={id}",
        target: S::Area,
        body: |_| None,
        permission: Some(Permission::ReadService),
        allowed: 200,
    },
    ServiceRoute {
        method: "PUT",
        path: "/api/v1/points/rules",
        target: S::Area,
        body: |i| {
            Some(
                json!({"area_id": i.target, "event": "hour", "points": 1, "cap": 80, "cap_period": "month"}),
            )
        },
        permission: Some(Permission::ManageService),
        allowed: 200,
    },
    ServiceRoute {
        method: "GET",
        path: "/api/v1/points/accounts/{id}",
        target: S::Account,
        body: |_| None,
        permission: Some(Permission::ReadService),
        allowed: 200,
    },
    ServiceRoute {
        method: "GET",
        path: "/api/v1/points/accounts/{id}/postings",
        target: S::Account,
        body: |_| None,
        permission: Some(Permission::ReadService),
        allowed: 200,
    },
    ServiceRoute {
        method: "POST",
        path: "/api/v1/points/postings",
        target: S::Account,
        body: |i| {
            Some(
                json!({"account_id": i.target, "direction": "earn", "amount": 1, "note": "范围测试"}),
            )
        },
        permission: Some(Permission::ManageService),
        allowed: 201,
    },
    ServiceRoute {
        method: "POST",
        path: "/api/v1/points/postings/{id}/reverse",
        target: S::Posting,
        body: |_| Some(json!({"reason": ""})),
        permission: Some(Permission::ManageService),
        allowed: 422,
    },
    ServiceRoute {
        method: "POST",
        path: "/api/v1/points/donations",
        target: S::Account,
        body: |i| {
            Some(json!({"from_account_id": i.target, "to_account_id": i.account2, "amount": 1}))
        },
        permission: Some(Permission::ManageService),
        allowed: 201,
    },
    ServiceRoute {
        method: "POST",
        path: "/api/v1/catalog",
        target: S::Community,
        body: |i| {
            Some(json!({"community_id": i.target, "name": "范围测试", "price": 1, "stock": 1}))
        },
        permission: Some(Permission::ManageService),
        allowed: 201,
    },
    ServiceRoute {
        method: "PATCH",
        path: "/api/v1/catalog/{id}",
        target: S::Item,
        body: |_| Some(json!({"version": 999999})),
        permission: Some(Permission::ManageService),
        allowed: 409,
    },
    ServiceRoute {
        method: "POST",
        path: "/api/v1/catalog/{id}/redeem",
        target: S::Item,
        body: |i| Some(json!({"account_id": i.account, "qty": 0})),
        permission: Some(Permission::ManageService),
        allowed: 422,
    },
    ServiceRoute {
        method: "PUT",
        path: "/api/v1/party-reviews",
        target: S::Member,
        body: |i| Some(json!({"member_id": i.target, "year": i.year, "score": 80})),
        permission: Some(Permission::ManageService),
        allowed: 204,
    },
    ServiceRoute {
        method: "POST",
        path: "/api/v1/party-ratings/compute",
        target: S::Area,
        body: |i| Some(json!({"area_id": i.target, "year": i.year})),
        permission: Some(Permission::ManageService),
        allowed: 200,
    },
    ServiceRoute {
        method: "POST",
        path: "/api/v1/commendations",
        target: S::Volunteer,
        body: |i| {
            Some(
                json!({"volunteer_id": i.target, "title": "范围测试", "level": "社区级", "awarded_on": "2026-11-01", "reason": "测试"}),
            )
        },
        permission: Some(Permission::ManageService),
        allowed: 201,
    },
    ServiceRoute {
        method: "POST",
        path: "/api/v1/certificates",
        target: S::Volunteer,
        body: |i| Some(json!({"volunteer_id": i.target})),
        permission: Some(Permission::ManageService),
        allowed: 201,
    },
    ServiceRoute {
        method: "GET",
        path: "/api/v1/certificates/{id}/pdf",
        target: S::Certificate,
        body: |_| None,
        permission: Some(Permission::ReadService),
        allowed: 200,
    },
    ServiceRoute {
        method: "POST",
        path: "/api/v1/work-units/{id}/contacts",
        target: S::Org,
        body: |_| Some(json!({"username": "nosuchuser"})),
        permission: Some(Permission::EditPartyOrgs),
        allowed: 422,
    },
    ServiceRoute {
        method: "GET",
        path: "/api/v1/work-unit/members/{id}/sheet?format=pdf",
        target: S::Member,
        body: |_| None,
        permission: None,
        allowed: 0,
    },
];

/// Service routes without a target: (method, path, what each role gets).
const SERVICE_GLOBAL: &[(&str, &str, fn(Role) -> u16)] = &[
    ("GET", "/api/v1/volunteers", read),
    ("GET", "/api/v1/volunteers/load", read),
    ("GET", "/api/v1/party-members", read),
    ("GET", "/api/v1/report-ins", read),
    ("GET", "/api/v1/report-ins/overdue", read),
    ("GET", "/api/v1/pairings", read),
    ("GET", "/api/v1/activities", read),
    ("GET", "/api/v1/points/accounts", read),
    ("GET", "/api/v1/redemptions", read),
    ("GET", "/api/v1/stars", read),
    ("GET", "/api/v1/party-ratings", read),
    ("GET", "/api/v1/commendations", read),
    ("GET", "/api/v1/commendations/due", read),
    ("GET", "/api/v1/certificates", read),
    ("GET", "/api/v1/catalog", |r| {
        if r == Role::Volunteer {
            200
        } else {
            read_or(r, 422)
        }
    }),
    ("GET", "/api/v1/work-unit/assessment", |r| {
        if r == Role::WorkUnitContact {
            200
        } else {
            422
        }
    }),
    ("GET", "/api/v1/work-unit/sheet?format=xlsx", |r| {
        if r == Role::WorkUnitContact {
            200
        } else {
            422
        }
    }),
    ("POST", "/api/v1/attendance/scan", |_| 400),
    ("GET", "/api/v1/me/volunteer", volunteer_only),
    ("PATCH", "/api/v1/me/volunteer/limits", volunteer_only),
    ("GET", "/api/v1/me/postings", volunteer_only),
    ("POST", "/api/v1/me/certificate", |r| {
        if r == Role::Volunteer {
            201
        } else {
            422
        }
    }),
    (
        "GET",
        "/api/v1/public/certificates/ZYZM-2026-NOTFOUND",
        |_| 404,
    ),
];

fn read(r: Role) -> u16 {
    read_or(r, 403)
}
fn read_or(r: Role, otherwise: u16) -> u16 {
    if Permission::ReadService.roles().contains(&r) {
        200
    } else {
        otherwise
    }
}
fn volunteer_only(r: Role) -> u16 {
    if r == Role::Volunteer {
        200
    } else {
        422
    }
}

/// Whether the role's grant lies at or above a community (so it sees the community's records).
fn sees_community(username: &str) -> bool {
    !matches!(username, "wangge" | "louzhang" | "jumin")
}

struct Made {
    community: String,
    volunteer: String,
    account: String,
    account2: String,
    member: String,
    activity: String,
    posting: String,
    item: String,
    certificate: String,
    free_person: String,
}

/// Registry persons of a community who are not volunteers yet.
async fn free_persons(app: &TestApp, community: &str, n: i64) -> Vec<String> {
    #[derive(sea_orm::FromQueryResult)]
    struct I {
        id: uuid::Uuid,
    }
    gongzhi::store::fetch_all::<I, _>(
        &app.state.db,
        "SELECT p.id FROM persons p WHERE p.community_id = $1 AND p.deleted_at IS NULL AND p.status = 'active' \
         AND NOT EXISTS (SELECT 1 FROM volunteers v WHERE v.person_id = p.id) ORDER BY p.id DESC LIMIT $2",
        vec![uuid::Uuid::parse_str(community).unwrap().into(), n.into()],
    )
    .await
    .unwrap()
    .into_iter()
    .map(|i| i.id.to_string())
    .collect()
}

/// The objects of one community, made by admin.
async fn make_service(app: &TestApp, a: &Client, community: &str, org: &str, tag: &str) -> Made {
    let ps = free_persons(app, community, 3).await;
    assert_eq!(ps.len(), 3, "three free persons in {community}");
    let v = a
        .post(
            "/api/v1/volunteers",
            json!({"person_id": ps[0], "skills": ["助老"]}),
        )
        .await;
    assert_eq!(v.status, reqwest::StatusCode::CREATED, "{}", v.text);
    let m = a.post("/api/v1/party-members", json!({"person_id": ps[1], "org_id": org, "kind": "community", "joined_on": "2019-07-01", "status": "full"})).await;
    assert_eq!(m.status, reqwest::StatusCode::CREATED, "{}", m.text);
    let acc2 = a
        .get(&format!(
            "/api/v1/volunteers/{}",
            m.body["volunteer_id"].as_str().unwrap()
        ))
        .await
        .body["account_id"]
        .as_str()
        .unwrap()
        .to_string();
    let day0 = gongzhi::domain::calendar::local_midnight_ms(gongzhi::domain::calendar::local_date(
        gongzhi::domain::now_ms(),
    ));
    let starts = day0 + 9 * 86_400_000 + 10 * 3_600_000;
    let act = a
        .post(
            "/api/v1/activities",
            json!({"kind": "volunteer", "title": format!("范围测试{tag}"), "area_id": community, "place": "广场",
                   "starts_at": gongzhi::domain::ms_to_rfc3339(starts), "ends_at": gongzhi::domain::ms_to_rfc3339(starts + 2 * 3_600_000), "capacity": 10}),
        )
        .await;
    assert_eq!(act.status, reqwest::StatusCode::CREATED, "{}", act.text);
    let account = v.body["account_id"].as_str().unwrap().to_string();
    let p = a
        .post(
            "/api/v1/points/postings",
            json!({"account_id": account, "direction": "earn", "amount": 50, "note": "范围测试"}),
        )
        .await;
    assert_eq!(p.status, reqwest::StatusCode::CREATED, "{}", p.text);
    let item = a.post("/api/v1/catalog", json!({"community_id": community, "name": format!("范围测试{tag}"), "price": 1, "stock": 5})).await;
    assert_eq!(item.status, reqwest::StatusCode::CREATED, "{}", item.text);
    let vid = v.body["id"].as_str().unwrap().to_string();
    let h = a
        .post(
            &format!("/api/v1/volunteers/{vid}/hours"),
            json!({"minutes": 60, "reason": "范围测试"}),
        )
        .await;
    assert_eq!(h.status, reqwest::StatusCode::CREATED, "{}", h.text);
    let c = a
        .post("/api/v1/certificates", json!({"volunteer_id": vid}))
        .await;
    assert_eq!(c.status, reqwest::StatusCode::CREATED, "{}", c.text);
    Made {
        community: community.to_string(),
        volunteer: vid,
        account,
        account2: acc2,
        member: m.body["id"].as_str().unwrap().to_string(),
        activity: act.body["id"].as_str().unwrap().to_string(),
        posting: p.body["id"].as_str().unwrap().to_string(),
        item: item.body["id"].as_str().unwrap().to_string(),
        certificate: c.body["id"].as_str().unwrap().to_string(),
        free_person: ps[2].clone(),
    }
}

/// The community of a grant: itself, the first below it, or the one above it.
async fn community_of(app: &TestApp, area: uuid::Uuid) -> String {
    #[derive(sea_orm::FromQueryResult)]
    struct I {
        id: uuid::Uuid,
    }
    gongzhi::store::fetch_opt::<I, _>(
        &app.state.db,
        "SELECT a.id FROM areas a WHERE a.kind = 'community' AND (a.id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = $1) \
         OR a.id IN (SELECT ancestor_id FROM area_closure WHERE descendant_id = $1)) ORDER BY a.code LIMIT 1",
        vec![area.into()],
    )
    .await
    .unwrap()
    .expect("a community")
    .id
    .to_string()
}

#[tokio::test]
async fn every_service_route_for_every_role_in_and_out_of_scope() {
    let app = spawn_app().await;
    // Outside: 和平社区 in 莲池区, with registry persons of its own.
    outside_registry(&app).await;
    let setup = app.admin().await;
    let out_building = app.area_id("130606001001001001").await;
    for (k, name) in ["外区甲", "外区乙", "外区丙"].iter().enumerate() {
        let first17 = format!("1306061980010100{}", k + 2);
        let id = id_no(&first17);
        let p = setup.post("/api/v1/persons", json!({"area_id": out_building, "name": name, "id_no": id, "residence_type": "hukou"})).await;
        assert_eq!(p.status, reqwest::StatusCode::CREATED, "{}", p.text);
    }
    let out_community = app.area_id("130606001001").await;
    let out_area = app.area_id("130606001000").await;
    let out_org = org_under(&app, uuid::Uuid::parse_str(&out_area).unwrap()).await;
    let outside = make_service(&app, &setup, &out_community, &out_org, "外区").await;
    let year = gongzhi::domain::calendar::local_date(gongzhi::domain::now_ms()).year();
    let mut failures = vec![];
    let mut checked = 0;
    for (username, role) in USERS {
        let client = if *username == "admin" {
            setup.clone()
        } else {
            app.demo_user(username).await
        };
        let grant = match grant_area(&app, username).await {
            Some(a) => a,
            None => uuid::Uuid::parse_str(&app.area_id("130602001001").await).unwrap(),
        };
        let community = community_of(&app, grant).await;
        let org = org_under(&app, uuid::Uuid::parse_str(&community).unwrap()).await;
        let grant_org = org_under(&app, grant).await;
        let inside = make_service(&app, &setup, &community, &org, username).await;
        for route in SERVICE_ROUTES {
            for (is_in, made) in [(true, &inside), (false, &outside)] {
                if !is_in && *role == Role::SystemAdmin {
                    continue;
                }
                let target = match route.target {
                    S::Area => {
                        if is_in {
                            grant.to_string()
                        } else {
                            out_area.clone()
                        }
                    }
                    S::Community => made.community.clone(),
                    S::Volunteer => made.volunteer.clone(),
                    S::Member => made.member.clone(),
                    S::Activity => made.activity.clone(),
                    S::Account => made.account.clone(),
                    S::Posting => made.posting.clone(),
                    S::Item => made.item.clone(),
                    S::Certificate => made.certificate.clone(),
                    S::Org => {
                        if is_in {
                            grant_org.clone()
                        } else {
                            out_org.clone()
                        }
                    }
                    S::FreePerson => made.free_person.clone(),
                };
                let ids = SIds {
                    target: target.clone(),
                    area: grant.to_string(),
                    community: made.community.clone(),
                    volunteer: made.volunteer.clone(),
                    account: made.account.clone(),
                    account2: made.account2.clone(),
                    member: made.member.clone(),
                    org: if is_in { org.clone() } else { out_org.clone() },
                    year,
                };
                let _ = (&ids.area, &ids.member);
                let path = route
                    .path
                    .replace("{id}", &target)
                    .replace("{vol}", &made.volunteer);
                let method = reqwest::Method::from_bytes(route.method.as_bytes()).unwrap();
                let r = client.send(method, &path, (route.body)(&ids)).await;
                let visible =
                    is_in && (matches!(route.target, S::Area | S::Org) || sees_community(username));
                let expected = match (route.path, *role) {
                    ("/api/v1/activities/{id}/signup", Role::Volunteer) => {
                        if is_in {
                            200
                        } else {
                            404
                        }
                    }
                    ("/api/v1/activities/{id}/signup", _) => 422,
                    ("/api/v1/work-unit/members/{id}/sheet?format=pdf", Role::WorkUnitContact) => {
                        404
                    }
                    ("/api/v1/work-unit/members/{id}/sheet?format=pdf", _) => 422,
                    ("/api/v1/activities/{id}", Role::Volunteer) if is_in => 200,
                    _ if !visible => 404,
                    _ if holds(*role, route.permission) => route.allowed,
                    _ => 403,
                };
                checked += 1;
                if r.status.as_u16() != expected {
                    failures.push(format!(
                        "{username} ({role:?}) {} {} [{}]: expected {expected}, got {} {}",
                        route.method,
                        route.path,
                        if is_in { "in scope" } else { "out of scope" },
                        r.status,
                        r.text.chars().take(160).collect::<String>()
                    ));
                }
            }
        }
        for (method, path, expect) in SERVICE_GLOBAL {
            let body = if *method == "GET" {
                None
            } else if path.contains("limits") {
                Some(Value::Null)
            } else {
                Some(json!({"token": "x"}))
            };
            let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let r = client.send(m, path, body).await;
            let expected = expect(*role);
            checked += 1;
            if r.status.as_u16() != expected {
                failures.push(format!(
                    "{username} ({role:?}) {method} {path}: expected {expected}, got {} {}",
                    r.status,
                    r.text.chars().take(160).collect::<String>()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Nothing outside changed hands: the outside account still has its 50 points.
    let r = setup
        .get(&format!("/api/v1/points/accounts/{}", outside.account))
        .await;
    assert_eq!(r.body["balance"], 50, "{}", r.text);
}

/// Operations outside the role × scope tables above, each with the reason it needs none: public
/// pages, the caller's own account, system-wide administration (checked by role in their own
/// tests), or a list whose rows are filtered by the caller's scope and tested where named.
const NOT_AREA_SCOPED: &[(&str, &str, &str)] = &[
    ("POST", "/api/v1/public/signup/code", "public: a resident asks for a sign-up code (signup::*)"),
    ("POST", "/api/v1/public/signup", "public: a resident signs up with the code (signup::*)"),
    ("GET", "/api/v1/me/claims", "the caller's own claims (signup::*)"),
    ("POST", "/api/v1/me/claims", "the caller's own claim; matched or not, the same answer (signup::*)"),
    (
        "POST",
        "/api/v1/resident-claims/{id}/confirm",
        "a claim exists only after a resident's sign-up: another community's worker gets 404 in signup::a_resident_signs_up_by_sms_code_claims_the_record_and_a_worker_confirms_it",
    ),
    (
        "POST",
        "/api/v1/resident-claims/{id}/reject",
        "as confirm: scope checked on the matched person's area (signup::*)",
    ),
    ("GET", "/api/v1/me/notices", "the caller's own notices (notices::*)"),
    ("GET", "/api/v1/me/questions", "the caller's own questions (questions::*)"),
    ("POST", "/api/v1/me/questions", "the caller asks about the community they live in, or one named by its public code (questions::*)"),
    ("GET", "/api/v1/me/questions/similar", "published answers only: public data (questions::*)"),
    ("GET", "/api/v1/me/questions/{id}", "the caller's own questions; another's id is 404 (questions::*)"),
    ("GET", "/api/v1/me/notices/{id}", "the caller's own notices; another's id is 404 (notices::*)"),
    ("POST", "/api/v1/me/notices/{id}/ack", "the caller's own notices; another's id is 404 (notices::*)"),
    (
        "POST",
        "/api/v1/notices/{id}/households/{household_id}/ack",
        "two ids: the notice's scope, then edit_registry at the household (notices::a_notice_reaches_its_households_and_the_author_sees_who_read_and_answered)",
    ),
    ("POST", "/api/v1/auth/login", "public: signing in"),
    ("POST", "/api/v1/auth/logout", "the caller's own session"),
    ("POST", "/api/v1/me/password", "the caller's own account (sessions::*)"),
    ("GET", "/api/v1/me/sessions", "the caller's own sessions (sessions::*)"),
    ("DELETE", "/api/v1/me/sessions/{id}", "the caller's own sessions; another's id is 404 (sessions::*)"),
    ("POST", "/api/v1/me/sessions/end-others", "the caller's own sessions (sessions::*)"),
    ("GET", "/api/v1/me/messages", "the caller's own inbox (messages::*)"),
    ("GET", "/api/v1/me/messages/unread", "the caller's own inbox (messages::*)"),
    ("POST", "/api/v1/me/messages/{id}/read", "the caller's own inbox; another's message is 404 (messages::a_cases_steps_reach_the_unit_and_the_desk_once_and_each_inbox_is_its_owners)"),
    ("POST", "/api/v1/me/messages/read-all", "the caller's own inbox (messages::*)"),
    ("GET", "/api/v1/message-templates", "the instance's message templates: manage_system (messages::templates_are_data_checked_when_saved_and_apply_to_unread_messages)"),
    ("PUT", "/api/v1/message-templates/{key}", "the instance's message templates: manage_system (messages::templates_are_data_checked_when_saved_and_apply_to_unread_messages)"),
    ("DELETE", "/api/v1/message-templates/{key}", "the instance's message templates: manage_system (messages::templates_are_data_checked_when_saved_and_apply_to_unread_messages)"),
    ("GET", "/api/v1/me/channels", "the caller's own channel choices (channels::*)"),
    ("PUT", "/api/v1/me/channels/{channel}", "the caller's own channel choices (channels::sms_goes_through_tencent_clouds_signed_api_retries_and_takes_delivery_reports)"),
    ("GET", "/api/v1/message-deliveries", "the instance's delivery log: manage_system (channels::*)"),
    ("POST", "/api/v1/channels/sms/tencent/reports", "public: the SMS provider's delivery reports, keyed by GONGZHI_SMS_REPORT_TOKEN (channels::*)"),
    ("GET", "/api/v1/streets/{id}/public-categories", "read_cases on the street, else 404 (cases::open311_lists_the_public_categories_without_a_key_and_nothing_personal)"),
    ("PUT", "/api/v1/streets/{id}/public-categories", "edit_areas on the street, else 404 outside (cases::open311_lists_the_public_categories_without_a_key_and_nothing_personal)"),
    ("GET", "/api/v1/me/todos", "the caller's own to-dos, each counted by its list's scoped query (home::*)"),
    ("POST", "/api/v1/public/rate/{token}", "public: the requester's rating link; the token is the key (cases::*)"),
    ("POST", "/api/v1/cases", "a case may be reported anywhere: a location outside the caller's area is routed by the area holding it (issue 14; browser::resident_reports_from_outside_the_home_grid_on_a_phone)"),
    ("POST", "/api/v1/files", "an upload is owned by its uploader until attached to a record in scope (files::*)"),
    ("GET", "/api/v1/calendar/deadline", "the working-day calendar is one for the instance, no personal data"),
    ("POST", "/api/v1/calendar/import", "the instance's calendar: manage_system, tested in deadlines::*"),
    ("PATCH", "/api/v1/case-categories/{id}", "the category dictionary is one for the instance: manage_case_dictionary (cases::*)"),
    ("POST", "/api/v1/case-categories/import", "the category dictionary is one for the instance: manage_case_dictionary (cases::*)"),
    ("POST", "/api/v1/sharing-rules", "the sharing catalogue: manage_system (registry::*)"),
    ("GET", "/api/v1/registry/duplicates", "rows filtered by the caller's scope (registry::*)"),
    ("GET", "/api/v1/import/templates/dwellings.csv", "a blank template, no data"),
    ("GET", "/api/v1/import/templates/party-orgs.csv", "a blank template, no data"),
    ("GET", "/api/v1/import/templates/persons.xlsx", "a blank template, no data"),
    ("POST", "/api/v1/import/dwellings", "each row's building is looked up among the caller's editable buildings; outside ones are named as not found (transfer::empty_dwellings_come_from_a_sheet)"),
    ("POST", "/api/v1/import/party-orgs", "each row's areas are looked up within the caller's scope (transfer::the_party_organisation_tree_comes_from_a_sheet)"),
];

/// Whether a table row's path (`/api/v1/cases/{id}/actions/register?x=1`) exercises the document's
/// operation path (`/api/v1/cases/{id}/actions/{action}`): segment by segment, a `{param}` of the
/// document matches anything.
fn exercises(row: &str, op: &str) -> bool {
    let row: Vec<&str> = row.split('?').next().unwrap_or(row).split('/').collect();
    let op: Vec<&str> = op.split('/').collect();
    row.len() == op.len()
        && row
            .iter()
            .zip(&op)
            .all(|(r, o)| r == o || (o.starts_with('{') && o.ends_with('}')))
}

/// Issue 13: the route tables cover the OpenAPI document by construction. Every operation is in a
/// role × in/out-of-scope table above or in [`NOT_AREA_SCOPED`] with its reason, so a new route
/// cannot be forgotten: this test names it until someone decides which it is.
#[tokio::test]
async fn every_operation_of_the_openapi_document_is_in_a_scope_table_or_says_why_not() {
    let app = spawn_app().await;
    let spec = app.admin().await.get("/api/openapi.json").await.body;
    let mut tabled: Vec<(String, &str)> = vec![];
    for r in ROUTES {
        tabled.push((r.method.as_str().to_string(), r.path));
    }
    for (m, p, _, _) in GLOBAL_ROUTES {
        tabled.push((m.to_string(), p));
    }
    for r in SERVICE_ROUTES {
        tabled.push((r.method.to_string(), r.path));
    }
    for (m, p, _) in SERVICE_GLOBAL {
        tabled.push((m.to_string(), p));
    }
    for (m, p, why) in NOT_AREA_SCOPED {
        assert!(
            !why.trim().is_empty(),
            "{m} {p}: say why it needs no scope test"
        );
    }
    let mut ops = vec![];
    for (path, item) in spec["paths"].as_object().unwrap() {
        for m in ["get", "post", "put", "patch", "delete"] {
            if item.get(m).is_some() {
                ops.push((m.to_uppercase(), path.clone()));
            }
        }
    }
    let mut missing = vec![];
    let mut both = vec![];
    for (m, op) in &ops {
        let in_table = tabled.iter().any(|(tm, p)| tm == m && exercises(p, op));
        let exempt = NOT_AREA_SCOPED.iter().any(|(em, p, _)| em == m && p == op);
        match (in_table, exempt) {
            (false, false) => missing.push(format!("{m} {op}")),
            (true, true) => both.push(format!("{m} {op}")),
            _ => {}
        }
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "{} operations are in no scope table and not listed in NOT_AREA_SCOPED with a reason:\n{}",
        missing.len(),
        missing.join("\n")
    );
    assert!(both.is_empty(), "in a table and also excused: {both:?}");
    // Neither list names an operation the document does not have (a renamed route).
    let mut stale: Vec<String> = tabled
        .iter()
        .map(|(m, p)| (m.clone(), p.to_string()))
        .chain(
            NOT_AREA_SCOPED
                .iter()
                .map(|(m, p, _)| (m.to_string(), p.to_string())),
        )
        .filter(|(m, p)| !ops.iter().any(|(om, op)| om == m && exercises(p, op)))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    stale.sort();
    assert!(
        stale.is_empty(),
        "not in the OpenAPI document:\n{}",
        stale.join("\n")
    );
}
