//! 接诉即办 (docs/cases.md): the category dictionary, handling units and their power lists, the
//! working-day calendar, case intake, the lifecycle, and the rates.
//!
//! Who sees a case: callers whose `ReadCases` grants cover its area, members of the unit it is
//! with (or summoned to it by a whistle), and the person who submitted it. The requester's name
//! and phone are shown only to those handling it (dispatchers of the area, the unit's members) and
//! to the requester; each such read by a handler is audited.
pub mod calendar;
pub mod dictionary;
pub mod hotline;
pub mod intake;
pub mod lifecycle;
pub mod open311;
pub mod query;
pub mod stats;
pub mod units;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, FromQueryResult};
use uuid::Uuid;

use super::Ctx;
use crate::domain::calendar::Calendar;
use crate::domain::geo::Shape;
use crate::error::AppResult;
use crate::store;

/// How long this instance reuses the calendar and the grid shapes before reading them again (its
/// own edits clear them at once).
const CACHE_TTL: Duration = Duration::from_secs(10);

/// The calendar and the grids' shapes, read often (every dispatch, every located intake), changed
/// rarely.
#[derive(Default)]
pub struct Caches {
    calendar: Mutex<Option<(Instant, Arc<Calendar>)>>,
    shapes: Mutex<Option<(Instant, Arc<Vec<AreaShape>>)>>,
}

/// A grid's or a community's boundary, prepared for point tests.
pub struct AreaShape {
    pub id: Uuid,
    pub level: i32,
    pub shape: Shape,
}

impl Caches {
    pub fn clear(&self) {
        if let Ok(mut c) = self.calendar.lock() {
            *c = None;
        }
        if let Ok(mut s) = self.shapes.lock() {
            *s = None;
        }
    }

    pub async fn calendar<C: ConnectionTrait>(&self, c: &C) -> AppResult<Arc<Calendar>> {
        if let Ok(g) = self.calendar.lock() {
            if let Some((at, cal)) = g.as_ref() {
                if at.elapsed() < CACHE_TTL {
                    return Ok(cal.clone());
                }
            }
        }
        let cal = Arc::new(calendar::load(c).await?);
        if let Ok(mut g) = self.calendar.lock() {
            *g = Some((Instant::now(), cal.clone()));
        }
        Ok(cal)
    }

    /// Grid and community boundaries, deepest first (a point is placed in its grid before its
    /// community).
    pub async fn shapes<C: ConnectionTrait>(&self, c: &C) -> AppResult<Arc<Vec<AreaShape>>> {
        if let Ok(g) = self.shapes.lock() {
            if let Some((at, s)) = g.as_ref() {
                if at.elapsed() < CACHE_TTL {
                    return Ok(s.clone());
                }
            }
        }
        #[derive(FromQueryResult)]
        struct R {
            id: Uuid,
            level: i32,
            boundary: String,
        }
        let rows: Vec<R> = store::fetch_all(
            c,
            "SELECT id, CAST(level AS INTEGER) AS level, boundary FROM areas \
             WHERE kind IN ('grid', 'community') AND boundary IS NOT NULL ORDER BY level DESC, code",
            vec![],
        )
        .await?;
        let shapes: Vec<AreaShape> = rows
            .into_iter()
            .filter_map(|r| {
                let v: serde_json::Value = serde_json::from_str(&r.boundary).ok()?;
                Some(AreaShape {
                    id: r.id,
                    level: r.level,
                    shape: Shape::from_boundary(&v)?,
                })
            })
            .collect();
        let shapes = Arc::new(shapes);
        if let Ok(mut g) = self.shapes.lock() {
            *g = Some((Instant::now(), shapes.clone()));
        }
        Ok(shapes)
    }
}

/// The handling units the caller (a user or an API token) is a member of.
pub async fn my_units<C: ConnectionTrait>(c: &C, ctx: &Ctx) -> AppResult<Vec<Uuid>> {
    let Some(me) = ctx.principal.actor_id() else {
        return Ok(vec![]);
    };
    #[derive(FromQueryResult)]
    struct U {
        unit_id: Uuid,
    }
    let rows: Vec<U> = store::fetch_all(
        c,
        "SELECT unit_id FROM case_unit_members WHERE member_id = $1",
        vec![me.into()],
    )
    .await?;
    Ok(rows.into_iter().map(|u| u.unit_id).collect())
}

/// Where a case lies in the tree: its own area, and the grid, community and street above it.
#[derive(Debug, Clone, Copy)]
pub struct Placement {
    pub area_id: Uuid,
    pub grid_id: Option<Uuid>,
    pub community_id: Uuid,
    pub street_id: Uuid,
}

impl Placement {
    /// The finest area the rates are kept for: the grid, else the community.
    pub fn stat_area(&self) -> Uuid {
        self.grid_id.unwrap_or(self.community_id)
    }
}

/// Places an area: `None` when it does not exist or lies above a street.
pub async fn place<C: ConnectionTrait>(c: &C, area_id: Uuid) -> AppResult<Option<Placement>> {
    #[derive(FromQueryResult)]
    struct A {
        id: Uuid,
        kind: String,
    }
    let rows: Vec<A> = store::fetch_all(
        c,
        "SELECT a.id, a.kind FROM area_closure c JOIN areas a ON a.id = c.ancestor_id \
         WHERE c.descendant_id = $1",
        vec![area_id.into()],
    )
    .await?;
    let find = |k: &str| rows.iter().find(|a| a.kind == k).map(|a| a.id);
    let Some(street_id) = find("street") else {
        return Ok(None);
    };
    Ok(Some(Placement {
        area_id,
        grid_id: find("grid"),
        community_id: find("community").unwrap_or(street_id),
        street_id,
    }))
}
