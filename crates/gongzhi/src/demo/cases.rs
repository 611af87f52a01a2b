//! Demo data for 接诉即办: a two-level category dictionary, district departments, street offices,
//! community committees and property companies with their power lists, and a year of cases with a
//! realistic mix (seasonal heating and noise complaints, overdue cases, returns, arbitration,
//! whistles, extensions, ratings). Cases are simulated to their present state and written in bulk,
//! with their timelines and their rate counters.
use std::collections::HashMap;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use uuid::Uuid;

use super::{DemoCity, IdGen};
use crate::app::cases::query::CaseRow;
use crate::domain::area::AreaKind;
use crate::domain::calendar::{day_number, local_date, Calendar, Limit};
use crate::domain::cases::{case_no, pick_duty, DutyMatch, Status};
use crate::domain::geo::Shape;
use crate::domain::now_ms;
use crate::error::AppResult;
use crate::store;

/// (code, name, response, handle, verify, return visit, weight in the mix)
const CATEGORIES: &[(&str, &str, &str, &str, &str, bool, u32)] = &[
    ("01", "市容环境", "2h", "3d", "1d", true, 0),
    ("0101", "垃圾清运", "2h", "2d", "1d", true, 10),
    ("0102", "占道经营", "2h", "3d", "1d", true, 6),
    ("0103", "违章建筑", "4h", "10d", "2d", true, 3),
    ("0104", "绿化养护", "4h", "5d", "2d", true, 2),
    ("02", "房屋管理", "2h", "5d", "2d", true, 0),
    ("0201", "物业服务", "2h", "5d", "2d", true, 12),
    ("0202", "电梯故障", "1h", "1d", "1d", true, 5),
    ("0203", "房屋漏水", "2h", "5d", "2d", true, 6),
    ("0204", "老旧小区改造", "4h", "15d", "3d", true, 2),
    ("03", "市政设施", "2h", "3d", "1d", true, 0),
    ("0301", "路灯不亮", "2h", "3d", "1d", true, 5),
    ("0302", "井盖缺失", "1h", "1d", "1d", true, 2),
    ("0303", "道路破损", "4h", "10d", "2d", true, 3),
    ("04", "噪音扰民", "1h", "2d", "1d", true, 0),
    ("0401", "施工噪音", "1h", "2d", "1d", true, 5),
    ("0402", "生活噪音", "2h", "2d", "1d", true, 6),
    ("05", "水电气暖", "1h", "1d", "1d", true, 0),
    ("0501", "停水", "1h", "1d", "1d", true, 3),
    ("0502", "停电", "1h", "1d", "1d", true, 2),
    ("0503", "供暖不热", "2h", "3d", "1d", true, 6),
    ("06", "社区服务", "4h", "5d", "2d", true, 0),
    ("0601", "养老服务", "4h", "5d", "2d", true, 2),
    ("0602", "证明开具", "4h", "3d", "1d", false, 3),
    ("0603", "邻里纠纷", "4h", "5d", "2d", true, 4),
    ("07", "市场监管", "2h", "5d", "2d", true, 0),
    ("0701", "食品安全", "2h", "5d", "2d", true, 2),
    ("0702", "价格投诉", "4h", "7d", "2d", true, 2),
    ("08", "环境保护", "2h", "5d", "2d", true, 0),
    ("0801", "油烟污染", "2h", "5d", "2d", true, 3),
    ("0802", "污水排放", "2h", "5d", "2d", true, 1),
    ("09", "咨询建议", "4h", "2d", "1d", false, 0),
    ("0901", "政策咨询", "4h", "2d", "1d", false, 5),
    ("0902", "意见建议", "8h", "5d", "2d", false, 2),
];

/// District departments: (name, kind, duty, legal basis, category codes).
const DEPARTMENTS: &[(&str, &str, &str, &str, &[&str])] = &[
    (
        "城管委",
        "department",
        "市容环境卫生和市政设施管理",
        "《城市市容和环境卫生管理条例》第四条",
        &["01", "0301", "0302"],
    ),
    (
        "住建委",
        "department",
        "房屋安全与老旧小区改造",
        "《城市房地产管理法》第七条",
        &["0203", "0204", "0303"],
    ),
    (
        "市场监管局",
        "department",
        "食品、价格和特种设备（电梯）监管",
        "《特种设备安全法》第五条",
        &["07", "0202"],
    ),
    (
        "生态环境局",
        "department",
        "大气、水和施工噪声污染防治",
        "《噪声污染防治法》第八条",
        &["08", "0401"],
    ),
    (
        "民政局",
        "department",
        "养老服务",
        "《老年人权益保障法》第六条",
        &["0601"],
    ),
    (
        "供水公司",
        "utility",
        "城市供水保障",
        "《城市供水条例》第二十二条",
        &["0501"],
    ),
    (
        "供电公司",
        "utility",
        "居民供电保障",
        "《电力供应与使用条例》第二十八条",
        &["0502"],
    ),
    (
        "热力公司",
        "utility",
        "冬季供暖保障",
        "《城市供热管理办法》",
        &["0503"],
    ),
];

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超",
    "秀英", "桂兰", "建华", "志强",
];

/// What a category's case says (a few phrasings per category).
fn description(code: &str, rng: &mut ChaCha8Rng, place: &str) -> String {
    let options: &[&str] = match code {
        "0101" => &[
            "小区门口垃圾桶满了两天没人清运，气味很大",
            "楼下堆放的建筑垃圾一直没有清走",
        ],
        "0102" => &[
            "早市商贩占用人行道摆摊，行人只能走机动车道",
            "路口有烧烤摊占道经营到深夜",
        ],
        "0103" => &["一楼住户私自扩建院墙，占用公共绿地", "楼顶有人搭建彩钢房"],
        "0104" => &[
            "小区树木枝杈遮挡窗户，需要修剪",
            "绿地长期无人养护，杂草丛生",
        ],
        "0201" => &[
            "物业不及时维修单元门禁，外来人员随意进出",
            "物业收费后服务不到位，楼道卫生无人打扫",
        ],
        "0202" => &["电梯频繁停运，老人上下楼困难", "电梯运行时有异响，担心安全"],
        "0203" => &[
            "楼上卫生间漏水，渗到我家天花板",
            "外墙渗水，雨天屋内墙面发霉",
        ],
        "0204" => &["希望老旧小区改造能加装电梯", "改造施工进度慢，路面一直挖开"],
        "0301" => &[
            "小区门口路灯坏了一周，晚上很黑",
            "一排路灯都不亮，存在安全隐患",
        ],
        "0302" => &[
            "人行道井盖缺失，容易有人掉下去",
            "井盖松动，车辆经过响声很大",
        ],
        "0303" => &["道路坑洼严重，雨后积水", "人行道地砖破损翘起"],
        "0401" => &["附近工地夜间施工，噪音影响休息", "凌晨还在打桩，吵得睡不着"],
        "0402" => &["楼上住户深夜大声播放音乐", "广场舞音响声音太大"],
        "0501" => &["整栋楼停水没有提前通知", "水压太低，高层用不上水"],
        "0502" => &["小区突然停电，至今没有恢复", "楼道电路老化经常跳闸"],
        "0503" => &["暖气不热，室温只有十几度", "家中暖气片一直是凉的"],
        "0601" => &["家中老人独居，希望申请助餐服务", "想了解社区日间照料服务"],
        "0602" => &["需要开具居住证明，不知道流程", "办理证明需要准备哪些材料"],
        "0603" => &[
            "与邻居因停车位发生纠纷，请社区调解",
            "邻居在楼道堆放杂物，协商无果",
        ],
        "0701" => &["小区附近餐馆卫生条件差", "超市出售过期食品"],
        "0702" => &["菜市场价格标示不清", "停车场收费与公示价格不符"],
        "0801" => &["楼下饭店油烟直排，窗户都不敢开", "烧烤店油烟扰民"],
        "0802" => &["有商户向雨水井倾倒污水", "小河沟有异味，疑似排污"],
        "0901" => &["咨询医保异地报销政策", "咨询老年人优待证办理"],
        _ => &["建议在小区增设非机动车充电桩", "建议增加公交线路站点"],
    };
    format!(
        "{}（{place}）",
        options.choose(rng).copied().unwrap_or("请尽快处理")
    )
}

struct Unit {
    id: Uuid,
}

pub struct Summary {
    pub categories: usize,
    pub units: usize,
    pub cases: usize,
}

/// Writes the dictionary, the units and a year of cases. `cases_per_household`: about one case a
/// year for every ten households.
pub async fn run<C: ConnectionTrait>(
    c: &C,
    keys: &crate::crypto::Keys,
    city: &DemoCity,
    seed: u64,
    ids: &mut IdGen,
) -> AppResult<Summary> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xCA5E);
    let now = now_ms();
    // Dictionary.
    let mut cat_ids: HashMap<&str, Uuid> = HashMap::new();
    for (code, name, r, h, v, rv, _) in CATEGORIES {
        let id = ids.next();
        cat_ids.insert(code, id);
        let parent = if code.len() == 4 {
            cat_ids.get(&code[..2]).copied()
        } else {
            None
        };
        store::exec(
            c,
            "INSERT INTO case_categories (id, parent_id, code, name, level, response_limit, handle_limit, verify_limit, \
             return_visit_required, active, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, TRUE, 1, $10, $10)",
            vec![
                id.into(),
                parent.into(),
                code.to_string().into(),
                name.to_string().into(),
                (if parent.is_some() { 2i16 } else { 1i16 }).into(),
                r.to_string().into(),
                h.to_string().into(),
                v.to_string().into(),
                (*rv).into(),
                now.into(),
            ],
        )
        .await?;
    }
    // Units and duties.
    let mut unit_count = 0;
    let mut duties: Vec<(DutyMatch, Vec<&str>, Uuid)> = vec![]; // (match, codes, served area)
    let mut community_unit: HashMap<Uuid, Unit> = HashMap::new();
    let mut street_unit: HashMap<Uuid, Unit> = HashMap::new();
    let add_unit = |c2: &mut Vec<(Uuid, String, &'static str, Uuid)>,
                    id: Uuid,
                    name: String,
                    kind: &'static str,
                    area: Uuid| {
        c2.push((id, name, kind, area));
    };
    let mut new_units: Vec<(Uuid, String, &'static str, Uuid)> = vec![];
    let mut new_duties: Vec<(Uuid, Uuid, String, String, Uuid, Vec<&str>)> = vec![];
    for d in city.of_kind(AreaKind::District) {
        for (name, kind, duty, basis, codes) in DEPARTMENTS {
            let uid = ids.next();
            let uname = format!("{}{}", d.name.trim_end_matches('区'), name);
            let uname = if *kind == "department" {
                format!("{}区{}", d.name.trim_end_matches('区'), name)
            } else {
                uname
            };
            add_unit(&mut new_units, uid, uname, kind, d.id);
            new_duties.push((
                ids.next(),
                uid,
                duty.to_string(),
                basis.to_string(),
                d.id,
                codes.to_vec(),
            ));
        }
    }
    for s in city.of_kind(AreaKind::Street) {
        let uid = ids.next();
        add_unit(
            &mut new_units,
            uid,
            format!("{}城管科", s.name),
            "street_office",
            s.id,
        );
        new_duties.push((
            ids.next(),
            uid,
            "街面秩序和占道经营管理".into(),
            "《城市市容和环境卫生管理条例》第十四条".into(),
            s.id,
            vec!["0102"],
        ));
        street_unit.insert(s.id, Unit { id: uid });
        let uid2 = ids.next();
        add_unit(
            &mut new_units,
            uid2,
            format!("{}综治中心", s.name),
            "street_office",
            s.id,
        );
        new_duties.push((
            ids.next(),
            uid2,
            "矛盾纠纷多元化解".into(),
            "《人民调解法》第五条".into(),
            s.id,
            vec!["0603"],
        ));
    }
    for (i, cm) in city.of_kind(AreaKind::Community).enumerate() {
        let uid = ids.next();
        let name = format!("{}居委会", cm.name);
        add_unit(&mut new_units, uid, name.clone(), "community", cm.id);
        new_duties.push((
            ids.next(),
            uid,
            "居民证明和生活噪音劝导".into(),
            "《城市居民委员会组织法》第三条".into(),
            cm.id,
            vec!["0602", "0402"],
        ));
        community_unit.insert(cm.id, Unit { id: uid });
        if i % 2 == 0 {
            let pid = ids.next();
            add_unit(
                &mut new_units,
                pid,
                format!("{}物业服务中心", cm.name.trim_end_matches("社区")),
                "property",
                cm.id,
            );
            new_duties.push((
                ids.next(),
                pid,
                "物业服务合同约定的维修养护".into(),
                "《物业管理条例》第三十五条".into(),
                cm.id,
                vec!["0201"],
            ));
        }
    }
    for (id, name, kind, area) in &new_units {
        store::exec(
            c,
            "INSERT INTO case_units (id, name, kind, area_id, contact, active, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, TRUE, 1, $6, $6)",
            vec![(*id).into(), name.clone().into(), kind.to_string().into(), (*area).into(), Some("0312-1234567".to_string()).into(), now.into()],
        )
        .await?;
        unit_count += 1;
    }
    let level_of: HashMap<Uuid, i32> = city.areas.iter().map(|a| (a.id, a.kind.level())).collect();
    let unit_name: HashMap<Uuid, String> = new_units
        .iter()
        .map(|(id, n, _, _)| (*id, n.clone()))
        .collect();
    for (did, uid, name, basis, area, codes) in &new_duties {
        store::exec(
            c,
            "INSERT INTO case_duties (id, unit_id, name, legal_basis, area_id, active, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, TRUE, 1, $6, $6)",
            vec![(*did).into(), (*uid).into(), name.clone().into(), basis.clone().into(), (*area).into(), now.into()],
        )
        .await?;
        for code in codes {
            store::exec(
                c,
                "INSERT INTO case_duty_categories (category_code, duty_id) VALUES ($1, $2)",
                vec![code.to_string().into(), (*did).into()],
            )
            .await?;
        }
        duties.push((
            DutyMatch {
                duty_id: *did,
                duty_name: name.clone(),
                legal_basis: basis.clone(),
                unit_id: *uid,
                unit_name: unit_name.get(uid).cloned().unwrap_or_default(),
                matched_code: String::new(),
                area_level: level_of.get(area).copied().unwrap_or(0),
                area_name: String::new(),
                created_at: 0,
            },
            codes.clone(),
            *area,
        ));
    }
    // Members: the demo users act for their units.
    #[derive(FromQueryResult)]
    struct U {
        id: Uuid,
        username: String,
    }
    let users: Vec<U> = store::fetch_all(c, "SELECT id, username FROM users", vec![]).await?;
    let user = |n: &str| users.iter().find(|u| u.username == n).map(|u| u.id);
    let first_district = city.of_kind(AreaKind::District).next().map(|d| d.id);
    let first_street = city.of_kind(AreaKind::Street).next().map(|s| s.id);
    let mut communities = city.of_kind(AreaKind::Community);
    let (c1, c2) = (
        communities.next().map(|a| a.id),
        communities.next().map(|a| a.id),
    );
    let mut members: Vec<(Option<Uuid>, Option<Uuid>)> = vec![];
    if let Some(d) = first_district {
        let dept = new_units
            .iter()
            .find(|(_, n, k, a)| *a == d && *k == "department" && n.contains("城管委"))
            .map(|u| u.0);
        members.push((user("bumen"), dept));
    }
    members.push((
        user("jiedao"),
        first_street.and_then(|s| street_unit.get(&s)).map(|u| u.id),
    ));
    members.push((
        user("shequ"),
        c1.and_then(|c| community_unit.get(&c)).map(|u| u.id),
    ));
    members.push((
        user("shequ2"),
        c2.and_then(|c| community_unit.get(&c)).map(|u| u.id),
    ));
    for (u, unit) in members {
        if let (Some(u), Some(unit)) = (u, unit) {
            store::exec(
                c,
                "INSERT INTO case_unit_members (unit_id, member_id, created_at) VALUES ($1, $2, $3)",
                vec![unit.into(), u.into(), now.into()],
            )
            .await?;
        }
    }

    // A year of cases.
    let cal: Calendar = crate::app::cases::calendar::load(c).await?;
    #[derive(FromQueryResult)]
    struct G {
        id: Uuid,
        name: String,
        parent_id: Option<Uuid>,
        boundary: Option<String>,
    }
    let grids: Vec<G> = store::fetch_all(
        c,
        "SELECT id, name, parent_id, boundary FROM areas WHERE kind = 'grid' ORDER BY code",
        vec![],
    )
    .await?;
    let parent: HashMap<Uuid, Uuid> = city
        .areas
        .iter()
        .filter_map(|a| a.parent.map(|p| (a.id, p)))
        .collect();
    let households: u32 = city.of_kind(AreaKind::Grid).map(|g| g.households).sum();
    let n_cases = (households / 8).max(50) as usize;
    let weighted: Vec<(&str, u32)> = CATEGORIES
        .iter()
        .filter(|c| c.6 > 0)
        .map(|c| (c.0, c.6))
        .collect();
    let total_w: u32 = weighted.iter().map(|w| w.1).sum();
    let limits: HashMap<&str, (Limit, Limit, Limit, bool)> = CATEGORIES
        .iter()
        .filter_map(|c| {
            Some((
                c.0,
                (
                    Limit::parse_short(c.2)?,
                    Limit::parse_short(c.3)?,
                    Limit::parse_short(c.4)?,
                    c.5,
                ),
            ))
        })
        .collect();

    let dispatcher_name = "李建国（街道）".to_string();
    let mut case_rows: Vec<Vec<Value>> = vec![];
    let mut event_rows: Vec<Vec<Value>> = vec![];
    let mut rows_for_stats: Vec<CaseRow> = vec![];
    let mut whistle_rows: Vec<Vec<Value>> = vec![];
    let mut whistle_unit_rows: Vec<Vec<Value>> = vec![];
    const DAY: i64 = 86_400_000;
    for _ in 0..n_cases {
        // Season: heating complaints in winter, noise in summer.
        let age_days = rng.gen_range(0..365i64);
        let received = now - age_days * DAY - rng.gen_range(0..DAY);
        let month = local_date(received).month() as u8;
        let mut pick = rng.gen_range(0..total_w);
        let mut code = "0101";
        for (c0, w) in &weighted {
            let w = match (*c0, month) {
                ("0503", 11 | 12 | 1 | 2 | 3) => w * 4,
                ("0503", _) => 0,
                ("0401" | "0402", 6..=8) => w * 2,
                _ => *w,
            };
            if pick < w {
                code = c0;
                break;
            }
            pick = pick.saturating_sub(w);
        }
        let Some(g) = grids.choose(&mut rng) else {
            break;
        };
        let community = g.parent_id.unwrap_or(g.id);
        let street = parent.get(&community).copied().unwrap_or(community);
        let (lat, lon) = match g
            .boundary
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
            .and_then(|v| Shape::from_boundary(&v))
        {
            Some(s) => {
                let (x0, y0, x1, y1) = s.bbox;
                (Some(rng.gen_range(y0..y1)), Some(rng.gen_range(x0..x1)))
            }
            None => (None, None),
        };
        // Route in memory as the server would.
        let parent_code = &code[..2];
        let mut cands: Vec<DutyMatch> = duties
            .iter()
            .filter(|(_, codes, area)| {
                codes.iter().any(|c| *c == code || *c == parent_code)
                    && (*area == g.id
                        || *area == community
                        || *area == street
                        || parent.get(&street) == Some(area))
            })
            .map(|(m, codes, _)| DutyMatch {
                matched_code: if codes.contains(&code) {
                    code.to_string()
                } else {
                    parent_code.to_string()
                },
                ..m.clone()
            })
            .collect();
        cands.sort_by_key(|m| m.duty_id);
        let picked =
            pick_duty(&cands, code, &[]).map(|m| (m.unit_id, Some(m.duty_id), "power_list"));
        let routed = picked.or_else(|| {
            community_unit
                .get(&community)
                .map(|u| (u.id, None, "territorial"))
        });
        let Some((unit, duty, rule)) = routed else {
            continue;
        };
        let (resp_l, handle_l, verify_l, rv) = limits[code];
        let id = ids.next();
        let day = day_number(local_date(received));
        let name = format!(
            "{}{}",
            SURNAMES.choose(&mut rng).unwrap_or(&"王"),
            GIVEN.choose(&mut rng).unwrap_or(&"明")
        );
        let phone = format!(
            "13{}{:08}",
            rng.gen_range(0..10),
            rng.gen_range(0..100_000_000u32)
        );
        let mut r = CaseRow {
            id,
            no: case_no(day, rng.gen()),
            street_id: street,
            community_id: community,
            grid_id: Some(g.id),
            area_id: g.id,
            kind: [
                "complaint",
                "help",
                "complaint",
                "report",
                "consult",
                "suggestion",
                "help",
            ]
            .choose(&mut rng)
            .unwrap_or(&"help")
            .to_string(),
            channel: [
                "hotline",
                "hotline",
                "hotline",
                "phone_page",
                "patrol",
                "console",
                "visit",
            ]
            .choose(&mut rng)
            .unwrap_or(&"hotline")
            .to_string(),
            category_id: cat_ids[code],
            category_code: code.to_string(),
            description: description(code, &mut rng, &g.name),
            lat,
            lon,
            requester_name: keys.encrypt(&name),
            requester_phone: Some(keys.encrypt(&phone)),
            route_rule: Some(rule.into()),
            route_duty_id: duty,
            route_unit_id: Some(unit),
            updated_at: received,
            ..CaseRow::received(received, day)
        };
        r.title = r.description.chars().take(24).collect();
        // Who received it, as the channel says (the header and the timeline agree).
        let receiver = crate::domain::cases::Channel::parse(&r.channel)
            .map(|c| c.label_zh())
            .unwrap_or("12345热线");
        let mut ev = |at: i64,
                      actor: &str,
                      action: &str,
                      from: Option<Status>,
                      to: Option<Status>,
                      unit: Option<Uuid>,
                      note: Option<String>| {
            event_rows.push(vec![
                Uuid::now_v7().into(),
                id.into(),
                community.into(),
                at.into(),
                None::<Uuid>.into(),
                actor.to_string().into(),
                action.to_string().into(),
                from.map(|s| s.as_str().to_string()).into(),
                to.map(|s| s.as_str().to_string()).into(),
                unit.into(),
                note.into(),
                None::<String>.into(),
            ]);
        };
        ev(
            received,
            receiver,
            "receive",
            None,
            Some(Status::Received),
            None,
            None,
        );
        // How far it got: old cases are finished, the last days' still open.
        let hours = |h: f64| (h * 3_600_000.0) as i64;
        let dispatched = received + hours(rng.gen_range(0.2..3.0));
        // The last days' queue: some cases still wait to be registered or dispatched.
        if age_days <= 2 && rng.gen_bool(0.3) {
            if rng.gen_bool(0.5) {
                r.status = Status::Registered.as_str().into();
                r.registered_at = Some(dispatched.min(now));
                ev(
                    dispatched.min(now),
                    &dispatcher_name,
                    "register",
                    Some(Status::Received),
                    Some(Status::Registered),
                    None,
                    None,
                );
            }
            rows_for_stats.push(r.clone());
            case_rows.push(crate::app::cases::intake::row_values(&r));
            continue;
        }
        // A few were returned twice and wait for the street's arbitration (首接单位 stays on them).
        if age_days <= 5 && rng.gen_bool(0.05) {
            let t1 = dispatched + hours(1.0);
            ev(
                dispatched,
                &dispatcher_name,
                "dispatch",
                Some(Status::Received),
                Some(Status::Dispatched),
                Some(unit),
                None,
            );
            ev(
                t1,
                "承办人",
                "return",
                Some(Status::Dispatched),
                Some(Status::Registered),
                Some(unit),
                Some("不属于本单位职责".into()),
            );
            ev(
                t1 + hours(0.5),
                &dispatcher_name,
                "dispatch",
                Some(Status::Registered),
                Some(Status::Dispatched),
                Some(unit),
                Some("请按权责清单办理".into()),
            );
            ev(
                t1 + hours(1.0),
                "承办人",
                "return",
                Some(Status::Dispatched),
                Some(Status::Arbitration),
                Some(unit),
                Some("仍不属于本单位职责，申请街道仲裁".into()),
            );
            r.status = Status::Arbitration.as_str().into();
            r.registered_at = Some(dispatched);
            r.dispatched_at = Some(dispatched);
            r.unit_id = Some(unit);
            r.first_unit_id = Some(unit);
            r.return_count = 2;
            r.returned_units = unit.to_string();
            rows_for_stats.push(r.clone());
            case_rows.push(crate::app::cases::intake::row_values(&r));
            continue;
        }
        if dispatched > now {
            rows_for_stats.push(r.clone());
            case_rows.push(crate::app::cases::intake::row_values(&r));
            continue;
        }
        if rng.gen_bool(0.02) {
            r.status = Status::Rejected.as_str().into();
            ev(
                dispatched,
                &dispatcher_name,
                "reject",
                Some(Status::Received),
                Some(Status::Rejected),
                None,
                Some("不属于受理范围，已告知诉求人".into()),
            );
            r.updated_at = dispatched;
            rows_for_stats.push(r.clone());
            case_rows.push(crate::app::cases::intake::row_values(&r));
            continue;
        }
        use crate::app::cases::deadlines::{self, Which};
        let (Ok(_), Ok(handle_due)) = (
            deadlines::start(&cal, &mut r, Which::Response, dispatched, resp_l),
            deadlines::start(&cal, &mut r, Which::Handle, dispatched, handle_l),
        ) else {
            rows_for_stats.push(r.clone());
            case_rows.push(crate::app::cases::intake::row_values(&r));
            continue;
        };
        r.registered_at = Some(dispatched);
        r.dispatched_at = Some(dispatched);
        r.unit_id = Some(unit);
        r.first_unit_id = Some(unit);
        r.warn_at = Some(handle_due - (handle_due - dispatched) / 5);
        r.status = Status::Dispatched.as_str().into();
        ev(
            dispatched,
            &dispatcher_name,
            "dispatch",
            Some(Status::Received),
            Some(Status::Dispatched),
            Some(unit),
            None,
        );
        // A few are returned once (to the street office) before someone takes them.
        let mut cur_unit = unit;
        let mut t = dispatched;
        if rng.gen_bool(0.05) {
            t += hours(rng.gen_range(0.5..6.0));
            if t < now {
                let to_unit = street_unit.get(&street).map(|u| u.id).unwrap_or(unit);
                ev(
                    t,
                    "承办人",
                    "return",
                    Some(Status::Dispatched),
                    Some(Status::Registered),
                    Some(cur_unit),
                    Some("该事项不在本单位职责范围内".into()),
                );
                r.return_count = 1;
                r.returned_units = cur_unit.to_string();
                if rng.gen_bool(0.3) {
                    r.return_count = 2;
                    r.bound = true;
                    r.route_rule = Some("arbitration".into());
                    ev(
                        t + hours(0.5),
                        &dispatcher_name,
                        "arbitrate",
                        Some(Status::Arbitration),
                        Some(Status::Dispatched),
                        Some(to_unit),
                        Some("经街道仲裁，由属地单位牵头办理".into()),
                    );
                } else {
                    ev(
                        t + hours(0.3),
                        &dispatcher_name,
                        "dispatch",
                        Some(Status::Registered),
                        Some(Status::Dispatched),
                        Some(to_unit),
                        None,
                    );
                }
                cur_unit = to_unit;
                r.unit_id = Some(to_unit);
                r.route_unit_id = Some(to_unit);
            }
        }
        let slow = if rng.gen_bool(0.9) { 1.0 } else { 6.0 };
        let accept = t + hours(rng.gen_range(0.1..slow));
        if accept > now {
            rows_for_stats.push(r.clone());
            case_rows.push(crate::app::cases::intake::row_values(&r));
            continue;
        }
        r.responded_at = Some(accept);
        r.status = Status::InProgress.as_str().into();
        ev(
            accept,
            "承办人",
            "accept",
            Some(Status::Dispatched),
            Some(Status::InProgress),
            Some(cur_unit),
            None,
        );
        if rng.gen_bool(0.01) {
            let wid = Uuid::now_v7();
            whistle_rows.push(vec![
                wid.into(),
                id.into(),
                "tough".into(),
                Some("多部门联合处置".to_string()).into(),
                (accept + 1_800_000).into(),
                accept.into(),
                dispatcher_name.clone().into(),
            ]);
            for u in DEPARTMENTS
                .iter()
                .take(2)
                .filter_map(|(n, ..)| new_units.iter().find(|x| x.1.contains(n)).map(|x| x.0))
            {
                whistle_unit_rows.push(vec![
                    wid.into(),
                    u.into(),
                    Some(accept + rng.gen_range(600_000..2_400_000)).into(),
                    Some("报到人".to_string()).into(),
                ]);
            }
            ev(
                accept,
                &dispatcher_name,
                "whistle",
                None,
                None,
                None,
                Some("攻坚吹哨：2 个单位，30 分钟内报到".into()),
            );
        }
        // Handling: most on time, about one in ten late.
        let span = (handle_due - accept).max(hours(1.0));
        let late = rng.gen_bool(0.1);
        let handled = if late {
            handle_due + hours(rng.gen_range(2.0..72.0))
        } else {
            accept + (span as f64 * rng.gen_range(0.1..0.95)) as i64
        };
        if handled > now {
            if handle_due <= now {
                r.overdue = true;
                r.warned = true;
                ev(
                    handle_due,
                    "系统",
                    "overdue",
                    None,
                    None,
                    Some(cur_unit),
                    None,
                );
                // Half the overdue ones got a supervision notice (督办).
                if rng.gen_bool(0.5) {
                    r.supervise_count = 1;
                    ev(
                        handle_due + hours(1.0),
                        &dispatcher_name,
                        "supervise",
                        None,
                        None,
                        Some(cur_unit),
                        Some("已超期，请于 2 个工作日内办结".into()),
                    );
                }
            } else if r.warn_at.map(|w| w <= now).unwrap_or(false) {
                r.warned = true;
            } else if rng.gen_bool(0.2) {
                r.pending_ext_days = Some(2);
                r.pending_ext_reason = Some("需协调产权单位，申请延期".into());
                ev(
                    accept + hours(2.0),
                    "承办人",
                    "request_extension",
                    None,
                    None,
                    Some(cur_unit),
                    Some("申请延期 2 个工作日：需协调产权单位".into()),
                );
            }
            rows_for_stats.push(r.clone());
            case_rows.push(crate::app::cases::intake::row_values(&r));
            continue;
        }
        if late {
            r.overdue = true;
            ev(
                handle_due,
                "系统",
                "overdue",
                None,
                None,
                Some(cur_unit),
                None,
            );
        }
        let outcome = if rng.gen_bool(0.85) {
            "resolved"
        } else if rng.gen_bool(0.7) {
            "explained"
        } else {
            "unresolvable"
        };
        r.handled_at = Some(handled);
        r.outcome = Some(outcome.into());
        r.result = Some(match outcome {
            "resolved" => "已现场处置完毕，问题已解决".into(),
            "explained" => "已向诉求人解释相关政策".into(),
            _ => "涉及历史遗留问题，已纳入计划".into(),
        });
        let _ = crate::app::cases::deadlines::start(
            &cal,
            &mut r,
            crate::app::cases::deadlines::Which::Verify,
            handled,
            verify_l,
        );
        r.status = Status::Handled.as_str().into();
        ev(
            handled,
            "承办人",
            "handle",
            Some(Status::InProgress),
            Some(Status::Handled),
            Some(cur_unit),
            r.result.clone(),
        );
        let verified = handled + hours(rng.gen_range(1.0..20.0));
        if verified > now {
            rows_for_stats.push(r.clone());
            case_rows.push(crate::app::cases::intake::row_values(&r));
            continue;
        }
        r.verified_at = Some(verified);
        r.status = Status::Verified.as_str().into();
        ev(
            verified,
            &dispatcher_name,
            "verify",
            Some(Status::Handled),
            Some(Status::Verified),
            None,
            None,
        );
        let rated = verified + hours(rng.gen_range(2.0..48.0));
        if rated > now {
            rows_for_stats.push(r.clone());
            case_rows.push(crate::app::cases::intake::row_values(&r));
            continue;
        }
        if rv || rng.gen_bool(0.5) {
            let x: f64 = rng.gen();
            let rating = if outcome == "resolved" {
                if x < 0.75 {
                    "satisfied"
                } else if x < 0.93 {
                    "basic"
                } else {
                    "dissatisfied"
                }
            } else if x < 0.35 {
                "basic"
            } else {
                "dissatisfied"
            };
            r.rating = Some(rating.into());
            r.rated_at = Some(rated);
            r.status = Status::Rated.as_str().into();
            ev(
                rated,
                "回访员",
                "rate",
                Some(Status::Verified),
                Some(Status::Rated),
                None,
                Some(
                    match rating {
                        "satisfied" => "满意",
                        "basic" => "基本满意",
                        _ => "不满意",
                    }
                    .into(),
                ),
            );
        }
        let closed = rated + hours(rng.gen_range(0.5..8.0));
        if closed < now && (rv == false || r.rating.is_some()) {
            r.closed_at = Some(closed);
            let from = r.status();
            r.status = Status::Closed.as_str().into();
            ev(
                closed,
                &dispatcher_name,
                "close",
                Some(from),
                Some(Status::Closed),
                None,
                None,
            );
        }
        r.updated_at = r.closed_at.or(r.rated_at).unwrap_or(verified);
        rows_for_stats.push(r.clone());
        case_rows.push(crate::app::cases::intake::row_values(&r));
    }
    let cols: Vec<&str> = crate::app::cases::query::COLUMNS
        .split(", ")
        .map(str::trim)
        .collect();
    let n = case_rows.len();
    store::insert_many(c, "cases", &cols, case_rows).await?;
    store::insert_many(
        c,
        "case_events",
        &crate::app::cases::lifecycle::EVENT_COLUMNS,
        event_rows,
    )
    .await?;
    store::insert_many(
        c,
        "case_whistles",
        &[
            "id",
            "case_id",
            "kind",
            "note",
            "deadline_at",
            "created_at",
            "created_by_name",
        ],
        whistle_rows,
    )
    .await?;
    store::insert_many(
        c,
        "case_whistle_units",
        &["whistle_id", "unit_id", "arrived_at", "arrived_by_name"],
        whistle_unit_rows,
    )
    .await?;
    for r in &rows_for_stats {
        crate::app::cases::stats::record(c, None, r).await?;
    }
    Ok(Summary {
        categories: CATEGORIES.len(),
        units: unit_count,
        cases: n,
    })
}
