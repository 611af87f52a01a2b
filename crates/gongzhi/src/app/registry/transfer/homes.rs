//! Placing imported residents in their dwellings and households, a batch at a time.
use super::*;

/// Rows with a room go into the household of that dwelling (both made when missing).
/// Households found or made so far in this import: (building, unit, room) → (household, has head).
#[derive(Default)]
pub(super) struct HouseholdCache {
    homes: HashMap<(Uuid, String, String), (Uuid, bool)>,
    /// A building's address part (社区 + 楼栋).
    prefixes: HashMap<Uuid, String>,
}

/// Places a batch's rows that name a room. The dwellings and households the batch needs are
/// found with one query per building and the missing ones inserted in bulk; a new household's head
/// is written with it. Only records that already lived somewhere cost statements of their own.
pub(super) async fn place_in_households<C: ConnectionTrait>(
    c: &C,
    cache: &mut HouseholdCache,
    rows: &[Row],
    ids: &[Uuid],
    fresh: &HashSet<Uuid>,
    now: i64,
) -> AppResult<()> {
    let found = find_homes(c, cache, rows).await?;
    let (new_dwellings, new_households) = plan_homes(c, cache, rows, &found, now).await?;
    let new_set: HashSet<Uuid> = new_households.iter().map(|h| h.0).collect();
    let (member_rows, heads_of_new) = memberships(c, cache, rows, ids, fresh, &new_set).await?;
    write_homes(c, new_dwellings, new_households, &heads_of_new, member_rows).await
}

/// A dwelling of a batch's rooms as stored, with its first household and that household's head.
#[derive(FromQueryResult)]
pub(super) struct Found {
    dwelling: Uuid,
    unit: String,
    room: String,
    household: Option<Uuid>,
    head: Option<Uuid>,
}

/// Household rows to insert: (id, the row without its head, unused).
pub(super) type NewHouseholds = Vec<(Uuid, Vec<Value>, Option<Uuid>)>;

/// 1. The homes this batch needs that the import has not met yet, by building and unit (the
///    index on dwellings is (building, unit, room): a query per unit reads only those rooms).
pub(super) async fn find_homes<C: ConnectionTrait>(
    c: &C,
    cache: &HouseholdCache,
    rows: &[Row],
) -> AppResult<HashMap<(Uuid, String, String), Found>> {
    let mut wanted: HashMap<(Uuid, String), Vec<String>> = HashMap::new();
    for r in rows {
        if let Some(room) = &r.room {
            let key = (r.at.area_id, r.unit.clone(), room.clone());
            if !cache.homes.contains_key(&key) {
                let rooms = wanted.entry((r.at.area_id, r.unit.clone())).or_default();
                if !rooms.contains(room) {
                    rooms.push(room.clone());
                }
            }
        }
    }
    let mut found: HashMap<(Uuid, String, String), Found> = HashMap::new();
    for ((building, unit), rooms) in &wanted {
        for part in rooms.chunks(400) {
            let mut values: Vec<Value> = vec![(*building).into(), unit.clone().into()];
            values.extend(part.iter().cloned().map(Value::from));
            let list: Vec<Found> = store::fetch_all(
                c,
                &format!(
                    "SELECT d.id AS dwelling, d.unit, d.room, \
                     (SELECT h.id FROM households h WHERE h.dwelling_id = d.id AND h.deleted_at IS NULL ORDER BY h.created_at LIMIT 1) AS household, \
                     (SELECT h.head_person_id FROM households h WHERE h.dwelling_id = d.id AND h.deleted_at IS NULL ORDER BY h.created_at LIMIT 1) AS head \
                     FROM dwellings d WHERE d.building_id = $1 AND d.unit = $2 AND d.deleted_at IS NULL AND d.room IN ({})",
                    store::placeholders(3, part.len())
                ),
                values,
            )
            .await?;
            for f in list {
                found.insert((*building, f.unit.clone(), f.room.clone()), f);
            }
        }
    }
    Ok(found)
}

/// 2. Dwellings and households to make, in the order the rows need them; every row's home is then
///    in the cache.
pub(super) async fn plan_homes<C: ConnectionTrait>(
    c: &C,
    cache: &mut HouseholdCache,
    rows: &[Row],
    found: &HashMap<(Uuid, String, String), Found>,
    now: i64,
) -> AppResult<(Vec<Vec<Value>>, NewHouseholds)> {
    let mut new_dwellings: Vec<Vec<Value>> = vec![];
    // household id → its row (the head is filled in below before the insert)
    let mut new_households: NewHouseholds = vec![];
    for r in rows {
        let Some(room) = &r.room else { continue };
        let key = (r.at.area_id, r.unit.clone(), room.clone());
        if cache.homes.contains_key(&key) {
            continue;
        }
        let household_row = |h: Uuid, d: Uuid| {
            vec![
                r.at.street_id.into(),
                h.into(),
                r.at.community_id.into(),
                r.at.grid_id.into(),
                r.at.area_id.into(),
                d.into(),
                r.household_kind.into(),
                Some(now).into(),
                now.into(),
                now.into(),
            ]
        };
        let home = match found.get(&key) {
            Some(Found {
                household: Some(h),
                head,
                ..
            }) => (*h, head.is_some()),
            Some(f) => {
                let h = new_id();
                new_households.push((h, household_row(h, f.dwelling), None));
                (h, false)
            }
            None => {
                let d = new_id();
                let prefix = match cache.prefixes.get(&r.at.area_id) {
                    Some(p) => p.clone(),
                    None => {
                        let p = super::super::households::address_prefix(c, r.at.area_id).await?;
                        cache.prefixes.insert(r.at.area_id, p.clone());
                        p
                    }
                };
                new_dwellings.push(vec![
                    r.at.street_id.into(),
                    d.into(),
                    r.at.community_id.into(),
                    r.at.grid_id.into(),
                    r.at.area_id.into(),
                    r.unit.clone().into(),
                    room.clone().into(),
                    r.usage.into(),
                    super::super::households::address_in(&prefix, &r.unit, room).into(),
                    now.into(),
                    now.into(),
                ]);
                let h = new_id();
                new_households.push((h, household_row(h, d), None));
                (h, false)
            }
        };
        cache.homes.insert(key, home);
    }
    Ok((new_dwellings, new_households))
}

/// 3. Memberships: a new record joins; a stored one may move here or change its relation. The
///    member rows to insert, and the heads of the households being made.
pub(super) async fn memberships<C: ConnectionTrait>(
    c: &C,
    cache: &mut HouseholdCache,
    rows: &[Row],
    ids: &[Uuid],
    fresh: &HashSet<Uuid>,
    new_set: &HashSet<Uuid>,
) -> AppResult<(Vec<Vec<Value>>, HashMap<Uuid, Uuid>)> {
    let from = today();
    let mut member_rows: Vec<Vec<Value>> = vec![];
    let mut already: HashSet<(Uuid, Uuid)> = HashSet::new();
    let mut heads_of_new: HashMap<Uuid, Uuid> = HashMap::new();
    for (r, pid) in rows.iter().zip(ids) {
        let Some(room) = &r.room else { continue };
        let key = (r.at.area_id, r.unit.clone(), room.clone());
        let (household, has_head) = cache.homes[&key];
        let current = if fresh.contains(pid) {
            0
        } else {
            store::fetch_i64(
                c,
                "SELECT COUNT(*) FROM household_members WHERE household_id = $1 AND person_id = $2 AND to_date IS NULL",
                vec![household.into(), (*pid).into()],
            )
            .await?
        };
        if current > 0 {
            // Already living here: only the relation may have changed (never a second head).
            if r.relation != "head" {
                store::exec(
                    c,
                    "UPDATE household_members SET relation = $1 WHERE household_id = $2 AND person_id = $3 AND to_date IS NULL",
                    vec![r.relation.into(), household.into(), (*pid).into()],
                )
                .await?;
            } else if !has_head {
                store::exec(
                    c,
                    "UPDATE household_members SET relation = 'head' WHERE household_id = $1 AND person_id = $2 AND to_date IS NULL",
                    vec![household.into(), (*pid).into()],
                )
                .await?;
                store::exec(
                    c,
                    "UPDATE households SET head_person_id = $1 WHERE id = $2",
                    vec![(*pid).into(), household.into()],
                )
                .await?;
                cache.homes.insert(key, (household, true));
            }
            continue;
        }
        if !already.insert((household, *pid)) {
            continue;
        }
        // Moving here from another household: that membership ends today (a new record has none).
        if !fresh.contains(pid) {
            store::exec(
                c,
                "UPDATE household_members SET to_date = $1 WHERE person_id = $2 AND to_date IS NULL",
                vec![from.clone().into(), (*pid).into()],
            )
            .await?;
            store::exec(
                c,
                "UPDATE households SET head_person_id = NULL WHERE head_person_id = $1",
                vec![(*pid).into()],
            )
            .await?;
        }
        let relation = if r.relation == "head" && has_head {
            "other"
        } else {
            r.relation
        };
        if relation == "head" {
            if new_set.contains(&household) {
                heads_of_new.insert(household, *pid);
            } else {
                store::exec(
                    c,
                    "UPDATE households SET head_person_id = $1 WHERE id = $2",
                    vec![(*pid).into(), household.into()],
                )
                .await?;
            }
            cache.homes.insert(key, (household, true));
        }
        member_rows.push(vec![
            r.at.street_id.into(),
            new_id().into(),
            household.into(),
            (*pid).into(),
            relation.into(),
            from.clone().into(),
        ]);
    }

    Ok((member_rows, heads_of_new))
}

/// 4. Write: dwellings, households (with their heads), memberships.
pub(super) async fn write_homes<C: ConnectionTrait>(
    c: &C,
    new_dwellings: Vec<Vec<Value>>,
    new_households: NewHouseholds,
    heads_of_new: &HashMap<Uuid, Uuid>,
    member_rows: Vec<Vec<Value>>,
) -> AppResult<()> {
    store::insert_many(
        c,
        "dwellings",
        &[
            "street_id",
            "id",
            "community_id",
            "grid_id",
            "building_id",
            "unit",
            "room",
            "usage",
            "address",
            "created_at",
            "updated_at",
        ],
        new_dwellings,
    )
    .await?;
    let households: Vec<Vec<Value>> = new_households
        .into_iter()
        .map(|(h, mut row, _)| {
            row.insert(7, heads_of_new.get(&h).copied().into());
            row
        })
        .collect();
    store::insert_many(
        c,
        "households",
        super::super::households::HOUSEHOLD_COLUMNS,
        households,
    )
    .await?;
    store::insert_many(
        c,
        "household_members",
        super::super::households::MEMBER_COLUMNS,
        member_rows,
    )
    .await?;
    Ok(())
}
