//! 居民自助注册 (issue 15 point 8). A resident signs up with a mobile number and a one-time code
//! sent by SMS, then claims their registry record by name and ID number; a community worker
//! confirms the match, which links the account to the person (`users.person_id`: how notices and
//! messages reach the household in the app) and grants the resident role on the person's building
//! or grid.
//!
//! Privacy and abuse:
//! - codes are six digits, kept only as a keyed hash, expire after ten minutes, die after five
//!   wrong tries, and are rate-limited per phone (one a minute, five a day) and per address (ten an
//!   hour);
//! - asking for a code answers the same whether or not the number has an account;
//! - a claim is checked against the stored blind index of ID numbers and the name, and answers
//!   `submitted` whether or not it matched: only the worker of the matched person's area ever
//!   sees it; a claim that matched nobody is kept for the record and seen by nobody.
use sea_orm::FromQueryResult;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::Entry;
use super::messages::channels::{Channel, Outbound};
use super::messages::{self, Outgoing};
use super::{scope, AppState, Ctx, Origin};
use crate::domain::ids::{mask_id, mask_name, IdCardNo, MobileNo};
use crate::domain::role::{Permission, Role};
use crate::domain::{clean_name, ms_to_rfc3339, new_id, now_ms};
use crate::error::{AppError, AppResult, FieldErrors, Msg};
use crate::store::sql::Where;
use crate::store::{self, Db, Paging};

pub const CODE_TTL_MS: i64 = 10 * 60_000;
pub const RESEND_AFTER_MS: i64 = 60_000;
const PER_PHONE_A_DAY: i64 = 5;
const PER_ADDRESS_AN_HOUR: i64 = 10;
const MAX_TRIES: i32 = 5;
const CLAIMS_A_DAY: i64 = 5;
const DAY_MS: i64 = 86_400_000;

fn code_hash(state: &AppState, phone: &str, code: &str) -> String {
    state
        .keys
        .blind_index("signup-code", &format!("{phone}:{code}"))
}

fn phone_of(s: &str) -> AppResult<String> {
    MobileNo::parse(s)
        .map(|m| m.as_str().to_string())
        .map_err(|m| AppError::field("phone", m))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    pub phone: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CodeSent {
    pub expires_in_s: i64,
    pub resend_after_s: i64,
}

/// 获取验证码: sends a code by SMS, within the limits; the same answer for every valid number.
#[tracing::instrument(name = "signup::send_code", skip_all)]
pub async fn send_code(state: &AppState, origin: &Origin, r: CodeRequest) -> AppResult<CodeSent> {
    let phone = phone_of(&r.phone)?;
    let Some(sms) = state
        .settings
        .channels
        .sms
        .as_ref()
        .filter(|s| s.templates.iter().any(|(k, _)| k == "signup.code"))
    else {
        return Err(AppError::conflict(
            "signup.sms_unavailable",
            Msg::new(
                "本平台未开通短信验证码，请联系社区工作人员开通账号",
                "This instance sends no SMS codes; ask your community office for an account",
            ),
        ));
    };
    let db = &state.db;
    let bidx = state.keys.blind_index("mobile", &phone);
    let now = now_ms();
    #[derive(FromQueryResult)]
    struct Last {
        n: i64,
        last: Option<i64>,
    }
    let per_phone: Option<Last> = store::fetch_opt(
        db,
        "SELECT COUNT(*) AS n, MAX(created_at) AS last FROM signup_codes WHERE phone_bidx = $1 AND created_at > $2",
        vec![bidx.clone().into(), (now - DAY_MS).into()],
    )
    .await?;
    if let Some(l) = per_phone {
        if let Some(last) = l.last.filter(|t| now - t < RESEND_AFTER_MS) {
            return Err(AppError::RateLimited {
                retry_after_s: ((RESEND_AFTER_MS - (now - last)) / 1000).max(1) as u64,
            });
        }
        if l.n >= PER_PHONE_A_DAY {
            return Err(AppError::RateLimited {
                retry_after_s: 3600,
            });
        }
    }
    let per_addr = store::fetch_i64(
        db,
        "SELECT COUNT(*) AS n FROM signup_codes WHERE client_addr = $1 AND created_at > $2",
        vec![origin.client_addr.clone().into(), (now - 3_600_000).into()],
    )
    .await?;
    if per_addr >= PER_ADDRESS_AN_HOUR {
        return Err(AppError::RateLimited { retry_after_s: 600 });
    }
    let code = format!("{:06}", rand::random::<u32>() % 1_000_000);
    let id = new_id();
    // Written before the send, so the limits hold even when the provider is slow.
    store::exec(
        db,
        "INSERT INTO signup_codes (id, phone_bidx, code_hash, client_addr, attempts, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, 0, $5, $6)",
        vec![
            id.into(),
            bidx.into(),
            code_hash(state, &phone, &code).into(),
            origin.client_addr.clone().into(),
            (now + CODE_TTL_MS).into(),
            now.into(),
        ],
    )
    .await?;
    let minutes = (CODE_TTL_MS / 60_000).to_string();
    let body = format!("您的注册验证码为 {code}，{minutes} 分钟内有效。");
    let mut vars = serde_json::Map::new();
    vars.insert("code".into(), code.clone().into());
    vars.insert("minutes".into(), minutes.clone().into());
    let sent = Channel::Sms(sms)
        .send(
            messages::sender::http(),
            &Outbound {
                delivery_id: id,
                kind: "signup.code",
                urgent: true,
                title: "注册验证码",
                body: &body,
                link: None,
                params: vec![code.clone(), minutes],
                username: "",
                display_name: "",
                phone: Some(&phone),
                email: None,
                wecom_userid: None,
                vars: &vars,
                created_at: &ms_to_rfc3339(now),
            },
        )
        .await;
    if let Err(e) = sent {
        tracing::warn!(error = ?e, "signup code SMS not sent");
        return Err(AppError::Conflict {
            code: "signup.sms_failed",
            msg: Msg::new(
                "验证码短信发送失败，请稍后再试",
                "The code could not be sent; try again later",
            ),
        });
    }
    Ok(CodeSent {
        expires_in_s: CODE_TTL_MS / 1000,
        resend_after_s: RESEND_AFTER_MS / 1000,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUp {
    pub phone: String,
    pub code: String,
    pub username: String,
    pub display_name: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignedUp {
    pub user_id: Uuid,
    pub username: String,
}

fn wrong_code() -> AppError {
    AppError::field(
        "code",
        Msg::new(
            "验证码不正确或已过期，请重新获取",
            "The code is wrong or expired; ask for a new one",
        ),
    )
}

/// 注册: the code is checked (and spent), then the account is made — no grants yet; the claim
/// of a registry record brings the resident role.
#[tracing::instrument(name = "signup::sign_up", skip_all)]
pub async fn sign_up(state: &AppState, origin: &Origin, s: SignUp) -> AppResult<SignedUp> {
    let phone = phone_of(&s.phone)?;
    // The account's fields first: a bad password does not spend the code.
    let checked = super::users::check_new(super::users::NewUser {
        username: s.username.clone(),
        display_name: s.display_name.clone(),
        area_id: None,
        phone: Some(phone.clone()),
        password: Some(s.password.clone()),
        must_change_password: Some(false),
        role: None,
    })
    .map_err(AppError::Validation)?;
    let db = &state.db;
    let bidx = state.keys.blind_index("mobile", &phone);
    let code = s.code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(wrong_code());
    }
    #[derive(FromQueryResult)]
    struct C {
        id: Uuid,
        code_hash: String,
        attempts: i32,
    }
    let now = now_ms();
    let c: Option<C> = store::fetch_opt(
        db,
        "SELECT id, code_hash, attempts FROM signup_codes WHERE phone_bidx = $1 AND used_at IS NULL \
         AND expires_at > $2 ORDER BY created_at DESC LIMIT 1",
        vec![bidx.clone().into(), now.into()],
    )
    .await?;
    let Some(c) = c.filter(|c| c.attempts < MAX_TRIES) else {
        return Err(wrong_code());
    };
    let good = crate::crypto::constant_time_eq(
        c.code_hash.as_bytes(),
        code_hash(state, &phone, code).as_bytes(),
    );
    if !good {
        store::exec(
            db,
            "UPDATE signup_codes SET attempts = attempts + 1 WHERE id = $1",
            vec![c.id.into()],
        )
        .await?;
        return Err(wrong_code());
    }
    let taken = store::fetch_i64(
        db,
        "SELECT COUNT(*) AS n FROM users WHERE phone_bidx = $1",
        vec![bidx.clone().into()],
    )
    .await?;
    if taken > 0 {
        return Err(AppError::conflict(
            "signup.phone_taken",
            Msg::new(
                "该手机号已注册，请直接登录",
                "This number already has an account; sign in instead",
            ),
        ));
    }
    let hash = super::auth::hash_password(&checked.password).await?;
    let mut ctx = Ctx::system("signup", state.audit_key.clone());
    ctx.client_addr = origin.client_addr.clone();
    ctx.request_id = origin.request_id.clone();
    let tx = store::write_tx(db).await?;
    // Spent once: two sign-ups racing with one code make one account.
    let spent = store::exec(
        &tx,
        "UPDATE signup_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL",
        vec![c.id.into(), now.into()],
    )
    .await?;
    if spent == 0 {
        return Err(wrong_code());
    }
    // The account is the signer's own: they proved the number with the code.
    let id = super::users::insert(
        &tx,
        Some(&state.keys),
        &ctx,
        &scope::own(&ctx),
        &checked,
        hash,
    )
    .await?;
    tx.commit().await?;
    Ok(SignedUp {
        user_id: id,
        username: checked.username,
    })
}

// ---------------------------------------------------------------------------------------------
// Claims

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClaim {
    pub name: String,
    pub id_no: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyClaim {
    pub id: Uuid,
    pub name: String,
    /// submitted | confirmed | rejected (a claim that matched nobody stays `submitted`)
    pub status: String,
    pub reason: Option<String>,
    pub created_at: String,
    pub decided_at: Option<String>,
}

#[derive(FromQueryResult)]
struct MineRow {
    id: Uuid,
    name: String,
    status: String,
    reason: Option<String>,
    created_at: i64,
    decided_at: Option<i64>,
}

fn my_view(r: MineRow) -> MyClaim {
    MyClaim {
        id: r.id,
        name: r.name,
        status: match r.status.as_str() {
            "confirmed" | "rejected" => r.status,
            _ => "submitted".into(),
        },
        reason: r.reason,
        created_at: ms_to_rfc3339(r.created_at),
        decided_at: r.decided_at.map(ms_to_rfc3339),
    }
}

/// 认领: records the claim; matched or not, the answer is the same.
#[tracing::instrument(name = "signup::claim", skip_all)]
pub async fn claim(state: &AppState, ctx: &Ctx, c: NewClaim) -> AppResult<MyClaim> {
    let user = ctx.own_user()?;
    let mut errs = FieldErrors::new();
    let name = clean_name(&c.name, 64)
        .map_err(|m| errs.insert("name".into(), m))
        .ok();
    let id_no = IdCardNo::parse(&c.id_no)
        .map_err(|m| errs.insert("id_no".into(), m))
        .ok();
    let (Some(name), Some(id_no)) = (name, id_no) else {
        return Err(AppError::Validation(errs));
    };
    let db = &state.db;
    let linked = store::fetch_i64(
        db,
        "SELECT COUNT(*) AS n FROM users WHERE id = $1 AND person_id IS NOT NULL",
        vec![user.into()],
    )
    .await?;
    if linked > 0 {
        return Err(AppError::conflict(
            "claims.already_linked",
            Msg::new(
                "您的账号已关联住户信息",
                "Your account is already linked to your record",
            ),
        ));
    }
    let now = now_ms();
    let today = store::fetch_i64(
        db,
        "SELECT COUNT(*) AS n FROM resident_claims WHERE user_id = $1 AND created_at > $2",
        vec![user.into(), (now - DAY_MS).into()],
    )
    .await?;
    if today >= CLAIMS_A_DAY {
        return Err(AppError::RateLimited {
            retry_after_s: 3600,
        });
    }
    #[derive(FromQueryResult)]
    struct P {
        id: Uuid,
        community_id: Uuid,
        area_id: Uuid,
    }
    let person: Option<P> = store::fetch_opt(
        db,
        "SELECT id, community_id, area_id FROM persons WHERE id_no_bidx = $1 AND name = $2 AND deleted_at IS NULL \
         ORDER BY updated_at DESC LIMIT 1",
        vec![
            state.keys.blind_index("id_no", id_no.as_str()).into(),
            name.clone().into(),
        ],
    )
    .await?;
    let id = new_id();
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "INSERT INTO resident_claims (id, user_id, person_id, community_id, area_id, name, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        vec![
            id.into(),
            user.into(),
            person.as_ref().map(|p| p.id).into(),
            person.as_ref().map(|p| p.community_id).into(),
            person.as_ref().map(|p| p.area_id).into(),
            name.clone().into(),
            if person.is_some() { "pending" } else { "unmatched" }.into(),
            now.into(),
        ],
    )
    .await?;
    Entry::by(ctx, &scope::own(ctx), "claim.submit", "resident_claim", id)
        .area(person.as_ref().map(|p| p.area_id))
        .record(&tx)
        .await?;
    tx.commit().await?;
    Ok(MyClaim {
        id,
        name,
        status: "submitted".into(),
        reason: None,
        created_at: ms_to_rfc3339(now),
        decided_at: None,
    })
}

#[tracing::instrument(name = "signup::my_claims", skip_all)]
pub async fn my_claims(db: &Db, ctx: &Ctx) -> AppResult<Vec<MyClaim>> {
    let user = ctx.own_user()?;
    let rows: Vec<MineRow> = store::fetch_all(
        db,
        "SELECT id, name, status, reason, created_at, decided_at FROM resident_claims WHERE user_id = $1 \
         ORDER BY created_at DESC LIMIT 50",
        vec![user.into()],
    )
    .await?;
    Ok(rows.into_iter().map(my_view).collect())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Claim {
    pub id: Uuid,
    pub user_display_name: String,
    pub user_phone_masked: Option<String>,
    pub claimed_name: String,
    pub person_name_masked: String,
    pub id_no_masked: Option<String>,
    pub address: Option<String>,
    pub community_name: String,
    pub grid_name: String,
    /// pending | confirmed | rejected
    pub status: String,
    pub reason: Option<String>,
    pub created_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
}

#[derive(FromQueryResult)]
struct ClaimRow {
    id: Uuid,
    user_id: Uuid,
    person_id: Uuid,
    area_id: Uuid,
    user_display_name: String,
    user_phone_masked: Option<String>,
    claimed_name: String,
    person_name: String,
    id_no_masked: Option<String>,
    address: Option<String>,
    community_name: String,
    grid_name: String,
    status: String,
    reason: Option<String>,
    created_at: i64,
    decided_by: Option<String>,
    decided_at: Option<i64>,
}

const CLAIMS: &str = "SELECT c.id, c.user_id, c.person_id, c.area_id, u.display_name AS user_display_name, \
     u.phone_masked AS user_phone_masked, c.name AS claimed_name, p.name AS person_name, p.id_no_masked, \
     (SELECT d.address FROM household_members m JOIN households h ON h.id = m.household_id \
      JOIN dwellings d ON d.id = h.dwelling_id WHERE m.person_id = p.id AND m.to_date IS NULL LIMIT 1) AS address, \
     cm.name AS community_name, g.name AS grid_name, c.status, c.reason, c.created_at, c.decided_by, c.decided_at \
     FROM resident_claims c JOIN users u ON u.id = c.user_id JOIN persons p ON p.id = c.person_id \
     JOIN areas cm ON cm.id = p.community_id JOIN areas g ON g.id = p.grid_id";

fn claim_view(r: ClaimRow) -> Claim {
    Claim {
        id: r.id,
        user_display_name: r.user_display_name,
        user_phone_masked: r.user_phone_masked,
        claimed_name: r.claimed_name,
        person_name_masked: mask_name(&r.person_name),
        id_no_masked: r
            .id_no_masked
            .map(|m| if m.contains('*') { m } else { mask_id(&m) }),
        address: r.address,
        community_name: r.community_name,
        grid_name: r.grid_name,
        status: r.status,
        reason: r.reason,
        created_at: ms_to_rfc3339(r.created_at),
        decided_by: r.decided_by,
        decided_at: r.decided_at.map(ms_to_rfc3339),
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClaimQuery {
    /// pending (default) | confirmed | rejected | all
    pub status: Option<String>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

crate::app::page_of!(ClaimPage, Claim);

/// 住户认领审核: the claims that matched a person of the caller's area.
#[tracing::instrument(name = "signup::list", skip_all)]
pub async fn list(db: &Db, ctx: &Ctx, q: &ClaimQuery) -> AppResult<ClaimPage> {
    let mut w = Where::new();
    w.and("c.person_id IS NOT NULL", []);
    w.and_cond(scope::area_cond(ctx, Permission::EditRegistry, "c.area_id"));
    match q.status.as_deref().unwrap_or("pending") {
        "all" => {
            w.and("c.status <> 'unmatched'", []);
        }
        s @ ("pending" | "confirmed" | "rejected") => {
            w.and("c.status = ?", [s.to_string().into()]);
        }
        _ => {
            return Err(AppError::field(
                "status",
                Msg::new(
                    "status 应为 pending、confirmed、rejected 或 all",
                    "status must be pending, confirmed, rejected or all",
                ),
            ))
        }
    }
    let (cond, values) = w.build(1);
    let paging = Paging::new(q.page, q.page_size);
    let (rows, total): (Vec<ClaimRow>, i64) = store::page(
        db,
        &format!("SELECT COUNT(*) AS n FROM resident_claims c WHERE {cond}"),
        &format!("{CLAIMS} WHERE {cond} ORDER BY c.created_at DESC, c.id"),
        values,
        paging,
    )
    .await?;
    Ok(ClaimPage::new(
        rows.into_iter().map(claim_view).collect(),
        total,
        paging,
    ))
}

async fn load(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<(ClaimRow, scope::Checked)> {
    let r: ClaimRow =
        store::fetch_found(db, &format!("{CLAIMS} WHERE c.id = $1"), vec![id.into()]).await?;
    let checked = scope::require_permission(db, ctx, Permission::EditRegistry, r.area_id).await?;
    Ok((r, checked))
}

fn decided() -> AppError {
    AppError::conflict(
        "claims.decided",
        Msg::new("该认领已处理", "This claim was already decided"),
    )
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimConfirmation {}

/// 确认关联: the account becomes the person's, with the resident role on their building or grid.
#[tracing::instrument(name = "signup::confirm", skip_all)]
pub async fn confirm(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<Claim> {
    let (r, checked) = load(db, ctx, id).await?;
    if r.status != "pending" {
        return Err(decided());
    }
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    let n = store::exec(
        &tx,
        "UPDATE resident_claims SET status = 'confirmed', decided_by = $2, decided_at = $3 \
         WHERE id = $1 AND status = 'pending'",
        vec![
            id.into(),
            ctx.principal.display_name.clone().into(),
            now.into(),
        ],
    )
    .await?;
    // One person, one account; one account, one person.
    let free = store::exec(
        &tx,
        "UPDATE users SET person_id = $2, area_id = COALESCE(area_id, $3), updated_at = $4 \
         WHERE id = $1 AND person_id IS NULL AND NOT EXISTS (SELECT 1 FROM users o WHERE o.person_id = $2)",
        vec![
            r.user_id.into(),
            r.person_id.into(),
            r.area_id.into(),
            now.into(),
        ],
    )
    .await?;
    if n == 0 || free == 0 {
        return Err(AppError::conflict(
            "claims.taken",
            Msg::new(
                "该居民或该账号已关联，请核对",
                "This resident or this account is already linked; check it",
            ),
        ));
    }
    super::users::insert_grant(
        &tx,
        ctx,
        &checked,
        r.user_id,
        Role::Resident,
        Some(r.area_id),
    )
    .await?;
    Entry::by(ctx, &checked, "claim.confirm", "resident_claim", id)
        .area(r.area_id)
        .detail(format!("user {} ↔ person {}", r.user_id, r.person_id))
        .record(&tx)
        .await?;
    let mut vars = serde_json::Map::new();
    vars.insert("community".into(), r.community_name.clone().into());
    messages::enqueue(
        &tx,
        Outgoing {
            key: "claim.confirmed",
            dedup: format!("claim.confirmed:{id}"),
            urgent: false,
            area_id: Some(r.area_id),
            link: Some("/m/notices".into()),
            vars,
            recipients: vec![r.user_id],
        },
    )
    .await?;
    tx.commit().await?;
    load(db, ctx, id).await.map(|(r, _)| claim_view(r))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    pub reason: String,
}

#[tracing::instrument(name = "signup::reject", skip_all)]
pub async fn reject(db: &Db, ctx: &Ctx, id: Uuid, x: Rejection) -> AppResult<Claim> {
    let (r, checked) = load(db, ctx, id).await?;
    let reason = x.reason.trim().to_string();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::field(
            "reason",
            Msg::new(
                "请填写驳回理由（最多 500 字）",
                "Give a reason (at most 500 characters)",
            ),
        ));
    }
    if r.status != "pending" {
        return Err(decided());
    }
    let tx = store::write_tx(db).await?;
    let n = store::exec(
        &tx,
        "UPDATE resident_claims SET status = 'rejected', reason = $2, decided_by = $3, decided_at = $4 \
         WHERE id = $1 AND status = 'pending'",
        vec![
            id.into(),
            reason.clone().into(),
            ctx.principal.display_name.clone().into(),
            now_ms().into(),
        ],
    )
    .await?;
    if n == 0 {
        return Err(decided());
    }
    Entry::by(ctx, &checked, "claim.reject", "resident_claim", id)
        .area(r.area_id)
        .detail(reason)
        .record(&tx)
        .await?;
    tx.commit().await?;
    load(db, ctx, id).await.map(|(r, _)| claim_view(r))
}

/// Removes sign-up codes dead for a day (run with the session sweep).
#[tracing::instrument(name = "signup::sweep", skip_all)]
pub async fn sweep(db: &crate::store::Db) -> AppResult<u64> {
    Ok(store::exec(
        db,
        "DELETE FROM signup_codes WHERE expires_at < $1",
        vec![(now_ms() - DAY_MS).into()],
    )
    .await?)
}
