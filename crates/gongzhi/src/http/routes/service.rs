//! 党员下沉、志愿服务、积分 (docs/party-volunteers.md): volunteers and party members, report-ins,
//! activities and attendance, the points ledger and catalogue, ratings and commendations, the
//! work-unit portal, certificates, and the volunteer's own pages.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::app::service::activities::{
    self as act, Activity, ActivityPage, ActivityQuery, AssignInput, AttendanceResult, CheckoutAll,
    Confirmation, Correction, HoursEntry, InsuranceInput, ManualAttendance, NewActivity, Qr,
    QrQuery, ScanInput, Signup,
};
use crate::app::service::ledger::{
    self, Account, AccountPage, AccountQuery, AreaQuery, CatalogItem, Donation, DonationInput,
    ItemPatch, ManualPosting, NewItem, PageParams, PostingPage, PostingView, RedeemInput,
    Redemption, RedemptionPage, RedemptionQuery, ReverseInput, Rule, RuleInput,
};
use crate::app::service::people::{
    self, Load, MeView, Member, MemberPage, MemberPatch, MemberQuery, NewMember, NewReportIn,
    NewVolunteer, Overdue, Pairing, PairingInput, ReportIn, ReportInPage, ReportInQuery, Volunteer,
    VolunteerPage, VolunteerPatch, VolunteerQuery,
};
use crate::app::service::ratings::{
    self, Commendation, CommendationPage, CommendationQuery, ComputeInput, ComputeResult, Due,
    NewCommendation, RatingPage, RatingQuery, ReviewInput, StarSummary,
};
use crate::app::service::units::{
    self, Assessment, AssessmentQuery, Certificate, CertificatePage, CertificateQuery, Contact,
    ContactInput, Download, NewCertificate, PublicCertificate,
};
use crate::app::service::LimitsView;
use crate::app::AppState;
use crate::error::AppResult;
use crate::http::extract::{Auth, Json, Path, Query, ReqMeta};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_volunteers, register_volunteer))
        .routes(routes!(volunteer_load))
        .routes(routes!(get_volunteer, update_volunteer))
        .routes(routes!(volunteer_hours, correct_hours))
        .routes(routes!(list_party_members, create_party_member))
        .routes(routes!(update_party_member))
        .routes(routes!(list_report_ins, create_report_in))
        .routes(routes!(overdue))
        .routes(routes!(list_pairings, put_pairing))
        .routes(routes!(list_activities, create_activity))
        .routes(routes!(get_activity))
        .routes(routes!(cancel_activity))
        .routes(routes!(list_signups, assign))
        .routes(routes!(remove_signup))
        .routes(routes!(insure))
        .routes(routes!(activity_qr))
        .routes(routes!(attend))
        .routes(routes!(checkout_all))
        .routes(routes!(confirm))
        .routes(routes!(scan))
        .routes(routes!(sign_up_me, withdraw_me))
        .routes(routes!(list_point_rules, put_point_rule))
        .routes(routes!(list_accounts))
        .routes(routes!(get_account))
        .routes(routes!(account_postings))
        .routes(routes!(manual_posting))
        .routes(routes!(reverse_posting))
        .routes(routes!(donate))
        .routes(routes!(list_catalog, create_item))
        .routes(routes!(update_item))
        .routes(routes!(redeem))
        .routes(routes!(list_redemptions))
        .routes(routes!(stars))
        .routes(routes!(put_review))
        .routes(routes!(compute_ratings))
        .routes(routes!(list_ratings))
        .routes(routes!(list_commendations, commend))
        .routes(routes!(commendations_due))
        .routes(routes!(add_contact))
        .routes(routes!(assessment))
        .routes(routes!(unit_sheet))
        .routes(routes!(member_sheet))
        .routes(routes!(list_certificates, issue_certificate))
        .routes(routes!(certificate_pdf))
        .routes(routes!(check_certificate))
        .routes(routes!(my_volunteer))
        .routes(routes!(my_limits))
        .routes(routes!(my_postings))
        .routes(routes!(my_certificate))
}

use super::{created, Created, J};

fn download(d: Download) -> Response {
    let (name, content_type, bytes) = d;
    crate::http::attachment::attachment(content_type, &name, &name, bytes)
}

// ---- volunteers and members ------------------------------------------------------------

/// Volunteers of your scope (masked mobiles), with hours, stars and balance.
#[utoipa::path(get, path = "/api/v1/volunteers", tag = "service", params(VolunteerQuery), responses((status = 200, body = VolunteerPage)))]
async fn list_volunteers(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<VolunteerQuery>,
) -> J<VolunteerPage> {
    Ok(axum::Json(people::list_volunteers(&s, &ctx, &q).await?))
}

/// Register a person of the registry as a volunteer (optionally linking their login).
#[utoipa::path(post, path = "/api/v1/volunteers", tag = "service", request_body = NewVolunteer, responses((status = 201, body = Volunteer), (status = 409)))]
async fn register_volunteer(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(n): Json<NewVolunteer>,
) -> Created<Volunteer> {
    created(people::register_volunteer(&s, &ctx, n).await?)
}

/// The burnout panel: people near their limits, and willing people not asked for a long time.
#[utoipa::path(get, path = "/api/v1/volunteers/load", tag = "service", params(AreaQuery), responses((status = 200, body = Load)))]
async fn volunteer_load(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<AreaQuery>,
) -> J<Load> {
    Ok(axum::Json(people::load(&s, &ctx, q.area_id).await?))
}

/// One volunteer (audited).
#[utoipa::path(get, path = "/api/v1/volunteers/{id}", tag = "service", params(("id" = Uuid, Path)), responses((status = 200, body = Volunteer), (status = 404)))]
async fn get_volunteer(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<Volunteer> {
    Ok(axum::Json(people::get_volunteer(&s, &ctx, id).await?))
}

/// Change skills, willingness or the volunteer's own limits.
#[utoipa::path(patch, path = "/api/v1/volunteers/{id}", tag = "service", params(("id" = Uuid, Path)), request_body = VolunteerPatch, responses((status = 200, body = Volunteer)))]
async fn update_volunteer(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(p): Json<VolunteerPatch>,
) -> J<Volunteer> {
    Ok(axum::Json(people::update_volunteer(&s, &ctx, id, p).await?))
}

/// A volunteer's service-hours entries (services and corrections).
#[utoipa::path(get, path = "/api/v1/volunteers/{id}/hours", tag = "service", params(("id" = Uuid, Path)), responses((status = 200, body = Vec<HoursEntry>)))]
async fn volunteer_hours(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<Vec<HoursEntry>> {
    Ok(axum::Json(act::list_hours(&s.db, &ctx, id).await?))
}

/// Correct a volunteer's hours by a new entry (never an edit).
#[utoipa::path(post, path = "/api/v1/volunteers/{id}/hours", tag = "service", params(("id" = Uuid, Path)), request_body = Correction, responses((status = 201, body = Vec<HoursEntry>), (status = 422)))]
async fn correct_hours(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(c): Json<Correction>,
) -> Created<Vec<HoursEntry>> {
    created(act::correct(&s.db, &ctx, id, c).await?)
}

/// Party members of your scope.
#[utoipa::path(get, path = "/api/v1/party-members", tag = "service", params(MemberQuery), responses((status = 200, body = MemberPage)))]
async fn list_party_members(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<MemberQuery>,
) -> J<MemberPage> {
    Ok(axum::Json(people::list_members(&s.db, &ctx, &q).await?))
}

/// Add a party member (a person of the registry, community or in-service).
#[utoipa::path(post, path = "/api/v1/party-members", tag = "service", request_body = NewMember, responses((status = 201, body = Member), (status = 409)))]
async fn create_party_member(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(n): Json<NewMember>,
) -> Created<Member> {
    created(people::create_member(&s, &ctx, n).await?)
}

/// Change a member's status or exemption (send the version you read).
#[utoipa::path(patch, path = "/api/v1/party-members/{id}", tag = "service", params(("id" = Uuid, Path)), request_body = MemberPatch, responses((status = 200, body = Member), (status = 409)))]
async fn update_party_member(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(p): Json<MemberPatch>,
) -> J<Member> {
    Ok(axum::Json(people::update_member(&s, &ctx, id, p).await?))
}

/// Report-ins (双报到) to the communities of your scope.
#[utoipa::path(get, path = "/api/v1/report-ins", tag = "service", params(ReportInQuery), responses((status = 200, body = ReportInPage)))]
async fn list_report_ins(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<ReportInQuery>,
) -> J<ReportInPage> {
    Ok(axum::Json(people::list_report_ins(&s.db, &ctx, &q).await?))
}

/// Record a report-in by a member or a unit organisation; a member's earns its points.
#[utoipa::path(post, path = "/api/v1/report-ins", tag = "service", request_body = NewReportIn, responses((status = 201, body = ReportIn)))]
async fn create_report_in(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(n): Json<NewReportIn>,
) -> Created<ReportIn> {
    created(people::create_report_in(&s, &ctx, n).await?)
}

/// In-service members and units whose report-in is missing or expired.
#[utoipa::path(get, path = "/api/v1/report-ins/overdue", tag = "service", params(AreaQuery), responses((status = 200, body = Vec<Overdue>)))]
async fn overdue(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<AreaQuery>,
) -> J<Vec<Overdue>> {
    Ok(axum::Json(people::overdue(&s.db, &ctx, q.area_id).await?))
}

/// Branch–community pairings (结对共建).
#[utoipa::path(get, path = "/api/v1/pairings", tag = "service", params(AreaQuery), responses((status = 200, body = Vec<Pairing>)))]
async fn list_pairings(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<AreaQuery>,
) -> J<Vec<Pairing>> {
    Ok(axum::Json(
        people::list_pairings(&s.db, &ctx, q.area_id).await?,
    ))
}

/// Pair a branch with one community point.
#[utoipa::path(put, path = "/api/v1/pairings", tag = "service", request_body = PairingInput, responses((status = 200, body = Pairing), (status = 409)))]
async fn put_pairing(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(p): Json<PairingInput>,
) -> J<Pairing> {
    Ok(axum::Json(people::put_pairing(&s.db, &ctx, p).await?))
}

// ---- activities ----------------------------------------------------------------------------

/// Activities of your scope.
#[utoipa::path(get, path = "/api/v1/activities", tag = "service", params(ActivityQuery), responses((status = 200, body = ActivityPage)))]
async fn list_activities(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<ActivityQuery>,
) -> J<ActivityPage> {
    Ok(axum::Json(act::list(&s.db, &ctx, &q).await?))
}

/// Create an activity.
#[utoipa::path(post, path = "/api/v1/activities", tag = "service", request_body = NewActivity, responses((status = 201, body = Activity)))]
async fn create_activity(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(n): Json<NewActivity>,
) -> Created<Activity> {
    created(act::create(&s.db, &ctx, n).await?)
}

/// One activity (for a volunteer: with their own status).
#[utoipa::path(get, path = "/api/v1/activities/{id}", tag = "service", params(("id" = Uuid, Path)), responses((status = 200, body = Activity)))]
async fn get_activity(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<Activity> {
    Ok(axum::Json(act::get(&s.db, &ctx, id).await?))
}

/// Cancel an activity nobody has checked in to.
#[utoipa::path(post, path = "/api/v1/activities/{id}/cancel", tag = "service", params(("id" = Uuid, Path)), responses((status = 200, body = Activity)))]
async fn cancel_activity(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<Activity> {
    Ok(axum::Json(act::cancel(&s.db, &ctx, id).await?))
}

/// The sign-ups of an activity.
#[utoipa::path(get, path = "/api/v1/activities/{id}/signups", tag = "service", params(("id" = Uuid, Path)), responses((status = 200, body = Vec<Signup>)))]
async fn list_signups(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<Vec<Signup>> {
    Ok(axum::Json(act::signups(&s.db, &ctx, id).await?))
}

/// Assign a volunteer; refused with the reason beyond a limit or capacity.
#[utoipa::path(post, path = "/api/v1/activities/{id}/signups", tag = "service", params(("id" = Uuid, Path)), request_body = AssignInput, responses((status = 201, body = Vec<Signup>), (status = 422)))]
async fn assign(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(a): Json<AssignInput>,
) -> Created<Vec<Signup>> {
    created(act::assign(&s, &ctx, id, a).await?)
}

/// Withdraw a sign-up (before check-in).
#[utoipa::path(delete, path = "/api/v1/activities/{id}/signups/{volunteer_id}", tag = "service", params(("id" = Uuid, Path), ("volunteer_id" = Uuid, Path)), responses((status = 200, body = Vec<Signup>)))]
async fn remove_signup(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path((id, vol)): Path<(Uuid, Uuid)>,
) -> J<Vec<Signup>> {
    Ok(axum::Json(act::remove_signup(&s, &ctx, id, vol).await?))
}

/// Record a participant's insurance (required before a risky activity).
#[utoipa::path(put, path = "/api/v1/activities/{id}/signups/{volunteer_id}/insurance", tag = "service", params(("id" = Uuid, Path), ("volunteer_id" = Uuid, Path)), request_body = InsuranceInput, responses((status = 200, body = Vec<Signup>)))]
async fn insure(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path((id, vol)): Path<(Uuid, Uuid)>,
    Json(i): Json<InsuranceInput>,
) -> J<Vec<Signup>> {
    Ok(axum::Json(act::insure(&s, &ctx, id, vol, i).await?))
}

/// A signed check-in (or check-out) QR code, valid 60 seconds, for the full-screen view.
#[utoipa::path(get, path = "/api/v1/activities/{id}/qr", tag = "service", params(("id" = Uuid, Path), QrQuery), responses((status = 200, body = Qr)))]
async fn activity_qr(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Query(q): Query<QrQuery>,
) -> J<Qr> {
    Ok(axum::Json(act::qr(&s, &ctx, id, &q).await?))
}

/// The organiser checks someone in or out.
#[utoipa::path(post, path = "/api/v1/activities/{id}/attendance", tag = "service", params(("id" = Uuid, Path)), request_body = ManualAttendance, responses((status = 200, body = AttendanceResult), (status = 422)))]
async fn attend(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(m): Json<ManualAttendance>,
) -> J<AttendanceResult> {
    Ok(axum::Json(act::attend(&s, &ctx, id, m).await?))
}

/// Check out everyone still checked in.
#[utoipa::path(post, path = "/api/v1/activities/{id}/checkout-all", tag = "service", params(("id" = Uuid, Path)), responses((status = 200, body = CheckoutAll)))]
async fn checkout_all(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<CheckoutAll> {
    Ok(axum::Json(act::checkout_all(&s.db, &ctx, id).await?))
}

/// Confirm the hours: service-hours entries and the postings of the rules, once.
#[utoipa::path(post, path = "/api/v1/activities/{id}/confirm", tag = "service", params(("id" = Uuid, Path)), responses((status = 200, body = Confirmation), (status = 422)))]
async fn confirm(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<Confirmation> {
    Ok(axum::Json(act::confirm(&s, &ctx, id).await?))
}

/// The volunteer's phone scanned a check-in or check-out code.
#[utoipa::path(post, path = "/api/v1/attendance/scan", tag = "service", request_body = ScanInput, responses((status = 200, body = AttendanceResult), (status = 400, description = "forged token"), (status = 422, description = "expired, double check-in, …")))]
async fn scan(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(b): Json<ScanInput>,
) -> J<AttendanceResult> {
    Ok(axum::Json(act::scan(&s, &ctx, b).await?))
}

/// The signed-in volunteer signs up.
#[utoipa::path(post, path = "/api/v1/activities/{id}/signup", tag = "service", params(("id" = Uuid, Path)), responses((status = 200, body = Activity), (status = 422)))]
async fn sign_up_me(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<Activity> {
    Ok(axum::Json(act::sign_up_me(&s, &ctx, id).await?))
}

/// The signed-in volunteer withdraws.
#[utoipa::path(delete, path = "/api/v1/activities/{id}/signup", tag = "service", params(("id" = Uuid, Path)), responses((status = 200, body = Activity)))]
async fn withdraw_me(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<Activity> {
    Ok(axum::Json(act::withdraw_me(&s, &ctx, id).await?))
}

// ---- points --------------------------------------------------------------------------------

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RequiredArea {
    area_id: Uuid,
}

/// The point rules that apply in an area.
#[utoipa::path(get, path = "/api/v1/points/rules", tag = "service", params(RequiredArea), responses((status = 200, body = Vec<Rule>)))]
async fn list_point_rules(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<RequiredArea>,
) -> J<Vec<Rule>> {
    Ok(axum::Json(
        ledger::list_rules(&s.db, &ctx, q.area_id).await?,
    ))
}

/// Set a rule for an area (points, cap per period).
#[utoipa::path(put, path = "/api/v1/points/rules", tag = "service", request_body = RuleInput, responses((status = 200, body = Vec<Rule>)))]
async fn put_point_rule(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(r): Json<RuleInput>,
) -> J<Vec<Rule>> {
    Ok(axum::Json(ledger::put_rule(&s.db, &ctx, r).await?))
}

/// Points accounts of your scope with their balances.
#[utoipa::path(get, path = "/api/v1/points/accounts", tag = "service", params(AccountQuery), responses((status = 200, body = AccountPage)))]
async fn list_accounts(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<AccountQuery>,
) -> J<AccountPage> {
    Ok(axum::Json(ledger::list_accounts(&s.db, &ctx, &q).await?))
}

/// One account and its balance (one row, whatever the history).
#[utoipa::path(get, path = "/api/v1/points/accounts/{id}", tag = "service", params(("id" = Uuid, Path)), responses((status = 200, body = Account)))]
async fn get_account(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> J<Account> {
    Ok(axum::Json(ledger::get_account(&s.db, &ctx, id).await?))
}

/// An account's postings, newest first.
#[utoipa::path(get, path = "/api/v1/points/accounts/{id}/postings", tag = "service", params(("id" = Uuid, Path), PageParams), responses((status = 200, body = PostingPage)))]
async fn account_postings(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Query(p): Query<PageParams>,
) -> J<PostingPage> {
    Ok(axum::Json(
        ledger::list_postings(&s.db, &ctx, id, &p).await?,
    ))
}

/// A manual earning or deduction with a note.
#[utoipa::path(post, path = "/api/v1/points/postings", tag = "service", request_body = ManualPosting, responses((status = 201, body = PostingView), (status = 422)))]
async fn manual_posting(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(m): Json<ManualPosting>,
) -> Created<PostingView> {
    created(ledger::manual_post(&s.db, &ctx, m).await?)
}

/// Reverse an earning or deduction (once).
#[utoipa::path(post, path = "/api/v1/points/postings/{id}/reverse", tag = "service", params(("id" = Uuid, Path)), request_body = ReverseInput, responses((status = 201, body = PostingView), (status = 422)))]
async fn reverse_posting(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(r): Json<ReverseInput>,
) -> Created<PostingView> {
    created(ledger::reverse(&s.db, &ctx, id, r).await?)
}

/// Donate points to a person or a community fund (audited).
#[utoipa::path(post, path = "/api/v1/points/donations", tag = "service", request_body = DonationInput, responses((status = 201, body = Donation), (status = 422)))]
async fn donate(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(d): Json<DonationInput>,
) -> Created<Donation> {
    created(ledger::donate(&s.db, &ctx, d).await?)
}

/// The catalogue (爱心超市) of your scope, or of your own community (a volunteer).
#[utoipa::path(get, path = "/api/v1/catalog", tag = "service", params(AreaQuery), responses((status = 200, body = Vec<CatalogItem>)))]
async fn list_catalog(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<AreaQuery>,
) -> J<Vec<CatalogItem>> {
    Ok(axum::Json(
        ledger::list_catalog(&s.db, &ctx, q.area_id).await?,
    ))
}

/// Add an item to a community's catalogue.
#[utoipa::path(post, path = "/api/v1/catalog", tag = "service", request_body = NewItem, responses((status = 201, body = CatalogItem)))]
async fn create_item(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(n): Json<NewItem>,
) -> Created<CatalogItem> {
    created(ledger::create_item(&s.db, &ctx, n).await?)
}

/// Change an item (send the version you read).
#[utoipa::path(patch, path = "/api/v1/catalog/{id}", tag = "service", params(("id" = Uuid, Path)), request_body = ItemPatch, responses((status = 200, body = CatalogItem), (status = 409)))]
async fn update_item(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(p): Json<ItemPatch>,
) -> J<CatalogItem> {
    Ok(axum::Json(ledger::update_item(&s.db, &ctx, id, p).await?))
}

/// Redeem an item: balance and stock fall together, or neither.
#[utoipa::path(post, path = "/api/v1/catalog/{id}/redeem", tag = "service", params(("id" = Uuid, Path)), request_body = RedeemInput, responses((status = 201, body = Redemption), (status = 422)))]
async fn redeem(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Json(r): Json<RedeemInput>,
) -> Created<Redemption> {
    created(ledger::redeem(&s, &ctx, id, r).await?)
}

/// Redemptions of your scope.
#[utoipa::path(get, path = "/api/v1/redemptions", tag = "service", params(RedemptionQuery), responses((status = 200, body = RedemptionPage)))]
async fn list_redemptions(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<RedemptionQuery>,
) -> J<RedemptionPage> {
    Ok(axum::Json(ledger::list_redemptions(&s.db, &ctx, &q).await?))
}

// ---- stars, ratings, commendations ----------------------------------------------------------

/// Volunteers per star level.
#[utoipa::path(get, path = "/api/v1/stars", tag = "service", params(AreaQuery), responses((status = 200, body = StarSummary)))]
async fn stars(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<AreaQuery>,
) -> J<StarSummary> {
    Ok(axum::Json(
        ratings::star_summary(&s, &ctx, q.area_id).await?,
    ))
}

/// Set a member's 民主评议 score for a year.
#[utoipa::path(put, path = "/api/v1/party-reviews", tag = "service", request_body = ReviewInput, responses((status = 204)))]
async fn put_review(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(r): Json<ReviewInput>,
) -> AppResult<StatusCode> {
    ratings::put_review(&s.db, &ctx, r).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Compute the annual ratings of every member of an area.
#[utoipa::path(post, path = "/api/v1/party-ratings/compute", tag = "service", request_body = ComputeInput, responses((status = 200, body = ComputeResult)))]
async fn compute_ratings(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(c): Json<ComputeInput>,
) -> J<ComputeResult> {
    Ok(axum::Json(ratings::compute(&s, &ctx, c).await?))
}

/// Annual ratings of your scope.
#[utoipa::path(get, path = "/api/v1/party-ratings", tag = "service", params(RatingQuery), responses((status = 200, body = RatingPage)))]
async fn list_ratings(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<RatingQuery>,
) -> J<RatingPage> {
    Ok(axum::Json(ratings::list_ratings(&s.db, &ctx, &q).await?))
}

/// Commendations of your scope.
#[utoipa::path(get, path = "/api/v1/commendations", tag = "service", params(CommendationQuery), responses((status = 200, body = CommendationPage)))]
async fn list_commendations(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<CommendationQuery>,
) -> J<CommendationPage> {
    Ok(axum::Json(
        ratings::list_commendations(&s.db, &ctx, &q).await?,
    ))
}

/// Record a commendation (earns the commendation points).
#[utoipa::path(post, path = "/api/v1/commendations", tag = "service", request_body = NewCommendation, responses((status = 201, body = Commendation)))]
async fn commend(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(n): Json<NewCommendation>,
) -> Created<Commendation> {
    created(ratings::commend(&s.db, &ctx, n).await?)
}

/// People due for a commendation.
#[utoipa::path(get, path = "/api/v1/commendations/due", tag = "service", params(AreaQuery), responses((status = 200, body = Vec<Due>)))]
async fn commendations_due(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<AreaQuery>,
) -> J<Vec<Due>> {
    Ok(axum::Json(ratings::due(&s, &ctx, q.area_id).await?))
}

// ---- work units and certificates -------------------------------------------------------------

/// Link a user or API token to a unit organisation as its contact.
#[utoipa::path(post, path = "/api/v1/work-units/{org_id}/contacts", tag = "service", params(("org_id" = Uuid, Path)), request_body = ContactInput, responses((status = 201, body = Contact), (status = 409)))]
async fn add_contact(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(org_id): Path<Uuid>,
    Json(c): Json<ContactInput>,
) -> Created<Contact> {
    created(units::add_contact(&s.db, &ctx, org_id, c).await?)
}

/// The unit's annual assessment of its members (the contact's own unit; JSON for the unit's systems).
#[utoipa::path(get, path = "/api/v1/work-unit/assessment", tag = "service", params(AssessmentQuery), responses((status = 200, body = Assessment)))]
async fn assessment(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<AssessmentQuery>,
) -> J<Assessment> {
    Ok(axum::Json(units::assessment(&s.db, &ctx, &q, None).await?))
}

/// The unit's annual sheet as XLSX or PDF.
#[utoipa::path(get, path = "/api/v1/work-unit/sheet", tag = "service", params(AssessmentQuery), responses((status = 200, content_type = "application/octet-stream", body = String)))]
async fn unit_sheet(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<AssessmentQuery>,
) -> AppResult<Response> {
    Ok(download(units::sheet(&s.db, &ctx, &q, None).await?))
}

/// One member's annual sheet as XLSX or PDF.
#[utoipa::path(get, path = "/api/v1/work-unit/members/{id}/sheet", tag = "service", params(("id" = Uuid, Path), AssessmentQuery), responses((status = 200, content_type = "application/octet-stream", body = String)))]
async fn member_sheet(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
    Query(q): Query<AssessmentQuery>,
) -> AppResult<Response> {
    Ok(download(units::sheet(&s.db, &ctx, &q, Some(id)).await?))
}

/// Certificates issued in your scope.
#[utoipa::path(get, path = "/api/v1/certificates", tag = "service", params(CertificateQuery), responses((status = 200, body = CertificatePage)))]
async fn list_certificates(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(q): Query<CertificateQuery>,
) -> J<CertificatePage> {
    Ok(axum::Json(units::list_certificates(&s.db, &ctx, &q).await?))
}

/// Issue a volunteer-service certificate (志愿服务记录证明).
#[utoipa::path(post, path = "/api/v1/certificates", tag = "service", request_body = NewCertificate, responses((status = 201, body = Certificate), (status = 422)))]
async fn issue_certificate(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(n): Json<NewCertificate>,
) -> Created<Certificate> {
    created(units::issue(&s.db, &ctx, Some(n.volunteer_id)).await?)
}

/// A certificate as printable PDF.
#[utoipa::path(get, path = "/api/v1/certificates/{id}/pdf", tag = "service", params(("id" = Uuid, Path)), responses((status = 200, content_type = "application/pdf", body = String)))]
async fn certificate_pdf(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    Ok(download(units::certificate_pdf(&s.db, &ctx, id).await?))
}

/// Check a certificate by its number (no sign-in; masked).
#[utoipa::path(get, path = "/api/v1/public/certificates/{number}", tag = "service", params(("number" = String, Path)), responses((status = 200, body = PublicCertificate), (status = 404)))]
async fn check_certificate(
    State(s): State<AppState>,
    _meta: ReqMeta,
    Path(number): Path<String>,
) -> J<PublicCertificate> {
    Ok(axum::Json(units::check(&s.db, &number).await?))
}

// ---- the volunteer's own pages -------------------------------------------------------------

/// The signed-in volunteer: hours, stars, points, activities, certificates.
#[utoipa::path(get, path = "/api/v1/me/volunteer", tag = "service", responses((status = 200, body = MeView), (status = 422, description = "not linked to a volunteer")))]
async fn my_volunteer(State(s): State<AppState>, Auth(ctx): Auth) -> J<MeView> {
    Ok(axum::Json(people::me_view(&s, &ctx).await?))
}

/// Set your own (lower) limits; `null` goes back to the defaults.
#[utoipa::path(patch, path = "/api/v1/me/volunteer/limits", tag = "service", request_body = Option<LimitsView>, responses((status = 200, body = Volunteer)))]
async fn my_limits(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Json(l): Json<Option<LimitsView>>,
) -> J<Volunteer> {
    Ok(axum::Json(people::set_my_limits(&s, &ctx, l).await?))
}

/// Your points postings.
#[utoipa::path(get, path = "/api/v1/me/postings", tag = "service", params(PageParams), responses((status = 200, body = PostingPage)))]
async fn my_postings(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Query(p): Query<PageParams>,
) -> J<PostingPage> {
    Ok(axum::Json(people::my_postings(&s, &ctx, &p).await?))
}

/// Issue your own certificate.
#[utoipa::path(post, path = "/api/v1/me/certificate", tag = "service", responses((status = 201, body = Certificate), (status = 422)))]
async fn my_certificate(State(s): State<AppState>, Auth(ctx): Auth) -> Created<Certificate> {
    created(units::issue(&s.db, &ctx, None).await?)
}
