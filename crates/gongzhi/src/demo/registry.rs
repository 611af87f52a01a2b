//! The demo's registry step: dwellings, households and residents for every grid of the demo
//! city (300–500 households a grid), with owners, special groups, visits and needs, and records
//! of every freshness — some verified last month, some never — so every panel has something to show.
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{DatabaseTransaction, Value};
use uuid::Uuid;

use super::{DemoCity, IdGen};
use crate::app::registry::persons::{self, seal, CleanPerson};
use crate::app::registry::{date_after_days, Placement};
use crate::crypto::Keys;
use crate::domain::area::AreaKind;
use crate::domain::ids::id_check_char;
use crate::domain::now_ms;
use crate::error::AppResult;
use crate::store;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹",
    "袁", "邓", "许", "傅", "沈", "曾", "彭", "吕",
];
const GIVEN_M: &[&str] = &[
    "伟", "强", "磊", "军", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "建国", "志强", "海涛",
    "建华", "国庆", "子轩", "浩然", "宇航",
];
const GIVEN_F: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀英", "桂兰", "玉梅", "淑珍", "丽华", "欣怡",
    "梓涵", "雨桐", "思琪", "佳怡", "晓燕", "婷",
];
const OCCUPATIONS: &[&str] = &[
    "教师",
    "工人",
    "个体经营",
    "公司职员",
    "医生",
    "司机",
    "退休",
    "学生",
    "务农",
    "自由职业",
    "公务员",
    "销售",
];
const NOTES: &[&str] = &[
    "家中一切正常",
    "老人身体尚可，叮嘱注意防滑",
    "反映楼道灯不亮",
    "孩子在外地上学",
    "租户刚搬来，已登记",
    "电话联系，约下周入户",
];

pub struct Counts {
    pub dwellings: usize,
    pub households: usize,
    pub persons: usize,
    pub visits: usize,
    pub needs: usize,
}

/// A valid, unique ID number: region, birth date, a sequence whose parity gives the gender.
fn id_number(
    rng: &mut ChaCha8Rng,
    used: &mut std::collections::HashSet<String>,
    region: &str,
    birth: &str,
    male: bool,
) -> String {
    loop {
        let seq: u32 = rng.gen_range(0..500) * 2 + if male { 1 } else { 0 };
        let first17 = format!("{region}{}{:03}", birth.replace('-', ""), seq);
        let id = format!("{first17}{}", id_check_char(&first17).unwrap_or('0'));
        if used.insert(id.clone()) {
            return id;
        }
    }
}

fn birth_for_age(rng: &mut ChaCha8Rng, age: i32) -> String {
    let year = 2026 - age;
    let month = rng.gen_range(1..=12);
    let day = rng.gen_range(1..=28);
    format!("{year:04}-{month:02}-{day:02}")
}

fn name(rng: &mut ChaCha8Rng, surname: &str, male: bool) -> String {
    let given = if male { GIVEN_M } else { GIVEN_F };
    format!("{surname}{}", given.choose(rng).unwrap_or(&"明"))
}

fn mobile(rng: &mut ChaCha8Rng) -> String {
    let prefix = [
        "138", "139", "150", "151", "186", "188", "133", "177", "199",
    ]
    .choose(rng)
    .copied()
    .unwrap_or("138");
    format!("{prefix}{:08}", rng.gen_range(0..100_000_000u32))
}

struct Rows {
    dwellings: Vec<Vec<Value>>,
    owners: Vec<Vec<Value>>,
    households: Vec<Vec<Value>>,
    members: Vec<Vec<Value>>,
    persons: Vec<Vec<Value>>,
    tags: Vec<Vec<Value>>,
    grams: Vec<Vec<Value>>,
    events: Vec<Vec<Value>>,
    visits: Vec<Vec<Value>>,
    needs: Vec<Vec<Value>>,
}

fn person_row(
    keys: &Keys,
    id: Uuid,
    at: &Placement,
    p: &CleanPerson,
    verified: Option<i64>,
    now: i64,
    rows: &mut Rows,
) {
    let s = seal(keys, p);
    for k in &s.tag_keys {
        rows.tags
            .push(vec![at.street_id.into(), id.into(), k.clone().into()]);
    }
    rows.grams.extend(persons::gram_rows(
        id,
        at.street_id,
        at.community_id,
        &p.name,
    ));
    rows.persons
        .push(persons::new_row(id, at, p, &s, verified, now));
}

/// Adds the registry to the demo city, inside the demo's transaction.
pub async fn run(
    tx: &DatabaseTransaction,
    keys: &Keys,
    city: &DemoCity,
    seed: u64,
    ids: &mut IdGen,
) -> AppResult<Counts> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7e61_5742);
    let now = now_ms();
    let day = 86_400_000i64;
    let mut rows = Rows {
        dwellings: vec![],
        owners: vec![],
        households: vec![],
        members: vec![],
        persons: vec![],
        tags: vec![],
        grams: vec![],
        events: vec![],
        visits: vec![],
        needs: vec![],
    };
    let name_of = |id: Uuid| {
        city.areas
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.name.clone())
            .unwrap_or_default()
    };
    let mut n_visits = 0;
    let mut used_ids = std::collections::HashSet::new();
    for grid in city.of_kind(AreaKind::Grid) {
        let community = grid.parent.unwrap_or(grid.id);
        let street = city
            .areas
            .iter()
            .find(|a| a.id == community)
            .and_then(|c| c.parent)
            .unwrap_or(community);
        let district_code = city
            .areas
            .iter()
            .find(|a| a.id == street)
            .map(|s| s.code[..6].to_string())
            .unwrap_or_else(|| "130602".into());
        let buildings: Vec<_> = city
            .areas
            .iter()
            .filter(|b| b.parent == Some(grid.id))
            .collect();
        let community_name = name_of(community);
        for i in 0..grid.households as usize {
            let Some(b) = buildings.get(i / 24) else {
                break;
            };
            let flat = i % 24;
            let (unit, floor, room_no) = (flat / 12 + 1, (flat % 12) / 2 + 1, (flat % 2) + 1);
            let room = format!("{}{:02}", floor, room_no);
            let at = Placement {
                street_id: street,
                community_id: community,
                grid_id: grid.id,
                area_id: b.id,
            };
            let rented = rng.gen_bool(0.15);
            let dwelling = ids.next();
            let address = format!("{community_name}{}{unit}单元{room}", b.name);
            rows.dwellings.push(vec![
                street.into(),
                dwelling.into(),
                community.into(),
                grid.id.into(),
                b.id.into(),
                unit.to_string().into(),
                (floor as i32).into(),
                room.clone().into(),
                if rented { "rented" } else { "self_occupied" }.into(),
                address.into(),
                now.into(),
            ]);
            // Members: a head, maybe a spouse, children or a parent.
            let surname = *SURNAMES.choose(&mut rng).unwrap_or(&"王");
            let head_age = rng.gen_range(24..=88);
            let head_male = rng.gen_bool(0.6);
            let floating = rented && rng.gen_bool(0.6);
            let kind = if floating {
                "floating"
            } else if rng.gen_bool(0.8) {
                "registered"
            } else {
                "resident"
            };
            let residence = if floating {
                "floating"
            } else if kind == "registered" {
                "hukou"
            } else {
                "resident"
            };
            let region = if floating {
                ["130100", "130400", "130900", "131000", "410100"]
                    .choose(&mut rng)
                    .copied()
                    .unwrap_or("130100")
            } else {
                district_code.as_str()
            };
            let size = if head_age > 75 && rng.gen_bool(0.4) {
                1
            } else {
                rng.gen_range(1..=5)
            };
            let mut members: Vec<(Uuid, &str, CleanPerson)> = vec![];
            for m in 0..size {
                let (relation, age, male, sname) = match m {
                    0 => ("head", head_age, head_male, surname),
                    1 => (
                        "spouse",
                        (head_age + rng.gen_range(-4..=4)).max(20),
                        !head_male,
                        *SURNAMES.choose(&mut rng).unwrap_or(&"李"),
                    ),
                    2 | 3 if head_age < 60 => (
                        "child",
                        rng.gen_range(1..=(head_age - 20).clamp(2, 30)),
                        rng.gen_bool(0.5),
                        surname,
                    ),
                    _ => (
                        "parent",
                        (head_age + rng.gen_range(22..=30)).min(98),
                        rng.gen_bool(0.5),
                        surname,
                    ),
                };
                let birth = birth_for_age(&mut rng, age);
                let mut tags: Vec<&'static str> = vec![];
                if age >= 70 && size == 1 {
                    tags.push("living_alone_elderly");
                } else if age >= 65 && size <= 2 && rng.gen_bool(0.3) {
                    tags.push("empty_nest_elderly");
                }
                if age < 16 && rng.gen_bool(0.05) {
                    tags.push("left_behind_child");
                }
                if rng.gen_bool(0.03) {
                    tags.push("disabled");
                }
                if rng.gen_bool(0.02) {
                    tags.push("subsistence");
                }
                if rng.gen_bool(0.004) {
                    tags.push("key_attention");
                }
                if rng.gen_bool(0.01) {
                    tags.push("entitled_group");
                }
                let p = CleanPerson {
                    name: name(&mut rng, sname, male),
                    id_type: "id_card",
                    id_no: id_number(&mut rng, &mut used_ids, region, &birth, male),
                    gender: Some(if male { "male" } else { "female" }),
                    birth_date: Some(birth),
                    ethnicity: Some(
                        if rng.gen_bool(0.95) {
                            "汉族"
                        } else {
                            "回族"
                        }
                        .to_string(),
                    ),
                    mobile: (age >= 16).then(|| mobile(&mut rng)),
                    political_status: Some(if age >= 18 && rng.gen_bool(0.12) {
                        "cpc_member"
                    } else if (14..=28).contains(&age) && rng.gen_bool(0.3) {
                        "cyl_member"
                    } else {
                        "masses"
                    }),
                    education: Some(if age < 7 {
                        "none"
                    } else if age < 13 {
                        "primary"
                    } else {
                        ["junior", "senior", "college", "bachelor", "postgraduate"]
                            .choose(&mut rng)
                            .copied()
                            .unwrap_or("senior")
                    }),
                    occupation: Some(if age < 18 {
                        "学生".to_string()
                    } else if age >= 62 {
                        "退休".to_string()
                    } else {
                        OCCUPATIONS.choose(&mut rng).unwrap_or(&"工人").to_string()
                    }),
                    work_unit: None,
                    hukou_place: Some(if floating {
                        "外地".to_string()
                    } else {
                        "保定市".to_string()
                    }),
                    residence_type: residence,
                    tags,
                };
                members.push((ids.next(), relation, p));
            }
            // Freshness: most verified in the last year, rented ones less often, some never.
            let verified: Option<i64> = if rng.gen_bool(0.08) {
                None
            } else {
                Some(now - rng.gen_range(1..=(if rented { 200 } else { 500 })) * day)
            };
            let household = ids.next();
            let head = members.first().map(|m| m.0);
            rows.households.push(vec![
                street.into(),
                household.into(),
                community.into(),
                grid.id.into(),
                b.id.into(),
                dwelling.into(),
                kind.into(),
                head.into(),
                verified.into(),
                now.into(),
            ]);
            let from = date_after_days(-rng.gen_range(30..3000));
            for (pid, relation, p) in &members {
                person_row(keys, *pid, &at, p, verified, now, &mut rows);
                rows.members.push(vec![
                    street.into(),
                    ids.next().into(),
                    household.into(),
                    (*pid).into(),
                    (*relation).into(),
                    from.clone().into(),
                ]);
            }
            if let Some((_, _, headp)) = members.first() {
                rows.owners.push(vec![
                    street.into(),
                    ids.next().into(),
                    dwelling.into(),
                    if rented { None } else { head }.into(),
                    if rented {
                        format!("{}某", SURNAMES.choose(&mut rng).unwrap_or(&"赵"))
                    } else {
                        headp.name.clone()
                    }
                    .into(),
                    from.clone().into(),
                    now.into(),
                ]);
            }
            rows.events.push(vec![
                street.into(),
                ids.next().into(),
                (now - 400 * day).into(),
                "demo".into(),
                "household".into(),
                household.into(),
                household.into(),
                "create".into(),
                "{}".into(),
                serde_json::json!({"kind": kind, "dwelling_id": dwelling, "head_person_id": head})
                    .to_string()
                    .into(),
            ]);
            // Visits: about 60 % in the last four months; a fifth of them found a need.
            if rng.gen_bool(0.6) {
                n_visits += 1;
                let visit = ids.next();
                let ago = rng.gen_range(0..120);
                // A visit verifies the household and its members, as a recorded visit does in the
                // app (`households::mark_verified`): no household visited last month shows 从未核实.
                let visited = now - i64::from(ago) * day;
                if verified.is_none_or(|v| v < visited) {
                    if let Some(h) = rows.households.last_mut() {
                        h[8] = Some(visited).into();
                    }
                    let from = rows.persons.len() - members.len();
                    for r in &mut rows.persons[from..] {
                        let k = r.len() - 3;
                        r[k] = Some(visited).into();
                    }
                }
                rows.visits.push(vec![
                    street.into(),
                    visit.into(),
                    community.into(),
                    grid.id.into(),
                    b.id.into(),
                    household.into(),
                    date_after_days(-ago).into(),
                    "张伟（网格员）".into(),
                    ["in_person", "in_person", "in_person", "phone", "online"]
                        .choose(&mut rng)
                        .copied()
                        .unwrap_or("in_person")
                        .into(),
                    NOTES.choose(&mut rng).copied().unwrap_or("").into(),
                    now.into(),
                ]);
                if rng.gen_bool(0.2) {
                    let (cat, desc) = [
                        ("elderly_care", "老人希望每周有人上门探望"),
                        ("medical", "需要协助预约家庭医生"),
                        ("employment", "家中有人失业，希望了解招聘信息"),
                        ("relief", "咨询临时救助申请"),
                        ("repair", "楼道声控灯损坏"),
                        ("dispute", "与楼上邻居因漏水产生纠纷"),
                        ("other", "希望社区开设智能手机培训"),
                    ]
                    .choose(&mut rng)
                    .copied()
                    .unwrap_or(("other", "其他需求"));
                    let urgency = ["low", "medium", "high"]
                        .choose(&mut rng)
                        .copied()
                        .unwrap_or("low");
                    let due = date_after_days(
                        -ago + match urgency {
                            "high" => 3,
                            "medium" => 7,
                            _ => 30,
                        },
                    );
                    let closed = rng.gen_bool(0.5);
                    rows.needs.push(vec![
                        street.into(),
                        ids.next().into(),
                        community.into(),
                        grid.id.into(),
                        b.id.into(),
                        household.into(),
                        visit.into(),
                        cat.into(),
                        urgency.into(),
                        desc.into(),
                        if closed {
                            "closed"
                        } else if rng.gen_bool(0.5) {
                            "in_progress"
                        } else {
                            "open"
                        }
                        .into(),
                        due.into(),
                        if closed {
                            Some("已协调解决，居民满意")
                        } else {
                            None
                        }
                        .into(),
                        now.into(),
                    ]);
                }
            }
        }
    }
    let counts = Counts {
        dwellings: rows.dwellings.len(),
        households: rows.households.len(),
        persons: rows.persons.len(),
        visits: n_visits,
        needs: rows.needs.len(),
    };
    store::insert_many(
        tx,
        "dwellings",
        &[
            "street_id",
            "id",
            "community_id",
            "grid_id",
            "building_id",
            "unit",
            "floor",
            "room",
            "usage",
            "address",
            "created_at",
            "updated_at",
        ],
        add_updated(rows.dwellings),
    )
    .await?;
    store::insert_many(
        tx,
        "dwelling_owners",
        &[
            "street_id",
            "id",
            "dwelling_id",
            "person_id",
            "owner_name",
            "from_date",
            "created_at",
        ],
        rows.owners,
    )
    .await?;
    store::insert_many(
        tx,
        "households",
        crate::app::registry::households::HOUSEHOLD_COLUMNS,
        add_updated(rows.households),
    )
    .await?;
    store::insert_many(
        tx,
        "household_members",
        crate::app::registry::households::MEMBER_COLUMNS,
        rows.members,
    )
    .await?;
    store::insert_many(tx, "persons", &persons::new_row_columns(), rows.persons).await?;
    store::insert_many(tx, "person_name_grams", persons::GRAM_COLUMNS, rows.grams).await?;
    store::insert_many(
        tx,
        "person_tags",
        &["street_id", "person_id", "tag_key"],
        rows.tags,
    )
    .await?;
    store::insert_many(
        tx,
        "registry_events",
        &[
            "street_id",
            "id",
            "at",
            "actor_name",
            "object_type",
            "object_id",
            "household_id",
            "reason",
            "changes",
            "snapshot",
        ],
        rows.events,
    )
    .await?;
    store::insert_many(
        tx,
        "visits",
        &[
            "street_id",
            "id",
            "community_id",
            "grid_id",
            "area_id",
            "household_id",
            "visited_on",
            "visitors",
            "mode",
            "notes",
            "created_at",
        ],
        rows.visits,
    )
    .await?;
    store::insert_many(
        tx,
        "needs",
        &[
            "street_id",
            "id",
            "community_id",
            "grid_id",
            "area_id",
            "household_id",
            "visit_id",
            "category",
            "urgency",
            "description",
            "status",
            "due_on",
            "result",
            "created_at",
            "updated_at",
        ],
        add_updated(rows.needs),
    )
    .await?;
    Ok(counts)
}

/// Appends `updated_at` = the last value (`created_at`) to every row.
fn add_updated(rows: Vec<Vec<Value>>) -> Vec<Vec<Value>> {
    rows.into_iter()
        .map(|mut r| {
            if let Some(last) = r.last().cloned() {
                r.push(last);
            }
            r
        })
        .collect()
}
