//! The demo's registry step: dwellings, households and residents for every grid of the demo
//! city (300–500 households a grid), with owners, special groups, visits and needs, and records
//! of every freshness — some verified last month, some never — so every panel has something to show.
use std::collections::HashSet;

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
    used: &mut HashSet<String>,
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

#[derive(Default)]
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

const DAY: i64 = 86_400_000;

/// A row of a placed table: street, its own id, community, grid and building, then `rest`.
fn placed<const N: usize>(at: &Placement, id: Uuid, rest: [Value; N]) -> Vec<Value> {
    let mut row: Vec<Value> = vec![
        at.street_id.into(),
        id.into(),
        at.community_id.into(),
        at.grid_id.into(),
        at.area_id.into(),
    ];
    row.extend(rest);
    row
}

/// Adds the registry to the demo city, inside the demo's transaction: every grid's buildings
/// filled flat by flat (24 flats a building), then written in bulk.
pub async fn run(
    tx: &DatabaseTransaction,
    keys: &Keys,
    city: &DemoCity,
    seed: u64,
    ids: &mut IdGen,
) -> AppResult<Counts> {
    let mut g = Registry {
        rng: ChaCha8Rng::seed_from_u64(seed ^ 0x7e61_5742),
        ids,
        keys,
        now: now_ms(),
        used_ids: HashSet::new(),
        rows: Rows::default(),
        visits: 0,
    };
    for grid in city.of_kind(AreaKind::Grid) {
        let place = GridPlace::of(city, grid);
        for i in 0..grid.households as usize {
            let Some(building) = place.buildings.get(i / 24) else {
                break;
            };
            g.household(&place, building, i % 24);
        }
    }
    let counts = Counts {
        dwellings: g.rows.dwellings.len(),
        households: g.rows.households.len(),
        persons: g.rows.persons.len(),
        visits: g.visits,
        needs: g.rows.needs.len(),
    };
    g.rows.write(tx).await?;
    Ok(counts)
}

/// A grid with what its households need to know of it.
struct GridPlace<'c> {
    grid: Uuid,
    community: Uuid,
    street: Uuid,
    community_name: String,
    /// The district's region code, for local ID numbers.
    district_code: String,
    buildings: Vec<&'c super::DemoArea>,
}

impl<'c> GridPlace<'c> {
    fn of(city: &'c DemoCity, grid: &'c super::DemoArea) -> GridPlace<'c> {
        let community = grid.parent.unwrap_or(grid.id);
        let find = |id: Uuid| city.areas.iter().find(|a| a.id == id);
        let street = find(community).and_then(|c| c.parent).unwrap_or(community);
        GridPlace {
            grid: grid.id,
            community,
            street,
            community_name: find(community).map(|a| a.name.clone()).unwrap_or_default(),
            district_code: find(street)
                .map(|s| s.code[..6].to_string())
                .unwrap_or_else(|| "130602".into()),
            buildings: city
                .areas
                .iter()
                .filter(|b| b.parent == Some(grid.id))
                .collect(),
        }
    }
}

/// Who a household is: its kind, where its members' ID numbers come from.
struct Origin<'a> {
    floating: bool,
    kind: &'static str,
    residence: &'static str,
    region: &'a str,
}

/// The generator: its random draws and ids come in one fixed order for one seed.
struct Registry<'g> {
    rng: ChaCha8Rng,
    ids: &'g mut IdGen,
    keys: &'g Keys,
    now: i64,
    used_ids: HashSet<String>,
    rows: Rows,
    visits: usize,
}

impl Registry<'_> {
    /// One flat of a building: the dwelling, the household and its members, the owner, the
    /// creation event, and maybe a visit with a need.
    fn household(&mut self, place: &GridPlace, b: &super::DemoArea, flat: usize) {
        let now = self.now;
        let (unit, floor, room_no) = (flat / 12 + 1, (flat % 12) / 2 + 1, (flat % 2) + 1);
        let room = format!("{}{:02}", floor, room_no);
        let at = Placement {
            street_id: place.street,
            community_id: place.community,
            grid_id: place.grid,
            area_id: b.id,
        };
        let rented = self.rng.gen_bool(0.15);
        let dwelling = self.ids.next();
        let address = format!("{}{}{unit}单元{room}", place.community_name, b.name);
        self.rows.dwellings.push(placed(
            &at,
            dwelling,
            [
                unit.to_string().into(),
                (floor as i32).into(),
                room.clone().into(),
                if rented { "rented" } else { "self_occupied" }.into(),
                address.into(),
                now.into(),
            ],
        ));
        let (origin, members) = self.members(rented, &place.district_code);
        // Freshness: most verified in the last year, rented ones less often, some never.
        let verified: Option<i64> = if self.rng.gen_bool(0.08) {
            None
        } else {
            Some(now - self.rng.gen_range(1..=(if rented { 200 } else { 500 })) * DAY)
        };
        let household = self.ids.next();
        let head = members.first().map(|m| m.0);
        self.rows.households.push(placed(
            &at,
            household,
            [
                dwelling.into(),
                origin.kind.into(),
                head.into(),
                verified.into(),
                now.into(),
            ],
        ));
        let from = date_after_days(-self.rng.gen_range(30..3000));
        for (pid, relation, p) in &members {
            person_row(self.keys, *pid, &at, p, verified, now, &mut self.rows);
            self.rows.members.push(vec![
                at.street_id.into(),
                self.ids.next().into(),
                household.into(),
                (*pid).into(),
                (*relation).into(),
                from.clone().into(),
            ]);
        }
        if let Some((_, _, headp)) = members.first() {
            let owner = if rented {
                format!("{}某", SURNAMES.choose(&mut self.rng).unwrap_or(&"赵"))
            } else {
                headp.name.clone()
            };
            self.rows.owners.push(vec![
                at.street_id.into(),
                self.ids.next().into(),
                dwelling.into(),
                if rented { None } else { head }.into(),
                owner.into(),
                from.clone().into(),
                now.into(),
            ]);
        }
        let snapshot = serde_json::json!({"kind": origin.kind, "dwelling_id": dwelling, "head_person_id": head});
        self.rows.events.push(vec![
            at.street_id.into(),
            self.ids.next().into(),
            (now - 400 * DAY).into(),
            "demo".into(),
            "household".into(),
            household.into(),
            household.into(),
            "create".into(),
            "{}".into(),
            snapshot.to_string().into(),
        ]);
        // Visits: about 60 % in the last four months; a fifth of them found a need.
        if self.rng.gen_bool(0.6) {
            self.visit(&at, household, verified, members.len());
        }
    }

    fn origin<'a>(&mut self, rented: bool, district_code: &'a str) -> Origin<'a> {
        let floating = rented && self.rng.gen_bool(0.6);
        let kind = if floating {
            "floating"
        } else if self.rng.gen_bool(0.8) {
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
                .choose(&mut self.rng)
                .copied()
                .unwrap_or("130100")
        } else {
            district_code
        };
        Origin {
            floating,
            kind,
            residence,
            region,
        }
    }

    /// A head, maybe a spouse, children or a parent: answers where they come from and, for
    /// each, (id, relation, person).
    fn members<'a>(
        &mut self,
        rented: bool,
        district_code: &'a str,
    ) -> (Origin<'a>, Vec<(Uuid, &'static str, CleanPerson)>) {
        let surname = *SURNAMES.choose(&mut self.rng).unwrap_or(&"王");
        let head_age = self.rng.gen_range(24..=88);
        let head_male = self.rng.gen_bool(0.6);
        let origin = self.origin(rented, district_code);
        let rng = &mut self.rng;
        let size = if head_age > 75 && rng.gen_bool(0.4) {
            1
        } else {
            rng.gen_range(1..=5)
        };
        let mut members = vec![];
        for m in 0..size {
            let rng = &mut self.rng;
            let (relation, age, male, sname) = match m {
                0 => ("head", head_age, head_male, surname),
                1 => (
                    "spouse",
                    (head_age + rng.gen_range(-4..=4)).max(20),
                    !head_male,
                    *SURNAMES.choose(rng).unwrap_or(&"李"),
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
            let p = self.person(&origin, age, male, sname, size);
            members.push((self.ids.next(), relation, p));
        }
        (origin, members)
    }

    /// One member: special-group tags by age and household size, then the record.
    fn person(
        &mut self,
        origin: &Origin,
        age: i32,
        male: bool,
        sname: &str,
        size: i32,
    ) -> CleanPerson {
        let rng = &mut self.rng;
        let birth = birth_for_age(rng, age);
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
        CleanPerson {
            name: name(rng, sname, male),
            id_type: "id_card",
            id_no: id_number(rng, &mut self.used_ids, origin.region, &birth, male),
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
            mobile: (age >= 16).then(|| mobile(rng)),
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
                    .choose(rng)
                    .copied()
                    .unwrap_or("senior")
            }),
            occupation: Some(if age < 18 {
                "学生".to_string()
            } else if age >= 62 {
                "退休".to_string()
            } else {
                OCCUPATIONS.choose(rng).unwrap_or(&"工人").to_string()
            }),
            work_unit: None,
            hukou_place: Some(
                if origin.floating {
                    "外地"
                } else {
                    "保定市"
                }
                .to_string(),
            ),
            residence_type: origin.residence,
            tags,
        }
    }

    /// A visit in the last four months. It verifies the household and its members, as a
    /// recorded visit does in the app (`households::mark_verified`): no household visited last
    /// month shows 从未核实. A fifth of the visits found a need.
    fn visit(&mut self, at: &Placement, household: Uuid, verified: Option<i64>, n_members: usize) {
        self.visits += 1;
        let visit = self.ids.next();
        let ago = self.rng.gen_range(0..120);
        let visited = self.now - i64::from(ago) * DAY;
        if verified.is_none_or(|v| v < visited) {
            if let Some(h) = self.rows.households.last_mut() {
                h[8] = Some(visited).into();
            }
            let from = self.rows.persons.len() - n_members;
            for r in &mut self.rows.persons[from..] {
                let k = r.len() - 3;
                r[k] = Some(visited).into();
            }
        }
        let rng = &mut self.rng;
        self.rows.visits.push(placed(
            at,
            visit,
            [
                household.into(),
                date_after_days(-ago).into(),
                "张伟（网格员）".into(),
                ["in_person", "in_person", "in_person", "phone", "online"]
                    .choose(rng)
                    .copied()
                    .unwrap_or("in_person")
                    .into(),
                NOTES.choose(rng).copied().unwrap_or("").into(),
                self.now.into(),
            ],
        ));
        if self.rng.gen_bool(0.2) {
            self.need(at, household, visit, ago);
        }
    }

    fn need(&mut self, at: &Placement, household: Uuid, visit: Uuid, ago: i64) {
        let rng = &mut self.rng;
        let (cat, desc) = [
            ("elderly_care", "老人希望每周有人上门探望"),
            ("medical", "需要协助预约家庭医生"),
            ("employment", "家中有人失业，希望了解招聘信息"),
            ("relief", "咨询临时救助申请"),
            ("repair", "楼道声控灯损坏"),
            ("dispute", "与楼上邻居因漏水产生纠纷"),
            ("other", "希望社区开设智能手机培训"),
        ]
        .choose(rng)
        .copied()
        .unwrap_or(("other", "其他需求"));
        let urgency = ["low", "medium", "high"]
            .choose(rng)
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
        let status = if closed {
            "closed"
        } else if rng.gen_bool(0.5) {
            "in_progress"
        } else {
            "open"
        };
        let result = closed.then_some("已协调解决，居民满意");
        self.rows.needs.push(placed(
            at,
            self.ids.next(),
            [
                household.into(),
                visit.into(),
                cat.into(),
                urgency.into(),
                desc.into(),
                status.into(),
                due.into(),
                result.into(),
                self.now.into(),
            ],
        ));
    }
}

impl Rows {
    async fn write(self, tx: &DatabaseTransaction) -> AppResult<()> {
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
            add_updated(self.dwellings),
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
            self.owners,
        )
        .await?;
        store::insert_many(
            tx,
            "households",
            crate::app::registry::households::HOUSEHOLD_COLUMNS,
            add_updated(self.households),
        )
        .await?;
        store::insert_many(
            tx,
            "household_members",
            crate::app::registry::households::MEMBER_COLUMNS,
            self.members,
        )
        .await?;
        store::insert_many(tx, "persons", &persons::new_row_columns(), self.persons).await?;
        store::insert_many(tx, "person_name_grams", persons::GRAM_COLUMNS, self.grams).await?;
        store::insert_many(
            tx,
            "person_tags",
            &["street_id", "person_id", "tag_key"],
            self.tags,
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
            self.events,
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
            self.visits,
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
            add_updated(self.needs),
        )
        .await?;
        Ok(())
    }
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
