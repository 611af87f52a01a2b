//! Deadlines across a year without a published holiday schedule, and working hours as settings.
//!
//! The clock is the real one: a dispatch uses the time it happens. So the tests pick limits and
//! years from today's date instead of fixed dates: the year after this one is made unknown, and
//! a long limit reaches into it.
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

/// 朝阳社区 (where `shequ` works) and its first grid.
const CHAOYANG: &str = "130602001001";
const CHAOYANG_GRID: &str = "130602001001001";

fn new_case(area: &str) -> Value {
    json!({
        "kind": "help",
        "category_code": "0602",
        "description": "需要开具居住证明，请社区帮忙",
        "location": {"area_id": area},
        "requester": {"name": "孙丽", "phone": "13912345678"}
    })
}

/// Sets the handling limit of category 0602 (as the system admin).
async fn set_handle_limit(admin: &Client, value: u32, unit: &str) {
    let cats = admin.get("/api/v1/case-categories").await;
    let cat = cats
        .body
        .as_array()
        .and_then(|a| a.iter().find(|c| c["code"] == "0602"))
        .expect("category 0602")
        .clone();
    admin
        .patch(
            &format!("/api/v1/case-categories/{}", cat["id"].as_str().unwrap()),
            json!({"version": cat["version"], "handle_limit": {"value": value, "unit": unit}}),
        )
        .await
        .expect_status(StatusCode::OK);
}

/// Files a case on 朝阳's first grid and dispatches it to the routed unit: the dispatch answer.
async fn dispatched_case(app: &TestApp) -> Resp {
    let shequ = app.demo_user("shequ").await;
    let grid = app.area_id(CHAOYANG_GRID).await;
    let c = shequ
        .post("/api/v1/cases", new_case(&grid))
        .await
        .expect_status(StatusCode::CREATED);
    let id = c.body["id"].as_str().unwrap();
    let r = shequ
        .post(
            &format!("/api/v1/cases/{id}/actions/dispatch"),
            json!({"version": c.body["version"]}),
        )
        .await
        .expect_status(StatusCode::OK);
    r
}

fn this_year() -> i32 {
    gongzhi::domain::calendar::local_date(gongzhi::domain::now_ms()).year()
}

/// Forgets every year after this one, as if their schedules were not published yet.
async fn forget_years_after(app: &TestApp, year: i32) {
    for table in ["calendar_days", "calendar_years"] {
        let sql = format!("DELETE FROM {table} WHERE year > $1");
        gongzhi::store::exec(&app.state.db, &sql, vec![year.into()])
            .await
            .unwrap();
    }
    app.state.case_caches.clear();
}

/// The first Monday to Friday on or after 5 January of `year`, as YYYY-MM-DD.
fn first_weekday_of_january(year: i32) -> String {
    use time::{Date, Month, Weekday};
    let mut d = Date::from_calendar_date(year, Month::January, 5).unwrap();
    while matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) {
        d = d.next_day().unwrap();
    }
    format!("{year}-01-{:02}", d.day())
}

/// What `GET /calendar/deadline` says for a start and a limit.
async fn preview(c: &Client, start: &str, value: u32, unit: &str) -> Value {
    let start = start.replace('+', "%2B");
    let r = c
        .get(&format!(
            "/api/v1/calendar/deadline?start={start}&value={value}&unit={unit}"
        ))
        .await
        .expect_status(StatusCode::OK);
    r.body
}

#[tokio::test]
async fn a_deadline_in_an_unpublished_year_is_provisional_until_the_year_is_loaded() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let year = this_year();
    let known = admin.get("/api/v1/calendar").await.body;
    let this_year_known = known.as_array().unwrap().iter().any(|y| y["year"] == year);
    forget_years_after(&app, year).await;
    // 300 working days reach well into next year, whatever today is.
    set_handle_limit(&admin, 300, "days").await;

    let r = dispatched_case(&app).await;
    assert_eq!(r.body["deadline_provisional"], true, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    let (start, due) = (
        r.body["dispatched_at"].as_str().unwrap().to_string(),
        r.body["handle_due_at"].as_str().unwrap().to_string(),
    );
    // The preview counts the same way and says so.
    let p = preview(&admin, &start, 300, "days").await;
    assert_eq!(
        (p["due_at"].as_str(), &p["provisional"]),
        (Some(due.as_str()), &json!(true))
    );
    // The lists say it too.
    let list = admin.get("/api/v1/cases?queue=all&page_size=200").await;
    let summary = list.body["items"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == id.as_str()))
        .cloned()
        .expect("the case in the list");
    assert_eq!(summary["deadline_provisional"], true);

    // Next year's schedule (and the year after, which 300 working days may reach) is loaded, with
    // a holiday on a weekday in January: the deadline moves by one working day and is exact.
    let mut csv = String::from("date,kind,name\n");
    let first = if this_year_known { year + 1 } else { year };
    for y in first..=year + 2 {
        csv.push_str(&format!("{},休,测试假日\n", first_weekday_of_january(y)));
    }
    let r = admin
        .send_raw(
            reqwest::Method::POST,
            "/api/v1/calendar/import",
            csv.into_bytes(),
            "text/csv",
        )
        .await
        .expect_status(StatusCode::OK);
    assert!(
        r.body["recomputed_cases"].as_u64().unwrap() >= 1,
        "{}",
        r.text
    );

    let c = admin.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(c.body["deadline_provisional"], false, "{}", c.text);
    let moved = c.body["handle_due_at"].as_str().unwrap();
    assert!(moved > due.as_str(), "{moved} after {due}");
    let p = preview(&admin, &start, 300, "days").await;
    assert_eq!(
        (p["due_at"].as_str(), &p["provisional"]),
        (Some(moved), &json!(false))
    );
    // The timeline says why, and who loaded the year.
    let t = admin.get(&format!("/api/v1/cases/{id}/timeline")).await;
    let e = t
        .body
        .as_array()
        .and_then(|a| a.iter().find(|e| e["action"] == "recompute_deadline"))
        .cloned()
        .unwrap_or_else(|| panic!("{}", t.text));
    assert_eq!(e["action_label"], "重新计算时限");
    assert!(e["note"].as_str().unwrap().contains("办理时限"), "{e}");
    assert_eq!(e["actor_name"], "系统管理员", "{e}");
    // One audit entry counts the recomputed cases.
    let n = app
        .count("SELECT COUNT(*) FROM audit_log WHERE action = 'calendar.recompute_deadlines'")
        .await;
    assert_eq!(n, 1);
    // Loading a year again changes nothing more.
    let r = admin
        .send_raw(
            reqwest::Method::POST,
            "/api/v1/calendar/import",
            format!("{},休,测试假日\n", first_weekday_of_january(year + 1)).into_bytes(),
            "text/csv",
        )
        .await;
    assert_eq!(r.body["recomputed_cases"], 0, "{}", r.text);
}

#[tokio::test]
async fn working_hours_are_settings_and_areas_may_have_their_own() {
    use gongzhi::domain::calendar::WorkHours;
    let app = spawn_app_with(|s| {
        s.cases.work_hours = WorkHours::parse("08:00-12:00").unwrap();
        s.cases.work_hours_by_area =
            vec![(CHAOYANG.into(), WorkHours::parse("09:00-10:00").unwrap())];
    })
    .await;
    let admin = app.admin().await;
    // Monday 9 March 2026, 11:00 Beijing time: 2 working hours end at 09:00 on Tuesday (not 14:00),
    // and a working day ends at 12:00 (not 18:00).
    let p = preview(&admin, "2026-03-09T03:00:00Z", 2, "hours").await;
    assert_eq!(p["due_at"], "2026-03-10T01:00:00Z", "{p}");
    let p = preview(&admin, "2026-03-09T03:00:00Z", 1, "days").await;
    assert_eq!(p["due_at"], "2026-03-10T04:00:00Z", "{p}");
    // A case in 朝阳社区 (its own hours, 09:00–10:00): a working day ends at 10:00.
    set_handle_limit(&admin, 2, "days").await;
    let r = dispatched_case(&app).await;
    let due = r.body["handle_due_at"].as_str().unwrap();
    assert!(due.ends_with("T02:00:00Z"), "{due}");
    // The same with the default hours ends at 18:00.
    let plain = spawn_app().await;
    set_handle_limit(&plain.admin().await, 2, "days").await;
    let r = dispatched_case(&plain).await;
    let due = r.body["handle_due_at"].as_str().unwrap();
    assert!(due.ends_with("T10:00:00Z"), "{due}");
}

#[tokio::test]
async fn a_year_loaded_by_another_instance_is_seen_by_the_next_dispatch() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let year = this_year();
    forget_years_after(&app, year).await;
    set_handle_limit(&admin, 300, "days").await;
    let r = dispatched_case(&app).await;
    assert_eq!(r.body["deadline_provisional"], true, "{}", r.text);
    // Another instance loads the coming years; this one still has the old calendar cached.
    for y in year..=year + 2 {
        gongzhi::store::exec(
            &app.state.db,
            "INSERT INTO calendar_years (year, updated_at, updated_by) VALUES ($1, 0, 'x') \
             ON CONFLICT (year) DO NOTHING",
            vec![y.into()],
        )
        .await
        .unwrap();
    }
    let r = dispatched_case(&app).await;
    assert_eq!(r.body["deadline_provisional"], false, "{}", r.text);
}
