//! `gongzhi demo`: a plausible Baoding-style city, the same for the same seed.
//!
//! The demo is a list of steps over a shared [`DemoCity`]; later capabilities add their own step
//! (households, cases, …) reading the areas made here. Ids are UUIDv7 built from a fixed clock
//! and the seeded generator, so the same seed gives the same ids too.
pub mod cases;
pub mod channels;
pub mod inbox;
pub mod notices;
pub mod questions;
pub mod registry;
pub mod service;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use crate::app::audit::Entry;
use crate::app::users::{self, NewGrant, NewUser};
use crate::app::{Ctx, GrantRef, Principal, PrincipalKind};
use crate::domain::area::AreaKind;
use crate::domain::now_ms;
use crate::domain::party::PartyOrgKind;
use crate::domain::role::Role;
use crate::error::AppResult;
use crate::store::{self, Db};

/// The password of every demo user (never of `admin`).
/// A demo user acting with one grant (the steps after the users are made act as them).
pub(crate) fn as_user(
    ctx: &Ctx,
    id: Uuid,
    name: &str,
    display: &str,
    role: Role,
    area: Uuid,
) -> Ctx {
    Ctx {
        principal: std::sync::Arc::new(Principal {
            kind: PrincipalKind::User,
            user_id: Some(id),
            token_id: None,
            session_id: None,
            name: name.into(),
            display_name: display.into(),
            grants: vec![GrantRef {
                role,
                area_id: Some(area),
            }],
            must_change_password: false,
        }),
        ..ctx.clone()
    }
}

/// A demo user with the area of their grant.
#[derive(sea_orm::FromQueryResult)]
pub(crate) struct DemoUser {
    pub id: Uuid,
    pub display_name: String,
    pub area_id: Uuid,
    pub role: String,
}

/// The resident 孙丽 (`jumin`, her building) and the community worker `shequ` (her community),
/// whom the later steps act as.
pub(crate) async fn resident_and_worker(db: &Db) -> AppResult<Option<(DemoUser, DemoUser)>> {
    let users: Vec<DemoUser> = store::fetch_all(
        db,
        "SELECT u.id, u.display_name, g.area_id, g.role FROM users u JOIN grants g ON g.user_id = u.id \
         WHERE u.username IN ('jumin', 'shequ') AND g.area_id IS NOT NULL ORDER BY u.username",
        vec![],
    )
    .await?;
    let (mut resident, mut worker) = (None, None);
    for u in users {
        match u.role.as_str() {
            "resident" => resident = Some(u),
            "community_worker" => worker = Some(u),
            _ => {}
        }
    }
    Ok(resident.zip(worker))
}

pub const DEMO_PASSWORD: &str = "Demo@2026";
pub const CITY_CODE: &str = "130600000000";

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub households: u32,
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            households: 20_000,
            seed: 2026,
        }
    }
}

/// A generated area, kept for later steps.
#[derive(Debug, Clone)]
pub struct DemoArea {
    pub id: Uuid,
    pub parent: Option<Uuid>,
    pub kind: AreaKind,
    pub name: String,
    pub code: String,
    /// For grids: how many households later steps should place here (300–500).
    pub households: u32,
}

/// Everything the demo made, for later steps and the summary.
#[derive(Debug, Default)]
pub struct DemoCity {
    pub areas: Vec<DemoArea>,
    pub users: Vec<(String, Role, String)>,
    pub party_orgs: usize,
    /// dwellings, households, persons, visits, needs
    pub registry: (usize, usize, usize, usize, usize),
    /// categories, handling units, cases
    pub cases: (usize, usize, usize),
    /// volunteers, party members, activities, points postings
    pub service: (usize, usize, usize, usize),
}

impl DemoCity {
    pub fn of_kind(&self, kind: AreaKind) -> impl Iterator<Item = &DemoArea> {
        self.areas.iter().filter(move |a| a.kind == kind)
    }
}

/// Deterministic UUIDv7s.
pub struct IdGen {
    rng: ChaCha8Rng,
    ms: u64,
}

impl IdGen {
    pub fn new(seed: u64) -> IdGen {
        // 2026-01-01T00:00:00Z
        IdGen {
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_1d5),
            ms: 1_767_225_600_000,
        }
    }
    pub fn next(&mut self) -> Uuid {
        self.ms += 1;
        let mut bytes = [0u8; 10];
        self.rng.fill(&mut bytes);
        uuid::Builder::from_unix_timestamp_millis(self.ms, &bytes).into_uuid()
    }
}

const DISTRICTS: &[(&str, &str, &[(&str, &str)])] = &[
    (
        "竞秀区",
        "130602000000",
        &[
            ("东风街道", "130602001000"),
            ("新市场街道", "130602002000"),
            ("先锋街道", "130602004000"),
            ("永华街道", "130602005000"),
        ],
    ),
    (
        "莲池区",
        "130606000000",
        &[
            ("和平里街道", "130606001000"),
            ("五四路街道", "130606002000"),
            ("西关街道", "130606003000"),
            ("中华路街道", "130606004000"),
        ],
    ),
];

const COMMUNITY_NAMES: &[&str] = &[
    "朝阳", "春晖", "银杏", "紫园", "金台", "华苑", "康泰", "锦绣", "秀水", "新华", "东湖", "翠园",
    "阳光", "丽景", "汇博", "泰和", "万博", "天鹅", "盛世", "恒祥", "长城", "北焦", "乐凯", "百花",
    "裕华", "红星", "光明", "东升", "复兴", "惠民",
];

/// Is the demo city already there?
pub async fn exists(db: &Db) -> AppResult<bool> {
    Ok(store::fetch_i64(
        db,
        "SELECT COUNT(*) FROM areas WHERE code = $1",
        vec![CITY_CODE.into()],
    )
    .await?
        > 0)
}

/// Fills the database. Returns `None` when the demo city already exists.
pub async fn run(
    db: &Db,
    keys: &crate::crypto::Keys,
    audit: &std::sync::Arc<crate::crypto::AuditKey>,
    opts: &DemoOptions,
) -> AppResult<Option<DemoCity>> {
    if exists(db).await? {
        return Ok(None);
    }
    let ctx = Ctx::system("demo", audit.clone());
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut ids = IdGen::new(opts.seed);
    let mut city = DemoCity::default();

    plan_areas(&mut city, opts, &mut rng, &mut ids);
    let tx = store::write_tx(db).await?;
    write_areas(&tx, &city).await?;
    city.party_orgs = write_party_orgs(&tx, &city, &mut ids).await?;
    let r = registry::run(&tx, keys, &city, opts.seed, &mut ids).await?;
    city.registry = (r.dwellings, r.households, r.persons, r.visits, r.needs);
    Entry::by(
        &ctx,
        &crate::app::users::require_system(&ctx)?,
        "demo.load",
        "demo",
        None,
    )
    .detail(format!(
        "seed {}, {} households, {} areas",
        opts.seed,
        opts.households,
        city.areas.len()
    ))
    .record(&tx)
    .await?;
    tx.commit().await?;
    store::analyze(db).await?;
    write_users(db, &ctx, &mut city).await?;
    let tx = store::write_tx(db).await?;
    let c = cases::run(&tx, keys, &city, opts.seed, &mut ids).await?;
    // Inboxes with something in them (the message hub, app/messages.rs).
    inbox::demo_inbox(&tx, &ctx).await?;
    // Each community's channels, some of them dead (渠道台账, app/channels.rs).
    channels::demo(&tx).await?;
    // Each street opens its public-space categories to Open311 without a key (litter, green
    // space, manholes, roads), so a GeoReport client sees requests on the demo.
    store::exec(
        &tx,
        "INSERT INTO public_case_categories (street_id, category_code, created_at, created_by) \
         SELECT a.id, c.code, $1, 'demo' FROM areas a JOIN case_categories c ON c.code IN ('0101', '0104', '0302', '0303') \
         WHERE a.kind = 'street'",
        vec![crate::domain::now_ms().into()],
    )
    .await?;
    tx.commit().await?;
    city.cases = (c.categories, c.units, c.cases);
    crate::app::cases::stats::fold(db).await?;
    let sv = service::run(db, &ctx, &city, opts.seed).await?;
    // Notices with receipts, and the resident's account linked to her household (app/notices.rs).
    notices::demo(db, &ctx).await?;
    // Residents' questions, answered in public or waiting (app/questions/).
    questions::demo(db, &ctx).await?;
    city.service = (
        sv.volunteers,
        sv.members,
        sv.activities,
        sv.postings as usize,
    );
    store::analyze(db).await?;
    Ok(Some(city))
}

fn plan_areas(city: &mut DemoCity, opts: &DemoOptions, rng: &mut ChaCha8Rng, ids: &mut IdGen) {
    let push = |city: &mut DemoCity, id, parent, kind, name: String, code: String, households| {
        city.areas.push(DemoArea {
            id,
            parent,
            kind,
            name,
            code,
            households,
        });
    };
    let city_id = ids.next();
    push(
        city,
        city_id,
        None,
        AreaKind::City,
        "保定市".into(),
        CITY_CODE.into(),
        0,
    );

    // Split households into grids of 300–500.
    let mut grid_sizes = vec![];
    let mut left = opts.households.max(300);
    while left > 0 {
        let n = if left <= 500 {
            left.max(300)
        } else {
            rng.gen_range(300..=500).min(left)
        };
        grid_sizes.push(n);
        left = left.saturating_sub(n);
    }
    // Communities of 3–6 grids, spread over the streets in turn.
    let mut communities: Vec<Vec<u32>> = vec![];
    let mut i = 0;
    while i < grid_sizes.len() {
        let take = rng.gen_range(3..=6).min(grid_sizes.len() - i);
        communities.push(grid_sizes[i..i + take].to_vec());
        i += take;
    }
    let mut streets = vec![];
    for (dname, dcode, sts) in DISTRICTS {
        let did = ids.next();
        push(
            city,
            did,
            Some(city_id),
            AreaKind::District,
            dname.to_string(),
            dcode.to_string(),
            0,
        );
        for (sname, scode) in sts.iter() {
            streets.push((did, *sname, *scode));
        }
    }
    let street_ids: Vec<Uuid> = streets
        .iter()
        .map(|(did, sname, scode)| {
            let sid = ids.next();
            push(
                city,
                sid,
                Some(*did),
                AreaKind::Street,
                sname.to_string(),
                scode.to_string(),
                0,
            );
            sid
        })
        .collect();
    let mut per_street = vec![0u32; streets.len()];
    for (ci, grids) in communities.iter().enumerate() {
        let si = ci % streets.len();
        per_street[si] += 1;
        let cno = per_street[si];
        let ccode = format!("{}{:03}", &streets[si].2[..9], cno);
        let cname = format!(
            "{}社区",
            COMMUNITY_NAMES[ci % COMMUNITY_NAMES.len()].to_string()
                + &if ci >= COMMUNITY_NAMES.len() {
                    format!("{}", ci / COMMUNITY_NAMES.len() + 1)
                } else {
                    String::new()
                }
        );
        let cid = ids.next();
        push(
            city,
            cid,
            Some(street_ids[si]),
            AreaKind::Community,
            cname,
            ccode.clone(),
            grids.iter().sum(),
        );
        // Buildings are numbered through the community, so addresses are unique within it.
        let mut building_no = 0;
        for (gi, hh) in grids.iter().enumerate() {
            let gid = ids.next();
            let gcode = format!("{ccode}{:03}", gi + 1);
            push(
                city,
                gid,
                Some(cid),
                AreaKind::Grid,
                format!("第{}网格", gi + 1),
                gcode.clone(),
                *hh,
            );
            // Six floors × two units × two flats = 24 households a building.
            let buildings = hh.div_ceil(24);
            for b in 0..buildings {
                building_no += 1;
                push(
                    city,
                    ids.next(),
                    Some(gid),
                    AreaKind::Building,
                    format!("{building_no}号楼"),
                    format!("{gcode}{:03}", b + 1),
                    0,
                );
            }
        }
    }
}

/// A rectangle as a GeoJSON polygon.
fn rect(lon: f64, lat: f64, w: f64, h: f64) -> String {
    let r = |x: f64| (x * 1e6).round() / 1e6;
    serde_json::json!({"type": "Polygon", "coordinates": [[
        [r(lon), r(lat)], [r(lon + w), r(lat)], [r(lon + w), r(lat + h)], [r(lon), r(lat + h)], [r(lon), r(lat)]
    ]]})
    .to_string()
}

async fn write_areas(tx: &DatabaseTransaction, city: &DemoCity) -> AppResult<()> {
    let now = now_ms();
    // Community rectangles on a lattice around Baoding's centre; grids split them in strips.
    let mut boundary: std::collections::HashMap<Uuid, String> = Default::default();
    let communities: Vec<&DemoArea> = city.of_kind(AreaKind::Community).collect();
    let (cw, ch) = (0.012, 0.009);
    for (i, c) in communities.iter().enumerate() {
        let (lon, lat) = (115.42 + (i % 8) as f64 * cw, 38.84 + (i / 8) as f64 * ch);
        boundary.insert(c.id, rect(lon, lat, cw * 0.95, ch * 0.95));
        let grids: Vec<&DemoArea> = city
            .areas
            .iter()
            .filter(|g| g.parent == Some(c.id))
            .collect();
        let gw = cw * 0.95 / grids.len().max(1) as f64;
        for (j, g) in grids.iter().enumerate() {
            boundary.insert(g.id, rect(lon + j as f64 * gw, lat, gw, ch * 0.95));
        }
    }
    let mut child_count: std::collections::HashMap<Uuid, i32> = Default::default();
    for a in &city.areas {
        if let Some(p) = a.parent {
            *child_count.entry(p).or_default() += 1;
        }
    }
    for a in &city.areas {
        store::exec(
            tx,
            "INSERT INTO areas (id, parent_id, kind, level, name, code, boundary, child_count, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9)",
            vec![
                a.id.into(),
                a.parent.into(),
                a.kind.as_str().into(),
                (a.kind.level() as i16).into(),
                a.name.clone().into(),
                a.code.clone().into(),
                boundary.get(&a.id).cloned().into(),
                child_count.get(&a.id).copied().unwrap_or(0).into(),
                now.into(),
            ],
        )
        .await?;
        crate::app::areas::insert_closure(tx, a.id, a.parent).await?;
    }
    Ok(())
}

async fn write_party_orgs(
    tx: &DatabaseTransaction,
    city: &DemoCity,
    ids: &mut IdGen,
) -> AppResult<usize> {
    let now = now_ms();
    let mut n = 0;
    let mut org_of_area: std::collections::HashMap<Uuid, Uuid> = Default::default();
    let name_of = |id: Uuid| {
        city.areas
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.name.clone())
            .unwrap_or_default()
    };
    let mut children: std::collections::HashMap<Uuid, i32> = Default::default();
    let mut rows: Vec<(Uuid, Option<Uuid>, PartyOrgKind, String, Uuid)> = vec![];
    for a in &city.areas {
        let (kind, name) = match a.kind {
            AreaKind::Street => (PartyOrgKind::StreetCommittee, format!("{}党工委", a.name)),
            AreaKind::Community => (PartyOrgKind::CommunityBranch, format!("{}党总支", a.name)),
            AreaKind::Grid => (
                PartyOrgKind::GridBranch,
                format!(
                    "{}{}党支部",
                    a.parent.map(name_of).unwrap_or_default(),
                    a.name
                ),
            ),
            // The first two buildings of each grid have a party group.
            AreaKind::Building if a.code.ends_with("001") || a.code.ends_with("002") => {
                (PartyOrgKind::BuildingGroup, format!("{}党小组", a.name))
            }
            _ => continue,
        };
        let parent = a.parent.and_then(|p| org_of_area.get(&p).copied());
        let id = ids.next();
        org_of_area.insert(a.id, id);
        if let Some(p) = parent {
            *children.entry(p).or_default() += 1;
        }
        rows.push((id, parent, kind, name, a.id));
    }
    // Organisations that link across areas.
    let streets: Vec<&DemoArea> = city.of_kind(AreaKind::Street).collect();
    let communities: Vec<&DemoArea> = city.of_kind(AreaKind::Community).collect();
    let mut links: Vec<(Uuid, Uuid)> = vec![];
    if let (Some(s0), true) = (streets.first(), !communities.is_empty()) {
        let across = [
            (PartyOrgKind::Unit, "保定市第一中心医院党委".to_string()),
            (PartyOrgKind::Industry, "保定市物业服务行业党委".to_string()),
            (PartyOrgKind::Regional, format!("{}区域化党建联盟", s0.name)),
        ];
        for (k, name) in across {
            let id = ids.next();
            rows.push((id, None, k, name, s0.id));
            for c in communities.iter().take(3) {
                links.push((id, c.id));
            }
        }
    }
    for (id, parent, kind, name, area) in &rows {
        store::exec(
            tx,
            "INSERT INTO party_orgs (id, parent_id, kind, name, area_id, child_count, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7)",
            vec![
                (*id).into(),
                (*parent).into(),
                kind.as_str().into(),
                name.clone().into(),
                (*area).into(),
                children.get(id).copied().unwrap_or(0).into(),
                now.into(),
            ],
        )
        .await?;
        n += 1;
    }
    for (org, area) in links {
        store::exec(
            tx,
            "INSERT INTO party_org_links (org_id, area_id) VALUES ($1, $2)",
            vec![org.into(), area.into()],
        )
        .await?;
    }
    Ok(n)
}

async fn write_users(db: &Db, ctx: &Ctx, city: &mut DemoCity) -> AppResult<()> {
    let first = |k: AreaKind| city.of_kind(k).next().map(|a| (a.id, a.name.clone()));
    let street = first(AreaKind::Street);
    let district = first(AreaKind::District);
    let community = first(AreaKind::Community);
    let community2 = city
        .of_kind(AreaKind::Community)
        .nth(1)
        .map(|a| (a.id, a.name.clone()));
    let grid = community.as_ref().and_then(|(cid, _)| {
        city.areas
            .iter()
            .find(|a| a.parent == Some(*cid))
            .map(|a| (a.id, a.name.clone()))
    });
    let building = grid.as_ref().and_then(|(gid, _)| {
        city.areas
            .iter()
            .find(|a| a.parent == Some(*gid))
            .map(|a| (a.id, a.name.clone()))
    });
    let plan: Vec<(&str, &str, Role, Option<(Uuid, String)>)> = vec![
        ("jiedao", "李建国（街道）", Role::StreetAdmin, street),
        ("quji", "马骏（区）", Role::DistrictAdmin, district.clone()),
        (
            "rexian",
            "郑洁（12345）",
            Role::HotlineCentre,
            district.clone(),
        ),
        (
            "shequzhuren",
            "何静（社区主任）",
            Role::CommunityAdmin,
            community.clone(),
        ),
        (
            "shequ",
            "王芳（社区）",
            Role::CommunityWorker,
            community.clone(),
        ),
        ("shequ2", "赵丽（社区）", Role::CommunityWorker, community2),
        ("wangge", "张伟（网格员）", Role::GridWorker, grid),
        (
            "louzhang",
            "刘洋（楼长）",
            Role::BuildingLeader,
            building.clone(),
        ),
        (
            "shuji",
            "陈静（书记）",
            Role::PartySecretary,
            community.clone(),
        ),
        (
            "bumen",
            "杨帆（部门）",
            Role::DepartmentHandler,
            district.clone(),
        ),
        ("danwei", "周敏（单位）", Role::WorkUnitContact, district),
        ("zhiyuan", "吴强（志愿者）", Role::Volunteer, community),
        ("jumin", "孙丽（居民）", Role::Resident, building),
    ];
    for (username, display, role, area) in plan {
        let Some((area_id, area_name)) = area else {
            continue;
        };
        let u = users::create_unchecked(
            db,
            ctx,
            NewUser {
                username: username.into(),
                display_name: display.into(),
                password: Some(DEMO_PASSWORD.into()),
                must_change_password: Some(false),
                ..Default::default()
            },
        )
        .await?;
        users::add_grant_unchecked(
            db,
            ctx,
            u.id,
            NewGrant {
                role: role.as_str().into(),
                area_id: Some(area_id),
            },
        )
        .await?;
        city.users.push((username.to_string(), role, area_name));
    }
    Ok(())
}
