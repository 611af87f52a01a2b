//! Party organisations: the chain, links across areas, scope.
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

async fn org_id(app: &TestApp, name: &str) -> String {
    #[derive(sea_orm::FromQueryResult)]
    struct I {
        id: uuid::Uuid,
    }
    gongzhi::store::fetch_opt::<I, _>(
        &app.state.db,
        "SELECT id FROM party_orgs WHERE name = $1",
        vec![name.to_string().into()],
    )
    .await
    .unwrap()
    .unwrap_or_else(|| panic!("no org {name}"))
    .id
    .to_string()
}

#[tokio::test]
async fn the_four_level_chain_is_browsable() {
    let app = spawn_app().await;
    let a = app.admin().await;
    let roots = a.get("/api/v1/party-orgs/roots").await;
    assert_eq!(roots.status, StatusCode::OK);
    let names: Vec<&str> = roots
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"东风街道党工委"), "{names:?}");
    let street = org_id(&app, "东风街道党工委").await;
    let kids = a
        .get(&format!("/api/v1/party-orgs/{street}/children"))
        .await;
    assert!(kids
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["name"] == "朝阳社区党总支"));
    let branch = org_id(&app, "朝阳社区党总支").await;
    let grids = a
        .get(&format!("/api/v1/party-orgs/{branch}/children"))
        .await;
    assert_eq!(grids.body[0]["kind"], "grid_branch");
}

#[tokio::test]
async fn kinds_must_match_their_area_and_parent() {
    let app = spawn_app().await;
    let a = app.admin().await;
    let chaoyang = app.area_id("130602001001").await;
    let street_org = org_id(&app, "东风街道党工委").await;
    // A grid branch cannot sit on a community area nor directly under a street committee.
    let r = a.post("/api/v1/party-orgs", json!({"parent_id": street_org, "kind": "grid_branch", "name": "测试支部", "area_id": chaoyang})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = &r.body["error"]["fields"];
    assert!(
        fields["area_id"].is_string() && fields["parent_id"].is_string(),
        "{}",
        r.text
    );
    // Links only for unit/industry/regional organisations.
    let r = a
        .post("/api/v1/party-orgs", json!({"parent_id": street_org, "kind": "community_branch", "name": "测试党总支", "area_id": chaoyang, "linked_area_ids": [chaoyang]}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A unit organisation linked across two communities.
    let chunhui = app.area_id("130602002001").await;
    let r = a
        .post("/api/v1/party-orgs", json!({"kind": "unit", "name": "保定学院党委", "area_id": chaoyang, "linked_area_ids": [chaoyang, chunhui]}))
        .await.expect_status(StatusCode::CREATED);
    assert_eq!(r.body["linked_areas"].as_array().unwrap().len(), 2);
    let id = r.body["id"].as_str().unwrap().to_string();
    // Visible to 春晖's worker through the link, though its home area is 朝阳.
    let w2 = app.demo_user("shequ2").await;
    assert_eq!(
        w2.get(&format!("/api/v1/party-orgs/{id}")).await.status,
        StatusCode::OK
    );
    // Edit with version; stale version is 409.
    let v = r.body["version"].as_i64().unwrap();
    a.patch(
        &format!("/api/v1/party-orgs/{id}"),
        json!({"version": v, "linked_area_ids": [chaoyang]}),
    )
    .await
    .expect_status(StatusCode::OK);
    assert_eq!(
        w2.get(&format!("/api/v1/party-orgs/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    let r = a
        .patch(
            &format!("/api/v1/party-orgs/{id}"),
            json!({"version": v, "name": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // Move under the street committee, then delete.
    let r = a
        .post(
            &format!("/api/v1/party-orgs/{id}/move"),
            json!({"new_parent_id": street_org, "version": v + 1}),
        )
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(r.body["parent_id"].as_str().unwrap(), street_org);
    assert_eq!(
        a.delete(&format!("/api/v1/party-orgs/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    // Cannot delete an organisation with children.
    assert_eq!(
        a.delete(&format!("/api/v1/party-orgs/{street_org}"))
            .await
            .status,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn a_party_secretary_edits_in_scope_and_searches() {
    let app = spawn_app().await;
    let s = app.demo_user("shuji").await;
    let branch = org_id(&app, "朝阳社区党总支").await;
    let v = s.get(&format!("/api/v1/party-orgs/{branch}")).await.body["version"]
        .as_i64()
        .unwrap();
    s.patch(
        &format!("/api/v1/party-orgs/{branch}"),
        json!({"version": v, "name": "朝阳社区党委"}),
    )
    .await
    .expect_status(StatusCode::OK);
    let r = s.get("/api/v1/party-orgs?q=%E6%9C%9D%E9%98%B3").await;
    assert!(r
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["name"] == "朝阳社区党委"));
    let r = s
        .get("/api/v1/party-orgs?q=%E5%92%8C%E5%B9%B3%E9%87%8C")
        .await; // 和平里
    assert_eq!(r.body.as_array().unwrap().len(), 0);
}
