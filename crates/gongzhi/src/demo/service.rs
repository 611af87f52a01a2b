//! Demo data for 党员下沉、志愿服务、积分: in the first two communities, volunteers and party members
//! (community and in-service, of 保定市第一中心医院党委), report-ins (some overdue), pairings, four
//! months of confirmed activities with their hours and postings, upcoming and ongoing activities,
//! a catalogue with redemptions and donations, commendations, last year's ratings and two
//! certificates. Everything goes through the same ledger and confirmation code as the API, so the
//! ledger's invariants hold in the demo too.
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use uuid::Uuid;

use crate::app::service::activities::{activity_row, confirm_in};
use crate::app::service::ledger::{self, Actor, NewPosting};
use crate::app::service::people::{insert_volunteer, PersonFacts};
use crate::config::ServicePolicy;
use crate::demo::DemoCity;
use crate::domain::area::AreaKind;
use crate::domain::calendar::local_date;
use crate::domain::points::Kind;
use crate::domain::{new_id, now_ms};
use crate::error::AppResult;
use crate::store::{self, Db};

#[derive(Debug, Default)]
pub struct Summary {
    pub volunteers: usize,
    pub members: usize,
    pub activities: usize,
    pub postings: i64,
}

const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

const SKILLS: &[&str] = &[
    "医疗护理",
    "心理疏导",
    "法律咨询",
    "维修",
    "文艺",
    "驾驶",
    "助老",
    "助学",
    "应急救护",
    "外语",
];

/// (kind, title, place, hours, risky)
const PAST: &[(&str, &str, &str, i64, bool)] = &[
    ("volunteer", "小区环境清洁日", "小区中心广场", 3, false),
    ("volunteer", "关爱空巢老人上门探访", "各楼栋", 2, false),
    (
        "party_meeting",
        "党支部“三会一课”：支部党员大会",
        "社区党群服务中心",
        2,
        false,
    ),
    (
        "theme_day",
        "主题党日：重温入党誓词",
        "社区党群服务中心",
        2,
        false,
    ),
    ("volunteer", "文明交通劝导", "朝阳大街路口", 3, false),
    (
        "community_event",
        "邻里节便民服务集市",
        "社区广场",
        4,
        false,
    ),
    (
        "volunteer",
        "垃圾分类桶前值守",
        "各垃圾分类投放点",
        2,
        false,
    ),
    ("volunteer", "防汛隐患排查", "老旧小区地下室", 3, true),
    ("volunteer", "义诊进社区", "社区卫生服务站", 3, false),
    ("community_event", "四点半课堂", "社区活动室", 2, false),
];

const UPCOMING: &[(&str, &str, &str, i64, bool, i64)] = &[
    ("volunteer", "冬季供暖入户走访", "各楼栋", 3, false, 2),
    (
        "theme_day",
        "主题党日：学习贯彻全会精神",
        "社区党群服务中心",
        2,
        false,
        4,
    ),
    (
        "volunteer",
        "楼道杂物清理（含高处作业）",
        "3号楼、5号楼",
        3,
        true,
        6,
    ),
    (
        "community_event",
        "元旦联欢会志愿服务",
        "社区文化活动室",
        4,
        false,
        29,
    ),
    ("volunteer", "爱心助餐送餐", "社区老年食堂", 2, false, 1),
];

const ITEMS: &[(&str, &str, i64, i64)] = &[
    ("东北大米 5kg", "社区合作超市提供", 60, 20),
    ("食用油 1.8L", "", 50, 15),
    ("洗衣液 2kg", "", 30, 30),
    ("理发服务券", "社区理发室，限本人使用", 10, 50),
    ("保温杯", "印有“共治”标识", 40, 10),
    ("家政服务 1 小时", "由签约家政公司上门", 50, 8),
    ("雨伞", "最后一把", 20, 1),
];

#[derive(FromQueryResult)]
struct Id {
    id: Uuid,
}

async fn one_id<C: ConnectionTrait>(
    c: &C,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> AppResult<Option<Uuid>> {
    Ok(store::fetch_opt::<Id, _>(c, sql, values)
        .await?
        .map(|i| i.id))
}

/// Writes the service demo in the first two communities, step by step in one transaction, then
/// last year's ratings and two certificates. The steps run in this order because the random draws
/// must come out the same for the same seed.
pub async fn run(db: &Db, ctx: &crate::app::Ctx, city: &DemoCity, seed: u64) -> AppResult<Summary> {
    let communities: Vec<Uuid> = city
        .of_kind(AreaKind::Community)
        .take(2)
        .map(|a| a.id)
        .collect();
    if communities.is_empty() {
        return Ok(Summary::default());
    }
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    let hospital = one_id(
        &tx,
        "SELECT id FROM party_orgs WHERE kind = 'unit' ORDER BY name LIMIT 1",
        vec![],
    )
    .await?;
    let mut s = Service {
        tx: &tx,
        rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5e_7_1ce),
        policy: ServicePolicy::default(),
        now,
        today0: crate::domain::calendar::local_midnight_ms(local_date(now)),
        worker: Actor {
            id: None,
            name: "王芳（社区）".into(),
        },
        communities,
        hospital,
        accounts: vec![],
        zhiyuan: None,
        sum: Summary::default(),
    };
    for ci in 0..s.communities.len() {
        s.volunteers_and_members(ci).await?;
    }
    s.pairings().await?;
    s.logins().await?;
    s.history_hours().await?;
    for n in 0..s.communities.len() {
        s.past_activities(n).await?;
    }
    s.upcoming_activities().await?;
    for ci in 0..s.communities.len() {
        s.catalogue(ci).await?;
    }
    let top = s.commendation().await?;
    s.carried_points().await?;
    let last_year = local_date(now).year();
    s.reviews(last_year).await?;
    let Service {
        policy,
        communities,
        zhiyuan,
        mut sum,
        ..
    } = s;
    sum.postings = store::fetch_i64(&tx, "SELECT COUNT(*) FROM point_postings", vec![]).await?;
    tx.commit().await?;
    for &c in &communities {
        crate::app::service::ratings::compute_in(db, &policy, c, last_year).await?;
    }
    // Two certificates, issued by the community.
    let ctx = ctx.as_system("王芳（社区）");
    for t in top.iter().take(1) {
        let _ = crate::app::service::units::issue(db, &ctx, Some(t.id)).await;
    }
    if let Some(z) = zhiyuan {
        let _ = crate::app::service::units::issue(db, &ctx, Some(z.1)).await;
    }
    Ok(sum)
}

/// A volunteer's point account: (community, volunteer, account).
type Account = (Uuid, Uuid, Uuid);

/// The service demo's state between its steps.
struct Service<'t> {
    tx: &'t DatabaseTransaction,
    rng: ChaCha8Rng,
    policy: ServicePolicy,
    now: i64,
    /// Today's local midnight.
    today0: i64,
    worker: Actor,
    communities: Vec<Uuid>,
    /// 保定市第一中心医院党委, the in-service members' unit.
    hospital: Option<Uuid>,
    accounts: Vec<Account>,
    /// The volunteer `zhiyuan` signs in as: the first plain volunteer of the first community.
    zhiyuan: Option<Account>,
    sum: Summary,
}

impl Service<'_> {
    fn accounts_of(&self, community: Uuid) -> Vec<Account> {
        self.accounts
            .iter()
            .filter(|a| a.0 == community)
            .copied()
            .collect()
    }

    /// Volunteers of community `ci` (70 and 35 people), the first 26 and 10 of them party
    /// members; in the first community some serve at the hospital and report in.
    async fn volunteers_and_members(&mut self, ci: usize) -> AppResult<()> {
        let (tx, now, community) = (self.tx, self.now, self.communities[ci]);
        let branch = one_id(
            tx,
            "SELECT id FROM party_orgs WHERE area_id = $1 AND kind = 'community_branch'",
            vec![community.into()],
        )
        .await?;
        let persons: Vec<PersonFacts> = store::fetch_all(
            tx,
            "SELECT street_id, id, community_id, name, birth_date FROM persons WHERE community_id = $1 AND deleted_at IS NULL \
             AND status = 'active' AND birth_date >= '1948-01-01' AND birth_date <= '2006-12-31' ORDER BY id LIMIT $2",
            vec![community.into(), (if ci == 0 { 70i64 } else { 35 }).into()],
        )
        .await?;
        let members_n = if ci == 0 { 26 } else { 10 };
        for (i, p) in persons.iter().enumerate() {
            let rng = &mut self.rng;
            let nsk = rng.gen_range(0..3);
            let mut sk: Vec<&str> = SKILLS.choose_multiple(rng, nsk).copied().collect();
            sk.sort();
            let member = i < members_n;
            let willing = rng.gen_bool(0.85);
            let vid =
                insert_volunteer(tx, p, community, &sk.join(","), willing, member, None).await?;
            self.sum.volunteers += 1;
            let acc = one_id(
                tx,
                "SELECT id FROM point_accounts WHERE volunteer_id = $1",
                vec![vid.into()],
            )
            .await?
            .expect("account");
            self.accounts.push((community, vid, acc));
            if !member {
                continue;
            }
            let in_service = ci == 0 && i >= 14 && self.hospital.is_some();
            let mid = new_id();
            // Joined at 18–40, and not in the future.
            let born: i32 = p
                .birth_date
                .as_deref()
                .and_then(|b| b.get(..4))
                .and_then(|y| y.parse().ok())
                .unwrap_or(1970);
            let rng = &mut self.rng;
            let year = (born + rng.gen_range(18..=40)).min(2025);
            let (hospital, worker) = (self.hospital, &self.worker);
            store::exec(
                tx,
                "INSERT INTO party_members (id, volunteer_id, org_id, community_id, kind, work_unit_org_id, joined_on, status, exempt_reason, version, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $10)",
                vec![
                    mid.into(), vid.into(), branch.or(hospital).expect("an organisation").into(), community.into(),
                    (if in_service { "in_service" } else { "community" }).into(), (if in_service { hospital } else { None }).into(),
                    format!("{year}-{:02}-{:02}", rng.gen_range(1..13), rng.gen_range(1..29)).into(),
                    (if i % 11 == 5 { "probationary" } else { "full" }).into(),
                    (if i == 3 { Some("患病（长期住院）".to_string()) } else { None }).into(), now.into(),
                ],
            )
            .await?;
            self.sum.members += 1;
            if in_service {
                // Most reported in within the last six months; a few are overdue.
                let days_ago = if i % 4 == 0 {
                    rng.gen_range(200..320)
                } else {
                    rng.gen_range(10..170)
                };
                let at = now - days_ago * DAY;
                let on = crate::app::service::ymd(local_date(at));
                let until = crate::app::service::add_months(&on, self.policy.report_in_months)
                    .expect("date");
                let rid = new_id();
                store::exec(
                    tx,
                    "INSERT INTO report_ins (id, member_id, unit_org_id, community_id, reported_on, valid_until, commitment, file_id, created_by, created_by_name, created_at) \
                     VALUES ($1, $2, NULL, $3, $4, $5, $6, NULL, NULL, $7, $8)",
                    vec![rid.into(), mid.into(), community.into(), on.clone().into(), until.clone().into(),
                         "每月至少参加一次社区志愿服务，认领一项居民微心愿".into(), worker.name.clone().into(), at.into()],
                )
                .await?;
                store::exec(tx, "UPDATE party_members SET last_reported_on = $1, report_valid_until = $2 WHERE id = $3", vec![on.into(), until.into(), mid.into()]).await?;
                let rules = ledger::rules_for(tx, community).await?;
                let event = crate::domain::points::Event::ReportIn;
                let r = rules[&event];
                let credit = vec![(acc, r.points, Some(rid.to_string()))];
                let ps =
                    ledger::earn_by_rule(tx, worker, event, r, credit, "report_in", at).await?;
                ledger::post_credits(tx, worker, ps, at).await?;
            }
        }
        if let (Some(h), 0) = (self.hospital, ci) {
            let on = crate::app::service::ymd(local_date(now - 40 * DAY));
            store::exec(
                tx,
                "INSERT INTO report_ins (id, member_id, unit_org_id, community_id, reported_on, valid_until, commitment, file_id, created_by, created_by_name, created_at) \
                 VALUES ($1, NULL, $2, $3, $4, $5, $6, NULL, NULL, $7, $8)",
                vec![new_id().into(), h.into(), community.into(), on.clone().into(), crate::app::service::add_months(&on, 6).expect("date").into(),
                     "每季度组织一次义诊进社区，开放职工食堂为社区老人助餐".into(), self.worker.name.clone().into(), (now - 40 * DAY).into()],
            )
            .await?;
        }
        Ok(())
    }

    /// The cross-area organisations with a community point each.
    async fn pairings(&mut self) -> AppResult<()> {
        let across: Vec<Id> = store::fetch_all(
            self.tx,
            "SELECT id FROM party_orgs WHERE kind IN ('regional', 'industry') ORDER BY kind DESC",
            vec![],
        )
        .await?;
        for (o, c) in across.iter().zip(self.communities.iter()) {
            store::exec(self.tx, "INSERT INTO branch_pairings (org_id, community_id, since, created_at) VALUES ($1, $2, $3, $4)", vec![o.id.into(), (*c).into(), "2026-03-05".into(), self.now.into()]).await?;
        }
        Ok(())
    }

    /// `zhiyuan` is the first plain volunteer of the first community; `danwei` the hospital's
    /// contact.
    async fn logins(&mut self) -> AppResult<()> {
        let tx = self.tx;
        let zhiyuan = one_id(
            tx,
            "SELECT id FROM users WHERE username = 'zhiyuan'",
            vec![],
        )
        .await?;
        let first = self.communities[0];
        self.zhiyuan = self.accounts_of(first).get(26).copied();
        if let (Some(u), Some(v)) = (zhiyuan, self.zhiyuan) {
            store::exec(tx, "UPDATE volunteers SET user_id = $1, skills = '应急救护,助老', willing = TRUE WHERE id = $2", vec![u.into(), v.1.into()]).await?;
            // The login carries the volunteer's own name.
            store::exec(
                tx,
                "UPDATE users SET display_name = (SELECT p.name || '（志愿者）' FROM volunteers v JOIN persons p ON p.street_id = v.street_id AND p.id = v.person_id WHERE v.id = $1) WHERE id = $2",
                vec![v.1.into(), u.into()],
            )
            .await?;
        }
        let danwei = one_id(tx, "SELECT id FROM users WHERE username = 'danwei'", vec![]).await?;
        if let (Some(u), Some(h)) = (danwei, self.hospital) {
            store::exec(tx, "INSERT INTO unit_contacts (id, org_id, user_id, token_id, created_at) VALUES ($1, $2, $3, NULL, $4)", vec![new_id().into(), h.into(), u.into(), self.now.into()]).await?;
        }
        Ok(())
    }

    /// Historical hours imported from the national volunteer system (志愿中国), for the stars;
    /// `zhiyuan` gets 320 h (2 stars, close to the third).
    async fn history_hours(&mut self) -> AppResult<()> {
        let every_fourth: Vec<(usize, Uuid)> = self
            .accounts
            .iter()
            .enumerate()
            .filter(|(k, _)| k % 4 == 0)
            .map(|(k, a)| (k, a.1))
            .collect();
        for (k, vid) in every_fourth {
            let minutes: i64 = match k % 20 {
                0 => 1_520 * 60,
                4 => 640 * 60,
                8 => 320 * 60,
                _ => self.rng.gen_range(20..180) * 60,
            };
            self.imported_hours(vid, minutes).await?;
        }
        if let Some(v) = self.zhiyuan {
            self.imported_hours(v.1, 19_200).await?;
        }
        Ok(())
    }

    async fn imported_hours(&self, volunteer: Uuid, minutes: i64) -> AppResult<()> {
        store::exec(
            self.tx,
            "UPDATE volunteers SET verified_minutes = verified_minutes + $1 WHERE id = $2",
            vec![minutes.into(), volunteer.into()],
        )
        .await?;
        store::insert_many(
            self.tx,
            "service_hours",
            crate::app::service::activities::HOURS_COLUMNS,
            vec![vec![
                new_id().into(),
                volunteer.into(),
                Option::<Uuid>::None.into(),
                "2025-12-31".into(),
                (minutes as i32).into(),
                "correction".into(),
                Some("导入全国志愿服务信息系统历史时长".to_string()).into(),
                Option::<Uuid>::None.into(),
                self.worker.name.clone().into(),
                (self.now - 200 * DAY).into(),
            ]],
        )
        .await?;
        Ok(())
    }

    /// Four months of activities in community `n`, confirmed by the organiser.
    async fn past_activities(&mut self, n: usize) -> AppResult<()> {
        let (tx, community) = (self.tx, self.communities[n]);
        let people = self.accounts_of(community);
        let count = if n == 0 { 24 } else { 10 };
        for k in 0..count {
            let (kind, title, place, h, risky) = PAST[(k + n * 3) % PAST.len()];
            let day = self.today0 - (120 - k as i64 * (110 / count as i64)) * DAY;
            let starts = day + (if kind == "volunteer" { 9 } else { 14 }) * HOUR + 30 * 60_000;
            let ends = starts + h * HOUR;
            let id = new_id();
            store::exec(
                tx,
                "INSERT INTO activities (id, area_id, kind, title, place, description, starts_at, ends_at, capacity, skills, risky, status, signed_up, checked_in, checked_out, organiser_id, organiser_name, version, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 40, '', $9, 'open', 0, 0, 0, NULL, $10, 1, $11, $11)",
                vec![id.into(), community.into(), kind.into(), title.into(), place.into(), "".into(), starts.into(), ends.into(), risky.into(), self.worker.name.clone().into(), (starts - 7 * DAY).into()],
            )
            .await?;
            let rng = &mut self.rng;
            let npick = rng.gen_range(8..20);
            let mut chosen: Vec<&Account> = people.choose_multiple(rng, npick).collect();
            if let (0, Some(z)) = (n, self.zhiyuan.as_ref()) {
                if k % 3 == 0 && !chosen.iter().any(|c| c.1 == z.1) {
                    chosen.push(z);
                }
            }
            let (mut signed, mut inn, mut out) = (0, 0, 0);
            for p in chosen {
                let rng = &mut self.rng;
                let absent = rng.gen_bool(0.08);
                let cin = starts + rng.gen_range(-20..15) * 60_000;
                let cout = ends + rng.gen_range(-25..20) * 60_000;
                let minutes = ((cout.min(ends) - cin.max(starts)) / 60_000).max(0);
                store::exec(
                    tx,
                    "INSERT INTO activity_signups (activity_id, volunteer_id, via, status, starts_at, ends_at, insurer, policy_no, checkin_at, checkout_at, minutes, created_at, updated_at) \
                     VALUES ($1, $2, $3, 'signed', $4, $5, $6, $7, $8, $9, $10, $11, $11)",
                    vec![
                        id.into(), p.1.into(), (if rng.gen_bool(0.6) { "self" } else { "assigned" }).into(), starts.into(), ends.into(),
                        (if risky { Some("中国人寿保险") } else { None }).map(String::from).into(),
                        (if risky { Some(format!("ZYBX{}", rng.gen_range(100000..999999))) } else { None }).into(),
                        (if absent { None } else { Some(cin) }).into(), (if absent { None } else { Some(cout) }).into(),
                        (if absent { None } else { Some(minutes as i32) }).into(), (starts - 3 * DAY).into(),
                    ],
                )
                .await?;
                store::exec(tx, "UPDATE volunteers SET last_asked_at = $1 WHERE id = $2 AND (last_asked_at IS NULL OR last_asked_at < $1)", vec![(starts - 3 * DAY).into(), p.1.into()]).await?;
                signed += 1;
                if !absent {
                    inn += 1;
                    out += 1;
                }
            }
            store::exec(tx, "UPDATE activities SET signed_up = $1, checked_in = $2, checked_out = $3 WHERE id = $4", vec![signed.into(), inn.into(), out.into(), id.into()]).await?;
            let row = activity_row(tx, id).await?;
            confirm_in(tx, &self.policy, &self.worker, &row, ends + HOUR).await?;
            self.sum.activities += 1;
        }
        Ok(())
    }

    /// Upcoming activities in the first community, with sign-ups; one is going on now.
    async fn upcoming_activities(&mut self) -> AppResult<()> {
        let (tx, now, c0) = (self.tx, self.now, self.communities[0]);
        let worker = &self.worker;
        let grid0 = one_id(
            tx,
            "SELECT id FROM areas WHERE parent_id = $1 AND kind = 'grid' ORDER BY code LIMIT 1",
            vec![c0.into()],
        )
        .await?;
        let people0 = self.accounts_of(c0);
        let mut upcoming: Vec<(Uuid, i64, i64)> = vec![];
        for (k, (kind, title, place, h, risky, days)) in UPCOMING.iter().enumerate() {
            let starts =
                self.today0 + days * DAY + (if *kind == "volunteer" { 9 } else { 14 }) * HOUR;
            let ends = starts + h * HOUR;
            let area = if k == 2 { grid0.unwrap_or(c0) } else { c0 };
            let id = insert_activity(
                tx, area, kind, title, place, starts, ends, *risky, 30, worker, now,
            )
            .await?;
            upcoming.push((id, starts, ends));
        }
        let live_start = now - HOUR;
        let live = insert_activity(
            tx,
            c0,
            "volunteer",
            "社区卫生大扫除（进行中）",
            "小区中心广场",
            live_start,
            now + 2 * HOUR,
            false,
            50,
            worker,
            now - DAY,
        )
        .await?;
        upcoming.push((live, live_start, now + 2 * HOUR));
        let zhiyuan_volunteer = self.zhiyuan.map(|z| z.1);
        for (k, (id, starts, ends)) in upcoming.iter().enumerate() {
            let mut chosen: Vec<&Account> =
                people0.choose_multiple(&mut self.rng, 6 + k * 2).collect();
            if let Some(z) = self.zhiyuan.as_ref() {
                if (k == 0 || k == 1 || *id == live) && !chosen.iter().any(|c| c.1 == z.1) {
                    chosen.push(z);
                }
            }
            // At the one going on now, two in three have checked in (not zhiyuan: that is hers to do).
            let checks_in =
                |j: usize, p: &Account| *id == live && j % 3 != 2 && Some(p.1) != zhiyuan_volunteer;
            for (j, p) in chosen.iter().enumerate() {
                let insured = k == 2 && j % 2 == 0;
                let checked_in = checks_in(j, p);
                store::exec(
                    tx,
                    "INSERT INTO activity_signups (activity_id, volunteer_id, via, status, starts_at, ends_at, insurer, policy_no, checkin_at, checkout_at, minutes, created_at, updated_at) \
                     VALUES ($1, $2, $3, 'signed', $4, $5, $6, $7, $8, NULL, NULL, $9, $9)",
                    vec![
                        (*id).into(), p.1.into(), (if j % 2 == 0 { "self" } else { "assigned" }).into(), (*starts).into(), (*ends).into(),
                        (if insured { Some("中国人寿保险".to_string()) } else { None }).into(),
                        (if insured { Some(format!("ZYBX{}", 300100 + j)) } else { None }).into(),
                        (if checked_in { Some(live_start + (j as i64) * 60_000) } else { None }).into(), (now - DAY).into(),
                    ],
                )
                .await?;
                store::exec(
                    tx,
                    "UPDATE volunteers SET last_asked_at = $1 WHERE id = $2",
                    vec![(now - DAY).into(), p.1.into()],
                )
                .await?;
            }
            let inn = chosen
                .iter()
                .enumerate()
                .filter(|(j, p)| checks_in(*j, p))
                .count();
            store::exec(
                tx,
                "UPDATE activities SET signed_up = $1, checked_in = $2 WHERE id = $3",
                vec![
                    (chosen.len() as i32).into(),
                    (inn as i32).into(),
                    (*id).into(),
                ],
            )
            .await?;
            self.sum.activities += 1;
        }
        Ok(())
    }

    /// Community `ci`'s catalogue, redemptions and donations.
    async fn catalogue(&mut self, ci: usize) -> AppResult<()> {
        let (tx, now, community, worker) = (self.tx, self.now, self.communities[ci], &self.worker);
        let mut items = vec![];
        for (name, desc, price, stock) in ITEMS.iter().take(if ci == 0 { 7 } else { 4 }) {
            let id = new_id();
            store::exec(
                tx,
                "INSERT INTO catalog_items (id, community_id, name, description, price, stock, active, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, TRUE, 1, $7, $7)",
                vec![id.into(), community.into(), (*name).into(), (*desc).into(), (*price).into(), (*stock).into(), (now - 100 * DAY).into()],
            )
            .await?;
            items.push((id, *name, *price));
        }
        let accounts = self.accounts_of(community);
        let balance = |acc: Uuid| {
            store::fetch_i64(
                tx,
                "SELECT balance FROM point_accounts WHERE id = $1",
                vec![acc.into()],
            )
        };
        for k in 0..(if ci == 0 { 18 } else { 6 }) {
            let acc = accounts[k * 3 % accounts.len()];
            let (item, name, price) = items[k % (items.len() - 1).max(1)];
            let at = now - (30 - k as i64) * DAY;
            if balance(acc.2).await? >= price {
                ledger::redeem_in(tx, worker, item, price, name, community, acc.2, 1, at).await?;
            }
        }
        let fund = ledger::fund_account(tx, community).await?;
        for acc in accounts.iter().take(3) {
            if balance(acc.2).await? < 10 {
                continue;
            }
            let at = now - 12 * DAY;
            let note = Some("捐给社区公益积分基金".to_string());
            let out = ledger::post(
                tx,
                worker,
                NewPosting {
                    counterpart_id: Some(fund),
                    note: note.clone(),
                    ..NewPosting::new(acc.2, -10, Kind::TransferOut, "donation")
                },
                at,
            )
            .await?;
            ledger::post(
                tx,
                worker,
                NewPosting {
                    counterpart_id: Some(acc.2),
                    source_id: Some(out.to_string()),
                    note,
                    ..NewPosting::new(fund, 10, Kind::TransferIn, "donation")
                },
                at,
            )
            .await?;
        }
        Ok(())
    }

    /// One 5-star volunteer of the first community is commended (others are due); answers the
    /// two with the most hours.
    async fn commendation(&self) -> AppResult<Vec<Id>> {
        let (tx, c0) = (self.tx, self.communities[0]);
        let top: Vec<Id> = store::fetch_all(
            tx,
            "SELECT id FROM volunteers WHERE community_id = $1 ORDER BY verified_minutes DESC LIMIT 2",
            vec![c0.into()],
        )
        .await?;
        if let Some(t) = top.get(1) {
            let cid = new_id();
            store::exec(
                tx,
                "INSERT INTO commendations (id, volunteer_id, community_id, title, level, star_level, year, awarded_on, reason, created_by_name, created_at) VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8, $9, $10)",
                vec![cid.into(), t.id.into(), c0.into(), "优秀志愿者".into(), "街道级".into(), 3i16.into(), "2026-03-05".into(), "累计志愿服务超过 600 小时，常年参与助老服务".into(), "李建国（街道）".into(), (self.now - 270 * DAY).into()],
            )
            .await?;
        }
        Ok(top)
    }

    /// Party members' points of the year before these four months, carried over from the paper
    /// ledger (上半年积分结转).
    async fn carried_points(&mut self) -> AppResult<()> {
        #[derive(FromQueryResult)]
        struct MA {
            account_id: Uuid,
        }
        let member_accounts: Vec<MA> = store::fetch_all(
            self.tx,
            "SELECT pa.id AS account_id FROM party_members m JOIN point_accounts pa ON pa.volunteer_id = m.volunteer_id ORDER BY m.id",
            vec![],
        )
        .await?;
        let mid_year = crate::domain::calendar::local_midnight_ms(
            time::Date::from_calendar_date(local_date(self.now).year(), time::Month::July, 1)
                .expect("date"),
        );
        let rng = &mut self.rng;
        let carried: Vec<NewPosting> = member_accounts
            .iter()
            .map(|m| NewPosting {
                note: Some("上半年积分结转（纸质台账录入）".into()),
                ..NewPosting::new(m.account_id, rng.gen_range(15..95), Kind::Earn, "manual")
            })
            .collect();
        ledger::post_credits(self.tx, &self.worker, carried, mid_year).await?;
        Ok(())
    }

    /// Last year's democratic review (民主评议) scores of every party member.
    async fn reviews(&mut self, year: i32) -> AppResult<()> {
        let members: Vec<Id> = store::fetch_all(
            self.tx,
            "SELECT m.id FROM party_members m ORDER BY m.id",
            vec![],
        )
        .await?;
        for m in &members {
            store::exec(
                self.tx,
                "INSERT INTO party_reviews (member_id, year, score, updated_by_name, updated_at) VALUES ($1, $2, $3, $4, $5)",
                vec![m.id.into(), year.into(), self.rng.gen_range(62..99i32).into(), "陈静（书记）".into(), (self.now - 300 * DAY).into()],
            )
            .await?;
        }
        Ok(())
    }
}

#[allow(clippy::too_many_arguments)]
async fn insert_activity<C: ConnectionTrait>(
    c: &C,
    area: Uuid,
    kind: &str,
    title: &str,
    place: &str,
    starts: i64,
    ends: i64,
    risky: bool,
    capacity: i32,
    organiser: &Actor,
    created: i64,
) -> AppResult<Uuid> {
    let id = new_id();
    store::exec(
        c,
        "INSERT INTO activities (id, area_id, kind, title, place, description, starts_at, ends_at, capacity, skills, risky, status, signed_up, checked_in, checked_out, organiser_id, organiser_name, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'open', 0, 0, 0, NULL, $12, 1, $13, $13)",
        vec![
            id.into(), area.into(), kind.into(), title.into(), place.into(),
            (if risky { "涉及登高作业，参加者须先登记意外伤害保险；请穿防滑鞋。" } else { "请提前 10 分钟到场，扫码签到。" }).into(),
            starts.into(), ends.into(), capacity.into(), (if risky { "维修" } else { "" }).into(), risky.into(), organiser.name.clone().into(), created.into(),
        ],
    )
    .await?;
    Ok(id)
}
