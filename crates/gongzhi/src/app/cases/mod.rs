//! 接诉即办 (docs/cases.md): the category dictionary, handling units and their power lists, the
//! working-day calendar, case intake, the lifecycle, and the rates.
//!
//! Who sees a case: callers whose `ReadCases` grants cover its area, members of the unit it is
//! with (or summoned to it by a whistle), and the person who submitted it. The requester's name
//! and phone are shown only to those handling it (dispatchers of the area, the unit's members) and
//! to the requester; each such read by a handler is audited.
pub mod calendar;
pub mod deadlines;
pub mod dictionary;
pub mod export;
pub mod hotline;
pub mod intake;
pub mod lifecycle;
pub mod notify;
pub mod open311;
pub mod public;
pub mod query;
pub mod stats;
pub mod units;
pub mod writer;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, FromQueryResult};
use uuid::Uuid;

use super::cache::{Ttl, TtlOne};
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
pub struct Caches {
    calendar: TtlOne<Arc<Calendar>>,
    shapes: TtlOne<Arc<Vec<AreaShape>>>,
    /// Active categories by code.
    categories: TtlOne<Arc<HashMap<String, dictionary::CategoryRow>>>,
    /// Where an area lies, with its ancestors.
    placed: Ttl<Uuid, Arc<Placed>>,
    /// Routing by (category code, area) with no unit excluded.
    routes: Ttl<(String, Uuid), units::RouteInfo>,
    /// The intake writer's queue (started on first use).
    writer: tokio::sync::OnceCell<tokio::sync::mpsc::Sender<writer::Job>>,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            calendar: Ttl::new(CACHE_TTL),
            shapes: Ttl::new(CACHE_TTL),
            categories: Ttl::new(CACHE_TTL),
            placed: Ttl::new(CACHE_TTL),
            routes: Ttl::new(CACHE_TTL),
            writer: Default::default(),
        }
    }
}

/// One ancestor of an area (itself included).
#[derive(Debug, Clone, FromQueryResult)]
pub struct Ancestor {
    pub id: Uuid,
    pub kind: String,
    pub name: String,
}

/// An area placed in the tree, with its ancestors.
#[derive(Debug, Clone)]
pub struct Placed {
    pub at: Placement,
    pub ancestors: Vec<Ancestor>,
}

impl Placed {
    pub fn ids(&self) -> Vec<Uuid> {
        self.ancestors.iter().map(|a| a.id).collect()
    }
    pub fn name_of(&self, id: Uuid) -> Option<String> {
        self.ancestors
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.name.clone())
    }
}

/// A grid's or a community's boundary, prepared for point tests.
pub struct AreaShape {
    pub id: Uuid,
    pub level: i32,
    pub shape: Shape,
}

impl Caches {
    pub fn clear(&self) {
        self.calendar.clear();
        self.shapes.clear();
        self.categories.clear();
        self.placed.clear();
        self.routes.clear();
    }

    /// The queue of the intake writer for `db` (group commit), started on first use.
    #[tracing::instrument(name = "cases::writer", skip_all)]
    pub async fn writer(&self, db: &crate::store::Db) -> tokio::sync::mpsc::Sender<writer::Job> {
        self.writer
            .get_or_init(|| async { writer::start(db.clone()) })
            .await
            .clone()
    }

    /// An active category by code.
    #[tracing::instrument(name = "cases::category", skip_all)]
    pub async fn category<C: ConnectionTrait>(
        &self,
        c: &C,
        code: &str,
    ) -> AppResult<Option<dictionary::CategoryRow>> {
        if let Some(m) = self.categories.get(&()) {
            return Ok(m.get(code).cloned());
        }
        let rows: Vec<dictionary::CategoryRow> = store::fetch_all(
            c,
            &format!("{} WHERE active = TRUE", dictionary::SELECT),
            vec![],
        )
        .await?;
        let m: HashMap<String, dictionary::CategoryRow> =
            rows.into_iter().map(|r| (r.code.clone(), r)).collect();
        let hit = m.get(code).cloned();
        self.categories.put((), Arc::new(m));
        Ok(hit)
    }

    /// Where an area lies (`None`: no such area, or above a street).
    #[tracing::instrument(name = "cases::placed", skip_all)]
    pub async fn placed<C: ConnectionTrait>(
        &self,
        c: &C,
        area_id: Uuid,
    ) -> AppResult<Option<Arc<Placed>>> {
        if let Some(p) = self.placed.get(&area_id) {
            return Ok(Some(p));
        }
        let Some(p) = place_full(c, area_id).await? else {
            return Ok(None);
        };
        let p = Arc::new(p);
        self.placed.put(area_id, p.clone());
        Ok(Some(p))
    }

    /// Routing for a new case (no unit excluded).
    #[tracing::instrument(name = "cases::route", skip_all)]
    pub async fn route<C: ConnectionTrait>(
        &self,
        c: &C,
        code: &str,
        at: &Placement,
    ) -> AppResult<units::RouteInfo> {
        let key = (code.to_string(), at.area_id);
        if let Some(r) = self.routes.get(&key) {
            return Ok(r);
        }
        let r = units::route_info(c, code, at, &[]).await?;
        self.routes.put(key, r.clone());
        Ok(r)
    }

    #[tracing::instrument(name = "cases::calendar", skip_all)]
    pub async fn calendar<C: ConnectionTrait>(&self, c: &C) -> AppResult<Arc<Calendar>> {
        if let Some(cal) = self.calendar.get(&()) {
            return Ok(cal);
        }
        let cal = Arc::new(calendar::load(c).await?);
        self.calendar.put((), cal.clone());
        Ok(cal)
    }

    /// Grid and community boundaries, deepest first (a point is placed in its grid before its
    /// community).
    #[tracing::instrument(name = "cases::shapes", skip_all)]
    pub async fn shapes<C: ConnectionTrait>(&self, c: &C) -> AppResult<Arc<Vec<AreaShape>>> {
        if let Some(s) = self.shapes.get(&()) {
            return Ok(s);
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
        self.shapes.put((), shapes.clone());
        Ok(shapes)
    }
}

/// The handling units the caller (a user or an API token) is a member of.
#[tracing::instrument(name = "cases::my_units", skip_all)]
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
#[tracing::instrument(name = "cases::place", skip_all)]
pub async fn place<C: ConnectionTrait>(c: &C, area_id: Uuid) -> AppResult<Option<Placement>> {
    Ok(place_full(c, area_id).await?.map(|p| p.at))
}

/// Places an area and lists its ancestors.
#[tracing::instrument(name = "cases::place_full", skip_all)]
pub async fn place_full<C: ConnectionTrait>(c: &C, area_id: Uuid) -> AppResult<Option<Placed>> {
    let rows: Vec<Ancestor> = store::fetch_all(
        c,
        "SELECT a.id, a.kind, a.name FROM area_closure c JOIN areas a ON a.id = c.ancestor_id \
         WHERE c.descendant_id = $1",
        vec![area_id.into()],
    )
    .await?;
    let find = |k: &str| rows.iter().find(|a| a.kind == k).map(|a| a.id);
    let Some(street_id) = find("street") else {
        return Ok(None);
    };
    let at = Placement {
        area_id,
        grid_id: find("grid"),
        community_id: find("community").unwrap_or(street_id),
        street_id,
    };
    Ok(Some(Placed {
        at,
        ancestors: rows,
    }))
}
