//! GeoJSON boundaries: a Polygon or MultiPolygon whose rings are closed, with valid coordinates.
use crate::error::Msg;
use serde_json::Value;

/// Validates a boundary and returns it in a normalised form (`{"type","coordinates"}` only).
pub fn check_boundary(v: &Value) -> Result<Value, Msg> {
    // Accept a bare geometry, or a Feature wrapping one.
    let geom = match v.get("type").and_then(Value::as_str) {
        Some("Feature") => v.get("geometry").unwrap_or(&Value::Null),
        _ => v,
    };
    let kind = geom.get("type").and_then(Value::as_str).unwrap_or("");
    let coords = geom
        .get("coordinates")
        .ok_or_else(|| Msg::new("边界缺少 coordinates", "The boundary has no coordinates"))?;
    match kind {
        "Polygon" => check_polygon(coords)?,
        "MultiPolygon" => {
            let polys = coords
                .as_array()
                .filter(|a| !a.is_empty())
                .ok_or_else(bad_shape)?;
            for p in polys {
                check_polygon(p)?;
            }
        }
        _ => {
            return Err(Msg::new(
                "边界必须是 GeoJSON Polygon 或 MultiPolygon",
                "The boundary must be a GeoJSON Polygon or MultiPolygon",
            ))
        }
    }
    Ok(serde_json::json!({"type": kind, "coordinates": coords}))
}

fn bad_shape() -> Msg {
    Msg::new(
        "边界坐标格式不正确",
        "The boundary coordinates are malformed",
    )
}

fn check_polygon(coords: &Value) -> Result<(), Msg> {
    let rings = coords
        .as_array()
        .filter(|a| !a.is_empty())
        .ok_or_else(bad_shape)?;
    for ring in rings {
        let pts = ring.as_array().ok_or_else(bad_shape)?;
        if pts.len() < 4 {
            return Err(Msg::new(
                "多边形的每个环至少需要 4 个点（首尾相同）",
                "Each polygon ring needs at least 4 positions (first equals last)",
            ));
        }
        let mut parsed = Vec::with_capacity(pts.len());
        for p in pts {
            let a = p
                .as_array()
                .filter(|a| a.len() >= 2)
                .ok_or_else(bad_shape)?;
            let lon = a[0].as_f64().ok_or_else(bad_shape)?;
            let lat = a[1].as_f64().ok_or_else(bad_shape)?;
            if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
                return Err(Msg::new(
                    "坐标超出范围（经度 ±180，纬度 ±90）",
                    "Coordinates out of range (longitude ±180, latitude ±90)",
                ));
            }
            parsed.push((lon, lat));
        }
        if parsed.first() != parsed.last() {
            return Err(Msg::new(
                "多边形未闭合：首尾坐标必须相同",
                "The polygon is not closed: the first and last positions must be equal",
            ));
        }
        let distinct: std::collections::HashSet<(u64, u64)> = parsed
            .iter()
            .map(|(a, b)| (a.to_bits(), b.to_bits()))
            .collect();
        if distinct.len() < 3 {
            return Err(Msg::new(
                "多边形至少需要 3 个不同的点",
                "A polygon needs at least 3 distinct positions",
            ));
        }
    }
    Ok(())
}

/// A boundary prepared for point tests: its polygons (outer ring first, then holes) and bounding box.
#[derive(Debug, Clone)]
pub struct Shape {
    polygons: Vec<Vec<Vec<(f64, f64)>>>,
    /// min lon, min lat, max lon, max lat
    pub bbox: (f64, f64, f64, f64),
}

impl Shape {
    /// From a stored (already checked) GeoJSON Polygon or MultiPolygon.
    pub fn from_boundary(v: &Value) -> Option<Shape> {
        let ring = |r: &Value| -> Option<Vec<(f64, f64)>> {
            r.as_array()?
                .iter()
                .map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
                .collect()
        };
        let polygon = |p: &Value| -> Option<Vec<Vec<(f64, f64)>>> {
            p.as_array()?.iter().map(ring).collect()
        };
        let coords = v.get("coordinates")?;
        let polygons: Vec<_> = match v.get("type")?.as_str()? {
            "Polygon" => vec![polygon(coords)?],
            "MultiPolygon" => coords
                .as_array()?
                .iter()
                .map(polygon)
                .collect::<Option<_>>()?,
            _ => return None,
        };
        let mut bbox = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for (x, y) in polygons.iter().flat_map(|p| p.first()).flatten() {
            bbox = (
                bbox.0.min(*x),
                bbox.1.min(*y),
                bbox.2.max(*x),
                bbox.3.max(*y),
            );
        }
        (bbox.0 <= bbox.2).then_some(Shape { polygons, bbox })
    }

    /// Whether (lon, lat) lies inside (even-odd rule per polygon: inside the outer ring and in
    /// none of its holes).
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        let (x0, y0, x1, y1) = self.bbox;
        if lon < x0 || lon > x1 || lat < y0 || lat > y1 {
            return false;
        }
        self.polygons.iter().any(|rings| {
            let mut it = rings.iter();
            match it.next() {
                Some(outer) if in_ring(outer, lon, lat) => !it.any(|h| in_ring(h, lon, lat)),
                _ => false,
            }
        })
    }
}

/// Ray casting: how many ring edges a ray to the east crosses.
fn in_ring(ring: &[(f64, f64)], x: f64, y: f64) -> bool {
    let mut inside = false;
    let n = ring.len();
    if n < 3 {
        return false;
    }
    let mut j = n - 1;
    for i in 0..n {
        let (xi, yi) = ring[i];
        let (xj, yj) = ring[j];
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn points_inside_outside_and_in_holes() {
        let v = json!({"type":"Polygon","coordinates":[
            [[0.0,0.0],[10.0,0.0],[10.0,10.0],[0.0,10.0],[0.0,0.0]],
            [[4.0,4.0],[6.0,4.0],[6.0,6.0],[4.0,6.0],[4.0,4.0]]]});
        let s = Shape::from_boundary(&v).unwrap();
        assert!(s.contains(1.0, 1.0));
        assert!(!s.contains(5.0, 5.0));
        assert!(!s.contains(11.0, 5.0));
        let m = json!({"type":"MultiPolygon","coordinates":[[[[0.0,0.0],[1.0,0.0],[1.0,1.0],[0.0,0.0]]],[[[5.0,5.0],[6.0,5.0],[6.0,6.0],[5.0,5.0]]]]});
        let s = Shape::from_boundary(&m).unwrap();
        assert!(s.contains(5.8, 5.2));
        assert!(!s.contains(3.0, 3.0));
    }

    #[test]
    fn closed_polygon_is_accepted() {
        let p = json!({"type":"Polygon","coordinates":[[[115.4,38.8],[115.5,38.8],[115.5,38.9],[115.4,38.8]]]});
        assert!(check_boundary(&p).is_ok());
    }

    #[test]
    fn open_or_bad_polygons_are_refused() {
        let open = json!({"type":"Polygon","coordinates":[[[115.4,38.8],[115.5,38.8],[115.5,38.9],[115.4,38.9]]]});
        assert!(check_boundary(&open).is_err());
        let range = json!({"type":"Polygon","coordinates":[[[215.4,38.8],[115.5,38.8],[115.5,38.9],[215.4,38.8]]]});
        assert!(check_boundary(&range).is_err());
        assert!(check_boundary(&json!({"type":"Point","coordinates":[1,2]})).is_err());
        assert!(check_boundary(&json!("nonsense")).is_err());
    }
}
