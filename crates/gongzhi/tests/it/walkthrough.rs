//! Issue 14, done when: a street administrator goes from an empty install to a working street —
//! the area tree with boundaries imported, workers created in bulk, residents imported with one
//! bad row (the good rows commit, the bad one comes back), a case registered and exported.
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

/// A square of `d` degrees at (`x`, `y`).
fn square(x: f64, y: f64, d: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]})
}

fn feature(code: &str, name: &str, geometry: Value) -> Value {
    json!({"type": "Feature", "properties": {"code": code, "name": name}, "geometry": geometry})
}

async fn upload(c: &Client, path: &str, body: Vec<u8>, ct: &str) -> Resp {
    c.send_raw(Method::POST, path, body, ct).await
}

async fn sign_in_first_time(app: &TestApp, username: &str, first: &str, new: &str) -> Client {
    let c = app.login(username, first).await;
    assert_eq!(c.get("/api/v1/me").await.body["must_change_password"], true);
    let r = c
        .post(
            "/api/v1/me/password",
            json!({"old_password": first, "new_password": new}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    app.login(username, new).await
}

#[tokio::test]
async fn a_street_admin_goes_from_an_empty_install_to_a_working_street() {
    let dir = tempfile::tempdir().unwrap();
    let url = empty_database_url(dir.path()).await;
    let app = spawn_app_on(&url, dir, |s| s.auth_cache_ms = 0).await;
    let admin = app.admin().await;
    assert_eq!(
        admin.get("/api/v1/areas/roots").await.body,
        json!([]),
        "an empty install"
    );

    // The system admin lays the roots down to the street and names its administrator.
    let roots = json!({"type": "FeatureCollection", "features": [
        feature("130600000000", "保定市", Value::Null),
        feature("130602000000", "竞秀区", Value::Null),
        feature("130602001000", "先锋街道", square(115.40, 38.85, 0.10)),
    ]});
    let r = upload(
        &admin,
        "/api/v1/import/areas?mode=commit",
        roots.to_string().into_bytes(),
        "application/geo+json",
    )
    .await
    .expect_status(StatusCode::OK);
    assert_eq!(
        (r.body["status"].as_str(), r.body["created"].as_u64()),
        (Some("committed"), Some(3)),
        "{}",
        r.text
    );
    let street = app.area_id("130602001000").await;
    let r = admin
        .post(
            "/api/v1/users",
            json!({"username": "xianfeng", "display_name": "先锋街道管理员",
        "area_id": street, "role": "street_admin", "phone": "13911112222"}),
        )
        .await
        .expect_status(StatusCode::CREATED);
    let first = r.body["initial_password"].as_str().unwrap().to_string();
    let s = sign_in_first_time(&app, "xianfeng", &first, "Jiedao#Guanli27").await;

    // The street's tree: communities, grids and buildings with their boundaries. A file whose grid
    // has no community is refused as a whole, with the row named.
    let broken = json!({"type": "FeatureCollection", "features": [
        feature("130602001009001", "孤网格", square(115.41, 38.86, 0.01)),
    ]});
    let r = upload(
        &s,
        "/api/v1/import/areas?mode=commit",
        broken.to_string().into_bytes(),
        "application/geo+json",
    )
    .await;
    assert_eq!(r.body["status"], "rejected", "{}", r.text);
    assert_eq!(r.body["problems"][0]["row"], 1, "{}", r.text);
    let tree = json!({"type": "FeatureCollection", "features": [
        feature("130602001001", "朝阳社区", square(115.40, 38.85, 0.05)),
        feature("130602001002", "红旗社区", square(115.45, 38.85, 0.05)),
        feature("130602001001001", "朝阳一网格", square(115.40, 38.85, 0.02)),
        feature("130602001002001", "红旗一网格", square(115.45, 38.85, 0.02)),
        feature("130602001001001001", "朝阳1号楼", square(115.401, 38.851, 0.001)),
        feature("130602001002001001", "红旗1号楼", square(115.451, 38.851, 0.001)),
    ]});
    let body = tree.to_string().into_bytes();
    let r = upload(
        &s,
        "/api/v1/import/areas?mode=dry_run",
        body.clone(),
        "application/geo+json",
    )
    .await;
    assert_eq!(
        (r.body["ok_rows"].as_u64(), r.body["error_rows"].as_u64()),
        (Some(6), Some(0)),
        "{}",
        r.text
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM areas").await,
        3,
        "a dry run writes nothing"
    );
    let r = upload(
        &s,
        "/api/v1/import/areas?mode=commit",
        body.clone(),
        "application/geo+json",
    )
    .await;
    assert_eq!(r.body["created"], 6, "{}", r.text);
    assert_eq!(r.body["by_kind"]["building"], 2, "{}", r.text);
    let r = upload(
        &s,
        "/api/v1/import/areas?mode=dry_run",
        body,
        "application/geo+json",
    )
    .await;
    assert_eq!(
        r.body["unchanged"], 6,
        "the same file again changes nothing: {}",
        r.text
    );
    let chaoyang = app.area_id("130602001001").await;
    let a = s.get(&format!("/api/v1/areas/{chaoyang}")).await;
    assert_eq!(a.body["boundary"]["type"], "Polygon", "{}", a.text);
    // The street admin cannot lay a root or touch another street.
    let other = json!({"type": "FeatureCollection", "features": [feature("130602002000", "新市场街道", Value::Null)]});
    let r = upload(
        &s,
        "/api/v1/import/areas?mode=dry_run",
        other.to_string().into_bytes(),
        "application/geo+json",
    )
    .await;
    assert_eq!(r.body["error_rows"], 1, "{}", r.text);

    // Workers, in bulk, each with a first password handed over once.
    let sheet = "用户名,姓名,手机号,角色,区域\n\
                 cy.shequ,王芳,13800000001,社区工作者,朝阳社区\n\
                 cy.wangge,张伟,13800000002,网格员,130602001001001\n";
    let r = upload(
        &s,
        "/api/v1/users/import?mode=commit",
        sheet.as_bytes().to_vec(),
        "text/csv",
    )
    .await;
    assert_eq!(r.body["created"], 2, "{}", r.text);
    let handover: Vec<(String, String)> = r.body["handover"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["username"].as_str().unwrap().to_string(),
                h["password"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let w = sign_in_first_time(&app, &handover[0].0, &handover[0].1, "Shequ#Gongzuo27").await;

    // Residents: the community worker's sheet with one bad row; the good rows commit, the bad one
    // comes back as a sheet to fix.
    let id = id_no;
    let header = "姓名,证件类型,证件号码,性别,出生日期,民族,手机号码,政治面貌,学历,职业,工作单位,户籍地,居住类型,特殊人群,楼栋编码,单元,室号,与户主关系,户类型,房屋用途";
    let (p1, p2) = (id("13060219500101001"), id("13060219800202002"));
    let residents = format!(
        "{header}\n李大爷,,{p1},男,,,,,高中,,,,户籍,独居老人,130602001001001001,1,101,户主,户籍户,自住\n\
         陈女士,,{p2},女,,,,,,,,,户籍,,130602001001001001,1,102,户主,户籍户,自住\n\
         错行,,12345,,,,,,,,,,户籍,,130602001001001001,1,103,户主,户籍户,自住\n"
    );
    let r = upload(
        &w,
        "/api/v1/import/persons?mode=commit_valid",
        residents.clone().into_bytes(),
        "text/csv",
    )
    .await;
    assert_eq!(
        (
            r.body["status"].as_str(),
            r.body["created"].as_u64(),
            r.body["skipped_rows"].as_u64()
        ),
        (Some("committed"), Some(2), Some(1)),
        "{}",
        r.text
    );
    let r = w
        .send_raw(
            Method::POST,
            "/api/v1/import/persons?mode=dry_run&report=rejects",
            residents.into_bytes(),
            "text/csv",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.starts_with("PK"), "the rows to fix, as a workbook");

    // The dictionary is the system admin's; then the street registers a case and exports it.
    for (code, name, parent) in [
        ("06", "城市管理", None::<String>),
        ("0602", "环境卫生", None),
    ] {
        let parent = match code.len() {
            4 => Some(
                admin
                    .get("/api/v1/case-categories")
                    .await
                    .body
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|c| c["code"] == "06")
                    .unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            ),
            _ => parent,
        };
        admin.post("/api/v1/case-categories", json!({"parent_id": parent, "code": code, "name": name,
            "response_limit": {"value": 2, "unit": "hours"}, "handle_limit": {"value": 5, "unit": "days"},
            "verify_limit": {"value": 2, "unit": "days"}})).await.expect_status(StatusCode::CREATED);
    }
    let grid = app.area_id("130602001001001").await;
    s.post(
        "/api/v1/cases",
        json!({"kind": "help", "category_code": "0602",
        "description": "朝阳1号楼门口垃圾堆放三天无人清运", "location": {"area_id": grid},
        "requester": {"name": "李大爷", "phone": "13800009999"}}),
    )
    .await
    .expect_status(StatusCode::CREATED);
    let export = |c: Client| async move {
        let x = c
            .http
            .get(format!("{}/api/v1/cases/export.xlsx", c.base))
            .bearer_auth(c.token.as_deref().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(x.status(), StatusCode::OK);
        let bytes = x.bytes().await.unwrap().to_vec();
        use calamine::{Reader, Xlsx};
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let range = wb.worksheet_range_at(0).unwrap().unwrap();
        range
            .rows()
            .flat_map(|r| r.iter().map(|c| c.to_string()))
            .collect::<Vec<_>>()
            .join("|")
    };
    let text = export(s.clone()).await;
    assert!(text.contains("垃圾堆放三天"), "the case is in the export");
    assert!(
        text.contains("13800009999"),
        "the street's dispatcher sees the requester"
    );
    // The grid worker (no dispatching) exports the same case with the requester masked.
    let g = sign_in_first_time(&app, &handover[1].0, &handover[1].1, "Wangge#Zoufang27").await;
    let text = export(g).await;
    assert!(
        text.contains("垃圾堆放三天"),
        "the grid worker's export holds the case"
    );
    assert!(
        !text.contains("13800009999") && text.contains("138****9999"),
        "masked: {text}"
    );
    // Each step is in the audit log under the street admin's name.
    let audit = admin
        .get("/api/v1/audit?actor=xianfeng&page_size=200")
        .await;
    for action in ["area.create", "user.create", "case.export"] {
        assert!(
            audit.text.contains(action),
            "{action}: {}",
            audit.text.chars().take(400).collect::<String>()
        );
    }
}
