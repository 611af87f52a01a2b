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

pub struct Summary {
    pub categories: usize,
    pub units: usize,
    pub cases: usize,
}

/// Writes the dictionary, the units with their power lists and members, and a year of cases
/// (about one case a year for every eight households). The steps run in this order because the
/// ids and the random draws must come out the same for the same seed: tests rely on the demo.
pub async fn run<C: ConnectionTrait>(
    c: &C,
    keys: &crate::crypto::Keys,
    city: &DemoCity,
    seed: u64,
    ids: &mut IdGen,
) -> AppResult<Summary> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xCA5E);
    let now = now_ms();
    let categories = write_dictionary(c, ids, now).await?;
    let units = Units::plan(city, ids);
    units.write(c, now).await?;
    let duties = units.write_duties(c, city, now).await?;
    units.write_members(c, city, now).await?;
    let year = Year::load(c, keys, city, now, categories, duties, &units).await?;
    let mut out = Written::default();
    for _ in 0..year.case_count(city) {
        match year.simulate(&mut rng, ids, &mut out) {
            Simulated::Case | Simulated::Unrouted => {}
            Simulated::NoGrids => break,
        }
    }
    let cases = out.write(c).await?;
    Ok(Summary {
        categories: CATEGORIES.len(),
        units: units.list.len(),
        cases,
    })
}

/// The two-level category dictionary; answers the id of each code.
async fn write_dictionary<C: ConnectionTrait>(
    c: &C,
    ids: &mut IdGen,
    now: i64,
) -> AppResult<HashMap<&'static str, Uuid>> {
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
    Ok(cat_ids)
}

/// A planned unit: (id, name, kind, area).
type PlannedUnit = (Uuid, String, &'static str, Uuid);
/// A planned duty: (id, unit, name, legal basis, served area, category codes).
type PlannedDuty = (Uuid, Uuid, String, String, Uuid, Vec<&'static str>);
/// A duty as dispatch matches it, with its codes and the area it serves.
type Duty = (DutyMatch, Vec<&'static str>, Uuid);

/// District departments and utilities, street offices, community committees and property
/// companies, each with its power list.
struct Units {
    list: Vec<PlannedUnit>,
    duties: Vec<PlannedDuty>,
    /// The committee of each community (the territorial fallback).
    community: HashMap<Uuid, Uuid>,
    /// The 城管科 of each street (where returned cases go).
    street: HashMap<Uuid, Uuid>,
}

impl Units {
    fn plan(city: &DemoCity, ids: &mut IdGen) -> Units {
        let mut u = Units {
            list: vec![],
            duties: vec![],
            community: HashMap::new(),
            street: HashMap::new(),
        };
        for d in city.of_kind(AreaKind::District) {
            for (name, kind, duty, basis, codes) in DEPARTMENTS {
                let district = d.name.trim_end_matches('区');
                let uname = if *kind == "department" {
                    format!("{district}区{name}")
                } else {
                    format!("{district}{name}")
                };
                let uid = u.add(ids, uname, kind, d.id);
                u.duty(ids, uid, duty, basis, d.id, codes);
            }
        }
        for s in city.of_kind(AreaKind::Street) {
            let uid = u.add(ids, format!("{}城管科", s.name), "street_office", s.id);
            let basis = "《城市市容和环境卫生管理条例》第十四条";
            u.duty(ids, uid, "街面秩序和占道经营管理", basis, s.id, &["0102"]);
            u.street.insert(s.id, uid);
            let uid2 = u.add(ids, format!("{}综治中心", s.name), "street_office", s.id);
            u.duty(
                ids,
                uid2,
                "矛盾纠纷多元化解",
                "《人民调解法》第五条",
                s.id,
                &["0603"],
            );
        }
        for (i, cm) in city.of_kind(AreaKind::Community).enumerate() {
            let uid = u.add(ids, format!("{}居委会", cm.name), "community", cm.id);
            let basis = "《城市居民委员会组织法》第三条";
            u.duty(
                ids,
                uid,
                "居民证明和生活噪音劝导",
                basis,
                cm.id,
                &["0602", "0402"],
            );
            u.community.insert(cm.id, uid);
            if i % 2 == 0 {
                let name = format!("{}物业服务中心", cm.name.trim_end_matches("社区"));
                let pid = u.add(ids, name, "property", cm.id);
                let basis = "《物业管理条例》第三十五条";
                u.duty(
                    ids,
                    pid,
                    "物业服务合同约定的维修养护",
                    basis,
                    cm.id,
                    &["0201"],
                );
            }
        }
        u
    }

    fn add(&mut self, ids: &mut IdGen, name: String, kind: &'static str, area: Uuid) -> Uuid {
        let id = ids.next();
        self.list.push((id, name, kind, area));
        id
    }

    fn duty(
        &mut self,
        ids: &mut IdGen,
        unit: Uuid,
        name: &str,
        basis: &str,
        area: Uuid,
        codes: &[&'static str],
    ) {
        let id = ids.next();
        self.duties
            .push((id, unit, name.into(), basis.into(), area, codes.to_vec()));
    }

    async fn write<C: ConnectionTrait>(&self, c: &C, now: i64) -> AppResult<()> {
        for (id, name, kind, area) in &self.list {
            store::exec(
                c,
                "INSERT INTO case_units (id, name, kind, area_id, contact, active, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, TRUE, 1, $6, $6)",
                vec![(*id).into(), name.clone().into(), kind.to_string().into(), (*area).into(), Some("0312-1234567".to_string()).into(), now.into()],
            )
            .await?;
        }
        Ok(())
    }

    /// Writes the power lists; answers them as dispatch matches them.
    async fn write_duties<C: ConnectionTrait>(
        &self,
        c: &C,
        city: &DemoCity,
        now: i64,
    ) -> AppResult<Vec<Duty>> {
        let level_of: HashMap<Uuid, i32> =
            city.areas.iter().map(|a| (a.id, a.kind.level())).collect();
        let unit_name: HashMap<Uuid, &String> =
            self.list.iter().map(|(id, n, _, _)| (*id, n)).collect();
        let mut duties = vec![];
        for (did, uid, name, basis, area, codes) in &self.duties {
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
            let m = DutyMatch {
                duty_id: *did,
                duty_name: name.clone(),
                legal_basis: basis.clone(),
                unit_id: *uid,
                unit_name: unit_name
                    .get(uid)
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
                matched_code: String::new(),
                area_level: level_of.get(area).copied().unwrap_or(0),
                area_name: String::new(),
                created_at: 0,
            };
            duties.push((m, codes.clone(), *area));
        }
        Ok(duties)
    }

    /// The demo users act for their units: `bumen` for the first district's 城管委, `jiedao` for the
    /// first street's 城管科, `shequ` and `shequ2` for the first two communities' committees.
    async fn write_members<C: ConnectionTrait>(
        &self,
        c: &C,
        city: &DemoCity,
        now: i64,
    ) -> AppResult<()> {
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
            let dept = self
                .list
                .iter()
                .find(|(_, n, k, a)| *a == d && *k == "department" && n.contains("城管委"))
                .map(|u| u.0);
            members.push((user("bumen"), dept));
        }
        let street = first_street.and_then(|s| self.street.get(&s)).copied();
        members.push((user("jiedao"), street));
        members.push((
            user("shequ"),
            c1.and_then(|c| self.community.get(&c)).copied(),
        ));
        members.push((
            user("shequ2"),
            c2.and_then(|c| self.community.get(&c)).copied(),
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
        Ok(())
    }
}

#[derive(FromQueryResult)]
struct Grid {
    id: Uuid,
    name: String,
    parent_id: Option<Uuid>,
    boundary: Option<String>,
}

/// What the year needs to simulate one case after another.
struct Year<'a> {
    keys: &'a crate::crypto::Keys,
    now: i64,
    cal: Calendar,
    grids: Vec<Grid>,
    /// Each area's parent.
    parent: HashMap<Uuid, Uuid>,
    /// The categories that occur, with their weight in the mix.
    weighted: Vec<(&'static str, u32)>,
    total_weight: u32,
    /// (response, handle, verify, return visit required) of each category.
    limits: HashMap<&'static str, (Limit, Limit, Limit, bool)>,
    categories: HashMap<&'static str, Uuid>,
    duties: Vec<Duty>,
    units: &'a Units,
}

/// The rows a year of cases writes.
#[derive(Default)]
struct Written {
    cases: Vec<Vec<Value>>,
    events: Vec<Vec<Value>>,
    for_stats: Vec<CaseRow>,
    whistles: Vec<Vec<Value>>,
    whistle_units: Vec<Vec<Value>>,
}

enum Simulated {
    Case,
    /// Neither a power list nor a community committee took it.
    Unrouted,
    NoGrids,
}

const DAY: i64 = 86_400_000;
const DISPATCHER: &str = "李建国（街道）";

fn hours(h: f64) -> i64 {
    (h * 3_600_000.0) as i64
}

impl<'a> Year<'a> {
    async fn load<C: ConnectionTrait>(
        c: &C,
        keys: &'a crate::crypto::Keys,
        city: &DemoCity,
        now: i64,
        categories: HashMap<&'static str, Uuid>,
        duties: Vec<Duty>,
        units: &'a Units,
    ) -> AppResult<Year<'a>> {
        let cal: Calendar = crate::app::cases::calendar::load(c).await?;
        let grids: Vec<Grid> = store::fetch_all(
            c,
            "SELECT id, name, parent_id, boundary FROM areas WHERE kind = 'grid' ORDER BY code",
            vec![],
        )
        .await?;
        let parent = city
            .areas
            .iter()
            .filter_map(|a| a.parent.map(|p| (a.id, p)))
            .collect();
        let weighted: Vec<(&str, u32)> = CATEGORIES
            .iter()
            .filter(|c| c.6 > 0)
            .map(|c| (c.0, c.6))
            .collect();
        let total_weight = weighted.iter().map(|w| w.1).sum();
        let limits = CATEGORIES
            .iter()
            .filter_map(|c| {
                let (r, h, v) = (c.2, c.3, c.4);
                let parse = Limit::parse_short;
                Some((c.0, (parse(r)?, parse(h)?, parse(v)?, c.5)))
            })
            .collect();
        Ok(Year {
            keys,
            now,
            cal,
            grids,
            parent,
            weighted,
            total_weight,
            limits,
            categories,
            duties,
            units,
        })
    }

    fn case_count(&self, city: &DemoCity) -> usize {
        let households: u32 = city.of_kind(AreaKind::Grid).map(|g| g.households).sum();
        (households / 8).max(50) as usize
    }

    /// Season: heating complaints in winter, noise in summer.
    fn pick_category(&self, rng: &mut ChaCha8Rng, month: u8) -> &'static str {
        let mut pick = rng.gen_range(0..self.total_weight);
        for (code, w) in &self.weighted {
            let w = match (*code, month) {
                ("0503", 11 | 12 | 1 | 2 | 3) => w * 4,
                ("0503", _) => 0,
                ("0401" | "0402", 6..=8) => w * 2,
                _ => *w,
            };
            if pick < w {
                return code;
            }
            pick = pick.saturating_sub(w);
        }
        "0101"
    }

    /// Routes in memory as the server would: the power list first, then the community committee.
    fn route(
        &self,
        code: &str,
        grid: Uuid,
        community: Uuid,
        street: Uuid,
    ) -> Option<(Uuid, Option<Uuid>, &'static str)> {
        let parent_code = &code[..2];
        let mut cands: Vec<DutyMatch> = self
            .duties
            .iter()
            .filter(|(_, codes, area)| {
                codes.iter().any(|c| *c == code || *c == parent_code)
                    && (*area == grid
                        || *area == community
                        || *area == street
                        || self.parent.get(&street) == Some(area))
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
        picked.or_else(|| {
            self.units
                .community
                .get(&community)
                .map(|u| (*u, None, "territorial"))
        })
    }

    /// One case: received some day of the last year, then lived to the present.
    fn simulate(&self, rng: &mut ChaCha8Rng, ids: &mut IdGen, out: &mut Written) -> Simulated {
        let age_days = rng.gen_range(0..365i64);
        let received = self.now - age_days * DAY - rng.gen_range(0..DAY);
        let month = local_date(received).month() as u8;
        let code = self.pick_category(rng, month);
        let Some(g) = self.grids.choose(rng) else {
            return Simulated::NoGrids;
        };
        let community = g.parent_id.unwrap_or(g.id);
        let street = self.parent.get(&community).copied().unwrap_or(community);
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
        let Some((unit, duty, rule)) = self.route(code, g.id, community, street) else {
            return Simulated::Unrouted;
        };
        let id = ids.next();
        let day = day_number(local_date(received));
        let name = format!(
            "{}{}",
            SURNAMES.choose(rng).unwrap_or(&"王"),
            GIVEN.choose(rng).unwrap_or(&"明")
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
            kind: KINDS.choose(rng).unwrap_or(&"help").to_string(),
            channel: CHANNELS.choose(rng).unwrap_or(&"hotline").to_string(),
            category_id: self.categories[code],
            category_code: code.to_string(),
            description: description(code, rng, &g.name),
            lat,
            lon,
            requester_name: self.keys.encrypt(&name),
            requester_phone: Some(self.keys.encrypt(&phone)),
            route_rule: Some(rule.into()),
            route_duty_id: duty,
            route_unit_id: Some(unit),
            updated_at: received,
            ..CaseRow::received(received, day)
        };
        r.title = r.description.chars().take(24).collect();
        let mut life = Life {
            year: self,
            rng,
            timeline: Timeline {
                rows: &mut out.events,
                case: id,
                area: community,
            },
            whistles: &mut out.whistles,
            whistle_units: &mut out.whistle_units,
            r,
            code,
            unit,
            street,
            age_days,
        };
        life.live();
        let r = life.r;
        out.cases.push(crate::app::cases::intake::row_values(&r));
        out.for_stats.push(r);
        Simulated::Case
    }
}

/// The kinds and channels of the mix (a draw picks one).
const KINDS: [&str; 7] = [
    "complaint",
    "help",
    "complaint",
    "report",
    "consult",
    "suggestion",
    "help",
];
const CHANNELS: [&str; 7] = [
    "hotline",
    "hotline",
    "hotline",
    "phone_page",
    "patrol",
    "console",
    "visit",
];

/// A case's timeline as it is written: `case_events` rows.
struct Timeline<'w> {
    rows: &'w mut Vec<Vec<Value>>,
    case: Uuid,
    area: Uuid,
}

impl Timeline<'_> {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        at: i64,
        actor: &str,
        action: &str,
        from: Option<Status>,
        to: Option<Status>,
        unit: Option<Uuid>,
        note: Option<String>,
    ) {
        self.rows.push(vec![
            Uuid::now_v7().into(),
            self.case.into(),
            self.area.into(),
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
    }
}

/// One case from its receipt to where it stands now. Each step returns early when the next one
/// would lie in the future.
struct Life<'y, 'w> {
    year: &'y Year<'y>,
    rng: &'w mut ChaCha8Rng,
    timeline: Timeline<'w>,
    whistles: &'w mut Vec<Vec<Value>>,
    whistle_units: &'w mut Vec<Vec<Value>>,
    r: CaseRow,
    code: &'static str,
    /// The unit routing picked.
    unit: Uuid,
    street: Uuid,
    age_days: i64,
}

impl Life<'_, '_> {
    fn live(&mut self) {
        let now = self.year.now;
        let (resp_l, handle_l, verify_l, rv) = self.year.limits[self.code];
        let unit = self.unit;
        // Who received it, as the channel says (the header and the timeline agree).
        let receiver = crate::domain::cases::Channel::parse(&self.r.channel)
            .map(|c| c.label_zh())
            .unwrap_or("12345热线");
        let received = self.r.received_at;
        self.timeline.add(
            received,
            receiver,
            "receive",
            None,
            Some(Status::Received),
            None,
            None,
        );
        let dispatched = received + hours(self.rng.gen_range(0.2..3.0));
        // The last days' queue: some cases still wait to be registered or dispatched.
        if self.age_days <= 2 && self.rng.gen_bool(0.3) {
            if self.rng.gen_bool(0.5) {
                self.r.status = Status::Registered.as_str().into();
                self.r.registered_at = Some(dispatched.min(now));
                self.timeline.add(
                    dispatched.min(now),
                    DISPATCHER,
                    "register",
                    Some(Status::Received),
                    Some(Status::Registered),
                    None,
                    None,
                );
            }
            return;
        }
        // A few were returned twice and wait for the street's arbitration (首接单位 stays on them).
        if self.age_days <= 5 && self.rng.gen_bool(0.05) {
            self.await_arbitration(dispatched);
            return;
        }
        if dispatched > now {
            return;
        }
        if self.rng.gen_bool(0.02) {
            self.r.status = Status::Rejected.as_str().into();
            self.timeline.add(
                dispatched,
                DISPATCHER,
                "reject",
                Some(Status::Received),
                Some(Status::Rejected),
                None,
                Some("不属于受理范围，已告知诉求人".into()),
            );
            self.r.updated_at = dispatched;
            return;
        }
        use crate::app::cases::deadlines::{self, Which};
        let cal = &self.year.cal;
        let (Ok(_), Ok(handle_due)) = (
            deadlines::start(cal, &mut self.r, Which::Response, dispatched, resp_l),
            deadlines::start(cal, &mut self.r, Which::Handle, dispatched, handle_l),
        ) else {
            return;
        };
        let r = &mut self.r;
        r.registered_at = Some(dispatched);
        r.dispatched_at = Some(dispatched);
        r.unit_id = Some(unit);
        r.first_unit_id = Some(unit);
        r.warn_at = Some(handle_due - (handle_due - dispatched) / 5);
        r.status = Status::Dispatched.as_str().into();
        self.timeline.add(
            dispatched,
            DISPATCHER,
            "dispatch",
            Some(Status::Received),
            Some(Status::Dispatched),
            Some(unit),
            None,
        );
        let (cur_unit, t) = self.maybe_returned(dispatched);
        let slow = if self.rng.gen_bool(0.9) { 1.0 } else { 6.0 };
        let accept = t + hours(self.rng.gen_range(0.1..slow));
        if accept > now {
            return;
        }
        self.r.responded_at = Some(accept);
        self.r.status = Status::InProgress.as_str().into();
        self.timeline.add(
            accept,
            "承办人",
            "accept",
            Some(Status::Dispatched),
            Some(Status::InProgress),
            Some(cur_unit),
            None,
        );
        if self.rng.gen_bool(0.01) {
            self.whistle(accept);
        }
        // Handling: most on time, about one in ten late.
        let span = (handle_due - accept).max(hours(1.0));
        let late = self.rng.gen_bool(0.1);
        let handled = if late {
            handle_due + hours(self.rng.gen_range(2.0..72.0))
        } else {
            accept + (span as f64 * self.rng.gen_range(0.1..0.95)) as i64
        };
        if handled > now {
            self.still_in_hand(handle_due, accept, cur_unit);
            return;
        }
        if late {
            self.r.overdue = true;
            let overdue = Some(cur_unit);
            self.timeline
                .add(handle_due, "系统", "overdue", None, None, overdue, None);
        }
        let Some(verified) = self.handle(handled, cur_unit, verify_l) else {
            return;
        };
        let rated = verified + hours(self.rng.gen_range(2.0..48.0));
        if rated > now {
            return;
        }
        if rv || self.rng.gen_bool(0.5) {
            self.rate(rated);
        }
        let closed = rated + hours(self.rng.gen_range(0.5..8.0));
        if closed < now && (!rv || self.r.rating.is_some()) {
            self.r.closed_at = Some(closed);
            let from = self.r.status();
            self.r.status = Status::Closed.as_str().into();
            let to = Some(Status::Closed);
            self.timeline
                .add(closed, DISPATCHER, "close", Some(from), to, None, None);
        }
        self.r.updated_at = self.r.closed_at.or(self.r.rated_at).unwrap_or(verified);
    }

    /// Returned twice by the unit it was sent to: the street must arbitrate.
    fn await_arbitration(&mut self, dispatched: i64) {
        let unit = self.unit;
        let t1 = dispatched + hours(1.0);
        let tl = &mut self.timeline;
        let (received, registered, sent) = (
            Some(Status::Received),
            Some(Status::Registered),
            Some(Status::Dispatched),
        );
        tl.add(
            dispatched,
            DISPATCHER,
            "dispatch",
            received,
            sent,
            Some(unit),
            None,
        );
        let note = Some("不属于本单位职责".into());
        tl.add(t1, "承办人", "return", sent, registered, Some(unit), note);
        let note = Some("请按权责清单办理".into());
        tl.add(
            t1 + hours(0.5),
            DISPATCHER,
            "dispatch",
            registered,
            sent,
            Some(unit),
            note,
        );
        let note = Some("仍不属于本单位职责，申请街道仲裁".into());
        let arbitration = Some(Status::Arbitration);
        tl.add(
            t1 + hours(1.0),
            "承办人",
            "return",
            sent,
            arbitration,
            Some(unit),
            note,
        );
        let r = &mut self.r;
        r.status = Status::Arbitration.as_str().into();
        r.registered_at = Some(dispatched);
        r.dispatched_at = Some(dispatched);
        r.unit_id = Some(unit);
        r.first_unit_id = Some(unit);
        r.return_count = 2;
        r.returned_units = unit.to_string();
    }

    /// A few are returned once (to the street office) before someone takes them; answers the
    /// unit that holds the case and when it got it.
    fn maybe_returned(&mut self, dispatched: i64) -> (Uuid, i64) {
        let unit = self.unit;
        let mut t = dispatched;
        if !self.rng.gen_bool(0.05) {
            return (unit, t);
        }
        t += hours(self.rng.gen_range(0.5..6.0));
        if t >= self.year.now {
            return (unit, t);
        }
        let to_unit = self
            .year
            .units
            .street
            .get(&self.street)
            .copied()
            .unwrap_or(unit);
        self.timeline.add(
            t,
            "承办人",
            "return",
            Some(Status::Dispatched),
            Some(Status::Registered),
            Some(unit),
            Some("该事项不在本单位职责范围内".into()),
        );
        self.r.return_count = 1;
        self.r.returned_units = unit.to_string();
        if self.rng.gen_bool(0.3) {
            self.r.return_count = 2;
            self.r.bound = true;
            self.r.route_rule = Some("arbitration".into());
            self.timeline.add(
                t + hours(0.5),
                DISPATCHER,
                "arbitrate",
                Some(Status::Arbitration),
                Some(Status::Dispatched),
                Some(to_unit),
                Some("经街道仲裁，由属地单位牵头办理".into()),
            );
        } else {
            self.timeline.add(
                t + hours(0.3),
                DISPATCHER,
                "dispatch",
                Some(Status::Registered),
                Some(Status::Dispatched),
                Some(to_unit),
                None,
            );
        }
        self.r.unit_id = Some(to_unit);
        self.r.route_unit_id = Some(to_unit);
        (to_unit, t)
    }

    /// 攻坚吹哨: two departments called to report within 30 minutes.
    fn whistle(&mut self, accept: i64) {
        let wid = Uuid::now_v7();
        self.whistles.push(vec![
            wid.into(),
            self.r.id.into(),
            "tough".into(),
            Some("多部门联合处置".to_string()).into(),
            (accept + 1_800_000).into(),
            accept.into(),
            DISPATCHER.to_string().into(),
        ]);
        let units = &self.year.units.list;
        for u in DEPARTMENTS
            .iter()
            .take(2)
            .filter_map(|(n, ..)| units.iter().find(|x| x.1.contains(n)).map(|x| x.0))
        {
            self.whistle_units.push(vec![
                wid.into(),
                u.into(),
                Some(accept + self.rng.gen_range(600_000..2_400_000)).into(),
                Some("报到人".to_string()).into(),
            ]);
        }
        let note = Some("攻坚吹哨：2 个单位，30 分钟内报到".into());
        self.timeline
            .add(accept, DISPATCHER, "whistle", None, None, None, note);
    }

    /// Not handled yet: overdue (half of those supervised), warned, or waiting for an extension.
    fn still_in_hand(&mut self, handle_due: i64, accept: i64, cur_unit: Uuid) {
        let now = self.year.now;
        if handle_due <= now {
            self.r.overdue = true;
            self.r.warned = true;
            let unit = Some(cur_unit);
            self.timeline
                .add(handle_due, "系统", "overdue", None, None, unit, None);
            // Half the overdue ones got a supervision notice (督办).
            if self.rng.gen_bool(0.5) {
                self.r.supervise_count = 1;
                let note = Some("已超期，请于 2 个工作日内办结".into());
                let at = handle_due + hours(1.0);
                self.timeline
                    .add(at, DISPATCHER, "supervise", None, None, unit, note);
            }
        } else if self.r.warn_at.map(|w| w <= now).unwrap_or(false) {
            self.r.warned = true;
        } else if self.rng.gen_bool(0.2) {
            self.r.pending_ext_days = Some(2);
            self.r.pending_ext_reason = Some("需协调产权单位，申请延期".into());
            let note = Some("申请延期 2 个工作日：需协调产权单位".into());
            let at = accept + hours(2.0);
            let unit = Some(cur_unit);
            self.timeline
                .add(at, "承办人", "request_extension", None, None, unit, note);
        }
    }

    /// Handled, then verified by the street; answers when it was verified, or `None` while that
    /// lies in the future.
    fn handle(&mut self, handled: i64, cur_unit: Uuid, verify_l: Limit) -> Option<i64> {
        let outcome = if self.rng.gen_bool(0.85) {
            "resolved"
        } else if self.rng.gen_bool(0.7) {
            "explained"
        } else {
            "unresolvable"
        };
        let r = &mut self.r;
        r.handled_at = Some(handled);
        r.outcome = Some(outcome.into());
        r.result = Some(match outcome {
            "resolved" => "已现场处置完毕，问题已解决".into(),
            "explained" => "已向诉求人解释相关政策".into(),
            _ => "涉及历史遗留问题，已纳入计划".into(),
        });
        use crate::app::cases::deadlines::{self, Which};
        let _ = deadlines::start(&self.year.cal, r, Which::Verify, handled, verify_l);
        r.status = Status::Handled.as_str().into();
        let (from, to) = (Some(Status::InProgress), Some(Status::Handled));
        let note = r.result.clone();
        self.timeline
            .add(handled, "承办人", "handle", from, to, Some(cur_unit), note);
        let verified = handled + hours(self.rng.gen_range(1.0..20.0));
        if verified > self.year.now {
            return None;
        }
        self.r.verified_at = Some(verified);
        self.r.status = Status::Verified.as_str().into();
        let (from, to) = (Some(Status::Handled), Some(Status::Verified));
        self.timeline
            .add(verified, DISPATCHER, "verify", from, to, None, None);
        Some(verified)
    }

    /// The return visit: most resolved cases satisfied, explained ones less so.
    fn rate(&mut self, rated: i64) {
        let x: f64 = self.rng.gen();
        let rating = if self.r.outcome.as_deref() == Some("resolved") {
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
        self.r.rating = Some(rating.into());
        self.r.rated_at = Some(rated);
        self.r.status = Status::Rated.as_str().into();
        let said = match rating {
            "satisfied" => "满意",
            "basic" => "基本满意",
            _ => "不满意",
        };
        let (from, to) = (Some(Status::Verified), Some(Status::Rated));
        self.timeline
            .add(rated, "回访员", "rate", from, to, None, Some(said.into()));
    }
}

impl Written {
    /// Writes the cases, their timelines, whistles and rate counters in bulk; answers how many
    /// cases.
    async fn write<C: ConnectionTrait>(self, c: &C) -> AppResult<usize> {
        let cols: Vec<&str> = crate::app::cases::query::COLUMNS
            .split(", ")
            .map(str::trim)
            .collect();
        let n = self.cases.len();
        store::insert_many(c, "cases", &cols, self.cases).await?;
        let event_columns = &crate::app::cases::lifecycle::EVENT_COLUMNS;
        store::insert_many(c, "case_events", event_columns, self.events).await?;
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
            self.whistles,
        )
        .await?;
        store::insert_many(
            c,
            "case_whistle_units",
            &["whistle_id", "unit_id", "arrived_at", "arrived_by_name"],
            self.whistle_units,
        )
        .await?;
        for r in &self.for_stats {
            crate::app::cases::stats::record(c, None, r).await?;
        }
        Ok(n)
    }
}
