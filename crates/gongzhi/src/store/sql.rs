//! SQL that numbers its own placeholders (issue 13). A condition is written with `?` where a
//! value goes and carries its values; [`Where`] joins conditions with AND and numbers every `?`
//! as `$1, $2, …` for both drivers when the statement is made, so no code counts placeholders
//! by hand and a condition can be added, removed or reordered without renumbering the others.
//!
//! ```ignore
//! let mut w = Where::new();
//! w.and_cond(scope::area_cond(ctx, Permission::ReadCases, "c.area_id"));
//! if let Some(u) = q.unit_id {
//!     w.and("c.unit_id = ?", [u.into()]);
//! }
//! w.and_in("c.status", ["dispatched", "in_progress"]);
//! let (sql, values) = w.build(1); // "… AND c.unit_id = $3 AND c.status IN ($4, $5)"
//! ```
//! A `?` inside a string literal of a condition is not allowed (none of ours has one).
use sea_orm::Value;

/// One condition with its values, `?` marking where each goes, in order.
#[derive(Debug, Clone)]
pub struct Cond {
    text: String,
    values: Vec<Value>,
}

impl Cond {
    pub fn new(text: impl Into<String>, values: impl IntoIterator<Item = Value>) -> Cond {
        let c = Cond {
            text: text.into(),
            values: values.into_iter().collect(),
        };
        debug_assert_eq!(
            c.text.matches('?').count(),
            c.values.len(),
            "one value per ? in {}",
            c.text
        );
        c
    }

    /// A condition that holds for every row.
    pub fn all() -> Cond {
        Cond::new("1 = 1", [])
    }

    /// A condition that holds for no row.
    pub fn none() -> Cond {
        Cond::new("1 = 0", [])
    }

    /// `column IN (?, ?, …)`; with no items, no row.
    pub fn any_of<V: Into<Value>>(column: &str, items: impl IntoIterator<Item = V>) -> Cond {
        let values: Vec<Value> = items.into_iter().map(Into::into).collect();
        if values.is_empty() {
            return Cond::none();
        }
        let marks = vec!["?"; values.len()].join(", ");
        Cond::new(format!("{column} IN ({marks})"), values)
    }

    /// A condition written by a helper that numbers its own placeholders from `$1` (it may use
    /// one more than once): turned into `?` form, each use carrying its value.
    pub fn from_numbered(text: &str, values: Vec<Value>) -> Cond {
        let mut out = String::with_capacity(text.len());
        let mut vals = vec![];
        let b = text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'$' && i + 1 < b.len() && b[i + 1].is_ascii_digit() {
                let mut j = i + 1;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                let n: usize = text[i + 1..j].parse().unwrap_or(0);
                if let Some(v) = n.checked_sub(1).and_then(|k| values.get(k)) {
                    out.push('?');
                    vals.push(v.clone());
                    i = j;
                    continue;
                }
            }
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
        Cond {
            text: out,
            values: vals,
        }
    }

    /// The text, with `?` where each value goes (to place inside a larger condition).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The values, in the order of the text's `?`.
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }

    /// The alternatives joined by OR, as one condition.
    pub fn or(any: Vec<Cond>) -> Cond {
        if any.is_empty() {
            return Cond::none();
        }
        let text = format!(
            "({})",
            any.iter()
                .map(|c| c.text.as_str())
                .collect::<Vec<_>>()
                .join(" OR ")
        );
        Cond {
            text,
            values: any.into_iter().flat_map(|c| c.values).collect(),
        }
    }
}

/// Conditions joined by AND.
#[derive(Debug, Clone, Default)]
pub struct Where {
    conds: Vec<Cond>,
}

impl Where {
    pub fn new() -> Where {
        Where::default()
    }

    /// Adds `cond`, with a `?` per value.
    pub fn and(&mut self, cond: &str, values: impl IntoIterator<Item = Value>) -> &mut Self {
        self.conds.push(Cond::new(cond, values));
        self
    }

    pub fn and_cond(&mut self, c: Cond) -> &mut Self {
        self.conds.push(c);
        self
    }

    /// `column IN (…)`; with no items, no row.
    pub fn and_in<V: Into<Value>>(
        &mut self,
        column: &str,
        items: impl IntoIterator<Item = V>,
    ) -> &mut Self {
        self.conds.push(Cond::any_of(column, items));
        self
    }

    /// The conditions as one (joined by AND, still with `?`), to stand inside another statement's
    /// clause (a subquery's WHERE). No condition: every row.
    pub fn into_cond(self) -> Cond {
        if self.conds.is_empty() {
            return Cond::all();
        }
        let text = self
            .conds
            .iter()
            .map(|c| c.text.as_str())
            .collect::<Vec<_>>()
            .join(" AND ");
        Cond {
            text,
            values: self.conds.into_iter().flat_map(|c| c.values).collect(),
        }
    }

    /// The clause with its placeholders numbered from `$first`, and the values in that order.
    /// No condition: `1 = 1`.
    pub fn build(&self, first: usize) -> (String, Vec<Value>) {
        if self.conds.is_empty() {
            return ("1 = 1".into(), vec![]);
        }
        let mut n = first;
        let mut sql = String::new();
        let mut values = vec![];
        for (k, c) in self.conds.iter().enumerate() {
            if k > 0 {
                sql.push_str(" AND ");
            }
            number_into(&mut sql, &c.text, &mut n);
            values.extend(c.values.iter().cloned());
        }
        (sql, values)
    }
}

/// Copies `text` to `sql`, each `?` numbered `$n`, `$n+1`, …
fn number_into(sql: &mut String, text: &str, n: &mut usize) {
    for ch in text.chars() {
        if ch == '?' {
            sql.push_str(&format!("${n}"));
            *n += 1;
        } else {
            sql.push(ch);
        }
    }
}

/// The assignments of an UPDATE, each `column = ?` or written out with `?` where its values go.
/// [`Set::update`] numbers them together with the WHERE clause:
///
/// ```ignore
/// let mut set = Set::new();
/// set.to("name", name).expr("version = version + 1", []).to("updated_at", now);
/// let (sql, values) = set.update("areas", Cond::new("id = ? AND version = ?", [id.into(), v.into()]));
/// // "UPDATE areas SET name = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4"
/// ```
#[derive(Debug, Clone, Default)]
pub struct Set {
    parts: Vec<Cond>,
}

impl Set {
    pub fn new() -> Set {
        Set::default()
    }

    /// `column = ?` for each column and value, in order.
    pub fn columns<'c>(pairs: impl IntoIterator<Item = (&'c str, Value)>) -> Set {
        let mut s = Set::new();
        for (column, v) in pairs {
            s.to(column, v);
        }
        s
    }

    /// `column = ?`.
    pub fn to(&mut self, column: &str, value: impl Into<Value>) -> &mut Self {
        self.parts
            .push(Cond::new(format!("{column} = ?"), [value.into()]));
        self
    }

    /// An assignment written out, e.g. `version = version + 1` or `left_at = COALESCE(?, left_at)`.
    pub fn expr(&mut self, text: &str, values: impl IntoIterator<Item = Value>) -> &mut Self {
        self.parts.push(Cond::new(text, values));
        self
    }

    /// `UPDATE table SET … WHERE filter`, its placeholders numbered from `$1`, and its values.
    pub fn update(self, table: &str, filter: Cond) -> (String, Vec<Value>) {
        let mut n = 1;
        let mut sql = format!("UPDATE {table} SET ");
        let mut values = vec![];
        for (k, c) in self.parts.into_iter().enumerate() {
            if k > 0 {
                sql.push_str(", ");
            }
            number_into(&mut sql, &c.text, &mut n);
            values.extend(c.values);
        }
        sql.push_str(" WHERE ");
        number_into(&mut sql, &filter.text, &mut n);
        values.extend(filter.values);
        (sql, values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_themselves() {
        let mut w = Where::new();
        w.and_cond(Cond::from_numbered(
            "a IN ($1, $2)",
            vec![1.into(), 2.into()],
        ));
        w.and("b = ?", [3.into()]);
        w.and_in("c", Vec::<i32>::new());
        w.and_cond(Cond::or(vec![
            Cond::new("d = ?", [4.into()]),
            Cond::any_of("e", [5, 6]),
        ]));
        w.and_cond(Cond::from_numbered(
            "(f LIKE $1 OR g LIKE $1)",
            vec!["x".into()],
        ));
        let (sql, v) = w.build(3);
        assert_eq!(
            sql,
            "a IN ($3, $4) AND b = $5 AND 1 = 0 AND (d = $6 OR e IN ($7, $8)) AND (f LIKE $9 OR g LIKE $10)"
        );
        assert_eq!(v.len(), 8);
        assert_eq!(Where::new().build(1).0, "1 = 1");
        assert_eq!(
            Cond::from_numbered("x = $12", vec![]).text,
            "x = $12",
            "unknown numbers stay"
        );
    }

    #[test]
    fn an_update_numbers_its_assignments_with_its_where() {
        let mut set = Set::columns([("a", 1.into()), ("b", 2.into())]);
        set.expr("c = COALESCE(?, c)", [3.into()])
            .expr("version = version + 1", [])
            .to("d", 4);
        let (sql, v) = set.update(
            "t",
            Cond::new("id = ? AND version = ?", [5.into(), 6.into()]),
        );
        assert_eq!(
            sql,
            "UPDATE t SET a = $1, b = $2, c = COALESCE($3, c), version = version + 1, d = $4 \
             WHERE id = $5 AND version = $6"
        );
        assert_eq!(v.len(), 6);
    }
}
