//! Demo data for 党员下沉、志愿服务、积分: in the first two communities, volunteers and party members
//! (community and in-service, of 保定市第一中心医院党委), report-ins (some overdue), pairings, four
//! months of confirmed activities with their hours and postings, upcoming and ongoing activities,
//! a catalogue with redemptions and donations, commendations, last year's ratings and two
//! certificates. Everything goes through the same ledger and confirmation code as the API, so the
//! ledger's invariants hold in the demo too.
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{ConnectionTrait, FromQueryResult};
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

pub async fn run(db: &Db, ctx: &crate::app::Ctx, city: &DemoCity, seed: u64) -> AppResult<Summary> {
    let policy = ServicePolicy::default();
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5e_7_1ce);
    let mut sum = Summary::default();
    let communities: Vec<Uuid> = city
        .of_kind(AreaKind::Community)
        .take(2)
        .map(|a| a.id)
        .collect();
    if communities.is_empty() {
        return Ok(sum);
    }
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    let hospital = one_id(
        &tx,
        "SELECT id FROM party_orgs WHERE kind = 'unit' ORDER BY name LIMIT 1",
        vec![],
    )
    .await?;
    let worker = Actor {
        id: None,
        name: "王芳（社区）".into(),
    };
    let mut all_accounts: Vec<(Uuid, Uuid, Uuid)> = vec![]; // (community, volunteer, account)
    for (ci, &community) in communities.iter().enumerate() {
        let branch = one_id(
            &tx,
            "SELECT id FROM party_orgs WHERE area_id = $1 AND kind = 'community_branch'",
            vec![community.into()],
        )
        .await?;
        let persons: Vec<PersonFacts> = store::fetch_all(
            &tx,
            "SELECT street_id, id, community_id, name, birth_date FROM persons WHERE community_id = $1 AND deleted_at IS NULL \
             AND status = 'active' AND birth_date >= '1948-01-01' AND birth_date <= '2006-12-31' ORDER BY id LIMIT $2",
            vec![community.into(), (if ci == 0 { 70i64 } else { 35 }).into()],
        )
        .await?;
        let members_n = if ci == 0 { 26 } else { 10 };
        for (i, p) in persons.iter().enumerate() {
            let nsk = rng.gen_range(0..3);
            let mut sk: Vec<&str> = SKILLS.choose_multiple(&mut rng, nsk).copied().collect();
            sk.sort();
            let member = i < members_n;
            let vid = insert_volunteer(
                &tx,
                p,
                community,
                &sk.join(","),
                rng.gen_bool(0.85),
                member,
                None,
            )
            .await?;
            sum.volunteers += 1;
            let acc = one_id(
                &tx,
                "SELECT id FROM point_accounts WHERE volunteer_id = $1",
                vec![vid.into()],
            )
            .await?
            .expect("account");
            all_accounts.push((community, vid, acc));
            if member {
                let in_service = ci == 0 && i >= 14 && hospital.is_some();
                let mid = new_id();
                // Joined at 18–40, and not in the future.
                let born: i32 = p
                    .birth_date
                    .as_deref()
                    .and_then(|b| b.get(..4))
                    .and_then(|y| y.parse().ok())
                    .unwrap_or(1970);
                let year = (born + rng.gen_range(18..=40)).min(2025);
                store::exec(
                    &tx,
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
                sum.members += 1;
                if in_service {
                    // Most reported in within the last six months; a few are overdue.
                    let days_ago = if i % 4 == 0 {
                        rng.gen_range(200..320)
                    } else {
                        rng.gen_range(10..170)
                    };
                    let on = crate::app::service::ymd(local_date(now - days_ago * DAY));
                    let until = crate::app::service::add_months(&on, policy.report_in_months)
                        .expect("date");
                    let rid = new_id();
                    store::exec(
                        &tx,
                        "INSERT INTO report_ins (id, member_id, unit_org_id, community_id, reported_on, valid_until, commitment, file_id, created_by, created_by_name, created_at) \
                         VALUES ($1, $2, NULL, $3, $4, $5, $6, NULL, NULL, $7, $8)",
                        vec![rid.into(), mid.into(), community.into(), on.clone().into(), until.clone().into(),
                             "每月至少参加一次社区志愿服务，认领一项居民微心愿".into(), worker.name.clone().into(), (now - days_ago * DAY).into()],
                    )
                    .await?;
                    store::exec(&tx, "UPDATE party_members SET last_reported_on = $1, report_valid_until = $2 WHERE id = $3", vec![on.into(), until.into(), mid.into()]).await?;
                    let rules = ledger::rules_for(&tx, community).await?;
                    let r = rules[&crate::domain::points::Event::ReportIn];
                    let ps = ledger::earn_by_rule(
                        &tx,
                        &worker,
                        crate::domain::points::Event::ReportIn,
                        r,
                        vec![(acc, r.points, Some(rid.to_string()))],
                        "report_in",
                        now - days_ago * DAY,
                    )
                    .await?;
                    ledger::post_credits(&tx, &worker, ps, now - days_ago * DAY).await?;
                }
            }
        }
        if let (Some(h), 0) = (hospital, ci) {
            let on = crate::app::service::ymd(local_date(now - 40 * DAY));
            store::exec(
                &tx,
                "INSERT INTO report_ins (id, member_id, unit_org_id, community_id, reported_on, valid_until, commitment, file_id, created_by, created_by_name, created_at) \
                 VALUES ($1, NULL, $2, $3, $4, $5, $6, NULL, NULL, $7, $8)",
                vec![new_id().into(), h.into(), community.into(), on.clone().into(), crate::app::service::add_months(&on, 6).expect("date").into(),
                     "每季度组织一次义诊进社区，开放职工食堂为社区老人助餐".into(), worker.name.clone().into(), (now - 40 * DAY).into()],
            )
            .await?;
        }
    }
    // Pairings: the cross-area organisations with a community point each.
    let across: Vec<Id> = store::fetch_all(
        &tx,
        "SELECT id FROM party_orgs WHERE kind IN ('regional', 'industry') ORDER BY kind DESC",
        vec![],
    )
    .await?;
    for (o, c) in across.iter().zip(communities.iter()) {
        store::exec(&tx, "INSERT INTO branch_pairings (org_id, community_id, since, created_at) VALUES ($1, $2, $3, $4)", vec![o.id.into(), (*c).into(), "2026-03-05".into(), now.into()]).await?;
    }
    // zhiyuan is the first plain volunteer of the first community; danwei the hospital's contact.
    let zhiyuan = one_id(
        &tx,
        "SELECT id FROM users WHERE username = 'zhiyuan'",
        vec![],
    )
    .await?;
    let plain: Vec<&(Uuid, Uuid, Uuid)> = all_accounts
        .iter()
        .filter(|a| a.0 == communities[0])
        .skip(26)
        .collect();
    if let (Some(u), Some(v)) = (zhiyuan, plain.first()) {
        store::exec(&tx, "UPDATE volunteers SET user_id = $1, skills = '应急救护,助老', willing = TRUE WHERE id = $2", vec![u.into(), v.1.into()]).await?;
        // The login carries the volunteer's own name.
        store::exec(
            &tx,
            "UPDATE users SET display_name = (SELECT p.name || '（志愿者）' FROM volunteers v JOIN persons p ON p.street_id = v.street_id AND p.id = v.person_id WHERE v.id = $1) WHERE id = $2",
            vec![v.1.into(), u.into()],
        )
        .await?;
    }
    if let (Some(u), Some(h)) = (
        one_id(
            &tx,
            "SELECT id FROM users WHERE username = 'danwei'",
            vec![],
        )
        .await?,
        hospital,
    ) {
        store::exec(&tx, "INSERT INTO unit_contacts (id, org_id, user_id, token_id, created_at) VALUES ($1, $2, $3, NULL, $4)", vec![new_id().into(), h.into(), u.into(), now.into()]).await?;
    }
    // Historical hours imported from the national volunteer system (志愿中国), for the stars.
    for (k, (_, vid, _)) in all_accounts.iter().enumerate().filter(|(k, _)| k % 4 == 0) {
        let minutes: i64 = match k % 20 {
            0 => 1_520 * 60,
            4 => 640 * 60,
            8 => 320 * 60,
            _ => rng.gen_range(20..180) * 60,
        };
        store::insert_many(
            &tx,
            "service_hours",
            crate::app::service::activities::HOURS_COLUMNS,
            vec![vec![
                new_id().into(),
                (*vid).into(),
                Option::<Uuid>::None.into(),
                "2025-12-31".into(),
                (minutes as i32).into(),
                "correction".into(),
                Some("导入全国志愿服务信息系统历史时长".to_string()).into(),
                Option::<Uuid>::None.into(),
                worker.name.clone().into(),
                (now - 200 * DAY).into(),
            ]],
        )
        .await?;
        store::exec(
            &tx,
            "UPDATE volunteers SET verified_minutes = verified_minutes + $1 WHERE id = $2",
            vec![minutes.into(), (*vid).into()],
        )
        .await?;
    }
    // zhiyuan: 320 h of history → 2 stars, close to the third.
    if let Some(v) = plain.first() {
        store::exec(
            &tx,
            "UPDATE volunteers SET verified_minutes = verified_minutes + 19200 WHERE id = $1",
            vec![v.1.into()],
        )
        .await?;
        store::insert_many(
            &tx,
            "service_hours",
            crate::app::service::activities::HOURS_COLUMNS,
            vec![vec![
                new_id().into(),
                v.1.into(),
                Option::<Uuid>::None.into(),
                "2025-12-31".into(),
                19_200i32.into(),
                "correction".into(),
                Some("导入全国志愿服务信息系统历史时长".to_string()).into(),
                Option::<Uuid>::None.into(),
                worker.name.clone().into(),
                (now - 200 * DAY).into(),
            ]],
        )
        .await?;
    }
    // Four months of activities, confirmed by the organiser.
    let today0 = crate::domain::calendar::local_midnight_ms(local_date(now));
    for (n, &community) in communities.iter().enumerate() {
        let people: Vec<&(Uuid, Uuid, Uuid)> =
            all_accounts.iter().filter(|a| a.0 == community).collect();
        let count = if n == 0 { 24 } else { 10 };
        for k in 0..count {
            let (kind, title, place, h, risky) = PAST[(k + n * 3) % PAST.len()];
            let day = today0 - (120 - k as i64 * (110 / count as i64)) * DAY;
            let starts = day + (if kind == "volunteer" { 9 } else { 14 }) * HOUR + 30 * 60_000;
            let ends = starts + h * HOUR;
            let id = new_id();
            store::exec(
                &tx,
                "INSERT INTO activities (id, area_id, kind, title, place, description, starts_at, ends_at, capacity, skills, risky, status, signed_up, checked_in, checked_out, organiser_id, organiser_name, version, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 40, '', $9, 'open', 0, 0, 0, NULL, $10, 1, $11, $11)",
                vec![id.into(), community.into(), kind.into(), title.into(), place.into(), "".into(), starts.into(), ends.into(), risky.into(), worker.name.clone().into(), (starts - 7 * DAY).into()],
            )
            .await?;
            let npick = rng.gen_range(8..20);
            let mut chosen: Vec<&&(Uuid, Uuid, Uuid)> =
                people.choose_multiple(&mut rng, npick).collect();
            if let (0, Some(z)) = (n, plain.first()) {
                if k % 3 == 0 && !chosen.iter().any(|c| c.1 == z.1) {
                    chosen.push(z);
                }
            }
            let (mut signed, mut inn, mut out) = (0, 0, 0);
            for p in chosen {
                let absent = rng.gen_bool(0.08);
                let cin = starts + rng.gen_range(-20..15) * 60_000;
                let cout = ends + rng.gen_range(-25..20) * 60_000;
                let minutes = ((cout.min(ends) - cin.max(starts)) / 60_000).max(0);
                store::exec(
                    &tx,
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
                store::exec(&tx, "UPDATE volunteers SET last_asked_at = $1 WHERE id = $2 AND (last_asked_at IS NULL OR last_asked_at < $1)", vec![(starts - 3 * DAY).into(), p.1.into()]).await?;
                signed += 1;
                if !absent {
                    inn += 1;
                    out += 1;
                }
            }
            store::exec(&tx, "UPDATE activities SET signed_up = $1, checked_in = $2, checked_out = $3 WHERE id = $4", vec![signed.into(), inn.into(), out.into(), id.into()]).await?;
            let row = activity_row(&tx, id).await?;
            confirm_in(&tx, &policy, &worker, &row, ends + HOUR).await?;
            sum.activities += 1;
        }
    }
    // Upcoming activities, with sign-ups; one is going on now.
    let c0 = communities[0];
    let grid0 = one_id(
        &tx,
        "SELECT id FROM areas WHERE parent_id = $1 AND kind = 'grid' ORDER BY code LIMIT 1",
        vec![c0.into()],
    )
    .await?;
    let people0: Vec<&(Uuid, Uuid, Uuid)> = all_accounts.iter().filter(|a| a.0 == c0).collect();
    let mut upcoming: Vec<(Uuid, i64, i64)> = vec![];
    for (k, (kind, title, place, h, risky, days)) in UPCOMING.iter().enumerate() {
        let starts = today0 + days * DAY + (if *kind == "volunteer" { 9 } else { 14 }) * HOUR;
        let area = if k == 2 { grid0.unwrap_or(c0) } else { c0 };
        upcoming.push((
            insert_activity(
                &tx,
                area,
                kind,
                title,
                place,
                starts,
                starts + h * HOUR,
                *risky,
                30,
                &worker,
                now,
            )
            .await?,
            starts,
            starts + h * HOUR,
        ));
    }
    let live_start = now - HOUR;
    let live = insert_activity(
        &tx,
        c0,
        "volunteer",
        "社区卫生大扫除（进行中）",
        "小区中心广场",
        live_start,
        now + 2 * HOUR,
        false,
        50,
        &worker,
        now - DAY,
    )
    .await?;
    upcoming.push((live, live_start, now + 2 * HOUR));
    for (k, (id, starts, ends)) in upcoming.iter().enumerate() {
        let mut chosen: Vec<&&(Uuid, Uuid, Uuid)> =
            people0.choose_multiple(&mut rng, 6 + k * 2).collect();
        if let Some(z) = plain.first() {
            if (k == 0 || k == 1 || *id == live) && !chosen.iter().any(|c| c.1 == z.1) {
                chosen.push(z);
            }
        }
        for (j, p) in chosen.iter().enumerate() {
            let insured = k == 2 && j % 2 == 0;
            let checked_in = *id == live && j % 3 != 2 && Some(p.1) != plain.first().map(|z| z.1);
            store::exec(
                &tx,
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
                &tx,
                "UPDATE volunteers SET last_asked_at = $1 WHERE id = $2",
                vec![(now - DAY).into(), p.1.into()],
            )
            .await?;
        }
        let inn = if *id == live {
            chosen
                .iter()
                .enumerate()
                .filter(|(j, p)| j % 3 != 2 && Some(p.1) != plain.first().map(|z| z.1))
                .count()
        } else {
            0
        };
        store::exec(
            &tx,
            "UPDATE activities SET signed_up = $1, checked_in = $2 WHERE id = $3",
            vec![
                (chosen.len() as i32).into(),
                (inn as i32).into(),
                (*id).into(),
            ],
        )
        .await?;
        sum.activities += 1;
    }
    // The catalogue, redemptions and donations.
    for (ci, &community) in communities.iter().enumerate() {
        let mut items = vec![];
        for (name, desc, price, stock) in ITEMS.iter().take(if ci == 0 { 7 } else { 4 }) {
            let id = new_id();
            store::exec(
                &tx,
                "INSERT INTO catalog_items (id, community_id, name, description, price, stock, active, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, TRUE, 1, $7, $7)",
                vec![id.into(), community.into(), (*name).into(), (*desc).into(), (*price).into(), (*stock).into(), (now - 100 * DAY).into()],
            )
            .await?;
            items.push((id, *name, *price));
        }
        let accounts: Vec<&(Uuid, Uuid, Uuid)> =
            all_accounts.iter().filter(|a| a.0 == community).collect();
        for k in 0..(if ci == 0 { 18 } else { 6 }) {
            let acc = accounts[k * 3 % accounts.len()];
            let (item, name, price) = items[k % (items.len() - 1).max(1)];
            let at = now - (30 - k as i64) * DAY;
            let bal = store::fetch_i64(
                &tx,
                "SELECT balance FROM point_accounts WHERE id = $1",
                vec![acc.2.into()],
            )
            .await?;
            if bal >= price {
                ledger::redeem_in(&tx, &worker, item, price, name, community, acc.2, 1, at).await?;
            }
        }
        let fund = ledger::fund_account(&tx, community).await?;
        for acc in accounts.iter().take(3) {
            let bal = store::fetch_i64(
                &tx,
                "SELECT balance FROM point_accounts WHERE id = $1",
                vec![acc.2.into()],
            )
            .await?;
            if bal >= 10 {
                let at = now - 12 * DAY;
                let out = ledger::post(
                    &tx,
                    &worker,
                    NewPosting {
                        counterpart_id: Some(fund),
                        note: Some("捐给社区公益积分基金".into()),
                        ..NewPosting::new(acc.2, -10, Kind::TransferOut, "donation")
                    },
                    at,
                )
                .await?;
                ledger::post(
                    &tx,
                    &worker,
                    NewPosting {
                        counterpart_id: Some(acc.2),
                        source_id: Some(out.to_string()),
                        note: Some("捐给社区公益积分基金".into()),
                        ..NewPosting::new(fund, 10, Kind::TransferIn, "donation")
                    },
                    at,
                )
                .await?;
            }
        }
    }
    // Commendations (one 5-star volunteer is commended; others are due), reviews and last year's ratings.
    let top: Vec<Id> = store::fetch_all(
        &tx,
        "SELECT id FROM volunteers WHERE community_id = $1 ORDER BY verified_minutes DESC LIMIT 2",
        vec![c0.into()],
    )
    .await?;
    if let Some(t) = top.get(1) {
        let cid = new_id();
        store::exec(
            &tx,
            "INSERT INTO commendations (id, volunteer_id, community_id, title, level, star_level, year, awarded_on, reason, created_by_name, created_at) VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8, $9, $10)",
            vec![cid.into(), t.id.into(), c0.into(), "优秀志愿者".into(), "街道级".into(), 3i16.into(), "2026-03-05".into(), "累计志愿服务超过 600 小时，常年参与助老服务".into(), "李建国（街道）".into(), (now - 270 * DAY).into()],
        )
        .await?;
    }
    // Points of the year before these four months, carried over from the paper ledger (上半年积分结转).
    #[derive(FromQueryResult)]
    struct MA {
        account_id: Uuid,
    }
    let member_accounts: Vec<MA> = store::fetch_all(
        &tx,
        "SELECT pa.id AS account_id FROM party_members m JOIN point_accounts pa ON pa.volunteer_id = m.volunteer_id ORDER BY m.id",
        vec![],
    )
    .await?;
    let mid_year = crate::domain::calendar::local_midnight_ms(
        time::Date::from_calendar_date(local_date(now).year(), time::Month::July, 1).expect("date"),
    );
    let carried: Vec<NewPosting> = member_accounts
        .iter()
        .map(|m| NewPosting {
            note: Some("上半年积分结转（纸质台账录入）".into()),
            ..NewPosting::new(m.account_id, rng.gen_range(15..95), Kind::Earn, "manual")
        })
        .collect();
    ledger::post_credits(&tx, &worker, carried, mid_year).await?;
    let members: Vec<Id> = store::fetch_all(
        &tx,
        "SELECT m.id FROM party_members m ORDER BY m.id",
        vec![],
    )
    .await?;
    let last_year = local_date(now).year();
    for m in &members {
        store::exec(
            &tx,
            "INSERT INTO party_reviews (member_id, year, score, updated_by_name, updated_at) VALUES ($1, $2, $3, $4, $5)",
            vec![m.id.into(), last_year.into(), rng.gen_range(62..99i32).into(), "陈静（书记）".into(), (now - 300 * DAY).into()],
        )
        .await?;
    }
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
    if let Some(z) = plain.first() {
        let _ = crate::app::service::units::issue(db, &ctx, Some(z.1)).await;
    }
    Ok(sum)
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
