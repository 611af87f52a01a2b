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
];

/// Routes without an area target: (method, path, body, permission, allowed status).
const GLOBAL_ROUTES: &[(&str, &str, Option<Permission>, u16)] = &[
    ("GET", "/api/v1/me", None, 200),
    ("GET", "/api/v1/areas/roots", None, 200),
    ("GET", "/api/v1/party-orgs/roots", None, 200),
    ("GET", "/api/v1/areas?q=1306", None, 200),
    ("GET", "/api/v1/party-orgs?q=%E5%85%9A", None, 200),
    ("GET", "/api/v1/audit", Some(Permission::ReadAudit), 200),
    ("GET", "/api/v1/users", Some(Permission::ManageUsers), 200),
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
    ("GET", "/api/v1/tokens", Some(Permission::ManageUsers), 200),
    ("POST", "/api/v1/tokens", Some(Permission::ManageUsers), 422),
    (
        "POST",
        "/api/v1/tokens/00000000-0000-7000-8000-000000000000/revoke",
        Some(Permission::ManageUsers),
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
        Some(Permission::ManageUsers),
        200,
    ),
    (
        "POST",
        "/api/v1/sharing-rules/00000000-0000-7000-8000-000000000000/revoke",
        Some(Permission::ManageUsers),
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
    let id = format!(
        "{first17}{}",
        gongzhi::domain::ids::id_check_char(first17).unwrap()
    );
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
            };
            for (inside, target) in [(true, pick(true)), (false, pick(false))] {
                if !inside && *role == Role::SystemAdmin {
                    continue; // nothing is outside a system admin's scope
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
                    route.allowed
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
    let r = admin.post("/api/v1/users", json!({"username": "lonely", "display_name": "无授权", "password": "Solo#2026pw", "must_change_password": false})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let c = app.login("lonely", "Solo#2026pw").await;
    assert_eq!(c.get("/api/v1/areas/roots").await.body, json!([]));
    assert_eq!(c.get("/api/v1/areas?q=1").await.body, json!([]));
    let city = app.area_id(CITY).await;
    assert_eq!(
        c.get(&format!("/api/v1/areas/{city}")).await.status,
        StatusCode::NOT_FOUND
    );
}
